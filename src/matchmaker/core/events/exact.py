"""The exact model: every (pair, slot) choice at once, solved level by level from a schedule found.

The fallback of the optimal method when placement falls short of the selection's bound (small enough
events only: see ``INTEGRATED_MAX_COLUMNS``), and the ``integrated`` method, which solves it from the
greedy schedule for comparison.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from matchmaker.core.events.instance import Instance, Solved, State, level_values
from matchmaker.core.events.selection import build_model, solve_levels

INTEGRATED_MAX_COLUMNS = 40_000  # (pair, slot) choices up to which the exact model is tried when needed


def integrated_columns(inst: Instance) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    edge, group = [], []
    for e in range(len(inst.ea)):
        for s in np.flatnonzero(inst.common(e)):
            edge.append(e)
            group.append(int(s))
    return np.array(edge, dtype=np.int64), np.array(group, dtype=np.int64)


def integrated(
    inst: Instance,
    start: State,
    deadline: float,
    gap: float,
    progress: Callable[[str], None] | None,
    columns: tuple[NDArray[np.int64], NDArray[np.int64]] | None = None,
) -> Solved:
    """The exact model over every (pair, slot) choice, solved level by level from ``start``."""
    edge, slot = columns if columns is not None else integrated_columns(inst)
    stages = {"pairs": len(inst.ea), "integrated_columns": len(edge)}
    if len(edge) == 0:
        return Solved(start, level_values(inst, ()), True, False, stages)
    exact = build_model(inst, edge, slot, integrated=True)
    result = solve_levels(inst, exact, exact.start(inst, start.placed), deadline, gap, progress, "scheduling exactly")
    picked = np.flatnonzero(result.values[: len(edge)] > 0.5)
    state = State(inst)
    for j in sorted(picked, key=lambda j: int(edge[j])):
        if state.fits(int(edge[j]), int(slot[j])):  # re-checked: the schedule holds even if a solver slipped
            state.place(int(edge[j]), int(slot[j]))
    return Solved(state, result.bounds, result.optimal, result.time_limited, stages)
