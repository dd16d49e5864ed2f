"""Distributed benchmark: the local engine against Dask, and a slice of a 1,000,000-organisation run.

    python benchmarks/distributed.py --n 100000 --workers 1,2 --slice-n 1000000 --slice-rows 20000 --json

1. At ``--n`` organisations (synthetic, seed 1, vectorised as the CLI does, with the configured
   encoder and its embedding cache): every organisation's top K with the local engine (threads of this
   process, ``--threads``, default the usable cores), then with the dask engine on a local cluster of 1
   and 2 worker processes (one thread each), in one run. Per
   engine: ``wall_s`` (from the first task to the merged answer; the cluster's start-up is
   ``startup_s`` apart), ``pairs_per_s`` (the n(n-1)/2 pairs scored over the wall time),
   ``pairs_per_core_s`` (per worker thread) and ``per_core_vs_local`` (that over the local engine's per
   thread: target at least 0.85), ``peak_rss_mb_per_worker`` (each worker process's peak resident
   memory, the scattered layout included) and ``same_as_local`` (bit for bit). On a shared machine the
   wall times depend on what else runs (the local engine's two threads suffer more than one worker):
   ``workers_cpu_s`` (the workers' CPU seconds), ``client_cpu_s`` (this process's: the client and the
   local cluster's scheduler) and ``per_cpu_s_vs_local`` (the local engine's ``cpu_s`` over their sum:
   the work each engine spends on the same answer) are less sensitive to it. The machine's speed also
   drifts over the minutes a run takes, so the local engine runs again after each cluster
   (``local_after``), and ``per_core_vs_local_bracketed`` and ``per_cpu_s_vs_local_bracketed`` compare
   each cluster with the mean of the local runs just before and just after it.
2. A slice of ``--slice-n`` organisations (vectorised in chunks with a vectoriser fitted on the first
   100,000, so nobody holds a million profile objects): the first phase for everyone (each canonical
   block's own pairs: every organisation's threshold, as in a full run), then ``--slice-rows`` rows
   against everyone, on this machine's threads, twice: ``fresh``, as the first tiles of a run see
   them (the columns' thresholds from the first phase only), and ``matured``, with every threshold
   from the fresh pass (as most tiles of a run see them: by the time a tile is scored, both of its
   organisations have been through many). ``cells_per_core_s`` is the per-thread throughput of those
   tiles at that size (``cells_per_cpu_s`` per CPU second), ``layout_mb`` what a worker holds of the
   population, ``peak_rss_mb`` this process's peak. Extrapolated from the matured throughput (from the
   fresh one: ``*_fresh``, an upper bound): the full run of n(n-1)/2 pairs on this machine
   (``full_run_here_h``), and on ten 16-core machines (``full_run_10x16_h``: 160 worker threads at the
   slice's per-thread throughput times the measured dask ``per_core_vs_local``).

Each part records the load average when it starts and ends; the machine is shared.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from matchmaker.application.workspace import fit_population
from matchmaker.core.population import Population
from matchmaker.core.scoring import ScoringSettings, kernels, top_partners_all
from matchmaker.core.scoring.buffers import IDLE
from matchmaker.core.scoring.execution import available_workers, block_rows_for, tile_work, work_of
from matchmaker.core.scoring.formula import Context
from matchmaker.core.scoring.plan import ScoringPlan
from matchmaker.core.scoring.selection import BestPartners
from matchmaker.core.scoring.tiles import TileScorer
from matchmaker.core.vectors import ProfileMatrices, concat
from matchmaker.embedding import encoder_choice
from matchmaker.loading import default_profiles_dir, load_folder
from matchmaker.settings import load_settings
from matchmaker.synth import synthesise

# This file's name is the Dask package's: its folder must not shadow it (nor in the workers, which get
# this process's path). Nothing above imports Dask.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
_spec = importlib.util.spec_from_file_location("scale_benchmark", HERE / "scale.py")
assert _spec is not None and _spec.loader is not None
_scale = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_scale)
log, machine = _scale.log, _scale.machine

SHIPPED = default_profiles_dir()
# The configured encoder (MATCHMAKER_ENCODER, hybrid by default) with its embedding cache
# (MATCHMAKER_CACHE_DIR): a cold cache makes the first fit of each size minutes longer.
ENCODING = encoder_choice(load_settings())


def load() -> float:
    return round(os.getloadavg()[0], 2)


def cpu_s() -> float:
    """CPU seconds of this process, all threads (less sensitive than wall time to a busy machine)."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# -- local against dask at n ------------------------------------------------------------------------------


