"""Scenario validation: every rule of the Foundation issue, with one bad file each.

Each file in tests/bad_scenarios/ starts from a tiny valid scenario, breaks one rule and says
so in a comment on top. For each file the tests check that loading raises ScenarioError with
one line per problem, each naming the file, the exact field path, what is allowed and the
offending value. Then: the warning for a threat no effector can engage, the ways of loading,
immutability, TOML round trips and that loading never runs anything from the file.
Sweep files have their own bad files, in tests/bad_sweeps/ (test_rule_coverage.py).
"""

from __future__ import annotations

import builtins
import copy
import tomllib
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

import costx
from costx import CostxWarning, Scenario, ScenarioError, bundled, load_scenario

BAD = Path(__file__).parent / "bad_scenarios"

NAME_RULE = ("must be an identifier", "lower-case letter", "digits or _")
FINITE = ("must be a finite number", "NaN and infinity are not allowed")
AT_LEAST_0 = ("greater than or equal to 0",)
ABOVE_0 = ("greater than 0",)
KINDS = ("interceptor", "railgun", "laser")
MISSING = ("required field is missing",)
BARREL = ("barrel_life_rounds and barrel_cost_usd go together", "give both or neither")
LONG = "a" * 49  # one character more than a name may have
MISS = ("miss_rate_m_per_s and lethal_radius_m go together", "give both or neither")


@dataclass(frozen=True)
class Line:
    """One expected line: ``FILE: PATH: message (got VALUE)``."""

    path: str  # the exact field path printed after the file name ("" for whole-file problems)
    words: tuple[str, ...]  # key words of what is wrong and what is allowed
    value: str | None = None  # repr of the offending value, printed as "(got VALUE)"


@dataclass(frozen=True)
class Case:
    file: str
    lines: tuple[Line, ...]


def case(file, *lines):
    """A pytest param for the content test and one for the line-count test."""
    c = Case(file, tuple(lines))
    return pytest.param(c, id=file), pytest.param(c, id=file)


