"""The semantic and hybrid encoders: concept anchors alone, or with small word and tag blocks beside them.

``hybrid`` (the default) is, per item, ``[sqrt(0.8) a, sqrt(0.1) w, sqrt(0.1) t]``: unit concept
coordinates ``a`` (:class:`~matchmaker.core.encoding.semantic.Anchors`), unit lexical word TF-IDF ``w``
and unit tag TF-IDF ``t``; a block an item lacks (no tags, no word the analyser reads, no concept above
its usual level) gives its weight to the others, so an item's own similarity is 1. Two items'
similarity is then ``sum_b sqrt(w_b w'_b) (block_b . block'_b)``: the semantic, word and tag parts a
reason shows, adding up to it. The weights (0.8, 0.1, 0.1) were chosen on the labelled matching set
(docs/performance.md, "Matching"): cross-validated, the word and tag blocks add little to the AUC, and
they are kept small so reasons can still name shared words and tags.

For large populations (latent vectors) the word block is dropped, tags are folded into their own
concept coordinate, and the coordinates are summed into ``components`` concept clusters: dense,
narrow and still non-negative.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from matchmaker.core.encoding.base import LATENT_DTYPE, Block, Encoder
from matchmaker.core.encoding.lexical import WordEncoder
from matchmaker.core.encoding.semantic import (
    ITEM_KIND,
    Anchors,
    Embedder,
    Embeddings,
    KeyedEmbeddings,
    Kind,
    concept_clusters,
    deferred_texts,
    unit,
)
from matchmaker.core.encoding.text import has_letters
from matchmaker.core.errors import MatchmakerError
from matchmaker.core.profile import Item
from matchmaker.core.vectors import Matrix

SEMANTIC_WEIGHT, WORD_WEIGHT, TAG_WEIGHT = 0.8, 0.1, 0.1
FOLDED_TAG_WEIGHT = 0.3  # latent vectors: the share of an item's tags in its concept coordinates


class ConceptEncoder(Encoder):
    """Concept anchors over an embedding model, optionally with word and tag blocks (the hybrid).

    ``weights`` are the semantic, word and tag shares (word and tag 0: semantic alone). With
    ``components`` the vectors are latent: tags folded into the concepts, clustered to ``components``.
    """

    def __init__(
        self,
        name: str,
        embedder: Embedder | None,
        tags: dict[str, str],
        *,
        weights: tuple[float, float, float] = (SEMANTIC_WEIGHT, WORD_WEIGHT, TAG_WEIGHT),
        components: int | None = None,
    ) -> None:
        self.name = name
        self.embedder = embedder
        self.anchors = Anchors(tags)
        self.weights = weights
        self.components = components
        self.latent = components is not None
        self.words = WordEncoder("lexical", tag_share=0.5) if not self.latent and sum(weights[1:]) > 0 else None

    def fit(self, items: Sequence[Item], multiplicity: NDArray[np.float64]) -> ConceptEncoder:
        self.__dict__.pop("blocks_", None)
        self.anchors.fit(self._embedder(), [i.description for i in items])
        if self.words is not None:
            self.words.fit(items, multiplicity)
        self.clusters_: NDArray[np.intp] | None = None
        if self.components is not None:
            self.clusters_ = concept_clusters(self.anchors.anchors_, self.components)
        return self

    def attach(self, embedder: Embedder) -> None:
        """Give a fitted encoder loaded from a pickle its model again (models are never pickled)."""
        self.embedder = embedder

    def _embedder(self) -> Embedder:
        if self.embedder is None:
            raise MatchmakerError(
                f"the {self.name} encoder has no model attached (it was unpickled); attach one with "
                "ProfileVectoriser.attach(model, cache)"
            )
        return self.embedder

    def missing_embeddings(
        self, items: Sequence[Item], compute: Callable[[list[str], Kind], Embeddings]
    ) -> KeyedEmbeddings:
        """The embeddings of ``items``' texts no cache holds, by ``compute`` (see ``Embedder.missing``)."""
        return self._embedder().missing(
            [i.description for i in items if has_letters(i.description)], ITEM_KIND, compute
        )

    def keep_embeddings(self, rows: KeyedEmbeddings) -> None:
        self._embedder().keep(rows)

    def _concepts(self, items: Sequence[Item]) -> NDArray[np.float64]:
        concepts = self.anchors.transform(self._embedder(), [i.description for i in items])
        # A model embeds anything; text without a letter (punctuation, digits) has no meaning to lean on.
        textless = [not has_letters(i.description) for i in items]
        concepts[textless] = 0.0
        pending = deferred_texts()
        if pending:  # their concepts are zero whatever the model says: nothing to wait for
            pending.difference_update(i.description for i, skip in zip(items, textless, strict=True) if skip)
        if not self.latent:
            return concepts
        # Tags fold into their own coordinates (a share of the row), then coordinates sum into clusters.
        column = {tag: k for k, tag in enumerate(self.anchors.names)}
        tags = np.zeros_like(concepts)
        for row, item in enumerate(items):
            for tag in item.tags:
                if tag in column:
                    tags[row, column[tag]] = 1.0
        tags = unit(tags)
        has_tags = np.asarray(tags.any(axis=1), dtype=bool)
        has_concepts = np.asarray(concepts.any(axis=1), dtype=bool)
        share = np.where(has_concepts, np.where(has_tags, FOLDED_TAG_WEIGHT, 0.0), 1.0)[:, None]
        folded = np.sqrt(1.0 - share) * concepts + np.sqrt(share) * tags
        assert self.clusters_ is not None
        clustered = np.zeros((len(items), int(self.clusters_.max()) + 1))
        np.add.at(clustered.T, self.clusters_, folded.T)
        return unit(clustered)

    def transform(self, items: Sequence[Item]) -> Matrix:
        concepts = self._concepts(items)
        if self.latent:
            return concepts.astype(LATENT_DTYPE)
        if self.words is None:
            return sp.csr_matrix(concepts)
        joined = self.words.transform(items)
        w_count = len(self.words.vocabulary_)
        words, tags = joined[:, :w_count], joined[:, w_count:]
        parts = [sp.csr_matrix(concepts), _unit_sparse(words), _unit_sparse(tags)]
        present = np.stack([np.diff(p.indptr) > 0 for p in parts], axis=1)
        weights = present * np.asarray(self.weights)
        total = weights.sum(axis=1, keepdims=True)
        weights = np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)
        return sp.hstack([sp.diags(np.sqrt(weights[:, b])) @ p for b, p in enumerate(parts)], format="csr")

    @property
    def blocks(self) -> tuple[Block, ...]:
        # Asked for on every vectorisation and ranking (``width``): built once per fit, not each time.
        found: tuple[Block, ...] | None = self.__dict__.get("blocks_")
        if found is None:
            found = self.__dict__["blocks_"] = self._layout()
        return found

    def _layout(self) -> tuple[Block, ...]:
        names = self.anchors.names
        if self.latent:
            assert self.clusters_ is not None
            groups = tuple(
                "/".join(n for n, c in zip(names, self.clusters_, strict=True) if c == k)
                for k in range(int(self.clusters_.max()) + 1)
            )
            return (Block("semantic", 0, len(groups), groups),)
        out = [Block("semantic", 0, len(names), names)]
        if self.words is not None:
            words, tags = self.words.blocks
            n = len(names)
            out += [
                Block("words", n, n + words.stop, words.features),
                Block("tags", n + tags.start, n + tags.stop, tags.features),
            ]
        return tuple(out)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "embedder": None}  # the model stays out of pickles (attach it again)


def _unit_sparse(matrix: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return sp.csr_matrix(sp.diags(scale) @ matrix)
