"""Aggregation: per-trial arrays become the tables an analyst reads.

Every summary statistic is computed from exact integer moments of the per-trial counts
(sums and cross-products of leakers, shots, kills and flags). Integer sums do not depend
on the order of addition, so the summary is bit-identical whatever the thread count,
chunking or ``keep_trials`` setting, and a summary-only run of any length needs constant
memory. Costs are linear in the counts (shots times cost per round), so their means,
variances and the ratio estimators follow from the same moments.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from costx.scenario import Laser, Scenario

Z95 = 1.959963984540054  # two-sided 95 % normal quantile


def moment_columns(scenario: Scenario) -> list[str]:
    """Names of the per-trial count columns whose moments are accumulated."""
    cols = [f"leaked_{t.name}" for t in scenario.threats]
    cols += [f"shots_{e.name}" for e in scenario.effectors]
    cols += [f"kills_{e.name}" for e in scenario.effectors]
    cols.append("any_leak")
    cols += [f"laser_available_{e.name}" for e in scenario.lasers]
    return cols


def count_matrix(scenario: Scenario, leaked, shots, kills, avail) -> np.ndarray:
    """Per-trial int64 matrix with the columns of :func:`moment_columns`."""
    n = leaked.shape[0]
    laser_idx = [i for i, e in enumerate(scenario.effectors) if isinstance(e, Laser)]
    x = np.empty((n, leaked.shape[1] + 2 * shots.shape[1] + 1 + len(laser_idx)), np.int64)
    g, e = leaked.shape[1], shots.shape[1]
    x[:, :g] = leaked
    x[:, g : g + e] = shots
    x[:, g + e : g + 2 * e] = kills
    x[:, g + 2 * e] = leaked.sum(axis=1) > 0
    for j, i in enumerate(laser_idx):
        x[:, g + 2 * e + 1 + j] = avail[:, i]
    return x


@dataclass(frozen=True)
class Moments:
    """Exact integer sums over trials: n, sum of x and sum of x x^T per column pair."""

    columns: tuple[str, ...]
    n: int
    s1: tuple[int, ...]
    s2: tuple[tuple[int, ...], ...]

    @classmethod
    def empty(cls, columns) -> Moments:
        k = len(columns)
        return cls(tuple(columns), 0, (0,) * k, tuple((0,) * k for _ in range(k)))

    @classmethod
    def of(cls, columns, x: np.ndarray) -> Moments:
        """Moments of one block of trials (rows of x)."""
        s1 = x.sum(axis=0, dtype=np.int64)
        s2 = x.T @ x
        return cls(
            tuple(columns),
            int(x.shape[0]),
            tuple(int(v) for v in s1),
            tuple(tuple(int(v) for v in row) for row in s2),
        )

    def __add__(self, other: Moments) -> Moments:
        if self.columns != other.columns:
            raise ValueError("cannot add moments of different columns")
        return Moments(
            self.columns,
            self.n + other.n,
            tuple(a + b for a, b in zip(self.s1, other.s1, strict=True)),
            tuple(
                tuple(a + b for a, b in zip(ra, rb, strict=True))
                for ra, rb in zip(self.s2, other.s2, strict=True)
            ),
        )

    def mean(self) -> np.ndarray:
        return np.array([s / self.n for s in self.s1])

    def cov(self) -> np.ndarray:
        """Sample covariance, from exact integer numerators (no cancellation)."""
        n = self.n
        k = len(self.columns)
        out = np.zeros((k, k))
        if n < 2:
            return out
        for i in range(k):
            for j in range(k):
                out[i, j] = (n * self.s2[i][j] - self.s1[i] * self.s1[j]) / (n * (n - 1))
        return out

    def to_dict(self) -> dict:
        return {"columns": list(self.columns), "n": self.n, "s1": list(self.s1),
                "s2": [list(r) for r in self.s2]}  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict) -> Moments:
        return cls(
            tuple(d["columns"]),
            int(d["n"]),
            tuple(int(v) for v in d["s1"]),
            tuple(tuple(int(v) for v in r) for r in d["s2"]),
        )


def _weights(columns, entries: dict[str, float]) -> np.ndarray:
    w = np.zeros(len(columns))
    index = {c: i for i, c in enumerate(columns)}
    for name, value in entries.items():
        w[index[name]] += value
    return w


def summary_table(scenario: Scenario, m: Moments) -> pd.DataFrame:
    """Means with 95 % confidence intervals of every summary measure.

    Means of per-trial quantities use the normal interval mean +/- 1.96 s / sqrt(n).
    Ratios of totals (cost per kill) use the delta-method interval of a ratio estimator,
    R = sum(a) / sum(b), se^2 = (var a - 2 R cov(a, b) + R^2 var b) / (n mean(b)^2).
    The cost-exchange ratio divides the defense cost by the cost of the whole raid
    (attack cost, a constant), so it is a mean, not a ratio estimator.
    """
    mu = m.mean()
    cov = m.cov()
    n = m.n
    rows: list[tuple[str, float, float, float, float, str]] = []

    def linear(name: str, weights: np.ndarray, const: float = 0.0, unit: str = "") -> None:
        mean = float(weights @ mu) + const
        se = math.sqrt(max(float(weights @ cov @ weights), 0.0) / n) if n > 1 else math.nan
        rows.append((name, mean, mean - Z95 * se, mean + Z95 * se, se, unit))

    def ratio(name: str, a: np.ndarray, b: np.ndarray, unit: str) -> None:
        num, den = float(a @ mu), float(b @ mu)
        if den == 0.0 or n < 2:
            rows.append((name, math.nan, math.nan, math.nan, math.nan, unit))
            return
        r = num / den
        var = float(a @ cov @ a - 2 * r * (a @ cov @ b) + r * r * (b @ cov @ b))
        se = math.sqrt(max(var, 0.0) / n) / abs(den)
        rows.append((name, r, r - Z95 * se, r + Z95 * se, se, unit))

    cols = m.columns
    leak_names = [f"leaked_{t.name}" for t in scenario.threats]
    all_leaks = _weights(cols, dict.fromkeys(leak_names, 1.0))
    total = float(sum(t.count for t in scenario.threats))
    kill_w = _weights(cols, {f"kills_{e.name}": 1.0 for e in scenario.effectors})
    cost_w = _weights(cols, {f"shots_{e.name}": e.round_cost_usd for e in scenario.effectors})
    attack = scenario.attack_cost_usd

    linear("leakers", all_leaks, unit="threats")
    linear("p_any_leak", _weights(cols, {"any_leak": 1.0}), unit="probability")
    linear("killed", -all_leaks, total, unit="threats")
    for name in leak_names:
        linear(name, _weights(cols, {name: 1.0}), unit="threats")
    for e in scenario.effectors:
        shots = _weights(cols, {f"shots_{e.name}": 1.0})
        kills = _weights(cols, {f"kills_{e.name}": 1.0})
        linear(f"shots_{e.name}", shots, unit="rounds" if not isinstance(e, Laser) else "lased")
        linear(f"kills_{e.name}", kills, unit="threats")
        linear(f"cost_{e.name}_usd", shots * e.round_cost_usd, unit="USD")
        ratio(f"cost_per_kill_{e.name}_usd", shots * e.round_cost_usd, kills, "USD per kill")
    linear("defense_cost_usd", cost_w, unit="USD")
    linear("attack_cost_usd", np.zeros(len(cols)), attack, unit="USD")
    ratio("cost_per_kill_usd", cost_w, kill_w, "USD per kill")
    if attack > 0:
        linear("cost_exchange_defense_over_attack", cost_w / attack, unit="ratio")
    else:
        rows.append(("cost_exchange_defense_over_attack", *([math.nan] * 4), "ratio"))
    for e in scenario.lasers:
        linear(
            f"laser_available_{e.name}",
            _weights(cols, {f"laser_available_{e.name}": 1.0}),
            unit="probability",
        )
    table = pd.DataFrame(
        rows, columns=["measure", "mean", "ci95_low", "ci95_high", "std_error", "unit"]
    )
    return table.set_index("measure")


def trials_frame(scenario: Scenario, trial0: int, leaked, shots, kills, avail) -> pd.DataFrame:
    """The per-trial table: one row per trial."""
    n = leaked.shape[0]
    total = sum(t.count for t in scenario.threats)
    leaked_total = leaked.sum(axis=1, dtype=np.int64)
    cols: dict[str, np.ndarray] = {
        "trial": np.arange(trial0, trial0 + n, dtype=np.int64),
        "killed": (total - leaked_total).astype(np.int32),
        "leaked": leaked_total.astype(np.int32),
    }
    for g, t in enumerate(scenario.threats):
        cols[f"leaked_{t.name}"] = leaked[:, g]
    defense = np.zeros(n)
    for e, eff in enumerate(scenario.effectors):
        cols[f"shots_{eff.name}"] = shots[:, e]
        cols[f"kills_{eff.name}"] = kills[:, e]
        cost = np.multiply(shots[:, e], eff.round_cost_usd, dtype=np.float64)
        cols[f"cost_{eff.name}_usd"] = cost
        defense += cost
    cols["defense_cost_usd"] = defense
    cols["attack_cost_usd"] = np.full(n, scenario.attack_cost_usd)
    laser_idx = [i for i, e in enumerate(scenario.effectors) if isinstance(e, Laser)]
    if laser_idx:
        cols["laser_available"] = avail[:, laser_idx].any(axis=1)
        if len(laser_idx) > 1:
            for i in laser_idx:
                cols[f"laser_available_{scenario.effectors[i].name}"] = avail[:, i].astype(bool)
    # copy=False: the count columns stay views of the kernel's (column-major) output.
    return pd.DataFrame(cols, copy=False)
