from __future__ import annotations

import os
import sys
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
