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
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from matchmaker.core.errors import SettingsError
from matchmaker.core.vectoriser import Matrix, ProfileMatrices

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


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
        """Return self if every setting is acceptable for ``dimensions``; raise SettingsError naming the first that is not."""
        if self.combiner not in COMBINERS:
            raise SettingsError(f"unknown combiner {self.combiner!r}; accepted: {', '.join(COMBINERS)}")
        for name in self.dimension_weights:
            if name not in dimensions:
                raise SettingsError(f"unknown dimension {name!r} in weights; accepted: {', '.join(dimensions)}")
        named = [(f"weight of dimension {d!r}", w) for d, w in self.dimension_weights.items()]
        for label, value in [*named, ("sector weight", self.sector_weight),
                             ("cross-border weight", self.cross_border_weight)]:
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
        return replace(self, dimension_weights={d: (self.weight(d) or 1.0) if d == dimension else 0.0
                                                for d in dimensions})


@dataclass(frozen=True)
class Context:
    """What scoring needs besides the vectors: each organisation's home country."""

    countries: NDArray[np.str_]


def _dense(product: Matrix) -> FloatArray:
    return product.toarray() if sp.issparse(product) else np.asarray(product)


def _rows(matrix: Matrix, rows: slice | IntArray) -> Matrix:
    return matrix[rows]


def _safe_divide(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)


def cross_border_mask(countries_a: NDArray[np.str_], countries_b: NDArray[np.str_], bridge: tuple[str, str]) -> NDArray[np.bool_]:
    """True where one side's home is bridge[0] and the other's bridge[1] (outer comparison)."""
    x, y = bridge
    a, b = countries_a[:, None], countries_b[None, :]
    return ((a == x) & (b == y)) | ((a == y) & (b == x))


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


def _combine(ab: FloatArray, ba: FloatArray, sector: FloatArray, cross: NDArray[np.bool_],
             settings: ScoringSettings) -> tuple[FloatArray, FloatArray]:
    reciprocal = COMBINERS[settings.combiner](ab, ba)
    s, x = settings.sector_weight, settings.cross_border_weight
    bonus = (1.0 + s * sector + x * cross) / (1.0 + s + x)
    return reciprocal, reciprocal * bonus


def score_block(m: ProfileMatrices, rows: slice | IntArray, ctx: Context, settings: ScoringSettings,
                dimensions: Sequence[str]) -> FloatArray:
    """Scores of the organisations in ``rows`` (as A) against everyone (as B): shape (len(rows), n)."""
    alpha = np.array([settings.weight(d) for d in dimensions])
    weighted_mass = m.need_mass * alpha  # (n, D): how much each B's need in d counts
    row_ids = np.arange(m.n)[rows]
    n_rows = len(row_ids)
    ab = np.zeros((n_rows, m.n))
    ba = np.zeros((n_rows, m.n))
    for d in np.flatnonzero(alpha > 0):
        forward = _dense(_rows(m.offers[d], rows) @ m.needs[d].T)
        np.minimum(forward, 1.0, out=forward)
        forward *= weighted_mass[:, d]
        ab += forward
        backward = _dense(_rows(m.needs[d], rows) @ m.offers[d].T)
        np.minimum(backward, 1.0, out=backward)
        backward *= weighted_mass[row_ids, d][:, None]
        ba += backward
    total_mass = weighted_mass.sum(axis=1)
    ab = _safe_divide(ab, np.broadcast_to(total_mass, ab.shape))
    ba = _safe_divide(ba, np.broadcast_to(total_mass[row_ids][:, None], ba.shape))
    np.maximum(ab, 0.0, out=ab)  # latent (SVD) vectors can give small negative similarities
    np.maximum(ba, 0.0, out=ba)
    sector = _dense(_rows(m.sectors, rows) @ m.sectors.T)
    cross = cross_border_mask(ctx.countries[row_ids], ctx.countries, settings.bridge)
    return _combine(ab, ba, sector, cross, settings)[1]


def _rowwise_dot(left: Matrix, right: Matrix) -> FloatArray:
    if sp.issparse(left):
        return np.asarray(left.multiply(right).sum(axis=1)).ravel()
    return np.einsum("ij,ij->i", left, right)


