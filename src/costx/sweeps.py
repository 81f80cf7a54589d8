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
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from costx.aggregate import (
    Moments,
    paired_difference_table,
    salvos_frame,
    summary_table,
    trial_integers,
    trials_frame,
)
from costx.errors import InputError, Problem, ScenarioError
from costx.scenario import Scenario, load_scenario, scenario_from_mapping

BLOCK_TRIALS = 65_536
POINT_DIR = "point={:04d}"
MANIFEST = "_costx_sweep.json"
SWEEP_FORMAT = "costx.sweep/1"


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
    problems = []
    for i, point in enumerate(points):
        data = copy.deepcopy(base)
        label = f"grid point {i} ({_describe(point)})"
        for path, value in point.items():
            set_path(data, path, value, f"grid[{path!r}]")
        try:
            out.append(scenario_from_mapping(data, label))
        except ScenarioError as err:
            problems.extend(Problem(f"{label}: {p.path}", p.message, p.value, p.show_value)
                            for p in err.problems)  # fmt: skip
    if problems:
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
    from costx.aggregate import moment_columns

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
    from costx.simulation import Lowered

    scenario = scenario_from_mapping(point_data, f"point {index}")
    baseline = scenario_from_mapping(base_data, "baseline")
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
    """

    def __init__(self, scenario, points, scenarios, seed, n_trials, baseline, joint, trials=None,
                 salvos=None):  # fmt: skip
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

    def moments(self, index: int) -> Moments:
        """The point's own moments (the ``p:`` part of its joint moments)."""
        return _own(self._joint[index])

    def summary(self, index: int) -> pd.DataFrame:
        """The summary table of one point, as ``SimulationResult.summary()``."""
        return summary_table(self.scenarios[index], self.moments(index))

    @property
    def plot(self):
        """Figures: ``result.plot.cost_per_kill(x=..., hue=...)``, ``.p_any_leak()``,
        ``.measure(name)``, ``.heatmap(x, y)`` (matplotlib Axes; ``costx[plot]``)."""
        from costx.plotting import SweepPlots

        return SweepPlots(self)

    @property
    def grid_columns(self) -> list[str]:
        return list(self.points[0])

    @property
    def table(self) -> pd.DataFrame:
        """One row per point: the grid values, then every measure's mean and 95 % interval
        (``<measure>``, ``<measure>_ci95_low``, ``<measure>_ci95_high``)."""
        if self._table is None:
            rows = []
            for i, point in enumerate(self.points):
                row: dict[str, Any] = {"point": i, **point}
                summary = self.summary(i)
                for measure, r in summary.iterrows():
                    row[measure] = r["mean"]
                    row[f"{measure}_ci95_low"] = r["ci95_low"]
                    row[f"{measure}_ci95_high"] = r["ci95_high"]
                rows.append(row)
            self._table = pd.DataFrame(rows)
        return self._table.copy()

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
            for k, v in point.items():
                table.insert(0, k, [v] * len(table))
            table.insert(0, "point", i)
            frames.append(table)
        return pd.concat(frames, ignore_index=True)

    def _joints_against(self, index: int) -> list[Moments]:
        """Joint moments of every point with point ``index`` (simulated again, kept)."""
        if index not in self._other_joints:
            out: dict[int, Moments] = {}
            data = [s.to_dict() for s in self.scenarios]
            _run_local(list(range(len(self.points))), data, index, self.n_trials, self.seed,
                       False, None, lambda res: out.__setitem__(res.index, res.joint))  # fmt: skip
            self._other_joints[index] = [out[i] for i in range(len(self.points))]
        return self._other_joints[index]

    def _index(self, key) -> int:
        if isinstance(key, int | np.integer) and not isinstance(key, bool):
            if not 0 <= key < len(self.points):
                raise InputError(f"baseline: no point {key} (0 .. {len(self.points) - 1})")
            return int(key)
        if isinstance(key, Mapping):
            for i, point in enumerate(self.points):
                if dict(point) == dict(key):
                    return i
            raise InputError(f"baseline: no point with {_describe(key)}")
        raise InputError(f"baseline: a point index or its grid values, not {key!r}")

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
        """Write the sweep as a Parquet dataset partitioned by point (see ``write_point``)."""
        folder = Path(folder)
        columns = None if self._trials is None else _union_trial_columns(self.scenarios)
        store = SweepStore(folder, self._manifest(), columns)
        store.prepare()
        for i in range(len(self.points)):
            trials = None if self._trials is None else self._trials[self._trials["point"] == i]
            store.write_point(i, self.points[i], self._joint[i], self.summary(i), trials)
        return folder

    def _manifest(self) -> dict:
        return manifest(self.scenario, self.points, self.seed, self.n_trials, self.baseline,
                        self._trials is not None)  # fmt: skip

    def __repr__(self) -> str:
        return (
            f"<SweepResult {self.scenario.name!r}: {len(self.points)} points x "
            f"{self.n_trials:,} trials, seed {self.seed}>"
        )


