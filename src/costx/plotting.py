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
``plt.subplots()``); ``title=False`` leaves out a figure's title (two lines: its finding,
then scenario, trials, seed and dollar year), which overlaps its neighbours' in a row of
panels, and ``title="..."`` gives your own; the axis labels keep the dollar year.

>>> from costx.plotting import SimulationPlots, plot_all  # doctest: +SKIP
>>> ax = SimulationPlots(result).cost_per_kill()  # doctest: +SKIP
>>> ax.figure.savefig("cpk.png")  # doctest: +SKIP
>>> plot_all(result, "figures")  # every figure that applies, PNG and SVG  # doctest: +SKIP
"""

from __future__ import annotations

import functools
import math
import re
import textwrap
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from costx.errors import InputError, check_int
from costx.formatting import (
    FIXED,
    NA,
    estimate,
    grid_value,
    interval,
    measure_label,
    measure_title,
    path_label,
    percent,
    usd,
    usd_tick,
)
from costx.formatting import value as format_value
from costx.io import make_folder, remove_folders, write_files_atomic

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from costx.analysis import AnalysisResult
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

# -- matplotlib, lazily -------------------------------------------------------------------


def _require_matplotlib():
    """Import matplotlib (InputError naming the ``plot`` extra when it is missing).

    Lazily, here and in every function that draws: matplotlib is an optional dependency
    (costx[plot]) and takes about half a second to import."""
    try:  # lazy: matplotlib is optional and slow to import
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
    # matplotlib is optional (costx[plot]) and slow to import: every import of it is lazy
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    for i in range(nrows):
        fig.add_subplot(nrows, 1, i + 1, **subplot_kw)
    return fig


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return _checked_axes(ax)
    return new_figure().axes[0]


def _checked_axes(ax, what: str = "ax") -> Axes:
    """``ax`` if it is a matplotlib Axes, else an InputError naming ``what``."""
    _require_matplotlib()
    from matplotlib.axes import Axes  # lazy: optional, slow

    if not isinstance(ax, Axes):
        raise InputError(
            f"{what} must be a matplotlib Axes (such as plt.subplots()[1]) or None, not {ax!r}"
        )
    return ax


# -- titles, axes and marks ---------------------------------------------------------------


def _plain_text(*axes: Axes) -> None:
    """Every text of ``axes`` (title, labels, tick labels, notes, legend) drawn as
    written, never as mathtext: two dollar amounts in one text (``$10 ($9.98 to $10.0)``)
    made matplotlib set the text between the signs as italic math, signs dropped.

    Tick labels of a formatter that writes mathtext (a log axis's ``10^2``) are left
    alone, and so are minor tick labels and offset texts (formatters write them)."""
    from matplotlib.text import Text  # lazy: optional, slow
    from matplotlib.ticker import LogFormatter, ScalarFormatter  # lazy: optional, slow

    for ax in axes:
        formatted: set[int] = set()
        for axis in (ax.xaxis, ax.yaxis):
            mine = [axis.label]
            formatter = axis.get_major_formatter()
            math_ticks = isinstance(formatter, LogFormatter) or (
                isinstance(formatter, ScalarFormatter) and formatter.get_useMathText()
            )
            if not math_ticks:
                mine += [t for tick in axis.majorTicks for t in (tick.label1, tick.label2)]
            formatted.update(id(t) for t in axis.findobj(Text) if not any(t is m for m in mine))
        for text in ax.findobj(Text):
            if id(text) not in formatted:
                text.set_parse_math(False)


def _plain(method: Callable) -> Callable:
    """A figure method whose returned axes (one or a pair) hold plain text only
    (:func:`_plain_text`), with its ``title=`` option: True (the default) the figure's own
    title (its finding, then scenario, trials, seed and dollar year); False none, for
    panels side by side in a figure of your own, whose titles would overlap (the axis
    labels keep the dollar year); text: that title instead."""

    @functools.wraps(method)
    def drawn(*args, title: bool | str = True, **kwargs):
        if not isinstance(title, bool | str):
            raise InputError(f"title: True, False or the title's text, not {title!r}")
        out = method(*args, **kwargs)
        axes = out if isinstance(out, tuple) else (out,)
        if title is not True:
            for ax in axes:
                for loc in ("left", "center", "right"):
                    ax.set_title("", loc=loc)
            if title:
                axes[0].set_title(title, fontsize=9, loc="left")
        _plain_text(*axes)
        return out

    return drawn


def _title(*lines: str) -> str:
    out: list[str] = []
    for line in lines:
        if line:
            out.extend(textwrap.wrap(line, TITLE_WIDTH) or [""])
    return "\n".join(out)


def _set_title(ax: Axes, *lines: str) -> None:
    ax.set_title(_title(*lines), fontsize=9, loc="left")


def _set_narrow_title(ax: Axes, *lines: str, width: int = 60) -> None:
    """A title wrapped for axes pushed right by long tick labels (horizontal bars)."""
    out: list[str] = []
    for line in lines:
        if line:
            out.extend(textwrap.wrap(line, width) or [""])
    ax.set_title("\n".join(out), fontsize=8, loc="left")


def _usd_axis(axis) -> None:
    from matplotlib.ticker import FuncFormatter, NullFormatter  # lazy: optional, slow

    axis.set_major_formatter(FuncFormatter(usd_tick))
    axis.set_minor_formatter(NullFormatter())


def _value_axis(
    ax: Axes, axis: str, unit: str, values: Sequence[float], log: bool, bars: bool = False
) -> None:
    """Limits and ticks of a value axis that hide nothing: every finite value (means and
    interval ends) inside, with room for a marker at either end; a linear axis of
    non-negative values starts at 0 (``bars``: exactly at 0), a probability axis runs
    from 0 to at least the largest value (to 100 % when that is above one half); money
    in dollars, probabilities in percent."""
    finite = [float(v) for v in values if v is not None and math.isfinite(v)]
    set_lim = ax.set_xlim if axis == "x" else ax.set_ylim
    target = ax.xaxis if axis == "x" else ax.yaxis
    if log:
        (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
        positive = [v for v in finite if v > 0]
        if positive:
            set_lim(min(positive) / 2.5, max(positive) * 2.5)
    elif finite:
        low, high = min(finite), max(finite)
        if unit == "probability":
            low = min(low, 0.0)
            high = 1.0 if high > 0.5 else min(1.0, max(high * 1.1, 0.01))
            pad = 0.03 * (high - low)
        else:
            low = min(low, 0.0)
            pad = 0.06 * ((high - low) or abs(high) or 1.0)
        set_lim(low if bars and low == 0.0 else low - pad, high + pad)
    _unit_axis(target, unit)


def _unit_axis(axis, unit: str) -> None:
    """Ticks by the unit: money in dollars, probabilities in percent (call it once the
    limits are set); other units as matplotlib writes them."""
    from matplotlib.ticker import PercentFormatter  # lazy: optional, slow

    if unit.startswith("USD"):
        _usd_axis(axis)
    elif unit == "probability":
        span = axis.get_view_interval()
        decimals = 0 if abs(span[1] - span[0]) >= 0.1 else 1
        # "20 %", as costx.formatting.percent writes probabilities everywhere else
        axis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=decimals, symbol=" %"))


def _root(value: float, path: str) -> str:
    """A break-even value of grid variable ``path``: dollars for a ``_usd`` path."""
    return usd(value) if path.endswith("_usd") else f"{value:.4g}"


def _spans_decades(values: Sequence[float]) -> bool:
    positive = [v for v in values if v is not None and math.isfinite(v) and v > 0]
    return len(positive) >= 2 and max(positive) / min(positive) > LOG_SPAN


def _interval_err(mean, low, high) -> np.ndarray:
    """Non-negative error-bar lengths (0 where an end is unknown or unbounded: the
    caller marks an open end)."""
    mean, low, high = (np.asarray(a, float) for a in (mean, low, high))
    below = np.nan_to_num(mean - low, nan=0.0, posinf=0.0, neginf=0.0).clip(min=0.0)
    above = np.nan_to_num(high - mean, nan=0.0, posinf=0.0, neginf=0.0).clip(min=0.0)
    return np.vstack([below, above])


def _dots(
    ax: Axes,
    labels: Sequence[str],
    rows: Sequence[tuple[float, float, float]],
    unit: str,
    colors: Sequence[str],
    log: bool = False,
) -> None:
    """A dot-and-interval plot, one row per label (top to bottom): the mean as a dot, its
    95 % interval as a line with end caps, the value written beside it. An interval end
    beyond the axes (no upper bound; 0 or below on a log axis) runs to the edge of the
    axes and ends in an arrow there."""
    y = np.arange(len(labels))[::-1]
    means = [r[0] for r in rows]
    ends = [v for r in rows for v in r if math.isfinite(v) and (not log or v > 0)]
    _value_axis(ax, "x", unit, ends, log)
    left, right = ax.get_xlim()
    for yi, (mean, low, high), color in zip(y, rows, colors, strict=True):
        if not math.isfinite(mean):
            continue
        lo = low if math.isfinite(low) and (not log or low > 0) else left
        hi = high if math.isfinite(high) else right
        if lo == left:
            ax.plot([left], [yi], marker="<", color=color, markersize=7, clip_on=False)
        ax.errorbar(
            [mean],
            [yi],
            xerr=[[mean - lo], [hi - mean]],
            fmt="o",
            color=color,
            markersize=6,
            capsize=4,
            linewidth=1.4,
        )
        if not math.isfinite(high):
            ax.plot([right], [yi], marker=">", color=color, markersize=7, clip_on=False)
        ax.annotate(
            format_value(mean, unit),
            (mean, yi),
            xytext=(0, 7),
            textcoords="offset points",
            ha="center",
            fontsize=8,
        )
    ax.set_yticks(y, labels)
    ax.set_ylim(-0.7, len(labels) - 0.3)
    ax.grid(axis="x", alpha=0.3)
    if means and not any(math.isfinite(m) for m in means):
        ax.text(0.5, 0.5, "no value", transform=ax.transAxes, ha="center", va="center")


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


def _row(summary, measure: str) -> tuple[float, float, float]:
    r = summary.loc[measure]
    return float(r["mean"]), float(r["ci95_low"]), float(r["ci95_high"])


# -- a simulation result --------------------------------------------------------------------

# The parts of what the defender loses, stacked in the total cost figure (those the
# summary has), and the measures whose mean is their sum (the first that matches gives
# the interval of the total).
COST_PARTS = (
    ("defense_cost_usd", "shots expended"),
    ("capital_cost_usd", "capital (amortized acquisition)"),
    ("damage_usd", "damage (assets lost to leakers)"),
)
OPTIONAL_PARTS = ("capital_cost_usd",)  # left out of a figure where it is zero throughout
COST_TOTALS = ("total_cost_usd", "defense_total_cost_usd", "defense_cost_usd")


class SimulationPlots:
    """Figures of one :class:`~costx.simulation.SimulationResult`.

    Every method draws into ``ax`` when given (a campaign figure takes a pair), else
    into a new Agg figure of 7 x 4.5 in at 150 dpi, and returns the axes. Every title
    names the scenario, the trials and the dollar year of the costs.
    """

    def __init__(self, result: SimulationResult):
        _require_matplotlib()
        self.result = result
        self.scenario = result.scenario
        self.dollar_year = self.scenario.scenario.dollar_year

    def _header(self) -> tuple[str]:
        """The line every title ends with: scenario, trials, seed and dollar year (the
        description is left to the report: it made titles of five lines)."""
        r = self.result
        return (
            f"Scenario {self.scenario.name}: {r.n_trials:,} trials, seed {r.seed}; costs in "
            f"constant {self.dollar_year} dollars",
        )

    def _label(self, measure: str, unit: str) -> str:
        return measure_label(measure, unit, self.dollar_year)

    @_plain
    def cost_per_kill(self, ax: Axes | None = None) -> Axes:
        """Cost per kill of each effector and overall (total defense cost over kills):
        dots with 95 % intervals, one row each; a log axis when the values span more
        than two decades (a dot's position means the same on it, unlike a bar's length).
        Effectors without kills are named in a note."""
        ax = _axes(ax)
        summary = self.result.summary()
        names, rows, missing = [], [], []
        for e in self.scenario.effectors:
            row = _row(summary, f"cost_per_kill_{e.name}_usd")
            if not math.isfinite(row[0]):
                missing.append(e.name)
                continue
            names.append(e.name)
            rows.append(row)
        overall = _row(summary, _CPK)
        if math.isfinite(overall[0]):
            names.append("all effectors")
            rows.append(overall)
        colors = ["#4C72B0"] * len(names)
        if names and names[-1] == "all effectors":
            colors[-1] = "#C44E52"
        log = _spans_decades([r[0] for r in rows])
        if names:
            _dots(ax, names, rows, "USD per kill", colors, log=log)
        else:  # nothing to draw: no made-up scale
            ax.set_xticks([])
            ax.set_yticks([])
            ax.text(0.5, 0.5, "no kills in any trial: cost per kill undefined",
                    transform=ax.transAxes, ha="center", va="center")  # fmt: skip
        ax.set_xlabel(self._label(_CPK, "USD per kill") + (", log scale" if log else ""))
        if missing and names:
            ax.text(
                0.99,
                0.02,
                "no kills: " + ", ".join(missing),
                transform=ax.transAxes,
                ha="right",
                va="bottom",
                fontsize=8,
            )
        _set_title(
            ax, f"Cost per kill by effector (dots: mean; lines: {INTERVAL})", *self._header()
        )
        return ax

    @_plain
    def defense_cost(self, ax: Axes | None = None) -> Axes:
        """What the defense expends: the cost of each effector's shots and their total,
        dots with 95 % intervals on a linear axis from 0, against the cost of the raid
        (dashed line)."""
        ax = _axes(ax)
        summary = self.result.summary()
        names = [e.name for e in self.scenario.effectors] + ["all effectors"]
        rows = [_row(summary, f"cost_{e.name}_usd") for e in self.scenario.effectors]
        rows.append(_row(summary, "defense_cost_usd"))
        colors = ["#4C72B0"] * (len(names) - 1) + ["#C44E52"]
        attack = float(self.scenario.attack_cost_usd)
        _dots(ax, names, rows, "USD", colors)
        if attack > 0:
            left, right = ax.get_xlim()
            ax.set_xlim(left, max(right, attack * 1.08))
            ax.axvline(attack, color="black", linestyle="--", linewidth=1.0)
            ax.annotate(
                f"cost of the raid {usd(attack)}",
                (attack, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(3, -3),
                textcoords="offset points",
                ha="left",
                va="top",
                fontsize=8,
            )
        ax.set_xlabel(self._label("defense_cost_usd", "USD"))
        _set_title(
            ax, f"Defense cost: shots expended by effector (lines: {INTERVAL})", *self._header()
        )
        return ax

    @_plain
    def total_cost(self, ax: Axes | None = None) -> Axes:
        """What each side loses: the defender's cost stacked from its parts (shots
        expended; capital when the summary has ``capital_cost_usd``; damage to the base
        when there is one), with the 95 % interval of the total, beside the attacker's
        cost of the raid. Bars on a linear axis from 0, so lengths compare."""
        ax = _axes(ax)
        summary = self.result.summary()
        parts = [
            (m, text)
            for m, text in COST_PARTS
            if m in summary.index and (m not in OPTIONAL_PARTS or summary.loc[m, "mean"] != 0)
        ]
        colors = _colors()
        left = 0.0
        for i, (measure, text) in enumerate(parts):
            mean = float(summary.loc[measure, "mean"])
            ax.barh(
                1,
                mean,
                left=left,
                height=0.5,
                color=colors[i % len(colors)],
                label=f"{text}: {usd(mean)}",
            )
            left += mean
        total = next(
            (
                m
                for m in COST_TOTALS
                if m in summary.index and math.isclose(summary.loc[m, "mean"], left, rel_tol=1e-9)
            ),
            None,
        )
        bounds = [left]
        if total is not None:
            mean, low, high = _row(summary, total)
            err = _interval_err([mean], [low], [high])
            ax.errorbar([mean], [1], xerr=err, fmt="none", color="black", capsize=4)
            bounds += [low, high]
        attack = float(self.scenario.attack_cost_usd)
        ax.barh(0, attack, height=0.5, color="#8C8C8C", label=f"cost of the raid: {usd(attack)}")
        _value_axis(ax, "x", "USD", [*bounds, attack], log=False, bars=True)
        ax.set_yticks([1, 0], ["defender", "attacker"])
        ax.set_ylim(-0.6, 1.9)
        ax.set_xlabel(f"cost ({self.dollar_year} USD)")
        ax.legend(fontsize=8, loc="upper right")
        ax.grid(axis="x", alpha=0.3)
        shown = " + ".join(text.split(" (")[0] for _, text in parts)
        _set_title(
            ax,
            f"Total cost: {shown}, against the raid (black line: {INTERVAL} of the total)"
            if total
            else f"Total cost: {shown}, against the raid",
            *self._header(),
        )
        return ax

    @_plain
    def leakers_by_threat(self, ax: Axes | None = None) -> Axes:
        """Mean leakers of each threat group and in all, dots with 95 % intervals, each
        labelled with the threats launched (over the whole campaign). Needs only the
        summary."""
        ax = _axes(ax)
        summary = self.result.summary()
        launched = [sum(col) for col in zip(*self.scenario.salvo_counts(), strict=True)]
        names = [
            f"{t.name} (of {n:,})" for t, n in zip(self.scenario.threats, launched, strict=True)
        ] + [f"all threats (of {self.scenario.launched:,})"]
        rows = [_row(summary, f"leaked_{t.name}") for t in self.scenario.threats]
        rows.append(_row(summary, "leakers"))
        colors = _colors()
        colors = [colors[i % len(colors)] for i in range(len(names) - 1)] + ["#C44E52"]
        _dots(ax, names, rows, "threats", colors)
        whole = ", whole campaign" if self.scenario.campaign is not None else ""
        ax.set_xlabel(f"leakers per trial (threats{whole})")
        p = summary.loc["p_any_leak"]
        chance = estimate(
            p["mean"],
            p["ci95_low"],
            p["ci95_high"],
            "probability",
            std_error=p["std_error"],
            n=self.result.n_trials,
        )
        _set_title(
            ax,
            f"Leakers by threat type (lines: {INTERVAL})",
            f"P(any leak) = {chance}",
            *self._header(),
        )
        return ax

    @_plain
    def leakers(self, ax: Axes | None = None) -> Axes:
        """The distribution of leakers per trial, each bar split by threat type (in
        proportion to the leakers of each type in the trials with that many leakers),
        with P(any leak) and its 95 % interval in the title. Needs the per-trial table."""
        if not self.result.has_trials:
            raise InputError(
                "the leakers figure needs the per-trial table: simulate with "
                "keep_trials=True (costx run without --summary-only)"
            )
        ax = _axes(ax)
        trials = self.result.trials
        leaked = trials["leaked"].to_numpy()
        values, counts = np.unique(leaked, return_counts=True)
        probability = counts / leaked.size
        bottom = np.zeros(values.size)
        colors = _colors()
        for i, t in enumerate(self.scenario.threats):
            by_total = trials.groupby("leaked")[f"leaked_{t.name}"].sum().reindex(values)
            share = np.divide(
                by_total.to_numpy(float),
                values * counts,
                out=np.zeros(values.size),
                where=values > 0,
            )
            height = probability * share
            if not height.any():
                continue
            ax.bar(
                values,
                height,
                bottom=bottom,
                width=0.8,
                color=colors[i % len(colors)],
                label=t.name,
            )
            bottom += height
        none = values == 0
        if none.any():
            ax.bar(values[none], probability[none], width=0.8, color="#BBBBBB", label="no leaker")
        if values.size <= 12:
            for v, p in zip(values, probability, strict=True):
                ax.annotate(
                    percent(p),
                    (v, p),
                    xytext=(0, 2),
                    textcoords="offset points",
                    ha="center",
                    fontsize=8,
                    # readable where the mean's line crosses it
                    bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none"},
                    zorder=3,
                )
        summary = self.result.summary()
        mean = float(summary.loc["leakers", "mean"])  # as every table prints it
        ax.axvline(
            mean,
            color="black",
            linestyle="--",
            linewidth=1.2,
            label=f"mean {format_value(mean, 'threats')}",
        )
        whole = ", whole campaign" if self.scenario.campaign is not None else ""
        ax.set_xlabel(f"leakers per trial (threats, of {self.scenario.launched:,} launched{whole})")
        ax.set_ylabel("share of trials")
        _value_axis(ax, "y", "probability", [0.0, float(probability.max())], log=False, bars=True)
        if values.size <= 25:
            ax.set_xticks(values)
        ax.legend(fontsize=8, title="leakers by threat type", title_fontsize=8, loc="best")
        ax.grid(axis="y", alpha=0.3)
        p = summary.loc["p_any_leak"]
        chance = estimate(
            p["mean"],
            p["ci95_low"],
            p["ci95_high"],
            "probability",
            std_error=p["std_error"],
            n=self.result.n_trials,
        )
        _set_title(ax, f"Leakers per trial: P(any leak) = {chance}", *self._header())
        return ax

    @_plain
    def campaign(self, ax: Sequence[Axes] | None = None) -> tuple[Axes, Axes]:
        """A campaign, salvo by salvo: rounds left in each kinetic effector's magazine
        as a share of it (top) and cumulative cost (bottom), medians with 5-95 % bands over trials.

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
            if isinstance(ax, np.ndarray):  # plt.subplots(2)'s array of axes
                ax = list(ax.ravel())
            if isinstance(ax, str | bytes) or not isinstance(ax, Sequence) or len(ax) != 2:
                raise InputError("campaign(ax=...) takes a pair of axes: (magazines, cost)")
            ax_mag, ax_cost = (_checked_axes(a, "campaign(ax=...)") for a in ax)
        salvos = self.result.salvos
        n = self.scenario.campaign.n_salvos
        steps = np.arange(0, n + 1)
        kinetic = [e for e in self.scenario.effectors if f"rounds_left_{e.name}" in salvos]
        groups = salvos.groupby("salvo")
        colors = _colors()
        # As a share of each magazine: magazines of 48 and 600 rounds on one axis in
        # rounds showed the small one as a line along 0.
        for i, e in enumerate(kinetic):
            full = float(e.rounds) or 1.0  # (an empty magazine stays at 0)
            q = groups[f"rounds_left_{e.name}"].quantile([0.05, 0.5, 0.95]).unstack() / full
            band = _with_start(q, e.rounds / full)
            _band(ax_mag, steps, band, f"{e.name} (of {e.rounds:,})", colors[i % len(colors)])
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
        ax_mag.set_ylabel("rounds left (% of each magazine)")
        ax_mag.set_ylim(-0.03, 1.03)  # markers at 0 and 100 % stay whole
        from matplotlib.ticker import PercentFormatter  # lazy: optional, slow

        ax_mag.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0, symbol=" %"))
        ax_mag.grid(alpha=0.3)
        cost_columns = [("cumulative_defense_cost_usd", "defense cost")]
        if "cumulative_cost_usd" in salvos:
            cost_columns.append(("cumulative_cost_usd", "expended + damage (no capital)"))
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
        ax_cost.set_ylabel(f"cumulative cost ({self.dollar_year} USD)")
        ax_cost.set_ylim(bottom=-0.03 * ax_cost.get_ylim()[1])
        _usd_axis(ax_cost.yaxis)
        ax_cost.grid(alpha=0.3)
        interval_h = self.scenario.campaign.interval_h
        ax_cost.set_xlabel(f"salvo (one every {interval_h:g} hours; 0 = start)")
        ax_mag.set_xlabel("salvo (0 = start)")
        for a in (ax_mag, ax_cost):
            a.set_xticks(steps)
        _set_title(
            ax_mag, f"Campaign of {n} salvos: magazines and cumulative cost", *self._header()
        )
        return ax_mag, ax_cost


