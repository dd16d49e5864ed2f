"""Scoring blocks of rows against blocks of columns: the formula as matrix products.

How it is computed (the semantics of :mod:`matchmaker.core.scoring.formula`, exactly):

* the weight of ``benefit_d(A->B)`` in ``directed(A->B)`` is ``c_d[B]``, so it is folded into B's need
  vectors: ``c_d[B] * min(1, x) = min(c_d[B], x')`` with ``x' = c_d[B] x``;
* ``build`` lays every scored dimension's offers side by side (``left``) and the scaled needs side by
  side (``right``), so ``directed(A->B)`` before caps is ``left[A] . right[B]`` and ``directed(B->A)``
  is ``right[A] . left[B]``; ``capped`` lists where the cap can bind
  (``|offers_d[A]| |needs_d[B]| > 1``: need rows are averages of unit vectors, only offer rows summing
  several items can exceed it);
* blocks are scored from those matrices one dimension at a time, over only the organisations with
  support there (:mod:`~matchmaker.core.scoring.layout`): a dimension's term is 0 unless A offers and B
  needs in it, which is most pairs. Per dimension the product ``x'`` is at hand, so the cap is simply
  ``min(x', c_d[B])`` for every term (:mod:`~matchmaker.core.scoring.tiles`,
  :mod:`~matchmaker.core.scoring.kernels`);
* the bonus is :class:`~matchmaker.core.scoring.formula.BonusFactors` (with the combiner's constant and
  ``1 / (1 + s + x)`` folded in), looked up per pair of distinct bonus rows.

Only the columns some offer and some need both use are kept, each dimension at its own offset (the
widths differ: attribute blocks, the columns in use). Latent vectors are float32 and can have small
negative similarities, and exact products of attribute blocks can cancel to rounding error: directed
benefits below the noise floor are 0 for both (``formula.clip_noise``). Exact vectors are sparse float64.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from matchmaker.core.scoring.buffers import Workspace
from matchmaker.core.scoring.formula import BonusFactors, Context, bridge_sides, need_shares
from matchmaker.core.scoring.kernels import choose_kernel
from matchmaker.core.scoring.layout import CANONICAL, SupportLayout
from matchmaker.core.scoring.settings import ScoringSettings
from matchmaker.core.scoring.tiles import TileScorer
from matchmaker.core.vectors import IntArray, Matrix, ProfileMatrices, Scores, is_sparse, row_norms

__all__ = ["CANONICAL", "ScoringPlan"]

DENSE_EXACT_BYTES = 256 * 1024 * 1024  # exact vectors: dense column blocks (sparse x dense products) up to this
_LOCK = threading.Lock()  # building a plan's layout once, whichever thread asks first


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
    # Where each scored dimension's columns lie in ``left`` and ``right``, and its need shares c_d (n, D):
    # what the per-dimension layout (:mod:`~matchmaker.core.scoring.layout`) is derived from.
    spans: tuple[tuple[int, int], ...] = ()
    shares: Scores = field(default_factory=lambda: np.zeros((0, 0)))
    _tiles: dict[str, TileScorer] = field(default_factory=dict, repr=False, compare=False)

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
            spans=tuple((int(a), int(b)) for a, b in itertools.pairwise(offsets)),
            shares=shares[:, used],
        )

    def tiles(self, kernel: str = "auto") -> TileScorer:
        """The per-dimension layout of these matrices and the kernel that scores its tiles (built once per kernel).

        ``kernel``: "numpy", "numba" or "auto" (:func:`~matchmaker.core.scoring.kernels.choose_kernel`).
        """
        name = choose_kernel(kernel, self.n, self.settings)
        with _LOCK:
            found = self._tiles.get(name)
            if found is None:
                layout = self._tiles["layout"].layout if "layout" in self._tiles else SupportLayout.of(self)
                found = self._tiles[name] = TileScorer(layout, self.settings, self.clamp, name)
                self._tiles.setdefault("layout", found)
            return found

    def block(
        self,
        rows: slice | IntArray,
        cols: slice | IntArray,
        *,
        workspace: Workspace | None = None,
        cross_border_only: bool = False,
    ) -> Scores:
        """Scores of ``rows`` (as A) against ``cols`` (as B); float32 for latent vectors, else float64."""
        return self.tiles().block(rows, cols, workspace=workspace, cross_border_only=cross_border_only)
