"""What the reports say: the pairs, numbers and quotes of `matchmaker pairs`, flagged background claims,
the combination rule, partners, the gap analysis and the settings, in HTML and Markdown."""

from __future__ import annotations

import json
import re
from html import escape

import numpy as np
import pytest

from builders import VOCABULARY, item, market, profile
from matchmaker.application import report as report_model
from matchmaker.application.report import MEDIA_TYPES, ReportOptions, build_report
from matchmaker.core.errors import SettingsError, UnknownOrganisation
from matchmaker.core.population import Population
from matchmaker.core.profile import Evidence, Item, Profile
from matchmaker.core.profile_set import ProfileSet
from matchmaker.core.scoring import profile_need_shares as need_shares
from matchmaker.reports import iter_report, render_report
from matchmaker.reports.markdown import md_escape
from tests.reports.support import (
    GENERATED,
    cli_json,
    fit,
    headline_reference,
    profile_set,
    shipped,
    shipped_built,
    shipped_report,
    workspace,
)

RULE = "harmonic mean of both directions (2ab/(a+b))"


def html() -> str:
    return shipped_report("html").decode("utf-8")


def markdown() -> str:
    return shipped_report("md").decode("utf-8")


def segment(text: str, start: str, end: str | None) -> str:
    """The part of ``text`` from ``start`` up to ``end`` (or the end)."""
    begin = text.index(start)
    stop = text.index(end, begin) if end else len(text)
    return text[begin:stop]


def evidence_of(pair: dict[str, object]) -> list[dict[str, object]]:
    return [r[side]["evidence"] for r in pair["reasons"] for side in ("offer", "need")]  # type: ignore[index, union-attr]


# -- HTML ------------------------------------------------------------------------------------------------


def test_html_headline_table_has_the_pairs_of_matchmaker_pairs_in_order() -> None:
    reference = headline_reference(10)
    table = segment(html(), '<table class="pairs">', "</table>")
    for k, pair in enumerate(reference, 1):
        row = segment(table, f'href="#pick-{k}"', f'href="#pick-{k + 1}"' if k < len(reference) else None)
        assert escape(pair["a_name"]) in row and escape(pair["b_name"]) in row
        breakdown = pair["breakdown"]
        for value in (pair["score"], breakdown["a_to_b"], breakdown["b_to_a"]):
            assert f">{value:.3f}</td>" in row
        mostly = max(breakdown["dimensions"].items(), key=lambda d: d[1]["a_to_b"] + d[1]["b_to_a"])[0]
        assert f"<td>{mostly}</td>" in row


def test_html_pair_cards_show_every_line_with_its_quote_and_source() -> None:
    page = html()
    report = json.loads(shipped_report("json"))
    for k, pair in enumerate(report["pairs"], 1):
        card = segment(page, f'<article class="card" id="pair-{k}">', "</article>")
        b = pair["breakdown"]
        assert f"= <b>{pair['score']:.4f}</b>" in card and RULE in card
        assert f"{b['a_to_b']:.4f}" in card and f"{b['b_to_a']:.4f}" in card and f"{b['reciprocal']:.4f}" in card
        assert card.count('<tr><td class="num" data-label="adds">+') == len(pair["reasons"])
        for reason in pair["reasons"]:
            assert f"+{reason['contribution']:.4f}" in card
            assert escape(reason["offer"]["description"]) in card and escape(reason["need"]["description"]) in card
        for evidence in evidence_of(pair):
            if evidence["background"]:
                assert escape(str(evidence["note"])) in card
            else:
                assert f"&ldquo;{escape(str(evidence['quote']))}&rdquo;" in card
                assert f"source: {escape(str(evidence['source']))}" in card
        # Every background claim is flagged where it appears; its note is written out the first time only.
        flagged = sum(1 for e in evidence_of(pair) if e["background"])
        claims = [r[side] for r in pair["reasons"] for side in ("offer", "need")]
        notes = {(c["description"], c["evidence"].get("note")) for c in claims}
        distinct = sum(1 for _, note in notes if note is not None)
        assert card.count("background knowledge &mdash; not in the sources") == distinct
        assert card.count('<span class="badge bg">background knowledge') == flagged


