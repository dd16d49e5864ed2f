from __future__ import annotations

import pytest

from matchmaker.loading import ProfileSet, default_profiles_dir, load_folder


@pytest.fixture(scope="session")
def shipped() -> ProfileSet:
    """The shipped profiles: the mixes every synthetic population is drawn from."""
    return load_folder(default_profiles_dir())
