"""One gym session counted once across the watch and the lifting apps (issue 16, items 3 and 5).

Golden tests in the manner of tests/test_marts_match.py: a real warehouse in a temporary folder, raw
FIT, Strava, Hevy (API) and Strong / Hevy CSV rows inserted by hand, one build with a pinned as-of
date, and the marts compared with values worked out here (docs/metrics.md: "One workout, counted
once", "Effort", "Strength sets"). Each athlete holds one case, so the cases cannot meet.

The assertions hold whatever ``staging.app_exercise_map`` maps an app exercise to (the placeholder
maps everything to ``unknown``; the real mapping to Garmin's categories): where the body region
decides (a logged RPE, a drop set), the expected value is derived from the region the build gave.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import pytest

from marts_fixtures import NOW, Warehouse, athlete, d, t

approx = pytest.approx

# (exercise title, set type, weight kg or None, reps, rpe or None)
AppSet = tuple[str, str, float | None, int | None, float | None]

BENCH: list[AppSet] = [
    ("Bench Press (Barbell)", "warmup", 40.0, 10, None),
    ("Bench Press (Barbell)", "normal", 80.0, 5, 8.0),
    ("Bench Press (Barbell)", "normal", 80.0, 5, 8.5),
    ("Bench Press (Barbell)", "failure", 80.0, 4, 10.0),
    ("Squat (Barbell)", "warmup", 60.0, 8, None),
    ("Squat (Barbell)", "dropset", 70.0, 8, None),
]
# the working sets' logged RPEs: (8 + 8.5 + 10) / 3; the drop set has none (4 working sets, 3 with RPE)
BENCH_RPE = (8.0 + 8.5 + 10.0) / 3


def hevy(w: Warehouse, athlete_id: str, workout_id: str, start: dt.datetime, end: dt.datetime | None,
         sets: Sequence[AppSet], *, title: str = "Push day", deleted: dt.datetime | None = None) -> str:
    """One Hevy workout as the API sync stores it (raw.hevy_workouts, raw.hevy_sets). Returns its key."""
    payload = {"id": workout_id, "title": title, "start_time": start.isoformat() + "Z"}
    w.con.execute(
        "INSERT INTO raw.hevy_workouts (athlete_id, workout_id, title, start_time_utc, end_time_utc, updated_at_utc, "
        "created_at_utc, deleted_at_utc, payload_json, first_seen_at, last_changed_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [athlete_id, workout_id, title, start, end, start, start, deleted, json.dumps(payload), NOW, NOW])
    exercises: dict[str, int] = {}
    counts: dict[str, int] = {}
    for title_, set_type, weight, reps, rpe in sets:
        ex = exercises.setdefault(title_, len(exercises))
        n = counts[title_] = counts.get(title_, -1) + 1
        w.con.execute(
            "INSERT INTO raw.hevy_sets (athlete_id, workout_id, exercise_index, set_index, exercise_title, "
            "exercise_template_id, set_type, weight_kg, reps, rpe) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [athlete_id, workout_id, ex, n, title_, f"T{ex}", set_type, weight, reps, rpe])
    return f"hevy:{workout_id}"


def lift_csv(w: Warehouse, athlete_id: str, app: str, started_local: dt.datetime, duration_s: float,
             sets: Sequence[AppSet], *, title: str = "Push day") -> str:
    """One workout of a Strong or Hevy CSV export (raw.lift_csv_sets, SI). Returns its key."""
    exercises: dict[str, int] = {}
    counts: dict[str, int] = {}
    for title_, set_type, weight, reps, rpe in sets:
        pos = exercises.setdefault(title_, len(exercises) + 1)
        n = counts[title_] = counts.get(title_, 0) + 1
        w.con.execute(
            "INSERT INTO raw.lift_csv_sets (athlete_id, app, started_local, exercise_title, exercise_occurrence, "
            "set_order, workout_title, ended_local, duration_s, exercise_position, set_type, weight_kg, reps, rpe, "
            "source_file, imported_at) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'export.csv', ?)",
            [athlete_id, app, started_local, title_, n, title, started_local + dt.timedelta(seconds=duration_s),
             duration_s, pos, set_type, weight, reps, rpe, NOW])
    prefix = "hevy_csv" if app == "hevy" else app
    return f"{prefix}:{started_local.isoformat()}"


def gym_fit(w: Warehouse, athlete_id: str, start: dt.datetime, *, seconds: float = 2400, hr: float | None = 120,
            sets: Sequence[tuple[str, int, float]] = (("unknown", 10, 20.0),) * 4,
            workout_rpe: float | None = None) -> str:
    """A watch's FIT strength session (with its own guessed sets) and its average heart rate."""
    key = w.fit(athlete_id, start, sport="training", sub_sport="strength_training", distance_m=None,
                moving_s=seconds, sets=sets, workout_rpe=workout_rpe)
    w.con.execute("UPDATE raw.fit_sessions SET avg_heart_rate_bpm = ?, max_heart_rate_bpm = ? "
                  "WHERE athlete_id = ? AND left(file_sha256, 16) = ?",
                  [hr, hr and hr + 40, athlete_id, key.split(":")[1]])
    return key


