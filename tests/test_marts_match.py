"""One workout counted once, sport types from the seed, values that cannot be, and the impact model.

Golden tests in the manner of tests/test_marts.py: a real warehouse in a temporary folder, raw FIT
and Strava rows inserted by hand (``marts_fixtures.Warehouse``), a build with a pinned as-of date,
and the marts compared with values computed here by hand (docs/metrics.md: "One workout, counted
once", "Sport types", "Values that cannot be", "Mechanical: impact load per run").
"""

from __future__ import annotations

import datetime as dt
import math
import statistics

import duckdb
import pytest

from runlift.warehouse.publish import publish
from runlift.warehouse.sport_types import load_seed, running_strava_types, unmapped_sport_types
from runlift.warehouse.strava_loader import RUN_SPORT_TYPES

from helpers import runlift
from marts_fixtures import Warehouse, athlete, d, impact_kbw, peak_force_bw, t

approx = pytest.approx


def set_records(w: Warehouse, key: str, n: int) -> None:
    """Give the FIT file behind an activity key ``n`` records (the tie-break between two files)."""
    w.con.execute("UPDATE raw.fit_files SET n_records = ? WHERE left(file_sha256, 16) = ?", [n, key.split(":")[1]])


# ==================================================================================================
# The seed
# ==================================================================================================

# Strava's SportType enum (stravalib 2.x strava_model.SportType, the schema behind swagger.json) and
# HyroxRace, which Strava added later
STRAVA_SPORT_TYPES = ["AlpineSki", "BackcountrySki", "Badminton", "Basketball", "Canoeing", "Cricket", "Crossfit",
                      "Dance", "EBikeRide", "Elliptical", "EMountainBikeRide", "Golf", "GravelRide", "Handcycle",
                      "HighIntensityIntervalTraining", "Hike", "IceSkate", "InlineSkate", "Kayaking", "Kitesurf",
                      "MountainBikeRide", "NordicSki", "Padel", "PhysicalTherapy", "Pickleball", "Pilates",
                      "Racquetball", "Ride", "RockClimbing", "RollerSki", "Rowing", "Run", "Sail", "Skateboard",
                      "Snowboard", "Snowshoe", "Soccer", "Squash", "StairStepper", "StandUpPaddling", "Surfing", "Swim",
                      "TableTennis", "Tennis", "TrailRun", "Velomobile", "VirtualRide", "VirtualRow", "VirtualRun",
                      "Volleyball", "Walk", "WeightTraining", "Wheelchair", "Windsurf", "Workout", "Yoga", "HyroxRace"]


def test_seed_maps_every_strava_sport_type_and_fit_sport():
    from garmin_fit_sdk import Profile

    seed = load_seed()
    strava = {r.sport_type: r for r in seed if r.source == "strava"}
    assert set(strava) == set(STRAVA_SPORT_TYPES)
    fit_sports = {r.sport_type for r in seed if r.source == "fit" and r.sub_sport is None}
    assert fit_sports == set(Profile["types"]["sport"].values()) - {"all"}
    fit_sub = {r.sub_sport for r in seed if r.source == "fit" and r.sub_sport}
    assert fit_sub <= set(Profile["types"]["sub_sport"].values())
    # the groups the issue names
    assert {s for s, r in strava.items() if r.sport_group == "run"} == {"Run", "TrailRun", "VirtualRun"}
    assert {s for s, r in strava.items() if r.includes_running} == {"Run", "TrailRun", "VirtualRun", "HyroxRace"}
    assert {s for s in ("WeightTraining", "Workout", "Crossfit", "HighIntensityIntervalTraining")
            if strava[s].match_group == "gym"} == {"WeightTraining", "Workout", "Crossfit",
                                                    "HighIntensityIntervalTraining"}
    # the Strava loader's running types come from the seed, not from a list of its own
    assert set(RUN_SPORT_TYPES) == set(running_strava_types()) == {"Run", "TrailRun", "VirtualRun", "HyroxRace"}


# ==================================================================================================
# One workout, counted once
# ==================================================================================================

BASE = t("2024-04-01 07:00")


