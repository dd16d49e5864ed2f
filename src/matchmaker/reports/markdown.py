"""The Markdown report: the HTML report's content as tables and lists (no charts).

Profile text is escaped so it cannot inject Markdown or HTML into a viewer (``md_escape``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from matchmaker.application.report import Report
from matchmaker.core.ecosystem import ItemFit
from matchmaker.core.population import Match, Reason
from matchmaker.core.profile import STRENGTH_LABELS, Item, Profile
from matchmaker.core.scoring import profile_need_shares
from matchmaker.reports.tables import best_reasons, settings_rows
from matchmaker.views import ROUND, reason_text

_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~])")
BACKGROUND = "**[background knowledge - not in the sources]**"


def md_escape(text: object) -> str:
    """Escape Markdown and HTML syntax in ``text`` and keep it on one line (safe in a table cell).

    >>> md_escape("a|b <script> *x*")
    'a\\\\|b \\\\<script\\\\> \\\\*x\\\\*'
    """
    return _SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _f(value: float, places: int = 3) -> str:
    return f"{round(float(value), ROUND):.{places}f}"


def _org(p: Profile) -> str:
    return f"{md_escape(p.name)} ({md_escape(p.id)}, {md_escape(p.country)})"


def _evidence(item: Item) -> str:
    ev = item.evidence
    if ev.is_background:
        return f"{BACKGROUND} {md_escape(ev.background)}"
    return f"\u201c{md_escape(ev.quote)}\u201d (source: `{(ev.source or '').replace('`', '')}`)"


def _table(head: list[str], rows: list[list[str]], align: str) -> list[str]:
    """A pipe table; ``align`` has one letter per column: l or r."""
    marks = ["---:" if a == "r" else "---" for a in align]
    return [
        "| " + " | ".join(head) + " |",
        "| " + " | ".join(marks) + " |",
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
    ]


def _line(reason: Reason, names: dict[str, str]) -> list[str]:
    offer, need = reason.offer, reason.need
    flag = f" {BACKGROUND}" if offer.item.evidence.is_background or need.item.evidence.is_background else ""
    return [
        f"- **{md_escape(reason.dimension)}** +{_f(reason.contribution, 4)} (similarity {_f(reason.similarity, 2)})"
        f"{flag}: {md_escape(names[offer.org])} offers {md_escape(offer.item.description)} "
        f"(strength {offer.item.strength}, {STRENGTH_LABELS[offer.item.strength]}) \u2192 {md_escape(names[need.org])} "
        f"needs {md_escape(need.item.description)} (strength {need.item.strength}, "
        f"{STRENGTH_LABELS[need.item.strength]})",
        f"  - offer evidence: {_evidence(offer.item)}",
        f"  - need evidence: {_evidence(need.item)}",
    ]


def _pair(rank: int, m: Match, report: Report) -> Iterator[str]:
    s = report.settings
    bridge = f" \u2014 {s.bridge[0]}\u2194{s.bridge[1]}" if m.cross_border else ""
    yield f"### {rank}. {_org(m.a)} \u00d7 {_org(m.b)}: {_f(m.score, 4)}{bridge}"
    yield ""
    rule = s.combiner_entry.description.split(":")[0]
    yield (
        f"A\u2192B {_f(m.a_to_b, 4)} and B\u2192A {_f(m.b_to_a, 4)}, combined by the {rule} = "
        f"{_f(m.reciprocal, 4)}; \u00d7 (1 + {s.sector_weight:g} \u00d7 sector fit {_f(m.sector_fit, 4)} + "
        f"{s.cross_border_weight:g} \u00d7 cross-border {1 if m.cross_border else 0}) \u00f7 "
        f"(1 + {s.sector_weight:g} + {s.cross_border_weight:g}) = **{_f(m.score, 4)}**"
    )
    yield ""
    dims = tuple(m.dimensions)
    to_b, to_a = profile_need_shares(m.b, dims, s), profile_need_shares(m.a, dims, s)
    yield from _table(
        [
            "dimension",
            f"{md_escape(m.a.id)} \u2192 {md_escape(m.b.id)}",
            "share",
            f"{md_escape(m.b.id)} \u2192 {md_escape(m.a.id)}",
            "share",
        ],
        [[md_escape(d), _f(v.a_to_b, 4), _f(to_b[d]), _f(v.b_to_a, 4), _f(to_a[d])] for d, v in m.dimensions.items()]
        + [["**overall**", f"**{_f(m.a_to_b, 4)}**", "", f"**{_f(m.b_to_a, 4)}**", ""]],
        "lrrrr",
    )
    yield (
        "Overall = \u03a3 share \u00d7 benefit; a dimension's share is its weight times how much the receiving "
        "side needs it (its strongest need there \u00f7 3), normalised."
    )
    yield ""
    names = {m.a.id: m.a.name, m.b.id: m.b.name}
    for direction, giver, taker, total in (("a_to_b", m.a, m.b, m.a_to_b), ("b_to_a", m.b, m.a, m.b_to_a)):
        lines = [r for r in m.reasons if r.direction == direction]
        yield f"**What {md_escape(giver.name)} offers {md_escape(taker.name)}** ({_f(total, 4)}):"
        yield ""
        if not lines:
            yield f"- nothing {md_escape(giver.name)} offers meets a need of {md_escape(taker.name)}."
        for r in lines:
            yield from _line(r, names)
        shown = sum(r.contribution for r in lines)
        if lines and round(total - shown, ROUND) > 0:
            yield (
                f"- (these lines add up to {_f(shown, 4)} of {_f(total, 4)}; the rest comes from item pairs "
                "contributing under 0.005 each)"
            )
        yield ""


def _fits(fits: tuple[ItemFit, ...], measure: str, other: str, names: dict[str, str]) -> list[str]:
    rows = [
        [
            md_escape(names[f.ref.org]),
            md_escape(f.ref.dimension),
            md_escape(f.ref.item.description),
            str(f.ref.item.strength),
            _f(f.best),
            md_escape(names[f.best_org]) if f.best_org else "\u2013",
            _evidence(f.ref.item),
        ]
        for f in fits
    ]
    return _table(
        ["organisation", "dimension", "item", "strength", measure, f"closest {other}", "evidence"], rows, "lllrrll"
    )


def _mark(item: Item) -> str:
    """After a claim: its source file, or the background-knowledge flag."""
    if item.evidence.is_background:
        return f" {BACKGROUND}"
    return f" [`{(item.evidence.source or '').replace('`', '')}`]"


def _claim_line(reason: Reason, names: dict[str, str]) -> str:
    offer, need = reason.offer, reason.need
    return (
        f"**{md_escape(reason.dimension)}**: {md_escape(names[offer.org])} offers \u201c"
        f"{md_escape(offer.item.description)}\u201d{_mark(offer.item)} \u2192 {md_escape(names[need.org])} needs "
        f"\u201c{md_escape(need.item.description)}\u201d{_mark(need.item)}"
    )


def _recommendations(r: Report) -> Iterator[str]:
    """The decision, pair by pair: the best reasons of each, each claim marked with where it comes from."""
    first, second = r.settings.bridge
    names = {p.id: p.name for p in r.profiles}
    ranks = {id(m): k for k, m in enumerate(r.pairs, 1)}
    groups = [(f"{first}\u2013{second} pairings", [m for m in r.pairs if m.cross_border])]
    if not r.options.cross_border:
        groups.append(("Same-country pairings", [m for m in r.pairs if not m.cross_border]))
    for title, matches in groups:
        yield f"## {title}"
        yield ""
        if not matches:
            yield "None scored above 0."
            yield ""
        for m in matches:
            yield f"{ranks[id(m)]}. **{_org(m.a)} \u00d7 {_org(m.b)}**: {_f(m.score)}"
            for reason in best_reasons(m):
                yield f"   - {_claim_line(reason, names)}"
        yield ""
    yield "## Programmes and funders that can support them"
    yield ""
    rows = [
        [
            _org(m.a),
            f"{_org(m.b)} ({md_escape(m.b.kind)})",
            _f(m.score),
            _claim_line(best_reasons(m, 1)[0], names) if m.reasons else "\u2013",
        ]
        for m in r.enablers
    ]
    yield from (
        _table(["organisation", "programme or funder", "score", "strongest reason"], rows, "llrl")
        if rows
        else ["None scored above 0.", ""]
    )


def iter_markdown(report: Report) -> Iterator[str]:
    """The Markdown report, one line at a time."""
    r, s, eco = report, report.settings, report.ecosystem
    first, second = s.bridge
    names = {p.id: p.name for p in r.profiles}
    countries = ", ".join(f"{n} {c}" for c, n in r.countries.items())
    yield f"# {md_escape(r.options.title)}"
    yield ""
    focus = f"; focus: {_org(r.focus)}" if r.focus else ""
    yield (
        f"{r.organisations} organisations ({countries}){focus}; profile set `{r.profile_set.version}`; "
        f"generated {r.generated.isoformat()}."
    )
    yield ""
    same, bridge = next((m for m in r.pairs if not m.cross_border), None), r.best_bridge
    summary = [
        f"best {first}\u2194{second} pairing: {_org(bridge.a)} \u00d7 {_org(bridge.b)} ({_f(bridge.score)})"
        if bridge
        else f"no {first}\u2194{second} pairing scored above 0",
        f"best same-country pairing: {_org(same.a)} \u00d7 {_org(same.b)} ({_f(same.score)})"
        if same
        else "no same-country pairing listed",
        _count(len(eco.unmet), "unmet need"),
        _count(len(eco.oversupply), "offer") + " nobody needs",
        _count(sum(b.strong for b in eco.bridges), f"strong {first}\u2194{second} bridge"),
    ]
    yield "**At a glance:** " + "; ".join(summary) + "."
    yield ""
    yield (
        f"Scores weigh what one organisation **offers** against what the other **needs** in each dimension "
        f"({', '.join(r.dimensions)}); A\u2192B is how well A's offers meet B's needs. The two directions are "
        f"combined by the {s.combiner_entry.description}, then scaled by sector fit (weight "
        f"{s.sector_weight:g}) and the {first}-{second} preference (weight {s.cross_border_weight:g}). "
        f"Every line cites a quote and its source document, or is flagged {BACKGROUND}."
    )
    yield ""
    yield "## Top pairings"
    yield ""
    if r.focus is not None:
        yield f"The best partners of {_org(r.focus)}."
    elif r.options.cross_border:
        yield f"The top {r.options.top} {first}-{second} pairings."
    else:
        yield (
            f"The top {r.options.top} {first}-{second} pairings, then the same-country pairings among the top "
            f"{r.options.top} overall. Per dimension: A\u2192B / B\u2192A."
        )
    yield ""
    head = ["#", "A", "B", "score", "A\u2192B", "B\u2192A", *(md_escape(d) for d in r.dimensions)]
    rows = [
        [
            str(k),
            _org(m.a) + (f" {first}\u2194{second}" if m.cross_border else ""),
            _org(m.b),
            _f(m.score),
            _f(m.a_to_b),
            _f(m.b_to_a),
            *(f"{_f(m.dimensions[d].a_to_b)} / {_f(m.dimensions[d].b_to_a)}" for d in r.dimensions),
        ]
        for k, m in enumerate(r.pairs, 1)
    ]
    yield from _table(head, rows, "lllrrr" + "r" * len(r.dimensions)) if rows else ["No pairing scored above 0.", ""]
    yield from _recommendations(r)
    yield "## Why each pairing"
    yield ""
    for k, m in enumerate(r.pairs, 1):
        yield from _pair(k, m, r)
    if not r.pairs:
        yield from ("No pairing to explain.", "")
    yield "## Partners by organisation"
    yield ""
    yield (
        "**Gives**: how well the organisation's offers meet the partner's needs; **gets**: the reverse. "
        "Offers/needs: summed strength of its items per dimension."
    )
    yield ""
    for section in r.sections:
        p = section.profile
        yield f"### {_org(p)}"
        yield ""
        yield (
            "Offers / needs per dimension: "
            + "; ".join(f"{md_escape(d)} {section.offered[d]} / {section.needed[d]}" for d in r.dimensions)
            + "."
        )
        yield ""
        rows = [
            [
                str(n),
                _org(m.b),
                _f(m.score),
                _f(m.a_to_b),
                _f(m.b_to_a),
                md_escape(reason_text(m.reasons[0])) if m.reasons else "\u2013",
            ]
            for n, m in enumerate(section.partners, 1)
        ]
        yield from (
            _table(["#", "partner", "score", "gives", "gets", "strongest reason"], rows, "llrrrl")
            if rows
            else ["No partner has a score above 0.", ""]
        )
    yield "## Ecosystem: gaps and bridges"
    yield ""
    yield (
        "A need's **coverage** is the best support any other single organisation's offers give it: the maximum "
        "over organisations of min(1, \u03a3 offer strength/3 \u00d7 similarity) over its offers in the same "
        "dimension. An offer's **demand** is the same from the other side (need strength/3)."
    )
    yield ""
    yield f"### Strong {first}\u2194{second} bridges per dimension"
    yield ""
    yield (
        f"Pairs among the {eco.bridge_pairs} {first}-{second} pairs whose benefit in the dimension reaches "
        f"{eco.bridge_from:g} in at least one direction."
    )
    yield ""
    yield from _table(
        ["dimension", "strong", "both ways", f"strongest ({first}\u2192{second} / {second}\u2192{first})"],
        [
            [
                md_escape(b.dimension),
                str(b.strong),
                str(b.mutual),
                "; ".join(
                    f"{md_escape(x.first)} \u2194 {md_escape(x.second)} ({_f(x.first_to_second)} / "
                    f"{_f(x.second_to_first)})"
                    for x in b.examples
                )
                or "\u2013",
            ]
            for b in eco.bridges
        ],
        "lrrl",
    )
    yield f"### Unmet needs ({len(eco.unmet)} of {len(eco.needs)}, coverage below {eco.unmet_below:g})"
    yield ""
    yield from _fits(eco.unmet, "coverage", "provider", names) if eco.unmet else ["None.", ""]
    yield f"### Offers nobody needs ({len(eco.oversupply)} of {len(eco.offers)}, demand below {eco.oversupply_below:g})"
    yield ""
    yield from _fits(eco.oversupply, "demand", "taker", names) if eco.oversupply else ["None.", ""]
    yield "## Settings and reproducibility"
    yield ""
    yield from _table(
        ["setting", "value"], [[md_escape(k), md_escape(v)] for k, v in settings_rows(r) if k != "command"], "ll"
    )
    yield "Reproduce with the same profiles (same version hash):"
    yield ""
    yield "```"
    yield r.command
    yield "```"
