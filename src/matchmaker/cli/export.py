"""``matchmaker export-partners``: every organisation's best partners, as partitioned Parquet."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from matchmaker.cli.context import command_context, friendly_errors, out, progress_bar
from matchmaker.cli.options import (
    CombinerOption,
    CrossBorderWeightOption,
    DimensionOption,
    EngineOption,
    IncludeRelatedOption,
    SchedulerOption,
    SectorWeightOption,
    TopOption,
    WeightOption,
    scoring_overrides,
)


def export_partners(
    ctx: typer.Context,
    out_dir: Annotated[
        Path,
        typer.Option(
            "--out",
            metavar="DIR",
            help="A new (or empty) folder for the Parquet files; it appears complete or not at all.",
            show_default=False,
        ),
    ],
    top: TopOption = 10,
    dimension: DimensionOption = None,
    include_related: IncludeRelatedOption = False,
    weight: WeightOption = None,
    sector_weight: SectorWeightOption = None,
    cross_border_weight: CrossBorderWeightOption = None,
    combiner: CombinerOption = None,
    engine: EngineOption = None,
    scheduler: SchedulerOption = None,
) -> None:
    """Write every organisation's best partners to DIR as Parquet: one row per organisation and rank.

    Columns organisation, rank, partner, score (docs/performance.md); read them with
    pandas.read_parquet(DIR) or DuckDB (SELECT * FROM 'DIR/*.parquet'). Each organisation's list is
    what partners lists for it: declined and related partners left out (--include-related keeps related
    ones), counterparts only (enablers are listed with counterparts).

    Example: matchmaker --profiles population.parquet export-partners --top 10 --out partners
    """
    from matchmaker.loading.partner_tables import check_out_folder, write_partner_table

    check_out_folder(out_dir)  # before the slow part
    state = command_context(ctx)
    workspace = state.workspace
    if engine is not None or scheduler is not None:
        from matchmaker.assembly import backend_of

        workspace = workspace.with_backend(backend_of(state.settings, engine, scheduler))
    overrides = scoring_overrides(weight, sector_weight, cross_border_weight, combiner)
    with progress_bar(len(workspace.population)) as advance:
        table = workspace.all_partners(
            top, scoring=overrides, dimension=dimension, include_related=include_related, progress=advance
        )
    files = write_partner_table(table, out_dir)
    rows = int((table.index >= 0).sum())
    out.print(f"{rows} partners of {len(table.ids)} organisations in {len(files)} files in {out_dir}", markup=False)


def register(app: typer.Typer) -> None:
    app.command()(friendly_errors(export_partners))
