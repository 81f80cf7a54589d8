"""Sweeps: one scenario simulated over a grid of parameter values.

``sweep(scenario, grid, trials, seed)`` runs every grid point with the same seed, so all
points share their random numbers wherever their events coincide (common random
numbers), and returns a :class:`SweepResult` with one summary row per point and paired
differences against a baseline point.

Grid paths are dotted paths into the scenario with list items addressed by name:
``effectors.sm2.rounds``, ``threats.owa_drone.count``, ``base.assets.f35a.sheltered``,
``base.dispersal_sites``, ``scenario.policy``. ``grid`` is either a mapping of paths to
value lists (their Cartesian product) or a list of cases (mappings of paths to values).
Every point is built and validated before anything runs.

Results are exact integer moments per point (and cross-moments with the baseline), so a
sweep gives bit-identical tables whether it runs locally or on a Dask cluster, in one go
or resumed after an interruption.

With ``precision=`` every point runs to a precision of its own, as ``simulate`` does: in
stretches up to the same fixed trial counts (10,000, then about 1.25 times the last), it
stops at the first at which the 95 % half-width of ``measure`` is at most that fraction
of the point's mean, or at ``trials``. A point's trials therefore depend only on its
scenario, the seed and the target, whatever the backend, chunking or resumption.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import itertools
import json
import math
import os
import socket
import time
import tomllib
import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from costx import bundled, formatting
from costx._version import version
from costx.aggregate import (
    PRECISION_CAP,
    PRECISION_FIRST_CHECK,
    PRECISION_MEASURE,
    Moments,
    Precision,
    PrecisionTarget,
    RawTrials,
    is_campaign,
    measures,
    moment_columns,
    n_salvos,
    paired_difference_table,
    precision_checks,
    precision_value,
    salvos_frame,
    summary_table,
    tidy_summary,
    trial_integers,
    trials_frame,
    unknown_measure,
)
from costx.catalog import load_catalog
from costx.errors import CostxError, InputError, Problem, ScenarioError, check_flag, check_int
from costx.io import (
    LEGACY_MANIFEST,
    POINT_FILE_PATTERN,
    WrittenThenInterrupted,
    as_path,
    check_not_in_sweep,
    environment_metadata,
    is_sweep_layout,
    make_folder,
    read_table_verified,
    remove_folders,
    write_table_atomic,
)
from costx.notebook import sweep_html
from costx.plotting import SweepPlots
from costx.scenario import (
    MAX_DOLLAR_YEAR,
    CostxWarning,
    Scenario,
    ScenarioLike,
    load_scenario,
    parse_toml,
    python_values,
    read_scenario_data,
    read_toml_file,
    scenario_from_mapping,
)

if TYPE_CHECKING:
    import xarray

BLOCK_TRIALS = 65_536
MAX_TRIALS = 10**12  # trials of a point (simulate's bound)
POINT_FILE = "point-{index:0{width}d}.parquet"  # one file per point, flat in the folder
LOCK = "_costx_sweep.lock"
SWEEP_FORMAT = "costx.sweep/2"
# The layout before costx.sweep/2: a JSON manifest in the folder (which polars cannot
# read past) and hive partitions point=NNNN/part-0.parquet with long summaries. Read
# for old folders; never written.
LEGACY_POINT = "point={:04d}/part-0.parquet"
LEGACY_FORMAT = "costx.sweep/1"
# The manifest: what makes two runs the same sweep (its fingerprint decides whether a
# folder may be resumed). Every point file carries it in its metadata.
MANIFEST_KEYS = ("format", "costx_version", "scenario_toml", "provenance", "points", "seed",
                 "trials", "baseline", "keep_trials")  # fmt: skip
# ... and, in the manifest of a sweep run to a precision only, its target and measure
# (``trials`` is then each point's cap): the manifests of other sweeps, and so the
# fingerprints of folders written before precision=, stay as they were.
PRECISION_KEYS = ("precision", "measure")
SCHEDULER_TIMEOUT_S = 10  # how long to try to reach a Dask scheduler


class SweepInterrupted(KeyboardInterrupt):
    """A sweep writing to a folder was interrupted: ``saved`` of ``total`` points are in
    ``folder``, and rerunning the same sweep there resumes."""

    def __init__(self, saved: int, total: int, folder: Path):
        super().__init__()
        self.saved, self.total, self.folder = saved, total, folder


# -- grid ---------------------------------------------------------------------------------


def expand_grid(grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]]) -> list[dict]:
    """The grid's points: the Cartesian product of a mapping, or the list of cases."""
    if isinstance(grid, Mapping):
        if not grid:
            raise InputError("grid: give at least one path with a list of values")
        paths = list(grid)
        for path in paths:
            values = grid[path]
            if isinstance(values, str | bytes) or not isinstance(values, Sequence):
                raise InputError(f"grid[{path!r}]: expected a list of values, got {values!r}")
            if len(values) == 0:
                raise InputError(f"grid[{path!r}]: the list of values is empty")
        check_grid_size(math.prod(len(grid[path]) for path in paths), grid)
        return [dict(zip(paths, combo, strict=True)) for combo in itertools.product(*grid.values())]
    if isinstance(grid, Sequence) and not isinstance(grid, str | bytes):
        for i, case in enumerate(grid):
            if not isinstance(case, Mapping):
                raise InputError(f"cases[{i}]: expected a table of path = value, got {case!r}")
        points = [dict(case) for case in grid]
        if not points:
            raise InputError("grid: the list of cases is empty")
        keys = set(points[0])
        for i, case in enumerate(points):
            if set(case) != keys:
                raise InputError(
                    f"grid[{i}]: every case must set the same paths ({', '.join(sorted(keys))})"
                )
        return points
    raise InputError("grid: expected a mapping of path to values or a list of cases")


MAX_GRID_POINTS = 1_000_000


def check_grid_size(n_points: int, grid: Mapping[str, Sequence[Any]]) -> None:
    """Refuse a grid too large to expand before expanding it (every point is a validated
    scenario in memory; a sweep of 10 paths of 10 values has 10 billion)."""
    if n_points > MAX_GRID_POINTS:
        sizes = " x ".join(str(len(v)) for v in grid.values())
        raise InputError(
            f"grid: {n_points:,} points ({sizes} values); at most {MAX_GRID_POINTS:,}: sweep "
            "fewer paths or values, or list the points you need as [[cases]]"
        )


def grid_size(grid) -> int:
    """The number of points of a grid, without expanding it."""
    if isinstance(grid, Mapping):
        return math.prod(len(v) if isinstance(v, Sequence) else 1 for v in grid.values())
    return len(grid) if isinstance(grid, Sequence) else 0


def python_grid(grid: Any) -> Any:
    """A grid given to :func:`sweep` in Python as a grid read from a sweep file: its paths
    must be text; a 1-D numpy array or pandas Series or Index of values is a list; numpy
    scalars are Python's; a DataFrame is a list of cases, one a row (its columns the
    paths). Anything else is left as it is, for :func:`expand_grid`."""
    hint = "give a dotted path such as effectors.sm2.rounds"
    if isinstance(grid, pd.DataFrame):
        grid = grid.to_dict("records")
    if isinstance(grid, Mapping):
        out: dict[str, Any] = {}
        for path, values in grid.items():
            if not isinstance(path, str):
                raise InputError(f"grid: path {path!r} is not text; {hint}")
            if isinstance(values, np.ndarray | pd.Series | pd.Index):
                if values.ndim != 1:
                    raise InputError(
                        f"grid[{path!r}]: expected a list of values, got a "
                        f"{values.ndim}-D array of shape {values.shape}"
                    )
                values = values.tolist()
            if isinstance(values, list | tuple):  # a range stays one (Python ints)
                values = [python_values(v) for v in values]
            out[path] = values
        return out
    if isinstance(grid, Sequence) and not isinstance(grid, str | bytes):
        cases: list[Any] = []
        for i, case in enumerate(grid):
            if isinstance(case, Mapping):
                for path in case:
                    if not isinstance(path, str):
                        raise InputError(f"grid[{i}]: path {path!r} is not text; {hint}")
                case = {path: python_values(v) for path, v in case.items()}
            cases.append(case)
        return cases
    return grid


def check_sweep_limits(scenario: Scenario, grid, trials: int, keep_trials: bool) -> None:
    """Refuse, before anything is expanded or run, a sweep whose grid has more than
    ``MAX_GRID_POINTS`` points or whose estimated memory exceeds what this machine has:
    every point is a validated scenario in memory (about 16 bytes per character of its
    TOML; measured 11 to 13 for the bundled scenarios), one point runs at a time, and
    with ``keep_trials`` every point's per-trial table is kept."""
    # Lazy, here and below: costx.simulation imports Numba and the kernels (about 0.6 s),
    # which `costx validate` of a sweep file and reading a sweep folder never need.
    from costx.simulation import BLOCK_TRIALS as SIM_BLOCK
    from costx.simulation import check_memory, estimate_memory_bytes

    n = grid_size(grid)
    if isinstance(grid, Mapping):
        check_grid_size(n, grid)
    run = estimate_memory_bytes(scenario, trials, False, min(BLOCK_TRIALS, SIM_BLOCK))
    need = n * 16 * len(scenario.to_toml()) + 2 * run
    advice = "sweep fewer points or fewer trials"
    if keep_trials:
        kept = estimate_memory_bytes(scenario, trials, True) - estimate_memory_bytes(
            scenario, trials, False
        )
        need += n * kept
        advice = "drop keep_trials (--keep-trials), or sweep fewer points or fewer trials"
    check_memory(need, f"{scenario.name}: a sweep of {n:,} points x {trials:,} trials", advice)


def _describe(point: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in point.items())


