"""The cited catalog: every figure sourced or marked as an assumption; `use` and provenance."""

import json
import math

import pytest

import costx
from costx import bundled
from costx.catalog import COST_FIELDS, SECTIONS, load_catalog
from costx.cli import main
from costx.errors import ScenarioError
from costx.scenario import _lookup, read_scenario_data

REQUIRED = {
    "effectors": [
        "sm2", "sm3_ib", "sm3_iia", "sm6", "essm", "ram", "pac3_mse", "thaad", "tamir",
        "davids_sling", "arrow3", "coyote", "apkws", "hvp_railgun", "hvp_5in_gun", "laws",
        "helios", "de_mshorad", "iron_beam", "dragonfire", "hel_300kw",
    ],
    "threats": [
        "shahed_136", "houthi_owa_drone", "subsonic_ascm", "supersonic_ascm", "lacm", "srbm",
        "mrbm", "asbm", "hgv",
    ],
    "assets": ["f35a", "f15ex", "kc46", "e3", "hardened_shelter", "runway"],
}  # fmt: skip


def test_the_catalog_has_every_required_entry():
    catalog = load_catalog()
    for section, names in REQUIRED.items():
        missing = [n for n in names if catalog.entry(section, n) is None]
        assert not missing, f"{section}: {missing}"


def test_every_figure_has_a_source_or_is_an_assumption_with_a_rationale():
    catalog = load_catalog()
    problems = []
    for section in SECTIONS:
        for entry in catalog.entries[section].values():
            for name, rec in entry.fields.items():
                where = f"{section}.{entry.key}.{name}"
                if rec.assumption:
                    if len(rec.rationale) < 10:
                        problems.append(f"{where}: assumption without a rationale")
                    continue
                if not rec.sources:
                    problems.append(f"{where}: no source")
                for key in rec.sources:
                    if key not in catalog.sources:
                        problems.append(f"{where}: unknown source {key}")
                if rec.confidence not in ("A", "B", "C"):
                    problems.append(f"{where}: confidence {rec.confidence!r}")
                if rec.year is None:
                    problems.append(f"{where}: no year")
                if name in COST_FIELDS and rec.dollar_year is None:
                    problems.append(f"{where}: a cost without its dollar year")
    assert not problems, "\n".join(problems)


def test_single_shot_kill_probabilities_and_laser_fluences_are_assumptions():
    """The survey found no public Pk, lethal fluence or weather availability."""
    catalog = load_catalog()
    for section in SECTIONS:
        for entry in catalog.entries[section].values():
            for name in ("pk", "kill_fluence_j_cm2", "availability"):
                if name in entry.fields:
                    assert entry.fields[name].assumption, f"{section}.{entry.key}.{name}"
    threats = set(catalog.entries["threats"])
    for entry in catalog.entries["effectors"].values():
        pk = entry.fields.get("pk")
        if pk is not None:
            assert set(pk.value) <= threats, entry.key


def _read_tier(tier: str) -> str:
    """The tier of what was read (docs/catalog.md): 'A via B' is A, 'A via C' is C."""
    origin, _, relay = tier.partition(" via ")
    worst = max(origin.split("/"))
    if relay:
        worst = max(worst, max(relay.split("/")) if max(relay.split("/")) > "B" else "A")
    return worst


def test_confidence_is_no_better_than_the_sources_read():
    catalog = load_catalog()
    assert [_read_tier(t) for t in ("A", "A via B", "A via C", "B via C", "A/B", "B/C")] == list(
        "AACCBC"
    )
    for section in SECTIONS:
        for entry in catalog.entries[section].values():
            for name, rec in entry.fields.items():
                if rec.assumption:
                    continue
                best = min(_read_tier(catalog.sources[k]["tier"]) for k in rec.sources)
                assert rec.confidence >= best, (section, entry.key, name, rec.confidence, best)


def test_sources_have_title_publisher_and_tier():
    for key, src in load_catalog().sources.items():
        assert src.get("title") and src.get("publisher") and src.get("tier"), key


def test_price_index_is_cited_and_increasing_over_the_decade():
    catalog = load_catalog()
    index = catalog.price_index
    assert catalog.price_source.get("publisher") and catalog.price_source.get("url")
    years = sorted(index)
    assert years[0] <= 2015 and years[-1] >= 2023
    assert index[2023] / index[2013] == pytest.approx(304.702 / 232.957)


def _uses(threat_use="shahed_136", effector_use="sm2", **over):
    data = {
        "scenario": {"name": "cat"},
        "threats": [{"name": "drone", "use": threat_use, "count": 4}],
        "effectors": [{"name": "sam", "use": effector_use, "rounds": 8, **over}],
    }
    return data


