"""Item attributes as a multiplicative veto that stays inside the dot product.

The vocabulary declares attributes (``language`` of data or models, ``location`` of an asset), the
dimensions each applies in and their values. An item's values are the ones it declares, else those
its description names (:meth:`AttributeCoder.infer`). For an offer with values ``o`` and a need with
values ``n`` the *factor* of one attribute is

* 1 when the need states nothing, or the offer states nothing;
* else the share of the offer's values compatible with one of the need's (so an offer in Japanese
  meets a need for Hindi with factor 0, one in Hindi and Japanese with 0.5).

Written as ``1 - e . r``, where ``e`` (offer side) holds the share of each value and ``r`` (need side)
is 1 on every value the need rejects, both zero when nothing is stated. The factor of several
attributes is the product of theirs, and it multiplies the text similarity:

``(x_o (x) c_o) . (x_n (x) c_n) = (x_o . x_n) * prod_a (1 - e_a . r_a)``

with ``c_o = (x)_a [1, e_a]`` and ``c_n = (x)_a [1, -r_a]`` (``(x)`` the Kronecker product). So item and
organisation vectors keep the scorer's form (organisation scores stay matrix products), an offer in the
wrong language contributes 0 to a benefit instead of cancelling good ones, and the first block of each
vector (coefficient 1 on both sides) is the plain text vector, whose products bound the whole.

Which values get a state is decided when fitting: every value (exact vectors), or only those the
population uses (latent vectors, where width costs time); a value without a state is read as the
nearest group it is ``within`` that has one, else as unstated.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from matchmaker.core.encoding.text import normalise
from matchmaker.core.profile import AttributeSpec, Item, Side

Values = tuple[str, ...]


@lru_cache(maxsize=1024)
def _patterns(words: tuple[str, ...]) -> tuple[re.Pattern[str] | None, tuple[str, ...]]:
    """One regular expression for the Latin-script words (whole words: "india" is not in "indiana"),
    and the other words as substrings (Japanese and Devanagari have no spaces between words)."""
    normalised = [normalise(w) for w in words]
    latin = sorted({w for w in normalised if w.isascii()}, key=len, reverse=True)
    other = tuple(w for w in normalised if not w.isascii())
    pattern = re.compile(rf"(?<![a-z0-9])(?:{'|'.join(map(re.escape, latin))})(?![a-z0-9])") if latin else None
    return pattern, other


@dataclass(frozen=True)
class Attribute:
    """One attribute of the vocabulary as the coder uses it: its states, words and groups."""

    name: str
    spec: AttributeSpec
    states: tuple[str, ...]  # the values with a coordinate, in vocabulary order

    def infer(self, normalised: str) -> Values:
        """The values whose words occur in already-normalised text, in vocabulary order."""
        found = []
        for value, spec in self.spec.values.items():
            latin, other = _patterns(spec.words)
            if (latin is not None and latin.search(normalised)) or any(w in normalised for w in other):
                found.append(value)
        return tuple(found)

    def state(self, value: str) -> str | None:
        """The state ``value`` is read as: itself, else the nearest group within it that has a state."""
        seen: set[str] = set()
        queue = [value]
        while queue:
            current = queue.pop(0)
            if current in self.states:
                return current
            seen.add(current)
            spec = self.spec.values.get(current)
            queue += [g for g in (spec.within if spec else ()) if g not in seen]
        return None

    def offer_shares(self, values: Values) -> NDArray[np.float64]:
        """``e``: the share of each state among the offer's values (zeros when none has a state)."""
        e = np.zeros(len(self.states))
        mapped = [s for s in (self.state(v) for v in values) if s is not None]
        for s in mapped:
            e[self.states.index(s)] += 1.0 / len(mapped)
        return e

    def rejected(self, values: Values) -> NDArray[np.float64]:
        """``r``: 1 on every state a need with ``values`` rejects (zeros when it states none)."""
        r = np.zeros(len(self.states))
        wanted = [v for v in values if self.state(v) is not None]
        if not wanted:
            return r
        for k, state in enumerate(self.states):
            if not any(
                self.spec.compatible(state, w) or self.spec.compatible(state, self.state(w) or w) for w in wanted
            ):
                r[k] = 1.0
        return r


