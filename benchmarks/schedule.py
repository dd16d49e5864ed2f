"""Scheduling a matchmaking day at 200, 1,000 and 3,000 participants, printed as a table or one JSON object.

Each event is built the same way, deterministically from ``--seed``:

* participants: a synthetic population from the shipped profiles (``matchmaker.synth.synthesise``),
  scored by the project's real scorer with the configured encoder (hybrid by default, as the CLI); each
  participant's 30 best partners are the candidate pairs;
* 16 slots of 20 minutes in two sessions (morning and afternoon), tables for a quarter of the
  participants in every slot (so at most half of them meet at once);
* participation types from the profile's kind: startups (minimum 4, at most 12 meetings and 7 per
  session), corporates (minimum 2, at most 10, 6 per session), everyone else (minimum 2, at most 8);
* availability: four in five participants all day, the rest one session only;
* requests: every participant asks 20% of their top 30 (6 partners); of those, 45% are accepted, 40% open
  and 15% declined (a pair asked both ways counts as accepted);
* one candidate pair in a hundred is blocked as a conflict.

For each size the optimal scheduler (``method="optimal"``) and the greedy baseline (best pair first) are
timed (wall and CPU seconds); the checker of tests/events/checker.py counts constraint violations in both
(imported from there, one copy of the rules); the levels, bounds and gap are reported. ``--integrated``
also runs the exact (pair, slot) model from the greedy start at the sizes given, to compare;
``--minimum N`` sets every type's minimum to N, so that minimums cannot all be met (a stress test of the
minimum-target levels). Each stage's wall seconds come from the scheduler's progress reports.

Targets: 1,000 participants within 60 s with a gap of at most 2%; 3,000 within 5 minutes; 0 violations.

Usage::

    nice -n 10 python benchmarks/schedule.py                  # 200, 1,000 and 3,000 participants
    nice -n 10 python benchmarks/schedule.py --sizes 200 --integrated 200 --json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import random
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from matchmaker.application.workspace import fit_population
from matchmaker.core.events.model import Event, event_from_data
from matchmaker.core.events.scheduler import Candidate, Schedule, schedule
from matchmaker.core.profile import Profile
from matchmaker.embedding import encoder_choice
from matchmaker.loading import default_profiles_dir, load_folder
from matchmaker.settings import load_settings
from matchmaker.synth import synthesise

REPO = Path(__file__).resolve().parents[1]
TARGETS = {"1000": {"seconds": 60, "gap": 0.02}, "3000": {"seconds": 300}, "violations": 0}
TIME_LIMITS = {200: 60.0, 1000: 60.0, 3000: 300.0}
TOP = 30
REQUEST_SHARE = 0.2
STATUSES = (("accepted", 0.45), ("open", 0.40), ("declined", 0.15))
TYPES = {
    "startup": {"min_meetings": 4, "max_meetings": 12, "max_per_session": 7},
    "corporate": {"min_meetings": 2, "max_meetings": 10, "max_per_session": 6},
    "standard": {"min_meetings": 2, "max_meetings": 8},
}


def _checker() -> Any:
    """tests/events/checker.py, the independent checker (one copy of the rules, shared with the tests)."""
    spec = importlib.util.spec_from_file_location("events_checker", REPO / "tests" / "events" / "checker.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def candidate_pairs(profiles: list[Profile], top: int) -> list[Candidate]:
    """Every participant's ``top`` best partners by the project's scorer, as candidate pairs.

    Fitted as the CLI fits: the configured encoder (``MATCHMAKER_ENCODER``, hybrid by default) with its
    model and embedding cache, on the shipped vocabulary.
    """
    vocabulary = load_folder(default_profiles_dir()).vocabulary
    population = fit_population(profiles, vocabulary, encoding=encoder_choice(load_settings()))
    index, score = population.all_partners(top=top)
    ids = [p.id for p in population.profiles]
    rows, cols = np.nonzero(index >= 0)
    return [Candidate(ids[a], ids[int(index[a, j])], float(score[a, j])) for a, j in zip(rows, cols, strict=True)]


def build_event(n: int, seed: int, minimum: int | None = None) -> tuple[Event, list[Candidate], list[Profile]]:
    profiles = list(synthesise(load_folder(default_profiles_dir()), n, seed=seed).profiles)
    candidates = candidate_pairs(profiles, TOP)
    rng = random.Random(seed)
    ids = sorted(p.id for p in profiles)
    kinds = {p.id: p.kind for p in profiles}
    sessions = [
        {"id": "am", "name": "Morning", "start": "2025-11-20T09:00:00+05:30", "minutes": 20, "count": 8, "pause": 5},
        {"id": "pm", "name": "Afternoon", "start": "2025-11-20T14:00:00+05:30", "minutes": 20, "count": 8, "pause": 5},
    ]
    participants: list[dict[str, Any]] = []
    for org in ids:
        person: dict[str, Any] = {"id": org, "type": kinds[org] if kinds[org] in TYPES else "standard"}
        if rng.random() < 0.2:
            session = rng.choice(["am", "pm"])
            person["available"] = [f"{session}-{k}" for k in range(1, 9)]
        participants.append(person)
    by_org: dict[str, list[str]] = {}
    for c in candidates:
        by_org.setdefault(c.a, []).append(c.b)
    requests = []
    per_person = round(REQUEST_SHARE * TOP)
    for org in ids:
        partners = by_org.get(org, [])
        for partner in rng.sample(partners, min(per_person, len(partners))):
            r = rng.random()
            status = "accepted" if r < STATUSES[0][1] else "open" if r < STATUSES[0][1] + STATUSES[1][1] else "declined"
            requests.append({"by": org, "to": partner, "status": status})
    pairs = sorted({(min(c.a, c.b), max(c.a, c.b)) for c in candidates})
    blocked = [{"a": a, "b": b, "reason": "conflict"} for a, b in rng.sample(pairs, len(pairs) // 100)]
    event = event_from_data(
        {
            "name": f"Benchmark day, {n} participants",
            "tables": n // 4,
            "types": TYPES if minimum is None else {k: v | {"min_meetings": minimum} for k, v in TYPES.items()},
            "sessions": sessions,
            "participants": participants,
            "requests": requests,
            "blocked": blocked,
        }
    )
    return event, candidates, profiles


def _timed(event: Event, candidates: list[Candidate], **options: Any) -> tuple[Schedule, Timing]:
    """The schedule, its wall and CPU seconds, and the wall seconds of each stage (from its progress reports)."""
    marks: list[tuple[str, float]] = []
    wall, cpu = time.perf_counter(), time.process_time()
    result = schedule(event, candidates, progress=lambda stage: marks.append((stage, time.perf_counter())), **options)
    end = time.perf_counter()
    stages = {
        name: round(later - at, 2) for (name, at), later in zip(marks, [t for _, t in marks[1:]] + [end], strict=True)
    }
    return result, Timing(end - wall, time.process_time() - cpu, stages)


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float
    stages: dict[str, float]


def _summary(result: Schedule, timing: Timing, violations: int, best: Schedule | None) -> dict[str, Any]:
    levels = {lv.name: {"value": lv.value, "bound": lv.bound} for lv in result.levels}
    out: dict[str, Any] = {
        "status": result.status,
        "seconds": round(timing.wall, 2),
        "cpu_seconds": round(timing.cpu, 2),
        "meetings": len(result.meetings),
        "objective": result.objective,
        "bound": result.bound,
        "gap": result.gap,
        "levels": levels,
        "unmet_minimums": len(result.unmet_minimums),
        "unscheduled_requests": len(result.unscheduled_requests),
        "violations": violations,
        "time_limited": result.time_limited,
        "stages": dict(result.stages),
        "stage_seconds": timing.stages,
    }
    if best is not None and best.bound:
        out["score_vs_optimal_bound"] = round(result.objective / best.bound, 4)
    return out


def run(n: int, seed: int, integrated: bool, minimum: int | None = None, limit: float | None = None) -> dict[str, Any]:
    started = time.perf_counter()
    event, candidates, _ = build_event(n, seed, minimum)
    built = time.perf_counter() - started
    checker = _checker()
    statuses = event.requested_pairs
    out: dict[str, Any] = {
        "participants": n,
        "slots": len(event.slots),
        "tables_per_slot": len(event.tables),
        "candidate_pairs": len({(min(c.a, c.b), max(c.a, c.b)) for c in candidates}),
        "requested_pairs": {s: sum(v == s for v in statuses.values()) for s in ("accepted", "open", "declined")},
        "build_seconds": round(built, 2),
    }
    limit = limit or TIME_LIMITS.get(n, 300.0)
    out["time_limit"] = limit
    best, timing = _timed(event, candidates, time_limit=limit)
    out["optimal"] = _summary(best, timing, len(checker.violations(event, candidates, best)), None)
    greedy, timing = _timed(event, candidates, method="greedy", time_limit=limit)
    out["greedy"] = _summary(greedy, timing, len(checker.violations(event, candidates, greedy)), best)
    if integrated:
        exact, timing = _timed(event, candidates, method="integrated", time_limit=limit)
        out["integrated"] = _summary(exact, timing, len(checker.violations(event, candidates, exact)), best)
    return out


def _table(results: list[dict[str, Any]]) -> str:
    lines = [
        f"{'participants':>12} {'method':<11} {'status':<9} {'seconds':>8} {'cpu':>8} {'meetings':>8} "
        f"{'accepted':>12} {'worst':>6} {'short':>10} {'open':>12} {'score':>10} {'gap':>8} {'viol':>5}"
    ]
    for r in results:
        for method in ("optimal", "integrated", "greedy"):
            if method not in r:
                continue
            m = r[method]
            lv = m["levels"]

            def cell(name: str, lv: dict[str, Any] = lv) -> str:
                bound = lv[name]["bound"]
                return f"{lv[name]['value']}" + (f"/{bound}" if bound is not None else "")

            gap = "-" if m["gap"] is None else f"{100 * m['gap']:.3f}%"
            lines.append(
                f"{r['participants']:>12} {method:<11} {m['status']:<9} {m['seconds']:>8} {m['cpu_seconds']:>8} "
                f"{m['meetings']:>8} {cell('accepted'):>12} {cell('worst_shortfall'):>6} "
                f"{cell('total_shortfall'):>10} {cell('requested'):>12} {m['objective']:>10.1f} {gap:>8} "
                f"{m['violations']:>5}"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 1000, 3000])
    parser.add_argument("--integrated", type=int, nargs="*", default=[], help="sizes at which to run it too")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--minimum", type=int, help="every type's minimum meetings (a stress test of the minimum targets)"
    )
    parser.add_argument("--time-limit", type=float, help="seconds per run (default: 60, 300 at 3,000)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    load_before = [round(x, 2) for x in os.getloadavg()]
    results = [run(n, args.seed, n in args.integrated, args.minimum, args.time_limit) for n in args.sizes]
    report = {
        "benchmark": "schedule",
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "targets": TARGETS,
        "encoder": load_settings().encoder,
        "load_average_before": load_before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "results": results,
    }
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(_table(results) + "\n")


if __name__ == "__main__":
    main()
