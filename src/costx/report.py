"""One self-contained HTML report of a simulation or sweep result.

``write_report(result, path)`` writes a single HTML file that opens offline: inline CSS,
figures embedded as inline SVG (text kept as text), no scripts and no external assets.
Sections, each with an ``id``, in reading order: ``headline`` (the numbers a reader asks
for first, with their 95 % intervals; for a sweep, where each is lowest and highest),
``summary`` (every measure; for a sweep the key measures of every point), for a sweep
``differences`` (each point against the baseline, paired intervals), ``figures`` (every
figure of :func:`costx.plotting.figures`), ``scenario`` (facts, and the scenario as
TOML folded into a ``<details>`` element), ``assumptions`` and ``sources`` (the
scenario's catalog provenance when it records one, else the fields left at their model
default). All text is HTML-escaped; numbers go through :mod:`costx.formatting`.

The page is built from small functions that return HTML strings. A template engine was
considered: Jinja2 is not a dependency of costx's dependencies (only of the optional
``dask[distributed]``; pandas' Styler needs it too), so it would be a new dependency for
a page of a few tables.
"""

from __future__ import annotations

import html
import io
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from costx import formatting
from costx._version import version
from costx.aggregate import KEY_MEASURES
from costx.analysis import KEY_COLUMNS, AnalysisResult, column_units, format_cell
from costx.catalog import load_catalog
from costx.costing import cost_breakdown
from costx.errors import InputError
from costx.io import as_file_path, write_bytes_atomic
from costx.plotting import _require_matplotlib, figures
from costx.simulation import SimulationResult
from costx.sweeps import SweepResult

SECTIONS = ("headline", "summary", "figures", "scenario", "assumptions", "sources")
SWEEP_SECTIONS = (
    "headline",
    "summary",
    "differences",
    "figures",
    "scenario",
    "assumptions",
    "sources",
)
ANALYSIS_SECTIONS = ("analysis", "answer", "figures", "table", "scenario", "assumptions",
                     "sources")  # fmt: skip
NO_PROVENANCE = "no catalog provenance recorded for this scenario"

SWEEP_MEASURES = KEY_MEASURES  # columns of a sweep's summary, after the grid

# The headline numbers, in this order (those the result has).
HEADLINE = (
    "leakers",
    "p_any_leak",
    "defense_cost_usd",
    "cost_per_kill_usd",
    "cost_exchange_defense_over_attack",
    "capital_cost_usd",
    "defense_total_cost_usd",
    "damage_usd",
    "total_cost_usd",
    "cost_exchange_total_over_attack",
    "runway_closed_h",
)

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       margin: 0 auto; max-width: 70rem; padding: 1rem 2rem 3rem; color: #1d1d1f;
       line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.25rem; border-bottom: 1px solid #ccc; padding-bottom: 0.2rem;
     margin-top: 2.2rem; }
h3 { font-size: 1.05rem; }
nav a { margin-right: 1rem; }
.meta { color: #555; margin: 0.2rem 0; }
pre { background: #f6f8fa; border: 1px solid #e1e4e8; padding: 0.8rem; overflow-x: auto;
      font-size: 0.82rem; }
details { margin: 0.8rem 0; }
summary { cursor: pointer; font-weight: 600; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(15rem, 1fr));
         gap: 0.7rem; margin: 0.8rem 0; }
