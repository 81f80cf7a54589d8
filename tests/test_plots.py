"""Figures and reports: every figure builds with its artists, plot_all writes files, the
HTML report is self-contained, and missing inputs or a missing matplotlib are explained."""

import html
import io
import itertools
import math
import os
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from scenarios import interceptor, laser, mixed, scenario, threat

import costx
from costx.errors import InputError

GRID = {"effectors.sm2.rounds": [4, 8], "effectors.las.units": [0, 1]}


def _small():
    return scenario(
        [threat("drone", 6, arrival="uniform", window_s=300.0)],
        [interceptor(pk={"drone": 0.7}, rounds=8), laser()],
        name="plotme",
    )


def _campaign():
    data = scenario(
        [threat("drone", 6, arrival="uniform", window_s=300.0)],
        [interceptor(pk={"drone": 0.7}, rounds=16), laser(units=1)],
        name="plotcampaign",
    )
    data["scenario"]["description"] = "Three salvos & a <tag> in the description"
    data["campaign"] = {"salvos": 3, "interval_h": 12.0}
    return data


def _base_campaign():
    data = _campaign()
    data["scenario"]["name"] = "plotbase"
    data["threats"][0]["targets"] = {"runway": 1.0, "jet": 1.0}
    data["threats"][0]["warhead"] = {
        "kind": "unitary",
        "p_kill_open": 0.9,
        "p_kill_sheltered": 0.2,
        "p_cut_runway": 0.8,
    }
    data["base"] = {
        "runways": 1,
        "repair_h_per_cut": 3.0,
        "repair_teams": 1,
        "assets": [{"name": "jet", "count": 4, "unit_cost_usd": 80e6}],
    }
    return data


@pytest.fixture(scope="module")
def mpl():
    pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def sim(mpl):
    return costx.simulate(mixed(), trials=500, seed=3)


@pytest.fixture(scope="module")
def campaign(mpl):
    return costx.simulate(_campaign(), trials=400, seed=1)


@pytest.fixture(scope="module")
def base_sweep(mpl):
    grid = {"base.assets.jet.sheltered": [False, True], "base.repair_teams": [1, 3]}
    return costx.sweep(_base_campaign(), grid, trials=300, seed=2)


@pytest.fixture(scope="module")
def swept(mpl):
    return costx.sweep(_small(), GRID, trials=500, seed=5)


def _title(ax):
    return ax.get_title(loc="left")


# -- simulation figures -------------------------------------------------------------------


def _dot_rows(ax):
    """(label, mean, low, high) of each row of a dot-and-interval plot, top to bottom."""
    from matplotlib.container import ErrorbarContainer

    labels = {round(t.get_position()[1]): t.get_text() for t in ax.get_yticklabels()}
    rows = []
    for c in ax.containers:
        if isinstance(c, ErrorbarContainer):
            x, y = c.lines[0].get_data()
            (segment,) = c.lines[2][0].get_segments()
            rows.append((labels[round(y[0])], x[0], segment[0][0], segment[1][0], y[0]))
    return [r[:4] for r in sorted(rows, key=lambda r: -r[4])]


def test_cost_per_kill_dots_with_intervals(sim):
    """Dots with interval lines, not bars: on a log axis a bar's length means nothing."""
    from matplotlib.container import BarContainer

    from costx.formatting import measure_label
    from costx.plotting import SimulationPlots

    ax = SimulationPlots(sim).cost_per_kill()
    assert not [c for c in ax.containers if isinstance(c, BarContainer)]
    rows = _dot_rows(ax)
    names = [r[0] for r in rows]
    assert names[-1] == "all effectors" and set(names[:-1]) <= {"sm2", "hvp", "las"}
    summary = sim.summary()
    for name, mean, low, high in rows:
        measure = "cost_per_kill_usd" if name == "all effectors" else f"cost_per_kill_{name}_usd"
        row = summary.loc[measure]
        assert mean == pytest.approx(row["mean"])
        assert (low, high) == pytest.approx((row["ci95_low"], row["ci95_high"]))
    # $10 laser shots next to $2M interceptors: more than two decades, log scale
    assert ax.get_xscale() == "log"
    assert ax.get_xlabel() == measure_label("cost_per_kill_usd", "USD per kill", 2025) + (
        ", log scale"
    )
    assert ax.xaxis.get_major_formatter()(2e6, 0) == "$2M"
    assert "mixed" in _title(ax) and "500 trials" in _title(ax) and "2025 dollars" in _title(ax)
    assert ax.figure.get_figwidth() == pytest.approx(7.0)


def test_cost_per_kill_linear_when_values_are_close(mpl):
    from costx.plotting import SimulationPlots

    data = scenario(
        [threat("drone", 6)],
        [interceptor("a", pk={"drone": 0.7}), interceptor("b", pk={"drone": 0.6})],
        name="close",
    )
    ax = SimulationPlots(costx.simulate(data, trials=300, seed=1)).cost_per_kill()
    assert ax.get_xscale() == "linear"
    assert ax.get_xlim()[0] < 0 < min(r[2] for r in _dot_rows(ax))  # from 0, markers whole


