"""Hevy sync against the local Hevy API emulator over real sockets, into a real DuckDB file."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from runlift.flows.hevy_sync import make_client, sync_athlete
from runlift.flows.settings import load_settings
from runlift.standins.config import write_settings
from runlift.standins.hevy_emulator import DEFAULT_KEY, HevyEmulator, body_measurements, hevy_workouts
from runlift.standins.season import synthetic_season
from runlift.warehouse import db as wdb

from helpers import q, runlift

END = dt.date(2026, 11, 20)
SEASON = synthetic_season(END, weeks=16)
WORKOUTS = hevy_workouts(SEASON)


@pytest.fixture
def emu():
    e = HevyEmulator(WORKOUTS, measurements=body_measurements(SEASON))
    e.start()
    yield e
    e.stop()


def config(tmp_path: Path, base_url: str, **hevy: object) -> Path:
    return write_settings(tmp_path, timezone="America/Denver",
                          tables={"hevy": {"base_url": base_url, "min_interval_s": 0.0, "backoff_s": 0.0,
                                           "retries": 2, "timeout_s": 5.0, **hevy}})


def sync(tmp_path: Path, emu: HevyEmulator, *, full: bool = False, key: str = DEFAULT_KEY, **hevy: object):
    settings = load_settings(config(tmp_path, emu.base_url, **hevy), env={"HEVY_API_KEY": key})
    con = wdb.connect(settings.db_path)
    try:
        with make_client(settings, "me", sleep=lambda s: None) as client:
            return sync_athlete(con, client, settings.hevy, "me", full=full)
    finally:
        con.close()


def db(tmp_path: Path) -> Path:
    return tmp_path / "w.duckdb"


def test_first_sync_stores_every_workout_set_template_and_measurement(tmp_path, emu):
    result = sync(tmp_path, emu)
    assert result.status == "complete", result.message
    assert (result.mode, result.new, result.updated, result.deleted) == ("full", len(WORKOUTS), 0, 0)
    n_sets = sum(len(ex["sets"]) for w in WORKOUTS for ex in w["exercises"])
    assert q(db(tmp_path), "SELECT count(*) FROM raw.hevy_workouts WHERE athlete_id = 'me'")[0][0] == len(WORKOUTS)
    assert q(db(tmp_path), "SELECT count(*) FROM raw.hevy_sets")[0][0] == n_sets
    first = WORKOUTS[0]
    stored = q(db(tmp_path), "SELECT payload_json, start_time_utc FROM raw.hevy_workouts WHERE workout_id = ?",
               [first["id"]])[0]
    assert json.loads(stored[0]) == first  # the whole JSON, as sent
    assert stored[1] == dt.datetime.fromisoformat(first["start_time"].replace("Z", ""))
    top = first["exercises"][0]["sets"][-1]
    row = q(db(tmp_path), "SELECT set_type, weight_kg, reps, rpe, exercise_title, exercise_template_id "
            "FROM raw.hevy_sets WHERE workout_id = ? AND exercise_index = 0 ORDER BY set_index DESC LIMIT 1",
            [first["id"]])[0]
    assert row == ("failure", top["weight_kg"], top["reps"], 10.0, "Squat (Barbell)", "D04AC939")
    assert q(db(tmp_path), "SELECT count(*) FROM raw.hevy_exercise_templates")[0][0] == 14
    assert q(db(tmp_path), "SELECT primary_muscle_group, secondary_muscle_groups FROM raw.hevy_exercise_templates "
             "WHERE template_id = 'D04AC939'")[0] == ("quadriceps", ["glutes", "hamstrings"])
    weights = body_measurements(SEASON)
    assert q(db(tmp_path), "SELECT count(*), min(body_mass_kg), max(body_mass_kg) FROM raw.hevy_body_measurements"
             )[0] == (len(weights), min(m["weight_kg"] for m in weights), max(m["weight_kg"] for m in weights))
    # three pages of 10 workouts (pageSize is Hevy's maximum), one of templates, two of measurements
    paths = [p for _, p, _ in emu.request_log]
    assert sum(p.startswith("/v1/workouts?") for p in paths) == 3
    assert all("pageSize=10" in p for p in paths if p.startswith("/v1/workouts"))


def test_second_sync_reads_the_events_feed_and_adds_nothing(tmp_path, emu):
    sync(tmp_path, emu)
    before = q(db(tmp_path), "SELECT * FROM raw.hevy_workouts ORDER BY workout_id")
    sets_before = q(db(tmp_path), "SELECT * FROM raw.hevy_sets ORDER BY ALL")
    result = sync(tmp_path, emu)
    assert (result.status, result.mode, result.new, result.updated, result.deleted, result.templates,
            result.measurements) == ("complete", "events", 0, 0, 0, 0, 0)
    assert q(db(tmp_path), "SELECT * FROM raw.hevy_workouts ORDER BY workout_id") == before
    assert q(db(tmp_path), "SELECT * FROM raw.hevy_sets ORDER BY ALL") == sets_before
    events = [p for _, p, _ in emu.request_log if p.startswith("/v1/workouts/events")]
    assert len(events) == 1 and "since=" in events[0]


def test_an_edited_and_a_deleted_workout_come_through_the_events_feed(tmp_path, emu):
    sync(tmp_path, emu)
    edited, gone = WORKOUTS[3]["id"], WORKOUTS[5]["id"]

    def heavier(w: dict) -> None:
        w["exercises"][0]["sets"][1]["weight_kg"] = 101.5
        w["exercises"][0]["sets"][1]["reps"] = 3
        w["exercises"][0]["sets"].pop()  # a set removed
        w["new_field_from_hevy"] = {"kept": True}

    emu.edit_workout(edited, heavier, title="Heavy squats")
    emu.delete_workout(gone)
    result = sync(tmp_path, emu)
    assert (result.status, result.mode, result.new, result.updated, result.deleted) == (
        "complete", "events", 0, 1, 1), result.lines()
    row = q(db(tmp_path), "SELECT title, payload_json, deleted_at_utc FROM raw.hevy_workouts WHERE workout_id = ?",
            [edited])[0]
    assert row[0] == "Heavy squats" and row[2] is None
    assert json.loads(row[1])["new_field_from_hevy"] == {"kept": True}  # unknown fields kept
    sets = q(db(tmp_path), "SELECT set_index, weight_kg, reps FROM raw.hevy_sets WHERE workout_id = ? "
             "AND exercise_index = 0 ORDER BY set_index", [edited])
    assert sets[1] == (1, 101.5, 3)
    assert len(sets) == len(WORKOUTS[3]["exercises"][0]["sets"]) - 1
    deleted = q(db(tmp_path), "SELECT deleted_at_utc IS NOT NULL, (SELECT count(*) FROM raw.hevy_sets s "
                "WHERE s.workout_id = w.workout_id) FROM raw.hevy_workouts w WHERE workout_id = ?", [gone])[0]
    assert deleted[0] is True and deleted[1] > 0  # marked, not dropped
    assert q(db(tmp_path), "SELECT count(*) FROM raw.hevy_workouts")[0][0] == len(WORKOUTS)
    # the same feed again: nothing more
    again = sync(tmp_path, emu)
    assert (again.new, again.updated, again.deleted) == (0, 0, 0)


def test_full_sync_marks_workouts_hevy_no_longer_lists(tmp_path, emu):
    sync(tmp_path, emu)
    emu.delete_workout(WORKOUTS[0]["id"])
    result = sync(tmp_path, emu, full=True)
    assert (result.mode, result.new, result.updated, result.deleted) == ("full", 0, 0, 1)
    assert q(db(tmp_path), "SELECT count(*) FROM raw.hevy_workouts WHERE deleted_at_utc IS NOT NULL")[0][0] == 1


def test_a_bad_key_gives_one_line_and_no_key_in_it(tmp_path, emu):
    bad = "11111111-2222-4333-8444-555555555555"
    result = sync(tmp_path, emu, key=bad)
    assert result.status == "failed"
    assert "401" in result.message and "HEVY_API_KEY" in result.message and "\n" not in result.message
    assert bad not in result.message
    cfg = config(tmp_path, emu.base_url)
    out = runlift("hevy", "sync", "--config", str(cfg), env={"HEVY_API_KEY": bad}, check=False)
    assert out.returncode == 2 and out.stdout == ""
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("runlift: error:") and "401" in lines[0], out.stderr
    assert bad not in out.stderr


def test_429_stops_cleanly_and_the_next_run_resumes(tmp_path, emu):
    emu.fail_on("/v1/workouts", page=2, status=429)  # the first page goes through, the second is refused
    first = sync(tmp_path, emu)
    assert first.status == "paused" and "429" in first.message and "next run" in first.message
    assert first.new == 10
    assert q(db(tmp_path), "SELECT full_listing_page, events_since FROM ops.hevy_sync_state")[0] == (2, None)
    assert q(db(tmp_path), "SELECT status FROM ops.hevy_sync_runs")[0][0] == "paused"
    second = sync(tmp_path, emu)
    assert second.status == "complete", second.message
    assert second.mode == "full" and second.new == len(WORKOUTS) - 10
    assert q(db(tmp_path), "SELECT count(*) FROM raw.hevy_workouts WHERE deleted_at_utc IS NULL")[0][0] == len(
        WORKOUTS)
    third = sync(tmp_path, emu)
    assert (third.mode, third.new, third.updated, third.deleted) == ("events", 0, 0, 0)


def test_5xx_and_dropped_connections_are_retried(tmp_path, emu):
    emu.fail_next(2, 503)
    result = sync(tmp_path, emu)
    assert result.status == "complete" and result.new == len(WORKOUTS)
    statuses = [s for _, _, s in emu.request_log]
    assert statuses[:3] == [503, 503, 200]
    emu.drop_next(1)  # a connection closed unanswered: retried too
    dropped = sync(tmp_path, emu)
    assert dropped.status == "complete" and dropped.mode == "events", dropped.message
    assert [s for _, _, s in emu.request_log][-dropped.api_calls:][:2] == [0, 200]
    emu.fail_next(3, 500)  # more than the retries (2): the run fails, nothing lost
    before = q(db(tmp_path), "SELECT count(*) FROM raw.hevy_workouts")[0][0]
    failed = sync(tmp_path, emu)
    assert failed.status == "failed" and "500" in failed.message
    assert q(db(tmp_path), "SELECT count(*) FROM raw.hevy_workouts")[0][0] == before


def test_polite_pace_between_requests(emu):
    from runlift.connectors.hevy.client import HevyClient

    now = [100.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:  # a clock that moves only when the client waits
        waits.append(seconds)
        now[0] += seconds

    with HevyClient(base_url=emu.base_url, api_key=DEFAULT_KEY, min_interval_s=0.25, sleep=sleep,
                    monotonic=lambda: now[0]) as client:
        for page in (1, 2, 3):
            assert len(client.workouts(page)[1]) == min(10, len(WORKOUTS) - 10 * (page - 1))
        now[0] += 1.0  # a pause longer than the pace: no wait
        client.workouts(1)
    assert waits == [0.25, 0.25]


def test_http_base_url_off_loopback_is_refused(tmp_path):
    from runlift.flows.settings import SettingsError

    with pytest.raises(SettingsError, match="hevy.base_url"):
        load_settings(config(tmp_path, "http://api.example.com"), env={"HEVY_API_KEY": DEFAULT_KEY})


def test_the_key_belongs_to_one_athlete_and_is_a_known_secret(tmp_path, monkeypatch):
    from runlift.flows.settings import known_secrets

    cfg = write_settings(tmp_path, athlete="ann", timezone="UTC",
                         tables={"athletes.bob": {"timezone": "UTC", "hevy_api_key": "bob-key-0001"}})
    settings = load_settings(cfg, env={"HEVY_API_KEY": "ann-key-0001", "RUNLIFT_ATHLETE": "ann"})
    assert settings.hevy_key("bob") == "bob-key-0001"
    assert settings.hevy_key("ann") is None  # two athletes, hevy.athlete not set: HEVY_API_KEY is nobody's
    monkeypatch.setenv("HEVY_API_KEY", "ann-key-0001")
    settings = load_settings(cfg, env={"HEVY_API_KEY": "ann-key-0001"}, require_athlete=False)
    assert {"ann-key-0001", "bob-key-0001"} <= set(known_secrets(settings))
    cfg = write_settings(tmp_path, athlete="ann", timezone="UTC", tables={"hevy": {"athlete": "ann"}})
    assert load_settings(cfg, env={"HEVY_API_KEY": "ann-key-0001"}).hevy_key("ann") == "ann-key-0001"
    assert "ann-key-0001" not in repr(load_settings(cfg, env={"HEVY_API_KEY": "ann-key-0001"}))


def test_the_night_syncs_hevy_for_an_athlete_with_a_key(tmp_path, emu, monkeypatch):
    from runlift.flows.night import run_night

    cfg = config(tmp_path, emu.base_url)
    monkeypatch.setenv("HEVY_API_KEY", DEFAULT_KEY)
    report = run_night(str(cfg), full=False, wait=False, as_of=END)
    assert report.ok, report.failures
    assert report.hevy["me"].new == len(WORKOUTS) and report.hevy["me"].status == "complete"
    assert f"Hevy me: {len(WORKOUTS)} new" in report.markdown
    monkeypatch.delenv("HEVY_API_KEY")
    quiet = run_night(str(cfg), full=False, wait=False, as_of=END)  # no key: no Hevy, no failure
    assert quiet.ok and quiet.hevy == {}


def test_staging_views_of_hevy_after_a_build(tmp_path, emu):
    from runlift.flows.build import build_warehouse

    sync(tmp_path, emu)
    emu.delete_workout(WORKOUTS[2]["id"])
    sync(tmp_path, emu)
    settings = load_settings(config(tmp_path, emu.base_url), env={})
    build_warehouse(settings, END)
    first = WORKOUTS[0]
    row = q(db(tmp_path), "SELECT local_date, elapsed_s, set_count, working_set_count, is_deleted "
            "FROM staging.stg_hevy__workouts WHERE workout_id = ?", [first["id"]])[0]
    start = dt.datetime.fromisoformat(first["start_time"].replace("Z", "+00:00"))
    end = dt.datetime.fromisoformat(first["end_time"].replace("Z", "+00:00"))
    from zoneinfo import ZoneInfo

    n_sets = sum(len(ex["sets"]) for ex in first["exercises"])
    warmups = sum(s["type"] == "warmup" for ex in first["exercises"] for s in ex["sets"])
    assert row == (start.astimezone(ZoneInfo("America/Denver")).date(), (end - start).total_seconds(), n_sets,
                   n_sets - warmups, False)
    assert q(db(tmp_path), "SELECT count(*) FROM staging.stg_hevy__workouts WHERE is_deleted")[0][0] == 1
    squat = q(db(tmp_path), "SELECT primary_muscle_group, is_warmup, volume_load_kg FROM staging.stg_hevy__sets "
              "WHERE workout_id = ? AND exercise_index = 0 ORDER BY set_index", [first["id"]])
    top = first["exercises"][0]["sets"][-1]
    assert squat[0][:2] == ("quadriceps", True) and squat[-1] == ("quadriceps", False, top["weight_kg"] * top["reps"])
    assert q(db(tmp_path), "SELECT count(*) FROM staging.stg_hevy__body_measurements WHERE is_body_mass_source")[0][0] \
        == len(body_measurements(SEASON))


def test_kill_9_during_sync_then_rerun_is_identical(tmp_path, emu):
    """`runlift hevy sync` runs in another process, is killed after its first listed page, then runs again."""
    import os
    import signal
    import subprocess
    import sys

    (tmp_path / "ref").mkdir()
    sync(tmp_path / "ref", emu)
    work = tmp_path / "killed"
    cfg = config(work, emu.base_url, min_interval_s=0.4)
    env = {**os.environ, "HEVY_API_KEY": DEFAULT_KEY}
    proc = subprocess.Popen([sys.executable, "-m", "runlift.flows.cli", "hevy", "sync", "--config", str(cfg)],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    line = proc.stderr.readline()
    assert "listed page 1" in line, line
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert q(work / "w.duckdb", "SELECT count(*) FROM raw.hevy_workouts")[0][0] in (10, 20)
    out = subprocess.run([sys.executable, "-m", "runlift.flows.cli", "hevy", "sync", "--config", str(cfg)],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    columns = {"raw.hevy_workouts": "* EXCLUDE (first_seen_at, last_changed_at, last_listed_at)",
               "raw.hevy_sets": "*", "raw.hevy_exercise_templates": "* EXCLUDE (synced_at)",
               "raw.hevy_body_measurements": "* EXCLUDE (synced_at)"}
    for table, cols in columns.items():
        assert q(work / "w.duckdb", f"SELECT {cols} FROM {table} ORDER BY ALL") == q(
            tmp_path / "ref" / "w.duckdb", f"SELECT {cols} FROM {table} ORDER BY ALL"), table


def test_status_shows_the_last_hevy_sync_in_both_files(tmp_path, emu):
    from runlift.flows.build import build_warehouse, publish_warehouse

    sync(tmp_path, emu)
    cfg = config(tmp_path, emu.base_url)
    settings = load_settings(cfg, env={})
    build_warehouse(settings, END)
    publish_warehouse(settings)
    for extra in ([], ["--working"]):
        out = runlift("status", "--config", str(cfg), *extra)
        assert "last Hevy sync for me: complete at" in out.stdout
        assert f"{len(WORKOUTS)} new, 0 updated, 0 deleted workouts" in out.stdout


def test_odd_payloads_become_nulls_and_notes_not_failures(tmp_path, emu):
    odd = {"id": "odd-1", "title": 42, "start_time": "yesterday", "end_time": None,
           "updated_at": "2026-11-01T10:00:00Z",
           "exercises": [{"index": 0, "title": "Squat (Barbell)", "exercise_template_id": "D04AC939",
                          "sets": [{"index": 0, "type": "normal", "weight_kg": "80", "reps": 5.0, "rpe": 11},
                                   {"index": 0, "type": "cluster", "weight_kg": 85, "reps": True},
                                   "not a set"]},
                         "not an exercise"]}
    emu.add_workout(odd)
    emu.add_workout({"title": "no id at all"} | {"id": ""})
    result = sync(tmp_path, emu)
    assert result.status == "complete", result.message
    assert result.new == len(WORKOUTS) + 1
    assert any("a workout without an id" in p for p in result.problems)
    assert any("start_time 'yesterday' is not a time" in p for p in result.problems)
    assert any("'cluster' kept as written" in p for p in result.problems)
    assert any("duplicate exercise/set indexes" in p for p in result.problems)
    row = q(db(tmp_path), "SELECT title, start_time_utc, updated_at_utc FROM raw.hevy_workouts "
            "WHERE workout_id = 'odd-1'")
    assert row[0][0] is None and row[0][1] is None and row[0][2] is not None
    sets = q(db(tmp_path), "SELECT set_index, set_type, weight_kg, reps, rpe FROM raw.hevy_sets "
             "WHERE workout_id = 'odd-1' ORDER BY set_index")
    assert sets == [(0, "normal", None, 5, None), (1, "cluster", 85.0, None, None)]


def test_hevy_body_mass_fills_the_series_where_the_scale_did_not_measure(tmp_path, emu):
    from runlift.flows.build import build_warehouse
    from runlift.flows.fit_pipeline import import_paths
    from runlift.standins.fit_writer import encode_weight

    weights = sorted(body_measurements(SEASON), key=lambda m: m["date"])
    scale_day = dt.date.fromisoformat(weights[3]["date"])
    scale = tmp_path / "scale.fit"  # the scale measured 90 kg that day at noon (Denver: 19:00 UTC)
    scale.write_bytes(encode_weight([(dt.datetime.combine(scale_day, dt.time(19, 0)), 90.0, None, None)]))
    sync(tmp_path, emu)
    settings = load_settings(config(tmp_path, emu.base_url), env={})
    assert import_paths(settings.db_path, "me", [scale]).files_new == 1
    build_warehouse(settings, END)
    series = q(db(tmp_path), "SELECT given_on, body_mass_kg, source FROM intermediate.int_body_mass ORDER BY given_on")
    expected = [(dt.date.fromisoformat(m["date"]), m["weight_kg"], "hevy") for m in weights]
    expected[3] = (scale_day, 90.0, "scale")  # a measured value beats a typed one the same day
    assert series == expected
    last = weights[-1]
    assert q(db(tmp_path), "SELECT body_mass_kg, body_mass_source FROM marts.dim_athlete")[0] == (
        last["weight_kg"], "hevy")
    # dated settings win from their first date on
    cfg = config(tmp_path, emu.base_url)
    cfg.write_text(cfg.read_text().replace('timezone = "America/Denver"\n', 'timezone = "America/Denver"\n'
                                           f'body_mass_kg = [{{ since = {weights[5]["date"]}, kg = 70.5 }}]\n'))
    build_warehouse(load_settings(cfg, env={}), END)
    sources = q(db(tmp_path), "SELECT source, count(*) FROM intermediate.int_body_mass GROUP BY 1 ORDER BY 1")
    assert sources == [("hevy", 4), ("scale", 1), ("settings", 1)]


def test_a_time_out_is_retried(tmp_path, emu):
    emu.stall_next(1, 3.0)
    result = sync(tmp_path, emu, timeout_s=1.0)
    assert result.status == "complete" and result.new == len(WORKOUTS), result.message
    # 3 pages of workouts, 1 of templates, 2 of measurements, and the request that timed out, asked again
    assert result.api_calls == 7 and result.seconds >= 1.0
