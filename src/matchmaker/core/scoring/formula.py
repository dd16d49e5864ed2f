"""The reciprocal complementarity formula, once; every evaluation strategy is built from these pieces.

For organisations A and B and a dimension d:

* ``benefit_d(A->B) = min(1, offers_d[A] . needs_d[B])``: how well what A offers meets what B needs
  (strength-weighted offers against B's importance-weighted average need);
* ``directed(A->B) = sum_d c_d[B] * benefit_d(A->B)``, where ``c_d[B]`` (:func:`need_shares`) is the
  share of dimension d in what B needs: its dimension weight times B's need mass there, normalised;
* ``reciprocal = combiner(max(0, directed(A->B)), max(0, directed(B->A)))``, by default the power
  mean with exponent 1/2, ``((sqrt a + sqrt b) / 2)**2`` (chosen on the quality benchmark,
  docs/quality.md): a mutual pairing is favoured, a central need met strongly still counts where the
  other side gains nothing, and a pairing with no gain either way scores 0;
* ``score = reciprocal * bonus``, ``bonus = (1 + s * sector_fit + x * cross_border) / (1 + s + x)``
  (:func:`bonus_factor`): sector fit and the Japan-India preference scale a match; they never make one.

Three strategies evaluate it, each from the pieces below: per pair (:func:`components`, the
breakdown every explanation shows), one organisation against everyone (``query``: a matrix-vector
product per dimension) and blocks of rows against columns (``plan``: one fused matrix product of
offers against share-scaled needs, ``sum_d min(c_d, c_d x_d) = sum_d c_d x_d - sum_d max(0, c_d x_d - c_d)``,
with the cap subtracted only where it can bind, and the bonus as a product of :class:`BonusFactors`).
The contract tests check that the three agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from matchmaker.core.profile import Profile
from matchmaker.core.scoring.settings import ScoringSettings
from matchmaker.core.vectors import FloatArray, IntArray, Matrix, ProfileMatrices, Scores, dense, rowwise_dot


@dataclass(frozen=True)
class Context:
    """What scoring needs besides the vectors: each organisation's home country."""

    countries: NDArray[np.str_]


def bridge_sides(countries: NDArray[np.str_], bridge: tuple[str, str]) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Which organisations are at home in ``bridge[0]`` and which in ``bridge[1]``."""
    return countries == bridge[0], countries == bridge[1]


def cross_border(
    countries_a: NDArray[np.str_], countries_b: NDArray[np.str_], bridge: tuple[str, str]
) -> NDArray[np.bool_]:
    """True where one side's home is bridge[0] and the other's bridge[1]; arrays broadcast.

    >>> cross_border(np.array(["JP", "JP", "IN"]), np.array(["IN", "JP", "JP"]), ("JP", "IN")).tolist()
    [True, False, True]
    """
    return crosses(*bridge_sides(countries_a, bridge), *bridge_sides(countries_b, bridge))


def crosses(
    a_x: NDArray[np.bool_], a_y: NDArray[np.bool_], b_x: NDArray[np.bool_], b_y: NDArray[np.bool_]
) -> NDArray[np.bool_]:
    """The cross-border rule on bridge sides (see ``bridge_sides``): one side in each country."""
    mask: NDArray[np.bool_] = (a_x & b_y) | (a_y & b_x)
    return mask


def cross_border_mask(
    countries_a: NDArray[np.str_], countries_b: NDArray[np.str_], bridge: tuple[str, str]
) -> NDArray[np.bool_]:
    """The cross-border flag of every (a, b) pair: ``cross_border`` as an outer comparison."""
    return cross_border(countries_a[:, None], countries_b[None, :], bridge)


def need_shares(need_mass: FloatArray, alpha: FloatArray) -> FloatArray:
    """``c[b, d]``: the share of dimension d in b's directed benefit (its weighted need there, normalised).

    >>> need_shares(np.array([[1.0, 1 / 3], [0.0, 0.0]]), np.array([1.0, 2.0])).round(3).tolist()
    [[0.6, 0.4], [0.0, 0.0]]
    """
    weighted = need_mass * alpha
    total = weighted.sum(axis=1, keepdims=True)
    shares: FloatArray = np.divide(weighted, total, out=np.zeros_like(weighted), where=total > 0)
    return shares


def profile_need_shares(profile: Profile, dimensions: Sequence[str], settings: ScoringSettings) -> dict[str, float]:
    """``need_shares`` for one profile, by dimension: how much each counts in what it gets from a partner.

    >>> from matchmaker.core.profile import Evidence, Item
    >>> need = lambda s: (Item(description="gpu hours", strength=s, evidence=Evidence(background="x")),)
    >>> p = Profile(id="p", name="P", country="JP", kind="startup", sectors=("ai",),
    ...             needs={"compute": need(3), "data": need(1)})
    >>> {d: round(v, 2) for d, v in profile_need_shares(p, ("compute", "data"), ScoringSettings()).items()}
    {'compute': 0.75, 'data': 0.25}
    """
    mass = np.array([[profile.need_mass(d) for d in dimensions]])
    shares = need_shares(mass, settings.weights(dimensions))[0]
    return {d: float(s) for d, s in zip(dimensions, shares, strict=True)}


def add_capped(total: Scores, raw: Scores, share: Scores | float) -> None:
    """``total += share * min(1, raw)``: one dimension's capped, weighted term of a directed benefit.

    ``raw`` is overwritten.
    """
    np.minimum(raw, 1.0, out=raw)
    np.multiply(raw, share, out=raw, casting="unsafe")
    total += raw


def bonus_factor(sector_fit: Scores, cross: NDArray[np.bool_], settings: ScoringSettings) -> Scores:
    """``(1 + s * sector_fit + x * cross_border) / (1 + s + x)``: how the bonuses scale a match."""
    s, x = settings.sector_weight, settings.cross_border_weight
    factor: Scores = (1.0 + s * sector_fit + x * cross) / (1.0 + s + x)
    return factor


def bonus_scale(settings: ScoringSettings) -> float:
    """The combiner's constant times ``1 / (1 + s + x)``: the bonus factor of a pair with no bonus."""
    return settings.combiner_entry.constant / (1.0 + settings.sector_weight + settings.cross_border_weight)


