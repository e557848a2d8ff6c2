"""``runlift remove-fit``: take one imported FIT file out of the warehouse, rows and kept bytes."""

from __future__ import annotations

from runlift.warehouse import db as wdb
from runlift.warehouse.fit_loader import RemovedFile, readmit_files, remove_files
from runlift.warehouse.lock import writer


def remove_fit(db_path: wdb.Target, athlete_id: str, idents: list[str], *,
               lock_timeout_s: float = 600.0) -> list[RemovedFile]:
    """Remove the files ``idents`` name (SHA-256, a prefix of 8+ hex digits, a path or a file name)
    under the write lock, all in one transaction; later imports skip their content. Raises
    ``warehouse.fit_loader.NoSuchFile`` (nothing removed) if one names no file or several."""
    with writer(db_path, athlete_id, lock_timeout_s) as con:
        return remove_files(con, wdb.blob_dir(db_path), athlete_id, idents)


def readmit_fit(db_path: wdb.Target, athlete_id: str, idents: list[str], *,
                lock_timeout_s: float = 600.0) -> list[tuple[str, str]]:
    """Let removed files be imported again: (sha256, first path) of each."""
    with writer(db_path, athlete_id, lock_timeout_s) as con:
        return readmit_files(con, athlete_id, idents)