def test_interval_ends_beyond_the_axes_end_in_arrows(mpl):
    """An interval from 0 on a log axis, or without an upper bound, is drawn to the
    edge of the axes with an arrow there, not cut short at the dot."""
    from costx.plotting import _dots, new_figure

    ax = new_figure().axes[0]
    rows = [(10.0, 0.0, math.inf), (1e6, 9e5, 1.1e6)]
    _dots(ax, ["a", "b"], rows, "USD", ["C0", "C1"], log=True)
    arrows = sorted(line.get_marker() for line in ax.lines if line.get_marker() in "<>")
    assert arrows == ["<", ">"]
    _, _, low, high = _dot_rows(ax)[0]
    assert (low, high) == pytest.approx(ax.get_xlim())


def test_defense_cost_by_effector_against_the_raid(sim):
    from costx.plotting import SimulationPlots

    ax = SimulationPlots(sim).defense_cost()
    summary = sim.summary()
    rows = dict((r[0], r[1:]) for r in _dot_rows(ax))
    assert rows["all effectors"][0] == pytest.approx(summary.loc["defense_cost_usd", "mean"])
    assert rows["sm2"][0] == pytest.approx(summary.loc["cost_sm2_usd", "mean"])
    attack = sim.scenario.attack_cost_usd
    assert any(line.get_xdata()[0] == attack for line in ax.lines)  # the raid, dashed
    assert ax.get_xscale() == "linear" and ax.get_xlabel() == "defense cost (2025 USD)"


def _segments(ax, y):
    """(left, width, label) of the horizontal bar segments at height y."""
    from matplotlib.container import BarContainer

    return [
        (p.get_x(), p.get_width(), c.get_label())
        for c in ax.containers
        if isinstance(c, BarContainer)
        for p in c.patches
        if abs(p.get_y() + p.get_height() / 2 - y) < 1e-9
    ]


def _has_total_interval(ax) -> bool:
    from matplotlib.container import ErrorbarContainer

    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    return len(bars) == 1 and "interval of the total" in " ".join(_title(ax).split())


def test_total_cost_stacks_expended_and_damage_beside_the_raid(mpl):
    from costx.plotting import SimulationPlots

    result = costx.simulate(_base_campaign(), trials=300, seed=2)
    ax = SimulationPlots(result).total_cost()
    summary = result.summary()
    defender = _segments(ax, 1)
    assert [s[2].split(":")[0] for s in defender] == [
        "shots expended",
        "damage (assets lost to leakers)",
    ]
    assert defender[0][1] == pytest.approx(summary.loc["defense_cost_usd", "mean"])
    assert defender[1][0] == pytest.approx(defender[0][1])  # stacked
    assert defender[1][1] == pytest.approx(summary.loc["damage_usd", "mean"])
    (attacker,) = _segments(ax, 0)
    assert attacker[1] == pytest.approx(result.scenario.attack_cost_usd)
    assert ax.get_xlim()[0] == 0.0  # bars from 0: lengths compare
    assert _has_total_interval(ax)  # total_cost_usd is the sum


def test_total_cost_uses_capital_when_the_scenario_charges_it(mpl):
    """With capital charged the figure stacks it between shots and damage, and the
    interval of the total comes from the measure whose mean is the sum."""
    from costx.plotting import SimulationPlots

    data = mixed()
    data["effectors"][0]["acquisition_usd"] = 50_000_000.0
    data["costing"] = {"raids_per_year": 1.0}
    result = costx.simulate(data, trials=300, seed=3)
    summary = result.summary()
    assert summary.loc["capital_cost_usd", "mean"] > 0
    ax = SimulationPlots(result).total_cost()
    defender = _segments(ax, 1)
    labels = [s[2].split(":")[0] for s in defender]
    assert labels == ["shots expended", "capital (amortized acquisition)"]
    assert defender[1][0] == pytest.approx(defender[0][1])  # stacked on the shots
    assert defender[1][1] == pytest.approx(summary.loc["capital_cost_usd", "mean"])
    assert _has_total_interval(ax)


def test_leakers_by_threat_type(sim):
    from costx.plotting import SimulationPlots

    ax = SimulationPlots(sim).leakers_by_threat()
    rows = _dot_rows(ax)
    assert [r[0] for r in rows] == [
        "drone (of 12)",
        "cruise (of 4)",
        "ballistic (of 2)",
        "all threats (of 18)",
    ]
    summary = sim.summary()
    for (_, mean, low, high), measure in zip(
        rows, ["leaked_drone", "leaked_cruise", "leaked_ballistic", "leakers"], strict=True
    ):
        assert (mean, low, high) == pytest.approx(
            tuple(summary.loc[measure, ["mean", "ci95_low", "ci95_high"]])
        )
    assert ax.get_xlim()[0] < 0  # starts at 0 with room for a marker there


def test_leakers_distribution(sim):
    from costx.plotting import SimulationPlots

    ax = SimulationPlots(sim).leakers()
    heights = [p.get_height() for p in ax.patches]
    assert sum(heights) == pytest.approx(1.0)
    # each bar split by threat type: the ballistic leakers' share over all bars is their
    # share of all leakers
    trials = sim.trials
    (bars,) = [c for c in ax.containers if c.get_label() == "ballistic"]
    ballistic = sum(p.get_height() * (p.get_x() + p.get_width() / 2) for p in bars.patches)
    assert ballistic == pytest.approx(trials["leaked_ballistic"].mean(), rel=1e-9, abs=1e-12)
    p_any = sim.summary().loc["p_any_leak", "mean"]
    assert f"P(any leak) = {100 * p_any:.1f} %" in _title(ax)
    assert ax.get_ylabel() == "share of trials"
    assert ax.get_ylim()[0] == 0.0 and ax.get_ylim()[1] >= max(heights)
    assert "leakers per trial" in ax.get_xlabel()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "no leaker" in legend and "ballistic" in legend


