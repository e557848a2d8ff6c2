"""The local Strava API emulator and its synthetic season, over real sockets (httpx on 127.0.0.1)."""

from __future__ import annotations

import copy
import logging
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pydantic
import pytest
from stravalib import model, strava_model

from runlift.standins.clock import FakeClock
from runlift.standins.season import SUMMARY_FIELDS, default_athlete, streams_for, summary_of, synthetic_season
from runlift.standins.strava_emulator import StravaEmulator

from helpers import runlift

END = date(2026, 11, 22)  # a Sunday; DST in Denver ends on 2026-11-01
ROOT = Path(__file__).resolve().parents[1]
DETAIL_ONLY = ("device_name", "calories", "perceived_exertion", "description", "segment_efforts",
               "splits_metric", "splits_standard", "laps", "best_efforts", "photos", "gear", "embed_token")
RUNS = ("Run", "TrailRun")


@pytest.fixture(scope="module")
def season() -> list[dict]:
    return synthetic_season(END)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1_800_000_000.0)  # a multiple of 900


@pytest.fixture
def emu(season, clock):
    with StravaEmulator(season, clock=clock) as e:
        yield e


@pytest.fixture
def http(emu):
    with httpx.Client(base_url=emu.base_url, timeout=10) as c:
        yield c


def token_pair(emu: StravaEmulator, http: httpx.Client, refresh: str | None = None) -> dict:
    r = http.post("/oauth/token", data={"client_id": "12345", "client_secret": "emulator-secret",
                                        "grant_type": "refresh_token",
                                        "refresh_token": refresh or emu.issue_refresh_token()})
    assert r.status_code == 200, r.text
    return r.json()


def auth(emu: StravaEmulator, http: httpx.Client) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_pair(emu, http)['access_token']}"}


def week_of(activity: dict, weeks: int = 16, end: date = END) -> int:
    local_day = date.fromisoformat(activity["start_date_local"][:10])
    return weeks - (end - local_day).days // 7


def epoch(activity: dict) -> int:
    return int(datetime.fromisoformat(activity["start_date"].replace("Z", "+00:00")).timestamp())


# --- the season --------------------------------------------------------------------------------


def test_season_is_deterministic_and_the_right_size(season):
    assert synthetic_season(END) == season
    assert synthetic_season(END, seed=8) != season
    ids = [a["id"] for a in season]
    assert len(set(ids)) == len(ids) and ids == sorted(ids)  # ids grow with start time
    assert [a["start_date"] for a in season] == sorted(a["start_date"] for a in season)

    runs = [a for a in season if a["sport_type"] in RUNS]
    assert 540_000 <= sum(a["distance"] for a in runs) <= 590_000
    runs_per_week = Counter(week_of(a) for a in runs)
    gym_per_week = Counter(week_of(a) for a in season if a["sport_type"] == "WeightTraining")
    assert set(runs_per_week) == set(range(1, 17))
    for w in range(1, 17):
        if w < 6:
            assert 4 <= runs_per_week[w] <= 5, w
            assert gym_per_week[w] == 0, w
        else:
            assert 3 <= runs_per_week[w] <= 4, w
            assert 2 <= gym_per_week[w] <= 3, w
    longest = max(a["distance"] for a in runs if a["workout_type"] == 2)
    assert 18_000 <= longest <= 20_500
    race = season[-1]
    assert race["workout_type"] == 1 and race["distance"] == 21097.5
    assert race["start_date_local"].startswith(END.isoformat())
    # another length scales: 8 weeks is about half
    short = synthetic_season(END, weeks=8)
    assert 265_000 <= sum(a["distance"] for a in short if a["sport_type"] in RUNS) <= 300_000


