"""The report as tables (CSV, XLSX) and as one JSON document, built on matchmaker.views.

Pairs are one row each with every breakdown column (``views.match_rows``, the same numbers and
rounding as ``matchmaker pairs --format csv``) plus the offer->need lines behind them. Cells that a
spreadsheet would read as a formula are escaped (see ``escape_cell``).
"""

from __future__ import annotations

import io
import json
from typing import Any

import pandas as pd

from matchmaker.application.report import Report
from matchmaker.core.ecosystem import ItemFit
from matchmaker.core.population import Match, Reason
from matchmaker.core.profile import Item
from matchmaker.views import (
    ROUND,
    item_view,
    match_rows,
    pair_view,
    partner_view,
    profile_summary,
    reason_text,
    settings_view,
)

BEST_REASONS = 3  # reasons a pair shows where the decision is made (the summaries); the details show all
# OWASP "CSV injection": a cell starting with one of these is read as a formula by spreadsheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def _r(value: float) -> float:
    return round(float(value), ROUND)


def escape_cell(value: Any) -> Any:
    """Prefix ``'`` to a string a spreadsheet would run as a formula; leave everything else alone.

    Numbers stay numbers (a negative number is data, not a formula).

    >>> escape_cell("=HYPERLINK(\\"http://x\\")"), escape_cell("@SUM(A1)"), escape_cell(-1.5), escape_cell("ok")
    ('\\'=HYPERLINK("http://x")', "'@SUM(A1)", -1.5, 'ok')
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def escape_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every string cell (and column name) passed through ``escape_cell``."""
    escaped = frame.copy()
    for column in escaped.columns:
        if escaped[column].dtype == object or pd.api.types.is_string_dtype(escaped[column]):
            escaped[column] = escaped[column].map(escape_cell)
    escaped.columns = [escape_cell(str(c)) for c in escaped.columns]
    return escaped


def evidence_text(item: Item) -> str:
    """``file: "quote"`` for a quoted claim; a visible flag and the note for background knowledge."""
    evidence = item.evidence
    if evidence.is_background:
        return f"[background knowledge - not in the sources] {evidence.background}"
    return f'{evidence.source}: "{evidence.quote}"'


def reason_line(reason: Reason) -> str:
    """One offer->need line with its contribution and both pieces of evidence."""
    return (
        f"{reason_text(reason)} (+{_r(reason.contribution):.4f}; offer evidence {evidence_text(reason.offer.item)}; "
        f"need evidence {evidence_text(reason.need.item)})"
    )


def _background(reason: Reason) -> bool:
    return reason.offer.item.evidence.is_background or reason.need.item.evidence.is_background


def best_reasons(match: Match, limit: int = BEST_REASONS) -> list[Reason]:
    """The reasons a summary shows: the strongest of each direction (a pairing is mutual), then the next."""
    ranked = sorted(match.reasons, key=lambda r: -r.contribution)
    firsts = [found for d in ("a_to_b", "b_to_a") if (found := next((r for r in ranked if r.direction == d), None))]
    chosen = sorted(firsts, key=lambda r: -r.contribution)
    chosen += [r for r in ranked if all(r is not c for c in chosen)]
    return chosen[:limit]


def pair_columns(dimensions: tuple[str, ...]) -> list[str]:
    """The columns of ``pair_table``: those of ``views.match_rows``, then the reasons and their sources."""
    base = [
        "rank",
        "a",
        "a_name",
        "a_country",
        "b",
        "b_name",
        "b_country",
        "score",
        "reciprocal",
        "a_to_b",
        "b_to_a",
        "sector_fit",
        "cross_border",
    ]
    per_dimension = [f"{d}_{way}" for d in dimensions for way in ("a_to_b", "b_to_a")]
    return [*base, *per_dimension, "top_reason", "combiner", "reasons", "sources", "background_claims"]


def pair_table(report: Report) -> pd.DataFrame:
    """One row per headline pair: every breakdown column, then the lines behind it and their sources."""
    matches = list(report.pairs)
    frame = match_rows(matches, report.dimensions)
    if frame.empty:  # still one header row, so a reader (or a script) sees the columns
        return pd.DataFrame(columns=pair_columns(report.dimensions))
    frame["combiner"] = report.settings.combiner
    frame["reasons"] = ["\n".join(reason_line(r) for r in m.reasons) for m in matches]
    frame["sources"] = [
        "; ".join(
            dict.fromkeys(
                ref.item.evidence.source for r in m.reasons for ref in (r.offer, r.need) if ref.item.evidence.source
            )
        )
        for m in matches
    ]
    frame["background_claims"] = [sum(1 for r in m.reasons if _background(r)) for m in matches]
    return frame


