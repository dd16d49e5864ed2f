"""matchmaker: complementary partner recommendations with evidence for every reason."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    # The version is read from the installed metadata on first use: importlib.metadata costs a
    # third of `matchmaker --help`, which never shows it.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("matchmaker")
        except PackageNotFoundError:  # running from a source tree that was never installed
            found = "0.0.0"
        globals()["__version__"] = found
        return found
    raise AttributeError(f"module 'matchmaker' has no attribute {name!r}")
