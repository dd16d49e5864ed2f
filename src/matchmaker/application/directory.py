"""Listing organisations: the filters the events app offers, checked as every other query is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from matchmaker.application.queries import check_choice, check_country
from matchmaker.core.profile import Profile, Vocabulary


@dataclass(frozen=True)
class OrganisationsQuery:
    """Organisations by id, filtered by country (home or presence), kind and sector, one page at a time."""

    country: str | None = None
    kind: str | None = None
    sector: str | None = None
    page: int = 1
    page_size: int = 20


def organisation_page(
    profiles: Sequence[Profile], vocabulary: Vocabulary, query: OrganisationsQuery
) -> tuple[list[Profile], int]:
    """The page of ``profiles`` (in the order given: by id) the query asks for, and how many match on all pages.

    >>> from matchmaker.core.profile import Evidence, Item
    >>> v = Vocabulary(dimensions={"data": "Data"}, kinds=("startup", "academic"), sectors={"ai": "AI"}, tags={})
    >>> orgs = [Profile(id=i, name=i, country=c, kind=k, sectors=("ai",)) for i, c, k in
    ...         [("a", "IN", "startup"), ("b", "JP", "startup"), ("c", "IN", "academic")]]
    >>> page, total = organisation_page(orgs, v, OrganisationsQuery(kind="startup", page_size=1))
    >>> [p.id for p in page], total
    (['a'], 2)
    """
    check_country(query.country)
    check_choice(query.kind, vocabulary.kinds, "kind")
    check_choice(query.sector, vocabulary.sectors, "sector")
    matching = [
        p
        for p in profiles
        if (query.country is None or query.country in p.countries)
        and (query.kind is None or p.kind == query.kind)
        and (query.sector is None or query.sector in p.sectors)
    ]
    start = (query.page - 1) * query.page_size
    return matching[start : start + query.page_size], len(matching)
