"""What the scheduler reads besides the event and what it returns: candidates, meetings, levels, the schedule."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from matchmaker.core.events.model import RequestStatus

Source = Literal["confirmed", "accepted", "requested", "recommended"]
SOURCES: tuple[Source, ...] = ("confirmed", "accepted", "requested", "recommended")
Status = Literal["optimal", "feasible"]
SCORE_SCALE = 1000
NO_BOUND = 2**62  # a level whose run ended before the solver had a bound


def score_units(score: float) -> int:
    """A score as the whole number the objective adds: thousandths, rounded half to even.

    >>> score_units(0.4567), score_units(1.0), score_units(0.0005)
    (457, 1000, 0)
    """
    return round(score * SCORE_SCALE)


@dataclass(frozen=True)
class Candidate:
    """A recommended pair with its score and the top reasons to meet (for agendas)."""

    a: str
    b: str
    score: float
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Meeting:
    """One scheduled meeting: when, where, who, and why."""

    slot: str
    start: datetime
    minutes: int
    table: str
    a: str
    b: str
    score: float
    source: Source
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Unmet:
    """A participant below their minimum: how many meetings they have, the minimum, and why."""

    id: str
    meetings: int
    minimum: int
    why: str


@dataclass(frozen=True)
class UnscheduledRequest:
    """An accepted or open request that is not in the schedule, and why."""

    by: str
    to: str
    status: RequestStatus
    why: str


@dataclass(frozen=True)
class Level:
    """One level of the lexicographic objective: its value in the schedule and the best value possible.

    ``bound`` is the solver's bound given the levels before it at the values reached (None for methods
    without a bound, such as greedy).
    """

    name: str
    sense: Literal["max", "min"]
    value: int
    bound: int | None


LEVELS: Mapping[str, str] = {
    "accepted": "accepted requests met",
    "worst_shortfall": "largest shortfall below a participant's minimum",
    "total_shortfall": "total shortfall below minimums",
    "requested": "open requests met",
    "score": "total score of the meetings, in thousandths",
}


@dataclass(frozen=True)
class Schedule:
    """The scheduler's result.

    ``status`` is ``"optimal"`` when every level reaches its bound. ``objective`` and ``bound`` are the
    last level (the total score of the meetings); ``gap`` is ``(bound - objective) / bound``, and None when
    a level before it falls short of its bound (the score's bound assumes they reach theirs). The levels
    give each value and bound. ``time_limited`` says a solver run stopped at the time limit (only then can
    two runs on the same input differ). ``stages`` counts what each stage did (pairs, pairs selected,
    placed greedily, placed by repair, dropped, filled), for diagnosis.
    """

    status: Status
    objective: float
    bound: float | None
    gap: float | None
    levels: tuple[Level, ...]
    meetings: tuple[Meeting, ...]
    unmet_minimums: tuple[Unmet, ...]
    unscheduled_requests: tuple[UnscheduledRequest, ...]
    method: str
    time_limited: bool = False
    stages: tuple[tuple[str, int], ...] = ()

    def agenda(self, org: str) -> tuple[Meeting, ...]:
        """The meetings of ``org``, in time order."""
        return tuple(m for m in self.meetings if org in (m.a, m.b))


def meets(reached: tuple[int, ...], bounds: tuple[int, ...]) -> bool:
    """Whether the first ``len(reached)`` levels reach their bounds."""
    senses = ("max", "min", "min", "max", "max")[: len(reached)]
    return all((r >= b) if s == "max" else (r <= b) for r, b, s in zip(reached, bounds, senses, strict=True))
