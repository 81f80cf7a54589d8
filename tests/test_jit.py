"""kernels/_jit.py's prefetch_row: LLVM's prefetch, which changes no value.

memo.walk_lanes asks for the replay row of the node a lane walks to next, read a round of
lanes later (docs/performance.md, the nineteenth stop). The tests compile small functions
of their own (not cached, so that their machine code can be read)."""

import numba
import numpy as np
import pytest

from costx.kernels._jit import prefetch_row


@numba.njit
def _sum_rows(a, rows):
    total = 0
    for r in rows:
        prefetch_row(a, r)
        total += a[r, 0] + a[r, a.shape[1] - 1]
    return total


def test_prefetch_row_emits_a_prefetch_and_changes_nothing():
    a = np.arange(4000, dtype=np.int64).reshape(500, 8)
    rows = np.random.default_rng(7).integers(0, 500, 300)
    assert _sum_rows(a, rows) == int(a[rows, 0].sum() + a[rows, 7].sum())
    rows32 = rows.astype(np.int32)  # any integer row
    assert _sum_rows(a, rows32) == _sum_rows(a, rows)
    assembly = _sum_rows.inspect_asm(_sum_rows.signatures[0])
    assert "prefetch" in assembly


def test_prefetch_row_takes_a_two_dimensional_array_only():
    @numba.njit
    def one_dimensional(a):
        prefetch_row(a, 0)

    with pytest.raises(numba.core.errors.TypingError):
        one_dimensional(np.zeros(8))
