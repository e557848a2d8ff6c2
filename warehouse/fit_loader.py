"""Saving decoded FIT files: the content-addressed blob store and idempotent, per-file loads.

Each file's rows (``raw.fit_files`` and its sessions, laps, sets and records) are written in one
transaction, keyed by (athlete_id, file_sha256): a file is either wholly present or absent,
whatever moment a kill -9 strikes. Columns are bulk-inserted from Arrow tables, never row by row.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from connectors.fit.decode import LAP_COLUMNS, RECORD_COLUMNS, SESSION_COLUMNS, SET_COLUMNS, DecodedFit
from warehouse.db import utcnow

TS = pa.timestamp("us")
F8 = pa.float64()
I4 = pa.int32()
STR = pa.string()

SCHEMAS: dict[str, pa.Schema] = {
    "fit_sessions": pa.schema([
        ("session_index", I4), ("sport", STR), ("sub_sport", STR), ("sport_profile_name", STR),
        ("start_time_utc", TS), ("start_time_local", TS), ("utc_offset_s", I4), ("end_time_utc", TS),
        *[(c, F8) for c in SESSION_COLUMNS[8:20]], ("total_strides", pa.int64()),
        *[(c, F8) for c in SESSION_COLUMNS[21:30]], ("num_laps", I4), ("is_summarised", pa.bool_()),
    ]),
    "fit_laps": pa.schema([
        ("lap_index", I4), ("start_time_utc", TS), ("end_time_utc", TS),
        *[(c, F8) for c in LAP_COLUMNS[3:12]], ("intensity", STR), ("lap_trigger", STR),
    ]),
    "fit_sets": pa.schema([
        ("set_index", I4), ("message_index", I4), ("set_type", STR), ("start_time_utc", TS),
        ("end_time_utc", TS), ("duration_s", F8), ("repetitions", I4), ("weight_kg", F8), ("category", STR),
        ("category_ids", pa.list_(I4)), ("category_names", pa.list_(STR)),
        ("subtype_ids", pa.list_(I4)), ("subtype_names", pa.list_(STR)),
        ("wkt_step_index", I4), ("exercise_title", STR),
    ]),
    "fit_records": pa.schema([
        ("record_index", I4), ("timestamp_utc", TS), ("position_lat_deg", F8), ("position_long_deg", F8),
        ("distance_m", F8), ("speed_mps", F8), ("heart_rate_bpm", pa.int16()), ("cadence_rpm", F8),
        ("altitude_m", F8), ("power_w", I4), ("vertical_oscillation_m", F8), ("stance_time_s", F8),
        ("step_length_m", F8),
    ]),
}
for _name, _cols in (("fit_sessions", SESSION_COLUMNS), ("fit_laps", LAP_COLUMNS),
                     ("fit_sets", SET_COLUMNS), ("fit_records", RECORD_COLUMNS)):
    assert tuple(SCHEMAS[_name].names) == _cols, _name
CHILD_TABLES = tuple(SCHEMAS)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def blob_relpath(sha: str) -> str:
    return f"{sha[:2]}/{sha}.fit.gz"


def store_blob(root: Path, sha: str, data: bytes) -> str:
    """Keep the original bytes, gzip-compressed, at ``root/<sha[:2]>/<sha>.fit.gz`` (atomic).

    Returns the path relative to ``root``. An existing blob is left as it is (same content).
    """
    rel = blob_relpath(sha)
    target = root / rel
    if target.exists():
        return rel
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".gz")
    try:
        with os.fdopen(fd, "wb") as fh:
            # mtime=0: the same bytes always give the same blob.
            with gzip.GzipFile(fileobj=fh, mode="wb", compresslevel=6, mtime=0) as gz:
                gz.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return rel


def read_blob(root: Path, rel: str) -> bytes:
    return gzip.decompress((root / rel).read_bytes())


def known_files(con: duckdb.DuckDBPyConnection, athlete_id: str) -> set[str]:
    rows = con.execute("SELECT file_sha256 FROM raw.fit_files WHERE athlete_id = ?", [athlete_id]).fetchall()
    return {r[0] for r in rows}


def _arrow(table: str, rows: list[dict[str, Any]] | dict[str, list[Any]]) -> pa.Table:
    schema = SCHEMAS[table]
    if isinstance(rows, dict):
        return pa.table({n: pa.array(rows[n], type=schema.field(n).type) for n in schema.names}, schema=schema)
    return pa.Table.from_pylist(rows, schema=schema)


def _insert(con: duckdb.DuckDBPyConnection, table: str, data: pa.Table, athlete_id: str, sha: str) -> None:
    if data.num_rows == 0:
        return
    con.register("_rl_batch", data)
    try:
        con.execute(f"INSERT INTO raw.{table} BY NAME "
                    "SELECT ?::VARCHAR AS athlete_id, ?::VARCHAR AS file_sha256, * FROM _rl_batch",
                    [athlete_id, sha])
    finally:
        con.unregister("_rl_batch")


def save_fit(con: duckdb.DuckDBPyConnection, *, athlete_id: str, sha: str, first_path: str, size: int,
             decoded: DecodedFit, blob_rel: str, replace: bool = False) -> None:
    """Write one decoded file in one transaction (``replace``: swap out its earlier rows)."""
    tables = {
        "fit_sessions": _arrow("fit_sessions", decoded.sessions),
        "fit_laps": _arrow("fit_laps", decoded.laps),
        "fit_sets": _arrow("fit_sets", decoded.sets),
        "fit_records": _arrow("fit_records", decoded.records),
    }
    f = decoded.file
    con.execute("BEGIN TRANSACTION")
    try:
        if replace:
            for t in (*CHILD_TABLES, "fit_files"):
                con.execute(f"DELETE FROM raw.{t} WHERE athlete_id = ? AND file_sha256 = ?", [athlete_id, sha])
        con.execute(
            "INSERT INTO raw.fit_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [athlete_id, sha, first_path, size, f["file_type"], f["manufacturer"], f["product"],
             f["serial_number"], f["time_created_utc"], decoded.status, decoded.error, decoded.utc_offset_s,
             len(decoded.sessions), len(decoded.laps), len(decoded.sets), decoded.n_records,
             decoded.decoder, blob_rel, utcnow()])
        for name, data in tables.items():
            _insert(con, name, data, athlete_id, sha)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
