"""The scorer contract: what every way of scoring pairs of organisations provides.

In the spirit of implicit's ``RecommenderBase``: a scorer is fitted on a population's vectors, then
scores a block of rows against columns, one organisation against everyone, and breaks one pair down.
Ranking every pair, or every organisation's best partners, is built on ``block`` by an execution
backend (:mod:`matchmaker.core.scoring.execution`), so a new scorer gets both for free. The contract
tests (tests/core/test_scorer_contract.py) run every registered scorer through the same checks.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import numpy as np
from numpy.typing import NDArray

from matchmaker.core.profile import Profile
from matchmaker.core.scoring.buffers import Workspace
from matchmaker.core.scoring.formula import Context, PairComponents
from matchmaker.core.scoring.reasons import REASON_FLOOR, ItemVectors, Reason
from matchmaker.core.scoring.selection import Cells, Tile, Wanted, extract
from matchmaker.core.scoring.settings import ScoringSettings
from matchmaker.core.vectors import IntArray, ProfileMatrices, Scores

T = TypeVar("T")


class DerivedCache(Protocol):
    """Arrays a scorer derives from a population, kept as long as what they derive from.

    ``per_chunk`` entries live as long as their row chunk (populations derived by an update share the
    chunks they did not change, and so the entries); ``per_population`` ones as long as the population.
    """

    def per_chunk(self, name: str, chunk: ProfileMatrices, build: Callable[[ProfileMatrices], T]) -> T: ...

    def per_population(self, name: str, key: tuple[Any, ...], build: Callable[[], T]) -> T: ...


@dataclass(frozen=True)
class PopulationVectors:
    """What a scorer is fitted on: a population's vectors in row chunks, its context and a cache."""

    chunks: tuple[ProfileMatrices, ...]
    context: Context
    dimensions: tuple[str, ...]
    cache: DerivedCache
    whole: Callable[[], ProfileMatrices]  # every row as one set of matrices (joined once, on first use)
    rows: Callable[[IntArray], ProfileMatrices]  # the matrices of some rows (ascending), gathered from the chunks
    item_vectors: Callable[[Sequence[Profile]], ItemVectors]  # every item of some profiles, vectorised in one batch

    @property
    def n(self) -> int:
        return sum(c.n for c in self.chunks)


class TileSource(Protocol):
    """What an execution backend scores tiles with: a scorer's pairs, tile by tile.

    ``fast`` says whether the source's candidates may be merged with the compiled kernel.
    """

    @property
    def n(self) -> int: ...

    @property
    def dtype(self) -> np.dtype[Any]: ...

    @property
    def fast(self) -> bool: ...

    @property
    def canonical(self) -> int:
        """Rows per block whose pairs a run scores first, block by block (0: no such first phase)."""

    def candidates(
        self,
        tile: Tile,
        wanted: Wanted,
        *,
        workspace: Workspace | None = None,
        cross_border_only: bool = False,
        own_blocks: bool = True,
    ) -> Cells:
        """The cells of ``tile`` that may be among the best; without ``own_blocks``, none of two
        organisations in the same block of ``canonical`` rows."""


class _BlockTiles:
    """Any scorer's tiles: its ``block``, then selection from the scored tile."""

    fast = False
    canonical = 0

    def __init__(self, scorer: Scorer) -> None:
        self.scorer = scorer

    @property
    def n(self) -> int:
        return self.scorer.n

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.scorer.dtype

    def candidates(
        self,
        tile: Tile,
        wanted: Wanted,
        *,
        workspace: Workspace | None = None,
        cross_border_only: bool = False,
        own_blocks: bool = True,
    ) -> Cells:
        workspace = workspace or Workspace()
        r0, r1, c0, c1 = tile
        scores = self.scorer.block(
            slice(r0, r1), slice(c0, c1), workspace=workspace, cross_border_only=cross_border_only
        )
        if r0 == c0:  # a diagonal tile: each pair once, with the lower index as the row
            scores[workspace.lower(r1 - r0)] = 0.0
        return extract(scores, tile, wanted)


class Scorer(ABC):
    """Scores pairs of organisations of one population under one set of settings.

    Scores are finite and at least 0; 0 means no match. ``block`` and ``one_vs_all`` agree up to the
    rounding of a different summation order, and ``components(a, b).score`` is the score of each pair
    in float64 with every term the explanation shows.
    """

    name: str = ""

    def __init__(self, settings: ScoringSettings) -> None:
        self.settings = settings

    @abstractmethod
    def fit(self, vectors: PopulationVectors) -> Scorer:
        """Prepare for scoring ``vectors`` (cheap: heavy arrays are derived on first use); returns self."""

    @property
    @abstractmethod
    def n(self) -> int:
        """The number of organisations scored."""

    @property
    @abstractmethod
    def dtype(self) -> np.dtype[Any]:
        """The dtype of ``block``'s scores."""

    @abstractmethod
    def block(
        self, rows: slice | IntArray, cols: slice | IntArray, *, workspace: Any = None, cross_border_only: bool = False
    ) -> Scores:
        """Scores of ``rows`` (as A) against ``cols`` (as B), shape (len(rows), len(cols)).

        ``workspace`` holds one worker's reusable buffers (the result may live in them, valid until
        its next use); ``cross_border_only`` zeroes every pair that is not Japan-India.
        """

    def tiles(self, kernel: str = "auto") -> TileSource:
        """What execution backends score tiles with (by default ``block`` then selection; ``kernel`` unused).

        A scorer with a faster way of keeping only the cells that matter overrides it; a backend that
        runs tiles in other processes sends what this returns, so it should be small and picklable.
        """
        return _BlockTiles(self)

    @abstractmethod
    def one_vs_all(self, row: int) -> Scores:
        """Scores of organisation ``row`` (as A) against everyone (as B), shape (n,)."""

    @abstractmethod
    def top_partners(self, row: int, k: int, allowed: NDArray[np.bool_] | None = None) -> tuple[IntArray, Scores]:
        """The best ``k`` partners of ``row`` (score above 0, never itself, only ``allowed`` ones):
        indices by descending score, ties by index, and their scores."""

    def top_partners_each(
        self, row: int, selections: Sequence[tuple[int, NDArray[np.bool_] | None]]
    ) -> list[tuple[IntArray, Scores]]:
        """``top_partners(row, k, allowed)`` for each (k, allowed) of ``selections`` (a partner list and
        its enablers); a scorer may score ``row`` against everyone once for all of them."""
        return [self.top_partners(row, k, allowed) for k, allowed in selections]

    @abstractmethod
    def components(self, a: IntArray, b: IntArray) -> PairComponents:
        """Every term of the score of the pairs (a[k], b[k]), in float64."""

    @abstractmethod
    def explain(
        self, pairs: Sequence[tuple[Profile, Profile]], limit: int | None = None, *, floor: float = REASON_FLOOR
    ) -> list[list[Reason]]:
        """For each pair (a, b), the item pairs behind its score, largest first (at most ``limit``).

        Contributions under ``floor`` are left out; with ``floor=0`` the contributions of one direction
        add up to its directed benefit in ``components`` (for latent vectors, to at least it: the small
        negative similarities of latent vectors are not reasons).
        """


ScorerFactory = Callable[[ScoringSettings], Scorer]
