"""A night with nothing new does (almost) nothing (issue 13: `runlift sync` with nothing new under 3 s).

Files of the FIT inbox read whole before and unchanged since are not read again
(ops.fit_seen_files); the marts are not rebuilt when the fingerprint of what they are built from
is the last build's (ops.builds), and the published file then gets only its pipeline state anew.
Everything that changes the marts must still rebuild them: new raw rows, removals, settings, a
new day, the models' code. Real commands on a real DuckDB file.
"""

import datetime as dt
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import duckdb
import pytest

from runlift.flows.fit_pipeline import import_paths
from runlift.standins.config import write_settings
from runlift.warehouse import build as wbuild
from runlift.warehouse import db as wdb

from helpers import q

RUN = "fitparse-tests/activity-small-fenix2-run.fit"
ACTIVITY = "fitparse-tests/Activity.fit"
MULTISPORT = "fitparse-tests/activity-large-fenxi2-multisport.fit"
AS_OF = "2016-01-01"
HOUR_AGO = time.time() - 3600


def run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "RUNLIFT_", "STRAVA_"))}
    env.update(HOME=str(tmp_path / "home"), PREFECT_HOME=str(tmp_path / "prefect-home"))
    (tmp_path / "home").mkdir(exist_ok=True)
    (tmp_path / "prefect-home").mkdir(exist_ok=True)
    return subprocess.run([sys.executable, "-m", "runlift.flows.cli", *args], capture_output=True, text=True,
                          env=env, timeout=300, cwd=tmp_path)


def settled(path: Path) -> Path:
    """An inbox file as a night finds it: written a while ago (a file written within the last
    seconds is read again next time, see sources.STAMP_SETTLED_NS)."""
    os.utime(path, (HOUR_AGO, HOUR_AGO))
    return path


