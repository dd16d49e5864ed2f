"""Speed of the default encoder where a person feels it: a short command, one registration, a large cold fit.

    python benchmarks/encoder_speed.py --json                      # the command and the registrations
    python benchmarks/encoder_speed.py --fit 100000 --json         # plus a 100,000-organisation cold fit

* ``cli``: CPU seconds (user + system) of ``matchmaker partners highreso`` in a fresh process, first with
  an empty embedding cache (cold), then warm (the median of ``--repeat`` runs). Target: under 1 s warm.
* ``registration``: one attendee registered through the API (``PUT /v1/organisations/{id}``, six items
  of text never seen, so each is embedded) and then ranked (``GET .../partners``), in-process on the
  shipped profiles; the p50 and p90 of ``--registrations`` of them. Target: p50 <= 200 ms.
* ``fit`` (with ``--fit N``): a synthetic population of N organisations fitted with the configured
  encoder on an empty embedding cache, in a fresh process. Target at 100,000: within 5 minutes.

Every figure comes with the load average before and after it: on a shared machine it is the main noise.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def load() -> float:
    return round(os.getloadavg()[0], 2)


def cpu_of(command: list[str], env: dict[str, str]) -> float:
    """CPU seconds (user + system) a child process used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 3)


def cli(repeat: int) -> dict[str, Any]:
    matchmaker = str(Path(sys.executable).with_name("matchmaker"))
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, MATCHMAKER_CACHE_DIR=cache, HF_HUB_OFFLINE="1")
        start = load()
        cold = cpu_of([matchmaker, "partners", "highreso"], env)
        warm = [cpu_of([matchmaker, "partners", "highreso"], env) for _ in range(repeat)]
    return {
        "command": "matchmaker partners highreso",
        "cold_cpu_s": cold,
        "warm_cpu_s_median": statistics.median(warm),
        "warm_cpu_s": warm,
        "load_average": [start, load()],
    }


def registration(count: int) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from matchmaker.service import create_app
    from matchmaker.settings import load_service_settings

    def claim(text: str, strength: int = 2) -> dict[str, Any]:
        return {"description": text, "strength": strength, "evidence": {"background": "benchmark attendee"}}

    with tempfile.TemporaryDirectory() as folder:
        # Inline: the registration waits for its embeddings, so this measures them (the service's
        # default answers first and embeds in the background, which the mixed load of api_latency.py measures).
        settings = load_service_settings(
            database=Path(folder) / "m.db",
            api_keys=["k"],
            cache_dir=Path(folder) / "cache",
            registration_embedding="inline",
        )
        with TestClient(create_app(settings)) as client:
            timings, ranking = [], []
            start = load()
            for k in range(count + 3):
                body = {
                    "name": f"Attendee {k}",
                    "country": "IN" if k % 2 else "JP",
                    "kind": "startup",
                    "sectors": ["manufacturing"],
                    "offers": {
                        "data": [claim(f"Sensor logs from {k} production lines, labelled for defects.")],
                        "domain": [claim(f"工場の品質管理のノウハウ（拠点{k}）")],
                        "talent": [claim(f"{k} engineers who deploy machine learning models.")],
                    },
                    "needs": {
                        "compute": [claim(f"GPU cloud hours to train a model on {k} factories' data.", 3)],
                        "domain": [claim(f"जापान में {k} ग्राहकों तक पहुँचने के लिए साझेदार")],
                        "data": [claim(f"Maintenance records of {k} machines.")],
                    },
                }
                t0 = time.perf_counter()
                put = client.put(f"/v1/organisations/attendee-{k}", json=body, headers={"Authorization": "Bearer k"})
                t1 = time.perf_counter()
                got = client.get(f"/v1/organisations/attendee-{k}/partners")
                t2 = time.perf_counter()
                assert put.status_code == 201 and got.status_code == 200, (put.text, got.text)
                if k >= 3:  # the first ones warm the process (imports, the fitted plan)
                    timings.append(1000 * (t2 - t0))
                    ranking.append(1000 * (t2 - t1))
    timings.sort()
    return {
        "registrations": count,
        "register_and_rank_p50_ms": round(statistics.median(timings), 1),
        "register_and_rank_p90_ms": round(timings[int(0.9 * (len(timings) - 1))], 1),
        "rank_only_p50_ms": round(statistics.median(ranking), 1),
        "items_embedded_per_registration": 6,
        "load_average": [start, load()],
    }


def fit_worker(n: int) -> dict[str, Any]:
    from matchmaker.application.workspace import fit_population
    from matchmaker.embedding import encoder_choice
    from matchmaker.loading import default_profiles_dir, load_folder
    from matchmaker.settings import load_settings
    from matchmaker.synth import synthesise

    population = synthesise(load_folder(default_profiles_dir()), n, 1)
    settings = load_settings()
    distinct = len({i.description for p in population.profiles for *_, i in p.iter_items()})
    start = load()
    t0 = time.perf_counter()
    fitted = fit_population(population.profiles, population.vocabulary, encoding=encoder_choice(settings))
    seconds = time.perf_counter() - t0
    return {
        "n": n,
        "encoder": settings.encoder,
        "distinct_item_texts": distinct,
        "fit_cold_s": round(seconds, 1),
        "vectors": "latent" if fitted.vectoriser.is_latent else "exact",
        "widths": dict(zip(fitted.vectoriser.dimensions_, fitted.vectoriser.widths_, strict=True)),
        "load_average": [start, load()],
    }


def fit(n: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, MATCHMAKER_CACHE_DIR=cache, HF_HUB_OFFLINE="1")
        done = subprocess.run(
            [sys.executable, __file__, "--fit-worker", str(n)], env=env, check=True, stdout=subprocess.PIPE, text=True
        )
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--repeat", type=int, default=5, help="warm runs of the command")
    parser.add_argument("--registrations", type=int, default=30, help="attendees registered and ranked")
    parser.add_argument("--fit", type=int, default=None, help="also fit a synthetic population of N, cold")
    parser.add_argument("--fit-worker", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fit_worker is not None:
        print(json.dumps(fit_worker(args.fit_worker)))
        return
    report: dict[str, Any] = {
        "command": "python benchmarks/encoder_speed.py " + " ".join(sys.argv[1:]),
        "cores": os.cpu_count(),
        "embedding_threads": os.environ.get("MATCHMAKER_EMBEDDING_THREADS", "1"),
        "cli": cli(args.repeat),
        "registration": registration(args.registrations),
    }
    if args.fit:
        report["fit"] = fit(args.fit)
    print(json.dumps(report, indent=2) if args.json else report)


if __name__ == "__main__":
    main()
