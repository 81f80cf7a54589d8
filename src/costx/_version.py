"""The installed version of costx, in a module of its own so that every layer can read it
without importing the package facade (costx/__init__.py) from below."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("costx")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"
