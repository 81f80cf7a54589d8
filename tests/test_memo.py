"""The graph of recurring states (kernels/memo.py) changes only the speed.

Every trial replayed through the graph must equal, in every output, the trial the engine
plays without it: the same seed, the same trial numbers, compared array for array. The
scenarios are those of the trial-by-trial reference families (tests/test_kernel_reference.py)
with every arrival made deterministic (``stream`` or ``simultaneous``: the graph is only
used then), plus campaigns with resupply, and the single-layer benchmark raid. Each is
run in three calls on two threads, so that the graph is learned in short stretches and
then replayed in long ones (all threads replay; one thread records the trials that left
the graph).
"""

import random

import numpy as np
import pytest
from test_kernel_reference import (
    cost_aware_laser_scenario,
    cost_aware_realism_scenario,
    laser_heavy_scenario,
    load_quiet,
    preferential_laser_scenario,
    preferential_scenario,
    random_scenario,
    realism_scenario,
)

from costx import bench
from costx.errors import EventCapError, InternalError
from costx.kernels import memo as kmemo
from costx.scenario import load_scenario
from costx.simulation import (
    MEMO_MIN_TRIALS,
    Lowered,
    memo_eligible,
    memo_pack_bounds,
    numba_threads,
)

FIELDS = ("leaked", "shots", "kills", "avail", "rounds_end")
FAMILIES = {
    "random": random_scenario,
    "realism": realism_scenario,
    "preferential": preferential_scenario,
    "preferential_laser": preferential_laser_scenario,
    "cost_aware_realism": cost_aware_realism_scenario,
    "cost_aware_laser": cost_aware_laser_scenario,
    "laser_heavy": laser_heavy_scenario,
}


def deterministic(data: dict, rng: random.Random) -> dict:
    """The scenario with every random arrival made a stream or simultaneous, and (half
    the time) a campaign of 2-3 salvos with resupply."""
    for group in data["threats"]:
        if group.get("arrival") == "uniform":
            group["arrival"] = rng.choice(["stream", "simultaneous"])
    if rng.random() < 0.5:
        kinetic = [e["name"] for e in data["effectors"] if e["kind"] != "laser"]
        data["campaign"] = {
            "salvos": rng.randint(2, 3),
            "interval_h": 6.0,
            "resupply_rounds": {k: rng.randint(0, 2) for k in kinetic},
        }
    return data


PACK_BOUNDS = kmemo.pack_bounds  # the bounds, also where a test makes the graph's wrong


def bounds_of(lowered) -> np.ndarray:
    """kmemo.pack_bounds of a lowered scenario, as costx.simulation computes them."""
    return memo_pack_bounds(lowered.arrays, PACK_BOUNDS)


def run_both(scenario, calls=3, n=600, seed=11, pack=True, check=False):
    """Outputs of ``calls`` consecutive calls of n trials, with and without the graph.
    Also: every salvo's rounds fired, kills and leakers of the engine lie within the
    bounds of the replay's packed counts (kmemo.PACKED), and a graph packed at the start
    stays packed (no replay row passed them). ``pack=False``: a graph whose replay adds
    the counts one by one (bounds too wide for a word). ``check``: recording writes and
    checks every state point, the known prefix's too (kmemo.M_CHECK)."""
    plain = Lowered(scenario, memo=False)
    memo = Lowered(scenario, memo=True)
    if not pack:
        kmemo.pack_bounds = lambda *a: np.full(len(PACK_BOUNDS(*a)), 2**62, np.int64)
    try:
        assert memo.memo is not None
    finally:
        kmemo.pack_bounds = PACK_BOUNDS
    packed = memo.memo.stats()["packed"]
    memo.memo.graph.meta[kmemo.M_CHECK] = int(check)
    bits = sum(max(1, int(b).bit_length()) + 1 for b in bounds_of(plain))
    assert packed == (pack and bits <= 63)
    bits += int(plain.arrays.max_events.max()).bit_length() + 1  # the steps' field
    assert memo.memo.stats()["steps_packed"] == (packed and bits <= 63)
    bounds = bounds_of(plain)
    with numba_threads(2):
        for k in range(calls):
            a = plain.run(k * n, n, seed)
            b = memo.run(k * n, n, seed)
            for field in FIELDS:
                x, y = getattr(a, field), getattr(b, field)
                bad = np.argwhere(x != y)
                assert not len(bad), (
                    f"{scenario.name}: call {k}, {field}: trial {k * n + bad[0][0]} differs "
                    f"({len(bad)} entries)"
                )
            most = np.concatenate([a.shots.max(axis=(0, 1)), a.kills.max(axis=(0, 1)),
                                   a.leaked.max(axis=(0, 1))])  # fmt: skip
            assert (most <= bounds).all(), (scenario.name, most, bounds)
    assert memo.memo.stats()["packed"] == packed, memo.memo.stats()
    return memo.memo


