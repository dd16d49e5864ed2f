"""Reading an event from a YAML or JSON file, with one clear error naming the file, the field and the value.

YAML is read under the same safety rules as profiles (``matchmaker.loading.parse_yaml``: no anchors,
aliases, tags or duplicate keys); JSON refuses duplicate keys too. The format is described in
docs/events.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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


def parse_event(text: str, name: str, kind: str) -> Event:
    """An event from the text of a file named ``name``; ``kind`` is ``"yaml"`` or ``"json"``.

    >>> parse_event('{"name": "Demo", "tables": 2, "sessions": []}', "day.json", "json")
    Traceback (most recent call last):
    ...
    matchmaker.core.events.errors.EventError: day.json: sessions: needs at least 1 entry, got 0
    """
    if kind == "json":
        try:
            data = json.loads(text, object_pairs_hook=_no_duplicates)
        except json.JSONDecodeError as err:
            where = f"line {err.lineno}, column {err.colno}"
            raise EventError([Problem(name, where, "", f"invalid JSON: {err.msg}")]) from err
        except ValueError as err:
            raise EventError([Problem(name, "", "", f"invalid JSON: {err}")]) from err
    else:
        try:
            data = parse_yaml(text, name)
        except ProfileError as err:
            raise EventError(err.problems) from err
    return event_from_data(data, name)


def read_event(path: Path) -> Event:
    """Read and validate the event in ``path`` (``.yaml``, ``.yml`` or ``.json``).

    Raises
    ------
    EventError
        For a missing, oversized, non-UTF-8 or invalid file, with every problem found.
    """
    name = path.name
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise EventError([Problem(name, "", suffix or name, f"an event file ends in {', '.join(SUFFIXES)}")])
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
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise EventError(
            [Problem(name, "", f"byte {err.start}", f"not UTF-8 (invalid byte at position {err.start})")]
        ) from err
    return parse_event(text, name, "json" if suffix == ".json" else "yaml")


def event_document(event: Event) -> dict[str, Any]:
    """``event`` as plain data (what :func:`read_event` reads back), without fields left at their defaults."""
    return event.model_dump(mode="json", exclude_defaults=True)
