from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from builders import VOCABULARY, market
from matchmaker.cli import app

runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def market_dir(tmp_path: Path) -> Path:
    """The known-answer market as a profile folder."""
    folder = tmp_path / "market"
    folder.mkdir()
    (folder / "_vocabulary.yaml").write_text(yaml.safe_dump(VOCABULARY.model_dump(mode="json")))
    for profile in market():
        (folder / f"{profile.id}.yaml").write_text(yaml.safe_dump(profile.model_dump(mode="json", exclude_none=True)))
    return folder


def test_partners_table_shows_reasons_with_evidence() -> None:
    code, out, _ = run("partners", "highreso", "--top", "5")
    assert code == 0
    assert "Partners for Highreso" in out and "why:" in out
    assert "evidence 000_740288d10d6fbf25.txt:" in out


def test_partners_json_shape() -> None:
    code, out, _ = run("partners", "Highreso", "--format", "json", "--top", "3")
    data = json.loads(out)
    assert code == 0 and set(data) == {"organisation", "partners", "enablers", "settings"}
    assert data["organisation"]["id"] == "highreso"
    first = data["partners"][0]
    assert {"rank", "id", "name", "score", "breakdown", "reasons"} <= set(first)
    assert first["rank"] == 1 and set(first["breakdown"]["dimensions"]) == {"data", "compute", "talent", "domain"}
    assert {"a_to_b", "b_to_a"} == set(first["breakdown"]["dimensions"]["compute"])
    reason = first["reasons"][0]
    assert reason["offer"]["evidence"]["background"] in (True, False)
    scores = [p["score"] for p in data["partners"]]
    assert scores == sorted(scores, reverse=True)


def test_partners_known_answer_in_a_custom_folder(market_dir: Path) -> None:
    code, out, _ = run("--profiles", str(market_dir), "partners", "factory", "--format", "json")
    assert code == 0 and json.loads(out)["partners"][0]["id"] == "gpu-host"


def test_profiles_env_variable(market_dir: Path) -> None:
    code, out, _ = run("profiles", "list", "--format", "json", env={"MATCHMAKER_PROFILES": str(market_dir)})
    assert code == 0 and len(json.loads(out)["organisations"]) == len(market())


def test_partners_filters_and_weights(market_dir: Path) -> None:
    base = ["--profiles", str(market_dir), "partners", "factory", "--format", "json"]
    assert json.loads(run(*base, "--country", "JP")[1])["partners"] == []
    assert json.loads(run(*base, "--dimension", "compute")[1])["partners"] == []  # factory offers no compute
    lenient = json.loads(run(*base, "--combiner", "arithmetic", "-w", "domain=0")[1])
    assert [p["id"] for p in lenient["partners"]][:2] == ["gpu-host", "one-sided"]
    assert lenient["settings"]["dimension_weights"] == {"domain": 0.0}
    assert json.loads(run(*base, "--cross-border", "--cross-border-weight", "1")[1])["partners"][0]["id"] == "gpu-host"


def test_partners_csv(market_dir: Path) -> None:
    code, out, _ = run("--profiles", str(market_dir), "partners", "factory", "--format", "csv")
    header = out.splitlines()[0].split(",")
    assert code == 0 and header[:4] == ["rank", "a", "a_name", "a_country"]
    assert "data_a_to_b" in header and "compute_b_to_a" in header


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("partners", "fujitsuu"), "error: unknown organisation 'fujitsuu'; did you mean 'fujitsu'"),
        (("partners", "highreso", "-w", "compute"), "error: --weight 'compute': expected DIMENSION=NUMBER"),
        (
            ("partners", "highreso", "-w", "compute=lots"),
            "error: weight of dimension 'compute' must be a number from 0 to 999.999999 (up to 6 decimals), got 'lots'",
        ),
        (("partners", "highreso", "-w", "money=2"), "error: unknown dimension 'money' in weights; accepted: data"),
        (("partners", "highreso", "--sector-weight", "-1"), "error: sector weight must be a number from 0 to 1000"),
        (("pairs", "--combiner", "median"), "error: unknown combiner 'median'; accepted: harmonic, geometric"),
        (("partners", "highreso", "--dimension", "money"), "error: unknown dimension 'money'; accepted:"),
        (("explain", "tcs", "TCS"), "error: cannot pair 'tcs' with itself"),
        (("profiles", "show", "nobody-at-all"), "error: unknown organisation 'nobody-at-all'"),
    ],
    ids=[
        "unknown-org",
        "weight-no-value",
        "weight-not-number",
        "weight-dimension",
        "negative",
        "combiner",
        "dimension",
        "self",
        "show-unknown",
    ],
)
def test_bad_input_is_one_clear_line_and_exit_1(args: tuple[str, ...], message: str) -> None:
    code, out, err = run(*args)
    assert code == 1 and out == ""
    assert err.startswith(message), err
    assert "Traceback" not in err


