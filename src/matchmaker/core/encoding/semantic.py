"""Semantic vectors: concept anchors over a text-embedding model.

The model is given, loaded (by an adapter: :mod:`matchmaker.embedding`); texts it has embedded before
come from an embedding cache, also given. Raw embedding cosines are not calibrated (two unrelated
items of this domain have cosine about 0.85 with multilingual-e5) and can be negative after any
centring, so an unrelated offer would lower a benefit. Concept anchors fix both:

* anchor k is the embedding of vocabulary tag k's name and description ("gpu cloud: GPU capacity sold
  or granted as a cloud service ...");
* an item's coordinate k is ``max(0, cos(item, anchor_k) - t_k)``, where ``t_k`` is anchor k's median
  cosine over the fitted items (its typical, uninformative level);
* only the item's ``CONCEPTS_KEPT`` (5) largest coordinates are kept, so two items are similar only
  when they share one of their main concepts;
* the row is scaled to unit length.

Five is the largest number for which the median similarity of the shipped profiles' offer and need
pairs within a dimension (unlabelled text, most pairs unrelated) is 0, as a calibrated similarity of
unrelated items should be (all coordinates: 0.28; 8: 0.09; 6: 0.04; 5: 0).

Similarities are then in [0, 1], 1 for the same text, never negative, and a reason can name the
concepts two items share. Latent vectors (large populations) group the anchors into a few concept
clusters (a non-negative sum of their coordinates, so similarities stay in [0, 1]).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from matchmaker.core.encoding.text import normalise
from matchmaker.core.errors import MatchmakerError

Kind = Literal["query", "passage"]
ITEM_KIND: Kind = "query"  # items are embedded as e5 queries, the anchors (tag descriptions) as passages
Embeddings = NDArray[np.float32]
KeyedEmbeddings = dict[str, NDArray[np.float32]]  # unit rows by cache key (``cache_key``)


@runtime_checkable
class EmbeddingModel(Protocol):
    """A loaded text-embedding model: texts in, unit-length float32 rows out.

    ``identity`` names the model and its version (the embedding cache is kept per identity); ``kind``
    says whether a text is a query or a passage, for models trained with such prefixes (e5).
    """

    identity: str
    dimension: int

    def embed(self, texts: Sequence[str], kind: Kind) -> Embeddings: ...


class EmbeddingCache(Protocol):
    """Embeddings of one model by key (the normalised text and its kind); rows it lacks are None."""

    def get(self, keys: Sequence[str]) -> list[NDArray[np.float32] | None]: ...

    def put(self, keys: Sequence[str], rows: Embeddings) -> None: ...


class MemoryCache:
    """An embedding cache in memory (the adapters keep one on disk)."""

    def __init__(self) -> None:
        self._rows: dict[str, NDArray[np.float32]] = {}
        self._lock = threading.Lock()

    def get(self, keys: Sequence[str]) -> list[NDArray[np.float32] | None]:
        with self._lock:
            return [self._rows.get(k) for k in keys]

    def put(self, keys: Sequence[str], rows: Embeddings) -> None:
        with self._lock:
            for k, row in zip(keys, rows, strict=True):
                self._rows[k] = np.asarray(row, dtype=np.float32)

    def __deepcopy__(self, memo: dict[int, Any]) -> MemoryCache:
        return self  # shared, like the model: a clone of an estimator must not copy it


def cache_key(text: str, kind: Kind) -> str:
    """The cache key of a text: its kind and its normalised form (so ＧＰＵ and GPU are one entry).

    >>> cache_key("ＧＰＵ hours", "query")
    'query:gpu hours'
    """
    return f"{kind}:{normalise(text)}"


# Texts left unembedded inside ``embedding_deferred()`` in this thread or task (None: embed as usual).
_deferred: ContextVar[set[str] | None] = ContextVar("deferred_texts", default=None)


@contextmanager
def embedding_deferred() -> Iterator[set[str]]:
    """Inside, an embedder embeds nothing: a text no cache holds gets a zero row and joins the set yielded.

    A zero embedding has no concept above its typical level, so such an item is read from its words
    and tags alone until its text is embedded. The service registers attendees this way and embeds
    their texts off the request path (a burst of registrations would otherwise queue behind the model).

    >>> with embedding_deferred() as pending:
    ...     deferred_texts() is pending
    True
    >>> deferred_texts() is None
    True
    """
    pending: set[str] = set()
    token = _deferred.set(pending)
    try:
        yield pending
    finally:
        _deferred.reset(token)


def deferred_texts() -> set[str] | None:
    """The texts left unembedded so far inside ``embedding_deferred()``, or None outside it."""
    return _deferred.get()


class Embedder:
    """A model with its cache: embed texts once, ever (per model identity)."""

    def __init__(self, model: EmbeddingModel, cache: EmbeddingCache | None) -> None:
        self.model = model
        self.cache: EmbeddingCache = cache if cache is not None else MemoryCache()

    def __call__(self, texts: Sequence[str], kind: Kind) -> NDArray[np.float64]:
        """Unit rows of ``texts`` (distinct or not); each missing text is embedded once and cached."""
        keys = [cache_key(t, kind) for t in texts]
        found = self.cache.get(keys)
        deferred = _deferred.get()
        if deferred is not None:
            deferred.update(t for t, row in zip(texts, found, strict=True) if row is None)
            zero = np.zeros(self.model.dimension, dtype=np.float32)
            found = [row if row is not None else zero for row in found]
        elif any(row is None for row in found):
            fresh = self._embed_missing(keys, texts, found, kind, self.model.embed)
            self.keep(fresh)
            found = [row if row is not None else fresh[k] for k, row in zip(keys, found, strict=True)]
        if not keys:
            return np.zeros((0, self.model.dimension))
        rows = [row for row in found if row is not None]
        return np.asarray(np.stack(rows), dtype=np.float64)

    def missing(
        self, texts: Sequence[str], kind: Kind, compute: Callable[[list[str], Kind], Embeddings]
    ) -> KeyedEmbeddings:
        """The rows of the ``texts`` no cache holds, embedded by ``compute`` (the model, run elsewhere),
        by cache key; not cached yet (``keep`` them). ``compute`` is given the normalised texts."""
        keys = [cache_key(t, kind) for t in texts]
        return self._embed_missing(keys, texts, self.cache.get(keys), kind, compute)

    def keep(self, rows: KeyedEmbeddings) -> None:
        """Cache rows by key (from ``missing``): vectorising their texts next embeds nothing."""
        if rows:
            self.cache.put(list(rows), np.stack(list(rows.values())))

    def _embed_missing(
        self,
        keys: Sequence[str],
        texts: Sequence[str],
        found: Sequence[NDArray[np.float32] | None],
        kind: Kind,
        compute: Callable[[list[str], Kind], Embeddings],
    ) -> KeyedEmbeddings:
        missing = list(dict.fromkeys(k for k, row in zip(keys, found, strict=True) if row is None))
        if not missing:
            return {}
        text_of = {k: normalise(t) for k, t in zip(keys, texts, strict=True)}
        computed = np.asarray(compute([text_of[k] for k in missing], kind), dtype=np.float32)
        if computed.shape != (len(missing), self.model.dimension):
            raise MatchmakerError(
                f"model {self.model.identity!r} returned {computed.shape} for {len(missing)} texts; "
                f"expected ({len(missing)}, {self.model.dimension})"
            )
        norms = np.linalg.norm(computed, axis=1, keepdims=True)
        computed = np.divide(computed, norms, out=np.zeros_like(computed), where=norms > 0)
        return dict(zip(missing, computed, strict=True))


def anchor_texts(tags: dict[str, str]) -> list[str]:
    """What each anchor embeds: the tag's words and its description.

    >>> anchor_texts({"gpu-cloud": "GPU capacity sold as a cloud service."})
    ['gpu cloud: GPU capacity sold as a cloud service.']
    """
    return [f"{tag.replace('-', ' ')}: {description}" for tag, description in tags.items()]


def unit(matrix: NDArray[np.float64]) -> NDArray[np.float64]:
    """Rows scaled to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    scaled: NDArray[np.float64] = np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)
    return scaled


