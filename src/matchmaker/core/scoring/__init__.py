"""Scoring pairs of organisations: settings, the formula, the scorer contract, its implementations, execution.

* :mod:`.settings`: ``ScoringSettings``, the defaults and the combiner registry;
* :mod:`.formula`: the reciprocal complementarity formula, once;
* :mod:`.contract`: what every scorer provides (``Scorer``) and what it is fitted on;
* :mod:`.complementarity`: the complementarity scorer (blocks: :mod:`.plan`; one against everyone: :mod:`.query`);
* :mod:`.execution`: every pair or every organisation's best partners, in tiles, on a chosen backend.
"""

from __future__ import annotations

from matchmaker.core.registry import Registry
from matchmaker.core.scoring.complementarity import ComplementarityScorer
from matchmaker.core.scoring.contract import PopulationVectors, Scorer, ScorerFactory
from matchmaker.core.scoring.execution import BACKENDS, top_pairs, top_partners_all
from matchmaker.core.scoring.formula import Context, PairComponents, cross_border, need_shares, profile_need_shares
from matchmaker.core.scoring.settings import COMBINERS, Combiner, ScoringSettings, combiner_descriptions

SCORERS: Registry[ScorerFactory] = Registry("scorer", {ComplementarityScorer.name: ComplementarityScorer})

__all__ = [
    "BACKENDS",
    "COMBINERS",
    "SCORERS",
    "Combiner",
    "ComplementarityScorer",
    "Context",
    "PairComponents",
    "PopulationVectors",
    "Scorer",
    "ScoringSettings",
    "combiner_descriptions",
    "cross_border",
    "need_shares",
    "profile_need_shares",
    "top_pairs",
    "top_partners_all",
]
