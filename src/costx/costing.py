"""Capital costs: what the defense costs to own, charged to one raid.

Rounds, shots and barrel wear are *expended* costs (``defense_cost_usd``): they are paid
again for every raid. Launchers, lasers, guns, shelters, repair teams and dispersal sites
are *capital*: bought once, used for years. A raid is charged its share of their annual
cost, the equivalent annual cost of the purchase over its service life at a real
discount rate, spread over the raids the defense is bought to meet in a year::

    charge = acquisition x CRF(r, L) / raids_per_year,
    CRF(r, L) = r / (1 - (1 + r)^-L)      (1 / L at r = 0)

with ``r`` the ``[costing] discount_rate``, ``L`` the service life in years (the item's
own, else ``[costing] service_life_years``) and ``raids_per_year`` from ``[costing]``. For
a campaign, one raid is one whole trial (every salvo of the campaign). The charges do not
depend on what happens in a trial: they are constants that the summary adds to the
expended costs (docs/model.md, "Capital costs").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from costx.scenario import Costing, Laser, Scenario


def capital_recovery_factor(rate: float, years: float) -> float:
    """CRF(r, L) = r / (1 - (1 + r)^-L), the annual payment that repays 1 over ``years``
    years at real rate ``rate``; 1 / L at r = 0 (its limit)."""
    if rate == 0.0:
        return 1.0 / years
    if abs(rate) < 1e-6:
        # 1 - (1 + r)^-L as -expm1(-L log1p(r)), exact to rounding however small r is: the
        # plain form loses digits as r falls (all of them by 1e-12; 1 / 0 below ~1e-16).
        # Above 1e-6 the plain form is as accurate, and keeps earlier results bit-identical.
        return rate / -math.expm1(-years * math.log1p(rate))
    return rate / (1.0 - (1.0 + rate) ** -years)


@dataclass(frozen=True)
class CapitalItem:
    """One capital charge: ``units`` x ``unit_cost_usd`` + ``fixed_usd`` bought for
    ``service_life_years``; ``charge_usd`` is its share charged to one raid."""

    measure: str  # the summary measure that reports it
    label: str
    units: int
    unit_cost_usd: float
    fixed_usd: float
    service_life_years: float
    crf: float
    raids_per_year: float
    charge_usd: float

    @property
    def acquisition_usd(self) -> float:
        return self.units * self.unit_cost_usd + self.fixed_usd


def acquisition_count(effector) -> int:
    """Units an effector's ``acquisition_usd`` is charged for: ``acquisition_units`` if
    given, else its laser units or its kinetic channels."""
    if effector.acquisition_units is not None:
        return effector.acquisition_units
    return effector.units if isinstance(effector, Laser) else effector.channels


def capital_items(scenario: Scenario) -> list[CapitalItem]:
    """Every capital charge of a scenario, in summary order: one per effector
    (``capital_cost_<effector>_usd``), then with a base its shelters, repair teams and
    dispersal sites. Items that buy nothing charge 0 (and need no ``raids_per_year``)."""
    costing = scenario.costing or Costing()
    raids = costing.raids_per_year
    rate = costing.discount_rate
    out: list[CapitalItem] = []

    def item(measure, label, units, unit_cost, fixed, life):
        life = costing.service_life_years if life is None else life
        crf = capital_recovery_factor(rate, life)
        bought = units * unit_cost + (fixed if units > 0 else 0.0)
        if bought > 0.0 and raids is None:  # validation requires it: never reached by users
            raise ValueError("costing.raids_per_year is required when capital is charged")
        charge = bought * crf / raids if bought > 0.0 else 0.0
        out.append(
            CapitalItem(
                measure, label, units, unit_cost, fixed if units > 0 else 0.0, life, crf,
                math.nan if raids is None else raids, charge,
            )
        )  # fmt: skip

    for e in scenario.effectors:
        item(
            f"capital_cost_{e.name}_usd", e.name, acquisition_count(e), e.acquisition_usd,
            e.fixed_acquisition_usd, e.service_life_years,
        )  # fmt: skip
    base = scenario.base
    if base is not None:
        sites = base.dispersal_sites
        item("capital_cost_shelters_usd", "shelters", base.sheltered_assets,
             base.shelter_cost_usd, 0.0, base.shelter_service_life_years)  # fmt: skip
        item("capital_cost_repair_teams_usd", "repair teams", base.repair_teams * sites,
             base.repair_team_cost_usd, 0.0, base.repair_team_service_life_years)  # fmt: skip
        item("capital_cost_dispersal_usd", "dispersal sites", sites - 1,
             base.dispersal_site_cost_usd, 0.0, base.dispersal_site_service_life_years)  # fmt: skip
    return out


def cost_breakdown(scenario: Scenario, summary) -> dict:
    """Expended, capital, damage and total cost of one raid, side by side, from a summary
    table (``SimulationResult.summary()``): each ``{"mean", "ci95_low", "ci95_high",
    "share"}`` (share: of the total), with the capital items and the ``[costing]``
    settings. The CLI, the HTML report and the Parquet metadata show it."""
    costing = scenario.costing or Costing()

    def row(measure):
        if measure not in summary.index:
            return None
        r = summary.loc[measure]
        return {k: float(r[k]) for k in ("mean", "ci95_low", "ci95_high")}

    parts = {
        "expended_usd": row("defense_cost_usd"),
        "capital_usd": row("capital_cost_usd"),
        "damage_usd": row("damage_usd"),
        "total_usd": row("total_cost_usd") or row("defense_total_cost_usd"),
    }
    total = parts["total_usd"]["mean"] if parts["total_usd"] else math.nan
    for value in parts.values():
        if value is not None:
            value["share"] = value["mean"] / total if total else math.nan
    return {
        "dollar_year": scenario.scenario.dollar_year,
        **parts,
        "costing": {
            "service_life_years": costing.service_life_years,
            "discount_rate": costing.discount_rate,
            "raids_per_year": costing.raids_per_year,
            "raid": "one trial (a whole campaign)" if scenario.campaign else "one trial",
        },
        "capital_items": [
            {
                "measure": it.measure,
                "item": it.label,
                "units": it.units,
                "unit_cost_usd": it.unit_cost_usd,
                "fixed_usd": it.fixed_usd,
                "acquisition_usd": it.acquisition_usd,
                "service_life_years": it.service_life_years,
                "crf": it.crf,
                "charge_usd": it.charge_usd,
            }
            for it in capital_items(scenario)
        ],
    }
