"""Each participant's agenda: printable, self-contained HTML and an iCalendar (.ics) file.

Printed agendas are for the day itself, when phones die and venue Wi-Fi fails: one page per participant,
a print stylesheet, no scripts, fonts, images or links (a Content-Security-Policy of ``default-src
'none'`` makes that checkable), every text escaped. The iCalendar file (RFC 5545, written by the
``icalendar`` library) has one VEVENT per meeting; a meeting's UID is made from the event and the pair,
so a meeting moved in a second run updates the same calendar entry instead of adding one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from icalendar import Calendar
from icalendar import Event as CalendarEvent

from matchmaker.core.errors import UnknownOrganisation
from matchmaker.core.events.model import Event, pair
from matchmaker.core.events.scheduler import Meeting, Schedule
from matchmaker.events.page import e, page

REASONS_SHOWN = 3
PRODID = "-//matchmaker//event agenda//EN"


def display_name(event: Event, org: str, names: Mapping[str, str] | None = None) -> str:
    """The name shown for ``org``: the caller's (profile) name, else the participant's, else the id."""
    participant = event.participant_by_id.get(org)
    return (names or {}).get(org) or (participant.name if participant and participant.name else org)


def _check(event: Event, org: str) -> None:
    if org not in event.participant_by_id:
        raise UnknownOrganisation(org, [p.id for p in event.participants if org.lower() in p.id][:5])


def _partner(meeting: Meeting, org: str) -> str:
    return meeting.b if meeting.a == org else meeting.a


def _clock(moment: datetime) -> str:
    return moment.strftime("%H:%M")


def _date(moment: datetime) -> str:
    offset = moment.strftime("%z")
    return f"{moment.strftime('%A')} {moment.day} {moment.strftime('%B %Y')} (UTC{offset[:3]}:{offset[3:]})"


def _section(event: Event, result: Schedule, org: str, names: Mapping[str, str] | None) -> str:
    meetings = result.agenda(org)
    name = display_name(event, org, names)
    rows: list[str] = []
    day = None
    for m in meetings:
        if m.start.date() != day:
            day = m.start.date()
            rows.append(f'<tr class="date"><th colspan="4">{e(_date(m.start))}</th></tr>')
        end = m.start + (event.slot_by_id[m.slot].end - event.slot_by_id[m.slot].start)
        partner = _partner(m, org)
        reasons = "".join(f"<li>{e(r)}</li>" for r in m.reasons[:REASONS_SHOWN])
        rows.append(
            f'<tr><td class="time">{e(_clock(m.start))}–{e(_clock(end))}</td><td class="table">{e(m.table)}</td>'
            f'<td class="partner"><b>{e(display_name(event, partner, names))}</b><span>{e(partner)}</span></td>'
            f"<td>{f'<ul class=reasons>{reasons}</ul>' if reasons else ''}</td></tr>"
        )
    unmet = next((u for u in result.unmet_minimums if u.id == org), None)
    count = f"{len(meetings)} meeting{'s' if len(meetings) != 1 else ''}"
    note = f"{count}." if unmet is None else f"{count} (your minimum is {unmet.minimum}: {unmet.why})."
    body = (
        "<table><thead><tr><th>Time</th><th>Table</th><th>Partner</th><th>Why meet</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
        if meetings
        else ""
    )
    return (
        f'<section class="agenda"><h1>{e(name)}</h1><h2>{e(event.name)} — your meetings</h2>'
        f'<p class="note">{e(note)}</p>{body}'
        "<footer>Please arrive at your table on time; each meeting ends when the next slot begins.</footer></section>"
    )


def agenda_html(
    event: Event, result: Schedule, orgs: str | Sequence[str], names: Mapping[str, str] | None = None
) -> str:
    """The printable agenda of one participant, or of several (one page each), as one self-contained HTML page.

    Raises
    ------
    UnknownOrganisation
        If an id is not a participant of the event.
    """
    chosen = [orgs] if isinstance(orgs, str) else list(orgs)
    for org in chosen:
        _check(event, org)
    title = display_name(event, chosen[0], names) if len(chosen) == 1 else f"{len(chosen)} agendas"
    sections = "".join(_section(event, result, org, names) for org in chosen)
    return page(f"{event.name} — {title}", sections)


def meeting_uid(event: Event, meeting: Meeting) -> str:
    """A meeting's iCalendar UID: from the event's name and the pair (a pair meets at most once)."""
    a, b = pair(meeting.a, meeting.b)
    digest = hashlib.sha256(f"{event.name}\x00{a}\x00{b}".encode()).hexdigest()[:24]
    return f"{digest}@matchmaker"


def agenda_ics(
    event: Event,
    result: Schedule,
    org: str,
    names: Mapping[str, str] | None = None,
    *,
    stamp: datetime | None = None,
) -> bytes:
    """``org``'s meetings as an iCalendar file: one VEVENT per meeting, times in UTC.

    ``stamp`` is the DTSTAMP of every event (when the file was made; now by default).

    Raises
    ------
    UnknownOrganisation
        If ``org`` is not a participant of the event.
    """
    _check(event, org)
    stamp = (stamp or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"{event.name} — {display_name(event, org, names)}")
    for m in result.agenda(org):
        partner = _partner(m, org)
        slot = event.slot_by_id[m.slot]
        item = CalendarEvent()
        item.add("uid", meeting_uid(event, m))
        item.add("dtstamp", stamp)
        item.add("dtstart", m.start.astimezone(UTC))
        item.add("dtend", slot.end.astimezone(UTC))
        item.add("summary", f"Meeting with {display_name(event, partner, names)} (table {m.table})")
        item.add("location", f"{event.name}, table {m.table}")
        lines = [
            f"Partner: {display_name(event, partner, names)} ({partner})",
            f"Table: {m.table}",
            *m.reasons[:REASONS_SHOWN],
        ]
        item.add("description", "\n".join(lines))
        item.add("status", "CONFIRMED")
        item.add("transp", "OPAQUE")
        calendar.add_component(item)
    text: bytes = calendar.to_ical()
    return text
