"""Scenarios shipped with costx (package data under costx.data, from the data/ folder)."""

from __future__ import annotations

import tomllib
from importlib import resources

from costx.errors import Problem, ScenarioError

DEFAULT_SCENARIO = "ddg_mixed_raid"


def _scenario_dir():
    return resources.files("costx.data").joinpath("scenarios")


def scenario_names() -> list[str]:
    """Names of the bundled scenarios, sorted."""
    return sorted(
        entry.name.removesuffix(".toml")
        for entry in _scenario_dir().iterdir()
        if entry.name.endswith(".toml")
    )


def scenario_text(name: str) -> str:
    """The TOML text of a bundled scenario; ScenarioError naming the choices if unknown."""
    entry = _scenario_dir().joinpath(f"{name}.toml")
    if not entry.is_file():
        names = ", ".join(scenario_names())
        raise ScenarioError(
            name,
            [
                Problem(
                    "",
                    f"no such file, and no bundled scenario of that name (bundled: {names})",
                    None,
                    False,
                )
            ],
        )
    return entry.read_text(encoding="utf-8")


def scenario_descriptions() -> dict[str, str]:
    """Bundled scenario names mapped to their one-line descriptions."""
    out = {}
    for name in scenario_names():
        data = tomllib.loads(scenario_text(name))
        out[name] = str(data.get("scenario", {}).get("description", ""))
    return out


def _sweep_dir():
    return resources.files("costx.data").joinpath("sweeps")


def sweep_names() -> list[str]:
    """Names of the bundled sweeps, sorted."""
    return sorted(
        e.name.removesuffix(".toml") for e in _sweep_dir().iterdir() if e.name.endswith(".toml")
    )


def sweep_text(name: str) -> str:
    """The TOML text of a bundled sweep; ScenarioError naming the choices if unknown."""
    entry = _sweep_dir().joinpath(f"{name}.toml")
    if not entry.is_file():
        raise ScenarioError(
            name,
            [
                Problem(
                    "",
                    "no such file, and no bundled sweep of that name "
                    f"(bundled: {', '.join(sweep_names())})",
                    None,
                    False,
                )
            ],
        )
    return entry.read_text(encoding="utf-8")


def sweep_descriptions() -> dict[str, str]:
    out = {}
    for name in sweep_names():
        data = tomllib.loads(sweep_text(name))
        out[name] = str(data.get("sweep", {}).get("description", ""))
    return out
