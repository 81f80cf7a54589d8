"""mixed_raid (the bundled ship scenario, every policy), the air-base campaign, a bundled
sweep, and the scaling of cost per trial with trials, threats (per policy) and threads."""

import numba
import pytest
from benchutil import run

import costx
from costx import bench
from costx.simulation import simulate

THREADS = numba.config.NUMBA_NUM_THREADS


@pytest.mark.parametrize("policy", ["layered", "preferential", "cost_aware"])
def test_mixed_raid(benchmark, full, policy):
    data = costx.load_scenario("ddg_mixed_raid").to_dict()
    data["scenario"]["policy"] = policy
    full_trials = {"layered": 1_000_000, "preferential": 200_000}.get(policy, 20_000)
    trials = full_trials if full else 2_000
    result = run(benchmark, simulate, data, trials=trials, seed=0, keep_trials=False)
    benchmark.extra_info.update(trials=trials, threads=THREADS, policy=policy)
    assert result.summary().loc["leakers", "mean"] >= 0


def test_campaign(benchmark, full):
    trials = 200_000 if full else 1_000
    result = run(benchmark, simulate, "pacific_airbase", trials=trials, seed=0,
                 keep_trials=False)  # fmt: skip
    benchmark.extra_info.update(trials=trials, threads=THREADS)
    assert result.summary().loc["runway_closed_h", "mean"] >= 0


def test_sweep(benchmark, full):
    from costx.sweeps import load_sweep_spec

    spec = load_sweep_spec("ddg_magazine_laser")
    trials = spec.trials if full else 500
    result = run(benchmark, costx.sweep, spec.scenario, spec.grid, trials=trials, seed=0,
                 rounds=1)  # fmt: skip
    benchmark.extra_info.update(trials=trials * len(result.points), points=len(result.points))
    assert len(result.table) == 12


@pytest.mark.parametrize("trials", [10_000, 100_000, 1_000_000, 10_000_000])
def test_scaling_trials(benchmark, full, trials):
    trials = trials if full else min(trials, 20_000)  # CI: each once, small
    run(benchmark, simulate, bench.single_layer(), trials=trials, seed=0, keep_trials=False,
        rounds=1 if trials >= 1_000_000 else 3)  # fmt: skip
    benchmark.extra_info.update(trials=trials, threads=THREADS)


@pytest.mark.parametrize("threats", [8, 64, 512])
@pytest.mark.parametrize("threads", sorted({1, THREADS}))
def test_scaling_threats(benchmark, full, threats, threads):
    """Magazine 1.5 rounds per threat: cost per trial should grow linearly in threats."""
    trials = (2_000_000 // threats) * 10 if full else 200
    run(benchmark, simulate, bench.single_layer(threats), trials=trials, seed=0,
        threads=threads, keep_trials=False)  # fmt: skip
    benchmark.extra_info.update(trials=trials, threads=threads, threats=threats)


@pytest.mark.parametrize("threats", [8, 64, 512])
@pytest.mark.parametrize("policy", ["layered", "preferential"])
def test_policy_scaling(benchmark, full, threats, policy):
    """Drones at a constant density against a laser, a gun and an interceptor: cost per
    trial should grow linearly in threats under both policies (preferential decides from
    each preferred effector's own state, never replanning queues)."""
    trials = (400_000 // threats) * 10 if full else 100
    result = run(benchmark, simulate, bench.drone_raid(threats, policy), trials=trials, seed=0,
                 keep_trials=False)  # fmt: skip
    benchmark.extra_info.update(trials=trials, threads=THREADS, threats=threats, policy=policy)
    assert result.summary().loc["leakers", "mean"] >= 0
