"""The ``matchmaker`` command: global options, and every command group registered explicitly."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from matchmaker.cli import profiles, rank, report, serve, synth
from matchmaker.cli.context import CommandContext

app = typer.Typer(
    help="Rank complementary partners among AI organisations, with evidence for every reason.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def main(
    ctx: typer.Context,
    profiles_dir: Annotated[
        Path | None,
        typer.Option(
            "--profiles",
            help="Profile folder or population file (default: the shipped profiles).",
            envvar="MATCHMAKER_PROFILES",
            show_default=False,
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            help="TOML config file (a 'scoring' table of weights).", envvar="MATCHMAKER_CONFIG", show_default=False
        ),
    ] = None,
) -> None:
    """matchmaker: complementary pairings of data holders, compute providers, developers and industry users."""
    ctx.obj = CommandContext(profiles_dir, config)


for group in (rank, profiles, report, serve, synth):
    group.register(app)
