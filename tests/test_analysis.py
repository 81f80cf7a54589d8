"""Decision analysis (costx.analysis): answers known in closed form, the screening against
brute force, determinism, files, figures, reports and bad input."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scenarios import interceptor, laser, mixed, scenario, threat

import costx
from costx import analysis
from costx.cli import main
from costx.errors import InputError

Z95 = 1.959963984540054
Z95_ONE_SIDED = 1.6448536269514722


def magazine_limited(n_threats=10, rounds=6) -> dict:
    """pk 1, one round per threat, magazine below the raid: exactly ``rounds`` kills."""
    return scenario(
        [threat(count=n_threats)],
        [interceptor(rounds=rounds, pk={"drone": 1.0}, max_engagements=1, channels=4)],
    )


def laser_or_interceptor(availability=0.4, n_threats=4, interceptor_usd=1e6) -> dict:
    """cost_aware: the laser kills every threat when the weather allows, the interceptor
    (pk 1, one round each) every threat otherwise (checked below)."""
    return scenario(
        [threat(count=n_threats, window_s=400.0)],
        [
            laser(availability=availability),
            interceptor(
                rounds=20,
                pk={"drone": 1.0},
                max_engagements=1,
                channels=2,
                cost_per_shot_usd=interceptor_usd,
            ),
        ],
        policy="cost_aware",
    )


# -- (a) marginal cost-exchange in closed form ---------------------------------------------


@pytest.mark.parametrize("step", [1, 2])
def test_marginal_ratio_is_round_price_over_threat_price(step):
    """pk 1, one round per threat, magazine M below the raid N: adding K threats needs
    exactly K more rounds (ceil(K / step) steps), so the marginal ratio is the round's
    price over the threat's (times the rounds bought per round needed)."""
    n, m, k = 10, 6, 3
    result = costx.marginal_exchange(magazine_limited(n, m), threat="drone", add=k,
                                     hold="leakers", offsets={"effectors.sm2.rounds": step},
                                     trials=500)  # fmt: skip
    row = result.table.iloc[0]
    steps = math.ceil(k / step)
    assert row["restored"] and row["steps"] == steps
    # Nothing is random, but no sampled value has a zero-width interval (docs/model.md,
    # "Confidence intervals"): a restored value equal to the old one in every trial is
    # not below it with 95 % confidence (a rare trial could differ), so the interval
    # reaches the next step, which leaves one threat fewer in every trial.
    exact_tie = n + k - m - steps * step == n - m
    assert row["steps_ci95_low"] == steps
    assert row["steps_ci95_high"] == (steps + 1 if exact_tie else steps)
    assert row["hold_before"] == n - m and row["hold_attacked"] == n + k - m
    assert row["hold_after"] == max(n + k - m - steps * step, 0)
    round_usd, threat_usd = 2_000_000.0, 30_000.0
    assert row["attacker_added_usd"] == k * threat_usd
    # per raid: every added round is fired while threats remain (one each)
    fired = min(steps * step, n + k - m)
    assert row["per_raid_usd"] == fired * round_usd
    assert row["ratio_per_raid"] == pytest.approx(fired * round_usd / (k * threat_usd))
    assert (
        row["ratio_per_raid_ci95_low"] <= row["ratio_per_raid"] <= row["ratio_per_raid_ci95_high"]
    )
    # procurement: every round bought
    assert row["procurement_usd"] == steps * step * round_usd
    if step == 1:
        assert row["ratio_per_raid"] == pytest.approx(round_usd / threat_usd)
        assert row["ratio_procurement"] == pytest.approx(round_usd / threat_usd)
    assert result.answer["cheapest_per_raid"] == "effectors.sm2.rounds"


def test_marginal_exchange_reports_options_that_cannot_restore():
    """More channels do not help a magazine-limited defense: not restored, no cost."""
    result = costx.marginal_exchange(magazine_limited(), threat="drone", add=2,
                                     offsets={"effectors.sm2.channels": 1,
                                              "effectors.sm2.rounds": 1},
                                     trials=200, max_steps=8)  # fmt: skip
    channels, rounds = result.table.iloc[0], result.table.iloc[1]
    assert not channels["restored"] and math.isnan(channels["per_raid_usd"])
    assert "not restored within 8 steps" in channels["note"]
    assert rounds["restored"] and rounds["steps"] == 2
    assert result.answer["cheapest_per_raid"] == "effectors.sm2.rounds"
    assert "not restored" in result.describe()


def test_marginal_steps_interval_brackets_a_noisy_search():
    """With pk 0.2 each added round takes 0.2 leakers off on average, less than the paired
    interval's half-width at 400 trials (about 0.13): the restoring step count is
    uncertain, and the interval on the steps strictly contains the point estimate. Its
    ends are checked against brute force: every n from 0 to 16, the bigger raid against
    8 + n rounds paired with the old raid trial by trial (same seed, same trials: common
    random numbers), the normal 95 % interval of the per-trial differences in leakers;
    low: the first n whose interval reaches down to 0, steps: the first n whose mean is
    at most 0, high: the first n whose whole interval is at most 0."""
    n_trials = 400
    data = magazine_limited(40, 8)
    data["effectors"][0]["pk"]["drone"] = 0.2
    offsets = {"effectors.sm2.rounds": 1}
    result = costx.marginal_exchange(data, threat="drone", add=2, offsets=offsets, trials=n_trials)
    row = result.table.iloc[0]
    assert row["steps_ci95_low"] < row["steps"] < row["steps_ci95_high"]
    assert row["per_raid_ci95_low"] <= row["per_raid_usd"] <= row["per_raid_ci95_high"]
    assert row["hold_after"] <= row["hold_before"] + 1e-12
    before = costx.simulate(data, trials=n_trials, seed=0).trials["leaked"].to_numpy()
    low = means = high = None
    for n in range(17):
        bigger = scenario(
            [threat(count=42)],
            [interceptor(rounds=8 + n, pk={"drone": 0.2}, max_engagements=1, channels=4)],
        )
        after = costx.simulate(bigger, trials=n_trials, seed=0).trials["leaked"].to_numpy()
        diff = after - before
        mean = diff.mean()
        half = Z95 * diff.std(ddof=1) / math.sqrt(n_trials)
        if low is None and mean - half <= 0:
            low = n
        if means is None and mean <= 0:
            means = n
        if means is not None and high is None and mean + half <= 0:
            high = n
    assert (row["steps_ci95_low"], row["steps"], row["steps_ci95_high"]) == (low, means, high)


