"""Existing connections between organisations: checking declared relations and finding related pairs.

A relation is declared once, on either profile; its inverse is implied (``a part-of b`` is
``b parent-of a``). Two organisations are *related* when

* one declares a relation to the other (part of, parent of, funds, funded by, partner), or
* they belong to one organisation: the same root when ``part-of`` is followed upwards, or
* both are bodies of the same national government (the same ``government``).

Related pairs are already connected, so an introduction between them is no recommendation.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

from matchmaker.core.errors import Problem
from matchmaker.core.profile import INVERSE_RELATION, Profile, RelationType

# The direction each relation is stored in: (kind, from, to) reads "from is part of to", "from funds to".
_Edge = tuple[str, str, str]


def _edge(org: str, relation_type: RelationType, other: str) -> _Edge:
    """The relation in its stored direction: parent-of and funded-by are turned round."""
    if relation_type == "partner":
        first, second = sorted((org, other))
        return ("partner", first, second)
    if relation_type in ("part-of", "funds"):
        return (relation_type, org, other)
    return (INVERSE_RELATION[relation_type], other, org)


def _phrase(edge: _Edge) -> str:
    kind, a, b = edge
    return {"part-of": f"{a} is part of {b}", "funds": f"{a} funds {b}", "partner": f"{a} and {b} are partners"}[kind]


def relation_problems(profiles: Iterable[Profile], files: Mapping[str, str] | None = None) -> list[Problem]:
    """Every problem in the relations of a set of profiles; ``files`` maps an id to its file (default: the id).

    A relation must name an existing organisation other than itself, be declared once by an
    organisation, and not contradict another: a relation and its inverse in the opposite direction
    (``a part-of b`` beside ``b part-of a``; ``a funds b`` beside ``b funds a``), a cycle of
    ``part-of``, or a unit whose ``government`` differs from that of the organisation it is part of.

    >>> from matchmaker.core.profile import Evidence, Relation
    >>> ev = Evidence(background="known")
    >>> def org(id, *relations, government=None):
    ...     return Profile(id=id, name=id, country="IN", kind="government", sectors=("ai",),
    ...                    relations=tuple(Relation(type=t, org=o, evidence=ev) for t, o in relations),
    ...                    government=government, government_evidence=ev if government else None)
    >>> for p in relation_problems([org("kosh", ("part-of", "mission"), ("partner", "kosh")),
    ...                             org("mission", ("part-of", "kosh"), ("funds", "yota"))]):
    ...     print(p)
    kosh: relations[1].org: a relation from kosh to itself; name another organisation
    mission: relations[0].type: contradicts kosh's relation: kosh is part of mission, and mission is part of kosh
    mission: relations[1].org: unknown organisation 'yota'; it must be the id of a profile in the set
    """
    profiles = list(profiles)
    by_id = {p.id: p for p in profiles}
    where = files or {}
    problems: list[Problem] = []
    declared: dict[_Edge, tuple[str, int]] = {}  # edge -> (declaring org, position)
    for profile in profiles:
        file = where.get(profile.id, profile.id)
        seen: set[_Edge] = set()
        for position, relation in enumerate(profile.relations):
            field = f"relations[{position}]"
            if relation.org == profile.id:
                problems.append(
                    Problem(
                        file,
                        f"{field}.org",
                        relation.org,
                        f"a relation from {profile.id} to itself; name another organisation",
                    )
                )
                continue
            if relation.org not in by_id:
                close = difflib.get_close_matches(relation.org, list(by_id), n=3)
                hint = f"; did you mean {', '.join(close)}?" if close else "; it must be the id of a profile in the set"
                problems.append(
                    Problem(file, f"{field}.org", relation.org, f"unknown organisation {relation.org!r}{hint}")
                )
                continue
            edge = _edge(profile.id, relation.type, relation.org)
            if edge in seen:
                problems.append(
                    Problem(file, field, relation.org, f"declared twice: {_phrase(edge)}; keep one, with its evidence")
                )
                continue
            seen.add(edge)
            kind, a, b = edge
            opposite = (kind, b, a)
            if kind != "partner" and opposite in declared:
                other, _ = declared[opposite]
                problems.append(
                    Problem(
                        file,
                        f"{field}.type",
                        relation.type,
                        f"contradicts {other}'s relation: {_phrase(opposite)}, and {_phrase(edge)}",
                    )
                )
            declared.setdefault(edge, (profile.id, position))
    problems += _cycle_problems(declared, where)
    for (kind, unit, whole), (org, position) in declared.items():
        inner, outer = by_id[unit].government, by_id[whole].government
        if kind == "part-of" and inner and outer and inner != outer:
            message = f"{unit} is part of {whole}, but their governments differ ({inner} and {outer})"
            problems.append(Problem(where.get(org, org), f"relations[{position}]", whole, message))
    return problems


def _cycle_problems(declared: Mapping[_Edge, tuple[str, int]], files: Mapping[str, str]) -> list[Problem]:
    """A part-of cycle of three or more organisations (two-way ones are reported as contradictions)."""
    parents: dict[str, set[str]] = {}
    for kind, unit, whole in declared:
        if kind == "part-of":
            parents.setdefault(unit, set()).add(whole)
    problems: list[Problem] = []
    reported: set[frozenset[str]] = set()

    def walk(path: list[str]) -> None:
        for parent in sorted(parents.get(path[-1], ())):
            if parent == path[0] and len(path) > 2 and frozenset(path) not in reported:
                reported.add(frozenset(path))
                org, position = declared[("part-of", path[-1], parent)]
                cycle = " -> ".join([*path, parent])
                problems.append(
                    Problem(files.get(org, org), f"relations[{position}]", parent, f"part-of cycle: {cycle}")
                )
            elif parent not in path:
                walk([*path, parent])

    for start in sorted(parents):
        walk([start])
    return problems


def _roots(profiles: Iterable[Profile]) -> dict[str, frozenset[str]]:
    """Each organisation's topmost ancestors along part-of (itself when it is part of nothing)."""
    parents: dict[str, set[str]] = {}
    ids: set[str] = set()
    for profile in profiles:
        ids.add(profile.id)
        for relation in profile.relations:
            kind, unit, whole = _edge(profile.id, relation.type, relation.org)
            if kind == "part-of" and unit != whole:
                parents.setdefault(unit, set()).add(whole)
    roots: dict[str, frozenset[str]] = {}
    for org in ids:
        found: set[str] = set()
        stack, seen = [org], {org}
        while stack:
            current = stack.pop()
            above = parents.get(current, set()) - seen
            if not parents.get(current):
                found.add(current)
            seen |= above
            stack += sorted(above)
        roots[org] = frozenset(found or {org})
    return roots


