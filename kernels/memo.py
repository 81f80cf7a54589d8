"""Exact memoization of trials: a graph of the engagement states that recur.

When every arrival time is fixed (``stream`` or ``simultaneous`` arrivals), a trial is a
deterministic function of the outcomes of its random draws (weather, reliability,
common-mode failure, kill): each draw compares one keyed uniform with a threshold, and
what the engine does between draws follows from its state. Many trials pass through the
same states (the same threats dead, the same rounds left, the same engagements under way
at the same time), so the engine's work from such a state on can be recorded once and
replayed by later trials with their own draws.

The graph has four kinds of node:

* ``ROOT`` (node 0): the start of every trial; its one edge leads to the first node.
* ``DRAW``: a draw the engine made, keyed by its event counter, and its threshold; the
  edge taken is ``uniform(key, counter) < threshold`` (1) or not (0).
* ``STATE``: a point at which the engine's state is written down in a canonical form
  (engagement._run_trials, "a state point"; docs/model.md, "Recurring states") and
  looked up, so that two trials that reach the same state share everything after it.
  Its one edge leads on.
* ``TERM``: the end of a salvo, with the salvo's outputs that follow from the state
  (leakers per group, rounds left, availability); its edge leads to the next salvo.

Every edge into a state or a salvo's end carries what the engine added since the last
one: event steps, rounds fired and kills per effector, and leakers per group (the
engine notes its counts at those points only, so edges out of draws carry nothing). A
trial replays (:func:`walk_trials`) by following edges with its own draws and summing
them; when it reaches an edge nobody has taken yet, the engine plays the trial from the
start instead, and its trace is recorded (:func:`rec_trace`), checking every edge it
meets that exists already (a mismatch, which would mean the canonical state missed
something the engine depends on, sets ``ERROR``). Most of a recorded trial lies on edges
that exist: up to where it left the graph, and again from wherever it reaches a state the
graph holds. The engine follows those edges as it plays (engagement._cursor) and notes a
state point that the graph already has without writing its canonical form (row -1), and
recording checks its draws (counter, threshold, outcome), the edges' rounds fired and
kills, and the salvo's leakers at its end, not the states themselves (``M_CHECK``:
every state too). The event
steps summed on replay are those of the trial that recorded each edge, which caches can
make differ by steps at which nothing happens: they serve the event bound's guard only.
A replayed trial therefore equals, bit for bit, what the engine computes for it: the same
draws, the same thresholds, the same outputs; the graph changes only the speed.

The engine traces a trial it records into one array (``Trace``: draws, state points and
salvo ends with its counts), which :func:`rec_trace` then adds to the graph. Nothing
here allocates but a few numbers per replay lane: the caller (costx.simulation)
allocates the graph once per lowered
scenario with room for a fixed number of nodes and states, and recording stops when it
is full (``FULL``); replaying goes on, and trials that leave the graph are played by the
engine.
"""

from collections import namedtuple

import numpy as np

from costx.kernels._jit import NONNEG, jit, prefetch_row
from costx.kernels.rng import (
    draw_mixed,
    int_threshold,
    mix64,
    salvo_key,
    trial_key,
    uniform,
)

# Node kinds.
ROOT = 0
DRAW = 1
STATE = 2
TERM = 3

# Columns of Graph.node (int64).
N_KIND = 0
N_CHILD = 1  # N_CHILD + b: the edge taken on outcome b (0, the root: nobody has yet)
N_ROW = 3  # STATE: its row of Graph.states; TERM: its row of Graph.outs
N_COLUMNS = 4

# Entries of Graph.meta (int64): counts, flags and the recording cursor.
M_NODES = 0
M_STATES = 1
M_OUTS = 2
M_FULL = 3  # 1: recording stopped, the graph is full
M_ERROR = 4  # 1: an edge disagreed with the engine; 2: a random arrival draw while recording
M_CUR = 5  # recording: the node whose edge M_BRANCH the engine is on
M_BRANCH = 6
M_SEEN = 7  # state points recorded
M_MERGED = 8  # of which the graph held already (the states recur)
M_CHECK = 9  # 1: recording writes and checks every state point (0: not those the graph has)
M_SKIPPED = 10  # state points recorded that the graph had, without their canonical form
M_FOLLOWED = 11  # state points recorded whose edge the graph had (written down or not)
M_BATCH = 12  # the most trials recording walks ahead at once (engagement.record_trials)
M_SNAP = 13  # at the cursor: steps, rounds fired and kills per effector, gone leakers per group
META_FIXED = 13
RECORD_BATCH = 64  # M_BATCH of a new graph (1: one walk at a time, as before; the same graph)

