"""The simulation API: ``simulate(scenario, trials, seed) -> SimulationResult``."""

from __future__ import annotations

import contextlib
import os
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import numba
import numpy as np
import pandas as pd

from costx.aggregate import (
    PRECISION_FIRST_CHECK,
    Moments,
    Precision,
    RawTrials,
    moment_columns,
    n_salvos,
    precision_checks,
    precision_target,
    salvos_frame,
    summary_table,
    tidy_summary,
    trial_integers,
    trials_frame,
)
from costx.errors import EventCapError, InputError, InternalError, check_flag, check_int
from costx.io import as_file_path, write_result
from costx.kernels import memo as kmemo
from costx.kernels.damage import damage_trials, ship_trials
from costx.kernels.engagement import (
    ARRIVAL_UNIFORM,
    EI_CHANNELS,
    EI_KIND,
    EI_MAX_ENGAGEMENTS,
    EI_ROUNDS,
    EI_SALVO,
    FLIGHT_BYTES,
    KIND_LASER,
    canon_length,
    record_trials,
    replay_trials,
    simulate_trials,
)
from costx.lowering import lower, lower_base, lower_ship
from costx.notebook import result_html
from costx.plotting import SimulationPlots
from costx.scenario import CostxWarning, Scenario, ScenarioLike, load_scenario

BLOCK_TRIALS = 131_072  # trials per kernel call; results do not depend on it
BLOCK_BYTES = 256 * 2**20  # at most this much kernel output per call (long campaigns)
MAX_SEED = 2**64 - 1
PROGRESS_EVERY_S = 0.5  # with a progress callback, a kernel call lasts about this long
FIRST_PROGRESS_BLOCK = 1024  # trials of the first call when the speed is not yet known
MEMO_BYTES = 64 * 2**20  # room for the graph of recurring states (kernels/memo.py)
TRACE_EVENTS = 2**16  # room for the events of one recorded trial
TRACE_BYTES = 2**23  # room for the canonical states of one recorded trial
MEMO_MIN_TRIALS = 100_000  # runs shorter than this do not memoize (by default)
MEMO_FIRST = 512  # trials of the first stretch; each next one is twice as long
MEMO_SERVES = 1 / 4  # a stretch with at most this share leaving the graph: it serves
MEMO_MERGES = 1 / 2  # until then, this share of the states recorded must recur


@contextlib.contextmanager
def numba_threads(threads: int | None) -> Iterator[None]:
    """Run with ``threads`` Numba threads (None: leave the setting as it is)."""
    if threads is None:
        yield
        return
    limit = numba.config.NUMBA_NUM_THREADS
    threads = check_int("threads", threads, 1, limit)
    before = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        yield
    finally:
        numba.set_num_threads(before)


