"""Registrations embedded off the request path, one background thread per server process.

A registration is answered as soon as it is committed: the attendee's texts are vectorised inside
:func:`~matchmaker.core.encoding.embedding_deferred`, so it is ranked at once from its words and tags
(a text in the embedding cache is read whole). Embedding its new texts costs about 30 ms of CPU per
item with multilingual-e5, so a burst of registrations at the opening of an event would otherwise
queue every request behind the model. This thread takes them in commit order, has their texts embedded
(by the service: in a child process at the lowest CPU priority, so requests come first), then hands
each profile back to the service, which swaps in its complete vectors (a new population version: the
next answer uses them).

Several processes share one database and one embedding cache folder. A process embeds the
registrations it received itself at once; one it learnt of from the change log it first gives the
receiving process ``foreign_wait_s`` to embed it (the texts then arrive through the shared cache),
and embeds it itself only after that, so two workers do not embed the same texts, and a registration
whose receiver died is still completed. Registrations come in commit order and the receiver embeds
them in that order, so only the oldest registration another process received is looked for in the
shared cache (every ``RECHECK_S``); the ones behind it wait their turn without costing anything.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from matchmaker.core.profile import Profile

log = logging.getLogger("matchmaker.service")
FOREIGN_WAIT_S = 30.0  # how long a registration another process received is left to that process
RECHECK_S = 0.5  # how often the shared cache is looked at meanwhile
# While requests are being answered, background work takes at most this share of the thread's time
# (each registration embedded and swapped in is followed by a pause); on an idle server it runs flat out.
BUSY_SHARE = 0.1
Embedded = TypeVar("Embedded")


@dataclass
class _Entry:
    profile: Profile
    queued_at: float
    ready_at: float


class Backfill(Generic[Embedded]):
    """Queues of registrations whose texts are not embedded yet, and the thread that embeds them.

    ``busy()`` says whether requests are being answered (then the thread paces itself, ``BUSY_SHARE``).
    ``missing(profile)`` says whether some text of ``profile`` is still unembedded (in the shared
    cache too); ``embed(profile)`` embeds them (slow, holds no lock of the service) and returns what it
    computed; ``complete(profile, embedded)`` caches that (None: nothing was computed here) and swaps
    the profile's complete vectors in. Errors are logged and the registration keeps its provisional
    vectors until the next restart refits.
    """

    def __init__(
        self,
        missing: Callable[[Profile], bool],
        embed: Callable[[Profile], Embedded],
        complete: Callable[[Profile, Embedded | None], None],
        *,
        busy: Callable[[], bool] = lambda: False,
        foreign_wait_s: float = FOREIGN_WAIT_S,
    ) -> None:
        self._missing, self._embed, self._complete, self._serving = missing, embed, complete, busy
        self.foreign_wait_s = foreign_wait_s
        self._own: deque[_Entry] = deque()  # received by this process: embedded at once
        self._foreign: deque[_Entry] = deque()  # received by another: left to it first
        self._in_progress = 0  # entries taken off a queue and not finished
        self._condition = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, profile: Profile, *, own: bool) -> None:
        """Embed ``profile``'s texts in the background (``own``: this process received the registration)."""
        now = time.monotonic()
        with self._condition:
            if self._closed:
                return
            if own:
                self._own.append(_Entry(profile, now, now))
            else:
                self._foreign.append(_Entry(profile, now, now + RECHECK_S))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="matchmaker-embedding", daemon=True)
                self._thread.start()
            self._condition.notify()

    @property
    def backlog(self) -> int:
        """Registrations waiting for their embeddings in this process."""
        with self._condition:
            return len(self._own) + len(self._foreign) + self._in_progress

    def wait(self, timeout: float) -> bool:
        """Block until the backlog is empty or ``timeout`` seconds pass; True if it emptied."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while self._own or self._foreign or self._in_progress:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._condition.wait(min(left, RECHECK_S))
        return True

    def close(self) -> None:
        with self._condition:
            self._closed = True
            self._own.clear()
            self._foreign.clear()
            self._condition.notify_all()

    def _take(self) -> tuple[_Entry, bool] | None:
        with self._condition:
            while not self._closed:
                if self._own:
                    self._in_progress += 1
                    return self._own.popleft(), True
                if self._foreign:
                    wait = self._foreign[0].ready_at - time.monotonic()
                    if wait <= 0:
                        self._in_progress += 1
                        return self._foreign.popleft(), False
                    self._condition.wait(wait)
                else:
                    self._condition.wait()
            return None

    def _run(self) -> None:
        while (taken := self._take()) is not None:
            entry, own = taken
            started = time.monotonic()
            try:
                self._step(entry, own)
            except Exception:  # a background failure must not stop later registrations; it is logged
                log.exception(
                    "embedding the registration %r failed; it is ranked from its words and tags", entry.profile.id
                )
            finally:
                with self._condition:
                    self._in_progress -= 1
                    self._condition.notify_all()
            if self._serving():
                # The whole pause, though every registration queued meanwhile notifies the condition.
                resume = time.monotonic() + (time.monotonic() - started) * (1 / BUSY_SHARE - 1)
                with self._condition:
                    while not self._closed and (left := resume - time.monotonic()) > 0:
                        self._condition.wait(left)

    def _step(self, entry: _Entry, own: bool) -> None:
        # Its own registration had texts to embed when it was queued: embedding finds what is still missing.
        if not own and not self._missing(entry.profile):
            self._complete(entry.profile, None)
            return
        if not own and time.monotonic() - entry.queued_at < self.foreign_wait_s:
            entry.ready_at = time.monotonic() + RECHECK_S
            with self._condition:
                self._foreign.appendleft(entry)  # still the oldest: looked at again, the others wait behind it
            return
        self._complete(entry.profile, self._embed(entry.profile))
