from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from matchmaker.service import create_app
from tests.api.support import TestClient, settings


@pytest.fixture
def make_app(tmp_path: Path) -> Callable[..., FastAPI]:
    """An app on the shipped profiles with a fresh SQLite file; keyword arguments override settings."""

    def make(**overrides: Any) -> FastAPI:
        return create_app(settings(tmp_path / "matchmaker.db", **overrides))

    return make


@pytest.fixture
def client(make_app: Callable[..., FastAPI]) -> Iterator[TestClient]:
    with TestClient(make_app()) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One app shared by a module's tests that only read (a fresh app per test costs a fit)."""
    with TestClient(create_app(settings(tmp_path_factory.mktemp("reader") / "matchmaker.db"))) as test_client:
        yield test_client
