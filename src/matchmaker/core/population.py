"""A fitted population of profiles: ranking partners and pairs, and explaining every score."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from rapidfuzz import fuzz, process

from matchmaker.core.errors import MatchmakerError, UnknownOrganisation
from matchmaker.core.profile import Profile
from matchmaker.core.reasons import ItemRef, ItemVectors, Reason, explain
from matchmaker.core.scoring import (
    Context,
    FloatArray,
    IntArray,
    RowSupport,
    ScoringSettings,
    need_shares,
    pair_components,
    top_pairs,
    top_partners,
    top_partners_all,
)
from matchmaker.core.vectoriser import Matrix, NComponents, ProfileMatrices, ProfileVectoriser

CHUNK_ROWS = 16_384  # rows per storage chunk: changing one profile copies at most one chunk
TAIL_ROWS = 2_048  # appended profiles go to tail chunks of at most this many rows (cheap to re-index)
_SPARE_ROWS = 64  # first capacity of a chunk that grows by appends (then doubling)
_DENSE_ITEM_CELLS = 4_000_000  # item vectors of one explanation batch are made dense up to this size


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


# -- storage: row chunks, ids and names, shared between a population and the ones derived from it ----------


def _keys(profile: Profile) -> list[str]:
    return [key.casefold() for key in (profile.id, profile.name, *profile.aliases)]


class _Picklable:
    """Locks are recreated on unpickling (a lock itself cannot be pickled)."""

    _locks: tuple[str, ...] = ("lock",)

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in self._locks}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        for name in self._locks:
            setattr(self, name, threading.Lock())


class _Registry(_Picklable):
    """Ids -> rows and names -> ids, shared by populations that extend one another by appends.

    A population of n rows reads only entries below row n, so a registry one of its successors has
    extended still answers for it. Only the population holding the registry's last row may extend it
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
            for key in _keys(p):
                self.names[key] = (*self.names.get(key, ()), p.id)
        self.length = len(profiles)
        self.lock = threading.Lock()

    def claim(self, n: int) -> bool:
        with self.lock:
            if self.length != n:
                return False
            self.length = n + 1
            return True


class _RowIndex(Mapping[str, int]):
    """Organisation id -> row, for one population (a read-only view of its registry)."""

    def __init__(self, registry: _Registry, profiles: tuple[Profile, ...]) -> None:
        self._index = registry.index
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


class _Growable(_Picklable):
    """A dense last chunk with spare rows: appending writes one row instead of copying the chunk.

    Populations hold views of its first rows; only the one holding all ``length`` rows may append
    in place (``claim``), so a view is never written to once handed out.
    """

    def __init__(self, chunk: ProfileMatrices, capacity: int) -> None:
        self.offers = [self._spare(x, capacity) for x in chunk.offers]
        self.needs = [self._spare(x, capacity) for x in chunk.needs]
        self.need_mass = self._spare(chunk.need_mass, capacity)
        self.capacity = capacity
        self.length = chunk.n
        self.lock = threading.Lock()

    @staticmethod
    def _spare(matrix: Any, capacity: int) -> Any:
        array = np.asarray(matrix)
        grown = np.empty((capacity, array.shape[1]), dtype=array.dtype)
        grown[: array.shape[0]] = array
        return grown

    def append(self, n: int, row: ProfileMatrices) -> bool:
        """Write ``row`` after the first n rows if n is the current length and there is room."""
        with self.lock:
            if self.length != n or n >= self.capacity:
                return False
            for target, source in zip([*self.offers, *self.needs], [*row.offers, *row.needs], strict=True):
                target[n] = np.asarray(source)[0]
            self.need_mass[n] = row.need_mass[0]
            self.length = n + 1
            return True

    def view(self, n: int, sectors: Matrix) -> ProfileMatrices:
        return ProfileMatrices(
            tuple(x[:n] for x in self.offers), tuple(x[:n] for x in self.needs), self.need_mass[:n], sectors
        )


def _is_dense(m: ProfileMatrices) -> bool:
    return bool(m.offers) and not sp.issparse(m.offers[0])


def _stack(parts: Sequence[Matrix]) -> Matrix:
    if sp.issparse(parts[0]):
        return sp.vstack(parts, format="csr")
    return np.concatenate([np.asarray(p) for p in parts])


