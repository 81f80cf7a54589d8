"""Two figure defects a new user's audit found, checked on the drawn artists: a sweep's
key-measure figures left out mean leakers (the measure that moves when P(any leak) stays
at 100 %), and the sensitivity tornado gave half its width to dotted-path labels, drew
its line of no difference on the axes' edge and laid its legend over bars."""

import itertools

import numpy as np
import pandas as pd
import pytest
from scenarios import interceptor, scenario, threat

import costx

pytest.importorskip("matplotlib")


# -- 1. a sweep draws mean leakers -----------------------------------------------------------


@pytest.fixture(scope="module")
def magazine_sweep():
    """A magazine-depth sweep where every trial leaks (P(any leak) flat at 100 %) and the
    mean leakers fall as the magazine deepens."""
    data = scenario(
        [threat("drone", 12, arrival="uniform", window_s=300.0)],
        [interceptor(pk={"drone": 0.7}, rounds=2)],
        name="magsweep",
    )
    return costx.sweep(data, {"effectors.sm2.rounds": [2, 4, 8]}, trials=60, seed=1)


def test_sweep_figures_draw_mean_leakers(magazine_sweep, tmp_path):
    from costx.plotting import figures, plot_all

    table = magazine_sweep.table
    assert (table["p_any_leak"] == 1.0).all()  # the measure drawn so far: flat
    assert table["leakers"].iloc[0] > table["leakers"].iloc[-1]  # the one that moved
    drawn = dict(figures(magazine_sweep))
    assert "leakers_vs_effectors_sm2_rounds" in drawn
    ax = drawn["leakers_vs_effectors_sm2_rounds"].axes[0]
    assert ax.get_ylabel() == "leakers (threats)"
    (line,) = [ln for ln in ax.get_lines() if len(ln.get_xdata()) == 3]
    assert list(line.get_xdata()) == [2.0, 4.0, 8.0]
    assert list(line.get_ydata()) == pytest.approx(list(table["leakers"]))
    names = {p.name for p in plot_all(magazine_sweep, tmp_path, formats=("png",))}
    assert "magsweep_leakers_vs_effectors_sm2_rounds.png" in names


# -- 2. the sensitivity tornado ----------------------------------------------------------------


PATHS = [
    "effectors.hvp_railgun.ballistic_coefficient_kg_m2",
    "effectors.hvp_railgun.pk.owa_drone",
    "effectors.sm2.cost_per_shot_usd",
    "threats.owa_drone.detect_range_km",
    "effectors.hvp_railgun.miss_rate_m_per_s",
    *(f"effectors.hvp_railgun.lethal_radius_of_the_warhead_m_{i}" for i in range(10)),
]


def _tornado(wide_rows: bool = False):
    """A tornado of 15 inputs as ``costx analyze sensitivity ddg_mixed_raid --against``
    writes it: differences below 0, so that the line of no difference (0) lies beyond
    every bar. ``wide_rows``: every row's bars span the whole range, so that a legend
    anywhere among the rows covers a bar."""
    n = len(PATHS)
    if wide_rows:
        at_low, at_high = np.full(n, -1.4e9), np.full(n, -5.0e7)
    else:
        # the audit's case: the highest interval end (-6.5e7) 5 % of the span from 0, where
        # matplotlib's margin had put the axes' edge, the line of no difference on it
        at_low, at_high = np.linspace(-1.4e9, -3.0e8, n), np.linspace(-1.05e8, -4.0e8, n)
    table = {
        "path": PATHS,
        "low": [2100.0, 0.15, 1e6, 15.0, 0.1, *[1.5] * 10],
        "high": [7500.0, 0.6, 3e6, 40.0, 0.4, *[6.0] * 10],
        "at_low": at_low,
        "at_low_ci95_low": at_low - 5e7,
        "at_low_ci95_high": at_low + 5e7,
        "at_high": at_high,
        "at_high_ci95_low": at_high - 4e7,
        "at_high_ci95_high": at_high + 4e7,
        "status": ["evaluated"] * n,
    }
    answer = {
        "measure": "total_cost_usd",
        "against": "the same scenario with effectors.helios.units = 0",
        "base": [-3.6e8, -4.1e8, -3.0e8],
    }
    from costx.analysis import AnalysisResult

    return AnalysisResult(
        "sensitivity",
        costx.load_scenario("ddg_drone_swarm"),
        {},
        answer,
        pd.DataFrame(table),
        seed=0,
        trials=100,
        trials_simulated=400,
    )


def test_tornado_labels_are_short_and_wrapped():
    ax = _tornado().plot.sensitivity()
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == 15
    assert labels[0] == "hvp_railgun.ballistic_coefficient_kg_m2\n(2100 to 7500)"
    assert labels[2] == "sm2.cost_per_shot_usd ($1.00M to $3.00M)"
    assert labels[3] == "owa_drone.detect_range_km (15 to 40)"
    for label in labels:
        assert not label.startswith(("effectors.", "threats."))
        assert max(len(line) for line in label.split("\n")) <= 40
        assert "(" in label.split("\n")[-1]  # the range whole, on the last line
    # the names take at most a third of the figure's width (they took about half)
    widest = max(t.get_window_extent(renderer).width for t in ax.get_yticklabels())
    assert widest <= fig.bbox.width / 3
    # rows tall enough for two-line names: no two names overlap
    boxes = [t.get_window_extent(renderer) for t in ax.get_yticklabels()]
    assert not [1 for a, b in itertools.pairwise(boxes) if a.overlaps(b)]


def test_tornado_reference_lines_inside_the_axes_with_a_margin():
    ax = _tornado().plot.sensitivity()
    left, right = ax.get_xlim()
    margin = 0.03 * (right - left)
    lines = {ln.get_label(): ln.get_xdata()[0] for ln in ax.get_lines()}
    assert lines["no difference"] == 0.0 and lines["as assumed"] == -3.6e8
    for x in lines.values():
        assert left + margin <= x <= right - margin


@pytest.mark.parametrize("wide_rows", [False, True])
def test_tornado_legend_covers_no_bar(wide_rows):
    from matplotlib.collections import LineCollection

    ax = _tornado(wide_rows).plot.sensitivity()
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legend = ax.get_legend().get_window_extent(renderer)
    bars = [p.get_window_extent(renderer) for p in ax.patches]
    assert len(bars) == 30
    assert not [b for b in bars if legend.overlaps(b)]
    # nor an interval line
    for c in ax.collections:
        if isinstance(c, LineCollection):
            for segment in c.get_segments():
                (x0, y), (x1, _) = ax.transData.transform(segment)  # horizontal
                assert not (legend.y0 <= y <= legend.y1 and x0 <= legend.x1 and x1 >= legend.x0)
    assert fig.bbox.x0 <= legend.x0 and legend.x1 <= fig.bbox.x1
    assert fig.bbox.y0 <= legend.y0 and legend.y1 <= fig.bbox.y1


def test_tornado_on_a_small_axes_of_the_callers_keeps_the_legend_off_the_bars():
    from costx.plotting import new_figure

    ax = new_figure((5.0, 3.0)).axes[0]
    _tornado(wide_rows=True).plot.sensitivity(ax=ax)
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legend = ax.get_legend().get_window_extent(renderer)
    assert not [p for p in ax.patches if legend.overlaps(p.get_window_extent(renderer))]
    assert tuple(fig.get_size_inches()) == (5.0, 3.0)  # the caller's figure keeps its size