class SimulationResult:
    """The outcome of :func:`simulate`: per-trial table, exact moments and summary.

    Attributes
    ----------
    scenario : Scenario
    seed : int
    n_trials : int
    moments : Moments
        Exact integer sums behind every summary statistic.
    dollar_year : int
        The constant dollars of every cost in the tables (``unit`` reads ``USD``).
    """

    def __init__(
        self,
        scenario: Scenario,
        seed: int,
        n_trials: int,
        moments: Moments,
        trials: pd.DataFrame | None,
        elapsed_s: float = float("nan"),
        salvos: pd.DataFrame | None = None,
    ):
        self.scenario = scenario
        self.seed = seed
        self.n_trials = n_trials
        self.moments = moments
        self._trials = trials
        self._salvos = salvos
        self.elapsed_s = elapsed_s
        self._summary: pd.DataFrame | None = None
        self.precision: Precision | None = None  # set by simulate(..., precision=...)

    @property
    def dollar_year(self) -> int:
        """The constant dollars of every cost in this result's tables (their unit reads
        ``USD``): the scenario's ``dollar_year``."""
        return self.scenario.scenario.dollar_year

    @property
    def trials(self) -> pd.DataFrame:
        """One row per trial (only when simulated with ``keep_trials=True``).

        A column holds a trial's value; the summary's measure of the same name is its
        mean, except where a per-trial value and its mean read differently: ``leaked``
        (threats that leaked in the trial) gives the summary's ``leakers`` (its mean) and
        ``p_any_leak`` (the share of trials with ``leaked > 0``); ``ship_lost`` (0 or 1)
        gives ``p_ship_lost``; ``laser_available`` (salvos the laser could fire) gives
        ``laser_available_<laser>`` (its share of salvos). Ratios (cost per kill, the
        cost-exchange ratios) are ratios of the columns' means, not means of per-trial
        ratios, and have no column."""
        if self._trials is None:
            raise InputError(
                "this result kept no per-trial table (simulated with keep_trials=False); "
                "its summary() is complete"
            )
        return self._trials

    @property
    def salvos(self) -> pd.DataFrame:
        """Campaigns: one row per (trial, salvo), kept with ``keep_trials=True``."""
        if self._salvos is None:
            raise InputError(
                "this result has no per-salvo table (not a campaign, or simulated with "
                "keep_trials=False)"
            )
        return self._salvos

    @property
    def has_trials(self) -> bool:
        return self._trials is not None

    @property
    def has_salvos(self) -> bool:
        return self._salvos is not None

    @property
    def plot(self) -> SimulationPlots:
        """Figures: ``result.plot.cost_per_kill()``, ``.leakers()``, ``.campaign()``
        (matplotlib Axes; needs ``pip install "costx[plot]"``)."""
        return SimulationPlots(self)

    def summary(self) -> pd.DataFrame:
        """Means with 95 % confidence intervals, one row per measure (see aggregate.py)."""
        if self._summary is None:
            self._summary = summary_table(self.scenario, self.moments)
        return self._summary.copy()

    def tidy(self) -> pd.DataFrame:
        """The summary in long form, one row per measure: ``measure`` (a per-effector,
        per-threat or per-asset measure under the name of the raid-wide one it is part
        of: ``shots``, ``kills``, ``defense_cost_usd``, ``leakers``, ``destroyed``...),
        ``effector``, ``threat``, ``asset``, ``site`` (None when it is about the whole
        raid), ``mean``, ``ci95_low``, ``ci95_high``, ``std_error``, ``unit`` and
        ``name`` (its name in :meth:`summary`). A per-effector table is then
        ``tidy().query("measure == 'kills'")`` or a pivot, with no pattern matching on
        names (costx.aggregate.measure_keys)."""
        return tidy_summary(self.scenario, self.summary())

    def _repr_html_(self) -> str:
        """The headline measures with their intervals, in Jupyter (costx.notebook)."""
        return result_html(self)

    def to_parquet(self, path: str | Path) -> Path:
        """Write the per-trial table (or, without one, the summary) atomically to ``path``.

        The file's metadata holds the scenario (TOML), seed, trials, costx version, the
        summary and the moments; :func:`costx.read_result` reads it back.
        """
        return write_result(self, as_file_path(path, "path"))

    def __repr__(self) -> str:
        s = self.summary()
        return (
            f"<SimulationResult {self.scenario.name!r}: {self.n_trials:,} trials, seed "
            f"{self.seed}; leakers {s.loc['leakers', 'mean']:.3f}, cost per kill "
            f"${s.loc['cost_per_kill_usd', 'mean']:,.0f}>"
        )


