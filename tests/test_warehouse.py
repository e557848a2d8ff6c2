import subprocess
import sys

import duckdb
import pytest

from runlift.warehouse import db as wdb

from helpers import duckdb_cli


@pytest.mark.lake  # also run on DuckDB 1.5.5 (`make test-lake`)
def test_new_warehouse_has_schemas_and_latest_version(tmp_path):
    path = tmp_path / "w.duckdb"
    con = wdb.connect(path)
    schemas = {r[0] for r in con.execute("SELECT schema_name FROM information_schema.schemata").fetchall()}
    assert {"raw", "staging", "marts", "ops"} <= schemas
    assert con.execute("SELECT max(version) FROM ops.schema_migrations").fetchone()[0] == wdb.latest_version()
    con.close()
    assert not list(tmp_path.glob("*.bak-*"))  # nothing to back up for a new file


@pytest.mark.lake  # also run on DuckDB 1.5.5 (`make test-lake`)
def test_file_opens_in_duckdb_cli_1_5(tmp_path):
    path = tmp_path / "w.duckdb"
    wdb.connect(path).close()
    cli = duckdb_cli()
    version = subprocess.run([cli, "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("v1.5"), version
    out = subprocess.run([cli, "-readonly", "-csv", str(path),
                          "SELECT count(*) FROM ops.schema_migrations; SELECT tags['storage_version'] "
                          "FROM duckdb_databases() WHERE database_name = 'w'"],
                         capture_output=True, text=True, check=True).stdout.split()
    assert out[1] == str(len(wdb.migrations()))  # every shipped migration applied
    assert out[3].startswith("v1.4.0")


@pytest.mark.lake  # also run on DuckDB 1.5.5 (`make test-lake`)
def test_older_warehouse_upgrades_in_place_with_a_backup(tmp_path):
    path = tmp_path / "w.duckdb"
    con = wdb.connect(path, upto=1)
    con.execute("INSERT INTO ops.import_runs (run_id, athlete_id, source, started_at) "
                "VALUES ('r1', 'me', 'fit', now()::TIMESTAMP)")
    con.close()
    con = wdb.connect(path)
    assert con.execute("SELECT max(version) FROM ops.schema_migrations").fetchone()[0] == wdb.latest_version()
    assert con.execute("SELECT count(*) FROM raw.fit_files").fetchone()[0] == 0
    assert con.execute("SELECT run_id FROM ops.import_runs").fetchall() == [("r1",)]
    con.close()
    backups = list(tmp_path.glob("w.duckdb.bak-v1-*"))
    assert len(backups) == 1
    old = duckdb.connect(str(backups[0]), read_only=True)
    assert old.execute("SELECT max(version) FROM ops.schema_migrations").fetchone()[0] == 1
    old.close()
    # opening again migrates nothing and backs up nothing
    wdb.connect(path).close()
    assert len(list(tmp_path.glob("w.duckdb.bak-*"))) == 1


@pytest.mark.lake  # also run on DuckDB 1.5.5 (`make test-lake`)
def test_newer_warehouse_is_refused(tmp_path):
    path = tmp_path / "w.duckdb"
    con = wdb.connect(path)
    con.execute("INSERT INTO ops.schema_migrations VALUES (999, 'future', now()::TIMESTAMP)")
    con.close()
    with pytest.raises(wdb.WarehouseError, match="newer than this runlift"):
        wdb.connect(path)


def test_every_raw_column_has_a_comment(tmp_path):
    con = wdb.connect(tmp_path / "w.duckdb")
    missing = con.execute("""
        SELECT table_name || '.' || column_name FROM duckdb_columns()
        WHERE schema_name IN ('raw', 'ops') AND comment IS NULL""").fetchall()
    assert missing == []
    tables = con.execute("SELECT table_name FROM duckdb_tables() "
                         "WHERE schema_name = 'raw' AND comment IS NULL").fetchall()
    assert tables == []


@pytest.mark.lake  # also run on DuckDB 1.5.5 (`make test-lake`)
def test_locked_warehouse_gives_a_clear_error(tmp_path):
    path = tmp_path / "w.duckdb"
    wdb.connect(path).close()
    holder = subprocess.Popen([sys.executable, "-c",
                               f"import duckdb,time; c=duckdb.connect({str(path)!r}); "
                               "print('ok', flush=True); time.sleep(30)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ok"
        with pytest.raises(wdb.WarehouseError, match="in use by another process"):
            wdb.connect(path)
    finally:
        holder.kill()
        holder.wait()


def test_sql_reference_is_not_stale(tmp_path):
    from runlift.warehouse.docgen import render

    from conftest import ROOT

    committed = (ROOT / "docs" / "warehouse.md").read_text(encoding="utf-8")
    assert committed == render(tmp_path / "doc.duckdb"), (
        "docs/warehouse.md is stale: run `python -m runlift.warehouse.docgen > docs/warehouse.md`")
