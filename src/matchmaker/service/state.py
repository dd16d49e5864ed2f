"""What the service holds: the shipped profiles, the database, and the current fitted population.

Populations are immutable. A write commits to the database first, then swaps in a new population
built from the current one with :meth:`Population.with_profile` or :meth:`Population.without`
(no refit of the vectoriser), under a lock so writes apply in commit order. Readers take the current
population once per request and never see a half-applied write.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from pydantic import ValidationError

from matchmaker.core.errors import MatchmakerError, Problem, ProfileError, UnknownOrganisation
from matchmaker.core.population import Population
from matchmaker.core.profile import Profile, Vocabulary, vocabulary_problems
from matchmaker.core.scoring import ScoringSettings
from matchmaker.loading import ProfileSet, default_profiles_dir, load_folder, parse_profile
from matchmaker.settings import Settings
from matchmaker.storage import Feedback, Store
from matchmaker.views import profile_summary

log = logging.getLogger("matchmaker.service")
CACHE_ENTRIES = 1024  # rendered answers of a few tens of kB each


class ShippedProfile(MatchmakerError):
    """A write to a profile shipped with the service, which configuration does not allow."""


@dataclass(frozen=True)
class Snapshot:
    """One consistent view for one request: the population and who declined whom."""

    population: Population
    declined: Mapping[str, frozenset[str]]
    version: int

    @cached_property
    def sorted_profiles(self) -> list[Profile]:
        """Every profile, by id."""
        return sorted(self.population.profiles, key=lambda p: p.id)

    @cached_property
    def summaries(self) -> list[dict[str, Any]]:
        """Every organisation's summary, by id."""
        return [profile_summary(p) for p in self.sorted_profiles]

    def excluded_for(self, org_id: str) -> frozenset[str]:
        """The partners ``org_id`` declined: never recommended to it again."""
        return self.declined.get(org_id, frozenset())

    @cached_property
    def declined_pairs(self) -> frozenset[frozenset[str]]:
        """Every unordered pair in which one side declined the other."""
        return frozenset(frozenset((org, partner)) for org, partners in self.declined.items() for partner in partners)


class Service:
    """The shipped profiles plus the registered ones, the feedback, and the fitted population."""

    def __init__(self, settings: Settings, profile_set: ProfileSet, store: Store) -> None:
        self.settings = settings
        self.profile_set = profile_set
        self.store = store
        self.vocabulary: Vocabulary = profile_set.vocabulary
        self.shipped: dict[str, Profile] = {p.id: p for p in profile_set.profiles}
        self.scoring: ScoringSettings = settings.scoring.to_core()
        self._lock = threading.Lock()
        self._cache: OrderedDict[Hashable, bytes] = OrderedDict()
        self._cache_lock = threading.Lock()
        registered = dict(self._load_registered())
        self.registered: set[str] = set(registered)
        declined: defaultdict[str, set[str]] = defaultdict(set)
        for feedback in store.feedback():
            if feedback.outcome == "declined":
                declined[feedback.organisation].add(feedback.partner)
        profiles = {**self.shipped, **registered}
        population = Population.fit(
            profiles.values(),
            dimensions=tuple(self.vocabulary.dimensions),
            sectors=tuple(self.vocabulary.sectors),
            settings=self.scoring,
        )
        self._snapshot = Snapshot(population, {k: frozenset(v) for k, v in declined.items()}, 0)

    @classmethod
    def start(cls, settings: Settings) -> Service:
        """Load the profile folder, open the database and fit the population once."""
        profile_set = load_folder(settings.profiles or default_profiles_dir())
        store = Store.open(settings.database_url, settings.database)
        try:
            return cls(settings, profile_set, store)
        except BaseException:
            store.close()
            raise

    def _load_registered(self) -> list[tuple[str, Profile]]:
        loaded = []
        for org_id, data in self.store.profiles():
            try:
                profile = Profile.model_validate_json(data)
            except ValidationError as err:
                log.warning("registered profile %r is no longer valid and is skipped: %s", org_id, err)
                continue
            problems = vocabulary_problems(profile, self.vocabulary)
            if problems:
                log.warning("registered profile %r is skipped: %s", org_id, problems[0])
                continue
            loaded.append((org_id, profile))
        return loaded

    # -- reads ------------------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        return self._snapshot

    @property
    def population(self) -> Population:
        return self._snapshot.population

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

    # -- writes -----------------------------------------------------------------------------------

    def profile_from_body(self, org_id: str, body: Mapping[str, Any]) -> Profile:
        """The core profile for ``body`` with id ``org_id``, checked against the vocabulary (ProfileError)."""
        profile, problems = parse_profile({**body, "id": org_id}, "")
        if profile is None:
            raise ProfileError(problems)
        problems = vocabulary_problems(profile, self.vocabulary)
        if problems:
            raise ProfileError(problems)
        return profile

    def _check_writable(self, org_id: str) -> None:
        if org_id in self.shipped and not self.settings.allow_shipped_overwrite:
            raise ShippedProfile(
                f"{org_id!r} is a shipped profile and cannot be changed through the API "
                "(allow_shipped_overwrite is off); register the attendee under another id"
            )

    def put(self, profile: Profile) -> bool:
        """Store ``profile`` (committed) and make it visible to the next request; True if it is new."""
        self._check_writable(profile.id)
        with self._lock:
            self.store.put_profile(profile)
            current = self._snapshot
            row = current.population.index.get(profile.id)
            self.registered.add(profile.id)
            if row is not None and current.population.profiles[row] == profile:
                return False  # a retried PUT: nothing changes, and cached answers stay valid
            self._swap(current.population.with_profile(profile), current.declined)
        return row is None

    def delete(self, org_id: str) -> None:
        """Remove a registered profile (committed); a shipped one it replaced comes back."""
        with self._lock:
            if org_id not in self.registered:
                if org_id in self.shipped:
                    raise ShippedProfile(f"{org_id!r} is a shipped profile and cannot be deleted through the API")
                raise UnknownOrganisation(org_id, self._suggest(org_id))
            self.store.delete_profile(org_id)
            self.registered.discard(org_id)
            current = self._snapshot
            shipped = self.shipped.get(org_id)
            population = current.population.with_profile(shipped) if shipped else current.population.without(org_id)
            self._swap(population, current.declined)

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
            if recorded and feedback.outcome == "declined":
                current = self._snapshot
                declined = dict(current.declined)
                declined[feedback.organisation] = declined.get(feedback.organisation, frozenset()) | {feedback.partner}
                self._swap(current.population, declined)
        return recorded

    def _suggest(self, org_id: str) -> tuple[str, ...]:
        try:
            self.population.resolve(org_id)
        except UnknownOrganisation as err:
            return err.suggestions
        return ()

    def _swap(self, population: Population, declined: Mapping[str, frozenset[str]]) -> None:
        self._snapshot = Snapshot(population, declined, self._snapshot.version + 1)

    def close(self) -> None:
        self.store.close()


def problem_list(problems: list[Problem]) -> list[dict[str, str]]:
    return [{"field": p.field, "value": p.value, "message": p.message} for p in problems]
