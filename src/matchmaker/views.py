"""Building the JSON shapes of :mod:`matchmaker.shapes` from the core's profiles and matches.

The CLI's ``--format json``, the HTTP API and the reports all answer with these, so they agree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from matchmaker.application.workspace import Explanation, PairList, PartnerList
from matchmaker.core.population import ItemRef, Match, Reason
from matchmaker.core.profile import STRENGTH_LABELS, Evidence, Item, Profile
from matchmaker.core.scoring import ScoringSettings
from matchmaker.core.scoring.reasons import Basis

if TYPE_CHECKING:
    import pandas as pd

from matchmaker.shapes import (
    BasisOut,
    BreakdownOut,
    EvidenceOut,
    ExplanationOut,
    ItemOut,
    ItemRefOut,
    PairOut,
    PairsOut,
    PartnerOut,
    PartnersOut,
    ProfileOut,
    ReasonOut,
    SettingsOut,
    SummaryOut,
)

ROUND = 4


def _r(value: float) -> float:
    return round(float(value), ROUND)


def evidence_view(evidence: Evidence) -> EvidenceOut:
    if evidence.background is not None:
        return {"background": True, "note": evidence.background}
    return {"background": False, "source": evidence.source or "", "quote": evidence.quote or ""}


def item_view(item: Item) -> ItemOut:
    return {
        "description": item.description,
        "strength": item.strength,
        "strength_label": STRENGTH_LABELS[item.strength],
        "tags": list(item.tags),
        "attributes": {name: list(values) for name, values in item.attributes or ()},
        "evidence": evidence_view(item.evidence),
    }


def profile_summary(profile: Profile) -> SummaryOut:
    return {
        "id": profile.id,
        "name": profile.name,
        "country": profile.country,
        "kind": profile.kind,
        "sectors": list(profile.sectors),
    }


def profile_view(profile: Profile) -> ProfileOut:
    """A whole profile with the evidence of every claim."""
    return {
        **profile_summary(profile),
        "aliases": list(profile.aliases),
        "presence": list(profile.presence),
        "summary": profile.summary,
        "offers": {d: [item_view(i) for i in items] for d, items in profile.offers.items()},
        "needs": {d: [item_view(i) for i in items] for d, items in profile.needs.items()},
        "relations": [{"type": r.type, "org": r.org, "evidence": evidence_view(r.evidence)} for r in profile.relations],
        "government": profile.government,
        "government_evidence": None
        if profile.government_evidence is None
        else evidence_view(profile.government_evidence),
    }


def _ref_view(ref: ItemRef) -> ItemRefOut:
    return {"org": ref.org, "dimension": ref.dimension, "position": ref.position, **item_view(ref.item)}


def reason_text(reason: Reason) -> str:
    flag = (
        " [background knowledge]"
        if reason.offer.item.evidence.is_background or reason.need.item.evidence.is_background
        else ""
    )
    return (
        f'{reason.dimension}: {reason.offer.org} offers "{reason.offer.item.description}" -> '
        f'{reason.need.org} needs "{reason.need.item.description}"{flag}'
    )


_PART_LABELS = {"semantic": "semantic", "words": "shared words", "tags": "shared tags", "latent": "latent"}


def basis_text(basis: Basis | None) -> str:
    """What made a similarity, in words: each part with its value and what is shared, and any veto.

    >>> basis_text(Basis((("semantic", 0.61), ("words", 0.05), ("tags", 0.0)), ("gpu-cloud", "data-centre"), ("gpu",)))
    'semantic 0.610 (gpu-cloud, data-centre) + shared words 0.050 (gpu)'
    >>> basis_text(Basis((("semantic", 0.0),), factor=0.0, vetoed_by=("language: asked Hindi, offered Japanese",)))
    'vetoed (language: asked Hindi, offered Japanese)'
    """
    if basis is None:
        return ""
    shown = {"semantic": basis.concepts, "words": basis.words, "tags": basis.tags}
    parts = [
        f"{_PART_LABELS.get(name, name)} {value:.3f}" + (f" ({', '.join(shown[name])})" if shown.get(name) else "")
        for name, value in basis.parts
        if value >= 0.0005
    ]
    text = " + ".join(parts)
    if basis.vetoed_by:
        veto = (
            "vetoed" if basis.factor == 0 else f"discounted x{basis.factor:.2f}"
        ) + f" ({'; '.join(basis.vetoed_by)})"
        text = f"{text}, {veto}" if text else veto
    return text


def basis_view(basis: Basis | None) -> BasisOut:
    if basis is None:
        return {
            "parts": {},
            "concepts": [],
            "shared_words": [],
            "shared_tags": [],
            "attribute_factor": 1.0,
            "vetoed_by": [],
            "text": "",
        }
    return {
        "parts": {name: _r(value) for name, value in basis.parts},
        "concepts": list(basis.concepts),
        "shared_words": list(basis.words),
        "shared_tags": list(basis.tags),
        "attribute_factor": _r(basis.factor),
        "vetoed_by": list(basis.vetoed_by),
        "text": basis_text(basis),
    }


def reason_view(reason: Reason) -> ReasonOut:
    return {
        "direction": reason.direction,
        "dimension": reason.dimension,
        "contribution": _r(reason.contribution),
        "similarity": _r(reason.similarity),
        "background": reason.offer.item.evidence.is_background or reason.need.item.evidence.is_background,
        "text": reason_text(reason),
        "offer": _ref_view(reason.offer),
        "need": _ref_view(reason.need),
        "basis": basis_view(reason.basis),
    }


def breakdown_view(match: Match, settings: ScoringSettings) -> BreakdownOut:
    return {
        "a_to_b": _r(match.a_to_b),
        "b_to_a": _r(match.b_to_a),
        "reciprocal": _r(match.reciprocal),
        "combiner": settings.combiner,
        "sector_fit": _r(match.sector_fit),
        "cross_border": match.cross_border,
        "dimensions": {d: {"a_to_b": _r(s.a_to_b), "b_to_a": _r(s.b_to_a)} for d, s in match.dimensions.items()},
    }


def partner_view(rank: int, match: Match, settings: ScoringSettings) -> PartnerOut:
    return {
        "rank": rank,
        **profile_summary(match.b),
        "score": _r(match.score),
        "breakdown": breakdown_view(match, settings),
        "reasons": [reason_view(r) for r in match.reasons],
        "already_connected": list(match.connections),
    }


def partners_view(found: PartnerList) -> PartnersOut:
    return {
        "organisation": profile_summary(found.organisation),
        "settings": settings_view(found.settings),
        "partners": [partner_view(k, m, found.settings) for k, m in enumerate(found.partners, 1)],
        "enablers": [partner_view(k, m, found.settings) for k, m in enumerate(found.enablers, 1)],
    }


def pair_view(rank: int, match: Match, settings: ScoringSettings) -> PairOut:
    return {
        "rank": rank,
        "a": match.a.id,
        "b": match.b.id,
        "a_name": match.a.name,
        "b_name": match.b.name,
        "score": _r(match.score),
        "breakdown": breakdown_view(match, settings),
        "reasons": [reason_view(r) for r in match.reasons],
        "already_connected": list(match.connections),
    }


def pairs_view(found: PairList) -> PairsOut:
    settings = found.settings
    return {
        "settings": settings_view(settings),
        "pairs": [pair_view(k, m, settings) for k, m in enumerate(found.pairs, 1)],
        "enablers": [pair_view(k, m, settings) for k, m in enumerate(found.enablers, 1)],
    }


def explanation_view(found: Explanation) -> ExplanationOut:
    match, settings = found.match, found.settings
    return {
        "a": profile_summary(match.a),
        "b": profile_summary(match.b),
        "score": _r(match.score),
        "breakdown": breakdown_view(match, settings),
        "settings": settings_view(settings),
        "reasons": [reason_view(r) for r in match.reasons],
        "already_connected": list(match.connections),
    }


def settings_view(settings: ScoringSettings) -> SettingsOut:
    return {
        "dimension_weights": dict(settings.dimension_weights),
        "sector_weight": settings.sector_weight,
        "cross_border_weight": settings.cross_border_weight,
        "combiner": settings.combiner,
        "combiner_rule": settings.combiner_entry.description,
        "bridge": list(settings.bridge),
    }


def match_rows(matches: list[Match], dimensions: tuple[str, ...]) -> pd.DataFrame:
    """One row per pair with every breakdown column, for CSV and spreadsheets."""
    import pandas as pd  # only here: importing pandas costs most of a short command's time

    rows = []
    for rank, m in enumerate(matches, 1):
        row: dict[str, Any] = {
            "rank": rank,
            "a": m.a.id,
            "a_name": m.a.name,
            "a_country": m.a.country,
            "b": m.b.id,
            "b_name": m.b.name,
            "b_country": m.b.country,
            "score": _r(m.score),
            "reciprocal": _r(m.reciprocal),
            "a_to_b": _r(m.a_to_b),
            "b_to_a": _r(m.b_to_a),
            "sector_fit": _r(m.sector_fit),
            "cross_border": m.cross_border,
        }
        for d in dimensions:
            row[f"{d}_a_to_b"] = _r(m.dimensions[d].a_to_b)
            row[f"{d}_b_to_a"] = _r(m.dimensions[d].b_to_a)
        row["top_reason"] = reason_text(m.reasons[0]) if m.reasons else ""
        rows.append(row)
    return pd.DataFrame(rows)