# -- storage ------------------------------------------------------------------------------


def manifest(scenario, points, seed, trials, baseline, keep_trials) -> dict:
    from costx import __version__

    return {
        "format": SWEEP_FORMAT,
        "costx_version": __version__,
        "scenario_toml": scenario.to_toml(),
        "provenance": _jsonable(scenario.provenance),
        "points": _jsonable(points),
        "seed": seed,
        "trials": trials,
        "baseline": baseline,
        "keep_trials": keep_trials,
    }


def _jsonable(value):
    return json.loads(json.dumps(value, default=str))


def _fingerprint(m: dict) -> str:
    return hashlib.sha256(json.dumps(m, sort_keys=True).encode()).hexdigest()


class SweepStore:
    """A sweep's folder: a manifest and one hive partition ``point=NNNN`` per point.

    Each point's file holds its summary (or, with ``keep_trials``, its per-trial table)
    with the grid values as columns, and in its metadata the manifest's fingerprint, the
    point's values and its exact joint moments. Files are written atomically, so a killed
    sweep loses at most the points in flight, and a rerun into the same folder skips
    every point whose file verifies.
    """

    def __init__(self, folder: Path, manifest_: dict, trial_columns: list[str] | None = None):
        self.folder = Path(folder)
        self.manifest = manifest_
        self.fingerprint = _fingerprint(manifest_)
        # One schema for every partition, so that readers that take the schema of the
        # first file (pandas, pyarrow.dataset) see every column with one type.
        self.grid_dtypes = _grid_dtypes(manifest_["points"])
        self.trial_columns = trial_columns

    def prepare(self) -> None:
        """Create the folder or check that it holds this very sweep."""
        from costx.io import write_bytes_atomic

        path = self.folder / MANIFEST
        if path.exists():
            try:
                found = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as err:
                raise InputError(f"{path}: unreadable sweep manifest ({err})") from None
            if _fingerprint(found) != self.fingerprint:
                differs = [k for k in self.manifest if found.get(k) != self.manifest[k]]
                raise InputError(
                    f"{self.folder}: holds a different sweep (differs in: "
                    f"{', '.join(differs) or 'format'}); use a new folder or remove it"
                )
            return
        if self.folder.exists() and not self.folder.is_dir():
            raise InputError(f"{self.folder}: is a file, not a folder")
        if self.folder.exists() and any(self.folder.iterdir()):
            raise InputError(f"{self.folder}: exists and is not a costx sweep folder")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise InputError(f"{self.folder}: cannot create the folder ({err.strerror})") from None
        write_bytes_atomic(json.dumps(self.manifest, indent=1).encode(), path)

    def point_path(self, index: int) -> Path:
        return self.folder / POINT_DIR.format(index) / "part-0.parquet"

    def load_point(self, index: int, point: dict) -> PointResult | None:
        """A completed point whose file verifies, or None."""
        import pyarrow.parquet as pq

        path = self.point_path(index)
        if not path.is_file():
            return None
        try:
            raw = (pq.read_schema(path).metadata or {}).get(b"costx")
            meta = json.loads(raw) if raw else None
        except Exception:  # an unreadable partial file from elsewhere: redo the point
            return None
        if not meta or meta.get("fingerprint") != self.fingerprint:
            return None
        if meta.get("index") != index or meta.get("point") != _jsonable(point):
            return None
        joint = Moments.from_dict(meta["joint"])
        trials = pd.read_parquet(path) if meta.get("kind") == "trials" else None
        return PointResult(index, 0, joint.n, joint, trials)

    def write_point(self, index, point, joint, summary, trials=None) -> Path:
        import pyarrow as pa

        from costx.io import write_table_atomic

        if trials is not None:
            frame = trials.drop(columns=["point", *point.keys()], errors="ignore").copy()
            if self.trial_columns is not None:  # columns other points have (per-site damage)
                frame = frame.reindex(columns=self.trial_columns)
            kind = "trials"
        else:
            frame = summary.reset_index()
            kind = "summary"
        for k, v in reversed(list(point.items())):
            frame.insert(0, k, pd.Series([v] * len(frame), dtype=self.grid_dtypes[k]))
        table = pa.Table.from_pandas(frame, preserve_index=False)
        meta = {
            "format": SWEEP_FORMAT,
            "fingerprint": self.fingerprint,
            "index": index,
            "point": _jsonable(point),
            "kind": kind,
            "joint": joint.to_dict(),
            "seed": self.manifest["seed"],
            "trials": self.manifest["trials"],
            "costx_version": self.manifest["costx_version"],
            # the sweep itself, so that every file says what it is without the manifest
            "scenario_toml": self.manifest["scenario_toml"],
            "grid_points": self.manifest["points"],
        }
        merged = dict(table.schema.metadata or {})
        merged[b"costx"] = json.dumps(meta).encode()
        path = self.point_path(index)
        path.parent.mkdir(parents=True, exist_ok=True)
        return write_table_atomic(table.replace_schema_metadata(merged), path)


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
    from costx.aggregate import RawTrials, n_salvos, trial_integers

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


