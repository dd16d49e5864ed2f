"""``matchmaker event register|schedule|agenda``: from the organiser's spreadsheet to agendas and calendar files."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from matchmaker.cli.context import App, command_context, err, friendly_errors, out, say_error, write_stdout
from matchmaker.cli.output import print_json

if TYPE_CHECKING:
    from matchmaker.application.events import EventPlan
    from matchmaker.core.events.model import Event

DEFAULT_TIME_LIMIT = 60.0  # seconds; the scheduler's default (300 is enough for 3,000 participants)
DEFAULT_CANDIDATES = 10


class ScheduleFormat(StrEnum):
    table = "table"
    json = "json"


class AgendaFormat(StrEnum):
    html = "html"
    ics = "ics"


class Method(StrEnum):
    optimal = "optimal"
    integrated = "integrated"
    greedy = "greedy"


EventFile = Annotated[Path, typer.Argument(help="The event file (.yaml, .yml or .json; see docs/events.md).")]
TimeLimitOption = Annotated[
    float,
    typer.Option("--time-limit", metavar="SECONDS", help="Seconds the scheduler may take (1-3600)."),
]
CandidatesOption = Annotated[
    int,
    typer.Option(metavar="N", help="Recommended partners per participant, among the participants (1-100)."),
]
MethodOption = Annotated[
    Method, typer.Option(help="optimal (HiGHS, proven optimum), integrated (the exact model) or greedy.")
]


def _event_errors(command: Callable[..., None]) -> Callable[..., None]:
    """Every problem of an event file or a sheet on its own line (``error: file: field: message``), exit 1."""
    import functools

    @functools.wraps(command)
    def wrapper(*args: object, **kwargs: object) -> None:
        from matchmaker.core.events.errors import EventError

        try:
            command(*args, **kwargs)
        except EventError as e:
            for problem in e.problems or ("invalid event",):
                say_error(str(problem))
            raise typer.Exit(1) from None

    return friendly_errors(wrapper)


@contextlib.contextmanager
def _stages() -> Iterator[Callable[[str], None] | None]:
    """The scheduler's stages on standard error while it works (only on a terminal)."""
    if not err.is_terminal:
        yield None
        return
    with err.status("scheduling") as status:
        yield lambda stage: status.update(f"scheduling: {stage}")


def _plan(
    ctx: typer.Context, event: Event, *, candidates: int, method: str, time_limit: float, quiet: bool = False
) -> EventPlan:
    from matchmaker.application.events import plan_event
    from matchmaker.views import reason_text

    workspace = command_context(ctx).workspace
    with _stages() as progress:
        plan = plan_event(
            workspace,
            event,
            describe=reason_text,
            top=candidates,
            method=method,
            time_limit=time_limit,
            progress=progress,
        )
    prepared = plan.prepared
    if not quiet and prepared.without_profile:
        shown = ", ".join(prepared.without_profile[:5]) + (", ..." if len(prepared.without_profile) > 5 else "")
        err.print(
            f"note: {len(prepared.without_profile)} participants have no profile and meet through requests only: "
            f"{shown}",
            markup=False,
            highlight=False,
        )
    if not quiet and prepared.added_blocks:
        err.print(
            f"note: {len(prepared.added_blocks)} pairs of participants are kept apart by the workspace's rules "
            "(declined, or already connected): 'blocked' in --format json and schedule.json",
            markup=False,
            highlight=False,
        )
    return plan


def summary_line(plan: EventPlan) -> str:
    """One line about a schedule: meetings, participants, status, who is below a minimum, unmet requests."""
    result, event = plan.schedule, plan.event
    gap = f", gap {result.gap:.2%}" if result.status != "optimal" and result.gap is not None else ""
    limited = " (stopped at the time limit)" if result.time_limited else ""
    return (
        f"{event.name}: {len(result.meetings)} meetings for {len(event.participants)} participants, "
        f"{result.status}{gap}{limited}; {len(result.unmet_minimums)} below their minimum, "
        f"{len(result.unscheduled_requests)} requests not scheduled"
    )