def gym_strava(w: Warehouse, athlete_id: str, activity_id: int, start: dt.datetime, *, moving_s: float = 3000,
               hr: float | None = 110, name: str = "Evening Weight Training") -> str:
    """A watch's gym session uploaded to Strava as WeightTraining (Garmin upload), with its heart rate."""
    key = w.strava(athlete_id, activity_id, start, sport_type="WeightTraining", distance_m=0, moving_s=moving_s,
                   external_id=f"garmin_push_{activity_id}", device_name="Garmin Forerunner 265", name=name)
    w.con.execute("UPDATE raw.strava_activities SET average_heartrate_bpm = ? WHERE activity_id = ?", [hr, activity_id])
    return key


def dt_(s: str) -> dt.datetime:
    return t(s)


@pytest.fixture(scope="module")
def lift_wh(tmp_path_factory):
    w = Warehouse(tmp_path_factory.mktemp("lifts") / "w.duckdb")
    k: dict[str, str] = {}

    # FIT + Hevy (API): the phone started 2 min after the watch and stopped 5 min after it
    k["fh_fit"] = gym_fit(w, "fh", dt_("2024-04-01 18:00"), seconds=2400, hr=120)
    k["fh_hevy"] = hevy(w, "fh", "w-fh", dt_("2024-04-01 18:02"), dt_("2024-04-01 18:45"), BENCH)

    # Strava WeightTraining (no FIT file) + Hevy: the phone started 2 min before the watch
    k["sh_strava"] = gym_strava(w, "sh", 1001, dt_("2024-04-01 07:00"), moving_s=3000, hr=110)
    k["sh_hevy"] = hevy(w, "sh", "w-sh", dt_("2024-04-01 06:58"), dt_("2024-04-01 07:50"), BENCH, title="Legs")

    # FIT + Strava + Hevy: the triple is one workout
    k["fsh_fit"] = gym_fit(w, "fsh", dt_("2024-04-01 18:00"), seconds=2220, hr=125)
    k["fsh_strava"] = gym_strava(w, "fsh", 2001, dt_("2024-04-01 18:01"), moving_s=3420, hr=124)
    k["fsh_hevy"] = hevy(w, "fsh", "w-fsh", dt_("2024-04-01 17:57"), dt_("2024-04-01 18:40"), BENCH,
                         title="Upper A")

    # the same Hevy workout from the API and from a CSV export (minutes only, local = UTC here); no watch
    k["hh_api"] = hevy(w, "hh", "w-hh", dt_("2024-04-05 12:00:37"), dt_("2024-04-05 13:00:10"), BENCH)
    k["hh_csv"] = lift_csv(w, "hh", "hevy", dt_("2024-04-05 12:00"), 3540, BENCH)
    # ... and with a watch: FIT + Hevy API + its CSV copy: one workout
    k["fhh_fit"] = gym_fit(w, "fhh", dt_("2024-04-05 12:00"), seconds=3300, hr=118)
    k["fhh_api"] = hevy(w, "fhh", "w-fhh", dt_("2024-04-05 12:01:10"), dt_("2024-04-05 12:58:00"), BENCH)
    k["fhh_csv"] = lift_csv(w, "fhh", "hevy", dt_("2024-04-05 12:01"), 3360, BENCH)

    # Strong CSV + FIT, an athlete in Berlin: the export's 18:01 local is 16:01 UTC (CEST)
    k["sf_fit"] = gym_fit(w, "sf", dt_("2024-04-02 16:00"), seconds=3000, hr=115, )
    w.con.execute("UPDATE raw.fit_sessions SET start_time_local = TIMESTAMP '2024-04-02 18:00' WHERE athlete_id = 'sf'")
    k["sf_strong"] = lift_csv(w, "sf", "strong", dt_("2024-04-02 18:01"), 3600, BENCH, title="Strong day")

    # app sessions without a watch: a Hevy one with set RPEs, a Strong one without
    k["solo_hevy"] = hevy(w, "solo", "w-solo", dt_("2024-04-03 17:00"), dt_("2024-04-03 17:50"), BENCH,
                          title="Hotel gym")
    k["solo_strong"] = lift_csv(w, "solo", "strong", dt_("2024-04-04 08:00"), 2700,
                                [(ti, st, wt, r, None) for ti, st, wt, r, _ in BENCH], title="No RPE")
    # ... next to a run 10 min away: an app session never matches a run
    k["solo_run"] = w.fit("solo", dt_("2024-04-04 07:50"), moving_s=1800, distance_m=5000)

    # two gym sessions on one day, each with its watch record and its Hevy workout; the evening one
    # started late on the phone (18:20) and ran past the watch
    k["two_am_fit"] = gym_fit(w, "two", dt_("2024-04-06 07:00"), seconds=3000, hr=121)
    k["two_pm_fit"] = gym_fit(w, "two", dt_("2024-04-06 18:00"), seconds=2700, hr=131)
    k["two_am_hevy"] = hevy(w, "two", "w-am", dt_("2024-04-06 07:05"), dt_("2024-04-06 07:55"), BENCH,
                            title="Morning")
    k["two_pm_hevy"] = hevy(w, "two", "w-pm", dt_("2024-04-06 18:20"), dt_("2024-04-06 19:00"),
                            BENCH[:3], title="Evening")

    # a Hevy workout deleted in Hevy (and its CSV copy) over a watch session: the watch's alone
    k["del_fit"] = gym_fit(w, "del", dt_("2024-04-07 18:00"), seconds=2400, hr=119)
    k["del_hevy"] = hevy(w, "del", "w-del", dt_("2024-04-07 18:01"), dt_("2024-04-07 18:40"), BENCH,
                         deleted=dt_("2024-04-08 09:00"))
    k["del_csv"] = lift_csv(w, "del", "hevy", dt_("2024-04-07 18:01"), 2340, BENCH)

    # a session RPE recorded on the watch wins over the app's set RPEs
    k["rpe_fit"] = gym_fit(w, "rpe", dt_("2024-04-01 18:00"), seconds=2400, workout_rpe=70)
    k["rpe_hevy"] = hevy(w, "rpe", "w-rpe", dt_("2024-04-01 18:00:30"), dt_("2024-04-01 18:40"), BENCH)

    w.build(d("2024-04-30"), [athlete(a) for a in ("fh", "sh", "fsh", "hh", "fhh", "solo", "two", "del", "rpe")]
            + [athlete("sf", "Europe/Berlin")])
    yield w, k
    w.close()


