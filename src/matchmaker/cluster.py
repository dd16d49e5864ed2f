"""Running all-pairs work on a Dask cluster: the ``dask`` execution backend (``pip install 'matchmaker[dask]'``).

The tiles become tasks (squares of a few tiles each); the scorer's tile source (its per-dimension
layout) is sent to every worker once (``scatter``, one copy per worker process); each task keeps the
best partners of the organisations of its own tiles and returns them. Like the local backend, the run
has two phases: first the pairs within each canonical block (tasks merged in a tree), which give every
organisation a threshold. Then the second phase's tasks are handed out as workers free up, and each
finished one is folded into the run's merged state on the cluster (a fold task); every task starts
from that state's best partners of its organisations (:func:`seed_of`) as folded before it was handed
out, as the local backend's tiles start from its one shared collector. Nothing n x n is ever held, and
a worker's memory beyond the layout is that of a tile (the tile budget) plus its task's partial result,
and the merged state (n x k) on the worker that folds.

Every task is a pure function of its inputs (the layout, its tiles, the seed or thresholds it was given; a fold
copies the state it is given), a threshold is a k-th best score of real pairs (a higher one only skips
cells that cannot be among the best; ties at it are kept), and the merges keep each organisation's k
best by score and then index, so the answer is exactly the local backend's whatever the number of
workers, the order tasks finish in, or a worker lost on the way (the scheduler runs its tasks again).

Without an address a :class:`distributed.LocalCluster` of worker processes is started for the run.
Importing this module imports Dask; it also registers the backend as ``dask`` in ``BACKENDS``.
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from matchmaker.core.errors import MatchmakerError
from matchmaker.core.scoring.buffers import Workspace
from matchmaker.core.scoring.contract import TileSource
from matchmaker.core.scoring.execution import BACKENDS, Progress, available_workers, tile_work, work_of
from matchmaker.core.scoring.selection import BestPairs, BestPartners, Tile, merge_partials

try:
    import distributed
except ImportError as err:  # pragma: no cover - the extra is installed wherever this module is used
    raise MatchmakerError("the dask engine needs Dask: pip install 'matchmaker[dask]'") from err

# A second-phase task scores a square of tiles, starting from the thresholds of every task folded before it
# was handed out and raising its own organisations' as it goes. At 100,000 organisations on two workers
# (under load 4-6, so roughly), squares of 32 tiles took 5% more worker CPU than squares of 24 (the run's
# thresholds reach a task later) and squares of 12 took 8% more (a square raises its own organisations'
# thresholds at once, the fold only after it); the last squares go as quarters so the workers finish together.
MIN_TASK_TILES, MAX_TASK_TILES = 4, 32
TASKS_PER_THREAD = 8  # squares of the grid per worker thread (about half of them in the triangle scored)
SPLIT_LAST_PER_THREAD = 2  # the last squares handed out, per worker thread, go as quarters
# Second-phase tasks in flight beyond the cluster's threads. 0: a task is handed out when one finishes,
# with the thresholds of that one folded in (a worker waits only for the fold: tens of milliseconds);
# 1 queued task (its thresholds one task older) took 15% more worker CPU at 100,000 on two workers.
IN_FLIGHT_EXTRA = 0
FIRST_PHASE_BLOCKS = 8  # canonical blocks a first-phase task scores
FAN_IN = 8  # partial results merged by one merge task
CONNECT_TIMEOUT_S = 10.0

_local = threading.local()


def _workspace() -> Workspace:
    """This worker thread's buffers; BLAS held to one thread in this worker process (as locally)."""
    found = getattr(_local, "workspace", None)
    if found is None:
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

        threadpool_limits(limits=1, user_api="blas")  # for the process: tasks run in its threads
        found = _local.workspace = Workspace()
    return found


@dataclass(frozen=True)
class Seed:
    """What a second-phase task starts from: the run's merged best so far of its organisations.

    ``rows`` are the task's organisations (ascending), ``score`` their k best scores so far (0 where
    fewer are known), ``held`` where a pair is held. The task's collector starts with these pairs as
    placeholders (partner index n), so each organisation's k-th best rises with every pair the task
    finds, exactly as in the run's merged state; a threshold alone would rise only once the task itself
    had found k pairs above it.
    """

    rows: Any
    score: Any
    held: Any


def task_rows(tiles: Sequence[Tile]) -> Any:
    """The organisations whose best partners a task's tiles can change: their rows and columns, ascending.

    The spans are merged, not the rows sorted: a second-phase task at 100,000 covers hundreds of tiles,
    and sorting their rows took the client about 30 ms a task while a worker waited for its next one.

    >>> task_rows([(0, 2, 4, 6), (2, 4, 4, 6)]).tolist()
    [0, 1, 2, 3, 4, 5]
    >>> task_rows([(0, 2, 6, 8)]).tolist()
    [0, 1, 6, 7]
    """
    merged: list[list[int]] = []
    for start, stop in sorted({span for r0, r1, c0, c1 in tiles for span in ((r0, r1), (c0, c1))}):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], stop)
        else:
            merged.append([start, stop])
    return np.concatenate([np.arange(start, stop) for start, stop in merged])


