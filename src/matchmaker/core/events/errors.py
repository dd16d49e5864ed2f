"""The event error: every problem found in an event, each naming the field, the value and what is accepted."""

from __future__ import annotations

from collections.abc import Sequence

from matchmaker.core.errors import MatchmakerError, Problem


class EventError(MatchmakerError):
    """An event, a registration sheet or a scheduling input failed validation; carries every problem found.

    The message is the first problem (and how many more there are), as :class:`ProfileError` words it.

    >>> str(EventError([Problem("event.yaml", "sessions[0].slots[1].minutes", "0", "must be at least 5, got 0")]))
    'event.yaml: sessions[0].slots[1].minutes: must be at least 5, got 0'
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        first = str(self.problems[0]) if self.problems else "invalid event"
        more = f" (and {len(self.problems) - 1} more problems)" if len(self.problems) > 1 else ""
        super().__init__(first + more)
