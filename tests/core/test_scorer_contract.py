"""The contract every registered scorer keeps, on exact and latent vectors, for every combiner.

No self pairs; sorted; finite and at least 0; deterministic; scoring in tiles equals scoring whole;
one organisation against everyone equals its row of all pairs; the breakdown equals the block score;
the reasons add up to the directed benefits, and through the combiner to the score.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders import market, populations
from checks import assert_blocked_pairs_equal, assert_blocked_partners_equal
from matchmaker.core.population import Population
from matchmaker.core.profile import Profile
from matchmaker.core.profile_set import ProfileSet
from matchmaker.core.scoring import COMBINERS, SCORERS, Scorer, ScoringSettings, top_pairs, top_partners_all
from matchmaker.core.scoring.execution import run_tiles_locally
from matchmaker.core.scoring.formula import bonus_factor
from matchmaker.core.scoring.layout import SupportLayout
from matchmaker.core.scoring.selection import BestPartners
from matchmaker.core.scoring.tiles import TileScorer
from matchmaker.synth import synthesise

CASES = [(scorer, combiner) for scorer in sorted(SCORERS) for combiner in sorted(COMBINERS)]


def _settings(scorer: str, combiner: str, **extra: float) -> ScoringSettings:
    return ScoringSettings(scorer=scorer, combiner=combiner, **extra)  # type: ignore[arg-type]


@pytest.fixture(params=CASES, ids=[f"{s}-{c}" for s, c in CASES])
def market_scorer(request: pytest.FixtureRequest) -> tuple[Population, Scorer]:
    """A small market with a known answer (exact vectors), with a cross-border bonus so every term counts."""
    scorer, combiner = request.param
    population = Population.fit(market(), settings=_settings(scorer, combiner, cross_border_weight=0.3))
    return population, population.scorer()


@pytest.fixture(scope="module")
def latent(shipped: ProfileSet) -> Population:
    """More than two canonical blocks of latent vectors: tiles cross block boundaries, caps bind."""
    profiles = synthesise(shipped, 1300, seed=4).profiles
    return Population.fit(
        profiles,
        dimensions=tuple(shipped.vocabulary.dimensions),
        sectors=tuple(shipped.vocabulary.sectors),
        n_components=24,
    )


def full_matrix(scorer: Scorer) -> np.ndarray:
    return np.asarray(scorer.block(slice(0, scorer.n), slice(0, scorer.n)), dtype=np.float64).copy()


def assert_contract(scorer: Scorer, profiles: tuple[Profile, ...], *, k: int, block_rows: int, atol: float) -> None:
    exact = atol < 1e-9
    full = full_matrix(scorer)
    assert np.isfinite(full).all() and (full >= 0).all()
    np.testing.assert_allclose(full, full.T, atol=atol)  # the same pair scores the same either way round
    np.testing.assert_array_equal(full, full_matrix(scorer))  # deterministic
    # Tiles and threads change nothing; pairs are (a < b), best first.
    index, score = assert_blocked_partners_equal(scorer, k, block_rows=block_rows, n_jobs=2)
    a, b, s = assert_blocked_pairs_equal(scorer, k, block_rows=block_rows, n_jobs=2)
    assert (a < b).all() and list(s) == sorted(s, reverse=True)
    np.testing.assert_allclose(s, full[a, b], atol=atol)
    for row in range(scorer.n):
        assert row not in index[row]
        listed = index[row][index[row] >= 0]
        assert list(score[row][: len(listed)]) == sorted(score[row][: len(listed)], reverse=True)
    # One organisation against everyone: its row of the full matrix, and the same best partners.
    for row in range(0, scorer.n, max(1, scorer.n // 7)):
        np.testing.assert_allclose(scorer.one_vs_all(row), full[row], atol=atol)
        found, found_scores = scorer.top_partners(row, k)
        assert row not in found and (found_scores > 0).all()
        np.testing.assert_allclose(found_scores, np.sort(np.delete(full[row], row))[::-1][: len(found)], atol=atol)
    # The breakdown of each listed pair equals its block score, and its reasons add up to it.
    a_rows, b_rows = np.nonzero(np.triu(full, 1) > 0)
    if a_rows.size:
        parts = scorer.components(a_rows, b_rows)
        np.testing.assert_allclose(parts.score, full[a_rows, b_rows], atol=atol)
        pairs = [(profiles[i], profiles[j]) for i, j in zip(a_rows.tolist(), b_rows.tolist(), strict=True)]
        for k_pair, reasons in enumerate(scorer.explain(pairs, floor=0.0)):
            sums = [sum(r.contribution for r in reasons if r.direction == d) for d in ("a_to_b", "b_to_a")]
            directed = (parts.directed_ab[k_pair], parts.directed_ba[k_pair])
            if exact:
                np.testing.assert_allclose(sums, directed, atol=1e-9)
                combined = scorer.settings.combiner_entry(np.array([sums[0]]), np.array([sums[1]]))[0]
                bonus = bonus_factor(parts.sector_fit[k_pair], parts.cross_border[k_pair], scorer.settings)
                assert combined * bonus == pytest.approx(parts.score[k_pair], abs=1e-9)
            else:  # latent vectors: the small negative similarities are not reasons
                assert all(total >= d - 1e-5 for total, d in zip(sums, directed, strict=True))


def test_market_contract(market_scorer: tuple[Population, Scorer]) -> None:
    population, scorer = market_scorer
    assert_contract(scorer, population.profiles, k=3, block_rows=2, atol=1e-12)


def test_exact_complement_ranks_first(market_scorer: tuple[Population, Scorer]) -> None:
    population, scorer = market_scorer
    found, _ = scorer.top_partners(population.index["factory"], 3)
    assert population.profiles[found[0]].id == "gpu-host"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    populations(max_orgs=14, max_items=4),  # up to four items of strength up to 3 a dimension: caps are exercised
    st.sampled_from([None, 3, 6]),
    st.sampled_from(CASES),
    st.integers(1, 6),
    st.integers(1, 5),
    st.floats(0, 0.5),
    st.booleans(),
)
def test_contract_on_random_markets(
    profiles: list[Profile],
    components: int | None,
    case: tuple[str, str],
    block_rows: int,
    k: int,
    cross_weight: float,
    cross_only: bool,
) -> None:
    if not any(p.offers or p.needs for p in profiles):
        return  # a population with no items at all cannot be fitted; that is its own test
    population = Population.fit(
        profiles, n_components=components, settings=_settings(*case, cross_border_weight=cross_weight)
    )
    scorer = population.scorer()
    assert_contract(scorer, population.profiles, k=k, block_rows=block_rows, atol=1e-12 if components is None else 1e-5)
    assert_blocked_pairs_equal(scorer, k, block_rows=block_rows, n_jobs=2, cross_border_only=cross_only)


@pytest.mark.parametrize(
    ("block_rows", "n_jobs"),
    [(512, 2), (300, 2), (1024, 1), (77, 2)],
    ids=["canonical", "unaligned", "single-thread", "small"],
)
def test_latent_tiles_across_canonical_blocks(latent: Population, block_rows: int, n_jobs: int) -> None:
    scorer = latent.scorer()
    assert_blocked_partners_equal(scorer, 7, block_rows=block_rows, n_jobs=n_jobs)
    assert_blocked_pairs_equal(scorer, 25, block_rows=block_rows, n_jobs=n_jobs)
    plan = scorer.plan()  # type: ignore[attr-defined]
    assert plan.capped and plan.clamp  # caps and latent negatives are exercised


@pytest.mark.parametrize("prune_min_rows", [0, None], ids=["pruned", "default"])
def test_one_against_everyone_finds_what_all_pairs_finds(latent: Population, prune_min_rows: int | None) -> None:
    scorer = latent.scorer()
    index, score = top_partners_all(scorer, 5)
    full_rows = range(0, len(latent), 97)
    for row in full_rows:
        found, found_scores = scorer.top_partners(row, 5, prune_min_rows=prune_min_rows)  # type: ignore[call-arg]
        assert found.tolist() == [j for j in index[row] if j >= 0]
        np.testing.assert_allclose(found_scores, score[row][: len(found)], atol=1e-5)
        np.testing.assert_allclose(scorer.one_vs_all(row)[index[row][index[row] >= 0]], found_scores, atol=1e-5)


@pytest.mark.parametrize("vectors", ["latent", "exact"])
def test_a_few_allowed_rows_score_as_everyone_does(latent: Population, shipped: ProfileSet, vectors: str) -> None:
    """A narrow ``allowed`` mask (enablers) is scored on its rows alone: exactly the whole row's answer there."""
    population = latent
    if vectors == "exact":
        vocabulary = shipped.vocabulary
        profiles = synthesise(shipped, 400, seed=5).profiles
        dimensions, sectors = tuple(vocabulary.dimensions), tuple(vocabulary.sectors)
        population = Population.fit(profiles, dimensions=dimensions, sectors=sectors)
    scorer = population.scorer()
    rng = np.random.default_rng(3)
    for row in range(0, len(population), 37):
        allowed = np.zeros(len(population), dtype=bool)
        allowed[rng.choice(len(population), len(population) // 10, replace=False)] = True
        allowed[row] = True  # never its own partner, even when allowed
        found, found_scores = scorer.top_partners(row, 6, allowed)
        whole = scorer.one_vs_all(row)
        whole[row] = 0.0
        whole = np.where(allowed, whole, 0.0)
        assert np.count_nonzero(allowed) * 8 <= len(population)  # the narrow path (query.SUBSET_SHARE)
        positive = np.flatnonzero(whole > 0)
        expected = positive[np.lexsort((positive, -whole[positive]))][:6]
        assert found.tolist() == expected.tolist()
        assert found_scores.tolist() == whole[expected].tolist()  # bit for bit, not approximately


def test_lists_ranked_together_are_the_lists_ranked_apart(latent: Population) -> None:
    """A partner list and its enablers from one scoring and one batch of explanations: as if asked apart."""
    rng = np.random.default_rng(5)
    few = np.zeros(len(latent), dtype=bool)
    few[rng.choice(len(latent), 60, replace=False)] = True  # scored on its rows alone
    many = rng.random(len(latent)) < 0.6  # from the scores against everyone
    for org in [p.id for p in latent.profiles[::211]]:
        together = latent.partners_each(org, [(7, ~few), (3, few), (4, many), (2, None)])
        apart = [latent.partners(org, top=t, allowed=a) for t, a in [(7, ~few), (3, few), (4, many), (2, None)]]
        assert [[m.b.id for m in found] for found in together] == [[m.b.id for m in found] for found in apart]
        for found, expected in zip(together, apart, strict=True):
            np.testing.assert_allclose([m.score for m in found], [m.score for m in expected], rtol=1e-12)
            assert [[r.offer.item for r in m.reasons] for m in found] == [
                [r.offer.item for r in m.reasons] for m in expected
            ]


def test_latent_pairs_match_the_full_matrix(latent: Population) -> None:
    scorer = latent.scorer()
    full = full_matrix(scorer)
    a, b, s = top_pairs(scorer, 5)
    np.testing.assert_allclose(s, full[a, b], atol=1e-5)
    best = latent.pairs(top=5, reasons=0)
    assert [(m.a.id, m.b.id) for m in best] == [
        (latent.profiles[i].id, latent.profiles[j].id) for i, j in zip(a, b, strict=True)
    ]


def test_progress_reaches_the_end(latent: Population) -> None:
    calls: list[tuple[int, int]] = []
    latent.pairs(top=3, block_rows=512, progress=lambda done, total: calls.append((done, total)), reasons=0)
    assert calls[-1] == (len(latent), len(latent)) and len(calls) > 3
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_unknown_scorer_lists_the_registered_ones() -> None:
    from matchmaker.core.errors import SettingsError

    with pytest.raises(SettingsError, match="unknown scorer 'cosine'; accepted: complementarity"):
        Population.fit(market()).scorer(ScoringSettings(scorer="cosine"))


def test_a_population_keeps_its_layout_for_its_last_settings(latent: Population) -> None:
    first = latent.scorer().tiles("numpy")
    assert latent.scorer().tiles("numpy") is first  # a new scorer (as all_partners makes) finds it
    other = dataclasses.replace(latent.settings, sector_weight=0.0, combiner="harmonic")
    # Each settings' answer is that of a layout built afresh for them, whatever was kept before.
    for chosen in (other, latent.settings, other):
        scorer = latent.scorer(chosen)
        kept = scorer.tiles("numpy")
        assert isinstance(kept, TileScorer)
        assert kept.settings == scorer.settings
        fresh = TileScorer(SupportLayout.of(scorer.plan()), scorer.settings, True, "numpy")  # type: ignore[attr-defined]
        assert fresh.layout is not kept.layout
        for source in (kept, fresh):
            collector = BestPartners(scorer.n, 5, scorer.dtype)
            run_tiles_locally(source, collector, 512, n_jobs=2)
            found = collector.index, collector.score
            if source is kept:
                expected = found
        np.testing.assert_array_equal(found[0], expected[0])
        np.testing.assert_array_equal(found[1], expected[1])