@pytest.fixture(scope="module")
def match_wh(tmp_path_factory):
    w = Warehouse(tmp_path_factory.mktemp("match") / "w.duckdb")
    k = {}

    def day(n: int, hhmm: str = "07:00") -> dt.datetime:
        return t(f"2024-04-{n:02d} {hhmm}")

    # 1. two FIT files of one run (watch: 3600 records; a footpod's file started 5 s later, 1800 records)
    k["watch"] = w.fit("f", day(1), moving_s=3600, distance_m=10000, strides=5000)
    k["pod"] = w.fit("f", day(1) + dt.timedelta(seconds=5), moving_s=3550, distance_m=10100, strides=5100)
    set_records(w, k["watch"], 3600)
    set_records(w, k["pod"], 1800)
    # 2. two files alike in records and length: the smaller hash wins
    k["tie_a"] = w.fit("f", day(2), moving_s=3000, distance_m=9000)
    k["tie_b"] = w.fit("f", day(2), moving_s=3000, distance_m=9000)
    # 3. back-to-back runs overlapping by 30 s (< min(60 s, half the shorter)): two workouts
    k["first"] = w.fit("f", day(3), moving_s=1800, distance_m=5000)
    k["second"] = w.fit("f", day(3, "07:29:30"), moving_s=1800, distance_m=5000)
    # 4. one gym session in two files: its sets count once
    gym = dict(sport="training", sub_sport="strength_training", distance_m=None, moving_s=2400,
               sets=[("squat", 5, 60.0)] * 3)
    k["gym_a"] = w.fit("f", day(4, "18:00"), **gym)
    k["gym_b"] = w.fit("f", day(4, "18:00:20"), **{**gym, "moving_s": 2300})

    # 5. the Strava copy of a run whose distance the athlete edited (10.0 km -> 12.0 km, +20 %)
    k["edited_fit"] = w.fit("s", day(1), moving_s=3600, distance_m=10000, strides=5000)
    k["edited_strava"] = w.strava("s", 501, day(1) + dt.timedelta(seconds=30), distance_m=12000, moving_s=3500,
                                  name="Tempo (distance fixed)")
    # 6. two Strava runs 30 s either side of one FIT run: the closer distance is the copy
    k["two_fit"] = w.fit("s", day(2), distance_m=10000)
    k["two_near"] = w.strava("s", 502, day(2) + dt.timedelta(seconds=30), distance_m=10050, name="copy")
    k["two_other"] = w.strava("s", 503, day(2) - dt.timedelta(seconds=30), distance_m=6000, name="someone else")
    # 7. strength-like Strava types meet a FIT strength session (FIT 37 min, Strava moving time 57 min)
    for n, sport_type in enumerate(("Workout", "WeightTraining", "Crossfit", "HighIntensityIntervalTraining")):
        k[f"fit_{sport_type}"] = w.fit("g", day(3 + n, "18:00"), sport="training", sub_sport="strength_training",
                                       distance_m=None, moving_s=2220, sets=[("deadlift", 5, 100.0)] * 2)
        k[f"strava_{sport_type}"] = w.strava("g", 600 + n, day(3 + n, "18:01"), sport_type=sport_type,
                                             distance_m=0, moving_s=3420, name=f"Gym ({sport_type})")
    # ... but a Ride at the same time is not a gym session
    k["fit_gym_vs_ride"] = w.fit("g", day(9, "18:00"), sport="training", sub_sport="strength_training",
                                 distance_m=None, moving_s=2220, sets=[("squat", 5, 60.0)])
    k["strava_ride"] = w.strava("g", 700, day(9, "18:00"), sport_type="Ride", distance_m=0, moving_s=2220)

    # 8. HyroxRace (Strava only): 8 km of running between stations
    k["hyrox"] = w.strava("h", 800, day(6, "10:00"), sport_type="HyroxRace", distance_m=8000, moving_s=5400)

    # 9. the fields of a matched run: which source gives which
    k["wins_fit"] = w.fit("v", day(7), moving_s=3600, distance_m=10000, strides=5000, ascent_m=50, descent_m=55,
                          workout_rpe=60)
    k["wins_strava"] = w.strava("v", 900, day(7) + dt.timedelta(seconds=40), distance_m=10100, moving_s=3500,
                                ascent_m=60, rpe=4, name="Sunday long run")

    # 10. types the seed does not know
    k["odd_strava"] = w.strava("u", 1000, day(8), sport_type="Quidditch", distance_m=3000, moving_s=1800)
    k["odd_fit"] = w.fit("u", day(9), sport="made_up_sport", sub_sport=None, distance_m=1000, moving_s=600)

    w.build(d("2024-04-30"), [athlete(a) for a in "fsghvu"])
    yield w, k
    w.close()


