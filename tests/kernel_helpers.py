"""Numba helpers that only tests call: thin loops over the shipped kernel functions.

They used to live in kernels/ and were installed with costx; nothing in src/ or kernels/
calls them. They are compiled with ``cache=False``: Numba keys a cached function on the
timestamp of the file that defines it, so a cached copy here would keep running the old
machine code of an edited kernel function it inlines (kernels/_stamp.py guards only the
kernels' own caches). Each takes well under a second to compile.
"""

from costx.kernels._jit import jit
from costx.kernels.damage import impact_offset
from costx.kernels.rng import GOLDEN, mix64, trial_key


@jit(cache=False)
def splitmix64_next(state):
    """One step of the SplitMix64 generator: returns (new_state, output).

    The full generator of Steele, Lea and Flood (2014), pinned by the published test
    vectors in tests/test_refimpl.py; the kernels use its output function ``mix64`` and
    its increment ``GOLDEN`` (``trial_key``). Called from Python, both come back as Python
    ints: wrap the state in np.uint64 before passing it back in (a state above 2**63
    would otherwise compile an int64 version).
    """
    state = state + GOLDEN
    return state, mix64(state)


@jit(cache=False)
def impact_offsets(seed, n, cep_m, radius, angle):
    """``n`` impact offsets of trial 0, salvo 0, group 0 (tests of their distribution)."""
    key = trial_key(seed, 0)
    for k in range(n):
        radius[k], angle[k] = impact_offset(key, 0, k, cep_m)
