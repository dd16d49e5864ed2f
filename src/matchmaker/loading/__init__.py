"""Reading and writing profiles: safe YAML, clear problems, folders, population files, atomic writers.

* :mod:`.layout`: where profiles are on disk and the digest of their content (no parsing);
* :mod:`.safe_yaml`: YAML without anchors, aliases, tags or duplicate keys;
* :mod:`.problems`: validation errors as problems naming file, field, value and what is accepted;
* :mod:`.profiles`: the vocabulary, the source documents, one profile, cross-file checks;
* :mod:`.folders`: a profile folder (or a population file), every problem at once;
* :mod:`.population_files`: one JSON-lines or Parquet file holding a whole population;
* :mod:`.writing`: writing a profile set, atomically.

Each name is imported from its module on first use, so a command that only needs where the profiles
are (or reads a fitted population from the fit cache) does not import the YAML parser, the evidence
checks and the validators.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matchmaker.loading.folders import load_folder, load_profiles, validate_folder, validate_profiles
    from matchmaker.loading.layout import (
        POPULATION_SUFFIXES,
        VOCABULARY_FILE,
        content_digest,
        default_profiles_dir,
    )
    from matchmaker.loading.population_files import parquet_schema, validate_file
    from matchmaker.loading.profiles import ItemCache, check_profiles, parse_profile, read_sources, read_vocabulary
    from matchmaker.loading.safe_yaml import MAX_FILE_BYTES, parse_yaml, read_yaml
    from matchmaker.loading.writing import profile_records, vocabulary_text, write_profiles

_MODULES = {
    "folders": ("load_folder", "load_profiles", "validate_folder", "validate_profiles"),
    "layout": ("POPULATION_SUFFIXES", "VOCABULARY_FILE", "content_digest", "default_profiles_dir"),
    "population_files": ("parquet_schema", "validate_file"),
    "profiles": ("ItemCache", "check_profiles", "parse_profile", "read_sources", "read_vocabulary"),
    "safe_yaml": ("MAX_FILE_BYTES", "parse_yaml", "read_yaml"),
    "writing": ("profile_records", "vocabulary_text", "write_profiles"),
}
_MODULE_OF = {name: module for module, names in _MODULES.items() for name in names}

__all__ = [
    "MAX_FILE_BYTES",
    "POPULATION_SUFFIXES",
    "VOCABULARY_FILE",
    "ItemCache",
    "check_profiles",
    "content_digest",
    "default_profiles_dir",
    "load_folder",
    "load_profiles",
    "parquet_schema",
    "parse_profile",
    "parse_yaml",
    "profile_records",
    "read_sources",
    "read_vocabulary",
    "read_yaml",
    "validate_file",
    "validate_folder",
    "validate_profiles",
    "vocabulary_text",
    "write_profiles",
]  # the names of _MODULES (tests/test_loading.py checks they agree)


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'matchmaker.loading' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"matchmaker.loading.{module}"), name)
    globals()[name] = value
    return value
