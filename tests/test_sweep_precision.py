"""sweep(..., precision=...): every point run to a precision of its own (issue 16, item 4).

The reference for each point is ``simulate(point, precision=...)`` run alone, which
tests/test_precision.py checks against the half-widths of fixed runs; here the sweep must
stop every point where that run stops, with the same summary, whatever the backend,
chunking or resumption.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from scenarios import interceptor, laser, scenario, threat

import costx
from costx.aggregate import precision_checks
from costx.cli import main
from costx.errors import InputError
from costx.sweeps import MANIFEST_KEYS, load_sweep_spec

GRID = {"effectors.sm2.rounds": [4, 12, 14, 16]}
CAP = 20_000  # checks at 10,000, 13,312, 17,408 and 20,000 trials
TARGET = 0.013
MEASURE = "leakers"


def _scenario():
    return scenario(
        [threat("drone", 10, arrival="uniform", window_s=300.0)],
        [interceptor(pk={"drone": 0.7}, rounds=20)],
        name="sweepme",
    )


def _sweep(**kw):
    return costx.sweep(_scenario(), GRID, trials=CAP, seed=4, precision=TARGET, measure=MEASURE,
                       **kw)  # fmt: skip


@pytest.fixture(scope="module")
def run():
    return _sweep()


@pytest.fixture(scope="module")
def alone(run):
    """Each point's own run to the precision, with simulate."""
    return [costx.simulate(s, trials=CAP, seed=4, precision=TARGET, measure=MEASURE)
            for s in run.scenarios]  # fmt: skip


def test_each_point_stops_where_its_own_run_to_the_precision_stops(run, alone):
    checks = list(precision_checks(CAP))
    # The grid is chosen so that the points need different trials (10,000, 17,408 and
    # the cap), two of them more than the cap gives (fewer leakers, relatively noisier):
    # else this test could not tell a per-point stop from one shared stop.
    assert len(set(run.point_trials)) >= 3, run.point_trials
    assert not all(p.reached for p in run.precision)
    for i, single in enumerate(alone):
        assert run.point_trials[i] == single.n_trials and single.n_trials in checks
        assert run.precision[i] == single.precision
        pd.testing.assert_frame_equal(run.summary(i), single.summary())


def test_the_table_says_each_points_trials_and_precision(run):
    table = run.table
    assert list(table["trials"]) == run.point_trials
    assert list(table["precision_reached"]) == [p.reached for p in run.precision]
    assert list(table["precision_half_width"]) == [p.half_width for p in run.precision]
    for i, p in enumerate(run.precision):
        row = table.iloc[i]
        half = (row[f"{MEASURE}_ci95_high"] - row[f"{MEASURE}_ci95_low"]) / 2
        assert (half <= TARGET * abs(row[MEASURE])) == p.reached
    low, high = min(run.point_trials), max(run.point_trials)
    assert run.trials_text() == f"{low:,} to {high:,} trials (to 1.3 % of leakers)"
    assert "to 1.3 % of leakers" in repr(run)
    plain = costx.sweep(_scenario(), GRID, trials=500, seed=4)
    assert "trials" not in plain.table.columns and plain.precision is None
    assert plain.point_trials == [500] * 4 and plain.trials_text() == "500 trials"


def test_paired_differences_pair_each_point_over_its_own_trials(run):
    """compare() against the sweep's baseline and against another point: each point's
    difference is over its own trials, with the baseline's first trials as many."""
    for baseline in (0, 3):
        cmp = run.compare(baseline)
        for i, s in enumerate(run.scenarios):
            n = run.point_trials[i]
            ref = costx.simulate(run.scenarios[baseline], trials=n, seed=4).summary()
            own = costx.simulate(s, trials=n, seed=4).summary()
            row = cmp[(cmp["point"] == i) & (cmp["measure"] == MEASURE)].iloc[0]
            expected = own.loc[MEASURE, "mean"] - ref.loc[MEASURE, "mean"]
            assert row["diff"] == pytest.approx(expected, abs=1e-12)


def test_the_folder_keeps_the_target_and_resumes(run, tmp_path):
    out = tmp_path / "p"
    first = _sweep(out=out)
    pd.testing.assert_frame_equal(first.table, run.table)
    # the folder read as one table says each point's trials too
    rows = pd.read_parquet(out).sort_values("point")
    for column in ("trials", "precision_half_width", "precision_reached"):
        assert list(rows[column]) == list(run.table[column]), column
    back = costx.read_sweep(out)
    assert back.target == run.target and back.point_trials == run.point_trials
    assert back.precision == run.precision
    pd.testing.assert_frame_equal(back.table, run.table)
    again = _sweep(out=out)
    assert again.reused == 4
    pd.testing.assert_frame_equal(again.table, run.table)
    # another target or measure is another sweep: the folder is refused
    with pytest.raises(InputError, match="differs in: precision"):
        costx.sweep(_scenario(), GRID, trials=CAP, seed=4, precision=0.05, measure=MEASURE,
                    out=out)  # fmt: skip
    with pytest.raises(InputError, match="differs in: measure"):
        costx.sweep(_scenario(), GRID, trials=CAP, seed=4, precision=TARGET, out=out)
    # ... and so is a plain sweep, while a plain sweep's files carry the manifest of
    # before precision= (their folders keep their fingerprints)
    with pytest.raises(InputError, match="differs in: precision, measure"):
        costx.sweep(_scenario(), GRID, trials=CAP, seed=4, out=out)
    plain = tmp_path / "plain"
    costx.sweep(_scenario(), GRID, trials=300, seed=4, out=plain)
    meta = json.loads(
        __import__("pyarrow.parquet")
        .parquet.read_schema(plain / "point-0000.parquet")
        .metadata[b"costx"]
    )
    assert "precision" not in meta and "measure" not in meta
    assert all(k in meta for k in MANIFEST_KEYS)


