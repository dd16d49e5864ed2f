"""The application layer: the questions the CLI, the HTTP API and the reports ask, answered one way.

* :mod:`.queries`: the queries and the rules that check them (one wording for every error);
* :mod:`.workspace`: a population with its exclusions, answering partner, pair and explanation queries;
* :mod:`.report`: everything a pairing report shows, scored through the workspace.

It imports the core and nothing of the adapters: no files, no database, no typer, no FastAPI.
"""

from __future__ import annotations

from matchmaker.application.queries import (
    ExplainQuery,
    PairsQuery,
    PartnersQuery,
    ScoringOverrides,
)
from matchmaker.application.workspace import (
    Exclusions,
    Explanation,
    PairList,
    PartnerList,
    Workspace,
    fit_population,
)

__all__ = [
    "Exclusions",
    "ExplainQuery",
    "Explanation",
    "PairList",
    "PairsQuery",
    "PartnerList",
    "PartnersQuery",
    "ScoringOverrides",
    "Workspace",
    "fit_population",
]