# -- break-even -----------------------------------------------------------------------------


def test_break_even_of_a_price_is_exact_when_nothing_is_random():
    """d(c) = N x (c - other's price) for a magazine that always fires N rounds: the root is
    the other price, with an interval of width 0 (within the search tolerance)."""
    data = magazine_limited(10, 20)  # deep magazine: 10 rounds fired, pk 1
    other = magazine_limited(10, 20)
    other["effectors"][0]["cost_per_shot_usd"] = 1_234_567.0
    result = costx.break_even(data, vary="effectors.sm2.cost_per_shot_usd", bounds=(0, 5e6),
                              against=other, measure="defense_cost_usd", trials=200)  # fmt: skip
    a = result.answer
    assert a["crossing"] and a["below"] == "lower"
    assert a["root"] == pytest.approx(1_234_567.0, abs=5e6 / 1000)
    assert a["root_ci95_low"] < a["root"] < a["root_ci95_high"]
    # a price the kernels never see (layered policy): one simulation serves every value
    # and the other posture
    assert result.trials_simulated == 200
    # Every trial fires 10 rounds, so the interval is the bound on the share of trials
    # that could differ, 1 - 0.05^(1/n) (about 3/n): ten times the trials, a tenth of
    # the width.
    more = costx.break_even(data, vary="effectors.sm2.cost_per_shot_usd", bounds=(0, 5e6),
                            against=other, measure="defense_cost_usd", trials=2000)  # fmt: skip
    b = more.answer
    ratio = (a["root_ci95_high"] - a["root_ci95_low"]) / (b["root_ci95_high"] - b["root_ci95_low"])
    share = (1 - 0.05 ** (1 / 200)) / (1 - 0.05 ** (1 / 2000))
    assert ratio == pytest.approx(share, rel=0.05)


def test_break_even_availability_against_a_cheaper_interceptor():
    """The laser kills every threat when the weather allows (one uniform draw W per trial),
    the interceptor otherwise; the other posture has no laser and a cheaper interceptor.
    Defense cost N [x lc + (1 - x) ic] equals N ic2 at x* = (ic - ic2) / (ic - lc); with the
    shared weather draws the estimate is the empirical quantile, so x* lies within the
    interval, whose width is about 2 x 1.96 sqrt(x*(1 - x*) / n)."""
    n_threats, ic, ic2, lc = 4, 1e6, 6e5, 10.0
    data = laser_or_interceptor(0.5, n_threats, ic)
    run = costx.simulate(data, trials=2000, seed=0).trials
    assert (run["shots_sm2"] == np.where(run["laser_available"], 0, n_threats)).all()
    assert (run["shots_las"] == np.where(run["laser_available"], n_threats, 0)).all()
    other = laser_or_interceptor(0.5, n_threats, ic2)
    other["effectors"][0]["units"] = 0
    trials = 20_000
    result = costx.break_even(data, vary="effectors.las.availability", bounds=(0.0, 1.0),
                              against=other, measure="defense_cost_usd",
                              trials=trials)  # fmt: skip
    a = result.answer
    x_star = (ic - ic2) / (ic - lc)
    assert a["crossing"] and a["root_ci95_low"] <= x_star <= a["root_ci95_high"]
    half = Z95 * math.sqrt(x_star * (1 - x_star) / trials)
    width = a["root_ci95_high"] - a["root_ci95_low"]
    assert 2 * half * 0.7 < width < 2 * half * 1.3
    assert abs(a["root"] - x_star) < 4 * half / Z95  # four standard errors
    assert a["below"] == "higher"  # the laser posture costs more below the break-even


def crf(rate: float, years: float) -> float:
    """Capital recovery factor r / (1 - (1 + r)^-L), written here from its definition."""
    return rate / (1 - (1 + rate) ** -years)


