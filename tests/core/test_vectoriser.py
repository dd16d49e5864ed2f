from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone

from builders import market, profile
from matchmaker.core.errors import MatchmakerError
from matchmaker.core.population import Population
from matchmaker.core.vectoriser import NotFittedError, ProfileVectoriser, analyse_words


def test_estimator_contract() -> None:
    vectoriser = ProfileVectoriser(tag_share=0.3, n_components=None)
    assert vectoriser.get_params() == {
        "dimensions": None,
        "sectors": None,
        "tag_share": 0.3,
        "n_components": None,
        "random_state": 0,
        "encoder": "tfidf",
        "vocabulary": None,
        "model": None,
        "cache": None,
    }
    with pytest.raises(NotFittedError):
        vectoriser.transform(market())
    assert vectoriser.fit(market()) is vectoriser
    learned = [name for name in vars(vectoriser) if name.endswith("_") and not name.startswith("_")]
    assert {"dimensions_", "sectors_", "encoder_", "attributes_", "n_item_features_"} <= set(learned)
    twin = clone(vectoriser)
    assert twin.get_params() == vectoriser.get_params() and not hasattr(twin, "encoder_")


def test_transform_shapes_and_feature_names() -> None:
    vectoriser = ProfileVectoriser().fit(market())
    matrix = vectoriser.transform(market())
    assert sp.issparse(matrix) and matrix.shape[0] == len(market())
    assert matrix.shape[1] == len(vectoriser.get_feature_names_out())
    blocks = vectoriser.split(matrix)
    assert len(blocks.offers) == len(vectoriser.dimensions_) == len(blocks.needs)
    assert blocks.sectors.shape == (len(market()), len(vectoriser.sectors_))
    np.testing.assert_allclose(blocks.need_mass, vectoriser.blocks(market()).need_mass)


def test_item_vectors_are_unit_length() -> None:
    vectoriser = ProfileVectoriser().fit(market())
    items = [i for p in market() for *_, i in p.iter_items()]
    norms = sp.linalg.norm(vectoriser.transform_items(items), axis=1)
    np.testing.assert_allclose(norms, 1.0)


def test_latent_components_give_dense_output_and_same_top_partner() -> None:
    population = Population.fit(market(), n_components=4)
    assert isinstance(population.matrices.offers[0], np.ndarray)
    assert population.partners("factory")[0].b.id == "gpu-host"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tag_share": 2.0}, "tag_share must be between 0 and 1, got 2.0"),
        ({"n_components": 0}, "n_components must be a positive integer, got 0"),
    ],
    ids=["tag-share", "components"],
)
def test_bad_parameters_fail_in_fit(kwargs: dict, message: str) -> None:
    with pytest.raises(MatchmakerError, match=message):
        ProfileVectoriser(**kwargs).fit(market())


def test_fit_needs_items() -> None:
    with pytest.raises(MatchmakerError, match="cannot fit the vectoriser on no profiles"):
        ProfileVectoriser().fit([])
    with pytest.raises(MatchmakerError, match="no offer or need items"):
        ProfileVectoriser().fit([profile("empty")])


def test_spelling_and_stemming_meet() -> None:
    assert analyse_words("data centres") == analyse_words("data center")


def test_a_fifth_dimension_works_end_to_end() -> None:
    dims = ("data", "compute", "talent", "domain", "funding")
    profiles = [
        profile("fund", offers={"funding": "seed investment for ai startups"}, needs={"data": "factory data"}),
        profile("startup", offers={"data": "factory data"}, needs={"funding": "seed investment for ai startups"}),
        profile("other", offers={"data": "factory data"}, needs={"talent": "researchers"}),
    ]
    population = Population.fit(profiles, dimensions=dims)
    best = population.partners("startup")[0]
    assert best.b.id == "fund" and best.dimensions["funding"].b_to_a == pytest.approx(1.0)
    assert any(r.dimension == "funding" for r in best.reasons)


@pytest.mark.parametrize("n_components", [None, 4], ids=["exact", "latent"])
def test_item_vectors_from_the_cache_equal_fresh_ones(n_components: int | None) -> None:
    fitted = ProfileVectoriser(n_components=n_components).fit(market())
    items = [item for p in market() for *_, item in p.iter_items()]
    fresh = pickle.loads(pickle.dumps(fitted))  # caches are dropped when pickled
    assert getattr(fresh, "_cache", None) is None
    first_half = fresh.transform_items(items[: len(items) // 2])  # fills the cache with half the texts
    mixed = fresh.transform_items(items[::-1])  # half cached, half new, in another order
    again = fresh.transform_items(items)  # all cached
    expected = ProfileVectoriser(n_components=n_components).fit(market()).transform_items(items)

    def dense(m: object) -> np.ndarray:
        return m.toarray() if sp.issparse(m) else np.asarray(m)

    np.testing.assert_array_equal(dense(again), dense(expected))
    np.testing.assert_array_equal(dense(mixed)[::-1], dense(expected))
    np.testing.assert_array_equal(dense(first_half), dense(expected)[: len(items) // 2])