def set_path(data: dict, path: str, value: Any, entry: str) -> None:
    """Set a dotted path in scenario data; list items are addressed by their name."""
    parts = path.split(".")
    node: Any = data
    walked: list[str] = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            names = [item.get("name") for item in node if isinstance(item, dict)]
            matches = [item for item in node if isinstance(item, dict) and item.get("name") == part]
            if not matches:
                where = ".".join(walked)
                raise InputError(
                    f"{entry}: no {where} named {part!r} (names: {', '.join(map(str, names))})"
                )
            if last:
                raise InputError(f"{entry}: {path} names a whole list item; add a field")
            node = matches[0]
        elif isinstance(node, dict):
            if last:
                node[part] = copy.deepcopy(value)
                return
            if part not in node:
                node[part] = {}
            node = node[part]
        else:
            raise InputError(f"{entry}: {'.'.join(walked)} is a value, not a table or a list")
        walked.append(part)


def parse_assignment(text: str) -> tuple[str, Any]:
    """``PATH=VALUE`` (a ``--set`` option) as (path, value): the value is read as a TOML
    value (``64``, ``0.5``, ``true``, ``"text"``, ``[1, 2]``, ``{drone = 0.7}``), and
    text that is not one is taken as a string (``scenario.policy=cost_aware``)."""
    path, sep, raw = text.partition("=")
    path, raw = path.strip(), raw.strip()
    if not sep or not path or not raw:
        raise InputError(f"expected PATH=VALUE, got {text!r}")
    if any(not part for part in path.split(".")):
        raise InputError(f"{path}: a dotted path such as effectors.sm2.rounds")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return path, value


def load_scenario_with(
    source: str | Path, overrides: Mapping[str, Any], dollar_year: int | None = None
) -> Scenario:
    """Load a scenario file (a path or a bundled name) with ``overrides`` (dotted path ->
    value, list items by name as in sweep grids) set in its data before it is validated:
    exactly as if the file said so, so a cost is in the file's dollars and a field the
    catalog would fill in is the file's own. Provenance marks those paths
    ``{"from": "--set"}``. Errors name the file and say it was changed by --set."""
    data, label = read_scenario_data(source)
    if not overrides:
        return scenario_from_mapping(data, label, dollar_year)
    for path, value in overrides.items():
        set_path(data, path, value, f"--set {path}")
    scenario = scenario_from_mapping(data, f"{label} (with --set)", dollar_year)
    provenance = scenario.provenance
    for path in overrides:
        provenance[path] = {**provenance.get(path, {}), "from": "--set"}
    scenario._provenance = provenance
    scenario._source = label
    return scenario


def build_points(scenario: Scenario, points: list[dict], source: str = "sweep") -> list[Scenario]:
    """Validate every point before anything runs; errors name the sweep and the grid entry."""
    base = scenario.to_dict()
    for path, value in points[0].items():  # paths are structural: check them once
        if path.split(".")[-1] == "use":
            raise InputError(
                f"grid[{path!r}]: a grid cannot change which catalog entry an item uses "
                "(its fields are already filled in); sweep the fields themselves, or "
                "give each variant its own scenario file"
            )
        set_path(copy.deepcopy(base), path, value, f"grid[{path!r}]")
    out = []
    # Each problem once, with the points that have it: a mistyped path is in every point
    # (12 points printed the same line 12 times).
    found: dict[tuple, list[int]] = {}
    for i, point in enumerate(points):
        data = copy.deepcopy(base)
        label = f"grid point {i} ({_describe(point)})"
        for path, value in point.items():
            set_path(data, path, value, f"grid[{path!r}]")
        try:
            out.append(scenario_from_mapping(data, label))
        except ScenarioError as err:
            for p in err.problems:  # repr: a value may be a list (unhashable)
                key = (p.path, p.message, repr(p.value), p.show_value)
                found.setdefault(key, (p, []))[1].append(i)
    if found:
        problems = []
        for p, where in found.values():
            if len(where) == 1:
                i = where[0]
                problems.append(Problem(f"grid point {i} ({_describe(points[i])}): {p.path}",
                                        p.message, p.value, p.show_value))  # fmt: skip
            elif len(where) == len(points):
                problems.append(Problem(f"every grid point ({len(points)}): {p.path}",
                                        p.message, p.value, p.show_value))  # fmt: skip
            else:
                listed = ", ".join(str(i) for i in where)
                problems.append(Problem(f"grid points {listed}: {p.path}",
                                        p.message, p.value, p.show_value))  # fmt: skip
        raise ScenarioError(source, problems)
    # The grid sets explicit values, so each point's provenance is the base scenario's
    # with the grid's paths marked as such.
    for point, s in zip(points, out, strict=True):
        provenance = scenario.provenance
        for path, value in point.items():
            provenance[path] = {"from": "sweep grid", "value": _jsonable(value)}
        s._provenance = provenance
    return out


def _columns(scenario: Scenario) -> list[str]:
    return moment_columns(scenario)


# -- running one point --------------------------------------------------------------------


@dataclass
class PointResult:
    """Moments of one point over a range of trials, joint with the baseline's."""

    index: int
    first: int
    n: int
    joint: Moments  # the point's columns, then the baseline's
    trials: pd.DataFrame | None = None
    salvos: pd.DataFrame | None = None
    precision: Precision | None = None  # a run to a precision: what it reached


def run_point(
    index: int,
    point_data: dict,
    base_data: dict,
    first: int,
    n: int,
    seed: int,
    keep_trials: bool,
    block: int = BLOCK_TRIALS,
    baseline_ints: Callable[[int, int], dict] | None = None,
) -> PointResult:
    """Simulate trials ``first .. first + n - 1`` of one point (a task of a Dask sweep).

    Takes plain data so that it can be shipped to a worker; the baseline's per-trial
    values come from ``baseline_ints`` (local cache) or are simulated here.
    """
    from costx.simulation import Lowered, capped_block  # lazy: Numba (check_sweep_limits)

    scenario = scenario_from_mapping(point_data, f"point {index}")
    baseline = scenario_from_mapping(base_data, "baseline")
    block = capped_block(scenario, capped_block(baseline, block))
    plan = Lowered(scenario)
    base_plan = None if baseline_ints is not None else Lowered(baseline)
    joint: Moments | None = None
    frames, salvo_frames = [], []
    for start in range(first, first + n, block):
        m = min(block, first + n - start)
        raw = plan.run(start, m, seed)
        ints = trial_integers(scenario, raw)
        if baseline_ints is not None:
            b_ints = baseline_ints(start, m)
        else:
            b_ints = trial_integers(baseline, base_plan.run(start, m, seed))
        both = {
            **{f"p:{k}": v for k, v in ints.items()},
            **{f"b:{k}": v for k, v in b_ints.items()},
        }
        block_moments = Moments.of(both)
        joint = block_moments if joint is None else joint + block_moments
        if keep_trials:
            frames.append(trials_frame(scenario, start, raw, ints).copy())
            if scenario.campaign is not None:
                salvo_frames.append(salvos_frame(scenario, start, raw))
    trials = pd.concat(frames, ignore_index=True) if frames else None
    salvos = pd.concat(salvo_frames, ignore_index=True) if salvo_frames else None
    return PointResult(index, first, n, joint, trials, salvos)


# -- the result ---------------------------------------------------------------------------


