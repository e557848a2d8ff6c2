"""Garmin Connect as a source, over real sockets against the emulator (standins/garmin_emulator.py).

Sign-in keeps only the tokens (0600); a sync fetches each new activity's original FIT file into the
FIT import and the weigh-ins into the body-mass series; a second sync adds nothing; a file already
imported from the watch folder adds nothing; kill -9 twice then a rerun equals an uninterrupted run;
a 429 stops and the next run resumes; an expired token is refreshed (or a one-line message when
the refresh token is gone too); a sign-in challenge gives a one-line message. Nothing secret in the
output, the token file holds no password.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from runlift.flows.fit_pipeline import import_paths
from runlift.standins.config import write_settings
from runlift.standins.fit_writer import season_fit_files
from runlift.standins.garmin_emulator import GarminEmulator, synthetic_weigh_ins
from runlift.standins.season import synthetic_season

from helpers import q, runlift, snapshot

END = dt.date(2026, 3, 1)
PASSWORD = "emulator-password"
FILES = season_fit_files(synthetic_season(END, weeks=6))  # 10 FIT files: runs and gym sessions
WEIGH_INS = synthetic_weigh_ins(END - dt.timedelta(weeks=6), END, kg=66.0)


@pytest.fixture
def emu():
    with GarminEmulator(FILES, WEIGH_INS) as emulator:
        yield emulator


def setup(folder: Path, emu: GarminEmulator, **garmin: object) -> tuple[Path, dict[str, str]]:
    """A settings file (no pace: a local emulator) and the environment that signs in to ``emu``."""
    cfg = write_settings(folder, athlete="me", timezone="America/Denver",
                         tables={"garmin": {"pace_s": 0, "page_size": 4, **garmin}})
    env = {"RUNLIFT_GARMIN_BASE_URL": emu.base_url, "RUNLIFT_HOME": str(folder / "home"),
           "GARMIN_EMAIL": emu.email, "GARMIN_PASSWORD": PASSWORD}
    return cfg, env


def sign_in(folder: Path, emu: GarminEmulator, **garmin: object) -> tuple[Path, dict[str, str], Path]:
    cfg, env = setup(folder, emu, **garmin)
    out = runlift("garmin", "auth", "--config", str(cfg), env=env)
    token_file = folder / "home" / "tokens" / "garmin-me.json"
    assert str(token_file) in out.stdout
    return cfg, env, token_file


def sync(cfg: Path, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    return runlift("garmin", "sync", "--config", str(cfg), "--no-build", env=env, check=check)


def state(db: Path) -> dict[str, object]:
    """What a sync leaves: the FIT files, the cursor, the weigh-ins and the kept bytes (times aside)."""
    blobs = sorted(p.relative_to(db.parent).as_posix() for p in (db.parent / "w.blobs").rglob("*") if p.is_file()) \
        if (db.parent / "w.blobs").exists() else []
    return {
        "raw": snapshot(db),
        "activities": q(db, "SELECT activity_id, start_utc, activity_type, outcome, file_sha256, reason "
                            "FROM ops.garmin_activities ORDER BY ALL"),
        "weigh_ins": q(db, "SELECT sample_pk, measured_at_utc, calendar_date, body_mass_kg, source_type "
                           "FROM raw.garmin_weigh_ins ORDER BY ALL"),
        "cursor": q(db, "SELECT high_water_start_utc, weigh_ins_through FROM ops.garmin_sync_state"),
        "blobs": blobs,
    }


def no_secrets(text: str, token_file: Path) -> None:
    tokens = json.loads(token_file.read_text())
    for secret in (PASSWORD, tokens["di_token"], tokens["di_refresh_token"]):
        assert secret not in text


def test_auth_keeps_only_the_tokens_in_a_0600_file(tmp_path, emu):
    cfg, env, token_file = sign_in(tmp_path, emu)
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    saved = json.loads(token_file.read_text())
    assert set(saved) == {"di_token", "di_refresh_token", "di_client_id"}
    assert saved["di_token"].startswith("emu-access-")
    for path in (tmp_path / "home").rglob("*"):  # the password is nowhere on disk
        assert not path.is_file() or PASSWORD.encode() not in path.read_bytes()
    wrong = runlift("garmin", "auth", "--config", str(cfg), env={**env, "GARMIN_PASSWORD": "not-it"}, check=False)
    assert wrong.returncode == 2
    assert wrong.stderr.strip().count("\n") == 0 and "refused the sign-in" in wrong.stderr
    assert "not-it" not in wrong.stderr


def test_auth_asks_for_the_mfa_code(tmp_path):
    with GarminEmulator(FILES[:1], mfa_code="123456") as emu:
        cfg, env = setup(tmp_path, emu)
        proc = subprocess.run([sys.executable, "-m", "runlift.flows.cli", "garmin", "auth", "--config", str(cfg)],
                              input="123456\n", capture_output=True, text=True, env={**os.environ, **env}, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert "MFA code" in proc.stderr
        assert json.loads((tmp_path / "home" / "tokens" / "garmin-me.json").read_text())["di_token"]


def test_first_sync_fetches_every_file_and_the_weigh_ins_a_second_adds_nothing(tmp_path, emu):
    cfg, env, token_file = sign_in(tmp_path, emu)
    first = sync(cfg, env)
    db = tmp_path / "w.duckdb"
    n = len(emu.activity_ids)
    assert n == 10
    assert f"{n} activities listed, {n} fetched ({n} new FIT files, 0 already imported" in first.stdout
    assert f"{len(WEIGH_INS)} weigh-ins" in first.stdout
    assert q(db, "SELECT outcome, count(*) FROM ops.garmin_activities GROUP BY 1") == [("new", n)]
    assert q(db, "SELECT count(*), count(DISTINCT file_sha256) FROM raw.fit_files WHERE status = 'ok'") == [(n, n)]
    assert q(db, "SELECT count(*) FROM raw.fit_sets")[0][0] > 0  # the gym sessions' sets
    # weigh-ins in kilograms (Garmin sends grams), dated by Garmin's calendar day
    grams = sorted(w["weight"] for w in WEIGH_INS)
    assert q(db, "SELECT count(*), min(body_mass_kg), max(body_mass_kg) "
                 "FROM raw.garmin_weigh_ins") == [(len(WEIGH_INS), grams[0] / 1000, grams[-1] / 1000)]
    # the high-water mark is the latest activity's start
    latest = max(emu._activities.values(), key=lambda a: a["startTimeGMT"])["startTimeGMT"]
    assert str(q(db, "SELECT high_water_start_utc FROM ops.garmin_sync_state")[0][0]) == latest
    before, calls = state(db), len(emu.log)

    second = sync(cfg, env)
    assert "0 fetched (0 new FIT files" in second.stdout
    assert state(db) == before
    # the second run only listed (since the high-water mark minus the look-back) and asked for weigh-ins
    paths = [p for _, p, _ in emu.log[calls:]]
    assert not any(p.startswith("/download-service/") for p in paths)
    listing = [p for p in paths if p.startswith("/activitylist-service/")]
    assert 1 <= len(listing) <= 3
    no_secrets(first.stdout + first.stderr + second.stdout + second.stderr, token_file)


def test_a_file_already_imported_from_the_watch_folder_adds_nothing(tmp_path, emu):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name, data in FILES[:4]:
        (inbox / name).write_bytes(data)
    cfg, env, _ = sign_in(tmp_path, emu)
    db = tmp_path / "w.duckdb"
    import_paths(db, "me", [inbox], workers=1)
    out = sync(cfg, env)
    assert "10 fetched (6 new FIT files, 4 already imported" in out.stdout
    assert q(db, "SELECT outcome, count(*) FROM ops.garmin_activities GROUP BY 1 ORDER BY 1") == [("known", 4),
                                                                                                  ("new", 6)]
    assert q(db, "SELECT count(*) FROM raw.fit_files") == [(10,)]
    # the watch folder's files keep their first path; the known ones point at the same file
    assert q(db, "SELECT count(*) FROM raw.fit_files WHERE first_path LIKE '%inbox%'") == [(4,)]
    assert q(db, "SELECT count(*) FROM ops.garmin_activities g JOIN raw.fit_files f USING (athlete_id, file_sha256)"
                 " WHERE g.outcome = 'known' AND f.first_path LIKE '%inbox%'") == [(4,)]


def test_kill_9_twice_mid_sync_then_a_rerun_equals_an_uninterrupted_run(tmp_path, emu):
    (tmp_path / "ref").mkdir()
    cfg, env, _ = sign_in(tmp_path / "ref", emu)
    sync(cfg, env)
    expected = state(tmp_path / "ref" / "w.duckdb")

    emu.delay_s = 0.15  # a slow Garmin: the kill lands mid-download
    work = tmp_path / "killed"
    cfg, env, token_file = sign_in(work, emu)
    outputs = ""
    for _ in range(2):  # each run is killed after its second download has committed
        proc = subprocess.Popen([sys.executable, "-m", "runlift.flows.cli", "garmin", "sync", "--config", str(cfg),
                                 "--no-build"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                                env={**os.environ, **env})
        assert proc.stderr is not None
        while True:
            line = proc.stderr.readline()
            assert line, "the sync ended before it could be killed"
            outputs += line
            if line.startswith("fetched 2 of"):
                break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    fetched = q(work / "w.duckdb", "SELECT count(*) FROM ops.garmin_activities")[0][0]
    assert 0 < fetched < 10  # both kills landed mid-sync, each after something was committed
    final = sync(cfg, env)
    assert state(work / "w.duckdb") == expected
    no_secrets(outputs + final.stdout + final.stderr, token_file)


def test_429_stops_the_sync_and_the_next_run_resumes(tmp_path, emu):
    cfg, env, _ = sign_in(tmp_path, emu)
    emu.rate_limit_after(4)  # the listing (3 pages of 4) and one download, then 429
    stopped = sync(cfg, env, check=False)
    assert stopped.returncode == 1
    assert "garmin me: paused" in stopped.stdout
    error = [line for line in stopped.stderr.splitlines() if line.startswith("runlift: error:")]
    assert len(error) == 1 and "429" in error[0] and "resumes" in error[0]
    db = tmp_path / "w.duckdb"
    assert q(db, "SELECT count(*) FROM ops.garmin_activities") == [(1,)]
    assert q(db, "SELECT last_status FROM ops.garmin_sync_state") == [("paused",)]
    status = runlift("status", "--working", "--config", str(cfg), env=env).stdout
    assert "last Garmin Connect sync for me: paused at " in status and "(1 activities fetched, latest from" in status
    assert "429" in status
    emu.rate_limit_after(None)
    resumed = sync(cfg, env)
    assert "9 fetched (9 new FIT files" in resumed.stdout
    assert q(db, "SELECT count(*), count(DISTINCT activity_id) FROM ops.garmin_activities") == [(10, 10)]
    assert q(db, "SELECT last_status FROM ops.garmin_sync_state") == [("complete",)]


def test_an_expired_token_is_refreshed_and_saved(tmp_path, emu):
    cfg, env, token_file = sign_in(tmp_path, emu)
    old = json.loads(token_file.read_text())
    emu.expire_tokens()
    out = sync(cfg, env)
    assert "garmin me: complete" in out.stdout
    new = json.loads(token_file.read_text())
    assert new["di_token"] != old["di_token"] and new["di_refresh_token"] == old["di_refresh_token"]
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert ("POST", "/di-oauth2-service/oauth/token", 200) in emu.log
    no_secrets(out.stdout + out.stderr, token_file)


def test_tokens_garmin_no_longer_accepts_give_one_line(tmp_path, emu):
    cfg, env, token_file = sign_in(tmp_path, emu)
    emu.expire_tokens(refresh_too=True)
    out = sync(cfg, env, check=False)
    assert out.returncode == 1
    assert out.stderr.strip().splitlines()[-1] == (
        "runlift: error: Garmin Connect sync failed: Garmin Connect no longer accepts the saved tokens (the token "
        "refresh answered 401); run `runlift garmin auth` again")
    assert "Traceback" not in out.stderr
    no_secrets(out.stdout + out.stderr, token_file)


def test_a_login_challenge_gives_one_line(tmp_path, emu):
    cfg, env, token_file = sign_in(tmp_path, emu)
    emu.challenge(True)
    out = sync(cfg, env, check=False)
    assert out.returncode == 1
    errors = [line for line in out.stderr.splitlines() if "error" in line]
    assert errors == ["runlift: error: Garmin Connect sync failed: Garmin Connect asks for a sign-in challenge "
                      "(captcha, MFA or a browser check) that an unattended sync cannot answer; run `runlift garmin "
                      "auth` yourself, then sync again"]
    assert q(tmp_path / "w.duckdb", "SELECT last_status FROM ops.garmin_sync_state") == [("failed",)]
    no_secrets(out.stdout + out.stderr, token_file)


def test_the_night_syncs_garmin_and_its_weigh_ins_become_body_mass(tmp_path, emu):
    cfg, env, _ = sign_in(tmp_path, emu)
    runlift("sync", "--config", str(cfg), "--as-of", END.isoformat(), env=env)
    db = tmp_path / "w.duckdb"
    assert q(db, "SELECT count(*) FROM ops.garmin_activities") == [(10,)]
    # no body mass in the settings: Garmin Connect's weigh-ins give it
    rows = q(db, "SELECT body_mass_source, count(*) FROM marts.daily_training_load GROUP BY 1")
    assert dict(rows).get("garmin_connect", 0) > 30
    last = WEIGH_INS[-1]
    assert q(db, "SELECT body_mass_kg FROM marts.daily_training_load WHERE date = ?",
             [dt.date.fromisoformat(last["calendarDate"])]) == [(last["weight"] / 1000,)]


def test_garmin_base_url_must_be_loopback_or_https(tmp_path, emu):
    cfg, env = setup(tmp_path, emu)
    out = runlift("garmin", "sync", "--config", str(cfg), env={**env, "RUNLIFT_GARMIN_BASE_URL": "http://example.com"},
                  check=False)
    assert out.returncode == 2
    assert "setting `garmin.base_url` (from RUNLIFT_GARMIN_BASE_URL)" in out.stderr


def test_a_mistyped_garmin_setting_is_named(tmp_path, emu):
    cfg = write_settings(tmp_path, tables={"garmin": {"pace": 0}})
    out = runlift("garmin", "sync", "--config", str(cfg), check=False)
    assert out.returncode == 2
    assert "unknown setting `garmin.pace`" in out.stderr and "did you mean `garmin.pace_s`?" in out.stderr


def test_sync_before_auth_and_auth_without_a_terminal_say_what_to_do(tmp_path, emu):
    cfg, env = setup(tmp_path, emu)
    out = runlift("garmin", "sync", "--config", str(cfg), env=env, check=False)
    assert out.returncode == 2
    token_file = tmp_path / "home" / "tokens" / "garmin-me.json"
    assert out.stderr.strip() == (f"runlift: error: athlete me is not signed in to Garmin Connect (no token file at "
                                  f"{token_file}); run `runlift garmin auth` first")
    assert not (tmp_path / "w.duckdb").exists()
    bare = {k: v for k, v in env.items() if not k.startswith("GARMIN_")}
    out = runlift("garmin", "auth", "--config", str(cfg), env=bare, check=False)
    assert out.returncode == 2 and out.stderr.strip().startswith("runlift: error: Garmin sign-in needs an email")
