"""The elementwise work on a block pair's products, two ways: numpy (always there) and numba (optional).

Both compute, from the per-dimension products of one pair of canonical blocks
(:mod:`~matchmaker.core.scoring.layout`), every pair's capped directed benefits, their combination and
the bonus, with the same float operations in the same order, so they give bit-identical scores
(tests/core/test_kernels.py). numpy does it in whole-array passes over the block pair; numba
(:mod:`~matchmaker.core.scoring.kernels_numba`, ``pip install matchmaker[fast]``) in one pass per row,
keeping only the cells that can be among the best.

``KERNELS`` lists the kernels by name; ``choose_kernel`` picks one ("auto": numba when it is installed,
the population is large enough for its compilation to pay and the combiner is a built-in one).
"""

from __future__ import annotations

import importlib
import importlib.util
from functools import cache
from types import ModuleType
from typing import Any

import numpy as np

from matchmaker.core.errors import SettingsError
from matchmaker.core.registry import Registry
from matchmaker.core.scoring.formula import COMBINER_CODES, apply_bonus, combine
from matchmaker.core.scoring.layout import SupportLayout
from matchmaker.core.scoring.settings import ScoringSettings
from matchmaker.core.vectors import Scores

NUMBA_FROM = 2048  # organisations from which "auto" compiles the numba kernel (below, numpy is as quick)

KERNELS: Registry[str] = Registry(
    "kernel",
    {
        "numpy": "whole-array numpy passes per block pair (always available)",
        "numba": "one fused pass per row, compiled with numba (pip install matchmaker[fast])",
    },
)


@cache
def numba_kernels() -> ModuleType | None:
    """The compiled kernels, or None when numba is not installed (imported once, on first use)."""
    if importlib.util.find_spec("numba") is None:
        return None
    return importlib.import_module("matchmaker.core.scoring.kernels_numba")


def choose_kernel(name: str, n: int, settings: ScoringSettings) -> str:
    """The kernel to use: ``name`` itself, or for "auto" numba when it pays and applies, else numpy.

    >>> choose_kernel("numpy", 10**6, ScoringSettings())
    'numpy'
    >>> choose_kernel("fortran", 10, ScoringSettings())
    Traceback (most recent call last):
    ...
    matchmaker.core.errors.SettingsError: unknown kernel 'fortran'; accepted: auto, numpy, numba
    """
    if name == "auto":
        fits = settings.combiner in _BUILT_IN_COMBINERS and n >= NUMBA_FROM
        return "numba" if fits and numba_kernels() is not None else "numpy"
    if name not in KERNELS:
        raise SettingsError(f"unknown kernel {name!r}; accepted: auto, {', '.join(KERNELS)}")
    if name == "numba":
        if settings.combiner not in _BUILT_IN_COMBINERS:
            raise SettingsError(
                f"the numba kernel computes the built-in combiners only ({', '.join(_BUILT_IN_COMBINERS)}), "
                f"not {settings.combiner!r}; use the numpy kernel"
            )
        if numba_kernels() is None:
            raise SettingsError("the numba kernel needs numba: pip install 'matchmaker[fast]'")
    return name


_BUILT_IN_COMBINERS = tuple(COMBINER_CODES)


def block_scores(
    layout: SupportLayout,
    rb: int,
    cb: int,
    products: Scores,
    offsets: Any,
    widths: Any,
    bonus: tuple[Scores, Any, Any],
    settings: ScoringSettings,
    *,
    clamp: bool,
    cross_only: bool,
) -> Scores:
    """The scores of a canonical block pair (rows of block ``rb`` as A, columns of ``cb`` as B), by position.

    ``products`` holds each dimension's product of the block pair (see ``TileScorer.products``);
    ``bonus`` is the table (or the block pair's bonus product) and the rows' and columns' codes into it.
    """
    rows, cols = layout.block_rows(rb), layout.block_rows(cb)
    rbase, cbase = rb * layout.canonical, cb * layout.canonical
    ab = np.zeros((rows, cols), dtype=layout.dtype)
    ba = np.zeros((rows, cols), dtype=layout.dtype)
    for d in range(layout.dimensions):
        r = np.flatnonzero(layout.offer_pos[d, rbase : rbase + rows] >= 0)
        c = np.flatnonzero(layout.need_pos[d, cbase : cbase + cols] >= 0)
        if r.size and c.size:
            part = products[offsets[0, d] : offsets[0, d] + r.size * c.size].reshape(r.size, c.size)
            ab[np.ix_(r, c)] += np.minimum(part, layout.share[d, cbase + c][None, :])
        r = np.flatnonzero(layout.need_pos[d, rbase : rbase + rows] >= 0)
        c = np.flatnonzero(layout.offer_pos[d, cbase : cbase + cols] >= 0)
        if r.size and c.size:
            part = products[offsets[1, d] : offsets[1, d] + r.size * c.size].reshape(r.size, c.size)
            ba[np.ix_(r, c)] += np.minimum(part, layout.share[d, rbase + r][:, None])
    result, _ = combine(ab, ba, settings, clamp=clamp)
    table, row_codes, col_codes = bonus
    apply_bonus(result, table[np.ix_(row_codes, col_codes)])
    if cross_only:
        x, y = layout.is_x, layout.is_y
        rx, ry = x[rbase : rbase + rows, None], y[rbase : rbase + rows, None]
        cx, cy = x[cbase : cbase + cols], y[cbase : cbase + cols]
        np.multiply(result, (rx & cy) | (ry & cx), out=result)
    return result
