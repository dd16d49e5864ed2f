"""Scheduling an event in a workspace: the candidates from the recommender, the workspace's rules, the schedule.

One use case for the CLI and the API, so both schedule the same event the same way:

1. **Candidates**: each participant's ``top`` best partners *among the participants*, scored by the
   workspace's population with its settings, with the top reasons (worded by the caller's ``describe``,
   the views' ``reason_text``). All pairs of participants are scored in blocks of participants against
   participants (the scorer's ``block``), so the work grows with the participants, never with the
   population.
2. **The workspace's rules** become blocked pairs of the event, each with its reason: a pair one side
   declined in feedback is blocked as ``declined``; a pair already connected (one part of the other, one
   funding the other, partners, bodies of one government, an agreement recorded) as ``related``, with the
   connection as the note. Where the event itself says otherwise the event wins: an accepted request or
   a confirmed meeting of the pair lifts both rules (both sides asked for the meeting here), and any
   request lifts the ``related`` rule (the workspace leaves related pairs out *unless asked for*).
   Enablers (government bodies, funders, programmes) are participants like any other at an event: the
   organiser invited them to meet, so they are candidates for everyone.
3. **Requested pairs** that are not among the candidates are scored and explained by the same scorer,
   so a request's meeting on an agenda has its score and reasons too.
4. :func:`~matchmaker.core.events.scheduler.schedule`.

Participants without a profile in the workspace (attendees registered for the event only) have no
recommended partners: they meet through requests alone, and :attr:`EventCandidates.without_profile`
lists them so the adapters can say so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from matchmaker.application.queries import ScoringOverrides
from matchmaker.application.workspace import Workspace
from matchmaker.core.errors import SettingsError
from matchmaker.core.events.model import Block, Event, Pair, changed, pair
from matchmaker.core.events.scheduler import DEFAULT_TIME_LIMIT, SCHEDULERS, Candidate, Schedule, schedule
from matchmaker.core.scoring.reasons import Reason
from matchmaker.core.vectors import FloatArray, IntArray

DEFAULT_CANDIDATES = 10  # best partners per participant, among the participants
MAX_CANDIDATES = 100
REASONS_KEPT = 3  # reasons per meeting: what an agenda shows
_ROWS_PER_BLOCK = 512  # participants scored against all participants at once
_NOTE_LENGTH = 300  # a block's note (Block.note's limit)

Describe = Callable[[Reason], str]
StageProgress = Callable[[str], None]


@dataclass(frozen=True)
class EventCandidates:
    """The event with the workspace's blocks added, its candidate pairs, and who had no profile."""

    event: Event
    candidates: tuple[Candidate, ...]
    added_blocks: tuple[Block, ...] = ()
    without_profile: tuple[str, ...] = ()
    names: Mapping[str, str] = field(default_factory=dict)  # id -> the profile's name
    countries: Mapping[str, str] = field(default_factory=dict)  # id -> the profile's country


@dataclass(frozen=True)
class EventPlan:
    """A scheduled event: what was scheduled (with the workspace's blocks), from which candidates, and the result."""

    prepared: EventCandidates
    schedule: Schedule

    @property
    def event(self) -> Event:
        return self.prepared.event


def check_candidates(top: int) -> int:
    """``top`` if it is a whole number from 1 to ``MAX_CANDIDATES`` (best partners per participant)."""
    if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= MAX_CANDIDATES:
        raise SettingsError(f"candidates must be a whole number from 1 to {MAX_CANDIDATES}, got {top!r}")
    return top


def check_method(method: str) -> str:
    """``method`` if it is a scheduling method."""
    if method not in SCHEDULERS:
        raise SettingsError(f"unknown scheduling method {method!r}; accepted: {', '.join(SCHEDULERS)}")
    return method


