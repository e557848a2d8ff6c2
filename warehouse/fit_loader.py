"""Saving decoded FIT files: the content-addressed blob store and idempotent, per-file loads.

Each file's rows (``raw.fit_files`` and its sessions, laps, sets and records) are written in one
transaction, keyed by (athlete_id, file_sha256): a file is either wholly present or absent,
whatever moment a kill -9 strikes. Columns are bulk-inserted from Arrow tables, never row by row.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from runlift.connectors.fit.decode import LAP_COLUMNS, RECORD_COLUMNS, SESSION_COLUMNS, SET_COLUMNS, DecodedFit
from runlift.warehouse.db import utcnow

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
        ("dq_reason", STR),
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
        ("wkt_step_index", I4), ("exercise_title", STR), ("dq_reason", STR),
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


def sweep_orphan_blobs(con: duckdb.DuckDBPyConnection, root: Path) -> int:
    """Remove kept bytes that no ``raw.fit_files`` row points at, and half-written blob files.

    A blob is written before the rows that point at it commit; a process killed in between (kill -9,
    power loss) leaves one behind. Call under the writer's lock, before an import writes anything.
    Returns the number of files removed.
    """
    if not root.is_dir():
        return 0
    referenced = {r[0] for r in con.execute("SELECT DISTINCT blob_path FROM raw.fit_files").fetchall()}
    removed = 0
    for sub in root.iterdir():
        if not sub.is_dir() or sub.is_symlink() or len(sub.name) != 2:
            continue
        for entry in sub.iterdir():
            name = entry.name
            orphan = name.startswith(".tmp-") or (name.endswith(".fit.gz") and f"{sub.name}/{name}" not in referenced)
            if orphan and entry.is_file() and not entry.is_symlink():
                entry.unlink(missing_ok=True)
                removed += 1
    return removed


def read_blob(root: Path, rel: str) -> bytes:
    return gzip.decompress((root / rel).read_bytes())


def known_files(con: duckdb.DuckDBPyConnection, athlete_id: str) -> set[str]:
    """The athlete's imported files, and the ones removed with ``runlift remove-fit`` (not imported again)."""
    rows = con.execute("SELECT file_sha256 FROM raw.fit_files WHERE athlete_id = ? UNION "
                       "SELECT file_sha256 FROM ops.fit_removed_files WHERE athlete_id = ?",
                       [athlete_id, athlete_id]).fetchall()
    return {r[0] for r in rows}


# --- values a column cannot hold --------------------------------------------------------------------
# A crafted file can hold any number in any field (a heart rate as uint32 = 100000, num_laps = 4e9,
# a float64 infinity). Such a value becomes NULL and the file's reason names it; it never stops
# the import.

_INT_RANGE = {pa.int16(): 2**15, pa.int32(): 2**31, pa.int64(): 2**63}


def _bad_scalar(v: Any, typ: pa.DataType) -> bool:
    """Would ``v`` not fit a column of ``typ``? (None always fits.)"""
    if v is None or isinstance(v, bool):
        return False
    if typ in _INT_RANGE:
        if isinstance(v, float):
            return not math.isfinite(v) or not -_INT_RANGE[typ] <= v < _INT_RANGE[typ]
        return isinstance(v, int) and not -_INT_RANGE[typ] <= v < _INT_RANGE[typ]
    if typ == F8:
        return isinstance(v, float) and not math.isfinite(v)
    return False


class _Bad:
    """Collects the values set to NULL: column -> (count, first value)."""

    def __init__(self) -> None:
        self.seen: dict[str, tuple[int, Any]] = {}

    def add(self, column: str, count: int, example: Any) -> None:
        n, first = self.seen.get(column, (0, example))
        self.seen[column] = (n + count, first)

    def reason(self) -> str | None:
        if not self.seen:
            return None
        parts = [f"{col} = {_fmt(first)}" + (f" ({n} values)" if n > 1 else "") for col, (n, first) in self.seen.items()]
        return "values out of range for their column, set to NULL: " + ", ".join(parts)


def _fmt(v: Any) -> str:
    if isinstance(v, float) or (isinstance(v, int) and abs(v) >= 10**20):
        return f"{float(v):g}"
    return repr(v)[:40]


def _clean_rows(table: str, rows: list[dict[str, Any]], bad: _Bad) -> list[dict[str, Any]]:
    schema = SCHEMAS[table]
    out = []
    for row in rows:
        fixed = None
        for f in schema:
            v = row.get(f.name)
            if pa.types.is_list(f.type) and isinstance(v, list):
                if any(_bad_scalar(x, f.type.value_type) for x in v):
                    for x in v:
                        if _bad_scalar(x, f.type.value_type):
                            bad.add(f"{table}.{f.name}", 1, x)
                    fixed = fixed or dict(row)
                    fixed[f.name] = [None if _bad_scalar(x, f.type.value_type) else x for x in v]
            elif _bad_scalar(v, f.type):
                bad.add(f"{table}.{f.name}", 1, v)
                fixed = fixed or dict(row)
                fixed[f.name] = None
        out.append(fixed or row)
    return out


