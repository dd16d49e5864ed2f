"""``matchmaker profiles list|show|validate``: the organisations and the evidence of every claim."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from matchmaker.cli.context import App, command_context, err, friendly_errors, out
from matchmaker.cli.options import DocumentFormat, DocumentFormatOption, Format, FormatOption
from matchmaker.cli.output import evidence_text, print_json
from matchmaker.core.errors import counted

if TYPE_CHECKING:
    from matchmaker.core.errors import Problem
    from matchmaker.core.profile_set import ProfileSet
    from matchmaker.settings import Settings


def profiles_list(ctx: typer.Context, format: FormatOption = Format.table) -> None:  # noqa: A002
    """List the organisations in the profile folder.

    Example: matchmaker profiles list --format json
    """
    from matchmaker.views import profile_summary

    ps = command_context(ctx).profile_set
    rows = [profile_summary(p) for p in ps.profiles]
    if format is Format.json:
        return print_json({"organisations": rows, "version": ps.version})
    if format is Format.csv:
        import pandas as pd

        from matchmaker.cli.output import print_frame

        print_frame(pd.DataFrame(rows).assign(sectors=lambda f: f.sectors.str.join(";")))
        return None
    table = Table(title=f"{len(rows)} organisations ({ps.location}, version {ps.version})")
    for column in ("id", "name", "country", "kind", "sectors"):
        table.add_column(column)
    for r in rows:
        table.add_row(r["id"], r["name"], r["country"], r["kind"], ", ".join(r["sectors"]))
    out.print(table)
    return None


def profiles_show(
    ctx: typer.Context,
    org: Annotated[str, typer.Argument(help="Organisation id or name.")],
    format: DocumentFormatOption = DocumentFormat.table,  # noqa: A002
) -> None:
    """Show one profile with the evidence of every claim.

    Example: matchmaker profiles show "India AI Mission"
    """
    from matchmaker.views import profile_view

    profile = command_context(ctx).workspace.resolve(org)
    if format is DocumentFormat.json:
        return print_json(profile_view(profile))
    out.print(
        f"[bold]{profile.name}[/bold] ({profile.id}) - {profile.kind}, {profile.country}; present in "
        f"{', '.join(sorted(profile.countries))}; sectors: {', '.join(profile.sectors)}",
        highlight=False,
    )
    out.print(profile.summary, markup=False, highlight=False)
    for side in ("offers", "needs"):
        for dimension, items in profile.items(side).items():
            for item in items:
                flag = " [background knowledge]" if item.evidence.is_background else ""
                out.print(
                    f"  {side[:-1]} {dimension} (strength {item.strength}): {item.description}"
                    f"{flag}  [{', '.join(item.tags)}]",
                    markup=False,
                    highlight=False,
                )
                out.print(f"      {evidence_text(item.evidence)}", markup=False, highlight=False, style="dim")
    for relation in profile.relations:
        out.print(f"  relation: {relation.type} {relation.org}", markup=False, highlight=False)
        out.print(f"      {evidence_text(relation.evidence)}", markup=False, highlight=False, style="dim")
    if profile.government is not None and profile.government_evidence is not None:
        out.print(f"  a body of the government of {profile.government}", markup=False, highlight=False)
        out.print(f"      {evidence_text(profile.government_evidence)}", markup=False, highlight=False, style="dim")
    return None


def profiles_validate(
    ctx: typer.Context,
    folder: Annotated[
        Path | None,
        typer.Argument(help="Profile folder (default: --profiles or the shipped ones).", show_default=False),
    ] = None,
    sources: Annotated[
        Path | None,
        typer.Option(
            help="Folder of source documents the quotes must occur in.", envvar="MATCHMAKER_SOURCES", show_default=False
        ),
    ] = None,
) -> None:
    """Check every profile and report every problem at once (file, field, value, what is accepted).

    Example: matchmaker profiles validate profiles --sources ../shared/seeds
    """
    from matchmaker.loading import validate_folder

    state = command_context(ctx)
    target = folder or state.profiles_dir
    source_dir = sources or state.settings.sources
    profile_set, problems = validate_folder(target, source_dir)
    for problem in problems:
        err.print(f"error: {problem}", markup=False, highlight=False)
    if problems:
        err.print(f"{counted(len(problems), 'problem')} in {target}", markup=False, highlight=False)
        raise typer.Exit(1)
    assert profile_set is not None
    from matchmaker.core.evidence import evidence_warnings

    warnings = evidence_warnings((f"{p.id}.yaml", p) for p in profile_set.profiles)
    warnings += reading_warnings(profile_set, state.settings)
    for warning in warnings:
        err.print(f"warning: {warning}", markup=False, highlight=False)
    n_items = sum(1 for p in profile_set.profiles for _ in p.iter_items())
    n_background = sum(1 for p in profile_set.profiles for *_, i in p.iter_items() if i.evidence.is_background)
    checked = (
        f"quotes checked against {source_dir}"
        if source_dir
        else "quotes NOT checked: give --sources DIR or set MATCHMAKER_SOURCES"
    )
    out.print(
        f"{len(profile_set.profiles)} profiles, {n_items} items ({n_background} background knowledge): "
        f"0 problems, {counted(len(warnings), 'warning')}; {checked}.",
        markup=False,
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    group = App(help="List, show and validate capability profiles.", no_args_is_help=True)
    group.command("list")(friendly_errors(profiles_list))
    group.command("show")(friendly_errors(profiles_show))
    group.command("validate")(friendly_errors(profiles_validate))
    app.add_typer(group, name="profiles")


def reading_warnings(profile_set: ProfileSet, settings: Settings) -> list[Problem]:
    """Items the configured encoder cannot read (fitted on the folder, as a ranking would be)."""
    from matchmaker.application.workspace import fit_population
    from matchmaker.core.errors import MatchmakerError
    from matchmaker.embedding import encoder_choice

    try:
        population = fit_population(profile_set.profiles, profile_set.vocabulary, encoding=encoder_choice(settings))
    except MatchmakerError as err:
        return [Problem("", "", settings.encoder, f"items not checked for readability: {err}")]
    return [w for p in profile_set.profiles for w in population.reading_warnings(p, f"{p.id}.yaml")]
