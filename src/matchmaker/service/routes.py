"""The HTTP routes: thin adapters from requests to the core, answering with the CLI's JSON shapes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

import pycountry
from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from matchmaker.core.errors import MatchmakerError, SettingsError
from matchmaker.core.population import Population
from matchmaker.core.scoring import COMBINER_DESCRIPTIONS, COMBINERS, ScoringSettings
from matchmaker.service.auth import require_key
from matchmaker.service.errors import JSONBody, error, render_json, responses
from matchmaker.service.schemas import (
    ID_PATTERN,
    ExplanationOut,
    FeedbackIn,
    FeedbackOut,
    HealthOut,
    OrganisationPageOut,
    PairsOut,
    PartnersOut,
    ProfileIn,
    ProfileOut,
    VocabularyOut,
)
from matchmaker.service.state import Service, Snapshot
from matchmaker.storage import Feedback
from matchmaker.views import explanation_view, pairs_view, partners_view, profile_view

MAX_TOP = 100
MAX_PAGE_SIZE = 100
MAX_WEIGHT = 1000.0
ADHOC_ID = "ad-hoc"
COUNTRY_CODES = frozenset(c.alpha_2 for c in pycountry.countries)
_NUMBER = r"[0-9]{1,3}(\.[0-9]{1,6})?"


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
Top = Annotated[int, Query(ge=1, le=MAX_TOP, description=f"How many results (1-{MAX_TOP}).")]
DimensionQuery = Annotated[str | None, Query(max_length=64, description="Score on this dimension alone.")]
CountryQuery = Annotated[
    str | None,
    Query(max_length=2, description="Only partners present in this country (ISO 3166-1 alpha-2, upper case)."),
]
CrossBorder = Annotated[bool, Query(description="Only Japan-India pairs (the configured bridge).")]


def weights_pattern(dimensions: tuple[str, ...]) -> str:
    """The ``weights`` query syntax: ``DIMENSION:NUMBER`` pairs separated by commas.

    >>> bool(re.fullmatch(weights_pattern(("data", "compute")), "compute:2,data:0.5"))
    True
    """
    entry = f"({'|'.join(re.escape(d) for d in dimensions)}):{_NUMBER}"
    return f"^{entry}(,{entry}){{0,{max(len(dimensions) * 2, 12) - 1}}}$"


def parse_weights(text: str, dimensions: tuple[str, ...]) -> dict[str, float]:
    """``{"compute": 2.0, ...}`` from ``compute:2,...``; a dimension named twice takes its last value."""
    if not re.fullmatch(weights_pattern(dimensions), text):
        raise SettingsError(
            f"weights {text[:100]!r}: expected DIMENSION:NUMBER pairs separated by commas, e.g. "
            f"{dimensions[0]}:2; dimensions: {', '.join(dimensions)}; numbers from 0 to 999.999999"
        )
    weights: dict[str, float] = {}
    for part in text.split(","):
        name, _, value = part.partition(":")
        weights[name] = float(value)
    return weights


@dataclass(frozen=True)
class ScoringQuery:
    """Per-request scoring overrides; what is not given comes from the server's configuration."""

    weights: str | None
    sector_weight: float | None
    cross_border_weight: float | None
    combiner: str | None

    def settings(self, base: ScoringSettings, dimensions: tuple[str, ...]) -> ScoringSettings:
        """The configured settings with this request's overrides, validated (SettingsError)."""
        if self.combiner is not None and self.combiner not in COMBINERS:
            raise SettingsError(f"unknown combiner {self.combiner!r}; accepted: {', '.join(COMBINERS)}")
        weights = dict(base.dimension_weights)
        if self.weights is not None:
            weights.update(parse_weights(self.weights, dimensions))
        chosen = ScoringSettings(
            dimension_weights=weights,
            sector_weight=base.sector_weight if self.sector_weight is None else self.sector_weight,
            cross_border_weight=base.cross_border_weight
            if self.cross_border_weight is None
            else self.cross_border_weight,
            combiner=self.combiner or base.combiner,
            bridge=base.bridge,
        )
        return chosen.validated(dimensions)


async def scoring_query(
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
        Query(ge=0, le=MAX_WEIGHT, description="Weight of the sector-fit bonus (configured default 0.25)."),
    ] = None,
    cross_border_weight: Annotated[
        float | None, Query(ge=0, le=MAX_WEIGHT, description="Weight of the Japan-India bonus (configured default 0).")
    ] = None,
    combiner: Annotated[str | None, Query(max_length=20, description="How both directions combine.")] = None,
) -> ScoringQuery:
    return ScoringQuery(weights, sector_weight, cross_border_weight, combiner)


Scoring = Annotated[ScoringQuery, Depends(scoring_query)]


def _check_dimension(dimension: str | None, population: Population) -> None:
    if dimension is not None and dimension not in population.dimensions:
        raise SettingsError(f"unknown dimension {dimension!r}; accepted: {', '.join(population.dimensions)}")