def _print_table(plan: EventPlan) -> None:
    from rich.table import Table

    result, event, names = plan.schedule, plan.event, plan.prepared.names
    table = Table(title=summary_line(plan))
    for column in ("slot", "time", "table", "a", "b", "source", "score"):
        table.add_column(column, justify="right" if column == "score" else "left")
    for m in result.meetings:
        end = event.slot_by_id[m.slot].end
        table.add_row(
            m.slot,
            f"{m.start:%H:%M}-{end:%H:%M}",
            m.table,
            names.get(m.a, m.a),
            names.get(m.b, m.b),
            m.source,
            f"{m.score:.3f}",
        )
    out.print(table)
    for unmet in result.unmet_minimums:
        write_stdout(f"below minimum: {unmet.id} has {unmet.meetings} of {unmet.minimum}: {unmet.why}" + "\n")
    for request in result.unscheduled_requests:
        write_stdout(f"not scheduled: {request.status} request {request.by} -> {request.to}: {request.why}" + "\n")


def _check_folder(folder: Path) -> None:
    from matchmaker.core.errors import MatchmakerError

    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise MatchmakerError(f"{str(folder)!r} already exists; give a new folder (or an empty one) for --out")
    if not (folder.parent if str(folder.parent) else Path(".")).is_dir():
        raise MatchmakerError(f"cannot write {str(folder)!r}: folder {str(folder.parent)!r} does not exist")


def event_schedule(
    ctx: typer.Context,
    event_file: EventFile,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            metavar="DIR",
            help="Write the schedule JSON, every agenda (HTML and .ics), the table plan (CSV, XLSX) and the "
            "organiser summary to this new folder, all at once.",
            show_default=False,
        ),
    ] = None,
    format: Annotated[  # noqa: A002 - the option is --format
        ScheduleFormat, typer.Option("--format", "-f", help="table or json (printed on standard output).")
    ] = ScheduleFormat.table,
    time_limit: TimeLimitOption = DEFAULT_TIME_LIMIT,
    candidates: CandidatesOption = DEFAULT_CANDIDATES,
    method: MethodOption = Method.optimal,
) -> None:
    """Schedule an event's 1:1 meetings: who meets whom, when and at which table.

    Accepted requests first, then everyone's minimum (the worst-off first), open requests, then the
    recommended pairs by score; every limit holds.

    Example: matchmaker event schedule examples/india-japan-event.yaml --out day/
    """
    from matchmaker.application.events import check_time_limit
    from matchmaker.events.files import read_event

    check_time_limit(time_limit)
    if out_dir is not None:
        _check_folder(out_dir)
    event = read_event(event_file)
    plan = _plan(ctx, event, candidates=candidates, method=method.value, time_limit=time_limit)
    if out_dir is not None:
        _write_folder(out_dir, plan)
    if format is ScheduleFormat.json:
        from matchmaker.events.output import schedule_document

        print_json(schedule_document(plan.event, plan.schedule))
    elif out_dir is not None:
        write_stdout(summary_line(plan) + "\n")
        participants = len(plan.event.participants)
        write_stdout(
            f"wrote {out_dir}: schedule.json, summary.html, summary.json, table-plan.csv, table-plan.xlsx, "
            f"agendas.html and {participants} agendas (agendas/ID.html, agendas/ID.ics)" + "\n"
        )
    else:
        _print_table(plan)


def _write_folder(folder: Path, plan: EventPlan) -> None:
    from matchmaker.atomic import new_folder
    from matchmaker.events.bundle import schedule_files

    files = schedule_files(plan.event, plan.schedule, names=plan.prepared.names, countries=plan.prepared.countries)
    with new_folder(folder) as staging:
        for name, content in files.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)


def _participant(plan: EventPlan, ctx: typer.Context, org: str) -> str:
    """The participant ``org`` names: an id of the event, or a name or alias of one of its participants."""
    from matchmaker.core.errors import UnknownOrganisation

    ids = {p.id for p in plan.event.participants}
    if org in ids:
        return org
    with contextlib.suppress(UnknownOrganisation):
        found = command_context(ctx).workspace.resolve(org).id
        if found in ids:
            return found
    lowered = org.lower()
    close = sorted(i for i in ids if lowered in i or i in lowered)[:5]
    raise UnknownOrganisation(org, close)


