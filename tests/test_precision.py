"""simulate(..., precision=...): runs to a precision, deterministically; paced progress."""

import itertools
import math

import pandas as pd
import pytest
from scenarios import laser, mixed, scenario, threat

import costx
from costx import CostxWarning, aggregate, simulation
from costx.errors import InputError


def test_precision_checks_are_a_fixed_schedule():
    checks = list(aggregate.precision_checks(50_000))
    assert checks[0] == 10_000
    assert checks[-1] == 50_000
    assert all(b > a for a, b in itertools.pairwise(checks))
    # about 1.25 times the last, in whole units of 1,024 trials (but the cap)
    for a, b in itertools.pairwise(checks[:-1]):
        assert b % 1024 == 0 and 1.25 * a <= b < 1.25 * a + 1024
    assert list(aggregate.precision_checks(3000)) == [3000]


def test_run_to_a_precision_stops_at_the_first_check_that_meets_it():
    """The stop is where the half-width first meets the target, and the trials run equal a
    fixed run of that many trials (so the result depends only on scenario, seed, target)."""
    target = 0.02
    run = costx.simulate(mixed(), trials=200_000, seed=3, precision=target, measure="leakers")
    p = run.precision
    assert p.reached and p.trials == run.n_trials and p.measure == "leakers"
    fixed = costx.simulate(mixed(), trials=run.n_trials, seed=3)
    pd.testing.assert_frame_equal(run.trials, fixed.trials)
    pd.testing.assert_frame_equal(run.summary(), fixed.summary())
    row = fixed.summary().loc["leakers"]
    half = (row["ci95_high"] - row["ci95_low"]) / 2
    assert half <= target * abs(row["mean"])
    assert p.half_width == pytest.approx(half / abs(row["mean"]), rel=1e-12)
    # ... and the check before it did not meet the target
    checks = list(aggregate.precision_checks(200_000))
    k = checks.index(run.n_trials)
    if k > 0:
        earlier = costx.simulate(mixed(), trials=checks[k - 1], seed=3).summary().loc["leakers"]
        assert (earlier["ci95_high"] - earlier["ci95_low"]) / 2 > target * abs(earlier["mean"])
    # summary-only gives the same trials and summary
    lean = costx.simulate(
        mixed(), trials=200_000, seed=3, precision=target, measure="leakers", keep_trials=False
    )
    assert lean.n_trials == run.n_trials
    pd.testing.assert_frame_equal(lean.summary(), run.summary())


def test_precision_out_of_reach_stops_at_the_cap():
    run = costx.simulate(mixed(), trials=12_000, seed=3, precision=1e-6, measure="leakers")
    assert run.n_trials == 12_000 and not run.precision.reached
    assert "NOT reached" in run.precision.describe()


def test_precision_arguments_are_checked():
    with pytest.raises(InputError, match="between 0 and 1"):
        costx.simulate(mixed(), trials=100, precision=1.5)
    with pytest.raises(InputError, match="did you mean 'leakers'"):
        costx.simulate(mixed(), trials=100, precision=0.1, measure="leakerz")
    with pytest.raises(InputError, match="give precision too"):
        costx.simulate(mixed(), trials=100, measure="leakers")


def test_paced_blocks_aim_at_half_a_second():
    sizer = simulation._BlockSizer(131_072, paced=True)
    assert sizer.next() == simulation.FIRST_PROGRESS_BLOCK
    sizer.took(1024, 2.0)  # slow: 512 trials/s -> 256 trials in half a second
    assert sizer.next() == 256
    sizer.took(256, 0.001)  # fast: grows, but at most doubles per call
    assert sizer.next() == 512
    for _ in range(20):
        sizer.took(sizer.next(), sizer.next() / 1e6)  # 1e6 trials/s
    assert sizer.next() == 131_072  # capped at block_trials
    fixed = simulation._BlockSizer(5000, paced=False)
    fixed.took(5000, 100.0)
    assert fixed.next() == 5000