Graph = namedtuple(
    "Graph",
    [
        "node",  # int64 (nodes, N_COLUMNS)
        "key",  # uint64 (nodes,): DRAW: the event counter; STATE: the state's hash
        "threshold",  # float64 (nodes,): DRAW: the threshold of its draw
        "delta",  # int64 (nodes, 2, width): steps, shots[e], kills[e], gone leakers[g] per edge
        "states",  # float64 (states, length): canonical states of the STATE nodes
        "outs",  # int64 (nodes, groups + 2 effectors): leakers[g] after the last state
        # point, rounds_end[e], avail[e]
        "table",  # int64 (power of two >= 2 states): hash table of STATE nodes (0: empty)
        "meta",  # int64 (META_FIXED + width,)
        "scratch",  # int64 (1, groups): the leakers counted at the cursor (rec_trace)
        "rep",  # int64 (nodes, R_WIDTH), 64-byte aligned: a DRAW node as replay reads it
        "repd",  # int64 (nodes, 2 width): its counts one by one (replay, when not PACKED)
        "pack",  # int64 (P_FIELDS + 2 (width - 1),): P_ON, P_GUARD, shifts, masks (PACKED)
    ],
)

# Columns of Graph.rep, one row per DRAW node, all that replay reads of it in one cache
# line (``shortcuts``): mix64 of the key (its draw is then ``draw_mixed``, half the
# hashing), the threshold as an integer (``int_threshold``: the outcome is an integer
# compare, no conversion to float), and per outcome the node after the state
# points that follow, the event steps of the edges up to it and what else they add, as
# one packed word (PACKED). Graph.repd holds those counts one by one (steps first) at
# b * width + j. A row not made yet (a node newer than the last ``shortcuts``, or not a
# draw) is all zeros: its threshold 0 gives outcome 0 and its child 0 sends the walk to
# the graph's own arrays.
R_KEY = 0
R_THR = 1
R_CHILD = 2  # R_CHILD + b
R_STEPS = 4  # R_STEPS + b
R_PACK = 6  # R_PACK + b
R_WIDTH = 8  # 64 bytes

# PACKED: the counts an edge adds other than steps (rounds fired and kills per effector,
# leakers per group) are small non-negative integers, and their sums within a salvo are
# bounded (``pack_bounds``). When the bounds' bits, and a guard bit above each, fit in
# 63, a replay row also holds the counts side by side in one word, each at its shift,
# and replay adds that one word per node instead of each count to the output arrays;
# no field carries into the next, so the fields of the sum are the sums of the fields,
# written out at the salvo's end (``_unpack``). The guard bits are looked at after every
# addition: a field at most its mask plus a count at most its mask cannot pass its guard
# bit, so a set guard bit is exactly a sum beyond its field (a bound that did not hold),
# and the trial goes to the engine: a wrong bound costs speed, never a result. A row
# whose own counts do not fit turns packing off.
#
# The step count rides in the same word where it fits, in one more field at the top: a
# salvo's sum starts it at its mask less the salvo's bound of steps (``max_events[s]``,
# at most the mask), so that its guard bit is set exactly when the steps pass that bound,
# the check replay makes with a count of its own otherwise; one test of the guard bits
# then checks the steps and the counts at once. Graph.pack: P_ON (1: rows are packed),
# P_GUARD (the guard bits), P_SSHIFT and P_SMASK (the steps' shift and mask; mask 0: the
# steps are not in the word), then per count j (delta column j + 1) its shift at
# P_FIELDS + j and its mask at P_FIELDS + (width - 1) + j.
P_ON = 0
P_GUARD = 1
P_SSHIFT = 2
P_SMASK = 3
P_FIELDS = 4


def pack_bounds(counts, laser, rounds, max_engagements, units, salvo) -> np.ndarray:
    """The most each count other than steps can add up to in one salvo (PACKED), in the
    order of the delta columns 1 ..: rounds fired per effector, kills per effector (at
    most one per threat), leakers per group (at most its threats). ``counts`` [salvo,
    group]; per effector, whether it is a laser, its rounds, its engagements per threat,
    its channels or units and its rounds per engagement.

    Rounds fired: a kinetic effector's magazine (resupply never fills it beyond), and at
    most ``max_engagements`` engagements of ``salvo`` rounds per threat. A laser's shots
    (threats lased): each lased threat dies unless the unit runs out of lasing time and
    gives it up, which puts the unit out of action for the salvo, so at most the threats
    plus one per unit (costx.aggregate's bounds make the same argument)."""
    counts = np.asarray(counts)
    threats = int(counts.sum(axis=1).max(initial=0))
    per_group = [int(c) for c in counts.max(axis=0, initial=0)] if counts.size else []
    shots = []
    for is_laser, r, m, k, x in zip(laser, rounds, max_engagements, units, salvo, strict=True):
        per_threat = threats * int(m) * (1 if is_laser else int(x))
        shots.append(min(per_threat, threats + int(k) if is_laser else int(r)))
    return np.array(shots + [threats] * len(shots) + per_group, np.int64)


