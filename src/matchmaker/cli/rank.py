"""``matchmaker partners``, ``pairs`` and ``explain``: parse the options, ask the workspace, print."""

from __future__ import annotations

from typing import Annotated

import typer

from matchmaker.cli.context import command_context, friendly_errors, progress_bar
from matchmaker.cli.options import (
    CombinerOption,
    CrossBorderWeightOption,
    DimensionOption,
    DocumentFormat,
    DocumentFormatOption,
    EnablersOption,
    Format,
    FormatOption,
    IncludeRelatedOption,
    SectorWeightOption,
    TopOption,
    WeightOption,
    scoring_overrides,
)
from matchmaker.cli.output import print_csv, print_explanation, print_json, print_pairs, print_partners


def partners(
    ctx: typer.Context,
    org: Annotated[str, typer.Argument(help="Organisation id or name (case-insensitive).")],
    top: TopOption = 10,
    dimension: DimensionOption = None,
    country: Annotated[
        str | None,
        typer.Option(
            metavar="CC", help="Only partners present in this country (ISO code, e.g. IN).", show_default=False
        ),
    ] = None,
    cross_border: Annotated[bool, typer.Option("--cross-border", help="Only Japan-India partners.")] = False,
    include_related: IncludeRelatedOption = False,
    enablers: EnablersOption = 3,
    weight: WeightOption = None,
    sector_weight: SectorWeightOption = None,
    cross_border_weight: CrossBorderWeightOption = None,
    combiner: CombinerOption = None,
    format: FormatOption = Format.table,  # noqa: A002 - the option is --format
) -> None:
    """Rank the best partners for ORG, with the offer->need reasons and their evidence.

    Example: matchmaker partners highreso --top 5 --format json
    """
    from matchmaker.application.queries import PartnersQuery
    from matchmaker.views import partners_view

    state = command_context(ctx)
    query = PartnersQuery(
        org,
        top,
        dimension=dimension,
        country=country,
        cross_border=cross_border,
        scoring=scoring_overrides(weight, sector_weight, cross_border_weight, combiner),
        include_related=include_related,
        enablers=enablers,
    )
    found = state.workspace.partners(query)
    if format is Format.json:
        print_json(partners_view(found))
    elif format is Format.csv:
        print_csv(found.partners, state.workspace.dimensions)
    else:
        print_partners(found)


def pairs(
    ctx: typer.Context,
    top: TopOption = 10,
    cross_border: Annotated[bool, typer.Option("--cross-border", help="Only Japan-India pairs.")] = False,
    dimension: DimensionOption = None,
    include_related: IncludeRelatedOption = False,
    enablers: EnablersOption = 3,
    weight: WeightOption = None,
    sector_weight: SectorWeightOption = None,
    cross_border_weight: CrossBorderWeightOption = None,
    combiner: CombinerOption = None,
    format: FormatOption = Format.table,  # noqa: A002
) -> None:
    """Rank the best pairings in the whole population.

    Example: matchmaker pairs --top 20 --cross-border
    """
    from matchmaker.application.queries import PairsQuery
    from matchmaker.views import pairs_view

    state = command_context(ctx)
    query = PairsQuery(
        top,
        cross_border=cross_border,
        dimension=dimension,
        scoring=scoring_overrides(weight, sector_weight, cross_border_weight, combiner),
        include_related=include_related,
        enablers=enablers,
    )
    workspace = state.workspace
    with progress_bar(len(workspace.population)) as advance:
        found = workspace.pairs(query, advance)
    if format is Format.json:
        print_json(pairs_view(found))
    elif format is Format.csv:
        print_csv(found.pairs, workspace.dimensions)
    else:
        print_pairs(found)


def explain(
    ctx: typer.Context,
    org_a: Annotated[str, typer.Argument(help="First organisation (id or name).")],
    org_b: Annotated[str, typer.Argument(help="Second organisation (id or name).")],
    dimension: DimensionOption = None,
    weight: WeightOption = None,
    sector_weight: SectorWeightOption = None,
    cross_border_weight: CrossBorderWeightOption = None,
    combiner: CombinerOption = None,
    format: DocumentFormatOption = DocumentFormat.table,  # noqa: A002
) -> None:
    """Explain the score of ORG_A with ORG_B: both directions, per dimension, with the quotes.

    Example: matchmaker explain highreso yotta
    """
    from matchmaker.application.queries import ExplainQuery
    from matchmaker.views import explanation_view

    state = command_context(ctx)
    query = ExplainQuery(
        org_a,
        org_b,
        dimension=dimension,
        scoring=scoring_overrides(weight, sector_weight, cross_border_weight, combiner),
    )
    found = state.workspace.explain(query)
    if format is DocumentFormat.table:
        print_explanation(found)
    else:
        print_json(explanation_view(found))


def register(app: typer.Typer) -> None:
    for command in (partners, pairs, explain):
        app.command()(friendly_errors(command))
