"""What a pairing report holds: the ranked pairs, every organisation's partners, the gaps and the settings.

``build_report`` does all the scoring, through the workspace (so declined pairs never appear); the
renderers in :mod:`matchmaker.reports` (Markdown, HTML, CSV, JSON, XLSX) only lay out what it
returns, so every format shows the same numbers.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import numpy as np

from matchmaker import __version__
from matchmaker.application.queries import PairsQuery, PartnersQuery, ScoringOverrides, check_top
from matchmaker.application.workspace import Workspace
from matchmaker.core.ecosystem import BRIDGE_FROM, OVERSUPPLY_BELOW, UNMET_BELOW, Ecosystem, analyse_ecosystem
from matchmaker.core.errors import SettingsError
from matchmaker.core.population import Match
from matchmaker.core.profile import Profile
from matchmaker.core.profile_set import ProfileSet
from matchmaker.core.scoring import ScoringSettings
from matchmaker.core.vectors import FloatArray

FORMATS = ("html", "md", "csv", "json", "xlsx")
MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
HEATMAP_LIMIT = 40  # organisations; beyond this the heatmap shows those in the headline pairs
PARTNER_SECTIONS_LIMIT = 60  # organisations; beyond this, partner sections cover those in the headline pairs

Progress = Callable[[str, int, int], None]  # (stage, done, total)
# More than the item pairs two profiles can have (20 items per dimension, 12 dimensions, two directions):
# asking for this many reasons keeps every one.
ALL_REASONS = 2 * 12 * 20 * 20


@dataclass(frozen=True)
class ReportOptions:
    """What to put in a report and how to score it; every field has a sensible default.

    ``scoring`` changes the workspace's scoring settings; ``generated`` None means now (give a fixed
    time for byte-identical reports).
    """

    format: str = "html"
    top: int = 10
    org: str | None = None
    cross_border: bool = False
    partners: int = 5
    scoring: ScoringOverrides = field(default_factory=ScoringOverrides)
    unmet_below: float = UNMET_BELOW
    oversupply_below: float = OVERSUPPLY_BELOW
    bridge_from: float = BRIDGE_FROM
    generated: datetime | None = None
    title: str = "Japan-India AI partnership report"

    def validated(self) -> ReportOptions:
        """Return self if every option is acceptable; raise SettingsError naming the first that is not."""
        if self.format not in FORMATS:
            raise SettingsError(f"unknown report format {self.format!r}; accepted: {', '.join(FORMATS)}")
        check_top(self.top)
        if not 1 <= self.partners <= 100:
            raise SettingsError(f"partners must be a whole number from 1 to 100, got {self.partners!r}")
        return self


@dataclass(frozen=True)
class OrganisationSection:
    """One organisation's best partners and the strength it offers and needs per dimension."""

    profile: Profile
    partners: tuple[Match, ...]
    offered: dict[str, int]  # dimension -> summed strength of the offers there
    needed: dict[str, int]


@dataclass(frozen=True)
class Heatmap:
    """The pair-score matrix of some organisations (NaN on the diagonal)."""

    profiles: tuple[Profile, ...]
    scores: FloatArray
    complete: bool  # False when capped to the organisations in the headline pairs


@dataclass(frozen=True)
class Report:
    """Everything a report shows, computed once."""

    options: ReportOptions
    settings: ScoringSettings
    generated: datetime
    profile_set: ProfileSet
    dimensions: tuple[str, ...]
    organisations: int
    profiles: tuple[Profile, ...]  # the scored population (it may differ from profile_set.profiles)
    countries: dict[str, int]
    focus: Profile | None
    pairs: tuple[Match, ...]  # the headline pairs of counterparts, every reason kept; cross-border first
    enablers: tuple[Match, ...]  # (counterpart, enabler): programmes and funders that can support them
    sections: tuple[OrganisationSection, ...]
    sections_complete: bool
    heatmap: Heatmap
    ecosystem: Ecosystem
    best_bridge: Match | None  # the best cross-border pairing of the population (or of the focus organisation)
    version: str = __version__
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def command(self) -> str:
        """The command line that reproduces this report's numbers with the same profiles."""
        o, s = self.options, self.settings
        words = [
            "matchmaker",
            "--profiles",
            self.profile_set.location,
            "report",
            "--format",
            o.format,
            "--top",
            str(o.top),
            "--partners",
            str(o.partners),
        ]
        if o.org:
            words += ["--org", o.org]
        if o.cross_border:
            words.append("--cross-border")
        for d in self.dimensions:
            words += ["-w", f"{d}={s.weight(d):g}"]
        words += [
            "--sector-weight",
            f"{s.sector_weight:g}",
            "--cross-border-weight",
            f"{s.cross_border_weight:g}",
            "--combiner",
            s.combiner,
            "--unmet-below",
            f"{o.unmet_below:g}",
            "--oversupply-below",
            f"{o.oversupply_below:g}",
            "--bridge-from",
            f"{o.bridge_from:g}",
        ]
        return shlex.join(words)


def strength_sums(profile: Profile, dimensions: tuple[str, ...]) -> tuple[dict[str, int], dict[str, int]]:
    """Summed strength of the offers and of the needs per dimension (what the offers-vs-needs chart shows)."""
    return (
        {d: sum(i.strength for i in profile.offers.get(d, ())) for d in dimensions},
        {d: sum(i.strength for i in profile.needs.get(d, ())) for d in dimensions},
    )