@dataclass(frozen=True)
class BonusFactors:
    """:func:`bonus_factor` times the combiner's constant, factored so a block of it is one matrix product.

    ``left[a] . right[b] = constant * bonus_factor(sector_fit(a, b), cross_border(a, b))``: the columns
    are the constant term, the sectors (scaled by s on the left) and the two bridge sides crossed over
    (scaled by x). Without bonuses (s = x = 0) the factor is the constant alone and no product is needed.
    """

    constant: float  # combiner constant / (1 + s + x)
    left: Scores | None
    right: Scores | None

    @classmethod
    def build(cls, sectors: Matrix, countries: NDArray[np.str_], settings: ScoringSettings, dtype: Any) -> BonusFactors:
        s, x = settings.sector_weight, settings.cross_border_weight
        scale = bonus_scale(settings)
        n = len(countries)
        left_cols: list[Scores] = [np.full((n, 1), scale)]
        right_cols: list[Scores] = [np.ones((n, 1))]
        if s > 0:
            dense_sectors = dense(sectors).astype(np.float64)
            left_cols.append(dense_sectors * (s * scale))
            right_cols.append(dense_sectors)
        if x > 0:
            is_x, is_y = bridge_sides(countries, settings.bridge)
            same = settings.bridge[0] == settings.bridge[1]
            left_cols += [is_x[:, None] * (x * scale)] + ([] if same else [is_y[:, None] * (x * scale)])
            right_cols += [is_y[:, None].astype(np.float64)] + ([] if same else [is_x[:, None].astype(np.float64)])
        if len(left_cols) == 1:
            return cls(scale, None, None)
        return cls(
            scale,
            np.ascontiguousarray(np.hstack(left_cols), dtype=dtype),
            np.ascontiguousarray(np.hstack(right_cols), dtype=dtype),
        )


# The combiners the numba kernel computes, and the code its loops branch on (importable without numba).
COMBINER_CODES = {"harmonic": 0, "geometric": 1, "arithmetic": 2, "min": 3, "stronger-led": 4, "sqrt-mean": 5}


