"""Scored pairings with their breakdown and reasons: what every ranking and explanation returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from matchmaker.core.profile import Profile
from matchmaker.core.scoring.contract import Scorer
from matchmaker.core.scoring.reasons import ItemRef, Reason
from matchmaker.core.vectors import IntArray


@dataclass(frozen=True)
class DimensionScore:
    a_to_b: float
    b_to_a: float


@dataclass(frozen=True)
class Match:
    """A scored pairing of ``a`` (the organisation asked about) with ``b``, with its breakdown."""

    a: Profile
    b: Profile
    score: float
    reciprocal: float
    a_to_b: float
    b_to_a: float
    sector_fit: float
    cross_border: bool
    dimensions: dict[str, DimensionScore]
    reasons: tuple[Reason, ...]
    connections: tuple[str, ...] = ()  # why a and b are already connected (when related pairs are shown)


def build_matches(
    scorer: Scorer,
    profiles: Sequence[Profile],
    dimensions: Sequence[str],
    a: IntArray,
    b: IntArray,
    reasons: int | None,
) -> list[Match]:
    """The pairs (a[k], b[k]) as matches: the scorer's breakdown and at most ``reasons`` reasons each (None: all)."""
    parts = scorer.components(a, b)
    pairs = [(profiles[i], profiles[j]) for i, j in zip(a.tolist(), b.tolist(), strict=True)]
    found = [[] for _ in pairs] if reasons == 0 else scorer.explain(pairs, reasons)
    return [
        Match(
            a=pair[0],
            b=pair[1],
            score=float(parts.score[k]),
            reciprocal=float(parts.reciprocal[k]),
            a_to_b=float(parts.directed_ab[k]),
            b_to_a=float(parts.directed_ba[k]),
            sector_fit=float(parts.sector_fit[k]),
            cross_border=bool(parts.cross_border[k]),
            dimensions={
                d: DimensionScore(float(parts.per_dimension_ab[k, i]), float(parts.per_dimension_ba[k, i]))
                for i, d in enumerate(dimensions)
            },
            reasons=tuple(found[k]),
        )
        for k, pair in enumerate(pairs)
    ]


__all__ = ["DimensionScore", "ItemRef", "Match", "Reason", "build_matches"]
