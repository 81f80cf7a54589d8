"""Tests of the independent reference implementations themselves (tests/refimpl).

Before the references judge the kernel they are checked against published test vectors,
the validation.md V4 numbers, each other and numerical quadrature.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction

import numpy as np
import pytest
from kernel_helpers import splitmix64_next
from refimpl import closed_forms as cf
from refimpl import laser as rl
from refimpl import markov
from refimpl import rng as rr
from scenarios import laser
from scipy.integrate import quad

import costx
from costx.kernels import rng as krng

# -- random numbers -----------------------------------------------------------------------

SPLITMIX_VECTORS = {
    # Published SplitMix64 outputs (Vigna's splitmix64.c; also used by the Java/Rust ports).
    1234567: [
        6457827717110365317,
        3203168211198807973,
        9817491932198370423,
        4593380528125082431,
        16408922859458223821,
    ],
    0: [
        0xE220A8397B1DCDAF,
        0x6E789E6AA1B965F4,
        0x06C45D188009454F,
        0xF88BB8A8724C81EC,
        0x1B39896A51A8749B,
    ],
}


@pytest.mark.parametrize("seed", sorted(SPLITMIX_VECTORS))
def test_reference_splitmix64_matches_published_vectors(seed):
    gen = rr.SplitMix64(seed)
    assert [gen.next() for _ in range(5)] == SPLITMIX_VECTORS[seed]


@pytest.mark.parametrize("seed", sorted(SPLITMIX_VECTORS))
def test_kernel_splitmix64_matches_published_vectors(seed):
    # Numba boxes the uint64 results as Python ints; a Python int above 2**63 passed back
    # in would be typed int64 and wrap, so the state is re-wrapped as np.uint64 each step.
    state = np.uint64(seed)
    out = []
    for _ in range(5):
        state, value = splitmix64_next(state)
        state = np.uint64(state)
        out.append(int(value))
    assert out == SPLITMIX_VECTORS[seed]


def test_trial_key_is_splitmix_output_seeded_with_mix64_of_seed():
    """docs/model.md: the trial key is output number `trial` of SplitMix64(mix64(seed))."""
    for seed in (0, 1, 2**64 - 1, 123456789):
        gen = rr.SplitMix64(rr.mix64(seed))
        for trial in range(4):
            assert rr.trial_key(seed, trial) == gen.next()


def _random_u64(r: random.Random) -> int:
    return r.choice([0, 1, 2**63, 2**64 - 1, r.getrandbits(64)])


def test_kernel_rng_functions_agree_with_reference():
    """mix64, trial_key, event_counter and uniform of costx.kernels.rng, bit for bit."""
    r = random.Random(20240611)
    for _ in range(300):
        z = _random_u64(r)
        assert int(krng.mix64(np.uint64(z))) == rr.mix64(z)
        seed, trial = _random_u64(r), r.choice([0, 1, r.randrange(2**40)])
        key = rr.trial_key(seed, trial)
        assert int(krng.trial_key(np.uint64(seed), np.int64(trial))) == key
        fields = (
            r.randrange(1, 4),
            r.randrange(256),
            r.randrange(256),
            r.randrange(256),
            r.randrange(256),
            r.randrange(2**24),
        )
        counter = rr.event_counter(*fields)
        kcounter = krng.event_counter(*(np.uint64(f) for f in fields))
        assert int(kcounter) == counter
        u = krng.uniform(np.uint64(key), np.uint64(counter))
        assert float(u) == rr.uniform(key, counter)
        assert 0.0 <= rr.uniform(key, counter) < 1.0


def test_event_counter_layout():
    c = rr.event_counter(rr.KILL, 3, 2, 1, 5, 7)
    assert c == (2 << 56) | (3 << 48) | (2 << 40) | (1 << 32) | (5 << 24) | 7
    with pytest.raises(ValueError):
        rr.event_counter(rr.KILL, 256)
    with pytest.raises(ValueError):
        rr.event_counter(rr.KILL, j=2**24)


def test_reference_uniforms_look_uniform():
    """Mean and variance of 20,000 keyed uniforms within 5 standard errors of 1/2, 1/12."""
    key = rr.trial_key(7, 3)
    u = np.array([rr.uniform(key, rr.event_counter(rr.KILL, j=j)) for j in range(20_000)])
    assert abs(u.mean() - 0.5) < 5 * math.sqrt(1 / 12 / u.size)
    # Var of U^2 terms: E[(U-1/2)^4] - (1/12)^2 = 1/80 - 1/144.
    assert abs(u.var() - 1 / 12) < 5 * math.sqrt((1 / 80 - 1 / 144) / u.size)


# -- closed forms (validation.md V4) ------------------------------------------------------


def test_v4_numbers_at_p_0_7():
    p_kill, rounds = cf.salvo(0.7, 2)
    assert p_kill == pytest.approx(0.91, abs=1e-12) and rounds == 2.0
    p_kill, rounds = cf.shoot_look_shoot(0.7, 2)
    assert p_kill == pytest.approx(0.91, abs=1e-12) and rounds == pytest.approx(1.30, abs=1e-12)
    p_kill, rounds = cf.ss_l_ss(0.7)
    assert p_kill == pytest.approx(0.9919, abs=1e-12)
    assert rounds == pytest.approx(2.18, abs=1e-12)
    assert cf.layer_kill(0.7, 2, 0.95) == pytest.approx(0.8645, abs=1e-12)


def test_v4_two_layer_raid():
    leak = cf.layered_leak([(0.7, 2, 0.95), (0.6, 2, 0.9)])
    assert leak == pytest.approx(0.1355 * 0.244, abs=1e-12)
    assert round(leak, 5) == 0.03306
    expected, p_zero = cf.raid_leakers(leak, 20)
    assert round(expected, 3) == 0.661
    assert round(p_zero, 4) == 0.5105


@pytest.mark.parametrize("p", [0.5, 0.67, 0.83])
def test_general_doctrine_reduces_to_the_v4_rows(p):
    for m in (1, 2, 3):
        assert cf.doctrine(p, m, 1) == pytest.approx(cf.salvo(p, m), abs=1e-12)
    for n in (1, 2, 3, 4):
        assert cf.doctrine(p, 1, n) == pytest.approx(cf.shoot_look_shoot(p, n), abs=1e-12)
    assert cf.doctrine(p, 2, 2) == pytest.approx(cf.ss_l_ss(p), abs=1e-12)


def test_cost_per_kill():
    # c E[rounds] / P(kill) with SLS n=2 at p=0.7: 1.30 / 0.91 rounds per kill.
    assert cf.cost_per_kill(1e6, 0.7, 1, 2) == pytest.approx(1e6 * 1.30 / 0.91, rel=1e-12)


# -- Markov enumeration -------------------------------------------------------------------

DOCTRINES = [(1, 1), (2, 1), (1, 2), (2, 2), (3, 2), (1, 3)]  # (salvo_size, max_engagements)


@pytest.mark.parametrize(("salvo_size", "max_eng"), DOCTRINES)
def test_markov_distribution_sums_to_one_exactly(salvo_size, max_eng):
    for n_threats, magazine in [(1, 0), (1, 1), (3, 2), (4, 7), (5, 20)]:
        dist = markov.joint_distribution(n_threats, magazine, salvo_size, max_eng, Fraction(2, 3))
        assert sum(dist.values()) == 1
        assert all(0 <= leak <= n_threats and 0 <= r <= magazine for leak, r in dist)


@pytest.mark.parametrize("p", [0.5, 0.67, 0.83])
@pytest.mark.parametrize(("salvo_size", "max_eng"), DOCTRINES)
def test_markov_with_a_large_magazine_matches_the_closed_forms(p, salvo_size, max_eng):
    """With M >= N s n every threat gets its full doctrine: leakers ~ Bin(N, 1 - P(kill))."""
    n_threats = 4
    dist = markov.joint_distribution(
        n_threats, n_threats * salvo_size * max_eng, salvo_size, max_eng, p
    )
    p_kill, rounds = cf.doctrine(p, salvo_size, max_eng)
    el, vl, er, vr = markov.marginal_moments(dist)
    assert el == pytest.approx(n_threats * (1 - p_kill), abs=1e-12)
    assert vl == pytest.approx(n_threats * p_kill * (1 - p_kill), abs=1e-12)
    assert er == pytest.approx(n_threats * rounds, abs=1e-12)
    assert vr == pytest.approx(n_threats * cf.doctrine_rounds_variance(p, salvo_size, max_eng))
    for leakers in range(n_threats + 1):
        marginal = sum(w for (l_, _), w in dist.items() if l_ == leakers)
        binom = (
            math.comb(n_threats, leakers)
            * (1 - p_kill) ** leakers
            * p_kill ** (n_threats - leakers)
        )
        assert marginal == pytest.approx(binom, abs=1e-12)


def test_markov_small_magazine_by_hand():
    """Two threats, a magazine of 3, shoot-shoot (salvo 2): the second salvo is truncated."""
    p = Fraction(1, 2)
    q = 1 - p
    dist = markov.joint_distribution(2, 3, 2, 1, p)
    # Threat 1 always takes 2 rounds; threat 2 gets the last round alone.
    k1, k2 = 1 - q**2, 1 - q
    assert dist == {
        (0, 3): k1 * k2,
        (1, 3): k1 * (1 - k2) + (1 - k1) * k2,
        (2, 3): (1 - k1) * (1 - k2),
    }


def test_markov_shoot_look_shoot_runs_out():
    """SLS (n=2) with 2 threats and 2 rounds: a miss on threat 1 uses threat 2's round."""
    p = Fraction(3, 5)
    q = 1 - p
    dist = markov.joint_distribution(2, 2, 1, 2, p)
    assert dist[2, 2] == q * q  # threat 1 missed twice; threat 2 gets nothing
    assert dist[1, 2] == q * p + p * q  # one of the two threats leaks
    assert dist[0, 2] == p * p
    assert sum(dist.values()) == 1


