"""How the ranking commands print: tables with reasons and quotes for people, JSON and CSV for programs."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table

from matchmaker.cli.context import out, write_stdout

if TYPE_CHECKING:
    import pandas as pd

    from matchmaker.application.workspace import Explanation, PairList, PartnerList
    from matchmaker.core.population import Match
    from matchmaker.core.profile import Evidence


def print_json(data: Any) -> None:
    write_stdout(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def print_frame(frame: pd.DataFrame) -> None:
    """A table as CSV, every cell a spreadsheet would run as a formula escaped (as in the reports)."""
    from matchmaker.reports.tables import escape_frame

    write_stdout(escape_frame(frame).to_csv(index=False))


def print_csv(matches: list[Match], dimensions: tuple[str, ...]) -> None:
    from matchmaker.views import match_rows

    print_frame(match_rows(matches, dimensions))


def evidence_text(evidence: Evidence) -> str:
    """Where a claim comes from: ``file: "quote"``, or the background-knowledge note."""
    if evidence.background is not None:
        return f"background knowledge: {evidence.background}"
    return f'{evidence.source}: "{evidence.quote}"'


def print_reasons(match: Match, limit: int | None = None) -> None:
    from matchmaker.views import basis_text

    for reason in match.reasons[:limit]:
        arrow = f"{reason.offer.org} -> {reason.need.org}"
        out.print(f"  [bold]{reason.dimension}[/bold] {arrow} (+{reason.contribution:.3f})", highlight=False)
        made = basis_text(reason.basis)
        if made:
            out.print(f"    similarity {reason.similarity:.3f}: {made}", markup=False, highlight=False)
        for label, ref in (("offers", reason.offer), ("needs", reason.need)):
            out.print(
                f"    {ref.org} {label} (strength {ref.item.strength}): {ref.item.description}",
                markup=False,
                highlight=False,
            )
            out.print(f"      evidence {evidence_text(ref.item.evidence)}", markup=False, highlight=False, style="dim")


def _dimension_summary(match: Match) -> str:
    parts = [f"{d} {s.a_to_b:.2f}/{s.b_to_a:.2f}" for d, s in match.dimensions.items() if s.a_to_b or s.b_to_a]
    return ", ".join(parts) or "-"


def _connected(match: Match) -> str:
    """The mark of a pair already connected (escaped: rich reads square brackets as markup)."""
    return escape(f" [already connected: {'; '.join(match.connections)}]") if match.connections else ""


def _partner_table(title: str, matches: list[Match]) -> Table:
    table = Table(title=title)
    for column in ("#", "partner", "country", "score", "gives", "gets", "per dimension gives/gets"):
        table.add_column(column, justify="right" if column in ("#", "score", "gives", "gets") else "left")
    for rank, m in enumerate(matches, 1):
        table.add_row(
            str(rank),
            f"{m.b.name} ({m.b.id}){_connected(m)}",
            m.b.country,
            f"{m.score:.3f}",
            f"{m.a_to_b:.2f}",
            f"{m.b_to_a:.2f}",
            _dimension_summary(m),
        )
    return table


def print_partners(found: PartnerList) -> None:
    profile, settings, matches = found.organisation, found.settings, found.partners
    title = f"Partners for {profile.name} ({profile.id}, {profile.country})"
    out.print(_partner_table(f"{title} - both directions combined by {settings.combiner}", matches))
    if not matches:
        out.print(f"No partner has a positive score: {found.empty_because or 'no score is above 0'}.", markup=False)
    if found.enablers:
        out.print(_partner_table(f"Programmes and funders that can support {profile.name}", found.enablers))
    for rank, m in enumerate(matches, 1):
        out.print(f"\n[bold]{rank}. {m.b.name}[/bold]{_connected(m)} - why:", highlight=False, markup=True)
        print_reasons(m, limit=3)
    for m in found.enablers:
        out.print(f"\n[bold]Support: {m.b.name}[/bold] - why:", highlight=False)
        print_reasons(m, limit=2)
    out.print("\n'gives' = how well what the organisation offers meets the partner's needs; 'gets' = the reverse.")


def print_pairs(found: PairList) -> None:
    from matchmaker.views import reason_text

    def pair_table(title: str, matches: list[Match], first: str, second: str) -> Table:
        table = Table(title=title)
        for column in ("#", first, second, "score", "a->b", "b->a", "top reason"):
            table.add_column(column, justify="right" if column in ("#", "score", "a->b", "b->a") else "left")
        for rank, m in enumerate(matches, 1):
            table.add_row(
                str(rank),
                f"{m.a.name} ({m.a.country})",
                f"{m.b.name} ({m.b.country}){_connected(m)}",
                f"{m.score:.3f}",
                f"{m.a_to_b:.2f}",
                f"{m.b_to_a:.2f}",
                reason_text(m.reasons[0]) if m.reasons else "-",
            )
        return table

    out.print(
        pair_table(f"Best pairings (both directions combined by {found.settings.combiner})", found.pairs, "a", "b")
    )
    if found.enablers:
        title = "Programmes and funders that can support them"
        out.print(pair_table(title, found.enablers, "organisation", "programme or funder"))


def print_explanation(found: Explanation) -> None:
    match, settings = found.match, found.settings
    a, b = match.a, match.b
    out.print(f"[bold]{a.name} ({a.id}) x {b.name} ({b.id})[/bold]: score {match.score:.3f}", highlight=False)
    out.print(
        f"  {a.id} -> {b.id}: {match.a_to_b:.3f}   {b.id} -> {a.id}: {match.b_to_a:.3f}   "
        f"combined by {settings.combiner}: {match.reciprocal:.3f}",
        highlight=False,
    )
    out.print(
        f"  sector fit {match.sector_fit:.3f} (weight {settings.sector_weight}), cross-border "
        f"{'yes' if match.cross_border else 'no'} (weight {settings.cross_border_weight})",
        highlight=False,
    )
    table = Table(title="Per dimension")
    for column in ("dimension", f"{a.id} -> {b.id}", f"{b.id} -> {a.id}"):
        table.add_column(column)
    for d, s in match.dimensions.items():
        table.add_row(d, f"{s.a_to_b:.3f}", f"{s.b_to_a:.3f}")
    out.print(table)
    out.print("Offer -> need item pairs behind the score (contribution to that direction's benefit):")
    print_reasons(match)
    if not match.reasons:
        out.print("  none: neither side offers what the other needs.")
