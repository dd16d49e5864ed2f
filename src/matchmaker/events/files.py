"""Reading an event from a YAML or JSON file, with one clear error naming the file, the field and the value.

YAML is read under the same safety rules as profiles (``matchmaker.loading.parse_yaml``: no anchors,
aliases, tags or duplicate keys); JSON refuses duplicate keys too. The format is described in
docs/events.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from matchmaker.atomic import write_atomic
from matchmaker.core.errors import Problem, ProfileError
from matchmaker.core.events.errors import EventError
from matchmaker.core.events.model import Event, event_from_data
from matchmaker.loading import parse_yaml

MAX_EVENT_BYTES = 16 * 1024 * 1024  # an event of 20,000 participants with requests fits comfortably
SUFFIXES = (".yaml", ".yml", ".json")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def parse_event_data(text: str, name: str, kind: str) -> Any:
    """The plain data of an event file's text (``kind`` ``"yaml"`` or ``"json"``), before validation."""
    if kind == "json":
        try:
            return json.loads(text, object_pairs_hook=_no_duplicates)
        except json.JSONDecodeError as err:
            where = f"line {err.lineno}, column {err.colno}"
            raise EventError([Problem(name, where, "", f"invalid JSON: {err.msg}")]) from err
        except ValueError as err:
            raise EventError([Problem(name, "", "", f"invalid JSON: {err}")]) from err
    try:
        return parse_yaml(text, name)
    except ProfileError as err:
        raise EventError(err.problems) from err


def parse_event(text: str, name: str, kind: str) -> Event:
    """An event from the text of a file named ``name``; ``kind`` is ``"yaml"`` or ``"json"``.

    >>> parse_event('{"name": "Demo", "tables": 2, "sessions": []}', "day.json", "json")
    Traceback (most recent call last):
    ...
    matchmaker.core.events.errors.EventError: day.json: sessions: needs at least 1 entry, got 0
    """
    return event_from_data(parse_event_data(text, name, kind), name)


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise EventError([Problem(path.name, "", suffix or path.name, f"an event file ends in {', '.join(SUFFIXES)}")])
    return "json" if suffix == ".json" else "yaml"


def _text(path: Path) -> str:
    name = path.name
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise EventError([Problem(name, "", str(path), "is not a file")])
        if size > MAX_EVENT_BYTES:
            raise EventError(
                [Problem(name, "", f"{size} bytes", f"file is {size} bytes; at most {MAX_EVENT_BYTES} are accepted")]
            )
        raw = path.read_bytes()
    except FileNotFoundError as err:
        raise EventError([Problem(name, "", str(path), "file not found")]) from err
    except OSError as err:
        raise EventError([Problem(name, "", str(path), f"cannot be read: {err.strerror or err}")]) from err
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise EventError(
            [Problem(name, "", f"byte {err.start}", f"not UTF-8 (invalid byte at position {err.start})")]
        ) from err


def read_event(path: Path) -> Event:
    """Read and validate the event in ``path`` (``.yaml``, ``.yml`` or ``.json``).

    Raises
    ------
    EventError
        For a missing, oversized, non-UTF-8 or invalid file, with every problem found.
    """
    return read_event_data(path)[1]


def read_event_data(path: Path) -> tuple[dict[str, Any], Event]:
    """The event in ``path`` as written (its plain data, short session forms kept) and validated."""
    kind = _kind(path)
    data = parse_event_data(_text(path), path.name, kind)
    event = event_from_data(data, path.name)
    return dict(data), event


def write_event(path: Path, data: Mapping[str, Any]) -> None:
    """Write an event's plain data to ``path`` atomically, as YAML or JSON by its suffix."""
    kind = _kind(path)
    if kind == "json":
        text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    else:
        text = yaml.safe_dump(dict(data), allow_unicode=True, sort_keys=False, width=120)
    write_atomic(path, [text.encode("utf-8")])


def event_document(event: Event) -> dict[str, Any]:
    """``event`` as plain data (what :func:`read_event` reads back), without fields left at their defaults."""
    return event.model_dump(mode="json", exclude_defaults=True)
