"""The events API in process: events, participants, requests, scheduling jobs, schedules and agendas."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from icalendar import Calendar
from sqlalchemy import update
from typer.testing import CliRunner

from matchmaker.cli import app as cli
from matchmaker.event_storage import EventStore, StoredEvent
from matchmaker.service import create_app
from matchmaker.service.jobs import JobRunner
from matchmaker.storage import Store, event_jobs_table
from tests.api.support import AUTH, KEY, TestClient, settings

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "india-japan-event.yaml"
DAY = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(settings(tmp_path / "events.db", api_keys=[KEY]))) as test_client:
        yield test_client


def _wait(client: TestClient, job: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found: dict[str, Any] = client.get(f"/v1/jobs/{job}").json()
        if found["state"] in ("done", "failed"):
            return found
        time.sleep(0.1)
    raise AssertionError(f"job {job} did not finish within {timeout} s")


def test_an_event_is_created_read_and_replaced_with_its_version(client: TestClient) -> None:
    created = client.put("/v1/events/day", json=DAY, headers=AUTH)
    assert created.status_code == 201 and created.json()["version"] == 1
    assert client.get("/v1/events/day").json()["event"]["name"] == DAY["name"]
    again = client.put("/v1/events/day", json={**DAY, "name": "Renamed day"}, headers=AUTH)
    assert again.status_code == 200 and again.json()["version"] == 2
    assert client.get("/v1/events").json() == {"events": [{"id": "day", "version": 2}]}
    assert client.delete("/v1/events/day", headers=AUTH).status_code == 204
    assert client.get("/v1/events/day").status_code == 404


def test_writes_need_the_key(client: TestClient) -> None:
    client.put("/v1/events/day", json={**DAY, "requests": [{"by": "tcs", "to": "ntt"}]}, headers=AUTH)
    writes = [
        ("PUT", "/v1/events/day", DAY),
        ("DELETE", "/v1/events/day", None),
        ("PUT", "/v1/events/day/participants/tcs", {}),
        ("DELETE", "/v1/events/day/participants/tcs", None),
        ("POST", "/v1/events/day/requests", {"by": "tcs", "to": "yotta"}),
        ("POST", "/v1/events/day/requests/tcs/ntt/accept", None),
        ("POST", "/v1/events/day/requests/tcs/ntt/decline", None),
        ("POST", "/v1/events/day/schedule", None),
    ]
    for method, path, body in writes:
        for headers in ({}, {"Authorization": "Bearer wrong-key-0123456789"}):
            answer = client.request(method, path, json=body, headers=headers)
            assert answer.status_code == 401 and answer.json()["detail"], (method, path, headers)
    assert client.get("/v1/events/day").json()["version"] == 1  # nothing changed


def test_a_bad_event_is_422_with_every_problem(client: TestClient) -> None:
    bad = {**DAY, "requests": [{"by": "sakana-ai", "to": "nobody"}]}
    answer = client.put("/v1/events/day", json=bad, headers=AUTH)
    assert answer.status_code == 422
    assert answer.json()["problems"][0]["field"] == "requests[0].to"
    assert "unknown participant 'nobody'" in answer.json()["detail"]


def test_participants_and_their_availability_are_changed_one_at_a_time(client: TestClient) -> None:
    client.put("/v1/events/day", json=DAY, headers=AUTH)
    added = client.put("/v1/events/day/participants/kaizen-robotics", json={"name": "Kaizen"}, headers=AUTH)
    assert added.status_code == 201
    moved = client.put(
        "/v1/events/day/participants/kaizen-robotics", json={"name": "Kaizen", "available": ["am"]}, headers=AUTH
    )
    assert moved.status_code == 200 and moved.json()["version"] == 3
    people = {p["id"]: p for p in moved.json()["event"]["participants"]}
    assert people["kaizen-robotics"]["available"] == ["am"]
    conflict = client.put("/v1/events/day/participants/kaizen-robotics", json={"type": "vip"}, headers=AUTH)
    assert conflict.status_code == 409
    assert conflict.json()["problems"][0]["message"].startswith("unknown participation type 'vip'")
    client.post("/v1/events/day/requests", json={"by": "kaizen-robotics", "to": "tcs"}, headers=AUTH)
    assert client.delete("/v1/events/day/participants/kaizen-robotics", headers=AUTH).status_code == 204
    left = client.get("/v1/events/day").json()["event"]
    assert "kaizen-robotics" not in {p["id"] for p in left["participants"]}
    assert all("kaizen-robotics" not in (r["by"], r["to"]) for r in left["requests"])
    assert client.delete("/v1/events/day/participants/kaizen-robotics", headers=AUTH).status_code == 404
    assert client.put("/v1/events/other/participants/x", json={}, headers=AUTH).status_code == 404


def test_requests_are_asked_accepted_and_declined(client: TestClient) -> None:
    client.put("/v1/events/day", json=DAY, headers=AUTH)
    asked = client.post("/v1/events/day/requests", json={"by": "tcs", "to": "fujitsu"}, headers=AUTH)
    assert asked.status_code == 201 and asked.json()["status"] == "open"
    assert client.post("/v1/events/day/requests", json={"by": "tcs", "to": "fujitsu"}, headers=AUTH).status_code == 200
    accepted = client.post("/v1/events/day/requests/tcs/fujitsu/accept", headers=AUTH)
    assert accepted.json()["status"] == "accepted"
    declined = client.post("/v1/events/day/requests/tcs/fujitsu/decline", headers=AUTH)
    assert declined.json()["status"] == "declined" and declined.json()["pair_status"] == "declined"
    again = client.post("/v1/events/day/requests", json={"by": "tcs", "to": "fujitsu"}, headers=AUTH)
    assert again.status_code == 409 and "declined" in again.json()["detail"]
    assert client.post("/v1/events/day/requests/ntt/tcs/accept", headers=AUTH).status_code == 404
    unknown = client.post("/v1/events/day/requests", json={"by": "tcs", "to": "nobody"}, headers=AUTH)
    assert unknown.status_code == 404


def test_scheduling_answers_at_once_and_the_job_ends_with_the_clis_schedule(client: TestClient) -> None:
    client.put("/v1/events/day", json=DAY, headers=AUTH)
    started = client.post("/v1/events/day/schedule", json={"time_limit": 30}, headers=AUTH)
    assert started.status_code == 202 and started.json()["state"] in ("queued", "running", "done")
    job = started.json()["id"]
    assert started.headers["Location"] == f"/v1/jobs/{job}"
    finished = _wait(client, job)
    assert finished["state"] == "done" and finished["attempts"] == 1 and finished["error"] is None
    assert finished["schedule"] == "/v1/events/day/schedule"
    schedule = client.get("/v1/events/day/schedule").json()
    assert schedule.pop("job") == job and schedule.pop("current") is True and schedule.pop("event_version") == 1
    printed = CliRunner().invoke(cli, ["event", "schedule", str(EXAMPLE), "--format", "json"]).stdout
    assert schedule == json.loads(printed)
    client.put("/v1/events/day/participants/kaizen-robotics", json={}, headers=AUTH)
    assert client.get("/v1/events/day/schedule").json()["current"] is False


def test_a_running_job_reports_each_stage_it_reaches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The job's ``stage`` in the database follows the scheduler's progress (written with the heartbeat)."""
    from matchmaker.service import jobs

    seen: list[str] = []
    real = jobs.run_job

    def observed(workspace: Any, job: Any, progress: Any) -> dict[str, Any]:
        def relay(stage: str) -> None:
            progress(stage)
            deadline = time.monotonic() + 10
            while events.job(job.id).stage != stage:  # what GET /v1/jobs/{job} reads
                assert time.monotonic() < deadline, f"stage {stage!r} never reached the database"
                time.sleep(0.01)
            seen.append(stage)

        return real(workspace, job, relay)

    monkeypatch.setattr(jobs, "run_job", observed)
    app = create_app(settings(tmp_path / "events.db", api_keys=[KEY], job_heartbeat_seconds=0.1))
    with TestClient(app) as client:
        events = app.state.events
        client.put("/v1/events/day", json=DAY, headers=AUTH)
        finished = _wait(client, client.post("/v1/events/day/schedule", headers=AUTH).json()["id"])
    assert finished["state"] == "done", finished
    assert seen[0] == "finding candidates" and "preparing the instance" in seen, seen
    assert any(stage.startswith("selecting pairs: ") for stage in seen), seen


