"""Scoring blocks of rows against blocks of columns: the formula as fused matrix products, in place.

How it is computed (the semantics of :mod:`matchmaker.core.scoring.formula`, exactly):

* the weight of ``benefit_d(A->B)`` in ``directed(A->B)`` is ``c_d[B]``, so it is folded into B's need
  vectors: ``c_d[B] * min(1, x) = min(c_d[B], x')`` with ``x' = c_d[B] x``;
* the cap binds only where ``offers_d[A] . needs_d[B] > 1``, which needs ``|offers_d[A]| |needs_d[B]| > 1``
  (need rows are averages of unit vectors, so at most 1; only offer rows summing several items can
  exceed it). All dimensions are therefore one matrix product of offers side by side against scaled
  needs side by side, ``directed(A->B) = left[A] . right[B]``, and the cap is subtracted afterwards,
  ``max(0, x' - c_d[B])``, for the few (row, dimension) pairs where it can bind;
* ``directed(B->A)`` for the same block is ``right[A] . left[B]``: two products per block;
* the bonus is one more small product (:class:`~matchmaker.core.scoring.formula.BonusFactors`), with the
  combiner's constant and ``1 / (1 + s + x)`` folded in; :func:`~matchmaker.core.scoring.formula.finish`
  combines.

Latent (LSA) vectors are float32 and can have small negative similarities; directed benefits are
clipped at 0 as for exact vectors. Exact vectors are sparse float64.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from matchmaker.core.scoring.buffers import Workspace
from matchmaker.core.scoring.formula import (
    BonusFactors,
    Context,
    apply_bonus,
    bridge_sides,
    combine,
    crosses,
    need_shares,
)
from matchmaker.core.scoring.settings import ScoringSettings
from matchmaker.core.vectors import IntArray, Matrix, ProfileMatrices, Scores, dense, is_sparse, row_norms

CANONICAL = 512  # rows per canonical block: every dense product is computed in these fixed blocks
_FULL_BLOCK = 0.3  # above this share of capped columns in a block, its cap correction is done whole
DENSE_EXACT_BYTES = 256 * 1024 * 1024  # exact vectors: dense column blocks (sparse x dense products) up to this


def _product(a: Matrix, b: Matrix, out: Scores | None = None) -> Scores:
    """``a @ b.T`` as a dense array (written into ``out`` when the inputs are dense)."""
    if is_sparse(a):
        return dense(a @ b.T)
    return np.matmul(a, b.T, out=out)


def _used_columns(matrix: Matrix) -> NDArray[np.bool_]:
    """Which columns of ``matrix`` hold a non-zero value."""
    if is_sparse(matrix):
        return np.asarray(sp.csc_matrix(matrix).getnnz(axis=0) > 0)
    return np.asarray(np.asarray(matrix).any(axis=0))


@dataclass(frozen=True)
class _Capped:
    """A dimension in which some organisations' offers can exceed the cap of 1 against some need."""

    rows: NDArray[np.int64]  # the rows whose cap can bind, ascending
    position: NDArray[np.int64]  # (n,): row -> its place in ``rows``, or -1 where the cap cannot bind
    offers: Matrix  # offers_d of ``rows``
    right: Matrix  # (n, F): this dimension's block of the plan's right matrix (scaled needs)
    share: Scores  # (n,): c_d, the cap in scaled units
    offset: int = 0  # where this dimension's block starts among the plan's fused columns
    block_offers: Matrix = None  # latent vectors: every row's offers_d, for whole-block corrections


