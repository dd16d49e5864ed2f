"""Registering, updating and deleting attendees, and feedback: persisted, idempotent, visible at once."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from matchmaker.core.population import Population
from tests.api.support import AUTH, SHIPPED, TestClient, attendee, mirror_of


def partner_ids(client: TestClient, org: str, **params: Any) -> list[str]:
    response = client.get(f"/v1/organisations/{org}/partners", params={"top": 100, **params})
    assert response.status_code == 200, response.text
    return [p["id"] for p in response.json()["partners"]]


def test_put_registers_then_updates_idempotently(client: TestClient, tmp_path: Path) -> None:
    created = client.put("/v1/organisations/acme-robotics", json=attendee(), headers=AUTH)
    assert created.status_code == 201
    assert created.json()["id"] == "acme-robotics" and created.json()["name"] == "Acme Robotics"
    again = client.put("/v1/organisations/acme-robotics", json=attendee(), headers=AUTH)
    assert again.status_code == 200 and again.json() == created.json()
    renamed = client.put("/v1/organisations/acme-robotics", json=attendee("Acme Vision"), headers=AUTH)
    assert renamed.status_code == 200
    assert client.get("/v1/organisations/acme-robotics").json()["name"] == "Acme Vision"
    assert client.get("/healthz").json()["organisations"] == len(SHIPPED) + 1
    with sqlite3.connect(tmp_path / "matchmaker.db") as db:
        assert db.execute("SELECT count(*) FROM registered_profiles").fetchone() == (1,)


def test_registered_attendee_is_another_organisations_best_partner_at_once(client: TestClient) -> None:
    assert "mirror-co" not in partner_ids(client, "highreso")
    assert client.put("/v1/organisations/mirror-co", json=mirror_of("highreso"), headers=AUTH).status_code == 201
    assert partner_ids(client, "highreso")[0] == "mirror-co"
    explanation = client.get("/v1/pairings/highreso/mirror-co").json()
    assert explanation["reasons"] and all(r["background"] for r in explanation["reasons"])


def test_registered_attendee_survives_a_restart(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app()) as first:
        first.put("/v1/organisations/mirror-co", json=mirror_of("highreso"), headers=AUTH)
        before = first.get("/v1/organisations/highreso/partners").json()
    with TestClient(make_app()) as second:
        assert second.get("/v1/organisations/mirror-co").json()["name"] == "Mirror Co"
        after = second.get("/v1/organisations/highreso/partners").json()
    assert after["partners"][0]["id"] == "mirror-co"
    # A restart refits the vectoriser on everyone, so scores may move a little, never the order of the best.
    assert after["partners"][0]["score"] == pytest.approx(before["partners"][0]["score"], abs=0.1)


def test_an_attendee_with_nothing_yet_offered_or_needed_is_registered(client: TestClient) -> None:
    # (found by schemathesis: no items gave the attribute coefficients a width of 0 and a server error)
    body = {"name": "Placeholder Co", "country": "JP", "kind": "startup", "sectors": ["energy"]}
    assert client.put("/v1/organisations/placeholder-co", json=body, headers=AUTH).status_code == 201
    found = client.get("/v1/organisations/placeholder-co/partners")
    assert found.status_code == 200 and found.json()["partners"] == []


def test_delete_removes_a_registered_attendee(client: TestClient) -> None:
    client.put("/v1/organisations/mirror-co", json=mirror_of("highreso"), headers=AUTH)
    assert client.delete("/v1/organisations/mirror-co", headers=AUTH).status_code == 204
    assert client.get("/v1/organisations/mirror-co").status_code == 404
    assert "mirror-co" not in partner_ids(client, "highreso")
    missing = client.delete("/v1/organisations/mirror-co", headers=AUTH)
    assert missing.status_code == 404 and "unknown organisation 'mirror-co'" in missing.json()["detail"]


def test_shipped_profiles_cannot_be_changed_through_the_api(client: TestClient) -> None:
    put = client.put("/v1/organisations/highreso", json=attendee(), headers=AUTH)
    assert put.status_code == 409 and "'highreso' is a shipped profile" in put.json()["detail"]
    delete = client.delete("/v1/organisations/highreso", headers=AUTH)
    assert delete.status_code == 409 and "cannot be deleted" in delete.json()["detail"]
    assert client.get("/v1/organisations/highreso").json()["name"] == "Highreso"


def test_configuration_can_allow_overwriting_and_delete_restores_the_shipped(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app(allow_shipped_overwrite=True)) as client:
        assert client.put("/v1/organisations/highreso", json=attendee("Highreso 2"), headers=AUTH).status_code == 200
        assert client.get("/v1/organisations/highreso").json()["name"] == "Highreso 2"
        assert client.delete("/v1/organisations/highreso", headers=AUTH).status_code == 204
        assert client.get("/v1/organisations/highreso").json()["name"] == "Highreso"
        assert client.delete("/v1/organisations/highreso", headers=AUTH).status_code == 409


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"kind": "pirate"}, "kind", "unknown kind 'pirate'; accepted: academic, community"),
        ({"sectors": ["piracy"]}, "sectors[0]", "unknown sector 'piracy'; accepted:"),
        (
            {"offers": {"money": []}},
            "offers.money",
            "unknown dimension 'money'; accepted: compute, data, domain, talent",
        ),
        (
            {
                "needs": {
                    "data": [
                        {
                            "description": "treasure maps",
                            "strength": 2,
                            "tags": ["maps"],
                            "evidence": {"background": "x"},
                        }
                    ]
                }
            },
            "needs.data[0].tags",
            "unknown tag 'maps'",
        ),
    ],
    ids=["kind", "sector", "dimension", "tag"],
)
def test_vocabulary_problems_are_422_listing_what_is_accepted(
    client: TestClient, changes: dict[str, Any], field: str, message: str
) -> None:
    response = client.put("/v1/organisations/acme", json=attendee(**changes), headers=AUTH)
    assert response.status_code == 422
    problems = response.json()["problems"]
    assert any(p["field"] == field and message in p["message"] for p in problems), problems


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "Acme\u202eevil"}, "body.name"),
        ({"name": "Acme\u200b"}, "body.name"),
        ({"name": "Acme\u0000"}, "body.name"),
        ({"name": "Two\nlines"}, "body.name"),
        ({"name": "   "}, "body.name"),
        ({"aliases": ["\u2066hidden\u2069"]}, "body.aliases[0]"),
        ({"summary": "ok\u202b"}, "body.summary"),
        ({"name": "x" * 121}, "body.name"),
        ({"sectors": ["robotics"] * 13}, "body.sectors"),
        ({"country": "Japan"}, "body.country"),
        ({"id": "other"}, "body.id"),
        ({"colour": "red"}, "body.colour"),
    ],
    ids=[
        "bidi-override",
        "zero-width",
        "nul",
        "newline-in-name",
        "blank-name",
        "bidi-isolate-alias",
        "bidi-embedding-summary",
        "long-name",
        "too-many-sectors",
        "country",
        "id-in-body",
        "unknown-field",
    ],
)
def test_hostile_or_invalid_text_is_rejected_never_stripped(
    client: TestClient, changes: dict[str, Any], field: str
) -> None:
    response = client.put("/v1/organisations/acme", json=attendee(**changes), headers=AUTH)
    assert response.status_code == 422, response.text
    assert field in [p["field"] for p in response.json()["problems"]]
    assert client.get("/v1/organisations/acme").status_code == 404


def test_text_is_nfc_normalised_and_trimmed(client: TestClient) -> None:
    response = client.put("/v1/organisations/acme", json=attendee("  Cafe\u0301 Robotics "), headers=AUTH)
    assert response.status_code == 201
    assert response.json()["name"] == "Caf\u00e9 Robotics"


@pytest.mark.parametrize(
    "org", ["Acme", "acme_robotics", "-acme", "a" * 65], ids=["upper", "underscore", "dash", "long"]
)
def test_write_ids_are_lowercase_slugs(client: TestClient, org: str) -> None:
    response = client.put(f"/v1/organisations/{org}", json=attendee(), headers=AUTH)
    assert response.status_code == 422 and response.json()["problems"][0]["field"] == "path.org"


def test_declined_partner_is_never_recommended_to_the_decliner(client: TestClient) -> None:
    best = partner_ids(client, "highreso")[0]
    feedback = {"organisation": "highreso", "partner": best, "outcome": "declined"}
    first = client.post("/v1/feedback", json=feedback, headers=AUTH)
    assert first.status_code == 201 and first.json() == {**feedback, "recorded": True}
    assert best not in partner_ids(client, "highreso")
    assert best not in partner_ids(client, "highreso", dimension="compute")
    # The decline is the decliner's: the other side may still see it (its own feedback decides).
    assert "highreso" in partner_ids(client, best)
    pairs = client.get("/v1/pairings", params={"top": 100}).json()["pairs"]
    assert {frozenset((p["a"], p["b"])) for p in pairs}.isdisjoint({frozenset(("highreso", best))})


def test_repeated_identical_feedback_counts_once(client: TestClient, tmp_path: Path) -> None:
    feedback = {"organisation": "highreso", "partner": "yotta", "outcome": "met"}
    assert client.post("/v1/feedback", json=feedback, headers=AUTH).status_code == 201
    again = client.post("/v1/feedback", json=feedback, headers=AUTH)
    assert again.status_code == 200 and again.json()["recorded"] is False
    assert client.post("/v1/feedback", json={**feedback, "outcome": "agreement"}, headers=AUTH).status_code == 201
    with sqlite3.connect(tmp_path / "matchmaker.db") as db:
        assert db.execute("SELECT outcome FROM feedback ORDER BY id").fetchall() == [("met",), ("agreement",)]


def test_declines_survive_a_restart(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app()) as first:
        first.post(
            "/v1/feedback", json={"organisation": "highreso", "partner": "yotta", "outcome": "declined"}, headers=AUTH
        )
    with TestClient(make_app()) as second:
        assert "yotta" not in partner_ids(second, "highreso")


@pytest.mark.parametrize(
    ("feedback", "status", "message"),
    [
        ({"organisation": "highreso", "partner": "nobody", "outcome": "met"}, 404, "unknown organisation 'nobody'"),
        ({"organisation": "highreso", "partner": "highreso", "outcome": "met"}, 422, "two different organisations"),
        ({"organisation": "highreso", "partner": "yotta", "outcome": "ghosted"}, 422, "body.outcome"),
        ({"organisation": "Highreso", "partner": "yotta", "outcome": "met"}, 422, "body.organisation"),
    ],
    ids=["unknown-partner", "self", "outcome", "name-not-id"],
)
def test_feedback_errors(client: TestClient, feedback: dict[str, str], status: int, message: str) -> None:
    response = client.post("/v1/feedback", json=feedback, headers=AUTH)
    assert response.status_code == status and message in response.text


def test_feedback_about_a_registered_attendee(client: TestClient) -> None:
    client.put("/v1/organisations/mirror-co", json=mirror_of("highreso"), headers=AUTH)
    declined = {"organisation": "mirror-co", "partner": "highreso", "outcome": "declined"}
    assert client.post("/v1/feedback", json=declined, headers=AUTH).status_code == 201
    assert "highreso" not in partner_ids(client, "mirror-co")


def test_answers_are_reused_until_the_next_write(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    original = Population.partners_each

    def counting(self: Population, org: str, selections: Any, **options: Any) -> Any:
        calls.append(org)
        return original(self, org, selections, **options)

    monkeypatch.setattr(Population, "partners_each", counting)
    first = [client.get("/v1/organisations/highreso/partners").json()]
    per_answer = len(calls)  # the partners and the enablers lists, ranked together
    first += [client.get("/v1/organisations/highreso/partners").json() for _ in range(2)]
    assert per_answer > 0 and len(calls) == per_answer and first[0] == first[2]
    client.put("/v1/organisations/mirror-co", json=mirror_of("highreso"), headers=AUTH)
    assert client.get("/v1/organisations/highreso/partners").json()["partners"][0]["id"] == "mirror-co"
    assert len(calls) == 2 * per_answer


def test_stored_profiles_the_vocabulary_no_longer_accepts_are_skipped_at_start(
    make_app: Callable[..., FastAPI], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with TestClient(make_app()) as client:
        client.put("/v1/organisations/acme", json=attendee(), headers=AUTH)
        client.put("/v1/organisations/other", json=attendee("Other"), headers=AUTH)
    with sqlite3.connect(tmp_path / "matchmaker.db") as db:  # as if the programme dropped the kind 'startup'
        db.execute("UPDATE registered_profiles SET data = replace(data, '\"startup\"', '\"pirate\"') WHERE id = 'acme'")
        db.execute("UPDATE registered_profiles SET data = '{\"id\": \"other\"}' WHERE id = 'other'")
    with TestClient(make_app()) as client:
        assert client.get("/v1/organisations/acme").status_code == 404
        assert client.get("/v1/organisations/other").status_code == 404
        assert client.get("/healthz").json()["registered"] == 0
    assert "registered profile 'acme' is skipped: kind: unknown kind 'pirate'" in caplog.text
    assert "registered profile 'other' is no longer valid and is skipped" in caplog.text
