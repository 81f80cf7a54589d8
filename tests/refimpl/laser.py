"""Laser physics of docs/model.md ("Lasers"), computed two independent ways.

1. Exact: the fluence deposited on a threat closing at ``v`` m/s from range ``R_a`` to
   ``R_b`` (km) is

       F = (1000 / v) * integral_{R_b}^{R_a} I(R) dR,
       I(R) = P exp(-a R) / (pi w(R)^2),  w(R) = R * 1e5 * s  (cm),

   so ``F = C * J(R_b, R_a)`` with ``C = 1000 P / (v pi 1e10 s^2)`` and

       J(R_b, R_a) = integral_{R_b}^{R_a} exp(-a R) / R^2 dR
                   = exp(-a R_b)/R_b - exp(-a R_a)/R_a - a [E1(a R_b) - E1(a R_a)]

   (because d/dR [-exp(-a R)/R + a E1(a R)] = exp(-a R)/R^2; for a = 0, J = 1/R_b - 1/R_a).
   Kill ranges and the last range from which a kill still completes at the minimum range
   are found with ``scipy.optimize.brentq``.

2. Numerical: :func:`simulate_laser_raid` is a timeline integrator for laser-only raids
   with simultaneous arrivals. It integrates the fluence ODE ``dF/dt = I(R(t))`` with
   classical Runge-Kutta steps of ``dt`` seconds (no closed form, no root finder), both
   for the fire control's look-ahead (is a kill possible before the minimum range?) and
   for the dwell itself.

3. Propagation beyond the fixed spread (docs/model.md, "Lasers: propagation"): per-axis
   jitter, long-exposure turbulence spread from ``cn2`` through the spherical-wave Fried
   parameter, and the thermal-blooming Strehl factor from the distortion number, written
   here from the formulas of docs/model.md. With turbulence or blooming the fluence is
   integrated numerically (``scipy.integrate.quad``) instead of by the exp1 closed form.
   The engagement rules (track/settle time before lasing, minimum aimpoint dwell, the
   fire control's start rule) are in :func:`engagement_kill`.
"""

from __future__ import annotations

import bisect
import functools
import math
from dataclasses import dataclass, field

from scipy.integrate import quad
from scipy.optimize import brentq
from scipy.special import exp1

# Constants of docs/model.md ("Lasers: propagation").
RHO_CP = 1.225 * 1005.0  # J/(m^3 K): sea-level air density times its heat capacity
DN_DT = 2.7e-4 / 288.0  # |dn/dT| of air, 1/K
N_C = 4.0  # distortion number at which the blooming Strehl factor is 1/2

# -- beam and irradiance ------------------------------------------------------------------


def spread_rad(laser) -> float:
    """Range-independent angular spread s in radians: s^2 = theta_d^2 + jitter^2 +
    2 jitter_per_axis^2 + blur^2.

    theta_d = beam_quality * wavelength / (pi * aperture_m / 2), wavelength in metres.
    """
    theta_d = laser.beam_quality * (laser.wavelength_um * 1e-6) / (math.pi * laser.aperture_m / 2)
    jitter = laser.jitter_urad * 1e-6
    blur = laser.blur_urad * 1e-6
    per_axis = (laser.jitter_per_axis_urad or 0.0) * 1e-6
    if per_axis == 0.0:
        return math.sqrt(theta_d**2 + jitter**2 + blur**2)
    return math.sqrt(theta_d**2 + jitter**2 + blur**2 + 2.0 * per_axis**2)


def atmosphere(laser, state=None) -> dict:
    """Extinction, absorption (1/km), cn2 and wind of a laser, a weather state's fields
    replacing its own."""
    atm = {
        "extinction_per_km": laser.extinction_per_km,
        "absorption_per_km": laser.absorption_per_km or 0.0,
        "cn2": laser.cn2 or 0.0,
        "wind_mps": laser.wind_mps,
    }
    if state is not None:
        for key in atm:
            if getattr(state, key, None) is not None:
                atm[key] = getattr(state, key)
    return atm


def _plain(atm) -> bool:
    """No turbulence and no blooming: the exp1 closed form applies."""
    return atm["cn2"] == 0.0 and atm["absorption_per_km"] == 0.0


