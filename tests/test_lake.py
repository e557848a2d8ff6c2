"""The lake mode (warehouse.lake, docs/lake.md): a DuckLake with its catalog in a real PostgreSQL on
127.0.0.1 (Debian's binaries, started here) and its Parquet files in a temporary folder.

The tests marked ``lake`` need DuckDB 1.5.5 (the version PyPI's DuckLake extension wheels are built
for) and run in `make test-lake`'s virtualenv; in the main one they are skipped with that reason.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from runlift.flows.settings import SettingsError, load_settings
from runlift.warehouse import db as wdb

LAKE_DUCKDB = "1.5.5"
END = dt.date(2026, 11, 29)
TZ = "Europe/Berlin"


def _lake_unavailable() -> str | None:
    if duckdb.__version__ != LAKE_DUCKDB:
        return (f"lake mode needs duckdb {LAKE_DUCKDB} (the DuckLake extension wheels' version; this is "
                f"{duckdb.__version__}); `make test-lake` runs them")
    for name in ("ducklake", "postgres_scanner"):
        if wdb._extension_path(name) is None:
            return f"the duckdb-extension-{name.replace('_', '-')} wheel is not installed (pip install '.[lake]')"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install '.[lake]')"
    return None


@pytest.fixture(scope="module")
def pg():
    from runlift.standins.postgres import PostgresCluster, PostgresUnavailable

    try:
        cluster = PostgresCluster().start()
    except PostgresUnavailable as exc:
        pytest.skip(f"PostgreSQL cannot start here: {exc}")
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def lake(pg, tmp_path_factory) -> wdb.Lake:
    """One lake for the module (migrating one takes seconds): each test writes its own athletes."""
    return wdb.Lake(f"ducklake:postgres:{pg.create_database('runlift')}", str(tmp_path_factory.mktemp("lake-data")))


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> Path:
    """A 4-week synthetic season's FIT files (runs and gym sessions, the demo's athlete)."""
    from runlift.standins.fit_writer import season_fit_files
    from runlift.standins.season import synthetic_season

    folder = tmp_path_factory.mktemp("inbox")
    for name, data in season_fit_files(synthetic_season(END, weeks=4, tz=TZ)):
        (folder / name).write_bytes(data)
    return folder


def _athletes(*ids: str):
    from runlift.warehouse.build import AthleteParams

    return [AthleteParams(a, TZ, "female", 188, 48, ((None, 68.0),), acwr_flags=True) for a in ids]


def _rows(con: duckdb.DuckDBPyConnection, table: str, drop: tuple[str, ...] = ()) -> list[tuple]:
    cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall() if r[0] not in drop]
    return con.execute(f"SELECT {', '.join(cols)} FROM {table} ORDER BY ALL").fetchall()


# when a row was written, not what: differs between any two runs
WRITTEN_AT = ("imported_at", "loaded_at", "fetched_at", "recorded_at", "removed_at", "applied_at")


def _load(target: wdb.Target, inbox: Path, athlete: str = "ana") -> float:
    """Import the season, a Garmin weigh-in and activity twice (nothing doubled), remove one FIT file,
    build; returns the build's seconds."""
    from runlift.flows.fit_pipeline import import_paths
    from runlift.flows.fit_remove import remove_fit
    from runlift.warehouse import garmin_loader
    from runlift.warehouse.build import build

    first = import_paths(target, athlete, [inbox], workers=1)
    assert first.files_new == len(list(inbox.iterdir()))
    again = import_paths(target, athlete, [inbox], workers=1, reread=True)
    assert again.files_new == 0 and again.files_known == first.files_new
    victim = sorted(inbox.iterdir())[0].name
    assert len(remove_fit(target, athlete, [victim])) == 1
    con = wdb.open_target(target)
    try:
        weigh_in = {"sample_pk": 7, "measured_at_utc": dt.datetime(2026, 11, 20, 6),
                    "calendar_date": dt.date(2026, 11, 20), "body_mass_kg": 67.5, "body_fat_percent": None,
                    "body_water_percent": None, "bone_mass_kg": None,
                    "muscle_mass_kg": None, "bmi_kg_m2": None, "source_type": "INDEX_SCALE"}
        for kg in (67.5, 67.2):  # the second sync's value replaces the first
            garmin_loader.save_weigh_ins(con, athlete, dt.date(2026, 11, 20), dt.date(2026, 11, 20),
                                         [weigh_in | {"body_mass_kg": kg}])
            with wdb.Transaction(con):
                garmin_loader.record_activity(con, athlete, 99, dt.datetime(2026, 11, 21, 7), "running", "imported",
                                              None, None)
        t0 = time.perf_counter()
        result = build(con, as_of=END, athletes=_athletes(athlete))
        seconds = time.perf_counter() - t0
        assert result.failures == []
        return seconds
    finally:
        con.close()


