"""The vectoriser: profiles in, per-dimension offer and need matrices plus a sector vector out."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any, Literal, TypeAlias

import numpy as np
import scipy.sparse as sp
import snowballstemmer
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from matchmaker.core.errors import MatchmakerError
from matchmaker.core.profile import MAX_STRENGTH, SIDES, Item, Profile
from matchmaker.core.vectors import Matrix, ProfileMatrices, unit_rows

NComponents: TypeAlias = int | Literal["auto"] | None

# The "auto" rule: exact sparse TF-IDF vectors up to this many profiles, latent (LSA) vectors above.
# Exact scores cost a sparse product per pair that grows with the vocabulary; latent ones a fixed-size
# dense BLAS product, which is what keeps 100,000 organisations to minutes (docs/performance.md).
AUTO_EXACT_MAX_PROFILES = 5_000
AUTO_COMPONENTS = 64
LATENT_DTYPE = np.float32  # latent vectors are unit length; float32 keeps 6-7 digits, enough to rank

_WORD = re.compile(r"[a-z0-9]+")
# British and American spellings meet on one token, so "data centre" matches "data center".
_SPELLING = {
    "centre": "center",
    "centres": "centers",
    "programme": "program",
    "programmes": "programs",
    "organisation": "organization",
    "organisations": "organizations",
    "optimise": "optimize",
    "optimisation": "optimization",
    "subsidised": "subsidized",
    "labour": "labor",
}
_STEMMER = snowballstemmer.stemmer("english")


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return str(_STEMMER.stemWord(_SPELLING.get(word, word)))


def analyse_words(text: str) -> list[str]:
    """Lowercased, stemmed content words of ``text``; tags' words count too.

    >>> analyse_words("Curated manufacturing datasets and data-centre partners")
    ['curat', 'manufactur', 'dataset', 'data', 'center', 'partner']
    """
    return [_stem(w) for w in _WORD.findall(text.lower()) if len(w) > 1 and w not in ENGLISH_STOP_WORDS]


def _identity(tags: Sequence[str]) -> Sequence[str]:
    return tags


def _unique_items(items: Sequence[Item]) -> tuple[list[Item], NDArray[np.intp]]:
    """The items with distinct text (description and tags), and each item's position among them."""
    first: dict[tuple[str, tuple[str, ...]], int] = {}
    inverse = np.fromiter(
        (first.setdefault((i.description, i.tags), len(first)) for i in items), dtype=np.intp, count=len(items)
    )
    unique: list[Item] = [None] * len(first)  # type: ignore[list-item]
    for item, position in zip(items, inverse.tolist(), strict=True):
        unique[position] = item
    return unique, inverse


class _LatentCache:
    """The latent vectors of recently seen item texts, so explaining a match rarely re-analyses text.

    A fixed ring of ``capacity`` rows (first in, first out), filled when profiles are vectorised and
    when items are explained; 131,072 items of 64 components take 32 MiB.
    """

    def __init__(self, width: int, capacity: int = 131_072) -> None:
        self.matrix = np.zeros((capacity, width), dtype=LATENT_DTYPE)
        self.slots: dict[tuple[str, tuple[str, ...]], int] = {}
        self.owners: list[tuple[str, tuple[str, ...]] | None] = [None] * capacity
        self.next = 0
        self.lock = threading.Lock()

    def get(self, keys: Sequence[tuple[str, tuple[str, ...]]]) -> tuple[NDArray[np.float32], NDArray[np.intp]]:
        """Rows for ``keys`` (zeros where unknown) and the positions of the unknown ones."""
        with self.lock:
            slots = [self.slots.get(key, -1) for key in keys]
            index = np.asarray(slots, dtype=np.intp)
            found = self.matrix[np.maximum(index, 0)]
        return found, np.flatnonzero(index < 0)

    def put(self, keys: Sequence[tuple[str, tuple[str, ...]]], rows: NDArray[np.float32]) -> None:
        capacity = self.matrix.shape[0]
        with self.lock:
            for key, row in zip(keys[-capacity:], rows[-capacity:], strict=True):
                if key in self.slots:
                    continue
                old = self.owners[self.next]
                if old is not None:
                    del self.slots[old]
                self.owners[self.next] = key
                self.slots[key] = self.next
                self.matrix[self.next] = row
                self.next = (self.next + 1) % capacity


