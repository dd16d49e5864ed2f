"""CSV, JSON and XLSX: one row per pair, the same numbers as `matchmaker pairs`, and no formula ever runs."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pandas as pd
import pytest

from builders import market
from matchmaker.application.report import ReportOptions
from matchmaker.core.profile import Evidence, Item, Profile
from matchmaker.reports import render_report
from matchmaker.reports.tables import FORMULA_STARTS, escape_cell, escape_frame
from tests.reports.support import (
    GENERATED,
    cli_json,
    fit,
    headline_reference,
    profile_set,
    run,
    shipped_report,
    workspace,
)

DANGEROUS = [
    '=HYPERLINK("http://example.com","click")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "\tstarts with tab",
    "\rstarts with CR",
]


@pytest.mark.parametrize("text", DANGEROUS, ids=["equals", "plus", "minus", "at", "tab", "cr"])
def test_formula_starts_are_escaped(text: str) -> None:
    assert escape_cell(text) == "'" + text


@pytest.mark.parametrize(
    "value",
    ["plain", "a=b", "", "'already", -1, -1.5, 0.0, True, None],
    ids=["plain", "inner-equals", "empty", "quoted", "neg-int", "neg-float", "zero", "bool", "none"],
)
def test_everything_else_is_left_alone(value: object) -> None:
    assert escape_cell(value) is value


def test_escaping_a_frame_keeps_numbers_numbers() -> None:
    frame = pd.DataFrame({"score": [-1.5, 2.0], "count": [-3, 4], "text": ["-1", "ok"]})
    escaped = escape_frame(frame)
    assert escaped["score"].tolist() == [-1.5, 2.0] and escaped["score"].dtype == float
    assert escaped["count"].tolist() == [-3, 4]
    assert escaped["text"].tolist() == ["'-1", "ok"]  # a string that looks like a formula is text


def hostile() -> list[Profile]:
    """The market plus an organisation whose every text field tries to be a formula."""

    def claim(description: str, quote: str) -> tuple[Item, ...]:
        return (Item(description=description, strength=3, evidence=Evidence(source="@evil.txt", quote=quote)),)

    evil = Profile(
        id="evil",
        name='=HYPERLINK("http://example.com","click")',
        country="JP",
        kind="corporate",
        sectors=("manufacturing",),
        offers={"data": claim("=1+1 factory sensor data from production lines", "-2+3 looks like a sum")},
        needs={"compute": claim("+gpu cloud capacity for model training", "@SUM(A1:A9) in a quote")},
    )
    return [*market(), evil]


@pytest.fixture
def hostile_report() -> dict[str, bytes]:
    population, ps = fit(hostile()), profile_set(hostile())
    return {
        fmt: render_report(workspace(population, ps), ps, ReportOptions(format=fmt, top=20, generated=GENERATED))[0]
        for fmt in ("csv", "xlsx", "json")
    }


def test_csv_cells_never_start_a_formula(hostile_report: dict[str, bytes]) -> None:
    text = hostile_report["csv"].decode("utf-8")
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert not [c for c in cells if c.startswith(FORMULA_STARTS)]
    assert '\'=HYPERLINK("http://example.com","click")' in cells  # the name, escaped, still readable
    assert "'@evil.txt" in cells and any("=1+1 factory sensor data" in c for c in cells)
    frame = pd.read_csv(io.StringIO(text))
    assert frame["score"].dtype == float and frame["data_a_to_b"].dtype == float
    assert "evil" in set(frame["a"]) | set(frame["b"])


def test_xlsx_has_no_formula_cells_and_numbers_stay_numbers(hostile_report: dict[str, bytes]) -> None:
    book = openpyxl.load_workbook(io.BytesIO(hostile_report["xlsx"]))
    assert book.sheetnames == [
        "pairs",
        "reasons",
        "partners",
        "enablers",
        "unmet needs",
        "oversupply",
        "bridges",
        "settings",
    ]
    seen_escaped = False
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula: {cell.value!r}"
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(FORMULA_STARTS), (sheet.title, cell.coordinate, cell.value)
                    seen_escaped |= cell.value.startswith("'=HYPERLINK")
    assert seen_escaped
    pairs = book["pairs"]
    header = [c.value for c in pairs[1]]
    score = pairs.cell(2, header.index("score") + 1).value
    assert isinstance(score, float) and 0 < score <= 1
    reasons = book["reasons"]
    quotes = {c.value for c in reasons[header_index(reasons, "offer_quote")] if c.value}
    assert "'-2+3 looks like a sum" in quotes


def header_index(sheet: openpyxl.worksheet.worksheet.Worksheet, name: str) -> str:
    header = [c.value for c in sheet[1]]
    return str(sheet.cell(1, header.index(name) + 1).column_letter)


def test_json_needs_no_escaping(hostile_report: dict[str, bytes]) -> None:
    data = json.loads(hostile_report["json"])
    names = {p["a_name"] for p in data["pairs"]} | {p["b_name"] for p in data["pairs"]}
    assert '=HYPERLINK("http://example.com","click")' in names


# -- agreement with `matchmaker pairs` on the shipped profiles ------------------------------------------


def test_json_pairs_agree_with_matchmaker_pairs() -> None:
    reference = cli_json("pairs", "--top", "10")
    report = json.loads(shipped_report("json"))
    expected = headline_reference(10)
    assert len(report["pairs"]) == len(expected) > 10  # ten Japan-India pairs, then the same-country ones
    assert [p["rank"] for p in report["pairs"]] == list(range(1, len(expected) + 1))
    for ours, theirs in zip(report["pairs"], expected, strict=True):
        for key in ("a", "b", "a_name", "b_name", "score", "breakdown"):
            assert ours[key] == theirs[key], key
        # The report keeps every offer->need line; `pairs` shows the first three of the same list.
        assert ours["reasons"][: len(theirs["reasons"])] == theirs["reasons"]
        contributions = [r["contribution"] for r in ours["reasons"]]
        assert contributions == sorted(contributions, reverse=True)
    assert {k: report["settings"][k] for k in reference["settings"]} == reference["settings"]


def test_json_rows_are_one_per_pair_with_every_breakdown_column() -> None:
    report = json.loads(shipped_report("json"))
    assert len(report["rows"]) == len(report["pairs"])
    for row, pair in zip(report["rows"], report["pairs"], strict=True):
        assert (row["a"], row["b"], row["score"]) == (pair["a"], pair["b"], pair["score"])
        for d, s in pair["breakdown"]["dimensions"].items():
            assert (row[f"{d}_a_to_b"], row[f"{d}_b_to_a"]) == (s["a_to_b"], s["b_to_a"])
        assert row["background_claims"] == sum(r["background"] for r in pair["reasons"])


def test_csv_agrees_with_matchmaker_pairs_csv() -> None:
    frames = []
    for args in (["--cross-border"], []):
        code, out, _ = run("pairs", "--top", "10", *args, "--format", "csv")
        assert code == 0
        frames.append(pd.read_csv(io.StringIO(out)))
    bridges, overall = frames
    reference = pd.concat([bridges, overall[~overall["cross_border"]]], ignore_index=True)
    reference["rank"] = range(1, len(reference) + 1)
    ours = pd.read_csv(io.BytesIO(shipped_report("csv")))
    pd.testing.assert_frame_equal(ours[reference.columns], reference)
    assert {"combiner", "reasons", "sources", "background_claims"} <= set(ours.columns)
    first = json.loads(shipped_report("json"))["pairs"][0]
    for reason in first["reasons"]:
        assert reason["offer"]["evidence"].get("quote", "") in ours["reasons"][0]


def test_xlsx_pairs_sheet_agrees_with_csv() -> None:
    sheet = pd.read_excel(io.BytesIO(shipped_report("xlsx")), sheet_name="pairs")
    csv_frame = pd.read_csv(io.BytesIO(shipped_report("csv")))
    numbers = [c for c in csv_frame.columns if csv_frame[c].dtype == float]
    pd.testing.assert_frame_equal(sheet[numbers], csv_frame[numbers], check_dtype=False)
    assert sheet["a"].tolist() == csv_frame["a"].tolist()


def test_a_report_without_pairs_still_has_its_header() -> None:
    population, ps = fit(market()), profile_set(market())
    content = render_report(workspace(population, ps), ps, ReportOptions(format="csv", org="idle"))[0].decode()
    assert content.strip().split(",")[:3] == ["rank", "a", "a_name"] and len(content.strip().splitlines()) == 1
    full = pd.read_csv(io.BytesIO(shipped_report("csv")))
    assert content.strip().split(",") == list(full.columns)  # the same columns as a report with pairs
