"""Kernel helpers compiled with ``jit(borrow=True)`` (kernels/_jit.py) emit no reference
counting: they must never hand an array back to their caller or keep one, or the counts
of the arrays they were given would go wrong (a premature free, a leak or a crash).

Checked here: every borrowing helper is compiled by the kernel paths these tests run (so
none escapes the checks), none of its compiled signatures returns an array, and over all
these paths the Numba runtime frees every allocation it makes (its own statistics).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from costx.kernels._jit import _NO_REFCOUNT

# The engine's recording helpers: compiled for record_trials only (``rec`` is None in a
# plain run and its branches are pruned before typing), about 5 s of a cold start.
RECORDING = ("_trace_state", "_trace_salvo_start", "_trace_event")

# Run in a fresh process with an empty Numba cache: a helper loaded from the cache has no
# signatures of its own (its code is inside its caller's), so only a compiling process
# can say what each helper returns. About a minute, most of it compiling.
_CHILD = """
import gc, importlib, json, sys
import numba
from numba.core import types
from numba.core.runtime import _nrt_python
sys.path.insert(0, TESTS)
from kernel_paths import every_path

def holds_array(ty):
    if isinstance(ty, types.Array):
        return True
    return isinstance(ty, types.BaseTuple) and any(holds_array(t) for t in ty.types)

# The plain engine alone first, and what it compiled of the recording (RECORDING).
from costx import bench
from costx.simulation import Lowered
import costx.kernels.engagement as engagement
for policy in ("layered", "preferential", "cost_aware"):
    Lowered(bench.drone_raid(12, policy), memo=False).run(0, 50, 5)
plain = sorted(name for name in RECORDING
               if getattr(engagement, name).nopython_signatures)
every_path()  # compiles everything
gc.collect()
_nrt_python.memsys_enable_stats()
before = (_nrt_python.memsys_get_stats_mi_alloc(), _nrt_python.memsys_get_stats_mi_free())
every_path()
gc.collect()
after = (_nrt_python.memsys_get_stats_mi_alloc(), _nrt_python.memsys_get_stats_mi_free())
helpers = {}
for name in ("engagement", "laser", "memo", "damage", "rng"):
    module = importlib.import_module("costx.kernels." + name)
    for attr, f in vars(module).items():
        if (isinstance(f, numba.core.registry.CPUDispatcher)
                and f.__module__ == module.__name__
                and f.targetoptions.get("_nrt") is False):
            helpers[name + "." + attr] = [
                [str(sig.return_type), holds_array(sig.return_type)]
                for sig in f.nopython_signatures
            ]
print(json.dumps({"helpers": helpers, "allocated": after[0] - before[0],
                  "freed": after[1] - before[1], "plain": plain}))
""".replace("TESTS", repr(str(Path(__file__).parent))).replace("RECORDING", repr(RECORDING))


@pytest.fixture(scope="module")
def child(tmp_path_factory):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path_factory.mktemp("numba_cache")))
    done = subprocess.run(
        [sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_borrowing_is_available_and_used(child):
    # Numba's option exists in the versions pyproject.toml allows; if a future Numba
    # drops it, borrow= silently does nothing and this test says so.
    assert _NO_REFCOUNT == {"_nrt": False}
    assert {"engagement._done_by", "engagement._plan", "laser.g_inverse"} <= set(child["helpers"])


def test_no_borrowing_helper_returns_an_array(child):
    unused = sorted(name for name, sigs in child["helpers"].items() if not sigs)
    assert not unused, f"not compiled by these paths, so unchecked: {unused}"
    for name, sigs in child["helpers"].items():
        for return_type, holds_array in sigs:
            assert not holds_array, f"{name} returns {return_type}"


def test_a_plain_run_compiles_none_of_the_recording(child):
    # `if rec is not None:` is pruned where rec is None (the plain engine, engine_task);
    # `if rec:` would not be, and the plain engine would compile these too.
    assert child["plain"] == []
    assert {"engagement." + name for name in RECORDING} <= set(child["helpers"])


def test_the_runtime_frees_what_the_kernels_allocate(child):
    assert child["allocated"] > 0  # the count ran (the tasks' working arrays at least)
    assert child["freed"] == child["allocated"], child