_MARKERS = ("o", "s", "^", "D", "v", "P", "X")
_DASHES = ("-", "--", "-.", ":")


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
        self.dollar_year = self.scenario.scenario.dollar_year
        self._table = None
        self._units: dict[str, str] | None = None

    @property
    def table(self):
        if self._table is None:
            self._table = self.result.table
        return self._table

    @property
    def units(self) -> dict[str, str]:
        """Every measure's unit, over all points: a measure may be only in some of them
        (``damage_site1_usd`` only where the base has two or more dispersal sites)."""
        if self._units is None:
            units: dict[str, str] = {}
            for i in range(len(self.result.points)):
                for measure, unit in self.result.summary(i)["unit"].items():
                    units.setdefault(measure, unit)
            self._units = units
        return self._units

    @property
    def grid_columns(self) -> list[str]:
        return list(self.result.grid_columns)

    @property
    def numeric_columns(self) -> list[str]:
        """Grid variables whose values are all numbers (booleans are not)."""
        return [c for c in self.grid_columns if _is_numeric(p[c] for p in self.result.points)]

    def _header(self) -> tuple[str]:
        """The line every title ends with: sweep (its name when the result records one),
        scenario, points, trials, seed and dollar year."""
        r = self.result
        name = getattr(r, "sweep_name", None) or getattr(r, "name", None)
        sweep = f"Sweep {name} of scenario" if isinstance(name, str) and name else "Sweep of"
        return (
            f"{sweep} {self.scenario.name}: {_count(len(r.points), 'point')} x "
            f"{_trials_text(r)}, "
            f"seed {r.seed}; costs in constant {self.dollar_year} dollars",
        )

    def _label(self, measure: str) -> str:
        return measure_label(measure, self.units[measure], self.dollar_year)

    def _path(self, path: str) -> str:
        return path_label(path, self.dollar_year)

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

    def _fixed_line(self, fixed: dict) -> str:
        if not fixed:
            return ""
        return "other grid variables at their first value: " + ", ".join(
            f"{self._path(k)}\u00a0=\u00a0{grid_value(v, k)}".replace(" ", "\u00a0")
            for k, v in fixed.items()
        )

    def default_x(self) -> str:
        """The first numeric grid variable (else the first grid variable)."""
        numeric = self.numeric_columns
        return numeric[0] if numeric else self.grid_columns[0]

    def default_hue(self, x: str) -> str | None:
        """The first grid variable other than ``x`` (None if there is none)."""
        others = [c for c in self.grid_columns if c != x]
        return others[0] if others else None

    @_plain
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
        lines = []
        for h in hue_values:
            sub = rows if h is None else rows[rows[hue] == h]
            sub = sub.drop_duplicates(subset=[x])
            sub = sub.assign(_pos=[position[v] for v in sub[x]]).sort_values("_pos")
            columns = (measure, f"{measure}_ci95_low", f"{measure}_ci95_high")
            lines.append((h, list(sub[x]), sub["_pos"].to_numpy(float),
                          *(sub[c].to_numpy(float) for c in columns)))  # fmt: skip
        all_means = [v for line in lines for v in line[3]]
        log = unit.startswith("USD") and _spans_decades(all_means)
        # Limits from the finite values; an infinite mean is not drawn (and named in the
        # title), an interval open at an end runs to the axes' edge and ends in an arrow.
        _value_axis(ax, "y", unit, [v for line in lines for a in line[3:] for v in a], log)
        bottom, top = ax.get_ylim()
        empty, unbounded, open_ends, bands, bars = [], [], False, False, False
        for i, (h, xs, px, mean, low, high) in enumerate(lines):
            color = colors[i % len(colors)]
            label = measure_label(measure) if h is None else grid_value(h, hue or "")
            marker = _MARKERS[i % len(_MARKERS)]
            unbounded.extend(self._where(x, v, hue, h) for v, m in zip(xs, mean, strict=True)
                             if np.isinf(m))  # fmt: skip
            if not np.isfinite(mean).any():  # nothing to draw: out of the legend
                empty.append(label)
                continue
            mean = np.where(np.isfinite(mean), mean, np.nan)
            drawn = np.isfinite(mean)
            above = drawn & np.isposinf(high)
            below = drawn & (np.isneginf(low) | ((low <= 0) if log else False))
            high = np.where(above, top, high)
            low = np.where(below, bottom, low)
            shift = 0.0
            if not numeric_x:  # categories: points with interval bars, side by side
                shift = (i - (len(hue_values) - 1) / 2) * min(0.08, 0.4 / len(hue_values))
                ax.errorbar(px + shift, mean, yerr=_interval_err(mean, low, high), fmt=marker,
                            color=color, markersize=5, capsize=4, label=label)  # fmt: skip
                bars = True
            else:
                ax.fill_between(px, low, high, color=color, alpha=0.2, linewidth=0)
                # Markers and dashes differ too, so that lines on top of each other show.
                ax.plot(px, mean, color=color, marker=marker, markersize=5,
                        linestyle=_DASHES[i % len(_DASHES)], label=label)  # fmt: skip
                # A point without a drawn neighbour has no band: an interval bar instead.
                before = np.concatenate([[False], drawn[:-1]])
                after = np.concatenate([drawn[1:], [False]])
                alone = drawn & ~before & ~after
                bands = bands or bool((drawn & ~alone).any())
                if alone.any():
                    err = _interval_err(mean, low, high)[:, alone]
                    ax.errorbar(px[alone], mean[alone], yerr=err, fmt="none", color=color,
                                capsize=4)  # fmt: skip
                    bars = True
            for mask, edge, mark in ((above, top, "^"), (below, bottom, "v")):
                if mask.any():
                    open_ends = True
                    ax.plot(px[mask] + shift, np.full(mask.sum(), edge), marker=mark,
                            linestyle="none", color=color, markersize=7, clip_on=False)  # fmt: skip
        if not numeric_x:
            ax.set_xticks(range(len(x_values)), [grid_value(v, x) for v in x_values])
            ax.set_xlim(-0.5, len(x_values) - 0.5)
        elif len(x_values) <= 12:
            ax.set_xticks([float(v) for v in x_values], [grid_value(v, x) for v in x_values])
        elif x.endswith("_usd"):
            _usd_axis(ax.xaxis)
        ax.set_xlabel(self._path(x))
        ax.set_ylabel(self._label(measure) + (", log scale" if log else ""))
        if len(empty) == len(lines):  # no value anywhere: no made-up scale
            ax.set_yticks([])
            ax.text(0.5, 0.5, "no value", transform=ax.transAxes, ha="center", va="center")
        if hue and len(empty) < len(lines):
            ax.legend(title=self._path(hue), fontsize=8, title_fontsize=8)
        ax.grid(alpha=0.3)
        notes = []
        if empty and hue:
            notes.append(f"no value at {self._path(hue).split(' (')[0]} = {', '.join(empty)}")
        if unbounded:
            notes.append(f"not drawn, mean unbounded: {'; '.join(unbounded)}")
        if open_ends:
            notes.append("arrows: interval without an end")
        shown = " and ".join(w for w, b in (("bands", bands), ("bars", bars)) if b) or "bands"
        _set_title(
            ax,
            f"{measure_title(measure)} against {self._path(x)} ({shown}: {INTERVAL})",
            "; ".join(notes),
            self._fixed_line(fixed),
            *self._header(),
        )
        return ax

    def _where(self, x: str, xv, hue: str | None, hv) -> str:
        """A point of a line as text: ``sm2: magazine = 8`` (``, las: beam directors =
        0`` with a hue)."""
        text = f"{self._path(x).split(' (')[0]} = {grid_value(xv, x)}"
        if hue is not None:
            text += f", {self._path(hue).split(' (')[0]} = {grid_value(hv, hue)}"
        return text

    @_plain
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

    @_plain
    def defense_cost(
        self, x: str | None = None, hue: str | bool | None = None, ax: Axes | None = None
    ) -> Axes:
        """The cost of the shots expended against ``x``."""
        return self.measure("defense_cost_usd", x=x, hue=hue, ax=ax)

    @_plain
    def total_cost(self, x: str | None = None, ax: Axes | None = None) -> Axes:
        """What the defender loses at each value of ``x``, stacked from its parts (shots
        expended; capital when the sweep has ``capital_cost_usd``; damage to the base
        when there is one) with the 95 % interval of the total, and the cost of the raid
        (dashed). Other grid variables are fixed at their first value (stated in the
        title); bars on a linear axis from 0."""
        x = self.default_x() if x is None else x
        self._check_column(x, "x")
        ax = _axes(ax)
        rows, fixed = self._fixed([x])
        rows = rows.drop_duplicates(subset=[x])
        if _is_numeric(rows[x]):
            rows = rows.sort_values(x)
        position = np.arange(len(rows))
        parts = [
            (m, text)
            for m, text in COST_PARTS
            if m in self.units and (m not in OPTIONAL_PARTS or (rows[m] != 0).any())
        ]
        colors = _colors()
        bottom = np.zeros(len(rows))
        for i, (measure, text) in enumerate(parts):
            height = rows[measure].to_numpy(float)
            ax.bar(
                position,
                height,
                bottom=bottom,
                width=0.6,
                color=colors[i % len(colors)],
                label=text,
            )
            bottom += height
        bounds = list(bottom)
        total = next(
            (
                m
                for m in COST_TOTALS
                if m in self.units and np.allclose(rows[m].to_numpy(float), bottom, rtol=1e-9)
            ),
            None,
        )
        if total is not None:
            mean = rows[total].to_numpy(float)
            low = rows[f"{total}_ci95_low"].to_numpy(float)
            high = rows[f"{total}_ci95_high"].to_numpy(float)
            ax.errorbar(
                position,
                mean,
                yerr=_interval_err(mean, low, high),
                fmt="none",
                color="black",
                capsize=4,
            )
            bounds += [*low, *high]
        attack = float(self.scenario.attack_cost_usd)
        if attack > 0:
            ax.axhline(
                attack,
                color="black",
                linestyle="--",
                linewidth=1.0,
                label=f"cost of the raid {usd(attack)}",
            )
            bounds.append(attack)
        _value_axis(ax, "y", "USD", bounds, log=False, bars=True)
        ax.set_xticks(position, [grid_value(v, x) for v in rows[x]])
        ax.set_xlabel(self._path(x))
        ax.set_ylabel(f"cost ({self.dollar_year} USD)")
        ax.legend(fontsize=8)
        ax.grid(axis="y", alpha=0.3)
        shown = " + ".join(text.split(" (")[0] for _, text in parts)
        note = f" (black lines: {INTERVAL} of the total)" if total else ""
        _set_title(
            ax,
            f"Total cost: {shown}, against {self._path(x)}{note}",
            self._fixed_line(fixed),
            *self._header(),
        )
        return ax

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

    @_plain
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
        masked = np.ma.masked_invalid(grid)  # an unbounded mean has no colour: its cell says so
        # A mesh, not an image: vector cells in SVG (no embedded raster).
        image = ax.pcolormesh(
            np.arange(len(xs) + 1) - 0.5,
            np.arange(len(ys) + 1) - 0.5,
            masked,
            cmap="viridis",
            shading="flat",
        )
        if masked.count() > 0:  # no colour scale made up for cells without a value
            bar = ax.figure.colorbar(image, ax=ax, label=self._label(measure))
            if unit.startswith("USD"):
                _usd_axis(bar.ax.yaxis)
            _plain_text(bar.ax)
        norm = image.norm
        small = len(xs) * len(ys) <= 36
        for i in range(len(ys)):
            for j in range(len(xs)):
                v = grid[i, j]
                text = _cell_value(v, unit)
                span = interval(low[i, j], high[i, j], unit)
                if small and span not in (NA, FIXED):
                    text += f"\n({span})"
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
        ax.set_xticks(range(len(xs)), [grid_value(v, x) for v in xs])
        ax.set_yticks(range(len(ys)), [grid_value(v, y) for v in ys])
        ax.set_xlabel(self._path(x))
        ax.set_ylabel(self._path(y))
        _set_title(
            ax,
            f"{measure_title(measure)} (cells: mean and {INTERVAL})",
            self._fixed_line(fixed),
            *self._header(),
        )
        return ax