def new_graph(
    n_groups: int,
    n_eff: int,
    length: int,
    max_states: int,
    max_nodes: int,
    bounds=None,
    steps: int = 0,
) -> Graph:
    """An empty graph for a scenario with ``n_groups`` threat groups, ``n_eff`` effectors
    and canonical states of ``length`` numbers, with room for the given counts; replay
    rows are packed (PACKED) when ``bounds`` (``pack_bounds``) and ``steps`` (the most
    event steps of a salvo, ``max_events.max()``) fit in 63 bits."""
    width = 1 + 2 * n_eff + n_groups
    fields = width - 1
    pack = np.zeros(P_FIELDS + 2 * fields, np.int64)
    if bounds is not None:
        bits = [max(1, int(b).bit_length()) for b in bounds]
        step_bits = max(1, int(steps).bit_length())
        if len(bits) == fields and sum(bits) + fields <= 63:  # and a guard bit each
            pack[P_ON] = 1
            shift = 0
            for j, nb in enumerate(bits):
                pack[P_FIELDS + j] = shift
                pack[P_FIELDS + fields + j] = (1 << nb) - 1
                pack[P_GUARD] |= 1 << (shift + nb)
                shift += nb + 1
            if shift + step_bits + 1 <= 63:  # the steps too (else replay counts them apart)
                pack[P_SSHIFT] = shift
                pack[P_SMASK] = (1 << step_bits) - 1
                pack[P_GUARD] |= 1 << (shift + step_bits)
    slots = 1
    while slots < 2 * max_states:
        slots *= 2
    # All zeros (pages the kernel never touches cost nothing): no edge leads to the root,
    # so 0 marks an edge nobody has taken and an empty slot of the table.
    g = Graph(
        node=np.zeros((max_nodes, N_COLUMNS), np.int64),
        key=np.zeros(max_nodes, np.uint64),
        threshold=np.zeros(max_nodes),
        delta=np.zeros((max_nodes, 2, width), np.int64),
        states=np.zeros((max_states, length)),
        outs=np.zeros((max_nodes, n_groups + 2 * n_eff), np.int64),
        table=np.zeros(slots, np.int64),
        meta=np.zeros(META_FIXED + width, np.int64),
        scratch=np.zeros((1, n_groups), np.int64),
        rep=_aligned_zeros(max_nodes, R_WIDTH),
        repd=np.zeros((max_nodes, 2 * width), np.int64),
        pack=pack,
    )
    g.meta[M_NODES] = 1  # node 0 is the root
    g.meta[M_BATCH] = RECORD_BATCH
    return g


def _aligned_zeros(rows: int, cols: int) -> np.ndarray:
    """Zeros (rows, cols) of int64 whose first element lies on a 64-byte boundary (a row
    of 8 is then one cache line)."""
    buf = np.zeros(rows * cols + 8, np.int64)
    skip = (-buf.ctypes.data % 64) // 8
    return buf[skip : skip + rows * cols].reshape(rows, cols)


def empty_graph(n_groups: int, n_eff: int) -> Graph:
    """A graph with no room (for calls that do not memoize: same Numba types)."""
    return new_graph(n_groups, n_eff, 1, 1, 1)


# Every function below unpacks the graph and the trace once: reading a field of a
# namedtuple in Numba takes (and later drops) a reference to the array, two atomic
# operations each time, which in a loop cost more than the work itself.


@jit(inline="always")
def _new_node(node, meta, kind):
    """A fresh node of ``kind`` (0, and FULL set, when there is no room)."""
    n = meta[M_NODES]
    if n >= node.shape[0]:
        meta[M_FULL] = 1
        return 0
    meta[M_NODES] = n + 1
    node[n, N_KIND] = kind
    node[n, N_CHILD] = 0
    node[n, N_CHILD + 1] = 0
    node[n, N_ROW] = 0
    return n


@jit(inline="always")
def _edge_agrees(delta, meta, c, b, cnt, k, gone, r):
    """Whether the edge (c, b), already taken, carries what the engine added since the
    cursor (the counts of trace event k, the leakers ``gone[r]``): rounds fired, kills and
    leakers (not steps: the shortcuts' caches, which may differ between two trials in the
    same state, can add event steps at which nothing happens)."""
    n_cnt = cnt.shape[1] - E_STEPS
    for j in range(1, n_cnt):
        if delta[c, b, j] != np.int64(cnt[k + 1, E_STEPS + j]) - meta[M_SNAP + j]:
            return False
    for g in range(gone.shape[1]):
        if delta[c, b, n_cnt + g] != gone[r, g] - meta[M_SNAP + n_cnt + g]:
            return False
    return True


