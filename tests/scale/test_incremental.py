"""Adding or changing one profile updates its vectors without refitting or rescoring anyone else."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from builders import market, profile
from matchmaker.core.errors import UnknownOrganisation
from matchmaker.core.population import Population
from matchmaker.core.population import storage as storage_module
from matchmaker.core.profile import Profile
from matchmaker.core.profile_set import ProfileSet
from matchmaker.core.vectors import ProfileMatrices
from matchmaker.synth import synthesise


def dense(matrix: object) -> np.ndarray:
    return matrix.toarray() if sp.issparse(matrix) else np.asarray(matrix)  # type: ignore[union-attr]


def assert_same_matrices(got: ProfileMatrices, expected: ProfileMatrices) -> None:
    for x, y in zip(
        [*got.offers, *got.needs, got.sectors], [*expected.offers, *expected.needs, expected.sectors], strict=True
    ):
        np.testing.assert_array_equal(dense(x), dense(y))
    np.testing.assert_array_equal(got.need_mass, expected.need_mass)


def refitted_transform(population: Population) -> Population:
    """The grown population's profiles transformed by the same fitted vectoriser, from scratch."""
    vectoriser = population.vectoriser
    return Population(population.profiles, vectoriser, vectoriser.blocks(population.profiles), population.settings)


@pytest.fixture(params=[None, 8], ids=["exact", "latent"])
def base(request: pytest.FixtureRequest, shipped: ProfileSet, monkeypatch: pytest.MonkeyPatch) -> Population:
    # Small chunks and tails, so adding and changing cross chunk boundaries.
    monkeypatch.setattr(storage_module, "CHUNK_ROWS", 16)
    monkeypatch.setattr(storage_module, "TAIL_ROWS", 4)
    profiles = synthesise(shipped, 40, seed=6).profiles
    return Population.fit(
        profiles,
        dimensions=tuple(shipped.vocabulary.dimensions),
        sectors=tuple(shipped.vocabulary.sectors),
        n_components=request.param,
    )


def newcomers(shipped: ProfileSet, count: int) -> list[Profile]:
    return [
        p.model_copy(update={"id": f"new-{k}", "name": f"Newcomer {k}"})
        for k, p in enumerate(synthesise(shipped, count, seed=99).profiles)
    ]


def test_adding_equals_transforming_the_grown_population(base: Population, shipped: ProfileSet) -> None:
    grown = base
    for newcomer in newcomers(shipped, 9):  # through several tail chunks
        grown = grown.with_profile(newcomer)
    assert len(base) == 40 and len(grown) == 49 and len(grown._store.chunks) > len(base._store.chunks)
    reference = refitted_transform(grown)
    assert_same_matrices(grown.matrices, reference.matrices)
    for org in ("new-0", "new-8", base.profiles[3].id):
        assert grown.partners(org, top=5) == reference.partners(org, top=5)
    np.testing.assert_array_equal(grown.all_partners(top=4)[0], reference.all_partners(top=4)[0])


def test_changing_a_profile_in_the_base_or_the_tail(base: Population, shipped: ProfileSet) -> None:
    grown = base.with_profile(newcomers(shipped, 1)[0])
    changed_ids = (base.profiles[20].id, "new-0")
    replacement = synthesise(shipped, 2, seed=123).profiles
    for org, other in zip(changed_ids, replacement, strict=True):
        changed = grown.with_profile(other.model_copy(update={"id": org}))
        assert len(changed) == len(grown) and changed.index[org] == grown.index[org]
        reference = refitted_transform(changed)
        assert_same_matrices(changed.matrices, reference.matrices)
        assert changed.partners(org, top=5) == reference.partners(org, top=5)
        assert grown.partners(org, top=5) == refitted_transform(grown).partners(org, top=5)  # the old one is intact


def test_populations_are_immutable_when_they_branch(base: Population, shipped: ProfileSet) -> None:
    first, second = newcomers(shipped, 2)
    left = base.with_profile(first)
    right = base.with_profile(second.model_copy(update={"id": "other"}))  # both append after base's last row
    assert "new-0" in left.index and "new-0" not in right.index and "other" not in left.index
    assert "new-0" not in base.index and len(base) == 40
    assert_same_matrices(left.matrices, refitted_transform(left).matrices)
    assert_same_matrices(right.matrices, refitted_transform(right).matrices)
    with pytest.raises(UnknownOrganisation):
        base.resolve("new-0")
    assert len(left.without("new-0")) == len(base)


def test_a_repeated_name_resolves_within_each_population() -> None:
    base = Population.fit(market())
    twin = profile("factory-two", name="Factory", offers={"data": "factory sensor data"})
    grown = base.with_profile(twin)
    assert grown.resolve("Factory").id == "factory-two"
    assert base.resolve("Factory").id == "factory"


def test_words_the_vocabulary_never_saw_are_ignored_until_a_refit() -> None:
    base = Population.fit(market())
    stranger = profile("stranger", offers={"data": "quasar telemetry"}, needs={"compute": "zeppelin hangars"})
    grown = base.with_profile(stranger)
    assert grown.partners("stranger") == []  # no known word: a zero vector, nothing met yet
    refitted = Population.fit(
        [
            *market(),
            stranger,
            profile("hangar", offers={"compute": "zeppelin hangars"}, needs={"data": "quasar telemetry"}),
        ]
    )
    assert [m.b.id for m in refitted.partners("stranger")] == ["hangar"]


def test_adding_writes_one_row_not_the_population(shipped: ProfileSet, monkeypatch: pytest.MonkeyPatch) -> None:
    base = Population.fit(synthesise(shipped, 30, seed=2).profiles, n_components=8)
    grown = base.with_profile(newcomers(shipped, 1)[0])
    again = grown.with_profile(newcomers(shipped, 2)[1])
    # The base chunk is shared, not copied; the tail's spare room is written in place.
    assert grown._store.chunks[0] is base._store.chunks[0] and again._store.chunks[0] is base._store.chunks[0]
    assert np.shares_memory(again._store.chunks[-1].offers[0], grown._store.chunks[-1].offers[0])


def test_populations_and_vectorisers_pickle(base: Population, shipped: ProfileSet) -> None:
    import pickle

    grown = base.with_profile(newcomers(shipped, 1)[0])
    grown.partners("new-0")  # fills the caches (item vectors, row supports)
    copy = pickle.loads(pickle.dumps(grown))
    assert copy.partners("new-0", top=5) == grown.partners("new-0", top=5)
    assert len(copy.with_profile(newcomers(shipped, 2)[1])) == len(grown) + 1
