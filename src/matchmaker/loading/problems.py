"""Turning pydantic's validation errors into problems that name the file, the field, the value and what is accepted."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from matchmaker.core.errors import Problem
from matchmaker.core.profile import STRENGTH_LABELS, Evidence, Item

_MODELS: Mapping[str, type[BaseModel]] = {"offers": Item, "needs": Item}


def _model_at(root: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel]:
    """The model whose fields apply at ``loc`` (for listing accepted keys)."""
    if len(loc) >= 3 and loc[0] in _MODELS:
        return Evidence if len(loc) >= 4 and loc[3] == "evidence" else Item
    return root


def field_path(loc: tuple[Any, ...]) -> str:
    """A validation location as a path: ``offers.data[0].evidence``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def short_value(value: Any) -> str:
    """``value`` as a user would write it (JSON for non-strings), cut to 80 characters."""
    try:
        text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    except ValueError:  # a value JSON cannot hold (a circular structure)
        text = repr(value)
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
            message = f"strength must be a whole number from 1 to 3 ({scale}), got {short_value(e['input'])}"
        else:
            message = f"{e['msg']}, got {short_value(e['input'])}"
        problems.append(Problem(file, field_path(loc), "" if kind == "missing" else short_value(e["input"]), message))
    return problems
