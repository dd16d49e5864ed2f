"""The profile model: what an organisation offers and needs, each claim with its evidence."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from typing import Annotated, Literal

import pycountry
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from matchmaker.core.errors import Problem

MAX_STRENGTH = 3
STRENGTH_LABELS = {1: "minor", 2: "substantial", 3: "central"}
Side = Literal["offers", "needs"]
SIDES: tuple[Side, Side] = ("offers", "needs")
# How two organisations are already connected; each type has an inverse (partner is its own).
RelationType = Literal["part-of", "parent-of", "funds", "funded-by", "partner"]
RELATION_TYPES: tuple[RelationType, ...] = ("part-of", "parent-of", "funds", "funded-by", "partner")
INVERSE_RELATION: dict[RelationType, RelationType] = {
    "part-of": "parent-of",
    "parent-of": "part-of",
    "funds": "funded-by",
    "funded-by": "funds",
    "partner": "partner",
}
# What a kind of organisation is to a partnership: a counterpart one introduces for a project, or an
# enabler (funder, regulator, programme) that can support one.
Role = Literal["counterpart", "enabler"]
ROLES: tuple[Role, ...] = ("counterpart", "enabler")
DEFAULT_ROLE: Role = "counterpart"

# One documented rule for hostile text: control characters (other than newline and tab in prose),
# bidirectional marks, overrides and isolates (U+061C, U+200E-U+200F, U+202A-U+202E, U+2066-U+2069),
# zero-width and invisible separators (U+180E, U+200B-U+200D, U+2060-U+2064, U+FEFF) and the line and
# paragraph separators U+2028-U+2029 (a line break to some readers, not to others) are rejected,
# never silently stripped, so what is stored is exactly what was sent. Text is NFC-normalised.
_FORBIDDEN = re.compile(
    "[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)


def _clean(text: str, *, multiline: bool) -> str:
    text = unicodedata.normalize("NFC", text)
    bad = _FORBIDDEN.search(text) or (None if multiline else re.search("[\n\t]", text))
    if bad:
        raise ValueError(
            f"contains the character U+{ord(bad.group()):04X} at position {bad.start()}; control, "
            "bidirectional-override and zero-width characters are not accepted"
        )
    return text.strip()


def _line(text: str) -> str:
    return _clean(text, multiline=False)


def visible(character: str) -> bool:
    """True for a character that shows on its own: not a space, not a combining mark.

    >>> visible("a"), visible(" "), visible("\u0301")
    (True, False, False)
    """
    return not character.isspace() and not unicodedata.category(character).startswith("M")


def _name(text: str) -> str:
    text = _line(text)
    if not any(visible(c) for c in text):
        raise ValueError("has no character of its own: a name needs more than spaces and combining marks")
    return text


def _prose(text: str) -> str:
    return _clean(text, multiline=True)


def _country(code: str) -> str:
    if pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code (for example JP, IN)")
    return code


Line = Annotated[str, AfterValidator(_line)]
Prose = Annotated[str, AfterValidator(_prose)]
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$"), AfterValidator(_country)]

# Lengths count after surrounding whitespace is trimmed: a name of spaces is empty, not three characters.
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), AfterValidator(_name)]
Source = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(_line)]
Quote = Annotated[str, StringConstraints(strip_whitespace=True, min_length=15, max_length=1000), AfterValidator(_prose)]
Description = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=300), AfterValidator(_prose)
]
Key = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
OrgId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Evidence(_Frozen):
    """Either a verbatim quote from a source document, or a flagged background-knowledge claim."""

    source: Source | None = None
    quote: Quote | None = None
    background: Annotated[Prose, Field(min_length=1, max_length=1000)] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Evidence:
        quoted = self.source is not None or self.quote is not None
        if quoted and self.background is not None:
            raise ValueError("give either source and quote, or background, not both")
        if not quoted and self.background is None:
            raise ValueError("give source and quote (from a source document) or background")
        if quoted and (self.source is None or self.quote is None):
            raise ValueError("a quoted claim needs both source and quote")
        return self

    @property
    def is_background(self) -> bool:
        return self.background is not None


class Item(_Frozen):
    """One offer or need: a short description, an ordinal strength, shared tags and evidence."""

    description: Description
    strength: Annotated[int, Field(ge=1, le=MAX_STRENGTH)]
    tags: Annotated[tuple[Key, ...], Field(max_length=12)] = ()
    evidence: Evidence


Items = Annotated[tuple[Item, ...], Field(max_length=20)]


class Relation(_Frozen):
    """An existing connection to another organisation (``org`` is its id), with the evidence for it."""

    type: RelationType
    org: OrgId
    evidence: Evidence


class Profile(_Frozen):
    """An organisation's capability profile."""

    id: OrgId
    name: Name
    aliases: Annotated[tuple[Name, ...], Field(max_length=10)] = ()
    country: Country
    presence: Annotated[tuple[Country, ...], Field(max_length=50)] = ()
    kind: Key
    sectors: Annotated[tuple[Key, ...], Field(min_length=1, max_length=12)]
    summary: Annotated[Prose, Field(max_length=1000)] = ""
    offers: Annotated[dict[Key, Items], Field(max_length=12)] = {}
    needs: Annotated[dict[Key, Items], Field(max_length=12)] = {}
    relations: Annotated[tuple[Relation, ...], Field(max_length=50)] = ()
    # Set on bodies of a national government (the country); two profiles with the same government
    # are related. The evidence for the membership is required with it.
    government: Country | None = None
    government_evidence: Evidence | None = None

    @model_validator(mode="after")
    def _government_evidenced(self) -> Profile:
        if self.government is not None and self.government_evidence is None:
            raise ValueError("government needs government_evidence (a source and quote, or background)")
        if self.government is None and self.government_evidence is not None:
            raise ValueError("government_evidence is given without government")
        return self

    def items(self, side: Side) -> Mapping[str, tuple[Item, ...]]:
        return self.offers if side == "offers" else self.needs

    def iter_items(self) -> Iterator[tuple[Side, str, int, Item]]:
        """Every item as (side, dimension, position within the dimension, item)."""
        for side in SIDES:
            for dimension, items in self.items(side).items():
                for position, item in enumerate(items):
                    yield side, dimension, position, item

    def iter_evidence(self) -> Iterator[tuple[str, Evidence]]:
        """Every piece of evidence with the field it sits in: items, relations, then government.

        >>> ev = Evidence(background="known")
        >>> p = Profile(id="x", name="X", country="JP", kind="startup", sectors=("ai",),
        ...             offers={"data": (Item(description="records", strength=1, evidence=ev),)},
        ...             relations=(Relation(type="partner", org="y", evidence=ev),),
        ...             government="JP", government_evidence=ev)
        >>> [field for field, _ in p.iter_evidence()]
        ['offers.data[0].evidence', 'relations[0].evidence', 'government_evidence']
        """
        for side, dimension, position, item in self.iter_items():
            yield f"{side}.{dimension}[{position}].evidence", item.evidence
        for position, relation in enumerate(self.relations):
            yield f"relations[{position}].evidence", relation.evidence
        if self.government_evidence is not None:
            yield "government_evidence", self.government_evidence

    @property
    def countries(self) -> frozenset[str]:
        """Home country and countries of presence."""
        return frozenset((self.country, *self.presence))

    def need_mass(self, dimension: str) -> float:
        """How much the organisation depends on ``dimension``: its strongest need there over the maximum strength."""
        return max((i.strength for i in self.needs.get(dimension, ())), default=0) / MAX_STRENGTH