@pytest.mark.parametrize("_", [None], ids=["season"])
@pytest.mark.lake
@pytest.mark.skipif(_lake_unavailable() is not None, reason=_lake_unavailable() or "")
def test_lake_holds_the_same_raw_tables_and_marts_as_a_file(_, lake, inbox, tmp_path, capsys):
    from runlift.warehouse.build import MARTS
    from runlift.warehouse.publish import publish

    file_target = tmp_path / "runlift.duckdb"
    file_build = _load(file_target, inbox)
    lake_build = _load(lake, inbox)
    with capsys.disabled():
        print(f"\nbuild of the 4-week season: DuckDB file {file_build:.2f} s, lake {lake_build:.2f} s")

    con_file, con_lake = wdb.connect(file_target), wdb.connect_lake(lake)
    try:
        raw_file, raw_lake = wdb.table_counts(con_file, "raw"), wdb.table_counts(con_lake, "raw")
        assert raw_lake == raw_file
        assert raw_file["fit_files"] == len(list(inbox.iterdir())) - 1  # one removed
        assert raw_file["fit_records"] > 5_000 and raw_file["garmin_weigh_ins"] == 1
        # (not ops.fit_seen_files: an import vouches only for files that have not changed for a while,
        # so what it holds depends on when each import ran, not on the mode)
        for schema, names in (("raw", sorted(raw_file)), ("ops", ["fit_removed_files", "garmin_activities",
                                                                  "garmin_sync_state"])):
            for name in names:
                drop = WRITTEN_AT + (("blob_path", "first_path") if name in ("fit_files", "fit_removed_files") else ())
                assert _rows(con_lake, f"{schema}.{name}", drop) == _rows(con_file, f"{schema}.{name}", drop), name
        assert _rows(con_lake, "raw.garmin_weigh_ins", WRITTEN_AT)[0][4] == 67.2
        # every keyed raw row once, though each was written twice
        assert wdb.scalar(con_lake, "SELECT count(*) - count(DISTINCT (athlete_id, sample_pk)) "
                                    "FROM raw.garmin_weigh_ins") == 0
        for mart in MARTS:
            assert _rows(con_lake, f"marts.{mart}") == _rows(con_file, f"marts.{mart}"), mart
        assert wdb.scalar(con_lake, "SELECT count(*) FROM marts.fct_activities") >= 4

        # publishing from the lake writes the same read-only DuckDB file a DuckDB file publishes
        published = publish(con_lake, tmp_path / "from-lake.published.duckdb")
        published_file = publish(con_file, tmp_path / "from-file.published.duckdb")
        assert published.tables == published_file.tables
    finally:
        con_file.close()
        con_lake.close()
    cli = shutil.which("duckdb", path=str(Path(sys.executable).parent))
    assert cli, "duckdb-cli (a dev dependency) is not installed beside this Python"
    for path in (published.path, published_file.path):
        out = subprocess.run([cli, "-readonly", "-csv", "-noheader", str(path), "-c",
                              "SELECT count(*) FROM marts.fct_activities; "
                              "SELECT comment FROM duckdb_columns() WHERE table_name = 'stg_fit__sessions' "
                              "AND column_name = 'athlete_id'"],
                             capture_output=True, text=True, timeout=60, check=False)
        assert out.returncode == 0, out.stderr
        count, comment = out.stdout.strip().splitlines()
        assert int(count) == published.tables["marts.fct_activities"]
        assert comment == "runlift athlete id."  # view column comments published from a lake too


WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from runlift.warehouse import db as wdb
    from runlift.flows.fit_pipeline import import_paths
    if __name__ == "__main__":
        attach, data, athlete, inbox, stamps = sys.argv[1:6]
        lake = wdb.Lake(attach, data)
        start = time.time()
        summary = import_paths(lake, athlete, [inbox], workers=1)
        Path(stamps).write_text(f"{start} {time.time()} {summary.files_new}")