@jit(inline="always")
def _link(node, delta, meta, n, cnt, k, gone, r):
    """Make node ``n`` the end of the cursor's edge, with what the engine added since."""
    c = meta[M_CUR]
    b = meta[M_BRANCH]
    node[c, N_CHILD + b] = n
    n_cnt = cnt.shape[1] - E_STEPS
    for j in range(n_cnt):
        delta[c, b, j] = np.int64(cnt[k + 1, E_STEPS + j]) - meta[M_SNAP + j]
    for g in range(gone.shape[1]):
        delta[c, b, n_cnt + g] = gone[r, g] - meta[M_SNAP + n_cnt + g]


@jit(inline="always")
def _move(meta, n, b, cnt, k, gone, r):
    """Put the cursor on edge ``b`` of node ``n``, noting the engine's counts then."""
    meta[M_CUR] = n
    meta[M_BRANCH] = b
    n_cnt = cnt.shape[1] - E_STEPS
    for j in range(n_cnt):
        meta[M_SNAP + j] = np.int64(cnt[k + 1, E_STEPS + j])
    for g in range(gone.shape[1]):
        meta[M_SNAP + n_cnt + g] = gone[r, g]


@jit(borrow=True)
def _hash(words, r):
    """A hash of row r of the states' 64-bit words: a sum of products with distinct odd
    constants (independent multiplications, cheap), mixed at the end. Equal hashes are
    compared word by word: the hash only spreads the table."""
    h = np.uint64(0)
    c = np.uint64(0x9E3779B97F4A7C15)
    step = np.uint64(2) * c
    for j in range(words.shape[1]):
        h += words[r, j] * c
        c += step
    return mix64(h)


@jit(inline="always")
def _same(x, a, y, b):
    """Whether row a of x and row b of y are equal word for word (bit patterns: -inf
    equals -inf, and no NaN is special). Without an early exit: rows compared are nearly
    always equal (a recorded trial checks every state it meets), and the loop without
    branches is vectorized."""
    diff = np.uint64(0)
    for j in range(x.shape[1]):
        diff |= x[a, j] ^ y[b, j]
    return diff == 0


@jit(inline="always")
def find_state(node, key, table, words, twords, r, h):
    """(the STATE node whose canonical state equals row r of ``twords``, its slot in the
    hash table), or (0, the empty slot where it would go); h: the row's ``_hash``."""
    mask = table.shape[0] - 1
    slot = np.int64(h & np.uint64(mask))
    while table[slot] > 0:
        x = table[slot]
        if key[x] == h and _same(words, node[x, N_ROW], twords, r):
            return x, slot
        slot = (slot + 1) & mask
    return np.int64(0), slot


@jit(borrow=True)
def state_hash(twords, r):
    """The hash of row r of canonical states (``_hash``), for ``find_state``."""
    return _hash(twords, r)


