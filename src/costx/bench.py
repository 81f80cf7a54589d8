"""Benchmark workloads, shared by the pytest-benchmark suite (benchmarks/) and `costx bench`.

``single_layer`` is the reference workload: threats arrive one after another, far enough
apart that each is finished before the next comes within reach, against one interceptor
firing shoot-look-shoot from a limited magazine. Because the engagements are sequential,
the doctrine can be written exactly, vectorized over trials, in plain NumPy
(:func:`numpy_single_layer`: what an analyst would write) and as a plain Python loop
(:func:`python_single_layer`); both must agree in distribution with the kernel
(benchmarks/test_single_layer.py checks it) so that the speed comparison is fair.

``WORKLOADS`` is the one registry of the simulated workloads: `costx bench` times them
(:func:`suite`) and the pytest-benchmark suite in benchmarks/ times them and checks a
property of each result (benchmarks/test_workloads.py), so the two cannot drift apart.
"""

from __future__ import annotations

import math
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from costx.scenario import Scenario, load_scenario

SINGLE_LAYER_PK = 0.7
SINGLE_LAYER_SPEED_MPS = 300.0
SINGLE_LAYER_SPACING_S = 150.0  # > the 140 s an SLS engagement takes from detection


def single_layer(threats: int = 64, rounds: int | None = None) -> Scenario:
    """64 threats one after another, one interceptor, 96 rounds, pk 0.7, shoot-look-shoot.

    A notional benchmark, not a real system: every number is chosen to make the
    engagements sequential (detect at 100 km, 300 m/s, one threat every 150 s; interceptor
    at 1000 m/s reaching 80 km, two engagements, two seconds to assess). ``rounds``
    defaults to 1.5 per threat (96 for 64), a magazine smaller than the demand.
    """
    rounds = round(1.5 * threats) if rounds is None else rounds
    return load_scenario(
        {
            "scenario": {
                "name": "single_layer",
                "description": f"Benchmark: {threats} threats in sequence, one interceptor "
                f"with {rounds} rounds, pk {SINGLE_LAYER_PK}, shoot-look-shoot",
            },
            "threats": [
                {
                    "name": "missile",
                    "count": threats,
                    "unit_cost_usd": 1_000_000.0,
                    "speed_mps": SINGLE_LAYER_SPEED_MPS,
                    "detect_range_km": 100.0,
                    "arrival": "stream",
                    "window_s": SINGLE_LAYER_SPACING_S * threats,
                }
            ],
            "effectors": [
                {
                    "name": "sam",
                    "kind": "interceptor",
                    "rounds": rounds,
                    "cost_per_shot_usd": 2_000_000.0,
                    "pk": {"missile": SINGLE_LAYER_PK},
                    "speed_mps": 1000.0,
                    "max_range_km": 80.0,
                    "min_range_km": 2.0,
                    "channels": 1,
                    "fire_interval_s": 1.0,
                    "salvo_size": 1,
                    "max_engagements": 2,
                    "assess_s": 2.0,
                }
            ],
        }
    )


def drone_raid(threats: int = 64, policy: str = "preferential") -> Scenario:
    """Drones at a constant density (one every 10 s on average, uniform arrivals) against
    a laser, a gun and an interceptor, each with 1.5 rounds (laser: unlimited) per drone.

    A notional benchmark of the firing policies' cost per threat: under ``preferential``
    the laser is preferred, then the gun, then the interceptor (the bundled ship doctrine
    in small); under the other policies the same effectors compete as those policies say.
    """
    rounds = round(1.5 * threats)
    data = {
        "scenario": {"name": "drone_raid", "policy": policy},
        "threats": [
            {
                "name": "drone",
                "count": threats,
                "unit_cost_usd": 30_000.0,
                "speed_mps": 50.0,
                "detect_range_km": 25.0,
                "arrival": "uniform",
                "window_s": 10.0 * threats,
                "kill_fluence_j_cm2": 500.0,
            }
        ],
        "effectors": [
            {"name": "sam", "kind": "interceptor", "rounds": rounds,
             "cost_per_shot_usd": 2_000_000.0, "pk": {"drone": 0.7}, "speed_mps": 1000.0,
             "max_range_km": 150.0, "min_range_km": 3.0, "channels": 2,
             "fire_interval_s": 1.0, "max_engagements": 2, "assess_s": 2.0},
            {"name": "gun", "kind": "railgun", "rounds": rounds, "cost_per_shot_usd": 25_000.0,
             "rate_per_min": 10.0, "speed_mps": 2000.0, "max_range_km": 30.0,
             "min_range_km": 0.5, "pk": {"drone": 0.3}, "salvo_size": 2,
             "max_engagements": 3, "assess_s": 1.0},
            {"name": "las", "kind": "laser", "power_kw": 60.0, "aperture_m": 0.3,
             "wavelength_um": 1.064, "beam_quality": 1.5, "jitter_urad": 5.0,
             "blur_urad": 20.0, "extinction_per_km": 0.2, "max_range_km": 8.0,
             "min_range_km": 0.2, "retarget_s": 2.0, "cost_per_shot_usd": 10.0},
        ],
        "doctrine": {"drone": ["las", "gun", "sam"]},
    }  # fmt: skip
    return load_scenario(data)