def family_scenario(family: str, k: int, seed: int, threats: int):
    """The k-th scenario of a family for the graph's tests: single_layer of threats x
    (k + 1) threats, or a scenario of the family drawn with Random(seed + k) and made
    deterministic."""
    if family == "single_layer":
        return bench.single_layer(threats * (k + 1))
    rng = random.Random(seed + k)
    return load_quiet(deterministic(FAMILIES[family](rng), rng))[0]


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_replayed_trials_equal_the_engine(family):
    make = FAMILIES[family]
    replayed = 0
    packed = set()
    for k in range(10):
        rng = random.Random(9000 + k)
        data = deterministic(make(rng), rng)
        scenario, _ = load_quiet(data)
        stats = run_both(scenario, pack=k % 2 == 0).stats()
        replayed += stats["trials"] - stats["missed"]
        packed.add(stats["packed"])
    # The comparison has power only if trials were replayed, not played again, and on
    # both of replay's ways of adding counts (packed in one word, one by one).
    assert replayed > 1000, replayed
    assert packed == {True, False}, packed


def test_single_layer_replays_most_trials_and_equals_the_engine():
    stats = run_both(bench.single_layer(16), calls=4, n=2000).stats()
    assert stats["on"], stats
    # after the first 2,000 trials, most are replayed
    assert stats["missed"] < 0.5 * stats["trials"], stats


GRAPH_ARRAYS = ("node", "key", "threshold", "delta", "states", "outs", "table", "rep", "repd")


@pytest.mark.parametrize("family", ["cost_aware_realism", "random", "realism", "single_layer"])
def test_known_states_unwritten_build_the_same_graph(family):
    """A recorded trial's state points that the graph already has (up to where the trial
    left it, and again from a state written down that the graph holds) are noted without
    their canonical form (engagement._cursor), and recording follows their edges. The
    graph built so equals, array for array and count for count, the one built writing
    and checking every state (kmemo.M_CHECK), and both replay the engine's trials
    (run_both). Campaigns with resupply and leakers (carried along the known edges) are
    among the scenarios."""
    skipped = seen = 0
    for k in range(3):
        scenario = family_scenario(family, k, 9100, 8)
        fast = run_both(scenario).graph
        full = run_both(scenario, check=True).graph
        for name in GRAPH_ARRAYS:
            a, b = getattr(fast, name), getattr(full, name)
            assert np.array_equal(a, b), (scenario.name, name)
        assert full.meta[kmemo.M_SKIPPED] == 0
        # Every state point whose edge the graph had was left unwritten: the engine's
        # cursor never lost its way (across salvos too).
        assert fast.meta[kmemo.M_SKIPPED] == fast.meta[kmemo.M_FOLLOWED], scenario.name
        mine = np.ones(len(fast.meta), bool)
        mine[[kmemo.M_CHECK, kmemo.M_SKIPPED]] = False
        assert np.array_equal(fast.meta[mine], full.meta[mine]), scenario.name
        skipped += int(fast.meta[kmemo.M_SKIPPED])
        seen += int(fast.meta[kmemo.M_SEEN])
    # The comparison has power only if many state points were left unwritten.
    assert skipped > 0.2 * seen, (skipped, seen)


@pytest.mark.parametrize("family", ["cost_aware_realism", "random", "single_layer"])
def test_recording_that_walks_ahead_builds_the_graph_of_one_walk_at_a_time(family):
    """record_trials walks the trials that left the graph ahead in batches on several
    lanes (kmemo.M_BATCH), records the first of a batch that leaves it and walks the
    later ones that left again after that. The graph, its counts, the marks and every
    output equal those of one walk at a time (M_BATCH 1), in calls long enough that
    many trials are walked again (one stretch of thousands, marked by a young graph)."""
    recorded = 0
    for k in range(2):
        scenario = family_scenario(family, k, 9200, 16)
        built = {}
        for batch in (1, kmemo.RECORD_BATCH):
            memo = Lowered(scenario, memo=True)
            memo.memo.graph.meta[kmemo.M_BATCH] = batch
            with numba_threads(2):
                outs = [memo.run(0, 6000, 5), memo.run(6000, 2000, 5)]
            built[batch] = (memo.memo, outs)
        (one, one_out), (ahead, ahead_out) = built[1], built[kmemo.RECORD_BATCH]
        for name in GRAPH_ARRAYS:
            assert np.array_equal(getattr(one.graph, name), getattr(ahead.graph, name)), (
                scenario.name, name)  # fmt: skip
        mine = np.ones(len(one.graph.meta), bool)
        mine[kmemo.M_BATCH] = False
        assert np.array_equal(one.graph.meta[mine], ahead.graph.meta[mine]), scenario.name
        assert one.stats() == ahead.stats(), scenario.name
        for a, b in zip(one_out, ahead_out, strict=True):
            for field in FIELDS:
                assert np.array_equal(getattr(a, field), getattr(b, field)), field
        recorded += one.stats()["missed"]
    assert recorded > 100, recorded  # the comparison has power only if many were recorded