class _ExactCache:
    """The exact sparse vectors of recently seen item texts (first in, first out), as ``_LatentCache``.

    A row is its column indices and values; 131,072 items of a few dozen words take about 40 MiB.
    """

    def __init__(self, width: int, capacity: int = 131_072) -> None:
        self.width, self.capacity = width, capacity
        self.rows: dict[tuple[str, tuple[str, ...]], tuple[NDArray[np.int32], NDArray[np.float64]]] = {}
        self.lock = threading.Lock()

    def get(self, keys: Sequence[tuple[str, tuple[str, ...]]]) -> list[Any]:
        """The rows of ``keys`` ((indices, values), or None where unknown)."""
        with self.lock:
            return [self.rows.get(key) for key in keys]

    def put(self, keys: Sequence[tuple[str, tuple[str, ...]]], matrix: sp.csr_matrix) -> None:
        with self.lock:
            for k, key in enumerate(keys):
                start, stop = matrix.indptr[k], matrix.indptr[k + 1]
                self.rows[key] = (matrix.indices[start:stop].copy(), matrix.data[start:stop].copy())
            while len(self.rows) > self.capacity:
                del self.rows[next(iter(self.rows))]

    def matrix(self, rows: Sequence[tuple[NDArray[np.int32], NDArray[np.float64]]]) -> sp.csr_matrix:
        """The rows stacked, as the one CSR matrix they were cut from."""
        lengths = [len(indices) for indices, _ in rows]
        indptr = np.zeros(len(rows) + 1, dtype=np.int32)
        np.cumsum(lengths, out=indptr[1:])
        indices = np.concatenate([r[0] for r in rows]) if rows else np.zeros(0, dtype=np.int32)
        data = np.concatenate([r[1] for r in rows]) if rows else np.zeros(0)
        return sp.csr_matrix((data, indices, indptr), shape=(len(rows), self.width))


def _tfidf(
    documents: Iterable[Iterable[str]],
    n_documents: int,
    vocabulary: dict[str, int],
    idf: NDArray[np.float64],
    *,
    sublinear: bool,
) -> sp.csr_matrix:
    """Unit TF-IDF rows of token lists under a fitted vocabulary (as TfidfVectorizer.transform, leaner).

    Tokens outside the vocabulary are ignored. Skipping scikit-learn's per-call validation matters
    for the small batches of a query (the reasons of ten matches).
    """
    indptr: list[int] = [0]
    indices: list[int] = []
    counts: list[int] = []
    for tokens in documents:
        found: dict[int, int] = {}
        for token in tokens:
            column = vocabulary.get(token)
            if column is not None:
                found[column] = found.get(column, 0) + 1
        indices += found
        counts += found.values()
        indptr.append(len(indices))
    matrix = sp.csr_matrix(
        (np.asarray(counts, dtype=np.float64), np.asarray(indices, dtype=np.int64), np.asarray(indptr, dtype=np.int64)),
        shape=(n_documents, len(vocabulary)),
    )
    matrix.sort_indices()
    if sublinear:
        np.log(matrix.data, out=matrix.data)
        matrix.data += 1.0
    matrix.data *= idf[matrix.indices]
    return unit_rows(matrix)


def _idf(counts: sp.csr_matrix, multiplicity: NDArray[np.float64]) -> NDArray[np.float64]:
    """Smoothed IDF (as TfidfTransformer computes it) of documents given once with their multiplicity."""
    present = counts.copy()
    present.data[:] = 1.0
    document_frequency = np.asarray(present.T @ multiplicity, dtype=np.float64).ravel()
    idf: NDArray[np.float64] = np.log((multiplicity.sum() + 1.0) / (document_frequency + 1.0)) + 1.0
    return idf