def test_progress_is_called_often_and_ends_at_the_total():
    calls = []
    run = costx.simulate(mixed(), trials=5000, seed=3, progress=lambda d, n: calls.append((d, n)))
    assert calls[-1] == (5000, 5000)
    assert len(calls) >= 2 and all(n == 5000 for _, n in calls)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    quiet = costx.simulate(mixed(), trials=5000, seed=3)
    pd.testing.assert_frame_equal(run.trials, quiet.trials)


def test_relative_half_width_of_a_zero_mean_is_not_met_unless_it_is_fixed():
    """A sampled mean of 0 (seen in every trial, so its interval has width) has no
    relative half-width; a value fixed by the scenario (the only zero-width interval) is
    known exactly, 0 included."""
    target = aggregate.PrecisionTarget("leakers", 0.5)
    sampled = pd.DataFrame({"mean": [0.0], "ci95_low": [0.0], "ci95_high": [3e-4]},
                           index=["leakers"])  # fmt: skip
    got = target.check(sampled, 10_000)
    assert math.isinf(got.half_width) and not got.reached
    assert "the mean of leakers is 0 after 10,000" in got.zero_mean_warning("s", 20_000)
    assert got.zero_mean_warning("s", 10_000) is None  # at the cap: nothing to warn of
    unknown = pd.DataFrame({"mean": [math.nan], "ci95_low": [math.nan],
                            "ci95_high": [math.nan]}, index=["leakers"])  # fmt: skip
    got = target.check(unknown, 10_000)  # no kills: a cost per kill is nan, not 0
    assert not got.reached and got.zero_mean_warning("s", 20_000) is None
    fixed = pd.DataFrame({"mean": [0.0], "ci95_low": [0.0], "ci95_high": [0.0]}, index=["leakers"])
    got = target.check(fixed, 10_000)
    assert got.half_width == 0.0 and got.reached
    assert got.zero_mean_warning("s", 20_000) is None


def _all_killed():
    """Two slow drones and a laser that kills both in every trial: leakers is 0 in every
    trial, but sampled (its interval is 0 to 1.2e-3 at 5,000 trials)."""
    return scenario([threat("drone", 2)], [laser()])


def test_a_measure_fixed_at_zero_stops_at_the_first_check():
    """capital_cost_usd is 0 by the scenario (no capital entries): known exactly, so a run
    to a precision of it stops at 10,000 trials instead of running to its cap."""
    run = costx.simulate(_all_killed(), trials=40_000, seed=3, precision=0.05,
                         measure="capital_cost_usd")  # fmt: skip
    assert run.n_trials == 10_000 and run.precision.reached and run.precision.half_width == 0


def test_a_sampled_measure_at_zero_warns_once_and_runs_to_the_cap():
    with pytest.warns(CostxWarning) as caught:
        run = costx.simulate(_all_killed(), trials=30_000, seed=3, precision=0.05,
                             measure="leakers")  # fmt: skip
    assert run.n_trials == 30_000 and not run.precision.reached
    texts = [str(w.message) for w in caught if issubclass(w.category, CostxWarning)]
    assert texts == [
        "test: the mean of leakers is 0 after 10,000 trials, so no 95 % half-width is a "
        "fraction of it; the run goes on to its cap of 30,000 trials unless the measure "
        "moves from 0 (a lower cap: trials=, --trials; or another measure)"
    ]


def test_progress_of_a_run_to_a_precision_heads_for_the_next_check():
    """A bar toward the cap (10,000,000 from the CLI) would sit near 0 % for a run that
    stops at 10,000 trials: the total is the next check."""
    calls = []
    run = costx.simulate(mixed(), trials=200_000, seed=3, precision=0.02, measure="leakers",
                         progress=lambda d, n: calls.append((d, n)))  # fmt: skip
    checks = list(aggregate.precision_checks(200_000))
    assert calls[-1] == (run.n_trials, run.n_trials)
    assert {n for _, n in calls} == set(checks[: checks.index(run.n_trials) + 1])
    assert all(d <= n for d, n in calls)
