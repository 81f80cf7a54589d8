"""Aggregation: per-trial arrays become the tables an analyst reads.

Every summary statistic is computed from exact integer moments of per-trial integer
quantities (sums and cross-products of leakers, shots, kills, assets destroyed, minutes
of runway closure, salvos survived). Integer sums do not depend on the order of addition,
so the summary is bit-identical whatever the thread count, chunking or ``keep_trials``
setting, and a summary-only run of any length needs constant memory. Costs are linear in
the counts (shots times cost per round, assets destroyed times unit cost), so their
means, variances and the ratio estimators follow from the same moments.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from statistics import NormalDist
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from costx.costing import capital_items
from costx.errors import InputError
from costx.scenario import Laser, Scenario

Z95 = 1.959963984540054  # two-sided 95 % normal quantile
PRECISION_MEASURE = "cost_exchange_defense_over_attack"  # default measure of precision=
PRECISION_FIRST_CHECK = 10_000  # trials before the first precision check
PRECISION_GROWTH = 1.25  # each precision check at about 1.25 times the trials of the last
PRECISION_CAP = 10_000_000  # default trial cap of a run to a precision (CLI)


@dataclass
class RawTrials:
    """Kernel outputs for a run of trials (first index: trial; ``s``: salvo).

    leaked[i, s, g], shots/kills/avail/rounds_end[i, s, e]; with a base also
    destroyed[i, s, a], site_destroyed[i, k, a] and closed_min[i, s]; with a ship
    ship_hits[i, s] and ship_lost[i, s].
    """

    leaked: np.ndarray
    shots: np.ndarray
    kills: np.ndarray
    avail: np.ndarray
    rounds_end: np.ndarray
    destroyed: np.ndarray | None = None
    site_destroyed: np.ndarray | None = None
    closed_min: np.ndarray | None = None
    ship_hits: np.ndarray | None = None
    ship_lost: np.ndarray | None = None

    FIELDS: ClassVar[tuple[str, ...]] = (
        "leaked", "shots", "kills", "avail", "rounds_end", "destroyed", "site_destroyed",
        "closed_min", "ship_hits", "ship_lost",
    )  # fmt: skip

    @classmethod
    def allocate(
        cls, n, n_salvos, n_groups, n_eff, base_shape=None, order="F", ship=False
    ) -> RawTrials:
        """Zeroed outputs. ``order="F"`` (for kept tables): the last index outermost, so
        that ``a[:, :, j]`` is a row-major (trial, salvo) block and every per-trial column
        (one salvo) or trial-major per-salvo column (campaigns) is a contiguous view the
        tables can share without a copy. The kernels get row-major blocks (``"C"``),
        which Numba types the same whatever the shape (an F-ordered (n, 1, 1) array is
        also C-contiguous, and would compile the kernels again)."""

        def z(shape, dtype):
            if order == "C" or len(shape) != 3:
                return np.zeros(shape, dtype, order=order)
            a, b, c = shape
            return np.zeros((c, a, b), dtype).transpose(1, 2, 0)

        raw = cls(
            leaked=z((n, n_salvos, n_groups), np.int32),
            shots=z((n, n_salvos, n_eff), np.int32),
            kills=z((n, n_salvos, n_eff), np.int32),
            avail=z((n, n_salvos, n_eff), np.uint8),
            rounds_end=z((n, n_salvos, n_eff), np.int32),
        )
        if base_shape is not None:
            n_sites, n_assets = base_shape
            raw.destroyed = z((n, n_salvos, n_assets), np.int32)
            raw.site_destroyed = z((n, n_sites, n_assets), np.int32)
            raw.closed_min = z((n, n_salvos), np.int64)
        if ship:
            raw.ship_hits = z((n, n_salvos), np.int32)
            raw.ship_lost = z((n, n_salvos), np.uint8)
        return raw

    def rows(self, first: int, n: int) -> RawTrials:
        """A view of trials first .. first + n - 1."""
        part = slice(first, first + n)
        return RawTrials(
            *(None if a is None else a[part] for a in (getattr(self, f) for f in self.FIELDS))
        )


def n_salvos(scenario: Scenario) -> int:
    return 1 if scenario.campaign is None else scenario.campaign.n_salvos


def is_campaign(scenario: Scenario) -> bool:
    return scenario.campaign is not None


def _over_salvos(a: np.ndarray, j: int) -> np.ndarray:
    """Per-trial total over salvos of column j (a view when there is one salvo)."""
    if a.shape[1] == 1:
        return a[:, 0, j]
    return a[:, :, j].sum(axis=1, dtype=np.int64)


def _salvos_before(event: np.ndarray) -> np.ndarray:
    """Per trial: the number of salvos before the first salvo where ``event`` is true
    (all salvos when it never is)."""
    n = event.shape[1]
    first = np.argmax(event, axis=1)
    return np.where(event.any(axis=1), first, n).astype(np.int64)


def trial_integers(scenario: Scenario, raw: RawTrials) -> dict[str, np.ndarray]:
    """Per-trial integer quantities behind the summary (campaign totals)."""
    out: dict[str, np.ndarray] = {}
    for g, t in enumerate(scenario.threats):
        out[f"leaked_{t.name}"] = _over_salvos(raw.leaked, g)
    for e, eff in enumerate(scenario.effectors):
        out[f"shots_{eff.name}"] = _over_salvos(raw.shots, e)
        out[f"kills_{eff.name}"] = _over_salvos(raw.kills, e)
    leaks_per_salvo = raw.leaked.sum(axis=2, dtype=np.int64)
    out["any_leak"] = (leaks_per_salvo > 0).any(axis=1).astype(np.int64)
    for e, eff in enumerate(scenario.effectors):
        if isinstance(eff, Laser):
            out[f"laser_available_{eff.name}"] = _over_salvos(raw.avail, e)
    if raw.destroyed is not None:
        for a, asset in enumerate(scenario.base.assets):
            out[f"destroyed_{asset.name}"] = _over_salvos(raw.destroyed, a)
        if scenario.base.dispersal_sites > 1:
            for k in range(scenario.base.dispersal_sites):
                for a, asset in enumerate(scenario.base.assets):
                    out[f"site{k}_destroyed_{asset.name}"] = raw.site_destroyed[:, k, a]
        out["runway_closed_min"] = raw.closed_min.sum(axis=1, dtype=np.int64)
    if raw.ship_hits is not None:
        out["ship_hits"] = raw.ship_hits.sum(axis=1, dtype=np.int64)
        out["ship_lost"] = raw.ship_lost.sum(axis=1, dtype=np.int64)
    if is_campaign(scenario):
        out["salvos_before_first_leak"] = _salvos_before(leaks_per_salvo > 0)
        for e, eff in enumerate(scenario.effectors):
            if not isinstance(eff, Laser):
                dry = raw.rounds_end[:, :, e] == 0
                out[f"salvos_before_dry_{eff.name}"] = _salvos_before(dry)
                out[f"dry_{eff.name}"] = dry[:, -1].astype(np.int64)
    return out


def moment_columns(scenario: Scenario) -> list[str]:
    """Names of the per-trial integer quantities whose moments are accumulated."""
    n = 1
    raw = RawTrials.allocate(
        n,
        n_salvos(scenario),
        len(scenario.threats),
        len(scenario.effectors),
        None
        if scenario.base is None
        else (scenario.base.dispersal_sites, len(scenario.base.assets)),
        ship=scenario.ship is not None,
    )
    return list(trial_integers(scenario, raw))


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
    def of(cls, values: dict[str, np.ndarray]) -> Moments:
        """Moments of one block of trials (one int64 array per column)."""
        columns = tuple(values)
        x = np.empty((len(next(iter(values.values()))), len(columns)), np.int64)
        for j, name in enumerate(columns):
            x[:, j] = values[name]
        largest = int(np.abs(x).max()) if x.size else 0
        bound = x.shape[0] * largest * largest  # no product or partial sum exceeds it
        if bound < 2**53:
            # Every product and partial sum is an integer below 2**53, exact in float64
            # whatever the order of summation: BLAS, 30 times faster than NumPy's integer
            # matrix product, gives the exact result.
            xf = x.astype(np.float64)
            s2 = np.rint(xf.T @ xf).astype(np.int64)
        elif bound < 2**62:
            s2 = x.T @ x
        else:  # int64 products could overflow: exact Python integers (slow, huge values)
            x = x.astype(object)
            s2 = x.T @ x
        s1 = x.sum(axis=0)
        return cls(
            columns,
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


@dataclass(frozen=True)
class Measure:
    """A summary measure as a function of the means of the moment columns.

    Linear: ``num . mean + const``; ratio of totals: ``(num . mean + const) / (den . mean)``
    (``const``: a charge that is the same in every trial, such as capital).
    """

    name: str
    num: np.ndarray
    unit: str
    const: float = 0.0
    den: np.ndarray | None = None

    @property
    def fixed(self) -> bool:
        """Whether the measure does not depend on the trials: a constant, or a ratio whose
        numerator is 0 (0 whenever it is defined: the cost per kill of a free weapon)."""
        return not self.num.any() and (self.den is None or self.const == 0.0)

    def value(self, mu: np.ndarray) -> float:
        if self.den is None:
            return float(self.num @ mu) + self.const
        den = float(self.den @ mu)
        return (float(self.num @ mu) + self.const) / den if den != 0.0 else math.nan

    def gradient(self, mu: np.ndarray) -> np.ndarray:
        """d value / d mean (for the delta method)."""
        if self.den is None:
            return self.num
        den = float(self.den @ mu)
        if den == 0.0:
            return np.full_like(self.num, math.nan)
        return (self.num - self.value(mu) * self.den) / den


def measures(scenario: Scenario, columns) -> list[Measure]:
    """Every summary measure of a scenario, in table order (see :func:`summary_table`)."""
    index = {c: i for i, c in enumerate(columns)}
    k = len(columns)
    out: list[Measure] = []

    def w(entries: dict[str, float]) -> np.ndarray:
        weights = np.zeros(k)
        for name, value in entries.items():
            weights[index[name]] += value
        return weights

    def linear(name, weights, const=0.0, unit=""):
        out.append(Measure(name, weights, unit, const))

    def ratio(name, num, den, unit, const=0.0):
        out.append(Measure(name, num, unit, const, den))

    def cer(name, weights, attack, const=0.0):
        scaled, offset = np.zeros(k), math.nan
        if attack > 0:
            with np.errstate(over="ignore"):
                scaled, offset = weights / attack, const / attack
        if np.isfinite(scaled).all() and math.isfinite(offset):
            linear(name, scaled, offset, unit="ratio")
        else:  # no attack cost, or one so small that the ratio is not a float: undefined
            linear(name, np.zeros(k), math.nan, unit="ratio")

    salvos = n_salvos(scenario)
    leak_names = [f"leaked_{t.name}" for t in scenario.threats]
    all_leaks = w(dict.fromkeys(leak_names, 1.0))
    attack = scenario.attack_cost_usd
    kill_w = w({f"kills_{e.name}": 1.0 for e in scenario.effectors})
    cost_w = w({f"shots_{e.name}": e.round_cost_usd for e in scenario.effectors})

    linear("leakers", all_leaks, unit="threats")
    linear("p_any_leak", w({"any_leak": 1.0}), unit="probability")
    linear("killed", -all_leaks, float(scenario.launched), unit="threats")
    for name in leak_names:
        linear(name, w({name: 1.0}), unit="threats")
    for e in scenario.effectors:
        shots = w({f"shots_{e.name}": 1.0})
        kills = w({f"kills_{e.name}": 1.0})
        linear(f"shots_{e.name}", shots, unit="lased" if isinstance(e, Laser) else "rounds")
        linear(f"kills_{e.name}", kills, unit="threats")
        linear(f"cost_{e.name}_usd", shots * e.round_cost_usd, unit="USD")
        ratio(f"cost_per_kill_{e.name}_usd", shots * e.round_cost_usd, kills, "USD per kill")
    linear("defense_cost_usd", cost_w, unit="USD")
    linear("attack_cost_usd", np.zeros(k), attack, unit="USD")
    ratio("cost_per_kill_usd", cost_w, kill_w, "USD per kill")
    cer("cost_exchange_defense_over_attack", cost_w, attack)
    # Capital (docs/model.md, "Capital costs"): the same charge in every trial.
    capital = 0.0
    for item in capital_items(scenario):
        linear(item.measure, np.zeros(k), item.charge_usd, unit="USD")
        capital += item.charge_usd
    linear("capital_cost_usd", np.zeros(k), capital, unit="USD")
    linear("defense_total_cost_usd", cost_w, capital, unit="USD")
    ratio("cost_per_kill_total_usd", cost_w, kill_w, "USD per kill", const=capital)
    cer("cost_exchange_total_defense_over_attack", cost_w, attack, const=capital)
    for e in scenario.lasers:
        linear(
            f"laser_available_{e.name}",
            w({f"laser_available_{e.name}": 1.0 / salvos}),
            unit="probability",
        )
    damage_w = np.zeros(k)
    if scenario.base is not None:
        damage_w = w({f"destroyed_{a.name}": a.unit_cost_usd for a in scenario.base.assets})
        for a in scenario.base.assets:
            linear(f"destroyed_{a.name}", w({f"destroyed_{a.name}": 1.0}), unit="assets")
    if scenario.ship is not None:
        linear("ship_hits", w({"ship_hits": 1.0}), unit="hits")
        linear("p_ship_lost", w({"ship_lost": 1.0}), unit="probability")
        damage_w = damage_w + w({"ship_lost": scenario.ship.value_usd})
    if scenario.base is not None or scenario.ship is not None:
        linear("damage_usd", damage_w, unit="USD")
    if scenario.base is not None:
        if scenario.base.dispersal_sites > 1:
            for site in range(scenario.base.dispersal_sites):
                site_w = w(
                    {f"site{site}_destroyed_{a.name}": a.unit_cost_usd
                     for a in scenario.base.assets}
                )  # fmt: skip
                linear(f"damage_site{site}_usd", site_w, unit="USD")
        linear("runway_closed_h", w({"runway_closed_min": 1.0 / 60.0}), unit="hours")
    if scenario.base is not None or scenario.ship is not None:
        linear("total_cost_usd", cost_w + damage_w, capital, unit="USD")
        cer("cost_exchange_total_over_attack", cost_w + damage_w, attack, const=capital)
    if is_campaign(scenario):
        unit = f"salvos (of {salvos})"
        linear("salvos_before_first_leak", w({"salvos_before_first_leak": 1.0}), unit=unit)
        for e in scenario.effectors:
            if isinstance(e, Laser):
                continue
            linear(
                f"salvos_before_dry_{e.name}", w({f"salvos_before_dry_{e.name}": 1.0}), unit=unit
            )
            linear(f"p_dry_{e.name}", w({f"dry_{e.name}": 1.0}), unit="probability")
    return out


COLUMNS = ["measure", "mean", "ci95_low", "ci95_high", "std_error", "unit"]

# The measures a sweep's overview shows (those the sweep has), in this order.
KEY_MEASURES = (
    "leakers",
    "p_any_leak",
    "defense_cost_usd",
    "cost_per_kill_usd",
    "cost_exchange_defense_over_attack",
    "capital_cost_usd",
    "defense_total_cost_usd",
    "cost_exchange_total_defense_over_attack",
    "damage_usd",
    "runway_closed_h",
    "total_cost_usd",
    "cost_exchange_total_over_attack",
    "salvos_before_first_leak",
)


def summary_table(scenario: Scenario, m: Moments) -> pd.DataFrame:
    """Means with 95 % confidence intervals of every summary measure.

    Means of per-trial quantities use the normal interval mean +/- 1.96 s / sqrt(n).
    Ratios of totals (cost per kill) use the delta-method interval of a ratio estimator,
    R = sum(a) / sum(b), se^2 = (var a - 2 R cov(a, b) + R^2 var b) / (n mean(b)^2).
    The cost-exchange ratios divide by the cost of the whole raid (attack cost, a
    constant), so they are means, not ratio estimators. In a campaign, every measure is a
    total over the salvos unless its name says otherwise.

    Every interval then stays inside the measure's range (:func:`measure_range`: counts
    and costs are never negative, a probability lies in [0, 1], threats killed never
    exceed the raid), and two cases differ from the normal rule:

    * a probability (unit ``probability``) gets the Wilson score interval
      (:func:`wilson_interval`), whose end near 0 (or 1) is no tighter than the exact
      Clopper-Pearson end when at most ``EXACT_END_COUNT`` trials sit at that end;
    * a measure that took the same value in every one of the n trials gets the exact
      bound on the share of trials that could differ, ``1 - 0.025^(1/n)`` (each end of the
      two-sided 95 % interval at 97.5 %; about 3.7/n), spread over its range
      (:func:`no_variation_interval`, exact for a ratio too): "0 of 100 trials" is the
      interval 0 to 3.62 %, never a zero-width one.

    Only a measure that does not depend on the trials at all (fixed by the scenario: the
    attack cost, capital charges, the cost per kill of a weapon that costs nothing;
    ``Measure.fixed``) has ``ci95_low == ci95_high``. ``std_error`` is the sample standard
    error: 0 when every one of n >= 2 trials gave the same value, nan for a single trial
    (no sample variance). docs/model.md, "Confidence intervals", states the rules.
    """
    mu, cov = m.mean(), m.cov()
    bounds = column_bounds(scenario, m.columns)
    rows = []
    for measure in measures(scenario, m.columns):
        interval = _Interval(
            measure.value(mu),
            measure.gradient(mu),
            lambda measure=measure: _exact_direction(measure, m.s1),
            fixed=measure.fixed,
            value_range=measure_range(measure, bounds),
            parts=((1, measure, slice(None)),),
        )
        rows.append(_row(measure.name, interval, m, cov, bounds, measure.unit))
    return pd.DataFrame(rows, columns=COLUMNS).set_index("measure")


# The long (tidy) summary: one row per measure, with the effector, threat group, asset
# group or dispersal site it is about in columns of their own (None when it is about the
# whole raid), so that a per-effector table is a filter, not a regular expression.
TIDY_DIMENSIONS = ("effector", "threat", "asset", "site")
TIDY_COLUMNS = ("measure", *TIDY_DIMENSIONS, "mean", "ci95_low", "ci95_high", "std_error",
                "unit", "name")  # fmt: skip


def measure_keys(scenario: Scenario) -> dict[str, dict[str, Any]]:
    """Every summary measure name of the scenario -> its generic measure and what it is
    about: ``shots_sm2`` -> ``{"measure": "shots", "effector": "sm2"}``,
    ``leaked_ascm`` -> ``{"measure": "leakers", "threat": "ascm"}``. Built from the
    scenario's own names (no pattern matching), so names that look alike cannot be
    confused. A per-item measure takes the name of the raid-wide measure it is a part of
    where there is one (``cost_sm2_usd`` -> ``defense_cost_usd`` of ``sm2``,
    ``capital_cost_sm2_usd`` -> ``capital_cost_usd``, ``damage_site1_usd`` ->
    ``damage_usd`` at site 1); measures about the whole raid keep their name."""
    keys: dict[str, dict[str, Any]] = {}
    for t in scenario.threats:
        keys[f"leaked_{t.name}"] = {"measure": "leakers", "threat": t.name}
    for e in scenario.effectors:
        for name, measure in (
            (f"shots_{e.name}", "shots"),
            (f"kills_{e.name}", "kills"),
            (f"cost_{e.name}_usd", "defense_cost_usd"),
            (f"cost_per_kill_{e.name}_usd", "cost_per_kill_usd"),
            (f"capital_cost_{e.name}_usd", "capital_cost_usd"),
            (f"laser_available_{e.name}", "laser_available"),
            (f"salvos_before_dry_{e.name}", "salvos_before_dry"),
            (f"p_dry_{e.name}", "p_dry"),
        ):
            keys[name] = {"measure": measure, "effector": e.name}
    if scenario.base is not None:
        for a in scenario.base.assets:
            keys[f"destroyed_{a.name}"] = {"measure": "destroyed", "asset": a.name}
        for site in range(scenario.base.dispersal_sites):
            keys[f"damage_site{site}_usd"] = {"measure": "damage_usd", "site": site}
    return keys


def tidy_summary(scenario: Scenario, summary: pd.DataFrame) -> pd.DataFrame:
    """The summary in long form: columns ``measure``, ``effector``, ``threat``,
    ``asset``, ``site``, ``mean``, ``ci95_low``, ``ci95_high``, ``std_error``, ``unit``
    and ``name`` (the measure's name in :func:`summary_table`), one row per measure, in
    the summary's order (see :func:`measure_keys`)."""
    keys = measure_keys(scenario)
    rows = []
    for name, row in summary.iterrows():
        key = keys.get(str(name), {"measure": str(name)})
        rows.append(
            {
                "measure": key["measure"],
                **{d: key.get(d) for d in TIDY_DIMENSIONS},
                **{c: row[c] for c in ("mean", "ci95_low", "ci95_high", "std_error", "unit")},
                "name": str(name),
            }
        )
    out = pd.DataFrame(rows, columns=list(TIDY_COLUMNS))
    for d in ("measure", "effector", "threat", "asset", "unit", "name"):
        out[d] = out[d].astype("str")  # missing: NaN, as pandas' string columns have it
    out["site"] = out["site"].astype("Int64")  # an integer with missing values
    return out


def paired_difference_table(
    scenario: Scenario, base_scenario: Scenario, joint: Moments
) -> pd.DataFrame:
    """Measure(point) - measure(baseline), with intervals from the paired trials.

    ``joint`` holds the moments of the point's columns (``p:``) followed by the baseline's
    (``b:``; same trials, same seed: common random numbers), so the variance of the
    difference uses their covariance: by the delta method, se^2 = g' S g / n with g the
    gradient of the difference with respect to the joint means. Measures the baseline
    lacks are left out. A difference may have either sign, so its interval is not
    clipped; a difference that was the same in every trial (often exactly 0: a grid
    variable that does not touch the measure) gets :func:`no_variation_interval` over the
    range of the difference.
    """
    k = sum(1 for c in joint.columns if c.startswith("p:"))  # point columns come first
    point_columns = [c.removeprefix("p:") for c in joint.columns[:k]]
    base_columns = [c.removeprefix("b:") for c in joint.columns[k:]]
    mu, cov = joint.mean(), joint.cov()
    bounds = np.concatenate(
        [column_bounds(scenario, point_columns), column_bounds(base_scenario, base_columns)]
    )
    rows = []
    base_measures = {m.name: m for m in measures(base_scenario, base_columns)}
    for mp in measures(scenario, point_columns):
        mb = base_measures.get(mp.name)
        if mb is None:  # e.g. damage at a dispersal site the baseline does not have
            continue

        def direction(mp=mp, mb=mb) -> list[Fraction]:
            return _exact_direction(mp, joint.s1[:k]) + [
                -w for w in _exact_direction(mb, joint.s1[k:])
            ]

        interval = _Interval(
            mp.value(mu[:k]) - mb.value(mu[k:]),
            np.concatenate([mp.gradient(mu[:k]), -mb.gradient(mu[k:])]),
            direction,
            fixed=mp.fixed and mb.fixed,
            value_range=None,
            parts=((1, mp, slice(0, k)), (-1, mb, slice(k, None))),
        )
        rows.append(_row(mp.name, interval, joint, cov, bounds, mp.unit))
    return pd.DataFrame(rows, columns=COLUMNS).set_index("measure")


# -- intervals ------------------------------------------------------------------------------

CONFIDENCE = 0.95
# Each end of a two-sided 95 % interval holds with one-sided confidence 97.5 %.
SUMMARY_ONE_SIDED = 1.0 - (1.0 - CONFIDENCE) / 2.0
# Up to this many trials at a boundary (x events, or n - x non-events, of a 0/1 outcome),
# the end of the interval near that boundary is no tighter than the exact Clopper-Pearson
# end at the same one-sided level (wilson_interval). Wilson's end near a boundary is always
# tighter than Clopper-Pearson's, and its one-sided error exceeds the stated level by a
# factor that decays only like 1/sqrt(x): computed exactly (binomial tail at Wilson's
# lower end, n = 1000 to 10^6), 6.5 at x = 1 for z = 1.96 (the summary's 95 %), 84 for
# z = 3.09 (screening's 99.9 %), 151 for z = 3.29; still 6.3 (z = 3.09) and 8.6 (3.29) just
# above x = 10, 3.1 and 3.8 above 30, 2.4 and 2.9 above 50, and 1.9 and 2.1 above 100
# (1.25 at z = 1.96). 100 keeps every decision at z <= 3.29 within about twice its stated
# error rate (and the summary's 95 % ends within 1.25 times), at a cost of at most about
# 0.2 ms an end.
EXACT_END_COUNT = 100


def wilson_interval(
    p: float, n: float, z: float = Z95, trials: int | None = None
) -> tuple[float, float]:
    """Wilson score interval of a proportion ``p`` observed in ``n`` trials, each end
    at one-sided confidence Phi(z) (z = 1.96: the two-sided 95 % interval).

    ``(p + z^2/2n +/- z sqrt(p (1 - p) / n + z^2 / 4n^2)) / (1 + z^2/n)`` (Wilson 1927,
    JASA 22(158)). ``n`` may be fractional: the effective number of trials of a
    probability that is a per-trial share (a laser's availability over a campaign's
    salvos). It has a closed form (no scipy at run time) and its coverage is near the
    stated level for moderate n p, but NOT at every n and p: near 0 (and 1) its end at the
    boundary is too tight when few trials sit there (Brown, Cai & DasGupta 2001,
    Statistical Science 16(2), 4.1.1): exact coverage of the 95 % interval falls to 0.84
    at p just below its lower end for 1 event, and at z = 3.09 that end errs 84 times
    more often than 0.1 %.

    So with ``trials`` (the whole number of trials behind the estimate), when the outcome
    was 0 or 1 in every trial, the end near 0 (near 1) is made no tighter than the exact
    Clopper-Pearson end at the same one-sided level ``1 - Phi(z)`` (:func:`exact_lower_end`)
    while the count at that end, x = p n (or n - x), is at most ``EXACT_END_COUNT``. A
    per-trial value in [0, 1] with mean p has variance at most p (1 - p), reached only when
    every trial's value is 0 or 1; so the effective n, ``n p (1 - p) / ((n - 1) se^2)``,
    equals ``trials`` exactly then and exceeds it for a share with any fractional trial.
    That (to rounding, with p n a whole count) is the test; a share keeps plain Wilson.
    """
    if not n > 0 or not 0.0 <= p <= 1.0:
        return math.nan, math.nan
    z2 = z * z
    denominator = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / denominator
    half = z * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n)) / denominator
    low, high = max(centre - half, 0.0), min(centre + half, 1.0)
    x = _whole_count(p, n, trials)
    if x is not None and z > 0.0:
        alpha = NormalDist().cdf(-z)
        if 0 < x <= EXACT_END_COUNT:
            low = min(low, exact_lower_end(x, trials, alpha))
        if 0 < trials - x <= EXACT_END_COUNT:
            high = max(high, 1.0 - exact_lower_end(trials - x, trials, alpha))
    return low, high


