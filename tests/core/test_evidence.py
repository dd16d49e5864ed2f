"""Quote checks over every kind of evidence, and the warnings on doubtful quotes."""

from __future__ import annotations

from matchmaker.core.evidence import evidence_warnings, normalise_text, quote_problems
from matchmaker.core.profile import Evidence, Item, Profile, Relation

SOURCE = "s.txt"
TEXT = normalise_text(
    "AI\u2011Kosh: Dataset marketplace \u2013 >9,000 datasets. Japan's aging population stores expertise in heads. "
    "SoftBank will spearhead the effort in collaboration with Preferred Networks Inc."
)


def quoted(quote: str) -> Evidence:
    return Evidence(source=SOURCE, quote=quote)


def org(org_id: str, *quotes: str, name: str | None = None, aliases: tuple[str, ...] = (), **extra: object) -> Profile:
    items = tuple(Item(description=f"claim {i}", strength=2, evidence=quoted(q)) for i, q in enumerate(quotes))
    return Profile(
        id=org_id,
        name=name or org_id.title(),
        aliases=aliases,
        country="JP",
        kind="corporate",
        sectors=("ai",),
        offers={"domain": items} if items else {},
        **extra,  # type: ignore[arg-type]
    )


def test_relation_and_government_quotes_are_checked() -> None:
    p = org(
        "kosh",
        relations=(Relation(type="part-of", org="mission", evidence=quoted("AI-Kosh is part of the Mission")),),
        government="IN",
        government_evidence=quoted("a body of the Government of India"),
    )
    assert [problem.field for problem in quote_problems(p, {SOURCE: TEXT})] == [
        "relations[0].evidence.quote",
        "government_evidence.quote",
    ]


def test_found_quotes_have_no_problems() -> None:
    p = org(
        "kosh",
        "AI-Kosh: Dataset marketplace - >9,000 datasets",
        relations=(Relation(type="part-of", org="mission", evidence=quoted("AI-Kosh: Dataset marketplace")),),
    )
    assert quote_problems(p, {SOURCE: TEXT}) == []


class TestWarnings:
    def test_a_short_quote_is_warned_about_wherever_it_is(self) -> None:
        p = org(
            "kosh",
            "AI-Kosh: Dataset marketplace",
            relations=(Relation(type="part-of", org="mission", evidence=quoted("AI-Kosh: Dataset marketplace")),),
        )
        found = evidence_warnings([("ai-kosh.yaml", p)])
        assert [(w.file, w.field, w.value) for w in found] == [
            ("ai-kosh.yaml", "offers.domain[0].evidence.quote", "AI-Kosh: Dataset marketplace"),
            ("ai-kosh.yaml", "relations[0].evidence.quote", "AI-Kosh: Dataset marketplace"),
        ]
        assert "quote has 3 words (fewer than 6)" in found[0].message

    def test_the_word_count_is_configurable(self) -> None:
        p = org("kosh", "AI-Kosh: Dataset marketplace")
        assert evidence_warnings([("k.yaml", p)], min_words=3) == []

    def test_one_quote_for_several_organisations(self) -> None:
        generic = "Japan's aging population stores expertise in heads."
        found = evidence_warnings([("a.yaml", org("acme", generic)), ("b.yaml", org("beta", generic.upper()))])
        assert [(w.file, w.field) for w in found] == [
            ("a.yaml", "offers.domain[0].evidence.quote"),
            ("b.yaml", "offers.domain[0].evidence.quote"),
        ]
        assert found[0].message.startswith("the same quote is the evidence of acme, beta;")

    def test_a_shared_quote_that_names_the_organisation_is_not_warned_about(self) -> None:
        both = "SoftBank will spearhead the effort in collaboration with Preferred Networks Inc."
        found = evidence_warnings(
            [
                ("s.yaml", org("softbank", both, name="SoftBank Group", aliases=("SoftBank",))),
                ("p.yaml", org("preferred-networks", both, name="Preferred Networks")),
                ("x.yaml", org("xyz", both)),
            ]
        )
        assert [w.file for w in found] == ["x.yaml"]

    def test_names_match_whole_words_only(self) -> None:
        # "UP" must not be found inside "startups"
        shared = "Agile startups act as connectors between standards bodies."
        found = evidence_warnings([("u.yaml", org("up", shared, name="UP")), ("o.yaml", org("other", shared))])
        assert [w.file for w in found] == ["o.yaml", "u.yaml"]

    def test_one_organisation_reusing_its_own_quote_is_fine(self) -> None:
        line = "Japan's aging population stores expertise in heads."
        assert evidence_warnings([("a.yaml", org("acme", line, line))]) == []

    def test_background_items_are_not_warned_about(self) -> None:
        item = Item(description="GPUs", strength=2, evidence=Evidence(background="known"))
        p = Profile(id="a", name="A", country="JP", kind="corporate", sectors=("ai",), needs={"compute": (item,)})
        assert evidence_warnings([("a.yaml", p), ("b.yaml", p.model_copy(update={"id": "b"}))]) == []
