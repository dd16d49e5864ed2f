"""The vectoriser: profiles in, per-dimension offer and need matrices plus a sector vector out."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.sparse as sp
import snowballstemmer
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
from sklearn.preprocessing import normalize
from sklearn.utils.validation import check_is_fitted

from matchmaker.core.errors import MatchmakerError
from matchmaker.core.profile import MAX_STRENGTH, SIDES, Item, Profile

Matrix = sp.csr_matrix | NDArray[np.float64]

_WORD = re.compile(r"[a-z0-9]+")
# British and American spellings meet on one token, so "data centre" matches "data center".
_SPELLING = {"centre": "center", "centres": "centers", "programme": "program", "programmes": "programs",
             "organisation": "organization", "organisations": "organizations", "optimise": "optimize",
             "optimisation": "optimization", "subsidised": "subsidized", "labour": "labor"}
_STEMMER = snowballstemmer.stemmer("english")


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return str(_STEMMER.stemWord(_SPELLING.get(word, word)))


def analyse_words(text: str) -> list[str]:
    """Lowercased, stemmed content words of ``text``; tags' words count too.

    >>> analyse_words("Curated manufacturing datasets and data-centre partners")
    ['curat', 'manufactur', 'dataset', 'data', 'center', 'partner']
    """
    return [_stem(w) for w in _WORD.findall(text.lower()) if len(w) > 1 and w not in ENGLISH_STOP_WORDS]


def _identity(tags: Sequence[str]) -> Sequence[str]:
    return tags


def item_text(item: Item) -> str:
    """What the word model reads of an item: its description and the words of its tags."""
    return " ".join((item.description, *(tag.replace("-", " ") for tag in item.tags)))


@dataclass(frozen=True)
class ProfileMatrices:
    """The vectoriser's output split into its blocks, one row per profile.

    ``offers[d]`` row a is the strength-weighted sum of a's offer vectors in dimension d;
    ``needs[d]`` row b is the importance-weighted average of b's need vectors in d; ``need_mass[b, d]``
    is how much b depends on d (its strongest need there, over the maximum strength); ``sectors`` rows
    are unit-length sector indicators.
    """

    offers: tuple[Matrix, ...]
    needs: tuple[Matrix, ...]
    need_mass: NDArray[np.float64]
    sectors: Matrix

    @property
    def n(self) -> int:
        return int(self.need_mass.shape[0])


class ProfileVectoriser(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Turn profiles into offer and need matrices per dimension plus a sector vector.

    Each offer or need item becomes one unit vector: TF-IDF over the stemmed words of its description
    and tags (share ``1 - tag_share``) joined with TF-IDF over its exact tags (share ``tag_share``),
    so two items' dot product is a similarity in [0, 1]. With ``n_components`` the item vectors are
    reduced by truncated SVD (latent semantic analysis), for large populations.

    Parameters
    ----------
    dimensions : sequence of str, optional
        The dimensions, in order; learned from the profiles when not given.
    sectors : sequence of str, optional
        The sector vocabulary; learned from the profiles when not given.
    tag_share : float, default=0.4
        The share of an item's similarity that comes from exact shared tags.
    n_components : int, optional
        Reduce item vectors to this many latent components (dense output).
    random_state : int, default=0
        Seed for the SVD.

    Examples
    --------
    >>> from matchmaker.core.profile import Evidence, Item, Profile
    >>> claim = lambda text: (Item(description=text, strength=3, evidence=Evidence(background="x")),)
    >>> cloud = Profile(id="cloud", name="Cloud", country="JP", kind="corporate", sectors=("it",),
    ...                 offers={"compute": claim("GPU cloud")}, needs={"data": claim("factory data")})
    >>> maker = Profile(id="maker", name="Maker", country="IN", kind="corporate", sectors=("it",),
    ...                 offers={"data": claim("factory data")}, needs={"compute": claim("GPU cloud")})
    >>> vectoriser = ProfileVectoriser().fit([cloud, maker])
    >>> vectoriser.dimensions_
    ('compute', 'data')
    >>> m = vectoriser.split(vectoriser.transform([cloud, maker]))
    >>> round(float((m.offers[0] @ m.needs[0].T)[0, 1]), 3)  # cloud's compute offer meets maker's need
    1.0
    """

    def __init__(
        self,
        *,
        dimensions: Sequence[str] | None = None,
        sectors: Sequence[str] | None = None,
        tag_share: float = 0.4,
        n_components: int | None = None,
        random_state: int = 0,
    ) -> None:
        self.dimensions = dimensions
        self.sectors = sectors
        self.tag_share = tag_share
        self.n_components = n_components
        self.random_state = random_state

    def fit(self, profiles: Iterable[Profile], y: object = None) -> ProfileVectoriser:
        profiles = list(profiles)
        if not profiles:
            raise MatchmakerError("cannot fit the vectoriser on no profiles; give at least one")
        if not 0.0 <= self.tag_share <= 1.0:
            raise MatchmakerError(f"tag_share must be between 0 and 1, got {self.tag_share!r}")
        if self.n_components is not None and self.n_components < 1:
            raise MatchmakerError(f"n_components must be a positive integer, got {self.n_components!r}")
        seen = dict.fromkeys(d for p in profiles for side in SIDES for d in p.items(side))
        self.dimensions_ = tuple(self.dimensions) if self.dimensions is not None else tuple(sorted(seen))
        seen_sectors = dict.fromkeys(s for p in profiles for s in p.sectors)
        self.sectors_ = tuple(self.sectors) if self.sectors is not None else tuple(sorted(seen_sectors))
        items = [item for p in profiles for _, _, _, item in p.iter_items()]
        if not items:
            raise MatchmakerError("cannot fit the vectoriser: the profiles have no offer or need items")
        self.words_ = TfidfVectorizer(analyzer=analyse_words, sublinear_tf=True, dtype=np.float64)
        self.words_.fit([item_text(i) for i in items])
        self.tags_ = TfidfVectorizer(analyzer=_identity, dtype=np.float64)
        self.tags_.fit([i.tags for i in items] + [("",)])  # never an empty vocabulary
        self.svd_: TruncatedSVD | None = None
        if self.n_components is not None:
            raw = self._raw_item_vectors(items)
            components = min(self.n_components, raw.shape[1] - 1) or 1
            self.svd_ = TruncatedSVD(n_components=components, random_state=self.random_state).fit(raw)
        self.n_item_features_ = (
            self.svd_.n_components if self.svd_ is not None
            else len(self.words_.vocabulary_) + len(self.tags_.vocabulary_)
        )
        self.n_features_in_ = 1
        return self

    def _raw_item_vectors(self, items: Sequence[Item]) -> sp.csr_matrix:
        words = self.words_.transform([item_text(i) for i in items])
        tags = self.tags_.transform([i.tags for i in items])
        has_tags = np.asarray(tags.getnnz(axis=1) > 0)
        has_words = np.asarray(words.getnnz(axis=1) > 0)
        # Split the unit length between words and tags; an item with only one kind gets all of it.
        word_share = np.where(has_tags, 1.0 - self.tag_share, 1.0)
        tag_share = np.where(has_words, self.tag_share, 1.0)
        joined = sp.hstack(
            [sp.diags(np.sqrt(word_share)) @ words, sp.diags(np.sqrt(tag_share)) @ tags], format="csr"
        )
        return normalize(joined)

    def transform_items(self, items: Sequence[Item]) -> Matrix:
        """One unit-length row per item; dot products are similarities."""
        check_is_fitted(self, "words_")
        raw = self._raw_item_vectors(items)
        if self.svd_ is None:
            return raw
        return normalize(self.svd_.transform(raw))

    def transform(self, profiles: Iterable[Profile]) -> Matrix:
        """Stack, per profile, the offer blocks, need blocks, need masses and sectors into one row."""
        check_is_fitted(self, "words_")
        profiles = list(profiles)
        blocks = self.blocks(profiles)
        parts = [*blocks.offers, *blocks.needs, blocks.need_mass, blocks.sectors]
        if self.svd_ is None:
            return sp.hstack([sp.csr_matrix(part) for part in parts], format="csr")
        return np.hstack([part.toarray() if sp.issparse(part) else part for part in parts])

    def blocks(self, profiles: Sequence[Profile]) -> ProfileMatrices:
        """The blocks of ``transform(profiles)`` without stacking them."""
        check_is_fitted(self, "words_")
        dim_index = {d: k for k, d in enumerate(self.dimensions_)}
        items: list[Item] = []
        rows: dict[tuple[str, int], tuple[list[int], list[int], list[float]]] = {}
        need_mass = np.zeros((len(profiles), len(self.dimensions_)))
        for row, profile in enumerate(profiles):
            for side, dimension, _, item in profile.iter_items():
                d = dim_index.get(dimension)
                if d is None:
                    continue  # a dimension the programme does not score
                r, c, v = rows.setdefault((side, d), ([], [], []))
                r.append(row)
                c.append(len(items))
                v.append(item.strength / MAX_STRENGTH)
                items.append(item)
                if side == "needs":
                    need_mass[row, d] = max(need_mass[row, d], item.strength / MAX_STRENGTH)
        vectors = self.transform_items(items) if items else sp.csr_matrix((0, self.n_item_features_))

        def aggregate(side: str, d: int) -> Matrix:
            r, c, v = rows.get((side, d), ([], [], []))
            weights = sp.csr_matrix((v, (r, c)), shape=(len(profiles), len(items)))
            if side == "needs":  # an average over the needs, weighted by their importance
                totals = np.asarray(weights.sum(axis=1)).ravel()
                weights = sp.diags(np.divide(1.0, totals, out=np.zeros_like(totals), where=totals > 0)) @ weights
            out = weights @ vectors
            return sp.csr_matrix(out) if sp.issparse(out) else np.asarray(out)

        sector_index = {s: k for k, s in enumerate(self.sectors_)}
        r2 = [row for row, p in enumerate(profiles) for s in p.sectors if s in sector_index]
        c2 = [sector_index[s] for p in profiles for s in p.sectors if s in sector_index]
        sectors = normalize(sp.csr_matrix((np.ones(len(r2)), (r2, c2)), shape=(len(profiles), len(self.sectors_))))
        n_dims = len(self.dimensions_)
        return ProfileMatrices(
            offers=tuple(aggregate("offers", d) for d in range(n_dims)),
            needs=tuple(aggregate("needs", d) for d in range(n_dims)),
            need_mass=need_mass,
            sectors=sectors,
        )

    def split(self, matrix: Matrix) -> ProfileMatrices:
        """Split a ``transform`` output back into its blocks."""
        check_is_fitted(self, "words_")
        f, n_dims = self.n_item_features_, len(self.dimensions_)
        csr = sp.csr_matrix(matrix) if sp.issparse(matrix) else None

        def cols(start: int, stop: int) -> Matrix:
            return csr[:, start:stop] if csr is not None else np.asarray(matrix)[:, start:stop]

        offers = tuple(cols(d * f, (d + 1) * f) for d in range(n_dims))
        needs = tuple(cols((n_dims + d) * f, (n_dims + d + 1) * f) for d in range(n_dims))
        mass_start = 2 * n_dims * f
        mass = cols(mass_start, mass_start + n_dims)
        need_mass = mass.toarray() if sp.issparse(mass) else np.asarray(mass)
        return ProfileMatrices(offers, needs, need_mass, cols(mass_start + n_dims, mass_start + n_dims + len(self.sectors_)))

    def get_feature_names_out(self, input_features: object = None) -> NDArray[np.str_]:
        check_is_fitted(self, "words_")
        if self.svd_ is None:
            item = [f"word:{w}" for w in self.words_.get_feature_names_out()] + [
                f"tag:{t}" for t in self.tags_.get_feature_names_out()]
        else:
            item = [f"lsa:{k}" for k in range(self.n_item_features_)]
        names = [f"offers:{d}:{x}" for d in self.dimensions_ for x in item]
        names += [f"needs:{d}:{x}" for d in self.dimensions_ for x in item]
        names += [f"need_mass:{d}" for d in self.dimensions_] + [f"sector:{s}" for s in self.sectors_]
        return np.asarray(names, dtype=object)