def seed_of(state: BestPartners, rows: Any) -> Seed:
    """A task: the merged state's best so far of ``rows`` (small beside the state: k scores a row)."""
    return Seed(rows, state.score[rows], state.index[rows] >= 0)  # the state holds every organisation


def score_tiles(
    source: TileSource,
    tiles: Sequence[Tile],
    own_blocks: bool,
    k: int,
    pairs: bool,
    cross_border_only: bool,
    start: Any,
) -> Any:
    """A task: score ``tiles`` in turn, keeping the best of their organisations; their partial result.

    ``start`` is what the run knows already: a :class:`Seed` of the tiles' organisations, the best
    pairs' k-th score (for pairs), or None.
    """
    workspace = _workspace()
    collector: BestPartners | BestPairs
    if pairs:
        collector = BestPairs(k, source.dtype, fast=source.fast)
        if start is not None:
            collector.raise_floor(start)
    else:
        rows = task_rows(tiles) if start is None else start.rows
        collector = BestPartners(source.n, k, source.dtype, fast=source.fast, rows=rows)
        if start is not None:
            _plant(collector, start, source.n)
    for tile in tiles:
        found = source.candidates(
            tile,
            collector.snapshot(tile),
            workspace=workspace,
            cross_border_only=cross_border_only,
            own_blocks=own_blocks,
        )
        collector.merge(found)
    if isinstance(collector, BestPartners) and start is not None:
        return _found(collector, source.n)
    return collector.partial()


def _plant(collector: BestPartners, seed: Seed, n: int) -> None:
    """Start ``collector`` from ``seed``'s pairs, each with the placeholder partner index ``n``.

    A placeholder is a real pair of the run's state, so the k-th best it gives is one the state holds.
    Its index is above every organisation's, so a pair found with an equal score ranks before it and is
    kept (a tie is settled by the final merge, which knows the real indices).
    """
    collector.index[...] = np.where(seed.held, n, -1)
    collector.score[...] = seed.score  # 0 where nothing is held, as in every collector
    collector.threshold[...] = np.where(seed.held[:, -1], seed.score[:, -1], 0)


def _found(collector: BestPartners, n: int) -> Any:
    """The pairs a seeded task found among its organisations' best: the placeholders left out."""
    found = collector.index < n
    index = np.where(found, collector.index, -1)
    held = np.flatnonzero((index >= 0).any(axis=1))
    assert collector.rows is not None
    return collector.rows[held].astype(np.int64), index[held], np.where(found, collector.score, 0)[held]


def merge_parts(n: int, k: int, dtype: Any, fast: bool, pairs: bool, *parts: Any) -> Any:
    """A task: the exact merge of partial results of disjoint sets of tiles."""
    if pairs:
        collector = BestPairs(k, dtype, fast=fast)
        for part in parts:
            collector.absorb(part)
        return collector.partial()
    return merge_partials(list(parts), n, k, dtype, fast=fast)


def fold(
    n: int, k: int, dtype: Any, fast: bool, pairs: bool, state: BestPartners | BestPairs | None, *parts: Any
) -> BestPartners | BestPairs:
    """A task: ``state`` (the run's merged result so far, or None) with ``parts`` merged in; the new state.

    ``state`` is a whole collector (every organisation's best so far, or the best pairs); it is copied,
    never changed, so the task is a pure function of its inputs (run again, it gives the same state).
    The parts are partial results of tiles whose pairs ``state`` does not hold.
    """
    merged: BestPartners | BestPairs
    if state is not None:
        merged = copy.deepcopy(state)
    else:
        merged = BestPairs(k, dtype, fast=fast) if pairs else BestPartners(n, k, dtype, fast=fast)
    for part in parts:
        merged.absorb(part)
    return merged


def thresholds_of(state: BestPartners | BestPairs) -> Any:
    """A task: the thresholds a merged state gives (every organisation's k-th best so far, 0 if fewer)."""
    return state.threshold.copy()


