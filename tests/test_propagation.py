"""Issue 14's laser propagation, lethality and railgun physics against independent checks.

* The propagation formula (costx.physics, used by lowering) against the reference written
  from docs/model.md (tests/refimpl/laser.py), and its properties: exactly the old
  fixed-spread formula without the new fields; irradiance falling with range; doubling the
  power less than doubles the irradiance once thermal blooming is on.
* The kernel's interpolated fluence tables against scipy quadrature.
* ``costx.dwell_time`` against the kernel's kill times (the lasing-time threshold at
  +/- 0.1 %) and against the reference.
* The railgun drag profile against an ODE solution (scipy solve_ivp) to 1e-6; the kill
  probability falling with time of flight and the weather-state draw against closed forms
  (Monte Carlo, tolerance 5 standard errors, fixed seeds).
"""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pytest
from refimpl import laser as rl
from scenarios import laser, railgun, scenario, threat
from scipy.integrate import quad, solve_ivp

import costx
from costx import physics
from costx.cli import main
from costx.kernels import engagement as K
from costx.kernels.laser import g_at
from costx.lowering import lower


def _laser(**fields):
    return costx.load_scenario(
        scenario([threat("d", 1)], [laser("las", **fields)], name="las")
    ).effectors[0]


def _random_laser(rng: random.Random, **overrides):
    fields = {
        "power_kw": rng.uniform(10, 300),
        "aperture_m": rng.uniform(0.1, 0.6),
        "beam_quality": rng.uniform(1, 3),
        "jitter_urad": 0.0,
        "jitter_per_axis_urad": rng.uniform(0, 10),
        "blur_urad": rng.uniform(0, 5),
        "extinction_per_km": rng.uniform(0.01, 1.0),
        "cn2": 10 ** rng.uniform(-16, -13),
        "wind_mps": rng.uniform(0.5, 10),
        "max_range_km": 10.0,
        "min_range_km": 0.2,
    }
    fields["absorption_per_km"] = rng.uniform(0, fields["extinction_per_km"])
    fields.update(overrides)
    return _laser(**fields)


# -- the formula ---------------------------------------------------------------------------


def test_without_new_fields_irradiance_is_the_fixed_spread_formula_bit_for_bit():
    las = _laser()
    for r in (0.3, 1.0, 2.5, 7.9):
        s = math.sqrt(
            (1.5 * 1.064e-6 / (math.pi * 0.3 / 2)) ** 2 + (5.0 * 1e-6) ** 2 + (20.0 * 1e-6) ** 2
        )
        old = 60e3 * math.exp(-0.2 * r) / (math.pi * (r * 1e5 * s) ** 2)
        assert physics.irradiance_w_cm2(las, r) == pytest.approx(old, rel=1e-15)
        assert rl.irradiance_w_cm2(las, r) == pytest.approx(old, rel=1e-15)
    assert not physics.propagation(las, physics.atmosphere(las)).tabulated


def test_model_and_reference_irradiance_agree():
    """costx.physics (K exp(-aR) A B / 1000 R^2) and the reference (spot size, Fried
    parameter, distortion number written out) are two writings of docs/model.md."""
    rng = random.Random(14)
    for _ in range(50):
        las = _random_laser(rng)
        for r in (0.25, 0.8, 2.0, 4.5, 9.5):
            assert physics.irradiance_w_cm2(las, r) == pytest.approx(
                rl.irradiance_w_cm2(las, r), rel=1e-12
            )


def test_per_axis_jitter_counts_twice_in_the_spot_area():
    """sigma_j per axis equals J = sqrt(2) sigma_j as a two-axis rms."""
    per_axis = _laser(jitter_urad=0.0, jitter_per_axis_urad=10.0)
    radial = _laser(jitter_urad=10.0 * math.sqrt(2.0))
    assert per_axis.divergence_rad == pytest.approx(radial.divergence_rad, rel=1e-15)


