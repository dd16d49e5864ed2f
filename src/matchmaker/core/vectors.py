"""The vectors scoring reads: a population's offer and need matrices per dimension, and array helpers.

Item and organisation vectors come in two forms: exact ones (``scipy.sparse.csr_matrix``, float64,
TF-IDF) and latent ones (dense ``numpy`` arrays, float32). Functions say which forms they take; the
helpers here accept both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

FloatArray: TypeAlias = NDArray[np.float64]
IntArray: TypeAlias = NDArray[np.int64]
Scores: TypeAlias = NDArray[np.floating[Any]]  # float32 for latent vectors, float64 for exact ones
# A block of vectors: a CSR matrix (exact) or a dense array (latent). scipy's matrices are not typed
# precisely enough to state this union usefully, so the alias stays open; ``is_sparse`` tells them apart.
Matrix: TypeAlias = Any


def is_sparse(matrix: Matrix) -> bool:
    return bool(sp.issparse(matrix))


def dense(matrix: Matrix) -> Scores:
    """``matrix`` as a dense array (a sparse one is converted)."""
    return matrix.toarray() if sp.issparse(matrix) else np.asarray(matrix)


def row_norms(matrix: Matrix) -> FloatArray:
    """The Euclidean length of every row, in float64."""
    if sp.issparse(matrix):
        return np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1), dtype=np.float64).ravel())
    norms: FloatArray = np.sqrt(np.einsum("ij,ij->i", matrix, matrix, dtype=np.float64))
    return norms


def unit_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Rows scaled to unit length (all-zero rows stay zero)."""
    norms = row_norms(matrix)
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return sp.csr_matrix(sp.diags(scale) @ matrix)


def rowwise_dot(left: Matrix, right: Matrix) -> FloatArray:
    """``left[k] . right[k]`` for every row k, in float64."""
    if sp.issparse(left):
        return np.asarray(left.multiply(right).sum(axis=1), dtype=np.float64).ravel()
    dots: FloatArray = np.einsum("ij,ij->i", left, right, dtype=np.float64)
    return dots


def dense_rows(matrix: Matrix, rows: IntArray) -> Scores:
    """Rows of a matrix as a dense array; a CSR matrix's straight from its arrays (scipy's indexing costs more)."""
    if not sp.issparse(matrix):
        return np.asarray(matrix[rows])
    csr = sp.csr_matrix(matrix)
    starts, stops = csr.indptr[rows], csr.indptr[rows + 1]
    counts = stops - starts
    positions = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
    out = np.zeros((len(rows), csr.shape[1]), dtype=csr.dtype)
    out[np.repeat(np.arange(len(rows)), counts), csr.indices[positions]] = csr.data[positions]
    return out


def dense_row(matrix: Matrix, row: int) -> Scores:
    """One row as a dense vector; a CSR matrix's straight from its arrays."""
    if sp.issparse(matrix):
        out = np.zeros(matrix.shape[1], dtype=matrix.dtype)
        start, stop = matrix.indptr[row], matrix.indptr[row + 1]
        out[matrix.indices[start:stop]] = matrix.data[start:stop]
        return out
    return np.asarray(matrix[row])


def distinct_rows(matrix: Scores) -> tuple[Scores, NDArray[np.intp]]:
    """The distinct rows of a dense matrix, and each row's position among them.

    >>> rows, codes = distinct_rows(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]))
    >>> rows.tolist(), codes.tolist()
    ([[0.0, 1.0], [1.0, 0.0]], [1, 0, 1])
    """
    distinct, codes = np.unique(matrix, axis=0, return_inverse=True)
    return np.ascontiguousarray(distinct), codes.ravel().astype(np.intp)


@dataclass(frozen=True)
class ProfileMatrices:
    """A population's vectors split into blocks, one row per profile.

    ``offers[d]`` row a is the strength-weighted sum of a's offer vectors in dimension d;
    ``needs[d]`` row b is the importance-weighted average of b's need vectors in d; ``need_mass[b, d]``
    is how much b depends on d (its strongest need there, over the maximum strength); ``sectors`` rows
    are unit-length sector indicators. ``content_widths[d]``, when given, says that the first that many
    columns of dimension d's vectors bound every product of them (the plain text vectors, before the
    attribute blocks: :mod:`~matchmaker.core.encoding.attributes`), which keeps bounds on products tight.
    """

    offers: tuple[Matrix, ...]
    needs: tuple[Matrix, ...]
    need_mass: FloatArray
    sectors: Matrix
    content_widths: tuple[int, ...] | None = None

    @property
    def n(self) -> int:
        return int(self.need_mass.shape[0])

    @property
    def is_dense(self) -> bool:
        """True for latent (dense) vectors, False for exact (sparse) ones."""
        return bool(self.offers) and not sp.issparse(self.offers[0])

    @property
    def dtype(self) -> np.dtype[Any]:
        """float32 for latent vectors stored as float32, else float64: the dtype scores are computed in."""
        if self.is_dense and np.asarray(self.offers[0]).dtype == np.float32:
            return np.dtype(np.float32)
        return np.dtype(np.float64)

    def take(self, rows: IntArray | slice) -> ProfileMatrices:
        """The matrices of ``rows`` (a slice gives views)."""
        return ProfileMatrices(
            tuple(x[rows] for x in self.offers),
            tuple(x[rows] for x in self.needs),
            self.need_mass[rows],
            sp.csr_matrix(self.sectors[rows]),
            self.content_widths,
        )


def _stack(parts: Sequence[Matrix]) -> Matrix:
    if sp.issparse(parts[0]):
        return sp.vstack(parts, format="csr")
    return np.concatenate([np.asarray(p) for p in parts])


def concat(chunks: Sequence[ProfileMatrices]) -> ProfileMatrices:
    """Row chunks joined into one set of matrices."""
    if len(chunks) == 1:
        return chunks[0]
    return ProfileMatrices(
        offers=tuple(_stack([c.offers[d] for c in chunks]) for d in range(len(chunks[0].offers))),
        needs=tuple(_stack([c.needs[d] for c in chunks]) for d in range(len(chunks[0].needs))),
        need_mass=np.concatenate([c.need_mass for c in chunks]),
        sectors=sp.vstack([c.sectors for c in chunks], format="csr"),
        content_widths=chunks[0].content_widths,
    )
