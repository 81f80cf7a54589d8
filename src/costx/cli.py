"""The ``costx`` command line.

User errors (bad scenario files, bad options, unreadable paths, work too large for this
machine) print a readable message, one line per problem (at most ``MAX_ERROR_LINES``,
then a count of the rest), and exit with status 2, never a traceback; interrupted runs
exit with 130, leave no partial output file and say what was saved.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import re
import sys
import textwrap
import threading
import time
import warnings
from pathlib import Path

from rich import box
from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from costx import formatting
from costx._version import version
from costx.bundled import (
    DEFAULT_SCENARIO,
    scenario_descriptions,
    scenario_names,
    sweep_descriptions,
    sweep_names,
)
from costx.errors import CostxError, InputError, ScenarioError
from costx.output import (
    Output,
    _columns_env,
    add_output_options,
    consoles,
    prose_width,
    records,
    silence_stdout,
)
from costx.scenario import (
    MAX_DOLLAR_YEAR,
    POLICY_MEANINGS,
    CostxWarning,
    load_scenario,
    read_scenario_data,
    read_toml_file,
)

EXIT_USAGE = 2
MAX_ERROR_LINES = 50  # error lines printed; the rest are counted
MAX_TRIALS = 10**12  # the bound of simulate() and sweep()
# Results never use markup: scenario text and paths may contain [brackets]. Both consoles
# are made again by main() for every command (costx.output.consoles: the terminal's
# width, else COLUMNS, else 132 columns in a pipe).
stdout, stderr = consoles()


def _positive_int(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _trials(text: str) -> int:
    value = _positive_int(text)
    if value > MAX_TRIALS:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_TRIALS:,}, got {value:,}")
    return value


def _threads(text: str) -> int:
    value = _positive_int(text)
    import numba  # lazy: only a command given --threads, which runs Numba anyway

    limit = numba.config.NUMBA_NUM_THREADS
    if value > limit:
        raise argparse.ArgumentTypeError(
            f"must be at most {limit} (this machine's Numba threads; NUMBA_NUM_THREADS), "
            f"got {value}"
        )
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, not {text!r}") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (0.01 for 1 %), not {text}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 0 <= value < 2**64:
        raise argparse.ArgumentTypeError("must be between 0 and 2**64 - 1")
    return value


class _VersionAction(argparse.Action):
    """``--version``: argparse's own action needs the text when the parser is built, which
    would read the installed version (importlib.metadata, ~25 ms) on every start."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS,
                         help="show costx's version and exit")  # fmt: skip

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"costx {version()}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="costx",
        description="What missile defense really costs: Monte Carlo cost-exchange "
        "analysis of raids against interceptors, railguns and lasers.",
    )
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("scenarios", help="list the bundled scenarios")
    p.set_defaults(func=cmd_scenarios)

    p = sub.add_parser(
        "validate",
        help="check scenario and sweep files",
        description="Check scenario and sweep files (paths or bundled names): a sweep's "
        "scenario and every point of its grid too. Print every problem with its file and "
        "field. Exit status 2 if any is invalid.",
    )
    p.add_argument(
        "scenarios",
        nargs="+",
        metavar="FILE",
        help="a scenario or sweep file, or a bundled scenario's or sweep's name",
    )
    add_output_options(p, ("table", "json"))
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser(
        "show",
        help="print a scenario fully resolved, defaults and catalog values marked",
        description="Print the scenario as the model uses it: every field, with the "
        "values the file leaves out marked '# default', those filled in from the catalog "
        "marked with their entry, assumptions and --set values marked. The TOML output "
        "loads back to the same scenario.",
    )
    p.add_argument("scenario", metavar="SCENARIO", help="a path or a bundled name")
    _add_set_option(p)
    p.add_argument(
        "--dollar-year", type=int, default=None, metavar="Y",
        help="costs in constant dollars of this year (bundled CPI-U index)",
    )  # fmt: skip
    add_output_options(p, ("toml", "json"))
    p.set_defaults(func=cmd_show)

    p = sub.add_parser(
        "run",
        help="simulate a scenario and write its results",
        description="Simulate a scenario, print the summary (means with 95 % confidence "
        "intervals) and write the results as Parquet.",
    )
    p.add_argument(
        "scenario",
        nargs="?",
        default=DEFAULT_SCENARIO,
        metavar="SCENARIO",
        help=f"a path or a bundled name (default: {DEFAULT_SCENARIO})",
    )
    p.add_argument(
        "--trials",
        type=_trials,
        default=None,
        help="default: 100000; with --precision, the most trials to run (default: 10000000)",
    )
    p.add_argument("--seed", type=_seed, default=0, help="default: 0")
    p.add_argument(
        "--precision",
        type=_fraction,
        default=None,
        metavar="F",
        help="run until the 95 %% half-width of --measure is at most F times its mean "
        "(0.01: 1 %%), checking at fixed trial counts",
    )
    p.add_argument(
        "--measure",
        default=None,
        help="the measure of --precision (default: cost_exchange_defense_over_attack)",
    )
    p.add_argument(  # a str: a trailing / (a folder) is refused, not dropped (_file_out)
        "--out", type=str, default=None, help="Parquet file to write (default: NAME.parquet)"
    )
    p.add_argument("--threads", type=_threads, default=None, help="Numba threads")
    p.add_argument(
        "--dollar-year",
        type=int,
        default=None,
        help="report costs in constant dollars of this year (bundled CPI-U index)",
    )
    p.add_argument(
        "--summary-only",
        action="store_true",
        help="aggregate in constant memory and write only the summary",
    )
    p.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    _add_set_option(p)
    p.add_argument(
        "--all",
        action="store_true",
        dest="all_measures",
        help="print every measure with its interval and unit (default: the key measures, "
        "then one compact row per effector, threat and asset)",
    )
    p.add_argument(
        "--assumptions",
        action="store_true",
        help="list every assumed input with its reason (default: their number)",
    )
    add_output_options(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "catalog",
        help="list the cited parameter catalog",
        description="List catalog entries with their values and sources: all, one section, "
        "or one entry (costx catalog effectors sm6).",
    )
    p.add_argument(
        "section",
        nargs="?",
        choices=["effectors", "threats", "assets", "lasers"],
        help="a section (lasers: the effectors of kind laser)",
    )
    p.add_argument("name", nargs="?", help="an entry of that section")
    add_output_options(p)
    p.add_argument(
        "--dwell-table",
        action="store_true",
        help="with lasers: seconds of lasing each catalog laser needs against each catalog "
        "threat that has a kill fluence, by start range (docs/model.md, 'Lasers')",
    )
    p.add_argument(
        "--ranges",
        type=_ranges,
        default=None,
        metavar="KM,KM,...",
        help="start ranges of the dwell table in km (default 0.5,1,2,3,5,8)",
    )
    p.set_defaults(func=cmd_catalog)

    p = sub.add_parser(
        "plot",
        help="draw the figures of a result file or a sweep folder",
        description="Write PNG and SVG figures of a result (a Parquet file written by costx "
        'run) or a sweep (its folder). Needs matplotlib: pip install "costx[plot]".',
    )
    p.add_argument("results", type=Path, metavar="RESULTS")
    p.add_argument("--out", type=Path, required=True, help="folder for the figures")
    p.add_argument("--format", action="append", choices=["png", "svg", "pdf"], default=None)
    add_output_options(p, None)
    p.set_defaults(func=cmd_plot)

    p = sub.add_parser(
        "report",
        help="write a self-contained HTML report of a result or a sweep",
        description="One HTML file with the scenario, the summary tables, the figures, the "
        "assumptions and the sources of every catalog figure used; it opens offline.",
    )
    p.add_argument("results", type=Path, metavar="RESULTS")
    p.add_argument("--out", type=str, required=True, help="the HTML file to write")
    add_output_options(p, None)
    p.set_defaults(func=cmd_report)

    p = sub.add_parser(
        "bench",
        help="measure how fast costx runs on this machine",
        description="Time the benchmark workloads (single_layer against NumPy and pure "
        "Python references, mixed_raid and drone raids under each policy, April 2024, the "
        "air-base campaign, a "
        "bundled sweep, start-up of a fresh process, the random-number floor), or with "
        "SCENARIO your own scenario, and print trials per "
        "second, to size a sweep before launching it. The full pytest-benchmark suite is "
        "in benchmarks/ (see the README).",
    )
    p.add_argument("scenario", nargs="?", default=None, metavar="SCENARIO")
    p.add_argument("--trials", type=_trials, default=200_000)
    p.add_argument(
        "--part",
        action="append",
        choices=["single_layer", "mixed_raid", "campaign", "sweep", "startup", "rng"],
        default=None,
        help="run only this part (repeatable)",
    )
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser(
        "warm",
        help="compile and cache every kernel (once per environment)",
        description="Compile every Numba kernel and store it in the cache (next to the "
        "installed package, or NUMBA_CACHE_DIR), so that later processes, Dask workers "
        "included, load it instead of compiling.",
    )
    p.set_defaults(func=cmd_warm)

    p = sub.add_parser(
        "sweep",
        help="simulate a scenario over a grid of values",
        description="Run a sweep file (a path or a bundled sweep's name) and write a Parquet "
        "dataset: one file per grid point (point-0000.parquet), each the point's row of the "
        "sweep's table. Rerunning into the same folder resumes: points already complete are "
        "skipped (and counted); a folder holding a different sweep is refused.",
    )
    p.add_argument("sweep", metavar="SWEEP", help="a sweep file or a bundled sweep's name")
    p.add_argument("--out", type=Path, required=True, help="folder for the Parquet dataset")
    p.add_argument(
        "--trials",
        type=_trials,
        default=None,
        help="trials per point (default: the file's, else 20000); with --precision, the most "
        "trials of a point (default: the file's, else 10000000)",
    )
    p.add_argument("--seed", type=_seed, default=None)
    p.add_argument(
        "--precision",
        type=_fraction,
        default=None,
        metavar="F",
        help="run each point until the 95 %% half-width of --measure is at most F times the "
        "point's mean (0.01: 1 %%), checking at fixed trial counts (default: the file's)",
    )
    p.add_argument(
        "--measure",
        default=None,
        help="the measure of --precision (default: the file's, else "
        "cost_exchange_defense_over_attack)",
    )
    p.add_argument("--backend", choices=["local", "dask"], default="local")
    p.add_argument(
        "--scheduler", default=None, help="Dask scheduler address (default: a LocalCluster)"
    )
    p.add_argument("--threads", type=_threads, default=None, help="Numba threads (local)")
    p.add_argument("--keep-trials", action="store_true", help="also store per-trial tables")
    p.add_argument(
        "--dollar-year", type=int, default=None, metavar="Y",
        help="report costs in constant dollars of this year (bundled CPI-U index)",
    )  # fmt: skip
    p.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    _add_set_option(p)
    add_output_options(p)
    p.set_defaults(func=cmd_sweep)
    add_analyze_parser(sub)
    return parser


