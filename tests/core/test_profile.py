"""The profile model's text rule: trimmed, NFC, no control, bidi-override or zero-width characters."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest

from matchmaker.core.profile import Evidence, Item, Profile, Vocabulary


def _profile(name: str) -> Profile:
    return Profile(id="acme", name=name, country="JP", kind="startup", sectors=("ai",))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: _profile("   "), "String should have at least 1 character"),
        (lambda: Item(description=" \n ", strength=2, evidence=Evidence(background="b")), "at least 3 characters"),
        (lambda: Evidence(source="seed.txt", quote="   too short    "), "at least 15 characters"),
        (lambda: Evidence(source="  ", quote="a quote long enough to count"), "at least 1 character"),
        (lambda: _profile("Acme\u202eCorp"), r"character U\+202E at position 4"),
        (lambda: _profile("Acme\u200bCorp"), r"character U\+200B at position 4"),
    ],
    ids=["blank-name", "blank-description", "short-quote-padded", "blank-source", "bidi-override", "zero-width"],
)
def test_blank_and_hostile_text_is_refused(build: object, message: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=message):
        build()  # type: ignore[operator]


def test_text_is_trimmed_and_nfc_normalised() -> None:
    assert _profile("  Acme Robotics  ").name == "Acme Robotics"
    assert _profile("Cafe\u0301").name == "Caf\u00e9"


class TestGovernment:
    def test_government_needs_its_evidence(self) -> None:
        with pytest.raises(pydantic.ValidationError, match="government needs government_evidence"):
            Profile(id="meti", name="METI", country="JP", kind="government", sectors=("ai",), government="JP")

    def test_evidence_without_government_is_refused(self) -> None:
        with pytest.raises(pydantic.ValidationError, match="government_evidence is given without government"):
            Profile(
                id="meti",
                name="METI",
                country="JP",
                kind="government",
                sectors=("ai",),
                government_evidence=Evidence(background="a ministry"),
            )

    def test_government_is_a_country_code(self) -> None:
        with pytest.raises(pydantic.ValidationError, match="'XX' is not an ISO 3166-1 alpha-2 country code"):
            Profile(
                id="meti",
                name="METI",
                country="JP",
                kind="government",
                sectors=("ai",),
                government="XX",
                government_evidence=Evidence(background="a ministry"),
            )


class TestRoles:
    def _vocabulary(self, roles: dict[str, str]) -> Vocabulary:
        return Vocabulary(
            dimensions={"data": "Data"}, kinds=("government", "startup"), sectors={}, tags={}, roles=roles
        )

    def test_unlisted_kinds_are_counterparts(self) -> None:
        vocabulary = self._vocabulary({"government": "enabler"})
        assert [vocabulary.role(k) for k in vocabulary.kinds] == ["enabler", "counterpart"]

    def test_a_role_for_an_unknown_kind_is_refused(self) -> None:
        with pytest.raises(pydantic.ValidationError, match="roles names the unknown kind 'funder'; the kinds are"):
            self._vocabulary({"funder": "enabler"})

    def test_an_unknown_role_is_refused(self) -> None:
        with pytest.raises(pydantic.ValidationError, match="Input should be 'counterpart' or 'enabler'"):
            self._vocabulary({"government": "sponsor"})

    def test_the_shipped_vocabulary_gives_every_role_a_known_kind(self) -> None:
        # the same check the model makes, on the shipped file: it must load
        from matchmaker.loading import read_vocabulary

        vocabulary = read_vocabulary(Path(__file__).parents[2] / "profiles")
        assert set(vocabulary.roles) <= set(vocabulary.kinds)
