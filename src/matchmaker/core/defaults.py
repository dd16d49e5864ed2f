"""Every default a user can change, in one place and free of imports (the CLI's help reads them cheaply)."""

from __future__ import annotations

# Scoring (matchmaker.core.scoring.settings).
DEFAULT_SECTOR_WEIGHT = 0.25
DEFAULT_CROSS_BORDER_WEIGHT = 0.0
DEFAULT_COMBINER = "harmonic"
DEFAULT_BRIDGE = ("JP", "IN")
DEFAULT_SCORER = "complementarity"

# Matching (matchmaker.core.encoding): how item text becomes vectors.
DEFAULT_ENCODER = "hybrid"

# Rankings (matchmaker.application.queries).
DEFAULT_TOP = 10
MAX_TOP = 1000
DEFAULT_ENABLERS = 3  # programmes and funders listed beside a ranking
MAX_ENABLERS = 50

# The gap analysis (matchmaker.core.ecosystem): see its module notes for how they are anchored.
UNMET_BELOW = 0.25
OVERSUPPLY_BELOW = 0.25
BRIDGE_FROM = 0.3
