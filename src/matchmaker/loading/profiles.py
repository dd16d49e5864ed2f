"""Reading and checking profiles: the vocabulary, the source documents, one profile, a set of them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from matchmaker.core.errors import MatchmakerError, Problem, ProfileError
from matchmaker.core.evidence import normalise_text, quote_problems
from matchmaker.core.profile import Evidence, Item, Profile, Vocabulary, vocabulary_problems
from matchmaker.core.relations import relation_problems
from matchmaker.loading.layout import VOCABULARY_FILE
from matchmaker.loading.problems import pydantic_problems, short_value
from matchmaker.loading.safe_yaml import read_yaml


def read_sources(folder: Path) -> dict[str, str]:
    """Every text document in ``folder``, normalised for quote comparison, by file name."""
    if not folder.is_dir():
        raise MatchmakerError(f"sources folder {str(folder)!r} does not exist or is not a folder")
    return {
        p.name: normalise_text(p.read_text(encoding="utf-8", errors="replace"))
        for p in sorted(folder.iterdir())
        if p.is_file() and not p.name.startswith(".")
    }


_ITEM_KEYS = frozenset(Item.model_fields)
_EVIDENCE_KEYS = frozenset(Evidence.model_fields)


class ItemCache:
    """Validated items by content, so a population that repeats an item validates and stores it once.

    Large populations repeat item text (programmes reuse wording; synthetic ones recombine it), and
    each validated :class:`Item` is immutable, so equal items can be one object. Only plainly shaped
    items are cached; anything unusual is left to full validation, which words its problems.
    """

    def __init__(self, max_size: int = 1_000_000) -> None:
        self._items: dict[tuple[Any, ...], Item] = {}
        self._max_size = max_size

    @staticmethod
    def _key(data: Any) -> tuple[Any, ...] | None:
        # Every key must be known (an unknown one must reach validation and be reported), so the
        # mapping sizes are compared with the known keys present; type(strength) keeps 3 and "3" apart.
        try:
            evidence = data["evidence"]
            tags = data.get("tags", ())
            if (
                len(data) != 3 + ("tags" in data)
                or type(tags) not in (list, tuple)
                or type(evidence) is not dict
                or len(evidence) != ("source" in evidence) + ("quote" in evidence) + ("background" in evidence)
            ):
                return None
            strength = data["strength"]
            return (
                data["description"],
                type(strength),
                strength,
                tuple(tags),
                evidence.get("source"),
                evidence.get("quote"),
                evidence.get("background"),
            )
        except (KeyError, TypeError, AttributeError):
            return None

    def get(self, data: Any) -> Item | None:
        """The validated item for ``data``, or None if it is invalid or not plainly shaped."""
        key = self._key(data) if type(data) is dict else None
        if key is None:
            return None
        try:
            found = self._items.get(key)
        except TypeError:  # an unhashable value somewhere: leave it to validation
            return None
        if found is None:
            try:
                found = Item.model_validate(data)
            except ValidationError:
                return None
            if len(self._items) < self._max_size:
                self._items[key] = found
        return found


def _with_cached_items(data: dict[str, Any], items: ItemCache) -> dict[str, Any] | None:
    out = dict(data)
    for side in ("offers", "needs"):
        dimensions = data.get(side)
        if dimensions is None:
            continue
        if not isinstance(dimensions, dict):
            return None
        converted: dict[Any, list[Item]] = {}
        for dimension, entries in dimensions.items():
            if not isinstance(entries, list):
                return None
            found = [items.get(entry) for entry in entries]
            if any(item is None for item in found):
                return None
            converted[dimension] = found  # type: ignore[assignment]
        out[side] = converted
    return out


def parse_profile(data: Any, file: str, items: ItemCache | None = None) -> tuple[Profile | None, list[Problem]]:
    """Validate one parsed document as a profile; the problems list says everything wrong with it.

    With ``items``, items already validated are reused; problems are worded exactly as without it.
    """
    if not isinstance(data, dict):
        return None, [Problem(file, "", short_value(data), "a profile must be a YAML mapping of fields")]
    if items is not None:
        prepared = _with_cached_items(data, items)
        if prepared is not None:
            try:
                return Profile.model_validate(prepared), []
            except ValidationError:
                pass  # validated again below from the original data, so the problems name its fields
    try:
        return Profile.model_validate(data), []
    except ValidationError as err:
        return None, pydantic_problems(err, file, Profile)


def check_profiles(
    profiles: Iterable[tuple[str, Profile]], vocabulary: Vocabulary, sources: Mapping[str, str] | None
) -> list[Problem]:
    """Cross-file checks: duplicate ids, the vocabulary, the relations and, when sources are given, the quotes."""
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    profiles = list(profiles)
    for file, profile in profiles:
        if profile.id in seen:
            problems.append(
                Problem(file, "id", profile.id, f"duplicate id {profile.id!r}; also used in {seen[profile.id]}")
            )
        seen.setdefault(profile.id, file)
        problems += vocabulary_problems(profile, vocabulary, file)
        if sources is not None:
            problems += quote_problems(profile, sources, file)
    problems += relation_problems([p for _, p in profiles], {p.id: file for file, p in profiles})
    return problems


def read_vocabulary(folder: Path) -> Vocabulary:
    path = folder / VOCABULARY_FILE
    if not path.is_file():
        raise ProfileError(
            [
                Problem(
                    VOCABULARY_FILE,
                    "",
                    str(folder),
                    f"the profile folder has no {VOCABULARY_FILE} (dimensions, kinds, sectors, tags)",
                )
            ]
        )
    data = read_yaml(path, folder)
    try:
        return Vocabulary.model_validate(data)
    except ValidationError as err:
        raise ProfileError(pydantic_problems(err, VOCABULARY_FILE, Vocabulary)) from err
