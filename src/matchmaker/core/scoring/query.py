"""One organisation against everyone: a matrix-vector product per dimension, and exact pruning.

Scoring one organisation (as A) against every row reads every vector once; rows that offer (need)
nothing in a dimension are skipped (``RowSupport``), and from ``PRUNE_MIN_ROWS`` rows one direction is
bounded from vector lengths rather than scored for everyone. Every value is the formula of
:mod:`matchmaker.core.scoring.formula`, computed by the same operations whichever rows are scored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from matchmaker.core.scoring.formula import Context, add_capped, bonus_scale, cross_border, finish, need_shares
from matchmaker.core.scoring.settings import ScoringSettings
from matchmaker.core.vectors import (
    FloatArray,
    IntArray,
    Matrix,
    ProfileMatrices,
    Scores,
    dense,
    dense_row,
    distinct_rows,
    row_norms,
)

# The smallest positive value of each dtype: "score above 0" as a threshold that "at least" tests.
SMALLEST: dict[np.dtype[Any], float] = {
    np.dtype(np.float32): float(np.finfo(np.float32).smallest_subnormal),
    np.dtype(np.float64): float(np.finfo(np.float64).smallest_subnormal),
}


def _matvec(matrix: Matrix, vector: Scores) -> Scores:
    if sp.issparse(matrix):
        return np.asarray(matrix @ vector).ravel()
    # einsum's own loop, not BLAS: as fast for this memory-bound product, single-threaded (BLAS threads
    # stall for milliseconds on a busy machine) and free of global thread settings a server shares.
    product: Scores = np.einsum("ij,j->i", matrix, vector)
    return product


@dataclass(frozen=True)
class RowSupport:
    """The rows of one chunk with any offer (need) in each dimension, and just those rows' vectors.

    Scoring one organisation against everyone reads every vector once; skipping the rows that offer
    (need) nothing in a dimension saves their memory traffic, which is most of a query's cost.
    """

    offer_rows: tuple[IntArray, ...]
    offers: tuple[Matrix, ...]
    need_rows: tuple[IntArray, ...]
    needs: tuple[Matrix, ...]
    sector_sets: Scores  # the distinct sector rows of the chunk (dense), and each row's among them:
    sector_codes: NDArray[np.intp]  # sector fit against everyone is a product with the few distinct sets
    offer_norms: Scores  # (dimensions, rows): the length of each row's offers in each dimension
    need_norms: Scores  # (dimensions, rows): the length of each row's needs in each dimension

    def sliced(self, start: int, stop: int) -> RowSupport:
        """The support of rows [start, stop) of the chunk (views, nothing copied)."""

        def part(rows: IntArray, matrix: Matrix) -> tuple[IntArray, Matrix]:
            lo, hi = np.searchsorted(rows, (start, stop))
            return rows[lo:hi] - start, matrix[lo:hi]

        offers = [part(r, m) for r, m in zip(self.offer_rows, self.offers, strict=True)]
        needs = [part(r, m) for r, m in zip(self.need_rows, self.needs, strict=True)]
        return RowSupport(
            tuple(r for r, _ in offers),
            tuple(m for _, m in offers),
            tuple(r for r, _ in needs),
            tuple(m for _, m in needs),
            self.sector_sets,
            self.sector_codes[start:stop],
            self.offer_norms[:, start:stop],
            self.need_norms[:, start:stop],
        )

    @classmethod
    def of(cls, chunk: ProfileMatrices) -> RowSupport:
        offer_rows = tuple(np.flatnonzero(row_norms(x) > 0) for x in chunk.offers)
        need_rows = tuple(np.flatnonzero(chunk.need_mass[:, d] > 0) for d in range(len(chunk.needs)))
        dtype = np.asarray(chunk.offers[0]).dtype if chunk.offers and not sp.issparse(chunk.offers[0]) else np.float64
        return cls(
            offer_rows,
            tuple(np.ascontiguousarray(x[r]) for x, r in zip(chunk.offers, offer_rows, strict=True)),
            need_rows,
            tuple(np.ascontiguousarray(x[r]) for x, r in zip(chunk.needs, need_rows, strict=True)),
            *distinct_rows(dense(chunk.sectors).astype(dtype)),
            np.stack([row_norms(x) for x in chunk.offers]).astype(dtype),
            np.stack([row_norms(x) for x in chunk.needs]).astype(dtype),
        )


class _OneAgainstAll:
    """Scoring one organisation (as A) against every row, whole or for chosen rows only.

    Every value is computed by the same operations in the same order either way, so scoring chosen
    rows gives exactly the values scoring all rows gives there.
    """

    def __init__(
        self,
        parts: ProfileMatrices | Sequence[ProfileMatrices],
        row: int,
        ctx: Context,
        settings: ScoringSettings,
        dimensions: Sequence[str],
        shares: FloatArray | None,
        supports: Sequence[RowSupport | None] | None,
    ) -> None:
        self.chunks = [parts] if isinstance(parts, ProfileMatrices) else list(parts)
        self.starts = np.cumsum([0] + [c.n for c in self.chunks])
        self.n = int(self.starts[-1])
        k = int(np.searchsorted(self.starts, row, side="right")) - 1
        self.row, self.own, self.local = row, self.chunks[k], row - int(self.starts[k])
        self.ctx, self.settings = ctx, settings
        self.alpha = settings.weights(dimensions)
        self.shares = (
            np.concatenate([need_shares(c.need_mass, self.alpha) for c in self.chunks]) if shares is None else shares
        )
        self.latent = bool(self.own.offers) and not sp.issparse(self.own.offers[0])
        self.dtype: Any = (
            np.float32 if self.latent and np.asarray(self.own.offers[0]).dtype == np.float32 else np.float64
        )
        self.supports = supports if supports is not None and all(s is not None for s in supports) else None
        self.dims = [int(d) for d in np.flatnonzero(self.alpha > 0)]
        self.scale = bonus_scale(settings)

    def _all(self, offers: bool, d: int, vector: Scores) -> Scores:
        """Every row's offers_d (or needs_d) dotted with ``vector``; rows with none give 0."""
        out = np.zeros(self.n, dtype=self.dtype)
        for k, chunk in enumerate(self.chunks):
            start = int(self.starts[k])
            support = self.supports[k] if self.supports is not None else None
            if support is None:
                out[start : start + chunk.n] = _matvec(chunk.offers[d] if offers else chunk.needs[d], vector)
            else:
                rows = support.offer_rows[d] if offers else support.need_rows[d]
                if rows.size:
                    out[start + rows] = _matvec(support.offers[d] if offers else support.needs[d], vector)
        return out

    def _some(self, offers: bool, d: int, vector: Scores, rows: IntArray) -> Scores:
        """As ``_all`` for the given rows (ascending) only."""
        parts = []
        for k, chunk in enumerate(self.chunks):
            lo, hi = np.searchsorted(rows, (self.starts[k], self.starts[k + 1]))
            if hi > lo:
                matrix = chunk.offers[d] if offers else chunk.needs[d]
                parts.append(_matvec(matrix[rows[lo:hi] - self.starts[k]], vector))
        return np.concatenate(parts) if parts else np.zeros(0, dtype=self.dtype)

    def _products(self, offers: bool, d: int, vector: Scores, rows: IntArray | None) -> Scores:
        return self._all(offers, d, vector) if rows is None else self._some(offers, d, vector, rows)

    def forward(self, rows: IntArray | None = None) -> Scores:
        """directed(A -> B) before clipping: what A offers against each B's needs."""
        ab = np.zeros(self.n if rows is None else rows.size, dtype=self.dtype)
        for d in self.dims:
            offer = dense_row(self.own.offers[d], self.local).astype(self.dtype, copy=False)
            if offer.any():
                share = self.shares[:, d] if rows is None else self.shares[rows, d]
                add_capped(ab, self._products(False, d, offer, rows), share)
        return ab

    def backward(self, rows: IntArray | None = None) -> Scores:
        """directed(B -> A) before clipping: what each B offers against A's needs."""
        ba = np.zeros(self.n if rows is None else rows.size, dtype=self.dtype)
        for d in self.dims:
            if self.shares[self.row, d] > 0:
                need = dense_row(self.own.needs[d], self.local).astype(self.dtype, copy=False)
                add_capped(ba, self._products(True, d, need, rows), self.dtype(self.shares[self.row, d]))
        return ba

    def backward_bound(self) -> Scores:
        """An upper bound of ``backward()`` from vector lengths alone (|x . y| <= |x| |y|), inflated for rounding."""
        assert self.supports is not None
        bound = np.zeros(self.n, dtype=self.dtype)
        for d in self.dims:
            share = self.shares[self.row, d]
            if share > 0:
                reach = float(np.linalg.norm(dense_row(self.own.needs[d], self.local))) * (1.0 + 1e-4)
                lengths = np.concatenate([s.offer_norms[d] for s in self.supports if s is not None])
                bound += np.minimum(lengths * self.dtype(reach), 1.0) * self.dtype(share)
        return bound

    def forward_bound(self) -> Scores:
        """An upper bound of ``forward()`` from vector lengths alone, inflated for rounding."""
        assert self.supports is not None
        bound = np.zeros(self.n, dtype=self.dtype)
        for d in self.dims:
            reach = float(np.linalg.norm(dense_row(self.own.offers[d], self.local))) * (1.0 + 1e-4)
            if reach > 0:
                lengths = np.concatenate([s.need_norms[d] for s in self.supports if s is not None])
                np.minimum(lengths * self.dtype(reach), 1.0, out=lengths)
                bound += lengths * self.shares[:, d]
        return bound

    def cost(self) -> tuple[int, int]:
        """Rows read by ``forward()`` and by ``backward()`` (the vectors of rows that need or offer)."""
        assert self.supports is not None
        forward = backward = 0
        for d in self.dims:
            if dense_row(self.own.offers[d], self.local).any():
                forward += sum(s.need_rows[d].size for s in self.supports if s is not None)
            if self.shares[self.row, d] > 0:
                backward += sum(s.offer_rows[d].size for s in self.supports if s is not None)
        return forward, backward

    def bonus(self, rows: IntArray | None = None) -> Scores:
        """The sector and cross-border factor, with the combiner's constant and 1/(1+s+x) folded in.

        ``rows`` (ascending) limits it to those rows.
        """
        s, x = self.settings.sector_weight, self.settings.cross_border_weight
        size = self.n if rows is None else rows.size
        bonus = np.full(size, self.dtype(self.scale), dtype=self.dtype)
        if s > 0:
            sector_row = dense_row(self.own.sectors, self.local).astype(self.dtype)
            parts = []
            for k, chunk in enumerate(self.chunks):
                support = self.supports[k] if self.supports is not None else None
                if rows is None:
                    local: slice | IntArray = slice(None)
                else:
                    lo, hi = np.searchsorted(rows, (self.starts[k], self.starts[k + 1]))
                    local = rows[lo:hi] - self.starts[k]
                if support is not None:  # the few distinct sector sets, then each row's
                    parts.append(_matvec(support.sector_sets, sector_row)[support.sector_codes[local]])
                else:
                    parts.append(np.asarray(_matvec(chunk.sectors, sector_row)[local], dtype=self.dtype))
            bonus += np.concatenate(parts) * self.dtype(s * self.scale)
        if x > 0:
            countries = self.ctx.countries if rows is None else self.ctx.countries[rows]
            bonus += cross_border(self.ctx.countries[self.row], countries, self.settings.bridge) * self.dtype(
                x * self.scale
            )
        return bonus

    def combine(self, ab: Scores, ba: Scores, bonus: Scores) -> Scores:
        """The score from both directions and the bonus (``ab`` and ``ba`` are overwritten)."""
        return finish(ab, ba, bonus, self.settings, clamp=True)  # exact vectors too: vetoes cancel to rounding error


