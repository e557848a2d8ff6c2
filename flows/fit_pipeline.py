"""FIT import as plain Python: connectors (find and decode files) wired to the warehouse (save).

The Prefect flow in :mod:`flows.import_fit` calls these functions from its tasks; tests call
them directly too. Progress goes through a callback so this module never imports a CLI library.
"""

from __future__ import annotations

import os
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_context
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from connectors.fit.decode import DecodedFit, FitDecoder, default_decoder
from connectors.fit.sources import FitSource, iter_sources
from warehouse import db as wdb
from warehouse.fit_loader import FileToSave, known_files, read_blob, save_fit, save_fits, sha256_hex, store_blob
from warehouse.lock import write_lock

Progress = Callable[[str, int], None]  # (path just handled, bytes of it)


@dataclass
class ImportSummary:
    files_seen: int = 0
    files_new: int = 0
    files_known: int = 0
    ok: int = 0
    partial: int = 0
    rejected: int = 0
    skipped: int = 0
    sessions: int = 0
    sets: int = 0
    records: int = 0
    bytes_read: int = 0
    seconds: float = 0.0
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (path, status, reason)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)

    def add(self, other: "ImportSummary") -> None:
        for name in ("files_seen", "files_new", "files_known", "ok", "partial", "rejected", "skipped",
                     "sessions", "sets", "records", "bytes_read", "seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.problems.extend(other.problems)
        self.unreadable.extend(other.unreadable)

    def count(self, decoded: DecodedFit, path: str) -> None:
        setattr(self, decoded.status, getattr(self, decoded.status) + 1)
        self.sessions += len(decoded.sessions)
        self.sets += sum(1 for s in decoded.sets if s["set_type"] == "active")
        self.records += decoded.n_records
        if decoded.status in ("partial", "rejected"):
            self.problems.append((path, decoded.status, decoded.error or ""))

    def lines(self) -> list[str]:
        mb = self.bytes_read / 1e6
        rate = mb / self.seconds if self.seconds > 0 else 0.0
        out = [
            f"files: {self.files_seen} seen, {self.files_new} new, {self.files_known} already known",
            f"new files: {self.ok} ok, {self.partial} partial, {self.rejected} rejected, {self.skipped} skipped",
            f"added: {self.sessions} sessions, {self.sets} active sets, {self.records} records",
            f"read {mb:.1f} MB in {self.seconds:.1f} s ({rate:.2f} MB/s)",
        ]
        out += [f"{status}: {path}: {reason}" for path, status, reason in self.problems]
        out += [f"unreadable: {path}: {reason}" for path, reason in self.unreadable]
        return out


def _record_run(con: duckdb.DuckDBPyConnection, run_id: str, athlete_id: str, source: str,
                started: object, s: ImportSummary) -> None:
    con.execute(
        "INSERT INTO ops.import_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [run_id, athlete_id, source, started, wdb.utcnow(), s.files_seen, s.files_new, s.files_known,
         s.ok, s.partial, s.rejected, s.skipped, s.sessions, s.sets, s.records, s.bytes_read])


def default_workers() -> int:
    """Decoding processes: env RUNLIFT_IMPORT_WORKERS, else one per core."""
    try:
        return max(1, int(os.environ.get("RUNLIFT_IMPORT_WORKERS", "0"))) if os.environ.get(
            "RUNLIFT_IMPORT_WORKERS") else max(1, os.cpu_count() or 1)
    except ValueError:
        return max(1, os.cpu_count() or 1)


INLINE_FIRST = 4  # a nightly inbox holds a few files: decode those inline, start processes only for more
BATCH_FILES = 64  # files written per transaction at most
BATCH_BYTES = 32 * 1024 * 1024
BATCH_SECONDS = 1.0  # and at least this often, so progress stays live and a kill loses little


def decode_and_keep(decoder: FitDecoder, data: bytes, blob_root: Path, sha: str,
                    error: str | None = None) -> tuple[DecodedFit, str]:
    """Decode one file and keep its original bytes in the blob store (runs in a worker process)."""
    decoded = (DecodedFit(status="rejected", error=error, decoder=decoder.name) if error
               else decoder.decode(data))
    # no fsync per blob: the importer syncs once per batch, before the batch's rows commit
    return decoded, store_blob(blob_root, sha, data, durable=False)