def event_agenda(
    ctx: typer.Context,
    event_file: EventFile,
    org: Annotated[str, typer.Argument(help="The participant: an id of the event, or a participant's name.")],
    format: Annotated[  # noqa: A002 - the option is --format
        AgendaFormat, typer.Option("--format", "-f", help="html (printable) or ics (a calendar file).")
    ] = AgendaFormat.html,
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", metavar="FILE", help="Write here, atomically (default: standard output).", show_default=False
        ),
    ] = None,
    time_limit: TimeLimitOption = DEFAULT_TIME_LIMIT,
    candidates: CandidatesOption = DEFAULT_CANDIDATES,
) -> None:
    """One participant's agenda: time, table, partner and the top reasons to meet.

    The event is scheduled as `matchmaker event schedule` schedules it (the same input gives the same
    schedule); for every agenda at once use `matchmaker event schedule --out DIR`.

    Example: matchmaker event agenda examples/india-japan-event.yaml sakana-ai --format ics --out sakana-ai.ics
    """
    from matchmaker.application.events import check_time_limit
    from matchmaker.atomic import check_target, write_atomic
    from matchmaker.events.agenda import agenda_html, agenda_ics
    from matchmaker.events.files import read_event

    check_time_limit(time_limit)
    if out_file is not None:
        check_target(out_file)
    event = read_event(event_file)
    plan = _plan(ctx, event, candidates=candidates, method="optimal", time_limit=time_limit, quiet=True)
    chosen = _participant(plan, ctx, org)
    names = plan.prepared.names
    if format is AgendaFormat.ics:
        content = agenda_ics(plan.event, plan.schedule, chosen, names)
    else:
        content = agenda_html(plan.event, plan.schedule, chosen, names).encode("utf-8")
    if out_file is not None:
        write_atomic(out_file, [content])
        meetings = len(plan.schedule.agenda(chosen))
        err.print(f"wrote {out_file}: {meetings} meetings for {chosen}", markup=False, highlight=False)
    elif hasattr(sys.stdout, "buffer"):
        sys.stdout.flush()
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()
    else:  # a text-only stream (some test runners)
        write_stdout(content.decode("utf-8"))


def _columns(entries: list[str]) -> dict[str, str]:
    from matchmaker.core.errors import SettingsError
    from matchmaker.events.registration import FIELDS

    columns: dict[str, str] = {}
    for entry in entries:
        field, sep, column = entry.partition("=")
        field, column = field.strip(), column.strip()
        if not sep or not field or not column:
            raise SettingsError(
                f"--map takes FIELD=COLUMN (e.g. --map name=Company), got {entry!r}; fields: {', '.join(FIELDS)}"
            )
        if field not in FIELDS:
            raise SettingsError(f"unknown participant field {field!r} in --map; accepted: {', '.join(FIELDS)}")
        columns[field] = column
    return columns


def event_register(
    event_file: EventFile,
    sheet: Annotated[Path, typer.Argument(help="The attendees: a CSV (UTF-8) or XLSX sheet with a header row.")],
    out_file: Annotated[
        Path,
        typer.Option(
            "--out", "-o", metavar="FILE", help="The new event file (.yaml, .yml or .json), written atomically."
        ),
    ],
    mapping: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            "-m",
            metavar="FIELD=COLUMN",
            help="Which column holds a participant field (repeatable): id, name, type, available, min_meetings, "
            "max_meetings. Unmapped fields are read from a column named like the field.",
            show_default=False,
        ),
    ] = None,
    sheet_name: Annotated[
        str | None, typer.Option("--sheet", help="The XLSX sheet to read (default: the first).", show_default=False)
    ] = None,
) -> None:
    """Register the attendees of the organiser's spreadsheet for an event, all or nothing.

    Every bad row is reported with its line, the column and the value, and then nothing is written.
    Without an id column, ids are made from the names (see docs/events.md).

    Example: matchmaker event register examples/partnering-event.yaml examples/partnering-event-attendees.csv
    --map id="Org ID" --map name=Company --map type=Ticket --map available=Sessions --out day.yaml
    """
    from matchmaker.atomic import check_target
    from matchmaker.events.files import read_event_data, write_event
    from matchmaker.events.registration import register

    columns = _columns(list(mapping or []))
    check_target(out_file)
    data, event = read_event_data(event_file)
    registered = register(event, sheet, columns, sheet=sheet_name)
    added = registered.participants[len(event.participants) :]
    data["participants"] = [
        *(data.get("participants") or []),
        *(p.model_dump(mode="json", exclude_defaults=True) for p in added),
    ]
    write_event(out_file, data)
    write_stdout(
        f"registered {len(added)} participants from {sheet.name}; wrote {out_file} "
        f"({len(registered.participants)} participants)" + "\n"
    )


def register_commands(group: typer.Typer) -> None:
    group.command("register")(_event_errors(event_register))
    group.command("schedule")(_event_errors(event_schedule))
    group.command("agenda")(_event_errors(event_agenda))


def register(app: typer.Typer) -> None:
    group = App(
        help="Matchmaking events: register attendees, schedule 1:1 meetings, print agendas.", no_args_is_help=True
    )
    register_commands(group)
    app.add_typer(group, name="event")
