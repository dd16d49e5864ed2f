"""The event model: sessions of time slots, tables, participants and their limits, requests and blocked pairs.

An :class:`Event` is what the scheduler reads: pure, typed and frozen. It is validated when it is built, so
an event that exists is consistent: every id it mentions is defined, slots do not overlap, and confirmed
meetings (kept from an earlier run) obey every hard rule. :func:`event_from_data` builds one from plain
data (a parsed YAML/JSON file, an API body) and reports every problem at once as an :class:`EventError`
whose problems name the field, the value and what is accepted.

Rules that live here, once:

* a participant's limits are the tighter of their own and their participation type's
  (:meth:`Event.limits`);
* a pair never meets if it is blocked (declined, related, a conflict), if either side declined a
  request, or if a meeting between them was cancelled (:meth:`Event.blocked_pairs`); a block always wins
  over a request;
* a pair asked for in both directions counts as accepted: both sides want the meeting
  (:meth:`Event.request_status`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import cached_property
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

from matchmaker.core.errors import Problem
from matchmaker.core.events.errors import EventError
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
_SLOT_ID_RULE = "letters, digits and _ . : - (at most 64, starting with a letter or digit)"


class _Problems(ValueError):
    """Problems found by a model validator, with fields relative to the model that raised them."""

    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{field}: {message}" if field else message for field, _, message in problems))


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Slot(_Frozen):
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
        raise _Problems(problems)
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
        raise _Problems(problems)
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


class Session(_Frozen):
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


class ParticipationType(_Frozen):
    """Limits shared by every participant of a type (buyer, seller, startup, ...).

    ``None`` means no limit beyond the slots.
    """

    min_meetings: Count = 0
    max_meetings: Count | None = None
    max_per_session: Count | None = None


class Participant(_Frozen):
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


class Request(_Frozen):
    """A meeting request: ``by`` asks ``to``; ``to`` accepts or declines (a declined request blocks the pair)."""

    by: OrgId
    to: OrgId
    status: RequestStatus = "open"


class Block(_Frozen):
    """A pair that must not meet, and why: ``declined``, ``related`` (same group) or ``conflict`` (of interest)."""

    a: OrgId
    b: OrgId
    reason: Literal["declined", "related", "conflict"]
    note: Annotated[Prose, Field(max_length=300)] = ""


class Confirmed(_Frozen):
    """A meeting confirmed after an earlier run: it keeps its slot and table in the next run."""

    a: OrgId
    b: OrgId
    slot: SlotId
    table: TableName


class Cancelled(_Frozen):
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


def _table_names(value: Any) -> Any:
    """``tables: 12`` is tables ``T01`` to ``T12``; a list names them."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_TABLES:
        width = max(2, len(str(value)))
        return [f"T{k:0{width}d}" for k in range(1, value + 1)]
    return value


class Limits(_Frozen):
    """A participant's effective limits: the tighter of their own and their type's."""

    min_meetings: int
    max_meetings: int | None
    max_per_session: int | None


