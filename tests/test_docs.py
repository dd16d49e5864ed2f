"""Every CLI command is documented in the README (as sqlite-utils tests its docs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer.main

from matchmaker.cli import app

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def commands(group: Any, prefix: str = "") -> list[str]:
    found = []
    for name, command in group.commands.items():
        if hasattr(command, "commands"):  # a group (typer may bring its own click)
            found += commands(command, f"{prefix}{name} ")
        else:
            found.append(f"{prefix}{name}")
    return found


ALL = commands(typer.main.get_group(app))


def test_commands_were_found() -> None:
    assert {"partners", "pairs", "explain", "profiles list", "profiles show", "profiles validate"} <= set(ALL)


@pytest.mark.parametrize("command", ALL)
def test_command_is_documented(command: str) -> None:
    assert f"matchmaker {command}" in README, f"README does not document `matchmaker {command}`"


def test_quickstart_is_two_commands_and_ci_runs_the_test_command() -> None:
    quickstart = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    block = quickstart.split("```bash", 1)[1].split("```", 1)[0]
    lines = [line for line in block.strip().splitlines() if line.strip() and not line.startswith("#")]
    assert len(lines) == 2, lines
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert lines[1].strip() in ci


def test_worked_example_numbers_match_the_scorer() -> None:
    """The README's worked example is computed, not typed: if profiles or model change, update it."""
    from matchmaker.application.queries import ExplainQuery, PartnersQuery
    from matchmaker.cli.context import CommandContext
    from matchmaker.views import explanation_view

    workspace = CommandContext(None, None).workspace
    view = explanation_view(workspace.explain(ExplainQuery("highreso", "yotta")))
    breakdown = view["breakdown"]
    numbers = {
        "score": view["score"],
        "a_to_b": breakdown["a_to_b"],
        "b_to_a": breakdown["b_to_a"],
        "compute": breakdown["dimensions"]["compute"]["b_to_a"],
        "domain": breakdown["dimensions"]["domain"]["b_to_a"],
    }
    example = README.split("### Worked example", 1)[1].split("\n## ", 1)[0]
    for name, value in numbers.items():
        assert f"{value:.4f}" in example, f"README worked example lacks {name} = {value:.4f}"
    found = workspace.partners(PartnersQuery("highreso"))
    assert found.partners[0].b.id == "yotta" and found.enablers[0].b.id == "india-ai-mission"
