"""A fitted population of profiles: ranking partners and pairs, and explaining every score."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from functools import cached_property
from itertools import pairwise
from typing import Any

import numpy as np
from numpy.typing import NDArray

from matchmaker.core.encoding import EmbeddingCache, EmbeddingModel
from matchmaker.core.errors import MatchmakerError, Problem, UnknownOrganisation
from matchmaker.core.population.item_vectors import ItemVectorMemo
from matchmaker.core.population.matches import Match, build_matches
from matchmaker.core.population.names import NameIndex, Picklable, RowIndex, keys_of, resolve
from matchmaker.core.population.storage import ChunkStore
from matchmaker.core.profile import Profile, Vocabulary
from matchmaker.core.scoring import SCORERS
from matchmaker.core.scoring.contract import PopulationVectors, Scorer
from matchmaker.core.scoring.execution import Backend, Progress, top_pairs, top_partners_all
from matchmaker.core.scoring.filters import PairFilter, Restricted
from matchmaker.core.scoring.formula import Context, bridge_sides
from matchmaker.core.scoring.reasons import Reason
from matchmaker.core.scoring.settings import ScoringSettings
from matchmaker.core.vectoriser import NComponents, ProfileVectoriser
from matchmaker.core.vectors import FloatArray, IntArray, ProfileMatrices


class Population(Picklable):
    """Profiles, the fitted vectoriser and their matrices; immutable, updates return a new population.

    ``with_profile`` adds or changes a profile without refitting the vectoriser or rescoring anyone
    (see :mod:`~matchmaker.core.population.storage`); ``matrices`` joins the row chunks on first use.

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
    >>> grown = pop.with_profile(org("maps", "JP", "legal documents", "satellite images"))
    >>> [m.b.id for m in grown.partners("other")], len(pop), len(grown)
    (['maps'], 3, 4)
    """

    profiles: tuple[Profile, ...]
    vectoriser: ProfileVectoriser
    settings: ScoringSettings
    index: RowIndex
    context: Context
    _locks = ()

    def __init__(
        self,
        profiles: Sequence[Profile],
        vectoriser: ProfileVectoriser,
        matrices: ProfileMatrices,
        settings: ScoringSettings,
    ) -> None:
        profiles = tuple(profiles)
        if matrices.n != len(profiles):
            raise MatchmakerError(f"{matrices.n} matrix rows for {len(profiles)} profiles; they must match")
        store = ChunkStore((matrices,), whole=matrices)
        self._set(profiles, vectoriser, settings, store, NameIndex(profiles), np.array([p.country for p in profiles]))

    def _set(
        self,
        profiles: tuple[Profile, ...],
        vectoriser: ProfileVectoriser,
        settings: ScoringSettings,
        store: ChunkStore,
        names: NameIndex,
        countries: NDArray[np.str_],
        item_vectors: ItemVectorMemo | None = None,
    ) -> None:
        self.profiles = profiles
        self.vectoriser = vectoriser
        self.settings = settings.validated(vectoriser.dimensions_)
        self.index = RowIndex(names, profiles)
        self.context = Context(countries=countries)
        self._store = store
        self._names = names
        self._item_vectors = item_vectors or ItemVectorMemo(vectoriser)  # shared with derived populations

    def _derived(
        self,
        profiles: tuple[Profile, ...],
        store: ChunkStore,
        names: NameIndex,
        countries: NDArray[np.str_],
        settings: ScoringSettings | None = None,
    ) -> Population:
        derived = object.__new__(Population)
        derived._set(profiles, self.vectoriser, settings or self.settings, store, names, countries, self._item_vectors)
        return derived

    @classmethod
    def fit(
        cls,
        profiles: Iterable[Profile],
        *,
        dimensions: Sequence[str] | None = None,
        sectors: Sequence[str] | None = None,
        settings: ScoringSettings | None = None,
        n_components: NComponents = "auto",
        encoder: str = "tfidf",
        vocabulary: Vocabulary | None = None,
        model: EmbeddingModel | None = None,
        cache: EmbeddingCache | None = None,
    ) -> Population:
        """Fit the vectoriser on ``profiles`` and vectorise them.

        ``n_components="auto"`` (the default, also the CLI's) keeps exact sparse vectors for up to
        ``AUTO_EXACT_MAX_PROFILES`` profiles and uses latent ones above; the choice is
        ``vectoriser.n_components_``. ``encoder``, ``vocabulary``, ``model`` and ``cache`` are the
        vectoriser's (:class:`~matchmaker.core.vectoriser.ProfileVectoriser`): the application fits
        with the configured encoder (``hybrid`` by default) and its loaded model.
        """
        profiles = sorted(profiles, key=lambda p: p.id)
        vectoriser = ProfileVectoriser(
            dimensions=dimensions,
            sectors=sectors,
            n_components=n_components,
            encoder=encoder,
            vocabulary=vocabulary,
            model=model,
            cache=cache,
        )
        vectoriser.fit(profiles)
        return cls(profiles, vectoriser, vectoriser.blocks(profiles), settings or ScoringSettings())

    @property
    def dimensions(self) -> tuple[str, ...]:
        return tuple(self.vectoriser.dimensions_)

    @property
    def matrices(self) -> ProfileMatrices:
        """Every profile's vectors as one set of matrices (joined from the row chunks on first use)."""
        return self._store.whole()

    def __len__(self) -> int:
        return len(self.profiles)

    def resolve(self, query: str) -> Profile:
        """The profile whose id, name or alias is ``query`` (case-insensitive), else UnknownOrganisation."""
        return resolve(query, self._names, self.index, self.profiles)

    # -- scoring ----------------------------------------------------------------------------------

    @cached_property
    def vectors(self) -> PopulationVectors:
        """What scorers are fitted on: the row chunks, the context and the derived-array cache."""
        store = self._store
        return PopulationVectors(
            chunks=store.chunks,
            context=self.context,
            dimensions=self.dimensions,
            cache=store,
            whole=store.whole,
            rows=store.rows,
            item_vectors=self._item_vectors,
        )

    def chosen_settings(self, settings: ScoringSettings | None = None, dimension: str | None = None) -> ScoringSettings:
        """``settings`` (default: the population's) validated for its dimensions, limited to ``dimension`` if given."""
        chosen = (settings or self.settings).validated(self.dimensions)
        return chosen.only(dimension, self.dimensions) if dimension else chosen

    def scorer(self, settings: ScoringSettings | None = None, dimension: str | None = None) -> Scorer:
        """The scorer ``settings.scorer`` names, fitted on this population."""
        chosen = self.chosen_settings(settings, dimension)
        return SCORERS.get_entry(chosen.scorer)(chosen).fit(self.vectors)

    def _present_in(self, country: str) -> NDArray[np.bool_]:
        def build() -> NDArray[np.bool_]:
            return np.array([country in p.countries for p in self.profiles], dtype=bool)

        return self._store.per_population("presence", (country,), build)

    def allowed_partners(
        self,
        profile: Profile,
        settings: ScoringSettings,
        *,
        country: str | None = None,
        cross_border: bool = False,
        exclude: Collection[str] = (),
    ) -> NDArray[np.bool_] | None:
        """Which organisations may be ``profile``'s partners under the filters; None when all may."""
        if not (country or cross_border or exclude):
            return None
        allowed = np.ones(len(self), dtype=bool)
        if country:
            allowed &= self._present_in(country)
        if cross_border:
            is_x, is_y = bridge_sides(self.context.countries, settings.bridge)
            x, y = bridge_sides(np.array([profile.country]), settings.bridge)
            allowed &= (is_y & x[0]) | (is_x & y[0])
        for excluded in exclude:
            if excluded in self.index:
                allowed[self.index[excluded]] = False
        return allowed

    def matches(self, scorer: Scorer, a: IntArray, b: IntArray, reasons: int | None) -> list[Match]:
        """The pairs of rows (a[k], b[k]) with their breakdown and up to ``reasons`` reasons (None: all)."""
        return build_matches(scorer, self.profiles, self.dimensions, a, b, reasons)

    def partners(
        self,
        org: str,
        *,
        top: int = 10,
        settings: ScoringSettings | None = None,
        dimension: str | None = None,
        country: str | None = None,
        cross_border: bool = False,
        exclude: Collection[str] = (),
        allowed: NDArray[np.bool_] | None = None,
        reasons: int = 3,
    ) -> list[Match]:
        """The best partners for ``org``, best first; only partners with a score above 0.

        One organisation against everyone (the scorer's ``top_partners``), then the breakdown and
        reasons of the ``top`` found only. ``allowed`` (one flag per row) narrows the partners further.
        """
        return self.partners_each(
            org,
            [(top, allowed)],
            settings=settings,
            dimension=dimension,
            country=country,
            cross_border=cross_border,
            exclude=exclude,
            reasons=reasons,
        )[0]

    def partners_each(
        self,
        org: str,
        selections: Sequence[tuple[int, NDArray[np.bool_] | None]],
        *,
        settings: ScoringSettings | None = None,
        dimension: str | None = None,
        country: str | None = None,
        cross_border: bool = False,
        exclude: Collection[str] = (),
        reasons: int = 3,
    ) -> list[list[Match]]:
        """``partners(org, top=top, allowed=allowed, ...)`` for each (top, allowed) of ``selections``.

        ``org`` is scored against everyone once and the partners of every list are explained in one
        batch: a partner list and its enablers cost little more than the list alone.
        """
        profile = self.resolve(org)
        scorer = self.scorer(settings, dimension)
        filtered = self.allowed_partners(
            profile, scorer.settings, country=country, cross_border=cross_border, exclude=exclude
        )
        if filtered is not None:
            selections = [(top, filtered if allowed is None else allowed & filtered) for top, allowed in selections]
        row = self.index[profile.id]
        found = [index for index, _ in scorer.top_partners_each(row, selections)]
        partners = np.concatenate(found) if found else np.zeros(0, dtype=np.intp)
        matches = self.matches(scorer, np.full(len(partners), row), partners, reasons)
        bounds = np.cumsum([0, *(len(f) for f in found)]).tolist()
        return [matches[start:stop] for start, stop in pairwise(bounds)]

    def all_partners(
        self,
        *,
        top: int = 10,
        settings: ScoringSettings | None = None,
        dimension: str | None = None,
        block_rows: int | None = None,
        memory_budget_mb: float = 512.0,
        progress: Progress | None = None,
        n_jobs: int | None = None,
        backend: str | Backend = "local",
        rules: PairFilter | None = None,
    ) -> tuple[IntArray, FloatArray]:
        """The ``top`` best partners of every organisation at once, without explanations.

        Returns ``(index, score)``, both (n, top), rows in ``profiles`` order: row a lists a's partners'
        rows by descending score (ties by row), unused places index -1 and score 0; ``rules`` leave
        pairs out (see ``filters``). The result does not depend on ``block_rows``, ``memory_budget_mb``,
        ``n_jobs`` or the execution ``backend``.
        """
        scorer = self.scorer(settings, dimension)
        if rules is not None and not rules.is_empty:
            scorer = Restricted(scorer, rules)
        return top_partners_all(
            scorer,
            top,
            block_rows=block_rows,
            memory_budget_mb=memory_budget_mb,
            progress=progress,
            n_jobs=n_jobs,
            backend=backend,
        )

    def pairs(
        self,
        *,
        top: int = 10,
        settings: ScoringSettings | None = None,
        cross_border: bool = False,
        dimension: str | None = None,
        block_rows: int | None = None,
        memory_budget_mb: float = 512.0,
        progress: Progress | None = None,
        reasons: int = 3,
        rules: PairFilter | None = None,
        backend: str | Backend = "local",
    ) -> list[Match]:
        """The best unordered pairs in the population, best first; ``rules`` leave pairs out (see ``filters``).

        The same on every execution ``backend``.
        """
        scorer = self.scorer(settings, dimension)
        if rules is not None and not rules.is_empty:
            scorer = Restricted(scorer, rules)
        a, b, _ = top_pairs(
            scorer,
            top,
            cross_border_only=cross_border,
            block_rows=block_rows,
            memory_budget_mb=memory_budget_mb,
            progress=progress,
            backend=backend,
        )
        return self.matches(scorer, a, b, reasons)

    def explain(
        self, org_a: str, org_b: str, *, settings: ScoringSettings | None = None, dimension: str | None = None
    ) -> Match:
        """The full breakdown of one pair, both directions, with every contributing item pair."""
        a, b = self.resolve(org_a), self.resolve(org_b)
        if a.id == b.id:
            raise MatchmakerError(f"cannot pair {a.id!r} with itself; name two different organisations")
        scorer = self.scorer(settings, dimension)
        return self.matches(scorer, np.array([self.index[a.id]]), np.array([self.index[b.id]]), None)[0]

    def reasons(self, a: Profile, b: Profile, settings: ScoringSettings) -> list[Reason]:
        """Every offer->need item pair behind the score of (a, b), largest contribution first.

        Contributions of one direction add up to its directed benefit (each dimension's share scaled
        down where the benefit was capped at 1).
        """
        return self.scorer(settings).explain([(a, b)])[0]

    def reading_warnings(self, profile: Profile, file: str = "") -> list[Problem]:
        """A warning for each item of ``profile`` the encoder cannot read (its vector is zero: it meets nothing).

        The profile need not belong to the population: it is read with the fitted encoder, as a newcomer is.
        """
        refs = [(side, dimension, position, item) for side, dimension, position, item in profile.iter_items()]
        if not refs:
            return []
        unreadable = self.vectoriser.unreadable([item for *_, item in refs])
        name = self.vectoriser.encoder
        return [
            Problem(
                file,
                f"{side}.{dimension}[{position}]",
                item.description[:60],
                f"the {name} encoder cannot read this item (no word, tag or concept it knows): it meets nothing; "
                "describe it in words (English, Japanese or Hindi) or add tags from the vocabulary",
            )
            for (side, dimension, position, item), flag in zip(refs, unreadable.tolist(), strict=True)
            if flag
        ]

    # -- updates ----------------------------------------------------------------------------------

    def with_profile(self, profile: Profile) -> Population:
        """A population with ``profile`` added or replaced, without refitting the vectoriser.

        Only the profile is vectorised; its scores against everyone are computed when asked, like
        anyone's. Adding writes one row (storage grows in chunks with spare room); replacing copies
        the one chunk holding the row. Words and tags the fitted vocabulary has never seen are
        ignored until the population is refitted (``Population.fit``); the profile's known words
        and tags are scored at once.
        """
        new = self.vectoriser.blocks([profile])
        row = self.index.get(profile.id)
        if row is None:
            return self._appended(profile, new)
        return self._replaced(row, profile, new)

    def _appended(self, profile: Profile, new: ProfileMatrices) -> Population:
        n = len(self)
        names = self._names
        if not names.claim(n):  # another population already extends it: copy what this one sees
            names = NameIndex(self.profiles)
            names.length = n + 1
        names.index[profile.id] = n
        names.add_names(profile)
        countries = np.append(self.context.countries, profile.country)
        return self._derived((*self.profiles, profile), self._store.appended(new), names, countries)

    def _replaced(self, row: int, profile: Profile, new: ProfileMatrices) -> Population:
        profiles = list(self.profiles)
        old, profiles[row] = profiles[row], profile
        names = self._names if keys_of(old) == keys_of(profile) else NameIndex(profiles)
        countries = self.context.countries.copy()
        countries[row] = profile.country
        return self._derived(tuple(profiles), self._store.replaced(row, new), names, countries)

    def without(self, org_id: str) -> Population:
        """A population without organisation ``org_id``."""
        if org_id not in self.index:
            raise UnknownOrganisation(org_id)
        row = self.index[org_id]
        profiles = tuple(p for k, p in enumerate(self.profiles) if k != row)
        store = self._store.without(row)
        return Population(profiles, self.vectoriser, store.whole(), self.settings)

    def with_settings(self, settings: ScoringSettings) -> Population:
        return self._derived(self.profiles, self._store, self._names, self.context.countries, settings)

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("vectors", None)  # a cached view with bound methods: rebuilt on use
        return state


__all__ = ["Match", "Population", "Progress"]