def test_irradiance_falls_with_range():
    rng = random.Random(1)
    ranges = np.linspace(0.2, 10.0, 400)
    for _ in range(60):
        las = _random_laser(rng)
        values = [physics.irradiance_w_cm2(las, r) for r in ranges]
        assert all(a > b for a, b in itertools.pairwise(values))


def test_turbulence_grows_the_spot_with_range():
    """theta_t^2 / s^2 = tau R^(6/5): with cn2 the irradiance falls faster than R^-2."""
    plain = _laser(extinction_per_km=0.0, blur_urad=0.0)
    turbulent = _laser(extinction_per_km=0.0, blur_urad=0.0, cn2=1e-14)
    ratio = [physics.irradiance_w_cm2(turbulent, r) / physics.irradiance_w_cm2(plain, r)
             for r in (0.5, 1.0, 2.0, 4.0)]  # fmt: skip
    assert all(a > b for a, b in itertools.pairwise(ratio))
    tau = physics.turbulence_tau(turbulent, 1e-14)
    assert ratio[2] == pytest.approx(1.0 / (1.0 + tau * 2.0**1.2), rel=1e-12)


@pytest.mark.parametrize("absorption", [0.001, 0.01, 0.05])
def test_doubling_power_raises_irradiance_less_than_twice_with_blooming(absorption):
    """Blooming grows with power: doubling it gains less than 2x, and past the blooming
    peak (strong absorption, long range) it even loses irradiance. Without absorption the
    gain is exactly 2."""
    common = dict(extinction_per_km=0.25, wind_mps=3.0, cn2=5e-15)
    gains = []
    for r in (0.5, 2.0, 5.0):
        low = _laser(power_kw=100.0, absorption_per_km=absorption, **common)
        high = _laser(power_kw=200.0, absorption_per_km=absorption, **common)
        gain = physics.irradiance_w_cm2(high, r) / physics.irradiance_w_cm2(low, r)
        assert 0.0 < gain < 2.0
        gain_ref = rl.irradiance_w_cm2(high, r) / rl.irradiance_w_cm2(low, r)
        assert gain == pytest.approx(gain_ref, rel=1e-12)
        gains.append(gain)
    assert all(a > b for a, b in itertools.pairwise(gains))  # blooming grows with range
    if absorption == 0.001:
        assert gains[0] > 1.9  # weak blooming: nearly linear at short range
    no_blooming = [_laser(power_kw=p, **common) for p in (100.0, 200.0)]
    gain = physics.irradiance_w_cm2(no_blooming[1], 2.0) / physics.irradiance_w_cm2(
        no_blooming[0], 2.0
    )
    assert gain == pytest.approx(2.0, rel=1e-14)


def test_blooming_peak_halves_at_distortion_number_four():
    """S_B = 1 / (1 + (N_D / 4)^2): at the range where N_D = 4 (beta Q(R) = 1, found by
    bisection) the bloomed irradiance is half the unbloomed one."""
    bloomed = _laser(extinction_per_km=0.05, absorption_per_km=0.05, wind_mps=2.0)
    clear = _laser(extinction_per_km=0.05)
    q_target = 1.0 / physics.blooming_beta(bloomed, 0.05, 2.0)
    lo, hi = 0.01, 100.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if physics.bloom_q(0.05, mid) < q_target else (lo, mid)
    ratio = physics.irradiance_w_cm2(bloomed, lo) / physics.irradiance_w_cm2(clear, lo)
    assert ratio == pytest.approx(0.5, rel=1e-9)
    assert rl.irradiance_w_cm2(bloomed, lo) / rl.irradiance_w_cm2(clear, lo) == pytest.approx(
        0.5, rel=1e-9
    )


# -- the kernel's tables ---------------------------------------------------------------------


