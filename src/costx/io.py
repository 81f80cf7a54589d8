"""Parquet I/O: results written atomically, with what it takes to reproduce them.

A result file is one Parquet table (the per-trial table, or the summary when trials were
not kept) whose schema metadata under the key ``costx`` holds JSON: the costx version,
the scenario as TOML, the seed, the number of trials, the summary and the exact moments.
Files are written to a temporary file in the target folder and renamed into place, so an
interrupted write never leaves a partial file under the final name; a target that exists
and is not a regular, writable file (a device such as /dev/null, a symbolic link, a
folder, a read-only file) is refused rather than replaced. Every data page carries a
CRC checksum (Parquet's page checksums), verified on every read.

A campaign's result is a pair of files, ``NAME.parquet`` and ``NAME.salvos.parquet``.
Both are written to temporary files first, then renamed one after the other with
Ctrl-C held back between the two renames; both carry the same random ``pair_id`` in
their metadata, and :func:`costx.reading.read_result` refuses a per-salvo file whose ``pair_id`` is
not the per-trial file's. So a crash (kill -9, power loss) between the renames, or a
per-salvo file copied from another run, is detected instead of silently mixed in.
"""

from __future__ import annotations

import contextlib
import datetime
import importlib.metadata
import json
import os
import platform
import re
import signal
import stat
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from costx._version import version
from costx.costing import cost_breakdown
from costx.errors import CostxError, InputError

if TYPE_CHECKING:
    from costx.simulation import SimulationResult

METADATA_KEY = b"costx"
FORMAT = "costx.simulation/1"
# What makes a folder a costx sweep's (costx.sweeps): one file per point, or the manifest
# of the layout before costx.sweep/2. Here, so that every output is checked against them.
POINT_FILE_PATTERN = re.compile(r"^point-(\d+)\.parquet$")
LEGACY_MANIFEST = "_costx_sweep.json"


class WrittenThenInterrupted(KeyboardInterrupt):
    """Ctrl-C arrived while files were being renamed into place: it was held back until
    they all were, so the output (``paths``) is complete, and the CLI says so."""

    def __init__(self, paths: list[str]):
        super().__init__()
        self.paths = paths


def as_path(value: object, name: str = "path") -> Path:
    """A path argument of the Python API (str or os.PathLike) as a Path; anything else,
    or an empty string, is an InputError naming the argument."""
    if isinstance(value, str | os.PathLike) and not isinstance(value, bytes):
        path = Path(value)
        if str(value) != "":
            return path
    raise InputError(f"{name} must be a file or folder path (str or pathlib.Path), not {value!r}")


def as_file_path(value: object, name: str = "path") -> Path:
    """:func:`as_path` for a file to write: a name that ends in a path separator
    (``out/``) names a folder, and is refused rather than written as a file named ``out``
    (``Path`` drops the separator, so this looks at the string as given)."""
    path = as_path(value, name)
    text = os.fspath(value)
    if isinstance(text, str) and text.endswith(("/", os.sep)):
        raise InputError(f"{text}: names a folder; give a file name")
    return path


def is_sweep_layout(folder: Path) -> bool:
    """Whether ``folder`` holds a costx sweep (a point file, or the earlier layout's
    manifest); OSError if it cannot be listed."""
    if (folder / LEGACY_MANIFEST).is_file():
        return True
    return any(POINT_FILE_PATTERN.match(p.name) for p in folder.iterdir())


