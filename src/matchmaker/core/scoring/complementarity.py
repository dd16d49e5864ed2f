"""The reciprocal complementarity scorer: what A offers meets what B needs, and the other way round.

Its formula is :mod:`matchmaker.core.scoring.formula`; blocks are scored by the fused products of
:mod:`~matchmaker.core.scoring.plan`, one organisation against everyone by
:mod:`~matchmaker.core.scoring.query`, and the breakdown of a pair by ``formula.components``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import fields, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from matchmaker.core.profile import Profile
from matchmaker.core.scoring.contract import PopulationVectors, Scorer
from matchmaker.core.scoring.formula import Context, PairComponents, components, need_shares
from matchmaker.core.scoring.kernels import choose_kernel
from matchmaker.core.scoring.plan import ScoringPlan
from matchmaker.core.scoring.query import RowSupport, score_row, top_partners_each
from matchmaker.core.scoring.reasons import REASON_FLOOR, Reason, explain
from matchmaker.core.scoring.settings import ScoringSettings
from matchmaker.core.scoring.tiles import TileScorer
from matchmaker.core.vectors import FloatArray, IntArray, ProfileMatrices, Scores

_TILES_LOCK = threading.Lock()  # building a population's layout once, whichever thread asks first


def _settings_key(settings: ScoringSettings) -> tuple[Any, ...]:
    """Every setting's value, hashable: what a population's layout is kept under."""
    values = (getattr(settings, f.name) for f in fields(settings))
    return tuple(tuple(sorted(v.items())) if isinstance(v, Mapping) else v for v in values)


def _support(chunk: ProfileMatrices) -> RowSupport | None:
    return RowSupport.of(chunk) if chunk.is_dense else None


class ComplementarityScorer(Scorer):
    """Scores pairs by reciprocal complementarity under ``settings``.

    Examples
    --------
    >>> from matchmaker.core.population import Population
    >>> from matchmaker.core.profile import Evidence, Item, Profile
    >>> claim = lambda text: (Item(description=text, strength=3, evidence=Evidence(background="x")),)
    >>> orgs = [Profile(id=i, name=i, country="JP", kind="startup", sectors=("ai",), offers={"data": claim(o)},
    ...                 needs={"data": claim(n)}) for i, o, n in [("a", "speech data", "gpu time"),
    ...                                                            ("b", "gpu time", "speech data"),
    ...                                                            ("c", "gpu time", "legal advice")]]
    >>> scorer = Population.fit(orgs).scorer()
    >>> scorer.block(slice(0, 3), slice(0, 3)).round(3).tolist()
    [[0.0, 1.0, 0.25], [1.0, 0.0, 0.0], [0.25, 0.0, 0.0]]
    >>> index, score = scorer.top_partners(0, 5)  # c meets a's need and gains nothing: a quarter
    >>> index.tolist(), score.round(3).tolist()
    ([1, 2], [1.0, 0.25])
    >>> float(scorer.components(np.array([0]), np.array([1])).directed_ab[0])
    1.0
    """

    name = "complementarity"

    def __init__(self, settings: ScoringSettings) -> None:
        super().__init__(settings)
        self._plan_lock = threading.Lock()
        self._plan: ScoringPlan | None = None

    def fit(self, vectors: PopulationVectors) -> ComplementarityScorer:
        self.vectors_ = vectors
        return self

    @property
    def n(self) -> int:
        return self.vectors_.n

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.vectors_.chunks[0].dtype

    def plan(self) -> ScoringPlan:
        """The fused matrices for blocks, built on first use (once, whichever thread asks first)."""
        with self._plan_lock:
            if self._plan is None:
                v = self.vectors_
                self._plan = ScoringPlan.build(v.whole(), v.context, self.settings, v.dimensions)
            return self._plan

    def block(
        self, rows: slice | IntArray, cols: slice | IntArray, *, workspace: Any = None, cross_border_only: bool = False
    ) -> Scores:
        return self.plan().block(rows, cols, workspace=workspace, cross_border_only=cross_border_only)

    def tiles(self, kernel: str = "auto") -> TileScorer:
        """The plan's per-dimension layout with a kernel that keeps only the cells that matter.

        The layout is kept with the population for the settings it was last built for, so runs after
        the first (a new scorer each time: ``Population.all_partners``, ``pairs``) do not build the plan
        again; the plan's fused matrices are not kept, only the layout the tiles need.
        """
        name = choose_kernel(kernel, self.n, self.settings)
        slot: dict[tuple[Any, ...], TileScorer] = self.vectors_.cache.per_population("tiles", (), dict)
        key = _settings_key(self.settings)
        with _TILES_LOCK:
            found = slot.get(key)
            if found is None:
                found = self.plan().tiles("numpy")
                slot.clear()  # one layout per population: the last settings'
                slot[key] = found
        return found if found.kernel == name else replace(found, kernel=name)

    def shares(self) -> FloatArray:
        """Every organisation's need shares under these weights (cached per population and weights)."""
        v = self.vectors_
        alpha = self.settings.weights(v.dimensions)
        dtype = self.dtype

        def build() -> FloatArray:
            # Column-major, so each dimension's shares are contiguous for the per-dimension products.
            found = np.concatenate([need_shares(c.need_mass, alpha) for c in v.chunks])
            return np.asfortranarray(found, dtype=dtype)

        return v.cache.per_population("shares", tuple(alpha.tolist()), build)

    def supports(self) -> list[RowSupport | None]:
        """Each dense chunk's rows with offers and needs per dimension (cached per chunk)."""
        return [self.vectors_.cache.per_chunk("support", chunk, _support) for chunk in self.vectors_.chunks]

    def one_vs_all(self, row: int) -> Scores:
        v = self.vectors_
        return score_row(
            v.chunks, row, v.context, self.settings, v.dimensions, shares=self.shares(), supports=self.supports()
        )

    def top_partners(
        self, row: int, k: int, allowed: NDArray[np.bool_] | None = None, *, prune_min_rows: int | None = None
    ) -> tuple[IntArray, Scores]:
        return self.top_partners_each(row, [(k, allowed)], prune_min_rows=prune_min_rows)[0]

    def top_partners_each(
        self,
        row: int,
        selections: Sequence[tuple[int, NDArray[np.bool_] | None]],
        *,
        prune_min_rows: int | None = None,
    ) -> list[tuple[IntArray, Scores]]:
        v = self.vectors_
        return top_partners_each(
            v.chunks,
            row,
            v.context,
            self.settings,
            v.dimensions,
            selections,
            shares=self.shares(),
            supports=self.supports(),
            prune_min_rows=prune_min_rows,
        )

    def components(self, a: IntArray, b: IntArray) -> PairComponents:
        rows = np.unique(np.concatenate([a, b]))
        v = self.vectors_
        context = Context(v.context.countries[rows])
        return components(
            v.rows(rows), np.searchsorted(rows, a), np.searchsorted(rows, b), context, self.settings, v.dimensions
        )

    def explain(
        self, pairs: Sequence[tuple[Profile, Profile]], limit: int | None = None, *, floor: float = REASON_FLOOR
    ) -> list[list[Reason]]:
        vectors = self.vectors_.item_vectors(list({p.id: p for pair in pairs for p in pair}.values()))
        return explain(pairs, self.vectors_.dimensions, self.settings, vectors, limit, floor)
