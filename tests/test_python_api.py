"""The Python API for analysts (issue 18): dir(costx), annotations, notebook displays,
the tidy summary, xarray, file metadata and sweep folders of the earlier layout."""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import sys

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scenarios import interceptor, laser, mixed, scenario, threat

import costx
from costx import formatting
from costx.errors import InputError
from costx.io import read_metadata

GRID = {"effectors.sm2.rounds": [4, 12], "effectors.las.units": [0, 1]}


def _scenario():
    return scenario(
        [threat("drone", 10, arrival="uniform", window_s=300.0)],
        [interceptor(pk={"drone": 0.7}, rounds=20), laser()],
        name="apime",
    )


@pytest.fixture(scope="module")
def result():
    return costx.simulate(mixed(), trials=2000, seed=2)


@pytest.fixture(scope="module")
def swept():
    return costx.sweep(_scenario(), GRID, trials=500, seed=3)


# -- the package -------------------------------------------------------------------------


def test_dir_lists_the_lazily_loaded_api():
    names = dir(costx)
    for name in ("simulate", "sweep", "read_sweep", "read_result", "load_scenario",
                 "SimulationResult", "SweepResult", "Scenario", "__version__"):  # fmt: skip
        assert name in names
    assert set(costx.__all__) <= set(names)
    assert "version" not in names and "PackageNotFoundError" not in names


def _public_callables():
    for name in costx.__all__:
        obj = getattr(costx, name)
        if inspect.isfunction(obj):
            yield name, obj
        elif inspect.isclass(obj) and obj.__module__.startswith("costx."):
            if issubclass(obj, Exception):
                continue
            for attr, member in vars(obj).items():
                if attr.startswith("_") and attr not in ("__init__",):
                    continue
                if isinstance(member, property):
                    member = member.fget
                if inspect.isfunction(member):
                    yield f"{name}.{attr}", member


def test_the_public_api_is_annotated():
    """Every parameter and return of the public functions and methods has a type (py.typed
    promises them to type checkers)."""
    missing = []
    for name, func in _public_callables():
        sig = inspect.signature(func)
        for p in sig.parameters.values():
            if p.name not in ("self", "cls") and p.annotation is inspect.Parameter.empty:
                missing.append(f"{name}({p.name})")
        if func.__name__ != "__init__" and sig.return_annotation is inspect.Signature.empty:
            missing.append(f"{name} -> ?")
    assert not missing, missing


# -- notebook displays -------------------------------------------------------------------


def test_scenario_repr_is_one_short_line():
    s = costx.load_scenario("pacific_airbase")
    text = repr(s)
    assert "\n" not in text and len(text) < 250
    assert text.startswith("<Scenario 'pacific_airbase': 3 threat groups")
    assert "from bundled:pacific_airbase" in text


def test_scenario_card_is_escaped_html():
    data = mixed()
    data["scenario"]["description"] = "<script>alert(1)</script> & more"
    html = costx.load_scenario(data)._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html and "&amp; more" in html
    for name in ("drone", "cruise", "ballistic", "sm2", "hvp", "las"):
        assert name in html
    assert formatting.usd(1e6) in html  # the cruise missile's unit cost


def test_result_html_shows_headline_measures_with_intervals(result):
    html = result._repr_html_()
    s = result.summary()
    for m in ("leakers", "cost_per_kill_usd", "cost_exchange_defense_over_attack"):
        r = s.loc[m]
        interval = formatting.interval(r["ci95_low"], r["ci95_high"], r["unit"], mean=r["mean"],
                                       std_error=r["std_error"], n=result.n_trials)  # fmt: skip
        assert f"<code>{m}</code>" in html
        assert formatting.value(r["mean"], r["unit"]) in html
        assert interval.replace("'", "&#x27;") in html


def test_sweep_html_shows_every_point(swept):
    html = swept._repr_html_()
    assert html.count("<tr>") == 1 + len(swept.points)
    for value in swept.table["cost_per_kill_usd"]:
        assert formatting.usd(value) in html


# -- the tidy summary --------------------------------------------------------------------


