"""Laser fluence on a closing target: the integral of irradiance along the path.

costx's laser model (engagement-kernel issue): a target at range R (km) receives

    I(R) = P exp(-alpha R) / (pi w(R)^2)   [W/cm^2],   w(R) = R * s   (R in cm, s in rad),

with s = sqrt(theta_d^2 + jitter^2 + blur^2) and theta_d = M^2 lambda / (pi D / 2). A
target closing at v (m/s) from R_a to R_b < R_a collects the fluence

    F = (1/v) * integral_{R_b}^{R_a} I(R) dR_m = (K / v) * [H(1/R_b) - H(1/R_a)],

where K = P / (pi s^2 1e7) and, substituting x = 1/R (1/km),

    H(x) = integral_{x_lo}^{x} exp(-alpha / x') dx',   x_lo = 1 / max_range_km.

The integrand exp(-alpha/x) is smooth and bounded by 1, so H is tabulated on a uniform
grid in x (Gauss-Legendre on each cell) and evaluated or inverted between grid points
with the same quadrature and Newton steps on the exact integrand: the result agrees with
the closed form (exponential integral) to about 1e-12 relative, far inside the 0.1 %
dwell-time requirement (tests/test_laser.py checks against scipy's exp1).

Turbulence and thermal blooming (docs/model.md, "Lasers: propagation") multiply the
integrand by a smooth factor,

    I(R) = (K / 1000 R^2) exp(-alpha R) A(R) B(R),
    A(R) = 1 / (1 + tau R^(6/5))                  (long-exposure turbulence spread),
    B(R) = 1 / (1 + (beta Q(R))^2),  Q(R) = 2 (alpha R - 1 + exp(-alpha R)) / alpha^2
                                                  (thermal blooming Strehl factor),

so the exact in-cell quadrature above would cost several transcendental functions per
point. For these lasers lowering tabulates instead G(u) = H(e^u), u = ln(1/R), with its
first two derivatives at the nodes of a grid uniform in u (fine where the beam is far and
exp(-alpha R) varies fastest) and the kernel evaluates and inverts G by quintic Hermite
interpolation: polynomials only. Lowering refines the grid until the interpolant agrees
with Gauss-Legendre quadrature of the exact integrand to 1e-12 of each cell's integral
(:func:`general_table_error`); tests/test_propagation.py checks it against scipy.
"""

import math

import numpy as np

from costx.kernels._jit import jit

# 6-point Gauss-Legendre nodes and weights on [-1, 1].
_GL_X = np.array(
    [
        -0.9324695142031521,
        -0.6612093864662645,
        -0.2386191860831969,
        0.2386191860831969,
        0.6612093864662645,
        0.9324695142031521,
    ]
)
_GL_W = np.array(
    [
        0.1713244923791704,
        0.3607615730481386,
        0.4679139345726910,
        0.4679139345726910,
        0.3607615730481386,
        0.1713244923791704,
    ]
)

TABLE_CELLS = 256


@jit(borrow=True)
def _integrand(alpha, x):
    return math.exp(-alpha / x)


@jit(borrow=True)
def _gl(alpha, a, b):
    """Integral of exp(-alpha/x) over [a, b] by 6-point Gauss-Legendre."""
    half = 0.5 * (b - a)
    mid = 0.5 * (b + a)
    total = 0.0
    for i in range(6):
        total += _GL_W[i] * _integrand(alpha, mid + half * _GL_X[i])
    return total * half


@jit(borrow=True)
def fluence_table(alpha, x_lo, x_hi, out):
    """Fill ``out[k] = H(x_lo + k dx)`` for k = 0..n, with n = len(out) - 1 cells."""
    n = out.shape[0] - 1
    dx = (x_hi - x_lo) / n
    out[0] = 0.0
    for k in range(n):
        a = x_lo + k * dx
        out[k + 1] = out[k] + _gl(alpha, a, a + dx)


@jit(borrow=True)
def h_at(table, alpha, x_lo, dx, x):
    """H(x) for x in [x_lo, x_hi] from the table and exact quadrature on the last cell."""
    n = table.shape[0] - 1
    k = int((x - x_lo) / dx)
    if k < 0:
        k = 0
    elif k > n - 1:
        k = n - 1
    a = x_lo + k * dx
    return table[k] + _gl(alpha, a, x)


