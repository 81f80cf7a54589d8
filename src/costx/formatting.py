"""Numbers and names as people read them: the one place that turns results into text.

The command line, the HTML report and the figures print every result through these
functions, so a value reads the same everywhere:

* money: compact dollars with three significant digits, ``$950``, ``$98.6k``, ``$2.65M``
  (:func:`usd`; axis ticks without trailing zeros, :func:`usd_tick`);
* probabilities: percent, with two significant digits of the distance to 0 or 100 %
  (``41.2 %``, ``0.30 %``, ``99.97 %``; :func:`percent`);
* counts, hours and ratios: three significant digits below 100, whole numbers with
  thousands separators above, scientific notation from 10^15 (never 300 digits;
  :func:`number`);
* input figures (catalog values, scenario fields) exactly as given, with thousands
  separators (:func:`exact`);
* intervals: ``low to high``; a value seen in every trial says so (``up to 2.9 % (0 of
  100 trials)``); a value fixed by the scenario reads ``fixed`` (:func:`interval`); a
  mean beside its interval gets the digits of the interval's ends, so that it prints
  within them (:func:`mean_text`).

Names: :func:`measure_name` and :func:`measure_label` give a measure's readable name and
its axis label with the unit (from one table, :data:`MEASURE_NAMES`, and patterns for the
per-effector, per-threat and per-asset measures); :func:`path_label` does the same for a
sweep's grid variables (``effectors.helios.units`` -> ``helios: beam directors``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

NA = "n/a"
FIXED = "fixed"

# -- numbers ------------------------------------------------------------------------------


def _finite(value: Any) -> float | None:
    """The value as a float, or None when it is missing, NaN or not a number."""
    if value is None or isinstance(value, bool | str):
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def _sign(v: float, signed: bool) -> str:
    if v < 0:
        return "-"
    return "+" if signed and v > 0 else ""


def number(value: Any, signed: bool = False) -> str:
    """A count, a number of hours or a ratio: three significant digits below 100
    (``0.0412``, ``1.21``, ``15.8``), whole numbers without decimals (``8``) and with
    separators (``1,579``) up to 10^15, scientific notation above and below 10^-4
    (``1.23e+300``, ``2.18e-06``).
    ``signed``: a leading ``+`` on positive values (differences)."""
    v = _finite(value)
    if v is None:
        return NA
    if math.isinf(v):
        return f"{_sign(v, signed)}inf"
    sign, a = _sign(v, signed), abs(v)
    if a == 0:
        return "0"
    if a >= 1e15 or a < 1e-4:
        return f"{sign}{a:.2e}"
    if a >= 99.95 or a == int(a):
        return f"{sign}{a:,.0f}"
    digits = max(0, 2 - math.floor(math.log10(a)))
    text = f"{a:.{digits}f}"
    if float(text) >= 100:  # 99.96 rounds up to 100.0: one digit fewer
        text = f"{a:.0f}"
    return sign + text


def usd(value: Any, signed: bool = False) -> str:
    """Compact dollars with three significant digits: $9.50, $15.8, $950, $98.6k,
    $2.65M, $3.84B, $1.20T (whole dollars without decimals: $10); scientific notation
    from $10^15."""
    v = _finite(value)
    if v is None:
        return NA
    sign, a = _sign(v, signed), abs(v)
    if math.isinf(a):
        return f"{sign}$inf"
    if a >= 1e15:
        return f"{sign}${a:.2e}"
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= scale * 0.9995:
            x = a / scale
            digits = 2 if x < 9.995 else 1 if x < 99.95 else 0
            return f"{sign}${x:.{digits}f}{suffix}"
    if a == int(a) or a >= 99.95:
        return f"{sign}${a:.0f}"
    return f"{sign}${a:.{2 if a < 9.995 else 1}f}"


def usd_tick(value: float, _pos: Any = None) -> str:
    """Dollars for axis ticks, without trailing zeros: $10M, $2.5M, $100k, $0 (a
    matplotlib ``FuncFormatter`` function)."""
    if not math.isfinite(value):
        return ""
    sign = "-" if value < 0 else ""
    a = abs(value)
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= scale:
            return f"{sign}${a / scale:.4g}{suffix}"
    return f"{sign}${a:.4g}"


def percent(value: Any, signed: bool = False) -> str:
    """A probability in percent, with two significant digits of its distance to 0 or
    100 % (at least one decimal): ``41.2 %``, ``3.0 %``, ``0.30 %``, ``99.97 %``,
    ``0 %``, ``100 %``."""
    v = _finite(value)
    if v is None:
        return NA
    p = 100.0 * v
    if abs(p) in (0.0, 100.0) or math.isinf(p):
        return f"{_sign(p, signed)}{abs(p):.0f} %"
    distance = min(abs(p), abs(100.0 - abs(p)))
    decimals = 1 if distance >= 1 else min(8, 1 - math.floor(math.log10(distance)))
    return f"{_sign(p, signed)}{abs(p):.{decimals}f} %"


def percentage_points(value: Any) -> str:
    """A difference of probabilities, in percentage points: ``-4.1 pp``."""
    text = percent(value, signed=True)
    return NA if text == NA else text.replace(" %", " pp")


def value(v: Any, unit: str = "", signed: bool = False) -> str:
    """A value by its unit: USD (also ``USD per kill``) as money, ``probability`` in
    percent (a signed probability, a difference, in percentage points), anything else
    as :func:`number`."""
    if unit.startswith("USD"):
        return usd(v, signed)
    if unit == "probability":
        return percentage_points(v) if signed else percent(v)
    return number(v, signed)


def with_unit(v: Any, unit: str) -> str:
    """A value followed by its unit where the number does not show it: ``1.21
    threats``, ``$2.65M``, ``41.2 %``, ``2.42`` (a ratio)."""
    text = value(v, unit)
    if text == NA or unit.startswith("USD") or unit in ("probability", "ratio", ""):
        return text
    return f"{text} {unit}"


def exact(value: Any, unit: str = "") -> str:
    """An input figure (a catalog value, a scenario field) written out, not rounded to
    three significant digits as results are: thousands separators from 1,000
    (``1,250,000``, floats to whole units) up to 10^15, scientific notation above,
    smaller numbers as written (``0.85``); with ``unit="USD"``, whole dollars from $100
    and cents below (``12.50 USD``)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if math.isfinite(value) and abs(value) >= 1e15:  # never hundreds of digits
        return f"{value:.3e} {unit}".rstrip()
    if unit == "USD":
        return f"{value:,.0f} USD" if abs(value) >= 100 else f"{value:,.2f} USD"
    if not math.isfinite(value) or abs(value) < 1000:
        text = str(value)
    else:
        text = f"{value:,.0f}" if isinstance(value, float) else f"{value:,}"
    return f"{text} {unit}" if unit else text


