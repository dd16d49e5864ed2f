"""The vectoriser: profiles in, per-dimension offer and need matrices plus a sector vector out."""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal, TypeAlias

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from matchmaker.core.encoding import (
    ENCODERS,
    LATENT_DTYPE,
    AttributeCoder,
    Block,
    Embedder,
    EmbeddingCache,
    EmbeddingModel,
    Encoder,
    EncoderInputs,
    ItemAttributes,
    deferred_texts,
)
from matchmaker.core.encoding.attributes import tensor
from matchmaker.core.encoding.hybrid import ConceptEncoder
from matchmaker.core.encoding.semantic import Embeddings, KeyedEmbeddings, Kind
from matchmaker.core.encoding.text import analyse_words, item_text
from matchmaker.core.errors import MatchmakerError
from matchmaker.core.profile import MAX_STRENGTH, SIDES, Item, Profile, Side, Vocabulary
from matchmaker.core.vectors import Matrix, ProfileMatrices, unit_rows

NComponents: TypeAlias = int | Literal["auto"] | None
ItemKey: TypeAlias = tuple[str, tuple[str, ...], Any]

# The "auto" rule: exact sparse vectors up to this many profiles, latent dense ones above. Exact scores
# cost a sparse product per pair that grows with the vocabulary; latent ones a fixed-size dense BLAS
# product, which is what keeps 100,000 organisations to minutes (docs/performance.md).
AUTO_EXACT_MAX_PROFILES = 5_000
AUTO_COMPONENTS = 64  # the word encoders' latent width (each encoder's own is ENCODERS[name].auto_components)

__all__ = [
    "AUTO_COMPONENTS",
    "AUTO_EXACT_MAX_PROFILES",
    "LATENT_DTYPE",
    "NotFittedError",
    "ProfileVectoriser",
    "analyse_words",
    "item_text",
]


class NotFittedError(MatchmakerError, ValueError, AttributeError):
    """The vectoriser was used before ``fit`` (as scikit-learn's error of that name)."""


def _key(item: Item) -> ItemKey:
    return (item.description, item.tags, item.attributes)


def _unique_items(items: Sequence[Item]) -> tuple[list[Item], NDArray[np.intp]]:
    """The distinct items (description, tags and attributes), and each item's position among them."""
    first: dict[ItemKey, int] = {}
    inverse = np.fromiter((first.setdefault(_key(i), len(first)) for i in items), dtype=np.intp, count=len(items))
    unique: list[Item] = [None] * len(first)  # type: ignore[list-item]
    for item, position in zip(items, inverse.tolist(), strict=True):
        unique[position] = item
    return unique, inverse


class _VectorCache:
    """The vectors of recently seen item texts (first in, first out), so explaining a match rarely re-encodes.

    Filled when profiles are vectorised and when items are explained; a row is kept whole (dense) or
    as its indices and values (sparse). 131,072 items take tens of MiB.
    """

    def __init__(self, capacity: int = 131_072) -> None:
        self.capacity = capacity
        self.rows: dict[tuple[str, tuple[str, ...]], Any] = {}
        self.lock = threading.Lock()

    def get(self, keys: Sequence[tuple[str, tuple[str, ...]]]) -> list[Any]:
        with self.lock:
            return [self.rows.get(key) for key in keys]

    def put(self, keys: Sequence[tuple[str, tuple[str, ...]]], matrix: Matrix) -> None:
        with self.lock:
            for k, key in enumerate(keys):
                if sp.issparse(matrix):
                    start, stop = matrix.indptr[k], matrix.indptr[k + 1]
                    self.rows[key] = (matrix.indices[start:stop].copy(), matrix.data[start:stop].copy())
                else:
                    self.rows[key] = np.array(matrix[k])
            while len(self.rows) > self.capacity:
                del self.rows[next(iter(self.rows))]


def _stack(rows: Sequence[Any], width: int, sparse: bool) -> Matrix:
    if not sparse:
        return np.stack(rows) if rows else np.zeros((0, width), dtype=LATENT_DTYPE)
    lengths = [len(indices) for indices, _ in rows]
    indptr = np.zeros(len(rows) + 1, dtype=np.int32)
    np.cumsum(lengths, out=indptr[1:])
    indices = np.concatenate([r[0] for r in rows]) if rows else np.zeros(0, dtype=np.int32)
    data = np.concatenate([r[1] for r in rows]) if rows else np.zeros(0)
    return sp.csr_matrix((data, indices, indptr), shape=(len(rows), width))


