"""The April 2024 scenario against the public record (docs in README, "Checked against
what happened").

The record (data/scenarios/iran_israel_apr2024.toml cites each figure):
* about 170 drones, 30 cruise missiles, more than 120 ballistic missiles (IDF via Axios);
* "99 %" intercepted (IDF); a few ballistic missiles hit Nevatim;
* defense spending NIS 4-5 billion, $1.08-1.35 billion, for the night (Amina via Yedioth).

Tolerances, set to what the inputs can support and not fitted to the output: every
single-shot kill probability is a placeholder (no official Pk exists) and the aircraft
that downed most drones are stood in for by an assumed `fighters` effector, so the model
is asked for "nearly all intercepted" as at least 90 % (the record: 99 %) and for a
defense cost within a factor of two of the reported range. The attack cost must equal
the cited unit costs times the counts exactly.
"""

import pytest

import costx
from costx.catalog import load_catalog

TRIALS = 4000


@pytest.fixture(scope="module")
def april():
    scenario = costx.load_scenario("iran_israel_apr2024")
    return scenario, costx.simulate(scenario, trials=TRIALS, seed=2024).summary()


def test_the_raid_has_the_reported_composition(april):
    scenario, _ = april
    counts = {t.name: t.count for t in scenario.threats}
    assert counts == {"drones": 170, "cruise": 30, "ballistic": 120}


def test_nearly_all_threats_are_intercepted(april):
    scenario, summary = april
    launched = sum(t.count for t in scenario.threats)
    intercepted = 1 - summary.loc["leakers", "ci95_high"] / launched
    assert intercepted >= 0.90, f"only {intercepted:.1%} intercepted (record: 99 %)"
    # Some ballistic missiles got through, as at Nevatim.
    assert summary.loc["leaked_ballistic", "mean"] > 0


def test_defense_cost_is_on_the_order_of_the_reported_figure(april):
    _, summary = april
    low, high = 1.08e9, 1.35e9  # NIS 4-5 billion (Amina via Yedioth, [S16])
    cost = summary.loc["defense_cost_usd", "mean"]
    assert low / 2 <= cost <= high * 2, f"${cost / 1e9:.2f}B vs $1.08-1.35B reported"


def test_costs_are_in_2024_dollars_like_the_record(april):
    """The reported NIS 4-5 billion is in 2024 money; the file says dollar_year = 2024."""
    scenario, _ = april
    assert scenario.scenario.dollar_year == 2024


def test_attack_cost_comes_from_the_cited_unit_costs(april):
    """Counts times the cited unit costs, each brought from its dollar year to 2024."""
    scenario, summary = april
    catalog = load_catalog()
    index = catalog.price_index
    expected = 0.0
    for t in scenario.threats:
        figure = catalog.entries["threats"][t.use].fields["unit_cost_usd"]
        expected += t.count * figure.value * index[2024] / index[figure.dollar_year]
    assert summary.loc["attack_cost_usd", "mean"] == pytest.approx(expected, rel=1e-12)
    nominal = 170 * 35_000 + 30 * 1_350_000 + 120 * 5_000_000  # the figures as cited
    assert expected == pytest.approx(nominal, rel=0.05)  # older dollar years, a few % off
