"""Checking that every quoted claim occurs verbatim in the source document it cites."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import ftfy

from matchmaker.core.errors import Problem
from matchmaker.core.profile import Profile

_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_SINGLE_QUOTES = "\u2018\u2019\u201a\u201b\u2032\uff07"
_DOUBLE_QUOTES = "\u201c\u201d\u201e\u201f\u2033\uff02"
_TRANSLATION = str.maketrans(
    {**dict.fromkeys(_DASHES, "-"), **dict.fromkeys(_SINGLE_QUOTES, "'"), **dict.fromkeys(_DOUBLE_QUOTES, '"')}
)
_SPACE = re.compile(r"\s+")


def normalise_text(text: str) -> str:
    """Fold the variants a person cannot type or see, so a quote is compared on its words.

    Mis-decoded text is repaired (one seed is UTF-8 read as Mac Roman), dash and quotation-mark
    variants become ``-``, ``'`` and ``"``, and every run of whitespace (non-breaking spaces too)
    becomes one space.

    >>> normalise_text("GPU\u2011cloud  \u201cservices\u201d")
    'GPU-cloud "services"'
    """
    return _SPACE.sub(" ", ftfy.fix_text(text).translate(_TRANSLATION)).strip()


def quote_problems(profile: Profile, sources: Mapping[str, str], file: str = "") -> list[Problem]:
    """Every quote in ``profile`` that its cited source lacks; ``sources`` maps file name to normalised text.

    Item, relation and government evidence are all checked.

    >>> from matchmaker.core.profile import Evidence, Item
    >>> claim = Item(description="GPU cloud", strength=3,
    ...              evidence=Evidence(source="s.txt", quote="a GPU cloud provider"))
    >>> p = Profile(id="x", name="X", country="JP", kind="startup", sectors=("cloud",),
    ...             offers={"compute": (claim,)})
    >>> quote_problems(p, {"s.txt": normalise_text("We are a GPU\u2011cloud provider.")})[0].message
    "quote not found in s.txt: 'a GPU cloud provider'"
    """
    problems: list[Problem] = []
    for field, evidence in profile.iter_evidence():
        if evidence.source is None or evidence.quote is None:
            continue
        text = sources.get(evidence.source)
        if text is None:
            accepted = ", ".join(sorted(sources)) or "(no source documents found)"
            problems.append(
                Problem(
                    file,
                    f"{field}.source",
                    evidence.source,
                    f"unknown source document {evidence.source!r}; accepted: {accepted}",
                )
            )
        elif normalise_text(evidence.quote) not in text:
            problems.append(
                Problem(
                    file, f"{field}.quote", evidence.quote, f"quote not found in {evidence.source}: {evidence.quote!r}"
                )
            )
    return problems


MIN_QUOTE_WORDS = 6


def _names_in(quote: str, profile: Profile) -> bool:
    """Whether ``quote`` (normalised, case-folded) names ``profile`` by id, name or alias, as a whole word."""
    names = (profile.id, profile.name, *profile.aliases)
    return any(re.search(rf"(?<!\w){re.escape(normalise_text(n).casefold())}(?!\w)", quote) for n in names)


def evidence_warnings(profiles: Iterable[tuple[str, Profile]], min_words: int = MIN_QUOTE_WORDS) -> list[Problem]:
    """Quotes that are valid but doubtful as evidence; ``profiles`` are (file, profile) pairs.

    Two warnings, neither an error:

    * a quote of fewer than ``min_words`` words (item, relation or government evidence): a phrase
      that short is rarely a statement of a capability or need, more often a name or a fragment;
    * one quote (compared after :func:`normalise_text`, ignoring case) that is the item evidence of
      several organisations: a sentence that supports several organisations' claims is usually a
      generic or country-level one. An organisation the quote names (by id, name or alias) is not
      warned about, so a sentence about a collaboration may serve both partners.

    >>> from matchmaker.core.profile import Evidence, Item
    >>> def org(id, quote):
    ...     item = Item(description="talent", strength=2, evidence=Evidence(source="s.txt", quote=quote))
    ...     return f"{id}.yaml", Profile(id=id, name=id.title(), country="JP", kind="startup",
    ...                                  sectors=("ai",), needs={"talent": (item,)})
    >>> generic = "addressing gaps in domestic AI education"
    >>> for w in evidence_warnings([org("acme", generic), org("beta", generic), org("cido", "explore the Cido demo")]):
    ...     print(w)
    acme.yaml: needs.talent[0].evidence.quote: the same quote is the evidence of acme, beta; ...
    beta.yaml: needs.talent[0].evidence.quote: the same quote is the evidence of acme, beta; ...
    cido.yaml: needs.talent[0].evidence.quote: quote has 4 words (fewer than 6); ...
    """
    warnings: list[Problem] = []
    uses: dict[tuple[str, str], list[tuple[str, Profile, str, str]]] = {}
    for file, profile in profiles:
        for field, evidence in profile.iter_evidence():
            if evidence.source is None or evidence.quote is None:
                continue
            quote = normalise_text(evidence.quote)
            words = len(quote.split())
            if words < min_words:
                warnings.append(
                    Problem(
                        file,
                        f"{field}.quote",
                        evidence.quote,
                        f"quote has {words} words (fewer than {min_words}); quote the sentence that states "
                        "this organisation's capability or need, not a name or a fragment",
                    )
                )
            if not field.startswith("relations") and field != "government_evidence":
                uses.setdefault((evidence.source, quote.casefold()), []).append((file, profile, field, evidence.quote))
    for (_, quote), found in uses.items():
        orgs = sorted({profile.id for _, profile, _, _ in found})
        if len(orgs) < 2:
            continue
        for file, profile, field, original in found:
            if _names_in(quote, profile):
                continue
            warnings.append(
                Problem(
                    file,
                    f"{field}.quote",
                    original,
                    f"the same quote is the evidence of {', '.join(orgs)}; "
                    "a sentence shared by several organisations rarely states this one's own capability or need "
                    "- quote the passage about it, or mark the item background",
                )
            )
    return sorted(warnings, key=lambda w: (w.file, w.field))
