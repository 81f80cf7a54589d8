"""The one formatting module: money, probabilities, counts, ratios, intervals and names,
as the command line, the report and the figures print them."""

import math

import numpy as np
import pytest

from costx import formatting as f


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "$0"),
        (9.5, "$9.50"),
        (10.0, "$10"),
        (15.79, "$15.8"),
        (950, "$950"),
        (999.6, "$1.00k"),
        (98_600, "$98.6k"),
        (2_650_000, "$2.65M"),
        (32_020_960, "$32.0M"),
        (3.84e9, "$3.84B"),
        (-1_620_941, "-$1.62M"),
        (1e300, "$1.00e+300"),
        (math.nan, "n/a"),
        (None, "n/a"),
    ],
)
def test_usd(value, text):
    assert f.usd(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0"),
        (8.0, "8"),
        (0.0412, "0.0412"),
        (1.2149, "1.21"),
        (15.79, "15.8"),
        (99.96, "100"),
        (1579.4, "1,579"),
        (-3.456, "-3.46"),
        (math.inf, "inf"),
    ],
)
def test_number(value, text):
    assert f.number(value) == text


def test_a_huge_ratio_is_never_printed_with_hundreds_of_digits():
    for value in (1e300, 123456789012345678.0, -1e200):
        assert len(f.number(value)) <= 10
        assert len(f.value(value, "ratio")) <= 10
        assert len(f.usd(value)) <= 12


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (0, "0 %"),
        (1, "100 %"),
        (0.412, "41.2 %"),
        (1 - 0.05 ** (1 / 100), "3.0 %"),
        (0.05 ** (1 / 100), "97.0 %"),
        (0.003, "0.30 %"),
        (0.9997, "99.970 %"),
    ],
)
def test_percent(p, text):
    assert f.percent(p) == text


def test_value_by_unit_and_signed_differences():
    assert f.value(4_446_701, "USD per kill") == "$4.45M"
    assert f.value(0.85, "probability") == "85.0 %"
    assert f.value(13.04, "ratio") == "13.0"
    assert f.value(1.21, "threats") == "1.21"
    assert f.value(-0.041, "probability", signed=True) == "-4.1 pp"
    assert f.value(-1.0, "probability", signed=True) == "-100 pp"
    assert f.value(2.18e-6, "ratio", signed=True) == "+2.18e-06"
    assert f.value(2.5, "threats", signed=True) == "+2.50"
    assert f.with_unit(1.21, "threats") == "1.21 threats"
    assert f.with_unit(2e6, "USD") == "$2.00M"


def test_intervals():
    assert f.interval(1.06, 1.36, "threats") == "1.06 to 1.36"
    assert f.interval(5.39e6, 5.39e6, "USD") == "fixed"
    assert f.interval(math.nan, 1.0, "USD") == "n/a"
    assert f.interval(3.5, math.inf, "USD per kill") == "at least $3.50"
    assert f.interval(-0.04, 0.01, "probability", signed=True) == "-4.0 pp to +1.0 pp"


def test_a_value_seen_in_every_trial_says_so():
    """The issue's example: 0 of 100 trials, 95 % upper 3.0 % (never 'exact')."""
    u = 1 - 0.05 ** (1 / 100)
    text = f.interval(0.0, u, "probability", mean=0.0, std_error=0.0, n=100)
    assert text == "up to 3.0 % (0 of 100 trials)"
    text = f.interval(1 - u, 1.0, "probability", mean=1.0, std_error=0.0, n=100)
    assert text == "at least 97.0 % (100 of 100 trials)"
    text = f.interval(0.0, 4 * u, "threats", mean=0.0, std_error=0.0, n=100)
    assert text == "0 to 0.118 (same in all 100 trials)"
    assert "exact" not in text
    # without the number of trials: just the interval
    assert f.interval(0.0, u, "probability", mean=0.0, std_error=0.0) == "0 % to 3.0 %"


def test_estimate():
    assert f.estimate(4.45e6, 4.37e6, 4.53e6, "USD") == "$4.45M (95 %: $4.37M to $4.53M)"
    assert f.estimate(5.39e6, 5.39e6, 5.39e6, "USD") == "$5.39M"