def test_two_fit_files_of_one_run_count_once_the_richer_wins(match_wh):
    w, k = match_wh
    assert w.rows("SELECT * FROM marts.fct_activities WHERE activity_key = ?", [k["pod"]]) == []
    a = w.activity(k["watch"])
    assert (a["sources"], a["distance_m"], a["steps"]) == ("fit", 10000, 10000)
    assert f"same workout in another FIT file, not counted: {k['pod']}" in a["data_quality_notes"]
    day1 = w.one("SELECT run_count, run_distance_m FROM marts.daily_training_load "
                 "WHERE athlete_id = 'f' AND date = DATE '2024-04-01'")
    assert day1 == {"run_count": 1, "run_distance_m": 10000}


def test_two_fit_files_alike_the_smaller_hash_wins(match_wh):
    w, k = match_wh
    winner, loser = sorted([k["tie_a"], k["tie_b"]])
    assert w.activity(winner)["sources"] == "fit"
    assert w.rows("SELECT * FROM marts.fct_activities WHERE activity_key = ?", [loser]) == []


def test_back_to_back_runs_are_two_workouts(match_wh):
    w, k = match_wh
    for key in (k["first"], k["second"]):
        a = w.activity(key)
        assert a["distance_m"] == 5000
        assert not any(n.startswith("same workout") for n in a["data_quality_notes"])


def test_one_gym_session_in_two_files_counts_its_sets_once(match_wh):
    w, k = match_wh
    winner = w.activity(k["gym_a"])  # the longer of two files with no records
    assert winner["strength_sets"] == 3 and winner["strength_volume_load_kg"] == 3 * 5 * 60.0
    assert w.rows("SELECT * FROM marts.fct_activities WHERE activity_key = ?", [k["gym_b"]]) == []
    assert w.one("SELECT count(*) AS n FROM marts.fct_strength_sets WHERE athlete_id = 'f'")["n"] == 3


def test_strava_copy_with_an_edited_distance_is_matched_and_its_distance_wins(match_wh):
    w, k = match_wh
    assert w.rows("SELECT * FROM marts.fct_activities WHERE activity_key = ?", [k["edited_strava"]]) == []
    a = w.activity(k["edited_fit"])
    assert (a["sources"], a["strava_activity_id"], a["name"]) == ("fit+strava", 501, "Tempo (distance fixed)")
    # 2000 m apart > max(100 m, 5 % of 12 000 m = 600 m): edited at Strava, which wins
    assert a["distance_m"] == 12000 and a["steps"] == 10000  # the steps stay the FIT file's strides x 2
    assert "distance edited at Strava: 12000 m there, 10000 m in the FIT file; Strava's used" in a["data_quality_notes"]


def test_of_two_strava_runs_at_the_same_time_gap_the_closer_distance_is_the_copy(match_wh):
    w, k = match_wh
    a = w.activity(k["two_fit"])
    assert (a["strava_activity_id"], a["name"], a["distance_m"]) == (502, "copy", 10000)
    assert w.activity(k["two_other"])["sources"] == "strava"


@pytest.mark.parametrize("sport_type", ["Workout", "WeightTraining", "Crossfit", "HighIntensityIntervalTraining"])
def test_strength_like_strava_types_match_a_fit_strength_session(match_wh, sport_type):
    w, k = match_wh
    assert w.rows("SELECT * FROM marts.fct_activities WHERE activity_key = ?", [k[f"strava_{sport_type}"]]) == []
    a = w.activity(k[f"fit_{sport_type}"])
    assert (a["sources"], a["sport_group"], a["name"]) == ("fit+strava", "strength", f"Gym ({sport_type})")
    # the gym session's duration is the FIT file's 37 min, not Strava's 57 min of "moving time"
    assert a["moving_time_s"] == 2220
    assert "gym session: duration from the FIT file, not Strava's moving time" in a["data_quality_notes"]
    assert a["strength_sets"] == 2