@jit(borrow=True)
def rec_trace(gr, tr):
    """Record the trial the engine just played (its trace ``tr``) into the graph ``gr``:
    follow its events from the root, checking the edges that exist and making the
    rest. A disagreement sets ERROR; no room sets FULL; either stops recording."""
    node, key, threshold, delta, states, outs, table, meta, scratch, _, _, _ = gr
    ev, tvecs, tgone, touts, _, _, _, _, _ = tr
    if meta[M_FULL] or meta[M_ERROR] or ev[0, H_EVENTS] < 0:
        return
    words = states.view(np.uint64)
    twords = tvecs.view(np.uint64)
    n_groups = tgone.shape[1]
    # scratch row 0: the leakers at the cursor (they change only at state points)
    meta[M_CUR] = 0
    meta[M_BRANCH] = 0
    for j in range(M_SNAP, meta.shape[0]):
        meta[j] = 0
    for g in range(n_groups):
        scratch[0, g] = 0
    n_events = np.int64(ev[0, H_EVENTS])
    cnt = ev  # the counts of event k are cnt[k + 1, E_STEPS:]
    for k in range(n_events):
        kind = np.int64(ev[k + 1, E_KIND])
        arg = np.int64(ev[k + 1, E_ARG])
        c = meta[M_CUR]
        b = meta[M_BRANCH]
        n = node[c, N_CHILD + b]
        if kind == DRAW:  # the counts are noted at state points only: no delta here
            counter = (np.uint64(ev[k + 1, E_HI]) << np.uint64(32)) | np.uint64(ev[k + 1, E_LO])
            thr = ev[k + 1, E_THR]
            if n > 0:
                if node[n, N_KIND] != DRAW or key[n] != counter or threshold[n] != thr:
                    meta[M_ERROR] = 1
                    return
            else:
                n = _new_node(node, meta, DRAW)
                if n == 0:
                    return
                key[n] = counter
                threshold[n] = thr
                node[c, N_CHILD + b] = n
            meta[M_CUR] = n
            meta[M_BRANCH] = arg
        elif kind == STATE:
            r = arg
            meta[M_SEEN] += 1
            if n > 0:
                meta[M_FOLLOWED] += 1
            if r < 0:  # a state the graph has (engagement._cursor): not written down
                if n <= 0 or node[n, N_KIND] != STATE:
                    meta[M_ERROR] = 1  # the engine's cursor went wrong
                    return
                meta[M_MERGED] += 1
                meta[M_SKIPPED] += 1
                # The leakers gone by now: those at the cursor and the edge's. The edge's
                # other counts are checked against the engine's; its leakers add up to the
                # salvo's, checked at its end when that is known (TERM) and otherwise
                # carried into the new edges' counts, which replay adds to them.
                n_cnt = cnt.shape[1] - E_STEPS
                for g in range(n_groups):
                    scratch[0, g] = meta[M_SNAP + n_cnt + g] + delta[c, b, n_cnt + g]
                if not _edge_agrees(delta, meta, c, b, cnt, k, scratch, 0):
                    meta[M_ERROR] = 1
                    return
                _move(meta, n, 0, cnt, k, scratch, 0)
                continue
            if n > 0:
                meta[M_MERGED] += 1
                if (
                    node[n, N_KIND] != STATE
                    or not _same(words, node[n, N_ROW], twords, r)
                    or not _edge_agrees(delta, meta, c, b, cnt, k, tgone, r)
                ):
                    meta[M_ERROR] = 1
                    return
            else:
                h = _hash(twords, r)
                n, slot = find_state(node, key, table, words, twords, r, h)
                if n > 0:
                    meta[M_MERGED] += 1
                else:
                    row = meta[M_STATES]
                    if row >= states.shape[0]:
                        meta[M_FULL] = 1
                        return
                    n = _new_node(node, meta, STATE)
                    if n == 0:
                        return
                    meta[M_STATES] = row + 1
                    for j in range(words.shape[1]):
                        words[row, j] = twords[r, j]
                    node[n, N_ROW] = row
                    key[n] = h
                    table[slot] = n
                _link(node, delta, meta, n, cnt, k, tgone, r)
            _move(meta, n, 0, cnt, k, tgone, r)
            for g in range(n_groups):
                scratch[0, g] = tgone[r, g]
        else:  # TERM: the salvo's outputs; leakers beyond those counted at the cursor
            # (which merged trials may have counted differently: engagement._canon)
            s = arg
            n_out = touts.shape[1]
            if n > 0:
                ok = node[n, N_KIND] == TERM and _edge_agrees(delta, meta, c, b, cnt, k, scratch, 0)
                if ok:
                    o = node[n, N_ROW]
                    for g in range(n_groups):
                        ok = ok and outs[o, g] == touts[s, g] - scratch[0, g]
                    for j in range(n_groups, n_out):
                        ok = ok and outs[o, j] == touts[s, j]
                if not ok:
                    meta[M_ERROR] = 1
                    return
            else:
                o = meta[M_OUTS]
                n = _new_node(node, meta, TERM)
                if n == 0:
                    return
                meta[M_OUTS] = o + 1
                node[n, N_ROW] = o
                for g in range(n_groups):
                    outs[o, g] = touts[s, g] - scratch[0, g]
                for j in range(n_groups, n_out):
                    outs[o, j] = touts[s, j]
                _link(node, delta, meta, n, cnt, k, scratch, 0)
            # The next salvo counts steps, rounds fired, kills and leakers afresh.
            meta[M_CUR] = n
            meta[M_BRANCH] = 0
            for j in range(M_SNAP, meta.shape[0]):
                meta[j] = 0
            for g in range(n_groups):
                scratch[0, g] = 0