def irradiance_w_cm2(laser, range_km: float, atm=None) -> float:
    """Peak irradiance P exp(-extinction R) S_B / (pi w^2), w^2 = (1e5 R)^2 (s^2 + theta_t^2).

    theta_t = 2 lambda / (pi r0), r0 = (0.423 (3/8) k^2 Cn2 L)^(-3/5) (spherical wave, L
    the range in metres); S_B = 1 / (1 + (N_D / 4)^2) with the distortion number
    N_D = 4 sqrt(2) |dn/dT| alpha_a P Q / (rho c_p v a^3), Q = 2 (aL - 1 + e^-aL) / a^2
    (a the extinction, per metre), a the aperture radius.
    """
    atm = atm or atmosphere(laser)
    power_w, alpha, s2, wavelength, fried, bloom = _constants(laser, tuple(sorted(atm.items())))
    length = range_km * 1000.0
    if fried > 0.0:
        r0 = (fried * length) ** (-0.6)
        s2 = s2 + (2.0 * wavelength / (math.pi * r0)) ** 2
    strehl = 1.0
    if bloom > 0.0:
        a = alpha / 1000.0
        y = a * length
        if y < 1e-3:  # Taylor series: the closed form cancels (aL - 1 + e^-aL ~ (aL)^2 / 2)
            q = length**2 * (1.0 - y / 3.0 + y * y / 12.0 - y**3 / 60.0)
        else:
            q = 2.0 * (y + math.expm1(-y)) / (a * a)
        strehl = 1.0 / (1.0 + (bloom * q / N_C) ** 2)
    spot_cm2 = (range_km * 1e5) ** 2 * s2
    return power_w * math.exp(-alpha * range_km) * strehl / (math.pi * spot_cm2)


@functools.lru_cache(maxsize=1024)
def _constants(laser, atm_items) -> tuple[float, ...]:
    """What irradiance_w_cm2 needs that does not depend on range: P, extinction, s^2,
    lambda, 0.423 (3/8) k^2 Cn2 (so r0 = (that x L)^-3/5), and N_D / Q."""
    atm = dict(atm_items)
    power_w = 1000.0 * laser.power_kw
    wavelength = laser.wavelength_um * 1e-6
    k = 2.0 * math.pi / wavelength
    fried = 0.423 * 3.0 / 8.0 * k * k * atm["cn2"]
    bloom = 0.0
    if atm["absorption_per_km"] > 0.0:
        bloom = (
            4.0 * math.sqrt(2.0) * DN_DT * atm["absorption_per_km"] / 1000.0 * power_w
            / (RHO_CP * atm["wind_mps"] * (laser.aperture_m / 2.0) ** 3)
        )  # fmt: skip
    return power_w, atm["extinction_per_km"], spread_rad(laser) ** 2, wavelength, fried, bloom


# -- exact fluence ------------------------------------------------------------------------


def range_integral(a: float, r_b: float, r_a: float) -> float:
    """Exact integral of exp(-a R) / R^2 over R from r_b to r_a (km, r_a >= r_b > 0)."""
    if a == 0.0:
        return 1.0 / r_b - 1.0 / r_a
    return (
        math.exp(-a * r_b) / r_b
        - math.exp(-a * r_a) / r_a
        - a * (float(exp1(a * r_b)) - float(exp1(a * r_a)))
    )


def fluence_coefficient(laser, speed_mps: float) -> float:
    """C in F = C * J: 1000 P / (v pi (1e5 s)^2), J/cm^2 per km^-1."""
    s = spread_rad(laser)
    return 1000.0 * (1000.0 * laser.power_kw) / (speed_mps * math.pi * (1e5 * s) ** 2)


def fluence_j_cm2(laser, speed_mps: float, r_from_km: float, r_to_km: float, atm=None) -> float:
    """Fluence deposited while the threat closes from r_from_km to r_to_km: exact (exp1)
    without turbulence and blooming, else adaptive quadrature of (1000 / v) I(R) dR."""
    atm = atm or atmosphere(laser)
    if _plain(atm):
        return fluence_coefficient(laser, speed_mps) * range_integral(
            atm["extinction_per_km"], r_to_km, r_from_km
        )
    if r_from_km == r_to_km:
        return 0.0
    return 1000.0 * (_phi(laser, atm, r_to_km) - _phi(laser, atm, r_from_km)) / speed_mps