# -- intervals ----------------------------------------------------------------------------


def interval(
    low: Any,
    high: Any,
    unit: str = "",
    *,
    mean: Any = None,
    std_error: Any = None,
    n: int | None = None,
    signed: bool = False,
) -> str:
    """A 95 % interval as text.

    ``low to high``; an open end (no upper bound) reads ``at least low``. A zero-width
    interval is a value fixed by the scenario (``fixed``). Given ``mean``, ``std_error``
    and the number of trials ``n``, a value that was the same in every trial
    (``std_error`` 0) says so: a probability seen in none of 100 trials reads ``up to 3.6
    % (0 of 100 trials)``, in all of them ``at least 96.4 % (100 of 100 trials)``, any
    other value ``low to high (same in all 100 trials)``.
    """
    lo, hi = _finite(low), _finite(high)
    if lo is None or hi is None:
        return NA
    if lo == hi:
        return FIXED

    def show(v: float) -> str:
        return value(v, unit, signed)

    m, se = _finite(mean), _finite(std_error)
    same = se == 0.0 and m is not None and n is not None
    if same and unit == "probability" and not signed and m in (0.0, 1.0):
        if m == 0.0:
            return f"up to {show(hi)} (0 of {n:,} trials)"
        return f"at least {show(lo)} ({n:,} of {n:,} trials)"
    if math.isinf(hi) and math.isinf(lo):
        text = "unbounded"
    elif math.isinf(hi):
        text = f"at least {show(lo)}"
    elif math.isinf(lo):
        text = f"up to {show(hi)}"
    else:
        fmt = _ends_format(lo, hi, unit, signed) or show
        text = f"{fmt(lo)} to {fmt(hi)}"
    if same:
        text += f" (same in all {n:,} trials)"
    return text


