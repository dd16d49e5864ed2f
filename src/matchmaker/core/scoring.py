"""The reciprocal complementarity scorer: matrix algebra over a population, in row blocks.

For organisations A and B and a dimension d:

* ``benefit_d(A->B) = min(1, offers_d[A] . needs_d[B])``: how well what A offers meets what B needs
  (strength-weighted offers against B's importance-weighted average need);
* ``directed(A->B)``: the average of ``benefit_d(A->B)`` over the dimensions, each weighted by its
  dimension weight and by how much B needs it;
* ``reciprocal = combiner(directed(A->B), directed(B->A))``, the harmonic mean by default, so a
  one-sided pairing ranks below a mutual one;
* ``score = reciprocal * (1 + s * sector_fit + x * cross_border) / (1 + s + x)``: sector fit and the
  Japan-India preference scale a match; they never make one from nothing.

How it is computed (the semantics above, exactly):

* the weight of ``benefit_d(A->B)`` in ``directed(A->B)`` is ``c_d[B] = alpha_d m_B,d / sum_e alpha_e m_B,e``,
  so it is folded into B's need vectors: ``c_d[B] * min(1, x) = min(c_d[B], x')`` with ``x' = c_d[B] x``;
* the cap binds only where ``offers_d[A] . needs_d[B] > 1``, which needs ``|offers_d[A]| |needs_d[B]| > 1``
  (need rows are averages of unit vectors, so at most 1; only offer rows summing several items can
  exceed it). All dimensions are therefore one matrix product of offers side by side against scaled
  needs side by side, ``directed(A->B) = left[A] . right[B]``, and the cap is subtracted afterwards,
  ``max(0, x' - c_d[B])``, for the few (row, dimension) pairs where it can bind;
* ``directed(B->A)`` for the same block is ``right[A] . left[B]``: two products per block;
* sector fit and the cross-border flag are one more small product (``bonus_left . bonus_right``),
  with the combiner's constant (2 for the harmonic mean) and ``1 / (1 + s + x)`` folded in;
* all pairs are computed in square tiles of the upper triangle (each unordered pair once, always
  with the lower index as the row), in place, in parallel threads; the best ``k`` per organisation or
  overall are kept by thresholded partial selection with ties resolved by index, so results do not
  depend on the tile size or the thread count.

Latent (LSA) vectors are float32 and can have small negative similarities; directed benefits are
clipped at 0 as for exact vectors. Exact vectors are sparse float64.
"""

from __future__ import annotations

import math
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]  # installed with scikit-learn

from matchmaker.core.errors import SettingsError
from matchmaker.core.vectoriser import Matrix, ProfileMatrices

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Scores = NDArray[np.floating[Any]]  # float32 for latent vectors, float64 for exact ones


def _harmonic(a: FloatArray, b: FloatArray) -> FloatArray:
    total = a + b
    return np.divide(2.0 * a * b, total, out=np.zeros_like(total), where=total > 0)


COMBINERS: dict[str, Callable[[FloatArray, FloatArray], FloatArray]] = {
    "harmonic": _harmonic,
    "geometric": lambda a, b: np.sqrt(a * b),
    "arithmetic": lambda a, b: (a + b) / 2.0,
    "min": np.minimum,
}
COMBINER_DESCRIPTIONS = {
    "harmonic": "harmonic mean of both directions (2ab/(a+b)): mutual benefit required",
    "geometric": "geometric mean of both directions (sqrt(ab))",
    "arithmetic": "arithmetic mean of both directions ((a+b)/2): one-sided pairs still score",
    "min": "the weaker direction (min(a, b))",
}


@dataclass(frozen=True)
class ScoringSettings:
    """Weights per dimension and per term, and how the two directions combine.

    Dimensions not named in ``dimension_weights`` weigh 1.

    >>> ScoringSettings(sector_weight=-1).validated(("data",))
    Traceback (most recent call last):
    ...
    matchmaker.core.errors.SettingsError: sector weight must be a finite number >= 0, got -1
    """

    dimension_weights: Mapping[str, float] = field(default_factory=dict)
    sector_weight: float = 0.25
    cross_border_weight: float = 0.0
    combiner: str = "harmonic"
    bridge: tuple[str, str] = ("JP", "IN")

    def validated(self, dimensions: Sequence[str]) -> ScoringSettings:
        """Return self if every setting is acceptable for ``dimensions``; else SettingsError naming the first."""
        if self.combiner not in COMBINERS:
            raise SettingsError(f"unknown combiner {self.combiner!r}; accepted: {', '.join(COMBINERS)}")
        for name in self.dimension_weights:
            if name not in dimensions:
                raise SettingsError(f"unknown dimension {name!r} in weights; accepted: {', '.join(dimensions)}")
        named = [(f"weight of dimension {d!r}", w) for d, w in self.dimension_weights.items()]
        for label, value in [
            *named,
            ("sector weight", self.sector_weight),
            ("cross-border weight", self.cross_border_weight),
        ]:
            if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise SettingsError(f"{label} must be a finite number >= 0, got {value!r}")
        if not any(self.weight(d) > 0 for d in dimensions):
            raise SettingsError("at least one dimension weight must be above 0; all are 0")
        return self

    def weight(self, dimension: str) -> float:
        return float(self.dimension_weights.get(dimension, 1.0))

    def only(self, dimension: str, dimensions: Sequence[str]) -> ScoringSettings:
        """The same settings scoring ``dimension`` alone."""
        if dimension not in dimensions:
            raise SettingsError(f"unknown dimension {dimension!r}; accepted: {', '.join(dimensions)}")
        return replace(
            self, dimension_weights={d: (self.weight(d) or 1.0) if d == dimension else 0.0 for d in dimensions}
        )


