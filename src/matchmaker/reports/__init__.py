"""Rendering pairing reports people review: Markdown, self-contained HTML with charts, CSV, JSON and XLSX.

An adapter: it scores nothing itself. :func:`matchmaker.application.report.build_report` computes what a
report shows; ``iter_report`` renders it in pieces (for atomic streaming to a file with
:func:`matchmaker.atomic.write_atomic`); ``render_report`` does both in memory and is what an HTTP
endpoint calls::

    content, media_type = render_report(workspace, profile_set, ReportOptions(format="html"))
"""

from __future__ import annotations

from collections.abc import Iterator

from matchmaker.application.report import FORMATS, MEDIA_TYPES, Progress, Report, ReportOptions, build_report
from matchmaker.application.workspace import Workspace
from matchmaker.core.profile_set import ProfileSet

EXTENSIONS = {"html": ".html", "md": ".md", "csv": ".csv", "json": ".json", "xlsx": ".xlsx"}


def iter_report(report: Report, progress: Progress | None = None) -> Iterator[bytes]:
    """The report in ``report.options.format`` as a sequence of byte chunks."""
    fmt = report.options.format
    if fmt == "html":
        from matchmaker.reports.html import iter_html

        for piece in iter_html(report, progress):
            yield piece.encode("utf-8")
    elif fmt == "md":
        from matchmaker.reports.markdown import iter_markdown

        for line in iter_markdown(report):
            yield (line + "\n").encode("utf-8")
    else:
        from matchmaker.reports import tables

        yield {"csv": tables.to_csv, "json": tables.to_json, "xlsx": tables.to_xlsx}[fmt](report)


def render_report(workspace: Workspace, profile_set: ProfileSet, options: ReportOptions) -> tuple[bytes, str]:
    """The whole report as (content, media type); for formats html, md, csv, json and xlsx.

    Raises SettingsError for an unknown format or setting and UnknownOrganisation for an unknown
    ``options.org``.
    """
    report = build_report(workspace, profile_set, options)
    return b"".join(iter_report(report)), MEDIA_TYPES[report.options.format]


__all__ = ["EXTENSIONS", "FORMATS", "MEDIA_TYPES", "iter_report", "render_report"]
