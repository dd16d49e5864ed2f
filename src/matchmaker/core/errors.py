"""One small exception hierarchy; adapters translate it into exit codes and HTTP errors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and the noun, singular for one: every count in a message (CLI, API, reports) reads this way.

    >>> counted(1, "problem"), counted(3, "problem"), counted(0, "match", "matches")
    ('1 problem', '3 problems', '0 matches')
    """
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


class MatchmakerError(Exception):
    """Base class of every error a user can cause."""


@dataclass(frozen=True)
class Problem:
    """One validation finding: where it is, what was found, and what is accepted."""

    file: str
    field: str
    value: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: " if self.file else ""
        field = f"{self.field}: " if self.field else ""
        return f"{where}{field}{self.message}"


class ProfileError(MatchmakerError):
    """A profile (or a folder of them) failed validation; carries every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        first = str(self.problems[0]) if self.problems else "invalid profile"
        more = f" (and {counted(len(self.problems) - 1, 'more problem')})" if len(self.problems) > 1 else ""
        super().__init__(first + more)


class UnknownOrganisation(MatchmakerError):
    """An organisation id or name that is not in the population."""

    def __init__(self, query: str, suggestions: Sequence[str] = ()) -> None:
        self.query = query
        self.suggestions = tuple(suggestions)
        hint = f"; did you mean {', '.join(repr(s) for s in self.suggestions)}?" if suggestions else ""
        super().__init__(f"unknown organisation {query!r}{hint}")


class SettingsError(MatchmakerError):
    """A weight, combiner or other setting outside what is accepted."""