# -- laser physics ------------------------------------------------------------------------


def _laser(**overrides):
    fields = laser(**{"retarget_s": 0.0, **overrides})  # tests/scenarios.py
    scenario = costx.load_scenario(
        {
            "scenario": {"name": "laser_only"},
            "threats": [
                {
                    "name": "d",
                    "count": 1,
                    "unit_cost_usd": 1.0,
                    "speed_mps": 50.0,
                    "detect_range_km": 10.0,
                    "kill_fluence_j_cm2": 1000.0,
                }
            ],
            "effectors": [fields],
        }
    )
    return scenario.effectors[0]


def test_spread_follows_the_contract_formula():
    las = _laser()
    theta_d = 1.5 * 1.064e-6 / (math.pi * 0.3 / 2)
    assert rl.spread_rad(las) == pytest.approx(
        math.sqrt(theta_d**2 + 5e-6**2 + 20e-6**2), rel=1e-15
    )
    assert rl.spread_rad(las) == pytest.approx(las.divergence_rad, rel=1e-14)


@pytest.mark.parametrize("extinction", [0.0, 1e-6, 0.2, 1.5])
@pytest.mark.parametrize(("r_to", "r_from"), [(0.2, 8.0), (1.0, 1.5), (3.0, 3.0001), (0.5, 30.0)])
def test_exact_fluence_matches_quadrature(extinction, r_to, r_from):
    las = _laser(extinction_per_km=extinction)
    v = 50.0
    numeric, _ = quad(
        lambda r: rl.irradiance_w_cm2(las, r) * 1000.0 / v, r_to, r_from, epsabs=0, epsrel=1e-13
    )
    assert rl.fluence_j_cm2(las, v, r_from, r_to) == pytest.approx(numeric, rel=1e-10)


