from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from builders import VOCABULARY, market
from matchmaker.core.errors import MatchmakerError, ProfileError
from matchmaker.core.profile_set import ProfileSet
from matchmaker.loading import (
    default_profiles_dir,
    load_profiles,
    parse_yaml,
    validate_folder,
    validate_profiles,
    write_profiles,
)
from matchmaker.loading.safe_yaml import _StrictLoader
from matchmaker.synth import synthesise


@pytest.fixture(scope="module")
def population(shipped: ProfileSet) -> ProfileSet:
    return synthesise(shipped, 60, seed=9)


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet", ""], ids=["jsonl", "parquet", "folder"])
def test_round_trip(tmp_path: Path, population: ProfileSet, suffix: str) -> None:
    written = write_profiles(population, tmp_path / f"population{suffix}")
    loaded = load_profiles(written)
    assert sorted(loaded.profiles, key=lambda p: p.id) == sorted(population.profiles, key=lambda p: p.id)
    assert loaded.vocabulary == population.vocabulary and len(loaded.version) == 12
    if not suffix:
        assert (written / "_vocabulary.yaml").is_file() and len(list(written.glob("*.yaml"))) == 61
    else:  # the shipped vocabulary is the fallback, so none is written beside the file
        assert not (tmp_path / "_vocabulary.yaml").exists()


def test_equal_items_are_one_object_after_loading(tmp_path: Path, population: ProfileSet) -> None:
    loaded = load_profiles(write_profiles(population, tmp_path / "p.jsonl"))
    items = [item for p in loaded.profiles for *_, item in p.iter_items()]
    assert len({id(i) for i in items}) == len(set(items)) < len(items)


def test_a_custom_vocabulary_is_written_beside_and_read_back(tmp_path: Path) -> None:
    profile_set = ProfileSet(tuple(market()), VOCABULARY, "market", "x")
    written = write_profiles(profile_set, tmp_path / "market.parquet")
    assert (tmp_path / "_vocabulary.yaml").is_file()
    assert load_profiles(written).vocabulary == VOCABULARY
    other = ProfileSet(tuple(market()), VOCABULARY.model_copy(update={"kinds": ("startup",)}), "m", "x")
    with pytest.raises(MatchmakerError, match="holds a different vocabulary"):
        write_profiles(other, tmp_path / "other.jsonl")


def test_a_folder_is_never_written_over(tmp_path: Path, population: ProfileSet) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "a.yaml").write_text("x")
    with pytest.raises(MatchmakerError, match="already exists and is not an empty folder"):
        write_profiles(population, tmp_path / "taken")
    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["a.yaml"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left behind


def test_a_file_is_never_written_over(tmp_path: Path, population: ProfileSet) -> None:
    (tmp_path / "p.jsonl").write_text("kept")
    with pytest.raises(MatchmakerError, match=r"p.jsonl' already exists; remove it or choose a new path"):
        write_profiles(population, tmp_path / "p.jsonl")
    assert (tmp_path / "p.jsonl").read_text() == "kept"


def test_an_unknown_extension_is_refused_not_made_a_folder(tmp_path: Path, population: ProfileSet) -> None:
    with pytest.raises(MatchmakerError, match=r"'.txt' is not a population file; end it in .jsonl or .parquet"):
        write_profiles(population, tmp_path / "s.txt")
    assert list(tmp_path.iterdir()) == []


def _lines(population: ProfileSet, tmp_path: Path) -> list[str]:
    return (write_profiles(population, tmp_path / "p.jsonl")).read_text().splitlines()


def test_problems_name_the_line_and_field(tmp_path: Path, population: ProfileSet) -> None:
    lines = _lines(population, tmp_path)
    bad = json.loads(lines[1])
    dimension = next(iter(bad["offers"]))
    bad["offers"][dimension][0]["strength"] = 5
    bad["colour"] = "red"
    lines[1] = json.dumps(bad)
    lines[2] = "{not json"
    lines[3] = lines[3].replace('"id":', '"id":"twice","id":', 1)
    lines.append(lines[0])  # a duplicate id
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n\n")
    found, problems = validate_profiles(path)
    messages = [str(p) for p in problems]
    assert found is None
    assert any(
        m.startswith(f"bad.jsonl:2: offers.{dimension}[0].strength: strength must be a whole number") for m in messages
    ), messages
    assert any(m.startswith("bad.jsonl:2: colour: unknown key 'colour'") for m in messages)
    assert any(m.startswith("bad.jsonl:3: invalid JSON") for m in messages)
    assert any(m.startswith("bad.jsonl:4: invalid JSON: duplicate key 'id'") for m in messages)
    assert any("duplicate id" in m and m.startswith("bad.jsonl:61") for m in messages)
    with pytest.raises(ProfileError, match=r"bad\.jsonl:2"):
        load_profiles(path)


def test_parquet_with_an_unknown_column(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"id": ["a"], "colour": ["red"]}), tmp_path / "odd.parquet")
    _, problems = validate_profiles(tmp_path / "odd.parquet")
    assert [str(p) for p in problems] == [
        "odd.parquet: colour: unknown column 'colour'; accepted: id, name, aliases, country, presence, kind, "
        "sectors, summary, offers, needs, relations, government, government_evidence"
    ]
    (tmp_path / "broken.parquet").write_bytes(b"not parquet")
    assert "not a readable Parquet file" in str(validate_profiles(tmp_path / "broken.parquet")[1][0])


def test_unknown_forms_are_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("id\n")
    with pytest.raises(MatchmakerError, match="does not exist or is not a folder"):
        load_profiles(tmp_path / "p.csv")
    with pytest.raises(MatchmakerError, match="does not exist or is not a folder"):
        load_profiles(tmp_path / "missing.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n")
    assert [str(p) for p in validate_folder(tmp_path / "empty.jsonl")[1]] == ["empty.jsonl: no profiles in this file"]


def test_fast_yaml_reads_what_the_strict_loader_reads() -> None:
    for path in sorted(default_profiles_dir().glob("*.yaml")):
        text = path.read_text()
        assert parse_yaml(text) == yaml.load(text, Loader=_StrictLoader)
    scalars = "a: 1\nb: yes\nc: 0x10\nd: 1_000\ne: ~\nf: 2001-12-14\ng: '3'\nh: |\n  x\non: .inf\n"
    assert parse_yaml(scalars) == yaml.load(scalars, Loader=_StrictLoader)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: &x 1\nb: *x\n", "anchors"),
        ("a: 1\na: 2\n", "duplicate key"),
        ("a: !!str b\n", "tags"),
        ("a: 1\n---\nb: 2\n", "another document"),
        ("a: [1, 2\n", "invalid YAML"),
    ],
    ids=["alias", "duplicate", "tag", "documents", "syntax"],
)
def test_fast_yaml_leaves_refusals_to_the_strict_loader(text: str, message: str) -> None:
    with pytest.raises(ProfileError, match=message):
        parse_yaml(text)
