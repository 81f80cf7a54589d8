"""Slow, obvious, pure-Python event simulation of ONE trial (docs/model.md, "One trial").

Written from the contract in docs/model.md alone, for clarity rather than speed: plain
objects, lists and linear scans. It uses the same keyed random draws as the kernel
(``refimpl.rng``) so that its results should equal the kernel's trial by trial, and it
computes laser dwells with the exact fluence integral (``refimpl.laser``: exp1 + brentq).

Policies: ``layered``, ``cost_aware`` and ``preferential``. ``layered`` is fully
determined by the contract. ``cost_aware`` and ``preferential`` decisions (hold fire or
not) depend continuously on the current time through their prediction rules but are
taken only at event times, so their outcome can depend on which events exist; here the
event list of docs/model.md is taken literally (every detection, envelope entry, release,
unit or launcher becoming ready, and the last launch opportunity of a held threat is an
event, whether or not anything can happen then). See tests/test_kernel_reference.py for
how closely this matches the kernel.

Engagement realism (docs/model.md, "Kinetic effectors", "Threats"): rounds function with
``reliability`` and engagements fail as a whole with ``common_mode_failure`` (their own
keyed draws, made only when the probability is below 1 / above 0); ``pk_by_range`` curves
give each round's kill probability at its meeting range; a ``[sensor]`` height and a
group's ``altitude_m`` limit detection to the radar horizon, delaying detection along an
unchanged trajectory.

Readings of the contract where it leaves a choice:

* Envelopes are computed once per (effector, threat) as a time window. Kinetic: the
  threat's range at launch must lie in ``[min (u+v)/u, max (u+v)/u]``, i.e. launch
  times in ``[t_open, t_close]``; laser: range in ``[R_last, max_range]`` where
  ``R_last`` is the range from which the kill completes exactly at ``min_range``. A
  threat detected inside an envelope enters it at its detection time.
* A threat has impacted at ``t >= T_j``.
* A salvo is decided when it starts: round ``k`` is launched at ``start + k * interval``
  while the magazine lasts and (k > 0) ``start + k * interval <= t_close``. No other
  engagement of the same effector can start before its last launch plus the interval,
  so nothing else can take rounds from the magazine in between.
* Laser units are chosen lowest index first among the units that can start (free,
  retargeted, lasing time left). Fluence does not carry over between engagements: a
  threat given up by a unit whose lasing time ran out needs the full kill fluence again.
  Every engagement (also one that is given up) counts as one shot. Lasers have no
  ``max_engagements``; a threat may be lased again after being given up.
* The weather draw is made in every trial (it is keyed, so making it or not changes
  nothing else); ``laser_available`` is reported for lasers only. With ``[[weather]]``
  states a second draw picks the state; a laser fires if the first draw is below its
  availability and the state is not ``denied``, and its atmosphere is the state's.
* A laser that the weather denies keeps its envelope (start window, in the salvo's
  atmosphere): a threat entering it is an event (docs/model.md, "Who engages what"),
  though the laser never engages nor is predicted to. Leaving these events out differed
  from the kernel in 1 of 1,000 cost-aware-realism scenarios (scenario seed 80776).
* Lasers: a unit that starts tracks and settles for ``settle_s``, then lases; the kill
  needs the kill fluence and at least the threat's ``min_dwell_s`` of lasing; the start
  window ends where a start (settle included) can still kill by the minimum range.
* Railguns with a ballistic coefficient: the round slows by drag, so it has flown
  ln(1 + k u t) / k metres after t seconds (docs/model.md); the meeting time is found by
  bisection (brentq) on that position, the launch window by bisection on the meeting
  range. With ``miss_rate_m_per_s`` and ``lethal_radius_m`` a round's kill probability is
  pk (1 - exp(-lethal_radius^2 / (2 (miss_rate t)^2))) for a flight of t seconds.

``cost_aware`` only:

* Turn order: cost per round (railgun: with barrel wear), ties by file order. Cost per
  kill per group as in the contract; an effector that cannot engage a group (pk 0, or a
  laser and a group without kill fluence) is never "cheaper" for it.
* "Able to fire": a kinetic effector with rounds left; a laser that weather allows and
  that has a unit with lasing time left.
* Prediction, kinetic: each engagement lasts the FULL salvo, ``(salvo_size - 1) *
  interval`` + flight time of the last round (at the range where it would be launched;
  where that range is already below zero, the drag-free formula, negative, even for a
  railgun with drag) + ``assess_s``, even where the real salvo would be cut short by the
  minimum range or by the magazine; the magazine only decides whether a threat is
  predicted at all
  (found by comparison with the kernel: the reading "duration of the salvo actually
  fired" disagreed on about 2 % of cost-aware trials, this one on about 0.02 %).
* Prediction, channels: "the channel that frees first" compares ``max(now, free time)``,
  ties to the lowest index (an idle unit or channel frees "now"); lasers use units with
  lasing time left, and a threat whose dwell exceeds that unit's remaining lasing time is
  not predicted (and uses nothing). Laser dwells are exact here, as in the kernel's
  predictions since issue 16's fourteenth stop (a 128-cell table before).
* e's last launch opportunity on j is the end of e's start window on j (``t_close``); at
  that moment nothing cheaper can be done in time, so e fires if it can. It is an event
  only if e held fire on j at the latest event (an effector that could not start an
  engagement then, or no longer holds j, adds no such event). Keeping every hold ever
  decided as an event differed from the kernel in about 1 of 700 to 1,500 random
  cost-aware scenarios (extra decision times); this reading matches it in all of them.

``preferential`` only:

* Allowed pairs: an effector has envelope windows only against the groups whose
  ``[doctrine]`` list names it (so it is never eligible for, nor predicted on, others).
* Turn order: the best (lowest) position of the effector in any list, ties by file order.
* The hold check looks at one preferred effector c at a time, with c's own state only:
  earliest free channel (kinetic: ``now`` if idle, else its release; laser: units with
  lasing time left, ``max(now, ready)``; ties to the lowest index), c's launcher, the
  threat's window on c; kinetic done time = full salvo + flight of its last round +
  ``assess_s``; laser done time = start + exact dwell, which must fit in that unit's
  lasing time. Holding on a group's first eligible threat closes the group for that
  decision.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from scipy.optimize import brentq

from refimpl.laser import atmosphere, engagement_kill, engagement_start_limit_km
from refimpl.rng import (
    arrival_uniform,
    atmosphere_uniform,
    common_mode_uniform,
    kill_uniform,
    reliability_uniform,
    weather_uniform,
)

AIR_DENSITY = 1.225  # kg/m^3, sea level (docs/model.md, "Railguns")


@dataclass
class Threat:
    """One threat of the raid and what has happened to it so far."""

    group: int
    j: int  # index within its group before sorting (used in the random-number keys)
    position: int  # index within its group after sorting by (arrival time, j)
    t_detect: float
    r0_km: float
    speed_mps: float
    engaged: bool = False  # someone is engaging it (until the release)
    dead_known: bool = False  # a release reported it killed
    kill_time: float = math.inf
    killed_by: int | None = None
    engagements: dict[int, int] = field(default_factory=dict)  # effector -> count

    @property
    def t_impact(self) -> float:
        return self.t_detect + 1000.0 * self.r0_km / self.speed_mps

    @property
    def urgency(self) -> tuple[float, int, int]:
        return (self.t_impact, self.group, self.position)

    def range_km(self, t: float) -> float:
        return self.r0_km - self.speed_mps * (t - self.t_detect) / 1000.0


@dataclass
class Engagement:
    """An engagement in progress: the threat is engaged until ``release``."""

    effector: int
    threat: Threat
    release: float
    kills: bool
    channel: int


@dataclass
class TrialResult:
    leaked: list[int]  # per threat group
    shots: list[int]  # per effector (laser: threats lased)
    kills: list[int]  # per effector
    laser_available: dict[int, bool]  # per laser (effector index)
    log: list[str] = field(default_factory=list)


class KineticState:
    def __init__(self, index: int, eff):
        self.index = index
        self.eff = eff
        self.rounds_left = eff.rounds
        self.channel_release: list[float | None] = [None] * eff.channels  # None: free
        self.launcher_ready = -math.inf
        self.interval = eff.interval_s
        beta = getattr(eff, "ballistic_coefficient_kg_m2", None)
        self.drag = 0.0 if beta is None else AIR_DENSITY / (2.0 * beta)  # 1/m

    def flown_m(self, t: float) -> float:
        """Distance the round has flown t seconds after launch."""
        u = self.eff.speed_mps
        if self.drag == 0.0:
            return u * t
        return math.log1p(self.drag * u * t) / self.drag

    def flight_s(self, r_km: float, v: float) -> float:
        """Time to meet a threat r_km away closing at v. A prediction of a full salvo can
        place its last round after the threat has passed (r_km <= 0): then, with drag or
        without, the drag-free 1000 r / (u + v), as without drag."""
        u = self.eff.speed_mps
        if self.drag == 0.0 or r_km <= 0.0:
            return 1000.0 * r_km / (u + v)
        d = 1000.0 * r_km
        return brentq(
            lambda t: self.flown_m(t) + v * t - d, 0.0, d / v, xtol=1e-15, rtol=8.9e-16,
            maxiter=500,
        )  # fmt: skip

    def launch_range_km(self, meet_km: float, v: float) -> float:
        """Threat range at launch for a meeting at meet_km (bisection on the meeting
        range, which grows with the launch range)."""
        u = self.eff.speed_mps
        if self.drag == 0.0:
            return meet_km * (u + v) / u
        if meet_km == 0.0:
            return 0.0

        def meeting(r):
            return r - v * self.flight_s(r, v) / 1000.0 - meet_km

        hi = meet_km * 2.0
        while meeting(hi) < 0.0:
            hi *= 2.0
        return brentq(meeting, meet_km, hi, xtol=1e-15, rtol=8.9e-16, maxiter=500)

    def window(self, th: Threat) -> tuple[float, float] | None:
        """Launch times at which a round meets ``th`` inside [min_range, max_range]."""
        v = th.speed_mps
        r_hi = self.launch_range_km(self.eff.max_range_km, v)
        r_lo = self.launch_range_km(self.eff.min_range_km, v)
        if th.r0_km < r_lo:
            return None
        t_open = th.t_detect + max(0.0, 1000.0 * (th.r0_km - r_hi) / v)
        t_close = th.t_detect + 1000.0 * (th.r0_km - r_lo) / v
        return (t_open, t_close)

    def pk_at(self, th: Threat, groups, meet_km: float) -> float:
        """Kill probability of a functioning round meeting ``th`` at ``meet_km``."""
        name = groups[th.group].name
        curve = (self.eff.pk_by_range or {}).get(name)
        if curve is None:
            return self.eff.pk.get(name, 0.0)
        return curve_value(curve, meet_km)

    def pk(self, th: Threat, groups) -> float:
        return self.group_pk(th.group, groups)

    def group_pk(self, g: int, groups) -> float:
        """The one number for group g: the scalar pk, or the curve's largest value in the
        envelope (at its ends or at a curve point inside it)."""
        name = groups[g].name
        curve = (self.eff.pk_by_range or {}).get(name)
        if curve is None:
            return self.eff.pk.get(name, 0.0)
        low, high = self.eff.min_range_km, self.eff.max_range_km
        values = [curve_value(curve, low), curve_value(curve, high)]
        values += [p for r, p in curve if low < r < high]
        return max(values)

    def meeting_range_km(self, r_km: float, v: float, flight: float) -> float:
        """Range at which a round launched at a threat r_km away meets it after ``flight``
        s: R u / (u + v) without drag, R - v t with it."""
        if self.drag == 0.0:
            u = self.eff.speed_mps
            return r_km * u / (u + v)
        return r_km - v * flight / 1000.0

    def round_pk(self, p: float, flight: float) -> float:
        """A round's pk ``p`` (at its meeting range), lowered by the miss distance grown
        over the time of flight."""
        rate = getattr(self.eff, "miss_rate_m_per_s", None)
        radius = getattr(self.eff, "lethal_radius_m", None)
        if rate is None or radius is None:
            return p
        sigma = rate * flight
        return p * (1.0 - math.exp(-(radius**2) / (2.0 * sigma**2)))

    def free_channel(self) -> int | None:
        for c, rel in enumerate(self.channel_release):
            if rel is None:
                return c
        return None

    def can_start(self, now: float) -> bool:
        return (
            self.free_channel() is not None and self.rounds_left > 0 and now >= self.launcher_ready
        )


class LaserState:
    def __init__(self, index: int, eff, available: bool, atm: dict):
        self.index = index
        self.eff = eff
        self.available = available
        self.atm = atm
        n = eff.units
        self.unit_release: list[float | None] = [None] * n  # None: not lasing
        self.unit_ready = [-math.inf] * n  # free again after retargeting
        self.unit_left = [eff.magazine_s if eff.magazine_s is not None else math.inf] * n
        self._last_start: dict[int, float | None] = {}

    def last_start_range(self, group: int, groups) -> float | None:
        if group not in self._last_start:
            self._last_start[group] = engagement_start_limit_km(self.eff, groups[group], self.atm)
        return self._last_start[group]

    def window(self, th: Threat, groups) -> tuple[float, float] | None:
        """Start times from which a kill completes inside [min_range, max_range]."""
        fluence = groups[th.group].kill_fluence_j_cm2
        if fluence is None:
            return None
        r_last = self.last_start_range(th.group, groups)
        if r_last is None or r_last > th.r0_km:
            return None
        v = th.speed_mps
        t_open = th.t_detect + max(0.0, 1000.0 * (th.r0_km - self.eff.max_range_km) / v)
        t_close = th.t_detect + 1000.0 * (th.r0_km - r_last) / v
        return (t_open, t_close)

    def free_unit(self, now: float) -> int | None:
        for k in range(self.eff.units):
            if (
                self.unit_release[k] is None
                and now >= self.unit_ready[k]
                and self.unit_left[k] > 0.0
            ):
                return k
        return None

    def can_start(self, now: float) -> bool:
        return self.available and self.free_unit(now) is not None


def curve_value(curve, r: float) -> float:
    """pk(R) of a pk_by_range curve: constant beyond its ends, linear in between."""
    if r <= curve[0][0]:
        return curve[0][1]
    if r >= curve[-1][0]:
        return curve[-1][1]
    for i in range(len(curve) - 1):
        (r_i, p_i), (r_next, p_next) = curve[i], curve[i + 1]
        if r_i < r <= r_next:
            return p_i + (p_next - p_i) * (r - r_i) / (r_next - r_i)
    raise AssertionError("unreachable")


def seen_range_and_start(scenario, group) -> tuple[float, float]:
    """(range at which the defense first sees the group's threats, the start_s to use):
    the radar horizon H = 4.12 (sqrt(height) + sqrt(altitude)) km when both are given and
    shorter than detect_range_km, seen 1000 (D - H) / v seconds later."""
    d = group.detect_range_km
    sensor = getattr(scenario, "sensor", None)
    altitude = getattr(group, "altitude_m", None)
    if sensor is None or altitude is None:
        return d, group.start_s
    horizon = 4.12 * (math.sqrt(sensor.height_m) + math.sqrt(altitude))
    if horizon >= d:
        return d, group.start_s
    return horizon, group.start_s + 1000.0 * (d - horizon) / group.speed_mps


def _arrival_times(group, g: int, seed: int, trial: int, start: float) -> list[float]:
    n, window = group.count, group.window_s
    if group.arrival == "simultaneous":
        return [start] * n
    if group.arrival == "stream":
        return [start + j * window / n for j in range(n)]
    if group.arrival == "uniform":
        return [start + window * arrival_uniform(seed, trial, g, j) for j in range(n)]
    raise ValueError(group.arrival)


def simulate_trial(
    scenario,
    seed: int,
    trial: int,
    *,
    keep_log: bool = False,
    hold_whole_group: bool = True,
    denied_laser_events: bool = True,
) -> TrialResult:
    """Play trial ``trial`` of ``scenario`` with ``seed`` under the scenario's policy.

    Returns per-group leakers, per-effector shots and kills, and per-laser availability;
    with ``keep_log`` also a readable log of events and engagements.
    ``hold_whole_group=False`` (preferential only) is a deliberately different reading,
    for power checks: holding fire on a group's first threat does not close the group.
    ``denied_laser_events=False`` is another, for the same purpose: a threat entering the
    envelope of a laser that the weather denies is not an event.
    """
    policy = scenario.scenario.policy
    if policy not in ("layered", "cost_aware", "preferential"):
        raise ValueError(policy)
    doctrine = scenario.doctrine if policy == "preferential" else None
    groups = scenario.threats
    log: list[str] = []

    def note(msg: str) -> None:
        if keep_log:
            log.append(msg)

    # Threats, numbered by group and, within a group, by (arrival time, original index).
    threats: list[Threat] = []
    for g, grp in enumerate(groups):
        r0, start = seen_range_and_start(scenario, grp)
        t = _arrival_times(grp, g, seed, trial, start)
        for pos, j in enumerate(sorted(range(grp.count), key=lambda j: (t[j], j))):
            threats.append(Threat(g, j, pos, t[j], r0, grp.speed_mps))
    threats.sort(key=lambda th: th.urgency)  # most urgent first

    weather = weather_uniform(seed, trial)
    state = None
    if scenario.weather:
        u_state, cumulative, last = atmosphere_uniform(seed, trial), 0.0, len(scenario.weather) - 1
        for i, candidate in enumerate(scenario.weather):
            cumulative = 1.0 if i == last else cumulative + candidate.probability
            if u_state < cumulative:
                state = candidate
                break
    denied = state is not None and state.denied
    effectors: list[KineticState | LaserState] = []
    for e, eff in enumerate(scenario.effectors):
        if eff.kind == "laser":
            available = weather < eff.availability and not denied
            effectors.append(LaserState(e, eff, available, atmosphere(eff, state)))
        else:
            effectors.append(KineticState(e, eff))

    def allowed(e: int, g: int) -> bool:
        if doctrine is None:
            return True
        return scenario.effectors[e].name in doctrine.get(groups[g].name, ())

    # Engagement windows, fixed per (effector, threat).
    windows: dict[tuple[int, int], tuple[float, float]] = {}
    for e, st in enumerate(effectors):
        for i, th in enumerate(threats):
            if not allowed(e, th.group):
                continue
            if isinstance(st, KineticState):
                w = st.window(th) if st.pk(th, groups) > 0.0 else None
            elif not st.available and not denied_laser_events:
                w = None  # the other reading, for the power check only
            else:
                # Also a laser that the weather denies: it never engages and is never
                # predicted (both need ``available``), but its envelope entries are
                # events of cost_aware and preferential all the same.
                w = st.window(th, groups)
            if w is not None and w[0] <= w[1]:
                windows[e, i] = w

    shots = [0] * len(effectors)
    active: list[Engagement] = []

    def eligible(e: int, i: int, now: float) -> bool:
        th = threats[i]
        if th.dead_known or th.engaged or now < th.t_detect or now >= th.t_impact:
            return False
        w = windows.get((e, i))
        if w is None or not w[0] <= now <= w[1]:
            return False
        st = effectors[e]
        if isinstance(st, KineticState):
            return th.engagements.get(e, 0) < st.eff.max_engagements
        return True

    def start_kinetic(st: KineticState, i: int, now: float) -> None:
        th, eff = threats[i], st.eff
        v = th.speed_mps
        t_close = windows[st.index, i][1]
        number = th.engagements.get(st.index, 0)
        launches: list[tuple[float, float]] = []  # (launch time, meeting time)
        for k in range(eff.salvo_size):
            t_k = now + k * st.interval
            if st.rounds_left == 0 or (k > 0 and t_k > t_close):
                break
            st.rounds_left -= 1
            launches.append((t_k, t_k + st.flight_s(th.range_km(t_k), v)))
        kills = False
        common = eff.common_mode_failure
        fails_together = (
            common > 0.0
            and common_mode_uniform(seed, trial, st.index, number, th.group, th.j) < common
        )
        for k, (launch, meet) in enumerate(launches):
            if fails_together:
                break
            r = eff.reliability
            if (
                r < 1.0
                and reliability_uniform(seed, trial, st.index, number, k, th.group, th.j) >= r
            ):
                continue  # this round does not function
            r_launch = th.range_km(launch)
            flight = st.flight_s(r_launch, v)
            p = st.round_pk(st.pk_at(th, groups, st.meeting_range_km(r_launch, v, flight)), flight)
            if kill_uniform(seed, trial, st.index, number, k, th.group, th.j) < p:
                kills = True
                th.kill_time, th.killed_by = meet, st.index
                break
        shots[st.index] += len(launches)
        th.engagements[st.index] = number + 1
        th.engaged = True
        release = launches[-1][1] + eff.assess_s
        channel = st.free_channel()
        st.channel_release[channel] = release
        st.launcher_ready = launches[-1][0] + st.interval
        active.append(Engagement(st.index, th, release, kills, channel))
        note(
            f"t={now:.6f} {eff.name} engagement {number} on g{th.group}#{th.position} "
            f"(j={th.j}) R={th.range_km(now):.6f}: {len(launches)} rounds, "
            f"{f'kill at {th.kill_time:.6f}' if kills else 'miss'}, release {release:.6f}"
        )

    def start_laser(st: LaserState, i: int, now: float) -> None:
        th, eff = threats[i], st.eff
        unit = st.free_unit(now)
        r = th.range_km(now)
        total, dwell = engagement_kill(eff, groups[th.group], r, st.atm)
        lasing_from = now + (total - dwell)  # after the track/settle time
        shots[st.index] += 1
        th.engaged = True
        if st.unit_left[unit] >= dwell:
            st.unit_left[unit] -= dwell
            release, kills = lasing_from + dwell, True
            th.kill_time, th.killed_by = release, st.index
            st.unit_ready[unit] = release + eff.retarget_s
        else:
            release, kills = lasing_from + st.unit_left[unit], False
            st.unit_left[unit] = 0.0
            st.unit_ready[unit] = release
        st.unit_release[unit] = release
        active.append(Engagement(st.index, th, release, kills, unit))
        note(
            f"t={now:.6f} {eff.name} unit {unit} on g{th.group}#{th.position} R={r:.6f}: "
            f"dwell {dwell:.6f}, {'kill' if kills else 'gives up'} at {release:.6f}"
        )

    # -- cost_aware ------------------------------------------------------------------
    def round_cost(eff) -> float:
        if eff.kind == "railgun" and eff.barrel_life_rounds and eff.barrel_cost_usd:
            return eff.cost_per_shot_usd + eff.barrel_cost_usd / eff.barrel_life_rounds
        return eff.cost_per_shot_usd

    def cost_per_kill(e: int, g: int) -> float:
        eff = scenario.effectors[e]
        if eff.kind == "laser":
            return eff.cost_per_shot_usd if groups[g].kill_fluence_j_cm2 is not None else math.inf
        pk = effectors[e].group_pk(g, groups)
        if pk <= 0.0:
            return math.inf
        # (1 - c) (1 - (1 - r pk)^s), computed without cancellation for tiny r pk.
        rp = eff.reliability * pk
        p_salvo = -math.expm1(eff.salvo_size * math.log1p(-rp)) if rp < 1.0 else 1.0
        p_salvo *= 1.0 - eff.common_mode_failure
        if p_salvo <= 0.0:
            return math.inf
        return round_cost(eff) * eff.salvo_size / p_salvo

    def able_to_fire(c: int) -> bool:
        st = effectors[c]
        if isinstance(st, KineticState):
            return st.rounds_left > 0
        return st.available and any(left > 0.0 for left in st.unit_left)

    def predicted_done(c: int, now: float) -> dict[int, float]:
        """The prediction rule: when c would be done with each threat it is predicted to
        engage (kinetic: assessed; laser: killed), serving free threats by urgency."""
        st, eff = effectors[c], scenario.effectors[c]
        done: dict[int, float] = {}
        if isinstance(st, KineticState):
            free_at = [now if rel is None else rel for rel in st.channel_release]
            ready, rounds = st.launcher_ready, st.rounds_left
        else:
            # A lasing unit frees at its kill time + retarget_s; a free unit "frees" now.
            free_at = [max(now, ready) for ready in st.unit_ready]
            left = list(st.unit_left)
        for i, th in enumerate(threats):
            if th.dead_known or th.engaged or now < th.t_detect or now >= th.t_impact:
                continue
            w = windows.get((c, i))
            if w is None:
                continue
            if isinstance(st, KineticState):
                if th.engagements.get(c, 0) >= eff.max_engagements:
                    continue
                if rounds == 0:
                    break
                ch = min(range(len(free_at)), key=lambda k: (free_at[k], k))
                start = max(now, free_at[ch], ready, w[0])
                if start > w[1]:
                    continue
                # The full salvo: salvo duration + flight time of the last round +
                # assessment (not cut short by the minimum range or the magazine).
                last_launch = start + (eff.salvo_size - 1) * st.interval
                last_meet = last_launch + st.flight_s(th.range_km(last_launch), th.speed_mps)
                rounds = max(rounds - eff.salvo_size, 0)
                done[i] = last_meet + eff.assess_s
                free_at[ch] = done[i]
                ready = last_launch + st.interval
            else:
                usable = [k for k in range(len(free_at)) if left[k] > 0.0]
                if not usable:
                    break
                k = min(usable, key=lambda k: (free_at[k], k))
                start = max(now, free_at[k], w[0])
                if start > w[1]:
                    continue
                total, dwell = engagement_kill(eff, groups[th.group], th.range_km(start), st.atm)
                if left[k] < dwell:
                    continue  # its lasing time runs out first: not predicted to be engaged
                done[i] = start + total
                free_at[k] = start + total + eff.retarget_s
                left[k] -= dwell
        return done

    def holds_fire(e: int, i: int, now: float) -> bool:
        """e holds fire on threat i if a cheaper, able effector is predicted to be done with
        it no later than e's own last launch opportunity on it."""
        g = threats[i].group
        last_chance = windows[e, i][1]
        mine = (cost_per_kill(e, g), e)
        for c in range(len(effectors)):
            if c == e or math.isinf(cost_per_kill(c, g)) or (cost_per_kill(c, g), c) >= mine:
                continue
            if not able_to_fire(c):
                continue
            done = predicted_done(c, now).get(i)
            if done is not None and done <= last_chance:
                return True
        return False

    # -- preferential ------------------------------------------------------------------
    def rank(e: int, g: int) -> float:
        listed = doctrine.get(groups[g].name, ())
        name = scenario.effectors[e].name
        return listed.index(name) if name in listed else math.inf

    def done_in_time(c: int, i: int, now: float, deadline: float) -> bool:
        """Whether c could be done with threat i no later than ``deadline`` if it took it
        next, from c's own state only (docs/model.md, "preferential")."""
        st, eff, th = effectors[c], scenario.effectors[c], threats[i]
        w = windows.get((c, i))
        if w is None:
            return False
        if isinstance(st, KineticState):
            if th.engagements.get(c, 0) >= eff.max_engagements or st.rounds_left == 0:
                return False
            free = [now if rel is None else max(now, rel) for rel in st.channel_release]
            unit = min(range(len(free)), key=lambda k: (free[k], k))
            start = max(free[unit], w[0], st.launcher_ready)
        else:
            if not st.available:
                return False
            units = [k for k in range(eff.units) if st.unit_left[k] > 0.0]
            if not units:
                return False
            unit = min(units, key=lambda k: (max(now, st.unit_ready[k]), k))
            start = max(now, st.unit_ready[unit], w[0])
        if start > w[1]:
            return False
        if isinstance(st, KineticState):
            last_launch = start + (eff.salvo_size - 1) * st.interval
            flight = st.flight_s(th.range_km(last_launch), th.speed_mps)
            done = last_launch + flight + eff.assess_s
        else:
            total, dwell = engagement_kill(eff, groups[th.group], th.range_km(start), st.atm)
            if dwell > st.unit_left[unit]:
                return False
            done = start + total  # settle, then the dwell
        return done <= deadline

    def holds_fire_preferential(e: int, i: int, now: float) -> bool:
        g = threats[i].group
        last_chance = windows[e, i][1]
        return any(
            rank(c, g) < rank(e, g) and done_in_time(c, i, now, last_chance)
            for c in range(len(effectors))
            if c != e
        )

    if policy == "layered":
        turn_order = list(range(len(effectors)))
    elif policy == "cost_aware":
        turn_order = sorted(
            range(len(effectors)), key=lambda e: (round_cost(scenario.effectors[e]), e)
        )
    else:
        best = [min([rank(e, g) for g in range(len(groups))], default=math.inf) for e in
                range(len(effectors))]  # fmt: skip
        turn_order = sorted(range(len(effectors)), key=lambda e: (best[e], e))
    held: dict[tuple[int, int], float] = {}  # (effector, threat) -> its last launch chance

    now = -math.inf
    while True:
        # The next event: a detection, an envelope entry, a release, a unit or launcher
        # becoming ready.
        candidates = [th.t_detect for th in threats]
        candidates += [w[0] for (e, i), w in windows.items() if not threats[i].dead_known]
        candidates += [eng.release for eng in active]
        for st in effectors:
            if isinstance(st, KineticState):
                candidates.append(st.launcher_ready)
            else:
                candidates += st.unit_ready
        # cost_aware: the last launch opportunity of each threat held at the last event.
        candidates += list(held.values())
        future = [t for t in candidates if t > now]
        if not future:
            break
        now = min(future)
        held.clear()  # holds are decided afresh at every event
        note(f"event t={now:.6f}")

        # 1. Every release due by now.
        for eng in [eng for eng in active if eng.release <= now]:
            active.remove(eng)
            eng.threat.engaged = False
            if eng.kills:
                eng.threat.dead_known = True
            st = effectors[eng.effector]
            if isinstance(st, KineticState):
                st.channel_release[eng.channel] = None
            else:
                st.unit_release[eng.channel] = None

        # 2. Every effector in turn (layered: file order; cost_aware: cheaper per round
        #    first) starts as many engagements as it can, each on the most urgent eligible
        #    threat (cost_aware: that it does not hold fire on).
        held.clear()  # only holds decided at the latest event make deadline events
        for e in turn_order:
            st = effectors[e]
            while st.can_start(now):
                chosen = None
                closed: set[int] = set()  # preferential: groups held at this decision
                for i in range(len(threats)):
                    if not eligible(e, i, now):
                        continue
                    if policy == "cost_aware" and holds_fire(e, i, now):
                        held[e, i] = windows[e, i][1]
                        note(
                            f"t={now:.6f} {scenario.effectors[e].name} holds fire on "
                            f"g{threats[i].group}#{threats[i].position} until {held[e, i]:.6f}"
                        )
                        continue
                    if policy == "preferential":
                        if threats[i].group in closed:
                            continue
                        if holds_fire_preferential(e, i, now):
                            held[e, i] = windows[e, i][1]
                            if hold_whole_group:
                                closed.add(threats[i].group)
                            continue
                    chosen = i
                    break
                if chosen is None:
                    break
                if isinstance(st, KineticState):
                    start_kinetic(st, chosen, now)
                else:
                    start_laser(st, chosen, now)

    leaked = [0] * len(groups)
    kills = [0] * len(effectors)
    for th in threats:
        if th.killed_by is None:
            leaked[th.group] += 1
        else:
            kills[th.killed_by] += 1
    available = {st.index: st.available for st in effectors if isinstance(st, LaserState)}
    return TrialResult(leaked, shots, kills, available, log)