class Event(_Frozen):
    """A matchmaking event: its sessions and tables, who takes part, and what they asked for.

    Examples
    --------
    >>> event = Event.model_validate({
    ...     "name": "Demo day",
    ...     "tables": 2,
    ...     "sessions": [{"id": "am", "start": "2025-03-01T10:00:00+09:00", "minutes": 20, "count": 3}],
    ...     "participants": [{"id": "tcs"}, {"id": "sakana-ai", "available": ["am-1", "am-2"]}],
    ...     "requests": [{"by": "tcs", "to": "sakana-ai", "status": "accepted"}],
    ... })
    >>> [slot.id for slot in event.slots], event.tables, event.tables_in(event.slots[0])
    (['am-1', 'am-2', 'am-3'], ('T01', 'T02'), ('T01', 'T02'))
    >>> event.request_status("sakana-ai", "tcs")
    'accepted'
    """

    name: Name
    tables: Annotated[tuple[TableName, ...], Field(min_length=1, max_length=MAX_TABLES)]
    types: Annotated[dict[Key, ParticipationType], Field(min_length=1, max_length=50)] = Field(
        default_factory=lambda: {DEFAULT_TYPE: ParticipationType()}
    )
    sessions: Annotated[tuple[Session, ...], Field(min_length=1, max_length=50)]
    participants: Annotated[tuple[Participant, ...], Field(max_length=MAX_PARTICIPANTS)] = ()
    requests: tuple[Request, ...] = ()
    blocked: tuple[Block, ...] = ()
    confirmed: tuple[Confirmed, ...] = ()
    cancelled: tuple[Cancelled, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _tables(cls, data: Any) -> Any:
        if isinstance(data, dict) and "tables" in data:
            return data | {"tables": _table_names(data["tables"])}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Event:
        problems = _event_problems(self)
        if problems:
            raise _Problems(problems)
        return self

    # -- lookups -----------------------------------------------------------------------------------------

    @cached_property
    def slots(self) -> tuple[Slot, ...]:
        """Every slot, session by session, in the order given (which is time order)."""
        return tuple(slot for session in self.sessions for slot in session.slots)

    @cached_property
    def session_of(self) -> Mapping[str, str]:
        """The session id of each slot id."""
        return {slot.id: session.id for session in self.sessions for slot in session.slots}

    @cached_property
    def slot_by_id(self) -> Mapping[str, Slot]:
        return {slot.id: slot for slot in self.slots}

    @cached_property
    def participant_by_id(self) -> Mapping[str, Participant]:
        return {p.id: p for p in self.participants}

    def tables_in(self, slot: Slot) -> tuple[str, ...]:
        """The tables open in ``slot``, in the event's order."""
        if slot.tables is None:
            return self.tables
        if isinstance(slot.tables, int):
            return self.tables[: slot.tables]
        names = set(slot.tables)
        return tuple(t for t in self.tables if t in names)

    def available(self, participant: Participant) -> tuple[str, ...]:
        """The slot ids ``participant`` can meet in, in time order (a session id stands for its slots)."""
        if participant.available is None:
            return tuple(slot.id for slot in self.slots)
        chosen = set(participant.available)
        return tuple(slot.id for slot in self.slots if slot.id in chosen or self.session_of[slot.id] in chosen)

    def knows_slot(self, name: str) -> bool:
        """Whether ``name`` is a slot id or a session id (what ``available`` accepts)."""
        return name in self.slot_by_id or any(session.id == name for session in self.sessions)

    def limit_problem(self, participant: Participant) -> str | None:
        """Why ``participant``'s limits contradict each other (a minimum above the maximum), or None."""
        if participant.type not in self.types:
            return None
        limits = self.limits(participant)
        if limits.max_meetings is None or limits.min_meetings <= limits.max_meetings:
            return None
        return (
            f"minimum of {limits.min_meetings} meetings is above the maximum of {limits.max_meetings} "
            f"(the tighter of the participant's and type {participant.type!r}'s); give at most {limits.max_meetings}"
        )

    def limits(self, participant: Participant) -> Limits:
        """``participant``'s minimum, maximum and per-session maximum: the tighter of their own and their type's."""
        kind = self.types[participant.type]
        maxima = [m for m in (participant.max_meetings, kind.max_meetings) if m is not None]
        minimum = participant.min_meetings if participant.min_meetings is not None else kind.min_meetings
        return Limits(
            min_meetings=minimum,
            max_meetings=min(maxima) if maxima else None,
            max_per_session=kind.max_per_session,
        )

    @cached_property
    def requested_pairs(self) -> Mapping[Pair, RequestStatus]:
        """Every requested pair (sorted ids) and its combined status (see :meth:`request_status`)."""
        out: dict[Pair, RequestStatus] = {}
        seen: dict[Pair, set[tuple[str, str]]] = {}
        for request in self.requests:
            key = pair(request.by, request.to)
            before = out.get(key)
            seen.setdefault(key, set()).add((request.by, request.to))
            if request.status == "declined" or before == "declined":
                out[key] = "declined"
            elif request.status == "accepted" or before == "accepted" or len(seen[key]) == 2:
                out[key] = "accepted"
            else:
                out[key] = "open"
        return out

    def request_status(self, a: str, b: str) -> RequestStatus | None:
        """The status of the pair's requests: declined if either side declined, accepted if accepted or asked
        both ways, open if asked one way; None if nobody asked."""
        return self.requested_pairs.get(pair(a, b))

    @cached_property
    def blocked_pairs(self) -> Mapping[Pair, BlockReason]:
        """Every pair that must not meet and the first reason found (blocks, then declines, then cancellations)."""
        out: dict[Pair, BlockReason] = {}
        for block in self.blocked:
            out.setdefault(pair(block.a, block.b), block.reason)
        for key, status in self.requested_pairs.items():
            if status == "declined":
                out.setdefault(key, "declined")
        for cancelled in self.cancelled:
            out.setdefault(pair(cancelled.a, cancelled.b), "cancelled")
        return out


# -- validation ----------------------------------------------------------------------------------------------


def _accepted(names: Any, limit: int = 12) -> str:
    names = sorted(names)
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def _event_problems(event: Event) -> list[tuple[str, str, str]]:
    """Every cross-reference problem in ``event`` as (field, value, message): what pydantic cannot check alone."""
    problems: list[tuple[str, str, str]] = []
    add = problems.append

    seen_tables: set[str] = set()
    for k, table in enumerate(event.tables):
        if table in seen_tables:
            add((f"tables[{k}]", table, f"table {table!r} is listed twice; table names must be unique"))
        seen_tables.add(table)

    session_ids: set[str] = set()
    slot_ids: set[str] = set()
    previous: tuple[str, Slot] | None = None
    for s, session in enumerate(event.sessions):
        if session.id in session_ids:
            add((f"sessions[{s}].id", session.id, f"session id {session.id!r} is used twice; ids must be unique"))
        session_ids.add(session.id)
        for t, slot in enumerate(session.slots):
            where = f"sessions[{s}].slots[{t}]"
            if slot.id in slot_ids:
                add(
                    (f"{where}.id", slot.id, f"slot id {slot.id!r} is used twice; slot ids must be unique in the event")
                )
            slot_ids.add(slot.id)
            if previous is not None and slot.start < previous[1].end:
                add(
                    (
                        f"{where}.start",
                        slot.start.isoformat(),
                        f"slot {slot.id!r} starts at {slot.start.isoformat()}, before slot {previous[1].id!r} ends "
                        f"({previous[1].end.isoformat()}); slots must be in time order and must not overlap",
                    )
                )
            previous = (where, slot)
            if isinstance(slot.tables, int):
                if slot.tables > len(event.tables):
                    add(
                        (
                            f"{where}.tables",
                            str(slot.tables),
                            f"{slot.tables} tables open, but the event has {len(event.tables)}; "
                            f"give at most {len(event.tables)}",
                        )
                    )
            elif slot.tables is not None:
                for k, table in enumerate(slot.tables):
                    if table not in seen_tables:
                        add(
                            (
                                f"{where}.tables[{k}]",
                                table,
                                f"unknown table {table!r}; accepted: {_accepted(event.tables)}",
                            )
                        )

    for s, session in enumerate(event.sessions):
        for t, slot in enumerate(session.slots):
            if slot.id in session_ids:
                add(
                    (
                        f"sessions[{s}].slots[{t}].id",
                        slot.id,
                        f"slot id {slot.id!r} is also a session id; slots and sessions need different ids",
                    )
                )

    ids: dict[str, int] = {}
    for k, participant in enumerate(event.participants):
        where = f"participants[{k}]"
        if participant.id in ids:
            add(
                (
                    f"{where}.id",
                    participant.id,
                    f"participant {participant.id!r} is listed twice (first at participants[{ids[participant.id]}])",
                )
            )
        ids.setdefault(participant.id, k)
        if participant.type not in event.types:
            add(
                (
                    f"{where}.type",
                    participant.type,
                    f"unknown participation type {participant.type!r}; accepted: {_accepted(event.types)}",
                )
            )
            continue
        for t, slot_id in enumerate(participant.available or ()):
            if not event.knows_slot(slot_id):
                add(
                    (
                        f"{where}.available[{t}]",
                        slot_id,
                        f"unknown slot or session {slot_id!r}; accepted: the sessions {_accepted(session_ids)} "
                        f"or their slots {_accepted(slot_ids)}",
                    )
                )
        contradiction = event.limit_problem(participant)
        if contradiction is not None:
            add((f"{where}.min_meetings", str(event.limits(participant).min_meetings), contradiction))

    def known(field: str, org: str) -> bool:
        if org not in ids:
            add((field, org, f"unknown participant {org!r}; accepted: the participants' ids ({_accepted(ids)})"))
            return False
        return True

    directed: dict[tuple[str, str], int] = {}
    for k, request in enumerate(event.requests):
        where = f"requests[{k}]"
        if known(f"{where}.by", request.by) & known(f"{where}.to", request.to):
            if request.by == request.to:
                add((f"{where}.to", request.to, "a participant cannot request a meeting with themselves"))
            elif (request.by, request.to) in directed:
                add(
                    (
                        f"{where}",
                        f"{request.by} -> {request.to}",
                        f"request {request.by} -> {request.to} is listed "
                        f"twice (first at requests[{directed[(request.by, request.to)]}]); give each request once",
                    )
                )
            directed.setdefault((request.by, request.to), k)

    for k, block in enumerate(event.blocked):
        where = f"blocked[{k}]"
        if known(f"{where}.a", block.a) & known(f"{where}.b", block.b) and block.a == block.b:
            add((f"{where}.b", block.b, "a pair needs two different participants"))

    for k, cancelled in enumerate(event.cancelled):
        where = f"cancelled[{k}]"
        if known(f"{where}.a", cancelled.a) & known(f"{where}.b", cancelled.b) and cancelled.a == cancelled.b:
            add((f"{where}.b", cancelled.b, "a pair needs two different participants"))
        if cancelled.slot is not None and cancelled.slot not in slot_ids:
            add((f"{where}.slot", cancelled.slot, f"unknown slot {cancelled.slot!r}; accepted: {_accepted(slot_ids)}"))

    problems.extend(_confirmed_problems(event, ids, slot_ids))
    return problems


def _confirmed_problems(event: Event, ids: Mapping[str, int], slot_ids: set[str]) -> list[tuple[str, str, str]]:
    """Confirmed meetings must obey every hard rule themselves: the scheduler keeps them as they are."""
    problems: list[tuple[str, str, str]] = []
    add = problems.append
    if not event.confirmed:
        return problems
    blocked = {pair(b.a, b.b): b.reason for b in event.blocked}
    blocked.update({k: "declined" for k, v in event.requested_pairs.items() if v == "declined" and k not in blocked})
    cancelled = {pair(c.a, c.b) for c in event.cancelled}
    tables_of = {slot.id: set(event.tables_in(slot)) for slot in event.slots}
    at: dict[tuple[str, str], int] = {}  # (participant, slot) -> confirmed index
    tables_used: dict[tuple[str, str], int] = {}
    pairs: dict[Pair, int] = {}
    count: dict[str, int] = {}
    per_session: dict[tuple[str, str], int] = {}
    for k, meeting in enumerate(event.confirmed):
        where = f"confirmed[{k}]"
        ok = True
        for side in ("a", "b"):
            org = getattr(meeting, side)
            if org not in ids:
                add((f"{where}.{side}", org, f"unknown participant {org!r}; accepted: the participants' ids"))
                ok = False
        if meeting.slot not in slot_ids:
            add((f"{where}.slot", meeting.slot, f"unknown slot {meeting.slot!r}; accepted: {_accepted(slot_ids)}"))
            continue
        if meeting.table not in tables_of[meeting.slot]:
            add(
                (
                    f"{where}.table",
                    meeting.table,
                    f"table {meeting.table!r} is not open in slot {meeting.slot!r}; "
                    f"accepted: {_accepted(tables_of[meeting.slot])}",
                )
            )
        elif (meeting.table, meeting.slot) in tables_used:
            add(
                (
                    f"{where}.table",
                    meeting.table,
                    f"table {meeting.table!r} in slot {meeting.slot!r} already holds "
                    f"confirmed[{tables_used[(meeting.table, meeting.slot)]}]; one meeting per table and slot",
                )
            )
        tables_used.setdefault((meeting.table, meeting.slot), k)
        if not ok:
            continue
        if meeting.a == meeting.b:
            add((f"{where}.b", meeting.b, "a meeting needs two different participants"))
            continue
        key = pair(meeting.a, meeting.b)
        if key in blocked:
            add(
                (
                    where,
                    f"{meeting.a}, {meeting.b}",
                    f"pair {meeting.a}-{meeting.b} is blocked ({blocked[key]}); "
                    "a blocked pair cannot have a confirmed meeting",
                )
            )
        if key in cancelled:
            add(
                (
                    where,
                    f"{meeting.a}, {meeting.b}",
                    f"meeting {meeting.a}-{meeting.b} is both confirmed and cancelled; remove one of them",
                )
            )
        if key in pairs:
            add(
                (
                    where,
                    f"{meeting.a}, {meeting.b}",
                    f"pair {meeting.a}-{meeting.b} already meets in confirmed[{pairs[key]}]; a pair meets once",
                )
            )
        pairs.setdefault(key, k)
        session = event.session_of[meeting.slot]
        for side in ("a", "b"):
            org = getattr(meeting, side)
            participant = event.participants[ids[org]]
            if meeting.slot not in event.available(participant):
                add((f"{where}.slot", meeting.slot, f"{org} is not available in slot {meeting.slot!r}"))
            if (org, meeting.slot) in at:
                add(
                    (
                        f"{where}.slot",
                        meeting.slot,
                        f"{org} already meets in slot {meeting.slot!r} "
                        f"(confirmed[{at[(org, meeting.slot)]}]); one meeting per participant and slot",
                    )
                )
            at.setdefault((org, meeting.slot), k)
            count[org] = count.get(org, 0) + 1
            per_session[(org, session)] = per_session.get((org, session), 0) + 1
            if participant.type in event.types:
                limits = event.limits(participant)
                if limits.max_meetings is not None and count[org] == limits.max_meetings + 1:
                    add((where, org, f"{org} has more confirmed meetings than their maximum of {limits.max_meetings}"))
                if limits.max_per_session is not None and per_session[(org, session)] == limits.max_per_session + 1:
                    add(
                        (
                            where,
                            org,
                            f"{org} has more confirmed meetings in session {session!r} than the "
                            f"per-session maximum of {limits.max_per_session}",
                        )
                    )
    return problems


# -- building from plain data --------------------------------------------------------------------------------

_MODELS: Mapping[str, type[BaseModel]] = {
    "sessions": Session,
    "slots": Slot,
    "types": ParticipationType,
    "participants": Participant,
    "requests": Request,
    "blocked": Block,
    "confirmed": Confirmed,
    "cancelled": Cancelled,
}


def _field(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel]:
    """The model whose keys apply at ``loc`` (for listing the accepted keys of an unknown one)."""
    model: type[BaseModel] = Event
    for k, part in enumerate(loc):
        if isinstance(part, str) and part in _MODELS and not (part == "types" and k + 1 == len(loc)):
            model = _MODELS[part]
    return model


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


_PATTERNS = {
    r"^[a-z0-9][a-z0-9-]{0,63}$": "must be lowercase letters, digits and hyphens, starting with a letter or digit "
    "(at most 64), as profile ids are",
    r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$": f"must be {_SLOT_ID_RULE}",
}


def _union_branch(loc: tuple[Any, ...]) -> bool:
    """Whether ``loc`` ends in a union branch name: a slot's tables are a number, names or nothing."""
    return len(loc) >= 2 and loc[-2] == "tables" and isinstance(loc[-1], str) and len(loc) > 2


def _problems(err: ValidationError, file: str) -> list[Problem]:
    """Pydantic's findings as problems naming the field, the value and what is accepted."""
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for e in err.errors():
        loc = tuple(e["loc"])
        kind = e["type"]
        if kind == "too_short" and isinstance(e["input"], list | tuple) and len(e["input"]) >= e["ctx"]["min_length"]:
            continue  # pydantic's echo of an item that failed: the item's own problem is reported
        union = _union_branch(loc) or (len(loc) > 3 and _union_branch(loc[:-1]))
        if union:  # one problem for the field, not one per branch of the union
            loc = loc[: loc.index("tables", 1) + 1]
        found = e.get("ctx", {}).get("error")
        if isinstance(found, _Problems):
            for field, value, message in found.problems:
                problems.append(
                    Problem(file, _field((*loc, *field.split("."))) if field else _field(loc), value, message)
                )
            continue
        field = _field(loc)
        if kind == "extra_forbidden":
            accepted = ", ".join(_model_at(loc[:-1]).model_fields)
            message = f"unknown key {loc[-1]!r}; accepted: {accepted}"
        elif kind == "missing":
            message = f"missing required field {loc[-1]!r}"
        elif kind == "timezone_aware":
            message = f"must include a UTC offset, e.g. 2025-03-01T10:00:00+09:00, got {_short(e['input'])}"
        elif kind == "string_pattern_mismatch":
            words = _PATTERNS.get(e["ctx"]["pattern"], f"must match {e['ctx']['pattern']}")
            message = f"{words}, got {_short(e['input'])}"
        elif kind in ("too_short", "too_long"):
            limit = e["ctx"]["min_length" if kind == "too_short" else "max_length"]
            size = (
                len(e["input"]) if isinstance(e["input"], list | tuple | dict | str) else e["ctx"].get("actual_length")
            )
            bound = "least" if kind == "too_short" else "most"
            message = f"needs at {bound} {limit} {'entry' if limit == 1 else 'entries'}, got {size}"
        elif kind == "literal_error":
            message = f"{e['msg'].lower()}, got {_short(e['input'])}"
        elif union:
            if (field, "union") in seen:
                continue
            seen.add((field, "union"))
            message = f"must be a number of tables, a list of table names, or left out; got {_short(e['input'])}"
        else:
            message = f"{e['msg']}, got {_short(e['input'])}"
        problems.append(Problem(file, field, "" if kind == "missing" else _short(e["input"]), message))
    return problems


def event_from_data(data: Any, file: str = "") -> Event:
    """Validate plain data (a parsed YAML/JSON document, an API body) into an :class:`Event`.

    Raises
    ------
    EventError
        With every problem found, each naming ``file``, the field and the value.

    Examples
    --------
    >>> event_from_data({"name": "Demo", "tables": 1, "sessions": [{"id": "am", "start": "2025-03-01T10:00:00",
    ...                  "minutes": 20, "count": 2}]}, "demo.yaml")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    matchmaker.core.events.errors.EventError: demo.yaml: sessions[0].start: must be a date and time with a UTC offset...
    """
    if not isinstance(data, Mapping):
        kind = "a list" if isinstance(data, list) else type(data).__name__
        raise EventError(
            [
                Problem(
                    file,
                    "",
                    _short(data),
                    f"an event is a mapping of fields (name, tables, sessions, participants, ...), got {kind}",
                )
            ]
        )
    try:
        return Event.model_validate(dict(data))
    except ValidationError as err:
        raise EventError(_problems(err, file)) from err


def changed(event: Event, file: str = "", **fields: Any) -> Event:
    """A copy of ``event`` with ``fields`` replaced, validated again as a whole.

    For a second run (add ``confirmed`` and ``cancelled`` meetings), late registrations (more
    ``participants``) or new ``requests``.

    Raises
    ------
    EventError
        If the changed event is inconsistent, naming the field.

    Examples
    --------
    >>> event = event_from_data({"name": "Demo", "tables": 1, "participants": [{"id": "a"}, {"id": "b"}],
    ...     "sessions": [{"id": "am", "start": "2025-03-01T10:00:00+09:00", "minutes": 20, "count": 2}]})
    >>> later = changed(event, confirmed=[{"a": "a", "b": "b", "slot": "am-2", "table": "T01"}])
    >>> [(m.a, m.b, m.slot) for m in later.confirmed]
    [('a', 'b', 'am-2')]
    """
    data = event.model_dump(mode="json", exclude_defaults=True)
    for name, value in fields.items():
        data[name] = [v.model_dump(mode="json") if isinstance(v, BaseModel) else v for v in value]
    return event_from_data(data, file)
