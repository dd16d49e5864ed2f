"""The events API: events, their participants and requests, scheduling jobs, schedules and agendas.

Events and jobs live in the database (:mod:`matchmaker.event_storage`), so every worker answers every
request the same; scheduling runs in the background (:mod:`matchmaker.service.jobs`): POST answers 202 at
once with the job, whose state any worker reports.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, FastAPI, Path, Query, Request, Response

from matchmaker.core.errors import UnknownOrganisation
from matchmaker.core.events.errors import EventError
from matchmaker.core.events.model import Event, event_from_data
from matchmaker.event_storage import EventConflict, EventStore, Job, StoredEvent, UnknownEvent
from matchmaker.events.agenda import agenda_ics
from matchmaker.events.files import event_document
from matchmaker.events.output import agenda_document, schedule_from_document
from matchmaker.service.auth import require_key
from matchmaker.service.bodies import StrictJSONRoute
from matchmaker.service.errors import JSONBody, error
from matchmaker.service.errors import responses as error_responses
from matchmaker.service.event_schemas import (
    AgendaOut,
    EventIn,
    EventListOut,
    EventOut,
    JobOut,
    ParticipantIn,
    RequestIn,
    RequestOut,
    ScheduleIn,
    ScheduleOut,
)
from matchmaker.service.jobs import JobRunner
from matchmaker.service.schemas import ID_PATTERN
from matchmaker.service.state import problem_list

router = APIRouter(prefix="/v1", route_class=StrictJSONRoute, tags=["events"])

EventId = Annotated[str, Path(pattern=ID_PATTERN, description="The event's id.", examples=["partnering-day"])]
OrgPath = Annotated[str, Path(pattern=ID_PATTERN, description="A participant's id.", examples=["sakana-ai"])]
JobId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="A scheduling job's id.")]
WRITE = [Depends(require_key)]
EVENT_ERRORS = {
    404: "Unknown event, participant, request, job, or no schedule yet (the detail says which, with suggestions).",
    409: "The change contradicts the event (`problems` lists each rule it breaks), or asks again a declined request.",
}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The service's error entries for ``codes``, with what 404 and 409 mean for events."""
    entries = error_responses(*codes)
    for code, description in EVENT_ERRORS.items():
        if code in entries:
            entries[code] = {**entries[code], "description": description}
    return entries


async def get_events(request: Request) -> EventStore:
    events: EventStore = request.app.state.events
    return events


async def get_jobs(request: Request) -> JobRunner:
    jobs: JobRunner = request.app.state.jobs
    return jobs


EventsDep = Annotated[EventStore, Depends(get_events)]
JobsDep = Annotated[JobRunner, Depends(get_jobs)]