def test_agendas_as_json_and_as_calendar_files(client: TestClient) -> None:
    client.put("/v1/events/day", json=DAY, headers=AUTH)
    assert client.get("/v1/events/day/agendas/tcs").status_code == 404  # no schedule yet
    _wait(client, client.post("/v1/events/day/schedule", headers=AUTH).json()["id"])
    agenda = client.get("/v1/events/day/agendas/tcs").json()
    schedule = client.get("/v1/events/day/schedule").json()
    assert [m["slot"] for m in agenda["meetings"]] == [
        m["slot"] for m in schedule["meetings"] if "tcs" in (m["a"], m["b"])
    ]
    ics = client.get("/v1/events/day/agendas/tcs", params={"format": "ics"})
    assert ics.headers["content-type"].startswith("text/calendar")
    assert len(Calendar.from_ical(ics.content).walk("VEVENT")) == len(agenda["meetings"])
    assert client.get("/v1/events/day/agendas/nobody").status_code == 404


def test_bad_scheduling_options_are_refused(client: TestClient) -> None:
    client.put("/v1/events/day", json=DAY, headers=AUTH)
    started = client.post("/v1/events/day/schedule", json={"candidates": 5, "time_limit": 1}, headers=AUTH)
    assert _wait(client, started.json()["id"])["state"] == "done"
    assert client.post("/v1/events/day/schedule", json={"time_limit": 0}, headers=AUTH).status_code == 422
    assert client.post("/v1/events/day/schedule", json={"method": "fastest"}, headers=AUTH).status_code == 422
    assert client.post("/v1/events/nothing/schedule", headers=AUTH).status_code == 404
    assert client.get(f"/v1/jobs/{'0' * 32}").status_code == 404


