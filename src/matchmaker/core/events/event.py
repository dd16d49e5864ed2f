"""The event: its sessions and tables, who takes part, what they asked for, and the rules that need all of it.

An :class:`Event` is what the scheduler reads: pure, typed and frozen. It is validated when it is built, so
an event that exists is consistent: every id it mentions is defined, slots do not overlap, and confirmed
meetings (kept from an earlier run) obey every hard rule.

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
from functools import cached_property
from typing import Annotated, Any

from pydantic import Field, model_validator

from matchmaker.core.events.parts import (
    DEFAULT_TYPE,
    MAX_PARTICIPANTS,
    MAX_TABLES,
    Block,
    BlockReason,
    Cancelled,
    Confirmed,
    Frozen,
    Limits,
    Pair,
    Participant,
    ParticipationType,
    Problems,
    Request,
    RequestStatus,
    Session,
    Slot,
    TableName,
    pair,
    table_names,
)
from matchmaker.core.profile import Key, Name


class Event(Frozen):
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
            return data | {"tables": table_names(data["tables"])}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Event:
        problems = _event_problems(self)
        if problems:
            raise Problems(problems)
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