def test_tidy_summary_has_one_row_per_measure_with_its_item(result):
    tidy = result.tidy()
    summary = result.summary()
    assert list(tidy.columns) == ["measure", "effector", "threat", "asset", "site", "mean",
                                  "ci95_low", "ci95_high", "std_error", "unit", "name"]  # fmt: skip
    assert list(tidy["name"]) == list(summary.index)
    for _, row in tidy.iterrows():
        expected = summary.loc[row["name"]]
        assert (row["mean"], row["ci95_high"], row["unit"]) == (
            expected["mean"], expected["ci95_high"], expected["unit"])  # fmt: skip
    # A per-effector table is a filter and a pivot, no pattern on names.
    per = tidy.dropna(subset=["effector"]).pivot(index="effector", columns="measure",
                                                 values="mean")  # fmt: skip
    assert set(per.index) == {"sm2", "hvp", "las"}
    assert per.loc["sm2", "shots"] == summary.loc["shots_sm2", "mean"]
    assert per.loc["hvp", "cost_per_kill_usd"] == summary.loc["cost_per_kill_hvp_usd", "mean"]
    total = tidy.query("measure == 'defense_cost_usd' and effector.isna()")["mean"].item()
    assert per["defense_cost_usd"].sum() == pytest.approx(total, rel=1e-12)
    leakers = tidy.query("measure == 'leakers'")
    by_threat = leakers.dropna(subset=["threat"]).set_index("threat")["mean"]
    assert by_threat.loc["drone"] == summary.loc["leaked_drone", "mean"]
    whole = leakers[leakers["threat"].isna()]["mean"].item()
    assert whole == summary.loc["leakers", "mean"]
    assert by_threat.sum() == pytest.approx(whole, rel=1e-12)


def test_tidy_names_are_not_guessed_from_patterns():
    """An effector whose name ends like another's measure (``sm2_usd``) and a threat named
    like an effector: each measure still goes to its own item."""
    data = scenario(
        [threat("sm2", 4), threat("kills_x", 2)],
        [interceptor("sm2_usd", pk={"sm2": 0.7, "kills_x": 0.5}, rounds=8),
         interceptor("sm2", pk={"sm2": 0.6}, rounds=8)],
        name="tricky",
    )  # fmt: skip
    tidy = costx.simulate(data, trials=200, seed=1).tidy().set_index("name")
    assert tidy.loc["cost_sm2_usd_usd", ["measure", "effector"]].tolist() == [
        "defense_cost_usd", "sm2_usd"]  # fmt: skip
    assert tidy.loc["cost_sm2_usd", ["measure", "effector"]].tolist() == ["defense_cost_usd", "sm2"]
    assert tidy.loc["leaked_sm2", ["measure", "threat"]].tolist() == ["leakers", "sm2"]
    assert tidy.loc["leaked_kills_x", ["measure", "threat"]].tolist() == ["leakers", "kills_x"]


def test_tidy_campaign_sites_and_assets():
    data = costx.load_scenario("pacific_airbase_resilient").to_dict()
    data["campaign"]["salvos"] = 2
    r = costx.simulate(data, trials=200, seed=1)
    tidy = r.tidy()
    sites = tidy.query("measure == 'damage_usd'").dropna(subset=["site"])
    assert sorted(sites["site"]) == list(range(r.scenario.base.dispersal_sites))
    assert sites["site"].dtype == "Int64"
    assets = tidy.query("measure == 'destroyed'")
    assert sorted(assets["asset"]) == sorted(a.name for a in r.scenario.base.assets)
    assert set(tidy.query("measure == 'p_dry'")["effector"]) == {
        e.name for e in r.scenario.effectors
    }


def test_sweep_tidy_is_the_long_table(swept):
    tidy = swept.tidy()
    assert list(tidy.columns[:3]) == ["point", *GRID]
    assert tidy["point"].dtype == "int64"
    n = len(swept.summary(0))
    assert len(tidy) == n * len(swept.points)
    table = swept.table
    for i in range(len(swept.points)):
        rows = tidy[tidy["point"] == i].set_index("name")
        assert rows.loc["cost_per_kill_usd", "mean"] == table.loc[i, "cost_per_kill_usd"]
        assert rows.loc["leakers", "ci95_high"] == table.loc[i, "leakers_ci95_high"]


# -- xarray ------------------------------------------------------------------------------