def test_leakers_needs_trials(mpl):
    from costx.plotting import SimulationPlots

    result = costx.simulate(_small(), trials=200, seed=1, keep_trials=False)
    with pytest.raises(InputError, match=r"per-trial table.*keep_trials=True"):
        SimulationPlots(result).leakers()


def test_campaign_magazines_and_cost(campaign):
    from costx.plotting import SimulationPlots

    ax_mag, ax_cost = SimulationPlots(campaign).campaign()
    assert ax_mag.figure is ax_cost.figure
    # one median line and one 5-95 % band per kinetic effector (the laser has none)
    assert [line.get_label() for line in ax_mag.lines] == ["sm2 (of 16)"]
    assert len(ax_mag.collections) == 1
    x, y = ax_mag.lines[0].get_data()
    assert list(x) == [0, 1, 2, 3] and y[0] == 1.0  # a share of the magazine: full
    assert all(a >= b for a, b in itertools.pairwise(y))  # no resupply: never grows
    assert ax_mag.get_ylabel() == "rounds left (% of each magazine)"
    assert "USD" in ax_cost.get_ylabel() and "salvo" in ax_cost.get_xlabel()
    assert "12 hours" in ax_cost.get_xlabel()
    cost = [line for line in ax_cost.lines if line.get_label() == "defense cost"]
    assert len(cost) == 1
    assert cost[0].get_ydata()[0] == 0
    assert "Campaign of 3 salvos" in _title(ax_mag)
    assert ax_cost.get_ylabel() == "cumulative cost (2025 USD)"


def test_campaign_takes_a_pair_of_axes(campaign):
    from costx.plotting import SimulationPlots, new_figure

    fig = new_figure(nrows=2)
    out = SimulationPlots(campaign).campaign(ax=fig.axes)
    assert list(out) == fig.axes
    with pytest.raises(InputError, match="pair of axes"):
        SimulationPlots(campaign).campaign(ax=fig.axes[:1])


def test_campaign_needs_a_campaign_and_salvos(sim, mpl):
    from costx.plotting import SimulationPlots

    with pytest.raises(InputError, match="campaign scenario"):
        SimulationPlots(sim).campaign()
    summary_only = costx.simulate(_campaign(), trials=100, seed=1, keep_trials=False)
    with pytest.raises(InputError, match="per-salvo table"):
        SimulationPlots(summary_only).campaign()


def test_draws_into_a_given_axes(sim):
    from costx.plotting import SimulationPlots, new_figure

    fig = new_figure()
    ax = SimulationPlots(sim).cost_per_kill(ax=fig.axes[0])
    assert ax is fig.axes[0]


def test_same_result_gives_identical_png_bytes(sim):
    from costx.plotting import SimulationPlots

    def png() -> bytes:
        buffer = io.BytesIO()
        fig = SimulationPlots(sim).cost_per_kill().figure
        fig.savefig(buffer, format="png", metadata={"Software": None})
        return buffer.getvalue()

    first = png()
    assert first.startswith(b"\x89PNG") and first == png()


REFERENCE = Path(__file__).parent / "reference_images"
# The matplotlib the reference images were drawn with: text rendering may change between
# minor versions, so the comparison runs only where it is stable (the same one).
REFERENCE_MATPLOTLIB = "3.11"


def test_cost_per_kill_matches_the_reference_image(sim, tmp_path):
    """The figure against a stored rendering (matplotlib's compare_images, RMS tolerance
    0.5 on 0-255: the same matplotlib draws identical pixels, and changing one letter of
    one label gives 1.4). Set COSTX_UPDATE_IMAGES=1 to redraw the reference after a
    deliberate change, and look at it before committing."""
    import matplotlib
    from matplotlib.testing.compare import compare_images

    from costx.plotting import SimulationPlots, save_figure

    reference = REFERENCE / "cost_per_kill.png"
    actual = save_figure(SimulationPlots(sim).cost_per_kill().figure,
                         tmp_path / "cost_per_kill.png", "png")  # fmt: skip
    if os.environ.get("COSTX_UPDATE_IMAGES"):
        REFERENCE.mkdir(exist_ok=True)
        reference.write_bytes(actual.read_bytes())
    if ".".join(matplotlib.__version__.split(".")[:2]) != REFERENCE_MATPLOTLIB:
        pytest.skip(f"reference drawn with matplotlib {REFERENCE_MATPLOTLIB}")
    assert compare_images(str(reference), str(actual), tol=0.5) is None


# -- every figure ---------------------------------------------------------------------------


def _every_figure(*results):
    from costx.plotting import figures

    for result in results:
        for stem, fig in figures(result):
            yield result, stem, fig


def test_every_figure_states_the_dollar_year_and_the_name(mpl, campaign, swept, base_sweep):
    """In the SVG itself (text kept as text), so a figure cut out of the report still
    says in which dollars its costs are and what it shows."""
    from costx.report import inline_svg

    data = mixed()
    data["scenario"]["dollar_year"] = 2019
    old_dollars = costx.simulate(data, trials=200, seed=1)
    seen = 0
    for result, stem, fig in _every_figure(old_dollars, campaign, swept, base_sweep):
        svg = inline_svg(fig, "f")
        year = result.scenario.scenario.dollar_year
        assert f"constant {year} dollars" in svg, stem
        assert result.scenario.name in svg, stem
        seen += 1
    assert seen >= 25