def simulate(
    scenario: ScenarioLike,
    trials: int = 100_000,
    seed: int = 0,
    *,
    keep_trials: bool = True,
    threads: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    block_trials: int = BLOCK_TRIALS,
    precision: float | None = None,
    measure: str | None = None,
) -> SimulationResult:
    """Simulate ``trials`` independent raids (or campaigns of raids) of a scenario.

    Parameters
    ----------
    scenario
        A Scenario, a path, a mapping or a bundled scenario name (see ``load_scenario``).
    trials
        Number of Monte Carlo trials; with ``precision``, the most trials to run.
    seed
        Randomness enters only here: the same seed gives bit-identical results for any
        thread count or chunking, and trial i of a long run equals trial i of a short one.
    keep_trials
        Keep the per-trial table (and, for campaigns, the per-salvo table); False
        aggregates block by block in constant memory.
    threads
        Numba threads for this call (None: Numba's current setting).
    progress
        A callable ``progress(done, total)``, or None. It is called after each kernel
        call, and the calls are sized to last about half a second each so that a
        progress bar moves (the results do not depend on the sizes). With ``precision``,
        ``total`` is the trial count of the next check (the run may stop there), not
        the cap.
    block_trials
        The most trials per kernel call (memory per block; does not change results).
    precision
        Run to a precision instead of a fixed number of trials: stop at the first check
        at which the 95 % half-width of ``measure`` is at most ``precision`` times the
        absolute value of its mean (or at ``trials``). Checks come at fixed trial counts
        (10,000, then about 1.25 times the last, in whole blocks of 1,024), so the trials
        used, and so every result, depend only on the scenario, the seed and the target.
        ``result.precision`` tells what was reached.
    measure
        The summary measure of ``precision`` (default: the cost-exchange ratio,
        ``cost_exchange_defense_over_attack``).

    Returns
    -------
    SimulationResult
    """
    scenario = load_scenario(scenario)
    trials = check_int("trials", trials, 1, 10**12)
    seed = check_int("seed", seed, 0, MAX_SEED)
    keep_trials = check_flag("keep_trials", keep_trials)
    if progress is not None and not callable(progress):
        raise InputError(f"progress must be a callable progress(done, total) or None, not "
                         f"{progress!r}")  # fmt: skip
    block_trials = capped_block(scenario, check_int("block_trials", block_trials, 1, 10**9))
    target = None
    if precision is not None:
        target = precision_target(scenario, precision, measure)
    elif measure is not None:
        raise InputError("measure= is the measure of precision=; give precision too")

    def check_memory_for(n: int) -> None:
        check_memory(
            estimate_memory_bytes(scenario, n, keep_trials, block_trials),
            f"{scenario.name}: {n:,} trials" + (" with per-trial tables" if keep_trials else ""),
            "keep_trials=False (costx run --summary-only) aggregates in constant memory"
            if keep_trials else "use fewer threat groups, threats or effectors",
        )  # fmt: skip

    # A run to a precision checks before each stretch of trials up to its next check
    # (its trial count is not known in advance; the cap may be far more than it needs).
    check_memory_for(trials if target is None else min(trials, PRECISION_FIRST_CHECK))
    plan = Lowered(scenario, trials=trials)
    checks = precision_checks(trials) if target is not None else iter(())
    check_at = next(checks, trials)
    raw_all = plan.allocate(trials) if keep_trials and target is None else None
    blocks: list[RawTrials] = []  # kept blocks of a run to a precision (length unknown)
    moments = Moments.empty(moment_columns(scenario))
    sizer = _BlockSizer(block_trials, progress is not None)
    reached = None
    warned = False  # the warning of a measure whose mean is 0 (once)
    started = time.perf_counter()
    done = 0
    with numba_threads(threads):
        while done < trials:
            n = min(sizer.next(), trials - done, check_at - done)
            tick = time.perf_counter()
            if raw_all is not None:
                raw = plan.run(done, n, seed, raw_all.rows(done, n))
            else:
                raw = plan.run(done, n, seed)
                if keep_trials:
                    blocks.append(raw)
            sizer.took(n, time.perf_counter() - tick)
            moments = moments + Moments.of(trial_integers(scenario, raw))
            done += n
            if progress is not None:  # to a precision: toward the next check, not the cap
                progress(done, trials if target is None else check_at)
            if target is not None and done == check_at:
                reached = target.check(summary_table(scenario, moments), done)
                if reached.reached:
                    break
                stalled = None if warned else reached.zero_mean_warning(scenario.name, trials)
                if stalled is not None:
                    warnings.warn(stalled, CostxWarning, stacklevel=2)
                    warned = True
                check_at = next(checks, trials)
                check_memory_for(check_at)
    elapsed = time.perf_counter() - started
    if blocks:
        raw_all = plan.allocate(done)
        first = 0
        for raw in blocks:
            rows = raw_all.rows(first, raw.leaked.shape[0])
            for name in RawTrials.FIELDS:
                part = getattr(rows, name)
                if part is not None:
                    part[...] = getattr(raw, name)
            first += raw.leaked.shape[0]
    frame = salvos = None
    if keep_trials:
        frame = trials_frame(scenario, 0, raw_all, trial_integers(scenario, raw_all))
        if scenario.campaign is not None:
            salvos = salvos_frame(scenario, 0, raw_all)
    result = SimulationResult(scenario, seed, done, moments, frame, elapsed, salvos)
    result.precision = reached
    return result


