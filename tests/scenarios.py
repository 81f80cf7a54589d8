"""Small scenarios for tests, as plain dicts (load with costx.load_scenario)."""

from __future__ import annotations

import copy


def threat(name="drone", count=4, **kw) -> dict:
    base = {
        "name": name,
        "count": count,
        "unit_cost_usd": 30_000.0,
        "speed_mps": 50.0,
        "detect_range_km": 25.0,
        "arrival": "stream",
        "start_s": 0.0,
        "window_s": 200.0,
        "kill_fluence_j_cm2": 500.0,
    }
    base.update(kw)
    return {k: v for k, v in base.items() if v is not None}  # None: leave the field out


def raider(name="srbm", count=10, **kw) -> dict:
    """A ballistic missile aimed at an air base (tests of the base model): fast, seen far
    out, arriving at uniform times over two minutes; ``targets`` and ``warhead`` in
    ``kw``."""
    base = {"speed_mps": 2000.0, "detect_range_km": 300.0, "arrival": "uniform",
            "window_s": 120.0}  # fmt: skip
    return threat(name, count, **{**base, **kw})


def interceptor(name="sm2", pk=None, **kw) -> dict:
    base = {
        "name": name,
        "kind": "interceptor",
        "rounds": 20,
        "cost_per_shot_usd": 2_000_000.0,
        "pk": pk if pk is not None else {"drone": 0.7},
        "speed_mps": 1000.0,
        "max_range_km": 150.0,
        "min_range_km": 3.0,
        "channels": 2,
        "fire_interval_s": 1.0,
        "salvo_size": 1,
        "max_engagements": 2,
        "assess_s": 2.0,
    }
    base.update(kw)
    return base


def railgun(name="hvp", pk=None, **kw) -> dict:
    base = {
        "name": name,
        "kind": "railgun",
        "rounds": 100,
        "cost_per_shot_usd": 25_000.0,
        "rate_per_min": 10.0,
        "speed_mps": 2000.0,
        "max_range_km": 30.0,
        "min_range_km": 0.5,
        "pk": pk if pk is not None else {"drone": 0.3},
        "salvo_size": 2,
        "max_engagements": 3,
        "assess_s": 1.0,
        "barrel_life_rounds": 1000,
        "barrel_cost_usd": 2_000_000.0,
    }
    base.update(kw)
    return base


def laser(name="las", **kw) -> dict:
    base = {
        "name": name,
        "kind": "laser",
        "units": 1,
        "power_kw": 60.0,
        "aperture_m": 0.3,
        "wavelength_um": 1.064,
        "beam_quality": 1.5,
        "jitter_urad": 5.0,
        "blur_urad": 20.0,
        "extinction_per_km": 0.2,
        "max_range_km": 8.0,
        "min_range_km": 0.2,
        "retarget_s": 2.0,
        "availability": 1.0,
        "cost_per_shot_usd": 10.0,
    }
    base.update(kw)
    return base


def scenario(threats, effectors, policy="layered", name="test") -> dict:
    return {
        "scenario": {"name": name, "policy": policy},
        "threats": copy.deepcopy(list(threats)),
        "effectors": copy.deepcopy(list(effectors)),
    }


def mixed(policy="layered") -> dict:
    """Every kind of effector and arrival, kept small for tests."""
    return scenario(
        [
            threat("drone", 12, arrival="uniform", window_s=300.0),
            threat(
                "cruise",
                4,
                speed_mps=250.0,
                detect_range_km=40.0,
                arrival="stream",
                start_s=60.0,
                window_s=120.0,
                unit_cost_usd=1e6,
                kill_fluence_j_cm2=2000.0,
            ),
            threat(
                "ballistic",
                2,
                speed_mps=1700.0,
                detect_range_km=300.0,
                arrival="simultaneous",
                start_s=100.0,
                unit_cost_usd=3e6,
                kill_fluence_j_cm2=None,
            ),
        ],
        [
            interceptor(pk={"drone": 0.8, "cruise": 0.7, "ballistic": 0.5}, rounds=24),
            railgun(pk={"drone": 0.3, "cruise": 0.2}),
            laser(availability=0.8, magazine_s=120.0),
        ],
        policy=policy,
        name="mixed",
    )