@dataclass(frozen=True)
class ScoringPlan:
    """The all-pairs score prepared for matrix products: fused offers and scaled needs, caps and bonus.

    Build it once per population and settings (``ScoringPlan.build``), then score any block of rows
    against any block of columns with :meth:`block`. ``left`` holds every scored dimension's offers side
    by side and ``right`` the needs scaled by each organisation's need shares (see the module notes),
    so ``left[A] . right[B]`` is ``directed(A->B)`` before caps.

    Examples
    --------
    >>> from matchmaker.core.population import Population
    >>> from matchmaker.core.profile import Evidence, Item, Profile
    >>> claim = lambda text: (Item(description=text, strength=3, evidence=Evidence(background="x")),)
    >>> orgs = [Profile(id=i, name=i, country="JP", kind="startup", sectors=("ai",), offers={"data": claim(o)},
    ...                 needs={"data": claim(n)}) for i, o, n in [("a", "speech data", "gpu time"),
    ...                                                            ("b", "gpu time", "speech data")]]
    >>> pop = Population.fit(orgs)
    >>> plan = ScoringPlan.build(pop.matrices, pop.context, pop.settings, pop.dimensions)
    >>> plan.block(slice(0, 1), slice(0, 2)).round(3).tolist()
    [[0.0, 1.0]]
    """

    n: int
    dtype: Any
    left: Matrix
    right: Matrix
    capped: tuple[_Capped, ...]
    bonus: BonusFactors
    settings: ScoringSettings
    clamp: bool
    is_x: NDArray[np.bool_]
    is_y: NDArray[np.bool_]
    dense_columns: bool = False  # exact vectors: columns blocks as dense arrays, so products are sparse x dense
    _blocks: dict[tuple[str, int, int], Scores] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def build(
        cls, m: ProfileMatrices, ctx: Context, settings: ScoringSettings, dimensions: Sequence[str]
    ) -> ScoringPlan:
        """Prepare the fused matrices of ``m`` for ``settings``; O(n x features), no pair is scored."""
        n = m.n
        alpha = settings.weights(dimensions)
        shares = need_shares(m.need_mass, alpha)
        latent = not sp.issparse(m.offers[0]) if m.offers else False
        dtype = np.dtype(np.float32) if latent and np.asarray(m.offers[0]).dtype == np.float32 else np.dtype(np.float64)
        used = [
            d for d in range(len(dimensions)) if alpha[d] > 0 and shares[:, d].any() and row_norms(m.offers[d]).any()
        ]
        # Only the columns some offer and some need both use can add to a product: the others (most of
        # the attribute blocks, words only one side has) are left out, exactly (each would add 0).
        offers_of, needs_of, bounds = {}, {}, {}
        for d in list(used):
            keep = _used_columns(m.offers[d]) & _used_columns(m.needs[d])
            if not keep.any():
                used.remove(d)
                continue
            columns = np.flatnonzero(keep)
            offers_of[d], needs_of[d] = m.offers[d][:, columns], m.needs[d][:, columns]
            text = m.content_widths[d] if m.content_widths is not None else m.offers[d].shape[1]
            bounds[d] = int(keep[:text].sum())  # the plain text block's columns, still first
        # Dimensions differ in width (attribute blocks, the columns kept): each used dimension's block
        # starts where the previous one ends.
        widths = [int(offers_of[d].shape[1]) for d in used]
        offsets = np.cumsum([0, *widths]).tolist()
        if latent:
            left: Matrix = np.empty((n, max(1, offsets[-1])), dtype=dtype)
            right: Matrix = np.zeros_like(left)
            for j, d in enumerate(used):
                left[:, offsets[j] : offsets[j + 1]] = offers_of[d]
                np.multiply(
                    needs_of[d], shares[:, d, None], out=right[:, offsets[j] : offsets[j + 1]], casting="unsafe"
                )
            if not used:
                left[:] = 0.0
            right_parts: list[Matrix] = [right[:, offsets[j] : offsets[j + 1]] for j in range(len(used))]
        else:
            right_parts = [sp.csr_matrix(sp.diags(shares[:, d]) @ needs_of[d]) for d in used]
            left = sp.hstack([offers_of[d] for d in used], format="csr") if used else sp.csr_matrix((n, 1))
            right = sp.hstack(right_parts, format="csr") if used else sp.csr_matrix((n, 1))
        dense_columns = not latent and bool(used) and 2 * n * right.shape[1] * 8 <= DENSE_EXACT_BYTES
        capped = []
        for j, d in enumerate(used):
            has_need = shares[:, d] > 0
            # |offers . needs| <= |offers| |needs|; with attribute blocks the plain text block (the first
            # ``content_widths[d]`` columns, non-negative) bounds the product more tightly.
            bound = bounds[d]
            offer_norms = row_norms(offers_of[d][:, :bound] if bound < widths[j] else offers_of[d])
            need_norms = row_norms(needs_of[d][:, :bound] if bound < widths[j] else needs_of[d])
            need_norm = need_norms[has_need].max(initial=0.0)
            # Products above 1 by rounding alone (a single central item meeting an identical need) are
            # left uncapped: 1e-6 is below anything a ranking or a printed score can show.
            rows = np.flatnonzero(offer_norms * need_norm > 1.0 + 1e-6)
            if rows.size:
                position = np.full(n, -1, dtype=np.int64)
                position[rows] = np.arange(rows.size)
                offers = offers_of[d][rows]
                capped.append(
                    _Capped(
                        rows.astype(np.int64),
                        position,
                        np.ascontiguousarray(offers) if latent else offers,
                        right_parts[j],
                        shares[:, d].astype(dtype),
                        offsets[j],
                        left[:, offsets[j] : offsets[j + 1]] if latent else None,
                    )
                )
        bonus = BonusFactors.build(m.sectors, ctx.countries, settings, dtype)
        is_x, is_y = bridge_sides(ctx.countries, settings.bridge)
        return cls(
            n=n,
            dtype=dtype,
            left=left,
            right=right,
            capped=tuple(capped),
            bonus=bonus,
            settings=settings,
            # Exact products of attribute blocks can round to -1e-17 where the factor is 0: clipped too.
            clamp=True,
            is_x=is_x,
            is_y=is_y,
            dense_columns=dense_columns,
        )

    def block(
        self,
        rows: slice | IntArray,
        cols: slice | IntArray,
        *,
        workspace: Workspace | None = None,
        cross_border_only: bool = False,
    ) -> Scores:
        """Scores of ``rows`` (as A) against ``cols`` (as B); float32 for latent vectors, else float64.

        With a workspace the result lives in its buffers (valid until its next use).
        """
        n_rows = len(range(self.n)[rows]) if isinstance(rows, slice) else len(rows)
        n_cols = len(range(self.n)[cols]) if isinstance(cols, slice) else len(cols)
        dense = not sp.issparse(self.left)

        def buffer(slot: int) -> Scores | None:
            return workspace.buffer(slot, n_rows, n_cols, self.dtype) if dense and workspace is not None else None

        if dense and isinstance(rows, slice) and isinstance(cols, slice):
            ab = buffer(0) if workspace is not None else np.empty((n_rows, n_cols), dtype=self.dtype)
            ba = buffer(1) if workspace is not None else np.empty((n_rows, n_cols), dtype=self.dtype)
            assert ab is not None and ba is not None
            self._canonical(ab, ba, range(self.n)[rows], range(self.n)[cols])
        else:
            columns = self._columns(cols) if self.dense_columns and isinstance(cols, slice) else None
            if columns is not None:
                ab = np.asarray(self.left[rows] @ columns[0])
                ba = np.asarray(self.right[rows] @ columns[1])
            else:
                ab = _product(self.left[rows], self.right[cols], buffer(0))
                ba = _product(self.right[rows], self.left[cols], buffer(1))
            # Exact vectors: the cap products against dense column (row) blocks too.
            own = self._columns(rows) if columns is not None and isinstance(rows, slice) else None
            for cap in self.capped:
                self._uncap(
                    ab, ba, cap, rows, cols, None if columns is None else columns[0], None if own is None else own[0]
                )
        result, spare = combine(ab, ba, self.settings, clamp=self.clamp, spare=buffer(2))
        bonus: Scores | float = self.bonus.constant
        left, right = self.bonus.left, self.bonus.right
        if left is not None and right is not None:
            if spare is None:
                spare = np.empty((n_rows, n_cols), dtype=self.dtype)
            if isinstance(rows, slice) and isinstance(cols, slice):
                # In canonical blocks for exact vectors too: BLAS rounds a product by the shape of the call.
                bonus = self._canonical_product(left, right, range(self.n)[rows], range(self.n)[cols], spare)
            else:
                bonus = _product(left[rows], right[cols], spare)
        apply_bonus(result, bonus)
        if cross_border_only:
            sides = (self.is_x[rows][:, None], self.is_y[rows][:, None], self.is_x[cols], self.is_y[cols])
            np.multiply(result, crosses(*sides), out=result)
        return result

    @staticmethod
    def _canonical_blocks(span: range, n: int) -> Iterator[tuple[int, int, int, int]]:
        """The canonical blocks [start, stop) meeting ``span``, with the part of each inside it."""
        for start in range(span.start - span.start % CANONICAL, span.stop, CANONICAL):
            stop = min(start + CANONICAL, n)
            yield start, stop, max(start, span.start), min(stop, span.stop)

    def _canonical_product(self, a: Scores, b: Scores, rows: range, cols: range, out: Scores) -> Scores:
        """``a[rows] @ b[cols].T`` into ``out``, computed one canonical block pair at a time."""
        for rb0, rb1, i0, i1 in self._canonical_blocks(rows, self.n):
            for cb0, cb1, j0, j1 in self._canonical_blocks(cols, self.n):
                target = out[i0 - rows.start : i1 - rows.start, j0 - cols.start : j1 - cols.start]
                if (i0, i1, j0, j1) == (rb0, rb1, cb0, cb1):
                    np.matmul(a[rb0:rb1], b[cb0:cb1].T, out=target)
                else:
                    target[...] = (a[rb0:rb1] @ b[cb0:cb1].T)[i0 - rb0 : i1 - rb0, j0 - cb0 : j1 - cb0]
        return out

    def _canonical(self, ab: Scores, ba: Scores, rows: range, cols: range) -> None:
        """Both directions with caps, one canonical block pair at a time.

        BLAS rounds a product differently depending on the shape of the call, so every value is
        computed in the same canonical block (fixed 512-row blocks of the population) whatever the
        tile: results are identical for every tile size and thread count.
        """
        for rb0, rb1, i0, i1 in self._canonical_blocks(rows, self.n):
            for cb0, cb1, j0, j1 in self._canonical_blocks(cols, self.n):
                inside = (i0, i1, j0, j1) == (rb0, rb1, cb0, cb1)
                shape = (rb1 - rb0, cb1 - cb0)
                tile = (slice(i0 - rows.start, i1 - rows.start), slice(j0 - cols.start, j1 - cols.start))
                x = ab[tile] if inside else np.empty(shape, dtype=self.dtype)
                y = ba[tile] if inside else np.empty(shape, dtype=self.dtype)
                np.matmul(self.left[rb0:rb1], self.right[cb0:cb1].T, out=x)
                np.matmul(self.right[rb0:rb1], self.left[cb0:cb1].T, out=y)
                for cap in self.capped:
                    lo, hi = np.searchsorted(cap.rows, (rb0, rb1))
                    if hi > lo:
                        excess = cap.offers[lo:hi] @ cap.right[cb0:cb1].T
                        np.subtract(excess, cap.share[cb0:cb1], out=excess)
                        np.maximum(excess, 0.0, out=excess)
                        x[cap.rows[lo:hi] - rb0] -= excess
                    lo, hi = np.searchsorted(cap.rows, (cb0, cb1))
                    if hi - lo > _FULL_BLOCK * (cb1 - cb0):
                        # Many capped columns: correcting the whole block is cheaper than scattering into
                        # columns (uncapped columns come out 0; the choice depends on the block alone).
                        excess = cap.right[rb0:rb1] @ cap.block_offers[cb0:cb1].T
                        np.subtract(excess, cap.share[rb0:rb1, None], out=excess)
                        np.maximum(excess, 0.0, out=excess)
                        y -= excess
                    elif hi > lo:  # computed transposed: rows of y.T are contiguous to update
                        excess = cap.offers[lo:hi] @ cap.right[rb0:rb1].T
                        np.subtract(excess, cap.share[rb0:rb1], out=excess)
                        np.maximum(excess, 0.0, out=excess)
                        y.T[cap.rows[lo:hi] - cb0] -= excess
                if not inside:
                    part = (slice(i0 - rb0, i1 - rb0), slice(j0 - cb0, j1 - cb0))
                    ab[tile] = x[part]
                    ba[tile] = y[part]

    def _columns(self, cols: slice) -> tuple[Scores, Scores]:
        """Exact vectors: the columns' right and left rows as dense, transposed (features x columns) arrays.

        A sparse row block times a dense block is far cheaper than a sparse product with a dense-ish
        result; each column block is converted once and reused by every tile in its column.
        """
        span = range(self.n)[cols]
        right = self._blocks.get(("right", span.start, span.stop))
        left = self._blocks.get(("left", span.start, span.stop))
        if right is None or left is None:
            right = self._blocks[("right", span.start, span.stop)] = sp.csr_matrix(self.right[cols].T).toarray()
            left = self._blocks[("left", span.start, span.stop)] = sp.csr_matrix(self.left[cols].T).toarray()
        return right, left

    @staticmethod
    def _uncap(
        ab: Scores,
        ba: Scores,
        cap: _Capped,
        rows: slice | IntArray,
        cols: slice | IntArray,
        right_columns: Scores | None = None,
        right_rows: Scores | None = None,
    ) -> None:
        """Subtract ``max(0, x' - c)`` where a row's (for ab) or a column's (for ba) offers exceed the cap.

        ``right_columns`` and ``right_rows`` are the dense transposed column and row blocks of exact vectors
        (``_columns``), when they are kept.
        """
        width = cap.offers.shape[1]
        position = cap.position[rows]
        local = np.flatnonzero(position >= 0)
        if local.size:
            if right_columns is not None:
                block = right_columns[cap.offset : cap.offset + width]
                excess = np.asarray(cap.offers[position[local]] @ block)
            else:
                excess = _product(cap.offers[position[local]], cap.right[cols])
            np.subtract(excess, cap.share[cols], out=excess)
            np.maximum(excess, 0.0, out=excess)
            ab[local] -= excess
        position = cap.position[cols]
        local = np.flatnonzero(position >= 0)
        if local.size:
            if right_rows is not None:  # computed transposed: rows of ba.T are contiguous to update
                block = right_rows[cap.offset : cap.offset + width]
                excess = np.asarray(cap.offers[position[local]] @ block)
                np.subtract(excess, cap.share[rows], out=excess)
                np.maximum(excess, 0.0, out=excess)
                ba.T[local] -= excess
            else:
                excess = _product(cap.right[rows], cap.offers[position[local]])
                np.subtract(excess, cap.share[rows][:, None], out=excess)
                np.maximum(excess, 0.0, out=excess)
                ba[:, local] -= excess
