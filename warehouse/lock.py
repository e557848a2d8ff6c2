"""An advisory lock file around every write to the warehouse (``<warehouse>.lock``), and the
per-athlete lock of a lake (:func:`lake_lock`).

Two writers (a cron job and a Prefect run, say) never overlap: the second waits up to
``timeout_s`` and then fails with a clear message. The lock is released by the kernel when its
holder dies, so a kill -9 never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from runlift.warehouse import db as wdb
from runlift.warehouse.db import Lake, LockTimeout, Target, advisory_lock

if TYPE_CHECKING:
    import duckdb

__all__ = ["LockTimeout", "lake_lock", "lock_path", "write_lock", "writer"]




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


@contextmanager
def lake_lock(lake: Lake, name: str, timeout_s: float = 600.0, poll_s: float = 0.2) -> Iterator[None]:
    """The lake's lock ``name`` (warehouse.db.advisory_lock: a PostgreSQL advisory lock)."""
    with advisory_lock(lake, name, timeout_s, poll_s):
        yield


@contextmanager
def writer(target: Target, athlete_id: str | None, timeout_s: float = 600.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse opened for one writer, under its lock, closed at the end: a DuckDB file under
    its lock file (one writer at a time); a lake under the athlete's lock (``athlete_id``; None:
    the ``all-athletes`` lock of writes to every athlete's rows, such as a build), so that writers of different
    athletes commit side by side and one athlete's writes stay in order."""
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
