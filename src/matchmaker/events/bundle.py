"""Everything an organiser prints and sends after scheduling, as one set of files.

``schedule_files`` names each file by its path in the output folder (``matchmaker event schedule --out
DIR`` writes them all at once, atomically):

* ``schedule.json``: the schedule document (``--format json``);
* ``summary.html`` and ``summary.json``: the organiser's summary;
* ``table-plan.csv`` and ``table-plan.xlsx``: the table plan (the workbook also has meetings per
  participant and table use per slot);
* ``agendas.html``: every participant's agenda, one printed page each;
* ``agendas/<id>.html`` and ``agendas/<id>.ics``: each participant's agenda and calendar file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from matchmaker.core.events.model import Event
from matchmaker.core.events.scheduler import Schedule
from matchmaker.core.events.summary import summarise
from matchmaker.events.agenda import agenda_html, agenda_ics
from matchmaker.events.output import schedule_document, summary_document
from matchmaker.events.plans import summary_html, table_plan_csv, table_plan_xlsx


def _json(data: Any) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def schedule_files(
    event: Event,
    result: Schedule,
    *,
    names: Mapping[str, str] | None = None,
    countries: Mapping[str, str] | None = None,
    stamp: datetime | None = None,
) -> dict[str, bytes]:
    """Every output file of a schedule, by its path in the output folder (see the module's list).

    ``names`` and ``countries`` come from the profiles (display names; ISO codes for the cross-border
    count); ``stamp`` is the calendar files' DTSTAMP (now by default).
    """
    summary = summarise(event, result, countries, names)
    ids = [p.id for p in event.participants]
    files: dict[str, bytes] = {
        "schedule.json": _json(schedule_document(event, result)),
        "summary.html": summary_html(summary).encode("utf-8"),
        "summary.json": _json(summary_document(summary)),
        "table-plan.csv": table_plan_csv(event, result, names),
        "table-plan.xlsx": table_plan_xlsx(event, result, summary, names),
    }
    if ids:
        files["agendas.html"] = agenda_html(event, result, ids, names).encode("utf-8")
    for org in ids:
        files[f"agendas/{org}.html"] = agenda_html(event, result, org, names).encode("utf-8")
        files[f"agendas/{org}.ics"] = agenda_ics(event, result, org, names, stamp=stamp)
    return files