def test_pairs_json_and_cross_border() -> None:
    code, out, _ = run("pairs", "--top", "5", "--format", "json")
    pairs = json.loads(out)["pairs"]
    assert code == 0 and len(pairs) == 5
    assert {"rank", "a", "b", "score", "breakdown", "reasons"} <= set(pairs[0])
    assert all(p["a"] != p["b"] for p in pairs)
    code, out, _ = run("pairs", "--top", "5", "--cross-border", "--format", "json")
    assert all(p["breakdown"]["cross_border"] for p in json.loads(out)["pairs"])


def test_pairs_table_and_csv() -> None:
    code, out, _ = run("pairs", "--top", "3")
    assert code == 0 and "Best pairings" in out
    code, out, _ = run("pairs", "--top", "3", "--format", "csv")
    assert code == 0 and len(out.strip().splitlines()) == 4


def test_explain_both_directions_with_quotes() -> None:
    code, out, _ = run("explain", "highreso", "yotta")
    assert code == 0
    assert "highreso -> yotta" in out and "yotta -> highreso" in out
    assert "Per dimension" in out and "evidence" in out
    code, out, _ = run("explain", "highreso", "yotta", "--format", "json")
    data = json.loads(out)
    assert data["a"]["id"] == "highreso" and data["b"]["id"] == "yotta" and data["reasons"]


def test_explain_background_flag_is_shown() -> None:
    _, out, _ = run("explain", "yotta", "highreso")
    assert "background knowledge" in out


def test_explain_unrelated_pair(market_dir: Path) -> None:
    code, out, _ = run("--profiles", str(market_dir), "explain", "idle", "factory")
    assert code == 0 and "none: neither side offers what the other needs" in out


def test_profiles_list_show() -> None:
    code, out, _ = run("profiles", "list")
    assert code == 0 and "highreso" in out and "india-ai-mission" in out
    code, out, _ = run("profiles", "list", "--format", "csv")
    assert code == 0 and out.splitlines()[0] == "id,name,country,kind,sectors"
    code, out, _ = run("profiles", "show", "india ai mission")
    assert code == 0 and "AI-Kosh" in out
    code, out, _ = run("profiles", "show", "meti", "--format", "json")
    assert code == 0 and json.loads(out)["id"] == "meti"


def test_validate_shipped_profiles_against_seeds(seeds: Path) -> None:
    code, out, err = run("profiles", "validate", "--sources", str(seeds))
    assert (code, err) == (0, "")
    assert "0 problems, 0 warnings; quotes checked against" in out


def test_validate_without_sources_says_quotes_were_not_checked() -> None:
    code, out, _ = run("profiles", "validate")
    assert code == 0 and "quotes NOT checked" in out


def test_validate_reports_every_problem(market_dir: Path) -> None:
    (market_dir / "factory.yaml").write_text(
        (market_dir / "factory.yaml").read_text().replace("strength: 3", "strength: 9")
    )
    (market_dir / "extra.yaml").write_text("id: extra\n")
    code, _, err = run("profiles", "validate", str(market_dir))
    assert code == 1
    assert "error: factory.yaml: offers.data[0].strength: strength must be a whole number from 1 to 3" in err
    assert "error: extra.yaml: name: missing required field 'name'" in err
    assert err.strip().endswith(f"problems in {market_dir}")


def test_broken_profile_folder_is_a_clear_error(market_dir: Path) -> None:
    (market_dir / "factory.yaml").write_text("id: [broken")
    code, out, err = run("--profiles", str(market_dir), "partners", "gpu-host")
    assert code == 1 and out == "" and err.startswith("error: factory.yaml: ")
    code, _, err = run("--profiles", str(market_dir / "nope"), "pairs")
    assert code == 1 and "does not exist" in err


