"""Sweeps: grids, common random numbers, paired differences, datasets, resume, Dask."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from scenarios import interceptor, laser, scenario, threat

import costx
from costx.errors import InputError, ScenarioError
from costx.sweeps import load_sweep_spec

GRID = {"effectors.sm2.rounds": [4, 12], "effectors.las.units": [0, 1]}


def _scenario():
    return scenario(
        [threat("drone", 10, arrival="uniform", window_s=300.0)],
        [interceptor(pk={"drone": 0.7}, rounds=20), laser()],
        name="sweepme",
    )


@pytest.fixture(scope="module")
def result():
    return costx.sweep(_scenario(), GRID, trials=3000, seed=4)


def test_every_point_equals_a_plain_simulation(result):
    assert len(result.points) == 4
    for i, s in enumerate(result.scenarios):
        alone = costx.simulate(s, trials=3000, seed=4)
        pd.testing.assert_frame_equal(result.summary(i), alone.summary())
    table = result.table
    assert list(table["effectors.sm2.rounds"]) == [4, 4, 12, 12]
    assert list(table["effectors.las.units"]) == [0, 1, 0, 1]
    for column in ("leakers", "leakers_ci95_low", "cost_per_kill_usd", "p_any_leak"):
        assert column in table.columns


def test_paired_differences_use_the_common_random_numbers(result):
    """A deeper magazine never raises leakers trial by trial, so the paired interval is
    much narrower than the one from two independent summaries."""
    cmp = result.compare()
    row = cmp[(cmp["point"] == 2) & (cmp["measure"] == "leakers")].iloc[0]
    base, deep = result.summary(0).loc["leakers"], result.summary(2).loc["leakers"]
    assert row["diff"] == pytest.approx(deep["mean"] - base["mean"])
    independent_se = (base["std_error"] ** 2 + deep["std_error"] ** 2) ** 0.5
    assert row["std_error"] < 0.8 * independent_se
    assert row["ci95_high"] < 0  # more rounds: fewer leakers, clearly
    zero = cmp[cmp["point"] == 0]
    assert (zero["diff"].fillna(0) == 0).all()
    with pytest.raises(InputError, match="baseline: no point 9"):
        result.compare(baseline=9)


def test_compare_against_another_baseline_equals_a_sweep_run_with_it(result):
    """Another baseline is paired by simulating the points again (same seed, same
    trials): identical to a sweep run with that baseline, by index or by grid values."""
    other = costx.sweep(_scenario(), GRID, trials=3000, seed=4, baseline=3)
    expected = other.compare()
    pd.testing.assert_frame_equal(result.compare(baseline=3), expected)
    by_values = result.compare(baseline={"effectors.sm2.rounds": 12, "effectors.las.units": 1})
    pd.testing.assert_frame_equal(by_values, expected)
    assert (expected.loc[expected["point"] == 3, "diff"].fillna(0) == 0).all()


def test_paired_interval_agrees_with_the_per_trial_differences():
    kept = costx.sweep(_scenario(), GRID, trials=2000, seed=4, keep_trials=True)
    trials = kept.trials
    a = trials.loc[trials["point"] == 0, "leaked"].to_numpy(float)
    b = trials.loc[trials["point"] == 3, "leaked"].to_numpy(float)
    d = b - a
    cmp = kept.compare()
    row = cmp[(cmp["point"] == 3) & (cmp["measure"] == "leakers")].iloc[0]
    assert row["diff"] == pytest.approx(d.mean())
    assert row["std_error"] == pytest.approx(d.std(ddof=1) / len(d) ** 0.5, rel=1e-9)


def test_grid_errors_name_the_entry():
    with pytest.raises(InputError, match=r"grid\['effectors.sm3.rounds'\]: no effectors named"):
        costx.sweep(_scenario(), {"effectors.sm3.rounds": [1]}, trials=10)
    with pytest.raises(ScenarioError) as err:
        costx.sweep(_scenario(), {"effectors.sm2.rounds": [4, -1]}, trials=10)
    assert "sweep: grid point 1 (effectors.sm2.rounds=-1): effectors[0].rounds" in str(err.value)
    with pytest.raises(InputError, match="list of values"):
        costx.sweep(_scenario(), {"effectors.sm2.rounds": 4}, trials=10)
    cases = [{"effectors.sm2.rounds": 4}, {"effectors.sm2.rounds": 8}]
    assert len(costx.sweep(_scenario(), cases, trials=50).points) == 2


def _file_table(result) -> pd.DataFrame:
    """The sweep's table as the files hold it: grid columns named without dots."""
    return result.table.rename(columns={c: c.replace(".", "__") for c in result.grid_columns})