@jit(borrow=True)
def shortcuts(gr):
    """Make the replay's row (``rep``) of every DRAW node: its key and threshold and, per
    outcome, a shortcut past the state points that follow (to the first node after those
    whose own edge is known), with the sum of the edges' counts. A state point matters to
    recording (two trials meet there), not to replay, which only sums edges: a replayed
    trial makes the same draws and sums the same counts either way (step counts only
    grow, so checking them at the end of a shortcut leaves the graph wherever checking at
    each state point would). Edges never change once made, so a row stays right; it is
    made, or its shortcuts lengthened, at the next call, by the recording thread, while
    nobody replays. A row reads as one or two cache lines where the graph's own arrays
    are five."""
    node, key, threshold, delta, _, _, _, meta, _, rep, repd, pack = gr
    n_nodes = meta[M_NODES]
    width = delta.shape[2]
    fields = width - 1
    for n in range(1, n_nodes):
        if node[n, N_KIND] != DRAW:
            continue
        rep[n, R_KEY] = np.int64(mix64(key[n]))  # its draw: draw_mixed
        rep[n, R_THR] = int_threshold(threshold[n])
        for b in range(2):
            o = b * width
            for j in range(width):
                repd[n, o + j] = delta[n, b, j]
            m = node[n, N_CHILD + b]
            hops = 0
            while m > 0 and node[m, N_KIND] == STATE and node[m, N_CHILD] > 0 and hops < n_nodes:
                for j in range(width):
                    repd[n, o + j] += delta[m, 0, j]
                m = node[m, N_CHILD]
                hops += 1
            rep[n, R_CHILD + b] = m
            rep[n, R_STEPS + b] = repd[n, o]
            word = np.int64(0)
            x = repd[n, o]  # the steps, in their field at the top (if it has one)
            if pack[P_SMASK] > 0 and (x < 0 or x > pack[P_SMASK]):
                pack[P_ON] = 0
            word |= (x & pack[P_SMASK]) << pack[P_SSHIFT]
            for j in range(fields):
                x = repd[n, o + 1 + j]
                mask = pack[P_FIELDS + fields + j]
                if x < 0 or x > mask:
                    pack[P_ON] = 0  # a bound does not hold: replay adds the counts one by one
                word |= (x & mask) << pack[P_FIELDS + j]
            rep[n, R_PACK + b] = word


# The engine's trace of one trial (engagement._run_trials writes it when recording):
# one float64 array of events, row 0 a header. Counts and counters are exact in float64
# (a counter is kept as two 32-bit halves).
H_EVENTS = 0  # events so far (-1: the trial is not recorded: an overrun, or no room)
H_ROWS = 1  # canonical states so far
H_DRAWN = 2  # 1: a draw since the last state point
H_RANDOM = 3  # 1: an arrival time was drawn (never recorded: the caller prevents it)
E_KIND = 0  # DRAW, STATE or TERM
E_ARG = 1  # DRAW: the outcome; STATE: its row of Trace.vecs (-1: unwritten); TERM: the salvo
E_HI = 2  # DRAW: the event counter's high 32 bits
E_LO = 3  # and its low 32 bits
E_THR = 4  # DRAW: the threshold
E_STEPS = 5  # STATE, TERM: the engine's steps, then rounds fired and kills per effector
# Entries of Trace.cursor.
C_SKIP = 0  # 1: state points the graph has are not written (0: M_CHECK, every one is)
C_NODE = 1  # the graph's node at the last state point (-1: not known)
C_EDGE = 2  # its edge taken (0 after a state point)
C_SCAN = 3  # the first event not yet followed from there
C_FIELDS = 4

Trace = namedtuple(
    "Trace",
    [
        "ev",  # float64 (1 + events, E_STEPS + 1 + 2 effectors): header, then events
        "vecs",  # float64 (rows, length): the canonical states (engagement._canon)
        "gone",  # int64 (rows, groups): their leakers per group
        "outs",  # int64 (salvos, groups + 2 effectors): leaked, rounds_end, avail
        "cursor",  # int64 (C_FIELDS,): where the engine is in the graph (engagement._cursor)
        # The graph it is recorded into, as the engine reads it to find the state points
        # the graph knows (engagement._cursor): Graph.node, Graph.key, Graph.table, and
        # Graph.states as 64-bit words.
        "gnode",
        "gkey",
        "gtable",
        "gwords",
    ],
)


def new_trace(
    n_salvos: int, n_groups: int, n_eff: int, length: int, events: int, rows: int, graph=None
):
    """A trace with room for ``events`` events and ``rows`` canonical states of ``length``
    words (a trial that needs more is played but not recorded), for recording into
    ``graph`` (None: a trace that records nothing, the graph arrays a placeholder)."""
    if graph is None:
        graph = empty_graph(n_groups, n_eff)
    return Trace(
        np.zeros((1 + events, E_STEPS + 1 + 2 * n_eff)),
        np.zeros((rows, length)),
        np.zeros((rows, n_groups), np.int64),
        np.zeros((n_salvos, n_groups + 2 * n_eff), np.int64),
        np.zeros(C_FIELDS, np.int64),
        graph.node,
        graph.key,
        graph.table,
        graph.states.view(np.uint64),
    )


