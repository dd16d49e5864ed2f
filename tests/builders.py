"""Small, readable builders for test profiles (no files needed)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st

from matchmaker.core.profile import Evidence, Item, Profile, Vocabulary

VOCABULARY = Vocabulary(
    dimensions={"data": "Data.", "compute": "Compute.", "talent": "Talent.", "domain": "Domain."},
    kinds=("corporate", "startup", "government"),
    sectors={"manufacturing": "M.", "healthcare": "H.", "languages": "L.", "cloud": "C."},
    # Real descriptions: the semantic encoders' concepts are these tags, read with their descriptions.
    tags={
        "gpu-cloud": "GPU capacity sold or granted as a cloud service for training and serving models.",
        "industrial-data": "Operational and sensor data from factories and production lines.",
        "speech-data": "Speech recordings and transcripts for voice models.",
        "researchers": "AI researchers, engineers and research staff.",
        "governance": "AI policy, regulation, legal review and compliance.",
        "datasets": "Training and evaluation datasets, such as medical records or images.",
    },
)


def item(description: str, strength: int = 3, tags: tuple[str, ...] = (), **evidence: str) -> Item:
    return Item(
        description=description,
        strength=strength,
        tags=tags,
        evidence=Evidence(**(evidence or {"background": "test fixture"})),
    )


def profile(
    org_id: str,
    *,
    country: str = "JP",
    sectors: tuple[str, ...] = ("manufacturing",),
    offers: dict[str, Any] | None = None,
    needs: dict[str, Any] | None = None,
    kind: str = "corporate",
    **extra: Any,
) -> Profile:
    """A profile whose offers/needs map dimension -> description or list of (description, strength)."""

    def items(spec: dict[str, Any] | None) -> dict[str, tuple[Item, ...]]:
        out: dict[str, tuple[Item, ...]] = {}
        for dimension, value in (spec or {}).items():
            entries = value if isinstance(value, list) else [value]
            out[dimension] = tuple(item(e) if isinstance(e, str) else item(*e) for e in entries)
        return out

    return Profile(
        id=org_id,
        name=extra.pop("name", org_id.replace("-", " ").title()),
        country=country,
        kind=kind,
        sectors=sectors,
        offers=items(offers),
        needs=items(needs),
        **extra,
    )


def market() -> list[Profile]:
    """A small market with a known answer.

    ``factory`` (JP) offers factory sensor data and needs GPU cloud capacity; ``gpu-host`` (IN) offers
    exactly that and needs exactly what factory offers, so they are each other's best partners.
    ``one-sided`` offers GPU cloud too but needs nothing factory has; ``speech`` and ``clinic`` trade
    speech data for hospital records; ``idle`` neither offers nor needs anything others have.
    """
    return [
        profile(
            "factory",
            country="JP",
            offers={"data": "factory sensor data from production lines"},
            needs={"compute": "gpu cloud capacity for model training"},
        ),
        profile(
            "gpu-host",
            country="IN",
            sectors=("cloud",),
            offers={"compute": "gpu cloud capacity for model training"},
            needs={"data": "factory sensor data from production lines"},
        ),
        profile(
            "one-sided",
            country="IN",
            sectors=("cloud",),
            offers={"compute": [("gpu cloud capacity for training large models", 2)]},
            needs={"domain": "legal contract review expertise"},
        ),
        profile(
            "speech",
            country="IN",
            sectors=("languages",),
            offers={"data": "indian speech recordings in many languages"},
            needs={"data": "hospital patient records for clinical models"},
        ),
        profile(
            "clinic",
            country="JP",
            sectors=("healthcare",),
            offers={"data": "hospital patient records for clinical models"},
            needs={"data": "indian speech recordings in many languages", "talent": "machine learning researchers"},
        ),
        profile(
            "idle",
            country="JP",
            sectors=("healthcare",),
            offers={"domain": "origami folding workshops"},
            needs={"domain": "violin tuning lessons"},
        ),
    ]


WORDS = [
    "gpu",
    "cloud",
    "factory",
    "sensor",
    "data",
    "speech",
    "hindi",
    "hospital",
    "records",
    "robot",
    "researchers",
    "governance",
    "safety",
    "datacenter",
    "models",
    "language",
    "steel",
    "finance",
]
text = st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(" ".join)


@st.composite
def populations(draw: st.DrawFn, *, max_orgs: int, max_items: int) -> list[Profile]:
    """Random markets of 2 to ``max_orgs`` profiles, each side up to ``max_items`` items (strength 1-3) a dimension."""
    side = st.dictionaries(
        st.sampled_from(["data", "compute", "talent", "domain"]),
        st.lists(st.tuples(text, st.integers(1, 3)), min_size=1, max_size=max_items),
        max_size=3,
    )
    n = draw(st.integers(2, max_orgs))
    return [
        profile(
            f"org-{k:02d}",
            country=draw(st.sampled_from(["JP", "IN", "SG"])),
            sectors=tuple(draw(st.sets(st.sampled_from(["manufacturing", "healthcare", "cloud"]), min_size=1))),
            offers=draw(side),
            needs=draw(side),
        )
        for k in range(n)
    ]


class FakeModel:
    """Bag of character trigrams hashed to 64 dimensions: similar strings embed alike; counts its calls."""

    identity = "fake-trigrams-64"
    dimension = 64

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def embed(self, texts: Sequence[str], kind: str) -> np.ndarray:
        self.embedded += list(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for k in range(len(text) - 2):
                out[row, int(hashlib.md5(text[k : k + 3].encode()).hexdigest(), 16) % self.dimension] += 1.0
        return out
