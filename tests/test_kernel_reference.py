"""The engagement kernel (costx.simulate) against independent references (tests/refimpl).

1. Sequential engagements from one magazine: the joint distribution of (leakers, rounds
   fired) against the exact Markov-chain enumeration (refimpl.markov), chi-square test.
2. One threat: P(kill) and E[rounds] against the validation.md V4 closed forms
   (refimpl.closed_forms), within 5 standard errors.
3. Laser-only raids with simultaneous arrivals against the RK4 timeline integrator
   (refimpl.laser.simulate_laser_raid); dwell times and the fire-control start rule against
   the exact exp1/brentq solution, probed through kill/no-kill thresholds at +/-0.1 %.
4. Trial by trial against the pure-Python event simulation (refimpl.engagement) on many
   small random scenarios using the same keyed random draws: under ``layered`` every
   count must match, under both policies.

Every stochastic comparison uses a fixed seed; its tolerance is derived from the
sampling error and stated next to it. Each comparison also has a "power" check that runs
the same test on a deliberately wrong input and requires it to fail, so none of these
tests can pass vacuously.
"""

from __future__ import annotations

import math
import random
import warnings

import numpy as np
import pandas as pd
import pytest
from refimpl import closed_forms as cf
from refimpl import laser as rl
from refimpl import markov
from refimpl.engagement import simulate_trial
from scenarios import laser
from scipy.stats import chi2

import costx

# -- helpers ------------------------------------------------------------------------------


def load_quiet(data: dict):
    """Load a scenario; return (scenario, warnings issued) instead of raising on them."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scenario = costx.load_scenario(data)
    return scenario, [w for w in caught if issubclass(w.category, costx.CostxWarning)]


def kernel_counts(scenario, trials: pd.DataFrame, t: int) -> dict[str, list]:
    """Per-trial counts of the kernel in the layout of refimpl.engagement.TrialResult."""
    row = trials.iloc[t]
    lasers = [i for i, e in enumerate(scenario.effectors) if e.kind == "laser"]
    if len(lasers) == 1:
        avail = {lasers[0]: bool(row["laser_available"])}
    else:
        avail = {i: bool(row[f"laser_available_{scenario.effectors[i].name}"]) for i in lasers}
    return {
        "leaked": [int(row[f"leaked_{g.name}"]) for g in scenario.threats],
        "shots": [int(row[f"shots_{e.name}"]) for e in scenario.effectors],
        "kills": [int(row[f"kills_{e.name}"]) for e in scenario.effectors],
        "laser_available": avail,
    }


def reference_counts(scenario, seed: int, t: int) -> dict[str, list]:
    ref = simulate_trial(scenario, seed, t)
    return {
        "leaked": ref.leaked,
        "shots": ref.shots,
        "kills": ref.kills,
        "laser_available": ref.laser_available,
    }


# -- 1. sequential engagements from one magazine: exact Markov chain ----------------------


def sequential_scenario(n_threats, magazine, salvo_size, max_engagements, pk) -> dict:
    """N threats 300 s apart, each over in about 60 s; one interceptor with magazine M.

    Threat: 100 m/s from 20 km (impact 200 s after detection). Interceptor: 1000 m/s,
    reaches 50 km (the threat is in the envelope on detection), min range 0.5 km, 1 s
    between rounds, 1 s assessment. Even three engagements of three rounds end before
    the threat closes to 10 km, so time never limits the doctrine: only the magazine does.
    """
    return {
        "scenario": {"name": "sequential"},
        "threats": [
            {
                "name": "d",
                "count": n_threats,
                "unit_cost_usd": 1.0,
                "speed_mps": 100.0,
                "detect_range_km": 20.0,
                "arrival": "stream",
                "window_s": 300.0 * n_threats,
            }
        ],
        "effectors": [
            {
                "name": "k",
                "kind": "interceptor",
                "rounds": magazine,
                "cost_per_shot_usd": 1.0,
                "pk": {"d": pk},
                "speed_mps": 1000.0,
                "max_range_km": 50.0,
                "min_range_km": 0.5,
                "fire_interval_s": 1.0,
                "salvo_size": salvo_size,
                "max_engagements": max_engagements,
                "assess_s": 1.0,
            }
        ],
    }


def chi_square_against(exact: dict, observed: pd.Series, n: int, min_expected: float = 5.0):
    """Pearson chi-square of observed (leakers, rounds) counts against exact probabilities.

    An outcome the exact distribution gives probability zero fails at once. Cells with an
    expected count below ``min_expected`` are pooled into one cell. Returns (statistic,
    degrees of freedom, p-value, total variation distance).
    """
    cells = set(exact) | set(observed.index)
    impossible = [c for c in cells if exact.get(c, 0.0) == 0.0 and observed.get(c, 0) > 0]
    assert not impossible, f"the kernel produced impossible outcomes {impossible}"
    cells = {c for c in cells if exact.get(c, 0.0) > 0.0}
    big = [c for c in cells if exact[c] * n >= min_expected]
    small = [c for c in cells if c not in big]
    obs = [observed.get(c, 0) for c in big]
    exp = [exact[c] * n for c in big]
    if small:
        obs.append(sum(observed.get(c, 0) for c in small))
        exp.append(sum(exact[c] for c in small) * n)
    obs_a, exp_a = np.array(obs, float), np.array(exp, float)
    stat = float(((obs_a - exp_a) ** 2 / exp_a).sum())
    dof = len(obs) - 1
    tv = 0.5 * sum(abs(observed.get(c, 0) / n - exact.get(c, 0.0)) for c in cells)
    return stat, dof, float(chi2.sf(stat, dof)), tv


MARKOV_CASES = [
    # (n_threats, magazine, salvo_size, max_engagements, pk): demand exceeds the magazine.
    pytest.param(5, 6, 1, 2, 0.6, id="shoot-look-shoot N5 M6"),
    pytest.param(4, 7, 2, 1, 0.7, id="shoot-shoot N4 M7 last salvo truncated"),
    pytest.param(4, 9, 2, 2, 0.5, id="SS-L-SS N4 M9"),
    pytest.param(3, 5, 3, 2, 0.4, id="salvo3 x2 N3 M5"),
]
MARKOV_TRIALS = 200_000
# Significance level of the chi-square goodness-of-fit test: a correct kernel fails it
# with probability 0.001 for a random seed (the seed is fixed, so the outcome is too).
MARKOV_ALPHA = 1e-3


def _joint_counts(scenario_dict, trials, seed):
    result = costx.simulate(scenario_dict, trials=trials, seed=seed)
    return result.trials.groupby(["leaked", "shots_k"]).size()


@pytest.mark.parametrize(("n", "magazine", "salvo_size", "max_eng", "pk"), MARKOV_CASES)
def test_sequential_engagements_match_the_markov_chain(n, magazine, salvo_size, max_eng, pk):
    """Joint (leakers, rounds fired) of 200,000 trials vs the exact Markov enumeration.

    Tolerance: chi-square p-value above 1e-3 (cells with expected count < 5 pooled).
    """
    exact = markov.joint_distribution(n, magazine, salvo_size, max_eng, pk)
    observed = _joint_counts(
        sequential_scenario(n, magazine, salvo_size, max_eng, pk), MARKOV_TRIALS, seed=20240611
    )
    stat, dof, p_value, tv = chi_square_against(exact, observed, MARKOV_TRIALS)
    assert p_value > MARKOV_ALPHA, f"chi2={stat:.1f} dof={dof} p={p_value:.2g} TV={tv:.4f}"


def test_markov_chi_square_has_power():
    """The same test rejects a kernel run whose pk is 0.62 where the chain says 0.6."""
    exact = markov.joint_distribution(5, 6, 1, 2, 0.6)
    observed = _joint_counts(sequential_scenario(5, 6, 1, 2, 0.62), MARKOV_TRIALS, seed=20240611)
    _, _, p_value, _ = chi_square_against(exact, observed, MARKOV_TRIALS)
    assert p_value < MARKOV_ALPHA


# -- 2. one threat: validation.md V4 closed forms -----------------------------------------

SINGLE_TRIALS = 40_000
P_VALUES = [0.5, 0.67, 0.83]
SINGLE_DOCTRINES = [
    pytest.param(2, 1, id="salvo of 2"),
    pytest.param(3, 1, id="salvo of 3"),
    pytest.param(1, 2, id="SLS n=2"),
    pytest.param(1, 3, id="SLS n=3"),
    pytest.param(2, 2, id="SS-L-SS"),
]


def single_threat_scenario(salvo_size, max_engagements, pk) -> dict:
    """One threat detected at 60 km; every engagement of the doctrine fits easily.

    Each engagement (flight at 1000 m/s against 100 m/s, 1 s between rounds, 1 s
    assessment) takes under a minute and the threat is still beyond 25 km after three.
    """
    scenario = sequential_scenario(1, 1000, salvo_size, max_engagements, pk)
    scenario["threats"][0].update(detect_range_km=60.0, arrival="simultaneous", window_s=0.0)
    scenario["effectors"][0]["max_range_km"] = 100.0
    return scenario


def _v4_row(p, salvo_size, max_eng):
    if max_eng == 1:
        return cf.salvo(p, salvo_size)
    if salvo_size == 1:
        return cf.shoot_look_shoot(p, max_eng)
    assert (salvo_size, max_eng) == (2, 2)
    return cf.ss_l_ss(p)


@pytest.mark.parametrize("p", P_VALUES)
@pytest.mark.parametrize(("salvo_size", "max_eng"), SINGLE_DOCTRINES)
def test_single_threat_matches_v4_closed_forms(p, salvo_size, max_eng):
    """P(kill) and E[rounds] of 40,000 one-threat trials within 5 standard errors of V4.

    Standard errors from the exact distribution: sqrt(P(1-P)/n) for P(kill) and
    sqrt(Var[rounds]/n) for E[rounds] (a salvo of m has Var 0: rounds must equal m).
    """
    p_kill, rounds = _v4_row(p, salvo_size, max_eng)
    trials = costx.simulate(
        single_threat_scenario(salvo_size, max_eng, p), trials=SINGLE_TRIALS, seed=7
    ).trials
    kill_rate = trials["kills_k"].mean()
    mean_rounds = trials["shots_k"].mean()
    se_kill = math.sqrt(p_kill * (1 - p_kill) / SINGLE_TRIALS)
    se_rounds = math.sqrt(cf.doctrine_rounds_variance(p, salvo_size, max_eng) / SINGLE_TRIALS)
    assert abs(kill_rate - p_kill) <= 5 * se_kill, (kill_rate, p_kill, se_kill)
    if se_rounds == 0.0:
        assert (trials["shots_k"] == rounds).all()
    else:
        assert abs(mean_rounds - rounds) <= 5 * se_rounds, (mean_rounds, rounds, se_rounds)


def test_single_threat_closed_form_check_has_power():
    """Simulating SLS n=2 at p=0.67 and comparing with p=0.64 must fail the 5-SE check."""
    p_kill, _ = cf.shoot_look_shoot(0.64, 2)
    trials = costx.simulate(single_threat_scenario(1, 2, 0.67), trials=SINGLE_TRIALS, seed=7).trials
    se_kill = math.sqrt(p_kill * (1 - p_kill) / SINGLE_TRIALS)
    assert abs(trials["kills_k"].mean() - p_kill) > 5 * se_kill


# -- 3. lasers ----------------------------------------------------------------------------


def laser_fields(name="las", **overrides) -> dict:
    """tests/scenarios.py's laser, with a 0.5 km minimum range."""
    return laser(name, **{"min_range_km": 0.5, **overrides})


