"""The event model in one import: the event, its parts, and building it from plain data.

* :mod:`.parts`: slots and sessions, participation types, participants, requests, blocks, meetings kept
  or cancelled, and the one spelling of a pair;
* :mod:`.event`: the :class:`Event` and every rule that needs the whole of it (cross-references,
  limits, which pairs are blocked, what a request's status is);
* :mod:`.changes`: :func:`event_from_data` (every problem at once, naming the field) and
  :func:`changed`.
"""

from __future__ import annotations

from matchmaker.core.events.changes import changed, event_from_data
from matchmaker.core.events.event import Event
from matchmaker.core.events.parts import (
    BLOCK_REASONS,
    DEFAULT_TYPE,
    MAX_PARTICIPANTS,
    MAX_SLOT_MINUTES,
    MAX_SLOTS,
    MAX_TABLES,
    MIN_SLOT_MINUTES,
    REQUEST_STATUSES,
    Block,
    BlockReason,
    Cancelled,
    Confirmed,
    Limits,
    Pair,
    Participant,
    ParticipationType,
    Request,
    RequestStatus,
    Session,
    Slot,
    pair,
)

__all__ = [
    "BLOCK_REASONS",
    "DEFAULT_TYPE",
    "MAX_PARTICIPANTS",
    "MAX_SLOTS",
    "MAX_SLOT_MINUTES",
    "MAX_TABLES",
    "MIN_SLOT_MINUTES",
    "REQUEST_STATUSES",
    "Block",
    "BlockReason",
    "Cancelled",
    "Confirmed",
    "Event",
    "Limits",
    "Pair",
    "Participant",
    "ParticipationType",
    "Request",
    "RequestStatus",
    "Session",
    "Slot",
    "changed",
    "event_from_data",
    "pair",
]