def _whole_count(p: float, n: float, trials: int | None) -> int | None:
    """x when ``p`` is x of ``trials`` 0/1 outcomes (effective ``n`` equal to ``trials``
    and p trials a whole number, both to rounding), else None (see wilson_interval)."""
    if trials is None or trials < 1 or not math.isclose(n, trials, rel_tol=1e-9):
        return None
    x = round(p * trials)
    return x if abs(p * trials - x) <= 1e-6 else None


def _tail_from(x: int, n: int, p: float, log_choose: float) -> float:
    """P(X >= x) for X ~ Binomial(n, p), 1 <= x < n, 0 < p <= x / n: a sum of positive
    terms from k = x on, which decrease from there, so it stops once they no longer add."""
    term = math.exp(log_choose + x * math.log(p) + (n - x) * math.log1p(-p))
    total, odds = term, p / (1.0 - p)
    for k in range(x, n):
        term *= (n - k) / (k + 1) * odds
        total += term
        if term <= 1e-17 * total:
            break
    return total


def exact_lower_end(x: int, n: int, alpha: float) -> float:
    """The exact (Clopper-Pearson) one-sided lower confidence bound, at level 1 - alpha,
    on a probability seen in x of n trials: the p with P(X >= x | n, p) = alpha (0 for
    x = 0). Closed forms for x = 1 (``1 - (1 - alpha)^(1/n)``) and x = n (``alpha^(1/n)``);
    otherwise bisection on log p between ``(alpha x!)^(1/x) / n`` (where the tail is at
    most (n p)^x / x! <= alpha) and x / n (where it is at least 1/2), to a relative 1e-13,
    returning the end on the conservative side. The tail is a short sum for the small x
    it serves (``EXACT_END_COUNT``): each step sums up to about x terms, so an x of
    millions takes seconds (a review timed x = n - 1 at n = 10^7: 1.1 s); no scipy at run
    time."""
    if x <= 0:
        return 0.0
    if x == 1:
        return -math.expm1(math.log1p(-alpha) / n)
    if x >= n:
        return math.exp(math.log(alpha) / n)
    log_choose = math.fsum(math.log((n - i) / (i + 1)) for i in range(x))
    lo = (math.log(alpha) + math.lgamma(x + 1)) / x - math.log(n)
    hi = math.log(x / n)
    while hi - lo > 1e-13 * max(1.0, abs(hi)):
        mid = 0.5 * (lo + hi)
        if _tail_from(x, n, math.exp(mid), log_choose) > alpha:
            hi = mid
        else:
            lo = mid
    return math.exp(lo)