def _concat(chunks: Sequence[ProfileMatrices]) -> ProfileMatrices:
    if len(chunks) == 1:
        return chunks[0]
    return ProfileMatrices(
        offers=tuple(_stack([c.offers[d] for c in chunks]) for d in range(len(chunks[0].offers))),
        needs=tuple(_stack([c.needs[d] for c in chunks]) for d in range(len(chunks[0].needs))),
        need_mass=np.concatenate([c.need_mass for c in chunks]),
        sectors=sp.vstack([c.sectors for c in chunks], format="csr"),
    )


def _take_rows(m: ProfileMatrices, rows: IntArray | slice) -> ProfileMatrices:
    return ProfileMatrices(
        tuple(x[rows] for x in m.offers),
        tuple(x[rows] for x in m.needs),
        m.need_mass[rows],
        sp.csr_matrix(m.sectors[rows]),
    )


def _dense_rows(matrix: Matrix, rows: IntArray) -> NDArray[np.float64]:
    """Rows of a CSR matrix as a dense array, straight from its arrays (scipy's indexing costs more)."""
    if not sp.issparse(matrix):
        return np.asarray(matrix[rows])
    csr = sp.csr_matrix(matrix)
    starts, stops = csr.indptr[rows], csr.indptr[rows + 1]
    counts = stops - starts
    positions = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
    out = np.zeros((len(rows), csr.shape[1]), dtype=csr.dtype)
    out[np.repeat(np.arange(len(rows)), counts), csr.indices[positions]] = csr.data[positions]
    return out


def _split(m: ProfileMatrices) -> tuple[ProfileMatrices, ...]:
    """Chunks of ``CHUNK_ROWS`` rows (views of ``m``, nothing copied)."""
    if m.n <= CHUNK_ROWS:
        return (m,)
    return tuple(_take_rows(m, slice(start, start + CHUNK_ROWS)) for start in range(0, m.n, CHUNK_ROWS))


def _replace_row(chunk: ProfileMatrices, row: int, new: ProfileMatrices) -> ProfileMatrices:
    if _is_dense(chunk):

        def put(x: Matrix, y: Matrix) -> Matrix:
            out = np.array(x, copy=True)
            out[row] = np.asarray(y)[0]
            return out

        mass = chunk.need_mass.copy()
        mass[row] = new.need_mass[0]
        sectors = sp.vstack([chunk.sectors[:row], new.sectors, chunk.sectors[row + 1 :]], format="csr")
        return ProfileMatrices(
            tuple(put(x, y) for x, y in zip(chunk.offers, new.offers, strict=True)),
            tuple(put(x, y) for x, y in zip(chunk.needs, new.needs, strict=True)),
            mass,
            sectors,
        )
    head, tail = _take_rows(chunk, slice(0, row)), _take_rows(chunk, slice(row + 1, chunk.n))
    return _concat([head, new, tail])