""")


@pytest.mark.lake
@pytest.mark.skipif(_lake_unavailable() is not None, reason=_lake_unavailable() or "")
def test_writers_of_different_athletes_commit_side_by_side(lake, inbox, tmp_path):
    # (migrated by the test before, as a night's first task does: the writers race on data, not DDL)
    wdb.connect_lake(lake).close()
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    procs = {a: subprocess.Popen([sys.executable, str(script), lake.attach, lake.data_path, a, str(inbox),
                                  str(tmp_path / f"{a}.stamps")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True) for a in ("cat", "dan")}
    for a, p in procs.items():
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, f"{a}: {err[-2000:]}"
    stamps = {a: [float(x) for x in (tmp_path / f"{a}.stamps").read_text().split()] for a in procs}
    n_files = len(list(inbox.iterdir()))
    assert all(s[2] == n_files for s in stamps.values())
    # the two imports overlapped in time: neither waited for the other's lock
    assert max(s[0] for s in stamps.values()) < min(s[1] for s in stamps.values())
    con = wdb.connect_lake(lake)
    try:
        per = dict(con.execute("SELECT athlete_id, count(*) FROM raw.fit_files WHERE athlete_id IN ('cat', 'dan') "
                               "GROUP BY 1").fetchall())
        assert per == {"cat": n_files, "dan": n_files}
        records = dict(con.execute("SELECT athlete_id, count(*) FROM raw.fit_records GROUP BY 1").fetchall())
        assert records["cat"] == records["dan"] > 5_000
        # nothing doubled: every record key once
        assert wdb.scalar(con, "SELECT count(*) - count(DISTINCT (athlete_id, file_sha256, record_index)) "
                               "FROM raw.fit_records") == 0
    finally:
        con.close()


RESYNC = textwrap.dedent("""
    import datetime as dt, sys
    from runlift.warehouse import db as wdb, garmin_loader
    attach, data, athlete, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    save = garmin_loader.save_weigh_ins
    if len(sys.argv) > 5:  # the loader without its retry (shows the conflicts it settles)
        save = save.__wrapped__
    con = wdb.connect_lake(wdb.Lake(attach, data))
    day = dt.date(2026, 11, 20)
    conflicts = 0
    for i in range(rounds):  # every round replaces the athlete's weigh-ins of the day (delete + insert)
        rows = [{"sample_pk": k, "measured_at_utc": dt.datetime(2026, 11, 20, 6, k), "calendar_date": day,
                 "body_mass_kg": 60.0 + i, "body_fat_percent": None, "body_water_percent": None,
                 "bone_mass_kg": None, "muscle_mass_kg": None, "bmi_kg_m2": None, "source_type": "x"}
                for k in range(3)]
        try:
            save(con, athlete, day, day, rows)
        except Exception as exc:
            if "conflict" not in str(exc).lower() and "conflict" not in str(exc.__context__).lower():
                raise
            conflicts += 1
    print(conflicts)
""")


@pytest.mark.lake
@pytest.mark.skipif(_lake_unavailable() is not None, reason=_lake_unavailable() or "")
def test_athletes_rewriting_rows_of_one_table_at_once_all_commit(lake, tmp_path):
    """Two athletes' syncs replacing rows of the same table at once: DuckLake finds their commits in
    conflict (both deleted inlined rows of the table); the loaders retry them (db.retry_conflicts)."""
    wdb.connect_lake(lake).close()
    script = tmp_path / "resync.py"
    script.write_text(RESYNC)
    rounds = 12
    procs = {a: subprocess.Popen([sys.executable, str(script), lake.attach, lake.data_path, a, str(rounds)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for a in ("hal", "ivy")}
    for a, p in procs.items():
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, f"{a}: {err[-2000:]}"
        assert out.strip() == "0", f"{a}: {out} commits lost to conflicts"
    con = wdb.connect_lake(lake)
    try:
        rows = con.execute("SELECT athlete_id, count(*), min(body_mass_kg), max(body_mass_kg) "
                           "FROM raw.garmin_weigh_ins WHERE athlete_id IN ('hal', 'ivy') GROUP BY 1 ORDER BY 1")
        last = 60.0 + rounds - 1  # every athlete's last round, once
        assert rows.fetchall() == [("hal", 3, last, last), ("ivy", 3, last, last)]
    finally:
        con.close()


HOLDER = textwrap.dedent("""
    import sys, time
    from runlift.warehouse import db as wdb
    from runlift.warehouse.lock import writer
    attach, data, athlete = sys.argv[1:4]
    with writer(wdb.Lake(attach, data), athlete) as con, wdb.Transaction(con):
        con.execute("INSERT INTO raw.athletes (athlete_id, timezone, sex, loaded_at, acwr_flags) "
                    "VALUES (?, 'UTC', 'female', now()::TIMESTAMP, false)", [athlete])
        print("held", flush=True)
        time.sleep(float(sys.argv[4]))  # committed at the end, then the lock is let go