def _check_country(country: str | None) -> None:
    if country is not None and country not in COUNTRY_CODES:
        raise MatchmakerError(
            f"unknown country {country!r}; give an ISO 3166-1 alpha-2 code in upper case, e.g. JP or IN"
        )


health = APIRouter(tags=["service"])
router = APIRouter(prefix="/v1")


@health.get("/healthz", response_model=HealthOut, responses=responses(503))
def healthz(service: ServiceDep) -> Response:
    """Report whether the service and its database answer."""
    try:
        service.store.ping()
    except Exception:  # any database failure means "not healthy"; the reason goes to the log
        return error(503, "the database does not answer")
    return JSONBody(
        {
            "status": "ok",
            "organisations": len(service.population),
            "registered": len(service.registered),
            "database": service.store.backend,
        }
    )


@router.get("/vocabulary", response_model=VocabularyOut, tags=["organisations"])
async def vocabulary(service: ServiceDep) -> Response:
    """List the dimensions, kinds, sectors and tags a profile may use."""
    v = service.vocabulary
    return JSONBody(
        {
            "dimensions": dict(v.dimensions),
            "kinds": list(v.kinds),
            "sectors": dict(v.sectors),
            "tags": dict(v.tags),
            "combiners": dict(COMBINER_DESCRIPTIONS),
        }
    )


@router.get("/organisations", response_model=OrganisationPageOut, responses=responses(422), tags=["organisations"])
def list_organisations(
    service: ServiceDep,
    country: CountryQuery = None,
    kind: Annotated[str | None, Query(max_length=64, description="Only this kind of organisation.")] = None,
    sector: Annotated[str | None, Query(max_length=64, description="Only organisations in this sector.")] = None,
    page: Annotated[int, Query(ge=1, le=100_000, description="Page number, from 1.")] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Results per page (1-{MAX_PAGE_SIZE}).")] = 20,
) -> Response:
    """List organisations by id, filtered by country (home or presence), kind and sector."""
    _check_country(country)
    v = service.vocabulary
    if kind is not None and kind not in v.kinds:
        raise MatchmakerError(f"unknown kind {kind!r}; accepted: {', '.join(v.kinds)}")
    if sector is not None and sector not in v.sectors:
        raise MatchmakerError(f"unknown sector {sector!r}; accepted: {', '.join(v.sectors)}")
    snapshot = service.snapshot()
    profiles = snapshot.sorted_profiles
    rows = snapshot.summaries
    if country or kind or sector:
        keep = [
            k
            for k, p in enumerate(profiles)
            if (country is None or country in p.countries)
            and (kind is None or p.kind == kind)
            and (sector is None or sector in p.sectors)
        ]
        rows = [rows[k] for k in keep]
    start = (page - 1) * page_size
    return JSONBody(
        {
            "organisations": rows[start : start + page_size],
            "total": len(rows),
            "page": page,
            "page_size": page_size,
            "version": service.profile_set.version,
        }
    )


@router.get("/organisations/{org}", response_model=ProfileOut, responses=responses(404, 422), tags=["organisations"])
def get_organisation(org: OrgRef, service: ServiceDep) -> Response:
    """Show one organisation's profile with the evidence of every claim."""
    return JSONBody(profile_view(service.population.resolve(org)))


@router.put(
    "/organisations/{org}",
    response_model=ProfileOut,
    status_code=200,
    responses={
        201: {"model": ProfileOut, "description": "Registered (new)."},
        **responses(400, 401, 403, 409, 413, 422),
    },
    dependencies=[Depends(require_key)],
    tags=["organisations"],
)
def put_organisation(org: OrgId, body: Annotated[ProfileIn, Body()], service: ServiceDep) -> Response:
    """Register or replace an attendee's profile (idempotent); it is ranked from the next request on."""
    profile = service.profile_from_body(org, body.model_dump())
    created = service.put(profile)
    return JSONBody(profile_view(profile), status_code=201 if created else 200)


@router.delete(
    "/organisations/{org}",
    status_code=204,
    response_class=Response,
    responses={204: {"description": "Deleted."}, **responses(401, 403, 404, 409, 422)},
    dependencies=[Depends(require_key)],
    tags=["organisations"],
)
def delete_organisation(org: OrgId, service: ServiceDep) -> Response:
    """Delete a registered profile (a shipped profile it replaced comes back)."""
    service.delete(org)
    return Response(status_code=204)


@router.get(
    "/organisations/{org}/partners", response_model=PartnersOut, responses=responses(404, 422), tags=["recommendations"]
)
async def partners(
    org: OrgRef,
    service: ServiceDep,
    scoring: Scoring,
    top: Top = 10,
    dimension: DimensionQuery = None,
    country: CountryQuery = None,
    cross_border: CrossBorder = False,
) -> Response:
    """Rank the best partners for an organisation, with the reasons and their evidence."""
    snapshot = service.snapshot()
    key = ("partners", org, scoring, top, dimension, country, cross_border)
    body = service.lookup(key, snapshot)
    if body is None:
        # A few milliseconds of CPU work, done here on the event loop: in a worker thread it only takes
        # turns with the loop at the GIL (measured at 10,000 organisations, 2 workers: 247 requests/s
        # from a thread pool, 292 from the loop, and p99 at 200/s 450 ms against 19 ms).
        body = service.ranked(_partners, service, snapshot, org, scoring, top, dimension, country, cross_border)
        service.remember(key, snapshot, body)
    return Response(body, media_type="application/json")


