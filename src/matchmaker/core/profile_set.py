"""A set of profiles with the vocabulary they use: what a population is fitted from."""

from __future__ import annotations

from dataclasses import dataclass

from matchmaker.core.profile import Profile, Vocabulary


@dataclass(frozen=True)
class ProfileSet:
    """Profiles, the vocabulary they use, where they came from and a hash of their content."""

    profiles: tuple[Profile, ...]
    vocabulary: Vocabulary
    location: str
    version: str
