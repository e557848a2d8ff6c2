"""The warehouse: an embedded DuckDB file (the default) or a DuckLake; opening it, versioned
migrations, and the blob store beside it.

The file is created with ``STORAGE_VERSION 'v1.4.0'`` so that the DuckDB 1.4+ inside dashboard
tools (and the DuckDB CLI 1.5) can open it. Migrations in ``warehouse/migrations/NNNN_name.sql``
are applied in order when the file is opened; before any migration touches an existing file, the
file is copied aside (``<name>.duckdb.bak-v<old>-<UTC time>``).

The lake mode (:class:`Lake`, :func:`connect_lake`, settings ``warehouse.lake``): the same schemas
and tables in a DuckLake (catalog in PostgreSQL, data as Parquet files under ``warehouse.data_path``),
attached as ``lake`` and made the default database, so every query of runlift runs unchanged. DuckLake
has no PRIMARY KEY, UNIQUE or CHECK constraints, no indexes or sequences, and adds no column with a
default: :func:`lake_sql` translates the migrations, and the loaders' upserts go through
:func:`upsert` (INSERT OR REPLACE in a file, delete then insert in the caller's transaction in a
lake). docs/lake.md.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import os
import random
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import duckdb

STORAGE_VERSION = "v1.4.0"
T = TypeVar("T")
S = TypeVar("S")
_MIGRATION_RE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class WarehouseError(RuntimeError):
    """The warehouse file cannot be opened or migrated; the message says why and what to do."""


class LockTimeout(RuntimeError):
    """A writer's lock (warehouse.lock) was not free within its timeout."""


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


@dataclass(frozen=True)
class Lake:
    """A DuckLake warehouse: ``attach`` is DuckDB's attach string (``ducklake:postgres:dbname=runlift
    host=...``), ``data_path`` the folder or object-storage URL its Parquet files go to."""

    attach: str
    data_path: str
    expire_snapshots_days: float = 7.0  # maintain(): snapshots older than this are expired

    @property
    def catalog_dsn(self) -> str | None:
        """The PostgreSQL connection string of the catalog (None: the catalog is not PostgreSQL)."""
        prefix = "ducklake:postgres:"
        return self.attach[len(prefix):] if self.attach.startswith(prefix) else None


LAKE_ALIAS = "lake"
# DuckLake retries a commit that collides with another writer's when the two change different
# things (appends, deletes of other files); these bound it. A real conflict (both deleted the same
# rows' file) raises after the last try: retrying() re-runs the whole unit of work.
LAKE_MAX_RETRIES = 10
LAKE_RETRY_WAIT_MS = 100
LAKE_RETRY_BACKOFF = 1.5


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


def blob_dir(db_path: Path | Lake) -> Path:
    """The content-addressed store of original FIT bytes that sits beside the warehouse file (a
    lake's: ``fit-blobs`` in its data folder, which every worker shares)."""
    if isinstance(db_path, Lake):
        if "://" in db_path.data_path:
            raise WarehouseError(f"warehouse.data_path {db_path.data_path}: the FIT blob store needs a folder "
                                 "(object storage holds the lake's tables only, docs/lake.md)")
        return Path(db_path.data_path) / "fit-blobs"
    return db_path.with_name(db_path.name + ".blobs")


# Where a command writes: the embedded DuckDB file (its path) or a lake.
Target = Path | Lake


def open_target(target: Target, *, upto: int | None = None) -> duckdb.DuckDBPyConnection:
    """The warehouse ``target`` opened for writing (migrated): connect() or connect_lake()."""
    return connect_lake(target, upto=upto) if isinstance(target, Lake) else connect(target, upto=upto)


_TABLE_CONSTRAINT = re.compile(r",\s*(?:PRIMARY\s+KEY|UNIQUE)\s*\([^)]*\)", re.I)
_COLUMN_KEY = re.compile(r"\s+(?:PRIMARY\s+KEY|UNIQUE)\b(?=\s*[,)\n])", re.I)
_ADD_COLUMN_DEFAULT = re.compile(
    r"ALTER\s+TABLE\s+([\w.]+)\s+ADD\s+COLUMN\s+(\w+)\s+([\w\[\]]+)((?:\s+NOT\s+NULL)?)\s+DEFAULT\s+([^;]+);", re.I)