def _clean_array(name: str, values: Any, typ: pa.DataType, bad: _Bad) -> Any:
    """A record column with the values its column cannot hold masked (ints) or NaN (floats): numpy
    arrays (the columnar decoder) or lists (the reference decoder, None = NULL)."""
    if isinstance(values, list):
        wrong = [x for x in values if _bad_scalar(x, typ)]
        if not wrong:
            return values
        bad.add(name, len(wrong), wrong[0])
        return [None if _bad_scalar(x, typ) else x for x in values]
    if not isinstance(values, np.ndarray) or values.dtype.kind not in "iuf":
        return values
    data = np.ma.getdata(values)
    mask = np.ma.getmaskarray(values) if isinstance(values, np.ma.MaskedArray) else np.zeros(len(data), bool)
    if data.dtype.kind == "f":
        mask = mask | np.isnan(data)
        wrong = ~mask & ~np.isfinite(data)
        if typ in _INT_RANGE:
            with np.errstate(invalid="ignore"):
                wrong |= ~mask & ~((data >= -_INT_RANGE[typ]) & (data < _INT_RANGE[typ]))
    elif typ in _INT_RANGE:
        wrong = ~mask & ((data < -_INT_RANGE[typ]) | (data >= _INT_RANGE[typ]))
    else:
        return values
    if not wrong.any():
        if data.dtype.kind == "f" and typ in _INT_RANGE:  # whole numbers in a float array (see columnar)
            return np.ma.MaskedArray(np.where(mask, 0, data).astype(np.int64), mask=mask)
        return values
    idx = np.flatnonzero(wrong)
    example = data[idx[0]].item()
    bad.add(name, len(idx), example)
    if typ in _INT_RANGE:
        mask = mask | wrong
        return np.ma.MaskedArray(np.where(mask, 0, data).astype(np.int64), mask=mask)
    out = data.copy()
    out[wrong] = np.nan
    return out


def _column(values: Any, typ: pa.DataType) -> pa.Array:
    # numpy columns from the columnar decoder carry NULL as NaN / NaT: from_pandas turns them into nulls
    if isinstance(values, np.ndarray):
        return pa.array(values, type=typ, from_pandas=True)
    return pa.array(values, type=typ)


def _arrow(table: str, rows: list[dict[str, Any]] | dict[str, Any], bad: _Bad | None = None) -> pa.Table:
    schema = SCHEMAS[table]
    bad = bad or _Bad()
    if isinstance(rows, dict):
        cols = {n: _column(_clean_array(f"{table}.{n}", rows[n], schema.field(n).type, bad)
                           if table == "fit_records" else rows[n], schema.field(n).type) for n in schema.names}
        return pa.table(cols, schema=schema)
    return pa.Table.from_pylist(_clean_rows(table, rows, bad), schema=schema)


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
    dq: list[str] = field(default_factory=list)  # data-quality reasons of its sessions and sets
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
    """Turn a decoded file into Arrow tables keyed by ``sha``.

    A value its column cannot hold (out of the integer type's range, an infinity) becomes NULL and
    is named in the file's reason; an ``ok`` file with such values becomes ``partial``.
    """
    tables: dict[str, pa.Table] = {}
    bad = _Bad()
    for name, rows in (("fit_sessions", decoded.sessions), ("fit_laps", decoded.laps),
                       ("fit_sets", decoded.sets), ("fit_records", decoded.records)):
        tbl = _arrow(name, rows, bad)
        if tbl.num_rows:
            tables[name] = tbl.add_column(0, "file_sha256", _sha_column(sha, tbl.num_rows))
    file = dict(decoded.file)
    for key, value in file.items():
        if _bad_scalar(value, FILES_SCHEMA.field(key).type):
            bad.add(f"fit_files.{key}", 1, value)
            file[key] = None
    status, error = decoded.status, decoded.error
    why = bad.reason()
    if why:
        status = "partial" if status == "ok" else status
        error = why if not error else f"{error}; {why}"
    dq = [f"session {r['session_index']}: {r['dq_reason']}" for r in decoded.sessions if r.get("dq_reason")]
    dq += [f"set {r['set_index']}: {r['dq_reason']}" for r in decoded.sets if r.get("dq_reason")]
    return PreparedFit(
        sha=sha, status=status, error=error, decoder=decoded.decoder, file=file,
        utc_offset_s=decoded.utc_offset_s, n_sessions=len(decoded.sessions), n_laps=len(decoded.laps),
        n_sets=len(decoded.sets), n_records=decoded.n_records,
        active_sets=sum(1 for s in decoded.sets if s["set_type"] == "active"), dq=dq, _tables=tables)


def failed(sha: str, decoder: str, reason: str) -> PreparedFit:
    """A file that could not be turned into rows (a bug or a case nobody foresaw): recorded as
    ``rejected`` with ``reason``, without rows, so the rest of the import goes on."""
    return PreparedFit(sha=sha, status="rejected", error=reason, decoder=decoder,
                       file=dict.fromkeys(FILES_SCHEMA.names[3:8]), utc_offset_s=None, n_sessions=0, n_laps=0, n_sets=0,
                       n_records=0, active_sets=0, _tables={})


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


