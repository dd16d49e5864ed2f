"""Each dimension's vectors kept only for the organisations with support there, in canonical blocks.

A term of ``directed(A->B)`` counts only where A offers and B needs in that dimension (elsewhere one
of the two vectors is 0, and so is the product). Most organisations offer and need in one or two of
the dimensions, so the fused product of :class:`~matchmaker.core.scoring.plan.ScoringPlan` is mostly
zeros (about 80 % for the synthetic populations). The layout keeps, per dimension, the offers of the
organisations that offer there and the scaled needs of those that need there, so a block of pairs
is one small product per dimension over exactly the rows and columns with support.

The population is cut into canonical blocks of ``CANONICAL`` rows (fixed, whatever the tile: every
product is computed per pair of canonical blocks, so results do not depend on the tile size). Within
a block the rows are sorted by their support pattern (which dimensions they offer and need in, the
densest dimension first), so each dimension's supported columns form a few contiguous runs: adding a
dimension's terms into a row of scores is a contiguous, vectorised loop rather than a scatter.

Nothing here depends on the order of the rows within a block except the rounding-free bookkeeping:
every value is the same product of the same two vectors, computed in the same call for a given pair
of blocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from matchmaker.core.scoring.formula import BonusFactors
from matchmaker.core.vectors import Matrix, Scores, distinct_rows, row_norms

CANONICAL = 512  # rows per canonical block: every product is computed in these fixed blocks
DENSE_COLUMNS_BYTES = 256 * 1024 * 1024  # exact vectors: the column sides as dense blocks up to this
TABLE_MAX_CODES = 4096  # distinct bonus rows up to which the bonus is a lookup table (64 MiB in float32)

Int32Array = NDArray[np.int32]
Int64Array = NDArray[np.int64]


class FusedMatrices(Protocol):
    """What the layout is derived from: a :class:`~matchmaker.core.scoring.plan.ScoringPlan`'s matrices."""

    @property
    def n(self) -> int: ...
    @property
    def dtype(self) -> Any: ...
    @property
    def left(self) -> Matrix: ...  # every scored dimension's offers side by side
    @property
    def right(self) -> Matrix: ...  # their needs scaled by need shares
    @property
    def spans(self) -> tuple[tuple[int, int], ...]: ...  # each dimension's columns in left and right
    @property
    def shares(self) -> Scores: ...  # (n, dimensions) need shares c_d
    @property
    def bonus(self) -> BonusFactors: ...
    @property
    def is_x(self) -> NDArray[np.bool_]: ...
    @property
    def is_y(self) -> NDArray[np.bool_]: ...


def _runs(member: NDArray[np.bool_], blocks: int, n: int, canonical: int) -> tuple[Int32Array, Int64Array]:
    """The maximal runs of ``member`` (by permuted position) inside each canonical block.

    Returns ``(runs, bounds)``: each run as (start within its block, length, index of its first member
    within the block's members), ordered by position, and where each block's runs start.
    """
    position = np.arange(n)
    first = member & ((position % canonical == 0) | ~np.concatenate([[False], member[:-1]]))
    last = member & ((position % canonical == canonical - 1) | ~np.concatenate([member[1:], [False]]))
    starts, stops = np.flatnonzero(first), np.flatnonzero(last) + 1
    before = np.concatenate([[0], np.cumsum(member)])  # members before each position
    block_start = starts - starts % canonical
    runs = np.stack([starts - block_start, stops - starts, before[starts] - before[block_start]], axis=1)
    bounds = np.searchsorted(starts, np.arange(blocks + 1) * canonical)
    return np.ascontiguousarray(runs, dtype=np.int32).reshape(-1, 3), bounds.astype(np.int64)


def _distinct(rows: Scores) -> tuple[Scores, NDArray[np.intp]]:
    """The distinct rows of a matrix and each row's among them, by a random projection (checked).

    ``np.unique(axis=0)`` sorts whole rows and takes most of a second at 100,000 rows; one projection
    of each row onto a fixed random direction separates distinct rows, which the check confirms (else
    the rows are compared whole).
    """
    probe = np.random.default_rng(0).standard_normal(rows.shape[1])
    _, first, codes = np.unique(rows.astype(np.float64) @ probe, return_index=True, return_inverse=True)
    distinct = rows[first]
    if np.array_equal(distinct[codes.ravel()], rows):
        return np.ascontiguousarray(distinct), codes.ravel().astype(np.intp)
    return distinct_rows(rows)


def _owned(value: Any) -> Any:
    """``value`` with every array in it (and in its tuples) owning its memory: views are copied."""
    if isinstance(value, np.ndarray):
        return value if value.base is None else value.copy()
    if isinstance(value, tuple):
        return tuple(_owned(v) for v in value)
    return value


