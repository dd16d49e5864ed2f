"""The options several commands share, and turning them into the application's queries."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from matchmaker.core.defaults import (
    DEFAULT_COMBINER,
    DEFAULT_CROSS_BORDER_WEIGHT,
    DEFAULT_SECTOR_WEIGHT,
    MAX_ENABLERS,
    MAX_TOP,
)
from matchmaker.core.errors import SettingsError

if TYPE_CHECKING:
    from matchmaker.application.queries import ScoringOverrides


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class DocumentFormat(StrEnum):
    """The formats of a command that prints one document (a profile, an explanation): no CSV."""

    table = "table"
    json = "json"


FormatOption = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
DocumentFormatOption = Annotated[DocumentFormat, typer.Option("--format", "-f", help="Output format.")]
TopOption = Annotated[int, typer.Option(help=f"How many results (1-{MAX_TOP}).", show_default=True)]
DimensionOption = Annotated[str | None, typer.Option(help="Score on this dimension alone.", show_default=False)]
WeightOption = Annotated[
    list[str] | None,
    typer.Option(
        "--weight",
        "-w",
        metavar="DIMENSION=NUMBER",
        help="Dimension weight (repeatable), e.g. -w compute=2; unnamed dimensions keep theirs.",
        show_default=False,
    ),
]
SectorWeightOption = Annotated[
    float | None,
    typer.Option(
        metavar="NUMBER",
        help=f"Weight of the sector-fit bonus (default {DEFAULT_SECTOR_WEIGHT:g}).",
        show_default=False,
    ),
]
CrossBorderWeightOption = Annotated[
    float | None,
    typer.Option(
        metavar="NUMBER",
        help=f"Weight of the Japan-India bonus (default {DEFAULT_CROSS_BORDER_WEIGHT:g}).",
        show_default=False,
    ),
]
IncludeRelatedOption = Annotated[
    bool,
    typer.Option(
        "--include-related",
        help="Also list organisations already connected (one part of the other, funding, partners, one "
        "government), marked 'already connected'.",
    ),
]
EnablersOption = Annotated[
    int,
    typer.Option(
        metavar="N",
        help=f"How many programmes and funders that can support it to list beside (0-{MAX_ENABLERS}).",
    ),
]
CombinerOption = Annotated[
    str | None,
    typer.Option(
        metavar="NAME",
        help=f"How both directions combine: harmonic, geometric, arithmetic or min (default {DEFAULT_COMBINER}).",
        show_default=False,
    ),
]


def weight_entries(texts: list[str] | None) -> tuple[tuple[str, str], ...]:
    """``-w DIMENSION=NUMBER`` options as (dimension, number) pairs; the numbers are checked by the application."""
    entries = []
    for text in texts or []:
        name, sep, value = text.partition("=")
        if not sep:
            raise SettingsError(f"--weight {text!r}: expected DIMENSION=NUMBER, e.g. compute=2")
        entries.append((name.strip(), value.strip()))
    return tuple(entries)


def scoring_overrides(
    weights: list[str] | None, sector_weight: float | None, cross_border_weight: float | None, combiner: str | None
) -> ScoringOverrides:
    """The scoring options as the application's ``ScoringOverrides`` (imported here: it loads the core)."""
    from matchmaker.application.queries import ScoringOverrides

    return ScoringOverrides(weight_entries(weights), sector_weight, cross_border_weight, combiner)