_CASES = [
    # -- unknown keys (typos) -----------------------------------------------------------
    case(
        "unknown_key_typo.toml",
        Line(
            "effectors[0].max_rang_km",
            ("unknown field", "did you mean 'max_range_km'?", "allowed:", "min_range_km"),
        ),
        Line("effectors[0].max_range_km", MISSING),
    ),
    case(
        "unknown_key_scenario_table.toml",
        Line(
            "scenario.descripton",
            ("unknown field", "did you mean 'description'?", "allowed: name, description, policy"),
        ),
    ),
    # -- missing required fields --------------------------------------------------------
    case(
        "missing_required.toml",
        Line("threats[0].detect_range_km", MISSING),
    ),
    case("missing_scenario_table.toml", Line("scenario", MISSING)),
    case(
        "missing_kind.toml",
        Line("effectors[0].kind", (*MISSING, "one of interceptor, railgun, laser")),
    ),
    # -- wrong types --------------------------------------------------------------------
    case(
        "wrong_type_string.toml",
        Line("effectors[0].cost_per_shot_usd", ("must be a number",), "'1000000'"),
    ),
    case("wrong_type_table.toml", Line("effectors[0].pk", ("must be a table",), "0.8")),
    case(
        "wrong_type_threats_not_array.toml",
        Line("threats", ("must be a list", "array of tables")),
    ),
    case(
        "wrong_type_effector_not_table.toml",
        Line("effectors[0]", ("must be a table",), "'sam'"),
    ),
    case(
        "bool_not_number.toml",
        Line("threats[0].count", ("must be an integer",), "True"),
        Line("effectors[0].speed_mps", ("must be a number",), "True"),
    ),
    case(
        "float_for_integer.toml",
        Line("threats[0].count", ("must be an integer",), "2.5"),
        Line("effectors[0].rounds", ("must be an integer",), "8.0"),
    ),
    case("bad_kind.toml", Line("effectors[0].kind", ("must be one of", *KINDS), "'phaser'")),
    case(
        "bad_choice.toml",
        Line("scenario.policy", ("'layered'", "'cost_aware'", "'preferential'"), "'greedy'"),
    ),
    # -- probabilities outside [0, 1] ---------------------------------------------------
    case(
        "probability_above_one.toml",
        Line("effectors[2].pk.owa_drone", ("less than or equal to 1",), "1.5"),
    ),
    case(
        "probability_below_zero.toml",
        Line("effectors[0].pk.owa_drone", AT_LEAST_0, "-0.2"),
        Line("effectors[1].availability", AT_LEAST_0, "-0.1"),
    ),
    # -- negative counts ----------------------------------------------------------------
    case(
        "negative_count.toml",
        Line("threats[0].count", AT_LEAST_0, "-3"),
    ),
    case(
        "negative_rounds_units.toml",
        Line("effectors[0].rounds", AT_LEAST_0, "-1"),
        Line("effectors[1].units", AT_LEAST_0, "-2"),
    ),
    # -- non-positive speeds ------------------------------------------------------------
    case("nonpositive_speed_effector.toml", Line("effectors[0].speed_mps", ABOVE_0, "0.0")),
    case(
        "nonpositive_speed_threat.toml",
        Line("threats[0].speed_mps", ABOVE_0, "-50.0"),
    ),
    # -- costs below zero ---------------------------------------------------------------
    case(
        "negative_cost.toml",
        Line("effectors[0].cost_per_shot_usd", AT_LEAST_0, "-1.0"),
        Line("effectors[1].barrel_cost_usd", AT_LEAST_0, "-500.0"),
    ),
    case(
        "negative_cost_threat.toml",
        Line("threats[0].unit_cost_usd", AT_LEAST_0, "-20000.0"),
    ),
    # -- ranges -------------------------------------------------------------------------
    case(
        "max_range_not_positive.toml",
        Line("effectors[0].max_range_km", ABOVE_0, "0.0"),
        Line("effectors[1].max_range_km", ABOVE_0, "-5.0"),
    ),
    case(
        "min_range_not_below_max.toml",
        Line("effectors[0].min_range_km", ("must be less than max_range_km (50.0)",), "50.0"),
        Line("effectors[1].min_range_km", ("must be less than max_range_km (8.0)",), "9.0"),
    ),
    case(
        "laser_min_range.toml",
        Line("effectors[1].min_range_km", ABOVE_0, "0.0"),
        Line("effectors[2].min_range_km", MISSING),
    ),
    # -- NaN and infinity ---------------------------------------------------------------
    case(
        "nan_inf_effectors.toml",
        Line("effectors[0].max_range_km", FINITE, "inf"),
        Line("effectors[0].pk.owa_drone", FINITE, "nan"),
        Line("effectors[1].power_kw", FINITE, "-inf"),
        Line("effectors[1].magazine_s", FINITE, "nan"),
    ),
    case(
        "nan_inf_threat.toml",
        Line("threats[0].kill_fluence_j_cm2", FINITE, "inf"),
    ),
    # -- names --------------------------------------------------------------------------
    case(
        "duplicate_threat_names.toml",
        Line("threats[1].name", ("duplicate name", "threats[0] already uses it"), "'owa_drone'"),
    ),
    case(
        "duplicate_effector_names.toml",
        Line("effectors[1].name", ("duplicate name", "effectors[0] already uses it"), "'sam'"),
    ),
    case(
        "name_not_identifier.toml",
        Line("scenario.name", NAME_RULE, "'Tiny Raid'"),
        Line("effectors[0].name", NAME_RULE, "'sm-2'"),
    ),
    case(
        "pk_key_not_identifier.toml",
        Line("effectors[0].pk.Owa-Drone", NAME_RULE, "'Owa-Drone'"),
    ),
    case(
        "code_in_name.toml",
        Line("scenario.name", NAME_RULE, "\"__import__('os').mkdir('costx_pwned')\""),
    ),
    # -- pk entries naming unknown threats ----------------------------------------------
    case(
        "pk_unknown_threat.toml",
        Line(
            "effectors[0].pk.owa_dron",
            ("names no threat", "threats are: owa_drone", "did you mean 'owa_drone'?"),
        ),
    ),
    # -- railgun barrel fields go together ----------------------------------------------
    case(
        "railgun_barrel_pair.toml",
        Line("effectors[0].barrel_cost_usd", BARREL),
        Line("effectors[1].barrel_life_rounds", BARREL),
    ),
    # -- issue 14: propagation, lethality, drag, weather states ------------------------
    case(
        "laser_jitter_both.toml",
        Line("effectors[0].jitter_per_axis_urad", ("jitter_urad (two-axis rms)", "not both")),
    ),
    case(
        "laser_absorption_above_extinction.toml",
        Line("effectors[0].absorption_per_km", ("must not exceed extinction_per_km (0.1)",), "0.3"),
    ),
    case(
        "laser_blooming_needs_wind.toml",
        Line("effectors[0].wind_mps", ("required when absorption_per_km > 0", "wind")),
    ),
    case(
        "railgun_miss_pair.toml",
        Line("effectors[0].lethal_radius_m", MISS),
        Line("effectors[1].miss_rate_m_per_s", MISS),
    ),
    case(
        "new_physics_fields_out_of_range.toml",
        Line("threats[0].min_dwell_s", AT_LEAST_0, "-1.0"),
        Line("effectors[0].cn2", AT_LEAST_0, "-1e-14"),
        Line("effectors[0].wind_mps", ABOVE_0, "0.0"),
        Line("effectors[0].settle_s", AT_LEAST_0, "-0.5"),
        Line("effectors[1].ballistic_coefficient_kg_m2", ABOVE_0, "0.0"),
        Line("weather[0].probability", ("less than or equal to 1",), "1.5"),
    ),
    case(
        "weather_probabilities_sum.toml",
        Line("weather", ("state probabilities must sum to 1",), "0.9"),
    ),
    case(
        "weather_absorption_above_extinction.toml",
        Line(
            "weather[1].extinction_per_km",
            ("for laser beam", "absorption_per_km (0.05) must not exceed extinction_per_km (0.02)"),
            "0.02",
        ),
    ),
    case(
        "weather_blooming_needs_wind.toml",
        Line("weather[0].wind_mps", ("required: laser beam absorbs", "gives wind_mps")),
    ),
    case("weather_too_many_states.toml", Line("weather", ("at most 16 states",), "17")),
    # -- several problems in one file ---------------------------------------------------
    case(
        "several_problems.toml",
        Line("scenario.name", NAME_RULE, "'Tiny'"),
        Line("effectors[0].rounds", AT_LEAST_0, "-8"),
        Line("effectors[0].pk.owa_drone", ("less than or equal to 1",), "8.0"),
        Line("effectors[1].kind", ("must be one of", *KINDS), "'Laser'"),
    ),
    case(
        "several_cross_checks.toml",
        Line("effectors[1].name", ("duplicate name", "effectors[0] already uses it"), "'sam'"),
        Line("effectors[1].min_range_km", ("must be less than max_range_km (50.0)",), "60.0"),
        Line("effectors[1].pk.cruise", ("names no threat", "threats are: owa_drone")),
    ),
    case(
        "mixed_field_and_cross_checks.toml",
        Line("effectors[0].rounds", AT_LEAST_0, "-8"),
        Line("effectors[1].name", ("duplicate name", "effectors[0] already uses it"), "'sam'"),
    ),
    case(
        "assumption_unknown_path.toml",
        Line(
            "scenario.assumptions",
            ("'effectors.sam.chanels': effectors.sam has no field", "did you mean 'channels'?"),
        ),
    ),
    case(
        "assumption_path_into_value.toml",
        Line("scenario.assumptions", ("'effectors.sam.rounds.max'", "is a value, not a table")),
    ),
    # -- base and campaign ---------------------------------------------------------------
    case(
        "base_unknown_target.toml",
        Line(
            "threats[0].targets.f35",
            ("names no asset group", "asset groups are: f35a, runway", "did you mean 'f35a'?"),
        ),
    ),
    case(
        "base_negative_repair.toml",
        Line("base.repair_h_per_cut", AT_LEAST_0, "-4.0"),
        Line("base.repair_teams", AT_LEAST_0, "-1"),
    ),
    case(
        "base_zero_weights.toml",
        Line(
            "threats[0].targets",
            ("weights must sum to a positive number",),
            "{'f35a': 0.0, 'runway': 0.0}",
        ),
        Line("threats[1].warhead", ("required when targets are given", "unitary or submunition")),
    ),
    case(
        "campaign_bad_names.toml",
        Line("threats[0].warhead.kind", ("must be one of unitary, submunition",), "'nuclear'"),
        Line("campaign.salvos[1].drone", ("names no threat", "threats are: srbm")),
        Line(
            "campaign.resupply_rounds.las",
            ("names no kinetic effector", "kinetic effectors are: pac3"),
        ),
    ),
    case(
        "campaign_salvos_zero.toml", Line("campaign.salvos", ("greater than or equal to 1",), "0")
    ),
    case(
        "campaign_salvos_string.toml",
        Line("campaign.salvos", ("a number of salvos (1 to 1000) or a list of tables",), "'three'"),
    ),
    case(
        "campaign_salvos_negative.toml",
        Line("campaign.salvos[0].srbm", AT_LEAST_0, "-1"),
    ),
    # -- capital, value at risk, p_hit ----------------------------------------------------
    case(
        "costing_missing_raids_per_year.toml",
        Line(
            "costing.raids_per_year",
            (
                "required when any capital cost is non-zero",
                "raids like this one the defense is bought to meet in a year",
                "effectors.laser.acquisition_usd",
            ),
        ),
    ),
    case(
        "negative_capital_costs.toml",
        Line("effectors[0].acquisition_usd", AT_LEAST_0, "-1.0"),
        Line("base.shelter_cost_usd", AT_LEAST_0, "-3000000.0"),
        Line("ship.value_usd", AT_LEAST_0, "-2500000000.0"),
    ),
    case(
        "zero_service_life.toml",
        Line("effectors[0].service_life_years", ("greater than or equal to 0.01",), "0.0"),
        Line("costing.service_life_years", ("greater than or equal to 0.01",), "0"),
    ),
    case(
        "discount_rate_out_of_range.toml",
        Line("costing.discount_rate", ("less than 1",), "1.0"),
    ),
    case(
        "discount_rate_negative.toml",
        Line("costing.discount_rate", AT_LEAST_0, "-0.02"),
    ),
    case(
        "ship_two_kill_rules.toml",
        Line("ship.p_kill_per_hit", ("give hits_to_kill", "or p_kill_per_hit", "not both"), "0.5"),
    ),
    case("p_hit_above_one.toml", Line("threats[0].p_hit", ("less than or equal to 1",), "1.5")),
    # -- bounds that keep every kernel quantity finite (issue 17) ------------------------
    case(
        "bounds_threat_high.toml",
        Line("threats[0].count", ("less than or equal to 16777215",), "16777216"),
        Line(
            "threats[0].unit_cost_usd", ("less than or equal to 1000000000000",), "10000000000000.0"
        ),
        Line("threats[0].speed_mps", ("less than or equal to 100000",), "1000000.0"),
        Line("threats[0].detect_range_km", ("less than or equal to 20000",), "30000.0"),
        Line("threats[0].start_s", ("less than or equal to 1000000",), "1000000000000.0"),
        Line("threats[0].window_s", ("less than or equal to 1000000",), "2000000.0"),
        Line(
            "threats[0].kill_fluence_j_cm2",
            ("less than or equal to 1000000000000",),
            "10000000000000.0",
        ),
        Line("threats", ("at most 1,000,000 threats in one raid",), "16777216"),
    ),
    case(
        "bounds_threat_low.toml",
        Line("scenario.dollar_year", ("less than or equal to 2100",), "2101"),
        Line("threats[0].detect_range_km", ("greater than 0",), "0.0"),
        Line("threats[0].start_s", ("greater than or equal to 0",), "-1.0"),
        Line("threats[0].window_s", ("greater than or equal to 0",), "-1.0"),
        Line("threats[0].kill_fluence_j_cm2", ("greater than 0",), "0.0"),
    ),
    case(
        "threat_too_slow.toml",
        Line(
            "threats[0].speed_mps",
            (
                "too slow for its detect_range_km",
                "2.5e+12 s from detection to impact, at most 1e+06 s",
            ),
            "1e-08",
        ),
    ),
    case(
        "bounds_kinetic_high.toml",
        Line("effectors[0].rounds", ("less than or equal to 16777215",), "16777216"),
        Line(
            "effectors[0].cost_per_shot_usd",
            ("less than or equal to 1000000000000",),
            "10000000000000.0",
        ),
        Line("effectors[0].pk.owa_drone", ("less than or equal to 1",), "1.5"),
        Line("effectors[0].speed_mps", ("less than or equal to 100000",), "1000000.0"),
        Line("effectors[0].max_range_km", ("less than or equal to 20000",), "30000.0"),
        Line("effectors[0].min_range_km", ("less than or equal to 20000",), "25000.0"),
        Line("effectors[0].channels", ("less than or equal to 255",), "256"),
        Line("effectors[0].salvo_size", ("less than or equal to 255",), "256"),
        Line("effectors[0].max_engagements", ("less than or equal to 255",), "256"),
        Line("effectors[0].assess_s", ("less than or equal to 1000000",), "2000000.0"),
        Line("effectors[0].fire_interval_s", ("less than or equal to 1000000",), "2000000.0"),
        Line("effectors[1].rounds", ("less than or equal to 16777215",), "16777216"),
        Line(
            "effectors[1].cost_per_shot_usd",
            ("less than or equal to 1000000000000",),
            "10000000000000.0",
        ),
        Line("effectors[1].pk.owa_drone", ("less than or equal to 1",), "1.5"),
        Line("effectors[1].speed_mps", ("less than or equal to 100000",), "1000000.0"),
        Line("effectors[1].max_range_km", ("less than or equal to 20000",), "30000.0"),
        Line("effectors[1].min_range_km", ("less than or equal to 20000",), "25000.0"),
        Line("effectors[1].channels", ("less than or equal to 255",), "256"),
        Line("effectors[1].salvo_size", ("less than or equal to 255",), "256"),
        Line("effectors[1].max_engagements", ("less than or equal to 255",), "256"),
        Line("effectors[1].assess_s", ("less than or equal to 1000000",), "2000000.0"),
        Line("effectors[1].rate_per_min", ("less than or equal to 1000000",), "2000000.0"),
        Line(
            "effectors[1].barrel_life_rounds", ("less than or equal to 1000000000",), "1000000001"
        ),
        Line(
            "effectors[1].barrel_cost_usd",
            ("less than or equal to 1000000000000",),
            "10000000000000.0",
        ),
    ),
    case(
        "bounds_kinetic_low.toml",
        Line("effectors[0].rounds", ("greater than or equal to 0",), "-1"),
        Line("effectors[0].cost_per_shot_usd", ("greater than or equal to 0",), "-1.0"),
        Line("effectors[0].pk.owa_drone", ("greater than or equal to 0",), "-0.5"),
        Line("effectors[0].speed_mps", ("greater than 0",), "0.0"),
        Line("effectors[0].max_range_km", ("greater than 0",), "0.0"),
        Line("effectors[0].min_range_km", ("greater than or equal to 0",), "-1.0"),
        Line("effectors[0].channels", ("greater than or equal to 1",), "0"),
        Line("effectors[0].salvo_size", ("greater than or equal to 1",), "0"),
        Line("effectors[0].max_engagements", ("greater than or equal to 1",), "0"),
        Line("effectors[0].assess_s", ("greater than or equal to 0",), "-1.0"),
        Line("effectors[0].fire_interval_s", ("greater than or equal to 0",), "-1.0"),
        Line("effectors[1].rounds", ("greater than or equal to 0",), "-1"),
        Line("effectors[1].cost_per_shot_usd", ("greater than or equal to 0",), "-1.0"),
        Line("effectors[1].pk.owa_drone", ("greater than or equal to 0",), "-0.5"),
        Line("effectors[1].speed_mps", ("greater than 0",), "0.0"),
        Line("effectors[1].max_range_km", ("greater than 0",), "0.0"),
        Line("effectors[1].min_range_km", ("greater than or equal to 0",), "-1.0"),
        Line("effectors[1].channels", ("greater than or equal to 1",), "0"),
        Line("effectors[1].salvo_size", ("greater than or equal to 1",), "0"),
        Line("effectors[1].max_engagements", ("greater than or equal to 1",), "0"),
        Line("effectors[1].assess_s", ("greater than or equal to 0",), "-1.0"),
        Line("effectors[1].rate_per_min", ("greater than or equal to 0.001",), "0.0001"),
        Line("effectors[1].barrel_life_rounds", ("greater than or equal to 1",), "0"),
        Line("effectors[1].barrel_cost_usd", ("greater than or equal to 0",), "-1.0"),
    ),
    case(
        "bounds_laser_high.toml",
        Line("effectors[0].units", ("less than or equal to 255",), "256"),
        Line("effectors[0].power_kw", ("less than or equal to 100000",), "1000000000000.0"),
        Line("effectors[0].aperture_m", ("less than or equal to 100",), "1000.0"),
        Line("effectors[0].wavelength_um", ("less than or equal to 100",), "1e+300"),
        Line("effectors[0].beam_quality", ("less than or equal to 1000",), "10000.0"),
        Line("effectors[0].jitter_urad", ("less than or equal to 1000000",), "10000000.0"),
        Line("effectors[0].blur_urad", ("less than or equal to 1000000",), "10000000.0"),
        Line("effectors[0].extinction_per_km", ("less than or equal to 1000",), "10000.0"),
        Line("effectors[0].max_range_km", ("less than or equal to 20000",), "30000.0"),
        Line("effectors[0].min_range_km", ("less than or equal to 20000",), "25000.0"),
        Line("effectors[0].retarget_s", ("less than or equal to 1000000",), "2000000.0"),
        Line("effectors[0].availability", ("less than or equal to 1",), "1.5"),
        Line(
            "effectors[0].cost_per_shot_usd",
            ("less than or equal to 1000000000000",),
            "10000000000000.0",
        ),
        Line("effectors[0].magazine_s", ("less than or equal to 1000000",), "2000000.0"),
    ),
    case(
        "bounds_laser_low.toml",
        Line("effectors[0].units", ("greater than or equal to 0",), "-1"),
        Line("effectors[0].power_kw", ("greater than 0",), "0.0"),
        Line("effectors[0].aperture_m", ("greater than or equal to 0.001",), "0.0001"),
        Line("effectors[0].wavelength_um", ("greater than or equal to 0.1",), "0.01"),
        Line("effectors[0].beam_quality", ("greater than or equal to 1",), "0.5"),
        Line("effectors[0].jitter_urad", ("greater than or equal to 0",), "-1.0"),
        Line("effectors[0].blur_urad", ("greater than or equal to 0",), "-1.0"),
        Line("effectors[0].extinction_per_km", ("greater than or equal to 0",), "-1.0"),
        Line("effectors[0].max_range_km", ("greater than 0",), "0.0"),
        Line("effectors[0].retarget_s", ("greater than or equal to 0",), "-1.0"),
        Line("effectors[0].availability", ("greater than or equal to 0",), "-0.5"),
        Line("effectors[0].cost_per_shot_usd", ("greater than or equal to 0",), "-1.0"),
        Line("effectors[0].magazine_s", ("greater than 0",), "0.0"),
    ),
    case(
        "bounds_base_high.toml",
        Line(
            "threats[0].targets.jet", ("less than or equal to 1000000000000",), "10000000000000.0"
        ),
        Line("threats[0].warhead.p_kill_open", ("less than or equal to 1",), "1.5"),
        Line("threats[0].warhead.p_kill_sheltered", ("less than or equal to 1",), "1.5"),
        Line("threats[0].warhead.p_cut_runway", ("less than or equal to 1",), "1.5"),
        Line("threats[1].warhead.footprint_m", ("less than or equal to 1000000",), "10000000.0"),
        Line("threats[1].warhead.cep_m", ("less than or equal to 1000000",), "10000000.0"),
        Line("threats[1].warhead.p_kill_in_footprint", ("less than or equal to 1",), "1.5"),
        Line("base.assets[0].count", ("less than or equal to 65535",), "65536"),
        Line(
            "base.assets[0].unit_cost_usd",
            ("less than or equal to 1000000000000",),
            "10000000000000.0",
        ),
        Line("base.assets[0].spacing_m", ("less than or equal to 1000000",), "10000000.0"),
        Line("base.runways", ("less than or equal to 255",), "256"),
        Line("base.cuts_to_close", ("less than or equal to 255",), "256"),
        Line("base.repair_h_per_cut", ("less than or equal to 8760",), "9000.0"),
        Line("base.repair_teams", ("less than or equal to 255",), "256"),
        Line("base.dispersal_sites", ("less than or equal to 64",), "65"),
        Line("campaign.salvos[0].srbm", ("less than or equal to 16777215",), "16777216"),
        Line("campaign.interval_h", ("less than or equal to 8760",), "9000.0"),
        Line("campaign.resupply_rounds.pac3", ("less than or equal to 16777215",), "16777216"),
        Line("campaign.salvos[0]", ("at most 1,000,000 threats in one raid",), "16777216"),
    ),
    case(
        "bounds_base_low.toml",
        Line("threats[0].targets.jet", ("greater than or equal to 0",), "-1.0"),
        Line("threats[0].warhead.p_kill_open", ("greater than or equal to 0",), "-0.5"),
        Line("threats[0].warhead.p_kill_sheltered", ("greater than or equal to 0",), "-0.5"),
        Line("threats[0].warhead.p_cut_runway", ("greater than or equal to 0",), "-0.5"),
        Line("threats[1].warhead.footprint_m", ("greater than 0",), "0.0"),
        Line("threats[1].warhead.cep_m", ("greater than 0",), "0.0"),
        Line("threats[1].warhead.p_kill_in_footprint", ("greater than or equal to 0",), "-0.5"),
        Line("base.assets[0].count", ("greater than or equal to 0",), "-1"),
        Line("base.assets[0].unit_cost_usd", ("greater than or equal to 0",), "-1.0"),
        Line("base.assets[0].spacing_m", ("greater than 0",), "0.0"),
        Line("base.runways", ("greater than or equal to 0",), "-1"),
        Line("base.cuts_to_close", ("greater than or equal to 1",), "0"),
        Line("base.dispersal_sites", ("greater than or equal to 1",), "0"),
        Line("campaign.salvos", ("less than or equal to 1000",), "1001"),
        Line("campaign.interval_h", ("greater than or equal to 0",), "-1.0"),
        Line("campaign.resupply_rounds.pac3", ("greater than or equal to 0",), "-1"),
        Line(
            "threats[0].targets",
            ("weights must sum to a positive number",),
            "{'jet': -1.0, 'runway': 1.0}",
        ),
    ),
    case(
        "identifiers_bad.toml",
        Line("scenario.name", ("string should have at most 48 characters",), repr(LONG)),
        Line(
            "scenario.policy", ("'layered', 'cost_aware' or 'preferential'",), "'greedy_cheapest'"
        ),
        Line("threats[0].name", NAME_RULE, "'Owa-Drone'"),
        Line("threats[0].arrival", ("'simultaneous', 'stream' or 'uniform'",), "'all_at_once'"),
        Line("threats[0].targets.Jet-1", NAME_RULE, "'Jet-1'"),
        Line(
            f"threats[0].targets.{LONG}", ("string should have at most 48 characters",), repr(LONG)
        ),
        Line("threats[1].name", ("string should have at most 48 characters",), repr(LONG)),
        Line("effectors[0].name", NAME_RULE, "'SAM'"),
        Line("effectors[0].pk.Owa-Drone", NAME_RULE, "'Owa-Drone'"),
        Line(f"effectors[0].pk.{LONG}", ("string should have at most 48 characters",), repr(LONG)),
        Line("effectors[1].name", ("string should have at most 48 characters",), repr(LONG)),
        Line("effectors[2].name", NAME_RULE, "'Gun'"),
        Line("effectors[2].pk.Owa-Drone", NAME_RULE, "'Owa-Drone'"),
        Line(f"effectors[2].pk.{LONG}", ("string should have at most 48 characters",), repr(LONG)),
        Line("effectors[3].name", ("string should have at most 48 characters",), repr(LONG)),
        Line("effectors[4].name", NAME_RULE, "'Las'"),
        Line("effectors[5].name", ("string should have at most 48 characters",), repr(LONG)),
        Line("base.assets[0].name", NAME_RULE, "'Jet-1'"),
        Line("base.assets[1].name", ("string should have at most 48 characters",), repr(LONG)),
        Line("campaign.salvos[0].Owa-Drone", NAME_RULE, "'Owa-Drone'"),
        Line(
            f"campaign.salvos[0].{LONG}", ("string should have at most 48 characters",), repr(LONG)
        ),
        Line("campaign.resupply_rounds.SAM", NAME_RULE, "'SAM'"),
        Line(
            f"campaign.resupply_rounds.{LONG}",
            ("string should have at most 48 characters",),
            repr(LONG),
        ),
    ),
    case(
        "huge_integer.toml",
        Line("threats[0].count", ("less than or equal to 16777215",), "an integer of 309 digits"),
        Line("threats[0].unit_cost_usd", ("must be a number",), "a negative integer of 309 digits"),
        Line("threats", ("at most 1,000,000 threats in one raid",), "an integer of 309 digits"),
    ),
    case(
        "nested_too_deeply.toml",
        Line("", ("malformed TOML: arrays or tables nested too deeply",)),
    ),
    case(
        "base_asset_named_runway.toml",
        Line("base.assets[1].name", ("'runway' is reserved for the runways",), "'runway'"),
    ),
    case(
        "effector_named_total.toml",
        Line("effectors[0].name", ("'total' is reserved", "cost_per_kill_total_usd"), "'total'"),
        Line(
            "effectors[1].name",
            ("'shelters' is reserved", "capital_cost_shelters_usd"),
            "'shelters'",
        ),
    ),
    case(
        "base_names_and_runways.toml",
        Line("base.assets[1].name", ("duplicate name; base.assets[0] already uses it",), "'jet'"),
        Line("threats[0].targets.runway", ("the base has no runways (base.runways = 0)",)),
    ),
    case(
        "targets_without_base.toml",
        Line("threats[0].targets", ("needs a [base] section to aim at",)),
    ),
    case(
        "empty_lists.toml",
        Line("threats", ("at least one threat group is required",), "0"),
        Line("campaign.salvos", ("at least one salvo is required",), "[]"),
    ),
    case(
        "too_many_groups.toml",
        Line("threats", ("at most 255 threat groups",), "256"),
        Line("effectors", ("at most 255 effectors",), "256"),
    ),
    case(
        "too_many_salvos_and_threats.toml",
        Line("threats", ("at most 1,000,000 threats in one raid",), "1200000"),
        Line("campaign.salvos", ("at most 1000 salvos",), "1001"),
        Line("campaign.salvos[0]", ("at most 1,000,000 threats in one raid",), "1200000"),
    ),
    case(
        "unknown_catalog_entry.toml",
        Line(
            "threats[0].use",
            ("no catalog entry of that name in threats", "did you mean 'shahed_136'?"),
            "'shahed_999'",
        ),
        Line(
            "effectors[0].kind", ("catalog entry 'sm6' is a interceptor, not a laser",), "'laser'"
        ),
    ),
    case(
        "unknown_use_and_other_problems.toml",
        Line(
            "threats[0].use",
            ("no catalog entry of that name in threats", "did you mean 'shahed_136'?"),
            "'shahed_13'",
        ),
        Line("scenario.name", NAME_RULE, "'Tiny'"),
        Line("threats[0].count", AT_LEAST_0, "-4"),
        Line("effectors[0].rounds", AT_LEAST_0, "-8"),
    ),
    case(
        "dollar_year_before_index.toml",
        Line("scenario.dollar_year", ("dollar year 1900: the bundled price index covers",), "1900"),
    ),
    # -- engagement realism: reliability, pk by range, radar horizon -------------------
    case(
        "reliability_above_one.toml",
        Line("effectors[0].reliability", ("less than or equal to 1",), "1.2"),
    ),
    case(
        "common_mode_failure_negative.toml",
        Line("effectors[0].common_mode_failure", AT_LEAST_0, "-0.1"),
    ),
    case(
        "reliability_on_laser.toml",
        Line("effectors[1].reliability", ("unknown field", "allowed:", "availability")),
    ),
    case("altitude_negative.toml", Line("threats[0].altitude_m", AT_LEAST_0, "-5.0")),
    case("sensor_height_negative.toml", Line("sensor.height_m", AT_LEAST_0, "-10.0")),
    case(
        "sensor_height_missing.toml",
        Line("sensor.height_m", MISSING),
        Line("sensor.heigth_m", ("unknown field", "did you mean 'height_m'?", "allowed: height_m")),
    ),
    case(
        "pk_by_range_unknown_threat.toml",
        Line(
            "effectors[0].pk_by_range.owa_dron",
            ("names no threat", "threats are: owa_drone", "did you mean 'owa_drone'?"),
        ),
    ),
    case(
        "pk_by_range_not_increasing.toml",
        Line(
            "effectors[0].pk_by_range.owa_drone",
            ("[range_km, pk] pairs", "strictly increasing range"),
            "[[5.0, 0.9], [40.0, 0.5], [40.0, 0.4]]",
        ),
    ),
    case(
        "pk_by_range_pk_above_one.toml",
        Line("effectors[0].pk_by_range.owa_drone[1][1]", ("less than or equal to 1",), "1.5"),
    ),
    case(
        "pk_by_range_negative_range.toml",
        Line("effectors[0].pk_by_range.owa_drone[0][0]", AT_LEAST_0, "-5.0"),
    ),
    case(
        "pk_by_range_not_pairs.toml",
        Line(
            "effectors[0].pk_by_range.owa_drone[1]",
            ("a [range_km, pk] pair of two numbers",),
            "[40.0, 0.5, 0.1]",
        ),
        Line("effectors[1].pk_by_range.owa_drone", ("at least one [range_km, pk] point",), "[]"),
    ),
    # -- doctrine (policy = "preferential") ----------------------------------------------
    case(
        "doctrine_missing.toml",
        Line("doctrine", ('required by policy = "preferential"', "most preferred first")),
    ),
    case(
        "doctrine_missing_group.toml",
        Line("doctrine.ascm", ('required by policy = "preferential"', "[] for none")),
    ),
    case(
        "doctrine_unknown_threat.toml",
        Line(
            "doctrine.owa_dron",
            ("names no threat", "threats are: owa_drone", "did you mean 'owa_drone'?"),
        ),
    ),
    case(
        "doctrine_unknown_effector.toml",
        Line("doctrine.owa_drone[1]", ("names no effector", "effectors are: sam")),
    ),
    case(
        "doctrine_duplicate_effector.toml",
        Line(
            "doctrine.owa_drone[1]",
            ("listed twice", "doctrine.owa_drone[0] already names it"),
            "'sam'",
        ),
    ),
    case(
        "doctrine_not_list.toml",
        Line("doctrine.owa_drone", ("must be a list of effector names",), "'sam'"),
    ),
    # -- malformed TOML -----------------------------------------------------------------
    case("malformed_toml.toml", Line("", ("malformed TOML", "(at line 12, column 17)"))),
    # -- bounds of the capital-cost, ship and p_hit fields (issue 12, under issue 17's bounds)
    case(
        "capital_bounds_high.toml",
        Line(
            "effectors[0].acquisition_usd",
            ("input should be less than or equal to 1000000000000",),
            "2000000000000.0",
        ),
        Line(
            "effectors[0].fixed_acquisition_usd",
            ("input should be less than or equal to 1000000000000",),
            "2000000000000.0",
        ),
        Line(
            "effectors[0].service_life_years",
            ("input should be less than or equal to 200",),
            "201.0",
        ),
        Line(
            "effectors[0].acquisition_units", ("input should be less than or equal to 255",), "256"
        ),
        Line(
            "effectors[1].acquisition_usd",
            ("input should be less than or equal to 1000000000000",),
            "2000000000000.0",
        ),
        Line(
            "effectors[1].fixed_acquisition_usd",
            ("input should be less than or equal to 1000000000000",),
            "2000000000000.0",
        ),
        Line(
            "effectors[1].service_life_years",
            ("input should be less than or equal to 200",),
            "201.0",
        ),
        Line(
            "effectors[1].acquisition_units", ("input should be less than or equal to 255",), "256"
        ),
        Line(
            "effectors[2].acquisition_usd",
            ("input should be less than or equal to 1000000000000",),
            "2000000000000.0",
        ),
        Line(
            "effectors[2].fixed_acquisition_usd",
            ("input should be less than or equal to 1000000000000",),
            "2000000000000.0",
        ),
        Line(
            "effectors[2].service_life_years",
            ("input should be less than or equal to 200",),
            "201.0",
        ),
        Line(
            "effectors[2].acquisition_units", ("input should be less than or equal to 255",), "256"
        ),
        Line(
            "base.shelter_cost_usd",
            ("input should be less than or equal to 1000000000000",),
            "2000000000000.0",
        ),
        Line(
            "base.shelter_service_life_years",
            ("input should be less than or equal to 200",),
            "201.0",
        ),
        Line(
            "base.repair_team_cost_usd",
            ("input should be less than or equal to 1000000000000",),
            "2000000000000.0",
        ),
        Line(
            "base.repair_team_service_life_years",
            ("input should be less than or equal to 200",),
            "201.0",
        ),
        Line(
            "base.dispersal_site_cost_usd",
            ("input should be less than or equal to 1000000000000",),
            "2000000000000.0",
        ),
        Line(
            "base.dispersal_site_service_life_years",
            ("input should be less than or equal to 200",),
            "201.0",
        ),
        Line("costing.service_life_years", ("input should be less than or equal to 200",), "201.0"),
        Line(
            "costing.raids_per_year",
            ("input should be less than or equal to 1000000",),
            "2000000.0",
        ),
        Line(
            "ship.name",
            ("string should have at most 48 characters",),
            "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'",
        ),
        Line(
            "ship.value_usd",
            ("input should be less than or equal to 1000000000000",),
            "2000000000000.0",
        ),
        Line("ship.hits_to_kill", ("input should be less than or equal to 255",), "256"),
    ),
    case(
        "capital_bounds_low.toml",
        Line("threats[0].p_hit", ("input should be greater than or equal to 0",), "-0.1"),
        Line(
            "effectors[0].acquisition_usd", ("input should be greater than or equal to 0",), "-1.0"
        ),
        Line(
            "effectors[0].fixed_acquisition_usd",
            ("input should be greater than or equal to 0",),
            "-1.0",
        ),
        Line(
            "effectors[0].service_life_years",
            ("input should be greater than or equal to 0.01",),
            "0.0",
        ),
        Line(
            "effectors[0].acquisition_units", ("input should be greater than or equal to 0",), "-1"
        ),
        Line(
            "effectors[1].acquisition_usd", ("input should be greater than or equal to 0",), "-1.0"
        ),
        Line(
            "effectors[1].fixed_acquisition_usd",
            ("input should be greater than or equal to 0",),
            "-1.0",
        ),
        Line(
            "effectors[1].service_life_years",
            ("input should be greater than or equal to 0.01",),
            "0.0",
        ),
        Line(
            "effectors[1].acquisition_units", ("input should be greater than or equal to 0",), "-1"
        ),
        Line(
            "effectors[2].acquisition_usd", ("input should be greater than or equal to 0",), "-1.0"
        ),
        Line(
            "effectors[2].fixed_acquisition_usd",
            ("input should be greater than or equal to 0",),
            "-1.0",
        ),
        Line(
            "effectors[2].service_life_years",
            ("input should be greater than or equal to 0.01",),
            "0.0",
        ),
        Line(
            "effectors[2].acquisition_units", ("input should be greater than or equal to 0",), "-1"
        ),
        Line("base.shelter_cost_usd", ("input should be greater than or equal to 0",), "-1.0"),
        Line(
            "base.shelter_service_life_years",
            ("input should be greater than or equal to 0.01",),
            "0.0",
        ),
        Line("base.repair_team_cost_usd", ("input should be greater than or equal to 0",), "-1.0"),
        Line(
            "base.repair_team_service_life_years",
            ("input should be greater than or equal to 0.01",),
            "0.0",
        ),
        Line(
            "base.dispersal_site_cost_usd", ("input should be greater than or equal to 0",), "-1.0"
        ),
        Line(
            "base.dispersal_site_service_life_years",
            ("input should be greater than or equal to 0.01",),
            "0.0",
        ),
        Line(
            "costing.service_life_years", ("input should be greater than or equal to 0.01",), "0.0"
        ),
        Line("costing.raids_per_year", ("input should be greater than or equal to 0.001",), "0.0"),
        Line(
            "ship.name",
            ("must be an identifier: a lower-case letter, then lower-case letters, digits or _",),
            "'Bad Name'",
        ),
        Line("ship.value_usd", ("input should be greater than or equal to 0",), "-1.0"),
        Line("ship.p_kill_per_hit", ("input should be less than or equal to 1",), "1.5"),
    ),
    case(
        "ship_hits_to_kill_zero.toml",
        Line("ship.hits_to_kill", ("input should be greater than or equal to 1",), "0"),
    ),
    case(
        "ship_p_kill_negative.toml",
        Line("ship.p_kill_per_hit", ("input should be greater than or equal to 0",), "-0.1"),
    ),
    # -- bounds and names of the engagement-realism fields (issue 15, issue 17's bounds)
    case(
        "realism_bounds_high.toml",
        Line(
            "threats[0].altitude_m",
            ("input should be less than or equal to 1000000000000",),
            "2000000000000.0",
        ),
        Line(
            "effectors[0].common_mode_failure", ("input should be less than or equal to 1",), "1.5"
        ),
        Line("effectors[1].reliability", ("input should be less than or equal to 1",), "1.5"),
        Line(
            "effectors[1].common_mode_failure", ("input should be less than or equal to 1",), "1.5"
        ),
        Line(
            "effectors[1].pk_by_range.owa_drone[0][0]",
            ("input should be less than or equal to 1000000000000",),
            "2000000000000.0",
        ),
        Line(
            "effectors[1].pk_by_range.owa_drone[0][1]",
            ("input should be less than or equal to 1",),
            "1.5",
        ),
        Line(
            "sensor.height_m",
            ("input should be less than or equal to 1000000000000",),
            "2000000000000.0",
        ),
    ),
    case(
        "realism_bounds_low.toml",
        Line("effectors[0].reliability", ("input should be greater than or equal to 0",), "-0.1"),
        Line("effectors[1].reliability", ("input should be greater than or equal to 0",), "-0.1"),
        Line(
            "effectors[1].common_mode_failure",
            ("input should be greater than or equal to 0",),
            "-0.1",
        ),
        Line(
            "effectors[1].pk_by_range.owa_drone[0][0]",
            ("input should be greater than or equal to 0",),
            "-1.0",
        ),
        Line(
            "effectors[1].pk_by_range.owa_drone[0][1]",
            ("input should be greater than or equal to 0",),
            "-0.5",
        ),
    ),
    case(
        "realism_names_bad.toml",
        Line(
            "effectors[0].pk_by_range.Owa-Drone",
            ("must be an identifier: a lower-case letter, then lower-case letters, digits or _",),
            "'Owa-Drone'",
        ),
        Line(
            "effectors[0].pk_by_range.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            ("string should have at most 48 characters",),
            "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'",
        ),
        Line(
            "effectors[1].pk_by_range.Owa-Drone",
            ("must be an identifier: a lower-case letter, then lower-case letters, digits or _",),
            "'Owa-Drone'",
        ),
        Line(
            "effectors[1].pk_by_range.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            ("string should have at most 48 characters",),
            "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'",
        ),
        Line(
            "doctrine.Owa-Drone",
            ("must be an identifier: a lower-case letter, then lower-case letters, digits or _",),
            "'Owa-Drone'",
        ),
        Line(
            "doctrine.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            ("string should have at most 48 characters",),
            "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'",
        ),
    ),
    # -- bounds of the laser-physics, lethality, railgun-drag and weather fields (issue 14)
    case(
        "physics_bounds_high.toml",
        Line(
            "threats[0].min_dwell_s",
            ("input should be less than or equal to 1000000",),
            "2000000.0",
        ),
        Line(
            "effectors[0].ballistic_coefficient_kg_m2",
            ("input should be less than or equal to 1000000",),
            "2000000.0",
        ),
        Line(
            "effectors[0].miss_rate_m_per_s",
            ("input should be less than or equal to 100000",),
            "200000.0",
        ),
        Line(
            "effectors[0].lethal_radius_m",
            ("input should be less than or equal to 1000000",),
            "2000000.0",
        ),
        Line("effectors[1].cn2", ("input should be less than or equal to 0.0000000001",), "1e-09"),
        Line(
            "effectors[1].absorption_per_km",
            ("input should be less than or equal to 1000",),
            "2000.0",
        ),
        Line("effectors[1].wind_mps", ("input should be less than or equal to 1000",), "2000.0"),
        Line(
            "effectors[1].jitter_per_axis_urad",
            ("input should be less than or equal to 1000000",),
            "2000000.0",
        ),
        Line(
            "effectors[1].settle_s", ("input should be less than or equal to 1000000",), "2000000.0"
        ),
        Line(
            "weather[0].extinction_per_km",
            ("input should be less than or equal to 1000",),
            "2000.0",
        ),
        Line(
            "weather[0].absorption_per_km",
            ("input should be less than or equal to 1000",),
            "2000.0",
        ),
        Line("weather[0].cn2", ("input should be less than or equal to 0.0000000001",), "1e-09"),
        Line("weather[0].wind_mps", ("input should be less than or equal to 1000",), "2000.0"),
    ),
    case(
        "physics_bounds_low.toml",
        Line("effectors[0].miss_rate_m_per_s", ("input should be greater than 0",), "0.0"),
        Line("effectors[0].lethal_radius_m", ("input should be greater than 0",), "0.0"),
        Line("effectors[1].cn2", ("input should be greater than or equal to 0",), "-1e-15"),
        Line(
            "effectors[1].absorption_per_km",
            ("input should be greater than or equal to 0",),
            "-1.0",
        ),
        Line("effectors[1].wind_mps", ("input should be greater than 0",), "0.0"),
        Line(
            "effectors[1].jitter_per_axis_urad",
            ("input should be greater than or equal to 0",),
            "-1.0",
        ),
        Line(
            "weather[0].extinction_per_km", ("input should be greater than or equal to 0",), "-1.0"
        ),
        Line(
            "weather[0].absorption_per_km", ("input should be greater than or equal to 0",), "-1.0"
        ),
        Line("weather[0].cn2", ("input should be greater than or equal to 0",), "-1e-15"),
        Line("weather[0].wind_mps", ("input should be greater than 0",), "0.0"),
        Line("weather[1].probability", ("input should be greater than or equal to 0",), "-0.1"),
    ),
]
CONTENT_CASES = [content for content, _ in _CASES]
COUNT_CASES = [count for _, count in _CASES]
WARNING_FILE = "warn_unengageable.toml"


