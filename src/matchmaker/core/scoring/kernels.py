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
from matchmaker.core.scoring.buffers import Workspace
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


RECTANGLES_MAX = 64  # run pairs up to which a dimension's terms are added rectangle by rectangle


def _add_terms(
    into: Scores, part: Scores, members: tuple[Any, Any], runs: tuple[Any, Any], bounds: tuple[Any, Any]
) -> None:
    """``into[rows, cols] += part``: the term block ``part`` of the member rows and columns, added in place.

    Rows and columns are sorted by support within a block (:mod:`~matchmaker.core.scoring.layout`), so a
    dimension's members are a few runs: each pair of runs is a rectangle of ``part`` added to a
    rectangle of ``into`` (a slice, not a scatter). Where the runs are many, the members are scattered.
    """
    row_runs, col_runs = runs[0][bounds[0][0] : bounds[0][1]], runs[1][bounds[1][0] : bounds[1][1]]
    if len(row_runs) * len(col_runs) > RECTANGLES_MAX:
        into[np.ix_(members[0], members[1])] += part
        return
    cols = [(int(start), int(start + length), int(first), int(first + length)) for start, length, first in col_runs]
    for start, length, first in row_runs.tolist():
        target, source = into[start : start + length], part[first : first + length]
        for c0, c1, f0, f1 in cols:
            target[:, c0:c1] += source[:, f0:f1]


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
    out: Scores | None = None,
    workspace: Workspace | None = None,
) -> Scores:
    """The scores of a canonical block pair (rows of block ``rb`` as A, columns of ``cb`` as B), by position.

    ``products`` holds each dimension's product of the block pair (see ``TileScorer.products``; its
    terms are capped in place); ``bonus`` is the table (or the block pair's bonus product) and the rows'
    and columns' codes into it. The scores are written to ``out`` when given (a (rows, cols) view,
    returned), else to a new array; ``workspace`` lends the intermediate buffers.
    """
    rows, cols = layout.block_rows(rb), layout.block_rows(cb)
    rbase, cbase = rb * layout.canonical, cb * layout.canonical
    dtype = layout.dtype
    ab = np.empty((rows, cols), dtype=dtype) if out is None else out
    ba = np.empty((rows, cols), dtype=dtype) if workspace is None else workspace.buffer(2, rows, cols, dtype)
    ab.fill(0)
    ba.fill(0)
    spare = None if workspace is None else workspace.buffer(3, rows, cols, dtype)
    row_span, col_span = slice(rbase, rbase + rows), slice(cbase, cbase + cols)
    offer_bounds, need_bounds = layout.offer_run_bounds, layout.need_run_bounds
    for d in range(layout.dimensions):
        # A's offers against B's needs, each term capped at B's share c_d[B]
        r = np.flatnonzero(layout.offer_pos[d, row_span] >= 0)
        c = np.flatnonzero(layout.need_pos[d, col_span] >= 0)
        if r.size and c.size:
            part = products[offsets[0, d] : offsets[0, d] + r.size * c.size].reshape(r.size, c.size)
            np.minimum(part, layout.share[d, cbase + c][None, :], out=part)
            runs = (layout.offer_runs, layout.need_runs)
            _add_terms(ab, part, (r, c), runs, (offer_bounds[d, rb : rb + 2], need_bounds[d, cb : cb + 2]))
        # A's needs against B's offers, each term capped at A's share c_d[A]
        r = np.flatnonzero(layout.need_pos[d, row_span] >= 0)
        c = np.flatnonzero(layout.offer_pos[d, col_span] >= 0)
        if r.size and c.size:
            part = products[offsets[1, d] : offsets[1, d] + r.size * c.size].reshape(r.size, c.size)
            np.minimum(part, layout.share[d, rbase + r][:, None], out=part)
            runs = (layout.need_runs, layout.offer_runs)
            _add_terms(ba, part, (r, c), runs, (need_bounds[d, rb : rb + 2], offer_bounds[d, cb : cb + 2]))
    result, free = combine(ab, ba, settings, clamp=clamp, spare=spare)
    table, row_codes, col_codes = bonus
    if layout.table is None:  # the block pair's own bonus product
        apply_bonus(result, table)
    else:  # a lookup: the columns' entries of every table line, then the rows' lines (two gathers)
        # Columns first: the second gather copies whole lines. mode="clip" (the codes are in range)
        # spares numpy's copy of ``out``, which the default mode="raise" makes. The combiner's free
        # buffer takes the lines: one buffer fewer to touch.
        columns = table.take(col_codes, axis=1)
        if workspace is None:
            found = columns.take(row_codes, axis=0)
        else:
            whole = free is not None and free.shape == (rows, cols) and free.flags.c_contiguous
            found = free if whole else workspace.buffer(4, rows, cols, dtype)
            np.take(columns, row_codes, axis=0, out=found, mode="clip")
        apply_bonus(result, found)
    if cross_only:
        x, y = layout.is_x, layout.is_y
        rx, ry = x[row_span, None], y[row_span, None]
        cx, cy = x[col_span], y[col_span]
        np.multiply(result, (rx & cy) | (ry & cx), out=result)
    if out is not None and result is not out:
        out[...] = result
        return out
    return result
