"""What every command shares: the global options, the workspace they rank in, the consoles, one way to fail.

A command reaches its state one way, ``command_context(ctx)``; everything heavy (the profiles, the
fitted population, the database) is loaded on first use, so ``--help`` and errors in the arguments
cost nothing.

Exit codes, the same for every command: 0 success (help included); 1 any error, reported as one line
``error: ...`` on standard error (a usage error such as a missing argument or an unknown option, a
value outside what is accepted, an unknown organisation, a file that cannot be read, a database that
does not answer); 130 interrupted. ``matchmaker profiles validate`` prints one line per problem.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import functools
import gc
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from typer._click import exceptions as click_errors  # typer's own copy of click: its usage errors
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

if TYPE_CHECKING:
    from matchmaker.application.workspace import Workspace
    from matchmaker.core.profile_set import ProfileSet
    from matchmaker.settings import ServiceSettings, Settings

P = ParamSpec("P")
R = TypeVar("R")
PROGRESS_FROM = 2000  # organisations; below this scoring takes less than a moment
DEBUG_VARIABLE = "MATCHMAKER_DEBUG"  # set to 1: an internal error shows its traceback
FALLBACK_WIDTH = 120  # columns, when the output is not a terminal and COLUMNS is not set


def terminal_width(fallback: int = FALLBACK_WIDTH) -> int:
    """The width tables are laid out for: COLUMNS, else the terminal's (standard output's, or standard
    error's or input's when the output goes through a pipe to a pager), else ``fallback``.

    >>> import os; os.environ["COLUMNS"] = "72"; terminal_width(); del os.environ["COLUMNS"]
    72
    """
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    for descriptor in (1, 2, 0):
        with contextlib.suppress(OSError, ValueError):
            size = os.get_terminal_size(descriptor).columns
            if size > 0:
                return size
    return fallback


out = Console(soft_wrap=False, width=terminal_width())
err = Console(stderr=True, soft_wrap=True)  # an error is one line, never wrapped


def say_error(message: str) -> None:
    """Print ``error: message`` on standard error, as one line."""
    err.print(f"error: {' '.join(message.split())}", markup=False, highlight=False)


def fail(message: str) -> typer.Exit:
    """Print ``error: message`` on standard error; return the exit to raise (code 1)."""
    say_error(message)
    return typer.Exit(1)


def os_error_text(error: OSError) -> str:
    """An operating-system error as one line: the file and the reason.

    >>> os_error_text(PermissionError(13, "Permission denied", "/etc/shadow"))
    "cannot use '/etc/shadow': Permission denied"
    """
    where = f"cannot use {str(error.filename)!r}" if error.filename else "operating-system error"
    return f"{where}: {error.strerror or error}"


def friendly_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Print one clear message (every problem, for profiles) to stderr and exit 1; never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from matchmaker.core.errors import MatchmakerError, ProfileError

        try:
            return command(*args, **kwargs)
        except ProfileError as e:
            for problem in e.problems:
                say_error(str(problem))
            raise typer.Exit(1) from None
        except MatchmakerError as e:
            raise fail(str(e)) from None
        except OSError as e:
            if e.errno == errno.EPIPE:
                raise
            raise fail(os_error_text(e)) from None

    return wrapper


def usage_line(error: click_errors.ClickException) -> str:
    """A usage error as one line, with where to find the accepted usage.

    >>> usage_line(click_errors.ClickException("Invalid value."))
    'invalid value'
    """
    if isinstance(error, click_errors.NoSuchOption) and error.possibilities:
        message = f"no such option {error.option_name}; did you mean {' or '.join(sorted(error.possibilities))}?"
    else:
        message = " ".join(error.format_message().replace("Value error, ", "").split()).rstrip(".")
        message = message[:1].lower() + message[1:]
    ctx = getattr(error, "ctx", None)
    return f"{message} (see '{ctx.command_path} --help')" if ctx is not None else message


def plain_metavars(params: list[Any]) -> list[Any]:
    """Flags show no value (typer would show ``<bool>``, as if they took one); arguments are in upper case."""
    for param in params:
        if isinstance(param, TyperOption) and param.metavar is None and (param.is_flag or param.count):
            param.metavar = ""
        elif isinstance(param, TyperArgument) and param.metavar is None and param.name:
            param.metavar = param.name.upper()
    return params


class Command(TyperCommand):
    """A command whose help shows values only for options that take one, and arguments in upper case."""

    def get_params(self, ctx: Any) -> list[Any]:
        return plain_metavars(super().get_params(ctx))

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                name = str(param.metavar) + ("..." if param.nargs != 1 else "")
                pieces.append(name if param.required else f"[{name}]")
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces


def skip_final_collection() -> None:
    """At exit, leave the objects still alive to the operating system rather than to a last garbage collection.

    The interpreter collects every object it holds while it shuts down (several full passes over the
    hundreds of thousands that numpy, scipy, pydantic and a fitted population make): about 0.1-0.2 s
    of the CPU a short command costs, for memory the process gives back anyway. Registered once per
    process, at exit it moves every object to the permanent generation (``gc.freeze``), which those
    passes skip; exit handlers registered before it (closing a Dask cluster, saving coverage data)
    still run after it.
    """
    global _SKIPPING
    if not _SKIPPING:
        _SKIPPING = True
        atexit.register(gc.freeze)


_SKIPPING = False


class Group(TyperGroup):
    """The root command: one line and exit code 1 for every usage error, like every other error."""

    def get_params(self, ctx: Any) -> list[Any]:
        return plain_metavars(super().get_params(ctx))

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        skip_final_collection()
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            code = result if isinstance(result, int) else 0
        except click_errors.NoArgsIsHelpError:
            code = 0  # the help was printed: nothing was asked yet
        except click_errors.ClickException as e:
            say_error(usage_line(e))
            code = 1
        except (typer.Abort, KeyboardInterrupt):
            say_error("interrupted")
            code = 130
        except BrokenPipeError:
            # The reader went away (``matchmaker pairs | head``): stop quietly, as every Unix tool does.
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - never closed: the interpreter flushes it at exit
            code = 1
        except Exception as e:
            if os.environ.get(DEBUG_VARIABLE):
                raise
            say_error(
                f"internal error ({type(e).__name__}: {e}); please report it with the command that caused it "
                f"({DEBUG_VARIABLE}=1 shows the traceback)"
            )
            code = 1
        if standalone_mode:
            sys.exit(code)
        return code


class App(typer.Typer):
    """A Typer whose commands are :class:`Command` and whose groups are :class:`Group`."""

    def __init__(self, **options: Any) -> None:
        super().__init__(cls=Group, **options)

    def command(self, *args: Any, cls: type[TyperCommand] | None = None, **kwargs: Any) -> Any:
        return super().command(*args, cls=cls or Command, **kwargs)


class CommandContext:
    """The global options, and what commands load from them once per run."""

    def __init__(self, profiles: Path | None, config: Path | None, no_cache: bool = False) -> None:
        self.profiles_option = profiles
        self.config = config
        self.overrides = {"profiles": profiles, "fit_cache": False if no_cache else None}

    @functools.cached_property
    def settings(self) -> Settings:
        """The settings every command reads (server-only ones are not parsed: see ``service_settings``)."""
        from matchmaker.settings import load_settings

        return load_settings(self.config, **self.overrides)

    @functools.cached_property
    def service_settings(self) -> ServiceSettings:
        """The settings of the HTTP service, server-only ones included (``matchmaker serve``)."""
        from matchmaker.settings import load_service_settings

        return load_service_settings(self.config, **self.overrides)

    @property
    def profiles_dir(self) -> Path:
        from matchmaker.loading.layout import default_profiles_dir

        return self.settings.profiles or default_profiles_dir()

    @functools.cached_property
    def profile_set(self) -> ProfileSet:
        from matchmaker.loading import load_profiles

        return load_profiles(self.profiles_dir)

    @functools.cached_property
    def workspace(self) -> Workspace:
        """The profile set plus the database's attendees and declines (when the database exists), fitted.

        The fit is read from the fit cache when it holds it (then the profiles are not read either).
        """
        from matchmaker.assembly import open_cached_workspace

        workspace, registered, profile_set = open_cached_workspace(self.settings, self.__dict__.get("profile_set"))
        self.__dict__["profile_set"] = profile_set
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
