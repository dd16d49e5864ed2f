"""``matchmaker report``: ranked pairings people review, as Markdown, HTML, CSV, JSON or XLSX."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from matchmaker.cli.context import command_context, err, friendly_errors, write_stdout
from matchmaker.cli.options import (
    CombinerOption,
    CrossBorderWeightOption,
    SectorWeightOption,
    WeightOption,
    scoring_overrides,
)
from matchmaker.core.defaults import BRIDGE_FROM, MAX_TOP, OVERSUPPLY_BELOW, UNMET_BELOW
from matchmaker.core.errors import SettingsError

SUFFIXES = {
    ".html": "html",
    ".htm": "html",
    ".md": "md",
    ".markdown": "md",
    ".csv": "csv",
    ".json": "json",
    ".xlsx": "xlsx",
}
FILE_ONLY = ("html", "xlsx")  # written to report.<ext> when --out is not given


class ReportFormat(StrEnum):
    md = "md"
    html = "html"
    csv = "csv"
    json = "json"
    xlsx = "xlsx"


FormatChoice = Annotated[
    ReportFormat | None,
    typer.Option(
        "--format",
        "-f",
        help="md, html, csv, json or xlsx (default: from --out's extension, else md).",
        show_default=False,
    ),
]


def choose_output(format: ReportFormat | None, out: Path | None) -> tuple[str, Path | None]:  # noqa: A002
    """The format (from --format, else --out's extension, else md) and the file (None: standard output)."""
    if format is not None:
        fmt = format.value
    elif out is not None and str(out) != "-":
        fmt = SUFFIXES.get(out.suffix.lower(), "")
        if not fmt:
            raise SettingsError(
                f"cannot tell the report format from {str(out)!r}; give --format "
                f"(md, html, csv, json or xlsx) or an extension: {', '.join(SUFFIXES)}"
            )
    else:
        fmt = "md"
    if out is not None and str(out) == "-":
        if fmt == "xlsx":
            raise SettingsError("an xlsx report is binary and cannot go to standard output; give --out FILE.xlsx")
        return fmt, None
    if out is None and fmt in FILE_ONLY:
        return fmt, Path(f"report.{fmt}")
    return fmt, out


@contextlib.contextmanager
def _progress() -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar on standard error while the report is scored and drawn (only on a terminal)."""
    from rich.progress import Progress, TimeElapsedColumn

    with Progress(
        *Progress.get_default_columns(), TimeElapsedColumn(), console=err, transient=True, disable=not err.is_terminal
    ) as bar:
        task = bar.add_task("Scoring pairs", total=None)

        def advance(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total)

        yield advance


def report(
    ctx: typer.Context,
    format: FormatChoice = None,  # noqa: A002 - the option is --format
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="File to write, atomically (default: standard output for md, csv and json; "
            "report.html or report.xlsx for html and xlsx; '-' for standard output).",
            show_default=False,
        ),
    ] = None,
    top: Annotated[int, typer.Option(help=f"How many top pairings (1-{MAX_TOP}).")] = 10,
    org: Annotated[
        str | None,
        typer.Option(help="Report on this organisation (id or name): its best partners.", show_default=False),
    ] = None,
    cross_border: Annotated[
        bool, typer.Option("--cross-border", help="Only Japan-India pairings and partners (no same-country ones).")
    ] = False,
    partners: Annotated[int, typer.Option(help="Partners listed per organisation (1-100).")] = 5,
    weight: WeightOption = None,
    sector_weight: SectorWeightOption = None,
    cross_border_weight: CrossBorderWeightOption = None,
    combiner: CombinerOption = None,
    unmet_below: Annotated[
        float, typer.Option(help="A need is unmet when no organisation covers it this well (0-1).", min=0.01, max=1.0)
    ] = UNMET_BELOW,
    oversupply_below: Annotated[
        float, typer.Option(help="An offer is oversupplied when nobody needs it this much (0-1).", min=0.01, max=1.0)
    ] = OVERSUPPLY_BELOW,
    bridge_from: Annotated[
        float,
        typer.Option(
            help="A Japan-India pair is a strong bridge in a dimension from this benefit (0-1).", min=0.01, max=1.0
        ),
    ] = BRIDGE_FROM,
) -> None:
    """Write a report people review: top pairings with every reason and quote, partners, gaps, settings.

    Examples:

      matchmaker report --format html --out report.html

      matchmaker report --org highreso --cross-border --format md
    """
    from matchmaker.application.report import ReportOptions, build_report
    from matchmaker.atomic import check_target, write_atomic
    from matchmaker.reports import EXTENSIONS, iter_report

    fmt, path = choose_output(format, out)
    if path is not None:
        check_target(path)  # before the slow part
    state = command_context(ctx)
    options = ReportOptions(
        format=fmt,
        top=top,
        org=org,
        cross_border=cross_border,
        partners=partners,
        scoring=scoring_overrides(weight, sector_weight, cross_border_weight, combiner),
        unmet_below=unmet_below,
        oversupply_below=oversupply_below,
        bridge_from=bridge_from,
    )
    with _progress() as advance:
        report = build_report(state.workspace, state.profile_set, options, progress=advance)
        if path is None:
            content = b"".join(iter_report(report, advance))  # whole, so a failure prints nothing
            write_stdout(content.decode("utf-8"))
            return
        if path.suffix.lower() != EXTENSIONS[fmt] and path.suffix.lower() not in ("", ".htm", ".markdown"):
            err.print(f"note: writing {fmt} to {path} (extension {path.suffix})", markup=False, highlight=False)
        size = write_atomic(path, iter_report(report, advance))
    err.print(
        f"wrote {path} ({fmt}, {size:,} bytes): {len(report.pairs)} pairings, "
        f"{len(report.sections)} organisations, {len(report.ecosystem.unmet)} unmet needs",
        markup=False,
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.command()(friendly_errors(report))
