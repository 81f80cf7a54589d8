"""The summary's intervals hold their stated level where a normal or first-order rule would
not: exact binomial coverage of a probability's 95 % interval near 0, the false-drop rate
of screening's one-sided 99.9 % decisions, the two-sided level of the bound for a value
seen in every trial, and exact extremes of a ratio that did not vary.

Every check is an exact calculation (binomial probabilities summed over every outcome,
extremes over every vertex of a box), with references from scipy or from brute force,
not from the code under test; so no tolerance is statistical.
"""

import itertools
import math

import numpy as np
import pytest
from scenarios import interceptor, laser, scenario, threat
from scipy import stats

import costx
from costx import analysis
from costx.aggregate import (
    EXACT_END_COUNT,
    Measure,
    Moments,
    column_bounds,
    exact_lower_end,
    measures,
    moment_columns,
    no_variation_interval,
    paired_difference_table,
    summary_table,
)

Z95 = 1.959963984540054


def _load(data):
    return costx.load_scenario(data)


@pytest.fixture(scope="module")
def one_group():
    return _load(scenario([threat("drone", 4)], [interceptor(rounds=6)], name="s"))


def _leaks(s, x: int, n: int) -> Moments:
    """Moments of n trials of which the first x leaked one drone (nothing else fired)."""
    values = {c: np.zeros(n, np.int64) for c in moment_columns(s)}
    values["any_leak"][:x] = 1
    values["leaked_drone"][:x] = 1
    return Moments.of(values)


# -- the exact (Clopper-Pearson) end ---------------------------------------------------------


@pytest.mark.parametrize("n", [2, 3, 10, 100, 1000, 10**6, 10**9])
@pytest.mark.parametrize("alpha", [0.025, 0.001, 0.0005, 1e-9])
def test_exact_lower_end_is_the_beta_quantile(n, alpha):
    counts = {1, 2, 3, 7, 30, 100, n - 1, n}  # the small counts it serves (<= 100)
    for x in sorted(c for c in counts if 1 <= c <= min(n, 100)):
        reference = stats.beta.ppf(alpha, x, n - x + 1)
        assert exact_lower_end(x, n, alpha) == pytest.approx(reference, rel=1e-10)
    assert exact_lower_end(0, n, alpha) == 0.0


# -- probabilities: exact coverage of the summary's 95 % interval ----------------------------


@pytest.mark.parametrize("n", [100, 1000])
def test_probability_interval_covers_95_percent_near_zero(one_group, n):
    """Exact coverage, P(interval(X) contains p) for X ~ Binomial(n, p), summed over every
    X with non-negligible probability (X <= 60: P(X > 60) < 1e-30 for n p <= 8), at 400 p
    with n p from 0.02 to 8. Wilson alone falls to 0.838 (just below its lower end for one
    event); with the exact end near 0 it stays above 0.95 (0.93 is asserted: Wilson's own
    coverage at moderate n p oscillates down to about 0.93)."""
    xs = np.arange(61)
    ends = []
    for x in xs:
        row = summary_table(one_group, _leaks(one_group, int(x), n)).loc["p_any_leak"]
        ends.append((row["ci95_low"], row["ci95_high"]))
    low, high = np.array(ends).T
    coverage = []
    for p in np.geomspace(0.02 / n, 8 / n, 400):
        pmf = stats.binom.pmf(xs, n, p)
        coverage.append(pmf[(low <= p) & (p <= high)].sum())
    assert min(coverage) >= 0.93


def test_screening_drops_a_feasible_point_at_most_one_time_in_a_thousand(one_group):
    """The audit's table: a point whose true P(any leak) is exactly the requirement's bound
    is screened out (infeasible with 99.9 % confidence) with probability at most 0.001,
    computed exactly (binomial tail from the first leak count that drops it). Wilson's
    lower end at z = 3.09 dropped such a point up to 0.0488 of the time."""
    n = 1000
    for bound in (2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3):
        requirement = analysis.Requirement("p_any_leak", "<=", bound)
        first = next(
            x
            for x in range(n + 1)
            if requirement.violated(
                analysis.estimate(one_group, _leaks(one_group, x, n), "p_any_leak"),
                analysis.Z_SCREEN,
            )
        )
        assert stats.binom.sf(first - 1, n, bound) <= 0.001, bound


