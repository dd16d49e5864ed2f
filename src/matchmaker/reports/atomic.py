"""Writing a file atomically: a temporary file in the same folder, then a rename.

A reader (or a crash) never sees a half-written report: either the old file is still there, or
the new one is complete.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
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


def write_atomic(path: Path, chunks: Iterable[bytes]) -> int:
    """Write ``chunks`` to ``path`` through a temporary file and ``os.replace``; return the bytes written.

    If anything fails before the rename (including an exception raised while ``chunks`` is being
    produced, or KeyboardInterrupt), the temporary file is removed and ``path`` is untouched.
    """
    folder = check_target(path)
    try:
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise MatchmakerError(f"cannot write {str(path)!r}: {err.strerror}") from err
    written = 0
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
                written += len(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; a report is an ordinary file
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return written