def threat_fields(name="d", **overrides) -> dict:
    fields = {
        "name": name,
        "count": 1,
        "unit_cost_usd": 1.0,
        "speed_mps": 50.0,
        "detect_range_km": 6.0,
        "arrival": "simultaneous",
        "kill_fluence_j_cm2": 2000.0,
    }
    fields.update(overrides)
    return fields


def laser_scenario(threats, lasers) -> dict:
    return {"scenario": {"name": "laser_raid"}, "threats": threats, "effectors": lasers}


LASER_RAIDS = [
    pytest.param(
        laser_scenario(
            [threat_fields(count=12, speed_mps=150.0, detect_range_km=10.0)], [laser_fields()]
        ),
        id="one unit, twelve drones",
    ),
    pytest.param(
        laser_scenario(
            [threat_fields(count=12, speed_mps=250.0, kill_fluence_j_cm2=1000.0)],
            [laser_fields()],
        ),
        id="faster drones, detected inside the envelope",
    ),
    pytest.param(
        laser_scenario(
            [
                threat_fields("slow", count=10, speed_mps=60.0, detect_range_km=9.0),
                threat_fields(
                    "fast",
                    count=10,
                    speed_mps=300.0,
                    detect_range_km=12.0,
                    start_s=20.0,
                    kill_fluence_j_cm2=400.0,
                ),
            ],
            [laser_fields(units=2, retarget_s=1.0), laser_fields("las2", power_kw=150.0)],
        ),
        id="two lasers, three units, two groups",
    ),
    pytest.param(
        laser_scenario(
            [
                threat_fields(
                    count=10, speed_mps=80.0, detect_range_km=8.0, kill_fluence_j_cm2=1500.0
                ),
                threat_fields("hard", count=6, detect_range_km=7.0, kill_fluence_j_cm2=3e4),
            ],
            [
                laser_fields(units=2, magazine_s=45.0, extinction_per_km=0.0, retarget_s=0.5),
                laser_fields("backup", max_range_km=3.0),
            ],
        ),
        id="lasing time runs out, threats given up and taken over",
    ),
    pytest.param(
        laser_scenario(
            [
                threat_fields(
                    count=8, speed_mps=200.0, detect_range_km=15.0, kill_fluence_j_cm2=800.0
                )
            ],
            [laser_fields(max_range_km=12.0, extinction_per_km=0.6, retarget_s=3.0)],
        ),
        id="hazy, fast drones",
    ),
]


