"""Scoring tiles of pairs from the support layout: what every execution backend runs, and ships to workers.

A tile (rows [r0, r1) as A against columns [c0, c1) as B) is scored one pair of canonical blocks at a
time: one product per dimension over just the rows and columns with support there (BLAS), then the
elementwise work (:mod:`~matchmaker.core.scoring.kernels`). A :class:`TileScorer` holds only the layout
and the few settings the kernel needs, so it is what a cluster backend sends to its workers once.

Every block pair's products are computed by the same calls whatever the tile, so a pair's score does
not depend on the tile size, the order of the tiles, the thread or the machine process that scores it
(given the same BLAS, held to one thread).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from matchmaker.core.scoring import kernels
from matchmaker.core.scoring.buffers import Workspace
from matchmaker.core.scoring.formula import NOISE
from matchmaker.core.scoring.layout import SupportLayout
from matchmaker.core.scoring.query import SMALLEST
from matchmaker.core.scoring.rules import CellRules
from matchmaker.core.scoring.selection import Cells, Tile, Wanted, extract, extract_own_block, kernel_state
from matchmaker.core.scoring.settings import ScoringSettings
from matchmaker.core.vectors import IntArray, Scores


@dataclass(frozen=True)
class TileScorer:
    """Scores blocks and tiles of a population's pairs from its support layout.

    ``kernel`` is "numpy" or "numba" (see :func:`~matchmaker.core.scoring.kernels.choose_kernel`);
    both give the same scores and the same selections. ``rules``, when given, leave pairs out (scored
    0, by population row): see :meth:`restricted`.

    Examples
    --------
    >>> from matchmaker.core.population import Population
    >>> from matchmaker.core.profile import Evidence, Item, Profile
    >>> from matchmaker.core.scoring.selection import Wanted
    >>> claim = lambda text: (Item(description=text, strength=3, evidence=Evidence(background="x")),)
    >>> orgs = [Profile(id=i, name=i, country="JP", kind="startup", sectors=("ai",), offers={"data": claim(o)},
    ...                 needs={"data": claim(n)}) for i, o, n in [("a", "speech data", "gpu time"),
    ...                                                            ("b", "gpu time", "speech data"),
    ...                                                            ("c", "gpu time", "legal advice")]]
    >>> tiles = Population.fit(orgs).scorer().tiles("numpy")
    >>> tiles.block(slice(0, 3), slice(0, 3)).round(3).tolist()
    [[0.0, 1.0, 0.25], [1.0, 0.0, 0.0], [0.25, 0.0, 0.0]]
    >>> rows, cols, scores, flags = tiles.candidates((0, 3, 0, 3), Wanted(1, np.zeros(3), np.zeros(3)))
    >>> sorted(zip(rows.tolist(), cols.tolist(), flags.tolist()))  # (a, b): a's best (1) and b's (2); (a, c): c's
    [(0, 1, 3), (0, 2, 2)]
    """

    layout: SupportLayout
    settings: ScoringSettings
    clamp: bool
    kernel: str = "numpy"
    rules: CellRules | None = None

    def restricted(self, rules: CellRules) -> TileScorer:
        """The same scorer with the pairs ``rules`` exclude scored 0, in blocks and tiles alike."""
        return replace(self, rules=rules)

    @property
    def n(self) -> int:
        return self.layout.n

    @property
    def fast(self) -> bool:
        """Whether candidates are merged with the compiled kernel too."""
        return self.kernel == "numba"

    @property
    def dtype(self) -> np.dtype[Any]:
        dtype: np.dtype[Any] = np.dtype(self.layout.dtype)
        return dtype

    @property
    def uses_blas(self) -> bool:
        """Whether scoring calls BLAS: latent vectors' products, or a bonus product per block pair (exact
        vectors with a bonus table use none; see :func:`~matchmaker.core.scoring.execution.one_blas_thread`)."""
        return not self.layout.exact or self.layout.table is None

    # -- the products of a block pair ------------------------------------------------------------------

    def products(self, rb: int, cb: int, workspace: Workspace) -> tuple[Scores, IntArray, IntArray]:
        """Every dimension's products of block ``rb`` (as A) against block ``cb`` (as B), side by side.

        Returns the flat buffer and, per direction (0: A's offers against B's needs, 1: A's needs
        against B's offers) and dimension, where its (rows x columns) block starts and its width.
        """
        lay = self.layout
        # Rows (A's offering, then A's needing) and columns (B's needing, then B's offering) per dimension.
        row_bounds = (lay.offer_bounds, lay.need_bounds)
        col_bounds = (lay.need_bounds, lay.offer_bounds)
        rows = np.stack([b[:, rb + 1] - b[:, rb] for b in row_bounds])
        widths = np.stack([b[:, cb + 1] - b[:, cb] for b in col_bounds])
        sizes = (rows * widths).ravel()
        offsets = (np.cumsum(sizes) - sizes).reshape(rows.shape)
        flat = workspace.buffer(0, 1, max(1, int(sizes.sum())), self.dtype).reshape(-1)
        sides = ((lay.offers, lay.needs), (lay.needs, lay.offers))
        blocks, columns = lay.exact_blocks, lay.dense_columns
        kinds = ((0, 1), (1, 0))  # (row side, column side): 0 offers, 1 needs
        dense = not lay.exact
        for direction, (row_side, col_side) in enumerate(sides):
            for d in range(lay.dimensions):
                r, c = int(rows[direction, d]), int(widths[direction, d])
                if not (r and c):
                    continue
                start = int(offsets[direction, d])
                out = flat[start : start + r * c].reshape(r, c)
                if dense:
                    a = row_side[d][row_bounds[direction][d, rb] : row_bounds[direction][d, rb + 1]]
                    b = col_side[d][col_bounds[direction][d, cb] : col_bounds[direction][d, cb + 1]]
                    np.matmul(a, b.T, out=out)
                elif columns:  # exact vectors: CSR rows against dense columns
                    row_kind, col_kind = kinds[direction]
                    out[...] = blocks[row_kind][d][rb] @ columns[col_kind][d][cb]
                else:  # exact vectors too large for dense columns: a sparse product, densified
                    row_kind, col_kind = kinds[direction]
                    out[...] = (blocks[row_kind][d][rb] @ blocks[col_kind][d][cb].T).toarray()
        return flat, offsets, widths

    def bonus(self, rb: int, cb: int) -> tuple[Scores, Any, Any, Scores]:
        """The bonus of a block pair: (table, row codes, column codes, each row's largest entry)."""
        lay = self.layout
        rows, cols = lay.block_rows(rb), lay.block_rows(cb)
        rbase, cbase = rb * lay.canonical, cb * lay.canonical
        if lay.table is not None and lay.table_max is not None:
            row_codes = lay.codes[rbase : rbase + rows]
            return lay.table, row_codes, lay.codes[cbase : cbase + cols], lay.table_max[row_codes]
        assert lay.bonus_left is not None and lay.bonus_right is not None
        table = np.ascontiguousarray(lay.bonus_left[rbase : rbase + rows] @ lay.bonus_right[cbase : cbase + cols].T)
        return table, np.arange(rows, dtype=np.int32), np.arange(cols, dtype=np.int32), table.max(axis=1)

    def _arrays(self) -> tuple[Any, ...]:
        lay = self.layout
        return (
            lay.offer_pos,
            lay.need_pos,
            lay.offer_runs,
            lay.offer_run_bounds,
            lay.need_runs,
            lay.need_run_bounds,
            lay.share,
            lay.perm,
            lay.is_x,
            lay.is_y,
        )

    def _rules(self) -> tuple[Any, ...]:
        return (self.rules or _NO_RULES).arrays(self.rules is not None)

    def _numba(self) -> Any:
        found = kernels.numba_kernels()
        assert found is not None, "the numba kernel was chosen without numba installed"
        return found

    # -- scores ----------------------------------------------------------------------------------------

    def block(
        self,
        rows: slice | IntArray,
        cols: slice | IntArray,
        *,
        workspace: Workspace | None = None,
        cross_border_only: bool = False,
    ) -> Scores:
        """Scores of ``rows`` (as A) against ``cols`` (as B), computed per canonical block pair."""
        workspace = workspace or Workspace()
        row_index = np.arange(self.n)[rows]
        col_index = np.arange(self.n)[cols]
        # Where each population row goes in the output (-1: not asked); an index array may repeat rows,
        # so each distinct one is scored once and then copied to its places.
        row_place, row_first = self._places(row_index)
        col_place, col_first = self._places(col_index)
        shape = [
            index.size if first is None else int(first.max(initial=-1)) + 1
            for index, first in ((row_index, row_first), (col_index, col_first))
        ]
        out = np.zeros(tuple(shape), dtype=self.dtype)
        if not out.size:
            return np.zeros((row_index.size, col_index.size), dtype=self.dtype)
        lay = self.layout
        for rb in np.unique(row_index // lay.canonical):
            out_rows = row_place[lay.perm[rb * lay.canonical : rb * lay.canonical + lay.block_rows(int(rb))]]
            if (out_rows < 0).all():
                continue
            for cb in np.unique(col_index // lay.canonical):
                out_cols = col_place[lay.perm[cb * lay.canonical : cb * lay.canonical + lay.block_rows(int(cb))]]
                if (out_cols >= 0).any():
                    self._write(int(rb), int(cb), out_rows, out_cols, out, workspace, cross_border_only)
        if row_first is not None:
            out = out[row_first]
        if col_first is not None:
            out = out[:, col_first]
        return out

    def _places(self, index: IntArray) -> tuple[IntArray, IntArray | None]:
        unique, inverse = np.unique(index, return_inverse=True)
        place = np.full(self.n, -1, dtype=np.int64)
        if unique.size == index.size:
            place[index] = np.arange(index.size)
            return place, None
        place[unique] = np.arange(unique.size)
        return place, inverse.ravel()

    def _write(
        self,
        rb: int,
        cb: int,
        out_rows: IntArray,
        out_cols: IntArray,
        out: Scores,
        workspace: Workspace,
        cross_only: bool,
    ) -> None:
        """Write block pair (rb, cb) into ``out[out_rows[i], out_cols[j]]`` (by position; -1: not written)."""
        lay = self.layout
        rows, cols = lay.block_rows(rb), lay.block_rows(cb)
        products, offsets, widths = self.products(rb, cb, workspace)
        if self.kernel == "numba":
            table, row_codes, col_codes, _ = self.bonus(rb, cb)
            self._numba().block_scores(
                rb,
                cb,
                self.layout.canonical,
                rows,
                cols,
                products,
                offsets,
                widths,
                self._arrays(),
                table,
                row_codes,
                col_codes,
                _combiner_code(self.settings),
                self.clamp,
                cross_only,
                self._rules(),
                self.dtype.type(np.finfo(self.dtype).tiny),
                self.dtype.type(NOISE),
                out_rows,
                out_cols,
                out,
            )
            return
        scores = self._numpy_block(rb, cb, products, offsets, widths, workspace, cross_only)
        keep_rows, keep_cols = np.flatnonzero(out_rows >= 0), np.flatnonzero(out_cols >= 0)
        if keep_rows.size < rows or keep_cols.size < cols:  # some of the block's rows or columns are not asked
            scores = scores[np.ix_(keep_rows, keep_cols)]
        out[np.ix_(out_rows[keep_rows], out_cols[keep_cols])] = scores

    def _numpy_block(
        self,
        rb: int,
        cb: int,
        products: Scores,
        offsets: IntArray,
        widths: IntArray,
        workspace: Workspace,
        cross_only: bool,
        out: Scores | None = None,
    ) -> Scores:
        """Block pair (rb, cb) scored by the numpy kernel, by position (into ``out`` when given)."""
        lay = self.layout
        table, row_codes, col_codes, _ = self.bonus(rb, cb)
        scores = kernels.block_scores(
            lay,
            rb,
            cb,
            products,
            offsets,
            widths,
            (table, row_codes, col_codes),
            self.settings,
            clamp=self.clamp,
            cross_only=cross_only,
            out=out,
            workspace=workspace,
        )
        if self.rules is not None:
            rows, cols = scores.shape
            base = (rb * lay.canonical, cb * lay.canonical)
            keep = self.rules.mask(lay.perm[base[0] : base[0] + rows], lay.perm[base[1] : base[1] + cols])
            np.multiply(scores, keep, out=scores)
        return scores

    @property
    def canonical(self) -> int:
        """Rows per canonical block: the first phase of a run scores the pairs within each block."""
        return self.layout.canonical

    # -- tiles -----------------------------------------------------------------------------------------

    def candidates(
        self,
        tile: Tile,
        wanted: Wanted,
        *,
        workspace: Workspace | None = None,
        cross_border_only: bool = False,
        own_blocks: bool = True,
    ) -> Cells:
        """The cells of ``tile`` that may be among the best ``wanted`` asks for (each unordered pair once).

        ``own_blocks=False`` leaves out the pairs of two organisations in the same canonical block (a
        run scores those first, block by block). numpy scores the whole tile and selects from it
        (:func:`~matchmaker.core.scoring.selection.extract`); numba keeps the candidates while it
        scores. Either way every cell among the best is kept, so merging gives the same answer. The
        cells come in no particular order (merging sorts them).
        """
        workspace = workspace or Workspace()
        r0, r1, c0, c1 = tile
        if self.kernel != "numba":
            can = self.layout.canonical
            if all(edge % can == 0 or edge == self.n for edge in tile):
                return self._aligned_candidates(tile, wanted, workspace, cross_border_only, own_blocks)
            scores = self.block(slice(r0, r1), slice(c0, c1), workspace=workspace, cross_border_only=cross_border_only)
            if r0 == c0:  # a diagonal tile: each pair once, with the lower index as the row
                scores[workspace.lower(r1 - r0)] = 0.0
            if not own_blocks:
                same = (np.arange(r0, r1) // can)[:, None] == (np.arange(c0, c1) // can)[None, :]
                scores[same] = 0.0
            if r0 == c0 and not wanted.pairs:
                return extract_own_block(scores, tile, wanted)
            return extract(scores, tile, wanted)
        return self._fused_candidates(tile, wanted, workspace, cross_border_only, own_blocks)

    def _aligned_candidates(
        self, tile: Tile, wanted: Wanted, workspace: Workspace, cross_only: bool, own_blocks: bool
    ) -> Cells:
        """numpy's candidates of a tile whose edges are canonical block edges, selected by position.

        Such a tile's positions are a permutation of its rows (and columns): each block pair is scored
        straight into its rectangle of the tile, the selection runs on the tile by position with the
        thresholds permuted alike, and only the selected cells are mapped back to rows. The cells
        selected are the same as by row (selection depends on the scores, not on where they lie).
        """
        lay = self.layout
        can, perm = lay.canonical, lay.perm
        r0, r1, c0, c1 = tile
        scores = workspace.buffer(5, r1 - r0, c1 - c0, self.dtype)
        scored = set(_block_pairs(tile, can, own_blocks))
        for rb in range(r0 // can, (r1 - 1) // can + 1):
            for cb in range(c0 // can, (c1 - 1) // can + 1):
                rows = slice(rb * can - r0, rb * can - r0 + lay.block_rows(rb))
                cols = slice(cb * can - c0, cb * can - c0 + lay.block_rows(cb))
                if (rb, cb) not in scored:  # below a diagonal tile's diagonal, or a block with itself
                    scores[rows, cols] = 0.0
                    continue
                products, offsets, widths = self.products(rb, cb, workspace)
                part = self._numpy_block(rb, cb, products, offsets, widths, workspace, cross_only, scores[rows, cols])
                if rb == cb:  # each pair of the block once, with the lower row as the row
                    order = perm[rb * can : rb * can + lay.block_rows(rb)]
                    part[order[:, None] >= order[None, :]] = 0.0
        row_order, col_order = perm[r0:r1], perm[c0:c1]
        by_position = Wanted(
            wanted.k,
            wanted.rows if wanted.pairs else wanted.rows[row_order - r0],
            None if wanted.cols is None else wanted.cols[col_order - c0],
        )
        if r0 == c0 and not wanted.pairs:
            rows_at, cols_at, values, flags = extract_own_block(scores, tile, by_position)
        else:
            rows_at, cols_at, values, flags = extract(scores, tile, by_position)
        return perm[rows_at], perm[cols_at], values, flags

    def _own_block_candidates(self, block: int, wanted: Wanted, workspace: Workspace, cross_only: bool) -> Cells:
        """A canonical block's own pairs (the first phase of a run): scored whole, then selected."""
        lay = self.layout
        size = lay.block_rows(block)
        scores = workspace.buffer(1, size, size, self.dtype)
        place = np.arange(size, dtype=np.int64)
        self._write(block, block, place, place, scores, workspace, cross_only)
        perm = lay.perm[block * lay.canonical : block * lay.canonical + size]
        # The thresholds by position (the tile's rows are the block's rows in population order).
        floors = np.ascontiguousarray(wanted.rows[perm - block * lay.canonical], dtype=self.dtype)
        dtype = self.dtype
        out = workspace.cells(dtype, size * (size - 1) // 2)
        count = self._numba().own_block_cells(scores, perm, floors, wanted.k, dtype.type(SMALLEST[dtype]), out, 0)
        return out[0][:count].copy(), out[1][:count].copy(), out[2][:count].copy(), out[3][:count].copy()

    def _fused_candidates(
        self, tile: Tile, wanted: Wanted, workspace: Workspace, cross_only: bool, own_blocks: bool
    ) -> Cells:
        compiled = self._numba()
        r0, r1, c0, c1 = tile
        lay = self.layout
        if r0 == c0 and r0 % lay.canonical == 0 and r1 == min(lay.n, r0 + lay.canonical) and not wanted.pairs:
            return self._own_block_candidates(r0 // lay.canonical, wanted, workspace, cross_only)
        dtype = self.dtype
        smallest = dtype.type(SMALLEST[dtype])
        state = kernel_state(wanted, dtype, smallest, diagonal=r0 == c0)
        # Each cell yields at most one entry (its flags say for whom), so the tile's cells are room enough.
        out = workspace.cells(dtype, (r1 - r0) * (c1 - c0))
        count = 0
        for rb, cb in _block_pairs(tile, self.layout.canonical, own_blocks):
            rows, cols = self.layout.block_rows(rb), self.layout.block_rows(cb)
            products, offsets, widths = self.products(rb, cb, workspace)
            table, row_codes, col_codes, row_max = self.bonus(rb, cb)
            count = compiled.block_cells(
                rb,
                cb,
                self.layout.canonical,
                rows,
                cols,
                r0,
                r1,
                c0,
                c1,
                r0 == c0,
                products,
                offsets,
                widths,
                self._arrays(),
                table,
                row_codes,
                col_codes,
                row_max,
                _combiner_code(self.settings),
                self.clamp,
                cross_only,
                self._rules(),
                dtype.type(np.finfo(dtype).tiny),
                dtype.type(NOISE),
                smallest,
                wanted.pairs,
                state,
                out,
                count,
            )
        return out[0][:count].copy(), out[1][:count].copy(), out[2][:count].copy(), out[3][:count].copy()


_NO_RULES = CellRules.none()


def _block_pairs(tile: Tile, canonical: int, own_blocks: bool) -> Iterator[tuple[int, int]]:
    """The canonical block pairs a tile's cells lie in (for a diagonal tile, only those on or above it;
    without ``own_blocks``, not a block with itself)."""
    r0, r1, c0, c1 = tile
    for rb in range(r0 // canonical, (r1 - 1) // canonical + 1):
        for cb in range(c0 // canonical, (c1 - 1) // canonical + 1):
            if cb > rb or (cb == rb and own_blocks):
                yield rb, cb


def _combiner_code(settings: ScoringSettings) -> int:
    found = kernels.numba_kernels()
    assert found is not None
    code: int = found.COMBINER_CODES[settings.combiner]
    return code
