"""``matchmaker event``: from the organiser's spreadsheet to a schedule, agendas and calendar files."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

import pytest
from icalendar import Calendar
from typer.testing import CliRunner

from matchmaker.cli import app
from matchmaker.events.files import read_event

from .checker import violations

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE = EXAMPLES / "india-japan-event.yaml"
FRAME = EXAMPLES / "partnering-event.yaml"
SHEET = EXAMPLES / "partnering-event-attendees.csv"
MAP = ["--map", "id=Org ID", "--map", "name=Company", "--map", "type=Ticket", "--map", "available=Sessions"]

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def test_register_then_schedule_then_agendas(tmp_path: Path) -> None:
    day = tmp_path / "day.yaml"
    code, out, err = run("event", "register", FRAME, SHEET, *MAP, "--out", day)
    assert code == 0, err
    assert out.strip() == f"registered 24 participants from {SHEET.name}; wrote {day} (24 participants)"
    registered = read_event(day)
    example = read_event(EXAMPLE)
    assert [p.id for p in registered.participants] == [p.id for p in example.participants]
    assert [registered.available(p) for p in registered.participants] == [
        example.available(p) for p in example.participants
    ]
    folder = tmp_path / "out"
    code, out, err = run("event", "schedule", day, "--out", folder)
    assert code == 0, err
    assert out.splitlines()[0].startswith("India-Japan Sovereign AI Partnering Day: ")
    names = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    ids = [p.id for p in registered.participants]
    expected = ["schedule.json", "summary.html", "summary.json", "table-plan.csv", "table-plan.xlsx", "agendas.html"]
    assert names == sorted(expected + [f"agendas/{i}.html" for i in ids] + [f"agendas/{i}.ics" for i in ids])
    document = json.loads((folder / "schedule.json").read_text(encoding="utf-8"))
    rows = list(csv.DictReader(io.StringIO((folder / "table-plan.csv").read_text(encoding="utf-8"))))
    assert len(rows) == len(document["meetings"]) > 0
    calendar = Calendar.from_ical((folder / "agendas" / "sakana-ai.ics").read_bytes())
    mine = [m for m in document["meetings"] if "sakana-ai" in (m["a"], m["b"])]
    assert len(calendar.walk("VEVENT")) == len(mine)
    assert (folder / "agendas.html").read_text(encoding="utf-8").count('<section class="agenda">') == 24


def test_schedule_json_has_the_shape_of_issue_11_and_obeys_every_rule() -> None:
    code, out, err = run("event", "schedule", EXAMPLE, "--format", "json")
    assert code == 0, err
    document = json.loads(out)
    assert document["status"] in ("optimal", "feasible")
    assert isinstance(document["objective"], float) and isinstance(document["bound"], float)
    for meeting in document["meetings"]:
        assert {"slot", "start", "table", "a", "b", "score", "source"} <= set(meeting)
        assert datetime.fromisoformat(meeting["start"]).tzinfo is not None
        assert meeting["source"] in ("accepted", "requested", "recommended")
    for unmet in document["unmet_minimums"]:
        assert set(unmet) == {"id", "meetings", "minimum", "why"}
    # The blocks the workspace added are in the document, and none of those pairs meets.
    blocked = {frozenset((b["a"], b["b"])) for b in document["blocked"]}
    assert {frozenset(("meti", "mofa"))} < blocked
    assert not blocked & {frozenset((m["a"], m["b"])) for m in document["meetings"]}


def test_the_cli_schedule_is_the_applications(tmp_path: Path) -> None:
    from matchmaker.application.events import plan_event
    from matchmaker.cli.context import CommandContext
    from matchmaker.events.output import schedule_document
    from matchmaker.views import reason_text

    plan = plan_event(CommandContext(None, None).workspace, read_event(EXAMPLE), describe=reason_text)
    assert violations(plan.event, list(plan.prepared.candidates), plan.schedule) == []
    code, out, _ = run("event", "schedule", EXAMPLE, "--format", "json")
    assert code == 0
    assert json.loads(out) == json.loads(json.dumps(schedule_document(plan.event, plan.schedule)))


def test_one_agenda_as_html_and_as_a_calendar_file(tmp_path: Path) -> None:
    code, out, err = run("event", "agenda", EXAMPLE, "Sakana AI")
    assert code == 0, err
    assert out.startswith("<!DOCTYPE html>") and "Sakana AI" in out
    target = tmp_path / "sakana.ics"
    code, out, err = run("event", "agenda", EXAMPLE, "sakana-ai", "--format", "ics", "--out", target)
    assert code == 0, err
    assert err.startswith(f"wrote {target}: ")
    assert Calendar.from_ical(target.read_bytes())["VERSION"] == "2.0"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["schedule", "missing.yaml"], "error: missing.yaml: file not found"),
        (["agenda", EXAMPLE, "nobody-here"], "error: unknown organisation 'nobody-here'"),
        (["schedule", EXAMPLE, "--time-limit", "0"], "error: time limit must be a number of seconds from 1 to 3600"),
        (["schedule", EXAMPLE, "--candidates", "0"], "error: candidates must be a whole number from 1 to 100"),
        (["register", FRAME, SHEET, "--map", "Company", "--out", "x.yaml"], "error: --map takes FIELD=COLUMN"),
        (["register", FRAME, SHEET, "--map", "colour=Company", "--out", "x.yaml"], "error: unknown participant field"),
    ],
    ids=["missing-file", "unknown-participant", "time-limit", "candidates", "map-syntax", "map-field"],
)
def test_errors_are_one_line_and_exit_1(args: list[object], message: str) -> None:
    code, _, err = run("event", *args)
    assert code == 1
    assert err.startswith(message) and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_every_bad_row_is_reported_and_nothing_is_written(tmp_path: Path) -> None:
    sheet = tmp_path / "attendees.csv"
    sheet.write_text(
        "Org ID,Company,Ticket,Sessions\nsakana-ai,Sakana AI,startup,\nYotta!,Yotta,,\ntcs,TCS,vip,evening\n",
        encoding="utf-8",
    )
    target = tmp_path / "day.yaml"
    code, _, err = run("event", "register", FRAME, sheet, *MAP, "--out", target)
    assert code == 1 and not target.exists()
    lines = err.strip().splitlines()
    assert [line.split(": ")[2] for line in lines] == [
        "line 3, column 'Org ID'",
        "line 4, column 'Ticket'",
        "line 4, column 'Sessions'",
    ]
    assert all(line.startswith("error: attendees.csv: ") for line in lines)


def test_a_bad_event_file_names_every_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(EXAMPLE.read_text(encoding="utf-8").replace("tables: 6", "tables: 0"), encoding="utf-8")
    code, _, err = run("event", "schedule", bad)
    assert code == 1 and err.startswith("error: bad.yaml: tables: ") and "Traceback" not in err


def test_schedule_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("x")
    code, _, err = run("event", "schedule", EXAMPLE, "--out", tmp_path / "taken")
    assert code == 1 and "already exists; give a new folder" in err
    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["keep.txt"]