def test_a_ride_at_the_time_of_a_gym_session_is_not_matched(match_wh):
    w, k = match_wh
    assert w.activity(k["fit_gym_vs_ride"])["sources"] == "fit"
    assert w.activity(k["strava_ride"])["sources"] == "strava"


def test_hyrox_race_counts_its_running_km_and_impact(match_wh):
    w, k = match_wh
    a = w.activity(k["hyrox"])
    assert (a["sport_group"], a["includes_running"], a["impact_model"]) == ("other", True, "default")
    # 8000 m / 1.0 m per step = 8000 steps x 2.5 BW / 1000 = 20 kBW
    assert a["steps"] == approx(8000) and a["impact_load_kbw"] == approx(20.0)
    day = w.one("SELECT run_distance_m, run_impact_kbw FROM marts.daily_training_load "
                "WHERE athlete_id = 'h' AND date = DATE '2024-04-06'")
    assert day == {"run_distance_m": 8000, "run_impact_kbw": approx(20.0)}
    week = w.one("SELECT run_distance_m FROM marts.weekly_training_balance WHERE athlete_id = 'h' "
                 "AND week_start = DATE '2024-04-01'")
    assert week["run_distance_m"] == 8000


def test_which_source_gives_which_field_of_a_matched_run(match_wh):
    w, k = match_wh
    a = w.activity(k["wins_fit"])
    assert {c: a[c] for c in ("sources", "name", "started_at", "distance_m", "moving_time_s", "elapsed_time_s",
                              "elevation_gain_m", "elevation_loss_m", "steps", "rpe")} == {
        "sources": "fit+strava",
        "name": "Sunday long run",            # Strava: the athlete names workouts there
        "started_at": t("2024-04-07 07:00"),  # FIT: the device clock
        "distance_m": 10000,                  # FIT: 100 m apart is within max(100 m, 5 %)
        "moving_time_s": 3500,                # Strava's moving time removes pauses
        "elapsed_time_s": 3600,               # FIT
        "elevation_gain_m": 50,               # FIT
        "elevation_loss_m": 55,               # FIT (Strava has none)
        "steps": 10000,                       # FIT strides x 2
        "rpe": 6.0,                           # FIT workout_rpe 60 / 10 before Strava's 4
    }


def test_unmapped_sport_types_are_other_and_counted(match_wh, tmp_path):
    w, k = match_wh
    assert w.activity(k["odd_strava"])["sport_group"] == "other"
    assert w.activity(k["odd_fit"])["sport_group"] == "other"
    assert unmapped_sport_types(w.con) == [("u", "fit", "made_up_sport", 1), ("u", "strava", "Quidditch", 1)]
    # ... and `runlift status` shows them (a copy of the warehouse: the fixture keeps its file open)
    copy = tmp_path / "copy.duckdb"
    w.con.execute(f"ATTACH '{copy}' AS cp")
    w.con.execute("COPY FROM DATABASE w TO cp")
    w.con.execute("DETACH cp")
    out = runlift("status", "--db", str(copy), "--working").stdout
    assert "u: 1 strava workouts of unmapped sport type Quidditch (counted as other" in out
    assert "u: 1 fit workouts of unmapped sport type made_up_sport" in out
    # the published file (what `runlift status` reads by default) answers the same
    published = publish(w.con, tmp_path / "published.duckdb").path
    pub = duckdb.connect(str(published), read_only=True)
    try:
        assert unmapped_sport_types(pub) == [("u", "fit", "made_up_sport", 1), ("u", "strava", "Quidditch", 1)]
    finally:
        pub.close()


# ==================================================================================================
# Impact independent of the source: measured, athlete_typical, default
# ==================================================================================================

