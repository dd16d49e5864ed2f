"""Shared assertions: scoring in tiles (and threads) gives exactly what scoring in one tile gives."""

from __future__ import annotations

import numpy as np

from matchmaker.core.scoring import Scorer, top_pairs, top_partners_all


def assert_blocked_partners_equal(
    scorer: Scorer, k: int, *, block_rows: int, n_jobs: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Every organisation's top ``k`` in tiles of ``block_rows`` equals it in one tile; returns the latter."""
    whole = top_partners_all(scorer, k, block_rows=scorer.n, n_jobs=1)
    tiled = top_partners_all(scorer, k, block_rows=block_rows, n_jobs=n_jobs)
    np.testing.assert_array_equal(tiled[0], whole[0])
    np.testing.assert_array_equal(tiled[1], whole[1])
    return whole


def assert_blocked_pairs_equal(
    scorer: Scorer, k: int, *, block_rows: int, n_jobs: int | None = None, cross_border_only: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The top ``k`` pairs in tiles of ``block_rows`` equal them in one tile; returns the latter."""
    whole = top_pairs(scorer, k, block_rows=scorer.n, n_jobs=1, cross_border_only=cross_border_only)
    tiled = top_pairs(scorer, k, block_rows=block_rows, n_jobs=n_jobs, cross_border_only=cross_border_only)
    for x, y in zip(tiled, whole, strict=True):
        np.testing.assert_array_equal(x, y)
    return whole
