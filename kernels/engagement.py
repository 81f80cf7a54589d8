"""Monte Carlo salvo engagements: one trial plays one raid against every effector.

Inputs are plain arrays built by ``costx.lowering`` (its docstring maps scenario fields to
the column constants below); outputs are per-trial integer arrays. Nothing here
validates or allocates per trial, and the jitted kernels touch no Python objects:
``simulate_trials`` and ``replay_trials`` are Python functions that play tasks of trials
on a thread pool (``_play_tasks``).

The rules (README, "What it computes") in brief:

* Threat ``j`` of group ``g`` is seen at ``t_j`` at range ``R0`` and closes at ``v``;
  it impacts at ``t_j + R0 / v`` unless killed.
* A kinetic engagement is ``salvo`` rounds ``interval`` apart at one threat; a round
  fired at range R meets the threat at range R u / (u + v) after R / (u + v) seconds and
  may be fired only if that meeting range lies in [min, max]; each round kills with
  ``pk`` independently. The effector learns the outcome ``assess`` seconds after the last
  round meets the threat; a threat gets at most ``max_engagements`` engagements from one
  effector. An effector runs at most ``channels`` engagements at once, launches no two
  rounds closer than ``interval`` and stops when its magazine is empty.
* A railgun round with drag slows along its flight (``_flight_s``) and its kill
  probability can fall with the time of flight (``_round_pk``).
* A laser unit serves one threat at a time: it tracks and settles (``settle``), then
  fluence accumulates along the closing path (kernels/laser.py) and the threat dies when
  it reaches its kill fluence and its minimum dwell has passed; the unit then needs
  ``retarget`` seconds. The fire control engages only threats it can kill before they
  leave the envelope; a dwell cut short by the unit's magazine (``magazine_s``) gives the
  threat up. Weather denies every laser whose availability is below one shared per-trial
  weather draw; a second draw picks the salvo's weather state (``[[weather]]``), which can
  deny every laser or change their atmosphere (per-state arrays).
* Nobody engages a dead threat or one inside another engagement; threats are served in
  order of urgency (earliest impact first, ties by lower index).
* A kinetic round functions with probability ``reliability`` and, if it does, kills with
  ``pk`` (a scalar per group, or a table over the meeting range: ``_pk_at``); with
  probability ``common_mode_failure`` every round of an engagement fails together.
* Policies: ``LAYERED`` engages the most urgent eligible threat as soon as possible;
  ``COST_AWARE`` holds fire while a cheaper effector is predicted to be done with the
  threat before the holder's last chance (``_plan`` and the hold rule in ``_run_trials``);
  ``PREFERENTIAL`` holds fire while an effector the doctrine prefers against the threat's
  group could still be done with it before the holder's last chance (``_done_by``, which
  looks at that effector's own state only, so a decision costs O(effectors x channels)).

Cost per trial is linear in the number of threats for the layered policy: each effector
keeps, per threat group, a linked list of threats it may still engage (sorted by arrival,
which within a group is also urgency order and range order) and unlinks a threat the
moment it becomes permanently ineligible, so a decision looks at O(groups + engagements
in progress) entries. Under the layered policy an effector whose last look found nothing
to engage does not look again until a threat is released alive or the earliest entry
into its reach it noted then (a lower bound on the next one) has come. An event step
looks at the channels only of the effectors whose next channel time (``ev``) has come.
Under ``cost_aware`` a plan is kept until the planned effector's version changes (an
engagement begun, or ended with the threat alive) or time reaches the plan's horizon
(``_plan``; where only detections passed it, the plan is resumed, not made again), and a
holder does not look again while the plans
its holds rest on stand. A railgun with drag is planned first from bounds of its flight
times (a table per task, no Newton solve); the exact plan is made only for a hold the
bounds do not settle, so every decision is the exact plan's.

With fixed arrival times, trials replay through a graph of the states that recur
(kernels/memo.py; ``record_trials`` plays and records, ``replay_trials`` replays).
"""

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait

import numba
import numpy as np

from costx.kernels._jit import NONNEG, jit
from costx.kernels.laser import TABLE_CELLS, g_at, g_inverse, h_at, h_inverse
from costx.kernels.memo import (
    C_EDGE,
    C_NODE,
    C_SCAN,
    C_SKIP,
    DRAW,
    E_ARG,
    E_KIND,
    E_STEPS,
    H_DRAWN,
    H_EVENTS,
    H_RANDOM,
    H_ROWS,
    LANE_ROWS,
    LANES,
    M_BATCH,
    M_CHECK,
    M_ERROR,
    N_CHILD,
    N_KIND,
    STATE,
    TERM,
    find_state,
    rec_trace,
    shortcuts,
    state_hash,
    trace_draw,
    walk_lanes,
    walk_trials,
)
from costx.kernels.rng import (
    ARRIVAL,
    ATMOSPHERE,
    COMMON_MODE,
    KILL,
    RELIABILITY,
    WEATHER,
    event_counter,
    salvo_key,
    trial_key,
    uniform,
)

# Columns of threat_f (float64, one row per threat group).
TF_RANGE_KM = 0  # detect range
TF_SPEED_MPS = 1
TF_START_S = 2
TF_WINDOW_S = 3
TF_FLUENCE_J_CM2 = 4  # nan: lasers do not engage this group
TF_MIN_DWELL_S = 5  # minimum lasing time on the aimpoint for a kill
TF_COLUMNS = 6

# Columns of threat_i (int64, one row per threat group); counts per salvo are separate.
TI_ARRIVAL = 0
TI_COLUMNS = 1

ARRIVAL_SIMULTANEOUS = 0
ARRIVAL_STREAM = 1
ARRIVAL_UNIFORM = 2

# Columns of eff_f (float64, one row per effector).
EF_SPEED_MPS = 0  # kinetic round fly-out speed
EF_MIN_KM = 1
EF_MAX_KM = 2
EF_INTERVAL_S = 3  # minimum time between launches
EF_ASSESS_S = 4
EF_LASER_K = 5  # P / (pi s^2 1e7): fluence scale, see kernels/laser.py
EF_ALPHA = 6  # extinction per km
EF_X_LO = 7  # 1 / max range: start of the fluence table
EF_DX = 8  # fluence table cell width in 1/km
EF_RETARGET_S = 9
EF_AVAILABILITY = 10
EF_MAGAZINE_S = 11  # lasing seconds per unit (inf: unlimited)
EF_RELIABILITY = 12  # kinetic: probability that a round functions (1: no draw)
EF_COMMON_MODE = 13  # kinetic: probability that an engagement fails as a whole (0: no draw)
EF_SETTLE_S = 14  # laser: track/settle time before lasing
EF_PROP = 15  # laser: PROP_EXACT (H, in-cell quadrature) or PROP_TABLE (G, quintic Hermite)
EF_U_LO = 16  # PROP_TABLE: ln(1 / max range), start of the table
EF_DU = 17  # PROP_TABLE: cell width in ln(1/R)
EF_CELLS = 18  # PROP_TABLE: number of cells
EF_DRAG_K = 19  # railgun: drag k = rho / (2 ballistic coefficient), 1/m (0: no drag)
EF_PK_C = 20  # railgun: c in pk(t) = pk (1 - exp(-c / t^2)), s^2 (0: pk constant)
EF_COLUMNS = 21

PROP_EXACT = 0
PROP_TABLE = 1
TABLE_CELLS_EXACT = TABLE_CELLS + 1  # entries of a PROP_EXACT table (rows are padded)

# Columns of eff_i (int64, one row per effector).
EI_KIND = 0
EI_ROUNDS = 1
EI_CHANNELS = 2  # channels (kinetic) or units (laser)
EI_SALVO = 3
EI_MAX_ENGAGEMENTS = 4
EI_COLUMNS = 5

KIND_INTERCEPTOR = 0
KIND_RAILGUN = 1
KIND_LASER = 2

POLICY_LAYERED = 0
POLICY_COST_AWARE = 1
POLICY_PREFERENTIAL = 2

# Threat states as the defense knows them.
FREE = 0
ENGAGED = 1
DEAD = 2

MAX_NEWTON = 60  # iterations of the meeting-time solver (it converges in under ten)
# Flight times of a railgun with drag, kept per task and per (weather state, effector,
# threat group) by the range at launch, in one of FLIGHT_SLOTS slots picked by a hash of
# the range's bits: the engine launches at the same ranges again and again (a threat
# engaged as it comes within reach, the salvo's next round: 45 % of mixed_raid's Newton
# solves). The range itself is compared, so a hit returns that solve's own result.
FLIGHT_SLOTS = 1024  # a power of two, as is every smaller number of slots used
FLIGHT_BYTES = 4 << 20  # the most a task's cache may take (scenarios of many groups)
SCAN = -2  # marks a group whose candidate must be looked for (see _run_trials)
EPS_KM = 1e-9  # tolerance on envelope boundaries (1 micrometre)
TRIALS_PER_TASK = 256  # trials per parallel task (results do not depend on it)
TASKS_PER_THREAD = 8  # tasks per thread, at most, of simulate_trials


@jit(inline="always")
def _insert(keys, idx, i):
    """One step of an insertion sort: move (keys[i], idx[i]) down into the sorted
    keys[:i] (by key, ties by idx), carrying idx along; returns how many it passed."""
    k = keys[i]
    j = idx[i]
    m = i - 1
    while m >= 0 and (keys[m] > k or (keys[m] == k and idx[m] > j)):
        keys[m + 1] = keys[m]
        idx[m + 1] = idx[m]
        m -= 1
    keys[m + 1] = k
    idx[m + 1] = j
    return i - 1 - m


