"""Hypothesis strategies for small random events (valid by construction) and their candidate pairs."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from matchmaker.core.events.model import Event, event_from_data
from matchmaker.core.events.scheduler import Candidate

TOKYO = timezone(timedelta(hours=9))
START = datetime(2025, 3, 1, 10, 0, tzinfo=TOKYO)


def basic_event(**fields: Any) -> dict[str, Any]:
    """A plain event document: one session of three 20-minute slots, two tables, plus ``fields``."""
    return {
        "name": "Test day",
        "tables": 2,
        "sessions": [{"id": "am", "start": START.isoformat(), "minutes": 20, "count": 3}],
        **fields,
    }


@st.composite
def events(draw: st.DrawFn, *, max_participants: int = 6, max_slots: int = 4) -> tuple[Event, list[Candidate]]:
    """A random event with participation types, availability, limits, requests and blocks, and candidates."""
    n = draw(st.integers(3, max_participants))
    ids = [f"p{k}" for k in range(n)]
    n_tables = draw(st.integers(1, 3))
    n_sessions = draw(st.integers(1, 2))
    sessions: list[dict[str, Any]] = []
    slot_ids: list[str] = []
    at = START
    for k in range(n_sessions):
        slots = []
        for j in range(draw(st.integers(1, max(1, max_slots // n_sessions)))):
            slot: dict[str, Any] = {"id": f"s{k}{j}", "start": at.isoformat(), "minutes": 20}
            tables = draw(st.one_of(st.none(), st.integers(0, n_tables))) if draw(st.booleans()) else None
            if tables is not None:
                slot["tables"] = tables
            slots.append(slot)
            slot_ids.append(slot["id"])
            at += timedelta(minutes=20)
        sessions.append({"id": f"k{k}", "slots": slots})
        at += timedelta(hours=1)
    limit = st.one_of(st.none(), st.integers(1, 3), st.just(0))
    types = {
        name: {
            "min_meetings": draw(st.integers(0, 2)),
            "max_meetings": draw(limit) if draw(st.booleans()) else None,
            "max_per_session": draw(limit) if draw(st.booleans()) else None,
        }
        for name in draw(st.sampled_from([["standard"], ["standard", "vip"]]))
    }
    for limits in types.values():
        if limits["max_meetings"] is not None:
            limits["min_meetings"] = min(limits["min_meetings"], limits["max_meetings"])
    participants = []
    for org in ids:
        kind = draw(st.sampled_from(sorted(types)))
        person: dict[str, Any] = {"id": org, "type": kind}
        if draw(st.integers(0, 2)) == 0:
            person["available"] = draw(st.lists(st.sampled_from(slot_ids), unique=True, min_size=1))
        maximum = draw(limit) if draw(st.booleans()) else None
        if maximum is not None:
            person["max_meetings"] = maximum
        minimum = draw(st.one_of(st.none(), st.integers(0, 3)))
        caps = [c for c in (maximum, types[kind]["max_meetings"]) if c is not None]
        effective = types[kind]["min_meetings"] if minimum is None else minimum
        if caps and effective > min(caps):
            minimum = min(caps)
        if minimum is not None:
            person["min_meetings"] = minimum
        participants.append(person)
    pairs = [(a, b) for i, a in enumerate(ids) for b in ids[i + 1 :]]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, min_size=len(pairs) // 2)) if pairs else []
    candidates = [Candidate(a, b, draw(st.integers(0, 1000)) / 1000, (f"reason {a}-{b}",)) for a, b in chosen]
    directed = [(a, b) for a in ids for b in ids if a != b]
    requests = [
        {"by": a, "to": b, "status": draw(st.sampled_from(["open", "accepted", "declined"]))}
        for a, b in draw(st.lists(st.sampled_from(directed), unique=True, max_size=4))
    ]
    blocked = [
        {"a": a, "b": b, "reason": draw(st.sampled_from(["related", "conflict"]))}
        for a, b in draw(st.lists(st.sampled_from(pairs), unique=True, max_size=2))
    ]
    event = event_from_data(
        {
            "name": "Generated",
            "tables": n_tables,
            "types": types,
            "sessions": sessions,
            "participants": participants,
            "requests": requests,
            "blocked": blocked,
        }
    )
    return event, candidates
