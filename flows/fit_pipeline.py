"""FIT import as plain Python: connectors (find and decode files) wired to the warehouse (save).

The Prefect flow in :mod:`flows.import_fit` calls these functions from its tasks; tests call
them directly too. Progress goes through a callback so this module never imports a CLI library.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import multiprocessing
import multiprocessing.connection
import os
import re
import shutil
import tempfile
import threading
import time
import uuid
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import duckdb

from runlift.connectors.fit.arrow import to_arrow
from runlift.connectors.fit.contract import DecodedFit, FitDecoder
from runlift.connectors.fit.decode import default_decoder
from runlift.connectors.fit.limits import too_many_messages
from runlift.connectors.fit.sources import FileStamp, FitSource, UnpackError, iter_sources
from runlift.warehouse import db as wdb
from runlift.warehouse import queries
from runlift.warehouse.fit_loader import (
    FileToSave,
    PreparedFit,
    SeenFile,
    blob_relpath,
    failed,
    known_files,
    prepare,
    read_blob,
    record_seen_files,
    save_fits,
    seen_files,
    sha256_hex,
    store_blob,
    sweep_orphan_blobs,
)
from runlift.warehouse.lock import writer

Progress = Callable[[str, int], None]  # (path just handled, bytes of it)
log = logging.getLogger("runlift.import")

UNGUARDED = ("runlift's FIT import was called while a spawned decoding process was loading your script: "
             "put the call under `if __name__ == \"__main__\":` (or pass workers=1)")
POOL_BROKEN = ("the decoding processes stopped ({why}); the rest was decoded in this process. If you call "
               "import_paths from a script of your own, put the call under `if __name__ == \"__main__\":` "
               "(the processes are spawned and load your script) or pass workers=1")


@dataclass
class ImportSummary:
    files_seen: int = 0
    files_new: int = 0
    files_known: int = 0
    files_unchanged: int = 0  # of files_known: in files on disk unchanged since an import read them, not read
    ok: int = 0
    partial: int = 0
    rejected: int = 0
    skipped: int = 0
    sessions: int = 0
    sets: int = 0
    records: int = 0
    weights: int = 0  # scale measurements (weight files)
    bytes_read: int = 0
    seconds: float = 0.0
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (path, status, reason)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    flagged: list[tuple[str, str]] = field(default_factory=list)  # (path, data-quality reasons)
    notes: list[str] = field(default_factory=list)  # how the run went, when it matters
    skipped_reasons: dict[str, int] = field(default_factory=dict)  # why new files were skipped -> how many

    def add(self, other: ImportSummary) -> None:
        for name in ("files_seen", "files_new", "files_known", "files_unchanged", "ok", "partial", "rejected",
                     "skipped", "sessions", "sets", "records", "weights", "bytes_read", "seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.problems.extend(other.problems)
        self.unreadable.extend(other.unreadable)
        self.flagged.extend(other.flagged)
        self.notes.extend(n for n in other.notes if n not in self.notes)
        for reason, n in other.skipped_reasons.items():
            self.skipped_reasons[reason] = self.skipped_reasons.get(reason, 0) + n

    def count(self, prepared: PreparedFit, path: str) -> None:
        setattr(self, prepared.status, getattr(self, prepared.status) + 1)
        self.sessions += prepared.n_sessions
        self.sets += prepared.active_sets
        self.records += prepared.n_records
        self.weights += prepared.n_weights
        if prepared.status in ("partial", "rejected"):
            self.problems.append((path, prepared.status, prepared.error or ""))
        elif prepared.status == "skipped":
            reason = prepared.error or "no reason given"
            self.skipped_reasons[reason] = self.skipped_reasons.get(reason, 0) + 1
        if prepared.dq:
            self.flagged.append((path, "; ".join(prepared.dq)))

    def lines(self) -> list[str]:
        mb = self.bytes_read / 1e6
        rate = mb / self.seconds if self.seconds > 0 else 0.0
        out = [
            f"files: {self.files_seen} seen, {self.files_new} new, {self.files_known} already known"
            + (f" ({self.files_unchanged} of them in {'a file' if self.files_unchanged == 1 else 'files'} "
               "unchanged since an import read them, not read again)" if self.files_unchanged else ""),
            f"new files: {self.ok} ok, {self.partial} partial, {self.rejected} rejected, {self.skipped} skipped",
            *(["skipped, not workouts: " + ", ".join(f"{n} {shown(r, 120)}" for r, n in
                                                      sorted(self.skipped_reasons.items(), key=lambda x: -x[1]))]
              if self.skipped_reasons else []),
            f"added: {self.sessions} sessions, {self.sets} active sets, {self.records} records"
            + (f", {self.weights} scale measurements" if self.weights else ""),
            f"read {mb:.1f} MB in {self.seconds:.1f} s ({rate:.2f} MB/s)",
        ]
        out += self.problem_lines()
        out += [f"note: {shown(n, 1000)}" for n in self.notes]
        return out

    def problem_lines(self) -> list[str]:
        """One line per file with a problem or a data-quality flag; past LISTED_MAX of them, one line
        per kind of problem (a count and a few examples). Paths and reasons are escaped (a control
        character never splits a line) and shortened (``shown``)."""
        items = ([(status, path, reason) for path, status, reason in self.problems]
                 + [("unreadable", path, reason) for path, reason in self.unreadable]
                 + [("flagged", path, reason) for path, reason in self.flagged])
        if len(items) <= LISTED_MAX:
            return [f"{status}: {shown(path)}: {shown(reason, REASON_MAX)}" for status, path, reason in items]
        groups: dict[tuple[str, str], list[str]] = {}
        for status, path, reason in items:
            groups.setdefault((status, reason_kind(reason)), []).append(path)
        out = []
        for (status, kind), paths in list(groups.items())[:LISTED_MAX]:
            examples = "; ".join(shown(p, 80) for p in paths[:EXAMPLES])
            more = f" (and {len(paths) - EXAMPLES} more)" if len(paths) > EXAMPLES else ""
            out.append(f"{status}: {len(paths)} file{'s' if len(paths) > 1 else ''}: {shown(kind, 120)}: "
                       f"e.g. {examples}{more}")
        if len(groups) > LISTED_MAX:
            out.append(f"... and {len(groups) - LISTED_MAX} more kinds of problem")
        out.append("every file's status and reason: runlift sql --working \"SELECT first_path, status, error "
                   "FROM raw.fit_files WHERE status IN ('partial', 'rejected')\"")
        return out


LISTED_MAX = 20  # problem lines listed one by one; beyond, they are summarised by kind
EXAMPLES = 3  # example paths per kind of problem
PATH_MAX = 160  # characters of a path shown (the middle is elided)
REASON_MAX = 400


def shown(text: str, limit: int = PATH_MAX) -> str:
    """``text`` for one line of a report: control and other invisible characters escaped (``\\n``,
    ``\\x1b``, ``\\u202e``), the middle elided beyond ``limit`` characters."""
    if not text.isprintable():
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    if len(text) > limit:
        keep = limit - 20
        outer = text.find("!/") + 2  # an archive's own path is worth keeping whole
        head = outer if 2 <= outer <= keep * 2 // 3 else keep // 3
        tail = keep - head
        text = f"{text[:head]}...({len(text) - head - tail} chars)...{text[-tail:]}"
    return text


def reason_kind(reason: str) -> str:
    """What kind of problem a reason is: its text before the first detail ("file CRC mismatch
    (CRC Mismatch [computed: ...])" -> "file CRC mismatch"; "session 0: total_distance_m = 1e+298
    outside [0, 2e+06]" -> "total_distance_m")."""
    reason = re.sub(r"^(session|set|weight) \d+: ", "", reason)
    return re.split(r" \(|: |; | = ", reason, maxsplit=1)[0] or "no reason given"


def _record_run(con: duckdb.DuckDBPyConnection, run_id: str, athlete_id: str, source: str,
                started: dt.datetime, s: ImportSummary) -> None:
    queries.record_import_run(con, run_id, athlete_id, source, started, queries.ImportRunCounts(
        s.files_seen, s.files_new, s.files_known, s.ok, s.partial, s.rejected, s.skipped, s.sessions, s.sets,
        s.records, s.bytes_read))


def default_workers() -> int:
    """Decoding processes: env RUNLIFT_IMPORT_WORKERS, else one per core."""
    cores = max(1, os.cpu_count() or 1)
    value = os.environ.get("RUNLIFT_IMPORT_WORKERS")
    try:
        return max(1, int(value)) if value else cores
    except ValueError:
        return cores


INLINE_FIRST = 4  # a nightly inbox holds a few files: decode those inline, start processes only for more
# Files written per transaction at most. Big transactions are far cheaper in DuckDB: a
# transaction's rows fill whole row groups (122,880 rows) that are compressed and written once,
# while what is left over goes through the write-ahead log (measured: 32 files of 1 h runs per
# commit cost twice as much per row as 256).
BATCH_FILES = 256
BATCH_BYTES = 32 * 1024 * 1024  # FIT bytes per transaction at most
BATCH_RECORDS = 8 * 122_880  # records per transaction at most (~100 MB of Arrow tables)
BATCH_SECONDS = 2.0  # and at least this often, so progress stays live and a kill loses little
# Files in flight to the decoding processes: enough to keep them busy while this process writes
# a batch (~0.5 s), few enough that memory stays bounded (their bytes and tables are held).
IN_FLIGHT_FILES = 128
IN_FLIGHT_BYTES = 32 * 1024 * 1024
# Decoded records waiting for the writer at most (their Arrow tables, ~90 bytes a record, are held
# in RAM): a FIT message can be 1 byte, so bytes in flight alone do not bound the tables.
IN_FLIGHT_RECORDS = 4 * 122_880
# FIT bytes queued to or being decoded by each process at most (beyond two files each): their
# decoded tables land in RAM (/dev/shm) as they finish, up to ~90 bytes per byte of a hostile
# file of 1-byte messages (~3 for real ones). 2 MiB is ~25 one-hour runs, enough to keep a process
# busy while the importer writes a batch.
QUEUED_BYTES_PER_WORKER = 2 * 1024 * 1024


@dataclass
class Outcome:
    """What became of one source in a decoding process: new (prepared), known, or unreadable."""

    kind: str
    sha: str = ""
    prepared: PreparedFit | None = None
    blob_rel: str = ""
    reason: str = ""
    blob_new: bool = False  # this run wrote the blob (it is removed again if the rows never commit)


_KNOWN: frozenset[str] = frozenset()  # in a decoding process: files the warehouse had at pool start


def _init_worker(known: frozenset[str]) -> None:
    global _KNOWN
    _KNOWN = known
    # A decoding process outlives a killed importer otherwise (it waits on a queue whose other end
    # its sibling processes keep open): leave as soon as the parent is gone.
    parent = multiprocessing.parent_process()
    if parent is not None and parent.sentinel is not None:
        threading.Thread(target=_exit_with_parent, args=(parent.sentinel,), daemon=True,
                         name="runlift-parent-watch").start()


def _exit_with_parent(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(1)


def handle(decoder: FitDecoder, blob_root: Path, src: FitSource, known: set[str] | frozenset[str] | None = None,
           *, spill: bool = False, scratch: str | None = None) -> Outcome:
    """Everything one file needs short of writing rows (runs in a decoding process, or inline).

    Inflate (a packed zip member), hash, skip content already ``known``, decode, keep the
    original bytes in the blob store (a zip member's own deflate stream, not compressed again),
    and build the Arrow tables the writer inserts; ``spill`` readies them to cross to the writer
    (as a file in ``scratch``, else as bytes). The writer stays the one authority on what is
    new: it checks every outcome against the files it has written.
    """
    try:
        data = src.content()
    except UnpackError as exc:
        return Outcome("unreadable", reason=str(exc))
    except Exception as exc:  # whatever else reading one file raises, the next file is read
        return Outcome("unreadable", reason=crash_reason("reading", exc))
    sha = sha256_hex(data)
    if sha in (_KNOWN if known is None else known):
        return Outcome("known", sha)
    # Every step of one file is guarded: whatever a crafted file makes a step raise, that file is
    # recorded (rejected, with the step and the error) and the import goes on with the next one.
    try:
        # a file over the message cap is not decoded: decoding costs memory per message
        refused = src.error or too_many_messages(data)
        decoded = (DecodedFit(status="rejected", error=refused, decoder=decoder.name) if refused
                   else decoder.decode(data))
    except Exception as exc:
        decoded = DecodedFit(status="rejected", error=crash_reason("decoding", exc), decoder=decoder.name)
    gz = src.packed.gzip_bytes() if src.packed is not None else None
    existed = (blob_root / blob_relpath(sha)).exists()
    # no fsync per blob: the importer syncs once per batch, before the batch's rows commit
    blob = store_blob(blob_root, sha, data, durable=False, gz=gz)
    try:
        prepared = prepare(sha, to_arrow(decoded))
    except Exception as exc:
        prepared = failed(sha, decoded.decoder, crash_reason("building its rows", exc))
    if spill:
        prepared.spill(Path(scratch) / f"{sha}-{uuid.uuid4().hex[:8]}.arrows" if scratch else None)
    return Outcome("new", sha, prepared, blob, blob_new=not existed)


def crash_reason(step: str, exc: BaseException) -> str:
    """The recorded reason of a file whose import step raised (one line, bounded)."""
    text = " ".join(str(exc).split())
    return f"import error while {step}: {type(exc).__name__}: {text[:300]}"


def save_each(con: duckdb.DuckDBPyConnection, athlete_id: str, batch: list[FileToSave], *,
              replace: bool = False, also: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
              ) -> list[tuple[FileToSave, str]]:
    """save_fits, and when the batch fails, file by file: a file whose rows cannot be written is
    recorded as rejected with the reason (its rows left out), the others are written. Reprocessing
    (``replace``) leaves such a file's earlier rows as they were instead; those files are returned
    with the reason. An error that even a bare row cannot get past (a full disk) is raised."""
    try:
        save_fits(con, athlete_id, batch, replace=replace, also=also)
        return []
    except Exception as exc:
        if _not_the_files_fault(exc):
            raise
    kept: list[tuple[FileToSave, str]] = []
    for item in batch:
        try:
            save_fits(con, athlete_id, [item], replace=replace)
        except Exception as exc:
            if _not_the_files_fault(exc):
                raise
            why = crash_reason("writing its rows", exc)
            if replace:
                kept.append((item, why))
                continue
            item.prepared = failed(item.sha, item.prepared.decoder, why)
            save_fits(con, athlete_id, [item], replace=replace, also=also)
    return kept


def import_one(con: duckdb.DuckDBPyConnection, blob_root: Path, athlete_id: str, src: FitSource,
               summary: ImportSummary, known: set[str], *, decoder: FitDecoder | None = None,
               also: Callable[[duckdb.DuckDBPyConnection, Outcome], None] | None = None) -> Outcome:
    """Import one file that came some other way than a folder (a download), in this process.

    The same steps as :func:`import_sources` (known content skipped, the bytes kept, the rows
    written whole or not at all) for one file, with ``also`` writing more in the transaction of
    the file's rows, or in a transaction of its own when the file adds no rows (known, unreadable).
    ``known`` (the warehouse's files) grows by the file.
    """
    out = handle(decoder or default_decoder(), blob_root, src, known)
    if out.kind == "new":
        assert out.prepared is not None
        summary.files_seen += 1
        summary.bytes_read += src.size
        blob = blob_root / out.blob_rel
        with open(blob, "rb") as fh:  # the kept bytes reach the disk before the rows that point at them
            os.fsync(fh.fileno())
        item = FileToSave(out.sha, src.path, src.size, out.prepared, out.blob_rel)
        try:
            save_each(con, athlete_id, [item], also=(lambda c: also(c, out)) if also else None)
        except BaseException:
            if out.blob_new:
                blob.unlink(missing_ok=True)
            raise
        known.add(out.sha)
        summary.files_new += 1
        summary.count(out.prepared, src.path)
        return out
    if out.kind == "known":
        summary.files_seen += 1
        summary.files_known += 1
    else:
        summary.unreadable.append((src.path, out.reason))
    if also is not None:
        con.execute("BEGIN TRANSACTION")
        try:
            also(con, out)
            con.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            raise
    return out


def _not_the_files_fault(exc: BaseException) -> bool:
    """Errors of the machine, not of a file's rows (a full disk, no memory, I/O): they stop the
    import instead of being recorded against one file. DuckDB reports a full disk under several
    exception types, so its text counts too."""
    if isinstance(exc, (duckdb.IOException, duckdb.FatalException, OSError, MemoryError)):
        return True
    text = str(exc)
    return "No space left on device" in text or "Out of Memory" in text or "I/O Error" in text


SCRATCH_PREFIX = "runlift-import-"


def _scratch_dir() -> str | None:
    """A private RAM-backed folder for decoded tables on their way to the writer, or None.

    Folders left by a killed import (their process is gone) are removed first.
    """
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK | os.X_OK)):
        return None  # no RAM-backed folder: the tables cross the pipe as bytes
    for old in shm.glob(f"{SCRATCH_PREFIX}*"):
        m = re.match(rf"{SCRATCH_PREFIX}(\d+)-", old.name)
        if m and old.is_dir() and old.stat().st_uid == os.getuid() and not _alive(int(m.group(1))):
            shutil.rmtree(old, ignore_errors=True)
    try:
        return tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-", dir=shm)  # mode 0700
    except OSError:
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True  # running (or running as another user: PermissionError)


