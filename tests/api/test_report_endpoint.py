"""GET /v1/reports/pairings serves the same report as `matchmaker report`."""

from __future__ import annotations

import csv
import io

from tests.api.support import AUTH, TestClient, attendee, cli_json


def test_json_report_agrees_with_pairs(client: TestClient) -> None:
    response = client.get("/v1/reports/pairings", params={"format": "json", "top": 5})
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    text = response.text
    for pair in cli_json("pairs", "--top", "5")["pairs"]:
        assert pair["a"] in text and pair["b"] in text and f"{pair['score']}" in text


def test_html_report_is_self_contained(client: TestClient) -> None:
    response = client.get("/v1/reports/pairings", params={"top": 3})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "<svg" in response.text and "<script src" not in response.text


def test_csv_and_markdown(client: TestClient) -> None:
    rows = list(csv.DictReader(io.StringIO(client.get("/v1/reports/pairings", params={"format": "csv"}).text)))
    assert len(rows) == 10 and {"a", "b", "score"} <= set(rows[0])
    markdown = client.get("/v1/reports/pairings", params={"format": "md", "org": "highreso"}).text
    assert "Highreso" in markdown


def test_report_errors_are_json(client: TestClient) -> None:
    unknown = client.get("/v1/reports/pairings", params={"org": "nobody-at-all"})
    assert unknown.status_code == 404 and "unknown organisation" in unknown.json()["detail"]
    bad = client.get("/v1/reports/pairings", params={"format": "pdf"})
    assert bad.status_code == 422 and "detail" in bad.json()


def test_registered_attendee_appears_in_the_report(client: TestClient) -> None:
    put = client.put("/v1/organisations/reporter", json=attendee("Reporter Robotics"), headers=AUTH)
    assert put.status_code in (200, 201)
    markdown = client.get("/v1/reports/pairings", params={"format": "md", "org": "reporter"}).text
    assert "Reporter Robotics" in markdown
