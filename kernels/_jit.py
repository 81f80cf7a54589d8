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
import numba.core.cpu
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

_OPTIONS = {"cache": True, "error_model": "numpy", "nogil": True}

# Numba's option that turns reference counting off for one function (its own name,
# private to Numba; without it, ``borrow`` is a no-op and the code merely slower).
_NO_REFCOUNT = {"_nrt": False} if hasattr(numba.core.cpu.CPUTargetOptions, "_nrt") else {}


def jit(func=None, borrow=False, **overrides):
    """``numba.njit`` with the project's options (usable bare or with overrides).

    ``borrow=True`` is for helpers that only borrow the arrays they are given: they read
    and write them but never allocate an array, return one or keep one. Numba otherwise
    counts a reference to every array argument on entry and releases it on return, two
    atomic operations per array per call, which it cannot always remove: they were 24 %
    of the default scenario's time (in ``_done_by``, 14 arrays, called at every hold
    decision). Without reference counting the function cannot allocate (Numba refuses
    to compile it); returning or keeping an array would break the count, which
    tests/test_kernels_borrow.py checks (return types, and balanced allocations over
    every kernel path).
    """
    options = {**_OPTIONS, **(_NO_REFCOUNT if borrow else {}), **overrides}
    if func is None:
        return lambda f: numba.njit(**options)(f)
    return numba.njit(**options)(func)


def pjit(func=None, **overrides):
    """Like :func:`jit` but with ``parallel=True`` for kernels that use ``prange``."""
    return jit(func, parallel=True, **overrides)


# An index that is known to be >= 0 but that the compiler cannot see is (one read from an
# array, or a helper's argument), ANDed with NONNEG: the same value, with its sign bit
# visibly clear. Numba wraps a negative index around (x[-1] is the last element) with a
# compare, select and add on every access, on every axis; LLVM drops that code only when
# it can prove the index non-negative. Where the engine enters an effector, the rows of
# some twenty arrays were found that way at every visit (their shapes and strides spilled
# to the stack): masking the effector's index there, and the indices its hot helpers are
# given, ran 2 to 14 % faster on one thread (docs/performance.md). Mask only a value
# that cannot be negative: a negative one becomes an index far out of bounds
# (tests/test_kernels_boundscheck.py runs every kernel path with bounds checked).
NONNEG = 0x7FFFFFFFFFFFFFFF


@intrinsic
def prefetch_row(typingctx, arr, row):
    """Ask the processor to bring the start of ``arr[row]`` (a C-contiguous 2-D array,
    0 <= row < len(arr)) into its caches, and go on without waiting: LLVM's prefetch,
    which Numba does not expose. It changes no value, only when a later read of that
    row finds it (memo.walk_lanes: the node a lane walks to next is read a round of
    lanes later)."""
    if not (isinstance(arr, types.Array) and arr.ndim == 2 and isinstance(row, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        r = context.cast(builder, args[1], signature.args[1], types.intp)
        zero = context.get_constant(types.intp, 0)
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [r, zero], wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = builder.module.declare_intrinsic("llvm.prefetch", [i8p], fnty)
        # a read (0), kept in every level of cache (3), of data (1)
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(arr, row), codegen
