"""Every organisation's best partners as a partitioned Parquet dataset: one folder, several files.

The schema (one row per organisation and rank; ``PARTNER_SCHEMA``):

=============== ========= ==============================================================
column          type      meaning
=============== ========= ==============================================================
organisation    string    the organisation's id
rank            int16     1 for its best partner, 2 for the next, ...
partner         string    the partner's id
score           float64   their score (the ranking's, as ``matchmaker partners`` shows it)
=============== ========= ==============================================================

Files are ``part-00000.parquet``, ``part-00001.parquet``, ...: each holds whole organisations, in the
population's order, and rows by rank; an organisation without a partner scoring above 0 has no row.
Each file's metadata carries ``matchmaker.top`` and ``matchmaker.settings`` (the scoring settings, as
JSON). Read it whole with ``pandas.read_parquet(DIR)`` or DuckDB's ``SELECT * FROM 'DIR/*.parquet'``.
The folder is written beside its target and renamed into place: it appears complete or not at all.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from pathlib import Path

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from matchmaker.application.workspace import PartnerTable
from matchmaker.atomic import new_folder
from matchmaker.core.errors import MatchmakerError

PARTNER_SCHEMA = pa.schema(
    [
        pa.field("organisation", pa.string(), nullable=False),
        pa.field("rank", pa.int16(), nullable=False),
        pa.field("partner", pa.string(), nullable=False),
        pa.field("score", pa.float64(), nullable=False),
    ]
)
ROWS_PER_FILE = 1_000_000  # about 10 MB a file


def check_out_folder(out: Path) -> None:
    """MatchmakerError unless ``out`` can be written: an absent or empty folder in an existing one."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise MatchmakerError(f"{str(out)!r} exists and is not an empty folder; give a new folder for the partners")
    if not out.parent.is_dir():
        raise MatchmakerError(f"folder {str(out.parent)!r} does not exist; create it first")


def write_partner_table(table: PartnerTable, out: Path, *, rows_per_file: int = ROWS_PER_FILE) -> list[Path]:
    """Write ``table`` into the folder ``out`` as Parquet files of about ``rows_per_file`` rows; their paths.

    >>> import tempfile, pandas as pd
    >>> from matchmaker.core.scoring import ScoringSettings
    >>> table = PartnerTable(ScoringSettings(), ("a", "b", "c"), np.array([[1, 2], [0, -1], [-1, -1]]),
    ...                      np.array([[0.9, 0.25], [0.9, 0.0], [0.0, 0.0]]))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     files = write_partner_table(table, Path(folder) / "partners")
    ...     frame = pd.read_parquet(Path(folder) / "partners")
    >>> frame.values.tolist()
    [['a', 1, 'b', 0.9], ['a', 2, 'c', 0.25], ['b', 1, 'a', 0.9]]
    """
    check_out_folder(out)
    ids = pa.array(table.ids, type=pa.string())
    held = table.index >= 0
    n, top = table.index.shape
    per_file = max(1, rows_per_file // max(1, top))  # whole organisations in each file
    cuts = [*range(0, n, per_file), n] if n else [0, 0]
    metadata = {
        "matchmaker.top": str(top),
        "matchmaker.settings": json.dumps(dataclasses.asdict(table.settings), sort_keys=True),
    }
    schema = PARTNER_SCHEMA.with_metadata(metadata)
    written: list[Path] = []
    with new_folder(out) as staging:
        for number, (a0, a1) in enumerate(itertools.pairwise(cuts)):
            rows, ranks = np.nonzero(held[a0:a1])
            orgs = rows + a0
            partners = table.index[a0:a1][rows, ranks]
            columns = [
                ids.take(pa.array(orgs)),
                pa.array(ranks + 1, type=pa.int16()),
                ids.take(pa.array(partners)),
                pa.array(table.score[a0:a1][rows, ranks].astype(np.float64)),
            ]
            name = f"part-{number:05d}.parquet"
            pq.write_table(pa.Table.from_arrays(columns, schema=schema), staging / name)
            written.append(out / name)
    return written