def single_layer_exact(threats: int = 64, rounds: int = 96, pk: float = SINGLE_LAYER_PK):
    """(mean leakers, mean rounds fired) of single_layer, exactly: the magazine's
    distribution carried threat by threat (a threat gets a second shot only if the first
    missed and a round is left)."""
    left = {rounds: 1.0}  # rounds left -> probability
    leakers = 0.0
    for _ in range(threats):
        after: dict[int, float] = {}
        for r, prob in left.items():
            if r == 0:
                leakers += prob
                after[0] = after.get(0, 0.0) + prob
            elif r == 1:
                leakers += prob * (1.0 - pk)
                after[0] = after.get(0, 0.0) + prob
            else:
                leakers += prob * (1.0 - pk) ** 2
                after[r - 1] = after.get(r - 1, 0.0) + prob * pk
                after[r - 2] = after.get(r - 2, 0.0) + prob * (1.0 - pk)
        left = after
    fired = rounds - sum(r * prob for r, prob in left.items())
    return leakers, fired


def with_policy(name: str, policy: str) -> dict:
    """A bundled scenario under another firing policy."""
    data = load_scenario(name).to_dict()
    data["scenario"]["policy"] = policy
    return data


@dataclass(frozen=True)
class Workload:
    """One simulated benchmark workload.

    ``part``: the part of `costx bench` it belongs to (PARTS); ``trials``: trials of the
    full timed run (pytest-benchmark with --benchmark-enable; `costx bench --trials N`
    scales it by N / 1,000,000); ``ci_trials``: trials when the suite runs once as tests;
    ``threads``: Numba threads (None: all); ``build``: makes the scenario.
    """

    part: str
    name: str
    variant: str
    build: Callable[[], object]
    trials: int
    ci_trials: int
    threads: int | None = None

    @property
    def id(self) -> str:
        return f"{self.name}[{self.variant}]"

    def scenario(self) -> Scenario:
        return load_scenario(self.build())


def _workloads() -> tuple[Workload, ...]:
    out = [
        Workload("single_layer", "single_layer", "1 thread", single_layer, 1_000_000, 20_000, 1),
        Workload("single_layer", "single_layer", "all threads", single_layer, 1_000_000, 20_000),
    ]
    # ddg_mixed_raid (32 threats; bundled under preferential) under every policy.
    for policy, trials in (("layered", 1_000_000), ("preferential", 200_000),
                           ("cost_aware", 50_000)):  # fmt: skip
        build = lambda p=policy: with_policy("ddg_mixed_raid", p)  # noqa: E731
        out.append(Workload("mixed_raid", "mixed_raid", policy, build, trials, 2_000))
    # Cost per threat of the policies on bigger raids (drones at a constant density).
    for threats in (8, 64, 256):
        for policy, per in (("layered", 4_000_000), ("preferential", 4_000_000),
                            ("cost_aware", 200_000)):  # fmt: skip
            out.append(Workload("mixed_raid", "drone_raid", f"{policy}, {threats} threats",
                                lambda n=threats, p=policy: drone_raid(n, p),
                                max(per // threats, 500), 100))  # fmt: skip
    # The real-world raid of 320 threats, to compare its time per threat with mixed_raid's.
    out.append(Workload("mixed_raid", "iran_israel_apr2024", "layered",
                        lambda: "iran_israel_apr2024", 50_000, 200))  # fmt: skip
    out.append(Workload("campaign", "campaign", "pacific_airbase",
                        lambda: "pacific_airbase", 200_000, 1_000))  # fmt: skip
    return tuple(out)


WORKLOADS = _workloads()


def workload(workload_id: str) -> Workload:
    """The workload of WORKLOADS with this id (``name[variant]``)."""
    for w in WORKLOADS:
        if w.id == workload_id:
            return w
    raise KeyError(workload_id)


def numpy_single_layer(
    trials: int, seed: int = 0, threats: int = 64, rounds: int = 96, batch: int = 100_000
) -> tuple[np.ndarray, np.ndarray]:
    """Leakers and rounds fired per trial: sequential shoot-look-shoot, vectorized over trials.

    For each threat in turn, up to two single shots while the threat lives and rounds
    remain; every shot kills with probability pk. Random numbers from numpy's default
    generator, one per (trial, threat, shot), in batches of ``batch`` trials.
    """
    rng = np.random.default_rng(seed)
    leaked = np.empty(trials, np.int64)
    fired = np.empty(trials, np.int64)
    for first in range(0, trials, batch):
        n = min(batch, trials - first)
        u = rng.random((n, threats, 2))
        left = np.full(n, rounds)
        alive_total = np.zeros(n, np.int64)
        for j in range(threats):
            alive = np.ones(n, bool)
            for shot in range(2):
                fire = alive & (left > 0)
                left -= fire
                alive &= ~(fire & (u[:, j, shot] < SINGLE_LAYER_PK))
            alive_total += alive
        leaked[first : first + n] = alive_total
        fired[first : first + n] = rounds - left
    return leaked, fired


def python_single_layer(
    trials: int, seed: int = 0, threats: int = 64, rounds: int = 96
) -> tuple[list[int], list[int]]:
    """The same doctrine as :func:`numpy_single_layer`, one trial at a time in plain Python."""
    import random

    rng = random.Random(seed)
    leaked, fired = [], []
    for _ in range(trials):
        left = rounds
        leaks = 0
        for _j in range(threats):
            alive = True
            for _shot in range(2):
                if alive and left > 0:
                    left -= 1
                    if rng.random() < SINGLE_LAYER_PK:
                        alive = False
            leaks += alive
        leaked.append(leaks)
        fired.append(rounds - left)
    return leaked, fired


def rng_ns_per_draw(draws: int = 50_000_000) -> float:
    """Measured cost of one keyed uniform draw (the random-number floor), ns per draw.

    Sums the draws in a loop (no memory traffic), one thread.
    """
    from costx.kernels.rng import sum_uniforms

    sum_uniforms(np.uint64(1), 1000)  # compile or load
    started = time.perf_counter()
    sum_uniforms(np.uint64(1), draws)
    return (time.perf_counter() - started) / draws * 1e9


def time_simulate(scenario, trials: int, threads: int | None = None, repeat: int = 3) -> float:
    """Best wall time of ``simulate(..., keep_trials=False)`` over ``repeat`` runs (warm)."""
    from costx.simulation import simulate

    simulate(scenario, trials=min(trials, 1000), seed=0, threads=threads, keep_trials=False)
    best = math.inf
    for _ in range(repeat):
        started = time.perf_counter()
        simulate(scenario, trials=trials, seed=0, threads=threads, keep_trials=False)
        best = min(best, time.perf_counter() - started)
    return best


def _best(fn, *args, repeat: int = 3) -> float:
    """Best wall time of ``fn(*args)`` over ``repeat`` calls."""
    best = math.inf
    for _ in range(repeat):
        started = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - started)
    return best


def startup_seconds(trials: int = 10_000, cold: bool = False) -> float:
    """Wall time of ``costx run`` in a fresh process; cold: with an empty Numba cache."""
    import os

    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        if cold:
            env["NUMBA_CACHE_DIR"] = tmp
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "costx", "run", "--trials", str(trials), "--no-progress",
             "--out", str(Path(tmp) / "out.parquet")],
            check=True,
            env=env,
            capture_output=True,
        )  # fmt: skip
        return time.perf_counter() - started