class SweepResult:
    """Every point of a sweep: summary table, paired differences, Parquet dataset.

    Attributes
    ----------
    scenario : Scenario
        The scenario the grid was applied to.
    points : list[dict]
        Grid values of every point (path -> value), in order.
    scenarios : list[Scenario]
        The validated scenario of every point.
    seed, n_trials, baseline : int
    dollar_year : int
        The constant dollars of every cost in the tables (``unit`` reads ``USD``).
    """

    def __init__(
        self,
        scenario: Scenario,
        points: list[dict[str, Any]],
        scenarios: list[Scenario],
        seed: int,
        n_trials: int,
        baseline: int,
        joint: list[Moments],
        trials: pd.DataFrame | None = None,
        salvos: pd.DataFrame | None = None,
        name: str | None = None,
        target: PrecisionTarget | None = None,
    ):
        self.name = name  # the sweep's own name (its file's stem), if it has one
        # run to a precision: the target of every point (n_trials is then their cap)
        self.target = target
        self.reused = 0  # points read back from the output folder instead of simulated
        self.scenario = scenario
        self.points = points
        self.scenarios = scenarios
        self.seed = seed
        self.n_trials = n_trials
        self.baseline = baseline
        self._joint = joint  # per point: Moments of (point columns, baseline columns)
        self._other_joints: dict[int, list[Moments]] = {}  # against other baselines
        self._trials = trials
        self._salvos = salvos
        self._table: pd.DataFrame | None = None

    def moments(self, index: int | Mapping[str, Any]) -> Moments:
        """The point's own moments (the ``p:`` part of its joint moments); ``index`` as in
        :meth:`summary`."""
        return _own(self._joint[self._index(index, "index")])

    @property
    def point_trials(self) -> list[int]:
        """The trials of every point: ``n_trials`` each, or run to a precision, each
        point's own (at most ``n_trials``)."""
        return [j.n for j in self._joint]

    @property
    def precision(self) -> list[Precision] | None:
        """Run to a precision (``sweep(..., precision=...)``): what every point reached
        (``Precision``: the measure, the target, the relative half-width, the trials and
        whether it was reached before the cap); None otherwise."""
        if self.target is None:
            return None
        return [self.target.check(self.summary(i), n) for i, n in enumerate(self.point_trials)]

    def trials_text(self) -> str:
        """The trials per point in words: "20,000 trials", or run to a precision
        "10,000 to 25,600 trials (to 1 % of leakers)"."""
        if self.target is None:
            return f"{self.n_trials:,} trials"
        low, high = min(self.point_trials), max(self.point_trials)
        span = f"{low:,}" if low == high else f"{low:,} to {high:,}"
        return f"{span} trials (to {100 * self.target.target:g} % of {self.target.measure})"

    def summary(self, index: int | Mapping[str, Any]) -> pd.DataFrame:
        """The summary table of one point, as ``SimulationResult.summary()``: ``index`` is
        the point's index (0 to the number of points - 1, or from the end as a list's) or
        its grid values."""
        index = self._index(index, "index")
        return summary_table(self.scenarios[index], self.moments(index))

    @property
    def plot(self) -> SweepPlots:
        """Figures: ``result.plot.cost_per_kill(x=..., hue=...)``, ``.p_any_leak()``,
        ``.measure(name)``, ``.heatmap(x, y)`` (matplotlib Axes; ``costx[plot]``)."""
        return SweepPlots(self)

    @property
    def grid_columns(self) -> list[str]:
        return list(self.points[0])

    @property
    def table(self) -> pd.DataFrame:
        """One row per point: the grid values, then every measure's mean and 95 % interval
        (``<measure>``, ``<measure>_ci95_low``, ``<measure>_ci95_high``). Run to a
        precision, the grid values are followed by ``trials`` (the point's trials),
        ``precision_half_width`` (the measure's 95 % half-width over its mean) and
        ``precision_reached`` (False: stopped at the cap)."""
        if self._table is None:
            rows = []
            reached = self.precision
            for i, point in enumerate(self.points):
                row: dict[str, Any] = {"point": i, **point}
                if reached is not None:
                    row["trials"] = reached[i].trials
                    row["precision_half_width"] = reached[i].half_width
                    row["precision_reached"] = reached[i].reached
                summary = self.summary(i)
                for measure, r in summary.iterrows():
                    row[measure] = r["mean"]
                    row[f"{measure}_ci95_low"] = r["ci95_low"]
                    row[f"{measure}_ci95_high"] = r["ci95_high"]
                rows.append(row)
            self._table = pd.DataFrame(rows)
        return self._table.copy()

    def tidy(self) -> pd.DataFrame:
        """Every point's summary in long form, one row per (point, measure): ``point``,
        the grid values (columns named by their paths), then the columns of
        ``SimulationResult.tidy()`` (``measure``, ``effector``, ``threat``, ``asset``,
        ``site``, ``mean``, ``ci95_low``, ``ci95_high``, ``std_error``, ``unit``,
        ``name``). The long counterpart of :attr:`table` (which has one row per point)."""
        frames = []
        for i, point in enumerate(self.points):
            frame = tidy_summary(self.scenarios[i], self.summary(i))
            frames.append(_with_grid(frame, i, point))
        out = pd.concat(frames, ignore_index=True)
        out["point"] = out["point"].astype("int64")
        return out

    def to_xarray(self) -> xarray.Dataset:
        """The sweep as an ``xarray.Dataset``: one variable per measure over the grid's
        dimensions and ``statistic`` (``mean``, ``ci95_low``, ``ci95_high``).

        A grid given as a mapping (a Cartesian product) has one dimension per path,
        named by the path, with its values as coordinates in grid order
        (``ds["cost_per_kill_usd"].sel({"effectors.sm2.rounds": 32, "statistic": "mean"})``);
        a list of cases has one dimension ``point``, with each path as a coordinate
        along it. The point index is the coordinate ``point`` either way. Each variable's
        ``units`` and ``long_name`` and the dataset's ``scenario``, ``sweep_name``,
        ``seed``, ``trials``, ``dollar_year`` and ``baseline`` are attributes. Needs
        xarray: ``pip install "costx[xarray]"``.
        """
        try:
            import xarray as xr  # lazy: optional (costx[xarray]) and slow to import
        except ImportError:
            raise InputError(
                'SweepResult.to_xarray() needs xarray: pip install "costx[xarray]"'
            ) from None
        table = self.table
        grid = self.grid_columns
        names = [c for c in table.columns if f"{c}_ci95_low" in table.columns]
        units: dict[str, str] = {}
        for i in range(len(self.points)):
            for m, unit in self.summary(i)["unit"].items():
                units.setdefault(str(m), str(unit))
        stats = ("mean", "ci95_low", "ci95_high")
        axes = _product_axes(self.points)
        if axes is not None:
            dims = tuple(grid)
            shape = tuple(len(axes[d]) for d in grid)
            where = [tuple(axes[d].index(p[d]) for d in grid) for p in self.points]
            coords: dict[str, Any] = {d: list(axes[d]) for d in grid}
        else:
            dims, shape = ("point",), (len(self.points),)
            where = [(i,) for i in range(len(self.points))]
            coords = {d: ("point", [_coordinate(p[d]) for p in self.points]) for d in grid}
        point_index = np.full(shape, -1, dtype=np.int64)
        for i, at in enumerate(where):
            point_index[at] = i
        coords["point"] = (dims, point_index) if axes is not None else list(range(len(where)))
        coords["statistic"] = list(stats)
        data = {}
        for m in names:
            values = np.full((*shape, len(stats)), np.nan)
            for i, at in enumerate(where):
                for k, suffix in enumerate(("", "_ci95_low", "_ci95_high")):
                    values[(*at, k)] = table[f"{m}{suffix}"].iloc[i]
            data[m] = xr.Variable((*dims, "statistic"), values,
                                  attrs={"units": units.get(m, ""),
                                         "long_name": formatting.measure_name(m)})  # fmt: skip
        ds = xr.Dataset(data, coords=coords)
        ds.attrs.update(
            scenario=self.scenario.name,
            sweep_name=self.name or "",
            seed=self.seed,
            trials=self.n_trials,
            dollar_year=self.scenario.scenario.dollar_year,
            baseline=self.baseline,
        )
        if self.target is not None:
            ds.attrs.update(precision=self.target.target, precision_measure=self.target.measure)
            trials = np.array(self.point_trials, np.int64)  # each point's own
            ds["trials"] = xr.Variable(dims, trials[point_index] if axes is not None else trials)
        return ds

    def _repr_html_(self) -> str:
        """The grid and the headline means of every point, in Jupyter (costx.notebook)."""
        return sweep_html(self)

    def compare(self, baseline: int | Mapping[str, Any] | None = None) -> pd.DataFrame:
        """Each point's difference to the baseline, with intervals from the paired trials.

        ``baseline`` is a point index or its grid values (default: the sweep's baseline,
        ``sweep(..., baseline=...)``, whose cross-moments with every point were
        accumulated as the sweep ran). Against another point the points are simulated
        again here, on this machine, to pair their trials with it: the same seed gives
        the same trials, so the result is what a sweep run with that baseline gives, at
        the cost of the sweep's run time once per new baseline. One row per (point,
        measure): ``diff``, ``ci95_low``, ``ci95_high``, ``std_error``.
        """
        index = self._index(baseline) if baseline is not None else self.baseline
        joints = self._joint if index == self.baseline else self._joints_against(index)
        frames = []
        for i, point in enumerate(self.points):
            table = paired_difference_table(
                self.scenarios[i], self.scenarios[index], joints[i]
            ).reset_index()
            table = table.rename(columns={"mean": "diff"})
            if i == index:  # the baseline against itself: the same trials, exactly 0
                known = table["diff"].notna()
                table.loc[known, ["diff", "ci95_low", "ci95_high", "std_error"]] = 0.0
            for j, (k, v) in enumerate(point.items()):  # in the grid's order, as `table`
                table.insert(j, k, [v] * len(table))
            table.insert(0, "point", i)
            frames.append(table)
        return pd.concat(frames, ignore_index=True)

    def _joints_against(self, index: int) -> list[Moments]:
        """Joint moments of every point with point ``index`` (simulated again, kept)."""
        if index not in self._other_joints:
            out: dict[int, Moments] = {}
            data = [s.to_dict() for s in self.scenarios]
            # each point over its own trials (run to a precision, they differ)
            _run_local(list(range(len(self.points))), data, index, self.point_trials, self.seed,
                       False, None, lambda res: out.__setitem__(res.index, res.joint))  # fmt: skip
            self._other_joints[index] = [out[i] for i in range(len(self.points))]
        return self._other_joints[index]

    def _index(self, key, name: str = "baseline") -> int:
        """A point given by its index (0 .. points - 1, or from the end as a list's: -1
        the last) or its grid values, as its index; else an InputError naming ``name``."""
        if isinstance(key, int | np.integer) and not isinstance(key, bool):
            n = len(self.points)
            if not -n <= key < n:
                raise InputError(f"{name}: no point {key} (0 .. {n - 1}, or -{n} .. -1)")
            return int(key) % n
        if isinstance(key, Mapping):
            for i, point in enumerate(self.points):
                if dict(point) == dict(key):
                    return i
            raise InputError(f"{name}: no point with {_describe(key)}")
        raise InputError(f"{name}: a point index or its grid values, not {key!r}")

    @property
    def dollar_year(self) -> int:
        """The constant dollars of every cost in this sweep's tables: its scenario's."""
        return self.scenario.scenario.dollar_year

    @property
    def has_trials(self) -> bool:
        return self._trials is not None

    @property
    def has_salvos(self) -> bool:
        return self._salvos is not None

    @property
    def salvos(self) -> pd.DataFrame:
        """Campaigns: per-salvo tables of every point (``keep_trials=True``), with ``point``."""
        if self._salvos is None:
            raise InputError("this sweep kept no per-salvo tables (not a campaign, or "
                             "keep_trials=False, or read back from a folder)")  # fmt: skip
        return self._salvos

    @property
    def trials(self) -> pd.DataFrame:
        """Per-trial tables of every point (``keep_trials=True``): ``point``, the grid
        values, then the per-trial columns."""
        if self._trials is None:
            raise InputError("this sweep kept no per-trial tables (keep_trials=False)")
        return self._trials

    def to_parquet(self, folder: str | Path) -> Path:
        """Write the sweep as a Parquet dataset: one file per point, ``point-0000.parquet``
        (see :class:`SweepStore`)."""
        folder = as_path(folder, "folder")
        columns = None if self._trials is None else _union_trial_columns(self.scenarios)
        store = SweepStore(folder, self._manifest(), columns, _union_measures(self.scenarios),
                           self.name)  # fmt: skip
        store.prepare()
        try:
            for i in range(len(self.points)):
                trials = None if self._trials is None else self._trials[self._trials["point"] == i]
                store.write_point(i, self.points[i], self._joint[i], self.summary(i), trials)
        finally:
            store.release()
        return folder

    def _manifest(self) -> dict:
        return manifest(self.scenario, self.points, self.seed, self.n_trials, self.baseline,
                        self._trials is not None, self.target)  # fmt: skip

    def __repr__(self) -> str:
        return (
            f"<SweepResult {self.scenario.name!r}: {len(self.points)} points x "
            f"{self.trials_text()}, seed {self.seed}>"
        )