def _headline(
    workspace: Workspace, options: ReportOptions, focus: Profile | None, progress: Callable[[int, int], None] | None
) -> tuple[list[Match], list[Match]]:
    """The headline pairs of counterparts and the enablers that can support them.

    The report is about Japan-India partnerships, so the top cross-border (bridge) pairs head it and
    the same-country pairs among the overall top follow; ``cross_border`` keeps the first alone.
    """
    scoring = options.scoring
    if focus is not None:
        query = PartnersQuery(focus.id, options.top, cross_border=options.cross_border, scoring=scoring)
        found = workspace.partners(replace(query, reasons=ALL_REASONS))
        return found.partners, found.enablers
    pairs = PairsQuery(options.top, scoring=scoring, reasons=ALL_REASONS)
    bridges = workspace.pairs(replace(pairs, cross_border=True), progress)
    if options.cross_border:
        return bridges.pairs, bridges.enablers
    every = workspace.pairs(pairs)
    return bridges.pairs + [m for m in every.pairs if not m.cross_border], every.enablers


def _heatmap(workspace: Workspace, settings: ScoringSettings, pairs: list[Match], focus: Profile | None) -> Heatmap:
    population = workspace.population
    complete = len(population) <= HEATMAP_LIMIT
    if complete:
        chosen = list(population.profiles)
    else:
        ids = dict.fromkeys([*(focus.id for focus in [focus] if focus), *(x for m in pairs for x in (m.a.id, m.b.id))])
        chosen = [population.profiles[population.index[i]] for i in list(ids)[:HEATMAP_LIMIT]]
    order = {settings.bridge[0]: 0, settings.bridge[1]: 1}
    chosen.sort(key=lambda p: (order.get(p.country, 2), p.country, p.id))
    rows = np.array([population.index[p.id] for p in chosen], dtype=np.int64)
    scores = np.asarray(population.scorer(settings).block(rows, rows), dtype=np.float64)
    np.fill_diagonal(scores, np.nan)
    position = {p.id: k for k, p in enumerate(chosen)}
    for a, b in (tuple(pair) for pair in workspace.exclusions.pairs):  # declined: not a recommendation, shown empty
        if a in position and b in position:
            scores[position[a], position[b]] = scores[position[b], position[a]] = np.nan
    return Heatmap(tuple(chosen), scores, complete)


def build_report(
    workspace: Workspace, profile_set: ProfileSet, options: ReportOptions, progress: Progress | None = None
) -> Report:
    """Score everything a report shows; ``progress(stage, done, total)`` is called as the work advances."""
    options = options.validated()
    population = workspace.population
    settings = workspace.settings_for(options.scoring)
    focus = workspace.resolve(options.org) if options.org else None
    generated = options.generated or datetime.now(UTC).replace(microsecond=0)

    def scoring(done: int, total: int) -> None:
        if progress is not None:
            progress("Scoring pairs", done, total)

    pairs, enablers = _headline(workspace, options, focus, scoring)
    if focus is not None:
        listed = [focus]
    elif len(population) <= PARTNER_SECTIONS_LIMIT:
        listed = list(population.profiles)
    else:
        ids = dict.fromkeys(x for m in pairs for x in (m.a.id, m.b.id))
        listed = [population.profiles[population.index[i]] for i in ids]
    total = len(listed) + 1
    sections = []
    for k, profile in enumerate(listed, 1):
        query = PartnersQuery(profile.id, options.partners, cross_border=options.cross_border, scoring=options.scoring)
        offered, needed = strength_sums(profile, population.dimensions)
        sections.append(OrganisationSection(profile, tuple(workspace.partners(query).partners), offered, needed))
        if progress is not None:
            progress("Ranking partners", k, total)
    bridges = [m for m in pairs if m.cross_border]
    if not bridges:
        bridges = (
            workspace.partners(
                PartnersQuery(focus.id, 1, cross_border=True, scoring=options.scoring, reasons=1)
            ).partners
            if focus
            else workspace.pairs(PairsQuery(1, cross_border=True, scoring=options.scoring, reasons=1)).pairs
        )
    ecosystem = analyse_ecosystem(
        population,
        settings=settings,
        unmet_below=options.unmet_below,
        oversupply_below=options.oversupply_below,
        bridge_from=options.bridge_from,
    )
    if progress is not None:
        progress("Analysing gaps", total, total)
    countries: dict[str, int] = {}
    for p in population.profiles:
        countries[p.country] = countries.get(p.country, 0) + 1
    return Report(
        options=options,
        settings=settings,
        generated=generated,
        profile_set=profile_set,
        dimensions=population.dimensions,
        organisations=len(population),
        profiles=population.profiles,
        countries=dict(sorted(countries.items(), key=lambda c: -c[1])),
        focus=focus,
        pairs=tuple(pairs),
        enablers=tuple(enablers),
        sections=tuple(sections),
        sections_complete=focus is None and len(listed) == len(population),
        heatmap=_heatmap(workspace, settings, pairs, focus),
        ecosystem=ecosystem,
        best_bridge=bridges[0] if bridges else None,
    )
