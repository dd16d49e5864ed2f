"""Agendas (HTML, iCalendar), the table plan (CSV, XLSX), the organiser summary and the JSON documents."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime

import pytest
from icalendar import Calendar
from openpyxl import load_workbook  # type: ignore[import-untyped, unused-ignore]

from matchmaker.core.errors import UnknownOrganisation
from matchmaker.core.events.model import Event, changed, event_from_data
from matchmaker.core.events.scheduler import Candidate, Schedule, schedule
from matchmaker.core.events.summary import summarise
from matchmaker.events.agenda import agenda_html, agenda_ics, meeting_uid
from matchmaker.events.output import agenda_document, schedule_document, summary_document
from matchmaker.events.plans import summary_html, table_plan_csv, table_plan_xlsx

from .strategies import basic_event

HOSTILE = '=HYPERLINK("http://evil.example")<script>alert(1)</script>'
STAMP = datetime(2025, 2, 1, 9, 0, tzinfo=UTC)
CANDIDATES = [
    Candidate("a", "b", 0.9, ("data: a offers records -> b needs records", "compute: b offers GPUs -> a needs GPUs")),
    Candidate("a", "c", 0.6, ("talent: c offers researchers -> a needs researchers",)),
    Candidate("b", "c", 0.5, (HOSTILE,)),
]


def day() -> tuple[Event, Schedule]:
    event = event_from_data(
        basic_event(
            name="Partnering <Day>",
            participants=[
                {"id": "a", "name": "Alpha & Co"},
                {"id": "b", "name": HOSTILE},
                {"id": "c"},
                {"id": "d", "min_meetings": 1},
            ],
        )
    )
    return event, schedule(event, CANDIDATES)


def test_an_agenda_is_printable_self_contained_and_escaped() -> None:
    event, result = day()
    page = agenda_html(event, result, "a")
    assert page.startswith("<!DOCTYPE html>")
    assert "default-src 'none'" in page and "@media print" in page and "@page" in page
    assert not re.search(r"<(script|img|link(?! rel=\"icon\" href=\"data:,\")|iframe)\b", page)
    assert not re.search(r"""(src|href)=["'](?!data:)""", page)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "Alpha &amp; Co" in page and "Partnering &lt;Day&gt;" in page
    assert page.count('<tr><td class="time">') == len(result.agenda("a")) == 2
    assert "10:00–10:20" in page and "data: a offers records -&gt; b needs records" in page


def test_agendas_of_several_participants_are_one_page_each() -> None:
    event, result = day()
    page = agenda_html(event, result, ["a", "b", "d"])
    assert page.count('<section class="agenda">') == 3
    assert "break-before: page" in page
    assert "your minimum is 1" in page  # d has no candidates


def test_an_unknown_participant_is_refused() -> None:
    event, result = day()
    with pytest.raises(UnknownOrganisation, match="unknown organisation 'zz'"):
        agenda_html(event, result, "zz")
    with pytest.raises(UnknownOrganisation):
        agenda_ics(event, result, "zz")


def test_the_calendar_file_is_valid_with_one_event_per_meeting_and_stable_uids() -> None:
    event, result = day()
    raw = agenda_ics(event, result, "a", stamp=STAMP)
    assert raw == agenda_ics(event, result, "a", stamp=STAMP)
    assert b"\r\n" in raw and all(len(line) <= 75 for line in raw.split(b"\r\n"))
    calendar = Calendar.from_ical(raw)
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"] == "-//matchmaker//event agenda//EN"
    items = calendar.walk("VEVENT")
    assert len(items) == len(result.agenda("a"))
    for item, meeting in zip(items, result.agenda("a"), strict=True):
        for key in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"):
            assert key in item
        assert item.decoded("DTSTART") == meeting.start
        assert item.decoded("DTSTAMP") == STAMP
        assert item["UID"] == meeting_uid(event, meeting)
    assert len({str(item["UID"]) for item in items}) == len(items)


def test_a_moved_meeting_keeps_its_calendar_uid() -> None:
    event, result = day()
    first = {(m.a, m.b): meeting_uid(event, m) for m in result.meetings}
    m = result.meetings[0]
    moved = changed(event, confirmed=[{"a": m.a, "b": m.b, "slot": "am-3", "table": "T02"}])
    again = schedule(moved, CANDIDATES)
    kept = next(x for x in again.meetings if {x.a, x.b} == {m.a, m.b})
    assert kept.slot == "am-3" and meeting_uid(moved, kept) == first[(m.a, m.b)]


def test_the_table_plan_csv_has_a_row_per_meeting_and_escapes_formulas() -> None:
    event, result = day()
    rows = list(csv.DictReader(io.StringIO(table_plan_csv(event, result).decode("utf-8"))))
    assert len(rows) == len(result.meetings)
    assert [(r["slot"], r["table"]) for r in rows] == [(m.slot, m.table) for m in result.meetings]
    hostile = [r for r in rows if r["a"] == "b" or r["b"] == "b"]
    assert hostile and all(not v.startswith(("=", "+", "-", "@")) for r in hostile for v in r.values())
    assert any(r["b_name"].startswith("'=HYPERLINK") or r["a_name"].startswith("'=HYPERLINK") for r in hostile)


def test_the_workbook_has_the_plan_participants_and_table_use_as_text_cells() -> None:
    event, result = day()
    summary = summarise(event, result, {"a": "JP", "b": "IN", "c": "JP"})
    book = load_workbook(io.BytesIO(table_plan_xlsx(event, result, summary)))
    assert book.sheetnames == ["table plan", "participants", "table use"]
    plan = book["table plan"]
    assert plan.max_row == len(result.meetings) + 1
    for row in plan.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                assert cell.data_type == "s" and not cell.value.startswith("=")
    assert [c.value for c in book["table use"][1]] == ["slot", "start", "tables", "used", "share"]


def test_the_summary_counts_cross_border_meetings_table_use_and_missed_minimums() -> None:
    event, result = day()
    summary = summarise(event, result, {"a": "JP", "b": "IN", "c": "JP"})
    pairs = {frozenset((m.a, m.b)) for m in result.meetings}
    expected = sum(1 for p in pairs if {"a", "b"} == p or {"b", "c"} == p)
    assert summary.cross_border == expected
    assert summary.same_country == sum(1 for p in pairs if p == {"a", "c"})
    assert [(p.id, p.missed_minimum) for p in summary.missed] == [("d", result.unmet_minimums[0].why)]
    assert sum(s.used for s in summary.slots) == len(result.meetings)
    page = summary_html(summary)
    assert "Who missed their minimum" in page and "&lt;script&gt;" in page and "<script>" not in page
    document = summary_document(summary)
    assert document["missed_minimums"][0]["id"] == "d"
    json.dumps(document)


def test_the_schedule_document_has_the_shape_of_issue_11() -> None:
    event, result = day()
    document = schedule_document(event, result)
    json.dumps(document)
    assert {"status", "objective", "bound", "meetings", "unmet_minimums"} <= set(document)
    assert document["status"] in ("optimal", "feasible")
    for meeting in document["meetings"]:
        assert {"slot", "start", "table", "a", "b", "score", "source"} <= set(meeting)
        assert datetime.fromisoformat(meeting["start"]).tzinfo is not None
        assert meeting["source"] in ("accepted", "requested", "recommended")
        assert meeting["confirmed"] is False
    assert document["unmet_minimums"] == [{"id": "d", "meetings": 0, "minimum": 1, "why": result.unmet_minimums[0].why}]
    agenda = agenda_document(event, result, "d")
    assert agenda["meetings"] == [] and agenda["unmet_minimum"]["minimum"] == 1
