"""Where profiles are on disk, and the digest of their content, without reading a profile (the standard library only).

A profile folder holds ``_vocabulary.yaml`` and one ``*.yaml`` (or ``*.yml``) file per profile; a
population file (``.jsonl`` or ``.parquet``) uses the vocabulary beside it, else the shipped one. The
digest is the one the loaders compute while they read (a profile set's ``version`` is its first 12
characters), so a cache can be keyed by the content before anything is parsed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

VOCABULARY_FILE = "_vocabulary.yaml"
POPULATION_SUFFIXES = (".jsonl", ".parquet")  # one file holding a whole population


def default_profiles_dir() -> Path:
    """The profiles shipped with matchmaker (inside the installed package, or the repository's folder)."""
    packaged = Path(str(resources.files("matchmaker"))) / "_profiles"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "profiles"


def profile_files(folder: Path) -> Iterator[Path]:
    """The profile files of ``folder``, by name (not ``_vocabulary.yaml``, not hidden ones)."""
    for path in sorted(folder.iterdir()):
        if path.suffix in (".yaml", ".yml") and not path.name.startswith(("_", ".")):
            yield path


def population_vocabulary_path(path: Path) -> Path:
    """The vocabulary a population file uses: ``_vocabulary.yaml`` beside it, else the shipped one."""
    beside = path.parent / VOCABULARY_FILE
    return beside if beside.is_file() else default_profiles_dir() / VOCABULARY_FILE


def content_digest(path: Path) -> str | None:
    """The hex SHA-256 of what loading ``path`` reads: the vocabulary, then each profile file's name and bytes
    (a folder) or the file's bytes (a population file); None if ``path`` is neither or cannot be read.

    When loading succeeds, the profile set's ``version`` is the first 12 characters of it.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = (Path(folder) / VOCABULARY_FILE).write_text("dimensions: [data]")
    ...     _ = (Path(folder) / "a.yaml").write_text("id: a")
    ...     first = content_digest(Path(folder))
    ...     _ = (Path(folder) / "a.yaml").write_text("id: b")
    ...     first != content_digest(Path(folder)), len(first or "")
    (True, 64)
    >>> content_digest(Path("/no/such/folder")) is None
    True
    """
    try:
        if path.is_file() and path.suffix in POPULATION_SUFFIXES:
            digest = hashlib.sha256(population_vocabulary_path(path).read_bytes())
            with path.open("rb") as stream:
                for chunk in iter(lambda: stream.read(1 << 20), b""):
                    digest.update(chunk)
            return digest.hexdigest()
        if not path.is_dir():
            return None
        digest = hashlib.sha256((path / VOCABULARY_FILE).read_bytes())
        for file in profile_files(path):
            digest.update(file.name.encode() + b"\0" + file.read_bytes())
        return digest.hexdigest()
    except OSError:
        return None
