"""The ``costx`` command line.

User errors (bad scenario files, bad options, unreadable paths, work too large for this
machine) print a readable message, one line per problem (at most ``MAX_ERROR_LINES``,
then a count of the rest), and exit with status 2, never a traceback; interrupted runs
exit with 130, leave no partial output file and say what was saved.
"""

from __future__ import annotations

import argparse
import math
import threading
import time
import warnings
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from costx import formatting
from costx.errors import CostxError

EXIT_USAGE = 2
MAX_ERROR_LINES = 50  # error lines printed; the rest are counted
# Results never use markup: scenario text and paths may contain [brackets].
stdout = Console(highlight=False, soft_wrap=True, markup=False)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)
if not stdout.is_terminal:  # files and pipes: wide enough that tables never truncate
    stdout = Console(highlight=False, soft_wrap=True, width=132, markup=False)


def _positive_int(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
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


def build_parser() -> argparse.ArgumentParser:
    from costx import __version__
    from costx.bundled import DEFAULT_SCENARIO

    parser = argparse.ArgumentParser(
        prog="costx",
        description="What missile defense really costs: Monte Carlo cost-exchange "
        "analysis of raids against interceptors, railguns and lasers.",
    )
    parser.add_argument("--version", action="version", version=f"costx {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("scenarios", help="list the bundled scenarios")
    p.set_defaults(func=cmd_scenarios)

    p = sub.add_parser(
        "validate",
        help="check scenario files",
        description="Check scenario files (paths or bundled names); print every problem "
        "with its file and field. Exit status 2 if any is invalid.",
    )
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="a path or a bundled name")
    p.set_defaults(func=cmd_validate)

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
        type=_positive_int,
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
    p.add_argument(
        "--out", type=Path, default=None, help="Parquet file to write (default: NAME.parquet)"
    )
    p.add_argument("--threads", type=_positive_int, default=None, help="Numba threads")
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
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "catalog",
        help="list the cited parameter catalog",
        description="List catalog entries with their values and sources: all, one section, "
        "or one entry (costx catalog effectors sm6).",
    )
    p.add_argument("section", nargs="?", choices=["effectors", "threats", "assets"])
    p.add_argument("name", nargs="?", help="an entry of that section")
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
    p.set_defaults(func=cmd_plot)

    p = sub.add_parser(
        "report",
        help="write a self-contained HTML report of a result or a sweep",
        description="One HTML file with the scenario, the summary tables, the figures, the "
        "assumptions and the sources of every catalog figure used; it opens offline.",
    )
    p.add_argument("results", type=Path, metavar="RESULTS")
    p.add_argument("--out", type=Path, required=True, help="the HTML file to write")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser(
        "bench",
        help="measure how fast costx runs on this machine",
        description="Time the benchmark workloads (single_layer against NumPy and pure "
        "Python references, mixed_raid under both policies, the air-base campaign, a "
        "bundled sweep, start-up of a fresh process, the random-number floor), or with "
        "SCENARIO your own scenario, and print trials per "
        "second, to size a sweep before launching it. The full pytest-benchmark suite is "
        "in benchmarks/ (see the README).",
    )
    p.add_argument("scenario", nargs="?", default=None, metavar="SCENARIO")
    p.add_argument("--trials", type=_positive_int, default=200_000)
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
        "dataset partitioned by grid point. Rerunning into the same folder resumes: points "
        "already complete are skipped; a folder holding a different sweep is refused.",
    )
    p.add_argument("sweep", metavar="SWEEP", help="a sweep file or a bundled sweep's name")
    p.add_argument("--out", type=Path, required=True, help="folder for the Parquet dataset")
    p.add_argument("--trials", type=_positive_int, default=None, help="trials per point")
    p.add_argument("--seed", type=_seed, default=None)
    p.add_argument("--backend", choices=["local", "dask"], default="local")
    p.add_argument(
        "--scheduler", default=None, help="Dask scheduler address (default: a LocalCluster)"
    )
    p.add_argument("--threads", type=_positive_int, default=None, help="Numba threads (local)")
    p.add_argument("--keep-trials", action="store_true", help="also store per-trial tables")
    p.add_argument(
        "--dollar-year", type=int, default=None, metavar="Y",
        help="report costs in constant dollars of this year (bundled CPI-U index)",
    )  # fmt: skip
    p.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    p.set_defaults(func=cmd_sweep)
    add_analyze_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            status = args.func(args)
        _print_warnings(caught)
        return status
    except CostxError as err:
        _errors(str(err).splitlines())
        return EXIT_USAGE
    except KeyboardInterrupt as err:
        stderr.print(_interrupted(args, err), highlight=False, markup=False)
        return 130


