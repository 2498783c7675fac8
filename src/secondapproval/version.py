"""The version of the installed distribution (pyproject.toml is its one source)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("secondapproval")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"
