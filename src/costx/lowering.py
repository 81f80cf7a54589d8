"""Lowering: a validated Scenario becomes the plain arrays the kernels take.

Every number of a scenario reaches the kernels through here, as an argument (never as a
module constant: Numba's cache would not notice a change). The column layout is defined
next to the kernels, in ``costx.kernels.engagement`` and ``costx.kernels.damage``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from costx.kernels import engagement as K
from costx.kernels.laser import TABLE_CELLS, fluence_table, h_inverse
from costx.scenario import Laser, Railgun, Scenario

_ARRIVAL = {
    "simultaneous": K.ARRIVAL_SIMULTANEOUS,
    "stream": K.ARRIVAL_STREAM,
    "uniform": K.ARRIVAL_UNIFORM,
}
_POLICY = {
    "layered": K.POLICY_LAYERED,
    "cost_aware": K.POLICY_COST_AWARE,
    "preferential": K.POLICY_PREFERENTIAL,
}
NO_LIMIT = 2**30  # engagements per threat for lasers (they have no such limit)


@dataclass(frozen=True)
class EngagementArrays:
    """Arrays for ``costx.kernels.engagement.simulate_trials`` (see its column constants).

    ``cpk[e, g]`` ranks the effectors against group g, lower first: under ``cost_aware``
    the expected cost per kill (kinetic: round cost x salvo / ((1 - common_mode_failure)
    (1 - (1 - reliability pk)^salvo)), pk the best of a ``pk_by_range`` curve in the
    envelope; laser: cost per shot), inf if e cannot kill g; under ``preferential`` the
    position of e in the ``[doctrine]`` list of g (inf if not listed, and ``can`` is 0).
    ``pk_tab[e, g]`` holds e's ``pk_by_range`` curve for g as rows (range km, pk), padded
    with rows of infinite range; nan where e has none (the scalar ``pk[e, g]`` applies);
    its third dimension is 0 when no effector has a curve. ``r_first``/``r_last`` bound
    the threat range (km) at which e may start an engagement: kinetic, the ranges whose
    meeting range is max/min range; laser, the maximum range and the smallest start
    range from which the dwell ends inside the envelope. ``kplan[e, g]`` tabulates a
    laser's kill range against start range for the cost-aware prediction
    (``kill_range_table``). ``counts[s, g]``: threats of group g in salvo s;
    ``resupply[e]``: rounds added to e's magazine after each salvo. Threat groups seen
    late because of the radar horizon get the horizon as their detection range and a
    ``start_s`` later by the time to close from ``detect_range_km`` to it.
    """

    policy: int
    threat_f: np.ndarray
    threat_i: np.ndarray
    counts: np.ndarray
    resupply: np.ndarray
    eff_f: np.ndarray
    eff_i: np.ndarray
    pk: np.ndarray
    cpk: np.ndarray
    r_first: np.ndarray
    r_last: np.ndarray
    can: np.ndarray
    ltab: np.ndarray
    kplan: np.ndarray
    order: np.ndarray
    pk_tab: np.ndarray

    def kernel_args(self) -> tuple:
        return (
            self.policy,
            self.threat_f,
            self.threat_i,
            self.counts,
            self.resupply,
            self.eff_f,
            self.eff_i,
            self.pk,
            self.cpk,
            self.r_first,
            self.r_last,
            self.can,
            self.ltab,
            self.kplan,
            self.order,
            self.pk_tab,
        )


def laser_constant(laser: Laser) -> float:
    """K = P / (pi s^2 1e7), with P in W and s in rad: fluence = K dH / v (kernels/laser.py)."""
    s = laser.divergence_rad
    return laser.power_kw * 1e3 / (math.pi * s * s * 1e7)


def salvo_counts(scenario: Scenario) -> np.ndarray:
    """``counts[s, g]``: threats of group g in salvo s (see Scenario.salvo_counts)."""
    return np.array(scenario.salvo_counts(), np.int64).reshape(-1, len(scenario.threats))


def lower(scenario: Scenario) -> EngagementArrays:
    """Build the kernel arrays for one scenario."""
    threats = scenario.threats
    effectors = scenario.effectors
    n_groups, n_eff = len(threats), len(effectors)

    threat_f = np.zeros((n_groups, K.TF_COLUMNS))
    threat_i = np.zeros((n_groups, K.TI_COLUMNS), np.int64)
    for g, t in enumerate(threats):
        threat_f[g, K.TF_RANGE_KM] = t.detect_range_km
        threat_f[g, K.TF_SPEED_MPS] = t.speed_mps
        threat_f[g, K.TF_START_S] = t.start_s
        seen_km = scenario.detection_range_km(t)
        if seen_km < t.detect_range_km:
            # Radar horizon: the same trajectory (arrival times place the crossing of
            # detect_range_km), seen later and closer; impact times do not change.
            threat_f[g, K.TF_RANGE_KM] = seen_km
            threat_f[g, K.TF_START_S] = (
                t.start_s + (t.detect_range_km - seen_km) * 1e3 / t.speed_mps
            )
        threat_f[g, K.TF_WINDOW_S] = t.window_s
        threat_f[g, K.TF_FLUENCE_J_CM2] = (
            math.nan if t.kill_fluence_j_cm2 is None else t.kill_fluence_j_cm2
        )
        threat_i[g, K.TI_ARRIVAL] = _ARRIVAL[t.arrival]
    counts = salvo_counts(scenario)
    resupply = np.zeros(n_eff, np.int64)
    if scenario.campaign is not None:
        for e, eff in enumerate(effectors):
            resupply[e] = scenario.campaign.resupply_rounds.get(eff.name, 0)

    eff_f = np.zeros((n_eff, K.EF_COLUMNS))
    eff_i = np.zeros((n_eff, K.EI_COLUMNS), np.int64)
    pk = np.zeros((n_eff, n_groups))
    cpk = np.full((n_eff, n_groups), math.inf)
    r_first = np.zeros((n_eff, n_groups))
    r_last = np.zeros((n_eff, n_groups))
    can = np.zeros((n_eff, n_groups), np.uint8)
    ltab = np.zeros((n_eff, TABLE_CELLS + 1))
    kplan = np.zeros((n_eff, n_groups, K.KILL_TABLE_CELLS + 1))
    points = max(
        (len(c) for e in effectors if not isinstance(e, Laser) for c in e.pk_by_range.values()),
        default=0,
    )
    pk_tab = np.full((n_eff, n_groups, points, 2), math.nan)
    for e, eff in enumerate(effectors):
        eff_f[e, K.EF_MIN_KM] = eff.min_range_km
        eff_f[e, K.EF_MAX_KM] = eff.max_range_km
        if isinstance(eff, Laser):
            _lower_laser(eff, e, threats, eff_f, eff_i, pk, cpk, r_first, r_last, can, ltab)
            for g, t in enumerate(threats):
                if can[e, g]:
                    K.kill_range_table(
                        ltab, eff_f, e, t.speed_mps, t.kill_fluence_j_cm2, r_last[e, g], kplan[e, g]
                    )
            continue
        u = eff.speed_mps
        eff_f[e, K.EF_SPEED_MPS] = u
        eff_f[e, K.EF_INTERVAL_S] = eff.interval_s
        eff_f[e, K.EF_ASSESS_S] = eff.assess_s
        eff_f[e, K.EF_AVAILABILITY] = 1.0
        eff_f[e, K.EF_MAGAZINE_S] = math.inf
        eff_f[e, K.EF_RELIABILITY] = eff.reliability
        eff_f[e, K.EF_COMMON_MODE] = eff.common_mode_failure
        eff_i[e, K.EI_KIND] = K.KIND_RAILGUN if isinstance(eff, Railgun) else K.KIND_INTERCEPTOR
        eff_i[e, K.EI_ROUNDS] = eff.rounds
        eff_i[e, K.EI_CHANNELS] = eff.channels
        eff_i[e, K.EI_SALVO] = eff.salvo_size
        eff_i[e, K.EI_MAX_ENGAGEMENTS] = eff.max_engagements
        for g, t in enumerate(threats):
            p = eff.best_pk(t.name)
            pk[e, g] = p
            curve = eff.pk_by_range.get(t.name)
            if curve is not None:
                pk_tab[e, g, :, 0] = math.inf
                pk_tab[e, g, :, 1] = curve[-1][1]
                pk_tab[e, g, : len(curve)] = curve
            v = t.speed_mps
            r_first[e, g] = eff.max_range_km * (u + v) / u
            r_last[e, g] = eff.min_range_km * (u + v) / u
            if p > 0.0:
                can[e, g] = 1
                # P(salvo kills) = (1 - c) (1 - (1 - r p)^salvo), written to stay accurate
                # for tiny r p (r = 1, c = 0: exactly the value without either field).
                rp = eff.reliability * p
                p_salvo = 1.0 if rp >= 1.0 else -math.expm1(eff.salvo_size * math.log1p(-rp))
                p_salvo *= 1.0 - eff.common_mode_failure
                cost = eff.round_cost_usd * eff.salvo_size
                cpk[e, g] = cost / p_salvo if p_salvo > 0.0 else math.inf

    if scenario.scenario.policy == "cost_aware":
        # Cheaper effectors decide first at any instant, so that a more expensive one sees
        # their engagements; ties keep the file order.
        order = np.array(
            sorted(range(n_eff), key=lambda e: (effectors[e].round_cost_usd, e)), np.int64
        )
    elif scenario.scenario.policy == "preferential":
        order = _apply_doctrine(scenario, can, cpk)
    else:
        order = np.arange(n_eff, dtype=np.int64)

    return EngagementArrays(
        policy=_POLICY[scenario.scenario.policy],
        threat_f=threat_f,
        threat_i=threat_i,
        counts=counts,
        resupply=resupply,
        eff_f=eff_f,
        eff_i=eff_i,
        pk=pk,
        cpk=cpk,
        r_first=r_first,
        r_last=r_last,
        can=can,
        ltab=ltab,
        kplan=kplan,
        order=order,
        pk_tab=pk_tab,
    )


def _apply_doctrine(scenario: Scenario, can: np.ndarray, cpk: np.ndarray) -> np.ndarray:
    """Preferential policy: only the effectors a group's ``[doctrine]`` list names may
    engage it, ranked by their position in the list (``cpk`` holds the rank); the turn
    order puts effectors by their best rank in any list (ties: file order), so that at
    one instant a preferred effector decides before those that wait for it."""
    names = [e.name for e in scenario.effectors]
    best = [math.inf] * len(names)
    cpk[:] = math.inf
    for g, t in enumerate(scenario.threats):
        listed = scenario.doctrine.get(t.name, ())
        for e, name in enumerate(names):
            if name in listed:
                rank = listed.index(name)
                cpk[e, g] = rank
                best[e] = min(best[e], rank)
            else:
                can[e, g] = 0
    return np.array(sorted(range(len(names)), key=lambda e: (best[e], e)), np.int64)


def _lower_laser(laser, e, threats, eff_f, eff_i, pk, cpk, r_first, r_last, can, ltab):
    x_lo = 1.0 / laser.max_range_km
    x_hi = 1.0 / laser.min_range_km
    k_const = laser_constant(laser)
    alpha = laser.extinction_per_km
    fluence_table(alpha, x_lo, x_hi, ltab[e])
    dx = (x_hi - x_lo) / TABLE_CELLS
    eff_f[e, K.EF_LASER_K] = k_const
    eff_f[e, K.EF_ALPHA] = alpha
    eff_f[e, K.EF_X_LO] = x_lo
    eff_f[e, K.EF_DX] = dx
    eff_f[e, K.EF_RETARGET_S] = laser.retarget_s
    eff_f[e, K.EF_AVAILABILITY] = laser.availability
    eff_f[e, K.EF_MAGAZINE_S] = math.inf if laser.magazine_s is None else laser.magazine_s
    eff_i[e, K.EI_KIND] = K.KIND_LASER
    eff_i[e, K.EI_ROUNDS] = 0
    eff_i[e, K.EI_CHANNELS] = laser.units
    eff_i[e, K.EI_SALVO] = 1
    eff_i[e, K.EI_MAX_ENGAGEMENTS] = NO_LIMIT
    h_end = ltab[e, -1]
    for g, t in enumerate(threats):
        r_first[e, g] = laser.max_range_km
        r_last[e, g] = laser.max_range_km
        if t.kill_fluence_j_cm2 is None:
            continue
        # The start range from which the kill completes exactly at min range.
        need = t.kill_fluence_j_cm2 * t.speed_mps / k_const
        h_start = h_end - need
        if h_start < 0.0:
            continue  # cannot kill even when starting at max range
        r_last[e, g] = 1.0 / h_inverse(ltab[e], alpha, x_lo, dx, h_start)
        pk[e, g] = 1.0
        can[e, g] = 1
        cpk[e, g] = laser.cost_per_shot_usd


@dataclass(frozen=True)
class BaseArrays:
    """Arrays for ``costx.kernels.damage.damage_trials`` (see its docstring)."""

    site_assets: np.ndarray
    sheltered: np.ndarray
    spacing_m: np.ndarray
    targets_cum: np.ndarray
    warhead_kind: np.ndarray
    warhead_f: np.ndarray
    p_hit: np.ndarray
    n_runways: int
    cuts_to_close: int
    repair_h: float
    teams: int
    interval_h: float

    def kernel_args(self) -> tuple:
        return (
            self.site_assets,
            self.sheltered,
            self.spacing_m,
            self.targets_cum,
            self.warhead_kind,
            self.warhead_f,
            self.p_hit,
            self.n_runways,
            self.cuts_to_close,
            self.repair_h,
            self.teams,
            self.interval_h,
        )


def lower_base(scenario: Scenario) -> BaseArrays | None:
    """Base arrays, or None when the scenario has no base."""
    from costx.kernels import damage as D
    from costx.scenario import RUNWAY, Campaign, Unitary

    base = scenario.base
    if base is None:
        return None
    sites = base.dispersal_sites
    assets = base.assets
    site_assets = np.zeros((sites, len(assets)), np.int64)
    for a, asset in enumerate(assets):
        for k in range(sites):
            site_assets[k, a] = asset.count // sites + (1 if k < asset.count % sites else 0)
    sheltered = np.array([1 if a.sheltered else 0 for a in assets], np.uint8)
    spacing = np.array(
        [math.inf if a.spacing_m is None else a.spacing_m for a in assets], np.float64
    )
    n_groups = len(scenario.threats)
    targets_cum = np.zeros((n_groups, len(assets) + 1))
    warhead_kind = np.zeros(n_groups, np.int64)
    warhead_f = np.zeros((n_groups, D.WF_COLUMNS))
    names = [a.name for a in assets] + [RUNWAY]
    for g, t in enumerate(scenario.threats):
        weights = np.array([t.targets.get(name, 0.0) for name in names], np.float64)
        if weights.sum() > 0:
            targets_cum[g] = np.cumsum(weights) / weights.sum()
            targets_cum[g, -1] = 1.0
        w = t.warhead
        if w is None:
            continue
        if isinstance(w, Unitary):
            warhead_kind[g] = D.WARHEAD_UNITARY
            warhead_f[g, D.WF_P_OPEN] = w.p_kill_open
            warhead_f[g, D.WF_P_SHELTERED] = w.p_kill_sheltered
            warhead_f[g, D.WF_P_CUT] = w.p_cut_runway
        else:
            warhead_kind[g] = D.WARHEAD_SUBMUNITION
            warhead_f[g, D.WF_FOOTPRINT_M] = w.footprint_m
            warhead_f[g, D.WF_CEP_M] = w.cep_m
            warhead_f[g, D.WF_P_FOOTPRINT] = w.p_kill_in_footprint
    interval = (scenario.campaign or Campaign()).interval_h
    return BaseArrays(
        site_assets=site_assets,
        sheltered=sheltered,
        spacing_m=spacing,
        targets_cum=targets_cum,
        warhead_kind=warhead_kind,
        warhead_f=warhead_f,
        p_hit=p_hit(scenario),
        n_runways=base.runways,
        cuts_to_close=base.cuts_to_close,
        repair_h=base.repair_h_per_cut,
        teams=base.repair_teams,
        interval_h=interval,
    )


def p_hit(scenario: Scenario) -> np.ndarray:
    """``p_hit[g]``: probability that a leaker of group g hits what it aims at."""
    return np.array([t.p_hit for t in scenario.threats], np.float64)


@dataclass(frozen=True)
class ShipArrays:
    """Arrays for ``costx.kernels.damage.ship_trials`` (see its docstring).

    ``aims[g]`` = 1 for the threat groups that aim at the ship: those without ``targets``
    (groups with targets aim at the base). ``p_kill_per_hit`` < 0: the ship is out of
    action at its ``hits_to_kill``-th hit.
    """

    aims: np.ndarray
    p_hit: np.ndarray
    hits_to_kill: int
    p_kill_per_hit: float

    def kernel_args(self) -> tuple:
        return (self.aims, self.p_hit, self.hits_to_kill, self.p_kill_per_hit)


def lower_ship(scenario: Scenario) -> ShipArrays | None:
    """Ship arrays, or None when the scenario has no ship."""
    ship = scenario.ship
    if ship is None:
        return None
    aims = np.array([0 if t.targets else 1 for t in scenario.threats], np.uint8)
    p_kill = -1.0 if ship.p_kill_per_hit is None else ship.p_kill_per_hit
    return ShipArrays(aims, p_hit(scenario), ship.hits_needed, float(p_kill))
