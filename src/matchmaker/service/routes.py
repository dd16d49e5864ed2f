"""The HTTP routes: parse the request, ask the application, render the JSON shape the CLI prints too."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Response
from starlette.concurrency import run_in_threadpool

from matchmaker.application.directory import OrganisationsQuery, organisation_page
from matchmaker.application.queries import ExplainQuery, PairsQuery
from matchmaker.core.defaults import DEFAULT_ENABLERS, DEFAULT_TOP
from matchmaker.core.scoring import combiner_descriptions
from matchmaker.service.auth import require_key
from matchmaker.service.bodies import StrictJSONRoute
from matchmaker.service.errors import JSONBody, error, render_json, responses
from matchmaker.service.params import (
    MAX_PAGE_SIZE,
    CountryQuery,
    CrossBorder,
    DimensionQuery,
    Enablers,
    IncludeRelated,
    OrgB,
    OrgId,
    OrgRef,
    PartnerOptions,
    Scoring,
    ServiceDep,
    Top,
)
from matchmaker.service.schemas import FeedbackIn, FeedbackOut, HealthOut, OrganisationPageOut, ProfileIn, VocabularyOut
from matchmaker.shapes import ExplanationOut, PairsOut, PartnersOut, ProfileOut
from matchmaker.storage import Feedback
from matchmaker.views import explanation_view, pairs_view, partners_view, profile_summary, profile_view

health = APIRouter(tags=["service"], route_class=StrictJSONRoute)
WARNINGS_HEADER = "X-Matchmaker-Warnings"
# On a registration whose new texts are embedded in the background: ranked from its words and tags until
# then (``embedding_backlog`` in /healthz counts what is left).
EMBEDDING_HEADER = "X-Matchmaker-Embedding"
router = APIRouter(prefix="/v1", route_class=StrictJSONRoute)


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
            "embedding_backlog": service.backfill.backlog,
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
            "combiners": combiner_descriptions(),
            "attributes": {
                name: {
                    "description": a.description,
                    "dimensions": list(a.dimensions),
                    "values": {value: spec.label for value, spec in a.values.items()},
                }
                for name, a in v.attributes.items()
            },
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
    query = OrganisationsQuery(country, kind, sector, page, page_size)
    found, total = organisation_page(service.snapshot().sorted_profiles, service.vocabulary, query)
    return JSONBody(
        {
            "organisations": [profile_summary(p) for p in found],
            "total": total,
            "page": page,
            "page_size": page_size,
            "version": service.profile_set.version,
        }
    )


@router.get("/organisations/{org}", response_model=ProfileOut, responses=responses(404, 422), tags=["organisations"])
def get_organisation(org: OrgRef, service: ServiceDep) -> Response:
    """Show one organisation's profile with the evidence of every claim."""
    return JSONBody(profile_view(service.workspace.resolve(org)))


@router.put(
    "/organisations/{org}",
    response_model=ProfileOut,
    status_code=200,
    responses={
        201: {"model": ProfileOut, "description": "Registered (new)."},
        **responses(400, 401, 403, 409, 413, 415, 422),
    },
    dependencies=[Depends(require_key)],
    tags=["organisations"],
)
def put_organisation(org: OrgId, body: Annotated[ProfileIn, Body()], service: ServiceDep) -> Response:
    """Register or replace an attendee's profile (idempotent); it is ranked from the next request on."""
    profile = service.profile_from_body(org, body.model_dump())
    registration = service.put(profile)
    # Items the encoder cannot read are accepted (they meet nothing) and named in a header, so the
    # response body keeps its shape: "offers.data[0]: the hybrid encoder cannot read this item ...".
    headers = {}
    if registration.warnings:
        headers[WARNINGS_HEADER] = " | ".join(f"{w.field}: {w.message}" for w in registration.warnings)
    if registration.embedding_pending:
        headers[EMBEDDING_HEADER] = "pending"
    return JSONBody(profile_view(profile), status_code=201 if registration.created else 200, headers=headers or None)


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
async def partners(org: OrgRef, service: ServiceDep, options: PartnerOptions) -> Response:
    """Rank the best partners for an organisation, with the reasons and their evidence, and its enablers."""
    query = replace(options, org=org)
    snapshot = service.snapshot()
    # A few milliseconds of CPU work, done here on the event loop: in a worker thread it only takes turns
    # with the loop at the GIL (measured at 10,000 organisations, 2 workers: 247 requests/s from a thread
    # pool, 292 from the loop, and p99 at 200/s 450 ms against 19 ms).
    body = service.answer(query, snapshot, lambda: render_json(partners_view(snapshot.workspace.partners(query))))
    return Response(body, media_type="application/json")


@router.post("/match", response_model=PartnersOut, responses=responses(400, 413, 415, 422), tags=["recommendations"])
def match(body: Annotated[ProfileIn, Body()], service: ServiceDep, options: PartnerOptions) -> Response:
    """Rank partners for an ad-hoc profile (id ``ad-hoc``); nothing is stored."""
    workspace = service.workspace
    profile = service.profile_from_body(workspace.unused_id("ad-hoc"), body.model_dump())
    query = replace(options, org=profile.id)
    found = service.ranked(workspace.partners_of_newcomer, profile, query, embed_new_texts=True)
    return JSONBody(partners_view(found))


@router.get("/pairings", response_model=PairsOut, responses=responses(422), tags=["recommendations"])
async def pairings(
    service: ServiceDep,
    scoring: Scoring,
    top: Top = DEFAULT_TOP,
    cross_border: CrossBorder = False,
    dimension: DimensionQuery = None,
    include_related: IncludeRelated = False,
    enablers: Enablers = DEFAULT_ENABLERS,
) -> Response:
    """Rank the best pairs of counterparts (declined and related pairs left out), and who can support them."""
    query = PairsQuery(
        top,
        cross_border=cross_border,
        dimension=dimension,
        scoring=scoring,
        include_related=include_related,
        enablers=enablers,
    )
    snapshot = service.snapshot()
    body = await run_in_threadpool(
        service.answer, query, snapshot, lambda: render_json(pairs_view(snapshot.workspace.pairs(query)))
    )
    return Response(body, media_type="application/json")


@router.get("/pairings/{a}/{b}", response_model=ExplanationOut, responses=responses(404, 422), tags=["recommendations"])
def explain(a: OrgRef, b: OrgB, service: ServiceDep, scoring: Scoring, dimension: DimensionQuery = None) -> Response:
    """Explain one pair's score: both directions, per dimension, every reason with its evidence."""
    query = ExplainQuery(a, b, dimension=dimension, scoring=scoring)
    return JSONBody(explanation_view(service.ranked(service.workspace.explain, query)))


@router.post(
    "/feedback",
    response_model=FeedbackOut,
    status_code=200,
    responses={
        201: {"model": FeedbackOut, "description": "Recorded (new)."},
        **responses(400, 401, 403, 404, 413, 415, 422),
    },
    dependencies=[Depends(require_key)],
    tags=["feedback"],
)
def feedback(body: Annotated[FeedbackIn, Body()], service: ServiceDep) -> Response:
    """Record an outcome for a pair; a declined partner is never recommended to the decliner again."""
    recorded = service.add_feedback(Feedback(body.organisation, body.partner, body.outcome))
    return JSONBody({**body.model_dump(), "recorded": recorded}, status_code=201 if recorded else 200)
