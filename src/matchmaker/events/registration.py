"""Bulk registration of participants from the organiser's spreadsheet (CSV or XLSX), all or nothing.

The organiser's sheet has whatever headers her registration form produced; a column mapping names the
column of each participant field (``{"id": "Org ID", "name": "Company", "type": "Ticket"}``); fields
left out of the mapping are read from a column of the field's own name if there is one. Every bad row is
reported with its line number, the column and the value; if any row is bad nothing is registered.

Cells:

* ``id``: the organisation's id (a shipped profile's file stem, or the attendee's id); when there is no
  id column, the id is made from the name (``Sakana AI`` -> ``sakana-ai``; names in other scripts are
  transliterated and get a short hash: see :func:`slug`);
* ``type``: a participation type of the event (blank: the event's only type, or ``participant``);
* ``available``: slot ids or session ids separated by commas, semicolons or spaces (blank: every slot);
* ``min_meetings``, ``max_meetings``: whole numbers (blank: the type's).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from matchmaker.core.errors import Problem
from matchmaker.core.events.errors import EventError
from matchmaker.core.events.model import DEFAULT_TYPE, MAX_PARTICIPANTS, Event, Participant, changed

FIELDS: tuple[str, ...] = tuple(Participant.model_fields)
MAX_SHEET_BYTES = 32 * 1024 * 1024
SHEET_SUFFIXES = (".csv", ".xlsx")
_SEPARATORS = re.compile(r"[,;\s]+")


@dataclass(frozen=True)
class Sheet:
    """A spreadsheet's header row and data rows, each with the line (row number) it starts on."""

    name: str
    headers: tuple[str, ...]
    rows: tuple[tuple[int, tuple[Any, ...]], ...]


def _ascii_slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:64].rstrip("-")


def _latin(character: str) -> bool:
    return character.isascii() or "LATIN" in unicodedata.name(character, "")


def _han(character: str) -> bool:
    return unicodedata.name(character, "").startswith(("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH"))


def slug(name: str) -> str:
    """An organisation id made from a name: ASCII letters and digits joined by hyphens.

    A name in Latin letters becomes its letters (accents dropped). A name with letters of another
    script is transliterated where a script has one reading (kana, Devanagari, Hangul, Cyrillic, ...,
    by ``anyascii``), and gets a short hash of the whole name, so two names that read alike stay apart;
    Han characters are left to the hash, since their reading depends on the language (``富士通`` is
    Fujitsu in Japanese, not the Mandarin reading a transliteration would give). The same name always
    gives the same id.

    >>> slug("Sakana AI"), slug("  Tata Consultancy Services (TCS) "), slug("Société Générale")
    ('sakana-ai', 'tata-consultancy-services-tcs', 'societe-generale')
    >>> slug("サカナAI"), slug("株式会社"), slug("ソフトバンク株式会社")
    ('sakanaai-e13a783a36', 'org-e6843c6eb5', 'sofutobanku-d3db1e7b6a')
    """
    if all(_latin(c) for c in name if c.isalpha()):
        return _ascii_slug(name)
    from anyascii import anyascii

    text = " ".join(unicodedata.normalize("NFC", name).split())
    readable = _ascii_slug(anyascii("".join(" " if _han(c) else c for c in text)))[:48].rstrip("-")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]
    return f"{readable}-{digest}" if readable else f"org-{digest}"


def _csv(raw: bytes, name: str) -> Sheet:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise EventError(
            [
                Problem(
                    name,
                    "",
                    f"byte {err.start}",
                    f"not UTF-8 (invalid byte at position {err.start}); save the sheet as CSV UTF-8",
                )
            ]
        ) from err
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    rows: list[tuple[int, tuple[Any, ...]]] = []
    headers: tuple[str, ...] | None = None
    previous = 0
    try:
        for values in reader:
            start, previous = previous + 1, reader.line_num
            if headers is None:
                headers = tuple(v.strip() for v in values)
            else:
                rows.append((start, tuple(values)))
    except csv.Error as err:
        raise EventError([Problem(name, f"line {reader.line_num}", "", f"not a readable CSV file: {err}")]) from err
    return Sheet(name, headers or (), tuple(rows))