def _interrupted(args, err: KeyboardInterrupt) -> str:
    """What an interrupt left behind, in one line."""
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


def _print_warnings(caught) -> None:
    from costx.scenario import CostxWarning

    for w in caught:
        if issubclass(w.category, CostxWarning):
            stderr.print(f"[yellow]warning:[/] {escape(str(w.message))}", highlight=False)


def cmd_scenarios(args) -> int:
    from costx.bundled import DEFAULT_SCENARIO, scenario_descriptions, sweep_descriptions

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


def cmd_validate(args) -> int:
    from costx.errors import ScenarioError
    from costx.scenario import load_scenario

    status = 0
    for source in args.scenarios:
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                scenario = load_scenario(source)
        except ScenarioError as err:
            status = EXIT_USAGE
            _errors(str(err).splitlines())
            continue
        _print_warnings(caught)
        stdout.print(
            f"ok: {scenario.source} ({scenario.name}: {len(scenario.threats)} threat groups, "
            f"{sum(t.count for t in scenario.threats)} threats, "
            f"{len(scenario.effectors)} effectors)"
        )
    return status


class _DelayedProgress:
    """A rich progress bar that appears only if the run lasts longer than ``delay_s``."""

    def __init__(
        self, total: int, description: str, delay_s: float = 1.0, enabled=True, unit="trials"
    ):
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
        self.timer = threading.Timer(delay_s, self.progress.start) if self.enabled else None

    def __enter__(self):
        if self.timer is not None:
            self.timer.daemon = True
            self.timer.start()
        return self

    def __call__(self, done: int, total: int) -> None:
        self.progress.update(self.task, completed=done)

    def __exit__(self, *exc):
        if self.timer is not None:
            self.timer.cancel()
        self.progress.stop()
        return False


def summary_rich_table(summary, title: str, n: int | None = None) -> Table:
    """The summary as a table: mean and 95 % interval by unit (costx.formatting); ``n``,
    the number of trials, lets a value seen in every trial say so."""
    table = Table(title=title, title_justify="left")
    table.add_column("measure", no_wrap=True)
    table.add_column("mean", justify="right")
    table.add_column("95 % interval", justify="right")
    table.add_column("unit")
    for measure, row in summary.iterrows():
        unit = row["unit"]
        low, high, se = row["ci95_low"], row["ci95_high"], row["std_error"]
        interval = formatting.interval(low, high, unit, mean=row["mean"], std_error=se, n=n)
        table.add_row(str(measure), formatting.value(row["mean"], unit), interval, unit)
    return table


def cmd_run(args) -> int:
    from costx.io import check_output_path, salvos_path
    from costx.scenario import POLICY_MEANINGS, load_scenario
    from costx.simulation import simulate

    _check_dollar_year(args.dollar_year)
    scenario = load_scenario(args.scenario, dollar_year=args.dollar_year)
    if scenario.policy_warning() is not None:
        stderr.print(f"[yellow]warning:[/] {escape(scenario.policy_warning())}", highlight=False)
    out = args.out if args.out is not None else Path(f"{scenario.name}.parquet")
    if out.exists() and out.is_dir():
        raise _usage(f"--out {out}: is a folder; give a file name")
    if not (out.parent if str(out.parent) else Path(".")).is_dir():
        raise _usage(f"--out {out}: folder {out.parent} does not exist")
    # Refuse a target that writing would clobber before any work is done.
    check_output_path(out)
    if scenario.campaign is not None and not args.summary_only:
        check_output_path(salvos_path(out))

    from costx.simulation import PRECISION_CAP

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
    trials = result.n_trials
    title = (
        f"{scenario.name}: {trials:,} trials, seed {args.seed}, policy "
        f"{scenario.scenario.policy}, costs in {scenario.scenario.dollar_year} dollars"
    )
    stdout.print(summary_rich_table(result.summary(), title, n=trials))
    _print_costs(scenario, result.summary())
    stdout.print(f"policy {scenario.scenario.policy}: {POLICY_MEANINGS[scenario.scenario.policy]}")
    _print_assumptions(scenario)
    if result.precision is not None:
        stdout.print(result.precision.describe())
    rate = trials / result.elapsed_s if result.elapsed_s > 0 else float("nan")
    note = ""
    if _kernels_compiled():
        note = " (this run compiled the kernels; later runs load them from the cache)"
    stdout.print(f"{trials:,} trials in {wall:.2f} s ({rate:,.0f} trials/s){note}; wrote {out}")
    return 0


