"""Figures of simulation and sweep results (matplotlib, an optional dependency).

Install with ``pip install "costx[plot]"``. matplotlib is imported only when a figure is
made; without it every entry point raises :class:`~costx.errors.InputError` naming the
extra.

Backends: pyplot is never used. When a method is called without ``ax=``, it builds a
``matplotlib.figure.Figure`` with its own non-interactive Agg canvas, so the global
backend (and any notebook or GUI backend already chosen) is left alone and no figure is
registered with pyplot. Get the figure from the returned axes (``ax.figure``) to save or
display it; in a notebook with the inline backend, ``ax.figure`` as the last expression
shows it. To draw into pyplot-managed figures instead, pass ``ax=`` (for example from
``plt.subplots()``).

>>> from costx.plotting import SimulationPlots, plot_all  # doctest: +SKIP
>>> ax = SimulationPlots(result).cost_per_kill()  # doctest: +SKIP
>>> ax.figure.savefig("cpk.png")  # doctest: +SKIP
>>> plot_all(result, "figures")  # every figure that applies, PNG and SVG  # doctest: +SKIP
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from costx.errors import InputError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from costx.simulation import SimulationResult
    from costx.sweeps import SweepResult

MISSING = 'plotting needs matplotlib: pip install "costx[plot]"'
FIGSIZE = (7.0, 4.5)
CAMPAIGN_FIGSIZE = (7.0, 7.0)
DPI = 150
TITLE_WIDTH = 90  # characters per title line
LOG_SPAN = 100.0  # log y when the largest positive value exceeds the smallest by this
INTERVAL = "95 % interval"

_CPK = "cost_per_kill_usd"
_CER_TOTAL = "cost_exchange_total_over_attack"
_CER_DEFENSE = "cost_exchange_defense_over_attack"

_LABELS = {
    "leakers": "leakers",
    "p_any_leak": "P(any leak)",
    "killed": "threats killed",
    "defense_cost_usd": "defense cost",
    "attack_cost_usd": "attack cost",
    "cost_per_kill_usd": "cost per kill",
    "cost_exchange_defense_over_attack": "defense cost / attack cost",
    "cost_exchange_total_over_attack": "(expended + capital + damage) / attack cost",
    "damage_usd": "damage (value lost to leakers)",
    "total_cost_usd": "total cost (expended + capital + damage)",
    "capital_cost_usd": "capital cost (amortized)",
    "defense_total_cost_usd": "defense cost (expended + capital)",
    "cost_exchange_total_defense_over_attack": "(expended + capital) / attack cost",
    "runway_closed_h": "runway closure",
    "salvos_before_first_leak": "salvos before the first leak",
}

# Units of grid variables, by the last part of their path (then by suffix).
_PATH_UNITS = {
    "rounds": "rounds",
    "units": "units",
    "count": "threats",
    "repair_teams": "teams",
    "dispersal_sites": "sites",
    "runways": "runways",
    "cuts_to_close": "craters",
    "channels": "channels",
    "salvo_size": "rounds per salvo",
    "max_engagements": "engagements",
    "salvos": "salvos",
    "availability": "probability",
    "rate_per_min": "rounds per minute",
    "beam_quality": "M²",
    "barrel_life_rounds": "rounds",
    "kill_fluence_j_cm2": "J/cm²",
}
_SUFFIX_UNITS = (
    ("_usd", "USD"),
    ("_mps", "m/s"),
    ("_km", "km"),
    ("_kw", "kW"),
    ("_urad", "µrad"),
    ("_um", "µm"),
    ("_per_km", "per km"),
    ("_h", "hours"),
    ("_s", "s"),
    ("_m", "m"),
)


# -- matplotlib, lazily -------------------------------------------------------------------


def _require_matplotlib():
    """Import matplotlib (InputError naming the ``plot`` extra when it is missing)."""
    try:
        import matplotlib
        import matplotlib.figure
        import matplotlib.ticker
        from matplotlib.backends import backend_agg  # noqa: F401
    except ImportError:
        raise InputError(MISSING) from None
    return matplotlib


def new_figure(figsize: tuple[float, float] = FIGSIZE, nrows: int = 1, **subplot_kw) -> Figure:
    """A Figure on its own Agg canvas (pyplot and the global backend are not touched)."""
    _require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    for i in range(nrows):
        fig.add_subplot(nrows, 1, i + 1, **subplot_kw)
    return fig


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        _require_matplotlib()
        return ax
    return new_figure().axes[0]


# -- text and number formatting -------------------------------------------------------------


def usd(value: float) -> str:
    """Compact dollars: $950, $98.6k, $2.65M, $3.84B."""
    if value is None or not math.isfinite(value):
        return "n/a"
    sign = "-" if value < 0 else ""
    v = abs(value)
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if v >= scale:
            x = v / scale
            digits = 2 if x < 10 else 1 if x < 100 else 0
            return f"{sign}${x:.{digits}f}{suffix}"
    return f"{sign}${v:.2f}" if v < 10 and v != int(v) else f"{sign}${v:.0f}"


def usd_tick(value: float) -> str:
    """Dollars for axis ticks, without trailing zeros: $10M, $2.5M, $100k, $0."""
    if not math.isfinite(value):
        return ""
    sign = "-" if value < 0 else ""
    v = abs(value)
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if v >= scale:
            return f"{sign}${v / scale:.4g}{suffix}"
    return f"{sign}${v:.4g}"


def format_value(value: float, unit: str) -> str:
    """A value for a cell or a bar label, by unit."""
    if value is None or not math.isfinite(value):
        return "n/a"
    if unit.startswith("USD"):
        return usd(value)
    if unit == "probability":
        return f"{100 * value:.1f} %"
    if unit == "ratio":
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"


def measure_label(measure: str, unit: str = "") -> str:
    """An axis label: readable name and unit, ``cost per kill (USD per kill)``."""
    name = _LABELS.get(measure)
    if name is None:
        name = measure.removesuffix("_usd").replace("_", " ")
    if unit and unit not in name:
        return f"{name} ({unit})"
    return name


def measure_title(measure: str) -> str:
    """A measure's name at the start of a title."""
    if measure.startswith("cost_exchange_"):
        return f"Cost-exchange ratio: {measure_label(measure)}"
    name = measure_label(measure)
    return name[0].upper() + name[1:]


