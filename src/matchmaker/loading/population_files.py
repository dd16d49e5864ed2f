"""Population files: one JSON-lines or Parquet file holding a whole population, read row by row."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from matchmaker.core.errors import MatchmakerError, Problem, ProfileError
from matchmaker.core.profile import Profile
from matchmaker.core.profile_set import ProfileSet
from matchmaker.loading.layout import POPULATION_SUFFIXES, population_vocabulary_path
from matchmaker.loading.profiles import ItemCache, check_profiles, parse_profile, read_sources, read_vocabulary
from matchmaker.loading.safe_yaml import MAX_FILE_BYTES

_BATCH = 4096


@lru_cache(maxsize=1)
def parquet_schema() -> Any:
    """The Parquet layout of a population: one row a profile, offers and needs as maps of item lists."""
    import pyarrow as pa  # type: ignore[import-untyped]  # imported here: heavy, and only for Parquet

    evidence = pa.struct([("source", pa.string()), ("quote", pa.string()), ("background", pa.string())])
    item = pa.struct(
        [
            ("description", pa.string()),
            ("strength", pa.int64()),
            ("tags", pa.list_(pa.string())),
            ("evidence", evidence),
        ]
    )
    side = pa.map_(pa.string(), pa.list_(item))
    relation = pa.struct([("type", pa.string()), ("org", pa.string()), ("evidence", evidence)])
    return pa.schema(
        [
            ("id", pa.string()),
            ("name", pa.string()),
            ("aliases", pa.list_(pa.string())),
            ("country", pa.string()),
            ("presence", pa.list_(pa.string())),
            ("kind", pa.string()),
            ("sectors", pa.list_(pa.string())),
            ("summary", pa.string()),
            ("offers", side),
            ("needs", side),
            ("relations", pa.list_(relation)),
            ("government", pa.string()),
            ("government_evidence", evidence),
        ]
    )


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):  # a repeated key would silently drop a claim, as in YAML: refuse it
        seen: set[str] = set()
        repeated = next(key for key, _ in pairs if key in seen or seen.add(key))  # type: ignore[func-returns-value]
        raise ValueError(f"duplicate key {repeated!r}")
    return out


def _jsonl_records(path: Path) -> Iterator[tuple[str, Any, list[Problem]]]:
    name = path.name
    with path.open("rb") as stream:
        for number, raw in enumerate(stream, 1):
            where = f"{name}:{number}"
            if not raw.strip():
                continue
            if len(raw) > MAX_FILE_BYTES:
                yield (
                    where,
                    None,
                    [
                        Problem(
                            where,
                            "",
                            f"{len(raw)} bytes",
                            f"line is {len(raw)} bytes; at most {MAX_FILE_BYTES} bytes are accepted",
                        )
                    ],
                )
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                yield (
                    where,
                    None,
                    [Problem(where, "", f"byte {err.start}", f"not UTF-8 (invalid byte at position {err.start})")],
                )
                continue
            try:
                yield where, json.loads(text, object_pairs_hook=_no_duplicate_keys), []
            except ValueError as err:
                yield where, None, [Problem(where, "", "", f"invalid JSON: {err}")]


def _parquet_item(item: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in item.items() if v is not None}
    evidence = out.get("evidence")
    if evidence is not None:
        out["evidence"] = {k: v for k, v in evidence.items() if v is not None}
    return out


def _parquet_row(row: dict[str, Any]) -> dict[str, Any]:
    """Parquet stores every field of a struct; absent ones come back as None and are left out again."""
    out = {k: v for k, v in row.items() if v is not None}
    if "relations" in out:
        out["relations"] = [_parquet_item(r) for r in out["relations"]]
    if "government_evidence" in out:
        out["government_evidence"] = {k: v for k, v in out["government_evidence"].items() if v is not None}
    for side in ("offers", "needs"):
        pairs = out.get(side)
        if pairs is not None:  # a map, read as (dimension, items) pairs
            out[side] = _no_duplicate_keys([(d, [_parquet_item(i) for i in items or ()]) for d, items in pairs])
    return out


def _parquet_records(path: Path) -> Iterator[tuple[str, Any, list[Problem]]]:
    import pyarrow as pa
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    name = path.name
    try:
        reader = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as err:
        yield name, None, [Problem(name, "", "", f"not a readable Parquet file: {err}")]
        return
    columns = reader.schema_arrow.names
    unknown = [c for c in columns if c not in Profile.model_fields]
    if unknown:
        accepted = ", ".join(Profile.model_fields)
        yield name, None, [Problem(name, c, "", f"unknown column {c!r}; accepted: {accepted}") for c in unknown]
        return
    number = 0
    try:
        for batch in reader.iter_batches(batch_size=_BATCH):
            for row in batch.to_pylist():
                number += 1
                where = f"{name}:{number}"
                try:
                    data = _parquet_row(row)
                except ValueError as err:
                    yield where, None, [Problem(where, "", "", str(err))]
                    continue
                yield where, data, []
    except pa.ArrowException as err:
        yield name, None, [Problem(name, "", "", f"unreadable Parquet data after row {number}: {err}")]


def validate_file(path: Path, sources: Path | None = None) -> tuple[ProfileSet | None, list[Problem]]:
    """Read and check every profile of a population file (``.jsonl``: one JSON object a line; ``.parquet``).

    The vocabulary is ``_vocabulary.yaml`` beside the file, else the shipped one. Problems name the
    file and line (or row), then the field, as for a folder.
    """
    if path.suffix not in POPULATION_SUFFIXES:
        raise MatchmakerError(f"population file {str(path)!r} must end in {' or '.join(POPULATION_SUFFIXES)}")
    if not path.is_file():
        raise MatchmakerError(f"population file {str(path)!r} does not exist or is not a file")
    vocabulary_path = population_vocabulary_path(path)
    try:
        vocabulary = read_vocabulary(vocabulary_path.parent)
    except ProfileError as err:
        return None, list(err.problems)
    digest = hashlib.sha256(vocabulary_path.read_bytes())
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    records = _jsonl_records(path) if path.suffix == ".jsonl" else _parquet_records(path)
    problems: list[Problem] = []
    loaded: list[tuple[str, Profile]] = []
    items = ItemCache()
    for where, data, found in records:
        if found:
            problems += found
            continue
        profile, found = parse_profile(data, where, items)
        problems += found
        if profile is not None:
            loaded.append((where, profile))
    if not loaded and not problems:
        problems.append(Problem(path.name, "", "", "no profiles in this file"))
    problems += check_profiles(loaded, vocabulary, read_sources(sources) if sources else None)
    if problems:
        return None, problems
    return ProfileSet(tuple(p for _, p in loaded), vocabulary, str(path), digest.hexdigest()[:12]), []