@pytest.mark.parametrize("n_threats", [1, 4])
def test_break_even_availability_is_capital_charge_over_the_saving(n_threats):
    """Issue test (b). Under cost_aware the laser kills every threat when the weather
    allows, the interceptor (pk 1, one round) otherwise. Adding the laser costs its capital
    charge per raid, K = acquisition x CRF(r, L) / raids_per_year, and saves (ic - lc) on
    each threat it kills: the defense's total cost per raid, K + N [x lc + (1 - x) ic],
    equals that without the laser, N ic, at the availability x* = K / (N (ic - lc)) (with
    one threat, K / (ic - lc)). The weather draws are shared, so the estimate is the
    empirical quantile of x*: within its interval, of width about 2 x 1.96 sd."""
    ic, lc, rate, life, raids = 1e6, 10.0, 0.07, 20.0, 12.0
    x_target = 0.4
    acquisition = x_target * n_threats * (ic - lc) * raids / crf(rate, life)
    data = laser_or_interceptor(0.5, n_threats, ic)
    data["effectors"][0]["acquisition_usd"] = acquisition
    data["effectors"][1]["acquisition_usd"] = 0.0
    data["costing"] = {"service_life_years": life, "discount_rate": rate, "raids_per_year": raids}
    charge = acquisition * crf(rate, life) / raids
    x_star = charge / (n_threats * (ic - lc))
    assert x_star == pytest.approx(x_target)
    trials = 20_000
    result = costx.break_even(data, vary="effectors.las.availability", bounds=(0.0, 1.0),
                              against={"effectors.las.units": 0},
                              measure="defense_total_cost_usd", trials=trials)  # fmt: skip
    a = result.answer
    assert a["crossing"] and a["root_ci95_low"] <= x_star <= a["root_ci95_high"]
    half = Z95 * math.sqrt(x_star * (1 - x_star) / trials)
    assert 2 * half * 0.7 < a["root_ci95_high"] - a["root_ci95_low"] < 2 * half * 1.3
    assert a["below"] == "higher"  # below the break-even the laser does not pay for itself
    at_one = result.table.set_index("value").loc[1.0]
    assert at_one["diff"] == pytest.approx(charge - n_threats * (ic - lc), rel=1e-9)


def test_break_even_of_an_acquisition_cost_needs_one_simulation():
    """The acquisition cost changes no trial: the break-even acquisition at which adding
    the laser costs nothing more per raid is found on one simulation of each posture."""
    ic, lc, rate, life, raids, x = 1e6, 10.0, 0.07, 20.0, 12.0, 0.5
    data = laser_or_interceptor(x, 2, ic)
    data["effectors"][0]["acquisition_usd"] = 1e6
    data["costing"] = {"service_life_years": life, "discount_rate": rate, "raids_per_year": raids}
    result = costx.break_even(data, vary="effectors.las.acquisition_usd", bounds=(0.0, 5e8),
                              against={"effectors.las.units": 0},
                              measure="defense_total_cost_usd", trials=4000)  # fmt: skip
    assert result.trials_simulated == 2 * 4000
    # root: acquisition x CRF / raids = the mean saving per raid, 2 (ic - lc) x (share of
    # the trials in which the weather allowed the laser)
    run = costx.simulate(data, trials=4000, seed=0).trials
    saved = 2 * (ic - lc) * run["laser_available"].mean()
    assert result.answer["root"] == pytest.approx(saved * raids / crf(rate, life), abs=5e8 / 1000)


def test_break_even_says_when_there_is_no_crossing():
    data = laser_or_interceptor(0.5, 4, 1e6)
    other = laser_or_interceptor(0.5, 4, 1e6)
    other["effectors"][0]["units"] = 0
    result = costx.break_even(data, vary="effectors.las.availability", bounds=(0.2, 0.9),
                              against=other, measure="defense_cost_usd", trials=500)  # fmt: skip
    assert not result.answer["crossing"] and result.answer["root"] is None
    assert "No crossing in the bounds" in result.describe()
    # a price that changes nothing: the same in every trial at every value
    same = costx.break_even(data, vary="threats.drone.unit_cost_usd", bounds=(1e4, 1e5),
                            against=other, measure="leakers", trials=200)  # fmt: skip
    assert same.answer["identical"] and not same.answer["crossing"]
    assert "No difference anywhere in the bounds" in same.describe()


# -- (c) cheapest against brute force -------------------------------------------------------


def _brute_force(data, labels, measures_, trials, seed=0):
    out = []
    for label in labels:
        point = analysis.with_values(costx.load_scenario(data), label, "brute force")
        out.append(costx.simulate(point, trials=trials, seed=seed,
                                  keep_trials=False).summary().loc[measures_])  # fmt: skip
    return out


def test_cheapest_equals_brute_force_and_simulates_less():
    data = mixed()
    choices = {"effectors.sm2.rounds": [4, 8, 12, 16, 24], "effectors.las.units": [0, 1],
               "effectors.hvp.rounds": [0, 100]}  # fmt: skip
    trials, bound = 4000, 1.0
    result = costx.cheapest(
        data,
        choices=choices,
        require={"leakers": bound},
        minimize="defense_cost_usd",
        trials=trials,
        screen_trials=500,
    )
    labels = [dict(zip(choices, c, strict=True)) for c in itertools.product(*choices.values())]
    brute = _brute_force(data, labels, ["leakers", "defense_cost_usd"], trials)
    feasible = [i for i, s in enumerate(brute)
                if s.loc["leakers", "mean"] + Z95_ONE_SIDED * s.loc["leakers", "std_error"]
                <= bound]  # fmt: skip
    ranking = sorted(feasible, key=lambda i: (brute[i].loc["defense_cost_usd", "mean"], i))
    a = result.answer
    assert a["found"] and a["point"] == ranking[0]
    assert a["values"] == labels[ranking[0]]
    best = result.table.set_index("point").loc[ranking[0]]
    # the confirmed point's trials are those of a plain run: the same numbers exactly
    assert best["defense_cost_usd"] == brute[ranking[0]].loc["defense_cost_usd", "mean"]
    assert best["leakers"] == brute[ranking[0]].loc["leakers", "mean"]
    assert a["runners_up"] == ranking[1:3]
    assert result.trials_simulated < len(labels) * trials
    excluded = result.table[~result.table["status"].isin(["best", "runner-up"])]
    assert (excluded["reason"].str.len() > 0).all()  # every exclusion says why


