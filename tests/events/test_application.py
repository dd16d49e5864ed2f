"""The event use case: candidates among the participants, the workspace's rules as blocks, then the schedule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from matchmaker.application.events import event_candidates, plan_event
from matchmaker.application.queries import ExplainQuery
from matchmaker.application.workspace import Exclusions, Workspace, fit_population, roles_of
from matchmaker.core.errors import SettingsError
from matchmaker.core.events.model import changed, pair
from matchmaker.core.profile_set import ProfileSet
from matchmaker.embedding import encoder_choice
from matchmaker.events.files import read_event
from matchmaker.settings import load_settings
from matchmaker.views import reason_text

from .checker import violations

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "india-japan-event.yaml"


@pytest.fixture(scope="module")
def workspace(shipped: ProfileSet) -> Workspace:
    population = fit_population(shipped.profiles, shipped.vocabulary, encoding=encoder_choice(load_settings()))
    return Workspace(population, roles=roles_of(shipped.vocabulary))


def test_candidates_are_each_participants_best_partners_among_the_participants(workspace: Workspace) -> None:
    event = read_event(EXAMPLE)
    found = event_candidates(workspace, event, describe=reason_text, top=5)
    population = workspace.population
    ids = [p.id for p in event.participants]
    blocked = found.event.blocked_pairs
    expected: set[tuple[str, str]] = set()
    for org in ids:
        allowed = np.zeros(len(population), dtype=bool)
        for other in ids:
            if other != org and pair(org, other) not in blocked:
                allowed[population.index[other]] = True
        expected |= {pair(org, m.b.id) for m in population.partners(org, top=5, allowed=allowed, reasons=0)}
    requested = {pair(r.by, r.to) for r in event.requests} - set(blocked)
    assert {pair(c.a, c.b) for c in found.candidates} == expected | requested
    # Each candidate's reasons are the workspace's for the pair (the hybrid encoder gives some pairs a small
    # score no item pair makes a reason of, and those have none here either); a well-scored pair has some.
    for c in found.candidates:
        explained = workspace.explain(ExplainQuery(c.a, c.b)).match
        assert c.reasons == tuple(reason_text(r) for r in explained.reasons[:3]), (c.a, c.b)
    assert all(c.reasons for c in found.candidates if c.score > 0.05)


def test_requested_pairs_are_scored_and_explained_as_the_workspace_explains_them(workspace: Workspace) -> None:
    event = read_event(EXAMPLE)
    found = event_candidates(workspace, event, describe=reason_text, top=1)
    by_pair = {pair(c.a, c.b): c for c in found.candidates}
    for request in event.requests:
        key = pair(request.by, request.to)
        if key in found.event.blocked_pairs:
            assert key not in by_pair
            continue
        explained = workspace.explain(ExplainQuery(request.by, request.to)).match
        assert by_pair[key].score == pytest.approx(explained.score)
        assert by_pair[key].reasons == tuple(reason_text(r) for r in explained.reasons[:3])


def test_related_and_declined_pairs_become_blocks_unless_the_event_asks_for_them(workspace: Workspace) -> None:
    event = read_event(EXAMPLE)
    related = {key for key in workspace.related if key <= {p.id for p in event.participants}}
    assert related, "the example has participants already connected (bodies of one government)"
    declined = Exclusions.of([("tcs", "yotta"), ("sakana-ai", "yotta")])
    found = event_candidates(workspace.with_exclusions(declined), event, describe=reason_text)
    blocks = {pair(b.a, b.b): b for b in found.added_blocks}
    assert blocks[pair("tcs", "yotta")].reason == "declined"
    # sakana-ai and yotta have an accepted request at this event: both asked to meet here
    assert pair("sakana-ai", "yotta") not in blocks
    asked = {pair(r.by, r.to) for r in event.requests}
    for key in related:
        connected = pair(*sorted(key))
        if connected in asked or connected in {pair(b.a, b.b) for b in event.blocked}:
            assert connected not in blocks
        else:
            assert blocks[connected].reason == "related" and blocks[connected].note
    assert not {pair(c.a, c.b) for c in found.candidates} & set(blocks)


def test_participants_without_a_profile_meet_through_requests_only(workspace: Workspace) -> None:
    event = read_event(EXAMPLE)
    guest = [*event.participants, {"id": "guest-startup"}]
    event = changed(event, participants=guest, requests=[*event.requests, {"by": "guest-startup", "to": "tcs"}])
    plan = plan_event(workspace, event, describe=reason_text, time_limit=30)
    assert plan.prepared.without_profile == ("guest-startup",)
    assert violations(plan.event, list(plan.prepared.candidates), plan.schedule) == []
    assert plan.schedule.status == "optimal"
    guest_meetings = plan.schedule.agenda("guest-startup")
    assert all(m.source != "recommended" for m in guest_meetings)


def test_the_plan_schedules_every_accepted_request_with_reasons(workspace: Workspace) -> None:
    event = read_event(EXAMPLE)
    plan = plan_event(workspace, event, describe=reason_text)
    assert plan.schedule.status == "optimal"
    assert violations(plan.event, list(plan.prepared.candidates), plan.schedule) == []
    met = {pair(m.a, m.b) for m in plan.schedule.meetings}
    assert {pair(r.by, r.to) for r in event.requests if r.status == "accepted"} <= met
    assert plan.prepared.names["sakana-ai"] == "Sakana AI"
    assert plan.prepared.countries["tcs"] == "IN"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"top": 0}, r"^candidates must be a whole number from 1 to 100, got 0$"),
        ({"method": "fastest"}, r"^unknown scheduling method 'fastest'; accepted: optimal, integrated, greedy$"),
        ({"time_limit": 0.5}, r"^time limit must be a number of seconds from 1 to 3600, got 0\.5$"),
    ],
    ids=["top", "method", "time-limit"],
)
def test_bad_options_are_one_clear_error(workspace: Workspace, options: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        plan_event(workspace, read_event(EXAMPLE), describe=reason_text, **options)  # type: ignore[arg-type]
