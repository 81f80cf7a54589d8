"""Confidence intervals of the summary: Wilson intervals for probabilities against scipy,
the exact bound for a value seen in every trial (rule of three), intervals that never
leave a measure's range (property test over generated scenarios), never a zero-width
interval for a sampled value, and paired differences that keep their sign."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scenarios import interceptor, laser, scenario, threat
from scipy import stats
from test_invariants import scenarios as engagement_scenarios

import costx
from costx.aggregate import (
    column_bounds,
    measure_range,
    measures,
    no_variation_share,
    trial_integers,
    wilson_interval,
)

# -- Wilson and the zero-event bound against scipy ---------------------------------------


@pytest.mark.parametrize(("k", "n"), [(1, 10), (5, 100), (50, 100), (97, 100), (3, 7), (1, 2)])
def test_wilson_interval_matches_scipy(k, n):
    reference = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    low, high = wilson_interval(k / n, n)
    assert low == pytest.approx(reference.low, abs=1e-12)
    assert high == pytest.approx(reference.high, abs=1e-12)


def test_wilson_by_hand():
    # 10 of 40: centre (0.25 + 1.96^2/80) / (1 + 1.96^2/40), half-width
    # 1.96 sqrt(0.25 * 0.75 / 40 + 1.96^2 / 6400) / (1 + 1.96^2/40), z = 1.959964.
    z = 1.959963984540054
    centre = (0.25 + z * z / 80) / (1 + z * z / 40)
    half = z * math.sqrt(0.25 * 0.75 / 40 + z * z / 6400) / (1 + z * z / 40)
    assert wilson_interval(0.25, 40) == pytest.approx((centre - half, centre + half), abs=1e-15)
    assert (centre - half, centre + half) == pytest.approx((0.1419, 0.4019), abs=1e-4)


@pytest.mark.parametrize("n", [1, 10, 100, 1000, 100_000])
def test_zero_event_bound_is_the_exact_one_sided_binomial_bound(n):
    reference = stats.binomtest(0, n, alternative="less").proportion_ci(
        confidence_level=0.95, method="exact"
    )
    assert no_variation_share(n) == pytest.approx(reference.high, rel=1e-12)
    if n >= 100:  # the rule of three
        assert no_variation_share(n) == pytest.approx(3 / n, rel=0.02)
    assert no_variation_share(100) == pytest.approx(0.0295, abs=1e-4)


def _run(data, trials, seed=0, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", costx.CostxWarning)
        scenario_ = costx.load_scenario(data)
    return scenario_, costx.simulate(scenario_, trials=trials, seed=seed, **kw)


def test_p_any_leak_gets_the_wilson_interval_of_k_of_n():
    """Wilson's end away from a boundary; near 1, with at most 100 trials without a leak
    (EXACT_END_COUNT), the exact Clopper-Pearson end (tests/test_interval_exactness.py)."""
    data = scenario([threat("drone", 6)], [interceptor(pk={"drone": 0.6}, rounds=6)])
    _, result = _run(data, trials=400, seed=4)
    k = int((result.trials["leaked"] > 0).sum())
    assert 100 < k and 0 < 400 - k <= 100
    row = result.summary().loc["p_any_leak"]
    reference = stats.binomtest(k, 400).proportion_ci(confidence_level=0.95, method="wilson")
    exact = stats.binomtest(k, 400).proportion_ci(confidence_level=0.95, method="exact")
    assert row["mean"] == k / 400
    assert row["ci95_low"] == pytest.approx(reference.low, abs=1e-12)
    assert row["ci95_high"] == pytest.approx(exact.high, abs=1e-12)


def test_a_leak_that_never_happened_gets_the_rule_of_three():
    """0 leaks of the second group in 100 trials: P(any leak of it) is at most 3.62 % (each
    end of the two-sided 95 % interval at 97.5 %), so its mean leakers at most count x
    3.62 %; no 'exact', no zero-width interval."""
    data = scenario(
        [threat("drone", 4), threat("slow", 2, kill_fluence_j_cm2=None)],
        [interceptor(pk={"drone": 0.5, "slow": 1.0}, rounds=40, max_engagements=3)],
    )
    scenario_, result = _run(data, trials=100, seed=1)
    assert (result.trials["leaked_slow"] == 0).all()
    summary = result.summary()
    u = 1 - 0.025 ** (1 / 100)
    row = summary.loc["leaked_slow"]
    assert (row["mean"], row["ci95_low"], row["std_error"]) == (0.0, 0.0, 0.0)
    assert row["ci95_high"] == pytest.approx(2 * u, rel=1e-12)
    # The interceptor's magazine is never emptied: the exact 0-event bound on P(dry).
    assert scenario_.campaign is None
    # A probability that was 1 (or 0) in every trial: [1 - u, 1] (or [0, u]).
    _, always = _run(
        scenario([threat("drone", 3, kill_fluence_j_cm2=None)], [laser()]), trials=100, seed=0
    )
    always = always.summary()
    assert always.loc["p_any_leak", "mean"] == 1.0
    assert always.loc["p_any_leak", "ci95_low"] == pytest.approx(1 - u, rel=1e-12)
    assert always.loc["p_any_leak", "ci95_high"] == 1.0


def test_only_fixed_values_have_zero_width_intervals():
    data = scenario([threat("drone", 6)], [interceptor(pk={"drone": 0.9}, rounds=4)])
    _, result = _run(data, trials=200, seed=2)
    summary = result.summary()
    # Four rounds against six drones: the magazine empties in every trial.
    assert (result.trials["shots_sm2"] == 4).all()
    row = summary.loc["shots_sm2"]
    assert row["std_error"] == 0.0 and row["ci95_high"] == 4.0
    assert row["ci95_low"] == pytest.approx(4 - 4 * no_variation_share(200, 0.975), rel=1e-12)
    cost = summary.loc["cost_sm2_usd"]
    assert cost["ci95_low"] < cost["mean"] == cost["ci95_high"]
    zero_width = summary.index[summary["ci95_low"] == summary["ci95_high"]]
    # fixed by the scenario, not sampled: the raid's cost and the capital charges
    assert list(zero_width) == ["attack_cost_usd", "capital_cost_sm2_usd", "capital_cost_usd"]


def test_a_ratio_that_is_the_same_in_every_trial_gets_an_interval():
    """A laser that kills every threat it lases: cost per kill is its cost per shot in
    every trial, sampled all the same."""
    data = scenario([threat("drone", 5)], [laser(availability=0.6)])
    _, result = _run(data, trials=100, seed=0)
    frame = result.trials
    assert (frame["shots_las"] == frame["kills_las"]).all() and frame["kills_las"].var() > 0
    row = result.summary().loc["cost_per_kill_las_usd"]
    assert row["mean"] == 10.0 and row["std_error"] == 0.0
    assert 0.0 <= row["ci95_low"] < 10.0 < row["ci95_high"] < math.inf


# -- the range property -----------------------------------------------------------------------


@st.composite
def analysed_scenarios(draw):
    """Engagement scenarios, some with a campaign (with resupply), some with a base."""
    data = draw(engagement_scenarios())
    if draw(st.booleans()):
        kinetic = [e["name"] for e in data["effectors"] if e["kind"] != "laser"]
        data["campaign"] = {
            "salvos": draw(st.integers(1, 3)),
            "interval_h": draw(st.floats(0.0, 24.0)),
            "resupply_rounds": {k: draw(st.integers(0, 10)) for k in kinetic},
        }
    if draw(st.booleans()):
        data["base"] = {
            "runways": draw(st.integers(0, 2)),
            "repair_h_per_cut": draw(st.floats(0.0, 6.0)),
            "repair_teams": draw(st.integers(0, 2)),
            "dispersal_sites": draw(st.integers(1, 2)),
            "assets": [
                {
                    "name": "jet",
                    "count": draw(st.integers(0, 6)),
                    "unit_cost_usd": 80e6,
                    "sheltered": draw(st.booleans()),
                }
            ],
        }
        for t in data["threats"]:
            t["targets"] = {"jet": 1.0}
            if data["base"]["runways"]:
                t["targets"]["runway"] = draw(st.floats(0.0, 2.0))
            t["warhead"] = {
                "kind": "unitary",
                "p_kill_open": draw(st.floats(0.0, 1.0)),
                "p_kill_sheltered": draw(st.floats(0.0, 1.0)),
                "p_cut_runway": draw(st.floats(0.0, 1.0)),
            }
    return data


def _above_underflow(row) -> bool:
    """Whether the interval has a width that floating point can show: not within a few
    orders of the smallest double, and a half-width (1.96 standard errors) above the
    spacing of doubles at the mean ($1 plus a 3e-89 laser shot varies by 3e-89: 1.0 to
    1.0). A standard error of 0 (no variation seen) must still give a width."""
    scale = max(abs(row["mean"]), abs(row["ci95_low"]), abs(row["ci95_high"]))
    if scale != 0.0 and scale <= 1e-290:
        return False
    se = row["std_error"]
    return not (0.0 < se and 1.96 * se <= 2.0 * math.ulp(abs(row["mean"])))


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(analysed_scenarios(), st.integers(1, 60), st.integers(0, 2**32))
def test_intervals_never_leave_the_measure_range(data, trials, seed):
    """Over generated scenarios, trial counts and seeds: every interval holds its mean,
    lies within the measure's range, and has width above zero unless the measure is fixed
    by the scenario; and the ranges are right (every per-trial value lies within its
    column's bound)."""
    scenario_, result = _run(data, trials=trials, seed=seed, keep_trials=False)
    summary = result.summary()
    columns = result.moments.columns
    bounds = column_bounds(scenario_, columns)
    # The bounds hold in every trial (recomputed from a kept run of the same trials).
    _, kept = _run(data, trials=trials, seed=seed)
    assert kept.moments == result.moments
    for measure in measures(scenario_, columns):
        row = summary.loc[measure.name]
        low, high = measure_range(measure, bounds)
        if math.isnan(row["mean"]):
            continue
        assert low <= row["ci95_low"] <= row["mean"] <= row["ci95_high"] <= high, measure.name
        # fixed by the scenario: a constant, or a ratio with a numerator of 0 in every
        # trial (the cost per kill of a laser whose shots cost nothing)
        fixed = not measure.num.any() and (measure.den is None or measure.const == 0.0)
        if fixed:
            assert row["ci95_low"] == row["ci95_high"]
        elif high - low > 1e-300 and _above_underflow(row):
            # (a range or a value within a few orders of the smallest double, 2.2e-308,
            # has no width left to check: a cost of 5e-324 a shot)
            assert row["ci95_low"] < row["ci95_high"], measure.name
        if measure.unit == "probability":
            assert 0.0 <= row["ci95_low"] and row["ci95_high"] <= 1.0


def test_a_variance_that_overflows_is_no_error():
    """A threat that costs 1.2e-266 dollars gives a cost measure's gradient near 1e266, whose
    float variance overflows (numpy warns, an error under the test suite's warnings
    filter): the exact moments then decide whether the value varies (``_varies``). The
    case the interval property above met on an AMD machine, depending on the tests run
    before it; without the guard the summary raises here."""
    base = {
        "runways": 0,
        "repair_h_per_cut": 0.0,
        "repair_teams": 0,
        "dispersal_sites": 1,
        "assets": [{"name": "jet", "count": 2, "unit_cost_usd": 80e6, "sheltered": False}],
    }
    warhead = {"kind": "unitary", "p_kill_open": 1.0, "p_kill_sheltered": 0.0, "p_cut_runway": 0.0}
    data = {
        "scenario": {"name": "h", "policy": "layered"},
        "threats": [{"name": "t0", "count": 2, "unit_cost_usd": 1.2122448274115325e-266,
                     "speed_mps": 30.0, "detect_range_km": 2.0, "arrival": "simultaneous",
                     "targets": {"jet": 1.0}, "warhead": warhead}],
        "effectors": [laser(name="l0", units=0, availability=0.0, cost_per_shot_usd=0.0,
                            min_range_km=1.0, max_range_km=2.0)],
        "base": base,
    }  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        _, result = _run(data, trials=2, seed=0, keep_trials=False)
        summary = result.summary()
    assert summary.loc["leakers", "mean"] == 2.0
    for name, row in summary.iterrows():
        if not math.isnan(row["mean"]):
            assert row["ci95_low"] <= row["mean"] <= row["ci95_high"], name


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          derandomize=True)  # fmt: skip
@given(analysed_scenarios(), st.integers(0, 2**32))
def test_column_bounds_hold_in_every_trial(data, seed):
    """The bounds behind the ranges are right: no per-trial value exceeds them."""
    from costx.simulation import Lowered

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", costx.CostxWarning)
        scenario_ = costx.load_scenario(data)
    values = trial_integers(scenario_, Lowered(scenario_).run(0, 200, seed))
    bounds = column_bounds(scenario_, list(values))
    for (name, column), bound in zip(values.items(), bounds, strict=True):
        assert column.min() >= 0, name
        assert column.max() <= bound, (name, int(column.max()), bound)