def check_not_in_sweep(path: str | Path, folder: bool = False) -> None:
    """Refuse an output inside a costx sweep folder: the nearest existing folder above
    ``path`` (a file, or with ``folder`` a folder to write in, itself included) holding a
    sweep. A sweep folder holds its point files and nothing else, so anything written
    there stops the sweep from resuming (and ``point-NNNN.parquet`` would replace a
    point); only the sweep itself writes there."""
    path = Path(path)
    full = path.absolute()
    for place in ([full] if folder else []) + list(full.parents):
        try:
            if not place.is_dir():
                continue
            sweep = is_sweep_layout(place)
        except OSError:  # cannot be listed: not known to be a sweep's (the write will tell)
            return
        if sweep:
            shown = path.parent if place == full.parent else place
            where = "is a costx sweep folder" if place == full else (
                f"is inside the costx sweep folder {shown}")  # fmt: skip
            raise InputError(
                f"{path}: {where}; costx writes nothing there but the sweep's own point "
                "files (give a path outside it)"
            )
        return


def check_output_path(
    path: str | Path,
    inputs: Iterable[str | Path | None] = (),
    probe: bool = True,
    into_sweep: bool = False,
) -> Path:
    """Refuse, with one line, an output path that exists and is not a regular writable
    file (a device, a FIFO, a symbolic link, a folder, a read-only file), that is one of
    the command's ``inputs`` or the per-salvo file beside one (writing would destroy it),
    that names a folder (a string ending in ``/``), that lies inside a costx sweep folder
    (unless ``into_sweep``: the sweep writing its own points), or whose folder does not
    exist or cannot take a new file: writing replaces the target by renaming a new file
    onto it, which would replace a device node or a symbolic link itself, or a file its
    owner protected. Called before any work, so that a run is not lost to its output path
    (``probe=False``: not whether the folder takes a file, which the write itself finds).
    """
    if isinstance(path, str):
        path = as_file_path(path, "path")
    path = Path(path)
    for given in inputs:
        if given is None:
            continue
        if _same_file(path, Path(given)):
            raise InputError(
                f"{path}: is the input file {given}; writing would destroy it (give another name)"
            )
        if Path(given).suffix == ".parquet" and _same_file(path, salvos_path(Path(given))):
            raise InputError(
                f"{path}: is the per-salvo file of the input file {given}; writing would "
                "destroy it (give another name)"
            )
    if not into_sweep:
        check_not_in_sweep(path)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except OSError as err:
        raise InputError(f"{path}: cannot write: {err.strerror or err}") from None
    if st is not None:
        if stat.S_ISLNK(st.st_mode):
            what = "a symbolic link"
        elif stat.S_ISDIR(st.st_mode):
            what = "a folder"
        elif not stat.S_ISREG(st.st_mode):
            what = "a device, FIFO or socket"
        elif not st.st_mode & 0o222 or not os.access(path, os.W_OK):
            what = "a read-only file"
        else:
            what = None
        if what is not None:
            raise InputError(
                f"{path}: exists and is {what}, not a regular writable file; costx "
                "replaces only regular files (give another name)"
            )
    if not folder.is_dir():
        raise InputError(f"{path}: folder {folder} does not exist")
    if probe:
        _check_writable_folder(path, folder)
    return path


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # either does not exist (a bundled scenario's name, a new output)
        return False


def _check_writable_folder(path: Path, folder: Path) -> None:
    """Refuse a folder that cannot take a new file (permissions, a read-only file system,
    an immutable folder, /proc): the same temporary file the write makes, made and
    removed at once, since permission bits alone do not tell (root, read-only mounts)."""
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as err:
        raise InputError(
            f"{path}: cannot write in folder {folder}: {err.strerror or err}"
        ) from None
    try:
        os.close(fd)
    finally:
        Path(probe).unlink(missing_ok=True)


