"""The published file: what it holds (and never holds), readers in other processes while nights
publish, the DuckDB versions that open it, the example queries of docs/warehouse.md, and the
Parquet export."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from runlift.warehouse import db as wdb
from runlift.warehouse.build import MARTS
from runlift.warehouse.docgen import EXAMPLE_QUERIES
from runlift.warehouse.lock import write_lock
from runlift.warehouse.publish import LOCATION_TABLE, PUBLISHED_STAGING, publish

from conftest import CORPUS, ROOT
from helpers import duckdb_cli, q, runlift

DEMO_END = dt.date(2025, 6, 15)
PUBLISHED_OPS = {"fit_files", "import_runs", "strava_sync_runs", "strava_rate_limit", "strava_activity_counts",
                 "hevy_sync_runs", "garmin_sync_state", "published"}
# Location columns are matched by name part, not substring: `relative_intensity`,
# `vertical_oscillation_m` (…lat…) and `longest_run_m` (…long…) are not positions.
LOCATION_PART = re.compile(r"(^|_)(lat|lng|long|latlng|latitude|longitude|polyline|map|position|positions|gps|geom|"
                           r"geometry|coords?)(_|$)|polyline|latlng", re.I)
# One mart query, formatted the same by every DuckDB version (decimals and dates as text).
MART_QUERY = """SELECT concat_ws('|', count(*), sum(distance_m::DECIMAL(18, 3)), sum(impact_load_kbw::DECIMAL(18, 3)),
    sum(session_load_au::DECIMAL(18, 3)), max(local_date)::VARCHAR) FROM marts.fct_activities"""


def location_columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [f"{s}.{t}.{c}" for s, t, c in con.execute(
        "SELECT schema_name, table_name, column_name FROM duckdb_columns() "
        "WHERE database_name = current_database() ORDER BY ALL").fetchall() if LOCATION_PART.search(c)]


@pytest.fixture(scope="module")
def demo(prefect_server, tmp_path_factory) -> tuple[Path, Path]:
    """The 6-week demo, run once for this module: (working warehouse, published file)."""
    from runlift.flows.demo import run_demo

    folder = tmp_path_factory.mktemp("publish-demo")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RUNLIFT_HOME", str(folder / "home"))
        db = run_demo(folder / "demo", weeks=6, echo=lambda _line: None, end_date=DEMO_END)
    published = db.with_name("runlift.published.duckdb")
    assert published.is_file()
    return db, published


# --- (a) what the published file holds ------------------------------------------------------------

def test_published_file_holds_the_models_as_tables_with_comments_and_no_location(demo, tmp_path):
    db, published = demo
    pub = duckdb.connect(str(published), read_only=True)
    work = duckdb.connect(str(db), read_only=True)
    try:
        tables = {(s, t) for s, t in pub.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database()").fetchall()}
        expected = ({("marts", m) for m in MARTS} | {("staging", v) for v in PUBLISHED_STAGING}
                    | {("ops", o) for o in PUBLISHED_OPS})
        assert tables == expected  # an exact inventory: nothing else leaks in
        assert pub.execute("SELECT count(*) FROM duckdb_views() WHERE NOT internal").fetchone()[0] == 0
        schemas = {r[0] for r in pub.execute(
            "SELECT schema_name FROM duckdb_schemas() WHERE database_name = current_database()").fetchall()}
        assert "raw" not in schemas and "intermediate" not in schemas, schemas
        assert location_columns(pub) == []
        assert pub.execute("SELECT include_location FROM ops.published").fetchone()[0] is False
        assert pub.execute("SELECT count(*) FROM duckdb_columns() WHERE database_name = current_database() "
                           "AND schema_name = 'ops' AND table_name = 'fit_files' AND column_name = 'blob_path'"
                           ).fetchone()[0] == 0
        for schema, name in sorted(expected - {("ops", o) for o in PUBLISHED_OPS}):
            src_comment = work.execute(
                "SELECT comment FROM duckdb_tables() WHERE schema_name = ? AND table_name = ? UNION ALL "
                "SELECT comment FROM duckdb_views() WHERE schema_name = ? AND view_name = ?",
                [schema, name, schema, name]).fetchone()[0]
            pub_comment = pub.execute("SELECT comment FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
                                      [schema, name]).fetchone()[0]
            assert src_comment and pub_comment == src_comment, f"{schema}.{name}"
            col_sql = ("SELECT column_name, data_type, comment FROM duckdb_columns() "
                       "WHERE schema_name = ? AND table_name = ? ORDER BY column_index")
            src_cols = work.execute(col_sql, [schema, name]).fetchall()
            assert pub.execute(col_sql, [schema, name]).fetchall() == src_cols, f"{schema}.{name}"
            assert all(comment for _c, _t, comment in src_cols), f"{schema}.{name} has a column without a comment"
            count_sql = f"SELECT count(*) FROM {schema}.{name}"
            assert pub.execute(count_sql).fetchone() == work.execute(count_sql).fetchone(), f"{schema}.{name}"
        assert pub.execute("SELECT count(*) FROM marts.fct_activities").fetchone()[0] > 20
        # the working warehouse does have positions: the check above is not vacuous
        assert work.execute("SELECT count(*) FROM raw.fit_records WHERE position_lat_deg IS NOT NULL").fetchone()[0] > 0
    finally:
        pub.close()
        work.close()

    # include_location: the positions table appears (and the name check finds its columns)
    with_location = tmp_path / "with-location.duckdb"
    with write_lock(db):
        con = wdb.connect(db)
        try:
            result = publish(con, with_location, include_location=True)
        finally:
            con.close()
    assert result.tables[f"staging.{LOCATION_TABLE}"] > 0
    loc = duckdb.connect(str(with_location), read_only=True)
    try:
        assert location_columns(loc) == [f"staging.{LOCATION_TABLE}.position_lat_deg",
                                         f"staging.{LOCATION_TABLE}.position_long_deg"]
        assert loc.execute(f"SELECT count(*) FROM staging.{LOCATION_TABLE} "
                           "WHERE position_lat_deg IS NULL").fetchone()[0] == 0
        assert loc.execute("SELECT include_location FROM ops.published").fetchone()[0] is True
    finally:
        loc.close()


# --- (b) readers in other processes while nights publish ------------------------------------------

NIGHT_FILES = [  # small single-session activity files of the corpus; each night adds its own number
    ["fitparse-tests/garmin-fenix-5-run.fit"],
    ["fitparse-tests/garmin-fenix-5-bike.fit", "fitparse-tests/garmin-fenix-5-walk.fit"],
    # (not garmin-edge-820-bike.fit: the ride of garmin-fenix-5-bike.fit on a second device, one workout)
    ["fitparse-tests/activity-small-fenix2-run.fit"],
    ["fitparse-tests/Activity.fit", "fitparse-tests/2015-10-13-08-43-15.fit"],
    ["fitparse-tests/2013-02-06-12-11-14.fit", "garmin-fenix6s/training_strength.fit", "misc/0134902991.fit"],
    ["garmin-fenix6s/bouldering.fit"],
]

READER = r"""
import duckdb, json, os, sys, time
path, out, ready, stop, max_s = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
deadline = time.monotonic() + max_s
with open(out, "w") as fh:
    while not os.path.exists(stop) and time.monotonic() < deadline:
        try:
            con = duckdb.connect(path, read_only=True)
            try:
                seen = [con.execute("SELECT count(*) FROM marts.fct_activities").fetchone()[0],
                        int(con.execute("SELECT sum(workouts) FROM marts.dim_athlete").fetchone()[0]),
                        con.execute("SELECT published_at::VARCHAR FROM ops.published").fetchone()[0]]
            finally:
                con.close()
            fh.write(json.dumps({"seen": seen}) + "\n")
        except Exception as exc:
            fh.write(json.dumps({"error": f"{type(exc).__name__}: {exc}"}) + "\n")
        if not os.path.exists(ready):
            open(ready, "w").close()
