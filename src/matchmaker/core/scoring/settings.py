"""Scoring settings and the registry of combiners: how the two directions of a pair become one score.

The defaults live in :mod:`matchmaker.core.defaults`; the configuration file, the CLI and the API start from them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from matchmaker.core.defaults import (
    DEFAULT_BRIDGE,
    DEFAULT_COMBINER,
    DEFAULT_CROSS_BORDER_WEIGHT,
    DEFAULT_SCORER,
    DEFAULT_SECTOR_WEIGHT,
)
from matchmaker.core.errors import SettingsError
from matchmaker.core.registry import Registry

Scores = NDArray[np.floating[Any]]  # float32 for latent vectors, float64 for exact ones


# An in-place combiner kernel: (a, b, spare buffer or None) -> (result, a free buffer or None). It may
# overwrite a and b; the combiner's constant is applied by the caller (it is folded into the bonus).
InPlace = Callable[[Scores, Scores, Scores | None], tuple[Scores, Scores | None]]


def _harmonic(a: Scores, b: Scores, spare: Scores | None) -> tuple[Scores, Scores | None]:
    product = np.multiply(a, b, out=spare)
    np.add(a, b, out=a)
    np.maximum(a, np.finfo(a.dtype).tiny, out=a)  # both 0 -> 0 / tiny = 0
    return np.divide(product, a, out=product), a


def _geometric(a: Scores, b: Scores, spare: Scores | None) -> tuple[Scores, Scores | None]:
    np.multiply(a, b, out=a)
    return np.sqrt(a, out=a), b


def _arithmetic(a: Scores, b: Scores, spare: Scores | None) -> tuple[Scores, Scores | None]:
    return np.add(a, b, out=a), b


def _minimum(a: Scores, b: Scores, spare: Scores | None) -> tuple[Scores, Scores | None]:
    return np.minimum(a, b, out=a), b


def _stronger_led(a: Scores, b: Scores, spare: Scores | None) -> tuple[Scores, Scores | None]:
    # 3 max + min = 2 max + (a + b): the stronger direction counts three times, the weaker once.
    larger = np.maximum(a, b, out=spare)
    np.add(a, b, out=a)
    np.add(a, larger, out=a)
    np.add(a, larger, out=a)
    return a, larger


@dataclass(frozen=True)
class Combiner:
    """How the two directed benefits of a pair combine: ``constant * inplace(a, b)``.

    The constant is kept apart so the scorer can fold it into the bonus factor (one multiplication
    fewer per pair); powers of two keep the folded and the plain results identical.

    >>> round(float(COMBINERS["harmonic"](np.array([0.5]), np.array([0.25]))[0]), 4)
    0.3333
    """

    name: str
    description: str
    constant: float
    inplace: InPlace

    def __call__(self, a: Scores, b: Scores) -> Scores:
        """The combined value of ``a`` and ``b`` (new arrays; the inputs are not changed)."""
        dtype = np.result_type(np.asarray(a).dtype, np.asarray(b).dtype, np.float32)
        result, _ = self.inplace(np.array(a, dtype=dtype), np.array(b, dtype=dtype), None)
        return np.multiply(result, result.dtype.type(self.constant), out=result)


COMBINERS: Registry[Combiner] = Registry(
    "combiner",
    {
        c.name: c
        for c in (
            Combiner(
                "harmonic", "harmonic mean of both directions (2ab/(a+b)): mutual benefit required", 2.0, _harmonic
            ),
            Combiner("geometric", "geometric mean of both directions (sqrt(ab))", 1.0, _geometric),
            Combiner(
                "arithmetic",
                "arithmetic mean of both directions ((a+b)/2): one-sided pairs still score",
                0.5,
                _arithmetic,
            ),
            Combiner("min", "the weaker direction (min(a, b))", 1.0, _minimum),
            Combiner(
                "stronger-led",
                "the stronger direction leads ((3 max(a, b) + min(a, b))/4): a central need met well counts, "
                "the other side's gain still adds",
                0.25,
                _stronger_led,
            ),
        )
    },
)


def combiner_descriptions() -> dict[str, str]:
    """Each combiner's name and what it does (the vocabulary endpoint and the contract list them)."""
    return {name: c.description for name, c in COMBINERS.items()}


@dataclass(frozen=True)
class ScoringSettings:
    """Weights per dimension and per term, and how the two directions combine.

    Dimensions not named in ``dimension_weights`` weigh 1.

    >>> ScoringSettings(sector_weight=-1).validated(("data",))
    Traceback (most recent call last):
    ...
    matchmaker.core.errors.SettingsError: sector weight must be a finite number >= 0, got -1
    """

    dimension_weights: Mapping[str, float] = field(default_factory=dict)
    sector_weight: float = DEFAULT_SECTOR_WEIGHT
    cross_border_weight: float = DEFAULT_CROSS_BORDER_WEIGHT
    combiner: str = DEFAULT_COMBINER
    bridge: tuple[str, str] = DEFAULT_BRIDGE
    scorer: str = DEFAULT_SCORER  # a name in ``scoring.SCORERS``, checked where the scorer is made

    def validated(self, dimensions: Sequence[str]) -> ScoringSettings:
        """Return self if every setting is acceptable for ``dimensions``; else SettingsError naming the first."""
        COMBINERS.get_entry(self.combiner)
        for name in self.dimension_weights:
            if name not in dimensions:
                raise SettingsError(f"unknown dimension {name!r} in weights; accepted: {', '.join(dimensions)}")
        named = [(f"weight of dimension {d!r}", w) for d, w in self.dimension_weights.items()]
        for label, value in [
            *named,
            ("sector weight", self.sector_weight),
            ("cross-border weight", self.cross_border_weight),
        ]:
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise SettingsError(f"{label} must be a finite number >= 0, got {value!r}")
        if not any(self.weight(d) > 0 for d in dimensions):
            raise SettingsError("at least one dimension weight must be above 0; all are 0")
        return self

    @property
    def combiner_entry(self) -> Combiner:
        return COMBINERS.get_entry(self.combiner)

    def weight(self, dimension: str) -> float:
        return float(self.dimension_weights.get(dimension, 1.0))

    def weights(self, dimensions: Sequence[str]) -> NDArray[np.float64]:
        """``alpha``: the weight of each of ``dimensions``, in order."""
        return np.array([self.weight(d) for d in dimensions], dtype=np.float64)

    def only(self, dimension: str, dimensions: Sequence[str]) -> ScoringSettings:
        """The same settings scoring ``dimension`` alone."""
        if dimension not in dimensions:
            raise SettingsError(f"unknown dimension {dimension!r}; accepted: {', '.join(dimensions)}")
        return replace(
            self, dimension_weights={d: (self.weight(d) or 1.0) if d == dimension else 0.0 for d in dimensions}
        )
