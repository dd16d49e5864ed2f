"""What every command shares: the global options, the workspace they rank in, the consoles, one way to fail.

A command reaches its state one way, ``command_context(ctx)``; everything heavy (the profiles, the
fitted population, the database) is loaded on first use, so ``--help`` and errors in the arguments
cost nothing.
"""

from __future__ import annotations

import contextlib
import functools
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import typer
from rich.console import Console

if TYPE_CHECKING:
    from matchmaker.application.workspace import Workspace
    from matchmaker.core.profile_set import ProfileSet
    from matchmaker.settings import Settings

P = ParamSpec("P")
R = TypeVar("R")
PROGRESS_FROM = 2000  # organisations; below this scoring takes less than a moment

# The terminal's width (COLUMNS, or the terminal's size); 160 when writing to a file or a pipe.
out = Console(soft_wrap=False, width=shutil.get_terminal_size((160, 24)).columns)
err = Console(stderr=True, soft_wrap=True)  # an error is one line, never wrapped


def fail(message: str) -> typer.Exit:
    """Print ``error: message`` on standard error; return the exit to raise (code 1)."""
    err.print(f"error: {message}", markup=False, highlight=False)
    return typer.Exit(1)


def friendly_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Print one clear message (every problem, for profiles) to stderr and exit 1; never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from matchmaker.core.errors import MatchmakerError, ProfileError

        try:
            return command(*args, **kwargs)
        except ProfileError as e:
            for problem in e.problems:
                err.print(f"error: {problem}", markup=False, highlight=False)
            raise typer.Exit(1) from None
        except MatchmakerError as e:
            raise fail(str(e)) from None

    return wrapper


class CommandContext:
    """The global options, and what commands load from them once per run."""

    def __init__(self, profiles: Path | None, config: Path | None) -> None:
        self.profiles_option = profiles
        self.config = config

    @functools.cached_property
    def settings(self) -> Settings:
        from matchmaker.settings import load_settings

        return load_settings(self.config, profiles=self.profiles_option)

    @property
    def profiles_dir(self) -> Path:
        from matchmaker.loading import default_profiles_dir

        return self.settings.profiles or default_profiles_dir()

    @functools.cached_property
    def profile_set(self) -> ProfileSet:
        from matchmaker.loading import load_profiles

        return load_profiles(self.profiles_dir)

    @functools.cached_property
    def workspace(self) -> Workspace:
        """The profile set plus the database's attendees and declines (when the database exists), fitted."""
        from matchmaker.assembly import open_workspace

        workspace, registered = open_workspace(self.settings, self.profile_set)
        self.registered = registered
        return workspace


def command_context(ctx: typer.Context) -> CommandContext:
    state = ctx.find_root().obj
    if not isinstance(state, CommandContext):  # a command invoked without the root callback (tests)
        state = ctx.find_root().obj = CommandContext(None, None)
    return state


@contextlib.contextmanager
def progress_bar(total: int, label: str = "Scoring pairs") -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr for work over large populations; silent for small ones and off a terminal."""
    if total < PROGRESS_FROM or not err.is_terminal:
        yield lambda done, total: None
        return
    from rich.progress import Progress, TimeElapsedColumn

    with Progress(*Progress.get_default_columns(), TimeElapsedColumn(), console=err, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda done, _total: bar.update(task, completed=done)


def write_stdout(text: str) -> None:
    sys.stdout.write(text)
