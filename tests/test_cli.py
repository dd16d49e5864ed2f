from __future__ import annotations

import json
from pathlib import Path

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
