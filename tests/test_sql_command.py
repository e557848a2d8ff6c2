"""`runlift sql` as people use it: the whole DuckDB error, output formats, the query from a file or
standard input, rounded floats in tables only, hints for raw.* on the published file and unbuilt marts."""

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from helpers import runlift


@pytest.fixture
def files(tmp_path) -> tuple[Path, Path]:
    """A working warehouse file with raw.* only, and a published file with a mart."""
    db = tmp_path / "w.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE SCHEMA raw; CREATE TABLE raw.fit_files AS SELECT 'a' AS file_sha256 UNION ALL SELECT 'b'")
    con.close()
    published = tmp_path / "w.published.duckdb"
    con = duckdb.connect(str(published))
    con.execute("""CREATE SCHEMA marts;
        CREATE TABLE marts.fct_activities AS SELECT * FROM (VALUES
            (DATE '2026-11-30', 46.941199999999995::DOUBLE, 0.000123456::DOUBLE, 'run|trail', 7),
            (DATE '2026-12-01', 10.0 / 3, NULL, 'strength', NULL)) t(local_date, distance_km, tiny, kind, sets)""")
    con.close()
    return db, published


def sql(db: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "runlift.flows.cli", "sql", "--db", str(db), *args],
                          capture_output=True, text=True, input=stdin, timeout=60)


Q = "SELECT local_date, distance_km, tiny, kind, sets FROM marts.fct_activities ORDER BY local_date"


def test_table_rounds_floats_for_reading(files):
    out = sql(files[0], Q)
    assert out.returncode == 0, out.stderr
    assert "46.9412" in out.stdout and "46.9411999" not in out.stdout
    assert "3.3333" in out.stdout and "0.000123" in out.stdout and "0.0001234" not in out.stdout


def test_csv_json_markdown_give_every_value_as_stored(files):
    rows = list(csv.reader(io.StringIO(sql(files[0], "--format", "csv", Q).stdout)))
    assert rows == [["local_date", "distance_km", "tiny", "kind", "sets"],
                    ["2026-11-30", "46.941199999999995", "0.000123456", "run|trail", "7"],
                    ["2026-12-01", "3.3333333333333335", "", "strength", ""]]
    data = json.loads(sql(files[0], "--format", "json", Q).stdout)
    assert data == [{"local_date": "2026-11-30", "distance_km": 46.941199999999995, "tiny": 0.000123456,
                     "kind": "run|trail", "sets": 7},
                    {"local_date": "2026-12-01", "distance_km": 10.0 / 3, "tiny": None, "kind": "strength",
                     "sets": None}]
    md = sql(files[0], "--format", "markdown", Q).stdout.splitlines()
    assert md[:3] == ["| local_date | distance_km | tiny | kind | sets |", "|---|---|---|---|---|",
                      "| 2026-11-30 | 46.941199999999995 | 0.000123456 | run\\|trail | 7 |"]
    assert json.loads(sql(files[0], "--format", "json", "SELECT 1 AS x WHERE false").stdout) == []


def test_more_rows_than_max_rows_in_csv(files, tmp_path):
    out = sql(files[0], "--format", "csv", "SELECT range AS n FROM range(50000)")
    lines = out.stdout.splitlines()
    assert len(lines) == 50001 and lines[-1] == "49999"


def test_query_from_a_file_and_from_standard_input(files, tmp_path):
    query_file = tmp_path / "q.sql"
    query_file.write_text("-- how many\nSELECT count(*) AS n\nFROM marts.fct_activities\n")
    assert sql(files[0], "--format", "csv", "--file", str(query_file)).stdout == "n\n2\n"
    assert sql(files[0], "--format", "csv", "-", stdin="SELECT 41 + 1 AS answer").stdout == "answer\n42\n"
    assert sql(files[0], "--format", "csv", "--file", "-", stdin="SELECT 7 AS n").stdout == "n\n7\n"
    both = sql(files[0], "SELECT 1", "--file", str(query_file))
    assert both.returncode == 2 and "not both" in both.stderr
    empty = sql(files[0], "-", stdin="  \n")
    assert empty.returncode == 2 and "no query" in empty.stderr


def test_the_whole_duckdb_error_is_shown(files):
    out = sql(files[0], "SELECT distnce_km FROM marts.fct_activities")
    assert out.returncode == 2
    assert out.stderr.startswith("runlift: error: query failed: Binder Error: Referenced column \"distnce_km\"")
    # the lines after the first: DuckDB's candidates (issue 13: only the first line was kept)
    assert "Candidate bindings" in out.stderr and '"distance_km"' in out.stderr
    assert "Traceback" not in out.stderr


def test_raw_on_the_published_file_suggests_working(files):
    out = sql(files[0], "SELECT count(*) FROM raw.fit_files")
    assert out.returncode == 2
    assert "hint: raw.* and ops.* are in the working warehouse only: add --working" in out.stderr
    assert sql(files[0], "--working", "--format", "csv", "SELECT count(*) AS n FROM raw.fit_files").stdout == "n\n2\n"


def test_marts_missing_in_the_working_warehouse_suggests_build(files):
    out = sql(files[0], "--working", "SELECT count(*) FROM marts.fct_activities")
    assert out.returncode == 2 and "runlift build" in out.stderr


def test_sql_offers_no_units_or_athlete(files):
    """Its results are the stored SI values; an option that did nothing is not offered (issue 19)."""
    help_text = runlift("sql", "--help").stdout
    assert "--units" not in help_text and "--athlete" not in help_text
    out = sql(files[0], "--units", "imperial", "SELECT 1")
    assert out.returncode == 2 and "No such option" in out.stderr