def activities(w: Warehouse, athlete_id: str) -> list[dict[str, Any]]:
    return w.rows("SELECT * FROM marts.fct_activities WHERE athlete_id = ? ORDER BY started_at", [athlete_id])


def sets_of(w: Warehouse, key: str) -> list[dict[str, Any]]:
    return w.rows("SELECT * FROM marts.fct_strength_sets WHERE activity_key = ? ORDER BY set_index", [key])


def assert_app_sets(w: Warehouse, key: str, source: str, app_sets: Sequence[AppSet] = BENCH) -> None:
    """The workout's sets are the app's, in the app's order, with its set types, RPEs and titles."""
    got = sets_of(w, key)
    assert [(s["exercise_title"], s["set_type"], s["weight_kg"], s["repetitions"], s["rpe"]) for s in got] == [
        (ti, st, wt, r, rpe) for ti, st, wt, r, rpe in app_sets]
    assert {s["source"] for s in got} == {source}
    assert [s["set_index"] for s in got] == list(range(len(app_sets)))
    # the exercise keys the muscle marts use are the mapping's (whatever version of it)
    for s in got:
        m = w.one("SELECT exercise_category, exercise_name FROM staging.app_exercise_map "
                  "WHERE source = ? AND app_exercise_key = lower(trim(?))", [source, s["exercise_title"]])
        assert (s["exercise_category"], s["exercise_name"]) == (m["exercise_category"], m["exercise_name"])


