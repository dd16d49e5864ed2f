"""Reading profile folders safely and reporting every problem at once."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
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


def parse_yaml(text: str, name: str = "<text>") -> Any:
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


def parse_profile(data: Any, file: str) -> tuple[Profile | None, list[Problem]]:
    """Validate one parsed document as a profile; the problems list says everything wrong with it."""
    if not isinstance(data, dict):
        return None, [Problem(file, "", _short(data), "a profile must be a YAML mapping of fields")]
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
    """Read and check every profile in ``folder``; returns the set (None if any problem) and all problems."""
    if not folder.is_dir():
        raise MatchmakerError(f"profile folder {str(folder)!r} does not exist or is not a folder")
    try:
        vocabulary = read_vocabulary(folder)
    except ProfileError as err:
        return None, list(err.problems)
    problems: list[Problem] = []
    loaded: list[tuple[str, Profile]] = []
    digest = hashlib.sha256((folder / VOCABULARY_FILE).read_bytes())
    for path in _profile_files(folder):
        try:
            data = read_yaml(path, folder)
        except ProfileError as err:
            problems += err.problems
            continue
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
        profile, found = parse_profile(data, path.name)
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
