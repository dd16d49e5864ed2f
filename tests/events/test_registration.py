"""Bulk registration from CSV and XLSX: column mappings, every bad row with its line and column, all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook  # type: ignore[import-untyped, unused-ignore]

from matchmaker.core.events.errors import EventError
from matchmaker.core.events.model import Event, event_from_data
from matchmaker.events.registration import register

from .strategies import basic_event

MAPPING = {"id": "Org ID", "name": "Company", "type": "Ticket", "available": "Slots", "min_meetings": "Min"}


def event() -> Event:
    return event_from_data(
        basic_event(
            types={"participant": {}, "startup": {"min_meetings": 1, "max_meetings": 2}},
            sessions=[
                {"id": "am", "start": "2025-03-01T10:00:00+09:00", "minutes": 20, "count": 2},
                {"id": "pm", "start": "2025-03-01T14:00:00+09:00", "minutes": 20, "count": 2},
            ],
            participants=[{"id": "tcs"}],
        )
    )


def csv_file(tmp_path: Path, text: str, name: str = "sheet.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def xlsx_file(tmp_path: Path, rows: list[list[Any]]) -> Path:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    path = tmp_path / "sheet.xlsx"
    book.save(path)
    return path


def test_a_csv_sheet_registers_every_row_with_a_column_mapping(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path,
        "Org ID,Company,Ticket,Slots,Min,Notes\n"
        "sakana-ai,Sakana AI,startup,am,,vegetarian\n"
        "yotta,Yotta,,pm-1; pm-2,2,\n"
        ",,,,,\n",
        encoding="utf-8-sig",
    )
    registered = register(event(), path, MAPPING)
    new = {p.id: p for p in registered.participants if p.id != "tcs"}
    assert set(new) == {"sakana-ai", "yotta"}
    assert (new["sakana-ai"].type, new["sakana-ai"].name, new["sakana-ai"].min_meetings) == (
        "startup",
        "Sakana AI",
        None,
    )
    assert registered.available(new["sakana-ai"]) == ("am-1", "am-2")
    assert (new["yotta"].type, new["yotta"].available, new["yotta"].min_meetings) == (
        "participant",
        ("pm-1", "pm-2"),
        2,
    )


def test_ids_are_made_from_names_when_there_is_no_id_column(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "name;type\nPreferred Networks;startup\nTokyo AI (TAI);\n")  # a semicolon export
    registered = register(event(), path)
    assert [p.id for p in registered.participants] == ["tcs", "preferred-networks", "tokyo-ai-tai"]


def test_an_xlsx_sheet_registers_with_numbers_in_cells(tmp_path: Path) -> None:
    path = xlsx_file(tmp_path, [["Org ID", "Company", "Min"], ["fujitsu", "Fujitsu", 2], ["ntt", "NTT", None]])
    registered = register(event(), path, {"id": "Org ID", "name": "Company", "min_meetings": "Min"})
    assert [(p.id, p.min_meetings) for p in registered.participants[1:]] == [("fujitsu", 2), ("ntt", None)]


def test_every_bad_row_is_reported_with_its_line_and_column_and_nothing_is_registered(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path,
        "Org ID,Company,Ticket,Slots,Min\n"
        "sakana-ai,Sakana AI,startup,am,\n"  # line 2: fine
        "Yotta Ltd,Yotta,,,\n"  # line 3: a bad id
        'ntt,"NTT\nGroup",vip,,\n'  # lines 4-5: one record over two lines, an unknown type
        "fujitsu,Fujitsu,,evening,two\n"  # line 6: an unknown slot, a minimum that is not a number
        "sakana-ai,Sakana again,startup,,\n"  # line 7: a duplicate id
        "tcs,TCS,,,\n",  # line 8: already registered
    )
    with pytest.raises(EventError) as caught:
        register(event(), path, MAPPING)
    found = [(p.field, p.value) for p in caught.value.problems]
    assert found == [
        ("line 3, column 'Org ID'", "Yotta Ltd"),
        ("line 4, column 'Ticket'", "vip"),
        ("line 6, column 'Slots'", "evening"),
        ("line 6, column 'Min'", "two"),
        ("line 7, column 'Org ID'", "sakana-ai"),
        ("line 8, column 'Org ID'", "tcs"),
    ]
    assert str(caught.value).startswith("sheet.csv: line 3, column 'Org ID': must be lowercase letters")
    assert "is also on line 2" in caught.value.problems[4].message


def test_limits_and_slots_are_checked_by_the_event_rules_on_each_row(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "Org ID,Ticket,Min,Slots\nmewtant,startup,3,\nhighreso,,,evening\n")
    with pytest.raises(EventError) as caught:
        register(event(), path, {"id": "Org ID", "type": "Ticket", "min_meetings": "Min", "available": "Slots"})
    assert [(p.field, p.value) for p in caught.value.problems] == [
        ("line 2, column 'Min'", "3"),
        ("line 3, column 'Slots'", "evening"),
    ]
    assert "minimum of 3 meetings is above the maximum of 2" in caught.value.problems[0].message


@pytest.mark.parametrize(
    ("text", "columns", "match"),
    [
        ("id,name\na,A\n", {"colour": "Colour"}, r"columns: unknown participant field 'colour'; accepted: id, name"),
        (
            "id,name\na,A\n",
            {"id": "Org ID"},
            r"columns: no column 'Org ID' \(for id\) in the sheet; its columns are id, name",
        ),
        ("id,id\na,b\n", {}, r"line 1: column 'id' appears twice"),
        ("company\nA\n", {}, r"columns: map an id column or a name column"),
        ("name\n(-)\n", {}, r"line 2, column 'name': no id can be made from this name \(no letters or digits\)"),
    ],
    ids=["unknown-field", "missing-column", "duplicate-header", "no-id", "no-letters"],
)
def test_a_bad_mapping_or_header_is_one_clear_error(
    tmp_path: Path, text: str, columns: dict[str, str], match: str
) -> None:
    with pytest.raises(EventError, match=match):
        register(event(), csv_file(tmp_path, text), columns)


def test_unreadable_sheets_are_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EventError, match=r"sheet\.csv: not UTF-8 .*save the sheet as CSV UTF-8"):
        register(event(), csv_file(tmp_path, "id\ncafé\n", encoding="latin-1"))
    bad = tmp_path / "sheet.xlsx"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(EventError, match=r"sheet\.xlsx: not a readable XLSX workbook"):
        register(event(), bad)
    with pytest.raises(EventError, match=r"sheet\.ods: a registration sheet is a \.csv or \.xlsx file"):
        register(event(), tmp_path / "sheet.ods")


def test_names_in_other_scripts_get_stable_distinct_ids(tmp_path: Path) -> None:
    names = ["株式会社サカナ", "株式会社ソフト", "富士通", "टाटा कंसल्टेंसी सर्विसेज", "サカナAI"]
    path = csv_file(tmp_path, "name\n" + "\n".join(names) + "\n")
    registered = register(event(), path)
    added = registered.participants[len(event().participants) :]
    ids = [p.id for p in added]
    assert len(set(ids)) == len(names)
    assert [p.name for p in added] == names
    assert ids[0].startswith("sakana-") and ids[1].startswith("sofuto-") and ids[2].startswith("org-")
    assert ids[3].startswith("tata-") and ids[4].startswith("sakanaai-")
    again = register(event(), path)
    assert [p.id for p in again.participants] == [p.id for p in registered.participants]
