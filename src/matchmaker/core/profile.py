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

# One documented rule for hostile text: control characters (other than newline and tab in prose),
# bidirectional overrides/isolates and zero-width characters are rejected, never silently stripped,
# so what is stored is exactly what was sent. Text is NFC-normalised.
_FORBIDDEN = re.compile(
    "[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
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
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), AfterValidator(_line)]
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

    def items(self, side: Side) -> Mapping[str, tuple[Item, ...]]:
        return self.offers if side == "offers" else self.needs

    def iter_items(self) -> Iterator[tuple[Side, str, int, Item]]:
        """Every item as (side, dimension, position within the dimension, item)."""
        for side in SIDES:
            for dimension, items in self.items(side).items():
                for position, item in enumerate(items):
                    yield side, dimension, position, item

    @property
    def countries(self) -> frozenset[str]:
        """Home country and countries of presence."""
        return frozenset((self.country, *self.presence))

    def need_mass(self, dimension: str) -> float:
        """How much the organisation depends on ``dimension``: its strongest need there over the maximum strength."""
        return max((i.strength for i in self.needs.get(dimension, ())), default=0) / MAX_STRENGTH


class Vocabulary(_Frozen):
    """A programme's configuration: the dimensions, kinds, sectors and shared tags profiles use."""

    dimensions: Annotated[dict[Key, Prose], Field(min_length=1, max_length=12)]
    kinds: Annotated[tuple[Key, ...], Field(min_length=1)]
    sectors: dict[Key, Prose]
    tags: dict[Key, Prose]


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