def score_row(
    parts: ProfileMatrices | Sequence[ProfileMatrices],
    row: int,
    ctx: Context,
    settings: ScoringSettings,
    dimensions: Sequence[str],
    *,
    shares: FloatArray | None = None,
    supports: Sequence[RowSupport | None] | None = None,
) -> Scores:
    """Scores of organisation ``row`` (as A) against everyone: one matrix-vector product per dimension.

    ``parts`` is the population's matrices, or consecutive row chunks of them; ``shares`` (``need_shares``
    for these settings) and each chunk's ``RowSupport`` may be passed when already known. Agrees with
    ``score_block`` up to the rounding of a different summation order.
    """
    query = _OneAgainstAll(parts, row, ctx, settings, dimensions, shares, supports)
    return query.combine(query.forward(), query.backward(), query.bonus())


def _top_indices(values: Scores, k: int) -> IntArray:
    """Indices of the k largest values, ties included at the cut, ordered by value then index."""
    positive = np.flatnonzero(values > 0)
    if len(positive) > k:
        kth = np.partition(values[positive], len(positive) - k)[len(positive) - k]
        positive = positive[values[positive] >= kth]
    order = np.lexsort((positive, -values[positive]))
    return positive[order]


# Pruning saves memory traffic but costs fixed numpy calls: measured on latent vectors (2 cores),
# scoring everyone takes 1.45 ms at 10,000 rows against 2.04 ms pruned, and 4.43 against 3.72 ms at
# 40,000; the lines cross near 24,000.
PRUNE_MIN_ROWS = 25_000
# An ``allowed`` mask of at most one row in this many (the programmes and funders beside a partner list)
# is scored on its rows alone: a product over a few hundred rows instead of everyone.
SUBSET_SHARE = 8


