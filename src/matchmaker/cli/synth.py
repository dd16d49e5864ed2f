"""``matchmaker synth``: write a synthetic population with the mixes of the current profiles."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from matchmaker.cli.context import command_context, friendly_errors
from matchmaker.core.errors import MatchmakerError


def synth(
    ctx: typer.Context,
    n: Annotated[int, typer.Option("--n", help="How many profiles to generate.", min=1)],
    out: Annotated[Path, typer.Option(help="Where to write: a .jsonl or .parquet file, otherwise a folder.")],
    seed: Annotated[int, typer.Option(help="Random seed; the same seed writes the same profiles.", min=0)] = 0,
) -> None:
    """Write N synthetic profiles for scale tests, drawn from the current profiles.

    Kinds, countries, sectors, dimensions, strengths and item text come from the current profiles
    (--profiles, default the shipped ones); every claim is flagged as synthetic background knowledge.
    A .jsonl or .parquet OUT is one file (best for large N); a name without an extension is a new
    folder with one YAML file a profile and a copy of _vocabulary.yaml. OUT must not exist yet.
    Writes are atomic.

    Example: matchmaker synth --n 100000 --seed 1 --out synthetic.jsonl
    """
    from matchmaker.loading import POPULATION_SUFFIXES, VOCABULARY_FILE, write_profiles
    from matchmaker.synth import synthesise

    source = command_context(ctx).profile_set
    if n < 1:
        raise MatchmakerError(f"--n must be at least 1, got {n}")
    vocabulary_file = Path(source.location) / VOCABULARY_FILE
    original = vocabulary_file.read_text(encoding="utf-8") if vocabulary_file.is_file() else None
    population = synthesise(source, n, seed)
    written = write_profiles(population, out, vocabulary_yaml=original)
    form = "file" if written.suffix in POPULATION_SUFFIXES else "folder"
    typer.echo(f"{n} synthetic profiles (seed {seed}) written to {form} {written}")


def register(app: typer.Typer) -> None:
    app.command()(friendly_errors(synth))