def test_html_flags_background_knowledge_wherever_it_is_used() -> None:
    population, ps = fit(market()), profile_set(market())  # every claim of the market is background knowledge
    page = render_report(workspace(population, ps), ps, ReportOptions(generated=GENERATED))[0].decode()
    cards = re.findall(r'<article class="card" id="pair-\d+">.*?</article>', page, re.S)
    assert cards
    for card in cards:
        lines = card.count('<tr><td class="num" data-label="adds">+')
        assert lines and card.count('<span class="badge bg">background knowledge') == 2 * lines
        assert "<blockquote>" not in card


def test_html_partner_sections_agree_with_matchmaker_partners() -> None:
    page = html()
    population, _ = shipped()
    for p in population.profiles:
        assert f'id="org-{p.id}"' in page
    reference = cli_json("partners", "highreso", "--top", "5")["partners"]
    card = segment(page, 'id="org-highreso"', "</article>")
    positions = [card.index(escape(partner["name"])) for partner in reference]
    assert positions == sorted(positions)
    for partner in reference:
        assert f">{partner['score']:.3f}</td>" in card
        assert f">{partner['breakdown']['a_to_b']:.3f}</td>" in card  # gives
    assert card.count('<svg class="chart"') == 1


def test_html_ecosystem_section_lists_the_gaps() -> None:
    page = html()
    eco = json.loads(shipped_report("json"))["ecosystem"]
    section = segment(page, '<section id="ecosystem"', "</section>")
    assert f"Unmet needs ({len(eco['unmet_needs'])} of" in section
    for need in eco["unmet_needs"]:
        assert escape(need["description"]) in section and f">{need['coverage']:.3f}</td>" in section
    for offer in eco["oversupply"]:
        assert escape(offer["description"]) in section
    for bridge in eco["bridges"]:
        assert f'<td>{bridge["dimension"]}</td><td class="num">{bridge["strong"]}</td>' in section
    assert f"reaches {eco['bridge_from']:g}" in section


def test_html_states_the_settings_that_reproduce_it() -> None:
    page = html()
    _, ps = shipped()
    section = segment(page, '<section id="settings"', "</section>")
    for text in (
        ps.version,
        GENERATED.isoformat(),
        "data 1, compute 1, talent 1, domain 1",
        "0.25",
        "harmonic: harmonic mean",
        "matchmaker --profiles",
        "--combiner harmonic",
        "--top 10",
    ):
        assert escape(text) in section, text


def test_html_is_self_contained_and_a_sensible_size() -> None:
    page = html()
    population, _ = shipped()
    assert len(page.encode()) < 3_000_000
    assert "<script" not in page.lower() and "@import" not in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page, re.I)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", page, re.I)
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert page.count('<svg class="chart"') == 1 + len(population) + 1  # heatmap, one per organisation, bridges
    assert "@media print" in page and "break-before: page" in page


def hostile() -> list[Profile]:
    def claim(description: str, quote: str) -> tuple[Item, ...]:
        return (Item(description=description, strength=3, evidence=Evidence(source="x<b>.txt", quote=quote)),)

    evil = Profile(
        id="evil",
        name="<script>alert(1)</script> | Evil",
        country="JP",
        kind="corporate",
        sectors=("manufacturing",),
        offers={
            "data": claim("factory sensor data <img src=x onerror=alert(1)>", "</blockquote><script>alert(2)</script>")
        },
        needs={"compute": (item("gpu cloud capacity for model training *bold* [link](http://x)"),)},
    )
    return [*market(), evil]


