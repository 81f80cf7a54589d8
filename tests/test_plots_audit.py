"""Figure defects found by an audit of the figures, each checked on the drawn artists:
dollar amounts as plain text (not mathtext), dollar grid values as money, honest scales
(no dropped values, no made-up scales, intervals where the title promises them) and
labels inside the figure."""

import itertools
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scenarios import interceptor, laser, scenario, threat

import costx

pytest.importorskip("matplotlib")


def _small(**sm2):
    return scenario(
        [threat("drone", 6, arrival="uniform", window_s=300.0)],
        [interceptor(pk={"drone": 0.7}, rounds=8, **sm2), laser()],
        name="audit",
    )


@pytest.fixture(scope="module")
def usd_sweep():
    """A sweep over a dollar grid variable (sm2's cost per shot) and the laser's units."""
    grid = {"effectors.sm2.cost_per_shot_usd": [1e6, 2e6], "effectors.las.units": [0, 1]}
    return costx.sweep(_small(), grid, trials=200, seed=1)


def _title(ax):
    """The title on one line (it is wrapped)."""
    return ax.get_title(loc="left").replace("\n", " ")


def _is_math(text) -> bool:
    """Whether matplotlib draws a line of ``text`` as mathtext (two unescaped ``$`` in
    one line: the text between them in italics, the signs dropped)."""
    from matplotlib import cbook

    lines = text.get_text().split("\n")
    return text.get_parse_math() and any(cbook.is_math_text(line) for line in lines)


def _texts(ax):
    from matplotlib.text import Text

    ax.figure.canvas.draw()
    return [t for t in ax.figure.findobj(Text) if t.get_text()]


def _inside(artist, box, slack=1.0) -> bool:
    renderer = artist.figure.canvas.get_renderer()
    b = artist.get_window_extent(renderer)
    return (
        b.x0 >= box.x0 - slack
        and b.x1 <= box.x1 + slack
        and b.y0 >= box.y0 - slack
        and b.y1 <= box.y1 + slack
    )


def _analysis(kind, table, answer, inputs=None):
    from costx.analysis import AnalysisResult

    return AnalysisResult(
        kind,
        costx.load_scenario("ddg_drone_swarm"),
        inputs or {},
        answer,
        pd.DataFrame(table),
        seed=0,
        trials=100,
        trials_simulated=400,
    )


# -- 1. dollar amounts are plain text -------------------------------------------------------


def test_heatmap_cells_with_two_dollar_amounts_are_not_mathtext(usd_sweep):
    ax = usd_sweep.plot.heatmap(
        "effectors.sm2.cost_per_shot_usd", "effectors.las.units", measure="defense_cost_usd"
    )
    texts = _texts(ax)
    cells = [t for t in ax.texts if t.get_text().count("$") >= 2]
    assert len(cells) == 4  # a mean and its interval in every cell
    assert "\n(" in cells[0].get_text() and " to $" in cells[0].get_text()
    assert not [t.get_text() for t in texts if _is_math(t)]


def test_titles_and_tick_labels_with_two_dollar_amounts_are_not_mathtext(usd_sweep):
    plots = usd_sweep.plot
    ax = plots.cost_per_kill(x="effectors.las.units", hue="effectors.sm2.cost_per_shot_usd")
    texts = _texts(ax)
    assert sum(t.get_text().count("$") for t in ax.get_legend().get_texts()) == 2
    assert not [t.get_text() for t in texts if _is_math(t)]
    # an input's range in dollars: two amounts in one tick label
    ax = _sensitivity().plot.sensitivity()
    (label,) = [t for t in ax.get_yticklabels() if t.get_text().count("$") == 2]
    assert label.get_text() == "sm2.cost_per_shot_usd ($1.00M to $3.00M)"
    assert not [t.get_text() for t in _texts(ax) if _is_math(t)]