def _cell_value(v: float, unit: str) -> str:
    """A heatmap cell's mean: ``unbounded`` for an infinite one (not ``$inf``)."""
    if math.isinf(v):
        return "unbounded" if v > 0 else "unbounded below"
    return format_value(v, unit)


# -- every figure of a result ---------------------------------------------------------------


def _plots_of(result) -> SimulationPlots | SweepPlots | AnalysisPlots:
    """A result's own figure set (its ``plot`` property: the result's class picks the
    kind, so this module never imports the result classes above it)."""
    plots = getattr(result, "plot", None)
    if not isinstance(plots, SimulationPlots | SweepPlots | AnalysisPlots):
        raise InputError(
            "expected a SimulationResult, a SweepResult or an AnalysisResult, not "
            f"{type(result).__name__}"
        )
    return plots


def figures(result) -> Iterator[tuple[str, Figure]]:
    """Every figure that applies to a result, as (file stem, Figure), built lazily.

    A simulation: cost per kill by effector; defense cost by effector; total cost
    (expended, capital, damage) against the cost of the raid; leakers by threat type;
    the leakers distribution (per-trial table kept); the campaign figure (campaign with
    the per-salvo table). A sweep: cost per kill, P(any leak) and mean leakers against
    each numeric grid variable (against the first grid variable when none is numeric),
    one line per value of another grid variable, with a base also the total
    cost-exchange ratio and runway closure; defense cost and total cost, each against
    the grid variable that moves it most (:meth:`SweepPlots.effect`); a heatmap of the
    cost-exchange ratio over the two base-resilience variables that move it most (else
    the first two grid variables) when the grid has two or more variables; with a base
    and an effector variable, the cost-exchange ratio over the two (passive against
    active defense); with two or more base variables, runway closure over the two that
    move it most.
    """
    plots = _plots_of(result)
    if isinstance(plots, AnalysisPlots):
        yield result.kind, plots.figure().figure
        return
    if isinstance(plots, SimulationPlots):
        yield "cost_per_kill", plots.cost_per_kill().figure
        yield "defense_cost", plots.defense_cost().figure
        yield "total_cost", plots.total_cost().figure
        yield "leakers_by_threat", plots.leakers_by_threat().figure
        if result.has_trials:
            yield "leakers", plots.leakers().figure
        if result.scenario.campaign is not None and result.has_salvos:
            yield "campaign", plots.campaign()[0].figure
        return
    measures: list[tuple[str, str]] = [
        (_CPK, "cost_per_kill"),
        ("p_any_leak", "p_any_leak"),
        ("leakers", "leakers"),  # mean leakers: it moves where P(any leak) stays at 100 %
    ]
    if _CER_TOTAL in plots.units:
        measures.append((_CER_TOTAL, "cost_exchange_total"))
    if "runway_closed_h" in plots.units:
        measures.append(("runway_closed_h", "runway_closed"))
    # Every numeric grid variable; a grid of names only (policies) gets its first variable.
    for x in plots.numeric_columns or plots.grid_columns[:1]:
        for measure, stem in measures:
            yield f"{stem}_vs_{_slug(x)}", plots.measure(measure, x=x).figure
    # The costs against the grid variable that moves each most.
    x = plots._by_effect(plots.grid_columns, "defense_cost_usd")[0]
    yield f"defense_cost_vs_{_slug(x)}", plots.defense_cost(x=x).figure
    total = next((m for m in COST_TOTALS if m in plots.units), "defense_cost_usd")
    x = plots._by_effect(plots.grid_columns, total)[0]
    yield f"total_cost_vs_{_slug(x)}", plots.total_cost(x=x).figure
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
    """Save deterministically (no timestamps or software version in the file) and
    atomically: through a temporary file renamed into place (costx.io)."""
    path = Path(path)
    write_files_atomic([(path, _render(fig, fmt, path.stem))])
    return path


