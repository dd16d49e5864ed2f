"""The tile kernels: numba and numpy give bit-identical scores and the same selections, in every layout.

Small canonical blocks (a few rows) make random markets of a dozen organisations cross many block
boundaries, so every path of the layout (runs, positions, diagonal block pairs, partial tiles) is
exercised on both kernels.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders import populations
from matchmaker.core.errors import SettingsError
from matchmaker.core.population import Population
from matchmaker.core.profile import Profile
from matchmaker.core.profile_set import ProfileSet
from matchmaker.core.scoring import COMBINERS, ScoringSettings, kernels, layout, top_pairs, top_partners_all
from matchmaker.core.scoring.execution import run_tiles_locally
from matchmaker.core.scoring.layout import SupportLayout
from matchmaker.core.scoring.selection import BestPairs, BestPartners, ranking_order
from matchmaker.core.scoring.tiles import TileScorer
from matchmaker.synth import synthesise

KERNELS = ("numpy", "numba")


def tile_scorers(population: Population, canonical: int) -> dict[str, TileScorer]:
    plan = population.scorer().plan()  # type: ignore[attr-defined]
    found = SupportLayout.of(plan, canonical)
    return {name: TileScorer(found, plan.settings, plan.clamp, name) for name in KERNELS}


def best_partners(source: TileScorer, k: int, side: int, n_jobs: int) -> tuple[np.ndarray, np.ndarray]:
    collector = BestPartners(source.n, k, source.dtype, fast=source.fast)
    run_tiles_locally(source, collector, side, n_jobs=n_jobs)
    return collector.index, collector.score


def best_pairs(source: TileScorer, k: int, side: int, cross: bool) -> tuple[np.ndarray, ...]:
    collector = BestPairs(k, source.dtype, fast=source.fast)
    run_tiles_locally(source, collector, side, cross_border_only=cross, n_jobs=2)
    return collector.a, collector.b, collector.score


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    populations(max_orgs=24, max_items=4),
    st.sampled_from([None, 3, 6]),
    st.sampled_from(sorted(COMBINERS)),
    st.sampled_from([2, 3, 5, 512]),
    st.integers(1, 9),
    st.integers(1, 5),
    st.floats(0, 0.5),
    st.booleans(),
)
def test_kernels_agree_on_random_markets(
    profiles: list[Profile],
    components: int | None,
    combiner: str,
    canonical: int,
    side: int,
    k: int,
    cross_weight: float,
    cross_only: bool,
) -> None:
    if not any(p.offers or p.needs for p in profiles):
        return
    population = Population.fit(
        profiles,
        n_components=components,
        settings=ScoringSettings(combiner=combiner, cross_border_weight=cross_weight),
    )
    scorers = tile_scorers(population, canonical)
    n = len(profiles)
    full = {name: s.block(slice(0, n), slice(0, n), cross_border_only=cross_only) for name, s in scorers.items()}
    np.testing.assert_array_equal(full["numba"], full["numpy"])
    # The scores are the formula's (computed pair by pair in float64).
    a, b = np.triu_indices(n, 1)
    parts = population.scorer().components(a, b)
    expected = parts.score * (parts.cross_border if cross_only else 1)
    np.testing.assert_allclose(full["numpy"][a, b], expected, atol=1e-12 if components is None else 1e-5)
    # Selections: the same whatever the kernel, the tile side or the threads; one tile is the reference.
    whole = best_partners(scorers["numpy"], k, n, 1)
    for name in KERNELS:
        found = best_partners(scorers[name], k, side, 2)
        np.testing.assert_array_equal(found[0], whole[0])
        np.testing.assert_array_equal(found[1], whole[1])
    reference = best_pairs(scorers["numpy"], k, n, cross_only)
    for name in KERNELS:
        for x, y in zip(best_pairs(scorers[name], k, side, cross_only), reference, strict=True):
            np.testing.assert_array_equal(x, y)


@pytest.fixture(scope="module")
def synthetic(shipped: ProfileSet) -> dict[str, Population]:
    """Populations over several canonical blocks: exact vectors (700) and latent ones (1,300)."""
    dims, sectors = tuple(shipped.vocabulary.dimensions), tuple(shipped.vocabulary.sectors)
    return {
        "exact": Population.fit(synthesise(shipped, 700, seed=8).profiles, dimensions=dims, sectors=sectors),
        "latent": Population.fit(
            synthesise(shipped, 1300, seed=9).profiles, dimensions=dims, sectors=sectors, n_components=24
        ),
    }


@pytest.mark.parametrize("vectors", ["exact", "latent"])
@pytest.mark.parametrize(("block_rows", "n_jobs"), [(512, 2), (300, 2), (1024, 1)], ids=["aligned", "unaligned", "one"])
def test_kernels_agree_across_canonical_blocks(
    synthetic: dict[str, Population], vectors: str, block_rows: int, n_jobs: int
) -> None:
    scorer = synthetic[vectors].scorer()
    partners = {
        kernel: top_partners_all(scorer, 7, block_rows=block_rows, n_jobs=n_jobs, kernel=kernel) for kernel in KERNELS
    }
    pairs = {kernel: top_pairs(scorer, 40, block_rows=block_rows, n_jobs=n_jobs, kernel=kernel) for kernel in KERNELS}
    for x, y in zip(partners["numba"], partners["numpy"], strict=True):
        np.testing.assert_array_equal(x, y)
    for x, y in zip(pairs["numba"], pairs["numpy"], strict=True):
        np.testing.assert_array_equal(x, y)
    rows = np.arange(0, scorer.n, 37)
    np.testing.assert_array_equal(
        scorer.tiles("numba").block(rows, slice(None)), scorer.tiles("numpy").block(rows, slice(None))
    )


def test_bonus_without_a_table(synthetic: dict[str, Population], monkeypatch: pytest.MonkeyPatch) -> None:
    """Many distinct bonus rows: the bonus is a product per block pair, the same for both kernels."""
    population = synthetic["latent"]
    with_table = tile_scorers(population, 512)["numpy"].block(slice(0, 600), slice(0, 900))
    monkeypatch.setattr(layout, "TABLE_MAX_CODES", 0)
    scorers = tile_scorers(population, 512)
    assert scorers["numpy"].layout.table is None
    found = {name: s.block(slice(0, 600), slice(0, 900)) for name, s in scorers.items()}
    np.testing.assert_array_equal(found["numba"], found["numpy"])
    np.testing.assert_allclose(found["numpy"], with_table, atol=1e-6)
    for x, y in zip(
        best_partners(scorers["numba"], 5, 512, 2), best_partners(scorers["numpy"], 5, 512, 2), strict=True
    ):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("path", ["sparse products", "scattered terms"])
def test_numpy_paths_are_bit_identical(
    synthetic: dict[str, Population], monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    """Exact vectors' CSR x dense products equal CSR x CSR ones, and terms added rectangle by rectangle
    equal terms scattered, bit for bit: in blocks, in every organisation's best and in the best pairs."""
    population = synthetic["exact"]

    def results() -> tuple[np.ndarray, ...]:
        source = tile_scorers(population, 64)["numpy"]
        collector = BestPairs(25, source.dtype)
        run_tiles_locally(source, collector, 128, n_jobs=1)
        return (
            source.block(slice(0, source.n), slice(0, source.n)),
            *best_partners(source, 6, 192, 2),
            collector.a,
            collector.b,
            collector.score,
        )

    reference = results()
    if path == "sparse products":
        monkeypatch.setattr(layout, "DENSE_COLUMNS_BYTES", 0)
        assert not tile_scorers(population, 64)["numpy"].layout.dense_columns
    else:
        monkeypatch.setattr(kernels, "RECTANGLES_MAX", 0)
    for x, y in zip(results(), reference, strict=True):
        np.testing.assert_array_equal(x, y)
    assert tile_scorers(population, 64)["numpy"].layout.exact_blocks  # exact vectors: blocks sliced once


