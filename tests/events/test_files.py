"""Event files: the example reads and schedules; every bad file is one clear error naming the file and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from matchmaker.core.events.errors import EventError
from matchmaker.core.events.model import Event, changed, event_from_data
from matchmaker.core.events.scheduler import Candidate, schedule
from matchmaker.core.population import Population
from matchmaker.events.files import event_document, read_event
from matchmaker.loading import default_profiles_dir, load_folder
from matchmaker.views import reason_text

from .checker import violations
from .strategies import basic_event

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "india-japan-event.yaml"


def shipped_candidates(event: Event, top: int = 10) -> list[Candidate]:
    population = Population.fit(load_folder(default_profiles_dir()).profiles)
    ids = {p.id for p in event.participants}
    others = [org for org in population.index if org not in ids]
    return [
        Candidate(m.a.id, m.b.id, m.score, tuple(reason_text(r) for r in m.reasons))
        for org in sorted(ids)
        for m in population.partners(org, top=top, exclude=others)
    ]


def test_the_example_event_is_made_of_shipped_profiles_and_schedules_optimally() -> None:
    event = read_event(EXAMPLE)
    shipped = {p.id for p in load_folder(default_profiles_dir()).profiles}
    assert {p.id for p in event.participants} <= shipped
    candidates = shipped_candidates(event)
    result = schedule(event, candidates)
    assert violations(event, candidates, result) == []
    assert result.status == "optimal"
    accepted = {frozenset((r.by, r.to)) for r in event.requests if r.status == "accepted"}
    assert accepted <= {frozenset((m.a, m.b)) for m in result.meetings}
    assert all(m.reasons for m in result.meetings if m.source == "recommended")


def test_an_event_reads_back_from_its_document(tmp_path: Path) -> None:
    event = read_event(EXAMPLE)
    path = tmp_path / "copy.json"
    path.write_text(json.dumps(event_document(event)), encoding="utf-8")
    assert read_event(path) == event
    yaml_path = tmp_path / "copy.yaml"
    yaml_path.write_text(yaml.safe_dump(event_document(event), allow_unicode=True), encoding="utf-8")
    assert read_event(yaml_path) == event


def test_a_session_id_in_availability_stands_for_its_slots() -> None:
    event = read_event(EXAMPLE)
    mission = event.participant_by_id["india-ai-mission"]
    assert event.available(mission) == tuple(f"pm-{k}" for k in range(1, 7))


GOOD = "name: Day\ntables: 2\nsessions:\n  - {id: am, start: '2025-03-01T10:00:00+09:00', minutes: 20, count: 2}\n"


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "e.yaml",
            GOOD + "participants: &p\n  - {id: a}\nrequests: *p\n",
            r"^e\.yaml: line 5, column \d+: invalid YAML: YAML a",
        ),
        ("e.yaml", GOOD + "name: Again\n", r"^e\.yaml: line 5, column 1: invalid YAML: duplicate key 'name'"),
        ("e.yaml", GOOD + "colour: blue\n", r"^e\.yaml: colour: unknown key 'colour'; accepted: name, tables, types"),
        (
            "e.yaml",
            GOOD.replace("+09:00", ""),
            r"^e\.yaml: sessions\[0\]\.start: must be a date and time with a UTC offset, e\.g\. 2025-03-01T10:00",
        ),
        (
            "e.yaml",
            GOOD + "participants: [{id: a}]\nrequests: [{by: a, to: zz}]\n",
            r"^e\.yaml: requests\[0\]\.to: unknown participant 'zz'; accepted: the participants' ids \(a\)",
        ),
        (
            "e.yaml",
            GOOD + "participants: [{id: a, type: buyer}]\n",
            r"^e\.yaml: participants\[0\]\.type: unknown participation type 'buyer'; accepted: participant",
        ),
        (
            "e.yaml",
            GOOD + "participants: [{id: a, available: [am-9]}]\n",
            r"^e\.yaml: participants\[0\]\.available\[0\]: unknown slot or session 'am-9'; accepted: the sessions am",
        ),
        (
            "e.yaml",
            GOOD + "participants: [{id: a, min_meetings: 3, max_meetings: 1}]\n",
            r"^e\.yaml: participants\[0\]\.min_meetings: minimum of 3 meetings is above the maximum of 1",
        ),
        (
            "e.yaml",
            GOOD + "participants: [{id: A B}]\n",
            r"^e\.yaml: participants\[0\]\.id: must be lowercase letters, digits and hyphens, .*, got A B$",
        ),
        (
            "e.yaml",
            GOOD + "participants: [{id: a}, {id: b}]\nrequests: [{by: a, to: b, status: maybe}]\n",
            r"^e\.yaml: requests\[0\]\.status: input should be 'open', 'accepted' or 'declined', got maybe",
        ),
        (
            "e.yaml",
            GOOD + "participants: [{id: a}, {id: b}]\nblocked: [{a: a, b: b, reason: dislike}]\n",
            r"^e\.yaml: blocked\[0\]\.reason: input should be 'declined', 'related' or 'conflict', got dislike",
        ),
        (
            "e.yaml",
            GOOD + "participants: [{id: a}, {id: b}, {id: c}]\nconfirmed: [{a: a, b: b, slot: am-1, table: T01}, "
            "{a: a, b: c, slot: am-1, table: T02}]\n",
            r"^e\.yaml: confirmed\[1\]\.slot: a already meets in slot 'am-1' \(confirmed\[0\]\)",
        ),
        (
            "e.yaml",
            GOOD + "participants: [{id: a}, {id: b}]\nconfirmed: [{a: a, b: b, slot: am-1, table: T09}]\n",
            r"^e\.yaml: confirmed\[0\]\.table: table 'T09' is not open in slot 'am-1'; accepted: T01, T02",
        ),
        ("e.yaml", "- just\n- a list\n", r"^e\.yaml: an event is a mapping of fields .*, got a list"),
        ("e.json", '{"name": "Day", "name": "Twice"}', r"^e\.json: invalid JSON: duplicate key 'name'"),
        ("e.json", '{"name": "Day",', r"^e\.json: line 1, column 16: invalid JSON: Expecting"),
        ("e.txt", GOOD, r"^e\.txt: an event file ends in \.yaml, \.yml, \.json"),
    ],
    ids=[
        "alias",
        "duplicate-key",
        "unknown-key",
        "naive-time",
        "unknown-participant",
        "unknown-type",
        "unknown-slot",
        "min-above-max",
        "bad-id",
        "bad-status",
        "bad-reason",
        "double-booked",
        "closed-table",
        "not-a-mapping",
        "json-duplicate",
        "json-syntax",
        "suffix",
    ],
)
def test_a_bad_event_file_is_one_clear_error(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(EventError, match=message):
        read_event(path)


def test_an_unreadable_event_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EventError, match=r"^missing\.yaml: file not found$"):
        read_event(tmp_path / "missing.yaml")
    path = tmp_path / "latin.yaml"
    path.write_bytes(GOOD.encode() + b"# caf\xe9\n")
    with pytest.raises(EventError, match=r"^latin\.yaml: not UTF-8 \(invalid byte at position \d+\)$"):
        read_event(path)


def test_every_problem_is_reported_not_only_the_first() -> None:
    with pytest.raises(EventError) as caught:
        event_from_data(basic_event(participants=[{"id": "a", "colour": 1}, {"id": "b", "min_meetings": -1}]))
    assert [p.field for p in caught.value.problems] == ["participants[0].colour", "participants[1].min_meetings"]
    assert str(caught.value).endswith("(and 1 more problems)")


def test_overlapping_slots_and_clashing_ids_are_refused() -> None:
    slots = [
        {"id": "x", "start": "2025-03-01T10:00:00+09:00", "minutes": 30},
        {"id": "y", "start": "2025-03-01T10:20:00+09:00", "minutes": 30},
    ]
    with pytest.raises(
        EventError, match=r"sessions\[0\]\.slots\[1\]\.start: slot 'y' starts at .* before slot 'x' ends"
    ):
        event_from_data(basic_event(sessions=[{"id": "day", "slots": slots}]))
    with pytest.raises(EventError, match=r"slot id 'day' is also a session id"):
        event_from_data(basic_event(sessions=[{"id": "day", "slots": [slots[0] | {"id": "day"}]}]))


def test_a_second_run_event_keeps_what_was_confirmed() -> None:
    event = event_from_data(basic_event(participants=[{"id": "a"}, {"id": "b"}, {"id": "c"}]))
    later = changed(
        event,
        confirmed=[{"a": "a", "b": "b", "slot": "am-2", "table": "T02"}],
        cancelled=[{"a": "a", "b": "c", "slot": "am-1"}],
    )
    result = schedule(later, [("a", "b", 0.9), ("a", "c", 0.8), ("b", "c", 0.1)])
    assert [(m.a, m.b, m.slot, m.table, m.source) for m in result.meetings if m.a == "a"] == [
        ("a", "b", "am-2", "T02", "confirmed")
    ]
    with pytest.raises(EventError, match=r"confirmed\[0\]\.slot: unknown slot 'pm-1'"):
        changed(event, confirmed=[{"a": "a", "b": "b", "slot": "pm-1", "table": "T01"}])
