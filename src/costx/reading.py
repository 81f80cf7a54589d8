"""Reading results back: a result file into a SimulationResult, or a file or a sweep
folder into whichever result it holds.

This sits above the result classes it builds (costx.simulation, costx.sweeps), while
costx.io below them knows only the file format: the classes' own ``to_parquet`` writes
through costx.io, and nothing in the lower layers has to import a result class
(tests/test_layers.py declares the order).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pyarrow as pa

from costx.aggregate import (
    Moments,
    Precision,
    RawTrials,
    n_salvos,
    salvos_frame,
    summary_table,
    trial_integers,
    trials_frame,
)
from costx.analysis import AnalysisResult, is_analysis_file, read_analysis
from costx.errors import InputError
from costx.io import (
    FORMAT,
    as_path,
    first_line,
    metadata_errors,
    read_metadata,
    read_table_verified,
    salvos_path,
)
from costx.scenario import Scenario, parse_toml, scenario_from_mapping
from costx.simulation import MAX_SEED, SimulationResult
from costx.sweeps import SWEEP_FORMAT, SweepResult, is_sweep_folder, read_sweep


def read_result(path: str | Path) -> SimulationResult:
    """Read a result written by ``SimulationResult.to_parquet``.

    Every data page's checksum is verified; a campaign's per-salvo file must carry the
    per-trial file's ``pair_id``. Damage, tampering or a mismatched pair is an
    InputError naming the file.
    """
    path = as_path(path, "path")
    meta = read_metadata(path)
    if meta.get("kind") == "salvos":
        raise InputError(f"{path}: a per-salvo table; read the per-trial file next to it")
    if meta.get("format") == SWEEP_FORMAT or "fingerprint" in meta:
        folder = Path(path).parent
        raise InputError(
            f"{path}: a point file of a costx sweep, not a result file; give its folder "
            f"({folder}) to read the sweep"
        )
    if meta.get("format") != FORMAT:
        raise InputError(f"{path}: unsupported costx result format {meta.get('format')!r}")
    with metadata_errors(path):
        return _result_from(Path(path), meta)


def _result_from(path: Path, meta: dict) -> SimulationResult:
    _check_metadata(path, meta)
    scenario = scenario_from_mapping(
        parse_toml(meta["scenario_toml"], f"{path}[scenario]"), f"{path}[scenario]"
    )
    scenario._provenance = meta.get("provenance", {})  # where each value came from
    if meta["kind"] not in ("trials", "summary"):
        raise InputError(f"{path}: damaged costx metadata (kind {meta['kind']!r})")
    moments = Moments.from_dict(meta["moments"])
    n = meta["trials"]
    # The summary is rebuilt from the moments in the metadata, but the table is still read
    # so that its page checksums are verified, and checked against what costx writes.
    table = read_table_verified(path)
    expected_trials, expected_salvos = _written_tables(scenario)
    if meta["kind"] == "trials":
        _check_table(path, table, expected_trials, n, "trials", f"{n:,} trials")
        trials = table
    else:
        summary = _as_read(summary_table(scenario, moments).reset_index())
        _check_table(path, table, summary, len(summary), "summary",
                     f"a summary of {len(summary):,} measures")  # fmt: skip
        trials = None
    salvos = None
    if meta.get("salvos_file"):
        salvos_file = path.with_name(Path(meta["salvos_file"]).name)
        if not salvos_file.is_file() and salvos_path(path).is_file():
            # copied or renamed as a pair (a.parquet, a.salvos.parquet); the pair_id below
            # still refuses a per-salvo file of another run
            salvos_file = salvos_path(path)
        if not salvos_file.is_file():
            raise InputError(
                f"{path}: its per-salvo table {salvos_file.name} is missing (keep the two "
                "files together)"
            )
        salvos_meta = read_metadata(salvos_file)
        if salvos_meta.get("pair_id") != meta.get("pair_id"):
            raise InputError(
                f"{path}: {salvos_file.name} next to it belongs to another result (its "
                "pair_id differs: the two files were not written together, e.g. a run was "
                "killed between writing them); rerun to write both"
            )
        salvos = read_table_verified(salvos_file)
        if expected_salvos is None:
            raise InputError(f"{path}: damaged costx metadata (a per-salvo table, but the "
                             "scenario is not a campaign)")  # fmt: skip
        per_trial = len(expected_salvos)
        _check_table(salvos_file, salvos, expected_salvos, n * per_trial, "per-salvo",
                     f"{n:,} trials of {per_trial} salvos ({n * per_trial:,} rows)")  # fmt: skip
    result = SimulationResult(scenario, meta["seed"], n, moments, trials, salvos=salvos)
    result.precision = _precision_from(path, meta.get("precision"))
    return result


def _check_metadata(path: Path, meta: dict) -> None:
    """Refuse metadata of the wrong type or value, which would pass here and fail later
    (a provenance that is not a mapping, a negative number of trials)."""
    provenance = meta.get("provenance", {})
    if not isinstance(provenance, dict) or not all(
        isinstance(k, str) and isinstance(v, dict) for k, v in provenance.items()
    ):
        raise InputError(
            f"{path}: damaged costx metadata (provenance must map field paths to records, "
            f"not {type(provenance).__name__})"
        )
    for key, low, high in (("seed", 0, MAX_SEED), ("trials", 1, None)):
        value = meta.get(key)
        if not _is_int(value) or value < low or (high is not None and value > high):
            allowed = f"{low} to {high}" if high is not None else f"at least {low}"
            raise InputError(
                f"{path}: damaged costx metadata ({key} must be an integer, {allowed}; "
                f"not {value!r})"
            )
    moments = meta.get("moments")
    if not isinstance(moments, dict):
        raise InputError(f"{path}: damaged costx metadata (moments must be a mapping)")
    if "n" in moments and moments["n"] != meta["trials"]:
        raise InputError(
            f"{path}: damaged costx metadata (trials {meta['trials']!r}, but its moments are "
            f"over {moments['n']!r} trials)"
        )


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _written_tables(scenario: Scenario) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """One trial's per-trial table and (campaigns) per-salvo table, as costx writes them
    and reads them back: the columns and types a result file must have."""
    base = None
    if scenario.base is not None:
        base = (scenario.base.dispersal_sites, len(scenario.base.assets))
    shape = (n_salvos(scenario), len(scenario.threats), len(scenario.effectors))
    raw = RawTrials.allocate(1, *shape, base, ship=scenario.ship is not None)
    trials = trials_frame(scenario, 0, raw, trial_integers(scenario, raw))
    salvos = salvos_frame(scenario, 0, raw) if scenario.campaign is not None else None
    return _as_read(trials), None if salvos is None else _as_read(salvos)


def _as_read(frame: pd.DataFrame) -> pd.DataFrame:
    return pa.Table.from_pandas(frame, preserve_index=False).to_pandas()


def _check_table(path: Path, table: pd.DataFrame, expected: pd.DataFrame, rows: int,
                 what: str, recorded: str) -> None:  # fmt: skip
    """Refuse a table whose columns, types or number of rows are not those costx writes
    (a column dropped or retyped, rows filtered out, with the metadata kept)."""
    for column in expected.columns:
        if column not in table.columns:
            raise InputError(
                f"{path}: column {column!r} is missing (a costx {what} table has "
                f"{', '.join(expected.columns[:4])}, ...; rerun to write it whole)"
            )
        if table[column].dtype != expected[column].dtype:
            raise InputError(
                f"{path}: column {column!r} is {table[column].dtype}, not "
                f"{expected[column].dtype} as costx writes it (rerun to write it whole)"
            )
    extra = [c for c in table.columns if c not in expected.columns]
    if extra:
        raise InputError(
            f"{path}: column {extra[0]!r} is not one costx writes in this scenario's {what} "
            "table (rerun to write it whole)"
        )
    if len(table) != rows:
        raise InputError(
            f"{path}: {len(table):,} rows, but its metadata records {recorded} (rows were "
            "filtered out or added after costx wrote it; use the whole file or rerun)"
        )


def _precision_from(path: Path, saved) -> Precision | None:
    """What a run to a precision reached, as the metadata records it (None: a run of a
    fixed number of trials, or a file written before costx saved it)."""
    if saved is None:
        return None
    try:
        half = saved["half_width"]
        mean = saved["mean"]
        return Precision(
            str(saved["measure"]),
            float(saved["target"]),
            math.inf if half is None else float(half),
            int(saved["trials"]),
            bool(saved["reached"]),
            math.nan if mean is None else float(mean),
        )
    except (KeyError, TypeError, ValueError) as err:
        raise InputError(
            f"{path}: damaged costx metadata (precision: {type(err).__name__}: {first_line(err)})"
        ) from None


def load_results(path: str | Path) -> SimulationResult | SweepResult | AnalysisResult:
    """A result file (``SimulationResult.to_parquet``), an analysis file
    (``AnalysisResult.to_parquet``) or a sweep folder, read back."""
    path = Path(path)
    if path.is_dir():
        if is_sweep_folder(path):
            return read_sweep(path)
        raise InputError(
            f"{path}: a folder, but not a costx sweep folder (no point-NNNN.parquet files)"
        )
    if path.is_file():
        if is_analysis_file(path):
            return read_analysis(path)
        return read_result(path)
    raise InputError(
        f"{path}: no such file or folder (give a result .parquet file or a sweep folder)"
    )
