"""Encoders: how item text becomes vectors, chosen by name from :data:`ENCODERS`.

| name | what | model |
| --- | --- | --- |
| ``hybrid`` (default) | concept anchors over multilingual-e5-small, with small word and tag blocks | e5 |
| ``semantic`` | concept anchors alone | e5 |
| ``lexical`` | TF-IDF of words (NFKC; English stems, Japanese, Hindi) and tags | none |
| ``tfidf`` | TF-IDF of ASCII words and tags, as matchmaker always had | none |
| ``sentence-transformers`` | the hybrid over a local sentence-transformers model directory | sentence-transformers |

Every encoder's similarities are in [0, 1] (1 for the same text) and are dot products of item
vectors; the item attributes (:mod:`~matchmaker.core.encoding.attributes`) multiply them. The model an
encoder needs is loaded by an adapter and given to it (:mod:`matchmaker.embedding`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from matchmaker.core.encoding.attributes import AttributeCoder, ItemAttributes
from matchmaker.core.encoding.base import LATENT_DTYPE, Block, Encoder
from matchmaker.core.encoding.hybrid import ConceptEncoder
from matchmaker.core.encoding.lexical import WordEncoder
from matchmaker.core.encoding.semantic import (
    Embedder,
    EmbeddingCache,
    EmbeddingModel,
    MemoryCache,
    deferred_texts,
    embedding_deferred,
)
from matchmaker.core.errors import SettingsError
from matchmaker.core.registry import Registry

ModelKind = Literal["e5", "sentence-transformers"]
# Latent vectors of the semantic encoders: concept clusters. 24 keeps the labelled set's AUC at 0.91
# (16: 0.88, 32: 0.91, all 56: 0.93) at a width the 100,000-organisation products can afford.
LATENT_CONCEPTS = 24


@dataclass(frozen=True)
class EncoderChoice:
    """Which encoder a population is fitted with, and the loaded model and cache it reads text with."""

    name: str
    model: EmbeddingModel | None = None
    cache: EmbeddingCache | None = None


@dataclass(frozen=True)
class EncoderInputs:
    """What building an encoder may use: the vocabulary's tags, the embedder, and the latent width."""

    tags: dict[str, str]
    embedder: Embedder | None
    components: int | None  # None: exact vectors; else the latent width
    tag_share: float
    random_state: int


@dataclass(frozen=True)
class EncoderEntry:
    """A registered encoder: what it is, which model it needs (if any), its latent width, how to build it."""

    name: str
    description: str
    model: ModelKind | None
    auto_components: int  # latent width under the "auto" rule (large populations)
    make: Callable[[EncoderInputs], Encoder]

    def build(self, inputs: EncoderInputs) -> Encoder:
        if self.model is not None and inputs.embedder is None:
            raise SettingsError(
                f"the {self.name!r} encoder needs a text-embedding model ({self.model}), and none was given; "
                "load one with matchmaker.embedding.load_model, or choose the 'lexical' encoder"
            )
        return self.make(inputs)


def _concepts(name: str, weights: tuple[float, float, float]) -> Callable[[EncoderInputs], Encoder]:
    def make(inputs: EncoderInputs) -> Encoder:
        return ConceptEncoder(name, inputs.embedder, inputs.tags, weights=weights, components=inputs.components)

    return make


def _words(name: str) -> Callable[[EncoderInputs], Encoder]:
    def make(inputs: EncoderInputs) -> Encoder:
        return WordEncoder(
            name, tag_share=inputs.tag_share, components=inputs.components, random_state=inputs.random_state
        )

    return make


ENCODERS: Registry[EncoderEntry] = Registry(
    "encoder",
    {
        e.name: e
        for e in (
            EncoderEntry(
                "hybrid",
                "concept anchors over the bundled multilingual-e5-small, with small word and tag blocks",
                "e5",
                LATENT_CONCEPTS,
                _concepts("hybrid", (0.8, 0.1, 0.1)),
            ),
            EncoderEntry(
                "semantic",
                "concept anchors over the bundled multilingual-e5-small",
                "e5",
                LATENT_CONCEPTS,
                _concepts("semantic", (1.0, 0.0, 0.0)),
            ),
            EncoderEntry("lexical", "TF-IDF of words (English, Japanese, Hindi) and tags", None, 64, _words("lexical")),
            EncoderEntry(
                "tfidf", "TF-IDF of ASCII words and tags (matchmaker's original model)", None, 64, _words("tfidf")
            ),
            EncoderEntry(
                "sentence-transformers",
                "the hybrid over a local sentence-transformers model directory (encoder_model)",
                "sentence-transformers",
                LATENT_CONCEPTS,
                _concepts("sentence-transformers", (0.8, 0.1, 0.1)),
            ),
        )
    },
)


def encoder_descriptions() -> dict[str, str]:
    """Each encoder's name and what it does."""
    return {name: e.description for name, e in ENCODERS.items()}


__all__ = [
    "ENCODERS",
    "LATENT_DTYPE",
    "AttributeCoder",
    "Block",
    "Embedder",
    "EmbeddingCache",
    "EmbeddingModel",
    "Encoder",
    "EncoderChoice",
    "EncoderEntry",
    "EncoderInputs",
    "ItemAttributes",
    "MemoryCache",
    "deferred_texts",
    "embedding_deferred",
    "encoder_descriptions",
]
