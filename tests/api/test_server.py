"""The real server on loopback: `matchmaker serve`, `uvicorn api.main:app`, and durability under SIGKILL."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.api.support import AUTH, KEY, attendee, mirror_of

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def server(
    command: list[str], *, cwd: Path, env: dict[str, str], logs: Path
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """Start ``command`` (it must serve on the port given in ``env['PORT']``); yield it once /healthz answers."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MATCHMAKER_")}
    log_path = logs / f"server-{env['PORT']}.log"
    log = log_path.open("wb")  # closed below, after the process ends
    process = subprocess.Popen(command, cwd=cwd, env={**clean, **env}, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{env['PORT']}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                raise AssertionError(f"server exited: {log_path.read_text(errors='replace')}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("server did not start within 90 s")
            time.sleep(0.2)
        yield process, url
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def serve(tmp_path: Path, port: int) -> tuple[list[str], dict[str, str]]:
    """`matchmaker serve` as users run it, on a SQLite file in ``tmp_path``."""
    command = [sys.executable, "-c", "from matchmaker.cli import app; app()", "serve", "--port", str(port)]
    env = {
        "PORT": str(port),
        "MATCHMAKER_DATABASE": str(tmp_path / "matchmaker.db"),
        "MATCHMAKER_API_KEYS": f'["{KEY}"]',
    }
    return command, env


def test_uvicorn_from_the_repository_root(tmp_path: Path) -> None:
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", "api.main:app", "--port", str(port)]
    env = {"PORT": str(port), "MATCHMAKER_DATABASE": str(tmp_path / "root.db"), "PYTHONPATH": str(REPO)}
    with server(command, cwd=REPO, env=env, logs=tmp_path) as (_, url):
        assert httpx.get(f"{url}/v1/organisations/highreso/partners").json()["partners"]
        assert httpx.get(f"{url}/docs").status_code == 200
    assert (tmp_path / "root.db").is_file() and not (REPO / "matchmaker.db").exists()
    assert not list(REPO.glob("server-*.log"))


def test_chunked_body_over_the_cap_is_413_json_on_the_real_server(tmp_path: Path) -> None:
    command, env = serve(tmp_path, _free_port())
    with server(command, cwd=tmp_path, env={**env, "MATCHMAKER_MAX_BODY_BYTES": "4096"}, logs=tmp_path) as (_, url):
        port = int(env["PORT"])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(
                b"POST /v1/match HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n"
            )
            chunk = b"x" * 1000
            for _ in range(8):
                conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            conn.sendall(b"0\r\n\r\n")
            reply = b""
            while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
                data = conn.recv(65536)
                if not data:
                    break
                reply += data
        head, _, body = reply.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 413")
        assert json.loads(body) == {
            "detail": "the request body is larger than 4096 bytes, the most this server accepts"
        }
        assert httpx.get(f"{url}/healthz").status_code == 200


def test_registered_attendee_appears_at_once_and_every_acknowledged_put_survives_sigkill(tmp_path: Path) -> None:
    acknowledged: set[str] = set()
    cut_short: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer(url: str, worker: int) -> None:
        with httpx.Client(base_url=url, headers=AUTH, timeout=30) as client:
            for n in range(200):  # bounded; normally cut short by the kill
                if stop.is_set():
                    return
                org = f"attendee-{worker}-{n}"
                try:
                    response = client.put(f"/v1/organisations/{org}", json=attendee(f"Attendee {worker} {n}"))
                except httpx.TransportError:
                    cut_short.append(org)  # the server was killed: this PUT's outcome is unknown
                    return
                if response.is_success:
                    with lock:
                        acknowledged.add(org)

    command, env = serve(tmp_path, _free_port())
    with server(command, cwd=tmp_path, env=env, logs=tmp_path) as (process, url):
        mirror = httpx.put(f"{url}/v1/organisations/mirror-co", json=mirror_of("highreso"), headers=AUTH)
        assert mirror.status_code == 201
        best = httpx.get(f"{url}/v1/organisations/highreso/partners").json()["partners"][0]
        assert best["id"] == "mirror-co"
        threads = [threading.Thread(target=writer, args=(url, k)) for k in range(8)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while len(acknowledged) < 40 and time.monotonic() < deadline:
            time.sleep(0.01)
        process.kill()  # SIGKILL while the writers are still sending
        process.wait()
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert len(acknowledged) >= 40 and cut_short, "the kill must land while PUTs are in flight"

    command, env = serve(tmp_path, _free_port())
    with server(command, cwd=tmp_path, env=env, logs=tmp_path) as (_, url), httpx.Client(base_url=url) as client:
        assert client.get("/v1/organisations/highreso/partners").json()["partners"][0]["id"] == "mirror-co"
        for org in sorted(acknowledged):
            response = client.get(f"/v1/organisations/{org}")
            assert response.status_code == 200, org
            worker, n = org.split("-")[1:]
            assert response.json()["name"] == f"Attendee {worker} {n}"
    with sqlite3.connect(tmp_path / "matchmaker.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        stored = {row[0] for row in db.execute("SELECT id FROM registered_profiles")}
    assert acknowledged <= stored