def top_partners_each(
    m: ProfileMatrices | Sequence[ProfileMatrices],
    row: int,
    ctx: Context,
    settings: ScoringSettings,
    dimensions: Sequence[str],
    selections: Sequence[tuple[int, NDArray[np.bool_] | None]],
    *,
    shares: FloatArray | None = None,
    supports: Sequence[RowSupport | None] | None = None,
    prune_min_rows: int | None = None,
) -> list[tuple[IntArray, Scores]]:
    """The best partners of organisation ``row`` for each (k, allowed) of ``selections`` (a partner list
    and its enablers, say), with their scores: by descending score, ties by index, score > 0.

    The scores against everyone are computed once for all the selections that need them; a selection
    of a few rows scores those rows only (``SUBSET_SHARE``). From ``prune_min_rows`` rows (default
    ``PRUNE_MIN_ROWS``) one direction is bounded rather than scored for everyone
    (``_top_partners_pruned``). The result is the same either way.
    """
    query = _OneAgainstAll(m, row, ctx, settings, dimensions, shares, supports)
    threshold = PRUNE_MIN_ROWS if prune_min_rows is None else prune_min_rows
    everyone: Scores | None = None
    found = []
    for k, allowed in selections:
        if allowed is not None and np.count_nonzero(allowed) * SUBSET_SHARE <= query.n:
            found.append(_top_partners_among(query, k, allowed))
            continue
        if everyone is None and query.supports is not None and query.n >= threshold:
            pruned = _top_partners_pruned(query, k, allowed)
            if pruned is not None:
                found.append(pruned)
                continue
        if everyone is None:
            everyone = query.combine(query.forward(), query.backward(), query.bonus())
            everyone[row] = 0.0
        scores = everyone if allowed is None else np.where(allowed, everyone, 0.0)
        best = _top_indices(scores, k)[:k]
        found.append((best, scores[best]))
    return found