def no_variation_share(n: int, confidence: float = CONFIDENCE) -> float:
    """The exact one-sided upper confidence bound, at ``confidence``, on the share of
    trials that differ from a value seen in all ``n`` trials: ``1 - (1 -
    confidence)^(1/n)``, the Clopper-Pearson bound for 0 events in n (Hanley &
    Lippman-Hand 1983, JAMA 249(13)). At the default one-sided 95 %, about 3/n (the rule
    of three): 0 of 100 trials, 2.95 %. The summary's two-sided 95 % interval uses each
    end at 97.5 % (``SUMMARY_ONE_SIDED``): 0 of 100 trials, 3.62 %."""
    if n < 1:
        return math.nan
    return -math.expm1(math.log1p(-confidence) / n)


def column_bounds(scenario: Scenario, columns) -> np.ndarray:
    """The largest value each moment column can take in a trial (``inf`` where the model
    guarantees none); every column is at least 0.

    Leakers of a group: its threats launched over the campaign; kills of an effector: all
    threats launched; a kinetic effector's shots: its magazine plus, in each later salvo,
    at most ``min(resupply, magazine)`` (a magazine never holds more than at the start);
    assets destroyed: the group's count (destroyed assets stay destroyed); indicators: 1;
    salvo counts: the salvos; a ship's hits: all threats launched (each leaker hits at most
    once), and it is lost at most once; a laser's shots (threats lased): every lased threat dies
    unless the unit runs out of lasing time (``magazine_s``) and gives it up, which puts
    the unit out of action for the salvo, so at most the threats launched plus one per
    unit and salvo. The minutes of runway closure have no bound.
    """
    salvos = n_salvos(scenario)
    launched_by_group = [sum(col) for col in zip(*scenario.salvo_counts(), strict=True)]
    bound: dict[str, float] = {"any_leak": 1.0, "salvos_before_first_leak": float(salvos)}
    for t, launched in zip(scenario.threats, launched_by_group, strict=True):
        bound[f"leaked_{t.name}"] = float(launched)
    resupply = {} if scenario.campaign is None else scenario.campaign.resupply_rounds
    for e in scenario.effectors:
        bound[f"kills_{e.name}"] = float(scenario.launched)
        if isinstance(e, Laser):
            gave_up = 0 if e.magazine_s is None else e.units * salvos
            bound[f"shots_{e.name}"] = float(scenario.launched + gave_up)
            bound[f"laser_available_{e.name}"] = float(salvos)
        else:
            again = min(resupply.get(e.name, 0), e.rounds)
            bound[f"shots_{e.name}"] = float(e.rounds + (salvos - 1) * again)
            bound[f"salvos_before_dry_{e.name}"] = float(salvos)
            bound[f"dry_{e.name}"] = 1.0
    if scenario.base is not None:
        for a in scenario.base.assets:
            bound[f"destroyed_{a.name}"] = float(a.count)
            for k in range(scenario.base.dispersal_sites):
                bound[f"site{k}_destroyed_{a.name}"] = float(a.count)
        bound["runway_closed_min"] = math.inf
    if scenario.ship is not None:  # each leaker hits at most once; the ship is lost once
        bound["ship_hits"] = float(scenario.launched)
        bound["ship_lost"] = 1.0
    return np.array([bound.get(c, math.inf) for c in columns])