def test_blas_is_held_only_where_it_is_called(synthetic: dict[str, Population]) -> None:
    assert not synthetic["exact"].scorer().tiles("numpy").uses_blas  # sparse products and a bonus table
    assert synthetic["latent"].scorer().tiles("numpy").uses_blas


def test_blocks_of_chosen_rows_repeat_and_reorder(synthetic: dict[str, Population]) -> None:
    scorer = synthetic["latent"].scorer()
    full = scorer.block(slice(0, scorer.n), slice(0, scorer.n))
    rows = np.array([900, 3, 900, 517, 3])
    cols = np.array([1, 1200, 1])
    np.testing.assert_array_equal(scorer.block(rows, cols), full[np.ix_(rows, cols)])
    assert scorer.block(np.array([], dtype=np.int64), cols).shape == (0, 3)


def test_a_layout_sent_with_out_of_band_buffers_owns_its_arrays(synthetic: dict[str, Population]) -> None:
    # As Dask sends it (pickle protocol 5): unpickled, the arrays would be views of the received frames.
    source = synthetic["latent"].scorer().tiles("numpy")
    buffers: list[pickle.PickleBuffer] = []
    message = pickle.dumps(source, protocol=5, buffer_callback=buffers.append)
    assert buffers
    received = pickle.loads(message, buffers=[bytearray(b.raw()) for b in buffers])
    arrays = [received.layout.perm, received.layout.share, *received.layout.offers, *received.layout.needs]
    assert all(isinstance(a, np.ndarray) and a.base is None and a.flags.writeable for a in arrays)
    np.testing.assert_array_equal(received.layout.offers[0], source.layout.offers[0])
    top = best_partners(received, 5, 512, 2)
    np.testing.assert_array_equal(top[0], best_partners(source, 5, 512, 2)[0])