def load_error(path: Path) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value


def lines_for(text: str, source: Path, field_path: str) -> list[str]:
    prefix = f"{source}: {field_path}: " if field_path else f"{source}: "
    return [line for line in text.splitlines() if line.startswith(prefix)]


@pytest.mark.parametrize("c", CONTENT_CASES)
def test_bad_file_names_file_path_allowed_and_value(c: Case):
    path = BAD / c.file
    err = load_error(path)
    text = str(err)
    assert err.source == str(path)
    for expected in c.lines:
        found = lines_for(text, path, expected.path)
        if expected.path:
            # exactly one line for this field, not one more for a longer path sharing a prefix
            assert len(found) == 1, f"one line for {expected.path!r} expected in:\n{text}"
        else:
            assert found, f"a whole-file line expected in:\n{text}"
        line = found[0]
        for word in expected.words:
            assert word in line, f"{word!r} missing from: {line}"
        if expected.value is not None:
            assert line.endswith(f"(got {expected.value})"), line
        assert expected.path in [p.path for p in err.problems]


@pytest.mark.parametrize("c", COUNT_CASES)
def test_bad_file_gives_one_line_per_problem(c: Case):
    path = BAD / c.file
    text = str(load_error(path))
    lines = text.splitlines()
    assert len(lines) == len(c.lines), text
    assert all(line.startswith(f"{path}: ") for line in lines), text


