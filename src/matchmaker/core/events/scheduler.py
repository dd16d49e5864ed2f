"""The meeting scheduler: which pairs meet, in which slot, at which table.

Input: an :class:`~matchmaker.core.events.model.Event` and the candidate pairs with their scores (from
the recommender: :class:`Candidate`). Output: a :class:`Schedule`. Pure: data in, data out.

The rules
---------
Hard, always: a participant meets at most once per slot and only in slots they are available in; at
most their maximum meetings overall and per session (the tighter of their own and their participation
type's); a slot holds at most as many meetings as it has open tables; a blocked pair never meets; a pair
meets at most once; confirmed meetings stay where they are.

The objective is lexicographic, in this order (each level only breaks ties of the ones before):

1. ``accepted``: accepted requests met (all of them when feasible);
2. ``worst_shortfall``: the largest shortfall below a participant's minimum, minimised (the worst-off
   participant first);
3. ``total_shortfall``: the total shortfall below minimums, minimised;
4. ``requested``: open requests met;
5. ``score``: the total score of the meetings, in thousandths (:func:`score_units`).

How (``method="optimal"``)
--------------------------
The problem at 1,000 participants, 16 slots and 30 candidates each has ~250,000 (pair, slot) choices,
so it is solved in two steps whose first is a relaxation of the whole:

1. *Selection*: which pairs meet and in which session — a degree-constrained subgraph problem with the
   per-session and overall limits, the tables of each session (and of each slot, for pairs that share
   only that slot), solved level by level as a mixed-integer program (HiGHS). Its optimum bounds the
   true optimum at every level.
2. *Placement*: each session's pairs into its slots — a list edge colouring with table capacities:
   most-constrained pair first into the slot with most tables left, then every pair left over is placed
   by re-solving its neighbourhood (its participants and their partners) exactly, growing to the whole
   session if needed. Pairs that still do not fit are dropped, lowest priority first.
3. *Fill*: free places are offered to the pairs not chosen, best first.

When every selected pair is placed the schedule reaches the relaxation's bound at every level and is
proven optimal. Otherwise, if the integrated (pair, slot) model is small enough, it is solved level by
level from the schedule found (exact for small events); either way the levels, their bounds and the gap
are reported.

``method="greedy"`` is the baseline: pairs best first (accepted, open requests, then by score), each in
the earliest slot where it fits.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from matchmaker.core.errors import Problem
from matchmaker.core.events.errors import EventError
from matchmaker.core.events.model import Event, Pair, RequestStatus, pair
from matchmaker.core.events.solver import FloatArray, Mip

Source = Literal["confirmed", "accepted", "requested", "recommended"]
SOURCES: tuple[Source, ...] = ("confirmed", "accepted", "requested", "recommended")
Status = Literal["optimal", "feasible"]
SCORE_SCALE = 1000
INTEGRATED_MAX_COLUMNS = 40_000  # (pair, slot) choices up to which the exact model is tried when needed
DEFAULT_TIME_LIMIT = 60.0
DEFAULT_GAP = 1e-4
_ACCEPTED, _REQUESTED, _RECOMMENDED = 0, 1, 2
_TIER_SOURCE: tuple[Source, ...] = ("accepted", "requested", "recommended")
_NO_BOUND = 2**62  # a level whose run ended before the solver had a bound


def score_units(score: float) -> int:
    """A score as the whole number the objective adds: thousandths, rounded half to even.

    >>> score_units(0.4567), score_units(1.0), score_units(0.0005)
    (457, 1000, 0)
    """
    return round(score * SCORE_SCALE)


@dataclass(frozen=True)
class Candidate:
    """A recommended pair with its score and the top reasons to meet (for agendas)."""

    a: str
    b: str
    score: float
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Meeting:
    """One scheduled meeting: when, where, who, and why."""

    slot: str
    start: datetime
    minutes: int
    table: str
    a: str
    b: str
    score: float
    source: Source
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Unmet:
    """A participant below their minimum: how many meetings they have, the minimum, and why."""

    id: str
    meetings: int
    minimum: int
    why: str


@dataclass(frozen=True)
class UnscheduledRequest:
    """An accepted or open request that is not in the schedule, and why."""

    by: str
    to: str
    status: RequestStatus
    why: str


@dataclass(frozen=True)
class Level:
    """One level of the lexicographic objective: its value in the schedule and the best value possible.

    ``bound`` is the solver's bound given the levels before it at the values reached (None for methods
    without a bound, such as greedy).
    """

    name: str
    sense: Literal["max", "min"]
    value: int
    bound: int | None


LEVELS: Mapping[str, str] = {
    "accepted": "accepted requests met",
    "worst_shortfall": "largest shortfall below a participant's minimum",
    "total_shortfall": "total shortfall below minimums",
    "requested": "open requests met",
    "score": "total score of the meetings, in thousandths",
}


@dataclass(frozen=True)
class Schedule:
    """The scheduler's result.

    ``status`` is ``"optimal"`` when every level reaches its bound. ``objective`` and ``bound`` are the
    last level (the total score of the meetings); ``gap`` is ``(bound - objective) / bound``, and None when
    a level before it falls short of its bound (the score's bound assumes they reach theirs). The levels
    give each value and bound. ``time_limited`` says a solver run stopped at the time limit (only then can
    two runs on the same input differ). ``stages`` counts what each stage did (pairs, pairs selected,
    placed greedily, placed by repair, dropped, filled), for diagnosis.
    """

    status: Status
    objective: float
    bound: float | None
    gap: float | None
    levels: tuple[Level, ...]
    meetings: tuple[Meeting, ...]
    unmet_minimums: tuple[Unmet, ...]
    unscheduled_requests: tuple[UnscheduledRequest, ...]
    method: str
    time_limited: bool = False
    stages: tuple[tuple[str, int], ...] = ()

    def agenda(self, org: str) -> tuple[Meeting, ...]:
        """The meetings of ``org``, in time order."""
        return tuple(m for m in self.meetings if org in (m.a, m.b))


# -- the instance: the event as arrays --------------------------------------------------------------------


@dataclass
class _Instance:
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


def _candidates(event: Event, candidates: Iterable[Candidate | tuple[str, str, float]]) -> dict[Pair, Candidate]:
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


def _instance(event: Event, candidates: Iterable[Candidate | tuple[str, str, float]]) -> _Instance:
    by_pair = _candidates(event, candidates)
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
            edges[key] = (request.by, request.to, _ACCEPTED if status == "accepted" else _REQUESTED)
    for key, c in by_pair.items():
        if key in confirmed_pairs:
            continue
        if key in blocked:
            blocked_candidates.setdefault(index[c.a], []).append((index[c.b], blocked[key]))
            blocked_candidates.setdefault(index[c.b], []).append((index[c.a], blocked[key]))
        elif key not in edges:
            edges[key] = (c.a, c.b, _RECOMMENDED)
    ordered = sorted(edges.items())
    ea = np.array([index[a] for _, (a, _, _) in ordered], dtype=np.int64)
    eb = np.array([index[b] for _, (_, b, _) in ordered], dtype=np.int64)
    tier = np.array([t for _, (_, _, t) in ordered], dtype=np.int64)
    score = [by_pair[key].score if key in by_pair else 0.0 for key, _ in ordered]
    inst = _Instance(
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


class _State:
    """Occupancy of a schedule under construction (on top of the confirmed meetings)."""

    def __init__(self, inst: _Instance) -> None:
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


def _levels(inst: _Instance, edges: Iterable[int]) -> tuple[int, int, int, int, int]:
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
        accepted + int(np.sum(inst.tier[chosen] == _ACCEPTED)),
        int(shortfall.max(initial=0)),
        int(shortfall.sum()),
        requested + int(np.sum(inst.tier[chosen] == _REQUESTED)),
        units + int(inst.units[chosen].sum()),
    )


# -- the mixed-integer models -------------------------------------------------------------------------------


def _incidence(keys: NDArray[np.int64], cols: NDArray[np.int64], n_rows: int, n_cols: int) -> sp.csr_matrix:
    return sp.csr_matrix((np.ones(len(keys)), (keys, cols)), shape=(n_rows, n_cols))


@dataclass
class _Model:
    """A selection or integrated model: columns are (edge, group) choices, then shortfalls, then the worst."""

    mip: Mip
    col_edge: NDArray[np.int64]
    col_group: NDArray[np.int64]  # session (selection) or slot (integrated)
    shortfall_of: NDArray[np.int64]  # participant of each shortfall column
    n_cols: int
    rows: tuple[sp.csr_matrix, FloatArray, FloatArray, FloatArray]  # matrix, row lower, row upper, column upper

    def start(self, inst: _Instance, chosen: Mapping[int, int]) -> FloatArray:
        """A feasible start: ``chosen`` maps edge -> group; shortfalls and the worst computed from it."""
        x = np.zeros(self.n_cols)
        lookup = {(int(e), int(g)): j for j, (e, g) in enumerate(zip(self.col_edge, self.col_group, strict=True))}
        for e, g in chosen.items():
            j = lookup.get((e, g))
            if j is not None:
                x[j] = 1.0
        count = (
            inst.fixed_count
            + np.bincount(inst.ea[self.col_edge], weights=x[: len(self.col_edge)], minlength=inst.n).astype(np.int64)
            + np.bincount(inst.eb[self.col_edge], weights=x[: len(self.col_edge)], minlength=inst.n).astype(np.int64)
        )
        m = len(self.col_edge)
        short = np.maximum(inst.minimum[self.shortfall_of] - count[self.shortfall_of], 0)
        x[m : m + len(short)] = short
        x[-1] = short.max(initial=0)
        return x


def _build(inst: _Instance, col_edge: NDArray[np.int64], col_group: NDArray[np.int64], integrated: bool) -> _Model:
    """The model over the given (edge, group) columns with every limit as rows, plus shortfall columns."""
    n, n_sessions, n_slots = inst.n, inst.n_sessions, inst.n_slots
    m = len(col_edge)
    ca, cb = inst.ea[col_edge], inst.eb[col_edge]
    col_session = inst.session[col_group] if integrated else col_group
    residual_min = np.maximum(inst.minimum - inst.fixed_count, 0)
    short_of = np.flatnonzero(residual_min > 0).astype(np.int64)
    n_short = len(short_of)
    n_cols = m + n_short + 1
    cols = np.arange(m, dtype=np.int64)
    blocks: list[sp.csr_matrix] = []
    lowers: list[FloatArray] = []
    uppers: list[FloatArray] = []

    def rows(matrix: sp.csr_matrix, upper: NDArray[np.int64] | NDArray[np.float64]) -> None:
        counts = np.asarray(matrix.sum(axis=1)).ravel()
        keep = counts > upper  # a row no choice of columns can break is left out
        if keep.any():
            picked = matrix[np.flatnonzero(keep)]
            blocks.append(sp.hstack([picked, sp.csr_matrix((picked.shape[0], n_cols - m))], format="csr"))
            lowers.append(np.full(picked.shape[0], -np.inf))
            uppers.append(np.asarray(upper, dtype=np.float64)[keep])

    both = np.concatenate([ca, cb])
    both_cols = np.concatenate([cols, cols])
    # a pair meets at most once
    rows(_incidence(col_edge, cols, len(inst.ea), m), np.ones(len(inst.ea)))
    # per participant and session: the per-session maximum and the free slots of the session
    free_in_session = np.stack([inst.free[:, inst.session == k].sum(axis=1) for k in range(n_sessions)], axis=1)
    session_cap = np.minimum(inst.per_session[:, None] - inst.fixed_session, free_in_session)
    session_cap = np.maximum(session_cap, 0)
    rows(
        _incidence(both * n_sessions + np.concatenate([col_session, col_session]), both_cols, n * n_sessions, m),
        session_cap.ravel(),
    )
    # per participant overall
    overall = np.minimum(inst.maximum - inst.fixed_count, session_cap.sum(axis=1))
    incidence_p = _incidence(both, both_cols, n, m)
    rows(incidence_p, np.maximum(overall, 0))
    if integrated:
        # one meeting per participant and slot; tables per slot
        rows(
            _incidence(both * n_slots + np.concatenate([col_group, col_group]), both_cols, n * n_slots, m),
            np.ones(n * n_slots),
        )
        rows(_incidence(col_group, cols, n_slots, m), inst.table_left)
    else:
        tables_in_session = np.array([inst.table_left[inst.session == k].sum() for k in range(n_sessions)])
        rows(_incidence(col_group, cols, n_sessions, m), tables_in_session)
        # pairs that share a single slot of the session compete for that slot's tables
        single = np.full(m, -1, dtype=np.int64)
        for j in range(m):
            shared = np.flatnonzero(inst.common(int(col_edge[j])) & (inst.session == col_group[j]))
            if len(shared) == 1:
                single[j] = shared[0]
        picked = np.flatnonzero(single >= 0)
        rows(_incidence(single[picked], picked, n_slots, m), inst.table_left)
    # shortfalls: meetings + shortfall >= residual minimum; worst >= each shortfall
    if n_short:
        sub = incidence_p[short_of]
        eye = sp.identity(n_short, format="csr")
        blocks.append(sp.hstack([sub, eye, sp.csr_matrix((n_short, 1))], format="csr"))
        lowers.append(residual_min[short_of].astype(np.float64))
        uppers.append(np.full(n_short, np.inf))
        blocks.append(
            sp.hstack([sp.csr_matrix((n_short, m)), -eye, sp.csr_matrix(np.ones((n_short, 1)))], format="csr")
        )
        lowers.append(np.zeros(n_short))
        uppers.append(np.full(n_short, np.inf))
    matrix = sp.vstack(blocks, format="csr") if blocks else sp.csr_matrix((0, n_cols))
    col_upper = np.concatenate(
        [np.ones(m), residual_min[short_of].astype(np.float64), [float(residual_min.max(initial=0))]]
    )
    row_lower = np.concatenate(lowers) if lowers else np.zeros(0)
    row_upper = np.concatenate(uppers) if uppers else np.zeros(0)
    mip = Mip(matrix, row_lower, row_upper, np.zeros(n_cols), col_upper, np.ones(n_cols, dtype=bool))
    return _Model(
        mip=mip,
        col_edge=col_edge,
        col_group=col_group,
        shortfall_of=short_of,
        n_cols=n_cols,
        rows=(matrix, row_lower, row_upper, col_upper),
    )


@dataclass
class _Levels:
    values: FloatArray
    bounds: tuple[int, int, int, int, int]
    optimal: bool
    time_limited: bool


# Shares of the selection's time per level, and HiGHS's root LP solver per level: measured in CPU seconds on
# the benchmark's events (seed 0) at 1,000 and 3,000 participants and with every minimum at 8 (docs/events.md).
_TIME_SHARES = {"accepted requests": 0.15, "minimum targets": 0.45, "open requests": 0.15, "score": 0.25}
_LP_SOLVERS = {"accepted requests": "simplex", "minimum targets": "simplex", "open requests": "ipx", "score": "simplex"}


def _known_bounds(inst: _Instance, model: _Model, weight: float) -> dict[str, float]:
    """Upper bounds on each level that need no solver: every request met, every unavoidable shortfall only."""
    edges = np.unique(model.col_edge)
    tier = inst.tier[edges]
    degree = np.bincount(inst.ea[edges], minlength=inst.n) + np.bincount(inst.eb[edges], minlength=inst.n)
    cap = np.minimum(inst.maximum - inst.fixed_count, degree)
    residual = np.maximum(inst.minimum - inst.fixed_count, 0)
    unavoidable = np.maximum(residual - np.maximum(cap, 0), 0)[model.shortfall_of]
    return {
        "accepted requests": float(np.sum(tier == _ACCEPTED)),
        "minimum targets": -(weight * float(unavoidable.max(initial=0)) + float(unavoidable.sum())),
        "open requests": float(np.sum(tier == _REQUESTED)),
        "worst_shortfall": float(unavoidable.max(initial=0)),
        "total_shortfall": float(unavoidable.sum()),
    }


def _augment(inst: _Instance, model: _Model, x: FloatArray, level: str) -> FloatArray:
    """``x`` with pairs added greedily for ``level`` while every row of the model still holds: a strong start.

    Adding a pair only loosens the lower-bounded rows (minimums, levels already reached), so checking the
    upper bounds of the rows the pair's column touches keeps ``x`` feasible; the shortfalls are then
    recomputed. For minimum targets, pairs of two people below their minimum come first, then of one,
    largest shortfall first; for requests the requested pairs; for the score every pair by score.
    """
    matrix, _, upper, _ = model.rows
    m = len(model.col_edge)
    csc = sp.csc_matrix(matrix[:, :m])
    original, x = x, x.copy()
    lhs = matrix @ x
    residual = np.maximum(inst.minimum - inst.fixed_count, 0)
    ea, eb = inst.ea[model.col_edge], inst.eb[model.col_edge]
    tier = inst.tier[model.col_edge]
    units = inst.units[model.col_edge]
    for _ in range(2 if level == "minimum targets" else 1):
        y = x[:m]
        count = (
            inst.fixed_count
            + np.bincount(ea, weights=y, minlength=inst.n)
            + np.bincount(eb, weights=y, minlength=inst.n)
        )
        short = np.maximum(inst.minimum - count, 0)
        if level == "accepted requests":
            pool = np.flatnonzero(tier == _ACCEPTED)
            order = pool[np.lexsort((-units[pool],))]
        elif level == "minimum targets":
            sa, sb = short[ea], short[eb]
            pool = np.flatnonzero((sa > 0) | (sb > 0))
            helped = (sa[pool] > 0).astype(np.int64) + (sb[pool] > 0)
            order = pool[np.lexsort((-units[pool], -(sa[pool] + sb[pool]), -helped))]
        elif level == "open requests":
            pool = np.flatnonzero(tier == _REQUESTED)
            order = pool[np.lexsort((-units[pool],))]
        else:
            order = np.lexsort((np.arange(m), -units))
        for j in order:
            if x[j] > 0.5 or (level == "minimum targets" and short[ea[j]] == 0 and short[eb[j]] == 0):
                continue
            start, end = csc.indptr[j], csc.indptr[j + 1]
            rows, values = csc.indices[start:end], csc.data[start:end]
            if np.all(lhs[rows] + values <= upper[rows] + 1e-9):
                x[j] = 1.0
                lhs[rows] += values
                short[ea[j]] = max(short[ea[j]] - 1, 0)
                short[eb[j]] = max(short[eb[j]] - 1, 0)
        lhs = matrix @ x
    y = x[:m]
    count = (
        inst.fixed_count + np.bincount(ea, weights=y, minlength=inst.n) + np.bincount(eb, weights=y, minlength=inst.n)
    )
    shortfall = np.maximum(inst.minimum[model.shortfall_of] - count[model.shortfall_of], 0)
    x[m:-1] = np.minimum(shortfall, residual[model.shortfall_of])
    x[-1] = x[m:-1].max(initial=0)
    return x if model.mip.feasible(x) else original  # the previous start, if a tolerance ever slipped


def _objectives(inst: _Instance, model: _Model) -> tuple[list[tuple[str, FloatArray]], float]:
    """The four objective vectors solved in turn (the two shortfall levels as one, weighted) and that weight."""
    m, n_cols = len(model.col_edge), model.n_cols
    tier = inst.tier[model.col_edge]
    weight = float(np.maximum(inst.minimum - inst.fixed_count, 0).sum()) + 1.0  # the worst outweighs any total

    def vector(values: NDArray[np.float64] | NDArray[np.int64], tail: FloatArray | None = None) -> FloatArray:
        out = np.zeros(n_cols)
        out[:m] = values
        if tail is not None:
            out[m:] = tail
        return out

    shortfalls = np.full(n_cols - m, -1.0)
    shortfalls[-1] = -weight
    objectives = [
        ("accepted requests", vector((tier == _ACCEPTED).astype(np.float64))),
        ("minimum targets", vector(np.zeros(m), shortfalls)),
        ("open requests", vector((tier == _REQUESTED).astype(np.float64))),
        ("score", vector(inst.units[model.col_edge].astype(np.float64))),
    ]
    return objectives, weight


def _solve_levels(
    inst: _Instance,
    model: _Model,
    start: FloatArray,
    deadline: float,
    gap: float,
    progress: Callable[[str], None] | None,
    what: str,
) -> _Levels:
    """Solve the five levels in order, each held at the value reached while the next is maximised."""
    n_cols = model.n_cols
    accepted, requested, units = inst.fixed_levels
    objectives, weight = _objectives(inst, model)
    short_cols = np.zeros(n_cols)
    short_cols[len(model.col_edge) : -1] = -1.0
    x = start
    bounds: list[int] = []
    optimal = True
    limited = False
    known = _known_bounds(inst, model, weight)
    for k, (name, objective) in enumerate(objectives):
        if progress is not None:
            progress(f"{what}: {name}")
        # each level gets its share of the time left, and what a level leaves unused goes to the next ones
        remaining = deadline - time.monotonic()
        share = _TIME_SHARES[name] / sum(_TIME_SHARES[later] for later, _ in objectives[k:])
        x = _augment(inst, model, x, name)
        out = model.mip.maximise(
            objective,
            start=x,
            time_limit=remaining * share,
            rel_gap=gap if name == "score" else 0.0,
            known_bound=known.get(name),
            lp_solver=_LP_SOLVERS[name],
        )
        x = np.round(out.values)
        optimal &= out.optimal
        limited |= out.time_limited
        value = float(objective @ x)
        if name == "minimum targets":
            worst, total = round(float(x[-1])), round(float(-short_cols @ x))
            bound = out.bound  # >= -(weight * worst + total) over the better schedules
            worst_bound = max(0, math.ceil((-bound - (weight - 1)) / weight)) if math.isfinite(bound) else 0
            total_bound = int(-bound - weight * worst) if worst_bound == worst and math.isfinite(bound) else 0
            # the shortfalls no schedule can avoid are bounds too, and the only ones when the run had none
            bounds += [
                max(worst_bound, int(known["worst_shortfall"])),
                max(total_bound, int(known["total_shortfall"])),
            ]
            worst_row = np.zeros(n_cols)
            worst_row[-1] = 1.0
            model.mip.add_row(worst_row, -np.inf, float(worst))
            model.mip.add_row(-short_cols, -np.inf, float(total))
        else:
            offset = {"accepted requests": accepted, "open requests": requested, "score": units}[name]
            fallback = known.get(name)
            if math.isfinite(out.bound):
                bounds.append(math.floor(out.bound + 1e-6) + offset)
            else:
                bounds.append(_NO_BOUND if fallback is None else int(fallback) + offset)
            if name != "score":
                model.mip.add_row(objective, value, np.inf)
    return _Levels(
        values=x, bounds=(bounds[0], bounds[1], bounds[2], bounds[3], bounds[4]), optimal=optimal, time_limited=limited
    )


# -- placement ------------------------------------------------------------------------------------------------


def _repair(
    inst: _Instance,
    edges: list[int],
    allowed: Mapping[int, NDArray[np.int64]],
    place: dict[int, int],
    weight: Mapping[int, float],
    base_busy: NDArray[np.bool_],
    base_tables: NDArray[np.int64],
    hops: int | None,
    deadline: float,
) -> tuple[dict[int, int], bool]:
    """Re-place exactly the pairs around the unplaced ones (``hops`` partners out; None: all of them)."""
    unplaced = [e for e in edges if e not in place]
    if hops is None:
        freed = set(edges)
    else:
        around = {int(p) for e in unplaced for p in (inst.ea[e], inst.eb[e])}
        by_participant: dict[int, list[int]] = {}
        for e in edges:
            for p in (int(inst.ea[e]), int(inst.eb[e])):
                by_participant.setdefault(p, []).append(e)
        for _ in range(hops):
            around |= {
                int(q) for p in list(around) for e in by_participant.get(p, ()) for q in (inst.ea[e], inst.eb[e])
            }
        freed = {e for e in edges if int(inst.ea[e]) in around or int(inst.eb[e]) in around}
    busy = base_busy.copy()
    tables = base_tables.copy()
    for e, s in place.items():
        if e not in freed:
            busy[inst.ea[e], s] = busy[inst.eb[e], s] = True
            tables[s] -= 1
    cols = [
        (e, int(s)) for e in sorted(freed) for s in allowed[e] if not busy[inst.ea[e], s] and not busy[inst.eb[e], s]
    ]
    if not cols:
        return {e: s for e, s in place.items() if e not in freed}, True
    col_e = np.array([e for e, _ in cols], dtype=np.int64)
    col_s = np.array([s for _, s in cols], dtype=np.int64)
    m = len(cols)
    j = np.arange(m, dtype=np.int64)
    n_slots = inst.n_slots
    edge_rows = _incidence(np.searchsorted(np.unique(col_e), col_e), j, len(np.unique(col_e)), m)
    who = np.concatenate([inst.ea[col_e], inst.eb[col_e]]) * n_slots + np.concatenate([col_s, col_s])
    keys, who_rows = np.unique(who, return_inverse=True)
    person_rows = _incidence(who_rows, np.concatenate([j, j]), len(keys), m)
    slot_rows = _incidence(col_s, j, n_slots, m)
    matrix = sp.vstack([edge_rows, person_rows, slot_rows], format="csr")
    upper = np.concatenate([np.ones(edge_rows.shape[0] + person_rows.shape[0]), np.maximum(tables, 0)])
    mip = Mip(
        matrix, np.full(len(upper), -np.inf), upper.astype(np.float64), np.zeros(m), np.ones(m), np.ones(m, dtype=bool)
    )
    start = np.array([1.0 if place.get(e) == s else 0.0 for e, s in cols])
    objective = np.array([weight[e] for e in col_e])
    placeable = set(col_e.tolist())
    everything = float(sum(weight[e] for e in placeable))  # every freed pair placed: nothing can beat it
    out = mip.maximise(objective, start=start, time_limit=deadline - time.monotonic(), known_bound=everything)
    new = {e: s for e, s in place.items() if e not in freed}
    for k in np.flatnonzero(np.round(out.values) > 0):
        new[int(col_e[k])] = int(col_s[k])
    return new, not out.time_limited


def _place_session(
    inst: _Instance, session: int, edges: list[int], state: _State, deadline: float
) -> tuple[dict[int, int], int, bool]:
    """Place one session's selected pairs into its slots.

    Returns edge -> slot, how many the greedy pass placed, and whether no repair run was cut short.
    """
    allowed = {e: np.flatnonzero(inst.common(e) & (inst.session == session)) for e in edges}
    degree: dict[int, int] = {}
    for e in edges:
        for p in (int(inst.ea[e]), int(inst.eb[e])):
            degree[p] = degree.get(p, 0) + 1
    busy = state.busy.copy()
    tables = state.table_left.copy()
    place: dict[int, int] = {}
    order = sorted(
        edges,
        key=lambda e: (
            len(allowed[e]),
            -max(degree[int(inst.ea[e])], degree[int(inst.eb[e])]),
            int(inst.tier[e]),
            -int(inst.units[e]),
            e,
        ),
    )
    for e in order:
        a, b = int(inst.ea[e]), int(inst.eb[e])
        best = -1
        for s in allowed[e]:
            if tables[s] > 0 and not busy[a, s] and not busy[b, s] and (best < 0 or tables[s] > tables[best]):
                best = int(s)
        if best >= 0:
            place[e] = best
            busy[a, best] = busy[b, best] = True
            tables[best] -= 1
    complete = True
    greedy = len(place)
    if len(place) < len(edges):
        # a dropped pair costs its level: accepted first, then open requests, then score
        weight = {
            e: (1e6 if inst.tier[e] == _ACCEPTED else 1e3 if inst.tier[e] == _REQUESTED else 1.0)
            + inst.units[e] / (SCORE_SCALE * 10.0)
            for e in edges
        }
        for hops in (1, 2, None):
            place, done = _repair(inst, edges, allowed, place, weight, state.busy, state.table_left, hops, deadline)
            complete &= done
            if len(place) == len(edges) or time.monotonic() > deadline:
                break
    return place, greedy, complete


# -- the methods ----------------------------------------------------------------------------------------------


def _priority(inst: _Instance, edges: Iterable[int], state: _State) -> list[int]:
    """Pairs best first for filling: accepted, then pairs of people below their minimum, then open, then score."""
    short = np.maximum(inst.minimum - state.count, 0)

    def key(e: int) -> tuple[int, int, int, int]:
        need = max(int(short[inst.ea[e]]), int(short[inst.eb[e]]))
        group = 0 if inst.tier[e] == _ACCEPTED else 1 if need > 0 else 2 if inst.tier[e] == _REQUESTED else 3
        return (group, -need, -int(inst.units[e]), e)

    return sorted(edges, key=key)


def _fill(inst: _Instance, state: _State, edges: Iterable[int]) -> None:
    for e in _priority(inst, edges, state):
        if e in state.placed:
            continue
        s = state.first_slot(e)
        if s is not None:
            state.place(e, s)


def _greedy(inst: _Instance) -> _State:
    state = _State(inst)
    order = sorted(range(len(inst.ea)), key=lambda e: (int(inst.tier[e]), -int(inst.units[e]), e))
    for e in order:
        s = state.first_slot(e)
        if s is not None:
            state.place(e, s)
    return state


@dataclass
class _Solved:
    state: _State
    bounds: tuple[int, int, int, int, int] | None
    proven: bool
    time_limited: bool
    stages: dict[str, int] = field(default_factory=dict)


def _solve_greedy(inst: _Instance, deadline: float, gap: float, progress: Callable[[str], None] | None) -> _Solved:
    state = _greedy(inst)
    return _Solved(state, None, False, False, {"pairs": len(inst.ea), "placed": len(state.placed)})


def _selection_columns(inst: _Instance) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    edge, group = [], []
    for e in range(len(inst.ea)):
        for k in np.unique(inst.session[inst.common(e)]):
            edge.append(e)
            group.append(int(k))
    return np.array(edge, dtype=np.int64), np.array(group, dtype=np.int64)


def _integrated_columns(inst: _Instance) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    edge, group = [], []
    for e in range(len(inst.ea)):
        for s in np.flatnonzero(inst.common(e)):
            edge.append(e)
            group.append(int(s))
    return np.array(edge, dtype=np.int64), np.array(group, dtype=np.int64)


def _integrated(
    inst: _Instance,
    start: _State,
    deadline: float,
    gap: float,
    progress: Callable[[str], None] | None,
    columns: tuple[NDArray[np.int64], NDArray[np.int64]] | None = None,
) -> _Solved:
    """The exact model over every (pair, slot) choice, solved level by level from ``start``."""
    edge, slot = columns if columns is not None else _integrated_columns(inst)
    stages = {"pairs": len(inst.ea), "integrated_columns": len(edge)}
    if len(edge) == 0:
        return _Solved(start, _levels(inst, ()), True, False, stages)
    exact = _build(inst, edge, slot, integrated=True)
    result = _solve_levels(inst, exact, exact.start(inst, start.placed), deadline, gap, progress, "scheduling exactly")
    picked = np.flatnonzero(result.values[: len(edge)] > 0.5)
    state = _State(inst)
    for j in sorted(picked, key=lambda j: int(edge[j])):
        if state.fits(int(edge[j]), int(slot[j])):  # re-checked: the schedule holds even if a solver slipped
            state.place(int(edge[j]), int(slot[j]))
    return _Solved(state, result.bounds, result.optimal, result.time_limited, stages)


def _solve_integrated(inst: _Instance, deadline: float, gap: float, progress: Callable[[str], None] | None) -> _Solved:
    return _integrated(inst, _greedy(inst), deadline, gap, progress)


def _solve_optimal(inst: _Instance, deadline: float, gap: float, progress: Callable[[str], None] | None) -> _Solved:
    started = time.monotonic()
    budget = deadline - started
    col_edge, col_group = _selection_columns(inst)
    state = _State(inst)
    stages = {"pairs": len(inst.ea), "selection_columns": len(col_edge)}
    if len(col_edge) == 0:
        return _Solved(state, _levels(inst, ()), True, False, stages)
    model = _build(inst, col_edge, col_group, integrated=False)
    selection = _solve_levels(
        inst, model, model.start(inst, {}), started + 0.85 * budget, gap, progress, "selecting pairs"
    )
    chosen = np.flatnonzero(selection.values[: len(col_edge)] > 0.5)
    session_of = {int(col_edge[j]): int(col_group[j]) for j in chosen}
    complete = True
    greedy = 0
    if progress is not None:
        progress("placing pairs in slots")
    for k in range(inst.n_sessions):
        edges = sorted(e for e, g in session_of.items() if g == k)
        place, placed_greedily, done = _place_session(inst, k, edges, state, deadline)
        complete &= done
        greedy += placed_greedily
        for e in sorted(place):
            if state.fits(e, place[e]):  # re-checked: the schedule holds even if a solver slipped
                state.place(e, place[e])
    placed = len(state.placed)
    if progress is not None:
        progress("filling free places")
    _fill(inst, state, range(len(inst.ea)))
    stages |= {
        "selected": len(session_of),
        "placed_greedily": greedy,
        "placed_by_repair": placed - greedy,
        "dropped": len(session_of) - placed,
        "filled": len(state.placed) - placed,
    }
    bounds = selection.bounds
    reached = _levels(inst, state.placed)
    limited = selection.time_limited or not complete
    if _meets(reached, bounds):
        return _Solved(state, bounds, selection.optimal and not limited, limited, stages)
    columns = _integrated_columns(inst)
    if len(columns[0]) <= INTEGRATED_MAX_COLUMNS and time.monotonic() < deadline:
        exact = _integrated(inst, state, deadline, gap, progress, columns)
        exact.stages = stages | exact.stages
        exact.time_limited |= limited
        return exact
    return _Solved(state, bounds, False, limited, stages)


def _meets(reached: tuple[int, ...], bounds: tuple[int, ...]) -> bool:
    """Whether the first ``len(reached)`` levels reach their bounds."""
    senses = ("max", "min", "min", "max", "max")[: len(reached)]
    return all((r >= b) if s == "max" else (r <= b) for r, b, s in zip(reached, bounds, senses, strict=True))


SchedulerMethod = Callable[[_Instance, float, float, Callable[[str], None] | None], _Solved]
SCHEDULERS: Mapping[str, SchedulerMethod] = {
    "optimal": _solve_optimal,
    "integrated": _solve_integrated,
    "greedy": _solve_greedy,
}


# -- the result -------------------------------------------------------------------------------------------------


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class _Why:
    """Reasons a person understands for a participant below their minimum or a request not scheduled."""

    def __init__(self, inst: _Instance, state: _State, proven: bool) -> None:
        self.inst = inst
        self.state = state
        self.proven = proven
        self.partners: dict[int, list[int]] = {}
        for e in range(len(inst.ea)):
            for p, q in ((int(inst.ea[e]), e), (int(inst.eb[e]), e)):
                self.partners.setdefault(p, []).append(q)

    def _obstacle(self, p: int, e: int) -> str:
        """Why pair ``e`` (of participant ``p``) is not in the schedule."""
        inst, state = self.inst, self.state
        q = int(inst.eb[e]) if int(inst.ea[e]) == p else int(inst.ea[e])
        shared = np.flatnonzero(inst.available[p] & inst.available[q])
        if len(shared) == 0:
            return "no shared slot"
        if state.count[q] >= inst.maximum[q] or all(
            state.in_session[q, k] >= inst.per_session[q] for k in np.unique(inst.session[shared])
        ):
            return "full"
        if state.count[p] >= inst.maximum[p]:
            return "own maximum"
        both_free = [int(s) for s in shared if not state.busy[p, s] and not state.busy[q, s]]
        if not both_free:
            return "busy"
        if all(state.in_session[p, inst.session[s]] >= inst.per_session[p] for s in both_free):
            return "own session maximum"
        if all(state.in_session[q, inst.session[s]] >= inst.per_session[q] for s in both_free):
            return "full"
        if all(state.table_left[s] <= 0 for s in both_free):
            return "tables"
        return "trade-off"

    def unmet(self, p: int) -> str:
        inst = self.inst
        slots = int(inst.available[p].sum())
        minimum = int(inst.minimum[p])
        if slots < minimum:
            return f"available in {_plural(slots, 'slot')} only"
        per_session_total = int(
            sum(
                min(int(inst.per_session[p]), int(inst.available[p, inst.session == k].sum()))
                for k in range(inst.n_sessions)
            )
        )
        if per_session_total < minimum:
            return (
                f"the per-session maximum of {int(inst.per_session[p])} allows only {per_session_total} meetings in "
                "the slots they are available in"
            )
        edges = self.partners.get(p, [])
        blocked = len(inst.blocked_candidates.get(p, []))
        possible = [e for e in edges if (inst.available[inst.ea[e]] & inst.available[inst.eb[e]]).any()]
        partners = len(possible) + int(inst.fixed_count[p])  # confirmed meetings are partners too
        if partners < minimum:
            parts = [
                f"only {_plural(partners, 'possible partner')} (recommended or requested, not blocked, "
                "sharing an available slot)"
            ]
            if blocked:
                parts.append(f"{blocked} more blocked")
            return "; ".join(parts)
        open_edges = [e for e in possible if e not in self.state.placed]
        found: dict[str, int] = {}
        for e in open_edges:
            reason = self._obstacle(p, e)
            found[reason] = found.get(reason, 0) + 1
        if "trade-off" in found or "own maximum" in found:
            if not self.proven:
                return "the solver stopped at its time limit before placing more meetings for them"
            return (
                "more meetings for them would cost an accepted request or leave someone else further below "
                "their minimum"
            )
        words = {
            "full": "at their maximum",
            "busy": "busy whenever both are free",
            "no shared slot": "without a shared slot",
            "tables": "free only when every table is taken",
            "own session maximum": "free only in sessions where they reached the per-session maximum",
        }
        detail = ", ".join(f"{n} {words[r]}" for r, n in sorted(found.items(), key=lambda kv: (-kv[1], kv[0])))
        blocked_text = f"; {blocked} blocked" if blocked else ""
        return f"every candidate partner is full or blocked ({detail}{blocked_text})"

    def request(self, by: int, to: int, key: Pair) -> str:
        inst = self.inst
        reason = inst.event.blocked_pairs.get(key)
        if reason is not None:
            return {
                "declined": "declined",
                "related": "the pair is blocked as related",
                "conflict": "the pair is blocked as a conflict of interest",
                "cancelled": "the meeting was cancelled",
            }[reason]
        e = inst.edge_of.get(key)
        if e is None:
            return "no shared available slot"
        obstacle = self._obstacle(by, e)
        return {
            "no shared slot": "no shared available slot",
            "full": f"{inst.ids[to]} is at their maximum",
            "own maximum": f"{inst.ids[by]} is at their maximum",
            "busy": "one of them is busy whenever the other is free",
            "tables": "every table is taken when both are free",
            "own session maximum": f"{inst.ids[by]} reached the per-session maximum when both are free",
            "trade-off": "it would cost an accepted request, a minimum or a higher-priority request"
            if self.proven
            else "the solver stopped at its time limit before placing it",
        }[obstacle]


def _result(inst: _Instance, solved: _Solved, method: str) -> Schedule:
    event, state = inst.event, solved.state
    slots = event.slots
    used: dict[int, set[str]] = {s: set() for s in range(inst.n_slots)}
    slot_index = {slot.id: s for s, slot in enumerate(slots)}
    statuses = event.requested_pairs
    rows: list[tuple[int, int, Meeting]] = []
    for meeting in event.confirmed:
        s = slot_index[meeting.slot]
        used[s].add(meeting.table)
        score, reasons = inst.scores_by_pair.get(pair(meeting.a, meeting.b), (0.0, ()))
        slot = slots[s]
        found = Meeting(
            meeting.slot, slot.start, slot.minutes, meeting.table, meeting.a, meeting.b, score, "confirmed", reasons
        )
        rows.append((s, inst.tables[s].index(meeting.table), found))
    by_slot: dict[int, list[int]] = {}
    for e, s in state.placed.items():
        by_slot.setdefault(s, []).append(e)
    for s, edges in sorted(by_slot.items()):
        free_tables = [t for t in inst.tables[s] if t not in used[s]]
        if len(edges) > len(free_tables):  # _State.place never allows it; a broken invariant must not pass silently
            raise AssertionError(f"{len(edges)} meetings for {len(free_tables)} free tables in {inst.slot_ids[s]}")
        for e, table in zip(
            sorted(edges, key=lambda e: (inst.ids[inst.ea[e]], inst.ids[inst.eb[e]])),
            free_tables[: len(edges)],
            strict=True,
        ):
            slot = slots[s]
            found = Meeting(
                slot.id,
                slot.start,
                slot.minutes,
                table,
                inst.ids[inst.ea[e]],
                inst.ids[inst.eb[e]],
                inst.score[e],
                _TIER_SOURCE[int(inst.tier[e])],
                inst.reasons[e],
            )
            rows.append((s, inst.tables[s].index(table), found))
    meetings = tuple(m for _, _, m in sorted(rows, key=lambda r: (r[0], r[1])))
    reached = _levels(inst, state.placed)
    bounds = solved.bounds
    names = tuple(LEVELS)
    senses: tuple[Literal["max", "min"], ...] = ("max", "min", "min", "max", "max")
    levels = tuple(
        Level(name, sense, value, None if bounds is None or bound == _NO_BOUND else bound)
        for name, sense, value, bound in zip(names, senses, reached, bounds or (None,) * 5, strict=True)
    )
    optimal = bounds is not None and solved.proven and _meets(reached, bounds)
    objective = reached[4] / SCORE_SCALE
    bound = None if bounds is None or bounds[4] == _NO_BOUND else max(bounds[4], reached[4]) / SCORE_SCALE
    # the score's bound holds given the levels before it at their bounds; when one of them falls short, a gap on
    # the score would look better than the schedule is, so there is none (the levels say where it falls short)
    earlier_reached = bounds is not None and _meets(reached[:4], bounds[:4])
    gap = (
        None if bound is None or not earlier_reached else (0.0 if bound <= 0 else round((bound - objective) / bound, 6))
    )
    why = _Why(inst, state, solved.proven and not solved.time_limited)
    count = state.count
    unmet = tuple(
        Unmet(inst.ids[p], int(count[p]), int(inst.minimum[p]), why.unmet(p))
        for p in range(inst.n)
        if count[p] < inst.minimum[p]
    )
    met = {pair(m.a, m.b) for m in meetings}
    unscheduled: list[UnscheduledRequest] = []
    seen: set[Pair] = set()
    for request in event.requests:
        key = pair(request.by, request.to)
        status = statuses[key]
        if key in met or key in seen or status == "declined":
            continue
        seen.add(key)
        unscheduled.append(
            UnscheduledRequest(
                request.by, request.to, status, why.request(inst.index[request.by], inst.index[request.to], key)
            )
        )
    return Schedule(
        status="optimal" if optimal else "feasible",
        objective=objective,
        bound=bound,
        gap=gap,
        levels=levels,
        meetings=meetings,
        unmet_minimums=unmet,
        unscheduled_requests=tuple(sorted(unscheduled, key=lambda r: (r.status != "accepted", r.by, r.to))),
        method=method,
        time_limited=solved.time_limited,
        stages=tuple(solved.stages.items()),
    )


def schedule(
    event: Event,
    candidates: Iterable[Candidate | tuple[str, str, float]] = (),
    *,
    method: str = "optimal",
    time_limit: float = DEFAULT_TIME_LIMIT,
    gap: float = DEFAULT_GAP,
    progress: Callable[[str], None] | None = None,
) -> Schedule:
    """Schedule the event's meetings: which pairs meet, in which slot, at which table.

    Parameters
    ----------
    event : Event
        The event: its slots, tables, participants and their limits, requests, blocks and, for a second
        run, confirmed and cancelled meetings.
    candidates : iterable of Candidate or (a, b, score)
        Recommended pairs of participants with their scores (and reasons, for agendas); a pair given
        twice keeps its higher score. Requested pairs need not be candidates (their score is then 0).
    method : {"optimal", "integrated", "greedy"}
        ``"optimal"`` solves the lexicographic objective with HiGHS in stages (see the module's notes);
        ``"integrated"`` solves the exact (pair, slot) model from the greedy schedule (slower, for
        comparison and small events); ``"greedy"`` places pairs best first, for comparison.
    time_limit : float
        Seconds for the whole run; a solver run cut short keeps the best schedule found so far and
        the result says ``time_limited``.
    gap : float
        The relative gap at which the score level may stop.
    progress : callable, optional
        Called with the name of each stage as it starts.

    Returns
    -------
    Schedule

    Raises
    ------
    EventError
        A candidate names someone who is not a participant, pairs someone with themselves, or has a score
        that is not a finite number.
    ValueError
        An unknown method, or a time limit or gap out of range.

    Examples
    --------
    >>> from matchmaker.core.events.model import event_from_data
    >>> event = event_from_data({
    ...     "name": "Demo", "tables": 1,
    ...     "sessions": [{"id": "am", "start": "2025-03-01T10:00:00+09:00", "minutes": 20, "count": 2}],
    ...     "participants": [{"id": "a", "min_meetings": 1}, {"id": "b"}, {"id": "c", "min_meetings": 1}],
    ...     "requests": [{"by": "a", "to": "b", "status": "accepted"}],
    ... })
    >>> result = schedule(event, [("b", "c", 0.4), ("a", "c", 0.9)])
    >>> result.status, [(m.slot, m.table, m.a, m.b, m.source) for m in result.meetings]
    ('optimal', [('am-1', 'T01', 'a', 'b', 'accepted'), ('am-2', 'T01', 'a', 'c', 'recommended')])
    """
    if method not in SCHEDULERS:
        raise ValueError(f"unknown scheduling method {method!r}; accepted: {', '.join(SCHEDULERS)}")
    if not (math.isfinite(time_limit) and time_limit > 0):
        raise ValueError(f"time_limit must be a positive number of seconds, got {time_limit!r}")
    if not 0 <= gap < 1:
        raise ValueError(f"gap must be at least 0 and below 1, got {gap!r}")
    deadline = time.monotonic() + time_limit
    if progress is not None:
        progress("preparing the instance")
    inst = _instance(event, candidates)
    solved = SCHEDULERS[method](inst, deadline, gap, progress)
    if progress is not None:
        progress("writing the result")
    return _result(inst, solved, method)
