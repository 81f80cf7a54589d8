"""One benchmark per decision analysis (costx.analysis) on a bundled scenario: the wall
time of one whole analysis and the trials it simulated (``benchmarks/report.py`` puts
them in the README's table of analyses). Each asserts a property of its answer."""

import math

import pytest

import costx

# (trials per confirmed evaluation, screening trials) in the timed run and in CI.
FULL, SMALL = (10_000, 1_000), (400, 100)


def _once(benchmark, fn, **kwargs):
    """One timed run (an analysis lasts seconds; its kernels are cached by the suite)."""
    return benchmark.pedantic(fn, kwargs=kwargs, rounds=1, iterations=1)


def _record(benchmark, result, scenario):
    benchmark.extra_info.update(analysis=result.kind, scenario=scenario,
                                trials=result.trials_simulated,
                                trials_per_evaluation=result.trials)  # fmt: skip


def test_analysis_margin(benchmark, full):
    trials = (FULL if full else SMALL)[0]
    result = _once(benchmark, costx.marginal_exchange, scenario="ddg_drone_swarm",
                   threat="drones", add=12, hold="leakers", trials=trials,
                   offsets={"effectors.essm.rounds": 4, "effectors.laser.units": 1})  # fmt: skip
    _record(benchmark, result, "ddg_drone_swarm")
    essm = result.table.set_index("option").loc["effectors.essm.rounds"]
    assert essm["restored"] and essm["steps_ci95_low"] <= essm["steps"] <= essm["steps_ci95_high"]
    assert essm["ratio_per_raid"] > 1  # interceptors answering drones: the defender pays more


def test_analysis_break_even(benchmark, full):
    trials = (FULL if full else SMALL)[0]
    result = _once(benchmark, costx.break_even, scenario="ddg_drone_swarm",
                   vary="effectors.laser.availability", bounds=(0.0, 1.0),
                   against={"effectors.laser.units": 0, "effectors.essm.rounds": 32},
                   measure="leakers", trials=trials)  # fmt: skip
    _record(benchmark, result, "ddg_drone_swarm")
    a = result.answer
    assert a["crossing"] and a["root_ci95_low"] <= a["root"] <= a["root_ci95_high"]


def test_analysis_cheapest(benchmark, full):
    trials, screen = FULL if full else SMALL
    choices = {"effectors.sm2.rounds": [8, 16, 24, 32, 48], "effectors.sm6.rounds": [8, 16, 24],
               "effectors.helios.units": [0, 1, 2]}  # fmt: skip
    result = _once(benchmark, costx.cheapest, scenario="ddg_mixed_raid", choices=choices,
                   require={"leakers": 1.0}, minimize="defense_cost_usd", trials=trials,
                   screen_trials=screen)  # fmt: skip
    _record(benchmark, result, "ddg_mixed_raid")
    points = math.prod(len(v) for v in choices.values())
    assert result.trials_simulated < points * trials  # screening spared most of the space
    if result.answer["found"]:
        best = result.table.set_index("point").loc[result.answer["point"]]
        assert best["leakers_one_sided_95"] <= 1.0


def test_analysis_worst_raid(benchmark, full):
    trials, screen = FULL if full else SMALL
    result = _once(benchmark, costx.worst_raid, scenario="ddg_mixed_raid", budget_usd=20e6,
                   mix={"owa_drone": [0, 12, 24, 48, 96], "ascm": [0, 3, 6, 12],
                        "asbm": [0, 2, 4, 8]}, maximize="leakers", trials=trials,
                   screen_trials=screen)  # fmt: skip
    _record(benchmark, result, "ddg_mixed_raid")
    top = result.answer["top"]
    assert all(e["attack_cost_usd"] <= 20e6 for e in top)
    assert all(top[0]["value"][0] >= e["value"][0] for e in top)


@pytest.mark.parametrize("scenario", ["red_sea_2024"])
def test_analysis_sensitivity(benchmark, full, scenario):
    trials = (FULL if full else SMALL)[0]
    result = _once(benchmark, costx.sensitivity, scenario=scenario, measure="leakers",
                   trials=trials)  # fmt: skip
    _record(benchmark, result, scenario)
    swings = result.table.loc[result.table["status"] == "evaluated", "swing"].tolist()
    assert swings == sorted(swings, reverse=True) and swings[0] > 0
