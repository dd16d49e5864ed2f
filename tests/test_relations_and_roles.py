"""Related organisations are not recommended by default, enablers come in their own list, everywhere."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from matchmaker.application.queries import PairsQuery, PartnersQuery
from matchmaker.application.workspace import Workspace
from matchmaker.cli import app as cli
from matchmaker.cli.context import CommandContext
from matchmaker.service import create_app
from tests.api.support import AUTH, KEY, TestClient, attendee, settings


@pytest.fixture(scope="module")
def shipped() -> Workspace:
    return CommandContext(None, None).workspace


def test_related_organisations_are_left_out_of_partner_lists_and_pairs(shipped: Workspace) -> None:
    related = shipped.related
    assert frozenset(("ai-kosh", "india-ai-mission")) in related  # seed 000: an initiative of the Mission
    assert frozenset(("japan-aisi", "mofa")) in related  # both bodies of the government of Japan
    for profile in shipped.population.profiles:
        found = shipped.partners(PartnersQuery(profile.id, top=23, enablers=23))
        for m in [*found.partners, *found.enablers]:
            assert frozenset((m.a.id, m.b.id)) not in related, (m.a.id, m.b.id)
    pairs = shipped.pairs(PairsQuery(top=300, enablers=50))
    assert pairs.pairs and not any(frozenset((m.a.id, m.b.id)) in related for m in [*pairs.pairs, *pairs.enablers])


def test_related_ones_are_listed_and_marked_when_asked(shipped: Workspace) -> None:
    found = shipped.partners(PartnersQuery("ai-kosh", top=23, enablers=23, include_related=True))
    mission = next(m for m in found.enablers if m.b.id == "india-ai-mission")
    assert mission.connections == ("ai-kosh is part of india-ai-mission", "bodies of the same government (IN)")
    assert all(not m.connections for m in found.partners if frozenset(("ai-kosh", m.b.id)) not in shipped.related)


def test_partner_lists_rank_counterparts_and_list_enablers_apart(shipped: Workspace) -> None:
    roles = shipped.roles
    for profile in shipped.population.profiles:
        found = shipped.partners(PartnersQuery(profile.id, top=5, enablers=5))
        assert all(roles.get(m.b.kind) != "enabler" for m in found.partners)
        assert all(roles.get(m.b.kind) == "enabler" for m in found.enablers)
    pairs = shipped.pairs(PairsQuery(top=50, enablers=10))
    assert all(roles.get(m.a.kind) != "enabler" and roles.get(m.b.kind) != "enabler" for m in pairs.pairs)
    assert pairs.enablers and all(
        roles.get(m.a.kind) != "enabler" and roles.get(m.b.kind) == "enabler" for m in pairs.enablers
    )


def run(*args: str, env: dict[str, str] | None = None) -> Any:
    result = CliRunner().invoke(cli, [*args, "--format", "json"], env=env)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_the_cli_and_the_api_show_enablers_and_connections() -> None:
    data = run("partners", "highreso")
    assert [p["id"] for p in data["enablers"]][:1] == ["india-ai-mission"] and data["partners"][0]["id"] == "yotta"
    assert all(p["already_connected"] == [] for p in data["partners"])
    marked = run("partners", "ai-kosh", "--include-related", "--enablers", "10")
    assert any(p["already_connected"] for p in marked["enablers"])
    pairs = run("pairs", "--top", "5", "--enablers", "2")
    assert len(pairs["enablers"]) == 2 and set(pairs) == {"settings", "pairs", "enablers"}


@pytest.fixture
def client(tmp_path: Any) -> Iterator[TestClient]:
    with TestClient(create_app(settings(tmp_path / "m.db", api_keys=[KEY]))) as test_client:
        yield test_client


def partner_ids(client: TestClient, org: str, **params: Any) -> list[str]:
    return [p["id"] for p in client.get(f"/v1/organisations/{org}/partners", params=params).json()["partners"]]


def test_an_agreement_recorded_as_feedback_makes_the_pair_already_connected(client: TestClient) -> None:
    best = partner_ids(client, "highreso")[0]
    agreed = {"organisation": "highreso", "partner": best, "outcome": "agreement"}
    assert client.post("/v1/feedback", json=agreed, headers=AUTH).status_code == 201
    assert best not in partner_ids(client, "highreso") and "highreso" not in partner_ids(client, best)
    shown = client.get("/v1/organisations/highreso/partners", params={"include_related": "true"}).json()
    mark = next(p["already_connected"] for p in shown["partners"] if p["id"] == best)
    assert mark == ["an agreement between them was recorded"]


def test_an_attendee_declares_its_relations(client: TestClient) -> None:
    unit = attendee(
        "Kosh Labs",
        relations=[{"type": "part-of", "org": "ai-kosh", "evidence": {"background": "stated at registration"}}],
        government="IN",
        government_evidence={"background": "stated at registration"},
    )
    assert client.put("/v1/organisations/kosh-labs", json=unit, headers=AUTH).status_code == 201
    profile = client.get("/v1/organisations/kosh-labs").json()
    assert profile["relations"][0]["org"] == "ai-kosh" and profile["government"] == "IN"
    everyone = partner_ids(client, "kosh-labs", top=100) + [
        p["id"] for p in client.get("/v1/organisations/kosh-labs/partners", params={"enablers": 50}).json()["enablers"]
    ]
    assert not {"ai-kosh", "india-ai-mission"} & set(everyone)  # its parent, its parent's parent, its government
    unknown = attendee(relations=[{"type": "partner", "org": "nobody-here", "evidence": {"background": "said so"}}])
    response = client.put("/v1/organisations/lonely", json=unknown, headers=AUTH)
    assert response.status_code == 422
    problem = response.json()["problems"][0]
    assert problem["field"] == "relations[0].org" and "unknown organisation 'nobody-here'" in problem["message"]


def _fresh(workspace: Workspace) -> Workspace:
    """The same population and exclusions with nothing computed yet."""
    return Workspace(workspace.population, workspace.exclusions, workspace.memory_budget_mb, workspace.roles)


def test_a_registration_updates_relations_and_roles_without_working_them_out_again(shipped: Workspace) -> None:
    """A write at a busy event must cost what it changes: the profiles' structure is carried when it cannot change."""
    from matchmaker.core.profile import Evidence, Relation

    base = _fresh(shipped)
    assert base.related and base.enablers.any()  # computed, so the next workspaces may carry them
    plain = shipped.population.profiles[0].model_copy(
        update={"id": "newcomer", "relations": (), "government": None, "government_evidence": None}
    )
    carried = base.with_profile(plain)
    assert carried.declared is base.declared  # not worked out again
    assert carried.related == _fresh(carried).related
    assert (carried.enablers == _fresh(carried).enablers).all()
    ev = Evidence(background="stated at registration")
    joined = plain.model_copy(
        update={"id": "kosh-unit", "relations": (Relation(type="part-of", org="ai-kosh", evidence=ev),)}
    )
    connected = carried.with_profile(joined)
    assert connected.declared is not carried.declared
    assert frozenset(("kosh-unit", "ai-kosh")) in connected.related and connected.related == _fresh(connected).related
    assert (connected.enablers == _fresh(connected).enablers).all()
    government = next(p for p in shipped.population.profiles if p.kind == "government")
    replaced = connected.with_profile(government.model_copy(update={"kind": "startup"}))  # now a counterpart
    assert (replaced.enablers == _fresh(replaced).enablers).all() and replaced.related == _fresh(replaced).related
    gone = replaced.without("kosh-unit")
    assert gone.related == _fresh(gone).related and (gone.enablers == _fresh(gone).enablers).all()
    declined = gone.with_exclusions(gone.exclusions.with_declined("newcomer", "yotta"))
    assert declined.declared is gone.declared and declined.related == _fresh(declined).related
