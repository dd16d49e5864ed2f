"""Atomic writing: an interrupted run never leaves a half report, and an existing report stays untouched."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from matchmaker.atomic import write_atomic
from matchmaker.cli import app
from matchmaker.core.errors import MatchmakerError
from matchmaker.reports import html as html_renderer
from tests.reports.support import SHIPPED


def test_writes_the_whole_content_and_nothing_else(tmp_path: Path) -> None:
    target = tmp_path / "report.md"
    assert write_atomic(target, [b"# one\n", b"two\n"]) == 10
    assert target.read_bytes() == b"# one\ntwo\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md"]


def test_the_file_is_an_ordinary_readable_file(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        target = tmp_path / "report.html"
        write_atomic(target, [b"<!DOCTYPE html>"])
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def failing(after: int, error: BaseException) -> Iterator[bytes]:
    for k in range(after):
        yield f"chunk {k}\n".encode()
    raise error


@pytest.mark.parametrize("error", [RuntimeError("render failed"), KeyboardInterrupt()], ids=["exception", "interrupt"])
def test_a_failure_mid_write_leaves_the_old_report_and_no_temporary_file(tmp_path: Path, error: BaseException) -> None:
    target = tmp_path / "report.html"
    target.write_text("the previous report")
    with pytest.raises(type(error)):
        write_atomic(target, failing(3, error))
    assert target.read_text() == "the previous report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_a_failure_with_no_previous_report_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError):
        write_atomic(tmp_path / "report.md", failing(2, RuntimeError("boom")))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing/report.md", "folder '{folder}/missing' does not exist"),
        (".", "it is a folder; give a file name"),
    ],
    ids=["missing-folder", "folder"],
)
def test_unwritable_targets_are_clear_errors(tmp_path: Path, name: str, message: str) -> None:
    with pytest.raises(MatchmakerError, match=message.format(folder=tmp_path)):
        write_atomic(tmp_path / name, [b"x"])


def test_the_cli_keeps_the_old_report_when_rendering_fails_midway(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Force a failure after the HTML has started streaming to disk (at the third organisation's chart)."""
    calls = {"n": 0}
    real = html_renderer.strength_svg

    def flaky(*args: object, **kwargs: object) -> str:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("the chart could not be drawn")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(html_renderer, "strength_svg", flaky)
    target = tmp_path / "report.html"
    target.write_text("the previous report")
    result = CliRunner().invoke(app, ["--profiles", str(SHIPPED), "report", "--format", "html", "--out", str(target)])
    assert result.exit_code == 1 and "internal error (RuntimeError: the chart could not be drawn)" in result.stderr
    assert calls["n"] == 3  # it failed midway, with part of the document already written to the temporary file
    assert target.read_text() == "the previous report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]
