"""GET /v1/reports/pairings serves the same report as `matchmaker report`, to staff, cached and one at a time."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.api.support import AUTH, TestClient, attendee, cli_json

REPORT = "/v1/reports/pairings"


def test_json_report_agrees_with_pairs(client: TestClient) -> None:
    response = client.get(REPORT, headers=AUTH, params={"format": "json", "top": 5})
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    text = response.text
    for pair in cli_json("pairs", "--top", "5")["pairs"]:
        assert pair["a"] in text and pair["b"] in text and f"{pair['score']}" in text


def test_html_report_is_self_contained(client: TestClient) -> None:
    response = client.get(REPORT, headers=AUTH, params={"top": 3})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "<svg" in response.text and "<script src" not in response.text


def test_csv_and_markdown(client: TestClient) -> None:
    rows = list(csv.DictReader(io.StringIO(client.get(REPORT, headers=AUTH, params={"format": "csv"}).text)))
    assert len(rows) > 10 and {"a", "b", "score"} <= set(rows[0])  # ten Japan-India pairs, then same-country
    markdown = client.get(REPORT, headers=AUTH, params={"format": "md", "org": "highreso"}).text
    assert "Highreso" in markdown


def test_report_errors_are_json(client: TestClient) -> None:
    unknown = client.get(REPORT, headers=AUTH, params={"org": "nobody-at-all"})
    assert unknown.status_code == 404 and "unknown organisation" in unknown.json()["detail"]
    bad = client.get(REPORT, headers=AUTH, params={"format": "pdf"})
    assert bad.status_code == 422 and "detail" in bad.json()


def test_registered_attendee_appears_in_the_report(client: TestClient) -> None:
    put = client.put("/v1/organisations/reporter", json=attendee("Reporter Robotics"), headers=AUTH)
    assert put.status_code in (200, 201)
    markdown = client.get(REPORT, headers=AUTH, params={"format": "md", "org": "reporter"}).text
    assert "Reporter Robotics" in markdown


def test_a_declined_pair_is_in_no_report(client: TestClient) -> None:
    """Staff make introductions from reports: after a decline the pair is neither a row nor the top pairing.

    On the code before the restructuring (253b79a) the report did not consult the feedback: this failed.
    """
    params = {"format": "csv", "top": 100, "org": "highreso"}
    before = list(csv.DictReader(io.StringIO(client.get(REPORT, headers=AUTH, params=params).text)))
    top = before[0]["b"]  # the top pairing, until declined
    enabler = "india-ai-mission"  # the reproduction: now listed among highreso's enablers
    for partner in (top, enabler):
        declined = {"organisation": "highreso", "partner": partner, "outcome": "declined"}
        assert client.post("/v1/feedback", json=declined, headers=AUTH).status_code == 201
    after = list(csv.DictReader(io.StringIO(client.get(REPORT, headers=AUTH, params=params).text)))
    assert after and all({r["a"], r["b"]} & {top, enabler} == set() for r in after)
    document = client.get(REPORT, headers=AUTH, params={"format": "json", "top": 100}).json()
    for pair in (*document["pairs"], *document.get("enablers", [])):
        assert {pair["a"], pair["b"]} not in ({"highreso", top}, {"highreso", enabler}), pair
    listed = next(s for s in document["partners"] if s["organisation"]["id"] == "highreso")
    assert {top, enabler} & {p["id"] for p in listed["partners"]} == set()
    markdown = client.get(REPORT, headers=AUTH, params={"format": "md", "org": "highreso"}).text
    glance = next(line for line in markdown.splitlines() if line.startswith("**At a glance:**"))
    names = {p["id"]: p["name"] for p in cli_json("profiles", "list")["organisations"]}
    assert names[top] not in glance.split(";")[0]


def test_the_html_report_carries_a_content_security_policy_header(client: TestClient) -> None:
    response = client.get(REPORT, headers=AUTH, params={"top": 3})
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"


def test_a_report_is_rendered_once_per_population_version(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import matchmaker.service.report_routes as routes

    calls: list[str] = []
    original = routes.render_report

    def counting(*args: Any) -> tuple[bytes, str]:
        calls.append("render")
        return original(*args)

    monkeypatch.setattr(routes, "render_report", counting)
    first = client.get(REPORT, headers=AUTH, params={"format": "md"}).text
    assert client.get(REPORT, headers=AUTH, params={"format": "md"}).text == first and len(calls) == 1
    client.get(REPORT, headers=AUTH, params={"format": "md", "top": 3})
    assert len(calls) == 2  # other options: another report
    client.put("/v1/organisations/late-comer", json=attendee("Late Comer"), headers=AUTH)
    assert "Late Comer" in client.get(REPORT, headers=AUTH, params={"format": "md"}).text and len(calls) == 3


def test_while_one_report_renders_another_is_refused_not_queued(client: TestClient) -> None:
    service = client.app.state.service  # type: ignore[attr-defined]
    with service._rendering_report:  # a report rendering in another thread
        busy = client.get(REPORT, headers=AUTH, params={"format": "md", "top": 4})
    assert busy.status_code == 429 and busy.headers["retry-after"] == "5"
    assert "another report is being prepared" in busy.json()["detail"]
    assert client.get(REPORT, headers=AUTH, params={"format": "md", "top": 4}).status_code == 200
