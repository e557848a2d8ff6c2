"""Commands run at the speed of the engine: without a Prefect server configured, `runlift sync`,
`backfill` and `import-fit` run the pipeline directly (no temporary server, no Prefect logs, nothing
written to PREFECT_HOME); with a server configured, or --prefect, they are flow runs."""

import os
import subprocess
import sys
from pathlib import Path

from runlift.flows.cli import prefect_configured
from runlift.standins.config import write_settings

from helpers import q

CORPUS_RUN = "fitparse-tests/activity-small-fenix2-run.fit"


def run(args: list[str], tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "RUNLIFT_", "STRAVA_"))}
    env.update(HOME=str(tmp_path / "home"), PREFECT_HOME=str(tmp_path / "prefect-home"), **extra)
    (tmp_path / "home").mkdir(exist_ok=True)
    (tmp_path / "prefect-home").mkdir(exist_ok=True)
    return subprocess.run([sys.executable, "-m", "runlift.flows.cli", *args], capture_output=True, text=True,
                          env=env, timeout=300, cwd=tmp_path)


def test_prefect_configured_reads_the_environment_and_the_active_profile(tmp_path):
    assert not prefect_configured({"PREFECT_HOME": str(tmp_path)})
    assert prefect_configured({"PREFECT_API_URL": "http://127.0.0.1:4200/api"})
    (tmp_path / "profiles.toml").write_text(
        'active = "local"\n[profiles.local]\nPREFECT_API_URL = "http://127.0.0.1:4200/api"\n[profiles.ephemeral]\n')
    assert prefect_configured({"PREFECT_HOME": str(tmp_path)})
    assert not prefect_configured({"PREFECT_HOME": str(tmp_path), "PREFECT_PROFILE": "ephemeral"})
    (tmp_path / "profiles.toml").write_text("not toml [")
    assert not prefect_configured({"PREFECT_HOME": str(tmp_path)})


def test_sync_and_import_without_a_server_start_none(corpus, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "run.fit").write_bytes((corpus / CORPUS_RUN).read_bytes())
    cfg = write_settings(tmp_path, athlete="me", timezone="UTC", warehouse=str(tmp_path / "w.duckdb"),
                         athlete_settings={"fit_inbox": [str(inbox)]})
    sync = run(["sync", "--config", str(cfg), "--as-of", "2012-01-01"], tmp_path)
    assert sync.returncode == 0, sync.stderr
    assert "Status: ok" in sync.stdout and f"Warehouse: `{tmp_path / 'w.duckdb'}`" in sync.stdout
    assert q(tmp_path / "w.duckdb", "SELECT count(*) FROM raw.fit_files WHERE status = 'ok'") == [(1,)]
    imported = run(["import-fit", "--config", str(cfg), str(corpus / "fitparse-tests/Activity.fit")], tmp_path)
    assert imported.returncode == 0, imported.stderr
    for proc in (sync, imported):
        # no temporary server, no Prefect log lines, no telemetry attempt
        assert "prefect" not in proc.stderr.lower(), proc.stderr
    assert list((tmp_path / "prefect-home").iterdir()) == []  # Prefect never ran: its home stays empty
    assert (tmp_path / "w.published.duckdb").exists()


def test_sync_failure_is_one_line_without_a_server(tmp_path):
    """Issue 13: `runlift sync` printed a full traceback when Strava failed."""
    cfg = write_settings(tmp_path, athlete="me", timezone="UTC", warehouse=str(tmp_path / "w.duckdb"),
                         strava={"client_id": "1", "client_secret": "s", "base_url": "http://127.0.0.1:9",
                                 "retries": 0, "timeout_s": 2})
    proc = run(["sync", "--config", str(cfg), "--as-of", "2026-01-01"], tmp_path, STRAVA_REFRESH_TOKEN="x")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    errors = [line for line in proc.stderr.splitlines() if line.startswith("runlift: error:")]
    assert len(errors) == 1 and "the nightly_sync run failed: Strava for me" in errors[0], proc.stderr
    assert "Status: FAILED" in proc.stdout  # what did run is still reported


def test_import_builds_and_publishes_unless_told_not_to(corpus, tmp_path):
    """Issue 13: after `import-fit` there was nothing to see until `runlift build`."""
    db, published = tmp_path / "w.duckdb", tmp_path / "w.published.duckdb"
    run_file = str(corpus / CORPUS_RUN)
    first = run(["import-fit", "--db", str(db), "--no-build", run_file], tmp_path)
    assert first.returncode == 0, first.stderr
    assert not published.exists() and "built the marts" not in first.stdout
    again = run(["import-fit", "--db", str(db), run_file], tmp_path)
    assert "nothing new: the marts are as they were" in again.stdout and not published.exists()
    new = run(["import-fit", "--db", str(db), str(corpus / "fitparse-tests/Activity.fit")], tmp_path)
    assert new.returncode == 0, new.stderr
    assert f"and published {published}" in new.stdout and "next: `runlift dashboard`" in new.stdout
    assert q(published, "SELECT count(*) FROM marts.fct_activities") == [(2,)]


