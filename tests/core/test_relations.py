"""Relations between organisations: the checks on a set of profiles and the related pairs they imply."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

from builders import profile
from matchmaker.core.profile import Evidence, Profile, Relation
from matchmaker.core.relations import related_pairs, relation_problems

EV = Evidence(background="test fixture")


def org(org_id: str, *relations: tuple[str, str], government: str | None = None, **extra: Any) -> Profile:
    return profile(
        org_id,
        relations=tuple(Relation(type=t, org=o, evidence=EV) for t, o in relations),  # type: ignore[arg-type]
        government=government,
        government_evidence=EV if government else None,
        **extra,
    )


def messages(*profiles: Profile) -> list[str]:
    return [str(p) for p in relation_problems(profiles)]


class TestRelationProblems:
    def test_consistent_relations_have_no_problems(self) -> None:
        # the inverse declared on the other side, and a partnership declared by both, are one relation each
        assert not messages(
            org("kosh", ("part-of", "mission"), ("partner", "lab")),
            org("mission", ("parent-of", "kosh"), ("funds", "lab")),
            org("lab", ("partner", "kosh"), ("funded-by", "mission")),
        )

    def test_unknown_organisation_suggests_close_ids(self) -> None:
        found = messages(org("kosh", ("part-of", "india-ai-misison")), org("india-ai-mission"))
        assert found == [
            "kosh: relations[0].org: unknown organisation 'india-ai-misison'; did you mean india-ai-mission?"
        ]

    def test_relation_to_itself(self) -> None:
        assert messages(org("kosh", ("partner", "kosh"))) == [
            "kosh: relations[0].org: a relation from kosh to itself; name another organisation"
        ]

    @pytest.mark.parametrize(
        ("profiles", "message"),
        [
            (
                (org("a", ("part-of", "b")), org("b", ("part-of", "a"))),
                "b: relations[0].type: contradicts a's relation: a is part of b, and b is part of a",
            ),
            (
                (org("a", ("part-of", "b"), ("parent-of", "b")), org("b")),
                "a: relations[1].type: contradicts a's relation: a is part of b, and b is part of a",
            ),
            (
                (org("a", ("funds", "b")), org("b", ("funds", "a"))),
                "b: relations[0].type: contradicts a's relation: a funds b, and b funds a",
            ),
            (
                (org("a", ("funded-by", "b")), org("b", ("funded-by", "a"))),
                "b: relations[0].type: contradicts a's relation: b funds a, and a funds b",
            ),
        ],
        ids=["part-of-both-ways", "part-and-parent", "funds-both-ways", "funded-by-both-ways"],
    )
    def test_a_relation_and_its_opposite_contradict(self, profiles: tuple[Profile, ...], message: str) -> None:
        assert messages(*profiles) == [message]

    def test_part_of_cycle(self) -> None:
        found = messages(org("a", ("part-of", "b")), org("b", ("part-of", "c")), org("c", ("part-of", "a")))
        assert found == ["c: relations[0]: part-of cycle: a -> b -> c -> a"]

    def test_unit_of_another_government(self) -> None:
        found = messages(org("kosh", ("part-of", "meti"), government="IN"), org("meti", government="JP"))
        assert found == ["kosh: relations[0]: kosh is part of meti, but their governments differ (IN and JP)"]

    def test_declared_twice(self) -> None:
        found = messages(org("a", ("part-of", "b"), ("parent-of", "c"), ("part-of", "b")), org("b"), org("c"))
        assert found == ["a: relations[2]: declared twice: a is part of b; keep one, with its evidence"]

    def test_problems_name_the_file(self) -> None:
        found = relation_problems([org("kosh", ("partner", "nobody"))], files={"kosh": "ai-kosh.yaml"})
        assert [(p.file, p.field, p.value) for p in found] == [("ai-kosh.yaml", "relations[0].org", "nobody")]


class TestRelatedPairs:
    def test_a_relation_and_its_inverse_relate_the_same_pair(self) -> None:
        declared_by_unit = related_pairs([org("kosh", ("part-of", "mission")), org("mission")])
        declared_by_whole = related_pairs([org("kosh"), org("mission", ("parent-of", "kosh"))])
        assert declared_by_unit == declared_by_whole == {("kosh", "mission"): ("kosh is part of mission",)}

    def test_units_of_one_organisation_are_related_at_any_depth(self) -> None:
        found = related_pairs(
            [org("team", ("part-of", "kosh")), org("kosh", ("part-of", "mission")), org("mission"), org("lab")]
        )
        assert set(found) == {("kosh", "mission"), ("kosh", "team"), ("mission", "team")}
        assert found[("mission", "team")] == ("team is part of mission",)

    def test_same_government(self) -> None:
        found = related_pairs(
            [org("meti", government="JP"), org("mofa", government="JP"), org("mission", government="IN")]
        )
        assert found == {("meti", "mofa"): ("bodies of the same government (JP)",)}

    def test_every_reason_is_kept(self) -> None:
        found = related_pairs([org("meti", ("funds", "aisi"), government="JP"), org("aisi", government="JP")])
        assert found == {("aisi", "meti"): ("meti funds aisi", "bodies of the same government (JP)")}

    def test_relations_outside_the_set_and_to_oneself_are_ignored(self) -> None:
        assert related_pairs([org("kosh", ("part-of", "elsewhere"), ("partner", "kosh"))]) == {}

    @given(
        st.lists(
            st.tuples(
                st.sampled_from(["a", "b", "c", "d"]),
                st.sampled_from(["part-of", "parent-of", "funds", "funded-by", "partner"]),
                st.sampled_from(["a", "b", "c", "d"]),
            ),
            max_size=8,
        ),
        st.lists(st.sampled_from([None, "JP", "IN"]), min_size=4, max_size=4),
    )
    def test_pairs_are_sorted_distinct_and_known(
        self, edges: list[tuple[str, str, str]], governments: list[str | None]
    ) -> None:
        by_org: dict[str, list[tuple[str, str]]] = {o: [] for o in "abcd"}
        for a, kind, b in edges:
            by_org[a].append((kind, b))
        found = related_pairs([org(o, *by_org[o], government=g) for o, g in zip("abcd", governments, strict=True)])
        for a, b in found:
            assert a < b and {a, b} <= set("abcd")
        for a, _, b in edges:
            if a != b:
                assert (min(a, b), max(a, b)) in found


def test_relation_type_and_target_are_checked() -> None:
    with pytest.raises(pydantic.ValidationError, match="'part-of', 'parent-of', 'funds', 'funded-by' or 'partner'"):
        Relation(type="owns", org="b", evidence=EV)  # type: ignore[arg-type]
    with pytest.raises(pydantic.ValidationError, match="String should match pattern"):
        Relation(type="partner", org="Not An Id", evidence=EV)