def test_a_log_axis_keeps_its_mathtext_tick_labels():
    """Plain text is for the texts costx writes: a log axis's 10^2 stays mathtext."""
    result = _analysis(
        "margin",
        {
            "option": ["a", "b"],
            "restored": [True, True],
            "ratio_per_raid": [2.0, 3.0],
            "ratio_per_raid_ci95_low": [1.5, 2.0],
            "ratio_per_raid_ci95_high": [2.5, 4.0],
            "ratio_procurement": [300.0, 900.0],
            "ratio_procurement_ci95_low": [250.0, 800.0],
            "ratio_procurement_ci95_high": [350.0, 1000.0],
        },
        {"add": 4, "threat": "drones", "attacker_added_usd": 1e5, "hold": "leakers"},
    )
    ax = result.plot.margin()
    assert ax.get_xscale() == "log"
    ax.figure.canvas.draw()
    ticks = [t for t in ax.get_xticklabels() if "mathdefault" in t.get_text()]
    assert ticks and all(_is_math(t) for t in ticks)


# -- 2. dollar grid values as money -------------------------------------------------------------


def test_dollar_grid_values_read_as_money(usd_sweep):
    from costx.formatting import grid_value, point_label

    assert grid_value(1e6, "effectors.sm2.cost_per_shot_usd") == "$1.00M"
    assert grid_value(1e6) == "1e+06" and grid_value(16, "effectors.sm2.rounds") == "16"
    assert point_label({"effectors.sm2.cost_per_shot_usd": 2e6}) == "sm2: cost per shot = $2.00M"
    plots = usd_sweep.plot
    ax = plots.heatmap(
        "effectors.sm2.cost_per_shot_usd", "effectors.las.units", measure="defense_cost_usd"
    )
    assert [t.get_text() for t in ax.get_xticklabels()] == ["$1.00M", "$2.00M"]
    ax = plots.cost_per_kill(x="effectors.las.units", hue=False)
    assert "=\u00a0$1.00M" in _title(ax) and "1e+06" not in _title(ax)
    ax = plots.defense_cost(x="effectors.sm2.cost_per_shot_usd")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["$1.00M", "$2.00M"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["0", "1"]
    ax = plots.total_cost(x="effectors.sm2.cost_per_shot_usd")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["$1.00M", "$2.00M"]


# -- 3. the margin figure -------------------------------------------------------------------


@pytest.fixture(scope="module")
def margin_negative():
    """The laser lowers the defender's cost per raid: a negative ratio."""
    from costx.sweeps import load_scenario_with

    start = load_scenario_with("ddg_drone_swarm", {"effectors.laser.units": 0})
    offsets = {"effectors.essm.rounds": 4, "effectors.laser.units": 1}
    return costx.marginal_exchange(start, threat="drones", add=12, offsets=offsets, trials=200)


def test_margin_draws_a_negative_ratio_on_a_linear_axis(margin_negative):
    t = margin_negative.table
    assert (t["ratio_per_raid"] < 0).any()  # the case this test is for
    ax = margin_negative.plot.margin()
    assert ax.get_xscale() == "linear"
    widths = [p.get_width() for p in ax.patches]
    assert min(widths) == pytest.approx(t["ratio_per_raid"].min())
    assert ax.get_xlim()[0] < min(widths)  # the bar is inside the axes
    assert "lowers the defender's cost" in _title(ax)


def test_margin_legend_is_off_the_bars(margin_negative):
    ax = margin_negative.plot.margin()
    ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    legend = ax.get_legend().get_window_extent(renderer)
    bars = [p.get_window_extent(renderer) for p in ax.patches if p.get_width() != 0]
    assert bars and not [b for b in bars if b.overlaps(legend)]


def test_margin_says_not_restored_inside_the_axes_on_a_log_axis():
    result = _analysis(
        "margin",
        {
            "option": ["a", "b"],
            "restored": [True, False],
            "ratio_per_raid": [2.0, math.nan],
            "ratio_per_raid_ci95_low": [1.5, math.nan],
            "ratio_per_raid_ci95_high": [2.5, math.nan],
            "ratio_procurement": [300.0, math.nan],
            "ratio_procurement_ci95_low": [250.0, math.nan],
            "ratio_procurement_ci95_high": [350.0, math.nan],
        },
        {"add": 4, "threat": "drones", "attacker_added_usd": 1e5, "hold": "leakers"},
    )
    ax = result.plot.margin()
    assert ax.get_xscale() == "log"
    (note,) = [t for t in ax.texts if t.get_text().strip() == "not restored"]
    ax.figure.canvas.draw()
    assert _inside(note, ax.bbox)


# -- 4. nothing to draw ---------------------------------------------------------------------


def _no_kills():
    return scenario(
        [threat("drone", 4, arrival="uniform", window_s=300.0)],
        [interceptor(pk={"drone": 0.0}, rounds=8), laser(units=0)],
        name="nokills",
    )


def test_cost_per_kill_without_kills_says_so_without_a_scale():
    result = costx.simulate(_no_kills(), trials=100, seed=1)
    ax = result.plot.cost_per_kill()
    texts = [t.get_text() for t in ax.texts]
    assert "no kills in any trial: cost per kill undefined" in texts
    assert len(ax.get_xticks()) == 0 and len(ax.get_yticks()) == 0


def test_sweep_without_values_has_no_made_up_scale_legend_or_colorbar():
    sweep = costx.sweep(_no_kills(), {"effectors.sm2.rounds": [4, 8]}, trials=100)
    ax = sweep.plot.cost_per_kill()
    assert "no value" in [t.get_text() for t in ax.texts]
    assert len(ax.get_yticks()) == 0 and ax.get_legend() is None
    two = costx.sweep(
        _no_kills(), {"effectors.sm2.rounds": [4, 8], "effectors.las.units": [0, 1]}, trials=100
    )
    measure = "cost_per_kill_sm2_usd"  # (the laser kills)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (a legend of nothing warns)
        ax = two.plot.measure(measure, x="effectors.sm2.rounds", hue="effectors.las.units")
    assert ax.get_legend() is None and "no value" in [t.get_text() for t in ax.texts]
    ax = two.plot.heatmap("effectors.sm2.rounds", "effectors.las.units", measure=measure)
    assert len(ax.figure.axes) == 1  # no colorbar


_CPK = "cost_per_kill_usd"


def test_a_line_without_values_is_left_out_of_the_legend(usd_sweep):
    """The laser's cost per kill has no value without the laser (0 units)."""
    ax = usd_sweep.plot.measure(
        "cost_per_kill_las_usd", x="effectors.sm2.cost_per_shot_usd", hue="effectors.las.units"
    )
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["1"]
    assert "no value at las: beam directors = 0" in _title(ax)


# -- 5. a single point ----------------------------------------------------------------------


def test_a_single_point_gets_an_interval_bar_and_a_singular():
    from matplotlib.container import ErrorbarContainer

    sweep = costx.sweep(_small(), {"effectors.sm2.rounds": [8]}, trials=200, seed=2)
    ax = sweep.plot.cost_per_kill()
    assert ": 1 point x 200 trials" in _title(ax)
    (bars,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    (segment,) = bars.lines[2][0].get_segments()
    row = sweep.table.iloc[0]
    assert segment[:, 1] == pytest.approx([row[f"{_CPK}_ci95_low"], row[f"{_CPK}_ci95_high"]])
    assert "bars: 95 % interval" in _title(ax)


# -- 6. unbounded values --------------------------------------------------------------------


def _with_infinities(result):
    from costx.plotting import SweepPlots

    plots = SweepPlots(result)
    table = result.table
    first = table.index[table["effectors.las.units"] == 1]
    table.loc[first[0], f"{_CPK}_ci95_high"] = np.inf
    table.loc[first[1], _CPK] = np.inf
    plots._table = table
    return plots


def test_sweep_measure_marks_unbounded_values(usd_sweep):
    plots = _with_infinities(usd_sweep)
    ax = plots.cost_per_kill(x="effectors.sm2.cost_per_shot_usd")
    top = ax.get_ylim()[1]
    assert math.isfinite(top)
    arrows = [line for line in ax.lines if line.get_marker() == "^"]
    assert len(arrows) == 1 and list(arrows[0].get_ydata()) == [top]
    assert "not drawn, mean unbounded: sm2: cost per shot = $2.00M" in _title(ax)
    assert "arrows: interval without an end" in _title(ax)


def test_heatmap_says_unbounded(usd_sweep):
    plots = _with_infinities(usd_sweep)
    ax = plots.heatmap("effectors.sm2.cost_per_shot_usd", "effectors.las.units", measure=_CPK)
    texts = [t.get_text() for t in ax.texts]
    assert not [t for t in texts if "inf" in t]
    assert any(t.startswith("unbounded") for t in texts)
    assert any("(at least $" in t for t in texts)


# -- 7. the leakers histogram ---------------------------------------------------------------


def test_leakers_mean_is_the_summary_mean_and_labels_are_boxed(monkeypatch):
    result = costx.simulate(_small(), trials=200, seed=4)
    summary = result.summary()
    summary.loc["leakers", "mean"] += 0.25  # tells the summary's mean from the trials'
    monkeypatch.setattr(type(result), "summary", lambda self: summary)
    ax = result.plot.leakers()
    (mean,) = [line for line in ax.lines if line.get_label().startswith("mean")]
    assert mean.get_xdata()[0] == pytest.approx(summary.loc["leakers", "mean"])
    labels = [t for t in ax.texts if t.get_text().endswith("%")]
    assert labels and all(t.get_bbox_patch() is not None for t in labels)
    assert ax.get_legend()._loc == 0  # "best"


# -- 8. the cheapest posture by unit --------------------------------------------------------


def test_cheapest_axes_in_dollars_and_percent():
    table = {
        "point": [0, 1],
        "status": ["best", "infeasible"],
        "total_cost_usd": [1e8, 5e7],
        "total_cost_usd_ci95_low": [0.9e8, 4e7],
        "total_cost_usd_ci95_high": [1.1e8, 6e7],
        "p_ship_lost": [0.03, 0.2],
        "p_ship_lost_ci95_low": [0.02, 0.15],
        "p_ship_lost_ci95_high": [0.04, 0.25],
    }
    answer = {"minimize": "total_cost_usd", "found": True, "point": 0, "points": 2}
    result = _analysis("cheapest", table, answer, {"require": {"p_ship_lost": "<= 0.05"}})
    ax = result.plot.cheapest()
    assert ax.xaxis.get_major_formatter()(1e8) == "$100M"
    assert ax.yaxis.get_major_formatter()(0.2) == "20 %"


# -- 9. measures of some points only --------------------------------------------------------


def test_a_measure_of_later_points_only_can_be_plotted():
    data = scenario(
        [threat("drone", 6, arrival="uniform", window_s=300.0, targets={"jet": 1.0})],
        [interceptor(pk={"drone": 0.5}, rounds=8)],
        name="sites",
    )
    data["threats"][0]["warhead"] = {"kind": "unitary", "p_kill_open": 0.9}
    data["base"] = {"runways": 1, "assets": [{"name": "jet", "count": 4, "unit_cost_usd": 8e7}]}
    sweep = costx.sweep(data, {"base.dispersal_sites": [1, 2]}, trials=100, seed=1)
    assert "damage_site1_usd" not in sweep.summary(0).index  # the case this test is for
    ax = sweep.plot.measure("damage_site1_usd", hue=False)
    assert ax.get_ylabel() == "damage at site 1 (2025 USD)"


# -- 10. the sensitivity tornado ------------------------------------------------------------


def _sensitivity():
    paths = [f"effectors.hvp_railgun.ballistic_coefficient_kg_m2_{i}" for i in range(14)]
    at_low = np.linspace(-1.4e9, -3.0e8, 15)
    at_high = np.linspace(-5.0e7, -4.0e8, 15)
    table = {
        "path": ["effectors.sm2.cost_per_shot_usd", *paths],
        "low": [1e6] + [2100.0] * 14,
        "high": [3e6] + [7500.0] * 14,
        "at_low": at_low,
        "at_low_ci95_low": at_low - 5e7,
        "at_low_ci95_high": at_low + 5e7,
        "at_high": at_high,
        "at_high_ci95_low": at_high - 4e7,
        "at_high_ci95_high": at_high + 4e7,
        "status": ["evaluated"] * 15,
    }
    answer = {
        "measure": "total_cost_usd",
        "against": "the same scenario with effectors.laser.units = 0",
        "base": [-3.6e8, -4.1e8, -3.0e8],
    }
    return _analysis("sensitivity", table, answer)


def test_sensitivity_draws_the_intervals_of_each_end():
    from matplotlib.container import ErrorbarContainer

    result = _sensitivity()
    ax = result.plot.sensitivity()
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == 2
    t = result.table
    for container, end in zip(bars, ("at_low", "at_high"), strict=True):
        segments = container.lines[2][0].get_segments()
        assert [s[0][0] for s in segments] == pytest.approx(list(t[f"{end}_ci95_low"]))
        assert [s[1][0] for s in segments] == pytest.approx(list(t[f"{end}_ci95_high"]))
    assert "95 % interval" in [x.get_text() for x in ax.get_legend().get_texts()]


def test_sensitivity_x_label_and_ticks_fit():
    ax = _sensitivity().plot.sensitivity()
    fig = ax.figure
    fig.canvas.draw()
    assert _inside(ax.xaxis.label, fig.bbox)
    renderer = fig.canvas.get_renderer()
    left, right = ax.get_xlim()
    shown = [
        t.get_window_extent(renderer)
        for t in ax.get_xticklabels()
        if t.get_text() and left <= t.get_position()[0] <= right
    ]
    assert len(shown) >= 2
    assert not [1 for a, b in itertools.pairwise(shown) if a.overlaps(b)]


# -- 11. the break-even figure --------------------------------------------------------------


def _break_even(vary="costing.raids_per_year"):
    x = np.linspace(0.05, 12.0, 6)
    diff = 3e8 / (1 + 20 * x) - 4e7
    table = {"value": x, "diff": diff, "diff_ci95_low": diff - 1e6, "diff_ci95_high": diff + 1e6}
    answer = {
        "vary": vary,
        "measure": "defense_total_cost_usd",
        "against": "the same scenario with effectors.laser.units = 0",
        "crossing": True,
        "root": 0.33,
        "root_ci95_low": 0.32,
        "root_ci95_high": 0.34,
    }
    return _analysis("break_even", table, answer)


def test_break_even_y_label_fits():
    ax = _break_even().plot.break_even()
    ax.figure.canvas.draw()
    assert "\n" in ax.get_ylabel()
    assert _inside(ax.yaxis.label, ax.figure.bbox)


def test_break_even_of_a_dollar_variable_reads_in_dollars():
    ax = _break_even("effectors.essm.cost_per_shot_usd").plot.break_even()
    assert ax.xaxis.get_major_formatter()(2e6) == "$2M"
    assert "break-even at $0.33" in _title(ax)


# -- 12. the campaign's magazines -----------------------------------------------------------


def test_campaign_magazines_as_a_share_of_each():
    data = scenario(
        [threat("drone", 6, arrival="uniform", window_s=300.0)],
        [
            interceptor(pk={"drone": 0.5}, rounds=8),
            interceptor("gun", pk={"drone": 0.2}, rounds=600, cost_per_shot_usd=100.0),
        ],
        name="magazines",
    )
    data["campaign"] = {"salvos": 2, "interval_h": 12.0}
    result = costx.simulate(data, trials=100, seed=1)
    ax_mag, _ = result.plot.campaign()
    assert [line.get_label() for line in ax_mag.lines] == ["sm2 (of 8)", "gun (of 600)"]
    assert [line.get_ydata()[0] for line in ax_mag.lines] == [1.0, 1.0]
    assert all(0.0 <= v <= 1.0 for line in ax_mag.lines for v in line.get_ydata())
    assert ax_mag.get_ylabel() == "rounds left (% of each magazine)"
    assert ax_mag.yaxis.get_major_formatter()(0.5) == "50 %"