def _coordinate(value: Any) -> Any:
    """A grid value as an xarray coordinate: a table (a pk mapping) as its text."""
    return json.dumps(value, sort_keys=True) if isinstance(value, Mapping | list) else value


def _product_axes(points: list[dict]) -> dict[str, list] | None:
    """Each path's values in order, if the points are exactly their Cartesian product in
    ``itertools.product`` order (a grid given as a mapping); else None."""
    try:
        axes = {k: list(dict.fromkeys(p[k] for p in points)) for k in points[0]}
    except TypeError:  # an unhashable value (a table): no product axes
        return None
    expected = [dict(zip(axes, combo, strict=True)) for combo in itertools.product(*axes.values())]
    return axes if expected == points else None


# -- storage ------------------------------------------------------------------------------


def manifest(scenario, points, seed, trials, baseline, keep_trials, target=None) -> dict:
    """The sweep's manifest (``MANIFEST_KEYS``, and ``PRECISION_KEYS`` for a sweep run to
    the precision ``target``): what makes two runs the same sweep."""
    extra = {} if target is None else {"precision": target.target, "measure": target.measure}
    return {
        "format": SWEEP_FORMAT,
        "costx_version": version(),
        "scenario_toml": scenario.to_toml(),
        "provenance": _jsonable(scenario.provenance),
        "points": _jsonable(points),
        "seed": seed,
        "trials": trials,
        "baseline": baseline,
        "keep_trials": keep_trials,
        **extra,
    }


def _manifest_of(found: Mapping) -> dict:
    """The manifest within a mapping (a point file's metadata): MANIFEST_KEYS, and the
    PRECISION_KEYS it has."""
    out = {k: found[k] for k in MANIFEST_KEYS}
    out.update({k: found[k] for k in PRECISION_KEYS if found.get(k) is not None})
    return out


def _target_of(m: Mapping) -> PrecisionTarget | None:
    """The precision target a manifest records, or None."""
    if m.get("precision") is None:
        return None
    return PrecisionTarget(str(m["measure"]), float(m["precision"]))


def _jsonable(value):
    return json.loads(json.dumps(value, default=str))


def _fingerprint(m: dict) -> str:
    return hashlib.sha256(json.dumps(m, sort_keys=True).encode()).hexdigest()


def file_column(path: str) -> str:
    """The column name of a grid path in the files: dots become double underscores
    (``effectors.sm2.rounds`` -> ``effectors__sm2__rounds``), so that the name needs no
    quoting in SQL or ``DataFrame.query``. The files' metadata maps each back
    (``grid_columns``)."""
    return path.replace(".", "__")


class SweepLock:
    """An exclusive lock on a sweep folder, so that two sweeps never write into one.

    The lock is the file ``_costx_sweep.lock``, created with ``O_CREAT | O_EXCL`` (atomic
    on local and network file systems, and the same on every platform, unlike ``fcntl``
    locks), holding the owner's pid, host and start time, and removed when the sweep ends.
    A second writer is refused with the owner's details. A lock left by a process that
    died (same host, no process with that pid) is stale: it is moved aside to a unique
    name (only one contender can move a given file) and taken over. A lock from another
    host cannot be checked: the message says to remove it if its sweep is gone.
    """

    def __init__(self, folder: Path):
        self.folder = folder
        self.path = folder / LOCK
        self.held = False
        self.token = ""  # ours, in the file: release removes the lock only if it still holds it

    def acquire(self) -> None:
        for _ in range(5):  # a stale lock moved aside, then another try
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                text, owner = self._owner()
                if owner is not None and self._is_stale(owner):
                    self._break(text)
                    continue
                raise InputError(self._held_message(owner)) from None
            except OSError as err:
                raise InputError(f"{self.folder}: cannot lock the folder: "
                                 f"{err.strerror or err}") from None  # fmt: skip
            self.token = uuid.uuid4().hex
            info = {"pid": os.getpid(), "host": socket.gethostname(),
                    "started": time.strftime("%Y-%m-%d %H:%M:%S"), "token": self.token}  # fmt: skip
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(info, fh)
            self.held = True
            return
        raise InputError(self._held_message(self._owner()[1]))

    def release(self) -> None:
        if self.held:
            owner = self._owner()[1]
            if owner is not None and owner.get("token") == self.token:
                self.path.unlink(missing_ok=True)
            self.held = False

    def _owner(self) -> tuple[str, dict | None]:
        try:
            text = self.path.read_text(encoding="utf-8")
            owner = json.loads(text)
        except (OSError, ValueError):
            return "", None  # gone, being written or damaged: taken as held
        ok = isinstance(owner, dict) and isinstance(owner.get("pid"), int)
        return text, owner if ok else None

    @staticmethod
    def _is_stale(owner: dict) -> bool:
        if owner.get("host") != socket.gethostname() or os.name == "nt":
            return False  # another machine's process (or Windows): cannot be checked
        if owner["pid"] == os.getpid():
            return False  # this process holds it (another sweep into the same folder)
        try:
            os.kill(owner["pid"], 0)
        except ProcessLookupError:
            return True
        except OSError:  # exists, owned by another user
            return False
        return False

    def _break(self, text: str) -> None:
        """Move a stale lock aside and delete it; if what was moved is not the stale lock
        read before (another process replaced it meanwhile), put it back."""
        aside = self.folder / f".{LOCK}.stale.{os.getpid()}.tmp"
        try:
            os.replace(self.path, aside)
        except FileNotFoundError:
            return  # someone else broke it first
        try:
            moved = aside.read_text(encoding="utf-8")
        except OSError:
            moved = None
        if moved != text:
            try:
                os.link(aside, self.path)  # a live lock: restore it (never over a newer one)
            except OSError:
                pass
        aside.unlink(missing_ok=True)

    def _held_message(self, owner: dict | None) -> str:
        who = "owner unknown"
        if owner is not None:
            who = (f"pid {owner.get('pid')} on {owner.get('host')}, since "
                   f"{owner.get('started', '?')}")  # fmt: skip
        return (
            f"{self.folder}: another costx sweep is writing to this folder ({who}); wait for "
            f"it to finish or use another folder (if no sweep is running, remove {self.path})"
        )


