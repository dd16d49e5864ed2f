"""Ranking every pair, or every organisation's best partners, in tiles: no n x n matrix is ever held.

All pairs are computed in square tiles of the upper triangle (each unordered pair once, always with
the lower index as the row), from a scorer's :meth:`~matchmaker.core.scoring.contract.Scorer.tiles`.
A tile yields the cells that may be among the best (:mod:`~matchmaker.core.scoring.selection`), which
are merged exactly with ties resolved by index, so results do not depend on the tile size, the number
of workers or the backend that runs the tiles. Backends are chosen by name from ``BACKENDS`` (``local``:
threads of this process; ``dask``, registered by :mod:`matchmaker.cluster` when it is imported: the
processes of a Dask cluster), or passed as a function.
"""

from __future__ import annotations

import math
import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from functools import cache
from typing import Any, Protocol

import numpy as np
from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]  # installed with scikit-learn

from matchmaker.core.errors import SettingsError
from matchmaker.core.registry import Registry
from matchmaker.core.scoring.buffers import IDLE
from matchmaker.core.scoring.contract import Scorer, TileSource
from matchmaker.core.scoring.layout import CANONICAL
from matchmaker.core.scoring.selection import BestPairs, BestPartners, Cells, Tile, Wanted
from matchmaker.core.vectors import FloatArray, IntArray

Progress = Callable[[int, int], None]  # (done, total) organisations

TILE_MAX = 1024  # rows (and columns) per tile: large enough for efficient products, small enough for cache
_CELL_BYTES = 64  # working memory per tile cell and worker: block-pair products, kept cells, selection state


def available_workers() -> int:
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        available = os.cpu_count() or 1
    return max(1, min(available, 8))


@cache
def _blas_libraries() -> Any:
    """The BLAS libraries loaded in this process, found once: a search reads every loaded library's path
    (3 ms a call, 15-20 ms on a process's first), so a run that searched each time paid it each time.
    numpy's BLAS, the one products use, is loaded with numpy, before any run."""
    return ThreadpoolController().select(user_api="blas")


def one_blas_thread(source: object | None = None) -> AbstractContextManager[Any]:
    """BLAS held to one thread meanwhile: worker threads share the cores, and a product's rounding does
    not depend on how BLAS would have split it.

    Nothing to hold for a ``source`` whose ``uses_blas`` is False (exact vectors: sparse products and a
    bonus table), so a small run does not pay for finding the BLAS libraries.
    """
    if source is not None and not getattr(source, "uses_blas", True):
        return nullcontext()
    limiter: AbstractContextManager[Any] = _blas_libraries().limit(limits=1)
    return limiter


