"""Errors for users: what is wrong, where (file and field path), and what is allowed."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem in one input: a dotted field path, a message and the offending value."""

    path: str
    message: str
    value: object = None
    show_value: bool = True

    def format(self, source: str) -> str:
        where = f"{source}: {self.path}" if self.path else source
        got = f" (got {self.value!r})" if self.show_value else ""
        return f"{where}: {self.message}{got}"


class CostxError(Exception):
    """Base class of the errors costx raises for bad input; the CLI exits with status 2."""


class ScenarioError(CostxError, ValueError):
    """A scenario file (or mapping) is invalid. ``problems`` lists every problem found."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = list(problems)
        super().__init__("\n".join(p.format(source) for p in self.problems))


class InputError(CostxError, ValueError):
    """Bad input other than a scenario's content: options, paths, result files."""
