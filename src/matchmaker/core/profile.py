"""The profile model: what an organisation offers and needs, each claim with its evidence."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from typing import Annotated, Literal

import pycountry
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    model_validator,
)

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
# An attribute's value: a language code (ja), a group (indian-languages) or a country code (IN).
AttributeValue = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")]
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


def _attribute_pairs(value: object) -> object:
    """``{language: ja, location: [IN, JP]}`` as sorted (name, values) pairs (hashable, like the rest of an item)."""
    if isinstance(value, dict):
        return tuple(sorted((name, (v,) if isinstance(v, str) else v) for name, v in value.items()))
    return value


def _attribute_mapping(pairs: tuple[tuple[str, tuple[str, ...]], ...]) -> dict[str, list[str]]:
    return {name: list(values) for name, values in pairs}


# Declared item attributes, written as a mapping of attribute to one value or a list of values.
Attributes = Annotated[
    tuple[tuple[Key, Annotated[tuple[AttributeValue, ...], Field(min_length=1, max_length=12)]], ...],
    BeforeValidator(_attribute_pairs),
    PlainSerializer(_attribute_mapping, return_type=dict[str, list[str]]),
    Field(max_length=8),
]


class Item(_Frozen):
    """One offer or need: a short description, an ordinal strength, shared tags, attributes and evidence.

    ``attributes`` (optional) states what words may not: the language of the data or model, where an
    asset is (the vocabulary lists the attributes and their values). Undeclared ones are inferred from
    the description when matching.

    >>> item = Item(description="Hindi speech corpus", strength=3, attributes={"language": "hi"},
    ...             evidence=Evidence(background="x"))
    >>> item.attributes, item.declared("language"), item.declared("location")
    ((('language', ('hi',)),), ('hi',), ())
    """

    description: Description
    strength: Annotated[int, Field(ge=1, le=MAX_STRENGTH)]
    tags: Annotated[tuple[Key, ...], Field(max_length=12)] = ()
    attributes: Attributes | None = None
    evidence: Evidence

    def declared(self, attribute: str) -> tuple[str, ...]:
        """The values declared for ``attribute``, or () when it is not declared."""
        return dict(self.attributes or ()).get(attribute, ())


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


class AttributeValueSpec(_Frozen):
    """One value of an item attribute: its label, the words that name it, the groups it belongs to."""

    label: Line
    # Matched on NFKC lower-cased text: whole words for Latin script, substrings for Japanese and Hindi.
    words: tuple[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)], ...] = ()
    within: tuple[AttributeValue, ...] = ()


class AttributeSpec(_Frozen):
    """An item attribute (the language of data, where an asset is): the dimensions it applies in and its values.

    A need that states values accepts offers with a compatible value (the same, one ``within`` it, or a
    group it is within) or none; an offer with another value is vetoed, whatever its text says.
    """

    description: Prose
    dimensions: Annotated[tuple[Key, ...], Field(min_length=1)]
    values: Annotated[dict[AttributeValue, AttributeValueSpec], Field(min_length=1, max_length=64)]

    @model_validator(mode="after")
    def _groups_known(self) -> AttributeSpec:
        for value, spec in self.values.items():
            for group in spec.within:
                if group not in self.values or group == value:
                    raise ValueError(
                        f"value {value!r} is within {group!r}, which is not another value of the attribute; "
                        f"the values are: {', '.join(self.values)}"
                    )
        return self

    def compatible(self, offered: str, needed: str) -> bool:
        """Whether an offer with value ``offered`` meets a need that asks for ``needed``.

        >>> spec = AttributeSpec(description="Language.", dimensions=("data",), values={
        ...     "hi": {"label": "Hindi", "within": ["indian-languages"]}, "ja": {"label": "Japanese"},
        ...     "indian-languages": {"label": "Indian languages"}})
        >>> [spec.compatible(o, n) for o, n in [("hi", "indian-languages"), ("indian-languages", "hi"), ("ja", "hi")]]
        [True, True, False]
        """
        if offered == needed:
            return True
        offered_spec, needed_spec = self.values.get(offered), self.values.get(needed)
        return (offered_spec is not None and needed in offered_spec.within) or (
            needed_spec is not None and offered in needed_spec.within
        )


class Vocabulary(_Frozen):
    """A programme's configuration: the dimensions, kinds, sectors, shared tags and item attributes profiles use.

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
    attributes: dict[Key, AttributeSpec] = {}

    @model_validator(mode="after")
    def _roles_of_known_kinds(self) -> Vocabulary:
        for kind in self.roles:
            if kind not in self.kinds:
                raise ValueError(f"roles names the unknown kind {kind!r}; the kinds are: {', '.join(self.kinds)}")
        for name, spec in self.attributes.items():
            for dimension in spec.dimensions:
                if dimension not in self.dimensions:
                    raise ValueError(
                        f"attribute {name!r} applies in the unknown dimension {dimension!r}; "
                        f"the dimensions are: {', '.join(self.dimensions)}"
                    )
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
                problems += attribute_problems(item, dimension, vocabulary, file, f"{side}.{dimension}[{position}]")
    return problems


def attribute_problems(item: Item, dimension: str, vocabulary: Vocabulary, file: str, where: str) -> list[Problem]:
    """Each declared attribute of ``item`` the vocabulary lacks, each unknown value, each one that does not apply.

    >>> vocab = Vocabulary(dimensions={"data": "D", "talent": "T"}, kinds=("startup",), sectors={}, tags={},
    ...                    attributes={"language": {"description": "L.", "dimensions": ["data"],
    ...                                             "values": {"ja": {"label": "Japanese"}}}})
    >>> item = Item(description="speech", strength=1, attributes={"language": "jp", "place": "IN"},
    ...             evidence=Evidence(background="x"))
    >>> [p.message for p in attribute_problems(item, "data", vocab, "", "offers.data[0]")]
    ["unknown value 'jp' of attribute 'language'; accepted: ja", "unknown attribute 'place'; accepted: language"]
    """
    problems: list[Problem] = []
    for name, values in item.attributes or ():
        field = f"{where}.attributes.{name}"
        spec = vocabulary.attributes.get(name)
        if spec is None:
            problems.append(_unknown(file, field, name, vocabulary.attributes, "attribute"))
            continue
        if dimension not in spec.dimensions:
            problems.append(
                Problem(
                    file,
                    field,
                    name,
                    f"attribute {name!r} does not apply in dimension {dimension!r}; "
                    f"it applies in: {', '.join(spec.dimensions)}",
                )
            )
        for value in values:
            if value not in spec.values:
                accepted = ", ".join(spec.values)
                problems.append(
                    Problem(file, field, value, f"unknown value {value!r} of attribute {name!r}; accepted: {accepted}")
                )
    return problems
