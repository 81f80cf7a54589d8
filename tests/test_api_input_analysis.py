"""Bad input to the decision analyses' Python API (costx.analysis and the analysis
figures of costx.plotting): one clear InputError naming the argument and what is allowed,
never a raw TypeError/KeyError/AttributeError from deep inside, never a silent wrong
answer; and the numpy values a notebook passes (a numpy seed, a 1-D array of values)
are taken as the Python values they stand for."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scenarios import mixed

import costx
from costx import analysis
from costx.errors import InputError

TRIALS = 200
KINDS = ("margin", "break_even", "cheapest", "worst_raid", "sensitivity")


def run(kind: str, **kw):
    """One cheap analysis of each kind on the small mixed scenario."""
    data = mixed()
    if kind == "margin":
        args = {"threat": "drone", "add": 6, "offsets": {"effectors.sm2.rounds": 4}}
        return costx.marginal_exchange(data, **{**args, "trials": TRIALS, **kw})
    if kind == "break_even":
        args = {"vary": "effectors.sm2.cost_per_shot_usd", "bounds": (1e5, 4e6),
                "against": {"effectors.las.units": 0}}  # fmt: skip
        return costx.break_even(data, **{**args, "trials": TRIALS, **kw})
    if kind == "cheapest":
        args = {"choices": {"effectors.sm2.rounds": [8, 24]}, "require": {"leakers": 2.0},
                "screen_trials": 100}  # fmt: skip
        return costx.cheapest(data, **{**args, "trials": TRIALS, **kw})
    if kind == "worst_raid":
        args = {"budget_usd": 9e6, "mix": {"drone": [0, 20], "cruise": [0, 2]},
                "screen_trials": 100}  # fmt: skip
        return costx.worst_raid(data, **{**args, "trials": TRIALS, **kw})
    args = {"ranges": {"effectors.sm2.pk.drone": (0.5, 0.9)}, "catalog_ranges": False}
    return costx.sensitivity(data, **{**args, "trials": TRIALS, **kw})


@pytest.fixture(scope="module")
def results() -> dict:
    return {kind: run(kind) for kind in KINDS}


# -- 1. a numpy seed ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", [np.int64(5), np.uint64(5)])
def test_numpy_seed_gives_a_result_that_saves(kind, seed, results, tmp_path):
    result = run(kind, seed=seed)
    assert type(result.seed) is int and result.seed == 5
    assert type(result.inputs["seed"]) is int
    path = result.to_parquet(tmp_path / "a.parquet")  # was: int64 is not JSON serializable
    back = costx.read_analysis(path)
    assert back.seed == 5 and back.inputs == result.inputs
    plain = run(kind, seed=5)
    pd.testing.assert_frame_equal(result.table, plain.table)


def test_seed_is_checked_before_any_work():
    for seed, message in [(-1, "seed must be between 0"), (2**64, "seed must be between 0"),
                          (1.0, "seed must be a whole number"),
                          (True, "seed must be a whole number")]:  # fmt: skip
        with pytest.raises(InputError, match=message):
            run("margin", seed=seed)


def test_metadata_seed_is_a_python_int(results):
    r = results["margin"]
    odd = analysis.AnalysisResult(r.kind, r.scenario, r.inputs, r.answer, r.table,
                                  np.uint64(7), np.int64(TRIALS), r.trials_simulated)  # fmt: skip
    meta = odd.metadata()
    assert type(meta["seed"]) is int and type(meta["trials"]) is int


# -- 2. 1-D arrays and Series as lists ------------------------------------------------------


@pytest.mark.parametrize("wrap", [np.array, pd.Series])
def test_arrays_and_series_are_lists(wrap, results, tmp_path):
    be = run("break_even", bounds=wrap([1e5, 4e6]))
    assert be.inputs["bounds"] == results["break_even"].inputs["bounds"]
    pd.testing.assert_frame_equal(be.table, results["break_even"].table)
    ch = run("cheapest", choices={"effectors.sm2.rounds": wrap([8, 24])})
    assert ch.inputs["choices"] == {"effectors.sm2.rounds": [8, 24]}
    assert all(type(v) is int for v in ch.inputs["choices"]["effectors.sm2.rounds"])
    pd.testing.assert_frame_equal(ch.table, results["cheapest"].table)
    wr = run("worst_raid", mix={"drone": wrap([0, 20]), "cruise": wrap([0, 2])})
    pd.testing.assert_frame_equal(wr.table, results["worst_raid"].table)
    se = run("sensitivity", ranges={"effectors.sm2.pk.drone": wrap([0.5, 0.9])})
    assert se.inputs["ranges"] == {"effectors.sm2.pk.drone": [0.5, 0.9]}
    pd.testing.assert_frame_equal(se.table, results["sensitivity"].table)
    for i, r in enumerate((be, ch, wr, se)):
        r.to_parquet(tmp_path / f"{i}.parquet")


def test_a_two_dimensional_array_is_not_a_list():
    with pytest.raises(InputError, match=r"bounds: give \(low, high\)"):
        run("break_even", bounds=np.array([[1e5, 4e6]]))
    with pytest.raises(InputError, match="expected a non-empty list of values"):
        run("cheapest", choices={"effectors.sm2.rounds": np.array([[8, 24]])})
    with pytest.raises(InputError, match="expected a non-empty list of counts"):
        run("worst_raid", mix={"drone": np.array([], dtype=int)})


def test_sensitivity_ranges_must_be_a_mapping():
    """A list of (path, (low, high)) pairs is refused (not taken as pairs): every other
    analysis argument of this kind (offsets, choices, mix) is a mapping too."""
    pairs = [("effectors.sm2.pk.drone", (0.5, 0.9))]
    with pytest.raises(InputError, match=r"ranges must be a mapping of dotted path -> \(low"):
        run("sensitivity", ranges=pairs)
    with pytest.raises(InputError, match="ranges must be a mapping"):
        run("sensitivity", ranges="effectors.sm2.pk.drone")


def test_sensitivity_catalog_ranges_is_a_flag():
    with pytest.raises(InputError, match="catalog_ranges must be True or False"):
        run("sensitivity", catalog_ranges="no")  # "no" would count as true


# -- 3. the analysis figures ----------------------------------------------------------------


@pytest.mark.parametrize("method", KINDS)
def test_a_figure_of_another_kind_is_one_clear_error(method, results):
    pytest.importorskip("matplotlib")
    for kind, result in results.items():
        if kind == method:
            continue
        with pytest.raises(InputError, match=f"this is an? {kind} result: plot it with "
                           rf"plot.figure\(\) or plot.{kind}\(\)"):  # fmt: skip
            getattr(result.plot, method)()


def test_figure_ax_must_be_an_axes(results):
    pytest.importorskip("matplotlib")
    for result in results.values():
        for ax in (5, "ax", [None]):
            with pytest.raises(InputError, match="ax must be a matplotlib Axes"):
                result.plot.figure(ax=ax)
    from costx.plotting import new_figure

    ax = new_figure().axes[0]
    assert results["margin"].plot.figure(ax=ax) is ax


def test_campaign_ax_must_be_a_pair_of_axes():
    pytest.importorskip("matplotlib")
    data = mixed()
    data["campaign"] = {"salvos": 2, "interval_h": 1.0}
    result = costx.simulate(data, trials=50)
    with pytest.raises(InputError, match="takes a pair of axes"):
        result.plot.campaign(ax=5)
    with pytest.raises(InputError, match=r"campaign.* must be a matplotlib Axes"):
        result.plot.campaign(ax=(1, 2))
    import matplotlib.pyplot as plt

    fig, axs = plt.subplots(2)  # an array of axes, as plt.subplots gives: taken
    result.plot.campaign(ax=axs)
    plt.close(fig)


@pytest.mark.parametrize("inputs", [0, -1, "a", 2.0, True])
def test_sensitivity_figure_inputs_is_a_whole_number_from_1(inputs, results):
    pytest.importorskip("matplotlib")
    with pytest.raises(InputError, match="inputs must be"):
        results["sensitivity"].plot.sensitivity(inputs=inputs)
    assert results["sensitivity"].plot.sensitivity(inputs=np.int64(1)) is not None


# -- 4. scheduler= and threads= -------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_scheduler_needs_the_dask_backend(kind):
    with pytest.raises(InputError, match="scheduler= is the Dask scheduler of backend='dask'"):
        run(kind, scheduler="tcp://nowhere:1")


@pytest.mark.parametrize("kind", KINDS)
def test_threads_are_refused_with_the_dask_backend(kind):
    with pytest.raises(InputError, match="threads= sets this machine's Numba threads"):
        run(kind, backend="dask", threads=1)


def test_run_options_are_checked_by_the_evaluator_too():
    with pytest.raises(InputError, match="scheduler= is the Dask scheduler"):
        analysis.Evaluator(seed=1, scheduler="tcp://nowhere:1")
    with pytest.raises(InputError, match="threads= sets this machine's Numba threads"):
        analysis.Evaluator(seed=1, backend="dask", threads=2)
    with pytest.raises(InputError, match="threads must be"):
        analysis.Evaluator(seed=1, threads=0)
    with pytest.raises(InputError, match="scheduler must be a Dask scheduler's address"):
        analysis.Evaluator(seed=1, backend="dask", scheduler=5)
    with pytest.raises(InputError, match="backend must be 'local' or 'dask'"):
        analysis.Evaluator(seed=1, backend="dsak")
    assert type(analysis.Evaluator(seed=np.uint64(3)).seed) is int


def test_threads_with_the_local_backend_still_run(results):
    r = run("margin", threads=1)
    pd.testing.assert_frame_equal(r.table, results["margin"].table)


# -- 5. the rest ----------------------------------------------------------------------------


def test_unit_of_an_unknown_measure(results):
    r = results["margin"]
    assert r.unit_of("leakers") == "threats"
    with pytest.raises(InputError, match=r"unit_of: 'levers' is not a measure of mixed; did "
                       r"you mean 'leakers'\? \(measures: .*leakers"):  # fmt: skip
        r.unit_of("levers")
    with pytest.raises(InputError, match="not a measure"):
        r.unit_of(None)


def test_to_parquet_refuses_a_missing_folder_like_simulate(results, tmp_path):
    target = tmp_path / "missing" / "a.parquet"
    with pytest.raises(InputError, match=r"folder .*missing does not exist") as analysis_err:
        results["margin"].to_parquet(target)
    with pytest.raises(InputError) as simulation_err:
        costx.simulate(mixed(), trials=10).to_parquet(target)
    assert str(analysis_err.value) == str(simulation_err.value)
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize("path", [None, 5, b"a.parquet", ""])
def test_paths_must_be_paths(path, results):
    with pytest.raises(InputError, match="path must be a file or folder path"):
        results["margin"].to_parquet(path)
    with pytest.raises(InputError, match="path must be a file or folder path"):
        costx.read_analysis(path)
    assert analysis.is_analysis_file(path) is False


@pytest.mark.parametrize("kind", KINDS)
def test_precision_must_be_a_number_not_a_string(kind):
    with pytest.raises(InputError, match=r"precision must be a number, not '0\.5'"):
        run(kind, precision="0.5")
    with pytest.raises(InputError, match="precision must be a number, not True"):
        run(kind, precision=True)


def test_a_misspelled_vary_is_the_paths_fault_not_the_bounds():
    with pytest.raises(InputError, match=r"^vary: costing.raid_per_year: unknown field; did "
                       r"you mean 'raids_per_year'\?"):  # fmt: skip
        run("break_even", vary="costing.raid_per_year", bounds=(1, 12))
    with pytest.raises(InputError, match=r"^vary: effectors.sm2.roundz: unknown field"):
        run("break_even", vary="effectors.sm2.roundz", bounds=(1, 12))
    with pytest.raises(InputError, match=r"^vary: no effectors named 'sm3'"):
        run("break_even", vary="effectors.sm3.rounds", bounds=(1, 12))
    # a known field with bounds outside its limits is still the bounds' fault
    with pytest.raises(InputError, match=r"^bounds: effectors.sm2.rounds = -5"):
        run("break_even", vary="effectors.sm2.rounds", bounds=(-5, 12))
    # a field the scenario leaves out (the laser's magazine) is a known one
    r = run("break_even", vary="effectors.las.magazine_s", bounds=(30.0, 300.0), grid_points=2)
    assert r.kind == "break_even"