def test_every_bad_file_has_a_case_and_a_comment():
    files = {p.name for p in BAD.glob("*.toml")}
    covered = {c.values[0].file for c in CONTENT_CASES} | {WARNING_FILE}
    assert files == covered
    for name in files:
        assert (BAD / name).read_text(encoding="utf-8").startswith("# Rule: "), name


def test_several_problems_keep_file_order():
    text = str(load_error(BAD / "several_problems.toml"))
    paths = [line.split(": ")[1] for line in text.splitlines()]
    assert paths == [
        "scenario.name",
        "effectors[0].rounds",
        "effectors[0].pk.owa_drone",
        "effectors[1].kind",
    ]


def test_problem_from_a_mapping_names_the_mapping():
    data = small_scenario()
    data["effectors"][0]["pk"]["owa_drone"] = 1.5
    with pytest.raises(ScenarioError) as info:
        load_scenario(data)
    assert str(info.value) == (
        "<mapping>: effectors[0].pk.owa_drone: input should be less than or equal to 1 (got 1.5)"
    )


def test_scenario_error_is_a_value_error_and_costx_error():
    err = load_error(BAD / "bad_kind.toml")
    assert isinstance(err, ValueError)
    assert isinstance(err, costx.CostxError)
    assert err.problems[0].path == "effectors[0].kind"
    assert err.problems[0].value == "phaser"


