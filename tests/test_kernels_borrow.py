"""Kernel helpers compiled with ``jit(borrow=True)`` (kernels/_jit.py) emit no reference
counting: they must never hand an array back to their caller or keep one, or the counts
of the arrays they were given would go wrong (a premature free, a leak or a crash).

Checked here: every borrowing helper is compiled by the kernel paths these tests run (so
none escapes the checks), none of its compiled signatures returns an array, and over all
these paths the Numba runtime frees every allocation it makes (its own statistics).
"""

import gc
import importlib

import numba
import pytest
from numba.core import types
from numba.core.runtime import _nrt_python

from costx import bench, load_scenario
from costx.kernels._jit import _NO_REFCOUNT
from costx.simulation import Lowered, numba_threads

MODULES = ("engagement", "laser", "memo", "damage", "rng")


def _borrowing():
    out = {}
    for name in MODULES:
        module = importlib.import_module(f"costx.kernels.{name}")
        for attr, value in vars(module).items():
            if (
                isinstance(value, numba.core.registry.CPUDispatcher)
                and value.__module__ == module.__name__
                and value.targetoptions.get("_nrt") is False
            ):
                out[f"{name}.{attr}"] = value
    return out


def _holds_array(ty) -> bool:
    if isinstance(ty, types.Array):
        return True
    if isinstance(ty, types.BaseTuple):
        return any(_holds_array(t) for t in ty.types)
    return False


def _run_every_path():
    """The engine (all three policies, lasers, a railgun), the graph of recurring states
    (recording and replaying), the air base and the ship damage kernels."""
    with numba_threads(2):
        for policy in ("layered", "preferential", "cost_aware"):
            Lowered(bench.drone_raid(12, policy), memo=False).run(0, 600, 5)
        for name in ("ddg_mixed_raid", "pacific_airbase_hvp_laser"):
            Lowered(load_scenario(name), memo=False).run(0, 600, 5)
        memo = Lowered(bench.single_layer(16), memo=True)
        assert memo.memo is not None
        for k in range(3):
            memo.run(k * 2_000, 2_000, 5)


@pytest.fixture(scope="module")
def allocations():
    """(allocations, frees) of the Numba runtime over every path, kernels compiled."""
    _run_every_path()  # compile (or load) everything first
    gc.collect()
    was_on = _nrt_python.memsys_stats_enabled()
    _nrt_python.memsys_enable_stats()
    try:
        before = (_nrt_python.memsys_get_stats_mi_alloc(), _nrt_python.memsys_get_stats_mi_free())
        _run_every_path()
        gc.collect()
        after = (_nrt_python.memsys_get_stats_mi_alloc(), _nrt_python.memsys_get_stats_mi_free())
    finally:
        if not was_on:
            _nrt_python.memsys_disable_stats()
    return after[0] - before[0], after[1] - before[1]


def test_borrowing_is_available_and_used():
    # Numba's option exists in the versions pyproject.toml allows; if a future Numba
    # drops it, borrow= silently does nothing and this test says so.
    assert _NO_REFCOUNT == {"_nrt": False}
    assert {"engagement._done_by", "engagement._plan", "laser.g_inverse"} <= set(_borrowing())


def test_no_borrowing_helper_returns_an_array(allocations):
    helpers = _borrowing()
    unused = sorted(name for name, f in helpers.items() if not f.signatures)
    assert not unused, f"not compiled by these paths, so unchecked: {unused}"
    for name, f in helpers.items():
        for sig in f.nopython_signatures:
            assert not _holds_array(sig.return_type), f"{name} returns {sig.return_type}"


def test_the_runtime_frees_what_the_kernels_allocate(allocations):
    allocated, freed = allocations
    assert allocated > 0  # the count ran (the parallel tasks' working arrays at least)
    assert freed == allocated, f"{allocated:,} allocations, {freed:,} frees"