def _same_number(a: str, b: str) -> bool:
    try:
        return float(a.replace(",", "").lstrip("+")) == float(b.replace(",", "").lstrip("+"))
    except ValueError:
        return False


def _ends_format(lo: float, hi: float, unit: str, signed: bool) -> Callable[[float], str] | None:
    """How the two finite ends of an interval are written when the usual rounding
    (:func:`value`) would write them alike ("488 to 488" for 487.6 to 487.8): one format
    with the fewest decimals that tell them apart (:func:`_distinct`); None when the usual
    rounding tells them apart (money and percent always use it)."""
    if unit.startswith("USD") or unit == "probability":
        return None
    if not _same_number(value(lo, unit, signed), value(hi, unit, signed)):
        return None
    return _distinct(lo, hi, signed)


def _distinct(lo: float, hi: float, signed: bool) -> Callable[[float], str]:
    """A format that writes ``lo`` and ``hi`` differently: the fewest decimals (both ends
    the same number of them: ``47.97 to 48.00``), or below 10^-4 and from 10^15 the
    fewest digits in scientific notation (as :func:`number` writes such values)."""
    sign = "+" if signed else ""
    big = max(abs(lo), abs(hi))
    if 1e-4 <= big < 1e15:
        for decimals in range(1, 20):
            fmt = f"{sign},.{decimals}f"
            if format(lo, fmt) != format(hi, fmt):
                break
    else:
        for decimals in range(3, 16):
            fmt = f"{sign}.{decimals}e"
            if format(lo, fmt) != format(hi, fmt):
                break
    return lambda v: format(v, fmt)


def mean_text(mean: Any, low: Any, high: Any, unit: str = "", signed: bool = False) -> str:
    """A mean as :func:`value` writes it, but in the format of its interval's ends when
    :func:`interval` gives them more digits than usual (ends that round alike): ``487.7``
    for ``487.6 to 487.8``, not ``488``. Every other mean is rounded as its ends are (by
    one monotone rule), so a mean inside its interval always prints inside it."""
    m, lo, hi = _finite(mean), _finite(low), _finite(high)
    if m is None or lo is None or hi is None or lo == hi or math.isinf(m):
        return value(mean, unit, signed)
    if math.isinf(lo) or math.isinf(hi):
        return value(mean, unit, signed)
    fmt = _ends_format(lo, hi, unit, signed)
    return value(mean, unit, signed) if fmt is None else fmt(m)


def estimate(
    mean: Any,
    low: Any,
    high: Any,
    unit: str = "",
    *,
    std_error: Any = None,
    n: int | None = None,
    signed: bool = False,
) -> str:
    """A value with its interval in parentheses: ``$4.45M (95 %: $4.37M to $4.53M)``,
    ``0 % (95 %: up to 3.6 %; 0 of 100 trials)``."""
    text = mean_text(mean, low, high, unit, signed)
    if text == NA:
        return text
    span = interval(low, high, unit, mean=mean, std_error=std_error, n=n, signed=signed)
    if span in (NA, FIXED):
        return text
    if span.endswith(")"):  # no parentheses inside parentheses
        span = span[:-1].replace(" (", "; ", 1)
    return f"{text} (95 %: {span})"


# -- names ----------------------------------------------------------------------------------