@pytest.mark.parametrize("data", LASER_RAIDS)
def test_laser_raid_matches_the_timeline_integrator(data):
    """Deterministic laser-only raids: kills, shots and leakers equal the RK4 integrator's.

    The integrator is run at dt = 10 ms and 5 ms and must give the same counts (so the
    scenario is not balanced on a threshold that the step size could tip; RK4 on this
    smooth integrand is accurate to ~1e-9 of the dwell at these steps anyway).
    """
    scenario = costx.load_scenario(data)
    fine = rl.simulate_laser_raid(scenario, dt=1e-2)
    finer = rl.simulate_laser_raid(scenario, dt=5e-3)
    assert (fine.leaked, fine.shots, fine.kills) == (finer.leaked, finer.shots, finer.kills)
    assert 0 < sum(fine.kills) < sum(g.count for g in scenario.threats)  # not trivial
    trials = costx.simulate(scenario, trials=3, seed=1).trials
    for t in range(3):  # deterministic: every trial is the same
        kernel = kernel_counts(scenario, trials, t)
        assert kernel["leaked"] == fine.leaked
        assert kernel["shots"] == fine.shots
        assert kernel["kills"] == fine.kills


DWELL_CASES = [
    # (extinction_per_km, speed_mps, start range km, kill fluence J/cm^2)
    (0.2, 50.0, 6.0, 2000.0),
    (0.0, 200.0, 8.0, 500.0),
    (0.5, 30.0, 3.0, 20000.0),
    (0.2, 300.0, 7.0, 300.0),
    (1.5, 20.0, 1.5, 5000.0),
]


def _one_threat_laser(ext, speed, r0, fluence, **laser):
    return laser_scenario(
        [threat_fields(speed_mps=speed, detect_range_km=r0, kill_fluence_j_cm2=fluence)],
        [laser_fields(extinction_per_km=ext, **laser)],
    )


@pytest.mark.parametrize(("ext", "speed", "r0", "fluence"), DWELL_CASES)
def test_laser_dwell_agrees_with_the_exact_integral(ext, speed, r0, fluence):
    """The kernel's dwell is within 0.1 % of the exact one (exp1 closed form + brentq).

    With magazine_s = dwell * (1 + 0.001) the unit has time for the kill; with
    dwell * (1 - 0.001) it runs out and gives the threat up (a shot but no kill).
    """
    las = costx.load_scenario(_one_threat_laser(ext, speed, r0, fluence)).effectors[0]
    dwell = rl.dwell_s(las, speed, fluence, r0)
    assert dwell is not None and dwell > 1.0
    outcomes = []
    for factor in (1.001, 0.999):
        data = _one_threat_laser(ext, speed, r0, fluence, magazine_s=dwell * factor)
        row = costx.simulate(data, trials=1, seed=0).trials.iloc[0]
        outcomes.append((int(row["shots_las"]), int(row["kills_las"])))
    assert outcomes == [(1, 1), (1, 0)]


@pytest.mark.parametrize(("ext", "speed", "r0", "fluence"), DWELL_CASES)
def test_second_dwell_after_retargeting(ext, speed, r0, fluence):
    """Two threats, one unit: lasing time for both dwells (+/- 0.1 % of the second) kills 2/1.

    The second dwell starts retarget_s after the first kill, at the range reached by
    then, so this checks the kill time of the first engagement as well.
    """
    data = _one_threat_laser(ext, speed, r0, fluence)
    data["threats"][0]["count"] = 2
    las = costx.load_scenario(data).effectors[0]
    d1 = rl.dwell_s(las, speed, fluence, r0)
    r1 = r0 - speed * (d1 + las.retarget_s) / 1000.0
    d2 = rl.dwell_s(las, speed, fluence, r1)
    if d2 is None:
        pytest.skip("the second threat is out of reach: nothing to compare")
    kills = []
    for factor in (1.001, 0.999):
        data["effectors"][0]["magazine_s"] = d1 + d2 * factor
        kills.append(int(costx.simulate(data, trials=1, seed=0).trials["kills_las"].iloc[0]))
    assert kills == [2, 1]


@pytest.mark.parametrize(("ext", "speed", "r0", "fluence"), DWELL_CASES)
def test_laser_start_rule_threshold(ext, speed, r0, fluence):
    """The fire control starts only if the kill completes at min range or farther.

    Threshold: the fluence F(R0 -> min_range) (exact). 0.1 % below it the threat is
    lased and killed; 0.1 % above it the laser does not start (no shot).
    """
    las = costx.load_scenario(_one_threat_laser(ext, speed, r0, fluence)).effectors[0]
    threshold = rl.fluence_j_cm2(las, speed, r0, las.min_range_km)
    outcomes = []
    for factor in (0.999, 1.001):
        data = _one_threat_laser(ext, speed, r0, threshold * factor)
        row = costx.simulate(data, trials=1, seed=0).trials.iloc[0]
        outcomes.append((int(row["shots_las"]), int(row["kills_las"])))
    assert outcomes == [(1, 1), (0, 0)]


def test_laser_timeline_comparison_has_power():
    """A laser with 10 % less power than the integrator assumes must change the outcome."""
    data = LASER_RAIDS[0].values[0]
    weaker = laser_scenario(data["threats"], [laser_fields(power_kw=54.0)])
    reference = rl.simulate_laser_raid(costx.load_scenario(data), dt=1e-2)
    trials = costx.simulate(weaker, trials=1, seed=1).trials
    assert kernel_counts(costx.load_scenario(weaker), trials, 0)["kills"] != reference.kills