def test_too_many_threats_in_one_raid():
    data = small_scenario()
    data["threats"][0]["count"] = 1_000_001
    with pytest.raises(ScenarioError) as info:
        load_scenario(data)
    assert (
        str(info.value) == "<mapping>: threats: at most 1,000,000 threats in one raid (got 1000001)"
    )


def test_too_many_threat_groups_is_one_short_line():
    data = small_scenario()
    data["threats"] = [dict(data["threats"][0], name=f"t{i}") for i in range(256)]
    data["effectors"] = []
    with pytest.raises(ScenarioError) as info:
        load_scenario(data)
    text = str(info.value)
    assert "at most 255" in text
    assert "256" in text
    assert len(text) < 200, text[:300]


# -- the warning ------------------------------------------------------------------------


def test_threat_no_effector_can_engage_is_a_warning_not_an_error():
    path = BAD / WARNING_FILE
    with pytest.warns(CostxWarning) as record:
        scenario = load_scenario(path)
    messages = [str(w.message) for w in record if issubclass(w.category, CostxWarning)]
    assert messages == [
        f"{path}: threats[{i}] ({name}): no effector can engage it (no pk entry above 0 within "
        "reach, and no laser with its kill fluence)"
        for i, name in ((1, "ascm"), (2, "asbm"), (3, "fast"))
    ]
    assert [t.name for t in scenario.threats] == ["owa_drone", "ascm", "asbm", "fast"]
    assert len(scenario.warnings()) == 3