def reason_table(report: Report) -> pd.DataFrame:
    """One row per offer->need line of every headline pair, with both quotes and their sources."""
    rows = []
    for rank, m in enumerate(report.pairs, 1):
        for r in m.reasons:
            row: dict[str, Any] = {
                "rank": rank,
                "a": m.a.id,
                "b": m.b.id,
                "direction": r.direction,
                "dimension": r.dimension,
                "contribution": _r(r.contribution),
                "similarity": _r(r.similarity),
                "background": _background(r),
            }
            for label, ref in (("offer", r.offer), ("need", r.need)):
                ev = ref.item.evidence
                row |= {
                    f"{label}_org": ref.org,
                    f"{label}_position": ref.position,
                    f"{label}_description": ref.item.description,
                    f"{label}_strength": ref.item.strength,
                    f"{label}_source": ev.source or "",
                    f"{label}_quote": ev.quote or "",
                    f"{label}_background": ev.background or "",
                }
            rows.append(row)
    return pd.DataFrame(rows)


def partner_table(report: Report) -> pd.DataFrame:
    """One row per (organisation, partner) of the partner sections."""
    rows = []
    for section in report.sections:
        for rank, m in enumerate(section.partners, 1):
            row: dict[str, Any] = {
                "organisation": section.profile.id,
                "rank": rank,
                "partner": m.b.id,
                "partner_name": m.b.name,
                "partner_country": m.b.country,
                "score": _r(m.score),
                "gives": _r(m.a_to_b),
                "gets": _r(m.b_to_a),
                "cross_border": m.cross_border,
            }
            row["top_reason"] = reason_text(m.reasons[0]) if m.reasons else ""
            rows.append(row)
    return pd.DataFrame(rows)


def _fit_row(fit: ItemFit, label: str) -> dict[str, Any]:
    ref, ev = fit.ref, fit.ref.item.evidence
    return {
        "org": ref.org,
        "dimension": ref.dimension,
        "position": ref.position,
        "description": ref.item.description,
        "strength": ref.item.strength,
        label: _r(fit.best),
        "closest": fit.best_org or "",
        "source": ev.source or "",
        "quote": ev.quote or "",
        "background": ev.background or "",
    }


def gap_tables(report: Report) -> dict[str, pd.DataFrame]:
    """The ecosystem section as three tables: unmet needs, oversupplied offers, bridges per dimension."""
    eco = report.ecosystem
    first, second = eco.bridge
    bridges = [
        {
            "dimension": b.dimension,
            "strong_bridges": b.strong,
            "both_ways": b.mutual,
            "cross_border_pairs": eco.bridge_pairs,
            "threshold": eco.bridge_from,
            "strongest": "; ".join(
                f"{e.first} ({first}) / {e.second} ({second}): "
                f"{_r(e.first_to_second):.4f} / {_r(e.second_to_first):.4f}"
                for e in b.examples
            ),
        }
        for b in eco.bridges
    ]
    return {
        "unmet needs": pd.DataFrame(
            [_fit_row(f, "coverage") for f in eco.unmet], columns=list(_fit_columns("coverage"))
        ),
        "oversupply": pd.DataFrame(
            [_fit_row(f, "demand") for f in eco.oversupply], columns=list(_fit_columns("demand"))
        ),
        "bridges": pd.DataFrame(bridges),
    }


def _fit_columns(label: str) -> tuple[str, ...]:
    return (
        "org",
        "dimension",
        "position",
        "description",
        "strength",
        label,
        "closest",
        "source",
        "quote",
        "background",
    )


def settings_rows(report: Report) -> list[tuple[str, str]]:
    """The settings and provenance that reproduce the report, as (name, value) text pairs."""
    s, o, eco = report.settings, report.options, report.ecosystem
    weights = ", ".join(f"{d} {s.weight(d):g}" for d in report.dimensions)
    return [
        ("dimension weights", weights),
        ("sector-fit weight", f"{s.sector_weight:g}"),
        ("cross-border weight", f"{s.cross_border_weight:g}"),
        ("combiner", f"{s.combiner}: {s.combiner_entry.description}"),
        ("bridge countries", " and ".join(s.bridge)),
        ("unmet need below", f"{eco.unmet_below:g} coverage"),
        ("oversupply below", f"{eco.oversupply_below:g} demand"),
        ("strong bridge from", f"{eco.bridge_from:g} benefit in a dimension"),
        (
            "headline pairs",
            f"top {o.top}"
            + (" Japan-India pairs only" if o.cross_border else " Japan-India pairs, then same-country ones")
            + (f" partners of {report.focus.id}" if report.focus else ""),
        ),
        ("partners per organisation", str(o.partners)),
        ("profile set", report.profile_set.location),
        ("profile set version (hash)", report.profile_set.version),
        ("organisations", str(report.organisations)),
        ("matchmaker version", report.version),
        ("generated", report.generated.isoformat()),
        ("command", report.command),
    ]


def to_csv(report: Report) -> bytes:
    """One row per headline pair, formula-escaped, UTF-8."""
    return escape_frame(pair_table(report)).to_csv(index=False).encode("utf-8")


def _sheet_widths(frame: pd.DataFrame) -> list[float]:
    widths = []
    for column in frame.columns:
        longest = max([len(str(column)), *(len(str(v)) for v in frame[column].head(200))])
        widths.append(float(min(60, max(8, longest + 2))))
    return widths