def import_sources(con: duckdb.DuckDBPyConnection, blob_root: Path, athlete_id: str,
                   sources: Iterable[FitSource], *, decoder: FitDecoder | None = None,
                   progress: Progress | None = None, workers: int | None = None) -> ImportSummary:
    """Import FIT sources into an open warehouse. Idempotent: known content is skipped.

    Files are decoded (and their bytes kept) in parallel on all cores, by a process pool with at
    most two files per process in flight so memory stays bounded, and written from this process in
    the order the sources came, several files per transaction (each file whole or absent).
    """
    decoder = decoder or default_decoder()
    workers = default_workers() if workers is None else max(1, workers)
    summary = ImportSummary()
    t0 = time.perf_counter()
    known = known_files(con, athlete_id)
    pending: deque[tuple[FitSource, str, Future[tuple[DecodedFit, str]] | tuple[DecodedFit, str]]] = deque()
    batch: list[FileToSave] = []
    batch_bytes = 0
    last_flush = time.perf_counter()
    pool: ProcessPoolExecutor | None = None
    decoded_count = 0

    def flush() -> None:
        nonlocal batch, batch_bytes, last_flush
        os.sync()  # the batch's kept bytes reach the disk before rows that point at them
        save_fits(con, athlete_id, batch)
        for item in batch:
            summary.files_new += 1
            summary.count(item.decoded, item.first_path)
            if progress:
                progress(item.first_path, item.size)
        batch, batch_bytes, last_flush = [], 0, time.perf_counter()

    def collect() -> None:
        nonlocal batch_bytes
        src, sha, job = pending.popleft()
        decoded, blob = job.result() if isinstance(job, Future) else job
        assert src.data is not None
        batch.append(FileToSave(sha, src.path, len(src.data), decoded, blob))
        batch_bytes += len(src.data)
        if (len(batch) >= BATCH_FILES or batch_bytes >= BATCH_BYTES
                or time.perf_counter() - last_flush >= BATCH_SECONDS):
            flush()

    try:
        for src in sources:
            if src.data is None:
                summary.unreadable.append((src.path, src.error or "unreadable"))
                if progress:
                    progress(src.path, 0)
                continue
            summary.files_seen += 1
            summary.bytes_read += len(src.data)
            sha = sha256_hex(src.data)
            if sha in known:
                summary.files_known += 1
                if progress:
                    progress(src.path, len(src.data))
                continue
            known.add(sha)  # a copy later in this run is already known
            job: Future[tuple[DecodedFit, str]] | tuple[DecodedFit, str]
            if workers > 1 and decoded_count >= INLINE_FIRST and not src.error:
                if pool is None:
                    pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"))
                job = pool.submit(decode_and_keep, decoder, src.data, blob_root, sha)
            else:
                job = decode_and_keep(decoder, src.data, blob_root, sha, src.error)
            decoded_count += 1
            pending.append((src, sha, job))
            while pending and (len(pending) > 2 * workers or not isinstance(pending[0][2], Future)
                               or pending[0][2].done()):
                collect()
        while pending:
            collect()
        if batch:
            flush()
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    summary.seconds = time.perf_counter() - t0
    return summary


def import_paths(db_path: Path, athlete_id: str, paths: Iterable[str | Path], *,
                 decoder: FitDecoder | None = None, progress: Progress | None = None,
                 workers: int | None = None, lock_timeout_s: float = 600.0) -> ImportSummary:
    """Open the warehouse (under the write lock) and import every FIT file under ``paths``.

    ``workers``: decoding processes (default: env RUNLIFT_IMPORT_WORKERS, else one per core).
    The processes are spawned, so a script of your own that calls this needs the usual
    ``if __name__ == "__main__":`` guard (or ``workers=1``); the runlift command and the Prefect
    flows have it.
    """
    with write_lock(db_path, lock_timeout_s):
        con = wdb.connect(db_path)
        # bounded memory whatever the archive size: DuckDB would otherwise cache up to 80 % of RAM
        con.execute("SET memory_limit = '512MB'")
        try:
            started = wdb.utcnow()
            summary = import_sources(con, wdb.blob_dir(db_path), athlete_id, iter_sources(paths),
                                     decoder=decoder, progress=progress, workers=workers)
            _record_run(con, uuid.uuid4().hex, athlete_id, "fit", started, summary)
            con.execute("CHECKPOINT")
        finally:
            con.close()
    return summary


def reprocess(db_path: Path, athlete_id: str | None = None, *, decoder: FitDecoder | None = None,
              progress: Progress | None = None, lock_timeout_s: float = 600.0) -> ImportSummary:
    """Decode every kept FIT file again from the blob store and replace its rows, file by file.

    Needs nothing but the warehouse and its ``.blobs`` folder; ``athlete_id`` None means all.
    """
    decoder = decoder or default_decoder()
    summary = ImportSummary()
    root = wdb.blob_dir(db_path)
    with write_lock(db_path, lock_timeout_s):
        con = wdb.connect(db_path)
        try:
            started = wdb.utcnow()
            t0 = time.perf_counter()
            where, params = ("WHERE athlete_id = ?", [athlete_id]) if athlete_id else ("", [])
            rows = con.execute(
                f"SELECT athlete_id, file_sha256, first_path, size_bytes, blob_path, status, error "
                f"FROM raw.fit_files {where} ORDER BY athlete_id, imported_at, file_sha256", params).fetchall()
            for aid, sha, first_path, size, blob_rel, old_status, old_error in rows:
                path = root / blob_rel
                if not path.exists():
                    summary.unreadable.append((first_path, f"kept bytes missing: {path}"))
                    continue
                data = read_blob(root, blob_rel)
                summary.files_seen += 1
                summary.bytes_read += len(data)
                if sha256_hex(data) != sha:
                    summary.unreadable.append((first_path, f"kept bytes corrupt (sha256 mismatch): {path}"))
                    continue
                if old_status == "rejected" and data[:2] == b"\x1f\x8b":  # a broken .fit.gz, kept as read
                    decoded = DecodedFit(status="rejected", error=old_error, decoder=decoder.name)
                else:
                    decoded = decoder.decode(data)
                save_fit(con, athlete_id=aid, sha=sha, first_path=first_path, size=size, decoded=decoded,
                         blob_rel=blob_rel, replace=True)
                summary.count(decoded, first_path)
                if progress:
                    progress(first_path, len(data))
            summary.seconds = time.perf_counter() - t0
            _record_run(con, uuid.uuid4().hex, athlete_id or "*", "fit-reprocess", started, summary)
            con.execute("CHECKPOINT")
        finally:
            con.close()
    return summary
