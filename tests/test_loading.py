from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
import yaml

from builders import VOCABULARY
from matchmaker.core.errors import MatchmakerError, ProfileError
from matchmaker.loading import MAX_FILE_BYTES, load_folder, parse_yaml, validate_folder

GOOD = """\
id: acme
name: Acme
country: JP
presence: [JP, IN]
kind: corporate
sectors: [manufacturing]
summary: Makes things.
offers:
  data:
    - description: Factory sensor data from production lines.
      strength: 3
      tags: [industrial-data]
      evidence:
        source: doc.txt
        quote: "high-quality, well-curated data from manufacturing"
needs:
  compute:
    - description: GPU cloud capacity.
      strength: 2
      tags: [gpu-cloud]
      evidence:
        background: Everyone training models needs GPUs.
"""
SOURCE = "Japan has high\u2011quality, well\u2011curated   data from manufacturing and healthcare."


def write_folder(root: Path, files: dict[str, str | bytes]) -> Path:
    folder = root / "profiles"
    folder.mkdir()
    (folder / "_vocabulary.yaml").write_text(yaml.safe_dump(VOCABULARY.model_dump(mode="json")))
    for name, content in files.items():
        path = folder / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return folder


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    folder = tmp_path / "sources"
    folder.mkdir()
    (folder / "doc.txt").write_text(SOURCE)
    return folder


def problems_for(tmp_path: Path, files: dict[str, str | bytes], sources: Path | None = None) -> list[str]:
    profile_set, problems = validate_folder(write_folder(tmp_path, files), sources)
    assert (profile_set is None) == bool(problems)
    return [str(p) for p in problems]