def combine(
    ab: Scores, ba: Scores, settings: ScoringSettings, *, clamp: bool, spare: Scores | None = None
) -> tuple[Scores, Scores | None]:
    """Both directed benefits combined in place, without the combiner's constant; and a free buffer.

    ``ab`` and ``ba`` are overwritten; ``clamp`` sets them to 0 below the noise floor first
    (:func:`clip_noise`); ``spare``, a buffer of the same shape, saves the harmonic mean an allocation.
    """
    if clamp:
        clip_noise(ab)
        clip_noise(ba)
    return settings.combiner_entry.inplace(ab, ba, spare)


NOISE = 1e-12  # directed benefits below this are rounding error, and 0


def clip_noise(directed: Scores) -> Scores:
    """Directed benefits below ``NOISE`` set to 0, in place.

    Latent similarities can be slightly negative, and an offer an attribute vetoes cancels to rounding
    error (1e-17), not to 0 (:mod:`~matchmaker.core.encoding.attributes`).

    >>> clip_noise(np.array([0.5, -1e-9, 3e-18])).tolist()
    [0.5, 0.0, 0.0]
    """
    np.putmask(directed, directed < NOISE, 0.0)
    return directed


def apply_bonus(combined: Scores, bonus: Scores | float) -> Scores:
    """``combined * bonus`` in place, where ``bonus`` is ``constant * bonus_factor`` (or just the constant)."""
    if not isinstance(bonus, float):
        return np.multiply(combined, bonus, out=combined)
    if bonus != 1.0:
        np.multiply(combined, combined.dtype.type(bonus), out=combined)
    return combined


def finish(ab: Scores, ba: Scores, bonus: Scores | float, settings: ScoringSettings, *, clamp: bool) -> Scores:
    """The score from both directed benefits and the bonus: :func:`combine`, then :func:`apply_bonus`."""
    combined, _ = combine(ab, ba, settings, clamp=clamp)
    return apply_bonus(combined, bonus)


@dataclass(frozen=True)
class PairComponents:
    """Every term of the score for a set of pairs (arrays of equal length), in float64."""

    per_dimension_ab: FloatArray  # (pairs, D): benefit_d(A->B), clipped to [0, 1]
    per_dimension_ba: FloatArray
    directed_ab: FloatArray
    directed_ba: FloatArray
    reciprocal: FloatArray
    sector_fit: FloatArray
    cross_border: NDArray[np.bool_]
    score: FloatArray


def components(
    m: ProfileMatrices, a: IntArray, b: IntArray, ctx: Context, settings: ScoringSettings, dimensions: Sequence[str]
) -> PairComponents:
    """Every term of the score for the pairs (a[k], b[k]), in float64: the formula evaluated pair by pair.

    The directed benefits sum the capped per-dimension benefits (latent vectors' small negative
    similarities included) and are clipped at 0, as the matrix strategies do.
    """
    alpha = settings.weights(dimensions)
    share_b, share_a = need_shares(m.need_mass[b], alpha), need_shares(m.need_mass[a], alpha)
    raw_ab = np.zeros((len(a), len(dimensions)))
    raw_ba = np.zeros((len(a), len(dimensions)))
    ab, ba = np.zeros(len(a)), np.zeros(len(a))
    for d in range(len(dimensions)):
        raw_ab[:, d] = rowwise_dot(m.offers[d][a], m.needs[d][b])
        raw_ba[:, d] = rowwise_dot(m.offers[d][b], m.needs[d][a])
        add_capped(ab, raw_ab[:, d].copy(), share_b[:, d])
        add_capped(ba, raw_ba[:, d].copy(), share_a[:, d])
    clip_noise(ab)
    clip_noise(ba)
    sector = rowwise_dot(m.sectors[a], m.sectors[b])
    cross = cross_border(ctx.countries[a], ctx.countries[b], settings.bridge)
    reciprocal = np.asarray(settings.combiner_entry(ab, ba), dtype=np.float64)
    return PairComponents(
        np.asarray(clip_noise(np.clip(raw_ab, 0.0, 1.0)), dtype=np.float64),
        np.asarray(clip_noise(np.clip(raw_ba, 0.0, 1.0)), dtype=np.float64),
        ab,
        ba,
        reciprocal,
        sector,
        np.asarray(cross, dtype=bool),
        reciprocal * bonus_factor(sector, cross, settings),
    )
