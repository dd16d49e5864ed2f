"""Scheduling jobs in the background, with their state in the database so any worker answers for any job.

Each server process runs one :class:`JobRunner`: a thread that, every ``sweep`` seconds (and at once when
a job is started here), first takes over the jobs whose worker stopped, then claims queued jobs one at a
time and runs them. While a job runs, a second thread writes a heartbeat (and the current stage) every
``heartbeat`` seconds. A running job whose heartbeat is older than ``stale`` seconds belongs to a worker
that stopped (killed, restarted, its machine gone): the first runner to notice queues it again, and it is
scheduled from the start (the same input gives the same schedule); after ``max_attempts`` starts it is
marked failed, with why. So a job is never lost silently: it ends done or failed, and says which.

A process that stops cleanly hands its running job back at once (queued again), so another worker need
not wait for the heartbeat to go stale. The runner's first sweep, at start-up, is the recovery pass.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from typing import Any

from matchmaker.application.events import plan_event
from matchmaker.application.workspace import Workspace
from matchmaker.core.errors import MatchmakerError
from matchmaker.core.events.model import event_from_data
from matchmaker.event_storage import EventStore, Job
from matchmaker.events.files import event_document
from matchmaker.events.output import schedule_document
from matchmaker.views import reason_text

log = logging.getLogger("matchmaker.service")

HEARTBEAT_SECONDS = 2.0
STALE_SECONDS = 20.0  # ten missed heartbeats: the worker is gone
SWEEP_SECONDS = 2.0
MAX_ATTEMPTS = 3


def worker_name() -> str:
    """This process, as the jobs table names it: host, process id and a random suffix (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def run_job(workspace: Callable[[], Workspace], job: Job, progress: Callable[[str], None]) -> dict[str, Any]:
    """Schedule the job's event in the current workspace: the stored result (schedule, the event, names)."""
    event = event_from_data(job.event_data, f"event {job.event_id!r}")
    options = job.options
    plan = plan_event(
        workspace(),
        event,
        describe=reason_text,
        top=int(options.get("candidates", 10)),
        method=str(options.get("method", "optimal")),
        time_limit=float(options.get("time_limit", 60.0)),
        progress=progress,
    )
    prepared = plan.prepared
    return {
        "schedule": schedule_document(plan.event, plan.schedule),
        "event": event_document(plan.event),
        "names": dict(prepared.names),
        "countries": dict(prepared.countries),
        "without_profile": list(prepared.without_profile),
    }


class JobRunner:
    """Claims and runs this process's share of the scheduling jobs (see the module's notes)."""

    def __init__(
        self,
        events: EventStore,
        workspace: Callable[[], Workspace],
        *,
        heartbeat: float = HEARTBEAT_SECONDS,
        stale: float = STALE_SECONDS,
        sweep: float = SWEEP_SECONDS,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.events = events
        self.workspace = workspace
        self.heartbeat = heartbeat
        self.stale = stale
        self.sweep = sweep
        self.max_attempts = max_attempts
        self.worker = worker_name()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.current: str | None = None  # the job running here, if any

    def start(self) -> None:
        """Start the runner's thread (once); its first sweep is the recovery pass."""
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="matchmaker-jobs", daemon=True)
                self._thread.start()

    def wake(self) -> None:
        """Look for queued jobs now (a job was just started here)."""
        self.start()
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop claiming jobs and hand the running one back to the queue."""
        self._stopping.set()
        self._wake.set()
        job = self.current
        if job is not None:
            try:
                self.events.release(job, self.worker)
            except Exception:  # the database may be gone at shutdown; the heartbeat then goes stale
                log.warning("could not hand job %s back at shutdown", job, exc_info=True)
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self.sweep_once()
            except Exception:  # a database hiccup must not end the runner: the next sweep tries again
                log.warning("job sweep failed", exc_info=True)
            self._wake.wait(self.sweep)
            self._wake.clear()

    def sweep_once(self) -> None:
        """Take over stale jobs, then run queued ones until none is left (or the runner stops)."""
        requeued, failed = self.events.recover(self.stale, self.max_attempts)
        for job_id in requeued:
            log.warning("job %s lost its worker; queued again", job_id)
        for job_id in failed:
            log.error("job %s lost its worker %d times; marked failed", job_id, self.max_attempts)
        for job_id in self.events.queued():
            if self._stopping.is_set():
                return
            if self.events.claim(job_id, self.worker):
                self._run(job_id)

    def _run(self, job_id: str) -> None:
        self.current = job_id
        stage = ["starting"]
        done = threading.Event()

        def beat() -> None:
            while not done.wait(self.heartbeat):
                try:
                    if not self.events.beat(job_id, self.worker, stage[0]):
                        return  # taken over (our heartbeat was late) or handed back: the result will be dropped
                except Exception:
                    log.warning("heartbeat of job %s failed", job_id, exc_info=True)

        beating = threading.Thread(target=beat, name=f"matchmaker-job-{job_id[:8]}", daemon=True)
        beating.start()
        try:
            job = self.events.job(job_id)

            def progress(name: str) -> None:
                stage[0] = name

            result = run_job(self.workspace, job, progress)
            done.set()
            if not self.events.finish(job_id, self.worker, result):
                log.warning("job %s finished here but belongs to another worker now; its result is dropped", job_id)
        except MatchmakerError as err:
            done.set()
            self.events.fail(job_id, self.worker, str(err))
        except Exception as err:
            done.set()
            log.error("job %s failed", job_id, exc_info=err)
            self.events.fail(job_id, self.worker, f"internal error ({type(err).__name__}); it has been logged")
        finally:
            done.set()
            beating.join(self.heartbeat + 1)
            self.current = None