def test_profile_text_is_escaped_in_html_and_markdown() -> None:
    population, ps = fit(hostile()), profile_set(hostile())
    page = render_report(workspace(population, ps), ps, ReportOptions(generated=GENERATED))[0].decode()
    assert "<script" not in page and "<img" not in page and "<b>.txt" not in page
    assert escape("<script>alert(1)</script> | Evil") in page
    assert escape("</blockquote><script>alert(2)</script>") in page
    text = render_report(workspace(population, ps), ps, ReportOptions(format="md", generated=GENERATED))[0].decode()
    assert "<script>" not in text and "[link](http://x)" not in text
    assert md_escape("<script>alert(1)</script> | Evil") in text
    for line in text.splitlines():  # an escaped | never adds a column
        if line.startswith("| 1 | "):
            assert len(re.findall(r"(?<!\\)\|", line)) == line.count(" | ") + 2


def test_same_inputs_give_the_same_bytes(market_population: Population, market_set: ProfileSet) -> None:
    for fmt in ("html", "md", "json", "csv"):
        options = ReportOptions(format=fmt, generated=GENERATED)
        first = render_report(workspace(market_population, market_set), market_set, options)[0]
        assert render_report(workspace(market_population, market_set), market_set, options)[0] == first, fmt


# -- Markdown --------------------------------------------------------------------------------------------


def test_markdown_has_the_pairs_numbers_quotes_and_sources() -> None:
    text = markdown()
    report = json.loads(shipped_report("json"))
    for k, pair in enumerate(report["pairs"], 1):
        heading = f"### {k}. {md_escape(pair['a_name'])} ({pair['a']}, "
        assert heading in text
        section = segment(text, heading, f"### {k + 1}. " if k < len(report["pairs"]) else "## Partners")
        assert f"= **{pair['score']:.4f}**" in section and RULE in section
        for reason in pair["reasons"]:
            assert f"+{reason['contribution']:.4f}" in section
        for evidence in evidence_of(pair):
            if evidence["background"]:
                assert f"**[background knowledge - not in the sources]** {md_escape(evidence['note'])}" in section
            else:
                assert f"\u201c{md_escape(evidence['quote'])}\u201d (source: `{evidence['source']}`)" in section
    headline = segment(text, "## Top pairings", "## Why each pairing")
    for k, pair in enumerate(report["pairs"], 1):
        assert re.search(
            rf"^\| {k} \| .*\| {pair['score']:.3f} \| {pair['breakdown']['a_to_b']:.3f} \|", headline, re.M
        )
    _, ps = shipped()
    for text_ in (
        ps.version,
        GENERATED.isoformat(),
        "## Ecosystem: gaps and bridges",
        "### Unmet needs",
        "### Offers nobody needs",
        "## Settings and reproducibility",
    ):
        assert text_ in text
    assert text.count("\n### ") >= len(report["pairs"]) + len(report["partners"])


# -- options ---------------------------------------------------------------------------------------------


def test_org_report_lists_the_partners_of_matchmaker_partners() -> None:
    report = json.loads(shipped_report("json", org="highreso"))
    reference = cli_json("partners", "highreso", "--top", "10")["partners"]
    assert [p["a"] for p in report["pairs"]] == ["highreso"] * len(reference)
    assert [(p["b"], p["score"]) for p in report["pairs"]] == [(p["id"], p["score"]) for p in reference]
    assert [s["organisation"]["id"] for s in report["partners"]] == ["highreso"]
    assert report["report"]["organisation"]["id"] == "highreso"


def test_japan_india_pairs_head_the_report_and_same_country_pairs_follow() -> None:
    """The report is about Japan-India partnerships: its headline is the cross-border pairs."""
    report = json.loads(shipped_report("json"))
    expected = [(p["a"], p["b"], p["score"]) for p in headline_reference(10)]
    assert [(p["a"], p["b"], p["score"]) for p in report["pairs"]] == expected
    flags = [p["breakdown"]["cross_border"] for p in report["pairs"]]
    assert flags == sorted(flags, reverse=True) and flags[0] and not flags[-1]
    page = html()
    assert page.index('<section id="bridges">') < page.index('<section id="same-country">') < page.index('id="why"')