class SweepStore:
    """A sweep's folder: one Parquet file per point, ``point-0000.parquet``, and nothing
    else (while a sweep writes, also its lock file and temporary files).

    Each point's file holds, with the point's index (``point``, int64) and grid values
    (columns named by :func:`file_column`) first, its summary as one row of the sweep's
    table (run to a precision: ``trials``, ``precision_half_width`` and
    ``precision_reached``, then ``<measure>``, ``<measure>_ci95_low``,
    ``<measure>_ci95_high``; the columns of ``SweepResult.table``), or with ``keep_trials``
    its per-trial table. Every file has the same columns with the same types, so pandas,
    pyarrow, polars and DuckDB read the folder as one table. Its metadata (key ``costx``,
    JSON) holds the sweep's manifest (``MANIFEST_KEYS``) and its fingerprint, the point's
    values and exact joint moments, the map from file columns to grid paths
    (``grid_columns``), the measures' units, and ``sweep_name``, ``scenario_name``,
    ``dollar_year``, ``policy``, ``created`` and the versions of costx, Python, NumPy,
    Numba, pandas and pyarrow.

    Files are written atomically, with page checksums, so a killed sweep loses at most
    the points in flight, and a rerun into the same folder skips every point whose file
    verifies (fingerprint, point values and every data page's checksum). While a sweep
    writes, it holds the folder's :class:`SweepLock`.
    """

    def __init__(
        self,
        folder: Path,
        manifest_: dict,
        trial_columns: list[str] | None = None,
        measure_columns: list[str] | None = None,
        name: str | None = None,
    ):
        self.folder = Path(folder)
        self.manifest = _manifest_of(manifest_)
        self.fingerprint = _fingerprint(self.manifest)
        points = self.manifest["points"]
        # One schema for every file, so that readers that take the schema of the first
        # file (pandas, pyarrow.dataset) see every column with one type.
        self.grid_dtypes = _grid_dtypes(points)
        self.grid_names = {path: file_column(path) for path in points[0]}
        self.trial_columns = trial_columns
        self.measure_columns = measure_columns
        self.name = name
        self.width = max(4, len(str(len(points) - 1)))
        self.lock = SweepLock(self.folder)
        self.made: list[Path] = []  # the folders prepare() made (abandon)
        self.checked = False  # prepare() found the folder this sweep's and holds its lock
        info = tomllib.loads(self.manifest["scenario_toml"]).get("scenario", {})
        self.facts = {  # top-level metadata of every file (the manifest has them in TOML)
            "sweep_name": name,
            "scenario_name": info.get("name"),
            "dollar_year": info.get("dollar_year"),
            "policy": info.get("policy", "layered"),
        }

    def prepare(self) -> None:
        """Create the folder, take its lock, and check that it is empty or holds this very
        sweep (then clear the temporary files a killed run left)."""
        if self.folder.exists() and not self.folder.is_dir():
            raise InputError(f"{self.folder}: is a file, not a folder")
        check_not_in_sweep(self.folder)  # not inside another sweep's folder
        self.made = make_folder(self.folder)
        self.lock.acquire()
        try:
            self._check_or_start()
        except BaseException:
            self.release()
            remove_folders(self.made)  # only folders made just now, and only if empty
            raise
        self.checked = True  # this sweep's folder, locked: its temporaries are its own

    def release(self) -> None:
        """Release the folder's lock (a no-op if not held)."""
        self.lock.release()

    def abandon(self) -> None:
        """After a sweep failed: if no point was saved, clear its temporary files (while it
        still holds the lock, so that no other sweep's are touched), release the lock and
        remove the folders :meth:`prepare` made. Never hides the failure: errors here are
        ignored."""
        with contextlib.suppress(OSError):
            saved = any(POINT_FILE_PATTERN.match(p.name) for p in self.folder.iterdir())
            if not saved and self.checked and self.lock.held:
                self._remove_temporaries()
            self.release()
            if not saved:
                remove_folders(self.made)
        self.release()

    def _check_or_start(self) -> None:
        if (self.folder / LEGACY_MANIFEST).exists():
            raise InputError(
                f"{self.folder}: a sweep folder in the layout of an earlier costx "
                f"({LEGACY_MANIFEST} and point=NNNN folders), which costx reads but does not "
                "add to; sweep into a new folder (costx.read_sweep, costx plot and costx "
                "report still read this one)"
            )
        others = [
            p.name
            for p in self.folder.iterdir()
            if p.name != LOCK and not _is_temporary(p) and not POINT_FILE_PATTERN.match(p.name)
        ]
        if others:
            raise InputError(
                f"{self.folder}: exists and is not a costx sweep folder (it holds "
                f"{', '.join(sorted(others)[:3])}{', ...' if len(others) > 3 else ''})"
            )
        found = _any_manifest(self.folder)
        if found is not None and _fingerprint(found) != self.fingerprint:
            keys = dict.fromkeys([*self.manifest, *found])  # a precision's keys: in one only
            differs = [k for k in keys if found.get(k) != self.manifest.get(k)]
            raise InputError(
                f"{self.folder}: holds a different sweep (differs in: "
                f"{', '.join(differs) or 'format'}); use a new folder or remove it"
            )
        self._remove_temporaries()

    def _remove_temporaries(self) -> None:
        """Temporary files of a killed run (this sweep holds the lock: none is in use)."""
        for tmp in self.folder.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)

    def point_path(self, index: int) -> Path:
        return self.folder / POINT_FILE.format(index=index, width=self.width)

    def load_point(self, index: int, point: dict) -> PointResult | None:
        """A completed point whose file verifies, or None."""
        return self.point_status(index, point)[0]

    def point_status(self, index: int, point: dict) -> tuple[PointResult | None, str]:
        """(the point, "") if its file verifies, else (None, why not)."""
        path = self.point_path(index)
        if not path.is_file():
            return None, "is missing"
        meta = _point_metadata(path)
        if meta is None:
            return None, "is not a readable Parquet file with costx metadata"
        if meta.get("fingerprint") != self.fingerprint:
            return None, "belongs to another sweep (its fingerprint is not this sweep's)"
        if _embedded_manifest(meta) is None:
            return None, "has damaged metadata (its manifest does not match its fingerprint)"
        if meta.get("index") != index or meta.get("point") != _jsonable(point):
            return None, "holds another grid point"
        try:
            table = read_table_verified(path)  # every page's checksum
            joint = Moments.from_dict(meta["joint"])
        except CostxError as err:
            return None, f"is damaged ({str(err).split(': ', 1)[-1]})"
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            return None, f"has damaged metadata ({type(err).__name__})"
        trials = None
        if meta.get("kind") == "trials":
            trials = table.drop(columns=["point", *self.grid_names.values()], errors="ignore")
        return PointResult(index, 0, joint.n, joint, trials), ""

    def _summary_row(self, summary: pd.DataFrame) -> pd.DataFrame:
        """A point's summary as one row of the sweep's table (every measure of the sweep,
        NaN for those this point lacks: a dispersal site another point has)."""
        names = self.measure_columns or list(summary.index)
        row: dict[str, float] = {}
        for m in names:
            have = m in summary.index
            for suffix, column in (("", "mean"), ("_ci95_low", "ci95_low"),
                                   ("_ci95_high", "ci95_high")):  # fmt: skip
                row[f"{m}{suffix}"] = float(summary.loc[m, column]) if have else math.nan
        return pd.DataFrame([row], dtype="float64")

    def write_point(self, index, point, joint, summary, trials=None) -> Path:
        if trials is not None:
            frame = trials.drop(columns=["point", *point.keys()], errors="ignore").copy()
            if self.trial_columns is not None:  # columns other points have (per-site damage)
                frame = frame.reindex(columns=self.trial_columns)
            frame = frame.reset_index(drop=True)
            kind = "trials"
        else:
            frame = self._summary_row(summary)
            kind = "summary"
            target = _target_of(self.manifest)
            if target is not None:  # run to a precision: the point's row says its trials
                reached = target.check(summary, joint.n)
                frame.insert(0, "precision_reached", pd.Series([reached.reached], dtype="bool"))
                frame.insert(0, "precision_half_width", [reached.half_width])
                frame.insert(0, "trials", pd.Series([joint.n], dtype="int64"))
        for k, v in reversed(list(point.items())):
            column = pd.Series([v] * len(frame), dtype=self.grid_dtypes[k])
            frame.insert(0, self.grid_names[k], column)
        frame.insert(0, "point", pd.Series([index] * len(frame), dtype="int64"))
        table = pa.Table.from_pandas(frame, preserve_index=False)
        meta = {
            **self.manifest,
            **environment_metadata(),
            **self.facts,
            "fingerprint": self.fingerprint,
            "index": index,
            "point": _jsonable(point),
            "kind": kind,
            "joint": joint.to_dict(),
            "grid_columns": {name: path for path, name in self.grid_names.items()},
            "units": {str(m): str(u) for m, u in summary["unit"].items()},
        }
        merged = dict(table.schema.metadata or {})
        merged[b"costx"] = json.dumps(meta).encode()
        return write_table_atomic(
            table.replace_schema_metadata(merged), self.point_path(index), into_sweep=True
        )


def _point_metadata(path: Path) -> dict | None:
    """The costx metadata of a point file, or None if it has none or cannot be read."""
    try:
        raw = (pq.read_schema(path).metadata or {}).get(b"costx")
        meta = json.loads(raw) if raw else None
    except Exception:  # an unreadable partial file from elsewhere: redo the point
        return None
    return meta if isinstance(meta, dict) else None


def _point_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if POINT_FILE_PATTERN.match(p.name))


def _embedded_manifest(meta: dict) -> dict | None:
    """The manifest a point file carries, if it is whole and hashes to the file's own
    fingerprint (else the metadata was damaged or changed), or None."""
    if not all(k in meta for k in MANIFEST_KEYS):
        return None
    found = _manifest_of(meta)
    return found if _fingerprint(found) == meta.get("fingerprint") else None


def _any_manifest(folder: Path) -> dict | None:
    """The manifest of the first point file whose metadata is readable and whole, or
    None."""
    for path in _point_files(folder):
        meta = _point_metadata(path)
        found = None if meta is None else _embedded_manifest(meta)
        if found is not None:
            return found
    return None


def is_sweep_folder(path: str | Path) -> bool:
    """Whether ``path`` is a folder holding a costx sweep (this layout or the earlier); a
    folder that cannot be read is an InputError naming it."""
    path = Path(path)
    if not path.is_dir():
        return False
    try:
        return is_sweep_layout(path)
    except OSError as err:
        raise InputError(f"{path}: cannot read the folder: {_reason(err)}") from None


def _reason(err: OSError) -> str:
    """Why a file or folder could not be read, in words ("permission denied")."""
    return err.strerror.lower() if err.strerror else str(err)


def _is_temporary(path: Path) -> bool:
    return path.name.startswith(".") and path.name.endswith(".tmp")


def _grid_dtypes(points: list[dict]) -> dict[str, str]:
    """One column type per grid path over all points (e.g. 100 and 150.5: float)."""
    out = {}
    for key in points[0]:
        values = [p[key] for p in points]
        if all(isinstance(v, bool) for v in values):
            out[key] = "bool"
        elif all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            out[key] = "int64" if all(isinstance(v, int) for v in values) else "float64"
        else:
            out[key] = "string"
    return out


def _union_trial_columns(scenarios: list[Scenario]) -> list[str]:
    """The per-trial columns of every point, in order (dispersal adds per-site ones)."""
    columns: list[str] = []
    for s in scenarios:
        base = None if s.base is None else (s.base.dispersal_sites, len(s.base.assets))
        raw = RawTrials.allocate(
            1, n_salvos(s), len(s.threats), len(s.effectors), base, ship=s.ship is not None
        )
        for c in trials_frame(s, 0, raw, trial_integers(s, raw)).columns:
            if c not in columns:
                columns.append(c)
    return columns


def _union_measures(scenarios: list[Scenario]) -> list[str]:
    """The summary measures of every point, in order (dispersal adds per-site ones).
    Measures depend only on the scenario's structure, so each structure is asked once."""
    names: dict[str, None] = {}
    seen = set()
    for s in scenarios:
        base = None if s.base is None else (tuple(a.name for a in s.base.assets),
                                            s.base.dispersal_sites)  # fmt: skip
        shape = (
            tuple(t.name for t in s.threats),
            tuple((e.name, e.kind) for e in s.effectors),
            base,
            s.ship is not None,
            is_campaign(s),
        )
        if shape in seen:
            continue
        seen.add(shape)
        names.update(dict.fromkeys(m.name for m in measures(s, moment_columns(s))))
    return list(names)


