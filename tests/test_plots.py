"""Figures and reports: every figure builds with its artists, plot_all writes files, the
HTML report is self-contained, and missing inputs or a missing matplotlib are explained."""

import io
import itertools
import os
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

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


def test_cost_per_kill_bars_with_interval_error_bars(sim):
    from matplotlib.container import BarContainer

    from costx.plotting import SimulationPlots

    ax = SimulationPlots(sim).cost_per_kill()
    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert len(bars) == 1
    # one bar per effector with kills, plus "all effectors"
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[-1] == "all effectors"
    assert set(labels[:-1]) <= {"sm2", "hvp", "las"}
    assert len(bars[0].patches) == len(labels)
    assert bars[0].errorbar is not None  # 95 % interval error bars
    summary = sim.summary()
    heights = [p.get_height() for p in bars[0].patches]
    assert heights[-1] == pytest.approx(summary.loc["cost_per_kill_usd", "mean"])
    assert "USD" in ax.get_ylabel()
    assert "mixed" in _title(ax) and "500 trials" in _title(ax)
    # $10 laser shots next to $2M interceptors: more than two decades, log scale
    assert ax.get_yscale() == "log"
    assert ax.yaxis.get_major_formatter()(2e6, 0) == "$2M"
    assert ax.figure.get_figwidth() == pytest.approx(7.0)


def test_cost_per_kill_linear_when_values_are_close(mpl):
    from costx.plotting import SimulationPlots

    data = scenario(
        [threat("drone", 6)],
        [interceptor("a", pk={"drone": 0.7}), interceptor("b", pk={"drone": 0.6})],
        name="close",
    )
    ax = SimulationPlots(costx.simulate(data, trials=300, seed=1)).cost_per_kill()
    assert ax.get_yscale() == "linear"


def test_leakers_distribution(sim):
    from costx.plotting import SimulationPlots

    ax = SimulationPlots(sim).leakers()
    heights = [p.get_height() for p in ax.patches]
    assert sum(heights) == pytest.approx(1.0)
    assert len(ax.patches) == sim.trials["leaked"].nunique()
    p_any = sim.summary().loc["p_any_leak", "mean"]
    assert f"P(any leak) = {100 * p_any:.1f} %" in _title(ax)
    assert ax.get_ylabel() == "probability"
    assert "leakers per trial" in ax.get_xlabel()
    assert len(ax.get_legend().get_texts()) == 2  # bars and the mean line


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
    assert list(x) == [0, 1, 2, 3] and y[0] == 16
    assert all(a >= b for a, b in itertools.pairwise(y))  # no resupply: never grows
    assert "rounds" in ax_mag.get_ylabel()
    assert "USD" in ax_cost.get_ylabel() and "salvo" in ax_cost.get_xlabel()
    assert "12 hours" in ax_cost.get_xlabel()
    cost = [line for line in ax_cost.lines if line.get_label() == "defense cost"]
    assert len(cost) == 1
    assert cost[0].get_ydata()[0] == 0
    assert "Campaign of 3 salvos" in _title(ax_mag)
    assert "<tag>" in _title(ax_mag)


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


# -- sweep figures --------------------------------------------------------------------------


def test_sweep_measure_lines_bands_and_legend(swept):
    from costx.plotting import SweepPlots

    ax = SweepPlots(swept).cost_per_kill()
    # x: the first numeric grid variable; one line (and band) per value of the other
    assert ax.get_xlabel() == "effectors.sm2.rounds (rounds)"
    assert len(ax.lines) == 2 and len(ax.collections) == 2
    legend = ax.get_legend()
    assert legend.get_title().get_text() == "effectors.las.units (units)"
    assert [t.get_text() for t in legend.get_texts()] == ["0", "1"]
    table = swept.table
    rows = table[table["effectors.las.units"] == 0].sort_values("effectors.sm2.rounds")
    x, y = ax.lines[0].get_data()
    assert list(x) == [4.0, 8.0]
    assert list(y) == pytest.approx(list(rows["cost_per_kill_usd"]))
    assert ax.get_ylabel() == "cost per kill (USD per kill)"
    assert "sweep: 4 points x 500 trials" in _title(ax)


def test_sweep_p_any_leak_with_hue_and_fixed_variables(swept):
    from costx.plotting import SweepPlots

    plots = SweepPlots(swept)
    ax = plots.p_any_leak(x="effectors.las.units", hue=False)
    assert len(ax.lines) == 1
    assert "P(any leak)" in ax.get_ylabel()
    # the other grid variable is fixed at its first value, and the title says so
    assert "effectors.sm2.rounds\u00a0=\u00a04" in _title(ax)
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
    assert any(t.get_text().startswith(f"{value:,.2f}") for t in ax.texts)
    assert ax.get_xlabel().startswith("effectors.sm2.rounds")
    assert ax.get_ylabel().startswith("effectors.las.units")


def test_sweep_heatmap_over_base_variables(base_sweep):
    from costx.plotting import SweepPlots

    plots = SweepPlots(base_sweep)
    assert plots.heatmap_columns() == ("base.assets.jet.sheltered", "base.repair_teams")
    ax = plots.heatmap()
    assert "(expended + capital + damage) / attack cost" in _title(ax)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["False", "True"]
    ax = plots.measure("runway_closed_h")
    assert ax.get_ylabel() == "runway closure (hours)"
    assert ax.get_xlabel() == "base.repair_teams (teams)"
    # a boolean x is categorical: points with interval bars, one set per hue value
    ax = plots.measure("damage_usd", x="base.assets.jet.sheltered")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["False", "True"]
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
    assert names == sorted(
        f"mixed_{stem}.{fmt}" for stem in ("cost_per_kill", "leakers") for fmt in ("png", "svg")
    )
    for p in paths:
        data = p.read_bytes()
        assert data.startswith(b"\x89PNG") if p.suffix == ".png" else b"<svg" in data


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
    from costx.plotting import load_results

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
    # three figures (cost per kill, leakers, campaign) inline as SVG
    assert text.count("<svg") == 3
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
    assert text.count("<svg") == 5  # 2 measures x 2 variables, and the heatmap


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