def path_unit(path: str) -> str:
    """The unit of a grid variable, from its field name ('' when unknown)."""
    field = path.rsplit(".", 1)[-1]
    if field in _PATH_UNITS:
        return _PATH_UNITS[field]
    if field.startswith("p_") or field == "pk" or ".pk." in path:
        return "probability"
    for suffix, unit in _SUFFIX_UNITS:
        if field.endswith(suffix):
            return unit
    return ""


def path_label(path: str) -> str:
    unit = path_unit(path)
    return f"{path} ({unit})" if unit else path


def scenario_line(scenario) -> str:
    """``name: description`` of a scenario, for titles."""
    description = scenario.scenario.description.strip()
    return f"{scenario.name}: {description}" if description else scenario.name


def _title(*lines: str) -> str:
    out: list[str] = []
    for line in lines:
        if line:
            out.extend(textwrap.wrap(line, TITLE_WIDTH) or [""])
    return "\n".join(out)


def _set_title(ax: Axes, *lines: str) -> None:
    ax.set_title(_title(*lines), fontsize=9, loc="left")


def _usd_axis(axis) -> None:
    from matplotlib.ticker import FuncFormatter, NullFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _pos: usd_tick(v)))
    axis.set_minor_formatter(NullFormatter())


def _spans_decades(values: Sequence[float]) -> bool:
    positive = [v for v in values if v is not None and math.isfinite(v) and v > 0]
    return len(positive) >= 2 and max(positive) / min(positive) > LOG_SPAN


def _interval_err(mean, low, high) -> np.ndarray:
    """Non-negative error-bar lengths (0 where the interval is unknown)."""
    mean, low, high = (np.asarray(a, float) for a in (mean, low, high))
    below = np.nan_to_num(mean - low, nan=0.0).clip(min=0.0)
    above = np.nan_to_num(high - mean, nan=0.0).clip(min=0.0)
    return np.vstack([below, above])


def _is_numeric(values) -> bool:
    return all(
        isinstance(v, int | float | np.integer | np.floating)
        and not isinstance(v, bool | np.bool_)
        and math.isfinite(float(v))
        for v in values
    )


def _unique(values) -> list:
    out: list = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")


# -- a simulation result --------------------------------------------------------------------


