"""Engagement realism (issue 15): round reliability, common-mode failure, kill probability
by meeting range and the radar horizon (docs/model.md, "Threats" and "Kinetic effectors").

Stochastic checks compare fixed-seed simulations with closed forms (validation.md V3/V4
and refimpl.closed_forms) within 5 standard errors of the simulated mean, the standard
error taken from the exact distribution; each group has a power check that the same
comparison fails on a deliberately wrong input. Deterministic checks (the radar horizon)
probe a threshold from both sides. The trial-by-trial comparison with the reference
event simulation (tests/test_kernel_reference.py) draws every new field as well.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from refimpl import closed_forms as cf
from scenarios import interceptor, scenario, threat

import costx
from costx.kernels import engagement as K
from costx.lowering import lower

TRIALS = 40_000
SEED = 11


def one_threat(salvo_size=1, max_engagements=1, **effector) -> dict:
    """One threat at 100 m/s seen at 60 km; a 1000 m/s interceptor that reaches 100 km.

    Every engagement of the doctrine fits easily (each takes under a minute; after three
    the threat is still beyond 40 km), so only the kill draws decide. The first round is
    fired at detection and meets the threat at 60 x 1000 / 1100 = 54.55 km.
    """
    fields = {
        "pk": {"d": 0.7},
        "rounds": 1000,
        "speed_mps": 1000.0,
        "max_range_km": 100.0,
        "min_range_km": 0.5,
        "channels": 1,
        "fire_interval_s": 1.0,
        "salvo_size": salvo_size,
        "max_engagements": max_engagements,
        "assess_s": 1.0,
    }
    fields.update(effector)
    return scenario(
        [threat("d", 1, speed_mps=100.0, detect_range_km=60.0, arrival="simultaneous")],
        [interceptor("k", **fields)],
    )


def kill_rate_within_5_se(data: dict, expected: float, trials: int = TRIALS, seed: int = SEED):
    """(simulated kill rate, |error| <= 5 sqrt(P(1 - P) / n))."""
    kills = costx.simulate(data, trials=trials, seed=seed).trials["kills_k"]
    rate = float(kills.mean())
    se = math.sqrt(expected * (1 - expected) / trials)
    return rate, abs(rate - expected) <= 5 * se


# -- reliability and common-mode failure: closed forms -----------------------------------


@pytest.mark.parametrize(("reliability", "pk"), [(0.8, 0.7), (0.5, 0.9), (0.95, 0.5)])
def test_a_round_kills_with_reliability_times_pk(reliability, pk):
    """One round: P(kill) = r p (40,000 trials, 5 standard errors)."""
    rate, ok = kill_rate_within_5_se(
        one_threat(pk={"d": pk}, reliability=reliability), reliability * pk
    )
    assert ok, (rate, reliability * pk)


@pytest.mark.parametrize("rounds", [2, 3])
@pytest.mark.parametrize("common", [0.0, 0.1, 0.3])
def test_shoot_shoot_with_and_without_common_mode_failure(rounds, common):
    """A salvo of n: P(kill) = (1 - c)(1 - (1 - r p)^n), every round spent every time."""
    r, p = 0.9, 0.6
    expected = (1 - common) * (1 - (1 - r * p) ** rounds)
    data = one_threat(rounds, 1, pk={"d": p}, reliability=r, common_mode_failure=common)
    trials = costx.simulate(data, trials=TRIALS, seed=SEED).trials
    rate = trials["kills_k"].mean()
    assert abs(rate - expected) <= 5 * math.sqrt(expected * (1 - expected) / TRIALS), rate
    assert (trials["shots_k"] == rounds).all()


def test_validation_md_common_mode_vectors():
    """V4: a salvo of 2 at p = 0.7 with T = 0.95 kills with 0.8645; V3: K(n=2, T=0.9,
    p=0.9) = 0.891 (T = 1 - common_mode_failure). Closed form exactly, kernel within 5 SE."""
    assert cf.engagement_kill(0.7, 2, common=0.05) == pytest.approx(0.8645, abs=5e-5)
    assert cf.engagement_kill(0.9, 2, common=0.1) == pytest.approx(0.891, abs=5e-4)
    for p, common, expected in [(0.7, 0.05, 0.8645), (0.9, 0.1, 0.891)]:
        rate, ok = kill_rate_within_5_se(
            one_threat(2, 1, pk={"d": p}, common_mode_failure=common), expected
        )
        assert ok, (rate, expected)


@pytest.mark.parametrize(("salvo_size", "max_engagements"), [(1, 2), (2, 2), (1, 3)])
def test_look_shoot_doctrines_with_failures(salvo_size, max_engagements):
    """Up to n engagements of s rounds, each killing with K = (1 - c)(1 - (1 - rp)^s): the
    common-mode failure is drawn per engagement, so a look can recover from it.
    P(kill) and E[rounds] within 5 standard errors of the exact values."""
    p, r, c = 0.7, 0.85, 0.2
    p_kill, rounds, var = cf.doctrine_with_failures(p, salvo_size, max_engagements, r, c)
    data = one_threat(
        salvo_size, max_engagements, pk={"d": p}, reliability=r, common_mode_failure=c
    )
    trials = costx.simulate(data, trials=TRIALS, seed=SEED).trials
    assert abs(trials["kills_k"].mean() - p_kill) <= 5 * math.sqrt(p_kill * (1 - p_kill) / TRIALS)
    assert abs(trials["shots_k"].mean() - rounds) <= 5 * math.sqrt(var / TRIALS)


def test_reliability_check_has_power():
    """The same 5-SE check rejects r p when the kernel ignores a reliability of 0.9."""
    rate, ok = kill_rate_within_5_se(one_threat(pk={"d": 0.7}), 0.9 * 0.7)
    assert not ok, rate
    rate, ok = kill_rate_within_5_se(
        one_threat(2, 1, pk={"d": 0.7}), cf.engagement_kill(0.7, 2, common=0.05)
    )
    assert not ok, rate


def test_v4_two_layer_raid_with_common_mode_factors():
    """validation.md V4: an upper layer (p 0.7, two rounds, T 0.95) and a lower layer (p 0.6,
    two rounds, T 0.9) leak 0.03306 of the threats; a raid of 20 leaks 0.661 on average
    and none with probability 0.5105. Threats 1,000 s apart, so layers never compete;
    the upper layer engages at detection, the lower one after the upper's assessment.
    Both layered and preferential (upper first, lower second) must give it.
    """
    upper = interceptor(
        "upper", pk={"d": 0.7}, rounds=1000, channels=1, max_range_km=100.0,
        min_range_km=20.0, salvo_size=2, max_engagements=1, common_mode_failure=0.05,
    )  # fmt: skip
    lower_layer = interceptor(
        "lower", pk={"d": 0.6}, rounds=1000, channels=1, max_range_km=10.0,
        min_range_km=0.5, salvo_size=2, max_engagements=1, common_mode_failure=0.1,
    )  # fmt: skip
    raid = threat("d", 20, speed_mps=100.0, detect_range_km=60.0, window_s=20_000.0)
    leak = cf.layered_leak([(0.7, 2, 0.95), (0.6, 2, 0.9)])
    mean, p_zero = cf.raid_leakers(leak, 20)
    assert (round(leak, 5), round(mean, 3), round(p_zero, 4)) == (0.03306, 0.661, 0.5105)
    for policy in ("layered", "preferential"):
        data = scenario([raid], [upper, lower_layer], policy=policy)
        data["doctrine"] = {"d": ["upper", "lower"]}
        leaked = costx.simulate(data, trials=TRIALS, seed=SEED).trials["leaked"]
        assert abs(leaked.mean() - mean) <= 5 * math.sqrt(20 * leak * (1 - leak) / TRIALS)
        zero = (leaked == 0).mean()
        assert abs(zero - p_zero) <= 5 * math.sqrt(p_zero * (1 - p_zero) / TRIALS)


def test_lower_reliability_only_removes_kills_trial_by_trial():
    """Common random numbers: the kill draw of a round does not move when a reliability
    draw is added, so with r < 1 a trial kills only if it killed with r = 1."""
    full = costx.simulate(one_threat(2, 2), trials=5000, seed=3).trials["kills_k"].to_numpy()
    part = costx.simulate(one_threat(2, 2, reliability=0.7), trials=5000, seed=3).trials
    assert (part["kills_k"].to_numpy() <= full).all()
    assert part["kills_k"].sum() < full.sum()


def test_default_values_written_out_change_nothing():
    """reliability = 1 and common_mode_failure = 0 written in the file draw nothing more:
    the trials are bit-identical, and the fields are left out of to_dict() as defaults."""
    plain = costx.simulate(one_threat(2, 2), trials=2000, seed=5).trials
    written = one_threat(2, 2, reliability=1.0, common_mode_failure=0.0, pk_by_range={})
    again = costx.simulate(written, trials=2000, seed=5).trials
    assert plain.equals(again)
    effector = costx.load_scenario(written).to_dict()["effectors"][0]
    assert not {"reliability", "common_mode_failure", "pk_by_range"} & set(effector)


# -- kill probability by meeting range -----------------------------------------------------

FIRST_MEET_KM = 60.0 * 1000.0 / 1100.0  # the first round's meeting range in one_threat()


@pytest.mark.parametrize(
    ("curve", "expected"),
    [
        pytest.param([[44.5454, 0.9], [64.5454, 0.3]], 0.6, id="halfway between points"),
        pytest.param([[10.0, 0.2], [30.0, 0.45]], 0.45, id="beyond the last point"),
        pytest.param([[60.0, 0.8], [90.0, 0.1]], 0.8, id="before the first point"),
        pytest.param([[20.0, 0.35]], 0.35, id="one point: constant"),
    ],
)
def test_pk_by_range_is_linear_in_the_meeting_range(curve, expected):
    """One round meeting the threat at 54.55 km: pk from the curve (linear between its
    points, constant beyond the ends), which replaces the scalar pk of 0.05."""
    if len(curve) == 2 and curve[0][0] < FIRST_MEET_KM < curve[1][0]:
        (r0, p0), (r1, p1) = curve
        expected = p0 + (p1 - p0) * (FIRST_MEET_KM - r0) / (r1 - r0)
    data = one_threat(pk={"d": 0.05}, pk_by_range={"d": curve})
    rate, ok = kill_rate_within_5_se(data, expected)
    assert ok, (rate, expected)


def test_pk_by_range_uses_each_rounds_own_meeting_range():
    """Shoot-look-shoot: the second round is fired after the first is assessed, closer in,
    so it kills with the curve's value at its own meeting range:
    P(kill) = 1 - (1 - pk(R1)) (1 - pk(R2)), R1 = 54.55 km; the look comes 1 s after the
    first round meets the threat, at t = 55.55 s, when the threat is at 54.45 km, so the
    second round meets it at R2 = 54.45 x 1000 / 1100 km."""
    curve = [[40.0, 0.2], [60.0, 0.8]]

    def pk(r):
        return 0.2 + 0.6 * (r - 40.0) / 20.0

    t_look = FIRST_MEET_KM * 1000.0 / 1000.0 + 1.0  # flight of round 1 (s) + assessment
    r2 = (60.0 - 100.0 * t_look / 1000.0) * 1000.0 / 1100.0
    expected = 1 - (1 - pk(FIRST_MEET_KM)) * (1 - pk(r2))
    rate, ok = kill_rate_within_5_se(one_threat(1, 2, pk_by_range={"d": curve}), expected)
    assert ok, (rate, expected)
    # Power: with the first round's pk for both rounds the check fails.
    wrong = 1 - (1 - pk(FIRST_MEET_KM)) ** 2
    assert abs(wrong - expected) > 5 * math.sqrt(expected * (1 - expected) / TRIALS)
    rate_flat, ok_flat = kill_rate_within_5_se(
        one_threat(1, 2, pk={"d": pk(FIRST_MEET_KM)}), expected
    )
    assert not ok_flat, rate_flat


def test_pk_by_range_check_has_power():
    """Halfway between the points the curve gives 0.6; either end's pk (0.9, 0.3) fails."""
    data = one_threat(pk_by_range={"d": [[44.5454, 0.9], [64.5454, 0.3]]})
    assert not kill_rate_within_5_se(data, 0.9)[1]
    assert not kill_rate_within_5_se(data, 0.3)[1]


