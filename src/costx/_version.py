"""The installed version of costx, in a module of its own so that every layer can read it
without importing the package facade (costx/__init__.py) from below.

Read on first use: importlib.metadata takes about 25 ms to import, a tenth of the start-up
time of ``import costx`` and ``costx --help``, which never need the version.
"""

import functools


@functools.cache
def version() -> str:
    """costx's version as installed (``0+unknown`` when run from a bare source tree)."""
    # lazy, for start-up time: importlib.metadata is slow to import (see above)
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("costx")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"