def test_season_fields_look_like_strava(season):
    for a in season:
        assert a["resource_state"] == 3 and a["athlete"] == {"id": 4242, "resource_state": 1}
        start = datetime.fromisoformat(a["start_date"].replace("Z", "+00:00"))
        local = datetime.fromisoformat(a["start_date_local"].replace("Z", "+00:00"))
        assert a["start_date_local"].endswith("Z")  # local wall clock, with Strava's Z
        assert local - start == timedelta(seconds=a["utc_offset"])
        assert isinstance(a["utc_offset"], float)
        expected = "(GMT-06:00) America/Denver" if start < datetime(2026, 11, 1, 8, tzinfo=UTC) \
            else "(GMT-07:00) America/Denver"
        assert a["timezone"] == expected
        assert isinstance(a["moving_time"], int) and a["elapsed_time"] >= a["moving_time"]
        if a["sport_type"] in RUNS and not a["manual"]:
            assert 80 <= a["average_cadence"] <= 91  # strides per minute
            assert a["device_name"] == "Garmin Forerunner 265"
    manual = [a for a in season if a["manual"]]
    assert len(manual) == 2
    for a in manual:
        assert a["start_latlng"] == [] and a["end_latlng"] == [] and a["upload_id"] is None
        assert a["external_id"] is None and not a["map"]["summary_polyline"] and "device_name" not in a
    no_gps_run = [a for a in season if a["sport_type"] == "Run" and not a["manual"] and a["start_latlng"] == []]
    assert len(no_gps_run) == 1
    odd = [a for a in season if a["sport_type"] == "HyroxRace"]
    assert len(odd) == 1 and odd[0]["type"] == "Workout"
    gps = [a for a in season if a["start_latlng"]]
    assert all(39.9 < a["start_latlng"][0] < 40.1 and -105.35 < a["start_latlng"][1] < -105.15 for a in gps)
    assert all(a["map"]["summary_polyline"] for a in gps)
    assert any(isinstance(a.get("max_heartrate"), float) for a in season)
    assert all(a["distance"] == 0 and a["type"] == "WeightTraining"
               for a in season if a["sport_type"] == "WeightTraining")
    assert {a["external_id"].split("_")[0] for a in season
            if a["external_id"] and "ping" in a["external_id"]} == {"garmin"}
    assert any(a["external_id"] and a["external_id"].endswith(".fit") for a in season)


def test_summary_is_the_list_view(season):
    for a in season:
        s = summary_of(a)
        assert s["resource_state"] == 2 and set(s) <= set(SUMMARY_FIELDS)
        assert not set(DETAIL_ONLY) & set(s)
        assert set(s["map"]) == {"id", "summary_polyline", "resource_state"}
        for key in ("id", "name", "distance", "start_date", "sport_type", "manual", "start_latlng"):
            assert s[key] == a[key]


def test_payloads_validate_with_stravalib_models(season, caplog):
    known = [a for a in season if a["sport_type"] != "HyroxRace"]
    for a in known:
        s = model.SummaryActivity.model_validate(summary_of(a))
        d = model.DetailedActivity.model_validate(a)
        assert s.sport_type == a["sport_type"] and d.device_name == a.get("device_name")
        if not a["start_latlng"]:
            assert s.start_latlng is None  # stravalib's wrapper turns Strava's [] into None
    # the generated strict model (strava_model) rejects Strava's real "start_latlng": [] ...
    no_gps = next(a for a in known if a["start_latlng"] == [])
    with pytest.raises(pydantic.ValidationError, match="start_latlng"):
        strava_model.SummaryActivity.model_validate(summary_of(no_gps))
    with_gps = next(a for a in known if a["start_latlng"])
    strava_model.SummaryActivity.model_validate(summary_of(with_gps))
    # ... and an unknown sport type: strava_model rejects it, model.* silently rewrites it to Workout
    hyrox = next(a for a in season if a["sport_type"] == "HyroxRace")
    with pytest.raises(pydantic.ValidationError, match="sport_type"):
        strava_model.SummaryActivity.model_validate({**summary_of(with_gps), "sport_type": "HyroxRace"})
    with caplog.at_level(logging.WARNING):
        rewritten = model.SummaryActivity.model_validate(summary_of(hyrox))
    assert rewritten.sport_type == "Workout" and rewritten.type == "Workout"
    assert "HyroxRace" in caplog.text
    # a heart rate of 171.0 passes (lax int), 171.5 would not
    model.SummaryActivity.model_validate({**summary_of(with_gps), "max_heartrate": 171.0})
    with pytest.raises(pydantic.ValidationError):
        model.SummaryActivity.model_validate({**summary_of(with_gps), "max_heartrate": 171.5})
    model.DetailedAthlete.model_validate(default_athlete())


