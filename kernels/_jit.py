"""The one place that sets Numba options for every costx kernel.

``cache=True`` compiles each kernel once per environment (the cache lives next to the
source, or under ``NUMBA_CACHE_DIR``); ``error_model="numpy"`` lets division by zero give
inf/nan instead of raising inside hot loops. No ``fastmath``: the laser integration and
the cost sums need IEEE semantics, and reproducibility across machines depends on it.

Numba's cache checks only the timestamp of the file that defines a kernel: it does not
notice edits to functions or constants the kernel takes from another module. Numbers that
describe a scenario therefore always reach the kernels as arguments (costx.lowering);
what kernels share across modules are fixed codes (the random-number purposes of rng.py)
and helper functions; kernels/_stamp.py makes every kernel compile again after an edit
to any kernel source.
"""

import numba

_OPTIONS = {"cache": True, "error_model": "numpy", "nogil": True}


def jit(func=None, **overrides):
    """``numba.njit`` with the project's options (usable bare or with overrides)."""
    options = {**_OPTIONS, **overrides}
    if func is None:
        return lambda f: numba.njit(**options)(f)
    return numba.njit(**options)(func)


def pjit(func=None, **overrides):
    """Like :func:`jit` but with ``parallel=True`` for kernels that use ``prange``."""
    return jit(func, parallel=True, **overrides)