def block_rows_for(n: int, memory_budget_mb: float, *, workers: int = 1) -> int:
    """Rows (and columns) per tile so every worker's tile buffers together fit the memory budget.

    A tile of t x t pairs needs about ``_CELL_BYTES`` per pair and worker (the block pairs' products,
    the kept cells, the selection state); the vectors themselves are not part of the budget. The side
    is a multiple of ``CANONICAL`` (smaller tiles would recompute canonical blocks), capped at
    ``TILE_MAX`` (larger tiles only lose cache locality) and at ``n``; ``CANONICAL`` rows is the floor
    whatever the budget (``CANONICAL**2 * _CELL_BYTES`` = 16 MiB a worker).

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
    """The tiles (row start, row stop, column start, column stop) of the upper triangle, in the order scored.

    The diagonal tiles come first: they give every organisation a threshold (its k-th best among its
    neighbours in the tile) before the tiles that share its rows and columns are handed out.

    >>> tiles_of(5, 2)
    [(0, 2, 0, 2), (2, 4, 2, 4), (4, 5, 4, 5), (0, 2, 2, 4), (0, 2, 4, 5), (2, 4, 4, 5)]
    """
    starts = range(0, n, side)
    diagonal = [(r, min(n, r + side), r, min(n, r + side)) for r in starts]
    return diagonal + [(r, min(n, r + side), c, min(n, c + side)) for r in starts for c in starts if c > r]


def work_of(n: int, side: int, canonical: int) -> tuple[list[Tile], list[Tile]]:
    """The tiles of a run in its two phases.

    First the pairs within each canonical block (when the source has blocks: ``canonical`` > 0), one
    small tile per block: they give every organisation a threshold before any other tile is handed
    out, so no tile has to keep its own best for organisations it knows nothing about. Then every tile
    of the upper triangle, without those pairs (``own_blocks=False``). Each unordered pair is in
    exactly one tile.

    >>> first, second = work_of(1500, 1024, 512)
    >>> first
    [(0, 512, 0, 512), (512, 1024, 512, 1024), (1024, 1500, 1024, 1500)]
    >>> second
    [(0, 1024, 0, 1024), (0, 1024, 1024, 1500)]
    """
    if canonical <= 0:
        return [], tiles_of(n, side)
    first = [(b, min(n, b + canonical), b, min(n, b + canonical)) for b in range(0, n, canonical)]
    # A tile within one canonical block has nothing left after the first phase.
    second = [t for t in tiles_of(n, side) if (t[3] - 1) // canonical > t[0] // canonical]
    return first, second


def tile_work(tile: Tile) -> int:
    r0, r1, c0, c1 = tile
    return (r1 - r0) * (c1 - c0) // (2 if r0 == c0 else 1)


def run_tiles_locally(
    source: TileSource,
    collector: BestPartners | BestPairs,
    side: int,
    *,
    cross_border_only: bool = False,
    progress: Progress | None = None,
    n_jobs: int | None = None,
) -> None:
    """The ``local`` backend: score every tile in threads of this process, merging candidates in order.

    Workers (threads; numpy, BLAS and the compiled kernel release the GIL) score and select; the
    calling thread merges. BLAS is held to one thread meanwhile (:func:`one_blas_thread`), so the
    workers, not BLAS, share the cores, and a product's rounding does not depend on how BLAS would
    have split it.
    """
    n = source.n
    first, second = work_of(n, side, source.canonical)
    total, done = max(1, sum(map(tile_work, first + second))), 0

    def score(tile: Tile, wanted: Wanted, own_blocks: bool) -> Cells:
        with IDLE.borrowed() as workspace:  # buffers a previous tile or run has already touched
            return source.candidates(
                tile, wanted, workspace=workspace, cross_border_only=cross_border_only, own_blocks=own_blocks
            )

    def merged(tile: Tile, found: Cells) -> None:
        nonlocal done
        collector.merge(found)
        done += tile_work(tile)
        if progress is not None:
            progress(min(n, n * done // total), n)

    workers = available_workers() if n_jobs is None else max(1, n_jobs)
    # One pool for both phases; it starts its threads on the first tile it is given, if any.
    with one_blas_thread(source), ThreadPoolExecutor(max_workers=workers) as pool:
        for tiles, own_blocks in ((first, True), (second, False)):
            if workers == 1 or len(tiles) < 2:
                for tile in tiles:
                    merged(tile, score(tile, collector.snapshot(tile), own_blocks))
                continue
            pending: deque[tuple[Tile, Future[Cells]]] = deque()
            for tile in tiles:
                pending.append((tile, pool.submit(score, tile, collector.snapshot(tile), own_blocks)))
                if len(pending) >= 2 * workers:
                    done_tile, future = pending.popleft()
                    merged(done_tile, future.result())
            while pending:
                done_tile, future = pending.popleft()
                merged(done_tile, future.result())
    if progress is not None:
        progress(n, n)


def tile_side(n: int, block_rows: int | None, memory_budget_mb: float, workers: int) -> int:
    if block_rows is not None:
        if block_rows < 1:
            raise SettingsError(f"block_rows must be at least 1, got {block_rows}")
        return min(block_rows, max(1, n))
    return block_rows_for(n, memory_budget_mb, workers=workers)


class Backend(Protocol):
    """Runs every tile of ``source`` through ``collector`` (see ``run_tiles_locally`` for the arguments)."""

    def __call__(
        self,
        source: TileSource,
        collector: BestPartners | BestPairs,
        side: int,
        *,
        cross_border_only: bool = False,
        progress: Progress | None = None,
        n_jobs: int | None = None,
    ) -> None: ...


BACKENDS: Registry[Backend] = Registry("execution backend", {"local": run_tiles_locally})


def _backend(backend: str | Backend) -> Backend:
    return BACKENDS.get_entry(backend) if isinstance(backend, str) else backend


def top_partners_all(
    scorer: Scorer,
    k: int,
    *,
    block_rows: int | None = None,
    memory_budget_mb: float = 512.0,
    progress: Progress | None = None,
    n_jobs: int | None = None,
    backend: str | Backend = "local",
    kernel: str = "auto",
) -> tuple[IntArray, FloatArray]:
    """The k best partners of every organisation, computed in tiles without the n x n matrix.

    Returns ``(index, score)``, both (n, k): row a lists a's partners by descending score, ties by
    index, only scores above 0; unused places hold index -1 and score 0. The result does not depend
    on ``block_rows`` (the tile side, else chosen from ``memory_budget_mb``), ``n_jobs`` (threads,
    default the available cores), the backend (a name in ``BACKENDS`` or a backend) or the kernel
    (:func:`~matchmaker.core.scoring.kernels.choose_kernel`).
    """
    if k < 1:
        raise SettingsError(f"top must be at least 1, got {k}")
    run = _backend(backend)
    workers = available_workers() if n_jobs is None else max(1, n_jobs)
    source = scorer.tiles(kernel)
    collector = BestPartners(scorer.n, k, scorer.dtype, fast=source.fast)
    side = tile_side(scorer.n, block_rows, memory_budget_mb, workers)
    run(source, collector, side, progress=progress, n_jobs=workers)
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
    backend: str | Backend = "local",
    kernel: str = "auto",
) -> tuple[IntArray, IntArray, FloatArray]:
    """The k best unordered pairs (a < b), computed in tiles without the full n x n matrix.

    Returns (a, b, score) sorted by descending score, then a, then b. Ties at the k-th place are
    resolved by index, so the result does not depend on the tile size, the thread count, the backend
    or the kernel.
    """
    if k < 1:
        raise SettingsError(f"top must be at least 1, got {k}")
    run = _backend(backend)
    workers = available_workers() if n_jobs is None else max(1, n_jobs)
    source = scorer.tiles(kernel)
    collector = BestPairs(k, scorer.dtype, fast=source.fast)
    run(
        source,
        collector,
        tile_side(scorer.n, block_rows, memory_budget_mb, workers),
        cross_border_only=cross_border_only,
        progress=progress,
        n_jobs=workers,
    )
    return collector.a, collector.b, collector.score.astype(np.float64)
