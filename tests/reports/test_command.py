"""`matchmaker report` through the CLI: formats, output files, options and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from matchmaker.cli.report import ReportFormat, choose_output
from matchmaker.core.errors import SettingsError
from tests.reports.support import cli_json, headline_reference, run


@pytest.mark.parametrize(
    ("fmt", "out", "expected"),
    [
        (None, None, ("md", None)),
        (None, "r.html", ("html", Path("r.html"))),
        (None, "R.XLSX", ("xlsx", Path("R.XLSX"))),
        (None, "-", ("md", None)),
        (ReportFormat.html, None, ("html", Path("report.html"))),
        (ReportFormat.xlsx, None, ("xlsx", Path("report.xlsx"))),
        (ReportFormat.json, None, ("json", None)),
        (ReportFormat.html, "-", ("html", None)),
        (ReportFormat.csv, "pairs.txt", ("csv", Path("pairs.txt"))),
    ],
    ids=[
        "default",
        "html-suffix",
        "xlsx-suffix",
        "dash",
        "html-default-file",
        "xlsx-default-file",
        "json-stdout",
        "html-stdout",
        "explicit-format",
    ],
)
def test_choose_output(fmt: ReportFormat | None, out: str | None, expected: tuple[str, Path | None]) -> None:
    assert choose_output(fmt, Path(out) if out else None) == expected


@pytest.mark.parametrize(
    ("fmt", "out", "message"),
    [
        (None, "report.txt", "cannot tell the report format from 'report.txt'; give --format"),
        (ReportFormat.xlsx, "-", "an xlsx report is binary and cannot go to standard output; give --out FILE.xlsx"),
    ],
    ids=["unknown-suffix", "xlsx-stdout"],
)
def test_choose_output_errors(fmt: ReportFormat | None, out: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        choose_output(fmt, Path(out))


def test_json_to_standard_output_agrees_with_pairs() -> None:
    code, out, _ = run("report", "--format", "json", "--top", "5")
    assert code == 0
    report = json.loads(out)
    reference = headline_reference(5)
    assert [(p["a"], p["b"], p["score"]) for p in report["pairs"]] == [(p["a"], p["b"], p["score"]) for p in reference]


def test_markdown_file_with_options(tmp_path: Path) -> None:
    target = tmp_path / "highreso.md"
    code, out, err = run(
        "report",
        "--org",
        "Highreso",
        "--top",
        "3",
        "--cross-border",
        "-w",
        "compute=2",
        "--combiner",
        "geometric",
        "--out",
        str(target),
    )
    assert code == 0 and out == ""
    assert f"wrote {target} (md," in err
    text = target.read_text(encoding="utf-8")
    reference = cli_json(
        "partners", "highreso", "--top", "3", "--cross-border", "-w", "compute=2", "--combiner", "geometric"
    )["partners"]
    for partner in reference:
        assert f"{partner['score']:.4f}" in text
    assert "geometric mean of both directions" in text and "-w compute=2" in text and "--cross-border" in text


def test_html_and_xlsx_default_to_a_file_in_the_current_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run("report", "--format", "xlsx", "--top", "3")
    assert code == 0 and out == "" and "wrote report.xlsx (xlsx," in err
    book = openpyxl.load_workbook(tmp_path / "report.xlsx")
    assert book["pairs"].max_row == 1 + len(headline_reference(3))  # a header and the headline pairs


def test_csv_to_standard_output() -> None:
    code, out, _ = run("report", "--format", "csv", "--top", "4")
    assert code == 0 and len(out.strip().splitlines()) > 4 and out.startswith("rank,a,a_name")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--org", "highresso"], "error: unknown organisation 'highresso'; did you mean 'highreso'"),
        (["--out", "report.txt"], "error: cannot tell the report format from 'report.txt'"),
        (["-w", "funding=2"], "error: unknown dimension 'funding' in weights; accepted: data, compute, talent, domain"),
        (["--format", "xlsx", "--out", "-"], "error: an xlsx report is binary"),
        (["--out", "/nonexistent-folder/report.md"], "error: cannot write '/nonexistent-folder/report.md': folder"),
    ],
    ids=["unknown-org", "unknown-suffix", "unknown-dimension", "xlsx-stdout", "missing-folder"],
)
def test_errors_are_one_clear_line(args: list[str], message: str) -> None:
    code, out, err = run("report", *args)
    assert code == 1 and out == ""
    assert err.startswith(message) and len(err.strip().splitlines()) == 1