def _with_grid(frame: pd.DataFrame, index: int, point: dict) -> pd.DataFrame:
    """A point's table with ``point`` and its grid values as the first columns."""
    frame = frame.drop(columns=["point", *point], errors="ignore")
    frame.insert(0, "point", index)
    for position, (k, v) in enumerate(point.items(), start=1):
        frame.insert(position, k, [v] * len(frame))
    return frame


def read_sweep(folder: str | Path) -> SweepResult:
    """Read a complete sweep folder written by ``sweep(..., out=...)`` or ``to_parquet``."""
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        raise InputError(f"{folder}: not a costx sweep folder (no {MANIFEST})")
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
        scenario_text = m["scenario_toml"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise InputError(f"{path}: unreadable sweep manifest ({err})") from None
    scenario = load_scenario_text(scenario_text, f"{path}[scenario]")
    scenario._provenance = m.get("provenance", {})
    points = m["points"]
    scenarios = build_points(scenario, points)
    store = SweepStore(folder, m)
    joint, frames = [], []
    for i, point in enumerate(points):
        done = store.load_point(i, point)
        if done is None:
            raise InputError(f"{folder}: point {i} is missing or incomplete; rerun the sweep")
        joint.append(done.joint)
        if done.trials is not None:
            frames.append(_with_grid(done.trials, i, point))
    trials = pd.concat(frames, ignore_index=True) if frames else None
    return SweepResult(scenario, points, scenarios, m["seed"], m["trials"], m["baseline"], joint,
                       trials)  # fmt: skip


def load_scenario_text(text: str, label: str) -> Scenario:
    from costx.scenario import parse_toml

    return scenario_from_mapping(parse_toml(text, label), label)


# -- the sweep ----------------------------------------------------------------------------


def _check_int(name, value, low, high) -> int:
    try:
        value = operator.index(value)
    except TypeError:
        raise InputError(f"{name} must be an integer, not {value!r}") from None
    if not low <= value <= high:
        raise InputError(f"{name} must be between {low:,} and {high:,}, not {value:,}")
    return value


def _chunks(trials: int, chunk: int) -> Iterator[tuple[int, int]]:
    for first in range(0, trials, chunk):
        yield first, min(chunk, trials - first)


def sweep(
    scenario,
    grid,
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
) -> SweepResult:
    """Simulate a scenario at every point of a grid.

    Parameters
    ----------
    scenario
        A Scenario, path, mapping or bundled scenario name.
    grid
        A mapping of dotted paths to value lists (Cartesian product) or a list of cases.
    trials, seed
        Trials per point; the same seed for every point (common random numbers).
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
    chunk_trials
        Dask: trials per task (default: all trials of a point in one task up to 200,000).
    threads
        Numba threads (local backend).
    progress
        ``progress(done_points, total_points)`` after each point.
    source
        How errors name the sweep (the CLI passes the sweep file).
    """
    scenario = load_scenario(scenario)
    trials = _check_int("trials", trials, 1, 10**12)
    seed = _check_int("seed", seed, 0, 2**64 - 1)
    if backend not in ("local", "dask"):
        raise InputError(f"backend must be 'local' or 'dask', not {backend!r}")
    try:
        points = expand_grid(grid)
        scenarios = build_points(scenario, points, source)
        result = SweepResult(scenario, points, scenarios, seed, trials, 0, [None] * len(points))
        base_index = result._index(baseline)
    except InputError as err:
        raise InputError(f"{source}: {err}") from None
    result.baseline = base_index
    store = None
    if out is not None:
        store = SweepStore(
            Path(out),
            manifest(scenario, points, seed, trials, base_index, keep_trials),
            _union_trial_columns(scenarios) if keep_trials else None,
        )
        store.prepare()

    done: dict[int, PointResult] = {}
    if store is not None:
        for i, point in enumerate(points):
            loaded = store.load_point(i, point)
            if loaded is not None:
                done[i] = loaded
    if progress is not None:
        progress(len(done), len(points))

    def finish(res: PointResult) -> None:
        done[res.index] = res
        if store is not None:
            summary = summary_table(scenarios[res.index], _own(res.joint))
            store.write_point(res.index, points[res.index], res.joint, summary, res.trials)
        if progress is not None:
            progress(len(done), len(points))

    todo = [i for i in range(len(points)) if i not in done]
    data = [s.to_dict() for s in scenarios]
    if backend == "local":
        _run_local(todo, data, base_index, trials, seed, keep_trials, threads, finish)
    else:
        chunk = chunk_trials or min(trials, 200_000)
        _run_dask(todo, data, base_index, trials, seed, keep_trials, chunk, scheduler, finish)

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


def _own(joint: Moments) -> Moments:
    """The point's own moments out of its joint moments with the baseline."""
    k = sum(1 for c in joint.columns if c.startswith("p:"))
    return Moments(tuple(c[2:] for c in joint.columns[:k]), joint.n, joint.s1[:k],
                   tuple(row[:k] for row in joint.s2[:k]))  # fmt: skip


def _run_local(todo, data, base_index, trials, seed, keep_trials, threads, finish) -> None:
    from costx.simulation import Lowered, numba_threads

    if not todo:
        return
    baseline = scenario_from_mapping(data[base_index], "baseline")
    base_plan = Lowered(baseline)
    cache: dict[tuple[int, int], dict] = {}
    columns = len(_columns(baseline))
    cacheable = trials * columns * 8 <= 1 << 30  # keep the baseline's values up to 1 GiB

    def baseline_ints(first: int, n: int) -> dict:
        key = (first, n)
        if key in cache:
            return cache[key]
        ints = {k: np.array(v, np.int64) for k, v in
                trial_integers(baseline, base_plan.run(first, n, seed)).items()}  # fmt: skip
        if cacheable:
            cache[key] = ints
        return ints

    with numba_threads(threads):
        for i in todo:
            finish(run_point(i, data[i], data[base_index], 0, trials, seed, keep_trials,
                             baseline_ints=baseline_ints))  # fmt: skip


def _run_dask(todo, data, base_index, trials, seed, keep_trials, chunk, scheduler, finish):
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:  # pragma: no cover - depends on the environment
        raise InputError("backend='dask' needs Dask: pip install \"costx[dask]\"") from None
    if not todo:
        return
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=None)  # fmt: skip
        client = Client(cluster)
    try:
        futures = {}
        for i in todo:
            for first, n in _chunks(trials, chunk):
                future = client.submit(run_point, i, data[i], data[base_index], first, n, seed,
                                       keep_trials, pure=False)  # fmt: skip
                futures[future] = (i, first)
        parts: dict[int, dict[int, PointResult]] = {i: {} for i in todo}
        expected = {i: math.ceil(trials / chunk) for i in todo}
        for future in as_completed(futures):
            i, first = futures[future]
            parts[i][first] = future.result()
            if len(parts[i]) == expected[i]:
                finish(_merge(i, [parts[i][f] for f in sorted(parts[i])]))
                del parts[i]
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


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
    seed: int = 0
    baseline: int = 0
    keep_trials: bool = False