.card { border: 1px solid #d0d7de; border-radius: 6px; padding: 0.6rem 0.8rem;
        background: #fbfcfd; }
.card .name { color: #555; font-size: 0.85rem; }
.card .value { font-size: 1.5rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .interval { color: #555; font-size: 0.8rem; }
.scroll { max-width: 100%; overflow-x: auto; }
/* A table wider than the page scrolls; its first column (the point, the measure, the
   field) stays in view so that every row still says what it is. */
.scroll th:first-child, .scroll td:first-child { position: sticky; left: 0;
  z-index: 1; background: #fff; }
.scroll th:first-child { background: #f6f8fa; }
/* Separate borders (drawn right and below each cell): a sticky cell of a collapsed-border
   table lets the columns scrolled under it show through in Chrome. */
table { border-collapse: separate; border-spacing: 0; font-size: 0.85rem; margin: 0.5rem 0;
        border-top: 1px solid #d0d7de; border-left: 1px solid #d0d7de; }
th, td { border: solid #d0d7de; border-width: 0 1px 1px 0; padding: 0.25rem 0.5rem;
         vertical-align: top; }
th { background: #f6f8fa; text-align: left; font-weight: 600; }
td { overflow-wrap: break-word; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.num small { color: #555; }
code { font-size: 0.85em; }
figure { margin: 1.5rem 0; }
figure svg { width: 100%; max-width: 56rem; height: auto; }
figcaption { color: #555; font-size: 0.85rem; }
.note { background: #fff8c5; border: 1px solid #e3d38a; padding: 0.5rem 0.8rem; }
"""


def e(value: Any) -> str:
    """HTML-escaped text of any value."""
    return html.escape(str(value), quote=True)


def _measure_unit(measure: str, units: Mapping[str, str]) -> str:
    if measure in units:
        return units[measure]
    if measure.endswith("_usd"):
        return "USD"
    return "probability" if measure.startswith("p_") else ""


# -- building blocks ----------------------------------------------------------------------


def _table(header: Iterable[str] | None, rows: Iterable[Iterable[tuple[str, bool]]]) -> str:
    """An HTML table that scrolls inside its column instead of spilling out of it; cells
    are (escaped html, numeric?); a header is text (escaped here), None for none."""
    out = ['<div class="scroll"><table>']
    if header is not None:
        out.append("<thead><tr>")
        out.extend(f"<th>{e(h)}</th>" for h in header)
        out.append("</tr></thead>")
    out.append("<tbody>")
    for row in rows:
        out.append("<tr>")
        for cell, numeric in row:
            out.append(f'<td class="num">{cell}</td>' if numeric else f"<td>{cell}</td>")
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def _cells(*texts: Any) -> list[tuple[str, bool]]:
    """Escaped, non-numeric table cells."""
    return [(e(t), False) for t in texts]


def _named(measure: str) -> str:
    """A measure's readable name above its code name (the column in the data)."""
    name = formatting.measure_name(measure)
    return f"{e(name)}<br><small><code>{e(measure)}</code></small>"


def _value_cell(mean, low, high, unit: str, *, signed: bool = False) -> str:
    """Mean and, below it, the 95 % interval (a sweep's cells)."""
    text = e(formatting.mean_text(mean, low, high, unit, signed))
    span = formatting.interval(low, high, unit, signed=signed)
    if span in (formatting.FIXED, formatting.NA):
        return text
    return f"{text}<br><small>{e(span)}</small>"


def _section(section_id: str, body: str) -> str:
    return f'<section id="{section_id}">{body}</section>\n'


# -- headline -----------------------------------------------------------------------------


def _card(name: str, value: str, detail: str) -> str:
    return (
        f'<div class="card"><div class="name">{e(name)}</div>'
        f'<div class="value">{e(value)}</div><div class="interval">{e(detail)}</div></div>'
    )


def _headline_section(result, is_sweep: bool) -> str:
    parts = ["<h2>Headline</h2>"]
    if not is_sweep:
        summary = result.summary()
        cards = []
        for m in HEADLINE:
            if m not in summary.index or not math.isfinite(summary.loc[m, "mean"]):
                continue
            r = summary.loc[m]
            span = formatting.interval(
                r["ci95_low"],
                r["ci95_high"],
                r["unit"],
                mean=r["mean"],
                std_error=r["std_error"],
                n=result.n_trials,
            )
            shown = formatting.with_unit(r["mean"], r["unit"])
            cards.append(_card(formatting.measure_name(m), shown, f"95 %: {span}"))
        parts.append(
            f"<p>Means over {result.n_trials:,} trials with 95 % confidence intervals; "
            f"costs in constant {result.scenario.scenario.dollar_year} dollars"
            + (
                "; a campaign's measures are totals over its salvos"
                if result.scenario.campaign is not None
                else ""
            )
            + ".</p>"
        )
        parts.append(f'<div class="cards">{"".join(cards)}</div>')
        return _section("headline", "".join(parts))
    table = result.table
    units = result.summary(0)["unit"].to_dict()
    cards = []
    for m in HEADLINE:
        if m not in table.columns or not table[m].notna().any():
            continue
        unit = _measure_unit(m, units)
        low_i, high_i = table[m].idxmin(), table[m].idxmax()
        shown = (
            f"{formatting.value(table.loc[low_i, m], unit)} to "
            f"{formatting.with_unit(table.loc[high_i, m], unit)}"  # "22.5 to 61.6 threats"
        )
        detail = (
            f"lowest at point {table.loc[low_i, 'point']}, highest at point "
            f"{table.loc[high_i, 'point']}"
        )
        cards.append(_card(formatting.measure_name(m), shown, detail))
    parts.append(
        f"<p>The range of each key measure over the {len(result.points)} points of the "
        f"sweep ({result.trials_text()} a point; costs in constant "
        f"{result.scenario.scenario.dollar_year} dollars). The points are listed in the "
        "summary; the differences section pairs each with the baseline.</p>"
    )
    parts.append(f'<div class="cards">{"".join(cards)}</div>')
    return _section("headline", "".join(parts))


# -- summary and differences --------------------------------------------------------------


def _summary_section(result, is_sweep: bool) -> str:
    if not is_sweep:
        summary = result.summary()
        rows = []
        for measure, r in summary.iterrows():
            unit = r["unit"]
            span = formatting.interval(
                r["ci95_low"],
                r["ci95_high"],
                unit,
                mean=r["mean"],
                std_error=r["std_error"],
                n=result.n_trials,
            )
            rows.append(
                [
                    (_named(measure), False),
                    (e(formatting.mean_text(r["mean"], r["ci95_low"], r["ci95_high"], unit)), True),
                    (e(span), True),
                    (e(formatting.value(r["std_error"], unit)), True),
                    (e(unit), False),
                ]
            )
        body = (
            "<h2>Summary</h2><p>Every measure: the mean over trials with its 95 % "
            "confidence interval (normal for means, delta method for cost per kill, "
            "Wilson for probabilities; a value that was the same in every trial gets the "
            "exact bound on how often a trial could differ; docs/model.md, 'Confidence "
            "intervals'). In a campaign every measure is a total over the salvos.</p>"
            + _table(["measure", "mean", "95 % interval", "std. error", "unit"], rows)
            + _costs_html(result.scenario, summary)
        )
        return _section("summary", body)
    table = result.table
    units = result.summary(0)["unit"].to_dict()
    year = result.scenario.scenario.dollar_year
    measures = [m for m in SWEEP_MEASURES if m in table.columns]
    header = ["point", *(formatting.path_label(c, year) for c in result.grid_columns)]
    to_precision = "trials" in table.columns  # run to a precision: each point's trials
    if to_precision:
        header.append("trials (* cap)")
    header += [formatting.measure_label(m, units.get(m, ""), year) for m in measures]
    rows = []
    for i in range(len(table)):
        row = [(e(table["point"].iloc[i]), True)]
        row.extend((e(formatting.grid_value(table[c].iloc[i])), True) for c in result.grid_columns)
        if to_precision:
            cap = "" if table["precision_reached"].iloc[i] else "*"
            row.append((e(f"{table['trials'].iloc[i]:,}{cap}"), True))
        for m in measures:
            unit = _measure_unit(m, units)
            cell = _value_cell(
                table[m].iloc[i],
                table[f"{m}_ci95_low"].iloc[i],
                table[f"{m}_ci95_high"].iloc[i],
                unit,
            )
            row.append((cell, True))
        rows.append(row)
    body = (
        "<h2>Summary</h2><p>Every point of the sweep: the mean and, below it, the 95 % "
        "confidence interval of the key measures. All points share their random numbers "
        "(common random numbers), so differences between points are less noisy than "
        "these intervals suggest: the next section gives the paired intervals.</p>"
        + _table(header, rows)
    )
    return _section("summary", body)


def _differences_section(result) -> str:
    """Each point minus the baseline point, key measures, paired 95 % intervals; a
    difference whose interval leaves out 0 is in bold."""
    compare = result.compare()
    base = result.baseline
    year = result.scenario.scenario.dollar_year
    measures = [m for m in SWEEP_MEASURES if m in set(compare["measure"])]
    header = ["point", *(formatting.path_label(c, year) for c in result.grid_columns)]
    header += [formatting.measure_label(m, _unit_of(compare, m), year) for m in measures]
    by_point = {p: g.set_index("measure") for p, g in compare.groupby("point", sort=True)}
    rows = []
    for i, point in enumerate(result.points):
        if i == base:
            continue
        row = [(e(i), True)]
        row.extend((e(formatting.grid_value(point[c])), True) for c in result.grid_columns)
        diffs = by_point.get(i)
        for m in measures:
            if diffs is None or m not in diffs.index:
                row.append(("", True))
                continue
            r = diffs.loc[m]
            cell = _value_cell(r["diff"], r["ci95_low"], r["ci95_high"], r["unit"], signed=True)
            clear = r["ci95_low"] > 0 or r["ci95_high"] < 0
            row.append((f"<b>{cell}</b>" if clear else cell, True))
        rows.append(row)
    text = formatting.point_label(result.points[base], year)
    body = (
        f"<h2>Paired differences</h2><p>Each point minus the baseline, point {base} "
        f"({e(text)}), with 95 % intervals from the paired trials (the same random "
        "numbers at every point, so the differences are far less noisy than the points' "
        "own intervals). <b>Bold</b>: the interval leaves out 0. Probabilities differ in "
        "percentage points (pp).</p>"
    )
    body += _table(header, rows) if rows else "<p>The sweep has only its baseline.</p>"
    return _section("differences", body)


def _unit_of(compare, measure: str) -> str:
    units = compare.loc[compare["measure"] == measure, "unit"]
    return str(units.iloc[0]) if len(units) else ""


# -- scenario -------------------------------------------------------------------------------


def _run_trials_text(result, unit: str = " trials") -> str:
    """A run's trials in words, as a sweep's ``trials_text``: "20,000 trials", or run to a
    precision "12,500 trials (to 1 % of leakers; not reached: the trial cap stopped it)"."""
    text = f"{result.n_trials:,}{unit}"
    reached = getattr(result, "precision", None)
    if reached is None:
        return text
    verdict = "reached" if reached.reached else "not reached: the trial cap stopped it"
    return f"{text} (to {100 * reached.target:g} % of {reached.measure}; {verdict})"


def _scenario_section(result, is_sweep: bool) -> str:
    s = result.scenario
    year = s.scenario.dollar_year
    parts = [f"<h2>Scenario: {e(s.name)}</h2>"]
    if s.scenario.description:
        parts.append(f"<p>{e(s.scenario.description)}</p>")
    facts = [
        ("scenario", s.name),
        ("loaded from", s.source),
        ("policy", s.scenario.policy),
        ("threats launched", f"{s.launched:,}"),
        ("cost of the raid", formatting.usd(s.attack_cost_usd)),
        ("costs in", f"constant {year} dollars (CPI-U)"),
        ("seed", result.seed),
        (
            "trials" + (" per point" if is_sweep else ""),
            result.trials_text() if is_sweep else _run_trials_text(result, unit=""),
        ),
        ("costx version", version()),
    ]
    if s.campaign is not None:
        every = f"{s.campaign.n_salvos} salvos, one every {s.campaign.interval_h:g} hours"
        facts.insert(4, ("campaign", every))
    if is_sweep:
        facts.append(("grid points", len(result.points)))
        facts.append(("grid variables", ", ".join(result.grid_columns)))
        base = formatting.point_label(result.points[result.baseline], year)
        facts.append(("paired differences against", f"point {result.baseline} ({base})"))
    parts.append(_table(None, [_cells(k, v) for k, v in facts]))
    parts.append(
        "<details><summary>Scenario file (TOML), as run</summary>"
        f"<pre>{e(s.to_toml())}</pre></details>"
    )
    return _section("scenario", "".join(parts))


def _costs_html(scenario, summary) -> str:
    """Expended, capital, damage and total side by side, and what the capital charge is
    made of (costx.costing.cost_breakdown)."""
    costs = cost_breakdown(scenario, summary)
    labels = {
        "expended_usd": "expended (rounds, shots, barrel wear)",
        "capital_usd": "capital (acquisition, amortized)",
        "damage_usd": "damage (value lost to leakers)",
        "total_usd": "total",
    }
    rows = []
    for key, label in labels.items():
        part = costs[key]
        if part is None:
            continue
        share = formatting.percent(part["share"])  # n/a when there is no total
        rows.append(
            [
                (e(label), False),
                (e(formatting.usd(part["mean"])), True),
                (e(formatting.interval(part["ci95_low"], part["ci95_high"], "USD")), True),
                (e(share), True),
            ]
        )
    c = costs["costing"]
    raids = "not set" if c["raids_per_year"] is None else f"{c['raids_per_year']:g}"
    body = (
        f"<h3>Cost of one raid ({e(c['raid'])}), {e(costs['dollar_year'])} dollars</h3>"
        "<p>Capital is charged to each raid as acquisition &times; CRF(r, L) / raids per "
        f"year, CRF = r / (1 - (1 + r)<sup>-L</sup>): real rate r = {e(c['discount_rate'])}, "
        f"default service life L = {e(c['service_life_years'])} years, {e(raids)} raids a "
        "year (docs/model.md, &ldquo;Capital costs&rdquo;).</p>"
        + _table(["", "mean", "95 % interval", "share of total"], rows)
    )
    items = [it for it in costs["capital_items"] if it["charge_usd"] > 0]
    if items:
        body += _table(
            ["capital item", "units", "unit cost", "acquisition", "life (y)", "CRF", "per raid"],
            [
                [
                    (e(it["item"]), False),
                    (e(it["units"]), True),
                    (e(formatting.usd(it["unit_cost_usd"])), True),
                    (e(formatting.usd(it["acquisition_usd"])), True),
                    (e(f"{it['service_life_years']:g}"), True),
                    (e(f"{it['crf']:.4f}"), True),
                    (e(formatting.usd(it["charge_usd"])), True),
                ]
                for it in items
            ],
        )
    return body


_SVG_PROLOGUE = re.compile(r"^.*?(?=<svg\b)", re.DOTALL)


def inline_svg(fig, key: str) -> str:
    """A figure as inline SVG: no XML prologue, ids prefixed with ``key`` so that several
    figures in one page do not share ids, text kept as text."""
    import matplotlib  # lazy: optional (costx[plot]) and slow to import

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": key, "svg.fonttype": "none"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = _SVG_PROLOGUE.sub("", buffer.getvalue(), count=1)
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.DOTALL)
    svg = svg.replace(' id="', f' id="{key}-')
    svg = svg.replace('href="#', f'href="#{key}-')
    svg = svg.replace("url(#", f"url(#{key}-")
    return svg


def _figures_section(result) -> str:
    parts = ["<h2>Figures</h2>"]
    count = 0
    for i, (stem, fig) in enumerate(figures(result)):
        title = fig.axes[0].get_title(loc="left").split("\n", 1)[0] if fig.axes else stem
        parts.append(
            f'<figure id="figure-{e(stem)}">{inline_svg(fig, f"f{i}")}'
            f"<figcaption>{e(title)}</figcaption></figure>"
        )
        count += 1
    if not count:
        parts.append("<p>No figure applies to this result.</p>")
    return _section("figures", "".join(parts))


# -- provenance -----------------------------------------------------------------------------


def _record(value: Any) -> dict:
    """A provenance record as a dict (a mapping, a pydantic model or a dataclass)."""
    if isinstance(value, Mapping):
        return dict(value)
    if hasattr(value, "model_dump"):
        return value.model_dump()
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)
    if hasattr(value, "__dict__"):
        return {k: v for k, v in vars(value).items() if not k.startswith("_")}
    return {"value": value}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping):
        return ", ".join(f"{k} = {_text(v)}" for k, v in value.items())
    if isinstance(value, Iterable):
        return ", ".join(_text(v) for v in value)
    return str(value)


def _value(path: str, value: Any, dollar_year: Any = None) -> str:
    """A field value for a table: costs with thousands separators (and the dollar year of
    a catalog figure, which the scenario converted to its own), empty text named."""
    if value is None:
        return "not set"
    if isinstance(value, str) and not value:
        return "empty"
    if isinstance(value, int | float) and not isinstance(value, bool) and path.endswith("_usd"):
        text = formatting.exact(value, "USD")
        return f"{text} ({dollar_year} dollars)" if dollar_year is not None and value else text
    if isinstance(value, Mapping) and not value:
        return "empty table"
    return _text(value)


def _keys(value: Any) -> list[str]:
    """Source keys of a record (a key, a list of keys, or nothing)."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [_text(value)]
    if isinstance(value, Iterable):
        return [_text(v) for v in value if v not in (None, "")]
    return [str(value)]


_INDEXED = re.compile(r"^(threats|effectors|base\.assets)\[(\d+)\]")


def named_path(scenario, path: str) -> str:
    """``effectors[1].rounds`` -> ``effectors.sm6.rounds`` (list items by name, as in
    sweep grids); other paths unchanged."""
    match = _INDEXED.match(path)
    if not match:
        return path
    section, index = match.group(1), int(match.group(2))
    items = scenario.base.assets if section == "base.assets" and scenario.base else ()
    if section != "base.assets":
        items = getattr(scenario, section)
    if index >= len(items):
        return path
    return f"{section}.{items[index].name}{path[match.end() :]}"


def _catalog_sources() -> dict[str, dict]:
    """The catalog's source list (key -> title, publisher, date, url, tier), if any."""
    try:
        return dict(load_catalog().sources)
    except Exception:  # no catalog in this installation, or an unreadable one
        return {}


def _is_cited(record: dict) -> bool:
    """A record that says more than 'the scenario file gave this value'."""
    if record.get("assumption"):
        return True
    if record.get("from", "scenario") != "scenario":
        return True
    return bool(record.get("sources") or record.get("catalog") or record.get("entry"))


def _entry(record: dict) -> str:
    return _text(record.get("entry") or record.get("catalog"))


def _assumption_rows(scenario, records: dict[str, dict]) -> list[tuple[str, Any, str, str]]:
    """(path, value, rationale, catalog entry) of every assumed value."""
    rows: list[tuple[str, Any, str, str]] = []
    method = getattr(scenario, "assumptions", None)
    if callable(method):
        for path, value, rationale in method():
            rows.append((path, value, rationale, _entry(records.get(path, {}))))
        return rows
    for path, r in records.items():
        if r.get("assumption"):
            rationale = r.get("rationale") or ("" if r["assumption"] is True else r["assumption"])
            rows.append((path, r.get("value"), _text(rationale), _entry(r)))
    return rows


def _provenance_sections(scenario) -> str:
    provenance = getattr(scenario, "provenance", None)
    records = {str(p): _record(r) for p, r in dict(provenance or {}).items()}
    cited = {p: r for p, r in records.items() if _is_cited(r)}
    note = "" if cited else f'<p class="note">{e(NO_PROVENANCE)}.</p>'

    # Assumptions: values no source gives, then the model defaults the file relies on.
    body = "<h2>Assumptions</h2>" + note
    assumed = _assumption_rows(scenario, records)
    if assumed:
        body += (
            "<p>Values that no source gives for this case: modelling choices, placeholders "
            "and stand-ins, each with its reason (which names any source it rests on). "
            "Treat them as inputs to sweep, not as findings.</p>"
            + _table(
                ["field", "value", "rationale", "catalog entry"],
                [
                    _cells(
                        named_path(scenario, p),
                        _value(p, v, records.get(p, {}).get("dollar_year")),
                        why,
                        entry,
                    )
                    for p, v, why, entry in assumed
                ],
            )
        )
    elif cited:
        body += "<p>The scenario's provenance marks no value as an assumption.</p>"
    defaults = default_fields(scenario)
    body += (
        "<h3>Model defaults</h3><p>Fields the scenario leaves at the model's default (the "
        "value the model assumes when a file does not set it); check that each fits the "
        "case.</p>"
    )
    rows = [_cells(p, _value(p, v)) for p, v in defaults]
    body += _table(["field", "model default"], rows) if rows else "<p>None.</p>"
    parts = [_section("assumptions", body)]

    # Sources: every value taken from the catalog, and the sources it cites.
    body = "<h2>Sources</h2>" + note
    if not cited:
        body += (
            f"<p>The scenario was loaded from <code>{e(scenario.source)}</code>; its values "
            "are the analyst's inputs. Bundled scenario files cite the source, year, dollar "
            "year and confidence tier of each number in comments, which a result file does "
            "not keep; see the scenario file and docs/sources.md.</p>"
        )
        return "".join(parts) + _section("sources", body)
    library = _catalog_sources()
    citing: dict[str, list[str]] = {}
    rows = []
    for path, r in cited.items():
        if r.get("assumption") and not r.get("sources"):
            continue
        name = named_path(scenario, path)
        keys = _keys(r.get("sources", r.get("source")))
        for key in keys:
            citing.setdefault(key, []).append(name)
        details = [
            f"{k.replace('_', ' ')}: {_text(r[k])}"
            for k in ("year", "dollar_year")
            if r.get(k) is not None
        ]
        converted = r.get("converted")
        if isinstance(converted, Mapping):
            details.append(
                f"converted from {converted.get('from_year')} to {converted.get('to_year')} "
                f"dollars (x {float(converted.get('factor', math.nan)):.4f})"
            )
        if r.get("note"):
            details.append(_text(r["note"]))
        rows.append(
            [
                (e(name), False),
                (e(_value(path, r.get("value"), r.get("dollar_year"))), False),
                (e(_entry(r)), False),
                (e(", ".join(keys)) or "&mdash;", False),
                (e(_text(r.get("confidence"))), False),
                ("<br>".join(e(d) for d in details), False),
            ]
        )
    body += "<h3>Values from the catalog</h3>"
    body += (
        _table(["field", "value", "catalog entry", "sources", "confidence", "details"], rows)
        if rows
        else "<p>None.</p>"
    )
    if citing:
        items = []
        for key in sorted(citing, key=_source_order):
            info = library.get(key, {})
            described = ", ".join(
                _text(info[k]) for k in ("title", "publisher", "date") if info.get(k)
            )
            tier = f" (tier {_text(info['tier'])})" if info.get("tier") else ""
            urls = _keys(info.get("url"))
            link = "".join(
                f' <a href="{e(u)}">{e(u)}</a>'
                for u in urls
                if u.startswith("https://") or u.startswith("http://")
            )
            items.append(
                f"<li><b>{e(key)}</b> {e(described) or '(not in the catalog source list)'}"
                f"{e(tier)}{link}<br><span class='meta'>cited for "
                f"{e(', '.join(citing[key]))}</span></li>"
            )
        body += "<h3>Sources cited</h3><ul>" + "".join(items) + "</ul>"
    parts.append(_section("sources", body))
    return "".join(parts)


def _source_order(key: str) -> tuple:
    match = re.match(r"^([A-Za-z]*)(\d+)$", key)
    return (match.group(1), int(match.group(2)), key) if match else (key, 0, key)


def default_fields(scenario) -> list[tuple[str, Any]]:
    """Fields whose value equals the model default, as (dotted path, value); list items
    are addressed by name, as in sweep grids (``effectors.sm2.channels``). Catalog
    references (``use``) are left out."""
    out: list[tuple[str, Any]] = []

    def walk(model: BaseModel, prefix: str) -> None:
        for name, field in type(model).model_fields.items():
            value = getattr(model, name)
            path = f"{prefix}{name}"
            if isinstance(value, BaseModel):
                walk(value, f"{path}.")
                continue
            if isinstance(value, tuple) and value and all(isinstance(v, BaseModel) for v in value):
                for i, item in enumerate(value):
                    walk(item, f"{path}.{getattr(item, 'name', i)}.")
                continue
            if field.is_required() or name in ("use", "assumptions"):
                continue
            default = field.get_default(call_default_factory=True)
            if value == default and type(value) is type(default):
                out.append((path, value))

    walk(scenario, "")
    return out


# -- the report -----------------------------------------------------------------------------


def render_report(result) -> str:
    """The report as an HTML string (see :func:`write_report`)."""
    if isinstance(result, AnalysisResult):
        return render_analysis_report(result)
    is_sweep = isinstance(result, SweepResult)
    if not is_sweep and not isinstance(result, SimulationResult):
        raise InputError(
            f"expected a SimulationResult or a SweepResult, not {type(result).__name__}"
        )
    s = result.scenario
    kind = "sweep" if is_sweep else "simulation"
    title = f"costx {kind} report: {s.name}"
    sections = SWEEP_SECTIONS if is_sweep else SECTIONS
    nav = "".join(f'<a href="#{sid}">{sid}</a>' for sid in sections)
    runs = (
        f"{len(result.points)} points x {result.trials_text()}"
        if is_sweep
        else _run_trials_text(result)
    )
    meta = (
        f"{runs}, seed {result.seed}, policy {s.scenario.policy}; costs in constant "
        f"{s.scenario.dollar_year} dollars"
    )
    body = [
        f"<h1>{e(title)}</h1>",
        f'<p class="meta">{e(s.scenario.description)}</p>' if s.scenario.description else "",
        f'<p class="meta">{e(meta)}</p>',
        f"<nav>{nav}</nav>\n",
        _headline_section(result, is_sweep),
        _summary_section(result, is_sweep),
        _differences_section(result) if is_sweep else "",
        _figures_section(result),
        _scenario_section(result, is_sweep),
        _provenance_sections(s),
    ]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        + "".join(body)
        + "</body>\n</html>\n"
    )


def write_report(result, path: str | Path) -> Path:
    """Write one self-contained HTML report of a SimulationResult, SweepResult or
    AnalysisResult to ``path`` (atomically); returns the path. Needs matplotlib for the
    figures."""
    _require_matplotlib()
    path = as_file_path(path, "path")  # "out/" names a folder: not written as a file "out"
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise InputError(f"{path}: is a folder; give a file name for the report")
    if not folder.is_dir():
        raise InputError(f"{path}: folder {folder} does not exist")
    return write_bytes_atomic(render_report(result).encode("utf-8"), path)


# -- decision analyses (costx.analysis) ----------------------------------------------------

_ANALYSIS_TITLES = {
    "margin": "Marginal cost-exchange",
    "break_even": "Break-even",
    "cheapest": "Cheapest posture",
    "worst_raid": "Worst raid within a budget",
    "sensitivity": "Sensitivity to the assumptions",
}


def _analysis_section(result) -> str:
    """What was asked: the analysis, its inputs and how it was run."""
    s = result.scenario
    facts = [
        ("analysis", _ANALYSIS_TITLES[result.kind]),
        ("scenario", f"{s.name} ({s.source})"),
        ("policy", s.scenario.policy),
        ("costs in", f"constant {result.dollar_year} dollars (CPI-U)"),
        ("seed", result.seed),
        ("trials per confirmed evaluation", f"{result.trials:,}"),
        ("trials simulated in all", f"{result.trials_simulated:,}"),
        ("costx version", version()),
    ]
    for key, value in result.inputs.items():
        if key in ("trials", "seed"):
            continue
        if isinstance(value, Mapping) and "scenario_toml" in value:
            value = "another scenario (its TOML is in the file's metadata)"
        facts.append((f"input: {key}", _text(value) if not isinstance(value, str) else value))
    body = (
        f"<h2>Analysis: {e(_ANALYSIS_TITLES[result.kind])}</h2>"
        "<p>Every evaluation uses the same seed over the same trials (common random "
        "numbers), so differences between postures have paired intervals; "
        "docs/model.md (Decision analysis) states the rules.</p>"
        + _table(["", ""], [[(e(k), False), (e(v), False)] for k, v in facts])
    )
    return _section("analysis", body)


def _answer_section(result) -> str:
    paragraphs = "".join(f"<p>{e(line)}</p>" for line in result.describe().splitlines())
    return _section("answer", f"<h2>Answer</h2>{paragraphs}")


def _analysis_table_section(result) -> str:
    units = column_units(result)

    t = result.table
    columns = [c for c in t.columns if not c.endswith(("_ci95_low", "_ci95_high"))]
    if result.kind in KEY_COLUMNS:
        key = [c for c in KEY_COLUMNS[result.kind] if c in t.columns]
        columns = list(dict.fromkeys([*[c for c in columns if c not in key][:8], *key]))
    rows = []
    for _, row in t.head(200).iterrows():
        cells = []
        for c in columns:
            low, high = f"{c}_ci95_low", f"{c}_ci95_high"
            unit = units.get(c, "")
            text = e(format_cell(row[c], c, unit))
            if (
                low in t.columns
                and _finite(row[low])
                and _finite(row[high])
                and row[low] != row[high]
            ):
                span = f"{format_cell(row[low], c, unit)} to {format_cell(row[high], c, unit)}"
                text += f"<br><small>{e(span)}</small>"
            cells.append((text, not isinstance(row[c], str)))
        rows.append(cells)
    more = f"<p>The first 200 of {len(t)} rows.</p>" if len(t) > 200 else ""
    body = (
        "<h2>Table</h2><p>Each value with its 95 % interval below it; the Parquet file has "
        "every column.</p>" + _table(columns, rows) + more
    )
    return _section("table", body)


def _finite(value) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def render_analysis_report(result) -> str:
    """The report of an AnalysisResult as an HTML string (see :func:`write_report`):
    sections ``analysis`` (the question and its inputs), ``answer``, ``figures``,
    ``table``, ``scenario``, ``assumptions`` and ``sources``."""
    s = result.scenario
    title = f"costx analysis report: {_ANALYSIS_TITLES[result.kind].lower()}, {s.name}"
    nav = "".join(f'<a href="#{sid}">{sid}</a>' for sid in ANALYSIS_SECTIONS)
    scenario = (
        f"<h2>Scenario: {e(s.name)}</h2>"
        + (f"<p>{e(s.scenario.description)}</p>" if s.scenario.description else "")
        + f"<pre>{e(s.to_toml())}</pre>"
    )
    body = [
        f"<h1>{e(title)}</h1>",
        f"<nav>{nav}</nav>\n",
        _analysis_section(result),
        _answer_section(result),
        _figures_section(result),
        _analysis_table_section(result),
        _section("scenario", scenario),
        _provenance_sections(s),
    ]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        + "".join(body)
        + "</body>\n</html>\n"
    )
