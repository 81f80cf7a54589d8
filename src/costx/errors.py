"""Errors for users: what is wrong, where (file and field path), and what is allowed."""

from __future__ import annotations

import operator
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
        got = f" (got {_short_repr(self.value)})" if self.show_value else ""
        return f"{where}: {self.message}{got}"


MAX_VALUE_CHARS = 60


def _short_repr(value: object) -> str:
    """repr of an offending value, shortened: a value of hundreds of digits or a huge
    nested table is shown by its start, length and end."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**40:
        digits = len(str(abs(value)))
        return f"{'a negative' if value < 0 else 'an'} integer of {digits} digits"
    try:
        text = repr(value)
    except (RecursionError, ValueError):
        return f"a {type(value).__name__}"
    if len(text) <= MAX_VALUE_CHARS:
        return text
    return f"{text[:40]}...{text[-12:]} ({len(text):,} characters)"


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


class InternalError(CostxError, RuntimeError):
    """A check of costx's own results failed (a bug, not bad input): the message names
    the scenario and what failed. Please report it with the scenario file."""


class EventCapError(InternalError):
    """The engagement kernel passed its bound on the event steps of a salvo
    (costx.lowering.event_cap) instead of finishing it: a bug, never a long raid. The
    message names the scenario, the first trial and salvo affected and the bound."""


def check_int(name: str, value: object, low: int, high: int) -> int:
    """``value`` as a Python int in ``[low, high]`` (any integer type, numpy's included;
    not a bool, a float or a string), else an :class:`InputError` naming ``name``."""
    if _is_bool(value):
        raise InputError(f"{name} must be a whole number, not {value!r}")
    try:
        number = operator.index(value)  # type: ignore[call-overload]
    except TypeError:
        raise InputError(f"{name} must be a whole number, not {value!r}") from None
    if not low <= number <= high:
        raise InputError(f"{name} must be between {low:,} and {high:,}, not {number:,}")
    return number


def check_flag(name: str, value: object) -> bool:
    """``value`` as a bool (Python's or numpy's), else an :class:`InputError`: a string
    such as ``"no"`` would otherwise count as true."""
    if _is_bool(value):
        return bool(value)
    raise InputError(f"{name} must be True or False, not {value!r}")


def _is_bool(value: object) -> bool:
    """A Python or numpy bool (numpy not imported here: start-up time)."""
    kind = type(value)
    return isinstance(value, bool) or (kind.__module__ == "numpy" and "bool" in kind.__name__)
