"""Every error is JSON with a ``detail``: size cap, malformed JSON, routing, crashes; CORS from configuration."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI

from matchmaker.service.params import get_service
from tests.api.support import AUTH, TestClient, attendee


def test_body_over_the_cap_is_413_json_from_the_declared_length(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app(max_body_bytes=2048)) as client:
        body = attendee(summary="x" * 1000, aliases=["y" * 100] * 10)
        response = client.put("/v1/organisations/acme", json=body, headers=AUTH)
        assert response.status_code == 413
        assert response.json() == {"detail": "the request body is larger than 2048 bytes, the most this server accepts"}
        assert client.get("/v1/organisations/acme").status_code == 404


def test_body_over_the_cap_is_413_json_when_chunked(make_app: Callable[..., FastAPI]) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}'

    with TestClient(make_app(max_body_bytes=4096)) as client:
        response = client.post("/v1/match", content=chunks(), headers={"Content-Type": "application/json"})
        assert response.status_code == 413 and "larger than 4096 bytes" in response.json()["detail"]


def test_body_under_the_cap_passes(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app(max_body_bytes=4096)) as client:
        assert client.post("/v1/match", json=attendee()).status_code == 200


def test_the_default_cap_holds_a_profile_at_every_limit(client: TestClient) -> None:
    item = {
        "description": "d" * 300,
        "strength": 3,
        "tags": ["datasets"] * 12,
        "evidence": {"source": "s" * 200, "quote": "q" * 1000},
    }
    side = {d: [item] * 20 for d in ("data", "compute", "talent", "domain")}
    body = attendee(
        name="n" * 120,
        aliases=["a" * 120] * 10,
        presence=["JP"] * 50,
        summary="s" * 1000,
        sectors=["robotics"] * 12,
        offers=side,
        needs=side,
    )
    assert len(json.dumps(body)) > 250_000
    assert client.post("/v1/match", json=body).status_code == 200


def test_malformed_json_is_400(client: TestClient) -> None:
    response = client.post("/v1/match", content=b'{"name": ', headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("the request body is not valid JSON")


def test_validation_errors_list_every_problem(client: TestClient) -> None:
    response = client.post("/v1/match", json={"name": "", "country": "JP"})
    assert response.status_code == 422
    body = response.json()
    assert body["detail"].startswith("invalid request: body.name:")
    fields = {p["field"] for p in body["problems"]}
    assert {"body.name", "body.kind", "body.sectors"} <= fields


def test_unknown_endpoint_is_json_404(client: TestClient) -> None:
    response = client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"detail": "no such endpoint; the endpoints are listed at /docs"}
    assert client.get("/v1/organisations/").status_code == 404  # no redirect to the list


def test_wrong_method_is_405_listing_the_allowed_methods(client: TestClient) -> None:
    response = client.post("/v1/organisations/highreso")
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, GET, HEAD, PUT"
    assert "allowed: DELETE, GET, HEAD, PUT" in response.json()["detail"]


def test_an_internal_error_is_json_500_without_a_traceback(make_app: Callable[..., FastAPI]) -> None:
    app = make_app()

    def broken() -> None:
        raise RuntimeError("secret internal detail in /srv/matchmaker/app.py line 42")

    app.dependency_overrides[get_service] = broken
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/v1/organisations/highreso/partners")
    assert response.status_code == 500
    assert response.json() == {"detail": "internal error; it has been logged"}
    assert "secret" not in response.text and "Traceback" not in response.text


def test_no_cors_by_default(client: TestClient) -> None:
    response = client.get("/v1/organisations", headers={"Origin": "https://events.example"})
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [("https://events.example", True), ("https://evil.example", False)],
    ids=["configured", "other"],
)
def test_cors_origins_from_configuration(make_app: Callable[..., FastAPI], origin: str, allowed: bool) -> None:
    with TestClient(make_app(cors_origins=["https://events.example"])) as client:
        preflight = client.options(
            "/v1/organisations/acme",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "PUT",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )
        simple = client.get("/v1/organisations", headers={"Origin": origin})
    assert (preflight.headers.get("access-control-allow-origin") == origin) is allowed
    assert (simple.headers.get("access-control-allow-origin") == origin) is allowed


def test_an_unknown_query_parameter_is_named_with_the_accepted_ones(client: TestClient) -> None:
    # a misspelt filter would otherwise be ignored and the answer look filtered
    response = client.get("/v1/organisations/highreso/partners", params={"cross_boarder": "true"})
    assert response.status_code == 422
    assert (
        "unknown query parameter 'cross_boarder'; accepted: combiner, country, cross_border,"
        in response.json()["detail"]
    )
    assert client.get("/v1/organisations/highreso/partners", params={"cross_border": "true"}).status_code == 200