_SET_NOT_NULL = re.compile(r"ALTER\s+TABLE\s+[\w.]+\s+ALTER\s+COLUMN\s+\w+\s+SET\s+NOT\s+NULL\s*;", re.I)


def _strip_checks(sql: str) -> str:
    out, i = [], 0
    for m in re.finditer(r"\bCHECK\s*\(", sql, re.I):
        if m.start() < i:
            continue
        depth, j = 1, m.end()
        while depth and j < len(sql):
            depth += {"(": 1, ")": -1}.get(sql[j], 0)
            j += 1
        out.append(sql[i:m.start()].rstrip(" "))
        i = j
    out.append(sql[i:])
    return "".join(out)


def lake_sql(sql: str) -> str:
    """A migration's DDL as a DuckLake takes it: no PRIMARY KEY / UNIQUE / CHECK constraints (the
    loaders keep keys unique: every write of a keyed row deletes its old row first, under the
    athlete's lock; the model tests check the marts' keys), a column added with a default is added
    bare and filled with the default by an UPDATE, and SET NOT NULL is left out."""
    sql = _TABLE_CONSTRAINT.sub("", sql)
    sql = _COLUMN_KEY.sub("", sql)
    sql = _strip_checks(sql)
    sql = _ADD_COLUMN_DEFAULT.sub(lambda m: f"ALTER TABLE {m.group(1)} ADD COLUMN {m.group(2)} {m.group(3)}; "
                                  f"UPDATE {m.group(1)} SET {m.group(2)} = {m.group(5).strip()};", sql)
    return _SET_NOT_NULL.sub("", sql)