def _with_grid(frame: pd.DataFrame, index: int, point: dict) -> pd.DataFrame:
    """A point's table with ``point`` and its grid values as the first columns."""
    frame = frame.drop(columns=["point", *point], errors="ignore")
    frame.insert(0, "point", index)
    for position, (k, v) in enumerate(point.items(), start=1):
        frame.insert(position, k, [v] * len(frame))
    return frame


def read_sweep(folder: str | Path) -> SweepResult:
    """Read a complete sweep folder written by ``sweep(..., out=...)`` or ``to_parquet``
    (or by an earlier costx, in the layout with a ``_costx_sweep.json`` manifest).

    Every point's file must carry the sweep's fingerprint and its own grid values and
    pass its page checksums; otherwise InputError says which point and why. The table
    is rebuilt from the exact moments in the files' metadata.
    """
    folder = as_path(folder, "folder")
    if not folder.exists():
        raise InputError(f"{folder}: no such folder (give a sweep's output folder)")
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder (give a sweep's output folder)")
    try:
        if (folder / LEGACY_MANIFEST).is_file():
            return _read_legacy_sweep(folder)
        files = _point_files(folder)
        m = _any_manifest(folder) if files else None
    except OSError as err:  # no permission to list or read it
        raise InputError(f"{folder}: cannot read the folder: {_reason(err)}") from None
    if not files:
        raise InputError(f"{folder}: not a costx sweep folder (no point-NNNN.parquet files)")
    if m is None:
        raise InputError(f"{folder}: no point file with readable costx metadata")
    if m.get("format") != SWEEP_FORMAT:
        raise InputError(f"{folder}: unsupported costx sweep format {m.get('format')!r}")
    name = (_point_metadata(files[0]) or {}).get("sweep_name")
    label = f"{folder}[scenario]"
    try:
        store = SweepStore(folder, m, name=name)
        _check_no_stray_points(store, files)
        return _read_sweep(folder, m, label, store, name)
    except CostxError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as err:
        raise InputError(
            f"{folder}: damaged sweep metadata ({type(err).__name__}: {err})"
        ) from None


def _check_no_stray_points(store: SweepStore, files: list[Path]) -> None:
    """Refuse a point file that is none of the sweep's points (point-0012.parquet in a
    sweep of 12 points, left from elsewhere): every reader of the folder as one table
    (pandas, DuckDB) would take its rows for the sweep's, so it is not silently ignored."""
    n = len(store.manifest["points"])
    expected = {store.point_path(i).name for i in range(n)}
    stray = [p.name for p in files if p.name not in expected]
    if stray:
        raise InputError(
            f"{store.folder}: {stray[0]} is not a point of this sweep (it has {n} points, "
            f"{store.point_path(0).name} to {store.point_path(n - 1).name}); remove it, or "
            "sweep into a new folder"
        )


def _read_sweep(folder: Path, m: dict, label: str, store, name=None) -> SweepResult:
    scenario = load_scenario_text(m["scenario_toml"], label)
    scenario._provenance = m.get("provenance", {})
    points = m["points"]
    scenarios = build_points(scenario, points)
    joint, frames = [], []
    for i, point in enumerate(points):
        done, why = store.point_status(i, point)
        if done is None:
            raise InputError(
                f"{folder}: point {i}: {store.point_path(i).relative_to(folder)} {why}; "
                "rerun the sweep into this folder to redo it"
            )
        joint.append(done.joint)
        if done.trials is not None:
            frames.append(_with_grid(done.trials, i, point))
    trials = pd.concat(frames, ignore_index=True) if frames else None
    return SweepResult(scenario, points, scenarios, m["seed"], m["trials"], m["baseline"], joint,
                       trials, name=name, target=_target_of(m))  # fmt: skip


class _LegacyStore:
    """Reads a folder of the layout before costx.sweep/2 (point=NNNN/part-0.parquet and a
    JSON manifest); :func:`read_sweep` only."""

    def __init__(self, folder: Path, manifest_: dict):
        self.folder = folder
        self.fingerprint = _fingerprint(manifest_)

    def point_path(self, index: int) -> Path:
        return self.folder / LEGACY_POINT.format(index)

    def point_status(self, index: int, point: dict) -> tuple[PointResult | None, str]:
        path = self.point_path(index)
        if not path.is_file():
            return None, "is missing"
        meta = _point_metadata(path)
        if meta is None:
            return None, "is not a readable Parquet file with costx metadata"
        if meta.get("fingerprint") != self.fingerprint:
            return None, "belongs to another sweep (its fingerprint is not the manifest's)"
        if meta.get("index") != index or meta.get("point") != _jsonable(point):
            return None, "holds another grid point"
        try:
            table = read_table_verified(path)
            joint = Moments.from_dict(meta["joint"])
        except CostxError as err:
            return None, f"is damaged ({str(err).split(': ', 1)[-1]})"
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            return None, f"has damaged metadata ({type(err).__name__})"
        trials = table if meta.get("kind") == "trials" else None
        return PointResult(index, 0, joint.n, joint, trials), ""


def _read_legacy_sweep(folder: Path) -> SweepResult:
    path = folder / LEGACY_MANIFEST
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(m, dict) or m.get("format") != LEGACY_FORMAT:
            raise ValueError(f"format {m.get('format') if isinstance(m, dict) else None!r}")
        m["scenario_toml"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise InputError(f"{path}: unreadable sweep manifest ({err})") from None
    try:
        return _read_sweep(folder, m, f"{path}[scenario]", _LegacyStore(folder, m))
    except CostxError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as err:
        raise InputError(f"{path}: damaged sweep manifest ({type(err).__name__}: {err})") from None


def load_scenario_text(text: str, label: str) -> Scenario:
    return scenario_from_mapping(parse_toml(text, label), label)


# -- the sweep ----------------------------------------------------------------------------


def check_backend(backend, scheduler, threads) -> None:
    """How a sweep or an analysis runs: ``backend`` is 'local' or 'dask', ``scheduler``
    goes with backend='dask' only and ``threads`` (this machine's Numba threads, checked
    against its limit) with backend='local' only."""
    if not isinstance(backend, str) or backend not in ("local", "dask"):
        raise InputError(f"backend must be 'local' or 'dask', not {backend!r}")
    if threads is not None and backend == "dask":
        raise InputError("threads= sets this machine's Numba threads (backend='local'); on "
                         "Dask each worker uses its own (NUMBA_NUM_THREADS there)")  # fmt: skip
    if threads is not None:
        import numba  # lazy: start-up time

        check_int("threads", threads, 1, numba.config.NUMBA_NUM_THREADS)
    if scheduler is not None and backend != "dask":
        raise InputError("scheduler= is the Dask scheduler of backend='dask'; "
                         "give backend='dask'")  # fmt: skip
    if scheduler is not None and (not isinstance(scheduler, str) or not scheduler.strip()):
        raise InputError(f"scheduler must be a Dask scheduler's address (such as "
                         f"'tcp://host:8786'), not {scheduler!r}")  # fmt: skip


def _chunks(end: int, chunk: int, start: int = 0) -> Iterator[tuple[int, int]]:
    """(first, n) of the chunks of trials ``start .. end - 1``."""
    for first in range(start, end, chunk):
        yield first, min(chunk, end - first)


class _PointRun:
    """One point run in stretches of trials: all ``trials`` in one, or run to a
    precision (``target``), one stretch up to each check of ``precision_checks`` until
    the point's own measure meets the target or the cap is reached. The stretches end at
    the same trial counts whatever runs them, so a point's trials depend only on its
    scenario, the seed and the target."""

    def __init__(self, index: int, scenario: Scenario, trials: int, target):
        self.index = index
        self.scenario = scenario
        self.target = target
        self.cap = trials
        self.warned = False  # the warning of a measure whose mean is 0 (once a point)
        self.checks = iter((trials,)) if target is None else precision_checks(trials)
        self.done = 0  # trials run so far
        self.end = next(self.checks)  # the end of the stretch to run next
        self.pieces: list[PointResult] = []
        self.reached: Precision | None = None

    def add(self, piece: PointResult) -> bool:
        """Take the stretch ``done .. end - 1`` just run; whether the point is done."""
        self.pieces.append(piece)
        self.done = self.end
        if self.target is None:
            return True
        joint = self.pieces[0].joint
        for p in self.pieces[1:]:
            joint = joint + p.joint
        self.reached = self.target.check(summary_table(self.scenario, _own(joint)), self.done)
        if self.reached.reached:
            return True
        if not self.warned:
            what = f"{self.scenario.name}: grid point {self.index}"
            stalled = self.reached.zero_mean_warning(what, self.cap)
            if stalled is not None:
                warnings.warn(stalled, CostxWarning, stacklevel=2)
                self.warned = True
        following = next(self.checks, None)
        if following is None:
            return True  # the cap
        self.end = following
        return False

    def result(self) -> PointResult:
        out = _merge(self.index, self.pieces)
        out.precision = self.reached
        return out


def sweep(
    scenario: ScenarioLike,
    grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]],
    trials: int = 20_000,
    seed: int = 0,
    backend: str = "local",
    keep_trials: bool = False,
    *,
    baseline: int | Mapping[str, Any] = 0,
    out: str | Path | None = None,
    scheduler: str | None = None,
    chunk_trials: int | None = None,
    threads: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    source: str = "sweep",
    name: str | None = None,
    precision: float | None = None,
    measure: str | None = None,
) -> SweepResult:
    """Simulate a scenario at every point of a grid.

    Parameters
    ----------
    scenario
        A Scenario, path, mapping or bundled scenario name.
    grid
        A mapping of dotted paths to value lists (Cartesian product) or a list of cases.
    trials, seed
        Trials per point (with ``precision``, the most trials of a point); the same seed
        for every point (common random numbers).
    backend
        ``"local"`` (this process, Numba threads) or ``"dask"`` (a ``dask.distributed``
        cluster: ``scheduler`` address, or a LocalCluster on this machine). The results
        are bit-identical.
    keep_trials
        Keep every point's per-trial table (memory: points x trials rows).
    baseline
        The point (index or grid values) for paired differences (``compare``).
    out
        A folder for the Parquet dataset, written point by point as points complete; a
        rerun into the same folder resumes, skipping points already done.
    scheduler
        ``backend="dask"`` only: the Dask scheduler's address (default: a LocalCluster).
    chunk_trials
        ``backend="dask"`` only: trials per task (default: all trials of a point in one
        task up to 200,000).
    threads
        Numba threads (local backend).
    progress
        A function, called ``progress(done_points, total_points)`` before the first
        point and after each point.
    source
        How errors name the sweep (the CLI passes the sweep file).
    name
        The sweep's own name (the CLI passes the sweep file's stem), recorded in the
        dataset's metadata as ``sweep_name`` and kept as ``SweepResult.name``.
    precision
        Run every point to a precision of its own, as ``simulate(precision=...)`` does:
        each point stops at the first check (10,000 trials, then about 1.25 times the
        last) at which the 95 % half-width of ``measure`` is at most this fraction of
        the point's mean, or at ``trials``. ``SweepResult.precision`` says what each
        point reached, ``point_trials`` its trials; the table gains ``trials``,
        ``precision_half_width`` and ``precision_reached``. Paired differences
        (``compare``) pair each point with the baseline over the point's own trials.
    measure
        The summary measure of ``precision`` (default: the cost-exchange ratio,
        ``cost_exchange_defense_over_attack``); every point must have it.

    Returns
    -------
    SweepResult
        ``reused`` says how many points were read back from ``out`` (a resumed sweep)
        instead of simulated.
    """
    scenario = load_scenario(scenario)
    trials = check_int("trials", trials, 1, MAX_TRIALS)
    seed = check_int("seed", seed, 0, 2**64 - 1)
    check_backend(backend, scheduler, threads)  # before the folder is made
    if chunk_trials is not None:
        chunk_trials = check_int("chunk_trials", chunk_trials, 1, MAX_TRIALS)
        if backend != "dask":
            raise InputError("chunk_trials= is the trials per task of backend='dask'; the "
                             "local backend runs each point in one go")  # fmt: skip
    keep_trials = check_flag("keep_trials", keep_trials)
    if progress is not None and not callable(progress):
        raise InputError(f"progress must be a function, called progress(done_points, "
                         f"total_points), or None; not {progress!r}")  # fmt: skip
    out = None if out is None else as_path(out, "out")
    if measure is not None and precision is None:
        raise InputError(f"{source}: measure= is the measure of precision=; give precision too")
    try:
        grid = python_grid(grid)
        # Run to a precision, a point's trials are not known before it runs: the limits
        # are checked for the first check here, and each stretch with per-trial tables
        # before it runs (_check_stretch).
        first = trials if precision is None else min(trials, PRECISION_FIRST_CHECK)
        check_sweep_limits(scenario, grid, first, keep_trials)
        points = expand_grid(grid)
        scenarios = build_points(scenario, points, source)
        target = None if precision is None else points_target(scenarios, points, precision,
                                                                measure)  # fmt: skip
        result = SweepResult(scenario, points, scenarios, seed, trials, 0, [None] * len(points),
                             name=name, target=target)  # fmt: skip
        base_index = result._index(baseline)
    except InputError as err:
        raise InputError(f"{source}: {err}") from None
    result.baseline = base_index
    store = None
    if out is not None:
        store = SweepStore(
            out,
            manifest(scenario, points, seed, trials, base_index, keep_trials, target),
            _union_trial_columns(scenarios) if keep_trials else None,
            _union_measures(scenarios),
            name,
        )
        store.prepare()  # takes the folder's lock: released below, whatever happens
    try:
        done, reused = _run_sweep(store, points, scenarios, base_index, trials, seed,
                                  backend, keep_trials, chunk_trials, scheduler, threads,
                                  progress, target)  # fmt: skip
    except Exception:
        # A sweep that failed before saving a point (no Dask scheduler, a point path that
        # is a folder) leaves no folder it made; an interrupted one keeps it (the message
        # says what is saved there).
        if store is not None:
            store.abandon()
        raise
    finally:
        if store is not None:
            store.release()
    result.reused = reused

    result._joint = [done[i].joint for i in range(len(points))]
    if keep_trials:
        result._trials = pd.concat(
            [_with_grid(done[i].trials, i, points[i]) for i in range(len(points))],
            ignore_index=True,
        )
        # Per-salvo tables are not stored in the dataset: after a resume some points lack
        # them, and then the sweep has none rather than a partial one.
        if all(done[i].salvos is not None for i in range(len(points))):
            result._salvos = pd.concat(
                [_with_grid(done[i].salvos, i, points[i]) for i in range(len(points))],
                ignore_index=True,
            )
    return result


