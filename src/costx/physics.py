"""Closed-form physics shared by lowering, the public helpers and the scenario checks.

Pure Python (no Numba): ``costx validate`` imports it. Formulas and their sources are in
docs/model.md ("Lasers: propagation" and "Railguns: drag and time of flight"); the kernels
get only the numbers computed here, through costx.lowering.

Lasers. A laser's peak irradiance at range R (km) is

    I(R) = P exp(-alpha R) S_B(R) / (pi w(R)^2)                    [W/cm^2]
    w(R)^2 = (1e5 R)^2 (s^2 + theta_t(R)^2)                           [cm^2]
    s^2 = theta_d^2 + J^2 + 2 sigma_j^2 + b^2,  theta_d = M^2 lambda / (pi D / 2)
    theta_t(R) = 2 lambda / (pi r0(R)),  r0 = (0.423 (3/8) k^2 Cn2 L)^(-3/5),  L = 1000 R m
    S_B(R) = 1 / (1 + (N_D(R) / 4)^2),  N_D = 4 sqrt(2) |dn/dT| alpha_a P Q(R) / (rho c_p v a^3)

so that, with K = P / (pi s^2 1e7), I(R) = K exp(-alpha R) A(R) B(R) / (1000 R^2), where
A = 1 / (1 + tau R^(6/5)) and B = 1 / (1 + (beta Q(R))^2) (kernels/laser.py). This module
computes K, alpha, tau and beta.

Railguns. A projectile of ballistic coefficient beta_b = m / (C_D A) (kg/m^2) in air of
density rho slows as dv/dt = -k v^2 with k = rho / (2 beta_b): after a distance s (m) its
speed is v0 exp(-k s) and it has flown t(s) = expm1(k s) / (k v0) seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Sea-level standard atmosphere (ISA, 15 C): density and the heat capacity of air.
AIR_DENSITY_KG_M3 = 1.225
AIR_CP_J_KG_K = 1005.0
# Thermo-optic coefficient of air at constant pressure: dn/dT = -(n - 1) / T for an ideal
# gas, with n - 1 = 2.7e-4 near 1 um at sea level and T = 288 K.
AIR_DN_DT_PER_K = -2.7e-4 / 288.0
# Blooming Strehl S_B = 1 / (1 + (N_D / N_C)^2): peak irradiance halves at N_D = N_C.
BLOOM_N_C = 4.0
# Fried parameter of a spherical wave over a path-constant Cn2: 0.423 x 3/8.
FRIED_SPHERICAL = 0.423 * 3.0 / 8.0


@dataclass(frozen=True)
class Atmosphere:
    """The atmosphere a laser fires through (its own fields, or a weather state's)."""

    extinction_per_km: float = 0.0
    absorption_per_km: float = 0.0
    cn2: float = 0.0
    wind_mps: float | None = None


ATMOSPHERE_FIELDS = ("extinction_per_km", "absorption_per_km", "cn2", "wind_mps")


def atmosphere(laser, **overrides) -> Atmosphere:
    """The laser's own atmosphere, with any of ``ATMOSPHERE_FIELDS`` replaced."""
    unknown = set(overrides) - set(ATMOSPHERE_FIELDS)
    if unknown:
        raise TypeError(
            f"unknown atmosphere field(s) {', '.join(sorted(unknown))}; "
            f"allowed: {', '.join(ATMOSPHERE_FIELDS)}"
        )
    own = {
        "extinction_per_km": laser.extinction_per_km,
        "absorption_per_km": laser.absorption_per_km or 0.0,
        "cn2": laser.cn2 or 0.0,
        "wind_mps": laser.wind_mps,
    }
    own.update({k: v for k, v in overrides.items() if v is not None})
    return Atmosphere(**own)


def fluence_constant(laser) -> float:
    """K = P / (pi s^2 1e7), P in W, s in rad: fluence = K dH / v (kernels/laser.py)."""
    s = laser.divergence_rad
    return laser.power_kw * 1e3 / (math.pi * s * s * 1e7)


def turbulence_tau(laser, cn2: float) -> float:
    """tau with theta_t(R)^2 = tau s^2 R^(6/5) (R in km): long-exposure turbulence spread
    relative to the range-independent spread s."""
    if cn2 <= 0.0:
        return 0.0
    wavelength = laser.wavelength_um * 1e-6
    k = 2.0 * math.pi / wavelength
    a_t = (2.0 * wavelength / math.pi) ** 2 * (FRIED_SPHERICAL * k * k * cn2 * 1000.0) ** 1.2
    return a_t / laser.divergence_rad**2


def blooming_beta(laser, absorption_per_km: float, wind_mps: float | None) -> float:
    """beta with N_D(R) / N_C = beta Q(R) (Q in km^2): the distortion number per unit of the
    path weighting, divided by the Strehl constant N_C."""
    if absorption_per_km <= 0.0 or wind_mps is None:
        return 0.0
    radius = laser.aperture_m / 2.0
    n_d_per_q = (
        4.0
        * math.sqrt(2.0)
        * abs(AIR_DN_DT_PER_K)
        * (absorption_per_km * 1e-3)  # 1/m
        * laser.power_kw
        * 1e3  # W
        * 1e6  # Q in km^2 -> m^2
        / (AIR_DENSITY_KG_M3 * AIR_CP_J_KG_K * wind_mps * radius**3)
    )
    return n_d_per_q / BLOOM_N_C


def bloom_q(alpha: float, r_km: float) -> float:
    """Q(R) = 2 (alpha R - 1 + exp(-alpha R)) / alpha^2 (R^2 when alpha = 0), km^2."""
    y = alpha * r_km
    if y < 1e-3:
        return r_km * r_km * (1.0 - y / 3.0 + y * y / 12.0 - y**3 / 60.0)
    return 2.0 * (y + math.expm1(-y)) / (alpha * alpha)


@dataclass(frozen=True)
class Propagation:
    """What the kernels need of one laser in one atmosphere."""

    k: float  # W/cm^2 scale K
    alpha: float  # extinction, 1/km
    tau: float  # turbulence
    beta: float  # blooming

    @property
    def tabulated(self) -> bool:
        """Turbulence or blooming: the kernel interpolates a table (kernels/laser.py)."""
        return self.tau > 0.0 or self.beta > 0.0


def propagation(laser, atm: Atmosphere) -> Propagation:
    return Propagation(
        k=fluence_constant(laser),
        alpha=atm.extinction_per_km,
        tau=turbulence_tau(laser, atm.cn2),
        beta=blooming_beta(laser, atm.absorption_per_km, atm.wind_mps),
    )


def irradiance_w_cm2(laser, range_km: float, atm: Atmosphere | None = None) -> float:
    """Peak irradiance I(R) at ``range_km`` (W/cm^2)."""
    p = propagation(laser, atm or atmosphere(laser))
    r = range_km
    f = math.exp(-p.alpha * r)
    if p.tau > 0.0:
        f /= 1.0 + p.tau * r**1.2
    if p.beta > 0.0:
        f /= 1.0 + (p.beta * bloom_q(p.alpha, r)) ** 2
    return p.k * f / (1000.0 * r * r)


# -- railguns ------------------------------------------------------------------------------


def drag_k_per_m(railgun) -> float:
    """k = rho / (2 beta_b) in 1/m (0 without a ballistic coefficient: no drag)."""
    beta_b = getattr(railgun, "ballistic_coefficient_kg_m2", None)
    if beta_b is None:
        return 0.0
    return AIR_DENSITY_KG_M3 / (2.0 * beta_b)


def flight_time_to_s(distance_m: float, muzzle_mps: float, k: float) -> float:
    """Seconds for the round to fly ``distance_m``: expm1(k s) / (k v0) (s / v0 without drag)."""
    if k == 0.0:
        return distance_m / muzzle_mps
    return math.expm1(k * distance_m) / (k * muzzle_mps)


def launch_range_km(meet_km: float, muzzle_mps: float, closing_mps: float, k: float) -> float:
    """Threat range at launch for a meeting at ``meet_km``: the threat closes for the
    round's flight time meanwhile."""
    if k == 0.0:
        return meet_km * (muzzle_mps + closing_mps) / muzzle_mps
    return meet_km + closing_mps * flight_time_to_s(meet_km * 1e3, muzzle_mps, k) * 1e-3


def meeting_range_km(launch_km: float, muzzle_mps: float, closing_mps: float, k: float) -> float:
    """Meeting range of a round launched at a threat at ``launch_km`` (bisection on the
    increasing launch range; for the scenario checks, not the kernel)."""
    if k == 0.0:
        return launch_km * muzzle_mps / (muzzle_mps + closing_mps)
    lo, hi = 0.0, launch_km
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if launch_range_km(mid, muzzle_mps, closing_mps, k) > launch_km:
            hi = mid
        else:
            lo = mid
    return lo


def pk_time_constant(railgun) -> float:
    """c = lethal_radius^2 / (2 miss_rate^2) (s^2) in pk(t) = pk (1 - exp(-c / t^2));
    0 without those fields (pk does not depend on the time of flight)."""
    rate = getattr(railgun, "miss_rate_m_per_s", None)
    radius = getattr(railgun, "lethal_radius_m", None)
    if rate is None or radius is None:
        return 0.0
    return radius * radius / (2.0 * rate * rate)