class _BlockSizer:
    """Trials per kernel call: ``block_trials``, or with a progress bar a size that
    takes about PROGRESS_EVERY_S at the speed measured so far (results do not depend on
    it: draws are keyed by trial and moments are exact integer sums)."""

    def __init__(self, block_trials: int, paced: bool):
        self.limit = block_trials
        self.paced = paced
        self.size = min(block_trials, FIRST_PROGRESS_BLOCK) if paced else block_trials

    def next(self) -> int:
        return self.size

    def took(self, n: int, seconds: float) -> None:
        if not self.paced:
            return
        rate = n / max(seconds, 1e-6)
        # Round to whole parallel tasks; at most double from one call to the next (the
        # first call includes compilation and says nothing about the speed).
        want = int(rate * PROGRESS_EVERY_S) // 256 * 256
        self.size = max(256, min(self.limit, want, 2 * max(n, 256)))


# -- limits checked before any work starts ----------------------------------------------


def available_memory_bytes() -> int | None:
    """Memory this process may still use: Linux's MemAvailable (free memory plus what the
    kernel can reclaim), else the free physical pages (os.sysconf), capped by a cgroup v2
    limit (containers); None where none of these can be read (no check then)."""
    found = None
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    found = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        pass
    if found is None:
        try:
            found = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, ValueError, OSError):
            try:
                found = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
            except (AttributeError, ValueError, OSError):
                return None
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = Path("/sys/fs/cgroup/memory.current").read_text().strip()
        if limit != "max":
            found = min(found, max(int(limit) - int(used), 0))
    except (OSError, ValueError):
        pass
    return found


