"""The ``matchmaker`` command line: who should an organisation partner with, and why."""

from __future__ import annotations

import contextlib
import functools
import json
import sys
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.progress import Progress, TimeElapsedColumn
from rich.table import Table

from matchmaker.cli_options import (
    CombinerOption,
    CrossBorderWeightOption,
    SectorWeightOption,
    WeightOption,
    scoring_settings,
)
from matchmaker.core.errors import MatchmakerError, ProfileError
from matchmaker.core.population import Match, Population
from matchmaker.loading import ProfileSet, default_profiles_dir, load_profiles, validate_folder
from matchmaker.settings import Settings, load_settings
from matchmaker.views import (
    evidence_view,
    explanation_view,
    match_rows,
    pairs_view,
    partners_view,
    profile_summary,
    profile_view,
    reason_text,
)

app = typer.Typer(
    help="Rank complementary partners among AI organisations, with evidence for every reason.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
profiles_app = typer.Typer(help="List, show and validate capability profiles.", no_args_is_help=True)
app.add_typer(profiles_app, name="profiles")

out = Console(soft_wrap=False, width=160)
err = Console(stderr=True, soft_wrap=True)  # an error is one line, never wrapped

PROGRESS_FROM = 2000  # organisations; below this scoring takes less than a moment
P = ParamSpec("P")
R = TypeVar("R")


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def friendly_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Print one clear message (every problem, for profiles) to stderr and exit 1; never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except ProfileError as e:
            for problem in e.problems:
                err.print(f"error: {problem}", markup=False, highlight=False)
            raise typer.Exit(1) from None
        except MatchmakerError as e:
            err.print(f"error: {e}", markup=False, highlight=False)
            raise typer.Exit(1) from None

    return wrapper


class State:
    """Global options, and the population loaded once per command."""

    def __init__(self, profiles: Path | None, config: Path | None) -> None:
        self.config = config
        self.profiles_option = profiles

    @functools.cached_property
    def settings(self) -> Settings:
        return load_settings(self.config, profiles=self.profiles_option)

    @property
    def profiles_dir(self) -> Path:
        return self.settings.profiles or default_profiles_dir()

    @functools.cached_property
    def profile_set(self) -> ProfileSet:
        return load_profiles(self.profiles_dir)

    @functools.cached_property
    def population(self) -> Population:
        ps = self.profile_set
        return Population.fit(
            ps.profiles,
            dimensions=tuple(ps.vocabulary.dimensions),
            sectors=tuple(ps.vocabulary.sectors),
            settings=self.settings.scoring.to_core(),
            n_components="auto",
        )


def _state(ctx: typer.Context) -> State:
    state = ctx.find_root().obj
    assert isinstance(state, State)
    return state


@app.callback()
def main(
    ctx: typer.Context,
    profiles: Annotated[
        Path | None,
        typer.Option(
            help="Profile folder (default: the shipped profiles).", envvar="MATCHMAKER_PROFILES", show_default=False
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
    ctx.obj = State(profiles, config)


FormatOption = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
TopOption = Annotated[int, typer.Option(help="How many results (1-1000).", min=1, max=1000)]


@contextlib.contextmanager
def _progress(total: int, label: str = "Scoring pairs") -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr for work over large populations; silent for small ones."""
    if total < PROGRESS_FROM:
        yield lambda done, total: None
        return
    with Progress(*Progress.get_default_columns(), TimeElapsedColumn(), console=err, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda done, _total: bar.update(task, completed=done)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def _print_csv(matches: list[Match], population: Population) -> None:
    sys.stdout.write(match_rows(matches, population.dimensions).to_csv(index=False))


def _flag(is_background: bool) -> str:
    return " [background knowledge]" if is_background else ""


def _print_reasons(match: Match, limit: int | None = None) -> None:
    for reason in match.reasons[:limit]:
        arrow = f"{reason.offer.org} -> {reason.need.org}"
        out.print(f"  [bold]{reason.dimension}[/bold] {arrow} (+{reason.contribution:.3f})", highlight=False)
        for label, ref in (("offers", reason.offer), ("needs", reason.need)):
            ev = evidence_view(ref.item.evidence)
            source = f"background knowledge: {ev['note']}" if ev["background"] else f'{ev["source"]}: "{ev["quote"]}"'
            out.print(
                f"    {ref.org} {label} (strength {ref.item.strength}): {ref.item.description}",
                markup=False,
                highlight=False,
            )
            out.print(f"      evidence {source}", markup=False, highlight=False, style="dim")


def _dimension_summary(match: Match) -> str:
    parts = [f"{d} {s.a_to_b:.2f}/{s.b_to_a:.2f}" for d, s in match.dimensions.items() if s.a_to_b or s.b_to_a]
    return ", ".join(parts) or "-"


@app.command()
@friendly_errors
def partners(
    ctx: typer.Context,
    org: Annotated[str, typer.Argument(help="Organisation id or name (case-insensitive).")],
    top: TopOption = 10,
    dimension: Annotated[str | None, typer.Option(help="Score on this dimension alone.", show_default=False)] = None,
    country: Annotated[
        str | None, typer.Option(help="Only partners present in this country (ISO code).", show_default=False)
    ] = None,
    cross_border: Annotated[bool, typer.Option("--cross-border", help="Only Japan-India partners.")] = False,
    weight: WeightOption = None,
    sector_weight: SectorWeightOption = None,
    cross_border_weight: CrossBorderWeightOption = None,
    combiner: CombinerOption = None,
    format: FormatOption = Format.table,  # noqa: A002 - the option is --format
) -> None:
    """Rank the best partners for ORG, with the offer->need reasons and their evidence.

    Example: matchmaker partners highreso --top 5 --format json
    """
    state = _state(ctx)
    settings = scoring_settings(state, weight, sector_weight, cross_border_weight, combiner)
    population = state.population
    profile = population.resolve(org)
    matches = population.partners(
        profile.id, top=top, settings=settings, dimension=dimension, country=country, cross_border=cross_border
    )
    if format is Format.json:
        return _print_json(partners_view(profile, matches, settings))
    if format is Format.csv:
        return _print_csv(matches, population)
    table = Table(
        title=f"Partners for {profile.name} ({profile.id}, {profile.country}) - "
        f"{settings.combiner} mean of both directions"
    )
    for column in ("#", "partner", "country", "score", "gives", "gets", "per dimension gives/gets"):
        table.add_column(column, justify="right" if column in ("#", "score", "gives", "gets") else "left")
    for rank, m in enumerate(matches, 1):
        table.add_row(
            str(rank),
            f"{m.b.name} ({m.b.id})",
            m.b.country,
            f"{m.score:.3f}",
            f"{m.a_to_b:.2f}",
            f"{m.b_to_a:.2f}",
            _dimension_summary(m),
        )
    out.print(table)
    if not matches:
        out.print("No partner has a positive score: nothing offered meets this organisation's needs.")
    for rank, m in enumerate(matches, 1):
        out.print(f"\n[bold]{rank}. {m.b.name}[/bold] - why:", highlight=False)
        _print_reasons(m, limit=3)
    out.print("\n'gives' = how well what the organisation offers meets the partner's needs; 'gets' = the reverse.")


@app.command()
@friendly_errors
def pairs(
    ctx: typer.Context,
    top: TopOption = 10,
    cross_border: Annotated[bool, typer.Option("--cross-border", help="Only Japan-India pairs.")] = False,
    dimension: Annotated[str | None, typer.Option(help="Score on this dimension alone.", show_default=False)] = None,
    weight: WeightOption = None,
    sector_weight: SectorWeightOption = None,
    cross_border_weight: CrossBorderWeightOption = None,
    combiner: CombinerOption = None,
    format: FormatOption = Format.table,  # noqa: A002
) -> None:
    """Rank the best pairings in the whole population.

    Example: matchmaker pairs --top 20 --cross-border
    """
    state = _state(ctx)
    settings = scoring_settings(state, weight, sector_weight, cross_border_weight, combiner)
    population = state.population
    with _progress(len(population)) as advance:
        matches = population.pairs(
            top=top,
            settings=settings,
            cross_border=cross_border,
            dimension=dimension,
            memory_budget_mb=state.settings.memory_budget_mb,
            progress=advance,
        )
    if format is Format.json:
        return _print_json(pairs_view(matches, settings))
    if format is Format.csv:
        return _print_csv(matches, population)
    table = Table(title=f"Best pairings ({settings.combiner} mean of both directions)")
    for column in ("#", "a", "b", "score", "a->b", "b->a", "top reason"):
        table.add_column(column, justify="right" if column in ("#", "score", "a->b", "b->a") else "left")
    for rank, m in enumerate(matches, 1):
        table.add_row(
            str(rank),
            f"{m.a.name} ({m.a.country})",
            f"{m.b.name} ({m.b.country})",
            f"{m.score:.3f}",
            f"{m.a_to_b:.2f}",
            f"{m.b_to_a:.2f}",
            reason_text(m.reasons[0]) if m.reasons else "-",
        )
    out.print(table)


@app.command()
@friendly_errors
def explain(
    ctx: typer.Context,
    org_a: Annotated[str, typer.Argument(help="First organisation (id or name).")],
    org_b: Annotated[str, typer.Argument(help="Second organisation (id or name).")],
    weight: WeightOption = None,
    sector_weight: SectorWeightOption = None,
    cross_border_weight: CrossBorderWeightOption = None,
    combiner: CombinerOption = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="table or json.")] = Format.table,  # noqa: A002
) -> None:
    """Explain the score of ORG_A with ORG_B: both directions, per dimension, with the quotes.

    Example: matchmaker explain highreso yotta
    """
    state = _state(ctx)
    settings = scoring_settings(state, weight, sector_weight, cross_border_weight, combiner)
    match = state.population.explain(org_a, org_b, settings=settings)
    if format is not Format.table:
        return _print_json(explanation_view(match, settings))
    a, b = match.a, match.b
    out.print(f"[bold]{a.name} ({a.id}) x {b.name} ({b.id})[/bold]: score {match.score:.3f}", highlight=False)
    out.print(
        f"  {a.id} -> {b.id}: {match.a_to_b:.3f}   {b.id} -> {a.id}: {match.b_to_a:.3f}   "
        f"{settings.combiner} mean: {match.reciprocal:.3f}",
        highlight=False,
    )
    out.print(
        f"  sector fit {match.sector_fit:.3f} (weight {settings.sector_weight}), cross-border "
        f"{'yes' if match.cross_border else 'no'} (weight {settings.cross_border_weight})",
        highlight=False,
    )
    table = Table(title="Per dimension")
    for column in ("dimension", f"{a.id} -> {b.id}", f"{b.id} -> {a.id}"):
        table.add_column(column)
    for d, s in match.dimensions.items():
        table.add_row(d, f"{s.a_to_b:.3f}", f"{s.b_to_a:.3f}")
    out.print(table)
    out.print("Offer -> need item pairs behind the score (contribution to that direction's benefit):")
    _print_reasons(match)
    if not match.reasons:
        out.print("  none: neither side offers what the other needs.")


@profiles_app.command("list")
@friendly_errors
def profiles_list(ctx: typer.Context, format: FormatOption = Format.table) -> None:  # noqa: A002
    """List the organisations in the profile folder.

    Example: matchmaker profiles list --format json
    """
    ps = _state(ctx).profile_set
    rows = [profile_summary(p) for p in ps.profiles]
    if format is Format.json:
        return _print_json({"organisations": rows, "version": ps.version})
    if format is Format.csv:
        import pandas as pd

        sys.stdout.write(pd.DataFrame(rows).assign(sectors=lambda f: f.sectors.str.join(";")).to_csv(index=False))
        return None
    table = Table(title=f"{len(rows)} organisations ({ps.location}, version {ps.version})")
    for column in ("id", "name", "country", "kind", "sectors"):
        table.add_column(column)
    for r in rows:
        table.add_row(r["id"], r["name"], r["country"], r["kind"], ", ".join(r["sectors"]))
    out.print(table)


@profiles_app.command("show")
@friendly_errors
def profiles_show(
    ctx: typer.Context,
    org: Annotated[str, typer.Argument(help="Organisation id or name.")],
    format: Annotated[Format, typer.Option("--format", "-f", help="table or json.")] = Format.table,  # noqa: A002
) -> None:
    """Show one profile with the evidence of every claim.

    Example: matchmaker profiles show "India AI Mission"
    """
    profile = _state(ctx).population.resolve(org)
    if format is not Format.table:
        return _print_json(profile_view(profile))
    out.print(
        f"[bold]{profile.name}[/bold] ({profile.id}) - {profile.kind}, {profile.country}; present in "
        f"{', '.join(sorted(profile.countries))}; sectors: {', '.join(profile.sectors)}",
        highlight=False,
    )
    out.print(profile.summary, markup=False, highlight=False)
    for side in ("offers", "needs"):
        for dimension, items in profile.items(side).items():
            for item in items:
                ev = evidence_view(item.evidence)
                source = (
                    f"background knowledge: {ev['note']}" if ev["background"] else f'{ev["source"]}: "{ev["quote"]}"'
                )
                out.print(
                    f"  {side[:-1]} {dimension} (strength {item.strength}): {item.description}"
                    f"{_flag(ev['background'])}  [{', '.join(item.tags)}]",
                    markup=False,
                    highlight=False,
                )
                out.print(f"      {source}", markup=False, highlight=False, style="dim")


@profiles_app.command("validate")
@friendly_errors
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
    state = _state(ctx)
    target = folder or state.profiles_dir
    source_dir = sources or state.settings.sources
    profile_set, problems = validate_folder(target, source_dir)
    for problem in problems:
        err.print(f"error: {problem}", markup=False, highlight=False)
    if problems:
        err.print(f"{len(problems)} problems in {target}", markup=False, highlight=False)
        raise typer.Exit(1)
    assert profile_set is not None
    n_items = sum(1 for p in profile_set.profiles for _ in p.iter_items())
    n_background = sum(1 for p in profile_set.profiles for *_, i in p.iter_items() if i.evidence.is_background)
    checked = (
        f"quotes checked against {source_dir}"
        if source_dir
        else "quotes NOT checked: give --sources DIR or set MATCHMAKER_SOURCES"
    )
    out.print(
        f"{len(profile_set.profiles)} profiles, {n_items} items ({n_background} background knowledge): "
        f"0 problems; {checked}.",
        markup=False,
        highlight=False,
    )


def _register_optional_commands() -> None:
    """Commands that live in their own modules (matchmaker.commands.*), registered here."""
    from matchmaker.commands import registered

    for name, command in registered():
        app.command(name=name)(friendly_errors(command))


_register_optional_commands()