def test_laser_unit_choice_and_no_fluence_carry_over():
    """Two readings of the laser rules that random scenarios rarely tell apart.

    (a) Units are taken lowest index first: unit 0 (6 s of lasing time left after its
    first kill) starts on a threat needing ~6.8 s, gives it up, and unit 1 takes over:
    3 shots, 2 kills. (Taking the unit with the most time left would give 2 shots.)
    (b) Fluence does not carry over: laser 1 runs out of lasing time on a threat; from the
    range reached then, the full kill fluence no longer fits before the minimum range, so
    laser 2 does not start and the threat leaks (with carry-over laser 2 would kill it).
    Both are compared with the reference event simulation and with the hand count.
    """
    base = {
        "power_kw": 100.0,
        "aperture_m": 0.5,
        "beam_quality": 1.0,
        "jitter_urad": 50.0,
        "blur_urad": 0.0,
        "extinction_per_km": 0.0,
        "max_range_km": 5.0,
        "min_range_km": 0.5,
        "retarget_s": 0.0,
    }
    units = laser_scenario(
        [
            threat_fields("a", speed_mps=100.0, detect_range_km=5.0, kill_fluence_j_cm2=221.0),
            threat_fields(
                "b", speed_mps=100.0, detect_range_km=5.0, start_s=20.0, kill_fluence_j_cm2=400.0
            ),
        ],
        [laser_fields(units=2, magazine_s=10.0, **base)],
    )
    las = costx.load_scenario(units).effectors[0]
    full = rl.fluence_j_cm2(las, 100.0, 5.0, 0.5)
    after_6s = rl.fluence_j_cm2(las, 100.0, 4.4, 0.5)
    carry = laser_scenario(
        [
            threat_fields(
                speed_mps=100.0, detect_range_km=5.0, kill_fluence_j_cm2=(full + after_6s) / 2
            )
        ],
        [laser_fields("l1", magazine_s=6.0, **base), laser_fields("l2", **base)],
    )
    for data, expected in [
        (units, {"leaked": [0, 0], "shots": [3], "kills": [2]}),
        (carry, {"leaked": [1], "shots": [1, 0], "kills": [0, 0]}),
    ]:
        scenario = costx.load_scenario(data)
        kernel = kernel_counts(scenario, costx.simulate(scenario, trials=1, seed=0).trials, 0)
        reference = reference_counts(scenario, 0, 0)
        assert kernel == reference
        assert {k: reference[k] for k in expected} == expected


# -- 4. trial by trial against the event simulation ---------------------------------------


def random_scenario(rng: random.Random, name: str = "random") -> dict:
    """A small random layered scenario that exercises every part of the model.

    1-4 threat groups (0-6 threats; speeds from 30 m/s drones to 2.5 km/s missiles;
    simultaneous, stream and uniform arrivals; some with a kill fluence), 1-4 effectors
    (interceptors with 0-4 s between rounds, railguns, lasers with 0-3 units, optional
    lasing-time magazines and weather), small magazines, 1-3 channels, salvos of 1-3,
    1-3 engagements, assessment times and min ranges of 0 or more. All values are
    random floats, so exact ties at envelope boundaries have probability zero.
    (The fields of issue 15 are added by ``add_realism``, after these draws, so that the
    scenarios of a seed stay those the older families always tested.)
    """
    groups = []
    for g in range(rng.randint(1, 4)):
        group = {
            "name": f"t{g}",
            "count": rng.randint(0, 6) if rng.random() < 0.1 else rng.randint(1, 6),
            "unit_cost_usd": 1000.0,
            "speed_mps": rng.choice([rng.uniform(30, 300), rng.uniform(300, 2500)]),
            "detect_range_km": rng.uniform(3, 60),
            "arrival": rng.choice(["simultaneous", "stream", "uniform"]),
            "start_s": rng.uniform(0, 60),
            "window_s": rng.uniform(0, 120),
        }
        if rng.random() < 0.7:
            group["kill_fluence_j_cm2"] = 10 ** rng.uniform(2, 4.5)
        groups.append(group)
    for group in groups:  # issue 14: minimum aimpoint dwell
        if rng.random() < 0.3:
            group["min_dwell_s"] = rng.uniform(0.2, 5.0)
    effectors = []
    for e in range(rng.randint(1, 4)):
        kind = rng.choice(["interceptor", "railgun", "laser"])
        if kind == "laser":
            low = rng.uniform(0.1, 2)
            eff = laser_fields(
                f"e{e}",
                units=rng.randint(0, 3) if rng.random() < 0.1 else rng.randint(1, 3),
                power_kw=rng.uniform(20, 300),
                aperture_m=rng.uniform(0.1, 0.6),
                beam_quality=rng.uniform(1, 3),
                jitter_urad=rng.uniform(0, 10),
                blur_urad=rng.uniform(0, 30),
                extinction_per_km=rng.choice([0.0, rng.uniform(0, 0.5)]),
                max_range_km=low + rng.uniform(1, 15),
                min_range_km=low,
                retarget_s=rng.uniform(0, 5),
                availability=rng.choice([1.0, rng.random()]),
            )
            if rng.random() < 0.5:
                eff["magazine_s"] = rng.uniform(1, 60)
            _laser_physics(rng, eff)
        else:
            low = rng.choice([0.0, rng.uniform(0, 3)])
            eff = {
                "name": f"e{e}",
                "kind": kind,
                "rounds": rng.randint(0, 30),
                "cost_per_shot_usd": 1e5,
                "pk": {
                    grp["name"]: rng.choice([0.0, rng.uniform(0.1, 1.0), 1.0])
                    for grp in groups
                    if rng.random() < 0.9
                },
                "speed_mps": rng.uniform(500, 3000),
                "max_range_km": low + rng.uniform(2, 60),
                "min_range_km": low,
                "channels": rng.randint(1, 3),
                "salvo_size": rng.randint(1, 3),
                "max_engagements": rng.randint(1, 3),
                "assess_s": rng.choice([0.0, rng.uniform(0, 6)]),
            }
            if kind == "interceptor":
                eff["fire_interval_s"] = rng.choice([0.0, rng.uniform(0, 4)])
            else:
                eff["rate_per_min"] = rng.uniform(5, 60)
                if rng.random() < 0.3:  # barrel wear: part of the cost per round
                    eff.update(barrel_life_rounds=rng.randint(1, 500), barrel_cost_usd=1e6)
                if rng.random() < 0.5:  # drag (issue 14)
                    eff["ballistic_coefficient_kg_m2"] = 10 ** rng.uniform(3.3, 4.5)
                if rng.random() < 0.4:  # pk falling with the time of flight
                    eff.update(
                        miss_rate_m_per_s=rng.uniform(0.05, 3), lethal_radius_m=rng.uniform(0.5, 5)
                    )
        effectors.append(eff)
    data = {
        "scenario": {"name": name, "policy": "layered"},
        "threats": groups,
        "effectors": effectors,
    }
    if rng.random() < 0.25:
        data["weather"] = _weather_states(rng)
    return data