def import_sources(con: duckdb.DuckDBPyConnection, blob_root: Path, athlete_id: str,
                   sources: Iterable[FitSource], *, decoder: FitDecoder | None = None,
                   progress: Progress | None = None, workers: int | None = None,
                   replace: bool = False, on_disk: dict[str, SeenFile] | None = None) -> ImportSummary:
    """Import FIT sources into an open warehouse. Idempotent: known content is skipped.

    Files are inflated, hashed, decoded, kept and turned into Arrow tables in parallel on all
    cores, by a process pool with at most IN_FLIGHT_FILES / IN_FLIGHT_BYTES in flight so memory
    stays bounded; this process only reads the sources and writes, in the order the sources came,
    several files per transaction (each file whole or absent). ``sources`` may hold packed zip
    members (``iter_sources(..., packed=True)``): the decoding processes inflate them.
    ``replace``: every source is decoded again and replaces the rows of the same content
    (reprocessing the kept bytes); nothing counts as known, nothing as new.
    ``on_disk``: the files on disk read whole by earlier imports (``ops.fit_seen_files``); a source
    ``unchanged`` stands for one of them (counted as known, not read). Given, the files this run
    reads whole, every FIT file in them written or known and none unreadable, are recorded there
    at the end, when their stamp has not changed meanwhile (``FileStamp.still_same``).
    """
    chosen_decoder = decoder

    def the_decoder() -> FitDecoder:  # made when a file is read first (a night with nothing new reads none)
        nonlocal chosen_decoder
        if chosen_decoder is None:
            chosen_decoder = default_decoder()
        return chosen_decoder

    workers = default_workers() if workers is None else max(1, workers)
    summary = ImportSummary()
    t0 = time.perf_counter()
    seen = set() if replace else known_files(con, athlete_id)  # in the warehouse, or written by this run
    pending: deque[tuple[FitSource, Future[Outcome] | Outcome]] = deque()
    batch: list[FileToSave] = []
    batch_bytes = batch_records = 0
    in_flight_bytes = 0
    last_flush = time.perf_counter()
    pool: ProcessPoolExecutor | None = None
    pool_broken = False
    scratch: str | None = None
    decoded_count = 0
    # blobs this run wrote whose rows are not committed yet: removed if the run fails (disk full,
    # a writer error), so no kept bytes are left without rows
    unsaved_blobs: set[str] = set()
    saved_blobs: set[str] = set()
    # files on disk this run reads. Each opening of a file stamps it anew (a new FileStamp object),
    # so a file read twice in one run (a folder given twice) counts its FIT files from one reading:
    # id(stamp) -> [stamp, FIT files, FIT bytes]; absolute path -> its latest stamp; paths with an
    # unreadable part (not vouched for)
    readings: dict[int, list[Any]] = {}
    latest: dict[str, FileStamp] = {}
    spoiled: set[str] = set()
    last_origin: FileStamp | None = None

    def spoil(src: FitSource) -> None:
        if src.origin is not None:
            spoiled.add(src.origin.path)

    def flush() -> None:
        nonlocal batch, batch_bytes, batch_records, last_flush
        if not replace:  # (reprocessing writes no blobs: they are what it reads)
            os.sync()  # the batch's kept bytes reach the disk before rows that point at them
        left = save_each(con, athlete_id, batch, replace=replace)
        for item, why in left:
            summary.unreadable.append((item.first_path, f"{why}; its earlier rows were left as they were"))
        for item in batch:
            saved_blobs.add(item.blob_rel)
            unsaved_blobs.discard(item.blob_rel)
        for item in batch:
            if any(item is it for it, _ in left):
                continue
            summary.files_new += not replace
            summary.count(item.prepared, item.first_path)
            if progress:
                progress(item.first_path, item.size)
        batch, batch_bytes, batch_records, last_flush = [], 0, 0, time.perf_counter()

    def held() -> tuple[int, int, int]:
        """Files and their bytes queued or being decoded, and records decoded but not yet collected."""
        running = running_bytes = records = 0
        for src, job in pending:
            out: Outcome | None = None
            if isinstance(job, Future):
                if not job.done():
                    running += 1
                    running_bytes += src.size
                    continue
                if job.exception() is None:
                    out = job.result()
            else:
                out = job
            if out is not None and out.prepared is not None:
                records += out.prepared.n_records
        return running, running_bytes, records

    def full() -> bool:
        if len(pending) <= 2 * workers:
            return False
        if len(pending) > IN_FLIGHT_FILES or in_flight_bytes > IN_FLIGHT_BYTES:
            return True
        running, running_bytes, records = held()
        return ((running >= 2 * workers and running_bytes > QUEUED_BYTES_PER_WORKER * workers)
                or records > IN_FLIGHT_RECORDS)

    def broken(exc: BaseException) -> None:
        nonlocal pool, pool_broken
        pool_broken = True
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
            pool = None
        note = POOL_BROKEN.format(why=str(exc).split(".")[0] or type(exc).__name__)
        if note not in summary.notes:
            summary.notes.append(note)
            log.warning(note)

    def collect() -> None:
        nonlocal batch_bytes, batch_records, in_flight_bytes
        src, job = pending.popleft()
        in_flight_bytes -= src.size
        if isinstance(job, Future):
            try:
                out = job.result()
            except BrokenProcessPool as exc:  # e.g. a caller's script without the __main__ guard
                broken(exc)
                out = handle(the_decoder(), blob_root, src, seen)
            except Exception as exc:  # the file's outcome could not come back (e.g. not picklable): redo it here
                if _not_the_files_fault(exc):  # a full disk is not cured by decoding the file again here
                    raise
                log.warning("decoding process failed on %s (%s); decoding it here", shown(src.path), exc)
                out = handle(the_decoder(), blob_root, src, seen)
        else:
            out = job
        if out.kind == "unreadable":
            summary.unreadable.append((src.path, out.reason))
            spoil(src)
            if progress:
                progress(src.path, 0)
            return
        summary.files_seen += 1
        summary.bytes_read += src.size
        if src.origin is not None and id(src.origin) in readings:
            readings[id(src.origin)][1] += 1
            readings[id(src.origin)][2] += src.size
        if out.kind == "known" or out.sha in seen:  # a copy earlier in this run is known too
            if out.prepared is not None:
                out.prepared.discard()
            summary.files_known += 1
            if progress:
                progress(src.path, src.size)
            return
        seen.add(out.sha)
        assert out.prepared is not None
        if out.blob_new:
            unsaved_blobs.add(out.blob_rel)
        batch.append(FileToSave(out.sha, src.path, src.size, out.prepared, out.blob_rel))
        batch_bytes += src.size
        batch_records += out.prepared.n_records
        if (len(batch) >= BATCH_FILES or batch_bytes >= BATCH_BYTES or batch_records >= BATCH_RECORDS
                or time.perf_counter() - last_flush >= BATCH_SECONDS):
            flush()

    try:
        for src in sources:
            if src.unchanged and on_disk is not None and src.origin is not None and src.origin.path in on_disk:
                known_file = on_disk[src.origin.path]
                summary.files_seen += known_file.fit_files
                summary.files_known += known_file.fit_files
                summary.files_unchanged += known_file.fit_files
                if progress:
                    progress(src.path, 0)
                continue
            if on_disk is not None and src.origin is not None and src.origin is not last_origin:
                last_origin = src.origin  # the next file on disk (or the same one again)
                readings[id(last_origin)] = [last_origin, 0, 0]
                latest[last_origin.path] = last_origin
            if src.data is None and src.packed is None:
                spoil(src)
                summary.unreadable.append((src.path, src.error or "unreadable"))
                if progress:
                    progress(src.path, 0)
                continue
            job: Future[Outcome] | Outcome | None = None
            if workers > 1 and decoded_count >= INLINE_FIRST and not src.error and not pool_broken:
                if pool is None:
                    scratch = _scratch_dir()
                    pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"),
                                               initializer=_init_worker, initargs=(frozenset(seen),))
                try:
                    job = pool.submit(handle, the_decoder(), blob_root, src, spill=True, scratch=scratch)
                    decoded_count += 1
                except BrokenProcessPool as exc:
                    broken(exc)
            if job is None:
                job = handle(the_decoder(), blob_root, src, seen)
                decoded_count += job.kind == "new"
            pending.append((src, job))
            in_flight_bytes += src.size
            while pending and (full() or not isinstance(pending[0][1], Future) or pending[0][1].done()):
                collect()
        while pending:
            collect()
        if batch:
            flush()
        if on_disk is not None:  # every file's rows are committed: the files read whole can be vouched for
            record_seen_files(con, athlete_id, {
                path: SeenFile(_stamp_key(stamp), readings[id(stamp)][1], readings[id(stamp)][2])
                for path, stamp in latest.items() if path not in spoiled and stamp.still_same()})
    except BaseException:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
            pool = None
        _remove_unsaved_blobs(blob_root, unsaved_blobs, saved_blobs, pending)
        raise
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    summary.seconds = time.perf_counter() - t0
    return summary


