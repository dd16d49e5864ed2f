"""Scale benchmark: synthetic populations of n organisations, scored all-pairs, queried and grown.

    python benchmarks/scale.py --sizes 1000,10000,100000 --top 10 --json

Per size (each in its own process, so peak RSS is that size's): load (a JSON-lines file written by the
synthesiser), vectorise (the configured encoder, ``hybrid`` unless MATCHMAKER_ENCODER says otherwise,
with the CLI's "auto" rule; its embedding cache empty, so the fit is cold, unless --cache-dir names one),
all-pairs top-K for every organisation (``Population.all_partners``) and the same-run hardware limit: the
same matrix products on the same tiles with the same threads, plus ``np.argpartition`` for the rows' and
the columns' top K, nothing else. Then queries (one organisation's top K against everyone,
``Population.partners``) and adding one profile and asking its partners. At n <= --naive-max a pure-
Python/pandas loop over all pairs computes the same scores from the same vectors, and must give the same
top pairs.
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
from threadpoolctl import threadpool_info, threadpool_limits  # type: ignore[import-untyped]

from matchmaker.application.workspace import fit_population
from matchmaker.core.population import Population
from matchmaker.core.scoring.execution import available_workers, block_rows_for, tiles_of
from matchmaker.core.scoring.formula import NOISE
from matchmaker.core.scoring.plan import CANONICAL, ScoringPlan
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


# -- the hardware limit: the same products and a plain argpartition, on the same tiles ------------------


def _column_argpartition(block: np.ndarray, kth: int) -> None:
    np.argpartition(block, kth, axis=0)


def _column_argpartition_transposed(block: np.ndarray, kth: int) -> None:
    np.argpartition(np.ascontiguousarray(block.T), kth, axis=1)


def fastest_column_selection(side: int, k: int, dtype: np.dtype[Any]) -> Any:
    """numpy's argpartition along columns, or on a transposed copy along rows, whichever is faster here."""
    block = np.random.default_rng(0).random((side, side)).astype(dtype)
    timings = {}
    for variant in (_column_argpartition, _column_argpartition_transposed):
        started = time.perf_counter()
        for _ in range(3):
            variant(block, max(0, side - k))
        timings[variant] = time.perf_counter() - started
    return min(timings, key=lambda v: timings[v])


def bare_tiles(plan: ScoringPlan, side: int, workers: int, k: int, select: bool) -> float:
    """Seconds for the all-pairs products alone (select=False) or with argpartition per tile line.

    The same fused matrices, the same upper-triangle tiles, the same canonical blocks, the same dtype,
    the same worker threads with one BLAS thread each: only the caps, the combination of the two
    directions, the bonus and the exact selection and merging are left out. The rows' top k is one
    argpartition along rows; the columns' top k the faster of argpartition along columns and on a
    transposed copy.
    """
    n = plan.n
    tiles = tiles_of(n, side)
    dense = not sp.issparse(plan.left)
    columns = fastest_column_selection(side, k, plan.dtype) if select else None

    def one(tile: tuple[int, int, int, int]) -> None:
        r0, r1, c0, c1 = tile
        if dense:
            ab = np.empty((r1 - r0, c1 - c0), dtype=plan.dtype)
            ba = np.empty_like(ab)
            for i in range(r0 - r0 % CANONICAL, r1, CANONICAL):
                for j in range(c0 - c0 % CANONICAL, c1, CANONICAL):
                    i1, j1 = min(i + CANONICAL, r1), min(j + CANONICAL, c1)
                    np.matmul(plan.left[i:i1], plan.right[j:j1].T, out=ab[i - r0 : i1 - r0, j - c0 : j1 - c0])
                    np.matmul(plan.right[i:i1], plan.left[j:j1].T, out=ba[i - r0 : i1 - r0, j - c0 : j1 - c0])
        else:
            ab = (plan.left[r0:r1] @ plan.right[c0:c1].T).toarray()
            ba = (plan.right[r0:r1] @ plan.left[c0:c1].T).toarray()
        if columns is not None:
            if ab.shape[1] > k:
                np.argpartition(ab, ab.shape[1] - k, axis=1)
            if ab.shape[0] > k:
                columns(ab, ab.shape[0] - k)

    start = time.perf_counter()
    with threadpool_limits(limits=1, user_api="blas"):
        if workers == 1:
            for tile in tiles:
                one(tile)
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                list(pool.map(one, tiles))
    return time.perf_counter() - start


# -- what an analyst would write: a loop over pairs ------------------------------------------------------