"""

HOLDER = r"""
import duckdb, sys
path, q = sys.argv[1], "SELECT count(*) FROM marts.fct_activities"
held = duckdb.connect(path, read_only=True)
print(held.execute(q).fetchone()[0], flush=True)
sys.stdin.readline()  # the test publishes a new night meanwhile
print(held.execute(q).fetchone()[0], flush=True)
again = duckdb.connect(path, read_only=True)  # while `held` is open, this process gets the same (old) database
print(again.execute(q).fetchone()[0], flush=True)
again.close()
held.close()
fresh = duckdb.connect(path, read_only=True)  # every connection closed: the next one opens the new file
print(fresh.execute(q).fetchone()[0], flush=True)
"""


@dataclass(frozen=True)
class Night:
    activities: int
    workouts: int
    published_at: str
    publish_s: float

    @property
    def seen(self) -> tuple[int, int, str]:
        return (self.activities, self.workouts, self.published_at)


class Nights:
    """A small warehouse fed night after night through the nightly flow's own tasks (without
    Prefect): new FIT files in the inbox → import → build → publish."""

    def __init__(self, folder: Path) -> None:
        if not CORPUS.is_dir():
            pytest.fail(f"FIT corpus not found at {CORPUS} (it is expected beside the project as ../shared)")
        folder.mkdir(parents=True, exist_ok=True)
        self.inbox = folder / "inbox"
        self.inbox.mkdir(exist_ok=True)
        self.config = folder / "runlift.toml"
        self.config.write_text('[warehouse]\npath = "w.duckdb"\n\n[athletes.me]\ntimezone = "Europe/Berlin"\n'
                               'fit_inbox = ["inbox"]\n', encoding="utf-8")
        self.published = folder / "w.published.duckdb"

    def run(self, files: list[str]) -> Night:
        from runlift.flows.nightly import build_marts, import_fit_inbox, publish_for_dashboards

        for name in files:
            shutil.copy(CORPUS / name, self.inbox / name.replace("/", "__"))
        summary = import_fit_inbox.fn(str(self.config), "me")
        assert summary.files_new == len(files), summary.lines()
        build = build_marts.fn(str(self.config), dt.date(2025, 1, 1))
        assert not build.failures, build.failures
        t0 = time.perf_counter()
        result = publish_for_dashboards.fn(str(self.config))
        publish_s = time.perf_counter() - t0
        assert result.path == self.published
        con = duckdb.connect(str(self.published), read_only=True)
        try:
            stamp = con.execute("SELECT published_at::VARCHAR FROM ops.published").fetchone()[0]
            workouts = int(con.execute("SELECT sum(workouts) FROM marts.dim_athlete").fetchone()[0])
        finally:
            con.close()
        return Night(result.tables["marts.fct_activities"], workouts, stamp, publish_s)


def test_readers_in_other_processes_only_ever_see_whole_nights(tmp_path):
    nights = Nights(tmp_path / "nights")
    published = [nights.run(NIGHT_FILES[0])]
    stop = tmp_path / "stop"
    readers = []
    for i in range(3):
        out, ready = tmp_path / f"reader{i}.jsonl", tmp_path / f"reader{i}.ready"
        proc = subprocess.Popen([sys.executable, "-c", READER, str(nights.published), str(out), str(ready), str(stop),
                                 "60"],
                                stderr=subprocess.PIPE, text=True)
        readers.append((proc, out, ready))
    try:
        deadline = time.monotonic() + 30
        while not all(ready.exists() for _p, _o, ready in readers):
            assert time.monotonic() < deadline, "the readers did not start"
            assert all(p.poll() is None for p, _o, _r in readers), "a reader exited early"
            time.sleep(0.05)
        for files in NIGHT_FILES[1:5]:
            published.append(nights.run(files))
            time.sleep(0.3)  # let the readers read this night
        stop.touch()
        for proc, _out, _ready in readers:
            _, err = proc.communicate(timeout=30)
            assert proc.returncode == 0, err
    finally:
        stop.touch()
        for proc, _out, _ready in readers:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    counts = [n.activities for n in published]
    assert counts == sorted(set(counts)), f"every night must have its own activity count: {counts}"
    assert all(n.activities == n.workouts for n in published)
    known = {n.seen for n in published}
    seen_nights = set()
    for i, (_proc, out, _ready) in enumerate(readers):
        lines = [json.loads(line) for line in out.read_text().splitlines()]
        errors = [line["error"] for line in lines if "error" in line]
        assert not errors, f"reader {i} failed {len(errors)} of {len(lines)} reads: {errors[:3]}"
        assert len(lines) >= 20, f"reader {i} read only {len(lines)} times"
        seen = {tuple(line["seen"]) for line in lines}
        assert seen <= known, f"reader {i} saw a state that was never published: {seen - known}"
        seen_nights |= seen
    assert len(seen_nights) >= 3, f"the readers saw only {len(seen_nights)} of {len(published)} nights"
    # the writer never waits for readers: it never opens the published path, it renames over it
    assert max(n.publish_s for n in published) < 5.0, [round(n.publish_s, 2) for n in published]
    leftovers = sorted(p.name for p in nights.published.parent.iterdir()
                       if p.name.startswith(".") or p.suffix == ".wal")
    assert leftovers == []


def test_a_reader_holding_the_file_keeps_its_night_and_does_not_block_the_next(tmp_path):
    nights = Nights(tmp_path / "nights")
    first = nights.run(NIGHT_FILES[0] + NIGHT_FILES[1])
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(nights.published)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == str(first.activities)
        second = nights.run(NIGHT_FILES[2])  # published while the holder has the old file open
        assert second.activities > first.activities
        assert second.publish_s < 5.0
        out, err = holder.communicate("go\n", timeout=30)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    assert holder.returncode == 0, err
    held, again, fresh = (int(x) for x in out.split())
    assert held == first.activities  # the held connection keeps its consistent old night
    # duckdb.connect() in a process that still holds a connection to the path returns that (old)
    # database; docs/dashboards.md tells notebook users to close every connection to reconnect
    assert again == first.activities
    assert fresh == second.activities


# --- (c) the DuckDB versions that open it -------------------------------------------------------

def duckdb14_python() -> Path:
    """Python of a separate virtual environment with DuckDB 1.4 (cached in .venv-duckdb14, git-ignored)."""
    venv = ROOT / ".venv-duckdb14"
    python, marker = venv / "bin" / "python", venv / ".runlift-duckdb14-ok"
    if marker.exists() and python.exists():
        return python
    shutil.rmtree(venv, ignore_errors=True)
    steps = [[sys.executable, "-m", "venv", str(venv)],
             [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "duckdb>=1.4,<1.5"]]
    for step in steps:
        try:
            proc = subprocess.run(step, capture_output=True, text=True, timeout=600)
        except subprocess.TimeoutExpired:
            pytest.fail(f"timed out: {' '.join(step)}")
        if proc.returncode != 0:
            pytest.fail(f"could not set up DuckDB 1.4 in {venv} ({' '.join(step[-3:])} failed: "
                        f"{(proc.stderr or proc.stdout).strip()[-800:]}); without it the test cannot check that "
                        "DuckDB 1.4 opens the published file. Fix the network/pip access, or install it by hand: "
                        f"python3 -m venv {venv} && {python} -m pip install 'duckdb>=1.4,<1.5' && touch {marker}")
    version = subprocess.run([str(python), "-c", "import duckdb; print(duckdb.__version__)"],
                             capture_output=True, text=True, check=True).stdout.strip()
    if not version.startswith("1.4."):
        pytest.fail(f"{venv} has DuckDB {version}, not 1.4.x")
    marker.write_text(version + "\n")
    return python


def test_published_file_opens_in_duckdb_cli_1_5_and_duckdb_1_4(demo):
    _db, published = demo
    con = duckdb.connect(str(published), read_only=True)
    try:
        expected = con.execute(MART_QUERY).fetchone()[0]
        storage = con.execute("SELECT tags['storage_version'] FROM duckdb_databases() "
                              "WHERE database_name = current_database()").fetchone()[0]
    finally:
        con.close()
    assert storage.startswith(wdb.STORAGE_VERSION), storage
    assert int(expected.split("|")[0]) > 20

    cli = duckdb_cli()
    version = subprocess.run([cli, "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("v1.5"), version
    out = subprocess.run([cli, "-readonly", "-noheader", "-list", str(published), MART_QUERY.replace("\n", " ") + ";"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == expected

    python14 = duckdb14_python()
    script = ("import duckdb, json, sys; con = duckdb.connect(sys.argv[1], read_only=True); "
              "print(json.dumps([duckdb.__version__, con.execute(sys.argv[2]).fetchone()[0]]))")
    out = subprocess.run([str(python14), "-c", script, str(published), MART_QUERY], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    version14, value14 = json.loads(out.stdout)
    assert version14.startswith("1.4.")
    assert value14 == expected


# --- docs/warehouse.md example queries ----------------------------------------------------------

@pytest.mark.parametrize("question,sql", EXAMPLE_QUERIES,
                         ids=[question.split(" (")[0] for question, _ in EXAMPLE_QUERIES])
def test_example_query_answers_on_the_published_demo(demo, question, sql):
    _db, published = demo
    rows = q(published, sql)
    assert rows, f"example query {question!r} returned no row on the demo"


def test_there_are_ten_example_queries_and_docs_show_them():
    assert len(EXAMPLE_QUERIES) == 10
    text = (ROOT / "docs" / "warehouse.md").read_text(encoding="utf-8")
    for question, sql in EXAMPLE_QUERIES:
        assert question in text and sql in text


# --- Parquet export -----------------------------------------------------------------------------

def test_export_parquet_writes_every_published_table(demo, tmp_path):
    from runlift.warehouse.export import export_parquet

    _db, published = demo
    before = hashlib.sha256(published.read_bytes()).hexdigest()
    out_dir = tmp_path / "parquet"
    holder = duckdb.connect(str(published), read_only=True)  # a reader has it open: the export still works
    try:
        paths = export_parquet(published, out_dir)
        export_parquet(published, out_dir)  # again, over the first export
        expected = {f"{s}.{t}": holder.execute(f"SELECT count(*) FROM {s}.{t}").fetchone()[0]
                    for s, t in holder.execute("SELECT schema_name, table_name FROM duckdb_tables() "
                                               "WHERE schema_name IN ('marts', 'staging')").fetchall()}
        columns = {name: [r[0] for r in holder.execute(f"DESCRIBE {name}").fetchall()] for name in expected}
        activities = holder.execute("SELECT * FROM marts.fct_activities ORDER BY activity_key").fetchall()
    finally:
        holder.close()
    assert set(paths) == set(expected) == {f"marts.{m}" for m in MARTS} | {f"staging.{v}" for v in PUBLISHED_STAGING}
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(f"{name}.parquet" for name in expected)  # no temp files
    assert hashlib.sha256(published.read_bytes()).hexdigest() == before  # read only
    reader = duckdb.connect()
    try:
        for name, path in paths.items():
            assert path == out_dir / f"{name}.parquet"
            assert reader.execute("SELECT count(*) FROM read_parquet(?)", [str(path)]).fetchone()[0] == expected[name]
            assert [r[0] for r in reader.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()] \
                == columns[name]
        back = reader.execute("SELECT * FROM read_parquet(?) ORDER BY activity_key",
                              [str(paths["marts.fct_activities"])]).fetchall()
        assert back == activities
        meta = dict(reader.execute("SELECT decode(key), decode(value) FROM parquet_kv_metadata(?)",
                                   [str(paths["marts.fct_activities"])]).fetchall())
        assert meta["runlift_table"] == "marts.fct_activities" and meta["as_of_date"] == DEMO_END.isoformat()
        assert meta["comment"].startswith("One row per workout")
    finally:
        reader.close()
    with pytest.raises(FileNotFoundError, match="no published file"):
        export_parquet(tmp_path / "missing.duckdb", out_dir)


def test_export_athlete_writes_that_athletes_rows_only(tmp_path):
    """`runlift export --athlete a` (issue 19: --athlete was offered and did nothing)."""
    published = tmp_path / "w.published.duckdb"
    con = duckdb.connect(str(published))
    con.execute("CREATE SCHEMA marts; CREATE SCHEMA staging; "
                "CREATE TABLE marts.fct_activities AS "
                "SELECT * FROM (VALUES ('a', 1), ('b', 2), ('a', 3)) t(athlete_id, n); "
                "CREATE TABLE staging.stg_x AS SELECT * FROM (VALUES ('b', 9)) t(athlete_id, n)")
    con.close()
    out = tmp_path / "parquet"
    cfg = tmp_path / "runlift.toml"
    cfg.write_text('[athletes.a]\ntimezone = "UTC"\n[athletes.b]\ntimezone = "UTC"\n')
    proc = runlift("export", "--config", str(cfg), "--db", str(tmp_path / "w.duckdb"), "--athlete", "a",
                   "--parquet", str(out), env={"HOME": str(tmp_path)})
    assert "(athlete a only)" in proc.stdout
    reader = duckdb.connect()
    try:
        assert reader.execute("SELECT athlete_id, n FROM read_parquet(?) ORDER BY n",
                              [str(out / "marts.fct_activities.parquet")]).fetchall() == [("a", 1), ("a", 3)]
        assert reader.execute("SELECT count(*) FROM read_parquet(?)",
                              [str(out / "staging.stg_x.parquet")]).fetchall() == [(0,)]
        meta = dict(reader.execute("SELECT decode(key), decode(value) FROM parquet_kv_metadata(?)",
                                   [str(out / "marts.fct_activities.parquet")]).fetchall())
        assert meta["athlete_id"] == "a"
    finally:
        reader.close()
    every = tmp_path / "every"
    runlift("export", "--config", str(cfg), "--db", str(tmp_path / "w.duckdb"), "--parquet", str(every),
            env={"HOME": str(tmp_path)})
    with duckdb.connect() as reader:
        assert reader.execute("SELECT count(*) FROM read_parquet(?)",
                              [str(every / "marts.fct_activities.parquet")]).fetchall() == [(3,)]
    assert "--units [" not in runlift("export", "--help").stdout
