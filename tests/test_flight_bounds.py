"""The preferential hold rule decides on a railgun with drag without its Newton solve when
the bounds of the flight time settle the answer (kernels/engagement.py, ``_flight_bounds_s``
and ``_done_by``). Checked here against the exact flight time: the bounds hold on random
rounds, ranges and threats, and every decision equals the one the exact done time gives,
also for done times a hair from the deadline.
"""

import math
import random

import numpy as np

from costx import bench
from costx.kernels import engagement as K
from costx.lowering import lower


def _railgun_arrays():
    """The mixed raid's arrays (its railgun, index 2, has drag); a private copy of eff_f."""
    arrays = lower(bench.workload("mixed_raid[preferential]").scenario())
    eff_f = arrays.eff_f[0].copy()
    c = 2
    assert arrays.eff_i[c, K.EI_KIND] == K.KIND_RAILGUN and eff_f[c, K.EF_DRAG_K] > 0.0
    return arrays, eff_f, c


def test_the_bounds_hold_around_the_newton_solution():
    """lo <= t <= hi for 100,000 random rounds (300 to 3,500 m/s, drag k from 1e-7 to
    3e-3 per metre), ranges (1 m to 200 km) and threat speeds (20 to 3,000 m/s); the
    tolerance 1e-12 is rounding only (the solve stops at a relative step of 1e-14)."""
    _, eff_f, c = _railgun_arrays()
    rng = random.Random(7)
    violations = []
    for _ in range(100_000):
        eff_f[c, K.EF_SPEED_MPS] = rng.uniform(300, 3500)
        eff_f[c, K.EF_DRAG_K] = 10 ** rng.uniform(-7, -2.5)
        r = 10 ** rng.uniform(-3, 2.3)
        v = rng.uniform(20, 3000)
        t = K._flight_s(eff_f, c, r, v)
        lo, hi = K._flight_bounds_s(eff_f, c, r, v)
        if not (lo <= t * (1 + 1e-12) and t <= hi * (1 + 1e-12)):
            violations.append((r, v, lo, t, hi))
    assert violations == [], violations[:5]


def test_the_upper_bound_is_not_vacuous():
    """Over the bundled railgun's reach (17 km) hi is within 1 % of the flight time at
    2 km, 6 % at 8 km and 27 % at 17 km (measured: 0.3, 5.2 and 26.7 %); the shortcut
    pays only if it settles most decisions (test below)."""
    _, eff_f, c = _railgun_arrays()
    for r, within in ((2.0, 1.01), (8.0, 1.06), (17.0, 1.27)):
        t = K._flight_s(eff_f, c, r, 250.0)
        lo, hi = K._flight_bounds_s(eff_f, c, r, 250.0)
        assert lo < t < hi < within * t, (r, lo, t, hi)


def _reach(arrays):
    """The engine's times from detection to entry and to last start (weather state 0)."""
    reach = np.empty((*arrays.r_first[0].shape, 2))
    K._reach_times(arrays.threat_f, arrays.r_first[0], arrays.r_last[0], reach)
    return reach


def _done(arrays, eff_f, c, p, state, by):
    return K._done_by(
        c,
        p,
        0,
        state["t"],
        arrays.threat_f,
        eff_f,
        arrays.eff_i,
        arrays.r_first[0],
        arrays.r_last[0],
        arrays.ltab[0],
        state["t_seen"],
        state["eng_cnt"],
        state["ch_free"],
        state["mag"],
        state["next_launch"],
        state["rounds_left"],
        state["memo"],
        _reach(arrays),
        by,
    )