def test_streams_agree_with_the_activity(season):
    run = next(a for a in season if a["sport_type"] == "Run" and a["start_latlng"] and a["elapsed_time"] > 3600)
    keys = ["time", "distance", "latlng", "altitude", "velocity_smooth", "heartrate", "cadence", "watts",
            "temp", "moving", "grade_smooth"]
    st = streams_for(run, keys)
    assert set(st) == set(keys)
    n = len(st["time"]["data"])
    assert all(s["original_size"] == len(s["data"]) == n and s["series_type"] == "distance" for s in st.values())
    assert n >= run["elapsed_time"] // 5 and st["time"]["data"][-1] <= run["elapsed_time"]
    assert st["distance"]["data"][-1] == pytest.approx(run["distance"], abs=0.1)
    assert max(st["heartrate"]["data"]) == run["max_heartrate"]
    assert 78 <= sum(st["cadence"]["data"]) / sum(st["moving"]["data"]) <= 92  # strides/min
    assert st["latlng"]["data"][0] == pytest.approx(run["start_latlng"], abs=1e-5)
    strava_model.StreamSet.model_validate(st)
    assert streams_for(run, ["heartrate"]) == streams_for(run, ["heartrate"])
    as_list = streams_for(run, ["time"], key_by_type=False)
    assert isinstance(as_list, list) and {s["type"] for s in as_list} == {"time", "distance"}
    treadmill = next(a for a in season if a["sport_type"] == "Run" and not a["manual"] and not a["start_latlng"])
    assert "latlng" not in streams_for(treadmill, ["latlng", "heartrate"])
    with pytest.raises(ValueError):
        streams_for(next(a for a in season if a["manual"]), ["time"])


# --- OAuth -------------------------------------------------------------------------------------


def test_authorize_code_exchange_and_refresh_rotation(emu, http):
    r = http.get("/oauth/authorize", params={"client_id": "12345", "redirect_uri": "http://localhost:9/cb",
                                             "response_type": "code", "scope": "activity:read_all",
                                             "state": "s1", "approval_prompt": "auto"})
    assert r.status_code == 302
    location = httpx.URL(r.headers["location"])
    assert location.host == "localhost" and location.path == "/cb"
    assert location.params["state"] == "s1" and location.params["scope"] == "read,activity:read_all"
    form = {"client_id": "12345", "client_secret": "emulator-secret", "grant_type": "authorization_code",
            "code": location.params["code"]}
    first = http.post("/oauth/token", data=form)
    assert first.status_code == 200
    body = first.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 21600
    assert body["expires_at"] == int(emu.clock()) + 21600 and body["athlete"]["id"] == 4242
    assert http.post("/oauth/token", data=form).status_code == 400  # a code works once
    bad = http.post("/oauth/token", data={**form, "client_secret": "nope"})
    assert bad.status_code in (400, 401)
    assert bad.json()["errors"][0] == {"resource": "Application", "field": "client_secret", "code": "invalid"}

    # refresh: JSON body works too, and each refresh rotates the refresh token
    old = body["refresh_token"]
    refreshed = http.post("/oauth/token", json={"client_id": "12345", "client_secret": "emulator-secret",
                                                "grant_type": "refresh_token", "refresh_token": old})
    assert refreshed.status_code == 200
    new = refreshed.json()["refresh_token"]
    assert new != old and "athlete" not in refreshed.json()
    again = http.post("/oauth/token", data={"client_id": "12345", "client_secret": "emulator-secret",
                                            "grant_type": "refresh_token", "refresh_token": old})
    assert again.status_code == 400
    assert again.json() == {"message": "Bad Request", "errors": [
        {"resource": "RefreshToken", "field": "refresh_token", "code": "invalid"}]}
    assert token_pair(emu, http, new)["refresh_token"] != new
    # the initial refresh token from the constructor works once
    assert token_pair(emu, http, "emulator-refresh-0")
    # nothing secret reaches the request log
    http.post("/oauth/token?client_secret=emulator-secret&refresh_token=abc", data={})
    logged = repr(emu.request_log)
    assert "emulator-secret" not in logged and old not in logged and new not in logged and "abc" not in logged


def test_refresh_without_rotation_keeps_the_token(season):
    with StravaEmulator(season[:3], rotate_refresh_tokens=False) as e, httpx.Client(base_url=e.base_url) as c:
        assert token_pair(e, c, "emulator-refresh-0")["refresh_token"] == "emulator-refresh-0"
        assert token_pair(e, c, "emulator-refresh-0")["refresh_token"] == "emulator-refresh-0"


def test_access_token_expires_by_the_emulator_clock(emu, http, clock):
    headers = auth(emu, http)
    assert http.get("/api/v3/athlete", headers=headers).status_code == 200
    clock.advance(21599)
    assert http.get("/api/v3/athlete", headers=headers).status_code == 200
    clock.advance(1)
    r = http.get("/api/v3/athlete", headers=headers)
    assert r.status_code == 401
    assert r.json() == {"message": "Authorization Error", "errors": [
        {"resource": "Athlete", "field": "access_token", "code": "invalid"}]}
    assert http.get("/api/v3/athlete", headers=auth(emu, http)).status_code == 200


