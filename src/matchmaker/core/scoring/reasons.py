"""Why a pair scores what it scores: the offer->need item pairs behind each direction's benefit.

A directed benefit (giver -> taker) is, per dimension, the sum over the giver's offers and the taker's
needs of ``offer strength x need share x similarity``, capped at 1, then weighted by the taker's need
mass in that dimension (see ``scoring``). Each item pair's *contribution* is its term scaled the same
way, so the contributions of one direction add up to its directed benefit.

Every item pair of a batch of matches is one cell of flat arrays: one gather and one row-wise product
for all similarities, one ``bincount`` for the per-dimension totals and one ``lexsort`` for the order.
Python objects are built only for the reasons that are returned.

Each reason also says what made its similarity (:class:`Basis`): the part of each block of the item
vectors (concepts, shared words, shared tags; they add up to the similarity), the concepts and words
behind them, and the attribute factor. An item pair an attribute vetoed is kept as a reason with its
cause (and contribution 0, or what a partial factor left) when it would otherwise have counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from matchmaker.core.encoding import AttributeCoder, Block, ItemAttributes
from matchmaker.core.profile import MAX_STRENGTH, Item, Profile, Side
from matchmaker.core.scoring.formula import profile_need_shares
from matchmaker.core.scoring.settings import ScoringSettings
from matchmaker.core.vectors import Matrix

Direction = Literal["a_to_b", "b_to_a"]
DIRECTIONS: tuple[Direction, Direction] = ("a_to_b", "b_to_a")
REASON_FLOOR = 0.005  # contributions below this explain nothing a reader could use


@dataclass(frozen=True)
class ItemRef:
    """One offer or need of one organisation, with where it stands in the profile."""

    org: str
    side: Side
    dimension: str
    position: int
    item: Item


@dataclass(frozen=True)
class Basis:
    """What made an item pair's similarity.

    ``parts`` is each block's share of it (semantic concepts, shared words, shared tags; they add up
    to the similarity); ``concepts``, ``words`` and ``tags`` name what is shared, largest first;
    ``factor`` is the attribute factor already applied (1: nothing vetoed) and ``vetoed_by`` says why
    it is below 1.
    """

    parts: tuple[tuple[str, float], ...]
    concepts: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    factor: float = 1.0
    vetoed_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reason:
    """An offer of one side meeting a need of the other, and how much of the score it makes."""

    direction: Direction
    dimension: str
    offer: ItemRef
    need: ItemRef
    similarity: float
    contribution: float  # share of the directed benefit of ``direction`` this item pair produces
    basis: Basis | None = None


@dataclass(frozen=True)
class ItemVectors:
    """Unit item text vectors of a batch of profiles, by item identity, with what explains a similarity.

    ``matrix`` rows dotted are text similarities; ``blocks`` name its column ranges; with ``coder``
    and ``attributes`` (the items' values, same rows) the attribute factor multiplies them.
    """

    rows: dict[int, int]
    matrix: Matrix
    blocks: tuple[Block, ...] = ()
    coder: AttributeCoder | None = None
    attributes: ItemAttributes | None = None

    def row(self, item: Item) -> int:
        return self.rows[id(item)]

    def factors(
        self, offer_rows: NDArray[np.intp], need_rows: NDArray[np.intp], dimensions: Sequence[str]
    ) -> NDArray[np.float64]:
        """The attribute factor of each (offer, need) cell in its dimension (ones without attributes)."""
        if self.coder is None or self.attributes is None or not self.coder.attributes:
            return np.ones(len(offer_rows))
        return self.coder.factors(self.attributes, offer_rows, self.attributes, need_rows, dimensions)

    def basis(self, offer_row: int, need_row: int, dimension: str, factor: float) -> Basis:
        """The parts of one cell's similarity, and what it shares."""
        offer, need = _dense_row(self.matrix, offer_row), _dense_row(self.matrix, need_row)
        product = offer * need * factor
        parts: list[tuple[str, float]] = []
        concepts: tuple[str, ...] = ()
        words: tuple[str, ...] = ()
        tags: tuple[str, ...] = ()
        for block in self.blocks:
            cells = product[block.start : block.stop]
            parts.append((block.name, float(cells.sum())))
            positive = np.flatnonzero(cells > 0)  # a few of thousands of words: sort those only
            order = positive[np.argsort(-cells[positive], kind="stable")]
            shared = tuple(block.features[k] for k in order.tolist())
            if block.name == "semantic":
                concepts = shared[:3]
            elif block.name == "words":
                words = shared[:8]
            elif block.name == "tags":
                tags = shared
        causes: tuple[str, ...] = ()
        if factor < 1.0 and self.coder is not None and self.attributes is not None:
            causes = tuple(self.coder.causes(self.attributes, offer_row, self.attributes, need_row, dimension))
        return Basis(tuple(parts), concepts, words, tags, factor, causes)


def _dense_row(matrix: Matrix, row: int) -> NDArray[np.float64]:
    if sp.issparse(matrix):
        return np.asarray(matrix[row].toarray(), dtype=np.float64).ravel()
    return np.asarray(matrix[row], dtype=np.float64)


class _Cells:
    """The flat arrays of every offer x need cell of a batch, filled one directed pair at a time."""

    def __init__(self) -> None:
        self.offer_rows: list[int] = []  # rows of ItemVectors
        self.need_rows: list[int] = []
        self.offer_weight: list[float] = []  # offer strength / MAX_STRENGTH
        self.need_weight: list[float] = []  # need strength / the taker's total need strength in the dimension
        self.group: list[int] = []  # (directed pair, dimension) group
        self.offer_position: list[int] = []
        self.need_position: list[int] = []
        self.group_share: list[float] = []  # the dimension's share of the direction's need mass
        self.group_match: list[int] = []
        self.group_direction: list[int] = []
        self.group_dimension: list[int] = []
        self._need_shares: dict[int, dict[str, float]] = {}  # by id(taker): one taker is in every pair of a list

    def add(
        self,
        match: int,
        direction: int,
        giver: Profile,
        taker: Profile,
        settings: ScoringSettings,
        dimensions: Sequence[str],
        vectors: ItemVectors,
    ) -> None:
        shares = self._need_shares.get(id(taker))
        if shares is None:
            shares = self._need_shares[id(taker)] = profile_need_shares(taker, dimensions, settings)
        for d, dimension in enumerate(dimensions):
            offers, needs = giver.offers.get(dimension, ()), taker.needs.get(dimension, ())
            if not offers or not needs or shares[dimension] <= 0:
                continue
            group = len(self.group_share)
            self.group_share.append(shares[dimension])
            self.group_match.append(match)
            self.group_direction.append(direction)
            self.group_dimension.append(d)
            need_total = sum(n.strength for n in needs)
            for i, offer in enumerate(offers):
                for j, need in enumerate(needs):
                    self.offer_rows.append(vectors.row(offer))
                    self.need_rows.append(vectors.row(need))
                    self.offer_weight.append(offer.strength / MAX_STRENGTH)
                    self.need_weight.append(need.strength / need_total)
                    self.group.append(group)
                    self.offer_position.append(i)
                    self.need_position.append(j)


def _rowwise_similarity(matrix: Matrix, left: NDArray[np.intp], right: NDArray[np.intp]) -> NDArray[np.float64]:
    """``matrix[left[k]] . matrix[right[k]]`` for every k, in float64."""
    if sp.issparse(matrix):
        product = matrix[left].multiply(matrix[right])
        return np.asarray(product.sum(axis=1), dtype=np.float64).ravel()
    a = np.asarray(matrix[left], dtype=np.float64)
    b = np.asarray(matrix[right], dtype=np.float64)
    return np.asarray(np.einsum("ij,ij->i", a, b), dtype=np.float64)


def explain(
    pairs: Sequence[tuple[Profile, Profile]],
    dimensions: Sequence[str],
    settings: ScoringSettings,
    vectors: ItemVectors,
    limit: int | None = None,
    floor: float = REASON_FLOOR,
) -> list[list[Reason]]:
    """For each pair (a, b), the item pairs behind its score, largest contribution first (at most ``limit``).

    Ties are ordered by direction (a_to_b first), dimension name and offer position. Contributions of
    one direction add up to its directed benefit (each dimension's share scaled down where the benefit
    was capped at 1); those under ``floor`` are left out.
    """
    cells = _Cells()
    for k, (a, b) in enumerate(pairs):
        cells.add(k, 0, a, b, settings, dimensions, vectors)
        cells.add(k, 1, b, a, settings, dimensions, vectors)
    found: list[list[Reason]] = [[] for _ in pairs]
    if not cells.group:
        return found
    group = np.asarray(cells.group, dtype=np.intp)
    offer_rows = np.asarray(cells.offer_rows, dtype=np.intp)
    need_rows = np.asarray(cells.need_rows, dtype=np.intp)
    text = _rowwise_similarity(vectors.matrix, offer_rows, need_rows)
    cell_dimensions = [dimensions[cells.group_dimension[g]] for g in cells.group]
    factor = vectors.factors(offer_rows, need_rows, cell_dimensions)
    similarity = text * factor
    weight = np.asarray(cells.offer_weight) * np.asarray(cells.need_weight)
    raw = weight * similarity
    np.maximum(raw, 0.0, out=raw)
    total = np.bincount(group, weights=raw, minlength=len(cells.group_share))
    cap = np.divide(np.minimum(total, 1.0), total, out=np.zeros_like(total), where=total > 0)
    scale = np.asarray(cells.group_share) * np.where(total > 0, cap, 1.0)
    contribution = raw * (np.asarray(cells.group_share) * cap)[group]
    # A pair an attribute vetoed (factor below 1) is a reason too when it would have counted, with its cause.
    unvetoed = np.maximum(weight * text, 0.0) * scale[group]
    vetoed = (factor < 1.0) & (unvetoed >= floor) & (unvetoed > 0)
    kept = np.flatnonzero(((contribution >= floor) & (contribution > 0)) | vetoed)
    if not kept.size:
        return found
    match = np.asarray(cells.group_match, dtype=np.intp)[group[kept]]
    direction = np.asarray(cells.group_direction, dtype=np.intp)[group[kept]]
    dimension = np.asarray(cells.group_dimension, dtype=np.intp)[group[kept]]
    name_rank = np.argsort(np.argsort(np.array(dimensions, dtype=object)))  # dimension names sort order
    offer_position = np.asarray(cells.offer_position, dtype=np.intp)[kept]
    # lexsort: the last key is the primary one.
    sorted_kept = np.lexsort((offer_position, name_rank[dimension], direction, -contribution[kept], match))
    order = kept[sorted_kept]
    if limit is not None:
        order = order[_ranks_within(match[sorted_kept]) < limit]
    for cell in order.tolist():
        g = cells.group[cell]
        k, d = cells.group_match[g], cells.group_dimension[g]
        giver, taker = pairs[k] if cells.group_direction[g] == 0 else pairs[k][::-1]
        name = dimensions[d]
        i, j = cells.offer_position[cell], cells.need_position[cell]
        found[k].append(
            Reason(
                DIRECTIONS[cells.group_direction[g]],
                name,
                ItemRef(giver.id, "offers", name, i, giver.offers[name][i]),
                ItemRef(taker.id, "needs", name, j, taker.needs[name][j]),
                float(similarity[cell]),
                float(contribution[cell]),
                vectors.basis(int(offer_rows[cell]), int(need_rows[cell]), name, float(factor[cell])),
            )
        )
    return found


def _ranks_within(sorted_groups: NDArray[np.intp]) -> NDArray[np.intp]:
    """0, 1, 2... within each run of equal values of a sorted array.

    >>> _ranks_within(np.array([0, 0, 0, 2, 2, 5])).tolist()
    [0, 1, 2, 0, 1, 0]
    """
    if not sorted_groups.size:
        return sorted_groups
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    lengths = np.diff(np.r_[starts, sorted_groups.size])
    return np.arange(sorted_groups.size) - np.repeat(starts, lengths)
