"""The JSON shapes of every answer, defined once: the CLI's ``--format json``, the HTTP API and the reports.

They are typed dictionaries, so building one costs nothing at run time, mypy checks every builder in
:mod:`matchmaker.views` against them, and the HTTP routes declare them as their response models (the
OpenAPI contract is generated from these definitions).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, with_config
from typing_extensions import TypedDict

_STRICT = ConfigDict(extra="forbid")


@with_config(_STRICT)
class SummaryOut(TypedDict):
    id: str
    name: str
    country: str
    kind: str
    sectors: list[str]


@with_config(_STRICT)
class QuotedEvidenceOut(TypedDict):
    background: Literal[False]
    source: str
    quote: str


@with_config(_STRICT)
class BackgroundEvidenceOut(TypedDict):
    background: Literal[True]
    note: str


EvidenceOut = QuotedEvidenceOut | BackgroundEvidenceOut


@with_config(_STRICT)
class ItemOut(TypedDict):
    description: str
    strength: int
    strength_label: str
    tags: list[str]
    attributes: Annotated[dict[str, list[str]], Field(description="the item attributes it declares")]
    evidence: EvidenceOut


@with_config(_STRICT)
class RelationOut(TypedDict):
    type: str
    org: str
    evidence: EvidenceOut


@with_config(_STRICT)
class ProfileOut(SummaryOut):
    aliases: list[str]
    presence: list[str]
    summary: str
    offers: dict[str, list[ItemOut]]
    needs: dict[str, list[ItemOut]]
    relations: list[RelationOut]
    government: Annotated[str | None, Field(description="the government this body belongs to, if any")]
    government_evidence: EvidenceOut | None


@with_config(_STRICT)
class SettingsOut(TypedDict):
    dimension_weights: dict[str, float]
    sector_weight: float
    cross_border_weight: float
    combiner: str
    combiner_rule: str
    bridge: list[str]


@with_config(_STRICT)
class DirectedOut(TypedDict):
    a_to_b: float
    b_to_a: float


@with_config(_STRICT)
class BreakdownOut(DirectedOut):
    reciprocal: float
    combiner: str
    sector_fit: float
    cross_border: bool
    dimensions: dict[str, DirectedOut]


@with_config(_STRICT)
class ItemRefOut(ItemOut):
    org: str
    dimension: str
    position: int


@with_config(_STRICT)
class BasisOut(TypedDict):
    """What made a reason's similarity: each part (they add up to it) and what is shared."""

    parts: Annotated[
        dict[str, float], Field(description="semantic, words, tags (or latent): each part of the similarity")
    ]
    concepts: Annotated[list[str], Field(description="the vocabulary concepts both items lean on, largest first")]
    shared_words: list[str]
    shared_tags: list[str]
    attribute_factor: Annotated[float, Field(description="1 unless an item attribute vetoed or discounted the pair")]
    vetoed_by: Annotated[list[str], Field(description="why the attribute factor is below 1")]
    text: Annotated[str, Field(description="the same in words")]


@with_config(_STRICT)
class ReasonOut(TypedDict):
    direction: Literal["a_to_b", "b_to_a"]
    dimension: str
    contribution: float
    similarity: float
    background: bool
    text: str
    offer: ItemRefOut
    need: ItemRefOut
    basis: BasisOut


@with_config(_STRICT)
class PartnerOut(SummaryOut):
    rank: int
    score: float
    breakdown: BreakdownOut
    reasons: list[ReasonOut]
    already_connected: Annotated[
        list[str], Field(description="why the two are already connected (only when related ones are included)")
    ]


@with_config(_STRICT)
class PartnersOut(TypedDict):
    organisation: SummaryOut
    settings: SettingsOut
    partners: Annotated[list[PartnerOut], Field(description="counterparts: partners one would introduce")]
    enablers: Annotated[list[PartnerOut], Field(description="programmes and funders that can support it")]


@with_config(_STRICT)
class PairOut(TypedDict):
    rank: int
    a: str
    b: str
    a_name: str
    b_name: str
    score: float
    breakdown: BreakdownOut
    reasons: list[ReasonOut]
    already_connected: list[str]


@with_config(_STRICT)
class PairsOut(TypedDict):
    settings: SettingsOut
    pairs: Annotated[list[PairOut], Field(description="pairs of counterparts")]
    enablers: Annotated[
        list[PairOut], Field(description="a counterpart (a) and a programme or funder that can support it (b)")
    ]


@with_config(_STRICT)
class ExplanationOut(TypedDict):
    a: SummaryOut
    b: SummaryOut
    score: float
    breakdown: BreakdownOut
    settings: SettingsOut
    reasons: list[ReasonOut]
    already_connected: list[str]


@with_config(_STRICT)
class OrganisationListOut(TypedDict):
    organisations: list[SummaryOut]
    version: Annotated[str, Field(description="content hash of the shipped profile folder")]