# measured runs of athlete m: (day, moving s for 10 km, cadence strides/min, stance s)
MEASURED = {"M1": ("2024-03-01", 3000, 85, 0.25), "M2": ("2024-03-10", 3600, 80, 0.28),
            "M3": ("2024-03-15", 3000, 90, 0.22)}


@pytest.fixture(scope="module")
def impact_model_wh(tmp_path_factory):
    w = Warehouse(tmp_path_factory.mktemp("impact_model") / "w.duckdb")
    k = {}
    for name, (day, moving, cadence, stance) in MEASURED.items():
        k[name] = w.fit("m", t(f"{day} 07:00"), moving_s=moving, distance_m=10000, strides=5000,
                        cadence_rpm=cadence, stance_s=stance)
    k["similar_pace"] = w.fit("m", t("2024-03-20 07:00"), moving_s=3000, distance_m=10000, strides=5000)  # 3.33 m/s
    k["fast"] = w.fit("m", t("2024-03-20 18:00"), moving_s=2000, distance_m=10000, strides=5000)  # 5 m/s
    k["later"] = w.fit("m", t("2024-08-01 07:00"), moving_s=3000, distance_m=10000, strides=5000)  # > 90 days
    k["before"] = w.fit("m", t("2024-02-01 07:00"), moving_s=3000, distance_m=10000, strides=5000)
    k["strava"] = w.strava("m", 1, t("2024-03-21 07:00"), moving_s=3000, distance_m=10000, cadence_rpm=85)
    k["implausible"] = w.fit("n", t("2024-03-01 07:00"), moving_s=3000, distance_m=10000, strides=5000,
                             cadence_rpm=30, stance_s=0.05)  # 31 BW: not a run's dynamics
    k["none"] = w.fit("n", t("2024-03-02 07:00"), moving_s=3000, distance_m=10000, strides=5000)
    k["gym"] = w.fit("n", t("2024-03-03 18:00"), sport="training", sub_sport="strength_training", distance_m=None,
                     moving_s=1800, sets=[("squat", 5, 0.0)])
    w.build(d("2024-08-31"), [athlete("m"), athlete("n")])
    yield w, k
    w.close()


def _measured_peaks() -> dict[str, float]:
    return {n: peak_force_bw(2 * cad, stance) for n, (_, _, cad, stance) in MEASURED.items()}


def test_measured_runs_use_their_own_peak_force(impact_model_wh):
    w, k = impact_model_wh
    peaks = _measured_peaks()
    # by hand: M2 160 steps/min, stance 0.28 s: pi/2 x (0.375 / 0.28) = 2.1037 BW
    assert peaks["M2"] == approx(2.1037, abs=1e-4)
    for name, peak in peaks.items():
        a = w.activity(k[name])
        assert (a["impact_model"], a["peak_force_bw"]) == ("measured", approx(peak))
        assert a["impact_load_kbw"] == approx(impact_kbw(10000, peak))


def test_without_dynamics_the_athletes_typical_peak_at_a_similar_pace(impact_model_wh):
    w, k = impact_model_wh
    p = _measured_peaks()
    # 3.33 m/s: M1 and M3 ran 10 km in 3000 s (same pace), M2 at 2.78 m/s is 0.56 m/s slower: left out
    typical = statistics.median([p["M1"], p["M3"]])
    assert typical == approx((2.2176 + 2.3800) / 2, abs=1e-4)
    a = w.activity(k["similar_pace"])
    assert (a["impact_model"], a["peak_force_bw"]) == ("athlete_typical", approx(typical))
    assert a["impact_load_kbw"] == approx(impact_kbw(10000, typical))
    assert ("peak force athlete typical: median 2.30 BW of 2 measured runs of the last 90 days within 0.5 m/s"
            in a["data_quality_notes"])


@pytest.mark.parametrize("run", ["fast", "later", "before"])
def test_without_a_similar_recent_run_the_median_of_all_measured_runs(impact_model_wh, run):
    w, k = impact_model_wh
    p = _measured_peaks()
    every = statistics.median(p.values())  # M1's 2.2176 BW
    a = w.activity(k[run])
    assert (a["impact_model"], a["peak_force_bw"]) == ("athlete_typical", approx(every))
    assert "peak force athlete typical: median 2.22 BW of all 3 measured runs" in a["data_quality_notes"]