def _set_value(text: str) -> tuple[str, object]:
    """A ``--set PATH=VALUE``: the value read as a TOML value (costx.sweeps.parse_assignment)."""
    from costx.sweeps import parse_assignment  # lazy: pandas, pyarrow (start-up)

    try:
        return parse_assignment(text)
    except CostxError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _add_set_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--set",
        action="append",
        default=[],
        type=_set_value,
        dest="overrides",
        metavar="PATH=VALUE",
        help="change a field as if the scenario file said so (repeatable): a dotted path "
        "with list items by name, as in sweep grids, and a TOML value, e.g. "
        "effectors.sm2.rounds=64 or scenario.policy=cost_aware",
    )


def _overrides(args) -> dict:
    """--set options as a mapping (a path given twice is an error)."""
    out: dict = {}
    for path, value in getattr(args, "overrides", None) or []:
        if path in out:
            raise _usage(f"--set {path}: given twice")
        out[path] = value
    return out


def main(argv: list[str] | None = None) -> int:
    global stdout, stderr
    stdout, stderr = consoles()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("always")
                # printed as they come: a run may go on for minutes after one
                warnings.showwarning = _show_warning
                status = args.func(args)
            sys.stdout.flush()
            return status
        except CostxError as err:
            _errors(str(err).splitlines())
            return EXIT_USAGE
        except KeyboardInterrupt as err:
            stderr.print(_interrupted(args, err), highlight=False, markup=False)
            return 130
    except BrokenPipeError:
        # The reader of stdout stopped (costx run ... | head -1): whatever the command
        # writes to files is written before it prints, so stop quietly, status 0.
        silence_stdout()
        return 0


def output_for(args) -> Output:
    """The command's Output (--format, --json, -q; costx.output)."""
    return Output.from_args(args, stdout, stderr)


def _interrupted(args, err: KeyboardInterrupt) -> str:
    """What an interrupt left behind, in one line."""
    # lazy, for start-up time (pandas, pyarrow); loaded already when they were raised
    from costx.io import WrittenThenInterrupted
    from costx.sweeps import SweepInterrupted

    if isinstance(err, SweepInterrupted):
        return (
            f"interrupted; {err.saved} of {err.total} points are saved in {err.folder}; "
            "rerun the same command to resume"
        )
    if isinstance(err, WrittenThenInterrupted):
        return f"interrupted after the results were written ({', '.join(err.paths)})"
    return "interrupted; no output was written"


def _error(line: str) -> None:
    """One error line; its text is escaped (scenario messages contain [brackets])."""
    stderr.print(f"[bold red]error:[/] {escape(line)}", highlight=False)


def _errors(lines: list[str], limit: int = MAX_ERROR_LINES) -> None:
    """Error lines, at most ``limit``; then one line counting those left out."""
    for line in lines[:limit]:
        _error(line)
    if len(lines) > limit:
        _error(f"... and {len(lines) - limit:,} more problems")


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """``warnings.showwarning`` during a command: a CostxWarning as one line on stderr
    (above a progress bar, which rich keeps below it); other warnings are not shown."""
    if issubclass(category, CostxWarning):
        stderr.print(f"[yellow]warning:[/] {escape(str(message))}", highlight=False)


def cmd_scenarios(args) -> int:
    table = Table(title="Bundled scenarios", title_justify="left")
    table.add_column("name", style="bold")
    table.add_column("description")
    for name, description in scenario_descriptions().items():
        label = f"{name} (default)" if name == DEFAULT_SCENARIO else name
        table.add_row(label, description)
    stdout.print(table)
    sweeps = Table(title="Bundled sweeps (costx sweep NAME --out DIR)", title_justify="left")
    sweeps.add_column("name", style="bold")
    sweeps.add_column("description")
    for name, description in sweep_descriptions().items():
        sweeps.add_row(name, description)
    stdout.print(sweeps)
    return 0


def _is_sweep_file(source: str) -> bool:
    """Whether ``source`` names a sweep: a TOML file with a [sweep] table and no
    [scenario] table, or a bundled sweep's name."""
    path = Path(source)
    if path.is_file():
        try:
            data = read_toml_file(path)  # at most MAX_FILE_BYTES, whatever the file
        except ScenarioError:
            return False  # loading it as a scenario reports the problem
        return isinstance(data.get("sweep"), dict) and "scenario" not in data
    return source in sweep_names() and source not in scenario_names()


def validate_sweep(source: str) -> str:
    """Check a sweep file completely (its table, its scenario and every grid point, as
    ``costx sweep`` does before running anything); a line describing it."""
    # lazy, for start-up time: costx.sweeps imports pandas and pyarrow
    from costx.sweeps import build_points, expand_grid, load_sweep_spec, points_target

    spec = load_sweep_spec(source)
    try:
        points = expand_grid(spec.grid)
        scenarios = build_points(spec.scenario, points, spec.source)
        if not 0 <= spec.baseline < len(points):
            raise InputError(f"sweep.baseline: no point {spec.baseline} (0 .. {len(points) - 1})")
        if spec.precision is not None:  # every point has the measure
            points_target(scenarios, points, spec.precision, spec.measure)
    except InputError as err:
        raise InputError(f"{spec.source}: {err}") from None
    trials = f"{spec.trials:,} trials"
    if spec.precision is not None:
        trials = f"at most {trials}, each to {100 * spec.precision:g} % precision"
    return f"{spec.source} (sweep of {spec.scenario.name}: {len(points)} points x {trials})"


def cmd_validate(args) -> int:
    output = output_for(args)
    status = 0
    report = []
    for source in args.scenarios:
        kind = "sweep" if _is_sweep_file(source) else "scenario"
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                if kind == "sweep":
                    line = validate_sweep(source)
                else:
                    s = load_scenario(source)
                    line = (f"{s.source} ({s.name}: {len(s.threats)} threat groups, "
                            f"{sum(t.count for t in s.threats)} threats, "
                            f"{len(s.effectors)} effectors)")  # fmt: skip
        except CostxError as err:
            status = EXIT_USAGE
            problems = str(err).splitlines()
            _errors(problems)
            report.append({"source": source, "kind": kind, "ok": False, "problems": problems})
            continue
        for w in caught:
            _show_warning(w.message, w.category, w.filename, w.lineno)
        report.append({"source": source, "kind": kind, "ok": True, "problems": [],
                       "warnings": [str(w.message) for w in caught]})  # fmt: skip
        output.show(f"ok: {line}")
    output.data(json_doc=lambda: report)
    return status


