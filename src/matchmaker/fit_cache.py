"""Fitted populations kept on disk, so a command run again on the same profiles reads its fit instead of redoing it.

``matchmaker partners highreso`` spends more time loading and checking the profiles and fitting the
encoder (tokenising every item, reading its embeddings) than answering. The fit depends only on what
is hashed into an entry's key, so the second run reads the profile set and the fitted population back
(a pickle: the cache is the user's own folder, as the embedding cache is) and answers exactly as a
fresh fit would.

The key is a SHA-256 of everything the fit depends on:

* the profiles: where they are and the digest of their content (``loading.layout.content_digest``:
  the vocabulary and every profile file's name and bytes, or the population file);
* the registered profiles added from the database, if any (their JSON);
* the scoring settings, the encoder and its model's identity (``embedding.model_identity``);
* the code: the size and modification time of each of matchmaker's modules (an edited checkout is
  another fit), the installed distributions and their versions (matchmaker's among them), Python's version.

Entries live in ``<cache_dir>/populations`` (``cache_dir`` is the embedding cache's folder:
$XDG_CACHE_HOME/matchmaker or ~/.cache/matchmaker unless set), each written atomically; the
``KEEP`` most recently used are kept, up to ``KEEP_BYTES`` in all. An entry that cannot be read
(corrupt, truncated, written by another version, from a library that moved) is a miss: the
population is fitted again and the entry rewritten, silently. A folder that cannot be written costs
nothing but the saving. ``fit_cache = false`` in the config file, ``MATCHMAKER_FIT_CACHE=0`` or
``matchmaker --no-cache`` turns it off.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pickle
import platform
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matchmaker.atomic import write_atomic
from matchmaker.core.errors import MatchmakerError
from matchmaker.core.population import Population
from matchmaker.core.profile import Profile
from matchmaker.core.profile_set import ProfileSet
from matchmaker.embedding import default_cache_folder, lazy_encoder_choice, model_identity
from matchmaker.loading.layout import content_digest
from matchmaker.settings import Settings

log = logging.getLogger("matchmaker")
FORMAT = 1  # the layout of an entry; a new one makes every older entry a miss
MAGIC = b"matchmaker fitted population\n"
KEEP = 8  # entries kept in the folder (the most recently used)
KEEP_BYTES = 2 << 30  # and no more than this in all (the newest is kept whatever its size): 57 MB for 10,000 profiles
SUFFIX = ".fit"


@dataclass(frozen=True)
class Fitted:
    """What an entry holds: the profile set, the population fitted from it, the item vectors it remembers."""

    profile_set: ProfileSet
    population: Population
    items: dict[tuple[str, tuple[str, ...]], Any]

    @classmethod
    def of(cls, profile_set: ProfileSet, population: Population) -> Fitted:
        return cls(profile_set, population, population.vectoriser.remembered_items())

    def restored(self, settings: Settings, identity: str) -> tuple[ProfileSet, Population]:
        """The profile set and the population read back, the population's vectoriser given its item
        vectors again and a model and an embedding cache that load only if a new text must be read."""
        vectoriser = self.population.vectoriser.remember(self.items)
        choice = lazy_encoder_choice(settings, identity)
        if choice.model is not None:
            vectoriser.attach(choice.model, choice.cache)
        return self.profile_set, self.population


def _package_files() -> Iterator[str]:
    """Each module of matchmaker with its size and modification time (so an edited checkout is another fit)."""
    root = Path(__file__).resolve().parent
    for path in sorted(root.rglob("*.py")):
        with contextlib.suppress(OSError):
            status = path.stat()
            yield f"{path.relative_to(root)}:{status.st_size}:{status.st_mtime_ns}"


def _distributions() -> Iterator[str]:
    """The installed distributions (their metadata folders name them and their versions), in every path entry."""
    for entry in sys.path:
        with contextlib.suppress(OSError):
            yield from sorted(n for n in os.listdir(entry or ".") if n.endswith((".dist-info", ".egg-info")))


def code_identity() -> str:
    """A digest of the code a fit runs: matchmaker's modules, the installed distributions (matchmaker's own,
    with its version, among them), Python.

    (Not ``matchmaker.__version__``: reading it costs ``importlib.metadata``, and the distributions
    name it already.)
    """
    digest = hashlib.sha256(f"{FORMAT}\0{sys.version}\0{platform.machine()}".encode())
    for part in (*_package_files(), *_distributions()):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()


def fit_key(settings: Settings, profiles: Path, registered: Iterable[Profile] = ()) -> str | None:
    """The key of the fit of ``profiles`` (plus ``registered``) under ``settings``; None when it cannot be known.

    None when the profiles cannot be read or the encoder's model cannot be named: then nothing is
    cached, and loading or fitting says what is wrong.
    """
    content = content_digest(profiles)
    model = model_identity(settings)
    if content is None or model is None:
        return None
    return _key(settings, profiles, registered, content, model)


def _key(settings: Settings, profiles: Path, registered: Iterable[Profile], content: str, model: str) -> str:
    digest = hashlib.sha256()
    parts = (
        code_identity(),
        str(profiles.resolve()),
        content,
        settings.scoring.model_dump_json(),
        settings.encoder,
        model,
        *sorted(p.model_dump_json() for p in registered),
    )
    for part in parts:
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()


class FitCache:
    """Fitted populations in a folder, one file each, by key; nothing here ever raises to the caller.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     cache = FitCache(Path(folder))
    ...     cache.get("0" * 64) is None
    True
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder / "populations"

    @classmethod
    def of(cls, settings: Settings) -> FitCache | None:
        """The cache the settings name (``cache_dir``), or None when ``fit_cache`` is off."""
        if not settings.fit_cache:
            return None
        return cls(settings.cache_dir if settings.cache_dir is not None else default_cache_folder())

    def path(self, key: str) -> Path:
        return self.folder / f"{key}{SUFFIX}"

    def get(self, key: str) -> Fitted | None:
        """The entry of ``key``, or None: absent, or unreadable (then it is removed and will be written again)."""
        path = self.path(key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        header = MAGIC + key.encode() + b"\n"
        try:
            if not data.startswith(header):
                raise ValueError("not an entry of this key")
            found = pickle.loads(data[len(header) :])  # noqa: S301 - the user's own cache folder (see the module)
            if not isinstance(found, Fitted):
                raise TypeError(f"holds {type(found).__name__}")
        except Exception as err:  # whatever is wrong with an entry (corrupt, stale, moved classes), it is refitted
            log.debug("fit cache entry %s is unreadable (%s: %s); fitting again", path, type(err).__name__, err)
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: kept when older entries are removed
        return found

    def put(self, key: str, fitted: Fitted) -> None:
        """Write the entry of ``key`` atomically and keep the most recent (``KEEP``, ``KEEP_BYTES``); a failure is
        logged, not raised."""
        try:
            payload = pickle.dumps(fitted, protocol=pickle.HIGHEST_PROTOCOL)
            self.folder.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path(key), [MAGIC, key.encode(), b"\n", payload])
            self._prune()
        except (OSError, MatchmakerError, pickle.PicklingError, TypeError, AttributeError) as err:
            log.debug("fit cache %s cannot be written (%s); the population is not cached", self.folder, err)

    def _prune(self) -> None:
        entries = []
        for path in self.folder.glob(f"*{SUFFIX}"):
            with contextlib.suppress(OSError):
                status = path.stat()
                entries.append((status.st_mtime_ns, status.st_size, path))
        total = 0
        for position, (_, size, path) in enumerate(sorted(entries, reverse=True)):
            total += size
            if position >= KEEP or (position > 0 and total > KEEP_BYTES):
                with contextlib.suppress(OSError):
                    path.unlink()


def cached_fit(
    settings: Settings,
    profiles: Path,
    fit: Callable[[], tuple[ProfileSet, Population]],
    registered: Iterable[Profile] = (),
) -> tuple[ProfileSet, Population]:
    """The profile set of ``profiles`` and its population fitted under ``settings``: from the fit cache, else
    ``fit()`` (which loads and fits them), then cached.

    A fit is cached only if the profiles did not change while it ran (their digest before is the
    profile set's version after), so an entry always holds the fit of what its key says.
    """
    cache = FitCache.of(settings)
    content = content_digest(profiles) if cache is not None else None
    model = model_identity(settings) if content is not None else None
    if cache is None or content is None or model is None:
        return fit()
    registered = list(registered)
    key = _key(settings, profiles, registered, content, model)
    found = cache.get(key)
    if found is not None:
        return found.restored(settings, model)
    profile_set, population = fit()
    if profile_set.version == content[: len(profile_set.version)]:
        cache.put(key, Fitted.of(profile_set, population))
    return profile_set, population
