"""Golden snapshots: every partner list and pair, with scores and reasons, as the CLI prints them.

A snapshot is taken through the command line (``--format json``), so it holds whatever the code
behind it is; restructuring that code must leave it unchanged. A deliberate change of the model
(new profiles, a new encoder) regenerates it, and the commit says why::

    python -m tests.golden.snapshot --update
"""

from __future__ import annotations

import argparse
import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from matchmaker.cli import app

HERE = Path(__file__).parent
SHIPPED = HERE / "shipped.json.gz"
SYNTHETIC = HERE / "synthetic.json.gz"
SYNTHETIC_LATENT = HERE / "synthetic_latent.json.gz"
# Settings variants run over the shipped profiles: every combiner, weights, bonuses, one dimension.
VARIANTS: dict[str, list[str]] = {
    "default": [],
    "harmonic": ["--combiner", "harmonic"],
    "arithmetic": ["--combiner", "arithmetic"],
    "geometric": ["--combiner", "geometric"],
    "min": ["--combiner", "min"],
    "weighted": ["-w", "compute=2", "-w", "talent=0.5", "--sector-weight", "0.5", "--cross-border-weight", "0.3"],
    "data-only": ["--dimension", "data"],
}


def run(*args: str) -> Any:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    if result.exit_code != 0:
        raise RuntimeError(f"matchmaker {' '.join(args)} exited {result.exit_code}: {result.output}")
    return json.loads(result.stdout)


def _reason(r: dict[str, Any]) -> list[Any]:
    return [
        r["direction"],
        r["dimension"],
        r["offer"]["org"],
        r["offer"]["position"],
        r["need"]["org"],
        r["need"]["position"],
        r["contribution"],
        r["similarity"],
        r["background"],
    ]


def _scored(entry: dict[str, Any], partner: str) -> dict[str, Any]:
    b = entry["breakdown"]
    return {
        "partner": partner,
        "score": entry["score"],
        "a_to_b": b["a_to_b"],
        "b_to_a": b["b_to_a"],
        "reciprocal": b["reciprocal"],
        "sector_fit": b["sector_fit"],
        "cross_border": b["cross_border"],
        "dimensions": {d: [v["a_to_b"], v["b_to_a"]] for d, v in b["dimensions"].items()},
        "reasons": [_reason(r) for r in entry["reasons"]],
    }


def partners(profiles: str, org: str, *flags: str, top: int = 1000) -> list[dict[str, Any]]:
    found = run("--profiles", profiles, "partners", org, "--top", str(top), "--format", "json", *flags)
    return [_scored(p, p["id"]) for p in found["partners"]]


def pairs(profiles: str, *flags: str, top: int = 1000) -> list[dict[str, Any]]:
    found = run("--profiles", profiles, "pairs", "--top", str(top), "--format", "json", *flags)
    return [{"a": p["a"], **_scored(p, p["b"])} for p in found["pairs"]]


def explanation(profiles: str, a: str, b: str) -> dict[str, Any]:
    return _scored(run("--profiles", profiles, "explain", a, b, "--format", "json"), b)


def organisations(profiles: str) -> list[str]:
    return [o["id"] for o in run("--profiles", profiles, "profiles", "list", "--format", "json")["organisations"]]


def shipped_snapshot(profiles: str, parts: set[str] | None = None) -> dict[str, Any]:
    """The shipped profiles' snapshot; ``parts`` (names of its top-level keys) takes only those."""
    ids = organisations(profiles)

    def wanted(part: str) -> bool:
        return parts is None or part in parts

    out: dict[str, Any] = {}
    for name, flags in VARIANTS.items():
        if wanted(name):
            out[name] = {
                "partners": {org: partners(profiles, org, *flags) for org in ids},
                "pairs": pairs(profiles, *flags),
            }
    if wanted("cross-border"):
        out["cross-border"] = {
            "partners": {org: partners(profiles, org, "--cross-border") for org in ids},
            "pairs": pairs(profiles, "--cross-border"),
        }
    if wanted("country-IN"):
        out["country-IN"] = {"partners": {org: partners(profiles, org, "--country", "IN") for org in ids}}
    if wanted("explain"):
        pairs_ = zip(ids, ids[1:] + ids[:1], strict=True)
        out["explain"] = {f"{a}|{b}": explanation(profiles, a, b) for a, b in pairs_}
    return out


def synthetic_snapshot(profiles: str, sample: int, top: int) -> dict[str, Any]:
    ids = organisations(profiles)
    chosen = ids[:: max(1, len(ids) // sample)][:sample]
    return {
        "partners": {org: partners(profiles, org, top=top) for org in chosen},
        "pairs": pairs(profiles, top=top * 5),
        "cross-border": pairs(profiles, "--cross-border", top=top * 5),
    }


def synthesise(n: int, seed: int, out: Path) -> str:
    result = CliRunner().invoke(app, ["synth", "--n", str(n), "--seed", str(seed), "--out", str(out)])
    if result.exit_code != 0:
        raise RuntimeError(result.output)
    return str(out)


# The synthetic populations: exact vectors (under 5,000 organisations) and latent ones (above).
SYNTHETIC_EXACT = {"n": 400, "seed": 11, "sample": 40, "top": 10}
SYNTHETIC_LATENT_SPEC = {"n": 6000, "seed": 5, "sample": 4, "top": 10}


def snapshots(workdir: Path, *, latent: bool) -> Iterator[tuple[Path, dict[str, Any]]]:
    from tests.conftest import PROFILES

    yield SHIPPED, shipped_snapshot(str(PROFILES))
    spec = SYNTHETIC_EXACT
    path = synthesise(spec["n"], spec["seed"], workdir / "exact.jsonl")
    yield SYNTHETIC, synthetic_snapshot(path, spec["sample"], spec["top"])
    if latent:
        spec = SYNTHETIC_LATENT_SPEC
        path = synthesise(spec["n"], spec["seed"], workdir / "latent.jsonl")
        yield SYNTHETIC_LATENT, synthetic_snapshot(path, spec["sample"], spec["top"])


def write(path: Path, data: dict[str, Any]) -> None:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n"
    # mtime 0: the same data gives the same bytes
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as stream:
        stream.write(text.encode("utf-8"))


def read(path: Path) -> Any:
    with gzip.open(path, "rb") as stream:
        return json.loads(stream.read())


def main() -> None:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="rewrite the golden files")
    args = parser.parse_args()
    if not args.update:
        parser.error("give --update to rewrite the golden files (the tests compare against them)")
    with tempfile.TemporaryDirectory() as tmp:
        for path, data in snapshots(Path(tmp), latent=True):
            write(path, data)
            print(f"wrote {path} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
