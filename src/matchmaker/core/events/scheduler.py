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

1. *Selection* (:mod:`.selection`): which pairs meet and in which session — a degree-constrained
   subgraph problem with the per-session and overall limits, the tables of each session (and of each
   slot, for pairs that share only that slot), solved level by level as a mixed-integer program
   (HiGHS). Its optimum bounds the true optimum at every level.
2. *Placement* (:mod:`.placement`): each session's pairs into its slots — a list edge colouring with
   table capacities: most-constrained pair first into the slot with most tables left, then every pair
   left over is placed by re-solving its neighbourhood (its participants and their partners) exactly,
   growing to the whole session if needed. Pairs that still do not fit are dropped, lowest priority
   first.
3. *Fill* (:mod:`.placement`): free places are offered to the pairs not chosen, best first.

When every selected pair is placed the schedule reaches the relaxation's bound at every level and is
proven optimal. Otherwise, if the integrated (pair, slot) model is small enough, it is solved level by
level from the schedule found (:mod:`.exact`; exact for small events); either way the levels, their bounds and the gap
are reported.

``method="greedy"`` is the baseline: pairs best first (accepted, open requests, then by score), each in
the earliest slot where it fits.

The event as arrays and the state of a schedule being built are :mod:`.instance`; the result and the
reasons for what is missing, :mod:`.result`; the candidates, meetings and levels, :mod:`.results`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping

import numpy as np

from matchmaker.core.events.exact import INTEGRATED_MAX_COLUMNS, integrated, integrated_columns
from matchmaker.core.events.instance import Instance, Solved, State, build_instance, level_values
from matchmaker.core.events.model import Event
from matchmaker.core.events.placement import fill, greedy, place_session
from matchmaker.core.events.result import result_of
from matchmaker.core.events.results import (
    LEVELS,
    SCORE_SCALE,
    SOURCES,
    Candidate,
    Level,
    Meeting,
    Schedule,
    Source,
    Status,
    Unmet,
    UnscheduledRequest,
    meets,
    score_units,
)
from matchmaker.core.events.selection import build_model, selection_columns, solve_levels

DEFAULT_TIME_LIMIT = 60.0
DEFAULT_GAP = 1e-4

__all__ = [
    "DEFAULT_GAP",
    "DEFAULT_TIME_LIMIT",
    "LEVELS",
    "SCHEDULERS",
    "SCORE_SCALE",
    "SOURCES",
    "Candidate",
    "Level",
    "Meeting",
    "Schedule",
    "Source",
    "Status",
    "Unmet",
    "UnscheduledRequest",
    "schedule",
    "score_units",
]


def _solve_greedy(inst: Instance, deadline: float, gap: float, progress: Callable[[str], None] | None) -> Solved:
    state = greedy(inst)
    return Solved(state, None, False, False, {"pairs": len(inst.ea), "placed": len(state.placed)})


def _solve_integrated(inst: Instance, deadline: float, gap: float, progress: Callable[[str], None] | None) -> Solved:
    return integrated(inst, greedy(inst), deadline, gap, progress)


def _solve_optimal(inst: Instance, deadline: float, gap: float, progress: Callable[[str], None] | None) -> Solved:
    started = time.monotonic()
    budget = deadline - started
    col_edge, col_group = selection_columns(inst)
    state = State(inst)
    stages = {"pairs": len(inst.ea), "selection_columns": len(col_edge)}
    if len(col_edge) == 0:
        return Solved(state, level_values(inst, ()), True, False, stages)
    model = build_model(inst, col_edge, col_group, integrated=False)
    selection = solve_levels(
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
        place, placed_greedily, done = place_session(inst, k, edges, state, deadline)
        complete &= done
        greedy += placed_greedily
        for e in sorted(place):
            if state.fits(e, place[e]):  # re-checked: the schedule holds even if a solver slipped
                state.place(e, place[e])
    placed = len(state.placed)
    if progress is not None:
        progress("filling free places")
    fill(inst, state, range(len(inst.ea)))
    stages |= {
        "selected": len(session_of),
        "placed_greedily": greedy,
        "placed_by_repair": placed - greedy,
        "dropped": len(session_of) - placed,
        "filled": len(state.placed) - placed,
    }
    bounds = selection.bounds
    reached = level_values(inst, state.placed)
    limited = selection.time_limited or not complete
    if meets(reached, bounds):
        return Solved(state, bounds, selection.optimal and not limited, limited, stages)
    columns = integrated_columns(inst)
    if len(columns[0]) <= INTEGRATED_MAX_COLUMNS and time.monotonic() < deadline:
        exact = integrated(inst, state, deadline, gap, progress, columns)
        exact.stages = stages | exact.stages
        exact.time_limited |= limited
        return exact
    return Solved(state, bounds, False, limited, stages)


SchedulerMethod = Callable[[Instance, float, float, Callable[[str], None] | None], Solved]
SCHEDULERS: Mapping[str, SchedulerMethod] = {
    "optimal": _solve_optimal,
    "integrated": _solve_integrated,
    "greedy": _solve_greedy,
}


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
    inst = build_instance(event, candidates)
    solved = SCHEDULERS[method](inst, deadline, gap, progress)
    if progress is not None:
        progress("writing the result")
    return result_of(inst, solved, method)
