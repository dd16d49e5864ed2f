"""The fit cache (matchmaker.fit_cache): a fresh fit's answers, and a refit whenever what the fit depends on changes."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from typer.testing import CliRunner

import matchmaker.embedding as embedding
import matchmaker.fit_cache as fit_cache
from builders import profile as built_profile
from matchmaker import loading
from matchmaker.application.queries import PairsQuery, PartnersQuery
from matchmaker.application.workspace import Workspace
from matchmaker.assembly import open_cached_workspace
from matchmaker.cli import app
from matchmaker.core.profile import Evidence, Item, Profile
from matchmaker.core.vectors import ProfileMatrices
from matchmaker.embedding import LazyModel, default_cache_folder
from matchmaker.fit_cache import MAGIC, FitCache, Fitted, fit_key
from matchmaker.loading import content_digest, default_profiles_dir, load_profiles, write_profiles
from matchmaker.settings import Settings, load_settings

runner = CliRunner()


@pytest.fixture(scope="module")
def warm_embeddings() -> Path:
    """The session's embedding cache, filled by one fit of the shipped profiles (copied into each test's folder)."""
    settings = load_settings(fit_cache=False)
    open_cached_workspace(settings)
    return (settings.cache_dir or default_cache_folder()) / "embeddings"


@pytest.fixture
def cache_dir(tmp_path: Path, warm_embeddings: Path) -> Path:
    folder = tmp_path / "cache"
    shutil.copytree(warm_embeddings, folder / "embeddings")
    return folder


@pytest.fixture
def profiles(tmp_path: Path) -> Path:
    """A copy of the shipped profiles, to change."""
    folder = tmp_path / "profiles"
    shutil.copytree(default_profiles_dir(), folder)
    return folder


def settings_of(profiles: Path, cache_dir: Path, **more: Any) -> Settings:
    return load_settings(profiles=profiles, cache_dir=cache_dir, **more)


def entries(cache_dir: Path) -> list[Path]:
    return sorted((cache_dir / "populations").glob("*.fit")) if (cache_dir / "populations").is_dir() else []


def matrices_equal(a: ProfileMatrices, b: ProfileMatrices) -> bool:
    def same(x: Any, y: Any) -> bool:
        if sp.issparse(x) or sp.issparse(y):
            x, y = sp.csr_matrix(x), sp.csr_matrix(y)
            return bool(
                np.array_equal(x.indptr, y.indptr)
                and np.array_equal(x.indices, y.indices)
                and np.array_equal(x.data, y.data)
            )
        return bool(np.array_equal(x, y)) and np.asarray(x).dtype == np.asarray(y).dtype

    pairs = [*zip(a.offers, b.offers, strict=True), *zip(a.needs, b.needs, strict=True)]
    pairs += [(a.need_mass, b.need_mass), (a.sectors, b.sectors)]
    return all(same(x, y) for x, y in pairs) and a.content_widths == b.content_widths


def answers(workspace: Workspace) -> list[Any]:
    """Every organisation's partners and enablers with every reason, and the best pairs: exact floats."""
    found: list[Any] = []
    for profile in workspace.population.profiles:
        listed = workspace.partners(PartnersQuery(profile.id, top=100, reasons=100))
        found.append((listed.partners, listed.enablers, listed.empty_because))
    pairs = workspace.pairs(PairsQuery(top=100))
    return [*found, pairs.pairs, pairs.enablers]


def test_answers_are_bit_identical_with_and_without_the_cache(profiles: Path, cache_dir: Path) -> None:
    fresh, _, fresh_set = open_cached_workspace(settings_of(profiles, cache_dir, fit_cache=False))
    assert entries(cache_dir) == []
    first, _, _ = open_cached_workspace(settings_of(profiles, cache_dir))  # fitted, then written
    assert len(entries(cache_dir)) == 1
    again, _, again_set = open_cached_workspace(settings_of(profiles, cache_dir))  # read back
    assert isinstance(again.population.vectoriser.model, LazyModel)  # it was read, not fitted
    assert again_set == fresh_set
    assert matrices_equal(again.population.matrices, fresh.population.matrices)
    assert answers(again) == answers(fresh) == answers(first)


def test_the_cli_prints_the_same_with_and_without_the_cache(cache_dir: Path) -> None:
    env = {"MATCHMAKER_CACHE_DIR": str(cache_dir), "COLUMNS": "120"}
    outputs = []
    for args in (["--no-cache"], [], [], ["--no-cache"]):
        for command in (["partners", "highreso"], ["pairs", "-f", "json"], ["explain", "highreso", "yotta"]):
            result = runner.invoke(app, [*args, *command], env=env)
            assert result.exit_code == 0, result.stderr
            outputs.append(result.stdout)
        if args:
            assert len(entries(cache_dir)) <= 1  # --no-cache writes nothing
    assert outputs[0:3] == outputs[3:6] == outputs[6:9] == outputs[9:12]
    assert len(entries(cache_dir)) == 1