@dataclass(frozen=True)
class ItemAttributes:
    """Every item's values per attribute, and the coder's ``e`` and ``r`` rows of a batch of items."""

    values: tuple[dict[str, Values], ...]  # per item: attribute -> values (declared or inferred)
    shares: dict[str, NDArray[np.float64]]  # attribute -> (items, states): e, the offer side
    rejects: dict[str, NDArray[np.float64]]  # attribute -> (items, states): r, the need side


INFERRED_TEXTS = 200_000  # descriptions whose inferred values are remembered (a few tens of MB)


class AttributeCoder:
    """The vocabulary's attributes, with the states fitted, turned into factors and coefficient vectors.

    Examples
    --------
    >>> from matchmaker.core.profile import AttributeSpec, Evidence
    >>> language = AttributeSpec(description="L.", dimensions=("data",), values={
    ...     "ja": {"label": "Japanese", "words": ["japanese", "日本語"]},
    ...     "hi": {"label": "Hindi", "words": ["hindi"], "within": ["indian-languages"]},
    ...     "indian-languages": {"label": "Indian languages", "words": ["indian languages"]}})
    >>> coder = AttributeCoder({"language": language})
    >>> item = lambda text: Item(description=text, strength=1, evidence=Evidence(background="x"))
    >>> offers, needs = [item("日本語の会話データ"), item("Hindi speech")], [item("Data in Indian languages")]
    >>> coder.factors(coder.of(offers), [0, 1], coder.of(needs), [0, 0], "data").tolist()
    [0.0, 1.0]
    >>> coder.causes(coder.of(offers), 0, coder.of(needs), 0, "data")
    ['language: the need asks for Indian languages, the offer is Japanese']
    """

    def __init__(self, specs: Mapping[str, AttributeSpec], states: Mapping[str, Sequence[str]] | None = None) -> None:
        self.attributes = tuple(
            Attribute(name, spec, tuple(states[name]) if states is not None and name in states else tuple(spec.values))
            for name, spec in specs.items()
        )

    def applying(self, dimension: str) -> tuple[Attribute, ...]:
        """The attributes that apply in ``dimension``, in vocabulary order."""
        return tuple(a for a in self.attributes if dimension in a.spec.dimensions)

    def coefficient_width(self, dimension: str) -> int:
        """How many copies of the text vector an item vector in ``dimension`` holds: prod (1 + states)."""
        return int(np.prod([1 + len(a.states) for a in self.applying(dimension)], dtype=np.int64))

    def values_of(self, item: Item) -> dict[str, Values]:
        """Declared values, else those the description names, for every attribute."""
        inferred = self._inferred(item.description)
        return {a.name: item.declared(a.name) or inferred[a.name] for a in self.attributes}

    def _inferred(self, description: str) -> dict[str, Values]:
        # Every ranking explains its pairs' items again; reading their words once per text is enough.
        memo: dict[str, dict[str, Values]] = self.__dict__.setdefault("_memo", {})
        found = memo.get(description)
        if found is None:
            text = normalise(description)
            found = {a.name: a.infer(text) for a in self.attributes}
            if len(memo) >= INFERRED_TEXTS:
                memo.clear()
            memo[description] = found
        return found

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_memo"}

    def of(self, items: Sequence[Item]) -> ItemAttributes:
        """The values, ``e`` rows and ``r`` rows of ``items``."""
        values = tuple(self.values_of(i) for i in items)
        shares, rejects = {}, {}
        for a in self.attributes:
            shares[a.name] = np.array([a.offer_shares(v[a.name]) for v in values]).reshape(len(items), len(a.states))
            rejects[a.name] = np.array([a.rejected(v[a.name]) for v in values]).reshape(len(items), len(a.states))
        return ItemAttributes(values, shares, rejects)

    def coefficients(self, attrs: ItemAttributes, side: Side, dimension: str) -> NDArray[np.float64]:
        """``c_o`` (offers) or ``c_n`` (needs) of every item in ``dimension``: (items, coefficient_width)."""
        n = len(attrs.values)
        c = np.ones((n, 1))
        for a in self.applying(dimension):
            part = attrs.shares[a.name] if side == "offers" else -attrs.rejects[a.name]
            block = np.hstack([np.ones((n, 1)), part])
            # (the width is stated: for no items, reshape cannot infer it from a size of 0)
            c = (c[:, :, None] * block[:, None, :]).reshape(n, c.shape[1] * block.shape[1])
        return c

    def factors(
        self,
        offers: ItemAttributes,
        offer_rows: Sequence[int] | NDArray[np.intp],
        needs: ItemAttributes,
        need_rows: Sequence[int] | NDArray[np.intp],
        dimension: str | Sequence[str],
    ) -> NDArray[np.float64]:
        """The factor of each (offer, need) cell: ``prod_a (1 - e_a . r_a)`` over the attributes applying there.

        ``dimension`` is one name for every cell, or one per cell.
        """
        o, n = np.asarray(offer_rows, dtype=np.intp), np.asarray(need_rows, dtype=np.intp)
        dims = np.asarray([dimension] * len(o) if isinstance(dimension, str) else list(dimension), dtype=object)
        out = np.ones(len(o))
        for a in self.attributes:
            applies = np.isin(dims, list(a.spec.dimensions))
            if applies.any() and a.states:
                overlap = np.einsum("ij,ij->i", offers.shares[a.name][o], needs.rejects[a.name][n])
                out *= np.where(applies, 1.0 - overlap, 1.0)
        return out

    def causes(
        self, offers: ItemAttributes, offer_row: int, needs: ItemAttributes, need_row: int, dimension: str
    ) -> list[str]:
        """Why one cell's factor is below 1: each attribute whose values the need rejects, in words."""
        found = []
        for a in self.applying(dimension):
            overlap = float(offers.shares[a.name][offer_row] @ needs.rejects[a.name][need_row])
            if overlap > 0:
                label = a.spec.values
                wanted = " or ".join(label[v].label for v in needs.values[need_row][a.name])
                offered = " and ".join(label[v].label for v in offers.values[offer_row][a.name])
                found.append(f"{a.name}: the need asks for {wanted}, the offer is {offered}")
        return found

    def used_states(self, attrs: ItemAttributes) -> dict[str, tuple[str, ...]]:
        """Per attribute, the values some item of ``attrs`` states, in vocabulary order (for latent vectors)."""
        out = {}
        for a in self.attributes:
            used = {v for values in attrs.values for v in values[a.name]}
            out[a.name] = tuple(v for v in a.spec.values if v in used)
        return out


def tensor(content: sp.csr_matrix | NDArray[np.float32], coefficients: NDArray[np.float64]) -> object:
    """Row-wise Kronecker product: row i is ``coefficients[i] (x) content[i]`` (blocks of the content's width).

    Sparse content gives a sparse result holding only the non-zero coefficient blocks.

    >>> tensor(np.array([[1.0, 2.0]], dtype=np.float32), np.array([[1.0, -1.0]])).tolist()
    [[1.0, 2.0, -1.0, -2.0]]
    """
    width = coefficients.shape[1]
    if width == 1 and np.all(coefficients == 1.0):
        return content
    if sp.issparse(content):
        blocks = [sp.diags(coefficients[:, s]) @ content for s in range(width)]
        return sp.hstack(blocks, format="csr")
    x = np.asarray(content)
    return (coefficients.astype(x.dtype)[:, :, None] * x[:, None, :]).reshape(x.shape[0], -1)