def assert_hard_set_rule(sets: Sequence[dict[str, Any]]) -> None:
    """Warm-up never hard, failure always; a logged RPE decides for lower/upper/core work, a drop set is hard."""
    for s in sets:
        worked = s["body_region"] in ("lower", "upper", "core")
        if s["set_type"] == "warmup":
            assert s["is_hard_set"] is False, s
        elif s["set_type"] == "failure":
            assert s["is_hard_set"] is True, s
        elif s["rpe"] is not None:
            assert s["is_hard_set"] is (worked and s["rpe"] >= 6), s
        elif s["set_type"] == "dropset":
            assert s["is_hard_set"] is worked, s


# --------------------------------------------------------------------------------------------------


def test_fit_and_hevy_are_one_workout_time_and_heart_rate_from_the_watch_sets_from_the_app(lift_wh):
    w, k = lift_wh
    (a,) = activities(w, "fh")
    assert a["activity_key"] == k["fh_fit"]
    assert (a["sources"], a["sport_group"], a["name"]) == ("fit+hevy", "strength", "Push day")
    assert (a["moving_time_s"], a["elapsed_time_s"], a["avg_heart_rate_bpm"]) == (2400, 2400, 120)
    assert a["started_at"] == dt_("2024-04-01 18:00")
    assert_app_sets(w, k["fh_fit"], "hevy")
    assert a["strength_sets"] == len(BENCH)
    assert a["strength_volume_load_kg"] == approx(40 * 10 + 80 * 5 + 80 * 5 + 80 * 4 + 60 * 8 + 70 * 8)
    # the watch's guessed sets of that session are gone
    fit_sets = w.one("SELECT count(*) AS n FROM marts.fct_strength_sets WHERE athlete_id = 'fh' AND source = 'fit'")
    assert fit_sets["n"] == 0
    # effort: the app's set RPEs, recorded
    assert (a["effort_source"], a["recorded_rpe_source"]) == ("recorded_rpe", "app_set_rpe")
    assert a["rpe"] == approx(BENCH_RPE)
    assert a["session_load_au"] == approx(BENCH_RPE * 40)
    assert "sets from hevy (hevy:w-fh); time and heart rate from the watch" in a["data_quality_notes"]
    e = w.one("SELECT * FROM intermediate.int_workouts_effort WHERE activity_key = ?", [k["fh_fit"]])
    assert (e["recorded_rpe"], e["recorded_rpe_source"]) == (approx(BENCH_RPE), "app_set_rpe")
    iw = w.one("SELECT * FROM intermediate.int_workouts WHERE activity_key = ?", [k["fh_fit"]])
    assert (iw["app_workout_key"], iw["app_source"], iw["rpe_source"]) == ("hevy:w-fh", "hevy_api", "app_set_rpe")