def test_interpolated_fluence_table_matches_quadrature():
    """G(u) from lowering's table vs adaptive quadrature of the exact integrand."""
    rng = random.Random(7)
    for _ in range(12):
        las = _random_laser(rng)
        arrays = lower(costx.load_scenario(scenario([threat("d", 1)], [las.model_dump()])))
        eff_f, tab = arrays.eff_f[0], arrays.ltab[0, 0]
        assert eff_f[0, K.EF_PROP] == K.PROP_TABLE
        prop = physics.propagation(las, physics.atmosphere(las))
        n = int(eff_f[0, K.EF_CELLS])
        for r in np.geomspace(las.min_range_km, las.max_range_km, 23)[1:-1]:
            exact = quad(
                lambda x, las=las, k=prop.k: physics.irradiance_w_cm2(las, x) * 1000.0 / k,
                r, las.max_range_km, epsabs=0.0, epsrel=1e-13, limit=200,
            )[0]  # fmt: skip
            got = g_at(tab, eff_f[0, K.EF_U_LO], eff_f[0, K.EF_DU], n, -math.log(r))
            assert got == pytest.approx(exact, rel=1e-10)


# -- dwell_time ------------------------------------------------------------------------------

DWELL_CASES = [
    # laser fields, threat fields, start range
    pytest.param({}, {}, 6.0, id="fixed spread"),
    pytest.param({"cn2": 2e-14}, {}, 5.0, id="turbulence"),
    pytest.param(
        {"absorption_per_km": 0.15, "wind_mps": 2.0, "power_kw": 300.0}, {}, 6.0, id="blooming"
    ),
    pytest.param({"settle_s": 1.5, "cn2": 1e-15}, {"min_dwell_s": 0.5}, 6.0, id="settle"),
    pytest.param(
        {"jitter_urad": 0.0, "jitter_per_axis_urad": 8.0},
        {"min_dwell_s": 9.0},
        7.0,
        id="minimum dwell",
    ),
]


def _one_threat(las_fields, threat_fields, r0, **extra):
    return scenario(
        [
            threat(
                "d",
                1,
                speed_mps=60.0,
                detect_range_km=r0,
                arrival="simultaneous",
                kill_fluence_j_cm2=2000.0,
                **threat_fields,
            )
        ],
        [laser("las", min_range_km=0.5, retarget_s=0.0, **{**las_fields, **extra})],
        name="dwell",
    )


@pytest.mark.parametrize(("las_fields", "threat_fields", "r0"), DWELL_CASES)
def test_dwell_time_agrees_with_the_kernels_kill_time(las_fields, threat_fields, r0):
    """Lasing time for dwell_time x 1.001 kills, x 0.999 gives the threat up."""
    data = _one_threat(las_fields, threat_fields, r0)
    s = costx.load_scenario(data)
    dwell = costx.dwell_time(s.effectors[0], s.threats[0], r0)
    assert 1.0 < dwell < math.inf
    outcomes = []
    for factor in (1.001, 0.999):
        row = costx.simulate(
            _one_threat(las_fields, threat_fields, r0, magazine_s=dwell * factor), trials=1, seed=0
        ).trials.iloc[0]
        outcomes.append((int(row["shots_las"]), int(row["kills_las"])))
    assert outcomes == [(1, 1), (1, 0)]
    _, reference = rl.engagement_kill(s.effectors[0], s.threats[0], r0)
    assert dwell == pytest.approx(reference, rel=1e-9)


def test_dwell_time_in_another_atmosphere_equals_a_weather_state():
    data = _one_threat({}, {}, 6.0)
    s = costx.load_scenario(data)
    hazy = costx.dwell_time(s.effectors[0], s.threats[0], 6.0, extinction_per_km=0.6, cn2=1e-14)
    data["weather"] = [{"probability": 1.0, "extinction_per_km": 0.6, "cn2": 1e-14}]
    outcomes = []
    for factor in (1.001, 0.999):
        data["effectors"][0]["magazine_s"] = hazy * factor
        row = costx.simulate(data, trials=1, seed=0).trials.iloc[0]
        outcomes.append(int(row["kills_las"]))
    assert outcomes == [1, 0]
    assert hazy > costx.dwell_time(s.effectors[0], s.threats[0], 6.0)