def test_good_profile_loads_with_quotes_checked(tmp_path: Path, sources: Path) -> None:
    profile_set = load_folder(write_folder(tmp_path, {"acme.yaml": GOOD}), sources)
    assert [p.id for p in profile_set.profiles] == ["acme"]
    assert len(profile_set.version) == 12


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("name: Acme", "name: Acme\ncolour: red"),
            "acme.yaml: colour: unknown key 'colour'; accepted: id, name, aliases, country",
        ),
        (("name: Acme\n", ""), "acme.yaml: name: missing required field 'name'"),
        (
            ("strength: 3", "strength: 5"),
            "acme.yaml: offers.data[0].strength: strength must be a whole number from 1 to 3 (1 minor, 2 substantial, "
            "3 central), got 5",
        ),
        (
            ("      tags: [industrial-data]", "      tags: [industrial-data]\n      score: 9"),
            "acme.yaml: offers.data[0].score: unknown key 'score'; accepted: description, strength, tags, attributes, "
            "evidence",
        ),
        (
            ("        source: doc.txt", "        source: doc.txt\n        page: 3"),
            "acme.yaml: offers.data[0].evidence.page: unknown key 'page'; accepted: source, quote, background",
        ),
        (
            ("  data:", "  money:"),
            "acme.yaml: offers.money: unknown dimension 'money'; accepted: compute, data, domain, talent",
        ),
        (("[industrial-data]", "[steel]"), "acme.yaml: offers.data[0].tags: unknown tag 'steel'"),
        (
            ("sectors: [manufacturing]", "sectors: [mining]"),
            "acme.yaml: sectors[0]: unknown sector 'mining'; accepted:",
        ),
        (("kind: corporate", "kind: guild"), "acme.yaml: kind: unknown kind 'guild'; accepted: corporate, government"),
        (("country: JP", "country: XX"), "acme.yaml: country: Value error, 'XX' is not an ISO 3166-1 alpha-2"),
        (("id: acme", "id: other"), "acme.yaml: id: id 'other' must equal the file name stem 'acme'"),
        (("name: Acme", 'name: "Acme\\u202e"'), "acme.yaml: name: Value error, contains the character U+202E"),
        (
            ("        background: Everyone training models needs GPUs.", "        quote: a quote with no source named"),
            "acme.yaml: needs.compute[0].evidence: Value error, a quoted claim needs both source and quote",
        ),
    ],
    ids=[
        "unknown-key",
        "missing",
        "strength",
        "item-key",
        "evidence-key",
        "dimension",
        "tag",
        "sector",
        "kind",
        "country",
        "id-stem",
        "bidi",
        "evidence-form",
    ],
)
def test_each_problem_is_named(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    found = problems_for(tmp_path, {"acme.yaml": GOOD.replace(*change, 1)})
    assert any(p.startswith(expected) for p in found), found


def test_quote_not_in_source(tmp_path: Path, sources: Path) -> None:
    bad = GOOD.replace("well-curated data from manufacturing", "well-curated data from shipping")
    assert problems_for(tmp_path, {"acme.yaml": bad}, sources) == [
        "acme.yaml: offers.data[0].evidence.quote: quote not found in doc.txt: "
        "'high-quality, well-curated data from shipping'"
    ]


def test_unknown_source_document(tmp_path: Path, sources: Path) -> None:
    found = problems_for(tmp_path, {"acme.yaml": GOOD.replace("source: doc.txt", "source: nope.txt")}, sources)
    assert found == ["acme.yaml: offers.data[0].evidence.source: unknown source document 'nope.txt'; accepted: doc.txt"]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    found = problems_for(
        tmp_path,
        {
            "acme.yaml": GOOD.replace("strength: 3", "strength: 0").replace("name: Acme", "name: Acme\nlogo: x"),
            "beta.yaml": GOOD.replace("id: acme", "id: beta").replace("[gpu-cloud]", "[warp-drive]"),
            "broken.yaml": "id: [unclosed",
        },
    )
    assert len(found) == 4
    assert sum("broken.yaml" in p for p in found) == 1


def test_duplicate_ids(tmp_path: Path) -> None:
    from matchmaker.core.profile import Profile
    from matchmaker.loading import check_profiles

    profile = Profile.model_validate(yaml.safe_load(GOOD))
    found = check_profiles([("a.yaml", profile), ("b.yaml", profile)], VOCABULARY, None)
    assert [str(p) for p in found] == ["b.yaml: id: duplicate id 'acme'; also used in a.yaml"]


ALIAS_BOMB = textwrap.dedent("""\
    a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
    b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
    c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
    d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
    e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
    f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
    """)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (ALIAS_BOMB, "invalid YAML: YAML anchors (&name) are not accepted"),
        ("a: *x\n", "invalid YAML: YAML aliases (*name) are not accepted"),
        ("a: !!python/object:os.system {}\n", "invalid YAML: YAML tags (tag:yaml.org,2002:python/object:os.system)"),
        ("a: !custom 1\n", "invalid YAML: YAML tags (!custom) are not accepted"),
        ("id: a\nid: b\n", "invalid YAML: duplicate key 'id'"),
    ],
    ids=["alias-bomb", "alias", "python-tag", "custom-tag", "duplicate-key"],
)
def test_hostile_yaml_is_refused(content: str, expected: str) -> None:
    with pytest.raises(ProfileError, match=expected.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")):
        parse_yaml(content, "evil.yaml")


def test_alias_bomb_is_small_and_refused_in_a_folder(tmp_path: Path) -> None:
    assert len(ALIAS_BOMB.encode()) < 400
    assert any("anchors" in p for p in problems_for(tmp_path, {"bomb.yaml": ALIAS_BOMB}))


def test_size_cap(tmp_path: Path) -> None:
    found = problems_for(tmp_path, {"big.yaml": "a: " + "x" * MAX_FILE_BYTES})
    assert found == [f"big.yaml: file is {MAX_FILE_BYTES + 3} bytes; at most {MAX_FILE_BYTES} bytes are accepted"]


def test_not_utf8(tmp_path: Path) -> None:
    assert problems_for(tmp_path, {"latin.yaml": "name: caf\xe9\n".encode("latin-1")}) == [
        "latin.yaml: not UTF-8 (invalid byte at position 9)"
    ]


def test_symlink_leaving_the_folder(tmp_path: Path) -> None:
    outside = tmp_path / "secret.yaml"
    outside.write_text(GOOD)
    folder = write_folder(tmp_path, {})
    os.symlink(outside, folder / "acme.yaml")
    _, problems = validate_folder(folder)
    assert [p.message for p in problems] == ["symbolic link leaves the profile folder; not accepted"]


def test_not_a_mapping(tmp_path: Path) -> None:
    assert problems_for(tmp_path, {"list.yaml": "- a\n- b\n"}) == [
        'list.yaml: ["a", "b"]: a profile must be a YAML mapping of fields'.replace('["a", "b"]: ', "")
    ]


def test_missing_vocabulary_and_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    _, problems = validate_folder(tmp_path / "empty")
    assert "has no _vocabulary.yaml" in problems[0].message
    with pytest.raises(MatchmakerError, match=r"profile folder '.*nowhere' does not exist"):
        validate_folder(tmp_path / "nowhere")


def test_empty_folder(tmp_path: Path) -> None:
    assert problems_for(tmp_path, {}) == [f"{tmp_path / 'profiles'}: no profile files (*.yaml) in this folder"]