def test_warm_up_sets_are_never_hard_and_failure_sets_always(lift_wh):
    w, k = lift_wh
    got = sets_of(w, k["fh_fit"])
    assert [s["is_hard_set"] for s in got if s["set_type"] == "warmup"] == [False, False]
    assert [s["is_hard_set"] for s in got if s["set_type"] == "failure"] == [True]
    assert_hard_set_rule(got)
    # whatever the region, the workout's hard sets are the failure set plus what the region allows
    a = w.activity(k["fh_fit"])
    assert a["hard_sets"] == sum(1 for s in got if s["is_hard_set"])
    # warm-up sets are no set effort either: a session without set RPEs (Strong) averages working sets only
    solo = w.activity(k["solo_strong"])
    assert solo["effort_source"] != "recorded_rpe" and solo["recorded_rpe_source"] is None


def test_strava_weight_training_and_hevy_are_one_workout(lift_wh):
    w, k = lift_wh
    (a,) = activities(w, "sh")
    assert a["activity_key"] == k["sh_strava"]
    assert (a["sources"], a["name"], a["moving_time_s"], a["avg_heart_rate_bpm"]) == ("strava+hevy", "Legs", 3000, 110)
    assert_app_sets(w, k["sh_strava"], "hevy")
    assert a["effort_source"] == "recorded_rpe" and a["rpe"] == approx(BENCH_RPE)


def test_fit_strava_and_hevy_triple_is_one_workout(lift_wh):
    w, k = lift_wh
    (a,) = activities(w, "fsh")
    assert a["activity_key"] == k["fsh_fit"]
    assert (a["sources"], a["strava_activity_id"], a["name"]) == ("fit+strava+hevy", 2001, "Upper A")
    # the gym session's duration is the FIT file's (not Strava's moving time); heart rate the FIT file's
    assert (a["moving_time_s"], a["avg_heart_rate_bpm"]) == (2220, 125)
    assert_app_sets(w, k["fsh_fit"], "hevy")
    assert a["session_load_au"] == approx(BENCH_RPE * 2220 / 60)


def test_hevy_api_and_hevy_csv_of_the_same_workout_count_once(lift_wh):
    w, k = lift_wh
    (a,) = activities(w, "hh")
    assert (a["activity_key"], a["sources"]) == (k["hh_api"], "hevy")
    assert f"same workout in another app record, not counted: {k['hh_csv']}" in a["data_quality_notes"]
    assert_app_sets(w, k["hh_api"], "hevy")
    aw = {r["app_workout_key"]: r
          for r in w.rows("SELECT * FROM intermediate.int_app_workouts WHERE athlete_id = 'hh'")}
    assert aw[k["hh_csv"]]["duplicate_of"] == k["hh_api"] and aw[k["hh_csv"]]["is_counted"] is False
    # no watch: time from the app (API start to end)
    assert a["moving_time_s"] == approx(3600 - 27)
    assert a["avg_heart_rate_bpm"] is None and a["local_date"] == d("2024-04-05")
    # ... and with a watch: FIT + Hevy API + its CSV copy are one workout, with the API's sets
    (b,) = activities(w, "fhh")
    assert (b["activity_key"], b["sources"], b["moving_time_s"], b["avg_heart_rate_bpm"]) == (
        k["fhh_fit"], "fit+hevy", 3300, 118)
    assert_app_sets(w, k["fhh_fit"], "hevy")


def test_strong_csv_and_fit_are_one_workout_in_the_athletes_time_zone(lift_wh):
    w, k = lift_wh
    (a,) = activities(w, "sf")
    assert (a["activity_key"], a["sources"], a["name"]) == (k["sf_fit"], "fit+strong", "Strong day")
    assert (a["moving_time_s"], a["avg_heart_rate_bpm"], a["local_date"]) == (3000, 115, d("2024-04-02"))
    assert_app_sets(w, k["sf_fit"], "strong")
    assert a["effort_source"] == "recorded_rpe" and a["rpe"] == approx(BENCH_RPE)
    aw = w.one("SELECT started_at FROM intermediate.int_app_workouts WHERE athlete_id = 'sf'")
    assert aw["started_at"] == dt_("2024-04-02 16:01")


