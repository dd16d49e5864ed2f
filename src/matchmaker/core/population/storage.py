"""A population's matrices in row chunks: cheap copy-on-write updates, and arrays derived per chunk.

Storage is a sequence of row chunks (one as fitted), so adding a profile writes one row into a tail
chunk (amortised) and changing one copies at most ``CHUNK_ROWS`` rows, without refitting or
rescoring anyone. Stores derived by an update share every chunk they did not change, and with them
the arrays a scorer derived from those chunks (``per_chunk``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import scipy.sparse as sp

from matchmaker.core.population.names import Picklable
from matchmaker.core.vectors import (
    IntArray,
    Matrix,
    ProfileMatrices,
    Scores,
    concat,
    dense,
    dense_rows,
    distinct_rows,
)

T = TypeVar("T")
CHUNK_ROWS = 16_384  # rows per storage chunk: changing one profile copies at most one chunk
TAIL_ROWS = 2_048  # appended profiles go to tail chunks of at most this many rows (cheap to re-index)
_SPARE_ROWS = 64  # first capacity of a chunk that grows by appends (then doubling)
_DENSE_ITEM_CELLS = 4_000_000  # few rows of exact vectors are gathered as dense arrays up to this size


class Growable(Picklable):
    """A dense last chunk with spare rows: appending writes one row instead of copying the chunk.

    Stores hold views of its first rows; only the one holding all ``length`` rows may append in place
    (``append`` checks), so a view is never written to once handed out.
    """

    def __init__(self, chunk: ProfileMatrices, capacity: int) -> None:
        self.offers = [self._spare(x, capacity) for x in chunk.offers]
        self.needs = [self._spare(x, capacity) for x in chunk.needs]
        self.need_mass = self._spare(chunk.need_mass, capacity)
        self.capacity = capacity
        self.length = chunk.n
        self.content_widths = chunk.content_widths
        self.lock = threading.Lock()

    @staticmethod
    def _spare(matrix: Any, capacity: int) -> Any:
        array = np.asarray(matrix)
        grown = np.empty((capacity, array.shape[1]), dtype=array.dtype)
        grown[: array.shape[0]] = array
        return grown

    def append(self, n: int, row: ProfileMatrices) -> bool:
        """Write ``row`` after the first n rows if n is the current length and there is room."""
        with self.lock:
            if self.length != n or n >= self.capacity:
                return False
            for target, source in zip([*self.offers, *self.needs], [*row.offers, *row.needs], strict=True):
                target[n] = np.asarray(source)[0]
            self.need_mass[n] = row.need_mass[0]
            self.length = n + 1
            return True

    def view(self, n: int, sectors: Matrix) -> ProfileMatrices:
        return ProfileMatrices(
            tuple(x[:n] for x in self.offers),
            tuple(x[:n] for x in self.needs),
            self.need_mass[:n],
            sectors,
            self.content_widths,
        )


def _split(m: ProfileMatrices) -> tuple[ProfileMatrices, ...]:
    """Chunks of ``CHUNK_ROWS`` rows (views of ``m``, nothing copied)."""
    if m.n <= CHUNK_ROWS:
        return (m,)
    return tuple(m.take(slice(start, start + CHUNK_ROWS)) for start in range(0, m.n, CHUNK_ROWS))


def _replace_row(chunk: ProfileMatrices, row: int, new: ProfileMatrices) -> ProfileMatrices:
    if chunk.is_dense:

        def put(x: Matrix, y: Matrix) -> Matrix:
            out = np.array(x, copy=True)
            out[row] = np.asarray(y)[0]
            return out

        mass = chunk.need_mass.copy()
        mass[row] = new.need_mass[0]
        sectors = sp.vstack([chunk.sectors[:row], new.sectors, chunk.sectors[row + 1 :]], format="csr")
        return ProfileMatrices(
            tuple(put(x, y) for x, y in zip(chunk.offers, new.offers, strict=True)),
            tuple(put(x, y) for x, y in zip(chunk.needs, new.needs, strict=True)),
            mass,
            sectors,
            chunk.content_widths,
        )
    return concat([chunk.take(slice(0, row)), new, chunk.take(slice(row + 1, chunk.n))])


def _sector_sets(chunk: ProfileMatrices) -> tuple[Scores, Any]:
    return distinct_rows(dense(chunk.sectors).astype(chunk.dtype))


class ChunkStore(Picklable):
    """Row chunks of matrices, the spare room behind the last one, and the arrays derived from them.

    Implements the scorers' ``DerivedCache``: entries per chunk (by chunk identity, kept while the
    chunk is) and per store.
    """

    _locks = ("_lock",)

    def __init__(
        self,
        chunks: tuple[ProfileMatrices, ...],
        *,
        growable: Growable | None = None,
        tail: bool = False,
        whole: ProfileMatrices | None = None,
        carried: dict[tuple[str, int], tuple[ProfileMatrices, Any]] | None = None,
    ) -> None:
        self.chunks = chunks
        self._growable = growable  # spare room behind the last chunk, if it is an append tail
        self._tail = tail  # the last chunk holds appended profiles (and may grow)
        self._whole = whole
        self._lock = threading.Lock()
        held = {id(c): c for c in chunks}
        self._per_chunk = {key: v for key, v in (carried or {}).items() if held.get(key[1]) is v[0]}
        self._per_population: dict[tuple[str, tuple[Any, ...]], Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["_per_chunk"], state["_per_population"] = {}, {}  # derived again on use
        return state

    @property
    def n(self) -> int:
        return sum(c.n for c in self.chunks)

    # -- DerivedCache ------------------------------------------------------------------------------

    def per_chunk(self, name: str, chunk: ProfileMatrices, build: Callable[[ProfileMatrices], T]) -> T:
        key = (name, id(chunk))
        entry = self._per_chunk.get(key)
        if entry is None or entry[0] is not chunk:
            entry = self._per_chunk[key] = (chunk, build(chunk))
        found: T = entry[1]
        return found

    def per_population(self, name: str, key: tuple[Any, ...], build: Callable[[], T]) -> T:
        found = self._per_population.get((name, key))
        if found is None:
            found = self._per_population[(name, key)] = build()
        result: T = found
        return result

    # -- reading -----------------------------------------------------------------------------------

    def whole(self) -> ProfileMatrices:
        """Every row as one set of matrices (joined from the chunks on first use)."""
        whole = self._whole
        if whole is None:
            with self._lock:
                whole = self._whole
                if whole is None:
                    whole = self._whole = concat(self.chunks)
        return whole

    def rows(self, rows: IntArray) -> ProfileMatrices:
        """The matrices of ``rows`` (ascending, distinct), gathered from the chunks."""
        parts, start = [], 0
        for chunk in self.chunks:
            lo, hi = np.searchsorted(rows, (start, start + chunk.n))
            if hi > lo:
                local = rows[lo:hi] - start
                if not chunk.is_dense and local.size * chunk.offers[0].shape[1] <= _DENSE_ITEM_CELLS:
                    # Few rows of exact vectors: dense is far cheaper to gather and multiply.
                    parts.append(
                        ProfileMatrices(
                            tuple(dense_rows(x, local) for x in chunk.offers),
                            tuple(dense_rows(x, local) for x in chunk.needs),
                            chunk.need_mass[local],
                            dense_rows(chunk.sectors, local),
                            chunk.content_widths,
                        )
                    )
                elif not chunk.is_dense:
                    parts.append(chunk.take(local))
                else:  # dense sector rows from the chunk's distinct sector sets: no sparse indexing
                    sets, codes = self.per_chunk("sector-sets", chunk, _sector_sets)
                    parts.append(
                        ProfileMatrices(
                            tuple(x[local] for x in chunk.offers),
                            tuple(x[local] for x in chunk.needs),
                            chunk.need_mass[local],
                            sets[codes[local]],
                            chunk.content_widths,
                        )
                    )
            start += chunk.n
        if not parts:
            return self.chunks[0].take(rows)
        if len(parts) == 1:
            return parts[0]
        if not any(sp.issparse(p.sectors) for p in parts):
            return ProfileMatrices(
                tuple(np.concatenate([p.offers[d] for p in parts]) for d in range(len(parts[0].offers))),
                tuple(np.concatenate([p.needs[d] for p in parts]) for d in range(len(parts[0].needs))),
                np.concatenate([p.need_mass for p in parts]),
                np.concatenate([p.sectors for p in parts]),
                parts[0].content_widths,
            )
        return concat(
            [ProfileMatrices(p.offers, p.needs, p.need_mass, sp.csr_matrix(p.sectors), p.content_widths) for p in parts]
        )

    # -- updates (each returns a new store; this one is unchanged) ----------------------------------

    def _derived(
        self,
        chunks: tuple[ProfileMatrices, ...],
        growable: Growable | None,
        tail: bool,
        carried: dict[tuple[str, int], tuple[ProfileMatrices, Any]] | None = None,
    ) -> ChunkStore:
        return ChunkStore(chunks, growable=growable, tail=tail, carried=self._per_chunk if carried is None else carried)

    def appended(self, new: ProfileMatrices) -> ChunkStore:
        """The store with one row added at the end."""
        chunks, growable = self.chunks, self._growable
        last = chunks[-1]
        if not (self._tail and last.n < TAIL_ROWS):  # start a tail chunk: the others stay as they are
            growable = Growable(new, _SPARE_ROWS) if new.is_dense else None
            chunks = (*chunks, growable.view(1, new.sectors) if growable is not None else new)
        elif not last.is_dense:
            chunks = (*chunks[:-1], concat([last, new]))
        else:
            sectors = sp.vstack([last.sectors, new.sectors], format="csr")
            if growable is None or not growable.append(last.n, new):
                # No room, or another store already appended here: copy the tail once, room to double.
                growable = Growable(concat([last, new]), min(TAIL_ROWS, max(_SPARE_ROWS, 2 * (last.n + 1))))
            chunks = (*chunks[:-1], growable.view(last.n + 1, sectors))
        return self._derived(chunks, growable, True)

    def replaced(self, row: int, new: ProfileMatrices) -> ChunkStore:
        """The store with row ``row`` replaced by ``new`` (one chunk is copied)."""
        chunks, start, k = list(self.chunks), 0, 0
        carried = self._per_chunk
        while row >= start + chunks[k].n:
            start += chunks[k].n
            k += 1
        chunk = chunks[k]
        if chunk.n > CHUNK_ROWS:  # split a large chunk first (views), so only a part is copied
            parts = _split(chunk)
            carried = dict(carried)
            # Derived arrays that can be cut by rows (they define ``sliced(start, stop)``) carry over to the parts.
            for (name, chunk_id), (owner, value) in list(self._per_chunk.items()):
                sliced = getattr(value, "sliced", None)
                if chunk_id == id(chunk) and owner is chunk and sliced is not None:
                    for j, part in enumerate(parts):
                        carried[(name, id(part))] = (part, sliced(j * CHUNK_ROWS, j * CHUNK_ROWS + part.n))
            chunks[k : k + 1] = parts
            k, start = k + (row - start) // CHUNK_ROWS, start + (row - start) // CHUNK_ROWS * CHUNK_ROWS
        chunks[k] = _replace_row(chunks[k], row - start, new)
        growable = self._growable if chunks[-1] is self.chunks[-1] else None
        return self._derived(tuple(chunks), growable, self._tail, carried)

    def without(self, row: int) -> ChunkStore:
        """The store without row ``row`` (joined into one chunk again)."""
        keep = np.array([k for k in range(self.n) if k != row], dtype=np.int64)
        return ChunkStore((self.whole().take(keep),))