def cmd_show(args) -> int:
    from costx.resolved import resolved_fields, resolved_toml  # lazy: start-up time

    # lazy, for start-up time: costx.sweeps imports pandas and pyarrow
    from costx.sweeps import load_scenario_with, set_path

    output = output_for(args)
    _check_dollar_year(args.dollar_year)
    overrides = _overrides(args)
    scenario = load_scenario_with(args.scenario, overrides, dollar_year=args.dollar_year)
    raw, _ = read_scenario_data(args.scenario)
    for path, value in overrides.items():
        set_path(raw, path, value, f"--set {path}")
    chosen = args.dollar_year is not None
    if output.format == "json":
        fields = resolved_fields(scenario, raw, chosen)
        output.data(json_doc=lambda: {
            "scenario": scenario.name,
            "source": scenario.source,
            "dollar_year": scenario.scenario.dollar_year,
            "fields": [
                {"path": f.path, "value": f.value, "origin": f.origin, "entry": f.entry or None,
                 "assumption": f.assumption, "note": f.note}
                for f in fields
            ],
            "data": scenario.to_dict(),
        })  # fmt: skip
        return 0
    output.text(resolved_toml(scenario, raw, chosen))
    return 0


class _DelayedProgress:
    """A rich progress bar that appears only if the run lasts longer than ``delay_s``."""

    def __init__(
        self, total: int, description: str, delay_s: float = 1.0, enabled=True, unit="trials"
    ):
        # lazy, for start-up time: only a run long enough to show a bar needs it
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.enabled = enabled and stderr.is_terminal
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(unit),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=stderr,
            transient=True,
        )
        self.task = self.progress.add_task(description, total=total)
        self.lock = threading.Lock()
        self.closed = False
        self.timer = threading.Timer(delay_s, self._start) if self.enabled else None

    def _start(self) -> None:
        with self.lock:
            if not self.closed:
                self.progress.start()

    def __enter__(self):
        if self.timer is not None:
            self.timer.daemon = True
            self.timer.start()
        return self

    def __call__(self, done: int, total: int) -> None:
        # total moves in a run to a precision (the next check)
        self.progress.update(self.task, completed=done, total=total)

    def __exit__(self, *exc):
        if self.timer is not None:
            self.timer.cancel()
        # Stop only a bar that started: rich's stop() of a bar that never started prints a
        # newline (to stderr, on every short run).
        with self.lock:
            self.closed = True
            if self.progress.live.is_started:
                self.progress.stop()
        return False


SAME_MARK = " *"  # an interval of a value seen in every trial (footnote: SAME_NOTE)
SAME_NOTE = "* the same value in all {n:,} trials (docs/model.md)"


def interval_text(row, n: int | None) -> str:
    """A summary row's 95 % interval for the terminal: as costx.formatting writes it,
    but a value seen in every trial is marked `` *`` (see ``SAME_NOTE``) instead of
    ending in "(same in all 100,000 trials)", so that the column stays narrow."""
    text = formatting.interval(row["ci95_low"], row["ci95_high"], row["unit"],
                               mean=row["mean"], std_error=row["std_error"], n=n)  # fmt: skip
    if n is not None and text.endswith(" trials)") and " (" in text:
        text = text.rsplit(" (", 1)[0] + SAME_MARK
    return text


def summary_rich_table(summary, title: str | None, n: int | None = None, unit=True) -> Table:
    """The summary as a table: mean and 95 % interval by unit (costx.formatting); ``n``,
    the number of trials, lets a value seen in every trial say so (marked ``*``)."""
    table = _table(title)
    table.add_column("measure", no_wrap=True)
    table.add_column("mean", justify="right", no_wrap=True)
    table.add_column("95 % interval", justify="right")
    if unit:
        table.add_column("unit")
    for measure, row in summary.iterrows():
        cells = [str(measure), _mean_text(row), interval_text(row, n)]
        table.add_row(*cells, *([row["unit"]] if unit else []))
    if any(interval_text(row, n).endswith(SAME_MARK) for _, row in summary.iterrows()):
        table.caption = SAME_NOTE.format(n=n)
        table.caption_justify = "left"
    return table


def _table(title: str | None = None) -> Table:
    """A table of the run's layout: a rule under the header and no side borders, so
    that four columns of numbers fit in 80 columns."""
    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
                 show_edge=False, collapse_padding=True)  # fmt: skip


def run_tables(result, all_measures: bool = False) -> list:
    """What ``costx run`` prints for a result (80 columns; docs in the README, "Command
    line"): the key measures (those about the whole raid) with their intervals, then one
    compact row of means per effector, leakers per threat group and losses per asset
    group (every measure with its interval and unit: ``all_measures``)."""
    from costx.aggregate import measure_keys  # lazy: pandas (start-up time)

    summary = result.summary()
    n = result.n_trials
    if all_measures:
        return [summary_rich_table(summary, "Every measure (mean and 95 % interval)", n)]
    keys = measure_keys(result.scenario)
    capital_items = {"capital_cost_shelters_usd", "capital_cost_repair_teams_usd",
                     "capital_cost_dispersal_usd"}  # fmt: skip
    key = summary.loc[[m for m in summary.index if m not in keys and m not in capital_items]]
    out = [summary_rich_table(key, "Key measures (mean and 95 % interval)", n, unit=False)]
    scenario = result.scenario

    def mean(name: str) -> str:
        if name not in summary.index:
            return ""
        return formatting.value(summary.loc[name, "mean"], summary.loc[name, "unit"])

    if scenario.effectors:
        campaign = any(f"p_dry_{e.name}" in summary.index for e in scenario.effectors)
        lasers = any(f"laser_available_{e.name}" in summary.index for e in scenario.effectors)
        table = _table("Per effector (means; every interval: --all)")
        columns = ["effector", "shots", "kills", "cost", SHOT_COST_PER_KILL]
        columns += ["P(dry)"] if campaign else []
        columns += ["available"] if lasers else []
        for c in columns:
            table.add_column(c, justify="left" if c == "effector" else "right", no_wrap=True)
        for e in scenario.effectors:
            row = [e.name, mean(f"shots_{e.name}"), mean(f"kills_{e.name}"),
                   mean(f"cost_{e.name}_usd"), mean(f"cost_per_kill_{e.name}_usd")]  # fmt: skip
            row += [mean(f"p_dry_{e.name}")] if campaign else []
            row += [mean(f"laser_available_{e.name}")] if lasers else []
            table.add_row(*row)
        out.append(Group(table, Text(SHOT_COST_NOTE)))
    launched = [sum(col) for col in zip(*scenario.salvo_counts(), strict=True)]
    table = _table("Leakers per threat group")
    for c in ("threat", "launched", "leakers", "95 % interval"):
        table.add_column(
            c, justify="left" if c == "threat" else "right", no_wrap=c != "95 % interval"
        )
    for t, count in zip(scenario.threats, launched, strict=True):
        table.add_row(t.name, f"{count:,}", *_mean_interval(summary, f"leaked_{t.name}", n))
    out.append(table)
    if scenario.base is not None and scenario.base.assets:
        table = _table("Assets destroyed")
        for c in ("asset", "count", "destroyed", "95 % interval"):
            table.add_column(c, justify="left" if c == "asset" else "right")
        for a in scenario.base.assets:
            table.add_row(
                a.name, f"{a.count:,}", *_mean_interval(summary, f"destroyed_{a.name}", n)
            )
        out.append(table)
    return out


SHOT_COST_PER_KILL = "shot cost per kill"  # the per-effector column: shots, no capital
SHOT_COST_NOTE = "shot cost per kill counts shots only; capital is in cost_per_kill_total_usd"


def _mean_interval(summary, name: str, n: int) -> tuple[str, str]:
    if name not in summary.index:
        return ("", "")
    row = summary.loc[name]
    return _mean_text(row), interval_text(row, n)


def _mean_text(row) -> str:
    """A summary row's mean, written so that it lies within its printed interval."""
    return formatting.mean_text(row["mean"], row["ci95_low"], row["ci95_high"], row["unit"])


def run_document(result, out_paths: list[Path], wall_s: float) -> dict:
    """``costx run --json``: the run, its summary (as ``result.summary()``, one object
    per measure), the cost breakdown, every assumption and the files written."""
    from costx.costing import cost_breakdown  # lazy: start-up time of costx --help

    s = result.scenario
    return {
        "scenario": s.name,
        "source": s.source,
        "trials": result.n_trials,
        "seed": result.seed,
        "policy": s.scenario.policy,
        "dollar_year": s.scenario.dollar_year,
        "summary": records(result.summary()),
        "costs": cost_breakdown(s, result.summary()),
        "assumptions": [{"path": p, "value": v, "why": why} for p, v, why in s.assumptions()],
        "precision": None if result.precision is None else vars(result.precision),
        "files": [str(p) for p in out_paths],
        "elapsed_s": wall_s,
    }


