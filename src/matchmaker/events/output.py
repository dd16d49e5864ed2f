"""Schedules, agendas and summaries as plain JSON documents (for ``--format json`` and the API).

``schedule_document`` is the shape of issue 11: ``status`` (``optimal`` or ``feasible``), ``objective``,
``bound``, ``meetings`` (slot, start in ISO 8601, table, a, b, score, source: ``accepted``, ``requested``
or ``recommended``) and ``unmet_minimums`` (id, meetings, minimum, why), plus the gap, the levels of the
objective, the requests that could not be met and the pairs kept apart (``blocked``). A meeting kept from
an earlier run has the source its pair came from (its request's status, else recommended) and
``"confirmed": true``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from matchmaker.core.events.model import Event
from matchmaker.core.events.scheduler import Level, Meeting, Schedule, Source, Unmet, UnscheduledRequest
from matchmaker.core.events.summary import Summary


def origin(event: Event, meeting: Meeting) -> Source:
    """Where a meeting's pair came from: its request's status, else the recommender (for kept meetings too)."""
    if meeting.source != "confirmed":
        return meeting.source
    status = event.request_status(meeting.a, meeting.b)
    return "accepted" if status == "accepted" else "requested" if status == "open" else "recommended"


def meeting_view(meeting: Meeting, event: Event | None = None) -> dict[str, Any]:
    """One meeting; with ``event``, a kept meeting's source is its pair's origin and ``confirmed`` says it was kept."""
    source = meeting.source if event is None else origin(event, meeting)
    return {
        "slot": meeting.slot,
        "start": meeting.start.isoformat(),
        "minutes": meeting.minutes,
        "table": meeting.table,
        "a": meeting.a,
        "b": meeting.b,
        "score": meeting.score,
        "source": source,
        "confirmed": meeting.source == "confirmed",
        "reasons": list(meeting.reasons),
    }


def schedule_document(event: Event, result: Schedule) -> dict[str, Any]:
    """The whole schedule as one JSON-ready document.

    >>> from matchmaker.core.events.model import event_from_data
    >>> from matchmaker.core.events.scheduler import schedule
    >>> event = event_from_data({"name": "Demo", "tables": 1, "participants": [{"id": "a"}, {"id": "b"}],
    ...     "sessions": [{"id": "am", "start": "2025-03-01T10:00:00+09:00", "minutes": 20, "count": 1}]})
    >>> doc = schedule_document(event, schedule(event, [("a", "b", 0.5)]))
    >>> doc["status"], doc["objective"], doc["meetings"][0]["start"], doc["unmet_minimums"]
    ('optimal', 0.5, '2025-03-01T10:00:00+09:00', [])
    """
    return {
        "status": result.status,
        "objective": result.objective,
        "bound": result.bound,
        "gap": result.gap,
        "time_limited": result.time_limited,
        "method": result.method,
        "levels": [{"name": lv.name, "sense": lv.sense, "value": lv.value, "bound": lv.bound} for lv in result.levels],
        "meetings": [meeting_view(m, event) for m in result.meetings],
        "unmet_minimums": [
            {"id": u.id, "meetings": u.meetings, "minimum": u.minimum, "why": u.why} for u in result.unmet_minimums
        ],
        "unscheduled_requests": [
            {"by": r.by, "to": r.to, "status": r.status, "why": r.why} for r in result.unscheduled_requests
        ],
        "blocked": [{"a": b.a, "b": b.b, "reason": b.reason, "note": b.note} for b in event.blocked],
    }


def agenda_document(event: Event, result: Schedule, org: str) -> dict[str, Any]:
    """One participant's meetings (with the partner's id) as a JSON-ready document."""
    unmet = next((u for u in result.unmet_minimums if u.id == org), None)
    return {
        "event": event.name,
        "id": org,
        "meetings": [meeting_view(m, event) | {"partner": m.b if m.a == org else m.a} for m in result.agenda(org)],
        "unmet_minimum": None
        if unmet is None
        else {"meetings": unmet.meetings, "minimum": unmet.minimum, "why": unmet.why},
    }


def summary_document(summary: Summary) -> dict[str, Any]:
    """The organiser's summary as a JSON-ready document."""
    return {
        "event": summary.event,
        "status": summary.status,
        "meetings": summary.meetings,
        "by_source": dict(summary.by_source),
        "cross_border": summary.cross_border,
        "same_country": summary.same_country,
        "unknown_country": summary.unknown_country,
        "missed_minimums": [
            {"id": p.id, "meetings": p.meetings, "minimum": p.minimum, "why": p.missed_minimum} for p in summary.missed
        ],
        "participants": [
            {
                "id": p.id,
                "name": p.name,
                "type": p.type,
                "country": p.country,
                "meetings": p.meetings,
                "minimum": p.minimum,
                "maximum": p.maximum,
            }
            for p in summary.participants
        ],
        "slots": [
            {"slot": s.slot, "start": s.start.isoformat(), "tables": s.tables, "used": s.used} for s in summary.slots
        ],
    }


def schedule_from_document(document: dict[str, Any]) -> Schedule:
    """The :class:`Schedule` a :func:`schedule_document` describes (what the renderers of agendas need).

    >>> from matchmaker.core.events.model import event_from_data
    >>> from matchmaker.core.events.scheduler import schedule
    >>> event = event_from_data({"name": "Demo", "tables": 1, "participants": [{"id": "a"}, {"id": "b"}],
    ...     "sessions": [{"id": "am", "start": "2025-03-01T10:00:00+09:00", "minutes": 20, "count": 1}]})
    >>> result = schedule(event, [("a", "b", 0.5)])
    >>> from dataclasses import replace
    >>> schedule_from_document(schedule_document(event, result)) == replace(result, stages=())  # stages: diagnosis
    True
    """
    meetings = tuple(
        Meeting(
            slot=m["slot"],
            start=datetime.fromisoformat(m["start"]),
            minutes=int(m["minutes"]),
            table=m["table"],
            a=m["a"],
            b=m["b"],
            score=float(m["score"]),
            source="confirmed" if m.get("confirmed") else m["source"],
            reasons=tuple(m.get("reasons", ())),
        )
        for m in document["meetings"]
    )
    return Schedule(
        status=document["status"],
        objective=float(document["objective"]),
        bound=document["bound"],
        gap=document["gap"],
        levels=tuple(Level(lv["name"], lv["sense"], lv["value"], lv["bound"]) for lv in document["levels"]),
        meetings=meetings,
        unmet_minimums=tuple(Unmet(u["id"], u["meetings"], u["minimum"], u["why"]) for u in document["unmet_minimums"]),
        unscheduled_requests=tuple(
            UnscheduledRequest(r["by"], r["to"], r["status"], r["why"]) for r in document["unscheduled_requests"]
        ),
        method=document["method"],
        time_limited=bool(document["time_limited"]),
    )