class SimulationPlots:
    """Figures of one :class:`~costx.simulation.SimulationResult`.

    Every method draws into ``ax`` when given (a campaign figure takes a pair), else
    into a new Agg figure of 7 x 4.5 in at 150 dpi, and returns the axes.
    """

    def __init__(self, result: SimulationResult):
        _require_matplotlib()
        self.result = result
        self.scenario = result.scenario

    def _header(self) -> tuple[str, str]:
        r = self.result
        return (
            f"Scenario {self.scenario.name} ({r.n_trials:,} trials, seed {r.seed})",
            self.scenario.scenario.description,
        )

    def cost_per_kill(self, ax: Axes | None = None) -> Axes:
        """Cost per kill of each effector and overall (total defense cost over kills),
        as bars with 95 % interval error bars; log y when the values span more than two
        decades. Effectors without kills have no bar and are named in a note."""
        ax = _axes(ax)
        summary = self.result.summary()
        names, means, lows, highs, missing = [], [], [], [], []
        for e in self.scenario.effectors:
            row = summary.loc[f"cost_per_kill_{e.name}_usd"]
            if not math.isfinite(row["mean"]):
                missing.append(e.name)
                continue
            names.append(e.name)
            means.append(row["mean"])
            lows.append(row["ci95_low"])
            highs.append(row["ci95_high"])
        overall = summary.loc[_CPK]
        has_overall = math.isfinite(overall["mean"])
        if has_overall:
            names.append("all effectors")
            means.append(overall["mean"])
            lows.append(overall["ci95_low"])
            highs.append(overall["ci95_high"])
        colors = ["#4C72B0"] * (len(names) - has_overall) + ["#C44E52"] * has_overall
        x = np.arange(len(names))
        log = _spans_decades(means)
        if names:
            bars = ax.bar(
                x,
                means,
                yerr=_interval_err(means, lows, highs),
                capsize=4,
                color=colors,
                error_kw={"elinewidth": 1.0, "ecolor": "black"},
                label=f"mean with {INTERVAL}",
            )
            ax.bar_label(bars, labels=[usd(m) for m in means], padding=3, fontsize=8)
        ax.set_xticks(x, names)
        if log:
            ax.set_yscale("log")
            ax.set_ylim(min(m for m in means if m > 0) / 3, max(means) * 8)
        elif names:
            ax.set_ylim(0, max(max(means), np.nanmax(np.asarray(highs, float))) * 1.15)
        _usd_axis(ax.yaxis)
        ax.set_ylabel("cost per kill (USD per kill)" + (", log scale" if log else ""))
        ax.set_xlabel("effector")
        if missing:
            ax.text(
                0.99,
                0.97,
                "no kills: " + ", ".join(missing),
                transform=ax.transAxes,
                ha="right",
                va="top",
                fontsize=8,
            )
        ax.grid(axis="y", alpha=0.3)
        _set_title(ax, f"Cost per kill by effector (error bars: {INTERVAL})", *self._header())
        return ax

    def leakers(self, ax: Axes | None = None) -> Axes:
        """The distribution of leakers per trial (bars of probabilities), with P(any
        leak) and its 95 % interval in the title. Needs the per-trial table."""
        if not self.result.has_trials:
            raise InputError(
                "the leakers figure needs the per-trial table: simulate with "
                "keep_trials=True (costx run without --summary-only)"
            )
        ax = _axes(ax)
        leaked = self.result.trials["leaked"].to_numpy()
        values, counts = np.unique(leaked, return_counts=True)
        probability = counts / leaked.size
        bars = ax.bar(values, probability, width=0.8, color="#4C72B0", label="P(leakers = k)")
        if values.size <= 12:
            ax.bar_label(bars, labels=[_percent(p) for p in probability], padding=2, fontsize=8)
        mean = float(leaked.mean())
        ax.axvline(mean, color="#C44E52", linestyle="--", linewidth=1.2, label=f"mean {mean:.3g}")
        whole = ", whole campaign" if self.scenario.campaign is not None else ""
        ax.set_xlabel(f"leakers per trial (threats, of {self.scenario.launched:,} launched{whole})")
        ax.set_ylabel("probability")
        ax.set_ylim(0, min(1.1, probability.max() * 1.15))
        if values.size <= 25:
            ax.set_xticks(values)
        ax.legend(fontsize=8)
        ax.grid(axis="y", alpha=0.3)
        row = self.result.summary().loc["p_any_leak"]
        interval = ""
        if math.isfinite(row["ci95_low"]) and row["ci95_low"] != row["ci95_high"]:
            low, high = 100 * row["ci95_low"], 100 * row["ci95_high"]
            interval = f" ({INTERVAL} {low:.1f} to {high:.1f} %)"
        _set_title(
            ax,
            f"Leakers per trial: P(any leak) = {100 * row['mean']:.1f} %{interval}",
            *self._header(),
        )
        return ax

    def campaign(self, ax: Sequence[Axes] | None = None) -> tuple[Axes, Axes]:
        """A campaign, salvo by salvo: rounds left in each kinetic effector's magazine
        (top) and cumulative cost (bottom), medians with 5-95 % bands over trials.

        Salvo 0 is the start (full magazines, nothing spent). The cost panel shows the
        cumulative defense cost and, with a base, the cumulative total cost (defense plus
        damage). ``ax`` is a pair of axes (magazines, cost) or None (a new 7 x 7 in
        figure); returns the pair. Needs the per-salvo table.
        """
        if self.scenario.campaign is None:
            raise InputError("the campaign figure needs a campaign scenario (a [campaign] table)")
        if not self.result.has_salvos:
            raise InputError(
                "the campaign figure needs the per-salvo table: simulate with "
                "keep_trials=True (costx run without --summary-only)"
            )
        if ax is None:
            fig = new_figure(CAMPAIGN_FIGSIZE, nrows=2)
            ax_mag, ax_cost = fig.axes
            ax_cost.sharex(ax_mag)
        else:
            _require_matplotlib()
            if len(ax) != 2:
                raise InputError("campaign(ax=...) takes a pair of axes: (magazines, cost)")
            ax_mag, ax_cost = ax
        salvos = self.result.salvos
        n = self.scenario.campaign.n_salvos
        steps = np.arange(0, n + 1)
        kinetic = [e for e in self.scenario.effectors if f"rounds_left_{e.name}" in salvos]
        groups = salvos.groupby("salvo")
        colors = _colors()
        for i, e in enumerate(kinetic):
            q = groups[f"rounds_left_{e.name}"].quantile([0.05, 0.5, 0.95]).unstack()
            band = _with_start(q, float(e.rounds))
            _band(ax_mag, steps, band, f"{e.name} (of {e.rounds})", colors[i % len(colors)])
        if not kinetic:
            ax_mag.text(
                0.5,
                0.5,
                "no kinetic effectors",
                transform=ax_mag.transAxes,
                ha="center",
                va="center",
            )
        else:
            ax_mag.legend(fontsize=8, title="median, 5-95 % band", title_fontsize=8)
        ax_mag.set_ylabel("rounds left in the magazine (rounds)")
        ax_mag.set_ylim(bottom=0)
        ax_mag.grid(alpha=0.3)
        cost_columns = [("cumulative_defense_cost_usd", "defense cost")]
        if "cumulative_cost_usd" in salvos:
            cost_columns.append(("cumulative_cost_usd", "total cost (defense + damage)"))
        for i, (column, label) in enumerate(cost_columns):
            q = groups[column].quantile([0.05, 0.5, 0.95]).unstack()
            _band(ax_cost, steps, _with_start(q, 0.0), label, colors[(i + 3) % len(colors)])
        attack = self.scenario.attack_cost_usd
        per_salvo = np.cumsum(
            [0.0]
            + [
                sum(c * t.unit_cost_usd for c, t in zip(row, self.scenario.threats, strict=True))
                for row in self.scenario.salvo_counts()
            ]
        )
        if attack > 0:
            ax_cost.plot(
                steps,
                per_salvo,
                color="black",
                linestyle=":",
                linewidth=1.2,
                label="attack cost (raid launched)",
            )
        ax_cost.legend(fontsize=8, title="median, 5-95 % band", title_fontsize=8)
        ax_cost.set_ylabel("cumulative cost (USD)")
        ax_cost.set_ylim(bottom=0)
        _usd_axis(ax_cost.yaxis)
        ax_cost.grid(alpha=0.3)
        interval_h = self.scenario.campaign.interval_h
        ax_cost.set_xlabel(f"salvo (salvos, one every {interval_h:g} hours; 0 = start)")
        ax_mag.set_xlabel("salvo (salvos; 0 = start)")
        for a in (ax_mag, ax_cost):
            a.set_xticks(steps)
        _set_title(
            ax_mag, f"Campaign of {n} salvos: magazines and cumulative cost", *self._header()
        )
        return ax_mag, ax_cost


