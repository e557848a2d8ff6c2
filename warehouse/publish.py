"""Publishing for readers: a complete, read-only copy of the marts swapped into place atomically.

DuckDB lets one process write or many read a file, never both: a dashboard holding the working
warehouse open would block the nightly job. So after each build the marts, and the staging models
people query (materialised as tables, without positions), are written to a new file created with
``STORAGE_VERSION 'v1.4.0'``, checkpointed, closed, and renamed over the published path with
``os.replace``. A reader opening the published path sees one whole night; a reader holding the old
file open keeps its consistent old view and never blocks the writer.

The file records the fingerprint of the build its marts come from (``ops.published.build_fingerprint``).
When the marts have not been rebuilt since (a night with nothing new), :func:`refresh` publishes
the same way a copy of the published file with only its pipeline state (``ops.*``) written anew,
instead of copying every mart again.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from runlift.warehouse import db as wdb
from runlift.warehouse.build import MARTS, last_build, view_column_comments
from runlift.warehouse.db import STORAGE_VERSION, sql_string, utcnow
from runlift.warehouse.strava_loader import RUN_SPORT_TYPES

# Staging models published as tables; none holds a position.
PUBLISHED_STAGING = ("stg_fit__sessions", "stg_fit__sets", "stg_strava__activities", "app_exercises_unmapped")
LOCATION_TABLE = "stg_fit__positions"


@dataclass
class PublishResult:
    path: Path
    tables: dict[str, int]
    include_location: bool


def _copy_comments(con: duckdb.DuckDBPyConnection, names: list[tuple[str, str]]) -> None:
    """The comments of the tables and views ``names`` ((schema, name)) and of their columns, onto
    their copies in ``pub`` (the catalog is read once: each read of it costs ~50 ms)."""
    wanted = set(names)
    objects = con.execute(
        "SELECT schema_name, table_name, comment FROM duckdb_tables() WHERE database_name = current_database() "
        "AND comment IS NOT NULL UNION ALL "
        "SELECT schema_name, view_name, comment FROM duckdb_views() WHERE database_name = current_database() "
        "AND comment IS NOT NULL").fetchall()
    columns = con.execute(
        "SELECT schema_name, table_name, column_name, comment FROM duckdb_columns() "
        "WHERE database_name = current_database() AND comment IS NOT NULL").fetchall()
    statements = [f"COMMENT ON TABLE pub.{schema}.{name} IS {sql_string(comment)}"
                  for schema, name, comment in objects if (schema, name) in wanted and comment]
    if wdb.is_lake(con):  # a DuckLake keeps no comments on views' columns: the model files have them
        columns += view_column_comments()
    statements += [f'COMMENT ON COLUMN pub.{schema}.{name}."{col}" IS {sql_string(comment)}'
                   for schema, name, col, comment in columns if (schema, name) in wanted]
    if statements:
        con.execute(";\n".join(statements))


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


# The pipeline state in the published file, for `runlift status` (no positions in any of these)
STATE_TABLES = (("fit_files", "SELECT * EXCLUDE (blob_path) FROM raw.fit_files"),
                ("import_runs", "SELECT * FROM ops.import_runs"),
                ("strava_sync_runs", "SELECT * FROM ops.strava_sync_runs"),
                ("strava_rate_limit", "SELECT * FROM ops.strava_rate_limit"),
                ("hevy_sync_runs", "SELECT * FROM ops.hevy_sync_runs"),
                ("garmin_sync_state", GARMIN_SYNC_STATE),
                ("strava_activity_counts", STRAVA_ACTIVITY_COUNTS))


def _write_state(con: duckdb.DuckDBPyConnection, include_location: bool, build_fingerprint: str | None) -> None:
    for name, sql in STATE_TABLES:
        con.execute(f"CREATE OR REPLACE TABLE pub.ops.{name} AS {sql}")
    as_of = wdb.scalar(con, "SELECT max(as_of_date) FROM marts.dim_athlete")
    con.execute("""CREATE OR REPLACE TABLE pub.ops.published AS SELECT ?::TIMESTAMP AS published_at,
                   ?::DATE AS as_of_date, ?::BOOLEAN AS include_location, ?::VARCHAR AS build_fingerprint""",
                [utcnow(), as_of, include_location, build_fingerprint])
    con.execute("COMMENT ON TABLE pub.ops.published IS "
                "'When this file was published (UTC) and for which as-of date.'")


def _swap_in(tmp: Path, target: Path) -> None:
    os.replace(tmp, target)
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _drop_tmp(con: duckdb.DuckDBPyConnection, tmp: Path) -> None:
    with contextlib.suppress(duckdb.Error):
        con.execute("DETACH pub")
    for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
        leftover.unlink(missing_ok=True)


def _current_build(con: duckdb.DuckDBPyConnection) -> str | None:
    last = last_build(con)
    return last.fingerprint if last is not None else None


def refresh(con: duckdb.DuckDBPyConnection, target: Path, *, include_location: bool = False) -> PublishResult | None:
    """Publish again without copying the marts, when the published file holds the marts of the
    last build already (its ``build_fingerprint`` is the last build's, the same ``include_location``):
    a copy of it with the pipeline state (``ops.*``, the publish stamp) written anew, swapped into
    place as :func:`publish` does. None (nothing done) when the file does not qualify.
    """
    current = _current_build(con)
    if current is None or not target.exists():
        return None
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    sweep_temp_files(target)
    try:
        shutil.copyfile(target, tmp)
        con.execute(f"ATTACH {sql_string(str(tmp))} AS pub")
        try:
            stamp = con.execute("SELECT build_fingerprint, include_location FROM pub.ops.published").fetchone()
        except duckdb.Error:  # a file published by an older runlift: no build_fingerprint
            stamp = None
        if stamp is None or stamp[0] != current or bool(stamp[1]) != include_location:
            _drop_tmp(con, tmp)
            return None
        _write_state(con, include_location, current)
        tables = {f"{schema}.{name}": wdb.scalar(con, f"SELECT count(*) FROM pub.{schema}.{name}")
                  for schema, name in con.execute(
                      "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'pub' "
                      "AND schema_name IN ('marts', 'staging') ORDER BY schema_name = 'staging', table_name"
                  ).fetchall()}
        con.execute("CHECKPOINT pub")
    except BaseException:
        _drop_tmp(con, tmp)
        raise
    con.execute("DETACH pub")
    _swap_in(tmp, target)
    return PublishResult(target, tables, include_location)


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
        for view in PUBLISHED_STAGING:
            tables[f"staging.{view}"] = wdb.scalar(con,
                f"CREATE TABLE pub.staging.{view} AS SELECT * FROM staging.{view}")
        _copy_comments(con, [("marts", m) for m in MARTS] + [("staging", v) for v in PUBLISHED_STAGING])
        if include_location:
            tables[f"staging.{LOCATION_TABLE}"] = wdb.scalar(con, f"""CREATE TABLE pub.staging.{LOCATION_TABLE} AS
                SELECT athlete_id, file_sha256, record_index, timestamp_utc AS recorded_at,
                       position_lat_deg, position_long_deg
                FROM raw.fit_records WHERE position_lat_deg IS NOT NULL""")
            con.execute(f"COMMENT ON TABLE pub.staging.{LOCATION_TABLE} IS "
                        "'GPS positions of FIT records (published because publish.include_location is true).'")
        _write_state(con, include_location, _current_build(con))
        con.execute("CHECKPOINT pub")
    except BaseException:
        _drop_tmp(con, tmp)
        raise
    con.execute("DETACH pub")
    _swap_in(tmp, target)
    return PublishResult(target, tables, include_location)
