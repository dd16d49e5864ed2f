"""Matchmaking events and their scheduling jobs in the database (the tables of :mod:`matchmaker.storage`).

Every write is one committed transaction with a row in the change log, as for profiles and feedback.

* An event is one JSON document with a version. A change reads the document, changes it, and writes it
  back only if nobody changed it meanwhile (``WHERE version = :read``); otherwise it is applied again to
  the newer document. So two workers changing one event never lose a change, on SQLite and PostgreSQL,
  and each change is validated against the whole event it applies to.
* A job is a row whose state any worker can read: ``queued``, ``running`` (with the worker's name and a
  heartbeat), ``done`` (with the result) or ``failed`` (with why). Claiming a job, taking over a job
  whose heartbeat stopped and finishing one are each a single conditional ``UPDATE``: exactly one worker
  wins, whatever the others do at the same moment.
"""

from __future__ import annotations

import contextlib
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from matchmaker.core.errors import MatchmakerError
from matchmaker.storage import Store, event_jobs_table, events_table, record

JOB_STATES = ("queued", "running", "done", "failed")
MAX_RETRIES = 20  # a change retried this often under contention gives up (never seen: writes are small)


class UnknownEvent(MatchmakerError):
    """No event (or no job) with that id."""


class EventConflict(MatchmakerError):
    """A change that contradicts the event as it is (HTTP 409)."""


@dataclass(frozen=True)
class StoredEvent:
    id: str
    data: dict[str, Any]
    version: int
    updated_at: datetime


@dataclass(frozen=True)
class Job:
    """A scheduling job as the database holds it."""

    id: str
    event_id: str
    event_version: int
    event_data: dict[str, Any]
    options: dict[str, Any]
    state: str
    stage: str
    worker: str | None
    attempts: int
    error: str | None
    result: dict[str, Any] | None
    created_at: datetime
    started_at: datetime | None
    heartbeat_at: datetime | None
    finished_at: datetime | None


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every time stored here is UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _now() -> datetime:
    return datetime.now(UTC)


