"""The simulated workloads of costx.bench.WORKLOADS (the one registry `costx bench` also
times), each timed and its result checked against a real property:

* single_layer: mean leakers and rounds fired against the exact closed form
  (bench.single_layer_exact), within 5 standard errors;
* mixed_raid, iran_israel_apr2024 and the drone raids, where the reference plays them
  quickly: the first trials equal the independent event simulation (tests/refimpl) trial
  by trial (trial i of a long run is trial i of a short one: these are the timed trials);
* cost_aware beyond 8 threats (the reference takes about a minute a trial there) and the
  campaign: every threat launched is killed once or leaks, in the exact integer sums;

then a sweep and the scaling of cost per trial with trials and threats (single_layer).
"""

import numba
import pytest
from benchutil import run
from refimpl.engagement import simulate_trial

import costx
from costx import bench
from costx.simulation import simulate

THREADS = numba.config.NUMBA_NUM_THREADS
SE = 5.0  # tolerance of a statistical check, in standard errors
REFERENCE_TRIALS = {"mixed_raid": 3, "drone_raid": 2, "iran_israel_apr2024": 1}


def _reference_playable(w: bench.Workload) -> bool:
    """The event simulation replans cost_aware from scratch at every decision: about 50 s
    a trial on mixed_raid or a drone raid of 64 threats, so only the 8-threat cost_aware
    raid is checked against it (the slow run's 3,000 random cost_aware scenarios are)."""
    if w.name not in REFERENCE_TRIALS:
        return False
    return not w.variant.startswith("cost_aware") or w.variant.endswith(" 8 threats")


def check_closed_form(result) -> None:
    s = result.summary()
    leakers, fired = bench.single_layer_exact()
    assert abs(s.loc["leakers", "mean"] - leakers) < SE * s.loc["leakers", "std_error"]
    assert abs(s.loc["shots_sam", "mean"] - fired) < SE * s.loc["shots_sam", "std_error"]


def check_reference(scenario, n: int) -> None:
    """The first n trials (seed 0) equal the independent event simulation's."""
    trials = simulate(scenario, trials=n, seed=0).trials
    for t in range(n):
        ref = simulate_trial(scenario, 0, t)
        row = trials.iloc[t]
        assert [int(row[f"leaked_{g.name}"]) for g in scenario.threats] == ref.leaked, t
        assert [int(row[f"shots_{e.name}"]) for e in scenario.effectors] == ref.shots, t
        assert [int(row[f"kills_{e.name}"]) for e in scenario.effectors] == ref.kills, t


def check_conservation(scenario, result) -> None:
    """Kills plus leakers equal the threats launched, in the exact sums over all trials."""
    s = result.summary()
    launched = sum(sum(row) for row in scenario.salvo_counts())
    assert s.loc["killed", "mean"] + s.loc["leakers", "mean"] == pytest.approx(launched, rel=1e-12)


# The check of each workload, by name (test_every_workload_has_a_check).
CHECKS = {
    "single_layer": "closed form",
    "mixed_raid": "reference",
    "iran_israel_apr2024": "reference",
    "drone_raid": "reference",  # conservation where the reference is too slow
    "campaign": "conservation",
}


@pytest.mark.parametrize("w", bench.WORKLOADS, ids=lambda w: w.id)
def test_workload(benchmark, full, w):
    scenario = w.scenario()
    trials = w.trials if full else w.ci_trials
    result = run(benchmark, simulate, scenario, trials=trials, seed=0, threads=w.threads,
                 keep_trials=False, rounds=3 if full else 1)  # fmt: skip
    threats = sum(sum(row) for row in scenario.salvo_counts())
    benchmark.extra_info.update(
        workload=w.name, variant=w.variant, trials=trials, threads=w.threads or THREADS,
        threats=threats, effectors=len(scenario.effectors),
    )  # fmt: skip
    check = CHECKS[w.name]
    if check == "closed form":
        benchmark.extra_info["draws_per_trial"] = result.summary().loc["shots_sam", "mean"] + 1
        check_closed_form(result)
    elif check == "reference" and _reference_playable(w):
        check_reference(scenario, REFERENCE_TRIALS[w.name])
    else:
        check_conservation(scenario, result)


def test_every_workload_has_a_check():
    """A workload added to the registry must be given a check here."""
    assert {w.name for w in bench.WORKLOADS} <= set(CHECKS)


def test_sweep(benchmark, full):
    from costx.sweeps import load_sweep_spec

    spec = load_sweep_spec("ddg_magazine_laser")
    trials = spec.trials if full else 500
    result = run(benchmark, costx.sweep, spec.scenario, spec.grid, trials=trials, seed=0,
                 rounds=1)  # fmt: skip
    benchmark.extra_info.update(trials=trials * len(result.points), points=len(result.points))
    assert len(result.table) == 12
    # Each point is the scenario with its overrides, simulated with the sweep's seed: the
    # first point equals a separate simulate() of it (exact moments, common random numbers).
    alone = simulate(result.scenarios[0], trials=trials, seed=0, keep_trials=False)
    assert alone.moments == result.moments(0)


@pytest.mark.parametrize("trials", [10_000, 100_000, 1_000_000, 10_000_000])
def test_scaling_trials(benchmark, full, trials):
    trials = trials if full else min(trials, 20_000)  # CI: each once, small
    result = run(benchmark, simulate, bench.single_layer(), trials=trials, seed=0,
                 keep_trials=False, rounds=1 if trials >= 1_000_000 else 3)  # fmt: skip
    benchmark.extra_info.update(trials=trials, threads=THREADS)
    check_closed_form(result)


@pytest.mark.parametrize("threats", [8, 64, 512])
@pytest.mark.parametrize("threads", sorted({1, THREADS}))
def test_scaling_threats(benchmark, full, threats, threads):
    """Magazine 1.5 rounds per threat: cost per trial should grow linearly in threats."""
    trials = (2_000_000 // threats) * 10 if full else 200
    result = run(benchmark, simulate, bench.single_layer(threats), trials=trials, seed=0,
                 threads=threads, keep_trials=False)  # fmt: skip
    benchmark.extra_info.update(trials=trials, threads=threads, threats=threats)
    s = result.summary()
    leakers, fired = bench.single_layer_exact(threats, round(1.5 * threats))
    assert abs(s.loc["leakers", "mean"] - leakers) < SE * s.loc["leakers", "std_error"]
    assert abs(s.loc["shots_sam", "mean"] - fired) < SE * s.loc["shots_sam", "std_error"]
