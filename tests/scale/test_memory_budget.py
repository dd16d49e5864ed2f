from __future__ import annotations

import tracemalloc

import pytest

from matchmaker.core.population import Population
from matchmaker.core.profile_set import ProfileSet
from matchmaker.core.scoring.execution import _CELL_BYTES, TILE_MAX, block_rows_for
from matchmaker.core.scoring.plan import CANONICAL
from matchmaker.synth import synthesise


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_tile_side_fits_the_budget(workers: int) -> None:
    for budget in (1, 16, 64, 256, 512, 4096):
        side = block_rows_for(1_000_000, budget, workers=workers)
        assert side % CANONICAL == 0 and CANONICAL <= side <= TILE_MAX
        if side > CANONICAL:  # above the floor, every worker's tiles fit the budget
            assert side * side * _CELL_BYTES * workers <= budget * 1024 * 1024
    sides = [block_rows_for(n, 512, workers=2) for n in (1, 300, 600, 1000, 1500, 3000)]
    assert sides == [1, 300, 512, 512, 1024, 1024]
    assert block_rows_for(10**6, 16, workers=2) == block_rows_for(10**6, 1, workers=2) == CANONICAL  # the floor


def test_all_pairs_never_holds_the_n_by_n_matrix(shipped: ProfileSet) -> None:
    n = 4000
    population = Population.fit(synthesise(shipped, n, seed=8).profiles, n_components=16)
    population.all_partners(top=5, memory_budget_mb=16, n_jobs=1)  # warm: plans and caches
    tracemalloc.start()
    try:
        population.all_partners(top=5, memory_budget_mb=16, n_jobs=1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    full_matrix = n * n * 4  # float32, 64 MB
    assert peak < full_matrix / 2, f"peak {peak / 2**20:.0f} MiB"
