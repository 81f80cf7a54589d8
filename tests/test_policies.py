"""The two firing policies' required behaviour (docs/model.md, "Policies")."""

import math

import numpy as np
import pytest
from scenarios import interceptor, laser, scenario, threat

import costx

TRIALS = 4000


def _raid(policy: str, count: int, window_s: float, availability: float, units: int = 1):
    return scenario(
        [threat("drone", count, arrival="uniform", window_s=window_s)],
        [
            interceptor(pk={"drone": 0.8}, rounds=400, channels=4),
            laser(availability=availability, units=units),
        ],
        policy=policy,
    )


def test_cost_aware_fires_no_interceptor_at_a_raid_the_laser_alone_can_kill():
    """Ten drones spread over ten minutes: one laser kills each in time (no leak either way)."""
    layered = costx.simulate(_raid("layered", 10, 600.0, 1.0), trials=TRIALS, seed=1).trials
    aware = costx.simulate(_raid("cost_aware", 10, 600.0, 1.0), trials=TRIALS, seed=1).trials
    assert (layered["leaked"] == 0).all() and (aware["leaked"] == 0).all()
    assert layered["shots_sm2"].mean() > 10  # layered: the interceptor fires first, far out
    assert (aware["shots_sm2"] == 0).all()
    assert (aware["kills_las"] == 10).all()
    assert aware["defense_cost_usd"].max() == 10 * 10.0


@pytest.mark.parametrize(
    ("count", "window_s", "availability"),
    [(60, 60.0, 1.0), (60, 60.0, 0.7), (30, 0.0, 0.9)],
)
def test_cost_aware_leaks_no_more_than_layered_against_a_saturating_raid(
    count, window_s, availability
):
    """More drones than the laser can kill in time: the interceptor must take the rest.

    Paired comparison (same seed, common random numbers): the mean of the per-trial
    difference in leakers must not exceed 5 standard errors of that mean.
    """
    layered = costx.simulate(
        _raid("layered", count, window_s, availability), trials=TRIALS, seed=2
    ).trials
    aware = costx.simulate(
        _raid("cost_aware", count, window_s, availability), trials=TRIALS, seed=2
    ).trials
    assert aware["kills_las"].mean() < count - 1  # the laser is saturated ...
    assert aware["shots_sm2"].mean() > 1  # ... so the interceptor fires
    assert aware["defense_cost_usd"].mean() < layered["defense_cost_usd"].mean()
    diff = aware["leaked"].to_numpy(float) - layered["leaked"].to_numpy(float)
    se = diff.std(ddof=1) / math.sqrt(TRIALS)
    assert diff.mean() <= 5 * se + 1e-12


def test_cost_aware_backs_up_an_uncertain_cheaper_kinetic_effector():
    """A cheap gun (pk 0.3) is cheaper than the interceptor against drones; the interceptor
    holds fire only while the gun's engagement would be assessed before its own last chance,
    so leakage stays no worse than layered while the expensive rounds fired go down."""
    effectors = [
        interceptor(pk={"drone": 0.8}, rounds=200, channels=2),
        {
            "name": "gun",
            "kind": "railgun",
            "rounds": 400,
            "cost_per_shot_usd": 20_000.0,
            "rate_per_min": 20.0,
            "speed_mps": 1500.0,
            "max_range_km": 10.0,
            "min_range_km": 0.5,
            "pk": {"drone": 0.3},
            "salvo_size": 2,
            "max_engagements": 2,
            "assess_s": 1.0,
        },
    ]
    threats = [threat("drone", 16, arrival="uniform", window_s=300.0)]
    lay = costx.simulate(scenario(threats, effectors), trials=TRIALS, seed=4).trials
    aware = costx.simulate(
        scenario(threats, effectors, policy="cost_aware"), trials=TRIALS, seed=4
    ).trials
    assert aware["shots_sm2"].mean() < 0.8 * lay["shots_sm2"].mean()
    assert aware["shots_gun"].mean() > lay["shots_gun"].mean()
    diff = aware["leaked"].to_numpy(float) - lay["leaked"].to_numpy(float)
    se = diff.std(ddof=1) / math.sqrt(TRIALS)
    assert diff.mean() <= 5 * se + 1e-12
    # Without a cheaper effector in range, both policies agree trial by trial.
    alone = [effectors[0]]
    np.testing.assert_array_equal(
        costx.simulate(scenario(threats, alone), trials=500, seed=4).trials["leaked"],
        costx.simulate(scenario(threats, alone, policy="cost_aware"), trials=500, seed=4).trials[
            "leaked"
        ],
    )
