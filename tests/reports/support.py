"""Helpers for the report tests: the known-answer market, the shipped profiles, reports rendered once."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from builders import VOCABULARY
from matchmaker.application.report import Report, ReportOptions, build_report
from matchmaker.application.workspace import Workspace, fit_population, roles_of
from matchmaker.cli import app
from matchmaker.core.population import Population
from matchmaker.core.profile import Profile
from matchmaker.core.profile_set import ProfileSet
from matchmaker.embedding import encoder_choice
from matchmaker.loading import default_profiles_dir, load_folder
from matchmaker.reports import iter_report
from matchmaker.settings import load_settings

GENERATED = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
SHIPPED = default_profiles_dir()
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    """Run the CLI on the shipped profiles, whatever the environment says."""
    result = runner.invoke(app, ["--profiles", str(SHIPPED), *args], env={"MATCHMAKER_CONFIG": None})
    return result.exit_code, result.stdout, result.stderr


def fit(profiles: list[Profile]) -> Population:
    """Fitted as the CLI fits (the configured encoder), so reports and commands rank alike."""
    return fit_population(profiles, VOCABULARY, encoding=encoder_choice(load_settings()))


def profile_set(profiles: list[Profile]) -> ProfileSet:
    return ProfileSet(tuple(profiles), VOCABULARY, "test-profiles", "test-version")


@cache
def shipped() -> tuple[Population, ProfileSet]:
    ps = load_folder(SHIPPED)
    population = fit_population(ps.profiles, ps.vocabulary, encoding=encoder_choice(load_settings()))
    return population, ps


def workspace(population: Population, ps: ProfileSet) -> Workspace:
    """The workspace the CLI ranks in, for these profiles: the vocabulary's roles apply."""
    return Workspace(population, roles=roles_of(ps.vocabulary))


@cache
def shipped_built(top: int = 10, org: str | None = None, cross_border: bool = False) -> Report:
    """The report data on the shipped profiles, scored once per session."""
    population, ps = shipped()
    options = ReportOptions(top=top, org=org, cross_border=cross_border, generated=GENERATED)
    return build_report(workspace(population, ps), ps, options)


@cache
def shipped_report(fmt: str, top: int = 10, org: str | None = None, cross_border: bool = False) -> bytes:
    """A report on the shipped profiles, rendered once per session (the HTML takes seconds)."""
    report = shipped_built(top, org, cross_border)
    return b"".join(iter_report(replace(report, options=replace(report.options, format=fmt))))


@cache
def cli_json(*args: str) -> Any:
    """What ``matchmaker <args> --format json`` prints, parsed: the reference the reports must agree with."""
    code, out, err = run(*args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def headline_reference(top: int = 10) -> list[Any]:
    """The report's headline pairs as `matchmaker pairs` gives them: the top Japan-India pairs, then the
    same-country pairs among the top overall (each as `pairs --format json` prints it)."""
    bridges = cli_json("pairs", "--top", str(top), "--cross-border")["pairs"]
    overall = cli_json("pairs", "--top", str(top))["pairs"]
    return [*bridges, *(p for p in overall if not p["breakdown"]["cross_border"])]