def world(corpus: Path, tmp_path: Path, **athlete: object) -> tuple[Path, Path, Path]:
    """An inbox with one plain FIT file and a zip of another; settings pointing at it."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(corpus / RUN, inbox / "run.fit")
    with zipfile.ZipFile(inbox / "export.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.write(corpus / ACTIVITY, "activities/Activity.fit")
    for f in inbox.iterdir():
        settled(f)
    cfg = write_settings(tmp_path, athlete="me", timezone="UTC", warehouse=str(tmp_path / "w.duckdb"),
                         athlete_settings={"fit_inbox": [str(inbox)], **athlete})
    return cfg, inbox, tmp_path / "w.duckdb"


def sync(cfg: Path, tmp_path: Path, *extra: str, as_of: str = AS_OF) -> subprocess.CompletedProcess[str]:
    proc = run(["sync", "--config", str(cfg), "--as-of", as_of, *extra], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def builds(db: Path) -> int:
    return q(db, "SELECT count(*) FROM ops.builds")[0][0]


def last_import(db: Path) -> tuple[int, int, int, int]:
    return q(db, "SELECT files_seen, files_new, files_known, bytes_read FROM ops.import_runs "
                 "ORDER BY finished_at DESC LIMIT 1")[0]


def week_section(report: str) -> str:
    return report[report.index("## This week"):report.index("Published for dashboards")]


def test_second_sync_with_nothing_new_reads_no_file_and_does_not_rebuild(corpus, tmp_path):
    cfg, inbox, db = world(corpus, tmp_path)
    published = tmp_path / "w.published.duckdb"
    first = sync(cfg, tmp_path)
    assert builds(db) == 1
    assert last_import(db)[:3] == (2, 2, 0)
    assert sorted(q(db, "SELECT path, fit_files FROM ops.fit_seen_files")) == [
        (str(inbox / "export.zip"), 1), (str(inbox / "run.fit"), 1)]
    marts_before = q(published, "SELECT * FROM marts.fct_activities ORDER BY ALL")
    stamp_before = q(published, "SELECT published_at FROM ops.published")[0][0]

    second = sync(cfg, tmp_path)
    assert builds(db) == 1  # not rebuilt
    seen, new, known, bytes_read = last_import(db)
    assert (seen, new, known, bytes_read) == (2, 0, 2, 0)  # both files counted as known, not a byte read
    assert "nothing new since the build of" in second.stderr + second.stdout
    assert "marts unchanged (as of 2016-01-01)" in second.stderr + second.stdout
    # the report says the same about the data; the published file has the marts of the build and
    # tonight's pipeline state (`runlift status` reads it)
    assert week_section(second.stdout) == week_section(first.stdout)
    assert q(published, "SELECT * FROM marts.fct_activities ORDER BY ALL") == marts_before
    assert q(published, "SELECT count(*) FROM ops.import_runs") == [(2,)]
    assert q(published, "SELECT published_at FROM ops.published")[0][0] > stamp_before
    assert q(published, "SELECT build_fingerprint FROM ops.published") == q(db, "SELECT fingerprint FROM ops.builds")
    status = run(["status", "--config", str(cfg)], tmp_path)
    assert "(0 new of 2 files)" in status.stdout, status.stdout + status.stderr


def test_changed_and_renamed_files_are_read_again_but_content_decides(corpus, tmp_path):
    cfg, inbox, db = world(corpus, tmp_path)
    sync(cfg, tmp_path)
    # touched (modification time changed): read again, its content is known: nothing to rebuild
    os.utime(inbox / "run.fit", (HOUR_AGO - 60, HOUR_AGO - 60))
    # the same content under another name is one file
    shutil.copy(corpus / RUN, inbox / "run-copy.fit")
    settled(inbox / "run-copy.fit")
    sync(cfg, tmp_path)
    seen, new, known, bytes_read = last_import(db)
    assert (seen, new, known) == (3, 0, 3)
    assert bytes_read == 2 * (corpus / RUN).stat().st_size  # the touched file and the copy, not the zip
    assert builds(db) == 1
    assert q(db, "SELECT count(*) FROM raw.fit_files") == [(2,)]


def test_new_data_removal_and_readmission_rebuild(corpus, tmp_path):
    cfg, inbox, db = world(corpus, tmp_path)
    sync(cfg, tmp_path)
    shutil.copy(corpus / MULTISPORT, inbox / "multisport.fit")
    settled(inbox / "multisport.fit")
    sync(cfg, tmp_path)
    assert builds(db) == 2 and last_import(db)[1] == 1  # a new file: rebuilt
    removed = run(["remove-fit", "--config", str(cfg), "--no-build", "multisport.fit"], tmp_path)
    assert removed.returncode == 0, removed.stderr
    sync(cfg, tmp_path)
    assert builds(db) == 3  # a removal: rebuilt
    assert q(db, "SELECT count(*) FROM raw.fit_files") == [(2,)]
    sync(cfg, tmp_path)
    assert builds(db) == 3
    readmitted = run(["remove-fit", "--config", str(cfg), "--readmit", "multisport.fit"], tmp_path)
    assert readmitted.returncode == 0, readmitted.stderr
    sync(cfg, tmp_path)  # every file read again: the readmitted content comes back
    assert q(db, "SELECT count(*) FROM raw.fit_files") == [(3,)]
    assert builds(db) == 4


@pytest.mark.parametrize("change", ["body_mass", "races", "acwr_flags", "units", "shoe_range", "blocks", "new_day",
                                    "code"])
def test_what_changes_the_marts_rebuilds_them(corpus, tmp_path, change):
    cfg, inbox, db = world(corpus, tmp_path)
    sync(cfg, tmp_path)  # the same night again, unchanged, builds nothing: test_second_sync_with_nothing_new_...
    assert builds(db) == 1
    extra: list[str] = []
    as_of = AS_OF
    if change in ("body_mass", "acwr_flags"):
        key, value = ("body_mass_kg", 81.5) if change == "body_mass" else ("acwr_flags", True)
        write_settings(tmp_path, athlete="me", timezone="UTC", warehouse=str(db),
                       athlete_settings={"fit_inbox": [str(inbox)], key: value})
    elif change == "races":
        with cfg.open("a", encoding="utf-8") as fh:
            fh.write('\n[[athletes.me.races]]\ndate = 2016-03-01\nname = "Spring 10k"\ndistance_km = 10\n')
    elif change == "units":
        extra = ["--units", "imperial"]
    elif change == "shoe_range":  # marts.gear_mileage and the shoe flags depend on it
        with cfg.open("a", encoding="utf-8") as fh:
            fh.write('\n[gear]\nshoe_replacement_km = [300, 400]\n')
    elif change == "blocks":  # marts.block_summary follows the settings' training blocks
        with cfg.open("a", encoding="utf-8") as fh:
            fh.write('\n[[athletes.me.blocks]]\nname = "Base"\nstart = 2015-10-01\nend = 2016-01-01\n')
    elif change == "new_day":
        as_of = "2016-01-02"
    else:  # marts built by other code (another runlift, edited models): as the fingerprint says
        con = duckdb.connect(str(db))
        con.execute("UPDATE ops.builds SET fingerprint = 'built-by-other-code'")
        con.close()
    sync(cfg, tmp_path, *extra, as_of=as_of)
    assert builds(db) == 2, change
    if change == "body_mass":
        assert q(tmp_path / "w.published.duckdb", "SELECT body_mass_kg FROM marts.dim_athlete") == [(81.5,)]


def test_explicit_build_always_rebuilds(corpus, tmp_path):
    cfg, _, db = world(corpus, tmp_path)
    sync(cfg, tmp_path)
    built = run(["build", "--config", str(cfg), "--as-of", AS_OF], tmp_path)
    assert built.returncode == 0, built.stderr
    assert builds(db) == 2
    assert len(set(q(db, "SELECT fingerprint FROM ops.builds"))) == 1  # same inputs, built anyway


def test_fingerprint_follows_raw_rows_settings_and_model_code(corpus, tmp_path):
    db = tmp_path / "w.duckdb"
    import_paths(db, "me", [str(corpus / RUN)], workers=1)
    athletes = [wbuild.AthleteParams("me", "UTC", "unknown", None, None, ())]
    con = wdb.connect(db)
    try:
        day = dt.date(2016, 1, 1)
        base = wbuild.fingerprint(con, as_of=day, athletes=athletes, units="metric")
        assert wbuild.fingerprint(con, as_of=day, athletes=athletes, units="metric") == base
        # a value changed in place (same row count) changes it
        con.execute("UPDATE raw.fit_sessions SET total_distance_m = total_distance_m + 1")
        changed = wbuild.fingerprint(con, as_of=day, athletes=athletes, units="metric")
        assert changed != base
        # a sample (the one table counted, not hashed, by row) is written only with its file's row
        assert wbuild.RAW_ROW_HASH["fit_records"] is None
        heavier = [wbuild.AthleteParams("me", "UTC", "unknown", None, None, ((None, 80.0),))]
        assert wbuild.fingerprint(con, as_of=day, athletes=heavier, units="metric") != changed
    finally:
        con.close()
    models = wbuild.model_files()
    edited = [*models[:-1], (models[-1][0], models[-1][1], models[-1][2] + "\n-- edited\n")]
    assert wbuild.code_digest(edited) != wbuild.code_digest(models) == wbuild.code_digest()


def test_files_written_moments_ago_or_partly_unreadable_are_not_vouched_for(corpus, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(corpus / RUN, inbox / "fresh.fit")  # just written: its stamp could still change unseen
    (inbox / "broken.zip").write_bytes(b"PK\x03\x04 not really a zip")
    settled(inbox / "broken.zip")
    db = tmp_path / "w.duckdb"
    first = import_paths(db, "me", [str(inbox)], workers=1)
    assert first.files_new == 1 and [why for _, why in first.unreadable] == [
        "not a valid zip archive: File is not a zip file"]
    assert q(db, "SELECT count(*) FROM ops.fit_seen_files") == [(0,)]
    again = import_paths(db, "me", [str(inbox)], workers=1)
    assert again.files_known == 1 and again.bytes_read > 0 and len(again.unreadable) == 1  # reported again
    settled(inbox / "fresh.fit")
    import_paths(db, "me", [str(inbox)], workers=1)
    assert q(db, "SELECT path FROM ops.fit_seen_files") == [(str(inbox / "fresh.fit"),)]
    quiet = import_paths(db, "me", [str(inbox)], workers=1)
    assert (quiet.files_known, quiet.files_unchanged, quiet.bytes_read) == (1, 1, 0)
    assert len(quiet.unreadable) == 1  # the broken zip is still read and reported every time
    assert "(1 of them in a file unchanged since an import read them, not read again)" in quiet.lines()[0]
    reread = import_paths(db, "me", [str(inbox)], workers=1, reread=True)
    assert reread.files_unchanged == 0 and reread.bytes_read > 0


def test_a_closed_stdout_ends_a_command_quietly(corpus, tmp_path):
    """`runlift status | head` printed `runlift: error: BrokenPipeError: [Errno 32] Broken pipe`."""
    db = tmp_path / "w.duckdb"
    import_paths(db, "me", [str(corpus / RUN), str(corpus / ACTIVITY)], workers=1)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "RUNLIFT_"))}
    for args in (["status", "--db", str(db), "--working"],
                 ["sql", "--db", str(db), "--working", "--format", "csv",
                  "SELECT * FROM range(200000)"]):
        proc = subprocess.Popen([sys.executable, "-m", "runlift.flows.cli", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env, cwd=tmp_path)
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # the reader is gone before the command writes (as `| head` after its lines)
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=120) in (0, 1)
        assert err == "", err


def test_a_folder_given_twice_counts_each_file_once_per_reading(corpus, tmp_path):
    """fit_inbox = ["/data", "/data/garmin"] reads /data/garmin twice: its files are still vouched
    for, with the FIT files of one reading."""
    inbox = tmp_path / "data" / "garmin"
    inbox.mkdir(parents=True)
    with zipfile.ZipFile(inbox / "export.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.write(corpus / RUN, "a/run.fit")
        z.write(corpus / ACTIVITY, "a/Activity.fit")
    settled(inbox / "export.zip")
    db = tmp_path / "w.duckdb"
    first = import_paths(db, "me", [str(tmp_path / "data"), str(inbox)], workers=1)
    assert (first.files_seen, first.files_new, first.files_known) == (4, 2, 2)
    assert q(db, "SELECT path, fit_files, fit_bytes FROM ops.fit_seen_files") == [
        (str(inbox / "export.zip"), 2, (corpus / RUN).stat().st_size + (corpus / ACTIVITY).stat().st_size)]
    again = import_paths(db, "me", [str(tmp_path / "data"), str(inbox)], workers=1)
    assert (again.files_seen, again.files_new, again.files_known, again.files_unchanged, again.bytes_read) == (
        4, 0, 4, 4, 0)
