"""Selection: which pairs meet, and in which session, as a mixed-integer program solved level by level.

A degree-constrained subgraph problem with the per-session and overall limits, the tables of each
session (and of each slot, for pairs that share only that slot): a relaxation of the whole problem, so
its optimum bounds the true optimum at every level. The same builder makes the exact (pair, slot) model
(``integrated=True``) that :mod:`.exact` solves.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from matchmaker.core.events.instance import ACCEPTED, REQUESTED, Instance
from matchmaker.core.events.results import NO_BOUND
from matchmaker.core.events.solver import FloatArray, Mip


def incidence(keys: NDArray[np.int64], cols: NDArray[np.int64], n_rows: int, n_cols: int) -> sp.csr_matrix:
    return sp.csr_matrix((np.ones(len(keys)), (keys, cols)), shape=(n_rows, n_cols))


@dataclass
class Model:
    """A selection or integrated model: columns are (edge, group) choices, then shortfalls, then the worst."""

    mip: Mip
    col_edge: NDArray[np.int64]
    col_group: NDArray[np.int64]  # session (selection) or slot (integrated)
    shortfall_of: NDArray[np.int64]  # participant of each shortfall column
    n_cols: int
    rows: tuple[sp.csr_matrix, FloatArray, FloatArray, FloatArray]  # matrix, row lower, row upper, column upper

    def start(self, inst: Instance, chosen: Mapping[int, int]) -> FloatArray:
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


def build_model(inst: Instance, col_edge: NDArray[np.int64], col_group: NDArray[np.int64], integrated: bool) -> Model:
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
    rows(incidence(col_edge, cols, len(inst.ea), m), np.ones(len(inst.ea)))
    # per participant and session: the per-session maximum and the free slots of the session
    free_in_session = np.stack([inst.free[:, inst.session == k].sum(axis=1) for k in range(n_sessions)], axis=1)
    session_cap = np.minimum(inst.per_session[:, None] - inst.fixed_session, free_in_session)
    session_cap = np.maximum(session_cap, 0)
    rows(
        incidence(both * n_sessions + np.concatenate([col_session, col_session]), both_cols, n * n_sessions, m),
        session_cap.ravel(),
    )
    # per participant overall
    overall = np.minimum(inst.maximum - inst.fixed_count, session_cap.sum(axis=1))
    incidence_p = incidence(both, both_cols, n, m)
    rows(incidence_p, np.maximum(overall, 0))
    if integrated:
        # one meeting per participant and slot; tables per slot
        rows(
            incidence(both * n_slots + np.concatenate([col_group, col_group]), both_cols, n * n_slots, m),
            np.ones(n * n_slots),
        )
        rows(incidence(col_group, cols, n_slots, m), inst.table_left)
    else:
        tables_in_session = np.array([inst.table_left[inst.session == k].sum() for k in range(n_sessions)])
        rows(incidence(col_group, cols, n_sessions, m), tables_in_session)
        # pairs that share a single slot of the session compete for that slot's tables
        single = np.full(m, -1, dtype=np.int64)
        for j in range(m):
            shared = np.flatnonzero(inst.common(int(col_edge[j])) & (inst.session == col_group[j]))
            if len(shared) == 1:
                single[j] = shared[0]
        picked = np.flatnonzero(single >= 0)
        rows(incidence(single[picked], picked, n_slots, m), inst.table_left)
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
    return Model(
        mip=mip,
        col_edge=col_edge,
        col_group=col_group,
        shortfall_of=short_of,
        n_cols=n_cols,
        rows=(matrix, row_lower, row_upper, col_upper),
    )


@dataclass
class LevelRun:
    values: FloatArray
    bounds: tuple[int, int, int, int, int]
    optimal: bool
    time_limited: bool


# Shares of the selection's time per level, and HiGHS's root LP solver per level: measured in CPU seconds on
# the benchmark's events (seed 0) at 1,000 and 3,000 participants and with every minimum at 8 (docs/events.md).
_TIME_SHARES = {"accepted requests": 0.15, "minimum targets": 0.45, "open requests": 0.15, "score": 0.25}
_LP_SOLVERS = {"accepted requests": "simplex", "minimum targets": "simplex", "open requests": "ipx", "score": "simplex"}


def _known_bounds(inst: Instance, model: Model, weight: float) -> dict[str, float]:
    """Upper bounds on each level that need no solver: every request met, every unavoidable shortfall only."""
    edges = np.unique(model.col_edge)
    tier = inst.tier[edges]
    degree = np.bincount(inst.ea[edges], minlength=inst.n) + np.bincount(inst.eb[edges], minlength=inst.n)
    cap = np.minimum(inst.maximum - inst.fixed_count, degree)
    residual = np.maximum(inst.minimum - inst.fixed_count, 0)
    unavoidable = np.maximum(residual - np.maximum(cap, 0), 0)[model.shortfall_of]
    return {
        "accepted requests": float(np.sum(tier == ACCEPTED)),
        "minimum targets": -(weight * float(unavoidable.max(initial=0)) + float(unavoidable.sum())),
        "open requests": float(np.sum(tier == REQUESTED)),
        "worst_shortfall": float(unavoidable.max(initial=0)),
        "total_shortfall": float(unavoidable.sum()),
    }


def _augment(inst: Instance, model: Model, x: FloatArray, level: str) -> FloatArray:
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
            pool = np.flatnonzero(tier == ACCEPTED)
            order = pool[np.lexsort((-units[pool],))]
        elif level == "minimum targets":
            sa, sb = short[ea], short[eb]
            pool = np.flatnonzero((sa > 0) | (sb > 0))
            helped = (sa[pool] > 0).astype(np.int64) + (sb[pool] > 0)
            order = pool[np.lexsort((-units[pool], -(sa[pool] + sb[pool]), -helped))]
        elif level == "open requests":
            pool = np.flatnonzero(tier == REQUESTED)
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


def level_objectives(inst: Instance, model: Model) -> tuple[list[tuple[str, FloatArray]], float]:
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
        ("accepted requests", vector((tier == ACCEPTED).astype(np.float64))),
        ("minimum targets", vector(np.zeros(m), shortfalls)),
        ("open requests", vector((tier == REQUESTED).astype(np.float64))),
        ("score", vector(inst.units[model.col_edge].astype(np.float64))),
    ]
    return objectives, weight


def solve_levels(
    inst: Instance,
    model: Model,
    start: FloatArray,
    deadline: float,
    gap: float,
    progress: Callable[[str], None] | None,
    what: str,
) -> LevelRun:
    """Solve the five levels in order, each held at the value reached while the next is maximised."""
    n_cols = model.n_cols
    accepted, requested, units = inst.fixed_levels
    objectives, weight = level_objectives(inst, model)
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
                bounds.append(NO_BOUND if fallback is None else int(fallback) + offset)
            if name != "score":
                model.mip.add_row(objective, value, np.inf)
    return LevelRun(
        values=x, bounds=(bounds[0], bounds[1], bounds[2], bounds[3], bounds[4]), optimal=optimal, time_limited=limited
    )


def selection_columns(inst: Instance) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The (pair, session) choices: every session in which the pair shares a free slot."""
    edge, group = [], []
    for e in range(len(inst.ea)):
        for k in np.unique(inst.session[inst.common(e)]):
            edge.append(e)
            group.append(int(k))
    return np.array(edge, dtype=np.int64), np.array(group, dtype=np.int64)
