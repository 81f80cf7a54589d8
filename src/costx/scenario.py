"""The scenario model: a raid and a defense, validated and immutable.

A scenario is written in TOML (docs/scenarios.md is the field reference) and loaded with
:func:`load_scenario`, which accepts a path, a mapping of the same structure or the name
of a bundled scenario. Validation uses pydantic and reports every problem, one line each,
with the file, the field path (``effectors[2].pk.owa_drone``), what is allowed and the
value found. Loading parses TOML only and never executes anything from the file.
"""

from __future__ import annotations

import copy
import difflib
import itertools
import math
import os
import stat
import tomllib
import warnings
from collections.abc import Mapping
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, NamedTuple, Union, get_args, get_origin

import tomli_w
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    Strict,
    StringConstraints,
    ValidationError,
    model_validator,
)

from costx.errors import InputError, Problem, ScenarioError

# costx.catalog, costx.bundled, costx.physics and costx.notebook are imported where they
# are used, lazily, for start-up time: `import costx` and `costx --help` load the scenario
# model but none of them (together about 20 ms, 7 % of `import costx`).

MAX_GROUPS = 255  # threat groups and effectors: 8 bits each in the random-number keys
MAX_PER_GROUP = 2**24 - 1  # threats per group: 24 bits in the random-number keys
MAX_THREATS = 1_000_000  # total threats per raid (memory per trial grows with it)
MAX_DOCTRINE = 255  # salvo size and engagements per threat: 8 bits each in the keys
MAX_SALVOS = 1000
MAX_ASSETS = 65_535  # assets per group: 16 bits in the random-number keys
MAX_DOLLAR_YEAR = 2100
# Bounds that keep every kernel quantity finite and every salvo's timeline exact (times
# far below the range where float64 steps reach the kernels' envelope tolerance), yet far
# beyond any real system. docs/scenarios.md, "Bounds".
MAX_NUMBER = 1e12  # any other number (costs in USD included)
MAX_SPEED_MPS = 1e5  # 100 km/s: above any missile, projectile or orbital speed
MAX_RANGE_KM = 2e4  # half the Earth's circumference
MAX_TIME_S = 1e6  # about 11.6 days: times within a salvo, detection to impact included
MAX_DISTANCE_M = 1e6  # footprints, CEPs, parking spacing
MAX_WEATHER_STATES = 16  # [[weather]] states (one fluence table per laser and state)


class CostxWarning(UserWarning):
    """A scenario is valid but probably not what its author meant."""


class FrozenDict(dict):
    """A dict that refuses changes, so that a validated scenario stays valid."""

    def _readonly(self, *args, **kwargs):
        raise TypeError("scenario values are read-only; build a new scenario instead")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _readonly
    __ior__ = _readonly

    def __hash__(self):  # type: ignore[override]
        return hash(tuple(sorted(self.items())))


Identifier = Annotated[
    str,
    Strict(),
    StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=48),
    Field(description="lower-case identifier: a letter, then letters, digits or _"),
]
Probability = Annotated[float, Strict(), Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Strict(), Field(ge=0.0, le=MAX_NUMBER)]
Positive = Annotated[float, Strict(), Field(gt=0.0, le=MAX_NUMBER)]
Speed = Annotated[float, Strict(), Field(gt=0.0, le=MAX_SPEED_MPS)]
RangeKm = Annotated[float, Strict(), Field(gt=0.0, le=MAX_RANGE_KM)]
Seconds = Annotated[float, Strict(), Field(ge=0.0, le=MAX_TIME_S)]
Distance = Annotated[float, Strict(), Field(gt=0.0, le=MAX_DISTANCE_M)]
# Atmosphere: extinction and absorption per km (1000 /km: a metre of visibility), the
# refractive-index structure constant (1e-10 m^-2/3: far beyond the strongest measured
# near-ground turbulence, about 1e-12), wind across the beam (1000 m/s: any slew rate).
PerKm = Annotated[float, Strict(), Field(ge=0.0, le=1000.0)]
Cn2 = Annotated[float, Strict(), Field(ge=0.0, le=1e-10)]
WindSpeed = Annotated[float, Strict(), Field(gt=0.0, le=1000.0)]
Count = Annotated[int, Strict(), Field(ge=0, le=MAX_PER_GROUP)]
Units = Annotated[int, Strict(), Field(ge=0, le=MAX_GROUPS)]
Channels = Annotated[int, Strict(), Field(ge=1, le=MAX_GROUPS)]
Doctrine = Annotated[int, Strict(), Field(ge=1, le=MAX_DOCTRINE)]
# Years: from about 4 days (anything shorter is an expense, not capital; a life of 5e-324
# years made the capital recovery factor infinite) to 200.
ServiceLife = Annotated[float, Strict(), Field(ge=0.01, le=200.0)]
PkTable = Annotated[dict[Identifier, Probability], AfterValidator(FrozenDict)]
# pk_by_range: per threat, points (meeting range km, pk) by strictly increasing range.
PkPoint = tuple[NonNegative, Probability]
PkCurve = Annotated[tuple[PkPoint, ...], Field(min_length=1)]
PkRangeTable = Annotated[dict[Identifier, PkCurve], AfterValidator(FrozenDict)]
# [doctrine]: per threat group, the effectors allowed to engage it, most preferred first.
DoctrineTable = Annotated[dict[Identifier, tuple[Identifier, ...]], AfterValidator(FrozenDict)]
# What each policy means, in one line (costx run prints it; docs/model.md, "Policies").
POLICY_MEANINGS = {
    "layered": "every effector fires at the most urgent threat as soon as it can reach it, "
    "so the longest-reaching weapon shoots first",
    "cost_aware": "an effector holds fire while a cheaper one (expected cost per kill) is "
    "predicted to be done with the threat before its own last chance",
    "preferential": "per threat group, the effectors of the [doctrine] list in order of "
    "preference: a less preferred one fires only when no preferred one can still be done "
    "with the threat before it leaves its envelope",
}
HORIZON_KM_PER_SQRT_M = 4.12  # radar horizon, 4/3 earth radius: 4.12 km per sqrt(metre)


def radar_horizon_km(height_m: float, altitude_m: float) -> float:
    """Radar horizon (km) between a sensor at ``height_m`` and a target at ``altitude_m``
    (metres above the surface), with the standard 4/3 earth radius for refraction:
    ``4.12 (sqrt(height_m) + sqrt(altitude_m))``."""
    return HORIZON_KM_PER_SQRT_M * (math.sqrt(height_m) + math.sqrt(altitude_m))


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, allow_inf_nan=False, validate_default=True
    )


class ScenarioInfo(_Model):
    """The ``[scenario]`` table."""

    name: Identifier
    description: Annotated[str, Strict()] = ""
    policy: Literal["layered", "cost_aware", "preferential"] = "layered"
    dollar_year: Annotated[int, Strict(), Field(ge=1900, le=MAX_DOLLAR_YEAR)] | None = None
    assumptions: Annotated[dict[str, Annotated[str, Strict()]], AfterValidator(FrozenDict)] = Field(
        default_factory=FrozenDict
    )


class Unitary(_Model):
    """A unitary warhead: a hit destroys the aimed asset with a probability that depends on
    its protection, and craters a runway with ``p_cut_runway``."""

    kind: Literal["unitary"]
    p_kill_open: Probability = 0.0
    p_kill_sheltered: Probability = 0.0
    p_cut_runway: Probability = 0.0


class Submunition(_Model):
    """A submunition warhead: a footprint of radius ``footprint_m`` around the impact point;
    every unsheltered asset inside it is destroyed with ``p_kill_in_footprint``. The impact
    point misses the aim point by a circular normal error with circular error probable
    ``cep_m``. Submunitions do not crater runways."""

    kind: Literal["submunition"]
    footprint_m: Distance
    cep_m: Distance
    p_kill_in_footprint: Probability


Warhead = Annotated[Unitary | Submunition, Field(discriminator="kind")]
WARHEAD_KINDS = ("unitary", "submunition")
RUNWAY = "runway"  # the target name for the runways in a threat's ``targets``

# Effector names that would give a measure the name of a scenario-wide one: an effector
# "total" would have cost_per_kill_total_usd, the cost per kill with capital; "shelters",
# "repair_teams" and "dispersal" the base's capital_cost_..._usd.
RESERVED_EFFECTOR_NAMES = {
    "total": "cost_per_kill_total_usd",
    "shelters": "capital_cost_shelters_usd",
    "repair_teams": "capital_cost_repair_teams_usd",
    "dispersal": "capital_cost_dispersal_usd",
}


CatalogKey = Annotated[
    str, Strict(), StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)
]


