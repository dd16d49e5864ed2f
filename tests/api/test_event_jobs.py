"""Scheduling jobs on the real server: two workers answer for one job; a worker killed mid-job; a restart."""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
import yaml

from tests.api.support import AUTH
from tests.api.test_server import _free_port, serve, server

pytestmark = pytest.mark.slow
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "india-japan-event.yaml"
FAST_JOBS = {"MATCHMAKER_JOB_HEARTBEAT_SECONDS": "0.5", "MATCHMAKER_JOB_STALE_SECONDS": "3"}


def slow_event(n: int = 300, asks: int = 8, seed: int = 1) -> dict[str, Any]:
    """Attendees without profiles who asked to meet each other: the exact model takes seconds to solve."""
    rng = random.Random(seed)
    ids = [f"guest-{k:03d}" for k in range(n)]
    seen: set[frozenset[str]] = set()
    requests = []
    for a in ids:
        for b in rng.sample(ids, asks):
            if a != b and frozenset((a, b)) not in seen:
                seen.add(frozenset((a, b)))
                requests.append({"by": a, "to": b})
    return {
        "name": "Slow day",
        "tables": n // 4,
        "types": {"participant": {"min_meetings": 3, "max_meetings": 8}},
        "sessions": [
            {"id": "am", "start": "2025-11-20T10:00:00+05:30", "minutes": 20, "count": 8},
            {"id": "pm", "start": "2025-11-20T14:00:00+05:30", "minutes": 20, "count": 8},
        ],
        "participants": [{"id": i} for i in ids],
        "requests": requests,
    }


SLOW = {"method": "integrated", "time_limit": 10}


def _start(url: str, event: dict[str, Any], options: dict[str, Any]) -> str:
    assert httpx.put(f"{url}/v1/events/day", json=event, headers=AUTH, timeout=30).status_code in (200, 201)
    started = httpx.post(f"{url}/v1/events/day/schedule", json=options, headers=AUTH, timeout=30)
    assert started.status_code == 202, started.text
    job: str = started.json()["id"]
    return job


def _job(url: str, job: str) -> dict[str, Any]:
    found: dict[str, Any] = httpx.get(f"{url}/v1/jobs/{job}", timeout=30).json()  # a new connection: any worker
    return found


def _until(url: str, job: str, states: set[str], timeout: float) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen.append(_job(url, job))
        if seen[-1]["state"] in states:
            return seen
        time.sleep(0.2)
    raise AssertionError(f"job {job} not {states} within {timeout} s: {seen[-1] if seen else None}")


def _pid(worker: str) -> int:
    return int(worker.split(":")[1])


def test_two_workers_answer_for_one_job(tmp_path: Path) -> None:
    command, env = serve(tmp_path, _free_port())
    with server([*command, "--workers", "2"], cwd=tmp_path, env={**env, **FAST_JOBS}, logs=tmp_path) as (
        process,
        url,
    ):
        workers = {child.pid for child in psutil.Process(process.pid).children(recursive=True)}
        job = _start(url, yaml.safe_load(EXAMPLE.read_text(encoding="utf-8")), {})
        answers = _until(url, job, {"done", "failed"}, timeout=90)
        answers += [_job(url, job) for _ in range(20)]
        states = [a["state"] for a in answers]
        order = {"queued": 0, "running": 1, "done": 2}
        assert states == sorted(states, key=order.__getitem__), states  # never backwards, whoever answers
        final = answers[-1]
        assert final["state"] == "done" and final["attempts"] == 1 and _pid(final["worker"]) in workers
        assert all(a == final for a in answers[-20:])
        schedule = httpx.get(f"{url}/v1/events/day/schedule", timeout=30).json()
        assert schedule["job"] == job and schedule["status"] == "optimal" and schedule["meetings"]


def test_a_worker_killed_mid_job_leaves_the_job_to_the_other(tmp_path: Path) -> None:
    command, env = serve(tmp_path, _free_port())
    with server([*command, "--workers", "2"], cwd=tmp_path, env={**env, **FAST_JOBS}, logs=tmp_path) as (_, url):
        job = _start(url, slow_event(), SLOW)
        running = _until(url, job, {"running"}, timeout=60)[-1]
        killed = _pid(running["worker"])
        time.sleep(1)  # well into the solve
        os.kill(killed, signal.SIGKILL)
        answers = _until(url, job, {"done", "failed"}, timeout=180)
        final = answers[-1]
        assert final["state"] == "done", final
        assert final["attempts"] == 2 and _pid(final["worker"]) != killed
        assert httpx.get(f"{url}/v1/events/day/schedule", timeout=30).json()["job"] == job


def test_a_job_interrupted_by_a_restart_is_resumed(tmp_path: Path) -> None:
    command, env = serve(tmp_path, _free_port())
    env = {**env, **FAST_JOBS}
    with server(command, cwd=tmp_path, env=env, logs=tmp_path) as (process, url):
        job = _start(url, slow_event(), SLOW)
        _until(url, job, {"running"}, timeout=60)
        time.sleep(1)
        process.kill()  # no shutdown: the job stays "running" with a heartbeat that stops
        process.wait()
    command, env = serve(tmp_path, _free_port())
    with server(command, cwd=tmp_path, env={**env, **FAST_JOBS}, logs=tmp_path) as (_, url):
        final = _until(url, job, {"done", "failed"}, timeout=180)[-1]
        assert final["state"] == "done" and final["attempts"] == 2


def test_a_clean_stop_hands_the_running_job_back(tmp_path: Path) -> None:
    command, env = serve(tmp_path, _free_port())
    env = {**env, "MATCHMAKER_JOB_HEARTBEAT_SECONDS": "0.5", "MATCHMAKER_JOB_STALE_SECONDS": "600"}
    with server(command, cwd=tmp_path, env=env, logs=tmp_path) as (process, url):
        job = _start(url, slow_event(), SLOW)
        _until(url, job, {"running"}, timeout=60)
        process.terminate()  # SIGTERM: uvicorn shuts down, the runner hands the job back
        process.wait(timeout=60)
    command, env2 = serve(tmp_path, _free_port())
    with server(command, cwd=tmp_path, env={**env2, **env, "PORT": env2["PORT"]}, logs=tmp_path) as (_, url):
        # Stale after 600 s: only the hand-back lets the new process take the job at once.
        final = _until(url, job, {"done", "failed"}, timeout=120)[-1]
        assert final["state"] == "done" and final["attempts"] == 2
