"""Answering partner, pair and explanation queries over one population, with the same exclusions everywhere.

A :class:`Workspace` is what every adapter asks: the CLI builds one from the profile folder (and the
database, when there is one), the HTTP service one per state of its database, the reports one for
what they show. Whatever asks, a declined pair is never recommended, the same checks apply in the
same order, and the same errors come back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property

from matchmaker.application.queries import (
    ExplainQuery,
    PairsQuery,
    PartnersQuery,
    ScoringOverrides,
    check_country,
    check_dimension,
    check_top,
)
from matchmaker.core.errors import MatchmakerError
from matchmaker.core.population import Match, Population
from matchmaker.core.profile import Profile, Vocabulary
from matchmaker.core.scoring import ScoringSettings
from matchmaker.core.scoring.execution import Backend, Progress
from matchmaker.core.vectors import FloatArray, IntArray


def fit_population(
    profiles: Iterable[Profile], vocabulary: Vocabulary, settings: ScoringSettings | None = None
) -> Population:
    """The population of ``profiles`` scored on the vocabulary's dimensions and sectors (the one way to fit).

    Exact vectors up to ``AUTO_EXACT_MAX_PROFILES`` profiles, latent ones above.
    """
    return Population.fit(
        profiles,
        dimensions=tuple(vocabulary.dimensions),
        sectors=tuple(vocabulary.sectors),
        settings=settings,
        n_components="auto",
    )


@dataclass(frozen=True)
class Exclusions:
    """What is never recommended: to an organisation, the partners it declined; among pairs, any declined pair.

    A decline is the decliner's: the other side may still be shown it in its own list (its own
    feedback decides), but the pair is never proposed as a pairing.
    """

    declined: Mapping[str, frozenset[str]] = field(default_factory=dict)  # organisation -> partners it declined

    @classmethod
    def of(cls, declines: Iterable[tuple[str, str]]) -> Exclusions:
        """From (organisation, declined partner) pairs."""
        found: dict[str, frozenset[str]] = {}
        for org, partner in declines:
            found[org] = found.get(org, frozenset()) | {partner}
        return cls(found)

    def with_declined(self, org: str, partner: str) -> Exclusions:
        return Exclusions({**self.declined, org: self.declined.get(org, frozenset()) | {partner}})

    @cached_property
    def pairs(self) -> frozenset[frozenset[str]]:
        """Every unordered pair in which one side declined the other."""
        return frozenset(frozenset((org, p)) for org, partners in self.declined.items() for p in partners)

    def of_organisation(self, org_id: str) -> frozenset[str]:
        """The organisations never recommended to ``org_id``: those it declined."""
        return self.declined.get(org_id, frozenset())

    def allows(self, a: str, b: str) -> bool:
        return frozenset((a, b)) not in self.pairs


@dataclass(frozen=True)
class PartnerList:
    organisation: Profile
    settings: ScoringSettings
    partners: list[Match]


@dataclass(frozen=True)
class PairList:
    settings: ScoringSettings
    pairs: list[Match]


@dataclass(frozen=True)
class PartnerTable:
    """Every organisation's best partners: ``index[a]`` lists a's partners' rows (-1: none), ``score[a]`` theirs."""

    settings: ScoringSettings
    ids: tuple[str, ...]  # each row's organisation id
    index: IntArray  # (n, top)
    score: FloatArray  # (n, top)


@dataclass(frozen=True)
class Explanation:
    settings: ScoringSettings
    match: Match


