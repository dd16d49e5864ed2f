"""Registered profiles and feedback in a SQL database: embedded SQLite by default, PostgreSQL by URL.

SQLite connections run with ``journal_mode=WAL`` (readers never block the writer),
``synchronous=FULL`` (a committed transaction survives a crash of the process or of the machine)
and a busy timeout (a second writer waits instead of failing). Every write commits before the
function returns, so whatever the caller acknowledges is on disk.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, get_args

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.pool import StaticPool

from matchmaker.core.errors import MatchmakerError
from matchmaker.core.profile import Profile

Outcome = Literal["accepted", "declined", "met", "agreement"]
OUTCOMES: tuple[str, ...] = get_args(Outcome)
BUSY_TIMEOUT_MS = 10_000
LAST_CHANGE_SQL = "SELECT max(id) FROM changes"
CHANGES_LOCK_KEY = 0x6D61746368  # "match": the advisory lock that orders writes to the change log

metadata = MetaData()

profiles_table = Table(
    "registered_profiles",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("data", Text, nullable=False),  # the profile as JSON (Profile.model_dump_json)
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

feedback_table = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("organisation", String(64), nullable=False, index=True),
    Column("partner", String(64), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Repeated identical feedback (a retried request, a double click) counts once.
    UniqueConstraint("organisation", "partner", "outcome", name="uq_feedback_pair_outcome"),
)


# Every write also appends a row here, in the same transaction: the order in which they were committed.
# A server process that did not make a write learns of it from here (several workers, several hosts).
changes_table = Table(
    "changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # "profile" (put or delete), "feedback", "event" or "job"
    Column("organisation", String(64), nullable=False),
    Column("partner", String(64), nullable=True),
    Column("outcome", String(16), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


# Matchmaking events (issue 11): each event is one document, changed as a whole under its version, so a
# change is validated against the whole event; scheduling jobs keep their state here, so any worker answers
# for any job and a job whose worker stopped is found by its heartbeat. ``matchmaker.event_storage`` reads
# and writes them.
events_table = Table(
    "events",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("data", Text, nullable=False),  # the event document (matchmaker.events.files.event_document)
    Column("version", Integer, nullable=False),  # 1 on creation, one more on every change
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

event_jobs_table = Table(
    "event_jobs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("event_id", String(64), nullable=False, index=True),
    Column("event_version", Integer, nullable=False),
    Column("event_data", Text, nullable=False),  # the event as it was when the job was started
    Column("options", Text, nullable=False),  # JSON: method, time limit, candidates
    Column("state", String(16), nullable=False, index=True),  # queued, running, done, failed
    Column("stage", String(200), nullable=False),
    Column("worker", String(200), nullable=True),
    Column("attempts", Integer, nullable=False),
    Column("error", Text, nullable=True),
    Column("result", Text, nullable=True),  # JSON: the schedule document and what agendas need
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=True),
    Column("heartbeat_at", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
)


@dataclass(frozen=True)
class Change:
    """One committed write: a profile put or deleted (``kind="profile"``), or feedback recorded."""

    id: int
    kind: str
    organisation: str
    partner: str | None = None
    outcome: str | None = None


@dataclass(frozen=True)
class Feedback:
    """One recorded outcome: ``organisation`` says ``outcome`` about ``partner``."""

    organisation: str
    partner: str
    outcome: str


def database_url(url: str | None, path: Path) -> URL:
    """The SQLAlchemy URL: ``url`` when given (``postgresql://`` means psycopg 3), else SQLite at ``path``.

    >>> database_url(None, Path("m.db")).render_as_string()
    'sqlite+pysqlite:///m.db'
    >>> database_url("postgresql://u:p@db/m", Path("m.db")).drivername
    'postgresql+psycopg'
    """
    if url is None:
        return URL.create("sqlite+pysqlite", database=str(path))
    try:
        parsed = make_url(url)
    except ArgumentError as err:
        raise MatchmakerError(
            f"database URL {url!r} is not a SQLAlchemy URL (e.g. "
            "postgresql://user:password@host/db or sqlite:///path.db)"
        ) from err
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3 is what the postgres extra installs
    return parsed


def unreachable(url: URL, error: DBAPIError) -> str:
    """One line for a database that cannot be opened: where (password hidden) and the driver's reason."""
    reason = " ".join(str(error.orig).split()) if error.orig is not None else type(error).__name__
    where = url.render_as_string(hide_password=True)
    if len(reason) > 300:
        reason = reason[:300] + "..."
    return f"cannot open the database {where}: {reason}"


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy's documented recipe: let SQLAlchemy, not the sqlite3 module, decide where a transaction
    # begins, so a transaction covers every statement in it (the module otherwise delays BEGIN).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
    finally:
        cursor.close()


def _in_memory(url: URL) -> bool:
    """A SQLite URL without a file: the database lives in one connection of this process."""
    return url.database in (None, "", ":memory:")


def create_database_engine(url: URL) -> Engine:
    """An engine for ``url``; SQLite gets WAL, synchronous FULL and a busy timeout on every connection."""
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise MatchmakerError(
            f"database {url.drivername!r} is not supported; use SQLite (the default) or "
            "PostgreSQL (postgresql://user:password@host/db)"
        )
    if url.get_backend_name() == "postgresql":
        try:
            return create_engine(url, pool_pre_ping=True)
        except ModuleNotFoundError as err:
            raise MatchmakerError(
                f"no database driver for {url.drivername!r}: {err}; for PostgreSQL install matchmaker[postgres]"
            ) from err
    in_memory = _in_memory(url)
    if not in_memory and url.database is not None:
        # The folder is the user's to create: a mistyped path must not become a tree of new folders.
        folder = Path(url.database).expanduser().parent
        if not folder.is_dir():
            raise MatchmakerError(
                f"cannot open the database {url.database!r}: folder {str(folder)!r} does not exist; create it "
                "or set MATCHMAKER_DATABASE to a file in an existing folder"
            )
    options: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000}}
    if in_memory:
        options["poolclass"] = StaticPool  # one shared connection, or every checkout sees an empty database
    engine = create_engine(url, **options)
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")