_MARKERS = ("o", "s", "^", "D", "v", "P", "X")
_DASHES = ("-", "--", "-.", ":")


def _percent(p: float) -> str:
    if p >= 0.001:
        return f"{100 * p:.1f} %"
    return f"{100 * p:.2g} %"


def _colors() -> list[str]:
    return [
        "#4C72B0",
        "#DD8452",
        "#55A868",
        "#C44E52",
        "#8172B3",
        "#937860",
        "#DA8BC3",
        "#8C8C8C",
        "#CCB974",
        "#64B5CD",
    ]


def _with_start(q, start: float) -> np.ndarray:
    """Quantile rows (0.05, 0.5, 0.95) per salvo, with a first row for the start."""
    body = q[[0.05, 0.5, 0.95]].to_numpy(float)
    return np.vstack([[start, start, start], body])


def _band(ax: Axes, x, q: np.ndarray, label: str, color: str) -> None:
    ax.fill_between(x, q[:, 0], q[:, 2], color=color, alpha=0.2, linewidth=0)
    ax.plot(x, q[:, 1], color=color, marker="o", markersize=4, label=label)


# -- a sweep --------------------------------------------------------------------------------


class SweepPlots:
    """Figures of a :class:`~costx.sweeps.SweepResult`.

    A measure is drawn against one grid variable ``x``, one line per value of ``hue``;
    every other grid variable is fixed at its first value in the grid (the value of the
    first point), which the title states. Lines are means with 95 % interval bands.
    """

    def __init__(self, result: SweepResult):
        _require_matplotlib()
        self.result = result
        self.scenario = result.scenario
        self._table = None
        self._units: dict[str, str] | None = None

    @property
    def table(self):
        if self._table is None:
            self._table = self.result.table
        return self._table

    @property
    def units(self) -> dict[str, str]:
        if self._units is None:
            self._units = self.result.summary(0)["unit"].to_dict()
        return self._units

    @property
    def grid_columns(self) -> list[str]:
        return list(self.result.grid_columns)

    @property
    def numeric_columns(self) -> list[str]:
        """Grid variables whose values are all numbers (booleans are not)."""
        return [c for c in self.grid_columns if _is_numeric(p[c] for p in self.result.points)]

    def _header(self) -> tuple[str, str]:
        r = self.result
        return (
            f"Scenario {self.scenario.name} (sweep: {len(r.points)} points x "
            f"{r.n_trials:,} trials, seed {r.seed}; {self.scenario.scenario.dollar_year} "
            "dollars)",
            self.scenario.scenario.description,
        )

    def _check_measure(self, measure: str) -> None:
        if measure not in self.units or measure not in self.table.columns:
            raise InputError(
                f"no measure {measure!r} in this sweep; measures: {', '.join(self.units)}"
            )

    def _check_column(self, name: str, what: str) -> None:
        if name not in self.grid_columns:
            raise InputError(
                f"{what}={name!r} is not a grid variable of this sweep; grid variables: "
                f"{', '.join(self.grid_columns)}"
            )

    def _fixed(self, free: Sequence[str]):
        """Rows with every grid variable outside ``free`` at its first value."""
        table = self.table
        first = self.result.points[0]
        fixed = {c: first[c] for c in self.grid_columns if c not in free}
        mask = np.ones(len(table), bool)
        for c, v in fixed.items():
            mask &= (table[c] == v).to_numpy()
        return table[mask], fixed

    @staticmethod
    def _fixed_line(fixed: dict) -> str:
        if not fixed:
            return ""
        return "other grid variables at their first value: " + ", ".join(
            f"{k}\u00a0=\u00a0{v}" for k, v in fixed.items()
        )

    def default_x(self) -> str:
        """The first numeric grid variable (else the first grid variable)."""
        numeric = self.numeric_columns
        return numeric[0] if numeric else self.grid_columns[0]

    def default_hue(self, x: str) -> str | None:
        """The first grid variable other than ``x`` (None if there is none)."""
        others = [c for c in self.grid_columns if c != x]
        return others[0] if others else None

    def measure(
        self,
        measure: str,
        x: str | None = None,
        hue: str | bool | None = None,
        ax: Axes | None = None,
    ) -> Axes:
        """``measure`` (mean, 95 % interval band) against grid variable ``x``, one line
        per value of ``hue``; a non-numeric ``x`` (names, booleans) gets points with
        95 % interval bars at equal steps instead.

        ``x`` defaults to the first numeric grid variable, ``hue`` to the first other grid
        variable (``hue=False``: a single line). Other grid variables are fixed at their
        first value (stated in the title).
        """
        self._check_measure(measure)
        x = self.default_x() if x is None else x
        self._check_column(x, "x")
        if hue is None:
            hue = self.default_hue(x)
        elif hue is False:
            hue = None
        if hue is not None:
            self._check_column(hue, "hue")
            if hue == x:
                raise InputError(f"x and hue are the same grid variable ({x!r})")
        ax = _axes(ax)
        rows, fixed = self._fixed([x] + ([hue] if hue else []))
        numeric_x = _is_numeric(rows[x])
        x_values = _unique(rows[x])
        if numeric_x:
            x_values = sorted(x_values)
        position = {v: (float(v) if numeric_x else i) for i, v in enumerate(x_values)}
        unit = self.units[measure]
        colors = _colors()
        hue_values = _unique(rows[hue]) if hue else [None]
        all_means: list[float] = []
        all_bounds: list[float] = []
        for i, h in enumerate(hue_values):
            sub = rows if h is None else rows[rows[hue] == h]
            sub = sub.drop_duplicates(subset=[x])
            sub = sub.assign(_pos=[position[v] for v in sub[x]]).sort_values("_pos")
            px = sub["_pos"].to_numpy(float)
            mean = sub[measure].to_numpy(float)
            low = sub[f"{measure}_ci95_low"].to_numpy(float)
            high = sub[f"{measure}_ci95_high"].to_numpy(float)
            all_means.extend(mean)
            all_bounds.extend([*low, *high, *mean])
            color = colors[i % len(colors)]
            label = measure_label(measure) if h is None else str(h)
            marker = _MARKERS[i % len(_MARKERS)]
            if not numeric_x:  # categories: points with interval bars, side by side
                shift = (i - (len(hue_values) - 1) / 2) * min(0.08, 0.4 / len(hue_values))
                ax.errorbar(
                    px + shift,
                    mean,
                    yerr=_interval_err(mean, low, high),
                    fmt=marker,
                    color=color,
                    markersize=5,
                    capsize=4,
                    label=label,
                )
                continue
            ax.fill_between(px, low, high, color=color, alpha=0.2, linewidth=0)
            # Markers and dashes differ too, so that lines on top of each other show.
            ax.plot(
                px,
                mean,
                color=color,
                marker=marker,
                markersize=5,
                linestyle=_DASHES[i % len(_DASHES)],
                label=label,
            )
        if not numeric_x:
            ax.set_xticks(range(len(x_values)), [str(v) for v in x_values])
            ax.set_xlim(-0.5, len(x_values) - 0.5)
        elif len(x_values) <= 12:
            ax.set_xticks([float(v) for v in x_values], [str(v) for v in x_values])
        ax.set_xlabel(path_label(x))
        log = unit.startswith("USD") and _spans_decades(all_means)
        if log:
            ax.set_yscale("log")
        ax.set_ylabel(measure_label(measure, unit) + (", log scale" if log else ""))
        if unit.startswith("USD"):
            _usd_axis(ax.yaxis)
        elif unit == "probability":
            from matplotlib.ticker import PercentFormatter

            finite = [v for v in all_bounds if math.isfinite(v)]
            decimals = 0
            if finite:  # stay within 0..100 %, with a little room for lines at either end
                lo, hi = min(finite), max(finite)
                pad = max(0.08 * (hi - lo), 0.02)
                low_lim, high_lim = max(lo - pad, -0.005), min(hi + pad, 1.005)
                ax.set_ylim(low_lim, high_lim)
                decimals = 0 if high_lim - low_lim >= 0.1 else 1
            ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=decimals))
        if hue:
            ax.legend(title=path_label(hue), fontsize=8, title_fontsize=8)
        ax.grid(alpha=0.3)
        shown = "bands" if numeric_x else "bars"
        _set_title(
            ax,
            f"{measure_title(measure)} against {x} ({shown}: {INTERVAL})",
            self._fixed_line(fixed),
            *self._header(),
        )
        return ax

    def cost_per_kill(
        self, x: str | None = None, hue: str | bool | None = None, ax: Axes | None = None
    ) -> Axes:
        """Overall cost per kill (total defense cost over total kills) against ``x``."""
        return self.measure(_CPK, x=x, hue=hue, ax=ax)

    def p_any_leak(
        self, x: str | None = None, hue: str | bool | None = None, ax: Axes | None = None
    ) -> Axes:
        """The probability that at least one threat leaks, against ``x``."""
        return self.measure("p_any_leak", x=x, hue=hue, ax=ax)

    def cost_exchange_measure(self) -> str:
        """``cost_exchange_total_over_attack`` when the sweep has it (a base), else the
        defense-only ratio."""
        return _CER_TOTAL if _CER_TOTAL in self.units else _CER_DEFENSE

    def effect(self, column: str, measure: str) -> float:
        """How much ``measure`` moves with grid variable ``column``: the spread (largest
        minus smallest) of its mean over each value of ``column``, all points averaged."""
        values = self.table[column].map(repr)  # hashable keys, also for dict values (pk)
        means = self.table[measure].groupby(values, sort=False).mean()
        spread = float(means.max() - means.min()) if len(means) else 0.0
        return spread if math.isfinite(spread) else 0.0

    def _by_effect(self, columns: Sequence[str], measure: str | None) -> list[str]:
        """``columns`` ordered by their effect on ``measure`` (ties: grid order)."""
        if measure is None or measure not in self.units:
            return list(columns)
        return sorted(columns, key=lambda c: -self.effect(c, measure))

    def heatmap_columns(self, measure: str | None = None) -> tuple[str, str]:
        """Two base-resilience grid variables (paths ``base.``) when there are at least
        two, else the first two grid variables; given a ``measure``, the two that move it
        most (:meth:`effect`), in grid order."""
        base = [c for c in self.grid_columns if c.startswith("base.")]
        pool = base if len(base) >= 2 else self.grid_columns
        if len(pool) < 2:
            raise InputError("a heatmap needs a sweep over at least two grid variables")
        chosen = set(self._by_effect(pool, measure)[:2])
        first, second = (c for c in pool if c in chosen)
        return first, second

    def trade_columns(self, measure: str | None = None) -> tuple[str, str] | None:
        """(active, passive): the numeric effector variable (``effectors.``) and the
        base variable that move ``measure`` most, for the shelter-versus-interceptor
        heatmap; None unless the grid has both kinds."""
        active = [c for c in self.numeric_columns if c.startswith("effectors.")]
        passive = [c for c in self.grid_columns if c.startswith("base.")]
        if not active or not passive:
            return None
        return self._by_effect(active, measure)[0], self._by_effect(passive, measure)[0]

    def heatmap(
        self,
        x: str | None = None,
        y: str | None = None,
        measure: str = _CER_TOTAL,
        ax: Axes | None = None,
    ) -> Axes:
        """``measure`` over two grid variables (columns ``x``, rows ``y``), each cell
        annotated with its mean and 95 % interval; other grid variables fixed at their
        first value (stated in the title). Defaults: :meth:`heatmap_columns`; a sweep
        without a base falls back to the defense-only cost-exchange ratio."""
        if measure == _CER_TOTAL and measure not in self.units:
            measure = _CER_DEFENSE
        self._check_measure(measure)
        if x is None or y is None:
            dx, dy = self.heatmap_columns()
            x = dx if x is None else x
            y = (dy if dy != x else dx) if y is None else y
        self._check_column(x, "x")
        self._check_column(y, "y")
        if x == y:
            raise InputError(f"x and y are the same grid variable ({x!r})")
        ax = _axes(ax)
        rows, fixed = self._fixed([x, y])
        xs, ys = _unique(rows[x]), _unique(rows[y])
        if _is_numeric(xs):
            xs = sorted(xs)
        if _is_numeric(ys):
            ys = sorted(ys)
        grid = np.full((len(ys), len(xs)), np.nan)
        low = np.full_like(grid, np.nan)
        high = np.full_like(grid, np.nan)
        for _, r in rows.drop_duplicates(subset=[x, y]).iterrows():
            i, j = ys.index(r[y]), xs.index(r[x])
            grid[i, j] = r[measure]
            low[i, j], high[i, j] = r[f"{measure}_ci95_low"], r[f"{measure}_ci95_high"]
        unit = self.units[measure]
        masked = np.ma.masked_invalid(grid)
        # A mesh, not an image: vector cells in SVG (no embedded raster).
        image = ax.pcolormesh(
            np.arange(len(xs) + 1) - 0.5,
            np.arange(len(ys) + 1) - 0.5,
            masked,
            cmap="viridis",
            shading="flat",
        )
        bar = ax.figure.colorbar(image, ax=ax, label=measure_label(measure, unit))
        if unit.startswith("USD"):
            _usd_axis(bar.ax.yaxis)
        norm = image.norm
        small = len(xs) * len(ys) <= 36
        for i in range(len(ys)):
            for j in range(len(xs)):
                v = grid[i, j]
                text = format_value(v, unit)
                if small and math.isfinite(low[i, j]) and low[i, j] != high[i, j]:
                    text += (
                        f"\n({format_value(low[i, j], unit)} to {format_value(high[i, j], unit)})"
                    )
                dark = math.isfinite(v) and masked.count() > 0 and float(norm(v)) < 0.6
                ax.text(
                    j,
                    i,
                    text,
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if dark else "black",
                )
        ax.set_xticks(range(len(xs)), [str(v) for v in xs])
        ax.set_yticks(range(len(ys)), [str(v) for v in ys])
        ax.set_xlabel(path_label(x))
        ax.set_ylabel(path_label(y))
        _set_title(
            ax,
            f"{measure_title(measure)} (cells: mean and {INTERVAL})",
            self._fixed_line(fixed),
            *self._header(),
        )
        return ax


