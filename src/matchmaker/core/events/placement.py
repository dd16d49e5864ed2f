"""Placement: each session's selected pairs into its slots and tables, then the free places filled.

A list edge colouring with table capacities: most-constrained pair first into the slot with most tables
left, then every pair left over placed by re-solving its neighbourhood exactly (its participants and
their partners, then two steps out, then the whole session). Filling offers the free places to the pairs
not chosen, best first; the greedy baseline is the same filling from an empty schedule.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from matchmaker.core.events.instance import ACCEPTED, REQUESTED, Instance, State
from matchmaker.core.events.results import SCORE_SCALE
from matchmaker.core.events.selection import incidence
from matchmaker.core.events.solver import Mip


def _repair(
    inst: Instance,
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
    edge_rows = incidence(np.searchsorted(np.unique(col_e), col_e), j, len(np.unique(col_e)), m)
    who = np.concatenate([inst.ea[col_e], inst.eb[col_e]]) * n_slots + np.concatenate([col_s, col_s])
    keys, who_rows = np.unique(who, return_inverse=True)
    person_rows = incidence(who_rows, np.concatenate([j, j]), len(keys), m)
    slot_rows = incidence(col_s, j, n_slots, m)
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


def place_session(
    inst: Instance, session: int, edges: list[int], state: State, deadline: float
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
            e: (1e6 if inst.tier[e] == ACCEPTED else 1e3 if inst.tier[e] == REQUESTED else 1.0)
            + inst.units[e] / (SCORE_SCALE * 10.0)
            for e in edges
        }
        for hops in (1, 2, None):
            place, done = _repair(inst, edges, allowed, place, weight, state.busy, state.table_left, hops, deadline)
            complete &= done
            if len(place) == len(edges) or time.monotonic() > deadline:
                break
    return place, greedy, complete


def _priority(inst: Instance, edges: Iterable[int], state: State) -> list[int]:
    """Pairs best first for filling: accepted, then pairs of people below their minimum, then open, then score."""
    short = np.maximum(inst.minimum - state.count, 0)

    def key(e: int) -> tuple[int, int, int, int]:
        need = max(int(short[inst.ea[e]]), int(short[inst.eb[e]]))
        group = 0 if inst.tier[e] == ACCEPTED else 1 if need > 0 else 2 if inst.tier[e] == REQUESTED else 3
        return (group, -need, -int(inst.units[e]), e)

    return sorted(edges, key=key)


def fill(inst: Instance, state: State, edges: Iterable[int]) -> None:
    for e in _priority(inst, edges, state):
        if e in state.placed:
            continue
        s = state.first_slot(e)
        if s is not None:
            state.place(e, s)


def greedy(inst: Instance) -> State:
    state = State(inst)
    order = sorted(range(len(inst.ea)), key=lambda e: (int(inst.tier[e]), -int(inst.units[e]), e))
    for e in order:
        s = state.first_slot(e)
        if s is not None:
            state.place(e, s)
    return state
