"""Query and path parameters: the HTTP syntax of the application's queries.

Only the syntax is parsed here (``weights=compute:2,data:0.5``); every accepted value, range and
error message comes from :mod:`matchmaker.application.queries`, so the API answers exactly as the CLI
does. Limits are stated in the OpenAPI contract (``json_schema_extra``) and enforced by the application.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.exceptions import RequestValidationError

from matchmaker.application.queries import MAX_BONUS_WEIGHT, WEIGHT_NUMBER, PartnersQuery, ScoringOverrides
from matchmaker.core.defaults import DEFAULT_ENABLERS, DEFAULT_SECTOR_WEIGHT, DEFAULT_TOP, MAX_ENABLERS, MAX_TOP
from matchmaker.core.errors import SettingsError
from matchmaker.service.schemas import ID_PATTERN
from matchmaker.service.state import Service

MAX_PAGE_SIZE = 100
WEIGHT_ENTRIES_MIN = 12  # the most DIMENSION:NUMBER pairs accepted is twice the dimensions, at least this


# Dependencies are coroutines: they never block, and FastAPI would run plain functions in the thread pool.
async def get_service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(get_service)]
OrgRef = Annotated[
    str,
    Path(
        min_length=1, max_length=200, description="Organisation id or name (case-insensitive).", examples=["highreso"]
    ),
]
OrgB = Annotated[
    str, Path(min_length=1, max_length=200, description="The other organisation's id or name.", examples=["yotta"])
]
OrgId = Annotated[
    str,
    Path(
        pattern=ID_PATTERN,
        description="Organisation id: lowercase letters, digits and '-'.",
        examples=["acme-robotics"],
    ),
]
Top = Annotated[
    int,
    Query(description=f"How many results (1-{MAX_TOP}).", json_schema_extra={"minimum": 1, "maximum": MAX_TOP}),
]
DimensionQuery = Annotated[str | None, Query(description="Score on this dimension alone.")]
CountryQuery = Annotated[
    str | None, Query(description="Only partners present in this country (ISO 3166-1 alpha-2, upper case).")
]
CrossBorder = Annotated[bool, Query(description="Only Japan-India pairs (the configured bridge).")]
IncludeRelated = Annotated[
    bool,
    Query(
        description="Also list organisations already connected (one part of the other, funding, existing "
        "partners, one government), with `already_connected` saying why."
    ),
]
Enablers = Annotated[
    int,
    Query(
        description=f"How many programmes and funders that can support it to list in `enablers` (0-{MAX_ENABLERS}).",
        json_schema_extra={"minimum": 0, "maximum": MAX_ENABLERS},
    ),
]


def weights_pattern(dimensions: tuple[str, ...]) -> str:
    """The ``weights`` query syntax: ``DIMENSION:NUMBER`` pairs separated by commas.

    >>> bool(re.fullmatch(weights_pattern(("data", "compute")), "compute:2,data:0.5"))
    True
    """
    entry = f"({'|'.join(re.escape(d) for d in dimensions)}):{WEIGHT_NUMBER}"
    return f"^{entry}(,{entry}){{0,{max_weight_entries(dimensions) - 1}}}$"


def max_weight_entries(dimensions: tuple[str, ...]) -> int:
    return max(len(dimensions) * 2, WEIGHT_ENTRIES_MIN)


def weight_entries(text: str, dimensions: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """``compute:2,data:0.5`` as (dimension, number) pairs; the application checks names and numbers."""
    parts = text.split(",")
    if len(parts) > max_weight_entries(dimensions):
        raise SettingsError(
            f"weights: at most {max_weight_entries(dimensions)} DIMENSION:NUMBER pairs are accepted, got {len(parts)}"
        )
    entries = []
    for part in parts:
        name, sep, value = part.partition(":")
        if not sep:
            raise SettingsError(
                f"weights {part[:100]!r}: expected DIMENSION:NUMBER pairs separated by commas, e.g. "
                f"{dimensions[0]}:2; dimensions: {', '.join(dimensions)}"
            )
        entries.append((name, value))
    return tuple(entries)


async def scoring_query(
    service: ServiceDep,
    weights: Annotated[
        str | None,
        Query(
            max_length=300,
            description="Dimension weights as DIMENSION:NUMBER pairs separated by commas, e.g. "
            "`compute:2,data:0.5` (0 to 999.999999; unnamed dimensions keep the configured weight, default 1; "
            "a dimension named twice takes its last value). At least one dimension must keep a weight above 0.",
        ),
    ] = None,
    sector_weight: Annotated[
        float | None,
        Query(
            description=f"Weight of the sector-fit bonus (configured default {DEFAULT_SECTOR_WEIGHT:g}).",
            json_schema_extra={"minimum": 0, "maximum": MAX_BONUS_WEIGHT},
        ),
    ] = None,
    cross_border_weight: Annotated[
        float | None,
        Query(
            description="Weight of the Japan-India bonus (configured default 0).",
            json_schema_extra={"minimum": 0, "maximum": MAX_BONUS_WEIGHT},
        ),
    ] = None,
    combiner: Annotated[str | None, Query(description="How both directions combine.")] = None,
) -> ScoringOverrides:
    dimensions = tuple(service.vocabulary.dimensions)
    entries = () if weights is None else weight_entries(weights, dimensions)
    return ScoringOverrides(entries, sector_weight, cross_border_weight, combiner)


Scoring = Annotated[ScoringOverrides, Depends(scoring_query)]


async def partner_options(
    scoring: Scoring,
    top: Top = DEFAULT_TOP,
    dimension: DimensionQuery = None,
    country: CountryQuery = None,
    cross_border: CrossBorder = False,
    include_related: IncludeRelated = False,
    enablers: Enablers = DEFAULT_ENABLERS,
) -> PartnersQuery:
    """The options of a partner list (the organisation is the route's), as the application's query."""
    return PartnersQuery(
        "",
        top,
        dimension=dimension,
        country=country,
        cross_border=cross_border,
        scoring=scoring,
        include_related=include_related,
        enablers=enablers,
    )


PartnerOptions = Annotated[PartnersQuery, Depends(partner_options)]


def _declared_query_parameters(request: Request) -> frozenset[str] | None:
    """The query parameters the contract declares for this request's operation (None: not in the contract)."""
    template = getattr(request.scope.get("route"), "path_format", None)
    method = "get" if request.method == "HEAD" else request.method.lower()
    known: dict[tuple[str | None, str], frozenset[str] | None] = request.app.state.__dict__.setdefault(
        "query_parameters", {}
    )
    if (template, method) not in known:
        operation = request.app.openapi().get("paths", {}).get(template, {}).get(method)
        known[(template, method)] = (
            None
            if operation is None
            else frozenset(p["name"] for p in operation.get("parameters", []) if p.get("in") == "query")
        )
    return known[(template, method)]


def refuse_unknown_query_parameters(request: Request) -> None:
    """A query parameter the operation does not declare is a 422 that names it and lists the accepted ones.

    A misspelt filter (``?cross_boarder=true``) would otherwise be ignored, and the answer look filtered.
    """
    if not request.query_params:
        return
    accepted = _declared_query_parameters(request)
    if accepted is None:
        return
    unknown = [name for name in dict.fromkeys(request.query_params.keys()) if name not in accepted]
    if unknown:
        listed = ", ".join(sorted(accepted)) or "none"
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("query", name),
                    "msg": f"unknown query parameter {name!r}; accepted: {listed}",
                    "input": request.query_params[name],
                }
                for name in unknown
            ]
        )
