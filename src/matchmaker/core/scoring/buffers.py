"""Reusable tile buffers: one set per worker, so scoring a tile allocates nothing large."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from matchmaker.core.vectors import Scores


class Workspace:
    """One worker's reusable buffers: products and scores of a block pair, kept cells, triangle masks."""

    def __init__(self) -> None:
        self._flat: dict[tuple[int, Any], Scores] = {}
        self._lower: dict[int, NDArray[np.bool_]] = {}
        self._cells: dict[Any, tuple[NDArray[Any], ...]] = {}

    def buffer(self, slot: int, rows: int, cols: int, dtype: Any) -> Scores:
        flat = self._flat.get((slot, dtype))
        if flat is None or flat.size < rows * cols:
            flat = self._flat[(slot, dtype)] = np.empty(rows * cols, dtype=dtype)
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