def test_cheapest_says_when_nothing_is_feasible():
    result = costx.cheapest(magazine_limited(10, 6), choices={"effectors.sm2.rounds": [2, 4, 6]},
                            require={"leakers": 1.0}, minimize="defense_cost_usd",
                            trials=500)  # fmt: skip
    a = result.answer
    assert not a["found"] and a["closest_point"] == 2
    assert "No posture meets every requirement" in result.describe()


def test_cheapest_requirement_at_least():
    result = costx.cheapest(magazine_limited(10, 6), choices={"effectors.sm2.rounds": [2, 4, 6]},
                            require={"killed": ">= 3.5"}, minimize="defense_cost_usd",
                            trials=200)  # fmt: skip
    assert result.answer["found"] and result.answer["values"] == {"effectors.sm2.rounds": 4}


def test_a_cost_pruned_point_comes_back_when_its_pruner_fails(monkeypatch):
    """Pruning may only drop a point that the full run ranks below ``top`` feasible
    points: a pruner that fails confirmation brings the points it pruned back."""
    data = magazine_limited(10, 6)
    choices = {"effectors.sm2.rounds": [6, 8, 10, 12]}
    plain = costx.cheapest(data, choices=choices, require={"leakers": 3.5}, trials=400,
                           screen_trials=100, top=1, minimize="defense_cost_usd")  # fmt: skip
    real_met = analysis.Requirement.met

    def strict_at_confirmation(self, e, z):  # the screen believes point 1 feasible, then not
        if z == Z95_ONE_SIDED and e.mean == 2.0:
            return False
        return real_met(self, e, z)

    monkeypatch.setattr(analysis.Requirement, "met", strict_at_confirmation)
    result = costx.cheapest(data, choices=choices, require={"leakers": 3.5}, trials=400,
                            screen_trials=100, top=1, minimize="defense_cost_usd")  # fmt: skip
    assert plain.answer["point"] == 1
    assert result.answer["point"] == 2  # point 2 was pruned by point 1, then taken back
    assert result.table.set_index("point").loc[2, "trials"] == 400


# -- (d) worst raid against enumeration -----------------------------------------------------


def test_worst_raid_equals_enumeration():
    data = mixed()
    mix = {"drone": [0, 10, 20, 30], "cruise": [0, 2, 4], "ballistic": [0, 1, 2]}
    budget, trials = 8e6, 2000
    result = costx.worst_raid(data, budget_usd=budget, mix=mix, maximize="leakers",
                              trials=trials, screen_trials=300, top=3)  # fmt: skip
    costs = {"drone": 30_000.0, "cruise": 1e6, "ballistic": 3e6}
    labels = [dict(zip(mix, c, strict=True)) for c in itertools.product(*mix.values())]
    affordable = [m for m in labels if sum(costs[g] * v for g, v in m.items()) <= budget]
    paths = [{f"threats.{g}.count": v for g, v in m.items()} for m in affordable]
    brute = _brute_force(data, paths, ["leakers"], trials)
    order = sorted(range(len(affordable)), key=lambda i: (-brute[i].loc["leakers", "mean"], i))
    top = result.answer["top"]
    assert [entry["mix"] for entry in top] == [affordable[i] for i in order[:3]]
    assert top[0]["value"][0] == brute[order[0]].loc["leakers", "mean"]
    assert result.answer["mixes"] == len(affordable)
    assert result.answer["over_budget"] == len(labels) - len(affordable)
    assert result.trials_simulated < len(affordable) * trials


# -- sensitivity ----------------------------------------------------------------------------


def test_sensitivity_tornado_in_closed_form():
    """One shot per threat, pk p, ample rounds: leakers = N (1 - p). Over p in [0.3, 0.9]
    the measure runs from 0.7 N to 0.1 N (within the standard error); a price the kernels
    never read moves nothing and costs no simulation."""
    n, trials = 8, 4000
    data = magazine_limited(n, 40)
    data["effectors"][0]["pk"]["drone"] = 0.6
    result = costx.sensitivity(data, measure="leakers", trials=trials,
                               ranges={"effectors.sm2.pk.drone": (0.3, 0.9),
                                       "threats.drone.unit_cost_usd": (1e4, 1e5)})  # fmt: skip
    t = result.table.set_index("path")
    pk = t.loc["effectors.sm2.pk.drone"]
    for p, at in ((0.3, "at_low"), (0.9, "at_high")):
        se = math.sqrt(n * p * (1 - p) / trials)
        assert abs(pk[at] - n * (1 - p)) < 4 * se
    assert pk["swing"] == pytest.approx(abs(pk["at_high"] - pk["at_low"]))
    assert t.loc["threats.drone.unit_cost_usd", "swing"] == 0.0
    assert result.table["path"].iloc[0] == "effectors.sm2.pk.drone"  # biggest swing first
    assert result.trials_simulated == 3 * trials  # base, pk low, pk high


def test_sensitivity_takes_ranges_from_the_catalog():
    s = costx.load_scenario("red_sea_2024")
    entries = {e["path"]: e for e in analysis.assumption_ranges(s)}
    pk = entries["effectors.sm2.pk.drones"]
    assert (pk["low"], pk["value"], pk["high"]) == (0.3, 0.7, 0.9) and pk["range_rationale"]
    assert entries["threats.drones.count"]["low"] is None  # declared in the file: no range
    # a cost's range is converted to the run's dollar year with its value
    cheap = costx.load_scenario("pacific_airbase", dollar_year=2015)
    for e in analysis.assumption_ranges(cheap):
        if e["path"].endswith("unit_cost_usd") and e["low"] is not None:
            record = cheap.provenance[e["path"]]
            factor = record["converted"]["factor"]
            assert e["low"] == pytest.approx(record["low"] * factor)
            assert e["low"] <= e["value"] <= e["high"]