RAW = re.compile(r"\b(effectors|threats|base|campaign)\.[a-z0-9_]+|_usd\b|[a-z]+_[a-z_]+\b")


def test_axis_labels_come_from_the_table(mpl, sim, campaign, swept, base_sweep):
    """No raw measure names or dotted paths on any axis or legend title; every label
    is what costx.formatting makes of it, and no unit is given twice."""
    from costx.formatting import measure_label, path_label
    from costx.plotting import SweepPlots

    for _, stem, fig in _every_figure(sim, campaign, swept, base_sweep):
        for ax in fig.axes:
            legend = ax.get_legend()
            texts = [ax.get_xlabel(), ax.get_ylabel()]
            texts += [legend.get_title().get_text()] if legend else []
            for text in filter(None, texts):
                bare = re.sub(r"\((of|salvos)[^)]*\)", "", text)  # "(of 18 launched)"
                assert not RAW.search(bare.replace("pac3_mse", "")), (stem, text)
                name, _, unit = text.partition(" (")
                assert not unit or unit.split(")")[0] not in name, (stem, text)
    plots = SweepPlots(base_sweep)
    ax = plots.measure("damage_usd", x="base.repair_teams")
    assert ax.get_ylabel() == measure_label("damage_usd", "USD", 2025)
    assert ax.get_xlabel() == path_label("base.repair_teams") == "repair teams"
    assert ax.get_legend().get_title().get_text() == "jet: sheltered"


def test_probability_axes_hide_nothing(swept, base_sweep):
    """0 to 100 % once a value passes one half, never cut at the largest value seen."""
    from costx.plotting import SweepPlots

    for result in (swept, base_sweep):
        for x in SweepPlots(result).grid_columns:
            ax = SweepPlots(result).p_any_leak(x=x, hue=False)
            low, high = ax.get_ylim()
            values = result.table[["p_any_leak", "p_any_leak_ci95_high"]].to_numpy()
            assert low < 0.0 <= values.min() and values.max() <= high
            if values.max() > 0.5:
                assert high >= 1.0


# -- sweep figures --------------------------------------------------------------------------


def test_sweep_measure_lines_bands_and_legend(swept):
    from costx.plotting import SweepPlots

    ax = SweepPlots(swept).cost_per_kill()
    # x: the first numeric grid variable; one line (and band) per value of the other
    assert ax.get_xlabel() == "sm2: magazine (rounds)"
    assert len(ax.lines) == 2 and len(ax.collections) == 2
    legend = ax.get_legend()
    assert legend.get_title().get_text() == "las: beam directors"
    assert [t.get_text() for t in legend.get_texts()] == ["0", "1"]
    table = swept.table
    rows = table[table["effectors.las.units"] == 0].sort_values("effectors.sm2.rounds")
    x, y = ax.lines[0].get_data()
    assert list(x) == [4.0, 8.0]
    assert list(y) == pytest.approx(list(rows["cost_per_kill_usd"]))
    assert ax.get_ylabel() == "cost per kill (2025 USD per kill)"
    assert "plotme: 4 points x 500 trials" in _title(ax)


def test_sweep_p_any_leak_with_hue_and_fixed_variables(swept):
    from costx.plotting import SweepPlots

    plots = SweepPlots(swept)
    ax = plots.p_any_leak(x="effectors.las.units", hue=False)
    assert len(ax.lines) == 1
    assert "P(any leak)" in ax.get_ylabel()
    # the other grid variable is fixed at its first value, and the title says so
    assert "sm2:\u00a0magazine\u00a0(rounds)\u00a0=\u00a04" in _title(ax)
    x, _ = ax.lines[0].get_data()
    assert list(x) == [0.0, 1.0]
    ax = plots.p_any_leak(x="effectors.las.units")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["4", "8"]


def test_sweep_heatmap_cells_and_colorbar(swept):
    from costx.plotting import SweepPlots

    ax = SweepPlots(swept).heatmap("effectors.sm2.rounds", "effectors.las.units")
    from matplotlib.collections import QuadMesh

    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    assert mesh.get_array().shape == (2, 2)
    assert len(ax.figure.axes) == 2  # the heatmap and its colorbar
    # no base: the defense-only cost-exchange ratio
    assert "defense cost / attack cost" in ax.figure.axes[1].get_ylabel()
    assert len(ax.texts) == 4  # every cell annotated
    table = swept.table
    value = table.loc[0, "cost_exchange_defense_over_attack"]
    assert any(t.get_text().startswith(f"{value:.3g}") for t in ax.texts)
    assert ax.get_xlabel() == "sm2: magazine (rounds)"
    assert ax.get_ylabel() == "las: beam directors"


def test_sweep_heatmap_over_base_variables(base_sweep):
    from costx.plotting import SweepPlots

    plots = SweepPlots(base_sweep)
    assert plots.heatmap_columns() == ("base.assets.jet.sheltered", "base.repair_teams")
    ax = plots.heatmap()
    assert "(expended + capital + damage) / attack cost" in _title(ax)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["no", "yes"]
    ax = plots.measure("runway_closed_h")
    assert ax.get_ylabel() == "runway closure (hours)"
    assert ax.get_xlabel() == "repair teams"
    # a boolean x is categorical: points with interval bars, one set per hue value
    ax = plots.measure("damage_usd", x="base.assets.jet.sheltered")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["no", "yes"]
    assert len(ax.containers) == 2 and ax.collections  # two ErrorbarContainers
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["1", "3"]


