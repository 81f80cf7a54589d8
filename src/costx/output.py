"""How the command line prints a result: tables for people, CSV or JSON for programs.

Every command that prints a result takes ``--format {table,csv,json}`` (``--json`` is
``--format json``) and ``-q``; :func:`add_output_options` adds them to a subcommand and
:class:`Output` prints through them, so the rules are the same for every command:

* ``table`` (the default): tables and notes on stdout, as wide as the terminal (or
  ``COLUMNS``; 132 columns in a pipe or a file when ``COLUMNS`` is not set); prose
  (:meth:`Output.prose`: what a policy means, the assumptions) is wrapped at the same
  width, but at 80 columns in a pipe or a file without ``COLUMNS``;
* ``csv`` and ``json``: only the data on stdout (one CSV table, or one JSON document), so
  that it can be piped into another program; notes such as "wrote FILE" go to stderr;
* ``-q`` (quiet): only the essential result: the data of ``csv``/``json``, or in table
  format the paths of the files a command wrote, one per line (nothing when it wrote
  none). Errors and warnings still go to stderr.

JSON documents are written with ``allow_nan=False``: NaN and infinite numbers (a cost
per kill with no kill, an interval without an upper end) are ``null``; NumPy values are
plain numbers. CSV is written by pandas with full precision.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any

from rich.console import Console

FORMATS = ("table", "csv", "json")
PIPE_WIDTH = 132  # columns of a table written to a pipe or a file when COLUMNS is not set
PROSE_WIDTH = 80  # columns of prose written to a pipe or a file when COLUMNS is not set


class PipeConsole(Console):
    """A console whose closed pipe is the caller's to handle: rich's default exits with
    status 1; costx stops printing and exits 0 (``costx run ... | head -1``: the results
    are written before anything is printed)."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError


def consoles() -> tuple[Console, Console]:
    """(stdout, stderr) consoles for one command: no markup or highlighting in results
    (scenario text and paths may contain [brackets]); as wide as the terminal, else
    ``COLUMNS``, else ``PIPE_WIDTH``. Made per command, so that ``COLUMNS`` set by the
    caller (or a test) is honoured."""
    stdout = PipeConsole(highlight=False, soft_wrap=True, markup=False)
    if not stdout.is_terminal and not _columns_env():
        stdout = PipeConsole(highlight=False, soft_wrap=True, markup=False, width=PIPE_WIDTH)
    stderr = PipeConsole(stderr=True, highlight=False, soft_wrap=True)
    return stdout, stderr


def prose_width(console: Console) -> int:
    """The width prose is wrapped at: the console's at a terminal or with ``COLUMNS``,
    else (a pipe, a file) at most ``PROSE_WIDTH``; tables keep the console's width."""
    if console.is_terminal or _columns_env():
        return console.width
    return min(console.width, PROSE_WIDTH)


def silence_stdout() -> None:
    """After the reader closed stdout: point it at /dev/null, so that the interpreter's
    last flush on exit does not fail again (Python's advice for SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file descriptor (tests)
        pass


def _columns_env() -> int | None:
    text = os.environ.get("COLUMNS", "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else None


def add_output_options(
    parser: argparse.ArgumentParser, formats: tuple[str, ...] | None = FORMATS
) -> None:
    """Add ``-q`` and, with ``formats``, ``--format`` and ``--json`` to a subcommand."""
    group = parser.add_argument_group("output")
    if formats:
        group.add_argument(
            "--format",
            choices=formats,
            default=formats[0],
            dest="output_format",
            help=f"{', '.join(formats)} (default: {formats[0]}); csv and json print only the "
            "data on stdout",
        )
        if "json" in formats:
            group.add_argument(
                "--json",
                action="store_const",
                const="json",
                dest="output_format",
                help="same as --format json",
            )
    group.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print only the essential result (the data, or the files written); errors "
        "still go to stderr",
    )


class Output:
    """Where a command's output goes, by ``--format`` and ``-q`` (see the module)."""

    def __init__(
        self, fmt: str = "table", quiet: bool = False, *, stdout: Console, stderr: Console
    ):
        if fmt not in (*FORMATS, "toml"):
            raise ValueError(f"unknown output format {fmt!r}")
        self.format = fmt
        self.quiet = quiet
        self.stdout = stdout
        self.stderr = stderr

    @classmethod
    def from_args(cls, args: argparse.Namespace, stdout: Console, stderr: Console) -> Output:
        fmt = getattr(args, "output_format", None) or "table"
        return cls(fmt, bool(getattr(args, "quiet", False)), stdout=stdout, stderr=stderr)

    @property
    def is_table(self) -> bool:
        """Whether this is output for people (tables and notes on stdout)."""
        return self.format == "table"

    def show(self, renderable: Any) -> None:
        """A table (or text) for people: printed in table format unless quiet."""
        if self.is_table and not self.quiet:
            self.stdout.print(renderable, soft_wrap=False)  # text wraps at the width

    def prose(self, text: str) -> None:
        """A paragraph for people, wrapped at :func:`prose_width`: printed in table
        format unless quiet."""
        if self.is_table and not self.quiet:
            self.stdout.print(text, width=prose_width(self.stdout), soft_wrap=False)

    def note(self, text: str) -> None:
        """A note about the run ("wrote FILE", timings): stdout in table format, stderr
        with csv/json (stdout carries only the data); nothing when quiet."""
        if self.quiet:
            return
        console = self.stdout if self.is_table else self.stderr
        console.print(text, soft_wrap=True, markup=False, highlight=False)

    def paths(self, *paths: Any) -> None:
        """The files a command wrote: in table format with ``-q``, one per line (what a
        script captures); otherwise the notes say it."""
        if self.is_table and self.quiet:
            for path in paths:
                _write(f"{path}\n")

    def text(self, text: str) -> None:
        """Text that is the result itself (a TOML document): written as it is, never
        wrapped, whatever ``-q`` says."""
        _write(text if text.endswith("\n") else text + "\n")

    def data(
        self,
        *,
        json_doc: Callable[[], Any] | None = None,
        csv_frame: Callable[[], Any] | None = None,
    ) -> None:
        """The data of a csv/json run, built only when asked for: ``json_doc()`` gives a
        JSON-able object, ``csv_frame()`` a pandas DataFrame."""
        if self.format == "json" and json_doc is not None:
            write_json(json_doc())
        elif self.format == "csv" and csv_frame is not None:
            _write(csv_frame().to_csv(index=False, lineterminator="\n"))


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def jsonable(value: Any) -> Any:
    """Plain JSON data: NumPy scalars and arrays as numbers and lists, NaN and infinite
    numbers as None, tuples as lists, other objects (paths) as text."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if hasattr(value, "tolist"):  # NumPy scalars and arrays
        return jsonable(value.tolist())
    if hasattr(value, "item"):
        return jsonable(value.item())
    return str(value)


def write_json(doc: Any) -> None:
    """One JSON document on stdout (indented, then a newline)."""
    _write(json.dumps(jsonable(doc), indent=1, allow_nan=False) + "\n")


def records(frame: Any) -> list[dict]:
    """A DataFrame as a list of row objects (its index, if named, as a column)."""
    if frame.index.name is not None:
        frame = frame.reset_index()
    return [jsonable(row) for row in frame.to_dict(orient="records")]
