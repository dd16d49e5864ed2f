"""Finding organisations: ids to rows, and ids, names and aliases (any case) to ids, with suggestions."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from rapidfuzz import fuzz, process

from matchmaker.core.errors import MatchmakerError, UnknownOrganisation
from matchmaker.core.profile import Profile


def keys_of(profile: Profile) -> list[str]:
    """The case-folded id, name and aliases an organisation can be found by."""
    return [key.casefold() for key in (profile.id, profile.name, *profile.aliases)]


class Picklable:
    """Locks are recreated on unpickling (a lock itself cannot be pickled)."""

    _locks: tuple[str, ...] = ("lock",)

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in self._locks}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        for name in self._locks:
            setattr(self, name, threading.Lock())


class NameIndex(Picklable):
    """Ids -> rows and names -> ids, shared by populations that extend one another by appends.

    A population of n rows reads only entries below row n, so an index one of its successors has
    extended still answers for it. Only the population holding the index's last row may extend it
    (``claim``); any other copies it first. A name lists every organisation that has it, in row order;
    the last one a population holds is the one it resolves to (as if the names were a dict built in
    row order).
    """

    def __init__(self, profiles: Sequence[Profile]) -> None:
        self.index = {p.id: row for row, p in enumerate(profiles)}
        if len(self.index) != len(profiles):
            raise MatchmakerError("duplicate organisation ids in the population")
        self.names: dict[str, tuple[str, ...]] = {}
        for p in profiles:
            self.add_names(p)
        self.length = len(profiles)
        self.lock = threading.Lock()

    def add_names(self, profile: Profile) -> None:
        for key in keys_of(profile):
            self.names[key] = (*self.names.get(key, ()), profile.id)

    def claim(self, n: int) -> bool:
        with self.lock:
            if self.length != n:
                return False
            self.length = n + 1
            return True


class RowIndex(Mapping[str, int]):
    """Organisation id -> row, for one population (a read-only view of its name index)."""

    def __init__(self, names: NameIndex, profiles: tuple[Profile, ...]) -> None:
        self._index = names.index
        self._profiles = profiles

    def __getitem__(self, key: str) -> int:
        row = self._index[key]
        if row >= len(self._profiles):
            raise KeyError(key)
        return row

    def __contains__(self, key: object) -> bool:
        row = self._index.get(key) if isinstance(key, str) else None
        return row is not None and row < len(self._profiles)

    def __iter__(self) -> Iterator[str]:
        return (p.id for p in self._profiles)

    def __len__(self) -> int:
        return len(self._profiles)


def resolve(query: str, names: NameIndex, index: RowIndex, profiles: Sequence[Profile]) -> Profile:
    """The profile whose id, name or alias is ``query`` (case-insensitive), else UnknownOrganisation.

    An unknown name suggests up to three close ones (fuzzy matching over every id, name and alias).
    """
    for org_id in reversed(names.names.get(query.strip().casefold(), ())):
        row = index.get(org_id)
        if row is not None:
            return profiles[row]
    candidates = {name: held[-1] for name, ids in list(names.names.items()) if (held := [i for i in ids if i in index])}
    matches = process.extract(query.casefold(), list(candidates), scorer=fuzz.WRatio, limit=6, score_cutoff=60)
    suggestions = list(dict.fromkeys(candidates[name] for name, _, _ in matches))[:3]
    raise UnknownOrganisation(query, suggestions)