def item_text(item: Item) -> str:
    """What the word model reads of an item: its description and the words of its tags."""
    return " ".join((item.description, *(tag.replace("-", " ") for tag in item.tags)))


class ProfileVectoriser(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Turn profiles into offer and need matrices per dimension plus a sector vector.

    Each offer or need item becomes one unit vector: TF-IDF over the stemmed words of its description
    and tags (share ``1 - tag_share``) joined with TF-IDF over its exact tags (share ``tag_share``),
    so two items' dot product is a similarity in [0, 1]. With ``n_components`` the item vectors are
    reduced by truncated SVD (latent semantic analysis), for large populations.

    Parameters
    ----------
    dimensions : sequence of str, optional
        The dimensions, in order; learned from the profiles when not given.
    sectors : sequence of str, optional
        The sector vocabulary; learned from the profiles when not given.
    tag_share : float, default=0.4
        The share of an item's similarity that comes from exact shared tags.
    n_components : int, "auto" or None, default=None
        Reduce item vectors to this many latent components (dense float32 output). None keeps exact
        sparse TF-IDF vectors; "auto" keeps them for up to ``AUTO_EXACT_MAX_PROFILES`` profiles and
        uses ``AUTO_COMPONENTS`` latent components above. The choice made is ``n_components_``.
    random_state : int, default=0
        Seed for the SVD.

    Notes
    -----
    The vocabulary is learned by ``fit``. Profiles transformed later (``transform``, ``blocks``, and so
    a population's ``with_profile``) are vectorised with it: words and tags it has never seen are
    ignored until the vectoriser is fitted again, and an item made only of unseen words gets a zero
    vector (it meets nothing until the refit).

    Examples
    --------
    >>> from matchmaker.core.profile import Evidence, Item, Profile
    >>> claim = lambda text: (Item(description=text, strength=3, evidence=Evidence(background="x")),)
    >>> cloud = Profile(id="cloud", name="Cloud", country="JP", kind="corporate", sectors=("it",),
    ...                 offers={"compute": claim("GPU cloud")}, needs={"data": claim("factory data")})
    >>> maker = Profile(id="maker", name="Maker", country="IN", kind="corporate", sectors=("it",),
    ...                 offers={"data": claim("factory data")}, needs={"compute": claim("GPU cloud")})
    >>> vectoriser = ProfileVectoriser().fit([cloud, maker])
    >>> vectoriser.dimensions_
    ('compute', 'data')
    >>> m = vectoriser.split(vectoriser.transform([cloud, maker]))
    >>> round(float((m.offers[0] @ m.needs[0].T)[0, 1]), 3)  # cloud's compute offer meets maker's need
    1.0
    """

    def __init__(
        self,
        *,
        dimensions: Sequence[str] | None = None,
        sectors: Sequence[str] | None = None,
        tag_share: float = 0.4,
        n_components: NComponents = None,
        random_state: int = 0,
    ) -> None:
        self.dimensions = dimensions
        self.sectors = sectors
        self.tag_share = tag_share
        self.n_components = n_components
        self.random_state = random_state

    def fit(self, profiles: Iterable[Profile], y: object = None) -> ProfileVectoriser:
        profiles = list(profiles)
        if not profiles:
            raise MatchmakerError("cannot fit the vectoriser on no profiles; give at least one")
        if not 0.0 <= self.tag_share <= 1.0:
            raise MatchmakerError(f"tag_share must be between 0 and 1, got {self.tag_share!r}")
        auto = isinstance(self.n_components, str)
        if (auto and self.n_components != "auto") or (
            not auto
            and self.n_components is not None
            and (isinstance(self.n_components, bool) or not isinstance(self.n_components, int) or self.n_components < 1)
        ):
            raise MatchmakerError(
                f"n_components must be a positive integer, got {self.n_components!r}; "
                "or 'auto', or None for exact vectors"
            )
        seen = dict.fromkeys(d for p in profiles for side in SIDES for d in p.items(side))
        self.dimensions_ = tuple(self.dimensions) if self.dimensions is not None else tuple(sorted(seen))
        seen_sectors = dict.fromkeys(s for p in profiles for s in p.sectors)
        self.sectors_ = tuple(self.sectors) if self.sectors is not None else tuple(sorted(seen_sectors))
        items = [item for p in profiles for _, _, _, item in p.iter_items()]
        if not items:
            raise MatchmakerError("cannot fit the vectoriser: the profiles have no offer or need items")
        if auto:
            self.n_components_: int | None = None if len(profiles) <= AUTO_EXACT_MAX_PROFILES else AUTO_COMPONENTS
        else:
            self.n_components_ = self.n_components if isinstance(self.n_components, int) else None
        # Each distinct text is analysed once; document frequencies still count every item, so the
        # IDF weights are exactly those of fitting on all items.
        unique, inverse = _unique_items(items)
        multiplicity = np.bincount(inverse, minlength=len(unique)).astype(np.float64)
        self.words_ = TfidfVectorizer(analyzer=analyse_words, sublinear_tf=True, dtype=np.float64)
        counts = self.words_.fit_transform([item_text(i) for i in unique])
        self.words_.idf_ = _idf(counts, multiplicity)
        self.tags_ = TfidfVectorizer(analyzer=_identity, dtype=np.float64)
        tag_docs = [i.tags for i in unique] + [("",)]  # never an empty vocabulary
        tag_counts = self.tags_.fit_transform(tag_docs)
        self.tags_.idf_ = _idf(tag_counts, np.append(multiplicity, 1.0))
        self.svd_: TruncatedSVD | None = None
        self._latent_cache: _LatentCache | None = None
        self._exact_cache: _ExactCache | None = None
        if self.n_components_ is not None:
            raw = self._raw_item_vectors(unique)
            components = min(self.n_components_, raw.shape[1] - 1) or 1
            # Rows weighted by the square root of their count have the Gram matrix of all items.
            weighted = sp.diags(np.sqrt(multiplicity)) @ raw
            with np.errstate(divide="ignore", invalid="ignore"):  # explained variance of identical items: 0/0
                self.svd_ = TruncatedSVD(n_components=components, random_state=self.random_state).fit(weighted)
        self.n_item_features_ = (
            self.svd_.components_.shape[0]
            if self.svd_ is not None  # fewer than asked for when few items
            else len(self.words_.vocabulary_) + len(self.tags_.vocabulary_)
        )
        self.n_features_in_ = 1
        return self

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        state["_latent_cache"] = state["_exact_cache"] = None  # caches (with a lock): rebuilt on use
        return state

    @property
    def is_latent(self) -> bool:
        """True when item vectors are dense latent (LSA) components, False for exact sparse TF-IDF."""
        check_is_fitted(self, "words_")
        return self.svd_ is not None

    def _raw_item_vectors(self, items: Sequence[Item]) -> sp.csr_matrix:
        words = _tfidf(
            ([*analyse_words(item_text(i))] for i in items),
            len(items),
            self.words_.vocabulary_,
            self.words_.idf_,
            sublinear=True,
        )
        tags = _tfidf((i.tags for i in items), len(items), self.tags_.vocabulary_, self.tags_.idf_, sublinear=False)
        has_tags = np.diff(tags.indptr) > 0
        has_words = np.diff(words.indptr) > 0
        # Split the unit length between words and tags; an item with only one kind gets all of it.
        word_share = np.where(has_tags, 1.0 - self.tag_share, 1.0)
        tag_share = np.where(has_words, self.tag_share, 1.0)
        joined = sp.hstack([sp.diags(np.sqrt(word_share)) @ words, sp.diags(np.sqrt(tag_share)) @ tags], format="csr")
        return unit_rows(joined)

    def transform_items(self, items: Sequence[Item]) -> Matrix:
        """One unit-length row per item; dot products are similarities.

        Sparse float64 rows for exact vectors, dense float32 rows for latent ones; equal texts are
        vectorised once.
        """
        check_is_fitted(self, "words_")
        unique, inverse = _unique_items(items)
        vectors = self._unique_vectors(unique)
        if len(unique) == len(items) and np.array_equal(inverse, np.arange(len(items))):
            return vectors
        return vectors[inverse]

    def _unique_vectors(self, unique: Sequence[Item]) -> Matrix:
        if not unique:
            return (
                sp.csr_matrix((0, self.n_item_features_))
                if self.svd_ is None
                else np.zeros((0, self.n_item_features_), dtype=LATENT_DTYPE)
            )
        if self.svd_ is None:
            return self._exact_vectors(unique)
        cache = getattr(self, "_latent_cache", None)
        if cache is None:
            cache = self._latent_cache = _LatentCache(self.n_item_features_)
        keys = [(i.description, i.tags) for i in unique]
        found, missing = cache.get(keys)
        if missing.size:
            computed = self._latent(self._raw_item_vectors([unique[k] for k in missing.tolist()]))
            found[missing] = computed
            cache.put([keys[k] for k in missing.tolist()], computed)
        return found

    def _exact_vectors(self, unique: Sequence[Item]) -> sp.csr_matrix:
        """Exact vectors of distinct items, from the cache where their text was seen before.

        Explaining a match re-reads the items of both organisations; analysing their text again (words,
        stems, TF-IDF) cost five times what the explanation itself does.
        """
        cache = getattr(self, "_exact_cache", None)
        if cache is None:
            cache = self._exact_cache = _ExactCache(self.n_item_features_)
        keys = [(i.description, i.tags) for i in unique]
        rows = cache.get(keys)
        missing = [k for k, row in enumerate(rows) if row is None]
        if len(missing) == len(rows):
            computed = self._raw_item_vectors(unique)
            cache.put(keys, computed)
            return computed
        if missing:
            computed = self._raw_item_vectors([unique[k] for k in missing])
            cache.put([keys[k] for k in missing], computed)
            for position, k in enumerate(missing):
                start, stop = computed.indptr[position], computed.indptr[position + 1]
                rows[k] = (computed.indices[start:stop], computed.data[start:stop])
        return cache.matrix(rows)

    def _latent(self, raw: sp.csr_matrix) -> NDArray[np.float32]:
        # The SVD's projection without scikit-learn's per-call validation (which dominates small batches).
        assert self.svd_ is not None
        latent = np.asarray(raw @ self.svd_.components_.T)
        norms = np.sqrt(np.einsum("ij,ij->i", latent, latent))
        np.divide(latent, norms[:, None], out=latent, where=norms[:, None] > 0)
        return latent.astype(LATENT_DTYPE)

    def transform(self, profiles: Iterable[Profile]) -> Matrix:
        """Stack, per profile, the offer blocks, need blocks, need masses and sectors into one row."""
        check_is_fitted(self, "words_")
        profiles = list(profiles)
        blocks = self.blocks(profiles)
        parts = [*blocks.offers, *blocks.needs, blocks.need_mass, blocks.sectors]
        if self.svd_ is None:
            return sp.hstack([sp.csr_matrix(part) for part in parts], format="csr")
        return np.hstack([part.toarray() if sp.issparse(part) else part for part in parts])

    def blocks(self, profiles: Sequence[Profile]) -> ProfileMatrices:
        """The blocks of ``transform(profiles)`` without stacking them."""
        check_is_fitted(self, "words_")
        dim_index = {d: k for k, d in enumerate(self.dimensions_)}
        n_dims = len(self.dimensions_)
        first: dict[tuple[str, tuple[str, ...]], int] = {}  # text -> column of its vector
        unique: list[Item] = []
        # Per (side, dimension) block k = 2 * d + (side is needs): the rows, item columns and weights.
        rows: list[list[int]] = [[] for _ in range(2 * n_dims)]
        cols: list[list[int]] = [[] for _ in range(2 * n_dims)]
        weights: list[list[float]] = [[] for _ in range(2 * n_dims)]
        need_mass = np.zeros((len(profiles), n_dims))
        for row, profile in enumerate(profiles):
            for side, by_dimension in (("offers", profile.offers), ("needs", profile.needs)):
                for dimension, dimension_items in by_dimension.items():
                    d = dim_index.get(dimension)
                    if d is None or not dimension_items:
                        continue  # a dimension the programme does not score
                    block = 2 * d + (side == "needs")
                    for item in dimension_items:
                        key = (item.description, item.tags)
                        column = first.get(key)
                        if column is None:
                            column = first[key] = len(unique)
                            unique.append(item)
                        rows[block].append(row)
                        cols[block].append(column)
                        weights[block].append(item.strength / MAX_STRENGTH)
                    if side == "needs":
                        need_mass[row, d] = profile.need_mass(dimension)
        vectors = self._unique_vectors(unique)
        latent = self.svd_ is not None
        weight_dtype = LATENT_DTYPE if latent else np.float64

        def aggregate(block: int) -> Matrix:
            w = sp.csr_matrix(
                (np.asarray(weights[block], dtype=weight_dtype), (rows[block], cols[block])),
                shape=(len(profiles), len(unique)),
            )
            if block % 2:  # needs: an average over the needs, weighted by their importance
                totals = np.asarray(w.sum(axis=1)).ravel()
                scale = np.divide(1.0, totals, out=np.zeros_like(totals), where=totals > 0)
                w = sp.diags(scale.astype(weight_dtype)) @ w
            out = w @ vectors
            return sp.csr_matrix(out) if sp.issparse(out) else np.ascontiguousarray(out, dtype=LATENT_DTYPE)

        sector_index = {s: k for k, s in enumerate(self.sectors_)}
        r2 = [row for row, p in enumerate(profiles) for s in p.sectors if s in sector_index]
        c2 = [sector_index[s] for p in profiles for s in p.sectors if s in sector_index]
        sectors = unit_rows(sp.csr_matrix((np.ones(len(r2)), (r2, c2)), shape=(len(profiles), len(self.sectors_))))
        return ProfileMatrices(
            offers=tuple(aggregate(2 * d) for d in range(n_dims)),
            needs=tuple(aggregate(2 * d + 1) for d in range(n_dims)),
            need_mass=need_mass,
            sectors=sectors,
        )

    def split(self, matrix: Matrix) -> ProfileMatrices:
        """Split a ``transform`` output back into its blocks."""
        check_is_fitted(self, "words_")
        f, n_dims = self.n_item_features_, len(self.dimensions_)
        csr = sp.csr_matrix(matrix) if sp.issparse(matrix) else None

        def cols(start: int, stop: int) -> Matrix:
            return csr[:, start:stop] if csr is not None else np.asarray(matrix)[:, start:stop]

        offers = tuple(cols(d * f, (d + 1) * f) for d in range(n_dims))
        needs = tuple(cols((n_dims + d) * f, (n_dims + d + 1) * f) for d in range(n_dims))
        mass_start = 2 * n_dims * f
        mass = cols(mass_start, mass_start + n_dims)
        need_mass = mass.toarray() if sp.issparse(mass) else np.asarray(mass)
        sectors = cols(mass_start + n_dims, mass_start + n_dims + len(self.sectors_))
        return ProfileMatrices(offers, needs, need_mass, sectors)

    def get_feature_names_out(self, input_features: object = None) -> NDArray[np.str_]:
        check_is_fitted(self, "words_")
        if self.svd_ is None:
            item = [f"word:{w}" for w in self.words_.get_feature_names_out()] + [
                f"tag:{t}" for t in self.tags_.get_feature_names_out()
            ]
        else:
            item = [f"lsa:{k}" for k in range(self.n_item_features_)]
        names = [f"offers:{d}:{x}" for d in self.dimensions_ for x in item]
        names += [f"needs:{d}:{x}" for d in self.dimensions_ for x in item]
        names += [f"need_mass:{d}" for d in self.dimensions_] + [f"sector:{s}" for s in self.sectors_]
        return np.asarray(names, dtype=object)