def cmd_run(args) -> int:
    # lazy, for start-up time: the simulation imports Numba, pandas and pyarrow
    from costx.io import check_output_path, salvos_path
    from costx.simulation import simulate

    output = output_for(args)
    _check_dollar_year(args.dollar_year)
    overrides = _overrides(args)
    if overrides:
        from costx.sweeps import load_scenario_with  # lazy: pandas, pyarrow (start-up)

        scenario = load_scenario_with(args.scenario, overrides, dollar_year=args.dollar_year)
    else:
        scenario = load_scenario(args.scenario, dollar_year=args.dollar_year)
    if scenario.policy_warning() is not None:
        stderr.print(f"[yellow]warning:[/] {escape(scenario.policy_warning())}", highlight=False)
    out = _file_out(args.out) if args.out is not None else Path(f"{scenario.name}.parquet")
    if out.exists() and out.is_dir():
        raise _usage(f"--out {out}: is a folder; give a file name")
    if not (out.parent if str(out.parent) else Path(".")).is_dir():
        raise _usage(f"--out {out}: folder {out.parent} does not exist")
    # Refuse a target that writing would clobber before any work is done.
    check_output_path(out, inputs=[args.scenario])
    if scenario.campaign is not None and not args.summary_only:
        check_output_path(salvos_path(out), inputs=[args.scenario])

    from costx.aggregate import PRECISION_CAP  # lazy: pandas (start-up time)

    if args.measure is not None and args.precision is None:
        raise _usage("--measure is the measure of --precision; give --precision too")
    cap = args.trials
    if cap is None:
        cap = 100_000 if args.precision is None else PRECISION_CAP
    started = time.perf_counter()
    with _DelayedProgress(cap, f"{scenario.name}", enabled=not args.no_progress) as bar:
        result = simulate(
            scenario,
            trials=cap,
            seed=args.seed,
            keep_trials=not args.summary_only,
            threads=args.threads,
            progress=bar,
            precision=args.precision,
            measure=args.measure,
        )
    wall = time.perf_counter() - started
    result.to_parquet(out)
    written = [out] + ([salvos_path(out)] if result.has_salvos else [])
    trials = result.n_trials
    output.data(json_doc=lambda: run_document(result, written, wall),
                csv_frame=lambda: result.summary().reset_index())  # fmt: skip
    output.paths(*written)
    output.show(
        f"{scenario.name}: {trials:,} trials, seed {args.seed}, {scenario.scenario.policy} "
        f"policy, costs in {scenario.scenario.dollar_year} dollars"
    )
    for table in run_tables(result, args.all_measures):
        output.show("")
        output.show(table)
    if output.is_table and not output.quiet:
        _print_costs(scenario, result.summary())
        stdout.print()
        output.prose(
            f"policy {scenario.scenario.policy}: {POLICY_MEANINGS[scenario.scenario.policy]}"
        )
        _print_assumptions(scenario, listed=args.assumptions)
    if result.precision is not None:
        output.note(result.precision.describe())
    rate = trials / result.elapsed_s if result.elapsed_s > 0 else float("nan")
    output.note(f"{trials:,} trials in {wall:.2f} s ({rate:,.0f} trials/s); wrote "
                f"{', '.join(map(str, written))}")  # fmt: skip
    if _kernels_compiled():
        output.note("(this run compiled the kernels; later runs load them from the cache)")
    return 0


def _file_out(text: str) -> Path:
    """``--out`` of a command that writes one file, as a Path: one that ends in ``/`` names
    a folder and is refused (Path would drop the ``/`` and write a file of that name)."""
    from costx.io import as_file_path  # lazy: pyarrow (start-up)

    return as_file_path(text, "--out")


def _kernels_compiled() -> bool:
    """Whether this process compiled the engagement kernel instead of loading it."""
    from costx.kernels.engagement import engine_task  # lazy: Numba (start-up time)

    return sum(engine_task.stats.cache_misses.values()) > 0


def cmd_plot(args) -> int:
    # lazy, for start-up time: reading imports Numba, pandas and pyarrow
    from costx.io import check_not_in_sweep
    from costx.plotting import plot_all
    from costx.reading import load_results

    if args.out.exists() and not args.out.is_dir():
        raise _usage(f"--out {args.out}: not a folder")
    check_not_in_sweep(args.out, folder=True)  # before reading and drawing anything
    result = load_results(args.results)
    # plot_all makes the folder, and removes it again if no figure could be written
    written = plot_all(result, args.out, formats=tuple(args.format or ("png", "svg")))
    output = output_for(args)
    output.paths(*written)
    for path in written:
        output.note(f"wrote {path}")
    return 0


def cmd_report(args) -> int:
    # lazy, for start-up time: reading and the report import Numba, pandas and pyarrow
    from costx.io import check_output_path
    from costx.reading import load_results
    from costx.report import write_report

    out = _file_out(args.out)
    check_output_path(out, inputs=[args.results])  # before reading and drawing anything
    path = write_report(load_results(args.results), out)
    output = output_for(args)
    output.paths(path)
    output.note(f"wrote {path}")
    return 0


def cmd_bench(args) -> int:
    from costx.bench import PARTS, suite  # lazy: Numba (start-up time)

    parts = tuple(args.part) if args.part else (() if args.scenario else PARTS)
    with stderr.status("measuring (compiles the kernels on first use)..."):
        rows = suite(parts, trials=args.trials, scenario=args.scenario)
    table = Table(title="costx bench (best of 3 runs, warm kernels)", title_justify="left")
    for column in ("workload", "variant", "trials", "seconds", "trials/s"):
        table.add_column(column, justify="right" if column != "variant" else "left")
    for row in rows:
        if row["workload"] == "rng":
            table.add_row("rng", row["variant"], "", f"{row['seconds'] * 1e9:.2f} ns", "")
            continue
        table.add_row(row["workload"], row["variant"], f"{row['trials']:,}",
                      f"{row['seconds']:.3f}", f"{row['trials_per_s']:,.0f}")  # fmt: skip
    stdout.print(table)
    return 0


def cmd_warm(args) -> int:
    # lazy, for start-up time: Numba and the kernels
    import numba

    from costx.simulation import simulate

    started = time.perf_counter()
    for name in scenario_names():
        data = load_scenario(name).to_dict()
        for policy in ("layered", "cost_aware"):
            data["scenario"]["policy"] = policy
            simulate(data, trials=64, seed=0, keep_trials=False)
    stdout.print(
        f"kernels compiled and cached in {time.perf_counter() - started:.1f} s "
        f"(cache: {numba.config.CACHE_DIR or 'next to the installed package'})"
    )
    return 0


# Which sweep measures stay when a table must be narrowed to the terminal (first = kept
# longest): the answer (leakers, total cost and its ratio) before its parts.
SWEEP_PRIORITY = (
    "leakers",
    "cost_exchange_total_over_attack",
    "total_cost_usd",
    "defense_total_cost_usd",
    "p_any_leak",
    "cost_exchange_total_defense_over_attack",
    "damage_usd",
    "runway_closed_h",
    "salvos_before_first_leak",
    "defense_cost_usd",
    "capital_cost_usd",
    "cost_exchange_defense_over_attack",
    "cost_per_kill_usd",
)


def fit_columns(
    columns: list[tuple[str, list[str]]], keep: int, priority: list[int], width: int | None
) -> list[int]:
    """Indexes of the columns (header, cells) of a boxed rich table that fit in ``width``
    characters: the first ``keep`` always, then the others in ``priority`` order while they
    fit; shown in their original order. ``width`` None: all of them."""
    if width is None:
        return list(range(len(columns)))

    def cost(i: int) -> int:  # the column's text, a space either side and a rule
        header, cells = columns[i]
        return max([len(header), *map(len, cells)]) + 3

    used = 1 + sum(cost(i) for i in range(keep))
    chosen = list(range(keep))
    for i in priority:
        if i >= keep and used + cost(i) <= width:
            chosen.append(i)
            used += cost(i)
    return sorted(chosen)


def _table_width() -> int | None:
    """The width a results table must fit: the terminal's or COLUMNS; None for a pipe
    without COLUMNS (a file gets every column)."""
    if stdout.is_terminal or _columns_env():
        return stdout.width
    return None


SWEEP_HEADERS = {
    "capital_cost_usd": "capital $",
    "defense_total_cost_usd": "defense+capital $",
    "cost_exchange_total_defense_over_attack": "(def+cap)/attack",
    "defense_cost_usd": "defense $",
    "cost_per_kill_usd": "$ per kill",
    "cost_exchange_defense_over_attack": "defense/attack",
    "damage_usd": "damage $",
    "runway_closed_h": "runway closed h",
    "total_cost_usd": "total $",
    "cost_exchange_total_over_attack": "total/attack",
    "salvos_before_first_leak": "salvos before leak",
}