@dataclass(frozen=True)
class Context:
    """What scoring needs besides the vectors: each organisation's home country."""

    countries: NDArray[np.str_]


def _dense(product: Matrix) -> Scores:
    return product.toarray() if sp.issparse(product) else np.asarray(product)


def _safe_divide(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)


def cross_border_mask(
    countries_a: NDArray[np.str_], countries_b: NDArray[np.str_], bridge: tuple[str, str]
) -> NDArray[np.bool_]:
    """True where one side's home is bridge[0] and the other's bridge[1] (outer comparison)."""
    x, y = bridge
    a, b = countries_a[:, None], countries_b[None, :]
    mask: NDArray[np.bool_] = ((a == x) & (b == y)) | ((a == y) & (b == x))
    return mask


@dataclass(frozen=True)
class PairComponents:
    """Every term of the score for a set of pairs (arrays of equal shape)."""

    per_dimension_ab: FloatArray  # (..., D): benefit_d(A->B)
    per_dimension_ba: FloatArray
    directed_ab: FloatArray
    directed_ba: FloatArray
    reciprocal: FloatArray
    sector_fit: FloatArray
    cross_border: NDArray[np.bool_]
    score: FloatArray


def _alpha(settings: ScoringSettings, dimensions: Sequence[str]) -> FloatArray:
    return np.array([settings.weight(d) for d in dimensions], dtype=np.float64)


def need_shares(need_mass: FloatArray, alpha: FloatArray) -> FloatArray:
    """``c[b, d]``: the share of dimension d in b's directed benefit (its weighted need there, normalised).

    >>> need_shares(np.array([[1.0, 1 / 3], [0.0, 0.0]]), np.array([1.0, 2.0])).round(3).tolist()
    [[0.6, 0.4], [0.0, 0.0]]
    """
    weighted = need_mass * alpha
    total = weighted.sum(axis=1, keepdims=True)
    shares: FloatArray = np.divide(weighted, total, out=np.zeros_like(weighted), where=total > 0)
    return shares


# -- the prepared computation ---------------------------------------------------------------------------

CANONICAL = 512  # rows per canonical block: every dense product is computed in these fixed blocks
_FULL_BLOCK = 0.3  # above this share of capped columns in a block, its cap correction is done whole
DENSE_EXACT_BYTES = 256 * 1024 * 1024  # exact vectors: dense column blocks (sparse x dense products) up to this
_BUILTIN_COMBINERS = dict(COMBINERS)
# In-place form of each built-in combiner: the constant it needs (folded into the bonus product).
_FOLDED = {"harmonic": 2.0, "geometric": 1.0, "arithmetic": 0.5, "min": 1.0}


def _combiner(name: str) -> Callable[[Scores, Scores], Scores]:
    """The registered combiner, for float32 or float64 arrays (the registry is typed for float64)."""
    return COMBINERS[name]  # type: ignore[return-value]


def _folded_combiner(name: str) -> str | None:
    """``name`` if its in-place kernel computes it (the registry entry is still the built-in one)."""
    return name if name in _FOLDED and COMBINERS.get(name) is _BUILTIN_COMBINERS.get(name) else None


def _row_norms(matrix: Matrix) -> FloatArray:
    if sp.issparse(matrix):
        return np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1), dtype=np.float64).ravel())
    norms: FloatArray = np.sqrt(np.einsum("ij,ij->i", matrix, matrix, dtype=np.float64))
    return norms


def _product(a: Matrix, b: Matrix, out: Scores | None = None) -> Scores:
    """``a @ b.T`` as a dense array (written into ``out`` when the inputs are dense)."""
    if sp.issparse(a):
        return _dense(a @ b.T)
    return np.matmul(a, b.T, out=out)