def related_pairs(profiles: Iterable[Profile]) -> dict[tuple[str, str], tuple[str, ...]]:
    """Every related pair (ids in sorted order) with the reasons it is related.

    Relations to organisations outside ``profiles`` are ignored. The pairs of a government (or of
    one organisation's units) grow with the square of its size; for a large population use the
    groups, not this list.

    >>> from matchmaker.core.profile import Evidence, Relation
    >>> ev = Evidence(background="known")
    >>> def org(id, *relations, government=None):
    ...     return Profile(id=id, name=id, country="IN", kind="government", sectors=("ai",),
    ...                    relations=tuple(Relation(type=t, org=o, evidence=ev) for t, o in relations),
    ...                    government=government, government_evidence=ev if government else None)
    >>> orgs = [org("kosh", ("part-of", "mission")), org("lab", ("part-of", "mission")),
    ...         org("mission", government="IN"), org("ministry", ("funds", "lab"), government="IN")]
    >>> for pair, reasons in sorted(related_pairs(orgs).items()):
    ...     print(pair, reasons)
    ('kosh', 'lab') ('both part of mission',)
    ('kosh', 'mission') ('kosh is part of mission',)
    ('lab', 'ministry') ('ministry funds lab',)
    ('lab', 'mission') ('lab is part of mission',)
    ('ministry', 'mission') ('bodies of the same government (IN)',)
    """
    profiles = list(profiles)
    ids = {p.id for p in profiles}
    reasons: dict[tuple[str, str], list[str]] = {}

    def add(a: str, b: str, reason: str) -> None:
        if a == b or a not in ids or b not in ids:
            return
        found = reasons.setdefault((min(a, b), max(a, b)), [])
        if reason not in found:
            found.append(reason)

    for profile in profiles:
        for relation in profile.relations:
            edge = _edge(profile.id, relation.type, relation.org)
            add(edge[1], edge[2], _phrase(edge))
    units: dict[str, list[str]] = {}
    for org, tops in _roots(profiles).items():
        for top in tops:
            units.setdefault(top, []).append(org)
    for top, members in units.items():
        members.sort()
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                if top not in (a, b):
                    add(a, b, f"both part of {top}")
                else:
                    add(a, b, f"{a if top == b else b} is part of {top}")
    governments: dict[str, list[str]] = {}
    for profile in profiles:
        if profile.government is not None:
            governments.setdefault(profile.government, []).append(profile.id)
    for country, members in governments.items():
        members.sort()
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                add(a, b, f"bodies of the same government ({country})")
    return {pair: tuple(found) for pair, found in reasons.items()}
