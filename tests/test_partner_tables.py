"""Every organisation's best partners as partitioned Parquet: the schema, pandas and DuckDB, the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from builders import market
from matchmaker.application.queries import PartnersQuery
from matchmaker.application.workspace import Exclusions, Workspace, fit_population, roles_of
from matchmaker.cli import app
from matchmaker.core.errors import MatchmakerError
from matchmaker.core.population import Population
from matchmaker.core.profile_set import ProfileSet
from matchmaker.embedding import encoder_choice
from matchmaker.loading.partner_tables import PARTNER_SCHEMA, write_partner_table
from matchmaker.settings import load_settings


@pytest.fixture
def workspace() -> Workspace:
    return Workspace(Population.fit(market()))


def expected_rows(workspace: Workspace, top: int) -> list[tuple[str, int, str, float]]:
    """What ``partners`` answers for each organisation, as rows."""
    rows = []
    for profile in workspace.population.profiles:
        found = workspace.partners(PartnersQuery(profile.id, top, reasons=0)).partners
        rows += [(profile.id, rank, m.b.id, m.score) for rank, m in enumerate(found, 1)]
    return rows


def test_files_hold_every_organisations_partners(workspace: Workspace, tmp_path: Path) -> None:
    table = workspace.all_partners(3)
    files = write_partner_table(table, tmp_path / "partners", rows_per_file=4)
    assert len(files) > 1 and all(f.name.startswith("part-") and f.suffix == ".parquet" for f in files)
    frame = pd.read_parquet(tmp_path / "partners")
    assert list(frame.columns) == PARTNER_SCHEMA.names
    found = [(o, int(r), p, s) for o, r, p, s in frame.itertuples(index=False)]
    expected = expected_rows(workspace, 3)
    assert [row[:3] for row in found] == [row[:3] for row in expected]
    np.testing.assert_allclose([row[3] for row in found], [row[3] for row in expected], atol=1e-12)


def test_duckdb_reads_the_folder(workspace: Workspace, tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    write_partner_table(workspace.all_partners(2), tmp_path / "partners", rows_per_file=3)
    query = f"SELECT organisation, rank, partner FROM '{tmp_path / 'partners'}/*.parquet' ORDER BY organisation, rank"
    assert duckdb.sql(query).fetchall() == [row[:3] for row in sorted(expected_rows(workspace, 2))]
    types = dict(
        duckdb.sql(f"DESCRIBE SELECT * FROM '{tmp_path / 'partners'}/*.parquet'").fetchall()[i][:2] for i in range(4)
    )
    assert types == {"organisation": "VARCHAR", "rank": "SMALLINT", "partner": "VARCHAR", "score": "DOUBLE"}


def test_declined_partners_are_left_out(workspace: Workspace) -> None:
    best = workspace.all_partners(3)
    factory = best.ids.index("factory")
    first = best.ids[best.index[factory, 0]]
    declined = workspace.with_exclusions(Exclusions.of([("factory", first)])).all_partners(3)
    listed = [declined.ids[j] for j in declined.index[factory] if j >= 0]
    assert first not in listed
    assert listed == [best.ids[j] for j in best.index[factory] if j >= 0 and best.ids[j] != first][:3]


def test_an_existing_folder_is_refused(workspace: Workspace, tmp_path: Path) -> None:
    (tmp_path / "partners").mkdir()
    (tmp_path / "partners" / "keep.txt").write_text("x")
    with pytest.raises(MatchmakerError, match="exists and is not an empty folder"):
        write_partner_table(workspace.all_partners(2), tmp_path / "partners")
    assert [p.name for p in (tmp_path / "partners").iterdir()] == ["keep.txt"]


def test_cli_export_partners(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["export-partners", "--top", "4", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(tmp_path / "out")
    assert frame.groupby("organisation")["rank"].max().max() == 4
    assert f"{len(frame)} partners of " in result.stdout
    again = CliRunner().invoke(app, ["export-partners", "--out", str(tmp_path / "out")])
    assert again.exit_code == 1 and "exists and is not an empty folder" in again.stderr


@pytest.fixture(scope="module")
def shipped_workspace(shipped: ProfileSet) -> Workspace:
    """The shipped profiles fitted as the CLI fits them, with their roles and one decline."""
    population = fit_population(shipped.profiles, shipped.vocabulary, encoding=encoder_choice(load_settings()))
    return Workspace(population, Exclusions.of([("highreso", "yotta")]), roles=roles_of(shipped.vocabulary))


@pytest.mark.parametrize("include_related", [False, True], ids=["related-left-out", "related-kept"])
def test_each_row_is_what_partners_lists(shipped_workspace: Workspace, include_related: bool) -> None:
    """With the shipped profiles' relations, governments and enablers: row a is ``partners(a)``, exactly."""
    workspace, population = shipped_workspace, shipped_workspace.population
    assert workspace.enablers.any() and workspace.related, "the shipped profiles have enablers and relations"
    table = workspace.all_partners(5, include_related=include_related)
    for row, profile in enumerate(population.profiles):
        query = PartnersQuery(profile.id, 5, reasons=0, include_related=include_related, enablers=0)
        found = workspace.partners(query).partners
        assert [table.ids[j] for j in table.index[row] if j >= 0] == [m.b.id for m in found], profile.id
        np.testing.assert_allclose(table.score[row][: len(found)], [m.score for m in found], atol=1e-12)
