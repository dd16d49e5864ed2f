"""Quality benchmark: the CLI's partner lists and cross-border pairs, read against the judged set.

    python benchmarks/quality.py                                   # the shipped profiles, default settings
    python benchmarks/quality.py --json -- --combiner arithmetic   # everything after -- goes to the CLI
    python benchmarks/quality.py --profiles OLD/profiles --relations profiles

The judged set (tests/data/quality/judged.yaml) grades pairs of organisations from the seed documents:
2 strong, 1 plausible, unlisted 0. The benchmark runs, in-process through typer's CliRunner on
``matchmaker.cli:app``, ``matchmaker partners ORG --top 3 --format json`` for every organisation and
``matchmaker pairs --cross-border --top 100 --format json``, with the same extra CLI flags for all, and
reports:

* nDCG@3 and precision@3 of the partner lists, over the judged organisations (those with at least one
  judged partner that is a counterpart). A list's gains are ``2**grade - 1`` for its judged counterpart
  partners and 0 for anything else, enablers included: they belong in an enabler list, not among the
  partners. The ideal list is the organisation's judged counterparts, best first. precision@3 is judged
  counterparts in the top 3 over 3; ``precision@3 ceiling`` is the best the judged set allows (an
  organisation with one judged partner can reach 1/3), and ``precision@3 of reachable`` divides by
  ``min(3, judged partners)`` instead.
* the best rank of each named opportunity's pairs among the cross-border pairs (None beyond 100);
* the share of top-3 places held by enablers, and by same-country partners;
* related pairs (by the relations and ``government`` of the --relations profiles) in the top-3 lists
  and among the cross-border top 10.

Roles (enabler or counterpart) and relations come from the --relations folder (default: --profiles), so
profiles from before relations existed are measured with today's relations and roles. Nothing here is
tuned to the judged set; it only reads the CLI's stable JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from matchmaker.cli import app
from matchmaker.core.relations import related_pairs
from matchmaker.loading import load_folder

ROOT = Path(__file__).resolve().parents[1]
TOP = 3
PAIRS_TOP = 100
CROSS_BORDER_TOP = 10

Pair = tuple[str, str]


def _pair(a: str, b: str) -> Pair:
    return (a, b) if a <= b else (b, a)


@dataclass(frozen=True)
class Judged:
    grades: dict[Pair, int]
    opportunities: list[dict[str, Any]]

    @classmethod
    def read(cls, path: Path) -> Judged:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        grades = {_pair(*entry["pair"]): int(entry["grade"]) for entry in data["pairs"]}
        return cls(grades, list(data.get("opportunities", ())))

    def partners(self, org: str) -> dict[str, int]:
        return {(b if a == org else a): g for (a, b), g in self.grades.items() if org in (a, b)}


def _cli(args: list[str]) -> Any:
    result = CliRunner().invoke(app, args)
    if result.exit_code != 0:
        raise SystemExit(f"matchmaker {' '.join(args)} failed ({result.exit_code}): {result.output.strip()}")
    return json.loads(result.stdout)


def _dcg(gains: list[float]) -> float:
    return sum(g / math.log2(rank + 2) for rank, g in enumerate(gains))


def measure(profiles: Path, relations: Path, judged_path: Path, extra: list[str]) -> dict[str, Any]:
    """Every number the benchmark reports, as one JSON-ready dict."""
    reference = load_folder(relations)
    vocabulary = reference.vocabulary
    by_id = {p.id: p for p in reference.profiles}
    role = {p.id: vocabulary.role(p.kind) for p in reference.profiles}
    related = related_pairs(reference.profiles)
    judged = Judged.read(judged_path)
    base = ["--profiles", str(profiles)]

    lists: dict[str, list[str]] = {}
    for org in sorted(by_id):
        payload = _cli([*base, "partners", org, "--top", str(TOP), "--format", "json", *extra])
        lists[org] = [entry["id"] for entry in payload["partners"]]
    pairs_payload = _cli([*base, "pairs", "--cross-border", "--top", str(PAIRS_TOP), "--format", "json", *extra])
    cross = [_pair(entry["a"], entry["b"]) for entry in pairs_payload["pairs"]]

    organisations: dict[str, Any] = {}
    for org, ranked in lists.items():
        wanted = {p: g for p, g in judged.partners(org).items() if role.get(p) == "counterpart" and g > 0}
        if not wanted:
            continue
        gains = [2.0 ** wanted[p] - 1 if p in wanted else 0.0 for p in ranked]
        ideal = _dcg(sorted((2.0**g - 1 for g in wanted.values()), reverse=True)[:TOP])
        hits = sum(1 for p in ranked if p in wanted)
        organisations[org] = {
            "top": ranked,
            "judged": dict(sorted(wanted.items(), key=lambda kv: (-kv[1], kv[0]))),
            "hits": hits,
            "ndcg": round(_dcg(gains) / ideal, 4),
            "precision": round(hits / TOP, 4),
            "reachable_precision": round(hits / min(TOP, len(wanted)), 4),
        }

    places = [(org, p) for org, ranked in lists.items() for p in ranked]
    related_places = sorted({_pair(org, p) for org, p in places if _pair(org, p) in related})
    cross_top = cross[:CROSS_BORDER_TOP]

    opportunities = []
    for opportunity in judged.opportunities:
        embodied = [_pair(*p) for p in opportunity["pairs"]]
        ranks = {f"{a}+{b}": (cross.index((a, b)) + 1 if (a, b) in cross else None) for a, b in embodied}
        found = [r for r in ranks.values() if r is not None]
        opportunities.append(
            {
                "id": opportunity["id"],
                "title": opportunity["title"],
                "best_rank": min(found, default=None),
                "ranks": ranks,
            }
        )

    n = len(organisations)
    n_places = len(places)
    return {
        "settings": {
            "profiles": str(profiles),
            "relations": str(relations),
            "judged": str(judged_path),
            "extra_cli_flags": extra,
            "commands": [
                f"matchmaker --profiles {profiles} partners ORG --top {TOP} --format json {' '.join(extra)}".strip(),
                f"matchmaker --profiles {profiles} pairs --cross-border --top {PAIRS_TOP} --format json "
                f"{' '.join(extra)}".strip(),
            ],
        },
        "summary": {
            "judged_organisations": n,
            "ndcg_at_3": round(sum(o["ndcg"] for o in organisations.values()) / n, 4),
            "precision_at_3": round(sum(o["precision"] for o in organisations.values()) / n, 4),
            "precision_at_3_ceiling": round(
                sum(min(TOP, len(o["judged"])) / TOP for o in organisations.values()) / n, 4
            ),
            "precision_at_3_of_reachable": round(sum(o["reachable_precision"] for o in organisations.values()) / n, 4),
            "top3_places": n_places,
            "enabler_share_of_top3": round(sum(1 for _, p in places if role.get(p) == "enabler") / n_places, 4),
            "same_country_share_of_top3": round(
                sum(1 for org, p in places if by_id[org].country == by_id[p].country) / n_places, 4
            ),
            "related_places_in_top3": sum(1 for org, p in places if _pair(org, p) in related),
            "related_pairs_in_top3": len(related_places),
            "related_pairs_in_cross_border_top10": sum(1 for p in cross_top if p in related),
            "enabler_pairs_in_cross_border_top10": sum(
                1 for a, b in cross_top if "enabler" in (role.get(a), role.get(b))
            ),
            "opportunities_in_cross_border_top10": sum(
                1 for o in opportunities if o["best_rank"] is not None and o["best_rank"] <= CROSS_BORDER_TOP
            ),
        },
        "organisations": organisations,
        "opportunities": opportunities,
        "related_in_top3": {f"{a}+{b}": list(related[(a, b)]) for a, b in related_places},
        "cross_border_top10": [
            {"pair": f"{a}+{b}", "related": (a, b) in related, "grade": judged.grades.get((a, b), 0)}
            for a, b in cross_top
        ],
    }


def _print(report: dict[str, Any]) -> None:
    s = report["summary"]
    extra = " ".join(report["settings"]["extra_cli_flags"]) or "(default settings)"
    print(f"quality benchmark: {report['settings']['profiles']}, CLI flags {extra}")
    print(
        f"  nDCG@3 {s['ndcg_at_3']:.3f}   precision@3 {s['precision_at_3']:.3f} "
        f"(ceiling {s['precision_at_3_ceiling']:.3f}; of reachable {s['precision_at_3_of_reachable']:.3f}) "
        f"over {s['judged_organisations']} judged organisations"
    )
    print(
        f"  top-3 places: {s['top3_places']}, enablers {s['enabler_share_of_top3']:.1%}, "
        f"same-country {s['same_country_share_of_top3']:.1%}, related {s['related_places_in_top3']} "
        f"({s['related_pairs_in_top3']} pairs)"
    )
    print(
        f"  cross-border top 10: {s['related_pairs_in_cross_border_top10']} related, "
        f"{s['enabler_pairs_in_cross_border_top10']} with an enabler, "
        f"{s['opportunities_in_cross_border_top10']} of {len(report['opportunities'])} named opportunities"
    )
    print("  named opportunities (best rank among cross-border pairs, top 100):")
    for o in report["opportunities"]:
        ranks = ", ".join(f"{p} {r if r is not None else '-'}" for p, r in o["ranks"].items())
        print(f"    {o['id']}. {o['best_rank'] if o['best_rank'] is not None else '>100':>4}  {o['title']}  [{ranks}]")
    print("  per organisation (nDCG@3, hits/3: top 3 | judged partners):")
    for org, o in report["organisations"].items():
        judged = ", ".join(f"{p}:{g}" for p, g in o["judged"].items())
        print(f"    {org:20} {o['ndcg']:.3f} {o['hits']}/3  {', '.join(o['top']) or '-'} | {judged}")
    if report["related_in_top3"]:
        print(
            "  related pairs in top-3 lists: "
            + "; ".join(f"{p} ({', '.join(r)})" for p, r in report["related_in_top3"].items())
        )


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    extra: list[str] = []
    if "--" in args:
        cut = args.index("--")
        args, extra = args[:cut], args[cut + 1 :]
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        epilog="Flags after -- go to both CLI commands, e.g. -- --combiner arithmetic.",
    )
    parser.add_argument("--profiles", type=Path, default=ROOT / "profiles", help="profile folder the CLI ranks")
    parser.add_argument(
        "--relations",
        type=Path,
        default=None,
        help="profile folder whose relations and roles are used (default: --profiles)",
    )
    parser.add_argument("--judged", type=Path, default=ROOT / "tests" / "data" / "quality" / "judged.yaml")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    options = parser.parse_args(args)
    report = measure(options.profiles, options.relations or options.profiles, options.judged, extra)
    if options.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        _print(report)


if __name__ == "__main__":
    main()