def _kernels_compiled() -> bool:
    """Whether this process compiled the engagement kernel instead of loading it."""
    from costx.kernels.engagement import simulate_trials

    return sum(simulate_trials.stats.cache_misses.values()) > 0


def cmd_plot(args) -> int:
    from costx.plotting import load_results, plot_all

    result = load_results(args.results)
    if args.out.exists() and not args.out.is_dir():
        raise _usage(f"--out {args.out}: not a folder")
    args.out.mkdir(parents=True, exist_ok=True)
    written = plot_all(result, args.out, formats=tuple(args.format or ("png", "svg")))
    for path in written:
        stdout.print(f"wrote {path}", soft_wrap=True)
    return 0


def cmd_report(args) -> int:
    from costx.io import check_output_path
    from costx.plotting import load_results
    from costx.report import write_report

    check_output_path(args.out)  # before reading and drawing anything
    path = write_report(load_results(args.results), args.out)
    stdout.print(f"wrote {path}", soft_wrap=True)
    return 0


def cmd_bench(args) -> int:
    from costx.bench import PARTS, suite

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
    import numba

    from costx.bundled import scenario_names
    from costx.scenario import load_scenario
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
    from costx.sweeps import load_sweep_spec, sweep

    _check_dollar_year(args.dollar_year)
    spec = load_sweep_spec(args.sweep, dollar_year=args.dollar_year)
    trials = args.trials if args.trials is not None else spec.trials
    seed = args.seed if args.seed is not None else spec.seed
    from costx.errors import InputError
    from costx.sweeps import build_points, check_sweep_limits, expand_grid

    keep_trials = args.keep_trials or spec.keep_trials
    try:
        check_sweep_limits(spec.scenario, spec.grid, trials, keep_trials)
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
        )
    wall = time.perf_counter() - started
    table = result.table
    title = (
        f"{spec.scenario.name}: {n_points} points x {trials:,} trials, seed {seed}, costs in "
        f"{spec.scenario.scenario.dollar_year} dollars (means; 95 % intervals in the dataset)"
    )
    out = Table(title=title, title_justify="left")
    from costx.aggregate import KEY_MEASURES

    shown = [c for c in KEY_MEASURES if c in table.columns]
    for c in result.grid_columns:  # the last two parts of a path say what it is
        out.add_column(".".join(c.split(".")[-2:]), justify="right")
    for c in shown:
        out.add_column(SWEEP_HEADERS.get(c, c), justify="right")
    for i in range(len(table)):
        cells = [str(table[c].iloc[i]) for c in result.grid_columns]
        for c in shown:
            unit = "USD" if c.endswith("_usd") else "probability" if c.startswith("p_") else ""
            cells.append(formatting.value(table[c].iloc[i], unit))
        out.add_row(*cells)
    wide = stdout
    if not stdout.is_terminal:
        wide = Console(highlight=False, soft_wrap=True, width=240, markup=False)
    wide.print(out)
    stdout.print(f"{n_points} points in {wall:.1f} s; wrote {args.out}", soft_wrap=True)
    return 0


def _print_costs(scenario, summary) -> None:
    """Expended, capital and damage side by side, so that the reader sees which dominates,
    then what the capital charge is made of."""
    from costx.costing import cost_breakdown

    costs = cost_breakdown(scenario, summary)
    table = Table(
        title=f"Cost of one raid ({costs['costing']['raid']}), {costs['dollar_year']} dollars",
        title_justify="left",
    )
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
        share = "" if math.isnan(part["share"]) else f"{100 * part['share']:.1f} %"
        table.add_row(label, formatting.usd(part["mean"]), interval, share)
    stdout.print(table)
    charged = [it for it in costs["capital_items"] if it["charge_usd"] > 0]
    if charged:
        c = costs["costing"]
        lines = Table(
            title=f"Capital per raid = acquisition x CRF / raids per year ({c['discount_rate']:g} "
            f"real rate, {c['raids_per_year']:g} raids a year)",
            title_justify="left",
        )
        for column in ("item", "units", "unit cost", "acquisition", "life (y)", "CRF", "per raid"):
            lines.add_column(column, justify="left" if column == "item" else "right")
        for it in charged:
            lines.add_row(
                it["item"], str(it["units"]), formatting.usd(it["unit_cost_usd"]),
                formatting.usd(it["acquisition_usd"]), f"{it['service_life_years']:g}",
                f"{it['crf']:.4f}", formatting.usd(it["charge_usd"]),
            )  # fmt: skip
        stdout.print(lines)