@pytest.mark.parametrize(
    ("measure", "unit", "label"),
    [
        ("cost_per_kill_usd", "USD per kill", "cost per kill (2025 USD per kill)"),
        ("p_any_leak", "probability", "P(any leak)"),
        ("leakers", "threats", "leakers (threats)"),
        ("leaked_cruise", "threats", "leakers, cruise (threats)"),
        ("cost_sm2_usd", "USD", "cost of sm2 (2025 USD)"),
        ("cost_per_kill_sm2_usd", "USD per kill", "cost per kill, sm2 (2025 USD per kill)"),
        ("cost_exchange_defense_over_attack", "ratio", "defense cost / attack cost"),
        ("runway_closed_h", "hours", "runway closure (hours)"),
        (
            "salvos_before_dry_thaad",
            "salvos (of 4)",
            "salvos before thaad runs dry (salvos (of 4))",
        ),
        ("p_dry_pac3_mse", "probability", "P(pac3_mse dry at the end)"),
    ],
)
def test_measure_labels_come_from_the_table(measure, unit, label):
    assert f.measure_label(measure, unit, dollar_year=2025) == label


@pytest.mark.parametrize(
    ("path", "label"),
    [
        ("effectors.helios.units", "helios: beam directors"),
        ("effectors.sm2.rounds", "sm2: magazine (rounds)"),
        ("base.repair_teams", "repair teams"),
        ("base.assets.f35a.sheltered", "f35a: sheltered"),
        ("effectors.sm2.pk.drone", "sm2: single-shot kill probability against drone"),
        ("effectors.sm6.cost_per_shot_usd", "sm6: cost per shot (2025 USD)"),
        ("threats.drone.detect_range_km", "drone: detect range (km)"),
    ],
)
def test_grid_variables_have_readable_labels_without_doubled_units(path, label):
    text = f.path_label(path, dollar_year=2025)
    assert text == label
    assert path not in text  # never the raw dotted path
    name, _, unit = text.partition(" (")
    assert not unit or unit.rstrip(")") not in name  # "units (units)" would fail


def test_point_label():
    point = {"effectors.sm2.rounds": 16, "base.assets.jet.sheltered": True}
    assert f.point_label(point) == "sm2: magazine = 16, jet: sheltered = yes"
    assert f.grid_value(np.bool_(False)) == "no" and f.grid_value(np.int64(3)) == "3"
    assert f.grid_value({"drone": 0.7}) == "drone 0.7"


def test_exact_writes_input_figures_out_without_rounding_them():
    """Catalog values and scenario fields (costx catalog, the report's scenario table):
    every digit of what was given, with separators; never hundreds of digits."""
    assert f.exact(1_250_000) == "1,250,000"
    assert f.exact(1_234_567.0) == "1,234,567"
    assert f.exact(0.85) == "0.85"
    assert f.exact(250) == "250"
    assert f.exact(12.5, "USD") == "12.50 USD"
    assert f.exact(4_300_000.0, "USD") == "4,300,000 USD"
    assert f.exact(1e300) == "1.000e+300"
    assert f.exact(2e15, "USD") == "2.000e+15 USD"
    assert f.exact(math.inf) == "inf"
    assert f.exact(True) == "True" and f.exact("SM-2") == "SM-2"


def test_per_item_capital_measures_are_named_after_the_item():
    """The report's summary printed "capital cost of cost_sm2" (seen in its screenshot):
    the pattern took the ``cost_`` of ``capital_cost_sm2_usd`` for part of the name."""
    assert f.measure_name("capital_cost_sm2_usd") == "capital cost of sm2"
    assert f.measure_name("capital_cost_dispersal_usd") == "capital cost of dispersal"
    assert f.measure_name("capital_cost_usd") == "capital cost (amortized)"


def test_interval_ends_that_round_alike_get_the_digits_that_tell_them_apart():
    """A report read "48.0 to 48 (same in all ... trials)" for 47.97 to 48 (seen in a
    screenshot): ends that print as the same number get the fewest decimals (the same
    for both ends) that tell them apart."""
    from costx.formatting import interval

    assert interval(47.97, 48.0, "", mean=48.0, std_error=0.0, n=100) == (
        "47.97 to 48.00 (same in all 100 trials)"
    )
    assert interval(0.04123, 0.04124, "") == "0.04123 to 0.04124"
    assert interval(1.2, 3.4, "") == "1.20 to 3.40"  # ends that differ keep 3 digits


@pytest.mark.parametrize(
    ("path", "label"),
    [
        ("effectors.hvp.miss_rate_m_per_s", "hvp: miss rate (m/s)"),  # was "miss rate m per"
        ("effectors.hvp.ballistic_coefficient_kg_m2", "hvp: ballistic coefficient (kg/m²)"),
        ("effectors.helios.absorption_per_km", "helios: absorption (per km)"),  # "per (km)"
        ("effectors.sm2.assess_s", "sm2: assess (s)"),  # the "s" of "assess" is no unit
        ("costing.service_life_years", "service life (years)"),
        ("effectors.sm2.rounds", "sm2: magazine (rounds)"),  # a name that says its unit
    ],
)
def test_a_grid_variable_label_gives_the_unit_of_its_suffix(path, label):
    assert f.path_label(path) == label
