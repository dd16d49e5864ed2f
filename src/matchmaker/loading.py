"""Reading profile folders safely and reporting every problem at once."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from matchmaker.core.errors import MatchmakerError, Problem, ProfileError
from matchmaker.core.evidence import normalise_text, quote_problems
from matchmaker.core.profile import STRENGTH_LABELS, Evidence, Item, Profile, Vocabulary, vocabulary_problems

MAX_FILE_BYTES = 256 * 1024
VOCABULARY_FILE = "_vocabulary.yaml"
POPULATION_SUFFIXES = (".jsonl", ".parquet")  # one file holding a whole population


def _refusal(event: Any) -> str | None:
    """Why a YAML event is refused (an alias, an anchor or an explicit tag), or None."""
    if isinstance(event, yaml.AliasEvent):
        return "YAML aliases (*name) are not accepted"
    if getattr(event, "anchor", None) is not None:
        return "YAML anchors (&name) are not accepted"
    tag = getattr(event, "tag", None)
    implicit = getattr(event, "implicit", True)
    if tag is not None and not (implicit is True or (isinstance(implicit, tuple) and any(implicit))):
        return f"YAML tags ({tag}) are not accepted"
    return None


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that also refuses anchors, aliases, explicit tags and duplicate keys.

    Aliases make tiny files expand to gigabytes once serialised; explicit tags invite custom types;
    a duplicate key silently drops a claim.
    """

    def compose_node(self, parent: Any, index: Any) -> Any:
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        problem = _refusal(event)
        if problem is not None:
            raise yaml.MarkedYAMLError(problem=problem, problem_mark=event.start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.MarkedYAMLError(problem=f"duplicate key {key!r}", problem_mark=key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: Path, folder: Path) -> Any:
    """Parse one YAML file under the safety rules; raise ProfileError naming the file."""
    name = path.name
    resolved = path.resolve()
    if path.is_symlink() and not resolved.is_relative_to(folder.resolve()):
        raise ProfileError([Problem(name, "", str(resolved), "symbolic link leaves the profile folder; not accepted")])
    size = resolved.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ProfileError(
            [Problem(name, "", f"{size} bytes", f"file is {size} bytes; at most {MAX_FILE_BYTES} bytes are accepted")]
        )
    raw = resolved.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ProfileError(
            [Problem(name, "", f"byte {err.start}", f"not UTF-8 (invalid byte at position {err.start})")]
        ) from err
    return parse_yaml(text, name)


_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", None)
_RESOLVER: Any = yaml.resolver.Resolver()
_CONSTRUCTOR: Any = yaml.constructor.SafeConstructor()
_STR = "tag:yaml.org,2002:str"
_DOUBTFUL = object()


def _scalar(event: yaml.ScalarEvent) -> Any:
    """A scalar's value as the safe loader would construct it, or _DOUBTFUL."""
    if not event.implicit[0]:  # quoted or block scalars are strings
        return event.value
    tag = _RESOLVER.resolve(yaml.ScalarNode, event.value, (True, False))
    if tag == _STR:
        return event.value
    construct = _CONSTRUCTOR.yaml_constructors.get(tag)
    if construct is None or tag.endswith(":merge"):
        return _DOUBTFUL
    return construct(_CONSTRUCTOR, yaml.ScalarNode(tag, event.value, style=event.style))


def _fast_yaml(text: str) -> Any:
    """The document built from libyaml's event stream, or _DOUBTFUL if it has anything _StrictLoader refuses.

    Reading events in C and building the plain mappings, lists and scalars of a profile here is several
    times faster than PyYAML's composer and constructor. Anything doubtful (an alias, anchor, explicit
    tag, complex or repeated key, merge key, several documents or a parse error) returns _DOUBTFUL, and
    the pure-Python strict loader then reads the text and words the error.
    """
    stack: list[Any] = []  # open dicts and lists
    keys: list[Any] = []  # per open collection: the pending key of a dict, _DOUBTFUL when a key is due
    root: Any = None
    documents = 0
    try:
        for event in yaml.parse(text, Loader=_FAST_LOADER):
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    return _DOUBTFUL
                continue
            if isinstance(event, yaml.AliasEvent):
                return _DOUBTFUL
            if isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                stack.pop()
                keys.pop()
                continue
            if not isinstance(event, yaml.NodeEvent):
                continue
            tag = getattr(event, "tag", None)
            implicit = getattr(event, "implicit", True)
            if event.anchor is not None or (
                tag is not None and not (any(implicit) if isinstance(implicit, tuple) else implicit)
            ):
                return _DOUBTFUL
            if isinstance(event, yaml.ScalarEvent):
                value = _scalar(event)
                if value is _DOUBTFUL:
                    return _DOUBTFUL
            else:
                value = {} if isinstance(event, yaml.MappingStartEvent) else []
            if not stack:
                root = value
            elif isinstance(stack[-1], list):
                stack[-1].append(value)
            elif keys[-1] is _DOUBTFUL:  # this node is a key
                if not isinstance(event, yaml.ScalarEvent) or value in stack[-1]:
                    return _DOUBTFUL
                keys[-1] = value
            else:
                stack[-1][keys[-1]] = value
                keys[-1] = _DOUBTFUL
            if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                stack.append(value)
                keys.append(_DOUBTFUL)
    except (yaml.YAMLError, TypeError, ValueError):
        return _DOUBTFUL
    return root


def parse_yaml(text: str, name: str = "<text>") -> Any:
    """Parse YAML under the safety rules: from libyaml's events when plainly safe, else the strict loader."""
    if _FAST_LOADER is not None:
        data = _fast_yaml(text)
        if data is not _DOUBTFUL:
            return data
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - _StrictLoader is a SafeLoader
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        raise ProfileError([Problem(name, where, "", f"invalid YAML: {problem}")]) from err


_MODELS: Mapping[str, type[BaseModel]] = {"offers": Item, "needs": Item}


def _model_at(root: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel]:
    """The model whose fields apply at ``loc`` (for listing accepted keys)."""
    if len(loc) >= 3 and loc[0] in _MODELS:
        return Evidence if len(loc) >= 4 and loc[3] == "evidence" else Item
    return root


def _field(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def pydantic_problems(err: ValidationError, file: str, root: type[BaseModel]) -> list[Problem]:
    """Turn pydantic's errors into problems naming the field, the value and what is accepted."""
    problems = []
    for e in err.errors():
        loc = tuple(e["loc"])
        kind = e["type"]
        if kind == "extra_forbidden":
            accepted = ", ".join(_model_at(root, loc[:-1]).model_fields)
            message = f"unknown key {loc[-1]!r}; accepted: {accepted}"
        elif kind == "missing":
            message = f"missing required field {loc[-1]!r}"
        elif loc and loc[-1] == "strength":
            scale = ", ".join(f"{k} {v}" for k, v in STRENGTH_LABELS.items())
            message = f"strength must be a whole number from 1 to 3 ({scale}), got {_short(e['input'])}"
        else:
            message = f"{e['msg']}, got {_short(e['input'])}"
        problems.append(Problem(file, _field(loc), "" if kind == "missing" else _short(e["input"]), message))
    return problems


@dataclass(frozen=True)
class ProfileSet:
    """Profiles, the vocabulary they use, where they came from and a hash of their content."""

    profiles: tuple[Profile, ...]
    vocabulary: Vocabulary
    location: str
    version: str


def default_profiles_dir() -> Path:
    """The profiles shipped with matchmaker (inside the installed package, or the repository's folder)."""
    packaged = Path(str(resources.files("matchmaker"))) / "_profiles"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "profiles"


def read_sources(folder: Path) -> dict[str, str]:
    """Every text document in ``folder``, normalised for quote comparison, by file name."""
    if not folder.is_dir():
        raise MatchmakerError(f"sources folder {str(folder)!r} does not exist or is not a folder")
    return {
        p.name: normalise_text(p.read_text(encoding="utf-8", errors="replace"))
        for p in sorted(folder.iterdir())
        if p.is_file() and not p.name.startswith(".")
    }


def _profile_files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.iterdir()):
        if path.suffix in (".yaml", ".yml") and not path.name.startswith(("_", ".")):
            yield path


_ITEM_KEYS = frozenset(Item.model_fields)
_EVIDENCE_KEYS = frozenset(Evidence.model_fields)


class ItemCache:
    """Validated items by content, so a population that repeats an item validates and stores it once.

    Large populations repeat item text (programmes reuse wording; synthetic ones recombine it), and
    each validated :class:`Item` is immutable, so equal items can be one object. Only plainly shaped
    items are cached; anything unusual is left to full validation, which words its problems.
    """

    def __init__(self, max_size: int = 1_000_000) -> None:
        self._items: dict[tuple[Any, ...], Item] = {}
        self._max_size = max_size

    @staticmethod
    def _key(data: Any) -> tuple[Any, ...] | None:
        # Every key must be known (an unknown one must reach validation and be reported), so the
        # mapping sizes are compared with the known keys present; type(strength) keeps 3 and "3" apart.
        try:
            evidence = data["evidence"]
            tags = data.get("tags", ())
            if (
                len(data) != 3 + ("tags" in data)
                or type(tags) not in (list, tuple)
                or type(evidence) is not dict
                or len(evidence) != ("source" in evidence) + ("quote" in evidence) + ("background" in evidence)
            ):
                return None
            strength = data["strength"]
            return (
                data["description"],
                type(strength),
                strength,
                tuple(tags),
                evidence.get("source"),
                evidence.get("quote"),
                evidence.get("background"),
            )
        except (KeyError, TypeError, AttributeError):
            return None

    def get(self, data: Any) -> Item | None:
        """The validated item for ``data``, or None if it is invalid or not plainly shaped."""
        key = self._key(data) if type(data) is dict else None
        if key is None:
            return None
        try:
            found = self._items.get(key)
        except TypeError:  # an unhashable value somewhere: leave it to validation
            return None
        if found is None:
            try:
                found = Item.model_validate(data)
            except ValidationError:
                return None
            if len(self._items) < self._max_size:
                self._items[key] = found
        return found


def _with_cached_items(data: dict[str, Any], items: ItemCache) -> dict[str, Any] | None:
    out = dict(data)
    for side in ("offers", "needs"):
        dimensions = data.get(side)
        if dimensions is None:
            continue
        if not isinstance(dimensions, dict):
            return None
        converted: dict[Any, list[Item]] = {}
        for dimension, entries in dimensions.items():
            if not isinstance(entries, list):
                return None
            found = [items.get(entry) for entry in entries]
            if any(item is None for item in found):
                return None
            converted[dimension] = found  # type: ignore[assignment]
        out[side] = converted
    return out


def parse_profile(data: Any, file: str, items: ItemCache | None = None) -> tuple[Profile | None, list[Problem]]:
    """Validate one parsed document as a profile; the problems list says everything wrong with it.

    With ``items``, items already validated are reused; problems are worded exactly as without it.
    """
    if not isinstance(data, dict):
        return None, [Problem(file, "", _short(data), "a profile must be a YAML mapping of fields")]
    if items is not None:
        prepared = _with_cached_items(data, items)
        if prepared is not None:
            try:
                return Profile.model_validate(prepared), []
            except ValidationError:
                pass  # validated again below from the original data, so the problems name its fields
    try:
        return Profile.model_validate(data), []
    except ValidationError as err:
        return None, pydantic_problems(err, file, Profile)


def check_profiles(
    profiles: Iterable[tuple[str, Profile]], vocabulary: Vocabulary, sources: Mapping[str, str] | None
) -> list[Problem]:
    """Cross-file checks: duplicate ids, the vocabulary and, when sources are given, the quotes."""
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for file, profile in profiles:
        if profile.id in seen:
            problems.append(
                Problem(file, "id", profile.id, f"duplicate id {profile.id!r}; also used in {seen[profile.id]}")
            )
        seen.setdefault(profile.id, file)
        problems += vocabulary_problems(profile, vocabulary, file)
        if sources is not None:
            problems += quote_problems(profile, sources, file)
    return problems


def read_vocabulary(folder: Path) -> Vocabulary:
    path = folder / VOCABULARY_FILE
    if not path.is_file():
        raise ProfileError(
            [
                Problem(
                    VOCABULARY_FILE,
                    "",
                    str(folder),
                    f"the profile folder has no {VOCABULARY_FILE} (dimensions, kinds, sectors, tags)",
                )
            ]
        )
    data = read_yaml(path, folder)
    try:
        return Vocabulary.model_validate(data)
    except ValidationError as err:
        raise ProfileError(pydantic_problems(err, VOCABULARY_FILE, Vocabulary)) from err


def validate_folder(folder: Path, sources: Path | None = None) -> tuple[ProfileSet | None, list[Problem]]:
    """Read and check every profile in ``folder``; returns the set (None if any problem) and all problems.

    A population file (``.jsonl`` or ``.parquet``) is accepted too, so every ``--profiles`` option takes
    both forms.
    """
    if folder.is_file() and folder.suffix in POPULATION_SUFFIXES:
        return validate_file(folder, sources)
    if not folder.is_dir():
        raise MatchmakerError(f"profile folder {str(folder)!r} does not exist or is not a folder")
    try:
        vocabulary = read_vocabulary(folder)
    except ProfileError as err:
        return None, list(err.problems)
    problems: list[Problem] = []
    loaded: list[tuple[str, Profile]] = []
    digest = hashlib.sha256((folder / VOCABULARY_FILE).read_bytes())
    items = ItemCache()
    for path in _profile_files(folder):
        try:
            data = read_yaml(path, folder)
        except ProfileError as err:
            problems += err.problems
            continue
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
        profile, found = parse_profile(data, path.name, items)
        problems += found
        if profile is not None:
            if profile.id != path.stem:
                problems.append(
                    Problem(
                        path.name, "id", profile.id, f"id {profile.id!r} must equal the file name stem {path.stem!r}"
                    )
                )
            loaded.append((path.name, profile))
    if not loaded and not problems:
        problems.append(Problem(str(folder), "", "", "no profile files (*.yaml) in this folder"))
    problems += check_profiles(loaded, vocabulary, read_sources(sources) if sources else None)
    if problems:
        return None, problems
    return ProfileSet(tuple(p for _, p in loaded), vocabulary, str(folder), digest.hexdigest()[:12]), []


def load_folder(folder: Path, sources: Path | None = None) -> ProfileSet:
    """Like ``validate_folder`` but raising ProfileError with every problem."""
    profile_set, problems = validate_folder(folder, sources)
    if profile_set is None:
        raise ProfileError(problems)
    return profile_set


# -- population files: one JSON-lines or Parquet file holding a whole population --------------------

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
        ]
    )