def test_a_strava_run_gets_the_typical_peak_too(impact_model_wh):
    w, k = impact_model_wh
    a = w.activity(k["strava"])  # 10 km in 3000 s, the day after similar_pace: M1 and M3 again
    assert a["impact_model"] == "athlete_typical"
    assert a["impact_load_kbw"] == approx(impact_kbw(85 * 2 * 50, statistics.median([_measured_peaks()["M1"],
                                                                                      _measured_peaks()["M3"]])))


def test_default_only_without_any_measurement(impact_model_wh):
    w, k = impact_model_wh
    none = w.activity(k["none"])
    assert (none["impact_model"], none["peak_force_bw"]) == ("default", 2.5)
    assert "peak force default 2.5 BW" in none["data_quality_notes"]
    bad = w.activity(k["implausible"])
    assert peak_force_bw(60, 0.05) == approx(math.pi / 2 * 20)  # 31.4 BW
    assert (bad["impact_model"], bad["peak_force_bw"]) == ("default", 2.5)
    assert "peak force from running dynamics implausible (31.42 BW): default 2.5 BW" in bad["data_quality_notes"]
    gym = w.activity(k["gym"])
    assert (gym["impact_model"], gym["peak_force_bw"], gym["includes_running"]) == (None, None, False)


# ==================================================================================================
# Values that cannot be: bounded in staging, never inf or NaN in a mart
# ==================================================================================================


@pytest.fixture(scope="module")
def absurd_wh(tmp_path_factory):
    w = Warehouse(tmp_path_factory.mktemp("absurd") / "w.duckdb")
    k = {}
    inf, nan = float("inf"), float("nan")
    k["huge"] = w.fit("x", t("2024-06-01 07:00"), distance_m=1e300, moving_s=-5.0, strides=5000, descent_m=inf,
                      cadence_rpm=nan, stance_s=0.0)
    k["sets"] = w.fit("x", t("2024-06-02 18:00"), sport="training", sub_sport="strength_training", distance_m=None,
                      moving_s=1800, workout_rpe=1e9, sets=[("squat", 5, 1e9), ("squat", 5, inf), ("squat", 5, 80.0)])
    k["strava_inf"] = w.strava("x", 1, t("2024-06-03 07:00"), distance_m=inf, moving_s=nan, ascent_m=-1e300,
                               cadence_rpm=inf, rpe=1e300)
    k["strava_zero"] = w.strava("x", 2, t("2024-06-04 07:00"), distance_m=0.0, moving_s=0.0)
    k["sane"] = w.fit("x", t("2024-06-05 07:00"), distance_m=10000, moving_s=3000, strides=5000)
    w.con.execute("UPDATE raw.fit_sessions SET avg_heart_rate_bpm = 'inf', max_heart_rate_bpm = 0, "
                  "total_calories_kcal = 'nan', total_timer_time_s = -1 WHERE start_time_utc = '2024-06-01 07:00'")
    w.build(d("2024-06-30"), [athlete("x")])
    yield w, k
    w.close()


def test_out_of_bounds_values_become_null_with_a_note(absurd_wh):
    w, k = absurd_wh
    huge = w.activity(k["huge"])
    assert (huge["distance_m"], huge["moving_time_s"], huge["elevation_loss_m"], huge["avg_heart_rate_bpm"]) == \
        (None, None, None, None)
    notes = huge["data_quality_notes"]
    for note in ("distance_m 1e+300 outside [0, 1000000]: dropped", "moving_s -5.0 outside [0, 604800]: dropped",
                 "timer_s -1.0 outside [0, 604800]: dropped", "descent_m inf outside [0, 50000]: dropped",
                 "avg_cadence_rpm nan outside [0, 300]: dropped", "avg_stance_time_s 0.0 outside [0.05, 2.0]: dropped",
                 "avg_heart_rate_bpm inf outside [20, 250]: dropped",
                 "max_heart_rate_bpm 0.0 outside [20, 250]: dropped",
                 "total_calories_kcal nan outside [0, 50000]: dropped"):
        assert note in notes, (note, notes)
    assert huge["steps"] == 10000 and huge["impact_load_kbw"] == approx(25.0)  # strides survive
    strava = w.activity(k["strava_inf"])
    assert (strava["distance_m"], strava["moving_time_s"], strava["elevation_gain_m"], strava["avg_cadence_spm"]) == \
        (None, None, None, None)
    assert strava["rpe_imputed"] and strava["impact_load_kbw"] == 0.0
    assert "distance_m inf outside [0, 1000000]: dropped" in strava["data_quality_notes"]
    assert "perceived_exertion 1e+300 outside [0, 10]: dropped" in strava["data_quality_notes"]