def test_401_without_a_valid_token_still_counts(emu, http):
    r = http.get("/api/v3/athlete")
    assert r.status_code == 401 and r.json()["message"] == "Authorization Error"
    assert r.headers["X-RateLimit-Usage"] == "1,1" and r.headers["X-ReadRateLimit-Usage"] == "1,1"
    assert http.get("/api/v3/athlete", headers={"Authorization": "Bearer nope"}).status_code == 401
    athlete = http.get("/api/v3/athlete", headers=auth(emu, http)).json()
    assert athlete["id"] == 4242 and athlete["resource_state"] == 3 and athlete["shoes"]


# --- listing -----------------------------------------------------------------------------------


def test_pagination_filters_and_order(emu, http, season):
    h = auth(emu, http)
    newest_first = sorted(season, key=epoch, reverse=True)
    seen = []
    for page in range(1, 20):
        batch = http.get("/api/v3/athlete/activities", params={"page": page, "per_page": 25}, headers=h).json()
        if not batch:
            break
        assert len(batch) <= 25
        seen += batch
    assert [a["id"] for a in seen] == [a["id"] for a in newest_first]
    default = http.get("/api/v3/athlete/activities", headers=h).json()
    assert len(default) == 30 and default[0]["id"] == season[-1]["id"]

    pivot = season[40]
    after = http.get("/api/v3/athlete/activities", params={"after": epoch(pivot), "per_page": 200}, headers=h).json()
    assert [a["id"] for a in after] == [a["id"] for a in season[41:]]  # strictly after, oldest first
    before = http.get("/api/v3/athlete/activities", params={"before": epoch(pivot), "per_page": 200},
                      headers=h).json()
    assert [a["id"] for a in before] == [a["id"] for a in reversed(season[:40])]  # strictly before, newest first
    both = http.get("/api/v3/athlete/activities",
                    params={"after": epoch(season[10]), "before": epoch(season[20])}, headers=h).json()
    assert [a["id"] for a in both] == [a["id"] for a in reversed(season[11:20])]  # newest first again
    assert http.get("/api/v3/athlete/activities", params={"after": epoch(season[-1])}, headers=h).json() == []
    assert http.get("/api/v3/athlete/activities", params={"page": 99}, headers=h).json() == []


def test_per_page_is_clamped_to_200(season):
    base = season[0]
    many = []
    for i in range(230):
        a = copy.deepcopy(base)
        a["id"] = base["id"] + i
        a["start_date"] = (datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        many.append(a)
    with StravaEmulator(many) as e, httpx.Client(base_url=e.base_url) as c:
        h = auth(e, c)
        assert len(c.get("/api/v3/athlete/activities", params={"per_page": 500}, headers=h).json()) == 200
        assert len(c.get("/api/v3/athlete/activities", params={"per_page": 500, "page": 2}, headers=h).json()) == 30


def test_detail_and_summary_fields_differ(emu, http, season):
    h = auth(emu, http)
    run = next(a for a in season if a["sport_type"] == "Run" and not a["manual"])
    detail = http.get(f"/api/v3/activities/{run['id']}", headers=h).json()
    assert detail == run and detail["resource_state"] == 3
    assert {"device_name", "calories", "perceived_exertion"} <= set(detail)
    listed = http.get("/api/v3/athlete/activities", params={"per_page": 200}, headers=h).json()
    assert len(listed) == len(season)
    assert all(not set(DETAIL_ONLY) & set(s) and s["resource_state"] == 2 for s in listed)
    for s in listed:  # every summary over the wire fits stravalib's model (known sport types)
        if s["sport_type"] != "HyroxRace":
            assert model.SummaryActivity.model_validate(s).sport_type == s["sport_type"]
    r = http.get("/api/v3/activities/1", headers=h)
    assert r.status_code == 404
    assert r.json() == {"message": "Resource Not Found", "errors": [
        {"resource": "Activity", "field": "id", "code": "not found"}]}


def test_streams_endpoint(emu, http, season):
    h = auth(emu, http)
    run = next(a for a in season if a["sport_type"] == "Run" and a["start_latlng"])
    r = http.get(f"/api/v3/activities/{run['id']}/streams",
                 params={"keys": "time,latlng,heartrate,cadence", "key_by_type": "true"}, headers=h)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"time", "latlng", "heartrate", "cadence", "distance"}
    assert body["time"]["original_size"] == len(body["time"]["data"]) == len(body["latlng"]["data"])
    assert body == streams_for(run, ["time", "latlng", "heartrate", "cadence"])
    manual = next(a for a in season if a["manual"])
    assert http.get(f"/api/v3/activities/{manual['id']}/streams", params={"keys": "time"},
                    headers=h).status_code == 404


