"""The committed OpenAPI contract is what the app serves, declares every error, and matches the responses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from matchmaker.service.schemas import OrganisationPageOut
from matchmaker.shapes import ExplanationOut, PairsOut, PartnersOut, ProfileOut
from tests.api.support import AUTH, TestClient, attendee

CONTRACT = Path(__file__).resolve().parents[2] / "api" / "openapi.json"
REGENERATE = "python -m matchmaker.service.openapi > api/openapi.json"


def test_committed_contract_is_what_the_app_serves(reader: TestClient) -> None:
    served = reader.get("/openapi.json").json()
    assert json.loads(CONTRACT.read_text(encoding="utf-8")) == served, f"regenerate it: {REGENERATE}"


def test_committed_contract_is_the_scripts_output_byte_for_byte(tmp_path: Path) -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "matchmaker.service.openapi"],
        capture_output=True,
        check=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
    ).stdout
    assert printed == CONTRACT.read_bytes(), f"regenerate it: {REGENERATE}"
    assert not list(tmp_path.iterdir()), "generating the contract must not create a database"


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    paths = json.loads(CONTRACT.read_text(encoding="utf-8"))["paths"]
    return [(method.upper(), path, op) for path, item in paths.items() for method, op in item.items()]


EXPECTED_ERRORS = {
    ("GET", "/healthz"): {"500", "503"},
    ("GET", "/v1/vocabulary"): set(),
    ("GET", "/v1/organisations"): {"422", "500"},
    ("GET", "/v1/organisations/{org}"): {"404", "422", "500"},
    ("PUT", "/v1/organisations/{org}"): {"400", "401", "403", "409", "413", "415", "422", "500"},
    ("DELETE", "/v1/organisations/{org}"): {"401", "403", "404", "409", "422", "500"},
    ("GET", "/v1/organisations/{org}/partners"): {"404", "422", "500"},
    ("POST", "/v1/match"): {"400", "413", "415", "422", "500"},
    ("GET", "/v1/pairings"): {"422", "500"},
    ("GET", "/v1/pairings/{a}/{b}"): {"404", "422", "500"},
    ("POST", "/v1/feedback"): {"400", "401", "403", "404", "413", "415", "422", "500"},
    ("GET", "/v1/reports/pairings"): {"401", "403", "404", "422", "429", "500"},
    ("GET", "/v1/events"): {"500"},
    ("PUT", "/v1/events/{event}"): {"400", "401", "403", "413", "415", "422", "500"},
    ("GET", "/v1/events/{event}"): {"404", "422", "500"},
    ("DELETE", "/v1/events/{event}"): {"401", "403", "404", "422", "500"},
    ("PUT", "/v1/events/{event}/participants/{org}"): {"400", "401", "403", "404", "409", "413", "415", "422", "500"},
    ("DELETE", "/v1/events/{event}/participants/{org}"): {"401", "403", "404", "409", "422", "500"},
    ("POST", "/v1/events/{event}/requests"): {"400", "401", "403", "404", "409", "413", "415", "422", "500"},
    ("POST", "/v1/events/{event}/requests/{by}/{to}/accept"): {"401", "403", "404", "409", "422", "500"},
    ("POST", "/v1/events/{event}/requests/{by}/{to}/decline"): {"401", "403", "404", "409", "422", "500"},
    ("POST", "/v1/events/{event}/schedule"): {"400", "401", "403", "404", "413", "415", "422", "500"},
    ("GET", "/v1/jobs/{job}"): {"404", "422", "500"},
    ("GET", "/v1/events/{event}/schedule"): {"404", "422", "500"},
    ("GET", "/v1/events/{event}/agendas/{org}"): {"404", "422", "500"},
}


def test_every_operation_declares_its_errors_as_json_with_a_detail() -> None:
    operations = _operations()
    assert {(m, p) for m, p, _ in operations} == set(EXPECTED_ERRORS)
    for method, path, op in operations:
        errors = {code for code in op["responses"] if code >= "400"}
        assert errors == EXPECTED_ERRORS[(method, path)], (method, path)
        for code in errors:
            schema = op["responses"][code]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (method, path, code)
        assert op["summary"] and op["description"], (method, path)


def test_contract_states_the_vocabulary_and_the_text_rule(reader: TestClient) -> None:
    contract = json.loads(CONTRACT.read_text(encoding="utf-8"))
    schemas = contract["components"]["schemas"]
    vocabulary = reader.get("/v1/vocabulary").json()
    assert schemas["Kind"]["enum"] == vocabulary["kinds"]
    assert schemas["Tag"]["enum"] == list(vocabulary["tags"])
    assert set(schemas["ProfileIn"]["properties"]["offers"]["properties"]) == set(vocabulary["dimensions"])
    for dimension in vocabulary["dimensions"]:  # an item declares the attributes that apply in its dimension
        items = schemas["ProfileIn"]["properties"]["offers"]["properties"][dimension]["items"]
        declared = schemas[items["$ref"].rsplit("/", 1)[1]]["properties"]["attributes"]["anyOf"][0]
        expected = {n: list(a["values"]) for n, a in vocabulary["attributes"].items() if dimension in a["dimensions"]}
        assert {n: p["items"]["enum"] for n, p in declared["properties"].items()} == expected, dimension
        assert declared["additionalProperties"] is False
    assert "bidirectional marks, overrides and isolates" in contract["info"]["description"]
    for code in ("\\u2028-\\u202E", "\\u061C", "\\u180E", "\\u2066-\\u2069"):
        assert code in schemas["ProfileIn"]["properties"]["name"]["pattern"], code


def test_interactive_docs_work_offline(reader: TestClient) -> None:
    """Swagger UI comes from the installed package: the docs open on a venue network without internet."""
    response = reader.get("/docs")
    assert response.status_code == 200 and "swagger-ui" in response.text
    assert "https://" not in response.text and "http://" not in response.text
    for asset in ("/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"):
        assert asset in response.text
        loaded = reader.get(asset)
        assert loaded.status_code == 200 and len(loaded.content) > 100_000, asset
    assert "script-src 'self'" in response.headers["content-security-policy"]


@pytest.mark.parametrize(
    ("path", "model"),
    [
        ("/v1/organisations?page_size=100", OrganisationPageOut),
        ("/v1/organisations/highreso", ProfileOut),
        ("/v1/organisations/india-ai-mission", ProfileOut),
        ("/v1/organisations/highreso/partners?top=100", PartnersOut),
        ("/v1/pairings?top=100", PairsOut),
        ("/v1/pairings/highreso/yotta", ExplanationOut),
    ],
    ids=["list", "profile", "profile-2", "partners", "pairings", "explanation"],
)
def test_documented_models_describe_the_responses_exactly(reader: TestClient, path: str, model: type) -> None:
    body = reader.get(path).json()
    adapter: TypeAdapter[object] = TypeAdapter(model)
    assert adapter.dump_python(adapter.validate_python(body), mode="json") == body


def test_registered_profile_response_is_documented(client: TestClient) -> None:
    body = client.put("/v1/organisations/acme", json=attendee(), headers=AUTH).json()
    adapter: TypeAdapter[ProfileOut] = TypeAdapter(ProfileOut)
    assert adapter.dump_python(adapter.validate_python(body), mode="json") == body
