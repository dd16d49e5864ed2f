from __future__ import annotations

import pytest

from builders import market
from matchmaker.core.population import Population
from matchmaker.core.profile_set import ProfileSet
from tests.reports.support import fit, profile_set


@pytest.fixture
def market_population() -> Population:
    return fit(market())


@pytest.fixture
def market_set() -> ProfileSet:
    return profile_set(market())