def test_heatmaps_choose_the_variables_that_move_the_measure(mpl, tmp_path):
    """Repair teams change runway closure but never the dollars (damage is to aircraft);
    sheltering changes the dollars but never the runway: each heatmap shows the two base
    variables that move its measure, and the trade heatmap pits the interceptor magazine
    against the most effective passive defense."""
    from costx.plotting import SweepPlots, plot_all

    grid = {
        "base.assets.jet.sheltered": [False, True],
        "base.repair_teams": [1, 3],
        "base.dispersal_sites": [1, 2],
        "effectors.sm2.rounds": [4, 16],
    }
    data = _base_campaign()
    data["effectors"] = data["effectors"][:1]  # the interceptor alone: some drones leak
    result = costx.sweep(data, grid, trials=400, seed=3)
    plots = SweepPlots(result)
    cer = "cost_exchange_total_over_attack"
    assert plots.effect("base.repair_teams", cer) == 0.0  # common random numbers: exactly
    assert plots.effect("base.assets.jet.sheltered", "runway_closed_h") == 0.0
    assert plots.effect("base.assets.jet.sheltered", cer) > 0
    assert plots.heatmap_columns(cer) == ("base.assets.jet.sheltered", "base.dispersal_sites")
    assert plots.heatmap_columns("runway_closed_h") == (
        "base.repair_teams",
        "base.dispersal_sites",
    )
    assert plots.trade_columns(cer) == ("effectors.sm2.rounds", "base.assets.jet.sheltered")
    names = {p.stem for p in plot_all(result, tmp_path, formats=["png"])}
    for stem in (
        "heatmap_cost_exchange_total_base_assets_jet_sheltered_by_base_dispersal_sites",
        "heatmap_cost_exchange_total_effectors_sm2_rounds_by_base_assets_jet_sheltered",
        "heatmap_runway_closed_base_repair_teams_by_base_dispersal_sites",
    ):
        assert f"plotbase_{stem}" in names


def test_figures_of_a_sweep_over_a_table_valued_variable(mpl, tmp_path):
    """A grid over pk (a table per point) has unhashable values: every figure still builds,
    and the trade heatmap is not drawn twice over the same two variables."""
    from costx.plotting import plot_all

    grid = {
        "effectors.sm2.rounds": [4, 16],
        "effectors.sm2.pk": [{"drone": 0.5}, {"drone": 0.9}],
        "base.assets.jet.sheltered": [False, True],
    }
    data = _base_campaign()
    data["effectors"] = data["effectors"][:1]
    result = costx.sweep(data, grid, trials=200, seed=1)
    stems = sorted(p.stem for p in plot_all(result, tmp_path, formats=["png"]))
    heatmaps = [s for s in stems if "heatmap" in s]
    assert len(heatmaps) == len({frozenset(s.split("_by_")) for s in heatmaps}) >= 1


def test_sweep_bad_names_are_explained(swept):
    from costx.plotting import SweepPlots

    plots = SweepPlots(swept)
    with pytest.raises(InputError, match=r"no measure 'nope'.*leakers"):
        plots.measure("nope")
    with pytest.raises(InputError, match=r"not a grid variable.*effectors\.sm2\.rounds"):
        plots.cost_per_kill(x="effectors.sm2.channels")
    with pytest.raises(InputError, match="same grid variable"):
        plots.heatmap("effectors.sm2.rounds", "effectors.sm2.rounds")


# -- plot_all and load_results ------------------------------------------------------------


def test_plot_all_writes_png_and_svg(sim, tmp_path):
    from costx.plotting import plot_all

    paths = plot_all(sim, tmp_path / "figs")
    names = sorted(p.name for p in paths)
    stems = ("cost_per_kill", "defense_cost", "total_cost", "leakers_by_threat", "leakers")
    assert names == sorted(f"mixed_{stem}.{fmt}" for stem in stems for fmt in ("png", "svg"))
    for p in paths:
        data = p.read_bytes()
        assert data.startswith(b"\x89PNG") if p.suffix == ".png" else b"<svg" in data


def test_plot_all_writes_every_figure_or_none(sim, tmp_path, monkeypatch):
    """A figure path that is a folder or a symbolic link is refused (a link was followed,
    overwriting its target) and no figure is written: the others are renamed into place
    only once all are made; a folder plot_all made is removed again; a folder it cannot
    make is one line, not a traceback."""
    from costx.plotting import plot_all

    taken = tmp_path / "taken"
    (taken / "mixed_leakers.png").mkdir(parents=True)
    with pytest.raises(InputError, match=r"mixed_leakers\.png: exists and is a folder"):
        plot_all(sim, taken)
    assert [p.name for p in taken.iterdir()] == ["mixed_leakers.png"]  # nothing else, no temp
    linked = tmp_path / "linked"
    linked.mkdir()
    target = tmp_path / "target.txt"
    target.write_text("keep me")
    (linked / "mixed_total_cost.svg").symlink_to(target)
    with pytest.raises(InputError, match=r"mixed_total_cost\.svg: exists and is a symbolic link"):
        plot_all(sim, linked)
    assert target.read_text() == "keep me" and len(list(linked.iterdir())) == 1
    regular = tmp_path / "file.txt"
    regular.write_text("")
    with pytest.raises(InputError, match="cannot make the folder"):
        plot_all(sim, regular / "sub")
    made = tmp_path / "new" / "deeper"
    real = costx.plotting._render_to
    calls = []

    def fail_late(fig, fh, fmt, salt):  # the sixth figure file fails
        calls.append(salt)
        if len(calls) == 6:
            raise RuntimeError("drawing failed")
        real(fig, fh, fmt, salt)

    monkeypatch.setattr(costx.plotting, "_render_to", fail_late)
    with pytest.raises(RuntimeError, match="drawing failed"):
        plot_all(sim, made)
    assert not (tmp_path / "new").exists()  # five figures made, none kept, folders removed