@pytest.mark.parametrize(("resupply", "bound"), [(2, 6 + 3 * 2), (500, 6 + 3 * 6)])
def test_a_magazine_s_shots_bound_is_reached_with_resupply(resupply, bound):
    """The shots bound of a kinetic effector over a campaign is tight: the magazine's
    rounds, then ``min(resupply, rounds)`` in each later salvo (a magazine is topped up
    to at most its size). A raid far bigger than the magazine (20 threats, pk 0.3, 6
    rounds, 4 salvos) empties it in every salvo, so every trial fires exactly the bound:
    6 + 3 x 2 with a resupply of 2, 6 + 3 x 6 with a resupply of 500."""
    from costx.simulation import Lowered

    data = scenario(
        [threat("drone", 20, kill_fluence_j_cm2=None)],
        [interceptor(pk={"drone": 0.3}, rounds=6, max_engagements=1)],
    )
    data["campaign"] = {"salvos": 4, "interval_h": 24.0, "resupply_rounds": {"sm2": resupply}}
    scenario_ = costx.load_scenario(data)
    values = trial_integers(scenario_, Lowered(scenario_).run(0, 200, 0))
    assert column_bounds(scenario_, ["shots_sm2"])[0] == bound
    assert (values["shots_sm2"] == bound).all()  # reached in every trial
    assert column_bounds(scenario_, ["kills_sm2"])[0] == 4 * 20  # every threat launched