_SWEEP_KEYS = {"scenario", "description", "trials", "seed", "baseline", "keep_trials",
               "dollar_year"}  # fmt: skip


def load_sweep_spec(source: str | Path, dollar_year: int | None = None) -> SweepSpec:
    """Read a sweep file (a path or a bundled sweep's name).

    ``dollar_year`` (else the file's ``dollar_year``, else the scenario's default, see
    ``load_scenario``) is the year of the constant dollars every point reports in.

    Format::

        [sweep]
        scenario = "ddg_mixed_raid"   # bundled name, or a path relative to this file
        trials = 20000                # optional
        seed = 0                      # optional
        baseline = 0                  # optional: point index for paired differences
        keep_trials = false           # optional: store per-trial tables too
        dollar_year = 2024            # optional: constant dollars of this year
        [grid]
        "effectors.sm2.rounds" = [16, 32, 64]

    or, instead of ``[grid]``, ``[[cases]]`` tables of path = value.
    """
    from costx import bundled
    from costx.scenario import parse_toml, read_toml_file

    path = Path(source)
    if path.is_file() or path.suffix == ".toml":
        if not path.is_file():
            raise ScenarioError(str(path), [Problem("", "no such file", None, False)])
        data, label, folder = read_toml_file(path), str(path), path.parent
    else:
        text = bundled.sweep_text(str(source))
        label = f"bundled:{source}"
        data, folder = parse_toml(text, label), None
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
                      ("dollar_year", int)):  # fmt: skip
        if key in info and (type(info[key]) is not kind):
            problems.append(Problem(f"sweep.{key}", f"must be {kind.__name__}", info[key]))
    if not isinstance(info.get("scenario"), str):
        problems.append(Problem("sweep.scenario", "required: a bundled name or a path", None,
                                False))  # fmt: skip
    if problems:
        raise ScenarioError(label, problems)
    target = info["scenario"]
    if folder is not None and (folder / target).is_file():
        target = folder / target
    try:
        scenario = load_scenario(target, dollar_year=dollar_year or info.get("dollar_year"))
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
        grid=data["grid"] if has_grid else data["cases"],
        description=str(info.get("description", "")),
        trials=info.get("trials", 20_000),
        seed=info.get("seed", 0),
        baseline=info.get("baseline", 0),
        keep_trials=info.get("keep_trials", False),
    )