class Population(_Picklable):
    """Profiles, the fitted vectoriser and their matrices; immutable, updates return a new population.

    Storage is a sequence of row chunks (one as fitted), so ``with_profile`` adds a profile by writing
    one row into a tail chunk (amortised) and changes one by copying at most ``CHUNK_ROWS`` rows,
    without refitting or rescoring anyone; ``matrices`` joins the chunks on first use.

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
    index: Mapping[str, int]
    context: Context
    _locks = ("_whole_lock",)

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
        registry = _Registry(profiles)
        self._set(
            profiles,
            vectoriser,
            settings,
            (matrices,),
            None,
            registry,
            np.array([p.country for p in profiles]),
            whole=matrices,
        )

    def _set(
        self,
        profiles: tuple[Profile, ...],
        vectoriser: ProfileVectoriser,
        settings: ScoringSettings,
        chunks: tuple[ProfileMatrices, ...],
        growable: _Growable | None,
        registry: _Registry,
        countries: NDArray[np.str_],
        whole: ProfileMatrices | None = None,
        caches: dict[str, dict[Any, Any]] | None = None,
        tail: bool = False,
    ) -> None:
        self.profiles = profiles
        self.vectoriser = vectoriser
        self.settings = settings.validated(vectoriser.dimensions_)
        self.index = _RowIndex(registry, profiles)
        self.context = Context(countries=countries)
        self._chunks = chunks
        self._growable = growable  # spare room behind the last chunk, if it is an append tail
        self._tail = tail  # the last chunk holds appended profiles (and may grow)
        self._registry = registry
        self._whole = whole
        self._whole_lock = threading.Lock()
        # Per-population caches of derived arrays: need shares per weights, presence per country, and
        # each chunk's row support (chunk id -> (chunk, support); kept only for this population's chunks).
        self._caches: dict[str, dict[Any, Any]] = (
            caches if caches is not None else {"shares": {}, "presence": {}, "support": {}}
        )

    def _derive(
        self,
        profiles: tuple[Profile, ...],
        chunks: tuple[ProfileMatrices, ...],
        growable: _Growable | None,
        registry: _Registry,
        countries: NDArray[np.str_],
        settings: ScoringSettings | None = None,
        tail: bool | None = None,
        supports: dict[int, Any] | None = None,
    ) -> Population:
        derived = object.__new__(Population)
        support = self._caches["support"] if supports is None else supports
        kept = {id(c): support[id(c)] for c in chunks if id(c) in support and support[id(c)][0] is c}
        derived._set(
            profiles,
            self.vectoriser,
            settings or self.settings,
            chunks,
            growable,
            registry,
            countries,
            caches={"shares": {}, "presence": {}, "support": kept},
            tail=self._tail if tail is None else tail,
        )
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
    ) -> Population:
        """Fit the vectoriser on ``profiles`` and vectorise them.

        ``n_components="auto"`` (the default, also the CLI's) keeps exact sparse vectors for up to
        ``AUTO_EXACT_MAX_PROFILES`` profiles and uses latent ones above; the choice is
        ``vectoriser.n_components_``.
        """
        profiles = sorted(profiles, key=lambda p: p.id)
        vectoriser = ProfileVectoriser(dimensions=dimensions, sectors=sectors, n_components=n_components)
        vectoriser.fit(profiles)
        return cls(profiles, vectoriser, vectoriser.blocks(profiles), settings or ScoringSettings())

    @property
    def dimensions(self) -> tuple[str, ...]:
        return tuple(self.vectoriser.dimensions_)

    @property
    def matrices(self) -> ProfileMatrices:
        """Every profile's vectors as one set of matrices (joined from the row chunks on first use)."""
        whole = self._whole
        if whole is None:
            with self._whole_lock:
                whole = self._whole
                if whole is None:
                    whole = self._whole = _concat(self._chunks)
        return whole

    def __len__(self) -> int:
        return len(self.profiles)

    # -- lookup -----------------------------------------------------------------------------------

    def resolve(self, query: str) -> Profile:
        """The profile whose id, name or alias is ``query`` (case-insensitive), else UnknownOrganisation."""
        names = self._registry.names
        for org_id in reversed(names.get(query.strip().casefold(), ())):
            row = self.index.get(org_id)
            if row is not None:
                return self.profiles[row]
        candidates = {
            name: held[-1] for name, ids in list(names.items()) if (held := [i for i in ids if i in self.index])
        }
        matches = process.extract(query.casefold(), list(candidates), scorer=fuzz.WRatio, limit=6, score_cutoff=60)
        suggestions = list(dict.fromkeys(candidates[name] for name, _, _ in matches))[:3]
        raise UnknownOrganisation(query, suggestions)

    # -- ranking ----------------------------------------------------------------------------------

    def _settings(self, settings: ScoringSettings | None, dimension: str | None) -> ScoringSettings:
        chosen = (settings or self.settings).validated(self.dimensions)
        return chosen.only(dimension, self.dimensions) if dimension else chosen

    def _shares(self, settings: ScoringSettings) -> FloatArray:
        """Need shares for these weights (see ``scoring.need_shares``), cached per population."""
        alpha = np.array([settings.weight(d) for d in self.dimensions])
        cache = self._caches["shares"]
        key = tuple(alpha.tolist())
        found = cache.get(key)
        if found is None:
            dtype = (
                np.float32
                if _is_dense(self._chunks[0]) and self._chunks[0].offers[0].dtype == np.float32
                else np.float64
            )
            # Column-major, so each dimension's shares are contiguous for the per-dimension products.
            found = cache[key] = np.asfortranarray(
                np.concatenate([need_shares(c.need_mass, alpha) for c in self._chunks]), dtype=dtype
            )
        return found

    def _blocks(self) -> tuple[ProfileMatrices, ...]:
        """The row chunks as queries read them (one chunk as fitted; appends add tail chunks)."""
        return self._chunks

    def _supports(self, blocks: Sequence[ProfileMatrices] | None = None) -> list[RowSupport | None]:
        """Each dense chunk's ``RowSupport``, built once per chunk (derived populations share chunks)."""
        cache = self._caches["support"]
        found: list[RowSupport | None] = []
        for chunk in self._chunks if blocks is None else blocks:
            entry = cache.get(id(chunk))
            if entry is None or entry[0] is not chunk:
                entry = cache[id(chunk)] = (chunk, RowSupport.of(chunk) if _is_dense(chunk) else None)
            found.append(entry[1])
        return found

    def _present_in(self, country: str) -> NDArray[np.bool_]:
        cache = self._caches["presence"]
        found = cache.get(country)
        if found is None:
            found = cache[country] = np.array([country in p.countries for p in self.profiles], dtype=bool)
        return found

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
        reasons: int = 3,
    ) -> list[Match]:
        """The best partners for ``org``, best first; only partners with a score above 0.

        One organisation against everyone: a matrix-vector product per dimension, then the reasons
        of the ``top`` found only.
        """
        profile = self.resolve(org)
        chosen = self._settings(settings, dimension)
        allowed: NDArray[np.bool_] | None = None
        if country or cross_border or exclude:
            allowed = np.ones(len(self), dtype=bool)
            if country:
                allowed &= self._present_in(country.upper())
            if cross_border:
                x, y = chosen.bridge
                home = self.context.countries
                allowed &= (home == y) if profile.country == x else (home == x) if profile.country == y else False
            for excluded in exclude:
                if excluded in self.index:
                    allowed[self.index[excluded]] = False
        row = self.index[profile.id]
        blocks = self._blocks()
        found = top_partners(
            blocks,
            row,
            self.context,
            chosen,
            self.dimensions,
            top,
            allowed,
            shares=self._shares(chosen),
            supports=self._supports(blocks),
        )
        return self._matches(np.full(len(found), row), found, chosen, reasons)

    def all_partners(
        self,
        *,
        top: int = 10,
        settings: ScoringSettings | None = None,
        dimension: str | None = None,
        block_rows: int | None = None,
        memory_budget_mb: float = 512.0,
        progress: Callable[[int, int], None] | None = None,
        n_jobs: int | None = None,
    ) -> tuple[IntArray, FloatArray]:
        """The ``top`` best partners of every organisation at once, without explanations.

        Returns ``(index, score)``, both (n, top), rows in ``profiles`` order: row a lists a's partners'
        rows by descending score (ties by row), unused places index -1 and score 0. Computed in tiles
        of the upper triangle (``scoring.top_partners_all``); the result does not depend on
        ``block_rows``, ``memory_budget_mb`` or ``n_jobs``.
        """
        chosen = self._settings(settings, dimension)
        return top_partners_all(
            self.matrices,
            self.context,
            chosen,
            self.dimensions,
            top,
            block_rows=block_rows,
            memory_budget_mb=memory_budget_mb,
            progress=progress,
            n_jobs=n_jobs,
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
        progress: Callable[[int, int], None] | None = None,
        reasons: int = 3,
    ) -> list[Match]:
        """The best unordered pairs in the population, best first."""
        chosen = self._settings(settings, dimension)
        a, b, _ = top_pairs(
            self.matrices,
            self.context,
            chosen,
            self.dimensions,
            top,
            cross_border_only=cross_border,
            block_rows=block_rows,
            memory_budget_mb=memory_budget_mb,
            progress=progress,
        )
        return self._matches(a, b, chosen, reasons)

    def explain(
        self, org_a: str, org_b: str, *, settings: ScoringSettings | None = None, dimension: str | None = None
    ) -> Match:
        """The full breakdown of one pair, both directions, with every contributing item pair."""
        a, b = self.resolve(org_a), self.resolve(org_b)
        if a.id == b.id:
            raise MatchmakerError(f"cannot pair {a.id!r} with itself; name two different organisations")
        chosen = self._settings(settings, dimension)
        return self._matches(np.array([self.index[a.id]]), np.array([self.index[b.id]]), chosen, None)[0]

    def _rows(self, rows: IntArray) -> ProfileMatrices:
        """The matrices of ``rows`` (ascending, distinct), gathered from the chunks."""
        parts, start = [], 0
        blocks = self._blocks()
        for chunk, support in zip(blocks, self._supports(blocks), strict=True):
            lo, hi = np.searchsorted(rows, (start, start + chunk.n))
            if hi > lo:
                local = rows[lo:hi] - start
                if support is None and local.size * chunk.offers[0].shape[1] <= _DENSE_ITEM_CELLS:
                    # Few rows of exact vectors: dense is far cheaper to gather and multiply.
                    parts.append(
                        ProfileMatrices(
                            tuple(_dense_rows(x, local) for x in chunk.offers),
                            tuple(_dense_rows(x, local) for x in chunk.needs),
                            chunk.need_mass[local],
                            _dense_rows(chunk.sectors, local),
                        )
                    )
                elif support is None:
                    parts.append(_take_rows(chunk, local))
                else:  # dense sector rows from the support: no sparse indexing on the query path
                    parts.append(
                        ProfileMatrices(
                            tuple(x[local] for x in chunk.offers),
                            tuple(x[local] for x in chunk.needs),
                            chunk.need_mass[local],
                            support.sector_sets[support.sector_codes[local]],
                        )
                    )
            start += chunk.n
        if not parts:
            return _take_rows(self._chunks[0], rows)
        if len(parts) == 1:
            return parts[0]
        dense = [p for p in parts if not sp.issparse(p.sectors)]
        if len(dense) == len(parts):
            return ProfileMatrices(
                tuple(np.concatenate([p.offers[d] for p in parts]) for d in range(len(parts[0].offers))),
                tuple(np.concatenate([p.needs[d] for p in parts]) for d in range(len(parts[0].needs))),
                np.concatenate([p.need_mass for p in parts]),
                np.concatenate([p.sectors for p in parts]),
            )
        return _concat([replace(p, sectors=sp.csr_matrix(p.sectors)) for p in parts])

    def _matches(self, a: IntArray, b: IntArray, settings: ScoringSettings, reasons: int | None) -> list[Match]:
        rows = np.unique(np.concatenate([a, b]))
        local_a, local_b = np.searchsorted(rows, a), np.searchsorted(rows, b)
        parts = pair_components(
            self._rows(rows), local_a, local_b, Context(self.context.countries[rows]), settings, self.dimensions
        )
        pairs = [(self.profiles[i], self.profiles[j]) for i, j in zip(a.tolist(), b.tolist(), strict=True)]
        if reasons == 0:
            found: list[list[Reason]] = [[] for _ in pairs]
        else:
            vectors = self._item_vectors([self.profiles[r] for r in rows.tolist()])
            found = explain(pairs, self.dimensions, settings, vectors, reasons)
        return [
            Match(
                a=pair[0],
                b=pair[1],
                score=float(parts.score[k]),
                reciprocal=float(parts.reciprocal[k]),
                a_to_b=float(parts.directed_ab[k]),
                b_to_a=float(parts.directed_ba[k]),
                sector_fit=float(parts.sector_fit[k]),
                cross_border=bool(parts.cross_border[k]),
                dimensions={
                    d: DimensionScore(float(parts.per_dimension_ab[k, i]), float(parts.per_dimension_ba[k, i]))
                    for i, d in enumerate(self.dimensions)
                },
                reasons=tuple(found[k]),
            )
            for k, pair in enumerate(pairs)
        ]

    # -- explanation ------------------------------------------------------------------------------

    def _item_vectors(self, profiles: Sequence[Profile]) -> ItemVectors:
        """Vectors of every item of ``profiles``, computed in one batch."""
        items = list({id(i): i for p in profiles for *_, i in p.iter_items()}.values())
        vectors = self.vectoriser.transform_items(items)
        if sp.issparse(vectors) and vectors.shape[0] * vectors.shape[1] <= _DENSE_ITEM_CELLS:
            vectors = vectors.toarray()  # row picks and products of small dense arrays are much cheaper
        return ItemVectors({id(item): row for row, item in enumerate(items)}, vectors)

    def reasons(self, a: Profile, b: Profile, settings: ScoringSettings) -> list[Reason]:
        """Every offer->need item pair behind the score of (a, b), largest contribution first.

        Contributions of one direction add up to its directed benefit (each dimension's share scaled
        down where the benefit was capped at 1).
        """
        return explain([(a, b)], self.dimensions, settings, self._item_vectors([a, b]))[0]

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
        registry = self._registry
        if not registry.claim(n):  # another population already extends it: copy what this one sees
            registry = _Registry(self.profiles)
            registry.length = n + 1
        registry.index[profile.id] = n
        for key in _keys(profile):
            registry.names[key] = (*registry.names.get(key, ()), profile.id)
        chunks, growable = self._chunks, self._growable
        last = chunks[-1]
        if not (self._tail and last.n < TAIL_ROWS):  # start a tail chunk: the others stay as they are
            growable = _Growable(new, _SPARE_ROWS) if _is_dense(new) else None
            chunks = (*chunks, growable.view(1, new.sectors) if growable is not None else new)
        elif not _is_dense(last):
            chunks = (*chunks[:-1], _concat([last, new]))
        else:
            sectors = sp.vstack([last.sectors, new.sectors], format="csr")
            if growable is None or not growable.append(last.n, new):
                # No room, or another population already appended here: copy the tail once, room to double.
                growable = _Growable(_concat([last, new]), min(TAIL_ROWS, max(_SPARE_ROWS, 2 * (last.n + 1))))
            chunks = (*chunks[:-1], growable.view(last.n + 1, sectors))
        countries = np.append(self.context.countries, profile.country)
        return self._derive((*self.profiles, profile), chunks, growable, registry, countries, tail=True)

    def _replaced(self, row: int, profile: Profile, new: ProfileMatrices) -> Population:
        chunks, start, k = list(self._chunks), 0, 0
        carried = self._caches["support"]
        while row >= start + chunks[k].n:
            start += chunks[k].n
            k += 1
        chunk = chunks[k]
        if chunk.n > CHUNK_ROWS:  # split a large chunk first (views), so only a part is copied
            parts = _split(chunk)
            entry = carried.get(id(chunk))
            if entry is not None and entry[0] is chunk and entry[1] is not None:
                carried = dict(carried)
                for j, part in enumerate(parts):
                    carried[id(part)] = (part, entry[1].sliced(j * CHUNK_ROWS, j * CHUNK_ROWS + part.n))
            chunks[k : k + 1] = parts
            k, start = k + (row - start) // CHUNK_ROWS, start + (row - start) // CHUNK_ROWS * CHUNK_ROWS
        chunks[k] = _replace_row(chunks[k], row - start, new)
        profiles = list(self.profiles)
        old, profiles[row] = profiles[row], profile
        registry = self._registry
        if _keys(old) != _keys(profile):
            registry = _Registry(profiles)
        countries = self.context.countries.copy()
        countries[row] = profile.country
        growable = self._growable if chunks[-1] is self._chunks[-1] else None
        return self._derive(tuple(profiles), tuple(chunks), growable, registry, countries, supports=carried)

    def without(self, org_id: str) -> Population:
        """A population without organisation ``org_id``."""
        if org_id not in self.index:
            raise UnknownOrganisation(org_id)
        keep = np.array([k for k in range(len(self)) if k != self.index[org_id]], dtype=np.int64)
        return Population(
            [self.profiles[k] for k in keep], self.vectoriser, _take_rows(self.matrices, keep), self.settings
        )

    def with_settings(self, settings: ScoringSettings) -> Population:
        derived = self._derive(
            self.profiles, self._chunks, self._growable, self._registry, self.context.countries, settings
        )
        derived._whole = self._whole
        return derived


__all__ = ["DimensionScore", "ItemRef", "Match", "Population", "Reason", "replace"]
