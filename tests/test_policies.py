"""The firing policies' required behaviour (docs/model.md, "Policies")."""

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


# -- preferential: a weapon-target pairing doctrine ---------------------------------------


def _preferential(raid, effectors, doctrine):
    data = scenario(raid, effectors, policy="preferential")
    data["doctrine"] = doctrine
    return data


def test_preferential_spends_no_interceptor_on_drones_the_laser_kills():
    """The laser is preferred against drones and can kill all ten in time: no interceptor
    round in any trial, every drone lased, the defense costs ten laser shots. Under
    layered the interceptor, reaching farther, fires at nearly every drone first."""
    effectors = _raid("layered", 10, 600.0, 1.0)["effectors"]
    raid = [threat("drone", 10, arrival="uniform", window_s=600.0)]
    pref = costx.simulate(
        _preferential(raid, effectors, {"drone": ["las", "sm2"]}), trials=TRIALS, seed=1
    ).trials
    assert (pref["shots_sm2"] == 0).all()
    assert (pref["kills_las"] == 10).all() and (pref["leaked"] == 0).all()
    assert pref["defense_cost_usd"].max() == 10 * 10.0
    layered = costx.simulate(_raid("layered", 10, 600.0, 1.0), trials=TRIALS, seed=1).trials
    assert layered["shots_sm2"].mean() > 10


@pytest.mark.parametrize(
    ("count", "window_s", "availability"),
    [(60, 60.0, 1.0), (60, 60.0, 0.7), (30, 0.0, 0.9)],
)
def test_preferential_backs_up_a_saturated_laser_and_leaks_no_more_than_layered(
    count, window_s, availability
):
    """More drones than the laser can kill in time, sometimes no laser at all (weather):
    the interceptor takes the rest. Paired comparison (same seed): the mean per-trial
    difference in leakers must not exceed 5 standard errors of that mean, and the
    defense must cost less than under layered."""
    base = _raid("layered", count, window_s, availability)
    layered = costx.simulate(base, trials=TRIALS, seed=2).trials
    pref = costx.simulate(
        _preferential(base["threats"], base["effectors"], {"drone": ["las", "sm2"]}),
        trials=TRIALS,
        seed=2,
    ).trials
    assert pref["kills_las"].mean() < count - 1  # the laser is saturated ...
    assert pref["shots_sm2"].mean() > 1  # ... so the interceptor fires
    assert pref["defense_cost_usd"].mean() < layered["defense_cost_usd"].mean()
    diff = pref["leaked"].to_numpy(float) - layered["leaked"].to_numpy(float)
    se = diff.std(ddof=1) / math.sqrt(TRIALS)
    assert diff.mean() <= 5 * se + 1e-12


def test_preferential_engages_only_with_the_effectors_a_group_lists():
    """drone = ["las"] alone: the interceptor never fires at drones, even when the laser is
    saturated and they leak; it still defends the group that lists it."""
    raid = [
        threat("drone", 60, arrival="uniform", window_s=60.0),
        threat("jet", 2, speed_mps=250.0, detect_range_km=60.0, kill_fluence_j_cm2=None),
    ]
    effectors = [interceptor(pk={"drone": 0.8, "jet": 0.9}, rounds=400, channels=4), laser()]
    doctrine = {"drone": ["las"], "jet": ["sm2"]}
    trials = costx.simulate(_preferential(raid, effectors, doctrine), trials=500, seed=3).trials
    assert (trials["kills_sm2"] <= 2).all() and (trials["shots_sm2"] > 0).all()
    assert (trials["shots_sm2"] <= 2 * 2).all()  # two jets, shoot-look-shoot at most
    backed = costx.simulate(
        _preferential(raid, effectors, {"drone": ["las", "sm2"], "jet": ["sm2"]}),
        trials=500,
        seed=3,
    ).trials
    assert trials["leaked_drone"].mean() > 1 > backed["leaked_drone"].mean()


