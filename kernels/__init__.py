"""Numba kernels of costx, installed as ``costx.kernels``.

They take NumPy arrays and scalars and return (or fill) arrays; they never import
pandas, pyarrow or anything from ``costx`` outside this subpackage. Import them only as
``costx.kernels...``: a bare ``import kernels`` from the repository root would load a
second copy and compile everything twice (ruff rule TID251 bans it).

Numba caches compiled kernels (``cache=True``) and checks only the timestamp of the file
that defines each kernel, not of the modules it takes functions and constants from; on
import, ``_stamp.check`` compares a digest of every kernel source with the one stored
next to the cache and, after any edit, makes every kernel compile again.
"""

from costx.kernels import damage, engagement, laser, memo, rng
from costx.kernels._stamp import check as _check_cache

_check_cache((damage, engagement, laser, memo, rng))