def test_sensitivity_against_another_posture_finds_the_deciding_input():
    """Laser against a cheaper interceptor: which posture costs less depends on the
    weather availability (break-even at x* = 0.4), not on the threat's price."""
    data = laser_or_interceptor(0.5, 4, 1e6)
    other = laser_or_interceptor(0.5, 4, 6e5)
    other["effectors"][0]["units"] = 0
    result = costx.sensitivity(data, measure="defense_cost_usd", against=other,
                               catalog_ranges=False, trials=2000,
                               ranges={"effectors.las.availability": (0.2, 0.9),
                                       "threats.drone.unit_cost_usd": (1e4, 1e5)})  # fmt: skip
    assert result.answer["decisive"] == ["effectors.las.availability"]
    assert "decide the comparison" in result.describe()


# -- the machinery --------------------------------------------------------------------------


def test_evaluator_extends_runs_and_matches_simulate():
    s = costx.load_scenario(mixed())
    with analysis.Evaluator(seed=5) as ev:
        ev.own([s], 1000)
        m = ev.own([s], 3000)[0]
        assert ev.trials_simulated == 3000
        joint = ev.joint([(s, s)], 3000)[0]  # with itself: no simulation
        assert ev.trials_simulated == 3000
    assert m == costx.simulate(s, trials=3000, seed=5, keep_trials=False).moments
    assert analysis.own_part(joint) == m and analysis.reference_part(joint) == m
    assert analysis.paired(s, s, joint, "leakers").mean == 0.0


@pytest.mark.parametrize("trials", [1, 200])
def test_every_estimate_is_the_summarys(trials):
    """An analysis's interval of any measure, or of a paired difference, is the
    summary's (summary_table, paired_difference_table), whatever rule applies: Wilson,
    the bound for a value the same in every trial, normal, fixed by the scenario."""
    from costx.aggregate import paired_difference_table, summary_table

    a = costx.load_scenario(mixed())
    b = analysis.with_values(a, {"effectors.sm2.rounds": 12, "effectors.las.units": 0}, "b")
    with analysis.Evaluator(seed=4) as ev:
        own, joint = ev.own([a], trials)[0], ev.joint([(b, a)], trials)[0]
    summary, diffs = summary_table(a, own), paired_difference_table(b, a, joint)
    for name in summary.index:
        e = analysis.estimate(a, own, name)
        row = summary.loc[name]
        got = (e.mean, *e.ci95, e.se)
        want = (row["mean"], row["ci95_low"], row["ci95_high"], row["std_error"])
        assert got == pytest.approx(want, nan_ok=True, rel=1e-12, abs=1e-12), name
    for name in diffs.index:
        e = analysis.paired(b, a, joint, name)
        row = diffs.loc[name]
        got = (e.mean, *e.ci95, e.se)
        want = (row["mean"], row["ci95_low"], row["ci95_high"], row["std_error"])
        assert got == pytest.approx(want, nan_ok=True, rel=1e-12, abs=1e-12), name


def test_one_sided_bounds_of_a_probability_never_seen():
    """P(any leak) 0 in every trial (pk 1, a deep magazine): its one-sided 95 % upper
    bound is the exact Clopper-Pearson bound for 0 of n, 1 - 0.05^(1/n), so a requirement
    of at most 1 % is met with 400 trials (0.75 %) and not yet with 200 (1.49 %)."""
    data = magazine_limited(6, 40)
    for trials, met in ((200, False), (400, True)):
        s = costx.load_scenario(data)
        with analysis.Evaluator() as ev:
            e = analysis.estimate(s, ev.own([s], trials)[0], "p_any_leak")
        assert e.mean == 0.0 and not e.varies
        assert e.high(Z95_ONE_SIDED) == pytest.approx(1 - 0.05 ** (1 / trials), rel=1e-12)
        assert e.high(analysis.Z_SCREEN) == pytest.approx(1 - 0.001 ** (1 / trials), rel=1e-9)
        assert analysis.Requirement("p_any_leak", "<=", 0.01).met(e, Z95_ONE_SIDED) == met


def test_paired_interval_is_that_of_the_per_trial_differences():
    """The delta-method interval of a paired difference from joint moments equals the
    plain interval of the per-trial differences (a linear measure: exactly)."""
    a = costx.load_scenario(mixed())
    b = analysis.with_values(a, {"effectors.sm2.rounds": 12, "effectors.las.units": 0}, "b")
    with analysis.Evaluator(seed=4) as ev:
        diff = analysis.paired(a, b, ev.joint([(a, b)], 3000)[0], "defense_cost_usd")
    per_trial = (costx.simulate(a, trials=3000, seed=4).trials["defense_cost_usd"]
                 - costx.simulate(b, trials=3000, seed=4).trials["defense_cost_usd"])  # fmt: skip
    assert diff.mean == pytest.approx(per_trial.mean(), rel=1e-12)
    assert diff.se == pytest.approx(per_trial.std(ddof=1) / math.sqrt(3000), rel=1e-9)