def _print_assumptions(scenario) -> None:
    """Every assumed input, so that nobody mistakes it for data."""
    rows = scenario.assumptions()
    if not rows:
        return
    table = Table(
        title="Assumptions: inputs no public source gives (sweep them)", title_justify="left"
    )
    table.add_column("field", no_wrap=True)
    table.add_column("value", justify="right")
    table.add_column("why")
    for path, value, rationale in rows:
        table.add_row(path, str(value), rationale)
    stdout.print(table)


def cmd_catalog(args) -> int:
    from costx.catalog import COST_FIELDS, SECTIONS, load_catalog

    catalog = load_catalog()
    sections = [args.section] if args.section else list(SECTIONS)
    if args.name:
        entry = catalog.entry(sections[0], args.name)
        if entry is None:
            known = ", ".join(sorted(catalog.entries.get(sections[0], {})))
            raise _usage(f"no {sections[0]} entry {args.name!r} in the catalog ({known})")
        table = Table(title=f"{entry.label} ({sections[0]}.{entry.key}): {entry.description}",
                      title_justify="left")  # fmt: skip
        for column in ("field", "value", "source / assumption", "year", "$ year", "tier", "note"):
            table.add_column(column)
        for name, rec in entry.fields.items():
            if rec.assumption:
                origin = f"ASSUMPTION: {rec.rationale}"
                if rec.low is not None:
                    origin += (f" Plausible range {_catalog_value(rec.low)} to "
                               f"{_catalog_value(rec.high)}: {rec.range_rationale}")  # fmt: skip
            else:
                origin = ", ".join(
                    f"{k} {catalog.sources.get(k, {}).get('publisher', '?')}" for k in rec.sources
                )
            table.add_row(
                name,
                _catalog_value(rec.value),
                origin,
                str(rec.year or ""),
                str(rec.dollar_year or ""),
                rec.confidence or "",
                rec.note,
            )
        stdout.print(table)
        used = sorted({k for rec in entry.fields.values() for k in rec.sources})
        for key in used:
            src = catalog.sources.get(key, {})
            urls = src.get("url", "")
            urls = " ; ".join(urls) if isinstance(urls, list) else urls
            stdout.print(
                f"[{key}] {src.get('title', '?')}. {src.get('publisher', '')}, "
                f"{src.get('date', '')}. {urls} (tier {src.get('tier', '?')})",
                soft_wrap=True,
            )
        return 0
    for section in sections:
        table = Table(title=f"Catalog: {section}", title_justify="left")
        for column in ("name", "label", "kind", "cost (USD, $ year)", "figures", "assumed",
                       "sources"):  # fmt: skip
            table.add_column(column, justify="right" if column.startswith("cost") else "left")
        for key, entry in sorted(catalog.entries.get(section, {}).items()):
            assumed = sum(rec.assumption for rec in entry.fields.values())
            sources = sorted({k for rec in entry.fields.values() for k in rec.sources})
            cost = next((entry.fields[f] for f in COST_FIELDS if f in entry.fields), None)
            cost_text = ""
            if cost is not None:
                mark = " (assumed)" if cost.assumption else ""
                cost_text = f"{_catalog_value(cost.value)} ({cost.dollar_year or '?'}){mark}"
            figures = str(len(entry.fields) - assumed)
            table.add_row(key, entry.label, entry.kind or "", cost_text, figures, str(assumed),
                          ", ".join(sources))  # fmt: skip
        stdout.print(table)
        stdout.print(f"costx catalog {section} NAME: every figure of an entry, with its source")
    return 0


def _catalog_value(value) -> str:
    """A catalog figure as text: costs and other large floats without spurious digits."""
    if isinstance(value, float) and math.isfinite(value) and abs(value) >= 1000:
        return f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 1000:
        return f"{value:,}"
    return str(value)


def _check_dollar_year(year: int | None) -> None:
    """``--dollar-year`` outside the years costx can convert to is the option's fault, not
    the scenario file's: say so before loading anything."""
    from costx.catalog import load_catalog
    from costx.scenario import MAX_DOLLAR_YEAR

    if year is None:
        return
    first = min(load_catalog().price_index)
    if not first <= year <= MAX_DOLLAR_YEAR:
        raise _usage(
            f"--dollar-year {year}: must be between {first} (the bundled price index starts "
            f"then) and {MAX_DOLLAR_YEAR}"
        )