def cmd_sweep(args) -> int:
    # lazy, for start-up time: costx.sweeps imports pandas and pyarrow
    from costx.aggregate import KEY_MEASURES, PRECISION_CAP, PRECISION_FIRST_CHECK
    from costx.sweeps import build_points, check_sweep_limits, expand_grid, load_sweep_spec, sweep

    output = output_for(args)
    _check_scheduler(args)
    _check_dollar_year(args.dollar_year)
    spec = load_sweep_spec(args.sweep, dollar_year=args.dollar_year, overrides=_overrides(args))
    precision = args.precision if args.precision is not None else spec.precision
    measure = args.measure if args.measure is not None else spec.measure
    if args.measure is not None and precision is None:
        raise _usage("--measure is the measure of --precision; give --precision too")
    trials = args.trials if args.trials is not None else spec.trials
    if args.trials is None and precision is not None and not spec.trials_set:
        trials = PRECISION_CAP
    seed = args.seed if args.seed is not None else spec.seed
    keep_trials = args.keep_trials or spec.keep_trials
    try:
        first = trials if precision is None else min(trials, PRECISION_FIRST_CHECK)
        check_sweep_limits(spec.scenario, spec.grid, first, keep_trials)
        n_points = len(build_points(spec.scenario, expand_grid(spec.grid), spec.source))
    except InputError as err:
        raise InputError(f"{spec.source}: {err}") from None
    started = time.perf_counter()
    with _DelayedProgress(
        n_points, f"{spec.scenario.name} sweep", enabled=not args.no_progress, unit="points"
    ) as bar:
        result = sweep(
            spec.scenario,
            spec.grid,
            trials=trials,
            seed=seed,
            backend=args.backend,
            keep_trials=keep_trials,
            baseline=spec.baseline,
            out=args.out,
            scheduler=args.scheduler,
            threads=args.threads,
            progress=bar,
            source=spec.source,
            name=spec.name,
            precision=precision,
            measure=measure,
        )
    wall = time.perf_counter() - started
    table = result.table
    output.data(
        json_doc=lambda: {
            "sweep": spec.name,
            "source": spec.source,
            "scenario": spec.scenario.name,
            "points": n_points,
            "trials": trials,
            "seed": seed,
            "precision": None if result.target is None else vars(result.target),
            "dollar_year": spec.scenario.scenario.dollar_year,
            "baseline": result.baseline,
            "grid": result.grid_columns,
            "reused": result.reused,
            "folder": str(args.out),
            "table": records(table),
        },
        csv_frame=lambda: table,
    )
    output.paths(args.out)
    title = (
        f"{spec.scenario.name}: {n_points} points x {result.trials_text()}, seed {seed}, costs "
        f"in {spec.scenario.scenario.dollar_year} dollars (means; 95 % intervals in the dataset)"
    )
    shown = [c for c in KEY_MEASURES if c in table.columns]
    columns = [  # the last two parts of a path say what it is
        (".".join(c.split(".")[-2:]), [str(v) for v in table[c]]) for c in result.grid_columns
    ]
    if result.target is not None:  # each point's trials, * where the cap stopped it
        pairs = zip(table["trials"], table["precision_reached"], strict=True)
        columns.append(("trials", [f"{n:,}" + ("" if ok else "*") for n, ok in pairs]))
    for c in shown:
        unit = "USD" if c.endswith("_usd") else "probability" if c.startswith("p_") else ""
        columns.append((SWEEP_HEADERS.get(c, c), [formatting.value(v, unit) for v in table[c]]))
    keep = len(result.grid_columns) + (result.target is not None)
    priority = [keep + shown.index(c) for c in SWEEP_PRIORITY if c in shown]
    chosen = fit_columns(columns, keep, priority, _table_width())
    left_out = len(columns) - len(chosen)
    if left_out:
        title += f"; {left_out} more measures with --format csv"
    out = Table(title=title, title_justify="left")
    for i in chosen:
        out.add_column(columns[i][0], justify="right")
    for row in range(len(table)):
        out.add_row(*[columns[i][1][row] for i in chosen])
    if output.is_table and not output.quiet:
        wide = stdout
        if _table_width() is None:
            wide = Console(highlight=False, soft_wrap=True, width=240, markup=False)
        wide.print(out, soft_wrap=False)
    if result.target is not None:
        missed = [i for i, p in enumerate(result.precision) if not p.reached]
        if missed:
            output.note(f"* precision NOT reached (trial cap {trials:,}) at point(s) "
                        f"{', '.join(map(str, missed))}")  # fmt: skip
    ran = n_points - result.reused
    reused = f" ({result.reused} reused from {args.out}, {ran} run)" if result.reused else ""
    output.note(f"{n_points} points{reused} in {wall:.1f} s; wrote {args.out}")
    return 0


def _print_costs(scenario, summary) -> None:
    """Expended, capital and damage side by side, so that the reader sees which dominates,
    then what the capital charge is made of."""
    from costx.costing import cost_breakdown  # lazy: start-up time of costx --help

    costs = cost_breakdown(scenario, summary)
    table = _table(f"Cost of one raid ({costs['costing']['raid']}), {costs['dollar_year']} dollars")
    for column in ("", "mean", "95 % interval", "share"):
        table.add_column(column, justify="left" if not column else "right")
    labels = {
        "expended_usd": "expended (rounds, shots, barrel wear)",
        "capital_usd": "capital (acquisition, amortized)",
        "damage_usd": "damage (value lost to leakers)",
        "total_usd": "total",
    }
    for key, label in labels.items():
        part = costs[key]
        if part is None:
            continue
        interval = formatting.interval(part["ci95_low"], part["ci95_high"], "USD")
        share = "" if math.isnan(part["share"]) else formatting.percent(part["share"])
        mean = formatting.mean_text(part["mean"], part["ci95_low"], part["ci95_high"], "USD")
        table.add_row(label, mean, interval, share)
    stdout.print()
    stdout.print(table)
    charged = [it for it in costs["capital_items"] if it["charge_usd"] > 0]
    if charged:
        c = costs["costing"]
        lines = _table(
            "Capital per raid = acquisition x capital recovery factor (CRF) / raids a year\n"
            f"({100 * c['discount_rate']:g} % real, {c['raids_per_year']:g} raids a year)"
        )
        for column in ("item", "units", "unit cost", "acquisition", "life (y)", "CRF", "per raid"):
            lines.add_column(column, justify="left" if column == "item" else "right")
        for it in charged:
            lines.add_row(
                it["item"], str(it["units"]), formatting.usd(it["unit_cost_usd"]),
                formatting.usd(it["acquisition_usd"]), f"{it['service_life_years']:g}",
                f"{it['crf']:.4f}", formatting.usd(it["charge_usd"]),
            )  # fmt: skip
        stdout.print()
        stdout.print(lines)


def _print_assumptions(scenario, listed: bool = False) -> None:
    """The assumed inputs, so that nobody mistakes them for data: their number and how to
    see them, or (``listed``) every one with its reason."""
    rows = scenario.assumptions()
    if not rows:
        return
    stdout.print()
    width = prose_width(stdout)  # wrapped, at 80 columns in a pipe (costx.output)
    if not listed:
        stdout.print(
            f"{len(rows)} inputs are assumptions, values no source gives for this case "
            "(choices, placeholders, stand-ins; sweep them): list "
            f"them with --assumptions; costx show {scenario.source.removeprefix('bundled:')} "
            "marks them in the scenario",
            soft_wrap=False,
            width=width,
        )
        return
    stdout.print(
        "Assumptions: values no source gives for this case (choices, placeholders, stand-ins; "
        "a reason names any source it rests on; sweep them)",
        soft_wrap=False,
        width=width,
    )
    width = max(40, width - 4)
    for path, value, rationale in rows:
        stdout.print(f"{path} = {value}", soft_wrap=False, width=width + 4)
        why = textwrap.fill(rationale, width=width, initial_indent="    ",
                            subsequent_indent="    ")  # fmt: skip
        stdout.print(why, soft_wrap=True)


def _ranges(text: str) -> list[float]:
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of ranges in km: {text!r}") from None
    if not values or not all(math.isfinite(v) and v > 0 for v in values):
        raise argparse.ArgumentTypeError(f"ranges must be positive numbers of km: {text!r}")
    return values


