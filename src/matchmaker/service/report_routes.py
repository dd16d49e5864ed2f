"""GET /v1/reports/pairings: the pairing report the CLI writes, served over HTTP.

A report is for programme staff (it is what they forward as introductions) and costs seconds of CPU,
so it needs an API key, is rendered once per population version, and one at a time.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from starlette.concurrency import run_in_threadpool

from matchmaker.application.report import ReportOptions
from matchmaker.core.defaults import DEFAULT_TOP
from matchmaker.reports import render_report
from matchmaker.service.auth import require_key
from matchmaker.service.errors import responses
from matchmaker.service.limits import REPORT_CSP
from matchmaker.service.params import CrossBorder, Scoring, ServiceDep, Top

router = APIRouter(prefix="/v1")
ReportFormat = Literal["html", "md", "csv", "json"]
_REPORT_MEDIA = {"html": "text/html", "md": "text/markdown", "csv": "text/csv", "json": "application/json"}


@router.get(
    "/reports/pairings",
    responses={
        **responses(401, 403, 404, 422, 429),
        200: {"content": {m: {} for m in _REPORT_MEDIA.values()}, "description": "The report in the requested format."},
    },
    response_class=Response,
    dependencies=[Depends(require_key)],
    tags=["reports"],
)
async def pairing_report(
    service: ServiceDep,
    scoring: Scoring,
    format: Annotated[ReportFormat, Query(description="Report format.")] = "html",  # noqa: A002
    top: Top = DEFAULT_TOP,
    cross_border: CrossBorder = False,
    org: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Only this organisation's partners.")
    ] = None,
) -> Response:
    """Render the ranked pairing report (the same content as `matchmaker report`; declined pairs left out)."""
    options = ReportOptions(format=format, top=top, org=org, cross_border=cross_border, scoring=scoring)
    snapshot = service.snapshot()
    content, media_type = await run_in_threadpool(
        service.report, options, snapshot, lambda: render_report(snapshot.workspace, service.profile_set, options)
    )
    headers = {"Content-Security-Policy": REPORT_CSP} if format == "html" else {}
    return Response(content, media_type=media_type, headers=headers)
