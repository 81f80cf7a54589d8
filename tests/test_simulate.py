"""simulate(): reproducibility, common random numbers, the API and the summary."""

import math
import threading
import time

import numpy as np
import pandas as pd
import pytest
from scenarios import interceptor, laser, mixed, railgun, scenario, threat

import costx
from costx.errors import InputError

TRIALS = 3000


@pytest.fixture(scope="module")
def mixed_result():
    return costx.simulate(mixed(), trials=TRIALS, seed=11)


def test_thread_count_does_not_change_results(mixed_result):
    one = costx.simulate(mixed(), trials=TRIALS, seed=11, threads=1)
    two = costx.simulate(mixed(), trials=TRIALS, seed=11, threads=2)
    pd.testing.assert_frame_equal(one.trials, two.trials)
    pd.testing.assert_frame_equal(one.trials, mixed_result.trials)
    assert one.moments == two.moments


@pytest.mark.parametrize("threads", [1, 2, 3, 16])
@pytest.mark.parametrize("n", [0, 1, 255, 256, 257, 3000, 100_003])
def test_tasks_cover_every_trial_once(n, threads):
    from costx.kernels.engagement import TASKS_PER_THREAD, TRIALS_PER_TASK, task_bounds

    tasks = task_bounds(n, threads)
    covered = [i for first, last in tasks for i in range(first, last)]
    assert covered == list(range(n))
    assert all(last > first for first, last in tasks)
    assert len(tasks) <= min(TASKS_PER_THREAD * threads, -(-n // TRIALS_PER_TASK))
    assert len({last - first for first, last in tasks[:-1]}) <= 1  # equal, but the last


def _on_two_threads(play):
    """play() with numba's thread count set to 2 on this thread."""
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(2)
    try:
        return play()
    finally:
        numba.set_num_threads(before)


def _tasks_on_two_threads(n):
    """The trials each task of _play_tasks was given, and the threads that played them."""
    from costx.kernels.engagement import _play_tasks

    seen = []

    def task(first, last):
        seen.append((first, last, threading.get_ident()))

    _on_two_threads(lambda: _play_tasks(n, task))
    return sorted(t[:2] for t in seen), {t[2] for t in seen}


TWO_THREADS = pytest.mark.skipif(
    __import__("numba").config.NUMBA_NUM_THREADS < 2, reason="one thread"
)


@TWO_THREADS
def test_thread_pool_is_kept_between_calls():
    """Tasks run on the calling thread's kept pool (starting its threads at every call cost
    4 - 6 % of a 4,096-trial call on two threads), the same threads at every call."""
    from costx.kernels.engagement import _pool, task_bounds

    tasks, first = _tasks_on_two_threads(4096)
    assert tasks == task_bounds(4096, 2)
    _, second = _tasks_on_two_threads(4096)
    pool = {t.ident for t in _pool(2)._threads}
    assert first <= pool and second <= pool
    assert len(pool) <= 2


@TWO_THREADS
def test_failed_task_waits_for_the_running_ones_and_the_pool_goes_on():
    """A failing task raises in the caller only once the tasks under way have ended (they
    write into the caller's arrays), and the pool plays the next call."""
    from costx.kernels.engagement import _play_tasks, task_bounds

    started, ended = threading.Event(), threading.Event()

    def task(first, last):
        if first == 0:
            started.wait(10)  # the second task is under way
            raise ValueError("task 0")
        if first == 256:
            started.set()
            time.sleep(0.3)
            ended.set()

    with pytest.raises(ValueError, match="task 0"):
        _on_two_threads(lambda: _play_tasks(4096, task))
    assert ended.is_set()
    assert _tasks_on_two_threads(4096)[0] == task_bounds(4096, 2)


@TWO_THREADS
def test_callers_on_other_threads_have_their_own_pools():
    """Callers on several threads each get their own pool (as a pool per call gave them), so
    they do not queue behind each other, and a task that plays tasks itself does not wait on
    the pool it runs on."""
    from costx.kernels.engagement import _play_tasks, _pool, task_bounds

    mine = _on_two_threads(lambda: _pool(2))
    theirs = []
    other = threading.Thread(target=lambda: theirs.append(_on_two_threads(lambda: _pool(2))))
    other.start()
    other.join(10)
    assert theirs and theirs[0] is not mine

    inner = []

    def nested(first, last):
        inner.append(_tasks_on_two_threads(512)[0])

    outer = threading.Thread(target=lambda: _on_two_threads(lambda: _play_tasks(1024, nested)))
    outer.start()
    outer.join(30)
    assert not outer.is_alive(), "a task that played tasks waited on its own pool"
    assert inner == [task_bounds(512, 2)] * len(task_bounds(1024, 2))


def _child_plays(queue):
    queue.put(_tasks_on_two_threads(4096)[0])


@TWO_THREADS
@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="no fork")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_thread_pool_in_a_forked_process():
    """A forked process (multiprocessing) has none of its parent's pool threads: it makes its
    own pool (the parent's would take the tasks and never run them, and the child would wait
    for ever)."""
    import multiprocessing

    from costx.kernels.engagement import task_bounds

    assert _tasks_on_two_threads(4096)[0] == task_bounds(4096, 2)  # the parent's pool exists
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child_plays, args=(queue,))
    child.start()
    child.join(60)
    alive = child.is_alive()
    if alive:
        child.kill()
        child.join()
    assert not alive, "the forked process hung on its parent's thread pool"
    assert child.exitcode == 0
    assert queue.get(timeout=10) == task_bounds(4096, 2)