# Readable names of the measures whose names are fixed (units are added by the label).
MEASURE_NAMES = {
    "leakers": "leakers",
    "p_any_leak": "P(any leak)",
    "killed": "threats killed",
    "defense_cost_usd": "defense cost",
    "attack_cost_usd": "attack cost",
    "cost_per_kill_usd": "cost per kill",
    "cost_exchange_defense_over_attack": "defense cost / attack cost",
    "cost_exchange_total_over_attack": "(expended + capital + damage) / attack cost",
    "cost_exchange_total_defense_over_attack": "(expended + capital) / attack cost",
    "cost_per_kill_total_usd": "cost per kill with capital",
    "damage_usd": "damage (value lost to leakers)",
    "total_cost_usd": "total cost (expended + capital + damage)",
    "capital_cost_usd": "capital cost (amortized)",
    "defense_total_cost_usd": "defense cost (expended + capital)",
    "ship_hits": "hits on the ship",
    "p_ship_lost": "P(ship lost)",
    "runway_closed_h": "runway closure",
    "salvos_before_first_leak": "salvos before the first leak",
}

# Measures named after a threat group, an effector, an asset or a site: (pattern, name);
# the first match wins, so longer prefixes come first.
_MEASURE_PATTERNS = (
    (r"cost_per_kill_(?P<x>.+)_usd", "cost per kill, {x}"),
    (r"cost_exchange_(?P<x>.+)", "cost-exchange ratio, {x}"),
    (r"cost_(?P<x>.+)_usd", "cost of {x}"),
    (r"capital_cost_(?P<x>.+)_usd", "capital cost of {x}"),
    (r"damage_site(?P<x>\d+)_usd", "damage at site {x}"),
    (r"leaked_(?P<x>.+)", "leakers, {x}"),
    (r"shots_(?P<x>.+)", "shots of {x}"),
    (r"kills_(?P<x>.+)", "kills by {x}"),
    (r"laser_available_(?P<x>.+)", "P({x} available)"),
    (r"destroyed_(?P<x>.+)", "{x} destroyed"),
    (r"salvos_before_dry_(?P<x>.+)", "salvos before {x} runs dry"),
    (r"p_dry_(?P<x>.+)", "P({x} dry at the end)"),
)


def measure_name(measure: str) -> str:
    """A measure's readable name: ``cost_per_kill_usd`` -> ``cost per kill``,
    ``leaked_cruise`` -> ``leakers, cruise``."""
    if measure in MEASURE_NAMES:
        return MEASURE_NAMES[measure]
    for pattern, name in _MEASURE_PATTERNS:
        match = re.fullmatch(pattern, measure)
        if match:
            return name.format(x=match.group("x"))
    return measure.removesuffix("_usd").replace("_", " ")


def unit_label(unit: str, dollar_year: int | None = None) -> str:
    """A unit for an axis: ``USD`` with its dollar year (``2025 USD``, ``2025 USD per
    kill``); ``probability`` and ``ratio`` have none (the ticks say it)."""
    if unit in ("probability", "ratio", ""):
        return ""
    if unit.startswith("USD") and dollar_year is not None:
        return f"{dollar_year} {unit}"
    return unit


def measure_label(measure: str, unit: str = "", dollar_year: int | None = None) -> str:
    """An axis label: readable name and unit, never doubled: ``cost per kill (2025 USD
    per kill)``, ``leakers (threats)``, ``P(any leak)``."""
    name = measure_name(measure)
    shown = unit_label(unit, dollar_year)
    if shown and shown not in name:
        return f"{name} ({shown})"
    return name


def measure_title(measure: str) -> str:
    """A measure's name at the start of a title: ``Cost per kill``."""
    name = measure_name(measure)
    if measure.startswith("cost_exchange_") and measure in MEASURE_NAMES:
        name = f"cost-exchange ratio, {name}"
    return name[0].upper() + name[1:]