def linear_range(weights: np.ndarray, const: float, bounds: np.ndarray) -> tuple[float, float]:
    """Smallest and largest value of ``weights . x + const`` over 0 <= x <= bounds."""
    low = high = float(const)
    for w, b in zip(weights, bounds, strict=True):
        if w > 0:
            high += w * b
        elif w < 0:
            low += w * b
    return low, high


def measure_range(measure: Measure, bounds: np.ndarray) -> tuple[float, float]:
    """The values a measure can take, from its columns' bounds (:func:`column_bounds`).

    A linear measure: the extremes of ``num . x + const``; a ratio of non-negative totals:
    [0, inf); a probability: within [0, 1] in any case.
    """
    if measure.den is None:
        low, high = linear_range(measure.num, measure.const, bounds)
    elif (measure.num >= 0).all() and (measure.den >= 0).all():
        low, high = 0.0, math.inf
    else:
        low, high = -math.inf, math.inf
    if measure.unit == "probability":
        low, high = max(low, 0.0), min(high, 1.0)
    return low, high


def no_variation_interval(
    value: float,
    grad: np.ndarray,
    mu: np.ndarray,
    bounds: np.ndarray,
    n: int,
    confidence: float = SUMMARY_ONE_SIDED,
    parts: tuple = (),
) -> tuple[float, float]:
    """The interval of a measure whose per-trial value (to first order, ``grad . x``) was
    the same in all ``n`` trials.

    With one-sided confidence ``confidence`` at each end (the summary's two-sided 95 %:
    97.5 %) at most a share ``u = no_variation_share(n, confidence)`` of all trials
    differ, each anywhere within the columns' bounds. For a mean each of them moves it by
    at most its largest possible deviation, so it lies in ``value + u [min d, max d]``
    with d = grad . (x - mean) over the columns' bounds (an end is infinite where a column
    has no bound): exact (a probability seen in 0 of 100 trials: 0 to 3.62 %).

    A ratio is not linear in the means, and that first-order rule falls far short at small
    n (cost per kill over 1 trial at one-sided 95 %: 11.5 million where the rule allows
    192 million), so when ``parts`` (``_Interval.parts``) holds a ratio the extremes are
    exact: those of each part over the means ``(1 - u) mean + u v``, v in the bounds box
    (:func:`_mixture_range`), summed with the parts' signs (the parts read disjoint
    columns, so their extremes are independent). Without ``parts``, first order.
    """
    u = no_variation_share(n, confidence)
    if any(measure.den is not None for _, measure, _ in parts):
        low = high = 0.0
        for sign, measure, columns in parts:
            lo, hi = _mixture_range(measure, mu[columns], bounds[columns], u)
            low, high = (low + lo, high + hi) if sign > 0 else (low - hi, high - lo)
        return min(low, value), max(high, value)
    d_low, d_high = linear_range(grad, -float(grad @ mu), bounds)
    return value + u * d_low, value + u * d_high


