"""Building an event from plain data (a parsed YAML/JSON file, an API body), and changing one.

:func:`event_from_data` reports every problem at once as an :class:`EventError` whose problems name the
field, the value and what is accepted; :func:`changed` makes a changed copy (a second run, late
registrations, new requests) validated again as a whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from matchmaker.core.errors import Problem
from matchmaker.core.events.errors import EventError
from matchmaker.core.events.event import Event
from matchmaker.core.events.parts import (
    SLOT_ID_RULE,
    Block,
    Cancelled,
    Confirmed,
    Participant,
    ParticipationType,
    Problems,
    Request,
    Session,
    Slot,
)

_MODELS: Mapping[str, type[BaseModel]] = {
    "sessions": Session,
    "slots": Slot,
    "types": ParticipationType,
    "participants": Participant,
    "requests": Request,
    "blocked": Block,
    "confirmed": Confirmed,
    "cancelled": Cancelled,
}


def _field(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel]:
    """The model whose keys apply at ``loc`` (for listing the accepted keys of an unknown one)."""
    model: type[BaseModel] = Event
    for k, part in enumerate(loc):
        if isinstance(part, str) and part in _MODELS and not (part == "types" and k + 1 == len(loc)):
            model = _MODELS[part]
    return model


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


_PATTERNS = {
    r"^[a-z0-9][a-z0-9-]{0,63}$": "must be lowercase letters, digits and hyphens, starting with a letter or digit "
    "(at most 64), as profile ids are",
    r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$": f"must be {SLOT_ID_RULE}",
}


def _union_branch(loc: tuple[Any, ...]) -> bool:
    """Whether ``loc`` ends in a union branch name: a slot's tables are a number, names or nothing."""
    return len(loc) >= 2 and loc[-2] == "tables" and isinstance(loc[-1], str) and len(loc) > 2


def _problems(err: ValidationError, file: str) -> list[Problem]:
    """Pydantic's findings as problems naming the field, the value and what is accepted."""
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for e in err.errors():
        loc = tuple(e["loc"])
        kind = e["type"]
        if kind == "too_short" and isinstance(e["input"], list | tuple) and len(e["input"]) >= e["ctx"]["min_length"]:
            continue  # pydantic's echo of an item that failed: the item's own problem is reported
        union = _union_branch(loc) or (len(loc) > 3 and _union_branch(loc[:-1]))
        if union:  # one problem for the field, not one per branch of the union
            loc = loc[: loc.index("tables", 1) + 1]
        found = e.get("ctx", {}).get("error")
        if isinstance(found, Problems):
            for field, value, message in found.problems:
                problems.append(
                    Problem(file, _field((*loc, *field.split("."))) if field else _field(loc), value, message)
                )
            continue
        field = _field(loc)
        if kind == "extra_forbidden":
            accepted = ", ".join(_model_at(loc[:-1]).model_fields)
            message = f"unknown key {loc[-1]!r}; accepted: {accepted}"
        elif kind == "missing":
            message = f"missing required field {loc[-1]!r}"
        elif kind == "timezone_aware":
            message = f"must include a UTC offset, e.g. 2025-03-01T10:00:00+09:00, got {_short(e['input'])}"
        elif kind == "string_pattern_mismatch":
            words = _PATTERNS.get(e["ctx"]["pattern"], f"must match {e['ctx']['pattern']}")
            message = f"{words}, got {_short(e['input'])}"
        elif kind in ("too_short", "too_long"):
            limit = e["ctx"]["min_length" if kind == "too_short" else "max_length"]
            size = (
                len(e["input"]) if isinstance(e["input"], list | tuple | dict | str) else e["ctx"].get("actual_length")
            )
            bound = "least" if kind == "too_short" else "most"
            message = f"needs at {bound} {limit} {'entry' if limit == 1 else 'entries'}, got {size}"
        elif kind == "literal_error":
            message = f"{e['msg'].lower()}, got {_short(e['input'])}"
        elif union:
            if (field, "union") in seen:
                continue
            seen.add((field, "union"))
            message = f"must be a number of tables, a list of table names, or left out; got {_short(e['input'])}"
        else:
            message = f"{e['msg']}, got {_short(e['input'])}"
        problems.append(Problem(file, field, "" if kind == "missing" else _short(e["input"]), message))
    return problems


def event_from_data(data: Any, file: str = "") -> Event:
    """Validate plain data (a parsed YAML/JSON document, an API body) into an :class:`Event`.

    Raises
    ------
    EventError
        With every problem found, each naming ``file``, the field and the value.

    Examples
    --------
    >>> event_from_data({"name": "Demo", "tables": 1, "sessions": [{"id": "am", "start": "2025-03-01T10:00:00",
    ...                  "minutes": 20, "count": 2}]}, "demo.yaml")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    matchmaker.core.events.errors.EventError: demo.yaml: sessions[0].start: must be a date and time with a UTC offset...
    """
    if not isinstance(data, Mapping):
        kind = "a list" if isinstance(data, list) else type(data).__name__
        raise EventError(
            [
                Problem(
                    file,
                    "",
                    _short(data),
                    f"an event is a mapping of fields (name, tables, sessions, participants, ...), got {kind}",
                )
            ]
        )
    try:
        return Event.model_validate(dict(data))
    except ValidationError as err:
        raise EventError(_problems(err, file)) from err


def changed(event: Event, file: str = "", **fields: Any) -> Event:
    """A copy of ``event`` with ``fields`` replaced, validated again as a whole.

    For a second run (add ``confirmed`` and ``cancelled`` meetings), late registrations (more
    ``participants``) or new ``requests``.

    Raises
    ------
    EventError
        If the changed event is inconsistent, naming the field.

    Examples
    --------
    >>> event = event_from_data({"name": "Demo", "tables": 1, "participants": [{"id": "a"}, {"id": "b"}],
    ...     "sessions": [{"id": "am", "start": "2025-03-01T10:00:00+09:00", "minutes": 20, "count": 2}]})
    >>> later = changed(event, confirmed=[{"a": "a", "b": "b", "slot": "am-2", "table": "T01"}])
    >>> [(m.a, m.b, m.slot) for m in later.confirmed]
    [('a', 'b', 'am-2')]
    """
    data = event.model_dump(mode="json", exclude_defaults=True)
    for name, value in fields.items():
        data[name] = [v.model_dump(mode="json") if isinstance(v, BaseModel) else v for v in value]
    return event_from_data(data, file)