def _phi(laser, atm, r_km: float) -> float:
    """Phi(R) = integral of I from R to max range: the value at the next node of a fixed
    grid (cached per laser and atmosphere) plus adaptive quadrature over the short rest."""
    nodes, phis = _phi_grid(laser, tuple(sorted(atm.items())))
    k = bisect.bisect_left(nodes, r_km)
    if k >= len(nodes):
        return 0.0
    if nodes[k] == r_km:
        return phis[k]
    width = nodes[k] - r_km
    if width <= 1e-7 * r_km:  # midpoint rule: exact to ~width^3 (quad cannot subdivide it)
        return phis[k] + width * irradiance_w_cm2(laser, r_km + 0.5 * width, atm)
    rest, _ = quad(
        lambda r: irradiance_w_cm2(laser, r, atm), r_km, nodes[k], epsabs=0.0, epsrel=1e-13,
        limit=200,
    )  # fmt: skip
    return phis[k] + rest


@functools.lru_cache(maxsize=1024)
def _phi_grid(laser, atm_items) -> tuple[list[float], list[float]]:
    """Phi at 65 nodes spaced evenly in ln R from below min range to max range."""
    atm = dict(atm_items)
    lo, hi = 0.5 * laser.min_range_km, laser.max_range_km
    nodes = [lo * (hi / lo) ** (i / 64) for i in range(65)]
    nodes[-1] = hi
    phis = [0.0] * 65
    for i in range(63, -1, -1):
        part, _ = quad(
            lambda r: irradiance_w_cm2(laser, r, atm), nodes[i], nodes[i + 1], epsabs=0.0,
            epsrel=1e-13, limit=200,
        )  # fmt: skip
        phis[i] = phis[i + 1] + part
    return nodes, phis


def kill_range_km(
    laser, speed_mps: float, kill_fluence: float, r_start_km: float, atm=None
) -> float | None:
    """Range at which the fluence reaches ``kill_fluence`` when lasing from ``r_start_km``.

    None if the kill would complete below the laser's minimum range (hopeless).
    """
    r_min = laser.min_range_km
    if r_start_km < r_min:
        return None
    short = fluence_j_cm2(laser, speed_mps, r_start_km, r_min, atm) - kill_fluence
    if short < 0.0:
        return None
    if short == 0.0:
        return r_min
    if not _plain(atm or atmosphere(laser)):
        return _phi_root(laser, atm or atmosphere(laser), speed_mps, kill_fluence, r_start_km)
    return brentq(
        lambda r: fluence_j_cm2(laser, speed_mps, r_start_km, r, atm) - kill_fluence,
        r_min,
        r_start_km,
        xtol=1e-15,
        rtol=8.9e-16,
        maxiter=500,
    )


def _phi_root(laser, atm, speed_mps, kill_fluence, r_start_km) -> float:
    """The r with Phi(r) = Phi(r_start) + v F / 1000 (a kill is known to be possible):
    bracketed between grid nodes, then Newton steps (dPhi/dr = -I) kept in the bracket,
    with bisection when a step leaves it."""
    target = _phi(laser, atm, r_start_km) + kill_fluence * speed_mps / 1000.0
    nodes, phis = _phi_grid(laser, tuple(sorted(atm.items())))
    lo, hi = laser.min_range_km, r_start_km  # Phi(lo) >= target >= Phi(hi)
    for node, phi in zip(nodes, phis, strict=True):
        if lo < node < hi:
            if phi >= target:
                lo = node
            else:
                hi = node
    r = 0.5 * (lo + hi)
    for _ in range(100):
        excess = _phi(laser, atm, r) - target  # > 0: r too small
        if excess > 0.0:
            lo = r
        else:
            hi = r
        step = excess / irradiance_w_cm2(laser, r, atm)
        if abs(step) <= 1e-13 * r or hi - lo <= 1e-15 * r:
            return r + step
        nxt = r + step
        r = nxt if lo < nxt < hi else 0.5 * (lo + hi)
    return r


def dwell_s(
    laser, speed_mps: float, kill_fluence: float, r_start_km: float, atm=None
) -> float | None:
    """Exact dwell 1000 (R_start - R_kill) / v in seconds, or None if hopeless."""
    r_kill = kill_range_km(laser, speed_mps, kill_fluence, r_start_km, atm)
    if r_kill is None:
        return None
    return 1000.0 * (r_start_km - r_kill) / speed_mps