def _remove_unsaved_blobs(root: Path, unsaved: set[str], saved: set[str],
                          pending: Iterable[tuple[FitSource, Future[Outcome] | Outcome]]) -> None:
    """After a failed import: remove the blobs this run wrote for files whose rows never committed."""
    for _, job in pending:
        out = job if isinstance(job, Outcome) else (
            job.result() if job.done() and not job.cancelled() and job.exception() is None else None)
        if out is not None and out.blob_new:
            unsaved.add(out.blob_rel)
            if out.prepared is not None:
                out.prepared.discard()
    for rel in unsaved - saved:
        try:
            (root / rel).unlink(missing_ok=True)
        except OSError as exc:
            log.warning("could not remove %s after the failed import: %s", root / rel, exc)


@contextmanager
def _import_connection(db_path: wdb.Target, workers: int | None, lock_timeout_s: float,
                       athlete_id: str | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse opened for an import or a reprocess: write lock (a lake: the athlete's lock),
    bounded memory, checkpoint."""
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise RuntimeError(UNGUARDED)  # fail fast: waiting for the lock the caller holds would hang
    with writer(db_path, athlete_id, lock_timeout_s) as con:
        # bounded memory whatever the archive size: DuckDB would otherwise cache up to 80 % of RAM
        con.execute("SET memory_limit = '256MB'")
        if (default_workers() if workers is None else workers) > 1:
            # the decoding processes keep every core busy: a second DuckDB thread would only
            # contend with them (measured: writing 11.0 s with two threads, 6.7 s with one)
            con.execute("SET threads = 1")
        yield con
        if not isinstance(db_path, wdb.Lake):  # a lake's CHECKPOINT is its maintenance (lake maintain)
            con.execute("CHECKPOINT")


def _stamp_key(stamp: FileStamp) -> tuple[int, int, int, int]:
    return (stamp.size, stamp.mtime_ns, stamp.ctime_ns, stamp.inode)


def import_paths(db_path: wdb.Target, athlete_id: str, paths: Iterable[str | Path], *,
                 decoder: FitDecoder | None = None, progress: Progress | None = None,
                 workers: int | None = None, lock_timeout_s: float = 600.0, reread: bool = False) -> ImportSummary:
    """Open the warehouse (under the write lock) and import every FIT file under ``paths``.

    A file on disk that an earlier import read whole (every FIT file in it imported or known, none
    unreadable) is not read again while its size, modification and change times and inode are
    the same (``ops.fit_seen_files``): its FIT files count as known. ``reread``: read every file
    anyway (its content is still only imported when new).

    ``workers``: decoding processes (default: env RUNLIFT_IMPORT_WORKERS, else one per core).
    The processes are spawned, so a script of your own that calls this needs the usual
    ``if __name__ == "__main__":`` guard (or ``workers=1``); the runlift command and the Prefect
    flows have it. Without it, each process stops at once (this function refuses to run while a
    spawned process loads your script) and the import finishes in this process, with a note.
    """
    with _import_connection(db_path, workers, lock_timeout_s, athlete_id) as con:
        started = wdb.utcnow()
        # kept bytes an interrupted import wrote without committing their rows
        orphans = sweep_orphan_blobs(con, wdb.blob_dir(db_path))
        # files read whole before and unchanged since (same size, times, inode) are not read again
        on_disk = {} if reread else seen_files(con, athlete_id)

        def unchanged(stamp: FileStamp) -> bool:
            known_file = on_disk.get(stamp.path)
            return known_file is not None and known_file.key == _stamp_key(stamp)

        summary = import_sources(con, wdb.blob_dir(db_path), athlete_id,
                                 iter_sources(paths, packed=True, unchanged=unchanged),
                                 decoder=decoder, progress=progress, workers=workers, on_disk=on_disk)
        if orphans:
            summary.notes.append(f"removed {orphans} kept file(s) without rows, left by an interrupted import")
        _record_run(con, uuid.uuid4().hex, athlete_id, "fit", started, summary)
    return summary


def _kept_sources(root: Path, rows: list[tuple[str, str, str, str, str | None]]) -> Iterator[FitSource]:
    """The kept bytes of files already imported, checked against their SHA-256, as sources."""
    for sha, first_path, blob_rel, old_status, old_error in rows:
        path = root / blob_rel
        try:
            data = read_blob(root, blob_rel)
        except FileNotFoundError:
            yield FitSource(first_path, None, f"kept bytes missing: {path}")
            continue
        except (OSError, EOFError, zlib.error) as exc:
            yield FitSource(first_path, None, f"kept bytes unreadable ({exc}): {path}")
            continue
        if sha256_hex(data) != sha:
            yield FitSource(first_path, None, f"kept bytes corrupt (sha256 mismatch): {path}")
        elif old_status == "rejected" and data[:2] == b"\x1f\x8b":  # a broken .fit.gz, kept as read
            yield FitSource(first_path, data, old_error)
        else:
            yield FitSource(first_path, data)


def reprocess(db_path: wdb.Target, athlete_id: str | None = None, *, decoder: FitDecoder | None = None,
              progress: Progress | None = None, lock_timeout_s: float = 600.0,
              workers: int | None = None) -> ImportSummary:
    """Decode every kept FIT file again from the blob store and replace its rows.

    Needs nothing but the warehouse and its ``.blobs`` folder; ``athlete_id`` None means all.
    Runs like an import (decoding processes, batched transactions, each file whole or absent).
    """
    summary = ImportSummary()
    root = wdb.blob_dir(db_path)
    with _import_connection(db_path, workers, lock_timeout_s, athlete_id) as con:
        started = wdb.utcnow()
        t0 = time.perf_counter()
        rows = queries.kept_fit_files(con, athlete_id)
        for aid in dict.fromkeys(r.athlete_id for r in rows):
            mine = [(r.file_sha256, r.first_path, r.blob_path, r.status, r.error) for r in rows if r.athlete_id == aid]
            summary.add(import_sources(con, root, aid, _kept_sources(root, mine), decoder=decoder,
                                       progress=progress, workers=workers, replace=True))
        summary.seconds = time.perf_counter() - t0
        _record_run(con, uuid.uuid4().hex, athlete_id or "*", "fit-reprocess", started, summary)
    return summary