def test_dataset_is_the_sweep_table_in_every_reader(result, tmp_path):
    """One file per point and nothing else in the folder: pandas, pyarrow, polars and
    DuckDB read the folder as the sweep's table, with an integer ``point`` and grid
    columns without dots (DataFrame.query and unquoted SQL work)."""
    folder = result.to_parquet(tmp_path / "sw")
    assert sorted(p.name for p in folder.iterdir()) == [f"point-000{i}.parquet" for i in range(4)]
    expected = _file_table(result)
    frame = pd.read_parquet(folder).sort_values("point", ignore_index=True)
    pd.testing.assert_frame_equal(frame, expected)
    assert frame["point"].dtype == "int64"
    assert not any("." in c for c in frame.columns)
    assert len(frame.query("effectors__sm2__rounds == 12 and effectors__las__units == 1")) == 1
    table = ds.dataset(folder, format="parquet").to_table()
    assert str(table.schema.field("point").type) == "int64"
    assert table.num_rows == 4
    polars = pytest.importorskip("polars")
    pl_frame = polars.read_parquet(folder).sort("point")
    assert pl_frame.schema["point"] == polars.Int64
    assert pl_frame.columns == list(expected.columns)
    assert pl_frame["cost_per_kill_usd"].to_list() == expected["cost_per_kill_usd"].tolist()
    duckdb = pytest.importorskip("duckdb")
    rel = duckdb.sql(
        f"SELECT point, effectors__sm2__rounds AS rounds, cost_per_kill_usd "
        f"FROM read_parquet('{folder}/*.parquet') ORDER BY point"
    )
    assert rel.types[0] == "BIGINT"
    rows = rel.fetchall()
    assert [p for p, _, _ in rows] == [0, 1, 2, 3] and all(type(p) is int for p, _, _ in rows)
    assert [r for _, r, _ in rows] == expected["effectors__sm2__rounds"].tolist()
    back = costx.read_sweep(folder)
    pd.testing.assert_frame_equal(back.table, result.table)


def test_every_file_says_what_it_is_in_its_metadata(result, tmp_path):
    """The sweep's manifest, its name, the dollar year, the policy, when and with which
    versions it was written, and the map from file columns back to grid paths."""
    folder = tmp_path / "sw"
    costx.sweep(_scenario(), GRID, trials=200, seed=4, out=folder, name="sweepme_grid")
    for part in sorted(folder.glob("point-*.parquet")):
        meta = json.loads(pq.read_schema(part).metadata[b"costx"])
        assert meta["scenario_toml"] == result.scenario.to_toml()
        assert meta["points"] == json.loads(json.dumps(result.points))
        assert (meta["seed"], meta["trials"], meta["baseline"]) == (4, 200, 0)
        assert meta["costx_version"] == costx.__version__
        assert meta["sweep_name"] == "sweepme_grid" and meta["scenario_name"] == "sweepme"
        assert meta["dollar_year"] == result.scenario.scenario.dollar_year
        assert meta["policy"] == "layered"
        assert meta["created"].endswith("+00:00")
        for lib in ("numpy", "numba", "pandas", "pyarrow"):
            assert meta[f"{lib}_version"] == __import__(lib).__version__
        assert meta["grid_columns"] == {
            "effectors__sm2__rounds": "effectors.sm2.rounds",
            "effectors__las__units": "effectors.las.units",
        }
        assert meta["units"]["cost_per_kill_usd"] == "USD per kill"
    assert costx.read_sweep(folder).name == "sweepme_grid"


def test_resume_skips_completed_points_and_refuses_another_sweep(tmp_path):
    out = tmp_path / "sw"
    full = costx.sweep(_scenario(), GRID, trials=1000, seed=1, out=out)
    # Remove one point as if the sweep had been killed before writing it.
    victim = out / "point-0002.parquet"
    victim.unlink()
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("point-*.parquet")}
    seen = []
    again = costx.sweep(_scenario(), GRID, trials=1000, seed=1, out=out,
                        progress=lambda d, t: seen.append(d))  # fmt: skip
    assert seen[0] == 3  # three points verified and skipped
    assert again.reused == 3 and full.reused == 0
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps  # not rewritten
    assert victim.is_file()
    pd.testing.assert_frame_equal(again.table, full.table)
    with pytest.raises(InputError, match=r"holds a different sweep.*seed"):
        costx.sweep(_scenario(), GRID, trials=1000, seed=2, out=out)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x.txt").write_text("hello")
    with pytest.raises(InputError, match="not a costx sweep folder"):
        costx.sweep(_scenario(), GRID, trials=1000, seed=1, out=tmp_path / "other")