# --- rate limits, Inactive, failures -----------------------------------------------------------


def test_rate_limit_headers_429_and_window_reset(season, clock):
    with StravaEmulator(season[:5], limits=(5, 7, 3, 6), clock=clock) as e, \
            httpx.Client(base_url=e.base_url) as c:
        h = auth(e, c)  # /oauth is not rate limited
        for i in range(1, 4):
            r = c.get("/api/v3/athlete", headers=h)
            assert r.status_code == 200
            assert r.headers["X-RateLimit-Limit"] == "5,7" and r.headers["X-ReadRateLimit-Limit"] == "3,6"
            assert r.headers["X-RateLimit-Usage"] == f"{i},{i}" and r.headers["X-ReadRateLimit-Usage"] == f"{i},{i}"
        r = c.get("/api/v3/athlete", headers=h)
        assert r.status_code == 429
        assert r.json() == {"message": "Rate Limit Exceeded", "errors": [
            {"resource": "Application", "field": "rate limit", "code": "exceeded"}]}
        assert r.headers["X-ReadRateLimit-Usage"] == "4,4"  # a 429 counts
        assert e.usage() == {"short": 4, "daily": 4, "read_short": 4, "read_daily": 4}
        clock.advance(899)
        assert c.get("/api/v3/athlete", headers=h).status_code == 429
        clock.advance(1)  # the next :00/:15/:30/:45
        r = c.get("/api/v3/athlete", headers=h)
        assert r.status_code == 200 and r.headers["X-RateLimit-Usage"] == "1,6"
        assert c.get("/api/v3/athlete", headers=h).status_code == 429  # daily read limit 6 hit
        clock.advance(86400 - clock.now % 86400)  # midnight UTC
        assert c.get("/api/v3/athlete", headers=h).headers["X-RateLimit-Usage"] == "1,1"
        e.reset_usage()
        assert e.usage()["daily"] == 0


def test_inactive_application_403(emu, http):
    h = auth(emu, http)
    emu.set_inactive(True)
    r = http.get("/api/v3/athlete", headers=h)
    assert r.status_code == 403
    assert r.json() == {"message": "Forbidden", "errors": [
        {"resource": "Application", "field": "Status", "code": "Inactive"}]}
    assert "X-RateLimit-Usage" in r.headers
    emu.set_inactive(False)
    assert http.get("/api/v3/athlete", headers=h).status_code == 200


def test_edit_and_delete_are_seen_by_the_next_call(emu, http, season):
    h = auth(emu, http)
    a, b = season[-2], season[-3]
    edited = emu.edit_activity(a["id"], name="Shakeout", sport_type="TrailRun", distance=5000.0)
    assert edited["type"] == "Run" and edited["average_speed"] == round(5000.0 / a["moving_time"], 3)
    detail = http.get(f"/api/v3/activities/{a['id']}", headers=h).json()
    assert (detail["name"], detail["sport_type"], detail["distance"]) == ("Shakeout", "TrailRun", 5000.0)
    listed = {s["id"]: s for s in http.get("/api/v3/athlete/activities", headers=h).json()}
    assert listed[a["id"]]["name"] == "Shakeout"
    emu.delete_activity(b["id"])
    assert http.get(f"/api/v3/activities/{b['id']}", headers=h).status_code == 404
    assert http.get(f"/api/v3/activities/{b['id']}/streams", params={"keys": "time"}, headers=h).status_code == 404
    assert b["id"] not in {s["id"] for s in http.get("/api/v3/athlete/activities", headers=h).json()}
    assert season[-3]["name"] == b["name"]  # the caller's list is untouched
    emu.add_activity(b)
    assert http.get(f"/api/v3/activities/{b['id']}", headers=h).status_code == 200


def test_fail_next_and_drop_next(emu, http):
    h = auth(emu, http)
    emu.fail_next(2, status=503)
    assert [http.get("/api/v3/athlete", headers=h).status_code for _ in range(3)] == [503, 503, 200]
    emu.fail_next(1)
    r = http.get("/api/v3/athlete", headers=h)
    assert r.status_code == 500 and "message" in r.json() and "X-RateLimit-Usage" in r.headers
    emu.drop_next(1)
    with pytest.raises(httpx.TransportError):
        http.get("/api/v3/athlete", headers=h)
    assert http.get("/api/v3/athlete", headers=h).status_code == 200
    assert [s for _, p, s in emu.request_log if p == "/api/v3/athlete"] == [503, 503, 200, 500, 0, 200]


