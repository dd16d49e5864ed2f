"""What an encoder is: item text in, unit vectors out, in named blocks a reason can read."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from matchmaker.core.profile import Item
from matchmaker.core.vectors import Matrix

LATENT_DTYPE = np.float32  # latent vectors are unit length; float32 keeps 6-7 digits, enough to rank


@dataclass(frozen=True)
class Block:
    """A named range of an item vector's columns (what a part of a similarity comes from).

    ``features`` names each column: a concept (a vocabulary tag), a word or a tag.
    """

    name: str
    start: int
    stop: int
    features: tuple[str, ...]


class Encoder(ABC):
    """Turns items into vectors whose dot products are similarities in [0, 1] (1 for the same text).

    Fitted once on a population's distinct items (each with its multiplicity), then transforms any
    item. Vectors are exact (sparse float64) or latent (dense float32, for large populations). The
    blocks say which columns come from which evidence (concepts, words, tags), so the parts of a
    similarity add up to it. The fitted state is plain arrays and dictionaries: pickling it and using
    it needs neither scikit-learn nor the model's package.
    """

    name: str = ""
    latent: bool = False

    @abstractmethod
    def fit(self, items: Sequence[Item], multiplicity: NDArray[np.float64]) -> Encoder:
        """Learn from the distinct ``items`` (``multiplicity[k]`` is how often item k occurs); returns self."""

    @abstractmethod
    def transform(self, items: Sequence[Item]) -> Matrix:
        """One row per item: unit length, or zero when nothing in the item can be read."""

    @property
    @abstractmethod
    def blocks(self) -> tuple[Block, ...]:
        """The vector's blocks, in column order."""

    @property
    def width(self) -> int:
        return self.blocks[-1].stop if self.blocks else 0

    def describe(self) -> dict[str, Any]:
        """What the encoder is, for the benchmark and the documentation: its name, form and widths."""
        return {
            "encoder": self.name,
            "vectors": "latent dense float32" if self.latent else "exact sparse float64",
            "blocks": {b.name: b.stop - b.start for b in self.blocks},
        }
