"""``runlift remove-fit``: take one imported FIT file out of the warehouse, rows and kept bytes."""

from __future__ import annotations

from pathlib import Path

from runlift.warehouse import db as wdb
from runlift.warehouse.fit_loader import RemovedFile, readmit_files, remove_files
from runlift.warehouse.lock import write_lock


def remove_fit(db_path: Path, athlete_id: str, idents: list[str], *,
               lock_timeout_s: float = 600.0) -> list[RemovedFile]:
    """Remove the files ``idents`` name (SHA-256, a prefix of 8+ hex digits, a path or a file name)
    under the write lock, all in one transaction; later imports skip their content. Raises
    ``warehouse.fit_loader.NoSuchFile`` (nothing removed) if one names no file or several."""
    with write_lock(db_path, lock_timeout_s):
        con = wdb.connect(db_path)
        try:
            return remove_files(con, wdb.blob_dir(db_path), athlete_id, idents)
        finally:
            con.close()


def readmit_fit(db_path: Path, athlete_id: str, idents: list[str], *,
                lock_timeout_s: float = 600.0) -> list[tuple[str, str]]:
    """Let removed files be imported again: (sha256, first path) of each."""
    with write_lock(db_path, lock_timeout_s):
        con = wdb.connect(db_path)
        try:
            return readmit_files(con, athlete_id, idents)
        finally:
            con.close()
