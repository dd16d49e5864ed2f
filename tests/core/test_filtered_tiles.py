"""Filtered rankings on the tile kernels: a pair filter tested cell by cell gives exactly the filtered answer.

The reference is the whole score matrix with the excluded pairs set to 0 (each pair scored with the
lower index as A, as a run scores it), ranked by sorting. Both
kernels, any tile side and small canonical blocks (so the two phases of a run and every block pair
are crossed) must give it exactly: an excluded cell must never count towards an organisation's best,
which would raise its floor and push out an allowed partner.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders import populations
from matchmaker.core.population import Population
from matchmaker.core.profile import Profile
from matchmaker.core.scoring import COMBINERS, ScoringSettings, top_pairs, top_partners_all
from matchmaker.core.scoring.execution import run_tiles_locally
from matchmaker.core.scoring.filters import PairFilter, Restricted
from matchmaker.core.scoring.layout import SupportLayout
from matchmaker.core.scoring.rules import CellRules
from matchmaker.core.scoring.selection import BestPairs, BestPartners
from matchmaker.core.scoring.tiles import TileScorer

KERNELS = ("numpy", "numba")


@st.composite
def pair_filters(draw: st.DrawFn, n: int) -> PairFilter:
    """A random filter over n organisations: any mix of the four rules."""
    flags = st.lists(st.booleans(), min_size=n, max_size=n)
    allowed = np.array(draw(flags)) if draw(st.booleans()) else None
    one_of = np.array(draw(flags)) if draw(st.booleans()) else None
    groups = tuple(
        np.array(draw(st.lists(st.integers(-1, 2), min_size=n, max_size=n))) for _ in range(draw(st.integers(0, 2)))
    )
    listed = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=2 * n))
    listed = [(a, b) for a, b in listed if a != b]
    pairs = (np.array([a for a, _ in listed], dtype=np.int64), np.array([b for _, b in listed], dtype=np.int64))
    return PairFilter(allowed=allowed, one_of=one_of, groups=groups, pairs=pairs)


def reference_partners(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Every row's k best columns by sorting (score descending, then index), scores above 0 only."""
    n = scores.shape[0]
    index, best = np.full((n, k), -1), np.zeros((n, k), dtype=scores.dtype)
    for a in range(n):
        order = [b for b in np.lexsort((np.arange(n), -scores[a])) if b != a and scores[a, b] > 0][:k]
        index[a, : len(order)], best[a, : len(order)] = order, scores[a, order]
    return index, best


def reference_pairs(scores: np.ndarray, k: int) -> list[tuple[int, int]]:
    a, b = np.triu_indices(scores.shape[0], 1)
    s = scores[a, b]
    order = [i for i in np.lexsort((b, a, -s)) if s[i] > 0][:k]
    return [(int(a[i]), int(b[i])) for i in order]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    populations(max_orgs=20, max_items=4),
    st.sampled_from([None, 4]),
    st.sampled_from(sorted(COMBINERS)),
    st.sampled_from([2, 3, 512]),
    st.integers(1, 7),
    st.integers(1, 4),
    st.data(),
)
def test_filtered_tiles_equal_the_filtered_matrix(
    profiles: list[Profile],
    components: int | None,
    combiner: str,
    canonical: int,
    side: int,
    k: int,
    data: st.DataObject,
) -> None:
    if not any(p.offers or p.needs for p in profiles):
        return
    n = len(profiles)
    rules = data.draw(pair_filters(n))
    population = Population.fit(profiles, n_components=components, settings=ScoringSettings(combiner=combiner))
    plan = population.scorer().plan()  # type: ignore[attr-defined]
    found = SupportLayout.of(plan, canonical)
    cells = rules.cells(n)
    everything = np.arange(n)
    expected = TileScorer(found, plan.settings, plan.clamp, "numpy").block(slice(0, n), slice(0, n))
    expected = expected * rules.mask(everything, everything)
    np.testing.assert_array_equal(cells.mask(everything, everything), rules.mask(everything, everything))
    # A run scores each pair once, the lower index as A (the bonus can round differently the other way).
    upper = np.triu(expected, 1)
    want_index, want_score = reference_partners(upper + upper.T, k)
    want_pairs = reference_pairs(expected, 3 * k)
    for kernel in KERNELS:
        source = TileScorer(found, plan.settings, plan.clamp, kernel).restricted(cells)
        np.testing.assert_array_equal(source.block(slice(0, n), slice(0, n)), expected)
        partners = BestPartners(n, k, source.dtype, fast=source.fast)
        run_tiles_locally(source, partners, side, n_jobs=2)
        np.testing.assert_array_equal(partners.index, want_index)
        np.testing.assert_array_equal(partners.score, want_score)
        pairs = BestPairs(3 * k, source.dtype, fast=source.fast)
        run_tiles_locally(source, pairs, side, n_jobs=2)
        assert list(zip(pairs.a.tolist(), pairs.b.tolist(), strict=True)) == want_pairs


def test_a_restricted_scorer_ranks_on_its_tile_kernel() -> None:
    """``Restricted.tiles`` is the inner tile kernel with the rules (not the generic block path)."""
    from builders import market

    population = Population.fit(market())
    n = len(population)
    rules = PairFilter(pairs=(np.array([0]), np.array([1])), allowed=np.arange(n) != 2)
    restricted = Restricted(population.scorer(), rules)
    source = restricted.tiles("numpy")
    assert isinstance(source, TileScorer) and source.rules is not None
    index, _ = top_partners_all(restricted, 3)
    assert not ((index == 2).any() or (index[0] == 1).any() or (index[1] == 0).any())
    a, b, _ = top_pairs(restricted, 10)
    assert {0, 1} not in [{int(x), int(y)} for x, y in zip(a, b, strict=True)] and 2 not in {*a, *b}
    # A filter on a filter: the generic path, the two sets of rules both hold.
    twice = Restricted(restricted, PairFilter(allowed=np.arange(n) != 3))
    assert not isinstance(twice.tiles("numpy"), TileScorer)
    index, _ = top_partners_all(twice, 3)
    assert not ((index == 2).any() or (index == 3).any() or (index[0] == 1).any())


def test_cell_rules_without_rules_pass_everything() -> None:
    rules = CellRules.of(5)
    assert rules.mask(np.arange(5), np.arange(5)).all()
