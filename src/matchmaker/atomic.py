"""Writing files so that a reader (or a crash) never sees half of one: a temporary file, fsync, rename.

Either the old file is still there, or the new one is complete and on disk. Every writer of the
project (reports, profile folders, population files, agendas) goes through here.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from matchmaker.core.errors import MatchmakerError


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def check_target(path: Path) -> Path:
    """The folder ``path`` will be written in; MatchmakerError if it cannot be (checked before slow work)."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise MatchmakerError(f"cannot write {str(path)!r}: folder {str(folder)!r} does not exist")
    if path.is_dir():
        raise MatchmakerError(f"cannot write {str(path)!r}: it is a folder; give a file name")
    return folder


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` to write; on success it is synced and renamed over ``path``.

    If anything fails before the rename (KeyboardInterrupt too), the temporary file is removed and
    ``path`` is untouched.
    """
    folder = check_target(path)
    try:
        descriptor, name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise MatchmakerError(f"cannot write {str(path)!r}: {err.strerror}") from err
    os.close(descriptor)
    temporary = Path(name)
    try:
        yield temporary
        _fsync(temporary)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; what we write is an ordinary file
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_atomic(path: Path, chunks: Iterable[bytes]) -> int:
    """Write ``chunks`` to ``path`` atomically (see ``replacing``); return the bytes written.

    An exception raised while ``chunks`` is being produced leaves ``path`` untouched.
    """
    written = 0
    with replacing(path) as temporary, temporary.open("wb") as handle:
        for chunk in chunks:
            handle.write(chunk)
            written += len(chunk)
    return written


@contextlib.contextmanager
def new_folder(out: Path) -> Iterator[Path]:
    """A staging folder beside ``out`` to fill; on success its files are synced and it becomes ``out``.

    ``out`` must not exist yet, or be an empty folder; it appears complete or not at all (subfolders
    included).
    """
    if not out.parent.is_dir():
        raise MatchmakerError(f"folder {str(out.parent)!r} does not exist; create it first")
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    os.chmod(staging, 0o777 & ~_umask())
    try:
        yield staging
        for child in sorted(staging.rglob("*"), key=lambda c: len(c.parts), reverse=True):
            _fsync(child)  # files and subfolders alike, deepest first: what the rename publishes is on disk
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