def test_status_athlete_shows_that_athlete_only(corpus, tmp_path):
    """Issue 19: `runlift status --athlete bob` listed every athlete."""
    from runlift.flows.fit_pipeline import import_paths

    db = tmp_path / "w.duckdb"
    import_paths(db, "ana", [str(corpus / CORPUS_RUN)], workers=1)
    import_paths(db, "bob", [str(corpus / "fitparse-tests/Activity.fit"),
                             str(corpus / "fitparse-tests/activity-filecrc.fit")], workers=1)
    cfg = tmp_path / "runlift.toml"
    cfg.write_text('[athletes.ana]\ntimezone = "UTC"\n[athletes.bob]\ntimezone = "UTC"\n')
    every = run(["status", "--config", str(cfg), "--db", str(db)], tmp_path)
    assert "  ana: 1 ok FIT files" in every.stdout and "  bob: 1 ok FIT files" in every.stdout, every.stderr
    bob = run(["status", "--config", str(cfg), "--db", str(db), "--athlete", "bob"], tmp_path)
    assert bob.returncode == 0, bob.stderr
    assert "athlete bob" in bob.stdout.splitlines()[0]
    assert "  bob: 1 ok FIT files" in bob.stdout and "  bob: 1 partial FIT files" in bob.stdout
    assert "ana" not in bob.stdout
    assert "last FIT import: " in bob.stdout and "for bob" in bob.stdout
    ana = run(["status", "--config", str(cfg), "--db", str(db), "--athlete", "ana"], tmp_path)
    assert "bob" not in ana.stdout and "partial" not in ana.stdout  # bob's problem file is not ana's


def test_skipped_files_say_why_in_the_import_and_in_status(corpus, tmp_path):
    """Issue 13: the import said "17 skipped" without why; status lists files grouped by reason."""
    db = tmp_path / "w.duckdb"
    files = [str(corpus / n) for n in
             ("fitparse-tests/MonitoringFile.fit", "garmin-fenix6s/monitor1_with_all.fit",
              "fitparse-tests/Settings.fit",
              "fitparse-tests/activity-filecrc.fit", "fitparse-tests/Activity.fit")]
    proc = run(["import-fit", "--db", str(db), "--no-build", *files], tmp_path)
    assert proc.returncode == 0, proc.stderr
    skipped = [line for line in proc.stdout.splitlines() if line.startswith("skipped, not workouts: ")]
    assert skipped == ["skipped, not workouts: 2 not an activity (file type monitoring_b), "
                       "1 not an activity (file type settings)"]
    status = run(["status", "--db", str(db), "--working"], tmp_path).stdout
    assert "FIT files not imported whole, by reason:" in status
    lines = status.splitlines()
    at = lines.index("FIT files not imported whole, by reason:")
    assert lines[at + 1].startswith("  skipped: 2 files: not an activity (file type monitoring_b): e.g. ")
    assert lines[at + 1].endswith("(and 1 more)")
    assert any(x.startswith("  partial: 1 file: file CRC mismatch: e.g. ") for x in lines[at + 2:at + 4])
    assert any(x.startswith("  skipped: 1 file: not an activity (file type settings): e.g. ")
               for x in lines[at + 2:at + 4])


def test_the_demo_leaves_settings_a_later_sync_can_use(prefect_server, tmp_path):
    """Issue 13: the demo's runlift.toml kept the emulator's dead address; `runlift sync` retried and exited 1."""
    from prefect.settings import get_current_settings

    # the demo's flow runs on the session's test server: a temporary server of its own costs a start
    # and migrations (and times out on a busy machine); the settings it leaves are the same
    demo = run(["demo", "--dir", str(tmp_path / "demo"), "--weeks", "2"], tmp_path,
               PREFECT_API_URL=str(get_current_settings().api.url))
    assert demo.returncode == 0, demo.stderr
    cfg = tmp_path / "demo" / "runlift.toml"
    text = cfg.read_text()
    assert "\n[strava]" not in text and "127.0.0.1" not in text and "FIT inbox only" in text
    sync = run(["sync", "--config", str(cfg)], tmp_path)
    assert sync.returncode == 0, sync.stdout + sync.stderr
    assert "Status: ok" in sync.stdout and "skipped: Strava for demo (not configured" in sync.stdout


def test_remove_fit_rebuilds_and_publishes(corpus, tmp_path):
    db, published = tmp_path / "w.duckdb", tmp_path / "w.published.duckdb"
    imported = run(["import-fit", "--db", str(db), str(corpus / CORPUS_RUN),
                    str(corpus / "fitparse-tests/Activity.fit")], tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert q(published, "SELECT count(*) FROM marts.fct_activities") == [(2,)]
    removed = run(["remove-fit", "--db", str(db), "Activity.fit"], tmp_path)
    assert removed.returncode == 0, removed.stderr
    assert "built the marts" in removed.stdout
    assert q(published, "SELECT count(*) FROM marts.fct_activities") == [(1,)]