def _usual_mode(fd: int) -> None:
    """Give a temporary file the mode a plain open() would (mkstemp makes it 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    os.fchmod(fd, 0o666 & ~mask)


def _write_temporary(path: Path, write: Callable, into_sweep: bool = False) -> str:
    """Call ``write(file)`` on a new temporary file next to ``path``; its name, once the
    data is on disk. On any error (or interruption) the temporary file is removed."""
    # making the temporary file is the probe
    check_output_path(path, probe=False, into_sweep=into_sweep)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as err:
        raise InputError(f"{path}: cannot write: {err.strerror or err}") from None
    try:
        _usual_mode(fd)
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as err:  # disk full, permission denied...
        Path(tmp).unlink(missing_ok=True)
        raise InputError(f"{path}: cannot write: {err.strerror or err}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


@contextlib.contextmanager
def _interrupts_held(paths: list[Path]) -> Iterator[None]:
    """Hold back Ctrl-C (SIGINT) until the block is done, then raise
    :class:`WrittenThenInterrupted` if one came; outside the main thread (where Python
    cannot install signal handlers) the block runs unprotected."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise WrittenThenInterrupted([str(p) for p in paths])


def _commit(pairs: list[tuple[str, Path]]) -> None:
    """Rename every (temporary, final) pair into place, in order, with Ctrl-C held back
    (the undo too); if a rename fails, the files renamed before it are undone, each once,
    newest first: a file they replaced is put back (from a hard link made before the
    renames), a new one removed, so that no new file is left beside an old one and no old
    one is lost. The error says what was put back or removed, and names the backup of any
    file that could not be put back (kept for the user); the temporaries and every other
    backup are deleted."""
    backups: dict[Path, str] = {}  # target -> a hard link to the file it replaces
    kept: set[str] = set()  # backups that could not be put back: left for the user
    done: list[Path] = []
    try:
        with _interrupts_held([path for _, path in pairs]):
            try:
                for _, path in pairs:
                    if path not in backups:
                        backup = _link_aside(path)
                        if backup is not None:
                            backups[path] = backup
                for tmp, path in pairs:
                    os.replace(tmp, path)
                    done.append(path)
            except OSError as err:
                failed = pairs[len(done)][1]
                raise InputError(
                    f"{failed}: cannot write: {err.strerror or err}{_undo(done, backups, kept)}"
                ) from None
    finally:
        for tmp, _ in pairs:
            Path(tmp).unlink(missing_ok=True)
        for backup in backups.values():
            if backup not in kept:
                Path(backup).unlink(missing_ok=True)


def _undo(done: list[Path], backups: dict[Path, str], kept: set[str]) -> str:
    """Undo the renames of ``done`` (each path once, newest first); what was done, for
    the error message."""
    restored, removed, failed = [], [], []
    for path in reversed(list(dict.fromkeys(done))):
        try:
            if path in backups:
                os.replace(backups[path], path)
                restored.append(path.name)
            else:
                path.unlink(missing_ok=True)
                removed.append(path.name)
        except OSError:
            if path in backups:
                kept.add(backups[path])
                failed.append(f"{path.name} (its previous file is {backups[path]})")
            else:
                failed.append(path.name)
    parts = []
    if restored:
        parts.append(f"put back {', '.join(restored)} as they were")
    if removed:
        parts.append(f"removed the new {', '.join(removed)} again")
    if failed:
        parts.append(f"could not undo {', '.join(failed)}")
    return f" ({'; '.join(parts)})" if parts else ""


def _link_aside(path: Path) -> str | None:
    """A hard link to ``path``'s current file under a temporary name beside it (None if
    there is no file, or the file system cannot link: then a failed commit removes the
    new file and the old one is lost, as a plain rename would have lost it)."""
    if not path.is_file():
        return None
    backup = str(path.parent / f".{path.name}.{uuid.uuid4().hex}.old.tmp")
    try:
        os.link(path, backup)
    except OSError:
        return None
    return backup


def _write_atomic(path: Path, write, into_sweep: bool = False) -> Path:
    """Call ``write(file)`` on a temporary file in the target folder, then rename it into
    place; on any error (or interruption) the temporary file is removed."""
    path = Path(path)
    _commit([(_write_temporary(path, write, into_sweep), path)])
    return path


