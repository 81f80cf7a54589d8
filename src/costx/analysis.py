"""Decision analysis: the questions analysts bring, answered with paired simulations.

Five analyses, each built on the simulation kernels with common random numbers (every
scenario of an analysis is simulated with the same seed over trials 0 .. n-1, so two
postures share their random draws wherever their events coincide and their difference
has a paired, much narrower interval), deterministic for a seed, with an interval on
every answer, and runnable locally or on a Dask cluster:

* :func:`marginal_exchange`: the attacker adds threats; what does each way of restoring
  the defense cost, against what the attacker paid (the marginal cost-exchange ratio)?
* :func:`break_even`: the value of one input at which a measure of the scenario equals
  that of another posture (a stochastic root search on paired differences).
* :func:`cheapest`: the least-cost posture of a discrete design space that meets every
  requirement with 95 % confidence (screened with few trials, pruned, then confirmed).
* :func:`worst_raid`: the raid mix within an attack budget that does the defender the
  most harm (same screening).
* :func:`sensitivity`: one-at-a-time low/high runs over the assumed inputs (a tornado).

Each returns an :class:`AnalysisResult`: a table, the answer, the inputs, and
``to_parquet`` / ``describe`` / ``plot``. docs/model.md ("Decision analysis") states
every rule; the README's "Answering the questions" has a worked example of each.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import hashlib
import itertools
import json
import math
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from costx import formatting

# The summary's own interval rules, applied to one measure at a time (summary_table and
# paired_difference_table build every measure's row; an analysis needs one, thousands of
# times): the same functions, so an analysis's intervals are the summary's.
from costx.aggregate import (
    PRECISION_FIRST_CHECK,
    Measure,
    Moments,
    PrecisionTarget,
    _exact_direction,
    _Interval,
    _row,
    _varies,
    column_bounds,
    measure_range,
    measures,
    moment_columns,
    no_variation_interval,
    precision_checks,
    precision_target,
    trial_integers,
    unknown_measure,
    wilson_interval,
)
from costx.catalog import COST_FIELDS, load_catalog
from costx.costing import capital_items
from costx.errors import InputError, ScenarioError, check_flag, check_int
from costx.io import (
    METADATA_KEY,
    as_file_path,
    as_path,
    environment_metadata,
    metadata_errors,
    read_metadata,
    read_table_verified,
    write_table_atomic,
)
from costx.plotting import AnalysisPlots
from costx.scenario import (
    CostxWarning,
    Scenario,
    ScenarioLike,
    _lookup,
    load_scenario,
    parse_toml,
    scenario_from_mapping,
)
from costx.simulation import Lowered, numba_threads
from costx.sweeps import check_backend, connect_scheduler, set_path

FORMAT = "costx.analysis/1"
KINDS = ("margin", "break_even", "cheapest", "worst_raid", "sensitivity")
BLOCK_TRIALS = 65_536  # trials per kernel call; results do not depend on it
Z95 = 1.959963984540054  # two-sided 95 % normal quantile: the intervals reported
Z95_ONE_SIDED = 1.6448536269514722  # one-sided 95 %: "meets the requirement with 95 %"
Z_SCREEN = 3.090232306167813  # one-sided 99.9 %: the margin of every pruning decision
SCREEN_GROWTH = 4  # each screening stage simulates four times the trials of the last
DEFAULT_TRIALS = 20_000
# The CLI's cap on an evaluation run to a precision (--precision without --trials): below
# costx run's 10,000,000 because an analysis makes dozens to thousands of evaluations,
# each of which would run to the cap where its measure's mean is near 0.
PRECISION_CAP_ANALYSIS = 1_000_000
DEFAULT_SCREEN_TRIALS = 1_000
MAX_POINTS = 100_000  # design points or raid mixes one analysis may enumerate
REFERENCE_CACHE_BYTES = 256 << 20
# The other posture of break_even and sensitivity: overrides of the scenario (dotted path
# -> value) or another scenario.
Against = Mapping[str, Any] | ScenarioLike  # per-trial values of references kept for reuse


# -- small helpers --------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    """A JSON-safe copy of ``value`` (numpy scalars become Python numbers, NaN None)."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _number(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InputError(f"{name} must be a number, not {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise InputError(f"{name} must be a finite number, not {value!r}")
    return value


def _as_list(value) -> list | None:
    """A list of plain Python values from a list, tuple, range, 1-D numpy array or pandas
    Series (numpy scalars become Python numbers); None for anything else (a string, a
    scalar, a mapping, a 2-D array)."""
    if isinstance(value, np.ndarray | pd.Series | pd.Index):
        return value.tolist() if value.ndim == 1 else None
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        return None
    return [v.item() if isinstance(v, np.generic) else v for v in value]


def check_run(seed, backend, scheduler, threads) -> int:
    """The seed as a Python int (0 .. 2**64 - 1), after checking how an analysis runs:
    ``backend`` is 'local' or 'dask', ``scheduler`` goes with backend='dask' only and
    ``threads`` (this machine's Numba threads) with backend='local' only, in the words of
    :func:`costx.sweep`."""
    seed = check_int("seed", seed, 0, 2**64 - 1)
    check_backend(backend, scheduler, threads)
    return seed


def measure_names(scenario: Scenario) -> list[str]:
    """Every summary measure of a scenario (the rows of ``summary()``)."""
    return [m.name for m in measures(scenario, moment_columns(scenario))]


def check_measure(scenario: Scenario, name, what: str = "measure") -> str:
    """``name`` if it is a summary measure of the scenario, else one clear InputError."""
    known = measure_names(scenario)
    if not isinstance(name, str) or name not in known:
        close = difflib.get_close_matches(str(name), known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise InputError(
            f"{what}: {name!r} is not a measure of {scenario.name}{hint} (measures: "
            f"{', '.join(known)})"
        )
    return name


def default_cost_measure(scenario: Scenario) -> str:
    """What a posture costs per raid, the most complete measure the scenario has: total
    cost (defense + damage) with a base, else the defense's total cost (expended rounds
    and shots plus the capital charge), else the expended defense cost."""
    known = set(measure_names(scenario))
    for name in ("total_cost_usd", "defense_total_cost_usd", "defense_cost_usd"):
        if name in known:
            return name
    raise AssertionError("every scenario has defense_cost_usd")  # pragma: no cover


def defense_cost_measure(scenario: Scenario) -> str:
    """The defender's own cost per raid: expended plus capital charge when the scenario
    has capital costs (``defense_total_cost_usd``), else the expended cost."""
    known = set(measure_names(scenario))
    return "defense_total_cost_usd" if "defense_total_cost_usd" in known else "defense_cost_usd"


def value_at(scenario: Scenario, path: str) -> Any:
    """The value at a dotted path of the scenario (list items by name), or None."""
    return _lookup(scenario.to_dict(), path)


def _check_path(path, what: str) -> str:
    if not isinstance(path, str) or not path or any(not p for p in path.split(".")):
        raise InputError(f"{what}: a dotted path such as 'effectors.sm2.rounds', not {path!r}")
    if path.split(".")[-1] == "use":
        raise InputError(
            f"{what}: {path}: an analysis cannot change which catalog entry an item uses; "
            "vary the fields themselves"
        )
    return path


def with_values(
    scenario: Scenario, overrides: Mapping[str, Any], what: str, warn: bool = False
) -> Scenario:
    """The scenario with ``overrides`` (dotted path -> value) set, validated.

    Any problem is one InputError line naming ``what``, the path and what is allowed
    (an unknown item, an unknown field, a value outside the field's limits). The
    scenario's warnings (``CostxWarning``) are issued only with ``warn``: an analysis
    builds many variants of a scenario whose own warnings were shown when it was loaded.
    """
    data = scenario.to_dict()
    for path, value in overrides.items():
        _check_path(path, what)
        set_path(data, path, value, what)
    try:
        with warnings.catch_warnings():
            if not warn:
                warnings.simplefilter("ignore", CostxWarning)
            out = scenario_from_mapping(data, what)
    except ScenarioError as err:
        shown = ", ".join(f"{k} = {v!r}" for k, v in overrides.items())
        lines = [f"{p.path}: {p.message}" + (f" (got {p.value!r})" if p.show_value else "")
                 for p in err.problems]  # fmt: skip
        raise InputError(f"{what}: {shown}: {'; '.join(lines)}") from None
    provenance = scenario.provenance
    for path, value in overrides.items():
        provenance[path] = {"from": "analysis", "value": _jsonable(value)}
    out._provenance = provenance
    out._source = scenario.source
    return out


def _check_field(scenario: Scenario, path: str, value: Any, what: str) -> None:
    """An InputError under ``what`` when ``path`` names no field the scenario can hold
    (no such item, an unknown field), whatever its value; problems with ``value`` itself
    are left to :func:`with_values`."""
    data = scenario.to_dict()
    set_path(data, path, value, what)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CostxWarning)
            scenario_from_mapping(data, what)
    except ScenarioError as err:
        unknown = [p for p in err.problems if p.message.startswith("unknown field")]
        if unknown:
            raise InputError(f"{what}: {path}: {unknown[0].message}") from None


def _is_integer_field(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


# -- estimates ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Estimate:
    """A measure (or a paired difference) over ``n`` trials with its intervals.

    ``ci95_low``/``ci95_high`` are the summary's 95 % interval (docs/model.md,
    "Confidence intervals": Wilson for probabilities, the exact bound on the share of
    trials that could differ when every trial gave the same value, normal otherwise,
    clipped to the measure's range). :meth:`low` and :meth:`high` at another ``z`` apply
    the same rules at that one-sided level: the screening margins and the one-sided 95 %
    bounds of requirements.
    """

    mean: float
    se: float
    n: int
    ci95_low: float
    ci95_high: float
    fixed: bool = False  # set by the scenario: no interval at all
    varies: bool = True  # False: the same value in every trial
    probability: bool = False
    value_range: tuple[float, float] | None = None
    # A value the same in every trial: its interval at a one-sided confidence (a
    # functools.partial of aggregate.no_variation_interval; exact for a ratio too).
    at_confidence: Any = dataclasses.field(default=None, compare=False, repr=False)

    def low(self, z: float = Z95) -> float:
        return self.bounds(z)[0]

    def high(self, z: float = Z95) -> float:
        return self.bounds(z)[1]

    @property
    def ci95(self) -> tuple[float, float]:
        return self.ci95_low, self.ci95_high

    def bounds(self, z: float) -> tuple[float, float]:
        """The interval whose each end holds with one-sided confidence Phi(z) (``Z95``:
        the summary's 95 % interval itself, each end at 97.5 %). A value the same in every
        trial uses :func:`~costx.aggregate.no_variation_interval` at that confidence (exact
        for a mean and for a ratio)."""
        v = self.mean
        if z == Z95 or math.isnan(v):
            return self.ci95_low, self.ci95_high
        if self.fixed:
            return v, v
        if self.n < 2 or not self.varies:
            low, high = self.at_confidence(NormalDist().cdf(z))
        elif self.probability and 0.0 < v < 1.0:
            n_eff = self.n * v * (1.0 - v) / ((self.n - 1) * self.se * self.se)
            # trials=: a 0/1 outcome's end near 0 or 1 no tighter than the exact one
            low, high = wilson_interval(v, n_eff, z, trials=self.n)
        else:
            low, high = v - z * self.se, v + z * self.se
        if self.value_range is not None:
            low = min(max(low, self.value_range[0]), v)
            high = max(min(high, self.value_range[1]), v)
        return low, high


def _measure(scenario: Scenario, columns, name: str) -> Measure:
    for m in measures(scenario, columns):
        if m.name == name:
            return m
    raise InputError(f"{name!r} is not a measure of {scenario.name}")


def _estimate(name, interval, m: Moments, bounds: np.ndarray, unit: str) -> Estimate:
    """The summary's row for one value (``aggregate._row``, the rules of
    ``summary_table`` and ``paired_difference_table``), with what its other levels need."""
    cov = m.cov()
    _, value, low, high, se, _ = _row(name, interval, m, cov, bounds, unit)
    fixed = interval.fixed
    varies = not fixed and m.n > 1 and not math.isnan(value) and _varies(interval, cov, m)
    at_confidence = None
    if not fixed and not varies and not math.isnan(value):
        at_confidence = functools.partial(
            _no_variation_at, value, interval.grad, m.mean(), bounds, m.n, interval.parts
        )
    probability = unit == "probability" and interval.value_range is not None
    return Estimate(value, se, m.n, low, high, fixed, varies, probability,
                    interval.value_range, at_confidence)  # fmt: skip


def _no_variation_at(value, grad, mu, bounds, n, parts, confidence) -> tuple[float, float]:
    """no_variation_interval at a one-sided ``confidence`` (Estimate.bounds's levels)."""
    return no_variation_interval(value, grad, mu, bounds, n, confidence=confidence, parts=parts)


def estimate(scenario: Scenario, m: Moments, name: str) -> Estimate:
    """A summary measure of one scenario from its moments, with the summary's interval
    (``summary_table(scenario, m).loc[name]``, computed for this measure alone)."""
    measure = _measure(scenario, m.columns, name)
    mu = m.mean()
    bounds = column_bounds(scenario, m.columns)
    interval = _Interval(
        measure.value(mu),
        measure.gradient(mu),
        lambda: _exact_direction(measure, m.s1),
        fixed=measure.den is None and not measure.num.any(),
        value_range=measure_range(measure, bounds),
        parts=((1, measure, slice(None)),),
    )
    return _estimate(name, interval, m, bounds, measure.unit)


def paired(scenario: Scenario, reference: Scenario, joint: Moments, name: str) -> Estimate:
    """measure(scenario) - measure(reference) from their joint moments over the same
    trials (``p:`` columns, then ``b:``), with the paired interval of
    ``paired_difference_table`` (delta method on the joint moments; a difference that
    was the same in every trial gets the bound on the share of trials that could differ;
    never clipped)."""
    k = sum(1 for c in joint.columns if c.startswith("p:"))
    point_columns = [c[2:] for c in joint.columns[:k]]
    base_columns = [c[2:] for c in joint.columns[k:]]
    mp = _measure(scenario, point_columns, name)
    mb = _measure(reference, base_columns, name)
    mu = joint.mean()
    bounds = np.concatenate(
        [column_bounds(scenario, point_columns), column_bounds(reference, base_columns)]
    )
    interval = _Interval(
        mp.value(mu[:k]) - mb.value(mu[k:]),
        np.concatenate([mp.gradient(mu[:k]), -mb.gradient(mu[k:])]),
        lambda: (
            _exact_direction(mp, joint.s1[:k]) + [-w for w in _exact_direction(mb, joint.s1[k:])]
        ),
        fixed=all(x.den is None and not x.num.any() for x in (mp, mb)),
        value_range=None,
        parts=((1, mp, slice(0, k)), (-1, mb, slice(k, None))),
    )
    return _estimate(name, interval, joint, bounds, mp.unit)


def own_part(joint: Moments) -> Moments:
    """The point's own moments out of joint moments (the ``p:`` part)."""
    k = sum(1 for c in joint.columns if c.startswith("p:"))
    return Moments(tuple(c[2:] for c in joint.columns[:k]), joint.n, joint.s1[:k],
                   tuple(row[:k] for row in joint.s2[:k]))  # fmt: skip


def reference_part(joint: Moments) -> Moments:
    """The reference's own moments out of joint moments (the ``b:`` part)."""
    k = sum(1 for c in joint.columns if c.startswith("p:"))
    return Moments(tuple(c[2:] for c in joint.columns[k:]), joint.n, joint.s1[k:],
                   tuple(row[k:] for row in joint.s2[k:]))  # fmt: skip


# -- simulating with common random numbers --------------------------------------------------


def kernel_key(scenario: Scenario, plan=None) -> str:
    """A digest of everything the kernels see of a scenario (its lowered arrays).

    Two scenarios with the same key give bit-identical per-trial integers for the same
    seed and trials (the kernels read nothing else), so an analysis simulates them once:
    varying a price that the kernels never see (an acquisition cost, a threat's unit
    cost, a round's price under the layered policy) costs no simulation at all.
    ``plan``: the scenario's ``Lowered`` if already built.
    """
    plan = Lowered(scenario) if plan is None else plan
    digest = hashlib.sha256()
    base = plan.base
    arrays = plan.arrays
    if scenario.scenario.policy == "layered":
        # The expected costs per kill (cpk) steer only the cost-aware decisions; under the
        # layered policy the kernels never read them (tests/test_analysis.py checks that a
        # round's price then leaves every trial as it is).
        arrays = dataclasses.replace(arrays, cpk=np.isfinite(arrays.cpk))
    # Every kernel's inputs, each section named: the engagement's, the base damage's and
    # the ship's (the ship's were left out, so scenarios differing only in hits_to_kill or
    # a threat's p_hit shared one simulation; tests/test_analysis_key.py checks that
    # changing any element of any of these arrays changes the key).
    sections = {"engagement": arrays.kernel_args(),
                "base": () if base is None else base.kernel_args(),
                "ship": () if plan.ship is None else plan.ship.kernel_args()}  # fmt: skip
    for section, parts in sections.items():
        digest.update(f"[{section}]".encode())
        for a in parts:
            if isinstance(a, np.ndarray):
                digest.update(f"{a.dtype}{a.shape}".encode())
                digest.update(np.ascontiguousarray(a).tobytes())
            else:
                digest.update(repr(a).encode())
            digest.update(b"|")
    digest.update(repr(moment_columns(scenario)).encode())
    return digest.hexdigest()


def _moments_task(point_data: dict, ref_data: dict | None, first: int, n: int, seed: int):
    """Moments of trials ``first .. first + n - 1`` of one scenario (joint with a
    reference when one is given): a task of the Dask backend, on plain data."""
    point = scenario_from_mapping(point_data, "analysis point")
    ref = None if ref_data is None else scenario_from_mapping(ref_data, "analysis reference")
    plan, ref_plan = Lowered(point), None if ref is None else Lowered(ref)
    total = None
    for start in range(first, first + n, BLOCK_TRIALS):
        m = min(BLOCK_TRIALS, first + n - start)
        ints = trial_integers(point, plan.run(start, m, seed))
        if ref is not None:
            b_ints = trial_integers(ref, ref_plan.run(start, m, seed))
            ints = {**{f"p:{k}": v for k, v in ints.items()},
                    **{f"b:{k}": v for k, v in b_ints.items()}}  # fmt: skip
        block = Moments.of(ints)
        total = block if total is None else total + block
    return total


class Evaluator:
    """Simulates scenarios with common random numbers and keeps their exact moments.

    Every scenario is simulated with one seed over trials 0 .. n-1; asking for more
    trials of a scenario simulates only the new ones (trial i is the same in any run) and
    adds their exact integer moments, so a screening stage's trials are reused by the
    next. Scenarios whose kernels see the same arrays (:func:`kernel_key`) share one
    simulation. ``trials_simulated`` counts the trials the kernels actually played.

    With ``precision`` (a PrecisionTarget) every evaluation asked for ``cap`` trials (an
    analysis's ``trials``; screening stages, which ask for fewer, are left as they are)
    runs to that precision instead, as ``simulate(precision=...)`` does: it takes the
    first of ``precision_checks(cap)`` at which the 95 % half-width of the target's
    measure of the point (a pair's first scenario, over the pair's trials) is at most
    that fraction of its mean, else ``cap``. The points of one request are extended
    check by check together (on Dask, in parallel), and the moments at every check are
    kept, so that a point that stops early can be read back while a scenario with the
    same kernels goes on.
    """

    def __init__(
        self,
        seed: int = 0,
        backend: str = "local",
        scheduler: str | None = None,
        threads: int | None = None,
        chunk_trials: int | None = None,
        precision: PrecisionTarget | None = None,
        cap: int | None = None,
    ):
        self.seed = check_run(seed, backend, scheduler, threads)
        self.backend = backend
        self.scheduler = scheduler
        self.threads = threads
        self.chunk_trials = chunk_trials
        self.trials_simulated = 0
        self._keys: dict[int, tuple[Scenario, str]] = {}
        self._plans: dict[str, Any] = {}
        self._own: dict[str, Moments] = {}
        self._joint: dict[tuple[str, str], Moments] = {}
        self._references: set[str] = set()
        self._reference_cache: dict[tuple[str, int, int], dict] = {}
        self._reference_bytes = 0
        self._client = None
        self._cluster = None
        self.precision = precision
        self.cap = cap
        # run to a precision: the moments at each check they passed, by (key, ref_key, n)
        self._snaps: dict[tuple[str, str | None, int], Moments] = {}
        self._checks = set(precision_checks(cap)) if precision is not None else set()

    # context manager: a Dask client lives as long as the analysis
    def __enter__(self) -> Evaluator:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def key(self, scenario: Scenario) -> str:
        known = self._keys.get(id(scenario))
        if known is None or known[0] is not scenario:
            plan = Lowered(scenario)
            known = (scenario, kernel_key(scenario, plan))
            self._keys[id(scenario)] = known
            self._plans.setdefault(known[1], plan)
        return known[1]

    def _to_precision(self, n: int) -> bool:
        return self.precision is not None and n == self.cap

    def _stopped(self, items: Sequence, n: int, at: Callable, point: Callable) -> list[Moments]:
        """Run to the precision: the moments (``at(items, check)``) of every item at its
        first check that meets the target on ``point(item, moments)`` (a scenario and
        its own moments), else at ``n``."""
        out: list[Moments | None] = [None] * len(items)
        pending = list(range(len(items)))
        for check in precision_checks(n):
            got = at([items[i] for i in pending], check)
            still = []
            for i, m in zip(pending, got, strict=True):
                scenario, own = point(items[i], m)
                if check == n or self._reached(scenario, own, check):
                    out[i] = m
                else:
                    still.append(i)
            pending = still
            if not pending:
                break
        return out

    def _reached(self, scenario: Scenario, m: Moments, n: int) -> bool:
        name = self.precision.measure
        problem = unknown_measure(scenario, name)  # a variant without it (a dispersal site's)
        if problem is not None:
            set_here = [(path, p) for path, p in scenario.provenance.items()
                        if p.get("from") == "analysis"]  # fmt: skip
            changed = ", ".join(f"{path} = {p['value']!r}" for path, p in set_here)
            raise InputError(f"precision_measure {name!r} is {problem}"
                             + (f" with {changed}" if changed else ""))  # fmt: skip
        e = estimate(scenario, m, name)
        return self.precision.check_interval(e.mean, e.low(), e.high(), n).reached

    def own(self, scenarios: Sequence[Scenario], n: int) -> list[Moments]:
        """Moments of trials 0 .. n-1 of every scenario (run to the precision, 0 .. each
        one's own stop - 1)."""
        if self._to_precision(n):
            return self._stopped(scenarios, n, self._own_at, lambda s, m: (s, m))
        return self._own_at(scenarios, n)

    def _own_at(self, scenarios: Sequence[Scenario], n: int) -> list[Moments]:
        todo: dict[str, Scenario] = {}
        for s in scenarios:
            k = self.key(s)
            have = self._own[k].n if k in self._own else 0
            if have < n:
                todo.setdefault(k, s)
        if todo:
            self._extend([(k, s, None, None) for k, s in todo.items()], n)
        return [self._take(self.key(s), None, n) for s in scenarios]

    def mark_reference(self, scenario: Scenario) -> None:
        """Keep this scenario's per-trial values whenever they are simulated (up to
        REFERENCE_CACHE_BYTES), for pairing with many points later."""
        self._references.add(self.key(scenario))

    def joint(self, pairs: Sequence[tuple[Scenario, Scenario]], n: int) -> list[Moments]:
        """Joint moments (``p:`` point, ``b:`` reference) of trials 0 .. n-1 of every
        (point, reference) pair: the moments behind paired differences (run to the
        precision, of trials 0 .. the point's own stop - 1)."""
        if self._to_precision(n):
            return self._stopped(pairs, n, self._joint_at, lambda pr, m: (pr[0], own_part(m)))
        return self._joint_at(pairs, n)

    def _joint_at(self, pairs: Sequence[tuple[Scenario, Scenario]], n: int) -> list[Moments]:
        todo: dict[tuple[str, str], tuple[Scenario, Scenario]] = {}
        for p, r in pairs:
            key = (self.key(p), self.key(r))
            have = self._joint[key].n if key in self._joint else 0
            if have >= n:
                continue
            if key[0] == key[1]:  # the same trials twice: the joint moments follow exactly
                self._store_total(key[0], key[1], _doubled(self._own_at([p], n)[0]))
                continue
            todo.setdefault(key, (p, r))
        if todo:
            self._extend([(k[0], p, k[1], r) for k, (p, r) in todo.items()], n)
        return [self._take(self.key(p), self.key(r), n) for p, r in pairs]

    def _take(self, key: str, ref_key: str | None, n: int) -> Moments:
        """The moments of trials 0 .. n-1: those held, or (run to a precision) those
        kept when the held ones passed n."""
        m = self._have(key, ref_key)
        if m is not None and m.n == n:
            return m
        kept = self._snaps.get((key, ref_key, n))
        if kept is None:  # pragma: no cover - the evaluator always extends to exactly n
            raise AssertionError(f"moments of {None if m is None else m.n} trials, asked for {n}")
        return kept

    def _have(self, key: str, ref_key: str | None) -> Moments | None:
        return self._own.get(key) if ref_key is None else self._joint.get((key, ref_key))

    def _store(self, key: str, ref_key: str | None, m: Moments) -> None:
        before = self._have(key, ref_key)
        self._store_total(key, ref_key, m if before is None else before + m)

    def _store_total(self, key: str, ref_key: str | None, total: Moments) -> None:
        if ref_key is None:
            self._own[key] = total
        else:
            self._joint[(key, ref_key)] = total
        if total.n in self._checks:
            self._snaps[(key, ref_key, total.n)] = total

    def _extend(self, requests, n: int) -> None:
        """Simulate the missing trials of every (key, scenario, ref_key, reference). Run
        to a precision, in stretches that end at every precision check on the way (the
        checks of any cap are the same up to it), so that the moments at each are kept
        whatever stages asked for more trials first (a screening stage of 16,000 trials
        passes the checks at 10,000 and 13,312)."""
        if self.precision is not None:
            for stop in precision_checks(10**12):
                if stop >= n:
                    break
                short = [r for r in requests if self._held(r[0], r[2]) < stop]
                if short:
                    self._extend_to(short, stop)
        self._extend_to(requests, n)

    def _held(self, key: str, ref_key: str | None) -> int:
        have = self._have(key, ref_key)
        return 0 if have is None else have.n

    def _extend_to(self, requests, n: int) -> None:
        if self.backend == "dask":
            self._extend_dask(requests, n)
            return

        # Requests that start at the same trial against the same reference share the
        # reference's per-trial values block by block.
        groups: dict[tuple[str | None, int], list] = {}
        for key, s, ref_key, ref in requests:
            have = self._have(key, ref_key)
            start = have.n if have is not None else 0
            groups.setdefault((ref_key, start), []).append((key, s, ref))
        with numba_threads(self.threads):
            for (ref_key, start), items in groups.items():
                ref = items[0][2]
                for first in range(start, n, BLOCK_TRIALS):
                    m = min(BLOCK_TRIALS, n - first)
                    ref_ints = None if ref is None else self._reference_ints(ref_key, ref, first, m)
                    for key, s, _ in items:
                        if ref_ints is not None and key == ref_key:
                            ints = ref_ints
                        elif key in self._references:
                            ints = self._reference_ints(key, s, first, m)
                        else:
                            ints = self._ints(key, s, first, m)
                        if ref_ints is not None:
                            ints = {**{f"p:{k}": v for k, v in ints.items()},
                                    **{f"b:{k}": v for k, v in ref_ints.items()}}  # fmt: skip
                        self._store(key, ref_key, Moments.of(ints))

    def _reference_ints(self, key: str, scenario: Scenario, first: int, n: int) -> dict:
        """A reference's per-trial values, kept (up to REFERENCE_CACHE_BYTES): searches
        pair many points with one reference, one or a few at a time."""
        cached = self._reference_cache.get((key, first, n))
        if cached is not None:
            return cached
        ints = self._ints(key, scenario, first, n)
        size = sum(v.nbytes for v in ints.values())
        if self._reference_bytes + size <= REFERENCE_CACHE_BYTES:
            self._reference_cache[(key, first, n)] = ints
            self._reference_bytes += size
        return ints

    def _ints(self, key: str, scenario: Scenario, first: int, n: int) -> dict:

        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = Lowered(scenario)
        self.trials_simulated += n
        return trial_integers(scenario, plan.run(first, n, self.seed))

    def _extend_dask(self, requests, n: int) -> None:
        client = self._dask_client()
        chunk = self.chunk_trials or 200_000
        futures = []
        for key, s, ref_key, ref in requests:
            have = self._have(key, ref_key)
            start = have.n if have is not None else 0
            data = s.to_dict()
            ref_data = None if ref is None else ref.to_dict()
            for first in range(start, n, chunk):
                m = min(chunk, n - first)
                future = client.submit(_moments_task, data, ref_data, first, m, self.seed,
                                       pure=False)  # fmt: skip
                futures.append((key, ref_key, future))
                self.trials_simulated += m * (1 if ref is None else 2)
        # Exact integer sums: the order in which chunks are added does not matter.
        for key, ref_key, future in futures:
            self._store(key, ref_key, future.result())

    def _dask_client(self):
        if self._client is not None:
            return self._client
        try:
            from dask.distributed import Client, LocalCluster  # lazy: optional dependency
        except ImportError:  # pragma: no cover - depends on the environment
            raise InputError("backend='dask' needs Dask: pip install \"costx[dask]\"") from None
        if self.scheduler:
            self._client = connect_scheduler(self.scheduler)
        else:
            self._cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                         dashboard_address=None)  # fmt: skip
            self._client = Client(self._cluster)
        return self._client


def _doubled(m: Moments) -> Moments:
    """Joint moments of a scenario with itself (``p:`` and ``b:`` the same columns)."""
    k = len(m.columns)
    s2 = tuple(tuple(m.s2[i % k][j % k] for j in range(2 * k)) for i in range(2 * k))
    columns = (*(f"p:{c}" for c in m.columns), *(f"b:{c}" for c in m.columns))
    return Moments(columns, m.n, m.s1 + m.s1, s2)


# -- the result -----------------------------------------------------------------------------


class AnalysisResult:
    """The outcome of an analysis: a table, the answer and everything that produced it.

    Attributes
    ----------
    kind : str
        ``margin``, ``break_even``, ``cheapest``, ``worst_raid`` or ``sensitivity``.
    scenario : Scenario
        The scenario analysed (with any ``--set`` overrides applied).
    inputs : dict
        The analysis's arguments (JSON data): what reproduces it with the same seed.
    answer : dict
        The answer (JSON data; keys by kind, see docs/model.md "Decision analysis").
    table : pandas.DataFrame
        One row per option, evaluated value, design point, raid mix or input.
    seed, trials : int
        The seed and the trials per confirmed evaluation.
    trials_simulated : int
        Trials the kernels played in all (screening, searches and references included).
    """

    def __init__(
        self,
        kind: str,
        scenario: Scenario,
        inputs: dict,
        answer: dict,
        table: pd.DataFrame,
        seed: int,
        trials: int,
        trials_simulated: int,
        elapsed_s: float = math.nan,
    ):
        self.kind = kind
        self.scenario = scenario
        self.inputs = inputs
        self.answer = answer
        self.table = table
        self.seed = seed
        self.trials = trials
        self.trials_simulated = trials_simulated
        self.elapsed_s = elapsed_s

    @property
    def dollar_year(self) -> int | None:
        return self.scenario.scenario.dollar_year

    def unit_of(self, measure: str) -> str:
        """The unit of one of this analysis's measures (for figures and tables): one of
        the summary measures of its scenario, else an InputError listing them."""
        return _unit_of(self.scenario, check_measure(self.scenario, measure, "unit_of"))

    @property
    def plot(self) -> AnalysisPlots:
        """Figures: ``result.plot.figure()`` (matplotlib Axes; needs ``costx[plot]``)."""

        return AnalysisPlots(self)

    def describe(self) -> str:
        """The answer in a few plain sentences (what ``costx analyze`` prints)."""
        return _DESCRIBE[self.kind](self)

    def to_parquet(self, path: str | Path) -> Path:
        """Write the table atomically, with the scenario, the inputs, the answer, the
        seed and the trials in the file's metadata; :func:`read_analysis` reads it."""

        return write_table_atomic(_analysis_table(self), as_file_path(path, "path"))

    def metadata(self) -> dict:
        """The file's metadata: the top-level keys of every costx file (``created``, the
        versions, ``dollar_year``, ``policy``, ``sweep_name``) and the analysis's own."""

        return {
            "format": FORMAT,
            "kind": self.kind,
            **environment_metadata(),
            "policy": self.scenario.scenario.policy,
            "sweep_name": None,  # an analysis file is not part of a sweep
            "scenario_name": self.scenario.name,
            "scenario_toml": self.scenario.to_toml(),
            "provenance": _jsonable(self.scenario.provenance),
            "dollar_year": self.dollar_year,
            "inputs": _jsonable(self.inputs),
            "answer": _jsonable(self.answer),
            "seed": int(self.seed),
            "trials": int(self.trials),
            "trials_simulated": self.trials_simulated,
            "elapsed_s": _jsonable(self.elapsed_s),
            # What read_analysis checks the table against (files before 2026-12-02 lack it)
            "table_columns": [str(c) for c in self.table.columns],
            "table_rows": len(self.table),
            "summary": self.describe(),
        }

    def _repr_html_(self) -> str:
        """The answer, as describe() writes it, in Jupyter (costx.notebook)."""
        from costx.notebook import analysis_html  # lazy: only in Jupyter

        return analysis_html(self)

    def __repr__(self) -> str:
        return (
            f"<AnalysisResult {self.kind} of {self.scenario.name!r}: {len(self.table)} rows, "
            f"{self.trials_simulated:,} trials simulated>"
        )


def _analysis_table(result: AnalysisResult):

    frame = result.table.copy()
    for column in frame.columns:  # Parquet needs one type per column
        if frame[column].dtype == object:
            frame[column] = frame[column].map(lambda v: None if v is None else str(v))
    table = pa.Table.from_pandas(frame, preserve_index=False)
    merged = dict(table.schema.metadata or {})
    merged[METADATA_KEY] = json.dumps(result.metadata()).encode()
    return table.replace_schema_metadata(merged)


def is_analysis_file(path: str | Path) -> bool:
    """Whether ``path`` is a Parquet file written by ``AnalysisResult.to_parquet``."""

    try:
        return read_metadata(as_path(path, "path")).get("format") == FORMAT
    except InputError:
        return False


def read_analysis(path: str | Path) -> AnalysisResult:
    """Read an analysis written by ``AnalysisResult.to_parquet``."""

    path = as_path(path, "path")
    meta = read_metadata(path)
    if meta.get("format") != FORMAT:
        raise InputError(f"{path}: not a costx analysis (format {meta.get('format')!r})")
    if meta.get("kind") not in KINDS:
        raise InputError(f"{path}: unknown analysis {meta.get('kind')!r} (known: {KINDS})")
    with metadata_errors(path):
        return _analysis_from(path, meta)


def _analysis_from(path: Path, meta: dict) -> AnalysisResult:
    """The analysis of a file's metadata and table, each checked: a damaged file is an
    InputError naming what is wrong, not a KeyError in a figure or report later."""
    for key in ("inputs", "answer"):
        if not isinstance(meta[key], dict):
            raise InputError(f"{path}: damaged costx metadata ({key} must be a mapping)")
    for key in ("seed", "trials", "trials_simulated"):
        if not isinstance(meta[key], int) or isinstance(meta[key], bool) or meta[key] < 0:
            raise InputError(
                f"{path}: damaged costx metadata ({key} must be a whole number >= 0, "
                f"got {meta[key]!r})"
            )
    scenario = scenario_from_mapping(
        parse_toml(meta["scenario_toml"], f"{path}[scenario]"), f"{path}[scenario]"
    )
    provenance = meta.get("provenance", {})
    if not isinstance(provenance, dict):
        raise InputError(f"{path}: damaged costx metadata (provenance must be a mapping)")
    scenario._provenance = provenance
    table = read_table_verified(path)
    columns, rows = meta.get("table_columns"), meta.get("table_rows")
    if columns is not None and [str(c) for c in table.columns] != columns:
        missing = [c for c in columns if c not in table.columns]
        raise InputError(
            f"{path}: its table's columns are not the ones costx wrote "
            f"({'missing: ' + ', '.join(missing) if missing else 'others or in another order'})"
        )
    if rows is not None and len(table) != rows:
        raise InputError(
            f"{path}: {len(table):,} rows, but its metadata records {rows:,} (a filtered copy?)"
        )
    elapsed = meta.get("elapsed_s")
    return AnalysisResult(meta["kind"], scenario, meta["inputs"], meta["answer"], table,
                          meta["seed"], meta["trials"], meta["trials_simulated"],
                          math.nan if elapsed is None else float(elapsed))  # fmt: skip


def _common_inputs(trials: int, seed: int, backend: str, target=None) -> dict:
    out = {"trials": trials, "seed": seed, "backend": backend}
    if target is not None:  # only then: the inputs of fixed-trial analyses stay as they were
        out.update(precision=target.target, precision_measure=target.measure)
    return out


def _precision_target(scenario: Scenario, precision, precision_measure,
                      default: str) -> PrecisionTarget | None:  # fmt: skip
    """The target of an analysis's ``precision=`` (None: fixed trials); its measure is
    ``precision_measure``, else the analysis's own (``default``)."""
    if precision is None:
        if precision_measure is not None:
            raise InputError("precision_measure= is the measure of precision=; give precision too")
        return None
    return precision_target(scenario, precision, precision_measure, default, "precision_measure")


# -- searching monotone predicates ----------------------------------------------------------


def _smallest(pred: Callable[[int], bool], low: int, high: int) -> int | None:
    """The smallest n in [low, high] where ``pred`` holds, for a ``pred`` that holds from
    some n on (exponential search from ``low``, then bisection); None if it never does."""
    if low > high:
        return None
    if pred(low):
        return low
    false_at, step = low, 1
    while True:
        n = min(low + step, high)
        if pred(n):
            break
        if n == high:
            return None
        false_at, step = n, step * 2
    while n - false_at > 1:
        mid = (false_at + n) // 2
        if pred(mid):
            n = mid
        else:
            false_at = mid
    return n


# -- 1. marginal cost-exchange --------------------------------------------------------------


def procurement_value_usd(scenario: Scenario) -> float:
    """What the posture's stock costs to buy: every kinetic round at its replacement
    price (``cost_per_shot_usd``; a railgun's projectile, barrel wear being charged per
    shot), plus every unit's acquisition price when the scenario has capital costs."""
    total = 0.0
    for e in scenario.effectors:
        rounds = getattr(e, "rounds", None)
        if rounds is not None:
            total += rounds * e.cost_per_shot_usd
    return total + _capital_stock_usd(scenario)


def _capital_stock_usd(scenario: Scenario) -> float:
    """The purchase price of the posture's capital items: every effector's units (laser
    units, kinetic channels or ``acquisition_units``) at ``acquisition_usd`` plus its
    ``fixed_acquisition_usd`` when it has any, and the base's shelters, repair teams and
    dispersal sites (``costx.costing.capital_items``)."""

    return float(sum(item.acquisition_usd for item in capital_items(scenario)))


def _added_threats(scenario: Scenario, threat: str, add: int) -> Scenario:
    """The scenario with ``add`` more threats of group ``threat`` (in every salvo in
    which the group attacks, for a campaign with per-salvo counts)."""
    campaign = scenario.campaign
    if campaign is None or isinstance(campaign.salvos, int):
        count = next(t.count for t in scenario.threats if t.name == threat)
        return with_values(scenario, {f"threats.{threat}.count": count + add}, "add")
    data = scenario.to_dict()
    salvos = data["campaign"]["salvos"]
    named = [s for s in salvos if s.get(threat, 0) > 0]
    if not named:
        raise InputError(f"threat: {threat!r} attacks in no salvo of the campaign")
    for s in named:
        s[threat] += add
    try:
        out = scenario_from_mapping(data, "add")
    except ScenarioError as err:
        raise InputError(f"add: {err.problems[0].path}: {err.problems[0].message}") from None
    out._provenance = scenario.provenance
    return out


def _stepped(value0, step, n: int):
    value = value0 + n * step
    return int(value) if _is_integer_field(value0) and _is_integer_field(step) else float(value)


def marginal_exchange(
    scenario: ScenarioLike,
    threat: str,
    add: int,
    hold: str = "leakers",
    offsets: Mapping[str, float] | None = None,
    *,
    trials: int = DEFAULT_TRIALS,
    seed: int = 0,
    max_steps: int = 64,
    backend: str = "local",
    scheduler: str | None = None,
    threads: int | None = None,
    precision: float | None = None,
    precision_measure: str | None = None,
) -> AnalysisResult:
    """The marginal cost-exchange ratio: what it costs the defender to offset ``add``
    more threats of one group, over what they cost the attacker.

    The attacker adds ``add`` threats to group ``threat``. For each option of
    ``offsets`` (a dotted path and the step the defender buys at a time, e.g.
    ``{"effectors.sm2.rounds": 8, "effectors.helios.units": 1}``), the smallest number
    of steps n that brings ``hold`` back to at most its value before the addition
    (paired estimate, common random numbers; the search assumes that more steps never
    make ``hold`` worse). The defender's added cost is given on two bases:

    * per raid: the change in the defense's cost of one raid, the (bigger) raid against
      the strengthened posture minus the old raid against the old posture: every added
      round actually fired at its replacement price, plus the added units' capital
      charge per raid when the scenario has capital costs (``defense_total_cost_usd``);
    * procurement: the purchase price of everything added (``n x step`` rounds at their
      price, units at their acquisition price).

    Each is divided by the attacker's added cost (``add`` threats at their unit cost) to
    give the marginal cost-exchange ratio (Nitze's criterion: below 1 the defense keeps
    pace more cheaply than the attacker adds; above 1 the attacker imposes cost).

    Intervals: the steps interval runs from the smallest n whose paired 95 % interval
    reaches back to the old value to the smallest n whose whole interval is at or below
    it; the cost intervals span the cost's 95 % intervals over that range of n.

    Parameters
    ----------
    scenario
        A Scenario, path, mapping or bundled name.
    threat, add
        The threat group the attacker adds to and how many it adds.
    hold
        The summary measure to hold (``leakers``, ``p_any_leak``, ``damage_usd``, ...).
    offsets
        The defender's options: dotted path -> step.
    trials, seed
        Trials per evaluation and the seed shared by all (common random numbers).
    max_steps
        The most steps of an option to try.
    backend, scheduler, threads
        As for :func:`costx.sweep`.

    precision, precision_measure
        Run every evaluation asked for ``trials`` to a precision of its own, as
        ``simulate(precision=...)`` runs a scenario: it stops at the first check (10,000
        trials, then about 1.25 times the last) at which the 95 % half-width of
        ``precision_measure`` (default: ``hold``) is at most ``precision`` times the point's
        mean, or at ``trials`` (then the cap). Screening stages end below the first check.

    Returns
    -------
    AnalysisResult
        ``table``: one row per option; ``answer``: the cheapest option on each basis.
    """
    started = time.perf_counter()
    seed = check_run(seed, backend, scheduler, threads)
    scenario = load_scenario(scenario)
    names = [t.name for t in scenario.threats]
    if threat not in names:
        close = difflib.get_close_matches(str(threat), names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise InputError(f"threat: no threat group {threat!r} in {scenario.name}{hint} "
                         f"(groups: {', '.join(names)})")  # fmt: skip
    add = check_int("add", add, 1, 2**24 - 1)
    hold = check_measure(scenario, hold, "hold")
    target = _precision_target(scenario, precision, precision_measure, hold)
    trials = check_int("trials", trials, 2, 10**9)
    max_steps = check_int("max_steps", max_steps, 1, 10**6)
    if not isinstance(offsets, Mapping) or not offsets:
        raise InputError(
            "offsets: give at least one option, a dotted path and its step, e.g. "
            "{'effectors.sm2.rounds': 8}"
        )
    attacked = _added_threats(scenario, threat, add)
    options = []
    for path, step in offsets.items():
        what = f"offsets[{path!r}]"
        _check_path(path, what)
        step_value = _number(what, step)
        if step_value == 0:
            raise InputError(f"{what}: the step must not be 0")
        value0 = value_at(attacked, path)
        if value0 is None:
            with_values(attacked, {path: step}, what)  # unknown fields fail here
            raise InputError(f"{what}: {path} has no value in {scenario.name} to add steps to")
        if isinstance(value0, bool) or not isinstance(value0, int | float):
            raise InputError(f"{what}: {path} is {value0!r}, not a number to add steps to")
        with_values(attacked, {path: _stepped(value0, step, 1)}, what)  # limits of one step
        options.append((path, step, value0))
    cost_name = defense_cost_measure(scenario)
    attacker_added = attacked.attack_cost_usd - scenario.attack_cost_usd
    stock_before = procurement_value_usd(scenario)

    with Evaluator(seed, backend, scheduler, threads, precision=target, cap=trials) as ev:
        ev.mark_reference(scenario)
        before = estimate(scenario, ev.own([scenario], trials)[0], hold)
        absorbed = ev.joint([(attacked, scenario)], trials)[0]
        attacked_hold = estimate(attacked, own_part(absorbed), hold)
        absorb_cost = paired(attacked, scenario, absorbed, cost_name)
        rows = []
        for path, step, value0 in options:
            rows.append(_restore(ev, scenario, attacked, path, step, value0, hold, cost_name,
                                 trials, max_steps, attacker_added, stock_before, before,
                                 attacked_hold))  # fmt: skip
        simulated = ev.trials_simulated
    table = pd.DataFrame(rows)
    if "trials" in table:  # run to a precision; NaN, not None, where nothing was restored
        table["trials"] = table["trials"].astype("float64")
    restored = table[table["restored"]]
    cheapest_raid = cheapest_buy = None
    if len(restored):
        cheapest_raid = str(restored.loc[restored["per_raid_usd"].idxmin(), "option"])
        cheapest_buy = str(restored.loc[restored["procurement_usd"].idxmin(), "option"])
    table["cheapest"] = table["option"] == cheapest_raid
    answer = {
        "threat": threat,
        "add": add,
        "hold": hold,
        "cost_measure": cost_name,
        "attacker_added_usd": attacker_added,
        "hold_before": [before.mean, *before.ci95],
        "hold_attacked": [attacked_hold.mean, *attacked_hold.ci95],
        "absorb_per_raid_usd": [absorb_cost.mean, *absorb_cost.ci95],
        "cheapest_per_raid": cheapest_raid,
        "cheapest_procurement": cheapest_buy,
        "options": table.to_dict(orient="records"),
    }
    inputs = {
        "threat": threat, "add": add, "hold": hold,
        "offsets": {p: s for p, s, _ in options}, "max_steps": max_steps,
        **_common_inputs(trials, seed, backend, target),
    }  # fmt: skip
    return AnalysisResult("margin", scenario, inputs, _jsonable(answer), table, seed, trials,
                          simulated, time.perf_counter() - started)  # fmt: skip


def _restore(ev, scenario, attacked, path, step, value0, hold, cost_name, trials, max_steps,
             attacker_added, stock_before, before, attacked_hold) -> dict:  # fmt: skip
    """Search one option: the steps that restore ``hold``, and what they cost."""
    cache: dict[int, tuple | None] = {}
    limit_note = ""

    def at(n: int):
        nonlocal limit_note
        if n not in cache:
            value = _stepped(value0, step, n)
            try:
                s = attacked if n == 0 else with_values(attacked, {path: value}, path)
            except InputError as err:
                limit_note = f"{path} = {value!r} is outside the field's limits ({err})"
                cache[n] = None
                return None
            joint = ev.joint([(s, scenario)], trials)[0]
            cache[n] = (paired(s, scenario, joint, hold), paired(s, scenario, joint, cost_name),
                        estimate(s, own_part(joint), hold), procurement_value_usd(s))  # fmt: skip
        return cache[n]

    def holds(z: float | None) -> Callable[[int], bool]:
        def pred(n: int) -> bool:
            got = at(n)
            if got is None:
                return False
            diff = got[0]
            bound = diff.mean if z is None else diff.low() if z < 0 else diff.high()
            return bound <= 0.0

        return pred

    n_hat = _smallest(holds(None), 0, max_steps)
    n_low = _smallest(holds(-Z95), 0, max_steps if n_hat is None else n_hat)
    n_high = None if n_hat is None else _smallest(holds(Z95), n_hat, max_steps)
    row: dict[str, Any] = {
        "option": path, "step": step, "value_before": value0,
        "steps": n_hat, "steps_ci95_low": n_low, "steps_ci95_high": n_high,
        "value_after": None if n_hat is None else _stepped(value0, step, n_hat),
        "restored": n_hat is not None,
        "hold_before": before.mean, "hold_before_ci95_low": before.low(),
        "hold_before_ci95_high": before.high(),
        "hold_attacked": attacked_hold.mean, "hold_attacked_ci95_low": attacked_hold.low(),
        "hold_attacked_ci95_high": attacked_hold.high(),
        "attacker_added_usd": attacker_added,
    }  # fmt: skip
    nan = math.nan
    if n_hat is None:
        note = f"not restored within {max_steps} steps"
        if limit_note:
            note = f"not restored before {limit_note}"
        row.update(hold_after=nan, hold_after_ci95_low=nan, hold_after_ci95_high=nan,
                   per_raid_usd=nan, per_raid_ci95_low=nan, per_raid_ci95_high=nan,
                   procurement_usd=nan, procurement_ci95_low=nan, procurement_ci95_high=nan,
                   note=note)  # fmt: skip
    else:
        _, cost, after, stock = at(n_hat)
        low_cost = min(cost.low(), at(n_low)[1].low()) if n_low is not None else cost.low()
        high_cost = max(cost.high(), at(n_high)[1].high()) if n_high is not None else math.inf
        buy = stock - stock_before
        buy_low = at(n_low)[3] - stock_before if n_low is not None else buy
        buy_high = at(n_high)[3] - stock_before if n_high is not None else math.inf
        note = ""
        if n_high is None:
            note = (f"the restored {hold} is not below its old value with 95 % confidence "
                    f"within {max_steps} steps: the upper bounds are open")  # fmt: skip
        row.update(hold_after=after.mean, hold_after_ci95_low=after.low(),
                   hold_after_ci95_high=after.high(),
                   per_raid_usd=cost.mean, per_raid_ci95_low=low_cost,
                   per_raid_ci95_high=high_cost, procurement_usd=buy,
                   procurement_ci95_low=min(buy, buy_low), procurement_ci95_high=max(buy, buy_high),
                   note=note)  # fmt: skip
    if ev.precision is not None:  # the trials of the restoring posture's evaluation
        row["trials"] = None if n_hat is None else at(n_hat)[2].n
    for basis in ("per_raid", "procurement"):
        scale = attacker_added if attacker_added > 0 else math.nan
        row[f"ratio_{basis}"] = row[f"{basis}_usd"] / scale
        row[f"ratio_{basis}_ci95_low"] = row[f"{basis}_ci95_low"] / scale
        row[f"ratio_{basis}_ci95_high"] = row[f"{basis}_ci95_high"] / scale
    return row


def _describe_margin(r: AnalysisResult) -> str:
    a = r.answer
    hold = a["hold"]
    unit = _unit_of(r.scenario, hold)
    lines = [
        f"Marginal cost-exchange in {r.scenario.name}: the attacker adds {a['add']} "
        f"{a['threat']} ({_usd(a['attacker_added_usd'])}); costs in "
        f"{r.dollar_year} dollars.",
        f"{hold} before: {_with_ci(a['hold_before'], unit)}; with the added threats and "
        f"no response: {_with_ci(a['hold_attacked'], unit)}, while the defense spends "
        f"{_with_ci(a['absorb_per_raid_usd'], 'USD')} more per raid firing at them.",
    ]
    for row in a["options"]:
        if not row["restored"]:
            lines.append(f"* {row['option']} (+{row['step']:g} a step): {row['note']}.")
            continue
        steps = _range_text(row["steps"], row["steps_ci95_low"], row["steps_ci95_high"])
        verb = "adds" if row["per_raid_usd"] >= 0 else "saves"
        lines.append(
            f"* {row['option']} (+{row['step']:g} a step): {steps} "
            f"{'step' if row['steps'] == 1 else 'steps'} ({row['option']} = "
            f"{row['value_after']:g}) bring {hold} back to {_fmt(row['hold_after'], unit)}; "
            f"the defender {verb} {_usd(abs(row['per_raid_usd']))} per raid "
            f"({_signed_range(row['per_raid_ci95_low'], row['per_raid_ci95_high'], verb)}), a "
            f"marginal ratio of {_ratio(row['ratio_per_raid'])} "
            f"({_ratio(row['ratio_per_raid_ci95_low'])} to "
            f"{_ratio(row['ratio_per_raid_ci95_high'])}); buying it costs "
            f"{_usd(row['procurement_usd'])}, {_ratio(row['ratio_procurement'])} times the "
            f"attacker's addition." + (f" Note: {row['note']}." if row.get("note") else "")
        )
    if a["cheapest_per_raid"] is None:
        lines.append(f"No option restores {hold} within its steps.")
    else:
        lines.append(
            f"Cheapest at the margin: {a['cheapest_per_raid']} per raid, "
            f"{a['cheapest_procurement']} to buy. A ratio below 1: the defense keeps pace "
            "for less than the attacker adds (cost imposed on the attacker); above 1: the "
            "attacker imposes cost on the defense; below 0: the response saves the defender "
            "more than it costs."
        )
    lines.append(_trials_line(r))
    return "\n".join(lines)


# -- 2. break-even --------------------------------------------------------------------------


def resolve_against(scenario: Scenario, against, what: str = "against"):
    """The posture to compare with: (Scenario, description, JSON inputs).

    ``against`` is a mapping of overrides applied to ``scenario`` (dotted path ->
    value), or another scenario (a Scenario, a path, a bundled name, or a mapping with a
    ``[scenario]`` table), converted to the scenario's dollar year.
    """
    year = scenario.scenario.dollar_year
    if isinstance(against, Mapping) and not isinstance(against.get("scenario"), Mapping):
        if not against:
            raise InputError(f"{what}: give the overrides (path -> value) or a scenario")
        other = with_values(scenario, dict(against), what)
        shown = ", ".join(f"{k} = {v!r}" for k, v in against.items())
        return other, f"the same scenario with {shown}", {"overrides": dict(against)}
    if isinstance(against, Scenario | Mapping | str | Path):
        try:
            other = load_scenario(against, dollar_year=year)
        except ScenarioError as err:
            raise InputError(f"{what}: {str(err).splitlines()[0]}") from None
        return other, f"scenario {other.name}", {"scenario_toml": other.to_toml()}
    raise InputError(
        f"{what}: a mapping of overrides (path -> value) or a scenario, not {against!r}"
    )


def break_even(
    scenario: ScenarioLike,
    vary: str,
    bounds: tuple[float, float],
    against: Against,
    measure: str | None = None,
    *,
    trials: int = DEFAULT_TRIALS,
    seed: int = 0,
    tol: float | None = None,
    grid_points: int = 5,
    backend: str = "local",
    scheduler: str | None = None,
    threads: int | None = None,
    precision: float | None = None,
    precision_measure: str | None = None,
) -> AnalysisResult:
    """The value of ``vary`` at which ``measure`` of the scenario equals that of
    ``against``: a stochastic root search on paired differences.

    d(x) = measure(scenario with vary = x) - measure(against), both simulated over the
    same trials with the same seed (common random numbers), so d has a paired 95 %
    interval. d is evaluated at ``grid_points`` values evenly spread over ``bounds``
    (whole numbers for a whole-number field); the first sign change of its estimate is
    narrowed by bisection to ``tol`` (default: a thousandth of the bounds' width; 1 for
    whole numbers) and the root read off by linear interpolation. Its 95 % interval is
    the set of values at which the paired interval of d contains 0 (the inverted test),
    found by bisection on the interval's two edges. With no sign change over the
    bounds, the answer says so (and whether an end's interval still contains 0).

    Parameters
    ----------
    scenario
        A Scenario, path, mapping or bundled name.
    vary
        The dotted path to vary (``effectors.helios.availability``).
    bounds
        (low, high), within the field's limits.
    against
        The other posture: a mapping of overrides applied to the scenario
        (``{"effectors.helios.units": 0}``) or another scenario.
    measure
        Default: the total cost (``total_cost_usd`` with a base, else the defense's
        total cost with capital, else ``defense_cost_usd``).

    precision, precision_measure
        As for :func:`marginal_exchange` (default measure: ``measure``).

    Returns
    -------
    AnalysisResult
        ``table``: every value evaluated; ``answer``: ``root``, ``root_ci95_low``,
        ``root_ci95_high``, ``crossing`` and a message.
    """
    started = time.perf_counter()
    seed = check_run(seed, backend, scheduler, threads)
    scenario = load_scenario(scenario)
    measure = check_measure(scenario, measure or default_cost_measure(scenario), "measure")
    _check_path(vary, "vary")
    target = _precision_target(scenario, precision, precision_measure, measure)
    trials = check_int("trials", trials, 2, 10**9)
    grid_points = check_int("grid_points", grid_points, 2, 1000)
    given = _as_list(bounds)
    if given is None or len(given) != 2:
        raise InputError(f"bounds: give (low, high), not {bounds!r}")
    bounds = given
    low, high = (_number(f"bounds[{i}]", b) for i, b in enumerate(bounds))
    if not low < high:
        raise InputError(f"bounds: low must be below high, got ({low:g}, {high:g})")
    current = value_at(scenario, vary)
    integer = _is_integer_field(current) or (
        current is None and all(_is_integer_field(b) for b in bounds)
    )
    if integer and (low != int(low) or high != int(high)):
        raise InputError(f"bounds: {vary} is a whole-number field; give whole-number bounds")
    if current is not None and (isinstance(current, bool) or not isinstance(current, int | float)):
        raise InputError(f"vary: {vary} is {current!r}, not a number")
    if current is None:  # an unknown item or field is the path's fault, not the bounds'
        _check_field(scenario, vary, _typed(low, integer), "vary")
    for value in (low, high):
        with_values(scenario, {vary: _typed(value, integer)}, "bounds")
    other, against_text, against_inputs = resolve_against(scenario, against)
    check_measure(other, measure, "measure (of against)")
    if tol is None:
        tol = 1.0 if integer else (high - low) / 1000
    tol = _number("tol", tol)
    if tol <= 0:
        raise InputError(f"tol must be above 0, not {tol:g}")
    tol = max(tol, 1.0) if integer else tol  # a whole-number value: to within 1

    points: dict[float, Scenario] = {}
    cache: dict[float, tuple[Estimate, Estimate]] = {}
    with Evaluator(seed, backend, scheduler, threads, precision=target, cap=trials) as ev:
        ev.mark_reference(other)

        def evaluate(xs: Iterable[float]) -> None:
            new = [x for x in dict.fromkeys(xs) if x not in cache]
            for x in new:
                points[x] = with_values(scenario, {vary: _typed(x, integer)}, "vary")
            joints = ev.joint([(points[x], other) for x in new], trials)
            for x, joint in zip(new, joints, strict=True):
                cache[x] = (paired(points[x], other, joint, measure),
                            estimate(points[x], own_part(joint), measure))  # fmt: skip

        def d(x: float) -> float:
            evaluate([x])
            return cache[x][0].mean

        grid = np.linspace(low, high, grid_points)
        if integer:
            grid = np.unique(np.round(grid))
        evaluate(float(x) for x in grid)
        other_est = estimate(other, reference_part(ev.joint([(points[low], other)], trials)[0]),
                             measure)  # fmt: skip
        xs = [float(x) for x in grid]
        signs = [np.sign(d(x)) for x in xs]
        changes = [i for i in range(len(xs) - 1) if signs[i] != signs[i + 1] and signs[i] != 0]
        zero_at = [x for x, s in zip(xs, signs, strict=True) if s == 0]
        nonzero = [v for v in signs if v != 0]
        crossings = sum(1 for u, v in itertools.pairwise(nonzero) if u != v)
        answer: dict[str, Any] = {
            "vary": vary, "bounds": [low, high], "measure": measure, "against": against_text,
            "integer": integer, "sign_changes": max(crossings, 1 if zero_at else 0),
            "other_measure": [other_est.mean, *other_est.ci95],
        }  # fmt: skip
        identical = len(zero_at) == len(xs)  # no difference anywhere: nothing to find
        answer["identical"] = identical
        if identical:
            a = b = None
        elif zero_at and (not changes or zero_at[0] <= xs[changes[0]]):
            a = b = zero_at[0]
        elif changes:
            a, b = xs[changes[0]], xs[changes[0] + 1]
        else:
            a = b = None
        if a is None:
            answer.update(crossing=False, root=None, root_ci95_low=None, root_ci95_high=None,
                          open_low=False, open_high=False)  # fmt: skip
        else:
            # g = sign x d rises through the root; at an exact zero, the nearest nonzero
            # values on either side say which way d goes.
            after = [d(x) for x in xs if x > b and d(x) != 0]
            before = [d(x) for x in xs if x < a and d(x) != 0]
            if a != b:
                sign = 1.0 if d(b) >= d(a) else -1.0
            elif after:
                sign = 1.0 if after[0] > 0 else -1.0
            else:
                sign = 1.0 if before and before[-1] < 0 else -1.0
            a, b = _bisect(lambda x: sign * d(x), a, b, tol, integer)
            root = _interpolate(lambda x: sign * d(x), a, b)

            # The root's interval: where the paired interval of d contains 0. Its left
            # edge is where g + z se turns non-negative, its right edge where g - z se
            # turns positive.
            def upper(x: float) -> float:  # the upper end of g's 95 % interval
                d(x)
                low, high = cache[x][0].ci95
                return high if sign > 0 else -low

            def lower(x: float) -> float:  # its lower end
                d(x)
                low, high = cache[x][0].ci95
                return low if sign > 0 else -high

            left = [x for x in sorted(cache) if x <= a and upper(x) < 0]
            if left:
                x0 = left[-1]
                x1 = min(x for x in cache if x > x0 and upper(x) >= 0)
                c0, c1 = _bisect(upper, x0, x1, tol, integer)
                ci_low, open_low = _interpolate(upper, c0, c1), False
            else:
                ci_low, open_low = low, True
            right = [x for x in sorted(cache) if x >= b and lower(x) > 0]
            if right:
                x1 = right[0]
                x0 = max(x for x in cache if x < x1 and lower(x) <= 0)
                c0, c1 = _bisect(lower, x0, x1, tol, integer)
                ci_high, open_high = _interpolate(lower, c0, c1), False
            else:
                ci_high, open_high = high, True
            answer.update(crossing=True, root=root, root_ci95_low=min(ci_low, root),
                          root_ci95_high=max(ci_high, root), open_low=open_low,
                          open_high=open_high,
                          below=("lower" if sign > 0 else "higher"))  # fmt: skip
        simulated = ev.trials_simulated
    rows = []
    for x in sorted(cache):
        diff, own = cache[x]
        rows.append({
            "value": x, "measure": own.mean, "measure_ci95_low": own.low(),
            "measure_ci95_high": own.high(), "against": other_est.mean,
            "against_ci95_low": other_est.low(), "against_ci95_high": other_est.high(),
            "diff": diff.mean, "diff_ci95_low": diff.low(), "diff_ci95_high": diff.high(),
            **({} if target is None else {"trials": own.n}),  # run to a precision: its own
        })  # fmt: skip
    table = pd.DataFrame(rows)
    first, last = cache[min(cache)][0], cache[max(cache)][0]
    answer["diff_at_bounds"] = [[first.mean, *first.ci95], [last.mean, *last.ci95]]
    inputs = {"vary": vary, "bounds": [low, high], "against": against_inputs, "measure": measure,
              "tol": tol, "grid_points": grid_points,
              **_common_inputs(trials, seed, backend, target)}  # fmt: skip
    return AnalysisResult("break_even", scenario, inputs, _jsonable(answer), table, seed, trials,
                          simulated, time.perf_counter() - started)  # fmt: skip


def _typed(x: float, integer: bool):
    return round(x) if integer else float(x)


def _bisect(g: Callable[[float], float], a: float, b: float, tol: float, integer: bool):
    """Narrow [a, b], with g(a) < 0 <= g(b) (g rising through 0), to width ``tol``."""
    if a == b:
        return a, b
    while b - a > tol:
        mid = math.floor((a + b) / 2) if integer else (a + b) / 2
        if mid in (a, b):
            break
        if g(mid) < 0:
            a = mid
        else:
            b = mid
    return a, b


def _interpolate(g: Callable[[float], float], a: float, b: float) -> float:
    """Where the line through (a, g(a)) and (b, g(b)) crosses 0 (clamped to [a, b])."""
    ga, gb = g(a), g(b)
    if a == b or ga == gb:
        return a if ga >= 0 else b
    return float(min(max(a + (b - a) * (0 - ga) / (gb - ga), a), b))


def _signed_range(low: float, high: float, verb: str) -> str:
    """An interval of a cost change as amounts added (or, for "saves", saved)."""
    if verb == "saves":
        low, high = -high, -low
    return f"{_usd(low)} to {_usd(high)}"


def _describe_break_even(r: AnalysisResult) -> str:
    a = r.answer
    m = a["measure"]
    unit = _unit_of(r.scenario, m)
    lo, hi = a["bounds"]
    head = (
        f"Break-even of {a['vary']} in {r.scenario.name} over [{lo:g}, {hi:g}]: {m} against "
        f"{a['against']} ({_with_ci(a['other_measure'], unit)}); costs in {r.dollar_year} "
        "dollars."
    )
    (d_lo, *ci_lo), (d_hi, *ci_hi) = a["diff_at_bounds"]
    if a.get("identical"):
        text = (
            f"No difference anywhere in the bounds: {m} of the scenario equals that of the "
            f"other posture at every value tried ({a['vary']} does not change it here)."
        )
        return "\n".join([head, text, _trials_line(r)])
    if not a["crossing"]:
        side = "above" if (d_lo or 0) > 0 else "below"
        text = (
            f"No crossing in the bounds: {m} of the scenario stays {side} that of the other "
            f"posture, by {_fmt(abs(d_lo), unit)} at {lo:g} and {_fmt(abs(d_hi), unit)} at "
            f"{hi:g}."
        )
        ends = [f"{x:g}" for x, (cl, ch) in ((lo, ci_lo), (hi, ci_hi))
                if cl is not None and ch is not None and cl <= 0 <= ch]  # fmt: skip
        if ends:
            text += (f" The paired 95 % interval at {' and '.join(ends)} still contains 0: "
                     "a crossing at or just beyond that bound cannot be ruled out.")  # fmt: skip
        return "\n".join([head, text, _trials_line(r)])
    low = ("at or below " if a["open_low"] else "") + f"{a['root_ci95_low']:.4g}"
    high = f"{a['root_ci95_high']:.4g}" + (" or above" if a["open_high"] else "")
    below = a.get("below", "lower")
    other_side = "higher" if below == "lower" else "lower"
    text = (
        f"Break-even at {a['vary']} = {a['root']:.4g} (95 % interval {low} to {high}): below "
        f"it {m} of the scenario is {below} than that of the other posture, above it "
        f"{other_side}."
    )
    lines = [head, text]
    if a["sign_changes"] > 1:
        lines.append(f"The difference changes sign {a['sign_changes']} times over the "
                     "bounds; the first crossing is reported (see the table).")  # fmt: skip
    lines.append(_trials_line(r))
    return "\n".join(lines)


# -- 3 and 4. screening a finite set: cheapest posture, worst raid -------------------------


@dataclasses.dataclass(frozen=True)
class Requirement:
    """``measure <= bound`` (or ``>=``), to be met with 95 % confidence."""

    measure: str
    op: str
    bound: float

    def met(self, e: Estimate, z: float) -> bool:
        """Met with the one-sided confidence of ``z``."""
        return e.high(z) <= self.bound if self.op == "<=" else e.low(z) >= self.bound

    def violated(self, e: Estimate, z: float) -> bool:
        """Violated with the one-sided confidence of ``z``."""
        return e.low(z) > self.bound if self.op == "<=" else e.high(z) < self.bound

    def edge(self, e: Estimate, z: float) -> float:
        """The bound of the one-sided interval that must satisfy the requirement."""
        return e.high(z) if self.op == "<=" else e.low(z)

    def shortfall(self, edge: float) -> float:
        """How far a one-sided bound (``edge``) misses, relative to the bound (0: met)."""
        miss = edge - self.bound if self.op == "<=" else self.bound - edge
        return max(miss, 0.0) / max(abs(self.bound), 1e-12)

    def text(self) -> str:
        return f"{self.measure} {self.op} {self.bound:g}"


def parse_requirements(scenario: Scenario, require) -> list[Requirement]:
    """``{measure: bound}`` (at most) or ``{measure: ">= 3"}`` / ``"<= 0.5"``."""
    if not isinstance(require, Mapping) or not require:
        raise InputError("require: give at least one requirement, e.g. {'leakers': 0.5}")
    out = []
    for name, bound in require.items():
        check_measure(scenario, name, "require")
        op = "<="
        if isinstance(bound, str):
            text = bound.strip()
            op, rest = text[:2], text[2:]
            if op not in ("<=", ">="):
                raise InputError(f"require[{name!r}]: a number (at most) or '<= X' / '>= X', "
                                 f"not {bound!r}")  # fmt: skip
            try:
                bound = float(rest)
            except ValueError:
                raise InputError(f"require[{name!r}]: {rest.strip()!r} is not a number") from None
        out.append(Requirement(name, op, _number(f"require[{name!r}]", bound)))
    return out


def _stages(screen_trials: int, trials: int) -> list[int]:
    """Trials of each screening stage (``screen_trials``, four times more each stage),
    then ``trials`` to confirm."""
    stages, n = [], screen_trials
    while n < trials:
        stages.append(n)
        n *= SCREEN_GROWTH
    return [*stages, trials]


def _screen(ev: Evaluator, points: list[Scenario], objective: str, sense: float,
            requirements: list[Requirement], trials: int, screen_trials: int,
            top: int) -> list[dict]:  # fmt: skip
    """Find the best ``top`` points (least ``sense x objective``) that meet every
    requirement with 95 % confidence, without simulating every point in full.

    Stage by stage (``_stages``), the live points are simulated to the stage's trials
    (reusing the trials of the stage before) and pruned with a one-sided 99.9 % margin
    (``Z_SCREEN``): a point that violates a requirement with that confidence is out; so
    is one whose objective is worse, with that confidence, than that of ``top`` points
    that meet every requirement with it. Survivors are confirmed at ``trials``: feasible
    when every requirement is met with 95 % one-sided confidence, ranked by the
    objective's mean. A point pruned for its cost is taken back (and simulated in full)
    if any point that pruned it turns out not to be feasible, so that pruning can only
    remove a point that the full run would also have ranked below ``top`` others.
    """
    n = len(points)
    names = list(dict.fromkeys([objective, *(r.measure for r in requirements)]))
    est: dict[int, dict[str, Estimate]] = {}
    status: dict[int, dict] = {}
    pruned_by: dict[int, set[int]] = {}

    def run(indices: list[int], trials_n: int) -> None:
        for i, m in zip(indices, ev.own([points[i] for i in indices], trials_n), strict=True):
            est[i] = {name: estimate(points[i], m, name) for name in names}

    def key(i: int, z: float = 0.0) -> float:
        """The objective in "less is better" terms; with ``z``, its one-sided bound on the
        upper (z > 0) or lower (z < 0) side at that level."""
        e = est[i][objective]
        if z == 0.0:
            return sense * e.mean
        low, high = e.bounds(abs(z))
        upper, lower = (high, low) if sense > 0 else (-low, -high)
        return upper if z > 0 else lower

    meeting = " that clearly meet the requirements" if requirements else ""
    alive = list(range(n))
    stages = _stages(screen_trials, trials)
    if ev.precision is not None:
        # Run to a precision, the survivors are confirmed from the first check on: stages
        # past it would simulate trials the confirmation does not read (a point that meets
        # the target at 10,000 trials stops there), up to the cap.
        stages = [s for s in stages[:-1] if s < PRECISION_FIRST_CHECK] + [trials]
    for stage in stages:
        run(alive, stage)
        if stage == trials:
            break
        for i in alive:
            bad = [r for r in requirements if r.violated(est[i][r.measure], Z_SCREEN)]
            if bad:
                status[i] = {"status": "screened out", "decided_at": stage, "reason": (
                    "infeasible: " + "; ".join(_violation(r, est[i][r.measure], Z_SCREEN,
                                                          "99.9 %") for r in bad)
                    + f" after {stage:,} trials")}  # fmt: skip
        alive = [i for i in alive if i not in status]
        sure = [j for j in alive
                if all(r.met(est[j][r.measure], Z_SCREEN) for r in requirements)]  # fmt: skip
        if len(sure) >= top:
            best = sorted(sure, key=lambda j: (key(j, Z_SCREEN), j))[:top]
            threshold = key(best[-1], Z_SCREEN)
            for i in alive:
                if i not in best and key(i, -Z_SCREEN) > threshold:
                    e = est[i][objective]
                    status[i] = {"status": "screened out", "decided_at": stage, "reason": (
                        f"{objective} {_fmt(e.mean, '')} is {'above' if sense > 0 else 'below'}"
                        f" that of {top} point(s){meeting} (points "
                        f"{', '.join(map(str, best))}) with 99.9 % confidence after "
                        f"{stage:,} trials")}  # fmt: skip
                    pruned_by[i] = set(best)
            alive = [i for i in alive if i not in status]
    confirmed = set(alive)
    while True:
        feasible = {
            i
            for i in confirmed
            if all(r.met(est[i][r.measure], Z95_ONE_SIDED) for r in requirements)
        }
        back = [i for i, by in pruned_by.items() if not by <= feasible]  # fmt: skip
        if not back:
            break
        for i in back:
            del pruned_by[i], status[i]
        run(back, trials)
        confirmed.update(back)
    ranking = sorted(feasible, key=lambda i: (key(i), i))
    rows = []
    for i in range(n):
        row: dict[str, Any] = {"point": i, "trials": est[i][objective].n}
        for name in names:
            e = est[i][name]
            row.update({name: e.mean, f"{name}_ci95_low": e.low(), f"{name}_ci95_high": e.high()})
        if i in status:
            row.update(status[i], rank=None)
        elif i in feasible:
            rank = ranking.index(i) + 1
            row.update(rank=rank, decided_at=trials, reason="meets every requirement" if
                       requirements else "")  # fmt: skip
            row["status"] = "best" if rank == 1 else "runner-up" if rank <= top else "feasible"
            if rank > top:
                row["reason"] = f"ranks {rank} by {objective}"
        else:
            bad = [r for r in requirements if not r.met(est[i][r.measure], Z95_ONE_SIDED)]
            row.update(status="infeasible", decided_at=trials, rank=None, reason=(
                "; ".join(_violation(r, est[i][r.measure], Z95_ONE_SIDED, "95 %", met=False)
                          for r in bad)))  # fmt: skip
        for r in requirements:
            row[f"{r.measure}_one_sided_95"] = r.edge(est[i][r.measure], Z95_ONE_SIDED)
        rows.append(row)
    if ranking:  # paired differences to the best, over the same trials
        best = ranking[0]
        others = ranking[1:top]
        for i, joint in zip(others, ev.joint([(points[i], points[best]) for i in others],
                                             trials), strict=True):  # fmt: skip
            diff = paired(points[i], points[best], joint, objective)
            rows[i].update(diff_vs_best=diff.mean, diff_vs_best_ci95_low=diff.low(),
                           diff_vs_best_ci95_high=diff.high())  # fmt: skip
        rows[best].update(diff_vs_best=0.0, diff_vs_best_ci95_low=0.0, diff_vs_best_ci95_high=0.0)
    return rows


def _violation(r: Requirement, e: Estimate, z: float, level: str, met: bool = True) -> str:
    edge = r.edge(e, z)
    side = "at least" if r.op == "<=" else "at most"
    if met:  # violated with the confidence of z
        return (f"{r.measure} {_fmt(e.mean, '')} ({side} {_fmt(edge, '')} with {level} "
                f"confidence) misses {r.text()}")  # fmt: skip
    return (f"{r.measure} {_fmt(e.mean, '')}: not {r.text()} with {level} confidence "
            f"(one-sided bound {_fmt(edge, '')})")  # fmt: skip


def _value_lists(choices, what: str, values_of: str = "values") -> dict[str, list]:
    """``choices`` (path -> candidate values: a list, tuple, range, 1-D numpy array or
    pandas Series) as a dict of plain lists, or one InputError naming ``what``."""
    if isinstance(choices, pd.DataFrame):  # not a Mapping: said, not "give a path"
        raise InputError(
            f"{what}: got a DataFrame; give a mapping of path to a list of {values_of} "
            f"(every combination is taken), e.g. {{c: df[c].dropna().unique() for c in df}}"
        )
    if not isinstance(choices, Mapping) or not choices:
        raise InputError(f"{what}: give at least one path with a list of {values_of}")
    out = {}
    for path, values in choices.items():
        given = _as_list(values)
        if not given:
            raise InputError(f"{what}[{path!r}]: expected a non-empty list of {values_of}, "
                             f"got {values!r}")  # fmt: skip
        out[path] = given
    return out


def _design_points(scenario: Scenario, choices, what: str) -> tuple[list[dict], list[str]]:
    choices = _value_lists(choices, what)
    for path in choices:
        _check_path(path, f"{what}[{path!r}]")
    size = math.prod(len(v) for v in choices.values())
    if size > MAX_POINTS:
        raise InputError(f"{what}: {size:,} combinations; at most {MAX_POINTS:,}")
    paths = list(choices)
    combos = itertools.product(*choices.values())
    points = [dict(zip(paths, combo, strict=True)) for combo in combos]
    return points, paths


def _selection_table(rows: list[dict], labels: list[dict]) -> pd.DataFrame:
    table = pd.DataFrame([{**label, **row} for label, row in zip(labels, rows, strict=True)])
    first = ["point", *labels[0], "status", "rank", "reason", "trials", "decided_at"]
    return table[[*first, *[c for c in table.columns if c not in first]]]


def cheapest(
    scenario: ScenarioLike,
    choices: Mapping[str, Sequence[Any]],
    require: Mapping[str, Any],
    minimize: str | None = None,
    *,
    trials: int = DEFAULT_TRIALS,
    seed: int = 0,
    screen_trials: int = DEFAULT_SCREEN_TRIALS,
    top: int = 3,
    backend: str = "local",
    scheduler: str | None = None,
    threads: int | None = None,
    precision: float | None = None,
    precision_measure: str | None = None,
) -> AnalysisResult:
    """The least-cost posture of a discrete design space that meets every requirement
    with 95 % confidence.

    ``choices`` maps dotted paths to candidate values (their Cartesian product is the
    design space); ``require`` maps measures to bounds (a number: at most; ``">= 3"``:
    at least). Every point is screened with ``screen_trials`` trials and pruned with a
    99.9 % margin (clearly infeasible, or clearly costlier than ``top`` points that
    clearly meet every requirement); survivors get four times the trials per stage and
    are confirmed with ``trials`` (see ``_screen``). A requirement is met when its
    one-sided 95 % bound is (the two-sided 97.5 % bound, i.e. ``mean + 1.645 se`` for
    "at most"). The winner has the least mean of ``minimize`` among confirmed points;
    runners-up get paired differences to it.

    precision, precision_measure
        As for :func:`marginal_exchange` (default measure: ``minimize``).

    Returns
    -------
    AnalysisResult
        ``table``: every point with its status (best, runner-up, feasible, infeasible,
        screened out), the reason and the trials it got; ``answer``: the winner.
    """
    started = time.perf_counter()
    seed = check_run(seed, backend, scheduler, threads)
    scenario = load_scenario(scenario)
    minimize = check_measure(scenario, minimize or default_cost_measure(scenario), "minimize")
    target = _precision_target(scenario, precision, precision_measure, minimize)
    requirements = parse_requirements(scenario, require)
    trials = check_int("trials", trials, 2, 10**9)
    screen_trials = check_int("screen_trials", screen_trials, 2, 10**9)
    top = check_int("top", top, 1, 100)
    choices = _value_lists(choices, "choices")
    labels, paths = _design_points(scenario, choices, "choices")
    points = [with_values(scenario, label, f"choices ({_label_text(label)})") for label in labels]
    with Evaluator(seed, backend, scheduler, threads, precision=target, cap=trials) as ev:
        rows = _screen(ev, points, minimize, 1.0, requirements, trials,
                       min(screen_trials, trials), top)  # fmt: skip
        simulated = ev.trials_simulated
    table = _selection_table(rows, labels)
    best = table[table["status"] == "best"]
    answer: dict[str, Any] = {
        "minimize": minimize, "requirements": [r.text() for r in requirements],
        "points": len(points), "confirmed": int((table["decided_at"] == trials).sum()),
        "screened_out": int((table["status"] == "screened out").sum()),
    }  # fmt: skip
    if len(best):
        row = best.iloc[0]
        answer.update(found=True, point=int(row["point"]),
                      values={p: _jsonable(row[p]) for p in paths},
                      objective=[row[minimize], row[f"{minimize}_ci95_low"],
                                 row[f"{minimize}_ci95_high"]],
                      runners_up=[int(p) for p in table[table["status"] == "runner-up"]
                                  .sort_values("rank")["point"]])  # fmt: skip
    else:
        evaluated = table[table["decided_at"] == table["decided_at"].max()]
        misses = [
            sum(r.shortfall(row[f"{r.measure}_one_sided_95"]) for r in requirements)
            for _, row in evaluated.iterrows()
        ]
        closest = evaluated.iloc[int(np.argmin(misses))]
        answer.update(found=False, closest_point=int(closest["point"]),
                      closest_values={p: _jsonable(closest[p]) for p in paths},
                      closest_reason=str(closest["reason"]))  # fmt: skip
    inputs = {"choices": {p: list(v) for p, v in choices.items()},
              "require": {r.measure: f"{r.op} {r.bound!r}" for r in requirements},
              "minimize": minimize, "screen_trials": screen_trials, "top": top,
              **_common_inputs(trials, seed, backend, target)}  # fmt: skip
    return AnalysisResult("cheapest", scenario, inputs, _jsonable(answer), table, seed, trials,
                          simulated, time.perf_counter() - started)  # fmt: skip


def _label_text(label: Mapping[str, Any]) -> str:
    def text(v) -> str:  # nan as nan (JSON would make it None)
        return repr(float(v)) if isinstance(v, float) and not math.isfinite(v) else (
            repr(_jsonable(v)))  # fmt: skip

    return ", ".join(f"{k} = {text(v)}" for k, v in label.items())


def _describe_cheapest(r: AnalysisResult) -> str:
    a = r.answer
    m = a["minimize"]
    unit = _unit_of(r.scenario, m)
    lines = [
        f"Cheapest posture of {r.scenario.name} by {m} over {a['points']} points meeting "
        f"{' and '.join(a['requirements'])} with 95 % confidence; costs in {r.dollar_year} "
        f"dollars. {a['screened_out']} points were screened out with few trials, "
        f"{a['confirmed']} confirmed with "
        + (f"{r.trials:,}." if r.inputs.get("precision") is None else "the trials below."),
    ]
    t = r.table
    if a["found"]:
        lines.append(f"Best: point {a['point']} ({_label_text(a['values'])}): {m} "
                     f"{_with_ci(a['objective'], unit)}.")  # fmt: skip
        for p in a["runners_up"]:
            row = t[t["point"] == p].iloc[0]
            labels = {c: row[c] for c in a["values"]}
            lines.append(
                f"Runner-up: point {p} ({_label_text(labels)}): {m} {_fmt(row[m], unit)}, "
                f"{_fmt(row['diff_vs_best'], unit)} more than the best (paired 95 % interval "
                f"{_fmt(row['diff_vs_best_ci95_low'], unit)} to "
                f"{_fmt(row['diff_vs_best_ci95_high'], unit)})."
            )
    else:
        lines.append(
            f"No posture meets every requirement with 95 % confidence. Closest: point "
            f"{a['closest_point']} ({_label_text(a['closest_values'])}): "
            f"{a['closest_reason']}."
        )
    lines.append(_trials_line(r))
    return "\n".join(lines)


def worst_raid(
    scenario: ScenarioLike,
    budget_usd: float,
    mix: Mapping[str, Sequence[int]],
    maximize: str | None = None,
    *,
    trials: int = DEFAULT_TRIALS,
    seed: int = 0,
    screen_trials: int = DEFAULT_SCREEN_TRIALS,
    top: int = 5,
    backend: str = "local",
    scheduler: str | None = None,
    threads: int | None = None,
    precision: float | None = None,
    precision_measure: str | None = None,
) -> AnalysisResult:
    """The raid mix within an attack budget that does the defender the most harm.

    ``mix`` maps threat groups to candidate counts; every combination whose raid
    (those counts, plus the groups the mix leaves as they are) costs at most
    ``budget_usd`` is a candidate. The candidates are screened, pruned and confirmed as
    in :func:`cheapest` (no requirements), maximizing ``maximize`` (default: the total
    cost, as in :func:`break_even`; ``damage_usd`` or ``leakers`` are other choices).

    precision, precision_measure
        As for :func:`marginal_exchange` (default measure: ``maximize``).

    Returns
    -------
    AnalysisResult
        ``table``: every affordable mix with its status (best: the worst raid for the
        defender, runner-up, ..., screened out); ``answer``: the top mixes.
    """
    started = time.perf_counter()
    seed = check_run(seed, backend, scheduler, threads)
    scenario = load_scenario(scenario)
    maximize = check_measure(scenario, maximize or default_cost_measure(scenario), "maximize")
    target = _precision_target(scenario, precision, precision_measure, maximize)
    budget = _number("budget_usd", budget_usd)
    trials = check_int("trials", trials, 2, 10**9)
    screen_trials = check_int("screen_trials", screen_trials, 2, 10**9)
    top = check_int("top", top, 1, 100)
    if not isinstance(mix, Mapping) or not mix:
        raise InputError("mix: give at least one threat group with a list of counts")
    groups = {t.name: t for t in scenario.threats}
    for name in mix:
        if name not in groups:
            close = difflib.get_close_matches(str(name), list(groups), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise InputError(f"mix: no threat group {name!r} in {scenario.name}{hint} "
                             f"(groups: {', '.join(groups)})")  # fmt: skip
    mix = _value_lists(mix, "mix", "counts")
    for name, counts in mix.items():
        for c in counts:
            check_int(f"mix[{name!r}] counts", c, 0, 2**24 - 1)
    campaign = scenario.campaign
    if campaign is not None and not isinstance(campaign.salvos, int):
        raise InputError("mix: the campaign lists per-salvo counts; give it a number of "
                         "salvos to vary the raid's counts")  # fmt: skip
    salvos = 1 if campaign is None else campaign.salvos
    cheapest_threat = min(mix, key=lambda g: groups[g].unit_cost_usd)
    one = groups[cheapest_threat].unit_cost_usd * salvos
    if budget < one:
        raise InputError(
            f"budget_usd: {_usd(budget)} is below the cost of one threat (the cheapest of the "
            f"mix, {cheapest_threat}, costs {_usd(one)}"
            + (f" over {salvos} salvos" if salvos > 1 else "")
            + ")"
        )
    fixed = sum(t.count * t.unit_cost_usd for t in scenario.threats if t.name not in mix) * salvos
    labels, _ = _design_points(scenario, {f"threats.{g}.count": list(c) for g, c in mix.items()},
                               "mix")  # fmt: skip
    costs = [fixed + salvos * sum(groups[p.split(".")[1]].unit_cost_usd * v
                                  for p, v in label.items()) for label in labels]  # fmt: skip
    within = [i for i, c in enumerate(costs) if c <= budget * (1 + 1e-12)]
    if not within:
        raise InputError(
            f"budget_usd: no mix within the budget of {_usd(budget)}: the cheapest mix costs "
            f"{_usd(min(costs))}"
            + (f" (the groups outside the mix alone cost {_usd(fixed)})" if fixed else "")
        )
    labels = [labels[i] for i in within]
    points = [with_values(scenario, label, f"mix ({_label_text(label)})") for label in labels]
    with Evaluator(seed, backend, scheduler, threads, precision=target, cap=trials) as ev:
        rows = _screen(ev, points, maximize, -1.0, [], trials, min(screen_trials, trials), top)
        simulated = ev.trials_simulated
    short = [{p.split(".")[1]: v for p, v in label.items()} for label in labels]
    for row, s in zip(rows, points, strict=True):
        row["attack_cost_usd_raid"] = s.attack_cost_usd
    table = _selection_table(rows, short)
    ranked = table[table["rank"].notna()].sort_values("rank").head(top)
    answer = {
        "maximize": maximize, "budget_usd": budget, "mixes": len(points),
        "over_budget": len(costs) - len(within),
        "screened_out": int((table["status"] == "screened out").sum()),
        "top": [{"point": int(row["point"]), "mix": {g: int(row[g]) for g in mix},
                 "attack_cost_usd": row["attack_cost_usd_raid"],
                 "value": [row[maximize], row[f"{maximize}_ci95_low"],
                           row[f"{maximize}_ci95_high"]],
                 "diff_vs_best": [row.get("diff_vs_best"), row.get("diff_vs_best_ci95_low"),
                                  row.get("diff_vs_best_ci95_high")]}
                for _, row in ranked.iterrows()],
    }  # fmt: skip
    inputs = {"budget_usd": budget, "mix": {g: list(c) for g, c in mix.items()},
              "maximize": maximize, "screen_trials": screen_trials, "top": top,
              **_common_inputs(trials, seed, backend, target)}  # fmt: skip
    return AnalysisResult("worst_raid", scenario, inputs, _jsonable(answer), table, seed, trials,
                          simulated, time.perf_counter() - started)  # fmt: skip


def _describe_worst_raid(r: AnalysisResult) -> str:
    a = r.answer
    m = a["maximize"]
    unit = _unit_of(r.scenario, m)
    lines = [
        f"Worst raid for {r.scenario.name} by {m} within an attack budget of "
        f"{_usd(a['budget_usd'])}: {a['mixes']} affordable mixes ({a['over_budget']} over "
        f"budget), {a['screened_out']} screened out with few trials; costs in "
        f"{r.dollar_year} dollars.",
    ]
    for k, entry in enumerate(a["top"], start=1):
        mix = ", ".join(f"{v} {g}" for g, v in entry["mix"].items())
        text = (f"{k}. {mix} (costs {_usd(entry['attack_cost_usd'])}): {m} "
                f"{_with_ci(entry['value'], unit)}")  # fmt: skip
        diff = entry["diff_vs_best"]
        if k > 1 and diff[0] is not None:
            text += (f", {_fmt(-diff[0], unit)} less than the worst (paired 95 % interval "
                     f"{_fmt(-diff[2], unit)} to {_fmt(-diff[1], unit)})")  # fmt: skip
        lines.append(text + ".")
    lines.append(_trials_line(r))
    return "\n".join(lines)


# -- 5. sensitivity -------------------------------------------------------------------------


def assumption_ranges(scenario: Scenario) -> list[dict]:
    """Every assumed input of the scenario with its plausible range, where one is known.

    One entry per field path of ``Scenario.assumptions()`` that holds a number: its
    current value, and ``low``/``high`` with their ``range_rationale`` from the catalog
    figure it came from (converted to the scenario's dollar year like the figure), or
    None when no range is recorded (values the scenario file itself declares as
    assumptions: give their ranges with ``sensitivity(..., ranges=...)``).
    """
    provenance = scenario.provenance
    data = scenario.to_dict()
    out: dict[str, dict] = {}
    for path, _value, rationale in scenario.assumptions():
        value = _lookup(data, path)
        if path in out or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        record = provenance.get(path, {})
        if not record.get("assumption") and path not in scenario.scenario.assumptions:
            continue  # only its conversion to the run's dollar year is assumed
        low, high = record.get("low"), record.get("high")
        if record.get("assumption") and low is not None and high is not None:
            factor = _range_factor(record, path, scenario.scenario.dollar_year)
            if factor != 1.0:
                low, high = low * factor, high * factor
            if _is_integer_field(value):
                low, high = round(low), round(high)
            out[path] = {"path": path, "value": value, "low": low, "high": high,
                         "rationale": rationale,
                         "range_rationale": record.get("range_rationale", ""),
                         "source": f"catalog {record.get('entry', '')}".strip()}  # fmt: skip
        else:
            out[path] = {
                "path": path,
                "value": value,
                "low": None,
                "high": None,
                "rationale": rationale,
                "range_rationale": "",
                "source": "scenario",
            }
    return list(out.values())


def _range_factor(record: dict, path: str, year: int | None) -> float:
    """The factor that brings a catalog cost's range to the run's dollar year: the one
    its value was converted with, else (a value of 0 is never converted) the price
    index's from the figure's dollar year, as ``catalog.to_dollar_year`` computes it."""

    if "converted" in record:
        return float(record["converted"]["factor"])
    source = record.get("dollar_year")
    if path.rsplit(".", 1)[-1] not in COST_FIELDS or source is None or year is None:
        return 1.0
    index = load_catalog().price_index
    last = max(index)
    return index[min(int(year), last)] / index[min(int(source), last)]


def sensitivity(
    scenario: ScenarioLike,
    measure: str | None = None,
    ranges: Mapping[str, tuple[float, float]] | None = None,
    *,
    against: Against | None = None,
    catalog_ranges: bool = True,
    trials: int = DEFAULT_TRIALS,
    seed: int = 0,
    backend: str = "local",
    scheduler: str | None = None,
    threads: int | None = None,
    precision: float | None = None,
    precision_measure: str | None = None,
) -> AnalysisResult:
    """One-at-a-time sensitivity (a tornado): how far ``measure`` moves as each assumed
    input goes from the low to the high end of its plausible range.

    The inputs are the scenario's assumptions (``Scenario.assumptions()``) whose ranges
    the catalog records (``low``, ``high`` and ``range_rationale`` of each assumed
    figure, docs/catalog.md), plus or overridden by ``ranges`` (dotted path ->
    (low, high)); ``catalog_ranges=False`` takes ``ranges`` only. Each end is simulated
    with the others at their values, paired with the scenario as it is (common random
    numbers), so each change has a paired 95 % interval; the table is sorted by swing
    (|measure at high - measure at low|), the biggest first.

    With ``against`` (overrides or another scenario, as in :func:`break_even`) the
    quantity is the difference measure(scenario) - measure(against), both taken at the
    input's value (when the other posture has that field), and an input *decides* the
    comparison when the difference changes sign within its range.

    A variance-based (Sobol) analysis is not offered: it needs thousands of model runs
    per input, each here a Monte Carlo simulation whose own noise would swamp the
    indices of the weaker inputs (docs/model.md says more).

    ``precision`` and ``precision_measure`` (default: ``measure``): as for
    :func:`marginal_exchange`.
    """
    started = time.perf_counter()
    seed = check_run(seed, backend, scheduler, threads)
    scenario = load_scenario(scenario)
    measure = check_measure(scenario, measure or default_cost_measure(scenario), "measure")
    target = _precision_target(scenario, precision, precision_measure, measure)
    trials = check_int("trials", trials, 2, 10**9)
    catalog_ranges = check_flag("catalog_ranges", catalog_ranges)
    if ranges is None:
        ranges = {}
    if not isinstance(ranges, Mapping):
        raise InputError(
            "ranges must be a mapping of dotted path -> (low, high), e.g. "
            f"{{'costing.raids_per_year': (1, 52)}}, not {ranges!r}"
        )
    checked: dict[str, list] = {}
    for path, given in ranges.items():
        what = f"ranges[{path!r}]"
        _check_path(path, what)
        bounds = _as_list(given)
        if bounds is None or len(bounds) != 2:
            raise InputError(f"{what}: give (low, high), not {given!r}")
        checked[path] = bounds
    ranges = checked
    entries = {e["path"]: e for e in assumption_ranges(scenario)} if catalog_ranges else {}
    for path, bounds in ranges.items():
        what = f"ranges[{path!r}]"
        low, high = (_number(what, b) for b in bounds)
        if not low < high:
            raise InputError(f"{what}: low must be below high, got ({low:g}, {high:g})")
        value = value_at(scenario, path)
        if value is None:
            with_values(scenario, {path: bounds[0]}, what)
            raise InputError(f"{what}: {path} has no value in {scenario.name}")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(f"{what}: {path} is {value!r}, not a number")
        if _is_integer_field(value):
            if low != int(low) or high != int(high):
                raise InputError(f"{what}: {path} is a whole-number field; give whole numbers")
            low, high = int(low), int(high)
        for end in (low, high):
            with_values(scenario, {path: end}, what)
        previous = entries.get(path, {})
        entries[path] = {
            "path": path,
            "value": value,
            "low": low,
            "high": high,
            "rationale": previous.get("rationale", ""),
            "range_rationale": "given by the user",
            "source": "given",
        }
    if not entries:
        raise InputError(
            f"sensitivity: {scenario.name} has no assumed inputs with a range; give ranges "
            "(path -> (low, high))"
        )
    other = against_text = None
    against_inputs = None
    if against is not None:
        other, against_text, against_inputs = resolve_against(scenario, against)
        check_measure(other, measure, "measure (of against)")
    other_data = None if other is None else other.to_dict()

    def variant(path: str, value) -> tuple[Scenario | None, Scenario | None, str]:
        try:
            s = with_values(scenario, {path: value}, f"{path} = {value!r}")
        except InputError as err:
            return None, None, str(err)
        if other is None:
            return s, None, ""
        o = other
        if _lookup(other_data, path) is not None:
            try:
                o = with_values(other, {path: value}, f"against: {path} = {value!r}")
            except InputError as err:
                return None, None, str(err)
        return s, o, ""

    rows = []
    with Evaluator(seed, backend, scheduler, threads, precision=target, cap=trials) as ev:
        ev.mark_reference(scenario)
        if other is None:
            base = estimate(scenario, ev.own([scenario], trials)[0], measure)
        else:
            base = paired(scenario, other, ev.joint([(scenario, other)], trials)[0], measure)
        for e in entries.values():
            row = {k: e[k] for k in ("path", "value", "low", "high", "source", "rationale",
                                     "range_rationale")}  # fmt: skip
            notes = []
            if e["low"] is None:
                row.update(status="no range", note="no range recorded: give one with ranges")
                rows.append(row)
                continue
            for end in ("low", "high"):
                s, o, problem = variant(e["path"], e[end])
                if s is None:
                    notes.append(f"{end} end skipped: {problem}")
                    row.update({f"at_{end}": math.nan, f"at_{end}_ci95_low": math.nan,
                                f"at_{end}_ci95_high": math.nan, f"change_{end}": math.nan,
                                f"change_{end}_ci95_low": math.nan,
                                f"change_{end}_ci95_high": math.nan})  # fmt: skip
                    if target is not None:
                        row[f"trials_{end}"] = None
                    continue
                if o is None:  # the measure itself, and its paired change from the base
                    joint = ev.joint([(s, scenario)], trials)[0]
                    at = estimate(s, own_part(joint), measure)
                    change = paired(s, scenario, joint, measure)
                else:  # the difference to the other posture at this end
                    at = paired(s, o, ev.joint([(s, o)], trials)[0], measure)
                    change = Estimate(at.mean - base.mean, math.nan, at.n, math.nan, math.nan)
                row.update({f"at_{end}": at.mean, f"at_{end}_ci95_low": at.low(),
                            f"at_{end}_ci95_high": at.high(), f"change_{end}": change.mean,
                            f"change_{end}_ci95_low": change.low(),
                            f"change_{end}_ci95_high": change.high()})  # fmt: skip
                if target is not None:  # run to a precision: this end's own trials
                    row[f"trials_{end}"] = at.n
            lo, hi = row["at_low"], row["at_high"]
            row["swing"] = abs(hi - lo) if math.isfinite(lo) and math.isfinite(hi) else (
                abs((hi if math.isfinite(hi) else lo) - base.mean)
                if math.isfinite(hi) or math.isfinite(lo) else math.nan)  # fmt: skip
            if other is not None:  # a sign change that the intervals resolve
                ends = [
                    (row[f"at_{e}_ci95_low"], row[f"at_{e}_ci95_high"]) for e in ("low", "high")
                ]
                ends.append(base.ci95)
                row["decides"] = any(h < 0 for _, h in ends) and any(lo > 0 for lo, _ in ends)
            row.update(status="evaluated", note="; ".join(notes))
            rows.append(row)
        simulated = ev.trials_simulated
    table = pd.DataFrame(rows)
    for column in ("trials_low", "trials_high"):  # run to a precision; NaN for a skipped end
        if column in table:
            table[column] = table[column].astype("float64")
    if "swing" not in table:
        table["swing"] = math.nan
    table = table.sort_values("swing", ascending=False, na_position="last", kind="stable")
    table = table.reset_index(drop=True)
    ranked = table[table["status"] == "evaluated"]
    answer: dict[str, Any] = {
        "measure": measure, "against": against_text, "base": [base.mean, *base.ci95],
        "inputs": len(ranked), "no_range": table.loc[table["status"] == "no range",
                                                            "path"].tolist(),
        "largest": None if ranked.empty else {
            "path": ranked.iloc[0]["path"], "swing": ranked.iloc[0]["swing"],
            "low": ranked.iloc[0]["low"], "high": ranked.iloc[0]["high"],
            "at_low": ranked.iloc[0]["at_low"], "at_high": ranked.iloc[0]["at_high"]},
    }  # fmt: skip
    if other is not None:
        answer["decisive"] = ranked.loc[ranked["decides"].astype(bool), "path"].tolist()
    inputs = {"measure": measure, "ranges": {p: list(b) for p, b in ranges.items()},
              "catalog_ranges": catalog_ranges, "against": against_inputs,
              **_common_inputs(trials, seed, backend, target)}  # fmt: skip
    return AnalysisResult("sensitivity", scenario, inputs, _jsonable(answer), table, seed,
                          trials, simulated, time.perf_counter() - started)  # fmt: skip


def _describe_sensitivity(r: AnalysisResult) -> str:
    a = r.answer
    m = a["measure"]
    unit = _unit_of(r.scenario, m)
    what = m if a["against"] is None else f"{m} minus that of {a['against']}"
    lines = [
        f"Sensitivity of {what} in {r.scenario.name} to {a['inputs']} assumed inputs over "
        f"their plausible ranges, one at a time; costs in {r.dollar_year} dollars. As "
        f"assumed: {_with_ci(a['base'], unit)}.",
    ]
    t = r.table[r.table["status"] == "evaluated"]
    for _, row in t.head(8).iterrows():
        text = (f"* {row['path']} from {row['low']:g} to {row['high']:g} (assumed "
                f"{row['value']:g}): {_fmt(row['at_low'], unit)} to "
                f"{_fmt(row['at_high'], unit)}, a swing of {_fmt(row['swing'], unit)}")  # fmt: skip
        if a["against"] is not None and row.get("decides"):
            text += "; the comparison changes sign within this range (intervals both sides of 0)"
        lines.append(text + ".")
    if len(t) > 8:
        lines.append(f"... and {len(t) - 8} more with smaller swings (see the table).")
    if a["against"] is not None:
        decisive = a.get("decisive") or []
        lines.append("Inputs that decide the comparison (its 95 % intervals fall on both "
                     "sides of 0 within their "
                     f"range): {', '.join(decisive) if decisive else 'none'}.")  # fmt: skip
    if a["no_range"]:
        lines.append(f"No range recorded (not varied): {', '.join(a['no_range'])}.")
    lines.append(_trials_line(r))
    return "\n".join(lines)


# -- text -----------------------------------------------------------------------------------


def _unit_of(scenario: Scenario, measure: str) -> str:
    for m in measures(scenario, moment_columns(scenario)):
        if m.name == measure:
            return m.unit
    return ""


def _usd(value) -> str:
    """Money as ``costx.formatting`` writes it; an open interval end reads unbounded."""
    if value is not None and isinstance(value, int | float) and math.isinf(value):
        return "unbounded" if value > 0 else "-unbounded"
    return formatting.usd(value)


def _fmt(value, unit: str) -> str:
    """A value by its unit (``costx.formatting.value``); an open end reads unbounded."""
    if value is not None and isinstance(value, int | float) and math.isinf(value):
        return "unbounded" if value > 0 else "-unbounded"
    return formatting.value(value, unit)


def _ratio(value) -> str:
    return _fmt(value, "ratio")


def _with_ci(triple, unit: str) -> str:
    mean, low, high = triple
    if low is None or high is None or low == high:
        return _fmt(mean, unit)
    return f"{_fmt(mean, unit)} (95 % interval {_fmt(low, unit)} to {_fmt(high, unit)})"


def _range_text(n, low, high) -> str:
    if low is None or (isinstance(low, float) and math.isnan(low)):
        low = n
    if high is None or (isinstance(high, float) and math.isnan(high)):
        return f"{n:g} ({low:g} or more)"
    if low == high == n:
        return f"{n:g}"
    return f"{n:g} ({low:g} to {high:g})"


def _trials_line(r: AnalysisResult) -> str:
    per = f"{r.trials:,} trials per confirmed evaluation"
    if r.inputs.get("precision") is not None:
        per = (f"each confirmed evaluation run to {100 * r.inputs['precision']:g} % precision "
               f"of {r.inputs['precision_measure']} (at most {r.trials:,} trials)")  # fmt: skip
    return (
        f"{per}, seed {r.seed} (common random numbers); {r.trials_simulated:,} trials "
        "simulated in all."
    )


# The columns `costx analyze` prints and the report puts last, by kind.
KEY_COLUMNS = {
    "margin": ["option", "steps", "value_after", "per_raid_usd", "ratio_per_raid",
               "procurement_usd", "ratio_procurement", "cheapest", "trials", "note"],
    "break_even": ["value", "measure", "against", "diff", "diff_ci95_low", "diff_ci95_high",
                   "trials"],
    "cheapest": ["status", "rank", "trials", "reason"],
    "worst_raid": ["attack_cost_usd_raid", "status", "rank", "trials"],
    "sensitivity": ["path", "value", "low", "high", "at_low", "at_high", "swing",
                    "trials_low", "trials_high"],
}  # fmt: skip


def column_units(result: AnalysisResult) -> dict[str, str]:
    """The unit of each numeric column of an analysis table (for formatting)."""
    a, kind = result.answer, result.kind
    units: dict[str, str] = {}

    def by(measure: str, columns: Iterable[str]) -> None:
        unit = _unit_of(result.scenario, measure)
        for c in columns:
            units[c] = unit
            units[f"{c}_ci95_low"] = unit
            units[f"{c}_ci95_high"] = unit

    if kind == "margin":
        by(a["hold"], ("hold_before", "hold_attacked", "hold_after"))
        for c in ("ratio_per_raid", "ratio_procurement"):
            by("cost_exchange_defense_over_attack", (c,))
    elif kind == "break_even":
        by(a["measure"], ("measure", "against", "diff"))
    elif kind == "sensitivity":
        by(a["measure"], ("at_low", "at_high", "change_low", "change_high", "swing"))
    else:
        names = [a.get("minimize") or a.get("maximize")]
        names += [c.removesuffix("_one_sided_95") for c in result.table.columns
                  if c.endswith("_one_sided_95")]  # fmt: skip
        for name in names:
            by(name, (name, f"{name}_one_sided_95"))
        by(names[0], ("diff_vs_best",))
    return units


def format_cell(value, column: str, unit: str = "") -> str:
    """A table cell as text (the command line and the report): money for USD columns
    (by ``unit`` or a ``_usd`` name), else ``costx.formatting.number``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else ""
    if isinstance(value, int | float | np.integer | np.floating):
        usd_column = column.endswith(("_usd", "_usd_ci95_low", "_usd_ci95_high"))
        return _fmt(value, "USD" if unit.startswith("USD") or usd_column else unit)
    return str(value)


_DESCRIBE = {
    "margin": _describe_margin,
    "break_even": _describe_break_even,
    "cheapest": _describe_cheapest,
    "worst_raid": _describe_worst_raid,
    "sensitivity": _describe_sensitivity,
}
