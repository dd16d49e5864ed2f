"""Ranking every pair, or every organisation's best partners, in tiles: no n x n matrix is ever held.

All pairs are computed in square tiles of the upper triangle (each unordered pair once, always with
the lower index as the row), by any :class:`~matchmaker.core.scoring.contract.Scorer`'s ``block``. The
best ``k`` per organisation or overall are kept by thresholded selection with ties resolved by index
(:mod:`matchmaker.core.scoring.selection`), so results do not depend on the tile size, the number of
workers or the backend that runs the tiles. Backends are chosen by name from ``BACKENDS``.
"""

from __future__ import annotations

import math
import os
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

import numpy as np
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]  # installed with scikit-learn

from matchmaker.core.errors import SettingsError
from matchmaker.core.registry import Registry
from matchmaker.core.scoring.buffers import Workspace
from matchmaker.core.scoring.contract import Scorer
from matchmaker.core.scoring.plan import CANONICAL
from matchmaker.core.scoring.selection import BestPairs, BestPartners, Candidates, Tile
from matchmaker.core.vectors import FloatArray, IntArray

Progress = Callable[[int, int], None]  # (done, total) organisations

TILE_MAX = 1024  # rows (and columns) per tile: large enough for efficient products, small enough for cache
_CELL_BYTES = 64  # working memory per tile cell and worker: three score buffers, masks, candidates


def available_workers() -> int:
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


def tiles_of(n: int, side: int) -> list[Tile]:
    """The tiles (row start, row stop, column start, column stop) of the upper triangle, in the order scored."""
    starts = range(0, n, side)
    return [(r, min(n, r + side), c, min(n, c + side)) for r in starts for c in starts if c >= r]


def run_tiles_locally(
    scorer: Scorer,
    collector: BestPartners | BestPairs,
    side: int,
    *,
    cross_border_only: bool = False,
    progress: Progress | None = None,
    n_jobs: int | None = None,
) -> None:
    """The ``local`` backend: score every tile in threads of this process, merging candidates in order.

    Workers (threads; numpy and BLAS release the GIL) score and select; the calling thread merges.
    BLAS is held to one thread meanwhile, so the workers, not BLAS, share the cores.
    """
    n = scorer.n
    tiles = tiles_of(n, side)
    work = [(r1 - r0) * (c1 - c0) for r0, r1, c0, c1 in tiles]
    total, done = max(1, sum(work)), 0
    local = threading.local()

    def score(tile: Tile, snapshot: Any) -> Candidates:
        workspace = getattr(local, "workspace", None)
        if workspace is None:
            workspace = local.workspace = Workspace()
        r0, r1, c0, c1 = tile
        scores = scorer.block(slice(r0, r1), slice(c0, c1), workspace=workspace, cross_border_only=cross_border_only)
        if r0 == c0:  # a diagonal tile: each pair once, with the lower index as the row
            scores[workspace.lower(r1 - r0)] = 0.0
        return collector.extract(scores, tile, snapshot)

    def merged(count: int, found: Candidates) -> None:
        nonlocal done
        collector.merge(found)
        done += count
        if progress is not None:
            progress(min(n, n * done // total), n)

    workers = available_workers() if n_jobs is None else max(1, n_jobs)
    # One BLAS thread always: the workers share the cores, and a product's rounding does not depend
    # on how BLAS would have split it between threads.
    with threadpool_limits(limits=1, user_api="blas"):
        if workers == 1 or len(tiles) < 2:
            for tile, count in zip(tiles, work, strict=True):
                merged(count, score(tile, collector.snapshot(tile)))
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                pending: deque[tuple[int, Future[Candidates]]] = deque()
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


def tile_side(n: int, block_rows: int | None, memory_budget_mb: float, workers: int) -> int:
    if block_rows is not None:
        if block_rows < 1:
            raise SettingsError(f"block_rows must be at least 1, got {block_rows}")
        return min(block_rows, max(1, n))
    return block_rows_for(n, memory_budget_mb, workers=workers)


class Backend(Protocol):
    """Runs every tile of ``scorer`` through ``collector`` (see ``run_tiles_locally`` for the arguments)."""

    def __call__(
        self,
        scorer: Scorer,
        collector: BestPartners | BestPairs,
        side: int,
        *,
        cross_border_only: bool = False,
        progress: Progress | None = None,
        n_jobs: int | None = None,
    ) -> None: ...


BACKENDS: Registry[Backend] = Registry("execution backend", {"local": run_tiles_locally})


def top_partners_all(
    scorer: Scorer,
    k: int,
    *,
    block_rows: int | None = None,
    memory_budget_mb: float = 512.0,
    progress: Progress | None = None,
    n_jobs: int | None = None,
    backend: str = "local",
) -> tuple[IntArray, FloatArray]:
    """The k best partners of every organisation, computed in tiles without the n x n matrix.

    Returns ``(index, score)``, both (n, k): row a lists a's partners by descending score, ties by
    index, only scores above 0; unused places hold index -1 and score 0. The result does not depend
    on ``block_rows`` (the tile side, else chosen from ``memory_budget_mb``), ``n_jobs`` (threads,
    default the available cores) or the backend.
    """
    if k < 1:
        raise SettingsError(f"top must be at least 1, got {k}")
    run = BACKENDS.get_entry(backend)
    workers = available_workers() if n_jobs is None else max(1, n_jobs)
    collector = BestPartners(scorer.n, k, scorer.dtype)
    run(
        scorer, collector, tile_side(scorer.n, block_rows, memory_budget_mb, workers), progress=progress, n_jobs=workers
    )
    return collector.index, collector.score.astype(np.float64)


def top_pairs(
    scorer: Scorer,
    k: int,
    *,
    cross_border_only: bool = False,
    block_rows: int | None = None,
    memory_budget_mb: float = 512.0,
    progress: Progress | None = None,
    n_jobs: int | None = None,
    backend: str = "local",
) -> tuple[IntArray, IntArray, FloatArray]:
    """The k best unordered pairs (a < b), computed in tiles without the full n x n matrix.

    Returns (a, b, score) sorted by descending score, then a, then b. Ties at the k-th place are
    resolved by index, so the result does not depend on the tile size, the thread count or the backend.
    """
    if k < 1:
        raise SettingsError(f"top must be at least 1, got {k}")
    run = BACKENDS.get_entry(backend)
    workers = available_workers() if n_jobs is None else max(1, n_jobs)
    collector = BestPairs(k, scorer.dtype)
    run(
        scorer,
        collector,
        tile_side(scorer.n, block_rows, memory_budget_mb, workers),
        cross_border_only=cross_border_only,
        progress=progress,
        n_jobs=workers,
    )
    return collector.a, collector.b, collector.score.astype(np.float64)
