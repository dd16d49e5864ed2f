"""Writing profile sets: a folder of YAML files, or one JSON-lines or Parquet file; always atomically."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

from matchmaker.atomic import new_folder, replacing, write_atomic
from matchmaker.core.errors import MatchmakerError
from matchmaker.core.profile import Item, Profile, Vocabulary
from matchmaker.core.profile_set import ProfileSet
from matchmaker.loading.layout import POPULATION_SUFFIXES, VOCABULARY_FILE, default_profiles_dir
from matchmaker.loading.population_files import parquet_schema
from matchmaker.loading.profiles import read_vocabulary

_BATCH = 4096


def _item_record(item: Item) -> dict[str, Any]:
    return item.model_dump(mode="json", exclude_none=True)


def profile_records(profiles: Iterable[Profile]) -> Iterator[dict[str, Any]]:
    """Each profile as a JSON-ready dict (absent evidence fields left out); equal items are dumped once."""
    dumped: dict[int, dict[str, Any]] = {}

    def item(i: Item) -> dict[str, Any]:
        found = dumped.get(id(i))
        if found is None:
            found = dumped[id(i)] = _item_record(i)
        return found

    for p in profiles:
        record: dict[str, Any] = {
            "id": p.id,
            "name": p.name,
            "aliases": list(p.aliases),
            "country": p.country,
            "presence": list(p.presence),
            "kind": p.kind,
            "sectors": list(p.sectors),
            "summary": p.summary,
            "offers": {d: [item(i) for i in items] for d, items in p.offers.items()},
            "needs": {d: [item(i) for i in items] for d, items in p.needs.items()},
        }
        if p.relations:
            record["relations"] = [r.model_dump(mode="json", exclude_none=True) for r in p.relations]
        if p.government is not None and p.government_evidence is not None:
            record["government"] = p.government
            record["government_evidence"] = p.government_evidence.model_dump(mode="json", exclude_none=True)
        yield record


def _jsonl_lines(profiles: Iterable[Profile]) -> Iterator[bytes]:
    for record in profile_records(profiles):
        yield (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def _write_parquet(profiles: Sequence[Profile], path: Path) -> None:
    import pyarrow as pa  # type: ignore[import-untyped]  # imported here: heavy, and only for Parquet
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    schema = parquet_schema()
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for start in range(0, len(profiles), _BATCH * 4):
            batch = list(profile_records(profiles[start : start + _BATCH * 4]))
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))


class _PlainDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Never anchors and aliases: the reader refuses them, and shared items are written out in full."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _yaml_text(data: Any) -> str:
    return str(yaml.dump(data, Dumper=_PlainDumper, sort_keys=False, allow_unicode=True, width=120))


def vocabulary_text(vocabulary: Vocabulary) -> str:
    return _yaml_text(vocabulary.model_dump(mode="json"))


def write_profiles(profile_set: ProfileSet, out: Path, *, vocabulary_yaml: str | None = None) -> Path:
    """Write ``profile_set`` to ``out`` atomically: a ``.jsonl`` or ``.parquet`` file, otherwise a folder.

    A folder gets one ``<id>.yaml`` a profile and ``_vocabulary.yaml`` (``vocabulary_yaml`` if given,
    so comments survive; else the vocabulary dumped); it must not exist yet or be empty, and appears
    complete or not at all. A file must not exist yet either; its vocabulary is written beside it as
    ``_vocabulary.yaml`` unless it is the shipped one (which readers fall back to). Any other
    extension is refused (``s.txt`` is neither a population file nor a sensible folder name).
    """
    out = Path(out)
    vocabulary_yaml = vocabulary_yaml or vocabulary_text(profile_set.vocabulary)
    one_file = f"end it in {' or '.join(POPULATION_SUFFIXES)} for one file"
    if out.suffix and out.suffix not in POPULATION_SUFFIXES and not out.is_dir():
        raise MatchmakerError(
            f"cannot write profiles to {str(out)!r}: {out.suffix!r} is not a population file; {one_file}, "
            "or give a folder name without an extension"
        )
    if out.suffix in POPULATION_SUFFIXES:
        if not out.parent.is_dir():
            raise MatchmakerError(f"folder {str(out.parent)!r} does not exist; create it first")
        if out.exists():
            raise MatchmakerError(f"{str(out)!r} already exists; remove it or choose a new path (nothing is replaced)")
        _write_vocabulary_beside(profile_set.vocabulary, out, vocabulary_yaml)
        if out.suffix == ".jsonl":
            write_atomic(out, _jsonl_lines(profile_set.profiles))
        else:
            with replacing(out) as temporary:
                _write_parquet(profile_set.profiles, temporary)
        return out
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise MatchmakerError(
            f"{str(out)!r} already exists and is not an empty folder; choose a new path or {one_file}"
        )
    with new_folder(out) as staging:
        (staging / VOCABULARY_FILE).write_text(vocabulary_yaml, encoding="utf-8")
        for record in profile_records(profile_set.profiles):
            (staging / f"{record['id']}.yaml").write_text(_yaml_text(record), encoding="utf-8")
    return out


def _write_vocabulary_beside(vocabulary: Vocabulary, out: Path, text: str) -> None:
    beside = out.parent / VOCABULARY_FILE
    if beside.is_file():
        if read_vocabulary(out.parent) != vocabulary:
            raise MatchmakerError(f"{str(beside)!r} holds a different vocabulary; write the population elsewhere")
        return
    shipped = default_profiles_dir()
    if (shipped / VOCABULARY_FILE).is_file() and read_vocabulary(shipped) == vocabulary:
        return  # readers fall back to the shipped vocabulary
    write_atomic(beside, [text.encode("utf-8")])
