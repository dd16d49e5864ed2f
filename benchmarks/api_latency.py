"""Latency and throughput of GET /v1/organisations/{id}/partners on loopback, printed as one JSON object.

The server runs as users run it (``matchmaker --profiles DIR serve --workers 2``: uvicorn, one worker
process per core of the 2-core machine, ``--workers 1`` for one) on the
shipped profiles and on synthetic populations generated here from them (ids, names and item texts
varied deterministically). Two measurements per population, each request for the next organisation
in a fixed shuffled order of all of them (so a large population is asked about distinct organisations):

* closed loop: 32 clients, each sending its next request when the last one answers, for a fixed
  duration: the most requests per second the server sustains;
* open loop: requests sent on a fixed schedule (200 per second) whether or not earlier ones have
  answered, latency measured from each request's scheduled send time, so a server that falls behind
  shows it in the tail (closed-loop tools wait for the server and understate it);
* open loop again over organisations already asked about (the service keeps rendered answers until
  the next write, as when attendees reload their lists): the cached case;
* mixed open loop (``--mixed-rate``, 100 a second): registrations at the opening of an event, one
  request in ten (``--write-share``) a ``PUT`` of a new attendee (a write, committed to SQLite with
  ``synchronous=FULL`` and applied by every worker), the rest partner lists; latency of the reads and
  of the writes reported apart and together. Target: p99 <= 250 ms at 10,000 organisations.

Organisations are never repeated across the first three phases unless the population is smaller than
the number of requests (the shipped profiles are, so their numbers are mostly cached answers). The
server's CPU time per request (psutil) is reported too: unlike latency, it does not depend on what else
the machine is running.

Usage::

    python benchmarks/api_latency.py                       # shipped profiles and 10,000 organisations
    python benchmarks/api_latency.py --sizes shipped 1000 --duration 10
    python benchmarks/api_latency.py --sizes 10000 --phases mixed      # the mixed read/write load alone
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psutil  # type: ignore[import-untyped]
import yaml

from matchmaker.core.profile import Profile
from matchmaker.loading import default_profiles_dir, load_folder

IDLE_S = 2.0  # reuse a keep-alive connection only if it has been idle for less than this
TARGET = {"organisations": 10_000, "rate_per_s": 200, "p99_ms_below": 50.0, "errors": 0}
MIXED_TARGET = {"organisations": 10_000, "rate_per_s": 100, "write_share": 0.1, "p99_ms_at_most": 250.0, "errors": 0}
PHASES = ("closed", "open", "cached", "mixed")
KEY = "benchmark-key-0123456789"


def _words(profiles: Sequence[Profile]) -> list[str]:
    """The distinct words of the profiles' item descriptions, to vary texts with."""
    return sorted(
        {
            w.strip(".,;:()").lower()
            for p in profiles
            for *_, item in p.iter_items()
            for w in item.description.split()
            if w.strip(".,;:()").isalpha() and len(w) > 3
        }
    )


def _reworded(description: str, words: list[str], rng: random.Random) -> str:
    """``description`` with two random words added: a text new to the encoder and its cache."""
    return f"{description[:280]} {' '.join(rng.sample(words, 2))}"[:300]


def _vary(data: dict[str, Any], words: list[str], rng: random.Random) -> None:
    """Every item of ``data`` reworded (``_reworded``)."""
    for side in ("offers", "needs"):
        for items in data.get(side, {}).values():
            for item in items:
                item["description"] = _reworded(item["description"], words, rng)


def registrations(n: int, seed: int = 2) -> list[bytes]:
    """``n`` registration bodies (JSON) of new attendees, varied from the shipped profiles.

    Each item's text is new (as an attendee's own words are), so each registration embeds its texts.
    """
    shipped = load_folder(default_profiles_dir()).profiles
    words = _words(shipped)
    rng = random.Random(seed)
    bodies = []
    for k in range(n):
        data = shipped[k % len(shipped)].model_dump(mode="json", exclude_defaults=True)
        for field in ("id", "relations", "government", "government_evidence"):
            data.pop(field, None)
        data.update(name=f"Attendee {k:05d}", aliases=[])
        data["country"] = rng.choice(("JP", "IN"))
        data["presence"] = [data["country"]]
        _vary(data, words, rng)
        bodies.append(json.dumps(data).encode())
    return bodies


