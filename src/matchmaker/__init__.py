"""matchmaker: complementary partner recommendations with evidence for every reason."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("matchmaker")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
