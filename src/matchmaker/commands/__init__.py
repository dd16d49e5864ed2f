"""CLI commands that live beside the core ones: each module here defines one typer command.

A module exposes ``COMMAND_NAME`` (str) and ``command`` (a function typer can register; its first
parameter is ``ctx: typer.Context``). Modules are discovered, so a new command needs no edit to
matchmaker.cli.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from typing import Any


def registered() -> Iterator[tuple[str, Callable[..., Any]]]:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        yield module.COMMAND_NAME, module.command