class Vocabulary(_Frozen):
    """A programme's configuration: the dimensions, kinds, sectors and shared tags profiles use.

    ``roles`` gives a kind the role ``enabler``; a kind it does not list is a ``counterpart``.

    >>> vocab = Vocabulary(dimensions={"data": "Data"}, kinds=("government", "startup"), sectors={}, tags={},
    ...                    roles={"government": "enabler"})
    >>> vocab.role("government"), vocab.role("startup")
    ('enabler', 'counterpart')
    >>> Vocabulary(dimensions={"data": "Data"}, kinds=("startup",), sectors={}, tags={}, roles={"funder": "enabler"})
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for Vocabulary
      Value error, roles names the unknown kind 'funder'; the kinds are: startup ...
    """

    dimensions: Annotated[dict[Key, Prose], Field(min_length=1, max_length=12)]
    kinds: Annotated[tuple[Key, ...], Field(min_length=1)]
    sectors: dict[Key, Prose]
    tags: dict[Key, Prose]
    roles: dict[Key, Role] = {}

    @model_validator(mode="after")
    def _roles_of_known_kinds(self) -> Vocabulary:
        for kind in self.roles:
            if kind not in self.kinds:
                raise ValueError(f"roles names the unknown kind {kind!r}; the kinds are: {', '.join(self.kinds)}")
        return self

    def role(self, kind: str) -> Role:
        """The role of ``kind``: what ``roles`` says, else counterpart."""
        return self.roles.get(kind, DEFAULT_ROLE)


def _unknown(file: str, field: str, value: str, known: Mapping[str, object] | tuple[str, ...], what: str) -> Problem:
    accepted = ", ".join(sorted(known))
    return Problem(file, field, value, f"unknown {what} {value!r}; accepted: {accepted}")


def vocabulary_problems(profile: Profile, vocabulary: Vocabulary, file: str = "") -> list[Problem]:
    """Every place where ``profile`` uses a dimension, kind, sector or tag the vocabulary lacks.

    >>> vocab = Vocabulary(dimensions={"data": "Data"}, kinds=("startup",), sectors={"health": "H"}, tags={})
    >>> p = Profile(id="x", name="X", country="JP", kind="startup", sectors=("health",),
    ...             offers={"dat": (Item(description="records", strength=1, tags=("ehr",),
    ...                     evidence=Evidence(background="known")),)})
    >>> [problem.field for problem in vocabulary_problems(p, vocab)]
    ['offers.dat', 'offers.dat[0].tags']
    """
    problems: list[Problem] = []
    if profile.kind not in vocabulary.kinds:
        problems.append(_unknown(file, "kind", profile.kind, vocabulary.kinds, "kind"))
    for position, sector in enumerate(profile.sectors):
        if sector not in vocabulary.sectors:
            problems.append(_unknown(file, f"sectors[{position}]", sector, vocabulary.sectors, "sector"))
    for side in SIDES:
        for dimension, items in profile.items(side).items():
            if dimension not in vocabulary.dimensions:
                problems.append(_unknown(file, f"{side}.{dimension}", dimension, vocabulary.dimensions, "dimension"))
            for position, item in enumerate(items):
                for tag in item.tags:
                    if tag not in vocabulary.tags:
                        field = f"{side}.{dimension}[{position}].tags"
                        problems.append(
                            Problem(
                                file,
                                field,
                                tag,
                                f"unknown tag {tag!r}; the accepted tags are listed "
                                "in the vocabulary (_vocabulary.yaml, or GET /v1/vocabulary)",
                            )
                        )
    return problems