def test_cross_border_keeps_the_japan_india_pairs_alone() -> None:
    report = json.loads(shipped_report("json", cross_border=True))
    bridges = cli_json("pairs", "--top", "10", "--cross-border")["pairs"]
    assert [(p["a"], p["b"], p["score"]) for p in report["pairs"]] == [(p["a"], p["b"], p["score"]) for p in bridges]
    for section in report["partners"]:
        assert all(p["breakdown"]["cross_border"] for p in section["partners"])
    assert '<section id="same-country">' not in shipped_report("html", cross_border=True).decode()


def test_enablers_that_can_support_the_pairs_are_in_every_format() -> None:
    built = shipped_built()
    enabling = ("government", "investor", "community", "nonprofit")
    assert built.enablers and all(m.b.kind in enabling for m in built.enablers)
    document = json.loads(shipped_report("json"))
    assert [(p["a"], p["b"]) for p in document["enablers"]] == [(m.a.id, m.b.id) for m in built.enablers]
    section = segment(html(), '<section id="enablers">', "</section>")
    text = segment(markdown(), "## Programmes and funders that can support them", "## Why each pairing")
    for m, shown in zip(built.enablers, document["enablers"], strict=True):
        assert escape(m.b.name) in section and f">{shown['score']:.3f}</td>" in section
        assert md_escape(m.b.name) in text


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (ReportOptions(format="pdf"), "unknown report format 'pdf'; accepted: html, md, csv, json, xlsx"),
        (ReportOptions(top=0), "top must be a whole number from 1 to 1000, got 0"),
        (ReportOptions(partners=101), "partners must be a whole number from 1 to 100, got 101"),
    ],
    ids=["format", "top", "partners"],
)
def test_bad_options_are_refused(
    market_population: Population, market_set: ProfileSet, options: ReportOptions, message: str
) -> None:
    with pytest.raises(SettingsError, match=re.escape(message)):
        render_report(workspace(market_population, market_set), market_set, options)


def test_unknown_organisation_is_refused(market_population: Population, market_set: ProfileSet) -> None:
    with pytest.raises(UnknownOrganisation, match="unknown organisation 'factroy'; did you mean 'factory'"):
        render_report(workspace(market_population, market_set), market_set, ReportOptions(org="factroy"))


@pytest.mark.parametrize("fmt", sorted(MEDIA_TYPES))
def test_render_report_gives_content_and_media_type(
    market_population: Population, market_set: ProfileSet, fmt: str
) -> None:
    content, media_type = render_report(
        workspace(market_population, market_set), market_set, ReportOptions(format=fmt, top=3)
    )
    assert media_type == MEDIA_TYPES[fmt] and content
    if fmt == "xlsx":
        assert content[:2] == b"PK"
    else:
        assert "gpu-host" in content.decode("utf-8")


# -- the report model ------------------------------------------------------------------------------------


def test_every_number_can_be_traced_to_lines() -> None:
    population, _ = shipped()
    report = shipped_built()
    for m in report.pairs:
        for direction, total in (("a_to_b", m.a_to_b), ("b_to_a", m.b_to_a)):
            shown = sum(r.contribution for r in m.reasons if r.direction == direction)
            hidden_pairs = sum(
                len(m.a.offers.get(d, ())) * len(m.b.needs.get(d, ()))
                + len(m.b.offers.get(d, ())) * len(m.a.needs.get(d, ()))
                for d in population.dimensions
            )
            assert total - 0.005 * hidden_pairs - 1e-9 <= shown <= total + 1e-9