def compare_engines(n: int, top: int, worker_counts: list[int], threads: int, budget_mb: float) -> dict[str, Any]:
    from distributed import Client

    from matchmaker.cluster import local_cluster, run_on_client

    out: dict[str, Any] = {"n": n, "top": top, "load_average_at_start": load()}
    shipped = load_folder(SHIPPED)
    started = time.perf_counter()
    profiles = synthesise(shipped, n, 1)
    population = fit_population(profiles.profiles, profiles.vocabulary, encoding=ENCODING)
    del profiles
    out["prepare_s"] = round(time.perf_counter() - started, 3)
    scorer = population.scorer()
    kernel = kernels.choose_kernel("auto", n, population.settings)
    source = scorer.tiles(kernel)
    side = block_rows_for(n, budget_mb, workers=threads)
    pairs = n * (n - 1) / 2
    top_partners_all(scorer, top, n_jobs=threads, block_rows=side)  # warm: the kernel loaded, the layout built
    small = synthesise(shipped, 2100, 2)
    # The same kind of vectors with the TF-IDF encoder (nothing to embed): it loads the same compiled kernel.
    warm = (
        Population.fit(
            small.profiles,
            dimensions=population.dimensions,
            sectors=tuple(small.vocabulary.sectors),
            n_components=population.vectoriser.n_components_,
        )
        .scorer()
        .tiles(kernel)
    )
    log(f"n={n}: prepared in {out['prepare_s']} s ({kernel} kernel, tiles of {side})")

    def run_locally() -> tuple[dict[str, Any], tuple[np.ndarray, np.ndarray]]:
        started, cpu = time.perf_counter(), cpu_s()
        answer = top_partners_all(scorer, top, n_jobs=threads, block_rows=side)
        wall, cpu = time.perf_counter() - started, cpu_s() - cpu
        return {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3)}, answer

    timing, expected = run_locally()
    local = {"threads": threads, **timing, "pairs_per_s": round(pairs / timing["wall_s"])}
    local["pairs_per_core_s"] = round(pairs / timing["wall_s"] / threads)
    out["local"] = local
    log(f"n={n}: local engine, {threads} threads: {local['wall_s']} s")
    before = timing

    for workers in worker_counts:
        entry: dict[str, Any] = {"workers": workers, "threads_per_worker": 1, "load_average_at_start": load()}
        started = time.perf_counter()
        with (
            local_cluster(workers) as cluster,  # as the dask engine starts one
            Client(cluster, set_as_default=False) as client,
        ):
            client.wait_for_workers(workers)
            entry["startup_s"] = round(time.perf_counter() - started, 3)
            # A small run first loads the compiled kernel in every worker (a real cluster does it once too).
            run_on_client(client, warm, BestPartners(warm.n, top, warm.dtype, fast=warm.fast), 512)
            collector = BestPartners(n, top, source.dtype, fast=source.fast)
            workers_cpu = sum(client.run(time.process_time).values())
            started, cpu = time.perf_counter(), cpu_s()
            run_on_client(client, source, collector, side)
            wall, cpu = time.perf_counter() - started, cpu_s() - cpu
            workers_cpu = sum(client.run(time.process_time).values()) - workers_cpu
            rss = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        entry.update(
            wall_s=round(wall, 3),
            pairs_per_s=round(pairs / wall),
            pairs_per_core_s=round(pairs / wall / workers),
            workers_cpu_s=round(workers_cpu, 3),
            client_cpu_s=round(cpu, 3),
            peak_rss_mb_per_worker=sorted(round(v, 1) for v in rss.values()),
            same_as_local=bool(
                np.array_equal(collector.index, expected[0])
                and np.array_equal(collector.score.astype(np.float64), expected[1])
            ),
            load_average_at_end=load(),
        )
        entry["per_core_vs_local"] = round(entry["pairs_per_core_s"] / local["pairs_per_core_s"], 3)
        entry["per_cpu_s_vs_local"] = round(local["cpu_s"] / (workers_cpu + cpu), 3)
        # The machine's speed drifts over minutes: the local engine again right after, and the ratios
        # against the mean of the local runs just before and just after this one.
        after, _ = run_locally()
        entry["local_after"] = after
        local_wall = (before["wall_s"] + after["wall_s"]) / 2
        local_cpu = (before["cpu_s"] + after["cpu_s"]) / 2
        entry["per_core_vs_local_bracketed"] = round(local_wall * threads / (wall * workers), 3)
        entry["per_cpu_s_vs_local_bracketed"] = round(local_cpu / (workers_cpu + cpu), 3)
        before = after
        out[f"dask_{workers}"] = entry
        log(
            f"n={n}: dask, {workers} worker(s): {entry['wall_s']} s, per core {entry['per_core_vs_local']} x local "
            f"({entry['per_core_vs_local_bracketed']} x the local runs just before and after), "
            f"same as local: {entry['same_as_local']}"
        )
    out["peak_rss_mb"] = peak_rss_mb()
    out["load_average_at_end"] = load()
    return out


