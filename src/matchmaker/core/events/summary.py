"""The organiser's summary of a schedule: meetings per participant, missed minimums, table use, cross-border.

One computation shared by every rendering (HTML, JSON, the XLSX workbook), so the numbers agree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from matchmaker.core.events.model import Event
from matchmaker.core.events.scheduler import Schedule


@dataclass(frozen=True)
class ParticipantLine:
    """One participant's day: how many meetings, against their limits, and why a minimum was missed."""

    id: str
    name: str
    type: str
    country: str | None
    meetings: int
    minimum: int
    maximum: int | None
    missed_minimum: str | None  # why, when below the minimum


@dataclass(frozen=True)
class SlotUse:
    """How many of a slot's open tables hold a meeting."""

    slot: str
    start: datetime
    tables: int
    used: int

    @property
    def share(self) -> float:
        return self.used / self.tables if self.tables else 0.0


@dataclass(frozen=True)
class Summary:
    """The organiser's view of a schedule."""

    event: str
    status: str
    meetings: int
    by_source: tuple[tuple[str, int], ...]
    participants: tuple[ParticipantLine, ...]
    slots: tuple[SlotUse, ...]
    cross_border: int
    same_country: int
    unknown_country: int

    @property
    def missed(self) -> tuple[ParticipantLine, ...]:
        """Participants below their minimum, fewest meetings first."""
        return tuple(sorted((p for p in self.participants if p.missed_minimum), key=lambda p: (p.meetings, p.id)))


def summarise(
    event: Event, result: Schedule, countries: Mapping[str, str] | None = None, names: Mapping[str, str] | None = None
) -> Summary:
    """Summarise ``result`` for the organiser.

    ``countries`` maps organisation ids to ISO country codes (from their profiles; registered attendees
    may have none): a meeting is cross-border when both countries are known and differ. ``names`` maps ids
    to display names (else the participant's name, else the id).

    Examples
    --------
    >>> from matchmaker.core.events.model import event_from_data
    >>> from matchmaker.core.events.scheduler import schedule
    >>> event = event_from_data({"name": "Demo", "tables": 1, "participants": [{"id": "a"}, {"id": "b"}],
    ...     "sessions": [{"id": "am", "start": "2025-03-01T10:00:00+09:00", "minutes": 20, "count": 2}]})
    >>> s = summarise(event, schedule(event, [("a", "b", 0.5)]), {"a": "JP", "b": "IN"})
    >>> s.meetings, s.cross_border, [(u.slot, u.used, u.tables) for u in s.slots]
    (1, 1, [('am-1', 1, 1), ('am-2', 0, 1)])
    """
    countries = countries or {}
    names = names or {}
    count: Counter[str] = Counter()
    used: Counter[str] = Counter()
    cross = same = unknown = 0
    for m in result.meetings:
        count[m.a] += 1
        count[m.b] += 1
        used[m.slot] += 1
        ca, cb = countries.get(m.a), countries.get(m.b)
        if ca is None or cb is None:
            unknown += 1
        elif ca != cb:
            cross += 1
        else:
            same += 1
    why = {u.id: u.why for u in result.unmet_minimums}
    lines = []
    for p in event.participants:
        limits = event.limits(p)
        lines.append(
            ParticipantLine(
                id=p.id,
                name=names.get(p.id) or p.name or p.id,
                type=p.type,
                country=countries.get(p.id),
                meetings=count[p.id],
                minimum=limits.min_meetings,
                maximum=limits.max_meetings,
                missed_minimum=why.get(p.id),
            )
        )
    sources = Counter(m.source for m in result.meetings)
    return Summary(
        event=event.name,
        status=result.status,
        meetings=len(result.meetings),
        by_source=tuple(sorted(sources.items())),
        participants=tuple(lines),
        slots=tuple(SlotUse(s.id, s.start, len(event.tables_in(s)), used[s.id]) for s in event.slots),
        cross_border=cross,
        same_country=same,
        unknown_country=unknown,
    )