def _partners(
    service: Service,
    snapshot: Snapshot,
    org: str,
    scoring: ScoringQuery,
    top: int,
    dimension: str | None,
    country: str | None,
    cross_border: bool,
) -> bytes:
    population = snapshot.population
    profile = population.resolve(org)
    settings = scoring.settings(service.scoring, population.dimensions)
    _check_dimension(dimension, population)
    _check_country(country)
    matches = population.partners(
        profile.id,
        top=top,
        settings=settings,
        dimension=dimension,
        country=country,
        cross_border=cross_border,
        exclude=snapshot.excluded_for(profile.id),
    )
    return render_json(partners_view(profile, matches, settings))


@router.post("/match", response_model=PartnersOut, responses=responses(400, 413, 422), tags=["recommendations"])
def match(
    body: Annotated[ProfileIn, Body()],
    service: ServiceDep,
    scoring: Scoring,
    top: Top = 10,
    dimension: DimensionQuery = None,
    country: CountryQuery = None,
    cross_border: CrossBorder = False,
) -> Response:
    """Rank partners for an ad-hoc profile (id ``ad-hoc``); nothing is stored."""
    population = service.population
    adhoc_id, n = ADHOC_ID, 1
    while adhoc_id in population.index:
        adhoc_id, n = f"{ADHOC_ID}-{n}", n + 1
    profile = service.profile_from_body(adhoc_id, body.model_dump())
    settings = scoring.settings(service.scoring, population.dimensions)
    _check_dimension(dimension, population)
    _check_country(country)
    with_adhoc = population.with_profile(profile)
    matches = service.ranked(
        with_adhoc.partners,
        adhoc_id,
        top=top,
        settings=settings,
        dimension=dimension,
        country=country,
        cross_border=cross_border,
    )
    return JSONBody(partners_view(profile, matches, settings))


@router.get("/pairings", response_model=PairsOut, responses=responses(422), tags=["recommendations"])
async def pairings(
    service: ServiceDep,
    scoring: Scoring,
    top: Top = 10,
    cross_border: CrossBorder = False,
    dimension: DimensionQuery = None,
) -> Response:
    """Rank the best pairs in the whole population (pairs either side declined are left out)."""
    snapshot = service.snapshot()
    key = ("pairings", scoring, top, cross_border, dimension)
    body = service.lookup(key, snapshot)
    if body is None:
        body = await run_in_threadpool(_pairings, service, snapshot, scoring, top, cross_border, dimension)
        service.remember(key, snapshot, body)
    return Response(body, media_type="application/json")


def _pairings(
    service: Service, snapshot: Snapshot, scoring: ScoringQuery, top: int, cross_border: bool, dimension: str | None
) -> bytes:
    population = snapshot.population
    settings = scoring.settings(service.scoring, population.dimensions)
    _check_dimension(dimension, population)
    declined = snapshot.declined_pairs
    # Declined pairs are dropped from a longer ranking, so the first ``top`` of the rest are exact.
    found = population.pairs(
        top=top + len(declined),
        settings=settings,
        cross_border=cross_border,
        dimension=dimension,
        memory_budget_mb=service.settings.memory_budget_mb,
    )
    kept = [m for m in found if frozenset((m.a.id, m.b.id)) not in declined][:top]
    return render_json(pairs_view(kept, settings))


@router.get("/pairings/{a}/{b}", response_model=ExplanationOut, responses=responses(404, 422), tags=["recommendations"])
def explain(a: OrgRef, b: OrgB, service: ServiceDep, scoring: Scoring, dimension: DimensionQuery = None) -> Response:
    """Explain one pair's score: both directions, per dimension, every reason with its evidence."""
    population = service.population
    settings = scoring.settings(service.scoring, population.dimensions)
    _check_dimension(dimension, population)
    found = service.ranked(population.explain, a, b, settings=settings, dimension=dimension)
    return JSONBody(explanation_view(found, settings))


@router.post(
    "/feedback",
    response_model=FeedbackOut,
    status_code=200,
    responses={
        201: {"model": FeedbackOut, "description": "Recorded (new)."},
        **responses(400, 401, 403, 404, 413, 422),
    },
    dependencies=[Depends(require_key)],
    tags=["feedback"],
)
def feedback(body: Annotated[FeedbackIn, Body()], service: ServiceDep) -> Response:
    """Record an outcome for a pair; a declined partner is never recommended to the decliner again."""
    recorded = service.add_feedback(Feedback(body.organisation, body.partner, body.outcome))
    return JSONBody({**body.model_dump(), "recorded": recorded}, status_code=201 if recorded else 200)
