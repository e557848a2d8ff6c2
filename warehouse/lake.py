"""DuckLake maintenance: merge small files, expire old snapshots, delete the files nothing needs.

Every commit of a lake writes new Parquet files (and small ones: a sync commits a page at a time)
and a snapshot; nothing is ever rewritten in place. :func:`maintain` is what keeps the lake small
and fast, with DuckLake's own functions (docs/lake.md "Maintenance"):

1. ``ducklake_flush_inlined_data``: rows DuckLake kept in the catalog (small inserts) go to Parquet;
2. ``ducklake_merge_adjacent_files``: small files of a table merged into bigger ones;
3. ``ducklake_expire_snapshots``: snapshots older than ``warehouse.lake_expire_snapshots_days``
   forgotten (time travel reaches back that far, no further);
4. ``ducklake_cleanup_old_files``: files only expired snapshots used, deleted from the data path.

It runs under the lake's ``all-athletes`` lock, as a build does: one maintenance at a time (the
athletes' writers go on: DuckLake retries their commits around it).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from runlift.warehouse.db import LAKE_ALIAS, Lake, scalar, utcnow


@dataclass
class MaintainResult:
    seconds: float
    files_before: int
    files_after: int
    snapshots_before: int
    snapshots_after: int
    files_deleted: int


def _counts(con: duckdb.DuckDBPyConnection, lake: Lake) -> tuple[int, int]:
    """(Parquet files under a local data path, or -1 for object storage; the lake's snapshots)."""
    files = len(list(Path(lake.data_path).rglob("*.parquet"))) if "://" not in lake.data_path else -1
    return files, int(scalar(con, f"SELECT count(*) FROM ducklake_snapshots('{LAKE_ALIAS}')"))


def maintain(con: duckdb.DuckDBPyConnection, lake: Lake, *, now: dt.datetime | None = None) -> MaintainResult:
    """Run the four steps on the lake ``con`` is attached to (connect_lake); returns the counts."""
    t0 = time.perf_counter()
    files_before, snapshots_before = _counts(con, lake)
    con.execute(f"CALL ducklake_flush_inlined_data('{LAKE_ALIAS}')")
    con.execute(f"CALL ducklake_merge_adjacent_files('{LAKE_ALIAS}')")
    cutoff = (now or utcnow()) - dt.timedelta(days=lake.expire_snapshots_days)
    con.execute(f"CALL ducklake_expire_snapshots('{LAKE_ALIAS}', older_than => ?::TIMESTAMPTZ)",
                [cutoff.replace(tzinfo=dt.UTC)])
    deleted = len(con.execute(f"CALL ducklake_cleanup_old_files('{LAKE_ALIAS}', cleanup_all => true)").fetchall())
    files_after, snapshots_after = _counts(con, lake)
    return MaintainResult(time.perf_counter() - t0, files_before, files_after, snapshots_before, snapshots_after,
                          deleted)
