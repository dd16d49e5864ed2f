"""Request bodies and responses of the events API: the event file's format (docs/events.md) as JSON Schema.

The bodies state every rule JSON Schema can state (ids, lengths, ranges, text); what needs the whole
event (ids that refer to each other, slots in time order, confirmed meetings that obey every rule) is
checked by the core when the event is built, and answered with 422 and every problem (a new event) or
409 (a change that contradicts the event as it is).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from matchmaker.core.events.model import (
    DEFAULT_TYPE,
    MAX_PARTICIPANTS,
    MAX_SLOT_MINUTES,
    MAX_SLOTS,
    MAX_TABLES,
    MIN_SLOT_MINUTES,
)
from matchmaker.service.schemas import ID_PATTERN, Key, Name, _Strict, text_pattern, whole_number

SLOT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
MAX_METHOD_SECONDS = 3600


def _text_only(value: Any) -> Any:
    """A date and time is JSON text (a number is not one: pydantic would read it as seconds since 1970)."""
    if not isinstance(value, str):
        raise ValueError("a date and time is text such as 2025-11-20T10:00:00+05:30")
    return value


SlotId = Annotated[str, Field(pattern=SLOT_PATTERN, description="Letters, digits and _ . : - (at most 64).")]
TableName = Annotated[str, Field(min_length=1, max_length=40, pattern=text_pattern(1, multiline=False))]
Line = Annotated[str, Field(max_length=120, pattern=text_pattern(0, multiline=False))]
Note = Annotated[str, Field(max_length=300, pattern=text_pattern(0, multiline=True))]
Start = Annotated[
    str,
    Field(
        json_schema_extra={"format": "date-time"},
        description="A date and time with a UTC offset (RFC 3339), e.g. 2025-11-20T10:00:00+05:30.",
    ),
    BeforeValidator(_text_only),
]
Count = Annotated[int, Field(ge=0, le=MAX_SLOTS), BeforeValidator(whole_number)]
Minutes = Annotated[int, Field(ge=MIN_SLOT_MINUTES, le=MAX_SLOT_MINUTES), BeforeValidator(whole_number)]
OpenTables = Annotated[
    Annotated[int, Field(ge=0, le=MAX_TABLES), BeforeValidator(whole_number)]
    | Annotated[list[TableName], Field(max_length=MAX_TABLES)]
    | None,
    Field(description="Tables open in the slot: none for all, a number for the first ones, or their names."),
]
OrgId = Annotated[str, Field(pattern=ID_PATTERN, description="An organisation id (a profile's, or an attendee's).")]


class SlotIn(_Strict):
    id: SlotId
    start: Start
    minutes: Minutes
    tables: OpenTables = None


class SessionSlotsIn(_Strict):
    """A session with its slots spelled out."""

    id: SlotId
    name: Line = ""
    slots: Annotated[list[SlotIn], Field(min_length=1, max_length=MAX_SLOTS)]


class SessionSeriesIn(_Strict):
    """A session of ``count`` slots of ``minutes``, ``pause`` minutes apart, named ``<id>-1``, ``<id>-2``..."""

    id: SlotId
    name: Line = ""
    start: Start
    minutes: Minutes
    count: Annotated[int, Field(ge=1, le=MAX_SLOTS), BeforeValidator(whole_number)]
    pause: Annotated[int, Field(ge=0, le=MAX_SLOT_MINUTES), BeforeValidator(whole_number)] = 0
    tables: OpenTables = None


class TypeIn(_Strict):
    """Limits shared by the participants of a type (none: no limit beyond the slots)."""

    min_meetings: Count = 0
    max_meetings: Count | None = None
    max_per_session: Count | None = None


class ParticipantIn(_Strict):
    """A participant's name, type, available slots (slot or session ids; none: all) and limits."""

    name: Name | None = None
    type: Key = DEFAULT_TYPE
    available: Annotated[list[SlotId], Field(max_length=2 * MAX_SLOTS)] | None = None
    min_meetings: Count | None = None
    max_meetings: Count | None = None


class EventParticipantIn(ParticipantIn):
    id: OrgId


class RequestIn(_Strict):
    """``by`` asks to meet ``to``."""

    by: OrgId
    to: OrgId


class EventRequestIn(RequestIn):
    status: Literal["open", "accepted", "declined"] = "open"


class BlockIn(_Strict):
    a: OrgId
    b: OrgId
    reason: Literal["declined", "related", "conflict"]
    note: Note = ""


class ConfirmedIn(_Strict):
    a: OrgId
    b: OrgId
    slot: SlotId
    table: TableName


