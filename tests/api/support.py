"""Helpers shared by the API tests: the test key, valid bodies, and a TestClient import without noise."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from matchmaker.cli import app as cli
from matchmaker.loading import default_profiles_dir, load_folder
from matchmaker.settings import ScoringConfig, ServiceSettings

with warnings.catch_warnings():
    # Starlette asks for the httpx2 package in place of httpx; the client works the same with either.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

KEY = "test-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}
SHIPPED = {p.id: p for p in load_folder(default_profiles_dir()).profiles}

__all__ = ["AUTH", "KEY", "SHIPPED", "TestClient", "attendee", "cli_json", "mirror_of", "settings"]


def attendee(name: str = "Acme Robotics", **changes: Any) -> dict[str, Any]:
    """A valid registration body: a Japanese robotics start-up that needs AI engineers."""
    body: dict[str, Any] = {
        "name": name,
        "country": "JP",
        "presence": ["JP"],
        "kind": "startup",
        "sectors": ["robotics", "manufacturing"],
        "summary": "Builds vision systems for factory robots.",
        "offers": {
            "data": [
                {
                    "description": "Labelled images from factory production lines for vision models.",
                    "strength": 3,
                    "tags": ["industrial-data", "datasets"],
                    "evidence": {"background": "stated by the attendee at registration"},
                }
            ]
        },
        "needs": {
            "talent": [
                {
                    "description": "AI engineers in India to build and deploy vision models.",
                    "strength": 3,
                    "tags": ["ai-engineers"],
                    "evidence": {"background": "stated by the attendee at registration"},
                }
            ]
        },
    }
    body.update(changes)
    return body


def mirror_of(org_id: str, *, name: str = "Mirror Co", country: str = "IN") -> dict[str, Any]:
    """A body that offers exactly what ``org_id`` needs and needs what it offers: its best partner."""
    shipped = SHIPPED[org_id]

    def items(side: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
        return {
            d: [
                {
                    "description": i.description,
                    "strength": i.strength,
                    "tags": list(i.tags),
                    "evidence": {"background": "mirror of a shipped profile"},
                }
                for i in found
            ]
            for d, found in side.items()
        }

    return {
        "name": name,
        "country": country,
        "kind": shipped.kind,
        "sectors": list(shipped.sectors),
        "offers": items(dict(shipped.needs)),
        "needs": items(dict(shipped.offers)),
    }


def cli_json(*args: str) -> Any:
    """What ``matchmaker <args> --format json`` prints, parsed."""
    result = CliRunner().invoke(cli, [*args, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def settings(database: Path | None = None, **overrides: Any) -> ServiceSettings:
    """Every setting the service reads, given explicitly: nothing comes from the developer's environment.

    Without ``database``, an in-memory database.
    """
    options: dict[str, Any] = {
        "database": database or Path("unused.db"),
        "api_keys": [KEY],
        "database_url": None if database else "sqlite://",
        "profiles": None,
        "cors_origins": [],
        "allow_shipped_overwrite": False,
        "scoring": ScoringConfig(),
    }
    return ServiceSettings(**{**options, **overrides})