@pytest.mark.parametrize("policy", ["layered", "cost_aware"])
def test_kernel_key_leaves_out_only_what_the_kernels_ignore(policy):
    """Under the layered policy a round's price never changes a trial (the key leaves it
    out); under cost_aware it orders the effectors (the key keeps it)."""
    data = mixed(policy)
    pricier = mixed(policy)
    pricier["effectors"][1]["cost_per_shot_usd"] = 9e6  # the railgun now costs more than SM-2
    a, b = costx.load_scenario(data), costx.load_scenario(pricier)
    same_key = analysis.kernel_key(a) == analysis.kernel_key(b)
    assert same_key == (policy == "layered")
    ta = costx.simulate(a, trials=2000, seed=2).trials
    tb = costx.simulate(b, trials=2000, seed=2).trials
    shots = [c for c in ta.columns if c.startswith(("shots_", "kills_", "leaked"))]
    assert ta[shots].equals(tb[shots]) == same_key


def test_results_are_deterministic_and_round_trip(tmp_path):
    kwargs = {"threat": "drone", "add": 4, "offsets": {"effectors.sm2.rounds": 2}, "trials": 500}
    one = costx.marginal_exchange(mixed(), **kwargs)
    two = costx.marginal_exchange(mixed(), **kwargs)
    pd.testing.assert_frame_equal(one.table, two.table)
    path = one.to_parquet(tmp_path / "m.parquet")
    back = costx.read_analysis(path)
    assert back.kind == "margin" and back.answer == one.answer and back.inputs == one.inputs
    assert back.scenario == one.scenario and back.trials_simulated == one.trials_simulated
    pd.testing.assert_frame_equal(back.table, one.table, check_dtype=False)
    assert back.describe() == one.describe()
    with pytest.raises(InputError, match="not a costx analysis"):
        costx.read_analysis(costx.simulate(mixed(), trials=10).to_parquet(tmp_path / "r.parquet"))


class _SyncClient:
    """A stand-in for a dask.distributed Client that runs each task when submitted, in
    a copy of its arguments (as a worker gets them: plain data)."""

    def __init__(self):
        self.tasks = 0

    def submit(self, fn, *args, pure=True):
        import pickle

        self.tasks += 1
        result = fn(*pickle.loads(pickle.dumps(args)))
        return type("Done", (), {"result": lambda self: result})()

    def close(self):
        pass


def test_dask_code_path_gives_the_same_answer(monkeypatch):
    """The Dask backend's tasks (plain data in, exact moments out, chunked) give the local
    answer; run here with a synchronous stand-in for the cluster (a real cluster: slow)."""
    client = _SyncClient()
    monkeypatch.setattr(analysis.Evaluator, "_dask_client", lambda self: client)
    kwargs = {"choices": {"effectors.sm2.rounds": [8, 16, 24]}, "require": {"leakers": 2.0},
              "minimize": "defense_cost_usd", "trials": 600, "screen_trials": 200}  # fmt: skip
    local = costx.cheapest(mixed(), **kwargs)
    dask = costx.cheapest(mixed(), backend="dask", **kwargs)
    pd.testing.assert_frame_equal(local.table, dask.table)
    assert client.tasks > 0
    with analysis.Evaluator(seed=1, backend="dask", chunk_trials=300) as ev:
        s = costx.load_scenario(mixed())
        chunked = ev.joint([(s, costx.load_scenario(magazine_limited()))], 1000)[0]
    with analysis.Evaluator(seed=1) as ev:
        whole = ev.joint([(s, costx.load_scenario(magazine_limited()))], 1000)[0]
    assert chunked == whole


@pytest.mark.slow
def test_dask_backend_on_a_local_cluster_gives_the_same_answer():
    pytest.importorskip("dask.distributed")
    kwargs = {"choices": {"effectors.sm2.rounds": [8, 16, 24]}, "require": {"leakers": 2.0},
              "minimize": "defense_cost_usd", "trials": 600, "screen_trials": 200}  # fmt: skip
    local = costx.cheapest(mixed(), **kwargs)
    dask = costx.cheapest(mixed(), backend="dask", **kwargs)
    pd.testing.assert_frame_equal(local.table, dask.table)


def test_figures_and_reports_of_every_analysis(tmp_path):
    pytest.importorskip("matplotlib")
    data = mixed()
    results = [
        costx.marginal_exchange(data, threat="drone", add=6,
                                offsets={"effectors.sm2.rounds": 4}, trials=300),
        costx.break_even(data, vary="effectors.sm2.cost_per_shot_usd", bounds=(1e5, 4e6),
                         against={"effectors.las.units": 0}, trials=300),
        costx.cheapest(data, choices={"effectors.sm2.rounds": [8, 24]},
                       require={"leakers": 2.0}, trials=300, screen_trials=100),
        costx.worst_raid(data, budget_usd=9e6, mix={"drone": [0, 20], "cruise": [0, 2]},
                         trials=300, screen_trials=100),
        costx.sensitivity(data, ranges={"effectors.sm2.pk.drone": (0.5, 0.9)}, trials=300),
    ]  # fmt: skip
    from costx.plotting import figures
    from costx.report import inline_svg

    for r in results:  # every figure names its dollar year and scenario in the SVG itself
        drawn = list(figures(r))
        assert drawn, r.kind
        for stem, fig in drawn:
            svg = inline_svg(fig, "f")
            assert f"constant {r.dollar_year} dollars" in svg and "mixed" in svg, stem
    for r in results:
        path = r.to_parquet(tmp_path / f"{r.kind}.parquet")
        assert main(["plot", str(path), "--out", str(tmp_path / "figs"), "--format", "png"]) == 0
        assert (tmp_path / "figs" / f"mixed_{r.kind}.png").stat().st_size > 10_000
        report = tmp_path / f"{r.kind}.html"
        assert main(["report", str(path), "--out", str(report)]) == 0
        html = report.read_text(encoding="utf-8")
        for section in ("analysis", "answer", "figures", "table", "scenario", "assumptions"):
            assert f'id="{section}"' in html
        assert "<svg" in html and "dollars" in html