def write_files_atomic(items: Iterable[tuple[str | Path, Callable]]) -> list[Path]:
    """Write several files all or none: ``write(file)`` of each (path, write) into a
    temporary file beside its path (``items`` may be a generator, so that each is made
    just before it is written), then every one renamed into place together. A path that
    is not a regular writable file (a symbolic link, a folder: :func:`check_output_path`)
    or any error leaves none of them written and no temporary file behind."""
    pairs: list[tuple[str, Path]] = []
    try:
        for path, write in items:
            pairs.append((_write_temporary(Path(path), write), Path(path)))
    except BaseException:
        for tmp, _ in pairs:
            Path(tmp).unlink(missing_ok=True)
        raise
    _commit(pairs)
    return [path for _, path in pairs]


def make_folder(folder: str | Path) -> list[Path]:
    """Create ``folder`` and any missing parents; the folders made, outermost first (to
    remove again if the work that needed them fails), or an InputError naming it."""
    folder = Path(folder)
    made = [p for p in (folder, *folder.parents) if not p.exists()][::-1]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:  # a regular file on the way, no permission, /proc
        raise InputError(f"{folder}: cannot make the folder: {err.strerror or err}") from None
    if not folder.is_dir():
        raise InputError(f"{folder}: exists and is not a folder")
    return made


def remove_folders(made: list[Path]) -> None:
    """Remove the folders :func:`make_folder` made, innermost first, where still empty."""
    for folder in reversed(made):
        try:
            folder.rmdir()
        except OSError:
            return


def _write_parquet(table: pa.Table) -> Callable:
    return lambda fh: pq.write_table(table, fh, compression="zstd", write_page_checksum=True)


def write_table_atomic(table: pa.Table, path: Path, into_sweep: bool = False) -> Path:
    """Write ``table`` to ``path`` as Parquet (page checksums on) via a temporary file and
    an atomic rename (``into_sweep``: a sweep's point file, in its own folder)."""
    return _write_atomic(path, _write_parquet(table), into_sweep)


def write_bytes_atomic(data: bytes, path: Path) -> Path:
    """Write ``data`` to ``path`` via a temporary file and an atomic rename."""
    return _write_atomic(path, lambda fh: fh.write(data))


def read_table_verified(path: str | Path) -> pd.DataFrame:
    """A Parquet file's table as pandas, every data page's checksum verified; a damaged
    file is an InputError naming it."""
    try:
        table = pq.read_table(path, page_checksum_verification=True)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except PermissionError:
        raise InputError(f"{path}: cannot read: permission denied") from None
    except (OSError, pa.ArrowException) as err:
        raise InputError(f"{path}: damaged Parquet file ({first_line(err)})") from None
    return table.to_pandas()


def first_line(err: BaseException) -> str:
    """The first line of an error's message (at most 200 characters), for one-line errors."""
    text = str(err).strip().splitlines()
    return text[0][:200] if text else type(err).__name__


@contextlib.contextmanager
def metadata_errors(path: str | Path):
    """Reading a costx file's metadata: a value of the wrong type or a key that is missing
    (KeyError, TypeError, ...) is a damaged file, said in one line naming it; costx's own
    errors pass through (read_result, read_analysis)."""
    try:
        yield
    except CostxError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as err:
        raise InputError(
            f"{path}: damaged costx metadata ({type(err).__name__}: {first_line(err)})"
        ) from None


def environment_metadata() -> dict:
    """When and with what a file was written: ``created`` (UTC, ISO 8601) and the versions
    of costx, Python, NumPy, Numba, pandas and pyarrow (top-level keys of every result
    file's and sweep file's metadata)."""
    return {
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "costx_version": version(),
        "python_version": platform.python_version(),
        "numpy_version": numpy.__version__,
        # Numba's version without importing Numba (slow to import; not needed to write)
        "numba_version": importlib.metadata.version("numba"),
        "pandas_version": pd.__version__,
        "pyarrow_version": pa.__version__,
    }