def test_a_weather_raid_is_one_draw_per_salvo():
    """Lasers only, weather states, deterministic arrivals: a trial is a function of the
    weather and atmosphere draws alone, so the graph is a few nodes and every later trial
    replays."""
    rng = random.Random(4)
    data = deterministic(preferential_laser_scenario(rng), rng)
    data["effectors"] = [e for e in data["effectors"] if e["kind"] == "laser"]
    data.pop("doctrine", None)
    data.pop("campaign", None)
    data["scenario"]["policy"] = "layered"
    memo = run_both(load_quiet(data)[0], calls=2, n=500)
    assert memo.stats()["nodes"] < 50, memo.stats()
    assert memo.stats()["missed"] < 20, memo.stats()


def test_only_fixed_arrivals_are_eligible_and_long_runs_memoize_by_default(monkeypatch):
    rng = random.Random(1)
    data = random_scenario(rng)
    for group in data["threats"]:
        group["arrival"] = "stream"
    fixed, _ = load_quiet(data)
    data["threats"][0]["arrival"] = "uniform"
    data["threats"][0]["count"] = 2
    drawn, _ = load_quiet(data)
    assert memo_eligible(Lowered(fixed).arrays)
    assert not memo_eligible(Lowered(drawn).arrays)
    assert Lowered(drawn, memo=True).memo is None
    assert Lowered(fixed).memo is None  # a short run (no trial count given)
    assert Lowered(fixed, trials=MEMO_MIN_TRIALS - 1).memo is None
    assert Lowered(fixed, trials=MEMO_MIN_TRIALS).memo is not None
    monkeypatch.setenv("COSTX_MEMO", "0")
    assert Lowered(fixed, trials=MEMO_MIN_TRIALS).memo is None


def test_states_that_do_not_recur_turn_the_graph_off():
    """64 drones, a laser, a gun and an interceptor, layered: almost every trial is new.
    The graph gives up after two stretches; the results stay exact."""
    data = bench.drone_raid(24, "layered").model_dump(mode="json", exclude_none=True)
    for group in data["threats"]:
        group["arrival"] = "stream"
    memo = run_both(load_scenario(data), calls=2, n=1200)
    assert memo.off, memo.stats()


def test_a_graph_that_disagrees_with_the_engine_is_an_internal_error():
    """Recording checks every edge it follows: a threshold changed in the graph (what a
    canonical state that missed something would cause) is caught, never replayed."""
    plan = Lowered(bench.single_layer(8), memo=True)
    plan.run(0, 1000, 3)
    graph = plan.memo.graph
    draws = graph.node[:, kmemo.N_KIND] == kmemo.DRAW
    draws[graph.meta[kmemo.M_NODES] :] = False
    graph.threshold[draws] *= 0.999  # every draw node now disagrees with the engine
    terms = np.flatnonzero(graph.node[:, kmemo.N_KIND] == kmemo.TERM)
    graph.node[np.isin(graph.node[:, kmemo.N_CHILD], terms), kmemo.N_CHILD] = 0  # force misses
    graph.node[np.isin(graph.node[:, kmemo.N_CHILD + 1], terms), kmemo.N_CHILD + 1] = 0
    shortcut = graph.rep[:, kmemo.R_CHILD : kmemo.R_CHILD + 2]  # the replay's shortcuts
    shortcut[np.isin(shortcut, terms)] = 0
    with pytest.raises(InternalError, match="recurring states disagreed"):
        plan.run(1000, 100, 3)


def test_packed_counts_past_their_bounds_go_to_the_engine(monkeypatch):
    """Replay adds the counts packed in one word (kmemo.PACKED) only while each stays
    within its field. Bounds of 1 (the per-salvo sums are up to 16): a sum that passes
    its field sets its guard bit and the trial is played by the engine, so nearly every
    trial is, and every output is still the engine's."""
    monkeypatch.setattr(kmemo, "pack_bounds", lambda *a: np.ones(3, np.int64))
    stats = run_both(bench.single_layer(16), calls=3, n=2000).stats()
    assert stats["packed"], stats
    assert stats["missed"] > 0.9 * stats["trials"], stats