@jit(inline="always")
def trace_draw(ev, counter, threshold, outcome):
    """Note a draw: ``uniform(key, counter) < threshold`` came out ``outcome``. (One array
    argument: each array an inlined function takes costs two atomic reference counts.)"""
    k = np.int64(ev[0, H_EVENTS])
    if 0 <= k < ev.shape[0] - 1:
        ev[k + 1, E_KIND] = DRAW
        ev[k + 1, E_ARG] = 1.0 if outcome else 0.0
        ev[k + 1, E_HI] = np.float64(counter >> np.uint64(32))
        ev[k + 1, E_LO] = np.float64(counter & np.uint64(0xFFFFFFFF))
        ev[k + 1, E_THR] = threshold
        ev[0, H_EVENTS] = k + 1
    else:
        ev[0, H_EVENTS] = -1.0
    ev[0, H_DRAWN] = 1.0


LANES = 8  # trials a thread walks at once: their memory waits overlap


@jit(inline="always")
def _unpack(pack, word, shots, kills, leaked, i, s):
    """Add the packed counts ``word`` (PACKED) to trial i's outputs of salvo s."""
    n_eff = shots.shape[2]
    fields = (pack.shape[0] - P_FIELDS) // 2
    for j in range(fields):
        x = (word >> pack[P_FIELDS + j]) & pack[P_FIELDS + fields + j]
        if j < n_eff:
            shots[i, s, j] += x
        elif j < 2 * n_eff:
            kills[i, s, j - n_eff] += x
        else:
            leaked[i, s, j - 2 * n_eff] += x


LANE_ROWS = 7  # a lane's trial, node, salvo, steps, packed sum, trial key, salvo key


@jit
def walk_trials(gr, first, last, trial0, seed, max_events, overrun, leaked, shots, kills, avail,
                rounds_end, missed):  # fmt: skip
    """Replay trials ``first .. last - 1`` on LANES lanes (``walk_lanes``, which takes its
    lanes from the caller and counts no references: record_trials walks the trials it may
    record in many short batches, 145,858 walks in a million single_layer trials when it
    walked them one at a time, and the seven lane arrays allocated and the graph's arrays
    counted at each walk were about 5 % of learning)."""
    lanes = np.empty((LANE_ROWS, max(0, min(LANES, last - first))), np.int64)
    return walk_lanes(gr, lanes, first, last, trial0, seed, max_events, overrun, leaked, shots,
                      kills, avail, rounds_end, missed, np.empty(0, np.int64))  # fmt: skip


