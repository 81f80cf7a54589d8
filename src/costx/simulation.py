"""The simulation API: ``simulate(scenario, trials, seed) -> SimulationResult``."""

from __future__ import annotations

import contextlib
import operator
import time
from collections.abc import Iterator
from pathlib import Path

import numba
import numpy as np
import pandas as pd

from costx.aggregate import (
    Moments,
    RawTrials,
    moment_columns,
    salvos_frame,
    summary_table,
    trial_integers,
    trials_frame,
)
from costx.errors import InputError
from costx.kernels.damage import damage_trials, ship_trials
from costx.kernels.engagement import simulate_trials
from costx.lowering import lower, lower_base, lower_ship
from costx.scenario import Scenario, load_scenario

BLOCK_TRIALS = 131_072  # trials per kernel call; results do not depend on it
MAX_SEED = 2**64 - 1


def _check_int(name: str, value, low: int, high: int) -> int:
    try:
        value = operator.index(value)
    except TypeError:
        raise InputError(f"{name} must be an integer, not {value!r}") from None
    if not low <= value <= high:
        raise InputError(f"{name} must be between {low:,} and {high:,}, not {value:,}")
    return value


@contextlib.contextmanager
def numba_threads(threads: int | None) -> Iterator[None]:
    """Run with ``threads`` Numba threads (None: leave the setting as it is)."""
    if threads is None:
        yield
        return
    limit = numba.config.NUMBA_NUM_THREADS
    threads = _check_int("threads", threads, 1, limit)
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

    @property
    def trials(self) -> pd.DataFrame:
        """One row per trial (only when simulated with ``keep_trials=True``)."""
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
    def plot(self):
        """Figures: ``result.plot.cost_per_kill()``, ``.leakers()``, ``.campaign()``
        (matplotlib Axes; needs ``pip install "costx[plot]"``)."""
        from costx.plotting import SimulationPlots

        return SimulationPlots(self)

    def summary(self) -> pd.DataFrame:
        """Means with 95 % confidence intervals, one row per measure (see aggregate.py)."""
        if self._summary is None:
            self._summary = summary_table(self.scenario, self.moments)
        return self._summary.copy()

    def to_parquet(self, path: str | Path) -> Path:
        """Write the per-trial table (or, without one, the summary) atomically to ``path``.

        The file's metadata holds the scenario (TOML), seed, trials, costx version, the
        summary and the moments; :func:`costx.read_result` reads it back.
        """
        from costx.io import write_result

        return write_result(self, Path(path))

    def __repr__(self) -> str:
        s = self.summary()
        return (
            f"<SimulationResult {self.scenario.name!r}: {self.n_trials:,} trials, seed "
            f"{self.seed}; leakers {s.loc['leakers', 'mean']:.3f}, cost per kill "
            f"${s.loc['cost_per_kill_usd', 'mean']:,.0f}>"
        )


def simulate(
    scenario,
    trials: int = 100_000,
    seed: int = 0,
    *,
    keep_trials: bool = True,
    threads: int | None = None,
    progress=None,
    block_trials: int = BLOCK_TRIALS,
) -> SimulationResult:
    """Simulate ``trials`` independent raids (or campaigns of raids) of a scenario.

    Parameters
    ----------
    scenario
        A Scenario, a path, a mapping or a bundled scenario name (see ``load_scenario``).
    trials
        Number of Monte Carlo trials.
    seed
        Randomness enters only here: the same seed gives bit-identical results for any
        thread count or chunking, and trial i of a long run equals trial i of a short one.
    keep_trials
        Keep the per-trial table (and, for campaigns, the per-salvo table); False
        aggregates block by block in constant memory.
    threads
        Numba threads for this call (None: Numba's current setting).
    progress
        A callable ``progress(done, total)`` called after each block, or None.
    block_trials
        Trials per kernel call (memory per block; does not change results).

    Returns
    -------
    SimulationResult
    """
    scenario = load_scenario(scenario)
    trials = _check_int("trials", trials, 1, 10**12)
    seed = _check_int("seed", seed, 0, MAX_SEED)
    block_trials = _check_int("block_trials", block_trials, 1, 10**9)
    plan = Lowered(scenario)
    raw_all = plan.allocate(trials) if keep_trials else None
    moments = Moments.empty(moment_columns(scenario))
    started = time.perf_counter()
    with numba_threads(threads):
        for first in range(0, trials, block_trials):
            n = min(block_trials, trials - first)
            raw = plan.run(first, n, seed, raw_all.rows(first, n) if keep_trials else None)
            moments = moments + Moments.of(trial_integers(scenario, raw))
            if progress is not None:
                progress(first + n, trials)
    elapsed = time.perf_counter() - started
    frame = salvos = None
    if keep_trials:
        frame = trials_frame(scenario, 0, raw_all, trial_integers(scenario, raw_all))
        if scenario.campaign is not None:
            salvos = salvos_frame(scenario, 0, raw_all)
    return SimulationResult(scenario, seed, trials, moments, frame, elapsed, salvos)


class Lowered:
    """A scenario lowered to kernel arrays, ready to simulate any range of trials."""

    def __init__(self, scenario: Scenario):
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

    def allocate(self, n: int) -> RawTrials:
        return RawTrials.allocate(n, *self.shape, ship=self.ship is not None)

    def run(self, first: int, n: int, seed: int, raw: RawTrials | None = None) -> RawTrials:
        """Simulate trials ``first .. first + n - 1`` (copied into ``raw`` if given).

        The kernels always get freshly allocated row-major arrays: a view into a larger
        table, or a column-major array, can have another Numba type (layout 'A' or 'F'
        instead of 'C') and would compile, and cache, every kernel a second time.
        """
        out = RawTrials.allocate(n, *self.shape, order="C", ship=self.ship is not None)
        simulate_trials(
            first, np.uint64(seed), *self.arrays.kernel_args(),
            out.leaked, out.shots, out.kills, out.avail, out.rounds_end,
        )  # fmt: skip
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
        for name in ("leaked", "shots", "kills", "avail", "rounds_end", "destroyed",
                     "site_destroyed", "closed_min", "ship_hits", "ship_lost"):  # fmt: skip
            target = getattr(raw, name)
            if target is not None:
                target[...] = getattr(out, name)
        return raw