# -- the command line -----------------------------------------------------------------------


def test_cli_margin_writes_the_analysis(tmp_path, capsys):
    import tomli_w

    path = tmp_path / "s.toml"
    path.write_text(tomli_w.dumps(magazine_limited()), encoding="utf-8")
    out = tmp_path / "m.parquet"
    assert main(["analyze", "margin", str(path), "--threat", "drone", "--add", "3",
                 "--offset", "effectors.sm2.rounds=1", "--trials", "200", "--out",
                 str(out)]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "marginal ratio of 66.7" in printed and f"wrote {out}" in printed
    assert costx.read_analysis(out).table.iloc[0]["steps"] == 3


def test_cli_analyze_json_csv_and_quiet_match_the_file(tmp_path, capsys):
    """--json and --format csv print only the data (the answer and table written to the
    Parquet file); -q prints only the file's path."""
    import io
    import json

    import pandas as pd
    import tomli_w

    path = tmp_path / "s.toml"
    path.write_text(tomli_w.dumps(magazine_limited()), encoding="utf-8")
    argv = ["analyze", "margin", str(path), "--threat", "drone", "--add", "3",
            "--offset", "effectors.sm2.rounds=1", "--trials", "200"]  # fmt: skip
    out = tmp_path / "m.parquet"
    assert main([*argv, "--out", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    saved = costx.read_analysis(out)
    assert doc["analysis"] == "margin" and doc["file"] == str(out)
    assert doc["answer"]["attacker_added_usd"] == saved.answer["attacker_added_usd"]
    assert [row["steps"] for row in doc["table"]] == list(saved.table["steps"]) == [3]
    assert doc["trials_simulated"] == saved.trials_simulated

    assert main([*argv, "--out", str(out), "--format", "csv"]) == 0
    printed = capsys.readouterr()
    frame = pd.read_csv(io.StringIO(printed.out))
    assert list(frame.columns) == list(saved.table.columns)
    assert frame["ratio_per_raid"].tolist() == pytest.approx(saved.table["ratio_per_raid"])
    assert "wrote" in printed.err  # the note goes to stderr, stdout carries only data

    assert main([*argv, "--out", str(out), "-q"]) == 0
    assert capsys.readouterr().out == f"{out}\n"


def test_analysis_files_carry_the_top_level_metadata(tmp_path):
    """The keys every costx file has (issue 18): dollar year, policy, sweep name, when
    and with which versions it was written."""
    from costx.io import read_metadata

    s = costx.load_scenario(magazine_limited())
    offsets = {"effectors.sm2.rounds": 1}
    result = analysis.marginal_exchange(s, threat="drone", add=2, offsets=offsets, trials=100)
    meta = read_metadata(result.to_parquet(tmp_path / "m.parquet"))
    assert meta["dollar_year"] == s.scenario.dollar_year
    assert meta["policy"] == s.scenario.policy and meta["sweep_name"] is None
    assert meta["costx_version"] == costx.__version__
    assert meta["created"].endswith("+00:00")
    for lib in ("numpy", "numba", "pandas", "pyarrow"):
        assert meta[f"{lib}_version"] == __import__(lib).__version__


def test_cli_analyses_fit_80_columns(tmp_path, capsys, monkeypatch):
    """Every analysis's table and text fit an 80-column terminal: the table keeps the
    columns that say what a row is and the answer's, and counts what it left out."""
    import tomli_w

    monkeypatch.setenv("COLUMNS", "80")
    path = tmp_path / "s.toml"
    path.write_text(tomli_w.dumps(mixed()), encoding="utf-8")
    common = [str(path), "--trials", "200", "--out", str(tmp_path / "a.parquet")]
    runs = {
        "margin": ["--threat", "drone", "--add", "6", "--offset", "effectors.sm2.rounds=4",
                   "--offset", "effectors.las.units=1"],
        "break-even": ["--vary", "effectors.sm2.cost_per_shot_usd", "--bounds", "1e5", "4e6",
                       "--against", "effectors.las.units=0"],
        "cheapest": ["--choice", "effectors.sm2.rounds=8,24", "--choice",
                     "effectors.las.units=0,1", "--require", "leakers<=2.0"],
        "worst-raid": ["--budget", "9e6", "--mix", "drone=0,20", "--mix", "cruise=0,2"],
        "sensitivity": ["--only-given", "--range", "effectors.sm2.pk.drone=0.5:0.9"],
    }  # fmt: skip
    printed = {}
    for kind, extra in runs.items():
        assert main(["analyze", kind, *common, *extra]) == 0, kind
        printed[kind] = capsys.readouterr().out
        lines = [line for line in printed[kind].splitlines() if "wrote" not in line]
        assert max(map(len, lines)) <= 80, (kind, max(lines, key=len))
    assert "ratio_per_raid" in printed["margin"] and "swing" in printed["sensitivity"]
    assert "diff" in printed["break-even"]


def test_cli_other_analyses(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    common = ["--trials", "200"]
    assert (
        main(
            [
                "analyze",
                "cheapest",
                "red_sea_2024",
                "--choice",
                "effectors.sm2.rounds=8,24",
                "--require",
                "leakers<=1",
                "--screen-trials",
                "100",
                *common,
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "analyze",
                "worst-raid",
                "red_sea_2024",
                "--budget",
                "5e6",
                "--mix",
                "drones=0,12,24",
                "--mix",
                "cruise=0,2",
                "--screen-trials",
                "100",
                *common,
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "analyze",
                "break-even",
                "red_sea_2024_laser",
                "--vary",
                "effectors.laser.availability",
                "--bounds",
                "0.1",
                "0.9",
                "--against",
                "effectors.laser.units=0",
                *common,
            ]
        )
        == 0
    )
    assert main(["analyze", "sensitivity", "red_sea_2024", "--only-given", "--range",
                 "effectors.sm2.pk.drones=0.3:0.9", "--set", "effectors.sm2.rounds=12",
                 *common]) == 0  # fmt: skip
    for kind in ("cheapest", "worst_raid", "break_even", "sensitivity"):
        assert list(tmp_path.glob(f"*.{kind}.parquet")), kind
    sens = costx.read_analysis(tmp_path / "red_sea_2024.sensitivity.parquet")
    assert sens.scenario.effectors[1].rounds == 12 and list(sens.table["path"]) == [
        "effectors.sm2.pk.drones"]  # fmt: skip


BAD = [
    (["margin", "red_sea_2024", "--threat", "drones", "--add", "2", "--offset",
      "effectors.sm2.roundz=8"], "unknown field; did you mean 'rounds'"),
    (["margin", "red_sea_2024", "--threat", "drone", "--add", "2", "--offset",
      "effectors.sm2.rounds=8"], "no threat group 'drone'"),
    (["margin", "red_sea_2024", "--threat", "drones", "--add", "2", "--hold", "leakerz",
      "--offset", "effectors.sm2.rounds=8"], "'leakerz' is not a measure"),
    (["margin", "red_sea_2024", "--threat", "drones", "--add", "2", "--offset",
      "effectors.nope.rounds=8"], "no effectors named 'nope'"),
    (["break-even", "red_sea_2024_laser", "--vary", "effectors.laser.availability",
      "--bounds", "0.5", "1.5", "--against", "effectors.laser.units=0"],
     "less than or equal to 1"),
    (["break-even", "red_sea_2024_laser", "--vary", "effectors.laser.availability",
      "--bounds", "0.1", "0.9", "--against", "effectors.laser.units=0", "--measure",
      "runway_closed_h"], "'runway_closed_h' is not a measure"),
    (["cheapest", "red_sea_2024", "--choice", "effectors.sm2.rounds=8,-1", "--require",
      "leakers<=1"], "effectors.sm2.rounds = -1"),
    (["cheapest", "red_sea_2024", "--choice", "effectors.sm2.rounds=8", "--require",
      "leakers<=1", "--minimize", "cost"], "'cost' is not a measure"),
    (["worst-raid", "red_sea_2024", "--budget", "1000", "--mix", "drones=1,2"],
     "below the cost of one threat"),
    (["worst-raid", "red_sea_2024", "--budget", "50000", "--mix", "drones=2,3"],
     "no mix within the budget"),
    (["sensitivity", "red_sea_2024", "--range", "effectors.sm2.pk.drones=0.5:1.5"],
     "less than or equal to 1"),
    (["sensitivity", "red_sea_2024", "--measure", "runway_closed_h"],
     "'runway_closed_h' is not a measure"),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "message"), BAD, ids=[f"{a[0]}-{i}" for i, (a, _) in
                                                        enumerate(BAD)])  # fmt: skip
def test_bad_input_is_one_clear_line_and_exit_2(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["analyze", *argv, "--trials", "50"]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    assert message in err and "Traceback" not in err
    assert not list(tmp_path.glob("*.parquet"))  # nothing written


def test_python_api_checks_its_arguments():
    with pytest.raises(InputError, match="offsets: give at least one option"):
        costx.marginal_exchange(mixed(), threat="drone", add=1, offsets={})
    with pytest.raises(InputError, match="the step must not be 0"):
        costx.marginal_exchange(mixed(), threat="drone", add=1,
                                offsets={"effectors.sm2.rounds": 0})  # fmt: skip
    with pytest.raises(InputError, match="low must be below high"):
        costx.break_even(mixed(), vary="effectors.las.availability", bounds=(0.9, 0.1),
                         against={"effectors.las.units": 0})  # fmt: skip
    with pytest.raises(InputError, match="whole-number field"):
        costx.break_even(mixed(), vary="effectors.sm2.rounds", bounds=(1.5, 9),
                         against={"effectors.las.units": 0})  # fmt: skip
    with pytest.raises(InputError, match="require"):
        costx.cheapest(mixed(), choices={"effectors.sm2.rounds": [8]}, require={"leakers": "<1"})
    with pytest.raises(InputError, match="cannot change which catalog entry"):
        costx.sensitivity(mixed(), ranges={"effectors.sm2.use": (0, 1)})


def test_an_analysis_shows_its_answer_in_a_notebook():
    """Scenarios, results and sweeps had HTML cards; an analysis showed only its repr
    line, so its answer needed print(x.describe()) in every cell."""
    import html

    kwargs = {"threat": "drone", "add": 4, "offsets": {"effectors.sm2.rounds": 2}}
    result = costx.marginal_exchange(mixed(), trials=100, **kwargs)
    card = result._repr_html_()
    assert html.escape(result.describe(), quote=True) in card
    assert f"costs in {result.dollar_year} dollars" in card and "1 row," in card