@pytest.mark.parametrize("x", [1, 2, 5, 20, 100])  # 100: EXACT_END_COUNT
def test_one_sided_lower_bound_of_a_few_events_is_exact(one_group, x):
    """At z = 3.09 (screening) the lower end for x events of 1000 trials is the exact
    one-sided 99.9 % bound; so is the summary's at 97.5 %."""
    assert EXACT_END_COUNT >= 100
    n = 1000
    e = analysis.estimate(one_group, _leaks(one_group, x, n), "p_any_leak")
    assert e.low(analysis.Z_SCREEN) == pytest.approx(stats.beta.ppf(0.001, x, n - x + 1), rel=1e-9)
    assert e.ci95_low == pytest.approx(stats.beta.ppf(0.025, x, n - x + 1), rel=1e-9)


def test_the_exact_end_serves_a_0_1_outcome_not_a_share():
    """In a three-salvo campaign, P(any leak) is 0/1 in each trial: 3 leaks of 200 get the
    exact end near 0. A laser's availability is a share of the salvos (0, 1/3, 2/3, 1):
    its effective number of trials is fractional, and it keeps plain Wilson (reference:
    the formula, with the effective n from the per-trial shares)."""
    data = scenario([threat("drone", 4)], [laser()], name="c")
    data["campaign"] = {"salvos": 3, "interval_h": 24.0}
    s = _load(data)
    n = 200
    values = {c: np.zeros(n, np.int64) for c in moment_columns(s)}
    values["any_leak"][:3] = 1
    values["leaked_drone"][:3] = 1
    available = np.full(n, 3, np.int64)
    available[:4] = [0, 1, 2, 2]
    values["laser_available_las"] = available
    summary = summary_table(s, Moments.of(values))
    leak = summary.loc["p_any_leak"]
    assert leak["ci95_low"] == pytest.approx(stats.beta.ppf(0.025, 3, n - 2), rel=1e-9)
    share = available / 3
    p = share.mean()
    n_eff = p * (1 - p) / (share.var(ddof=1) / n) * n / (n - 1)
    assert not math.isclose(n_eff, n, rel_tol=1e-3)
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * n_eff)) / (1 + z2 / n_eff)
    half = Z95 * math.sqrt(p * (1 - p) / n_eff + z2 / (4 * n_eff**2)) / (1 + z2 / n_eff)
    row = summary.loc["laser_available_las"]
    assert (row["ci95_low"], row["ci95_high"]) == pytest.approx(
        (centre - half, centre + half), rel=1e-9
    )


# -- a value seen in every trial: the two-sided level ----------------------------------------


@pytest.mark.parametrize("n", [1, 10, 100, 1000])
def test_a_probability_seen_in_no_trial_gets_the_two_sided_exact_bound(one_group, n):
    """0 of n: the summary's 95 % interval is 0 to the two-sided exact 95 % upper bound
    (97.5 % one-sided; 0 of 100: 3.62 %, not the 90 % interval's 2.95 %); all n of n its
    mirror. A decision at another z keeps the one-sided level Phi(z)."""
    exact = stats.binomtest(0, n).proportion_ci(confidence_level=0.95, method="exact")
    row = summary_table(one_group, _leaks(one_group, 0, n)).loc["p_any_leak"]
    assert (row["ci95_low"], row["ci95_high"]) == (0.0, pytest.approx(exact.high, rel=1e-12))
    row = summary_table(one_group, _leaks(one_group, n, n)).loc["p_any_leak"]
    assert (row["ci95_low"], row["ci95_high"]) == (pytest.approx(1 - exact.high), 1.0)
    e = analysis.estimate(one_group, _leaks(one_group, 0, n), "p_any_leak")
    one_sided = stats.binomtest(0, n, alternative="less").proportion_ci(0.95, method="exact")
    assert e.high(1.6448536269514722) == pytest.approx(one_sided.high, rel=1e-12)
    # Z95 is the summary's own interval, and a z just above it moves it only a little.
    assert e.high(Z95 + 1e-9) == pytest.approx(e.high(Z95), rel=1e-7)
    if n == 100:
        assert row["ci95_low"] == pytest.approx(1 - 0.0362, abs=1e-4)