def test_xarray_has_each_points_trials(run):
    pytest.importorskip("xarray")
    ds = run.to_xarray()
    assert ds.attrs["precision"] == TARGET and ds.attrs["precision_measure"] == MEASURE
    for i, point in enumerate(run.points):
        at = {k: v for k, v in point.items()}
        assert int(ds["trials"].sel(at)) == run.point_trials[i]


def _dask_precision_sweep():
    return _sweep(backend="dask", chunk_trials=3000)


def test_dask_backend_gives_identical_points(run):
    """A 2-worker LocalCluster, each stretch of a point split into chunks of 3,000
    trials, the stretches of all points in flight at once: the same stops and tables."""
    pytest.importorskip("dask.distributed")
    code = (
        "import sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "from test_sweep_precision import _dask_precision_sweep\n"
        "if __name__ == '__main__':\n"
        "    r = _dask_precision_sweep()\n"
        "    r.table.to_parquet(sys.argv[2])\n"
    )
    tmp = Path(os.environ.get("TMPDIR", "/tmp"))
    table = tmp / f"dask_precision_{os.getpid()}.parquet"
    script = tmp / f"dask_precision_{os.getpid()}.py"
    script.write_text(code)
    try:
        done = subprocess.run(
            [sys.executable, str(script), str(Path(__file__).parent), str(table)],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        assert done.returncode == 0, done.stderr[-3000:]
        pd.testing.assert_frame_equal(pd.read_parquet(table), run.table)
    finally:
        for p in (table, script):
            p.unlink(missing_ok=True)


def test_precision_arguments_are_checked():
    with pytest.raises(InputError, match="give precision too"):
        costx.sweep(_scenario(), GRID, trials=100, measure=MEASURE)
    with pytest.raises(InputError, match="between 0 and 1"):
        costx.sweep(_scenario(), GRID, trials=100, precision=1.5)
    # no point has it: the measure is wrong, not a point (no "grid point 0" blamed)
    with pytest.raises(InputError, match=r"^sweep: measure 'leakerz' is not a "
                       r"measure of sweepme; did you mean 'leakers'\?$"):  # fmt: skip
        costx.sweep(_scenario(), GRID, trials=100, precision=0.1, measure="leakerz")
    with pytest.raises(InputError, match=r"'bogus' is not a measure of sweepme \(its "
                       r"measures: leakers, p_any_leak, "):  # fmt: skip
        costx.sweep(_scenario(), GRID, trials=100, precision=0.1, measure="bogus")


def test_a_measure_that_one_point_lacks_is_refused_naming_the_point():
    """A dispersal site's measures exist only where the grid has the site."""
    data = costx.load_scenario("pacific_airbase").to_dict()
    data["base"]["dispersal_sites"] = 2
    two = costx.load_scenario(data)
    one = costx.load_scenario({**data, "base": {**data["base"], "dispersal_sites": 1}})
    names = set(costx.simulate(two, trials=10).summary().index)
    only_two = sorted(names - set(costx.simulate(one, trials=10).summary().index))
    assert only_two, "no measure of the second site"
    with pytest.raises(InputError, match=r"grid point 1 \(base.dispersal_sites=1\): measure"):
        costx.sweep(two, {"base.dispersal_sites": [2, 1]}, trials=100, precision=0.1,
                    measure=only_two[0])  # fmt: skip


def _sweep_file(tmp_path, **fields) -> Path:
    lines = ["[sweep]", 'scenario = "ddg_mixed_raid"']
    lines += [f"{k} = {json.dumps(v)}" for k, v in fields.items()]
    lines += ["[grid]", '"effectors.sm2.rounds" = [8, 32]']
    path = tmp_path / "s.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_sweep_file_gives_the_precision_and_its_cap(tmp_path):
    spec = load_sweep_spec(_sweep_file(tmp_path, precision=0.05, measure="leakers"))
    assert (spec.precision, spec.measure, spec.trials) == (0.05, "leakers", 10_000_000)
    spec = load_sweep_spec(_sweep_file(tmp_path, precision=0.05, trials=30_000))
    assert (spec.precision, spec.measure, spec.trials) == (0.05, None, 30_000)
    assert load_sweep_spec(_sweep_file(tmp_path)).trials == 20_000


def test_costx_sweep_runs_each_point_to_the_precision(tmp_path, capsys):
    path = _sweep_file(tmp_path, trials=CAP)
    out = tmp_path / "out"
    status = main(["sweep", str(path), "--out", str(out), "--precision", "0.05", "--measure",
                   "leakers", "--no-progress", "--format", "json"])  # fmt: skip
    assert status == 0, capsys.readouterr().err
    doc = json.loads(capsys.readouterr().out)
    assert doc["precision"] == {"measure": "leakers", "target": 0.05}
    direct = costx.sweep("ddg_mixed_raid", {"effectors.sm2.rounds": [8, 32]}, trials=CAP,
                         precision=0.05, measure="leakers")  # fmt: skip
    assert [r["trials"] for r in doc["table"]] == direct.point_trials
    assert costx.read_sweep(out).point_trials == direct.point_trials
    # the file's precision, and the terminal table's trials column
    path = _sweep_file(tmp_path, trials=CAP, precision=0.05, measure="leakers")
    status = main(["sweep", str(path), "--out", str(tmp_path / "o2"), "--no-progress"])
    text = capsys.readouterr().out
    assert status == 0 and "trials (to 5 % of leakers)" in text and "trials" in text
    assert main(["validate", str(path)]) == 0
    assert "each to 5 % precision" in capsys.readouterr().out
    # errors: exit 2, one line, nothing written
    bad = tmp_path / "bad"
    assert main(["sweep", str(path), "--out", str(bad), "--measure", "leakerz"]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'leakers'" in err and "Traceback" not in err and not bad.exists()
    plain = _sweep_file(tmp_path)
    assert main(["sweep", str(plain), "--out", str(bad), "--measure", "leakers"]) == 2
    assert "give --precision too" in capsys.readouterr().err and not bad.exists()


def test_a_folder_written_before_precision_still_resumes(tmp_path, monkeypatch):
    """tests/data/sweep_before_precision was written by costx at 9298f58, before
    precision=: its manifest has no precision keys, and its fingerprint must still be
    this costx's for the same sweep (a resume reuses both points). The manifest names
    the costx version, so the fixture's is taken for this one's (a release must not
    fail this test)."""
    folder = tmp_path / "old"
    shutil.copytree(Path(__file__).parent / "data" / "sweep_before_precision", folder)
    meta = json.loads(pq.read_schema(folder / "point-0000.parquet").metadata[b"costx"])
    monkeypatch.setattr(costx.sweeps, "version", lambda: meta["costx_version"])
    data = _scenario()
    data["scenario"]["name"] = "before_precision"
    grid = {"effectors.sm2.rounds": [4, 12]}
    resumed = costx.sweep(data, grid, trials=300, seed=4, out=folder)
    assert resumed.reused == 2 and resumed.target is None
    fresh = costx.sweep(data, grid, trials=300, seed=4)
    pd.testing.assert_frame_equal(resumed.table, fresh.table)
    assert costx.read_sweep(folder).precision is None


def test_per_trial_tables_to_a_precision_are_checked_stretch_by_stretch(monkeypatch):
    """With keep_trials the cap (10,000,000) is not checked up front (each point stops
    far below it): each stretch is checked before it runs, naming the point."""
    kept = costx.sweep(_scenario(), GRID, trials=10_000_000, seed=4, precision=TARGET,
                       measure=MEASURE, keep_trials=True)  # fmt: skip
    assert max(kept.point_trials) < 100_000
    assert len(kept.trials) == sum(kept.point_trials)
    from costx import simulation

    real = simulation.check_memory

    def tight(need, what, advice):
        if "run to 13,312 trials" in what:
            raise InputError(f"{what}: not enough memory; {advice}")
        real(need, what, advice)

    monkeypatch.setattr(simulation, "check_memory", tight)
    with pytest.raises(InputError, match=r"grid point \d run to 13,312 trials with per-trial "
                       r"tables: .*lower trial cap \(--trials\)"):  # fmt: skip
        costx.sweep(_scenario(), GRID, trials=10_000_000, seed=4, precision=TARGET,
                    measure=MEASURE, keep_trials=True)  # fmt: skip


def test_a_point_whose_measure_stays_at_zero_warns_once_naming_the_point():
    """Two drones and a laser that kills both in every trial: leakers is 0 at the point
    with the laser (sampled, so no relative precision) and not at the point without it.
    The first warns once and runs to the cap; the second stops on its own."""
    data = scenario([threat("drone", 2)], [laser(), interceptor(pk={"drone": 0.7})],
                    name="zeroes")  # fmt: skip
    with pytest.warns(costx.CostxWarning) as caught:
        result = costx.sweep(data, {"effectors.las.units": [1, 0]}, trials=CAP, seed=4,
                             precision=0.05, measure="leakers")  # fmt: skip
    texts = [str(w.message) for w in caught if issubclass(w.category, costx.CostxWarning)]
    assert len(texts) == 1
    assert texts[0].startswith("zeroes: grid point 0: the mean of leakers is 0 after 10,000 ")
    assert result.point_trials[0] == CAP and not result.precision[0].reached
    assert result.point_trials[1] < CAP
