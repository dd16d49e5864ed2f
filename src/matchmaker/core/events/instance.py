"""The event as arrays for the solvers, and the occupancy of a schedule being built on top of it."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from matchmaker.core.errors import Problem
from matchmaker.core.events.errors import EventError
from matchmaker.core.events.model import Event, Pair, pair
from matchmaker.core.events.results import Candidate, Source, score_units

ACCEPTED, REQUESTED, RECOMMENDED = 0, 1, 2
TIER_SOURCE: tuple[Source, ...] = ("accepted", "requested", "recommended")


@dataclass
class Instance:
    event: Event
    ids: list[str]
    index: dict[str, int]
    slot_ids: list[str]
    session: NDArray[np.int64]  # (S,) session number of each slot
    n_sessions: int
    tables: list[tuple[str, ...]]  # open tables per slot
    available: NDArray[np.bool_]  # (n, S) as declared
    free: NDArray[np.bool_]  # (n, S) available and not taken by a confirmed meeting
    minimum: NDArray[np.int64]
    maximum: NDArray[np.int64]  # overall, including confirmed meetings (S when unlimited)
    per_session: NDArray[np.int64]  # (n,) (S when unlimited)
    fixed_count: NDArray[np.int64]  # (n,)
    fixed_session: NDArray[np.int64]  # (n, K)
    table_left: NDArray[np.int64]  # (S,) open tables not taken by confirmed meetings
    fixed_levels: tuple[int, int, int]  # accepted, requested, score units of the confirmed meetings
    ea: NDArray[np.int64]  # edges: candidate or requested pairs that may meet (not blocked, not confirmed)
    eb: NDArray[np.int64]
    tier: NDArray[np.int64]
    units: NDArray[np.int64]
    score: list[float]
    reasons: list[tuple[str, ...]]
    blocked_candidates: dict[int, list[tuple[int, str]]]  # participant -> (partner, reason)
    scores_by_pair: dict[Pair, tuple[float, tuple[str, ...]]]
    edge_of: dict[Pair, int] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def n_slots(self) -> int:
        return len(self.slot_ids)

    def common(self, e: int) -> NDArray[np.bool_]:
        shared: NDArray[np.bool_] = self.free[self.ea[e]] & self.free[self.eb[e]]
        return shared


def candidate_pairs(event: Event, candidates: Iterable[Candidate | tuple[str, str, float]]) -> dict[Pair, Candidate]:
    """The candidates by unordered pair (the higher score kept); every unknown id or bad score is a problem."""
    known = event.participant_by_id
    problems: list[Problem] = []
    out: dict[Pair, Candidate] = {}
    for k, raw in enumerate(candidates):
        c = raw if isinstance(raw, Candidate) else Candidate(raw[0], raw[1], float(raw[2]))
        for side in ("a", "b"):
            org = getattr(c, side)
            if org not in known:
                problems.append(
                    Problem(
                        "",
                        f"candidates[{k}].{side}",
                        str(org),
                        f"unknown participant {org!r}; candidates must "
                        "be pairs of the event's participants (filter the recommender's partners first)",
                    )
                )
        if c.a == c.b:
            problems.append(Problem("", f"candidates[{k}]", c.a, "a candidate pair needs two different participants"))
        if not math.isfinite(c.score):
            problems.append(Problem("", f"candidates[{k}].score", str(c.score), "score must be a finite number"))
        if problems and problems[-1].field.startswith(f"candidates[{k}]"):
            continue
        key = pair(c.a, c.b)
        if key not in out or c.score > out[key].score:
            out[key] = c
    if problems:
        raise EventError(problems)
    return out


def build_instance(event: Event, candidates: Iterable[Candidate | tuple[str, str, float]]) -> Instance:
    by_pair = candidate_pairs(event, candidates)
    ids = [p.id for p in event.participants]
    index = {org: k for k, org in enumerate(ids)}
    slots = event.slots
    slot_index = {slot.id: s for s, slot in enumerate(slots)}
    session_index = {session.id: k for k, session in enumerate(event.sessions)}
    n, n_slots, n_sessions = len(ids), len(slots), len(event.sessions)
    session = np.array([session_index[event.session_of[slot.id]] for slot in slots], dtype=np.int64)
    available = np.zeros((n, n_slots), dtype=bool)
    minimum = np.zeros(n, dtype=np.int64)
    maximum = np.full(n, n_slots, dtype=np.int64)
    per_session = np.full(n, n_slots, dtype=np.int64)
    for k, participant in enumerate(event.participants):
        for slot_id in event.available(participant):
            available[k, slot_index[slot_id]] = True
        limits = event.limits(participant)
        minimum[k] = limits.min_meetings
        if limits.max_meetings is not None:
            maximum[k] = min(limits.max_meetings, n_slots)
        if limits.max_per_session is not None:
            per_session[k] = limits.max_per_session
    tables = [event.tables_in(slot) for slot in slots]
    table_left = np.array([len(t) for t in tables], dtype=np.int64)
    busy = np.zeros((n, n_slots), dtype=bool)
    fixed_count = np.zeros(n, dtype=np.int64)
    fixed_session = np.zeros((n, n_sessions), dtype=np.int64)
    statuses = event.requested_pairs
    fixed_accepted = fixed_requested = fixed_units = 0
    confirmed_pairs: set[Pair] = set()
    for meeting in event.confirmed:
        s = slot_index[meeting.slot]
        table_left[s] -= 1
        for org in (meeting.a, meeting.b):
            busy[index[org], s] = True
            fixed_count[index[org]] += 1
            fixed_session[index[org], session[s]] += 1
        key = pair(meeting.a, meeting.b)
        confirmed_pairs.add(key)
        status = statuses.get(key)
        fixed_accepted += status == "accepted"
        fixed_requested += status == "open"
        if key in by_pair:
            fixed_units += score_units(by_pair[key].score)
    blocked = event.blocked_pairs
    blocked_candidates: dict[int, list[tuple[int, str]]] = {}
    edges: dict[Pair, tuple[str, str, int]] = {}
    for request in event.requests:
        key = pair(request.by, request.to)
        status = statuses[key]
        if key in confirmed_pairs or key in edges or status == "declined":
            continue
        if key not in blocked:
            edges[key] = (request.by, request.to, ACCEPTED if status == "accepted" else REQUESTED)
    for key, c in by_pair.items():
        if key in confirmed_pairs:
            continue
        if key in blocked:
            blocked_candidates.setdefault(index[c.a], []).append((index[c.b], blocked[key]))
            blocked_candidates.setdefault(index[c.b], []).append((index[c.a], blocked[key]))
        elif key not in edges:
            edges[key] = (c.a, c.b, RECOMMENDED)
    ordered = sorted(edges.items())
    ea = np.array([index[a] for _, (a, _, _) in ordered], dtype=np.int64)
    eb = np.array([index[b] for _, (_, b, _) in ordered], dtype=np.int64)
    tier = np.array([t for _, (_, _, t) in ordered], dtype=np.int64)
    score = [by_pair[key].score if key in by_pair else 0.0 for key, _ in ordered]
    inst = Instance(
        event=event,
        ids=ids,
        index=index,
        slot_ids=[slot.id for slot in slots],
        session=session,
        n_sessions=n_sessions,
        tables=tables,
        available=available,
        free=available & ~busy,
        minimum=minimum,
        maximum=maximum,
        per_session=per_session,
        fixed_count=fixed_count,
        fixed_session=fixed_session,
        table_left=table_left,
        fixed_levels=(fixed_accepted, fixed_requested, fixed_units),
        ea=ea.reshape(-1),
        eb=eb.reshape(-1),
        tier=tier.reshape(-1),
        units=np.array([score_units(s) for s in score], dtype=np.int64).reshape(-1),
        score=score,
        reasons=[by_pair[key].reasons if key in by_pair else () for key, _ in ordered],
        blocked_candidates=blocked_candidates,
        scores_by_pair={key: (c.score, c.reasons) for key, c in by_pair.items()},
    )
    inst.edge_of = {key: e for e, (key, _) in enumerate(ordered)}
    return inst


# -- the state of a schedule being built: who is busy when, what is left ----------------------------------


class State:
    """Occupancy of a schedule under construction (on top of the confirmed meetings)."""

    def __init__(self, inst: Instance) -> None:
        self.inst = inst
        self.busy = ~inst.free  # taken or unavailable
        self.count = inst.fixed_count.copy()
        self.in_session = inst.fixed_session.copy()
        self.table_left = inst.table_left.copy()
        self.placed: dict[int, int] = {}  # edge -> slot

    def fits(self, e: int, s: int) -> bool:
        inst = self.inst
        a, b, k = int(inst.ea[e]), int(inst.eb[e]), int(inst.session[s])
        return bool(
            self.table_left[s] > 0
            and not self.busy[a, s]
            and not self.busy[b, s]
            and self.count[a] < inst.maximum[a]
            and self.count[b] < inst.maximum[b]
            and self.in_session[a, k] < inst.per_session[a]
            and self.in_session[b, k] < inst.per_session[b]
        )

    def place(self, e: int, s: int) -> None:
        inst = self.inst
        k = int(inst.session[s])
        for p in (int(inst.ea[e]), int(inst.eb[e])):
            self.busy[p, s] = True
            self.count[p] += 1
            self.in_session[p, k] += 1
        self.table_left[s] -= 1
        self.placed[e] = s

    def first_slot(self, e: int) -> int | None:
        for s in np.flatnonzero(self.inst.common(e)):
            if self.fits(e, int(s)):
                return int(s)
        return None


def level_values(inst: Instance, edges: Iterable[int]) -> tuple[int, int, int, int, int]:
    """The five level values of the confirmed meetings plus ``edges``."""
    chosen = np.fromiter(edges, dtype=np.int64)
    count = (
        inst.fixed_count
        + np.bincount(inst.ea[chosen], minlength=inst.n)
        + np.bincount(inst.eb[chosen], minlength=inst.n)
    )
    shortfall = np.maximum(inst.minimum - count, 0)
    accepted, requested, units = inst.fixed_levels
    return (
        accepted + int(np.sum(inst.tier[chosen] == ACCEPTED)),
        int(shortfall.max(initial=0)),
        int(shortfall.sum()),
        requested + int(np.sum(inst.tier[chosen] == REQUESTED)),
        units + int(inst.units[chosen].sum()),
    )


@dataclass
class Solved:
    """What a method found: the schedule's state, the bounds of the levels, and whether they are proven."""

    state: State
    bounds: tuple[int, int, int, int, int] | None
    proven: bool
    time_limited: bool
    stages: dict[str, int] = field(default_factory=dict)
