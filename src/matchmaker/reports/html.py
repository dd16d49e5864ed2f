"""The HTML report: one self-contained file (inline CSS and SVG charts, no scripts, fonts or links).

A Content-Security-Policy of ``default-src 'none'`` makes the promise checkable: even a browser
that wanted to fetch something from the file is not allowed to. All profile text is escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from html import escape

from matchmaker.application.report import Heatmap, Report
from matchmaker.core.ecosystem import Ecosystem, ItemFit
from matchmaker.core.population import Match, Reason
from matchmaker.core.profile import STRENGTH_LABELS, Item, Profile
from matchmaker.core.scoring import profile_need_shares
from matchmaker.reports.charts import NEED_COLOUR, OFFER_COLOUR, bridges_svg, heatmap_svg, strength_svg
from matchmaker.reports.tables import settings_rows
from matchmaker.views import ROUND

Progress = Callable[[str, int, int], None]

CSS = """
:root { --ink: #1b1f24; --muted: #5b6470; --line: #d8dde3; --soft: #f4f6f8; --accent: #1d4e89;
        --offer: OFFER; --need: NEED; --warn-bg: #fff4d6; --warn: #7a5200; }
* { box-sizing: border-box; }
html { font-size: 15px; }
body { margin: 0; color: var(--ink); background: #fff; line-height: 1.45;
       font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", Arial, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 0 28px 48px; }
header.top { background: var(--accent); color: #fff; padding: 28px 0 22px; margin-bottom: 24px; }
header.top > div { max-width: 1120px; margin: 0 auto; padding: 0 28px; }
header.top h1 { margin: 0 0 6px; font-size: 1.75rem; font-weight: 650; }
header.top p { margin: 0; opacity: .92; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 12px; margin: 18px 0 0; }
.kpi { background: rgba(255,255,255,.12); border: 1px solid rgba(255,255,255,.25); border-radius: 8px;
       padding: 10px 12px; }
.kpi b { display: block; font-size: 1.35rem; font-weight: 650; }
.kpi span { font-size: .85rem; opacity: .95; }
h2 { font-size: 1.35rem; margin: 36px 0 10px; padding-bottom: 6px; border-bottom: 2px solid var(--accent);
     color: var(--accent); }
h3 { font-size: 1.08rem; margin: 0 0 6px; }
h4 { font-size: .95rem; margin: 14px 0 6px; color: var(--muted); }
p.lead { color: var(--muted); margin-top: 0; }
nav.toc { background: var(--soft); border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px; }
nav.toc ol { margin: 4px 0; padding-left: 20px; columns: 2; }
a { color: var(--accent); }
table { border-collapse: collapse; width: 100%; margin: 8px 0 14px; font-size: .86rem; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 7px; text-align: left; vertical-align: top;
         overflow-wrap: anywhere; }
thead th { background: var(--soft); font-weight: 600; border-bottom: 2px solid var(--line); }
tbody tr:nth-child(even) { background: #fafbfc; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.zero { color: #a3abb5; }
td.score { font-weight: 650; }
.muted { color: var(--muted); }
.small { font-size: .82rem; }
.badge { display: inline-block; font-size: .72rem; font-weight: 600; padding: 1px 7px; border-radius: 999px;
         border: 1px solid currentColor; white-space: nowrap; vertical-align: 1px;
         -webkit-print-color-adjust: exact; print-color-adjust: exact; }
.badge.bridge { color: #0b5d3b; background: #e3f4ea; }
.badge.bg { color: var(--warn); background: var(--warn-bg); }
.badge.dim { color: var(--accent); background: #e8eef7; }
.card { border: 1px solid var(--line); border-radius: 10px; padding: 14px 18px; margin: 14px 0; background: #fff; }
.pair-score { float: right; font-size: 1.3rem; font-weight: 700; color: var(--accent); margin-left: 12px; }
.formula { background: var(--soft); border-radius: 6px; padding: 8px 10px; font-size: .86rem; }
.formula code { font-size: .84rem; }
table.lines { table-layout: fixed; }
table.lines col.c-num { width: 5.4em; }
table.lines col.c-sim { width: 6.6em; }
table.lines col.c-dim { width: 6.6em; }
table.dims { width: auto; min-width: 60%; }
table.dims th[scope=row] { background: none; font-weight: 600; white-space: nowrap; }
.strength { color: var(--muted); font-size: .8rem; white-space: nowrap; }
blockquote { margin: 4px 0 2px; padding: 1px 8px; border-left: 3px solid #b8c4d3; color: #333; font-size: .82rem; }
blockquote cite { display: block; font-style: normal; color: var(--muted); font-size: .76rem; overflow-wrap: anywhere; }
.background { margin: 4px 0 2px; padding: 3px 8px; background: var(--warn-bg); border-left: 3px solid #e0a100;
              font-size: .8rem; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
.org { display: grid; grid-template-columns: minmax(280px, 380px) 1fr; gap: 18px; align-items: start; }
figure { margin: 10px 0; }
figure.wide { text-align: center; }
figcaption { font-size: .82rem; color: var(--muted); margin-top: 4px; }
svg.chart { max-width: 100%; height: auto; }
figure.wide svg.chart { width: 100%; max-width: 880px; }
.note { font-size: .84rem; color: var(--muted); }
dl.settings { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; font-size: .88rem; }
dl.settings dt { font-weight: 600; }
dl.settings dd { margin: 0; overflow-wrap: anywhere; }
pre.command { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: 10px;
              white-space: pre-wrap; overflow-wrap: anywhere; font-size: .8rem; }
.legend-offer { color: var(--offer); font-weight: 600; }
.legend-need { color: var(--need); font-weight: 600; }
footer { margin-top: 40px; font-size: .8rem; color: var(--muted); border-top: 1px solid var(--line);
         padding-top: 10px; }
@media (max-width: 760px) { .org { grid-template-columns: 1fr; } nav.toc ol { columns: 1; } }
@page { size: A4; margin: 13mm 11mm; }
@media print {
  html { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  header.top { background: none; color: var(--ink); padding: 0 0 8px; border-bottom: 2px solid var(--accent); }
  header.top > div { padding: 0; }
  .kpi { background: none; border-color: var(--line); }
  section.page { break-before: page; }
  h2, h3, h4 { break-after: avoid; }
  .card.org-card, figure, tr { break-inside: avoid; }
  table { font-size: 8pt; }
  thead { display: table-header-group; }
  a { color: inherit; text-decoration: none; }
  nav.toc { display: none; }
  .org { grid-template-columns: 1fr 1.4fr; }
}
"""


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _f(value: float, places: int = 3) -> str:
    return f"{round(float(value), ROUND):.{places}f}"


class _Html:
    """Renders one report; holds the small lookups every section uses."""

    def __init__(self, report: Report, progress: Progress | None = None) -> None:
        self.report = report
        self.progress = progress
        self.charts_total = len(report.sections) + 2  # the heatmap, one per organisation, the bridges
        self.charts_done = 0
        self.anchors = {s.profile.id for s in report.sections}
        self.bridge = report.settings.bridge
        self.profiles = {p.id: p for p in report.profiles}

    # -- small pieces -------------------------------------------------------------------------------

    def org(self, profile: Profile, *, link: bool = True) -> str:
        name = _e(profile.name)
        if link and profile.id in self.anchors:
            name = f'<a href="#org-{_e(profile.id)}">{name}</a>'
        return f'{name} <span class="muted small">({_e(profile.id)}, {_e(profile.country)})</span>'

    def bridge_badge(self, match: Match) -> str:
        first, second = self.bridge
        return f' <span class="badge bridge">{_e(first)}&#8596;{_e(second)}</span>' if match.cross_border else ""

    @staticmethod
    def evidence(item: Item) -> str:
        ev = item.evidence
        if ev.is_background:
            return (
                '<div class="background"><span class="badge bg">background knowledge &mdash; not in the '
                f"sources</span> {_e(ev.background)}</div>"
            )
        return f"<blockquote>&ldquo;{_e(ev.quote)}&rdquo;<cite>source: {_e(ev.source)}</cite></blockquote>"

    @staticmethod
    def num(value: float, places: int = 3, cls: str = "") -> str:
        zero = " zero" if round(float(value), ROUND) == 0 else ""
        return f'<td class="num{zero}{" " + cls if cls else ""}">{_f(value, places)}</td>'

    # -- sections -----------------------------------------------------------------------------------

    def header(self) -> str:
        r = self.report
        eco = r.ecosystem
        countries = ", ".join(f"{n} {_e(c)}" for c, n in r.countries.items())
        scope = f" &middot; focus: {self.org(r.focus, link=False)}" if r.focus else ""
        best = r.pairs[0] if r.pairs else None
        first, second = eco.bridge
        strongest = max(eco.bridges, key=lambda b: b.strong, default=None)
        bridge = r.best_bridge
        kpis = [
            (
                f"{_f(best.score)}" if best else "&ndash;",
                f"top pairing: {_e(best.a.name)} &times; {_e(best.b.name)}" if best else "no pairing scored above 0",
            ),
            (
                f"{_f(bridge.score)}" if bridge else "&ndash;",
                f"best {_e(first)}&#8596;{_e(second)} pairing: {_e(bridge.a.name)} &times; {_e(bridge.b.name)}"
                if bridge
                else f"no {_e(first)}&#8596;{_e(second)} pairing scored above 0",
            ),
            (str(len(eco.unmet)), f"unmet needs (coverage below {eco.unmet_below:g})"),
            (str(len(eco.oversupply)), f"offers nobody needs (demand below {eco.oversupply_below:g})"),
            (
                str(sum(b.strong for b in eco.bridges)),
                f"strong {_e(first)}&#8596;{_e(second)} bridges"
                + (f", most in {_e(strongest.dimension)}" if strongest and strongest.strong else ""),
            ),
        ]
        cards = "".join(f'<div class="kpi"><b>{v}</b><span>{label}</span></div>' for v, label in kpis)
        return (
            f'<header class="top"><div><h1>{_e(r.options.title)}</h1>'
            f"<p>{r.organisations} organisations ({countries}){scope} &middot; profile set "
            f"<code>{_e(r.profile_set.version)}</code> &middot; "
            f"generated {_e(r.generated.strftime('%d %b %Y %H:%M UTC'))}"
            f'</p><div class="kpis">{cards}</div></div></header>'
        )

    def contents(self) -> str:
        items = [
            ("how", "How to read this report"),
            ("pairs", "Top pairings"),
            ("why", "Why each pairing"),
            ("partners", "Partners by organisation"),
            ("ecosystem", "Ecosystem: gaps and bridges"),
            ("settings", "Settings and reproducibility"),
        ]
        links = "".join(f'<li><a href="#{a}">{t}</a></li>' for a, t in items)
        return f'<nav class="toc" aria-label="Contents"><b>Contents</b><ol>{links}</ol></nav>'

    def how(self) -> str:
        s = self.report.settings
        first, second = s.bridge
        return f"""<section id="how"><h2>How to read this report</h2>
<p>Each pairing is scored on what one organisation <b>offers</b> against what the other <b>needs</b>, in each
dimension ({_e(", ".join(self.report.dimensions))}). <b>A&rarr;B</b> is how well A's offers meet B's needs (0 to 1),
<b>B&rarr;A</b> the reverse. The two directions are combined by the <b>{_e(s.combiner_entry.description)}</b>,
then scaled by sector fit (weight {s.sector_weight:g}) and the {_e(first)}&ndash;{_e(second)} preference
(weight {s.cross_border_weight:g}); these can lower a score but never create one.</p>
<p>Every offer&rarr;need line below cites its evidence: a verbatim <b>quote</b> with its <b>source document</b>, or
<span class="badge bg">background knowledge &mdash; not in the sources</span> where a claim rests on general knowledge
instead of the documents. Check those before an introduction.</p></section>"""

    def headline(self) -> Iterator[str]:
        r = self.report
        dims = r.dimensions
        title = "Top pairings"
        if r.focus is not None:
            lead = f"The best partners of {self.org(r.focus, link=False)}, best first."
        elif r.options.cross_border:
            first, second = self.bridge
            lead = (
                f"The top {r.options.top} {_e(first)}&ndash;{_e(second)} pairings first, then the other pairings "
                "among the overall top."
            )
        else:
            lead = f"The top {r.options.top} pairings in the population, best first."
        yield (
            f'<section id="pairs" class="page"><h2>{title}</h2>'
            f'<p class="lead">{lead} Per dimension: A&rarr;B / B&rarr;A.</p>'
        )
        if not r.pairs:
            yield "<p>No pairing has a score above 0: nothing one organisation offers meets another's needs.</p>"
        else:
            dim_heads = "".join(f'<th class="num" colspan="2">{_e(d)}</th>' for d in dims)
            sub = "".join('<th class="num">A&rarr;B</th><th class="num">B&rarr;A</th>' for _ in dims)
            rows = []
            for k, m in enumerate(r.pairs, 1):
                per = "".join(self.num(m.dimensions[d].a_to_b) + self.num(m.dimensions[d].b_to_a) for d in dims)
                rows.append(
                    f'<tr><td class="num"><a href="#pair-{k}">{k}</a></td>'
                    f"<td>{self.org(m.a)}{self.bridge_badge(m)}</td><td>{self.org(m.b)}</td>"
                    f"{self.num(m.score, cls='score')}{self.num(m.a_to_b)}{self.num(m.b_to_a)}{per}</tr>"
                )
            yield (
                f'<table class="pairs"><thead><tr><th rowspan="2" class="num">#</th><th rowspan="2">A</th>'
                f'<th rowspan="2">B</th><th rowspan="2" class="num">score</th><th rowspan="2" class="num">A&rarr;B</th>'
                f'<th rowspan="2" class="num">B&rarr;A</th>{dim_heads}</tr><tr>{sub}</tr></thead>'
                f"<tbody>{''.join(rows)}</tbody></table>"
            )
        heat = r.heatmap
        scope = (
            "every organisation"
            if heat.complete
            else f"the {len(heat.profiles)} organisations in the pairings above "
            "(the population is too large to show all)"
        )
        yield (
            f'<figure class="wide">{self.heatmap(heat)}<figcaption>Pair scores among {scope}, grouped by country '
            "(lines separate the countries). The matrix is symmetric; cells below 0.05 carry no number.</figcaption>"
            "</figure></section>"
        )

    @staticmethod
    def claim(item: Item) -> str:
        label = STRENGTH_LABELS[item.strength]
        return (
            f'{_e(item.description)} <span class="strength">(strength {item.strength}, {label})</span>'
            f"{_Html.evidence(item)}"
        )

    def line(self, reason: Reason) -> str:
        flag = (
            '<br><span class="badge bg">background knowledge</span>'
            if reason.offer.item.evidence.is_background or reason.need.item.evidence.is_background
            else ""
        )
        return (
            f'<tr><td class="num">+{_f(reason.contribution, 4)}</td><td>{_e(reason.dimension)}{flag}</td>'
            f"<td>{self.claim(reason.offer.item)}</td><td>{self.claim(reason.need.item)}</td>"
            f"{self.num(reason.similarity, 2)}</tr>"
        )

    def pair_card(self, rank: int, m: Match) -> str:
        s = self.report.settings
        rule = s.combiner_entry.description.split(":")[0]
        x = 1 if m.cross_border else 0
        formula = (
            f"A&rarr;B {_f(m.a_to_b, 4)} and B&rarr;A {_f(m.b_to_a, 4)}, combined by the {_e(rule)} = "
            f"{_f(m.reciprocal, 4)}; &times; (1 + {s.sector_weight:g} &times; sector fit {_f(m.sector_fit, 4)}"
            f" + {s.cross_border_weight:g} &times; cross-border {x}) &divide; (1 + {s.sector_weight:g} + "
            f"{s.cross_border_weight:g}) = <b>{_f(m.score, 4)}</b>"
        )
        dims = tuple(m.dimensions)
        head = "".join(f'<th class="num">{_e(d)}</th>' for d in dims)
        rows = []
        for giver, taker, total, benefit in ((m.a, m.b, m.a_to_b, "a_to_b"), (m.b, m.a, m.b_to_a, "b_to_a")):
            shares = profile_need_shares(taker, dims, s)
            values = "".join(self.num(getattr(m.dimensions[d], benefit), 4) for d in dims)
            weights = "".join(self.num(shares[d], 3) for d in dims)
            rows.append(
                f'<tr><th scope="row">{_e(giver.id)} &rarr; {_e(taker.id)}</th>{values}'
                f'{self.num(total, 4, "score")}</tr><tr class="muted small"><th scope="row">share in '
                f"{_e(giver.id)} &rarr; {_e(taker.id)}</th>{weights}<td></td></tr>"
            )
        parts = [
            f'<article class="card" id="pair-{rank}"><span class="pair-score">{_f(m.score)}</span>'
            f"<h3>{rank}. {self.org(m.a)} &times; {self.org(m.b)}{self.bridge_badge(m)}</h3>"
            f'<p class="formula">{formula}</p>'
            f'<table class="dims"><thead><tr><th>benefit</th>{head}<th class="num">overall</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>"
            '<p class="note">Overall = &Sigma; share &times; benefit. A dimension\'s share is its weight times '
            "how much the receiving side needs it (its strongest need there &divide; 3), normalised to add up to 1.</p>"
        ]
        for direction, giver, taker, total in (("a_to_b", m.a, m.b, m.a_to_b), ("b_to_a", m.b, m.a, m.b_to_a)):
            lines = [r for r in m.reasons if r.direction == direction]
            parts.append(
                f"<h4>What {_e(giver.name)} offers {_e(taker.name)} "
                f"({_e(giver.id)} &rarr; {_e(taker.id)} {_f(total, 4)})</h4>"
            )
            if not lines:
                parts.append(f'<p class="note">Nothing {_e(giver.name)} offers meets a need of {_e(taker.name)}.</p>')
                continue
            parts.append(
                '<table class="lines"><colgroup><col class="c-num"><col class="c-dim"><col><col>'
                '<col class="c-sim"></colgroup><thead><tr><th class="num">adds</th><th>dimension</th>'
                f"<th>{_e(giver.name)} offers</th><th>{_e(taker.name)} needs</th>"
                f'<th class="num">similarity</th></tr></thead><tbody>{"".join(self.line(r) for r in lines)}'
                "</tbody></table>"
            )
            shown = sum(r.contribution for r in lines)
            if round(total - shown, ROUND) > 0:
                parts.append(
                    f'<p class="note">These lines add up to {_f(shown, 4)} of {_f(total, 4)}; the rest comes '
                    "from item pairs contributing under 0.005 each.</p>"
                )
        parts.append("</article>")
        return "".join(parts)

    def reason_summary(self, reason: Reason) -> str:
        """One line: dimension, who offers what to whom; the pair sections carry the evidence."""
        flag = (
            ' <span class="badge bg">background knowledge</span>'
            if reason.offer.item.evidence.is_background or reason.need.item.evidence.is_background
            else ""
        )
        offer, need = reason.offer, reason.need
        return (
            f'<span class="badge dim">{_e(reason.dimension)}</span>{flag} {_e(self.profiles[offer.org].name)} '
            f"offers &ldquo;{_e(offer.item.description)}&rdquo; &rarr; {_e(self.profiles[need.org].name)} needs "
            f"&ldquo;{_e(need.item.description)}&rdquo;"
        )

    def why(self) -> Iterator[str]:
        yield (
            '<section id="why" class="page"><h2>Why each pairing</h2><p class="lead">For each pairing, the '
            "offer&rarr;need lines that make its score, largest contribution first, each with its evidence. "
            "A line's contribution is its share of that direction's benefit.</p>"
        )
        for rank, m in enumerate(self.report.pairs, 1):
            yield self.pair_card(rank, m)
        if not self.report.pairs:
            yield '<p class="note">No pairing to explain.</p>'
        yield "</section>"

    def heatmap(self, heat: Heatmap) -> str:
        if self.progress is not None:
            self.progress("Drawing charts", 0, self.charts_total)
        chart = heatmap_svg(heat)
        self.chart_drawn()
        return chart

    def bridges(self, eco: Ecosystem) -> str:
        chart = bridges_svg(eco)
        self.chart_drawn()
        return chart

    def chart_drawn(self) -> None:
        self.charts_done += 1
        if self.progress is not None:
            self.progress("Drawing charts", self.charts_done, self.charts_total)

    def partners(self) -> Iterator[str]:
        r = self.report
        sections = r.sections
        scope = (
            "every organisation"
            if r.sections_complete
            else "the organisation asked about"
            if r.focus
            else "the organisations in the top pairings"
        )
        cross = f" ({self.bridge[0]}&ndash;{self.bridge[1]} partners only)" if r.options.cross_border else ""
        yield (
            f'<section id="partners" class="page"><h2>Partners by organisation</h2><p class="lead">The best '
            f"{r.options.partners} partners of {scope}{cross}. <b>Gives</b>: how well the organisation's offers "
            "meet the partner's needs; <b>gets</b>: the reverse. The chart compares what it "
            f'<span class="legend-offer">offers</span> with what it <span class="legend-need">needs</span> '
            "in each dimension (summed strength of its items).</p>"
        )
        limit = max([*(max([*s.offered.values(), *s.needed.values()]) for s in sections), 1])
        for k, section in enumerate(sections, 1):
            p = section.profile
            chart = strength_svg(section, r.dimensions, limit, prefix=f"org{k}")
            self.chart_drawn()
            rows = "".join(
                f'<tr><td class="num">{n}</td><td>{self.org(m.b)}{self.bridge_badge(m)}</td>'
                f"{self.num(m.score, cls='score')}{self.num(m.a_to_b)}{self.num(m.b_to_a)}"
                f'<td class="small">{self.reason_summary(m.reasons[0]) if m.reasons else "&ndash;"}</td></tr>'
                for n, m in enumerate(section.partners, 1)
            )
            table = (
                f'<table><thead><tr><th class="num">#</th><th>partner</th><th class="num">score</th>'
                f'<th class="num">gives</th><th class="num">gets</th><th>strongest reason</th></tr></thead>'
                f"<tbody>{rows}</tbody></table>"
                if rows
                else '<p class="note">No partner has a score above 0.</p>'
            )
            yield (
                f'<article class="card org-card" id="org-{_e(p.id)}"><h3>{_e(p.name)} '
                f'<span class="muted small">({_e(p.id)}, '
                f"{_e(p.country)}, {_e(p.kind)}; {_e(', '.join(p.sectors))})</span></h3>"
                f'<div class="org"><figure>{chart}</figure><div>{table}</div></div></article>'
            )
        yield "</section>"

    @staticmethod
    def fit_rows(fits: tuple[ItemFit, ...], profiles: dict[str, Profile]) -> str:
        rows = []
        for f in fits:
            ev = f.ref.item.evidence
            evidence = (
                f'<span class="badge bg">background knowledge</span> {_e(ev.background)}'
                if ev.is_background
                else f'&ldquo;{_e(ev.quote)}&rdquo; <span class="muted">({_e(ev.source)})</span>'
            )
            closest = _e(profiles[f.best_org].name) if f.best_org else "&ndash;"
            rows.append(
                f"<tr><td>{_e(profiles[f.ref.org].name)}</td><td>{_e(f.ref.dimension)}</td>"
                f'<td>{_e(f.ref.item.description)}</td><td class="num">{f.ref.item.strength}</td>'
                f'{_Html.num(f.best)}<td>{closest}</td><td class="small">{evidence}</td></tr>'
            )
        return "".join(rows)

    def ecosystem(self) -> str:
        r = self.report
        eco = r.ecosystem
        first, second = eco.bridge
        profiles = self.profiles
        bridges = "".join(
            f'<tr><td>{_e(b.dimension)}</td><td class="num">{b.strong}</td><td class="num">{b.mutual}</td><td>'
            + "; ".join(
                f"{_e(x.first)} &harr; {_e(x.second)} ({_f(x.first_to_second)} / {_f(x.second_to_first)})"
                for x in b.examples
            )
            + "</td></tr>"
            for b in eco.bridges
        )
        heads = (
            '<thead><tr><th>organisation</th><th>dimension</th><th>{item}</th><th class="num">strength</th>'
            '<th class="num">{measure}</th><th>closest {other}</th><th>evidence</th></tr></thead>'
        )
        unmet = (
            f"<table>{heads.format(item='need', measure='coverage', other='provider')}<tbody>"
            f"{self.fit_rows(eco.unmet, profiles)}</tbody></table>"
            if eco.unmet
            else "<p>Every need is covered at least that well by someone.</p>"
        )
        over = (
            f"<table>{heads.format(item='offer', measure='demand', other='taker')}<tbody>"
            f"{self.fit_rows(eco.oversupply, profiles)}</tbody></table>"
            if eco.oversupply
            else "<p>Every offer is needed at least that much by someone.</p>"
        )
        return f"""<section id="ecosystem" class="page"><h2>Ecosystem: gaps and bridges</h2>
<p class="lead">Population-wide, from the same item vectors as the scores. A need's <b>coverage</b> is the best
support any other single organisation's offers give it: the maximum over organisations of
min(1, &Sigma; offer strength/3 &times; similarity), the offers taken in the same dimension &mdash; the very term
the score weighs that need by. An offer's <b>demand</b> is the same from the other side (need strength/3). Both run
from 0 (nothing alike) to 1 (a central item that says the same thing).</p>
<h3>Strong {_e(first)}&#8596;{_e(second)} bridges per dimension</h3>
<p class="note">A bridge is one of the {eco.bridge_pairs} {_e(first)}&ndash;{_e(second)} pairs whose benefit in a
dimension (the per-dimension number of the pair tables) reaches {eco.bridge_from:g} in at least one direction.</p>
<div class="org"><figure>{self.bridges(eco)}</figure><div><table><thead><tr><th>dimension</th>
<th class="num">strong</th><th class="num">both ways</th><th>strongest ({_e(first)}&rarr;{_e(second)} /
{_e(second)}&rarr;{_e(first)})</th></tr></thead><tbody>{bridges}</tbody></table></div></div>
<h3>Unmet needs ({len(eco.unmet)} of {len(eco.needs)} needs, coverage below {eco.unmet_below:g})</h3>
<p class="note">Nobody in the population offers anything close to these: candidates for new members, funding
calls or programmes. Most important first.</p>{unmet}
<h3>Offers nobody needs ({len(eco.oversupply)} of {len(eco.offers)} offers, demand below
{eco.oversupply_below:g})</h3>
<p class="note">Capabilities on offer that no organisation here asks for: oversupply in this population, or needs
that the profiles do not yet record. Strongest first.</p>{over}</section>"""

    def settings(self) -> str:
        rows = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in settings_rows(self.report) if k != "command")
        return (
            f'<section id="settings" class="page"><h2>Settings and reproducibility</h2><dl class="settings">{rows}'
            "</dl><p>The same profiles (same version hash) and this command give the same numbers:</p>"
            f'<pre class="command">{_e(self.report.command)}</pre></section>'
        )

    def document(self) -> Iterator[str]:
        r = self.report
        css = CSS.replace("OFFER", OFFER_COLOUR).replace("NEED", NEED_COLOUR)
        yield (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
            'img-src data:">'
            '<meta name="referrer" content="no-referrer"><link rel="icon" href="data:,">'
            f'<meta name="generator" content="matchmaker {_e(r.version)}">'
            f"<title>{_e(r.options.title)}</title><style>{css}</style></head><body>"
        )
        yield self.header()
        yield "<main>"
        yield self.contents()
        yield self.how()
        yield from self.headline()
        yield from self.why()
        yield from self.partners()
        yield self.ecosystem()
        yield self.settings()
        yield (
            f"<footer>Generated by matchmaker {_e(r.version)} on {_e(r.generated.isoformat())} from profile set "
            f"{_e(r.profile_set.version)}. Scores rank complementarity; they are a starting point for an "
            "introduction, not a verdict.</footer></main></body></html>\n"
        )


def iter_html(report: Report, progress: Progress | None = None) -> Iterator[str]:
    """The HTML report in pieces (so a writer can stream it); join them for the whole document."""
    return _Html(report, progress).document()