def last_start_range_km(laser, speed_mps: float, kill_fluence: float, atm=None) -> float | None:
    """Smallest start range from which the kill still completes at the minimum range.

    That is the R with F(R -> min_range) = kill_fluence. Starting anywhere in
    [this range, max_range] succeeds. None if even max_range is hopeless.
    """
    r_min, r_max = laser.min_range_km, laser.max_range_km
    if fluence_j_cm2(laser, speed_mps, r_max, r_min, atm) < kill_fluence:
        return None
    return brentq(
        lambda r: fluence_j_cm2(laser, speed_mps, r, r_min, atm) - kill_fluence,
        r_min,
        r_max,
        xtol=1e-15,
        rtol=8.9e-16,
        maxiter=500,
    )


def engagement_start_limit_km(laser, threat, atm=None) -> float | None:
    """The fire control's start rule with the track/settle time and the minimum dwell:
    the smallest range at which a unit may start (settle, then lase) so that the kill
    completes at min range. None if no start within max range can kill."""
    v = threat.speed_mps
    lase = last_start_range_km(laser, v, threat.kill_fluence_j_cm2, atm)
    if lase is None:
        return None
    if threat.min_dwell_s:
        lase = max(lase, laser.min_range_km + v * threat.min_dwell_s / 1000.0)
    start = lase + v * (laser.settle_s or 0.0) / 1000.0
    return None if start > laser.max_range_km else start


def engagement_kill(laser, threat, r_start_km: float, atm=None) -> tuple[float, float]:
    """(settle + lasing time, lasing time) of an engagement that a unit starts when the
    threat is ``r_start_km`` away: it tracks and settles for ``settle_s``, then lases
    until the kill fluence is reached and at least ``min_dwell_s`` has passed. A start
    that is within the envelope only by rounding ends at min range."""
    v = threat.speed_mps
    settle = laser.settle_s or 0.0
    r_lase = r_start_km - v * settle / 1000.0
    r_kill = kill_range_km(laser, v, threat.kill_fluence_j_cm2, r_lase, atm)
    if r_kill is None:
        r_kill = laser.min_range_km
    lasing = 1000.0 * (r_lase - r_kill) / v
    lasing = max(lasing, threat.min_dwell_s or 0.0)
    return settle + lasing, lasing


# -- numerical integration of the fluence ODE ---------------------------------------------


def integrate_fluence_ode(
    laser, speed_mps: float, r_start_km: float, target_j_cm2: float, max_time_s: float, dt: float
) -> tuple[float, float]:
    """Integrate dF/dt = I(R(t)), R(t) = R_start - v t / 1000, from t = 0 with RK4 steps.

    Stops when F reaches ``target_j_cm2`` or at ``max_time_s``, whichever comes first.
    Returns (t, F) at the stop. The crossing inside the last step is located by bisection
    on the fraction of that step, each trial fraction integrated by one RK4 step.
    (For an ODE whose right side depends on t only, RK4 is Simpson's rule per step.)
    """

    def rate(t: float) -> float:
        return irradiance_w_cm2(laser, r_start_km - speed_mps * t / 1000.0)

    def rk4(t: float, f: float, h: float) -> float:
        k1 = rate(t)
        k2 = rate(t + h / 2)
        k3 = k2  # the right side does not depend on F
        k4 = rate(t + h)
        return f + h * (k1 + 2 * k2 + 2 * k3 + k4) / 6

    t, f = 0.0, 0.0
    while t < max_time_s:
        h = min(dt, max_time_s - t)
        f_next = rk4(t, f, h)
        if f_next >= target_j_cm2:
            lo, hi = 0.0, h
            for _ in range(60):
                mid = (lo + hi) / 2
                if rk4(t, f, mid) >= target_j_cm2:
                    hi = mid
                else:
                    lo = mid
            return t + hi, target_j_cm2
        t, f = t + h, f_next
    return max_time_s, f


# -- timeline integrator for laser-only raids ---------------------------------------------


@dataclass
class _Threat:
    group: int
    index: int  # position within its group (all arrive together, so also the urgency tiebreak)
    t_detect: float
    r0_km: float
    speed_mps: float
    kill_fluence: float | None
    dead: bool = False
    busy: bool = False

    @property
    def t_impact(self) -> float:
        return self.t_detect + 1000.0 * self.r0_km / self.speed_mps

    def range_km(self, t: float) -> float:
        return self.r0_km - self.speed_mps * (t - self.t_detect) / 1000.0


@dataclass
class _Unit:
    free_at: float = -math.inf
    remaining_s: float = math.inf
    busy_until: float | None = None
    target: _Threat | None = None
    kills_target: bool = False