# Grid variables, by the last part of their path: (readable name, unit).
PATH_NAMES = {
    "rounds": ("magazine", "rounds"),
    "units": ("beam directors", ""),
    "count": ("threats per salvo", ""),
    "repair_teams": ("repair teams", ""),
    "dispersal_sites": ("dispersal sites", ""),
    "runways": ("runways", ""),
    "cuts_to_close": ("cuts to close a runway", ""),
    "channels": ("fire channels", ""),
    "salvo_size": ("rounds per engagement", ""),
    "max_engagements": ("engagements per threat", ""),
    "salvos": ("salvos", ""),
    "sheltered": ("sheltered", ""),
    "availability": ("availability (weather)", ""),
    "rate_per_min": ("rate of fire", "rounds per minute"),
    "beam_quality": ("beam quality", "M²"),
    "barrel_life_rounds": ("barrel life", "rounds"),
    "kill_fluence_j_cm2": ("kill fluence", "J/cm²"),
    "pk": ("single-shot kill probability", ""),
    "policy": ("firing policy", ""),
    "interval_h": ("time between salvos", "hours"),
    "repair_h_per_cut": ("repair time per cut", "hours"),
    "magazine_s": ("lasing time per unit", "s"),
}
# The first suffix that ends a field name gives its unit: longer suffixes that end like a
# shorter one come first (``_per_km`` before ``_km``, ``_m_per_s`` before ``_s``).
_SUFFIX_UNITS = (
    ("_j_cm2", "J/cm²"),
    ("_kg_m2", "kg/m²"),
    ("_usd", "USD"),
    ("_mps", "m/s"),
    ("_m_per_s", "m/s"),
    ("_per_km", "per km"),
    ("_km", "km"),
    ("_kw", "kW"),
    ("_urad", "µrad"),
    ("_um", "µm"),
    ("_years", "years"),
    ("_h", "hours"),
    ("_s", "s"),
    ("_m", "m"),
)


def path_parts(path: str) -> tuple[str, str, str]:
    """(item, readable field name, unit) of a grid variable: ``effectors.sm2.rounds`` ->
    ``('sm2', 'magazine', 'rounds')``; ``base.repair_teams`` -> ``('', 'repair teams',
    '')``."""
    parts = path.split(".")
    field = parts[-1]
    item = parts[-2] if len(parts) >= 3 else ""
    if field in PATH_NAMES:
        name, unit = PATH_NAMES[field]
    elif len(parts) >= 2 and parts[-2] == "pk":  # effectors.sm2.pk.drone
        item = parts[-3] if len(parts) >= 4 else ""
        name, unit = f"single-shot kill probability against {field}", ""
    else:
        name, unit = field, ""
        for suffix, suffix_unit in _SUFFIX_UNITS:
            if field.endswith(suffix):
                name, unit = field.removesuffix(suffix), suffix_unit
                break
        name = name.replace("_", " ")
    return item, name, unit


def path_label(path: str, dollar_year: int | None = None) -> str:
    """A grid variable as a label: ``effectors.sm2.rounds`` -> ``sm2: magazine
    (rounds)``, ``effectors.helios.units`` -> ``helios: beam directors``,
    ``base.repair_teams`` -> ``repair teams``."""
    item, name, unit = path_parts(path)
    shown = unit_label(unit, dollar_year)
    text = f"{item}: {name}" if item else name
    # The unit unless the name already says it as a word ("magazine (rounds)", but
    # "assess (s)": an "s" inside a word is not the unit).
    said = shown and re.search(rf"(?<!\w){re.escape(shown)}(?!\w)", name)
    return f"{text} ({shown})" if shown and not said else text


def point_label(point: dict, dollar_year: int | None = None) -> str:
    """A grid point as text: ``sm2: magazine = 16, helios: beam directors = 1``."""
    return ", ".join(
        f"{path_label(k, dollar_year).split(' (')[0]} = {grid_value(v, k)}"
        for k, v in point.items()
    )


def grid_value(v: Any, path: str = "") -> str:
    """A grid value as text: ``yes``/``no`` for booleans (NumPy's too), ``drone 0.7`` for
    a table; given its ``path``, a dollar amount (a path ending in ``_usd``) as money
    (``$1.00M``, not ``1e+06``)."""
    if hasattr(v, "item") and not isinstance(v, str | bytes | dict):  # a NumPy scalar
        v = v.item()
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, dict):
        return ", ".join(f"{k} {grid_value(x)}" for k, x in v.items())
    if path.endswith("_usd") and isinstance(v, int | float):
        return usd(v)
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)
