"""Every CLI command is documented in the README (as sqlite-utils tests its docs)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main

from matchmaker.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


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
    assert [p.b.id for p in found.partners[:2]] == ["yotta", "mewtant"]
    assert found.enablers[0].b.id == "india-ai-mission"


def _numbers(data: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], float]]:
    """Every number in ``data`` with the keys that lead to it (list positions left out)."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _numbers(value, (*path, str(key)))
    elif isinstance(data, list):
        for value in data:
            yield from _numbers(value, path)
    elif isinstance(data, int | float) and not isinstance(data, bool):
        yield path, float(data)


def test_the_json_example_shows_what_the_command_prints() -> None:
    """Each number of the README's `partners --format json` example is one the command prints at that key.

    The example elides with "...", so it is read key by key: `"score": 0.1103` must be a score of the
    first partner, and so on, in the order the example shows them.
    """
    from matchmaker.application.queries import PartnersQuery
    from matchmaker.cli.context import CommandContext
    from matchmaker.views import partners_view

    workspace = CommandContext(None, None).workspace
    printed = partners_view(workspace.partners(PartnersQuery("highreso", 1)))
    first = printed["partners"][0]
    reason = first["reasons"][0]
    actual = {
        **{("partners", *k): v for k, v in _numbers({k: v for k, v in first.items() if k != "reasons"})},
        **{("reasons", *k): v for k, v in _numbers({k: v for k, v in reason.items() if k not in ("offer", "need")})},
        **{("offer", *k): v for k, v in _numbers(reason["offer"])},
        **{("settings", *k): v for k, v in _numbers(printed["settings"])},
    }
    block = README.split("### JSON output (stable)", 1)[1].split("```json", 1)[1].split("```", 1)[0]
    assert f'"rank": 1, "id": "{first["id"]}"' in block
    shown = re.findall(r'"([a-z_]+)": (-?[0-9]+(?:\.[0-9]+)?)', block)
    assert len(shown) >= 15
    for key, number in shown:
        matches = [path for path, value in actual.items() if path[-1] == key and abs(value - float(number)) < 1e-9]
        assert matches, f"README's JSON example shows {key} = {number}; the command prints no such {key}"


def test_console_examples_print_what_the_commands_print(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ```console block of the README: each `$ matchmaker ...` line, and the lines after it, as run.

    They run in order in an empty folder holding a copy of ``examples/`` (the event walkthrough writes
    its files there); what a terminal shows first comes first: the notes and errors on stderr, then
    stdout.
    """
    import shlex
    import shutil

    from typer.testing import CliRunner

    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```console\n(.*?)```", README, re.S)
    assert blocks
    for block in blocks:
        for example in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, _, shown = example.partition("\n")
            words = shlex.split(command)
            assert words[0] == "matchmaker", command
            result = CliRunner().invoke(app, words[1:], prog_name="matchmaker")
            assert (result.stderr + result.stdout).strip() == shown.strip(), command


def test_the_event_walkthrough_makes_what_it_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The organiser's walkthrough, run as the README shows it, writes the agendas, plans and summary."""
    import shlex
    import shutil

    from icalendar import Calendar
    from typer.testing import CliRunner

    section = README.split("## Matchmaking events", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^\$ (matchmaker event .*)$", section, re.M)
    assert [shlex.split(c)[2] for c in commands] == ["register", "schedule", "agenda"]
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    for command in commands:
        assert CliRunner().invoke(app, shlex.split(command)[1:]).exit_code == 0, command
    written = {p.relative_to(tmp_path / "day").as_posix() for p in (tmp_path / "day").rglob("*")}
    listed = section.split("What `--out` writes:", 1)[1].lstrip().split("\n\n", 1)[0]
    names = re.findall(r"`([a-z-]+\.[a-z]+)`", listed)
    assert len(names) >= 6
    for name in [*names, "agendas/sakana-ai.html", "agendas/sakana-ai.ics"]:
        assert name in written, name
    schedule = json.loads((tmp_path / "day" / "schedule.json").read_text(encoding="utf-8"))
    with_sakana = [m for m in schedule["meetings"] if "sakana-ai" in (m["a"], m["b"])]
    calendar = Calendar.from_ical((tmp_path / "sakana-ai.ics").read_bytes())
    assert len(calendar.walk("VEVENT")) == len(with_sakana) > 0
    below = {u["id"] for u in schedule["unmet_minimums"]}
    assert below == set(), "the README says everyone reaches their minimum"


def test_the_schedule_json_example_is_what_the_command_prints() -> None:
    """The README's schedule JSON is the example event's, abridged: every key shown has the printed value,
    and every list entry shown is one the command prints."""
    from typer.testing import CliRunner

    section = README.split("### Schedule JSON (stable)", 1)[1]
    command = re.search(r"`(matchmaker event schedule \S+ --format json)`", section)
    assert command is not None
    shown = json.loads(section.split("```json", 1)[1].split("```", 1)[0])
    result = CliRunner().invoke(app, command.group(1).split()[1:])
    assert result.exit_code == 0
    printed = json.loads(result.stdout)
    assert set(shown) <= set(printed) and {"status", "objective", "bound", "meetings", "unmet_minimums"} <= set(shown)
    for key, value in shown.items():
        if isinstance(value, list) and key in ("meetings", "blocked"):
            assert value and all(entry in printed[key] for entry in value), key
        else:
            assert value == printed[key], key
    assert f"one of its {len(printed['meetings'])} meetings" in section


def test_the_events_python_example_runs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """docs/events.md's "Using it from Python" runs as written (from the repository's root, no database)."""
    monkeypatch.setenv("MATCHMAKER_DATABASE", str(tmp_path / "none.db"))
    monkeypatch.chdir(ROOT)
    page = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")
    code = page.split("## Using it from Python", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(compile(code, "docs/events.md", "exec"), namespace)
    assert namespace["document"]["status"] == "optimal" and namespace["document"]["meetings"]
    assert not (tmp_path / "none.db").exists()