def test_a_changed_profile_file_is_fitted_again(profiles: Path, cache_dir: Path) -> None:
    settings = settings_of(profiles, cache_dir)
    before, _, _ = open_cached_workspace(settings)
    key = fit_key(settings, profiles)
    path = profiles / "highreso.yaml"
    text = path.read_text(encoding="utf-8")
    first = before.population.resolve("highreso").iter_items().__next__()[-1].description
    assert first in text
    path.write_text(text.replace(first, first + " and satellite imagery archives", 1), encoding="utf-8")
    assert fit_key(settings, profiles) != key
    after, _, profile_set = open_cached_workspace(settings)
    assert isinstance(after.population.vectoriser.model, type(embedding.load_model("e5")))  # fitted, not read
    changed = next(iter(after.population.resolve("highreso").iter_items()))[-1].description
    assert changed.endswith("satellite imagery archives") and profile_set.version == content_digest(profiles)[:12]
    assert len(entries(cache_dir)) == 2
    fresh, _, _ = open_cached_workspace(settings_of(profiles, cache_dir, fit_cache=False))
    assert answers(after) == answers(fresh)


def test_the_settings_and_the_code_are_in_the_key(
    profiles: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_of(profiles, cache_dir)
    keys = {
        fit_key(settings, profiles),
        fit_key(settings_of(profiles, cache_dir, scoring={"sector_weight": 0.5}), profiles),
        fit_key(settings_of(profiles, cache_dir, encoder="lexical"), profiles),
        fit_key(
            settings, profiles, [Profile.model_validate(p.model_dump()) for p in load_profiles(profiles).profiles[:1]]
        ),
    }
    monkeypatch.setattr(fit_cache, "code_identity", lambda: "another version of matchmaker")
    keys.add(fit_key(settings, profiles))
    assert len(keys) == 5 and None not in keys


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"not an entry at all",
        lambda data: data[: len(data) // 2],  # truncated
        lambda data: data[:-40] + bytes(40),  # the end overwritten
        lambda data: data.split(b"\n", 2)[0] + b"\n" + data.split(b"\n", 2)[1] + b"\n" + pickle.dumps({"x": 1}),
        lambda data: MAGIC + b"0" * 64 + b"\n" + data.split(b"\n", 2)[2],  # another key's header
    ],
    ids=["garbage", "truncated", "overwritten", "another-object", "another-key"],
)
def test_a_corrupt_entry_is_fitted_again_silently(
    damage: Any, profiles: Path, cache_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_of(profiles, cache_dir)
    fresh, _, _ = open_cached_workspace(settings)
    (path,) = entries(cache_dir)
    path.write_bytes(damage(path.read_bytes()))
    again, _, _ = open_cached_workspace(settings)
    assert not isinstance(again.population.vectoriser.model, LazyModel)  # refitted
    assert answers(again) == answers(fresh)
    key = fit_key(settings, profiles)
    assert key is not None and FitCache(cache_dir).get(key) is not None  # written again, readable
    assert not [r for r in caplog.records if r.levelname in ("WARNING", "ERROR")]


def test_an_unwritable_cache_folder_costs_only_the_saving(profiles: Path, tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    settings = settings_of(profiles, blocked, encoder="lexical")
    workspace, _, _ = open_cached_workspace(settings)
    assert workspace.partners(PartnersQuery("highreso")).partners
    result = runner.invoke(app, ["partners", "highreso"], env={"MATCHMAKER_CACHE_DIR": str(blocked)})
    assert result.exit_code == 0 and "Traceback" not in result.stderr


@pytest.mark.parametrize("off", [{"MATCHMAKER_FIT_CACHE": "false"}, {"MATCHMAKER_FIT_CACHE": "0"}])
def test_the_setting_turns_it_off(off: dict[str, str], cache_dir: Path) -> None:
    result = runner.invoke(app, ["partners", "highreso"], env={"MATCHMAKER_CACHE_DIR": str(cache_dir), **off})
    assert result.exit_code == 0 and entries(cache_dir) == []


def test_a_read_population_loads_no_model_until_a_new_text_comes(
    profiles: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_of(profiles, cache_dir)
    fresh, _, _ = open_cached_workspace(settings)
    loads: list[str] = []
    real = embedding.load_model

    def counted(kind: str, path: str | None = None, threads: int = 1) -> Any:
        loads.append(kind)
        return real(kind, path, threads)

    monkeypatch.setattr(embedding, "load_model", counted)
    again, _, _ = open_cached_workspace(settings)
    assert answers(again) == answers(fresh) and loads == []
    claim = Item(
        description="GPU cluster hours for training speech models", strength=3, evidence=Evidence(background="x")
    )
    newcomer = Profile(
        id="newcomer", name="Newcomer", country="IN", kind="startup", sectors=("ai",), offers={"compute": (claim,)}
    )
    query = PartnersQuery("newcomer", reasons=100)
    assert again.partners_of_newcomer(newcomer, query) == fresh.partners_of_newcomer(newcomer, query)
    assert loads == ["e5"]


def test_only_the_most_recent_entries_are_kept(
    profiles: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fit_cache, "KEEP", 2)
    for weight in (0.1, 0.2, 0.3):
        open_cached_workspace(settings_of(profiles, cache_dir, encoder="lexical", scoring={"sector_weight": weight}))
    kept = entries(cache_dir)
    assert len(kept) == 2
    newest = fit_key(settings_of(profiles, cache_dir, encoder="lexical", scoring={"sector_weight": 0.3}), profiles)
    assert cache_dir / "populations" / f"{newest}.fit" in kept
    monkeypatch.setattr(fit_cache, "KEEP_BYTES", 1)  # the newest is kept whatever its size
    open_cached_workspace(settings_of(profiles, cache_dir, encoder="lexical", scoring={"sector_weight": 0.4}))
    newest = fit_key(settings_of(profiles, cache_dir, encoder="lexical", scoring={"sector_weight": 0.4}), profiles)
    assert entries(cache_dir) == [cache_dir / "populations" / f"{newest}.fit"]


def test_the_digest_is_the_profile_set_version(profiles: Path, tmp_path: Path) -> None:
    folder = load_profiles(profiles)
    assert content_digest(profiles)[:12] == folder.version  # type: ignore[index]
    population_file = write_profiles(folder, tmp_path / "population.jsonl")
    assert content_digest(population_file)[:12] == load_profiles(population_file).version  # type: ignore[index]
    assert content_digest(tmp_path / "missing") is None


def test_a_population_file_is_cached_too(profiles: Path, cache_dir: Path, tmp_path: Path) -> None:
    population_file = write_profiles(load_profiles(profiles), tmp_path / "population.jsonl")
    settings = settings_of(population_file, cache_dir)
    fresh, _, _ = open_cached_workspace(settings)
    again, _, _ = open_cached_workspace(settings)
    assert isinstance(again.population.vectoriser.model, LazyModel) and answers(again) == answers(fresh)


def test_the_fitted_entry_round_trips(profiles: Path, cache_dir: Path) -> None:
    settings = settings_of(profiles, cache_dir, encoder="lexical")
    _, _, profile_set = open_cached_workspace(settings)
    key = fit_key(settings, profiles)
    assert key is not None
    found = FitCache(cache_dir).get(key)
    assert isinstance(found, Fitted) and found.profile_set == profile_set and found.items


def test_the_loading_package_names_every_lazy_name() -> None:
    assert sorted(loading.__all__) == sorted(loading._MODULE_OF)
    for name in loading.__all__:
        assert getattr(loading, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        loading.nothing  # noqa: B018


def test_registered_profiles_are_in_the_key(profiles: Path, cache_dir: Path, tmp_path: Path) -> None:
    from matchmaker.storage import Store

    database = tmp_path / "event.db"
    store = Store.open(None, database)
    text = "Hindi speech recordings from call centres, transcribed"
    store.put_profile(
        built_profile("attendee", country="IN", kind="startup", sectors=("generative-ai",), offers={"data": text})
    )
    settings = settings_of(profiles, cache_dir, database=database)
    fresh, registered, _ = open_cached_workspace(settings_of(profiles, cache_dir, database=database, fit_cache=False))
    first, _, _ = open_cached_workspace(settings)
    again, _, _ = open_cached_workspace(settings)
    assert registered == 1 and isinstance(again.population.vectoriser.model, LazyModel)
    assert answers(again) == answers(fresh) == answers(first)
    other = ("GPU hours for speech model training", 2)
    store.put_profile(built_profile("second", kind="startup", sectors=("generative-ai",), needs={"compute": other}))
    store.close()
    grown, registered, _ = open_cached_workspace(settings)
    assert registered == 2 and "second" in grown.population.index
    assert not isinstance(grown.population.vectoriser.model, LazyModel)  # fitted again
