"""roadwatch: city traffic monitoring on a general IoT backbone."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("roadwatch")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