@pytest.mark.parametrize("block", [1, 7, 1000])
def test_chunking_does_not_change_results(mixed_result, block):
    chunked = costx.simulate(mixed(), trials=TRIALS, seed=11, block_trials=block)
    pd.testing.assert_frame_equal(chunked.trials, mixed_result.trials)
    pd.testing.assert_frame_equal(chunked.summary(), mixed_result.summary())


def test_first_trials_of_a_longer_run_equal_a_shorter_run(mixed_result):
    short = costx.simulate(mixed(), trials=500, seed=11)
    pd.testing.assert_frame_equal(short.trials, mixed_result.trials.iloc[:500])


def test_summary_only_run_gives_the_same_summary(mixed_result):
    lean = costx.simulate(mixed(), trials=TRIALS, seed=11, keep_trials=False)
    assert not lean.has_trials
    pd.testing.assert_frame_equal(lean.summary(), mixed_result.summary())
    with pytest.raises(InputError, match="keep_trials=False"):
        _ = lean.trials


def test_seed_changes_results(mixed_result):
    other = costx.simulate(mixed(), trials=TRIALS, seed=12)
    assert not other.trials.equals(mixed_result.trials)


def _counts(frame: pd.DataFrame, prefix: tuple[str, ...]) -> pd.DataFrame:
    return frame[[c for c in frame.columns if c.startswith(prefix)]]


def test_common_random_numbers_when_a_change_does_not_matter():
    """Changes that cannot affect events leave every trial unchanged (draws are keyed)."""
    base = scenario(
        [threat("drone", 8, arrival="uniform"), threat("cruise", 3, speed_mps=250.0)],
        [interceptor(pk={"drone": 0.7, "cruise": 0.6}, rounds=200), railgun(), laser()],
    )
    ref = costx.simulate(base, trials=2000, seed=5).trials

    deeper = scenario(base["threats"], base["effectors"])
    deeper["effectors"][0]["rounds"] = 5000  # 200 are never used up
    assert ref["shots_sm2"].max() < 200
    pd.testing.assert_frame_equal(costx.simulate(deeper, trials=2000, seed=5).trials, ref)

    costly = scenario(base["threats"], base["effectors"])
    costly["effectors"][1]["cost_per_shot_usd"] = 1e6
    got = costx.simulate(costly, trials=2000, seed=5).trials
    pd.testing.assert_frame_equal(
        _counts(got, ("leaked", "shots", "kills")), _counts(ref, ("leaked", "shots", "kills"))
    )

    extra = scenario(
        base["threats"] + [threat("decoy", 5, kill_fluence_j_cm2=None)],
        base["effectors"] + [interceptor("spare", rounds=0)],
    )
    with pytest.warns(costx.CostxWarning, match="no effector can engage"):
        got = costx.simulate(extra, trials=2000, seed=5).trials
    assert (got["leaked_decoy"] == 5).all()
    cols = [c for c in ref.columns if c.startswith(("leaked_", "shots_", "kills_"))]
    pd.testing.assert_frame_equal(got[cols], ref[cols])