class Store:
    """Registered profiles and feedback; every method is one committed transaction."""

    def __init__(self, engine: Engine, *, create: bool = True) -> None:
        self.engine = engine
        try:
            if create:
                metadata.create_all(engine)
            # Opened to read only (``create=False``), a database without our tables reads as empty.
            self._missing = set() if create else set(metadata.tables) - set(inspect(engine).get_table_names())
        except DBAPIError as err:
            engine.dispose()
            raise MatchmakerError(unreachable(engine.url, err)) from None
        self._probe: Any = None  # the raw connection of ``last_change``
        self._probe_lock = threading.Lock()

    @classmethod
    def open(cls, url: str | None, path: Path, *, create: bool = True) -> Store:
        """The store at ``url`` (any SQLAlchemy URL) or, without one, the SQLite file ``path``.

        ``create=False`` opens it to read: no table is created.
        """
        return cls(create_database_engine(database_url(url, path)), create=create)

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    @property
    def private(self) -> bool:
        """True for an in-memory SQLite database: no other process can see it (or write to it)."""
        return self.engine.url.get_backend_name() == "sqlite" and _in_memory(self.engine.url)

    def close(self) -> None:
        if self.private:
            return  # an in-memory database lives as long as its one connection: keep it for the process
        with self._probe_lock:
            if self._probe is not None:
                self._probe.close()
                self._probe = None
        self.engine.dispose()

    def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    # -- profiles ---------------------------------------------------------------------------------

    def profiles(self) -> Iterator[tuple[str, str]]:
        """Every registered profile as (id, JSON), by id."""
        if profiles_table.name in self._missing:
            return
        with self.engine.connect() as connection:
            rows = connection.execute(select(profiles_table.c.id, profiles_table.c.data).order_by(profiles_table.c.id))
            yield from ((str(row.id), str(row.data)) for row in rows)

    def get_profile(self, org_id: str) -> str | None:
        with self.engine.connect() as connection:
            found = connection.execute(select(profiles_table.c.data).where(profiles_table.c.id == org_id)).scalar()
        return None if found is None else str(found)

    def _insert(self, table: Table) -> Any:
        dialect = sqlite if self.backend == "sqlite" else postgresql
        return dialect.insert(table)

    def put_profile(self, profile: Profile) -> bool:
        """Insert or replace ``profile``; True if it was new. Committed on return."""
        data, now = profile.model_dump_json(), datetime.now(UTC)
        with self.engine.begin() as connection:
            changed = connection.execute(
                update(profiles_table).where(profiles_table.c.id == profile.id).values(data=data, updated_at=now)
            ).rowcount
            _record(connection, "profile", profile.id, now)
            if changed:
                return False
            # Another process may insert the same id between the two statements: then ours updates it.
            statement = self._insert(profiles_table).values(id=profile.id, data=data, created_at=now, updated_at=now)
            connection.execute(
                statement.on_conflict_do_update(
                    index_elements=[profiles_table.c.id], set_={"data": data, "updated_at": now}
                )
            )
        return True

    def delete_profile(self, org_id: str) -> bool:
        """Remove a registered profile; True if there was one. Feedback about it is kept."""
        with self.engine.begin() as connection:
            deleted = bool(connection.execute(delete(profiles_table).where(profiles_table.c.id == org_id)).rowcount)
            if deleted:
                _record(connection, "profile", org_id, datetime.now(UTC))
            return deleted

    # -- feedback ---------------------------------------------------------------------------------

    def add_feedback(self, feedback: Feedback) -> bool:
        """Record ``feedback``; False if the identical feedback was already recorded. Committed on return."""
        if feedback.outcome not in OUTCOMES:
            raise MatchmakerError(f"unknown outcome {feedback.outcome!r}; accepted: {', '.join(OUTCOMES)}")
        statement = self._insert(feedback_table).values(
            organisation=feedback.organisation,
            partner=feedback.partner,
            outcome=feedback.outcome,
            created_at=datetime.now(UTC),
        )
        with self.engine.begin() as connection:
            inserted = connection.execute(statement.on_conflict_do_nothing().returning(feedback_table.c.id))
            if inserted.first() is None:
                return False
            _record(connection, "feedback", feedback.organisation, datetime.now(UTC), feedback)
            return True

    def feedback(self) -> list[Feedback]:
        """Every recorded feedback, oldest first."""
        if feedback_table.name in self._missing:
            return []
        query = select(feedback_table.c.organisation, feedback_table.c.partner, feedback_table.c.outcome)
        with self.engine.connect() as connection:
            rows = connection.execute(query.order_by(feedback_table.c.id))
            return [Feedback(str(r.organisation), str(r.partner), str(r.outcome)) for r in rows]

    # -- changes ----------------------------------------------------------------------------------

    def last_change(self) -> int:
        """The id of the latest committed write (0 before the first): one indexed read.

        The service asks before every request, so this skips SQLAlchemy's connection checkout and
        statement compilation (most of a millisecond) and runs on one raw connection kept for it.
        """
        if self.private:  # its one shared connection stays in the pool: detached, the database is gone
            with self.engine.connect() as connection:
                return int(connection.exec_driver_sql(LAST_CHANGE_SQL).scalar() or 0)
        with self._probe_lock:
            if self._probe is None:
                probe = self.engine.raw_connection()
                driver: Any = probe.driver_connection
                if self.backend == "postgresql":
                    driver.autocommit = True  # each read sees the latest commit
                probe.detach()  # its own: never handed back to the pool (with autocommit on)
                self._probe = probe
            cursor = self._probe.cursor()
            try:
                cursor.execute(LAST_CHANGE_SQL)
                found = cursor.fetchone()
            except BaseException:
                self._probe.invalidate()  # a broken connection is not reused
                self._probe = None
                raise
            finally:
                cursor.close()
        return int(found[0] or 0) if found else 0

    def changes_since(self, after: int) -> list[Change]:
        """The writes committed after change ``after``, in commit order."""
        query = select(changes_table).where(changes_table.c.id > after).order_by(changes_table.c.id)
        with self.engine.connect() as connection:
            return [
                Change(int(r.id), str(r.kind), str(r.organisation), r.partner, r.outcome)
                for r in connection.execute(query)
            ]


def _record(
    connection: Connection, kind: str, organisation: str, at: datetime, feedback: Feedback | None = None
) -> None:
    connection.execute(
        changes_table.insert().values(
            kind=kind,
            organisation=organisation,
            partner=None if feedback is None else feedback.partner,
            outcome=None if feedback is None else feedback.outcome,
            created_at=at,
        )
    )


def record(connection: Connection, kind: str, subject: str) -> None:
    """Append a write of ``kind`` about ``subject`` (an event, a job) to the change log, in the caller's transaction."""
    _record(connection, kind, subject, datetime.now(UTC))
