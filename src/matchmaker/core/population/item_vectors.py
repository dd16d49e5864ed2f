"""The item vectors explanations read, vectorised once per profile and remembered.

Every partner list explains its pairs from the vectors of the items of both sides, and the same
partners appear in many lists: vectorising them again for each list was a tenth of a service's CPU.
A profile's items are vectorised on their own (so its rows do not depend on which other profiles a
request happens to explain with it) and kept while the profile object lives in a population sharing
this vectoriser; a batch is the remembered blocks stacked.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from matchmaker.core.encoding import deferred_texts, embedding_deferred
from matchmaker.core.encoding.attributes import ItemAttributes
from matchmaker.core.profile import Item, Profile
from matchmaker.core.scoring.reasons import ItemVectors
from matchmaker.core.vectoriser import ProfileVectoriser
from matchmaker.core.vectors import Matrix

DENSE_ITEM_CELLS = 4_000_000  # item vectors of one explanation batch are made dense up to this size
REMEMBERED_PROFILES = 20_000  # profiles whose item vectors are kept (about 10 KB each, exact vectors)


@dataclass(frozen=True)
class _ProfileItems:
    profile: Profile  # held, so the id it is remembered by cannot name another profile while it is kept
    items: tuple[Item, ...]
    vectors: Matrix
    attributes: ItemAttributes | None


class ItemVectorMemo:
    """``memo(profiles)``: the :class:`ItemVectors` of every item of ``profiles``, by item identity.

    Shared by the populations that extend one another (they share the vectoriser); safe across
    threads (a lost race vectorises a profile twice). A profile with a text not embedded yet
    (``embedding_deferred``) is vectorised every time until it is: its rows are provisional.
    """

    def __init__(self, vectoriser: ProfileVectoriser) -> None:
        self.vectoriser = vectoriser
        self._kept: dict[int, _ProfileItems] = {}

    def __call__(self, profiles: Sequence[Profile]) -> ItemVectors:
        parts = [self._of(p) for p in {id(p): p for p in profiles}.values()]
        vectors = _stacked([part.vectors for part in parts]) if parts else self.vectoriser.transform_items([])
        if sp.issparse(vectors) and vectors.shape[0] * vectors.shape[1] <= DENSE_ITEM_CELLS:
            vectors = vectors.toarray()  # row picks and products of small dense arrays are much cheaper
        items = [item for part in parts for item in part.items]
        coder = self.vectoriser.attributes_
        attributes = None
        if coder.attributes:
            found = [part.attributes for part in parts if part.attributes is not None] or [coder.of([])]
            attributes = ItemAttributes(
                tuple(v for a in found for v in a.values),
                {name: np.concatenate([a.shares[name] for a in found]) for name in found[0].shares},
                {name: np.concatenate([a.rejects[name] for a in found]) for name in found[0].rejects},
            )
        return ItemVectors(
            {id(item): row for row, item in enumerate(items)},
            vectors,
            self.vectoriser.item_blocks,
            coder,
            attributes,
        )

    def _of(self, profile: Profile) -> _ProfileItems:
        kept = self._kept.get(id(profile))
        if kept is not None and kept.profile is profile:
            return kept
        items = tuple({id(i): i for *_, i in profile.iter_items()}.values())
        outer = deferred_texts()
        with embedding_deferred() if outer is not None else nullcontext(set[str]()) as pending:
            vectors = self.vectoriser.transform_items(items)
            coder = self.vectoriser.attributes_
            attributes = coder.of(items) if coder.attributes else None
        found = _ProfileItems(profile, items, vectors, attributes)
        if outer is not None and pending:
            outer.update(pending)  # provisional: the caller's deferral learns of them, nothing is kept
            return found
        if len(self._kept) >= REMEMBERED_PROFILES:
            self._kept.clear()
        self._kept[id(profile)] = found
        return found

    def __getstate__(self) -> dict[str, Any]:
        return {"vectoriser": self.vectoriser, "_kept": {}}


def _stacked(parts: list[Matrix]) -> Matrix:
    if any(sp.issparse(p) for p in parts):
        return sp.vstack([sp.csr_matrix(p) for p in parts], format="csr")
    return np.vstack([np.asarray(p) for p in parts])