# -- every figure of a result ---------------------------------------------------------------


def is_sweep_result(result) -> bool:
    from costx.sweeps import SweepResult

    return isinstance(result, SweepResult)


def figures(result) -> Iterator[tuple[str, Figure]]:
    """Every figure that applies to a result, as (file stem, Figure), built lazily.

    A simulation: cost per kill by effector; the leakers distribution (per-trial table
    kept); the campaign figure (campaign with the per-salvo table). A sweep: cost per
    kill and P(any leak) against each numeric grid variable (against the first grid
    variable when none is numeric), one line per value of another grid variable, with a
    base also the total cost-exchange ratio and runway closure; a heatmap of the
    cost-exchange ratio over the two base-resilience variables that move it most (else
    the first two grid variables) when the grid has two or more variables; with a base
    and an effector variable, the cost-exchange ratio over the two (passive against
    active defense); with two or more base variables, runway closure over the two that
    move it most.
    """
    from costx.simulation import SimulationResult

    if isinstance(result, SimulationResult):
        plots = SimulationPlots(result)
        yield "cost_per_kill", plots.cost_per_kill().figure
        if result.has_trials:
            yield "leakers", plots.leakers().figure
        if result.scenario.campaign is not None and result.has_salvos:
            yield "campaign", plots.campaign()[0].figure
        return
    if not is_sweep_result(result):
        raise InputError(
            f"expected a SimulationResult or a SweepResult, not {type(result).__name__}"
        )
    plots = SweepPlots(result)
    measures: list[tuple[str, str]] = [(_CPK, "cost_per_kill"), ("p_any_leak", "p_any_leak")]
    if _CER_TOTAL in plots.units:
        measures.append((_CER_TOTAL, "cost_exchange_total"))
    if "runway_closed_h" in plots.units:
        measures.append(("runway_closed_h", "runway_closed"))
    # Every numeric grid variable; a grid of names only (policies) gets its first variable.
    for x in plots.numeric_columns or plots.grid_columns[:1]:
        for measure, stem in measures:
            yield f"{stem}_vs_{_slug(x)}", plots.measure(measure, x=x).figure
    if len(plots.grid_columns) >= 2:
        measure = plots.cost_exchange_measure()
        name = "cost_exchange_total" if measure == _CER_TOTAL else "cost_exchange_defense"
        x, y = plots.heatmap_columns(measure)
        yield (
            f"heatmap_{name}_{_slug(x)}_by_{_slug(y)}",
            plots.heatmap(x, y, measure=measure).figure,
        )
        trade = plots.trade_columns(measure)
        if trade is not None and set(trade) != {x, y}:  # passive against active defense
            x, y = trade
            yield (
                f"heatmap_{name}_{_slug(x)}_by_{_slug(y)}",
                plots.heatmap(x, y, measure=measure).figure,
            )
        if (
            "runway_closed_h" in plots.units
            and sum(c.startswith("base.") for c in plots.grid_columns) >= 2
        ):
            x, y = plots.heatmap_columns("runway_closed_h")
            yield (
                f"heatmap_runway_closed_{_slug(x)}_by_{_slug(y)}",
                plots.heatmap(x, y, measure="runway_closed_h").figure,
            )


