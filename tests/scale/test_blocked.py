"""All-pairs top-K in tiles equals the whole computation, for every tile size and thread count."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders import populations
from checks import assert_blocked_pairs_equal, assert_blocked_partners_equal
from matchmaker.core import scoring
from matchmaker.core.population import Population
from matchmaker.core.profile import Profile
from matchmaker.core.scoring import (
    COMBINERS,
    ScoringPlan,
    ScoringSettings,
    score_block,
    top_pairs,
    top_partners,
)
from matchmaker.loading import ProfileSet
from matchmaker.synth import synthesise


def brute_force(population: Population, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-organisation top k from the full score matrix: score descending, then index."""
    full = score_block(
        population.matrices, np.arange(len(population)), population.context, population.settings, population.dimensions
    )
    np.fill_diagonal(full, 0.0)
    index = np.full((len(population), k), -1)
    for a, row in enumerate(full):
        order = np.lexsort((np.arange(len(row)), -row))[:k]
        order = order[row[order] > 0]
        index[a, : len(order)] = order
    return index, full


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    populations(max_orgs=14, max_items=4),  # up to four items of strength up to 3 a dimension: caps are exercised
    st.sampled_from([None, 3, 6]),
    st.sampled_from(sorted(COMBINERS)),
    st.integers(1, 6),
    st.integers(1, 2),
    st.integers(1, 5),
    st.floats(0, 0.5),
    st.booleans(),
)
def test_blocked_equals_unblocked(
    profiles: list[Profile],
    components: int | None,
    combiner: str,
    block_rows: int,
    n_jobs: int,
    k: int,
    cross_weight: float,
    cross_only: bool,
) -> None:
    if not any(p.offers or p.needs for p in profiles):
        return  # a population with no items at all cannot be fitted; that is its own test
    population = Population.fit(
        profiles, n_components=components, settings=ScoringSettings(combiner=combiner, cross_border_weight=cross_weight)
    )
    m, ctx, chosen, dims = population.matrices, population.context, population.settings, population.dimensions
    whole = assert_blocked_partners_equal(population, k, block_rows=block_rows, n_jobs=n_jobs)
    pairs_whole = assert_blocked_pairs_equal(
        population, k, block_rows=block_rows, n_jobs=n_jobs, cross_border_only=cross_only
    )
    # ... and both agree with the full matrix (exactly for exact vectors, to float32 rounding for latent ones).
    index, full = brute_force(population, k)
    tolerance = 1e-12 if components is None else 1e-5
    got = np.where(whole[0] >= 0, whole[1], 0.0)
    np.testing.assert_allclose(
        got, np.where(index >= 0, np.take_along_axis(full, np.maximum(index, 0), 1), 0.0), atol=tolerance
    )
    if components is None:
        np.testing.assert_array_equal(whole[0], index)
    a, b, s = pairs_whole
    assert (a < b).all() and list(s) == sorted(s, reverse=True)
    np.testing.assert_allclose(s, full[a, b], atol=tolerance)
    for row in range(min(3, len(population))):  # one organisation against everyone agrees too
        found = top_partners(m, row, ctx, chosen, dims, k)
        np.testing.assert_allclose(full[row, found], np.sort(full[row])[::-1][: len(found)], atol=tolerance)


@pytest.fixture(scope="module")
def synthetic(shipped: ProfileSet) -> Population:
    """More than two canonical blocks of latent vectors: tiles cross block boundaries."""
    profiles = synthesise(shipped, 1300, seed=4).profiles
    return Population.fit(
        profiles,
        dimensions=tuple(shipped.vocabulary.dimensions),
        sectors=tuple(shipped.vocabulary.sectors),
        n_components=24,
    )


@pytest.mark.parametrize(
    ("block_rows", "n_jobs"),
    [(512, 2), (300, 2), (1024, 1), (77, 2)],
    ids=["canonical", "unaligned", "single-thread", "small"],
)
def test_blocked_equals_unblocked_on_latent_vectors_across_canonical_blocks(
    synthetic: Population, block_rows: int, n_jobs: int
) -> None:
    assert_blocked_partners_equal(synthetic, 7, block_rows=block_rows, n_jobs=n_jobs)
    assert_blocked_pairs_equal(synthetic, 25, block_rows=block_rows, n_jobs=n_jobs)
    plan = ScoringPlan.build(synthetic.matrices, synthetic.context, synthetic.settings, synthetic.dimensions)
    assert plan.capped and plan.clamp  # caps and latent negatives are exercised


def test_latent_results_match_the_full_matrix(synthetic: Population) -> None:
    index, score = synthetic.all_partners(top=5)
    _, full = brute_force(synthetic, 5)
    np.testing.assert_allclose(score, np.take_along_axis(full, np.maximum(index, 0), 1), atol=1e-5)
    assert (index[:, 0] >= 0).all() and (np.diff(score, axis=1) <= 0).all()
    best = synthetic.pairs(top=5, reasons=0)
    assert [(m.a.id, m.b.id) for m in best] == [
        (synthetic.profiles[a].id, synthetic.profiles[b].id)
        for a, b in zip(
            *top_pairs(synthetic.matrices, synthetic.context, synthetic.settings, synthetic.dimensions, 5)[:2],
            strict=True,
        )
    ]


@pytest.mark.parametrize("prune_min_rows", [0, None], ids=["pruned", "default"])
def test_query_matches_all_pairs(
    synthetic: Population, prune_min_rows: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One organisation against everyone (pruned or not) finds what all pairs finds."""
    if prune_min_rows is not None:
        monkeypatch.setattr(scoring, "PRUNE_MIN_ROWS", prune_min_rows)
    index, score = synthetic.all_partners(top=5)
    for row in range(0, len(synthetic), 97):
        found = synthetic.partners(synthetic.profiles[row].id, top=5, reasons=0)
        assert [m.b.id for m in found] == [synthetic.profiles[j].id for j in index[row] if j >= 0]
        np.testing.assert_allclose([m.score for m in found], score[row][: len(found)], atol=1e-5)


def test_progress_reaches_the_end(synthetic: Population) -> None:
    calls: list[tuple[int, int]] = []
    synthetic.pairs(top=3, block_rows=512, progress=lambda done, total: calls.append((done, total)), reasons=0)
    assert calls[-1] == (len(synthetic), len(synthetic)) and len(calls) > 3
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
