"""GET /v1/reports/pairings: the pairing report the CLI writes, served over HTTP."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool

from matchmaker.reports import ReportOptions, render_report
from matchmaker.service.errors import responses
from matchmaker.service.routes import CrossBorder, Scoring, ScoringQuery, ServiceDep, Top
from matchmaker.service.state import Service

router = APIRouter(prefix="/v1")
ReportFormat = Literal["html", "md", "csv", "json"]
_REPORT_MEDIA = {"html": "text/html", "md": "text/markdown", "csv": "text/csv", "json": "application/json"}


@router.get(
    "/reports/pairings",
    responses={
        **responses(404, 422),
        200: {"content": {m: {} for m in _REPORT_MEDIA.values()}, "description": "The report in the requested format."},
    },
    response_class=Response,
    tags=["reports"],
)
async def pairing_report(
    service: ServiceDep,
    scoring: Scoring,
    format: Annotated[ReportFormat, Query(description="Report format.")] = "html",  # noqa: A002
    top: Top = 10,
    cross_border: CrossBorder = False,
    org: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Only this organisation's partners.")
    ] = None,
) -> Response:
    """Render the ranked pairing report (the same content as `matchmaker report`)."""
    content, media_type = await run_in_threadpool(_render, service, scoring, format, top, cross_border, org)
    return Response(content, media_type=media_type)


def _render(
    service: Service, scoring: ScoringQuery, fmt: str, top: int, cross_border: bool, org: str | None
) -> tuple[bytes, str]:
    population = service.snapshot().population
    settings = scoring.settings(service.scoring, population.dimensions)
    options = ReportOptions(format=fmt, top=top, org=org, cross_border=cross_border, settings=settings)
    return render_report(population, service.profile_set, options)
