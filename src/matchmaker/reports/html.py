"""The HTML report: one self-contained file (inline CSS and SVG charts, no scripts, fonts or links).

The first pages carry the decision: the summary, then the recommended introductions, Japan-India
pairs first, each with the reasons that make its score and whether each claim is quoted or rests on
background knowledge, then the same-country pairs and the programmes and funders that can support
them. The details follow (every offer-to-need line with its quote, each organisation's partners, the
ecosystem, the settings), starting on a new page in print.

A Content-Security-Policy of ``default-src 'none'`` makes the promise checkable: even a browser
that wanted to fetch something from the file is not allowed to. All profile text is escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from html import escape

from matchmaker.application.report import Report
from matchmaker.core.ecosystem import Ecosystem, ItemFit
from matchmaker.core.errors import counted
from matchmaker.core.population import Match, Reason
from matchmaker.core.profile import STRENGTH_LABELS, Item, Profile
from matchmaker.core.scoring import profile_need_shares
from matchmaker.reports.charts import bridges_svg, heatmap_svg, strength_svg
from matchmaker.reports.html_style import CSS
from matchmaker.reports.tables import best_reasons, settings_rows
from matchmaker.views import ROUND

Progress = Callable[[str, int, int], None]
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


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
        self.ranks = {id(m): k for k, m in enumerate(report.pairs, 1)}

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
    def mark(item: Item, *, sources: bool = True) -> str:
        """Where a claim comes from, in a few words, right after the claim: its source, or the flag."""
        if item.evidence.is_background:
            return ' <span class="badge bg">background knowledge</span>'
        return f' <span class="source">[{_e(item.evidence.source)}]</span>' if sources else ""

    @staticmethod
    def num(value: float, places: int = 3, cls: str = "", label: str = "") -> str:
        zero = " zero" if round(float(value), ROUND) == 0 else ""
        data = f' data-label="{_e(label)}"' if label else ""
        return f'<td class="num{zero}{" " + cls if cls else ""}"{data}>{_f(value, places)}</td>'

    def claim_line(self, reason: Reason, *, sources: bool = True) -> str:
        """One reason as a sentence: who offers what, to meet what need, each claim with its evidence mark
        (its source file, or the background-knowledge flag; ``sources`` False: the flag alone)."""
        offer, need = reason.offer, reason.need
        return (
            f'<span class="badge dim">{_e(reason.dimension)}</span> {_e(self.profiles[offer.org].name)} offers '
            f"&ldquo;{_e(offer.item.description)}&rdquo;{self.mark(offer.item, sources=sources)} &rarr; "
            f"{_e(self.profiles[need.org].name)} needs &ldquo;{_e(need.item.description)}&rdquo;"
            f"{self.mark(need.item, sources=sources)}"
        )

    def reason_cell(self, match: Match) -> str:
        """The strongest reason of a match for a table cell (the background flag beside its claim)."""
        return self.claim_line(best_reasons(match, 1)[0], sources=False) if match.reasons else "&ndash;"

    # -- the decision ------------------------------------------------------------------------------

    def header(self) -> str:
        r = self.report
        eco = r.ecosystem
        countries = ", ".join(f"{n} {_e(c)}" for c, n in r.countries.items())
        scope = f" &middot; focus: {self.org(r.focus, link=False)}" if r.focus else ""
        first, second = eco.bridge
        bridge = r.best_bridge
        same = next((m for m in r.pairs if not m.cross_border), None)
        strongest = max(eco.bridges, key=lambda b: b.strong, default=None)
        kpis = [
            (
                _f(bridge.score) if bridge else "&ndash;",
                f"best {_e(first)}&#8596;{_e(second)} pairing: {_e(bridge.a.name)} &times; {_e(bridge.b.name)}"
                if bridge
                else f"no {_e(first)}&#8596;{_e(second)} pairing scored above 0",
            ),
            (
                _f(same.score) if same else "&ndash;",
                f"best same-country pairing: {_e(same.a.name)} &times; {_e(same.b.name)}"
                if same
                else "no same-country pairing listed",
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
            ("summary", "Summary"),
            ("bridges", f"{self.bridge[0]}&ndash;{self.bridge[1]} pairings"),
            ("same-country", "Same-country pairings"),
            ("enablers", "Programmes and funders that can support them"),
            ("why", "Why each pairing: every line and its quote"),
            ("partners", "Partners by organisation"),
            ("ecosystem", "Ecosystem: gaps and bridges"),
            ("settings", "Settings and reproducibility"),
        ]
        links = "".join(f'<li><a href="#{a}">{t}</a></li>' for a, t in items)
        return f'<nav class="toc" aria-label="Contents"><b>Contents</b><ol>{links}</ol></nav>'

    def summary(self) -> str:
        r = self.report
        s = r.settings
        first, second = s.bridge
        bridges = [m for m in r.pairs if m.cross_border]
        others = [m for m in r.pairs if not m.cross_border]
        shown = [ref for m in r.pairs for reason in best_reasons(m) for ref in (reason.offer, reason.need)]
        background = sum(1 for ref in shown if ref.item.evidence.is_background)
        if r.focus is not None:
            what = f"the best partners of {self.org(r.focus, link=False)}"
        else:
            what = f"the best pairings of {r.organisations} organisations"
        enablers = counted(len(r.enablers), "programme or funder", "programmes and funders")
        same = (
            f", then {counted(len(others), 'same-country pairing')}"
            if not r.options.cross_border
            else " (same-country pairings left out: --cross-border)"
        )
        return f"""<section id="summary"><h2>Summary</h2>