def _mixture_range(
    measure: Measure, mu: np.ndarray, bounds: np.ndarray, u: float
) -> tuple[float, float]:
    """Smallest and largest value of ``measure`` at the means ``(1 - u) mu + u v`` over
    0 <= v <= bounds: a share u of trials moved anywhere in the columns' box.

    For a ratio, ``(a + num' . v) / (b + den' . v)`` with a = (1 - u) num . mu + const,
    b = (1 - u) den . mu, num' = u num, den' = u den: linear-fractional over a box, so
    its extremes are at vertices, found without visiting all 2^k of them by Dinkelbach's
    iteration (:func:`_fractional_max`). Unbounded (-inf, inf) where the denominator can
    reach 0 in the box or a column the measure reads has no bound (conservative)."""
    if measure.den is None:
        return linear_range(u * measure.num, (1.0 - u) * float(measure.num @ mu)
                            + measure.const, bounds)  # fmt: skip
    num, den = u * measure.num, u * measure.den
    a = (1.0 - u) * float(measure.num @ mu) + measure.const
    b = (1.0 - u) * float(measure.den @ mu)
    reads = (measure.num != 0) | (measure.den != 0)
    if not np.isfinite(bounds[reads]).all() or not math.isfinite(a):
        return -math.inf, math.inf
    box = np.where(reads, bounds, 0.0)
    if b + linear_range(den, 0.0, box)[0] <= 0.0:  # the denominator can reach 0
        return -math.inf, math.inf
    return -_fractional_max(-a, -num, b, den, box), _fractional_max(a, num, b, den, box)