def _laser_physics(rng: random.Random, eff: dict) -> None:
    """Issue 14's laser fields, each on a random subset: turbulence, blooming (absorption
    within extinction, with a wind), per-axis jitter, track/settle time."""
    if rng.random() < 0.3:
        eff["cn2"] = 10 ** rng.uniform(-16, -13)
    if rng.random() < 0.25 and eff["extinction_per_km"] > 0:
        eff["absorption_per_km"] = rng.uniform(0, eff["extinction_per_km"])
        eff["wind_mps"] = rng.uniform(0.5, 10)
    if rng.random() < 0.25:
        del eff["jitter_urad"]
        eff["jitter_per_axis_urad"] = rng.uniform(0, 10)
    if rng.random() < 0.3:
        eff["settle_s"] = rng.uniform(0, 3)


def _weather_states(rng: random.Random) -> list[dict]:
    """2 or 3 weather states: clearer or hazier air (each gives its own extinction,
    absorption and wind, and sometimes cn2), sometimes one that denies every laser."""
    states = []
    for _ in range(rng.randint(2, 3)):
        if rng.random() < 0.2:
            states.append({"probability": rng.random(), "denied": True})
            continue
        extinction = rng.uniform(0, 1.5)
        state = {
            "probability": rng.random(),
            "extinction_per_km": extinction,
            "absorption_per_km": rng.uniform(0, extinction) if rng.random() < 0.5 else 0.0,
            "wind_mps": rng.uniform(0.5, 10),
        }
        if rng.random() < 0.5:
            state["cn2"] = 10 ** rng.uniform(-16, -13)
        states.append(state)
    total = sum(s["probability"] for s in states) or 1.0
    for s in states:
        s["probability"] /= total
    return states


def add_realism(rng: random.Random, data: dict) -> dict:
    """The fields of issue 15, each in about a third of the scenarios or kinetic
    effectors: round reliability (sometimes 0), common-mode failure, pk_by_range curves of
    1-4 points (some reaching 0 or 1), and a [sensor] height with group altitudes whose
    radar horizon (about 6-60 km) often falls inside the detection range."""
    if rng.random() < 0.35:
        data["sensor"] = {"height_m": rng.uniform(2, 40)}
        for group in data["threats"]:
            if rng.random() < 0.7:
                group["altitude_m"] = rng.choice([0.0, rng.uniform(0, 60)])
        if not any("altitude_m" in group for group in data["threats"]):
            data["threats"][0]["altitude_m"] = rng.uniform(0, 60)
    for eff in data["effectors"]:
        if eff["kind"] == "laser":
            continue
        if rng.random() < 0.3:
            eff["reliability"] = rng.choice([rng.uniform(0.5, 1.0), 0.0])
        if rng.random() < 0.3:
            eff["common_mode_failure"] = rng.uniform(0, 0.5)
        if rng.random() < 0.3:
            eff["pk_by_range"] = {
                grp["name"]: random_pk_curve(rng, eff["min_range_km"], eff["max_range_km"])
                for grp in data["threats"]
                if rng.random() < 0.7
            }
    return data


def realism_scenario(rng: random.Random) -> dict:
    """random_scenario (layered) with the fields of issue 15."""
    return add_realism(rng, random_scenario(rng, "realism"))


def cost_aware_realism_scenario(rng: random.Random) -> dict:
    """cost_aware_scenario with the fields of issue 15 (costs per kill with reliability,
    common-mode failure and the best pk of a curve)."""
    return add_realism(rng, cost_aware_scenario(rng))


def random_pk_curve(rng: random.Random, low: float, high: float) -> list[list[float]]:
    """1-4 points (range, pk) by increasing range, spread around the envelope [low, high]
    (some outside it), pk anywhere in [0, 1], sometimes exactly 0 or 1."""
    ranges = sorted(rng.uniform(0.5 * low, 1.2 * high) for _ in range(rng.randint(1, 4)))
    return [[r, rng.choice([rng.random(), rng.random(), 0.0, 1.0])] for r in ranges]


def random_doctrine(rng: random.Random, data: dict, lasers_first: bool = False) -> dict:
    """Per group, a random ordered subset of the effectors (lasers first if asked)."""
    names = [eff["name"] for eff in data["effectors"]]
    doctrine = {}
    for group in data["threats"]:
        listed = [n for n in names if rng.random() < 0.8]
        rng.shuffle(listed)
        if lasers_first:
            kind = {eff["name"]: eff["kind"] for eff in data["effectors"]}
            listed.sort(key=lambda n: kind[n] != "laser")
        doctrine[group["name"]] = listed
    return doctrine


def preferential_scenario(rng: random.Random) -> dict:
    """realism_scenario under the preferential policy with a random [doctrine]."""
    data = realism_scenario(rng)
    data["scenario"]["policy"] = "preferential"
    data["doctrine"] = random_doctrine(rng, data)
    return data


def preferential_laser_scenario(rng: random.Random) -> dict:
    """Preferential, laser-heavy: lasers (some with limited lasing time) preferred against
    slow crowded raids, kinetic effectors behind them."""
    data = add_realism(rng, laser_heavy_scenario(rng))
    data["scenario"]["policy"] = "preferential"
    data["doctrine"] = random_doctrine(rng, data, lasers_first=True)
    for eff in data["effectors"]:
        if eff["kind"] == "laser" and rng.random() < 0.5:
            del eff["magazine_s"]
    return data


def cost_aware_scenario(rng: random.Random) -> dict:
    """Like random_scenario under the cost_aware policy, with costs per round from $10 to
    $3M, so that the rankings per group and the turn order vary."""
    data = random_scenario(rng, "cost_aware")
    data["scenario"]["policy"] = "cost_aware"
    for eff in data["effectors"]:
        eff["cost_per_shot_usd"] = 10 ** rng.uniform(1, 6.5)
    return data


def cost_aware_laser_scenario(rng: random.Random) -> dict:
    """Cost-aware, laser-heavy: cheap lasers (some with limited lasing time) that the
    kinetic effectors wait for, against slow crowded raids."""
    data = laser_heavy_scenario(rng)
    data["scenario"]["policy"] = "cost_aware"
    for eff in data["effectors"]:
        if eff["kind"] == "laser":
            eff["cost_per_shot_usd"] = 10 ** rng.uniform(0, 2)
            if rng.random() < 0.5:
                del eff["magazine_s"]
        else:
            eff["cost_per_shot_usd"] = 10 ** rng.uniform(3, 6.5)
    return data


