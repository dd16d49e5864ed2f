"""The CLI and the API give the same answer, or the same error, to the same question.

Both read one database: an attendee registered and a pair declined through the API are in the CLI's
next answer too. Each case is written once, in both syntaxes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from matchmaker.cli import app as cli
from matchmaker.service import create_app
from tests.api.support import AUTH, KEY, TestClient, attendee, settings


@dataclass(frozen=True)
class Case:
    cli: tuple[str, ...]
    path: str
    params: dict[str, Any] = field(default_factory=dict)


ANSWERS = {
    "partners": Case(("partners", "highreso"), "/v1/organisations/highreso/partners"),
    "partners-by-name": Case(
        ("partners", "India AI Mission", "--top", "3"), "/v1/organisations/India AI Mission/partners", {"top": 3}
    ),
    "partners-dimension": Case(
        ("partners", "highreso", "--dimension", "compute"),
        "/v1/organisations/highreso/partners",
        {"dimension": "compute"},
    ),
    "partners-country": Case(
        ("partners", "highreso", "--country", "IN"), "/v1/organisations/highreso/partners", {"country": "IN"}
    ),
    "partners-cross-border": Case(
        ("partners", "yotta", "--cross-border"), "/v1/organisations/yotta/partners", {"cross_border": "true"}
    ),
    "partners-weights": Case(
        ("partners", "highreso", "-w", "compute=2", "-w", "data=0.5", "--sector-weight", "0.5"),
        "/v1/organisations/highreso/partners",
        {"weights": "compute:2,data:0.5", "sector_weight": 0.5},
    ),
    "partners-combiner": Case(
        ("partners", "tcs", "--combiner", "arithmetic", "--cross-border-weight", "0.2"),
        "/v1/organisations/tcs/partners",
        {"combiner": "arithmetic", "cross_border_weight": 0.2},
    ),
    "pairs": Case(("pairs", "--top", "15"), "/v1/pairings", {"top": 15}),
    "pairs-cross-border": Case(("pairs", "--cross-border"), "/v1/pairings", {"cross_border": "true"}),
    "explain": Case(("explain", "highreso", "yotta"), "/v1/pairings/highreso/yotta"),
    "explain-dimension": Case(
        ("explain", "tcs", "fujitsu", "--dimension", "talent"), "/v1/pairings/tcs/fujitsu", {"dimension": "talent"}
    ),
    "newcomer": Case(("partners", "acme-robotics"), "/v1/organisations/acme-robotics/partners"),
    "declined": Case(("partners", "fujitsu", "--top", "20"), "/v1/organisations/fujitsu/partners", {"top": 20}),
}

ERRORS = {
    "unknown-organisation": Case(("partners", "fujitsuu"), "/v1/organisations/fujitsuu/partners"),
    "unknown-country": Case(
        ("partners", "highreso", "--country", "XX"), "/v1/organisations/highreso/partners", {"country": "XX"}
    ),
    "lower-case-country": Case(
        ("partners", "highreso", "--country", "jp"), "/v1/organisations/highreso/partners", {"country": "jp"}
    ),
    "country-name": Case(
        ("partners", "highreso", "--country", "Japan"), "/v1/organisations/highreso/partners", {"country": "Japan"}
    ),
    "weights-dimension": Case(
        ("partners", "highreso", "-w", "money=2"), "/v1/organisations/highreso/partners", {"weights": "money:2"}
    ),
    "weights-negative": Case(
        ("partners", "highreso", "-w", "data=-1"), "/v1/organisations/highreso/partners", {"weights": "data:-1"}
    ),
    "weights-not-a-number": Case(
        ("partners", "highreso", "-w", "data=lots"), "/v1/organisations/highreso/partners", {"weights": "data:lots"}
    ),
    "weights-all-zero": Case(
        ("pairs", "-w", "data=0", "-w", "compute=0", "-w", "talent=0", "-w", "domain=0"),
        "/v1/pairings",
        {"weights": "data:0,compute:0,talent:0,domain:0"},
    ),
    "sector-weight": Case(("pairs", "--sector-weight", "-1"), "/v1/pairings", {"sector_weight": -1}),
    "combiner": Case(("pairs", "--combiner", "median"), "/v1/pairings", {"combiner": "median"}),
    "dimension": Case(
        ("partners", "highreso", "--dimension", "money"), "/v1/organisations/highreso/partners", {"dimension": "money"}
    ),
    "top-zero": Case(("partners", "highreso", "--top", "0"), "/v1/organisations/highreso/partners", {"top": 0}),
    "top-too-many": Case(("pairs", "--top", "1001"), "/v1/pairings", {"top": 1001}),
    "explain-self": Case(("explain", "tcs", "TCS"), "/v1/pairings/tcs/TCS"),
}


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """The API on a database with one registered attendee and one decline, and the CLI's environment for it.

    The server that took the registration scores the attendee with the vocabulary it fitted at start
    (until it is restarted, see the README); a server started on that database fits it in, as the CLI does.
    """
    database = tmp_path_factory.mktemp("parity") / "matchmaker.db"
    with TestClient(create_app(settings(database, api_keys=[KEY]))) as writer:
        assert writer.put("/v1/organisations/acme-robotics", json=attendee(), headers=AUTH).status_code == 201
        best = writer.get("/v1/organisations/fujitsu/partners").json()["partners"][0]["id"]
        decline = {"organisation": "fujitsu", "partner": best, "outcome": "declined"}
        assert writer.post("/v1/feedback", json=decline, headers=AUTH).status_code == 201
    with TestClient(create_app(settings(database, api_keys=[KEY]))) as client:
        yield client, {"MATCHMAKER_DATABASE": str(database)}


def run_cli(args: tuple[str, ...], env: dict[str, str], *, json_output: bool) -> tuple[int, str, str]:
    extra = ("--format", "json") if json_output else ()
    result = CliRunner().invoke(cli, [*args, *extra], env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("case", ANSWERS.values(), ids=ANSWERS.keys())
def test_same_answer(both: tuple[TestClient, dict[str, str]], case: Case) -> None:
    client, env = both
    code, out, err = run_cli(case.cli, env, json_output=True)
    assert code == 0, err
    response = client.get(case.path, params=case.params)
    assert response.status_code == 200, response.text
    assert json.loads(out) == response.json()


def test_the_decline_and_the_newcomer_are_seen_by_both(both: tuple[TestClient, dict[str, str]]) -> None:
    client, env = both
    _, out, _ = run_cli(ANSWERS["declined"].cli, env, json_output=True)
    declined = client.get("/v1/organisations/fujitsu/partners", params={"top": 20}).json()
    listed = [p["id"] for p in json.loads(out)["partners"]]
    assert listed == [p["id"] for p in declined["partners"]]
    fresh = CliRunner().invoke(
        cli, ["partners", "fujitsu", "--top", "20", "--format", "json"], env={"MATCHMAKER_DATABASE": "none.db"}
    )
    assert len({p["id"] for p in json.loads(fresh.stdout)["partners"]} - set(listed)) == 1  # the declined one
    _, out, _ = run_cli(("profiles", "show", "acme-robotics"), env, json_output=True)
    assert json.loads(out)["name"] == "Acme Robotics"


@pytest.mark.parametrize("case", ERRORS.values(), ids=ERRORS.keys())
def test_same_error(both: tuple[TestClient, dict[str, str]], case: Case) -> None:
    client, env = both
    code, out, err = run_cli(case.cli, env, json_output=True)
    response = client.get(case.path, params=case.params)
    assert code == 1 and out == "", out
    assert response.status_code in (404, 422), response.text
    assert err.strip() == f"error: {response.json()['detail']}"


def test_the_cli_creates_no_database(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["partners", "highreso", "--format", "json"], env={"MATCHMAKER_DATABASE": str(tmp_path / "x.db")}
    )
    assert result.exit_code == 0 and not (tmp_path / "x.db").exists()
