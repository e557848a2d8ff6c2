"""Export the published file as Parquet: one file per published marts and staging table.

    export_parquet(Path("runlift.published.duckdb"), Path("parquet/"))
    # -> {"marts.fct_activities": Path("parquet/marts.fct_activities.parquet"), ...}

Only the published file is read, and only read-only: an export never waits for, nor blocks, the
nightly job, and it exports exactly what was published (no raw data; GPS positions only when
``publish.include_location`` put ``staging.stg_fit__positions`` in the published file). Each
Parquet file is written to a temporary name in the output folder and renamed into place, so a
reader of ``marts.fct_activities.parquet`` sees the previous export or the new one, never half a
file. (The set of files is not swapped as a whole: a reader listing the folder during an export
can see some tables from the new night and some from the last.) The table's comment, the
publication time and the as-of date are stored as Parquet key-value metadata.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from runlift.warehouse import db as wdb
from runlift.warehouse.db import sql_string

EXPORTED_SCHEMAS = ("marts", "staging")


def export_parquet(published_path: Path, out_dir: Path, athlete_id: str | None = None) -> dict[str, Path]:
    """Write every table of the published file's marts and staging schemas to ``out_dir``.

    ``athlete_id``: only that athlete's rows (every table carries ``athlete_id``); the files then
    carry ``athlete_id`` in their key-value metadata too.

    Returns ``{"schema.table": path}``. Raises ``FileNotFoundError`` when there is no published
    file (run ``runlift build`` first) and ``duckdb.Error`` when it cannot be read.
    """
    published_path = Path(published_path)
    out_dir = Path(out_dir)
    if not published_path.is_file():
        raise FileNotFoundError(f"no published file at {published_path}; "
                                "run `runlift build` (or the nightly job) first")
    out_dir.mkdir(parents=True, exist_ok=True)
    # A fresh in-memory database that ATTACHes the file read-only: unlike duckdb.connect(path), this
    # never reuses an instance another connection of this process still holds on an older file.
    con = duckdb.connect(":memory:")
    written: dict[str, Path] = {}
    try:
        con.execute(f"ATTACH {sql_string(str(published_path))} AS pub (READ_ONLY)")
        tables = con.execute(
            "SELECT schema_name, table_name, coalesce(comment, '') FROM duckdb_tables() "
            "WHERE database_name = 'pub' AND list_contains(?, schema_name) ORDER BY schema_name, table_name",
            [list(EXPORTED_SCHEMAS)]).fetchall()
        has_stamp = wdb.scalar(con, "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'pub' "
                                "AND schema_name = 'ops' AND table_name = 'published'")
        stamp = con.execute("SELECT published_at::VARCHAR, as_of_date::VARCHAR FROM pub.ops.published").fetchone() \
            if has_stamp else None
        published_at, as_of = stamp or (None, None)
        for schema, table, comment in tables:
            name = f"{schema}.{table}"
            final = out_dir / f"{name}.parquet"
            tmp = out_dir / f".{name}.parquet.{os.getpid()}.tmp"
            metadata = {"runlift_table": name, "comment": comment,
                        "published_at": published_at or "", "as_of_date": as_of or ""}
            where = ""
            if athlete_id is not None:
                metadata["athlete_id"] = athlete_id
                where = f" WHERE athlete_id = {sql_string(athlete_id)}"
            kv = ", ".join(f"{key}: {sql_string(value)}" for key, value in metadata.items())
            try:
                con.execute(f'COPY (SELECT * FROM pub."{schema}"."{table}"{where}) TO {sql_string(str(tmp))} '
                            f"(FORMAT parquet, COMPRESSION zstd, KV_METADATA {{{kv}}})")
                with open(tmp, "rb") as fh:
                    os.fsync(fh.fileno())
                os.replace(tmp, final)
            finally:
                tmp.unlink(missing_ok=True)
            written[name] = final
        con.execute("DETACH pub")
    finally:
        con.close()
    dir_fd = os.open(out_dir, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return written
