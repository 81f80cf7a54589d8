"""Keep Numba's on-disk cache honest across modules.

Numba keys a cached kernel on the timestamp and size of the file that defines it, so
editing ``rng.py`` or ``laser.py`` would leave the engagement kernel, which inlines their
functions and constants, running stale machine code. :func:`check` stores a digest of
every kernel source next to the cache and, when the sources no longer match it, empties
the cache index of every kernel: each is compiled again on its next call.
"""

import hashlib
from pathlib import Path

from numba.core.registry import CPUDispatcher

STAMP = "costx-kernels.sha256"


def source_digest() -> str:
    """SHA-256 over the names and contents of every kernel source file."""
    h = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def dispatchers(modules) -> list:
    """Every cached Numba dispatcher defined in ``modules``."""
    found = []
    for module in modules:
        for value in vars(module).values():
            if isinstance(value, CPUDispatcher) and value._cache is not None:
                if value.py_func.__module__ == module.__name__ and hasattr(value._cache, "flush"):
                    found.append(value)
    return found


def check(modules) -> bool:
    """Flush every kernel's cache if the sources changed since it was written.

    Returns True when it flushed. A cache folder that cannot be written is left alone
    (Numba then compiles in memory, or uses its own fallback folder).
    """
    kernels = dispatchers(modules)
    if not kernels:
        return False
    digest = source_digest()
    folders = {Path(d._cache._cache_path) for d in kernels}
    stale = False
    for folder in folders:
        try:
            stale |= (folder / STAMP).read_text().strip() != digest
        except OSError:
            stale = True
    if not stale:
        return False
    try:
        for d in kernels:
            d._cache.flush()
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / STAMP).write_text(digest + "\n")
    except OSError:
        pass
    return True