def test_dwell_time_is_inf_where_the_laser_cannot_kill():
    assert costx.dwell_time("helios", "shahed_136", 50.0) == math.inf  # beyond max range
    assert costx.dwell_time("helios", "asbm", 2.0) == math.inf  # no kill fluence
    far = costx.dwell_time("laws", "subsonic_ascm", [0.5, 1.0, 2.9])
    assert isinstance(far, np.ndarray) and far.shape == (3,)
    assert np.all(np.diff(far[np.isfinite(far)]) > 0)
    with pytest.raises(TypeError, match="allowed: extinction_per_km"):
        costx.dwell_time("helios", "shahed_136", 1.0, visibility_km=10.0)
    with pytest.raises(costx.InputError, match="no catalog laser 'sm6'"):
        costx.dwell_time("sm6", "shahed_136", 1.0)


def test_dwell_table_on_the_command_line(capsys):
    assert main(["catalog", "lasers", "--dwell-table", "--ranges", "1,2"]) == 0
    out = capsys.readouterr().out
    assert "helios" in out and "shahed_136" in out and "1 km" in out and "2 km" in out
    assert main(["catalog", "effectors", "--dwell-table"]) == 2
    assert "--dwell-table goes with `costx catalog lasers`" in capsys.readouterr().err


# -- railguns ---------------------------------------------------------------------------------


@pytest.mark.parametrize("beta_b", [1_500.0, 6_000.0, 30_000.0])
def test_drag_profile_matches_an_ode_solution(beta_b):
    """du/dt = -rho u^2 / (2 beta_b), dx/dt = u (RK45 of scipy, rtol 1e-12) vs the closed
    forms, and the kernel's meeting time vs the ODE's meeting event, to 1e-6."""
    u0, v = 2400.0, 250.0
    gun = railgun(ballistic_coefficient_kg_m2=beta_b)
    k = physics.drag_k_per_m(costx.load_scenario(scenario([threat()], [gun])).effectors[0])

    def rhs(t, y):
        return [-k * y[0] ** 2, y[0]]

    ode = solve_ivp(rhs, (0.0, 60.0), [u0, 0.0], method="RK45", rtol=1e-12, atol=1e-9,
                    dense_output=True)  # fmt: skip
    for t in (0.5, 3.0, 10.0, 40.0):
        speed, flown = ode.sol(t)
        assert physics.flight_time_to_s(flown, u0, k) == pytest.approx(t, rel=1e-6)
        assert u0 * math.exp(-k * flown) == pytest.approx(speed, rel=1e-6)
    eff_f = np.zeros((1, K.EF_COLUMNS))
    eff_f[0, K.EF_SPEED_MPS], eff_f[0, K.EF_DRAG_K] = u0, k
    for r_km in (2.0, 10.0, 30.0):

        def meet(t, y, r_km=r_km):
            return y[1] + v * t - 1000.0 * r_km

        meet.terminal = True
        hit = solve_ivp(rhs, (0.0, 600.0), [u0, 0.0], rtol=1e-12, atol=1e-9, events=meet)
        assert K._flight_s(eff_f, 0, r_km, v) == pytest.approx(hit.t_events[0][0], rel=1e-6)
        meet_km = r_km - v * hit.t_events[0][0] / 1000.0
        assert physics.launch_range_km(meet_km, u0, v, k) == pytest.approx(r_km, rel=1e-6)
    assert physics.flight_time_to_s(1000.0, u0, 0.0) == 1000.0 / u0