def test_every_decision_equals_the_exact_one():
    """For 20,000 random railgun states and deadlines, ``done <= by`` from _done_by equals
    the decision of the exact done time (_done_by with a nan deadline, which no bound
    settles). Half the deadlines lie within 1 s of the exact time, a quarter within 1e-6 s,
    where only the exact time can decide; the counts show both paths are taken."""
    arrays, eff_f, c = _railgun_arrays()
    n_eff = arrays.eff_i.shape[0]
    n_ch = int(arrays.eff_i[:, K.EI_CHANNELS].max())
    rng = random.Random(11)
    settled = exact_only = 0
    wrong = []
    for _ in range(20_000):
        t = rng.uniform(0.0, 300.0)
        state = {
            "t": t,
            "t_seen": np.array([t - rng.uniform(0.0, 60.0)]),
            "eng_cnt": np.zeros((n_eff, 1), np.int32),
            "ch_free": np.array(
                [[t + rng.uniform(-20.0, 20.0) for _ in range(n_ch)] for _ in range(n_eff)]
            ),
            "mag": np.full((n_eff, n_ch), math.inf),
            "next_launch": np.array([t + rng.uniform(-10.0, 10.0) for _ in range(n_eff)]),
            "rounds_left": np.full(n_eff, 10, np.int64),
            "memo": np.full((n_eff, 1, 2), np.nan),
        }
        exact, _ = _done(arrays, eff_f, c, 0, state, math.nan)
        if not math.isfinite(exact):
            continue  # c cannot start on the threat: no time to compare
        u = rng.random()
        if u < 0.25:
            by = exact + rng.uniform(-1e-6, 1e-6)
        elif u < 0.5:
            by = exact + rng.uniform(-1.0, 1.0)
        else:
            by = exact + rng.uniform(-100.0, 100.0)
        done, _ = _done(arrays, eff_f, c, 0, state, by)
        if math.isinf(done):
            settled += 1
        else:
            exact_only += 1
        if (done <= by) != (exact <= by):
            wrong.append((t, by, exact, done))
    assert wrong == [], wrong[:5]
    assert settled > 5_000 and exact_only > 2_000, (settled, exact_only)


def _table(eff_f, c, r_max, v, cells=K.FLIGHT_TABLE_CELLS):
    ftab = np.full((eff_f.shape[0], 1, cells + 1, 3), np.nan)
    K._fill_flight_table(ftab, eff_f, c, 0, r_max, v)
    return ftab


def test_the_flight_time_table_brackets_the_newton_solution():
    """cost_aware plans a railgun with drag from a table of its flight times by range
    (``_fill_flight_table``): the chord between two of its points lies above the flight
    time and the tangents below (it is increasing and convex in the range). For 300 random
    rounds (300 to 3,500 m/s, drag k from 1e-7 to 3e-3 per metre) and threat speeds (20 to
    3,000 m/s), at 200 random ranges each and at the table's own ranges and a hair either
    side, lo <= the Newton solution <= hi within 1e-12 (rounding; ``_done_bounds`` widens
    by 1e-9); beyond the table, and at 0 or below, the bound is nan (the exact solve then).
    Swapping the chord and the tangents fails it."""
    _, eff_f, c = _railgun_arrays()
    rng = random.Random(11)
    violations, checked = [], 0
    for _ in range(300):
        eff_f[c, K.EF_SPEED_MPS] = rng.uniform(300, 3500)
        eff_f[c, K.EF_DRAG_K] = 10 ** rng.uniform(-7, -2.5)
        v = rng.uniform(20, 3000)
        r_max = 10 ** rng.uniform(-1, 2.3)
        ftab = _table(eff_f, c, r_max, v, cells=rng.choice([16, 128, K.FLIGHT_TABLE_CELLS]))
        grid = ftab[c, 0, :, 2]
        ranges = [rng.uniform(0, r_max) for _ in range(200)]
        for r in grid[1::7]:
            ranges += [r, np.nextafter(r, 0.0), np.nextafter(r, math.inf)]
        for r in ranges:
            if not 0.0 < r <= grid[-1]:
                continue
            t = K._flight_s(eff_f, c, r, v)
            lo = K._flight_bracket(ftab, c, 0, r, False)
            hi = K._flight_bracket(ftab, c, 0, r, True)
            checked += 1
            if not (lo <= t * (1 + 1e-12) and t <= hi * (1 + 1e-12)):
                violations.append((r, v, lo, t, hi))
        for r in (0.0, -1.0, np.nextafter(grid[-1], math.inf), 2 * r_max):
            assert math.isnan(K._flight_bracket(ftab, c, 0, r, True)), r
            assert math.isnan(K._flight_bracket(ftab, c, 0, r, False)), r
    assert violations == [], violations[:5]
    assert checked > 60_000


def test_the_flight_time_table_is_tight():
    """Over the bundled railgun's reach (17 km, against a 250 m/s missile) the table's
    bounds are within 1e-5 s of each other (measured: at most 4.4e-6 s): tight enough that
    a plan of bounds rarely leaves a hold undecided (tests/test_plan_horizon.py)."""
    _, eff_f, c = _railgun_arrays()
    ftab = _table(eff_f, c, 17.5, 250.0)
    widest = 0.0
    for r in np.linspace(0.01, 17.4, 2000):
        lo = K._flight_bracket(ftab, c, 0, r, False)
        hi = K._flight_bracket(ftab, c, 0, r, True)
        assert lo <= K._flight_s(eff_f, c, r, 250.0) <= hi
        widest = max(widest, hi - lo)
    assert 0.0 < widest < 1e-5, widest