def result_metadata(result: SimulationResult) -> dict:
    summary = result.summary().reset_index()
    s = result.scenario
    return {
        "format": FORMAT,
        **environment_metadata(),
        "dollar_year": s.scenario.dollar_year,
        "policy": s.scenario.policy,
        "sweep_name": None,  # a result file is not part of a sweep
        "scenario_name": result.scenario.name,
        "scenario_toml": result.scenario.to_toml(),
        "provenance": result.scenario.provenance,
        "seed": result.seed,
        "trials": result.n_trials,
        "kind": "trials" if result.has_trials else "summary",
        "summary": json.loads(summary.to_json(orient="split", index=False)),
        "moments": result.moments.to_dict(),
        # expended, capital, damage and total cost of one raid, and the capital items
        "costs": cost_breakdown(result.scenario, result.summary()),
        # run to a precision: what it reached (None: a fixed number of trials)
        "precision": precision_metadata(getattr(result, "precision", None)),
    }


def precision_metadata(reached) -> dict | None:
    """A run's :class:`costx.aggregate.Precision` as JSON (a half-width of inf, a mean of
    nan as null, which JSON has no number for); None for a run of fixed trials."""
    if reached is None:
        return None
    half, mean = float(reached.half_width), float(reached.mean)
    return {
        "measure": reached.measure,
        "target": float(reached.target),
        "half_width": half if numpy.isfinite(half) else None,
        "trials": int(reached.trials),
        "reached": bool(reached.reached),
        "mean": mean if numpy.isfinite(mean) else None,
    }


def salvos_path(path: Path) -> Path:
    """Where a campaign's per-salvo table is written next to its per-trial table."""
    return path.with_name(f"{path.stem}.salvos.parquet")


def _with_metadata(frame: pd.DataFrame, meta: dict) -> pa.Table:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    merged = dict(table.schema.metadata or {})
    merged[METADATA_KEY] = json.dumps(meta).encode()
    return table.replace_schema_metadata(merged)


def write_result(result: SimulationResult, path: Path) -> Path:
    """Write the result; a campaign's per-salvo table goes to ``NAME.salvos.parquet``.

    Both files are written to temporary files, then renamed into place (per-salvo file
    first) with Ctrl-C held back in between; both carry one random ``pair_id``, which
    :func:`costx.reading.read_result` checks, so a pair cut apart by a crash is refused, not mixed.
    """
    path = Path(path)
    meta = result_metadata(result)
    meta["pair_id"] = uuid.uuid4().hex
    frame = result.trials if result.has_trials else result.summary().reset_index()
    pairs = []
    try:
        if result.has_salvos:
            meta["salvos_file"] = salvos_path(path).name
            check_output_path(path)  # refuse before writing the first of the two
            salvos = _with_metadata(result.salvos, {**meta, "kind": "salvos"})
            pairs.append((_write_temporary(salvos_path(path), _write_parquet(salvos)),
                          salvos_path(path)))  # fmt: skip
        pairs.append((_write_temporary(path, _write_parquet(_with_metadata(frame, meta))), path))
    except BaseException:
        for tmp, _ in pairs:
            Path(tmp).unlink(missing_ok=True)
        raise
    _commit(pairs)
    return path


def _parse_metadata(path: Path, schema: pa.Schema) -> dict:
    raw = (schema.metadata or {}).get(METADATA_KEY)
    if raw is None:
        raise InputError(f"{path}: not a costx result (no costx metadata)")
    try:
        meta = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        meta = None
    if not isinstance(meta, dict):
        raise InputError(f"{path}: damaged costx metadata (not a JSON object)")
    return meta


def read_metadata(path: str | Path) -> dict:
    """The costx metadata of a result file; InputError if it is not one."""
    path = as_path(path, "path")
    try:
        schema = pq.read_schema(path)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except PermissionError:
        raise InputError(f"{path}: cannot read: permission denied") from None
    except (OSError, pa.ArrowException) as err:
        raise InputError(f"{path}: not a Parquet file ({first_line(err)})") from None
    return _parse_metadata(path, schema)
