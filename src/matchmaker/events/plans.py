"""The table plan (CSV and XLSX) and the organiser's summary (printable HTML).

Spreadsheet cells that would run as formulas (starting with = + - @ ...) are escaped with the reports'
rule (``matchmaker.reports.tables.escape_frame``), and every string cell is written as text.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

import pandas as pd

from matchmaker.core.events.model import Event
from matchmaker.core.events.scheduler import Schedule
from matchmaker.core.events.summary import Summary
from matchmaker.events.agenda import display_name
from matchmaker.events.page import e, page
from matchmaker.reports.tables import escape_frame

PLAN_COLUMNS = (
    "slot",
    "start",
    "end",
    "table",
    "a",
    "a_name",
    "b",
    "b_name",
    "source",
    "score",
    "reasons",
)


def table_plan(event: Event, result: Schedule, names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One row per meeting, in slot and table order: when, where, who, how it was chosen and why."""
    rows = [
        {
            "slot": m.slot,
            "start": m.start.isoformat(),
            "end": event.slot_by_id[m.slot].end.isoformat(),
            "table": m.table,
            "a": m.a,
            "a_name": display_name(event, m.a, names),
            "b": m.b,
            "b_name": display_name(event, m.b, names),
            "source": m.source,
            "score": round(m.score, 4),
            "reasons": "\n".join(m.reasons),
        }
        for m in result.meetings
    ]
    return pd.DataFrame(rows, columns=list(PLAN_COLUMNS))


def participant_table(summary: Summary) -> pd.DataFrame:
    rows = [
        {
            "id": p.id,
            "name": p.name,
            "type": p.type,
            "country": p.country or "",
            "meetings": p.meetings,
            "minimum": p.minimum,
            "maximum": "" if p.maximum is None else p.maximum,
            "missed_minimum": p.missed_minimum or "",
        }
        for p in summary.participants
    ]
    columns = ["id", "name", "type", "country", "meetings", "minimum", "maximum", "missed_minimum"]
    return pd.DataFrame(rows, columns=columns)


def slot_table(summary: Summary) -> pd.DataFrame:
    rows = [
        {"slot": s.slot, "start": s.start.isoformat(), "tables": s.tables, "used": s.used, "share": round(s.share, 3)}
        for s in summary.slots
    ]
    return pd.DataFrame(rows, columns=["slot", "start", "tables", "used", "share"])


def table_plan_csv(event: Event, result: Schedule, names: Mapping[str, str] | None = None) -> bytes:
    """The table plan as formula-escaped UTF-8 CSV."""
    return escape_frame(table_plan(event, result, names)).to_csv(index=False).encode("utf-8")


def table_plan_xlsx(event: Event, result: Schedule, summary: Summary, names: Mapping[str, str] | None = None) -> bytes:
    """A workbook: the table plan, meetings per participant and table use per slot; formula-escaped."""
    from openpyxl.styles import Alignment, Font  # type: ignore[import-untyped, unused-ignore]

    sheets = {
        "table plan": table_plan(event, result, names),
        "participants": participant_table(summary),
        "table use": slot_table(summary),
    }
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            escaped = escape_frame(frame)
            escaped.to_excel(writer, sheet_name=name, index=False)
            sheet = writer.sheets[name]
            sheet.freeze_panes = "A2"
            for cell in sheet[1]:
                cell.font = Font(bold=True)
            for k, column in enumerate(escaped.columns, 1):
                longest = max([len(str(column)), *(len(str(v)) for v in escaped[column].head(200))])
                sheet.column_dimensions[sheet.cell(1, k).column_letter].width = float(min(60, max(8, longest + 2)))
            for row in sheet.iter_rows():
                for cell in row:
                    if isinstance(cell.value, str):
                        cell.data_type = "s"  # a string is never a formula, whatever it starts with
                        if "\n" in cell.value or len(cell.value) > 60:
                            cell.alignment = Alignment(wrap_text=True, vertical="top")
    return buffer.getvalue()


def summary_html(summary: Summary) -> str:
    """The organiser's summary as one printable, self-contained HTML page."""
    participants = len(summary.participants)
    missed = summary.missed
    known = summary.cross_border + summary.same_country
    cross = f"{summary.cross_border} of {known}" if known else "0"
    unknown = f" ({summary.unknown_country} with a country unknown)" if summary.unknown_country else ""
    sources = ", ".join(f"{n} {source}" for source, n in summary.by_source) or "none"
    missed_rows = "".join(
        f"<tr><td>{e(p.name)}<br><small>{e(p.id)}</small></td><td>{p.meetings}</td><td>{p.minimum}</td>"
        f"<td>{e(p.missed_minimum or '')}</td></tr>"
        for p in missed
    )
    slot_rows = "".join(
        f"<tr><td>{e(s.slot)}</td><td>{e(s.start.strftime('%a %H:%M'))}</td><td>{s.used}</td><td>{s.tables}</td>"
        f"<td>{100 * s.share:.0f}%</td></tr>"
        for s in summary.slots
    )
    people_rows = "".join(
        f"<tr><td>{e(p.name)}<br><small>{e(p.id)}</small></td><td>{e(p.type)}</td><td>{e(p.country or '')}</td>"
        f"<td>{p.meetings}</td><td>{p.minimum}</td><td>{'' if p.maximum is None else p.maximum}</td></tr>"
        for p in sorted(summary.participants, key=lambda p: (p.meetings, p.id))
    )
    missed_section = (
        "<p>Everyone reached their minimum.</p>"
        if not missed
        else "<table><thead><tr><th>Participant</th><th>Meetings</th><th>Minimum</th><th>Why</th></tr></thead>"
        f"<tbody>{missed_rows}</tbody></table>"
    )
    return page(
        f"{summary.event} — organiser summary",
        f'<section class="agenda"><h1>{e(summary.event)}</h1><h2>Organiser summary</h2>'
        f'<p class="note">{summary.meetings} meetings for {participants} participants ({e(sources)}); '
        f"{len(missed)} below their minimum; {cross} meetings with a known country on both sides are "
        f"cross-border{e(unknown)}. Schedule {e(summary.status)}.</p>"
        f"<h2>Who missed their minimum, and why</h2>{missed_section}"
        "<h2>Table use per slot</h2><table><thead><tr><th>Slot</th><th>Start</th><th>Meetings</th><th>Tables</th>"
        f"<th>Use</th></tr></thead><tbody>{slot_rows}</tbody></table>"
        "<h2>Meetings per participant</h2><table><thead><tr><th>Participant</th><th>Type</th><th>Country</th>"
        f"<th>Meetings</th><th>Minimum</th><th>Maximum</th></tr></thead><tbody>{people_rows}</tbody></table>"
        "</section>",
    )