def test_pk_by_range_engages_only_where_the_curve_is_above_zero_in_the_envelope():
    """The curve's best value inside [min_range, max_range] decides whether the effector
    engages the group at all (and cost_aware's cost per kill)."""
    zero_inside = one_threat(max_range_km=50.0, pk_by_range={"d": [[60.0, 0.0], [80.0, 0.9]]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scenario_ = costx.load_scenario(zero_inside)
    assert any("no effector can engage it" in str(w.message) for w in caught)
    assert lower(scenario_).can[0, 0] == 0
    effector = costx.load_scenario(one_threat(pk_by_range={"d": [[30.0, 0.2], [150.0, 0.8]]}))
    assert effector.effectors[0].best_pk("d") == pytest.approx(0.2 + 0.6 * 70.0 / 120.0)


# -- radar horizon -------------------------------------------------------------------------

HEIGHT_M, ALTITUDE_M = 25.0, 10.0
HORIZON_KM = 4.12 * (math.sqrt(HEIGHT_M) + math.sqrt(ALTITUDE_M))  # 33.63 km


def horizon_scenario(min_range_km: float, sensor: bool = True, altitude: float | None = ALTITUDE_M):
    """A sea skimmer (250 m/s) that an unlimited sensor would see at 100 km, against an
    interceptor (1000 m/s, pk 1) whose first round, fired at detection from range R,
    meets it at 0.8 R: it can engage only if 0.8 x detection range >= min_range_km."""
    data = scenario(
        [
            threat(
                "d", 1, speed_mps=250.0, detect_range_km=100.0, arrival="simultaneous",
                start_s=10.0, altitude_m=altitude,
            )
        ],
        [interceptor("k", pk={"d": 1.0}, max_range_km=200.0, min_range_km=min_range_km)],
    )  # fmt: skip
    if sensor:
        data["sensor"] = {"height_m": HEIGHT_M}
    return data


def test_radar_horizon_shortens_detection_exactly():
    """Detection at 4.12 (sqrt(25) + sqrt(10)) = 33.63 km instead of 100 km: an interceptor
    whose minimum range needs the threat seen 1e-6 farther out never fires, one that needs
    it 1e-6 closer kills it; without the sensor both fire (the threat is seen at 100 km)."""
    threshold = 0.8 * HORIZON_KM
    outcomes = {}
    for factor in (1 - 1e-6, 1 + 1e-6):
        for sensor in (True, False):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                data = horizon_scenario(threshold * factor, sensor)
                row = costx.simulate(data, trials=1, seed=0).trials.iloc[0]
            outcomes[factor < 1, sensor] = (int(row["shots_k"]), int(row["kills_k"]))
    assert outcomes == {
        (True, True): (1, 1),
        (False, True): (0, 0),
        (True, False): (1, 1),
        (False, False): (1, 1),
    }


def test_radar_horizon_delays_detection_and_keeps_the_impact_time():
    """The lowered threat is seen at the horizon, (100 - H) / 250 m/s later than it crosses
    100 km, so it impacts when it would have; Scenario.detection_range_km says the same."""
    loaded = costx.load_scenario(horizon_scenario(1.0))
    arrays = lower(loaded)
    assert arrays.threat_f[0, K.TF_RANGE_KM] == HORIZON_KM
    assert loaded.detection_range_km(loaded.threats[0]) == HORIZON_KM
    start = arrays.threat_f[0, K.TF_START_S]
    assert start == 10.0 + (100.0 - HORIZON_KM) * 1e3 / 250.0
    impact = start + arrays.threat_f[0, K.TF_RANGE_KM] * 1e3 / 250.0
    assert impact == pytest.approx(10.0 + 100.0 * 1e3 / 250.0, rel=1e-14)


def test_a_horizon_beyond_the_detection_range_changes_nothing():
    """A high flier (10 km altitude: horizon 433 km) is seen at detect_range_km as before:
    the lowered arrays and the trials equal those without the sensor."""
    high = horizon_scenario(1.0, altitude=10_000.0)
    plain = horizon_scenario(1.0, sensor=False, altitude=None)
    assert np.array_equal(
        lower(costx.load_scenario(high)).threat_f, lower(costx.load_scenario(plain)).threat_f
    )


def test_horizon_fields_alone_warn_and_change_nothing():
    """altitude_m without a [sensor], or a [sensor] without any altitude_m, has no effect
    and says so on loading."""
    lone_altitude = horizon_scenario(1.0, sensor=False)
    with pytest.warns(costx.CostxWarning, match="altitude_m has no effect"):
        costx.load_scenario(lone_altitude)
    lone_sensor = horizon_scenario(1.0, altitude=None)
    with pytest.warns(costx.CostxWarning, match="sensor.height_m has no effect"):
        costx.load_scenario(lone_sensor)
    plain = horizon_scenario(1.0, sensor=False, altitude=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for data in (lone_altitude, lone_sensor):
            assert np.array_equal(
                lower(costx.load_scenario(data)).threat_f,
                lower(costx.load_scenario(plain)).threat_f,
            )