def test_config_file_sets_weights(tmp_path: Path) -> None:
    config = tmp_path / "matchmaker.toml"
    config.write_text('[scoring]\ncombiner = "min"\nsector_weight = 0\n[scoring.dimension_weights]\ncompute = 2\n')
    code, out, _ = run("--config", str(config), "partners", "highreso", "--format", "json")
    assert code == 0
    assert json.loads(out)["settings"] | {} == json.loads(out)["settings"]
    assert json.loads(out)["settings"]["combiner"] == "min"
    config.write_text("[scoring\n")
    code, _, err = run("--config", str(config), "pairs")
    assert code == 1 and "is not valid TOML" in err
    config.write_text('[scoring]\ncolour = "red"\n')
    code, _, err = run("--config", str(config), "pairs")
    assert code == 1 and "setting 'scoring.colour'" in err


def test_a_fifth_dimension_from_the_vocabulary_file_works_end_to_end(market_dir: Path) -> None:
    """A programme adds `funding` to _vocabulary.yaml; profiles use it; ranking and validation follow."""
    vocabulary = yaml.safe_load((market_dir / "_vocabulary.yaml").read_text())
    vocabulary["dimensions"]["funding"] = "Money: grants, investment, subsidies."
    (market_dir / "_vocabulary.yaml").write_text(yaml.safe_dump(vocabulary))
    investor = {
        "id": "investor",
        "name": "Investor",
        "country": "JP",
        "kind": "corporate",
        "sectors": ["cloud"],
        "offers": {
            "funding": [
                {"description": "seed investment for ai startups", "strength": 3, "evidence": {"background": "test"}}
            ]
        },
        "needs": {
            "data": [
                {
                    "description": "indian speech recordings in many languages",
                    "strength": 2,
                    "evidence": {"background": "test"},
                }
            ]
        },
    }
    (market_dir / "investor.yaml").write_text(yaml.safe_dump(investor))
    speech = yaml.safe_load((market_dir / "speech.yaml").read_text())
    speech["needs"]["funding"] = [
        {"description": "seed investment for ai startups", "strength": 3, "evidence": {"background": "test"}}
    ]
    (market_dir / "speech.yaml").write_text(yaml.safe_dump(speech))
    assert run("profiles", "validate", str(market_dir))[0] == 0
    code, out, _ = run("--profiles", str(market_dir), "partners", "speech", "--format", "json")
    best = json.loads(out)["partners"][0]
    assert code == 0 and best["id"] == "investor"
    assert best["breakdown"]["dimensions"]["funding"] == {"a_to_b": 0.0, "b_to_a": 1.0}
    # --dimension scores on that dimension alone: funding flows one way only, so the harmonic mean is 0
    # and only a lenient combiner lists the investor.
    only_funding = ["--profiles", str(market_dir), "partners", "speech", "--dimension", "funding", "-f", "json"]
    assert json.loads(run(*only_funding)[1])["partners"] == []
    code, out, _ = run(*only_funding, "--combiner", "arithmetic")
    assert [p["id"] for p in json.loads(out)["partners"]] == ["investor"]
    code, _, err = run("--profiles", str(market_dir), "partners", "speech", "-w", "funding=-1")
    assert code == 1 and "weight of dimension 'funding' must be a number from 0 to 999.999999" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["partners"], "error: missing argument 'ORG' (see 'matchmaker partners --help')"),
        (["partners", "highreso", "--format", "xml"], "error: invalid value for '--format' / '-f': 'xml' is not one"),
        (["partners", "highreso", "--tpo", "3"], "error: no such option --tpo; did you mean --top?"),
        (["nosuch"], "error: no such command 'nosuch' (see 'matchmaker --help')"),
        (["explain", "highreso", "yotta", "--format", "csv"], "error: invalid value for '--format' / '-f': 'csv'"),
        (["profiles", "show", "highreso", "--format", "csv"], "error: invalid value for '--format' / '-f': 'csv'"),
        (["serve", "--port", "0"], "error: invalid value for '--port'"),
        (["partners", "highreso", "--top", "0"], "error: top must be a whole number from 1 to 1000, got 0"),
    ],
    ids=[
        "missing-argument",
        "bad-choice",
        "unknown-option",
        "unknown-command",
        "explain-csv",
        "show-csv",
        "range",
        "top",
    ],
)
def test_usage_errors_are_one_line_and_exit_1_like_every_error(args: list[str], message: str) -> None:
    code, out, err = run(*args)
    assert code == 1 and out == ""
    assert err.startswith(message) and err.count("\n") == 1, err
    assert "╭" not in err and "Usage:" not in err and "Traceback" not in err