def points_target(scenarios, points, precision, measure) -> PrecisionTarget:
    """The precision target of a sweep (``precision=``, ``measure=``), checked against
    every point: each must have the measure (a dispersal site's measures, say, exist only
    at the points whose grid values have the site)."""
    value = precision_value(precision)
    name = PRECISION_MEASURE if measure is None else measure
    missing = [i for i, s in enumerate(scenarios) if unknown_measure(s, name) is not None]
    if missing and len(missing) == len(scenarios):  # no point has it: the measure's fault
        raise InputError(f"measure {name!r} is {unknown_measure(scenarios[0], name)}")
    for i in missing:
        raise InputError(f"grid point {i} ({_describe(points[i])}): measure {name!r} is "
                         f"{unknown_measure(scenarios[i], name)}")  # fmt: skip
    return PrecisionTarget(name, value)


def _run_sweep(store, points, scenarios, base_index, trials, seed, backend, keep_trials,
               chunk_trials, scheduler, threads, progress,
               target=None) -> tuple[dict[int, PointResult], int]:  # fmt: skip
    """Run every point not yet in ``store`` (if any): the points, and how many of them
    were read back from the store; on an interrupt, say how many points the folder holds
    (SweepInterrupted)."""
    done: dict[int, PointResult] = {}
    saved = 0
    if store is not None:
        for i, point in enumerate(points):
            loaded = store.load_point(i, point)
            if loaded is not None:
                done[i] = loaded
        saved = len(done)
    if progress is not None:
        progress(len(done), len(points))

    def finish(res: PointResult) -> None:
        nonlocal saved
        done[res.index] = res
        if store is not None:
            summary = summary_table(scenarios[res.index], _own(res.joint))
            try:
                store.write_point(res.index, points[res.index], res.joint, summary, res.trials)
            except WrittenThenInterrupted:
                saved += 1  # written, then Ctrl-C (held back during the rename)
                raise
            saved += 1
        if progress is not None:
            progress(len(done), len(points))

    todo = [i for i in range(len(points)) if i not in done]
    data = [s.to_dict() for s in scenarios]
    try:
        if backend == "local":
            _run_local(todo, data, base_index, trials, seed, keep_trials, threads, finish,
                       scenarios, target)  # fmt: skip
        else:
            chunk = chunk_trials or min(trials, 200_000)
            _run_dask(todo, data, base_index, trials, seed, keep_trials, chunk, scheduler,
                      finish, scenarios, target)  # fmt: skip
    except KeyboardInterrupt:
        if store is None:
            raise
        raise SweepInterrupted(saved, len(points), store.folder) from None
    return done, len(points) - len(todo)


def _own(joint: Moments) -> Moments:
    """The point's own moments out of its joint moments with the baseline."""
    k = sum(1 for c in joint.columns if c.startswith("p:"))
    return Moments(tuple(c[2:] for c in joint.columns[:k]), joint.n, joint.s1[:k],
                   tuple(row[:k] for row in joint.s2[:k]))  # fmt: skip


def _check_stretch(run: _PointRun, keep_trials: bool) -> None:
    """Run to a precision with per-trial tables: refuse a point's next stretch where the
    point's tables up to its end would not fit in the memory this machine has left (the
    points done so far hold theirs)."""
    if run.target is None or not keep_trials:
        return
    from costx.simulation import check_memory, estimate_memory_bytes  # lazy: Numba

    check_memory(
        estimate_memory_bytes(run.scenario, run.end, True),
        f"{run.scenario.name}: grid point {run.index} run to {run.end:,} trials with "
        "per-trial tables",
        "drop keep_trials (--keep-trials), or give a lower trial cap (--trials)",
    )


def _run_local(todo, data, base_index, trials, seed, keep_trials, threads, finish,
               scenarios=None, target=None) -> None:  # fmt: skip
    """Run the points ``todo`` here, one after another, each over ``trials`` trials (a
    list: point i over ``trials[i]``) or to the precision ``target`` (then ``scenarios``
    are the points' scenarios), and ``finish`` each."""
    from costx.simulation import Lowered, numba_threads  # lazy: Numba (check_sweep_limits)

    if not todo:
        return
    baseline = scenario_from_mapping(data[base_index], "baseline")
    base_plan = Lowered(baseline)
    cache: dict[tuple[int, int], dict] = {}
    room = 1 << 30  # keep the baseline's values up to 1 GiB

    def baseline_ints(first: int, n: int) -> dict:
        nonlocal room
        key = (first, n)
        if key in cache:
            return cache[key]
        ints = {k: np.array(v, np.int64) for k, v in
                trial_integers(baseline, base_plan.run(first, n, seed)).items()}  # fmt: skip
        size = sum(v.nbytes for v in ints.values())
        if size <= room:
            cache[key] = ints
            room -= size
        return ints

    with numba_threads(threads):
        for i in todo:
            n = trials[i] if isinstance(trials, list) else trials
            scenario = None if target is None else scenarios[i]
            run = _PointRun(i, scenario, n, target)
            while True:
                _check_stretch(run, keep_trials)
                piece = run_point(i, data[i], data[base_index], run.done, run.end - run.done,
                                  seed, keep_trials, baseline_ints=baseline_ints)  # fmt: skip
                if run.add(piece):
                    break
            finish(run.result())


