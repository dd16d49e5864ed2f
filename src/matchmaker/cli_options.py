"""The scoring options every ranking command takes, and the scoring settings they make.

They live apart from :mod:`matchmaker.cli` so that commands in their own modules
(:mod:`matchmaker.commands`) can declare them too: ``matchmaker.cli`` registers those modules when it
is imported, so they cannot import it at module level.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Protocol

import typer

from matchmaker.core.errors import SettingsError
from matchmaker.core.scoring import COMBINERS, ScoringSettings

if TYPE_CHECKING:
    from matchmaker.core.population import Population
    from matchmaker.settings import Settings

WeightOption = Annotated[
    list[str] | None,
    typer.Option(
        "--weight",
        "-w",
        help="Dimension weight as DIMENSION=NUMBER (repeatable), e.g. -w compute=2.",
        show_default=False,
    ),
]
SectorWeightOption = Annotated[
    float | None, typer.Option(help="Weight of the sector-fit bonus (default 0.25).", show_default=False)
]
CrossBorderWeightOption = Annotated[
    float | None, typer.Option(help="Weight of the Japan-India bonus (default 0).", show_default=False)
]
CombinerOption = Annotated[
    str | None,
    typer.Option(help=f"How both directions combine: {', '.join(COMBINERS)} (default harmonic).", show_default=False),
]


class CommandState(Protocol):
    """What the scoring options are applied to: the configuration, then the population (read in that order)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def population(self) -> Population: ...


def scoring_settings(
    state: CommandState,
    weights: list[str] | None,
    sector_weight: float | None,
    cross_border_weight: float | None,
    combiner: str | None,
) -> ScoringSettings:
    """The configured scoring settings with the command line's overrides applied and checked."""
    base = state.settings.scoring
    dimension_weights = dict(base.dimension_weights)
    for text in weights or []:
        name, sep, value = text.partition("=")
        try:
            dimension_weights[name.strip()] = float(value) if sep else float("nan")
        except ValueError:
            raise SettingsError(f"--weight {text!r}: expected DIMENSION=NUMBER, e.g. compute=2") from None
        if not sep:
            raise SettingsError(f"--weight {text!r}: expected DIMENSION=NUMBER, e.g. compute=2")
    settings = ScoringSettings(
        dimension_weights=dimension_weights,
        sector_weight=base.sector_weight if sector_weight is None else sector_weight,
        cross_border_weight=base.cross_border_weight if cross_border_weight is None else cross_border_weight,
        combiner=combiner or base.combiner,
        bridge=base.bridge,
    )
    return settings.validated(state.population.dimensions)