class Threat(_Model):
    """One ``[[threats]]`` group: ``count`` identical threats."""

    name: Identifier
    use: CatalogKey | None = None
    count: Count
    unit_cost_usd: NonNegative
    speed_mps: Speed
    detect_range_km: RangeKm
    arrival: Literal["simultaneous", "stream", "uniform"] = "simultaneous"
    start_s: Seconds = 0.0
    window_s: Seconds = 0.0
    kill_fluence_j_cm2: Positive | None = None
    altitude_m: NonNegative | None = None
    min_dwell_s: Seconds | None = None
    targets: Annotated[dict[Identifier, NonNegative], AfterValidator(FrozenDict)] = Field(
        default_factory=FrozenDict
    )
    warhead: Warhead | None = None
    p_hit: Probability = 1.0  # a leaker reaches and hits what it aims at (docs/model.md)


class _Kinetic(_Model):
    name: Identifier
    use: CatalogKey | None = None
    rounds: Count
    cost_per_shot_usd: NonNegative
    pk: PkTable = Field(default_factory=FrozenDict)
    speed_mps: Speed
    max_range_km: RangeKm
    min_range_km: Annotated[float, Strict(), Field(ge=0.0, le=MAX_RANGE_KM)] = 0.0
    channels: Channels = 1
    salvo_size: Doctrine = 1
    max_engagements: Doctrine = 1
    assess_s: Seconds = 0.0
    acquisition_usd: NonNegative = 0.0  # one launcher and fire-control channel (or gun mount)
    fixed_acquisition_usd: NonNegative = 0.0
    service_life_years: ServiceLife | None = None
    acquisition_units: Units | None = None  # None: charge acquisition_usd per channel
    # Left out of to_dict() at their defaults, so that scenarios without them dump as before.
    reliability: Probability = Field(1.0, exclude_if=lambda v: v == 1.0)
    common_mode_failure: Probability = Field(0.0, exclude_if=lambda v: v == 0.0)
    pk_by_range: PkRangeTable = Field(default_factory=FrozenDict, exclude_if=lambda v: not v)

    def pk_at(self, threat: str, range_km: float) -> float:
        """Single-shot kill probability against ``threat`` for a round meeting it at
        ``range_km``: the ``pk_by_range`` curve (linear between its points, constant
        beyond the ends) if it has one for the threat, else the scalar ``pk``."""
        curve = self.pk_by_range.get(threat)
        if curve is None:
            return self.pk.get(threat, 0.0)
        if range_km <= curve[0][0]:
            return curve[0][1]
        for (r_lo, p_lo), (r_hi, p_hi) in itertools.pairwise(curve):
            if range_km <= r_hi:
                return p_lo + (p_hi - p_lo) * (range_km - r_lo) / (r_hi - r_lo)
        return curve[-1][1]

    def best_pk(self, threat: str) -> float:
        """The largest single-shot kill probability against ``threat`` anywhere in the
        envelope [min_range_km, max_range_km]: the scalar ``pk``, or the largest value of
        the ``pk_by_range`` curve there (at an end of the envelope or at a point inside)."""
        curve = self.pk_by_range.get(threat)
        if curve is None:
            return self.pk.get(threat, 0.0)
        low, high = self.min_range_km, self.max_range_km
        inside = [p for r, p in curve if low < r < high]
        return max([self.pk_at(threat, low), self.pk_at(threat, high), *inside])


class Interceptor(_Kinetic):
    """A missile interceptor (SM-2, SM-6, PAC-3 class)."""

    kind: Literal["interceptor"]
    fire_interval_s: Seconds = 0.0

    @property
    def interval_s(self) -> float:
        return self.fire_interval_s

    @property
    def round_cost_usd(self) -> float:
        return self.cost_per_shot_usd


class Railgun(_Kinetic):
    """An electromagnetic railgun or gun firing hypervelocity projectiles."""

    kind: Literal["railgun"]
    rate_per_min: Annotated[float, Strict(), Field(ge=0.001, le=1e6)]
    barrel_life_rounds: Annotated[int, Strict(), Field(ge=1, le=10**9)] | None = None
    barrel_cost_usd: NonNegative | None = None
    ballistic_coefficient_kg_m2: Annotated[float, Strict(), Field(gt=0.0, le=1e6)] | None = None
    miss_rate_m_per_s: Speed | None = None
    lethal_radius_m: Distance | None = None

    @property
    def interval_s(self) -> float:
        return 60.0 / self.rate_per_min

    @property
    def round_cost_usd(self) -> float:
        """Cost per round including barrel wear (barrel cost over barrel life)."""
        wear = 0.0
        if self.barrel_life_rounds and self.barrel_cost_usd:
            wear = self.barrel_cost_usd / self.barrel_life_rounds
        return self.cost_per_shot_usd + wear


class Laser(_Model):
    """A high-energy laser: ``units`` identical beam directors."""

    name: Identifier
    use: CatalogKey | None = None
    kind: Literal["laser"]
    units: Units = 1
    power_kw: Annotated[float, Strict(), Field(gt=0.0, le=1e5)]
    aperture_m: Annotated[float, Strict(), Field(ge=0.001, le=100.0)]
    wavelength_um: Annotated[float, Strict(), Field(ge=0.1, le=100.0)]
    beam_quality: Annotated[float, Strict(), Field(ge=1.0, le=1000.0)] = 1.0
    jitter_urad: Annotated[float, Strict(), Field(ge=0.0, le=1e6)] = 0.0
    blur_urad: Annotated[float, Strict(), Field(ge=0.0, le=1e6)] = 0.0
    extinction_per_km: Annotated[float, Strict(), Field(ge=0.0, le=1000.0)] = 0.0
    max_range_km: RangeKm
    min_range_km: RangeKm
    retarget_s: Seconds = 0.0
    availability: Probability = 1.0
    cost_per_shot_usd: NonNegative
    magazine_s: Annotated[float, Strict(), Field(gt=0.0, le=MAX_TIME_S)] | None = None
    acquisition_usd: NonNegative = 0.0  # one beam director (one of ``units``)
    fixed_acquisition_usd: NonNegative = 0.0
    service_life_years: ServiceLife | None = None
    acquisition_units: Units | None = None  # None: charge acquisition_usd per unit
    cn2: Cn2 | None = None
    absorption_per_km: PerKm | None = None
    wind_mps: WindSpeed | None = None
    jitter_per_axis_urad: Annotated[float, Strict(), Field(ge=0.0, le=1e6)] | None = None
    settle_s: Seconds | None = None

    @property
    def round_cost_usd(self) -> float:
        return self.cost_per_shot_usd

    @property
    def divergence_rad(self) -> float:
        """Range-independent angular spread s = sqrt(theta_d^2 + J^2 + 2 sigma_j^2 + blur^2)
        in radians (J = ``jitter_urad``, sigma_j = ``jitter_per_axis_urad``; docs/model.md)."""
        theta_d = self.beam_quality * self.wavelength_um * 1e-6 / (math.pi * self.aperture_m / 2)
        s2 = theta_d**2 + (self.jitter_urad * 1e-6) ** 2 + (self.blur_urad * 1e-6) ** 2
        if self.jitter_per_axis_urad is not None:
            s2 += 2.0 * (self.jitter_per_axis_urad * 1e-6) ** 2
        return math.sqrt(s2)


class WeatherState(_Model):
    """One ``[[weather]]`` state: drawn for a whole salvo with ``probability``; it denies
    every laser (``denied``) or sets the atmosphere of every laser (fields it gives
    replace the laser's own)."""

    probability: Probability
    denied: Annotated[bool, Strict()] = False
    extinction_per_km: PerKm | None = None
    absorption_per_km: PerKm | None = None
    cn2: Cn2 | None = None
    wind_mps: WindSpeed | None = None


ATMOSPHERE_FIELDS = ("extinction_per_km", "absorption_per_km", "cn2", "wind_mps")

Effector = Annotated[Interceptor | Railgun | Laser, Field(discriminator="kind")]
EFFECTOR_KINDS = ("interceptor", "railgun", "laser")


class Sensor(_Model):
    """The defended site's search sensor (the ``[sensor]`` table): with a threat group's
    ``altitude_m`` it limits detection to the radar horizon."""

    height_m: NonNegative


class Asset(_Model):
    """A group of identical assets on the base (aircraft, shelters, fuel)."""

    name: Identifier
    use: CatalogKey | None = None
    count: Annotated[int, Strict(), Field(ge=0, le=MAX_ASSETS)]
    unit_cost_usd: NonNegative
    sheltered: Annotated[bool, Strict()] = False
    spacing_m: Distance | None = None