def test_compiled_merge_keeps_what_sorting_keeps() -> None:
    rng = np.random.default_rng(3)
    n, k = 40, 4
    offered = rng.permutation(n * n)[:1200]  # (organisation, partner) pairs, each offered once
    org, partner = offered // n, offered % n
    score = rng.choice(np.array([0.25, 0.5, 0.75, 1.0], dtype=np.float32), org.size)  # many ties
    cells = (org, partner, score, np.ones(org.size, dtype=np.int8))
    merged = {}
    for fast in (False, True):
        collector = BestPartners(n, k, np.float32, fast=fast)
        for chunk in np.array_split(np.arange(org.size), 7):
            collector.merge(tuple(x[chunk] for x in cells))  # type: ignore[arg-type]
        merged[fast] = collector
    np.testing.assert_array_equal(merged[True].index, merged[False].index)
    np.testing.assert_array_equal(merged[True].score, merged[False].score)
    np.testing.assert_array_equal(merged[True].threshold, merged[False].threshold)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from([np.float32, np.float64]),
    st.lists(
        st.tuples(
            st.integers(0, 3) | st.integers(0, 2**40),  # few organisations (ties within one), or big indices
            st.sampled_from([0.0, -0.0, 1e-30, -1e-30, 0.25, 0.5, 1.0, -2.0, 3.0e38]),
            st.integers(0, 5) | st.integers(0, 2**33),
        ),
        max_size=60,
    ),
)
def test_the_radix_ranking_orders_as_lexsort(dtype: type, rows: list[tuple[int, float, int]]) -> None:
    # Distinct (organisation, partner) pairs, as a merge offers them; scores with ties and signed zeros.
    unique = list({(org, partner): score for org, score, partner in rows}.items())
    org = np.array([key[0] for key, _ in unique], dtype=np.int64)
    partner = np.array([key[1] for key, _ in unique], dtype=np.int64)
    score = np.array([value for _, value in unique], dtype=dtype)
    expected = np.lexsort((partner, -score, org))
    np.testing.assert_array_equal(ranking_order(org, score, partner), expected)


def test_choosing_a_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    default = ScoringSettings()
    assert kernels.choose_kernel("auto", 100, default) == "numpy"  # compiling would take longer than scoring
    assert kernels.choose_kernel("auto", 100_000, default) == "numba"
    with pytest.raises(SettingsError, match="unknown kernel 'gpu'; accepted: auto, numpy, numba"):
        kernels.choose_kernel("gpu", 100, default)
    custom = ScoringSettings(combiner="softmax")
    assert kernels.choose_kernel("auto", 100_000, custom) == "numpy"
    with pytest.raises(SettingsError, match="the numba kernel computes the built-in combiners only"):
        kernels.choose_kernel("numba", 100, custom)
    monkeypatch.setattr(kernels, "numba_kernels", lambda: None)
    assert kernels.choose_kernel("auto", 100_000, default) == "numpy"
    with pytest.raises(SettingsError, match=r"needs numba: pip install 'matchmaker\[fast\]'"):
        kernels.choose_kernel("numba", 100_000, default)


def test_the_numba_kernel_computes_every_registered_combiner() -> None:
    # A new combiner without its numba twin would silently leave large populations on the numpy kernel.
    assert set(kernels.COMBINER_CODES) == set(COMBINERS)