def laser_heavy_scenario(rng: random.Random) -> dict:
    """Like random_scenario, with slow crowded raids against multi-unit lasers whose
    lasing time runs out (gives up, re-engagement by another unit or laser)."""
    data = random_scenario(rng, "laser_heavy")
    for group in data["threats"]:
        group.update(
            count=rng.randint(3, 8),
            speed_mps=rng.uniform(30, 250),
            detect_range_km=rng.uniform(5, 20),
            kill_fluence_j_cm2=10 ** rng.uniform(2.5, 4),
        )
    for eff in data["effectors"]:
        if eff["kind"] == "laser":
            eff.update(units=rng.randint(2, 3), magazine_s=rng.uniform(1, 20), availability=1.0)
    return data


def compare_trial_by_trial(make, scenarios: int, trials: int, first_seed: int):
    """Run ``scenarios`` random scenarios against the reference, trial by trial.

    Returns (scenarios compared, trials compared, mismatches as (scenario seed, seed,
    trial), power count). The power count is the number of scenarios whose first trial
    the reference run with a wrong seed (seed + 1) gets different from the kernel.
    """
    n_scenarios, compared, mismatches, wrong_seed_differs = 0, 0, [], 0
    for s in range(first_seed, first_seed + scenarios):
        rng = random.Random(s)
        scenario, warned = load_quiet(make(rng))
        if warned:  # a group nobody can engage: valid but not interesting here
            continue
        n_scenarios += 1
        seed = rng.randrange(2**64)
        frame = costx.simulate(scenario, trials=trials, seed=seed).trials
        for t in range(trials):
            kernel = kernel_counts(scenario, frame, t)
            compared += 1
            if reference_counts(scenario, seed, t) != kernel:
                mismatches.append((s, seed, t))
            if t == 0 and reference_counts(scenario, (seed + 1) % 2**64, t) != kernel:
                wrong_seed_differs += 1
    return n_scenarios, compared, mismatches, wrong_seed_differs


# No mismatch is allowed, under either policy. With random real-valued inputs no two
# events coincide at an envelope boundary, so there is no floating-point tie to excuse a
# difference.
#
# History: under cost_aware the hold-fire decision depends continuously on the time (through
# the prediction rule) but is taken only at events, so the outcome depends on which events
# exist. The kernel used to skip events at which the effector concerned could not act (a
# launcher becoming ready while its channels are busy, a threat entering a busy effector's
# envelope), and 1 in about 1,400 random cost-aware scenarios differed from this reference,
# which takes the event list of docs/model.md literally. Under cost_aware the kernel now
# counts every listed event: 0 of 2,000 cost-aware and 0 of 200 laser-heavy cost-aware
# scenarios differ (slow run).
#
# Issue 15 (new scenario families drawing reliability, common-mode failure, pk curves,
# the radar horizon and the preferential policy) found the same kind of difference in 3
# of about 2,400 cost-aware scenarios, also with the new fields stripped and also on the
# code before issue 15: the reference kept as events the last launch opportunities of
# every threat ever held, the kernel only those held at the latest event. The contract
# now says the latter (docs/model.md, "Who engages what"), the reference reads it so, and
# every family of the slow run matches in full.
#
# After issues 14 and 15 were merged, 3 trials of 1 of 757 cost-aware-realism scenarios
# (scenario seed 80776) differed: the reference gave a laser that the weather denies no
# envelope, so a threat entering it was no event; the kernel counted it (as it has since
# it began counting every listed event). The difference lies in the event list, not in
# the new physics (settle time, minimum dwell, drag) or the merged helpers. The contract
# now says such an entry is an event (the event list depends on the geometry only), the
# reference reads it so; the kernel is unchanged.
# test_entry_into_a_denied_lasers_envelope_is_an_event keeps those trials.


def _check_mismatches(make, n_scenarios: int, compared: int, mismatches: list) -> None:
    differing = sorted({s for s, _, _ in mismatches})
    message = (
        f"{len(mismatches)} of {compared} trials in {len(differing)} of {n_scenarios} "
        f"scenarios differ (scenario seed, seed, trial): {mismatches[:5]}"
    )
    assert mismatches == [], message


@pytest.mark.parametrize(
    ("make", "scenarios", "trials"),
    [
        pytest.param(random_scenario, 160, 16, id="mixed"),
        pytest.param(laser_heavy_scenario, 40, 8, id="laser-heavy"),
        pytest.param(cost_aware_scenario, 40, 8, id="cost-aware"),
        pytest.param(cost_aware_laser_scenario, 40, 8, id="cost-aware-laser"),
        pytest.param(realism_scenario, 60, 8, id="realism"),
        pytest.param(cost_aware_realism_scenario, 30, 8, id="cost-aware-realism"),
        pytest.param(preferential_scenario, 60, 8, id="preferential"),
        pytest.param(preferential_laser_scenario, 30, 8, id="preferential-laser"),
    ],
)
def test_kernel_equals_event_simulation_trial_by_trial(make, scenarios, trials):
    """Leakers per group, shots and kills per effector and laser availability: all equal.

    The power check: the reference with the wrong seed must differ on some scenarios.
    """
    n_scenarios, compared, mismatches, wrong_seed_differs = compare_trial_by_trial(
        make, scenarios, trials, 1
    )
    assert n_scenarios > scenarios // 2
    _check_mismatches(make, n_scenarios, compared, mismatches)
    assert wrong_seed_differs >= 5


@pytest.mark.slow
@pytest.mark.parametrize(
    ("make", "scenarios", "trials", "first_seed"),
    [
        pytest.param(random_scenario, 3000, 30, 10_000, id="mixed"),
        pytest.param(laser_heavy_scenario, 1000, 20, 20_000, id="laser-heavy"),
        pytest.param(cost_aware_scenario, 2000, 20, 30_000, id="cost-aware"),
        pytest.param(cost_aware_laser_scenario, 200, 10, 40_000, id="cost-aware-laser"),
        pytest.param(realism_scenario, 2000, 20, 70_000, id="realism"),
        pytest.param(cost_aware_realism_scenario, 1000, 20, 80_000, id="cost-aware-realism"),
        pytest.param(preferential_scenario, 2000, 20, 50_000, id="preferential"),
        pytest.param(preferential_laser_scenario, 500, 10, 60_000, id="preferential-laser"),
    ],
)
def test_kernel_equals_event_simulation_trial_by_trial_long(make, scenarios, trials, first_seed):
    """The same comparison on about 110,000 more trials (a few minutes)."""
    n_scenarios, compared, mismatches, _ = compare_trial_by_trial(
        make, scenarios, trials, first_seed
    )
    _check_mismatches(make, n_scenarios, compared, mismatches)