TEXT_VARIANTS = 20  # wordings of each shipped item in a synthetic population


def _variants(profiles: Sequence[Profile], words: list[str], rng: random.Random) -> dict[tuple[str, str], list[str]]:
    """``TEXT_VARIANTS`` wordings of every shipped item description (keyed by profile id and description)."""
    found: dict[tuple[str, str], list[str]] = {}
    for profile in profiles:
        for *_, item in profile.iter_items():
            found[(profile.id, item.description)] = [
                _reworded(item.description, words, rng) for _ in range(TEXT_VARIANTS)
            ]
    return found


def synthetic_folder(n: int, out: Path, seed: int = 0) -> Path:
    """A profile folder of ``n`` organisations derived from the shipped ones (deterministic for ``seed``).

    Each item takes one of ``TEXT_VARIANTS`` wordings of its shipped item, chosen per organisation and
    item: every organisation differs, and a population has a few thousand distinct texts (about 5,000),
    as a real one of attendees describing similar assets would, not one per item (a cold embedding of
    100,000 texts takes most of an hour here).
    """
    source = default_profiles_dir()
    shipped = load_folder(source).profiles
    words = _words(shipped)
    rng = random.Random(seed)
    variants = _variants(shipped, words, random.Random(seed + 1))
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(source / "_vocabulary.yaml", out / "_vocabulary.yaml")
    for k in range(n):
        base = shipped[k % len(shipped)]
        data = base.model_dump(mode="json", exclude_defaults=True)
        data.update(id=f"{base.id}-{k:05d}", name=f"{base.name} {k:05d}", aliases=[])
        for field in ("relations", "government", "government_evidence"):  # shipped ids, which it lacks
            data.pop(field, None)
        data["country"] = rng.choice(("JP", "IN", data["country"]))
        data["presence"] = sorted({data["country"], *data.get("presence", [])})
        for side in ("offers", "needs"):
            for items in data.get(side, {}).values():
                for item in items:
                    item["description"] = rng.choice(variants[(base.id, item["description"])])
        (out / f"{data['id']}.yaml").write_text(
            yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
    return out


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def warm_cache(profiles: Path, cache: Path) -> float:
    """Embed every text of the population into ``cache`` in this process (all cores); seconds taken.

    The server's workers then start from a warm cache, as a restarted server does: each would
    otherwise embed the same texts at once on one core.
    """
    from matchmaker.application.workspace import fit_population
    from matchmaker.embedding import encoder_choice
    from matchmaker.settings import load_settings

    started = time.perf_counter()
    settings = load_settings(cache_dir=cache, embedding_threads=os.cpu_count() or 1)
    population = load_folder(profiles)
    fit_population(population.profiles, population.vocabulary, encoding=encoder_choice(settings))
    return time.perf_counter() - started


@contextmanager
def running_server(
    profiles: Path, workdir: Path, workers: int, cache: Path
) -> Iterator[tuple[str, float, psutil.Process]]:
    """``matchmaker --profiles PROFILES serve --workers N`` on a free loopback port, embedding cache ``cache``.

    Yields its URL, its startup seconds (until every worker answers) and its process.
    """
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATCHMAKER_")}
    env["MATCHMAKER_DATABASE"] = str(workdir / "bench.db")
    env["MATCHMAKER_API_KEYS"] = KEY
    env["MATCHMAKER_CACHE_DIR"] = str(cache)
    command = [
        sys.executable,
        "-c",
        "from matchmaker.cli import app; app()",
        "--profiles",
        str(profiles),
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    log = (workdir / f"server-{port}.log").open("wb")
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {(workdir / log.name).read_text(errors='replace')[-2000:]}")
            started_workers = (workdir / log.name).read_text(errors="replace").count("Application startup complete")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200 and started_workers >= workers:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.25)
        yield url, time.perf_counter() - started, psutil.Process(process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _percentiles(latencies: list[float]) -> dict[str, float | None]:
    if not latencies:
        return {"p50_ms": None, "p90_ms": None, "p99_ms": None, "max_ms": None}
    values = np.array(latencies) * 1000
    return {
        "p50_ms": round(float(np.percentile(values, 50)), 2),
        "p90_ms": round(float(np.percentile(values, 90)), 2),
        "p99_ms": round(float(np.percentile(values, 99)), 2),
        "max_ms": round(float(values.max()), 2),
    }


def _cycle(ids: list[str]) -> Iterator[str]:
    while True:
        yield from ids


class Connections:
    """Keep-alive HTTP/1.1 connections to the server, with a minimal client.

    A general-purpose client (httpx) spends more CPU per request than the server does for a cached
    answer; on a small machine it would measure itself. This one sends a GET and reads the status
    line, the headers and ``Content-Length`` bytes, nothing more.
    """

    def __init__(self, host: str, port: int, limit: int) -> None:
        self.host, self.port, self.limit = host, port, limit
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
        self.opened = 0
        self.freed = asyncio.Condition()

    async def _take(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        async with self.freed:
            while not self.idle and self.opened >= self.limit:
                await self.freed.wait()
            while self.idle:
                reader, writer, since = self.idle.pop()
                if time.monotonic() - since < IDLE_S:
                    return reader, writer
                writer.close()  # the server may have closed it (uvicorn keeps idle connections 5 s)
                self.opened -= 1
            self.opened += 1
        try:
            return await asyncio.open_connection(self.host, self.port)
        except OSError:
            async with self.freed:
                self.opened -= 1
                self.freed.notify()
            raise

    async def _give(self, connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None) -> None:
        async with self.freed:
            if connection is None:
                self.opened -= 1
            else:
                self.idle.append((*connection, time.monotonic()))
            self.freed.notify()

    async def get(self, path: str, timeout: float) -> int:
        """GET ``path``; the status code (raises on a transport error or timeout)."""
        return await self.send("GET", path, timeout)

    async def send(self, method: str, path: str, timeout: float, body: bytes = b"") -> int:
        """``method path`` (with a JSON ``body`` and the key if there is one); the status code."""
        connection = await self._take()
        try:
            reader, writer = connection
            head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n"
            if body:
                head += (
                    f"Authorization: Bearer {KEY}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                )
            writer.write(head.encode() + b"\r\n" + body)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
            lines = head.decode("latin-1").split("\r\n")
            lengths = [int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:")]
            if not lengths:
                raise ValueError("response without Content-Length")
            await asyncio.wait_for(reader.readexactly(lengths[0]), timeout)
        except BaseException:
            connection[1].close()
            await self._give(None)
            raise
        await self._give(connection)
        return int(lines[0].split()[1])

    def close(self) -> None:
        for _, writer, _ in self.idle:
            writer.close()


async def _request(pool: Connections, org: str, timeout: float, errors: dict[str, int]) -> bool:
    try:
        status = await pool.get(f"/v1/organisations/{org}/partners", timeout)
    except (TimeoutError, OSError, ValueError, asyncio.IncompleteReadError) as err:
        errors[type(err).__name__] = errors.get(type(err).__name__, 0) + 1
        return False
    if status != 200:
        errors[str(status)] = errors.get(str(status), 0) + 1
    return status == 200


async def closed_loop(
    port: int, targets: Iterator[str], clients: int, duration: float, timeout: float
) -> dict[str, Any]:
    """``clients`` concurrent clients, each waiting for its answer before the next request."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    pool = Connections("127.0.0.1", port, clients)
    end = time.perf_counter() + duration

    async def worker() -> None:
        while time.perf_counter() < end:
            sent = time.perf_counter()
            if await _request(pool, next(targets), timeout, errors):
                latencies.append(time.perf_counter() - sent)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    pool.close()
    return {
        "clients": clients,
        "duration_s": round(elapsed, 2),
        "completed": len(latencies),
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "errors": sum(errors.values()),
        "error_kinds": errors,
        **_percentiles(latencies),
    }


async def open_loop(port: int, targets: Iterator[str], rate: float, duration: float, timeout: float) -> dict[str, Any]:
    """Requests sent on a fixed schedule; latency counted from each scheduled send time."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    pool = Connections("127.0.0.1", port, 512)

    async def one(org: str, scheduled: float) -> None:
        if await _request(pool, org, timeout, errors):
            latencies.append(time.perf_counter() - scheduled)

    total = int(rate * duration)
    start = time.perf_counter() + 0.1
    tasks = []
    lag = 0.0
    for k in range(total):
        scheduled = start + k / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        lag = max(lag, time.perf_counter() - scheduled)
        tasks.append(asyncio.create_task(one(next(targets), scheduled)))
    await asyncio.gather(*tasks)
    pool.close()
    return {
        "rate_per_s": rate,
        "duration_s": duration,
        "sent": total,
        "completed": len(latencies),
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "max_send_lag_ms": round(lag * 1000, 2),
        **_percentiles(latencies),
    }


async def mixed_loop(
    port: int,
    targets: Iterator[str],
    bodies: list[bytes],
    rate: float,
    write_share: float,
    duration: float,
    timeout: float,
) -> dict[str, Any]:
    """Open loop of partner lists with one request in ``1 / write_share`` a registration (PUT of a new id)."""
    latencies: dict[str, list[float]] = {"read": [], "write": []}
    errors: dict[str, int] = {}
    pool = Connections("127.0.0.1", port, 512)
    every = max(1, round(1 / write_share)) if write_share > 0 else 0

    async def one(kind: str, method: str, path: str, body: bytes, scheduled: float) -> None:
        try:
            status = await pool.send(method, path, timeout, body)
        except (TimeoutError, OSError, ValueError, asyncio.IncompleteReadError) as err:
            errors[type(err).__name__] = errors.get(type(err).__name__, 0) + 1
            return
        if status not in (200, 201):
            errors[f"{kind} {status}"] = errors.get(f"{kind} {status}", 0) + 1
            return
        latencies[kind].append(time.perf_counter() - scheduled)

    total = int(rate * duration)
    start = time.perf_counter() + 0.1
    tasks = []
    lag = 0.0
    written = 0
    for k in range(total):
        scheduled = start + k / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        lag = max(lag, time.perf_counter() - scheduled)
        if every and k % every == every - 1:
            request = ("write", "PUT", f"/v1/organisations/attendee-{written:05d}", bodies[written % len(bodies)])
            written += 1
        else:
            request = ("read", "GET", f"/v1/organisations/{next(targets)}/partners", b"")
        tasks.append(asyncio.create_task(one(*request, scheduled)))
    await asyncio.gather(*tasks)
    pool.close()
    every_latency = latencies["read"] + latencies["write"]
    return {
        "rate_per_s": rate,
        "write_share": write_share,
        "duration_s": duration,
        "sent": total,
        "writes_sent": written,
        "completed": len(every_latency),
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "max_send_lag_ms": round(lag * 1000, 2),
        **_percentiles(every_latency),
        "reads": _percentiles(latencies["read"]),
        "writes": _percentiles(latencies["write"]),
    }


def machine() -> dict[str, Any]:
    """The facts that decide these numbers: CPUs, memory, Python, BLAS, library versions."""
    from importlib.metadata import version

    cpu = (
        next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        )
        if Path("/proc/cpuinfo").exists()
        else ""
    )
    memory = (
        next(
            (line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")),
            None,
        )
        if Path("/proc/meminfo").exists()
        else None
    )
    config: Any = np.show_config(mode="dicts")
    blas = config.get("Build Dependencies", {}).get("blas", {})
    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(int(memory) / 1024 / 1024, 1) if memory else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "blas": f"{blas.get('name')} {blas.get('version')}".strip(),
        "versions": {
            name: version(name)
            for name in ("numpy", "scipy", "scikit-learn", "fastapi", "uvicorn", "starlette", "httpx")
        },
    }


def _cpu(process: psutil.Process) -> tuple[dict[int, float], float]:
    """CPU seconds of the server: of each of its serving processes (``--workers``, by pid), and of its
    background embedding processes together (those running at the lowest priority, nice 19)."""
    serving: dict[int, float] = {}
    embedding = 0.0
    for one in [process, *process.children(recursive=True)]:
        try:
            times, nice = one.cpu_times(), one.nice()
        except psutil.NoSuchProcess:
            continue
        if nice >= 19:
            embedding += times.user + times.system
        else:
            serving[one.pid] = times.user + times.system
    return serving, embedding


async def _phase(process: psutil.Process, measurement: Any) -> dict[str, Any]:
    serving, embedding = _cpu(process)
    numbers: dict[str, Any] = await measurement
    serving_after, embedding_after = _cpu(process)
    done = numbers["completed"]
    used = {pid: seconds - serving.get(pid, 0.0) for pid, seconds in serving_after.items()}
    numbers["server_cpu_ms_per_request"] = round(sum(used.values()) * 1000 / done, 2) if done else None
    # How the work fell on the processes (the supervisor's share is near 0): an uneven split is a queue.
    numbers["server_cpu_s_by_process"] = sorted((round(s, 2) for s in used.values()), reverse=True)
    numbers["embedding_cpu_s"] = round(embedding_after - embedding, 2)
    numbers["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    return numbers


async def measure(url: str, process: psutil.Process, ids: list[str], args: argparse.Namespace) -> dict[str, Any]:
    port = int(url.rsplit(":", 1)[1])
    order = list(ids)
    random.Random(1).shuffle(order)
    targets = _cycle(order)  # one pass through everyone across the phases: no organisation asked twice
    async with httpx.AsyncClient(base_url=url, timeout=args.timeout) as client:
        for _ in range(20):  # warm-up: first-request costs (imports, caches) are not what users see
            (await client.get(f"/v1/organisations/{next(targets)}/partners")).raise_for_status()
    found: dict[str, Any] = {"load_average_before": [round(x, 2) for x in os.getloadavg()]}
    phases = args.phases or PHASES
    if "closed" in phases:
        found["closed_loop"] = await _phase(
            process, closed_loop(port, targets, args.clients, args.duration, args.timeout)
        )
        await asyncio.sleep(2)  # let the server drain
    if "open" in phases:
        found["open_loop"] = await _phase(process, open_loop(port, targets, args.rate, args.duration, args.timeout))
        await asyncio.sleep(2)
    if "cached" in phases:
        working_set = order[: min(len(order), 500)]  # attendees reloading their lists: answers already rendered
        async with httpx.AsyncClient(base_url=url, timeout=args.timeout) as client:
            for org in working_set:
                (await client.get(f"/v1/organisations/{org}/partners")).raise_for_status()
        found["open_loop_cached"] = await _phase(
            process, open_loop(port, _cycle(working_set), args.rate, args.duration, args.timeout)
        )
        await asyncio.sleep(2)
    if "mixed" in phases:
        # A new seed each run: the registrations' texts are new to a kept cache (``--cache-dir``) too.
        seed = args.registration_seed if args.registration_seed is not None else time.time_ns() % 1_000_000_007
        bodies = registrations(int(args.mixed_rate * args.duration * args.write_share) + 1, seed=seed)
        found["open_loop_mixed"] = await _phase(
            process,
            mixed_loop(port, targets, bodies, args.mixed_rate, args.write_share, args.duration, args.timeout),
        )
        found["open_loop_mixed"]["registration_seed"] = seed
        found["open_loop_mixed"]["embedding"] = await embedding_drain(url)
    return found


async def embedding_drain(url: str, limit_s: float = 300.0) -> dict[str, Any]:
    """How long after the load the registrations' texts were all embedded (``embedding_backlog`` 0).

    Each ``/healthz`` goes over a new connection, so it reaches either worker; the backlog counts as
    drained when ten answers in a row say 0.
    """
    started = time.perf_counter()
    backlogs: list[int] = []
    zeros = 0
    while zeros < 10 and time.perf_counter() - started < limit_s:
        try:
            async with httpx.AsyncClient(base_url=url, timeout=10) as client:
                backlog = int((await client.get("/healthz")).json().get("embedding_backlog", 0))
        except httpx.HTTPError:  # still busy with the load's last requests
            continue
        backlogs.append(backlog)
        zeros = zeros + 1 if backlog == 0 else 0
        await asyncio.sleep(0.1)
    return {
        "backlog_at_end_of_load": backlogs[0] if backlogs else None,
        "drained_after_s": round(time.perf_counter() - started, 1) if zeros >= 10 else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", nargs="+", default=["shipped", "10000"], help="'shipped' and/or numbers of synthetic organisations"
    )
    parser.add_argument("--workers", type=int, default=2, help="server processes (matchmaker serve --workers)")
    parser.add_argument("--clients", type=int, default=32, help="closed-loop concurrency")
    parser.add_argument("--rate", type=float, default=200.0, help="open-loop requests per second")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per measurement")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds before a request counts as an error")
    parser.add_argument("--mixed-rate", type=float, default=100.0, help="mixed open-loop requests per second")
    parser.add_argument("--write-share", type=float, default=0.1, help="share of writes in the mixed load")
    parser.add_argument("--phases", nargs="+", choices=PHASES, help=f"only these phases (default: {' '.join(PHASES)})")
    parser.add_argument(
        "--cache-dir", type=Path, default=None, help="embedding cache to warm and serve from (default: a fresh one)"
    )
    parser.add_argument(
        "--registration-seed",
        type=int,
        default=None,
        help="repeat an earlier run's registrations (its registration_seed); with its --cache-dir, nothing to embed",
    )
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="matchmaker-bench-") as tmp:
        for size in args.sizes:
            workdir = Path(tmp) / size
            workdir.mkdir()
            folder = default_profiles_dir() if size == "shipped" else synthetic_folder(int(size), workdir / "profiles")
            ids = sorted(p.stem for p in folder.glob("*.yaml") if not p.name.startswith("_"))
            cache = args.cache_dir or workdir / "cache"
            warm_up = warm_cache(folder, cache)
            with running_server(folder, workdir, args.workers, cache) as (url, startup, process):
                numbers = asyncio.run(measure(url, process, ids, args))
            results.append(
                {
                    "population": size,
                    "organisations": len(ids),
                    "cache_warm_up_s": round(warm_up, 1),
                    "server_startup_s": round(startup, 1),
                    **numbers,
                }
            )
    at_target = [r for r in results if r["organisations"] == TARGET["organisations"]]
    met = (
        args.rate == TARGET["rate_per_s"]
        and all(
            (r["open_loop"]["p99_ms"] or float("inf")) < TARGET["p99_ms_below"]
            and r["open_loop"]["errors"] == 0
            and r["closed_loop"]["errors"] == 0
            for r in at_target
        )
        if at_target and all("open_loop" in r and "closed_loop" in r for r in at_target)
        else None
    )
    mixed_met = (
        args.mixed_rate == MIXED_TARGET["rate_per_s"]
        and args.write_share == MIXED_TARGET["write_share"]
        and all(
            (r["open_loop_mixed"]["p99_ms"] or float("inf")) <= MIXED_TARGET["p99_ms_at_most"]
            and r["open_loop_mixed"]["errors"] == 0
            for r in at_target
        )
        if at_target and all("open_loop_mixed" in r for r in at_target)
        else None
    )
    report = {
        "benchmark": "GET /v1/organisations/{id}/partners (top 10, default settings) on loopback, and a mixed "
        "load of those with registrations (PUT /v1/organisations/{id})",
        "command": " ".join(["python", "benchmarks/api_latency.py", *sys.argv[1:]]),
        "machine": machine(),
        "settings": vars(args),
        "target": TARGET,
        "target_met": met,
        "mixed_target": MIXED_TARGET,
        "mixed_target_met": mixed_met,
        "results": results,
    }
    sys.stdout.write(json.dumps(report, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
