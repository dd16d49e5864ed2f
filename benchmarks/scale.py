"""Scale benchmark: synthetic populations of n organisations, scored all-pairs, queried and grown.

    python benchmarks/scale.py --sizes 1000,10000,100000 --top 10 --json

Per size (each in its own process, so peak RSS is that size's): load (a JSON-lines file written by
the synthesiser), vectorise (the configured encoder, ``hybrid`` unless MATCHMAKER_ENCODER says
otherwise, with the CLI's "auto" rule; its embedding cache empty, so the fit is cold, unless
--cache-dir names one), prepare (``prepare_s``: the
plan and its per-dimension layout, built once per population and settings), all-pairs top-K for every
organisation (``Population.all_partners``, with the compiled kernel when numba is installed, loaded
beforehand: ``kernel_load_s``) and, in the same process on the same tiles, its limit:

* ``limit_s``: the products the kernel cannot avoid plus a threshold selection. For every tile of
  the run and every canonical block pair in it, the same per-dimension products over the rows and
  columns with support (``TileScorer.products``: the same BLAS calls, threads and one BLAS thread
  each), and on every product block the threshold test a selection needs: each cell against its
  row's and its column's threshold (the run's own final k-th best scores), the passing cells listed
  (numpy ``>=``, ``|``, ``flatnonzero``). Nothing else: not the sum over dimensions, the caps, the
  combination, the bonus or the merge. ``gemm_s`` is the products alone.
* ``limit_fused_s`` / ``gemm_fused_s``: the same with the fused products of every dimension side by
  side (``ScoringPlan.left @ right.T``, both directions, on the same canonical blocks): what the
  kernel did before it skipped the zero terms, for comparison.

Timing, the same for the run and its limit: up to --repeat-max organisations each is the median of
--repeats repetitions in the same process (the run's first, cold call included), above it one call
each. ``allpairs_first_s`` is the run's first call alone (what one CLI call pays, with the process's
warm-up: fresh memory pages, starting the worker threads), ``ratio_first_to_limit`` it over ``limit_s``.
Where "auto" chose numpy (below ``kernels.NUMBA_FROM`` organisations, where loading numba costs a one-shot
command more than it saves) and numba is installed, the same run with the compiled kernel follows:
``compiled_first_s`` (its first call, loading numba), ``compiled_allpairs_topk_s`` (the median of as many
calls after it), ``compiled_ratio_to_limit`` and ``compiled_same_answer`` (bit for bit the numpy run's).

Then queries (one organisation's top K against everyone, ``Population.partners``) and adding one
profile and asking its partners. Baselines on the same vectors: ``analyst_numpy_s``, the same
formula as an analyst would vectorise it with numpy (row blocks against everyone, one product per
dimension and direction, ``argpartition``), checked to give the same top K (as sets; partners tied at
the k-th place may be swapped: ``analyst_tie_swaps``); ``sklearn_cosine_s``, scikit-learn's
brute-force cosine nearest neighbours of every organisation's needs among everyone's offers
(similarity only: a lighter problem). Up to --analyst-max and --peer-max they score everyone; above,
the first --baseline-rows organisations, timed and scaled to n (``*_rows``; each row costs the same,
a block against everyone). At n <= --naive-max a pure-Python loop over all pairs (``naive_s``) is
the correctness reference.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from threadpoolctl import threadpool_info  # type: ignore[import-untyped]

from matchmaker.application.workspace import fit_population
from matchmaker.core.errors import SettingsError
from matchmaker.core.population import Population
from matchmaker.core.scoring import COMBINERS, kernels
from matchmaker.core.scoring.buffers import IDLE, Workspace
from matchmaker.core.scoring.execution import (
    available_workers,
    block_rows_for,
    one_blas_thread,
    tiles_of,
    top_partners_all,
)
from matchmaker.core.scoring.formula import NOISE
from matchmaker.core.scoring.plan import ScoringPlan
from matchmaker.core.scoring.tiles import TileScorer
from matchmaker.embedding import encoder_choice
from matchmaker.loading import default_profiles_dir, load_folder, load_profiles, write_profiles
from matchmaker.settings import load_settings
from matchmaker.synth import synthesise

SHIPPED = default_profiles_dir()


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def machine() -> dict[str, Any]:
    """Cores, CPU and the BLAS numpy uses, as numpy and threadpoolctl report them."""
    cpu = ""
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        cpu = platform.processor()
    config = np.show_config(mode="dicts")
    blas = config.get("Build Dependencies", {}).get("blas", {})
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return {
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "memory_gb": round(memory_gb, 1),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": f"{blas.get('name', '?')} {blas.get('version', '')}".strip(),
        "blas_runtime": [
            f"{i['internal_api']} {i['version']} {i.get('architecture', '')} threads={i['num_threads']}"
            for i in threadpool_info()
            if i["user_api"] == "blas"
        ],
    }


# -- the limit: the products on the same tiles, and a threshold test ------------------------------------


def _threshold_test(block: np.ndarray, row_floor: np.ndarray, col_floor: np.ndarray) -> int:
    """The cells of a block at least their row's or their column's threshold: compare, combine, list."""
    passed = (block >= row_floor[:, None]) | (block >= col_floor[None, :])
    return int(np.flatnonzero(passed).size)


def bare_tiles(
    plan: ScoringPlan, tiles: TileScorer, side: int, workers: int, thresholds: np.ndarray | None, fused: bool
) -> float:
    """Seconds for the products of every tile's canonical block pairs, with a threshold test if given.

    ``fused=False``: the kernel's per-dimension products over the rows and columns with support
    (``TileScorer.products``); ``fused=True``: every dimension side by side (``plan.left @ plan.right.T``
    and the other direction), as before the support layout. The same tiles, block pairs, dtype and
    worker threads with one BLAS thread each as the run, and the run's workspaces (``buffers.IDLE``).
    """
    layout = tiles.layout
    canonical = layout.canonical
    by_position = None if thresholds is None else thresholds.astype(plan.dtype)[layout.perm]
    dense = not sp.issparse(plan.left)

    def one(tile: tuple[int, int, int, int]) -> None:
        with IDLE.borrowed() as workspace:  # the run's own buffers, lent the same way
            one_tile(tile, workspace)

    def one_tile(tile: tuple[int, int, int, int], workspace: Workspace) -> None:
        r0, r1, c0, c1 = tile
        for rb in range(r0 // canonical, (r1 - 1) // canonical + 1):
            for cb in range(c0 // canonical, (c1 - 1) // canonical + 1):
                if cb < rb:
                    continue
                rows = slice(rb * canonical, min(plan.n, (rb + 1) * canonical))
                cols = slice(cb * canonical, min(plan.n, (cb + 1) * canonical))
                if fused:
                    if dense:
                        blocks = [plan.left[rows] @ plan.right[cols].T, plan.right[rows] @ plan.left[cols].T]
                    else:
                        blocks = [(plan.left[rows] @ plan.right[cols].T).toarray()]
                        blocks.append((plan.right[rows] @ plan.left[cols].T).toarray())
                    if by_position is not None:
                        row_floor, col_floor = thresholds[rows], thresholds[cols]  # type: ignore[index]
                        for block in blocks:
                            _threshold_test(block, row_floor, col_floor)
                    continue
                flat, offsets, _ = tiles.products(rb, cb, workspace)
                if by_position is None:
                    continue
                for direction, (row_pos, col_pos) in enumerate(
                    [(layout.offer_pos, layout.need_pos), (layout.need_pos, layout.offer_pos)]
                ):
                    for d in range(layout.dimensions):
                        r = np.flatnonzero(row_pos[d, rows] >= 0) + rows.start
                        c = np.flatnonzero(col_pos[d, cols] >= 0) + cols.start
                        if r.size and c.size:
                            start = offsets[direction, d]
                            block = flat[start : start + r.size * c.size].reshape(r.size, c.size)
                            _threshold_test(block, by_position[r], by_position[c])

    run = tiles_of(plan.n, side)
    start = time.perf_counter()
    with one_blas_thread(tiles):  # as the run holds BLAS (not at all where no BLAS is called)
        if workers == 1:
            for tile in run:
                one(tile)
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                list(pool.map(one, run))
    return time.perf_counter() - start


# -- what an analyst would write: the same formula vectorised with numpy ----------------------------------


def analyst(population: Population, top: int, rows: int | None = None, block: int = 1000) -> tuple[float, np.ndarray]:
    """The formula as an analyst would vectorise it: row blocks against everyone, a product per dimension.

    ``score = combiner(ab, ba) * bonus`` with ``ab = sum_d c_d[b] min(1, offers_d[a] . needs_d[b])`` (and
    the other way round), ``bonus = (1 + s sector_fit + x cross_border) / (1 + s + x)``; every ordered
    pair (each row its own ranking), numpy's default BLAS threads, ``argpartition`` for the top K, ties
    by index. Returns the seconds and the top K of the first ``rows`` organisations (default all; -1
    where fewer score above 0): the work is the same for every row, so it scales with the rows asked.
    """
    m, settings = population.matrices, population.settings
    dims = range(len(population.dimensions))

    def dense(x: Any) -> np.ndarray:
        return x.toarray() if sp.issparse(x) else np.asarray(x)

    started = time.perf_counter()

    # Only the columns both an offer and a need use (the attribute blocks and one-sided words add 0).
    def in_use(x: Any) -> np.ndarray:
        return np.asarray((abs(x) > 0).sum(axis=0)).ravel() > 0

    used = [np.flatnonzero(in_use(m.offers[d]) & in_use(m.needs[d])) for d in dims]
    offers = [dense(m.offers[d][:, used[d]]) for d in dims]
    needs = [dense(m.needs[d][:, used[d]]) for d in dims]
    shares = population.scorer().shares()  # type: ignore[attr-defined]
    sectors = dense(m.sectors).astype(offers[0].dtype)
    countries = population.context.countries
    s, x, (bx, by) = settings.sector_weight, settings.cross_border_weight, settings.bridge
    combine = COMBINERS[settings.combiner]
    n = len(population)
    asked = n if rows is None else min(n, rows)
    best = np.full((asked, top), -1, dtype=np.int64)
    for a0 in range(0, asked, block):
        block_rows = slice(a0, min(asked, a0 + block))
        ab = sum(np.minimum(offers[d][block_rows] @ needs[d].T, 1.0) * shares[None, :, d] for d in dims)
        ba = sum(np.minimum(needs[d][block_rows] @ offers[d].T, 1.0) * shares[block_rows, d, None] for d in dims)
        ab, ba = np.where(ab >= NOISE, ab, 0.0), np.where(ba >= NOISE, ba, 0.0)  # below the noise floor: 0
        score = combine(ab, ba)  # the configured rule (the registry's numpy function)
        cross = ((countries[block_rows, None] == bx) & (countries[None, :] == by)) | (
            (countries[block_rows, None] == by) & (countries[None, :] == bx)
        )
        score *= (1 + s * (sectors[block_rows] @ sectors.T) + x * cross) / (1 + s + x)
        score[np.arange(score.shape[0]), np.arange(block_rows.start, block_rows.stop)] = 0.0
        kth = np.argpartition(-score, top, axis=1)[:, :top]
        for i, candidates in enumerate(kth):
            order = np.lexsort((candidates, -score[i, candidates]))
            chosen = candidates[order]
            chosen = chosen[score[i, chosen] > 0]
            best[a0 + i, : chosen.size] = chosen
    return time.perf_counter() - started, best


def sklearn_cosine(plan: ScoringPlan, top: int, rows: int | None = None) -> float:
    """Seconds for scikit-learn's brute-force cosine top K: the first ``rows`` organisations' needs (default
    everyone's) among all offers."""
    from sklearn.neighbors import NearestNeighbors

    offers, needs = plan.left, plan.right
    started = time.perf_counter()
    index = NearestNeighbors(n_neighbors=top + 1, metric="cosine", algorithm="brute").fit(offers)
    index.kneighbors(needs if rows is None else needs[:rows])
    return time.perf_counter() - started


# -- the correctness reference: a loop over pairs ------------------------------------------------------


def naive(population: Population, top: int) -> tuple[float, pd.DataFrame, pd.DataFrame]:
    """The correctness reference: score(a, b) in a Python loop over every ordered pair, ranked with pandas.

    The same scores from the same vectors (row dot products per dimension, the same formula); every
    ordered pair is scored because each organisation gets its own ranking (a loop exploiting the
    symmetry would take half as long). Returns the seconds, each organisation's top partners and the
    top pairs.
    """
    m, settings = population.matrices, population.settings
    dims = range(len(population.dimensions))

    def dense(x: Any) -> np.ndarray:
        return x.toarray() if sp.issparse(x) else np.asarray(x, dtype=np.float64)

    offers = [list(dense(m.offers[d])) for d in dims]
    needs = [list(dense(m.needs[d])) for d in dims]
    sectors = list(dense(m.sectors))
    mass = m.need_mass.tolist()
    weights = [settings.weight(d) for d in population.dimensions]
    countries = population.context.countries.tolist()
    s, x, (bx, by) = settings.sector_weight, settings.cross_border_weight, settings.bridge
    combine = COMBINERS[settings.combiner]

    def directed(giver: int, taker: int) -> float:
        total = sum(weights[d] * mass[taker][d] for d in dims)
        gained = sum(
            weights[d] * mass[taker][d] * min(1.0, float(offers[d][giver] @ needs[d][taker]))
            for d in dims
            if mass[taker][d] > 0
        )
        directed = gained / total if total > 0 else 0.0
        return directed if directed >= NOISE else 0.0  # the model's rule: below the noise floor is 0

    def directed_pair(a: int, b: int) -> tuple[int, int, float, float, float]:
        cross = {countries[a], countries[b]} == {bx, by}
        bonus = (1 + s * float(sectors[a] @ sectors[b]) + x * cross) / (1 + s + x)
        return a, b, directed(a, b), directed(b, a), bonus

    start = time.perf_counter()
    n = len(population)
    frame = pd.DataFrame(
        [directed_pair(a, b) for a in range(n) for b in range(n) if a != b], columns=["a", "b", "ab", "ba", "bonus"]
    )
    # the configured rule (the registry's function) over every pair at once
    frame["score"] = combine(frame.ab.to_numpy(), frame.ba.to_numpy()) * frame.bonus.to_numpy()
    frame = frame[frame.score > 0]
    partners = frame.sort_values(["a", "score", "b"], ascending=[True, False, True]).groupby("a").head(top)
    pairs = frame[frame.a < frame.b].sort_values(["score", "a", "b"], ascending=[False, True, True]).head(top)
    return time.perf_counter() - start, partners, pairs


# -- one size -------------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def warm_kernel(shipped: Any, components: int | None) -> tuple[str, float]:
    """Load (or compile, on a machine's first run) the compiled kernel on a small population with the same
    kind of vectors (the TF-IDF encoder: nothing to embed): its seconds."""
    if kernels.numba_kernels() is None:
        return "numpy", 0.0
    started = time.perf_counter()
    profiles = synthesise(shipped, 2100, 2).profiles
    small = Population.fit(
        profiles,
        dimensions=tuple(shipped.vocabulary.dimensions),
        sectors=tuple(shipped.vocabulary.sectors),
        n_components=components,
    )
    small.all_partners(top=3)
    return "numba", time.perf_counter() - started


def compiled_run(
    scorer: Any,
    top: int,
    side: int,
    budget_mb: float,
    repeats: int,
    answer: tuple[np.ndarray, np.ndarray],
    limit_s: float,
) -> dict[str, Any]:
    """The same run with the compiled kernel where "auto" chose numpy (numba installed): what a process that
    has loaded it gets. Its first call loads it (from numba's disk cache; compiles it on a machine's
    first run); then the median of ``repeats`` calls, its ratio to the same limit, and whether the answer
    is the numpy run's."""
    try:
        kernels.choose_kernel("numba", scorer.n, scorer.settings)
    except SettingsError:  # numba not installed, or a combiner it does not compute
        return {}
    started = time.perf_counter()
    index, scores = top_partners_all(scorer, top, block_rows=side, memory_budget_mb=budget_mb, kernel="numba")
    first = time.perf_counter() - started
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        top_partners_all(scorer, top, block_rows=side, memory_budget_mb=budget_mb, kernel="numba")
        times.append(time.perf_counter() - started)
    median = statistics.median(times)
    return {
        "compiled_first_s": round(first, 3),
        "compiled_allpairs_topk_s": round(median, 3),
        "compiled_ratio_to_limit": round(round(median, 3) / limit_s, 3),
        "compiled_same_answer": bool(np.array_equal(index, answer[0]) and np.array_equal(scores, answer[1])),
    }


def run_size(
    n: int,
    top: int,
    seed: int,
    budget_mb: float,
    queries: int,
    adds: int,
    limits: dict[str, int],
    tile: int | None,
    repeats: int = 1,
) -> dict[str, Any]:
    shipped = load_folder(SHIPPED)
    out: dict[str, Any] = {"n": n, "load_average_at_start": round(os.getloadavg()[0], 2)}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "population.jsonl"
        started = time.perf_counter()
        write_profiles(synthesise(shipped, n, seed), path)
        out["synth_write_s"] = round(time.perf_counter() - started, 3)
        log(f"n={n}: synthesised and written in {out['synth_write_s']} s")
        started = time.perf_counter()
        profile_set = load_profiles(path)
        out["load_s"] = round(time.perf_counter() - started, 3)
    # The configured encoder (MATCHMAKER_ENCODER; hybrid by default), with its on-disk embedding cache:
    # cold unless MATCHMAKER_CACHE_DIR names a folder a previous run filled.
    settings = load_settings()
    started = time.perf_counter()
    encoding = encoder_choice(settings)
    population = fit_population(profile_set.profiles, profile_set.vocabulary, encoding=encoding)
    out["vectorise_s"] = round(time.perf_counter() - started, 3)
    vectoriser = population.vectoriser
    components = vectoriser.n_components_
    out["encoder"] = settings.encoder
    out["distinct_item_texts"] = len({i.description for p in profile_set.profiles for *_, i in p.iter_items()})
    out["widths"] = dict(zip(vectoriser.dimensions_, vectoriser.widths_, strict=True))
    out["vectors"] = "exact sparse float64" if components is None else f"latent {components} float32"
    log(f"n={n}: loaded in {out['load_s']} s, vectorised in {out['vectorise_s']} s ({out['vectors']})")

    workers = available_workers()
    side = tile or block_rows_for(n, budget_mb, workers=workers)
    scorer = population.scorer()
    kernel = kernels.choose_kernel("auto", n, population.settings)
    out.update(workers=workers, tile=side, memory_budget_mb=budget_mb, kernel=kernel)
    if kernel == "numba":
        out["kernel_load_s"] = round(warm_kernel(load_folder(SHIPPED), components)[1], 3)
    started = time.perf_counter()
    tiles = scorer.tiles(kernel)  # kept with the population: the run below does not build it again
    out["prepare_s"] = round(time.perf_counter() - started, 3)  # once per population and settings
    plan = scorer.plan()  # type: ignore[attr-defined]  # the matrices the layout came from (the fused limit)
    repeats = repeats if n <= limits["repeat"] else 1
    out["repeats"] = repeats
    started = time.perf_counter()
    index, scores = population.all_partners(top=top, block_rows=side, memory_budget_mb=budget_mb)
    run_times = [time.perf_counter() - started]
    for _ in range(repeats - 1):
        started = time.perf_counter()
        population.all_partners(top=top, block_rows=side, memory_budget_mb=budget_mb)
        run_times.append(time.perf_counter() - started)
    out["allpairs_first_s"] = round(run_times[0], 3)
    out["allpairs_topk_s"] = round(statistics.median(run_times), 3)
    log(f"n={n}: prepared in {out['prepare_s']} s, all-pairs top {top} in {out['allpairs_topk_s']} s ({kernel})")
    thresholds = scores[:, -1]
    limit_times = [bare_tiles(plan, tiles, side, workers, thresholds, fused=False) for _ in range(repeats)]
    out["limit_s"] = round(statistics.median(limit_times), 3)
    gemm_times = [bare_tiles(plan, tiles, side, workers, None, fused=False) for _ in range(repeats)]
    out["gemm_s"] = round(statistics.median(gemm_times), 3)
    out["limit_fused_s"] = round(bare_tiles(plan, tiles, side, workers, thresholds, fused=True), 3)
    out["gemm_fused_s"] = round(bare_tiles(plan, tiles, side, workers, None, fused=True), 3)
    out["ratio_to_limit"] = round(out["allpairs_topk_s"] / out["limit_s"], 3)
    out["ratio_first_to_limit"] = round(out["allpairs_first_s"] / out["limit_s"], 3)
    out["ratio_to_gemm"] = round(out["allpairs_topk_s"] / out["gemm_s"], 3)
    out["ratio_to_limit_fused"] = round(out["allpairs_topk_s"] / out["limit_fused_s"], 3)
    if kernel == "numpy":
        out.update(compiled_run(scorer, top, side, budget_mb, repeats, (index, scores), out["limit_s"]))
    log(
        f"n={n}: limit {out['limit_s']} s (products {out['gemm_s']} s); "
        f"fused products {out['gemm_fused_s']} s, with the test {out['limit_fused_s']} s"
    )

    rng = np.random.default_rng(seed)
    asked = [population.profiles[i].id for i in rng.integers(0, n, size=queries + 5)]
    for org in asked[:5]:  # warm-up
        population.partners(org, top=top, reasons=0)
    timings = []
    for org in asked[5:]:
        started = time.perf_counter()
        population.partners(org, top=top, reasons=0)
        timings.append((time.perf_counter() - started) * 1000)
    out["query_p50_ms"] = round(percentile(timings, 50), 3)
    out["query_p99_ms"] = round(percentile(timings, 99), 3)
    timings = []
    for org in asked[5:]:
        started = time.perf_counter()
        population.partners(org, top=top)
        timings.append((time.perf_counter() - started) * 1000)
    out["query_explained_p50_ms"] = round(percentile(timings, 50), 3)
    out["query_explained_p99_ms"] = round(percentile(timings, 99), 3)

    newcomers = synthesise(shipped, adds, seed + 1).profiles if adds > 0 else []
    timings, grown = [], population
    for k, profile in enumerate(newcomers):
        profile = profile.model_copy(update={"id": f"new-{k}", "name": f"Newcomer {k}"})
        started = time.perf_counter()
        grown = grown.with_profile(profile)
        grown.partners(profile.id, top=top, reasons=0)
        timings.append((time.perf_counter() - started) * 1000)
    out["add_one_ms"] = round(statistics.median(timings), 3) if timings else None
    out["add_one_max_ms"] = round(max(timings), 3) if timings else None
    log(f"n={n}: query p50 {out['query_p50_ms']} ms, add one {out['add_one_ms']} ms")

    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # before the baselines
    # The baselines score every organisation up to their limits, above them the first --baseline-rows
    # ones, scaled to n (each row costs the same: a row block against everyone): "*_rows" says how many.
    rows = None if n <= limits["analyst"] else min(n, limits["rows"])
    if rows is None or rows > 0:
        seconds, best = analyst(population, top, rows)
        asked = n if rows is None else rows
        out["analyst_numpy_rows"] = asked
        out["analyst_numpy_s"] = round(seconds * n / asked, 3)
        out["speedup_vs_analyst_numpy"] = round(out["analyst_numpy_s"] / out["allpairs_topk_s"], 2)
        # As sets, and where they differ only by partners tied at the k-th place: float32 sums in another
        # order break exact ties (identical synthetic profiles) another way.
        same = [set(best[a][best[a] >= 0]) == set(index[a][index[a] >= 0]) for a in range(asked)]
        swaps = 0
        for a in np.flatnonzero(~np.array(same)):
            ours, theirs = set(index[a][index[a] >= 0]), set(best[a][best[a] >= 0])
            differ = np.array(sorted(ours ^ theirs))
            exact = scorer.components(np.full(differ.size, a), differ).score
            swaps += int(np.allclose(exact, scores[a][index[a] >= 0][-1], rtol=1e-6, atol=0))
        out["analyst_same_top_partners"] = bool(swaps == asked - sum(same))
        out["analyst_top_partners_agreement"] = round(float(np.mean(same)), 5)
        out["analyst_tie_swaps"] = swaps
        log(f"n={n}: analyst's numpy {out['analyst_numpy_s']} s, same top partners: {out['analyst_same_top_partners']}")
    rows = None if n <= limits["peer"] else min(n, limits["rows"])
    if rows is None or rows > 0:
        asked = n if rows is None else rows
        out["sklearn_cosine_rows"] = asked
        out["sklearn_cosine_s"] = round(sklearn_cosine(plan, top, rows) * n / asked, 3)
        out["speedup_vs_sklearn_cosine"] = round(out["sklearn_cosine_s"] / out["allpairs_topk_s"], 2)
        log(f"n={n}: scikit-learn cosine top {top} {out['sklearn_cosine_s']} s")
    del plan, tiles
    if n <= limits["naive"]:
        seconds, partners, best_pairs = naive(population, top)
        out["naive_s"] = round(seconds, 3)
        out["speedup_vs_naive"] = round(seconds / out["allpairs_topk_s"], 1)
        ours = population.pairs(top=top, reasons=0)
        rows = {p.id: k for k, p in enumerate(population.profiles)}
        out["naive_same_top_pairs"] = [(int(a), int(b)) for a, b in zip(best_pairs.a, best_pairs.b, strict=True)] == [
            (rows[m.a.id], rows[m.b.id]) for m in ours
        ]
        theirs = {a: list(group.b) for a, group in partners.groupby("a")}
        their_scores = {a: group.score.to_numpy() for a, group in partners.groupby("a")}
        differing = [a for a in range(n) if [int(j) for j in index[a] if j >= 0] != theirs.get(a, [])]
        out["naive_same_top_partners"] = not differing
        # a row whose lists differ only in the order (or the choice at the k-th place) of partners whose
        # scores agree to 1e-12 is a tie broken by the last bit of a sum, not a disagreement
        out["naive_partner_rows_differing"] = len(differing)
        out["naive_partner_rows_differing_beyond_ties"] = sum(
            1
            for a in differing
            if not np.allclose(np.sort(scores[a][index[a] >= 0])[::-1], their_scores.get(a, np.zeros(0)), atol=1e-12)
        )
        out["naive_max_score_difference"] = float(np.max(np.abs(best_pairs.score.to_numpy() - [m.score for m in ours])))
        log(
            f"n={n}: naive loop {out['naive_s']} s, same top pairs: {out['naive_same_top_pairs']}, "
            f"same top partners: {out['naive_same_top_partners']}"
        )
    del index, scores
    out["load_average_at_end"] = round(os.getloadavg()[0], 2)  # other processes on the machine
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated population sizes")
    parser.add_argument("--top", type=int, default=10, help="K of the top-K")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--memory-budget-mb", type=float, default=512.0, help="tile memory budget")
    parser.add_argument("--tile", type=int, default=None, help="tile side (default: from the budget)")
    parser.add_argument("--queries", type=int, default=200, help="single-organisation queries to time")
    parser.add_argument("--adds", type=int, default=20, help="profiles to add one at a time")
    parser.add_argument("--repeats", type=int, default=5, help="repetitions timed (median) of the run and its limit")
    parser.add_argument(
        "--repeat-max", type=int, default=20_000, help="largest n whose run and limit are repeated (above: once)"
    )
    parser.add_argument("--naive-max", type=int, default=1000, help="largest n for the pure-Python loop")
    parser.add_argument("--analyst-max", type=int, default=10_000, help="largest n for the analyst's numpy version")
    parser.add_argument("--peer-max", type=int, default=10_000, help="largest n for scikit-learn's cosine top K")
    parser.add_argument(
        "--baseline-rows", type=int, default=5000, help="above those sizes, the baselines' rows (scaled to n; 0: none)"
    )
    parser.add_argument(
        "--cache-dir",
        default=None,
        help="embedding cache folder (default: a new empty one per size, so the fit is measured cold)",
    )
    parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)  # run one size in-process
    args = parser.parse_args()
    if args.one is not None:
        limits = {
            "naive": args.naive_max,
            "analyst": args.analyst_max,
            "peer": args.peer_max,
            "rows": args.baseline_rows,
            "repeat": args.repeat_max,
        }
        found = run_size(
            args.one,
            args.top,
            args.seed,
            args.memory_budget_mb,
            args.queries,
            args.adds,
            limits,
            tile=args.tile,
            repeats=args.repeats,
        )
        print(json.dumps(found))
        return
    results = []
    for n in (int(s) for s in args.sizes.split(",") if s.strip()):
        command = [
            sys.executable,
            __file__,
            "--one",
            str(n),
            "--top",
            str(args.top),
            "--seed",
            str(args.seed),
            "--memory-budget-mb",
            str(args.memory_budget_mb),
            "--queries",
            str(args.queries),
            "--adds",
            str(args.adds),
            "--naive-max",
            str(args.naive_max),
            "--analyst-max",
            str(args.analyst_max),
            "--peer-max",
            str(args.peer_max),
            "--baseline-rows",
            str(args.baseline_rows),
            "--repeats",
            str(args.repeats),
            "--repeat-max",
            str(args.repeat_max),
        ]
        if args.tile:
            command += ["--tile", str(args.tile)]
        with tempfile.TemporaryDirectory() as cold:
            env = dict(os.environ, MATCHMAKER_CACHE_DIR=args.cache_dir or cold, HF_HUB_OFFLINE="1")
            done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True, env=env)
        results.append(json.loads(done.stdout))
    report = {
        "command": "python benchmarks/scale.py " + " ".join(sys.argv[1:]),
        "top": args.top,
        "machine": machine(),
        "sizes": results,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    columns = [
        "n",
        "encoder",
        "vectors",
        "load_s",
        "vectorise_s",
        "prepare_s",
        "allpairs_topk_s",
        "allpairs_first_s",
        "limit_s",
        "ratio_to_limit",
        "compiled_ratio_to_limit",
        "gemm_s",
        "limit_fused_s",
        "peak_rss_mb",
        "query_p50_ms",
        "query_p99_ms",
        "add_one_ms",
        "analyst_numpy_s",
        "speedup_vs_analyst_numpy",
        "sklearn_cosine_s",
        "speedup_vs_sklearn_cosine",
        "naive_s",
        "speedup_vs_naive",
    ]
    print(pd.DataFrame(results).reindex(columns=columns).to_string(index=False))


if __name__ == "__main__":
    main()