def test_an_app_session_without_a_watch_is_its_own_workout(lift_wh):
    w, k = lift_wh
    by_key = {a["activity_key"]: a for a in activities(w, "solo")}
    assert set(by_key) == {k["solo_hevy"], k["solo_strong"], k["solo_run"]}
    h = by_key[k["solo_hevy"]]
    assert (h["sources"], h["sport_group"], h["sport"], h["name"]) == ("hevy", "strength", "hevy", "Hotel gym")
    assert (h["moving_time_s"], h["avg_heart_rate_bpm"], h["local_date"]) == (3000, None, d("2024-04-03"))
    assert (h["effort_source"], h["rpe"]) == ("recorded_rpe", approx(BENCH_RPE))
    assert h["session_load_au"] == approx(BENCH_RPE * 50)
    assert "logged in hevy without a watch record: time from the app" in h["data_quality_notes"]
    assert_app_sets(w, k["solo_hevy"], "hevy")
    s = by_key[k["solo_strong"]]
    assert (s["sources"], s["moving_time_s"], s["local_date"]) == ("strong", 2700, d("2024-04-04"))
    assert s["effort_source"] in ("set_effort", "imputed")
    # the run 10 min before the Strong session is not a gym session: no match
    r = by_key[k["solo_run"]]
    assert (r["sources"], r["sport_group"], r["strength_sets"]) == ("fit", "run", 0)


def test_two_gym_sessions_on_one_day_each_match_their_own_watch_record(lift_wh):
    w, k = lift_wh
    am, pm = activities(w, "two")
    assert (am["activity_key"], am["name"], am["avg_heart_rate_bpm"], am["strength_sets"]) == (
        k["two_am_fit"], "Morning", 121, len(BENCH))
    assert (pm["activity_key"], pm["name"], pm["avg_heart_rate_bpm"], pm["strength_sets"]) == (
        k["two_pm_fit"], "Evening", 131, 3)
    assert am["sources"] == pm["sources"] == "fit+hevy"
    assert (am["moving_time_s"], pm["moving_time_s"]) == (3000, 2700)
    assert_app_sets(w, k["two_pm_fit"], "hevy", BENCH[:3])
    # the evening's RPE: (8 + 8.5) / 2 working sets
    assert pm["rpe"] == approx(8.25)


def test_a_deleted_hevy_workout_never_counts_nor_its_csv_copy(lift_wh):
    w, k = lift_wh
    (a,) = activities(w, "del")
    assert (a["activity_key"], a["sources"], a["name"]) == (k["del_fit"], "fit", None)
    # the watch's own sets stay
    assert {s["source"] for s in sets_of(w, k["del_fit"])} == {"fit"} and a["strength_sets"] == 4
    assert a["effort_source"] != "recorded_rpe"
    aw = {r["app_workout_key"]: r
          for r in w.rows("SELECT * FROM intermediate.int_app_workouts WHERE athlete_id = 'del'")}
    assert (aw[k["del_hevy"]]["is_deleted"], aw[k["del_hevy"]]["is_counted"]) == (True, False)
    assert (aw[k["del_csv"]]["duplicate_of"], aw[k["del_csv"]]["is_counted"]) == (k["del_hevy"], False)
    assert w.rows("SELECT * FROM intermediate.int_app_sets WHERE app_workout_key = ?", [k["del_hevy"]]) == []


def test_a_session_rpe_recorded_on_the_watch_comes_before_the_set_rpes(lift_wh):
    w, k = lift_wh
    a = w.activity(k["rpe_fit"])
    assert (a["sources"], a["effort_source"], a["recorded_rpe_source"], a["rpe"]) == (
        "fit+hevy", "recorded_rpe", "fit_workout_rpe", 7.0)
    assert {s["source"] for s in sets_of(w, k["rpe_fit"])} == {"hevy"}