def test_no_warning_when_a_laser_or_a_count_of_zero_covers_the_threat():
    data = small_scenario()
    data["threats"].append(dict(data["threats"][0], name="idle", count=0))
    data["threats"].append(dict(data["threats"][0], name="burnable", kill_fluence_j_cm2=500.0))
    data["effectors"].append(laser())
    scenario = load_scenario(data)  # filterwarnings=error: any warning fails the test
    assert scenario.warnings() == []


# -- what is allowed --------------------------------------------------------------------


def test_zero_counts_rounds_and_units_are_allowed():
    data = small_scenario()
    data["threats"][0]["count"] = 0
    data["effectors"][0]["rounds"] = 0
    data["effectors"].append(laser(units=0))
    scenario = load_scenario(data)
    assert scenario.threats[0].count == 0
    assert scenario.effectors[0].rounds == 0
    assert scenario.effectors[1].units == 0


def test_integers_are_accepted_where_numbers_are_expected():
    data = small_scenario()
    data["threats"][0]["unit_cost_usd"] = 20_000
    data["effectors"][0]["pk"]["owa_drone"] = 1
    scenario = load_scenario(data)
    assert scenario.threats[0].unit_cost_usd == 20_000
    assert scenario.effectors[0].pk["owa_drone"] == 1


def test_railgun_with_both_barrel_fields_charges_wear():
    data = small_scenario()
    data["effectors"].append(railgun(barrel_life_rounds=1_000, barrel_cost_usd=400_000.0))
    gun = load_scenario(data).effectors[1]
    assert gun.round_cost_usd == pytest.approx(25_000.0 + 400.0)


# -- loading ----------------------------------------------------------------------------


def test_load_from_mapping():
    scenario = load_scenario(small_scenario())
    assert isinstance(scenario, Scenario)
    assert scenario.source == "<mapping>"
    assert scenario.name == "tiny"
    assert scenario.effectors[0].pk == {"owa_drone": 0.8}


def test_load_from_path_and_str(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(small_toml(), encoding="utf-8")
    from_path = load_scenario(path)
    from_str = load_scenario(str(path))
    assert from_path.source == from_str.source == str(path)
    assert from_path == from_str
    assert from_path.to_dict() == load_scenario(small_scenario()).to_dict()


def test_load_from_bundled_name():
    scenario = load_scenario("ddg_mixed_raid")
    assert scenario.source == "bundled:ddg_mixed_raid"
    assert scenario.name == "ddg_mixed_raid"
    assert [t.name for t in scenario.threats] == ["owa_drone", "ascm", "asbm"]
    assert [e.name for e in scenario.effectors] == ["sm2", "sm6", "hvp_railgun", "helios"]
    assert "ddg_mixed_raid" in bundled.scenario_names()


def test_load_returns_a_scenario_unchanged():
    scenario = load_scenario("ddg_mixed_raid")
    assert load_scenario(scenario) is scenario


def test_unknown_bundled_name_lists_the_bundled_scenarios():
    with pytest.raises(ScenarioError) as info:
        load_scenario("no_such_scenario")
    text = str(info.value)
    assert text.startswith("no_such_scenario: no such file, and no bundled scenario")
    assert "ddg_mixed_raid" in text


def test_missing_file_is_reported(tmp_path):
    path = tmp_path / "absent.toml"
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value) == f"{path}: no such file"


