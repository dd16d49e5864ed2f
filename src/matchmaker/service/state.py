"""What the service holds: the shipped profiles, the database, and the current fitted population.

Populations are immutable. A write commits to the database first, then swaps in a new population
built from the current one with :meth:`Population.with_profile` or :meth:`Population.without`
(no refit of the vectoriser), under a lock so writes apply in commit order. Readers take the current
population once per request and never see a half-applied write.

A registration is answered once committed and ranked at once from its words and tags; its new texts
are embedded in the background (:mod:`matchmaker.service.backfill`) and its complete vectors swapped in
when they are ready (``registration_embedding = "inline"`` embeds them before answering instead).

Every write also appends to the database's change log. Each request first reads the log's latest id
and applies any write it has not seen, so several server processes on one database (``matchmaker
serve --workers N``, or several hosts on PostgreSQL) all answer the next request with it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar

from matchmaker.application.workspace import Workspace, fit_population, roles_of
from matchmaker.assembly import exclusions_of, population_profiles, profile_set_of, registered_profiles, stored_profile
from matchmaker.core.encoding import embedding_deferred
from matchmaker.core.encoding.semantic import KeyedEmbeddings
from matchmaker.core.errors import MatchmakerError, Problem, ProfileError, UnknownOrganisation
from matchmaker.core.population import Population
from matchmaker.core.profile import Item, Profile, Vocabulary, vocabulary_problems
from matchmaker.core.profile_set import ProfileSet
from matchmaker.core.relations import relation_problems
from matchmaker.embedding import EmbeddingProcess, encoder_choice
from matchmaker.loading import parse_profile
from matchmaker.service.backfill import Backfill
from matchmaker.settings import ServiceSettings
from matchmaker.storage import Change, Feedback, Store

log = logging.getLogger("matchmaker.service")
T = TypeVar("T")
CACHE_ENTRIES = 1024  # rendered answers of a few tens of kB each
REPORT_ENTRIES = 16  # rendered reports, up to a few MB each
REPORT_RETRY_S = 5  # what a refused report request is told to wait
BUSY_WINDOW_S = 0.25  # a request within this long ago: the background embedding paces itself


class ReportBusy(MatchmakerError):
    """Another report is being rendered in this process; reports render one at a time."""


class ShippedProfile(MatchmakerError):
    """A write to a profile shipped with the service, which configuration does not allow."""


@dataclass(frozen=True)
class Registration:
    """What a registration did: ``created`` (a new id), ``embedding_pending`` (some of its texts are
    embedded in the background: it is ranked from its words and tags until then), and ``warnings``
    for items the encoder cannot read."""

    created: bool
    embedding_pending: bool
    warnings: list[Problem]


@dataclass(frozen=True)
class Snapshot:
    """One consistent view for one request: the workspace (population and exclusions) and its version."""

    workspace: Workspace
    version: int

    @property
    def population(self) -> Population:
        return self.workspace.population

    @cached_property
    def sorted_profiles(self) -> list[Profile]:
        """Every profile, by id."""
        return sorted(self.population.profiles, key=lambda p: p.id)


class Service:
    """The shipped profiles plus the registered ones, the feedback, and the fitted population."""

    def __init__(self, settings: ServiceSettings, profile_set: ProfileSet, store: Store) -> None:
        self.settings = settings
        self.profile_set = profile_set
        self.store = store
        self.vocabulary: Vocabulary = profile_set.vocabulary
        self.shipped: dict[str, Profile] = {p.id: p for p in profile_set.profiles}
        self._lock = threading.RLock()  # writes and catching up; reentrant: a write may look up names
        self.one_at_a_time = threading.Lock()  # see ``ranked``
        self._cache: OrderedDict[Hashable, bytes] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._reports: OrderedDict[Hashable, tuple[bytes, str]] = OrderedDict()
        self._rendering_report = threading.Lock()  # one report at a time: each costs seconds of CPU
        self._own_writes: set[str] = set()  # profiles this process has committed and not applied yet
        self._last_request = 0.0  # when a ranking or a write last started (monotonic seconds)
        self.backfill: Backfill[KeyedEmbeddings] = Backfill(
            self._unembedded, self._embed, self._complete, busy=self._serving
        )
        self._embedding = EmbeddingProcess(settings)
        # Read before the data: a write committed in between is applied again by ``_catch_up`` (harmless).
        self._applied = store.last_change()
        registered = registered_profiles(store, self.vocabulary)
        self.registered: set[str] = set(registered)
        population = fit_population(
            population_profiles(profile_set.profiles, registered),
            self.vocabulary,
            settings.scoring.to_core(),
            encoding=encoder_choice(settings),
        )
        exclusions = exclusions_of(store.feedback())
        workspace = Workspace(population, exclusions, settings.memory_budget_mb, roles_of(self.vocabulary))
        self._snapshot = Snapshot(workspace, 0)

    @classmethod
    def start(cls, settings: ServiceSettings) -> Service:
        """Load the profile folder, open the database and fit the population once."""
        profile_set = profile_set_of(settings)
        store = Store.open(settings.database_url, settings.database)
        try:
            return cls(settings, profile_set, store)
        except BaseException:
            store.close()
            raise

    @staticmethod
    def prepare(settings: ServiceSettings) -> None:
        """Check what ``start`` would load, without fitting: the profile folder reads, the database opens.

        The database's tables are created here, so server processes started next do not race to.
        """
        profile_set_of(settings)
        Store.open(settings.database_url, settings.database).close()

    # -- reads ------------------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """The current population, with every write committed so far (by any process) applied."""
        self._catch_up()
        return self._snapshot

    @property
    def population(self) -> Population:
        return self.snapshot().population

    @property
    def workspace(self) -> Workspace:
        return self.snapshot().workspace

    def _catch_up(self) -> None:
        """Apply the writes other processes committed (several workers or hosts share the database).

        One indexed read per request; a write this process made was applied when it was made. Nobody
        else writes to an in-memory database (and its one shared connection is best left to writes).
        """
        if not self.store.private and self.store.last_change() > self._applied:
            with self._lock:
                self._catch_up_locked()

    def _catch_up_locked(self) -> None:
        for change in self.store.changes_since(self._applied):
            self._apply(change)
            self._applied = change.id

    def _apply(self, change: Change) -> None:
        """Bring the population in line with one committed write (called with ``_lock`` held)."""
        if change.kind not in ("profile", "feedback"):
            return  # events and their jobs are read from the database by every request: nothing to apply
        current = self._snapshot.workspace
        if change.kind == "feedback":
            if change.partner is not None and change.outcome in ("declined", "agreement"):
                exclusions = current.exclusions
                if change.outcome == "declined":
                    exclusions = exclusions.with_declined(change.organisation, change.partner)
                else:
                    exclusions = exclusions.with_agreement(change.organisation, change.partner)
                self._swap(current.with_exclusions(exclusions))
            return
        org_id = change.organisation
        own = org_id in self._own_writes
        self._own_writes.discard(org_id)
        stored = self.store.get_profile(org_id)
        profile = stored_profile(org_id, stored, self.vocabulary) if stored is not None else None
        population = current.population
        if profile is not None:
            self.registered.add(org_id)
            row = population.index.get(org_id)
            if row is None or population.profiles[row] != profile:
                self._register(current, profile, own=own)
            return
        self.registered.discard(org_id)
        shipped = self.shipped.get(org_id)
        if shipped is not None:
            self._swap(current.with_profile(shipped))
        elif org_id in population.index:
            self._swap(current.without(org_id))

    def _serving(self) -> bool:
        """Whether requests are being answered: a ranking or a write started within ``BUSY_WINDOW_S``
        (health checks and lookups do not count: they cost nothing the background work would slow)."""
        return time.monotonic() - self._last_request < BUSY_WINDOW_S

    def _register(self, current: Workspace, profile: Profile, *, own: bool) -> None:
        """Swap in ``profile``: at once from its words, tags and cached embeddings, completed in the background."""
        if self.settings.registration_embedding == "inline":
            self._swap(current.with_profile(profile))
            return
        with embedding_deferred() as pending:
            workspace = current.with_profile(profile)
        self._swap(workspace)
        if pending:
            self.backfill.submit(profile, own=own)

    def _items(self, profile: Profile) -> list[Item]:
        return [item for *_, item in profile.iter_items()]

    def _unembedded(self, profile: Profile) -> bool:
        """True if some text of ``profile`` is in no embedding cache yet (this process's or the shared one)."""
        with embedding_deferred() as pending:
            self._snapshot.population.vectoriser.transform_items(self._items(profile))
        return bool(pending)

    def _embed(self, profile: Profile) -> KeyedEmbeddings:
        """Embed ``profile``'s new texts in the low-priority child process (no lock held); not cached yet."""
        return self._snapshot.population.vectoriser.missing_embeddings(self._items(profile), self._embedding.embed)

    def _complete(self, profile: Profile, embedded: KeyedEmbeddings | None) -> None:
        """Cache ``embedded`` and swap in the complete vectors of ``profile`` if it is still the registered one.

        Both under the lock, and reads read new texts as not embedded (``ranked``): no answer explains a
        pair with embeddings its scores were computed without.
        """
        with self._lock:
            if embedded:
                self._snapshot.population.vectoriser.keep_embeddings(embedded)
            current = self._snapshot.workspace
            row = current.population.index.get(profile.id)
            if row is not None and current.population.profiles[row] == profile:
                self._swap(current.with_profile(profile))

    def lookup(self, key: Hashable, snapshot: Snapshot) -> bytes | None:
        """A rendered answer remembered for ``key`` in this population version, if any.

        Every write starts a new version, so an answer is never served after a write that could change it.
        """
        with self._cache_lock:
            found = self._cache.get((snapshot.version, key))
            if found is not None:
                self._cache.move_to_end((snapshot.version, key))
            return found

    def remember(self, key: Hashable, snapshot: Snapshot, value: bytes) -> None:
        """Keep ``value`` for ``key``; the least recently used answers go first."""
        with self._cache_lock:
            self._cache[(snapshot.version, key)] = value
            while len(self._cache) > CACHE_ENTRIES:
                self._cache.popitem(last=False)

    def answer(self, key: Hashable, snapshot: Snapshot, render: Callable[[], bytes]) -> bytes:
        """The answer to ``key`` in this snapshot: remembered, else rendered (one at a time) and remembered."""
        found = self.lookup(key, snapshot)
        if found is None:
            found = self.ranked(render)
            self.remember(key, snapshot, found)
        return found

    def report(self, key: Hashable, snapshot: Snapshot, render: Callable[[], tuple[bytes, str]]) -> tuple[bytes, str]:
        """The report for ``key`` in this snapshot: remembered, else rendered, one report at a time.

        A report costs seconds of CPU, so the same report is rendered once per population version,
        and while one renders a request for another is refused (``ReportBusy``) rather than queued:
        waiting requests would hold the threads other routes need.
        """
        versioned = (snapshot.version, key)
        with self._cache_lock:
            found = self._reports.get(versioned)
        if found is not None:
            return found
        if not self._rendering_report.acquire(blocking=False):
            raise ReportBusy(
                f"another report is being prepared on this server; retry in {REPORT_RETRY_S} seconds "
                "(a report, once prepared, is served at once until the next write)"
            )
        try:
            with self._cache_lock:
                found = self._reports.get(versioned)  # prepared while this request waited for the lock
            if found is None:
                with embedding_deferred():
                    found = render()
                with self._cache_lock:
                    self._reports[versioned] = found
                    while len(self._reports) > REPORT_ENTRIES:
                        self._reports.popitem(last=False)
            return found
        finally:
            self._rendering_report.release()

    def ranked(self, work: Callable[..., T], *args: Any, embed_new_texts: bool = False, **kwargs: Any) -> T:
        """Run one request's ranking and explanation (``work(*args, **kwargs)``), one request at a time.

        A text no embedding cache holds belongs to a registration still being completed in the background:
        it is read as its vectors were (``embedding_deferred``), not embedded on a read. Only an ad-hoc
        profile's texts are embedded here (``embed_new_texts``).

        It is pure Python and numpy, so it holds the GIL most of the time: threads ranking at once
        only take turns at the interpreter, each finishing later, and switching costs a third more CPU
        per request (measured: 68 against 111 requests/s at 10,000 organisations). Partner lists run
        here on the event loop itself; explanations and ad-hoc matches, from FastAPI's thread pool,
        wait on the lock rather than compete.
        """
        self._last_request = time.monotonic()
        with self.one_at_a_time:
            if embed_new_texts:
                return work(*args, **kwargs)
            with embedding_deferred():
                return work(*args, **kwargs)

    # -- writes -----------------------------------------------------------------------------------

    def profile_from_body(self, org_id: str, body: Mapping[str, Any]) -> Profile:
        """The core profile for ``body`` with id ``org_id``, checked against the vocabulary (ProfileError)."""
        profile, problems = parse_profile({**body, "id": org_id}, "")
        if profile is None:
            raise ProfileError(problems)
        problems = vocabulary_problems(profile, self.vocabulary)
        population = self.population
        targets = [population.profiles[population.index[r.org]] for r in profile.relations if r.org in population.index]
        problems += [p for p in relation_problems([profile, *targets]) if p.file == profile.id]
        if problems:
            raise ProfileError(problems)
        return profile

    def _check_writable(self, org_id: str) -> None:
        if org_id in self.shipped and not self.settings.allow_shipped_overwrite:
            raise ShippedProfile(
                f"{org_id!r} is a shipped profile and cannot be changed through the API "
                "(allow_shipped_overwrite is off); register the attendee under another id"
            )

    def put(self, profile: Profile) -> Registration:
        """Store ``profile`` (committed) and make it visible to the next request."""
        self._check_writable(profile.id)
        self._last_request = time.monotonic()
        with self._lock:
            self._catch_up_locked()
            new = profile.id not in self._snapshot.population.index
            self.store.put_profile(profile)
            self._own_writes.add(profile.id)
            self._catch_up_locked()  # applies this write, and any another process committed meanwhile
        with embedding_deferred() as pending:
            warnings = self._snapshot.population.reading_warnings(profile)
        return Registration(new, bool(pending), warnings)

    def delete(self, org_id: str) -> None:
        """Remove a registered profile (committed); a shipped one it replaced comes back."""
        with self._lock:
            self._catch_up_locked()
            if org_id not in self.registered:
                if org_id in self.shipped:
                    raise ShippedProfile(f"{org_id!r} is a shipped profile and cannot be deleted through the API")
                raise UnknownOrganisation(org_id, self._suggest(org_id))
            self.store.delete_profile(org_id)
            self._catch_up_locked()

    def add_feedback(self, feedback: Feedback) -> bool:
        """Record feedback (committed); a decline excludes the partner from the organisation's lists."""
        population = self.population
        for org_id in (feedback.organisation, feedback.partner):
            if org_id not in population.index:
                raise UnknownOrganisation(org_id, self._suggest(org_id))
        if feedback.organisation == feedback.partner:
            raise MatchmakerError(f"feedback pairs two different organisations; got {feedback.organisation!r} twice")
        with self._lock:
            recorded = self.store.add_feedback(feedback)
            self._catch_up_locked()
        return recorded

    def _suggest(self, org_id: str) -> tuple[str, ...]:
        try:
            self.population.resolve(org_id)
        except UnknownOrganisation as err:
            return err.suggestions
        return ()

    def _swap(self, workspace: Workspace) -> None:
        self._snapshot = Snapshot(workspace, self._snapshot.version + 1)

    def close(self) -> None:
        self.backfill.close()
        self._embedding.close()
        self.store.close()


def problem_list(problems: list[Problem]) -> list[dict[str, str]]:
    return [{"field": p.field, "value": p.value, "message": p.message} for p in problems]