def save_figure(fig: Figure, path: Path, fmt: str) -> Path:
    """Save deterministically: no timestamps or software version in the file."""
    import matplotlib

    if fmt == "png":
        metadata: dict[str, Any] = {"Software": None}
    elif fmt == "svg":
        metadata = {"Date": None, "Creator": None}
    elif fmt == "pdf":
        metadata = {"CreationDate": None, "Creator": None, "Producer": None}
    else:
        metadata = {}
    with matplotlib.rc_context({"svg.hashsalt": path.stem, "svg.fonttype": "none"}):
        fig.savefig(path, format=fmt, dpi=DPI, metadata=metadata or None)
    return path


def plot_all(
    result: SimulationResult | SweepResult,
    out_dir: str | Path,
    formats: Sequence[str] = ("png", "svg"),
) -> list[Path]:
    """Write every figure that applies to ``result`` (see :func:`figures`) into
    ``out_dir`` (created if needed), one file per figure and format, named
    ``<scenario>_<figure>.<format>``; returns the paths written."""
    _require_matplotlib()
    formats = [f.lower().lstrip(".") for f in ([formats] if isinstance(formats, str) else formats)]
    allowed = {"png", "svg", "pdf"}
    bad = [f for f in formats if f not in allowed]
    if bad or not formats:
        raise InputError(f"formats: choose from {', '.join(sorted(allowed))} (got {bad})")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    prefix = _slug(result.scenario.name)
    for stem, fig in figures(result):
        for fmt in formats:
            written.append(save_figure(fig, out / f"{prefix}_{stem}.{fmt}", fmt))
    return written


def load_results(path: str | Path) -> SimulationResult | SweepResult:
    """A result file (``SimulationResult.to_parquet``) or a sweep folder, read back."""
    from costx.sweeps import MANIFEST

    path = Path(path)
    if path.is_dir():
        if (path / MANIFEST).is_file():
            from costx.sweeps import read_sweep

            return read_sweep(path)
        raise InputError(f"{path}: a folder, but not a costx sweep folder (no {MANIFEST})")
    if path.is_file():
        from costx.io import read_result

        return read_result(path)
    raise InputError(
        f"{path}: no such file or folder (give a result .parquet file or a sweep folder)"
    )
