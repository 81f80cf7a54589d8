"""Scenarios shipped with costx (package data under costx.data, from the data/ folder)."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from costx.errors import Problem, ScenarioError

DEFAULT_SCENARIO = "ddg_mixed_raid"


def _names(folder: str) -> list[str]:
    """Names of the TOML files in costx.data/<folder>, sorted."""
    entries = resources.files("costx.data").joinpath(folder).iterdir()
    return sorted(e.name.removesuffix(".toml") for e in entries if e.name.endswith(".toml"))


def _text(folder: str, kind: str, name: str) -> str:
    """The text of costx.data/<folder>/<name>.toml; ScenarioError naming the choices."""
    entry = resources.files("costx.data").joinpath(folder).joinpath(f"{name}.toml")
    if not entry.is_file():
        choices = ", ".join(_names(folder))
        message = f"no such file, and no bundled {kind} of that name (bundled: {choices})"
        if Path(name).is_dir():
            message = f"is a folder, not a {kind} file (bundled {kind}s: {choices})"
        raise ScenarioError(name, [Problem("", message, None, False)])
    return entry.read_text(encoding="utf-8")


def _descriptions(folder: str, kind: str, table: str) -> dict[str, str]:
    """Bundled names mapped to the ``description`` of their ``[table]``."""
    out = {}
    for name in _names(folder):
        data = tomllib.loads(_text(folder, kind, name))
        out[name] = str(data.get(table, {}).get("description", ""))
    return out


def scenario_names() -> list[str]:
    """Names of the bundled scenarios, sorted."""
    return _names("scenarios")


def scenario_text(name: str) -> str:
    """The TOML text of a bundled scenario; ScenarioError naming the choices if unknown."""
    return _text("scenarios", "scenario", name)


def scenario_descriptions() -> dict[str, str]:
    """Bundled scenario names mapped to their one-line descriptions."""
    return _descriptions("scenarios", "scenario", "scenario")


def sweep_names() -> list[str]:
    """Names of the bundled sweeps, sorted."""
    return _names("sweeps")


def sweep_text(name: str) -> str:
    """The TOML text of a bundled sweep; ScenarioError naming the choices if unknown."""
    return _text("sweeps", "sweep", name)


def sweep_descriptions() -> dict[str, str]:
    """Bundled sweep names mapped to their one-line descriptions."""
    return _descriptions("sweeps", "sweep", "sweep")