def _fractional_max(a: float, num: np.ndarray, b: float, den: np.ndarray,
                    box: np.ndarray) -> float:  # fmt: skip
    """Largest ``(a + num . v) / (b + den . v)`` over 0 <= v <= box (finite), the
    denominator positive there. Dinkelbach (1967, Management Science 13(7)): at a
    candidate value r, the vertex that maximises ``(a + num . v) - r (b + den . v)`` (v_i
    at its bound where num_i - r den_i > 0, else 0) has a ratio above r unless r is the
    maximum; each step moves to that vertex's ratio, so it ends, at a vertex, in a few
    steps."""
    best = a / b  # the vertex v = 0
    for _ in range(64 + 2 * len(num)):
        v = np.where(num - best * den > 0.0, box, 0.0)
        ratio = (a + float(num @ v)) / (b + float(den @ v))
        if not ratio > best:
            break
        best = ratio
    return best


@dataclass(frozen=True)
class _Interval:
    """What :func:`_row` needs of a value: its delta-method gradient over the moment
    columns, the same direction in exact arithmetic (a callable, evaluated only when the
    float variance is within rounding of zero), whether it is fixed by the scenario, the
    range it is clipped to (None: not clipped) and what it is a sum of (``parts``)."""

    value: float
    grad: np.ndarray
    exact_direction: Any
    fixed: bool
    value_range: tuple[float, float] | None
    # The value as a signed sum of measures, each of its own slice of the moment columns
    # ((sign, Measure, slice), ...): lets the rule for a value that did not vary treat a
    # ratio exactly (no_variation_interval); empty: first order (exact for a mean).
    parts: tuple = ()


def _exact_direction(measure: Measure, s1) -> list[Fraction]:
    """The measure's gradient direction as exact fractions: ``num`` for a linear measure,
    ``num - R den`` for a ratio (R = num . s1 / den . s1, exactly)."""
    num = [Fraction(float(w)) for w in measure.num]
    if measure.den is None:
        return num
    den = [Fraction(float(w)) for w in measure.den]
    total = sum((w * s for w, s in zip(den, s1, strict=True)), Fraction(0))
    if total == 0:
        return num
    ratio = sum((w * s for w, s in zip(num, s1, strict=True)), Fraction(0)) / total
    return [a - ratio * b for a, b in zip(num, den, strict=True)]


def _varies(interval: _Interval, cov: np.ndarray, m: Moments) -> bool:
    """Whether the per-trial value ``grad . x`` varies over the sample.

    The float variance decides unless it is within rounding of zero; then the exact
    integer moments do, so a value that was the same in every trial is never taken for a
    tiny spread (an interval of width 1e-9), nor the reverse.
    """
    grad = interval.grad
    support = np.flatnonzero(grad)
    if support.size == 0:
        return False
    # A measure in tiny units (a threat that costs 1e-266 dollars) has a gradient near
    # 1e266: the float variance may overflow to inf, which the exact moments then decide.
    with np.errstate(over="ignore", invalid="ignore"):
        variance = float(grad @ cov @ grad)
        sd = np.sqrt(np.clip(np.diag(cov)[support], 0.0, None))
        scale = float(np.abs(grad[support]) @ sd)  # may be near 1e300 (a raid that costs ~0)
    if math.isfinite(variance) and variance > 1e-9 * scale * scale:
        return True
    w = interval.exact_direction()
    n, s1, s2 = m.n, m.s1, m.s2
    total = Fraction(0)
    for i in support:
        for j in support:
            total += w[i] * w[j] * (n * s2[i][j] - s1[i] * s1[j])
    return total != 0


