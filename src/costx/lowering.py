"""Lowering: a validated Scenario becomes the plain arrays the kernels take.

Every number of a scenario reaches the kernels through here, as an argument (never as a
module constant: Numba's cache would not notice a change). The column layout is defined
next to the kernels, in ``costx.kernels.engagement`` and ``costx.kernels.damage``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from costx import physics
from costx.kernels import engagement as K
from costx.kernels.laser import (
    GENERAL_MAX_CELLS,
    GENERAL_MIN_CELLS,
    GENERAL_TOLERANCE,
    TABLE_CELLS,
    fluence_table,
    g_inverse,
    general_table,
    general_table_error,
    h_inverse,
)
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
    range from which the dwell ends inside the envelope. ``counts[s, g]``: threats of
    group g in salvo s; ``resupply[e]``: rounds added to e's magazine after each salvo.
    Threat groups seen late because of the radar horizon get the horizon as their
    detection range and a ``start_s`` later by the time to close from
    ``detect_range_km`` to it.

    ``reach[e, g]``: the times from a threat's detection to its entry into e's start
    window and to its last start there (``_reach_times``).

    Weather states (``[[weather]]``; one state without them): ``eff_f``, ``r_first``,
    ``r_last``, ``can``, ``ltab`` and ``reach`` have a leading state axis (kinetic rows
    are the same in every state); ``state_cum[s]`` is the cumulative probability of
    states 0..s (the last exactly 1) and ``state_denied[s]`` 1 where no laser may fire.
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
    reach: np.ndarray
    order: np.ndarray
    pk_tab: np.ndarray
    state_cum: np.ndarray
    state_denied: np.ndarray
    max_events: np.ndarray

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
            self.reach,
            self.order,
            self.pk_tab,
            self.state_cum,
            self.state_denied,
            self.max_events,
        )


EVENT_CAP_BASE = 1024  # event steps every salvo may take (lowering.event_cap)
EVENT_CAP_FACTOR = 16  # headroom over the count of distinct event times


def event_cap(counts: np.ndarray, eff_i: np.ndarray) -> np.ndarray:
    """``max_events[s]``: the most event steps and engagements the kernel may take for
    salvo s before it stops and flags the trial (docs/model.md, "Event bound").

    A salvo of N threats against E effectors has at most ENG engagements, ENG the sum
    over kinetic effectors of min(rounds, N x max_engagements) and over lasers of N +
    units (a laser engagement kills unless the unit runs out of lasing time, after which
    that unit never engages again). Time moves from one event to the next, and the
    events are the detections (N), the entries into an effector's envelope and the ends
    of its holds (at most one each per effector and threat: 2 N E), and per engagement
    its release, its channel free again and its launcher ready (3 ENG). The bound is
    EVENT_CAP_BASE + EVENT_CAP_FACTOR x (N (1 + 2 E) + 4 ENG), the engagements counted
    once more as steps of their own: generous, so that only a kernel bug reaches it.
    """
    out = np.empty(counts.shape[0], np.int64)
    n_eff = eff_i.shape[0]
    for s, row in enumerate(counts):
        n = int(row.sum())
        engagements = 0
        for e in range(n_eff):
            if eff_i[e, K.EI_KIND] == K.KIND_LASER:
                engagements += n + int(eff_i[e, K.EI_CHANNELS])
            else:
                engagements += min(
                    int(eff_i[e, K.EI_ROUNDS]), n * int(eff_i[e, K.EI_MAX_ENGAGEMENTS])
                )
        events = n * (1 + 2 * n_eff) + 4 * engagements
        out[s] = min(EVENT_CAP_BASE + EVENT_CAP_FACTOR * events, 2**62)
    return out


def laser_constant(laser: Laser) -> float:
    """K = P / (pi s^2 1e7), with P in W and s in rad: fluence = K dH / v (kernels/laser.py)."""
    return physics.fluence_constant(laser)


def salvo_counts(scenario: Scenario) -> np.ndarray:
    """``counts[s, g]``: threats of group g in salvo s (see Scenario.salvo_counts)."""
    return np.array(scenario.salvo_counts(), np.int64).reshape(-1, len(scenario.threats))


@dataclass(frozen=True)
class WeatherState:
    """A state of the atmosphere as lowering sees it (no ``[[weather]]``: one, certain)."""

    probability: float
    denied: bool
    overrides: dict


def weather_states(scenario: Scenario) -> list[WeatherState]:
    if not scenario.weather:
        return [WeatherState(1.0, False, {})]
    return [
        WeatherState(
            w.probability,
            w.denied,
            {k: getattr(w, k) for k in physics.ATMOSPHERE_FIELDS if getattr(w, k) is not None},
        )
        for w in scenario.weather
    ]


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
        threat_f[g, K.TF_MIN_DWELL_S] = t.min_dwell_s or 0.0
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
    points = max(
        (len(c) for e in effectors if not isinstance(e, Laser) for c in e.pk_by_range.values()),
        default=0,
    )
    pk_tab = np.full((n_eff, n_groups, points, 2), math.nan)
    for e, eff in enumerate(effectors):
        eff_f[e, K.EF_MIN_KM] = eff.min_range_km
        eff_f[e, K.EF_MAX_KM] = eff.max_range_km
        if isinstance(eff, Laser):
            continue  # per weather state, below
        u = eff.speed_mps
        drag = physics.drag_k_per_m(eff) if isinstance(eff, Railgun) else 0.0
        eff_f[e, K.EF_SPEED_MPS] = u
        eff_f[e, K.EF_INTERVAL_S] = eff.interval_s
        eff_f[e, K.EF_ASSESS_S] = eff.assess_s
        eff_f[e, K.EF_AVAILABILITY] = 1.0
        eff_f[e, K.EF_MAGAZINE_S] = math.inf
        eff_f[e, K.EF_RELIABILITY] = eff.reliability
        eff_f[e, K.EF_COMMON_MODE] = eff.common_mode_failure
        eff_f[e, K.EF_DRAG_K] = drag
        eff_f[e, K.EF_PK_C] = physics.pk_time_constant(eff)
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
            r_first[e, g] = physics.launch_range_km(eff.max_range_km, u, v, drag)
            r_last[e, g] = physics.launch_range_km(eff.min_range_km, u, v, drag)
            if p > 0.0:
                can[e, g] = 1
                # P(salvo kills) = (1 - c) (1 - (1 - r p)^salvo), written to stay accurate
                # for tiny r p (r = 1, c = 0: exactly the value without either field).
                rp = eff.reliability * p
                p_salvo = 1.0 if rp >= 1.0 else -math.expm1(eff.salvo_size * math.log1p(-rp))
                p_salvo *= 1.0 - eff.common_mode_failure
                cost = eff.round_cost_usd * eff.salvo_size
                cpk[e, g] = cost / p_salvo if p_salvo > 0.0 else math.inf

    # Lasers, one fluence table per weather state (docs/model.md, "Weather").
    states = weather_states(scenario)
    n_states = len(states)
    eff_f = np.repeat(eff_f[None], n_states, axis=0)
    r_first = np.repeat(r_first[None], n_states, axis=0)
    r_last = np.repeat(r_last[None], n_states, axis=0)
    can = np.repeat(can[None], n_states, axis=0)
    tables: dict[tuple[int, int], np.ndarray] = {}
    for s, state in enumerate(states):
        for e, eff in enumerate(effectors):
            if isinstance(eff, Laser):
                atm = physics.atmosphere(eff, **state.overrides)
                tables[s, e] = _laser_table(eff, atm, e, eff_f[s])
    width = max([TABLE_CELLS + 1, *(len(t) for t in tables.values())])
    ltab = np.zeros((n_states, n_eff, width))
    for (s, e), table in tables.items():
        ltab[s, e, : len(table)] = table
        _lower_laser(
            effectors[e], e, threats, eff_f[s], eff_i, r_first[s], r_last[s], can[s], ltab[s]
        )
        for g in range(n_groups):
            # pk and cost per kill: a laser that can kill g in some state.
            if can[s, e, g]:
                pk[e, g] = 1.0
                cpk[e, g] = effectors[e].cost_per_shot_usd
    # Per state, the times from a threat's detection to its entry into each effector's
    # reach and to its last start there (K._reach_times: the engine reads them per trial).
    reach = np.empty((n_states, n_eff, n_groups, 2))
    for s in range(n_states):
        K._reach_times(threat_f, r_first[s], r_last[s], reach[s])
    state_cum = np.cumsum([w.probability for w in states], dtype=np.float64)
    state_cum[-1] = 1.0
    state_denied = np.array([1 if w.denied else 0 for w in states], np.uint8)

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
        reach=reach,
        order=order,
        pk_tab=pk_tab,
        state_cum=state_cum,
        state_denied=state_denied,
        max_events=event_cap(counts, eff_i),
    )


def _apply_doctrine(scenario: Scenario, can: np.ndarray, cpk: np.ndarray) -> np.ndarray:
    """Preferential policy: only the effectors a group's ``[doctrine]`` list names may
    engage it, ranked by their position in the list (``cpk`` holds the rank); the turn
    order puts effectors by their best rank in any list (ties: file order), so that at
    one instant a preferred effector decides before those that wait for it. ``can`` may
    have a leading weather-state axis."""
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
                can[..., e, g] = 0  # in every weather state
    return np.array(sorted(range(len(names)), key=lambda e: (best[e], e)), np.int64)


def _laser_table(laser, atm, e, eff_f) -> np.ndarray:
    """The fluence table of one laser in one atmosphere, and its columns of ``eff_f``.

    Without turbulence and blooming: H on 256 cells uniform in 1/R (kernels/laser.py,
    exact in-cell quadrature, as before issue 14). With them: G(u), G', G'' on a grid
    uniform in u = ln(1/R), doubled from 256 cells until the interpolant is within
    GENERAL_TOLERANCE of quadrature at every cell midpoint."""
    prop = physics.propagation(laser, atm)
    x_lo = 1.0 / laser.max_range_km
    x_hi = 1.0 / laser.min_range_km
    eff_f[e, K.EF_LASER_K] = prop.k
    eff_f[e, K.EF_ALPHA] = prop.alpha
    eff_f[e, K.EF_X_LO] = x_lo
    eff_f[e, K.EF_DX] = (x_hi - x_lo) / TABLE_CELLS
    if not prop.tabulated:
        eff_f[e, K.EF_PROP] = K.PROP_EXACT
        table = np.zeros(TABLE_CELLS + 1)
        fluence_table(prop.alpha, x_lo, x_hi, table)
        return table
    u_lo, u_hi = math.log(x_lo), math.log(x_hi)
    n = GENERAL_MIN_CELLS
    while True:
        du = (u_hi - u_lo) / n
        table = np.zeros(3 * (n + 1))
        general_table(prop.alpha, prop.tau, prop.beta, u_lo, du, n, table)
        error = general_table_error(table, prop.alpha, prop.tau, prop.beta, u_lo, du, n)
        if error <= GENERAL_TOLERANCE or n >= GENERAL_MAX_CELLS:
            break
        n *= 2
    eff_f[e, K.EF_PROP] = K.PROP_TABLE
    eff_f[e, K.EF_U_LO] = u_lo
    eff_f[e, K.EF_DU] = du
    eff_f[e, K.EF_CELLS] = n
    return table


def _lower_laser(laser, e, threats, eff_f, eff_i, r_first, r_last, can, ltab):
    """A laser's state-independent columns and, for one state, its start envelope: the
    smallest start range from which the kill (after the track/settle time, and no sooner
    than the threat's minimum dwell) completes at min range."""
    alpha = eff_f[e, K.EF_ALPHA]
    k_const = eff_f[e, K.EF_LASER_K]
    settle = laser.settle_s or 0.0
    eff_f[e, K.EF_RETARGET_S] = laser.retarget_s
    eff_f[e, K.EF_AVAILABILITY] = laser.availability
    eff_f[e, K.EF_MAGAZINE_S] = math.inf if laser.magazine_s is None else laser.magazine_s
    eff_f[e, K.EF_SETTLE_S] = settle
    eff_i[e, K.EI_KIND] = K.KIND_LASER
    eff_i[e, K.EI_ROUNDS] = 0
    eff_i[e, K.EI_CHANNELS] = laser.units
    eff_i[e, K.EI_SALVO] = 1
    eff_i[e, K.EI_MAX_ENGAGEMENTS] = NO_LIMIT
    for g, t in enumerate(threats):
        r_first[e, g] = laser.max_range_km
        r_last[e, g] = laser.max_range_km
        can[e, g] = 0
        if t.kill_fluence_j_cm2 is None:
            continue
        # The lasing start range from which the fluence is reached exactly at min range.
        # (Python floats: a laser of almost no power needs an infinite fluence, no warning)
        need = t.kill_fluence_j_cm2 * t.speed_mps / float(k_const)
        if eff_f[e, K.EF_PROP] == K.PROP_EXACT:
            tab = ltab[e, : TABLE_CELLS + 1]
            h_start = tab[-1] - need
            if h_start < 0.0:
                continue  # cannot kill even when starting at max range
            lase = 1.0 / h_inverse(tab, alpha, eff_f[e, K.EF_X_LO], eff_f[e, K.EF_DX], h_start)
        else:
            n = int(eff_f[e, K.EF_CELLS])
            g_start = ltab[e, 3 * n] - need
            if g_start < 0.0:
                continue
            u = g_inverse(ltab[e], eff_f[e, K.EF_U_LO], eff_f[e, K.EF_DU], n, g_start)
            lase = math.exp(-u)
        if t.min_dwell_s:
            lase = max(lase, laser.min_range_km + t.speed_mps * t.min_dwell_s * 1e-3)
        start = lase + t.speed_mps * settle * 1e-3 if settle > 0.0 else lase
        if start > laser.max_range_km:
            continue  # the settle time or the minimum dwell does not fit in the envelope
        r_last[e, g] = start
        can[e, g] = 1


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
