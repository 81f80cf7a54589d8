"""How long a laser must lase to kill a threat: ``costx.dwell_time`` and the dwell table.

The numbers come from the same lowered tables and kernel functions the simulation uses
(costx.lowering, kernels/engagement.py), so a dwell printed here is the dwell a trial
plays; tests/test_propagation.py checks both against the independent reference.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from pydantic import BaseModel

from costx.catalog import load_catalog
from costx.errors import InputError
from costx.kernels import engagement as K
from costx.lowering import lower
from costx.physics import ATMOSPHERE_FIELDS
from costx.scenario import (
    MAX_TIME_S,
    CostxWarning,
    Laser,
    Scenario,
    Threat,
    scenario_from_mapping,
)

DEFAULT_RANGES_KM = (0.5, 1.0, 2.0, 3.0, 5.0, 8.0)


def _entry(item: Any, section: str) -> dict:
    """A scenario entry (mapping) for a catalog name, a mapping or a model object."""
    wanted = Laser if section == "effectors" else Threat
    if isinstance(item, wanted):
        return item.model_dump(mode="json", exclude_none=True)
    if isinstance(item, BaseModel):
        kind = getattr(item, "kind", type(item).__name__.lower())
        name = getattr(item, "name", "")
        what = "laser" if section == "effectors" else "threat"
        article = "an" if str(kind)[:1] in "aeiou" else "a"
        raise InputError(f"{name or 'the item'} is {article} {kind}, not a {what}")
    if isinstance(item, str):
        entry = load_catalog().entry(section, item)
        if entry is None or (section == "effectors" and entry.kind != "laser"):
            known = sorted(
                k
                for k, e in load_catalog().entries.get(section, {}).items()
                if section != "effectors" or e.kind == "laser"
            )
            what = "laser" if section == "effectors" else "threat"
            raise InputError(f"no catalog {what} {item!r} (catalog {what}s: {', '.join(known)})")
        return {"use": item}
    if isinstance(item, Mapping):
        return dict(item)
    what = "laser" if section == "effectors" else "threat"
    raise InputError(
        f"the {what} must be a catalog name, a scenario entry (mapping) or the {what.title()} "
        f"of a loaded scenario, not {item!r}"
    )


def _speed_mps(item: dict) -> float | None:
    """The threat's speed: written in the entry, or its catalog entry's."""
    speed = item.get("speed_mps")
    if speed is None and isinstance(item.get("use"), str):
        entry = load_catalog().entry("threats", item["use"])
        record = None if entry is None else entry.fields.get("speed_mps")
        speed = None if record is None else record.value
    return float(speed) if isinstance(speed, int | float) and speed > 0 else None


def one_on_one(laser: Any, threat: Any, **atmosphere: float) -> Scenario:
    """A scenario of one laser and one threat (atmosphere fields override the laser's)."""
    unknown = set(atmosphere) - set(ATMOSPHERE_FIELDS)
    if unknown:
        raise TypeError(
            f"unknown atmosphere field(s) {', '.join(sorted(unknown))}; "
            f"allowed: {', '.join(ATMOSPHERE_FIELDS)}"
        )
    las = {"name": "laser", "kind": "laser", **_entry(laser, "effectors")}
    las.update({k: v for k, v in atmosphere.items() if v is not None})
    thr = {
        "name": "threat",
        "count": 1,
        "unit_cost_usd": 0.0,
        "detect_range_km": 1_000.0,
        **_entry(threat, "threats"),
    }
    speed = _speed_mps(thr)
    if speed is not None:
        # Seen far enough out for any start range, yet (for a target that barely moves,
        # such as a boat standing still) within the model's 1e6 s from detection to impact.
        thr.setdefault("detect_range_km", 1_000.0)
        thr["detect_range_km"] = min(thr["detect_range_km"], 0.5 * speed * MAX_TIME_S * 1e-3)
    for item in (las, thr):
        item.pop("targets", None)
        item.pop("warhead", None)
    las["acquisition_usd"] = 0.0  # physics only: no capital, so no [costing] needed
    las["fixed_acquisition_usd"] = 0.0
    data = {"scenario": {"name": "dwell"}, "threats": [thr], "effectors": [las]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CostxWarning)
        # Errors name the laser effectors[0] and the threat threats[0]: the label says so.
        return scenario_from_mapping(data, "dwell_time's laser (effectors[0]) and threat")


def dwell_time(
    laser: Any, threat: Any, range_km: float | Iterable[float], **atmosphere: float
) -> float | np.ndarray:
    """Seconds of lasing a laser needs to kill a threat when it starts at ``range_km``.

    Parameters
    ----------
    laser, threat
        Catalog names (``"helios"``, ``"shahed_136"``) or scenario entries (mappings with
        the fields of a ``[[effectors]]`` / ``[[threats]]`` item, ``use`` allowed), or
        the ``Laser`` / ``Threat`` of a loaded scenario.
    range_km
        The threat's range when the laser unit starts on it (a number or a sequence). The
        unit first tracks and settles for the laser's ``settle_s`` (not counted here;
        the threat closes meanwhile), then lases until the kill fluence is reached and at
        least the threat's ``min_dwell_s`` has passed.
    **atmosphere
        ``extinction_per_km``, ``absorption_per_km``, ``cn2``, ``wind_mps``: replace the
        laser's own (as a ``[[weather]]`` state would).

    Returns
    -------
    float or numpy.ndarray
        Lasing seconds; ``inf`` where the laser cannot kill: the range is outside
        [min_range_km, max_range_km], the threat has no kill fluence, or the kill would
        not complete before min range (the fire control would not start).
    """
    scenario = one_on_one(laser, threat, **atmosphere)
    ranges, scalar = _ranges_km(range_km)
    out = _dwell(scenario, ranges)
    return float(out[0]) if scalar else out


def _ranges_km(range_km: Any) -> tuple[np.ndarray, bool]:
    """``range_km`` (a number or a flat sequence of them) as a 1-D float array, and
    whether it was one number; nan, a negative range or anything not a number is an
    InputError naming ``range_km``."""
    bad = InputError(f"range_km must be a range in km or a flat list of them, not {range_km!r}")
    if isinstance(range_km, np.ndarray):
        if range_km.ndim > 1:
            raise bad
        values, scalar = range_km.reshape(-1).tolist(), range_km.ndim == 0
    elif isinstance(range_km, Iterable) and not isinstance(range_km, str | bytes | Mapping):
        values, scalar = list(range_km), False  # a list, a generator, a pandas Series
    else:
        values, scalar = [range_km], True
    if not all(
        isinstance(r, int | float | np.integer | np.floating) and not isinstance(r, bool)
        for r in values
    ):
        raise bad
    ranges = np.asarray(values, dtype=np.float64)
    if np.isnan(ranges).any() or (ranges < 0).any():
        raise InputError(f"range_km must be at least 0 (and not nan), not {range_km!r}")
    return ranges, scalar


def _dwell(scenario: Scenario, ranges: np.ndarray) -> np.ndarray:
    arrays = lower(scenario)
    las, thr = scenario.effectors[0], scenario.threats[0]
    out = np.full(ranges.shape, math.inf)
    if not arrays.can[0, 0, 0]:
        return out
    v, fluence, min_dwell = thr.speed_mps, thr.kill_fluence_j_cm2, thr.min_dwell_s or 0.0
    for i, r in enumerate(ranges):
        if not (arrays.r_last[0, 0, 0] - K.EPS_KM <= r <= las.max_range_km):
            continue
        r_lase, r_kill = K._laser_kill(arrays.ltab[0], arrays.eff_f[0], 0, r, v, fluence, min_dwell)
        out[i] = max(r_lase - r_kill, 0.0) * 1e3 / v
    return out


def dwell_table(
    lasers: Iterable[Any] | None = None,
    threats: Iterable[Any] | None = None,
    ranges_km: Iterable[float] = DEFAULT_RANGES_KM,
    **atmosphere: float,
) -> list[tuple[str, str, list[float]]]:
    """(laser, threat, dwell at each range) for catalog lasers and threats (default: every
    catalog laser, and every catalog threat with a kill fluence)."""
    catalog = load_catalog()
    if lasers is None:
        lasers = sorted(k for k, e in catalog.entries["effectors"].items() if e.kind == "laser")
    if threats is None:
        threats = sorted(
            k for k, e in catalog.entries["threats"].items() if "kill_fluence_j_cm2" in e.fields
        )
    ranges, _ = _ranges_km(ranges_km)
    rows = []
    for las in lasers:
        for thr in threats:
            dwell = _dwell(one_on_one(las, thr, **atmosphere), ranges)
            rows.append((str(las), str(thr), [float(x) for x in dwell]))
    return rows