CONCEPTS_KEPT = 5


class Anchors:
    """Concept coordinates of item texts: how far each leans toward each vocabulary tag, beyond the usual.

    Fitted on the distinct item texts of a population (the anchors' typical levels ``thresholds_``).
    ``transform`` gives non-negative rows of unit length (zero where no anchor rises above its level).
    """

    def __init__(self, tags: dict[str, str]) -> None:
        if not tags:
            raise MatchmakerError("concept anchors need the vocabulary's tags; the vocabulary has none")
        self.names = tuple(tags)
        self.tags = dict(tags)

    def fit(self, embed: Embedder, texts: Sequence[str]) -> Anchors:
        self.anchors_ = embed(anchor_texts(self.tags), "passage")
        cosines = embed(list(texts), ITEM_KIND) @ self.anchors_.T
        self.thresholds_ = np.median(cosines, axis=0) if len(texts) else np.zeros(len(self.names))
        return self

    def raw(self, embed: Embedder, texts: Sequence[str]) -> NDArray[np.float64]:
        """``max(0, cos - t)`` per anchor, before scaling to unit length."""
        embedded = embed(list(texts), ITEM_KIND)
        raw: NDArray[np.float64] = np.maximum(embedded @ self.anchors_.T - self.thresholds_, 0.0)
        raw[~embedded.any(axis=1)] = 0.0  # not embedded yet (``embedding_deferred``): no concept
        if raw.shape[1] > CONCEPTS_KEPT:
            # Ties at the fifth value are all kept: the result does not depend on the anchors' order.
            fifth = np.partition(raw, -CONCEPTS_KEPT, axis=1)[:, -CONCEPTS_KEPT][:, None]
            raw = np.where(raw >= fifth, raw, 0.0)
        return raw

    def transform(self, embed: Embedder, texts: Sequence[str]) -> NDArray[np.float64]:
        return unit(self.raw(embed, texts))


def concept_clusters(anchors: NDArray[np.float64], k: int) -> NDArray[np.intp]:
    """Each anchor's cluster among ``k``, by average-linkage clustering of the anchors' embeddings.

    Deterministic; used to narrow concept coordinates for latent vectors (a cluster's coordinate is
    the sum of its anchors').
    """
    from scipy.cluster.hierarchy import fcluster, linkage

    if k >= len(anchors):
        return np.arange(len(anchors), dtype=np.intp)
    tree = linkage(anchors, method="average", metric="cosine")
    labels = fcluster(tree, t=k, criterion="maxclust")
    # Numbered by first anchor, so the order follows the vocabulary.
    _, first = np.unique(labels, return_index=True)
    order = {labels[i]: rank for rank, i in enumerate(sorted(first))}
    return np.array([order[label] for label in labels], dtype=np.intp)