def _top_partners_among(query: _OneAgainstAll, k: int, allowed: NDArray[np.bool_]) -> tuple[IntArray, Scores]:
    """The top k among the few ``allowed`` rows, scoring those rows only (the same values as scoring all)."""
    rows = np.flatnonzero(allowed)
    rows = rows[rows != query.row]
    scores = query.combine(query.forward(rows), query.backward(rows), query.bonus(rows))
    best = _top_indices(scores, k)[:k]
    return rows[best], scores[best]


def _largest(values: Scores, size: int) -> IntArray:
    """The indices (ascending) of ``size`` largest positive values, ties at the cut by lower index.

    A partition of the positive values and two comparisons: ``argpartition`` is several times slower
    on the many zeros and ties of a bound.
    """
    positive = np.flatnonzero(values > 0)
    if size >= positive.size:
        return positive
    kept = values[positive]
    cut = np.partition(kept, kept.size - size)[kept.size - size]
    above = positive[kept > cut]
    at = positive[kept == cut][: size - above.size]
    return np.sort(np.concatenate([above, at]))


def _top_partners_pruned(
    query: _OneAgainstAll, k: int, allowed: NDArray[np.bool_] | None
) -> tuple[IntArray, Scores] | None:
    """The top k, scoring one direction exactly only where it can matter, else None.

    The cheaper direction (fewer vectors to read) is scored for everyone; the other is bounded from
    vector lengths, which bounds each score (every built-in combiner grows with each direction). The
    best bounds are scored exactly, then every row whose bound reaches the k-th exact score so far.
    Rows left out score below it, so the result is exactly that of scoring everyone, for about half
    the memory traffic.
    """
    n = query.n
    forward_cost, backward_cost = query.cost()
    bonus = query.bonus()
    if forward_cost <= backward_cost:
        ab = query.forward()
        bound = query.combine(ab.copy(), query.backward_bound(), bonus)

        def exact(rows: IntArray) -> Scores:
            return query.combine(ab[rows], query.backward(rows), bonus[rows])
    else:
        ba = query.backward()
        bound = query.combine(query.forward_bound(), ba.copy(), bonus)

        def exact(rows: IntArray) -> Scores:
            return query.combine(query.forward(rows), ba[rows], bonus[rows])

    bound[query.row] = 0.0
    if allowed is not None:
        bound[~allowed] = 0.0
    first_size = min(n, max(256, 8 * k))
    first = _largest(bound, first_size)
    scored = exact(first)
    cut = np.partition(scored, scored.size - k)[scored.size - k] if scored.size >= k else 0.0
    reaches = bound >= max(cut, SMALLEST[np.dtype(query.dtype)])
    reaches[first] = False
    rest = np.flatnonzero(reaches)
    if rest.size > n // 4:
        return None  # the bound prunes little here: score everyone
    scores = np.zeros(n, dtype=query.dtype)
    scores[np.concatenate([first, rest])] = np.concatenate([scored, exact(rest)])
    best = _top_indices(scores, k)[:k]
    return best, scores[best]
