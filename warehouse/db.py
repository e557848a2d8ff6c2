"""The DuckDB warehouse file: opening it, versioned migrations, and the blob store beside it.

The file is created with ``STORAGE_VERSION 'v1.4.0'`` so that the DuckDB 1.4+ inside dashboard
tools (and the DuckDB CLI 1.5) can open it. Migrations in ``warehouse/migrations/NNNN_name.sql``
are applied in order when the file is opened; before any migration touches an existing file, the
file is copied aside (``<name>.duckdb.bak-v<old>-<UTC time>``).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb

STORAGE_VERSION = "v1.4.0"
_MIGRATION_RE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class WarehouseError(RuntimeError):
    """The warehouse file cannot be opened or migrated; the message says why and what to do."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """All migrations shipped with this runlift, in version order."""
    found = []
    for entry in resources.files("runlift.warehouse").joinpath("migrations").iterdir():
        m = _MIGRATION_RE.match(entry.name)
        if m:
            found.append(Migration(int(m.group(1)), m.group(2), entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    # Unique and increasing; a gap is allowed (branches reserve numbers: 0011 may ship before 0008),
    # and a warehouse gets every shipped migration it has not applied, whatever its number.
    if len(set(versions)) != len(versions) or (versions and versions[0] != 1):
        raise WarehouseError(f"migrations are not numbered uniquely from 1: {versions}")
    return found


def latest_version() -> int:
    found = migrations()
    return found[-1].version if found else 0


def sql_string(text: str) -> str:
    """``text`` as a SQL string literal (for statements that take no parameters: ATTACH, COPY, COMMENT)."""
    return "'" + text.replace("'", "''") + "'"


def utcnow() -> dt.datetime:
    """Now in UTC as a naive datetime (the warehouse stores UTC without a zone)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def private_umask() -> None:
    """From now on this process creates files owner-only (umask 077: files 0600, folders 0700).

    runlift's data is personal (GPS positions, heart rate, raw payloads): the warehouse, its WAL,
    backups, the blob store, the lock, the published file and their temporary files are created
    by runlift and by DuckDB, so the process mask is what covers them all. Decoding processes
    inherit it. Bits already masked stay masked.
    """
    old = os.umask(0o077)
    os.umask(old | 0o077)


def make_private(path: Path) -> None:
    """Take group and other permissions off ``path`` (a file or folder of runlift's that exists and
    is ours): for data written before runlift created files owner-only."""
    try:
        st = path.stat()
    except OSError:
        return
    if st.st_mode & 0o077 and st.st_uid == os.getuid():
        path.chmod(st.st_mode & 0o700)


def blob_dir(db_path: Path) -> Path:
    """The content-addressed store of original FIT bytes that sits beside the warehouse file."""
    return db_path.with_name(db_path.name + ".blobs")


def _schema_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'ops' AND table_name = 'schema_migrations'").fetchone()
    if not exists or not exists[0]:
        return 0
    row = con.execute("SELECT max(version) FROM ops.schema_migrations").fetchone()
    return int(row[0] or 0) if row else 0


def _applied(con: duckdb.DuckDBPyConnection) -> set[int]:
    if not _schema_version(con):
        return set()
    return {int(r[0]) for r in con.execute("SELECT version FROM ops.schema_migrations").fetchall()}


def connect(db_path: str | os.PathLike[str], *, read_only: bool = False,
            upto: int | None = None) -> duckdb.DuckDBPyConnection:
    """Open the warehouse (creating it if needed) and apply pending migrations.

    ``upto`` stops at a given migration version (tests use it to build an older warehouse).
    Raises :class:`WarehouseError` when the file is locked by another process, is not a DuckDB
    file, or was written by a newer runlift.
    """
    path = Path(db_path)
    if read_only:
        if not path.exists():
            raise WarehouseError(f"no warehouse at {path}; import something first "
                                 "(`runlift import-fit PATH`) or point --db / RUNLIFT_DB at it")
        try:
            return duckdb.connect(str(path), read_only=True)
        except duckdb.Error as exc:
            raise WarehouseError(f"cannot open warehouse {path} read-only: {exc}") from None
    private_umask()
    path.parent.mkdir(parents=True, exist_ok=True)
    for own in (path, path.with_name(path.name + ".wal"), blob_dir(path)):
        make_private(own)
    existed = path.exists() and path.stat().st_size > 0
    try:
        con = duckdb.connect(str(path), config={"storage_compatibility_version": STORAGE_VERSION})
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise WarehouseError(
                f"warehouse {path} is in use by another process (a running import or sync, or a "
                "tool holding it open); wait for it to finish or close that tool") from None
        raise WarehouseError(f"cannot open warehouse {path}: {exc}") from None
    except duckdb.Error as exc:
        raise WarehouseError(f"cannot open warehouse {path}: {exc}") from None
    # Writers commit often (a page, a stream set, a file): with DuckDB's default 16 MB threshold
    # every second commit of a Strava backfill ran a full checkpoint (~0.5 s). The WAL is as durable;
    # every command checkpoints once at its end.
    con.execute("SET checkpoint_threshold = '256MB'")
    try:
        _migrate(con, path, existed, upto)
    except BaseException:
        con.close()
        raise
    return con


