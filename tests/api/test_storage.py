"""The store on SQLite (always) and PostgreSQL (when MATCHMAKER_TEST_POSTGRES_URL is set, as in CI)."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from matchmaker.core.errors import MatchmakerError
from matchmaker.core.profile import Profile
from matchmaker.service import create_app
from matchmaker.settings import ServiceSettings
from matchmaker.storage import Feedback, Store, database_url, metadata
from tests.api.support import AUTH, KEY, TestClient, attendee

POSTGRES = os.environ.get("MATCHMAKER_TEST_POSTGRES_URL")
needs_postgres = pytest.mark.skipif(
    POSTGRES is None, reason="set MATCHMAKER_TEST_POSTGRES_URL to a PostgreSQL database to test it (CI does)"
)


def profile(org_id: str, name: str = "Acme") -> Profile:
    return Profile.model_validate({**attendee(name), "id": org_id})


@pytest.fixture(scope="module")
def postgres_url() -> str:
    # Read before the autouse fixture clears MATCHMAKER_* variables for each test.
    assert POSTGRES is not None
    return POSTGRES


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=needs_postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        opened = Store.open(None, tmp_path / "store.db")
    else:
        opened = Store.open(request.getfixturevalue("postgres_url"), tmp_path / "unused.db")
        metadata.drop_all(opened.engine)
        metadata.create_all(opened.engine)
    yield opened
    if request.param == "postgresql":
        metadata.drop_all(opened.engine)
    opened.close()


def test_put_is_an_idempotent_upsert(store: Store) -> None:
    assert store.put_profile(profile("acme")) is True
    assert store.put_profile(profile("acme")) is False
    assert store.put_profile(profile("acme", "Acme Two")) is False
    stored = dict(store.profiles())
    assert list(stored) == ["acme"]
    assert Profile.model_validate_json(stored["acme"]).name == "Acme Two"
    assert store.get_profile("acme") == stored["acme"] and store.get_profile("other") is None


def test_concurrent_puts_of_one_id_never_duplicate(store: Store) -> None:
    barrier = threading.Barrier(6)

    def put(k: int) -> None:
        barrier.wait()
        for _ in range(5):
            store.put_profile(profile("acme", f"Acme {k}"))

    threads = [threading.Thread(target=put, args=(k,)) for k in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [org for org, _ in store.profiles()] == ["acme"]


def test_delete(store: Store) -> None:
    store.put_profile(profile("acme"))
    assert store.delete_profile("acme") is True
    assert store.delete_profile("acme") is False
    assert list(store.profiles()) == []


def test_identical_feedback_counts_once(store: Store) -> None:
    declined = Feedback("highreso", "yotta", "declined")
    assert store.add_feedback(declined) is True
    assert store.add_feedback(declined) is False
    assert store.add_feedback(Feedback("yotta", "highreso", "declined")) is True
    assert store.feedback() == [declined, Feedback("yotta", "highreso", "declined")]
    with pytest.raises(
        MatchmakerError, match="unknown outcome 'ghosted'; accepted: accepted, declined, met, agreement"
    ):
        store.add_feedback(Feedback("a", "b", "ghosted"))


def test_every_committed_write_is_in_the_change_log_in_commit_order(store: Store) -> None:
    assert store.last_change() == 0 and store.changes_since(0) == []
    store.put_profile(profile("acme"))
    store.put_profile(profile("acme", "Acme Two"))  # an update is a change too
    store.add_feedback(Feedback("acme", "yotta", "declined"))
    store.add_feedback(Feedback("acme", "yotta", "declined"))  # identical: not recorded, no change
    assert store.delete_profile("ghost") is False  # nothing deleted, no change
    store.delete_profile("acme")
    changes = store.changes_since(0)
    assert [(c.kind, c.organisation, c.partner, c.outcome) for c in changes] == [
        ("profile", "acme", None, None),
        ("profile", "acme", None, None),
        ("feedback", "acme", "yotta", "declined"),
        ("profile", "acme", None, None),
    ]
    ids = [c.id for c in changes]
    assert ids == sorted(ids) and store.last_change() == ids[-1]
    assert store.changes_since(ids[1]) == changes[2:]


def test_ping(store: Store) -> None:
    store.ping()


def test_no_folder_is_created_for_a_database(tmp_path: Path) -> None:
    with pytest.raises(MatchmakerError, match=r"folder '.*/no/such' does not exist; create it"):
        Store.open(None, tmp_path / "no" / "such" / "store.db")
    assert not (tmp_path / "no").exists()


def test_an_unreachable_postgresql_is_one_clear_error() -> None:
    message = r"cannot open the database postgresql\+psycopg://u:\*\*\*@127.0.0.1:1/db: connection failed"
    with pytest.raises(MatchmakerError, match=message):
        Store.open("postgresql://u:secret@127.0.0.1:1/db", Path("unused.db"))


def test_sqlite_pragmas_on_every_connection(tmp_path: Path) -> None:
    store = Store.open(None, tmp_path / "store.db")
    with store.engine.connect() as first, store.engine.connect() as second:
        for connection in (first, second):
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 10_000
    store.close()


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgresql://u:p@db/m", "postgresql+psycopg"),
        ("postgres://u:p@db/m", "postgresql+psycopg"),
        ("postgresql+psycopg://u:p@db/m", "postgresql+psycopg"),
        ("sqlite:////tmp/x.db", "sqlite"),
    ],
    ids=["postgresql", "postgres", "explicit-driver", "sqlite-url"],
)
def test_database_urls(url: str, driver: str) -> None:
    assert database_url(url, Path("ignored.db")).drivername == driver


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "database URL 'not a url' is not a SQLAlchemy URL"),
        ("mysql://u:p@db/m", "database 'mysql' is not supported; use SQLite (the default) or PostgreSQL"),
    ],
    ids=["garbage", "mysql"],
)
def test_bad_database_urls(url: str, message: str) -> None:
    with pytest.raises(MatchmakerError, match=re.escape(message)):
        Store.open(url, Path("ignored.db"))


@pytest.fixture
def postgres_settings(postgres_url: str) -> Iterator[ServiceSettings]:
    """Service settings on an empty PostgreSQL database, emptied again afterwards."""
    store = Store.open(postgres_url, Path("unused.db"))
    metadata.drop_all(store.engine)
    try:
        yield ServiceSettings(database_url=postgres_url, api_keys=[KEY])
    finally:
        metadata.drop_all(store.engine)
        store.close()


@needs_postgres
def test_the_service_on_postgresql_keeps_attendees_across_restarts(postgres_settings: ServiceSettings) -> None:
    with TestClient(create_app(postgres_settings)) as client:
        assert client.put("/v1/organisations/acme", json=attendee(), headers=AUTH).status_code == 201
        assert client.get("/healthz").json()["database"] == "postgresql"
    with TestClient(create_app(postgres_settings)) as client:
        assert client.get("/v1/organisations/acme").json()["name"] == "Acme Robotics"


@needs_postgres
def test_two_services_on_postgresql_see_each_others_writes(postgres_settings: ServiceSettings) -> None:
    with TestClient(create_app(postgres_settings)) as first, TestClient(create_app(postgres_settings)) as second:
        assert first.put("/v1/organisations/acme", json=attendee(), headers=AUTH).status_code == 201
        assert second.get("/v1/organisations/acme").json()["name"] == "Acme Robotics"
        assert second.delete("/v1/organisations/acme", headers=AUTH).status_code == 204
        assert first.get("/v1/organisations/acme").status_code == 404