def test_set_rpe_on_fewer_than_half_the_working_sets_is_not_a_recorded_rpe(tmp_path):
    w = Warehouse(tmp_path / "w.duckdb")
    sets: list[AppSet] = [("Deadlift (Barbell)", "normal", 100.0 + 10 * i, 5, 9.0 if i == 0 else None)
                          for i in range(3)]
    key = hevy(w, "a", "w-1", dt_("2024-04-01 18:00"), dt_("2024-04-01 18:40"), sets)
    w.build(d("2024-04-30"), [athlete("a")])
    a = w.activity(key)
    assert a["effort_source"] != "recorded_rpe" and a["recorded_rpe_source"] is None
    aw = w.one("SELECT rpe_set_count, working_set_count, session_rpe FROM intermediate.int_app_workouts")
    assert aw == {"rpe_set_count": 1, "working_set_count": 3, "session_rpe": None}
    w.close()


def test_app_sets_keep_their_own_exercise_history_when_unmapped(lift_wh):
    """An exercise the mapping cannot place keeps its bests under the app's own name, not 'unknown'."""
    w, k = lift_wh
    for s in sets_of(w, k["fh_fit"]):
        m = w.one("SELECT exercise_name FROM staging.app_exercise_map WHERE source = 'hevy' "
                  "AND app_exercise_key = lower(trim(?))", [s["exercise_title"]])
        assert s["exercise"] == (m["exercise_name"] or s["exercise_title"].strip().lower())
        if s["repetitions"] <= 12 and s["weight_kg"]:
            assert s["e1rm_kg"] == approx(s["weight_kg"] * (1 + s["repetitions"] / 30))
            assert s["best_e1rm_90d_kg"] is not None


def test_mapped_app_exercises_logged_rpe_and_drop_sets_decide_hard_sets_and_muscles(tmp_path):
    """With a mapping that places the app's exercises (as the real staging.app_exercise_map does):
    a logged RPE >= 6 is hard, under 6 is not, a drop set without one is hard, a warm-up never; the
    bests are kept under the Garmin exercise name when there is one, else the app's name; the muscles
    come from the mapping's own row."""
    from runlift.warehouse.build import model_files

    w = Warehouse(tmp_path / "w.duckdb")
    sets: list[AppSet] = [
        ("Bench Press (Barbell)", "warmup", 40.0, 10, 9.0),   # a warm-up, whatever its RPE
        ("Bench Press (Barbell)", "normal", 60.0, 5, 5.0),    # RPE 5: not hard
        ("Bench Press (Barbell)", "normal", 80.0, 5, 6.0),    # RPE 6: hard
        ("Bench Press (Barbell)", "failure", 50.0, 12, None),  # failure: hard
        ("Squat (Barbell)", "normal", 100.0, 5, None),         # the estimate: at its own best, RIR 0: hard
        ("Squat (Barbell)", "dropset", 40.0, 8, None),         # a drop set: hard (its estimate says RIR 23)
        ("Squat (Barbell)", "dropset", 40.0, 8, 5.5),          # a drop set with a logged RPE 5.5: not hard
    ]
    fit_key = gym_fit(w, "m", dt_("2024-04-01 18:00"))
    hevy(w, "m", "w-m", dt_("2024-04-01 18:01"), dt_("2024-04-01 18:40"), sets)
    w.build(d("2024-04-30"), [athlete("m")])
    w.con.execute("""
        CREATE OR REPLACE VIEW staging.app_exercise_map AS
        SELECT * FROM (VALUES
            ('hevy', 'bench press (barbell)', 'bench_press', 'barbell_bench_press', 'upper_push', []::VARCHAR[],
             'seed'),
            ('hevy', 'squat (barbell)', 'squat', NULL, 'quadriceps', ['core'], 'user')
        ) AS m(source, app_exercise_key, exercise_category, exercise_name, primary_muscle, secondary_muscles, mapped_by)
    """)
    w.con.execute("SET VARIABLE as_of = DATE '2024-04-30'")
    for _layer, name, sql in model_files():
        if name in ("02_fct_strength_sets.sql", "07_weekly_muscle_volume.sql", "08_exercise_progress.sql"):
            w.con.execute(sql)
    got = sets_of(w, fit_key)
    assert [(s["exercise_category"], s["exercise_name"], s["exercise"], s["body_region"]) for s in got] == (
        [("bench_press", "barbell_bench_press", "barbell_bench_press", "upper")] * 4
        + [("squat", None, "squat (barbell)", "lower")] * 3)
    assert [s["is_hard_set"] for s in got] == [False, False, True, True, True, True, False]
    assert_hard_set_rule(got)
    muscles = {r["muscle_group"]: r for r in w.rows("SELECT * FROM marts.weekly_muscle_volume WHERE athlete_id = 'm'")}
    assert (muscles["upper_push"]["direct_sets"], muscles["upper_push"]["direct_hard_sets"]) == (4, 2)
    assert (muscles["quadriceps"]["direct_sets"], muscles["quadriceps"]["direct_hard_sets"]) == (3, 2)
    # the squat's secondary muscle comes from the mapping's own row ('user'), not from the seed's squat
    # default (glutes)
    assert (muscles["core"]["indirect_sets"], muscles["core"]["indirect_hard_sets"]) == (3, 2)
    assert "glutes" not in muscles
    progress = {r["exercise"]: r for r in w.rows("SELECT * FROM marts.exercise_progress WHERE athlete_id = 'm'")}
    assert progress["squat (barbell)"]["primary_muscle"] == "quadriceps"
    assert progress["squat (barbell)"]["secondary_muscles"] == ["core"]
    assert progress["barbell_bench_press"]["best_e1rm_kg"] == approx(80.0 * (1 + 5 / 30))
    w.close()