def _standard_error(grad: np.ndarray, cov: np.ndarray, n: int) -> float:
    """sqrt(grad' cov grad / n), with grad scaled to its largest entry first, so that a
    measure in tiny units (a cost of 1e-194 dollars a shot) does not underflow to 0."""
    if n < 2:
        return math.nan
    scale = float(np.max(np.abs(grad))) if grad.size else 0.0
    if scale == 0.0 or not math.isfinite(scale):
        return math.sqrt(max(float(grad @ cov @ grad), 0.0) / n)
    g = grad / scale
    return scale * math.sqrt(max(float(g @ cov @ g), 0.0) / n)


def _row(name: str, interval: _Interval, m: Moments, cov, bounds, unit: str) -> tuple:
    """A table row: the value with its standard error and 95 % interval.

    A fixed value has a zero-width interval. Otherwise a value that was the same in every
    trial gets :func:`no_variation_interval` (each end at 97.5 %, ``SUMMARY_ONE_SIDED``);
    a probability the Wilson interval with the effective number of trials
    ``n p (1 - p) / ((n - 1) se^2)`` (n itself for a 0/1 outcome, whose end near 0 or 1 is
    then no tighter than the exact one when few trials sit there: :func:`wilson_interval`
    with ``trials=n``); anything else the normal (delta-method) interval. The interval is
    then clipped to the value's range when it has one.
    """
    value, grad, n = interval.value, interval.grad, m.n
    if math.isnan(value):
        return (name, value, math.nan, math.nan, math.nan, unit)
    if interval.fixed:
        return (name, value, value, value, 0.0, unit)
    se = _standard_error(grad, cov, n)
    if n > 1 and math.isnan(se):
        return (name, value, math.nan, math.nan, se, unit)
    if n < 2 or not _varies(interval, cov, m):
        se = 0.0 if n > 1 else se
        low, high = no_variation_interval(value, grad, m.mean(), bounds, n, parts=interval.parts)
    elif unit == "probability" and interval.value_range is not None and 0.0 < value < 1.0:
        n_eff = n * value * (1.0 - value) / ((n - 1) * se * se)
        low, high = wilson_interval(value, n_eff, trials=n)
    else:
        low, high = value - Z95 * se, value + Z95 * se
    if interval.value_range is not None:
        low = min(max(low, interval.value_range[0]), value)
        high = max(min(high, interval.value_range[1]), value)
    return (name, value, low, high, se, unit)


def trials_frame(
    scenario: Scenario, trial0: int, raw: RawTrials, ints: dict[str, np.ndarray]
) -> pd.DataFrame:
    """The per-trial table: one row per trial (campaign totals over the salvos)."""
    n = raw.leaked.shape[0]
    launched = scenario.launched
    leaked_total = np.zeros(n, np.int64)
    for t in scenario.threats:
        leaked_total += ints[f"leaked_{t.name}"]
    cols: dict[str, np.ndarray] = {
        "trial": np.arange(trial0, trial0 + n, dtype=np.int64),
        "killed": (launched - leaked_total).astype(np.int32),
        "leaked": leaked_total.astype(np.int32),
    }
    for t in scenario.threats:
        cols[f"leaked_{t.name}"] = ints[f"leaked_{t.name}"]
    defense = np.zeros(n)
    for eff in scenario.effectors:
        shots = ints[f"shots_{eff.name}"]
        cols[f"shots_{eff.name}"] = shots
        cols[f"kills_{eff.name}"] = ints[f"kills_{eff.name}"]
        cost = np.multiply(shots, eff.round_cost_usd, dtype=np.float64)
        cols[f"cost_{eff.name}_usd"] = cost
        defense += cost
    cols["defense_cost_usd"] = defense
    cols["attack_cost_usd"] = np.full(n, scenario.attack_cost_usd)
    salvos = n_salvos(scenario)
    lasers = scenario.lasers
    if lasers:
        available = [ints[f"laser_available_{e.name}"] for e in lasers]
        if salvos == 1:
            cols["laser_available"] = np.logical_or.reduce(available).astype(bool)
            if len(lasers) > 1:
                for e, a in zip(lasers, available, strict=True):
                    cols[f"laser_available_{e.name}"] = a.astype(bool)
        else:  # the fraction of salvos in which weather allowed lasing
            for e, a in zip(lasers, available, strict=True):
                cols[f"laser_available_{e.name}"] = a / salvos
    capital = sum((item.charge_usd for item in capital_items(scenario)), 0.0)
    damage = None
    if scenario.base is not None:
        damage = np.zeros(n)
        for a in scenario.base.assets:
            destroyed = ints[f"destroyed_{a.name}"]
            cols[f"destroyed_{a.name}"] = destroyed
            damage += destroyed * a.unit_cost_usd
        cols["damage_usd"] = damage
        if scenario.base.dispersal_sites > 1:
            for k in range(scenario.base.dispersal_sites):
                site = np.zeros(n)
                for a in scenario.base.assets:
                    site += ints[f"site{k}_destroyed_{a.name}"] * a.unit_cost_usd
                cols[f"damage_site{k}_usd"] = site
        cols["runway_closed_h"] = ints["runway_closed_min"] / 60.0
    if scenario.ship is not None:
        cols["ship_hits"] = ints["ship_hits"]
        cols["ship_lost"] = ints["ship_lost"].astype(bool)
        lost = ints["ship_lost"] * scenario.ship.value_usd
        damage = lost if damage is None else damage + lost
        cols["damage_usd"] = damage
    if damage is not None:
        cols["total_cost_usd"] = defense + damage + capital
    if is_campaign(scenario):
        before = ints["salvos_before_first_leak"]
        cols["salvos_before_first_leak"] = before
        cols["first_leak_salvo"] = pd.array(np.where(before < salvos, before + 1, 0), dtype="Int32")
        cols["first_leak_salvo"][before >= salvos] = pd.NA
        for eff in scenario.effectors:
            if isinstance(eff, Laser):
                continue
            dry = ints[f"salvos_before_dry_{eff.name}"]
            cols[f"salvos_before_dry_{eff.name}"] = dry
            salvo = pd.array(np.where(dry < salvos, dry + 1, 0), dtype="Int32")
            salvo[dry >= salvos] = pd.NA
            cols[f"dry_salvo_{eff.name}"] = salvo
    # Capital: the same charge in every trial (a whole campaign is one raid).
    cols["capital_cost_usd"] = np.full(n, capital)
    cols["defense_total_cost_usd"] = defense + capital
    # copy=False: the count columns stay views of the kernel's (column-major) output.
    return pd.DataFrame(cols, copy=False)