def test_preferential_backs_up_an_uncertain_cheap_gun():
    """A gun (pk 0.3) preferred against drones, the interceptor behind it: the interceptor
    holds fire only while the gun would be assessed before its own last chance, so the
    expensive rounds go down and leakage stays no worse than layered."""
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
    raid = [threat("drone", 16, arrival="uniform", window_s=300.0)]
    lay = costx.simulate(scenario(raid, effectors), trials=TRIALS, seed=4).trials
    pref = costx.simulate(
        _preferential(raid, effectors, {"drone": ["gun", "sm2"]}), trials=TRIALS, seed=4
    ).trials
    assert pref["shots_sm2"].mean() < 0.8 * lay["shots_sm2"].mean()
    assert pref["shots_gun"].mean() > lay["shots_gun"].mean()
    diff = pref["leaked"].to_numpy(float) - lay["leaked"].to_numpy(float)
    se = diff.std(ddof=1) / math.sqrt(TRIALS)
    assert diff.mean() <= 5 * se + 1e-12
    # With the interceptor alone listed (first), preferential is layered, trial by trial.
    alone = _preferential(raid, effectors, {"drone": ["sm2"]})
    alone["effectors"] = alone["effectors"][:1]
    np.testing.assert_array_equal(
        costx.simulate(scenario(raid, effectors[:1]), trials=500, seed=4).trials["leaked"],
        costx.simulate(alone, trials=500, seed=4).trials["leaked"],
    )


def test_red_sea_laser_saves_under_preferential_and_not_under_layered():
    """The issue's complaint: under layered red_sea_2024_laser costs what red_sea_2024
    costs; under the bundled preferential doctrine the laser takes the drones."""

    def cost(name, policy):
        data = costx.load_scenario(name).to_dict()
        data["scenario"]["policy"] = policy
        return costx.simulate(data, trials=2000, seed=5).trials["defense_cost_usd"].mean()

    assert cost("red_sea_2024_laser", "layered") > 0.95 * cost("red_sea_2024", "layered")
    assert cost("red_sea_2024_laser", "preferential") < 0.7 * cost("red_sea_2024", "preferential")


def _cheaper_by_rule(can, cpk, active):
    """The effectors a hold of e on a threat of group g asks about, from docs/model.md
    ("Policies") directly: every other active effector that can engage g, can kill it
    (finite cost per kill) and is cheaper against it (ties: the lower index); and, per e,
    every effector so asked about for some group e can engage."""
    n_eff, n_groups = can.shape
    lists = {}
    for e in range(n_eff):
        for g in range(n_groups):
            lists[e, g] = [
                c for c in range(n_eff)
                if c != e and active[c] and can[c, g] and math.isfinite(cpk[c, g])
                and (cpk[c, g] < cpk[e, g] or (cpk[c, g] == cpk[e, g] and c < e))
            ]  # fmt: skip
        lists[e, n_groups] = sorted({c for g in range(n_groups) if can[e, g] for c in lists[e, g]})
    return lists


def test_the_cheaper_lists_are_the_hold_rule():
    """The engine finds the effectors a hold asks about from lists made once a salvo
    (kernels/engagement.py, ``_cheaper``), in the order of their index, instead of testing
    every effector at every hold. 3,000 random cases (costs with ties and infinities,
    effectors inactive, groups they cannot engage) against the rule written out above:
    every list, and its order, must be the rule's."""
    from costx.kernels import engagement as K

    rng = np.random.default_rng(11)
    for _ in range(3000):
        n_eff, n_groups = int(rng.integers(1, 7)), int(rng.integers(1, 5))
        can = rng.random((n_eff, n_groups)) < 0.7
        cpk = rng.choice([1.0, 2.0, 3.0, 5e5, math.inf], size=(n_eff, n_groups))
        active = (rng.random(n_eff) < 0.8).astype(np.uint8)
        cheap = np.full((n_eff, n_groups + 1, n_eff + 1), -7, np.int64)
        K._cheaper(can, cpk, active, cheap)
        for (e, g), want in _cheaper_by_rule(can, cpk, active).items():
            got = list(cheap[e, g, 1 : 1 + cheap[e, g, 0]])
            assert got == want, (e, g, can, cpk, active)