# -- a slice of a million ---------------------------------------------------------------------------------


def million_vectors(n: int, chunk: int) -> tuple[ProfileMatrices, Context, ScoringSettings, tuple[str, ...]]:
    """Vectors of ``n`` synthetic organisations, in chunks, by a vectoriser fitted on the first chunk."""
    shipped = load_folder(SHIPPED)
    first = synthesise(shipped, min(n, chunk), 1)
    population = fit_population(first.profiles, first.vocabulary, encoding=ENCODING)
    vectoriser = population.vectoriser
    parts, countries = [population.matrices], [population.context.countries]
    del first
    for seed in range(2, 2 + -(-n // chunk) - 1):
        size = min(chunk, n - sum(p.n for p in parts))
        batch = synthesise(shipped, size, seed).profiles
        parts.append(vectoriser.split(vectoriser.transform(batch)))
        countries.append(np.array([p.country for p in batch]))
        log(f"slice: {sum(p.n for p in parts):,} organisations vectorised")
    matrices = concat(parts) if len(parts) > 1 else parts[0]
    return matrices, Context(np.concatenate(countries)), population.settings, population.dimensions


def score_tiles(source: TileScorer, collector: BestPartners, tiles: list[Any], own: bool, threads: int) -> None:
    """Score ``tiles`` in ``threads`` threads, merging in this one (as the local engine does)."""

    def one(tile: Any) -> Any:
        with IDLE.borrowed() as workspace:
            return source.candidates(tile, collector.snapshot(tile), workspace=workspace, own_blocks=own)

    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(max_workers=threads) as pool:
        for found in pool.map(one, tiles):
            collector.merge(found)


def million_slice(
    n: int, rows: int, top: int, threads: int, chunk: int, budget_mb: float, per_core_vs_local: float | None
) -> dict[str, Any]:
    out: dict[str, Any] = {"n": n, "rows": rows, "load_average_at_start": load()}
    started = time.perf_counter()
    matrices, context, settings, dimensions = million_vectors(n, chunk)
    out["vectorise_s"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    plan = ScoringPlan.build(matrices, context, settings, dimensions)
    del matrices
    kernel = kernels.choose_kernel("auto", n, settings)
    source = plan.tiles(kernel)
    del plan  # a worker holds the layout only
    out["prepare_s"] = round(time.perf_counter() - started, 3)
    layout = source.layout
    out["layout_mb"] = round(
        sum(
            getattr(value, "nbytes", 0) + sum(getattr(x, "nbytes", 0) for x in value)
            if isinstance(value, tuple)
            else getattr(value, "nbytes", 0)
            for value in vars(layout).values()
        )
        / 2**20,
        1,
    )
    side = block_rows_for(n, budget_mb, workers=threads)
    collector = BestPartners(n, top, source.dtype, fast=source.fast)
    first, second = work_of(n, side, source.canonical)
    started = time.perf_counter()
    score_tiles(source, collector, first, True, threads)
    out["first_phase_s"] = round(time.perf_counter() - started, 3)
    log(f"slice: first phase for {n:,} organisations in {out['first_phase_s']} s")
    chosen = [t for t in second if t[0] < rows]
    cells = sum(map(tile_work, chosen))
    out.update(tiles=len(chosen), tile=side, threads=threads, cells=cells)
    # Twice: as the first tiles of a run see them (the columns' thresholds from the first phase only),
    # then with every threshold matured on these rows (as most of a run's tiles see them).
    for label, collecting in (("fresh", collector), ("matured", None)):
        if collecting is None:
            collecting = BestPartners(n, top, source.dtype, fast=source.fast)
            collecting.raise_floor(collector.threshold)
        started, cpu = time.perf_counter(), cpu_s()
        score_tiles(source, collecting, chosen, False, threads)
        wall, cpu = time.perf_counter() - started, cpu_s() - cpu
        out[label] = {
            "wall_s": round(wall, 3),
            "cpu_s": round(cpu, 3),
            "cells_per_core_s": round(cells / wall / threads),
            "cells_per_cpu_s": round(cells / cpu),
        }
        log(f"slice ({label}): {rows:,} rows x {n:,} in {wall:.1f} s, {out[label]['cells_per_core_s']:,} cells/s/core")
    out["peak_rss_mb"] = peak_rss_mb()
    total = n * (n - 1) / 2
    efficiency = per_core_vs_local if per_core_vs_local is not None else 1.0
    out["dask_per_core_vs_local_used"] = efficiency
    for label in ("matured", "fresh"):
        rate = out[label]["cells_per_core_s"]
        suffix = "" if label == "matured" else "_fresh"
        out[f"full_run_here_h{suffix}"] = round((total / (rate * threads) + out["first_phase_s"]) / 3600, 2)
        out[f"full_run_10x16_h{suffix}"] = round(total / (rate * 160 * efficiency) / 3600, 3)
    out["load_average_at_end"] = load()
    log(f"slice: full run here {out['full_run_here_h']} h (fresh: {out['full_run_here_h_fresh']} h)")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--n", type=int, default=100_000, help="organisations for local against dask")
    parser.add_argument("--workers", default="1,2", help="dask worker processes to try, comma-separated")
    parser.add_argument("--threads", type=int, default=None, help="threads of the local engine")
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--slice-n", type=int, default=1_000_000, help="organisations of the slice (0: none)")
    parser.add_argument("--slice-rows", type=int, default=20_000, help="rows scored against everyone")
    parser.add_argument("--chunk", type=int, default=100_000, help="organisations vectorised at a time")
    parser.add_argument("--memory-budget-mb", type=float, default=512.0)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    threads = args.threads or available_workers()
    report: dict[str, Any] = {
        "command": "python benchmarks/distributed.py " + " ".join(sys.argv[1:]),
        "machine": machine(),
    }
    workers = [int(w) for w in args.workers.split(",") if w.strip()]
    if args.n:
        report["engines"] = compare_engines(args.n, args.top, workers, threads, args.memory_budget_mb)
    if args.slice_n:
        engines = report.get("engines", {})
        ratios = [engines[f"dask_{w}"]["per_core_vs_local"] for w in workers if f"dask_{w}" in engines]
        report["slice"] = million_slice(
            args.slice_n,
            args.slice_rows,
            args.top,
            threads,
            args.chunk,
            args.memory_budget_mb,
            min(ratios) if ratios else None,
        )
    print(json.dumps(report, indent=2 if args.json else None))


if __name__ == "__main__":
    main()
