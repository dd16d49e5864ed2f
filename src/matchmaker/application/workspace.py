"""Answering partner, pair and explanation queries over one population, with the same exclusions everywhere.

A :class:`Workspace` is what every adapter asks: the CLI builds one from the profile folder (and the
database, when there is one), the HTTP service one per state of its database, the reports one for
what they show. Whatever asks, the same rules decide what is recommended:

* a declined pair is never recommended (to the decliner; as a pairing, to nobody);
* related organisations (one part of the other, one funding the other, existing partners, bodies of
  the same government, or a recorded agreement) are already connected: left out unless asked for,
  and then marked;
* partner lists and pairs rank counterparts; enablers (the kinds the vocabulary's ``roles`` marks:
  funders, regulators, programmes) come in their own list, "programmes and funders that can support this".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from matchmaker.application.queries import (
    ExplainQuery,
    PairsQuery,
    PartnersQuery,
    ScoringOverrides,
    check_country,
    check_dimension,
    check_enablers,
    check_top,
)
from matchmaker.core.encoding import EncoderChoice
from matchmaker.core.errors import MatchmakerError
from matchmaker.core.population import DimensionScore, Match, Population
from matchmaker.core.profile import Profile, Vocabulary
from matchmaker.core.relations import related_pairs
from matchmaker.core.scoring import ScoringSettings
from matchmaker.core.scoring.execution import Backend, Progress
from matchmaker.core.scoring.filters import PairFilter
from matchmaker.core.vectors import FloatArray, IntArray


def fit_population(
    profiles: Iterable[Profile],
    vocabulary: Vocabulary,
    settings: ScoringSettings | None = None,
    *,
    encoding: EncoderChoice,
) -> Population:
    """The population of ``profiles`` scored on the vocabulary's dimensions and sectors (the one way to fit).

    Item text is read by the chosen encoder (with its loaded model); the vocabulary's tags are its
    concepts and its attributes the vetoes. Exact vectors up to ``AUTO_EXACT_MAX_PROFILES`` profiles,
    latent ones above.
    """
    return Population.fit(
        profiles,
        dimensions=tuple(vocabulary.dimensions),
        sectors=tuple(vocabulary.sectors),
        settings=settings,
        n_components="auto",
        encoder=encoding.name,
        vocabulary=vocabulary,
        model=encoding.model,
        cache=encoding.cache,
    )


@dataclass(frozen=True)
class Exclusions:
    """What feedback says: the partners each organisation declined, and the pairs that recorded an agreement.

    A decline is the decliner's: the other side may still be shown it in its own list (its own
    feedback decides), but the pair is never proposed as a pairing. An agreement is an existing
    partnership: the pair is already connected.
    """

    declined: Mapping[str, frozenset[str]] = field(default_factory=dict)  # organisation -> partners it declined
    agreed: frozenset[frozenset[str]] = frozenset()

    @classmethod
    def of(cls, declines: Iterable[tuple[str, str]], agreements: Iterable[tuple[str, str]] = ()) -> Exclusions:
        """From (organisation, declined partner) and (organisation, partner it agreed with) pairs."""
        found: dict[str, frozenset[str]] = {}
        for org, partner in declines:
            found[org] = found.get(org, frozenset()) | {partner}
        return cls(found, frozenset(frozenset(pair) for pair in agreements))

    def with_declined(self, org: str, partner: str) -> Exclusions:
        return replace(self, declined={**self.declined, org: self.declined.get(org, frozenset()) | {partner}})

    def with_agreement(self, org: str, partner: str) -> Exclusions:
        return replace(self, agreed=self.agreed | {frozenset((org, partner))})

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
    enablers: list[Match] = field(default_factory=list)  # programmes and funders that can support it
    empty_because: str = ""  # when no partner is listed: why (see ``Workspace.no_partners_cause``)


@dataclass(frozen=True)
class PairList:
    settings: ScoringSettings
    pairs: list[Match]
    enablers: list[Match] = field(default_factory=list)  # (counterpart, enabler): who can support whom


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
    """A population, what feedback excludes, the roles of its kinds, and how much memory all-pairs work may use.

    Examples
    --------
    >>> from matchmaker.core.profile import Evidence, Item
    >>> claim = lambda text: (Item(description=text, strength=3, evidence=Evidence(background="x")),)
    >>> def org(id, offer, need, kind="corporate"):
    ...     return Profile(id=id, name=id.title(), country="JP", kind=kind, sectors=("ai",),
    ...                    offers={"data": claim(offer)}, needs={"data": claim(need)})
    >>> population = Population.fit([org("cloud", "sensor logs", "speech corpus"),
    ...                              org("voice", "speech corpus", "sensor logs"),
    ...                              org("echo", "speech corpus", "sensor logs"),
    ...                              org("fund", "speech corpus", "sensor logs", kind="government")])
    >>> workspace = Workspace(population, Exclusions.of([("cloud", "voice")]), roles={"government": "enabler"})
    >>> found = workspace.partners(PartnersQuery("cloud"))
    >>> [m.b.id for m in found.partners], [m.b.id for m in found.enablers]
    (['echo'], ['fund'])
    >>> [(m.a.id, m.b.id) for m in workspace.pairs(PairsQuery()).pairs]
    [('cloud', 'echo')]
    """

    population: Population
    exclusions: Exclusions = field(default_factory=Exclusions)
    memory_budget_mb: float = 512.0
    roles: Mapping[str, str] = field(default_factory=dict)  # kind -> "enabler" (the rest are counterparts)
    backend: str | Backend = "local"  # where all-pairs work runs (``BACKENDS``, or a configured backend)

    @property
    def dimensions(self) -> tuple[str, ...]:
        return self.population.dimensions

    def settings_for(self, scoring: ScoringOverrides) -> ScoringSettings:
        """The population's settings with ``scoring`` applied (a ``dimension`` restriction is applied when scoring)."""
        return scoring.applied_to(self.population.settings, self.dimensions)

    # -- who may be paired with whom ----------------------------------------------------------------

    @cached_property
    def declared(self) -> dict[frozenset[str], tuple[str, ...]]:
        """The pairs the profiles say are connected (relations, one organisation, one government), with why."""
        return {frozenset(pair): reasons for pair, reasons in related_pairs(self.population.profiles).items()}

    @cached_property
    def named(self) -> frozenset[str]:
        """Every organisation some profile's relation names (registering it may connect it to others)."""
        return frozenset(r.org for p in self.population.profiles for r in p.relations)

    @cached_property
    def related(self) -> dict[frozenset[str], tuple[str, ...]]:
        """Every pair already connected, with why: declared relations, one organisation, one government, agreements."""
        found = dict(self.declared)
        for pair in self.exclusions.agreed:
            if all(org in self.population.index for org in pair):
                found[pair] = (*found.get(pair, ()), "an agreement between them was recorded")
        return found

    @cached_property
    def enablers(self) -> NDArray[np.bool_]:
        """Which organisations are enablers (by the role of their kind)."""
        return np.array([self.roles.get(p.kind) == "enabler" for p in self.population.profiles], dtype=bool)

    def _rows(self, pairs: Iterable[frozenset[str]]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        index = self.population.index
        found = [sorted(index[org] for org in pair) for pair in pairs if all(org in index for org in pair)]
        rows = np.array([p[0] for p in found if len(p) == 2], dtype=np.int64)
        cols = np.array([p[1] for p in found if len(p) == 2], dtype=np.int64)
        return rows, cols

    def _pair_rules(self, *, include_related: bool, enablers: bool) -> PairFilter:
        """Counterpart pairs (``enablers`` False) or counterpart-enabler pairs, without declined (and related) ones."""
        excluded = set(self.exclusions.pairs) | (set() if include_related else set(self.related))
        roles = self.enablers
        return PairFilter(
            allowed=None if enablers or not roles.any() else ~roles,
            one_of=roles if enablers else None,
            pairs=self._rows(excluded),
        )

    def _partner_rows(self, profile: Profile, *, include_related: bool, enablers: bool) -> NDArray[np.bool_]:
        """Who may be in ``profile``'s partner list (``enablers`` False) or in its list of enablers."""
        allowed = self.enablers.copy() if enablers else ~self.enablers
        excluded = set(self.exclusions.of_organisation(profile.id))
        if not include_related:
            excluded |= {org for pair in self.related if profile.id in pair for org in pair}
        for org in excluded - {profile.id}:
            if org in self.population.index:
                allowed[self.population.index[org]] = False
        return allowed

    def _marked(self, matches: list[Match], include_related: bool) -> list[Match]:
        if not include_related:
            return matches
        return [replace(m, connections=self.related.get(frozenset((m.a.id, m.b.id)), ())) for m in matches]

    # -- queries ------------------------------------------------------------------------------------

    def partners(self, query: PartnersQuery) -> PartnerList:
        """The best counterpart partners of ``query.org`` (never one it declined), best first, and its enablers."""
        profile = self.population.resolve(query.org)
        check_top(query.top)
        check_enablers(query.enablers)
        check_dimension(query.dimension, self.dimensions)
        check_country(query.country)
        settings = self.settings_for(query.scoring)
        common = {
            "settings": settings,
            "dimension": query.dimension,
            "country": query.country,
            "cross_border": query.cross_border,
            "reasons": query.reasons,
        }
        related = query.include_related
        selections = [(query.top, self._partner_rows(profile, include_related=related, enablers=False))]
        if query.enablers and self.enablers.any():
            selections.append((query.enablers, self._partner_rows(profile, include_related=related, enablers=True)))
        matches, *others = self.population.partners_each(profile.id, selections, **common)  # type: ignore[arg-type]
        enablers = others[0] if others else []
        cause = "" if matches else self.no_partners_cause(profile, query, settings)
        return PartnerList(profile, settings, self._marked(matches, related), self._marked(enablers, related), cause)

    def no_partners_cause(self, profile: Profile, query: PartnersQuery, settings: ScoringSettings) -> str:
        """Why ``profile`` has no counterpart partner, in words: unreadable items, nothing met, or the filters."""
        population = self.population
        items = [item for *_, item in profile.iter_items()]
        if not items:
            return "it has no offers or needs to match"
        unreadable = population.reading_warnings(profile)
        if len(unreadable) == len(items):
            return (
                f"none of its items could be read by the {population.vectoriser.encoder} encoder "
                "(no word, tag or concept it knows): describe them in words or add tags"
            )
        filtered = bool(query.country or query.cross_border or query.dimension or not query.include_related)
        if filtered or self.exclusions.of_organisation(profile.id):
            unfiltered = population.partners(profile.id, top=1, settings=settings, reasons=0)
            if unfiltered:
                return (
                    "everything it could meet is filtered out "
                    "(the country, cross-border, dimension, declined or related-organisation rules)"
                )
        row = population.index[profile.id]
        others = np.array([k for k in range(len(population)) if k != row], dtype=np.int64)
        terms = population.scorer(settings).components(np.full(len(others), row), others)
        if not (terms.directed_ba > 0).any():
            return (
                "nothing anyone offers meets its needs" if profile.needs else "it needs nothing a partner could offer"
            )
        if not (terms.directed_ab > 0).any():
            return "what it offers meets nobody's needs" if profile.offers else "it offers nothing a partner could need"
        return "no organisation both meets its needs and needs what it offers (the score needs both directions)"

    def pairs(self, query: PairsQuery, progress: Progress | None = None) -> PairList:
        """The best counterpart pairs (no declined or related pair), best first, and the enablers of the population."""
        check_top(query.top)
        check_enablers(query.enablers)
        check_dimension(query.dimension, self.dimensions)
        settings = self.settings_for(query.scoring)
        common = {
            "settings": settings,
            "cross_border": query.cross_border,
            "dimension": query.dimension,
            "memory_budget_mb": self.memory_budget_mb,
            "backend": self.backend,
            "reasons": query.reasons,
        }
        related = query.include_related
        found = self.population.pairs(
            top=query.top,
            progress=progress,
            rules=self._pair_rules(include_related=related, enablers=False),
            **common,  # type: ignore[arg-type]
        )
        support: list[Match] = []
        if query.enablers and self.enablers.any():
            support = self.population.pairs(
                top=query.enablers,
                rules=self._pair_rules(include_related=related, enablers=True),
                **common,  # type: ignore[arg-type]
            )
            # The counterpart first: "a can be supported by b".
            support = [m if not self.enablers[self.population.index[m.a.id]] else _swapped(m) for m in support]
        return PairList(settings, self._marked(found, related), self._marked(support, related))

    def all_partners(
        self,
        top: int,
        *,
        scoring: ScoringOverrides | None = None,
        dimension: str | None = None,
        include_related: bool = False,
        progress: Progress | None = None,
    ) -> PartnerTable:
        """Every organisation's best counterpart partners at once, without explanations.

        Row a lists what ``partners`` lists for a: no related organisation unless ``include_related``
        and no enabler for a counterpart, both left out while scoring; only counterparts for an enabler
        (a second run, of the pairs of an enabler and a counterpart, when there are enablers); none a
        declined (a decline is the decliner's: those are dropped from its longer list, so the first
        ``top`` of the rest are exact).
        """
        check_top(top)
        check_dimension(dimension, self.dimensions)
        settings = self.settings_for(scoring or ScoringOverrides())
        population = self.population
        declined = {population.index[o]: ps for o, ps in self.exclusions.declined.items() if o in population.index}
        extra = max((len(ps) for ps in declined.values()), default=0)
        common: dict[str, Any] = {
            "top": top + extra,
            "settings": settings,
            "dimension": dimension,
            "memory_budget_mb": self.memory_budget_mb,
            "backend": self.backend,
        }
        related = self._rows(() if include_related else self.related)
        roles = self.enablers
        runs = 2 if roles.any() else 1

        def part(run: int) -> Progress | None:  # each run is its share of the progress
            if progress is None:
                return None
            return lambda done, total: progress((run * total + done) // runs, total)

        rules = PairFilter(allowed=~roles if runs == 2 else None, pairs=related)
        index, score = population.all_partners(rules=rules, progress=part(0), **common)
        if runs == 2:
            rules = PairFilter(one_of=roles, pairs=related)
            enabler_index, enabler_score = population.all_partners(rules=rules, progress=part(1), **common)
            index[roles], score[roles] = enabler_index[roles], enabler_score[roles]
        for row, partners in declined.items():
            rows = {population.index[p] for p in partners if p in population.index}
            keep = [k for k, j in enumerate(index[row]) if j >= 0 and int(j) not in rows]
            index[row] = [*index[row][keep], *[-1] * (index.shape[1] - len(keep))]
            score[row] = [*score[row][keep], *[0.0] * (index.shape[1] - len(keep))]
        ids = tuple(p.id for p in population.profiles)
        return PartnerTable(settings, ids, index[:, :top], score[:, :top])

    def explain(self, query: ExplainQuery) -> Explanation:
        """One pair's score: both directions, per dimension, every reason.

        Declined and related pairs are explained too: it was asked.
        """
        a, b = self.population.resolve(query.a), self.population.resolve(query.b)
        if a.id == b.id:
            raise MatchmakerError(f"cannot pair {a.id!r} with itself; name two different organisations")
        check_dimension(query.dimension, self.dimensions)
        settings = self.settings_for(query.scoring)
        match = self.population.explain(a.id, b.id, settings=settings, dimension=query.dimension)
        return Explanation(settings, self._marked([match], True)[0])

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
        derived = replace(self, exclusions=exclusions)
        _carry(self, derived, "declared", "named", "enablers")  # the profiles are the same
        return derived

    def with_backend(self, backend: str | Backend) -> Workspace:
        derived = replace(self, backend=backend)
        _carry(self, derived, "declared", "named", "related", "enablers")  # the same profiles and exclusions
        return derived

    def with_profile(self, profile: Profile) -> Workspace:
        """This workspace with ``profile`` added or replaced (``Population.with_profile``: no refit).

        What the profiles say about who is connected and who is an enabler is updated for that one
        profile rather than worked out again for all of them: a registration at a busy event costs
        what it changes, not what the population holds.
        """
        row = self.population.index.get(profile.id)
        old = None if row is None else self.population.profiles[row]
        derived = replace(self, population=self.population.with_profile(profile))
        if not self._may_connect(old, profile):
            _carry(self, derived, "declared", "named")
        if "enablers" in self.__dict__:
            role = self.roles.get(profile.kind) == "enabler"
            mask = np.append(self.enablers, role) if row is None else self.enablers.copy()
            mask[derived.population.index[profile.id]] = role
            derived.__dict__["enablers"] = mask
        return derived

    def without(self, org_id: str) -> Workspace:
        """This workspace without organisation ``org_id`` (``Population.without``)."""
        row = self.population.index[org_id]
        derived = replace(self, population=self.population.without(org_id))
        if not self._may_connect(self.population.profiles[row], None):
            _carry(self, derived, "declared", "named")
        if "enablers" in self.__dict__:
            derived.__dict__["enablers"] = np.delete(self.enablers, row)
        return derived

    def _may_connect(self, old: Profile | None, new: Profile | None) -> bool:
        """Whether replacing ``old`` by ``new`` can change which pairs the profiles say are connected."""
        return any(p is not None and (p.relations or p.government is not None) for p in (old, new)) or any(
            p is not None and p.id in self.named for p in (old, new)
        )


def _carry(source: Workspace, derived: Workspace, *names: str) -> None:
    """Give ``derived`` the cached values ``names`` of ``source`` that are computed already (still valid for it)."""
    for name in names:
        if name in source.__dict__:
            derived.__dict__[name] = source.__dict__[name]


def _swapped(match: Match) -> Match:
    """The same pairing seen from the other side (a and b, and every directed term, exchanged)."""
    return replace(
        match,
        a=match.b,
        b=match.a,
        a_to_b=match.b_to_a,
        b_to_a=match.a_to_b,
        dimensions={d: DimensionScore(s.b_to_a, s.a_to_b) for d, s in match.dimensions.items()},
        reasons=tuple(replace(r, direction="b_to_a" if r.direction == "a_to_b" else "a_to_b") for r in match.reasons),
    )


def roles_of(vocabulary: Vocabulary) -> dict[str, str]:
    """Each kind's role, by the vocabulary."""
    return {kind: vocabulary.role(kind) for kind in vocabulary.kinds}
