from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from matchmaker.service import create_app
from matchmaker.settings import Settings
from tests.api.support import KEY, TestClient


@pytest.fixture
def make_app(tmp_path: Path) -> Callable[..., FastAPI]:
    """An app on the shipped profiles with a fresh SQLite file; keyword arguments override settings."""

    def make(**overrides: Any) -> FastAPI:
        options: dict[str, Any] = {"database": tmp_path / "matchmaker.db", "api_keys": [KEY]}
        options.update(overrides)
        return create_app(Settings(**options))

    return make


@pytest.fixture
def client(make_app: Callable[..., FastAPI]) -> Iterator[TestClient]:
    with TestClient(make_app()) as test_client:
        yield test_client
