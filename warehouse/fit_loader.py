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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
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


def store_blob(root: Path, sha: str, data: bytes, *, durable: bool = True, gz: bytes | None = None) -> str:
    """Keep the original bytes, gzip-compressed, at ``root/<sha[:2]>/<sha>.fit.gz`` (atomic).

    Returns the path relative to ``root``. An existing blob is left as it is (same content).
    ``gz``: a gzip file of ``data`` made already (a zip member's own deflate stream, wrapped),
    written as it is instead of compressing ``data`` again.
    ``durable=False`` skips the fsync: the caller must make the blob durable (``os.sync()``)
    before committing rows that point at it.
    """
    rel = blob_relpath(sha)
    target = root / rel
    if target.exists():
        return rel
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".gz")
    try:
        with os.fdopen(fd, "wb") as fh:
            if gz is not None:
                fh.write(gz)
            else:
                # mtime=0: the same bytes from the same kind of source give the same blob.
                # level 1: four times faster than 6 for ~10 % more bytes; the import is not to wait on it
                with gzip.GzipFile(fileobj=fh, mode="wb", compresslevel=1, mtime=0) as out:
                    out.write(data)
            fh.flush()
            if durable:
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


def _column(values: Any, typ: pa.DataType) -> pa.Array:
    # numpy columns from the columnar decoder carry NULL as NaN / NaT: from_pandas turns them into nulls
    if isinstance(values, np.ndarray):
        return pa.array(values, type=typ, from_pandas=True)
    return pa.array(values, type=typ)


def _arrow(table: str, rows: list[dict[str, Any]] | dict[str, Any]) -> pa.Table:
    schema = SCHEMAS[table]
    if isinstance(rows, dict):
        return pa.table({n: _column(rows[n], schema.field(n).type) for n in schema.names}, schema=schema)
    return pa.Table.from_pylist(rows, schema=schema)


FILES_SCHEMA = pa.schema([
    ("file_sha256", STR), ("first_path", STR), ("size_bytes", pa.int64()), ("file_type", STR),
    ("manufacturer", STR), ("product", STR), ("serial_number", pa.int64()), ("time_created_utc", TS),
    ("status", STR), ("error", STR), ("utc_offset_s", I4), ("n_sessions", I4), ("n_laps", I4), ("n_sets", I4),
    ("n_records", I4), ("decoder", STR), ("blob_path", STR), ("imported_at", TS),
])


@dataclass
class PreparedFit:
    """One decoded file ready to write: its ``raw.fit_files`` facts and its child rows as Arrow.

    Built by :func:`prepare` wherever the file was decoded (a decoding process, so the writer
    only concatenates and inserts). To cross to the writer process it is :meth:`spill`-ed: its
    tables become Arrow IPC streams, in a file in a RAM-backed folder that the writer maps
    without copying, or as bytes inside the object (pickling Arrow objects costs several times
    more, and every byte of ~100 per record crosses the pipe).
    """

    sha: str
    status: str
    error: str | None
    decoder: str
    file: dict[str, Any]
    utc_offset_s: int | None
    n_sessions: int
    n_laps: int
    n_sets: int
    n_records: int
    active_sets: int
    _tables: dict[str, pa.Table] | None = None  # child table name -> rows, with a file_sha256 column
    _spilled: tuple[str | None, bytes | None, dict[str, tuple[int, int]]] | None = None

    @property
    def tables(self) -> dict[str, pa.Table]:
        if self._tables is None:
            self._tables = self._restore()
        return self._tables

    def spill(self, path: Path | None = None) -> None:
        """Turn the tables into Arrow IPC streams: written to ``path``, or kept as bytes."""
        tables = self.tables
        sink: pa.NativeFile = pa.OSFile(str(path), "wb") if path else pa.BufferOutputStream()
        index: dict[str, tuple[int, int]] = {}
        try:
            for name, tbl in tables.items():
                start = sink.tell()
                with pa.ipc.new_stream(sink, tbl.schema) as writer:
                    writer.write_table(tbl)
                index[name] = (start, sink.tell() - start)
            data = None if path else sink.getvalue().to_pybytes()  # type: ignore[attr-defined]
        finally:
            if path:
                sink.close()
        self._spilled, self._tables = (str(path) if path else None, data, index), None

    def _restore(self) -> dict[str, pa.Table]:
        assert self._spilled is not None
        path, data, index = self._spilled
        if path is not None:
            buf = pa.memory_map(path).read_buffer()  # no copy: the tables point into the mapping
            os.unlink(path)  # the mapping stays valid until the tables are gone
        else:
            buf = pa.py_buffer(data)
        self._spilled = None
        return {name: pa.ipc.open_stream(buf.slice(start, length)).read_all()
                for name, (start, length) in index.items()}

    def discard(self) -> None:
        """Drop a spilled file unread (a copy this run already wrote)."""
        if self._spilled is not None and self._spilled[0] is not None:
            Path(self._spilled[0]).unlink(missing_ok=True)
        self._spilled = None


