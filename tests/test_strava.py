"""Strava sync against the local Strava API emulator over real sockets, into a real DuckDB file."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from runlift.flows.settings import load_settings
from runlift.flows.strava_sync import make_client, sync_athlete
from runlift.standins.clock import FakeClock
from runlift.standins.config import write_settings
from runlift.standins.season import summary_of, synthetic_season
from runlift.standins.strava_emulator import StravaEmulator
from runlift.warehouse import db as wdb

from helpers import q

END = dt.date(2026, 11, 20)
SEASON = synthetic_season(END, weeks=16)


def write_config(tmp_path: Path, base_url: str, **strava: object) -> Path:
    return write_settings(tmp_path, timezone="America/Denver",
                          strava={"client_id": "12345", "client_secret": "emulator-secret", "base_url": base_url,
                                  "retries": 2, "timeout_s": 5.0, **strava})


@pytest.fixture
def clock():
    return FakeClock(1_790_000_000.0 - 300)  # a few minutes before a quarter hour


@pytest.fixture
def emu(clock, monkeypatch):
    e = StravaEmulator([dict(a) for a in SEASON], clock=clock)
    e.start()
    monkeypatch.setenv("STRAVA_REFRESH_TOKEN", e.issue_refresh_token())
    yield e
    e.stop()


def run_sync(tmp_path: Path, emu: StravaEmulator, clock: FakeClock | None = None, *, db: Path | None = None,
             full: bool = False, **strava: object):
    cfg = write_config(tmp_path, emu.base_url, **strava)
    settings = load_settings(cfg, env={})
    db = db or settings.db_path
    con = wdb.connect(db)
    try:
        with make_client(settings, "me", clock=clock or time.time, sleep=lambda s: None) as client:
            return sync_athlete(con, client, settings.strava, "me", full=full)
    finally:
        con.close()


def content(db: Path) -> tuple:
    """The Strava data, load timestamps aside."""
    acts = q(db, """SELECT activity_id, name, sport_type, start_time_utc, start_time_local, distance_m,
                           max_heartrate_bpm, payload::VARCHAR, deleted_at IS NULL, streams_status
                    FROM raw.strava_activities ORDER BY ALL""")
    streams = q(db, "SELECT activity_id, stream_type, len(data), list_sum(data) FROM raw.strava_streams ORDER BY ALL")
    gear = q(db, """SELECT gear_id, fetch_status, name, is_retired, distance_m, payload::VARCHAR
                    FROM raw.strava_gear ORDER BY ALL""")
    return acts, streams, gear


N_ACTIVITIES = len(SEASON)
RUNS_WITH_STREAMS = sum(1 for a in SEASON if a.get("sport_type") in ("Run", "TrailRun", "VirtualRun")
                        and not a.get("manual"))
N_GEAR = len({a["gear_id"] for a in SEASON if a.get("gear_id")})


def test_first_sync_then_second_adds_nothing(tmp_path, emu, clock):
    r = run_sync(tmp_path, emu, clock)
    assert r.status == "complete", r.message
    assert (r.listing_mode, r.new, r.updated, r.deleted) == ("full", N_ACTIVITIES, 0, 0)
    assert r.streams == RUNS_WITH_STREAMS
    pages = -(-N_ACTIVITIES // 200)
    # list pages + one streams call per run + one gear call per shoe, nothing else
    assert (r.gear, r.api_calls) == (N_GEAR, pages + RUNS_WITH_STREAMS + N_GEAR)
    db = tmp_path / "w.duckdb"
    assert q(db, "SELECT count(*), count(DISTINCT activity_id) FROM raw.strava_activities") == [(N_ACTIVITIES,) * 2]
    assert q(db, "SELECT count(DISTINCT activity_id) FROM raw.strava_streams")[0][0] == RUNS_WITH_STREAMS
    assert q(db, "SELECT count(*) FROM raw.strava_activities WHERE is_manual AND streams_status = 'none'")[0][0] == 2
    # detail-only fields stay NULL without detail calls
    assert q(db, "SELECT count(device_name), count(calories_kcal) FROM raw.strava_activities") == [(0, 0)]
    before = content(db)
    again = run_sync(tmp_path, emu, clock)
    assert (again.listing_mode, again.new, again.updated, again.streams) == ("incremental", 0, 0, 0)
    assert again.api_calls == 1
    assert content(db) == before


def test_typed_columns_units_and_local_time(tmp_path, emu, clock):
    run_sync(tmp_path, emu, clock)
    db = tmp_path / "w.duckdb"
    src = next(a for a in SEASON if a.get("sport_type") == "Run" and not a.get("manual"))
    got = q(db, """SELECT distance_m, moving_time_s, start_time_utc, start_time_local, utc_offset_s,
                          average_cadence_rpm, payload->>'$.start_date'
                   FROM raw.strava_activities WHERE activity_id = ?""", [src["id"]])[0]
    assert got[0] == pytest.approx(src["distance"])
    assert got[1] == src["moving_time"]
    assert got[2] == dt.datetime.fromisoformat(src["start_date"].replace("Z", ""))
    assert got[3] == dt.datetime.fromisoformat(src["start_date_local"].replace("Z", ""))
    assert got[4] == int(src["utc_offset"])
    assert got[5] == pytest.approx(src["average_cadence"])  # strides/min as Strava sends it
    assert got[6] == src["start_date"]


def test_unknown_sport_type_and_odd_numbers_land_intact(tmp_path, emu, clock):
    run_sync(tmp_path, emu, clock)
    db = tmp_path / "w.duckdb"
    known = {"Run", "TrailRun", "WeightTraining", "Ride", "Walk", "Hike", "Workout", "Yoga", "VirtualRun"}
    odd = [a for a in SEASON if a.get("sport_type") not in known]
    assert odd, "the season should hold an unknown sport type"
    for a in odd:
        got = q(db, "SELECT sport_type, payload FROM raw.strava_activities WHERE activity_id = ?", [a["id"]])
        assert got and got[0][0] == a["sport_type"] and json.loads(got[0][1]) == summary_of(a)
    floats = [a for a in SEASON if isinstance(a.get("max_heartrate"), float)]
    assert floats
    got = q(db, "SELECT max_heartrate_bpm FROM raw.strava_activities WHERE activity_id = ?", [floats[0]["id"]])
    assert got[0][0] == floats[0]["max_heartrate"]
    empty = [a for a in SEASON if a.get("start_latlng") == []]
    assert empty
    for a in empty:
        got = q(db, "SELECT payload->'$.start_latlng' FROM raw.strava_activities WHERE activity_id = ?", [a["id"]])
        assert json.loads(got[0][0]) == []


def test_edit_and_delete_are_reflected(tmp_path, emu, clock):
    run_sync(tmp_path, emu, clock)
    db = tmp_path / "w.duckdb"
    runs = sorted((a for a in SEASON if a.get("sport_type") == "Run" and not a.get("manual")),
                  key=lambda a: a["start_date"])
    recent, old = runs[-1], runs[0]
    emu.edit_activity(recent["id"], name="Renamed tempo", distance=12345.6)
    emu.edit_activity(old["id"], name="Old run, renamed")  # outside the look-back window
    emu.delete_activity(runs[-2]["id"])
    inc = run_sync(tmp_path, emu, clock)
    assert (inc.listing_mode, inc.updated, inc.deleted) == ("incremental", 1, 0)
    assert inc.streams == 1  # the distance changed: its streams are fetched again
    assert q(db, "SELECT name, distance_m FROM raw.strava_activities WHERE activity_id = ?",
             [recent["id"]]) == [("Renamed tempo", 12345.6)]
    full = run_sync(tmp_path, emu, clock, full=True)
    assert (full.listing_mode, full.updated, full.deleted) == ("full", 1, 1)
    assert q(db, "SELECT name FROM raw.strava_activities WHERE activity_id = ?", [old["id"]]) == [("Old run, renamed",)]
    gone = q(db, "SELECT deleted_at IS NOT NULL FROM raw.strava_activities WHERE activity_id = ?", [runs[-2]["id"]])
    assert gone == [(True,)]


def test_rotated_refresh_token_is_persisted_and_used(tmp_path, emu, clock, monkeypatch):
    bootstrap = os.environ["STRAVA_REFRESH_TOKEN"]
    run_sync(tmp_path, emu, clock)
    token_file = tmp_path / "tokens" / "me.json"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    saved = json.loads(token_file.read_text())
    assert saved["refresh_token"] != bootstrap  # Strava rotated it, and runlift saved it
    monkeypatch.delenv("STRAVA_REFRESH_TOKEN")
    clock.advance(7 * 3600)  # the access token has expired: the next run refreshes with the saved token
    r = run_sync(tmp_path, emu, clock)
    assert r.status == "complete", r.message
    assert json.loads(token_file.read_text())["refresh_token"] not in (bootstrap, saved["refresh_token"])
    # the old refresh token no longer works at Strava
    resp = httpx.post(f"{emu.base_url}/oauth/token", data={"client_id": "12345", "client_secret": "emulator-secret",
                                                           "grant_type": "refresh_token", "refresh_token": bootstrap})
    assert resp.status_code >= 400


def test_rate_limits_pause_and_later_runs_finish_identical(tmp_path, clock, monkeypatch):
    """A backfill that meets the 15-minute read limit (and a real 429) pauses, then completes over
    successive runs identical to an uninterrupted sync, without wasting a call."""
    reference = StravaEmulator([dict(a) for a in SEASON], clock=clock)
    reference.start()
    monkeypatch.setenv("STRAVA_REFRESH_TOKEN", reference.issue_refresh_token())
    (tmp_path / "ref").mkdir()
    full = run_sync(tmp_path / "ref", reference, clock)
    reference.stop()
    assert full.status == "complete"

    limited = StravaEmulator([dict(a) for a in SEASON], clock=clock, limits=(200, 2000, 30, 1000))
    limited.start()
    monkeypatch.setenv("STRAVA_REFRESH_TOKEN", limited.issue_refresh_token())
    (tmp_path / "lim").mkdir()
    calls, runs, statuses = 0, 0, []
    try:
        clock.jump_to_next_window(900)
        while True:
            runs += 1
            if runs == 2:
                # another tool of the same application spends the window behind our back: a real 429
                tok = httpx.post(f"{limited.base_url}/oauth/token", data={
                    "client_id": "12345", "client_secret": "emulator-secret", "grant_type": "refresh_token",
                    "refresh_token": limited.issue_refresh_token()}).json()["access_token"]
                for _ in range(30):  # the whole window
                    httpx.get(f"{limited.base_url}/api/v3/athlete", headers={"Authorization": f"Bearer {tok}"})
            r = run_sync(tmp_path / "lim", limited, clock, rate_headroom=2)
            calls += r.api_calls
            statuses.append(r.status)
            if r.status == "complete":
                break
            assert r.status == "paused" and "resumes" in r.message
            assert r.resume_at is not None
            clock.jump_to_next_window(900)
            assert runs < 50
    finally:
        limited.stop()
    assert statuses[0] == "paused" and statuses[-1] == "complete"
    assert runs >= 3
    assert content(tmp_path / "lim" / "w.duckdb") == content(tmp_path / "ref" / "w.duckdb")
    status_429 = [s for _, _, s in limited.request_log if s == 429]
    assert 1 <= len(status_429) <= statuses.count("paused")  # the foreign spending caused one real 429
    # no call wasted on work already done: only the call answered 429 is repeated; runs in the
    # middle of the backfill do not list again what was just listed
    assert calls == full.api_calls + len(status_429)


def test_server_errors_are_retried_then_reported(tmp_path, emu, clock):
    emu.fail_next(2, status=503)
    r = run_sync(tmp_path, emu, clock)
    assert r.status == "complete"
    emu.fail_next(50, status=500)
    r = run_sync(tmp_path, emu, clock, full=True)
    assert r.status == "failed" and "HTTP 500" in r.message
    emu.fail_next(0)


def test_app_inactive_gives_the_message(tmp_path, emu, clock):
    emu.set_inactive(True)
    r = run_sync(tmp_path, emu, clock)
    assert r.status == "failed"
    assert "inactive" in r.message and "subscription" in r.message and "FIT import still works" in r.message


def test_connection_refused_fails_cleanly(tmp_path, monkeypatch):
    monkeypatch.setenv("STRAVA_REFRESH_TOKEN", "whatever")
    cfg = write_config(tmp_path, "http://127.0.0.1:9")  # nothing listens on the discard port
    settings = load_settings(cfg, env={})
    con = wdb.connect(settings.db_path)
    with make_client(settings, "me", sleep=lambda s: None) as client:
        r = sync_athlete(con, client, settings.strava, "me")
    con.close()
    assert r.status == "failed" and "could not be reached" in r.message


def test_kill_9_during_sync_then_rerun_is_identical(tmp_path, monkeypatch):
    """The sync runs as `runlift strava sync` in another process; it is killed mid-way, twice."""
    ref_emu = StravaEmulator([dict(a) for a in SEASON])
    ref_emu.start()
    monkeypatch.setenv("STRAVA_REFRESH_TOKEN", ref_emu.issue_refresh_token())
    (tmp_path / "ref").mkdir()
    run_sync(tmp_path / "ref", ref_emu)
    ref_emu.stop()

    emu = StravaEmulator([dict(a) for a in SEASON])
    emu.start()
    try:
        env = {**os.environ, "STRAVA_REFRESH_TOKEN": emu.issue_refresh_token()}
        work = tmp_path / "killed"
        work.mkdir()
        cfg = write_config(work, emu.base_url)
        for lines_before_kill in (3, 25):
            proc = subprocess.Popen([sys.executable, "-m", "runlift.flows.cli", "strava", "sync", "--config", str(cfg)],
                                    stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
            seen = 0
            while seen < lines_before_kill:
                line = proc.stderr.readline()
                assert line, "sync ended before it could be killed"
                seen += 1
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        final = subprocess.run([sys.executable, "-m", "runlift.flows.cli", "strava", "sync", "--config", str(cfg)],
                               capture_output=True, text=True, env=env, timeout=300)
        assert final.returncode == 0, final.stderr
        assert content(work / "w.duckdb") == content(tmp_path / "ref" / "w.duckdb")
        # secrets never reach the output
        for secret in ("emulator-secret", env["STRAVA_REFRESH_TOKEN"]):
            assert secret not in final.stdout + final.stderr
    finally:
        emu.stop()


def test_cli_inactive_exit_code_and_no_secrets(tmp_path, emu):
    emu.set_inactive(True)
    cfg = write_config(tmp_path, emu.base_url)
    proc = subprocess.run([sys.executable, "-m", "runlift.flows.cli", "strava", "sync", "--config", str(cfg)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "inactive" in proc.stderr and "FIT import still works" in proc.stderr
    assert "emulator-secret" not in proc.stdout + proc.stderr
    assert os.environ["STRAVA_REFRESH_TOKEN"] not in proc.stdout + proc.stderr


def test_auth_flow_on_a_local_callback(tmp_path, emu, monkeypatch):
    from runlift.flows.strava_auth import authorize

    monkeypatch.delenv("STRAVA_REFRESH_TOKEN")
    cfg = write_config(tmp_path, emu.base_url)
    settings = load_settings(cfg, env={})
    urls: list[str] = []
    result: dict[str, object] = {}

    def run() -> None:
        try:
            result["path"] = authorize(settings, "me", port=0, timeout_s=30, echo=urls.append)
        except Exception as exc:  # surfaced below
            result["error"] = exc

    t = threading.Thread(target=run)
    t.start()
    for _ in range(100):
        if urls:
            break
        time.sleep(0.05)
    url = urls[0].splitlines()[-1]
    assert url.startswith(emu.base_url + "/oauth/authorize?") and "scope=activity%3Aread_all" in url
    # the person approves in a browser: the emulator approves at once and redirects to our callback
    resp = httpx.get(url, follow_redirects=True, timeout=10)
    assert resp.status_code == 200 and "authorized" in resp.text
    t.join(10)
    assert "error" not in result, result.get("error")
    token_file = Path(result["path"])
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert json.loads(token_file.read_text())["access_token"]
    r = run_sync(tmp_path, emu)
    assert r.status == "complete"


def test_forget_deletes_data_and_tokens(tmp_path, emu, clock):
    run_sync(tmp_path, emu, clock)
    cfg = write_config(tmp_path, emu.base_url)
    proc = subprocess.run([sys.executable, "-m", "runlift.flows.cli", "strava", "forget", "--yes",
                           "--config", str(cfg)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    db = tmp_path / "w.duckdb"
    assert q(db, "SELECT count(*) FROM raw.strava_activities")[0][0] == 0
    assert q(db, "SELECT count(*) FROM raw.strava_streams")[0][0] == 0
    assert q(db, "SELECT count(*) FROM raw.strava_gear")[0][0] == 0
    assert not (tmp_path / "tokens" / "me.json").exists()


# --- gear (shoes): GET /gear/{id} ----------------------------------------------------------------

SHOE_TOTALS = {}
for _a in SEASON:
    if _a.get("gear_id"):
        SHOE_TOTALS[_a["gear_id"]] = SHOE_TOTALS.get(_a["gear_id"], 0.0) + _a["distance"]


def gear_calls(emu: StravaEmulator) -> list[tuple[str, int]]:
    return [(path, status) for _, path, status in emu.request_log if path.startswith("/api/v3/gear/")]


def test_a_sync_fetches_each_gear_once_and_the_next_sync_none(tmp_path, emu, clock):
    r = run_sync(tmp_path, emu, clock)
    assert r.status == "complete" and r.gear == N_GEAR == 4
    assert sorted(gear_calls(emu)) == sorted((f"/api/v3/gear/{g}", 200) for g in SHOE_TOTALS)
    db = tmp_path / "w.duckdb"
    got = {row[0]: row[1:] for row in q(db, """SELECT gear_id, fetch_status, name, brand_name, model_name,
                                                      is_retired, round(distance_m, 1)
                                               FROM raw.strava_gear WHERE athlete_id = 'me'""")}
    assert got["g15203114"] == ("ok", "Nike Pegasus 41", "Nike", "Pegasus 41", False,
                                round(SHOE_TOTALS["g15203114"], 1))
    assert got["g13990051"][:5] == ("ok", "Nike Pegasus 40", "Nike", "Pegasus 40", True)
    assert q(db, "SELECT gear_fetched FROM ops.strava_sync_runs") == [(4,)]
    again = run_sync(tmp_path, emu, clock)
    assert (again.gear, again.api_calls) == (0, 1)
    assert len(gear_calls(emu)) == N_GEAR  # no gear call the second time
    # a week later the names are asked again (a retirement at Strava shows up), once each
    emu.set_gear("g15203114", retired=True)
    with wdb.connect(db) as con:
        con.execute("UPDATE raw.strava_gear SET fetched_at = fetched_at - INTERVAL 7 DAY")
    later = run_sync(tmp_path, emu, clock)
    assert later.gear == N_GEAR and len(gear_calls(emu)) == 2 * N_GEAR
    assert q(db, "SELECT is_retired FROM raw.strava_gear WHERE gear_id = 'g15203114'") == [(True,)]


def test_unknown_gear_is_recorded_and_not_asked_every_night(tmp_path, emu, clock):
    first = min(SEASON, key=lambda a: a["start_date"])
    emu.edit_activity(first["id"], gear_id="g999")  # a shoe Strava no longer has
    r = run_sync(tmp_path, emu, clock)
    assert r.status == "complete"
    assert ("/api/v3/gear/g999", 404) in gear_calls(emu)
    assert q(tmp_path / "w.duckdb", "SELECT fetch_status, name FROM raw.strava_gear WHERE gear_id = 'g999'") == [
        ("not_found", None)]
    assert run_sync(tmp_path, emu, clock).gear == 0


def test_a_429_at_the_gear_step_keeps_the_activities_and_gear_comes_later(tmp_path, emu, clock):
    """Another tool of the same application spends the window just as the gear step starts: the gear
    call answers a real 429; activities and streams are kept, the run pauses, the next one (a new
    window) fetches only the gear."""
    cfg = write_config(tmp_path, emu.base_url)
    settings = load_settings(cfg, env={})
    clock.jump_to_next_window(900)
    spent = []

    def foreign_spending(line: str) -> None:
        if line == f"streams {RUNS_WITH_STREAMS} of {RUNS_WITH_STREAMS}" and not spent:
            tok = httpx.post(f"{emu.base_url}/oauth/token", data={
                "client_id": "12345", "client_secret": "emulator-secret", "grant_type": "refresh_token",
                "refresh_token": emu.issue_refresh_token()}).json()["access_token"]
            while httpx.get(f"{emu.base_url}/api/v3/athlete",
                            headers={"Authorization": f"Bearer {tok}"}).status_code != 429:
                spent.append(1)

    con = wdb.connect(settings.db_path)
    try:
        with make_client(settings, "me", clock=clock, sleep=lambda s: None) as client:
            r = sync_athlete(con, client, settings.strava, "me", log=foreign_spending)
    finally:
        con.close()
    db = settings.db_path
    assert spent and r.status == "paused" and "429" in r.message
    assert (r.new, r.streams, r.gear) == (N_ACTIVITIES, RUNS_WITH_STREAMS, 0)
    assert gear_calls(emu) == [(gear_calls(emu)[0][0], 429)]
    assert q(db, "SELECT count(*) FROM raw.strava_activities")[0][0] == N_ACTIVITIES
    assert q(db, "SELECT count(DISTINCT activity_id) FROM raw.strava_streams")[0][0] == RUNS_WITH_STREAMS
    assert q(db, "SELECT count(*) FROM raw.strava_gear")[0][0] == 0
    clock.jump_to_next_window(900)
    later = run_sync(tmp_path, emu, clock)
    assert (later.status, later.new, later.streams, later.gear) == ("complete", 0, 0, N_GEAR)
    assert q(db, "SELECT count(*) FROM raw.strava_gear WHERE fetch_status = 'ok'")[0][0] == N_GEAR