def population_vocabulary_path(path: Path) -> Path:
    """The vocabulary a population file uses: ``_vocabulary.yaml`` beside it, else the shipped one."""
    beside = path.parent / VOCABULARY_FILE
    return beside if beside.is_file() else default_profiles_dir() / VOCABULARY_FILE


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


def validate_profiles(path: Path, sources: Path | None = None) -> tuple[ProfileSet | None, list[Problem]]:
    """Read and check a profile folder or a population file, whichever ``path`` is."""
    return validate_folder(path, sources)


def load_profiles(path: Path, sources: Path | None = None) -> ProfileSet:
    """The profiles of a folder or of a ``.jsonl``/``.parquet`` population file; ProfileError lists every problem."""
    return load_folder(path, sources)


# -- writing ------------------------------------------------------------------------------------------


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
        yield {
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


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _atomic_file(out: Path, write: Callable[[Path], None]) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(handle)
    try:
        write(Path(temporary))
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes it private; give it the usual mode
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _write_jsonl(profiles: Iterable[Profile], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as stream:
        for record in profile_records(profiles):
            stream.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")


def _write_parquet(profiles: Sequence[Profile], path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

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
    complete or not at all. A file replaces any file of that name; its vocabulary is written beside it
    as ``_vocabulary.yaml`` unless it is the shipped one (which readers fall back to).
    """
    out = Path(out)
    vocabulary_yaml = vocabulary_yaml or vocabulary_text(profile_set.vocabulary)
    if out.suffix in POPULATION_SUFFIXES:
        if not out.parent.is_dir():
            raise MatchmakerError(f"folder {str(out.parent)!r} does not exist; create it first")
        _write_vocabulary_beside(profile_set.vocabulary, out, vocabulary_yaml)
        if out.suffix == ".jsonl":
            _atomic_file(out, lambda path: _write_jsonl(profile_set.profiles, path))
        else:
            _atomic_file(out, lambda path: _write_parquet(profile_set.profiles, path))
        return out
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise MatchmakerError(
            f"{str(out)!r} already exists and is not an empty folder; choose a new path "
            f"or end it in {' or '.join(POPULATION_SUFFIXES)} for one file"
        )
    if not out.parent.is_dir():
        raise MatchmakerError(f"folder {str(out.parent)!r} does not exist; create it first")
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    os.chmod(staging, 0o777 & ~_umask())
    try:
        (staging / VOCABULARY_FILE).write_text(vocabulary_yaml, encoding="utf-8")
        for record in profile_records(profile_set.profiles):
            (staging / f"{record['id']}.yaml").write_text(_yaml_text(record), encoding="utf-8")
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
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
    _atomic_file(beside, lambda path: _write_text(path, text))


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