@jit(borrow=True)
def h_inverse(table, alpha, x_lo, dx, target):
    """The x in [x_lo, x_hi] with H(x) = target (target clipped to the table's range)."""
    n = table.shape[0] - 1
    if target <= 0.0:
        return x_lo
    if target >= table[n]:
        return x_lo + n * dx
    lo = 0
    hi = n
    while hi - lo > 1:  # table[lo] <= target < table[hi]
        mid = (lo + hi) // 2
        if table[mid] <= target:
            lo = mid
        else:
            hi = mid
    a = x_lo + lo * dx
    b = a + dx
    x = a + dx * (target - table[lo]) / (table[hi] - table[lo])
    for _ in range(4):  # Newton on the exact integral over [a, x]; converges in 1-2 steps
        step = (table[lo] + _gl(alpha, a, x) - target) / _integrand(alpha, x)
        x = min(max(x - step, a), b)
        if abs(step) <= 1e-15 * x:
            break
    return x


# -- turbulence and thermal blooming: tabulated G(u) = H(e^u) ------------------------------

GENERAL_MIN_CELLS = 256
GENERAL_MAX_CELLS = 32_768
GENERAL_TOLERANCE = 1e-12  # interpolation error at cell midpoints, relative to the cell


@jit(borrow=True)
def bloom_q(alpha, r):
    """Q(R) = integral_0^R 2 (R - z) exp(-alpha z) dz = 2 (alpha R - 1 + e^-alpha R) / alpha^2
    and its derivative Q'(R) = 2 (1 - e^-alpha R) / alpha (R^2 and 2R when alpha = 0).

    Q is the path weighting of the distortion number: absorption at distance z heats air
    that deflects the beam over the remaining path R - z, and the power has fallen by
    exp(-alpha z) there. A series below alpha R = 1e-3 avoids cancellation."""
    y = alpha * r
    if y < 1e-3:
        q = r * r * (1.0 - y / 3.0 + y * y / 12.0 - y * y * y / 60.0)
        dq = 2.0 * r * (1.0 - y / 2.0 + y * y / 6.0 - y * y * y / 24.0)
        return q, dq
    em = math.expm1(-y)  # e^-y - 1
    return 2.0 * (y + em) / (alpha * alpha), -2.0 * em / alpha


@jit(borrow=True)
def _g_derivatives(alpha, tau, beta, u):
    """G'(u) = x h(x) and G''(u) = x h + x^2 dh/dx at x = e^u, R = 1/x."""
    x = math.exp(u)
    r = 1.0 / x
    h = math.exp(-alpha * r)
    log_slope = alpha  # -d ln h / dR
    if tau > 0.0:
        t = tau * r**1.2
        h /= 1.0 + t
        log_slope += 1.2 * t / (r * (1.0 + t))
    if beta > 0.0:
        q, dq = bloom_q(alpha, r)
        bq = beta * q
        h /= 1.0 + bq * bq
        log_slope += 2.0 * beta * bq * dq / (1.0 + bq * bq)
    # dh/dx = -R^2 dh/dR = R^2 h log_slope, so x^2 dh/dx = h log_slope.
    return x * h, h * (x + log_slope)


@jit(borrow=True)
def _g_cell(alpha, tau, beta, a, b):
    """Integral of G'(u) over [a, b] by 6-point Gauss-Legendre."""
    half = 0.5 * (b - a)
    mid = 0.5 * (b + a)
    total = 0.0
    for i in range(6):
        total += _GL_W[i] * _g_derivatives(alpha, tau, beta, mid + half * _GL_X[i])[0]
    return total * half


@jit(borrow=True)
def general_table(alpha, tau, beta, u_lo, du, n, out):
    """Fill ``out[3k], out[3k+1], out[3k+2]`` with G, G' and G'' at u_lo + k du, k = 0..n.

    Each cell's integral is the sum of two 6-point Gauss-Legendre halves."""
    out[0] = 0.0
    for k in range(n + 1):
        u = u_lo + k * du
        d1, d2 = _g_derivatives(alpha, tau, beta, u)
        out[3 * k + 1] = d1
        out[3 * k + 2] = d2
        if k < n:
            m = u + 0.5 * du
            out[3 * k + 3] = (
                out[3 * k] + _g_cell(alpha, tau, beta, u, m) + _g_cell(alpha, tau, beta, m, u + du)
            )


