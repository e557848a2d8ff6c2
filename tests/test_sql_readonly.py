"""`runlift sql` reads the one warehouse file it opens and nothing else: it cannot change any database,
write or read any other file, load extensions, change its own settings or bypass the writer's lock."""

import hashlib
import threading
import time
from pathlib import Path

import duckdb
import pytest

from runlift.flows.fit_pipeline import import_paths
from runlift.warehouse.lock import write_lock

from helpers import q, runlift


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def warehouse(corpus, tmp_path) -> tuple[Path, Path]:
    """A working warehouse with FIT records, and a published file beside it."""
    db = tmp_path / "w.duckdb"
    import_paths(db, "me", [corpus / "fitparse-tests/activity-small-fenix2-run.fit"], workers=1)
    published = tmp_path / "w.published.duckdb"
    con = duckdb.connect(str(published))
    con.execute("CREATE SCHEMA marts; CREATE TABLE marts.t AS SELECT 42 AS answer")
    con.close()
    return db, published


def _refused(db: Path, query: str, *extra: str) -> str:
    proc = runlift("sql", "--db", str(db), *extra, query, check=False, timeout=60)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stderr.startswith("runlift: error: query failed:")
    assert proc.stderr.strip().count("\n") == 0, proc.stderr  # one line
    assert "Traceback" not in proc.stderr
    return proc.stderr


def test_sql_cannot_attach_the_working_warehouse_read_write(warehouse):
    db, published = warehouse
    n = q(db, "SELECT count(*) FROM raw.fit_records")[0][0]
    assert n > 1000
    before = _digest(db)
    err = _refused(db, f"ATTACH '{db}' AS ww (READ_WRITE); DELETE FROM ww.raw.fit_records")
    assert "only reads the warehouse" in err
    assert q(db, "SELECT count(*) FROM raw.fit_records")[0][0] == n
    assert _digest(db) == before
    # --working: the same file is open read-only, a second ATTACH of another file is refused too
    _refused(db, f"ATTACH '{published}' AS p (READ_WRITE); DROP TABLE p.marts.t", "--working")
    assert q(published, "SELECT answer FROM marts.t") == [(42,)]


def test_sql_cannot_write_files(warehouse, tmp_path):
    db, published = warehouse
    lock = db.with_name(db.name + ".lock")
    lock.write_text("4242")
    _refused(db, f"COPY (SELECT 42) TO '{lock}'")
    assert lock.read_text() == "4242"
    _refused(db, f"COPY (SELECT 42) TO '{tmp_path / 'out.csv'}'")
    _refused(db, f"EXPORT DATABASE '{tmp_path / 'dump'}'")
    _refused(db, f"COPY (SELECT 1) TO '{tmp_path / 'x.parquet'}' (FORMAT parquet)", "--working")
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "dump").exists()
    assert not (tmp_path / "x.parquet").exists()


def test_sql_cannot_create_tables_or_change_settings(warehouse):
    db, published = warehouse
    before = _digest(published)
    assert "read-only" in _refused(db, "CREATE TABLE marts.evil AS SELECT 1")
    _refused(db, "CREATE TABLE raw.evil AS SELECT 1", "--working")
    _refused(db, "DELETE FROM raw.fit_files", "--working")
    _refused(db, "SET enable_external_access = true; COPY (SELECT 1) TO 'x.csv'")
    _refused(db, "RESET enable_external_access")
    assert _digest(published) == before
    assert q(db, "SELECT count(*) FROM raw.fit_files")[0][0] == 1


def test_sql_cannot_install_or_load_extensions(warehouse):
    db, _ = warehouse
    _refused(db, "INSTALL httpfs")
    _refused(db, "LOAD httpfs")
    _refused(db, "LOAD '/tmp/evil.duckdb_extension'")


def test_sql_reads_no_other_file(warehouse, tmp_path):
    db, _ = warehouse
    secret = tmp_path / "secret.csv"
    secret.write_text("token\nabc123\n")
    for query in (f"SELECT * FROM read_csv('{secret}')", f"SELECT * FROM '{secret}'",
                  f"SELECT * FROM read_text('{secret}')", "SELECT * FROM glob('/etc/*')"):
        assert "abc123" not in _refused(db, query)


def test_sql_still_reads_and_working_waits_for_the_writer(warehouse):
    db, _ = warehouse
    out = runlift("sql", "--db", str(db), "SELECT answer FROM marts.t").stdout
    assert "42" in out
    released = []

    def hold() -> None:
        with write_lock(db):
            ready.set()
            time.sleep(1.5)
            released.append(time.monotonic())

    ready = threading.Event()
    holder = threading.Thread(target=hold)
    holder.start()
    ready.wait(10)
    proc = runlift("sql", "--db", str(db), "--working", "SELECT count(*) AS n FROM raw.fit_files", timeout=60)
    done = time.monotonic()
    holder.join()
    assert released and done >= released[0]  # it waited for the lock
    assert " 1 " in proc.stdout
