"""Encoders and item attributes, with a small fake model (no package, no files, no network)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from builders import VOCABULARY, FakeModel, item, profile
from matchmaker.core.encoding import ENCODERS, AttributeCoder
from matchmaker.core.encoding.text import lexical_words, normalise
from matchmaker.core.errors import SettingsError
from matchmaker.core.population import Population
from matchmaker.core.profile import Vocabulary, vocabulary_problems
from matchmaker.core.vectoriser import ProfileVectoriser

LANGUAGE = {
    "description": "The language of the data.",
    "dimensions": ["data"],
    "values": {
        "ja": {"label": "Japanese", "words": ["japanese", "日本語"]},
        "hi": {"label": "Hindi", "words": ["hindi", "हिंदी"], "within": ["indian-languages"]},
        "indian-languages": {"label": "Indian languages", "words": ["indian languages"]},
    },
}
WITH_ATTRIBUTES = Vocabulary.model_validate({**VOCABULARY.model_dump(), "attributes": {"language": LANGUAGE}})


def test_the_lexical_analyser_reads_full_width_japanese_and_hindi() -> None:
    assert lexical_words("ＧＰＵ") == ["gpu"]
    assert "データセンター" in lexical_words("データセンターでGPU計算資源を借りたい")
    assert lexical_words("हिंदी में भाषण डेटा") == ["हिंदी", "भाषण", "डेटा"]
    assert normalise("ｶﾀｶﾅ") == "カタカナ"


def test_an_unknown_encoder_lists_the_valid_ones() -> None:
    with pytest.raises(SettingsError, match="unknown encoder 'bert'; accepted: hybrid, semantic, lexical, tfidf"):
        ProfileVectoriser(encoder="bert").fit([profile("a", offers={"data": "x data"})])


def test_a_semantic_encoder_without_a_model_says_so() -> None:
    with pytest.raises(SettingsError, match="the 'hybrid' encoder needs a text-embedding model"):
        ProfileVectoriser(encoder="hybrid", vocabulary=VOCABULARY).fit([profile("a", offers={"data": "x data"})])


@pytest.mark.parametrize("encoder", sorted(e for e in ENCODERS if e != "sentence-transformers"))
def test_every_encoder_gives_similarities_in_zero_one_and_one_for_the_same_text(encoder: str) -> None:
    profiles = [
        profile("a", offers={"data": "factory sensor data"}, needs={"compute": "gpu cloud hours"}),
        profile("b", offers={"compute": "gpu cloud hours"}, needs={"data": "factory sensor data"}),
        profile("c", offers={"data": "hospital patient records"}, needs={"talent": "ml engineers"}),
    ]
    model = FakeModel() if ENCODERS[encoder].model else None
    vectoriser = ProfileVectoriser(encoder=encoder, vocabulary=VOCABULARY, model=model).fit(profiles)
    items = [i for p in profiles for *_, i in p.iter_items()]
    vectors = vectoriser.transform_items(items)
    dense = vectors.toarray() if sp.issparse(vectors) else np.asarray(vectors)
    similarity = dense @ dense.T
    assert (similarity >= -1e-9).all() and (similarity <= 1 + 1e-6).all()
    np.testing.assert_allclose(np.diag(similarity)[np.linalg.norm(dense, axis=1) > 0], 1.0, atol=1e-6)


def test_an_attribute_vetoes_inside_the_dot_product_and_the_reason_says_why() -> None:
    japanese = profile("jp", offers={"data": "Japanese speech corpus with transcripts"}, needs={"compute": "gpus"})
    hindi = profile("hi", offers={"data": "Hindi speech corpus with transcripts"}, needs={"compute": "gpus"})
    buyer = profile(
        "buyer", offers={"compute": "gpus"}, needs={"data": "speech corpus with transcripts in indian languages"}
    )
    population = Population.fit(
        [japanese, hindi, buyer], encoder="lexical", vocabulary=WITH_ATTRIBUTES, dimensions=tuple(VOCABULARY.dimensions)
    )
    # jp still gains the buyer's gpus (one direction), but its Japanese corpus meets nothing
    assert population.partners("buyer")[0].b.id == "hi"
    vetoed = population.explain("buyer", "jp")
    assert vetoed.dimensions["data"].b_to_a == 0.0
    (reason,) = [r for r in vetoed.reasons if r.dimension == "data"]
    assert reason.contribution == 0.0 and reason.basis is not None and reason.basis.factor == 0.0
    assert reason.basis.vetoed_by == ("language: the need asks for Indian languages, the offer is Japanese",)


def test_item_vectors_are_text_similarity_times_the_attribute_factor() -> None:
    offers = [item("Japanese speech data"), item("Hindi speech data"), item("speech data in Hindi and Japanese")]
    needs = [item("speech data in Indian languages"), item("speech data")]
    population = [profile("o", offers={"data": [o.description for o in offers]}, needs={"data": "speech data"})]
    vectoriser = ProfileVectoriser(encoder="lexical", vocabulary=WITH_ATTRIBUTES).fit(population)
    product = (
        vectoriser.item_vectors(offers, "offers", "data") @ vectoriser.item_vectors(needs, "needs", "data").T
    ).toarray()
    text = (vectoriser.transform_items(offers) @ vectoriser.transform_items(needs).T).toarray()
    coder = vectoriser.attributes_
    o, n = coder.of(offers), coder.of(needs)
    factors = np.array([[coder.factors(o, [i], n, [j], "data")[0] for j in range(2)] for i in range(3)])
    np.testing.assert_allclose(factors, [[0.0, 1.0], [1.0, 1.0], [0.5, 1.0]])
    np.testing.assert_allclose(product, text * factors, atol=1e-12)


def test_declared_attributes_are_checked_against_the_vocabulary() -> None:
    bad = profile("x", offers={"data": "speech"})
    bad = bad.model_copy(
        update={"offers": {"data": (item("speech").model_copy(update={"attributes": (("language", ("jp",)),)}),)}}
    )
    (problem,) = vocabulary_problems(bad, WITH_ATTRIBUTES)
    assert problem.field == "offers.data[0].attributes.language"
    assert problem.message == "unknown value 'jp' of attribute 'language'; accepted: ja, hi, indian-languages"
    with pytest.raises(ValueError, match="applies in the unknown dimension 'money'"):
        Vocabulary.model_validate(
            {**VOCABULARY.model_dump(), "attributes": {"language": {**LANGUAGE, "dimensions": ["money"]}}}
        )


def test_latent_states_read_an_unused_value_as_its_group() -> None:
    coder = AttributeCoder(WITH_ATTRIBUTES.attributes, {"language": ("ja", "indian-languages")})
    (attribute,) = coder.attributes
    assert attribute.state("hi") == "indian-languages" and attribute.state("ja") == "ja"


def test_a_profile_without_items_in_a_dimension_has_no_coefficient_rows() -> None:
    # (a registration with no offers or needs was a 500: numpy cannot reshape 0 rows to (0, -1))
    coder = AttributeCoder(WITH_ATTRIBUTES.attributes, {"language": ("ja", "indian-languages")})
    for side in ("offers", "needs"):
        found = coder.coefficients(coder.of([]), side, "data")
        assert found.shape == (0, coder.coefficient_width("data"))
