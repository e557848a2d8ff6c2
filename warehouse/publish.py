"""Publishing for readers: a complete, read-only copy of the marts swapped into place atomically.

DuckDB lets one process write or many read a file, never both: a dashboard holding the working
warehouse open would block the nightly job. So after each build the marts, and the staging models
people query (materialised as tables, without positions), are written to a new file created with
``STORAGE_VERSION 'v1.4.0'``, checkpointed, closed, and renamed over the published path with
``os.replace``. A reader opening the published path sees one whole night; a reader holding the old
file open keeps its consistent old view and never blocks the writer.
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from runlift.warehouse import db as wdb
from runlift.warehouse.build import MARTS
from runlift.warehouse.db import STORAGE_VERSION, sql_string, utcnow
from runlift.warehouse.strava_loader import RUN_SPORT_TYPES

# Staging models published as tables; none holds a position.
PUBLISHED_STAGING = ("stg_fit__sessions", "stg_fit__sets", "stg_strava__activities")
LOCATION_TABLE = "stg_fit__positions"


@dataclass
class PublishResult:
    path: Path
    tables: dict[str, int]
    include_location: bool


def _copy_comments(con: duckdb.DuckDBPyConnection, schema: str, name: str, kind: str) -> None:
    source = "duckdb_tables()" if kind == "table" else "duckdb_views()"
    name_col = "table_name" if kind == "table" else "view_name"
    row = con.execute(f"SELECT comment FROM {source} WHERE database_name = current_database() "
                      f"AND schema_name = ? AND {name_col} = ?", [schema, name]).fetchone()
    if row and row[0]:
        con.execute(f"COMMENT ON TABLE pub.{schema}.{name} IS {sql_string(row[0])}")
    for col, comment in con.execute(
            "SELECT column_name, comment FROM duckdb_columns() WHERE database_name = current_database() "
            "AND schema_name = ? AND table_name = ? AND comment IS NOT NULL", [schema, name]).fetchall():
        con.execute(f'COMMENT ON COLUMN pub.{schema}.{name}."{col}" IS {sql_string(comment)}')


# Strava activities per athlete, for `runlift status` (published; the same query on the working warehouse)
# Garmin Connect's sync per athlete, with the number of activities fetched (published for `runlift status`)
GARMIN_SYNC_STATE = """SELECT s.athlete_id, s.last_run_at, s.last_status, s.last_message, s.high_water_start_utc,
    s.weigh_ins_through, (SELECT count(*) FROM ops.garmin_activities a WHERE a.athlete_id = s.athlete_id) AS activities
    FROM ops.garmin_sync_state s"""
STRAVA_ACTIVITY_COUNTS = f"""SELECT athlete_id,
        count(*) FILTER (WHERE deleted_at IS NULL) AS activities,
        sum(distance_m) FILTER (
            WHERE deleted_at IS NULL
              AND sport_type IN ({", ".join(sql_string(t) for t in RUN_SPORT_TYPES)})) AS run_distance_m,
        count(*) FILTER (WHERE deleted_at IS NOT NULL) AS deleted,
        count(*) FILTER (WHERE streams_status = 'ok') AS with_streams
    FROM raw.strava_activities GROUP BY 1"""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_temp_files(target: Path) -> list[Path]:
    """Remove ``.<published>.<pid>.tmp`` files (and their WAL) left by a publish that failed or was
    killed: those whose process is gone, and this process's own. Returns what was removed."""
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(\d+)\.tmp(\.wal)?$")
    removed: list[Path] = []
    if not target.parent.is_dir():
        return removed
    for leftover in target.parent.iterdir():
        m = pattern.match(leftover.name)
        if m and (int(m.group(1)) == os.getpid() or not _pid_alive(int(m.group(1)))):
            leftover.unlink(missing_ok=True)
            removed.append(leftover)
    return removed


def publish(con: duckdb.DuckDBPyConnection, target: Path, *, include_location: bool = False) -> PublishResult:
    """Write the published copy from an open working warehouse (the caller holds the write lock).

    Temporary files of earlier publishes that failed or were killed are removed first; this
    one's are removed if it fails.
    """
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    sweep_temp_files(target)
    tables: dict[str, int] = {}
    con.execute(f"ATTACH {sql_string(str(tmp))} AS pub (STORAGE_VERSION '{STORAGE_VERSION}')")
    try:
        con.execute("CREATE SCHEMA pub.marts")
        con.execute("CREATE SCHEMA pub.staging")
        con.execute("CREATE SCHEMA pub.ops")
        for mart in MARTS:
            # CREATE TABLE AS answers with the number of rows it wrote
            tables[f"marts.{mart}"] = wdb.scalar(con,
                f"CREATE TABLE pub.marts.{mart} AS SELECT * FROM marts.{mart}")
            _copy_comments(con, "marts", mart, "table")
        for view in PUBLISHED_STAGING:
            tables[f"staging.{view}"] = wdb.scalar(con,
                f"CREATE TABLE pub.staging.{view} AS SELECT * FROM staging.{view}")
            _copy_comments(con, "staging", view, "view")
        if include_location:
            tables[f"staging.{LOCATION_TABLE}"] = wdb.scalar(con, f"""CREATE TABLE pub.staging.{LOCATION_TABLE} AS
                SELECT athlete_id, file_sha256, record_index, timestamp_utc AS recorded_at,
                       position_lat_deg, position_long_deg
                FROM raw.fit_records WHERE position_lat_deg IS NOT NULL""")
            con.execute(f"COMMENT ON TABLE pub.staging.{LOCATION_TABLE} IS "
                        "'GPS positions of FIT records (published because publish.include_location is true).'")
        # pipeline state for `runlift status` (no positions in any of these)
        for name, sql in (("fit_files", "SELECT * EXCLUDE (blob_path) FROM raw.fit_files"),
                          ("import_runs", "SELECT * FROM ops.import_runs"),
                          ("strava_sync_runs", "SELECT * FROM ops.strava_sync_runs"),
                          ("strava_rate_limit", "SELECT * FROM ops.strava_rate_limit"),
                          ("garmin_sync_state", GARMIN_SYNC_STATE),
                          ("strava_activity_counts", STRAVA_ACTIVITY_COUNTS)):
            con.execute(f"CREATE TABLE pub.ops.{name} AS {sql}")
        as_of = wdb.scalar(con, "SELECT max(as_of_date) FROM marts.dim_athlete")
        con.execute("""CREATE TABLE pub.ops.published AS SELECT ?::TIMESTAMP AS published_at, ?::DATE AS as_of_date,
                       ?::BOOLEAN AS include_location""", [utcnow(), as_of, include_location])
        con.execute("COMMENT ON TABLE pub.ops.published IS "
                    "'When this file was published (UTC) and for which as-of date.'")
        con.execute("CHECKPOINT pub")
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute("DETACH pub")
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)
        raise
    con.execute("DETACH pub")
    os.replace(tmp, target)
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return PublishResult(target, tables, include_location)