# --- removing an imported file ------------------------------------------------------------------------

class NoSuchFile(LookupError):
    """An identifier that names no imported file, or more than one (the message says which)."""


@dataclass
class RemovedFile:
    sha: str
    path: str  # first_path
    status: str
    rows: dict[str, int]  # raw table -> rows deleted
    blob_deleted: bool = False
    blob_shared: bool = False  # kept: another athlete has the same file


def find_files(con: duckdb.DuckDBPyConnection, athlete_id: str, ident: str, *,
               table: str = "raw.fit_files") -> list[tuple[str, str]]:
    """(sha256, first_path) of the athlete's files that ``ident`` names: a SHA-256 (or a prefix of
    at least 8 hex digits), a path as imported (``first_path``), or its last part (a file name)."""
    ident = ident.strip()
    if len(ident) >= 8 and all(c in "0123456789abcdefABCDEF" for c in ident):
        rows = con.execute(f"SELECT file_sha256, first_path FROM {table} WHERE athlete_id = ? "
                           "AND starts_with(file_sha256, ?) ORDER BY file_sha256", [athlete_id, ident.lower()]).fetchall()
        if rows:
            return [(r[0], r[1]) for r in rows]
    rows = con.execute(f"SELECT file_sha256, first_path FROM {table} WHERE athlete_id = ? AND first_path = ?",
                       [athlete_id, ident]).fetchall()
    if not rows:
        rows = con.execute(
            f"SELECT file_sha256, first_path FROM {table} WHERE athlete_id = ? "
            "AND (ends_with(first_path, '/' || ?) OR ends_with(first_path, '!/' || ?)) ORDER BY first_path",
            [athlete_id, ident, ident]).fetchall()
    return [(r[0], r[1]) for r in rows]


def _one(con: duckdb.DuckDBPyConnection, athlete_id: str, ident: str, table: str, what: str) -> tuple[str, str]:
    found = find_files(con, athlete_id, ident, table=table)
    if not found:
        raise NoSuchFile(f"no {what} of athlete {athlete_id} matches {ident!r} (give its SHA-256, a prefix of "
                         "at least 8 hex digits, its path as imported or its file name)")
    if len(found) > 1:
        listed = "; ".join(f"{sha[:16]} {path}" for sha, path in found[:5])
        more = f" and {len(found) - 5} more" if len(found) > 5 else ""
        raise NoSuchFile(f"{ident!r} matches {len(found)} {what}s ({listed}{more}); give the SHA-256 of the one "
                         "to remove")
    return found[0]


def remove_files(con: duckdb.DuckDBPyConnection, blob_root: Path, athlete_id: str,
                 idents: list[str]) -> list[RemovedFile]:
    """Remove imported files: their rows in raw.fit_* in one transaction (all of them or none),
    remembered in ``ops.fit_removed_files`` so that later imports skip the same content; then their
    kept bytes, unless another athlete's file has the same content. Raises NoSuchFile (nothing
    removed) if an identifier names no file or several."""
    chosen: dict[str, str] = {}
    for ident in idents:
        sha, path = _one(con, athlete_id, ident, "raw.fit_files", "imported FIT file")
        chosen[sha] = path
    out: list[RemovedFile] = []
    now = utcnow()
    con.execute("BEGIN TRANSACTION")
    try:
        for sha, path in chosen.items():
            status = con.execute("SELECT status FROM raw.fit_files WHERE athlete_id = ? AND file_sha256 = ?",
                                 [athlete_id, sha]).fetchone()[0]  # type: ignore[index]
            rows = {}
            for t in (*CHILD_TABLES, "fit_files"):
                n = con.execute(f"DELETE FROM raw.{t} WHERE athlete_id = ? AND file_sha256 = ?",
                                [athlete_id, sha]).fetchone()
                rows[t] = int(n[0]) if n else 0
            con.execute("INSERT OR REPLACE INTO ops.fit_removed_files VALUES (?, ?, ?, ?)", [athlete_id, sha, path, now])
            out.append(RemovedFile(sha, path, status, rows))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    for item in out:
        shared = con.execute("SELECT count(*) FROM raw.fit_files WHERE file_sha256 = ?", [item.sha]).fetchone()
        item.blob_shared = bool(shared and shared[0])
        if not item.blob_shared:
            target = blob_root / blob_relpath(item.sha)
            try:
                target.unlink()
                item.blob_deleted = True
            except FileNotFoundError:
                pass
    return out


def readmit_files(con: duckdb.DuckDBPyConnection, athlete_id: str, idents: list[str]) -> list[tuple[str, str]]:
    """Forget that files were removed, so the next import of them imports them again."""
    chosen = dict(_one(con, athlete_id, ident, "ops.fit_removed_files", "removed FIT file") for ident in idents)
    for sha in chosen:
        con.execute("DELETE FROM ops.fit_removed_files WHERE athlete_id = ? AND file_sha256 = ?", [athlete_id, sha])
    return list(chosen.items())