def test_use_fills_fields_and_records_provenance():
    scenario = costx.load_scenario(_uses())
    catalog = load_catalog()
    sm2 = catalog.entry("effectors", "sm2")
    sam = scenario.effectors[0]
    assert sam.kind == "interceptor"
    # Costs come in constant dollars of the index's last year (no year named anywhere).
    year = max(catalog.price_index)
    factor = catalog.price_index[year] / catalog.price_index[2023]
    assert scenario.scenario.dollar_year == year
    assert sam.cost_per_shot_usd == sm2.fields["cost_per_shot_usd"].value * factor
    assert sam.pk["drone"] == sm2.fields["pk"].value["shahed_136"]  # keyed by the threat's use
    prov = scenario.provenance
    cost = prov["effectors.sam.cost_per_shot_usd"]
    assert cost["from"] == "catalog" and cost["entry"] == "effectors.sm2"
    assert cost["sources"] and cost["dollar_year"] == 2023
    assert prov["effectors.sam.rounds"] == {"from": "scenario"}
    assert prov["effectors.sam.pk.drone"]["assumption"] is True
    assumed = {path for path, _, _ in scenario.assumptions()}
    assert "effectors.sam.pk.drone" in assumed and "threats.drone.detect_range_km" in assumed


def test_scenario_values_override_the_catalog():
    scenario = costx.load_scenario(_uses(cost_per_shot_usd=1.0, pk={"drone": 0.1}))
    assert scenario.effectors[0].cost_per_shot_usd == 1.0
    assert scenario.effectors[0].pk == {"drone": 0.1}
    assert scenario.provenance["effectors.sam.cost_per_shot_usd"] == {"from": "scenario"}


def test_unknown_entries_and_kind_mismatches_are_clear_errors():
    with pytest.raises(ScenarioError) as err:
        costx.load_scenario(_uses(effector_use="sm66"))
    message = str(err.value)
    assert "effectors[0].use: no catalog entry of that name in effectors" in message
    assert "did you mean 'sm6'?" in message
    with pytest.raises(ScenarioError, match=r"effectors\[0\].kind: catalog entry 'helios' is a "):
        costx.load_scenario(_uses(effector_use="helios", kind="interceptor"))


def test_constant_dollars_use_the_price_index():
    catalog = load_catalog()
    year = max(catalog.price_index)
    cost = catalog.entry("effectors", "sm2").fields["cost_per_shot_usd"].value  # 2023 dollars
    real = costx.load_scenario(_uses(), dollar_year=2016)
    factor = catalog.price_index[2016] / catalog.price_index[2023]
    assert real.effectors[0].cost_per_shot_usd == pytest.approx(cost * factor, rel=1e-15)
    converted = real.provenance["effectors.sam.cost_per_shot_usd"]["converted"]
    assert converted == {"from_year": 2023, "to_year": 2016, "factor": factor, "from_value": cost}
    assert real.scenario.dollar_year == 2016
    same = costx.load_scenario(_uses(), dollar_year=2023)  # the figure's own year: unchanged
    assert same.effectors[0].cost_per_shot_usd == cost
    assert "converted" not in same.provenance["effectors.sam.cost_per_shot_usd"]
    default = costx.load_scenario(_uses())  # no year named: the index's last year
    assert default.scenario.dollar_year == year
    assert default.to_dict() == costx.load_scenario(_uses(), dollar_year=year).to_dict()
    # A file's own dollar year is the run's default, and its written costs are in it.
    own = costx.load_scenario({**_uses(), "scenario": {"name": "cat", "dollar_year": 2016}})
    assert own.to_dict() == real.to_dict()
    # Costs written in a file without a dollar_year are in the index's last year's dollars,
    # whether or not the run names a year.
    plain = {**_uses(), "effectors": [{"name": "s", "kind": "interceptor", "rounds": 1,
                                       "cost_per_shot_usd": 5.0, "pk": {"drone": 0.5},
                                       "speed_mps": 900.0, "max_range_km": 20.0}]}  # fmt: skip
    assert costx.load_scenario(plain).effectors[0].cost_per_shot_usd == 5.0
    assert costx.load_scenario(plain, dollar_year=year).effectors[0].cost_per_shot_usd == 5.0
    earlier = costx.load_scenario(plain, dollar_year=2016).effectors[0].cost_per_shot_usd
    assert earlier == pytest.approx(5.0 * catalog.price_index[2016] / catalog.price_index[year])
    again = costx.load_scenario(costx.load_scenario(plain), dollar_year=2016)
    assert again.effectors[0].cost_per_shot_usd == earlier


@pytest.mark.parametrize("name", bundled.scenario_names())
def test_every_bundled_scenario_runs_and_lists_its_assumptions(name):
    scenario = costx.load_scenario(name)
    result = costx.simulate(scenario, trials=300, seed=1, keep_trials=False)
    summary = result.summary()
    assert math.isfinite(summary.loc["defense_cost_usd", "mean"])
    assert scenario.assumptions(), "every bundled scenario rests on some assumptions"