class Base(_Model):
    """The defended air base (the ``[base]`` table)."""

    assets: tuple[Asset, ...] = ()
    runways: Annotated[int, Strict(), Field(ge=0, le=MAX_GROUPS)] = 0
    cuts_to_close: Annotated[int, Strict(), Field(ge=1, le=MAX_GROUPS)] = 1
    repair_h_per_cut: Annotated[float, Strict(), Field(ge=0.0, le=8_760.0)] = 0.0
    repair_teams: Annotated[int, Strict(), Field(ge=0, le=MAX_GROUPS)] = 0
    dispersal_sites: Annotated[int, Strict(), Field(ge=1, le=64)] = 1
    use: CatalogKey | None = None  # a catalog assets entry giving the passive-defense costs
    shelter_cost_usd: NonNegative = 0.0  # per sheltered asset
    shelter_service_life_years: ServiceLife | None = None
    repair_team_cost_usd: NonNegative = 0.0  # per repair team (teams x sites)
    repair_team_service_life_years: ServiceLife | None = None
    dispersal_site_cost_usd: NonNegative = 0.0  # per site beyond the first
    dispersal_site_service_life_years: ServiceLife | None = None

    @property
    def sheltered_assets(self) -> int:
        """Assets in shelters: the count of every sheltered asset group."""
        return sum(a.count for a in self.assets if a.sheltered)


class Ship(_Model):
    """A defended ship, or any single high-value asset (the ``[ship]`` table).

    Every leaker of a threat group without ``targets`` aims at it and hits it with the
    group's ``p_hit``. It is out of action (its ``value_usd`` lost) at its
    ``hits_to_kill``-th hit, or, with ``p_kill_per_hit``, at each hit with that
    probability (docs/model.md, "A defended ship").
    """

    name: Identifier
    use: CatalogKey | None = None
    value_usd: NonNegative
    hits_to_kill: Annotated[int, Strict(), Field(ge=1, le=MAX_GROUPS)] | None = None
    p_kill_per_hit: Probability | None = None

    @property
    def hits_needed(self) -> int:
        """Hits that put the ship out of action (1 when neither field is given)."""
        return 1 if self.hits_to_kill is None else self.hits_to_kill


DiscountRate = Annotated[float, Strict(), Field(ge=0.0, lt=1.0)]
# Defaults of the [costing] table, with their sources (docs/model.md, "Capital costs").
DEFAULT_SERVICE_LIFE_YEARS = 20.0  # NRC 2012, BMD systems costed over 20 years
DEFAULT_DISCOUNT_RATE = 0.07  # OMB Circular A-94 (1992), base-case real rate


class Costing(_Model):
    """How capital is charged to one raid (the ``[costing]`` table)."""

    service_life_years: ServiceLife = DEFAULT_SERVICE_LIFE_YEARS
    # at least one raid a millennium: fewer made one raid's capital charge overflow
    raids_per_year: Annotated[float, Strict(), Field(ge=0.001, le=1e6)] | None = None
    discount_rate: DiscountRate = DEFAULT_DISCOUNT_RATE


SalvoCounts = Annotated[dict[Identifier, Count], AfterValidator(FrozenDict)]


class Campaign(_Model):
    """Repeated salvos (the ``[campaign]`` table)."""

    salvos: Annotated[int, Strict(), Field(ge=1, le=MAX_SALVOS)] | tuple[SalvoCounts, ...] = 1
    interval_h: Annotated[float, Strict(), Field(ge=0.0, le=8_760.0)] = 24.0
    resupply_rounds: Annotated[dict[Identifier, Count], AfterValidator(FrozenDict)] = Field(
        default_factory=FrozenDict
    )

    @property
    def n_salvos(self) -> int:
        return self.salvos if isinstance(self.salvos, int) else len(self.salvos)


class _SemanticErrors(Exception):
    """Raised inside validation with problems that pydantic cannot locate by itself.

    Deliberately not a ValueError, so that pydantic lets it through unchanged.
    """

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(p.format("scenario") for p in problems))