class ProfileVectoriser:
    """Turn profiles into offer and need matrices per dimension plus a sector vector.

    Each offer or need item becomes a vector from the chosen ``encoder`` (a name in
    :data:`~matchmaker.core.encoding.ENCODERS`), tensored with the item's attribute coefficients in the
    dimensions where the vocabulary's attributes apply (:mod:`~matchmaker.core.encoding.attributes`):
    an offer's vector dotted with a need's is their text similarity times the attribute factor, in
    [0, 1]. An organisation's offers in a dimension are the strength-weighted sum of its offer vectors,
    its needs the importance-weighted average of its need vectors.

    Parameters
    ----------
    dimensions : sequence of str, optional
        The dimensions, in order; learned from the profiles when not given.
    sectors : sequence of str, optional
        The sector vocabulary; learned from the profiles when not given.
    tag_share : float, default=0.4
        The word encoders' share of an item's similarity that comes from exact shared tags.
    n_components : int, "auto" or None, default=None
        Latent vectors of this width (dense float32): SVD components for the word encoders, concept
        clusters for the semantic ones. None keeps exact sparse vectors; "auto" keeps them for up to
        ``AUTO_EXACT_MAX_PROFILES`` profiles and uses the encoder's latent width above. The choice made
        is ``n_components_``.
    random_state : int, default=0
        Seed for the SVD.
    encoder : str, default="tfidf"
        The encoder's name. The configuration's default is ``hybrid`` (``core.defaults.DEFAULT_ENCODER``),
        which needs ``model``; this estimator's default needs nothing.
    vocabulary : Vocabulary, optional
        Its tags are the semantic encoders' concepts and its attributes the vetoes; without it there
        are no attributes (and the semantic encoders cannot be fitted).
    model : EmbeddingModel, optional
        The loaded text-embedding model the semantic encoders read text with.
    cache : EmbeddingCache, optional
        Where embeddings are kept between fits (in memory when not given).

    Notes
    -----
    What the encoder learns comes from ``fit`` (the word vocabulary, the concepts' usual levels).
    Profiles transformed later (``transform``, ``blocks``, and so a population's ``with_profile``) are
    vectorised with it: words it has never seen are ignored until the vectoriser is fitted again.

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
        encoder: str = "tfidf",
        vocabulary: Vocabulary | None = None,
        model: EmbeddingModel | None = None,
        cache: EmbeddingCache | None = None,
    ) -> None:
        self.dimensions = dimensions
        self.sectors = sectors
        self.tag_share = tag_share
        self.n_components = n_components
        self.random_state = random_state
        self.encoder = encoder
        self.vocabulary = vocabulary
        self.model = model
        self.cache = cache

    # -- the estimator contract (scikit-learn's, without importing it: fitted vectorisers load fast) --

    @classmethod
    def _param_names(cls) -> list[str]:
        return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's arguments, as scikit-learn's ``clone`` reads them."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> ProfileVectoriser:
        for name, value in params.items():
            if name not in self._param_names():
                raise MatchmakerError(f"unknown parameter {name!r}; accepted: {', '.join(self._param_names())}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        changed = [f"{k}={v!r}" for k, v in self.get_params().items() if v != _DEFAULTS[k]]
        return f"ProfileVectoriser({', '.join(changed)})"

    def _check_fitted(self) -> None:
        if not hasattr(self, "encoder_"):
            raise NotFittedError("this ProfileVectoriser is not fitted yet; call fit with the profiles first")

    def fit(self, profiles: Iterable[Profile], y: object = None) -> ProfileVectoriser:
        profiles = list(profiles)
        if not profiles:
            raise MatchmakerError("cannot fit the vectoriser on no profiles; give at least one")
        if not 0.0 <= self.tag_share <= 1.0:
            raise MatchmakerError(f"tag_share must be between 0 and 1, got {self.tag_share!r}")
        entry = ENCODERS.get_entry(self.encoder)
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
            self.n_components_: int | None = None if len(profiles) <= AUTO_EXACT_MAX_PROFILES else entry.auto_components
        else:
            self.n_components_ = self.n_components if isinstance(self.n_components, int) else None
        # Each distinct item is encoded once; document frequencies still count every item.
        unique, inverse = _unique_items(items)
        multiplicity = np.bincount(inverse, minlength=len(unique)).astype(np.float64)
        embedder = Embedder(self.model, self.cache) if self.model is not None else None
        tags = dict(self.vocabulary.tags) if self.vocabulary is not None else {}
        inputs = EncoderInputs(tags, embedder, self.n_components_, self.tag_share, self.random_state)
        encoder = entry.build(inputs)
        encoder.fit(unique, multiplicity)
        specs = dict(self.vocabulary.attributes) if self.vocabulary is not None else {}
        coder = AttributeCoder(specs)
        if encoder.latent and specs:  # latent width costs time: states only for the values in use
            coder = AttributeCoder(specs, coder.used_states(coder.of(unique)))
        self.encoder_: Encoder = encoder
        self.attributes_ = coder
        self.n_item_features_ = encoder.width
        self.widths_ = tuple(encoder.width * coder.coefficient_width(d) for d in self.dimensions_)
        self._cache: _VectorCache | None = None
        self.n_features_in_ = 1
        return self

    def attach(self, model: EmbeddingModel, cache: EmbeddingCache | None = None) -> ProfileVectoriser:
        """Give a vectoriser loaded from a pickle its model again (models are never pickled); returns self."""
        self.model, self.cache = model, cache
        if isinstance(getattr(self, "encoder_", None), ConceptEncoder):
            self.encoder_.attach(Embedder(model, cache))  # type: ignore[attr-defined]
        return self

    def remembered_items(self) -> dict[tuple[str, tuple[str, ...]], Any]:
        """The item vectors it remembers (text and tags -> row), which pickles leave out: to keep beside one.

        Giving them back with ``remember`` spares a vectoriser loaded from a pickle re-encoding every
        item it explains (the fit cache on disk keeps them so).
        """
        cache = getattr(self, "_cache", None)
        return dict(cache.rows) if cache is not None else {}

    def remember(self, rows: dict[tuple[str, tuple[str, ...]], Any]) -> ProfileVectoriser:
        """Remember ``rows`` (from ``remembered_items`` of this vectoriser before it was pickled); returns self."""
        cache = getattr(self, "_cache", None)
        if cache is None:
            cache = self._cache = _VectorCache()
        with cache.lock:
            cache.rows.update(rows)
        return self

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_cache"] = None  # a cache with a lock: rebuilt on use (``remembered_items`` keeps its rows)
        state["model"] = state["cache"] = None  # attach them again after loading
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    @property
    def is_latent(self) -> bool:
        """True when item vectors are dense latent ones, False for exact sparse ones."""
        self._check_fitted()
        return self.encoder_.latent

    @property
    def item_blocks(self) -> tuple[Block, ...]:
        """The named column blocks of an item's text vector (concepts, words, tags)."""
        self._check_fitted()
        return self.encoder_.blocks

    # -- item vectors ----------------------------------------------------------------------------

    def transform_items(self, items: Sequence[Item]) -> Matrix:
        """One text vector per item (unit length, or zero where nothing can be read); dot products are
        similarities before the attribute factor.

        Sparse float64 rows for exact vectors, dense float32 rows for latent ones; equal texts are
        encoded once.
        """
        self._check_fitted()
        unique, inverse = _unique_items(items)
        vectors = self._unique_vectors(unique)
        if len(unique) == len(items) and np.array_equal(inverse, np.arange(len(items))):
            return vectors
        return vectors[inverse]

    def missing_embeddings(
        self, items: Sequence[Item], compute: Callable[[list[str], Kind], Embeddings]
    ) -> KeyedEmbeddings:
        """The embeddings of the texts of ``items`` no embedding cache holds, computed by ``compute`` (the
        model, run in another process, say), by cache key; ``keep_embeddings`` caches them, so vectorising
        the items next embeds nothing. Empty for an encoder without a model."""
        self._check_fitted()
        if not isinstance(self.encoder_, ConceptEncoder):
            return {}
        return self.encoder_.missing_embeddings(items, compute)

    def keep_embeddings(self, rows: KeyedEmbeddings) -> None:
        """Cache embeddings from ``missing_embeddings``."""
        if rows and isinstance(self.encoder_, ConceptEncoder):
            self.encoder_.keep_embeddings(rows)

    def unreadable(self, items: Sequence[Item]) -> NDArray[np.bool_]:
        """True for each item whose text vector is zero: no word, tag or concept the encoder reads, so
        it can meet nothing (only punctuation, say, or a language the encoder cannot read)."""
        vectors = self.transform_items(items)
        if sp.issparse(vectors):
            zero = np.asarray(np.diff(sp.csr_matrix(vectors).indptr) == 0)
        else:
            zero = np.asarray(~np.asarray(vectors).any(axis=1))
        pending = deferred_texts()
        if pending:  # not embedded yet: whether the model reads it is not known
            zero &= np.array([i.description not in pending for i in items], dtype=bool)
        return zero

    def item_attributes(self, items: Sequence[Item]) -> ItemAttributes:
        """The attribute values (declared or inferred) and veto coefficients of ``items``."""
        self._check_fitted()
        return self.attributes_.of(items)

    def item_vectors(self, items: Sequence[Item], side: Side, dimension: str) -> Matrix:
        """The vectors of ``items`` as offers or needs in ``dimension``: text vectors with their attribute blocks.

        ``item_vectors(offers, "offers", d) @ item_vectors(needs, "needs", d).T`` is every offer's
        similarity to every need times the attribute factor.
        """
        content = self.transform_items(items)
        return tensor(content, self.attributes_.coefficients(self.attributes_.of(items), side, dimension))

    def _unique_vectors(self, unique: Sequence[Item]) -> Matrix:
        sparse = not self.encoder_.latent
        width = self.encoder_.width
        if not unique:
            return sp.csr_matrix((0, width)) if sparse else np.zeros((0, width), dtype=LATENT_DTYPE)
        cache = getattr(self, "_cache", None)
        if cache is None:
            cache = self._cache = _VectorCache()
        keys = [(i.description, i.tags) for i in unique]
        rows = cache.get(keys)
        missing = [k for k, row in enumerate(rows) if row is None]
        if not missing:
            return _stack(rows, width, sparse)
        computed = self.encoder_.transform([unique[k] for k in missing])
        pending = deferred_texts()
        # Rows of texts left unembedded (``embedding_deferred``) are provisional: used, never kept.
        kept = [p for p, k in enumerate(missing) if not pending or unique[k].description not in pending]
        cache.put([keys[missing[p]] for p in kept], computed if len(kept) == len(missing) else computed[kept])
        if len(missing) == len(rows):
            return computed
        for position, k in enumerate(missing):
            if sparse:
                start, stop = computed.indptr[position], computed.indptr[position + 1]
                rows[k] = (computed.indices[start:stop], computed.data[start:stop])
            else:
                rows[k] = computed[position]
        return _stack(rows, width, sparse)

    # -- organisations ---------------------------------------------------------------------------

    def transform(self, profiles: Iterable[Profile]) -> Matrix:
        """Stack, per profile, the offer blocks, need blocks, need masses and sectors into one row."""
        self._check_fitted()
        profiles = list(profiles)
        blocks = self.blocks(profiles)
        parts = [*blocks.offers, *blocks.needs, blocks.need_mass, blocks.sectors]
        if not self.encoder_.latent:
            return sp.hstack([sp.csr_matrix(part) for part in parts], format="csr")
        return np.hstack([part.toarray() if sp.issparse(part) else part for part in parts])

    def blocks(self, profiles: Sequence[Profile]) -> ProfileMatrices:
        """The blocks of ``transform(profiles)`` without stacking them."""
        self._check_fitted()
        dim_index = {d: k for k, d in enumerate(self.dimensions_)}
        n_dims = len(self.dimensions_)
        first: dict[ItemKey, int] = {}  # item -> column of its vector
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
                        key = _key(item)
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
        attributes = self.attributes_.of(unique) if self.attributes_.attributes else None
        latent = self.encoder_.latent
        weight_dtype = LATENT_DTYPE if latent else np.float64

        def aggregate(block: int) -> Matrix:
            dimension = self.dimensions_[block // 2]
            if not rows[block]:  # no item here (most blocks of one newcomer): zeros, without the sparse algebra
                wide = self.attributes_.coefficient_width(dimension) if attributes is not None else 1
                shape = (len(profiles), vectors.shape[1] * wide)
                return np.zeros(shape, dtype=LATENT_DTYPE) if latent else sp.csr_matrix(shape, dtype=np.float64)
            w = sp.csr_matrix(
                (np.asarray(weights[block], dtype=weight_dtype), (rows[block], cols[block])),
                shape=(len(profiles), len(unique)),
            )
            if block % 2:  # needs: an average over the needs, weighted by their importance
                totals = np.asarray(w.sum(axis=1)).ravel()
                scale = np.divide(1.0, totals, out=np.zeros_like(totals), where=totals > 0)
                w = sp.diags(scale.astype(weight_dtype)) @ w
            side: Side = "needs" if block % 2 else "offers"
            if attributes is None or self.attributes_.coefficient_width(dimension) == 1:
                out = w @ vectors
                return sp.csr_matrix(out) if sp.issparse(out) else np.ascontiguousarray(out, dtype=LATENT_DTYPE)
            # Each coefficient block s of an item vector is c[s] times its text vector, so an
            # organisation's block s is its weights scaled by c[s], times the text vectors.
            coefficients = self.attributes_.coefficients(attributes, side, dimension)
            parts = []
            for s in range(coefficients.shape[1]):
                column = coefficients[:, s]
                if s and not column.any():
                    parts.append(sp.csr_matrix((len(profiles), vectors.shape[1])) if not latent else None)
                    continue
                part = (w @ sp.diags(column.astype(weight_dtype))) @ vectors
                parts.append(sp.csr_matrix(part) if not latent else np.asarray(part, dtype=LATENT_DTYPE))
            if not latent:
                return sp.hstack(parts, format="csr")
            out = np.zeros((len(profiles), vectors.shape[1] * len(parts)), dtype=LATENT_DTYPE)
            width = vectors.shape[1]
            for s, part in enumerate(parts):
                if part is not None:
                    out[:, s * width : (s + 1) * width] = part
            return out

        sector_index = {s: k for k, s in enumerate(self.sectors_)}
        r2 = [row for row, p in enumerate(profiles) for s in p.sectors if s in sector_index]
        c2 = [sector_index[s] for p in profiles for s in p.sectors if s in sector_index]
        sectors = unit_rows(sp.csr_matrix((np.ones(len(r2)), (r2, c2)), shape=(len(profiles), len(self.sectors_))))
        return ProfileMatrices(
            offers=tuple(aggregate(2 * d) for d in range(n_dims)),
            needs=tuple(aggregate(2 * d + 1) for d in range(n_dims)),
            need_mass=need_mass,
            sectors=sectors,
            content_widths=self.content_widths,
        )

    @property
    def content_widths(self) -> tuple[int, ...] | None:
        """Per dimension, the leading columns whose products bound the whole product (None: no such bound).

        With non-negative text vectors (every exact encoder, and the concept clusters) the attribute
        factor only lowers a product, so the first block (the plain text vectors) bounds it.
        """
        self._check_fitted()
        non_negative = not self.encoder_.latent or isinstance(self.encoder_, ConceptEncoder)
        return tuple(self.encoder_.width for _ in self.dimensions_) if non_negative else None

    def split(self, matrix: Matrix) -> ProfileMatrices:
        """Split a ``transform`` output back into its blocks."""
        self._check_fitted()
        widths = self.widths_
        csr = sp.csr_matrix(matrix) if sp.issparse(matrix) else None

        def cols(start: int, stop: int) -> Matrix:
            return csr[:, start:stop] if csr is not None else np.asarray(matrix)[:, start:stop]

        bounds = np.cumsum([0, *widths, *widths]).tolist()
        n_dims = len(widths)
        offers = tuple(cols(bounds[d], bounds[d + 1]) for d in range(n_dims))
        needs = tuple(cols(bounds[n_dims + d], bounds[n_dims + d + 1]) for d in range(n_dims))
        mass_start = bounds[-1]
        mass = cols(mass_start, mass_start + n_dims)
        need_mass = mass.toarray() if sp.issparse(mass) else np.asarray(mass)
        sectors = cols(mass_start + n_dims, mass_start + n_dims + len(self.sectors_))
        return ProfileMatrices(offers, needs, need_mass, sectors, content_widths=self.content_widths)

    def get_feature_names_out(self, input_features: object = None) -> NDArray[np.str_]:
        self._check_fitted()
        encoder = self.encoder_
        item = (
            encoder.feature_names()
            if hasattr(encoder, "feature_names")
            else [f"{b.name}:{f}" for b in encoder.blocks for f in b.features]
        )
        names: list[str] = []
        for side in SIDES:
            for d in self.dimensions_:
                names += [f"{side}:{d}:{state}{x}" for state in self._state_names(d) for x in item]
        names += [f"need_mass:{d}" for d in self.dimensions_] + [f"sector:{s}" for s in self.sectors_]
        return np.asarray(names, dtype=object)

    def _state_names(self, dimension: str) -> list[str]:
        """The coefficient blocks of ``dimension`` ("" for the plain text block, then "language=ja:" ...)."""
        names = [""]
        for a in self.attributes_.applying(dimension):
            names = [n + extra for n in names for extra in ["", *(f"{a.name}={s}:" for s in a.states)]]
        return names


_DEFAULTS = {
    name: p.default for name, p in inspect.signature(ProfileVectoriser.__init__).parameters.items() if name != "self"
}
