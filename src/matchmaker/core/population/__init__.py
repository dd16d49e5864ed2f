"""A fitted population: its profiles, their vectors in row chunks, lookup by name, rankings and updates.

* :mod:`.population`: ``Population`` (fit, resolve, partners, pairs, explain, updates);
* :mod:`.matches`: the ``Match`` every ranking returns;
* :mod:`.names`: ids, names and aliases to rows, with suggestions;
* :mod:`.storage`: the chunked, copy-on-write matrices and the arrays derived from them.
"""

from __future__ import annotations

from matchmaker.core.population.matches import DimensionScore, Match
from matchmaker.core.population.population import Population
from matchmaker.core.scoring.reasons import ItemRef, Reason

__all__ = ["DimensionScore", "ItemRef", "Match", "Population", "Reason"]