def test_common_random_numbers_make_paired_differences_less_noisy():
    """A small change of pk: the paired difference varies far less than two independent runs."""
    a = scenario([threat("drone", 10)], [interceptor(pk={"drone": 0.7}, max_engagements=1)])
    b = scenario([threat("drone", 10)], [interceptor(pk={"drone": 0.75}, max_engagements=1)])
    la = costx.simulate(a, trials=4000, seed=3).trials["leaked"].to_numpy(float)
    lb = costx.simulate(b, trials=4000, seed=3).trials["leaked"].to_numpy(float)
    paired = np.var(lb - la)
    independent = np.var(la) + np.var(lb)
    # With common random numbers a round that kills at pk 0.7 also kills at 0.75, so the
    # difference is 0 or -1 per threat: its variance is about 10 x 0.05 x 0.95 = 0.48,
    # against 10 x (0.21 + 0.19) = 4.0 for independent runs.
    assert lb.mean() < la.mean()
    assert np.all(lb <= la)
    assert paired < 0.2 * independent


def test_costs_are_shots_times_round_cost(mixed_result):
    frame = mixed_result.trials
    s = costx.load_scenario(mixed())
    defense = np.zeros(len(frame))
    for e in s.effectors:
        expected = frame[f"shots_{e.name}"] * e.round_cost_usd
        np.testing.assert_allclose(frame[f"cost_{e.name}_usd"], expected, rtol=1e-12)
        defense += expected
    np.testing.assert_allclose(frame["defense_cost_usd"], defense, rtol=1e-12)
    hvp = s.effectors[1]
    assert hvp.round_cost_usd == 25_000.0 + 2_000_000.0 / 1000  # barrel wear per round
    assert (frame["attack_cost_usd"] == 12 * 30_000 + 4 * 1e6 + 2 * 3e6).all()


def test_summary_agrees_with_pandas_on_the_trial_table(mixed_result):
    """Means, intervals and ratio estimators recomputed directly from the per-trial table."""
    frame, summary, n = mixed_result.trials, mixed_result.summary(), TRIALS
    for measure in ["leakers", "shots_sm2", "kills_las", "defense_cost_usd", "killed"]:
        column = "leaked" if measure == "leakers" else measure
        x = frame[column].to_numpy(float)
        half = 1.959963984540054 * x.std(ddof=1) / math.sqrt(n)
        row = summary.loc[measure]
        assert row["mean"] == pytest.approx(x.mean(), rel=1e-12)
        assert row["ci95_high"] - row["mean"] == pytest.approx(half, rel=1e-9)
    p_any = (frame["leaked"] > 0).mean()
    assert summary.loc["p_any_leak", "mean"] == pytest.approx(p_any, rel=1e-12)
    cost, kills = frame["defense_cost_usd"].to_numpy(float), frame["killed"].to_numpy(float)
    ratio = cost.sum() / kills.sum()
    assert summary.loc["cost_per_kill_usd", "mean"] == pytest.approx(ratio, rel=1e-12)
    # Delta-method standard error of a ratio of means, written out independently.
    d = (cost - ratio * kills) / kills.mean()
    se = d.std(ddof=1) / math.sqrt(n)
    assert summary.loc["cost_per_kill_usd", "std_error"] == pytest.approx(se, rel=1e-9)
    cer = cost.mean() / frame["attack_cost_usd"].iloc[0]
    assert summary.loc["cost_exchange_defense_over_attack", "mean"] == pytest.approx(cer)


def test_weather_draw_matches_availability(mixed_result):
    available = mixed_result.trials["laser_available"].to_numpy(float)
    se = math.sqrt(0.8 * 0.2 / TRIALS)
    assert abs(available.mean() - 0.8) < 5 * se  # 5 standard errors, fixed seed
    frame = mixed_result.trials
    assert (frame.loc[~frame["laser_available"], "shots_las"] == 0).all()


def test_bad_arguments_are_clear_errors():
    with pytest.raises(InputError, match="trials must be between 1"):
        costx.simulate(mixed(), trials=0)
    with pytest.raises(InputError, match="seed must be between 0"):
        costx.simulate(mixed(), trials=10, seed=-1)
    with pytest.raises(InputError, match="seed must be a whole number"):
        costx.simulate(mixed(), trials=10, seed=1.5)
    with pytest.raises(InputError, match="threads must be between 1"):
        costx.simulate(mixed(), trials=10, threads=10_000)


def test_kernels_are_compiled_once_whatever_the_chunking():
    """Views into a larger table would have Numba layout 'A' instead of 'F' and compile
    (and cache) every kernel a second time: the kernels always get fresh arrays."""
    from costx.kernels.damage import damage_trials
    from costx.kernels.engagement import engine_task

    costx.simulate(mixed(), trials=3000, seed=1, block_trials=1000)  # kept, several blocks
    costx.simulate(mixed(), trials=500, seed=1, keep_trials=False)
    costx.simulate("pacific_airbase", trials=300, seed=1, block_trials=100)
    # one engine for cost_aware and one for the other policies (the last argument, go:
    # kernels/engagement.py, engine_task), each with the same arrays
    assert len({sig[:-1] for sig in engine_task.signatures}) == 1
    assert len(engine_task.signatures) <= 2
    assert len(damage_trials.signatures) == 1


