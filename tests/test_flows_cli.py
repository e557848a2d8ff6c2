"""The Prefect flow import_fit on a real (temporary) Prefect server, and the runlift command."""

import re
from pathlib import Path

import duckdb

from runlift.flows.import_fit import import_fit

from helpers import q, runlift, snapshot

FILES = ["fitparse-tests/Activity.fit", "garmin-fenix6s/training.fit", "fitparse-tests/garmin-fenix-5-run.fit"]


def test_import_fit_flow_runs_on_prefect_and_second_run_adds_nothing(prefect_server, corpus, tmp_path):
    db = tmp_path / "w.duckdb"
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in FILES:
        (inbox / Path(name).name).write_bytes((corpus / name).read_bytes())
    state = import_fit(str(db), "me", [str(inbox)], return_state=True)
    assert state.is_completed()
    summary = state.result()
    assert (summary.files_new, summary.ok, summary.sets) == (3, 3, 8)
    before = snapshot(db)
    again = import_fit(str(db), "me", [str(inbox)])
    assert (again.files_new, again.files_known) == (0, 3)
    assert snapshot(db) == before


def test_cli_help_for_every_command():
    out = runlift("--help").stdout
    for cmd in ("init", "import-fit", "status", "sql", "demo"):
        assert cmd in out
        sub = runlift(cmd, "--help").stdout
        assert "Usage: python -m runlift.flows.cli " + cmd in sub


def test_cli_init_import_status_sql(corpus, tmp_path):
    cfg = tmp_path / "runlift.toml"
    runlift("init", "--config", str(cfg))
    assert "[athletes.me]" in cfg.read_text()
    again = runlift("init", "--config", str(cfg), check=False)
    assert again.returncode == 2 and "already exists" in again.stderr
    db = tmp_path / "x.duckdb"
    proc = runlift("import-fit", "--no-prefect", "--config", str(cfg), "--db", str(db),
                   str(corpus / FILES[1]), str(corpus / "fitparse-tests/activity-filecrc.fit"))
    assert "2 new" in proc.stdout and "1 ok, 1 partial" in proc.stdout
    assert "partial: " in proc.stdout and "CRC" in proc.stdout
    # the import built and published the marts, and says what to look at next
    assert f"published {tmp_path / 'x.published.duckdb'}" in proc.stdout and "next: `runlift dashboard`" in proc.stdout
    status = runlift("status", "--config", str(cfg), "--db", str(db), "--units", "imperial").stdout
    assert "warehouse (published)" in status
    assert "1 ok FIT files" in status and "1 partial FIT files" in status
    assert runlift("sql", "--db", str(db), "--format", "csv",
                   "SELECT count(*) AS n FROM marts.fct_strength_sets").stdout == "n\n8\n"
    out = runlift("sql", "--db", str(db), "--working",
                  "SELECT count(*) AS n FROM raw.fit_sets WHERE set_type = 'active'").stdout
    assert " 8 " in out
    bad = runlift("sql", "--db", str(db), "SELEC nonsense", check=False)
    assert bad.returncode == 2 and "runlift: error: query failed" in bad.stderr
    # read-only: a write is refused
    ro = runlift("sql", "--db", str(db), "--working", "DELETE FROM raw.fit_files", check=False)
    assert ro.returncode == 2 and "read-only" in ro.stderr.lower()
    assert q(db, "SELECT count(*) FROM raw.fit_files")[0][0] == 2


def test_cli_errors_are_one_clear_line(tmp_path):
    missing = runlift("status", "--db", str(tmp_path / "none.duckdb"), check=False)
    assert missing.returncode == 2
    assert missing.stderr.strip().count("\n") == 0 and "no warehouse at" in missing.stderr
    bad_cfg = tmp_path / "bad.toml"
    bad_cfg.write_text('units = "furlongs"\n')
    proc = runlift("status", "--config", str(bad_cfg), check=False)
    assert proc.returncode == 2 and "`units`" in proc.stderr and "Traceback" not in proc.stderr
    no_paths = runlift("import-fit", "--no-prefect", check=False)
    assert no_paths.returncode == 2 and "fit_inbox" in no_paths.stderr