def test_a_job_that_cannot_run_is_failed_with_why(tmp_path: Path) -> None:
    store = EventStore(Store.open(None, tmp_path / "jobs.db"))
    broken = StoredEvent("day", {"name": "Day", "sessions": DAY["sessions"]}, 1, datetime.now(UTC))
    job = store.add_job(broken, {})
    runner = JobRunner(store, lambda: pytest.fail("a job whose event is invalid never reaches the workspace"))
    runner.sweep_once()
    failed = store.job(job.id)
    assert failed.state == "failed" and failed.attempts == 1
    assert failed.error == "event 'day': tables: missing required field 'tables'"


# -- the store under several workers ----------------------------------------------------------------------


def _stores(path: Path, n: int) -> list[EventStore]:
    return [EventStore(Store.open(None, path)) for _ in range(n)]


def test_concurrent_changes_of_one_event_are_never_lost(tmp_path: Path) -> None:
    first, second = _stores(tmp_path / "shared.db", 2)
    first.put("day", {"name": "Day", "tables": 1, "sessions": DAY["sessions"], "participants": []})

    def add(store: EventStore, prefix: str) -> None:
        for k in range(15):
            store.change(
                "day", lambda data, org=f"{prefix}-{k}": {**data, "participants": [*data["participants"], {"id": org}]}
            )

    threads = [threading.Thread(target=add, args=(s, p)) for s, p in ((first, "a"), (second, "b"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = first.get("day")
    assert len(stored.data["participants"]) == 30 and stored.version == 31


def test_one_worker_wins_a_claim_and_a_stopped_workers_job_is_taken_over_then_failed(tmp_path: Path) -> None:
    first, second = _stores(tmp_path / "shared.db", 2)
    event, _ = first.put("day", {"name": "Day", "tables": 1, "sessions": DAY["sessions"]})
    job = first.add_job(event, {})
    wins = [first.claim(job.id, "w1"), second.claim(job.id, "w2")]
    assert wins == [True, False]
    assert second.beat(job.id, "w2") is False and first.beat(job.id, "w1", "selecting pairs") is True
    assert first.recover(stale_after=60, max_attempts=2) == ([], [])  # its heartbeat is fresh

    def silence() -> None:  # the worker stopped: its heartbeat is a minute old
        with first.engine.begin() as connection:
            old = datetime.now(UTC) - timedelta(seconds=60)
            connection.execute(update(event_jobs_table).where(event_jobs_table.c.id == job.id).values(heartbeat_at=old))

    silence()
    assert second.recover(stale_after=30, max_attempts=2) == ([job.id], [])
    assert first.recover(stale_after=30, max_attempts=2) == ([], [])  # taken over once only
    assert second.claim(job.id, "w2") and second.job(job.id).attempts == 2
    assert first.finish(job.id, "w1", {}) is False  # the stopped worker's late result is dropped
    silence()
    requeued, failed = first.recover(stale_after=30, max_attempts=2)
    assert (requeued, failed) == ([], [job.id])
    ended = first.job(job.id)
    assert ended.state == "failed" and "stopped 2 times" in (ended.error or "")