class _Workspace:
    """One thread's reusable tile buffers, so a tile allocates nothing large."""

    def __init__(self) -> None:
        self._flat: dict[tuple[int, Any], Scores] = {}
        self._lower: dict[int, NDArray[np.bool_]] = {}

    def buffer(self, slot: int, rows: int, cols: int, dtype: Any) -> Scores:
        flat = self._flat.get((slot, dtype))
        if flat is None or flat.size < rows * cols:
            flat = self._flat[(slot, dtype)] = np.empty(rows * cols, dtype=dtype)
        return flat[: rows * cols].reshape(rows, cols)

    def lower(self, size: int) -> NDArray[np.bool_]:
        """True on and below the diagonal of a size x size tile."""
        mask = self._lower.get(size)
        if mask is None:
            mask = self._lower[size] = np.tril(np.ones((size, size), dtype=bool))
        return mask


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
    bonus_left: Scores | None
    bonus_right: Scores | None
    bonus_constant: float
    combiner: str
    folded: bool
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
        alpha = _alpha(settings, dimensions)
        shares = need_shares(m.need_mass, alpha)
        latent = not sp.issparse(m.offers[0]) if m.offers else False
        dtype = np.dtype(np.float32) if latent and np.asarray(m.offers[0]).dtype == np.float32 else np.dtype(np.float64)
        used = [
            d for d in range(len(dimensions)) if alpha[d] > 0 and shares[:, d].any() and _row_norms(m.offers[d]).any()
        ]
        if latent:
            width = np.asarray(m.offers[0]).shape[1] if m.offers else 1
            left: Matrix = np.empty((n, max(1, len(used)) * width), dtype=dtype)
            right: Matrix = np.zeros_like(left)
            for j, d in enumerate(used):
                left[:, j * width : (j + 1) * width] = m.offers[d]
                np.multiply(m.needs[d], shares[:, d, None], out=right[:, j * width : (j + 1) * width], casting="unsafe")
            if not used:
                left[:] = 0.0
            right_parts: list[Matrix] = [right[:, j * width : (j + 1) * width] for j in range(len(used))]
        else:
            right_parts = [sp.csr_matrix(sp.diags(shares[:, d]) @ m.needs[d]) for d in used]
            left = sp.hstack([m.offers[d] for d in used], format="csr") if used else sp.csr_matrix((n, 1))
            right = sp.hstack(right_parts, format="csr") if used else sp.csr_matrix((n, 1))
        dense_columns = not latent and bool(used) and 2 * n * right.shape[1] * 8 <= DENSE_EXACT_BYTES
        capped = []
        for j, d in enumerate(used):
            has_need = shares[:, d] > 0
            need_norm = _row_norms(m.needs[d])[has_need].max(initial=0.0)
            # Products above 1 by rounding alone (a single central item meeting an identical need) are
            # left uncapped: 1e-6 is below anything a ranking or a printed score can show.
            rows = np.flatnonzero(_row_norms(m.offers[d]) * need_norm > 1.0 + 1e-6)
            if rows.size:
                position = np.full(n, -1, dtype=np.int64)
                position[rows] = np.arange(rows.size)
                offers = m.offers[d][rows]
                capped.append(
                    _Capped(
                        rows.astype(np.int64),
                        position,
                        np.ascontiguousarray(offers) if latent else offers,
                        right_parts[j],
                        shares[:, d].astype(dtype),
                        j * m.offers[d].shape[1],
                        left[:, j * m.offers[d].shape[1] : (j + 1) * m.offers[d].shape[1]] if latent else None,
                    )
                )
        name = settings.combiner
        folded = _folded_combiner(name) is not None
        s, x = settings.sector_weight, settings.cross_border_weight
        scale = (_FOLDED[name] if folded else 1.0) / (1.0 + s + x)
        bx, by = settings.bridge
        is_x, is_y = ctx.countries == bx, ctx.countries == by
        left_cols: list[Scores] = [np.full((n, 1), scale)]
        right_cols: list[Scores] = [np.ones((n, 1))]
        if s > 0:
            sectors = _dense(m.sectors).astype(np.float64)
            left_cols.append(sectors * (s * scale))
            right_cols.append(sectors)
        if x > 0:
            left_cols += [is_x[:, None] * (x * scale)] + ([is_y[:, None] * (x * scale)] if bx != by else [])
            right_cols += [is_y[:, None].astype(np.float64)] + ([is_x[:, None].astype(np.float64)] if bx != by else [])
        bonus_left: Scores | None = None
        bonus_right: Scores | None = None
        if len(left_cols) > 1:
            bonus_left = np.ascontiguousarray(np.hstack(left_cols), dtype=dtype)
            bonus_right = np.ascontiguousarray(np.hstack(right_cols), dtype=dtype)
        return cls(
            n=n,
            dtype=dtype,
            left=left,
            right=right,
            capped=tuple(capped),
            bonus_left=bonus_left,
            bonus_right=bonus_right,
            bonus_constant=scale,
            combiner=name,
            folded=folded,
            clamp=latent,
            is_x=is_x,
            is_y=is_y,
            dense_columns=dense_columns,
        )

    def block(
        self,
        rows: slice | IntArray,
        cols: slice | IntArray,
        *,
        workspace: _Workspace | None = None,
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
        if self.clamp:  # latent similarities can be slightly negative; a directed benefit is not
            np.maximum(ab, 0.0, out=ab)
            np.maximum(ba, 0.0, out=ba)
        result, spare = self._combine(ab, ba, buffer(2))
        if self.bonus_left is not None and self.bonus_right is not None:
            if spare is None:
                spare = np.empty((n_rows, n_cols), dtype=self.dtype) if dense else None
            if dense and isinstance(rows, slice) and isinstance(cols, slice):
                assert spare is not None
                bonus = self._canonical_product(
                    self.bonus_left, self.bonus_right, range(self.n)[rows], range(self.n)[cols], spare
                )
            else:
                bonus = _product(self.bonus_left[rows], self.bonus_right[cols], spare)
            np.multiply(result, bonus, out=result)
        elif self.bonus_constant != 1.0:
            np.multiply(result, self.dtype.type(self.bonus_constant), out=result)
        if cross_border_only:
            x_rows, y_rows = self.is_x[rows][:, None], self.is_y[rows][:, None]
            np.multiply(result, (x_rows & self.is_y[cols]) | (y_rows & self.is_x[cols]), out=result)
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

    def _combine(self, ab: Scores, ba: Scores, spare: Scores | None) -> tuple[Scores, Scores | None]:
        """The combined directions in place (without the folded constant), and a free buffer."""
        name = self.combiner if self.folded else None
        if name == "harmonic":
            out = np.multiply(ab, ba, out=spare)
            np.add(ab, ba, out=ab)
            np.maximum(ab, np.finfo(ab.dtype).tiny, out=ab)  # both 0 -> 0 / tiny = 0
            np.divide(out, ab, out=out)
            return out, ab
        if name == "geometric":
            np.multiply(ab, ba, out=ab)
            return np.sqrt(ab, out=ab), ba
        if name == "arithmetic":
            return np.add(ab, ba, out=ab), ba
        if name == "min":
            return np.minimum(ab, ba, out=ab), ba
        return np.asarray(_combiner(self.combiner)(ab, ba), dtype=self.dtype), None


def score_block(
    m: ProfileMatrices, rows: slice | IntArray, ctx: Context, settings: ScoringSettings, dimensions: Sequence[str]
) -> FloatArray:
    """Scores of the organisations in ``rows`` (as A) against everyone (as B): shape (len(rows), n).

    Examples
    --------
    >>> from matchmaker.core.population import Population
    >>> from matchmaker.core.profile import Evidence, Item, Profile
    >>> claim = lambda text: (Item(description=text, strength=3, evidence=Evidence(background="x")),)
    >>> orgs = [Profile(id=i, name=i, country="JP", kind="startup", sectors=("ai",), offers={"data": claim(o)},
    ...                 needs={"data": claim(n)}) for i, o, n in [("a", "speech data", "gpu time"),
    ...                                                            ("b", "gpu time", "speech data")]]
    >>> pop = Population.fit(orgs)
    >>> score_block(pop.matrices, slice(0, 2), pop.context, pop.settings, pop.dimensions).round(3).tolist()
    [[0.0, 1.0], [1.0, 0.0]]
    """
    plan = ScoringPlan.build(m, ctx, settings, dimensions)
    return np.asarray(plan.block(rows, slice(None)), dtype=np.float64)


# -- one organisation against everyone --------------------------------------------------------------------


def _matvec(matrix: Matrix, vector: Scores) -> Scores:
    if sp.issparse(matrix):
        return np.asarray(matrix @ vector).ravel()
    # einsum's own loop, not BLAS: as fast for this memory-bound product, single-threaded (BLAS threads
    # stall for milliseconds on a busy machine) and free of global thread settings a server shares.
    product: Scores = np.einsum("ij,j->i", matrix, vector)
    return product


def _dense_row(matrix: Matrix, row: int) -> Scores:
    if sp.issparse(matrix):  # straight from the CSR arrays: scipy's row indexing costs far more here
        out = np.zeros(matrix.shape[1], dtype=matrix.dtype)
        start, stop = matrix.indptr[row], matrix.indptr[row + 1]
        out[matrix.indices[start:stop]] = matrix.data[start:stop]
        return out
    return np.asarray(matrix[row])


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
        offer_rows = tuple(np.flatnonzero(_row_norms(x) > 0) for x in chunk.offers)
        need_rows = tuple(np.flatnonzero(chunk.need_mass[:, d] > 0) for d in range(len(chunk.needs)))
        dtype = np.asarray(chunk.offers[0]).dtype if chunk.offers and not sp.issparse(chunk.offers[0]) else np.float64
        return cls(
            offer_rows,
            tuple(np.ascontiguousarray(x[r]) for x, r in zip(chunk.offers, offer_rows, strict=True)),
            need_rows,
            tuple(np.ascontiguousarray(x[r]) for x, r in zip(chunk.needs, need_rows, strict=True)),
            *_distinct_rows(_dense(chunk.sectors).astype(dtype)),
            np.stack([_row_norms(x) for x in chunk.offers]).astype(dtype),
            np.stack([_row_norms(x) for x in chunk.needs]).astype(dtype),
        )


def _distinct_rows(matrix: Scores) -> tuple[Scores, NDArray[np.intp]]:
    distinct, codes = np.unique(matrix, axis=0, return_inverse=True)
    return np.ascontiguousarray(distinct), codes.ravel().astype(np.intp)


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
        self.alpha = _alpha(settings, dimensions)
        self.shares = (
            np.concatenate([need_shares(c.need_mass, self.alpha) for c in self.chunks]) if shares is None else shares
        )
        self.latent = bool(self.own.offers) and not sp.issparse(self.own.offers[0])
        self.dtype: Any = (
            np.float32 if self.latent and np.asarray(self.own.offers[0]).dtype == np.float32 else np.float64
        )
        self.supports = supports if supports is not None and all(s is not None for s in supports) else None
        self.dims = [int(d) for d in np.flatnonzero(self.alpha > 0)]
        self.folded = _folded_combiner(settings.combiner)
        s, x = settings.sector_weight, settings.cross_border_weight
        self.scale = (2.0 if self.folded == "harmonic" else 1.0) / (1.0 + s + x)

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
            offer = _dense_row(self.own.offers[d], self.local).astype(self.dtype, copy=False)
            if offer.any():
                forward = self._products(False, d, offer, rows)
                np.minimum(forward, 1.0, out=forward)
                share = self.shares[:, d] if rows is None else self.shares[rows, d]
                np.multiply(forward, share, out=forward, casting="unsafe")
                ab += forward
        return ab

    def backward(self, rows: IntArray | None = None) -> Scores:
        """directed(B -> A) before clipping: what each B offers against A's needs."""
        ba = np.zeros(self.n if rows is None else rows.size, dtype=self.dtype)
        for d in self.dims:
            if self.shares[self.row, d] > 0:
                need = _dense_row(self.own.needs[d], self.local).astype(self.dtype, copy=False)
                backward = self._products(True, d, need, rows)
                np.minimum(backward, 1.0, out=backward)
                np.multiply(backward, self.dtype(self.shares[self.row, d]), out=backward)
                ba += backward
        return ba

    def backward_bound(self) -> Scores:
        """An upper bound of ``backward()`` from vector lengths alone (|x . y| <= |x| |y|), inflated for rounding."""
        assert self.supports is not None
        bound = np.zeros(self.n, dtype=self.dtype)
        for d in self.dims:
            share = self.shares[self.row, d]
            if share > 0:
                reach = float(np.linalg.norm(_dense_row(self.own.needs[d], self.local))) * (1.0 + 1e-4)
                lengths = np.concatenate([s.offer_norms[d] for s in self.supports if s is not None])
                bound += np.minimum(lengths * self.dtype(reach), 1.0) * self.dtype(share)
        return bound

    def forward_bound(self) -> Scores:
        """An upper bound of ``forward()`` from vector lengths alone, inflated for rounding."""
        assert self.supports is not None
        bound = np.zeros(self.n, dtype=self.dtype)
        for d in self.dims:
            reach = float(np.linalg.norm(_dense_row(self.own.offers[d], self.local))) * (1.0 + 1e-4)
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
            if _dense_row(self.own.offers[d], self.local).any():
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
            sector_row = _dense_row(self.own.sectors, self.local).astype(self.dtype)
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
            bonus += cross_border_mask(self.ctx.countries[self.row : self.row + 1], countries, self.settings.bridge)[
                0
            ] * self.dtype(x * self.scale)
        return bonus

    def combine(self, ab: Scores, ba: Scores, bonus: Scores) -> Scores:
        """The score from both directions and the bonus (``ab`` and ``ba`` are overwritten)."""
        if self.latent:
            np.maximum(ab, 0.0, out=ab)
            np.maximum(ba, 0.0, out=ba)
        if self.folded == "harmonic":  # ab * ba / (ab + ba) in place; the 2 is folded into the bonus
            product = np.multiply(ab, ba)
            np.add(ab, ba, out=ab)
            np.maximum(ab, np.finfo(self.dtype).tiny, out=ab)
            reciprocal = np.divide(product, ab, out=product)
        else:
            reciprocal = np.asarray(_combiner(self.settings.combiner)(ab, ba), dtype=self.dtype)
        return np.multiply(reciprocal, bonus, out=reciprocal)


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

    Examples
    --------
    >>> from matchmaker.core.population import Population
    >>> from matchmaker.core.profile import Evidence, Item, Profile
    >>> claim = lambda text: (Item(description=text, strength=3, evidence=Evidence(background="x")),)
    >>> orgs = [Profile(id=i, name=i, country="JP", kind="startup", sectors=("ai",), offers={"data": claim(o)},
    ...                 needs={"data": claim(n)}) for i, o, n in [("a", "speech data", "gpu time"),
    ...                                                            ("b", "gpu time", "speech data")]]
    >>> pop = Population.fit(orgs)
    >>> score_row(pop.matrices, 0, pop.context, pop.settings, pop.dimensions).round(3).tolist()
    [0.0, 1.0]
    """
    query = _OneAgainstAll(parts, row, ctx, settings, dimensions, shares, supports)
    return query.combine(query.forward(), query.backward(), query.bonus())


def _rowwise_dot(left: Matrix, right: Matrix) -> FloatArray:
    if sp.issparse(left):
        return np.asarray(left.multiply(right).sum(axis=1), dtype=np.float64).ravel()
    dots: FloatArray = np.einsum("ij,ij->i", left, right, dtype=np.float64)
    return dots


def pair_components(
    m: ProfileMatrices, a: IntArray, b: IntArray, ctx: Context, settings: ScoringSettings, dimensions: Sequence[str]
) -> PairComponents:
    """Every term of the score for the pairs (a[k], b[k]), in float64; agrees with ``score_block``.

    ``per_dimension_*`` are the benefits clipped to [0, 1]; the directed benefits sum them capped at
    1 (latent vectors' small negative similarities included) and are then clipped at 0, as the matrix
    computation does.

    Examples
    --------
    >>> from matchmaker.core.population import Population
    >>> from matchmaker.core.profile import Evidence, Item, Profile
    >>> claim = lambda text: (Item(description=text, strength=3, evidence=Evidence(background="x")),)
    >>> orgs = [Profile(id=i, name=i, country="JP", kind="startup", sectors=("ai",), offers={"data": claim(o)},
    ...                 needs={"data": claim(n)}) for i, o, n in [("a", "speech data", "gpu time"),
    ...                                                            ("b", "gpu time", "speech data")]]
    >>> pop = Population.fit(orgs)
    >>> parts = pair_components(pop.matrices, np.array([0]), np.array([1]), pop.context, pop.settings,
    ...                         pop.dimensions)
    >>> float(parts.directed_ab[0]), float(parts.score[0]), bool(parts.cross_border[0])
    (1.0, 1.0, False)
    """
    alpha = _alpha(settings, dimensions)
    raw_ab = np.zeros((len(a), len(dimensions)))
    raw_ba = np.zeros((len(a), len(dimensions)))
    for d in range(len(dimensions)):
        raw_ab[:, d] = _rowwise_dot(m.offers[d][a], m.needs[d][b])
        raw_ba[:, d] = _rowwise_dot(m.offers[d][b], m.needs[d][a])
    share_b, share_a = need_shares(m.need_mass[b], alpha), need_shares(m.need_mass[a], alpha)
    ab = np.maximum((np.minimum(raw_ab, 1.0) * share_b).sum(axis=1), 0.0)
    ba = np.maximum((np.minimum(raw_ba, 1.0) * share_a).sum(axis=1), 0.0)
    sector = _rowwise_dot(m.sectors[a], m.sectors[b])
    x, y = settings.bridge
    ca, cb = ctx.countries[a], ctx.countries[b]
    cross = ((ca == x) & (cb == y)) | ((ca == y) & (cb == x))
    reciprocal = np.asarray(COMBINERS[settings.combiner](ab, ba), dtype=np.float64)
    s, w = settings.sector_weight, settings.cross_border_weight
    score = reciprocal * (1.0 + s * sector + w * cross) / (1.0 + s + w)
    return PairComponents(
        np.clip(raw_ab, 0.0, 1.0),
        np.clip(raw_ba, 0.0, 1.0),
        ab,
        ba,
        reciprocal,
        sector,
        np.asarray(cross, dtype=bool),
        score,
    )


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


def top_partners(
    m: ProfileMatrices | Sequence[ProfileMatrices],
    row: int,
    ctx: Context,
    settings: ScoringSettings,
    dimensions: Sequence[str],
    k: int,
    allowed: NDArray[np.bool_] | None = None,
    *,
    shares: FloatArray | None = None,
    supports: Sequence[RowSupport | None] | None = None,
    prune_min_rows: int | None = None,
) -> IntArray:
    """The best partners of organisation ``row``: indices by descending score, ties by index, score > 0.

    From ``prune_min_rows`` rows (default ``PRUNE_MIN_ROWS``) one direction is bounded rather than
    scored for everyone (``_top_partners_pruned``); the result is the same either way.

    Examples
    --------
    >>> from matchmaker.core.population import Population
    >>> from matchmaker.core.profile import Evidence, Item, Profile
    >>> claim = lambda text: (Item(description=text, strength=3, evidence=Evidence(background="x")),)
    >>> orgs = [Profile(id=i, name=i, country="JP", kind="startup", sectors=("ai",), offers={"data": claim(o)},
    ...                 needs={"data": claim(n)}) for i, o, n in [("a", "speech data", "gpu time"),
    ...                                                            ("b", "gpu time", "speech data"),
    ...                                                            ("c", "gpu time", "legal advice")]]
    >>> pop = Population.fit(orgs)
    >>> top_partners(pop.matrices, 0, pop.context, pop.settings, pop.dimensions, 5).tolist()
    [1]
    """
    query = _OneAgainstAll(m, row, ctx, settings, dimensions, shares, supports)
    threshold = PRUNE_MIN_ROWS if prune_min_rows is None else prune_min_rows
    if query.supports is not None and query.folded is not None and query.n >= threshold:
        found = _top_partners_pruned(query, k, allowed)
        if found is not None:
            return found
    scores = query.combine(query.forward(), query.backward(), query.bonus())
    scores[row] = 0.0
    if allowed is not None:
        scores = np.where(allowed, scores, 0.0)
    return _top_indices(scores, k)[:k]


def _top_partners_pruned(query: _OneAgainstAll, k: int, allowed: NDArray[np.bool_] | None) -> IntArray | None:
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
    first = np.argpartition(bound, n - first_size)[n - first_size :] if first_size < n else np.arange(n)
    first = np.sort(first[bound[first] > 0])
    scored = exact(first)
    cut = np.partition(scored, scored.size - k)[scored.size - k] if scored.size >= k else 0.0
    rest = np.flatnonzero(bound >= max(cut, _SMALLEST[np.dtype(query.dtype)]))
    rest = rest[~np.isin(rest, first, assume_unique=True)]
    if rest.size > n // 4:
        return None  # the bound prunes little here: score everyone
    scores = np.zeros(n, dtype=query.dtype)
    scores[np.concatenate([first, rest])] = np.concatenate([scored, exact(rest)])
    return _top_indices(scores, k)[:k]


# -- all pairs, in tiles ----------------------------------------------------------------------------------

TILE_MAX = 1024  # rows (and columns) per tile: large enough for efficient products, small enough for cache
_CELL_BYTES = 64  # working memory per tile cell and worker: three score buffers, masks, candidates


def _workers() -> int:
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        available = os.cpu_count() or 1
    return max(1, min(available, 8))


def block_rows_for(n: int, memory_budget_mb: float, *, workers: int = 1) -> int:
    """Rows (and columns) per tile so every worker's tile buffers together fit the memory budget.

    A tile of t x t pairs needs about ``_CELL_BYTES`` per pair and worker (score buffers, masks and
    candidates); the fused matrices themselves are not part of the budget. The side is a multiple of
    ``CANONICAL`` (smaller tiles would recompute canonical blocks), capped at ``TILE_MAX`` (larger tiles
    only lose cache locality) and at ``n``; ``CANONICAL`` rows is the floor whatever the budget
    (``CANONICAL**2 * _CELL_BYTES`` = 16 MiB a worker).

    >>> block_rows_for(100_000, 512, workers=2)
    1024
    >>> block_rows_for(100_000, 64, workers=2)
    512
    >>> block_rows_for(300, 512)
    300
    >>> block_rows_for(1000, 512, workers=2)
    512
    """
    side = math.isqrt(int(memory_budget_mb * 1024 * 1024 // (_CELL_BYTES * max(1, workers))))
    side = max(CANONICAL, side - side % CANONICAL)
    # At least two row blocks once n exceeds a canonical block, so every worker has a tile to score.
    halves = CANONICAL * -(-n // (2 * CANONICAL))
    return max(1, min(n, side, TILE_MAX, max(CANONICAL, halves)))


def _tiles(n: int, side: int) -> list[tuple[int, int, int, int]]:
    starts = range(0, n, side)
    return [(r, min(n, r + side), c, min(n, c + side)) for r in starts for c in starts if c >= r]


# The smallest positive value of each dtype: "score above 0" as a threshold that "at least" tests.
_SMALLEST: dict[np.dtype[Any], float] = {
    np.dtype(np.float32): float(np.finfo(np.float32).smallest_subnormal),
    np.dtype(np.float64): float(np.finfo(np.float64).smallest_subnormal),
}


def _select(scores: Scores, threshold: Scores, k: int, axis: int) -> tuple[IntArray, IntArray]:
    """Cells that may be among the k best of their row (axis=1) or column (axis=0): at least the
    threshold, above 0, and at least the k-th best of the tile in their line (ties kept)."""
    floor = np.maximum(threshold, _SMALLEST[scores.dtype])
    length = scores.shape[axis]
    if length > k and not threshold.all():
        # Some lines have no k-th best yet (their first tile): cut those at the tile's k-th best first,
        # rather than listing every positive cell.
        open_lines = np.flatnonzero(threshold == 0)
        if axis == 1:
            kth = np.partition(scores[open_lines], length - k, axis=1)[:, length - k]
        else:
            kth = np.partition(scores[:, open_lines], length - k, axis=0)[length - k, :]
        floor[open_lines] = np.maximum(kth, floor[open_lines])
    at_least = scores >= (floor[:, None] if axis == 1 else floor[None, :])
    r, c = np.divmod(np.flatnonzero(at_least), scores.shape[1])  # flatnonzero: 10x faster than nonzero
    owner = r if axis == 1 else c
    counts = np.bincount(owner, minlength=scores.shape[1 - axis])
    crowded = np.flatnonzero(counts > k)
    if crowded.size:  # more than k cells at or above the threshold: keep the tile's k best (and ties)
        if axis == 1:
            kth = np.partition(scores[crowded], length - k, axis=1)[:, length - k]
        else:
            kth = np.partition(scores[:, crowded], length - k, axis=0)[length - k, :]
        cut = floor.copy()
        cut[crowded] = np.maximum(kth, floor[crowded])
        keep = scores[r, c] >= cut[owner]
        r, c = r[keep], c[keep]
    return r.astype(np.int64), c.astype(np.int64)


class _BestPartners:
    """The k best partners of every organisation so far, merged exactly (score, then lower index)."""

    def __init__(self, n: int, k: int, dtype: Any) -> None:
        self.k = k
        self.index = np.full((n, k), -1, dtype=np.int64)
        self.score = np.zeros((n, k), dtype=dtype)
        self.threshold = np.zeros(n, dtype=dtype)  # the k-th best so far, 0 until k are known

    def snapshot(self, tile: tuple[int, int, int, int]) -> tuple[Scores, Scores]:
        r0, r1, c0, c1 = tile
        return self.threshold[r0:r1].copy(), self.threshold[c0:c1].copy()

    def extract(
        self, scores: Scores, tile: tuple[int, int, int, int], snapshot: tuple[Scores, Scores]
    ) -> tuple[IntArray, IntArray, Scores]:
        r0, _, c0, _ = tile
        rows_r, cols_r = _select(scores, snapshot[0], self.k, axis=1)
        rows_c, cols_c = _select(scores, snapshot[1], self.k, axis=0)
        org = np.concatenate([rows_r + r0, cols_c + c0])
        partner = np.concatenate([cols_r + c0, rows_c + r0])
        return org, partner, np.concatenate([scores[rows_r, cols_r], scores[rows_c, cols_c]])

    def merge(self, found: tuple[IntArray, IntArray, Scores]) -> None:
        org, partner, score = found
        if not org.size:
            return
        k = self.k
        affected = np.unique(org)
        held = self.index[affected] >= 0
        all_org = np.concatenate([np.repeat(affected, k)[held.ravel()], org])
        all_partner = np.concatenate([self.index[affected][held], partner])
        all_score = np.concatenate([self.score[affected][held], score])
        order = np.lexsort((all_partner, -all_score, all_org))
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


class _BestPairs:
    """The k best unordered pairs so far, merged exactly (score, then a, then b)."""

    def __init__(self, k: int, dtype: Any) -> None:
        self.k = k
        self.a = np.zeros(0, dtype=np.int64)
        self.b = np.zeros(0, dtype=np.int64)
        self.score = np.zeros(0, dtype=dtype)
        self.threshold = np.zeros(1, dtype=dtype)

    def snapshot(self, tile: tuple[int, int, int, int]) -> Scores:
        return self.threshold.copy()

    def extract(
        self, scores: Scores, tile: tuple[int, int, int, int], snapshot: Scores
    ) -> tuple[IntArray, IntArray, Scores]:
        r0, _, c0, _ = tile
        floor = max(snapshot[0], _SMALLEST[scores.dtype])
        r, c = np.divmod(np.flatnonzero(scores >= floor), scores.shape[1])
        values = scores[r, c]
        if values.size > self.k:
            kth = np.partition(values, values.size - self.k)[values.size - self.k]
            keep = values >= kth
            r, c, values = r[keep], c[keep], values[keep]
        return r.astype(np.int64) + r0, c.astype(np.int64) + c0, values

    def merge(self, found: tuple[IntArray, IntArray, Scores]) -> None:
        a, b, score = found
        if not a.size:
            return
        a, b = np.concatenate([self.a, a]), np.concatenate([self.b, b])
        score = np.concatenate([self.score, score])
        order = np.lexsort((b, a, -score))[: self.k]
        self.a, self.b, self.score = a[order], b[order], score[order]
        if self.score.size == self.k:
            self.threshold[0] = self.score[-1]


def _run_tiles(
    plan: ScoringPlan,
    collector: _BestPartners | _BestPairs,
    side: int,
    *,
    cross_border_only: bool = False,
    progress: Callable[[int, int], None] | None = None,
    n_jobs: int | None = None,
) -> None:
    """Score every tile of the upper triangle and hand its candidates to ``collector``, in order.

    Workers (threads; numpy and BLAS release the GIL) score and select; the calling thread merges.
    BLAS is held to one thread meanwhile, so the workers, not BLAS, share the cores.
    """
    n = plan.n
    tiles = _tiles(n, side)
    work = [(r1 - r0) * (c1 - c0) for r0, r1, c0, c1 in tiles]
    total, done = max(1, sum(work)), 0
    local = threading.local()

    def score(tile: tuple[int, int, int, int], snapshot: Any) -> tuple[IntArray, IntArray, Scores]:
        workspace = getattr(local, "workspace", None)
        if workspace is None:
            workspace = local.workspace = _Workspace()
        r0, r1, c0, c1 = tile
        scores = plan.block(slice(r0, r1), slice(c0, c1), workspace=workspace, cross_border_only=cross_border_only)
        if r0 == c0:  # a diagonal tile: each pair once, with the lower index as the row
            scores[workspace.lower(r1 - r0)] = 0.0
        return collector.extract(scores, tile, snapshot)

    def merged(count: int, found: tuple[IntArray, IntArray, Scores]) -> None:
        nonlocal done
        collector.merge(found)
        done += count
        if progress is not None:
            progress(min(n, n * done // total), n)

    workers = _workers() if n_jobs is None else max(1, n_jobs)
    # One BLAS thread always: the workers share the cores, and a product's rounding does not depend
    # on how BLAS would have split it between threads.
    with threadpool_limits(limits=1, user_api="blas"):
        if workers == 1 or len(tiles) < 2:
            for tile, count in zip(tiles, work, strict=True):
                merged(count, score(tile, collector.snapshot(tile)))
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                pending: deque[tuple[int, Future[tuple[IntArray, IntArray, Scores]]]] = deque()
                for tile, count in zip(tiles, work, strict=True):
                    pending.append((count, pool.submit(score, tile, collector.snapshot(tile))))
                    if len(pending) >= 2 * workers:
                        count_done, future = pending.popleft()
                        merged(count_done, future.result())
                while pending:
                    count_done, future = pending.popleft()
                    merged(count_done, future.result())
    if progress is not None:
        progress(n, n)


def _side(n: int, block_rows: int | None, memory_budget_mb: float, workers: int) -> int:
    if block_rows is not None:
        if block_rows < 1:
            raise SettingsError(f"block_rows must be at least 1, got {block_rows}")
        return min(block_rows, max(1, n))
    return block_rows_for(n, memory_budget_mb, workers=workers)


def top_partners_all(
    m: ProfileMatrices,
    ctx: Context,
    settings: ScoringSettings,
    dimensions: Sequence[str],
    k: int,
    *,
    block_rows: int | None = None,
    memory_budget_mb: float = 512.0,
    progress: Callable[[int, int], None] | None = None,
    n_jobs: int | None = None,
) -> tuple[IntArray, FloatArray]:
    """The k best partners of every organisation, computed in tiles without the n x n matrix.

    Returns ``(index, score)``, both (n, k): row a lists a's partners by descending score, ties by
    index, only scores above 0; unused places hold index -1 and score 0. The result does not depend
    on ``block_rows`` (the tile side, else chosen from ``memory_budget_mb``) or ``n_jobs`` (threads,
    default the available cores).

    Examples
    --------
    >>> from matchmaker.core.population import Population
    >>> from matchmaker.core.profile import Evidence, Item, Profile
    >>> claim = lambda text: (Item(description=text, strength=3, evidence=Evidence(background="x")),)
    >>> orgs = [Profile(id=i, name=i, country="JP", kind="startup", sectors=("ai",), offers={"data": claim(o)},
    ...                 needs={"data": claim(n)}) for i, o, n in [("a", "speech data", "gpu time"),
    ...                                                            ("b", "gpu time", "speech data"),
    ...                                                            ("c", "gpu time", "legal advice")]]
    >>> pop = Population.fit(orgs)
    >>> index, score = top_partners_all(pop.matrices, pop.context, pop.settings, pop.dimensions, 2)
    >>> index.tolist()
    [[1, -1], [0, -1], [-1, -1]]
    """
    if k < 1:
        raise SettingsError(f"top must be at least 1, got {k}")
    plan = ScoringPlan.build(m, ctx, settings, dimensions)
    workers = _workers() if n_jobs is None else max(1, n_jobs)
    collector = _BestPartners(m.n, k, plan.dtype)
    _run_tiles(plan, collector, _side(m.n, block_rows, memory_budget_mb, workers), progress=progress, n_jobs=workers)
    return collector.index, collector.score.astype(np.float64)


def top_pairs(
    m: ProfileMatrices,
    ctx: Context,
    settings: ScoringSettings,
    dimensions: Sequence[str],
    k: int,
    *,
    cross_border_only: bool = False,
    block_rows: int | None = None,
    memory_budget_mb: float = 512.0,
    progress: Callable[[int, int], None] | None = None,
    n_jobs: int | None = None,
) -> tuple[IntArray, IntArray, FloatArray]:
    """The k best unordered pairs (a < b), computed in tiles without the full n x n matrix.

    Returns (a, b, score) sorted by descending score, then a, then b. Ties at the k-th place are
    resolved by index, so the result does not depend on the tile size or the thread count.

    Examples
    --------
    >>> from matchmaker.core.population import Population
    >>> from matchmaker.core.profile import Evidence, Item, Profile
    >>> claim = lambda text: (Item(description=text, strength=3, evidence=Evidence(background="x")),)
    >>> orgs = [Profile(id=i, name=i, country="JP", kind="startup", sectors=("ai",), offers={"data": claim(o)},
    ...                 needs={"data": claim(n)}) for i, o, n in [("a", "speech data", "gpu time"),
    ...                                                            ("b", "gpu time", "speech data"),
    ...                                                            ("c", "gpu time", "legal advice")]]
    >>> pop = Population.fit(orgs)
    >>> a, b, score = top_pairs(pop.matrices, pop.context, pop.settings, pop.dimensions, 5)
    >>> list(zip(a.tolist(), b.tolist(), score.round(3).tolist()))
    [(0, 1, 1.0)]
    """
    if k < 1:
        raise SettingsError(f"top must be at least 1, got {k}")
    plan = ScoringPlan.build(m, ctx, settings, dimensions)
    workers = _workers() if n_jobs is None else max(1, n_jobs)
    collector = _BestPairs(k, plan.dtype)
    _run_tiles(
        plan,
        collector,
        _side(m.n, block_rows, memory_budget_mb, workers),
        cross_border_only=cross_border_only,
        progress=progress,
        n_jobs=workers,
    )
    return collector.a, collector.b, collector.score.astype(np.float64)


def iter_tiles(n: int, side: int) -> Iterator[tuple[int, int, int, int]]:
    """The tiles (row start, row stop, column start, column stop) of the upper triangle, as scored."""
    yield from _tiles(n, side)
