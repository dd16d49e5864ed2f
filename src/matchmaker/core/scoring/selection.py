"""Keeping the best k while tiles are scored: candidates chosen by threshold, merged exactly.

A tile yields *cells* (row, column, score, flags): every pair that may still be among the best k of
its row's organisation (flag 1) or its column's (flag 2), or among the best k pairs (flag 1). What
"may" means is given by a :class:`Wanted`: each organisation's k-th best so far (its threshold), and
for an organisation without k partners yet, the k-th best of the tile itself. Merging keeps, per
organisation (or overall), the k best cells by score, ties by lower index.

A cell is offered at most once (each unordered pair is scored in one tile), and every cell among the
final best k is always offered, so what is kept does not depend on the order tiles arrive in, their
size, the number of workers or the kernel that selected them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from matchmaker.core.scoring.query import SMALLEST
from matchmaker.core.vectors import IntArray, Scores

Tile = tuple[int, int, int, int]  # row start, row stop, column start, column stop
Cells = tuple[IntArray, IntArray, Scores, NDArray[np.int8]]  # row, column, score, flags (1: row's, 2: column's)


@dataclass(frozen=True)
class Wanted:
    """What a tile must yield: the thresholds of its rows and columns as they stood when it was handed out.

    ``rows`` holds each tile row's organisation's k-th best score so far (0 while fewer than k are
    known) and ``cols`` the columns'; for the best pairs overall, ``rows`` is one value (the k-th best
    pair so far) and ``cols`` is None.
    """

    k: int
    rows: Scores
    cols: Scores | None = None

    @property
    def pairs(self) -> bool:
        return self.cols is None


def kernel_state(wanted: Wanted, dtype: Any, smallest: Any, *, diagonal: bool = False) -> tuple[NDArray[Any], ...]:
    """The selection state a fused kernel updates while it scores a tile (see ``kernels_numba.block_cells``).

    Each line's floor (its threshold, at least the smallest positive score), whether it is open
    (threshold 0: it keeps the tile's own k best in a heap), and the heaps with their fill counts. On a
    diagonal tile the rows and the columns are the same organisations: they share one state, so an
    organisation's heap holds its pairs on both sides of the diagonal.
    """

    def side(thresholds: Scores) -> tuple[NDArray[Any], ...]:
        floor = np.maximum(thresholds, smallest).astype(dtype)
        return (
            floor,
            np.ascontiguousarray(thresholds == 0),
            np.empty((thresholds.size, wanted.k), dtype=dtype),
            np.zeros(thresholds.size, dtype=np.int64),
        )

    row_floor, row_open, row_heaps, row_counts = side(wanted.rows)
    if diagonal and wanted.cols is not None:
        return row_floor, row_floor, row_open, row_open, row_heaps, row_counts, row_heaps, row_counts
    col_floor, col_open, col_heaps, col_counts = side(wanted.cols if wanted.cols is not None else np.zeros(1, dtype))
    return row_floor, col_floor, row_open, col_open, row_heaps, row_counts, col_heaps, col_counts


def kth_at_most(lines: Scores, k: int, axis: int = 1) -> Scores:
    """Each line's k-th largest value, or just below it: a lower bound, found in float32.

    float64 lines are partitioned as float32 (three to eight times quicker, zeros and ties included):
    rounding keeps the order, so the float32 k-th is the true one rounded, and the next float32 down
    is at most the true one. Selecting at least this keeps every cell at least the k-th (and, at
    worst, a few within a float32 step below it, which merging then drops).

    >>> kth_at_most(np.array([[0.5, 0.1, 0.3]], dtype=np.float32), 2).tolist()
    [0.30000001192092896]
    >>> bool(kth_at_most(np.array([[0.5, 0.1, 0.3]]), 2)[0] <= 0.3)
    True
    """
    exact = lines.dtype == np.float32
    return _kth_below(lines if exact else lines.astype(np.float32), k, axis, exact=exact).astype(lines.dtype)


def _kth_below(narrow: Scores, k: int, axis: int, *, exact: bool) -> Scores:
    """The k-th largest of float32 lines; unless ``exact`` (they are rounded float64), the next float32 down."""
    length = narrow.shape[axis]
    kth: Scores = np.take(np.partition(narrow, length - k, axis=axis), length - k, axis=axis)
    return kth if exact else np.nextafter(kth, np.float32(-np.inf))


def _select(scores: Scores, threshold: Scores, k: int, axis: int) -> tuple[IntArray, IntArray]:
    """Cells that may be among the k best of their row (axis=1) or column (axis=0): at least the
    threshold, above 0, and at least the k-th best of the tile in their line (ties kept)."""
    floor = np.maximum(threshold, SMALLEST[scores.dtype])
    length = scores.shape[axis]
    if length > k and not threshold.all():
        # Some lines have no k-th best yet (their first tile): cut those at the tile's k-th best first,
        # rather than listing every positive cell.
        open_lines = np.flatnonzero(threshold == 0)
        kth = kth_at_most(scores[open_lines] if axis == 1 else scores[:, open_lines], k, axis)
        floor[open_lines] = np.maximum(kth, floor[open_lines])
    at_least = scores >= (floor[:, None] if axis == 1 else floor[None, :])
    r, c = np.divmod(np.flatnonzero(at_least), scores.shape[1])  # flatnonzero: 10x faster than nonzero
    owner = r if axis == 1 else c
    counts = np.bincount(owner, minlength=scores.shape[1 - axis])
    crowded = np.flatnonzero(counts > k)
    if crowded.size:  # more than k cells at or above the threshold: keep the tile's k best (and ties)
        kth = kth_at_most(scores[crowded] if axis == 1 else scores[:, crowded], k, axis)
        cut = floor.copy()
        cut[crowded] = np.maximum(kth, floor[crowded])
        keep = scores[r, c] >= cut[owner]
        r, c = r[keep], c[keep]
    return r.astype(np.int64), c.astype(np.int64)


def extract_own_block(scores: Scores, tile: Tile, wanted: Wanted) -> Cells:
    """The cells of a diagonal tile (zero on and below the diagonal) that may be among each one's k best.

    Its rows and columns are the same organisations: each one's floor is its threshold or, higher,
    the k-th best of its pairs in the tile (one partition of the tile made symmetric; a lower bound of
    it for float64, :func:`kth_at_most`).
    """
    r0 = tile[0]
    size = scores.shape[0]
    floor = np.maximum(wanted.rows, SMALLEST[scores.dtype]).astype(scores.dtype)
    if size > wanted.k:
        # Zero on and below the diagonal: the sum with the transpose holds each one's pairs exactly.
        exact = scores.dtype == np.float32
        narrow = scores if exact else scores.astype(np.float32)
        np.maximum(floor, _kth_below(narrow + narrow.T, wanted.k, 1, exact=exact), out=floor)
    # The cells at least the lower of their row's and their column's floor, then whose floor they pass.
    found = np.flatnonzero(scores >= np.minimum(floor[:, None], floor[None, :]))
    r, c = np.divmod(found, size)
    values = scores.ravel()[found] if scores.flags.c_contiguous else scores[r, c]
    passed = (values >= floor[r]).view(np.int8) | ((values >= floor[c]).view(np.int8) << 1)
    return r.astype(np.int64) + r0, c.astype(np.int64) + r0, values, passed


def extract(scores: Scores, tile: Tile, wanted: Wanted) -> Cells:
    """The cells of a scored tile (already zero where a pair is not this tile's) that ``wanted`` asks for."""
    r0, _, c0, _ = tile
    if wanted.cols is None:
        floor = max(float(wanted.rows[0]), SMALLEST[scores.dtype])
        r, c = np.divmod(np.flatnonzero(scores >= floor), scores.shape[1])
        values = scores[r, c]
        if values.size > wanted.k:
            kth = np.partition(values, values.size - wanted.k)[values.size - wanted.k]
            keep = values >= kth
            r, c, values = r[keep], c[keep], values[keep]
        return r.astype(np.int64) + r0, c.astype(np.int64) + c0, values, np.ones(r.size, dtype=np.int8)
    rows_r, cols_r = _select(scores, wanted.rows, wanted.k, axis=1)
    rows_c, cols_c = _select(scores, wanted.cols, wanted.k, axis=0)
    flags = np.concatenate([np.full(rows_r.size, 1, dtype=np.int8), np.full(rows_c.size, 2, dtype=np.int8)])
    return (
        np.concatenate([rows_r, rows_c]) + r0,
        np.concatenate([cols_r, cols_c]) + c0,
        np.concatenate([scores[rows_r, cols_r], scores[rows_c, cols_c]]),
        flags,
    )


def _digits(values: NDArray[Any]) -> list[NDArray[np.uint16]]:
    """Non-negative integers cut into 16-bit digits, least significant first (as many as the largest needs)."""
    wide = values.astype(np.uint64, copy=False)
    largest = int(wide.max(initial=0))
    shifts = range(0, max(16, largest.bit_length()), 16)
    return [((wide >> np.uint64(s)) & np.uint64(0xFFFF)).astype(np.uint16) for s in shifts]


def _descending(score: Scores) -> NDArray[np.uint64]:
    """Unsigned integers in the reverse order of the scores (their bits, reordered to sort as the floats do)."""
    width = 8 * score.dtype.itemsize
    bits = (score + 0.0).view(f"int{width}")  # + 0.0: -0.0 becomes 0.0, as it compares
    ordered = bits ^ ((bits >> (width - 1)) & np.iinfo(bits.dtype).max)  # increasing with the score
    flipped = (~ordered).view(f"uint{width}") ^ np.array(1 << (width - 1), dtype=f"uint{width}")
    unsigned: NDArray[np.uint64] = flipped.astype(np.uint64)
    return unsigned


def ranking_order(org: IntArray, score: Scores, partner: IntArray) -> IntArray:
    """The order of candidates by organisation, then descending score, then partner: ``np.lexsort``'s.

    Each key is cut into 16-bit digits: numpy sorts 16-bit integers stably by radix, five to six times
    quicker than ``lexsort`` on the float and 64-bit keys themselves, with the same order (ties of all
    three keys cannot occur: a partner is offered once per organisation).

    >>> ranking_order(np.array([1, 0, 0, 0]), np.array([0.5, 0.2, 0.7, 0.2]), np.array([9, 8, 3, 5])).tolist()
    [2, 3, 1, 0]
    """
    keys = [*_digits(partner), *_digits(_descending(score)), *_digits(org)]
    order: IntArray = np.lexsort(keys)
    return order


PartialPartners = tuple[IntArray, IntArray, Scores]  # organisations (ascending), their best partners and scores


class BestPartners:
    """The k best partners of every organisation so far, merged exactly (score, then lower index).

    ``rows`` (ascending) restricts it to some organisations: a worker's share of the tiles keeps only
    the organisations of its tiles, and hands back a :data:`PartialPartners` (``partial``) for an exact
    merge with the others' (``absorb``). ``fast`` merges with the compiled kernel (numba), which keeps
    exactly what the numpy merge keeps.
    """

    def __init__(self, n: int, k: int, dtype: Any, *, fast: bool = False, rows: IntArray | None = None) -> None:
        self.k = k
        self.fast = fast
        self.rows = rows
        size = n if rows is None else rows.size
        self.index = np.full((size, k), -1, dtype=np.int64)
        self.score = np.zeros((size, k), dtype=dtype)
        self.threshold = np.zeros(size, dtype=dtype)  # the k-th best so far, 0 until k are known
        self.floor = np.zeros(size, dtype=dtype)  # a lower bound of the final k-th best, known beforehand

    def _slots(self, org: IntArray) -> IntArray:
        return org if self.rows is None else np.searchsorted(self.rows, org)

    def _span(self, start: int, stop: int) -> slice:
        if self.rows is None:
            return slice(start, stop)
        first, last = np.searchsorted(self.rows, (start, stop))
        return slice(int(first), int(last))

    def raise_floor(self, floor: Scores) -> None:
        """Lower bounds of every organisation's final k-th best (all n of them), known from elsewhere."""
        mine = floor if self.rows is None else floor[self.rows]
        np.maximum(self.floor, mine.astype(self.floor.dtype, copy=False), out=self.floor)

    def snapshot(self, tile: Tile) -> Wanted:
        r0, r1, c0, c1 = tile
        rows, cols = self._span(r0, r1), self._span(c0, c1)
        # Only the tile's spans: a tile is scored in time proportional to its cells, not to n.
        return Wanted(
            self.k,
            np.maximum(self.threshold[rows], self.floor[rows]),
            np.maximum(self.threshold[cols], self.floor[cols]),
        )

    def merge(self, found: Cells) -> None:
        rows, cols, score, flags = found
        mine, theirs = (flags & 1) > 0, (flags & 2) > 0
        org = self._slots(np.concatenate([rows[mine], cols[theirs]]))
        partner = np.concatenate([cols[mine], rows[theirs]])
        values = np.concatenate([score[mine], score[theirs]]).astype(self.score.dtype, copy=False)
        if not org.size:
            return
        if self.fast:
            from matchmaker.core.scoring.kernels import numba_kernels

            compiled = numba_kernels()
            assert compiled is not None
            compiled.merge_partners(self.index, self.score, self.threshold, org, partner, values)
            return
        self._merge(org, partner, values)

    def _merge(self, org: IntArray, partner: IntArray, score: Scores) -> None:
        k = self.k
        affected = np.flatnonzero(np.bincount(org))  # the distinct slots, ascending (np.unique sorts)
        held = self.index[affected] >= 0
        all_org = np.concatenate([np.repeat(affected, k)[held.ravel()], org])
        all_partner = np.concatenate([self.index[affected][held], partner])
        all_score = np.concatenate([self.score[affected][held], score])
        order = ranking_order(all_org, all_score, all_partner)
        all_org, all_partner, all_score = all_org[order], all_partner[order], all_score[order]
        first = np.searchsorted(all_org, affected)
        group = np.searchsorted(affected, all_org)
        rank = np.arange(all_org.size) - first[group]
        keep = rank < k
        self.index[affected] = -1
        self.score[affected] = 0
        self.index[all_org[keep], rank[keep]] = all_partner[keep]
        self.score[all_org[keep], rank[keep]] = all_score[keep]
        full = self.index[affected, k - 1] >= 0
        self.threshold[affected] = np.where(full, self.score[affected, k - 1], 0)

    def partial(self) -> PartialPartners:
        """The organisations with at least one partner so far, and their best partners and scores."""
        held = np.flatnonzero(self.index[:, 0] >= 0)
        orgs = held if self.rows is None else self.rows[held]
        return orgs.astype(np.int64), self.index[held], self.score[held]

    def absorb(self, part: PartialPartners) -> None:
        """Merge another collector's partial result in (it holds other tiles' pairs: no pair twice)."""
        orgs, index, score = part
        slot_rows, slots = np.nonzero(index >= 0)
        if slot_rows.size:
            flags = np.ones(slot_rows.size, dtype=np.int8)
            self.merge((orgs[slot_rows], index[slot_rows, slots], score[slot_rows, slots], flags))


def merge_partials(parts: list[PartialPartners], n: int, k: int, dtype: Any, *, fast: bool = False) -> PartialPartners:
    """The exact merge of partial results of disjoint sets of tiles: each organisation's k best of all.

    >>> a = (np.array([0, 2]), np.array([[1, -1], [3, -1]]), np.array([[0.5, 0.0], [0.4, 0.0]]))
    >>> b = (np.array([0]), np.array([[4, 5]]), np.array([[0.5, 0.9]]))
    >>> orgs, index, score = merge_partials([a, b], 6, 2, np.float64)
    >>> orgs.tolist(), index.tolist(), score.tolist()
    ([0, 2], [[5, 1], [3, -1]], [[0.9, 0.5], [0.4, 0.0]])
    """
    rows = np.unique(np.concatenate([p[0] for p in parts])) if parts else np.zeros(0, dtype=np.int64)
    merged = BestPartners(n, k, dtype, fast=fast, rows=rows)
    for part in parts:
        merged.absorb(part)
    return merged.partial()


class BestPairs:
    """The k best unordered pairs so far, merged exactly (score, then a, then b)."""

    def __init__(self, k: int, dtype: Any, *, fast: bool = False) -> None:
        self.k = k
        self.fast = fast
        self.a = np.zeros(0, dtype=np.int64)
        self.b = np.zeros(0, dtype=np.int64)
        self.score = np.zeros(0, dtype=dtype)
        self.threshold = np.zeros(1, dtype=dtype)
        self.floor = np.zeros(1, dtype=dtype)  # a lower bound of the final k-th best pair, known beforehand

    def raise_floor(self, floor: Scores) -> None:
        """A lower bound of the final k-th best pair score, known from elsewhere (other processes' tiles)."""
        np.maximum(self.floor, floor.astype(self.floor.dtype, copy=False), out=self.floor)

    def snapshot(self, tile: Tile) -> Wanted:
        return Wanted(self.k, np.maximum(self.threshold, self.floor))

    def merge(self, found: Cells) -> None:
        a, b, score, _ = found
        if not a.size:
            return
        a, b = np.concatenate([self.a, a]), np.concatenate([self.b, b])
        score = np.concatenate([self.score, score.astype(self.score.dtype, copy=False)])
        order = np.lexsort((b, a, -score))[: self.k]
        self.a, self.b, self.score = a[order], b[order], score[order]
        if self.score.size == self.k:
            self.threshold[0] = self.score[-1]

    def partial(self) -> tuple[IntArray, IntArray, Scores]:
        """The best pairs so far: (a, b, score)."""
        return self.a, self.b, self.score

    def absorb(self, part: tuple[IntArray, IntArray, Scores]) -> None:
        """Merge another collector's best pairs in (it holds other tiles' pairs: no pair twice)."""
        a, b, score = part
        self.merge((a, b, score, np.ones(a.size, dtype=np.int8)))
