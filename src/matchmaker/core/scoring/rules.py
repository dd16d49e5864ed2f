"""A pair filter as the tile kernels test it: per-organisation arrays and the sorted keys of listed pairs.

:class:`~matchmaker.core.scoring.filters.PairFilter` says which pairs may be recommended;
:class:`CellRules` holds the same rules in the form a tile kernel can test one cell at a time (the
compiled kernel tests only the cells that can be among the best, before they count towards any
organisation's best), so a filtered run scores every tile once and its selection is exact. Small and
picklable: a cluster backend ships it to its workers with the layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from matchmaker.core.vectors import IntArray

BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class CellRules:
    """Which pairs of a population of ``n`` pass (see ``PairFilter`` for the rules themselves).

    ``allowed``: who may be paired at all. ``one_of`` (when ``use_one_of``): a pair needs exactly one
    member of this set. ``groups``: one row of codes per rule (-1: none); equal codes are not paired.
    ``keys``: the listed pairs as ``a * n + b`` with ``a < b``, sorted.

    >>> rules = CellRules.of(4, allowed=np.array([True, True, True, False]), pairs=(np.array([2]), np.array([1])))
    >>> rules.mask(np.array([2, 0]), np.array([1, 2, 3])).astype(int).tolist()
    [[0, 1, 0], [1, 1, 0]]
    """

    n: int
    allowed: BoolArray
    use_one_of: bool
    one_of: BoolArray
    groups: NDArray[np.int64]  # (rules, n)
    keys: NDArray[np.int64]

    @classmethod
    def of(
        cls,
        n: int,
        *,
        allowed: BoolArray | None = None,
        one_of: BoolArray | None = None,
        groups: tuple[IntArray, ...] = (),
        pairs: tuple[IntArray, IntArray] | None = None,
    ) -> CellRules:
        first, second = pairs if pairs is not None else (np.zeros(0, np.int64), np.zeros(0, np.int64))
        first, second = np.asarray(first, dtype=np.int64), np.asarray(second, dtype=np.int64)
        keys = np.unique(np.minimum(first, second) * n + np.maximum(first, second))
        return cls(
            n=n,
            allowed=np.ones(n, dtype=bool) if allowed is None else np.ascontiguousarray(allowed, dtype=bool),
            use_one_of=one_of is not None,
            one_of=np.zeros(n, dtype=bool) if one_of is None else np.ascontiguousarray(one_of, dtype=bool),
            groups=np.ascontiguousarray(np.stack(groups) if groups else np.zeros((0, n)), dtype=np.int64),
            keys=np.ascontiguousarray(keys, dtype=np.int64),
        )

    @classmethod
    def none(cls) -> CellRules:
        """No rule: what the compiled kernel is given when nothing is filtered (the same types)."""
        return cls.of(1)

    def arrays(self, active: bool) -> tuple[Any, ...]:
        """The rules as the compiled kernel takes them (``active`` False: every cell passes)."""
        return (active, self.allowed, self.use_one_of, self.one_of, self.groups, self.keys, np.int64(self.n))

    def mask(self, rows: IntArray, cols: IntArray) -> BoolArray:
        """True where the pair (rows[i], cols[j]) passes; rows and columns in any order."""
        keep = self.allowed[rows][:, None] & self.allowed[cols][None, :]
        if self.use_one_of:
            keep &= self.one_of[rows][:, None] ^ self.one_of[cols][None, :]
        for codes in self.groups:
            a, b = codes[rows][:, None], codes[cols][None, :]
            keep &= ~((a == b) & (a >= 0))
        if self.keys.size:
            a, b = rows[:, None].astype(np.int64), cols[None, :].astype(np.int64)
            key = np.minimum(a, b) * self.n + np.maximum(a, b)
            at = np.minimum(np.searchsorted(self.keys, key), self.keys.size - 1)
            keep &= self.keys[at] != key
        return keep