def test_http_control_surface(emu, http, season):
    h = auth(emu, http)
    target = season[5]
    r = http.post(f"/_emulator/edit/{target['id']}", json={"name": "Renamed over HTTP"})
    assert r.status_code == 200 and r.json()["name"] == "Renamed over HTTP"
    assert http.get(f"/api/v3/activities/{target['id']}", headers=h).json()["name"] == "Renamed over HTTP"
    assert http.post(f"/_emulator/delete/{target['id']}").status_code == 200
    assert http.get(f"/api/v3/activities/{target['id']}", headers=h).status_code == 404
    assert http.post(f"/_emulator/delete/{target['id']}").status_code == 404
    assert http.post("/_emulator/inactive", params={"on": "1"}).status_code == 200
    assert http.get("/api/v3/athlete", headers=h).status_code == 403
    assert http.post("/_emulator/inactive", params={"on": "0"}).status_code == 200
    assert http.get("/api/v3/athlete", headers=h).status_code == 200
    assert http.get("/_emulator/usage").json()["read_short"] == 4  # control calls are not counted


def test_help_and_errors_name_the_command_as_it_was_run():
    """Through the command line it is `runlift strava emulator` (same options); as a module, the module."""
    via_cli = runlift("strava", "emulator", "--help")
    assert via_cli.stdout.startswith("usage: runlift strava emulator [-h] ")
    assert "--limits LIMITS" in via_cli.stdout and "--end-date END_DATE" in via_cli.stdout
    bad = runlift("strava", "emulator", "--limits", "1,2", check=False)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines()[-1] == \
        "runlift strava emulator: error: --limits takes four integers, e.g. 200,2000,100,1000"
    as_module = subprocess.run([sys.executable, "-m", "runlift.standins.strava_emulator", "--help"],
                               capture_output=True, text=True, timeout=60, check=True)
    assert as_module.stdout.startswith("usage: python -m runlift.standins.strava_emulator [-h] ")
    assert as_module.stdout.split("\n\n", 1)[1] == via_cli.stdout.split("\n\n", 1)[1]


def test_command_line_serves_until_interrupted(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "runlift.standins.strava_emulator", "--port", "0", "--weeks", "4",
                             "--end-date", "2026-11-22"], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        first = proc.stdout.readline()
        assert first.startswith("Strava emulator: http://127.0.0.1:")
        base_url = first.split()[2]
        lines = [proc.stdout.readline() for _ in range(2)]
        refresh = lines[1].split(": ", 1)[1].strip()
        with httpx.Client(base_url=base_url, timeout=10) as c:
            r = c.post("/oauth/token", data={"client_id": "12345", "client_secret": "emulator-secret",
                                             "grant_type": "refresh_token", "refresh_token": refresh})
            assert r.status_code == 200
            listed = c.get("/api/v3/athlete/activities",
                           headers={"Authorization": f"Bearer {r.json()['access_token']}"}).json()
            assert listed and listed[0]["start_date_local"].startswith("2026-11-22")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0


def test_gear_endpoint_gives_each_shoe_with_strava_total(emu, http, season):
    headers = auth(emu, http)
    totals: Counter[str] = Counter()
    for a in season:
        if a.get("gear_id"):
            totals[a["gear_id"]] += a["distance"]
    assert len(totals) == 4  # daily, trail and race shoes, and the retired daily pair of the first weeks
    for gear_id, total in totals.items():
        r = http.get(f"/api/v3/gear/{gear_id}", headers=headers)
        assert r.status_code == 200, r.text
        g = r.json()
        strava_model.DetailedGear.model_validate(g)  # Strava's shape (stravalib's schema)
        assert (g["id"], g["distance"]) == (gear_id, round(total, 1))
        assert g["retired"] is (gear_id == "g13990051")
    assert http.get("/api/v3/gear/g1", headers=headers).status_code == 404
    assert http.get("/api/v3/gear/g15203114").status_code == 401  # no token
    emu.set_gear("g15203114", retired=True, name="Nike Pegasus 41 (old)")
    g = http.get("/api/v3/gear/g15203114", headers=headers).json()
    assert (g["retired"], g["name"]) == (True, "Nike Pegasus 41 (old)")
