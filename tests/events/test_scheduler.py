"""The scheduler: every hard rule holds, small events reach the brute-force optimum, runs are deterministic."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings

from matchmaker.core.events.errors import EventError
from matchmaker.core.events.model import Event, changed, event_from_data
from matchmaker.core.events.scheduler import SCHEDULERS, Candidate, Schedule, schedule

from .checker import brute_force, search_space, signed, violations
from .strategies import basic_event, events

QUICK = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run(event: Event, candidates: list[Any], **options: Any) -> Schedule:
    result = schedule(event, candidates, time_limit=30, **options)
    assert violations(event, candidates, result) == []
    return result


@pytest.mark.parametrize("method", sorted(SCHEDULERS), ids=sorted(SCHEDULERS))
@QUICK
@given(generated=events())
def test_every_schedule_obeys_every_rule(method: str, generated: tuple[Event, list[Candidate]]) -> None:
    event, candidates = generated
    result = run(event, candidates, method=method)
    assert not result.time_limited


@pytest.mark.parametrize("method", ["optimal", "integrated"])
@QUICK
@given(generated=events(max_participants=5, max_slots=3))
def test_small_events_reach_the_brute_force_optimum(method: str, generated: tuple[Event, list[Candidate]]) -> None:
    event, candidates = generated
    assume(search_space(event, candidates) <= 20_000)
    result = run(event, candidates, method=method)
    assert signed(result) == brute_force(event, candidates)
    assert result.status == "optimal"
    assert result.gap == 0.0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(generated=events())
def test_the_same_input_gives_the_same_schedule(generated: tuple[Event, list[Candidate]]) -> None:
    event, candidates = generated
    assert schedule(event, candidates) == schedule(event, list(reversed(candidates)))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(generated=events())
def test_a_second_run_keeps_confirmed_meetings_and_frees_cancelled_ones(
    generated: tuple[Event, list[Candidate]],
) -> None:
    event, candidates = generated
    first = run(event, candidates)
    confirmed = [{"a": m.a, "b": m.b, "slot": m.slot, "table": m.table} for m in first.meetings[::2]]
    cancelled = [{"a": m.a, "b": m.b, "slot": m.slot} for m in first.meetings[1::2]]
    data = event.model_dump(mode="json") | {"confirmed": confirmed, "cancelled": cancelled}
    second_event = event_from_data(data)
    second = run(second_event, candidates)
    kept = {(m.a, m.b, m.slot, m.table) for m in second.meetings if m.source == "confirmed"}
    assert kept == {(c["a"], c["b"], c["slot"], c["table"]) for c in confirmed}
    met = {frozenset((m.a, m.b)) for m in second.meetings}
    assert not met & {frozenset((c["a"], c["b"])) for c in cancelled}


def test_accepted_requests_come_before_scores() -> None:
    event = event_from_data(
        basic_event(
            tables=1,
            sessions=[{"id": "am", "start": "2025-03-01T10:00:00+09:00", "minutes": 20, "count": 1}],
            participants=[{"id": "a"}, {"id": "b"}, {"id": "c"}],
            requests=[{"by": "c", "to": "a", "status": "accepted"}],
        )
    )
    result = run(event, [("a", "b", 0.9), ("a", "c", 0.1)])
    assert [(m.a, m.b, m.source) for m in result.meetings] == [("c", "a", "accepted")]


def test_the_worst_off_participant_comes_before_the_total_score() -> None:
    # a-b scores highest, but only c-d gives d (minimum 1) a meeting; one table, one slot
    event = event_from_data(
        basic_event(
            tables=1,
            sessions=[{"id": "am", "start": "2025-03-01T10:00:00+09:00", "minutes": 20, "count": 1}],
            participants=[{"id": "a"}, {"id": "b"}, {"id": "c"}, {"id": "d", "min_meetings": 1}],
        )
    )
    result = run(event, [("a", "b", 0.9), ("c", "d", 0.2)])
    assert [(m.a, m.b) for m in result.meetings] == [("c", "d")]


def test_open_requests_come_after_minimums_and_before_scores() -> None:
    event = event_from_data(
        basic_event(
            tables=1,
            sessions=[{"id": "am", "start": "2025-03-01T10:00:00+09:00", "minutes": 20, "count": 1}],
            participants=[{"id": "a"}, {"id": "b"}, {"id": "c"}],
            requests=[{"by": "b", "to": "c"}],
        )
    )
    assert [(m.a, m.b, m.source) for m in run(event, [("a", "b", 0.9)]).meetings] == [("b", "c", "requested")]


def test_a_pair_asked_both_ways_counts_as_accepted() -> None:
    event = event_from_data(
        basic_event(
            participants=[{"id": "a"}, {"id": "b"}],
            requests=[{"by": "a", "to": "b"}, {"by": "b", "to": "a"}],
        )
    )
    assert [m.source for m in run(event, []).meetings] == ["accepted"]


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        (
            {"participants": [{"id": "a", "min_meetings": 3, "available": ["am-1"]}, {"id": "b"}]},
            "available in 1 slot only",
        ),
        ({"participants": [{"id": "a", "min_meetings": 2}, {"id": "b"}]}, "only 1 possible partner"),
        (
            {
                "participants": [{"id": "a", "min_meetings": 1}, {"id": "b", "max_meetings": 0}],
                "blocked": [],
            },
            "every candidate partner is full or blocked (1 at their maximum)",
        ),
    ],
    ids=["availability", "partners", "full"],
)
def test_infeasible_minimums_are_reported_with_a_reason(fields: dict[str, Any], why: str) -> None:
    event = event_from_data(basic_event(**fields))
    result = run(event, [("a", "b", 0.5)])
    assert [u.id for u in result.unmet_minimums] == ["a"]
    assert result.unmet_minimums[0].why.startswith(why)


def test_requests_that_cannot_be_met_say_why() -> None:
    event = event_from_data(
        basic_event(
            participants=[{"id": "a", "available": ["am-1"]}, {"id": "b", "available": ["am-2"]}, {"id": "c"}],
            requests=[{"by": "a", "to": "b", "status": "accepted"}, {"by": "a", "to": "c"}],
            blocked=[{"a": "a", "b": "c", "reason": "conflict"}],
        )
    )
    result = run(event, [])
    assert {(r.by, r.to, r.why) for r in result.unscheduled_requests} == {
        ("a", "b", "no shared available slot"),
        ("a", "c", "the pair is blocked as a conflict of interest"),
    }


def test_tables_are_assigned_in_order_and_confirmed_tables_are_kept() -> None:
    event = event_from_data(
        basic_event(
            participants=[{"id": x} for x in "abcd"],
            confirmed=[{"a": "c", "b": "d", "slot": "am-1", "table": "T01"}],
        )
    )
    result = run(event, [("a", "b", 0.5), ("a", "c", 0.4)])
    first_slot = [(m.table, m.a, m.b) for m in result.meetings if m.slot == "am-1"]
    assert first_slot[0] == ("T01", "c", "d")
    assert all(t == "T02" for t, _, _ in first_slot[1:])


@pytest.mark.parametrize(
    ("candidates", "match"),
    [
        ([("a", "zz", 0.5)], r"candidates\[0\]\.b: unknown participant 'zz'"),
        ([("a", "a", 0.5)], r"candidates\[0\]: a candidate pair needs two different participants"),
        ([("a", "b", float("nan"))], r"candidates\[0\]\.score: score must be a finite number"),
    ],
    ids=["unknown", "self", "nan"],
)
def test_bad_candidates_are_one_clear_error(candidates: list[Any], match: str) -> None:
    event = event_from_data(basic_event(participants=[{"id": "a"}, {"id": "b"}]))
    with pytest.raises(EventError, match=match):
        schedule(event, candidates)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"method": "fastest"}, "unknown scheduling method 'fastest'; accepted: optimal, integrated, greedy"),
        ({"time_limit": 0}, "time_limit must be a positive number of seconds, got 0"),
        ({"gap": 1.5}, "gap must be at least 0 and below 1, got 1.5"),
    ],
    ids=["method", "time", "gap"],
)
def test_bad_options_are_refused(options: dict[str, Any], match: str) -> None:
    event = event_from_data(basic_event(participants=[{"id": "a"}, {"id": "b"}]))
    with pytest.raises(ValueError, match=match):
        schedule(event, [], **options)


def test_scheduling_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    event = event_from_data(basic_event(participants=[{"id": "a"}, {"id": "b"}, {"id": "c"}]))
    schedule(event, [("a", "b", 0.5), ("b", "c", 0.4)])
    assert capfd.readouterr() == ("", "")


def test_an_event_without_candidates_or_participants_schedules_nothing() -> None:
    result = run(event_from_data(basic_event()), [])
    assert (result.status, result.meetings, result.objective, result.gap) == ("optimal", (), 0.0, 0.0)


@pytest.mark.slow
@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(generated=events(max_participants=7, max_slots=5))
def test_larger_small_events_reach_the_brute_force_optimum(generated: tuple[Event, list[Candidate]]) -> None:
    event, candidates = generated
    assume(search_space(event, candidates) <= 200_000)
    result = run(event, candidates)
    assert signed(result) == brute_force(event, candidates)
    assert result.status == "optimal"


def test_a_second_run_fills_what_is_left_with_late_registrations_and_new_requests() -> None:
    # three participants meet round robin in three slots (each sits out one); then d registers late, asks
    # a (accepted) and b (open) and is recommended c: d meets each of them in the slot they were free
    event = event_from_data(basic_event(participants=[{"id": "a"}, {"id": "b"}, {"id": "c"}]))
    candidates = [("a", "b", 0.9), ("a", "c", 0.8), ("b", "c", 0.7)]
    first = run(event, candidates)
    assert len(first.meetings) == 3
    confirmed = [{"a": m.a, "b": m.b, "slot": m.slot, "table": m.table} for m in first.meetings]
    later = changed(
        event,
        confirmed=confirmed,
        participants=[*event.participants, {"id": "d"}],
        requests=[{"by": "d", "to": "a", "status": "accepted"}, {"by": "d", "to": "b"}],
    )
    second = run(later, [*candidates, ("c", "d", 0.95)])
    kept = {(m.a, m.b, m.slot, m.table) for m in second.meetings if m.source == "confirmed"}
    assert kept == {(c["a"], c["b"], c["slot"], c["table"]) for c in confirmed}
    free = {
        org: ({"am-1", "am-2", "am-3"} - {m.slot for m in first.meetings if org in (m.a, m.b)}).pop() for org in "abc"
    }
    new = {(m.a, m.b): (m.slot, m.source) for m in second.meetings if m.source != "confirmed"}
    assert new == {
        ("d", "a"): (free["a"], "accepted"),
        ("d", "b"): (free["b"], "requested"),
        ("c", "d"): (free["c"], "recommended"),
    }


def test_a_run_cut_short_by_its_time_limit_says_so_and_still_obeys_every_rule() -> None:
    # 300 participants take about a second to schedule optimally; 0.05 s cuts the solver short
    rng = random.Random(7)
    ids = [f"p{k:03d}" for k in range(300)]
    event = event_from_data(
        basic_event(
            tables=60,
            types={"participant": {"min_meetings": 3, "max_meetings": 6, "max_per_session": 4}},
            sessions=[
                {"id": "am", "start": "2025-03-01T10:00:00+09:00", "minutes": 20, "count": 4},
                {"id": "pm", "start": "2025-03-01T14:00:00+09:00", "minutes": 20, "count": 4},
            ],
            participants=[{"id": org} for org in ids],
            requests=[{"by": a, "to": b} for a, b in sorted({tuple(rng.sample(ids, 2)) for _ in range(150)})],
        )
    )
    candidates = [(a, b, rng.randint(1, 1000) / 1000) for a in ids for b in rng.sample(ids, 20) if a < b]
    result = schedule(event, candidates, time_limit=0.05)
    assert violations(event, candidates, result) == []
    assert result.time_limited and result.status == "feasible", (result.status, result.time_limited)
    assert result.meetings and (result.gap is None or result.gap >= 0)