def pair_components(m: ProfileMatrices, a: IntArray, b: IntArray, ctx: Context,
                    settings: ScoringSettings, dimensions: Sequence[str]) -> PairComponents:
    """Every term of the score for the pairs (a[k], b[k]); agrees with ``score_block``."""
    alpha = np.array([settings.weight(d) for d in dimensions])
    per_ab = np.zeros((len(a), len(dimensions)))
    per_ba = np.zeros((len(a), len(dimensions)))
    for d in range(len(dimensions)):
        per_ab[:, d] = np.clip(_rowwise_dot(m.offers[d][a], m.needs[d][b]), 0.0, 1.0)
        per_ba[:, d] = np.clip(_rowwise_dot(m.offers[d][b], m.needs[d][a]), 0.0, 1.0)
    mass_b, mass_a = m.need_mass[b] * alpha, m.need_mass[a] * alpha
    ab = _safe_divide((per_ab * mass_b).sum(axis=1), mass_b.sum(axis=1))
    ba = _safe_divide((per_ba * mass_a).sum(axis=1), mass_a.sum(axis=1))
    sector = _rowwise_dot(m.sectors[a], m.sectors[b])
    cross = cross_border_mask(ctx.countries[a], ctx.countries[b], settings.bridge).diagonal() if len(a) else np.zeros(0, bool)
    reciprocal, score = _combine(ab, ba, sector, cross, settings)
    return PairComponents(per_ab, per_ba, ab, ba, reciprocal, sector, cross, score)


def _top_indices(values: FloatArray, k: int) -> IntArray:
    """Indices of the k largest values, ties included at the cut, ordered by value then index."""
    positive = np.flatnonzero(values > 0)
    if len(positive) > k:
        kth = np.partition(values[positive], len(positive) - k)[len(positive) - k]
        positive = positive[values[positive] >= kth]
    order = np.lexsort((positive, -values[positive]))
    return positive[order]


def top_partners(m: ProfileMatrices, row: int, ctx: Context, settings: ScoringSettings,
                 dimensions: Sequence[str], k: int, allowed: NDArray[np.bool_] | None = None) -> IntArray:
    """The best partners of organisation ``row``: indices by descending score, ties by index, score > 0."""
    scores = score_block(m, np.array([row]), ctx, settings, dimensions)[0]
    scores[row] = 0.0
    if allowed is not None:
        scores = np.where(allowed, scores, 0.0)
    return _top_indices(scores, k)[:k]


def block_rows_for(n: int, memory_budget_mb: float) -> int:
    """Rows per block so a block's working arrays (about six n-wide float64 matrices) fit the budget."""
    per_row = 6 * 8 * max(n, 1)
    return max(1, min(n, int(memory_budget_mb * 1024 * 1024 // per_row)))


def top_pairs(m: ProfileMatrices, ctx: Context, settings: ScoringSettings, dimensions: Sequence[str],
              k: int, *, cross_border_only: bool = False, block_rows: int | None = None,
              memory_budget_mb: float = 512.0,
              progress: Callable[[int, int], None] | None = None) -> tuple[IntArray, IntArray, FloatArray]:
    """The k best unordered pairs (a < b), computed in row blocks without the full n x n matrix.

    Returns (a, b, score) sorted by descending score, then a, then b. Ties at the k-th place are
    resolved by index, so the result does not depend on the block size.
    """
    n = m.n
    rows_per_block = block_rows or block_rows_for(n, memory_budget_mb)
    best_a, best_b, best_s = np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    columns = np.arange(n)
    for start in range(0, n, rows_per_block):
        stop = min(n, start + rows_per_block)
        scores = score_block(m, slice(start, stop), ctx, settings, dimensions)
        # Keep each unordered pair once: only columns to the right of the diagonal.
        scores[columns[None, :] <= np.arange(start, stop)[:, None]] = 0.0
        if cross_border_only:
            scores[~cross_border_mask(ctx.countries[start:stop], ctx.countries, settings.bridge)] = 0.0
        flat = _top_indices(scores.ravel(), k)
        a = np.concatenate([best_a, flat // n + start])
        b = np.concatenate([best_b, flat % n])
        s = np.concatenate([best_s, scores.ravel()[flat]])
        order = np.lexsort((b, a, -s))[:k]
        best_a, best_b, best_s = a[order], b[order], s[order]
        if progress is not None:
            progress(stop, n)
    return best_a, best_b, best_s