def test_file_that_is_not_utf8_is_reported(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes(
        small_toml().replace('"tiny"', '"tiny"\ndescription = "caf\xe9"').encode("latin-1")
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value).startswith(f"{path}: cannot read: ")


def test_load_rejects_other_types():
    with pytest.raises(TypeError, match="not int"):
        load_scenario(42)


# -- loading never executes anything from the file ---------------------------------------


def test_code_in_a_name_stays_a_string_and_runs_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    err = load_error(BAD / "code_in_name.toml")
    assert err.problems[0].value == "__import__('os').mkdir('costx_pwned')"
    assert list(tmp_path.iterdir()) == []


def test_code_in_a_description_stays_a_string_and_runs_nothing(tmp_path, monkeypatch):
    payload = "__import__('os').mkdir('costx_pwned')"
    path = tmp_path / "payload.toml"
    path.write_text(small_toml(description=payload), encoding="utf-8")
    monkeypatch.chdir(tmp_path)

    def forbidden(*args, **kwargs):
        raise AssertionError("loading a scenario called eval or exec")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    scenario = load_scenario(path)
    monkeypatch.undo()
    assert scenario.scenario.description == payload
    assert sorted(p.name for p in tmp_path.iterdir()) == ["payload.toml"]


# -- immutability -----------------------------------------------------------------------


def test_scenario_attributes_cannot_be_assigned():
    scenario = load_scenario("ddg_mixed_raid")
    with pytest.raises((TypeError, ValueError)):
        scenario.threats = ()
    with pytest.raises((TypeError, ValueError)):
        scenario.scenario.name = "other"
    with pytest.raises((TypeError, ValueError)):
        scenario.threats[0].count = 1_000
    with pytest.raises((TypeError, ValueError)):
        scenario.effectors[0].max_range_km = 1.0
    assert scenario.threats[0].count == 24
    assert scenario.name == "ddg_mixed_raid"


def test_threat_and_effector_lists_cannot_grow():
    scenario = load_scenario("ddg_mixed_raid")
    assert isinstance(scenario.threats, tuple)
    assert isinstance(scenario.effectors, tuple)
    with pytest.raises(AttributeError):
        scenario.threats.append(scenario.threats[0])


def test_pk_table_cannot_be_modified():
    pk = load_scenario("ddg_mixed_raid").effectors[0].pk
    before = dict(pk)
    attempts = [
        lambda: pk.__setitem__("asbm", 1.0),
        lambda: pk.__setitem__("new", 1.0),
        lambda: pk.__delitem__("asbm"),
        lambda: pk.update(asbm=1.0),
        lambda: pk.pop("asbm"),
        lambda: pk.popitem(),
        lambda: pk.setdefault("new", 1.0),
        pk.clear,
    ]
    for attempt in attempts:
        with pytest.raises(TypeError):
            attempt()
    with pytest.raises(TypeError):
        pk |= {"asbm": 1.0}
    assert dict(pk) == before


def test_mapping_used_to_load_does_not_alias_the_scenario():
    data = small_scenario()
    scenario = load_scenario(data)
    data["effectors"][0]["pk"]["owa_drone"] = 0.1
    data["threats"][0]["count"] = 99
    assert scenario.effectors[0].pk["owa_drone"] == 0.8
    assert scenario.threats[0].count == 4


def test_scenario_is_hashable():
    scenario = load_scenario("ddg_mixed_raid")
    assert hash(scenario) == hash(load_scenario("ddg_mixed_raid"))


# -- round trips ------------------------------------------------------------------------


@pytest.mark.parametrize("name", bundled.scenario_names())
def test_bundled_scenario_round_trips_through_toml(name):
    original = load_scenario(name)
    again = load_scenario(tomllib.loads(original.to_toml()))
    assert again.to_dict() == original.to_dict()
    assert again == load_scenario(original.to_dict())
    assert again.to_toml() == original.to_toml()


@pytest.mark.parametrize("name", bundled.scenario_names())
def test_bundled_scenario_loaded_from_its_to_toml_file_is_equal(name, tmp_path):
    original = load_scenario(name)
    path = tmp_path / f"{name}.toml"
    path.write_text(original.to_toml(), encoding="utf-8")
    assert load_scenario(path) == original


def test_bundled_names_are_not_empty():
    assert bundled.scenario_names(), "no bundled scenarios found"


IDENT = st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True)
NON_NEGATIVE = st.floats(min_value=0.0, max_value=1e9, allow_nan=False, allow_infinity=False)
POSITIVE = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False, allow_infinity=False)
PROBABILITY = st.floats(min_value=0.0, max_value=1.0)
# Within the bounds of docs/scenarios.md ("Bounds"): speeds to 100 km/s, ranges to 20,000 km,
# times to 1e6 s, detection to impact in at most 1e6 s (1,000 km at 1 m/s).
SPEED = st.floats(min_value=1.0, max_value=1e5)
RANGE = st.floats(min_value=1e-3, max_value=1e3)
SECONDS = st.floats(min_value=0.0, max_value=1e6)


def _optional(draw, data: dict, key: str, strategy) -> None:
    if draw(st.booleans()):
        data[key] = draw(strategy)


@st.composite
def valid_scenarios(draw) -> dict:
    threat_names = draw(st.lists(IDENT, min_size=1, max_size=4, unique=True))
    threats = []
    for name in threat_names:
        t = {
            "name": name,
            "count": draw(st.integers(0, 1_000)),
            "unit_cost_usd": draw(NON_NEGATIVE),
            "speed_mps": draw(SPEED),
            "detect_range_km": draw(RANGE),
        }
        _optional(draw, t, "arrival", st.sampled_from(["simultaneous", "stream", "uniform"]))
        _optional(draw, t, "start_s", SECONDS)
        _optional(draw, t, "window_s", SECONDS)
        _optional(draw, t, "kill_fluence_j_cm2", POSITIVE)
        threats.append(t)
    effectors = []
    for name in draw(st.lists(IDENT, max_size=4, unique=True)):
        kind = draw(st.sampled_from(KINDS))
        max_range = draw(RANGE)
        low = 0.01 if kind == "laser" else 0.0
        e = {
            "name": name,
            "kind": kind,
            "max_range_km": max_range,
            "min_range_km": max_range * draw(st.floats(low, 0.99)),
            "cost_per_shot_usd": draw(NON_NEGATIVE),
        }
        if kind == "laser":
            e |= {
                "power_kw": draw(st.floats(1e-3, 1e5)),
                "aperture_m": draw(st.floats(1e-3, 100.0)),
                "wavelength_um": draw(st.floats(0.1, 100.0)),
            }
            _optional(draw, e, "units", st.integers(0, 8))
            _optional(draw, e, "beam_quality", st.floats(1.0, 10.0))
            _optional(draw, e, "availability", PROBABILITY)
            _optional(draw, e, "magazine_s", st.floats(1e-3, 1e6))
        else:
            e |= {
                "rounds": draw(st.integers(0, 1_000)),
                "speed_mps": draw(SPEED),
                "pk": draw(st.dictionaries(st.sampled_from(threat_names), PROBABILITY)),
            }
            _optional(draw, e, "channels", st.integers(1, 255))
            _optional(draw, e, "salvo_size", st.integers(1, 255))
            _optional(draw, e, "max_engagements", st.integers(1, 255))
            _optional(draw, e, "assess_s", SECONDS)
            if kind == "interceptor":
                _optional(draw, e, "fire_interval_s", SECONDS)
            else:
                e["rate_per_min"] = draw(POSITIVE)
                if draw(st.booleans()):
                    e["barrel_life_rounds"] = draw(st.integers(1, 10_000))
                    e["barrel_cost_usd"] = draw(NON_NEGATIVE)
        effectors.append(e)
    info = {"name": draw(IDENT)}
    _optional(draw, info, "description", st.text(max_size=40))
    _optional(draw, info, "policy", st.sampled_from(["layered", "cost_aware"]))
    return {"scenario": info, "threats": threats, "effectors": effectors}


@settings(max_examples=150, deadline=None)
@given(valid_scenarios())
def test_generated_scenarios_round_trip_through_toml(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CostxWarning)  # unengageable threats are fine here
        original = load_scenario(data)
        again = load_scenario(tomllib.loads(original.to_toml()))
    assert again == original
    assert again.to_dict() == original.to_dict()


# -- helpers ----------------------------------------------------------------------------


def small_scenario() -> dict:
    """The tiny valid scenario the bad files start from, as a fresh mapping."""
    return copy.deepcopy(
        {
            "scenario": {"name": "tiny"},
            "threats": [
                {
                    "name": "owa_drone",
                    "count": 4,
                    "unit_cost_usd": 20_000.0,
                    "speed_mps": 50.0,
                    "detect_range_km": 20.0,
                }
            ],
            "effectors": [
                {
                    "name": "sam",
                    "kind": "interceptor",
                    "rounds": 8,
                    "cost_per_shot_usd": 1_000_000.0,
                    "pk": {"owa_drone": 0.8},
                    "speed_mps": 1_000.0,
                    "max_range_km": 50.0,
                }
            ],
        }
    )