def connect_scheduler(scheduler: str):
    """A Dask client of the scheduler at ``scheduler``, or one line naming the address
    when it cannot be reached within SCHEDULER_TIMEOUT_S (or is malformed)."""
    from dask.distributed import Client  # lazy: Dask is an optional extra

    try:
        return Client(scheduler, timeout=SCHEDULER_TIMEOUT_S)
    except (OSError, ValueError, TypeError) as err:  # unreachable or a malformed address
        raise InputError(
            f"scheduler {scheduler}: cannot reach the Dask scheduler ({_one_line(err)})"
        ) from None


def _run_dask(todo, data, base_index, trials, seed, keep_trials, chunk, scheduler, finish,
              scenarios=None, target=None):  # fmt: skip
    try:
        # lazy: optional (costx[dask]) and slow to import
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:  # pragma: no cover - depends on the environment
        raise InputError("backend='dask' needs Dask: pip install \"costx[dask]\"") from None
    if not todo:
        return
    cluster = None
    if scheduler:
        client = connect_scheduler(scheduler)
    else:
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=None)  # fmt: skip
        client = Client(cluster)
    try:
        # Every point's next stretch (all its trials, or up to its next precision check)
        # is submitted in chunks; when all of a stretch's chunks are in, the point is
        # finished or its next stretch submitted.
        futures = {}
        runs = {i: _PointRun(i, None if target is None else scenarios[i], trials, target)
                for i in todo}  # fmt: skip
        parts: dict[int, dict[int, PointResult]] = {i: {} for i in todo}
        expected: dict[int, int] = {}

        def submit(i: int) -> list:
            run = runs[i]
            _check_stretch(run, keep_trials)
            out = []
            for first, n in _chunks(run.end, chunk, run.done):
                future = client.submit(run_point, i, data[i], data[base_index], first, n, seed,
                                       keep_trials, pure=False)  # fmt: skip
                futures[future] = (i, first)
                out.append(future)
            expected[i] = len(out)
            return out

        queue = as_completed([f for i in todo for f in submit(i)])
        for future in queue:
            i, first = futures.pop(future)
            parts[i][first] = future.result()
            if len(parts[i]) == expected[i]:
                stretch = _merge(i, [parts[i][f] for f in sorted(parts[i])])
                parts[i] = {}
                if runs[i].add(stretch):
                    finish(runs[i].result())
                else:
                    for f in submit(i):
                        queue.add(f)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _one_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return lines[0][:200] if lines else type(err).__name__


def _merge(index: int, pieces: list[PointResult]) -> PointResult:
    joint = pieces[0].joint
    for p in pieces[1:]:
        joint = joint + p.joint
    trials = salvos = None
    if pieces[0].trials is not None:
        trials = pd.concat([p.trials for p in pieces], ignore_index=True)
    if pieces[0].salvos is not None:
        salvos = pd.concat([p.salvos for p in pieces], ignore_index=True)
    return PointResult(index, 0, sum(p.n for p in pieces), joint, trials, salvos)


# -- sweep files --------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepSpec:
    """A sweep file: a scenario, a grid (or cases) and run settings."""

    source: str
    scenario: Scenario
    grid: Any
    description: str = ""
    trials: int = 20_000
    name: str = ""  # the sweep's own name: its file's stem, or the bundled name
    seed: int = 0
    baseline: int = 0
    keep_trials: bool = False
    trials_set: bool = False  # the file gives trials
    precision: float | None = None  # run every point to this precision (sweep(precision=))
    measure: str | None = None  # ... of this measure (None: the cost-exchange ratio)


_SWEEP_KEYS = {"scenario", "description", "trials", "seed", "baseline", "keep_trials",
               "dollar_year", "precision", "measure"}  # fmt: skip


def load_sweep_spec(
    source: str | Path,
    dollar_year: int | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> SweepSpec:
    """Read a sweep file (a path or a bundled sweep's name).

    ``dollar_year`` (else the file's ``dollar_year``, else the scenario's default, see
    ``load_scenario``) is the year of the constant dollars every point reports in.
    ``overrides`` (``costx sweep --set``) change the sweep's scenario before the grid is
    applied, as :func:`load_scenario_with` does; a path the grid varies cannot be set.

    Format::

        [sweep]
        scenario = "ddg_mixed_raid"   # bundled name, or a path relative to this file
        trials = 20000                # optional
        seed = 0                      # optional
        baseline = 0                  # optional: point index for paired differences
        keep_trials = false           # optional: store per-trial tables too
        dollar_year = 2024            # optional: constant dollars of this year
        precision = 0.01              # optional: run each point to this precision, with
                                      # trials its cap (default then 10,000,000)
        measure = "leakers"           # optional: the measure of precision
        [grid]
        "effectors.sm2.rounds" = [16, 32, 64]

    or, instead of ``[grid]``, ``[[cases]]`` tables of path = value.
    """
    path = Path(source)
    if path.is_file() or path.suffix == ".toml":
        if not path.is_file():
            raise ScenarioError(str(path), [Problem("", "no such file", None, False)])
        data, label, folder = read_toml_file(path), str(path), path.parent
        name = path.stem
    else:
        text = bundled.sweep_text(str(source))
        label = f"bundled:{source}"
        data, folder = parse_toml(text, label), None
        name = str(source)
    problems = []
    info = data.get("sweep")
    if not isinstance(info, Mapping):
        problems.append(Problem("sweep", "required table is missing", None, False))
        info = {}
    for key in info:
        if key not in _SWEEP_KEYS:
            problems.append(Problem(f"sweep.{key}", f"unknown field; allowed: "
                                    f"{', '.join(sorted(_SWEEP_KEYS))}", None, False))  # fmt: skip
    for key in data:
        if key not in ("sweep", "grid", "cases"):
            problems.append(Problem(key, "unknown table; allowed: sweep, grid, cases", None, False))
    has_grid, has_cases = "grid" in data, "cases" in data
    if has_grid == has_cases:
        problems.append(Problem("grid", "give exactly one of [grid] or [[cases]]", None, False))
    for key, kind in (("trials", int), ("seed", int), ("baseline", int), ("keep_trials", bool),
                      ("dollar_year", int), ("precision", float), ("measure", str)):  # fmt: skip
        if key in info and (type(info[key]) is not kind):
            problems.append(Problem(f"sweep.{key}", f"must be {kind.__name__}", info[key]))
    # the ranges simulate() and load_scenario() enforce, here so that `costx validate`
    # finds them and the message names the file and the field
    if type(info.get("trials")) is int and not 1 <= info["trials"] <= MAX_TRIALS:
        problems.append(Problem("sweep.trials", f"must be from 1 to {MAX_TRIALS:,}",
                                info["trials"]))  # fmt: skip
    if type(info.get("seed")) is int and info["seed"] < 0:
        problems.append(Problem("sweep.seed", "must be 0 or more", info["seed"]))
    if type(info.get("baseline")) is int and info["baseline"] < 0:
        problems.append(Problem("sweep.baseline", "must be 0 or more (a point's index)",
                                info["baseline"]))  # fmt: skip
    first_year = min(load_catalog().price_index)
    if type(info.get("dollar_year")) is int and not (
        first_year <= info["dollar_year"] <= MAX_DOLLAR_YEAR
    ):
        problems.append(Problem("sweep.dollar_year", f"must be a year from {first_year} (the "
                                f"price index's first) to {MAX_DOLLAR_YEAR}",
                                info["dollar_year"]))  # fmt: skip
    precision = info.get("precision")
    if type(precision) is float and not 0.0 < precision < 1.0:
        problems.append(Problem("sweep.precision", "must be a fraction of the mean between 0 "
                                "and 1 (0.01 for 1 %)", precision))  # fmt: skip
    if "measure" in info and "precision" not in info:
        problems.append(Problem("sweep.measure", "is the measure of sweep.precision; give "
                                "precision too", info["measure"]))  # fmt: skip
    if not isinstance(info.get("scenario"), str):
        problems.append(Problem("sweep.scenario", "required: a bundled name or a path", None,
                                False))  # fmt: skip
    if problems:
        raise ScenarioError(label, problems)
    target = info["scenario"]
    if folder is not None and (folder / target).is_file():
        target = folder / target
    grid = data["grid"] if has_grid else data["cases"]
    varied = set(grid) if isinstance(grid, Mapping) else set()
    if isinstance(grid, list):
        varied = {k for case in grid if isinstance(case, Mapping) for k in case}
    for path in overrides or {}:
        if path in varied:
            raise InputError(f"--set {path}: the sweep {label} varies it in its grid")
    year = dollar_year or info.get("dollar_year")
    try:
        if overrides:
            scenario = load_scenario_with(target, overrides, dollar_year=year)
        else:
            scenario = load_scenario(target, dollar_year=year)
    except ScenarioError as err:
        if err.source != str(target) or Path(str(target)).exists():
            raise
        where = f"{folder} and the current folder" if folder else "the current folder"
        problem = Problem(
            "sweep.scenario",
            f"no such file (looked in {where}) and no bundled scenario of that name",
            info["scenario"],
        )
        raise ScenarioError(label, [problem]) from None
    return SweepSpec(
        source=label,
        scenario=scenario,
        grid=grid,
        name=name,
        description=str(info.get("description", "")),
        trials=info.get("trials", 20_000 if precision is None else PRECISION_CAP),
        seed=info.get("seed", 0),
        baseline=info.get("baseline", 0),
        keep_trials=info.get("keep_trials", False),
        trials_set="trials" in info,
        precision=precision,
        measure=info.get("measure"),
    )
