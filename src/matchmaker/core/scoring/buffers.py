"""Reusable tile buffers: one per worker, so scoring a tile allocates nothing large."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from matchmaker.core.vectors import Scores


class Workspace:
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
