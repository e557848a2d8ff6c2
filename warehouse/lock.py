"""An advisory lock file around every write to the warehouse (``<warehouse>.lock``), and the
per-athlete lock of a lake (:func:`lake_lock`).

Two writers (a cron job and a Prefect run, say) never overlap: the second waits up to
``timeout_s`` and then fails with a clear message. The lock is released by the kernel when its
holder dies, so a kill -9 never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

    from runlift.warehouse.db import Lake, Target


class LockTimeout(RuntimeError):
    pass


def lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


@contextmanager
def write_lock(db_path: Path, timeout_s: float = 600.0, poll_s: float = 0.2) -> Iterator[None]:
    path = lock_path(db_path)
    os.umask(os.umask(0o077) | 0o077)  # whatever the writer creates next is owner-only (db.private_umask)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
                    raise LockTimeout(
                        f"warehouse {db_path} is being written by another runlift process (pid {holder}) "
                        f"for more than {timeout_s:.0f} s; wait for it to finish") from None
                time.sleep(poll_s)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def lake_key(name: str) -> int:
    """The 64-bit advisory-lock key of ``name`` (an athlete id, or ``migrations``), the same in
    every process and on every machine (a hash, unlike Python's hash())."""
    digest = hashlib.sha256(f"runlift:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def lake_lock(lake: Lake, name: str, timeout_s: float = 600.0, poll_s: float = 0.2) -> Iterator[None]:
    """Hold the lake's lock ``name`` (an athlete's id: that athlete's writes; ``migrations``) while
    the block runs: a PostgreSQL session advisory lock on the catalog database, which every worker
    on every machine sees. A second holder waits up to ``timeout_s``, then LockTimeout. The lock
    goes with its session, so a worker killed with kill -9 leaves none behind (PostgreSQL ends the
    session when the socket closes)."""
    dsn = lake.catalog_dsn
    if dsn is None:
        raise LockTimeout(f"warehouse.lake {lake.attach!r}: the lake mode's locks need a PostgreSQL "
                          "catalog (ducklake:postgres:...)")
    import psycopg  # the lake extra (docs/lake.md)

    key = lake_key(name)
    with psycopg.connect(dsn, autocommit=True, application_name=f"runlift lock {name}"[:63]) as pg:
        deadline = time.monotonic() + timeout_s
        while True:
            row = pg.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone()
            if row and row[0]:
                break
            if time.monotonic() >= deadline:
                raise LockTimeout(f"the lake's lock {name!r} is held by another runlift worker for more than "
                                  f"{timeout_s:.0f} s; wait for it to finish")
            time.sleep(poll_s)
        try:
            yield
        finally:
            pg.execute("SELECT pg_advisory_unlock(%s)", [key])


@contextmanager
def writer(target: Target, athlete_id: str | None, timeout_s: float = 600.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse opened for one writer, under its lock, closed at the end: a DuckDB file under
    its lock file (one writer at a time); a lake under the athlete's lock (``athlete_id``; None:
    the ``all-athletes`` lock of writes to every athlete's rows, such as a build), so that writers of different
    athletes commit side by side and one athlete's writes stay in order."""
    from runlift.warehouse import db as wdb

    if isinstance(target, wdb.Lake):
        with lake_lock(target, f"athlete:{athlete_id}" if athlete_id else "all-athletes", timeout_s):
            con = wdb.connect_lake(target)
            try:
                yield con
            finally:
                con.close()
        return
    with write_lock(target, timeout_s):
        con = wdb.connect(target)
        try:
            yield con
        finally:
            con.close()
