"""Named choices (combiners, scorers, encoders, execution backends): one registry each, no silent fallback."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Generic, TypeVar

from matchmaker.core.errors import SettingsError

T = TypeVar("T")


class Registry(Mapping[str, T], Generic[T]):
    """Entries by name; asking for an unknown name is a SettingsError that lists the valid ones.

    >>> shapes = Registry("shape", {"circle": 1, "square": 4})
    >>> shapes.get_entry("square")
    4
    >>> shapes.get_entry("triangle")
    Traceback (most recent call last):
    ...
    matchmaker.core.errors.SettingsError: unknown shape 'triangle'; accepted: circle, square
    """

    def __init__(self, what: str, entries: Mapping[str, T] | None = None) -> None:
        self.what = what
        self._entries: dict[str, T] = dict(entries or {})

    def register(self, name: str, entry: T) -> T:
        """Add ``entry`` under ``name`` (an existing name is an error: entries are never silently replaced)."""
        if name in self._entries:
            raise SettingsError(f"{self.what} {name!r} is already registered")
        self._entries[name] = entry
        return entry

    def get_entry(self, name: str) -> T:
        """The entry called ``name``; SettingsError naming the accepted ones otherwise."""
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise SettingsError(self.unknown(name)) from None

    def unknown(self, name: object) -> str:
        """The message for an unknown ``name``: the value and what is accepted."""
        return f"unknown {self.what} {name!r}; accepted: {', '.join(self._entries)}"

    def __getitem__(self, name: str) -> T:
        return self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)
