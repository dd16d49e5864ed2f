"""The tile kernel compiled with numba: every elementwise step of a block of pairs in one pass.

For each row of a pair of canonical blocks (see :mod:`~matchmaker.core.scoring.layout`) the kernel adds
each dimension's capped terms into the row's two directed benefits, combines them, applies the bonus
and keeps the cells that may be among the best, all while the row is in cache. It repeats, operation
for operation, what :mod:`~matchmaker.core.scoring.kernels` does with numpy (the fallback), so both give
bit-identical scores: the same float operations in the same order (``x if x <= c else c`` is numpy's
``minimum``, ``x if x >= c else c`` its ``maximum``), no fast-math, nothing reassociated.

Selection: a cell is kept for its row (its column) if its score reaches that organisation's floor: the
k-th best known before the tile, or, for an organisation without k partners yet ("open"), the k-th best
of the tile so far, kept in a small heap. The combined score without the bonus, times the row's largest
bonus, bounds the score from above (rounding is monotone), so the bonus is looked up only for cells
that can pass.

Importing this module imports numba; :mod:`~matchmaker.core.scoring.kernels` does it only when asked.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from matchmaker.core.scoring.formula import COMBINER_CODES

HARMONIC, GEOMETRIC, ARITHMETIC, MINIMUM, STRONGER_LED, SQRT_MEAN = (
    COMBINER_CODES[name] for name in ("harmonic", "geometric", "arithmetic", "min", "stronger-led", "sqrt-mean")
)

# error_model="numpy": no zero-division checks in the loops (no division here can be by zero). fastmath "nnan"
# only: the values are never NaN, so min/max selections become vector min/max instructions; nothing is
# reassociated or approximated, so every result is the one numpy computes.
_jit = numba.njit(nogil=True, cache=True, error_model="numpy", fastmath={"nnan"})


@_jit
def _row_terms(
    p: int,
    cb: int,
    cbase: int,
    products: Any,
    offsets: Any,
    widths: Any,
    offer_pos: Any,
    need_pos: Any,
    offer_runs: Any,
    offer_run_bounds: Any,
    need_runs: Any,
    need_run_bounds: Any,
    share: Any,
    acc_ab: Any,
    acc_ba: Any,
) -> None:
    """Both directed benefits of position ``p`` against the column block ``cb``, capped, by dimension."""
    dims = offsets.shape[1]
    acc_ab[:] = 0
    acc_ba[:] = 0
    # Unsigned indices: numba checks a signed index for wrapping around, which keeps LLVM from
    # vectorising the loops; these are never negative.
    for d in range(dims):
        q = offer_pos[d, p]
        if q >= 0:  # p offers in d: min(offers_d[p] . needs_d'[b], c_d[b]) for every b needing in d
            base = offsets[0, d] + q * widths[0, d]
            for r in range(need_run_bounds[d, cb], need_run_bounds[d, cb + 1]):
                start, length = np.uint64(need_runs[r, 0]), need_runs[r, 1]
                first, column = np.uint64(base + need_runs[r, 2]), np.uint64(cbase) + start
                for u in range(length):
                    at = np.uint64(u)
                    v = products[first + at]
                    c = share[d, column + at]
                    acc_ab[start + at] += v if v <= c else c
        q = need_pos[d, p]
        if q >= 0:  # p needs in d: min(needs_d'[p] . offers_d[b], c_d[p]) for every b offering in d
            base = offsets[1, d] + q * widths[1, d]
            c = share[d, p]
            for r in range(offer_run_bounds[d, cb], offer_run_bounds[d, cb + 1]):
                start, length = np.uint64(offer_runs[r, 0]), offer_runs[r, 1]
                first = np.uint64(base + offer_runs[r, 2])
                for u in range(length):
                    at = np.uint64(u)
                    v = products[first + at]
                    acc_ba[start + at] += v if v <= c else c


@_jit
def _combine(acc_ab: Any, acc_ba: Any, out: Any, combiner: int, clamp: bool, tiny: Any, noise: Any) -> None:
    """The combiner of both directions, without its constant (it is in the bonus), as numpy computes it.

    ``clamp``: directed benefits below ``noise`` are 0 first (``formula.clip_noise``).
    """
    zero = tiny - tiny
    n = out.shape[0]
    if clamp:
        for j in range(n):
            a = acc_ab[j]
            b = acc_ba[j]
            acc_ab[j] = a if a >= noise else zero
            acc_ba[j] = b if b >= noise else zero
    if combiner == HARMONIC:
        for j in range(n):
            a = acc_ab[j]
            b = acc_ba[j]
            s = a + b
            out[j] = (a * b) / (s if s >= tiny else tiny)
    elif combiner == GEOMETRIC:
        for j in range(n):
            out[j] = np.sqrt(acc_ab[j] * acc_ba[j])
    elif combiner == ARITHMETIC:
        for j in range(n):
            out[j] = acc_ab[j] + acc_ba[j]
    elif combiner == STRONGER_LED:  # ((a + b) + max) + max, in numpy's order
        for j in range(n):
            a = acc_ab[j]
            b = acc_ba[j]
            larger = a if a >= b else b
            out[j] = ((a + b) + larger) + larger
    elif combiner == SQRT_MEAN:  # ((a + b) + sqrt(ab)) + sqrt(ab), in numpy's order
        for j in range(n):
            a = acc_ab[j]
            b = acc_ba[j]
            root = np.sqrt(a * b)
            out[j] = ((a + b) + root) + root
    else:
        for j in range(n):
            a = acc_ab[j]
            b = acc_ba[j]
            out[j] = a if a <= b else b


@_jit
def _passes(g: int, h: int, rules: Any) -> bool:
    """Whether the pair of population rows (g, h) passes the filter (``CellRules.arrays``)."""
    active, allowed, use_one_of, one_of, groups, keys, n = rules
    if not active:
        return True
    if not (allowed[g] and allowed[h]):
        return False
    if use_one_of and one_of[g] == one_of[h]:
        return False
    for r in range(groups.shape[0]):
        code = groups[r, g]
        if code >= 0 and code == groups[r, h]:
            return False
    if keys.shape[0]:
        key = (g * n + h) if g < h else (h * n + g)
        at = np.searchsorted(keys, key)
        if at < keys.shape[0] and keys[at] == key:
            return False
    return True


@_jit
def _push(heaps: Any, counts: Any, line: int, v: Any) -> None:
    """Offer ``v`` to the min-heap of line ``line``, which keeps that line's k largest values."""
    k = heaps.shape[1]
    count = counts[line]
    if count < k:
        i = count
        heaps[line, i] = v
        while i > 0:
            parent = (i - 1) // 2
            if heaps[line, parent] <= heaps[line, i]:
                break
            heaps[line, parent], heaps[line, i] = heaps[line, i], heaps[line, parent]
            i = parent
        counts[line] = count + 1
    elif v > heaps[line, 0]:
        heaps[line, 0] = v
        i = 0
        while True:
            smallest = i
            left, right = 2 * i + 1, 2 * i + 2
            if left < k and heaps[line, left] < heaps[line, smallest]:
                smallest = left
            if right < k and heaps[line, right] < heaps[line, smallest]:
                smallest = right
            if smallest == i:
                break
            heaps[line, smallest], heaps[line, i] = heaps[line, i], heaps[line, smallest]
            i = smallest