def test_heatmap_holds_the_pair_scores() -> None:
    population, _ = shipped()
    report = shipped_built()
    heat = report.heatmap
    assert heat.complete and len(heat.profiles) == len(population)
    assert np.isnan(np.diag(heat.scores)).all()
    np.testing.assert_allclose(heat.scores, heat.scores.T)
    for m in report.pairs:
        i, j = heat.profiles.index(m.a), heat.profiles.index(m.b)
        assert heat.scores[i, j] == pytest.approx(m.score)
    countries = [p.country for p in heat.profiles]
    assert countries == sorted(countries, key=lambda c: {"JP": 0, "IN": 1}.get(c, 2))


def test_large_populations_cap_the_heatmap_and_partner_sections(
    monkeypatch: pytest.MonkeyPatch, market_population: Population, market_set: ProfileSet
) -> None:
    monkeypatch.setattr(report_model, "HEATMAP_LIMIT", 3)
    monkeypatch.setattr(report_model, "PARTNER_SECTIONS_LIMIT", 3)
    report = build_report(workspace(market_population, market_set), market_set, ReportOptions(top=1))
    in_pairs = {report.pairs[0].a.id, report.pairs[0].b.id}
    assert not report.heatmap.complete and {p.id for p in report.heatmap.profiles} == in_pairs
    assert not report.sections_complete and {s.profile.id for s in report.sections} == in_pairs
    page = b"".join(iter_report(report)).decode()
    assert "the population is too large to show all" in page and "the organisations in the top pairings" in page


def test_progress_reports_every_stage(market_population: Population, market_set: ProfileSet) -> None:
    calls: list[tuple[str, int, int]] = []
    report = build_report(
        workspace(market_population, market_set), market_set, ReportOptions(), progress=lambda *a: calls.append(a)
    )
    b"".join(iter_report(report, lambda *a: calls.append(a)))
    stages = list(dict.fromkeys(stage for stage, _, _ in calls))
    assert stages == ["Scoring pairs", "Ranking partners", "Analysing gaps", "Drawing charts"]
    assert all(done <= total for _, done, total in calls)
    assert calls[-1][1] == calls[-1][2]


def test_a_fifth_dimension_from_the_vocabulary_reaches_every_format() -> None:
    """A programme that adds `funding` gets it in every table, chart and count, with no code change."""
    profiles = [
        profile(
            "investor",
            country="JP",
            offers={"funding": "seed investment for ai startups"},
            needs={"data": "indian speech recordings in many languages"},
        ),
        profile(
            "speech",
            country="IN",
            sectors=("languages",),
            offers={"data": "indian speech recordings in many languages"},
            needs={"funding": "seed investment for ai startups"},
        ),
    ]
    population = Population.fit(profiles, dimensions=(*VOCABULARY.dimensions, "funding"))
    ps = profile_set(profiles)
    document = json.loads(render_report(workspace(population, ps), ps, ReportOptions(format="json"))[0])
    assert document["pairs"][0]["breakdown"]["dimensions"]["funding"] == {"a_to_b": 1.0, "b_to_a": 0.0}
    assert [b["strong"] for b in document["ecosystem"]["bridges"] if b["dimension"] == "funding"] == [1]
    assert "funding_a_to_b" in render_report(workspace(population, ps), ps, ReportOptions(format="csv"))[0].decode()
    page = render_report(workspace(population, ps), ps, ReportOptions(format="html"))[0].decode()
    assert '<th class="num">funding</th>' in segment(page, 'id="pair-1"', "</article>")
    assert "funding offers 3, needs 0" in page


def test_dimension_shares_rebuild_each_directions_overall_benefit() -> None:
    """The shares the pair cards print are the scorer's: share x benefit summed gives the direction's number."""
    report = shipped_built()
    for m in report.pairs:
        dims = tuple(m.dimensions)
        for taker, benefit, total in ((m.b, "a_to_b", m.a_to_b), (m.a, "b_to_a", m.b_to_a)):
            shares = need_shares(taker, dims, report.settings)
            assert sum(shares.values()) == pytest.approx(1.0)
            rebuilt = sum(shares[d] * min(1.0, getattr(m.dimensions[d], benefit)) for d in dims)
            assert rebuilt == pytest.approx(total)
