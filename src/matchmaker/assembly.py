"""Putting a workspace together from what is on disk: the profile folder, the database and the settings.

The CLI and the HTTP service both start here, so both rank the same organisations (the profile
folder plus the attendees registered in the database) with the same exclusions (declined pairs).
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from matchmaker.application.workspace import Exclusions, Workspace, fit_population, roles_of
from matchmaker.core.errors import MatchmakerError
from matchmaker.core.profile import Profile, Vocabulary, vocabulary_problems
from matchmaker.core.profile_set import ProfileSet
from matchmaker.embedding import encoder_choice
from matchmaker.loading.layout import default_profiles_dir
from matchmaker.settings import Settings

if TYPE_CHECKING:
    from matchmaker.core.population import Population
    from matchmaker.core.scoring.execution import Backend
    from matchmaker.storage import Feedback, Store

log = logging.getLogger("matchmaker")


def profiles_path(settings: Settings) -> Path:
    """Where the profiles are: the folder (or population file) the settings name, else the shipped profiles."""
    return settings.profiles or default_profiles_dir()


def profile_set_of(settings: Settings) -> ProfileSet:
    """The profile folder (or population file) the settings name, else the shipped profiles."""
    from matchmaker.loading import load_profiles  # the parsers and validators only when profiles are read

    return load_profiles(profiles_path(settings))


def stored_profile(org_id: str, data: str, vocabulary: Vocabulary) -> Profile | None:
    """A registered profile from its stored JSON, or None (logged) if it no longer validates."""
    try:
        profile = Profile.model_validate_json(data)
    except ValidationError as err:
        log.warning("registered profile %r is no longer valid and is skipped: %s", org_id, err)
        return None
    problems = vocabulary_problems(profile, vocabulary)
    if problems:
        log.warning("registered profile %r is skipped: %s", org_id, problems[0])
        return None
    return profile


def registered_profiles(store: Store, vocabulary: Vocabulary) -> dict[str, Profile]:
    """Every registered profile that still validates, by id."""
    loaded = ((org_id, stored_profile(org_id, data, vocabulary)) for org_id, data in store.profiles())
    return {org_id: profile for org_id, profile in loaded if profile is not None}


def exclusions_of(feedback: Iterable[Feedback]) -> Exclusions:
    """What recorded feedback excludes: declines, and agreements (existing partnerships)."""
    feedback = list(feedback)
    return Exclusions.of(
        ((f.organisation, f.partner) for f in feedback if f.outcome == "declined"),
        ((f.organisation, f.partner) for f in feedback if f.outcome == "agreement"),
    )


def population_profiles(shipped: Iterable[Profile], registered: Mapping[str, Profile]) -> list[Profile]:
    """The shipped profiles with the registered ones added (a registration under a shipped id replaces it)."""
    return list({**{p.id: p for p in shipped}, **registered}.values())


def database_present(settings: Settings) -> bool:
    """True when the settings name a database that exists (a URL, or the SQLite file on disk)."""
    return settings.database_url is not None or Path(settings.database).is_file()


def backend_of(settings: Settings, engine: str | None = None, scheduler: str | None = None) -> str | Backend:
    """Where all-pairs work runs: ``engine`` (else the settings'), on the scheduler given (else the settings').

    A scheduler given alone means the dask engine; the dask backend (and Dask) is imported only then.
    """
    if engine is None:
        engine = "dask" if scheduler is not None else settings.engine
    if engine == "local":
        if scheduler is not None:
            raise MatchmakerError(f"a scheduler ({scheduler!r}) is for the dask engine; use --engine dask")
        return "local"
    if engine != "dask":
        raise MatchmakerError(f"unknown engine {engine!r}; accepted: local, dask")
    if importlib.util.find_spec("distributed") is None:
        raise MatchmakerError("the dask engine needs Dask: pip install 'matchmaker[dask]'")
    from matchmaker.cluster import DaskBackend

    return DaskBackend(scheduler if scheduler is not None else settings.dask_scheduler, settings.dask_workers)


def open_workspace(settings: Settings, profile_set: ProfileSet) -> tuple[Workspace, int]:
    """The workspace a command ranks in: the profile set plus the database's attendees and declines.

    Returns it with the number of registered profiles it holds. A database that does not exist is not
    created: the profile set alone is ranked.
    """
    registered, exclusions = database_contents(settings, profile_set.vocabulary)
    population = fitted(settings, profile_set, registered)
    return _workspace(settings, profile_set, population, exclusions), len(registered)


def open_cached_workspace(
    settings: Settings, profile_set: ProfileSet | None = None
) -> tuple[Workspace, int, ProfileSet]:
    """The workspace of ``open_workspace``, its population read from the fit cache when it holds it.

    ``profile_set`` is the profile set of ``profiles_path(settings)`` if it was read already; else it is
    read only if the cache does not hold the fit (``matchmaker.fit_cache``: the answers are the same).
    Returns the workspace, the number of registered profiles it holds, and the profile set.
    """
    from matchmaker.fit_cache import cached_fit

    path = profiles_path(settings)
    registered: dict[str, Profile] = {}
    exclusions = Exclusions()
    if database_present(settings):
        profile_set = profile_set or profile_set_of(settings)
        registered, exclusions = database_contents(settings, profile_set.vocabulary)
    given = profile_set

    def fit() -> tuple[ProfileSet, Population]:
        chosen = given or profile_set_of(settings)
        return chosen, fitted(settings, chosen, registered)

    read, population = cached_fit(settings, path, fit, registered.values())
    profile_set = given or read
    return _workspace(settings, profile_set, population, exclusions), len(registered), profile_set


def database_contents(settings: Settings, vocabulary: Vocabulary) -> tuple[dict[str, Profile], Exclusions]:
    """The registered profiles (those that still validate) and what feedback excludes; none without a database.

    A database that does not exist is not created.
    """
    if not database_present(settings):
        return {}, Exclusions()
    from matchmaker.storage import Store  # SQLAlchemy only when there is a database to read

    store = Store.open(settings.database_url, settings.database, create=False)
    try:
        return registered_profiles(store, vocabulary), exclusions_of(store.feedback())
    finally:
        store.close()


def fitted(settings: Settings, profile_set: ProfileSet, registered: Mapping[str, Profile]) -> Population:
    """The population of the profile set and the registered profiles, fitted with the configured encoder."""
    return fit_population(
        population_profiles(profile_set.profiles, registered),
        profile_set.vocabulary,
        settings.scoring.to_core(),
        encoding=encoder_choice(settings),
    )


def _workspace(
    settings: Settings, profile_set: ProfileSet, population: Population, exclusions: Exclusions
) -> Workspace:
    roles = roles_of(profile_set.vocabulary)
    return Workspace(population, exclusions, settings.memory_budget_mb, roles, backend_of(settings))