def test_help_exits_0_also_when_no_command_is_given() -> None:
    for args in ([], ["profiles"], ["--help"], ["partners", "--help"]):
        code, out, _ = run(*args)
        assert code == 0 and "Usage: matchmaker" in out, args


def test_version() -> None:
    from matchmaker import __version__

    assert run("--version") == (0, f"matchmaker {__version__}\n", "")


def test_help_shows_a_value_only_for_options_that_take_one() -> None:
    for command in (["partners"], ["pairs"], ["report"], ["profiles", "validate"], []):
        code, out, _ = run(*command, "--help")
        assert code == 0
        assert "<bool>" not in out and "<list" not in out and "{" not in out, (command, out)
    _, out, _ = run("partners", "--help")
    assert "Usage: matchmaker partners [OPTIONS] ORG" in out
    assert "DIMENSION=NUMBER" in out and "<table|json|csv>" in out


def test_shell_completion_completes_commands_and_choices() -> None:
    env = {
        "_MATCHMAKER_COMPLETE": "complete_bash",
        "COMP_WORDS": "matchmaker partners highreso --format ",
        "COMP_CWORD": "4",
    }
    result = CliRunner().invoke(app, [], env=env, prog_name="matchmaker")
    assert result.exit_code == 0 and result.stdout.split() == ["table", "json", "csv"]
    assert "--install-completion" in run("--help")[1]


def test_server_only_settings_do_not_concern_read_only_commands() -> None:
    env = {"MATCHMAKER_API_KEYS": "plainkey", "MATCHMAKER_CORS_ORIGINS": "*", "MATCHMAKER_MAX_BODY_BYTES": "lots"}
    code, out, err = run("partners", "highreso", "--top", "1", "--format", "json", env=env)
    assert code == 0 and json.loads(out)["partners"], err
    assert run("profiles", "list", env=env)[0] == 0


def test_a_server_only_setting_is_checked_by_serve_in_one_line() -> None:
    code, _, err = run("serve", env={"MATCHMAKER_MAX_BODY_BYTES": "lots"})
    assert code == 1 and err.count("\n") == 1
    assert err.startswith("error: setting 'max_body_bytes' (MATCHMAKER_MAX_BODY_BYTES or the config file): ")
    code, _, err = run("serve", env={"MATCHMAKER_API_KEYS": '["unclosed'})
    assert code == 1 and "starts with '[' but is not a JSON list" in err and "unclosed" not in err  # a secret


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.mkdir(), "is a folder; give a TOML file"),
        (lambda p: p.write_bytes(b"\x7fELF\x02\x01\x01\x00\xff\xfe"), "is not UTF-8 text (byte 8); give a TOML file"),
        (lambda p: p.write_text("[scoring\n"), "is not valid TOML"),
        (lambda p: None, "does not exist"),
        (lambda p: p.write_text("colour = 1\n"), "unknown setting 'colour'"),
    ],
    ids=["folder", "binary", "not-toml", "missing", "unknown-key"],
)
def test_a_config_file_that_cannot_be_used_is_one_line(tmp_path: Path, make: Any, message: str) -> None:
    config = tmp_path / "matchmaker.toml"
    make(config)
    code, _, err = run("--config", str(config), "partners", "highreso")
    assert code == 1 and message in err and err.count("\n") == 1 and "Traceback" not in err


def test_terminal_width_follows_the_terminal_even_through_a_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from matchmaker.cli.context import terminal_width

    monkeypatch.delenv("COLUMNS", raising=False)

    def size(fd: int) -> os.terminal_size:
        if fd == 1:
            raise OSError("standard output is a pipe")
        return os.terminal_size((77, 20))

    monkeypatch.setattr(os, "get_terminal_size", size)
    assert terminal_width() == 77
    monkeypatch.setenv("COLUMNS", "64")
    assert terminal_width() == 64