@dataclass(frozen=True)
class Workspace:
    """A population, the pairs it must not recommend, and how much memory all-pairs work may use.

    Examples
    --------
    >>> from matchmaker.core.profile import Evidence, Item
    >>> claim = lambda text: (Item(description=text, strength=3, evidence=Evidence(background="x")),)
    >>> def org(id, offer, need):
    ...     return Profile(id=id, name=id.title(), country="JP", kind="corporate", sectors=("ai",),
    ...                    offers={"data": claim(offer)}, needs={"data": claim(need)})
    >>> population = Population.fit([org("cloud", "sensor logs", "speech corpus"),
    ...                              org("voice", "speech corpus", "sensor logs"),
    ...                              org("echo", "speech corpus", "sensor logs")])
    >>> workspace = Workspace(population, Exclusions.of([("cloud", "voice")]))
    >>> [m.b.id for m in workspace.partners(PartnersQuery("cloud")).partners]
    ['echo']
    >>> [(m.a.id, m.b.id) for m in workspace.pairs(PairsQuery()).pairs]
    [('cloud', 'echo')]
    """

    population: Population
    exclusions: Exclusions = field(default_factory=Exclusions)
    memory_budget_mb: float = 512.0
    backend: str | Backend = "local"  # where all-pairs work runs (``BACKENDS``, or a configured backend)

    @property
    def dimensions(self) -> tuple[str, ...]:
        return self.population.dimensions

    def settings_for(self, scoring: ScoringOverrides) -> ScoringSettings:
        """The population's settings with ``scoring`` applied (a ``dimension`` restriction is applied when scoring)."""
        return scoring.applied_to(self.population.settings, self.dimensions)

    def partners(self, query: PartnersQuery) -> PartnerList:
        """The best partners of ``query.org`` (never one it declined), best first."""
        profile = self.population.resolve(query.org)
        check_top(query.top)
        check_dimension(query.dimension, self.dimensions)
        check_country(query.country)
        settings = self.settings_for(query.scoring)
        matches = self.population.partners(
            profile.id,
            top=query.top,
            settings=settings,
            dimension=query.dimension,
            country=query.country,
            cross_border=query.cross_border,
            exclude=self.exclusions.of_organisation(profile.id),
            reasons=query.reasons,
        )
        return PartnerList(profile, settings, matches)

    def pairs(self, query: PairsQuery, progress: Progress | None = None) -> PairList:
        """The best pairs of the population (no declined pair), best first."""
        check_top(query.top)
        check_dimension(query.dimension, self.dimensions)
        settings = self.settings_for(query.scoring)
        excluded = self.exclusions.pairs
        # Declined pairs are dropped from a longer ranking, so the first ``top`` of the rest are exact.
        found = self.population.pairs(
            top=query.top + len(excluded),
            settings=settings,
            cross_border=query.cross_border,
            dimension=query.dimension,
            memory_budget_mb=self.memory_budget_mb,
            progress=progress,
            reasons=query.reasons,
            backend=self.backend,
        )
        kept = [m for m in found if self.exclusions.allows(m.a.id, m.b.id)][: query.top]
        return PairList(settings, kept)

    def all_partners(
        self,
        top: int,
        *,
        scoring: ScoringOverrides | None = None,
        dimension: str | None = None,
        progress: Progress | None = None,
    ) -> PartnerTable:
        """Every organisation's best partners at once (never one it declined), without explanations."""
        check_top(top)
        check_dimension(dimension, self.dimensions)
        settings = self.settings_for(scoring or ScoringOverrides())
        population = self.population
        declined = {population.index[o]: ps for o, ps in self.exclusions.declined.items() if o in population.index}
        # Declined partners are dropped from longer lists, so the first ``top`` of the rest are exact.
        extra = max((len(ps) for ps in declined.values()), default=0)
        index, score = population.all_partners(
            top=top + extra,
            settings=settings,
            dimension=dimension,
            memory_budget_mb=self.memory_budget_mb,
            progress=progress,
            backend=self.backend,
        )
        for row, partners in declined.items():
            rows = {population.index[p] for p in partners if p in population.index}
            keep = [k for k, j in enumerate(index[row]) if j >= 0 and int(j) not in rows]
            index[row] = [*index[row][keep], *[-1] * (index.shape[1] - len(keep))]
            score[row] = [*score[row][keep], *[0.0] * (index.shape[1] - len(keep))]
        ids = tuple(p.id for p in population.profiles)
        return PartnerTable(settings, ids, index[:, :top], score[:, :top])

    def explain(self, query: ExplainQuery) -> Explanation:
        """One pair's score: both directions, per dimension, every reason (declined pairs too: it was asked)."""
        a, b = self.population.resolve(query.a), self.population.resolve(query.b)
        if a.id == b.id:
            raise MatchmakerError(f"cannot pair {a.id!r} with itself; name two different organisations")
        check_dimension(query.dimension, self.dimensions)
        settings = self.settings_for(query.scoring)
        match = self.population.explain(a.id, b.id, settings=settings, dimension=query.dimension)
        return Explanation(settings, match)

    def partners_of_newcomer(self, profile: Profile, query: PartnersQuery) -> PartnerList:
        """The partners ``profile`` would get if it were registered (nothing is kept); ``query.org`` is its id."""
        return self.with_population(self.population.with_profile(profile)).partners(query)

    def unused_id(self, base: str) -> str:
        """``base``, or ``base-1``, ``base-2``... whichever no organisation of the population has."""
        candidate, n = base, 1
        while candidate in self.population.index:
            candidate, n = f"{base}-{n}", n + 1
        return candidate

    def resolve(self, org: str) -> Profile:
        return self.population.resolve(org)

    def with_population(self, population: Population) -> Workspace:
        return replace(self, population=population)

    def with_exclusions(self, exclusions: Exclusions) -> Workspace:
        return replace(self, exclusions=exclusions)

    def with_backend(self, backend: str | Backend) -> Workspace:
        return replace(self, backend=backend)
