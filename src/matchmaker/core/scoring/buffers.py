"""Reusable tile buffers: one set per worker, so scoring a tile allocates nothing large.

A run borrows its workspaces from :data:`IDLE` and gives them back, so the next run in the process
(the service ranking again, a benchmark's repeats) finds its buffers' pages already mapped: a fresh
page costs a fault on first touch, and at 1,000 organisations the faults were about a tenth of a run.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from numpy.typing import NDArray

from matchmaker.core.vectors import Scores

HUGE_PAGE = 1 << 21  # bytes: the transparent huge page of x86-64 and arm64 Linux
HUGE_FROM = 1 << 20  # bytes: buffers from this size are placed on huge page boundaries
KEEP_BYTES = 64 << 20  # idle workspaces kept between runs, in all (the rest are freed)


class Workspace:
    """One worker's reusable buffers: products and scores of a block pair, kept cells, triangle masks."""

    def __init__(self) -> None:
        self._flat: dict[tuple[int, Any], Scores] = {}
        self._lower: dict[int, NDArray[np.bool_]] = {}
        self._cells: dict[Any, tuple[NDArray[Any], ...]] = {}

    def buffer(self, slot: int, rows: int, cols: int, dtype: Any) -> Scores:
        flat = self._flat.get((slot, dtype))
        if flat is None or flat.size < rows * cols:
            flat = self._flat[(slot, dtype)] = _aligned_empty(rows * cols, np.dtype(dtype))
        return flat[: rows * cols].reshape(rows, cols)

    def cells(self, dtype: Any, capacity: int) -> tuple[NDArray[Any], ...]:
        """Room for ``capacity`` kept cells: rows, columns, scores, flags (reused; valid until the next call)."""
        found = self._cells.get(dtype)
        if found is None or found[0].size < capacity:
            size = max(capacity, 1)
            found = self._cells[dtype] = (
                np.empty(size, dtype=np.int64),
                np.empty(size, dtype=np.int64),
                np.empty(size, dtype=dtype),
                np.empty(size, dtype=np.int8),
            )
        return found

    def lower(self, size: int) -> NDArray[np.bool_]:
        """True on and below the diagonal of a size x size tile."""
        mask = self._lower.get(size)
        if mask is None:
            mask = self._lower[size] = np.tril(np.ones((size, size), dtype=bool))
        return mask

    @property
    def nbytes(self) -> int:
        """The memory the buffers hold."""
        arrays = [*self._flat.values(), *self._lower.values(), *(a for cells in self._cells.values() for a in cells)]
        return sum(a.base.nbytes if a.base is not None else a.nbytes for a in arrays)


def _aligned_empty(size: int, dtype: np.dtype[Any]) -> Scores:
    """``np.empty(size, dtype)``; from ``HUGE_FROM`` bytes, starting on a huge page boundary.

    numpy asks Linux for transparent huge pages on allocations of 4 MiB and more; a buffer that starts
    on a boundary lies in whole huge pages, so first touching it costs a fault per 2 MiB, not per 4 KiB.
    """
    if size * dtype.itemsize < HUGE_FROM:
        return np.empty(size, dtype=dtype)
    nbytes = size * dtype.itemsize
    raw = np.empty(max(nbytes + HUGE_PAGE, 2 * HUGE_PAGE), dtype=np.uint8)  # room to skip to a boundary
    skip = -raw.ctypes.data % HUGE_PAGE
    return raw[skip : skip + nbytes].view(dtype)


class WorkspacePool:
    """Workspaces lent to tiles and kept while idle (thread-safe).

    While any is lent (a run in progress), every returned one is kept for the next tile, whatever its
    size; once all are back, the idle ones are kept up to ``keep_bytes`` in all, the smallest first.

    >>> pool = WorkspacePool(keep_bytes=1 << 20)
    >>> with pool.borrowed() as first:
    ...     _ = first.buffer(0, 10, 10, np.float64)
    >>> with pool.borrowed() as again:
    ...     again is first
    True
    """

    def __init__(self, keep_bytes: int = KEEP_BYTES) -> None:
        self.keep_bytes = keep_bytes
        self.forget()

    def forget(self) -> None:
        """Start afresh: no idle workspaces, a new lock (a forked child's, which no thread holds)."""
        self._idle: list[Workspace] = []
        self._lent = 0
        self._lock = threading.Lock()

    @contextmanager
    def borrowed(self) -> Iterator[Workspace]:
        with self._lock:
            workspace = self._idle.pop() if self._idle else Workspace()
            self._lent += 1
        try:
            yield workspace
        finally:
            with self._lock:
                self._lent -= 1
                self._idle.append(workspace)
                if not self._lent:
                    self._trim()

    def _trim(self) -> None:
        kept, total = [], 0
        for workspace in sorted(self._idle, key=lambda w: w.nbytes):
            if total + workspace.nbytes <= self.keep_bytes:
                kept.append(workspace)
                total += workspace.nbytes
        self._idle = kept


IDLE = WorkspacePool()
os.register_at_fork(after_in_child=IDLE.forget)  # a fork may happen while another thread holds the lock
