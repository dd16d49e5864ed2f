"""Reading a profile folder (one YAML file a profile) or a population file, and every problem in it at once."""

from __future__ import annotations

import hashlib
from pathlib import Path

from matchmaker.core.errors import MatchmakerError, Problem, ProfileError
from matchmaker.core.profile import Profile
from matchmaker.core.profile_set import ProfileSet
from matchmaker.loading.layout import POPULATION_SUFFIXES, VOCABULARY_FILE, profile_files
from matchmaker.loading.population_files import validate_file
from matchmaker.loading.profiles import ItemCache, check_profiles, parse_profile, read_sources, read_vocabulary
from matchmaker.loading.safe_yaml import read_yaml


def validate_folder(folder: Path, sources: Path | None = None) -> tuple[ProfileSet | None, list[Problem]]:
    """Read and check every profile in ``folder``; returns the set (None if any problem) and all problems.

    A population file (``.jsonl`` or ``.parquet``) is accepted too, so every ``--profiles`` option takes
    both forms.
    """
    if folder.is_file() and folder.suffix in POPULATION_SUFFIXES:
        return validate_file(folder, sources)
    if not folder.is_dir():
        raise MatchmakerError(f"profile folder {str(folder)!r} does not exist or is not a folder")
    try:
        vocabulary = read_vocabulary(folder)
    except ProfileError as err:
        return None, list(err.problems)
    problems: list[Problem] = []
    loaded: list[tuple[str, Profile]] = []
    digest = hashlib.sha256((folder / VOCABULARY_FILE).read_bytes())
    items = ItemCache()
    for path in profile_files(folder):
        try:
            data = read_yaml(path, folder)
        except ProfileError as err:
            problems += err.problems
            continue
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
        profile, found = parse_profile(data, path.name, items)
        problems += found
        if profile is not None:
            if profile.id != path.stem:
                problems.append(
                    Problem(
                        path.name, "id", profile.id, f"id {profile.id!r} must equal the file name stem {path.stem!r}"
                    )
                )
            loaded.append((path.name, profile))
    if not loaded and not problems:
        problems.append(Problem(str(folder), "", "", "no profile files (*.yaml) in this folder"))
    problems += check_profiles(loaded, vocabulary, read_sources(sources) if sources else None)
    if problems:
        return None, problems
    return ProfileSet(tuple(p for _, p in loaded), vocabulary, str(folder), digest.hexdigest()[:12]), []


def load_folder(folder: Path, sources: Path | None = None) -> ProfileSet:
    """Like ``validate_folder`` but raising ProfileError with every problem."""
    profile_set, problems = validate_folder(folder, sources)
    if profile_set is None:
        raise ProfileError(problems)
    return profile_set


def validate_profiles(path: Path, sources: Path | None = None) -> tuple[ProfileSet | None, list[Problem]]:
    """Read and check a profile folder or a population file, whichever ``path`` is."""
    return validate_folder(path, sources)


def load_profiles(path: Path, sources: Path | None = None) -> ProfileSet:
    """The profiles of a folder or of a ``.jsonl``/``.parquet`` population file; ProfileError lists every problem."""
    return load_folder(path, sources)