def test_plot_all_campaign_and_sweeps(campaign, swept, base_sweep, tmp_path):
    from costx.plotting import plot_all

    names = {p.name for p in plot_all(campaign, tmp_path / "c", formats=("png",))}
    assert "plotcampaign_campaign.png" in names
    names = {p.name for p in plot_all(swept, tmp_path / "s", formats=["svg"])}
    for x in ("effectors_sm2_rounds", "effectors_las_units"):
        assert f"plotme_cost_per_kill_vs_{x}.svg" in names
        assert f"plotme_p_any_leak_vs_{x}.svg" in names
    assert any(n.startswith("plotme_heatmap_cost_exchange_defense") for n in names)
    names = {p.name for p in plot_all(base_sweep, tmp_path / "b", formats=["png"])}
    assert (
        "plotbase_heatmap_cost_exchange_total_base_assets_jet_sheltered_by_base_repair_teams.png"
        in names
    )
    assert "plotbase_runway_closed_vs_base_repair_teams.png" in names
    with pytest.raises(InputError, match="formats"):
        plot_all(swept, tmp_path / "x", formats=("gif",))


def test_load_results_reads_files_and_sweep_folders(sim, swept, tmp_path):
    from costx.reading import load_results

    sim.to_parquet(tmp_path / "r.parquet")
    back = load_results(tmp_path / "r.parquet")
    assert back.n_trials == sim.n_trials and back.has_trials
    swept.to_parquet(tmp_path / "sweep")
    again = load_results(tmp_path / "sweep")
    assert again.points == swept.points
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="not a costx sweep folder"):
        load_results(tmp_path / "empty")
    with pytest.raises(InputError, match="no such file or folder"):
        load_results(tmp_path / "missing.parquet")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(InputError, match="not a Parquet file"):
        load_results(tmp_path / "notes.txt")


# -- the report -----------------------------------------------------------------------------


class _Checker(HTMLParser):
    """Collects ids, asset references and unbalanced tags."""

    VOID = frozenset({"meta", "br", "img", "link", "input", "hr", "col", "source", "wbr", "area"})

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.ids: set[str] = set()
        self.problems: list[str] = []
        self.assets: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            if attrs["id"] in self.ids:
                self.problems.append(f"duplicate id {attrs['id']}")
            self.ids.add(attrs["id"])
        for key in ("src", "href", "xlink:href"):
            if key in attrs and tag != "a":
                self.assets.append((tag, attrs[key]))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        if "id" in dict(attrs):
            self.ids.add(dict(attrs)["id"])
        for key in ("src", "href", "xlink:href"):
            if key in dict(attrs):
                self.assets.append((tag, dict(attrs)[key]))

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else ''}>")
            return
        self.stack.pop()


def _check_html(text: str) -> _Checker:
    checker = _Checker()
    checker.feed(text)
    checker.close()
    assert not checker.problems, checker.problems[:5]
    assert checker.stack == [], checker.stack
    return checker


def _assert_self_contained(text: str, checker: _Checker) -> None:
    assert not re.search(r"<(script|link|img|iframe)\b", text, re.IGNORECASE)
    assert not re.search(r"""\bsrc\s*=\s*["']?(https?:)?//""", text, re.IGNORECASE)
    assert not re.search(r"""<(link|script)[^>]*href\s*=\s*["']?https?:""", text, re.I)
    assert not re.search(r"url\(\s*['\"]?https?:", text, re.IGNORECASE)
    # every asset reference is a fragment of the page itself or embedded data
    for tag, ref in checker.assets:
        if ref.startswith("data:"):  # embedded (matplotlib's SVG of an image)
            continue
        assert ref.startswith("#"), (tag, ref)
        assert ref[1:] in checker.ids, (tag, ref)


def test_report_of_a_campaign(campaign, tmp_path):
    from costx.report import NO_PROVENANCE, SECTIONS, write_report

    path = write_report(campaign, tmp_path / "report.html")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    checker = _check_html(text)
    for section in SECTIONS:
        assert section in checker.ids
        assert f'<section id="{section}">' in text
    _assert_self_contained(text, checker)
    # six figures (cost per kill, defense cost, total cost, leakers by threat type,
    # leakers, campaign) inline as SVG
    assert text.count("<svg") == 6
    # escaped text: the description's <tag> never becomes markup
    assert "&lt;tag&gt;" in text and "<tag>" not in text
    assert "name = &quot;plotcampaign&quot;" in text  # the scenario TOML, escaped
    assert "cost_per_kill_usd" in text and "95 % interval" in text
    assert f"constant {campaign.scenario.scenario.dollar_year} dollars" in text
    if not getattr(campaign.scenario, "provenance", None) or all(
        r.get("from", "scenario") == "scenario" for r in campaign.scenario.provenance.values()
    ):
        assert NO_PROVENANCE in text
    # fields left at their model default are listed
    assert "effectors.sm2.salvo_size" in text
    assert list(tmp_path.iterdir()) == [path]  # written atomically: no temporary left