# -- the suite of `costx bench` -----------------------------------------------------------

PARTS = ("single_layer", "mixed_raid", "campaign", "sweep", "startup", "rng")


def suite(parts=PARTS, trials: int = 200_000, scenario=None) -> list[dict]:
    """Measure the benchmark workloads on this machine (what `costx bench` prints).

    Each row: workload, variant, trials, seconds, trials per second. ``scenario`` adds the
    user's own scenario (1 and all threads).
    """
    import numba

    from costx.scenario import load_scenario

    threads = numba.config.NUMBA_NUM_THREADS
    rows: list[dict] = []

    def add(workload, variant, n, seconds):
        rows.append({"workload": workload, "variant": variant, "trials": n,
                     "seconds": seconds, "trials_per_s": n / seconds})  # fmt: skip

    if scenario is not None:
        s = load_scenario(scenario)
        for t in sorted({1, threads}):
            add(s.name, f"{t} thread(s)", trials, time_simulate(s, trials, threads=t))
    for w in WORKLOADS:
        if w.part not in parts:
            continue
        n = max(1_000, round(trials * w.trials / 1_000_000))
        t = w.threads or threads
        add(w.name, f"{w.variant}, {t} thread(s)", n, time_simulate(w.build(), n, threads=t))
        if w.id == "single_layer[all threads]":
            n = min(trials, 200_000)
            add("single_layer", "NumPy reference", n, _best(numpy_single_layer, n))
            n = min(trials, 3_000)
            add("single_layer", "pure Python reference", n, _best(python_single_layer, n))
    if "sweep" in parts:
        from costx.sweeps import expand_grid, load_sweep_spec, sweep

        spec = load_sweep_spec("ddg_magazine_laser")
        n = max(trials // 20, 1000)
        sweep(spec.scenario, spec.grid, trials=n, seed=0)  # load the kernels
        seconds = _best(lambda: sweep(spec.scenario, spec.grid, trials=n, seed=0))
        points = len(expand_grid(spec.grid))
        add("sweep", f"ddg_magazine_laser, {points} points x {n:,} trials, {threads} thread(s)",
            points * n, seconds)  # fmt: skip
    if "startup" in parts:
        startup_seconds(trials=1_000)  # a warm cache
        seconds = min(startup_seconds(trials=10_000) for _ in range(3))
        add("startup", "costx run, 10,000 trials, fresh process, warm cache", 10_000, seconds)
    if "rng" in parts:
        ns = rng_ns_per_draw()
        rows.append({"workload": "rng", "variant": "ns per keyed uniform draw (1 thread)",
                     "trials": 0, "seconds": ns * 1e-9, "trials_per_s": 1e9 / ns})  # fmt: skip
    return rows
