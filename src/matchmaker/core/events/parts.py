"""The parts of an event: time slots and sessions, participation types, participants, requests and pairs.

Each part validates itself (types, ranges, id rules); what needs the whole event (ids that refer to each
other, slots that must not overlap, confirmed meetings that must obey every rule) is checked by
:class:`~matchmaker.core.events.event.Event`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from matchmaker.core.profile import Key, Line, Name, OrgId, Prose

RequestStatus = Literal["open", "accepted", "declined"]
REQUEST_STATUSES: tuple[RequestStatus, ...] = ("open", "accepted", "declined")
BlockReason = Literal["declined", "related", "conflict", "cancelled"]
# What an organiser may write in ``blocked``; "declined" and "cancelled" also arise from requests and
# cancellations.
BLOCK_REASONS: tuple[str, ...] = ("declined", "related", "conflict")
DEFAULT_TYPE = "participant"
MIN_SLOT_MINUTES = 5
MAX_SLOT_MINUTES = 480
MAX_SLOTS = 200
MAX_TABLES = 5_000
MAX_PARTICIPANTS = 20_000

SlotId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]
TableName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Count = Annotated[int, Field(ge=0, le=MAX_SLOTS)]
SLOT_ID_RULE = "letters, digits and _ . : - (at most 64, starting with a letter or digit)"


class Problems(ValueError):
    """Problems found by a model validator, with fields relative to the model that raised them."""

    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{field}: {message}" if field else message for field, _, message in problems))


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Slot(Frozen):
    """One meeting slot: when it starts, how long it lasts, and which tables are open in it.

    ``tables`` is None for every table of the event, a number for the event's first tables, or the
    names of the open tables.
    """

    id: SlotId
    start: AwareDatetime
    minutes: Annotated[int, Field(ge=MIN_SLOT_MINUTES, le=MAX_SLOT_MINUTES)]
    tables: Annotated[int, Field(ge=0, le=MAX_TABLES)] | tuple[TableName, ...] | None = None

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)


def _series(data: dict[str, Any]) -> dict[str, Any]:
    """A session given as ``start``, ``minutes``, ``count`` (and ``pause``) with its slots spelled out."""
    problems: list[tuple[str, str, str]] = []
    keys = {"start", "minutes", "count", "pause"}
    if "slots" in data:
        both = sorted(keys & set(data))
        problems.append((both[0], str(data[both[0]]), "give either slots, or start, minutes and count; not both"))
        raise Problems(problems)
    start, minutes, count, pause = (data.get(k) for k in ("start", "minutes", "count", "pause"))
    for name in ("start", "minutes", "count"):
        if data.get(name) is None:
            problems.append(
                (name, "", f"missing required field {name!r} (a session is slots, or start, minutes and count)")
            )
    try:
        start = TypeAdapter(AwareDatetime).validate_python(start) if start is not None else None
    except ValidationError:
        problems.append(
            ("start", str(start), "must be a date and time with a UTC offset, e.g. 2025-03-01T10:00:00+09:00")
        )
    for name, value, low, high in (
        ("minutes", minutes, MIN_SLOT_MINUTES, MAX_SLOT_MINUTES),
        ("count", count, 1, MAX_SLOTS),
        ("pause", 0 if pause is None else pause, 0, MAX_SLOT_MINUTES),
    ):
        if value is not None and (type(value) is not int or not low <= value <= high):
            problems.append((name, str(value), f"must be a whole number from {low} to {high}, got {value!r}"))
    if problems:
        raise Problems(problems)
    assert isinstance(start, datetime) and isinstance(minutes, int) and isinstance(count, int)
    step = timedelta(minutes=minutes + (pause or 0))
    width = len(str(count))
    session_id = data.get("id", "session")
    slots = [
        {"id": f"{session_id}-{k + 1:0{width}d}", "start": start + k * step, "minutes": minutes}
        | ({"tables": data["tables"]} if "tables" in data else {})
        for k in range(count)
    ]
    return {k: v for k, v in data.items() if k not in keys | {"tables"}} | {"slots": slots}


class Session(Frozen):
    """A block of consecutive slots (a morning, an afternoon) with its own per-session meeting limits.

    A session is given either with its ``slots`` spelled out, or as ``start``, ``minutes`` and ``count``
    (and optionally ``pause`` minutes between slots and ``tables`` for every slot); the short form is
    expanded into slots ``<id>-1``, ``<id>-2``, ...
    """

    id: SlotId
    name: Annotated[Line, Field(max_length=120)] = ""
    slots: Annotated[tuple[Slot, ...], Field(min_length=1, max_length=MAX_SLOTS)]

    @model_validator(mode="before")
    @classmethod
    def _expand(cls, data: Any) -> Any:
        if isinstance(data, dict) and ({"start", "minutes", "count"} & set(data)):
            return _series(data)
        return data


class ParticipationType(Frozen):
    """Limits shared by every participant of a type (buyer, seller, startup, ...).

    ``None`` means no limit beyond the slots.
    """

    min_meetings: Count = 0
    max_meetings: Count | None = None
    max_per_session: Count | None = None


class Participant(Frozen):
    """An organisation taking part: a shipped profile's id or a registered attendee's.

    ``available`` lists the slots the participant can meet in, by slot id or session id (a session means
    all its slots; None: every slot). ``min_meetings``
    and ``max_meetings`` default to the participation type's; when both are given the tighter maximum
    applies.
    """

    id: OrgId
    name: Name | None = None
    type: Key = DEFAULT_TYPE
    available: tuple[SlotId, ...] | None = None
    min_meetings: Count | None = None
    max_meetings: Count | None = None


class Request(Frozen):
    """A meeting request: ``by`` asks ``to``; ``to`` accepts or declines (a declined request blocks the pair)."""

    by: OrgId
    to: OrgId
    status: RequestStatus = "open"


class Block(Frozen):
    """A pair that must not meet, and why: ``declined``, ``related`` (same group) or ``conflict`` (of interest)."""

    a: OrgId
    b: OrgId
    reason: Literal["declined", "related", "conflict"]
    note: Annotated[Prose, Field(max_length=300)] = ""


class Confirmed(Frozen):
    """A meeting confirmed after an earlier run: it keeps its slot and table in the next run."""

    a: OrgId
    b: OrgId
    slot: SlotId
    table: TableName


class Cancelled(Frozen):
    """A meeting cancelled after an earlier run: its slot is free again and the pair is not scheduled again."""

    a: OrgId
    b: OrgId
    slot: SlotId | None = None


Pair = tuple[str, str]


def pair(a: str, b: str) -> Pair:
    """The unordered pair ``{a, b}`` as a sorted tuple: one spelling for lookups.

    >>> pair("tcs", "sakana-ai")
    ('sakana-ai', 'tcs')
    """
    return (a, b) if a <= b else (b, a)


def table_names(value: Any) -> Any:
    """``tables: 12`` is tables ``T01`` to ``T12``; a list names them."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_TABLES:
        width = max(2, len(str(value)))
        return [f"T{k:0{width}d}" for k in range(1, value + 1)]
    return value


class Limits(Frozen):
    """A participant's effective limits: the tighter of their own and their type's."""

    min_meetings: int
    max_meetings: int | None
    max_per_session: int | None