def test_kill_probability_falls_with_time_of_flight():
    """One round at a threat 20 km out: P(kill) = pk (1 - exp(-r_L^2 / (2 (s T)^2))),
    T the drag flight time; 40,000 trials, within 5 standard errors; and the power check:
    the same trials are far from the constant pk."""
    u0, v, pk, rate, radius = 2000.0, 250.0, 0.8, 0.6, 4.0
    gun = railgun(pk={"drone": pk}, speed_mps=u0, ballistic_coefficient_kg_m2=8_000.0,
                  miss_rate_m_per_s=rate, lethal_radius_m=radius, salvo_size=1,
                  max_engagements=1, max_range_km=40.0, rounds=1)  # fmt: skip
    data = scenario([threat("drone", 1, speed_mps=v, detect_range_km=20.0,
                            arrival="simultaneous", kill_fluence_j_cm2=None)], [gun])  # fmt: skip
    s = costx.load_scenario(data)
    k = physics.drag_k_per_m(s.effectors[0])
    eff_f = np.zeros((1, K.EF_COLUMNS))
    eff_f[0, K.EF_SPEED_MPS], eff_f[0, K.EF_DRAG_K] = u0, k
    flight = K._flight_s(eff_f, 0, 20.0, v)
    expected = pk * (1.0 - math.exp(-(radius**2) / (2.0 * (rate * flight) ** 2)))
    n = 40_000
    rate_kill = costx.simulate(data, trials=n, seed=11).trials["kills_hvp"].mean()
    se = math.sqrt(expected * (1 - expected) / n)
    assert abs(rate_kill - expected) <= 5 * se, (rate_kill, expected)
    assert abs(rate_kill - pk) > 20 * se


def test_weather_states_are_drawn_with_their_probabilities():
    """Three states, one denied: 12 drones at once against one laser unit, which kills all
    12 in the clear state and 7 in the hazy one (checked with one state each). Over 20,000
    trials the denied and hazy fractions are within 5 standard errors of 0.15 and 0.35."""
    data = scenario(
        [threat("drone", 12, detect_range_km=9.0, arrival="simultaneous",
                kill_fluence_j_cm2=3000.0)],
        [laser("las", units=1, max_range_km=8.0)],
    )  # fmt: skip
    clear = {"probability": 0.5, "extinction_per_km": 0.05}
    hazy = {"probability": 0.35, "extinction_per_km": 1.2, "cn2": 5e-14}
    for state, kills in ((clear, 12), (hazy, 7)):
        one = dict(data, weather=[dict(state, probability=1.0)])
        assert (costx.simulate(one, trials=20, seed=5).trials["kills_las"] == kills).all()
    data["weather"] = [clear, hazy, {"probability": 0.15, "denied": True}]
    n = 20_000
    trials = costx.simulate(data, trials=n, seed=5).trials
    fractions = {
        "denied": (~trials["laser_available"]).mean(),
        "hazy": (trials["laser_available"] & (trials["kills_las"] == 7)).mean(),
        "clear": (trials["laser_available"] & (trials["kills_las"] == 12)).mean(),
    }
    assert sum(fractions.values()) == pytest.approx(1.0)
    for name, p in (("denied", 0.15), ("hazy", 0.35), ("clear", 0.5)):
        assert abs(fractions[name] - p) <= 5 * math.sqrt(p * (1 - p) / n), fractions


def test_drag_can_leave_a_threat_out_of_reach_and_warns():
    """Detected at 3 km and closing at 250 m/s, the threat meets a drag-free 1 km/s round
    at 2.4 km, inside a 2.3 km minimum range: engageable. With a ballistic coefficient of
    1,000 kg/m2 the round slows and meets it closer than 2.3 km: the scenario warns."""
    gun = railgun(pk={"t": 0.5}, speed_mps=1000.0, max_range_km=10.0, min_range_km=2.3)
    data = scenario([threat("t", 1, speed_mps=250.0, detect_range_km=3.0,
                            kill_fluence_j_cm2=None)], [gun])  # fmt: skip
    assert costx.load_scenario(data).warnings() == []
    data["effectors"][0]["ballistic_coefficient_kg_m2"] = 1000.0
    with pytest.warns(costx.CostxWarning, match="no effector can engage it"):
        costx.load_scenario(data)
