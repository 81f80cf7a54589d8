"""Honest costs: capital charged per raid, value at risk on a ship, p_hit before damage.

References: the capital recovery factor against its definition (an annuity of L payments
that repays 1 at rate r) and the textbook formula; exact bookkeeping of every capital
item; bit-for-bit equality of everything expended with and without capital; the damage
kernel's outputs recorded before p_hit existed; closed forms for p_hit and the ship.
"""

from __future__ import annotations

import hashlib
import math
import warnings

import numpy as np
import pytest
import tomli_w
from scenarios import interceptor, laser, scenario, threat

import costx
from costx import bundled, formatting
from costx.catalog import load_catalog
from costx.cli import main
from costx.costing import capital_items, capital_recovery_factor, cost_breakdown
from costx.errors import ScenarioError
from costx.io import read_metadata

SE5 = 5.0  # tolerance in standard errors for fixed-seed Monte Carlo checks


# -- the capital recovery factor -------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "years"),
    [(0.07, 20.0), (0.07, 50.0), (0.03, 30.0), (0.001, 10.0), (0.5, 2.0), (0.02, 0.5)],
)
def test_crf_is_the_formula_and_repays_the_purchase(rate, years):
    crf = capital_recovery_factor(rate, years)
    assert crf == rate / (1.0 - (1.0 + rate) ** -years)  # the formula, exactly
    if years == int(years):
        # An independent check of what it means: L yearly payments of CRF, discounted at
        # r, are worth exactly the purchase (1).
        present_value = math.fsum(crf / (1.0 + rate) ** t for t in range(1, int(years) + 1))
        assert present_value == pytest.approx(1.0, rel=1e-12)


def test_crf_known_values_and_zero_rate():
    assert capital_recovery_factor(0.07, 20.0) == pytest.approx(0.0943929257, abs=1e-10)
    assert capital_recovery_factor(0.10, 10.0) == pytest.approx(0.1627453949, abs=1e-10)
    for years in (1.0, 7.0, 20.0, 45.0):
        assert capital_recovery_factor(0.0, years) == 1.0 / years  # straight-line at r = 0
        # and it is the limit of the formula as r -> 0
        assert capital_recovery_factor(1e-9, years) == pytest.approx(1.0 / years, rel=1e-6)
        # tiny valid rates: the series 1/L + r (L + 1) / (2 L) to rounding (the plain
        # formula lost every digit near 1e-12 and divided by zero below 1e-16)
        for rate in (1e-12, 1e-17, 5e-324):
            series = 1.0 / years + rate * (years + 1.0) / (2.0 * years)
            assert capital_recovery_factor(rate, years) == pytest.approx(series, rel=1e-12)


# -- capital items ---------------------------------------------------------------------


def _capital_scenario(**costing) -> dict:
    data = scenario(
        [threat("drone", 6)],
        [
            interceptor(channels=3, acquisition_usd=100e6, fixed_acquisition_usd=40e6),
            laser(units=2, acquisition_usd=150e6, service_life_years=10.0),
            laser("las0", units=0, acquisition_usd=150e6, fixed_acquisition_usd=9e6),
            interceptor("batt", channels=8, acquisition_units=2, acquisition_usd=50e6),
        ],
    )
    data["costing"] = {"raids_per_year": 12.0, **costing}
    return data