def cmd_catalog(args) -> int:
    # lazy, for start-up time: `costx --help` and `costx run` need no catalog listing
    from costx.catalog import COST_FIELDS, SECTIONS, load_catalog

    output = output_for(args)
    catalog = load_catalog()
    if args.dwell_table or args.ranges is not None:
        if not args.dwell_table:
            raise _usage("--ranges goes with --dwell-table: costx catalog lasers "
                         "--dwell-table --ranges KM,...")  # fmt: skip
        if args.section != "lasers" or args.name:
            raise _usage("--dwell-table goes with `costx catalog lasers` (no entry name)")
        return _dwell_table(args.ranges)
    lasers_only = args.section == "lasers"
    sections = ["effectors"] if lasers_only else [args.section] if args.section else list(SECTIONS)
    if args.name:
        entry = catalog.entry(sections[0], args.name)
        if lasers_only and entry is not None and entry.kind != "laser":
            entry = None
        if entry is None:
            names = catalog.entries.get(sections[0], {})
            if lasers_only:
                names = {k: e for k, e in names.items() if e.kind == "laser"}
            what = "laser" if lasers_only else f"{sections[0]} entry"
            raise _usage(f"no {what} {args.name!r} in the catalog ({', '.join(sorted(names))})")
        used = {k for rec in entry.fields.values() for k in rec.sources}
        used = sorted(used | set(entry.info.get("info_sources", [])))
        output.data(
            json_doc=lambda: {
                "section": sections[0], "name": entry.key, "label": entry.label,
                "kind": entry.kind, "description": entry.description,
                "fields": {name: rec.as_dict() for name, rec in entry.fields.items()},
                "info": dict(entry.info),
                "sources": {k: catalog.sources.get(k, {}) for k in used},
            },
            csv_frame=lambda: _entry_frame(entry),
        )  # fmt: skip
        if not output.is_table:
            return 0
        if output.quiet:  # -q: the figures alone, one per line
            for name, rec in entry.fields.items():
                output.text(f"{name} = {rec.value}")
            return 0
        table = Table(title=f"{entry.label} ({sections[0]}.{entry.key}): {entry.description}",
                      title_justify="left")  # fmt: skip
        for column in ("field", "value", "source / assumption", "year", "$ year", "tier", "note"):
            table.add_column(column)
        for name, rec in entry.fields.items():
            if rec.assumption:
                origin = f"ASSUMPTION: {rec.rationale}"
                if rec.low is not None:
                    origin += (f" Plausible range {formatting.exact(rec.low)} to "
                               f"{formatting.exact(rec.high)}: {rec.range_rationale}")  # fmt: skip
            else:
                origin = ", ".join(
                    f"{k} {catalog.sources.get(k, {}).get('publisher', '?')}" for k in rec.sources
                )
            table.add_row(
                name,
                formatting.exact(rec.value),
                origin,
                str(rec.year or ""),
                str(rec.dollar_year or ""),
                rec.confidence or "",
                rec.note,
            )
        output.show(table)
        if entry.info:  # figures no run uses ([NAME.info], docs/catalog.md)
            figures = "; ".join(f"{k} = {formatting.exact(v)}" for k, v in entry.info.items()
                                if k not in ("info_sources", "note"))  # fmt: skip
            cited = ", ".join(entry.info.get("info_sources", []))
            output.show(f"info (not used by runs): {figures}" + (f" [{cited}]" if cited else ""))
            if entry.info.get("note"):
                output.show(f"  {entry.info['note']}")
        for key in used:
            src = catalog.sources.get(key, {})
            urls = src.get("url", "")
            urls = " ; ".join(urls) if isinstance(urls, list) else urls
            output.show(
                f"[{key}] {src.get('title', '?')}. {src.get('publisher', '')}, "
                f"{src.get('date', '')}. {urls} (tier {src.get('tier', '?')})"
            )
        return 0
    rows = []
    for section in sections:
        for key, entry in sorted(catalog.entries.get(section, {}).items()):
            if lasers_only and entry.kind != "laser":
                continue
            assumed = sum(rec.assumption for rec in entry.fields.values())
            cost_field = next((f for f in COST_FIELDS if f in entry.fields), None)
            cost = entry.fields[cost_field] if cost_field else None
            rows.append({
                "section": section, "name": key, "label": entry.label, "kind": entry.kind,
                "cost_field": cost_field, "cost": None if cost is None else cost.value,
                "cost_dollar_year": None if cost is None else cost.dollar_year,
                "cost_assumed": None if cost is None else cost.assumption,
                "figures": len(entry.fields) - assumed, "assumed": assumed,
                "sources": sorted({k for rec in entry.fields.values() for k in rec.sources}),
            })  # fmt: skip
    output.data(json_doc=lambda: rows, csv_frame=lambda: _frame(rows))
    if output.quiet and output.is_table:  # -q: the entry names, one per line
        for row in rows:
            output.text(f"{row['section']} {row['name']}")
        return 0
    for section in sections:
        title = "lasers (effectors of kind laser)" if lasers_only else section
        table = Table(title=f"Catalog: {title}", title_justify="left")
        listed = [r for r in rows if r["section"] == section]
        kinds = any(r["kind"] for r in listed)  # threats and assets have none
        # the cost the column gives (a laser's is per shot): the field most rows have;
        # a row with another field names it
        fields = [r["cost_field"] for r in listed if r["cost_field"]]
        common = max(fields, key=fields.count) if fields else None
        cost_header = f"{_cost_name(common) if common else 'cost'} (USD, $ year)"
        for column in ("name", "label", *(["kind"] if kinds else []), cost_header, "figures",
                       "assumed", "sources"):  # fmt: skip
            table.add_column(column, justify="right" if column == cost_header else "left")
        for row in listed:
            cost_text = ""
            if row["cost"] is not None:
                notes = [_cost_name(row["cost_field"])] if row["cost_field"] != common else []
                notes += ["assumed"] if row["cost_assumed"] else []
                mark = f" ({', '.join(notes)})" if notes else ""
                cost_text = (
                    f"{formatting.exact(row['cost'])} ({row['cost_dollar_year'] or '?'}){mark}"
                )
            sources = ", ".join(row["sources"])
            table.add_row(row["name"], row["label"], *([row["kind"] or ""] if kinds else []),
                          cost_text, str(row["figures"]), str(row["assumed"]),
                          sources)  # fmt: skip
        output.show(table)
        output.show(f"costx catalog {section} NAME: every figure of an entry, with its source")
    return 0


def _cost_name(field: str) -> str:
    """A catalog cost field as a column header: ``cost_per_shot_usd`` -> ``cost per shot``,
    ``unit_cost_usd`` -> ``unit cost``."""
    return field.removesuffix("_usd").replace("_", " ")


def _frame(rows: list[dict]):
    """Rows as a DataFrame for CSV (lists joined by ';', tables as JSON)."""
    import pandas as pd  # lazy: start-up time (only --format csv needs it)

    def cell(v):
        if isinstance(v, list):
            return ";".join(map(str, v))
        if isinstance(v, dict):
            return json.dumps(v)
        return v

    return pd.DataFrame([{k: cell(v) for k, v in row.items()} for row in rows])


def _entry_frame(entry):
    """One catalog entry as CSV rows: one per field, with its source or rationale."""
    return _frame([{"field": name, **rec.as_dict()} for name, rec in entry.fields.items()])


def _dwell_table(ranges) -> int:
    from costx.dwell import DEFAULT_RANGES_KM, dwell_table  # lazy: Numba (start-up time)

    ranges = list(DEFAULT_RANGES_KM if ranges is None else ranges)
    table = Table(
        title="Seconds of lasing to kill, by start range (catalog lasers and threats, their "
        "own atmosphere; '-': cannot kill from there)",
        title_justify="left",
    )
    table.add_column("laser")
    table.add_column("threat")
    for r in ranges:
        table.add_column(f"{r:g} km", justify="right")
    for laser, threat, dwell in dwell_table(ranges_km=ranges):
        table.add_row(
            laser, threat, *("-" if math.isinf(d) else formatting.number(d) for d in dwell)
        )
    stdout.print(table)
    stdout.print(
        "Start range: the threat's range when a unit starts on it; the track/settle time "
        "(settle_s) comes first and is not counted. costx.dwell_time(laser, threat, km) "
        "gives any one value, also in another atmosphere."
    )
    return 0


# An analysis's keywords and the options of `costx analyze` that give them: its errors
# name the keyword (offsets['effectors.sm2.rounds']: ...), the CLI the option.
_ANALYSIS_OPTIONS = (
    ("precision_measure", "--precision-measure"), ("budget_usd", "--budget"),
    ("offsets", "--offset"), ("require", "--require"), ("choices", "--choice"),
    ("mix", "--mix"), ("ranges", "--range"), ("tol", "--tol"), ("bounds", "--bounds"),
    ("vary", "--vary"), ("hold", "--hold"), ("threat", "--threat"), ("add", "--add"),
    ("against", "--against"), ("minimize", "--minimize"), ("maximize", "--maximize"),
    ("measure", "--measure"), ("screen_trials", "--screen-trials"), ("top", "--top"),
    ("max_steps", "--max-steps"),
)  # fmt: skip


def _option_named(message: str) -> str:
    """An analysis error that begins with a keyword (``require['leakers']: ...``), begun
    with the option instead (``--require 'leakers': ...``)."""
    for keyword, option in _ANALYSIS_OPTIONS:
        found = re.match(rf"{keyword}(\[([^\]]*)\])?(?=[: ])", message)
        if found:
            key = f" {found.group(2)}" if found.group(2) else ""
            return f"{option}{key}{message[found.end() :]}"
    return message


@contextlib.contextmanager
def _flags_named():
    try:
        yield
    except InputError as err:
        raise InputError(_option_named(str(err))) from None