@jit(borrow=True)
def walk_lanes(gr, lanes, first, last, trial0, seed, max_events, overrun, leaked, shots, kills,
               avail, rounds_end, missed, idx):  # fmt: skip
    """Replay trials ``first .. last - 1`` (numbers trial0 + i) through the graph, marking
    those that leave it (``missed[i]`` = 1: their outputs are incomplete, and the engine
    must play them); returns how many did. With ``idx`` not empty, the trials are
    ``idx[first] .. idx[last - 1]`` instead (engagement.record_trials).

    A walk is a chain of dependent reads (a node, its draw, the next node), each waiting on
    memory: the thread walks LANES trials at once, a node of each in turn, so that those
    waits overlap. Each trial's walk is its own (its draws, its sums): which lane walks it,
    and in what order, changes nothing in its outputs."""
    node, key, threshold, delta, _, outs, _, _, _, rep, repd, pack = gr
    width = delta.shape[2]
    packed = pack[P_ON] == 1
    guard = pack[P_GUARD]
    sshift = pack[P_SSHIFT]
    smask = pack[P_SMASK]
    fold = packed and smask > 0  # the steps in the packed word (else counted apart)
    for s in range(max_events.shape[0]):
        if max_events[s] > smask:  # not the bound the graph was made for: counted apart
            fold = False
    n_salvos = leaked.shape[1]
    n_groups = leaked.shape[2]
    n_eff = shots.shape[2]
    n_lanes = min(lanes.shape[1], last - first)
    lane_i = lanes[0]  # its trial (-1: idle)
    lane_n = lanes[1]  # its node
    lane_s = lanes[2]  # its salvo
    lane_steps = lanes[3]  # its salvo's event steps so far
    lane_sum = lanes[4]  # PACKED: the salvo's packed counts so far
    lane_tkey = lanes[5].view(np.uint64)
    lane_skey = lanes[6].view(np.uint64)
    nxt = first
    busy = 0
    left = 0
    for k in range(n_lanes):
        lane_i[k] = -1
    while True:
        for k in range(n_lanes):
            i = lane_i[k]
            if i < 0:  # take the next trial, if any
                if nxt >= last:
                    continue
                i = nxt if idx.shape[0] == 0 else idx[nxt]
                nxt += 1
                busy += 1
                lane_i[k] = i
                lane_tkey[k] = trial_key(seed, trial0 + i)
                lane_skey[k] = lane_tkey[k]
                lane_s[k] = 0
                lane_steps[k] = 0
                lane_sum[k] = (smask - max_events[0]) << sshift if fold else 0
                for e in range(n_eff):
                    shots[i, 0, e] = 0
                    kills[i, 0, e] = 0
                for g in range(n_groups):
                    leaked[i, 0, g] = 0
                lane_n[k] = node[0, N_CHILD]
                prefetch_row(rep, lane_n[k])
            # One node of trial i. i and s are >= 0, now visibly so (kernels/_jit.py).
            i = i & NONNEG
            n = lane_n[k]
            s = lane_s[k] & NONNEG
            done = 0  # 1: the trial is complete; -1: it left the graph
            slow = False  # the node is read from the graph's own arrays
            kind = ROOT
            b = 0
            if n <= 0:
                done = -1
            else:  # the replay's row (shortcuts): the same draw
                m53 = draw_mixed(lane_skey[k], np.uint64(rep[n, R_KEY]))
                b = 1 if m53 < rep[n, R_THR] else 0
                m = rep[n, R_CHILD + b]
                if m > 0:  # past the state points: the same sums
                    if packed:  # the counts in one word, written out at the salvo's end
                        total = lane_sum[k] + rep[n, R_PACK + b]
                        over = total & guard  # (fold) steps past max_events[s], or a count
                        # beyond its bound (none is): the engine plays it (and flags an overrun)
                        if not fold:
                            lane_steps[k] += rep[n, R_STEPS + b]
                            if lane_steps[k] > max_events[s]:
                                over = 1
                        if over:
                            done = -1
                        else:
                            lane_sum[k] = total
                            lane_n[k] = m
                            prefetch_row(rep, m)  # read a round of lanes later
                    else:
                        lane_steps[k] += rep[n, R_STEPS + b]
                        if lane_steps[k] > max_events[s]:
                            done = -1
                        else:
                            o = b * width
                            for e in range(n_eff):
                                shots[i, s, e] += repd[n, o + 1 + e]
                                kills[i, s, e] += repd[n, o + 1 + n_eff + e]
                            for g in range(n_groups):
                                leaked[i, s, g] += repd[n, o + 1 + 2 * n_eff + g]
                            lane_n[k] = m
                else:  # a row not made yet, an edge newer than it, or not a draw
                    slow = True
                    kind = node[n, N_KIND]
                    if kind == DRAW:
                        b = 1 if uniform(lane_skey[k], key[n]) < threshold[n] else 0
            if slow:
                if kind == TERM:
                    if packed:  # the salvo's packed counts
                        _unpack(pack, lane_sum[k], shots, kills, leaked, i, s)
                    o = node[n, N_ROW] & NONNEG
                    for g in range(n_groups):
                        leaked[i, s, g] += outs[o, g]
                    for e in range(n_eff):
                        rounds_end[i, s, e] = outs[o, n_groups + e]
                        avail[i, s, e] = outs[o, n_groups + n_eff + e]
                    s += 1
                    lane_s[k] = s
                    if s == n_salvos:
                        overrun[i] = 0
                        done = 1
                    else:
                        lane_skey[k] = salvo_key(lane_tkey[k], s)
                        lane_steps[k] = 0
                        lane_sum[k] = (smask - max_events[s]) << sshift if fold else 0
                        for e in range(n_eff):
                            shots[i, s, e] = 0
                            kills[i, s, e] = 0
                        for g in range(n_groups):
                            leaked[i, s, g] = 0
                if done == 0:
                    x = delta[n, b, 0]
                    if fold:  # the steps in their field
                        total = lane_sum[k] + (x << sshift)
                        if x > smask or total & guard:
                            done = -1  # the engine plays it (and flags the overrun)
                        else:
                            lane_sum[k] = total
                    else:
                        lane_steps[k] += x
                        if lane_steps[k] > max_events[s]:
                            done = -1  # the engine plays it (and flags the overrun)
                    if done == 0:
                        for e in range(n_eff):
                            shots[i, s, e] += delta[n, b, 1 + e]
                            kills[i, s, e] += delta[n, b, 1 + n_eff + e]
                        for g in range(n_groups):
                            leaked[i, s, g] += delta[n, b, 1 + 2 * n_eff + g]
                        lane_n[k] = node[n, N_CHILD + b]
            if done != 0:
                if done < 0:
                    missed[i] = 1
                    left += 1
                lane_i[k] = -1
                busy -= 1
        if busy == 0 and nxt >= last:
            return left