@pytest.mark.parametrize(
    ("largest", "n"),
    [(2**20, 2**12), (2**20 - 1, 2**13 - 1), (2**25, 2**11), (2**31, 2**4), (0, 5)],
    ids=["float-path-at-2^52", "float-path-just-below-2^53", "int64-path", "object-path", "zeros"],
)
@pytest.mark.parametrize("fill", ["random", "all-largest"])
def test_moments_are_exact_on_every_path(largest, n, fill):
    """Sums and cross-products equal Python's exact integers, whichever arithmetic the
    size of the numbers selects (float64 below 2**53, int64 below 2**62, else objects)."""
    from costx.aggregate import Moments

    rng = np.random.default_rng(largest + n)
    cols = {f"c{j}": rng.integers(0, largest + 1, n, dtype=np.int64) for j in range(4)}
    cols["c0"][0] = largest
    if fill == "all-largest":  # the sums themselves reach n * largest**2, the bound
        cols = {k: np.full(n, largest, np.int64) for k in cols}
    m = Moments.of(cols)
    rows = list(zip(*(c.tolist() for c in cols.values()), strict=True))
    assert m.n == n
    assert m.s1 == tuple(sum(r[j] for r in rows) for j in range(4))
    assert m.s2 == tuple(tuple(sum(r[i] * r[j] for r in rows) for j in range(4)) for i in range(4))


@pytest.mark.parametrize("n", [0, 1, 2, 31, 32, 33, 100])
def test_arrival_sort_orders_by_time_then_index(n):
    """The kernel's in-place sort of arrival times (insertion sort up to 32, heap sort
    above) gives the one order of (time, index), ties included, as NumPy's lexsort."""
    from costx.kernels.engagement import _sort_pairs

    rng = np.random.default_rng(n)
    keys = rng.integers(0, max(n // 3, 1), n).astype(np.float64)  # many ties
    idx = rng.permutation(n).astype(np.int64)
    order = np.lexsort((idx, keys))
    expected_keys, expected_idx = keys[order], idx[order]
    k, i = keys.copy(), idx.copy()
    _sort_pairs(k, i, n)
    np.testing.assert_array_equal(k, expected_keys)
    np.testing.assert_array_equal(i, expected_idx)


@pytest.mark.parametrize(
    ("n", "draw"),
    [
        (0, "uniform"), (1, "uniform"), (32, "uniform"), (33, "uniform"), (256, "uniform"),
        (2000, "uniform"), (300, "ties"), (300, "grid"), (300, "zero_width"), (300, "clustered"),
        (300, "out_of_range"),
    ],
)  # fmt: skip
def test_uniform_arrival_sort_orders_by_time_then_index(n, draw):
    """The bucket sort of uniform arrival times (``_sort_uniform``) gives the one order
    of (time, index), as NumPy's lexsort: for uniform keys, for many ties (keys rounded
    to a few values, most past the window), for ties of about three keys each within the
    window (which the insertion sort orders, without the heap sort), for a window of
    zero (all keys equal), for keys clustered in one bucket (where it leaves the rest to
    the heap sort) and for keys outside the window it was told (clamped to the end
    buckets)."""
    from costx.kernels.engagement import _sort_uniform

    rng = np.random.default_rng(n + len(draw))
    lo, width = 100.0, 60.0
    keys = lo + width * rng.random(n)
    if draw == "ties":
        keys = lo + np.floor(keys - lo) * 7.5
    elif draw == "grid":
        keys = lo + width * np.floor(rng.random(n) * (n // 3)) / (n // 3)
    elif draw == "zero_width":
        keys, width = np.full(n, lo), 0.0
    elif draw == "clustered":
        keys = lo + 1e-9 * rng.random(n)
    elif draw == "out_of_range":
        keys = lo + width * (3.0 * rng.random(n) - 1.0)
    idx = np.arange(n, dtype=np.int64)
    order = np.lexsort((idx, keys))
    k = np.concatenate([keys, np.full(n, np.nan)])
    i = np.concatenate([idx, np.full(n + 1, -7, np.int64)])
    _sort_uniform(k, i, n, lo, width)
    np.testing.assert_array_equal(k[:n], keys[order])
    np.testing.assert_array_equal(i[:n], idx[order])
