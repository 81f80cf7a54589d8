"""Rich displays in Jupyter: ``_repr_html_`` of results, sweeps and scenarios.

Small, self-contained HTML (no scripts, no external styles; every text escaped), numbers
through :mod:`costx.formatting`, so a notebook cell reads like the command line:

* a result: its headline measures, each mean with its 95 % interval, and the run;
* a sweep: the grid and each headline measure's mean at every point (intervals:
  ``sweep.table``);
* a scenario: a compact card: the raid (threat groups, counts, unit costs), the defense
  (effectors, magazines, cost per shot), the base or ship, and how many inputs are
  assumptions.
"""

from __future__ import annotations

import html
from typing import Any

from costx import formatting

# The measures a result's display shows (those it has), in this order.
HEADLINE = (
    "leakers",
    "p_any_leak",
    "defense_cost_usd",
    "cost_per_kill_usd",
    "cost_exchange_defense_over_attack",
    "capital_cost_usd",
    "damage_usd",
    "total_cost_usd",
    "cost_exchange_total_over_attack",
    "p_ship_lost",
    "runway_closed_h",
)
SWEEP_ROWS = 50  # points shown in a sweep's display; the rest are counted

_STYLE = "border-collapse:collapse;font-size:0.9em;margin:0.3em 0;font-variant-numeric:tabular-nums"


def e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _table(header: list[str], rows: list[list[str]], right_from: int = 1) -> str:
    def cell(tag: str, i: int, text: str) -> str:
        align = "right" if i >= right_from else "left"
        return f'<{tag} style="text-align:{align};padding:0.1em 0.6em">{text}</{tag}>'

    head = "".join(cell("th", i, e(h)) for i, h in enumerate(header))
    body = "".join(
        "<tr>" + "".join(cell("td", i, c) for i, c in enumerate(row)) + "</tr>" for row in rows
    )
    return f'<table style="{_STYLE}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _headline_rows(summary, n: int) -> list[list[str]]:
    rows = []
    for m in HEADLINE:
        if m not in summary.index:
            continue
        r = summary.loc[m]
        unit = r["unit"]
        interval = formatting.interval(r["ci95_low"], r["ci95_high"], unit, mean=r["mean"],
                                       std_error=r["std_error"], n=n)  # fmt: skip
        name = f"{e(formatting.measure_name(m))}<br><code>{e(m)}</code>"
        mean = formatting.mean_text(r["mean"], r["ci95_low"], r["ci95_high"], unit)
        rows.append([name, e(mean), e(interval)])
    return rows


def result_html(result) -> str:
    """A SimulationResult: its headline measures with intervals, and the run."""
    s = result.scenario
    title = (
        f"<b>{e(s.name)}</b>: {result.n_trials:,} trials, seed {e(result.seed)}, "
        f"{e(s.scenario.policy)} policy, costs in {e(s.scenario.dollar_year)} dollars"
    )
    rows = _headline_rows(result.summary(), result.n_trials)
    table = _table(["measure", "mean", "95 % interval"], rows)
    more = (
        "<div style='color:#666;font-size:0.85em'>Every measure: <code>.summary()</code>; "
        "long form: <code>.tidy()</code>; per trial: <code>.trials</code></div>"
    )
    return f"<div>{title}{table}{more}</div>"