def _check_scheduler(args) -> None:
    """--scheduler names the Dask scheduler of --backend dask: with the local backend it
    would be ignored without a word."""
    if args.scheduler is not None and args.backend != "dask":
        raise _usage("--scheduler is the Dask scheduler of --backend dask; give --backend dask")
    if args.threads is not None and args.backend == "dask":
        raise _usage(
            "--threads sets this machine's Numba threads (--backend local); with "
            "--backend dask each worker uses its own (NUMBA_NUM_THREADS there)"
        )


def _check_dollar_year(year: int | None) -> None:
    """``--dollar-year`` outside the years costx can convert to is the option's fault, not
    the scenario file's: say so before loading anything."""
    from costx.catalog import load_catalog  # lazy: start-up time of costx --help

    if year is None:
        return
    first = min(load_catalog().price_index)
    if not first <= year <= MAX_DOLLAR_YEAR:
        raise _usage(
            f"--dollar-year {year}: must be between {first} (the bundled price index starts "
            f"then) and {MAX_DOLLAR_YEAR}"
        )


def _usage(message: str) -> CostxError:
    return InputError(message)


# -- costx analyze -------------------------------------------------------------------------
# The decision analyses of costx.analysis (docs/model.md, "Decision analysis"), one
# subcommand each. Values on the command line are read as TOML values (8, 0.5, true,
# "text"); anything that is not one is taken as text.

ANALYSES = ("margin", "break-even", "cheapest", "worst-raid", "sensitivity")


def _toml_value(text: str):
    """A value as ``--set`` reads it (costx.sweeps.parse_assignment): a TOML value, else
    the text itself."""
    from costx.sweeps import parse_assignment  # lazy: pandas, pyarrow (start-up)

    return parse_assignment(f"v={text.strip()}")[1]


def _assignment(text: str) -> tuple[str, object]:
    """PATH=VALUE (a TOML value), as ``--set``."""
    return _set_value(text)


def _list_assignment(text: str) -> tuple[str, list]:
    """PATH=V1,V2,... (TOML values)."""
    path, sep, values = text.partition("=")
    items = [v for v in values.split(",") if v.strip()]
    if not sep or not path.strip() or not items:
        raise argparse.ArgumentTypeError(f"expected PATH=V1,V2,..., got {text!r}")
    return path.strip(), [_toml_value(v) for v in items]


def _range_assignment(text: str) -> tuple[str, tuple]:
    """PATH=LOW:HIGH."""
    path, sep, values = text.partition("=")
    low, colon, high = values.partition(":")
    if not sep or not colon or not path.strip() or not low.strip() or not high.strip():
        raise argparse.ArgumentTypeError(f"expected PATH=LOW:HIGH, got {text!r}")
    return path.strip(), (_toml_value(low), _toml_value(high))


def _requirement(text: str) -> tuple[str, str]:
    """MEASURE<=BOUND or MEASURE>=BOUND."""
    for op in ("<=", ">="):
        name, sep, bound = text.partition(op)
        if sep and name.strip() and bound.strip():
            return name.strip(), f"{op} {bound.strip()}"
    raise argparse.ArgumentTypeError(f"expected MEASURE<=BOUND or MEASURE>=BOUND, got {text!r}")