def test_capital_charge_is_acquisition_times_crf_over_raids_per_year():
    s = costx.load_scenario(_capital_scenario(discount_rate=0.05, service_life_years=25.0))
    charges = {it.measure: it.charge_usd for it in capital_items(s)}
    crf25, crf10 = capital_recovery_factor(0.05, 25.0), capital_recovery_factor(0.05, 10.0)
    # per channel, plus what does not scale
    assert charges["capital_cost_sm2_usd"] == (3 * 100e6 + 40e6) * crf25 / 12.0
    # per laser unit, over the laser's own service life
    assert charges["capital_cost_las_usd"] == 2 * 150e6 * crf10 / 12.0
    # zero units buy nothing, not even the fixed part
    assert charges["capital_cost_las0_usd"] == 0.0
    # acquisition_units overrides the channel count (two batteries of four channels)
    assert charges["capital_cost_batt_usd"] == 2 * 50e6 * crf25 / 12.0
    summary = costx.simulate(s, trials=200, seed=1).summary()
    total = 0.0
    for measure, charge in charges.items():
        assert summary.loc[measure, "mean"] == charge
        assert summary.loc[measure, "ci95_low"] == summary.loc[measure, "ci95_high"] == charge
        total += charge
    assert summary.loc["capital_cost_usd", "mean"] == total