def format_bytes(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def raw_bytes_per_trial(scenario: Scenario) -> int:
    """Bytes of kernel output per trial (RawTrials): per salvo, leakers per group and
    shots, kills, availability and rounds left per effector; with a base, damage; with a
    ship, its hits and loss."""
    salvos = n_salvos(scenario)
    raw = salvos * (len(scenario.threats) * 4 + len(scenario.effectors) * 13)
    if scenario.base is not None:
        assets = len(scenario.base.assets)
        raw += salvos * (assets * 4 + 8) + scenario.base.dispersal_sites * assets * 4
    if scenario.ship is not None:
        raw += salvos * 5  # hits (int32) and lost (uint8) per salvo
    return raw


def capped_block(scenario: Scenario, block_trials: int) -> int:
    """Trials per kernel call, at most ``BLOCK_BYTES`` of output: a 1000-salvo campaign
    gets blocks of about 2,600 trials, so that a summary-only run stays small. Results do
    not depend on the block size."""
    return max(1, min(block_trials, BLOCK_BYTES // max(1, raw_bytes_per_trial(scenario))))


def check_memory(need: int, what: str, advice: str) -> None:
    """Refuse work whose estimated memory exceeds what this machine has available."""
    have = available_memory_bytes()
    if have is not None and need > have:
        raise InputError(
            f"{what} need about {format_bytes(need)} of memory, more than the "
            f"{format_bytes(have)} available here; {advice}"
        )


def estimate_memory_bytes(
    scenario: Scenario, trials: int, keep_trials: bool, block_trials: int = BLOCK_TRIALS
) -> int:
    """Estimated peak memory of ``simulate`` (bytes): the kernels' working arrays per
    thread, the per-block outputs and, with ``keep_trials``, the kept per-trial and
    per-salvo tables (kernel outputs, the integer columns, the pandas tables and the Arrow
    copies made while writing them); it errs on the high side (by about 1.6 for the
    bundled scenarios, measured with ``resource.getrusage``)."""
    salvos = n_salvos(scenario)
    groups, effectors = len(scenario.threats), len(scenario.effectors)
    threats = max((sum(row) for row in scenario.salvo_counts()), default=0)
    block_trials = capped_block(scenario, block_trials)
    # Kernel scratch per thread: per (effector, threat) an int32 count, an int64 link,
    # (cost_aware) two float64 of plan and (cost_aware, preferential) two of memo, and
    # about ten per-threat arrays; with a railgun with drag the caches of flight times
    # (each at most FLIGHT_BYTES); once, the lasers' tables.
    scratch = threats * (effectors * 44 + 80)
    if any(getattr(e, "ballistic_coefficient_kg_m2", None) is not None for e in scenario.effectors):
        scratch += 2 * FLIGHT_BYTES
    tables = groups * effectors * 8 * 130
    threads = numba.config.NUMBA_NUM_THREADS
    raw = raw_bytes_per_trial(scenario)
    columns = len(moment_columns(scenario))
    block = min(block_trials, trials) * (raw + columns * 8 * 4)
    need = threads * scratch + tables + block
    if trials >= MEMO_MIN_TRIALS and all(t.arrival != "uniform" for t in scenario.threats):
        need += MEMO_BYTES + 2 * TRACE_BYTES  # the graph of recurring states, the trace
    if keep_trials:
        # The kept kernel outputs, then 8 bytes per table column (the integer columns are
        # views of the outputs, and Arrow shares numeric columns when writing, so this
        # errs on the high side: measured peaks are 0.6 to 0.7 of the estimate).
        base = scenario.base
        sites = None if base is None else (base.dispersal_sites, len(base.assets))
        one = RawTrials.allocate(
            1, salvos, groups, effectors, sites, ship=scenario.ship is not None
        )
        per_trial = raw + 8 * len(
            trials_frame(scenario, 0, one, trial_integers(scenario, one)).columns
        )
        if scenario.campaign is not None:
            per_trial += 8 * salvos * len(salvos_frame(scenario, 0, one).columns)
        need += trials * per_trial
    return int(need)


def memo_eligible(arrays) -> bool:
    """Whether a lowered scenario's trials can be memoized: no arrival time is drawn
    (``stream`` and ``simultaneous`` arrivals only), so that a trial is a function of its
    draws' outcomes alone (kernels/memo.py)."""
    random = arrays.threat_i[:, 0] == ARRIVAL_UNIFORM
    return not bool((arrays.counts[:, random] > 0).any())


def memo_pack_bounds(arrays, pack_bounds=None) -> np.ndarray:
    """The bounds of the replay's packed counts (``kernels.memo.pack_bounds``) for a
    lowered scenario's arrays (``pack_bounds``: that function, or a stand-in)."""
    eff_i = arrays.eff_i
    return (pack_bounds or kmemo.pack_bounds)(
        arrays.counts, eff_i[:, EI_KIND] == KIND_LASER, eff_i[:, EI_ROUNDS],
        eff_i[:, EI_MAX_ENGAGEMENTS], eff_i[:, EI_CHANNELS], eff_i[:, EI_SALVO],
    )  # fmt: skip


class _Memo:
    """The graph of recurring states of one lowered scenario, and when to use it.

    Trials run in stretches (the first MEMO_FIRST trials, each next stretch twice as long,
    up to the caller's block): all threads replay the stretch through the graph and mark
    the trials that leave it, then one thread plays and records those (after each one it
    records, the next may replay). Until a stretch serves (at most MEMO_SERVES of it
    leaves the graph), at least MEMO_MERGES of the states it recorded must have been in
    the graph already; otherwise the states do not recur (or the graph is full) and it
    gives up for the rest of the run. None of this changes a result: only which trials
    the engine plays, and on how many threads.
    """

    def __init__(self, arrays):
        n_eff = arrays.eff_i.shape[0]
        n_groups = arrays.threat_i.shape[0]
        max_ch = max(1, int(arrays.eff_i[:, 2].max(initial=1)))
        threats = int(arrays.counts.sum(axis=1).max(initial=0))
        length = canon_length(n_eff, max_ch, threats)
        width = 1 + 2 * n_eff + n_groups  # node, key, threshold, delta, outs, rep, repd:
        node_bytes = 8 * (4 + 2 + 2 * width + n_groups + 2 * n_eff + kmemo.R_WIDTH + 2 * width)
        self.graph = kmemo.new_graph(
            n_groups, n_eff, length,
            max_states=max(16, MEMO_BYTES // 2 // (8 * length + 16)),
            max_nodes=max(64, MEMO_BYTES // 2 // node_bytes),
            bounds=memo_pack_bounds(arrays),
            steps=int(arrays.max_events.max(initial=0)),
        )  # fmt: skip
        salvos = arrays.counts.shape[0]
        events = min(TRACE_EVENTS, int(2 * arrays.max_events.sum()) + 2 * salvos)
        rows = max(1, min(events, TRACE_BYTES // (8 * length)))
        self.trace = kmemo.new_trace(salvos, n_groups, n_eff, length, events, rows, self.graph)
        self.stretch = MEMO_FIRST  # trials of the next stretch
        self.serving = False
        self.off = False
        self.seen = self.merged = 0  # state points recorded, and found in the graph
        self.trials = 0  # trials played through here
        self.missed = 0  # of which the engine played

    def after(self, n: int, missed: int) -> None:
        """Decide how to go on after a stretch of ``n`` trials, ``missed`` of which left
        the graph (a stretch shorter than planned, the end of a call, only counts)."""
        self.trials += n
        self.missed += missed
        meta = self.graph.meta
        seen = int(meta[kmemo.M_SEEN]) - self.seen
        merged = int(meta[kmemo.M_MERGED]) - self.merged
        if self.serving or n < self.stretch:
            return
        self.seen, self.merged = int(meta[kmemo.M_SEEN]), int(meta[kmemo.M_MERGED])
        if missed <= n * MEMO_SERVES:
            self.serving = True
        elif meta[kmemo.M_FULL] or merged < seen * MEMO_MERGES:
            self.off = True
        self.stretch *= 2

    def stats(self) -> dict:
        m = self.graph.meta
        return {
            "on": not self.off, "trials": self.trials, "missed": self.missed,
            "nodes": int(m[kmemo.M_NODES]), "states": int(m[kmemo.M_STATES]),
            "full": bool(m[kmemo.M_FULL]), "packed": bool(self.graph.pack[kmemo.P_ON]),
            "steps_packed": bool(self.graph.pack[kmemo.P_ON] and self.graph.pack[kmemo.P_SMASK]),
            "seen": int(m[kmemo.M_SEEN]), "skipped": int(m[kmemo.M_SKIPPED]),
        }  # fmt: skip


class Lowered:
    """A scenario lowered to kernel arrays, ready to simulate any range of trials.

    ``memo``: replay recurring states (kernels/memo.py) where the scenario allows it
    (``memo_eligible``). None: when the caller expects at least MEMO_MIN_TRIALS
    ``trials`` (learning the graph takes a few thousand trials on one thread, which only
    a long run repays) and the environment variable COSTX_MEMO is not 0. Results are the
    same either way.
    """

    def __init__(self, scenario: Scenario, memo: bool | None = None, trials: int = 0):
        self.scenario = scenario
        self.arrays = lower(scenario)
        self.base = lower_base(scenario)
        self.ship = lower_ship(scenario)
        self.shape = (
            self.arrays.counts.shape[0],
            len(scenario.threats),
            len(scenario.effectors),
            None if self.base is None else self.base.site_assets.shape,
        )
        if memo is None:
            memo = trials >= MEMO_MIN_TRIALS and os.environ.get("COSTX_MEMO", "1") != "0"
        self._memo_wanted = memo and memo_eligible(self.arrays)
        self._memo: _Memo | None = None
        self._no_graph = kmemo.empty_graph(len(scenario.threats), len(scenario.effectors))
        self._no_trace = kmemo.new_trace(1, len(scenario.threats), len(scenario.effectors), 1, 1, 1)

    @property
    def memo(self) -> _Memo | None:
        """The graph and its statistics (allocated on first use; None when not wanted)."""
        if self._memo is None and self._memo_wanted:
            self._memo = _Memo(self.arrays)
        return self._memo

    def check_event_cap(self, first: int, overrun: np.ndarray) -> None:
        """A salvo that passed its bound on event steps (``overrun[i]`` = salvo + 1) is a
        kernel bug: raise EventCapError naming the trial, the salvo and the bound."""
        bad = np.flatnonzero(overrun)
        if len(bad):
            i = int(bad[0])
            s = int(overrun[i]) - 1
            cap = int(self.arrays.max_events[s])
            raise EventCapError(
                f"internal error: {self.scenario.source} ({self.scenario.name}): trial "
                f"{first + i}, salvo {s}: the engagement kernel passed its bound of {cap:,} "
                f"event steps without finishing the salvo ({len(bad):,} trials affected; "
                'docs/model.md, "Event bound"); please report this with the scenario file'
            )

    def check_conservation(self, first: int, out: RawTrials) -> None:
        """Every threat of every salvo is killed once or leaks: kills + leakers = threats
        in each trial and salvo. A violation is a bug (InternalError naming the scenario),
        never silently passed on to the tables."""
        launched = self.arrays.counts.sum(axis=1)
        done = out.kills.sum(axis=2, dtype=np.int64) + out.leaked.sum(axis=2, dtype=np.int64)
        bad = np.argwhere(done != launched[None, :])
        if len(bad):
            i, s = (int(v) for v in bad[0])
            raise InternalError(
                f"internal error: {self.scenario.source} ({self.scenario.name}): trial "
                f"{first + i}, salvo {s}: {int(out.kills[i, s].sum())} kills + "
                f"{int(out.leaked[i, s].sum())} leakers != {int(launched[s])} threats "
                f"({len(bad):,} trial-salvos affected); please report this with the "
                "scenario file"
            )

    def allocate(self, n: int) -> RawTrials:
        return RawTrials.allocate(n, *self.shape, ship=self.ship is not None)

    def _engage(self, first: int, n: int, seed: int, out: RawTrials, overrun) -> None:
        """The engagement kernel on trials first .. first + n - 1, through the graph of
        recurring states while it is on (``_Memo``: stretches replayed on all threads, the
        trials that left the graph then played and recorded on one)."""
        memo = self.memo
        pos = 0
        while pos < n:
            if memo is None or memo.off:
                modes, m, graph, trace = (0,), n - pos, self._no_graph, self._no_trace
            else:
                modes = (2, 3)
                m = n - pos if memo.serving else min(memo.stretch, n - pos)
                graph, trace = memo.graph, memo.trace
            rows = slice(pos, pos + m)
            missed = np.zeros(m, np.uint8)
            for mode in modes:
                kernel = (simulate_trials, None, replay_trials, record_trials)[mode]
                kernel(
                    first + pos, np.uint64(seed), *self.arrays.kernel_args(), overrun[rows],
                    out.leaked[rows], out.shots[rows], out.kills[rows], out.avail[rows],
                    out.rounds_end[rows], mode, graph, trace, missed,
                )  # fmt: skip
            if memo is not None and not memo.off:
                error = int(graph.meta[kmemo.M_ERROR])
                if error:
                    raise InternalError(
                        f"internal error: {self.scenario.source} ({self.scenario.name}): "
                        f"trial {first + pos}: the graph of recurring states disagreed with "
                        f"the engine (code {error}); please report this with the scenario "
                        "file (COSTX_MEMO=0 runs without it)"
                    )
                memo.after(m, int(np.count_nonzero(missed == 2)))
            pos += m

    def run(self, first: int, n: int, seed: int, raw: RawTrials | None = None) -> RawTrials:
        """Simulate trials ``first .. first + n - 1`` (copied into ``raw`` if given).

        The kernels always get freshly allocated row-major arrays: a view into a larger
        table, or a column-major array, can have another Numba type (layout 'A' or 'F'
        instead of 'C') and would compile, and cache, every kernel a second time.
        """
        out = RawTrials.allocate(n, *self.shape, order="C", ship=self.ship is not None)
        overrun = np.zeros(n, np.int64)
        self._engage(first, n, seed, out, overrun)
        self.check_event_cap(first, overrun)
        self.check_conservation(first, out)
        if self.base is not None:
            damage_trials(
                first, np.uint64(seed), self.arrays.counts, out.leaked, *self.base.kernel_args(),
                out.destroyed, out.site_destroyed, out.closed_min,
            )  # fmt: skip
        if self.ship is not None:
            ship_trials(
                first, np.uint64(seed), out.leaked, *self.ship.kernel_args(),
                out.ship_hits, out.ship_lost,
            )  # fmt: skip
        if raw is None:
            return out
        for name in RawTrials.FIELDS:
            target = getattr(raw, name)
            if target is not None:
                target[...] = getattr(out, name)
        return raw