def _xlsx(path: Path, name: str, sheet: str | None) -> Sheet:
    import zipfile

    from openpyxl import load_workbook  # type: ignore[import-untyped, unused-ignore]

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as err:
        raise EventError([Problem(name, "", "", f"not a readable XLSX workbook ({err})")]) from err
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise EventError(
                [Problem(name, "sheet", sheet, f"no sheet {sheet!r}; the workbook has {', '.join(book.sheetnames)}")]
            )
        worksheet = book[sheet] if sheet is not None else book.worksheets[0]
        headers: tuple[str, ...] | None = None
        rows: list[tuple[int, tuple[Any, ...]]] = []
        for line, values in enumerate(worksheet.iter_rows(values_only=True), 1):
            if headers is None:
                headers = tuple("" if v is None else str(v).strip() for v in values)
            else:
                rows.append((line, tuple(values)))
    finally:
        book.close()
    return Sheet(name, headers or (), tuple(rows))


def read_sheet(path: Path, sheet: str | None = None) -> Sheet:
    """The header and rows of a CSV or XLSX file (the first sheet, or ``sheet``)."""
    name = path.name
    suffix = path.suffix.lower()
    if suffix not in SHEET_SUFFIXES:
        raise EventError([Problem(name, "", suffix or name, "a registration sheet is a .csv or .xlsx file")])
    try:
        size = path.stat().st_size
    except OSError as err:
        raise EventError([Problem(name, "", str(path), "file not found")]) from err
    if size > MAX_SHEET_BYTES:
        raise EventError([Problem(name, "", f"{size} bytes", f"file is {size} bytes; at most {MAX_SHEET_BYTES}")])
    if suffix == ".xlsx":
        return _xlsx(path, name, sheet)
    return _csv(path.read_bytes(), name)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _whole(value: Any) -> int | str:
    """A whole number from a cell, or the text of a cell that is not one."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = _text(value)
    return int(text) if re.fullmatch(r"[0-9]+", text) else text


class _Rows:
    """Turns sheet rows into participants, collecting every problem with its line and column."""

    def __init__(self, event: Event, sheet: Sheet, columns: Mapping[str, str]) -> None:
        self.event = event
        self.sheet = sheet
        self.columns = columns
        self.problems: list[Problem] = []
        self.position = {header: k for k, header in enumerate(sheet.headers)}

    def problem(self, line: int, field: str, value: Any, message: str) -> None:
        column = self.columns.get(field, field)
        self.problems.append(Problem(self.sheet.name, f"line {line}, column {column!r}", _text(value), message))

    def cell(self, values: Sequence[Any], field: str) -> Any:
        k = self.position.get(self.columns.get(field, ""), -1)
        return values[k] if 0 <= k < len(values) else None

    def participant(self, line: int, values: Sequence[Any]) -> Participant | None:
        data: dict[str, Any] = {}
        before = len(self.problems)
        name = self.cell(values, "name")
        if not _blank(name):
            data["name"] = _text(name)
        org = self.cell(values, "id")
        if not _blank(org):
            data["id"] = _text(org)
        elif "id" in self.columns:
            self.problem(line, "id", "", "the id is empty; every participant needs an id")
        elif "name" in data:
            made = slug(data["name"])
            if not made:
                self.problem(line, "name", data["name"], "no id can be made from this name (no letters or digits)")
            data["id"] = made
        else:
            self.problem(line, "name", "", "the name is empty; without an id column every participant needs a name")
        kind = self.cell(values, "type")
        if _blank(kind):
            types = list(self.event.types)
            if DEFAULT_TYPE in self.event.types or len(types) == 1:
                data["type"] = DEFAULT_TYPE if DEFAULT_TYPE in self.event.types else types[0]
            else:
                self.problem(line, "type", "", f"the participation type is empty; accepted: {', '.join(types)}")
        else:
            data["type"] = _text(kind)
            if data["type"] not in self.event.types:
                self.problem(
                    line,
                    "type",
                    kind,
                    f"unknown participation type {data['type']!r}; accepted: {', '.join(self.event.types)}",
                )
        available = self.cell(values, "available")
        if not _blank(available):
            data["available"] = [token for token in _SEPARATORS.split(_text(available)) if token]
            for token in data["available"]:
                if not self.event.knows_slot(token):
                    sessions = ", ".join(session.id for session in self.event.sessions)
                    self.problem(
                        line,
                        "available",
                        token,
                        f"unknown slot or session {token!r}; accepted: the "
                        f"sessions {sessions} or their slot ids (such as {self.event.slots[0].id})",
                    )
        for field in ("min_meetings", "max_meetings"):
            value = self.cell(values, field)
            if not _blank(value):
                number = _whole(value)
                if isinstance(number, str):
                    self.problem(line, field, value, "must be a whole number (or left blank for the type's)")
                else:
                    data[field] = number
        if len(self.problems) > before:
            return None
        try:
            participant = Participant.model_validate(data)
        except ValidationError as err:
            for e in err.errors():
                field = str(e["loc"][0]) if e["loc"] else "id"
                shown = e["input"] if not isinstance(e["input"], dict) else ""
                if field == "id":
                    message = (
                        "must be lowercase letters, digits and hyphens (at most 64, starting with a letter or "
                        "digit), like the profile file names"
                    )
                else:
                    message = e["msg"]
                self.problem(line, field, shown, message)
            return None
        contradiction = self.event.limit_problem(participant)
        if contradiction is not None:
            self.problem(line, "min_meetings", self.cell(values, "min_meetings") or "", contradiction)
            return None
        return participant


def registrations(event: Event, sheet: Sheet, columns: Mapping[str, str] | None = None) -> Event:
    """``event`` with the participants of ``sheet`` registered; every bad row is reported, or none is registered.

    ``columns`` maps participant fields to the sheet's headers; a field not mapped is read from a column
    named like the field, if there is one.

    Raises
    ------
    EventError
        With every problem, each naming the sheet, the line, the column and the value.
    """
    columns = dict(columns or {})
    unknown = [field for field in columns if field not in FIELDS]
    if unknown:
        raise EventError(
            [
                Problem(sheet.name, "columns", f, f"unknown participant field {f!r}; accepted: {', '.join(FIELDS)}")
                for f in unknown
            ]
        )
    headers = set(sheet.headers)
    missing = [(f, c) for f, c in columns.items() if c not in headers]
    if missing:
        raise EventError(
            [
                Problem(
                    sheet.name,
                    "columns",
                    c,
                    f"no column {c!r} (for {f}) in the sheet; its columns are "
                    f"{', '.join(h for h in sheet.headers if h)}",
                )
                for f, c in missing
            ]
        )
    duplicated = sorted({h for h in sheet.headers if h and sheet.headers.count(h) > 1})
    if duplicated:
        raise EventError(
            [
                Problem(sheet.name, "line 1", h, f"column {h!r} appears twice; headers must be unique")
                for h in duplicated
            ]
        )
    for field in FIELDS:
        if field not in columns and field in headers:
            columns[field] = field
    if "id" not in columns and "name" not in columns:
        raise EventError(
            [
                Problem(
                    sheet.name,
                    "columns",
                    "",
                    "map an id column or a name column (ids are made from "
                    f"names); the sheet's columns are {', '.join(h for h in sheet.headers if h)}",
                )
            ]
        )
    reader = _Rows(event, sheet, columns)
    found: list[tuple[int, Participant]] = []
    for line, values in sheet.rows:
        if all(_blank(v) for v in values):
            continue
        participant = reader.participant(line, values)
        if participant is not None:
            found.append((line, participant))
    first_line: dict[str, int] = {}
    existing = {p.id for p in event.participants}
    for line, participant in found:
        if participant.id in existing:
            reader.problem(line, "id", participant.id, f"{participant.id!r} is already registered for the event")
        elif participant.id in first_line:
            reader.problem(
                line, "id", participant.id, f"{participant.id!r} is also on line {first_line[participant.id]}"
            )
        first_line.setdefault(participant.id, line)
    if len(event.participants) + len(found) > MAX_PARTICIPANTS:
        reader.problems.append(
            Problem(sheet.name, "", str(len(found)), f"an event has at most {MAX_PARTICIPANTS} participants")
        )
    if reader.problems:
        raise EventError(sorted(reader.problems, key=lambda p: _line_of(p.field)))
    try:
        return changed(event, sheet.name, participants=[*event.participants, *(p for _, p in found)])
    except EventError as err:
        offset = len(event.participants)
        lines = [line for line, _ in found]
        raise EventError([_on_line(p, offset, lines, columns) for p in err.problems]) from err


def _line_of(field: str) -> int:
    match = re.match(r"line (\d+)", field)
    return int(match.group(1)) if match else 0


def _on_line(problem: Problem, offset: int, lines: Sequence[int], columns: Mapping[str, str]) -> Problem:
    """An event-level problem about a registered participant, moved to its line and column."""
    match = re.match(r"participants\[(\d+)\]\.?(\w*)", problem.field)
    if not match or int(match.group(1)) < offset:
        return problem
    line = lines[int(match.group(1)) - offset]
    field = match.group(2) or "id"
    return Problem(problem.file, f"line {line}, column {columns.get(field, field)!r}", problem.value, problem.message)


def register(event: Event, path: Path, columns: Mapping[str, str] | None = None, *, sheet: str | None = None) -> Event:
    """``event`` with the participants of the CSV or XLSX file at ``path`` registered (all or nothing)."""
    return registrations(event, read_sheet(path, sheet), columns)