def _usd_amount(text: str) -> float:
    try:
        value = float(text.replace("_", "").replace(",", "").lstrip("$"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an amount in dollars, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite amount, got {text!r}")
    return value


def add_analyze_parser(sub) -> None:
    p = sub.add_parser(
        "analyze",
        help="answer a decision question (margin, break-even, cheapest, worst-raid, sensitivity)",
        description="Decision analyses built on paired simulations (common random "
        "numbers): the marginal cost-exchange ratio, the break-even value of an input, the "
        "cheapest posture meeting requirements, the attacker's worst raid within a budget, "
        "and which assumption moves the answer. Each prints its answer with 95 % intervals "
        "and writes a Parquet table with its inputs in the metadata (costx plot and costx "
        "report read it).",
    )
    kinds = p.add_subparsers(dest="analysis", metavar="ANALYSIS", required=True)

    def common(q) -> None:
        q.add_argument("scenario", metavar="SCENARIO", help="a path or a bundled name")
        _add_set_option(q)  # as costx run: the scenario changed before the analysis
        q.add_argument("--trials", type=_trials, default=None,
                       help="trials per confirmed evaluation (default: 20000); with "
                       "--precision, the most (default: 1000000)")  # fmt: skip
        q.add_argument("--seed", type=_seed, default=0, help="default: 0")
        q.add_argument("--precision", type=_fraction, default=None, metavar="F",
                       help="run each confirmed evaluation until the 95 %% half-width of "
                       "--precision-measure is at most F times its mean (0.01: 1 %%)")  # fmt: skip
        q.add_argument("--precision-measure", default=None, metavar="M",
                       help="the measure of --precision (default: the analysis's own: "
                       "--hold, --measure, --minimize or --maximize)")  # fmt: skip
        q.add_argument("--out", type=str, default=None,
                       help="Parquet file to write (default: NAME.ANALYSIS.parquet)")  # fmt: skip
        q.add_argument("--backend", choices=["local", "dask"], default="local")
        q.add_argument("--scheduler", default=None, help="Dask scheduler address")
        q.add_argument("--threads", type=_threads, default=None, help="Numba threads")
        q.add_argument("--dollar-year", type=int, default=None, metavar="Y",
                       help="report costs in constant dollars of this year")  # fmt: skip
        add_output_options(q)

    def against(q, required: bool) -> None:
        q.add_argument("--against", action="append", default=[], required=required,
                       metavar="PATH=VALUE|SCENARIO",
                       help="the other posture: overrides of this scenario (repeatable) or "
                       "another scenario")  # fmt: skip

    q = kinds.add_parser(
        "margin",
        help="marginal cost-exchange: what restoring the defense costs when the attacker "
        "adds threats",
        description="The attacker adds --add threats of group --threat; for each --offset "
        "option, the fewest steps that bring --hold back to its old value, what they cost "
        "the defender per raid and to buy, and the ratio to what the attacker added.",
    )
    common(q)
    q.add_argument("--threat", required=True, help="the threat group the attacker adds to")
    q.add_argument("--add", type=_positive_int, required=True, help="threats added")
    q.add_argument("--hold", default="leakers", help="the measure to hold (default: leakers)")
    q.add_argument(
        "--offset",
        action="append",
        required=True,
        type=_assignment,
        metavar="PATH=STEP",
        help="a defender's option and its step (repeatable)",
    )
    q.add_argument("--max-steps", type=_positive_int, default=64)
    q.set_defaults(func=cmd_analyze)

    q = kinds.add_parser(
        "break-even",
        help="the value of an input at which two postures are equal",
        description="The value of --vary within --bounds at which --measure of the scenario "
        "equals that of the --against posture, with a 95 % interval.",
    )
    common(q)
    q.add_argument("--vary", required=True, metavar="PATH")
    q.add_argument("--bounds", nargs=2, required=True, type=_toml_value,
                   metavar=("LOW", "HIGH"))  # fmt: skip
    against(q, True)
    q.add_argument("--measure", default=None, help="default: the total cost")
    q.add_argument("--tol", type=float, default=None, help="search tolerance")
    q.set_defaults(func=cmd_analyze)

    q = kinds.add_parser(
        "cheapest",
        help="the least-cost posture that meets requirements",
        description="Screen every combination of the --choice values with few trials, prune "
        "what is clearly infeasible or clearly costlier, and confirm the rest: the posture "
        "of least --minimize meeting every --require with 95 % confidence.",
    )
    common(q)
    q.add_argument(
        "--choice",
        action="append",
        required=True,
        type=_list_assignment,
        metavar="PATH=V1,V2,...",
        help="candidate values of a field (repeatable)",
    )
    q.add_argument(
        "--require",
        action="append",
        required=True,
        type=_requirement,
        metavar="MEASURE<=BOUND",
        help="a requirement (repeatable; >= also)",
    )
    q.add_argument("--minimize", default=None, help="default: the total cost")
    q.add_argument("--screen-trials", type=_positive_int, default=1_000)
    q.add_argument("--top", type=_positive_int, default=3, help="runners-up to confirm")
    q.set_defaults(func=cmd_analyze)

    q = kinds.add_parser(
        "worst-raid",
        help="the raid mix within an attack budget that harms the defender most",
        description="Every combination of the --mix counts that costs at most --budget, "
        "screened and confirmed as for cheapest: the mixes of largest --maximize.",
    )
    common(q)
    q.add_argument("--budget", type=_usd_amount, required=True, metavar="USD")
    q.add_argument(
        "--mix",
        action="append",
        required=True,
        type=_list_assignment,
        metavar="THREAT=C1,C2,...",
        help="candidate counts of a group (repeatable)",
    )
    q.add_argument("--maximize", default=None, help="default: the total cost")
    q.add_argument("--screen-trials", type=_positive_int, default=1_000)
    q.add_argument("--top", type=_positive_int, default=5, help="mixes to report")
    q.set_defaults(func=cmd_analyze)

    q = kinds.add_parser(
        "sensitivity",
        help="which assumption moves the answer (a tornado)",
        description="Vary each assumed input over its plausible range (from the catalog, "
        "or --range), one at a time, and rank them by how far --measure moves.",
    )
    common(q)
    q.add_argument("--measure", default=None, help="default: the total cost")
    q.add_argument(
        "--range",
        action="append",
        default=[],
        type=_range_assignment,
        dest="ranges",
        metavar="PATH=LOW:HIGH",
        help="a range for an input (repeatable; overrides the catalog's)",
    )
    q.add_argument(
        "--only-given",
        action="store_true",
        help="vary only the --range inputs, not the catalog's assumptions",
    )
    against(q, False)
    q.set_defaults(func=cmd_analyze)


def _against_arg(values: list[str]):
    if not values:
        return None
    if len(values) == 1 and "=" not in values[0]:
        return values[0]  # another scenario
    pairs = []
    for v in values:
        if "=" not in v:
            raise _usage(f"--against: give PATH=VALUE overrides or one scenario, not {v!r}")
        pairs.append(_assignment(v))
    return dict(pairs)


def _check_out(out: Path, inputs=()) -> None:
    from costx.io import check_output_path  # lazy: pyarrow (start-up)

    # before any simulation: a folder, a device, no such folder, the input file
    check_output_path(out, inputs=inputs)


def _duplicates(pairs, option: str) -> dict:
    out = {}
    for key, value in pairs:
        if key in out:
            raise _usage(f"{option}: {key} is given twice")
        out[key] = value
    return out


def cmd_analyze(args) -> int:
    from costx import analysis  # lazy: numba, pandas (start-up)
    from costx.sweeps import load_scenario_with  # lazy: pandas, pyarrow (start-up)

    output = output_for(args)
    kind = args.analysis.replace("-", "_")
    _check_scheduler(args)
    _check_dollar_year(args.dollar_year)
    scenario = load_scenario_with(args.scenario, _overrides(args), dollar_year=args.dollar_year)
    label = "margin" if kind == "margin" else kind
    out = _file_out(args.out) if args.out is not None else Path(f"{scenario.name}.{label}.parquet")
    _check_out(out, inputs=[args.scenario, *(getattr(args, "against", None) or [])])
    if args.precision_measure is not None and args.precision is None:
        raise _usage("--precision-measure is the measure of --precision; give --precision too")
    trials = args.trials
    if trials is None:
        trials = analysis.DEFAULT_TRIALS if args.precision is None else (
            analysis.PRECISION_CAP_ANALYSIS)  # fmt: skip
    common = {"trials": trials, "seed": args.seed, "backend": args.backend,
              "scheduler": args.scheduler, "threads": args.threads,
              "precision": args.precision, "precision_measure": args.precision_measure}  # fmt: skip
    started = time.perf_counter()
    spinner = stderr.status(f"{args.analysis} of {scenario.name}...")
    if output.quiet or not stderr.is_terminal:
        spinner = contextlib.nullcontext()
    with spinner, _flags_named():
        if kind == "margin":
            result = analysis.marginal_exchange(
                scenario, threat=args.threat, add=args.add, hold=args.hold,
                offsets=_duplicates(args.offset, "--offset"), max_steps=args.max_steps,
                **common,
            )  # fmt: skip
        elif kind == "break_even":
            result = analysis.break_even(
                scenario, vary=args.vary, bounds=tuple(args.bounds),
                against=_against_arg(args.against), measure=args.measure, tol=args.tol,
                **common,
            )  # fmt: skip
        elif kind == "cheapest":
            result = analysis.cheapest(
                scenario, choices=_duplicates(args.choice, "--choice"),
                require=_duplicates(args.require, "--require"), minimize=args.minimize,
                screen_trials=args.screen_trials, top=args.top, **common,
            )  # fmt: skip
        elif kind == "worst_raid":
            result = analysis.worst_raid(
                scenario, budget_usd=args.budget, mix=_duplicates(args.mix, "--mix"),
                maximize=args.maximize, screen_trials=args.screen_trials, top=args.top,
                **common,
            )  # fmt: skip
        else:
            result = analysis.sensitivity(
                scenario, measure=args.measure, ranges=_duplicates(args.ranges, "--range"),
                catalog_ranges=not args.only_given, against=_against_arg(args.against),
                **common,
            )  # fmt: skip
    wall = time.perf_counter() - started
    result.to_parquet(out)
    if output.is_table and not output.quiet:
        width = _table_width()
        wide = stdout
        if width is None:  # a pipe or a file: every column
            wide = Console(highlight=False, soft_wrap=True, width=200, markup=False)
        wide.print(analysis_rich_table(result, width, out), soft_wrap=False)
        wide.print(result.describe(), soft_wrap=width is None)  # wrapped at the terminal
    output.note(f"{result.trials_simulated:,} trials simulated in {wall:.1f} s; wrote {out}")
    output.paths(out)
    output.data(
        json_doc=lambda: {
            "analysis": result.kind,
            "scenario": result.scenario.name,
            "dollar_year": result.dollar_year,
            "seed": result.seed,
            "trials": result.trials,
            "trials_simulated": result.trials_simulated,
            "inputs": result.inputs,
            "answer": result.answer,
            "table": records(result.table),
            "file": str(out),
        },
        csv_frame=lambda: result.table,
    )
    return 0


MAX_ANALYSIS_ROWS = 40  # rows of an analysis table in the terminal (the file has all)


def analysis_rich_table(result, width: int | None = None, out: Path | None = None) -> Table:
    """The analysis table's key columns and first ``MAX_ANALYSIS_ROWS`` rows (the Parquet
    file ``out`` has every column and row; a caption says how many rows are left out).
    Money columns (a unit in USD, or ``_usd`` in the name: ``attack_cost_usd_raid``) read
    as dollars."""
    from costx.analysis import KEY_COLUMNS, column_units, format_cell  # lazy: start-up

    units = column_units(result)

    t = result.table
    kind = result.kind
    columns = list(KEY_COLUMNS[kind])
    answer = result.answer
    if kind == "cheapest":
        paths = list(result.inputs["choices"])
        measure = answer["minimize"]
        req = list(result.inputs["require"])
        columns = ["point", *paths, measure, *[r for r in req if r != measure], *columns]
        t = t.sort_values(["rank", "point"], na_position="last")
    elif kind == "worst_raid":
        groups = list(result.inputs["mix"])
        columns = ["point", *groups, answer["maximize"], *columns]
        t = t.sort_values(["rank", "point"], na_position="last")
    elif kind == "sensitivity":
        t = t[t["status"] == "evaluated"]
    title = (
        f"{result.kind.replace('_', ' ')} of {result.scenario.name} (costs in "
        f"{result.dollar_year} dollars; every column in the Parquet file)"
    )
    shown = [c for c in columns if c in t.columns]
    rows = t.head(MAX_ANALYSIS_ROWS)

    def unit(c: str) -> str:
        return units.get(c) or ("USD" if "_usd" in c.rsplit(".", 1)[-1] else "")

    cells = [(".".join(c.split(".")[-2:]),
              [format_cell(v, c, unit(c)) for v in rows[c]]) for c in shown]  # fmt: skip
    # Narrowed to the terminal: the columns that say what a row is (and, for a design
    # space, its measure) always, then the others left to right while they fit.
    keep = 1
    if kind == "cheapest":
        keep = 2 + len(paths)
    elif kind == "worst_raid":
        keep = 2 + len(groups)
    first = {  # the answer's columns before the ones that explain it
        "margin": ["ratio_per_raid", "note", "per_raid_usd", "steps", "ratio_procurement"],
        "sensitivity": ["swing", "at_low", "at_high"],
        "break_even": ["diff", "diff_ci95_low", "diff_ci95_high"],
    }.get(kind, [])
    order = [shown.index(c) for c in first if c in shown]
    order += [i for i in range(len(cells)) if i not in order]
    chosen = fit_columns(cells, min(keep, len(cells)), order, width)
    if len(chosen) < len(cells):
        title += f"; {len(cells) - len(chosen)} more columns with --format csv"
    table = Table(title=title, title_justify="left")
    for i in chosen:
        c = shown[i]
        table.add_column(cells[i][0], justify="left" if c in (
            "option", "status", "reason", "path") else "right")  # fmt: skip
    for r in range(len(rows)):
        table.add_row(*[cells[i][1][r] for i in chosen])
    if len(t) > len(rows):
        more = len(t) - len(rows)
        table.caption = f"… {more:,} more row{'s' if more > 1 else ''} (every row in {out})"
        if out is None:
            table.caption = f"… {more:,} more row{'s' if more > 1 else ''} with --format csv"
        table.caption_justify = "left"
    return table