def sweep_html(sweep) -> str:
    """A SweepResult: the grid and the headline means of every point."""
    s = sweep.scenario
    table = sweep.table
    grid = sweep.grid_columns
    shown = [m for m in HEADLINE if m in table.columns]
    units = {m: sweep.summary(0).loc[m, "unit"] for m in shown}
    title = (
        f"<b>{e(sweep.name or s.name)}</b>: sweep of {e(s.name)}, {len(sweep.points)} points x "
        f"{e(sweep.trials_text())}, seed {e(sweep.seed)}, costs in "
        f"{e(s.scenario.dollar_year)} dollars (means)"
    )
    header = ["point", *[formatting.path_label(c) for c in grid],
              *[formatting.measure_name(m) for m in shown]]  # fmt: skip
    rows = []
    for i in range(min(len(table), SWEEP_ROWS)):
        row = table.iloc[i]
        cells = [e(int(row["point"]))]
        cells += [e(formatting.grid_value(row[c])) for c in grid]
        cells += [e(formatting.value(row[m], units[m])) for m in shown]
        rows.append(cells)
    rest = len(table) - SWEEP_ROWS
    more = f"<div>... and {rest:,} more points</div>" if rest > 0 else ""
    note = (
        "<div style='color:#666;font-size:0.85em'>Intervals: <code>.table</code>; long form: "
        "<code>.tidy()</code>; paired differences: <code>.compare()</code>; labelled arrays: "
        "<code>.to_xarray()</code></div>"
    )
    return f"<div>{title}{_table(header, rows, right_from=1 + len(grid))}{more}{note}</div>"


def analysis_html(result) -> str:
    """An AnalysisResult: its answer as ``describe()`` writes it, and where the rest is."""
    title = (
        f"<b>{e(result.kind)}</b> of {e(result.scenario.name)}: {len(result.table):,} "
        f"row{'' if len(result.table) == 1 else 's'}, "
        f"{result.trials_simulated:,} trials simulated, seed {e(result.seed)}, costs in "
        f"{e(result.dollar_year)} dollars"
    )
    answer = f"<div style='white-space:pre-wrap;margin:0.4em 0'>{e(result.describe())}</div>"
    note = (
        "<div style='color:#666;font-size:0.85em'>Every row with its intervals: "
        "<code>.table</code>; the answer as data: <code>.answer</code>; figures: "
        "<code>.plot</code>; the file: <code>.to_parquet(path)</code></div>"
    )
    return f"<div>{title}{answer}{note}</div>"


def scenario_html(scenario) -> str:
    """A Scenario as a compact card."""
    s = scenario
    year = s.scenario.dollar_year
    title = f"<b>{e(s.name)}</b> ({e(s.scenario.policy)} policy, costs in {e(year)} dollars)"
    description = f"<div>{e(s.scenario.description)}</div>" if s.scenario.description else ""
    threats = _table(
        ["threat group", "count", "unit cost", "speed"],
        [[e(t.name), e(f"{t.count:,}"), e(formatting.usd(t.unit_cost_usd)),
          e(f"{t.speed_mps:g} m/s")] for t in s.threats],
    )  # fmt: skip
    parts = [title, description, threats]
    if s.effectors:
        rows = []
        for eff in s.effectors:
            kind = getattr(eff, "kind", "")
            stock = f"{eff.units} units" if kind == "laser" else f"{eff.rounds:,} rounds"
            rows.append([e(eff.name), e(kind), e(stock), e(formatting.usd(eff.round_cost_usd))])
        parts.append(_table(["effector", "kind", "magazine", "per shot"], rows, right_from=2))
    facts = []
    if s.base is not None:
        assets = ", ".join(f"{a.count} {a.name}" for a in s.base.assets)
        facts.append(f"base: {assets or 'no assets'}, {s.base.runways} runways")
    if s.ship is not None:
        facts.append(f"ship {s.ship.name}: {formatting.usd(s.ship.value_usd)}")
    if s.campaign is not None:
        facts.append(f"campaign: {s.campaign.n_salvos} salvos, {s.campaign.interval_h:g} h apart")
    facts.append(f"attack cost {formatting.usd(s.attack_cost_usd)}")
    assumed = len(s.assumptions())
    if assumed:
        shown = s.source.removeprefix("bundled:")
        facts.append(f"{assumed} inputs are assumptions (costx show {shown} marks them)")
    facts.append(f"from {s.source}")
    parts.append(f"<div style='color:#444;font-size:0.9em'>{e('; '.join(facts))}</div>")
    return "<div>" + "".join(parts) + "</div>"
