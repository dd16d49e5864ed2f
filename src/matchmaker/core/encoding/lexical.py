"""Word encoders: TF-IDF over an item's words joined with TF-IDF over its exact tags.

Two analysers make two encoders: ``tfidf`` (ASCII words, as matchmaker always had) and ``lexical``
(NFKC, English stems, Japanese content words, Hindi words: :func:`~matchmaker.core.encoding.text.lexical_words`).
An item vector is the unit join of a word part (share ``1 - tag_share``) and a tag part (share
``tag_share``; an item with only one kind gives it all), so two items' dot product is in [0, 1].

TF-IDF is computed here with numpy and scipy (no scikit-learn objects in the fitted state): document
frequencies count every item, the vocabulary is sorted, and the weights equal scikit-learn's smoothed
IDF. For large populations the vectors are reduced by truncated SVD (latent semantic analysis), fitted
with scikit-learn and kept as a plain array.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from matchmaker.core.encoding.base import LATENT_DTYPE, Block, Encoder
from matchmaker.core.encoding.text import (
    Analyser,
    _sklearn_stop_words,
    analyse_words,
    item_text,
    lexical_words,
    normalise,
    stem,
)
from matchmaker.core.profile import Item
from matchmaker.core.vectors import Matrix, unit_rows

_SURFACE = re.compile(r"[a-z0-9]+")


def tfidf_rows(
    documents: Iterable[Iterable[str]],
    n_documents: int,
    vocabulary: dict[str, int],
    idf: NDArray[np.float64],
    *,
    sublinear: bool,
) -> sp.csr_matrix:
    """Unit TF-IDF rows of token lists under a fitted vocabulary (tokens outside it are ignored)."""
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


def smoothed_idf(
    documents: Sequence[Sequence[str]], vocabulary: dict[str, int], multiplicity: NDArray[np.float64]
) -> NDArray[np.float64]:
    """``log((N + 1) / (df + 1)) + 1`` where document frequencies count each document ``multiplicity`` times."""
    frequency = np.zeros(len(vocabulary))
    for tokens, weight in zip(documents, multiplicity, strict=True):
        columns = {vocabulary[t] for t in tokens if t in vocabulary}
        if columns:
            frequency[list(columns)] += weight
    idf: NDArray[np.float64] = np.log((multiplicity.sum() + 1.0) / (frequency + 1.0)) + 1.0
    return idf


class WordEncoder(Encoder):
    """Words and tags, TF-IDF weighted; latent (SVD) components when ``components`` is given.

    Examples
    --------
    >>> from matchmaker.core.profile import Evidence
    >>> item = lambda text, *tags: Item(description=text, strength=1, tags=tags, evidence=Evidence(background="x"))
    >>> items = [item("ＧＰＵ cloud hours", "gpu-cloud"), item("GPU cloud capacity"), item("factory data")]
    >>> encoder = WordEncoder("lexical", tag_share=0.4).fit(items, np.ones(3))
    >>> vectors = encoder.transform(items)
    >>> round(float((vectors[0] @ vectors[1].T)[0, 0]), 3), float((vectors[0] @ vectors[2].T)[0, 0])
    (0.497, 0.0)
    """

    def __init__(
        self, analyser: str, *, tag_share: float = 0.4, components: int | None = None, random_state: int = 0
    ) -> None:
        self.name = analyser
        self.analyser_name = analyser
        self.tag_share = tag_share
        self.components = components
        self.random_state = random_state
        self.latent = components is not None

    def _analyser(self) -> Analyser:
        if self.analyser_name == "lexical":
            return lexical_words
        stop_words: frozenset[str] = self.stop_words_

        def tfidf_words(text: str) -> list[str]:
            return analyse_words(text, stop_words)

        return tfidf_words

    def words_of(self, items: Sequence[Item]) -> list[list[str]]:
        analyser = self._analyser()
        return [analyser(item_text(i.description, i.tags)) for i in items]

    def fit(self, items: Sequence[Item], multiplicity: NDArray[np.float64]) -> WordEncoder:
        if self.analyser_name == "tfidf":
            self.stop_words_ = _sklearn_stop_words()  # kept: using the fitted encoder needs no scikit-learn
        documents = self.words_of(items)
        self.vocabulary_ = {w: k for k, w in enumerate(sorted({w for d in documents for w in d}))}
        self.idf_ = smoothed_idf(documents, self.vocabulary_, multiplicity)
        tags = [i.tags for i in items] + [("",)]  # never an empty vocabulary
        self.tag_vocabulary_ = {t: k for k, t in enumerate(sorted({t for d in tags for t in d}))}
        self.tag_idf_ = smoothed_idf(tags, self.tag_vocabulary_, np.append(multiplicity, 1.0))
        self.surface_ = self._surfaces(items)
        self.components_: NDArray[np.float64] | None = None
        if self.components is not None:
            raw = self._raw(items, documents)
            k = min(self.components, raw.shape[1] - 1) or 1
            weighted = sp.diags(np.sqrt(multiplicity)) @ raw  # the Gram matrix of all items, repeats included
            from sklearn.decomposition import TruncatedSVD  # fitting only: the fitted state is an array

            with np.errstate(divide="ignore", invalid="ignore"):  # explained variance of identical items: 0/0
                self.components_ = (
                    TruncatedSVD(n_components=k, random_state=self.random_state).fit(weighted).components_
                )
        return self

    def _surfaces(self, items: Sequence[Item]) -> dict[str, str]:
        """A readable word for each stemmed token (the first one seen that gives it)."""
        found: dict[str, str] = {}
        for i in items:
            for word in _SURFACE.findall(normalise(item_text(i.description, i.tags))):
                token = stem(word)
                if token in self.vocabulary_ and token not in found:
                    found[token] = word
        return found

    def _raw(self, items: Sequence[Item], documents: list[list[str]] | None = None) -> sp.csr_matrix:
        words = tfidf_rows(
            documents if documents is not None else self.words_of(items),
            len(items),
            self.vocabulary_,
            self.idf_,
            sublinear=True,
        )
        tags = tfidf_rows((i.tags for i in items), len(items), self.tag_vocabulary_, self.tag_idf_, sublinear=False)
        has_tags = np.diff(tags.indptr) > 0
        has_words = np.diff(words.indptr) > 0
        # Split the unit length between words and tags; an item with only one kind gets all of it.
        word_share = np.where(has_tags, 1.0 - self.tag_share, 1.0)
        tag_share = np.where(has_words, self.tag_share, 1.0)
        joined = sp.hstack([sp.diags(np.sqrt(word_share)) @ words, sp.diags(np.sqrt(tag_share)) @ tags], format="csr")
        return unit_rows(joined)

    def transform(self, items: Sequence[Item]) -> Matrix:
        raw = self._raw(items)
        if self.components_ is None:
            return raw
        latent = np.asarray(raw @ self.components_.T)
        norms = np.sqrt(np.einsum("ij,ij->i", latent, latent))
        np.divide(latent, norms[:, None], out=latent, where=norms[:, None] > 0)
        return latent.astype(LATENT_DTYPE)

    @property
    def blocks(self) -> tuple[Block, ...]:
        if self.components_ is not None:
            k = self.components_.shape[0]
            return (Block("latent", 0, k, tuple(f"lsa:{j}" for j in range(k))),)
        words = sorted(self.vocabulary_, key=self.vocabulary_.__getitem__)
        tags = sorted(self.tag_vocabulary_, key=self.tag_vocabulary_.__getitem__)
        w = len(words)
        return (
            Block("words", 0, w, tuple(self.surface_.get(t, t) for t in words)),
            Block("tags", w, w + len(tags), tuple(tags)),
        )

    def feature_names(self) -> list[str]:
        """Column names as the vectoriser always gave them (``word:`` stems, ``tag:`` tags, ``lsa:`` components)."""
        if self.components_ is not None:
            return [f"lsa:{k}" for k in range(self.components_.shape[0])]
        words = sorted(self.vocabulary_, key=self.vocabulary_.__getitem__)
        tags = sorted(self.tag_vocabulary_, key=self.tag_vocabulary_.__getitem__)
        return [f"word:{w}" for w in words] + [f"tag:{t}" for t in tags]

    def __getstate__(self) -> dict[str, Any]:
        return dict(self.__dict__)
