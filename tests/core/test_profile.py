"""The profile model's text rule: trimmed, NFC, no control, bidi-override or zero-width characters."""

from __future__ import annotations

import pydantic
import pytest

from matchmaker.core.profile import Evidence, Item, Profile


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