@dataclass
class LaserRaidResult:
    leaked: list[int]
    shots: list[int]
    kills: list[int]
    engagements: list[tuple[int, int, int, float, float, bool]] = field(default_factory=list)
    """(laser, group, index, start_s, end_s, killed) for every engagement."""


def simulate_laser_raid(scenario, dt: float = 1e-3) -> LaserRaidResult:
    """Laser-only raid with simultaneous arrivals, physics by RK4 on the fluence ODE.

    Every effector must be a laser with availability 1 (no weather draw is needed) and
    every threat group must arrive ``simultaneous``. Scheduling follows docs/model.md:
    at each moment a free unit (lasers in file order, units in index order) starts on
    the most urgent threat (earliest impact, then lower group, then lower index) that is
    detected, free, alive, inside [min_range, max_range] and killable before min_range
    (checked by integrating the ODE ahead); it lases until the kill, then retargets.
    With ``magazine_s`` a unit whose remaining lasing time is shorter than the dwell lases
    until it runs out, gives the threat up and is out of action.
    """
    for e in scenario.effectors:
        if e.kind != "laser" or e.availability != 1.0:
            raise ValueError("simulate_laser_raid takes lasers with availability 1 only")
    threats = []
    for g, grp in enumerate(scenario.threats):
        if grp.count and grp.arrival != "simultaneous":
            raise ValueError("simulate_laser_raid takes simultaneous arrivals only")
        for j in range(grp.count):
            threats.append(
                _Threat(
                    g, j, grp.start_s, grp.detect_range_km, grp.speed_mps, grp.kill_fluence_j_cm2
                )
            )
    threats.sort(key=lambda th: (th.t_impact, th.group, th.index))
    lasers = scenario.effectors
    units = [
        [_Unit(remaining_s=las.magazine_s or math.inf) for _ in range(las.units)] for las in lasers
    ]
    shots = [0] * len(lasers)
    kills = [0] * len(lasers)
    log = []

    def dwell(las, th, t):
        """RK4 look-ahead: time to reach the kill fluence, or None if it needs < min range."""
        r = th.range_km(t)
        time_to_min = 1000.0 * (r - las.min_range_km) / th.speed_mps
        t_kill, f = integrate_fluence_ode(las, th.speed_mps, r, th.kill_fluence, time_to_min, dt)
        return t_kill if f >= th.kill_fluence else None

    def entry_time(las, th):
        return max(th.t_detect, th.t_detect + 1000.0 * (th.r0_km - las.max_range_km) / th.speed_mps)

    now = -math.inf
    while True:
        times = [th.t_detect for th in threats if th.t_detect > now]
        times += [entry_time(las, th) for las in lasers for th in threats]
        for us in units:
            for u in us:
                times += [u.free_at]
                if u.busy_until is not None:
                    times.append(u.busy_until)
        times = [t for t in times if t > now]
        if not times:
            break
        now = min(times)
        for k, us in enumerate(units):  # releases due by now
            for u in us:
                if u.busy_until is not None and u.busy_until <= now:
                    u.target.busy = False
                    if u.kills_target:
                        u.target.dead = True
                        kills[k] += 1
                    u.busy_until, u.target = None, None
        for k, las in enumerate(lasers):
            for u in units[k]:
                if u.busy_until is not None or u.free_at > now or u.remaining_s <= 0:
                    continue
                for th in threats:  # urgency order
                    if th.dead or th.busy or th.kill_fluence is None or now < th.t_detect:
                        continue
                    if now >= th.t_impact:
                        continue
                    r = th.range_km(now)
                    if not las.min_range_km <= r <= las.max_range_km:
                        continue
                    d = dwell(las, th, now)
                    if d is None:
                        continue
                    shots[k] += 1
                    th.busy = True
                    u.target = th
                    if u.remaining_s >= d:
                        u.busy_until, u.kills_target = now + d, True
                        u.free_at = now + d + las.retarget_s
                        u.remaining_s -= d
                    else:
                        u.busy_until, u.kills_target = now + u.remaining_s, False
                        u.free_at = u.busy_until
                        u.remaining_s = 0.0
                    log.append((k, th.group, th.index, now, u.busy_until, u.kills_target))
                    break
    leaked = [0] * len(scenario.threats)
    for th in threats:
        if not th.dead:
            leaked[th.group] += 1
    return LaserRaidResult(leaked, shots, kills, log)