def test_a_replay_row_past_its_bounds_turns_packing_off(monkeypatch):
    """Shoot-shoot salvos of two rounds: an edge adds 2 rounds fired, which a bound of 1
    cannot hold, so making the replay rows turns packing off and replay adds the counts
    one by one: most trials replay, every output the engine's."""
    monkeypatch.setattr(kmemo, "pack_bounds", lambda *a: np.ones(3, np.int64))
    data = bench.single_layer(16).model_dump(mode="json", exclude_none=True)
    data["effectors"][0]["salvo_size"] = 2
    data["effectors"][0]["max_engagements"] = 1
    plain, replay = (
        Lowered(load_scenario(data), memo=False),
        Lowered(load_scenario(data), memo=True),
    )
    assert replay.memo.stats()["packed"]  # at the start
    for k in range(3):
        a, b = plain.run(k * 2000, 2000, 5), replay.run(k * 2000, 2000, 5)
        for field in FIELDS:
            assert np.array_equal(getattr(a, field), getattr(b, field)), field
    stats = replay.memo.stats()
    assert not stats["packed"], stats
    assert stats["missed"] < 0.5 * stats["trials"], stats


NEW_GRAPH = kmemo.new_graph


@pytest.mark.parametrize("fold", [True, False])
def test_replayed_steps_past_the_event_bound_go_to_the_engine(fold, monkeypatch):
    """Replay checks a salvo's event steps against ``max_events[s]``: in the packed word,
    where the steps' field fits (``fold``: its guard bit is set exactly past the bound),
    or counted apart. A graph learned under the real bound (3,328 steps), then a bound of
    59, which 679 of the next 2,000 single_layer(16) trials pass (their steps lie on both
    sides of it: 56 gives 1,129 and 62 gives 156): the trials that pass it must go to the
    engine, which flags them (the first is trial 6003), so the error names the same first
    trial and the same count as the engine's alone. One step short, or not checked, the
    counts differ."""
    if not fold:  # a steps' field too wide for the word: replay counts the steps apart
        monkeypatch.setattr(
            kmemo, "new_graph", lambda *a, **k: NEW_GRAPH(*a, **{**k, "steps": 2**62})
        )
    plain = Lowered(bench.single_layer(16), memo=False)
    memo = Lowered(bench.single_layer(16), memo=True)
    stats = memo.memo.stats()
    assert stats["packed"] and stats["steps_packed"] == fold, stats
    for k in range(3):
        memo.run(k * 2000, 2000, 5)
    missed = memo.memo.stats()["missed"]
    assert missed < 0.2 * 6000, memo.memo.stats()  # the graph serves
    errors = []
    for lowered in (plain, memo):
        lowered.arrays.max_events[:] = 59
        with pytest.raises(EventCapError) as info:
            lowered.run(6000, 2000, 5)
        errors.append(str(info.value))
    assert errors[0] == errors[1]
    assert "trial 6003, salvo 0" in errors[0] and "(679 trials affected" in errors[0]
    assert memo.memo.stats()["missed"] - missed >= 679  # replay sent them to the engine


def test_the_integer_draw_of_replay_is_the_engines_draw():
    """Replay draws with mix64 of a node's counter computed once and its threshold as an
    integer (kernels.rng.draw_mixed < int_threshold): the outcome of the engine's
    ``uniform < p``, on random keys and counters (the top bits too) and on thresholds at
    the draw itself and one float either side (where the two could part), random ones, 0,
    1, above 1, below 0, NaN and the smallest floats."""
    from costx.kernels.rng import draw_mixed, int_threshold, mix64, uniform

    rng = np.random.default_rng(16)
    keys = rng.integers(0, 2**64, 2000, dtype=np.uint64, endpoint=False)
    counters = rng.integers(0, 2**64, 2000, dtype=np.uint64, endpoint=False)
    fixed = [0.0, -0.0, 1.0, 1.5, -0.25, float("nan"), 5e-324, 2.0**-53, 1.0 - 2.0**-53]
    checked = 0
    for key, counter in zip(keys, counters, strict=True):
        u = uniform(key, counter)
        mixed = np.uint64(mix64(counter))  # a Python int from Python: uint64 as in replay
        m = draw_mixed(key, mixed)
        assert m * 2.0**-53 == u
        for p in [u, np.nextafter(u, 2.0), np.nextafter(u, -1.0), rng.random(), *fixed]:
            assert (m < int_threshold(p)) == (u < p), (u, p)
            checked += 1
    assert checked == 2000 * 13