def _render(fig: Figure, fmt: str, salt: str) -> Callable:
    """A writer of ``fig`` in format ``fmt`` to a binary file, deterministic: no
    timestamps or software version, SVG ids hashed from ``salt`` (the file's stem)."""
    return lambda fh: _render_to(fig, fh, fmt, salt)


def _render_to(fig: Figure, fh, fmt: str, salt: str) -> None:
    import matplotlib  # lazy: optional, slow

    if fmt == "png":
        metadata: dict[str, Any] = {"Software": None}
    elif fmt == "svg":
        metadata = {"Date": None, "Creator": None}
    elif fmt == "pdf":
        metadata = {"CreationDate": None, "Creator": None, "Producer": None}
    else:
        metadata = {}
    with matplotlib.rc_context({"svg.hashsalt": salt, "svg.fonttype": "none"}):
        fig.savefig(fh, format=fmt, dpi=DPI, metadata=metadata or None)


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
    formats = list(dict.fromkeys(formats))  # --format png --format png: one file each
    allowed = {"png", "svg", "pdf"}
    bad = [f for f in formats if f not in allowed]
    if bad or not formats:
        raise InputError(f"formats: choose from {', '.join(sorted(allowed))} (got {bad})")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a folder")
    made = make_folder(out)
    prefix = _slug(result.scenario.name)

    def files():
        for stem, fig in figures(result):
            for fmt in formats:
                path = out / f"{prefix}_{stem}.{fmt}"
                yield path, _render(fig, fmt, path.stem)

    try:  # all or none: a figure that cannot be written leaves none of them
        return write_files_atomic(files())
    except BaseException:
        remove_folders(made)
        raise