def test_report_of_a_sweep(swept, tmp_path):
    from costx.report import SECTIONS, write_report

    text = write_report(swept, tmp_path / "sweep.html").read_text(encoding="utf-8")
    checker = _check_html(text)
    assert set(SECTIONS) <= checker.ids
    _assert_self_contained(text, checker)
    assert "effectors.sm2.rounds" in text and "p_any_leak" in text
    # 3 measures (cost per kill, P(any leak), mean leakers) x 2 variables, defense cost,
    # total cost and the heatmap
    assert text.count("<svg") == 9


def _section_text(text: str, section: str) -> str:
    body = text[text.index(f'<section id="{section}">') :]
    return body[: body.index("</section>")]


def test_report_puts_the_headline_first_and_folds_the_scenario(tmp_path, mpl):
    from costx import formatting
    from costx.report import SECTIONS, write_report

    result = costx.simulate(_base_campaign(), trials=300, seed=2)
    text = write_report(result, tmp_path / "r.html").read_text(encoding="utf-8")
    starts = [text.index(f'<section id="{s}">') for s in SECTIONS]
    assert starts == sorted(starts) and SECTIONS[:2] == ("headline", "summary")
    headline = _section_text(text, "headline")
    summary = result.summary()
    headline_measures = (
        "leakers",
        "p_any_leak",
        "defense_cost_usd",
        "cost_per_kill_usd",
        "cost_exchange_defense_over_attack",
        "damage_usd",
        "total_cost_usd",
    )
    for measure in headline_measures:
        r = summary.loc[measure]
        assert formatting.measure_name(measure) in headline, measure
        assert formatting.with_unit(r["mean"], r["unit"]) in headline, measure
        span = formatting.interval(r["ci95_low"], r["ci95_high"], r["unit"], mean=r["mean"],
                                   std_error=r["std_error"], n=300)  # fmt: skip
        assert f"95 %: {html.escape(span)}" in headline, measure
    scenario_ = _section_text(text, "scenario")
    folded = re.search(r"<details><summary>[^<]*TOML[^<]*</summary><pre>(.*?)</pre></details>",
                       scenario_, re.DOTALL)  # fmt: skip
    assert folded and "name = &quot;plotbase&quot;" in folded.group(1)
    assert text.count("<pre>") == 1  # the TOML nowhere else
    # every table scrolls inside its column instead of spilling out of it
    assert text.count("<table>") == text.count('<div class="scroll"><table>') >= 3
    assert "exact" not in text.lower().replace("exact bound", "")


def test_report_of_a_sweep_has_paired_differences(swept, tmp_path):
    from costx import formatting
    from costx.report import SWEEP_SECTIONS, write_report

    text = write_report(swept, tmp_path / "sweep.html").read_text(encoding="utf-8")
    starts = [text.index(f'<section id="{s}">') for s in SWEEP_SECTIONS]
    assert starts == sorted(starts)
    differences = _section_text(text, "differences")
    compare = swept.compare().set_index(["point", "measure"])
    body = differences[differences.index("<tbody>") :]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)
    assert len(rows) == len(swept.points) - 1  # every point but the baseline
    for i, row in zip(range(1, len(swept.points)), rows, strict=True):
        r = compare.loc[(i, "leakers")]
        diff = formatting.value(r["diff"], "threats", signed=True)
        low = formatting.value(r["ci95_low"], "threats", signed=True)
        assert f"{diff}<br><small>{low} to " in row
        clear = r["ci95_low"] > 0 or r["ci95_high"] < 0
        assert (f"<b>{diff}<br>" in row) == clear
    assert "<b>" in differences  # a magazine twice as deep changes leakers, clearly
    headline = _section_text(text, "headline")
    lows = swept.table["cost_per_kill_usd"]
    assert formatting.usd(lows.min()) in headline and formatting.usd(lows.max()) in headline
    # a range says its unit, as the simulation's cards do ("0.605 threats"; the sweep's
    # cards read "22.5 to 61.6" in the report's screenshot)
    assert formatting.with_unit(swept.table["leakers"].max(), "threats") in headline


def test_report_renders_catalog_provenance(sim, tmp_path, monkeypatch):
    from costx.report import NO_PROVENANCE, write_report
    from costx.scenario import Scenario

    provenance = {
        "effectors[0].cost_per_shot_usd": {
            "from": "catalog",
            "entry": "effectors.sm6",
            "value": 3_900_000.0,
            "sources": ["S2", "S6"],
            "year": 2024,
            "dollar_year": 2024,
            "confidence": "B",
            "note": "contested <b>",
        },
        "effectors[0].pk.drone": {
            "from": "catalog",
            "entry": "effectors.sm6",
            "value": 0.8,
            "assumption": True,
            "rationale": "No official single-shot Pk",
        },
        "threats[0].count": {"from": "scenario"},
    }
    monkeypatch.setattr(Scenario, "provenance", property(lambda self: provenance), raising=False)
    monkeypatch.setattr(
        Scenario,
        "assumptions",
        lambda self: [("effectors[0].pk.drone", 0.8, "No official single-shot Pk")],
        raising=False,
    )
    text = write_report(sim, tmp_path / "r.html").read_text(encoding="utf-8")
    _check_html(text)
    assert NO_PROVENANCE not in text
    assumptions = text[text.index('<section id="assumptions">') :]
    assumptions = assumptions[: assumptions.index("</section>")]
    assert "effectors.sm2.pk.drone" in assumptions  # items named as in sweep grids
    assert "No official single-shot Pk" in assumptions
    sources = text[text.index('<section id="sources">') :]
    assert "effectors.sm2.cost_per_shot_usd" in sources
    assert "3,900,000 USD" in sources and "S2, S6" in sources
    assert "contested &lt;b&gt;" in sources