def small_toml(description: str | None = None) -> str:
    extra = f"description = {description!r}\n" if description is not None else ""
    return f"""\
[scenario]
name = "tiny"
{extra}
[[threats]]
name = "owa_drone"
count = 4
unit_cost_usd = 20_000.0
speed_mps = 50.0
detect_range_km = 20.0

[[effectors]]
name = "sam"
kind = "interceptor"
rounds = 8
cost_per_shot_usd = 1_000_000.0
pk = {{ owa_drone = 0.8 }}
speed_mps = 1_000.0
max_range_km = 50.0
"""


def laser(**overrides) -> dict:
    return {
        "name": "beam",
        "kind": "laser",
        "power_kw": 60.0,
        "aperture_m": 0.3,
        "wavelength_um": 1.07,
        "max_range_km": 8.0,
        "min_range_km": 0.2,
        "cost_per_shot_usd": 10.0,
    } | overrides


def railgun(**overrides) -> dict:
    return {
        "name": "gun",
        "kind": "railgun",
        "rounds": 100,
        "cost_per_shot_usd": 25_000.0,
        "pk": {"owa_drone": 0.3},
        "speed_mps": 2_400.0,
        "max_range_km": 40.0,
        "rate_per_min": 10.0,
    } | overrides


def test_an_assumption_of_a_removed_item_or_section_is_left_out_not_an_error():
    """A copy of a bundled scenario with an effector removed keeps its
    [scenario.assumptions] entries for it: those name values the scenario does not have,
    which is not an error (only a path off the structure is), and they are not listed
    (tests/test_costing.py removes [costing] likewise). A field path into a value is an
    error."""
    data = load_scenario("ddg_mixed_raid").to_dict()
    data["effectors"] = [e for e in data["effectors"] if e["name"] != "helios"]
    data["doctrine"] = {g: [e for e in d if e != "helios"] for g, d in data["doctrine"].items()}
    scenario = load_scenario(data)
    assert "effectors.helios.units" in scenario.scenario.assumptions
    listed = {path for path, _, _ in scenario.assumptions()}
    assert "effectors.helios.units" not in listed
    assert "effectors.sm2.rounds" in listed
    data["scenario"]["assumptions"]["effectors.sm2.rounds.max"] = "off the structure"
    with pytest.raises(ScenarioError) as info:
        load_scenario(data)
    assert str(info.value) == (
        "<mapping>: scenario.assumptions: 'effectors.sm2.rounds.max': effectors.sm2.rounds "
        "is a value, not a table"
    )


def test_an_assumption_of_a_default_value_is_listed_with_the_value():
    """to_dict() leaves out some defaults (reliability 1.0, common_mode_failure 0.0); an
    assumption about one ("assumed perfectly reliable") is listed with its value, not
    taken for a removed item."""
    data = load_scenario("red_sea_2024").to_dict()
    data["scenario"]["assumptions"] = {
        "effectors.sm6.reliability": "assumed perfectly reliable",
        "effectors.sm6.common_mode_failure": "no common-mode failure assumed",
    }
    listed = {path: value for path, value, _ in load_scenario(data).assumptions()}
    assert listed["effectors.sm6.reliability"] == 1.0
    assert listed["effectors.sm6.common_mode_failure"] == 0.0


def test_an_assumption_of_a_mistyped_item_name_warns():
    """A path through an item the scenario lacks is not an error (a removed item, above),
    but one whose name is close to an item it has is most likely a typo: loading warns,
    naming the likely item, and the entry lists nothing."""
    data = load_scenario("ddg_mixed_raid").to_dict()
    data["scenario"]["assumptions"]["effectors.sm22.rounds"] = "a typo of sm2"
    with pytest.warns(CostxWarning, match=r"'effectors.sm22.rounds': effectors has no 'sm22' "
                      r"\(did you mean 'sm2'\?\), so its entries list nothing"):  # fmt: skip
        scenario = load_scenario(data)
    assert "effectors.sm22.rounds" not in {path for path, _, _ in scenario.assumptions()}


def test_a_removed_item_named_like_another_does_not_warn():
    """ddg_mixed_raid's groups asbm and ascm are 0.75 alike (difflib): a copy without the
    asbm group warned 'did you mean ascm?' for its assumption entries."""
    data = load_scenario("ddg_mixed_raid").to_dict()
    data["threats"] = [t for t in data["threats"] if t["name"] != "asbm"]
    for effector in data["effectors"]:
        effector.get("pk", {}).pop("asbm", None)
    data["doctrine"].pop("asbm", None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scenario = load_scenario(data)
    assert "threats.asbm.count" in scenario.scenario.assumptions


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("effectors.sm2.chanels", "effectors.sm2 has no field 'chanels'; did you mean 'channels'?"),
        ("effectors.helios.power_kw.max", "effectors.helios.power_kw is a value, not a table"),
        ("threats.asbm.speed_mps.x", "threats.asbm.speed_mps is a value, not a table"),
        ("costing.servce_life_years", "costing has no field 'servce_life_years'"),
    ],
)
def test_an_assumption_key_off_the_structure_is_reported_with_the_other_problems(key, expected):
    """The assumption rule needs the scenario's structure; when other fields are invalid
    there is no validated model, so the key is walked through the models' fields with the
    data choosing items and kinds. Before, the typo was reported only once the other
    problems were fixed: one more round of `costx validate`."""
    data = load_scenario("ddg_mixed_raid").to_dict()
    data["threats"][0]["count"] = -1
    data["scenario"]["assumptions"][key] = "a typo"
    with pytest.raises(ScenarioError) as info:
        load_scenario(data)
    message = str(info.value)
    assert "threats[0].count" in message
    assert f"scenario.assumptions: {key!r}: {expected}" in message


def test_the_assumption_keys_walk_of_invalid_data_is_never_stricter_than_the_models():
    """On every bundled scenario, every field path (and paths off it: an unknown field, a
    field of a value, an entry of a table) that the validated model's walk accepts, the
    walk of the data accepts too: a file is never refused for an assumption key only
    because another field is invalid. Where the model's walk refuses a path, the data's
    refuses it alike or cannot tell (None: an item or section the data leaves out)."""
    from costx import scenario as model

    def paths(node, prefix=""):
        if isinstance(node, dict):
            for k, v in node.items():
                yield prefix + k
                yield from paths(v, f"{prefix}{k}.")
        elif isinstance(node, list):
            for item in node:
                if isinstance(item, dict) and "name" in item:
                    yield from paths(item, f"{prefix}{item['name']}.")

    compared = refused = 0
    for name in bundled.scenario_names():
        scenario = load_scenario(name)
        data = scenario.to_dict()
        keys = set(paths(data)) | set(scenario.scenario.assumptions)
        for section in type(scenario).model_fields:  # fields the data leaves out too
            value = getattr(scenario, section)
            items = value if isinstance(value, tuple) else [value]
            for item in items:
                if isinstance(item, BaseModel):
                    at = f"{section}.{item.name}" if isinstance(value, tuple) else section
                    keys |= {f"{at}.{field}" for field in type(item).model_fields}
        keys |= {f"{k}.{tail}" for k in list(keys) for tail in ("bogus", "0", "name.x")}
        for key in keys:
            by_model = model._field_value(scenario, key)
            by_data = model._raw_off(data, key)
            compared += 1
            if isinstance(by_data, model._Off):
                refused += 1
                assert by_data == by_model, key
            elif isinstance(by_model, model._Off):
                assert by_data is None, key
    assert compared > 6_000 and refused > 3_000  # 6,404 and 3,177 when written


def test_a_result_file_given_as_a_scenario_is_named_as_one(tmp_path):
    """`costx show result.parquet` said "cannot read: 'utf-8' codec can't decode byte
    0x80"; a Parquet file (its first four bytes are PAR1) is now named as one, with where
    its scenario is."""
    result = costx.simulate(load_scenario(tomllib.loads(small_toml())), trials=10, seed=1)
    path = tmp_path / "result.parquet"
    result.to_parquet(path)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value).startswith(f"{path}: cannot read: a Parquet file (a costx result?)")
    assert costx.read_result(path).scenario == result.scenario


def test_the_layered_policy_warning_names_the_price_of_holding_fire():
    """A laser or railgun under layered gets a one-line warning (costx run prints it). It
    used to recommend preferential outright; holding fire can leak more against a raid
    that arrives at once (README, Firing policies: 24.6 leakers against 8.7), so it now
    says to compare the policies. None for a scenario without a laser or gun."""
    data = load_scenario("ddg_mixed_raid").to_dict()
    data["scenario"]["policy"] = "layered"
    warning = load_scenario(data).policy_warning()
    assert warning is not None and "hvp_railgun, helios" in warning
    assert "holding fire can leak more" in warning and "--set scenario.policy=" in warning
    assert load_scenario(tomllib.loads(small_toml())).policy_warning() is None
