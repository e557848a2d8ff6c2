"""A misbehaving Strava (tests/hostile_http.py, real sockets on 127.0.0.1) and hostile settings:
every case ends in bounded time with one clear line, a recorded run, and no secret shown."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runlift.connectors.strava.client import AuthError, StravaClient
from runlift.connectors.strava.tokens import TokenStore
from runlift.flows.settings import SettingsError, load_settings
from runlift.flows.strava_sync import make_client, sync_athlete, sync_paths
from runlift.standins.config import write_settings
from runlift.warehouse import db as wdb

from helpers import q
from hostile_http import FakeStrava, HostileServer, Reply, activity, json_reply

SECRET = "hostile-client-secret-0123456789"
NOW = int(time.time())
DAY = 86400


def write_config(tmp_path: Path, base_url: str, **strava: object) -> Path:
    values = {"client_id": "12345", "client_secret": SECRET, "base_url": base_url, "retries": 0, "timeout_s": 5.0,
              "stream_sport_types": [], **strava}
    return write_settings(tmp_path, strava=values)


def sync(tmp_path: Path, server: HostileServer, *, full: bool = False, **strava: object):
    settings = load_settings(write_config(tmp_path, server.base_url, **strava), env={})
    con = wdb.connect(settings.db_path)
    try:
        with make_client(settings, "me", sleep=lambda s: None) as client:
            return sync_athlete(con, client, settings.strava, "me", full=full)
    finally:
        con.close()


def runs(tmp_path: Path) -> list[tuple]:
    return q(tmp_path / "w.duckdb", "SELECT status, message FROM ops.strava_sync_runs ORDER BY finished_at")


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runlift.flows.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout)


@pytest.fixture
def strava(monkeypatch):
    fake = FakeStrava([activity(i, NOW - (50 - i) * DAY) for i in range(1, 11)])
    monkeypatch.setenv("STRAVA_REFRESH_TOKEN", fake.refresh_token)
    with HostileServer(fake) as server:
        server.fake = fake
        yield server


# --- 4: one deadline per request -----------------------------------------------------------------


@pytest.mark.parametrize("where", ["body", "headers"])
def test_a_trickling_server_cannot_outlast_the_timeout(tmp_path, strava, where):
    """700 bytes of body at 1 byte / 10 ms (or ~75 of headers at 1 byte / 50 ms) would take 7 s (3.7 s);
    with timeout_s = 1 the request ends in about 1 s."""
    body = json.dumps([activity(1, NOW - DAY)]).ljust(700).encode()
    if where == "body":
        strava.fake.page = lambda req: Reply(200, body, trickle_s=0.01)
    else:
        strava.fake.token = lambda req: Reply(200, body, trickle_headers_s=0.05)
    t0 = time.monotonic()
    r = sync(tmp_path, strava, timeout_s=1.0)
    took = time.monotonic() - t0
    assert took < 3.0, f"the sync took {took:.1f} s with timeout_s = 1"
    assert r.status == "failed" and "could not be reached" in r.message
    assert runs(tmp_path)[-1][0] == "failed"


def test_a_compressed_answer_is_read_only_up_to_the_cap(tmp_path, strava):
    """80 MB of gzip-compressed spaces (360 KB on the wire) is not inflated into memory whole."""
    import gzip

    bomb = gzip.compress(b" " * (80 * 2**20), compresslevel=1)
    strava.fake.page = lambda req: Reply(200, bomb, [("Content-Encoding", "gzip")])
    r = sync(tmp_path, strava)
    assert r.status == "failed" and "larger than 64 MB" in r.message


# --- 5: the listing cursor must advance ----------------------------------------------------------


@pytest.mark.parametrize("dated", [True, False])
def test_a_server_repeating_the_same_page_stops_the_listing(tmp_path, strava, dated):
    full_page = [activity(i, NOW - (300 - i) * 3600) for i in range(1, 201)]
    if not dated:
        for a in full_page:
            del a["start_date"]
    strava.fake.activities = full_page
    strava.fake.ignore_after = True
    served = []

    def page(req):
        served.append(req.query.get("after"))
        # a guard so that the test itself ends if the client never stops
        return json_reply(full_page if len(served) < 40 else [])

    strava.fake.page = page
    r = sync(tmp_path, strava)
    assert len(served) <= 3, served
    assert r.status == "failed"
    assert "did not advance" in r.message and "after" in r.message
    status, message = runs(tmp_path)[-1]
    assert status == "failed" and "did not advance" in message
    # the page itself was saved
    assert q(tmp_path / "w.duckdb", "SELECT count(*) FROM raw.strava_activities")[0][0] == 200


# --- 6: odd values are skipped or ignored, the rest is saved --------------------------------------


def test_odd_activities_are_skipped_and_the_rest_of_the_page_saved(tmp_path, strava):
    good = [activity(i, NOW - (20 - i) * DAY) for i in range(1, 6)]
    odd = [activity(0, NOW - 30 * DAY) | {"id": "inf"}, activity(0, NOW - 31 * DAY) | {"id": 2 ** 70},
           activity(0, NOW - 32 * DAY) | {"id": 7.5}, activity(0, NOW - 33 * DAY) | {"id": float("nan")}]
    offset = activity(6, NOW - 2 * DAY) | {"utc_offset": 1e30, "distance": float("inf"), "upload_id": 2 ** 70}
    strava.fake.activities = odd + good + [offset]
    strava.fake.headers = [("X-RateLimit-Limit", "99999999999,99999999999999999999"), ("X-RateLimit-Usage", "1,1"),
                           ("X-ReadRateLimit-Limit", "-5,abc"), ("X-ReadRateLimit-Usage", "3,3")]
    r = sync(tmp_path, strava)
    assert r.status == "complete", r.message
    db = tmp_path / "w.duckdb"
    assert q(db, "SELECT activity_id FROM raw.strava_activities ORDER BY 1") == [(i,) for i in range(1, 7)]
    assert q(db, "SELECT utc_offset_s, distance_m, upload_id FROM raw.strava_activities WHERE activity_id = 6") == [
        (None, None, None)]
    # the payload is kept as sent (non-finite numbers aside, which JSON cannot hold)
    assert json.loads(q(db, "SELECT payload FROM raw.strava_activities WHERE activity_id = 6")[0][0])[
        "utc_offset"] == 1e30
    assert len(r.skipped_payloads) == 5  # four ids and one activity with odd fields
    assert sum("skipped" in p for p in r.skipped_payloads) == 4
    assert any("utc_offset" in p and "activity 6" in p for p in r.skipped_payloads)
    status, message = runs(tmp_path)[-1]
    assert status == "complete" and "activities skipped: 4, stored with a note: 1" in message
    # odd rate-limit headers are ignored: the limits stay Strava's defaults, the usage is read
    assert q(db, "SELECT limit_15, limit_day, read_limit_15, read_limit_day, read_usage_15 FROM ops.strava_rate_limit"
             ) == [(200, 2000, 100, 1000, 3)]


@pytest.mark.parametrize("answer", [
    Reply(200, b"<html><body>Bad gateway</body></html>", content_type="text/html"),
    Reply(200, b'{"access_token": "a", "expires_at": "soon", "refresh_token": "r"}'),
    Reply(200, b'{"access_token": ["x"], "expires_at": 1, "refresh_token": "r"}'),
    Reply(200, b'{"access_token": "abc", "expires_at": 1e400, "refresh_token": "r"}'),
    Reply(200, b'[1, 2]'),
    Reply(200, b'[' * 100000),
], ids=["html", "soon", "list-token", "inf-expiry", "list", "deep"])
def test_a_bad_token_answer_is_one_clear_failure_with_a_recorded_run(tmp_path, strava, answer):
    strava.fake.token = lambda req: answer
    r = sync(tmp_path, strava)
    assert r.status == "failed"
    assert "token answer" in r.message and "\n" not in r.message
    assert runs(tmp_path)[-1][0] == "failed"


def test_a_bad_token_answer_at_auth_raises_an_auth_error(tmp_path, strava):
    strava.fake.token = lambda req: Reply(200, b"<html>oops</html>", content_type="text/html")
    with StravaClient(base_url=strava.base_url, client_id="1", client_secret=SECRET,
                      tokens=TokenStore(tmp_path / "t.json")) as client, pytest.raises(AuthError, match="token answer"):
        client.exchange_code("abc")
    assert not (tmp_path / "t.json").exists()


@pytest.mark.parametrize("content", ["[1, 2]", "{not json", '{"access_token": 5, "expires_at": "x"}', "null"])
def test_a_bad_token_file_is_one_line_and_a_recorded_run(tmp_path, strava, content):
    cfg = write_config(tmp_path, strava.base_url)
    token_file = tmp_path / "tokens" / "me.json"
    token_file.parent.mkdir()
    token_file.write_text(content)
    token_file.chmod(0o600)
    if content != "[1, 2]":
        r = sync(tmp_path, strava)
        assert r.status == "failed" and r.message.startswith(f"token file {token_file} is unusable")
        assert runs(tmp_path)[-1][0] == "failed"
        return
    proc = cli("strava", "sync", "--config", str(cfg))  # the command line: one line, exit status 1, no traceback
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("runlift: error:")]
    assert len(errors) == 1 and "token file" in errors[0] and "runlift strava auth" in errors[0]
    assert runs(tmp_path)[-1][0] == "failed"


# --- 7: dates in the future do not move the high-water mark -----------------------------------------


def test_a_future_dated_activity_does_not_stop_incremental_syncs(tmp_path, strava):
    latest = NOW - 3 * DAY
    strava.fake.activities = [activity(1, NOW - 10 * DAY), activity(2, latest),
                              activity(3, NOW) | {"start_date": "9999-12-31T00:00:00Z"}]
    r = sync(tmp_path, strava)
    assert r.status == "complete" and r.new == 3
    assert any("activity 3" in p and "future" in p for p in r.skipped_payloads)
    db = tmp_path / "w.duckdb"
    assert q(db, "SELECT high_water_start FROM ops.strava_sync_state") == [(latest,)]
    strava.fake.activities.append(activity(4, NOW - DAY))
    r = sync(tmp_path, strava)
    assert r.listing_mode == "incremental" and r.new == 1
    asked = [int(req.query["after"]) for req in strava.requests if req.path == "/api/v3/athlete/activities"]
    assert asked[-1] == latest - 7 * DAY


def test_a_high_water_mark_already_in_the_future_is_healed(tmp_path, strava):
    r = sync(tmp_path, strava)
    assert r.status == "complete"
    db = tmp_path / "w.duckdb"
    con = wdb.connect(db)
    con.execute("UPDATE ops.strava_sync_state SET high_water_start = 253402214400")  # 9999-12-31
    con.close()
    strava.fake.activities.append(activity(99, NOW - DAY))
    r = sync(tmp_path, strava)
    assert r.new == 1
    assert q(db, "SELECT high_water_start FROM ops.strava_sync_state") == [(NOW - DAY,)]


# --- 11: secrets a server echoes are redacted everywhere ---------------------------------------------


def test_secrets_echoed_by_the_server_are_redacted_and_bounded(tmp_path, strava):
    def echo(req):  # an error text quoting the whole request, as a careless server would
        quoted = req.body.decode() + " Authorization: " + req.headers.get("authorization", "")
        return json_reply({"message": "Bad Request", "errors": [
            {"resource": "Request " + quoted, "field": "x" * 5000, "code": "invalid\nline two"}]}, 400)

    strava.fake.token = echo
    refresh = strava.fake.refresh_token
    cfg = write_config(tmp_path, strava.base_url)
    proc = cli("strava", "sync", "--config", str(cfg))
    assert proc.returncode == 1
    out = proc.stdout + proc.stderr
    stored = " ".join(m for _, m in runs(tmp_path))
    status = cli("status", "--working", "--config", str(cfg))
    for text in (out, stored, status.stdout + status.stderr):
        assert SECRET not in text and refresh not in text
        assert "client_secret=" not in text or "client_secret=[redacted]" in text
    assert len(stored) <= 600 and "\n" not in stored
    assert max(len(line) for line in proc.stderr.splitlines()) <= 700


def test_redact_function():
    from runlift.connectors.redact import redact

    token = "0123456789abcdef0123456789abcdef01234567"
    text = (f"client_secret={SECRET}&refresh_token=r3fr3sh-T0ken-value&code=abc123 Authorization: Bearer {token}"
            f' {{"access_token": "zzz"}} \x1b[31mred\x1b[0m\nnext line')
    out = redact(text, [SECRET, "r3fr3sh-T0ken-value"])
    for secret in (SECRET, "r3fr3sh-T0ken-value", token, "abc123", "zzz"):
        assert secret not in out
    assert "\n" not in out and "\x1b" not in out
    assert len(redact("y" * 10_000)) <= 500
    not_secret = "2019-02-17-062644-ELEMNT-297E-195-0.fit not found"
    assert redact(not_secret) == not_secret
    assert redact(None) == ""


def test_webhook_and_artifact_get_redacted_text(tmp_path):
    import datetime as dt

    from runlift.flows import nightly

    token = "f" * 8 + "0123456789abcdef0123456789abcdef"
    got = []

    def capture(req):
        got.append(req.body.decode())
        return Reply(200, b"{}")

    report = nightly.NightReport(started_at=dt.datetime(2026, 1, 1))
    report.failures.append(f"Strava for me: refused (refresh_token={token})\nsecond line")
    with HostileServer(capture) as hook:
        nightly.notify(hook.base_url + "/hook", report)
    assert got and token not in got[0] and "second line" in got[0] and "\\n" not in got[0]
    settings = load_settings(write_config(tmp_path, "https://www.strava.com"), env={})
    md = nightly._summary_markdown(settings, report)
    assert token not in md and "refresh_token=[redacted]" in md


# --- 12: token file permissions and plain http ------------------------------------------------------


def test_a_token_file_readable_by_others_is_tightened_with_a_warning(tmp_path, strava):
    settings = load_settings(write_config(tmp_path, strava.base_url), env={})
    token_file = tmp_path / "tokens" / "me.json"
    token_file.parent.mkdir()
    token_file.write_text(json.dumps({"access_token": "", "expires_at": 0, "refresh_token": strava.fake.refresh_token}))
    token_file.chmod(0o644)
    said: list[str] = []
    r = sync_paths(settings, "me", log=said.append)
    assert r.status == "complete", r.message
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    warnings = [m for m in said if "0644" in m and str(token_file) in m]
    assert len(warnings) == 1 and "0600" in warnings[0]
    said.clear()
    sync_paths(settings, "me", log=said.append)
    assert not [m for m in said if "0600" in m]  # once tightened, nothing more to say


@pytest.mark.parametrize("url", ["http://www.strava.com", "http://10.0.0.1:8765", "http://128.0.0.1",
                                 "http://localhost.example.com", "http://[::2]:80", "http://", "ftp://127.0.0.1"])
def test_plain_http_to_a_non_loopback_host_is_refused(tmp_path, url):
    cfg = write_config(tmp_path, url)
    with pytest.raises(SettingsError, match=r"strava\.base_url"):
        load_settings(cfg, env={})
    (tmp_path / "https").mkdir()
    with pytest.raises(SettingsError, match=r"strava\.base_url.*RUNLIFT_STRAVA_BASE_URL"):
        load_settings(write_config(tmp_path / "https", "https://www.strava.com"), env={"RUNLIFT_STRAVA_BASE_URL": url})
    if url == "http://www.strava.com":  # and on the command line: one line, exit status 2
        proc = cli("strava", "sync", "--config", str(cfg))
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "https://" in proc.stderr


@pytest.mark.parametrize("url", ["http://127.0.0.1:8765", "http://127.3.4.5", "http://[::1]:9000",
                                 "http://localhost:8000", "http://LOCALHOST", "https://www.strava.com",
                                 "https://10.0.0.1:8443/strava"])
def test_loopback_http_and_https_are_accepted(tmp_path, url):
    assert load_settings(write_config(tmp_path, url), env={}).strava.base_url == url


# --- 13: athlete ids -----------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["../../../x", "..", "a/b", "a..b", ".hidden", "-x", "", "x" * 65, "é", "a b", "a\nb"])
def test_bad_athlete_ids_are_refused_wherever_they_come_from(tmp_path, bad):
    cfg = write_config(tmp_path, "https://www.strava.com")
    with pytest.raises(SettingsError, match="athlete id"):
        load_settings(cfg, athlete=bad, env={}) if bad else load_settings(cfg, env={"RUNLIFT_ATHLETE": "a/b"})
    with pytest.raises(SettingsError, match="athlete id"):
        load_settings(cfg, env={"RUNLIFT_ATHLETE": bad or "../y"})
    table = tmp_path / "t.toml"
    table.write_text(f'[athletes.{json.dumps(bad)}]\ntimezone = "UTC"\n')
    with pytest.raises(SettingsError, match="athlete id"):
        load_settings(table, env={})


@pytest.mark.parametrize("good", ["me", "ana", "Bob_2", "x.y-z", "0", "a" * 64])
def test_good_athlete_ids_pass(tmp_path, good):
    table = tmp_path / "t.toml"
    table.write_text(f'[athletes.{json.dumps(good)}]\ntimezone = "UTC"\n')
    assert load_settings(table, env={}).athlete_id == good


def test_strava_sync_and_forget_refuse_a_path_in_the_athlete_id(tmp_path):
    home = tmp_path / "home"
    victim = home / "tokens" / "strava-../../victim.json"
    (home / "tokens" / "strava-..").mkdir(parents=True)
    victim.write_text("{}")
    env = {"RUNLIFT_HOME": str(home), "STRAVA_CLIENT_ID": "1", "STRAVA_CLIENT_SECRET": "s",
           "RUNLIFT_STRAVA_BASE_URL": "http://127.0.0.1:9", "STRAVA_REFRESH_TOKEN": "r"}
    for args in (["strava", "forget", "--yes", "--athlete", "../../victim"],
                 ["strava", "sync", "--athlete", "../../../x"]):
        proc = cli(*args, env=env)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.count("\n") == 1 and "athlete id" in proc.stderr and "'../../" in proc.stderr
    assert victim.exists()
    assert not (tmp_path / "x.json").exists() and not list(home.glob("**/x.json"))
    proc = cli("strava", "forget", "--yes", env={**env, "RUNLIFT_ATHLETE": "../../victim"})
    assert proc.returncode == 2 and victim.exists()