def test_report_refuses_a_missing_folder(sim, tmp_path):
    from costx.report import write_report

    with pytest.raises(InputError, match="does not exist"):
        write_report(sim, tmp_path / "nowhere" / "r.html")


# -- without matplotlib ---------------------------------------------------------------------


def test_missing_matplotlib_names_the_extra(monkeypatch, tmp_path):
    result = costx.simulate(_small(), trials=50, seed=1)
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    from costx.plotting import SimulationPlots, plot_all
    from costx.report import write_report

    with pytest.raises(InputError, match=re.escape('pip install "costx[plot]"')):
        SimulationPlots(result)
    with pytest.raises(InputError, match=re.escape("costx[plot]")):
        plot_all(result, tmp_path)
    with pytest.raises(InputError, match=re.escape("costx[plot]")):
        write_report(result, tmp_path / "r.html")
    assert not (tmp_path / "r.html").exists()


def test_margin_figure_draws_an_interval_open_above_without_overflow(mpl):
    """A ratio whose interval is open above (an upper bound of inf: the paired added cost
    may be 0 within its interval) was drawn to 1e300, which overflowed the log axis
    ('overflow encountered in exp' under -W error). It is drawn to ten times the largest
    finite value and marked "open above"."""
    import warnings

    result = costx.marginal_exchange(
        mixed(), threat="drone", add=2, offsets={"effectors.sm2.rounds": 4}, trials=200
    )
    highs = result.table[["ratio_per_raid_ci95_high", "ratio_procurement_ci95_high"]]
    assert not np.isfinite(highs.to_numpy(float)).all()  # the case this test is for
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax = result.plot.margin()
        ax.figure.canvas.draw()
    assert any(t.get_text().strip() == "open above" for t in ax.texts)
    assert ax.get_xlim()[1] < 1e6


def test_margin_figure_draws_no_interval_for_an_option_that_cannot_restore(mpl):
    """An option that cannot restore the held measure has no ratio (nan mean and ends);
    drawing open intervals to the axis's end took its nan upper end for an open one and
    drew a whisker from 0 across the figure."""
    from matplotlib.collections import LineCollection

    offsets = {"effectors.sm2.rounds": 12, "effectors.sm2.channels": 1}
    result = costx.marginal_exchange(
        mixed(), threat="drone", add=6, offsets=offsets, max_steps=1, trials=200
    )
    assert not result.table["restored"].any()  # the case this test is for
    ax = result.plot.margin()
    segments = [
        s for c in ax.collections if isinstance(c, LineCollection) for s in c.get_segments()
    ]
    widths = [np.ptp(s[:, 0]) for s in segments]
    assert segments and not any(np.isfinite(w) and w > 0 for w in widths)  # no whisker
    assert not [t for t in ax.texts if t.get_text().strip() == "open above"]


def test_title_false_leaves_panels_untitled_but_the_dollar_year_on_the_axes(mpl, swept):
    """From a Python walkthrough: panels drawn side by side (ax=) had two-line titles that
    overlapped their neighbours'. title=False leaves the title out, title="..." sets one;
    every panel that shows money still names the dollar year on an axis or colorbar."""
    import matplotlib.figure
    from matplotlib.text import Text

    from costx.plotting import SimulationPlots, SweepPlots

    data = mixed()
    data["scenario"]["dollar_year"] = 2019
    sim = costx.simulate(data, trials=200, seed=1, keep_trials=True)
    s, w = SimulationPlots(sim), SweepPlots(swept)
    x = w.grid_columns[0]
    panels = {
        "cost_per_kill": s.cost_per_kill, "defense_cost": s.defense_cost,
        "total_cost": s.total_cost, "leakers_by_threat": s.leakers_by_threat, "leakers": s.leakers,
        "sweep_cpk": lambda **k: w.measure("cost_per_kill_usd", x=x, **k),
        "sweep_defense": lambda **k: w.defense_cost(x=x, **k),
    }  # fmt: skip
    for name, draw in panels.items():
        fig = matplotlib.figure.Figure()
        ax = draw(ax=fig.add_subplot(), title=False)
        assert all(ax.get_title(loc=loc) == "" for loc in ("left", "center", "right")), name
        texts = [t.get_text() for t in fig.findobj(Text)]
        if any("$" in t or "USD" in t for t in texts):
            year = 2019 if name in ("cost_per_kill", "defense_cost", "total_cost") else (
                swept.dollar_year)  # fmt: skip
            assert any(str(year) in t for t in texts), name
        assert draw(title="My panel").get_title(loc="left") == "My panel"
    with pytest.raises(costx.errors.InputError, match="title: True, False or the title's text"):
        s.cost_per_kill(title=1)