def test_kill_range_and_dwell():
    las = _laser()
    v, fluence = 50.0, 1000.0
    r_kill = rl.kill_range_km(las, v, fluence, 6.0)
    assert las.min_range_km < r_kill < 6.0
    assert rl.fluence_j_cm2(las, v, 6.0, r_kill) == pytest.approx(fluence, rel=1e-12)
    assert rl.dwell_s(las, v, fluence, 6.0) == pytest.approx(1000 * (6.0 - r_kill) / v, rel=1e-15)
    r_last = rl.last_start_range_km(las, v, fluence)
    assert rl.fluence_j_cm2(las, v, r_last, las.min_range_km) == pytest.approx(fluence, rel=1e-12)
    assert rl.kill_range_km(las, v, fluence, r_last * (1 - 1e-9)) is None
    assert rl.kill_range_km(las, v, fluence, r_last * (1 + 1e-9)) >= las.min_range_km
    # Hopeless even from the maximum range:
    huge = rl.fluence_j_cm2(las, v, las.max_range_km, las.min_range_km) * 1.001
    assert rl.last_start_range_km(las, v, huge) is None


@pytest.mark.parametrize("extinction", [0.0, 0.3])
def test_ode_integrator_agrees_with_the_exact_dwell(extinction):
    """RK4 on dF/dt = I(R(t)) with dt = 1 ms reproduces the exp1/brentq dwell to 1e-9."""
    las = _laser(extinction_per_km=extinction)
    for v, fluence, r0 in [(50.0, 1000.0, 6.0), (200.0, 300.0, 8.0), (30.0, 5000.0, 2.0)]:
        exact = rl.dwell_s(las, v, fluence, r0)
        t, f = rl.integrate_fluence_ode(las, v, r0, fluence, 1e9, 1e-3)
        assert f == fluence
        assert t == pytest.approx(exact, rel=1e-9)


def test_timeline_integrator_reproduces_a_hand_schedule():
    """One unit, two simultaneous threats: kill the first, retarget, kill the second."""
    las = {
        "name": "las",
        "kind": "laser",
        "power_kw": 100.0,
        "aperture_m": 0.5,
        "wavelength_um": 1.064,
        "jitter_urad": 50.0,
        "max_range_km": 5.0,
        "min_range_km": 0.5,
        "retarget_s": 2.0,
        "cost_per_shot_usd": 1.0,
    }
    threat = {
        "name": "d",
        "count": 2,
        "unit_cost_usd": 1.0,
        "speed_mps": 100.0,
        "detect_range_km": 5.0,
        "kill_fluence_j_cm2": 300.0,
    }
    scenario = costx.load_scenario(
        {"scenario": {"name": "hand"}, "threats": [threat], "effectors": [las]}
    )
    las = scenario.effectors[0]
    result = rl.simulate_laser_raid(scenario, dt=1e-3)
    d1 = rl.dwell_s(las, 100.0, 300.0, 5.0)
    r2 = 5.0 - 100.0 * (d1 + 2.0) / 1000.0
    d2 = rl.dwell_s(las, 100.0, 300.0, r2)
    assert result.kills == [2] and result.shots == [2] and result.leaked == [0]
    (_, _, _, s1, e1, k1), (_, _, _, s2, e2, k2) = result.engagements
    assert k1 and k2 and s1 == 0.0
    assert e1 == pytest.approx(d1, rel=1e-9)
    assert s2 == pytest.approx(d1 + 2.0, rel=1e-9)
    assert e2 - s2 == pytest.approx(d2, rel=1e-9)
