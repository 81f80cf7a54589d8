"""The ``costx`` command line.

User errors (bad scenario files, bad options, unreadable paths) print a readable message
and exit with status 2, never a traceback; interrupted runs exit with 130 and leave no
partial output file.
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

from costx.errors import CostxError

EXIT_USAGE = 2
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
    p.add_argument("--trials", type=_positive_int, default=100_000, help="default: 100000")
    p.add_argument("--seed", type=_seed, default=0, help="default: 0")
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
    p.add_argument(
        "section",
        nargs="?",
        choices=["effectors", "threats", "assets", "lasers"],
        help="a section (lasers: the effectors of kind laser)",
    )
    p.add_argument("name", nargs="?", help="an entry of that section")
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
        for line in str(err).splitlines():
            _error(line)
        return EXIT_USAGE
    except KeyboardInterrupt:
        stderr.print("interrupted; no output was written")
        return 130


def _error(line: str) -> None:
    """One error line; its text is escaped (scenario messages contain [brackets])."""
    stderr.print(f"[bold red]error:[/] {escape(line)}", highlight=False)


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
            for line in str(err).splitlines():
                _error(line)
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


def _fmt(value: float, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit.startswith("USD"):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"
    if unit == "probability":
        return f"{value:.4f}"
    if unit == "ratio":
        return f"{value:,.3f}"
    return f"{value:,.3f}"


def summary_rich_table(summary, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("measure", no_wrap=True)
    table.add_column("mean", justify="right")
    table.add_column("95 % interval", justify="right")
    table.add_column("unit")
    for measure, row in summary.iterrows():
        unit = row["unit"]
        low, high = row["ci95_low"], row["ci95_high"]
        interval = "" if low == high else f"{_fmt(low, unit)} .. {_fmt(high, unit)}"
        table.add_row(str(measure), _fmt(row["mean"], unit), interval, unit)
    return table


def cmd_run(args) -> int:
    from costx.scenario import load_scenario
    from costx.simulation import simulate

    scenario = load_scenario(args.scenario, dollar_year=args.dollar_year)
    out = args.out if args.out is not None else Path(f"{scenario.name}.parquet")
    if out.exists() and out.is_dir():
        raise _usage(f"--out {out}: is a folder; give a file name")
    if not (out.parent if str(out.parent) else Path(".")).is_dir():
        raise _usage(f"--out {out}: folder {out.parent} does not exist")

    started = time.perf_counter()
    with _DelayedProgress(args.trials, f"{scenario.name}", enabled=not args.no_progress) as bar:
        result = simulate(
            scenario,
            trials=args.trials,
            seed=args.seed,
            keep_trials=not args.summary_only,
            threads=args.threads,
            progress=bar,
            block_trials=min(32_768, args.trials),
        )
    wall = time.perf_counter() - started
    result.to_parquet(out)
    title = (
        f"{scenario.name}: {args.trials:,} trials, seed {args.seed}, policy "
        f"{scenario.scenario.policy}, costs in {scenario.scenario.dollar_year} dollars"
    )
    stdout.print(summary_rich_table(result.summary(), title))
    _print_assumptions(scenario)
    rate = args.trials / result.elapsed_s if result.elapsed_s > 0 else float("nan")
    note = ""
    if _kernels_compiled():
        note = " (this run compiled the kernels; later runs load them from the cache)"
    stdout.print(
        f"{args.trials:,} trials in {wall:.2f} s ({rate:,.0f} trials/s){note}; wrote {out}"
    )
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
    from costx.plotting import load_results
    from costx.report import write_report

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

    spec = load_sweep_spec(args.sweep, dollar_year=args.dollar_year)
    trials = args.trials if args.trials is not None else spec.trials
    seed = args.seed if args.seed is not None else spec.seed
    from costx.errors import InputError
    from costx.sweeps import build_points, expand_grid

    try:
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
            keep_trials=args.keep_trials or spec.keep_trials,
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
            cells.append(_fmt(float(table[c].iloc[i]), unit))
        out.add_row(*cells)
    wide = stdout
    if not stdout.is_terminal:
        wide = Console(highlight=False, soft_wrap=True, width=240, markup=False)
    wide.print(out)
    stdout.print(f"{n_points} points in {wall:.1f} s; wrote {args.out}", soft_wrap=True)
    return 0


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


def _ranges(text: str) -> list[float]:
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of ranges in km: {text!r}") from None
    if not values or not all(math.isfinite(v) and v > 0 for v in values):
        raise argparse.ArgumentTypeError(f"ranges must be positive numbers of km: {text!r}")
    return values


def cmd_catalog(args) -> int:
    from costx.catalog import COST_FIELDS, SECTIONS, load_catalog

    catalog = load_catalog()
    if args.dwell_table or args.ranges is not None:
        if args.section != "lasers" or args.name:
            raise _usage("--dwell-table goes with `costx catalog lasers` (no entry name)")
        return _dwell_table(args.ranges)
    lasers_only = args.section == "lasers"
    sections = ["effectors"] if lasers_only else [args.section] if args.section else list(SECTIONS)
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
        title = "lasers (effectors of kind laser)" if lasers_only else section
        table = Table(title=f"Catalog: {title}", title_justify="left")
        for column in ("name", "label", "kind", "cost (USD, $ year)", "figures", "assumed",
                       "sources"):  # fmt: skip
            table.add_column(column, justify="right" if column.startswith("cost") else "left")
        for key, entry in sorted(catalog.entries.get(section, {}).items()):
            if lasers_only and entry.kind != "laser":
                continue
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


def _dwell_table(ranges) -> int:
    from costx.dwell import DEFAULT_RANGES_KM, dwell_table

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
        table.add_row(laser, threat, *("-" if math.isinf(d) else f"{d:.3g}" for d in dwell))
    stdout.print(table)
    stdout.print(
        "Start range: the threat's range when a unit starts on it; the track/settle time "
        "(settle_s) comes first and is not counted. costx.dwell_time(laser, threat, km) "
        "gives any one value, also in another atmosphere."
    )
    return 0


def _catalog_value(value) -> str:
    """A catalog figure as text: costs and other large floats without spurious digits."""
    if isinstance(value, float) and math.isfinite(value) and abs(value) >= 1000:
        return f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 1000:
        return f"{value:,}"
    return str(value)


def _usage(message: str) -> CostxError:
    from costx.errors import InputError

    return InputError(message)
