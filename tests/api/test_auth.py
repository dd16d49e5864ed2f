"""No write succeeds without the API key; reads are open; a server without a key refuses every write."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from matchmaker.service.auth import key_matches
from tests.api.support import AUTH, KEY, TestClient, attendee, mirror_of

# Every write, with a body that succeeds when the key is right.
WRITES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("PUT", "/v1/organisations/acme", attendee()),
    ("DELETE", "/v1/organisations/mirror-co", None),
    ("POST", "/v1/feedback", {"organisation": "highreso", "partner": "yotta", "outcome": "declined"}),
]
WRONG = [
    ({}, "this operation needs an API key"),
    ({"Authorization": "Bearer wrong-key"}, "the API key is not valid"),
    ({"Authorization": f"Bearer {KEY}x"}, "the API key is not valid"),
    ({"Authorization": f"Basic {KEY}"}, "this operation needs an API key"),
    ({"Authorization": KEY}, "this operation needs an API key"),
    ({"Authorization": "Bearer "}, "this operation needs an API key"),
]


def _state(db: Path) -> tuple[list[Any], list[Any]]:
    with sqlite3.connect(db) as connection:
        return (
            connection.execute("SELECT id, data FROM registered_profiles").fetchall(),
            connection.execute("SELECT organisation, partner, outcome FROM feedback").fetchall(),
        )


def test_every_write_and_the_report_are_declared_as_needing_the_key(client: TestClient) -> None:
    operations = [
        (method.upper(), path, op)
        for path, item in client.get("/openapi.json").json()["paths"].items()
        for method, op in item.items()
    ]
    secured = {(method, path) for method, path, op in operations if op.get("security")}
    assert secured == {
        ("PUT", "/v1/organisations/{org}"),
        ("DELETE", "/v1/organisations/{org}"),
        ("POST", "/v1/feedback"),
        ("GET", "/v1/reports/pairings"),  # staff material, seconds of CPU: not for anyone who asks
        # the events app's writes (tests/api/test_events.py sends each without the key and with a wrong one)
        ("PUT", "/v1/events/{event}"),
        ("DELETE", "/v1/events/{event}"),
        ("PUT", "/v1/events/{event}/participants/{org}"),
        ("DELETE", "/v1/events/{event}/participants/{org}"),
        ("POST", "/v1/events/{event}/requests"),
        ("POST", "/v1/events/{event}/requests/{by}/{to}/accept"),
        ("POST", "/v1/events/{event}/requests/{by}/{to}/decline"),
        ("POST", "/v1/events/{event}/schedule"),
    }
    for method, _, op in operations:
        if op.get("security"):
            assert {"401", "403"} <= set(op["responses"]), method


@pytest.mark.parametrize(
    ("headers", "message"), WRONG, ids=["none", "wrong", "longer", "basic-scheme", "no-scheme", "empty"]
)
@pytest.mark.parametrize(("method", "path", "body"), WRITES, ids=["put", "delete", "feedback"])
def test_no_write_succeeds_without_the_key(
    client: TestClient,
    tmp_path: Path,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    headers: dict[str, str],
    message: str,
) -> None:
    client.put("/v1/organisations/mirror-co", json=mirror_of("highreso"), headers=AUTH)
    before = _state(tmp_path / "matchmaker.db")
    response = client.request(method, path, json=body, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert message in response.json()["detail"]
    assert _state(tmp_path / "matchmaker.db") == before


@pytest.mark.parametrize(("method", "path", "body"), WRITES, ids=["put", "delete", "feedback"])
def test_the_key_lets_every_write_through(
    client: TestClient, method: str, path: str, body: dict[str, Any] | None
) -> None:
    client.put("/v1/organisations/mirror-co", json=mirror_of("highreso"), headers=AUTH)
    assert client.request(method, path, json=body, headers=AUTH).status_code in (200, 201, 204)


@pytest.mark.parametrize(("method", "path", "body"), WRITES, ids=["put", "delete", "feedback"])
def test_without_a_configured_key_every_write_is_refused_clearly(
    make_app: Callable[..., FastAPI], method: str, path: str, body: dict[str, Any] | None
) -> None:
    with TestClient(make_app(api_keys=[])) as client:
        for headers, status in ((AUTH, 403), ({}, 401)):
            response = client.request(method, path, json=body, headers=headers)
            assert response.status_code == status
            assert "writes are disabled: this server has no API key configured" in response.json()["detail"]
        assert client.get("/v1/organisations/highreso/partners").status_code == 200


def test_any_configured_key_works(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app(api_keys=["first-key", "second-key"])) as client:
        for key in ("first-key", "second-key"):
            response = client.put("/v1/organisations/acme", json=attendee(), headers={"Authorization": f"Bearer {key}"})
            assert response.status_code in (200, 201)


@pytest.mark.parametrize(
    "value", ['["from-env", "other"]', "from-env", "other, from-env"], ids=["json-list", "plain-key", "comma-list"]
)
def test_keys_come_from_the_environment(value: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from matchmaker.service import create_app
    from matchmaker.settings import load_service_settings

    monkeypatch.setenv("MATCHMAKER_API_KEYS", value)
    monkeypatch.setenv("MATCHMAKER_DATABASE", str(tmp_path / "env.db"))
    with TestClient(create_app(load_service_settings())) as client:
        ok = client.put("/v1/organisations/acme", json=attendee(), headers={"Authorization": "Bearer from-env"})
        assert ok.status_code == 201
    assert (tmp_path / "env.db").is_file()


def test_reads_are_open(client: TestClient) -> None:
    for path in (
        "/healthz",
        "/v1/vocabulary",
        "/v1/organisations",
        "/v1/organisations/highreso",
        "/v1/organisations/highreso/partners",
        "/v1/pairings",
        "/v1/pairings/highreso/yotta",
    ):
        assert client.get(path).status_code == 200, path
    assert client.post("/v1/match", json=attendee()).status_code == 200


def test_the_report_needs_the_key(client: TestClient) -> None:
    response = client.get("/v1/reports/pairings", params={"format": "csv"})
    assert response.status_code == 401 and "needs an API key" in response.json()["detail"]
    assert client.get("/v1/reports/pairings", params={"format": "csv"}, headers=AUTH).status_code == 200


@pytest.mark.parametrize(
    ("given", "keys", "expected"),
    [
        ("abc", ["abc"], True),
        ("abc", ["xyz", "abc"], True),
        ("abc", ["abcd"], False),
        ("", ["abc"], False),
        ("abc", [], False),
        ("ключ", ["ключ"], True),
    ],
    ids=["equal", "second", "prefix", "empty", "no-keys", "unicode"],
)
def test_key_matches(given: str, keys: list[str], expected: bool) -> None:
    assert key_matches(given, keys) is expected