def test_to_xarray_of_a_grid(swept):
    xr = pytest.importorskip("xarray")
    ds = swept.to_xarray()
    assert isinstance(ds, xr.Dataset)
    assert dict(ds.sizes) == {"effectors.sm2.rounds": 2, "effectors.las.units": 2, "statistic": 3}
    table = swept.table
    for i, point in enumerate(swept.points):
        at = {**point}
        assert int(ds["point"].sel(at)) == i
        for stat, column in (("mean", "cost_per_kill_usd"), ("ci95_low", "leakers_ci95_low"),
                             ("ci95_high", "p_any_leak_ci95_high")):  # fmt: skip
            measure = column.removesuffix("_ci95_low").removesuffix("_ci95_high")
            got = float(ds[measure].sel({**at, "statistic": stat}))
            assert got == table.loc[i, column]
    assert ds["cost_per_kill_usd"].attrs["units"] == "USD per kill"
    assert ds.attrs["dollar_year"] == swept.scenario.scenario.dollar_year
    assert ds.attrs["trials"] == 500


def test_to_xarray_of_cases_has_a_point_dimension():
    pytest.importorskip("xarray")
    cases = [{"effectors.sm2.rounds": 4, "effectors.las.units": 1},
             {"effectors.sm2.rounds": 12, "effectors.las.units": 0}]  # fmt: skip
    ds = costx.sweep(_scenario(), cases, trials=200, seed=1).to_xarray()
    assert dict(ds.sizes) == {"point": 2, "statistic": 3}
    assert list(ds["effectors.sm2.rounds"].values) == [4, 12]


def test_to_xarray_without_xarray_says_how_to_install_it(swept, monkeypatch):
    monkeypatch.setitem(sys.modules, "xarray", None)
    with pytest.raises(InputError, match=r'pip install "costx\[xarray\]"'):
        swept.to_xarray()


# -- metadata ----------------------------------------------------------------------------


def test_result_files_carry_the_top_level_metadata(result, tmp_path):
    meta = read_metadata(result.to_parquet(tmp_path / "r.parquet"))
    assert meta["dollar_year"] == result.scenario.scenario.dollar_year
    assert meta["policy"] == "layered" and meta["sweep_name"] is None
    assert meta["costx_version"] == costx.__version__
    assert meta["created"].endswith("+00:00")
    for lib in ("numpy", "numba", "pandas", "pyarrow"):
        assert meta[f"{lib}_version"] == __import__(lib).__version__


# -- sweep folders of the earlier layout ---------------------------------------------------


def _write_legacy(sweep, folder):
    """The layout before costx.sweep/2, as costx 0.1.0 wrote it: a JSON manifest, and per
    point a hive partition point=NNNN/part-0.parquet with the long summary."""
    from costx.sweeps import _jsonable

    m = {
        "format": "costx.sweep/1", "costx_version": costx.__version__,
        "scenario_toml": sweep.scenario.to_toml(),
        "provenance": _jsonable(sweep.scenario.provenance), "points": _jsonable(sweep.points),
        "seed": sweep.seed, "trials": sweep.n_trials, "baseline": sweep.baseline,
        "keep_trials": False,
    }  # fmt: skip
    fingerprint = hashlib.sha256(json.dumps(m, sort_keys=True).encode()).hexdigest()
    folder.mkdir()
    (folder / "_costx_sweep.json").write_text(json.dumps(m, indent=1))
    for i, point in enumerate(sweep.points):
        frame = sweep.summary(i).reset_index()
        for k, v in reversed(list(point.items())):
            frame.insert(0, k, [v] * len(frame))
        meta = {"format": "costx.sweep/1", "fingerprint": fingerprint, "index": i,
                "point": _jsonable(point), "kind": "summary",
                "joint": sweep._joint[i].to_dict()}  # fmt: skip
        table = pa.Table.from_pandas(frame, preserve_index=False)
        table = table.replace_schema_metadata({b"costx": json.dumps(meta).encode()})
        (folder / f"point={i:04d}").mkdir()
        pq.write_table(table, folder / f"point={i:04d}" / "part-0.parquet")


def test_a_folder_of_the_earlier_layout_is_read_and_not_resumed(swept, tmp_path):
    old = tmp_path / "old"
    _write_legacy(swept, old)
    back = costx.read_sweep(old)
    pd.testing.assert_frame_equal(back.table, swept.table)
    pd.testing.assert_frame_equal(back.compare(), swept.compare())
    with pytest.raises(InputError, match=r"layout of an earlier costx .* new folder"):
        costx.sweep(_scenario(), GRID, trials=500, seed=3, out=old)
    from costx.reading import load_results

    assert not math.isnan(load_results(old).table["leakers"].iloc[0])