# -- a ratio that did not vary: exact extremes ------------------------------------------------


def _vertex_range(measure: Measure, mu, bounds, u):
    """Brute force: the measure at (1 - u) mu + u v for every vertex v of the box."""
    values = []
    for corner in itertools.product(*[(0.0, b) for b in bounds]):
        values.append(measure.value((1 - u) * mu + u * np.array(corner)))
    return min(values), max(values)


@pytest.fixture(scope="module")
def deterministic():
    """Four drones, each killed by the first round (pk 1): 4 shots, 4 kills every trial."""
    return _load(
        scenario(
            [threat("drone", 4, arrival="uniform", window_s=300.0)],
            [interceptor(pk={"drone": 1.0}, rounds=20, max_engagements=1)],
            name="det",
        )
    )


def _same_every_trial(s, n, **fixed) -> Moments:
    values = {c: np.zeros(n, np.int64) for c in moment_columns(s)}
    for name, value in fixed.items():
        values[name][:] = value
    return Moments.of(values)


@pytest.mark.parametrize("n", [1, 3, 10, 100])
def test_cost_per_kill_seen_the_same_in_every_trial_gets_its_exact_extremes(deterministic, n):
    """4 shots and 4 kills in each of n trials. At most a share u (the exact two-sided 95 %
    bound for 0 of n) of trials could differ, anywhere in the box of shots and kills: the
    interval is the smallest and largest cost per kill that allows (over the box's
    vertices), not the first-order one (n = 1: 11.5 million where 392 million is
    reachable)."""
    s = deterministic
    m = _same_every_trial(s, n, shots_sm2=4, kills_sm2=4)
    row = summary_table(s, m).loc["cost_per_kill_usd"]
    u = stats.beta.ppf(0.975, 1, n)
    cols = list(m.columns)
    keep = [cols.index("shots_sm2"), cols.index("kills_sm2")]
    measure = next(x for x in measures(s, cols) if x.name == "cost_per_kill_usd")
    small = Measure("r", measure.num[keep], "", measure.const, measure.den[keep])
    low, high = _vertex_range(small, m.mean()[keep], column_bounds(s, cols)[keep], u)
    assert row["mean"] == 2e6
    assert (row["ci95_low"], row["ci95_high"]) == pytest.approx((low, high), rel=1e-12)
    if n == 1:
        assert row["ci95_high"] == pytest.approx(392e6, rel=1e-12)
    # Paired against itself: the difference is 0 in every trial, and may be as low as one
    # side's least minus the other's most.
    joint = {f"{side}:{c}": v for side in "pb" for c, v in
             zip(cols, [np.full(n, int(mu)) for mu in m.mean()], strict=True)}  # fmt: skip
    diff = paired_difference_table(s, s, Moments.of(joint)).loc["cost_per_kill_usd"]
    assert diff["mean"] == 0.0
    assert (diff["ci95_low"], diff["ci95_high"]) == pytest.approx(
        (low - high, high - low), rel=1e-12
    )