@jit(inline="always")
def _hermite(tab, k, du, t):
    """Quintic Hermite increment G(u_k + t du) - G_k on cell k, and its t-derivative."""
    g0 = tab[3 * k]
    dg = tab[3 * k + 3] - g0
    a1 = du * tab[3 * k + 1]
    a2 = du * du * tab[3 * k + 2]
    b1 = du * tab[3 * k + 4]
    b2 = du * du * tab[3 * k + 5]
    t2 = t * t
    t3 = t2 * t
    t4 = t3 * t
    t5 = t4 * t
    h01 = 10.0 * t3 - 15.0 * t4 + 6.0 * t5
    h10 = t - 6.0 * t3 + 8.0 * t4 - 3.0 * t5
    h20 = 0.5 * (t2 - 3.0 * t3 + 3.0 * t4 - t5)
    h11 = -4.0 * t3 + 7.0 * t4 - 3.0 * t5
    h21 = 0.5 * (t3 - 2.0 * t4 + t5)
    inc = dg * h01 + a1 * h10 + a2 * h20 + b1 * h11 + b2 * h21
    d01 = 30.0 * t2 * (1.0 - t) * (1.0 - t)
    d10 = 1.0 - 18.0 * t2 + 32.0 * t3 - 15.0 * t4
    d20 = 0.5 * (2.0 * t - 9.0 * t2 + 12.0 * t3 - 5.0 * t4)
    d11 = -12.0 * t2 + 28.0 * t3 - 15.0 * t4
    d21 = 0.5 * (3.0 * t2 - 8.0 * t3 + 5.0 * t4)
    slope = dg * d01 + a1 * d10 + a2 * d20 + b1 * d11 + b2 * d21
    return inc, slope


@jit(borrow=True)
def g_at(tab, u_lo, du, n, u):
    """G(u) for u in [u_lo, u_lo + n du] by quintic Hermite interpolation."""
    k = int((u - u_lo) / du)
    if k < 0:
        k = 0
    elif k > n - 1:
        k = n - 1
    t = (u - (u_lo + k * du)) / du
    return tab[3 * k] + _hermite(tab, k, du, t)[0]


@jit(borrow=True)
def g_inverse(tab, u_lo, du, n, target):
    """The u with G(u) = target (clipped to the table's range), by Newton on the cell's
    quintic from linear interpolation; G is increasing, so the root is unique."""
    if target <= 0.0:
        return u_lo
    if target >= tab[3 * n]:
        return u_lo + n * du
    lo = 0
    hi = n
    while hi - lo > 1:  # tab[3 lo] <= target < tab[3 hi]
        mid = (lo + hi) // 2
        if tab[3 * mid] <= target:
            lo = mid
        else:
            hi = mid
    need = target - tab[3 * lo]
    t = need / (tab[3 * hi] - tab[3 * lo])
    for _ in range(12):
        inc, slope = _hermite(tab, lo, du, t)
        if not slope > 0.0:  # an underflowed integrand (absurd extinction): keep the guess
            break
        step = (inc - need) / slope
        t = min(max(t - step, 0.0), 1.0)
        if abs(step) <= 1e-15:
            break
    return u_lo + (lo + t) * du


@jit(borrow=True)
def general_table_error(tab, alpha, tau, beta, u_lo, du, n):
    """Largest |interpolated - quadrature| at cell midpoints, relative to the cell's
    integral (plus 1e-15 of the whole table, for cells too small to matter)."""
    worst = 0.0
    floor = 1e-15 * tab[3 * n]
    for k in range(n):
        u = u_lo + k * du
        exact = _g_cell(alpha, tau, beta, u, u + 0.5 * du)
        err = abs(_hermite(tab, k, du, 0.5)[0] - exact)
        worst = max(worst, err / (tab[3 * k + 3] - tab[3 * k] + floor))
    return worst
