"""An independent checker of schedules: every hard rule, the labels and the objective, from the event's fields.

Nothing here calls the scheduler or the model's helper rules (limits, blocked pairs, request statuses): each
rule is re-read from the event's raw fields, so a bug in the scheduler's copy of a rule is caught, not
repeated. ``violations`` returns readable findings (empty when the schedule is valid); the benchmark
(benchmarks/schedule.py) imports it to count violations at scale. ``brute_force`` finds the lexicographic
optimum of a small event by exhaustive search, for comparison with the solver.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from matchmaker.core.events.model import Event
from matchmaker.core.events.scheduler import Candidate, Schedule


def _key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


class Rules:
    """The event's rules, read directly from its fields."""

    def __init__(self, event: Event, candidates: Iterable[Candidate | tuple[str, str, float]] = ()) -> None:
        self.event = event
        self.slot_session = {slot.id: session.id for session in event.sessions for slot in session.slots}
        self.slot_order = [slot.id for session in event.sessions for slot in session.slots]
        self.open_tables: dict[str, set[str]] = {}
        for session in event.sessions:
            for slot in session.slots:
                if slot.tables is None:
                    tables = set(event.tables)
                elif isinstance(slot.tables, int):
                    tables = set(event.tables[: slot.tables])
                else:
                    tables = set(slot.tables)
                self.open_tables[slot.id] = tables
        self.people = {p.id: p for p in event.participants}
        self.available = {
            p.id: set(self.slot_order)
            if p.available is None
            else {s for s in self.slot_order if s in p.available or self.slot_session[s] in p.available}
            for p in event.participants
        }
        self.maximum: dict[str, int | None] = {}
        self.minimum: dict[str, int] = {}
        self.per_session: dict[str, int | None] = {}
        for p in event.participants:
            kind = event.types[p.type]
            caps = [c for c in (p.max_meetings, kind.max_meetings) if c is not None]
            self.maximum[p.id] = min(caps) if caps else None
            self.minimum[p.id] = kind.min_meetings if p.min_meetings is None else p.min_meetings
            self.per_session[p.id] = kind.max_per_session
        asked: dict[tuple[str, str], set[tuple[str, str]]] = {}
        said: dict[tuple[str, str], set[str]] = {}
        for r in event.requests:
            asked.setdefault(_key(r.by, r.to), set()).add((r.by, r.to))
            said.setdefault(_key(r.by, r.to), set()).add(r.status)
        self.status: dict[tuple[str, str], str] = {}
        for key, statuses in said.items():
            if "declined" in statuses:
                self.status[key] = "declined"
            elif "accepted" in statuses or len(asked[key]) == 2:
                self.status[key] = "accepted"
            else:
                self.status[key] = "open"
        self.blocked = {_key(b.a, b.b) for b in event.blocked}
        self.blocked |= {k for k, s in self.status.items() if s == "declined"}
        self.blocked |= {_key(c.a, c.b) for c in event.cancelled}
        self.score: dict[tuple[str, str], float] = {}
        for c in candidates:
            a, b, score = (c.a, c.b, c.score) if isinstance(c, Candidate) else c
            k = _key(a, b)
            self.score[k] = max(score, self.score.get(k, score))
        self.confirmed = {(_key(m.a, m.b), m.slot, m.table) for m in event.confirmed}

    def allowed_pairs(self) -> set[tuple[str, str]]:
        """Pairs the scheduler may add: candidates and non-declined requests, not blocked, not confirmed."""
        confirmed = {k for k, _, _ in self.confirmed}
        pairs = set(self.score) | {k for k, s in self.status.items() if s != "declined"}
        return {k for k in pairs if k not in self.blocked and k not in confirmed}

    def levels(self, meetings: Iterable[tuple[str, str]]) -> tuple[int, int, int, int, int]:
        """The lexicographic objective of a set of meetings (pairs), confirmed ones included by the caller."""
        pairs = [_key(a, b) for a, b in meetings]
        count = Counter(x for k in pairs for x in k)
        short = [max(0, self.minimum[p] - count[p]) for p in self.people]
        return (
            sum(self.status.get(k) == "accepted" for k in pairs),
            max(short, default=0),
            sum(short),
            sum(self.status.get(k) == "open" for k in pairs),
            sum(round(self.score.get(k, 0.0) * 1000) for k in pairs),
        )


