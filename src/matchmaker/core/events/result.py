"""The schedule as the scheduler returns it, with the reasons a person understands for what is missing."""

from __future__ import annotations

from typing import Literal

import numpy as np

from matchmaker.core.events.instance import TIER_SOURCE, Instance, Solved, State, level_values
from matchmaker.core.events.model import Pair, pair
from matchmaker.core.events.results import (
    LEVELS,
    NO_BOUND,
    SCORE_SCALE,
    Level,
    Meeting,
    Schedule,
    Unmet,
    UnscheduledRequest,
    meets,
)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class _Why:
    """Reasons a person understands for a participant below their minimum or a request not scheduled."""

    def __init__(self, inst: Instance, state: State, proven: bool) -> None:
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


def result_of(inst: Instance, solved: Solved, method: str) -> Schedule:
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
        if len(edges) > len(free_tables):  # State.place never allows it; a broken invariant must not pass silently
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
                TIER_SOURCE[int(inst.tier[e])],
                inst.reasons[e],
            )
            rows.append((s, inst.tables[s].index(table), found))
    meetings = tuple(m for _, _, m in sorted(rows, key=lambda r: (r[0], r[1])))
    reached = level_values(inst, state.placed)
    bounds = solved.bounds
    names = tuple(LEVELS)
    senses: tuple[Literal["max", "min"], ...] = ("max", "min", "min", "max", "max")
    levels = tuple(
        Level(name, sense, value, None if bounds is None or bound == NO_BOUND else bound)
        for name, sense, value, bound in zip(names, senses, reached, bounds or (None,) * 5, strict=True)
    )
    optimal = bounds is not None and solved.proven and meets(reached, bounds)
    objective = reached[4] / SCORE_SCALE
    bound = None if bounds is None or bounds[4] == NO_BOUND else max(bounds[4], reached[4]) / SCORE_SCALE
    # the score's bound holds given the levels before it at their bounds; when one of them falls short, a gap on
    # the score would look better than the schedule is, so there is none (the levels say where it falls short)
    earlier_reached = bounds is not None and meets(reached[:4], bounds[:4])
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
