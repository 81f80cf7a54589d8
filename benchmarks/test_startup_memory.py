"""Start-up of `costx run` in a fresh process (warm and cold kernel cache), and the memory
of a long summary-only run and of a campaign run that keeps its tables."""

import subprocess
import sys

from costx import bench


def test_startup_warm(benchmark, full):
    bench.startup_seconds(trials=1_000)  # make sure the cache is warm
    seconds = benchmark.pedantic(bench.startup_seconds, kwargs={"trials": 10_000},
                                 rounds=3 if full else 1, iterations=1)  # fmt: skip
    benchmark.extra_info.update(trials=10_000)
    assert seconds > 0


def test_startup_cold(benchmark, full):
    # Compiling every kernel takes about 20 s: once, also in CI (it checks that a cold
    # cache still works, e.g. after a kernel source changed).
    seconds = benchmark.pedantic(bench.startup_seconds, kwargs={"trials": 10_000, "cold": True},
                                 rounds=1, iterations=1)  # fmt: skip
    assert seconds > 0
    benchmark.extra_info.update(trials=10_000)


# Peak resident set of the child process itself: VmHWM. (getrusage's ru_maxrss would also
# count the memory of the parent at the time of the fork, here all of pytest.)
_MEMORY = """
import costx
from costx.kernels.engagement import engine_task

def status(key):
    return int(next(l.split()[1] for l in open("/proc/self/status") if l.startswith(key)))

costx.simulate({scenario!r}, trials=1000, seed=0, keep_trials={keep})  # load the kernels
before = status("VmRSS")
result = costx.simulate({scenario!r}, trials={trials}, seed=0, keep_trials={keep})
outputs = 0
if {keep}:
    outputs = result.trials.memory_usage(deep=True).sum()
    if result.has_salvos:
        outputs += result.salvos.memory_usage(deep=True).sum()
print(sum(engine_task.stats.cache_misses.values()), before, status("VmHWM"), outputs)
"""


def _memory(scenario: str, trials: int, keep: bool) -> tuple[float, float, float]:
    """(peak MB, MB before the run, MB of the output tables) of a run in a fresh process."""
    code = _MEMORY.format(scenario=scenario, trials=trials, keep=keep)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)  # fmt: skip
    compiled, before_kb, peak_kb, outputs = (int(x) for x in done.stdout.split()[-4:])
    # Compiling the kernels takes a few hundred MB of its own: measure the run itself.
    assert not compiled, "the kernels were compiled in this process (the cache was cold)"
    return peak_kb / 1024, before_kb / 1024, outputs / 2**20


def test_summary_only_memory(benchmark, full):
    """Peak resident memory of a summary-only mixed_raid run, in a fresh process.

    Target: under 500 MB for 10 million trials (the timed run); CI checks 200,000.
    """
    trials = 10_000_000 if full else 200_000
    peak, _, _ = benchmark.pedantic(_memory, args=("ddg_mixed_raid", trials, False), rounds=1,
                                    iterations=1)  # fmt: skip
    benchmark.extra_info.update(trials=trials, peak_mb=peak)
    assert peak < 500, f"{peak:.0f} MB"


def test_kept_tables_memory(benchmark, full):
    """Memory a campaign run with its tables needs beyond the tables themselves.

    Target (issue: "a few hundred MB beyond its output columns" at 10 million trials):
    under 30 MB plus 120 bytes per trial; the tables share the kernel's output arrays
    instead of copying them (measured about 85 bytes per trial, pacific_airbase).
    """
    trials = 1_000_000 if full else 300_000
    peak, before, outputs = benchmark.pedantic(
        _memory, args=("pacific_airbase", trials, True), rounds=1, iterations=1
    )
    extra = peak - before - outputs
    benchmark.extra_info.update(trials=trials, peak_mb=peak, outputs_mb=outputs, extra_mb=extra)
    assert extra < 30 + 120 * trials / 2**20, f"{extra:.0f} MB beyond {outputs:.0f} MB of tables"