# -- decision analyses (costx.analysis) -----------------------------------------------------


class AnalysisPlots:
    """The figure of an :class:`~costx.analysis.AnalysisResult`, by its kind: the
    marginal cost-exchange ratios of each option (``margin``), the paired difference
    against the varied value with the root (``break_even``), the design points by cost and
    requirement (``cheapest``), the top raid mixes (``worst_raid``) and a tornado
    (``sensitivity``). ``figure()`` draws the one that applies."""

    def __init__(self, result: AnalysisResult):
        _require_matplotlib()
        self.result = result
        self.scenario = result.scenario

    def _header(self) -> tuple[str, str]:
        r = self.result
        return (
            f"Scenario {self.scenario.name} ({r.trials:,} trials per confirmed evaluation, "
            f"seed {r.seed}; {r.trials_simulated:,} trials simulated; costs in "
            f"constant {r.dollar_year} dollars)",
            self.scenario.scenario.description,
        )

    def figure(self, ax: Axes | None = None) -> Axes:
        """The figure of the result's kind (see the class)."""
        return getattr(self, self.result.kind)(ax)

    def _unit(self, measure: str) -> str:
        return self.result.unit_of(measure)  # (the result's class knows its measures)

    def _of_kind(self, kind: str, ax) -> Axes:
        """The Axes to draw a ``kind`` figure on, or an InputError when the result is
        another kind of analysis (its table has other columns)."""
        have = self.result.kind
        if have != kind:
            article = "an" if have[0] in "aeiou" else "a"
            raise InputError(
                f"plot.{kind}() draws a {kind} analysis; this is {article} {have} result: "
                f"plot it with plot.figure() or plot.{have}()"
            )
        return _axes(ax)

    @_plain
    def margin(self, ax: Axes | None = None) -> Axes:
        """Marginal cost-exchange ratio of each option, per raid and to buy, with 95 %
        intervals; the line at 1 is the attacker's break-even. A log axis when every
        ratio is positive and they span more than two decades; a negative ratio (the
        option lowers the defender's cost) on a linear axis, left of 0."""
        ax = self._of_kind("margin", ax)
        t = self.result.table
        a = self.result.answer
        options = list(t["option"])
        y = np.arange(len(options))
        height = 0.38
        bases = (
            ("ratio_per_raid", "per raid (rounds fired + capital charge)", "#4C72B0"),
            ("ratio_procurement", "procurement (price of what is bought)", "#DD8452"),
        )
        # An interval open above (an upper bound of +inf) is drawn to past the largest
        # finite value (ten times on a log axis) and marked: a bar to 1e300 overflowed the
        # log axis's limits. An option that cannot restore has no ratio (nan): no bar.
        finite = [
            v
            for basis, _, _ in bases
            for column in (basis, f"{basis}_ci95_high")
            for v in t[column].to_numpy(float)
            if np.isfinite(v) and v > 0
        ]
        means = [v for basis, _, _ in bases for v in t[basis].to_numpy(float) if np.isfinite(v)]
        # a log axis drops every bar at or below 0: only when every ratio is above it
        negative = any(v <= 0 for v in means)
        log_axis = not negative and _spans_decades([*means, 1.0])
        cap = (10.0 if log_axis else 1.25) * max([1.0, *finite])
        for k, (basis, label, color) in enumerate(bases):
            mean = t[basis].to_numpy(float)
            low = t[f"{basis}_ci95_low"].to_numpy(float)
            upper = t[f"{basis}_ci95_high"].to_numpy(float)
            open_above = np.isposinf(upper) & np.isfinite(mean)
            high = np.where(open_above, cap, upper)
            shown = np.where(np.isfinite(mean), mean, 0.0)
            ax.barh(y + (k - 0.5) * height, shown, height, xerr=_interval_err(shown, low, high),
                    color=color, label=label, capsize=3,
                    error_kw={"elinewidth": 1.0, "ecolor": "black"})  # fmt: skip
            for i in np.flatnonzero(open_above):
                ax.text(cap, y[i] + (k - 0.5) * height - 0.04, "open above ", ha="right",
                        va="bottom", fontsize=7)  # fmt: skip
        for i, restored in enumerate(t["restored"]):
            if not bool(restored):  # at the axes' left edge, seen on any scale
                ax.text(0.01, y[i], "not restored", transform=ax.get_yaxis_transform(),
                        va="center", fontsize=8)  # fmt: skip
        ax.axvline(1.0, color="black", linestyle="--", linewidth=1)
        if negative:
            ax.axvline(0.0, color="black", linewidth=0.8)
        ax.set_yticks(y, options)
        # An empty band below the last option holds the legend, off the bars.
        ax.set_ylim(len(options) - 0.5 + max(0.8, 0.35 * len(options)), -0.5)
        if log_axis:
            ax.set_xscale("log")
        ax.set_xlabel("defender's added cost / attacker's added cost (1: the attacker's "
                      "break-even)")  # fmt: skip
        ax.legend(fontsize=8, loc="lower right")
        ax.grid(axis="x", alpha=0.3)
        _set_narrow_title(
            ax,
            f"Marginal cost-exchange: {a['add']} more {a['threat']} "
            f"({usd(a['attacker_added_usd'])}), {a['hold']} held at its old value "
            f"(error bars: {INTERVAL})",
            "bars left of 0: the option lowers the defender's cost" if negative else "",
            *self._header(),
        )
        return ax

    @_plain
    def break_even(self, ax: Axes | None = None) -> Axes:
        """The paired difference against the varied value, with its 95 % band, and the
        break-even value with its interval."""
        ax = self._of_kind("break_even", ax)
        t = self.result.table.sort_values("value")
        a = self.result.answer
        unit = self._unit(a["measure"])
        x = t["value"].to_numpy(float)
        ax.fill_between(x, t["diff_ci95_low"], t["diff_ci95_high"], color="#4C72B0", alpha=0.2,
                        linewidth=0, label=INTERVAL)  # fmt: skip
        ax.plot(x, t["diff"], marker="o", markersize=3, color="#4C72B0",
                label=f"{a['measure']}: scenario - other posture")  # fmt: skip
        ax.axhline(0.0, color="black", linewidth=1)
        if a["crossing"]:
            ax.axvspan(a["root_ci95_low"], a["root_ci95_high"], color="#C44E52", alpha=0.15,
                       label="break-even, 95 % interval")  # fmt: skip
            ax.axvline(a["root"], color="#C44E52", linewidth=1.5,
                       label=f"break-even {_root(a['root'], a['vary'])}")  # fmt: skip
        ax.set_xlabel(path_label(a["vary"], self.result.dollar_year))
        # wrapped: a long label ran past the figure's edge
        label = f"difference in {measure_label(a['measure'], unit, self.result.dollar_year)}"
        ax.set_ylabel(textwrap.fill(label, 40))
        _unit_axis(ax.yaxis, unit)
        if a["vary"].endswith("_usd"):
            _usd_axis(ax.xaxis)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        verdict = "no crossing in the bounds" if not a["crossing"] else (
            f"break-even at {_root(a['root'], a['vary'])}")  # fmt: skip
        _set_title(ax, f"Break-even of {a['vary']} against {a['against']}: {verdict}",
                   *self._header())  # fmt: skip
        return ax

    @_plain
    def cheapest(self, ax: Axes | None = None) -> Axes:
        """Every design point by its cost (x) and its first requirement's measure (y), as
        last estimated; the requirement's bound as a line; the best point starred."""
        ax = self._of_kind("cheapest", ax)
        t = self.result.table
        a = self.result.answer
        cost = a["minimize"]
        req = next(iter(self.result.inputs["require"]))
        op_bound = self.result.inputs["require"][req]
        styles = {
            "best": ("#C44E52", "*", 14), "runner-up": ("#DD8452", "D", 6),
            "feasible": ("#55A868", "o", 5), "infeasible": ("#8172B3", "x", 6),
            "screened out": ("#AAAAAA", ".", 5),
        }  # fmt: skip
        for status, (color, marker, size) in styles.items():
            sub = t[t["status"] == status]
            if sub.empty:
                continue
            xerr = _interval_err(sub[cost], sub[f"{cost}_ci95_low"], sub[f"{cost}_ci95_high"])
            yerr = _interval_err(sub[req], sub[f"{req}_ci95_low"], sub[f"{req}_ci95_high"])
            ax.errorbar(sub[cost], sub[req], xerr=xerr, yerr=yerr, fmt=marker, color=color,
                        markersize=size, elinewidth=0.6, capsize=0,
                        label=f"{status} ({len(sub)})")  # fmt: skip
        bound = float(str(op_bound).split()[-1])
        ax.axhline(bound, color="black", linestyle="--", linewidth=1,
                   label=f"requirement {req} {op_bound}")  # fmt: skip
        ax.set_xlabel(measure_label(cost, self._unit(cost), self.result.dollar_year))
        ax.set_ylabel(measure_label(req, self._unit(req), self.result.dollar_year))
        _unit_axis(ax.xaxis, self._unit(cost))  # dollars, percent: as everywhere else
        _unit_axis(ax.yaxis, self._unit(req))
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
        found = (f"best: point {a['point']}" if a["found"] else
                 "no posture meets every requirement")  # fmt: skip
        _set_title(ax, f"Cheapest posture by {cost} over {_count(a['points'], 'point')} ({found}; "
                   f"bars: {INTERVAL}, screened points at their screening trials)",
                   *self._header())  # fmt: skip
        return ax

    @_plain
    def worst_raid(self, ax: Axes | None = None) -> Axes:
        """The confirmed top raid mixes by the measure maximized, with 95 % intervals."""
        ax = self._of_kind("worst_raid", ax)
        a = self.result.answer
        m = a["maximize"]
        unit = self._unit(m)
        entries = a["top"]
        labels = [
            ", ".join(f"{v} {g}" for g, v in e["mix"].items()) + f"\n({usd(e['attack_cost_usd'])})"
            for e in entries
        ]
        mean = np.array([e["value"][0] for e in entries], float)
        low = np.array([e["value"][1] for e in entries], float)
        high = np.array([e["value"][2] for e in entries], float)
        y = np.arange(len(entries))
        colors = ["#C44E52"] + ["#4C72B0"] * (len(entries) - 1)
        ax.barh(y, mean, xerr=_interval_err(mean, low, high), color=colors, capsize=3,
                error_kw={"elinewidth": 1.0, "ecolor": "black"})  # fmt: skip
        ax.set_yticks(y, labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel(measure_label(m, unit, self.result.dollar_year))
        if unit.startswith("USD"):
            _usd_axis(ax.xaxis)
        ax.grid(axis="x", alpha=0.3)
        _set_narrow_title(ax, f"Worst raids within {usd(a['budget_usd'])} by {m}: the top "
                   f"{len(entries)} of {a['mixes']} affordable mixes (bars: {INTERVAL})",
                   *self._header())  # fmt: skip
        return ax

    @_plain
    def sensitivity(self, ax: Axes | None = None, inputs: int = 15) -> Axes:
        """A tornado: the measure at the low and the high end of each input's range,
        the ``inputs`` biggest swings, around the value as assumed, each end with its
        95 % interval (black lines). Inputs named short (``sm2.pk.drone``: no leading
        ``effectors.`` or ``threats.``) and wrapped; the lines of the value as assumed
        and of no difference inside the axes; the legend in a free band below the bars."""
        own = ax is None
        ax = self._of_kind("sensitivity", ax)
        inputs = check_int("inputs", inputs, 1, 10**6)
        a = self.result.answer
        unit = self._unit(a["measure"])
        t = self.result.table
        t = t[t["status"] == "evaluated"].head(inputs)
        base = a["base"][0]
        y = np.arange(len(t))
        low = t["at_low"].to_numpy(float)
        high = t["at_high"].to_numpy(float)
        for values, color, label in ((low, "#4C72B0", "input at its low end"),
                                     (high, "#DD8452", "input at its high end")):  # fmt: skip
            shown = np.where(np.isfinite(values), values, base)
            ax.barh(y, shown - base, left=base, color=color, alpha=0.85, label=label,
                    height=0.6)  # fmt: skip
        # The interval of each end (a swing whose interval holds the base value may be
        # noise), the low end's above the middle of its row, the high end's below.
        intervals = False
        ends = [base, *low, *high]
        for end, offset in (("at_low", -0.13), ("at_high", 0.13)):
            if f"{end}_ci95_low" not in t:  # (a table written before intervals were kept)
                continue
            values = t[end].to_numpy(float)
            err = _interval_err(values, t[f"{end}_ci95_low"], t[f"{end}_ci95_high"])
            shown = np.isfinite(values)
            ax.errorbar(values[shown], y[shown] + offset, xerr=err[:, shown], fmt="none",
                        ecolor="black", elinewidth=0.9, capsize=2,
                        label=None if intervals else INTERVAL)  # fmt: skip
            ends += [*(values - err[0])[shown], *(values + err[1])[shown]]
            intervals = True
        names = [_input_label(p, lo, hi)
                 for p, lo, hi in zip(t["path"], t["low"], t["high"], strict=True)]  # fmt: skip
        ax.set_yticks(y, names, fontsize=7)
        if own:  # rows as tall as their names: two lines a row at most, as a rule
            lines = max([n.count("\n") + 1 for n in names] or [1])
            width, height = FIGSIZE
            ax.figure.set_size_inches(
                width, max(height, 2.4 + (0.08 + 0.11 * lines) * (len(t) + 2))
            )
        ax.axvline(base, color="black", linewidth=1, label="as assumed")
        if a["against"] is not None:
            ax.axvline(0.0, color="#C44E52", linestyle="--", linewidth=1, label="no difference")
            ends.append(0.0)
        # Limits with a margin either side: the line of no difference (0) sat on the
        # axes' right edge, out of sight.
        finite = [float(v) for v in ends if np.isfinite(v)]
        if finite:
            lo, hi = min(finite), max(finite)
            pad = 0.06 * ((hi - lo) or abs(hi) or 1.0)
            ax.set_xlim(lo - pad, hi + pad)
        what = (
            a["measure"] if a["against"] is None else f"{a['measure']} minus that of {a['against']}"
        )
        label = measure_label(a["measure"], unit, self.result.dollar_year)
        label = label if a["against"] is None else f"difference in {label}"
        # Axes pushed right by the inputs' names: a wrapped label and fewer, smaller ticks
        # (a long label ran past the figure's edge, dollar ticks ran into each other).
        ax.set_xlabel(textwrap.fill(label, 45), fontsize=9)
        from matplotlib.ticker import MaxNLocator  # lazy: optional, slow

        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
        ax.tick_params(axis="x", labelsize=8)
        _unit_axis(ax.xaxis, unit)
        ax.grid(axis="x", alpha=0.3)
        lines = f"; black lines: {INTERVAL}" if intervals else ""
        _set_narrow_title(ax, f"Sensitivity of {what} to the assumed inputs over their plausible "
                   f"ranges (the {_count(len(t), 'biggest swing')}{lines})",
                   *self._header())  # fmt: skip
        _legend_below(ax, len(t))
        return ax


def _input_label(path: str, low: Any, high: Any, width: int = 40) -> str:
    """An input of a tornado and its range, short and wrapped: ``effectors.sm2.rounds``
    from 8 to 32 -> ``sm2.rounds (8 to 32)``. Without its leading ``effectors.`` or
    ``threats.`` (the names of effectors and threats tell which); broken after a dot or
    before the range, never inside a name or the range, into lines of ``width``
    characters at most (a longer name or range on a line of its own)."""
    short = re.sub(r"^(effectors|threats)\.", "", path)
    words = re.findall(r"[^.]+\.?", short) or [short]
    joins = [""] * len(words)
    words.append(f"({grid_value(low, path)} to {grid_value(high, path)})")  # on one line
    joins.append(" ")
    lines = [words[0]]
    for word, join in zip(words[1:], joins[1:], strict=True):
        if len(lines[-1]) + len(join) + len(word) <= width:
            lines[-1] += join + word
        else:
            lines.append(word)
    return "\n".join(lines)


def _legend_below(ax: Axes, rows: int) -> None:
    """The legend of horizontal bars ``0 .. rows - 1`` (top to bottom) in a band left free
    below the last bar, as tall as the legend (measured once laid out), so that it covers
    no bar: in three columns, else in one where three are wider than the axes; outside
    the axes, on the right, when the axes are too small for either (a caller's)."""
    fig = ax.figure
    _plain_text(ax)  # (laid out as drawn: two dollar amounts in a text are not mathtext)
    for ncol in (3, 1):
        ax.set_ylim(rows - 0.5, -0.5)
        legend = ax.legend(fontsize=7, loc="lower center", ncol=ncol)
        fig.draw_without_rendering()
        renderer = fig.canvas.get_renderer()
        box = legend.get_window_extent(renderer)
        axes = ax.get_window_extent(renderer)
        # pixels: the legend, the pad below it and a gap above it as tall
        pad = legend.borderaxespad * legend.prop.get_size_in_points() * fig.dpi / 72.0
        tall = box.height + 2.0 * pad
        if box.width <= axes.width and tall < 0.6 * axes.height:
            # A band (in rows) such that the 0.2 row free below the last bar (bars 0.6
            # high) and the band hold the legend: (0.2 + band) / (rows + band) * axes
            # >= tall.
            band = max((tall * rows - 0.2 * axes.height) / (axes.height - tall), 0.0)
            ax.set_ylim(rows - 0.5 + band, -0.5)
            return
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)


def _count(n: int, noun: str) -> str:
    """``1 point``, ``4 points``."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _trials_text(result) -> str:
    """A sweep's trials per point in words (``SweepResult.trials_text``: run to a
    precision, each point's differ), or its ``n_trials``."""
    text = getattr(result, "trials_text", None)
    return text() if callable(text) else f"{result.n_trials:,} trials"
