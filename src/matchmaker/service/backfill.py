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
whose receiver died is still completed.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from matchmaker.core.profile import Profile

log = logging.getLogger("matchmaker.service")
FOREIGN_WAIT_S = 30.0  # how long a registration another process received is left to that process
RECHECK_S = 0.5  # how often the shared cache is looked at meanwhile


@dataclass(order=True)
class _Entry:
    ready_at: float
    order: int
    profile: Profile = field(compare=False)
    own: bool = field(compare=False)
    queued_at: float = field(compare=False)


class Backfill:
    """A queue of registrations whose texts are not embedded yet, and the thread that embeds them.

    ``missing(profile)`` says whether some text of ``profile`` is still unembedded (in the shared
    cache too); ``embed(profile)`` embeds them (slow, holds no lock of the service); ``complete(profile)``
    swaps the profile's complete vectors in. Errors are logged and the registration keeps its
    provisional vectors until the next restart refits.
    """

    def __init__(
        self,
        missing: Callable[[Profile], bool],
        embed: Callable[[Profile], None],
        complete: Callable[[Profile], None],
        *,
        foreign_wait_s: float = FOREIGN_WAIT_S,
    ) -> None:
        self._missing, self._embed, self._complete = missing, embed, complete
        self.foreign_wait_s = foreign_wait_s
        self._queue: list[_Entry] = []
        self._order = itertools.count()
        self._busy = 0  # entries taken off the queue and not finished
        self._condition = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, profile: Profile, *, own: bool) -> None:
        """Embed ``profile``'s texts in the background (``own``: this process received the registration)."""
        now = time.monotonic()
        ready_at = now if own else now + RECHECK_S
        with self._condition:
            if self._closed:
                return
            heapq.heappush(self._queue, _Entry(ready_at, next(self._order), profile, own, now))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="matchmaker-embedding", daemon=True)
                self._thread.start()
            self._condition.notify()

    @property
    def backlog(self) -> int:
        """Registrations waiting for their embeddings in this process."""
        with self._condition:
            return len(self._queue) + self._busy

    def wait(self, timeout: float) -> bool:
        """Block until the backlog is empty or ``timeout`` seconds pass; True if it emptied."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while self._queue or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._condition.wait(min(left, RECHECK_S))
        return True

    def close(self) -> None:
        with self._condition:
            self._closed = True
            self._queue.clear()
            self._condition.notify_all()

    def _take(self) -> _Entry | None:
        with self._condition:
            while not self._closed:
                if self._queue:
                    wait = self._queue[0].ready_at - time.monotonic()
                    if wait <= 0:
                        self._busy += 1
                        return heapq.heappop(self._queue)
                    self._condition.wait(wait)
                else:
                    self._condition.wait()
            return None

    def _run(self) -> None:
        while (entry := self._take()) is not None:
            try:
                self._step(entry)
            except Exception:  # a background failure must not stop later registrations; it is logged
                log.exception(
                    "embedding the registration %r failed; it is ranked from its words and tags", entry.profile.id
                )
            finally:
                with self._condition:
                    self._busy -= 1
                    self._condition.notify_all()

    def _step(self, entry: _Entry) -> None:
        if not self._missing(entry.profile):
            self._complete(entry.profile)
            return
        waited = time.monotonic() - entry.queued_at
        if not entry.own and waited < self.foreign_wait_s:
            with self._condition:
                heapq.heappush(
                    self._queue,
                    _Entry(time.monotonic() + RECHECK_S, next(self._order), entry.profile, False, entry.queued_at),
                )
            return
        self._embed(entry.profile)
        self._complete(entry.profile)