def _numbers_written(node, path=()):
    """The dotted paths (as tuples) of every number a scenario file writes: list items by
    name where they have one, else by position (a weather state, a salvo)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _numbers_written(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            named = isinstance(value, dict) and isinstance(value.get("name"), str)
            yield from _numbers_written(value, (*path, value["name"] if named else str(i)))
    elif isinstance(node, int | float) and not isinstance(node, bool):
        yield path


@pytest.mark.parametrize("name", bundled.scenario_names())
def test_every_number_a_bundled_scenario_writes_is_listed_as_an_assumption(name):
    """The data standard: every default number carries its source or is marked as an
    assumption. Catalog figures carry theirs (``use = ...``); a number the scenario file
    writes itself (a magazine, a channel count, a fire interval, an arrival window, a
    target weight, a campaign's interval, a discount rate) must be listed in
    ``[scenario.assumptions]``, itself or a table above it (``threats.srbm.targets``;
    ``weather`` for states that have no names), with its reason, which names its source
    where one gives it. Names and categorical choices (``arrival``, ``kind``) are not
    numbers and need no entry."""
    raw, _ = read_scenario_data(name)
    scenario = costx.load_scenario(name)
    listed = set(scenario.scenario.assumptions)
    unlisted = [
        ".".join(path)
        for path in _numbers_written(raw)
        if path[0] != "scenario"  # dollar_year: the dollars the file's costs are in
        and not any(".".join(path[:n]) in listed for n in range(1, len(path) + 1))
    ]
    assert not unlisted, f"{name}: numbers neither sourced nor listed as assumptions: {unlisted}"
    for path, why in scenario.scenario.assumptions.items():
        assert len(why.split()) >= 3, f"{name}: {path}: give the assumption a reason"


def test_catalog_command_lists_entries_with_sources(capsys):
    assert main(["catalog"]) == 0
    out = capsys.readouterr().out
    for name in ("sm6", "shahed_136", "f35a"):
        assert name in out
    assert "3,900,000 (2024)" in out  # the list shows each entry's cost and its dollar year
    assert main(["catalog", "effectors", "sm6"]) == 0
    out = capsys.readouterr().out
    assert "cost_per_shot_usd" in out and "[S2]" in out and "ASSUMPTION" in out
    assert "['http" not in out and "https://thedefensepost.com" in out  # S33 has two URLs
    assert main(["catalog", "effectors", "nope"]) == 2


def test_catalog_entry_shows_its_info_figures_and_their_sources(capsys):
    """[NAME.info] figures (no run uses them) are shown, with the sources they cite, in the
    table and in --json (docs/catalog.md)."""
    info = load_catalog().entry("effectors", "thaad").info
    assert info["battery_cost_usd"] == 1_000_000_000 and info["info_sources"]
    assert main(["catalog", "effectors", "thaad"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "info (not used by runs): battery_cost_usd = 1,000,000,000; us_batteries = 7" in out
    for key in info["info_sources"]:
        assert f"[{key}]" in out
    assert main(["catalog", "effectors", "thaad", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["info"] == info and set(info["info_sources"]) <= set(doc["sources"])


def test_run_counts_the_assumptions_and_lists_them_on_request(tmp_path, capsys):
    out_file = str(tmp_path / "r.parquet")
    assert main(["run", "red_sea_2024", "--trials", "200", "--out", out_file]) == 0
    out = capsys.readouterr().out
    n = len(costx.load_scenario("red_sea_2024").assumptions())
    assert f"{n} inputs are assumptions" in out and "--assumptions" in out
    assert ".pk." not in out
    assert main(["run", "red_sea_2024", "--trials", "200", "--out", out_file,
                 "--assumptions"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "Assumptions" in out and ".pk." in out
    for path, _, _ in costx.load_scenario("red_sea_2024").assumptions():
        assert f"{path} = " in out


@pytest.mark.parametrize("name", bundled.scenario_names())
def test_every_bundled_scenario_converts_to_constant_dollars(name):
    """Every cost has a dollar year; years past the index are flagged as assumptions."""
    catalog = load_catalog()
    last = max(catalog.price_index)
    plain = costx.load_scenario(name)
    for year in (2015, last, last + 1):
        real = costx.load_scenario(name, dollar_year=year)
        assert real.scenario.dollar_year == year
        again = costx.load_scenario(plain, dollar_year=year)  # from a Scenario: same
        assert again.to_dict() == real.to_dict()
    flagged = [p for p, _, why in real.assumptions() if "no price index" in why]
    assert flagged  # the target year is past the index


def test_converting_twice_equals_converting_once():
    once = costx.load_scenario("red_sea_2024", dollar_year=2020)
    twice = costx.load_scenario(costx.load_scenario("red_sea_2024", dollar_year=2015), 2020)
    assert twice.effectors[0].cost_per_shot_usd == pytest.approx(
        once.effectors[0].cost_per_shot_usd, rel=1e-12
    )
    assert twice.provenance["effectors.sm6.cost_per_shot_usd"]["from"] == "catalog"


def test_runs_and_sweeps_say_and_choose_their_dollar_year(tmp_path, capsys):
    last = max(load_catalog().price_index)
    out_file = str(tmp_path / "r.parquet")
    assert main(["run", "red_sea_2024", "--trials", "200", "--out", out_file]) == 0
    assert f"costs in {last} dollars" in capsys.readouterr().out
    assert main(["run", "red_sea_2024", "--trials", "200", "--out", out_file,
                 "--dollar-year", "2016"]) == 0  # fmt: skip
    assert "costs in 2016 dollars" in capsys.readouterr().out

    from costx.sweeps import load_sweep_spec

    assert load_sweep_spec("ddg_magazine_laser").scenario.scenario.dollar_year == last
    assert load_sweep_spec("ddg_magazine_laser", 2016).scenario.scenario.dollar_year == 2016
    spec = tmp_path / "s.toml"
    spec.write_text('[sweep]\nscenario = "red_sea_2024"\ndollar_year = 2018\ntrials = 100\n'
                    '[grid]\n"effectors.sm2.rounds" = [4, 8]\n')  # fmt: skip
    loaded = load_sweep_spec(spec)
    assert loaded.scenario.scenario.dollar_year == 2018
    reference = costx.load_scenario("red_sea_2024", dollar_year=2018)
    assert loaded.scenario.to_dict() == reference.to_dict()
    assert main(["sweep", str(spec), "--out", str(tmp_path / "sw"), "--no-progress"]) == 0
    assert "costs in 2018 dollars" in capsys.readouterr().out
    spec.write_text(spec.read_text().replace("2018", '"2018"'))
    assert main(["sweep", str(spec), "--out", str(tmp_path / "sw2"), "--no-progress"]) == 2
    assert "sweep.dollar_year: must be int" in capsys.readouterr().err


def test_assumed_conversions_show_the_converted_cost():
    """A cost taken past the price index is listed with its value, not the factor."""
    last = max(load_catalog().price_index)
    scenario = costx.load_scenario("red_sea_2024", dollar_year=last + 1)
    rows = {p: (v, why) for p, v, why in scenario.assumptions() if "no price index" in why}
    assert rows
    data = scenario.to_dict()
    for path, (value, why) in rows.items():
        assert value == _lookup(data, path) and value > 100, path  # dollars, not x 1.0
        assert f"to {last + 1} dollars x " in why


def test_every_assumed_number_has_a_plausible_range_with_its_reason():
    """Sensitivity analysis varies each assumption over ``low``..``high``; the range of an
    assumption is itself an assumption and says why (``range_rationale``). Sourced figures
    carry no such range (their spread is in the note)."""
    catalog = load_catalog()
    problems = []
    for section in SECTIONS:
        for entry in catalog.entries[section].values():
            for name, rec in entry.fields.items():
                where = f"{section}.{entry.key}.{name}"
                if not rec.assumption or isinstance(rec.value, bool | str):
                    if rec.low is not None or rec.high is not None:
                        problems.append(f"{where}: a range on a figure that is not assumed")
                    continue
                if rec.low is None or rec.high is None or len(rec.range_rationale) < 10:
                    problems.append(f"{where}: assumption without low, high and a rationale")
                    continue
                values = rec.value if isinstance(rec.value, dict) else {"": rec.value}
                lows = rec.low if isinstance(rec.low, dict) else {"": rec.low}
                highs = rec.high if isinstance(rec.high, dict) else {"": rec.high}
                if set(lows) != set(values) or set(highs) != set(values):
                    problems.append(f"{where}: low/high must have the value's keys")
                    continue
                for key, v in values.items():
                    if not lows[key] <= v <= highs[key] or not lows[key] < highs[key]:
                        problems.append(f"{where}{key}: needs low <= value <= high, low < high")
                    if (name in ("pk", "availability")) and not 0 <= lows[key] <= highs[key] <= 1:
                        problems.append(f"{where}{key}: a probability's range must be in [0, 1]")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", bundled.scenario_names())
def test_every_catalog_range_is_within_the_field_limits_of_the_bundled_scenarios(name):
    from costx import analysis

    scenario = costx.load_scenario(name)
    for entry in analysis.assumption_ranges(scenario):
        if entry["low"] is None:
            continue
        assert entry["low"] <= entry["value"] <= entry["high"], entry["path"]
        for end in ("low", "high"):
            analysis.with_values(scenario, {entry["path"]: entry[end]}, f"{name} {end}")
