"""Restructuring the code changes no ranking: every partner list and pair equals the committed snapshot."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from tests.golden import snapshot

# Printed numbers have 4 decimals; a different summation order may move one across a rounding edge.
TOLERANCE = 1.5e-4


def assert_same(found: Any, expected: Any, where: str = "") -> None:
    if isinstance(expected, dict):
        assert isinstance(found, dict), where
        assert sorted(found) == sorted(expected), f"{where}: keys differ"
        for key in expected:
            assert_same(found[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(found, list) and len(found) == len(expected), f"{where}: lengths differ"
        for k, (x, y) in enumerate(zip(found, expected, strict=True)):
            assert_same(x, y, f"{where}[{k}]")
    elif isinstance(expected, float) and not isinstance(expected, bool):
        assert isinstance(found, int | float) and math.isclose(found, expected, abs_tol=TOLERANCE), (
            f"{where}: {found} != {expected}"
        )
    else:
        assert found == expected, f"{where}: {found!r} != {expected!r}"


# The quick suite compares the shipped profiles' default rankings and explanations; the slow one every
# variant and the synthetic populations (each list is one CLI run that fits the population, and a
# synthetic population's texts are embedded cold in a fresh session, so the whole takes minutes).
QUICK_SHIPPED = {"default", "explain"}


def _part(data: dict[str, Any], parts: set[str]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key in parts}


def test_shipped_profiles_rank_as_committed_by_default() -> None:
    from tests.conftest import PROFILES

    found = snapshot.shipped_snapshot(str(PROFILES), QUICK_SHIPPED)
    assert_same(found, _part(snapshot.read(snapshot.SHIPPED), QUICK_SHIPPED), "shipped")


@pytest.mark.slow
def test_shipped_profiles_rank_as_committed_in_every_variant() -> None:
    from tests.conftest import PROFILES

    assert_same(snapshot.shipped_snapshot(str(PROFILES)), snapshot.read(snapshot.SHIPPED), "shipped")


@pytest.mark.slow
def test_synthetic_population_ranks_as_committed(tmp_path: Path) -> None:
    spec = snapshot.SYNTHETIC_EXACT
    path = snapshot.synthesise(spec["n"], spec["seed"], tmp_path / "exact.jsonl")
    found = snapshot.synthetic_snapshot(path, spec["sample"], spec["top"])
    assert_same(found, snapshot.read(snapshot.SYNTHETIC), "synthetic")


@pytest.mark.slow
def test_latent_synthetic_population_ranks_as_committed(tmp_path: Path) -> None:
    spec = snapshot.SYNTHETIC_LATENT_SPEC
    path = snapshot.synthesise(spec["n"], spec["seed"], tmp_path / "latent.jsonl")
    found = snapshot.synthetic_snapshot(path, spec["sample"], spec["top"])
    assert_same(found, snapshot.read(snapshot.SYNTHETIC_LATENT), "synthetic-latent")
