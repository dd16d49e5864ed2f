"""Ecosystem gap analysis: needs nobody meets, offers nobody needs, and Japan-India bridges per dimension.

Every quantity is read off the same item vectors the scorer uses, so it can be checked against
``matchmaker explain``:

* the **coverage** of a need item *j* of organisation B in dimension *d* is
  ``max over A != B of min(1, sum_i strength_i / 3 * similarity(offer_i, need_j))``, the sum running
  over A's offers in *d*. It is the term the scorer weighs need *j* by in ``benefit_d(A->B)``. A need
  whose coverage is below ``unmet_below`` is **unmet**: no organisation offers anything close to it.
* the **demand** for an offer item *i* of organisation A in dimension *d* is
  ``max over B != A of min(1, sum_j strength_j / 3 * similarity(offer_i, need_j))``, the sum running
  over B's needs in *d*. An offer whose demand is below ``oversupply_below`` is **oversupplied**:
  nobody in the population asks for it.
* a **strong bridge** in dimension *d* is a pair of one organisation from each bridge country (Japan
  and India by default) whose ``benefit_d`` (the per-dimension number of ``matchmaker explain``) is at
  least ``bridge_from`` in at least one direction; a **mutual** bridge reaches it in both.

The default thresholds are anchored on the vectoriser: two items that share exactly the same tags
and no words have similarity 0.4 (the tags' share), so one substantial (strength 2) offer like that
gives a coverage of 2/3 * 0.4 = 0.27 and one central offer 0.4. Below 0.25 (``UNMET_BELOW``,
``OVERSUPPLY_BELOW``) nothing in the population comes even that close; a bridge from 0.3
(``BRIDGE_FROM``) is at least that much help in a dimension.

The work is matrix products over item vectors in blocks of items and organisations, so memory stays
bounded; the cost grows with (offer items x need items) per dimension, which is exact and fast for
thousands of organisations. Nothing is sampled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from matchmaker.core.defaults import BRIDGE_FROM, OVERSUPPLY_BELOW, UNMET_BELOW
from matchmaker.core.errors import SettingsError
from matchmaker.core.population import ItemRef, Population
from matchmaker.core.profile import MAX_STRENGTH, Side
from matchmaker.core.scoring import ScoringSettings
from matchmaker.core.vectors import FloatArray, IntArray, Matrix


@dataclass(frozen=True)
class ItemFit:
    """How well the rest of the population answers one item.

    For a need, ``best`` is its coverage by the best other organisation's offers; for an offer, the
    demand of the other organisation that needs it most. ``best_org`` is that organisation (None when
    ``best`` is 0).
    """

    ref: ItemRef
    best: float
    best_org: str | None


@dataclass(frozen=True)
class BridgeExample:
    """One cross-border pair and its benefit in one dimension, each way."""

    first: str  # the organisation from bridge[0] (Japan by default)
    second: str  # the organisation from bridge[1] (India by default)
    first_to_second: float
    second_to_first: float


@dataclass(frozen=True)
class Bridges:
    """How many cross-border pairs are strong in one dimension."""

    dimension: str
    strong: int  # benefit >= threshold in at least one direction
    mutual: int  # benefit >= threshold in both directions
    examples: tuple[BridgeExample, ...]  # the strongest few, by the larger direction


@dataclass(frozen=True)
class Ecosystem:
    """The gap analysis of a population, with the thresholds that define it."""

    needs: tuple[ItemFit, ...]
    offers: tuple[ItemFit, ...]
    bridges: tuple[Bridges, ...]
    bridge: tuple[str, str]
    bridge_pairs: int  # the number of cross-border pairs in the population
    unmet_below: float
    oversupply_below: float
    bridge_from: float

    @property
    def unmet(self) -> tuple[ItemFit, ...]:
        """Needs whose coverage is below ``unmet_below``: most important first, then least covered."""
        return _flagged(self.needs, self.unmet_below)

    @property
    def oversupply(self) -> tuple[ItemFit, ...]:
        """Offers whose demand is below ``oversupply_below``: strongest first, then least demanded."""
        return _flagged(self.offers, self.oversupply_below)


def _flagged(fits: Sequence[ItemFit], below: float) -> tuple[ItemFit, ...]:
    found = [f for f in fits if f.best < below]
    return tuple(
        sorted(found, key=lambda f: (-f.ref.item.strength, f.best, f.ref.org, f.ref.dimension, f.ref.position))
    )


def _dense(matrix: Matrix) -> FloatArray:
    return matrix.toarray() if sp.issparse(matrix) else np.asarray(matrix, dtype=np.float64)


def _take(matrix: Any, rows: slice | IntArray) -> Any:
    """Rows of a sparse or dense matrix (both index the same way; typed loosely for that reason)."""
    return matrix[rows]


def _items(population: Population, side: Side, dimension: str) -> list[ItemRef]:
    return [
        ItemRef(p.id, side, dimension, k, item)
        for p in population.profiles
        for k, item in enumerate(p.items(side).get(dimension, ()))
    ]


def _best_by_org(
    similarity: FloatArray, weights: FloatArray, row_owner: IntArray, column_owner: IntArray, n_orgs: int
) -> tuple[FloatArray, IntArray]:
    """For each column item: max over organisations (other than its owner) of their weighted row sums."""
    # per_org[o, c] = sum over rows r owned by o of weights[r] * similarity[r, c]
    indicator = sp.csr_matrix((weights, (row_owner, np.arange(len(row_owner)))), shape=(n_orgs, len(row_owner)))
    per_org = np.asarray(indicator @ similarity)
    np.clip(per_org, 0.0, 1.0, out=per_org)
    per_org[column_owner, np.arange(len(column_owner))] = 0.0  # an organisation never answers itself
    best_org = per_org.argmax(axis=0)
    return per_org[best_org, np.arange(len(column_owner))], best_org


def _fits(population: Population, dimension: str, block_size: int) -> tuple[list[ItemFit], list[ItemFit]]:
    """Coverage of every need and demand for every offer in one dimension."""
    offers, needs = _items(population, "offers", dimension), _items(population, "needs", dimension)
    index, n_orgs = population.index, len(population)
    if not offers or not needs:
        return ([ItemFit(r, 0.0, None) for r in needs], [ItemFit(r, 0.0, None) for r in offers])
    vectoriser = population.vectoriser
    offer_vectors = vectoriser.item_vectors([r.item for r in offers], "offers", dimension)
    need_vectors = vectoriser.item_vectors([r.item for r in needs], "needs", dimension)
    offer_owner = np.array([index[r.org] for r in offers], dtype=np.int64)
    need_owner = np.array([index[r.org] for r in needs], dtype=np.int64)
    offer_weight = np.array([r.item.strength for r in offers], dtype=np.float64) / MAX_STRENGTH
    need_weight = np.array([r.item.strength for r in needs], dtype=np.float64) / MAX_STRENGTH

    coverage, covered_by = np.zeros(len(needs)), np.zeros(len(needs), dtype=np.int64)
    for start in range(0, len(needs), block_size):
        block = slice(start, start + block_size)
        similarity = _dense(offer_vectors @ _take(need_vectors, block).T)  # (offers, needs in block)
        coverage[block], covered_by[block] = _best_by_org(
            similarity, offer_weight, offer_owner, need_owner[block], n_orgs
        )
    demand, demanded_by = np.zeros(len(offers)), np.zeros(len(offers), dtype=np.int64)
    for start in range(0, len(offers), block_size):
        block = slice(start, start + block_size)
        similarity = _dense(need_vectors @ _take(offer_vectors, block).T)  # (needs, offers in block)
        demand[block], demanded_by[block] = _best_by_org(
            similarity, need_weight, need_owner, offer_owner[block], n_orgs
        )

    def fit(ref: ItemRef, best: float, org: int) -> ItemFit:
        return ItemFit(ref, float(best), population.profiles[int(org)].id if best > 0 else None)

    return (
        [fit(r, float(c), int(o)) for r, c, o in zip(needs, coverage, covered_by, strict=True)],
        [fit(r, float(d), int(o)) for r, d, o in zip(offers, demand, demanded_by, strict=True)],
    )


def _bridges(
    population: Population, bridge: tuple[str, str], threshold: float, examples: int, block_size: int
) -> tuple[list[Bridges], int]:
    countries = population.context.countries
    first = np.flatnonzero(countries == bridge[0])
    second = np.flatnonzero(countries == bridge[1])
    m = population.matrices
    found = []
    for d, dimension in enumerate(population.dimensions):
        strong = mutual = 0
        best: list[tuple[float, int, int, float, float]] = []
        for start in range(0, len(first), block_size):
            rows = first[start : start + block_size]
            forward = np.clip(_dense(_take(m.offers[d], rows) @ _take(m.needs[d], second).T), 0.0, 1.0)
            backward = np.clip(_dense(_take(m.needs[d], rows) @ _take(m.offers[d], second).T), 0.0, 1.0)
            hit_forward, hit_backward = forward >= threshold, backward >= threshold
            strong += int((hit_forward | hit_backward).sum())
            mutual += int((hit_forward & hit_backward).sum())
            larger = np.maximum(forward, backward).ravel()
            for flat in np.argsort(-larger, kind="stable")[:examples]:
                if larger[flat] >= threshold:
                    i, j = divmod(int(flat), len(second))
                    best.append(
                        (float(larger[flat]), int(rows[i]), int(second[j]), float(forward[i, j]), float(backward[i, j]))
                    )
        best.sort(key=lambda e: (-e[0], e[1], e[2]))
        shown = tuple(
            BridgeExample(population.profiles[a].id, population.profiles[b].id, ab, ba)
            for _, a, b, ab, ba in best[:examples]
        )
        found.append(Bridges(dimension, strong, mutual, shown))
    return found, len(first) * len(second)


def analyse_ecosystem(
    population: Population,
    *,
    settings: ScoringSettings | None = None,
    unmet_below: float = UNMET_BELOW,
    oversupply_below: float = OVERSUPPLY_BELOW,
    bridge_from: float = BRIDGE_FROM,
    examples: int = 3,
    block_size: int = 1024,
) -> Ecosystem:
    """Find unmet needs, oversupplied offers and strong cross-border bridges per dimension.

    Parameters
    ----------
    population : Population
        The fitted population; item vectors come from its vectoriser.
    settings : ScoringSettings, optional
        Only ``bridge`` (the two countries) is used; the population's settings when not given.
    unmet_below : float, default=0.25
        A need whose best coverage by any other organisation is below this is unmet.
    oversupply_below : float, default=0.25
        An offer whose best demand by any other organisation is below this is oversupplied.
    bridge_from : float, default=0.3
        A cross-border pair is a strong bridge in a dimension when its benefit there reaches this.
    examples : int, default=3
        How many of the strongest bridges to keep per dimension.
    block_size : int, default=1024
        Items (and organisations) per block of the matrix products; bounds memory.

    Returns
    -------
    Ecosystem
        Every need and offer with its best counterpart, and the bridge counts per dimension.

    Examples
    --------
    >>> from matchmaker.core.profile import Evidence, Item, Profile
    >>> claim = lambda text: (Item(description=text, strength=3, evidence=Evidence(background="x")),)
    >>> def org(id, country, offer, need):
    ...     return Profile(id=id, name=id, country=country, kind="corporate", sectors=("ai",),
    ...                    offers={"data": claim(offer)}, needs={"data": claim(need)})
    >>> eco = analyse_ecosystem(Population.fit([
    ...     org("maker", "JP", "factory sensor data", "indian speech data"),
    ...     org("voice", "IN", "indian speech data", "factory sensor data"),
    ...     org("lab", "IN", "satellite images", "legal contracts")]))
    >>> [(f.ref.org, f.ref.item.description) for f in eco.unmet]
    [('lab', 'legal contracts')]
    >>> [(f.ref.org, f.best_org) for f in eco.needs if f.best > 0]
    [('maker', 'voice'), ('voice', 'maker')]
    >>> [f.ref.item.description for f in eco.oversupply]
    ['satellite images']
    >>> eco.bridges[0].strong, eco.bridges[0].mutual, eco.bridge_pairs
    (1, 1, 2)
    """
    for label, value in (
        ("unmet_below", unmet_below),
        ("oversupply_below", oversupply_below),
        ("bridge_from", bridge_from),
    ):
        if not 0.0 < value <= 1.0:
            raise SettingsError(f"{label} must be a number in (0, 1], got {value!r}")
    if examples < 0 or block_size < 1:
        raise SettingsError(f"examples must be >= 0 and block_size >= 1, got {examples!r} and {block_size!r}")
    bridge = (settings or population.settings).bridge
    needs: list[ItemFit] = []
    offers: list[ItemFit] = []
    for dimension in population.dimensions:
        found_needs, found_offers = _fits(population, dimension, block_size)
        needs += found_needs
        offers += found_offers
    bridges, pairs = _bridges(population, bridge, bridge_from, examples, block_size)
    return Ecosystem(
        needs=tuple(needs),
        offers=tuple(offers),
        bridges=tuple(bridges),
        bridge=bridge,
        bridge_pairs=pairs,
        unmet_below=unmet_below,
        oversupply_below=oversupply_below,
        bridge_from=bridge_from,
    )


__all__ = [
    "BRIDGE_FROM",
    "OVERSUPPLY_BELOW",
    "UNMET_BELOW",
    "BridgeExample",
    "Bridges",
    "Ecosystem",
    "ItemFit",
    "analyse_ecosystem",
]