def test_ratio_extremes_over_many_columns_match_every_vertex():
    """Random ratios of 8 columns (numerator weights of either sign, a constant, a
    non-negative denominator): the no-variation interval equals the extremes over all 256
    vertices (Dinkelbach's search visits only a few). Seeded; exact up to rounding."""
    rng = np.random.default_rng(20_260_515)
    k = 8
    for _ in range(40):
        num = rng.normal(size=k) * (rng.random(k) < 0.8)
        den = rng.random(k) * (rng.random(k) < 0.7)
        den[0] = max(den[0], 0.1)
        bounds = rng.integers(1, 12, size=k).astype(float)
        mu = rng.random(k) * bounds
        const = float(rng.normal()) * 5
        measure = Measure("r", num, "", const, den)
        n = int(rng.integers(1, 50))
        u = stats.beta.ppf(0.975, 1, n)
        value = measure.value(mu)
        low, high = no_variation_interval(
            value, measure.gradient(mu), mu, bounds, n, parts=((1, measure, slice(None)),)
        )
        ref_low, ref_high = _vertex_range(measure, mu, bounds, u)
        scale = max(abs(ref_low), abs(ref_high), 1.0)
        assert low == pytest.approx(min(ref_low, value), abs=1e-12 * scale)
        assert high == pytest.approx(max(ref_high, value), abs=1e-12 * scale)


def test_a_ratio_whose_denominator_can_reach_zero_is_unbounded():
    """A denominator with a negative weight can reach 0 when a share of trials differ; a
    column without a bound can take the ratio anywhere: both ends infinite."""
    mu = np.array([2.0, 3.0, 1.0])
    grad = np.zeros(3)
    reaches_zero = Measure("r", np.array([1.0, 0.0, 0.0]), "", 0.0, np.array([0.0, 1.0, -1.0]))
    bounds = np.array([5.0, 4.0, 100.0])
    low, high = no_variation_interval(
        reaches_zero.value(mu), reaches_zero.gradient(mu), mu, bounds, 10,
        parts=((1, reaches_zero, slice(None)),),
    )  # fmt: skip
    assert (low, high) == (-math.inf, math.inf)
    plain = Measure("r", np.array([1.0, 0.0, 0.0]), "", 0.0, np.array([0.0, 1.0, 0.0]))
    low, high = no_variation_interval(
        plain.value(mu), grad, mu, np.array([math.inf, 4.0, 1.0]), 10,
        parts=((1, plain, slice(None)),),
    )  # fmt: skip
    assert (low, high) == (-math.inf, math.inf)


@pytest.mark.parametrize("n", [1, 3, 10, 30])
def test_a_ratio_that_did_not_vary_is_exact_at_every_decision_level(n):
    """A review found Estimate.bounds(z) exact only at Z95: at any other z (screening's
    99.9 %, a requirement's one-sided 95 %) a cost per kill the same in every trial kept
    the first-order bound, so its 99.9 % interval was narrower than its 95 % one (n = 1:
    upper end 1.2e7 at 99.9 % against 3.9e8 at 95 %). Each end at Phi(z) must be
    aggregate.no_variation_interval at that confidence, continuous at Z95, and wider as z
    grows."""
    s = costx.load_scenario(
        scenario([threat("drone", 4, arrival="uniform", window_s=300.0)],
                 [interceptor(pk={"drone": 1.0}, rounds=20, max_engagements=1)], name="det")
    )  # fmt: skip
    columns = {c: np.zeros(n, np.int64) for c in moment_columns(s)}
    columns["shots_sm2"][:] = 4
    columns["kills_sm2"][:] = 4
    m = Moments.of(columns)
    e = analysis.estimate(s, m, "cost_per_kill_usd")
    assert not e.varies
    measure = next(x for x in measures(s, list(m.columns)) if x.name == "cost_per_kill_usd")
    mu, bounds = m.mean(), column_bounds(s, list(m.columns))
    for z in (1.6448536269514722, Z95 + 1e-9, analysis.Z_SCREEN):
        exact = no_variation_interval(
            measure.value(mu), measure.gradient(mu), mu, bounds, n,
            confidence=stats.norm.cdf(z), parts=((1, measure, slice(None)),),
        )  # fmt: skip
        assert e.bounds(z) == pytest.approx(exact, rel=1e-9)
    assert e.high(Z95 + 1e-9) == pytest.approx(e.high(Z95), rel=1e-6)
    assert e.high(analysis.Z_SCREEN) > e.high(Z95) > e.high(1.6448536269514722)
    assert e.low(analysis.Z_SCREEN) < e.low(Z95) < e.low(1.6448536269514722)
