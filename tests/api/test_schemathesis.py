"""Schemathesis 4, in process, against the app's own OpenAPI: every default check, with and without the key.

Each operation is driven through the examples, coverage and fuzzing phases (within a time budget,
below). Three set-ups: the key configured and sent; the key configured and not sent (every write must be
refused); no key configured. A fourth reads a stored and scheduled event (the example event, under the
id the contract's examples name), so the events routes are read with real data too, not only answered
404. Requests whose validity JSON Schema cannot express are not generated (see ``filter_case``): naming
the same organisation on both sides of a pair, weights that leave every dimension at 0, a request to
oneself, an event whose parts contradict each other (ids that refer to nothing, a minimum above a
maximum). The API answers each with 422, as the contract's descriptions say; an inconsistent event the
coverage phase sends anyway is checked to be such a 422.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import yaml
from fastapi import FastAPI
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from pydantic import ValidationError
from schemathesis.config import SchemathesisConfig

from matchmaker.core.errors import UnknownOrganisation
from matchmaker.core.events.errors import EventError
from matchmaker.core.events.model import event_from_data
from matchmaker.service import create_app
from matchmaker.service.event_schemas import EventIn
from matchmaker.service.schemas import ID_PATTERN
from tests.api.support import AUTH, KEY, SHIPPED, TestClient, settings

EVENT = "partnering-day"  # the id of the contract's examples
DAY = yaml.safe_load((Path(__file__).resolve().parents[2] / "examples" / "india-japan-event.yaml").read_text("utf-8"))

EXAMPLES = 25
WRITES = {
    "PUT /v1/organisations/{org}",
    "DELETE /v1/organisations/{org}",
    "POST /v1/feedback",
    "PUT /v1/events/{event}",
    "DELETE /v1/events/{event}",
    "PUT /v1/events/{event}/participants/{org}",
    "DELETE /v1/events/{event}/participants/{org}",
    "POST /v1/events/{event}/requests",
    "POST /v1/events/{event}/requests/{by}/{to}/accept",
    "POST /v1/events/{event}/requests/{by}/{to}/decline",
    "POST /v1/events/{event}/schedule",
}
EVENT_READS = {
    "GET /v1/events/{event}",
    "GET /v1/events/{event}/schedule",
    "GET /v1/events/{event}/agendas/{org}",
}
# Shipped organisations connected to nothing: a registration may relate to any of them, in any way.
_NAMED = {r.org for p in SHIPPED.values() for r in p.relations}
RELATION_TARGETS = sorted(
    p.id for p in SHIPPED.values() if not p.relations and p.government is None and p.id not in _NAMED
)


def _app(keys: list[str]) -> FastAPI:
    # An in-memory database: these runs test the HTTP layer; test_server tests the file on disk.
    return create_app(settings(api_keys=keys))


def _with_a_scheduled_event(app: FastAPI) -> FastAPI:
    """The app with the example event stored under the id the contract's examples use, and scheduled, so
    the examples phase reads a real event, schedule and agenda (``partnering-day``, ``sakana-ai``), not
    only 404s."""
    client = TestClient(app)  # (no lifespan: the job runner starts when a job is queued)
    assert client.put(f"/v1/events/{EVENT}", json=DAY, headers=AUTH).status_code == 201
    job = client.post(f"/v1/events/{EVENT}/schedule", headers=AUTH).json()["id"]
    deadline = time.monotonic() + 120
    while client.get(f"/v1/jobs/{job}").json()["state"] != "done":
        assert time.monotonic() < deadline, "the example event was not scheduled"
        time.sleep(0.05)
    assert client.get(f"/v1/events/{EVENT}/agendas/sakana-ai").status_code == 200
    return app


def _same_organisation(app: FastAPI, a: Any, b: Any) -> bool:
    population = app.state.service.population
    try:
        return bool(population.resolve(str(a)).id == population.resolve(str(b)).id)
    except UnknownOrganisation:
        return False


def _inconsistent_event(case: Any, body: dict[str, Any]) -> bool:
    """A schema-valid event whose parts contradict each other (ids that refer to nothing, overlapping slots,
    a minimum above a maximum): JSON Schema cannot state those rules; the API answers 422 naming each."""
    if case.operation.label != "PUT /v1/events/{event}":
        return False
    try:
        valid = EventIn.model_validate(body)
    except ValidationError:
        return False  # invalid by the schema: it must be refused, and is
    try:
        event_from_data(valid.model_dump(mode="json"))
    except EventError:
        return True
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
# An event's lists may hold up to 20,000 participants, more than a body of the size cap carries: a body
# over the cap is refused with 413 before it is read, which is a rejection too.
REJECTED = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]
CHECKS = {"negative_data_rejection": {"expected-statuses": REJECTED}}
BUDGET = {
    "generation": {"max-examples": EXAMPLES, "database": "none"},
    "checks": CHECKS,
    "operations": [
        {"include-name": "POST /v1/match", "phases": {"coverage": {"enabled": False}}},
        {
            "include-name": "GET /v1/reports/pairings",
            "phases": {"coverage": {"enabled": False}},
            "generation": {"max-examples": 5},
        },
    ],
}


def _schema(app: FastAPI, *, only: set[str] | None = None) -> Any:
    if only is not None:  # (``include`` does not filter a schema loaded with operation settings)
        config = SchemathesisConfig.from_dict({"checks": CHECKS})
        schema: Any = schemathesis.openapi.from_asgi("/openapi.json", app, config=config).include(name=sorted(only))
    else:
        config = SchemathesisConfig.from_dict(BUDGET)
        schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)

    @schema.hook
    def map_body(_: Any, body: Any) -> Any:
        # A relation must name an organisation of the population, which a schema cannot state (it names a
        # registered attendee as well as a shipped one): each generated relation names a shipped one. An
        # id the schema refuses is left as it is, so a negative case stays negative (and is refused).
        if isinstance(body, dict) and isinstance(body.get("relations"), list):
            body["relations"] = body["relations"][: len(RELATION_TARGETS)]
            for relation, org in zip(body["relations"], RELATION_TARGETS, strict=False):
                valid = (
                    isinstance(relation, dict) and re.fullmatch(ID_PATTERN, str(relation.get("org", ""))) is not None
                )
                if valid:
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
        if body.get("by") is not None and body.get("by") == body.get("to"):  # a request to oneself
            return False
        if _inconsistent_event(case, body):
            return False
        return not _all_weights_zero(app, case.query or {})

    return schema


with_key = _schema(_app([KEY]))
# The run above changes and deletes events as it goes; the reads of a scheduled event run on their own.
event_reads = _schema(_with_a_scheduled_event(_app([KEY])), only=EVENT_READS)
# Reads do not depend on the key (the first run covers them); without one, every write must be refused.
key_not_sent = _schema(_app([KEY]), only=WRITES)
no_key_configured = _schema(_app([]), only=WRITES)
FUZZ = hypothesis_settings(deadline=None, database=None, suppress_health_check=list(HealthCheck))
WRITES_FUZZ = hypothesis_settings(FUZZ, max_examples=EXAMPLES)
pytestmark = pytest.mark.slow


@with_key.parametrize()
@FUZZ
def test_with_the_key(case: Any) -> None:
    if isinstance(case.body, dict) and _inconsistent_event(case, case.body):
        # (the coverage phase does not pass through ``filter_case``): such an event is refused, naming a field
        response = case.call(headers=AUTH)
        assert response.status_code == 422 and response.json()["problems"], response.text
        return
    case.call_and_validate(headers=AUTH)


@event_reads.parametrize()
@WRITES_FUZZ
def test_reading_a_scheduled_event(case: Any) -> None:
    response = case.call_and_validate()
    assert response.status_code in (200, 404, 405, 406, 422), response.text


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
