"""Checking that every quoted claim occurs verbatim in the source document it cites."""

from __future__ import annotations

import re
from collections.abc import Mapping

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

    >>> from matchmaker.core.profile import Evidence, Item
    >>> claim = Item(description="GPU cloud", strength=3,
    ...              evidence=Evidence(source="s.txt", quote="a GPU cloud provider"))
    >>> p = Profile(id="x", name="X", country="JP", kind="startup", sectors=("cloud",),
    ...             offers={"compute": (claim,)})
    >>> quote_problems(p, {"s.txt": normalise_text("We are a GPU\u2011cloud provider.")})[0].message
    "quote not found in s.txt: 'a GPU cloud provider'"
    """
    problems: list[Problem] = []
    for side, dimension, position, item in profile.iter_items():
        evidence = item.evidence
        if evidence.source is None or evidence.quote is None:
            continue
        field = f"{side}.{dimension}[{position}].evidence"
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