def marts_content(published) -> dict:
    con = duckdb.connect(str(published), read_only=True)
    try:
        return {t: con.execute(f"SELECT * FROM marts.{t} ORDER BY ALL").fetchall()
                for t in ("fct_activities", "fct_strength_sets", "daily_training_load", "weekly_training_balance",
                          "training_flags")}
    finally:
        con.close()


def test_demo_runs_on_prefect_and_twice_gives_the_same_warehouse(prefect_server, tmp_path):
    import datetime as dt

    from runlift.flows.demo import run_demo

    lines: list[str] = []
    end = dt.date(2026, 3, 20)  # the block spans the US daylight-saving change on 2026-03-08
    db = run_demo(tmp_path / "demo", weeks=6, echo=lines.append, end_date=end)
    published = db.with_name("runlift.published.duckdb")
    first, first_marts = snapshot(db), marts_content(published)
    text = "\n".join(lines)
    assert "this week" in text and "three queries to try" in text and str(published) in text
    # two pairs of daily shoes at least, the older one retired
    assert re.search(r"\n  Pegs: [\d.]+ km over \d+ runs", text) and re.search(r"\n  Old pegs: .*; retired\n", text)
    # 6 weeks: one 12-week block, nothing before it to compare with
    assert "no block before it" in text and "  hard sets per week: quadriceps - -> " in text
    # the gym sessions logged in Hevy as well as recorded by the watch: both records, started within two minutes
    hevy = re.search(r"\nHevy: (\d+) gym sessions synced from the Hevy app .*\((\d+) of them in its FIT files too\); "
                     r"exercise names mapped to muscle groups: (\d+) seed \(", text)
    assert hevy and int(hevy[1]) >= 2 and hevy[1] == hevy[2], text
    con = duckdb.connect(str(db), read_only=True)
    offsets = dict(con.execute("""SELECT start_time_local::DATE < DATE '2026-03-08', min(utc_offset_s)
                                  FROM raw.fit_sessions GROUP BY 1""").fetchall())
    assert offsets == {True: -7 * 3600, False: -6 * 3600}  # MST, then MDT
    assert con.execute("SELECT count(*) FROM raw.fit_files "
                       "WHERE first_path LIKE '%garmin-export.zip!/%'").fetchone()[0] > 0
    assert con.execute("SELECT count(*) FROM raw.strava_activities").fetchone()[0] > 20
    # some workouts exist in both sources and count once
    assert con.execute("SELECT count(*) FROM intermediate.int_workouts WHERE sources = 'fit+strava'").fetchone()[0] > 5
    con.close()
    run_demo(tmp_path / "demo", weeks=6, echo=lines.append, end_date=end)
    assert snapshot(db) == first
    second_marts = marts_content(published)
    for table, rows in first_marts.items():
        diff = [(a, b) for a, b in zip(rows, second_marts[table], strict=False) if a != b]
        assert len(rows) == len(second_marts[table]) and not diff, (table, diff[:2])


def test_prefect_yaml_entrypoints_resolve():
    import importlib

    import yaml

    from conftest import ROOT

    doc = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    assert doc["deployments"], "prefect.yaml has no deployments"
    for dep in doc["deployments"]:
        path, name = dep["entrypoint"].split(":")
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        flow_obj = getattr(module, name)
        assert hasattr(flow_obj, "deploy"), f"{dep['entrypoint']} is not a Prefect flow"
        assert set(dep.get("parameters", {})) <= set(flow_obj.parameters.properties)
        assert dep["work_pool"]["name"] == "runlift"


def test_import_fit_inbox_reads_the_settings(prefect_server, corpus, tmp_path):
    from runlift.flows.import_fit import import_fit_inbox

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.fit").write_bytes((corpus / FILES[0]).read_bytes())
    cfg = tmp_path / "runlift.toml"
    cfg.write_text('[warehouse]\npath = "w.duckdb"\n[athletes.ana]\nfit_inbox = ["inbox"]\n'
                   '[athletes.bo]\ntimezone = "UTC"\n')
    results = import_fit_inbox(str(cfg))
    assert list(results) == ["ana"] and results["ana"].files_new == 1
    assert q(tmp_path / "w.duckdb", "SELECT athlete_id, count(*) FROM raw.fit_files GROUP BY 1") == [("ana", 1)]