class Scenario(_Model):
    """A validated, immutable scenario. Build one with :func:`load_scenario`."""

    scenario: ScenarioInfo
    threats: tuple[Threat, ...]
    effectors: tuple[Effector, ...] = ()
    base: Base | None = None
    campaign: Campaign | None = None
    costing: Costing | None = None
    ship: Ship | None = None
    sensor: Sensor | None = None
    doctrine: DoctrineTable | None = None
    weather: tuple[WeatherState, ...] | None = None

    _source: str = PrivateAttr(default="<scenario>")
    _provenance: dict = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _check_semantics(self) -> Scenario:
        # Also run by scenario_from_mapping on the raw data when fields are invalid.
        keys = self.scenario.assumptions
        problems = semantic_problems(self.to_dict()) + _assumption_problems(
            keys, lambda key: _field_value(self, key)
        )
        if problems:
            raise _SemanticErrors(problems)
        return self

    def __eq__(self, other: object) -> bool:
        # Equal content is equal, wherever each was loaded from.
        if not isinstance(other, Scenario):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(self.to_toml())

    def __repr__(self) -> str:
        # One line (pydantic's repr is every field: thousands of characters); the whole
        # scenario is to_toml(), or `costx show` with every default marked.
        threats = sum(t.count for t in self.threats)
        parts = [f"{len(self.threats)} threat groups ({threats:,} threats)",
                 f"{len(self.effectors)} effectors"]  # fmt: skip
        if self.base is not None:
            parts.append(f"base with {len(self.base.assets)} asset groups")
        if self.ship is not None:
            parts.append(f"ship {self.ship.name}")
        if self.campaign is not None:
            parts.append(f"{self.campaign.n_salvos} salvos")
        parts.append(f"{self.scenario.policy}, {self.scenario.dollar_year} dollars")
        return f"<Scenario {self.name!r}: {', '.join(parts)}; from {self.source}>"

    def _repr_html_(self) -> str:
        """A compact card in Jupyter (costx.notebook)."""
        from costx.notebook import scenario_html  # lazy: start-up time (see the imports)

        return scenario_html(self)

    # -- convenience -------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def source(self) -> str:
        """Where the scenario was loaded from (a path, ``bundled:NAME`` or ``<mapping>``)."""
        return self._source

    @property
    def provenance(self) -> dict[str, dict]:
        """Where each field value came from: ``{"from": "scenario"}``, or the catalog entry
        with its sources, year, dollar year and confidence, or an assumption with its
        rationale (and any conversion to constant dollars)."""
        return copy.deepcopy(self._provenance)

    def assumptions(self) -> list[tuple[str, Any, str]]:
        """(field path, value, rationale) of every assumed value: those taken from catalog
        assumptions and those the file declares in ``[scenario.assumptions]``."""
        out = [
            (path, rec.get("value"), rec.get("rationale", ""))
            for path, rec in self._provenance.items()
            if rec.get("assumption")
        ]
        data = self.to_dict()
        for path, rec in self._provenance.items():
            conv = rec.get("converted", {})
            if "assumption" in conv:
                how = f"{conv['from_year']} to {conv['to_year']} dollars x {conv['factor']:.4f}"
                out.append((path, _lookup(data, path), f"{conv['assumption']}; {how}"))
        for path, rationale in self.scenario.assumptions.items():
            value = _field_value(self, path)  # defaults too (to_dict() leaves some out)
            if not isinstance(value, _Absent | _Off):  # absent: a removed item, say
                out.append((path, value, rationale))
        return out

    def _member(self, item: Any, section: str) -> Any:
        """A threat group or effector of this scenario, given as itself or by name."""
        items = self.threats if section == "threats" else self.effectors
        if isinstance(item, str):
            found = next((x for x in items if x.name == item), None)
            if found is not None:
                return found
            names = ", ".join(x.name for x in items)
            raise InputError(f"{self.name} has no {section[:-1]} {item!r} ({section}: {names})")
        if isinstance(item, Threat if section == "threats" else Interceptor | Railgun | Laser):
            return item
        raise InputError(f"expected a {section[:-1]} of {self.name} or its name, not {item!r}")

    def detection_range_km(self, threat: Threat | str) -> float:
        """Range at which the defense first sees a threat of the group (the group or its
        name): the smaller of ``detect_range_km`` and the radar horizon when the scenario
        has a ``[sensor]`` and the group an ``altitude_m``."""
        threat = self._member(threat, "threats")
        if self.sensor is None or threat.altitude_m is None:
            return threat.detect_range_km
        horizon = radar_horizon_km(self.sensor.height_m, threat.altitude_m)
        return min(threat.detect_range_km, horizon)

    def allowed(self, effector: Effector | str, threat: Threat | str) -> bool:
        """Whether the firing policy lets ``effector`` engage ``threat``'s group at all
        (preferential: the group's ``[doctrine]`` list names it; otherwise always). Each
        is given as itself or by name."""
        effector = self._member(effector, "effectors")
        threat = self._member(threat, "threats")
        if self.scenario.policy != "preferential" or self.doctrine is None:
            return True
        return effector.name in self.doctrine.get(threat.name, ())

    def policy_warning(self) -> str | None:
        """One line when a laser or railgun runs under ``layered`` (it then gets only
        what the longer-reaching weapons leave), else None. Printed by ``costx run``; not
        a load-time warning, since ``layered`` is a legitimate choice."""
        cheap = [e.name for e in self.effectors if isinstance(e, Laser | Railgun)]
        if self.scenario.policy != "layered" or not cheap:
            return None
        return (
            f'{self.name} runs under policy = "layered" with {", ".join(cheap)}: they only '
            'get the threats the longer-reaching weapons leave; policy = "preferential" with '
            'a [doctrine], or "cost_aware", lets them take first the threats they can '
            "handle, but holding fire can leak more against a raid that arrives at once: "
            "compare them (--set scenario.policy=...; README, Firing policies)"
        )

    @property
    def lasers(self) -> tuple[Laser, ...]:
        return tuple(e for e in self.effectors if isinstance(e, Laser))

    def salvo_counts(self) -> list[list[int]]:
        """Threats per salvo and group: ``count`` in every salvo, or the campaign's salvo
        list (a group that a salvo does not name has no threats in it)."""
        names = [t.name for t in self.threats]
        if self.campaign is None or isinstance(self.campaign.salvos, int):
            n = 1 if self.campaign is None else self.campaign.salvos
            return [[t.count for t in self.threats] for _ in range(n)]
        return [[salvo.get(name, 0) for name in names] for salvo in self.campaign.salvos]

    @property
    def launched(self) -> int:
        """Threats launched over the whole raid (every salvo of a campaign)."""
        return sum(sum(row) for row in self.salvo_counts())

    @property
    def attack_cost_usd(self) -> float:
        """Cost of everything launched: count times unit cost, over groups and salvos."""
        totals = [sum(col) for col in zip(*self.salvo_counts(), strict=True)]
        return float(sum(n * t.unit_cost_usd for n, t in zip(totals, self.threats, strict=True)))

    def warnings(self) -> list[str]:
        """Valid but suspicious settings, one message each (also issued on loading)."""
        out = []
        for i, threat in enumerate(self.threats):
            if threat.count == 0:
                continue
            detect = self.detection_range_km(threat)
            if not any(
                self.allowed(e, threat) and _may_engage(e, threat, detect) for e in self.effectors
            ):
                doctrine = (
                    " among those its [doctrine] list allows"
                    if self.scenario.policy == "preferential"
                    else ""
                )
                out.append(
                    f"threats[{i}] ({threat.name}): no effector{doctrine} can engage it "
                    "(no pk entry above 0 within reach, and no laser with its kill fluence)"
                )
            if threat.altitude_m is not None and self.sensor is None:
                out.append(
                    f"threats[{i}] ({threat.name}): altitude_m has no effect without a "
                    "[sensor] height_m (no radar horizon is applied)"
                )
        warned = set()
        for key in self.scenario.assumptions:
            absent = _field_value(self, key)
            if not isinstance(absent, _Absent) or absent[:2] in warned:
                continue
            # A mistyped name (sm22 for sm2: 0.86); a removed item is seldom this close to
            # another (asbm and ascm, 0.75, are two groups of one bundled raid).
            close = difflib.get_close_matches(absent.name, absent.names, n=1, cutoff=0.8)
            if close:
                warned.add(absent[:2])
                out.append(
                    f"scenario.assumptions: {key!r}: {absent.where} has no {absent.name!r} "
                    f"(did you mean {close[0]!r}?), so its entries list nothing"
                )
        if self.sensor is not None and all(t.altitude_m is None for t in self.threats):
            out.append(
                "sensor.height_m has no effect: no threat group gives altitude_m "
                "(the radar horizon needs both)"
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        """The scenario as plain Python data (the structure of the TOML file)."""
        return self.model_dump(mode="json", exclude_none=True)

    def to_toml(self) -> str:
        """The scenario as TOML text; ``load_scenario`` of it gives an equal scenario."""
        return tomli_w.dumps(self.to_dict())


def _lookup(data: Any, path: str) -> Any:
    """The value at a dotted path (list items by name), or None."""
    node = data
    for part in path.split("."):
        if isinstance(node, list):
            node = next((x for x in node if isinstance(x, dict) and x.get("name") == part), None)
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            return None
    return node


def _field_value(scenario: Scenario, key: str) -> Any:
    """The value at a dotted field path of the validated scenario (list items by name), as
    plain data; an ``_Absent`` when the path goes through a list item, a table entry or
    an optional section the scenario does not have; when it leaves the scenario's
    structure, an ``_Off`` saying where (an unknown field, or fields of a value)."""
    node: Any = scenario
    parts = key.split(".")
    for depth, part in enumerate(parts):
        where = ".".join(parts[:depth]) or "the scenario"
        if isinstance(node, BaseModel):
            fields = type(node).model_fields
            if part not in fields:
                return _Off(where, part, list(fields))
            node = getattr(node, part)
        elif isinstance(node, list | tuple):
            names = [x.name for x in node if isinstance(getattr(x, "name", None), str)]
            if part not in names:
                return _Absent(where, part, names)
            node = node[names.index(part)]
        elif isinstance(node, Mapping):
            if part not in node:
                return _Absent(where, part, [str(k) for k in node])
            node = node[part]
        elif node is None:
            return _Absent(where, part, [])  # an optional section or field left out
        else:
            return _Off(where, None, [])
    return _plain_data(node)


class _Absent(NamedTuple):
    """A field path through an item, entry or section the scenario does not have: at
    ``where``, no ``name`` among ``names``."""

    where: str
    name: str
    names: list[str]


class _Off(NamedTuple):
    """Where a field path leaves the scenario's structure: at ``where``, an unknown
    ``field`` (one of ``fields`` allowed), or (field None) fields of a value."""

    where: str
    field: str | None
    fields: list[str]


def _plain_data(value: Any) -> Any:
    """A model value as the plain data ``to_dict()`` gives (models as dicts, tuples as
    lists), for listing."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, Mapping):
        return {k: _plain_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain_data(v) for v in value]
    return value


def _assumption_problems(keys: Any, where_off: Any) -> list[Problem]:
    """Each key of ``[scenario.assumptions]`` must be a field path of the scenario's
    structure: a mistyped field (``"effectors.sm2.chanels"``) would otherwise list an
    assumption of nothing and leave the value it meant unlisted. A path through a list
    item, a table entry or an optional section the scenario does not have (an effector
    removed from a copy, ``[costing]`` left out) names a value that is simply absent: it is
    not an error, and ``Scenario.assumptions()`` leaves it out. ``where_off(key)`` gives
    the ``_Off`` of a key that leaves the structure (anything else for one that does not):
    ``_field_value`` on a validated scenario, ``_raw_off`` on data that failed validation."""
    problems = []
    for key in keys:
        off = where_off(key)
        if not isinstance(off, _Off):
            continue
        if off.field is None:
            message = f"{key!r}: {off.where} is a value, not a table"
        else:
            close = difflib.get_close_matches(off.field, off.fields, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            message = f"{key!r}: {off.where} has no field {off.field!r}{hint}"
        problems.append(Problem("scenario.assumptions", message, None, False))
    return problems


def _raw_assumption_problems(data: Mapping[str, Any]) -> list[Problem]:
    """The assumption keys' problems of data that failed validation, so that a mistyped
    key is reported with the file's other problems, not only once they are fixed."""
    info = data.get("scenario") if isinstance(data, Mapping) else None
    keys = info.get("assumptions") if isinstance(info, Mapping) else None
    if not isinstance(keys, Mapping):
        return []  # not a table: validation reports it
    return _assumption_problems(
        [k for k in keys if isinstance(k, str)], lambda key: _raw_off(data, key)
    )


def _raw_off(data: Mapping[str, Any], key: str) -> _Off | None:
    """``_Off`` where a field path leaves the structure of the scenario models, walked by
    the models' fields with the raw data choosing list items (by name) and the kind of
    an item (by its ``kind``); None where it does not, or where the data cannot tell (an
    item or kind it lacks: validation reports a bad one)."""
    node: Any = data
    kind: Any = Scenario
    parts = key.split(".")
    for depth, part in enumerate(parts):
        where = ".".join(parts[:depth]) or "the scenario"
        kind = _model_or_container(kind, node)
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            if part not in kind.model_fields:
                return _Off(where, part, list(kind.model_fields))
            field = kind.model_fields[part]
            node = node.get(part) if isinstance(node, Mapping) else None
            if node is None and field.default is None and field.default_factory is None:
                return None  # an optional section or field left out
            kind = field.annotation
        elif kind is None:
            return None
        elif kind[0] == "list":
            items = node if isinstance(node, list | tuple) else []
            node = next(
                (x for x in items if isinstance(x, Mapping) and x.get("name") == part), None
            )
            if node is None:
                return None  # an item the data lacks
            kind = kind[1]
        elif kind[0] == "map":
            if not isinstance(node, Mapping) or part not in node:
                return None  # an entry the data lacks
            node = node[part]
            kind = kind[1]
        else:
            return _Off(where, None, [])
    return None


def _model_or_container(kind: Any, node: Any) -> Any:
    """A field's annotation as a model class, ``("list", item)``, ``("map", value)`` or
    ``("value",)``; a union of models is chosen by the data's ``kind`` (None where the data
    does not tell)."""
    while get_origin(kind) is Annotated:
        kind = get_args(kind)[0]
    origin = get_origin(kind)
    if origin in (tuple, list):
        return ("list", get_args(kind)[0])
    if origin is dict or (isinstance(kind, type) and issubclass(kind, dict)):
        args = get_args(kind)
        return ("map", args[1] if len(args) == 2 else Any)
    if origin in (Union, UnionType):
        members = [_model_or_container(k, node) for k in get_args(kind) if k is not type(None)]
        if all(m == members[0] for m in members):
            return members[0]
        models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
        tag = node.get("kind") if isinstance(node, Mapping) else None
        chosen = [
            m for m in models if "kind" in m.model_fields
            and tag in get_args(m.model_fields["kind"].annotation)
        ]  # fmt: skip
        return chosen[0] if len(chosen) == 1 else None
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return kind
    return ("value",)


def _may_engage(effector, threat: Threat, detect_range_km: float) -> bool:
    if isinstance(effector, Laser):
        return threat.kill_fluence_j_cm2 is not None
    if effector.best_pk(threat.name) <= 0.0:
        return False
    u, v = effector.speed_mps, threat.speed_mps
    if getattr(effector, "ballistic_coefficient_kg_m2", None) is not None:
        from costx import physics  # lazy: start-up time (see the imports)

        k = physics.drag_k_per_m(effector)
        return physics.meeting_range_km(detect_range_km, u, v, k) >= effector.min_range_km
    return detect_range_km * u / (u + v) >= effector.min_range_km


def _items(data: Any, key: str) -> list[Any]:
    value = data.get(key) if isinstance(data, Mapping) else None
    return list(value) if isinstance(value, list | tuple) else []


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return float(value) if math.isfinite(value) else None
    except OverflowError:  # an integer beyond float range (hundreds of digits)
        return None


def semantic_problems(data: Any) -> list[Problem]:
    """Cross-field rules, checked on the raw structure so that they are reported even when
    some fields are invalid (each rule skips entries whose own fields are unusable)."""
    problems: list[Problem] = []
    threats = _items(data, "threats")
    effectors = _items(data, "effectors")
    if isinstance(data, Mapping) and isinstance(data.get("threats"), list | tuple):
        if not threats:
            problems.append(Problem("threats", "at least one threat group is required", 0))
        if len(threats) > MAX_GROUPS:
            problems.append(Problem("threats", f"at most {MAX_GROUPS} threat groups", len(threats)))
    if len(effectors) > MAX_GROUPS:
        problems.append(Problem("effectors", f"at most {MAX_GROUPS} effectors", len(effectors)))
    for section, items in (("threats", threats), ("effectors", effectors)):
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            name = item.get("name") if isinstance(item, Mapping) else None
            if not isinstance(name, str):
                continue
            if section == "effectors" and name in RESERVED_EFFECTOR_NAMES:
                problems.append(
                    Problem(
                        f"{section}[{i}].name",
                        f"{name!r} is reserved: the effector's measures would share the "
                        f"name of {RESERVED_EFFECTOR_NAMES[name]}; choose another name",
                        name,
                    )
                )
            elif name in seen:
                problems.append(
                    Problem(
                        f"{section}[{i}].name",
                        f"duplicate name; {section}[{seen[name]}] already uses it "
                        "(names must be unique within their list)",
                        name,
                    )
                )
            else:
                seen[name] = i
    counts = [t.get("count") for t in threats if isinstance(t, Mapping)]
    total = sum(c for c in counts if isinstance(c, int) and not isinstance(c, bool) and c > 0)
    if total > MAX_THREATS:
        problems.append(Problem("threats", f"at most {MAX_THREATS:,} threats in one raid", total))
    threat_names = [
        t["name"] for t in threats if isinstance(t, Mapping) and isinstance(t.get("name"), str)
    ]
    for i, t in enumerate(threats):
        if not isinstance(t, Mapping):
            continue
        detect, speed = _number(t.get("detect_range_km")), _number(t.get("speed_mps"))
        if detect is not None and speed is not None and detect > 0 and speed > 0:
            flight_s = detect * 1e3 / speed
            if flight_s > MAX_TIME_S:
                problems.append(
                    Problem(
                        f"threats[{i}].speed_mps",
                        f"too slow for its detect_range_km: {flight_s:.4g} s from detection to "
                        f"impact, at most {MAX_TIME_S:.0e} s",
                        t.get("speed_mps"),
                    )
                )
    for i, e in enumerate(effectors):
        if not isinstance(e, Mapping):
            continue
        low, high = _number(e.get("min_range_km", 0.0)), _number(e.get("max_range_km"))
        if low is not None and high is not None and high > 0 and low >= high:
            problems.append(
                Problem(
                    f"effectors[{i}].min_range_km",
                    f"must be less than max_range_km ({e.get('max_range_km')})",
                    e.get("min_range_km"),
                )
            )
        pk = e.get("pk")
        threats_known = isinstance(data.get("threats"), list | tuple)
        if threats_known and e.get("kind") != "laser" and isinstance(pk, Mapping):
            for key in pk:
                if isinstance(key, str) and key not in threat_names:
                    close = difflib.get_close_matches(key, threat_names, n=1)
                    hint = f"; did you mean {close[0]!r}?" if close else ""
                    problems.append(
                        Problem(
                            f"effectors[{i}].pk.{key}",
                            f"names no threat (threats are: {', '.join(threat_names)}){hint}",
                            key,
                            show_value=False,
                        )
                    )
        curves = e.get("pk_by_range")
        if e.get("kind") != "laser" and isinstance(curves, Mapping):
            for key, curve in curves.items():
                if not isinstance(key, str):
                    continue
                if threats_known and key not in threat_names:
                    problems.append(
                        _unknown(f"effectors[{i}].pk_by_range.{key}", key, "threat", threat_names)
                    )
                ranges = [
                    _number(point[0])
                    for point in (curve if isinstance(curve, list | tuple) else [])
                    if isinstance(point, list | tuple) and point
                ]
                if None not in ranges and any(b <= a for a, b in itertools.pairwise(ranges)):
                    problems.append(
                        Problem(
                            f"effectors[{i}].pk_by_range.{key}",
                            "points must be [range_km, pk] pairs by strictly increasing range",
                            [list(point) for point in curve],
                        )
                    )
        if e.get("kind") == "railgun":
            has_life, has_cost = "barrel_life_rounds" in e, "barrel_cost_usd" in e
            if has_life != has_cost:
                missing = "barrel_life_rounds" if has_cost else "barrel_cost_usd"
                problems.append(
                    Problem(
                        f"effectors[{i}].{missing}",
                        "barrel_life_rounds and barrel_cost_usd go together: give both or neither",
                        None,
                        show_value=False,
                    )
                )
            has_miss, has_radius = "miss_rate_m_per_s" in e, "lethal_radius_m" in e
            if has_miss != has_radius:
                missing = "miss_rate_m_per_s" if has_radius else "lethal_radius_m"
                problems.append(
                    Problem(
                        f"effectors[{i}].{missing}",
                        "miss_rate_m_per_s and lethal_radius_m go together (pk falling with time "
                        "of flight): give both or neither",
                        None,
                        show_value=False,
                    )
                )
        if e.get("kind") == "laser":
            problems += _laser_problems(f"effectors[{i}]", e)
    problems += _weather_problems(data, effectors)
    problems += _doctrine_problems(data, effectors, threat_names)
    problems += _base_campaign_problems(data, threats, effectors, threat_names)
    problems += _costing_problems(data, effectors)
    return problems


def _capital_fields(data: Any, effectors: list[Any]) -> list[str]:
    """Paths of the capital costs that charge something (read from the raw structure, so
    that the rule is reported even when other fields are invalid)."""
    out = []
    for i, e in enumerate(effectors):
        if not isinstance(e, Mapping):
            continue
        label = e.get("name") if isinstance(e.get("name"), str) else f"[{i}]"
        count = e.get("acquisition_units")
        if count is None:
            count = e.get("units", 1) if e.get("kind") == "laser" else e.get("channels", 1)
        count = _number(count)
        if count is None or count <= 0:
            continue  # nothing of it is bought: no capital
        for key in ("acquisition_usd", "fixed_acquisition_usd"):
            value = _number(e.get(key, 0.0))
            if value is not None and value > 0:
                out.append(f"effectors.{label}.{key}")
    base = data.get("base") if isinstance(data, Mapping) else None
    if isinstance(base, Mapping):
        sites = _number(base.get("dispersal_sites", 1))
        teams = _number(base.get("repair_teams", 0))
        sheltered = any(
            isinstance(a, Mapping) and a.get("sheltered") is True and _number(a.get("count"))
            for a in _items(base, "assets")
        )
        counts = {
            "shelter_cost_usd": 1.0 if sheltered else 0.0,
            "repair_team_cost_usd": (teams or 0.0) * (sites or 0.0),
            "dispersal_site_cost_usd": (sites or 1.0) - 1.0,
        }
        for key, n in counts.items():
            value = _number(base.get(key, 0.0))
            if value is not None and value > 0 and n > 0:
                out.append(f"base.{key}")
    return out


def _costing_problems(data: Any, effectors: list[Any]) -> list[Problem]:
    problems: list[Problem] = []
    costing = data.get("costing") if isinstance(data, Mapping) else None
    raids = costing.get("raids_per_year") if isinstance(costing, Mapping) else None
    if raids is None:
        charged = _capital_fields(data, effectors)
        if charged:
            shown = ", ".join(charged[:3]) + (
                f" and {len(charged) - 3} more" if len(charged) > 3 else ""
            )
            problems.append(
                Problem(
                    "costing.raids_per_year",
                    "required when any capital cost is non-zero: the number of raids like "
                    f"this one the defense is bought to meet in a year (capital: {shown})",
                    None,
                    False,
                )
            )
    ship = data.get("ship") if isinstance(data, Mapping) else None
    if isinstance(ship, Mapping) and "hits_to_kill" in ship and "p_kill_per_hit" in ship:
        problems.append(
            Problem(
                "ship.p_kill_per_hit",
                "give hits_to_kill (the n-th hit puts the ship out of action) or "
                "p_kill_per_hit (each hit does with this probability), not both",
                ship.get("p_kill_per_hit"),
            )
        )
    return problems


def _doctrine_problems(data, effectors, threat_names) -> list[Problem]:
    """[doctrine]: names threat groups and effectors that exist, each effector once per
    group; under the preferential policy every threat group needs a list."""
    problems: list[Problem] = []
    if not isinstance(data, Mapping):
        return problems
    info = data.get("scenario")
    policy = info.get("policy") if isinstance(info, Mapping) else None
    doctrine = data.get("doctrine")
    effector_names = [
        e["name"] for e in effectors if isinstance(e, Mapping) and isinstance(e.get("name"), str)
    ]
    if isinstance(doctrine, Mapping):
        for key, listed in doctrine.items():
            if not isinstance(key, str):
                continue
            if isinstance(data.get("threats"), list | tuple) and key not in threat_names:
                problems.append(_unknown(f"doctrine.{key}", key, "threat", threat_names))
            if not isinstance(listed, list | tuple):
                continue
            seen: dict[str, int] = {}
            for k, name in enumerate(listed):
                if not isinstance(name, str):
                    continue
                if name not in effector_names:
                    problems.append(
                        _unknown(f"doctrine.{key}[{k}]", name, "effector", effector_names)
                    )
                elif name in seen:
                    problems.append(
                        Problem(
                            f"doctrine.{key}[{k}]",
                            f"listed twice; doctrine.{key}[{seen[name]}] already names it "
                            "(each effector once, most preferred first)",
                            name,
                        )
                    )
                else:
                    seen[name] = k
    if policy != "preferential":
        return problems
    if doctrine is None:
        problems.append(
            Problem(
                "doctrine",
                'required by policy = "preferential": a table giving, per threat group, the '
                'effectors allowed to engage it, most preferred first (e.g. drones = ["laser", '
                '"sm2"])',
                None,
                False,
            )
        )
    elif isinstance(doctrine, Mapping):
        for name in threat_names:
            if name not in doctrine:
                problems.append(
                    Problem(
                        f"doctrine.{name}",
                        'required by policy = "preferential": the effectors allowed to engage '
                        "this threat group, most preferred first ([] for none)",
                        None,
                        False,
                    )
                )
    return problems


def _laser_problems(where: str, e: Mapping) -> list[Problem]:
    """A laser's own atmosphere: one jitter convention, absorption within extinction, and
    a wind for thermal blooming."""
    problems = []
    jitter = _number(e.get("jitter_urad", 0.0))
    if jitter is not None and jitter > 0.0 and "jitter_per_axis_urad" in e:
        problems.append(
            Problem(
                f"{where}.jitter_per_axis_urad",
                "give jitter_urad (two-axis rms) or jitter_per_axis_urad (per-axis rms), not both",
                None,
                show_value=False,
            )
        )
    absorption = _number(e.get("absorption_per_km", 0.0))
    extinction = _number(e.get("extinction_per_km", 0.0))
    # (only between valid values: a negative extinction is its own field's error)
    if absorption is not None and extinction is not None and 0.0 <= extinction < absorption:
        problems.append(
            Problem(
                f"{where}.absorption_per_km",
                f"must not exceed extinction_per_km ({e.get('extinction_per_km', 0.0)}): "
                "absorption is the part of extinction that heats the air",
                e.get("absorption_per_km"),
            )
        )
    if absorption is not None and absorption > 0 and "wind_mps" not in e:
        problems.append(
            Problem(
                f"{where}.wind_mps",
                "required when absorption_per_km > 0 (thermal blooming depends on the wind "
                "across the beam)",
                None,
                show_value=False,
            )
        )
    return problems


def _weather_problems(data: Any, effectors: list) -> list[Problem]:
    """``[[weather]]``: probabilities that sum to 1, and for every laser in every state an
    atmosphere that passes the laser's own rules."""
    states = _items(data, "weather")
    problems: list[Problem] = []
    if len(states) > MAX_WEATHER_STATES:
        problems.append(Problem("weather", f"at most {MAX_WEATHER_STATES} states", len(states)))
    probabilities = [_number(w.get("probability")) for w in states if isinstance(w, Mapping)]
    valid = all(p is not None and 0.0 <= p <= 1.0 for p in probabilities)
    if states and len(probabilities) == len(states) and valid:
        total = math.fsum(probabilities)  # type: ignore[arg-type]
        if abs(total - 1.0) > 1e-9:
            problems.append(
                Problem("weather", "state probabilities must sum to 1", round(total, 12))
            )
    lasers = [
        (i, e)
        for i, e in enumerate(effectors)
        if isinstance(e, Mapping) and e.get("kind") == "laser"
    ]
    for s, w in enumerate(states):
        if not isinstance(w, Mapping) or w.get("denied") is True:
            continue
        for i, e in lasers:
            if _laser_problems("", e):
                continue  # reported for the laser itself
            merged = {**e, **{k: w[k] for k in ATMOSPHERE_FIELDS if k in w}}
            name = e.get("name", f"effectors[{i}]")
            absorption = _number(merged.get("absorption_per_km", 0.0))
            extinction = _number(merged.get("extinction_per_km", 0.0))
            if absorption is not None and extinction is not None and absorption > extinction:
                field = "extinction_per_km" if "extinction_per_km" in w else "absorption_per_km"
                problems.append(
                    Problem(
                        f"weather[{s}].{field}",
                        f"for laser {name}: absorption_per_km ({absorption}) must not exceed "
                        f"extinction_per_km ({extinction})",
                        w.get(field),
                    )
                )
            if absorption is not None and absorption > 0 and "wind_mps" not in merged:
                problems.append(
                    Problem(
                        f"weather[{s}].wind_mps",
                        f"required: laser {name} absorbs (absorption_per_km {absorption}) in "
                        "this state and neither it nor the state gives wind_mps",
                        None,
                        show_value=False,
                    )
                )
    return problems


def _unknown(path: str, key: str, what: str, known: list[str]) -> Problem:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    listing = ", ".join(known) if known else "none"
    return Problem(path, f"names no {what} ({what}s are: {listing}){hint}", key, False)


def _base_campaign_problems(data, threats, effectors, threat_names) -> list[Problem]:
    problems: list[Problem] = []
    base = data.get("base") if isinstance(data, Mapping) else None
    base = base if isinstance(base, Mapping) else None
    assets = _items(base, "assets") if base is not None else []
    asset_names = [
        a["name"] for a in assets if isinstance(a, Mapping) and isinstance(a.get("name"), str)
    ]
    seen: dict[str, int] = {}
    for i, name in enumerate(a.get("name") if isinstance(a, Mapping) else None for a in assets):
        if not isinstance(name, str):
            continue
        if name == RUNWAY:
            problems.append(
                Problem(f"base.assets[{i}].name", f"{RUNWAY!r} is reserved for the runways", name)
            )
        elif name in seen:
            problems.append(
                Problem(
                    f"base.assets[{i}].name",
                    f"duplicate name; base.assets[{seen[name]}] already uses it",
                    name,
                )
            )
        else:
            seen[name] = i
    runways = base.get("runways", 0) if base is not None else 0
    for i, t in enumerate(threats):
        if not isinstance(t, Mapping):
            continue
        targets = t.get("targets")
        if not isinstance(targets, Mapping) or not targets:
            continue
        if base is None:
            problems.append(
                Problem(f"threats[{i}].targets", "needs a [base] section to aim at", None, False)
            )
            continue
        for key in targets:
            if not isinstance(key, str):
                continue
            if key == RUNWAY:
                if isinstance(runways, int) and runways == 0:
                    problems.append(
                        Problem(
                            f"threats[{i}].targets.{key}",
                            "the base has no runways (base.runways = 0)",
                            None,
                            False,
                        )
                    )
            elif key not in asset_names:
                problems.append(
                    _unknown(
                        f"threats[{i}].targets.{key}", key, "asset group", [*asset_names, RUNWAY]
                    )
                )
        weights = [w for w in targets.values() if _number(w) is not None]
        if len(weights) == len(targets) and not sum(weights) > 0:
            problems.append(
                Problem(
                    f"threats[{i}].targets",
                    "weights must sum to a positive number",
                    dict(targets),
                )
            )
        if t.get("warhead") is None:
            problems.append(
                Problem(
                    f"threats[{i}].warhead",
                    "required when targets are given (kind = unitary or submunition)",
                    None,
                    False,
                )
            )
    campaign = data.get("campaign") if isinstance(data, Mapping) else None
    if not isinstance(campaign, Mapping):
        return problems
    salvos = campaign.get("salvos")
    if isinstance(salvos, list | tuple):
        if not salvos:
            problems.append(Problem("campaign.salvos", "at least one salvo is required", []))
        if len(salvos) > MAX_SALVOS:
            problems.append(Problem("campaign.salvos", f"at most {MAX_SALVOS} salvos", len(salvos)))
        for k, counts in enumerate(salvos):
            if not isinstance(counts, Mapping):
                continue
            total = sum(
                c for c in counts.values() if isinstance(c, int) and not isinstance(c, bool)
            )
            if total > MAX_THREATS:
                problems.append(
                    Problem(
                        f"campaign.salvos[{k}]", f"at most {MAX_THREATS:,} threats in one raid",
                        total,
                    )
                )  # fmt: skip
            for key in counts:
                if isinstance(key, str) and key not in threat_names:
                    problems.append(
                        _unknown(f"campaign.salvos[{k}].{key}", key, "threat", threat_names)
                    )
    kinetic = [
        e["name"]
        for e in effectors
        if isinstance(e, Mapping) and isinstance(e.get("name"), str) and e.get("kind") != "laser"
    ]
    resupply = campaign.get("resupply_rounds")
    if isinstance(resupply, Mapping):
        for key in resupply:
            if isinstance(key, str) and key not in kinetic:
                problems.append(
                    _unknown(f"campaign.resupply_rounds.{key}", key, "kinetic effector", kinetic)
                )
    return problems


# -- loading -----------------------------------------------------------------------------

_MESSAGES = {
    "missing": "required field is missing",
    "finite_number": "must be a finite number (NaN and infinity are not allowed)",
    "int_type": "must be an integer",
    "int_from_float": "must be an integer",
    "float_type": "must be a number",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "dict_type": "must be a table",
    "model_type": "must be a table",
    "model_attributes_type": "must be a table",
    "tuple_type": "must be a list (array of tables)",
    "list_type": "must be a list",
}


def _path(loc: tuple) -> str:
    parts: list[str] = []
    prev_index = False
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
            prev_index = True
            continue
        if item == "[key]":
            continue  # pydantic's marker for an invalid dict key; the key is already there
        if (prev_index and item in EFFECTOR_KINDS) or (
            parts and parts[-1] == ".warhead" and item in WARHEAD_KINDS
        ):
            prev_index = False  # pydantic's tag for the effector or warhead kind, not a field
            continue
        prev_index = False
        parts.append(f".{item}" if parts else str(item))
    return "".join(parts)


def _allowed_fields(loc: tuple, data: Any) -> list[str]:
    """Field names allowed at the parent of ``loc`` (for 'unknown field' messages)."""
    model: type[BaseModel] | None = Scenario
    node = data
    for item in loc[:-1]:
        if model is None:
            return []
        if isinstance(item, int):
            node = node[item] if isinstance(node, list | tuple) and item < len(node) else None
            continue
        if item in EFFECTOR_KINDS:
            model = {"interceptor": Interceptor, "railgun": Railgun, "laser": Laser}[item]
            continue
        field = model.model_fields.get(item)
        node = node.get(item) if isinstance(node, Mapping) else None
        if field is None:
            return []
        model = _inner_model(field.annotation, node)
    return list(model.model_fields) if model is not None else []


def _inner_model(annotation: Any, node: Any) -> type[BaseModel] | None:
    """The first pydantic model inside a (possibly Annotated, tuple or union) type."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _inner_model(arg, node)
        if found is not None:
            return found
    return None


def _salvos_errors(errors: list[dict], data: Any) -> list[dict]:
    """``campaign.salvos`` is a number or a list: keep the errors of the branch the value
    takes, with pydantic's branch label removed from the location, or one error if the
    value is neither."""
    campaign = data.get("campaign") if isinstance(data, Mapping) else None
    value = campaign.get("salvos") if isinstance(campaign, Mapping) else None
    is_list = isinstance(value, list | tuple)
    is_int = isinstance(value, int) and not isinstance(value, bool)
    out, neither = [], False
    for e in errors:
        loc = e["loc"]
        if loc[:2] != ("campaign", "salvos") or len(loc) < 3 or not isinstance(loc[2], str):
            out.append(e)
        elif (is_list and loc[2].startswith("tuple")) or (
            is_int and not loc[2].startswith("tuple")
        ):
            out.append({**e, "loc": loc[:2] + loc[3:]})
        elif not (is_list or is_int) and not neither:
            neither = True
            message = f"Must be a number of salvos (1 to {MAX_SALVOS}) or a list of tables"
            out.append({"type": "salvos", "loc": loc[:2], "msg": message, "input": value})
    return out


def _problems_from_validation(err: ValidationError, data: Any) -> list[Problem]:
    problems = []
    for e in _salvos_errors(err.errors(include_url=False), data):
        kind = e["type"]
        loc = e["loc"]
        path = _path(loc)
        value = e.get("input")
        if kind == "too_short" and isinstance(value, list | tuple) and value:
            continue  # pydantic's echo of item errors (already reported) on a non-empty list
        if kind == "extra_forbidden":
            allowed = _allowed_fields(loc, data)
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            listing = f"allowed: {', '.join(allowed)}" if allowed else ""
            problems.append(
                Problem(path, f"unknown field; {hint}{listing}".rstrip("; "), None, False)
            )
        elif kind in ("union_tag_invalid", "union_tag_not_found"):
            expected = ", ".join(WARHEAD_KINDS if path.endswith("warhead") else EFFECTOR_KINDS)
            if kind == "union_tag_invalid":
                message = f"must be one of {expected}"
                problems.append(Problem(f"{path}.kind", message, e["ctx"].get("tag")))
            else:
                message = f"required field is missing (one of {expected})"
                problems.append(Problem(f"{path}.kind", message, None, False))
        elif kind == "string_pattern_mismatch":
            problems.append(
                Problem(
                    path,
                    "must be an identifier: a lower-case letter, then lower-case letters, "
                    "digits or _",
                    value,
                )
            )
        elif kind == "missing":
            problems.append(Problem(path, _MESSAGES[kind], None, False))
        else:
            message = _MESSAGES.get(kind, e["msg"][0].lower() + e["msg"][1:])
            message = _list_message(loc, kind, message)
            problems.append(Problem(path, message, value))
    return problems


def _list_message(loc: tuple, kind: str, message: str) -> str:
    """Say what the lists of [doctrine] and pk_by_range hold, rather than pydantic's
    words for tuples."""
    if kind not in ("tuple_type", "too_short", "too_long"):
        return message
    if loc and loc[0] == "doctrine" and len(loc) == 2:
        return "must be a list of effector names, most preferred first"
    if "pk_by_range" in loc:
        depth = len(loc) - loc.index("pk_by_range")
        if depth == 2:  # the curve of one threat
            if kind == "too_short":
                return "must have at least one [range_km, pk] point"
            return "must be a list of [range_km, pk] points"
        if depth == 3:  # one point
            return "must be a [range_km, pk] pair of two numbers"
    return message


def _check_dollar_year(dollar_year: Any) -> int | None:
    """The ``dollar_year`` argument as an int (numpy integers too), None, or InputError."""
    if _is_numpy(dollar_year):
        dollar_year = dollar_year.item()
    if dollar_year is not None and not (
        isinstance(dollar_year, int)
        and not isinstance(dollar_year, bool)
        and 1900 <= dollar_year <= MAX_DOLLAR_YEAR
    ):
        raise InputError(f"dollar_year must be a year from 1900 to {MAX_DOLLAR_YEAR}, not "
                         f"{dollar_year!r}")  # fmt: skip
    return dollar_year


def _is_numpy(value: Any) -> bool:
    # By module name: numpy is not imported here for start-up time (pandas imports it).
    return type(value).__module__ == "numpy" and hasattr(value, "tolist")


def python_values(data: Any) -> Any:
    """A mapping built in Python with numpy values in it (``np.int64(8)`` rounds, an
    ``np.array`` of magazine depths) as the plain Python values a TOML file gives: numpy
    scalars to int, float, bool or str, and arrays to lists. Validation is strict about
    types (an integer field takes no float), so numpy's would otherwise be refused."""
    if isinstance(data, Mapping):
        return {key: python_values(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        items = [python_values(value) for value in data]
        return items if isinstance(data, list) else tuple(items)  # a namedtuple too
    if _is_numpy(data):
        return data.tolist()  # a scalar's Python value; an array's nested lists
    return data


def scenario_from_mapping(
    data: Mapping[str, Any], source: str = "<mapping>", dollar_year: int | None = None
) -> Scenario:
    """Validate a mapping with the structure of a scenario file.

    Items that ``use`` a catalog entry are completed from the catalog first; then every
    cost is converted to constant dollars of one year (see :func:`load_scenario`).
    """
    from costx import catalog  # lazy: start-up time (see the imports)

    dollar_year = _check_dollar_year(dollar_year)
    data = python_values(data)
    # Every problem of the file in one pass: an unknown catalog entry (a bad `use`) is
    # reported with the rest, and only the fields its item would have taken from the
    # entry (now missing) are not reported as well.
    data, provenance, problems = catalog.resolve(data)
    unresolved = [p.path.rsplit(".", 1)[0] for p in problems]  # items[i] whose use failed
    if isinstance(data, Mapping):
        info = data.get("scenario") if isinstance(data.get("scenario"), dict) else {}
        file_year = info.get("dollar_year")
        if dollar_year is not None:
            # Costs written in a file without a dollar_year are in the default year's
            # dollars, as when no year is named (docs/model.md).
            default = catalog.default_dollar_year()
            data, found = catalog.to_dollar_year(data, provenance, dollar_year, default)
        elif isinstance(file_year, int) and not isinstance(file_year, bool):
            try:
                data, found = catalog.to_dollar_year(data, provenance, file_year)
            except InputError as err:
                found = [Problem("scenario.dollar_year", str(err), file_year)]
        elif file_year is None:
            # Neither the run nor the file names a year: the index's last year, and costs
            # written in the file are taken to be in its dollars already.
            year = catalog.default_dollar_year()
            data, found = catalog.to_dollar_year(data, provenance, year, file_year=year)
        else:
            found = []  # a dollar_year of the wrong type: validation reports it
        problems += found
    try:
        scenario = Scenario.model_validate(dict(data))
    except ValidationError as err:
        found = _problems_from_validation(err, data)
        reported = {p.path for p in found}
        found += [p for p in semantic_problems(data) if p.path not in reported]
        found += _raw_assumption_problems(data)
        problems += [p for p in found if not _follows_from(p, unresolved)]
        raise ScenarioError(source, problems) from None
    except _SemanticErrors as err:
        raise ScenarioError(source, problems + err.problems) from None
    if problems:
        raise ScenarioError(source, problems)
    scenario._source = source
    scenario._provenance = provenance
    for message in scenario.warnings():
        warnings.warn(f"{source}: {message}", CostxWarning, stacklevel=3)
    return scenario


def _follows_from(problem: Problem, unresolved: list[str]) -> bool:
    """Whether a problem only repeats that a catalog entry was not found: a field missing
    from (or the kind of) an item whose ``use`` names no entry."""
    return any(
        problem.path.startswith(f"{item}.") and problem.message.startswith("required field")
        for item in unresolved
    )


MAX_FILE_BYTES = 16 * 2**20  # a scenario or sweep file; the bundled ones are under 10 KB


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """Parse TOML text; syntax errors become a ScenarioError with line and column."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(source, [Problem("", f"malformed TOML: {err}", None, False)]) from None
    except RecursionError:
        message = "malformed TOML: arrays or tables nested too deeply"
        raise ScenarioError(source, [Problem("", message, None, False)]) from None


def read_toml_file(path: Path) -> dict[str, Any]:
    """Read and parse a TOML file: a regular file (a symbolic link to one is fine) of at
    most ``MAX_FILE_BYTES``; a device (/dev/zero), FIFO or folder is refused unread."""

    def problem(message: str) -> ScenarioError:
        return ScenarioError(str(path), [Problem("", message, None, False)])

    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise problem("cannot read: not a regular file (a folder, device or FIFO)")
        if st.st_size > MAX_FILE_BYTES:
            raise problem(f"cannot read: {st.st_size:,} bytes, at most {MAX_FILE_BYTES:,}")
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)  # a file that grows meanwhile stops here
        if len(data) > MAX_FILE_BYTES:
            raise problem(f"cannot read: more than {MAX_FILE_BYTES:,} bytes")
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        if isinstance(err, UnicodeDecodeError) and data[:4] == b"PAR1":  # Parquet's magic
            reason = (
                "a Parquet file (a costx result?), not a scenario's TOML; costx report and "
                "costx plot read results, and costx.read_result(path).scenario is the "
                "scenario a result was run with"
            )
        raise problem(f"cannot read: {reason}") from None
    return parse_toml(text, str(path))


# What load_scenario, simulate and sweep accept as a scenario.
ScenarioLike = Scenario | Mapping[str, Any] | str | Path


def load_scenario(source: ScenarioLike, dollar_year: int | None = None) -> Scenario:
    """Load and validate a scenario.

    Parameters
    ----------
    source
        A path to a TOML file, a mapping with the same structure as the file, the name of
        a bundled scenario (see ``costx scenarios``), or a Scenario (returned unchanged).
        Numpy numbers and 1-D arrays in a mapping are taken as Python's. To vary a
        scenario, load a changed mapping (``load_scenario(s.to_dict() | ...)``) or sweep
        it: pydantic's ``model_copy(update=...)`` skips validation, and ``simulate``
        trusts a Scenario it is given.

    dollar_year
        Convert every cost to constant dollars of this year with the bundled price index
        (catalog figures carry their dollar year; values written in the file take the
        file's ``[scenario] dollar_year``, else are taken to be in dollars of the index's
        last year). None: the file's ``dollar_year`` if it has one, else the index's last
        year. Every loaded scenario is thus in constant dollars of one year,
        ``scenario.scenario.dollar_year``.

    Returns
    -------
    Scenario
        The validated, immutable scenario.

    Raises
    ------
    ScenarioError
        Listing every problem, one per line, as ``FILE: FIELD.PATH: message (got VALUE)``.
    """
    dollar_year = _check_dollar_year(dollar_year)
    if isinstance(source, Scenario):
        if dollar_year is None:
            return source
        # Convert with the scenario's own provenance: its catalog values keep their dollar
        # years (rebuilding from to_dict() would take them for values written in a file).
        from costx import catalog  # lazy: start-up time (see the imports)

        provenance = source.provenance
        data, problems = catalog.to_dollar_year(source.to_dict(), provenance, dollar_year)
        if problems:
            raise ScenarioError(source.source, problems)
        converted = scenario_from_mapping(data, source.source)
        converted._provenance = provenance
        return converted
    if isinstance(source, Mapping):
        return scenario_from_mapping(source, dollar_year=dollar_year)
    if isinstance(source, str | Path):
        data, label = read_scenario_data(source)
        return scenario_from_mapping(data, label, dollar_year)
    raise TypeError(
        f"load_scenario takes a path, a mapping, a bundled scenario name or a Scenario, "
        f"not {type(source).__name__}"
    )


def _exists(path: str) -> bool:
    try:
        return Path(path).exists()
    except OSError:  # a name too long for a path (TOML text given as one)
        return False


def read_scenario_data(source: str | Path) -> tuple[dict[str, Any], str]:
    """The parsed, not yet validated, data of a scenario file (a path, or a bundled
    scenario's name) and the label errors name it by (the path, or ``bundled:NAME``)."""
    from costx import bundled  # lazy: start-up time (see the imports)

    if isinstance(source, str) and "\n" in source and not _exists(source):
        raise InputError(
            "load_scenario takes a path, a bundled scenario name or a mapping, not TOML "
            "text (a string of several lines); for text, pass tomllib.loads(text)"
        )
    if str(source) == "":
        raise InputError("load_scenario: the scenario path or name is an empty string")
    path = Path(source)
    if path.is_file() or (isinstance(source, Path) or path.suffix == ".toml"):
        if not path.exists():
            raise ScenarioError(str(path), [Problem("", "no such file", None, False)])
        return read_toml_file(path), str(path)
    label = f"bundled:{source}"
    return parse_toml(bundled.scenario_text(str(source)), label), label