def is_lake(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether ``con`` works in a DuckLake (connect_lake) rather than a DuckDB file."""
    return bool(scalar(con, "SELECT current_database()") == LAKE_ALIAS)


def upsert(con: duckdb.DuckDBPyConnection, table: str, keys: tuple[str, ...], select_sql: str,
           params: list[object] | None = None, *, replace: bool = True) -> None:
    """Write the rows of ``select_sql`` into ``table`` (columns by name) whose key is ``keys``:
    a row with the key of one already there replaces it (``replace``) or is left out.

    In a DuckDB file: INSERT OR REPLACE / INSERT ... ON CONFLICT DO NOTHING (the table's primary
    key). In a lake (no keys): delete the rows the new ones replace, then insert; call it inside a
    transaction so that readers never see the gap."""
    params = params or []
    if not is_lake(con):
        verb = "INSERT OR REPLACE" if replace else "INSERT"
        tail = "" if replace else " ON CONFLICT DO NOTHING"
        con.execute(f"{verb} INTO {table} BY NAME {select_sql}{tail}", params)
        return
    match = " AND ".join(f"t.{k} IS NOT DISTINCT FROM s.{k}" for k in keys)
    if replace:
        con.execute(f"DELETE FROM {table} t WHERE EXISTS (SELECT 1 FROM ({select_sql}) s WHERE {match})", params)
        con.execute(f"INSERT INTO {table} BY NAME {select_sql}", params)
    else:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM ({select_sql}) s "
                    f"WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {match})", params)


def _schema_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_catalog = current_database() AND table_schema = 'ops' "
        "AND table_name = 'schema_migrations'").fetchone()
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


def _extension_path(name: str) -> str | None:
    """The extension file of PyPI's ``duckdb-extension-<name>`` wheel for this DuckDB, if installed."""
    package = f"duckdb_extension_{name}"
    try:
        root = resources.files(package)
    except ModuleNotFoundError:
        return None
    candidate = Path(str(root)) / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    return str(candidate) if candidate.exists() else None


LAKE_NEEDS = ("the lake mode needs DuckDB 1.5.5 with the DuckLake and postgres extension wheels: "
              "pip install 'runlift[lake]' (docs/lake.md)")


def load_lake_extensions(con: duckdb.DuckDBPyConnection) -> None:
    """LOAD ducklake and postgres_scanner: from PyPI's extension wheels (this machine cannot INSTALL
    extensions at run time), else from DuckDB's own extension folder."""
    for name in ("postgres_scanner", "ducklake"):
        path = _extension_path(name)
        try:
            con.execute(f"LOAD {sql_string(path) if path else name}")
        except duckdb.Error as exc:
            raise WarehouseError(f"{LAKE_NEEDS} (running DuckDB {duckdb.__version__}; LOAD {name}: "
                                 f"{str(exc).splitlines()[0]})") from None


def connect_lake(lake: Lake, *, upto: int | None = None) -> duckdb.DuckDBPyConnection:
    """Attach the DuckLake as ``lake``, make it the default database and apply pending migrations
    (under the catalog's migration lock, so that workers starting together migrate once)."""
    private_umask()
    if "://" not in lake.data_path:
        Path(lake.data_path).mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(":memory:")
    try:
        load_lake_extensions(con)
        con.execute(f"ATTACH {sql_string(lake.attach)} AS {LAKE_ALIAS} (DATA_PATH {sql_string(lake.data_path)})")
        con.execute(f"USE {LAKE_ALIAS}")
        con.execute(f"SET ducklake_max_retry_count = {LAKE_MAX_RETRIES}")
        con.execute(f"SET ducklake_retry_wait_ms = {LAKE_RETRY_WAIT_MS}")
        con.execute(f"SET ducklake_retry_backoff = {LAKE_RETRY_BACKOFF}")
    except duckdb.Error as exc:
        con.close()
        raise WarehouseError(f"cannot attach the lake {lake.attach}: {str(exc).splitlines()[0]}") from None
    except BaseException:
        con.close()
        raise
    try:
        with advisory_lock(lake, "migrations"):
            _migrate(con, Path(lake.data_path), True, upto, lake=True)
    except BaseException:
        con.close()
        raise
    return con


def lake_key(name: str) -> int:
    """The 64-bit advisory-lock key of ``name`` (an athlete id, or ``migrations``), the same in
    every process and on every machine (a hash, unlike Python's hash())."""
    digest = hashlib.sha256(f"runlift:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextlib.contextmanager
def advisory_lock(lake: Lake, name: str, timeout_s: float = 600.0, poll_s: float = 0.2) -> Iterator[None]:
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


def _is_conflict(exc: BaseException | None) -> bool:
    """A DuckLake transaction conflict, also when a ROLLBACK after it raised in its place."""
    while exc is not None:
        if isinstance(exc, duckdb.TransactionException) and "conflict" in str(exc).lower():
            return True
        exc = exc.__context__
    return False


CONFLICT_ATTEMPTS = 10


def retrying(con: duckdb.DuckDBPyConnection, work: Callable[[], T], *, attempts: int = CONFLICT_ATTEMPTS,
             wait_s: float = 0.2) -> T:
    """``work()`` (a unit of work that commits), run again when its commit loses to another
    writer's (a DuckLake transaction conflict that DuckLake's own retries could not settle: two
    writers changed the same table's inlined rows or the same file), at most ``attempts`` times,
    waiting ``wait_s`` x attempt (+-50 % at random, so that two losers do not collide again in
    step) between; then the conflict is raised. A DuckDB file never
    conflicts (one writer at a time): there ``work()`` runs once."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except duckdb.Error as exc:
            if not _is_conflict(exc) or attempt == attempts:
                raise
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            time.sleep(wait_s * attempt * random.uniform(0.5, 1.5))
    raise AssertionError("unreachable")


def retry_conflicts(func: Callable[..., T]) -> Callable[..., T]:
    """Decorate a loader function ``func(con, ...)`` that runs one transaction of its own and can run
    again after a rollback (it writes the same rows; what it changes in memory it sets, never adds
    to): in a lake, a commit that loses to another athlete's writer is retried (:func:`retrying`)."""
    @functools.wraps(func)
    def wrapper(con: duckdb.DuckDBPyConnection, *args: Any, **kwargs: Any) -> T:
        return retrying(con, lambda: func(con, *args, **kwargs))
    return wrapper


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


def _migrate(con: duckdb.DuckDBPyConnection, path: Path, existed: bool, upto: int | None, *,
             lake: bool = False) -> None:
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
    if existed and current > 0 and not lake:  # a lake keeps its snapshots: no file to copy aside
        con.execute("CHECKPOINT")
        stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
        backup = path.with_name(f"{path.name}.bak-v{current}-{stamp}")
        shutil.copy2(path, backup)
    con.execute("CREATE SCHEMA IF NOT EXISTS ops")
    ddl = """
        CREATE TABLE IF NOT EXISTS ops.schema_migrations (
            version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"""
    con.execute(lake_sql(ddl) if lake else ddl)
    con.execute("COMMENT ON TABLE ops.schema_migrations IS "
                "'Which warehouse migrations have been applied (warehouse/migrations/*.sql).'")
    for col, text in (("version", "Migration number (NNNN in its file name)."),
                      ("name", "Migration name."), ("applied_at", "When it was applied, UTC.")):
        con.execute(f"COMMENT ON COLUMN ops.schema_migrations.{col} IS '{text}'")
    for m in pending:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(lake_sql(m.sql) if lake else m.sql)
            con.execute("INSERT INTO ops.schema_migrations VALUES (?, ?, ?)", [m.version, m.name, utcnow()])
            con.execute("COMMIT")
        except BaseException as exc:
            con.execute("ROLLBACK")
            raise WarehouseError(f"migration {m.version:04d}_{m.name} failed on {path}: {exc}") from exc
    if not lake:
        con.execute("CHECKPOINT")


def checkpoint(con: duckdb.DuckDBPyConnection) -> None:
    """Write a DuckDB file's WAL into it, at the end of a command; nothing in a lake (every commit is
    written; its CHECKPOINT would run the maintenance, which `runlift lake maintain` does)."""
    if not is_lake(con):
        con.execute("CHECKPOINT")


def table_counts(con: duckdb.DuckDBPyConnection, schema: str) -> dict[str, int]:
    """Row count of every table in ``schema``."""
    names = [r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database() "
        "AND table_schema = ? AND table_type = 'BASE TABLE' ORDER BY table_name", [schema]).fetchall()]
    return {n: int(scalar(con, f'SELECT count(*) FROM "{schema}"."{n}"')) for n in names}


def read_state(con: duckdb.DuckDBPyConnection, table: str, cls: type[S], athlete_id: str) -> S:
    """An athlete's row of a sync-state table (``ops.<source>_sync_state``) as the dataclass ``cls``
    whose fields are its columns, ``athlete_id`` first; a fresh ``cls(athlete_id)`` when it has none."""
    fields = tuple(cls.__dataclass_fields__)  # type: ignore[attr-defined]
    row = con.execute(f"SELECT {', '.join(fields)} FROM {table} WHERE athlete_id = ?", [athlete_id]).fetchone()
    return cls(*row) if row else cls(athlete_id)  # type: ignore[call-arg]


def write_state(con: duckdb.DuckDBPyConnection, table: str, state: Any) -> None:
    """Replace the athlete's row of a sync-state table with the dataclass ``state`` (delete and insert:
    the same in a DuckDB file and in a lake, which has no keys to upsert on)."""
    fields = tuple(state.__dataclass_fields__)
    con.execute(f"DELETE FROM {table} WHERE athlete_id = ?", [state.athlete_id])
    con.execute(f"INSERT INTO {table} ({', '.join(fields)}) VALUES ({', '.join('?' * len(fields))})",
                [getattr(state, f) for f in fields])


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
