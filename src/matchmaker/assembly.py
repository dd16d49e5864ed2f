"""Putting a workspace together from what is on disk: the profile folder, the database and the settings.

The CLI and the HTTP service both start here, so both rank the same organisations (the profile
folder plus the attendees registered in the database) with the same exclusions (declined pairs).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from matchmaker.application.workspace import Exclusions, Workspace, fit_population, roles_of
from matchmaker.core.profile import Profile, Vocabulary, vocabulary_problems
from matchmaker.core.profile_set import ProfileSet
from matchmaker.embedding import encoder_choice
from matchmaker.loading import default_profiles_dir, load_profiles
from matchmaker.settings import Settings

if TYPE_CHECKING:
    from matchmaker.storage import Feedback, Store

log = logging.getLogger("matchmaker")


def profile_set_of(settings: Settings) -> ProfileSet:
    """The profile folder (or population file) the settings name, else the shipped profiles."""
    return load_profiles(settings.profiles or default_profiles_dir())


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


def open_workspace(settings: Settings, profile_set: ProfileSet) -> tuple[Workspace, int]:
    """The workspace a command ranks in: the profile set plus the database's attendees and declines.

    Returns it with the number of registered profiles it holds. A database that does not exist is not
    created: the profile set alone is ranked.
    """
    registered: dict[str, Profile] = {}
    exclusions = Exclusions()
    if database_present(settings):
        from matchmaker.storage import Store  # SQLAlchemy only when there is a database to read

        store = Store.open(settings.database_url, settings.database, create=False)
        try:
            registered = registered_profiles(store, profile_set.vocabulary)
            exclusions = exclusions_of(store.feedback())
        finally:
            store.close()
    population = fit_population(
        population_profiles(profile_set.profiles, registered),
        profile_set.vocabulary,
        settings.scoring.to_core(),
        encoding=encoder_choice(settings),
    )
    workspace = Workspace(population, exclusions, settings.memory_budget_mb, roles_of(profile_set.vocabulary))
    return workspace, len(registered)