def test_an_absurd_set_weight_is_null_and_noted(absurd_wh):
    w, k = absurd_wh
    sets = w.rows("SELECT set_index, weight_kg, volume_load_kg, data_quality_notes FROM marts.fct_strength_sets "
                  "WHERE activity_key = ? ORDER BY set_index", [k["sets"]])
    assert [(s["set_index"], s["data_quality_notes"]) for s in sets] == [
        (0, ["weight_kg 1000000000.0 outside [0, 1000]: dropped"]),
        (1, ["weight_kg inf outside [0, 1000]: dropped"]), (2, [])]
    assert sets[2]["weight_kg"] == 80.0 and sets[2]["volume_load_kg"] == 400.0
    a = w.activity(k["sets"])
    assert a["strength_volume_load_kg"] == 400.0  # only the plausible set's weight
    assert "set 0: weight_kg 1000000000.0 outside [0, 1000]: dropped" in a["data_quality_notes"]
    assert "workout_rpe 1000000000.0 outside [0, 100]: dropped" in a["data_quality_notes"]


def test_no_inf_or_nan_in_any_mart(absurd_wh):
    w, _ = absurd_wh
    cols = w.rows("""SELECT table_name, column_name FROM duckdb_columns()
                     WHERE database_name = current_database() AND schema_name = 'marts'
                       AND data_type IN ('DOUBLE', 'FLOAT', 'REAL')""")
    assert len(cols) > 30
    bad = []
    for c in cols:
        n = w.one(f'SELECT count(*) AS n FROM marts."{c["table_name"]}" '
                  f'WHERE isinf("{c["column_name"]}") OR isnan("{c["column_name"]}")')["n"]
        if n:
            bad.append((c["table_name"], c["column_name"], n))
    assert bad == []
    assert w.one("SELECT count(*) AS n FROM marts.fct_activities WHERE athlete_id = 'x'")["n"] == 5


def test_one_ride_recorded_by_two_garmin_devices_counts_once(corpus, tmp_path):
    """Real files: a Fenix 5 and an Edge 820 on the same 460 m ride (fitparse's test corpus).

    Fenix: 16:09:22 to 16:10:55 UTC, 19 records, 459.52 m; Edge: 16:10:15 to 16:11:22, 15 records,
    457.12 m. Overlap 40 s >= min(60 s, half the shorter span 67 s = 33.5 s): one workout, the
    Fenix file (more records) kept.
    """
    cfg, db = tmp_path / "runlift.toml", tmp_path / "w.duckdb"
    runlift("init", "--config", str(cfg))
    runlift("import-fit", "--no-prefect", "--config", str(cfg), "--db", str(db),
            str(corpus / "fitparse-tests/garmin-fenix-5-bike.fit"),
            str(corpus / "fitparse-tests/garmin-edge-820-bike.fit"))
    runlift("build", "--no-publish", "--config", str(cfg), "--db", str(db), "--as-of", "2017-06-30")
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute("SELECT activity_key, started_at, distance_m, data_quality_notes FROM marts.fct_activities"
                           ).fetchall()
        edge = con.execute("SELECT fit_session_key FROM staging.stg_fit__sessions WHERE started_at = "
                           "TIMESTAMP '2017-06-12 16:10:15'").fetchone()[0]
    finally:
        con.close()
    assert len(rows) == 1
    key, started, distance, notes = rows[0]
    assert (started, distance) == (t("2017-06-12 16:09:22"), approx(459.52))
    assert f"same workout in another FIT file, not counted: {edge}" in notes