def test_a_killed_sweep_loses_only_the_points_in_flight(tmp_path):
    """Kill a CLI sweep after its first point is on disk, then resume it."""
    spec = tmp_path / "sweep.toml"
    import tomli_w

    (tmp_path / "s.toml").write_text(tomli_w.dumps(_scenario()))
    spec.write_text(
        '[sweep]\nscenario = "s.toml"\ntrials = 60000\nseed = 3\n'
        '[grid]\n"effectors.sm2.rounds" = [4, 8, 12, 16, 20, 24]\n'
    )
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "costx", "sweep", str(spec), "--out", str(out), "--no-progress"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 300
    while time.time() < deadline and not list(out.glob("point-*.parquet")):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    written = list(out.glob("point-*.parquet"))
    assert 1 <= len(written) < 6, "the sweep finished before it could be killed"
    leftovers = [p for p in out.rglob("*") if p.is_file() and p.name.endswith(".tmp")]
    for p in leftovers:  # a temporary file may survive a SIGKILL; it is never read
        assert p.name.startswith(".")
    done = subprocess.run(
        [sys.executable, "-m", "costx", "sweep", str(spec), "--out", str(out), "--no-progress"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    resumed = costx.read_sweep(out)
    fresh = costx.sweep(load_sweep_spec(spec).scenario, load_sweep_spec(spec).grid,
                        trials=60000, seed=3)  # fmt: skip
    pd.testing.assert_frame_equal(resumed.table, fresh.table)


def test_bundled_sweeps_load():
    for name in costx.bundled.sweep_names():
        spec = load_sweep_spec(name)
        assert spec.trials > 0 and spec.grid


def _dask_sweep(result_queue=None):
    return costx.sweep(_scenario(), GRID, trials=3000, seed=4, backend="dask", chunk_trials=1100)


def test_dask_backend_gives_identical_results(result):
    """A 2-worker LocalCluster, points split into chunks of trials: bit-identical."""
    pytest.importorskip("dask.distributed")
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    code = (
        "import costx, sys, json\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "from test_sweeps import _dask_sweep\n"
        "if __name__ == '__main__':\n"
        "    r = _dask_sweep()\n"
        "    r.table.to_parquet(sys.argv[2])\n"
        "    r.compare().to_parquet(sys.argv[3])\n"
    )
    tmp = Path(os.environ.get("TMPDIR", "/tmp"))
    a, b = tmp / f"dask_table_{os.getpid()}.parquet", tmp / f"dask_cmp_{os.getpid()}.parquet"
    script = tmp / f"dask_sweep_{os.getpid()}.py"
    script.write_text(code)
    try:
        done = subprocess.run(
            [sys.executable, str(script), str(Path(__file__).parent), str(a), str(b)],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        pd.testing.assert_frame_equal(pd.read_parquet(a), result.table)
        pd.testing.assert_frame_equal(pd.read_parquet(b), result.compare())
    finally:
        for p in (a, b, script):
            p.unlink(missing_ok=True)


def test_a_grid_cannot_switch_catalog_entries():
    with pytest.raises(InputError, match=r"cannot change which catalog entry"):
        costx.sweep("red_sea_2024", {"effectors.sm2.use": ["sm2", "sm6"]}, trials=10)


def test_dataset_grid_columns_have_one_type(tmp_path):
    """100 and 150.5 for a float field: one float column, readable by pandas."""
    grid = {"effectors.sm2.max_range_km": [100, 150.5]}
    costx.sweep(_scenario(), grid, trials=200, seed=1, out=tmp_path / "m")
    frame = pd.read_parquet(tmp_path / "m")
    assert frame["effectors__sm2__max_range_km"].tolist() == [100.0, 150.5]
    assert frame["effectors__sm2__max_range_km"].dtype == "float64"


def test_resumed_campaign_sweep_with_trials_is_consistent(tmp_path):
    """Per-site columns exist in every partition; a resume gives the same trial tables."""
    data = costx.load_scenario("pacific_airbase").to_dict()
    data["campaign"]["salvos"] = 2
    grid = {"base.dispersal_sites": [1, 2]}
    out = tmp_path / "c"
    full = costx.sweep(data, grid, trials=300, seed=2, keep_trials=True, out=out)
    assert full.has_salvos
    frame = pd.read_parquet(out)
    assert {"damage_site0_usd", "damage_site1_usd"} <= set(frame.columns)
    (out / "point-0001.parquet").unlink()
    again = costx.sweep(data, grid, trials=300, seed=2, keep_trials=True, out=out)
    pd.testing.assert_frame_equal(again.trials, full.trials, check_dtype=False)
    assert not again.has_salvos  # point 0 came from disk, which keeps no per-salvo table
    assert list(again.trials.columns[:2]) == ["point", "base.dispersal_sites"]


def test_a_sweep_that_fails_before_saving_a_point_leaves_no_folder(tmp_path, monkeypatch):
    """`costx sweep --threads 99` (or an unreachable Dask scheduler) left the empty output
    folder and its parents behind; threads are now checked first, and a sweep that fails
    before its first point is saved removes the folders it made. One that saved points
    keeps them (to resume)."""
    grid = {"effectors.sm2.rounds": [16, 32]}
    out = tmp_path / "new" / "child"
    with pytest.raises(InputError, match="threads must be between 1 and"):
        costx.sweep(_scenario(), grid, trials=100, out=out, threads=10_000)
    assert not (tmp_path / "new").exists()
    real = costx.sweeps.run_point
    calls = []
    fail_at = [1]

    def fails(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == fail_at[0]:
            raise RuntimeError("a worker died")
        return real(*args, **kwargs)

    monkeypatch.setattr(costx.sweeps, "run_point", fails)
    with pytest.raises(RuntimeError, match="a worker died"):
        costx.sweep(_scenario(), grid, trials=100, out=out)
    assert calls == [0] and not (tmp_path / "new").exists()
    calls.clear()
    fail_at[0] = 2
    with pytest.raises(RuntimeError, match="a worker died"):
        costx.sweep(_scenario(), grid, trials=100, out=out)
    assert [p.name for p in out.iterdir()] == ["point-0000.parquet"]  # kept, to resume
    # A folder that is not a sweep's is refused, and nothing of it touched: a failed
    # sweep clears temporary files only in its own folder, under its lock.
    other = tmp_path / "notes"
    other.mkdir()
    (other / "notes.txt").write_text("keep")
    (other / ".draft.tmp").write_text("keep too")
    with pytest.raises(InputError, match="is not a costx sweep folder"):
        costx.sweep(_scenario(), grid, trials=100, out=other)
    assert sorted(p.name for p in other.iterdir()) == [".draft.tmp", "notes.txt"]


def test_compare_gives_the_baseline_an_exact_zero_and_the_grid_columns_in_order(result):
    """From a Python walkthrough: the baseline's rows against itself had diff 0 but a
    made-up interval (the bound for a value that never varied, leakers +-0.2 at 3,000
    trials, wider than real paired intervals), and compare() gave the grid columns in the
    reverse of table's order."""
    cmp = result.compare()
    base = cmp[(cmp["point"] == result.baseline) & cmp["diff"].notna()]
    assert len(base) > 10
    for column in ("diff", "ci95_low", "ci95_high", "std_error"):
        assert (base[column] == 0.0).all(), column
    assert list(cmp.columns[:3]) == ["point", *GRID]
    assert list(result.table.columns[:3]) == ["point", *GRID]


def test_results_and_sweeps_say_their_dollar_year(tmp_path):
    """The tables' units read USD; which year's was only scenario.scenario.dollar_year."""
    s = costx.load_scenario(_scenario(), dollar_year=2020)
    result = costx.simulate(s, trials=50, seed=1)
    assert result.dollar_year == 2020
    assert costx.read_result(result.to_parquet(tmp_path / "r.parquet")).dollar_year == 2020
    assert costx.sweep(s, {"effectors.sm2.rounds": [4, 8]}, trials=50).dollar_year == 2020


def test_a_problem_of_every_grid_point_is_reported_once():
    """A mistyped grid path was reported once per point, with its list of allowed fields
    (a 12-point grid: 12 identical lines); a problem of some points names them."""
    with pytest.raises(ScenarioError) as err:
        costx.sweep(_scenario(), {"effectors.sm2.round": list(range(1, 13))}, trials=10)
    lines = str(err.value).splitlines()
    assert (
        len(lines) == 1 and "every grid point (12): effectors[0].round: unknown field" in lines[0]
    )
    with pytest.raises(ScenarioError) as err:
        costx.sweep(_scenario(), {"effectors.sm2.rounds": [4, -1, -2, 6]}, trials=10)
    lines = str(err.value).splitlines()
    assert len(lines) == 2 and "grid point 2 (effectors.sm2.rounds=-2)" in lines[1]
