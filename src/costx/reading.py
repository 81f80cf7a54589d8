"""Reading results back: a result file into a SimulationResult, or a file or a sweep
folder into whichever result it holds.

This sits above the result classes it builds (costx.simulation, costx.sweeps), while
costx.io below them knows only the file format: the classes' own ``to_parquet`` writes
through costx.io, and nothing in the lower layers has to import a result class
(tests/test_layers.py declares the order).
"""

from __future__ import annotations

from pathlib import Path

from costx.aggregate import Moments
from costx.analysis import AnalysisResult, is_analysis_file, read_analysis
from costx.errors import CostxError, InputError
from costx.io import FORMAT, as_path, first_line, read_metadata, read_table_verified
from costx.scenario import parse_toml, scenario_from_mapping
from costx.simulation import SimulationResult
from costx.sweeps import SweepResult, is_sweep_folder, read_sweep


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
    if meta.get("format") != FORMAT:
        raise InputError(f"{path}: unsupported costx result format {meta.get('format')!r}")
    try:
        return _result_from(Path(path), meta)
    except CostxError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as err:
        raise InputError(
            f"{path}: damaged costx metadata ({type(err).__name__}: {first_line(err)})"
        ) from None


def _result_from(path: Path, meta: dict) -> SimulationResult:
    scenario = scenario_from_mapping(
        parse_toml(meta["scenario_toml"], f"{path}[scenario]"), f"{path}[scenario]"
    )
    scenario._provenance = meta.get("provenance", {})  # where each value came from
    if meta["kind"] not in ("trials", "summary"):
        raise InputError(f"{path}: damaged costx metadata (kind {meta['kind']!r})")
    # The summary is rebuilt from the moments in the metadata, but the table is still read
    # so that its page checksums are verified.
    table = read_table_verified(path)
    trials = table if meta["kind"] == "trials" else None
    salvos = None
    if meta.get("salvos_file"):
        salvos_file = path.with_name(Path(meta["salvos_file"]).name)
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
    return SimulationResult(
        scenario,
        int(meta["seed"]),
        int(meta["trials"]),
        Moments.from_dict(meta["moments"]),
        trials,
        salvos=salvos,
    )


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
