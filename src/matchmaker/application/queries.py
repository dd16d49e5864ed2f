"""What the CLI, the API and the reports ask, and the one set of rules that checks it.

Adapters parse their own syntax (``-w compute=2`` on the command line, ``weights=compute:2`` in a
query string) into these queries; everything else — which values are accepted, the defaults, the
wording of every error — is decided here, once, so the same question gets the same answer or the same
error wherever it is asked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pycountry

from matchmaker.core.defaults import DEFAULT_ENABLERS, DEFAULT_TOP, MAX_ENABLERS, MAX_TOP
from matchmaker.core.errors import MatchmakerError, SettingsError
from matchmaker.core.scoring import COMBINERS, ScoringSettings

MAX_WEIGHT = 999.999999  # a dimension weight: up to three digits and six decimals
MAX_BONUS_WEIGHT = 1000.0  # the sector-fit and cross-border weights
COUNTRY_CODES = frozenset(c.alpha_2 for c in pycountry.countries)
# A weight as both adapters accept it: up to three digits, optionally up to six decimals.
WEIGHT_NUMBER = r"[0-9]{1,3}(\.[0-9]{1,6})?"
_WEIGHT_NUMBER = re.compile(WEIGHT_NUMBER)


@dataclass(frozen=True)
class ScoringOverrides:
    """Per-request changes to the configured scoring settings; what is not given stays as configured.

    ``weights`` are (dimension, number as text) pairs in the order given: a dimension named twice
    takes its last value.
    """

    weights: tuple[tuple[str, str], ...] = ()
    sector_weight: float | None = None
    cross_border_weight: float | None = None
    combiner: str | None = None

    def applied_to(self, base: ScoringSettings, dimensions: Sequence[str]) -> ScoringSettings:
        """``base`` with these overrides, validated for ``dimensions`` (SettingsError naming the value).

        >>> ScoringOverrides(weights=(("compute", "2"),)).applied_to(ScoringSettings(), ("compute", "data")).weight(
        ...     "compute")
        2.0
        >>> ScoringOverrides(weights=(("money", "2"),)).applied_to(ScoringSettings(), ("compute", "data"))
        Traceback (most recent call last):
        ...
        matchmaker.core.errors.SettingsError: unknown dimension 'money' in weights; accepted: compute, data
        """
        if self.combiner is not None:
            COMBINERS.get_entry(self.combiner)
        weights = dict(base.dimension_weights)
        weights.update(parse_weights(self.weights, dimensions))
        for label, value in (("sector weight", self.sector_weight), ("cross-border weight", self.cross_border_weight)):
            if value is not None and not 0 <= value <= MAX_BONUS_WEIGHT:
                raise SettingsError(f"{label} must be a number from 0 to {MAX_BONUS_WEIGHT:g}, got {value!r}")
        settings = ScoringSettings(
            dimension_weights=weights,
            sector_weight=base.sector_weight if self.sector_weight is None else self.sector_weight,
            cross_border_weight=base.cross_border_weight
            if self.cross_border_weight is None
            else self.cross_border_weight,
            combiner=self.combiner or base.combiner,
            bridge=base.bridge,
            scorer=base.scorer,
        )
        return settings.validated(dimensions)


def parse_weights(entries: Iterable[tuple[str, str]], dimensions: Sequence[str]) -> dict[str, float]:
    """``{dimension: weight}`` from (dimension, number) text pairs; SettingsError naming the first bad one.

    >>> parse_weights([("data", "0.5"), ("data", "2")], ("data",))
    {'data': 2.0}
    >>> parse_weights([("data", "-1")], ("data",))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    matchmaker.core.errors.SettingsError: weight of dimension 'data' must be a number from 0 to 999.999999 ...
    """
    weights: dict[str, float] = {}
    for name, value in entries:
        if name not in dimensions:
            raise SettingsError(f"unknown dimension {name!r} in weights; accepted: {', '.join(dimensions)}")
        if not _WEIGHT_NUMBER.fullmatch(value):
            raise SettingsError(
                f"weight of dimension {name!r} must be a number from 0 to {MAX_WEIGHT} (up to 6 decimals), "
                f"got {value[:40]!r}"
            )
        weights[name] = float(value)
    return weights


def check_top(top: int) -> int:
    """``top`` if it is a whole number from 1 to ``MAX_TOP``."""
    if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= MAX_TOP:
        raise SettingsError(f"top must be a whole number from 1 to {MAX_TOP}, got {top!r}")
    return top


def check_enablers(count: int) -> int:
    """``count`` if it is a whole number from 0 to ``MAX_ENABLERS`` (how many enablers to list)."""
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_ENABLERS:
        raise SettingsError(f"enablers must be a whole number from 0 to {MAX_ENABLERS}, got {count!r}")
    return count


def check_country(country: str | None) -> str | None:
    """``country`` if it is an ISO 3166-1 alpha-2 code in upper case (or None)."""
    if country is None or country in COUNTRY_CODES:
        return country
    hint = f"; did you mean {country.upper()!r}?" if country.upper() in COUNTRY_CODES else ""
    raise MatchmakerError(
        f"unknown country {country[:40]!r}; give an ISO 3166-1 alpha-2 code in upper case, e.g. JP or IN{hint}"
    )


def check_dimension(dimension: str | None, dimensions: Sequence[str]) -> str | None:
    """``dimension`` if it is one of ``dimensions`` (or None)."""
    if dimension is not None and dimension not in dimensions:
        raise SettingsError(f"unknown dimension {dimension[:64]!r}; accepted: {', '.join(dimensions)}")
    return dimension


def check_choice(value: str | None, accepted: Mapping[str, object] | Sequence[str], what: str) -> str | None:
    """``value`` if it is one of ``accepted`` (or None): for kinds, sectors and similar vocabulary terms."""
    if value is not None and value not in accepted:
        raise MatchmakerError(f"unknown {what} {value[:64]!r}; accepted: {', '.join(accepted)}")
    return value


@dataclass(frozen=True)
class PartnersQuery:
    """The best partners of one organisation."""

    org: str
    top: int = DEFAULT_TOP
    dimension: str | None = None
    country: str | None = None
    cross_border: bool = False
    scoring: ScoringOverrides = field(default_factory=ScoringOverrides)
    reasons: int = 3
    include_related: bool = False  # list organisations already connected to it too (marked)
    enablers: int = DEFAULT_ENABLERS  # how many programmes and funders that can support it


@dataclass(frozen=True)
class PairsQuery:
    """The best pairs of the whole population."""

    top: int = DEFAULT_TOP
    cross_border: bool = False
    dimension: str | None = None
    scoring: ScoringOverrides = field(default_factory=ScoringOverrides)
    reasons: int = 3
    include_related: bool = False
    enablers: int = DEFAULT_ENABLERS


@dataclass(frozen=True)
class ExplainQuery:
    """One pair, both directions, every reason."""

    a: str
    b: str
    dimension: str | None = None
    scoring: ScoringOverrides = field(default_factory=ScoringOverrides)