def test_a_laser_that_gives_threats_up_can_lase_more_threats_than_were_launched():
    """Two units whose lasing time runs out before the kill each give the one threat up:
    two shots at one threat, within the bound launched + units per salvo."""
    from costx.simulation import Lowered

    data = scenario(
        [threat("drone", 1, kill_fluence_j_cm2=5000.0)], [laser(units=2, magazine_s=5.0)]
    )
    scenario_ = costx.load_scenario(data)
    shots = trial_integers(scenario_, Lowered(scenario_).run(0, 20, 0))["shots_las"]
    assert (shots == 2).all()
    assert column_bounds(scenario_, ["shots_las"])[0] == 1 + 2


# -- paired differences -------------------------------------------------------------------


def test_paired_differences_keep_their_sign_and_an_unmoved_measure_gets_an_interval():
    data = scenario(
        [threat("drone", 8, kill_fluence_j_cm2=None)],
        [interceptor(pk={"drone": 0.7}, rounds=6), laser(units=1)],
    )
    n = 300
    grid = {"effectors.sm2.rounds": [6, 12]}
    result = costx.sweep(data, grid, trials=n, seed=3, keep_trials=True)
    compare = result.compare().set_index(["point", "measure"])
    leakers = compare.loc[(1, "leakers")]
    assert leakers["ci95_high"] < 0  # more rounds, fewer leakers: a negative difference
    assert leakers["ci95_low"] < leakers["diff"] < leakers["ci95_high"]
    # The paired standard error is that of the per-trial differences (same trials, same
    # seed): sd(x1 - x0) / sqrt(n), which needs the covariance of the two points (the
    # trials are correlated; leaving it out would give sqrt(var0 + var1) / sqrt(n)). Both
    # come from the same integer counts, so they agree to rounding (rel 1e-9).
    trials = result.trials.sort_values(["point", "trial"])
    for measure, column in (("leakers", "leaked"), ("kills_sm2", "kills_sm2")):
        x0, x1 = (trials.loc[trials["point"] == p, column].to_numpy(float) for p in (0, 1))
        assert len(x0) == len(x1) == n
        row = compare.loc[(1, measure)]
        assert row["diff"] == pytest.approx((x1 - x0).mean(), rel=1e-12)
        se = (x1 - x0).std(ddof=1) / math.sqrt(n)
        assert row["std_error"] == pytest.approx(se, rel=1e-9)
        unpaired = math.sqrt(x0.var(ddof=1) + x1.var(ddof=1)) / math.sqrt(n)
        assert abs(se - unpaired) > 0.1 * se  # the covariance matters here
    # The laser cannot touch this threat: its shots differ by exactly 0 in every trial,
    # which is a sampled statement, not an exact one.
    shots = compare.loc[(1, "shots_las")]
    assert shots["diff"] == 0.0 and shots["std_error"] == 0.0
    assert shots["ci95_low"] < 0.0 < shots["ci95_high"]
    # Against itself the baseline plays the same trials: every difference is exactly 0,
    # with a zero-width interval (not the bound for a sampled value that never varied,
    # which an unmoved measure of another point gets, above).
    own = compare.loc[0].dropna()  # (no cost per kill where nothing was killed)
    assert (own["diff"] == 0).all()
    assert ((own["ci95_low"] == 0) & (own["ci95_high"] == 0)).all()


def test_no_variation_share_for_one_trial():
    assert no_variation_share(1) == pytest.approx(0.95)
    assert math.isnan(no_variation_share(0))
    assert np.isfinite(wilson_interval(0.5, 2.5)).all()


def test_a_ship_s_columns_are_bounded():
    """Hits on a ship are at most the threats launched and the ship is lost at most
    once, in every trial; so a damage difference that was 0 in every trial has a finite
    interval (not an unbounded one)."""
    scenario_, result = _run("ddg_drone_swarm", trials=2000, seed=1)
    columns = result.moments.columns
    bounds = dict(zip(columns, column_bounds(scenario_, columns), strict=True))
    assert bounds["ship_hits"] == scenario_.launched and bounds["ship_lost"] == 1
    trials = result.trials
    assert trials["ship_hits"].max() <= bounds["ship_hits"]
    assert trials["ship_lost"].astype(int).max() <= 1
    row = result.summary().loc["damage_usd"]
    assert math.isfinite(row["ci95_high"])
