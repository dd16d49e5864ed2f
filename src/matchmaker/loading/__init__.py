"""Reading and writing profiles: safe YAML, clear problems, folders, population files, atomic writers.

* :mod:`.safe_yaml`: YAML without anchors, aliases, tags or duplicate keys;
* :mod:`.problems`: validation errors as problems naming file, field, value and what is accepted;
* :mod:`.profiles`: the vocabulary, the source documents, one profile, cross-file checks;
* :mod:`.folders`: a profile folder (or a population file), every problem at once;
* :mod:`.population_files`: one JSON-lines or Parquet file holding a whole population;
* :mod:`.writing`: writing a profile set, atomically.
"""

from __future__ import annotations

from matchmaker.loading.folders import load_folder, load_profiles, validate_folder, validate_profiles
from matchmaker.loading.population_files import POPULATION_SUFFIXES, parquet_schema, validate_file
from matchmaker.loading.profiles import (
    VOCABULARY_FILE,
    ItemCache,
    check_profiles,
    default_profiles_dir,
    parse_profile,
    read_sources,
    read_vocabulary,
)
from matchmaker.loading.safe_yaml import MAX_FILE_BYTES, parse_yaml, read_yaml
from matchmaker.loading.writing import profile_records, vocabulary_text, write_profiles

__all__ = [
    "MAX_FILE_BYTES",
    "POPULATION_SUFFIXES",
    "VOCABULARY_FILE",
    "ItemCache",
    "check_profiles",
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
]
