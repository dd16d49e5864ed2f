"""A fitted population of profiles: ranking partners and pairs, and explaining every score."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import scipy.sparse as sp
from rapidfuzz import fuzz, process

from matchmaker.core.errors import MatchmakerError, UnknownOrganisation
from matchmaker.core.profile import MAX_STRENGTH, Item, Profile, Side
from matchmaker.core.scoring import (
    Context,
    IntArray,
    PairComponents,
    ScoringSettings,
    pair_components,
    score_block,
    top_pairs,
    top_partners,
)
from matchmaker.core.vectoriser import Matrix, ProfileMatrices, ProfileVectoriser

Direction = Literal["a_to_b", "b_to_a"]
REASON_FLOOR = 0.005  # contributions below this explain nothing a reader could use


@dataclass(frozen=True)
class ItemRef:
    """One offer or need of one organisation, with where it stands in the profile."""

    org: str
    side: Side
    dimension: str
    position: int
    item: Item


@dataclass(frozen=True)
class Reason:
    """An offer of one side meeting a need of the other, and how much of the score it makes."""

    direction: Direction
    dimension: str
    offer: ItemRef
    need: ItemRef
    similarity: float
    contribution: float  # share of the directed benefit of ``direction`` this item pair produces


@dataclass(frozen=True)
class DimensionScore:
    a_to_b: float
    b_to_a: float


@dataclass(frozen=True)
class Match:
    """A scored pairing of ``a`` (the organisation asked about) with ``b``, with its breakdown."""

    a: Profile
    b: Profile
    score: float
    reciprocal: float
    a_to_b: float
    b_to_a: float
    sector_fit: float
    cross_border: bool
    dimensions: dict[str, DimensionScore]
    reasons: tuple[Reason, ...]


def _dense_rows(matrix: Matrix) -> Matrix:
    return matrix


class Population:
    """Profiles, the fitted vectoriser and their matrices; immutable, updates return a new population.

    Examples
    --------
    >>> from matchmaker.core.profile import Evidence, Item, Profile
    >>> claim = lambda text: (Item(description=text, strength=3, evidence=Evidence(background="x")),)
    >>> def org(id, country, offer, need):
    ...     return Profile(id=id, name=id.title(), country=country, kind="corporate", sectors=("ai",),
    ...                    offers={"data": claim(offer)}, needs={"data": claim(need)})
    >>> pop = Population.fit([org("cloud", "JP", "factory sensor data", "indian speech data"),
    ...                       org("voice", "IN", "indian speech data", "factory sensor data"),
    ...                       org("other", "IN", "satellite images", "legal documents")])
    >>> [m.b.id for m in pop.partners("Cloud", top=2)]
    ['voice']
    """

    def __init__(self, profiles: Sequence[Profile], vectoriser: ProfileVectoriser, matrices: ProfileMatrices,
                 settings: ScoringSettings) -> None:
        self.profiles = tuple(profiles)
        self.vectoriser = vectoriser
        self.matrices = matrices
        self.settings = settings.validated(vectoriser.dimensions_)
        self.index = {p.id: k for k, p in enumerate(self.profiles)}
        if len(self.index) != len(self.profiles):
            raise MatchmakerError("duplicate organisation ids in the population")
        self.context = Context(countries=np.array([p.country for p in self.profiles]))
        self._names = {key.casefold(): p.id for p in self.profiles for key in (p.id, p.name, *p.aliases)}

    @classmethod
    def fit(cls, profiles: Iterable[Profile], *, dimensions: Sequence[str] | None = None,
            sectors: Sequence[str] | None = None, settings: ScoringSettings | None = None,
            n_components: int | None = None) -> Population:
        """Fit the vectoriser on ``profiles`` and vectorise them."""
        profiles = sorted(profiles, key=lambda p: p.id)
        vectoriser = ProfileVectoriser(dimensions=dimensions, sectors=sectors, n_components=n_components)
        vectoriser.fit(profiles)
        return cls(profiles, vectoriser, vectoriser.blocks(profiles), settings or ScoringSettings())

    @property
    def dimensions(self) -> tuple[str, ...]:
        return tuple(self.vectoriser.dimensions_)

    def __len__(self) -> int:
        return len(self.profiles)

    # -- lookup -----------------------------------------------------------------------------------

    def resolve(self, query: str) -> Profile:
        """The profile whose id, name or alias is ``query`` (case-insensitive), else UnknownOrganisation."""
        found = self._names.get(query.strip().casefold())
        if found is not None:
            return self.profiles[self.index[found]]
        matches = process.extract(query.casefold(), list(self._names), scorer=fuzz.WRatio, limit=6,
                                  score_cutoff=60)
        suggestions = list(dict.fromkeys(self._names[name] for name, _, _ in matches))[:3]
        raise UnknownOrganisation(query, suggestions)

    # -- ranking ----------------------------------------------------------------------------------

    def _settings(self, settings: ScoringSettings | None, dimension: str | None) -> ScoringSettings:
        chosen = (settings or self.settings).validated(self.dimensions)
        return chosen.only(dimension, self.dimensions) if dimension else chosen

    def partners(self, org: str, *, top: int = 10, settings: ScoringSettings | None = None,
                 dimension: str | None = None, country: str | None = None,
                 cross_border: bool = False, exclude: Collection[str] = (), reasons: int = 3) -> list[Match]:
        """The best partners for ``org``, best first; only partners with a score above 0."""
        profile = self.resolve(org)
        chosen = self._settings(settings, dimension)
        allowed = np.ones(len(self), dtype=bool)
        if country:
            allowed &= np.array([country.upper() in p.countries for p in self.profiles])
        if cross_border:
            allowed &= np.array([{profile.country, p.country} == set(chosen.bridge) for p in self.profiles])
        for excluded in exclude:
            if excluded in self.index:
                allowed[self.index[excluded]] = False
        row = self.index[profile.id]
        found = top_partners(self.matrices, row, self.context, chosen, self.dimensions, top, allowed)
        return self._matches(np.full(len(found), row), found, chosen, reasons)

    def pairs(self, *, top: int = 10, settings: ScoringSettings | None = None, cross_border: bool = False,
              dimension: str | None = None, block_rows: int | None = None, memory_budget_mb: float = 512.0,
              progress: Callable[[int, int], None] | None = None, reasons: int = 3) -> list[Match]:
        """The best unordered pairs in the population, best first."""
        chosen = self._settings(settings, dimension)
        a, b, _ = top_pairs(self.matrices, self.context, chosen, self.dimensions, top,
                            cross_border_only=cross_border, block_rows=block_rows,
                            memory_budget_mb=memory_budget_mb, progress=progress)
        return self._matches(a, b, chosen, reasons)

    def explain(self, org_a: str, org_b: str, *, settings: ScoringSettings | None = None,
                dimension: str | None = None) -> Match:
        """The full breakdown of one pair, both directions, with every contributing item pair."""
        a, b = self.resolve(org_a), self.resolve(org_b)
        if a.id == b.id:
            raise MatchmakerError(f"cannot pair {a.id!r} with itself; name two different organisations")
        chosen = self._settings(settings, dimension)
        return self._matches(np.array([self.index[a.id]]), np.array([self.index[b.id]]), chosen, None)[0]

    def _matches(self, a: IntArray, b: IntArray, settings: ScoringSettings, reasons: int | None) -> list[Match]:
        parts = pair_components(self.matrices, a, b, self.context, settings, self.dimensions)
        return [self._match(k, parts, self.profiles[a[k]], self.profiles[b[k]], settings, reasons)
                for k in range(len(a))]

    def _match(self, k: int, parts: PairComponents, a: Profile, b: Profile, settings: ScoringSettings,
               reasons: int | None) -> Match:
        dims = {d: DimensionScore(float(parts.per_dimension_ab[k, i]), float(parts.per_dimension_ba[k, i]))
                for i, d in enumerate(self.dimensions)}
        found = self.reasons(a, b, settings)
        return Match(a=a, b=b, score=float(parts.score[k]), reciprocal=float(parts.reciprocal[k]),
                     a_to_b=float(parts.directed_ab[k]), b_to_a=float(parts.directed_ba[k]),
                     sector_fit=float(parts.sector_fit[k]), cross_border=bool(parts.cross_border[k]),
                     dimensions=dims, reasons=tuple(found if reasons is None else found[:reasons]))

    # -- explanation ------------------------------------------------------------------------------

    def reasons(self, a: Profile, b: Profile, settings: ScoringSettings) -> list[Reason]:
        """Every offer->need item pair behind the score of (a, b), largest contribution first.

        Contributions of one direction add up to its directed benefit (each dimension's share scaled
        down where the benefit was capped at 1).
        """
        found = [*self._directed_reasons(a, b, "a_to_b", settings), *self._directed_reasons(b, a, "b_to_a", settings)]
        return sorted(found, key=lambda r: (-r.contribution, r.direction, r.dimension, r.offer.position))

    def _directed_reasons(self, giver: Profile, taker: Profile, direction: Direction,
                          settings: ScoringSettings) -> list[Reason]:
        alpha = np.array([settings.weight(d) for d in self.dimensions])
        mass = self._need_mass(taker) * alpha
        if mass.sum() <= 0:
            return []
        found: list[Reason] = []
        for d, dimension in enumerate(self.dimensions):
            offers, needs = giver.offers.get(dimension, ()), taker.needs.get(dimension, ())
            if not offers or not needs or mass[d] <= 0:
                continue
            vectors = self.vectoriser.transform_items([*offers, *needs])
            similarity = vectors[: len(offers)] @ vectors[len(offers):].T
            similarity = similarity.toarray() if sp.issparse(similarity) else np.asarray(similarity)
            w = np.array([i.strength for i in offers]) / MAX_STRENGTH
            v = np.array([i.strength for i in needs], dtype=float)
            v /= v.sum()
            raw = np.clip(w[:, None] * v[None, :] * similarity, 0.0, None)
            total = raw.sum()
            cap = min(1.0, total) / total if total > 0 else 0.0
            share = mass[d] / mass.sum() * cap
            for i, j in zip(*np.nonzero(raw * share >= REASON_FLOOR), strict=True):
                found.append(Reason(direction, dimension,
                                    ItemRef(giver.id, "offers", dimension, int(i), offers[i]),
                                    ItemRef(taker.id, "needs", dimension, int(j), needs[j]),
                                    float(similarity[i, j]), float(raw[i, j] * share)))
        return found

    def _need_mass(self, profile: Profile) -> np.ndarray:
        return np.array([max((i.strength for i in profile.needs.get(d, ())), default=0) / MAX_STRENGTH
                         for d in self.dimensions])

    # -- updates ----------------------------------------------------------------------------------

    def with_profile(self, profile: Profile) -> Population:
        """A population with ``profile`` added or replaced, without refitting the vectoriser.

        Words the fitted vocabulary has never seen are ignored until the population is refitted;
        the profile's known words and tags are scored at once.
        """
        new = self.vectoriser.blocks([profile])
        row = self.index.get(profile.id)
        profiles = list(self.profiles)
        if row is None:
            profiles.append(profile)
            matrices = _append_rows(self.matrices, new)
        else:
            profiles[row] = profile
            matrices = _replace_row(self.matrices, row, new)
        return Population(profiles, self.vectoriser, matrices, self.settings)

    def without(self, org_id: str) -> Population:
        """A population without organisation ``org_id``."""
        if org_id not in self.index:
            raise UnknownOrganisation(org_id)
        keep = np.array([k for k in range(len(self)) if k != self.index[org_id]], dtype=np.int64)
        return Population([self.profiles[k] for k in keep], self.vectoriser, _take_rows(self.matrices, keep),
                          self.settings)

    def with_settings(self, settings: ScoringSettings) -> Population:
        return Population(self.profiles, self.vectoriser, self.matrices, settings)


def _stack(parts: Sequence[Matrix]) -> Matrix:
    if sp.issparse(parts[0]):
        return sp.vstack(parts, format="csr")
    return np.vstack([np.asarray(p) for p in parts])


def _append_rows(m: ProfileMatrices, new: ProfileMatrices) -> ProfileMatrices:
    return ProfileMatrices(
        offers=tuple(_stack([x, y]) for x, y in zip(m.offers, new.offers, strict=True)),
        needs=tuple(_stack([x, y]) for x, y in zip(m.needs, new.needs, strict=True)),
        need_mass=np.vstack([m.need_mass, new.need_mass]),
        sectors=_stack([m.sectors, new.sectors]),
    )


def _take_rows(m: ProfileMatrices, rows: IntArray) -> ProfileMatrices:
    return ProfileMatrices(tuple(x[rows] for x in m.offers), tuple(x[rows] for x in m.needs),
                           m.need_mass[rows], m.sectors[rows])


def _replace_row(m: ProfileMatrices, row: int, new: ProfileMatrices) -> ProfileMatrices:
    before, after = np.arange(row), np.arange(row + 1, m.n)
    head, tail = _take_rows(m, before), _take_rows(m, after)
    return _append_rows(_append_rows(head, new), tail)


__all__ = ["DimensionScore", "ItemRef", "Match", "Population", "Reason", "replace"]