def test_base_capital_counts_shelters_teams_per_site_and_sites_beyond_the_first():
    data = scenario(
        [threat("srbm", 4, targets={"jet": 1.0}, warhead={"kind": "unitary", "p_kill_open": 0.5})],
        [],
    )
    data["base"] = {
        "assets": [
            {"name": "jet", "count": 10, "unit_cost_usd": 80e6, "sheltered": True},
            {"name": "tanker", "count": 3, "unit_cost_usd": 160e6},
        ],
        "repair_teams": 3,
        "dispersal_sites": 2,
        "shelter_cost_usd": 3e6,
        "shelter_service_life_years": 50.0,
        "repair_team_cost_usd": 5e6,
        "dispersal_site_cost_usd": 400e6,
    }
    data["costing"] = {"raids_per_year": 2.0, "discount_rate": 0.0, "service_life_years": 20.0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", costx.CostxWarning)  # undefended on purpose
        s = costx.load_scenario(data)
    charges = {it.measure: (it.units, it.charge_usd) for it in capital_items(s)}
    assert charges["capital_cost_shelters_usd"] == (10, 10 * 3e6 / 50.0 / 2.0)  # 1/L at r = 0
    assert charges["capital_cost_repair_teams_usd"] == (6, 6 * 5e6 / 20.0 / 2.0)  # 3 per site
    assert charges["capital_cost_dispersal_usd"] == (1, 400e6 / 20.0 / 2.0)


def test_raids_per_year_is_required_with_capital_and_only_then():
    data = _capital_scenario()
    del data["costing"]["raids_per_year"]
    with pytest.raises(ScenarioError) as err:
        costx.load_scenario(data)
    assert len(err.value.problems) == 1
    problem = err.value.problems[0]
    assert problem.path == "costing.raids_per_year"
    assert "required when any capital cost is non-zero" in problem.message
    assert "effectors.sm2.acquisition_usd" in problem.message
    # No capital at all: no [costing] needed (and zero units with a price charge nothing).
    plain = scenario([threat()], [laser(units=0, acquisition_usd=5e6)])
    assert costx.load_scenario(plain).costing is None


def test_missing_raids_per_year_exits_2_from_the_cli(tmp_path, capsys):
    data = _capital_scenario()
    del data["costing"]
    path = tmp_path / "capital.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    assert main(["run", str(path), "--trials", "10", "--out", str(tmp_path / "x.parquet")]) == 2
    err = capsys.readouterr().err
    assert f"{path}: costing.raids_per_year: required when any capital cost" in err
    assert "Traceback" not in err and not (tmp_path / "x.parquet").exists()


# -- capital is additive: everything expended is unchanged, bit for bit --------------------


def _without_capital(data: dict) -> dict:
    """The same scenario with every capital cost at zero and no [costing] table."""
    data = costx.load_scenario(data).to_dict()
    for e in data["effectors"]:
        e["acquisition_usd"] = e["fixed_acquisition_usd"] = 0.0
    if "base" in data:
        for key in ("shelter_cost_usd", "repair_team_cost_usd", "dispersal_site_cost_usd"):
            data["base"][key] = 0.0
    data.pop("costing", None)
    return data


CAPITAL_COLUMNS = {"capital_cost_usd", "defense_total_cost_usd", "total_cost_usd"}


@pytest.mark.parametrize("name", bundled.scenario_names())
def test_capital_zero_reproduces_the_expended_results_bit_for_bit(name):
    with_capital = costx.simulate(name, trials=400, seed=5)
    without = costx.simulate(_without_capital(costx.load_scenario(name).to_dict()), 400, 5)
    capital = with_capital.summary().loc["capital_cost_usd", "mean"]
    assert without.summary().loc["capital_cost_usd", "mean"] == 0.0
    if name != "red_sea_2024":  # its ship-launched weapons and own gun buy nothing
        assert capital > 0.0
    a, b = with_capital.trials, without.trials
    assert list(a.columns) == list(b.columns)
    for column in a.columns:
        if column not in CAPITAL_COLUMNS:
            assert a[column].equals(b[column]), column
    assert (a["capital_cost_usd"] == capital).all()
    assert (a["defense_total_cost_usd"] == a["defense_cost_usd"] + capital).all()
    if "total_cost_usd" in a.columns:
        assert (a["total_cost_usd"] == b["total_cost_usd"] + capital).all()
    sa, sb = with_capital.summary(), without.summary()
    for measure in sa.index:
        if "capital" in measure or "total" in measure:
            continue
        assert sa.loc[measure].equals(sb.loc[measure]), measure
    # Capital adds a constant: the totals move by exactly it, their intervals not at all.
    for measure in ("total_cost_usd", "defense_total_cost_usd"):
        if measure in sa.index:
            assert sa.loc[measure, "mean"] == sb.loc[measure, "mean"] + capital
            assert sa.loc[measure, "std_error"] == sb.loc[measure, "std_error"]
    attack = with_capital.scenario.attack_cost_usd
    cer = sb.loc["cost_exchange_defense_over_attack", "mean"]
    assert sa.loc["cost_exchange_total_defense_over_attack", "mean"] == pytest.approx(
        cer + capital / attack, rel=1e-14
    )


# -- p_hit ------------------------------------------------------------------------------


def _damage_inputs():
    """A fixed damage workload: 3 salvos x 3 groups (unitary with runway, submunition,
    unitary) against 3 asset groups over 2 sites with one runway each (one cut closes it,
    one team, 10 h a cut), with a deterministic leaker pattern."""
    n, salvos, groups = 3000, 3, 3
    i = np.arange(n)[:, None, None]
    s = np.arange(salvos)[None, :, None]
    g = np.arange(groups)[None, None, :]
    leaked = (((i * 2654435761 + s * 40503 + g * 9973) >> 7) % 6).astype(np.int32)
    counts = np.full((salvos, groups), 8, np.int64)
    site_assets = np.array([[13, 3, 6], [12, 2, 6]], np.int64)
    sheltered = np.array([0, 0, 1], np.uint8)
    spacing = np.array([50.0, math.inf, 150.0])
    targets_cum = np.array([[0.3, 0.5, 0.6, 1.0], [0.7, 1.0, 1.0, 1.0], [0.2, 0.4, 0.9, 1.0]])
    kind = np.array([1, 2, 1], np.int64)
    wf = np.zeros((3, 6))
    wf[0, :3] = (0.9, 0.3, 0.8)
    wf[1, 3:] = (100.0, 60.0, 0.8)
    wf[2, :3] = (0.7, 0.2, 0.6)
    return leaked, counts, site_assets, sheltered, spacing, targets_cum, kind, wf


def test_p_hit_one_reproduces_the_damage_of_the_kernel_before_p_hit():
    """Digests of the damage kernel's outputs on a fixed workload, recorded with the
    kernel of commit a66479b (before p_hit existed: its damage_trials had no p_hit
    argument) by running that kernel's source on these inputs; p_hit = 1 must make no
    draw and leave every output as it was."""
    from costx.kernels.damage import damage_trials

    leaked, counts, site_assets, sheltered, spacing, targets_cum, kind, wf = _damage_inputs()
    n, salvos = leaked.shape[:2]
    destroyed = np.zeros((n, salvos, 3), np.int32)
    site_destroyed = np.zeros((n, 2, 3), np.int32)
    closed = np.zeros((n, salvos), np.int64)
    damage_trials(
        0, np.uint64(21), counts, leaked, site_assets, sheltered, spacing, targets_cum, kind,
        wf, np.ones(3), 1, 1, 10.0, 1, 24.0, destroyed, site_destroyed, closed,
    )  # fmt: skip
    assert destroyed.sum() > 1000 and closed.sum() > 0  # the workload does damage
    digests = {
        name: hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()
        for name, a in (("destroyed", destroyed), ("site", site_destroyed), ("closed", closed))
    }
    assert digests == {
        "destroyed": "f3a4e1b6bfcc92d011b6c7b405608850dc8990fab4d28eb643dceed5650d688a",
        "site": "1e8aef5156bbb67798b0a0a1f4554eb607d3ed96e79e3dccdc3fc9032a6ee673",
        "closed": "d8982534267edd07b3db74b7829e7ffcac9773838e6d59ed93a9fe13bf9e816f",
    }


def _undefended_base(p_hit=None, count=1, p_kill=1.0, sites=1, runway=1.0) -> dict:
    srbm = threat(
        "srbm", count, speed_mps=2000.0, detect_range_km=300.0, unit_cost_usd=5e6,
        targets={"jet": 1.0, "runway": runway} if runway else {"jet": 1.0},
        warhead={"kind": "unitary", "p_kill_open": p_kill, "p_cut_runway": 1.0},
        p_hit=p_hit, kill_fluence_j_cm2=None,
    )  # fmt: skip
    data = scenario([srbm], [])
    data["base"] = {
        "assets": [{"name": "jet", "count": sites, "unit_cost_usd": 80e6}],
        "runways": 1,
        "repair_h_per_cut": 3.0,
        "repair_teams": 1,
        "dispersal_sites": sites,
    }
    return data


def _run(data, trials, seed=0):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", costx.CostxWarning)  # undefended on purpose
        return costx.simulate(data, trials=trials, seed=seed)


def test_p_hit_zero_means_no_damage_and_one_means_the_model_without_it():
    never = _run(_undefended_base(p_hit=0.0, count=3), 2000).trials
    assert (never["leaked"] == 3).all()
    assert (never["damage_usd"] == 0).all() and (never["runway_closed_h"] == 0).all()
    always = _run(_undefended_base(p_hit=1.0, count=3), 2000).trials
    default = _run(_undefended_base(count=3), 2000).trials
    assert always.equals(default)
    assert always["damage_usd"].sum() > 0


def test_p_hit_scales_damage_as_its_closed_form():
    """One leaker aimed at one open jet (p_kill 0.6) or the runway: the jet is destroyed
    with probability p_hit x 1/2 x 0.6 (a hit draw that shared the kill draw would give
    1/2 x min(p_hit, 0.6))."""
    n, p_hit = 40_000, 0.3
    trials = _run(_undefended_base(p_hit=p_hit, p_kill=0.6), n, seed=4).trials
    p = p_hit * 0.5 * 0.6
    assert abs(trials["destroyed_jet"].mean() - p) < SE5 * math.sqrt(p * (1 - p) / n)


def test_p_hit_draws_are_independent_of_the_site_draws():
    """Two sites with one jet each, two leakers (one per site, sites drawn without
    replacement), p_hit 1/2, p_kill 1: each jet is lost with probability 1/2. A hit
    draw that reused the site draw would lose the first site's jet with 3/4."""
    n = 40_000
    data = _undefended_base(p_hit=0.5, count=2, sites=2, runway=0.0)
    trials = _run(data, n, seed=9).trials
    for site in (0, 1):
        lost = trials[f"damage_site{site}_usd"].to_numpy() > 0
        assert abs(lost.mean() - 0.5) < SE5 * math.sqrt(0.25 / n), site


# -- the ship ---------------------------------------------------------------------------


def _ship(count, **ship) -> dict:
    data = scenario(
        [threat("ascm", count, speed_mps=250.0, unit_cost_usd=1e6, kill_fluence_j_cm2=None)], []
    )
    data["ship"] = {"name": "ddg", "value_usd": 2.5e9, **ship}
    return data


@pytest.mark.parametrize(("leakers", "lost"), [(1, False), (2, True), (3, True)])
def test_ship_with_two_hits_to_kill(leakers, lost):
    trials = _run(_ship(leakers, hits_to_kill=2), 500).trials
    assert (trials["leaked"] == leakers).all() and (trials["ship_hits"] == leakers).all()
    assert (trials["ship_lost"] == lost).all()
    assert (trials["damage_usd"] == (2.5e9 if lost else 0.0)).all()
    assert (trials["total_cost_usd"] == trials["defense_cost_usd"] + trials["damage_usd"]).all()


def test_ship_loss_probability_per_hit_matches_its_closed_form():
    """Three leakers, each hitting with p_hit 0.6 and then putting the ship out of action
    with 0.4: P(lost) = 1 - (1 - 0.24)^3."""
    n = 40_000
    data = _ship(3, p_kill_per_hit=0.4)
    data["threats"][0]["p_hit"] = 0.6
    result = _run(data, n, seed=6)
    p = 1 - (1 - 0.6 * 0.4) ** 3
    lost = result.trials["ship_lost"].to_numpy(float)
    assert abs(lost.mean() - p) < SE5 * math.sqrt(p * (1 - p) / n)
    hits = result.trials["ship_hits"].to_numpy(float)
    assert abs(hits.mean() - 1.8) < SE5 * math.sqrt(3 * 0.6 * 0.4 / n)
    summary = result.summary()
    assert summary.loc["p_ship_lost", "mean"] == pytest.approx(lost.mean(), rel=1e-12)
    assert summary.loc["damage_usd", "mean"] == pytest.approx(2.5e9 * lost.mean(), rel=1e-12)


def test_ship_and_base_each_take_their_own_leakers():
    """Groups with targets aim at the base, the others at the ship."""
    data = _undefended_base(count=2)
    data["threats"].append(
        threat("ascm", 1, speed_mps=250.0, unit_cost_usd=1e6, kill_fluence_j_cm2=None)
    )
    data["ship"] = {"name": "ddg", "value_usd": 1e9}
    trials = _run(data, 300).trials
    assert (trials["ship_hits"] == 1).all() and trials["ship_lost"].all()  # one hit kills
    assert (trials["damage_usd"] == trials["destroyed_jet"] * 80e6 + 1e9).all()


# -- catalog, dollar years and outputs ---------------------------------------------------


def test_catalog_shows_helios_acquisition_with_source_and_dollar_year(capsys):
    assert main(["catalog", "effectors", "helios"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if "acquisition_usd" in line)
    assert "150,000,000" in row and "S120" in row and "2018" in row
    assert "[S120] The Navy Wants a Laser to Blow Drones Out of the Sky" in out


def test_every_laser_gun_and_launcher_entry_has_an_acquisition_cost():
    catalog = load_catalog()
    for entry in catalog.entries["effectors"].values():
        rec = entry.fields.get("acquisition_usd")
        assert rec is not None, entry.key
        assert rec.assumption or (rec.sources and rec.dollar_year), entry.key
        if rec.assumption:
            assert rec.value == 0 or rec.dollar_year, entry.key  # a placeholder has its year


def test_new_cost_fields_are_converted_to_the_run_dollar_year():
    catalog = load_catalog()
    index = catalog.price_index
    s = costx.load_scenario("pacific_airbase_resilient", dollar_year=2016)
    thaad = next(e for e in s.effectors if e.name == "thaad")
    assert thaad.acquisition_usd == pytest.approx(166_666_667 * index[2016] / index[2024])
    assert s.base.dispersal_site_cost_usd == pytest.approx(409e6 * index[2016] / index[2024])
    assert s.base.shelter_cost_usd == pytest.approx(3e6 * index[2016] / index[2024])
    prov = s.provenance["base.dispersal_site_cost_usd"]
    assert prov["entry"] == "assets.airbase_passive" and prov["converted"]["from_year"] == 2024
    ddg = costx.load_scenario("ddg_mixed_raid", dollar_year=2016)
    assert ddg.ship.value_usd == pytest.approx(2.5e9 * index[2016] / index[2024])


def test_every_bundled_scenario_has_a_costing_table_and_charges_its_capital():
    for name in bundled.scenario_names():
        s = costx.load_scenario(name)
        assert s.costing is not None and s.costing.raids_per_year, name
        assert any(it.charge_usd > 0 for it in capital_items(s)) or name == "red_sea_2024", name


def test_run_prints_expended_capital_and_damage_side_by_side(tmp_path, capsys):
    out = tmp_path / "r.parquet"
    assert main(["run", "red_sea_2024_laser", "--trials", "500", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    block = printed[printed.index("Cost of one raid") :]
    for label in ("expended", "capital", "damage", "total", "Capital per raid"):
        assert label in block, label
    meta = read_metadata(out)["costs"]
    result = costx.read_result(out)
    summary = result.summary()
    assert meta["capital_usd"]["mean"] == summary.loc["capital_cost_usd", "mean"]
    assert meta["expended_usd"]["mean"] == summary.loc["defense_cost_usd", "mean"]
    assert meta["total_usd"]["mean"] == summary.loc["total_cost_usd", "mean"]
    assert meta["capital_items"][-1]["item"] == "laser"
    assert cost_breakdown(result.scenario, summary)["capital_usd"] == meta["capital_usd"]
    # Each part's share is its mean over the total's; expended, capital and damage make
    # up the total, so their shares sum to 1. The printed table shows the same shares.
    parts = {"expended_usd": "defense_cost_usd", "capital_usd": "capital_cost_usd",
             "damage_usd": "damage_usd", "total_usd": "total_cost_usd"}  # fmt: skip
    total = summary.loc["total_cost_usd", "mean"]
    lines = block.splitlines()
    for key, label in zip(parts, ("expended", "capital", "damage", "total"), strict=True):
        share = summary.loc[parts[key], "mean"] / total
        assert meta[key]["share"] == pytest.approx(share, rel=1e-12), key
        line = next(line for line in lines if line.startswith(label))
        assert line.rstrip().endswith(formatting.percent(share)), (line, share)
    assert meta["total_usd"]["share"] == 1.0
    shares = [meta[k]["share"] for k in ("expended_usd", "capital_usd", "damage_usd")]
    assert 0 < min(shares) and sum(shares) == pytest.approx(1.0, rel=1e-12)


def test_report_shows_expended_capital_and_total(tmp_path):
    pytest.importorskip("matplotlib")
    from costx.report import render_report

    result = costx.simulate("red_sea_2024_laser", trials=300, seed=1)
    html = render_report(result)
    section = html[html.index('<section id="summary">') :]
    section = section[: section.index("</section>")]
    for label in ("Cost of one raid", "expended", "capital (acquisition, amortized)", "total"):
        assert label in section, label
    # Each row shows its share of the total: mean / total (the parts sum to the total).
    summary = result.summary()
    total = summary.loc["total_cost_usd", "mean"]
    parts = {"<td>expended (": "defense_cost_usd", "<td>capital (": "capital_cost_usd",
             "<td>damage (": "damage_usd", "<td>total<": "total_cost_usd"}  # fmt: skip
    table = section[section.index("Cost of one raid") :]
    table = table[: table.index("</table>")]
    shares = []
    for label, measure in parts.items():
        row = table[table.index(label) :]
        row = row[: row.index("</tr>")]
        share = summary.loc[measure, "mean"] / total
        shares.append(share)
        assert f">{formatting.percent(share)}<" in row, (label, row)
    assert sum(shares[:3]) == pytest.approx(1.0, rel=1e-12) and shares[3] == 1.0


def test_report_gives_the_dollar_year_of_catalog_costs_it_lists(tmp_path):
    """A catalog cost in the report's assumption and source tables is the catalog's figure
    in the catalog's dollars (the scenario converts it): the table says which dollars.
    Seen in the report's screenshot: "150,000,000 USD" in a 2025-dollar report."""
    pytest.importorskip("matplotlib")
    from costx.report import render_report

    result = costx.simulate("ddg_mixed_raid", trials=100, seed=1)
    html = render_report(result)
    assumptions = html[html.index("<h2>Assumptions</h2>") :]
    row = assumptions[assumptions.index("hvp_railgun.acquisition_usd") :]
    row = row[: row.index("</tr>")]
    assert "150,000,000 USD (2018 dollars)" in row
    sources = html[html.index("<h3>Values from the catalog</h3>") :]
    row = sources[sources.index("sm2.cost_per_shot_usd") :]
    assert "2,100,000 USD (2023 dollars)" in row[: row.index("</tr>")]


def test_a_sweep_over_laser_units_charges_what_it_adds():
    sweep = costx.sweep("ddg_mixed_raid", {"effectors.helios.units": [0, 1, 2]}, trials=200)
    capital = sweep.table["capital_cost_helios_usd"].to_list()
    assert capital[0] == 0.0 and capital[1] > 0.0
    assert capital[2] == pytest.approx(2 * capital[1], rel=1e-15)


def test_ship_results_do_not_depend_on_chunking_or_threads():
    data = _ship(3, p_kill_per_hit=0.5)
    data["threats"][0]["p_hit"] = 0.7
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", costx.CostxWarning)
        one = costx.simulate(data, trials=3000, seed=2, threads=1)
        many = costx.simulate(data, trials=3000, seed=2, block_trials=700)
    assert one.trials.equals(many.trials)
    assert 0 < one.trials["ship_lost"].mean() < 1


def test_a_sweep_over_raids_per_year_divides_the_capital_charge():
    sweep = costx.sweep(
        "red_sea_2024_laser", {"costing.raids_per_year": [6.0, 12.0, 24.0]}, trials=100
    )
    capital = sweep.table["capital_cost_usd"].to_list()
    assert capital[0] == pytest.approx(2 * capital[1], rel=1e-15)
    assert capital[2] == pytest.approx(capital[1] / 2, rel=1e-15)
    expended = sweep.table["defense_cost_usd"].to_list()
    assert expended[0] == expended[1] == expended[2]


def test_docs_describe_every_new_field_and_measure():
    from pathlib import Path

    docs = Path(__file__).resolve().parents[1] / "docs"
    fields = (docs / "scenarios.md").read_text(encoding="utf-8")
    model = (docs / "model.md").read_text(encoding="utf-8")
    for name in (
        "acquisition_usd", "fixed_acquisition_usd", "service_life_years", "acquisition_units",
        "shelter_cost_usd", "shelter_service_life_years", "repair_team_cost_usd",
        "repair_team_service_life_years", "dispersal_site_cost_usd",
        "dispersal_site_service_life_years", "raids_per_year", "discount_rate", "p_hit",
        "value_usd", "hits_to_kill", "p_kill_per_hit",
    ):  # fmt: skip
        assert f"`{name}`" in fields, name
    for name in (
        "capital_cost_usd", "defense_total_cost_usd", "cost_per_kill_total_usd",
        "cost_exchange_total_defense_over_attack", "capital_cost_shelters_usd",
        "capital_cost_repair_teams_usd", "capital_cost_dispersal_usd", "p_ship_lost",
        "CRF(r, L) = r / (1 - (1 + r)^-L)",
    ):  # fmt: skip
        assert name in model, name