def salvos_frame(scenario: Scenario, trial0: int, raw: RawTrials) -> pd.DataFrame:
    """Long per-salvo table of a campaign: one row per (trial, salvo)."""
    n, salvos = raw.leaked.shape[0], raw.leaked.shape[1]
    cols: dict[str, np.ndarray] = {
        "trial": np.repeat(np.arange(trial0, trial0 + n, dtype=np.int64), salvos),
        "salvo": np.tile(np.arange(1, salvos + 1, dtype=np.int32), n),
    }

    def flat(a: np.ndarray) -> np.ndarray:  # (n, salvos) -> trial-major long column
        if salvos == 1:  # the per-trial table holds views of the same columns: copy
            return np.array(a.reshape(-1))
        return np.ascontiguousarray(a).reshape(-1)

    for g, t in enumerate(scenario.threats):
        cols[f"leaked_{t.name}"] = flat(raw.leaked[:, :, g])
    defense = np.zeros(n * salvos)
    for e, eff in enumerate(scenario.effectors):
        shots = flat(raw.shots[:, :, e])
        cols[f"shots_{eff.name}"] = shots
        cols[f"kills_{eff.name}"] = flat(raw.kills[:, :, e])
        if isinstance(eff, Laser):
            cols[f"laser_available_{eff.name}"] = flat(raw.avail[:, :, e]).astype(bool)
        else:
            cols[f"rounds_left_{eff.name}"] = flat(raw.rounds_end[:, :, e])
        defense += shots * eff.round_cost_usd
    cols["defense_cost_usd"] = defense
    cumulative = defense.reshape(n, salvos).cumsum(axis=1)
    cols["cumulative_defense_cost_usd"] = cumulative.reshape(-1)
    damage = None
    if scenario.base is not None:
        damage = np.zeros(n * salvos)
        for a, asset in enumerate(scenario.base.assets):
            destroyed = flat(raw.destroyed[:, :, a])
            cols[f"destroyed_{asset.name}"] = destroyed
            damage += destroyed * asset.unit_cost_usd
        cols["damage_usd"] = damage
        cols["runway_closed_h"] = flat(raw.closed_min) / 60.0
    if scenario.ship is not None:
        cols["ship_hits"] = flat(raw.ship_hits)
        cols["ship_lost"] = flat(raw.ship_lost).astype(bool)
        lost = flat(raw.ship_lost) * scenario.ship.value_usd
        damage = lost if damage is None else damage + lost
        cols["damage_usd"] = damage
    if damage is not None:
        cumulative_damage = damage.reshape(n, salvos).cumsum(axis=1).reshape(-1)
        cols["cumulative_damage_usd"] = cumulative_damage
        cols["cumulative_cost_usd"] = cols["cumulative_defense_cost_usd"] + cumulative_damage
    return pd.DataFrame(cols, copy=False)  # the columns are ours: no second copy


# -- runs to a precision (costx.simulation.simulate, costx.sweeps.sweep) ------------------


@dataclass(frozen=True)
class Precision:
    """What a run to a precision reached: the measure, the target (a fraction of the
    mean), the relative 95 % half-width at the end and the trials it took."""

    measure: str
    target: float
    half_width: float  # 95 % half-width over |mean| (inf when the mean is 0)
    trials: int
    reached: bool
    mean: float = math.nan  # the measure's mean at the end

    def zero_mean_warning(self, what: str, cap: int) -> str | None:
        """The warning for a run whose measure has a mean of 0 at this check (None if it
        has not): no relative half-width can reach the target while the mean stays 0, so
        the run would go on to its cap, which may be millions of trials."""
        if self.reached or self.mean != 0.0 or self.trials >= cap:
            return None  # (a mean of nan, a cost per kill without kills, is not 0)
        return (
            f"{what}: the mean of {self.measure} is 0 after {self.trials:,} trials, so no "
            f"95 % half-width is a fraction of it; the run goes on to its cap of {cap:,} "
            "trials unless the measure moves from 0 (a lower cap: trials=, --trials; or "
            "another measure)"
        )

    def describe(self) -> str:
        got = "n/a" if math.isinf(self.half_width) else f"{100 * self.half_width:.2f} %"
        verdict = "reached" if self.reached else "NOT reached (trial cap)"
        return (
            f"precision {verdict}: 95 % half-width of {self.measure} is {got} of its mean "
            f"after {self.trials:,} trials (target {100 * self.target:g} %)"
        )


@dataclass(frozen=True)
class PrecisionTarget:
    """A measure and the fraction of its mean that its 95 % half-width must reach."""

    measure: str
    target: float

    def check(self, summary: pd.DataFrame, trials: int) -> Precision:
        """What a summary table of ``trials`` trials reaches."""
        row = summary.loc[self.measure]
        return self.check_interval(row["mean"], row["ci95_low"], row["ci95_high"], trials)

    def check_interval(self, mean, low, high, trials: int) -> Precision:
        """What the measure's mean and 95 % interval over ``trials`` trials reach."""
        mean = float(mean)
        half = (float(high) - float(low)) / 2.0
        if half == 0.0:
            # Only a value fixed by the scenario has a zero-width interval (one sampled
            # the same in every trial has a wider one): it is known exactly, 0 included.
            relative = 0.0
        elif mean != 0.0 and math.isfinite(mean):
            relative = half / abs(mean)
        else:
            relative = math.inf
        ok = math.isfinite(relative) and relative <= self.target
        return Precision(self.measure, self.target, relative, trials, ok, mean)


def precision_target(
    scenario: Scenario, precision, measure, default: str = PRECISION_MEASURE, what="measure"
) -> PrecisionTarget:
    """The checked target of ``precision=`` and ``measure=`` (default ``default``, the
    cost-exchange ratio) for a scenario: a clear error for a precision outside (0, 1) or
    a measure the scenario does not have (named as ``what``)."""
    value = precision_value(precision)
    name = default if measure is None else measure
    problem = unknown_measure(scenario, name)
    if problem is not None:
        raise InputError(f"{what} {name!r} is {problem}")
    return PrecisionTarget(name, value)


def precision_value(precision) -> float:
    """``precision=`` as a float, or a clear error if it is not a fraction in (0, 1)."""
    if isinstance(precision, str | bytes | bool) or type(precision).__name__ in ("bool", "bool_"):
        raise InputError(f"precision must be a number, not {precision!r}")
    try:
        value = float(precision)
    except (TypeError, ValueError):
        raise InputError(f"precision must be a number, not {precision!r}") from None
    if not 0.0 < value < 1.0:
        raise InputError(
            f"precision must be a fraction of the mean between 0 and 1 (0.01 for 1 %), "
            f"not {precision!r}"
        )
    return value


def unknown_measure(scenario: Scenario, name) -> str | None:
    """None if ``name`` is a summary measure of the scenario, else what is wrong with it
    ("not a measure of NAME; did you mean ...?")."""
    known = [m.name for m in measures(scenario, moment_columns(scenario))]
    if name in known:
        return None
    close = difflib.get_close_matches(str(name), known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f" (its measures: {', '.join(known)})"
    return f"not a measure of {scenario.name}{hint}"


def precision_checks(cap: int) -> Iterator[int]:
    """Trial counts at which a run to a precision checks it: 10,000, then about 1.25
    times the last in whole 1,024-trial units, then the cap."""
    n = min(PRECISION_FIRST_CHECK, cap)
    while n < cap:
        yield n
        n = min(cap, -(-int(n * PRECISION_GROWTH) // 1024) * 1024)
    yield cap
