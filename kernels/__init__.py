"""Numba kernels of costx, installed as ``costx.kernels``.

They take NumPy arrays and scalars and return (or fill) arrays; they never import
pandas, pyarrow or anything from ``costx`` outside this subpackage. Import them only as
``costx.kernels...``: a bare ``import kernels`` from the repository root would load a
second copy and compile everything twice (ruff rule TID251 bans it).

Numba caches compiled kernels (``cache=True``) and checks only the timestamp of the file
that defines each kernel: after editing ``rng.py`` or ``laser.py`` during development,
clear ``kernels/__pycache__`` (or your ``NUMBA_CACHE_DIR``) so that the engagement
kernel, which calls them, is compiled again.
"""
