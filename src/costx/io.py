"""Parquet I/O: results written atomically, with what it takes to reproduce them.

A result file is one Parquet table (the per-trial table, or the summary when trials were
not kept) whose schema metadata under the key ``costx`` holds JSON: the costx version,
the scenario as TOML, the seed, the number of trials, the summary and the exact moments.
Files are written to a temporary file in the target folder and renamed into place, so an
interrupted write never leaves a partial file under the final name.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from costx.errors import InputError

if TYPE_CHECKING:
    from costx.simulation import SimulationResult

METADATA_KEY = b"costx"
FORMAT = "costx.simulation/1"


def _usual_mode(fd: int) -> None:
    """Give a temporary file the mode a plain open() would (mkstemp makes it 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    os.fchmod(fd, 0o666 & ~mask)


def _write_atomic(path: Path, write) -> Path:
    """Call ``write(file)`` on a temporary file in the target folder, then rename it into
    place; on any error (or interruption) the temporary file is removed."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"{path}: folder {folder} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as err:
        raise InputError(f"{path}: cannot write: {err.strerror or err}") from None
    try:
        _usual_mode(fd)
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as err:  # disk full, permission denied, a folder in the way...
        Path(tmp).unlink(missing_ok=True)
        raise InputError(f"{path}: cannot write: {err.strerror or err}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_table_atomic(table: pa.Table, path: Path) -> Path:
    """Write ``table`` to ``path`` as Parquet via a temporary file and an atomic rename."""
    return _write_atomic(path, lambda fh: pq.write_table(table, fh, compression="zstd"))


def write_bytes_atomic(data: bytes, path: Path) -> Path:
    """Write ``data`` to ``path`` via a temporary file and an atomic rename."""
    return _write_atomic(path, lambda fh: fh.write(data))


def result_metadata(result: SimulationResult) -> dict:
    from costx import __version__
    from costx.costing import cost_breakdown

    summary = result.summary().reset_index()
    return {
        "format": FORMAT,
        "costx_version": __version__,
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

    The per-salvo file is written first, so that a per-trial file never refers to a
    per-salvo file that is missing.
    """
    meta = result_metadata(result)
    if result.has_salvos:
        meta["salvos_file"] = salvos_path(path).name
        write_table_atomic(_with_metadata(result.salvos, {**meta, "kind": "salvos"}),
                           salvos_path(path))  # fmt: skip
    frame = result.trials if result.has_trials else result.summary().reset_index()
    return write_table_atomic(_with_metadata(frame, meta), path)


def read_metadata(path: str | Path) -> dict:
    """The costx metadata of a result file; InputError if it is not one."""
    path = Path(path)
    try:
        schema = pq.read_schema(path)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, pa.ArrowInvalid) as err:
        raise InputError(f"{path}: not a Parquet file ({err})") from None
    raw = (schema.metadata or {}).get(METADATA_KEY)
    if raw is None:
        raise InputError(f"{path}: not a costx result (no costx metadata)")
    return json.loads(raw)


def read_result(path: str | Path) -> SimulationResult:
    """Read a result written by ``SimulationResult.to_parquet``."""
    from costx.aggregate import Moments
    from costx.scenario import parse_toml, scenario_from_mapping
    from costx.simulation import SimulationResult

    meta = read_metadata(path)
    if meta.get("kind") == "salvos":
        raise InputError(f"{path}: a per-salvo table; read the per-trial file next to it")
    if meta.get("format") != FORMAT:
        raise InputError(f"{path}: unsupported costx result format {meta.get('format')!r}")
    scenario = scenario_from_mapping(
        parse_toml(meta["scenario_toml"], f"{path}[scenario]"), f"{path}[scenario]"
    )
    scenario._provenance = meta.get("provenance", {})  # where each value came from
    trials = pd.read_parquet(path) if meta["kind"] == "trials" else None
    salvos = None
    if meta.get("salvos_file"):
        salvos_file = Path(path).with_name(meta["salvos_file"])
        if not salvos_file.is_file():
            raise InputError(
                f"{path}: its per-salvo table {salvos_file.name} is missing (keep the two "
                "files together)"
            )
        salvos = pd.read_parquet(salvos_file)
    return SimulationResult(
        scenario,
        int(meta["seed"]),
        int(meta["trials"]),
        Moments.from_dict(meta["moments"]),
        trials,
        salvos=salvos,
    )
