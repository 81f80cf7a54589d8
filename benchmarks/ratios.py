"""The speed ratios of issue 16's targets, measured in one process (a quick alternative to
the full pytest-benchmark run: the ratios, not the absolute speeds, are what a shared,
noisy machine measures well):

    python benchmarks/ratios.py [--scale 0.5] [--threads 2]

Times each workload of costx.bench.WORKLOADS it needs (best of three warm runs, trials
scaled from the registry's full counts) and prints trials per second and the ratios.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numba

from costx import bench
from costx.kernels.engagement import TRIALS_PER_TASK

NEEDED = (
    "single_layer[all threads]",
    "mixed_raid[layered]",
    "mixed_raid[preferential]",
    "mixed_raid[cost_aware]",
    "drone_raid[layered, 64 threats]",
    "drone_raid[cost_aware, 64 threats]",
    "drone_raid[layered, 256 threats]",
    "drone_raid[cost_aware, 256 threats]",
    "iran_israel_apr2024[layered]",
)
SHARE = 0.2  # of the registry's full trial counts, at scale 1


def measure(scale: float, threads: int | None) -> dict[str, tuple[float, int]]:
    """Trials per second and threats per trial of each needed workload.

    Each run has at least two parallel tasks per thread: a run of fewer trials than one
    task (TRIALS_PER_TASK) runs on one thread whatever the setting, which made the slow
    workloads' ratios against the fast ones up to twice too high on two threads."""
    out = {}
    for wid in NEEDED:
        w = bench.workload(wid)
        n_threads = threads or w.threads or numba.get_num_threads()
        n = max(2 * TRIALS_PER_TASK * n_threads, round(w.trials * SHARE * scale))
        seconds = bench.time_simulate(w.build(), n, threads=threads or w.threads)
        threats = sum(sum(row) for row in w.scenario().salvo_counts())
        out[wid] = (n / seconds, threats)
    return out


def table(rates: dict[str, tuple[float, int]]) -> str:
    rate = {k: v[0] for k, v in rates.items()}

    def per_threat(wid):
        return 1.0 / rates[wid][0] / rates[wid][1]

    lines = ["| workload | trials/s |", "|---|---:|"]
    lines += [f"| {wid} | {r:,.0f} |" for wid, r in rate.items()]
    lines += ["", "| ratio | measured | target |", "|---|---:|---:|"]
    ratios = [
        ("mixed_raid: cost_aware time / layered time",
         rate["mixed_raid[layered]"] / rate["mixed_raid[cost_aware]"], "<= 2"),
        ("drone_raid, 64 threats: cost_aware time / layered time",
         rate["drone_raid[layered, 64 threats]"] / rate["drone_raid[cost_aware, 64 threats]"],
         "-"),
        ("drone_raid, 256 threats: cost_aware time / layered time",
         rate["drone_raid[layered, 256 threats]"] / rate["drone_raid[cost_aware, 256 threats]"],
         "<= 3"),
        ("iran_israel_apr2024 time per threat / ddg_mixed_raid's (as bundled, preferential)",
         per_threat("iran_israel_apr2024[layered]") / per_threat("mixed_raid[preferential]"),
         "<= 2"),
        ("iran_israel_apr2024 time per threat / mixed_raid layered's",
         per_threat("iran_israel_apr2024[layered]") / per_threat("mixed_raid[layered]"), "-"),
    ]  # fmt: skip
    lines += [f"| {label} | {value:.2f} | {target} |" for label, value, target in ratios]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
        cwd=Path(__file__).parent,
    ).stdout.strip()  # fmt: skip
    print(f"commit {commit or '?'}; best of 3 warm runs; threads {args.threads or 'all'}\n")
    print(table(measure(args.scale, args.threads)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