def test_entry_into_a_denied_lasers_envelope_is_an_event():
    """Regression (slow run, cost-aware-realism, scenario seed 80776): trials 5, 17 and 19
    differed because the reference gave a laser that the weather denies (e0, availability
    0.40) no envelope, so a threat entering it (t1 crossing e0's 8.6 km reach at 46.18 s
    in trial 5) was no event there; the kernel counts it, and at it the railgun e2 no
    longer holds fire on that threat (the cheaper e1 and e3 would now be done after e2's
    last chance) and fires. docs/model.md ("Who engages what") now says such an entry is
    an event; kernel and reference must agree on these trials, and the other reading must
    differ in each (power: the scenario does tell the two apart)."""
    rng = random.Random(80776)
    scenario, warned = load_quiet(cost_aware_realism_scenario(rng))
    assert not warned
    seed = rng.randrange(2**64)
    frame = costx.simulate(scenario, trials=20, seed=seed).trials
    for t in (5, 17, 19):
        kernel = kernel_counts(scenario, frame, t)
        assert kernel["laser_available"][0] is False  # e0 is denied in these trials
        assert reference_counts(scenario, seed, t) == kernel, t
        other = simulate_trial(scenario, seed, t, denied_laser_events=False)
        assert (other.leaked, other.shots, other.kills) != (
            kernel["leaked"],
            kernel["shots"],
            kernel["kills"],
        ), t


def group_hold_scenario() -> dict:
    """Preferential: holding fire on a group's most urgent threat holds the whole group.

    Three drones (100 m/s, seen at 12 km one second apart) against a laser (preferred;
    8 km reach) and an interceptor (pk 0.5, shoot-look-shoot, one channel). At t = 40 s
    the laser starts on drone 0 and will be free again 1 s after killing it; the unit's
    lasing time (magazine_s, from the exact dwells) then holds drone 1's dwell but not
    drone 2's, which starts 100 m farther out. The interceptor holds fire on drone 1
    (the laser will be done with it in time) and with it on the group: it fires at
    drone 2 only once the laser has taken drone 1. Were the group not closed, it would
    fire at drone 2 at t = 40 s, in time for a second shot that the later start lacks.
    """
    fluence, speed = 500.0, 100.0
    drones = threat_fields(
        count=3, speed_mps=speed, detect_range_km=12.0, arrival="stream", window_s=3.0,
        kill_fluence_j_cm2=fluence,
    )  # fmt: skip
    las = costx.load_scenario(
        laser_scenario([drones], [laser_fields(extinction_per_km=0.0, retarget_s=1.0)])
    ).effectors[0]
    first = rl.dwell_s(las, speed, fluence, 8.0)
    t_free = 40.0 + first + 1.0
    r1 = 12.0 - speed * (t_free - 1.0) / 1000.0  # drone 1's range when the laser is free
    d1, d2 = rl.dwell_s(las, speed, fluence, r1), rl.dwell_s(las, speed, fluence, r1 + 0.1)
    data = laser_scenario(
        [drones],
        [
            laser_fields(extinction_per_km=0.0, retarget_s=1.0, magazine_s=first + (d1 + d2) / 2),
            {
                **sequential_scenario(1, 10, 1, 2, 0.5)["effectors"][0],
                "name": "k", "pk": {"d": 0.5}, "max_range_km": 11.0, "min_range_km": 5.0,
                "fire_interval_s": 1.0, "assess_s": 2.0,
            },
        ],
    )  # fmt: skip
    data["scenario"]["policy"] = "preferential"
    data["doctrine"] = {"d": ["las", "k"]}
    return data


def test_preferential_holds_fire_on_the_whole_group():
    """Kernel equals the reference on group_hold_scenario trial by trial; the reading that
    does not close the group (reference with hold_whole_group=False) differs in some
    trials (power: random scenarios almost never tell the two apart)."""
    scenario = costx.load_scenario(group_hold_scenario())
    trials = costx.simulate(scenario, trials=200, seed=9).trials
    other = 0
    for t in range(200):
        kernel = kernel_counts(scenario, trials, t)
        assert kernel == reference_counts(scenario, 9, t), t
        wrong = simulate_trial(scenario, 9, t, hold_whole_group=False)
        other += (wrong.leaked, wrong.shots, wrong.kills) != (
            kernel["leaked"],
            kernel["shots"],
            kernel["kills"],
        )
    assert other >= 20


def test_a_cheaper_effectors_plan_version_ends_a_holders_shortcut():
    """Regression for the cost_aware shortcut (kernels/engagement.py, ``_hold_sig``): a
    holder whose last walk found only holds skips its next walks while its own plan
    version and those of the cheaper effectors whose plans its holds consult are
    unchanged (and until their horizons). Leaving the cheaper effectors' versions out
    changed trial 44 of this cost-aware-laser scenario (scenario seed 96, seed 96) and no
    other of 32,100 trials: 321 random cost-aware scenarios of three families (seeds 0 to
    149), 100 trials each; the fast suite passed with it. (The cheaper effector's plan
    changes with engagements of threats the holder cannot engage, which its own version
    does not count.)"""
    scenario, warned = load_quiet(cost_aware_laser_scenario(random.Random(96)))
    assert not warned
    frame = costx.simulate(scenario, trials=48, seed=96).trials
    differ = [
        t
        for t in range(40, 48)
        if reference_counts(scenario, 96, t) != kernel_counts(scenario, frame, t)
    ]
    assert differ == []


@pytest.mark.parametrize(
    ("make", "scenario_seed", "trials"),
    [
        (preferential_scenario, 121, range(4)),
        (preferential_laser_scenario, 73, range(4)),
        (cost_aware_laser_scenario, 65, range(2)),
        (cost_aware_realism_scenario, 18, (47,)),
    ],
)
def test_a_remembered_laser_dwell_is_used_only_for_its_start(make, scenario_seed, trials):
    """Regression for the memory of a laser's dwell (kernels/engagement.py, ``memo``): a
    dwell is remembered with the start it was computed for (by the preferential hold rule,
    ``_done_by``, or a cost_aware plan, ``_plan``) and reused, by those and by the
    engagement itself, only for that start. Reusing it in ``_done_by`` for any start
    changed the trials of 12 of 250 random preferential scenarios (two families, seeds 0
    to 199 without warnings, 100 trials each), trial 0 of the two preferential scenarios
    here among them, and the fast suite passed with it. Reusing it in the engagement for
    any start changed 19 of 307 random cost_aware scenarios (two families, seeds 0 to
    199, 50 trials each), these two among them (trials 1 and 47 of them compared here)."""
    scenario, warned = load_quiet(make(random.Random(scenario_seed)))
    assert not warned
    frame = costx.simulate(scenario, trials=max(trials) + 1, seed=scenario_seed).trials
    differ = [
        t
        for t in trials
        if reference_counts(scenario, scenario_seed, t) != kernel_counts(scenario, frame, t)
    ]
    assert differ == []


