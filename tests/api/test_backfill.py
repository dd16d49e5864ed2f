"""Registrations answered before their texts are embedded, and completed in the background."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from matchmaker.service import create_app
from matchmaker.service.state import Service
from tests.api.support import AUTH, attendee, settings


def new_words_attendee() -> dict[str, Any]:
    """An attendee whose texts no embedding cache holds yet (a fresh token in each)."""
    fresh = uuid.uuid4().hex[:8]
    body = attendee("Fresh Words Co")
    body["offers"]["data"][0]["description"] = f"Labelled factory images for inspection models, batch {fresh}."
    body["needs"]["talent"][0]["description"] = f"Engineers who can fine-tune vision models, team {fresh}."
    return body


def attendee_profile() -> Any:
    from matchmaker.loading import parse_profile

    profile, problems = parse_profile({**attendee(), "id": "acme-robotics"}, "")
    assert profile is not None, problems
    return profile


def partners(client: TestClient, org: str) -> list[tuple[str, float]]:
    found = client.get(f"/v1/organisations/{org}/partners", params={"top": 24})
    assert found.status_code == 200
    return [(p["id"], p["score"]) for p in found.json()["partners"]]


def test_a_registration_is_answered_first_and_completed_to_what_an_inline_one_gives(tmp_path: Path) -> None:
    body = new_words_attendee()
    with TestClient(create_app(settings(tmp_path / "background.db"))) as client:
        put = client.put("/v1/organisations/fresh-co", json=body, headers=AUTH)
        assert put.status_code == 201
        assert put.headers["x-matchmaker-embedding"] == "pending"
        assert partners(client, "fresh-co")  # ranked at once, from its words and tags
        service: Service = client.app.state.service  # type: ignore[attr-defined]
        assert service.backfill.wait(120)
        assert client.get("/healthz").json()["embedding_backlog"] == 0
        completed = partners(client, "fresh-co")
    with TestClient(create_app(settings(tmp_path / "inline.db", registration_embedding="inline"))) as client:
        put = client.put("/v1/organisations/fresh-co", json=body, headers=AUTH)
        assert "x-matchmaker-embedding" not in put.headers
        assert partners(client, "fresh-co") == completed


def _blocks(service: Service, org: str) -> dict[str, int]:
    """How many non-zero values the organisation's data offers have in each block of its text vector."""
    population = service.population
    data = population.dimensions.index("data")
    row = population.matrices.offers[data][population.index[org]]
    return {b.name: row[:, b.start : b.stop].nnz for b in population.vectoriser.item_blocks}


def test_until_its_texts_are_embedded_a_registration_is_ranked_from_its_words_and_tags(tmp_path: Path) -> None:
    service = Service.start(settings(tmp_path / "m.db"))
    try:
        service.backfill.close()  # nothing completes it: what the first answers see
        profile = service.profile_from_body("fresh-co", new_words_attendee())
        assert service.put(profile).embedding_pending
        provisional = _blocks(service, "fresh-co")
        assert provisional["semantic"] == 0 and provisional["words"] > 0 and provisional["tags"] > 0
    finally:
        service.close()
    restarted = Service.start(settings(tmp_path / "m.db"))  # fits everything, embedding every text
    try:
        assert _blocks(restarted, "fresh-co")["semantic"] > 0
    finally:
        restarted.close()


def test_a_registration_another_process_received_is_left_to_it_then_completed(tmp_path: Path) -> None:
    receiver = Service.start(settings(tmp_path / "shared.db"))
    other = Service.start(settings(tmp_path / "shared.db"))
    try:
        profile = receiver.profile_from_body("fresh-co", new_words_attendee())
        receiver.put(profile)
        other.snapshot()  # learns of it from the change log: ranked at once, completed once the receiver embedded
        assert receiver.backfill.wait(120)
        assert other.backfill.wait(120)
        assert _row(other, "fresh-co") == _row(receiver, "fresh-co")
    finally:
        receiver.close()
        other.close()


def test_a_registration_whose_receiver_died_is_completed_by_another_process(tmp_path: Path) -> None:
    receiver = Service.start(settings(tmp_path / "shared.db"))
    other = Service.start(settings(tmp_path / "shared.db"))
    try:
        receiver.backfill.close()  # the receiving worker is gone before it embeds anything
        other.backfill.foreign_wait_s = 0.5
        body = new_words_attendee()
        receiver.put(receiver.profile_from_body("fresh-co", body))
        other.snapshot()
        assert other.backfill.wait(120)
        inline = Service.start(settings(tmp_path / "inline.db", registration_embedding="inline"))
        try:
            inline.put(inline.profile_from_body("fresh-co", body))
            assert _row(other, "fresh-co") == _row(inline, "fresh-co")
        finally:
            inline.close()
    finally:
        receiver.close()
        other.close()


def _row(service: Service, org: str) -> list[tuple[str, float]]:
    snapshot = service.snapshot()
    return [(m.b.id, round(m.score, 12)) for m in snapshot.population.partners(org, reasons=0)]


def test_while_requests_are_answered_the_background_work_paces_itself() -> None:
    from matchmaker.service.backfill import BUSY_SHARE, Backfill

    finished: list[float] = []
    step_s = 0.05

    def embed(profile: Any) -> None:
        time.sleep(step_s)

    def complete(profile: Any, embedded: None) -> None:
        finished.append(time.monotonic())

    for busy, at_least in ((False, 0.0), (True, step_s * (1 / BUSY_SHARE - 1))):
        finished.clear()
        backfill: Backfill[None] = Backfill(lambda p: True, embed, complete, busy=lambda busy=busy: busy)
        profile = attendee_profile()
        backfill.submit(profile, own=True)
        backfill.submit(profile, own=True)
        time.sleep(step_s * 2)
        backfill.submit(profile, own=True)  # a registration arriving during the pause does not end it
        assert backfill.wait(30)
        backfill.close()
        gap = finished[1] - finished[0]
        assert gap >= at_least + step_s * 0.9
        if not busy:
            assert gap < step_s * 4  # flat out when nobody is waiting for an answer
