"""Saving decoded FIT files: the content-addressed blob store and idempotent, per-file loads.

Each file's rows (``raw.fit_files`` and its sessions, laps, sets and records) are written in one
transaction, keyed by (athlete_id, file_sha256): a file is either wholly present or absent,
whatever moment a kill -9 strikes. Columns are bulk-inserted from Arrow tables, never row by row.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import duckdb
import numpy as np
import pyarrow as pa

from runlift.warehouse import db as wdb
from runlift.warehouse.db import scalar, utcnow

#: the raw tables that hold a FIT file's rows, each keyed by (athlete_id, file_sha256)
CHILD_TABLES = ("fit_sessions", "fit_laps", "fit_sets", "fit_records", "fit_weights")


class FitTables(Protocol):
    """What the loader takes from a decoder (connectors/fit/arrow.py's ArrowFit is one): the facts
    of one file and its rows as Arrow tables named after the raw tables, columns named as there."""

    status: str
    error: str | None
    decoder: str
    file: dict[str, Any]  # columns of raw.fit_files about the file itself (file_type, manufacturer, ...)
    utc_offset_s: int | None
    n_sessions: int
    n_laps: int
    n_sets: int
    n_records: int
    active_sets: int
    dq: list[str]
    tables: dict[str, pa.Table]  # raw table (CHILD_TABLES) -> its rows, without athlete_id / file_sha256


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


I4, STR, TS = pa.int32(), pa.string(), pa.timestamp("us")
# The columns of raw.fit_files that the import itself fills; the file's own columns (file_type,
# manufacturer, ...) come from the decoder, by name.
FILES_SCHEMA = pa.schema([
    ("file_sha256", STR), ("first_path", STR), ("size_bytes", pa.int64()),
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
    n_weights: int = 0  # rows for raw.fit_weights (scale measurements of a weight file)
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
            data = None if path else sink.getvalue().to_pybytes()
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


def prepare(sha: str, fit: FitTables) -> PreparedFit:
    """A decoded file's tables keyed by ``sha`` (a ``file_sha256`` column in front)."""
    tables = {name: tbl.add_column(0, "file_sha256", _sha_column(sha, tbl.num_rows))
              for name, tbl in fit.tables.items() if tbl.num_rows}
    return PreparedFit(
        sha=sha, status=fit.status, error=fit.error, decoder=fit.decoder, file=dict(fit.file),
        utc_offset_s=fit.utc_offset_s, n_sessions=fit.n_sessions, n_laps=fit.n_laps, n_sets=fit.n_sets,
        n_records=fit.n_records, active_sets=fit.active_sets, dq=list(fit.dq),
        n_weights=tables["fit_weights"].num_rows if "fit_weights" in tables else 0, _tables=tables)


def failed(sha: str, decoder: str, reason: str) -> PreparedFit:
    """A file that could not be turned into rows (a bug or a case nobody foresaw): recorded as
    ``rejected`` with ``reason``, without rows, so the rest of the import goes on."""
    return PreparedFit(sha=sha, status="rejected", error=reason, decoder=decoder,
                       file={}, utc_offset_s=None, n_sessions=0, n_laps=0, n_sets=0,
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
        con.execute(f"INSERT INTO raw.{table} BY NAME SELECT ?::VARCHAR AS athlete_id, * FROM _rl_batch",
                    [athlete_id])
    except BaseException:
        # after a failed statement the transaction is aborted and unregister raises too
        # ("Current transaction is aborted"): the first error is the one to report (disk full, ...)
        with contextlib.suppress(duckdb.Error):
            con.unregister("_rl_batch")
        raise
    con.unregister("_rl_batch")


def _file_row(it: FileToSave, now: Any) -> dict[str, Any]:
    p = it.prepared
    return {"file_sha256": it.sha, "first_path": it.first_path, "size_bytes": it.size,
            "status": p.status, "error": p.error, "utc_offset_s": p.utc_offset_s, "n_sessions": p.n_sessions,
            "n_laps": p.n_laps, "n_sets": p.n_sets, "n_records": p.n_records, "decoder": p.decoder,
            "blob_path": it.blob_rel, "imported_at": now}


def _files_table(items: list[FileToSave], now: Any) -> pa.Table:
    """The raw.fit_files rows: the import's own columns, typed here, and the decoder's file columns
    as they come (inserted by name; a file without them, e.g. a failed one, gets NULL)."""
    tbl = pa.Table.from_pylist([_file_row(it, now) for it in items], schema=FILES_SCHEMA)
    names = list(dict.fromkeys(k for it in items for k in it.prepared.file))
    for name in names:
        if name in FILES_SCHEMA.names:
            raise ValueError(f"the decoder's file column {name!r} is one the import fills itself")
        values = [it.prepared.file.get(name) for it in items]
        tbl = tbl.append_column(name, pa.array(values))
    return tbl


@wdb.retry_conflicts
def save_fits(con: duckdb.DuckDBPyConnection, athlete_id: str, items: list[FileToSave], *,
              replace: bool = False, also: Callable[[duckdb.DuckDBPyConnection], None] | None = None) -> None:
    """Write decoded files in one transaction: each file wholly present or wholly absent, whatever
    moment a kill strikes. ``replace`` swaps out the files' earlier rows (reprocessing). ``also``
    writes more in the same transaction (a source's cursor: the file and the cursor commit together).

    Several files per transaction (one bulk insert per table) cost far less than a commit per file.
    """
    if not items:
        return
    now = utcnow()
    files = _files_table(items, now)
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
        if also is not None:
            also(con)
        con.execute("COMMIT")
    except BaseException:
        # (ROLLBACK can fail: e.g. a COMMIT that failed writing has ended the transaction: keep its error)
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
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
                           "AND starts_with(file_sha256, ?) ORDER BY file_sha256",
                           [athlete_id, ident.lower()]).fetchall()
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


@wdb.retry_conflicts
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
            status = scalar(con, "SELECT status FROM raw.fit_files WHERE athlete_id = ? AND file_sha256 = ?",
                            [athlete_id, sha])
            rows = {}
            for t in (*CHILD_TABLES, "fit_files"):
                n = con.execute(f"DELETE FROM raw.{t} WHERE athlete_id = ? AND file_sha256 = ?",
                                [athlete_id, sha]).fetchone()
                rows[t] = int(n[0]) if n else 0
            wdb.upsert(con, "ops.fit_removed_files", ("athlete_id", "file_sha256"),
                       "SELECT ?::VARCHAR AS athlete_id, ?::VARCHAR AS file_sha256, ?::VARCHAR AS first_path, "
                       "?::TIMESTAMP AS removed_at", [athlete_id, sha, path, now])
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


@wdb.retry_conflicts
def readmit_files(con: duckdb.DuckDBPyConnection, athlete_id: str, idents: list[str]) -> list[tuple[str, str]]:
    """Forget that files were removed, so the next import of them imports them again.

    The athlete's files seen whole (``ops.fit_seen_files``) are forgotten too: the next import
    reads every file again, so it finds the readmitted content in whichever file holds it."""
    chosen = dict(_one(con, athlete_id, ident, "ops.fit_removed_files", "removed FIT file") for ident in idents)
    con.execute("BEGIN TRANSACTION")
    try:
        for sha in chosen:
            con.execute("DELETE FROM ops.fit_removed_files WHERE athlete_id = ? AND file_sha256 = ?",
                        [athlete_id, sha])
        con.execute("DELETE FROM ops.fit_seen_files WHERE athlete_id = ?", [athlete_id])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return list(chosen.items())


# --- files on disk already read whole (ops.fit_seen_files) -----------------------------------------

# (size_bytes, mtime_ns, ctime_ns, inode): a file whose stamp is unchanged is not read again
StampKey = tuple[int, int, int, int]


@dataclass(frozen=True)
class SeenFile:
    key: StampKey
    fit_files: int  # FIT files in it
    fit_bytes: int  # their bytes, uncompressed


def seen_files(con: duckdb.DuckDBPyConnection, athlete_id: str) -> dict[str, SeenFile]:
    """The athlete's files read whole by an earlier import, by absolute path."""
    rows = con.execute("SELECT path, size_bytes, mtime_ns, ctime_ns, inode, fit_files, fit_bytes "
                       "FROM ops.fit_seen_files WHERE athlete_id = ?", [athlete_id]).fetchall()
    return {r[0]: SeenFile((r[1], r[2], r[3], r[4]), r[5], r[6]) for r in rows}


def record_seen_files(con: duckdb.DuckDBPyConnection, athlete_id: str,
                      files: dict[str, SeenFile]) -> None:
    """Remember files read whole, every FIT file in them imported or known (replacing older stamps)."""
    if not files:
        return
    cols = list(zip(*[(path, *f.key, f.fit_files, f.fit_bytes) for path, f in files.items()], strict=True))
    table = pa.table({name: pa.array(col, type=STR if name == "path" else pa.int64())
                      for name, col in zip(("path", "size_bytes", "mtime_ns", "ctime_ns", "inode", "fit_files",
                                            "fit_bytes"), cols, strict=True)})
    con.register("_rl_seen", table)
    try:
        wdb.upsert(con, "ops.fit_seen_files", ("athlete_id", "path"),
                   "SELECT ?::VARCHAR AS athlete_id, path, size_bytes, mtime_ns, ctime_ns, inode, fit_files, "
                   "fit_bytes, ?::TIMESTAMP AS recorded_at FROM _rl_seen", [athlete_id, utcnow()])
    finally:
        con.unregister("_rl_seen")