class EventStore:
    """Events and jobs on a :class:`~matchmaker.storage.Store`'s engine."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine = store.engine
        # An in-memory database is one connection shared by every thread: its transactions take turns.
        self._turns: threading.Lock | None = threading.Lock() if store.private else None

    @contextlib.contextmanager
    def _begin(self) -> Iterator[Connection]:
        lock = self._turns or contextlib.nullcontext()
        with lock, self.engine.begin() as connection:
            yield connection

    @contextlib.contextmanager
    def _read(self) -> Iterator[Connection]:
        lock = self._turns or contextlib.nullcontext()
        with lock, self.engine.connect() as connection:
            yield connection

    def _upsert(self, table: Table) -> Any:
        dialect = sqlite if self.store.backend == "sqlite" else postgresql
        return dialect.insert(table)

    # -- events -----------------------------------------------------------------------------------

    def get(self, event_id: str) -> StoredEvent:
        with self._read() as connection:
            row = connection.execute(select(events_table).where(events_table.c.id == event_id)).first()
        if row is None:
            raise UnknownEvent(f"no event {event_id!r}; create it with PUT /v1/events/{event_id}")
        return StoredEvent(str(row.id), json.loads(row.data), int(row.version), _aware(row.updated_at) or _now())

    def ids(self) -> list[tuple[str, int]]:
        with self._read() as connection:
            rows = connection.execute(select(events_table.c.id, events_table.c.version).order_by(events_table.c.id))
            return [(str(r.id), int(r.version)) for r in rows]

    def put(self, event_id: str, data: dict[str, Any]) -> tuple[StoredEvent, bool]:
        """Create or replace the event; True if it is new. Committed on return."""
        text, now = json.dumps(data, ensure_ascii=False), _now()
        for _ in range(MAX_RETRIES):
            with self._begin() as connection:
                found = connection.execute(select(events_table.c.version).where(events_table.c.id == event_id)).scalar()
                if found is None:
                    inserted = connection.execute(
                        self._upsert(events_table)
                        .values(id=event_id, data=text, version=1, created_at=now, updated_at=now)
                        .on_conflict_do_nothing()
                        .returning(events_table.c.id)
                    ).first()
                    if inserted is None:
                        continue  # created by another worker meanwhile: replace it
                    record(connection, "event", event_id)
                    return StoredEvent(event_id, data, 1, now), True
                changed = connection.execute(
                    update(events_table)
                    .where(events_table.c.id == event_id, events_table.c.version == found)
                    .values(data=text, version=found + 1, updated_at=now)
                ).rowcount
                if changed:
                    record(connection, "event", event_id)
                    return StoredEvent(event_id, data, int(found) + 1, now), False
        raise EventConflict(f"event {event_id!r} is being changed by many requests at once; try again")

    def change(self, event_id: str, apply: Callable[[dict[str, Any]], dict[str, Any]]) -> StoredEvent:
        """Apply ``apply`` (document in, changed document out; it may raise) to the newest document, committed.

        ``apply`` may run more than once: when another change commits first, it runs on the newer document.
        """
        for _ in range(MAX_RETRIES):
            current = self.get(event_id)
            data = apply(json.loads(json.dumps(current.data)))
            now = _now()
            with self._begin() as connection:
                changed = connection.execute(
                    update(events_table)
                    .where(events_table.c.id == event_id, events_table.c.version == current.version)
                    .values(data=json.dumps(data, ensure_ascii=False), version=current.version + 1, updated_at=now)
                ).rowcount
                if changed:
                    record(connection, "event", event_id)
                    return StoredEvent(event_id, data, current.version + 1, now)
        raise EventConflict(f"event {event_id!r} is being changed by many requests at once; try again")

    def delete(self, event_id: str) -> None:
        """Delete the event and its jobs."""
        with self._begin() as connection:
            gone = connection.execute(delete(events_table).where(events_table.c.id == event_id)).rowcount
            if not gone:
                raise UnknownEvent(f"no event {event_id!r}")
            connection.execute(delete(event_jobs_table).where(event_jobs_table.c.event_id == event_id))
            record(connection, "event", event_id)

    # -- jobs -------------------------------------------------------------------------------------

    def add_job(self, event: StoredEvent, options: dict[str, Any]) -> Job:
        """A new queued job that schedules ``event`` as it is now. Committed on return."""
        job_id, now = uuid.uuid4().hex, _now()
        with self._begin() as connection:
            connection.execute(
                insert(event_jobs_table).values(
                    id=job_id,
                    event_id=event.id,
                    event_version=event.version,
                    event_data=json.dumps(event.data, ensure_ascii=False),
                    options=json.dumps(options),
                    state="queued",
                    stage="waiting for a worker",
                    attempts=0,
                    created_at=now,
                )
            )
            record(connection, "job", job_id)
        return self.job(job_id)

    def job(self, job_id: str) -> Job:
        with self._read() as connection:
            row = connection.execute(select(event_jobs_table).where(event_jobs_table.c.id == job_id)).first()
        if row is None:
            raise UnknownEvent(f"no job {job_id!r}")
        return _job(row)

    def latest_done(self, event_id: str) -> Job | None:
        """The event's most recently finished successful job, if any."""
        query = (
            select(event_jobs_table)
            .where(event_jobs_table.c.event_id == event_id, event_jobs_table.c.state == "done")
            .order_by(event_jobs_table.c.finished_at.desc(), event_jobs_table.c.id)
            .limit(1)
        )
        with self._read() as connection:
            row = connection.execute(query).first()
        return None if row is None else _job(row)

    def queued(self) -> list[str]:
        """Ids of the jobs waiting for a worker, oldest first."""
        query = (
            select(event_jobs_table.c.id)
            .where(event_jobs_table.c.state == "queued")
            .order_by(event_jobs_table.c.created_at, event_jobs_table.c.id)
        )
        with self._read() as connection:
            return [str(r.id) for r in connection.execute(query)]

    def claim(self, job_id: str, worker: str) -> bool:
        """Take a queued job for ``worker``; True for the one worker that gets it."""
        now = _now()
        with self._begin() as connection:
            return bool(
                connection.execute(
                    update(event_jobs_table)
                    .where(event_jobs_table.c.id == job_id, event_jobs_table.c.state == "queued")
                    .values(
                        state="running",
                        worker=worker,
                        stage="starting",
                        started_at=now,
                        heartbeat_at=now,
                        attempts=event_jobs_table.c.attempts + 1,
                    )
                ).rowcount
            )

    def beat(self, job_id: str, worker: str, stage: str | None = None) -> bool:
        """The worker is still at it (and at ``stage``); False if the job is no longer its own."""
        values: dict[str, Any] = {"heartbeat_at": _now()}
        if stage is not None:
            values["stage"] = stage[:200]
        with self._begin() as connection:
            return bool(
                connection.execute(
                    update(event_jobs_table)
                    .where(
                        event_jobs_table.c.id == job_id,
                        event_jobs_table.c.worker == worker,
                        event_jobs_table.c.state == "running",
                    )
                    .values(**values)
                ).rowcount
            )

    def finish(self, job_id: str, worker: str, result: dict[str, Any]) -> bool:
        """Store the result of the worker's own running job; False if another worker took it over."""
        return self._end(job_id, worker, state="done", stage="done", result=json.dumps(result, ensure_ascii=False))

    def fail(self, job_id: str, worker: str, error: str) -> bool:
        return self._end(job_id, worker, state="failed", stage="failed", error=error)

    def release(self, job_id: str, worker: str) -> bool:
        """Hand the worker's running job back to the queue (the worker is stopping); True if it was its own."""
        with self._begin() as connection:
            released = bool(
                connection.execute(
                    update(event_jobs_table)
                    .where(
                        event_jobs_table.c.id == job_id,
                        event_jobs_table.c.worker == worker,
                        event_jobs_table.c.state == "running",
                    )
                    .values(state="queued", stage=f"waiting for a worker ({worker} stopped)")
                ).rowcount
            )
            if released:
                record(connection, "job", job_id)
            return released

    def _end(self, job_id: str, worker: str, **values: Any) -> bool:
        now = _now()
        with self._begin() as connection:
            done = bool(
                connection.execute(
                    update(event_jobs_table)
                    .where(
                        event_jobs_table.c.id == job_id,
                        event_jobs_table.c.worker == worker,
                        event_jobs_table.c.state == "running",
                    )
                    .values(finished_at=now, heartbeat_at=now, **values)
                ).rowcount
            )
            if done:
                record(connection, "job", job_id)
            return done

    def recover(self, stale_after: float, max_attempts: int) -> tuple[list[str], list[str]]:
        """Running jobs whose heartbeat stopped ``stale_after`` seconds ago: queued again, or failed after
        ``max_attempts`` tries. Returns the ids queued again and the ids failed."""
        cutoff = _now() - timedelta(seconds=stale_after)
        query = select(event_jobs_table.c.id, event_jobs_table.c.attempts, event_jobs_table.c.worker).where(
            event_jobs_table.c.state == "running", event_jobs_table.c.heartbeat_at < cutoff
        )
        with self._read() as connection:
            stale = [(str(r.id), int(r.attempts), r.worker) for r in connection.execute(query)]
        requeued: list[str] = []
        failed: list[str] = []
        for job_id, attempts, worker in stale:
            condition = (
                event_jobs_table.c.id == job_id,
                event_jobs_table.c.state == "running",
                event_jobs_table.c.heartbeat_at < cutoff,
            )
            with self._begin() as connection:
                if attempts >= max_attempts:
                    values: dict[str, Any] = {
                        "state": "failed",
                        "stage": "failed",
                        "finished_at": _now(),
                        "error": f"the worker running it stopped {attempts} times (last: {worker}); "
                        "start the job again",
                    }
                else:
                    values = {"state": "queued", "stage": f"waiting for a worker (the worker {worker} stopped)"}
                if connection.execute(update(event_jobs_table).where(*condition).values(**values)).rowcount:
                    record(connection, "job", job_id)
                    (failed if values["state"] == "failed" else requeued).append(job_id)
        return requeued, failed

    def counts(self) -> dict[str, int]:
        """Jobs per state (for health and tests)."""
        query = select(event_jobs_table.c.state, func.count()).group_by(event_jobs_table.c.state)
        with self._read() as connection:
            return {str(state): int(n) for state, n in connection.execute(query)}


def _job(row: Any) -> Job:
    return Job(
        id=str(row.id),
        event_id=str(row.event_id),
        event_version=int(row.event_version),
        event_data=json.loads(row.event_data),
        options=json.loads(row.options),
        state=str(row.state),
        stage=str(row.stage),
        worker=row.worker,
        attempts=int(row.attempts),
        error=row.error,
        result=None if row.result is None else json.loads(row.result),
        created_at=_aware(row.created_at) or _now(),
        started_at=_aware(row.started_at),
        heartbeat_at=_aware(row.heartbeat_at),
        finished_at=_aware(row.finished_at),
    )
