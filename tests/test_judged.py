"""The judged set of the quality benchmark, and the shipped profiles' relations it relies on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import PROFILES
from matchmaker.core.evidence import evidence_warnings, normalise_text
from matchmaker.core.relations import related_pairs, relation_problems
from matchmaker.loading import load_folder, read_sources

JUDGED = Path(__file__).parent / "data" / "quality" / "judged.yaml"


@pytest.fixture(scope="module")
def judged() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(JUDGED.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def shipped() -> Any:
    return load_folder(PROFILES)


def _pair(pair: list[str]) -> tuple[str, str]:
    a, b = sorted(pair)
    return a, b


def test_judgements_are_well_formed(judged: dict[str, Any], shipped: Any) -> None:
    ids = {p.id for p in shipped.profiles}
    seen: set[tuple[str, str]] = set()
    for entry in judged["pairs"]:
        pair = _pair(entry["pair"])
        assert set(pair) <= ids and pair[0] != pair[1], entry["pair"]
        assert pair not in seen, f"{pair} judged twice"
        seen.add(pair)
        assert entry["grade"] in (1, 2), entry
        assert entry["why"] and entry["quotes"], entry


def test_opportunities_are_the_five_of_seed_000_and_embodied_by_judged_pairs(judged: dict[str, Any]) -> None:
    graded = {_pair(e["pair"]) for e in judged["pairs"]}
    assert [o["id"] for o in judged["opportunities"]] == [1, 2, 3, 4, 5]
    for opportunity in judged["opportunities"]:
        assert opportunity["pairs"], opportunity["id"]
        for pair in [*opportunity["pairs"], *opportunity.get("supported_by", [])]:
            assert _pair(pair) in graded, (opportunity["id"], pair)


def test_related_organisations_are_never_judged_partners(judged: dict[str, Any], shipped: Any) -> None:
    related = related_pairs(shipped.profiles)
    graded = {_pair(e["pair"]) for e in judged["pairs"]}
    assert not graded & set(related)
    for entry in judged["related_in_seeds"]:
        assert _pair(entry["pair"]) in related, f"{entry['pair']} are related in the seeds but not in the profiles"


def test_every_judged_quote_is_in_its_seed(judged: dict[str, Any], seeds: Path) -> None:
    texts = read_sources(seeds)
    quotes = [q for e in judged["pairs"] for q in e["quotes"]] + [e["quote"] for e in judged["related_in_seeds"]]
    quotes += [{"source": "000_740288d10d6fbf25.txt", "quote": o["quote"]} for o in judged["opportunities"]]
    missing = [q["quote"] for q in quotes if normalise_text(q["quote"]) not in texts[q["source"]]]
    assert missing == []


def test_shipped_relations_have_no_problems(shipped: Any) -> None:
    assert relation_problems(shipped.profiles) == []


def test_shipped_profiles_have_no_evidence_warnings(shipped: Any) -> None:
    assert evidence_warnings((f"{p.id}.yaml", p) for p in shipped.profiles) == []