def check_time_limit(seconds: float) -> float:
    """``seconds`` if it is a time limit from 1 second to an hour."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 1 <= seconds <= 3600:
        raise SettingsError(f"time limit must be a number of seconds from 1 to 3600, got {seconds!r}")
    return float(seconds)


def _workspace_blocks(workspace: Workspace, event: Event) -> list[Block]:
    """The pairs of participants the workspace's rules keep apart, unless the event itself asks for them."""
    ids = {p.id for p in event.participants}
    statuses = event.requested_pairs
    confirmed = {pair(m.a, m.b) for m in event.confirmed}
    already = set(event.blocked_pairs)
    found: dict[Pair, Block] = {}
    for declined in workspace.exclusions.pairs:
        if len(declined) != 2 or not declined <= ids:
            continue
        key = pair(*sorted(declined))
        if key in already or key in confirmed or statuses.get(key) == "accepted":
            continue
        found[key] = Block(a=key[0], b=key[1], reason="declined", note="declined in recorded feedback")
    for connected, why in workspace.related.items():
        if len(connected) != 2 or not connected <= ids:
            continue
        key = pair(*sorted(connected))
        if key in already or key in found or key in confirmed or key in statuses:
            continue
        note = "; ".join(why) or "already connected"
        if len(note) > _NOTE_LENGTH:
            note = note[: _NOTE_LENGTH - 3].rstrip() + "..."
        found[key] = Block(a=key[0], b=key[1], reason="related", note=note)
    return [found[key] for key in sorted(found)]


def _best_among(scores: FloatArray, top: int) -> tuple[IntArray, IntArray]:
    """Row and column positions of each row's ``top`` best positive scores (ties by column)."""
    rows_out: list[IntArray] = []
    cols_out: list[IntArray] = []
    for r in range(scores.shape[0]):
        row = scores[r]
        positive = np.flatnonzero(row > 0)
        if positive.size > top:
            # Sort by score descending, then column ascending: deterministic whatever the block size.
            order = np.lexsort((positive, -row[positive]))[:top]
            positive = positive[order]
        else:
            positive = positive[np.lexsort((positive, -row[positive]))]
        rows_out.append(np.full(positive.size, r, dtype=np.int64))
        cols_out.append(positive.astype(np.int64))
    if not rows_out:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(rows_out), np.concatenate(cols_out)


