"""`matchmaker serve`: registered with the CLI, built from the CLI's settings, clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from typer.testing import CliRunner

from matchmaker.cli import app as cli
from tests.api.support import SHIPPED, TestClient

runner = CliRunner()


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What `matchmaker serve` hands to uvicorn (which is not started)."""
    calls: dict[str, Any] = {}

    def run(app: FastAPI, **options: Any) -> None:
        calls.update(app=app, **options)

    monkeypatch.setattr(uvicorn, "run", run)
    return calls


def test_help_has_an_example() -> None:
    result = runner.invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--host" in result.stdout and "--port" in result.stdout and "matchmaker serve" in result.stdout


def test_serve_runs_the_app_with_uvicorn(
    served: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MATCHMAKER_DATABASE", str(tmp_path / "served.db"))
    result = runner.invoke(cli, ["serve", "--host", "0.0.0.0", "--port", "9000"])
    assert result.exit_code == 0, result.stderr
    assert served["host"] == "0.0.0.0" and served["port"] == 9000
    with TestClient(served["app"]) as client:
        assert client.get("/healthz").json()["organisations"] == len(SHIPPED)
    assert (tmp_path / "served.db").is_file()


def test_serve_uses_the_global_profiles_and_config(
    served: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "profiles"
    folder.mkdir()
    source = SHIPPED["highreso"]  # a profile with no relation: it stands alone
    (folder / "_vocabulary.yaml").write_text(
        (Path(__file__).resolve().parents[2] / "profiles" / "_vocabulary.yaml").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    (folder / f"{source.id}.yaml").write_text(source.model_dump_json(exclude_defaults=True), encoding="utf-8")
    config = tmp_path / "matchmaker.toml"
    config.write_text(
        f'database = "{tmp_path / "configured.db"}"\napi_keys = ["from-config"]\n[scoring]\nsector_weight = 0.5\n',
        encoding="utf-8",
    )
    result = runner.invoke(cli, ["--profiles", str(folder), "--config", str(config), "serve"])
    assert result.exit_code == 0, result.stderr
    with TestClient(served["app"]) as client:
        assert client.get("/healthz").json()["organisations"] == 1
        assert client.get(f"/v1/organisations/{source.id}/partners").json()["settings"]["sector_weight"] == 0.5
    assert (tmp_path / "configured.db").is_file()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MATCHMAKER_DATABASE_URL": "mysql://u:p@db/m"}, "error: database 'mysql' is not supported"),
        ({"MATCHMAKER_PROFILES": "/no/such/folder"}, "error: profile folder '/no/such/folder' does not exist"),
    ],
    ids=["database", "profiles"],
)
def test_startup_problems_are_one_clear_line(
    served: dict[str, Any], monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = runner.invoke(cli, ["serve"])
    assert result.exit_code == 1
    assert result.stderr.startswith(message) and "Traceback" not in result.stderr
    assert not served