""")


@pytest.mark.lake
@pytest.mark.skipif(_lake_unavailable() is not None, reason=_lake_unavailable() or "")
def test_one_athletes_writers_wait_for_each_other_across_processes(lake, tmp_path):
    from runlift.warehouse.lock import LockTimeout, writer

    script = tmp_path / "holder.py"
    script.write_text(HOLDER)

    def hold(seconds: float) -> subprocess.Popen[str]:
        p = subprocess.Popen([sys.executable, str(script), lake.attach, lake.data_path, "eve", str(seconds)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert p.stdout is not None and p.stdout.readline().strip() == "held", p.stderr.read() if p.stderr else ""
        return p

    holder = hold(10.0)
    t0 = time.monotonic()
    with pytest.raises(LockTimeout, match="'athlete:eve' is held by another runlift worker"), \
            writer(lake, "eve", timeout_s=0.5):
        pass
    seen = "SELECT count(*) FROM raw.athletes WHERE athlete_id = 'eve'"
    with writer(lake, "fay", timeout_s=5.0) as con:  # another athlete: in while eve's writer holds its lock
        assert holder.poll() is None
        assert con.execute(seen).fetchone() == (0,)  # eve's writer has not committed yet
    with writer(lake, "eve", timeout_s=60) as con:  # waits for the holder, then sees its commit
        assert time.monotonic() - t0 >= 9.5
        assert con.execute(seen).fetchone() == (1,)
    holder.wait(timeout=30)

    # a holder killed with kill -9 leaves no lock behind: PostgreSQL ends its session
    killed = hold(600.0)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait(timeout=30)
    t1 = time.monotonic()
    with writer(lake, "eve", timeout_s=30):
        assert time.monotonic() - t1 < 10


@pytest.mark.lake
@pytest.mark.skipif(_lake_unavailable() is not None, reason=_lake_unavailable() or "")
def test_a_night_on_a_lake_then_lake_maintain(lake, inbox, tmp_path):
    from click.testing import CliRunner

    from runlift.flows.cli import main
    from runlift.flows.night import run_night

    config = tmp_path / "runlift.toml"
    config.write_text(f'[warehouse]\nlake = "{lake.attach}"\ndata_path = "{lake.data_path}"\n'
                      f'path = "runlift.duckdb"\nlake_expire_snapshots_days = 0\n'
                      f'[athletes.gus]\ntimezone = "{TZ}"\nfit_inbox = ["{inbox}"]\n')
    report = run_night(str(config), full=False, wait=False, as_of=END, athlete="gus")
    assert report.failures == []
    assert report.fit["gus"].files_new == len(list(inbox.iterdir()))
    assert not (tmp_path / "runlift.duckdb").exists()  # the lake is the warehouse; path names the published file
    published = duckdb.connect(str(tmp_path / "runlift.published.duckdb"), read_only=True)
    try:
        activities = published.execute("SELECT count(*) FROM marts.fct_activities WHERE athlete_id = 'gus'")
        assert activities.fetchone()[0] >= 4
    finally:
        published.close()
    con = wdb.connect_lake(lake)
    before = wdb.table_counts(con, "raw")
    # the night's maintenance expired every older snapshot (lake_expire_snapshots_days = 0)
    snapshots = wdb.scalar(con, "SELECT count(*) FROM ducklake_snapshots('lake')")
    con.execute("INSERT INTO raw.athlete_races VALUES ('gus', DATE '2027-04-01', 'spring', 21097.5, NULL)")
    con.execute("DELETE FROM raw.athlete_races WHERE athlete_id = 'gus'")
    con.close()
    assert snapshots <= 3
    out = CliRunner().invoke(main, ["lake", "maintain", "--config", str(config)])
    assert out.exit_code == 0, out.output
    assert f"snapshots {snapshots + 2} -> 1," in out.output
    con = wdb.connect_lake(lake)
    try:
        assert wdb.table_counts(con, "raw") == before
    finally:
        con.close()


# --- settings and translation: no lake needed, run everywhere ----------------------------------------

def test_lake_settings(tmp_path):
    config = tmp_path / "runlift.toml"
    config.write_text('[warehouse]\nlake = "ducklake:postgres:dbname=runlift host=127.0.0.1"\n'
                      'data_path = "lake-data"\nlake_expire_snapshots_days = 3\n')
    s = load_settings(config, db=str(tmp_path / "named.duckdb"))
    assert s.lake == wdb.Lake("ducklake:postgres:dbname=runlift host=127.0.0.1", str(tmp_path / "lake-data"), 3.0)
    assert s.target == s.lake and s.lake.catalog_dsn == "dbname=runlift host=127.0.0.1"
    assert s.published_path == tmp_path / "named.published.duckdb"  # --db names the published file
    config.write_text('[warehouse]\npath = "w.duckdb"\n')
    assert load_settings(config).target == tmp_path / "w.duckdb"
    for text, message in (
            ('lake = "ducklake:postgres:dbname=x"\n', "warehouse.data_path` is missing"),
            ('lake = "postgres:dbname=x"\ndata_path = "d"\n', "is not a DuckLake attach string"),
            ('data_path = "d"\n', "set warehouse.lake too"),
            ('lake = "ducklake:x.db"\ndata_path = "d"\nlake_expire_snapshots_days = -1\n', "number of days >= 0")):
        config.write_text("[warehouse]\n" + text)
        with pytest.raises(SettingsError, match=message):
            load_settings(config)


def test_migrations_translate_for_a_lake():
    sql = wdb.lake_sql("""CREATE TABLE raw.t (
        id VARCHAR PRIMARY KEY,
        status VARCHAR NOT NULL CHECK (status IN ('ok', 'x')),
        n INTEGER,
        PRIMARY KEY (id, n)
    );
    ALTER TABLE raw.athletes ADD COLUMN acwr_flags BOOLEAN DEFAULT false;
    ALTER TABLE raw.athletes ALTER COLUMN acwr_flags SET NOT NULL;""")
    assert "PRIMARY KEY" not in sql and "CHECK" not in sql and "SET NOT NULL" not in sql
    assert "status VARCHAR NOT NULL," in sql and "id VARCHAR," in sql
    assert ("ALTER TABLE raw.athletes ADD COLUMN acwr_flags BOOLEAN; "
            "UPDATE raw.athletes SET acwr_flags = false;") in sql
    # every shipped migration parses as a lake takes it (DuckDB's parser; no lake needed)
    for m in wdb.migrations():
        duckdb.extract_statements(wdb.lake_sql(m.sql))


@pytest.mark.lake
@pytest.mark.skipif(_lake_unavailable() is not None, reason=_lake_unavailable() or "")
def test_the_import_flows_task_writes_the_lake_it_is_given(lake, inbox, tmp_path):
    """`runlift import-fit --flow` and the fit-inbox deployment pass the lake (attach, data_path)
    to the import_fit flow's task: the files land in the lake, not in a DuckDB file at db_path."""
    from runlift.flows.import_fit import import_fit_files, target_of

    db_path = tmp_path / "not-used.duckdb"
    summary = import_fit_files.fn(str(db_path), "eve", [str(inbox)], lake=lake.attach, data_path=lake.data_path)
    assert summary.files_new == len(list(inbox.iterdir()))
    assert not db_path.exists()
    con = wdb.connect_lake(lake)
    try:
        assert wdb.scalar(con, "SELECT count(*) FROM raw.fit_files WHERE athlete_id = 'eve'") == summary.files_new
    finally:
        con.close()
    with pytest.raises(ValueError, match="needs its data_path"):
        target_of(str(db_path), lake.attach, None)