def _usage(message: str) -> CostxError:
    from costx.errors import InputError

    return InputError(message)


# -- costx analyze -------------------------------------------------------------------------
# The decision analyses of costx.analysis (docs/model.md, "Decision analysis"), one
# subcommand each. Values on the command line are read as TOML values (8, 0.5, true,
# "text"); anything that is not one is taken as text.

ANALYSES = ("margin", "break-even", "cheapest", "worst-raid", "sensitivity")


def _toml_value(text: str):
    import tomllib

    try:
        return tomllib.loads(f"v = {text.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        return text.strip()


def _assignment(text: str) -> tuple[str, object]:
    """PATH=VALUE (a TOML value)."""
    path, sep, value = text.partition("=")
    if not sep or not path.strip() or not value.strip():
        raise argparse.ArgumentTypeError(f"expected PATH=VALUE, got {text!r}")
    return path.strip(), _toml_value(value)


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
        "and which assumption moves the answer. Each prints its answer with 95 %% intervals "
        "and writes a Parquet table with its inputs in the metadata (costx plot and costx "
        "report read it).",
    )
    kinds = p.add_subparsers(dest="analysis", metavar="ANALYSIS", required=True)

    def common(q) -> None:
        q.add_argument("scenario", metavar="SCENARIO", help="a path or a bundled name")
        q.add_argument("--set", action="append", default=[], type=_assignment,
                       metavar="PATH=VALUE",
                       help="change the scenario first (repeatable), e.g. "
                       "effectors.helios.units=0")  # fmt: skip
        q.add_argument("--trials", type=_positive_int, default=20_000,
                       help="trials per confirmed evaluation (default: 20000)")  # fmt: skip
        q.add_argument("--seed", type=_seed, default=0, help="default: 0")
        q.add_argument("--out", type=Path, default=None,
                       help="Parquet file to write (default: NAME.ANALYSIS.parquet)")  # fmt: skip
        q.add_argument("--backend", choices=["local", "dask"], default="local")
        q.add_argument("--scheduler", default=None, help="Dask scheduler address")
        q.add_argument("--threads", type=_positive_int, default=None, help="Numba threads")
        q.add_argument("--dollar-year", type=int, default=None, metavar="Y",
                       help="report costs in constant dollars of this year")  # fmt: skip

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
        "equals that of the --against posture, with a 95 %% interval.",
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
        "of least --minimize meeting every --require with 95 %% confidence.",
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


def _check_out(out: Path) -> None:
    from costx.io import check_output_path

    check_output_path(out)  # before any simulation: a folder, a device, no such folder


def _duplicates(pairs, option: str) -> dict:
    out = {}
    for key, value in pairs:
        if key in out:
            raise _usage(f"{option}: {key} is given twice")
        out[key] = value
    return out


def cmd_analyze(args) -> int:
    from costx import analysis
    from costx.scenario import load_scenario

    kind = args.analysis.replace("-", "_")
    scenario = load_scenario(args.scenario, dollar_year=args.dollar_year)
    if args.set:
        scenario = analysis.with_values(
            scenario, _duplicates(args.set, "--set"), "--set", warn=True
        )
    label = "margin" if kind == "margin" else kind
    out = args.out if args.out is not None else Path(f"{scenario.name}.{label}.parquet")
    _check_out(out)
    common = {"trials": args.trials, "seed": args.seed, "backend": args.backend,
              "scheduler": args.scheduler, "threads": args.threads}  # fmt: skip
    started = time.perf_counter()
    with stderr.status(f"{args.analysis} of {scenario.name}..."):
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
    wide = stdout
    if not stdout.is_terminal:
        wide = Console(highlight=False, soft_wrap=True, width=200, markup=False)
    wide.print(analysis_rich_table(result))
    stdout.print(result.describe())
    stdout.print(f"{result.trials_simulated:,} trials simulated in {wall:.1f} s; wrote {out}")
    return 0


def analysis_rich_table(result) -> Table:
    """The analysis table's key columns (the Parquet file has every column)."""
    from costx.analysis import KEY_COLUMNS, column_units, format_cell

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
    table = Table(title=title, title_justify="left")
    shown = [c for c in columns if c in t.columns]
    for c in shown:
        table.add_column(".".join(c.split(".")[-2:]), justify="left" if c in (
            "option", "status", "reason", "path") else "right")  # fmt: skip
    for _, row in t.head(40).iterrows():
        table.add_row(*[format_cell(row[c], c, units.get(c, "")) for c in shown])
    return table