@_jit
def _keep(heaps: Any, counts: Any, floors: Any, line: int, v: Any, smallest: Any) -> bool:
    """For an open line: is ``v`` possibly among the line's k best of the tile? Updates the heap and floor."""
    if v < smallest:
        return False
    k = heaps.shape[1]
    if counts[line] >= k and v < heaps[line, 0]:
        return False
    _push(heaps, counts, line, v)
    if counts[line] >= k:
        floors[line] = heaps[line, 0]
    return True


@_jit
def _bound_test(combined: Any, lowest: Any, passed: Any, row_floor: Any, bound: Any, begin: int, end: int) -> None:
    """``passed[j]``: whether cell j's bound reaches the lower of its row's and its column's floor.

    On views indexed from 0 (offset indices keep LLVM from vectorising the loop: 10x slower).
    """
    values, floors, out = combined[begin:end], lowest[begin:end], passed[begin:end]
    for j in range(values.shape[0]):
        limit = floors[j]
        limit = row_floor if row_floor < limit else limit
        out[j] = values[j] * bound >= limit


@_jit
def block_cells(
    rb: int,
    cb: int,
    canonical: int,
    rows: int,
    cols: int,
    r0: int,
    r1: int,
    c0: int,
    c1: int,
    diagonal: bool,
    products: Any,
    offsets: Any,
    widths: Any,
    layout: Any,
    table: Any,
    row_codes: Any,
    col_codes: Any,
    row_max: Any,
    combiner: int,
    clamp: bool,
    cross_only: bool,
    rules: Any,
    tiny: Any,
    noise: Any,
    smallest: Any,
    pairs: bool,
    state: Any,
    out: Any,
    count: int,
) -> int:
    """Keep the cells of one canonical block pair that may be among the best; returns the new count.

    Only cells with a row in [r0, r1) and a column in [c0, c1) (and, on a diagonal tile, row < column)
    count. ``state`` holds, in tile coordinates, each row's and column's floor, whether it is open, and
    the open lines' heaps (for pairs: one floor and one heap). Kept cells go to ``out`` (row, column,
    score, flags: 1 for the row's candidate, 2 for the column's) from ``count`` on; past its capacity
    they are counted, not written, so the caller can retry with room for all.
    """
    offer_pos, need_pos, offer_runs, offer_run_bounds, need_runs, need_run_bounds, share, perm, is_x, is_y = layout
    row_floor, col_floor, row_open, col_open, row_heaps, row_counts, col_heaps, col_counts = state
    out_row, out_col, out_score, out_flag = out
    capacity = out_row.shape[0]
    rbase, cbase = rb * canonical, cb * canonical
    dtype = share.dtype
    acc_ab = np.empty(cols, dtype=dtype)
    acc_ba = np.empty(cols, dtype=dtype)
    combined = np.empty(cols, dtype=dtype)
    # Each column's floor by position (a column of another tile never passes on its own floor); kept
    # up to date as open columns' floors rise. The test below uses the row's floor as the row started:
    # floors only rise, so an older one lets through more cells, never fewer.
    lowest = np.empty(cols, dtype=dtype)
    column = np.empty(cols, dtype=np.int64)
    far = smallest / smallest * np.finfo(dtype).max
    for j in range(cols):
        tc = perm[cbase + j] - c0
        column[j] = tc if 0 <= tc < c1 - c0 else -1
        lowest[j] = col_floor[tc] if column[j] >= 0 and not pairs else far
    words = (cols + 7) // 8
    passed = np.zeros(8 * words, dtype=np.uint8)
    passed_words = passed.view(np.uint64)
    for i in range(rows):
        p = rbase + i
        g = perm[p]
        if g < r0 or g >= r1:
            continue
        tr = 0 if pairs else g - r0
        _row_terms(
            p,
            cb,
            cbase,
            products,
            offsets,
            widths,
            offer_pos,
            need_pos,
            offer_runs,
            offer_run_bounds,
            need_runs,
            need_run_bounds,
            share,
            acc_ab,
            acc_ba,
        )
        _combine(acc_ab, acc_ba, combined, combiner, clamp, tiny, noise)
        bound = row_max[i]
        code = row_codes[i]
        # The combination times the row's largest bonus bounds the score from above: cells below both
        # floors by that bound cannot pass (a vectorised test), the rest are scored exactly. An open
        # row's floor rises as its heap fills, so the test goes 64 columns at a time with the latest.
        for begin in range(0, cols, 64):
            end = min(begin + 64, cols)
            _bound_test(combined, lowest, passed, row_floor[tr], bound, begin, end)
            for w in range(begin // 8, (end + 7) // 8):
                if passed_words[w] == 0:
                    continue
                for j in range(8 * w, min(8 * w + 8, end)):
                    if not passed[j]:
                        continue
                    h = perm[cbase + j]
                    if h < c0 or h >= c1 or (diagonal and h <= g):
                        continue
                    if cross_only:
                        pc = cbase + j
                        if not ((is_x[p] and is_y[pc]) or (is_y[p] and is_x[pc])):
                            continue
                    if not _passes(g, h, rules):  # before it counts towards anyone's best
                        continue
                    score = combined[j] * table[code, col_codes[j]]
                    flag = 0
                    if row_open[tr]:
                        if _keep(row_heaps, row_counts, row_floor, tr, score, smallest):
                            flag |= 1
                    elif score >= row_floor[tr]:
                        flag |= 1
                    if not pairs:
                        tc = column[j]
                        if col_open[tc]:
                            if _keep(col_heaps, col_counts, col_floor, tc, score, smallest):
                                flag |= 2
                            lowest[j] = col_floor[tc]
                        elif score >= col_floor[tc]:
                            flag |= 2
                    if flag:
                        if count < capacity:
                            out_row[count] = g
                            out_col[count] = h
                            out_score[count] = score
                            out_flag[count] = flag
                        count += 1
    return count


@_jit
def block_scores(
    rb: int,
    cb: int,
    canonical: int,
    rows: int,
    cols: int,
    products: Any,
    offsets: Any,
    widths: Any,
    layout: Any,
    table: Any,
    row_codes: Any,
    col_codes: Any,
    combiner: int,
    clamp: bool,
    cross_only: bool,
    rules: Any,
    tiny: Any,
    noise: Any,
    out_rows: Any,
    out_cols: Any,
    scores: Any,
) -> None:
    """Write the scores of one canonical block pair into ``scores[out_rows[i], out_cols[j]]`` (-1: skipped).

    Row by row: the combination, times the bonus, zero where the pair is not cross-border (if asked)
    or does not pass the filter, each step one loop over the row (only the first vectorises fully;
    the others run only when they apply), then written to its places.
    """
    offer_pos, need_pos, offer_runs, offer_run_bounds, need_runs, need_run_bounds, share, perm, is_x, is_y = layout
    rbase, cbase = rb * canonical, cb * canonical
    acc_ab = np.empty(cols, dtype=share.dtype)
    acc_ba = np.empty(cols, dtype=share.dtype)
    combined = np.empty(cols, dtype=share.dtype)
    zero = tiny - tiny
    filtered = rules[0]
    col_x, col_y, col_rows = is_x[cbase : cbase + cols], is_y[cbase : cbase + cols], perm[cbase : cbase + cols]
    for i in range(rows):
        o = out_rows[i]
        if o < 0:
            continue
        p = rbase + i
        _row_terms(
            p,
            cb,
            cbase,
            products,
            offsets,
            widths,
            offer_pos,
            need_pos,
            offer_runs,
            offer_run_bounds,
            need_runs,
            need_run_bounds,
            share,
            acc_ab,
            acc_ba,
        )
        _combine(acc_ab, acc_ba, combined, combiner, clamp, tiny, noise)
        bonus = table[row_codes[i]]
        for j in range(cols):
            combined[j] = combined[j] * bonus[col_codes[j]]
        if cross_only:
            x, y = is_x[p], is_y[p]
            for j in range(cols):
                if not ((x and col_y[j]) or (y and col_x[j])):
                    combined[j] = zero
        if filtered:
            g = perm[p]
            for j in range(cols):
                if not _passes(g, col_rows[j], rules):
                    combined[j] = zero
        line = scores[o]
        for j in range(cols):
            q = out_cols[j]
            if q >= 0:
                line[q] = combined[j]


@_jit
def merge_partners(index: Any, score: Any, threshold: Any, org: Any, partner: Any, value: Any) -> None:
    """Insert candidates into every organisation's best k (score, then lower index), in place.

    Each (organisation, partner) is offered once, so the result is the k best of all offered, exactly
    what sorting them all would keep.
    """
    k = index.shape[1]
    last = k - 1
    for t in range(org.shape[0]):
        o, pt, v = org[t], partner[t], value[t]
        held = index[o, last]
        if held >= 0 and not (v > score[o, last] or (v == score[o, last] and pt < held)):
            continue
        q = last
        while q > 0:
            above = index[o, q - 1]
            if above >= 0 and not (v > score[o, q - 1] or (v == score[o, q - 1] and pt < above)):
                break
            q -= 1
        for s in range(last, q, -1):
            index[o, s] = index[o, s - 1]
            score[o, s] = score[o, s - 1]
        index[o, q] = pt
        score[o, q] = v
        if index[o, last] >= 0:
            threshold[o] = score[o, last]


@_jit
def own_block_cells(scores: Any, perm: Any, floors: Any, k: int, smallest: Any, out: Any, count: int) -> int:
    """Keep the cells of a block's own pairs (its scores against itself, by position) that may be best.

    Each organisation's floor is its threshold (``floors``, by position) or, higher, the k-th best of its
    pairs in the block, found first in one pass over the scores; then every cell (each pair once, the
    lower index as the row) at least either organisation's floor is kept, and nothing else.
    """
    size = scores.shape[0]
    heaps = np.empty((size, k), dtype=scores.dtype)
    counts = np.zeros(size, dtype=np.int64)
    # The positions in population order: (order[a], order[b]) for a < b is each pair once with the lower
    # index as the row, visited without testing every cell (a branch the processor mispredicts).
    order = np.argsort(perm)
    for a in range(size):
        i = order[a]
        for b in range(a + 1, size):
            j = order[b]
            v = scores[i, j]
            if v >= smallest:  # the test before the call: most values are below a full heap's least
                if counts[i] < k or v > heaps[i, 0]:
                    _push(heaps, counts, i, v)
                if counts[j] < k or v > heaps[j, 0]:
                    _push(heaps, counts, j, v)
    for i in range(size):
        if counts[i] >= k and heaps[i, 0] > floors[i]:
            floors[i] = heaps[i, 0]
        if floors[i] < smallest:
            floors[i] = smallest
    out_row, out_col, out_score, out_flag = out
    for a in range(size):
        i = order[a]
        for b in range(a + 1, size):
            j = order[b]
            v = scores[i, j]
            flag = (1 if v >= floors[i] else 0) | (2 if v >= floors[j] else 0)
            if flag:
                if count < out_row.shape[0]:
                    out_row[count] = perm[i]
                    out_col[count] = perm[j]
                    out_score[count] = v
                    out_flag[count] = flag
                count += 1
    return count
