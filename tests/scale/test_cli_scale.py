from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from matchmaker.cli import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    "name", ["population.jsonl", "population.parquet", "population"], ids=["jsonl", "parquet", "folder"]
)
def test_synth_then_rank_from_the_written_population(tmp_path: Path, name: str) -> None:
    out = tmp_path / name
    code, stdout, _ = run("synth", "--n", "40", "--seed", "2", "--out", str(out))
    assert code == 0 and "40 synthetic profiles (seed 2) written to" in stdout and out.exists()
    code, stdout, _ = run("--profiles", str(out), "pairs", "--top", "5", "--format", "json")
    pairs = json.loads(stdout)["pairs"]
    assert code == 0 and len(pairs) == 5
    assert run("profiles", "validate", str(out))[0] == 0
    code, stdout, _ = run("--profiles", str(out), "partners", "synth-2-00", "--top", "3", "--format", "json")
    assert code == 0 and json.loads(stdout)["organisation"]["id"] == "synth-2-00"


def test_synth_is_deterministic(tmp_path: Path) -> None:
    for name in ("a.jsonl", "b.jsonl"):
        assert run("synth", "--n", "25", "--seed", "7", "--out", str(tmp_path / name))[0] == 0
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


def test_synth_errors_are_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x.yaml").write_text("x")
    code, _, stderr = run("synth", "--n", "5", "--out", str(tmp_path / "taken"))
    assert code == 1 and stderr.startswith("error: ") and "already exists" in stderr
    code, _, stderr = run("synth", "--n", "0", "--out", str(tmp_path / "x.jsonl"))
    assert code != 0 and not (tmp_path / "x.jsonl").exists()


def test_pairs_on_a_population_large_enough_for_the_progress_bar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The word encoder: embedding the 3,000 distinct synthetic texts would take minutes, and the progress
    # bar does not depend on the encoder (the semantic ones at scale: benchmarks/scale.py).
    monkeypatch.setenv("MATCHMAKER_ENCODER", "lexical")
    out = tmp_path / "large.jsonl"
    assert run("synth", "--n", "2100", "--seed", "3", "--out", str(out))[0] == 0
    code, stdout, stderr = run("--profiles", str(out), "pairs", "--top", "20", "--format", "json")
    assert code == 0, stderr
    pairs = json.loads(stdout)["pairs"]
    assert len(pairs) == 20 and pairs[0]["score"] >= pairs[-1]["score"] > 0