def test_an_app_exercise_known_only_by_its_muscle_group_is_placed_in_that_region(tmp_path):
    """A mapping row without a Garmin category (Hevy's template muscles, a muscle-only user row): the
    set takes its muscle group's body region, so a logged RPE >= 6 makes it hard and a quadriceps
    exercise counts as knee-dominant; no knee load without a category."""
    from runlift.warehouse.build import model_files

    w = Warehouse(tmp_path / "w.duckdb")
    sets: list[AppSet] = [
        ("Spanish Squat", "normal", 20.0, 12, 8.0),     # quadriceps: lower, knee, hard (RPE 8)
        ("Spanish Squat", "normal", 20.0, 12, 5.0),     # not hard (RPE 5)
        ("Seal Row", "normal", 40.0, 10, 7.0),          # upper_pull: upper, hard
        ("Mystery Move", "normal", 10.0, 10, 9.0),      # unmapped: other, never hard by RPE
    ]
    fit_key = gym_fit(w, "q", dt_("2024-05-01 18:00"))
    hevy(w, "q", "w-q", dt_("2024-05-01 18:01"), dt_("2024-05-01 18:40"), sets)
    w.build(d("2024-05-31"), [athlete("q")])
    w.con.execute("""
        CREATE OR REPLACE VIEW staging.app_exercise_map AS
        SELECT * FROM (VALUES
            ('hevy', 'spanish squat', NULL, NULL, 'quadriceps', []::VARCHAR[], 'hevy_template'),
            ('hevy', 'seal row', NULL, NULL, 'upper_pull', []::VARCHAR[], 'user'),
            ('hevy', 'mystery move', NULL, NULL, 'unmapped', []::VARCHAR[], 'unmapped')
        ) AS m(source, app_exercise_key, exercise_category, exercise_name, primary_muscle, secondary_muscles, mapped_by)
    """)
    w.con.execute("SET VARIABLE as_of = DATE '2024-05-31'")
    for _layer, name, sql in model_files():
        if name == "02_fct_strength_sets.sql":
            w.con.execute(sql)
    got = sets_of(w, fit_key)
    assert [(s["exercise_category"], s["body_region"], s["lower_pattern"], s["is_hard_set"]) for s in got] == [
        ("unknown", "lower", "knee", True), ("unknown", "lower", "knee", False),
        ("unknown", "upper", None, True), ("unknown", "other", None, False)]
    assert [s["knee_load_kbw"] for s in got] == [0.0, 0.0, 0.0, 0.0]
    w.close()
