"""Several server processes on one database (`matchmaker serve --workers N`): every write reaches every process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from matchmaker.core.errors import UnknownOrganisation
from matchmaker.service.state import Service
from matchmaker.storage import Feedback
from tests.api.support import AUTH, attendee, mirror_of, settings
from tests.api.test_server import _free_port, serve, server


@pytest.fixture
def two(tmp_path: Path) -> Iterator[tuple[Service, Service]]:
    """Two services on one SQLite file, as two worker processes hold them."""
    first = Service.start(settings(tmp_path / "shared.db"))
    second = Service.start(settings(tmp_path / "shared.db"))
    yield first, second
    first.close()
    second.close()


def _partner_ids(service: Service, org: str) -> list[str]:
    snapshot = service.snapshot()
    return [
        m.b.id
        for m in snapshot.population.partners(
            org, exclude=snapshot.workspace.exclusions.of_organisation(org), reasons=0
        )
    ]


def test_a_profile_put_by_one_process_is_in_the_others_next_answer(two: tuple[Service, Service]) -> None:
    writer, reader = two
    mirror = writer.profile_from_body("mirror-co", mirror_of("highreso"))
    assert writer.put(mirror).created is True
    assert _partner_ids(reader, "highreso")[0] == "mirror-co"
    assert reader.population.resolve("mirror-co") == mirror

    changed = writer.profile_from_body("mirror-co", {**mirror_of("highreso"), "name": "Mirror Renamed"})
    assert writer.put(changed).created is False
    assert reader.population.resolve("mirror-co").name == "Mirror Renamed"

    reader.delete("mirror-co")  # the other way round: the reader knows it is registered
    with pytest.raises(UnknownOrganisation):
        writer.population.resolve("mirror-co")
    assert "mirror-co" not in _partner_ids(writer, "highreso")


def test_a_decline_recorded_by_one_process_holds_in_the_other(two: tuple[Service, Service]) -> None:
    writer, reader = two
    writer.put(writer.profile_from_body("mirror-co", mirror_of("highreso")))
    assert _partner_ids(reader, "highreso")[0] == "mirror-co"
    assert writer.add_feedback(Feedback("highreso", "mirror-co", "declined")) is True
    assert "mirror-co" not in _partner_ids(reader, "highreso")
    assert "highreso" in _partner_ids(reader, "mirror-co")  # only the decliner stops seeing the other


def test_a_retried_put_from_another_process_keeps_the_population_version(two: tuple[Service, Service]) -> None:
    first, second = two
    body = first.profile_from_body("acme-robotics", attendee())
    first.put(body)
    version = second.snapshot().version
    assert first.put(body).created is False  # identical: logged, but nothing to change
    assert second.snapshot().version == version


def test_overwriting_a_shipped_profile_and_deleting_it_brings_the_shipped_one_back(tmp_path: Path) -> None:
    options = settings(tmp_path / "shared.db", allow_shipped_overwrite=True)
    writer, reader = Service.start(options), Service.start(options)
    try:
        shipped = reader.population.resolve("yotta")
        writer.put(writer.profile_from_body("yotta", {**mirror_of("highreso"), "name": "Yotta Mirror"}))
        assert reader.population.resolve("yotta").name == "Yotta Mirror"
        writer.delete("yotta")
        assert reader.population.resolve("yotta") == shipped
    finally:
        writer.close()
        reader.close()


@pytest.mark.slow
def test_two_workers_on_the_real_server_answer_with_every_write(tmp_path: Path) -> None:
    port = _free_port()
    command, env = serve(tmp_path, port)
    command = [*command, "--workers", "2"]
    with server(command, cwd=tmp_path, env=env, logs=tmp_path) as (_, url):
        assert (
            httpx.put(f"{url}/v1/organisations/mirror-co", json=mirror_of("highreso"), headers=AUTH).status_code == 201
        )
        # A new connection each time: the kernel hands them to either worker.
        for _ in range(20):
            assert httpx.get(f"{url}/v1/organisations/highreso/partners").json()["partners"][0]["id"] == "mirror-co"
        declined = {"organisation": "highreso", "partner": "mirror-co", "outcome": "declined"}
        assert httpx.post(f"{url}/v1/feedback", json=declined, headers=AUTH).status_code == 201
        for _ in range(20):
            partners = httpx.get(f"{url}/v1/organisations/highreso/partners").json()["partners"]
            assert "mirror-co" not in [p["id"] for p in partners]
        assert httpx.delete(f"{url}/v1/organisations/mirror-co", headers=AUTH).status_code == 204
        for _ in range(20):
            assert httpx.get(f"{url}/v1/organisations/mirror-co").status_code == 404
    log = next(tmp_path.glob("server-*.log")).read_text()
    assert log.count("Application startup complete") == 2 and "died" not in log