def violations(event: Event, candidates: Sequence[Candidate | tuple[str, str, float]], result: Schedule) -> list[str]:
    """Every rule ``result`` breaks, as readable findings; empty for a valid schedule."""
    rules = Rules(event, candidates)
    found: list[str] = []
    at_slot: Counter[tuple[str, str]] = Counter()
    at_table: Counter[tuple[str, str]] = Counter()
    per_pair: Counter[tuple[str, str]] = Counter()
    total: Counter[str] = Counter()
    in_session: Counter[tuple[str, str]] = Counter()
    allowed = rules.allowed_pairs()
    starts = {slot.id: slot.start for session in event.sessions for slot in session.slots}
    kept: set[tuple[tuple[str, str], str, str]] = set()
    for m in result.meetings:
        where = f"{m.a}-{m.b} in {m.slot} at {m.table}"
        if m.slot not in rules.open_tables:
            found.append(f"{where}: unknown slot")
            continue
        if m.start != starts[m.slot]:
            found.append(f"{where}: start {m.start} is not the slot's")
        if m.table not in rules.open_tables[m.slot]:
            found.append(f"{where}: table not open in the slot")
        if m.a == m.b or m.a not in rules.people or m.b not in rules.people:
            found.append(f"{where}: not two different participants")
            continue
        key = _key(m.a, m.b)
        if (key, m.slot, m.table) in rules.confirmed:
            kept.add((key, m.slot, m.table))
            expected = "confirmed"
        else:
            expected = {"accepted": "accepted", "open": "requested"}.get(rules.status.get(key, ""), "recommended")
            if key not in allowed:
                found.append(f"{where}: pair is blocked, declined, cancelled, already confirmed or not a candidate")
        if m.source != expected:
            found.append(f"{where}: source {m.source!r}, expected {expected!r}")
        if abs(m.score - rules.score.get(key, 0.0)) > 1e-12:
            found.append(f"{where}: score {m.score} is not the candidate's {rules.score.get(key, 0.0)}")
        per_pair[key] += 1
        at_table[(m.slot, m.table)] += 1
        for p in (m.a, m.b):
            at_slot[(p, m.slot)] += 1
            total[p] += 1
            in_session[(p, rules.slot_session[m.slot])] += 1
            if m.slot not in rules.available[p]:
                found.append(f"{where}: {p} is not available in {m.slot}")
    found += [f"{p} has {n} meetings in slot {s}" for (p, s), n in at_slot.items() if n > 1]
    found += [f"table {t} in slot {s} holds {n} meetings" for (s, t), n in at_table.items() if n > 1]
    found += [f"pair {a}-{b} meets {n} times" for (a, b), n in per_pair.items() if n > 1]
    for p in rules.people:
        cap = rules.maximum[p]
        if cap is not None and total[p] > cap:
            found.append(f"{p} has {total[p]} meetings, above the maximum of {cap}")
        cap = rules.per_session[p]
        if cap is not None:
            found += [
                f"{p} has {in_session[(p, s.id)]} meetings in session {s.id}, above {cap}"
                for s in event.sessions
                if in_session[(p, s.id)] > cap
            ]
    found += [f"confirmed meeting {k} in {s} at {t} was moved or dropped" for k, s, t in rules.confirmed - kept]
    reported = {u.id: (u.meetings, u.minimum) for u in result.unmet_minimums}
    expected_unmet = {p: (total[p], rules.minimum[p]) for p in rules.people if total[p] < rules.minimum[p]}
    if reported != expected_unmet:
        found.append(f"unmet minimums reported {reported}, expected {expected_unmet}")
    found += [f"unmet minimum of {u.id} has no reason" for u in result.unmet_minimums if not u.why.strip()]
    levels = rules.levels((m.a, m.b) for m in result.meetings)
    if tuple(level.value for level in result.levels) != levels:
        found.append(f"levels reported {[lv.value for lv in result.levels]}, recomputed {list(levels)}")
    if abs(result.objective - levels[4] / 1000) > 1e-9:
        found.append(f"objective {result.objective} is not the total score {levels[4] / 1000}")
    position = {s: k for k, s in enumerate(rules.slot_order)}
    order = [(position.get(m.slot, -1), m.table) for m in result.meetings]
    if order != sorted(order):
        found.append("meetings are not in slot order")
    return found


def brute_force(event: Event, candidates: Sequence[Candidate | tuple[str, str, float]]) -> tuple[int, ...]:
    """The lexicographically best objective over every valid schedule of a small event (exhaustive search)."""
    rules = Rules(event, candidates)
    pairs = sorted(rules.allowed_pairs())
    confirmed = [(k, s) for k, s, _ in rules.confirmed]
    taken_tables = Counter(s for _, s in confirmed)
    busy = {(p, s) for k, s in confirmed for p in k}
    total = Counter(p for k, _ in confirmed for p in k)
    in_session = Counter((p, rules.slot_session[s]) for k, s in confirmed for p in k)
    options = [
        [None] + [s for s in rules.slot_order if s in rules.available[a] and s in rules.available[b]] for a, b in pairs
    ]
    best: tuple[int, ...] | None = None

    def sign(levels: tuple[int, int, int, int, int]) -> tuple[int, ...]:
        return (levels[0], -levels[1], -levels[2], levels[3], levels[4])

    def search(k: int, chosen: list[tuple[str, str]]) -> None:
        nonlocal best
        if k == len(pairs):
            value = sign(rules.levels([*chosen, *(key for key, _ in confirmed)]))
            if best is None or value > best:
                best = value
            return
        a, b = pairs[k]
        for s in options[k]:
            if s is None:
                search(k + 1, chosen)
                continue
            session = rules.slot_session[s]
            if (
                (a, s) in busy
                or (b, s) in busy
                or taken_tables[s] >= len(rules.open_tables[s])
                or any(rules.maximum[p] is not None and total[p] >= rules.maximum[p] for p in (a, b))  # type: ignore[operator]
                or any(
                    rules.per_session[p] is not None and in_session[(p, session)] >= rules.per_session[p]  # type: ignore[operator]
                    for p in (a, b)
                )
            ):
                continue
            busy.update({(a, s), (b, s)})
            taken_tables[s] += 1
            for p in (a, b):
                total[p] += 1
                in_session[(p, session)] += 1
            search(k + 1, [*chosen, (a, b)])
            busy.difference_update({(a, s), (b, s)})
            taken_tables[s] -= 1
            for p in (a, b):
                total[p] -= 1
                in_session[(p, session)] -= 1

    search(0, [])
    assert best is not None
    return best


def signed(result: Schedule) -> tuple[int, ...]:
    """A result's levels in the brute force's comparison order (larger is better everywhere)."""
    v = [level.value for level in result.levels]
    return (v[0], -v[1], -v[2], v[3], v[4])


def search_space(event: Event, candidates: Sequence[Any]) -> int:
    """How many assignments the brute force would enumerate (to keep generated events small)."""
    rules = Rules(event, candidates)
    return math.prod(1 + len(rules.available[a] & rules.available[b]) for a, b in rules.allowed_pairs())
