"""Start-up of `costx run` in a fresh process (warm and cold kernel cache), and the memory
of a long summary-only run."""

import subprocess
import sys

import pytest

from costx import bench


def test_startup_warm(benchmark, full):
    bench.startup_seconds(trials=1_000)  # make sure the cache is warm
    seconds = benchmark.pedantic(bench.startup_seconds, kwargs={"trials": 10_000},
                                 rounds=3 if full else 1, iterations=1)  # fmt: skip
    benchmark.extra_info.update(trials=10_000)
    assert seconds > 0


def test_startup_cold(benchmark, full):
    if not full:  # compiling everything takes tens of seconds: timed run only
        pytest.skip("timed run only")
    benchmark.pedantic(bench.startup_seconds, kwargs={"trials": 10_000, "cold": True},
                       rounds=1, iterations=1)  # fmt: skip
    benchmark.extra_info.update(trials=10_000)


def test_summary_only_memory(full):
    """Peak resident memory of a summary-only mixed_raid run, in a fresh process.

    Target: under 500 MB for 10 million trials (the timed run); CI checks 200,000.
    """
    trials = 10_000_000 if full else 200_000
    # Peak resident set of the process itself: VmHWM. (getrusage's ru_maxrss would also
    # count the memory of the parent at the time of the fork, here all of pytest.)
    code = (
        "import costx, costx.simulation\n"
        "from costx.kernels.engagement import simulate_trials\n"
        f"costx.simulate('ddg_mixed_raid', trials={trials}, seed=0, keep_trials=False)\n"
        "print(sum(simulate_trials.stats.cache_misses.values()))\n"
        "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)  # fmt: skip
    compiled, peak_kb = (int(x) for x in done.stdout.split()[-2:])
    peak_mb = peak_kb / 1024
    # Compiling the kernels takes a few hundred MB of its own: measure the run itself.
    assert not compiled, "the kernels were compiled in this process (the cache was cold)"
    assert peak_mb < 500, f"{peak_mb:.0f} MB"