<p>This report recommends introductions: {what}, {counted(len(bridges), f"{_e(first)}&ndash;{_e(second)} pairing")}
first{same}, each with the offer&rarr;need lines that make its score. {enablers} that can support them follow.
Of the claims shown below, {counted(background, "rests", "rest")} on
<span class="badge bg">background knowledge</span> rather than a quoted source: check those before an introduction.
The quotes, the arithmetic of every score, each organisation's partners and the gaps of the ecosystem are in the
details after them.</p>
{self.overview()}
<p class="note">A score weighs what one organisation <b>offers</b> against what the other <b>needs</b>, per dimension
({_e(", ".join(r.dimensions))}), in both directions, combined by the {_e(s.combiner_entry.description)}; sector fit
(weight {s.sector_weight:g}) and the {_e(first)}&ndash;{_e(second)} preference (weight {s.cross_border_weight:g})
can lower a score but never create one. Scores are relative: compare them within this report.</p></section>"""

    def overview(self) -> str:
        """Every headline pair in one table: the score, both directions and the dimension most of it is in.

        The benefit in each dimension is in the pair's details (``pair_card``).
        """
        r = self.report
        if not r.pairs:
            return "<p>No pairing has a score above 0: nothing one organisation offers meets another's needs.</p>"
        rows = []
        for k, m in enumerate(r.pairs, 1):
            mostly = max(m.dimensions, key=lambda d: m.dimensions[d].a_to_b + m.dimensions[d].b_to_a)
            rows.append(
                f'<tr><td class="num"><a href="#pick-{k}">{k}</a></td>'
                f"<td>{self.org(m.a)}{self.bridge_badge(m)}</td><td>{self.org(m.b)}</td>"
                f"{self.num(m.score, cls='score')}{self.num(m.a_to_b)}{self.num(m.b_to_a)}<td>{_e(mostly)}</td></tr>"
            )
        return (
            '<div class="scroll"><table class="pairs"><thead><tr><th class="num">#</th><th>A</th><th>B</th>'
            '<th class="num">score</th><th class="num">A&rarr;B</th><th class="num">B&rarr;A</th>'
            f"<th>mostly in</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        )

    def pick(self, m: Match) -> str:
        """One recommended introduction, in a few lines: who, the score, the best reasons and their evidence."""
        rank = self.ranks.get(id(m), 0)
        reasons = "".join(f"<li>{self.claim_line(reason)}</li>" for reason in best_reasons(m))
        shown = len(best_reasons(m))
        more = (
            f'<a href="#pair-{rank}">all {len(m.reasons)} lines, their quotes and the arithmetic</a>'
            if len(m.reasons) > shown
            else f'<a href="#pair-{rank}">the quotes and the arithmetic</a>'
        )
        related = f'<p class="note">Already connected: {_e("; ".join(m.connections))}.</p>' if m.connections else ""
        return (
            f'<article class="pick{" bridge" if m.cross_border else ""}" id="pick-{rank}">'
            f'<h3><span class="who">{rank}. {self.org(m.a)} &times; {self.org(m.b)}{self.bridge_badge(m)}</span>'
            f'<span class="score">{_f(m.score)}</span></h3>'
            f'<p class="small muted">{_e(m.a.name)} gives {_f(m.a_to_b, 2)}, gets {_f(m.b_to_a, 2)} '
            f"(how well each side's offers meet the other's needs, 0 to 1)</p>{related}"
            f'<ol class="reasons">{reasons or "<li>no offer meets a need</li>"}</ol>'
            f'<p class="more">{more}</p></article>'
        )

    def headline(self) -> Iterator[str]:
        r = self.report
        first, second = self.bridge
        bridges = [m for m in r.pairs if m.cross_border]
        others = [m for m in r.pairs if not m.cross_border]
        yield (
            f'<section id="bridges"><h2>{_e(first)}&ndash;{_e(second)} pairings</h2><p class="lead">'
            f"The best {_e(first)}&ndash;{_e(second)} introductions, best first.</p>"
        )
        none = f'<p class="note">No {_e(first)}&ndash;{_e(second)} pairing scored above 0.</p>'
        yield "".join(self.pick(m) for m in bridges) or none
        yield "</section>"
        if r.options.cross_border:
            return
        yield (
            '<section id="same-country"><h2>Same-country pairings</h2><p class="lead">Pairings within one '
            f"country among the best {r.options.top} overall, best first.</p>"
        )
        yield "".join(self.pick(m) for m in others) or '<p class="note">None among the best pairings.</p>'
        yield "</section>"

    def enablers(self) -> str:
        r = self.report
        rows = "".join(
            f'<tr><td>{self.org(m.a)}</td><td>{self.org(m.b)} <span class="muted small">{_e(m.b.kind)}</span></td>'
            f"{self.num(m.score, cls='score')}"
            f'<td class="small">{self.reason_cell(m)}</td></tr>'
            for m in r.enablers
        )
        body = (
            '<div class="scroll"><table><thead><tr><th>organisation</th><th>programme or funder</th>'
            f'<th class="num">score</th><th>strongest reason</th></tr></thead><tbody>{rows}</tbody></table></div>'
            if rows
            else '<p class="note">No programme or funder scored above 0 with the organisations above.</p>'
        )
        return (
            '<section id="enablers"><h2>Programmes and funders that can support them</h2><p class="lead">'
            "Enablers (government bodies, investors, communities and non-profits) are not introduced as partners; "
            f"these are the ones whose offers best meet the needs of the organisations above.</p>{body}</section>"
        )

    # -- the details -------------------------------------------------------------------------------

    @staticmethod
    def claim(item: Item, seen: set[int]) -> str:
        """A claim with its evidence; a claim already shown in this card refers to it instead of repeating it."""
        label = STRENGTH_LABELS[item.strength]
        if id(item) in seen:
            evidence = (
                ' <span class="badge bg">background knowledge</span> <span class="source">(note above)</span>'
                if item.evidence.is_background
                else ' <span class="source">(quoted above)</span>'
            )
        else:
            seen.add(id(item))
            evidence = _Html.evidence(item)
        return f'{_e(item.description)} <span class="strength">(strength {item.strength}, {label})</span>{evidence}'

    def line(self, reason: Reason, giver: str, taker: str, seen: set[int]) -> str:
        # Each claim carries its own evidence (quote or background flag) in its own cell: a flag never
        # sits beside the other side's claim, nor in a cell too narrow for it.
        return (
            f'<tr><td class="num" data-label="adds">+{_f(reason.contribution, 4)}</td>'
            f'<td data-label="dimension">{_e(reason.dimension)}</td>'
            f'<td data-label="{_e(giver)} offers">{self.claim(reason.offer.item, seen)}</td>'
            f'<td data-label="{_e(taker)} needs">{self.claim(reason.need.item, seen)}</td>'
            f"{self.num(reason.similarity, 2, label='similarity')}</tr>"
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
            f'<div class="scroll"><table class="dims"><thead><tr><th>benefit</th>{head}<th class="num">overall</th>'
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
            '<p class="note">Overall = &Sigma; share &times; benefit. A dimension\'s share is its weight times '
            "how much the receiving side needs it (its strongest need there &divide; 3), normalised to add up to 1.</p>"
        ]
        seen: set[int] = set()
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
                f'<th class="num">similarity</th></tr></thead><tbody>'
                f"{''.join(self.line(r, giver.name, taker.name, seen) for r in lines)}</tbody></table>"
            )
            shown = sum(r.contribution for r in lines)
            if round(total - shown, ROUND) > 0:
                parts.append(
                    f'<p class="note">These lines add up to {_f(shown, 4)} of {_f(total, 4)}; the rest comes '
                    "from item pairs contributing under 0.005 each.</p>"
                )
        parts.append("</article>")
        return "".join(parts)

    def why(self) -> Iterator[str]:
        yield (
            '<div class="details-start"><p class="lead"><b>Details.</b> What follows supports the recommendations '
            'above: read it to check a claim before an introduction.</p></div><section id="why"><h2>Why each '
            'pairing: every line and its quote</h2><p class="lead">For each pairing, the offer&rarr;need lines that '
            "make its score, largest contribution first, each claim with its quote and source or its "
            "background-knowledge flag. A line's contribution is its share of that direction's benefit.</p>"
        )
        for rank, m in enumerate(self.report.pairs, 1):
            yield self.pair_card(rank, m)
        if not self.report.pairs:
            yield '<p class="note">No pairing to explain.</p>'
        yield "</section>"

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
            f'<section id="partners"><h2>Partners by organisation</h2><p class="lead">The best '
            f"{r.options.partners} partners of {scope}{cross}. <b>Gives</b>: how well the organisation's offers "
            "meet the partner's needs; <b>gets</b>: the reverse. The chart compares what it "
            f'<span class="legend-offer">offers</span> with what it <span class="legend-need">needs</span> '
            "in each dimension (summed strength of its items, on one scale for every organisation).</p>"
        )
        limit = max([*(max([*s.offered.values(), *s.needed.values()]) for s in sections), 1])
        for k, section in enumerate(sections, 1):
            p = section.profile
            chart = strength_svg(section, r.dimensions, limit, prefix=f"org{k}")
            self.chart_drawn()
            rows = "".join(
                f'<tr><td class="num">{n}</td><td class="who">{self.org(m.b)}{self.bridge_badge(m)}</td>'
                f"{self.num(m.score, cls='score')}{self.num(m.a_to_b)}{self.num(m.b_to_a)}"
                f'<td class="small">{self.reason_cell(m)}</td></tr>'
                for n, m in enumerate(section.partners, 1)
            )
            table = (
                f'<div class="scroll"><table><thead><tr><th class="num">#</th><th>partner</th>'
                f'<th class="num">score</th><th class="num">gives</th><th class="num">gets</th>'
                f"<th>strongest reason</th></tr></thead><tbody>{rows}</tbody></table></div>"
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
        eco: Ecosystem = r.ecosystem
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
            f'<div class="scroll"><table>{heads.format(item="need", measure="coverage", other="provider")}<tbody>'
            f"{self.fit_rows(eco.unmet, profiles)}</tbody></table></div>"
            if eco.unmet
            else "<p>Every need is covered at least that well by someone.</p>"
        )
        over = (
            f'<div class="scroll"><table>{heads.format(item="offer", measure="demand", other="taker")}<tbody>'
            f"{self.fit_rows(eco.oversupply, profiles)}</tbody></table></div>"
            if eco.oversupply
            else "<p>Every offer is needed at least that much by someone.</p>"
        )
        heat = r.heatmap
        scope = (
            f"all {len(heat.profiles)} organisations"
            if heat.complete
            else f"the {len(heat.profiles)} organisations in the pairings above "
            "(the population is too large to show all)"
        )
        chart = bridges_svg(eco)
        self.chart_drawn()
        heatmap = heatmap_svg(heat)
        self.chart_drawn()
        return f"""<section id="ecosystem"><h2>Ecosystem: gaps and bridges</h2>
