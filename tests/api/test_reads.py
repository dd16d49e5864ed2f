"""Read endpoints answer with exactly the CLI's JSON shapes, filter, paginate and cap what they return.

The tests share one app (``reader``): nothing here writes.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.support import SHIPPED, TestClient, attendee, cli_json


def test_healthz(reader: TestClient) -> None:
    response = reader.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "organisations": len(SHIPPED),
        "registered": 0,
        "database": "sqlite",
        "embedding_backlog": 0,
    }


def test_vocabulary_lists_what_a_profile_may_use(reader: TestClient) -> None:
    body = reader.get("/v1/vocabulary").json()
    assert set(body) == {"dimensions", "kinds", "sectors", "tags", "combiners", "attributes"}
    assert "compute" in body["dimensions"] and "startup" in body["kinds"] and "gpu-cloud" in body["tags"]
    assert "harmonic" in body["combiners"]
    assert body["attributes"]["language"]["values"]["hi"] == "Hindi"
    assert "compute" in body["attributes"]["location"]["dimensions"]


def test_list_is_sorted_paginated_and_counts_the_total(reader: TestClient) -> None:
    first = reader.get("/v1/organisations", params={"page_size": 5}).json()
    second = reader.get("/v1/organisations", params={"page_size": 5, "page": 2}).json()
    everyone = sorted(SHIPPED)
    assert [o["id"] for o in first["organisations"]] == everyone[:5]
    assert [o["id"] for o in second["organisations"]] == everyone[5:10]
    assert first["total"] == len(SHIPPED) and first["page_size"] == 5 and second["page"] == 2
    assert reader.get("/v1/organisations", params={"page": 1000}).json()["organisations"] == []
    assert (
        cli_json("profiles", "list")["organisations"]
        == reader.get("/v1/organisations", params={"page_size": 100}).json()["organisations"]
    )


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"country": "IN"}, {p.id for p in SHIPPED.values() if "IN" in p.countries}),
        ({"kind": "government"}, {p.id for p in SHIPPED.values() if p.kind == "government"}),
        ({"sector": "generative-ai"}, {p.id for p in SHIPPED.values() if "generative-ai" in p.sectors}),
        (
            {"country": "JP", "kind": "corporate"},
            {p.id for p in SHIPPED.values() if "JP" in p.countries and p.kind == "corporate"},
        ),
    ],
    ids=["country", "kind", "sector", "country-and-kind"],
)
def test_list_filters(reader: TestClient, params: dict[str, str], expected: set[str]) -> None:
    body = reader.get("/v1/organisations", params={**params, "page_size": 100}).json()
    assert expected and {o["id"] for o in body["organisations"]} == expected
    assert body["total"] == len(expected)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"page_size": 101}, "page_size"),
        ({"page_size": 0}, "page_size"),
        ({"page": 0}, "page"),
        ({"kind": "pirate"}, "unknown kind 'pirate'; accepted: government"),
        ({"sector": "piracy"}, "unknown sector 'piracy'; accepted: manufacturing"),
        ({"country": "XX"}, "unknown country 'XX'"),
        ({"country": "jp"}, "unknown country 'jp'"),
    ],
    ids=["page-size-cap", "page-size-zero", "page-zero", "kind", "sector", "country", "lower-case-country"],
)
def test_list_rejects_bad_filters(reader: TestClient, params: dict[str, Any], message: str) -> None:
    response = reader.get("/v1/organisations", params=params)
    assert response.status_code == 422
    assert message in response.json()["detail"]


def test_profile_with_evidence_is_the_cli_view(reader: TestClient) -> None:
    body = reader.get("/v1/organisations/highreso").json()
    assert body == cli_json("profiles", "show", "highreso")
    assert body["offers"]["compute"][0]["evidence"]["source"] == "000_740288d10d6fbf25.txt"


def test_profile_by_name_case_insensitive(reader: TestClient) -> None:
    assert reader.get("/v1/organisations/HIGHRESO").json()["id"] == "highreso"


def test_unknown_organisation_is_404_naming_it_with_suggestions(reader: TestClient) -> None:
    response = reader.get("/v1/organisations/highres")
    assert response.status_code == 404
    body = response.json()
    assert body["detail"].startswith("unknown organisation 'highres'; did you mean 'highreso'")
    assert body["suggestions"][0] == "highreso"


def test_partners_are_the_cli_json(reader: TestClient) -> None:
    assert reader.get("/v1/organisations/highreso/partners").json() == cli_json("partners", "highreso")


@pytest.mark.parametrize(
    ("params", "cli_args"),
    [
        ({"top": 3}, ["--top", "3"]),
        ({"dimension": "compute"}, ["--dimension", "compute"]),
        ({"country": "IN"}, ["--country", "IN"]),
        ({"cross_border": "true"}, ["--cross-border"]),
        ({"weights": "compute:2,data:0"}, ["-w", "compute=2", "-w", "data=0"]),
        (
            {"sector_weight": 1, "cross_border_weight": 0.5, "combiner": "min"},
            ["--sector-weight", "1", "--cross-border-weight", "0.5", "--combiner", "min"],
        ),
    ],
    ids=["top", "dimension", "country", "cross-border", "weights", "terms-and-combiner"],
)
def test_partner_options_match_the_cli(reader: TestClient, params: dict[str, Any], cli_args: list[str]) -> None:
    response = reader.get("/v1/organisations/highreso/partners", params=params)
    assert response.status_code == 200
    assert response.json() == cli_json("partners", "highreso", *cli_args)


def test_weights_change_the_ranking(reader: TestClient) -> None:
    compute = reader.get("/v1/organisations/highreso/partners", params={"dimension": "compute"}).json()
    domain = reader.get("/v1/organisations/highreso/partners", params={"weights": "compute:0,data:0,talent:0"}).json()
    assert compute["partners"] != domain["partners"]
    assert domain["settings"]["dimension_weights"] == {"compute": 0.0, "data": 0.0, "talent": 0.0}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"top": 1001}, "top must be a whole number from 1 to 1000, got 1001"),
        ({"top": 0}, "top must be a whole number from 1 to 1000, got 0"),
        ({"dimension": "money"}, "unknown dimension 'money'; accepted: data, compute, talent, domain"),
        ({"weights": "money:2"}, "unknown dimension 'money' in weights; accepted: data, compute, talent, domain"),
        ({"weights": "compute=2"}, "expected DIMENSION:NUMBER pairs separated by commas, e.g. data:2"),
        ({"weights": "compute:-1"}, "weight of dimension 'compute' must be a number from 0 to 999.999999"),
        ({"weights": "data:0,compute:0,talent:0,domain:0"}, "at least one dimension weight must be above 0"),
        ({"sector_weight": -1}, "sector weight must be a number from 0 to 1000, got -1.0"),
        ({"sector_weight": "nan"}, "sector weight must be a number from 0 to 1000, got nan"),
        ({"cross_border_weight": 1e9}, "cross-border weight must be a number from 0 to 1000, got 1000000000.0"),
        ({"combiner": "max"}, "unknown combiner 'max'; accepted: harmonic"),
    ],
    ids=[
        "top-cap",
        "top-zero",
        "dimension",
        "weights-dimension",
        "weights-syntax",
        "weights-negative",
        "weights-all-zero",
        "sector-weight-negative",
        "sector-weight-nan",
        "cross-border-weight-cap",
        "combiner",
    ],
)
def test_partner_options_are_validated(reader: TestClient, params: dict[str, Any], message: str) -> None:
    response = reader.get("/v1/organisations/highreso/partners", params=params)
    assert response.status_code == 422
    assert message in response.json()["detail"]


def test_partners_of_unknown_organisation(reader: TestClient) -> None:
    response = reader.get("/v1/organisations/nobody-at-all/partners")
    assert response.status_code == 404 and "unknown organisation 'nobody-at-all'" in response.json()["detail"]


def test_pairings_are_the_cli_json(reader: TestClient) -> None:
    assert reader.get("/v1/pairings").json() == cli_json("pairs")
    assert reader.get("/v1/pairings", params={"top": 5, "cross_border": True}).json() == cli_json(
        "pairs", "--top", "5", "--cross-border"
    )


def test_pairings_weights_match_the_cli(reader: TestClient) -> None:
    response = reader.get("/v1/pairings", params={"weights": "talent:3", "combiner": "geometric"})
    assert response.json() == cli_json("pairs", "-w", "talent=3", "--combiner", "geometric")


def test_explanation_is_the_cli_json_both_directions_with_evidence(reader: TestClient) -> None:
    body = reader.get("/v1/pairings/highreso/yotta").json()
    assert body == cli_json("explain", "highreso", "yotta")
    assert {r["direction"] for r in body["reasons"]} == {"a_to_b", "b_to_a"}
    assert all("evidence" in r["offer"] and "evidence" in r["need"] for r in body["reasons"])


def test_explanation_errors(reader: TestClient) -> None:
    same = reader.get("/v1/pairings/highreso/HIGHRESO")
    assert same.status_code == 422 and "cannot pair 'highreso' with itself" in same.json()["detail"]
    unknown = reader.get("/v1/pairings/highreso/yotaa")
    assert unknown.status_code == 404 and "yotta" in unknown.json()["suggestions"]


def test_match_ranks_an_ad_hoc_profile_and_stores_nothing(reader: TestClient) -> None:
    response = reader.post("/v1/match", json=attendee(), params={"top": 5})
    assert response.status_code == 200
    body = response.json()
    assert body["organisation"]["id"] == "ad-hoc" and body["organisation"]["name"] == "Acme Robotics"
    assert 0 < len(body["partners"]) <= 5
    assert reader.get("/healthz").json()["organisations"] == len(SHIPPED)
    assert reader.get("/v1/organisations/ad-hoc").status_code == 404


def test_match_is_open_without_a_key_and_validates_the_vocabulary(reader: TestClient) -> None:
    response = reader.post("/v1/match", json=attendee(kind="pirate"))
    assert response.status_code == 422
    assert "unknown kind 'pirate'; accepted:" in response.json()["detail"]