@jit(borrow=True)
def _sort_pairs(keys, idx, n):
    """Sort keys[:n] ascending, ties by idx, carrying idx along (no allocation): insertion
    sort for small n, heap sort otherwise (both give the one order of (key, idx))."""
    if n <= 32:
        for i in range(1, n):
            _insert(keys, idx, i)
        return
    for start in range(n // 2 - 1, -1, -1):
        _sift(keys, idx, start, n)
    for end in range(n - 1, 0, -1):
        keys[0], keys[end] = keys[end], keys[0]
        idx[0], idx[end] = idx[end], idx[0]
        _sift(keys, idx, 0, end)


@jit(borrow=True)
def _sort_uniform(keys, idx, n, lo, width):
    """Sort keys[:n] ascending, ties by idx, carrying idx along, as ``_sort_pairs`` does,
    for keys drawn uniformly on [lo, lo + width] with idx[:n] = 0 .. n-1: dealt into n
    buckets of equal width (stable, so idx stays ascending in each), then an insertion
    sort, which moves each key only within its bucket's neighbourhood (expected O(n)
    against a heap sort's O(n log n): 4,100 comparisons for 256 keys). Uses keys[n:2n]
    and idx[n:2n+1] as scratch. The insertion sort alone decides the order, so the result
    is the one order of (key, idx) whatever the buckets were; should it move more than
    8 n keys (keys not uniform), the heap sort finishes what it left."""
    if n <= 32:
        _sort_pairs(keys, idx, n)
        return
    tmp = keys[n : 2 * n]
    cnt = idx[n : 2 * n + 1]
    scale = n / width if width > 0.0 else 0.0
    for b in range(n + 1):
        cnt[b] = 0
    for j in range(n):
        tmp[j] = keys[j]
        f = (keys[j] - lo) * scale
        b = 0 if not f >= 0.0 else (n - 1 if f >= n - 1 else int(f))
        cnt[b + 1] += 1
    for b in range(n):
        cnt[b + 1] += cnt[b]
    for j in range(n):
        f = (tmp[j] - lo) * scale
        b = 0 if not f >= 0.0 else (n - 1 if f >= n - 1 else int(f))
        r = cnt[b]
        cnt[b] = r + 1
        keys[r] = tmp[j]
        idx[r] = j
    moves = 0
    for i in range(1, n):
        moves += _insert(keys, idx, i)
        if moves > 8 * n:
            _sort_pairs(keys, idx, n)  # a heap sort from here, for any n > 32
            return


@jit(borrow=True)
def _sift(keys, idx, root, n):
    while True:
        child = 2 * root + 1
        if child >= n:
            return
        if child + 1 < n and (
            keys[child + 1] > keys[child]
            or (keys[child + 1] == keys[child] and idx[child + 1] > idx[child])
        ):
            child += 1
        if keys[child] > keys[root] or (keys[child] == keys[root] and idx[child] > idx[root]):
            keys[root], keys[child] = keys[child], keys[root]
            idx[root], idx[child] = idx[child], idx[root]
            root = child
        else:
            return


@jit(inline="always")
def _range_km(r0, v, t_seen, t):
    return r0 - v * (t - t_seen) * 1e-3


@jit(inline="always")
def _entry_time(r0, v, t_seen, r_start_max):
    """First time at which the threat's range is at most ``r_start_max``."""
    if r0 <= r_start_max:
        return t_seen
    return t_seen + (r0 - r_start_max) * 1e3 / v


@jit(inline="always")
def _last_start(r0, v, t_seen, r_start_min):
    """Last time at which the threat's range is at least ``r_start_min``."""
    return t_seen + (r0 - r_start_min) * 1e3 / v


@jit(inline="always")
def _reach_times(threat_f, r_first, r_last, reach):
    """The divisions of ``_entry_time`` and ``_last_start``, made once per weather state
    (which fixes the envelopes; in lowering) for every effector e and group g: ``reach[e, g,
    0]`` the time from detection to entry into e's start window (-1: in it at detection),
    ``reach[e, g, 1]`` the time from detection to the last start. ``_entered`` and
    ``_last`` then give, bit for bit, what those two functions give (the same division
    of the same numbers, then the same addition): a division takes 13 to 20 cycles, and
    the holds of ``cost_aware`` and ``preferential`` asked for one at every threat they
    looked at (18 % of the samples of the engine's own code on drone_raid ``cost_aware``
    at 64 threats)."""
    for e in range(reach.shape[0]):
        for g in range(reach.shape[1]):
            r0 = threat_f[g, TF_RANGE_KM]
            v = threat_f[g, TF_SPEED_MPS]
            reach[e, g, 0] = -1.0 if r0 <= r_first[e, g] else (r0 - r_first[e, g]) * 1e3 / v
            reach[e, g, 1] = (r0 - r_last[e, g]) * 1e3 / v


@jit(inline="always")
def _entered(reach, e, g, t_seen):
    """``_entry_time`` of a threat of group g detected at t_seen, for effector e."""
    lead = reach[e, g, 0]
    return t_seen if lead < 0.0 else t_seen + lead


@jit(inline="always")
def _last(reach, e, g, t_seen):
    """``_last_start`` of a threat of group g detected at t_seen, for effector e."""
    return t_seen + reach[e, g, 1]


@jit(borrow=True)
def _laser_kill_range(ltab, eff_f, e, r_start, v, fluence):
    """Range (km) at which the fluence reaches ``fluence`` when lasing starts at
    ``r_start``; nan if it cannot before min range."""
    e = e & NONNEG  # an index known to be >= 0 (kernels/_jit.py)
    k = eff_f[e, EF_LASER_K]
    if eff_f[e, EF_PROP] == PROP_TABLE:
        u_lo = eff_f[e, EF_U_LO]
        du = eff_f[e, EF_DU]
        n = int(eff_f[e, EF_CELLS])
        tab = ltab[e]
        target = g_at(tab, u_lo, du, n, -math.log(r_start)) + fluence * v / k
        if target > tab[3 * n] * (1.0 + 1e-12):
            return math.nan
        return math.exp(-g_inverse(tab, u_lo, du, n, target))
    alpha = eff_f[e, EF_ALPHA]
    x_lo = eff_f[e, EF_X_LO]
    dx = eff_f[e, EF_DX]
    tab = ltab[e, :TABLE_CELLS_EXACT]
    target = h_at(tab, alpha, x_lo, dx, 1.0 / r_start) + fluence * v / k
    if target > tab[tab.shape[0] - 1] * (1.0 + 1e-12):
        return math.nan
    return 1.0 / h_inverse(tab, alpha, x_lo, dx, target)


@jit(inline="always")
def _laser_kill(ltab, eff_f, e, r_start, v, fluence, min_dwell):
    """(lasing start range, kill range) of an engagement that starts (settle, then lasing)
    at ``r_start``: the fluence is reached, and at least ``min_dwell`` s of lasing done."""
    settle = eff_f[e, EF_SETTLE_S]
    r_lase = r_start - v * settle * 1e-3 if settle > 0.0 else r_start
    r_kill = _laser_kill_range(ltab, eff_f, e, r_lase, v, fluence)
    if math.isnan(r_kill):  # start within EPS_KM of the last chance
        r_kill = eff_f[e, EF_MIN_KM]
    if min_dwell > 0.0:
        r_kill = min(r_kill, r_lase - v * min_dwell * 1e-3)
    return r_lase, r_kill


@jit(inline="always")
def _laser_dwell(ltab, eff_f, threat_f, e, g, r_start, v):
    """Lasing time (s) of e's engagement of a threat of group g that starts at
    ``r_start`` (``_laser_kill``): the one computation of the engine's engagement, the
    plans' steps and the holds, so that a plan that comes true is the engine's timeline."""
    r_lase, r_kill = _laser_kill(
        ltab, eff_f, e, r_start, v, threat_f[g, TF_FLUENCE_J_CM2], threat_f[g, TF_MIN_DWELL_S]
    )
    return (r_lase - r_kill) * 1e3 / v


@jit(inline="always")
def _flight_s(eff_f, e, r_km, v):
    """Flight time of a round launched at a threat ``r_km`` away closing at ``v``.

    Without drag R / (u + v). With drag the round flies ln(1 + k u t) / k metres in t
    seconds (docs/model.md, "Railguns"); the meeting time solves
    f(t) = ln(1 + k u t) / k + v t - 1000 R = 0. f is increasing and concave, so Newton
    from the drag-free time (a lower bound) climbs monotonically to the root."""
    u = eff_f[e, EF_SPEED_MPS]
    k = eff_f[e, EF_DRAG_K]
    if k == 0.0 or r_km <= 0.0:  # r <= 0 only in a cost_aware prediction of a full salvo
        return r_km * 1e3 / (u + v)
    d = r_km * 1e3
    t = d / (u + v)
    for _ in range(MAX_NEWTON):
        a = k * u * t
        step = (math.log1p(a) / k + v * t - d) / (u / (1.0 + a) + v)
        t -= step
        if abs(step) <= 1e-14 * t:
            break
    return t


@jit(inline="always")
def _flight_bounds_s(eff_f, e, r_km, v):
    """Bounds (lo, hi) on ``_flight_s`` with drag (k > 0, r_km > 0), for deciding without
    the Newton solve when the decision does not depend on the exact time. lo: the
    drag-free time (drag only slows the round). hi: with ln(1 + x) >= 2x / (2 + x), the
    round flies at least 2ut / (2 + kut) in t seconds, so the time at which that and the
    threat's v t add up to the range, the positive root of
    kuv t^2 + (2u + 2v - kud) t - 2d = 0, is no earlier than the meeting."""
    u = eff_f[e, EF_SPEED_MPS]
    k = eff_f[e, EF_DRAG_K]
    d = r_km * 1e3
    lo = d / (u + v)
    b = 2.0 * u + 2.0 * v - k * u * d
    root = math.sqrt(b * b + 8.0 * k * u * v * d)
    if b > 0.0:
        return lo, 4.0 * d / (b + root)  # the same root, written without cancellation
    return lo, (root - b) / (2.0 * k * u * v)


@jit(inline="always")
def _meet_km(eff_f, e, r_km, v, flight):
    """Range (km) at which a round launched at a threat ``r_km`` away meets it after
    ``flight`` s: R u / (u + v) without drag (written so, for bit-identical results with
    the drag-free model), R - v t with drag."""
    if eff_f[e, EF_DRAG_K] == 0.0:
        u = eff_f[e, EF_SPEED_MPS]
        return r_km * u / (u + v)
    return r_km - v * flight * 1e-3


@jit(inline="always")
def _round_pk(eff_f, e, p, flight):
    """Kill probability of one round after ``flight`` s: p (1 - exp(-c / t^2)), c from
    the miss distance growth and lethal radius (docs/model.md); p when c = 0."""
    c = eff_f[e, EF_PK_C]
    if c > 0.0:
        return p * -math.expm1(-c / (flight * flight))
    return p


@jit(inline="always")
def _kinetic_service_s(eff_f, eff_i, c, r0, v, t_seen, start):
    """Duration of one engagement by kinetic effector c starting at ``start``."""
    last_launch = start + (eff_i[c, EI_SALVO] - 1) * eff_f[c, EF_INTERVAL_S]
    flight = _flight_s(eff_f, c, _range_km(r0, v, t_seen, last_launch), v)
    return last_launch - start + flight + eff_f[c, EF_ASSESS_S]


@jit(borrow=True)
def _pk_at(pk_tab, e, g, r):
    """Kill probability of a round of e meeting a threat of group g at range r (km), from
    e's ``pk_by_range`` table (rows (range, pk) by increasing range, padded with rows of
    infinite range): linear between points, constant beyond the ends."""
    e, g = e & NONNEG, g & NONNEG  # indices known to be >= 0 (kernels/_jit.py)
    if r <= pk_tab[e, g, 0, 0]:
        return pk_tab[e, g, 0, 1]
    for i in range(1, pk_tab.shape[2]):
        r_hi = pk_tab[e, g, i, 0]
        if r <= r_hi:
            p_lo = pk_tab[e, g, i - 1, 1]
            if r_hi == math.inf:  # padding: beyond the last point
                return p_lo
            r_lo = pk_tab[e, g, i - 1, 0]
            return p_lo + (pk_tab[e, g, i, 1] - p_lo) * (r - r_lo) / (r_hi - r_lo)
    return pk_tab[e, g, pk_tab.shape[2] - 1, 1]


@jit(borrow=True)
def _done_by(
    c,
    p,
    g,
    t,
    threat_f,
    eff_f,
    eff_i,
    r_first,
    r_last,
    ltab,
    t_seen,
    eng_cnt,
    ch_free,
    mag,
    next_launch,
    rounds_left,
    memo,
    reach,
    by,
):
    """(done, steady): when effector c could be done with threat p of group g if it took p
    next (the preferential policy's hold rule, docs/model.md "Policies"), inf if it
    cannot; and until when that answer stays the same as time passes while c's state
    (which changes only with an engagement or a release) does not: c's start, or a laser
    unit becoming free before it (which can change the unit that frees first).

    c starts as soon as now, p's entry into c's start window, c's first free channel
    (laser: among units with lasing time left) and (kinetic) its launcher all allow; it
    must start before p leaves that window. Done: kinetic, the assessment of a full salvo;
    laser, the kill (after the track/settle time and at least the threat's minimum dwell),
    if the dwell fits in that unit's lasing time. Only c's own state is
    looked at (not the other threats c may serve first), so this costs O(channels).
    ``memo[c, p]`` keeps the last (start, dwell) of a laser: the start seldom changes from
    one event to the next, and the dwell is the costly part. The caller asks only whether
    done <= ``by``: for a railgun with drag, when the bounds of its flight time settle that
    with a margin far above rounding (1e-9 of the times), the answer is -inf (done in time)
    or inf, without the Newton solve.
    """
    c, p, g = c & NONNEG, p & NONNEG, g & NONNEG  # indices >= 0 (kernels/_jit.py)
    kind = eff_i[c, EI_KIND]
    if eng_cnt[c, p] >= eff_i[c, EI_MAX_ENGAGEMENTS]:
        return math.inf, math.inf
    if kind != KIND_LASER and rounds_left[c] <= 0:
        return math.inf, math.inf
    k_best = -1
    free = math.inf
    steady = math.inf
    for k in range(eff_i[c, EI_CHANNELS]):
        if kind == KIND_LASER and mag[c, k] <= 0.0:
            continue
        f = max(t, ch_free[c, k])
        if f < free:
            free = f
            k_best = k
        if kind == KIND_LASER and f > t:
            steady = min(steady, f)
    if k_best < 0:
        return math.inf, math.inf
    r0 = threat_f[g, TF_RANGE_KM]
    v = threat_f[g, TF_SPEED_MPS]
    start = max(free, _entered(reach, c, g, t_seen[p]))
    if kind != KIND_LASER:
        start = max(start, next_launch[c])
    if start > _last(reach, c, g, t_seen[p]):
        return math.inf, math.inf
    if kind != KIND_LASER:
        if eff_f[c, EF_DRAG_K] > 0.0:
            last_launch = start + (eff_i[c, EI_SALVO] - 1) * eff_f[c, EF_INTERVAL_S]
            r = _range_km(r0, v, t_seen[p], last_launch)
            if r > 0.0:
                lo, hi = _flight_bounds_s(eff_f, c, r, v)
                rest = last_launch - start + eff_f[c, EF_ASSESS_S]
                slack = 1e-9 * (abs(start) + abs(by) + rest + hi + 1.0)
                if start + (rest + hi) + slack < by:
                    return -math.inf, start
                if start + (rest + lo) - slack > by:
                    return math.inf, math.inf
        return start + _kinetic_service_s(eff_f, eff_i, c, r0, v, t_seen[p], start), start
    steady = min(steady, start)
    if memo[c, p, 0] == start:
        dwell = memo[c, p, 1]
    else:
        # As an engagement plays it: settle, then lase from r_lase until the kill fluence
        # and the threat's minimum dwell are both reached (_laser_kill).
        dwell = _laser_dwell(ltab, eff_f, threat_f, c, g, _range_km(r0, v, t_seen[p], start), v)
        memo[c, p, 0] = start
        memo[c, p, 1] = dwell
    if dwell > mag[c, k_best]:
        return math.inf, math.inf
    return (start + eff_f[c, EF_SETTLE_S]) + dwell, steady


# How far ahead of now a plan of bounds first plans (cost_aware, _plan_bounds): measured
# on the mixed raid, one thread, 20,000 trials: 0.25 s and 1 s gain nothing, 4 s 8 %,
# 8 s and 16 s 12 %, 64 s loses (more plans the bounds cannot settle).
PLAN_AHEAD_S = 8.0
# A cost_aware plan's scratch per effector (``slot[c]``, _plan): rows 0 - 2 the greedy's
# units, PTR_ROW each group's first threat not yet detected when the plan was made (-1:
# none left), KEEP_ROW what a plan is resumed from: whether the engine found the
# effector's version unchanged since (K_SAME) and the plan exact and kept (K_OK), its
# horizon but for detections (K_H_REST), the launcher's next time (K_LAUNCHER), the
# rounds left (K_ROUNDS) and the time to impact of the last threat walked (K_LAST_IMP);
# and whether the plan just made was resumed (K_RESUMED: every entry of the plan before
# it is unchanged). For a laser of one unit, in the engine's scratch (SEQ_ROW), also what
# keeps its plan through its own engagements (_kept_plan): the planned threats in the
# order planned (SEQ_ROW), the next of them not yet engaged as planned (K_PNEXT), their
# number (K_PLEN), the least part of the horizon that threats walked but not planned
# contribute (K_NPMIN) and the detection part of the horizon (K_H_DET).
PTR_ROW = 3
KEEP_ROW = 4
K_SAME, K_OK, K_H_REST, K_LAUNCHER, K_ROUNDS, K_LAST_IMP, K_RESUMED = 0, 1, 2, 3, 4, 5, 6
K_PNEXT, K_PLEN, K_NPMIN, K_H_DET = 7, 8, 9, 10
K_FIELDS = 11
# The engine's scratch (cost_aware) also notes which holds a plan made afresh may have
# ended (_breaks): OVAL_ROW the planned times of the plan before it, per threat, and
# BRK_ROW per effector e the count of times a plan of this effector moved a free threat
# e may engage from at or before e's last start on it to after it.
OVAL_ROW, BRK_ROW = 5, 6
SEQ_ROW = 7
# A cost_aware holder's last walk that held fire on every threat it found (``ext[e]``,
# _run_trials): whether it did (EXT_OK), the count of releases alive of threats e may
# engage then (EXT_HVER), the sum of the counts of holds of e that the plans its holds
# rested on may have ended (EXT_FSUM, _breaks), from EXT_PREV on where each group's
# walk stopped (the last threat walked; -1: none) and after those, one per effector c,
# whether a hold of that walk rested on c's plan (c's plan held it).
EXT_OK, EXT_HVER, EXT_FSUM, EXT_PREV = 0, 1, 2, 3
FLIGHT_TABLE_CELLS = 1024  # cells of a railgun's table of flight times by range (cost_aware)


@jit(borrow=True)
def _fill_flight_table(ftab, eff_f, c, g, r_max, v):
    """Row (c, g) of the flight time table (cost_aware plans, ``_done_bounds``): at ranges
    r_i = r_max i / cells, the flight time T_i = ``_flight_s`` (the engine's own solve), its
    slope dT/dr = 1000 / (u / (1 + k u T) + v) (s per km) and r_i. Beyond r_max nothing is
    read (the query's bounds are then nan)."""
    cells = ftab.shape[2] - 1
    u = eff_f[c, EF_SPEED_MPS]
    k = eff_f[c, EF_DRAG_K]
    for i in range(cells + 1):
        r = r_max * i / cells
        flight = _flight_s(eff_f, c, r, v)
        ftab[c, g, i, 0] = flight
        ftab[c, g, i, 1] = 1e3 / (u / (1.0 + k * u * flight) + v)
        ftab[c, g, i, 2] = r


@jit(inline="always")
def _flight_bracket(ftab, c, g, r, upper):
    """A bound on the true meeting time at range r (km) of c's round against group g: the
    flight time T(r) is increasing and convex in r (the inverse of the increasing, concave
    distance ln(1 + k u T) / k + v T), so between two points of the table the chord lies
    above it (``upper``) and the tangents below it. nan outside the table."""
    cells = ftab.shape[2] - 1
    r_max = ftab[c, g, cells, 2]
    if not (r > 0.0 and r <= r_max):
        return math.nan
    i = min(int(r / r_max * cells), cells - 1)
    while i > 0 and ftab[c, g, i, 2] > r:
        i -= 1
    while i < cells - 1 and ftab[c, g, i + 1, 2] < r:
        i += 1
    r_a = ftab[c, g, i, 2]
    r_b = ftab[c, g, i + 1, 2]
    t_a = ftab[c, g, i, 0]
    t_b = ftab[c, g, i + 1, 0]
    if upper:
        return t_a + (t_b - t_a) * ((r - r_a) / (r_b - r_a))
    return max(t_a + ftab[c, g, i, 1] * (r - r_a), t_b - ftab[c, g, i + 1, 1] * (r_b - r))


@jit(inline="always")
def _done_bounds(ftab, eff_f, eff_i, c, g, r0, v, t_seen, start_lo, start_hi):
    """Bounds (lo, hi) on start + ``_kinetic_service_s`` (the time at which a railgun with
    drag knows the outcome of an engagement) for a start anywhere in [start_lo, start_hi],
    from the flight time table. That time is L + T(r(L)) + assess with L the last launch:
    it grows with the start (d/ds = 1 - v / (u / (1 + k u T) + v) > 0), so lo is its lower
    bound at start_lo and hi its upper bound at start_hi, each widened by 1e-9 of the time
    (far above the rounding of the exact computation and of the Newton solve, which stops
    within 1e-14 of the time). (nan, nan) where a range lies outside the table."""
    gap = (eff_i[c, EI_SALVO] - 1) * eff_f[c, EF_INTERVAL_S]
    assess = eff_f[c, EF_ASSESS_S]
    last_lo = start_lo + gap
    last_hi = start_hi + gap
    f_lo = _flight_bracket(ftab, c, g, _range_km(r0, v, t_seen, last_lo), False)
    f_hi = _flight_bracket(ftab, c, g, _range_km(r0, v, t_seen, last_hi), True)
    lo = last_lo + f_lo + assess
    hi = last_hi + f_hi + assess
    slack = 1e-9 * (abs(hi) + 1.0)
    return lo - slack, hi + slack


@jit(inline="always")
def _seq_save(c, n, plan, slot):
    """Keep c's last plan (its planned times of threats 0 .. n - 1, OVAL_ROW) before a
    plan of c is made afresh."""
    for p in range(n):
        slot[c, OVAL_ROW, p] = plan[c, p]


@jit(borrow=True)
def _breaks(c, n, plan, slot, state, grp, can, reach, t_seen):
    """After a plan of c made afresh: for every threat still free whose planned time moved
    later, and every other effector e that can engage its group, count in slot[c,
    BRK_ROW, e] whether it moved from at or before e's last start on it to after it
    (unplanned: inf). A hold e rested on c's plan (planned time <= e's last start) can have
    ended only so; a resumed plan keeps every entry (none moved)."""
    c = c & NONNEG
    for p in range(n):
        old = slot[c, OVAL_ROW, p]
        new = plan[c, p]
        if not new > old or state[p] != FREE:
            continue
        g = grp[p] & NONNEG
        for e in range(can.shape[0]):
            if e != c and can[e, g]:
                my_last = _last(reach, e, g, t_seen[p])
                if old <= my_last < new:
                    slot[c, BRK_ROW, e] += 1.0


@jit(borrow=True)
def _plan_bounds(
    c,
    t,
    threat_f,
    gstart,
    eff_f,
    eff_i,
    can,
    r_first,
    r_last,
    ltab,
    state,
    t_seen,
    t_imp,
    grp,
    eng_cnt,
    nxt,
    head,
    ch_free,
    ch_rel,
    ch_thr,
    mag,
    next_launch,
    rounds_left,
    memo,
    reach,
    plan,
    slot,
    ptr,
    ftab,
):
    """``_plan`` for a kinetic effector with drag from bounds of its flight times (the
    flight time tables ``ftab``, filled): nan where the bounds cannot give the exact
    plan's answers (``_plan`` then makes it).

    The plan covers every time t' in [t, t_end], t_end = t + PLAN_AHEAD_S: a channel
    or launcher free now starts at t' in the exact plan made at t', so the chain of
    starts carries [max(t, x), max(t_end, x)] from the first step on, and the bounds
    settle the answers of the exact plan made at any such t'. Where they cannot, it is
    tried again with t_end = t (a plan for the instant t, as before look-ahead). The
    horizon is then min(h, max(t_end, s)): h the times the walk itself changes at
    (detections, last starts, channels freeing) and s the earliest planned start, below
    which (as in ``_plan``) t' moves no start at all. Without the look-ahead a railgun
    idle now (holding fire itself) has a plan for one instant and is planned again at
    the next event: mixed_raid, 80 -> 67 plans of bounds a trial."""
    c = c & NONNEG  # an index known to be >= 0 (kernels/_jit.py)
    n_slots = eff_i[c, EI_CHANNELS]
    n_groups = gstart.shape[0] - 1
    bounds = True
    for attempt in range(2):
        t_end = t + PLAN_AHEAD_S if attempt == 0 else t
        h = math.inf
        h_start = math.inf
        settled = True
        for p in range(plan.shape[1]):
            plan[c, p] = math.inf
        for k in range(n_slots):
            x = ch_rel[c, k] if ch_thr[c, k] >= 0 else t
            slot[c, 0, k] = max(t, x)
            slot[c, 1, k] = max(t_end, x)
            if x > t:
                h = min(h, x)
        launcher = max(t, next_launch[c])
        launcher_hi = max(t_end, next_launch[c])
        rounds = rounds_left[c]
        salvo = eff_i[c, EI_SALVO]
        interval = eff_f[c, EF_INTERVAL_S]
        max_eng = eff_i[c, EI_MAX_ENGAGEMENTS]
        for g in range(n_groups):
            ptr[g] = head[c, g] if can[c, g] else -1
        while True:
            best = -1
            for g in range(n_groups):
                p = ptr[g]
                while p >= 0 and (
                    state[p] != FREE
                    or t >= t_imp[p]
                    or eng_cnt[c, p] >= max_eng
                    or _range_km(threat_f[g, TF_RANGE_KM], threat_f[g, TF_SPEED_MPS], t_seen[p], t)
                    < r_last[c, g] - EPS_KM
                ):
                    p = nxt[c, p]
                if p >= 0 and t < t_seen[p]:
                    h = min(h, t_seen[p])
                    p = -1  # not yet detected: unknown to the defense, and so is the rest
                elif p >= 0:  # it stays in the walk until it impacts or leaves c's reach
                    # (its last start comes before its impact: r_last >= 0). Nearly implied by
                    # the bound of its planned start below (an unplanned threat changes
                    # nothing): kept for a start admitted up to 1e-9 s past the last start.
                    h = min(h, _last(reach, c, g, t_seen[p]))
                ptr[g] = p
                if p >= 0 and (best < 0 or t_imp[p] < t_imp[best]):
                    best = p
            if best < 0:
                break
            g = grp[best] & NONNEG
            ptr[g] = nxt[c, best]
            r0 = threat_f[g, TF_RANGE_KM]
            v = threat_f[g, TF_SPEED_MPS]
            k_best = 0
            for k in range(1, n_slots):
                if slot[c, 0, k] < slot[c, 0, k_best]:
                    k_best = k
            if bounds:  # the unit the exact plan takes, if the bounds settle it
                for k in range(n_slots):
                    if (k < k_best and not slot[c, 0, k] > slot[c, 1, k_best]) or (
                        k > k_best and not slot[c, 0, k] >= slot[c, 1, k_best]
                    ):
                        settled = False
                if not settled:
                    break
            entry = _entered(reach, c, g, t_seen[best])
            start = max(slot[c, 0, k_best], entry)
            start = max(start, launcher)
            start_hi = max(max(slot[c, 1, k_best], entry), launcher_hi)
            last = _last(reach, c, g, t_seen[best]) + 1e-9
            if start > last:
                continue  # and still so later: start only grows with t
            if start_hi > last:
                settled = False  # bounds only: the exact start may lie either side
                break
            h_start = min(h_start, start)
            if rounds <= 0:
                continue
            if bounds and not (start == start_hi and memo[c, best, 0] == start):
                # The bounds of the done time start + service (lo at the earliest start,
                # hi at the latest: it grows with the start), from the flight time table.
                done_lo, done_hi = _done_bounds(
                    ftab, eff_f, eff_i, c, g, r0, v, t_seen[best], start, start_hi
                )
                if not done_lo <= done_hi:
                    settled = False  # a range outside the table
                    break
                # A holder e asks whether plan <= its last start on the threat: the
                # upper bound answers as the exact time does unless that last start
                # lies between the bounds (any effector that can engage the group is
                # asked about, whatever its cost: a superset of the holders).
                for e in range(can.shape[0]):
                    if e != c and can[e, g]:
                        my_last = _last(reach, e, g, t_seen[best])
                        if done_lo <= my_last < done_hi:
                            settled = False
                if not settled:
                    break
                plan[c, best] = done_hi
                slot[c, 0, k_best] = done_lo
                slot[c, 1, k_best] = done_hi
            else:
                if eff_f[c, EF_DRAG_K] > 0.0 and memo[c, best, 0] == start:
                    service = memo[c, best, 1]  # the same start: the same Newton solve
                else:
                    service = _kinetic_service_s(eff_f, eff_i, c, r0, v, t_seen[best], start)
                    memo[c, best, 0] = start
                    memo[c, best, 1] = service
                plan[c, best] = start + service
                slot[c, 0, k_best] = start + service
                slot[c, 1, k_best] = slot[c, 0, k_best]
            launcher = start + salvo * interval
            launcher_hi = start_hi + salvo * interval
            rounds -= salvo
        if settled:
            return min(h, max(t_end, h_start))
    return math.nan


@jit(borrow=True)
def _plan(
    c,
    t,
    threat_f,
    gstart,
    eff_f,
    eff_i,
    can,
    r_first,
    r_last,
    ltab,
    state,
    t_seen,
    t_imp,
    grp,
    eng_cnt,
    nxt,
    head,
    ch_free,
    ch_rel,
    ch_thr,
    mag,
    next_launch,
    rounds_left,
    memo,
    reach,
    plan,
    slot,
    ptr,
    ftab,
):
    """Predict when effector c would be done with each free threat it can reach (cost_aware).

    Greedy schedule: c serves the detected, free threats it can engage in order of
    urgency, each on the channel (laser unit) that frees first, starting no earlier than
    now, that channel's free time and the threat's entry into c's envelope; a threat it
    could not start before leaving its envelope (or without rounds or lasing time left)
    is not planned (plan = inf). ``plan[c, p]`` is the predicted time at which c knows
    the outcome: the kill time for a laser, the assessment of its engagement for a kinetic
    effector. One engagement per threat; engagements by other effectors are ignored, which
    errs towards predicting that c is busier than it will be. ``memo[c, p]`` keeps the last
    (start, duration) planned for c on threat p (kernel scratch, emptied each salvo) and
    the duration is reused for the same start, a pure function of it within a salvo: a
    laser's lasing to the kill (``_laser_kill``, as the engine's engagement computes it:
    a plan that comes true is the engine's timeline, which lets the engine keep it,
    ``_kept_plan``), a kinetic effector's engagement (with drag, a Newton solve for the
    flight time: log1p, 38 % of the mixed raid's cost_aware time before plans of bounds).
    Starts repeat when c
    waits for a threat's entry or a unit's release; on a channel free now they move with
    time.

    Returns the plan's horizon h: while c's state and the states of the threats it may
    engage do not change, the plan made at any time t' with t <= t' < h is this one, value
    for value (docs/model.md, "Policies"). Time enters the greedy only through max(t, x)
    (a channel or launcher free at x <= t is free now) and the filters of the walk. Below
    h: no threat is detected, impacts or leaves c's reach (h <= each one's detection
    and last start time, which comes before its impact); no busy channel frees (h <= its
    free time), so the order of the channels is the same; every computed start lies at or
    beyond h, so a component t' < h of the max does not move it. A plan with a start at t
    has h = t.

    A kinetic effector with drag, when ``ftab`` (the flight time tables, kernel scratch,
    filled here as needed) has rows, is planned first without its Newton solves: each
    engagement's done time is bounded from the table (``_done_bounds``), and the chain of
    starts carries a lower and an upper bound (``slot[0]`` and ``slot[1]``, the
    launcher); ``plan[c, p]`` gets the upper bound. A holder asks only whether the plan is
    no later than its own last start on p, and the upper bound answers as the exact time
    does unless that last start lies between the bounds: where it does for any effector
    that can engage p's group, or where the bounds cannot settle a step of the exact
    plan (which channel it takes, a start past the threat's last) or a range lies beyond
    the table, the plan is made again, exactly. So every answer is the exact plan's. The
    plan of bounds also covers the next PLAN_AHEAD_S seconds (``_plan_bounds``): until its
    horizon, every answer is that of the exact plan made at that time.

    Resumed plans (the issue's "resumable, lazily extended plan"): when the engine found
    c's version unchanged since c's last plan (``slot[c, KEEP_ROW, K_SAME]``), only time
    has passed that plan's horizon. If it is still before every part of that horizon but
    the detections (K_H_REST) and the plan was exact, the plan made afresh now would walk
    the same threats to the same values and then the threats detected since, unless one
    of them comes before a threat already walked (then it is made afresh). So the walk
    goes on from where it stopped (``slot[c, PTR_ROW]``), from the units, launcher and
    rounds it ended with, a unit or launcher free at the old time brought up to now. On
    the drone raid each detection extended the laser's plan so (63 of 128 plans a 64-drone
    trial). A laser of one unit in the engine's scratch also notes its planned threats in
    order, and what its horizon is without the next of them (``_kept_plan``).
    ``slot[2]`` is a laser unit's lasing time left. The arguments are kept to 29: with 34
    Numba left a reference count on each of 31 arrays around the call in the engine
    (11 % of mixed_raid cost_aware's time, perf).
    """
    c = c & NONNEG  # an index known to be >= 0 (kernels/_jit.py)
    kind = eff_i[c, EI_KIND]
    n_slots = eff_i[c, EI_CHANNELS]
    n_groups = gstart.shape[0] - 1
    bounded = ftab.shape[0] > 0 and kind != KIND_LASER and eff_f[c, EF_DRAG_K] > 0.0
    keep = slot.shape[1] > KEEP_ROW  # the engine's scratch keeps plans to resume
    resume = (
        keep
        and not bounded
        and slot[c, KEEP_ROW, K_SAME] == 1.0
        and slot[c, KEEP_ROW, K_OK] == 1.0
        and t < slot[c, KEEP_ROW, K_H_REST]
    )
    if keep:
        slot[c, KEEP_ROW, K_OK] = 0.0  # until this plan is made, and only an exact one
        slot[c, KEEP_ROW, K_RESUMED] = 0.0  # until a resumed walk ends
    track = slot.shape[1] > BRK_ROW  # the engine's scratch: note the holds it may end
    # a laser of one unit in the engine's scratch: note what keeps the plan through the
    # laser's own engagements (_kept_plan)
    seq = slot.shape[1] > SEQ_ROW and kind == KIND_LASER and n_slots == 1
    npmin = math.inf  # the horizon's parts from threats walked but not planned
    plen = 0  # threats planned
    n_old = gstart[n_groups]  # the salvo's threats
    saved = False  # the last plan's planned times, kept before any is made afresh
    if bounded:
        if track:
            _seq_save(c, n_old, plan, slot)
            saved = True
        cells = ftab.shape[2] - 1
        for g in range(n_groups):
            if can[c, g] and not ftab[c, g, cells, 2] >= 0.0:  # not filled yet
                r_max = max(min(threat_f[g, TF_RANGE_KM], r_first[c, g]), 0.0) + 1e-6
                _fill_flight_table(ftab, eff_f, c, g, r_max, threat_f[g, TF_SPEED_MPS])
        h = _plan_bounds(
            c, t, threat_f, gstart, eff_f, eff_i, can, r_first, r_last, ltab, state,
            t_seen, t_imp, grp, eng_cnt, nxt, head, ch_free, ch_rel, ch_thr, mag,
            next_launch, rounds_left, memo, reach, plan, slot, ptr, ftab,
        )  # fmt: skip
        if h == h:
            if track:
                _breaks(c, n_old, plan, slot, state, grp, can, reach, t_seen)
            return h
    salvo = eff_i[c, EI_SALVO]
    interval = eff_f[c, EF_INTERVAL_S]
    max_eng = eff_i[c, EI_MAX_ENGAGEMENTS]
    for attempt in range(2):
        if attempt == 0 and not resume:
            continue
        # h_rest: every time the plan changes at but the detection of a threat (h_det)
        h_rest = math.inf
        h_det = math.inf
        if attempt == 0:  # resume the plan made last, from where its walk ended
            h_rest = slot[c, KEEP_ROW, K_H_REST]
            for k in range(n_slots):
                slot[c, 0, k] = max(slot[c, 0, k], t)
            launcher = max(slot[c, KEEP_ROW, K_LAUNCHER], t)
            rounds = np.int64(slot[c, KEEP_ROW, K_ROUNDS])
            last_imp = slot[c, KEEP_ROW, K_LAST_IMP]
            for g in range(n_groups):
                ptr[g] = np.int64(slot[c, PTR_ROW, g])
            if seq:
                npmin = slot[c, KEEP_ROW, K_NPMIN]
                plen = np.int64(slot[c, KEEP_ROW, K_PLEN])
        else:
            if track and not saved:
                _seq_save(c, n_old, plan, slot)
            for p in range(plan.shape[1]):
                plan[c, p] = math.inf
            for k in range(n_slots):
                if kind == KIND_LASER:
                    x = ch_free[c, k]
                    slot[c, 0, k] = max(t, x) if mag[c, k] > 0.0 else math.inf
                    slot[c, 2, k] = mag[c, k]
                else:
                    x = ch_rel[c, k] if ch_thr[c, k] >= 0 else t
                    slot[c, 0, k] = max(t, x)
                if x > t and slot[c, 0, k] < math.inf:
                    h_rest = min(h_rest, x)
            launcher = max(t, next_launch[c])
            rounds = rounds_left[c]
            last_imp = -math.inf
            npmin = math.inf
            plen = 0
            if seq:
                slot[c, KEEP_ROW, K_PNEXT] = 0.0
            for g in range(n_groups):
                ptr[g] = head[c, g] if can[c, g] else -1
                if keep:
                    slot[c, PTR_ROW, g] = -1.0
        first = attempt == 0
        while True:
            best = -1
            for g in range(n_groups):
                p = ptr[g]
                if p < 0:
                    continue
                while p >= 0 and (
                    state[p] != FREE
                    or t >= t_imp[p]
                    or eng_cnt[c, p] >= max_eng
                    or _range_km(threat_f[g, TF_RANGE_KM], threat_f[g, TF_SPEED_MPS], t_seen[p], t)
                    < r_last[c, g] - EPS_KM
                ):
                    p = nxt[c, p]
                if p >= 0 and t < t_seen[p]:
                    h_det = min(h_det, t_seen[p])
                    if keep:
                        slot[c, PTR_ROW, g] = p  # where a resumed plan walks on
                    p = -1  # not yet detected: unknown to the defense, and so is the rest
                elif p >= 0:  # it stays in the walk until it impacts or leaves c's reach
                    # (its last start comes before its impact: r_last >= 0). Nearly implied
                    # by the bound of its planned start below (an unplanned threat changes
                    # nothing): kept for a start admitted up to 1e-9 s past the last start.
                    h_rest = min(h_rest, _last(reach, c, g, t_seen[p]))
                elif keep:
                    slot[c, PTR_ROW, g] = -1.0
                ptr[g] = p
                if p >= 0 and (best < 0 or t_imp[p] < t_imp[best]):
                    best = p
            if best < 0:
                break
            if first:
                first = False
                if not t_imp[best] > last_imp:
                    break  # it comes before a threat already planned: plan afresh
            last_imp = t_imp[best]
            g = grp[best] & NONNEG
            ptr[g] = nxt[c, best]
            r0 = threat_f[g, TF_RANGE_KM]
            v = threat_f[g, TF_SPEED_MPS]
            k_best = 0
            for k in range(1, n_slots):
                if slot[c, 0, k] < slot[c, 0, k_best]:
                    k_best = k
            start = max(slot[c, 0, k_best], _entered(reach, c, g, t_seen[best]))
            if kind != KIND_LASER:
                start = max(start, launcher)
            last_best = _last(reach, c, g, t_seen[best])
            if start > last_best + 1e-9:
                npmin = min(npmin, last_best)
                continue  # and still so later: start only grows with t
            h_rest = min(h_rest, start)
            if kind == KIND_LASER:
                # The engagement as the engine plays it (settle, then lasing to the kill,
                # _laser_kill), the same operations: a plan that comes true is the
                # engine's timeline to the bit (_kept_plan).
                if memo[c, best, 0] == start:
                    dwell = memo[c, best, 1]  # the same start: the same dwell
                else:
                    r_start = _range_km(r0, v, t_seen[best], start)
                    dwell = _laser_dwell(ltab, eff_f, threat_f, c, g, r_start, v)
                    memo[c, best, 0] = start
                    memo[c, best, 1] = dwell
                if dwell > slot[c, 2, k_best]:
                    npmin = min(npmin, min(last_best, start))
                    continue
                kill = (start + eff_f[c, EF_SETTLE_S]) + dwell
                plan[c, best] = kill
                slot[c, 0, k_best] = kill + eff_f[c, EF_RETARGET_S]
                slot[c, 2, k_best] -= dwell
                if seq:
                    slot[c, SEQ_ROW, plen] = best
                    plen += 1
            else:
                if rounds <= 0:
                    continue
                if eff_f[c, EF_DRAG_K] > 0.0 and memo[c, best, 0] == start:
                    service = memo[c, best, 1]  # the same start: the same Newton solve
                else:
                    service = _kinetic_service_s(eff_f, eff_i, c, r0, v, t_seen[best], start)
                    memo[c, best, 0] = start
                    memo[c, best, 1] = service
                plan[c, best] = start + service
                slot[c, 0, k_best] = start + service
                launcher = start + salvo * interval
                rounds -= salvo
        if best >= 0:
            continue  # a resumed walk met an earlier threat
        if keep and not bounded:
            slot[c, KEEP_ROW, K_H_REST] = h_rest
            slot[c, KEEP_ROW, K_LAUNCHER] = launcher
            slot[c, KEEP_ROW, K_ROUNDS] = rounds
            slot[c, KEEP_ROW, K_LAST_IMP] = last_imp
            slot[c, KEEP_ROW, K_OK] = 1.0
            slot[c, KEEP_ROW, K_RESUMED] = 1.0 if attempt == 0 else 0.0
            if seq:
                slot[c, KEEP_ROW, K_NPMIN] = npmin
                slot[c, KEEP_ROW, K_PLEN] = plen
                slot[c, KEEP_ROW, K_H_DET] = h_det
        if track:
            if attempt == 1:  # made afresh
                _breaks(c, n_old, plan, slot, state, grp, can, reach, t_seen)
        return min(h_rest, h_det)
    return math.inf  # not reached: the second attempt always returns


@jit(inline="always")
def _kept_plan(e, target, t, dwell, x_new, slot, memo, plan):
    """A laser of one unit (e) just engaged ``target`` at t and will kill it with this
    ``dwell``, its unit free again at ``x_new``: if its last plan (exact, kept in the
    engine's scratch, made for e's version before this engagement) planned exactly that
    as the next of its planned threats, return the horizon but for detections of the plan
    that is that plan less ``target``; nan otherwise.

    That plan, made at any time t' before its horizon, is the one made afresh at t' after
    this engagement, value for value (``target`` now unplanned). At t the plan made
    afresh before the engagement was the kept one: every part of its horizon but those of
    ``target`` (its start, t; its last start; the unit's free time, which with one unit
    only orders units) lies after t: the parts of the threats walked and not planned
    (K_NPMIN) by the check, and those of the threats planned after ``target``, whose
    starts follow on the one unit and each lies at most 1e-9 s after that threat's last
    start, by the check of the next one's start. Its first planned threat is ``target``,
    started at t (a plan's laser engagement is the engine's, operation for operation),
    with the same dwell, so the engagement leaves the unit, its lasing time and every
    later planned start as planned. The horizon returned is the unit's new free time,
    K_NPMIN and the next planned start less 1e-8 s, the least: the plan made afresh after
    the engagement has no part before it. Detections since the plan are walked on by a
    resumed plan (_plan) as before."""
    e = e & NONNEG
    pn = np.int64(slot[e, KEEP_ROW, K_PNEXT])
    pl = np.int64(slot[e, KEEP_ROW, K_PLEN])
    if not (pn < pl and np.int64(slot[e, SEQ_ROW, pn]) == target):
        return math.nan
    if not (memo[e, target, 0] == t and memo[e, target, 1] == dwell):
        return math.nan
    h = min(x_new, slot[e, KEEP_ROW, K_NPMIN])
    if pn + 1 < pl:
        h = min(h, memo[e, np.int64(slot[e, SEQ_ROW, pn + 1]) & NONNEG, 0] - 1e-8)
    if not t < h:
        return math.nan
    slot[e, KEEP_ROW, K_PNEXT] = pn + 1
    slot[e, KEEP_ROW, K_H_REST] = h
    plan[e, target] = math.inf  # engaged: unplanned, as in the plan made afresh
    return h


@jit(inline="always")
def _touch(pver, can, e, g):
    """A threat of group g changed state in an engagement of e (begun, or ended with the
    threat alive): the plans that may change are e's own and those of every effector that
    can engage g."""
    for c in range(pver.shape[0]):
        if c == e or can[c, g]:
            pver[c] += 1


@jit(inline="always")
def _hold_sig(e, cheap, pver):
    """Sum of the plan versions that a cost_aware walk of e rests on: e's own (the threats
    it may engage and its own state) and those of the effectors its holds consult (row
    n_groups of ``cheap``: ``_cheaper``). Versions only grow, so an unchanged sum means
    every one of them is unchanged."""
    sig = pver[e]
    row = cheap.shape[1] - 1
    for j in range(cheap[e, row, 0]):
        sig += pver[cheap[e, row, 1 + j] & NONNEG]
    return sig


@jit(borrow=True)
def _cheaper(can, cpk, active, cheap):
    """For each effector e and group g, the effectors whose plans (cost_aware) or state
    (preferential) e's hold on a threat of g asks about, in index order (the order the
    sweep asks in): ``cheap[e, g, 0]`` of them in ``cheap[e, g, 1:]``, each active, able
    to engage and kill g (cost per kill, or rank, ``cpk`` finite) and cheaper against g
    than e (ties: the lower index). Row ``n_groups``: every effector in e's rows of the
    groups e can engage, once (the plans ``_hold_sig`` sums). Fixed for a salvo: ``can``
    is its weather state's and ``active`` is set at its start."""
    n_eff = cheap.shape[0]
    n_groups = cheap.shape[1] - 1
    for e in range(n_eff):
        for g in range(n_groups + 1):
            cheap[e, g, 0] = 0
        for c in range(n_eff):
            consulted = False
            for g in range(n_groups):
                if (
                    c != e
                    and active[c]
                    and can[c, g]
                    and cpk[c, g] != math.inf
                    and (cpk[c, g] < cpk[e, g] or (cpk[c, g] == cpk[e, g] and c < e))
                ):
                    m = cheap[e, g, 0] + 1
                    cheap[e, g, 0] = m
                    cheap[e, g, m] = c
                    consulted = consulted or can[e, g]
            if consulted:
                m = cheap[e, n_groups, 0] + 1
                cheap[e, n_groups, 0] = m
                cheap[e, n_groups, m] = c


@jit(inline="always")
def _threat_words(n_eff):
    """64-bit words per threat in ``_canon``: a byte for its state and one per effector
    for its engagement count (at most 255: costx.scenario.MAX_DOCTRINE)."""
    return (8 * (n_eff + 1) + 63) // 64


@jit
def canon_length(n_eff, max_ch, n_threats):
    """Length of the canonical state of ``_canon`` (64-bit words)."""
    return 4 + n_eff * (4 + 5 * max_ch) + n_threats * _threat_words(n_eff)


@jit(borrow=True)
def _trace_row(tev, tvecs, tgone, n_groups):
    """The next event and the next state row of the trace (kernels/memo.py), the row
    cleared (every word zero, no leakers), or (-1, -1) with the trace marked incomplete
    when either is full."""
    kev = np.int64(tev[0, H_EVENTS])
    r = np.int64(tev[0, H_ROWS])
    if 0 <= kev < tev.shape[0] - 1 and r < tvecs.shape[0]:
        for j in range(tvecs.shape[1]):
            tvecs[r, j] = 0.0
        for g in range(n_groups):
            tgone[r, g] = 0
        return kev, r
    tev[0, H_EVENTS] = -1.0
    return np.int64(-1), np.int64(-1)


@jit(borrow=True)
def _trace_event(tev, kev, kind, arg, steps, shots_row, kills_row):
    """Write the trace's event kev + 1 (kernels/memo.py): a state point (arg: its row) or
    a salvo's end (arg: the salvo), with the salvo's event steps, rounds fired and kills
    so far."""
    n_eff = shots_row.shape[0]
    tev[kev + 1, E_KIND] = kind
    tev[kev + 1, E_ARG] = arg
    tev[kev + 1, E_STEPS] = steps
    for e in range(n_eff):
        tev[kev + 1, E_STEPS + 1 + e] = shots_row[e]
        tev[kev + 1, E_STEPS + 1 + n_eff + e] = kills_row[e]
    tev[0, H_EVENTS] = kev + 1


@jit(inline="always")
def _cursor(tev, tcur, gnode):
    """Follow the graph from the last state point along the trace's events since (their
    draws' outcomes; a salvo's end) to the state point about to be traced: the node the
    graph has for it (its canonical form need not be written: memo.rec_trace follows the
    edge), or 0 when the graph has no such edge yet, the cursor is lost (-1) or the trace
    is full (its next event is then -1). The cursor (``tcur``, memo.C_NODE and C_EDGE)
    moves to that node, or is lost until a state written down is found in the graph
    (_trace_state)."""
    kev = np.int64(tev[0, H_EVENTS])
    if tcur[C_SKIP] == 0 or not 0 <= kev < tev.shape[0] - 1:
        return np.int64(0)
    c = tcur[C_NODE]
    b = tcur[C_EDGE]
    for k in range(tcur[C_SCAN], kev):
        if c < 0:
            break
        c = gnode[c, N_CHILD + b]
        if c <= 0:
            c = -1
            break
        b = np.int64(tev[k + 1, E_ARG]) if tev[k + 1, E_KIND] == DRAW else 0
    tcur[C_SCAN] = kev + 1
    tcur[C_EDGE] = 0
    tcur[C_NODE] = -1
    if c >= 0:
        n = gnode[c, N_CHILD + b]
        if n > 0 and gnode[n, N_KIND] == STATE:
            tcur[C_NODE] = n
            return n
    return np.int64(0)


@jit(borrow=True)
def _trace_salvo_start(tev, tvecs, twords, tgone, tcur, gnode, gkey, gtable, gwords, s,
                       rounds_left, n_groups):  # fmt: skip
    """Trace a state point at a salvo's start (kernels/memo.py): the salvo starts from the
    magazines alone (unwritten, row -1, where the graph has it: _cursor)."""
    n_eff = rounds_left.shape[0]
    if _cursor(tev, tcur, gnode) > 0:
        kev = np.int64(tev[0, H_EVENTS])
        tev[kev + 1, E_KIND] = STATE
        tev[kev + 1, E_ARG] = -1.0
        for j in range(E_STEPS, tev.shape[1]):
            tev[kev + 1, j] = 0.0
        tev[0, H_EVENTS] = kev + 1
        return
    kev, r = _trace_row(tev, tvecs, tgone, n_groups)
    if kev >= 0:
        tvecs[r, 1] = s
        for e in range(n_eff):
            tvecs[r, 4 + e] = rounds_left[e]
        tev[kev + 1, E_KIND] = STATE
        tev[kev + 1, E_ARG] = r
        for j in range(E_STEPS, tev.shape[1]):
            tev[kev + 1, j] = 0.0  # no steps, rounds fired or kills yet
        tev[0, H_EVENTS] = kev + 1
        tev[0, H_ROWS] = r + 1
        _find(tcur, gnode, gkey, gtable, gwords, twords, r)


@jit(inline="always")
def _find(tcur, gnode, gkey, gtable, gwords, twords, r):
    """After a state point written down (row r), the cursor goes on from the graph's node
    of that state, if the graph holds it (memo.find_state, as recording will find it);
    else it stays lost."""
    if tcur[C_SKIP] != 0:
        x, _ = find_state(gnode, gkey, gtable, gwords, twords, r, state_hash(twords, r))
        tcur[C_NODE] = x if x > 0 else -1


@jit(borrow=True)
def _arrivals(key, counts, threat_f, threat_i, gstart, t_seen, t_imp, ident, grp, state,
              sort_key, sort_idx, det_ptr, rec, tev):  # fmt: skip
    """The salvo's threats: arrival (detection) and impact times, sorted within each group
    by (time, index), all free, and each group's detection pointer at its first threat.
    Returns the first arrival (inf if there is none)."""
    t0 = math.inf
    for g in range(threat_i.shape[0]):
        n = counts[g]
        kind = threat_i[g, TI_ARRIVAL]
        start = threat_f[g, TF_START_S]
        window = threat_f[g, TF_WINDOW_S]
        for j in range(n):
            if kind == ARRIVAL_SIMULTANEOUS:
                ts = start
            elif kind == ARRIVAL_STREAM:
                ts = start + j * window / n
            else:
                ts = start + window * uniform(key, event_counter(ARRIVAL, 0, 0, 0, g, j))
                if rec is not None:  # a continuous draw: the caller never records these
                    tev[0, H_RANDOM] = 1.0
                    tev[0, H_EVENTS] = -1.0
            sort_key[j] = ts
            sort_idx[j] = j
        if kind == ARRIVAL_UNIFORM:
            _sort_uniform(sort_key, sort_idx, n, start, window)
        flight = threat_f[g, TF_RANGE_KM] * 1e3 / threat_f[g, TF_SPEED_MPS]
        base = gstart[g]
        for r in range(n):
            p = base + r
            t_seen[p] = sort_key[r]
            t_imp[p] = sort_key[r] + flight
            ident[p] = sort_idx[r]
            grp[p] = g
            state[p] = FREE
        if n > 0 and sort_key[0] < t0:
            t0 = sort_key[0]
        det_ptr[g] = base
    return t0


@jit(borrow=True)
def _weather(key, state_cum, rec, tev):
    """The salvo's weather (docs/model.md): the availability draw (its counter, to trace
    each laser's use of it, and its value) and the atmospheric state drawn from the
    cumulative probabilities ``state_cum``."""
    weather_ctr = event_counter(WEATHER, 0, 0, 0, 0, 0)
    weather = uniform(key, weather_ctr)
    ws = 0  # weather state
    if state_cum.shape[0] > 1:
        state_ctr = event_counter(ATMOSPHERE, 0, 0, 0, 0, 0)
        w_state = uniform(key, state_ctr)
        while ws < state_cum.shape[0] - 1:
            below = w_state < state_cum[ws]
            if rec is not None:
                trace_draw(tev, state_ctr, state_cum[ws], below)
            if below:
                break
            ws += 1
    return weather_ctr, weather, ws


@jit(borrow=True)
def _reset_effectors(weather, weather_ctr, denied, eff_f, eff_i, can, gstart, rounds_left,
                     next_launch, plan_ver, pver, ev, scan_ver, avail_row, active, ch_free,
                     ch_rel, ch_thr, ch_kill, mag, entry_ptr, head, nxt, eng_cnt, memo,
                     rec, tev):  # fmt: skip
    """Every effector at the salvo's start: available (a laser in clear weather, a kinetic
    effector with rounds left), channels idle, launcher ready, each group's list of the
    threats it can engage in arrival order, no engagements, plans and memory empty."""
    n_groups = gstart.shape[0] - 1
    for e in range(eff_i.shape[0]):
        kind = eff_i[e, EI_KIND]
        n_ch = eff_i[e, EI_CHANNELS]
        next_launch[e] = -math.inf
        plan_ver[e] = -1
        pver[e] = 0
        ev[e] = math.inf  # no channel busy or waiting
        scan_ver[e] = -1
        if kind == KIND_LASER:
            clear = weather < eff_f[e, EF_AVAILABILITY]
            if rec is not None:
                trace_draw(
                    tev, weather_ctr, eff_f[e, EF_AVAILABILITY], clear
                )  # fmt: skip
            avail_row[e] = 1 if clear and not denied else 0
            active[e] = 1 if (avail_row[e] == 1 and n_ch > 0) else 0
        else:
            avail_row[e] = 1
            active[e] = 1 if (rounds_left[e] > 0 and n_ch > 0) else 0
        for k in range(n_ch):
            ch_free[e, k] = -math.inf
            ch_rel[e, k] = math.inf
            ch_thr[e, k] = -1
            ch_kill[e, k] = 0
            mag[e, k] = eff_f[e, EF_MAGAZINE_S]
        for g in range(n_groups):
            a = gstart[g]
            b = gstart[g + 1]
            entry_ptr[e, g] = a
            head[e, g] = a if (can[e, g] and b > a) else -1
            for p in range(a, b):
                nxt[e, p] = p + 1 if p + 1 < b else -1
                eng_cnt[e, p] = 0
                if memo.shape[1] > 0:
                    memo[e, p, 0] = math.nan


@jit(borrow=True)
def _trace_known(tev, tcur, gnode, steps, shots_row, kills_row):
    """A state point after an event step that drew, where the graph already has the
    state (``_cursor``: up to where the trial left the graph, and again from a state
    written down that the graph holds): only the event is noted (row -1), with its
    counts, and True returned; recording follows the edge (memo.rec_trace). False: the
    engine writes the state down (:func:`_trace_state`). Most state points of a recorded
    trial are known; a call with this function's six arguments instead of
    _trace_state's thirty made recording 15 to 20 % faster (docs/performance.md)."""
    if _cursor(tev, tcur, gnode) > 0:
        tev[0, H_DRAWN] = 0.0
        _trace_event(tev, np.int64(tev[0, H_EVENTS]), STATE, -1, steps, shots_row, kills_row)
        return True
    return False


@jit(borrow=True)
def _trace_state(tev, tvecs, twords, tgone, tcur, gnode, gkey, gtable, gwords, s, ws, t, n_threats,
                 eff_i, rounds_left, active, avail_row, next_launch, ch_thr, ch_rel, ch_kill,
                 ch_free, mag, state, t_imp, grp, eng_cnt, steps, shots_row,
                 kills_row):  # fmt: skip
    """Trace a state point (kernels/memo.py) after an event step that drew: every decision
    at t is taken. The state in canonical form: two states with the same form have the
    same future. Left out: what only the speed depends on (the linked lists, the
    shortcuts' versions, wake times and plans, ev, the event-list pointers) and what the
    salvo fixes (arrival times). A time at or before t (a channel's ready time, a
    launcher's, a busy channel's release) is -inf, since every use compares it with t or
    takes max(t, .); an idle channel's release and outcome are 0; a threat gone for good,
    dead or free past its impact (a leaker), is DEAD with no engagement counts, which
    nothing reads again but the count of leakers at the salvo's end: the leakers among
    them are counted per group (tgone) and carried along the graph's edges instead.
    Threats take a byte for their state and one per effector for each engagement count
    (_threat_words).

    Called where the graph does not have the state (:func:`_trace_known` is asked
    first, and it has moved the trace's cursor, ``_cursor``, up to this point)."""
    n_eff = eff_i.shape[0]
    tev[0, H_DRAWN] = 0.0
    kev, r = _trace_row(tev, tvecs, tgone, tgone.shape[1])
    if kev >= 0:
        tvecs[r, 0] = 1.0
        tvecs[r, 1] = s
        tvecs[r, 2] = ws
        tvecs[r, 3] = t
        j = 4
        for e in range(n_eff):
            tvecs[r, j] = rounds_left[e]
            tvecs[r, j + 1] = active[e]
            tvecs[r, j + 2] = avail_row[e]
            tvecs[r, j + 3] = next_launch[e] if next_launch[e] > t else -math.inf
            j += 4
            for k_ch in range(eff_i[e, EI_CHANNELS]):
                if ch_thr[e, k_ch] >= 0:
                    xt = ch_rel[e, k_ch]
                    tvecs[r, j] = ch_thr[e, k_ch]
                    tvecs[r, j + 1] = xt if xt > t else -math.inf
                    tvecs[r, j + 2] = ch_kill[e, k_ch]
                else:
                    tvecs[r, j] = -1.0
                xt = ch_free[e, k_ch]
                tvecs[r, j + 3] = xt if xt > t else -math.inf
                tvecs[r, j + 4] = mag[e, k_ch]
                j += 5
            j += 5 * (ch_thr.shape[1] - eff_i[e, EI_CHANNELS])
        w = _threat_words(n_eff)
        for p in range(n_threats):
            st = state[p]
            leaker = st == FREE and t >= t_imp[p]
            if leaker:
                tgone[r, grp[p]] += 1
            if leaker or st == DEAD:
                twords[r, j] = DEAD
            else:
                twords[r, j] = st
                for e in range(n_eff):
                    bit = 8 * (e + 1)
                    twords[r, j + bit // 64] |= np.uint64(eng_cnt[e, p]) << np.uint64(bit % 64)
            j += w
        _trace_event(tev, kev, STATE, r, steps, shots_row, kills_row)
        tev[0, H_ROWS] = r + 1
        _find(tcur, gnode, gkey, gtable, gwords, twords, r)


@jit(borrow=True)
def _end_salvo(i, s, gstart, state, eff_i, resupply, rounds_left, rounds_end, leaked_row,
               avail_row, shots_row, kills_row, steps, overrun, rec, tev, touts):  # fmt: skip
    """The salvo's end: leakers per group (threats not dead), rounds left per effector,
    then the resupply before the next salvo; traced (kernels/memo.py) unless the trial
    overran or the trace is full."""
    n_ev = tev.shape[0] - 1
    n_groups = gstart.shape[0] - 1
    n_eff = eff_i.shape[0]
    for g in range(n_groups):
        n_leak = 0
        for p in range(gstart[g], gstart[g + 1]):
            if state[p] != DEAD:
                n_leak += 1
        leaked_row[g] = n_leak
    for e in range(eff_i.shape[0]):
        rounds_end[i, s, e] = rounds_left[e]
        if eff_i[e, EI_KIND] != KIND_LASER:
            rounds_left[e] = min(eff_i[e, EI_ROUNDS], rounds_left[e] + resupply[e])
    if rec is not None:  # the salvo's end
        kev = np.int64(tev[0, H_EVENTS])
        if overrun[i] == 0 and 0 <= kev < n_ev:
            for g in range(n_groups):
                touts[s, g] = leaked_row[g]
            for e in range(n_eff):
                touts[s, n_groups + e] = rounds_end[i, s, e]
                touts[s, n_groups + n_eff + e] = avail_row[e]
            _trace_event(tev, kev, TERM, s, steps, shots_row, kills_row)
        else:
            tev[0, H_EVENTS] = -1.0  # an overrun, or no room: not recorded


@jit
def _run_trials(first, last, trial0, seed, inputs, scratch, outputs, rec, tr, go):
    """Play trials first .. last - 1 (trial numbers trial0 + i), each a campaign of salvos.

    One call per parallel task, so that arrays are passed (and reference-counted) once per
    task rather than once per trial or per event. The ``*_all`` arrays have a leading
    weather-state axis; each salvo draws its state and works on that state's slices.
    With ``rec`` True the trial (one) is traced into ``tr`` for the graph of recurring
    states (kernels/memo.py): every draw, the canonical state (``_canon``) at each salvo's
    start and after each event step that drew, and every salvo's end. A plain run passes
    None: every recording branch is written ``if rec is not None:``, which Numba prunes
    before typing when ``rec`` is None, so the plain engine does not compile the recording
    helpers at all (``if rec:`` is not pruned, even on a literal False: 5 s more of a cold
    start, tests/test_kernels_borrow.py).

    A salvo: ``_arrivals``, ``_weather`` and ``_reset_effectors``; event steps until no
    event is left (or the salvo's bound of steps, ``max_events``, is passed);
    ``_end_salvo``. These, and ``_trace_salvo_start`` and ``_trace_state`` (state points
    when recording), are functions compiled without reference counting (``borrow``),
    called once a salvo or state point. The event step (release, each effector's selection and
    engagement, the next event) stays written out below: as separate functions, inlined
    by Numba (``inline="always"``) or called (``borrow``), the engine ran 1.2 to 15 times
    slower (docs/performance.md).
    """
    (
        counts_all, resupply, policy, threat_f, threat_i, eff_f_all, eff_i, pk, cpk,
        r_first_all, r_last_all, can_all, ltab_all, reach_all, order, pk_tab, state_cum,
        state_denied, max_events,
    ) = inputs  # fmt: skip
    (
        gstart, t_seen, t_imp, ident, grp, state, eng_cnt, nxt, head, ch_free, ch_rel, ch_thr,
        ch_kill, mag, next_launch, rounds_left, active, sort_key, sort_idx, plan, memo, plan_t,
        plan_ver, plan_h, pver, ev, scan_ver, scan_wake, scan_next, cand, cand_prev, slot,
        ptr, det_ptr, entry_ptr, flights, reach, cheap, ftab_all,
    ) = scratch  # fmt: skip
    if go is not None:  # cost_aware's walks that go on (``_go_scratch``)
        hver, ext = go
    overrun, leaked, shots, kills, avail, rounds_end = outputs
    n_salvos = counts_all.shape[0]
    # The trace's arrays, taken once (see kernels/memo.py). Written here only in the
    # header of each trial's trace, by trace_draw (inlined: it takes one array) and by the
    # helpers compiled without reference counting (_trace_state and the others).
    tev, tvecs, tgone, touts, tcur, gnode, gkey, gtable, gwords = tr
    twords = tvecs.view(np.uint64)
    for i in range(first, last):
        trial_key_i = trial_key(seed, trial0 + i)
        overrun[i] = 0
        if rec is not None:
            tev[0, H_EVENTS] = 0.0
            tev[0, H_ROWS] = 0.0
            tev[0, H_DRAWN] = 0.0
            tcur[C_NODE] = 0  # the cursor at the graph's root (_cursor)
            tcur[C_EDGE] = 0
            tcur[C_SCAN] = 0
        for e in range(eff_i.shape[0]):
            rounds_left[e] = eff_i[e, EI_ROUNDS]
        for s in range(n_salvos):
            key = trial_key_i if s == 0 else salvo_key(trial_key_i, s)
            counts = counts_all[s]
            leaked_row = leaked[i, s]
            shots_row = shots[i, s]
            kills_row = kills[i, s]
            avail_row = avail[i, s]
            n_groups = threat_i.shape[0]
            n_eff = eff_i.shape[0]
            for e in range(n_eff):
                shots_row[e] = 0
                kills_row[e] = 0
            if rec is not None:
                _trace_salvo_start(
                    tev, tvecs, twords, tgone, tcur, gnode, gkey, gtable, gwords, s,
                    rounds_left, n_groups,
                )  # fmt: skip
            gstart[0] = 0
            for g in range(n_groups):
                gstart[g + 1] = gstart[g] + counts[g]
            n_threats = gstart[n_groups]

            t0 = _arrivals(
                key, counts, threat_f, threat_i, gstart, t_seen, t_imp, ident, grp, state,
                sort_key, sort_idx, det_ptr, rec, tev,
            )  # fmt: skip

            weather_ctr, weather, ws = _weather(key, state_cum, rec, tev)
            denied = state_denied[ws] == 1
            eff_f = eff_f_all[ws]
            r_first = r_first_all[ws]
            r_last = r_last_all[ws]
            can = can_all[ws]
            ltab = ltab_all[ws]
            ftab = ftab_all[ws]
            # this state's reach times (lowering, _reach_times), in the task's own array
            reach_ws = reach_all[ws]
            for e in range(reach.shape[0]):
                for g in range(reach.shape[1]):
                    reach[e, g, 0] = reach_ws[e, g, 0]
                    reach[e, g, 1] = reach_ws[e, g, 1]

            _reset_effectors(
                weather, weather_ctr, denied, eff_f, eff_i, can, gstart, rounds_left,
                next_launch, plan_ver, pver, ev, scan_ver, avail_row, active, ch_free, ch_rel,
                ch_thr, ch_kill, mag, entry_ptr, head, nxt, eng_cnt, memo, rec, tev,
            )  # fmt: skip
            if policy != POLICY_LAYERED:
                _cheaper(can, cpk, active, cheap)
            if go is not None:
                for e in range(n_eff):
                    hver[e] = 0
                    ext[e, EXT_OK] = 0

            # --- event loop ---
            version = 0
            # A walk admits a threat within EPS_KM of reach, up to EPS_KM / v before its
            # exact entry time: the layered shortcut stops skipping twice that early.
            skip_margin = 0.0
            for g in range(n_groups):
                skip_margin = max(skip_margin, 2.0 * EPS_KM * 1e3 / threat_f[g, TF_SPEED_MPS])
            freed = 0  # threats released alive so far (see the layered shortcut below)
            t = t0
            # Guard: a salvo may take at most max_events[s] event steps and engagements
            # (lowering.event_cap, a generous bound); past it the salvo stops and the trial
            # is flagged (overrun = salvo + 1) for the caller to raise, instead of a kernel
            # bug looping forever.
            steps = 0
            cap = max_events[s]
            while n_threats > 0:
                steps += 1
                if steps > cap:
                    if overrun[i] == 0:
                        overrun[i] = s + 1
                    break
                # Engagements whose outcome is known by now release their threats. ev[e] is
                # at most every busy channel's release time of e (and at most its channels'
                # ready times after the last look), so an effector with ev[e] > t has none.
                for e in range(n_eff):
                    if ev[e] > t:
                        continue
                    m = math.inf  # ev[e] anew: e's channel times after t
                    for k in range(eff_i[e, EI_CHANNELS]):
                        if ch_thr[e, k] >= 0:
                            if ch_rel[e, k] <= t:
                                killed = ch_kill[e, k]  # 0 or 1
                                state[ch_thr[e, k]] = DEAD if killed else FREE
                                freed += 1 - killed
                                # cost_aware: a kill changes no plan (a plan skips threats
                                # not FREE, engaged or dead; a kinetic channel released at
                                # or before t starts at t either way, and a plan made while
                                # it was busy ends at its release: its horizon), so only a
                                # threat released alive is a new version.
                                if policy == POLICY_COST_AWARE and not killed:
                                    _touch(pver, can, e, grp[ch_thr[e, k]])
                                    if go is not None:  # a threat free again
                                        _touch(hver, can, e, grp[ch_thr[e, k]])
                                ch_thr[e, k] = -1
                                version += 1
                            else:
                                m = min(m, ch_rel[e, k])
                        if ch_free[e, k] > t:
                            m = min(m, ch_free[e, k])
                    ev[e] = m
                for g in range(n_groups):
                    while det_ptr[g] < gstart[g + 1] and t_seen[det_ptr[g]] <= t:
                        det_ptr[g] += 1

                t_next = math.inf
                for oi in range(n_eff):
                    # & NONNEG: e is >= 0, now visibly so, and the rows of the arrays
                    # e indexes are found without Numba's wrap-around of negative indices
                    # (kernels/_jit.py).
                    e = order[oi] & NONNEG
                    if not active[e]:
                        continue
                    kind = eff_i[e, EI_KIND]
                    n_ch = eff_i[e, EI_CHANNELS]
                    max_eng = eff_i[e, EI_MAX_ENGAGEMENTS]
                    while True:
                        # Capacity: a free channel (unit), rounds or lasing time, a ready launcher.
                        k_free = -1
                        for k in range(n_ch):
                            if ch_thr[e, k] < 0 and ch_free[e, k] <= t:
                                if kind != KIND_LASER or mag[e, k] > 0.0:
                                    k_free = k
                                    break
                        if k_free < 0:
                            break
                        if kind != KIND_LASER:
                            if rounds_left[e] <= 0:
                                break
                            if next_launch[e] > t:
                                t_next = min(t_next, next_launch[e])
                                break
                        # Layered shortcut: e's last walk found no threat to engage, and no
                        # threat has been released alive since. Between walks threats only
                        # die, get engaged, leak, pass out of reach or use up their
                        # engagements (none of which makes one eligible), or come within
                        # reach, which the walk's wake time (the earliest such entry then)
                        # bounds from below: until then a new walk would find nothing.
                        #
                        # Preferential shortcut: e's last walk found only threats it held
                        # fire on, and nothing has been engaged or released since (version).
                        # Each hold rested on a preferred effector c's own state, unchanged,
                        # and on c's start on the threat, which stays put while it lies
                        # ahead; so until the first such start (lapse) or the walk's wake
                        # time, a new walk would hold fire on the same threats.
                        #
                        # Cost-aware shortcut: e's last walk found only threats it held fire
                        # on, and neither e's plan version (its own state, the states of the
                        # threats it may engage) nor that of any cheaper effector whose plan
                        # its holds consult has changed since (_hold_sig). Each consulted
                        # plan is then the same until its horizon (lapse), so until then, the
                        # wake time and the end of the first hold, a new walk would hold fire
                        # on the same threats and note the same next-event times.
                        if (
                            (policy == POLICY_LAYERED and scan_ver[e] == freed)
                            or (policy == POLICY_PREFERENTIAL and scan_ver[e] == version)
                        ) and t < scan_wake[e] - skip_margin:
                            t_next = min(t_next, scan_wake[e])
                            break
                        if (
                            policy == POLICY_COST_AWARE
                            and t < scan_wake[e] - skip_margin
                            and scan_ver[e] == _hold_sig(e, cheap, pver)
                        ):
                            t_next = min(t_next, scan_next[e])
                            break
                        wake = math.inf
                        # The most urgent threat e may engage now (cost_aware: and need not leave
                        # to a cheaper effector).
                        hold_end = math.inf
                        lapse = math.inf  # preferential: no hold can lapse before this
                        target = -1
                        mark = True  # the first pass marks each group
                        # cost_aware: e's last walk held fire on every threat it found;
                        # since then no threat e may engage was released alive (hver:
                        # threats have only been engaged, died, impacted or passed out of
                        # reach, or come within reach), e engaged nothing (its walk would
                        # not have held fire on all), and no plan that a hold of that walk
                        # rested on moved a free threat from at or before e's last start
                        # on it to after it (_breaks; the plan made now if stale, as the
                        # walk would). Every hold of that walk on a threat still free then
                        # stands, so the walk made now would hold fire on the same threats
                        # up to where each group's walk stopped, and go on from there: so
                        # e's walk goes on from there. Its first hold end is that of the
                        # first threat still free and eligible in each group's list (the
                        # lists are in order of detection, and a hold lasts to e's last
                        # start); if it finds a threat to engage, it walks afresh (the end
                        # of the holds before that threat is an event). Its holds rest on
                        # the plans that held them, so their horizons bound them (lapse).
                        extend = False
                        if go is not None:
                            extend = (
                                policy == POLICY_COST_AWARE
                                and slot.shape[1] > BRK_ROW
                                and ext[e, EXT_OK] == 1
                                and ext[e, EXT_HVER] == hver[e]
                            )
                            if extend:
                                # A stale plan a hold rested on is made now (resumed,
                                # if it can be), but not made afresh if a plan of e's
                                # list is not stale: a walk made afresh asks that one
                                # first and may need none made (the plans made change
                                # no decision, only the work)
                                stale_held = False
                                fresh_one = False
                                for j in range(cheap[e, n_groups, 0]):
                                    c = cheap[e, n_groups, 1 + j] & NONNEG
                                    if plan_ver[c] != pver[c] or (
                                        plan_t[c] != t and t >= plan_h[c]
                                    ):
                                        if ext[e, EXT_PREV + n_groups + c] == 1 and not (
                                            plan_ver[c] == pver[c]
                                            and slot[c, KEEP_ROW, K_OK] == 1.0
                                            and t < slot[c, KEEP_ROW, K_H_REST]
                                        ):
                                            stale_held = True  # and not one to resume
                                    else:
                                        fresh_one = True
                                extend = not (stale_held and fresh_one)
                            if extend:
                                extend = False
                                fsum = 0
                                lap = math.inf
                                for j in range(cheap[e, n_groups, 0]):
                                    c = cheap[e, n_groups, 1 + j] & NONNEG
                                    if ext[e, EXT_PREV + n_groups + c] == 0:
                                        continue  # none of that walk's holds rested on it
                                    if plan_ver[c] != pver[c] or (
                                        plan_t[c] != t and t >= plan_h[c]
                                    ):
                                        slot[c, KEEP_ROW, K_SAME] = (
                                            1.0 if plan_ver[c] == pver[c] else 0.0
                                        )
                                        plan_h[c] = _plan(
                                            c, t, threat_f, gstart, eff_f, eff_i, can, r_first,
                                            r_last, ltab, state, t_seen, t_imp, grp,
                                            eng_cnt, nxt, head, ch_free, ch_rel, ch_thr, mag,
                                            next_launch, rounds_left, memo, reach, plan, slot,
                                            ptr, ftab,
                                        )  # fmt: skip
                                        plan_ver[c] = pver[c]
                                        plan_t[c] = t
                                    fsum += np.int64(slot[c, BRK_ROW, e])
                                    lap = min(lap, plan_h[c])
                                if fsum == ext[e, EXT_FSUM]:
                                    first_end = math.inf
                                    for g in range(n_groups):
                                        # from the head to where that walk stopped,
                                        # unlinking threats out of e's reach for good
                                        # (as a walk does)
                                        stop = ext[e, EXT_PREV + g]
                                        prev = -1
                                        p = head[e, g] if stop >= 0 else -1
                                        while p >= 0:
                                            st = state[p]
                                            q = nxt[e, p]
                                            if st != ENGAGED:
                                                if (
                                                    st == DEAD
                                                    or t >= t_imp[p]
                                                    or eng_cnt[e, p] >= max_eng
                                                    or _range_km(
                                                        threat_f[g, TF_RANGE_KM],
                                                        threat_f[g, TF_SPEED_MPS],
                                                        t_seen[p],
                                                        t,
                                                    )
                                                    < r_last[e, g] - EPS_KM
                                                ):
                                                    if prev < 0:
                                                        head[e, g] = q
                                                    else:
                                                        nxt[e, prev] = q
                                                    if p == stop:
                                                        break
                                                    p = q
                                                    continue
                                                first_end = min(
                                                    first_end, _last(reach, e, g, t_seen[p])
                                                )
                                                break
                                            if p == stop:
                                                break
                                            prev = p
                                            p = q
                                    if t < first_end:
                                        extend = True
                                        hold_end = first_end
                                        lapse = lap
                            if not extend:
                                for c in range(n_eff):
                                    ext[e, EXT_PREV + n_groups + c] = 0  # no hold yet
                        while True:
                            # Walk e's list of each group marked SCAN (from the head, or
                            # after the candidate just held) to the first threat e may
                            # engage now, unlinking threats permanently out of e's reach and
                            # noting when the first one not yet in reach comes within it.
                            for g in range(n_groups):
                                if mark:
                                    # SCAN: walk e's list of g from the head (cand_prev =
                                    # -1). Marked here, not in a loop of its own: LLVM
                                    # vectorized that loop (a few groups) and checked the
                                    # arrays for overlap at every visit of an effector,
                                    # 5 to 12 % of the layered engine's time
                                    # (docs/performance.md).
                                    cand[g] = SCAN if (can[e, g] and head[e, g] >= 0) else -1
                                    cand_prev[g] = -1
                                    if go is not None:
                                        if extend:  # where e's last walk stopped
                                            cand_prev[g] = ext[e, EXT_PREV + g]
                                if cand[g] != SCAN:
                                    continue
                                prev = cand_prev[g]
                                p = head[e, g] if prev < 0 else nxt[e, prev]
                                r0 = threat_f[g, TF_RANGE_KM]
                                v = threat_f[g, TF_SPEED_MPS]
                                found = -1
                                while p >= 0:
                                    st = state[p]
                                    q = nxt[e, p]
                                    if st == ENGAGED:  # passed over first: the cheapest
                                        # test, and ahead of the tests below, which an
                                        # engaged threat may pass at its release
                                        prev = p
                                        p = q
                                        continue
                                    seen = t >= t_seen[p]
                                    if (
                                        st == DEAD
                                        or (st == FREE and t >= t_imp[p])
                                        or eng_cnt[e, p] >= max_eng
                                        or (
                                            seen
                                            and _range_km(r0, v, t_seen[p], t)
                                            < r_last[e, g] - EPS_KM
                                        )
                                    ):
                                        if prev < 0:
                                            head[e, g] = q
                                        else:
                                            nxt[e, prev] = q
                                        p = q
                                        continue
                                    if (
                                        not seen
                                        or _range_km(r0, v, t_seen[p], t) > r_first[e, g] + EPS_KM
                                    ):
                                        wake = min(wake, _entered(reach, e, g, t_seen[p]))
                                    else:
                                        found = p
                                    break
                                cand[g] = found
                                cand_prev[g] = prev
                            mark = False
                            best_g = np.int64(
                                -1
                            )  # not the literal -1: Numba would compile _done_by for it too
                            for g in range(n_groups):
                                p = cand[g]
                                if p >= 0 and (best_g < 0 or t_imp[p] < t_imp[cand[best_g]]):
                                    best_g = g
                            if best_g < 0:
                                break
                            p = cand[best_g]
                            if policy == POLICY_LAYERED:
                                target = p
                                break
                            # Cost-aware prediction rule (docs/model.md, "Policies"): e holds
                            # fire on p if an effector c cheaper against p's type (expected cost
                            # per kill; ties: lower index) is predicted by _plan to be done with
                            # p (laser: killed; kinetic: assessed) no later than e's own last
                            # launch opportunity on p; e decides again then. Preferential: the
                            # same with c preferred by the doctrine (cpk holds the rank) and
                            # _done_by, which ignores what else c may serve first.
                            hold = False
                            until = math.inf
                            g_p = best_g
                            my_last = _last(reach, e, g_p, t_seen[p])
                            # cost_aware: the hold is an OR over the cheaper effectors, so
                            # the plans already made for this time are asked first (sweep 0)
                            # and a plan is made only if none of them holds (sweep 1): the
                            # same answer, fewer plans. Preferential: one sweep.
                            for sweep in range(2 if policy == POLICY_COST_AWARE else 1):
                                # each active c cheaper than e against g_p that can kill it
                                # (_cheaper), in index order
                                for j in range(cheap[e, g_p, 0]):
                                    c = cheap[e, g_p, 1 + j] & NONNEG
                                    if policy == POLICY_PREFERENTIAL:
                                        done, steady = _done_by(
                                            c, p, g_p, t, threat_f, eff_f, eff_i, r_first,
                                            r_last, ltab, t_seen, eng_cnt, ch_free, mag,
                                            next_launch, rounds_left, memo, reach, my_last,
                                        )  # fmt: skip
                                        if done <= my_last:
                                            hold = True
                                            until = my_last
                                            lapse = min(lapse, steady)
                                            break
                                        continue
                                    stale = plan_ver[c] != pver[c] or (
                                        plan_t[c] != t and t >= plan_h[c]
                                    )
                                    if stale != (sweep == 1):
                                        continue  # asked in the other sweep
                                    if stale:
                                        # the plan may be resumed (_plan) if only time
                                        # passed its horizon (a scratch of three rows,
                                        # the tests', keeps no plans)
                                        if slot.shape[1] > KEEP_ROW:
                                            slot[c, KEEP_ROW, K_SAME] = (
                                                1.0 if plan_ver[c] == pver[c] else 0.0
                                            )
                                        plan_h[c] = _plan(
                                            c, t, threat_f, gstart, eff_f, eff_i, can, r_first,
                                            r_last, ltab, state, t_seen, t_imp, grp,
                                            eng_cnt, nxt, head, ch_free, ch_rel, ch_thr, mag,
                                            next_launch, rounds_left, memo, reach, plan, slot,
                                            ptr, ftab,
                                        )  # fmt: skip
                                        plan_ver[c] = pver[c]
                                        plan_t[c] = t
                                    lapse = min(lapse, plan_h[c])  # this plan holds until then
                                    if plan[c, p] <= my_last:
                                        hold = True
                                        until = my_last
                                        if go is not None:
                                            ext[e, EXT_PREV + n_groups + c] = 1  # it held
                                        break
                                if hold:
                                    break
                            if not hold:
                                if go is not None:
                                    if extend:  # walk afresh (see extend above)
                                        extend = False
                                        mark = True
                                        wake = math.inf
                                        hold_end = math.inf
                                        lapse = math.inf
                                        for c in range(n_eff):
                                            ext[e, EXT_PREV + n_groups + c] = 0
                                        continue
                                target = p
                                break
                            hold_end = min(hold_end, until)
                            if policy == POLICY_PREFERENTIAL:
                                cand[best_g] = -1  # holds on p's whole group for now
                            else:
                                cand[best_g] = SCAN  # continue the walk after p
                                cand_prev[best_g] = p
                        t_next = min(t_next, wake)
                        if hold_end > t:
                            t_next = min(t_next, hold_end)
                        if target < 0:
                            if policy == POLICY_PREFERENTIAL:
                                scan_ver[e] = version
                                scan_wake[e] = min(wake, lapse) if lapse > t else t
                            elif policy == POLICY_COST_AWARE:
                                scan_ver[e] = _hold_sig(e, cheap, pver)
                                scan_wake[e] = min(wake, hold_end, lapse)
                                scan_next[e] = min(wake, hold_end)
                                if go is not None and slot.shape[1] > BRK_ROW:
                                    # for a walk that goes on (extend)
                                    ext[e, EXT_OK] = 1
                                    ext[e, EXT_HVER] = hver[e]
                                    fsum = 0
                                    for c in range(n_eff):
                                        if ext[e, EXT_PREV + n_groups + c] == 1:
                                            fsum += np.int64(slot[c, BRK_ROW, e])
                                    ext[e, EXT_FSUM] = fsum
                                    for g in range(n_groups):
                                        ext[e, EXT_PREV + g] = cand_prev[g]
                            else:
                                scan_ver[e] = freed
                                scan_wake[e] = wake
                            break

                        # Engage.
                        if go is not None:
                            ext[e, EXT_OK] = 0
                        steps += 1
                        if steps > cap:
                            if overrun[i] == 0:
                                overrun[i] = s + 1
                            break  # and the event loop stops at its next step
                        g = grp[target] & NONNEG
                        r0 = threat_f[g, TF_RANGE_KM]
                        v = threat_f[g, TF_SPEED_MPS]
                        state[target] = ENGAGED
                        ch_thr[e, k_free] = target
                        eng = eng_cnt[e, target]
                        eng_cnt[e, target] = eng + 1
                        version += 1
                        # cost_aware, a laser of one unit: its plan, if made for its
                        # version before this engagement, may be kept (_kept_plan; only
                        # in cost_aware's own engine, go, whose code the others lack)
                        keep_plan = False
                        if go is not None:
                            keep_plan = (
                                policy == POLICY_COST_AWARE
                                and kind == KIND_LASER
                                and n_ch == 1
                                and slot.shape[1] > SEQ_ROW
                                and plan_ver[e] == pver[e]
                                and slot[e, KEEP_ROW, K_OK] == 1.0
                            )
                        if policy == POLICY_COST_AWARE:
                            _touch(pver, can, e, g)
                        if kind == KIND_LASER:
                            if memo.shape[1] > 0 and memo[e, target, 0] == t:
                                # a plan or hold computed this engagement (the same start,
                                # the same operations: _done_by, _plan): its dwell
                                dwell = memo[e, target, 1]
                            else:
                                r_start = _range_km(r0, v, t_seen[target], t)
                                dwell = _laser_dwell(ltab, eff_f, threat_f, e, g, r_start, v)
                            t_lase = t + eff_f[e, EF_SETTLE_S]  # after the track/settle time
                            shots_row[e] += 1
                            if dwell <= mag[e, k_free]:
                                mag[e, k_free] -= dwell
                                kills_row[e] += 1
                                ch_kill[e, k_free] = 1
                                ch_rel[e, k_free] = t_lase + dwell
                                ch_free[e, k_free] = t_lase + dwell + eff_f[e, EF_RETARGET_S]
                                if keep_plan:
                                    h = _kept_plan(
                                        e, target, t, dwell, ch_free[e, k_free], slot, memo, plan
                                    )
                                    if h == h:  # the plan less target, made for this version
                                        plan_h[e] = min(h, slot[e, KEEP_ROW, K_H_DET])
                                        plan_ver[e] = pver[e]
                                        plan_t[e] = t
                            else:  # the unit runs out of lasing time and gives the threat up
                                ch_kill[e, k_free] = 0
                                ch_rel[e, k_free] = t_lase + mag[e, k_free]
                                ch_free[e, k_free] = ch_rel[e, k_free]
                                mag[e, k_free] = 0.0
                        else:
                            interval = eff_f[e, EF_INTERVAL_S]
                            p_kill = pk[e, g]
                            by_range = pk_tab.shape[2] > 0 and not math.isnan(pk_tab[e, g, 0, 0])
                            reliability = eff_f[e, EF_RELIABILITY]
                            # A common-mode failure fails every round of the engagement; its
                            # draw (like a reliability draw) is made only when it can matter.
                            common = eff_f[e, EF_COMMON_MODE]
                            all_fail = False
                            if common > 0.0:
                                ctr = event_counter(COMMON_MODE, e, eng, 0, g, ident[target])
                                all_fail = uniform(key, ctr) < common
                                if rec is not None:
                                    trace_draw(tev, ctr, common, all_fail)
                            killed = False
                            last_meet = t
                            last_launch = t
                            for rd in range(eff_i[e, EI_SALVO]):
                                if rounds_left[e] <= 0:
                                    break
                                t_launch = t + rd * interval
                                r_now = _range_km(r0, v, t_seen[target], t_launch)
                                if rd > 0 and r_now < r_last[e, g] - EPS_KM:
                                    break  # too close for another round of this salvo
                                rounds_left[e] -= 1
                                shots_row[e] += 1
                                last_launch = t_launch
                                if eff_f[e, EF_DRAG_K] > 0.0:
                                    # The Newton solve, or the same range's flight
                                    # again (FLIGHT_SLOTS): a pure function of it.
                                    j = np.int64(min(r_now, 4096.0) * 2.0**50)  # its bits
                                    j = (j ^ (j >> 20) ^ (j >> 40)) & (flights.shape[3] - 1)
                                    if flights[ws, e, g, j, 0] == r_now:
                                        flight = flights[ws, e, g, j, 1]
                                    else:
                                        flight = _flight_s(eff_f, e, r_now, v)
                                        flights[ws, e, g, j, 0] = r_now
                                        flights[ws, e, g, j, 1] = flight
                                else:
                                    flight = _flight_s(eff_f, e, r_now, v)
                                last_meet = t_launch + flight
                                if not killed and not all_fail:
                                    works = True
                                    if reliability < 1.0:
                                        ctr = event_counter(
                                            RELIABILITY, e, eng, rd, g, ident[target]
                                        )
                                        works = uniform(key, ctr) < reliability
                                        if rec is not None:
                                            trace_draw(
                                                tev, ctr, reliability, works
                                            )  # fmt: skip
                                    if works:
                                        if by_range:  # pk at this round's meeting range
                                            p_kill = _pk_at(
                                                pk_tab, e, g, _meet_km(eff_f, e, r_now, v, flight)
                                            )
                                        ctr = event_counter(KILL, e, eng, rd, g, ident[target])
                                        p_round = _round_pk(eff_f, e, p_kill, flight)
                                        killed = uniform(key, ctr) < p_round
                                        if rec is not None:
                                            trace_draw(
                                                tev, ctr, p_round, killed
                                            )  # fmt: skip
                            if killed:
                                kills_row[e] += 1
                            ch_kill[e, k_free] = 1 if killed else 0
                            ch_rel[e, k_free] = last_meet + eff_f[e, EF_ASSESS_S]
                            ch_free[e, k_free] = ch_rel[e, k_free]
                            next_launch[e] = last_launch + interval
                        # (its ready time is no earlier: e's channels are looked at then)
                        ev[e] = min(ev[e], ch_rel[e, k_free])

                if rec is not None and tev[0, H_DRAWN] != 0.0:
                    if not _trace_known(tev, tcur, gnode, steps, shots_row, kills_row):
                        _trace_state(
                            tev, tvecs, twords, tgone, tcur, gnode, gkey, gtable, gwords, s,
                            ws, t, n_threats, eff_i, rounds_left, active, avail_row,
                            next_launch, ch_thr, ch_rel, ch_kill, ch_free, mag, state, t_imp,
                            grp, eng_cnt, steps, shots_row, kills_row,
                        )  # fmt: skip

                # Next event: a release, a laser unit ready again, (cost_aware) a detection.
                # ev[e] > t is exactly the earliest of e's channel times after t: it holds
                # every busy channel's release, and every ready time after the last look at
                # e's channels or set since; a stale entry (a channel released or engaged
                # again since) lies at or before t. Otherwise look at the channels.
                for e in range(n_eff):
                    if ev[e] > t:
                        t_next = min(t_next, ev[e])
                        continue
                    for k in range(eff_i[e, EI_CHANNELS]):
                        if ch_thr[e, k] >= 0 and ch_rel[e, k] > t:
                            t_next = min(t_next, ch_rel[e, k])
                        if ch_free[e, k] > t:
                            t_next = min(t_next, ch_free[e, k])
                if policy != POLICY_LAYERED:
                    # Holding fire depends on when decisions are taken, so under cost_aware and
                    # preferential every event of docs/model.md counts, also those at which the
                    # effector concerned cannot act: detections, launchers becoming ready,
                    # threats (not known dead) entering any effector's envelope.
                    for g in range(n_groups):
                        if det_ptr[g] < gstart[g + 1]:
                            t_next = min(t_next, t_seen[det_ptr[g]])
                    for e in range(n_eff):
                        if eff_i[e, EI_KIND] != KIND_LASER and next_launch[e] > t:
                            t_next = min(t_next, next_launch[e])
                        for g in range(n_groups):
                            if not can[e, g]:
                                continue
                            p = entry_ptr[e, g]
                            while p < gstart[g + 1] and (
                                state[p] == DEAD or _entered(reach, e, g, t_seen[p]) <= t
                            ):
                                p += 1
                            entry_ptr[e, g] = p
                            if p < gstart[g + 1]:
                                t_next = min(t_next, _entered(reach, e, g, t_seen[p]))
                if t_next == math.inf:
                    break
                t = t_next

            _end_salvo(
                i, s, gstart, state, eff_i, resupply, rounds_left, rounds_end, leaked_row,
                avail_row, shots_row, kills_row, steps, overrun, rec, tev, touts,
            )  # fmt: skip


@jit
def _go_scratch(n_eff, n_groups):
    """``_run_trials``'s ``go`` under cost_aware: per effector, the count of releases alive
    of threats it may engage this salvo (hver) and its last walk (``ext``: EXT_*). Under
    the other policies the engine is given None instead, which Numba prunes (as ``rec``):
    the walks that go on are not in their engine at all."""
    return (
        np.empty(n_eff, np.int64),
        np.empty((n_eff, EXT_PREV + n_groups + n_eff), np.int64),
    )


@jit
def _scratch(policy, counts, n_groups, eff_f, eff_i):
    """The engine's per-task working arrays (``_run_trials``'s ``scratch``), sized for the
    largest salvo of ``counts`` [salvo, group] and the effectors of ``eff_f`` (per weather
    state) and ``eff_i``."""
    n_salvos = counts.shape[0]
    n_eff = eff_i.shape[0]
    n_threats = 0
    max_count = 1
    for s in range(n_salvos):
        total = 0
        for g in range(n_groups):
            total += counts[s, g]
            max_count = max(max_count, counts[s, g])
        n_threats = max(n_threats, total)
    max_ch = 1
    drag = False
    for e in range(n_eff):
        max_ch = max(max_ch, eff_i[e, EI_CHANNELS])
        for ws in range(eff_f.shape[0]):
            drag = drag or eff_f[ws, e, EF_DRAG_K] > 0.0
    # Read only for an effector with drag; at most FLIGHT_BYTES a task (fewer slots).
    n_flights = FLIGHT_SLOTS if drag else 0
    while n_flights > 1 and eff_f.shape[0] * n_eff * n_groups * n_flights * 16 > FLIGHT_BYTES:
        n_flights //= 2
    # cost_aware with a railgun with drag: flight time tables (_plan), at most FLIGHT_BYTES
    # (fewer cells; none below 16: the plans are then exact, with their Newton solves).
    t_eff = n_eff if drag and policy == POLICY_COST_AWARE else 0
    cells = FLIGHT_TABLE_CELLS
    while cells > 16 and eff_f.shape[0] * t_eff * n_groups * (cells + 1) * 24 > FLIGHT_BYTES:
        cells //= 2
    if eff_f.shape[0] * t_eff * n_groups * (cells + 1) * 24 > FLIGHT_BYTES:
        t_eff = 0
    return (  # noqa: RUF005 (Numba cannot unpack a tuple into a tuple literal)
        np.empty(n_groups + 1, np.int64),  # gstart
        np.empty(n_threats),  # t_seen
        np.empty(n_threats),  # t_imp
        np.empty(n_threats, np.int64),  # ident
        np.empty(n_threats, np.int64),  # grp
        np.empty(n_threats, np.int8),  # state
        np.empty((n_eff, n_threats), np.int32),  # eng_cnt
        np.empty((n_eff, n_threats), np.int64),  # nxt
        np.empty((n_eff, n_groups), np.int64),  # head
        np.empty((n_eff, max_ch)),  # ch_free
        np.empty((n_eff, max_ch)),  # ch_rel
        np.empty((n_eff, max_ch), np.int64),  # ch_thr
        np.empty((n_eff, max_ch), np.uint8),  # ch_kill
        np.empty((n_eff, max_ch)),  # mag
        np.empty(n_eff),  # next_launch
        np.empty(n_eff, np.int64),  # rounds_left
        np.empty(n_eff, np.uint8),  # active
    ) + (  # two tuples: Numba has no op for a literal of over 30
        np.empty(2 * max_count),  # sort_key, and _sort_uniform's scratch
        np.empty(2 * max_count + 1, np.int64),  # sort_idx, and _sort_uniform's scratch
        np.empty((n_eff, n_threats)),  # plan
        np.empty((n_eff, n_threats if policy != POLICY_LAYERED else 0, 2)),  # memo
        np.empty(n_eff),  # plan_t
        np.empty(n_eff, np.int64),  # plan_ver
        np.empty(n_eff),  # plan_h
        np.empty(n_eff, np.int64),  # pver
        np.empty(n_eff),  # ev
        np.empty(n_eff, np.int64),  # scan_ver
        np.empty(n_eff),  # scan_wake
        np.empty(n_eff),  # scan_next
        np.empty(n_groups, np.int64),  # cand
        np.empty(n_groups, np.int64),  # cand_prev
        # slot (_plan): per effector, each unit's planned free time (lower and upper
        # bound) and lasing time left, and what a resumed plan starts from; under
        # cost_aware also the last plan's times and the holds plans may have ended
        # (_breaks)
        np.zeros((n_eff, KEEP_ROW + 1, max(max_ch, n_groups, K_FIELDS)))
        if policy != POLICY_COST_AWARE
        else np.zeros((n_eff, SEQ_ROW + 1, max(max_ch, n_groups, K_FIELDS, n_threats, n_eff))),
        np.empty(n_groups, np.int64),  # ptr
        np.empty(n_groups, np.int64),  # det_ptr
        np.empty((n_eff, n_groups), np.int64),  # entry_ptr
        np.full((eff_f.shape[0], n_eff, n_groups, n_flights, 2), np.nan),  # flights
        np.empty((n_eff, n_groups, 2)),  # reach (this salvo's state's)
        np.empty((n_eff, n_groups + 1, n_eff + 1), np.int64),  # cheap (_cheaper)
        np.full((eff_f.shape[0], t_eff, n_groups if t_eff else 0, cells + 1, 3), np.nan),  # ftab
    )


def simulate_trials(
    trial0,
    seed,
    policy,
    threat_f,
    threat_i,
    counts,
    resupply,
    eff_f,
    eff_i,
    pk,
    cpk,
    r_first,
    r_last,
    can,
    ltab,
    reach,
    order,
    pk_tab,
    state_cum,
    state_denied,
    max_events,
    overrun,
    leaked,
    shots,
    kills,
    avail,
    rounds_end,
    mode,
    gr,
    tr,
    missed,
):
    """Play trials ``trial0 .. trial0 + len(leaked) - 1``, each a campaign of salvos.

    ``counts[s, g]`` is the number of threats of group g in salvo s (one row for a single
    salvo). Magazines carry over from salvo to salvo, topped up by ``resupply[e]`` rounds
    after each salvo but never above the initial magazine; lasers recharge fully. Salvo 0
    uses the trial's key, salvo s > 0 the key ``salvo_key(trial key, s)``.

    Per trial i and salvo s: leaked[i, s, g] threats of group g not killed; shots[i, s, e]
    and kills[i, s, e] rounds fired (laser: threats lased) and kills of effector e;
    avail[i, s, e] 1 when e could fire (lasers: weather allowed lasing); rounds_end[i, s, e]
    rounds left after salvo s, before resupply.

    ``mode``, ``gr`` and ``missed`` are not used here: the signature is that of
    :func:`replay_trials` and :func:`record_trials`, which play trials through the graph
    of recurring states (kernels/memo.py).

    A Python function: it splits the trials into tasks (:func:`task_bounds`) and plays
    them with :func:`engine_task` on ``numba.get_num_threads()`` threads (the kernel
    releases the GIL). Numba's ``prange`` would do the same, but it compiles the engine
    twice more (into its parallel loop and into the function around it), 8 of the 35 s
    that the first run of the default scenario spent compiling.
    """
    inputs = (
        counts, resupply, policy, threat_f, threat_i, eff_f, eff_i, pk, cpk, r_first, r_last,
        can, ltab, reach, order, pk_tab, state_cum, state_denied, max_events,
    )  # fmt: skip
    outputs = (overrun, leaked, shots, kills, avail, rounds_end)
    # cost_aware's engine has the walks that go on (_go_scratch); the others' does not
    go = True if policy == POLICY_COST_AWARE else None
    _play_tasks(
        leaked.shape[0],
        lambda first, last: engine_task(first, last, trial0, seed, inputs, outputs, tr, go),
    )


def _play_tasks(n_trials, task):
    """``task(first, last)`` for every task of :func:`task_bounds`, on
    ``numba.get_num_threads()`` threads (the kernels release the GIL)."""
    threads = numba.get_num_threads()
    tasks = task_bounds(n_trials, threads)
    if threads == 1 or len(tasks) <= 1:
        for first, last in tasks:
            task(first, last)
        return
    pool = _pool(threads)
    futures = []
    try:
        for first, last in tasks:
            futures.append(pool.submit(task, first, last))
        for future in futures:
            future.result()
    except BaseException:
        for future in futures:
            future.cancel()
        wait(futures)  # the tasks under way write into the caller's arrays: let them end
        raise


_LOCAL = threading.local()  # .pool: the calling thread's pool; .threads: its size


def _pool(threads):
    """The calling thread's pool of ``threads`` threads for :func:`_play_tasks`, kept
    between its calls. A pool made per call started its threads at every call: 100 calls
    of 4,096 mixed_raid trials on two threads ran at 87,000 - 88,000 trials/s with a pool
    per call and 91,000 - 93,000 with a kept one (docs/performance.md).

    One pool per calling thread, as a pool per call was: callers on several threads (a
    thread pool of the user's, a Dask worker with several threads) each get their own
    threads, and a task that itself played tasks would not wait on its own pool. A call
    with another size replaces the thread's pool, so at most one is kept per calling
    thread; it goes when that thread ends. A forked process has none of its parent's pool
    threads: it forgets the pools (``_forget_pools``) and makes its own."""
    if getattr(_LOCAL, "threads", 0) != threads:
        old = getattr(_LOCAL, "pool", None)
        if old is not None:
            old.shutdown(wait=False)  # idle: this thread's calls have all returned
        _LOCAL.pool = ThreadPoolExecutor(threads, thread_name_prefix="costx-kernel")
        _LOCAL.threads = threads
    return _LOCAL.pool


def _forget_pools():
    """In a forked child: the pools' threads stayed in the parent (a pool without them
    would take tasks and never run them)."""
    global _LOCAL
    _LOCAL = threading.local()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pools)


def task_bounds(n_trials, threads):
    """[(first, last), ...]: trials 0 .. n_trials - 1 cut into tasks of equal size (the
    last may be shorter), at most TASKS_PER_THREAD per thread (threads that finish early
    take the remaining tasks) and at most one per TRIALS_PER_TASK trials (the working
    arrays are allocated once per task). Results do not depend on the cut."""
    if n_trials <= 0:
        return []
    n_tasks = min(-(-n_trials // TRIALS_PER_TASK), TASKS_PER_THREAD * threads)
    size = -(-n_trials // n_tasks)
    return [(first, min(n_trials, first + size)) for first in range(0, n_trials, size)]


@jit
def engine_task(first, last, trial0, seed, inputs, outputs, tr, go):
    """Play trials first .. last - 1 of a :func:`simulate_trials` call: one task, on its
    own working arrays. The engine (``_run_trials``) is compiled here with ``rec`` None,
    so none of the recording is in it; with ``go`` None (all but cost_aware), none of the
    walks that go on (``_go_scratch``): Numba compiles a second engine for cost_aware
    (True), so that their code does not slow the others' (3 % under layered and 17 %
    under preferential, one thread, when it shared their engine).
    """
    counts, policy, threat_i, eff_i = inputs[0], inputs[2], inputs[4], inputs[6]
    scratch = _scratch(policy, counts, threat_i.shape[0], inputs[5], eff_i)
    if go is None:
        _run_trials(first, last, trial0, seed, inputs, scratch, outputs, None, tr, None)
    else:
        go_on = _go_scratch(eff_i.shape[0], threat_i.shape[0])
        _run_trials(first, last, trial0, seed, inputs, scratch, outputs, None, tr, go_on)


def replay_trials(
    trial0,
    seed,
    policy,
    threat_f,
    threat_i,
    counts,
    resupply,
    eff_f,
    eff_i,
    pk,
    cpk,
    r_first,
    r_last,
    can,
    ltab,
    reach,
    order,
    pk_tab,
    state_cum,
    state_denied,
    max_events,
    overrun,
    leaked,
    shots,
    kills,
    avail,
    rounds_end,
    mode,
    gr,
    tr,
    missed,
):
    """Replay each trial through the graph ``gr`` of recurring states (kernels/memo.py)
    on all threads (nobody writes the graph here) and mark those that leave it
    (``missed[i]`` = 1: outputs incomplete) for :func:`record_trials` (mode 3)."""
    _play_tasks(
        leaked.shape[0],
        lambda first, last: walk_trials(
            gr, first, last, trial0, seed, max_events, overrun, leaked, shots, kills, avail,
            rounds_end, missed,
        ),
    )  # fmt: skip


@jit
def record_trials(
    trial0,
    seed,
    policy,
    threat_f,
    threat_i,
    counts,
    resupply,
    eff_f,
    eff_i,
    pk,
    cpk,
    r_first,
    r_last,
    can,
    ltab,
    reach,
    order,
    pk_tab,
    state_cum,
    state_denied,
    max_events,
    overrun,
    leaked,
    shots,
    kills,
    avail,
    rounds_end,
    mode,
    gr,
    tr,
    missed,
):
    """Like :func:`simulate_trials`, on one thread, through the graph ``gr`` of recurring
    states (kernels/memo.py), which it extends: each trial (mode 1; mode 3: each marked
    ``missed[i]``), in order, replays through the graph or, where it leaves it, the engine
    plays it, tracing it into ``tr`` (:func:`costx.kernels.memo.new_trace`), and the trace
    is recorded; ``missed[i]`` = 2 marks the trials the engine played. Then the replay's
    shortcuts past the state points are brought up to date (``memo.shortcuts``).

    A walk of one trial is a chain of dependent reads, so the walks go ahead in batches
    on several lanes (``memo.walk_lanes``): a trial that replays is done whatever is
    recorded after its walk (edges never change once made); the first of a batch that
    leaves the graph is recorded, and those after it that left are walked again after
    that, as one walk at a time would have walked them. The graph, the marks and the
    outputs are those of one walk at a time (``batch`` 1). A batch doubles after one
    that replayed whole, up to ``batch``, and after a trial that left is as long as the
    run that replayed before it.
    """
    n_trials = leaked.shape[0]
    inputs = (
        counts, resupply, policy, threat_f, threat_i, eff_f, eff_i, pk, cpk, r_first, r_last,
        can, ltab, reach, order, pk_tab, state_cum, state_denied, max_events,
    )  # fmt: skip
    outputs = (overrun, leaked, shots, kills, avail, rounds_end)
    scratch = _scratch(policy, counts, threat_i.shape[0], inputs[5], eff_i)
    lanes = np.empty((LANE_ROWS, LANES), np.int64)
    todo = np.empty(n_trials, np.int64)  # the trials still to replay or record, in order
    was = np.empty(n_trials, missed.dtype)  # and their marks
    n_todo = 0
    for i in range(n_trials):
        if mode == 3 and missed[i] == 0:
            continue
        todo[n_todo] = i
        was[n_todo] = missed[i]
        n_todo += 1
    most = max(1, gr.meta[M_BATCH])
    again = np.empty(most, np.int64)  # of a batch, the trials after the first that left
    again_was = np.empty(most, missed.dtype)
    size = 1
    k = 0
    while k < n_todo:
        last = min(n_todo, k + size)
        for j in range(k, last):
            missed[todo[j]] = 0
        walk_lanes(gr, lanes, k, last, trial0, seed, max_events, overrun, leaked, shots, kills,
                   avail, rounds_end, missed, todo)  # fmt: skip
        i = -1  # the first that left the graph
        n_again = 0
        for j in range(k, last):
            left = missed[todo[j]] != 0
            missed[todo[j]] = was[j]
            if left and i < 0:
                i = todo[j]
                size = max(1, j - k)  # as long as the run that replayed before it
            elif left:
                again[n_again] = todo[j]
                again_was[n_again] = was[j]
                n_again += 1
        if i < 0:
            k = last
            size = min(most, 2 * size)
            continue
        # walked again next, after i is recorded: the last n_again places of this batch
        k = last - n_again
        for j in range(n_again):
            todo[k + j] = again[j]
            was[k + j] = again_was[j]
        missed[i] = 2
        # The engine leaves the state points the graph has unwritten (_cursor; M_CHECK:
        # none).
        tr.cursor[C_SKIP] = 1 if gr.meta[M_CHECK] == 0 else 0
        _run_trials(i, i + 1, trial0, seed, inputs, scratch, outputs, True, tr, None)
        if tr.ev[0, H_RANDOM] != 0.0:
            gr.meta[M_ERROR] = 2
        rec_trace(gr, tr)
    shortcuts(gr)  # for the next replay: past the state points recorded
