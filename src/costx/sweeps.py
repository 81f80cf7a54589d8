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

import contextlib
import copy
import hashlib
import itertools
import json
import math
import operator
import os
import socket
import time
import uuid
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
from costx.errors import CostxError, InputError, Problem, ScenarioError
from costx.scenario import Scenario, load_scenario, scenario_from_mapping

BLOCK_TRIALS = 65_536
POINT_DIR = "point={:04d}"
MANIFEST = "_costx_sweep.json"
LOCK = "_costx_sweep.lock"
SWEEP_FORMAT = "costx.sweep/1"
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


def check_sweep_limits(scenario: Scenario, grid, trials: int, keep_trials: bool) -> None:
    """Refuse, before anything is expanded or run, a sweep whose grid has more than
    ``MAX_GRID_POINTS`` points or whose estimated memory exceeds what this machine has:
    every point is a validated scenario in memory (about 16 bytes per character of its
    TOML; measured 11 to 13 for the bundled scenarios), one point runs at a time, and
    with ``keep_trials`` every point's per-trial table is kept."""
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
    from costx.simulation import Lowered, capped_block

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
        try:
            for i in range(len(self.points)):
                trials = None if self._trials is None else self._trials[self._trials["point"] == i]
                store.write_point(i, self.points[i], self._joint[i], self.summary(i), trials)
        finally:
            store.release()
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
    """A sweep's folder: a manifest and one hive partition ``point=NNNN`` per point.

    Each point's file holds its summary (or, with ``keep_trials``, its per-trial table)
    with the grid values as columns, and in its metadata the manifest's fingerprint, the
    point's values and its exact joint moments. Files are written atomically, with page
    checksums, so a killed sweep loses at most the points in flight, and a rerun into
    the same folder skips every point whose file verifies (fingerprint, point values and
    every data page's checksum). While a sweep writes, it holds the folder's
    :class:`SweepLock`.
    """

    def __init__(self, folder: Path, manifest_: dict, trial_columns: list[str] | None = None):
        self.folder = Path(folder)
        self.manifest = manifest_
        self.fingerprint = _fingerprint(manifest_)
        # One schema for every partition, so that readers that take the schema of the
        # first file (pandas, pyarrow.dataset) see every column with one type.
        self.grid_dtypes = _grid_dtypes(manifest_["points"])
        self.trial_columns = trial_columns
        self.lock = SweepLock(self.folder)

    def prepare(self) -> None:
        """Create the folder, take its lock, and check that it is empty or holds this very
        sweep (then clear the temporary files a killed run left)."""
        if self.folder.exists() and not self.folder.is_dir():
            raise InputError(f"{self.folder}: is a file, not a folder")
        created = not self.folder.exists()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise InputError(f"{self.folder}: cannot create the folder ({err.strerror})") from None
        self.lock.acquire()
        try:
            self._check_or_start()
        except BaseException:
            self.release()
            if created:
                with contextlib.suppress(OSError):
                    self.folder.rmdir()
            raise

    def release(self) -> None:
        """Release the folder's lock (a no-op if not held)."""
        self.lock.release()

    def _check_or_start(self) -> None:
        from costx.io import write_bytes_atomic

        path = self.folder / MANIFEST
        if path.exists():
            try:
                found = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as err:
                raise InputError(f"{path}: unreadable sweep manifest ({err})") from None
            if not isinstance(found, dict):
                raise InputError(f"{path}: damaged sweep manifest (not a JSON object)")
            if _fingerprint(found) != self.fingerprint:
                differs = [k for k in self.manifest if found.get(k) != self.manifest[k]]
                raise InputError(
                    f"{self.folder}: holds a different sweep (differs in: "
                    f"{', '.join(differs) or 'format'}); use a new folder or remove it"
                )
            self._remove_temporaries()
            return
        if any(p.name != LOCK and not _is_temporary(p) for p in self.folder.iterdir()):
            raise InputError(f"{self.folder}: exists and is not a costx sweep folder")
        self._remove_temporaries()
        write_bytes_atomic(json.dumps(self.manifest, indent=1).encode(), path)

    def _remove_temporaries(self) -> None:
        """Temporary files of a killed run (this sweep holds the lock: none is in use)."""
        for tmp in [*self.folder.glob(".*.tmp"), *self.folder.glob("point=*/.*.tmp")]:
            tmp.unlink(missing_ok=True)

    def point_path(self, index: int) -> Path:
        return self.folder / POINT_DIR.format(index) / "part-0.parquet"

    def load_point(self, index: int, point: dict) -> PointResult | None:
        """A completed point whose file verifies, or None."""
        return self.point_status(index, point)[0]

    def point_status(self, index: int, point: dict) -> tuple[PointResult | None, str]:
        """(the point, "") if its file verifies, else (None, why not)."""
        import pyarrow.parquet as pq

        from costx.io import read_table_verified

        path = self.point_path(index)
        if not path.is_file():
            return None, "is missing"
        try:
            raw = (pq.read_schema(path).metadata or {}).get(b"costx")
            meta = json.loads(raw) if raw else None
        except Exception:  # an unreadable partial file from elsewhere: redo the point
            return None, "is not a readable Parquet file"
        if not isinstance(meta, dict):
            return None, "has no costx metadata"
        if meta.get("fingerprint") != self.fingerprint:
            return None, "belongs to another sweep (its fingerprint is not the manifest's)"
        if meta.get("index") != index or meta.get("point") != _jsonable(point):
            return None, "holds another grid point"
        try:
            table = read_table_verified(path)  # every page's checksum
            joint = Moments.from_dict(meta["joint"])
        except CostxError as err:
            return None, f"is damaged ({str(err).split(': ', 1)[-1]})"
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            return None, f"has damaged metadata ({type(err).__name__})"
        trials = table if meta.get("kind") == "trials" else None
        return PointResult(index, 0, joint.n, joint, trials), ""

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
    """Read a complete sweep folder written by ``sweep(..., out=...)`` or ``to_parquet``.

    Every point's file must carry the manifest's fingerprint and its own grid values and
    pass its page checksums; otherwise InputError says which point and why.
    """
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        raise InputError(f"{folder}: not a costx sweep folder (no {MANIFEST})")
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
        scenario_text = m["scenario_toml"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise InputError(f"{path}: unreadable sweep manifest ({err})") from None
    try:
        return _read_sweep(folder, m, scenario_text, path)
    except CostxError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as err:
        raise InputError(f"{path}: damaged sweep manifest ({type(err).__name__}: {err})") from None


def _read_sweep(folder: Path, m: dict, scenario_text: str, path: Path) -> SweepResult:
    scenario = load_scenario_text(scenario_text, f"{path}[scenario]")
    scenario._provenance = m.get("provenance", {})
    points = m["points"]
    scenarios = build_points(scenario, points)
    store = SweepStore(folder, m)
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
        check_sweep_limits(scenario, grid, trials, keep_trials)
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
        store.prepare()  # takes the folder's lock: released below, whatever happens
    try:
        done = _run_sweep(store, points, scenarios, base_index, trials, seed, backend,
                          keep_trials, chunk_trials, scheduler, threads, progress)  # fmt: skip
    finally:
        if store is not None:
            store.release()

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


def _run_sweep(store, points, scenarios, base_index, trials, seed, backend, keep_trials,
               chunk_trials, scheduler, threads, progress) -> dict[int, PointResult]:  # fmt: skip
    """Run every point not yet in ``store`` (if any); on an interrupt, say how many points
    the folder holds (SweepInterrupted)."""
    from costx.io import WrittenThenInterrupted

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
            _run_local(todo, data, base_index, trials, seed, keep_trials, threads, finish)
        else:
            chunk = chunk_trials or min(trials, 200_000)
            _run_dask(todo, data, base_index, trials, seed, keep_trials, chunk, scheduler,
                      finish)  # fmt: skip
    except KeyboardInterrupt:
        if store is None:
            raise
        raise SweepInterrupted(saved, len(points), store.folder) from None
    return done


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
        try:
            client = Client(scheduler, timeout=SCHEDULER_TIMEOUT_S)
        except (OSError, ValueError, TypeError) as err:  # unreachable or a malformed address
            raise InputError(
                f"scheduler {scheduler}: cannot reach the Dask scheduler ({_one_line(err)})"
            ) from None
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