class CancelledIn(_Strict):
    a: OrgId
    b: OrgId
    slot: SlotId | None = None


class EventIn(_Strict):
    """A whole event, as an event file has it (docs/events.md)."""

    name: Name
    tables: (
        Annotated[int, Field(ge=1, le=MAX_TABLES), BeforeValidator(whole_number)]
        | Annotated[list[TableName], Field(min_length=1, max_length=MAX_TABLES)]
    ) = Field(description="A number of tables (T01, T02, ...) or their names.")
    types: Annotated[
        dict[Key, TypeIn],
        Field(min_length=1, max_length=50, json_schema_extra={"additionalProperties": False}),  # keys are ids
    ] = Field(default_factory=lambda: {DEFAULT_TYPE: TypeIn()})
    sessions: Annotated[list[SessionSlotsIn | SessionSeriesIn], Field(min_length=1, max_length=50)]
    participants: Annotated[list[EventParticipantIn], Field(max_length=MAX_PARTICIPANTS)] = Field(default_factory=list)
    requests: list[EventRequestIn] = Field(default_factory=list)
    blocked: list[BlockIn] = Field(default_factory=list)
    confirmed: list[ConfirmedIn] = Field(default_factory=list)
    cancelled: list[CancelledIn] = Field(default_factory=list)


class ScheduleIn(_Strict):
    """How to schedule: the method, the time limit, and recommended partners per participant."""

    method: Literal["optimal", "integrated", "greedy"] = "optimal"
    time_limit: Annotated[float, Field(ge=1, le=MAX_METHOD_SECONDS), BeforeValidator(whole_number)] = 60.0
    candidates: Annotated[int, Field(ge=1, le=100), BeforeValidator(whole_number)] = 10


# -- responses ---------------------------------------------------------------------------------------


class EventOut(_Strict):
    id: str
    version: int = Field(description="1 when created, one more with every change")
    updated_at: str
    event: dict[str, Any] = Field(description="the event document, as an event file has it")


class RequestOut(_Strict):
    event: str
    version: int
    by: str
    to: str
    status: Literal["open", "accepted", "declined"]
    pair_status: Literal["open", "accepted", "declined"] = Field(
        description="the pair's status for the scheduler: declined if either side declined, accepted if accepted "
        "or asked both ways"
    )


class EventListOut(_Strict):
    events: list[dict[str, Any]] = Field(description="id and version of each event")


class JobOut(_Strict):
    id: str
    event: str
    event_version: int = Field(description="the event's version the job schedules")
    state: Literal["queued", "running", "done", "failed"]
    stage: str = Field(description="what it is doing now (a stage of the scheduler)")
    attempts: int = Field(description="how many times a worker started it (a worker that stopped starts it again)")
    worker: str | None
    error: str | None
    created_at: str
    started_at: str | None
    heartbeat_at: str | None
    finished_at: str | None
    schedule: str | None = Field(description="where the schedule is, once done")


class LevelOut(_Strict):
    name: str
    sense: Literal["max", "min"]
    value: int
    bound: int | None


class MeetingOut(_Strict):
    slot: str
    start: str = Field(description="ISO 8601 with the UTC offset of the event")
    minutes: int
    table: str
    a: str = Field(description="in a meeting from a request, the participant who asked")
    b: str
    score: float
    source: Literal["accepted", "requested", "recommended"]
    confirmed: bool = Field(description="kept from an earlier run")
    reasons: list[str]


class AgendaMeetingOut(MeetingOut):
    partner: str


class UnmetOut(_Strict):
    id: str
    meetings: int
    minimum: int
    why: str


class UnscheduledOut(_Strict):
    by: str
    to: str
    status: Literal["open", "accepted", "declined"]
    why: str


class BlockOut(_Strict):
    a: str
    b: str
    reason: str
    note: str


class ScheduleOut(_Strict):
    """The schedule of ``--format json``, with the job that made it and whether the event changed since."""

    job: str
    event_version: int
    current: bool = Field(description="false when the event changed after this schedule was made")
    status: Literal["optimal", "feasible"]
    objective: float
    bound: float | None
    gap: float | None
    time_limited: bool
    method: str
    levels: list[LevelOut]
    meetings: list[MeetingOut]
    unmet_minimums: list[UnmetOut]
    unscheduled_requests: list[UnscheduledOut]
    blocked: list[BlockOut]


class UnmetMinimumOut(_Strict):
    meetings: int
    minimum: int
    why: str


class AgendaOut(_Strict):
    event: str
    id: str
    meetings: list[AgendaMeetingOut]
    unmet_minimum: UnmetMinimumOut | None