def same_range_railgun_scenario() -> dict:
    """Railguns with drag engage, at their detection, drones and missiles that are all
    seen at 10 km: every salvo's first round is launched at exactly 10 km, whatever the
    threat's speed or the gun. Ten drones and ten missiles, 30 s apart and alternating,
    so the first gun (one channel, one engagement per threat, a salvo of two 6 s apart)
    is free at each detection; then two drones at once at 700 s, one for each gun, the
    second with half the ballistic coefficient (more drag). The kill probability falls
    with the time of flight, which differs between the two speeds and the two guns."""
    threats = [
        threat_fields("slow", count=10, speed_mps=50.0, detect_range_km=10.0,
                      arrival="stream", window_s=600.0),
        threat_fields("fast", count=10, speed_mps=250.0, detect_range_km=10.0,
                      arrival="stream", start_s=30.0, window_s=600.0),
        threat_fields("pair", count=2, speed_mps=50.0, detect_range_km=10.0, start_s=700.0),
    ]  # fmt: skip
    gun = {
        "name": "gun", "use": "hvp_railgun", "rounds": 600, "channels": 1, "salvo_size": 2,
        "max_engagements": 1, "assess_s": 1.0, "pk": {"slow": 0.6, "fast": 0.6, "pair": 0.6},
        "acquisition_usd": 0.0,  # (no capital: no costing table needed)
    }  # fmt: skip
    gun2 = {**gun, "name": "gun2", "ballistic_coefficient_kg_m2": 3000.0}
    return {"scenario": {"name": "same_range"}, "threats": threats, "effectors": [gun, gun2]}


def test_remembered_railgun_flights_are_kept_per_threat_group():
    """The engine remembers a railgun's flight times by the range at launch
    (kernels/engagement.py, FLIGHT_SLOTS), per gun and threat group: the same range gives
    another flight at another closing speed or drag. Kernel equals the reference trial by
    trial here, where both groups and both guns are engaged at the same range. Leaving
    the group out of the cache's key fails this test in 8 of the 60 trials, leaving the
    gun out in 16. (A slot that answers for any range fails
    test_kernel_equals_event_simulation_trial_by_trial.)"""
    scenario, warned = load_quiet(same_range_railgun_scenario())
    assert not warned
    for gun in scenario.effectors:  # drag: flights come from the Newton solve
        assert gun.ballistic_coefficient_kg_m2 > 0.0
    frame = costx.simulate(scenario, trials=60, seed=5).trials
    # Every threat engaged (a threat one gun missed may get a salvo from the other).
    assert (frame["shots_gun"] + frame["shots_gun2"]).min() >= 44
    assert frame["shots_gun2"].min() >= 2
    differ = [
        t
        for t in range(60)
        if reference_counts(scenario, 5, t) != kernel_counts(scenario, frame, t)
    ]
    assert differ == []


def test_a_tasks_flight_cache_is_bounded():
    """The cache of flight times takes at most FLIGHT_BYTES a task, in a power of two of
    slots (the hash is masked with slots - 1), and nothing without drag."""
    from costx.kernels import engagement as k

    def slots(states: int, effectors: int, groups: int, drag: bool) -> int:
        eff_i = np.zeros((effectors, k.EI_COLUMNS), np.int64)
        eff_i[:, k.EI_CHANNELS] = 1
        eff_f = np.zeros((states, effectors, k.EF_COLUMNS))
        eff_f[-1, 0, k.EF_DRAG_K] = 1e-4 if drag else 0.0  # in one weather state
        counts = np.ones((1, groups), np.int64)
        scratch = k._scratch(k.POLICY_LAYERED, counts, groups, eff_f, eff_i)
        (flights,) = [a for a in scratch if a.ndim == 5 and a.shape[4] == 2]  # (states,
        # eff, groups, slots, 2); the flight time tables (cost_aware) end in 3
        assert flights.shape[:3] == (states, effectors, groups)
        assert flights.nbytes <= k.FLIGHT_BYTES
        return flights.shape[3]

    assert slots(1, 4, 3, drag=True) == k.FLIGHT_SLOTS
    assert slots(1, 4, 3, drag=False) == 0
    big = slots(4, 40, 50, drag=True)  # 131 MB at FLIGHT_SLOTS
    assert 1 <= big < k.FLIGHT_SLOTS and big & (big - 1) == 0


def test_a_tasks_flight_time_tables_are_bounded():
    """The flight time tables of cost_aware's plans (kernels/engagement.py, ``_plan``)
    take at most FLIGHT_BYTES a task, in fewer cells where more would not fit and none
    below 16 (the plans are then exact); nothing without drag or under another policy."""
    from costx.kernels import engagement as k

    def table(states, effectors, groups, drag=True, policy=k.POLICY_COST_AWARE):
        eff_i = np.zeros((effectors, k.EI_COLUMNS), np.int64)
        eff_i[:, k.EI_CHANNELS] = 1
        eff_f = np.zeros((states, effectors, k.EF_COLUMNS))
        eff_f[-1, 0, k.EF_DRAG_K] = 1e-4 if drag else 0.0
        counts = np.ones((1, groups), np.int64)
        ftab = k._scratch(policy, counts, groups, eff_f, eff_i)[-1]
        assert ftab.ndim == 5 and ftab.shape[4] == 3 and ftab.shape[0] == states
        assert ftab.nbytes <= k.FLIGHT_BYTES
        return ftab.shape[1], ftab.shape[3] - 1

    assert table(1, 4, 3) == (4, k.FLIGHT_TABLE_CELLS)
    assert table(1, 4, 3, drag=False)[0] == 0
    assert table(1, 4, 3, policy=k.POLICY_LAYERED)[0] == 0
    assert table(1, 4, 3, policy=k.POLICY_PREFERENTIAL)[0] == 0
    rows, cells = table(4, 10, 20)  # 19.7 MB at FLIGHT_TABLE_CELLS
    assert rows == 10 and 16 <= cells < k.FLIGHT_TABLE_CELLS
    assert table(8, 40, 50)[0] == 0  # 16 cells would take 6.5 MB: no table