# What `runlift sql` and `runlift status` may do: read the one warehouse file they open, nothing else.
# DuckDB's own controls, not a parse of the SQL: the file is opened read-only; no other file can be
# read or written (ATTACH, COPY ... TO, read_csv, EXPORT, INSTALL/LOAD of extensions, secrets);
# nothing spills to a temporary folder; and the configuration is locked so a query cannot SET any
# of this back.
QUERY_ONLY_CONFIG: dict[str, str | int | float | list[str]] = {
    "enable_external_access": False,
    "autoload_known_extensions": False,
    "autoinstall_known_extensions": False,
    "allow_persistent_secrets": False,
    "temp_directory": "",
    "lock_configuration": True,
}


def connect_query_only(db_path: str | os.PathLike[str]) -> duckdb.DuckDBPyConnection:
    """Open ``db_path`` for people's queries: read-only, no other file reachable (see QUERY_ONLY_CONFIG)."""
    path = Path(db_path)
    if not path.exists():
        raise WarehouseError(f"no warehouse at {path}; import something first "
                             "(`runlift import-fit PATH`) or point --db / RUNLIFT_DB at it")
    try:
        return duckdb.connect(str(path), read_only=True, config=dict(QUERY_ONLY_CONFIG))
    except duckdb.Error as exc:
        raise WarehouseError(f"cannot open warehouse {path} read-only: {exc}") from None


def _migrate(con: duckdb.DuckDBPyConnection, path: Path, existed: bool, upto: int | None) -> None:
    current = _schema_version(con)
    shipped = migrations()
    wanted = [m for m in shipped if upto is None or m.version <= upto]
    if current > shipped[-1].version:
        raise WarehouseError(f"warehouse {path} is at schema version {current}, newer than this "
                             f"runlift knows ({shipped[-1].version}); upgrade runlift")
    applied = _applied(con)
    pending = [m for m in wanted if m.version not in applied]
    if not pending:
        return
    if existed and current > 0:
        con.execute("CHECKPOINT")
        stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
        backup = path.with_name(f"{path.name}.bak-v{current}-{stamp}")
        shutil.copy2(path, backup)
    con.execute("CREATE SCHEMA IF NOT EXISTS ops")
    con.execute("""
        CREATE TABLE IF NOT EXISTS ops.schema_migrations (
            version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)""")
    con.execute("COMMENT ON TABLE ops.schema_migrations IS "
                "'Which warehouse migrations have been applied (warehouse/migrations/*.sql).'")
    for col, text in (("version", "Migration number (NNNN in its file name)."),
                      ("name", "Migration name."), ("applied_at", "When it was applied, UTC.")):
        con.execute(f"COMMENT ON COLUMN ops.schema_migrations.{col} IS '{text}'")
    for m in pending:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(m.sql)
            con.execute("INSERT INTO ops.schema_migrations VALUES (?, ?, ?)", [m.version, m.name, utcnow()])
            con.execute("COMMIT")
        except BaseException as exc:
            con.execute("ROLLBACK")
            raise WarehouseError(f"migration {m.version:04d}_{m.name} failed on {path}: {exc}") from exc
    con.execute("CHECKPOINT")


def table_counts(con: duckdb.DuckDBPyConnection, schema: str) -> dict[str, int]:
    """Row count of every table in ``schema``."""
    names = [r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = ? "
        "AND table_type = 'BASE TABLE' ORDER BY table_name", [schema]).fetchall()]
    return {n: int(scalar(con, f'SELECT count(*) FROM "{schema}"."{n}"')) for n in names}


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> Any:
    """The first column of the one row ``sql`` returns (aggregates, RETURNING counts, settings)."""
    row = con.execute(sql, params or []).fetchone()
    if row is None:
        raise WarehouseError(f"expected one row, got none: {sql.strip().splitlines()[0]}")
    return row[0]


class Transaction:
    """``with Transaction(con):`` BEGIN, then COMMIT, or ROLLBACK when the block raises."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def __enter__(self) -> duckdb.DuckDBPyConnection:
        self.con.execute("BEGIN TRANSACTION")
        return self.con

    def __exit__(self, exc_type: object, *_: object) -> None:
        self.con.execute("ROLLBACK" if exc_type else "COMMIT")