def to_xlsx(report: Report) -> bytes:
    """A workbook: pairs, reasons, partners, unmet needs, oversupply, bridges, settings; formula-escaped."""
    from openpyxl.styles import Alignment, Font  # type: ignore[import-untyped, unused-ignore]

    sheets: dict[str, pd.DataFrame] = {
        "pairs": pair_table(report),
        "reasons": reason_table(report),
        "partners": partner_table(report),
        "enablers": match_rows(list(report.enablers), report.dimensions),
        **gap_tables(report),
        "settings": pd.DataFrame(settings_rows(report), columns=["setting", "value"]),
    }
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            escaped = escape_frame(frame)
            escaped.to_excel(writer, sheet_name=name, index=False)
            sheet = writer.sheets[name]
            sheet.freeze_panes = "A2"
            for k, width in enumerate(_sheet_widths(escaped), 1):
                sheet.column_dimensions[sheet.cell(1, k).column_letter].width = width
            for cell in sheet[1]:
                cell.font = Font(bold=True)
            for row in sheet.iter_rows(min_row=2):
                for cell in row:
                    if isinstance(cell.value, str) and len(cell.value) > 60:
                        cell.alignment = Alignment(wrap_text=True, vertical="top")
            # A string is never a formula, whatever it starts with (escaping is the first guard).
            for row in sheet.iter_rows():
                for cell in row:
                    if isinstance(cell.value, str):
                        cell.data_type = "s"
    return buffer.getvalue()


def _fit_view(fit: ItemFit, label: str) -> dict[str, Any]:
    return {
        "org": fit.ref.org,
        "dimension": fit.ref.dimension,
        "position": fit.ref.position,
        **item_view(fit.ref.item),
        label: _r(fit.best),
        "closest": fit.best_org,
    }


def report_document(report: Report) -> dict[str, Any]:
    """The whole report as JSON-ready data; ``pairs`` has the shape of ``matchmaker pairs --format json``."""
    s, eco = report.settings, report.ecosystem
    pairs = pair_table(report)
    return {
        "report": {
            "title": report.options.title,
            "generated": report.generated.isoformat(),
            "matchmaker_version": report.version,
            "command": report.command,
            "organisation": profile_summary(report.focus) if report.focus else None,
            "top": report.options.top,
            "cross_border_first": report.options.cross_border,
            "partners_per_organisation": report.options.partners,
            "best_cross_border_pair": (
                {"a": report.best_bridge.a.id, "b": report.best_bridge.b.id, "score": _r(report.best_bridge.score)}
                if report.best_bridge
                else None
            ),
        },
        "profile_set": {
            "location": report.profile_set.location,
            "version": report.profile_set.version,
            "organisations": report.organisations,
            "countries": report.countries,
        },
        "settings": {**settings_view(s), "effective_dimension_weights": {d: s.weight(d) for d in report.dimensions}},
        "pairs": [pair_view(k, m, s) for k, m in enumerate(report.pairs, 1)],
        "enablers": [pair_view(k, m, s) for k, m in enumerate(report.enablers, 1)],
        "rows": json.loads(pairs.to_json(orient="records")) if not pairs.empty else [],
        "partners": [
            {
                "organisation": profile_summary(sec.profile),
                "offered": sec.offered,
                "needed": sec.needed,
                "partners": [partner_view(k, m, s) for k, m in enumerate(sec.partners, 1)],
            }
            for sec in report.sections
        ],
        "ecosystem": {
            "definitions": {
                "coverage": "need item j of B: max over A != B of min(1, sum over A's offers i in the same "
                "dimension of strength_i/3 * similarity(i, j))",
                "demand": "offer item i of A: max over B != A of min(1, sum over B's needs j in the same "
                "dimension of strength_j/3 * similarity(i, j))",
                "strong_bridge": "a pair across the bridge countries whose benefit in the dimension (as in "
                "matchmaker explain) reaches the threshold in at least one direction",
            },
            "unmet_below": eco.unmet_below,
            "oversupply_below": eco.oversupply_below,
            "bridge_from": eco.bridge_from,
            "bridge": list(eco.bridge),
            "cross_border_pairs": eco.bridge_pairs,
            "unmet_needs": [_fit_view(f, "coverage") for f in eco.unmet],
            "oversupply": [_fit_view(f, "demand") for f in eco.oversupply],
            "bridges": [
                {
                    "dimension": b.dimension,
                    "strong": b.strong,
                    "both_ways": b.mutual,
                    "strongest": [
                        {
                            "first": e.first,
                            "second": e.second,
                            "first_to_second": _r(e.first_to_second),
                            "second_to_first": _r(e.second_to_first),
                        }
                        for e in b.examples
                    ],
                }
                for b in eco.bridges
            ],
        },
    }


def to_json(report: Report) -> bytes:
    return (json.dumps(report_document(report), ensure_ascii=False, indent=2) + "\n").encode("utf-8")