def _sha_column(sha: str, n: int) -> pa.Array:
    # dictionary-encoded: one string per file, not one per row (DuckDB takes it ~20 % faster)
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)), pa.array([sha], STR))


def prepare(sha: str, decoded: DecodedFit) -> PreparedFit:
    """Turn a decoded file into Arrow tables keyed by ``sha``."""
    tables: dict[str, pa.Table] = {}
    for name, rows in (("fit_sessions", decoded.sessions), ("fit_laps", decoded.laps),
                       ("fit_sets", decoded.sets), ("fit_records", decoded.records)):
        tbl = _arrow(name, rows)
        if tbl.num_rows:
            tables[name] = tbl.add_column(0, "file_sha256", _sha_column(sha, tbl.num_rows))
    return PreparedFit(
        sha=sha, status=decoded.status, error=decoded.error, decoder=decoded.decoder, file=dict(decoded.file),
        utc_offset_s=decoded.utc_offset_s, n_sessions=len(decoded.sessions), n_laps=len(decoded.laps),
        n_sets=len(decoded.sets), n_records=decoded.n_records,
        active_sets=sum(1 for s in decoded.sets if s["set_type"] == "active"), _tables=tables)


@dataclass
class FileToSave:
    sha: str
    first_path: str
    size: int
    prepared: PreparedFit
    blob_rel: str


def _insert_batch(con: duckdb.DuckDBPyConnection, table: str, data: pa.Table, athlete_id: str) -> None:
    if data.num_rows == 0:
        return
    con.register("_rl_batch", data)
    try:
        con.execute(f"INSERT INTO raw.{table} BY NAME SELECT ?::VARCHAR AS athlete_id, * FROM _rl_batch", [athlete_id])
    except BaseException:
        # after a failed statement the transaction is aborted and unregister raises too
        # ("Current transaction is aborted"): the first error is the one to report (disk full, ...)
        try:
            con.unregister("_rl_batch")
        except duckdb.Error:
            pass
        raise
    con.unregister("_rl_batch")


def _file_row(it: FileToSave, now: Any) -> dict[str, Any]:
    p = it.prepared
    return {"file_sha256": it.sha, "first_path": it.first_path, "size_bytes": it.size, **p.file,
            "status": p.status, "error": p.error, "utc_offset_s": p.utc_offset_s, "n_sessions": p.n_sessions,
            "n_laps": p.n_laps, "n_sets": p.n_sets, "n_records": p.n_records, "decoder": p.decoder,
            "blob_path": it.blob_rel, "imported_at": now}


def save_fits(con: duckdb.DuckDBPyConnection, athlete_id: str, items: list[FileToSave], *,
              replace: bool = False) -> None:
    """Write decoded files in one transaction: each file wholly present or wholly absent, whatever
    moment a kill strikes. ``replace`` swaps out the files' earlier rows (reprocessing).

    Several files per transaction (one bulk insert per table) cost far less than a commit per file.
    """
    if not items:
        return
    now = utcnow()
    files = pa.Table.from_pylist([_file_row(it, now) for it in items], schema=FILES_SCHEMA)
    children: dict[str, list[pa.Table]] = {t: [] for t in CHILD_TABLES}
    for it in items:
        for name, tbl in it.prepared.tables.items():
            children[name].append(tbl)
    con.execute("BEGIN TRANSACTION")
    try:
        if replace:
            shas = [it.sha for it in items]
            for t in (*CHILD_TABLES, "fit_files"):
                con.execute(f"DELETE FROM raw.{t} WHERE athlete_id = ? AND list_contains(?, file_sha256)",
                            [athlete_id, shas])
        _insert_batch(con, "fit_files", files, athlete_id)
        for name, tables in children.items():
            if tables:
                _insert_batch(con, name, pa.concat_tables(tables), athlete_id)
        con.execute("COMMIT")
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:  # e.g. a COMMIT that failed writing has ended the transaction: keep its error
            pass
        raise