def naive(population: Population, top: int) -> tuple[float, pd.DataFrame, pd.DataFrame]:
    """What an analyst would write: score(a, b) in a Python loop over every ordered pair, rank with pandas.

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

    def directed(giver: int, taker: int) -> float:
        total = sum(weights[d] * mass[taker][d] for d in dims)
        gained = sum(
            weights[d] * mass[taker][d] * min(1.0, float(offers[d][giver] @ needs[d][taker]))
            for d in dims
            if mass[taker][d] > 0
        )
        directed = gained / total if total > 0 else 0.0
        return directed if directed >= NOISE else 0.0  # the model's rule: below the noise floor is 0

    def score(a: int, b: int) -> float:
        ab, ba = directed(a, b), directed(b, a)
        reciprocal = 2 * ab * ba / (ab + ba) if ab + ba > 0 else 0.0
        cross = {countries[a], countries[b]} == {bx, by}
        return reciprocal * (1 + s * float(sectors[a] @ sectors[b]) + x * cross) / (1 + s + x)

    start = time.perf_counter()
    n = len(population)
    frame = pd.DataFrame(
        [(a, b, score(a, b)) for a in range(n) for b in range(n) if a != b], columns=["a", "b", "score"]
    )
    frame = frame[frame.score > 0]
    partners = frame.sort_values(["a", "score", "b"], ascending=[True, False, True]).groupby("a").head(top)
    pairs = frame[frame.a < frame.b].sort_values(["score", "a", "b"], ascending=[False, True, True]).head(top)
    return time.perf_counter() - start, partners, pairs


# -- one size -------------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def run_size(
    n: int, top: int, seed: int, budget_mb: float, queries: int, adds: int, naive_max: int, tile: int | None
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
    out.update(workers=workers, tile=side, memory_budget_mb=budget_mb)
    started = time.perf_counter()
    index, scores = population.all_partners(top=top, block_rows=side, memory_budget_mb=budget_mb)
    out["allpairs_topk_s"] = round(time.perf_counter() - started, 3)
    log(f"n={n}: all-pairs top {top} in {out['allpairs_topk_s']} s")
    plan = population.scorer().plan()  # type: ignore[attr-defined]  # the complementarity scorer's fused matrices
    out["limit_s"] = round(bare_tiles(plan, side, workers, top, select=True), 3)
    out["gemm_s"] = round(bare_tiles(plan, side, workers, top, select=False), 3)
    del plan
    out["ratio_to_limit"] = round(out["allpairs_topk_s"] / out["limit_s"], 3)
    out["ratio_to_gemm"] = round(out["allpairs_topk_s"] / out["gemm_s"], 3)
    log(f"n={n}: limit {out['limit_s']} s (products {out['gemm_s']} s)")

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

    newcomers = synthesise(shipped, adds, seed + 1).profiles
    timings, grown = [], population
    for k, profile in enumerate(newcomers):
        profile = profile.model_copy(update={"id": f"new-{k}", "name": f"Newcomer {k}"})
        started = time.perf_counter()
        grown = grown.with_profile(profile)
        grown.partners(profile.id, top=top, reasons=0)
        timings.append((time.perf_counter() - started) * 1000)
    out["add_one_ms"] = round(statistics.median(timings), 3)
    out["add_one_max_ms"] = round(max(timings), 3)
    log(f"n={n}: query p50 {out['query_p50_ms']} ms, add one {out['add_one_ms']} ms")

    if n <= naive_max:
        seconds, partners, best = naive(population, top)
        out["naive_s"] = round(seconds, 3)
        out["speedup_vs_naive"] = round(seconds / out["allpairs_topk_s"], 1)
        ours = population.pairs(top=top, reasons=0)
        rows = {p.id: k for k, p in enumerate(population.profiles)}
        out["naive_same_top_pairs"] = [(int(a), int(b)) for a, b in zip(best.a, best.b, strict=True)] == [
            (rows[m.a.id], rows[m.b.id]) for m in ours
        ]
        theirs = {a: list(group.b) for a, group in partners.groupby("a")}
        out["naive_same_top_partners"] = all(
            [int(j) for j in index[a] if j >= 0] == theirs.get(a, []) for a in range(n)
        )
        out["naive_max_score_difference"] = float(np.max(np.abs(best.score.to_numpy() - [m.score for m in ours])))
        log(
            f"n={n}: naive loop {out['naive_s']} s, same top pairs: {out['naive_same_top_pairs']}, "
            f"same top partners: {out['naive_same_top_partners']}"
        )
    del index, scores
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
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
    parser.add_argument("--naive-max", type=int, default=1000, help="largest n for the pure-Python loop")
    parser.add_argument(
        "--cache-dir",
        default=None,
        help="embedding cache folder (default: a new empty one per size, so the fit is measured cold)",
    )
    parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)  # run one size in-process
    args = parser.parse_args()
    options = [args.top, args.seed, args.memory_budget_mb, args.queries, args.adds, args.naive_max, args.tile]
    if args.one is not None:
        print(json.dumps(run_size(args.one, *options[:6], tile=args.tile)))
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
        "allpairs_topk_s",
        "limit_s",
        "ratio_to_limit",
        "gemm_s",
        "peak_rss_mb",
        "query_p50_ms",
        "query_p99_ms",
        "add_one_ms",
        "naive_s",
        "speedup_vs_naive",
    ]
    print(pd.DataFrame(results).reindex(columns=columns).to_string(index=False))


if __name__ == "__main__":
    main()