def _groups(tiles: list[Tile], side: int, per_task: int, split_last: int = 0) -> list[list[Tile]]:
    """Second-phase tiles in squares of ``per_task`` x ``per_task`` tiles, one task each, in the order handed out.

    The last ``split_last`` squares are handed out as their quarters instead, so the run ends on small
    tasks and no worker waits long for the last big one.

    >>> [len(g) for g in _groups([(r, r + 1, c, c + 1) for r in range(4) for c in range(r, 4)], 1, 2, 1)]
    [3, 4, 1, 1, 1]
    """
    squares: dict[tuple[int, int], list[Tile]] = {}
    span = side * per_task
    for tile in tiles:
        squares.setdefault((tile[0] // span, tile[2] // span), []).append(tile)
    found = list(squares.values())
    keep = max(0, len(found) - split_last)
    half = side * max(1, per_task // 2)
    quarters: list[list[Tile]] = []
    for square in found[keep:]:
        split: dict[tuple[int, int], list[Tile]] = {}
        for tile in square:
            split.setdefault((tile[0] // half, tile[2] // half), []).append(tile)
        quarters.extend(split.values())
    return found[:keep] + quarters


def task_tiles(tiles_per_side: int, threads: int) -> int:
    """Tiles per side of a second-phase task: as big as keeps ``TASKS_PER_THREAD`` squares per thread.

    >>> task_tiles(98, 2), task_tiles(98, 160), task_tiles(10, 2)
    (24, 4, 4)
    """
    per_task = tiles_per_side // max(1, math.ceil(math.sqrt(TASKS_PER_THREAD * max(1, threads))))
    return max(MIN_TASK_TILES, min(MAX_TASK_TILES, per_task))


def _tree(client: Any, parts: list[Any], merge: Any) -> Any:
    """Merge futures ``FAN_IN`` at a time until one is left."""
    while len(parts) > 1:
        parts = [client.submit(merge, *parts[i : i + FAN_IN]) for i in range(0, len(parts), FAN_IN)]
    return parts[0]


def run_on_client(
    client: Any,
    source: TileSource,
    collector: BestPartners | BestPairs,
    side: int,
    *,
    cross_border_only: bool = False,
    progress: Progress | None = None,
) -> None:
    """Every tile of ``source`` as tasks on ``client``'s cluster; the merged result into ``collector``.

    The first phase's tasks are submitted at once and merged in a tree. The second phase's are handed
    out as the cluster frees up (``IN_FLIGHT_EXTRA`` more than it has threads): each finished task's
    result is folded into the run's merged state (a fold task, on the cluster), and every task handed
    out starts from the thresholds of the state folded so far, as the local engine's tiles start from
    its one collector's. Thresholds are k-th best scores of real pairs, so a higher one only skips
    cells that cannot be among the best (ties at it are kept): the answer does not depend on when a
    task was handed out.
    """
    n, k, pairs = source.n, collector.k, isinstance(collector, BestPairs)
    first, second = work_of(n, side, source.canonical)
    scattered = client.scatter(source, broadcast=True, hash=False)
    merge = _Merge(n, k, source.dtype, source.fast, pairs)

    def folded(state: Any, parts: list[Any]) -> Any:
        while len(parts) >= FAN_IN:  # many at once (a big cluster): merge them in a tree first
            parts = [client.submit(merge, *parts[i : i + FAN_IN], priority=1) for i in range(0, len(parts), FAN_IN)]
        return client.submit(fold, n, k, source.dtype, source.fast, pairs, state, *parts, priority=1)

    work: dict[str, int] = {}
    total, done = max(1, sum(map(tile_work, first + second))), 0

    def finished(future: Any) -> None:
        nonlocal done
        done += work.pop(future.key)
        if progress is not None:
            progress(min(n, n * done // total), n)

    leaves = []
    for i in range(0, len(first), FIRST_PHASE_BLOCKS):
        group = first[i : i + FIRST_PHASE_BLOCKS]
        leaves.append(client.submit(score_tiles, scattered, group, True, k, pairs, cross_border_only, None))
        work[leaves[-1].key] = sum(map(tile_work, group))
    state = folded(None, [_tree(client, leaves, merge)]) if leaves else None
    thresholds = None if state is None or not pairs else client.submit(thresholds_of, state, priority=1)
    for future in distributed.as_completed(leaves, loop=client.loop):
        finished(future)
    del leaves

    threads = sum(client.nthreads().values())
    per_task = task_tiles(-(-n // side), threads)
    waiting = deque(_groups(second, side, per_task, SPLIT_LAST_PER_THREAD * threads))
    running = distributed.as_completed(loop=client.loop)

    def hand_out() -> None:
        group = waiting.popleft()
        start = thresholds
        if not pairs and state is not None:  # the state's best so far of the task's organisations
            start = client.submit(seed_of, state, task_rows(group), priority=1)
        future = client.submit(score_tiles, scattered, group, False, k, pairs, cross_border_only, start)
        work[future.key] = sum(map(tile_work, group))
        running.add(future)

    for _ in range(min(len(waiting), threads + IN_FLIGHT_EXTRA)):
        hand_out()
    unfolded: list[Any] = []
    folding: Any = None  # the fold in progress: the next waits for it, so folds never queue up
    for future in running:
        leaf = folding is None or future.key != folding.key
        if leaf:
            finished(future)
            unfolded.append(future)
        else:
            folding = None
        if unfolded and folding is None:
            state = folding = folded(state, unfolded)
            if pairs:
                thresholds = client.submit(thresholds_of, state, priority=1)
            running.add(folding)
            unfolded = []
        if leaf and waiting:
            hand_out()
    if state is not None:
        collector.absorb(state.result().partial())
    if progress is not None:
        progress(n, n)


@dataclass(frozen=True)
class _Merge:
    """``merge_parts`` with the run's constants bound (a picklable callable for the merge tasks)."""

    n: int
    k: int
    dtype: Any
    fast: bool
    pairs: bool

    def __call__(self, *parts: Any) -> Any:
        return merge_parts(self.n, self.k, self.dtype, self.fast, self.pairs, *parts)


def _check_address(address: str) -> None:
    """MatchmakerError unless ``address`` reads as a scheduler's (checked before a client is made)."""
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, location = parse_address(address)
        if scheme in ("tcp", "tls"):
            parse_host_port(location)
    except ValueError as err:
        raise MatchmakerError(
            f"{address!r} is not a Dask scheduler address ({err}); give one like tcp://10.0.0.5:8786"
        ) from None


@dataclass(frozen=True)
class DaskBackend:
    """The ``dask`` execution backend: ``address`` is the scheduler's (None: a local cluster for the run).

    ``workers`` is the number of worker processes of a local cluster (default: the run's ``n_jobs``,
    else the available cores); each has one thread, as BLAS and the kernel are held to one.
    """

    address: str | None = None
    workers: int | None = None
    timeout: float | None = None  # seconds to reach the scheduler (default CONNECT_TIMEOUT_S)

    def __call__(
        self,
        source: TileSource,
        collector: BestPartners | BestPairs,
        side: int,
        *,
        cross_border_only: bool = False,
        progress: Progress | None = None,
        n_jobs: int | None = None,
    ) -> None:
        with self.client(n_jobs) as client:
            run_on_client(client, source, collector, side, cross_border_only=cross_border_only, progress=progress)

    @contextlib.contextmanager
    def client(self, n_jobs: int | None = None) -> Iterator[Any]:
        """A client of the scheduler at ``address``, or of a local cluster started (and stopped) for it."""
        if self.address is not None:
            _check_address(self.address)
            timeout = CONNECT_TIMEOUT_S if self.timeout is None else self.timeout
            try:
                client = distributed.Client(self.address, timeout=timeout, set_as_default=False)
            except (OSError, TimeoutError, ValueError):
                raise MatchmakerError(
                    f"cannot reach the Dask scheduler at {self.address!r} within {timeout:g} s; start one "
                    "with 'dask scheduler' and its workers with 'dask worker ADDRESS', or leave out --scheduler "
                    "for a local cluster"
                ) from None
            with client:
                yield client
            return
        with (
            local_cluster(self.workers or n_jobs or available_workers()) as cluster,
            distributed.Client(cluster, set_as_default=False) as client,
        ):
            yield client


# Dask's nannies start workers with MALLOC_TRIM_THRESHOLD_=65536, which hands freed heap memory back to
# the system at once (less unmanaged memory) and turns off glibc's adaptive mmap threshold, so a
# worker pays page faults again for buffers the scoring allocates and frees tile after tile. At 60,000
# organisations on one worker, a run took 14.2-14.6 s without it and 15.9-18.3 s with it (three runs
# each, same session). A real cluster's workers take it from their configuration (docs/performance.md).
TRIM_VARIABLE = "MALLOC_TRIM_THRESHOLD_"
WORKER_ENVIRONMENT = {f"distributed.nanny.pre-spawn-environ.{TRIM_VARIABLE}": None}  # None: not set


@contextlib.contextmanager
def local_cluster(workers: int) -> Iterator[Any]:
    """A :class:`distributed.LocalCluster` of ``workers`` processes of one thread each, for one run."""
    import dask

    # A nanny writes its variables into this process's own environment before it spawns a worker, so a
    # cluster started earlier with Dask's defaults leaves the variable here for every later worker (and
    # for a worker respawned during the run): it is set aside while this cluster runs.
    inherited = os.environ.pop(TRIM_VARIABLE, None)
    try:
        with dask.config.set(WORKER_ENVIRONMENT):  # read by each nanny as it starts
            cluster = distributed.LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=40
            )
        with cluster:
            yield cluster
    finally:
        if inherited is not None:
            os.environ[TRIM_VARIABLE] = inherited


if "dask" not in BACKENDS:
    BACKENDS.register("dask", DaskBackend())