@dataclass(frozen=True)
class SupportLayout:
    """Per dimension, the offers and scaled needs of the organisations with support there, block by block.

    Positions are indices into ``perm`` (the rows, block by block, each block sorted by support):
    ``perm[p]`` is the population row at position p, and a block is positions
    ``[b * canonical, (b + 1) * canonical)``.
    """

    n: int
    dtype: Any
    canonical: int  # rows per canonical block (``CANONICAL``; smaller in tests, to cross blocks with few rows)
    blocks: int
    perm: Int64Array  # (n,) position -> row
    offers: tuple[Matrix, ...]  # per dimension: offers of the positions offering there, in position order
    needs: tuple[Matrix, ...]  # per dimension: scaled needs (needs_d * c_d) of the positions needing there
    offer_bounds: Int64Array  # (D, blocks + 1): where each block's offering positions start in ``offers[d]``
    need_bounds: Int64Array
    offer_pos: Int32Array  # (D, n): a position's index among its block's offering positions, or -1
    need_pos: Int32Array
    offer_runs: Int32Array  # (runs, 3): (start in block, length, first member index), see ``_runs``
    offer_run_bounds: Int64Array  # (D, blocks + 1) into ``offer_runs``
    need_runs: Int32Array
    need_run_bounds: Int64Array
    share: Scores  # (D, n): c_d of each position, the cap of its terms as B
    codes: Int32Array  # (n,): each position's bonus row among the distinct ones
    table: Scores | None  # (K, K): constant * bonus_factor of every pair of distinct bonus rows
    table_max: Scores | None  # (K,): each row's largest entry
    bonus_left: Scores | None  # without a table: the bonus factors by position (a product per block pair)
    bonus_right: Scores | None
    is_x: NDArray[np.bool_]  # by position: at home in the bridge's first country
    is_y: NDArray[np.bool_]
    # Exact vectors: each block's rows of ``offers[d]`` and ``needs[d]`` (CSR, sliced once), and, when
    # they fit ``DENSE_COLUMNS_BYTES``, the same blocks transposed and dense (features x members), so a
    # product is CSR x dense: the same sums in the same order as CSR x CSR (each output adds its row's
    # stored terms in column order; the terms a dense zero adds are +0), without building a sparse result.
    exact_blocks: tuple[tuple[tuple[Matrix, ...], ...], ...] = ()  # [side: 0 offers, 1 needs][d][block]
    dense_columns: tuple[tuple[tuple[Scores, ...], ...], ...] = ()  # [side][d][block]

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Unpickled with protocol 5 (a Dask message: views of the frames received), the arrays are views
        # of the pickle's buffers. Copied into numpy's own memory (aligned, in huge pages where the
        # kernel allows), a worker's tiles ran about 7 % quicker at 100,000. Arrays owning theirs are kept.
        for name, value in state.items():
            object.__setattr__(self, name, _owned(value))

    @property
    def dimensions(self) -> int:
        return len(self.offers)

    @property
    def exact(self) -> bool:
        return bool(self.offers) and sp.issparse(self.offers[0])

    def block_rows(self, block: int) -> int:
        return min(self.canonical, self.n - block * self.canonical)

    @classmethod
    def of(cls, plan: FusedMatrices, canonical: int = CANONICAL) -> SupportLayout:
        """The layout of a plan's fused matrices: O(n x features), nothing is scored."""
        n, dtype = plan.n, plan.dtype
        blocks = max(1, -(-n // canonical))
        spans = plan.spans
        offered = [row_norms(plan.left[:, a:b]) > 0 for a, b in spans]
        needed = [row_norms(plan.right[:, a:b]) > 0 for a, b in spans]
        # The densest dimensions first, needs before offers: their supports are the fewest runs.
        density = [o.sum() * d.sum() for o, d in zip(offered, needed, strict=True)]
        key = np.zeros(n, dtype=np.int64)
        for j in sorted(range(len(spans)), key=lambda j: -density[j]):
            key = key * 4 + needed[j] * 2 + offered[j]
        rows = np.arange(n)
        perm = np.lexsort((rows, key, rows // canonical)).astype(np.int64)

        def compact(matrix: Matrix, member: NDArray[np.bool_]) -> Matrix:
            chosen = perm[member]
            return sp.csr_matrix(matrix[chosen]) if sp.issparse(matrix) else np.ascontiguousarray(matrix[chosen])

        def positions(member: NDArray[np.bool_]) -> tuple[Int32Array, Int64Array]:
            before = np.concatenate([[0], np.cumsum(member)])
            bounds = before[np.minimum(np.arange(blocks + 1) * canonical, n)]
            block_first = before[(np.arange(n) // canonical) * canonical]
            pos = np.where(member, before[:-1] - block_first, -1)
            return pos.astype(np.int32), bounds.astype(np.int64)

        offers: list[Matrix] = []
        needs: list[Matrix] = []
        offer_pos: list[Int32Array] = []
        need_pos: list[Int32Array] = []
        offer_bounds: list[Int64Array] = []
        need_bounds: list[Int64Array] = []
        offer_runs: list[Int32Array] = []
        need_runs: list[Int32Array] = []
        offer_run_bounds: list[Int64Array] = []
        need_run_bounds: list[Int64Array] = []
        run_counts = [0, 0]
        for j, (a, b) in enumerate(spans):
            offering, needing = offered[j][perm], needed[j][perm]
            offers.append(compact(plan.left[:, a:b], offering))
            needs.append(compact(plan.right[:, a:b], needing))
            for member, pos_out, bounds_out, runs_out, run_bounds_out, slot in (
                (offering, offer_pos, offer_bounds, offer_runs, offer_run_bounds, 0),
                (needing, need_pos, need_bounds, need_runs, need_run_bounds, 1),
            ):
                pos, bounds = positions(member)
                pos_out.append(pos)
                bounds_out.append(bounds)
                runs, run_bounds = _runs(member, blocks, n, canonical)
                runs_out.append(runs)
                run_bounds_out.append(run_bounds + run_counts[slot])
                run_counts[slot] += len(runs)
        width = len(spans)

        def stacked(parts: list[Any], dtype: Any, shape: tuple[int, ...]) -> Any:
            return np.ascontiguousarray(np.stack(parts), dtype=dtype) if parts else np.zeros(shape, dtype=dtype)

        codes, table, table_max, bonus_left, bonus_right = cls._bonus(plan, perm)
        exact_blocks, dense_columns = cls._exact_blocks(
            (offers, needs), (offer_bounds, need_bounds), blocks, np.dtype(dtype).itemsize
        )
        return cls(
            n=n,
            dtype=dtype,
            canonical=canonical,
            blocks=blocks,
            perm=perm,
            offers=tuple(offers),
            needs=tuple(needs),
            offer_bounds=stacked(offer_bounds, np.int64, (0, blocks + 1)),
            need_bounds=stacked(need_bounds, np.int64, (0, blocks + 1)),
            offer_pos=stacked(offer_pos, np.int32, (0, n)),
            need_pos=stacked(need_pos, np.int32, (0, n)),
            offer_runs=np.ascontiguousarray(np.concatenate(offer_runs) if offer_runs else np.zeros((0, 3)), np.int32),
            offer_run_bounds=stacked(offer_run_bounds, np.int64, (0, blocks + 1)),
            need_runs=np.ascontiguousarray(np.concatenate(need_runs) if need_runs else np.zeros((0, 3)), np.int32),
            need_run_bounds=stacked(need_run_bounds, np.int64, (0, blocks + 1)),
            share=np.ascontiguousarray(plan.shares[perm].T, dtype=dtype).reshape(width, n),
            codes=codes,
            table=table,
            table_max=table_max,
            bonus_left=bonus_left,
            bonus_right=bonus_right,
            is_x=np.ascontiguousarray(plan.is_x[perm]),
            is_y=np.ascontiguousarray(plan.is_y[perm]),
            exact_blocks=exact_blocks,
            dense_columns=dense_columns,
        )

    @staticmethod
    def _exact_blocks(
        sides: tuple[list[Matrix], list[Matrix]],
        bounds: tuple[list[Int64Array], list[Int64Array]],
        blocks: int,
        itemsize: int,
    ) -> tuple[tuple[tuple[tuple[Matrix, ...], ...], ...], tuple[tuple[tuple[Scores, ...], ...], ...]]:
        """Exact vectors' blocks, sliced once (see ``exact_blocks`` and ``dense_columns``); nothing for latent ones."""
        if not sides[0] or not sp.issparse(sides[0][0]):
            return (), ()
        sliced = tuple(
            tuple(
                tuple(sp.csr_matrix(matrix[int(b[k]) : int(b[k + 1])]) for k in range(blocks))
                for matrix, b in zip(side, side_bounds, strict=True)
            )
            for side, side_bounds in zip(sides, bounds, strict=True)
        )
        size = sum(int(m.shape[0]) * int(m.shape[1]) for side in sides for m in side) * itemsize
        if size > DENSE_COLUMNS_BYTES:
            return sliced, ()
        dense = tuple(
            tuple(tuple(np.ascontiguousarray(block.toarray().T) for block in per_block) for per_block in side)
            for side in sliced
        )
        return sliced, dense

    @staticmethod
    def _bonus(
        plan: FusedMatrices, perm: Int64Array
    ) -> tuple[Int32Array, Scores | None, Scores | None, Scores | None, Scores | None]:
        """The bonus as a table over distinct bonus rows (few: sector sets and bridge sides), else factors.

        ``table[p, q]`` is the same product of the same factors as the plan's bonus product of two
        organisations with those rows.
        """
        n, dtype = plan.n, plan.dtype
        left, right = plan.bonus.left, plan.bonus.right
        if left is None or right is None:
            table = np.full((1, 1), plan.bonus.constant, dtype=dtype)
            return np.zeros(n, dtype=np.int32), table, table.max(axis=1), None, None
        distinct, codes = _distinct(np.asarray(left))
        if len(distinct) > TABLE_MAX_CODES:
            return (
                np.arange(n, dtype=np.int32),
                None,
                None,
                np.ascontiguousarray(left[perm]),
                np.ascontiguousarray(right[perm]),
            )
        first = np.zeros(len(distinct), dtype=np.int64)
        first[codes] = np.arange(n)  # a row having each distinct left factor (the right one follows from it)
        table = np.ascontiguousarray(distinct.astype(dtype) @ np.asarray(right)[first].T, dtype=dtype)
        return np.ascontiguousarray(codes[perm], dtype=np.int32), table, table.max(axis=1), None, None
