"""Request bodies and the responses only the HTTP API has (errors, health, feedback, pages, vocabulary).

The shapes the CLI prints too are :mod:`matchmaker.shapes`. Request models mirror
:class:`matchmaker.core.profile.Profile` with every constraint written so JSON Schema can state it
(lengths, the character rule as a pattern); the core model still validates what is stored.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from matchmaker.core.profile import _FORBIDDEN, MAX_STRENGTH, RelationType, visible
from matchmaker.shapes import SummaryOut
from matchmaker.storage import Outcome

ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
AttributeValue = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")]


def _escaped(characters: str) -> str:
    return "".join(c if c.isascii() and c.isprintable() else f"\\u{ord(c):04X}" for c in characters)


def _ranges(codes: list[int]) -> str:
    """A regex character-class body for ``codes`` (sorted code points), as escaped ranges."""
    out, start = [], 0
    while start < len(codes):
        stop = start
        while stop + 1 < len(codes) and codes[stop + 1] == codes[stop] + 1:
            stop += 1
        first, last = chr(codes[start]), chr(codes[stop])
        out.append(_escaped(first) if start == stop else f"{_escaped(first)}-{_escaped(last)}")
        start = stop + 1
    return "".join(out)


# The core's one rule for hostile text, as JSON Schema patterns: control characters (newline and tab
# allowed in prose), bidirectional marks, overrides and isolates, zero-width characters and the line and
# paragraph separators are rejected. Length limits count characters after the core trims whitespace, so
# a minimum length needs that many characters between the first and the last non-space character. A
# name needs a character of its own (not a space, not a combining mark); the pattern lists the combining
# marks of the Basic Multilingual Plane (a JSON Schema pattern cannot name the others), the core all.
_FORBIDDEN_CLASS = _escaped(_FORBIDDEN.pattern[1:-1])
_SPACE_CODES = [c for c in range(0x110000) if chr(c).isspace() and not _FORBIDDEN.match(chr(c))]
_PROSE_SPACE = _ranges(_SPACE_CODES)
_LINE_SPACE = _ranges([c for c in _SPACE_CODES if chr(c) not in "\t\n"])
_MARKS = _ranges([c for c in range(0x10000) if not chr(c).isspace() and not visible(chr(c))])


def text_pattern(min_length: int = 0, *, multiline: bool, name: bool = False) -> str:
    """A pattern for text the core accepts: allowed characters only, ``min_length`` after trimming.

    ``name``: one character at least must be visible on its own (not a space, not a combining mark).

    >>> import re
    >>> pattern = text_pattern(3, multiline=False)
    >>> samples = ("abc", "  a c ", " ab ", "a" + chr(0x202E) + "bc", "a" + chr(10) + "c", "a" + chr(0x2028) + "c")
    >>> [bool(re.fullmatch(pattern, t)) for t in samples]
    [True, True, False, False, False, False]
    >>> [bool(re.fullmatch(text_pattern(1, multiline=False, name=True), t)) for t in ("e" + chr(0x301), chr(0x301))]
    [True, False]
    """
    extra = "" if multiline else "\\u0009\\u000A"
    allowed = f"[^{extra}{_FORBIDDEN_CLASS}]"
    solid = f"[^{extra}{_FORBIDDEN_CLASS}{_PROSE_SPACE if multiline else _LINE_SPACE}]"
    if min_length == 0:
        return f"^{allowed}*$"
    if min_length == 1:
        if name:
            return f"^{allowed}*[^{extra}{_FORBIDDEN_CLASS}{_LINE_SPACE}{_MARKS}]{allowed}*$"
        return f"^{allowed}*{solid}{allowed}*$"
    return f"^{allowed}*{solid}{allowed}{{{min_length - 2},}}{solid}{allowed}*$"


TEXT_RULE = (
    "Text is NFC-normalised and trimmed, and length limits count the trimmed text. Control characters "
    "(except newline and tab in descriptions, summaries, quotes and background notes), bidirectional "
    "marks, overrides and isolates (U+061C, U+200E-U+200F, U+202A-U+202E, U+2066-U+2069), zero-width and "
    "invisible separators (U+180E, U+200B-U+200D, U+2060-U+2064, U+FEFF) and the line and paragraph "
    "separators (U+2028, U+2029) are rejected with 422, never silently removed. A name must have a "
    "character other than spaces and combining marks. Bodies are strict JSON: a key twice in one object, "
    "NaN, Infinity or half a surrogate pair is 400, and true is not the number 1."
)

Key = Annotated[str, Field(pattern=ID_PATTERN)]
Name = Annotated[
    str,
    Field(
        min_length=1,
        max_length=120,
        pattern=text_pattern(1, multiline=False, name=True),
        description="Must contain a character other than spaces and combining marks.",
    ),
]
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 country code")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def whole_number(value: Any) -> Any:
    """A JSON number that is whole (``3`` or ``3.0``, as JSON Schema's ``integer``); never true, false or text.

    >>> whole_number(3), whole_number(3.0)
    (3, 3.0)
    >>> whole_number(True)
    Traceback (most recent call last):
    ValueError: true and false are not numbers; give a whole number
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        shown = "true and false are" if isinstance(value, bool) else f"{type(value).__name__} is"
        raise ValueError(f"{shown} not numbers; give a whole number")
    return value


# -- requests ------------------------------------------------------------------------------------


class QuotedEvidenceIn(_Strict):
    """A verbatim quote from a source document (not checked against the document by the API)."""

    source: Annotated[str, Field(min_length=1, max_length=200, pattern=text_pattern(1, multiline=False))]
    quote: Annotated[str, Field(min_length=15, max_length=1000, pattern=text_pattern(15, multiline=True))]


class BackgroundEvidenceIn(_Strict):
    """A background-knowledge claim; shown flagged as background knowledge wherever it appears."""

    background: Annotated[str, Field(min_length=1, max_length=1000, pattern=text_pattern(1, multiline=True))]


class ItemIn(_Strict):
    """One offer or need."""

    description: Annotated[str, Field(min_length=3, max_length=300, pattern=text_pattern(3, multiline=True))]
    strength: Annotated[
        int,
        Field(ge=1, le=MAX_STRENGTH, description="1 minor, 2 substantial, 3 central"),
        BeforeValidator(whole_number),
    ]
    tags: Annotated[list[Key], Field(max_length=12)] = []
    attributes: Annotated[
        Annotated[
            dict[Key, Annotated[list[AttributeValue], Field(min_length=1, max_length=12)]],
            # keys are attribute names: the schema says any other key is refused, as the model does
            Field(max_length=8, json_schema_extra={"additionalProperties": False}),
        ]
        | None,
        Field(
            description="Optional item attributes from the vocabulary (GET /v1/vocabulary), e.g. "
            '{"language": ["hi"]} or {"location": ["IN"]}: a need that states one vetoes offers with an '
            "incompatible value. Undeclared ones are inferred from the description.",
        ),
    ] = None
    evidence: QuotedEvidenceIn | BackgroundEvidenceIn


Items = Annotated[list[ItemIn], Field(max_length=20)]
EvidenceIn = QuotedEvidenceIn | BackgroundEvidenceIn


class RelationIn(_Strict):
    """An existing connection to another organisation (its id): it is then never recommended as a partner."""

    type: Annotated[RelationType, Field(description="part-of, parent-of, funds, funded-by or partner")]
    org: Annotated[str, Field(pattern=ID_PATTERN, description="the other organisation's id")]
    evidence: EvidenceIn


class ProfileIn(_Strict):
    """An organisation's profile; the id is the path (PUT) and is not part of the body."""

    name: Name
    aliases: Annotated[list[Name], Field(max_length=10)] = []
    country: Country
    presence: Annotated[list[Country], Field(max_length=50)] = []
    kind: Key
    sectors: Annotated[list[Key], Field(min_length=1, max_length=12)]
    summary: Annotated[str, Field(max_length=1000, pattern=text_pattern(multiline=True))] = ""
    offers: Annotated[dict[str, Items], Field(max_length=12)] = {}
    needs: Annotated[dict[str, Items], Field(max_length=12)] = {}
    relations: Annotated[list[RelationIn], Field(max_length=50)] = []
    government: Annotated[
        Country | None, Field(description="set on a body of a national government: bodies of one are related")
    ] = None
    government_evidence: EvidenceIn | None = None


class FeedbackIn(_Strict):
    """``organisation`` reports ``outcome`` about its recommended ``partner``."""

    organisation: Annotated[str, Field(pattern=ID_PATTERN, description="the organisation giving the feedback")]
    partner: Annotated[str, Field(pattern=ID_PATTERN, description="the partner it is about")]
    outcome: Outcome


# -- responses -----------------------------------------------------------------------------------


class ProblemOut(_Strict):
    field: str
    value: str
    message: str


class ErrorOut(_Strict):
    """Every error: ``detail`` says what is wrong and what is accepted."""

    detail: str
    problems: list[ProblemOut] = Field(default_factory=list, description="each invalid field (422)")
    suggestions: list[str] = Field(default_factory=list, description="similar organisation ids (404)")


class OrganisationPageOut(_Strict):
    organisations: list[SummaryOut]
    total: int = Field(description="organisations matching the filters, on all pages")
    page: int
    page_size: int
    version: str = Field(description="content hash of the shipped profile folder")


class FeedbackOut(_Strict):
    organisation: str
    partner: str
    outcome: Outcome
    recorded: bool = Field(description="false when the identical feedback was already recorded")


class AttributeOut(_Strict):
    description: str
    dimensions: list[str] = Field(description="the dimensions the attribute applies in")
    values: dict[str, str] = Field(description="each value and its label")


class VocabularyOut(_Strict):
    dimensions: dict[str, str]
    kinds: list[str]
    sectors: dict[str, str]
    tags: dict[str, str]
    combiners: dict[str, str]
    attributes: dict[str, AttributeOut] = Field(default_factory=dict, description="item attributes an item may declare")


class HealthOut(_Strict):
    status: Literal["ok"]
    organisations: int
    registered: int
    database: str
    embedding_backlog: int = Field(description="registrations in this process whose texts are still being embedded")
