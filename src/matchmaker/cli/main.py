"""The ``matchmaker`` command: global options, and every command group registered explicitly."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from matchmaker.cli import event, export, profiles, rank, report, serve, synth
from matchmaker.cli.context import App, CommandContext

app = App(
    name="matchmaker",
    help="Rank complementary partners among AI organisations, with evidence for every reason.\n\n"
    "Exit codes: 0 success; 1 any error, reported in one line on standard error (usage errors included); "
    "130 interrupted.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
)


def print_version(value: bool) -> None:
    if value:
        from matchmaker import __version__

        typer.echo(f"matchmaker {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    profiles_dir: Annotated[
        Path | None,
        typer.Option(
            "--profiles",
            metavar="PATH",
            help="Profile folder or population file (default: the shipped profiles).",
            envvar="MATCHMAKER_PROFILES",
            show_default=False,
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="TOML config file (a 'scoring' table of weights; the service's settings too).",
            envvar="MATCHMAKER_CONFIG",
            show_default=False,
        ),
    ] = None,
    no_cache: Annotated[
        bool,
        typer.Option(
            "--no-cache",
            help="Fit the profiles again rather than read their fit from the cache (the fit_cache setting).",
        ),
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """matchmaker: complementary pairings of data holders, compute providers, developers and industry users."""
    ctx.obj = CommandContext(profiles_dir, config, no_cache)


for group in (rank, export, profiles, report, event, serve, synth):
    group.register(app)