def _stamp(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _event_view(stored: StoredEvent) -> dict[str, Any]:
    return {"id": stored.id, "version": stored.version, "updated_at": _stamp(stored.updated_at), "event": stored.data}


def _job_view(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "event": job.event_id,
        "event_version": job.event_version,
        "state": job.state,
        "stage": job.stage,
        "attempts": job.attempts,
        "worker": job.worker,
        "error": job.error,
        "created_at": _stamp(job.created_at),
        "started_at": _stamp(job.started_at),
        "heartbeat_at": _stamp(job.heartbeat_at),
        "finished_at": _stamp(job.finished_at),
        "schedule": f"/v1/events/{job.event_id}/schedule" if job.state == "done" else None,
    }


def _validated(data: dict[str, Any], event_id: str) -> dict[str, Any]:
    """The event document of ``data`` (validated as a whole), or EventError naming every problem."""
    return event_document(event_from_data(data, f"event {event_id!r}"))


def _changed(event_id: str, change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A change of the stored document that must leave a consistent event: else 409, with every problem."""

    def apply(data: dict[str, Any]) -> dict[str, Any]:
        change(data)
        try:
            return _validated(data, event_id)
        except EventError as err:
            raise EventConflict(f"the change contradicts the event: {err}") from err

    return apply


def _participant_ids(data: dict[str, Any]) -> set[str]:
    return {p["id"] for p in data.get("participants", [])}


# -- events -------------------------------------------------------------------------------------------


@router.get("/events", response_model=EventListOut, responses=responses())
def list_events(events: EventsDep) -> Response:
    """List the events: id and version."""
    return JSONBody({"events": [{"id": i, "version": v} for i, v in events.ids()]})


@router.put(
    "/events/{event}",
    response_model=EventOut,
    responses={201: {"model": EventOut, "description": "Created."}, **responses(400, 401, 403, 413, 415, 422)},
    dependencies=WRITE,
)
def put_event(event: EventId, body: Annotated[EventIn, Body()], events: EventsDep) -> Response:
    """Create or replace an event: its sessions, tables, types, participants, requests and blocks."""
    data = _validated(body.model_dump(mode="json"), event)
    stored, created = events.put(event, data)
    return JSONBody(_event_view(stored), status_code=201 if created else 200)


@router.get("/events/{event}", response_model=EventOut, responses=responses(404, 422))
def get_event(event: EventId, events: EventsDep) -> Response:
    """Show an event document and its version."""
    return JSONBody(_event_view(events.get(event)))


@router.delete(
    "/events/{event}",
    status_code=204,
    response_class=Response,
    responses={204: {"description": "Deleted."}, **responses(401, 403, 404, 422)},
    dependencies=WRITE,
)
def delete_event(event: EventId, events: EventsDep) -> Response:
    """Delete an event and its scheduling jobs."""
    events.delete(event)
    return Response(status_code=204)


@router.put(
    "/events/{event}/participants/{org}",
    response_model=EventOut,
    responses={
        201: {"model": EventOut, "description": "Registered (new)."},
        **responses(400, 401, 403, 404, 409, 413, 415, 422),
    },
    dependencies=WRITE,
)
def put_participant(
    event: EventId, org: OrgPath, body: Annotated[ParticipantIn, Body()], events: EventsDep
) -> Response:
    """Register a participant or change one: name, type, available slots, minimum and maximum meetings."""
    entry = {"id": org, **body.model_dump(mode="json", exclude_none=True)}
    new = False

    def change(data: dict[str, Any]) -> None:
        nonlocal new
        people = data.setdefault("participants", [])
        found = [k for k, p in enumerate(people) if p["id"] == org]
        new = not found
        if found:
            people[found[0]] = entry
        else:
            people.append(entry)

    stored = events.change(event, _changed(event, change))
    return JSONBody(_event_view(stored), status_code=201 if new else 200)


@router.delete(
    "/events/{event}/participants/{org}",
    status_code=204,
    response_class=Response,
    responses={
        204: {"description": "Removed, with their requests, blocks and meetings."},
        **responses(401, 403, 404, 409, 422),
    },
    dependencies=WRITE,
)
def delete_participant(event: EventId, org: OrgPath, events: EventsDep) -> Response:
    """Remove a participant, and the requests, blocks and meetings that name them."""

    def change(data: dict[str, Any]) -> None:
        if org not in _participant_ids(data):
            raise UnknownOrganisation(org, sorted(_participant_ids(data))[:5])
        data["participants"] = [p for p in data["participants"] if p["id"] != org]
        for key, sides in (("requests", ("by", "to")), ("blocked", ("a", "b")), ("confirmed", ("a", "b"))):
            if key in data:
                data[key] = [x for x in data[key] if org not in (x[sides[0]], x[sides[1]])]
        if "cancelled" in data:
            data["cancelled"] = [x for x in data["cancelled"] if org not in (x["a"], x["b"])]

    events.change(event, _changed(event, change))
    return Response(status_code=204)


# -- requests -----------------------------------------------------------------------------------------


def _request_change(by: str, to: str, status: Literal["open", "accepted", "declined"] | None) -> Any:
    """Ask (``status`` None: a new open request, unless there is one) or answer a request."""
    outcome = {"new": False}

    def change(data: dict[str, Any]) -> None:
        ids = _participant_ids(data)
        for org in (by, to):
            if org not in ids:
                raise UnknownOrganisation(org, sorted(i for i in ids if org[:3] in i)[:5])
        requests = data.setdefault("requests", [])
        found = [r for r in requests if r["by"] == by and r["to"] == to]
        if status is None:
            if not found:
                requests.append({"by": by, "to": to})
                outcome["new"] = True
            elif found[0].get("status", "open") == "declined":
                raise EventConflict(f"{to} declined {by}'s request; it cannot be asked again")
            return
        if not found:
            raise UnknownEvent(f"no request from {by} to {to}; ask first with POST /v1/events/{{event}}/requests")
        found[0]["status"] = status

    return change, outcome


def _request_view(stored: StoredEvent, by: str, to: str) -> dict[str, Any]:
    event = event_from_data(stored.data)
    found = next(r for r in event.requests if r.by == by and r.to == to)
    return {
        "event": stored.id,
        "version": stored.version,
        "by": by,
        "to": to,
        "status": found.status,
        "pair_status": event.request_status(by, to),
    }


@router.post(
    "/events/{event}/requests",
    response_model=RequestOut,
    responses={
        201: {"model": RequestOut, "description": "Asked (new)."},
        **responses(400, 401, 403, 404, 409, 413, 415, 422),
    },
    dependencies=WRITE,
)
def ask(event: EventId, body: Annotated[RequestIn, Body()], events: EventsDep) -> Response:
    """Ask for a meeting: ``by`` asks to meet ``to`` (idempotent)."""
    change, outcome = _request_change(body.by, body.to, None)
    stored = events.change(event, _changed(event, change))
    return JSONBody(_request_view(stored, body.by, body.to), status_code=201 if outcome["new"] else 200)


def _answer(event: str, by: str, to: str, status: Literal["accepted", "declined"], events: EventStore) -> Response:
    change, _ = _request_change(by, to, status)
    stored = events.change(event, _changed(event, change))
    return JSONBody(_request_view(stored, by, to))


@router.post(
    "/events/{event}/requests/{by}/{to}/accept",
    response_model=RequestOut,
    responses=responses(401, 403, 404, 409, 422),
    dependencies=WRITE,
)
def accept(event: EventId, by: OrgPath, to: OrgPath, events: EventsDep) -> Response:
    """Accept a meeting request (``to`` says yes): the scheduler meets accepted requests first."""
    return _answer(event, by, to, "accepted", events)


@router.post(
    "/events/{event}/requests/{by}/{to}/decline",
    response_model=RequestOut,
    responses=responses(401, 403, 404, 409, 422),
    dependencies=WRITE,
)
def decline(event: EventId, by: OrgPath, to: OrgPath, events: EventsDep) -> Response:
    """Decline a meeting request: the pair never meets at this event."""
    return _answer(event, by, to, "declined", events)


# -- scheduling -----------------------------------------------------------------------------------------


@router.post(
    "/events/{event}/schedule",
    status_code=202,
    response_model=JobOut,
    responses={
        202: {"model": JobOut, "description": "Started: the job's state is at its Location."},
        **responses(400, 401, 403, 404, 413, 415, 422),
    },
    dependencies=WRITE,
)
def start_scheduling(
    event: EventId, events: EventsDep, jobs: JobsDep, body: Annotated[ScheduleIn | None, Body()] = None
) -> Response:
    """Start scheduling the event as it is now, in the background; answers at once with the job."""
    options = (body or ScheduleIn()).model_dump()
    job = events.add_job(events.get(event), options)
    jobs.wake()
    return JSONBody(_job_view(job), status_code=202, headers={"Location": f"/v1/jobs/{job.id}"})


@router.get("/jobs/{job}", response_model=JobOut, responses=responses(404, 422))
def get_job(job: JobId, events: EventsDep) -> Response:
    """Report a scheduling job: queued, running (and its stage), done or failed (and why)."""
    return JSONBody(_job_view(events.job(job)))


def _latest(events: EventStore, event_id: str) -> tuple[Job, dict[str, Any], StoredEvent]:
    stored = events.get(event_id)
    job = events.latest_done(event_id)
    if job is None or job.result is None:
        raise UnknownEvent(
            f"event {event_id!r} has no schedule yet; start one with POST /v1/events/{event_id}/schedule"
        )
    return job, job.result, stored


@router.get("/events/{event}/schedule", response_model=ScheduleOut, responses=responses(404, 422))
def get_schedule(event: EventId, events: EventsDep) -> Response:
    """Show the event's latest schedule (the JSON of `matchmaker event schedule --format json`)."""
    job, result, stored = _latest(events, event)
    current = job.event_version == stored.version
    return JSONBody({"job": job.id, "event_version": job.event_version, "current": current, **result["schedule"]})


@router.get(
    "/events/{event}/agendas/{org}",
    response_model=AgendaOut,
    responses={
        200: {"content": {"application/json": {}, "text/calendar": {}}, "description": "The agenda."},
        **responses(404, 422),
    },
)
def get_agenda(
    event: EventId,
    org: OrgPath,
    events: EventsDep,
    format: Annotated[  # noqa: A002 - the query parameter is format
        Literal["json", "ics"], Query(description="json, or ics for an iCalendar file.")
    ] = "json",
) -> Response:
    """Show one participant's agenda in the latest schedule, as JSON or as an iCalendar (.ics) file."""
    _, result, _ = _latest(events, event)
    scheduled: Event = event_from_data(result["event"])
    if org not in scheduled.participant_by_id:
        raise UnknownOrganisation(org, sorted(p.id for p in scheduled.participants if org[:3] in p.id)[:5])
    schedule = schedule_from_document(result["schedule"])
    if format == "ics":
        names = result.get("names", {})
        return Response(agenda_ics(scheduled, schedule, org, names), media_type="text/calendar")
    return JSONBody(agenda_document(scheduled, schedule, org))


# -- errors ---------------------------------------------------------------------------------------------


async def _unknown_event(_: Request, exc: Exception) -> Response:
    return error(404, str(exc))


async def _conflict(_: Request, exc: Exception) -> Response:
    cause = exc.__cause__
    problems = problem_list(list(cause.problems)) if isinstance(cause, EventError) else []
    return error(409, str(exc), problems=problems)


async def _invalid_event(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, EventError)
    return error(422, f"invalid event: {exc}", problems=problem_list(list(exc.problems)))


def install(app: FastAPI) -> None:
    """The events API's routes, error answers and job runner on ``app`` (the service is on its state)."""
    service = app.state.service
    app.state.events = EventStore(service.store)
    settings = service.settings
    app.state.jobs = JobRunner(
        app.state.events,
        lambda: service.workspace,
        heartbeat=settings.job_heartbeat_seconds,
        stale=max(settings.job_stale_seconds, 2 * settings.job_heartbeat_seconds),
        sweep=min(settings.job_heartbeat_seconds, 2.0),
    )
    app.include_router(router)
    app.add_exception_handler(UnknownEvent, _unknown_event)
    app.add_exception_handler(EventConflict, _conflict)
    app.add_exception_handler(EventError, _invalid_event)
