"""Schemathesis 4, in process, against the app's own OpenAPI: every default check, with and without the key.

Each operation is driven through the examples, coverage and fuzzing phases (within a time budget,
below). Three set-ups: the key
configured and sent; the key configured and not sent (every write must be refused); no key configured.
Requests whose validity JSON Schema cannot express are not generated (see ``filter_case``): naming the
same organisation on both sides of a pair, and weights that leave every dimension at 0. The API
answers both with 422, as the contract's descriptions say.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.config import SchemathesisConfig

from matchmaker.core.errors import UnknownOrganisation
from matchmaker.service import create_app
from tests.api.support import AUTH, KEY, SHIPPED, settings

EXAMPLES = 25
WRITES = {"PUT /v1/organisations/{org}", "DELETE /v1/organisations/{org}", "POST /v1/feedback"}
# Shipped organisations connected to nothing: a registration may relate to any of them, in any way.
_NAMED = {r.org for p in SHIPPED.values() for r in p.relations}
RELATION_TARGETS = sorted(
    p.id for p in SHIPPED.values() if not p.relations and p.government is None and p.id not in _NAMED
)


def _app(keys: list[str]) -> FastAPI:
    # An in-memory database: these runs test the HTTP layer; test_server tests the file on disk.
    return create_app(settings(api_keys=keys))


def _same_organisation(app: FastAPI, a: Any, b: Any) -> bool:
    population = app.state.service.population
    try:
        return bool(population.resolve(str(a)).id == population.resolve(str(b)).id)
    except UnknownOrganisation:
        return False


def _all_weights_zero(app: FastAPI, query: dict[str, Any]) -> bool:
    weights, dimension = query.get("weights"), query.get("dimension")
    if not isinstance(weights, str) or dimension:
        return False
    given: dict[str, float] = {}
    for part in weights.split(","):
        name, _, value = part.partition(":")
        try:
            given[name] = float(value)
        except ValueError:
            return False
    return all(given.get(d, 1.0) == 0 for d in app.state.service.population.dimensions)


# Budget: POST /v1/match takes the registration body of PUT and the query of the partners list, checked by
# the same code, whose coverage phases already drive every boundary of both; GET /v1/reports/pairings
# renders a whole report (about a second each). Both run the examples and fuzzing phases, the report
# with fewer examples, so the suite stays within CI time.
BUDGET = {
    "generation": {"max-examples": EXAMPLES, "database": "none"},
    "operations": [
        {"include-name": "POST /v1/match", "phases": {"coverage": {"enabled": False}}},
        {
            "include-name": "GET /v1/reports/pairings",
            "phases": {"coverage": {"enabled": False}},
            "generation": {"max-examples": 5},
        },
    ],
}


def _schema(app: FastAPI, *, writes_only: bool = False) -> Any:
    if writes_only:  # (``include`` does not filter a schema loaded with a config)
        schema: Any = schemathesis.openapi.from_asgi("/openapi.json", app).include(name=sorted(WRITES))
    else:
        config = SchemathesisConfig.from_dict(BUDGET)
        schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)

    @schema.hook
    def map_body(_: Any, body: Any) -> Any:
        # A relation must name an organisation of the population, which a schema cannot state (it names a
        # registered attendee as well as a shipped one): each generated relation names a shipped one.
        if isinstance(body, dict) and isinstance(body.get("relations"), list):
            body["relations"] = body["relations"][: len(RELATION_TARGETS)]
            for relation, org in zip(body["relations"], RELATION_TARGETS, strict=False):
                if isinstance(relation, dict) and "org" in relation:
                    relation["org"] = org
        return body

    @schema.hook
    def filter_case(_: Any, case: Any) -> bool:
        path = case.path_parameters or {}
        if "a" in path and "b" in path and _same_organisation(app, path["a"], path["b"]):
            return False
        body = case.body if isinstance(case.body, dict) else {}
        if body.get("organisation") is not None and body.get("organisation") == body.get("partner"):
            return False
        return not _all_weights_zero(app, case.query or {})

    return schema


with_key = _schema(_app([KEY]))
# Reads do not depend on the key (the first run covers them); without one, every write must be refused.
key_not_sent = _schema(_app([KEY]), writes_only=True)
no_key_configured = _schema(_app([]), writes_only=True)
FUZZ = hypothesis_settings(deadline=None, database=None, suppress_health_check=list(HealthCheck))
WRITES_FUZZ = hypothesis_settings(FUZZ, max_examples=EXAMPLES)
pytestmark = pytest.mark.slow


@with_key.parametrize()
@FUZZ
def test_with_the_key(case: Any) -> None:
    case.call_and_validate(headers=AUTH)


@key_not_sent.parametrize()
@WRITES_FUZZ
def test_without_the_key(case: Any) -> None:
    response = case.call_and_validate()
    if case.method == case.operation.method.upper():
        assert response.status_code in (400, 401, 413, 415, 422), response.text


@no_key_configured.parametrize()
@WRITES_FUZZ
def test_without_a_configured_key(case: Any) -> None:
    response = case.call_and_validate(headers=AUTH)
    if case.method == case.operation.method.upper():
        assert response.status_code in (400, 401, 403, 413, 415, 422), response.text