<p class="lead">Population-wide, from the same item vectors as the scores. A need's <b>coverage</b> is the best
support any other single organisation's offers give it: the maximum over organisations of
min(1, &Sigma; offer strength/3 &times; similarity), the offers taken in the same dimension &mdash; the very term
the score weighs that need by. An offer's <b>demand</b> is the same from the other side (need strength/3). Both run
from 0 (nothing alike) to 1 (a central item that says the same thing).</p>
<h3>Strong {_e(first)}&#8596;{_e(second)} bridges per dimension</h3>
<p class="note">A bridge is one of the {eco.bridge_pairs} {_e(first)}&ndash;{_e(second)} pairs whose benefit in a
dimension (the per-dimension number of the pair tables) reaches {eco.bridge_from:g} in at least one direction.</p>
<div class="org"><figure>{chart}</figure><div class="scroll"><table><thead><tr><th>dimension</th>
<th class="num">strong</th><th class="num">both ways</th><th>strongest ({_e(first)}&rarr;{_e(second)} /
{_e(second)}&rarr;{_e(first)})</th></tr></thead><tbody>{bridges}</tbody></table></div></div>
<h3>Unmet needs ({len(eco.unmet)} of {len(eco.needs)} needs, coverage below {eco.unmet_below:g})</h3>
<p class="note">Nobody in the population offers anything close to these: candidates for new members, funding
calls or programmes. Most important first.</p>{unmet}
<h3>Offers nobody needs ({len(eco.oversupply)} of {len(eco.offers)} offers, demand below
{eco.oversupply_below:g})</h3>
<p class="note">Capabilities on offer that no organisation here asks for: oversupply in this population, or needs
that the profiles do not yet record. Strongest first.</p>{over}
<h3>Every pair score</h3>
<figure class="wide">{heatmap}<figcaption>Pair scores among {scope}, grouped by country (lines separate the
countries); declined pairs and the diagonal are grey. The matrix is symmetric; cells below 0.05 carry no
number.</figcaption></figure></section>"""

    def settings(self) -> str:
        rows = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in settings_rows(self.report) if k != "command")
        return (
            f'<section id="settings"><h2>Settings and reproducibility</h2><dl class="settings">{rows}'
            "</dl><p>The same profiles (same version hash) and this command give the same numbers:</p>"
            f'<pre class="command">{_e(self.report.command)}</pre></section>'
        )

    def document(self) -> Iterator[str]:
        r = self.report
        if self.progress is not None:
            self.progress("Drawing charts", 0, self.charts_total)
        yield (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="referrer" content="no-referrer"><link rel="icon" href="data:,">'
            f'<meta name="generator" content="matchmaker {_e(r.version)}">'
            f"<title>{_e(r.options.title)}</title><style>{CSS}</style></head><body>"
        )
        yield self.header()
        yield "<main>"
        yield self.contents()
        yield self.summary()
        yield from self.headline()
        yield self.enablers()
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