def event_candidates(
    workspace: Workspace,
    event: Event,
    *,
    describe: Describe,
    top: int = DEFAULT_CANDIDATES,
    reasons: int = REASONS_KEPT,
) -> EventCandidates:
    """The event with the workspace's blocks added and every participant's best partners among the participants.

    Parameters
    ----------
    workspace : Workspace
        The population that scores the pairs (with its settings) and the rules that block pairs.
    event : Event
        The event; its participants are organisation ids (those without a profile get no candidates).
    describe : callable
        Words a reason for an agenda (``matchmaker.views.reason_text``).
    top : int
        Best partners per participant (1 to ``MAX_CANDIDATES``).
    reasons : int
        Reasons kept per pair.

    Examples
    --------
    >>> from matchmaker.application.workspace import Exclusions
    >>> from matchmaker.core.events.model import event_from_data
    >>> from matchmaker.core.population import Population
    >>> from matchmaker.core.profile import Evidence, Item, Profile
    >>> claim = lambda text: (Item(description=text, strength=3, evidence=Evidence(background="x")),)
    >>> def org(id, offer, need):
    ...     return Profile(id=id, name=id.title(), country="JP", kind="corporate", sectors=("ai",),
    ...                    offers={"data": claim(offer)}, needs={"data": claim(need)})
    >>> population = Population.fit([org("cloud", "sensor logs", "speech corpus"),
    ...                              org("voice", "speech corpus", "sensor logs"),
    ...                              org("echo", "speech corpus", "sensor logs"),
    ...                              org("absent", "speech corpus", "sensor logs")])
    >>> workspace = Workspace(population, Exclusions.of([("cloud", "voice")]))
    >>> event = event_from_data({"name": "Day", "tables": 1, "participants": [
    ...     {"id": "cloud"}, {"id": "voice"}, {"id": "echo"}, {"id": "guest"}],
    ...     "sessions": [{"id": "am", "start": "2025-03-01T10:00:00+09:00", "minutes": 20, "count": 2}]})
    >>> found = event_candidates(workspace, event, describe=lambda r: r.dimension)
    >>> sorted((c.a, c.b) for c in found.candidates), [(b.a, b.b, b.reason) for b in found.added_blocks]
    ([('cloud', 'echo')], [('cloud', 'voice', 'declined')])
    >>> found.without_profile
    ('guest',)
    """
    check_candidates(top)
    population = workspace.population
    added = _workspace_blocks(workspace, event)
    if added:
        event = changed(event, blocked=[*event.blocked, *added])
    known = [p.id for p in event.participants if p.id in population.index]
    missing = tuple(p.id for p in event.participants if p.id not in population.index)
    rows = np.array([population.index[org] for org in known], dtype=np.int64)
    settings = workspace.settings_for(ScoringOverrides())
    scorer = population.scorer(settings)
    blocked = event.blocked_pairs
    position = {org: k for k, org in enumerate(known)}
    chosen: dict[Pair, tuple[int, int]] = {}  # pair -> (row a, row b), a the participant whose list it is in
    for start in range(0, len(known), _ROWS_PER_BLOCK):
        stop = min(start + _ROWS_PER_BLOCK, len(known))
        scores = np.array(scorer.block(rows[start:stop], rows), dtype=np.float64)
        scores[np.arange(stop - start), np.arange(start, stop)] = 0.0  # nobody meets themselves
        for key in blocked:
            first, second = position.get(key[0]), position.get(key[1])
            if first is not None and second is not None:
                if start <= first < stop:
                    scores[first - start, second] = 0.0
                if start <= second < stop:
                    scores[second - start, first] = 0.0
        local, cols = _best_among(scores, top)
        for r, c in zip((local + start).tolist(), cols.tolist(), strict=True):
            chosen.setdefault(pair(known[r], known[c]), (int(rows[r]), int(rows[c])))
    # Requested pairs the recommender did not propose: scored and explained the same way.
    for request in event.requests:
        key = pair(request.by, request.to)
        if key in chosen or key in blocked or request.by not in position or request.to not in position:
            continue
        chosen[key] = (int(population.index[request.by]), int(population.index[request.to]))
    ordered = sorted(chosen)
    a = np.array([chosen[k][0] for k in ordered], dtype=np.int64)
    b = np.array([chosen[k][1] for k in ordered], dtype=np.int64)
    matches = population.matches(scorer, a, b, reasons) if ordered else []
    candidates = tuple(
        Candidate(m.a.id, m.b.id, m.score, tuple(describe(r) for r in m.reasons[:reasons]))
        for m in matches
        if m.score > 0 or pair(m.a.id, m.b.id) in event.requested_pairs
    )
    profiles = [population.profiles[population.index[org]] for org in known]
    return EventCandidates(
        event=event,
        candidates=candidates,
        added_blocks=tuple(added),
        without_profile=missing,
        names={p.id: p.name for p in profiles},
        countries={p.id: p.country for p in profiles},
    )


def plan_event(
    workspace: Workspace,
    event: Event,
    *,
    describe: Describe,
    top: int = DEFAULT_CANDIDATES,
    method: str = "optimal",
    time_limit: float = DEFAULT_TIME_LIMIT,
    progress: StageProgress | None = None,
) -> EventPlan:
    """Schedule ``event`` in ``workspace``: the candidates and blocks of :func:`event_candidates`, then the solver.

    ``progress`` is told each stage as it starts (``"finding candidates"``, then the scheduler's stages).
    """
    check_method(method)
    check_time_limit(time_limit)
    if progress is not None:
        progress("finding candidates")
    prepared = event_candidates(workspace, event, describe=describe, top=top)
    result = schedule(prepared.event, prepared.candidates, method=method, time_limit=time_limit, progress=progress)
    return EventPlan(prepared, result)
