"""Which pairs may be recommended: rules over organisations, applied to any scorer's blocks and rows.

A pair is left out (scored 0) when one of its organisations is not allowed, when the rule for
enablers says so, when both belong to one group (the same government, the same parent organisation)
or when it is listed (declined, an existing partnership). :class:`Restricted` applies a
:class:`PairFilter` to a scorer, so every ranking built on it (all pairs in tiles, one organisation
against everyone) leaves those pairs out by construction, without scoring more pairs to make up; on
the tile kernels the rules are tested on each cell before it counts towards anyone's best
(:mod:`~matchmaker.core.scoring.rules`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from matchmaker.core.profile import Profile
from matchmaker.core.scoring.contract import Scorer, TileSource
from matchmaker.core.scoring.formula import PairComponents
from matchmaker.core.scoring.reasons import REASON_FLOOR, Reason
from matchmaker.core.scoring.rules import CellRules
from matchmaker.core.scoring.tiles import TileScorer
from matchmaker.core.vectors import IntArray, Scores

BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class PairFilter:
    """Rules over the rows of a population; a pair passes when every rule lets it.

    ``allowed``: organisations that may be in a pair at all. ``one_of``: when given, a pair needs
    exactly one organisation of this set (an enabler with a counterpart). ``groups``: per rule, a code
    per organisation (-1 for none); two organisations with the same code are not paired. ``pairs``:
    listed pairs (row a, row b), either order, never paired.

    >>> f = PairFilter(allowed=np.array([True, True, True, False]), groups=(np.array([0, 0, -1, -1]),),
    ...                pairs=(np.array([1]), np.array([2])))
    >>> f.mask(np.arange(4), np.arange(4)).astype(int).tolist()
    [[0, 0, 1, 0], [0, 0, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]]
    """

    allowed: BoolArray | None = None
    one_of: BoolArray | None = None
    groups: tuple[IntArray, ...] = ()
    pairs: tuple[IntArray, IntArray] = field(
        default_factory=lambda: (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    )

    @property
    def is_empty(self) -> bool:
        return self.allowed is None and self.one_of is None and not self.groups and not self.pairs[0].size

    def mask(self, rows: IntArray, cols: IntArray) -> BoolArray:
        """True where the pair (rows[i], cols[j]) passes; the diagonal is not special (scorers zero it)."""
        keep = np.ones((rows.size, cols.size), dtype=bool)
        if self.allowed is not None:
            keep &= self.allowed[rows][:, None] & self.allowed[cols][None, :]
        if self.one_of is not None:
            keep &= self.one_of[rows][:, None] ^ self.one_of[cols][None, :]
        for codes in self.groups:
            a, b = codes[rows][:, None], codes[cols][None, :]
            keep &= ~((a == b) & (a >= 0))
        first, second = self.pairs
        if first.size:
            for x, y in ((first, second), (second, first)):
                hit = np.isin(x, rows) & np.isin(y, cols)
                if hit.any():
                    keep[np.searchsorted(rows, x[hit]), np.searchsorted(cols, y[hit])] = False
        return keep

    def cells(self, n: int) -> CellRules:
        """These rules as the tile kernels test them, cell by cell, for a population of ``n``."""
        return CellRules.of(n, allowed=self.allowed, one_of=self.one_of, groups=self.groups, pairs=self.pairs)

    def row(self, row: int, n: int) -> BoolArray:
        """Which organisations may be paired with ``row`` (itself included: scorers never pair a row with itself)."""
        keep: BoolArray = self.mask(np.array([row]), np.arange(n))[0]
        return keep


def _indices(selection: slice | IntArray, n: int) -> IntArray:
    return np.arange(n)[selection] if isinstance(selection, slice) else np.asarray(selection, dtype=np.int64)


class Restricted(Scorer):
    """A scorer whose blocks and rows leave out the pairs a filter excludes; everything else is the inner one's."""

    def __init__(self, inner: Scorer, rules: PairFilter) -> None:
        super().__init__(inner.settings)
        self.inner = inner
        self.rules = rules
        self.name = inner.name

    def fit(self, vectors: Any) -> Restricted:
        self.inner.fit(vectors)
        return self

    @property
    def n(self) -> int:
        return self.inner.n

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.inner.dtype

    def block(
        self, rows: slice | IntArray, cols: slice | IntArray, *, workspace: Any = None, cross_border_only: bool = False
    ) -> Scores:
        scores = self.inner.block(rows, cols, workspace=workspace, cross_border_only=cross_border_only)
        keep = self.rules.mask(_indices(rows, self.n), _indices(cols, self.n))
        np.multiply(scores, keep, out=scores)
        return scores

    def tiles(self, kernel: str = "auto") -> TileSource:
        """The inner scorer's tiles with the rules tested cell by cell before selection, when it has a
        tile kernel; else its blocks, filtered, then selection."""
        source = self.inner.tiles(kernel)
        if isinstance(source, TileScorer) and source.rules is None:
            return source.restricted(self.rules.cells(self.n))
        return super().tiles(kernel)

    def one_vs_all(self, row: int) -> Scores:
        return np.where(self.rules.row(row, self.n), self.inner.one_vs_all(row), 0.0)

    def top_partners(
        self, row: int, k: int, allowed: NDArray[np.bool_] | None = None, **options: Any
    ) -> tuple[IntArray, Scores]:
        return self.top_partners_each(row, [(k, allowed)], **options)[0]

    def top_partners_each(
        self, row: int, selections: Sequence[tuple[int, NDArray[np.bool_] | None]], **options: Any
    ) -> list[tuple[IntArray, Scores]]:
        keep = self.rules.row(row, self.n)
        narrowed = [(k, keep if allowed is None else keep & allowed) for k, allowed in selections]
        return self.inner.top_partners_each(row, narrowed, **options)

    def components(self, a: IntArray, b: IntArray) -> PairComponents:
        return self.inner.components(a, b)

    def explain(
        self, pairs: Sequence[tuple[Profile, Profile]], limit: int | None = None, *, floor: float = REASON_FLOOR
    ) -> list[list[Reason]]:
        return self.inner.explain(pairs, limit, floor=floor)
