"""Effort from the best evidence and strength a lifter recognises (issue 11, items 1 and 4).

Golden tests on tiny hand-made raw rows (``marts_fixtures.Warehouse``) plus per-second heart rate
written straight into ``raw.fit_records`` / ``raw.strava_streams``. Expected values are computed
here from the formulas of docs/metrics.md, restated independently of the SQL.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest

from runlift.warehouse.build import AthleteParams

from marts_fixtures import NOW, Warehouse, d, t

approx = pytest.approx

# --- the specification, restated ----------------------------------------------------------------

BANISTER = {"male": (0.64, 1.92), "female": (0.86, 1.67), "unspecified": (0.75, 1.795)}


def y(x: float, sex: str = "male") -> float:
    a, b = BANISTER[sex]
    return a * x * math.exp(b * x)


def hrr(bpm: float, max_hr: float, rest_hr: float) -> float:
    return min(max((bpm - rest_hr) / (max_hr - rest_hr), 0.0), 1.0)


def trimp(minutes: float, segments: list[tuple[int, int]], max_hr: float, rest_hr: float, sex: str = "male") -> float:
    """minutes x mean over the per-second samples of y(x); segments: (bpm, seconds)."""
    n = sum(s for _, s in segments)
    return minutes * sum(s * y(hrr(b, max_hr, rest_hr), sex) for b, s in segments) / n


def fixed_load(trimp_value: float, sex: str = "male") -> float:
    """The fixed calibration: 60 min at 70 % of the heart-rate reserve = RPE 5 = 300 AU."""
    return trimp_value * 5 / y(0.7, sex)


def epley(kg: float, reps: int) -> float:
    return kg * (1 + reps / 30)


def rir(kg: float, reps: int, best: float) -> float:
    return max(30 * (best / kg - 1) - reps, 0.0)


def set_rpe(kg: float, reps: int, best: float) -> float:
    return max(10 - rir(kg, reps, best), 1.0)


# --- raw rows the common fixture does not write -------------------------------------------------

def person(athlete_id: str, sex: str = "male", max_hr: int | None = 190, rest_hr: int | None = 50) -> AthleteParams:
    return AthleteParams(athlete_id, "UTC", sex, max_hr, rest_hr, ((None, 70.0),))


def _sha(w: Warehouse, key: str) -> str:
    return w.one("SELECT file_sha256 FROM raw.fit_files WHERE left(file_sha256, 16) = ?",
                 [key.split(":")[1]])["file_sha256"]


def heart_rate(w: Warehouse, key: str, segments: list[tuple[int, int]]) -> None:
    """1 Hz heart-rate records for a FIT workout: (bpm, seconds) one after the other."""
    sha = _sha(w, key)
    athlete_id, start = w.con.execute("SELECT athlete_id, start_time_utc FROM raw.fit_sessions WHERE file_sha256 = ?",
                                      [sha]).fetchone()
    i = 0
    for bpm, seconds in segments:
        w.con.execute("INSERT INTO raw.fit_records "
                      "(athlete_id, file_sha256, record_index, timestamp_utc, heart_rate_bpm) "
                      "SELECT ?, ?, ? + r, ? + to_seconds(? + r), ? FROM range(?) t(r)",
                      [athlete_id, sha, i, start, i, bpm, seconds])
        i += seconds


def session(w: Warehouse, key: str, **cols) -> None:
    """Set raw.fit_sessions columns of a workout (avg_heart_rate_bpm, training_load_peak...)."""
    sets = ", ".join(f"{c} = ?" for c in cols)
    w.con.execute(f"UPDATE raw.fit_sessions SET {sets} WHERE file_sha256 = ?", [*cols.values(), _sha(w, key)])


def set_rows(w: Warehouse, key: str, **cols) -> None:
    """Per-set raw.fit_sets columns: each value a list, one item per set in order."""
    sha = _sha(w, key)
    for col, values in cols.items():
        for i, v in enumerate(values):
            w.con.execute(f"UPDATE raw.fit_sets SET {col} = ? WHERE file_sha256 = ? AND set_index = ?", [v, sha, i])


def lift(w: Warehouse, athlete_id: str, when: str, sets, minutes: float = 40.0, **kw) -> str:
    return w.fit(athlete_id, t(when), sport="training", sub_sport="strength_training", distance_m=None,
                 moving_s=minutes * 60, sets=sets, **kw)


def sets_of(w: Warehouse, key: str) -> list[dict]:
    return w.rows("SELECT * FROM marts.fct_strength_sets WHERE activity_key = ? ORDER BY set_index", [key])


# ==================================================================================================
# Heart rate: Banister TRIMP from per-second samples, calibrated onto the session-RPE scale
# ==================================================================================================


@pytest.fixture(scope="module")
def hr_wh(tmp_path_factory):
    w = Warehouse(tmp_path_factory.mktemp("hr") / "w.duckdb")
    k = {}
    # male, max 190, rest 50: 148 bpm = 70 % HRR, 162 = 80 %, 120 = 50 %, 176 = 90 %
    k["ref"] = w.fit("m", t("2024-03-01 07:00"), moving_s=3600)
    heart_rate(w, k["ref"], [(148, 3600)])
    k["mixed"] = w.fit("m", t("2024-03-02 07:00"), moving_s=3000)
    heart_rate(w, k["mixed"], [(148, 1800), (162, 1200), (120, 600)])
    k["easy"] = w.fit("m", t("2024-03-03 07:00"), moving_s=3600)
    heart_rate(w, k["easy"], [(120, 3600)])
    k["hard"] = w.fit("m", t("2024-03-04 07:00"), moving_s=3600)
    heart_rate(w, k["hard"], [(176, 3600)])
    # no per-second data: the session average
    k["avg"] = w.fit("m", t("2024-03-05 07:00"), moving_s=2400)
    session(w, k["avg"], avg_heart_rate_bpm=162.0)
    # female, same settings: her own weighting; the reference session is still 300 AU
    k["f_ref"] = w.fit("f", t("2024-03-01 07:00"), moving_s=3600)
    heart_rate(w, k["f_ref"], [(148, 3600)])
    k["f_hard"] = w.fit("f", t("2024-03-02 07:00"), moving_s=3600)
    heart_rate(w, k["f_hard"], [(176, 3600)])
    # a Strava-only run with a heartrate stream
    k["strava"] = w.strava("m", 9, t("2024-03-06 07:00"), moving_s=1800)
    w.con.execute("INSERT INTO raw.strava_streams (athlete_id, activity_id, stream_type, data, fetched_at) "
                  "VALUES ('m', 9, 'heartrate', ?, ?)", [[162.0] * 900 + [176.0] * 900, NOW])
    w.build(d("2024-03-10"), [person("m"), person("f", "female")])
    yield w, k
    w.close()


def test_trimp_per_second_and_fixed_calibration(hr_wh):
    w, k = hr_wh
    ref = w.activity(k["ref"])
    # 60 min at 70 % of the heart-rate reserve: RPE 5, 300 AU, by construction of the calibration
    assert (ref["effort_source"], ref["rpe"], ref["session_load_au"]) == ("heart_rate", approx(5.0), approx(300.0))
    e = w.one("SELECT * FROM intermediate.int_workouts_effort WHERE activity_key = ?", [k["ref"]])
    assert e["trimp"] == approx(60 * 0.7 * 0.64 * math.exp(1.92 * 0.7)) == approx(103.07, abs=0.01)
    assert ((e["heart_rate_data"], e["heart_rate_samples"], e["heart_rate_calibration"])
            == ("per-second (FIT)", 3600, "fixed"))
    assert ((e["max_hr_bpm"], e["max_hr_source"], e["resting_hr_bpm"], e["resting_hr_source"])
            == (190, "settings", 50, "settings"))

    mixed = w.activity(k["mixed"])
    expected = fixed_load(trimp(50, [(148, 1800), (162, 1200), (120, 600)], 190, 50))
    assert mixed["session_load_au"] == approx(expected)
    assert mixed["rpe"] == approx(expected / 50)
    assert "effort from per-second (FIT) heart rate" in mixed["data_quality_notes"]


def test_same_duration_runs_at_different_heart_rates_get_clearly_different_loads(hr_wh):
    w, k = hr_wh
    easy, hard = w.activity(k["easy"]), w.activity(k["hard"])
    assert easy["moving_time_s"] == hard["moving_time_s"] == 3600
    assert easy["session_load_au"] == approx(fixed_load(trimp(60, [(120, 1)], 190, 50)))
    assert hard["session_load_au"] == approx(fixed_load(trimp(60, [(176, 1)], 190, 50)))
    # 50 % against 90 % of the heart-rate reserve: about 3.9 times the load (RPE 2.4 against 9.4)
    assert hard["session_load_au"] / easy["session_load_au"] == approx(y(0.9) / y(0.5))
    assert hard["session_load_au"] > 3.5 * easy["session_load_au"]
    assert easy["rpe"] == approx(5 * y(0.5) / y(0.7)) and hard["rpe"] == approx(5 * y(0.9) / y(0.7))


def test_trimp_from_average_heart_rate_and_strava_stream(hr_wh):
    w, k = hr_wh
    avg = w.activity(k["avg"])
    assert avg["effort_source"] == "heart_rate"
    assert avg["session_load_au"] == approx(fixed_load(40 * y(0.8)))
    assert "effort from average heart rate" in avg["data_quality_notes"]
    strava = w.activity(k["strava"])
    assert strava["effort_source"] == "heart_rate"
    assert strava["session_load_au"] == approx(fixed_load(trimp(30, [(162, 900), (176, 900)], 190, 50)))
    e = w.one("SELECT heart_rate_data, heart_rate_samples FROM intermediate.int_workouts_effort WHERE activity_key = ?",
              [k["strava"]])
    assert e == {"heart_rate_data": "per-second (Strava)", "heart_rate_samples": 1800}


def test_trimp_weighting_by_sex(hr_wh):
    w, k = hr_wh
    assert w.activity(k["f_ref"])["session_load_au"] == approx(300.0)
    f_hard = w.activity(k["f_hard"])["session_load_au"]
    m_hard = w.activity(k["hard"])["session_load_au"]
    assert f_hard == approx(300 * y(0.9, "female") / y(0.7, "female"))
    assert m_hard == approx(300 * y(0.9, "male") / y(0.7, "male"))
    assert f_hard < m_hard  # the female curve is flatter (b 1.67 against 1.92)


def test_max_hr_estimated_from_per_second_data_and_resting_default(tmp_path):
    w = Warehouse(tmp_path / "w.duckdb")
    a = w.fit("e", t("2024-03-01 07:00"), moving_s=3600)
    # 4000 samples: 3970 at 150, 30 at 185: the 99.5th percentile is 185 (3970 / 4000 = 99.25 %)
    heart_rate(w, a, [(150, 3970), (185, 30)])
    b = w.fit("e", t("2024-03-02 07:00"), moving_s=1800)
    heart_rate(w, b, [(150, 1800)])
    # after the as-of date: not part of the estimate
    later = w.fit("e", t("2024-03-09 07:00"), moving_s=3600)
    heart_rate(w, later, [(200, 3600)])
    # under an hour of samples: the highest session maximum instead
    c = w.fit("s", t("2024-03-01 07:00"), moving_s=1800)
    session(w, c, avg_heart_rate_bpm=150.0, max_heart_rate_bpm=180.0)
    w.build(d("2024-03-05"), [person("e", "unspecified", None, None), person("s", "unspecified", None, None)])
    e = w.one("SELECT * FROM intermediate.int_workouts_effort WHERE activity_key = ?", [b])
    assert (e["max_hr_bpm"], e["resting_hr_bpm"]) == (185, 60)
    assert e["max_hr_source"] == "estimated: 99.5th percentile of per-second heart rate"
    assert e["resting_hr_source"] == "default 60 bpm"
    assert w.activity(b)["session_load_au"] == approx(30 * y((150 - 60) / 125, "unspecified") * 5
                                                      / y(0.7, "unspecified"))
    notes = w.activity(b)["data_quality_notes"]
    assert any("max HR estimated" in n and "resting HR default 60 bpm" in n for n in notes)
    s = w.one("SELECT * FROM intermediate.int_workouts_effort WHERE activity_key = ?", [c])
    assert (s["max_hr_bpm"], s["max_hr_source"]) == (180, "estimated: highest session maximum")
    assert w.activity(c)["session_load_au"] == approx(30 * y(90 / 120, "unspecified") * 5 / y(0.7, "unspecified"))
    w.close()


def test_per_athlete_calibration_from_workouts_with_rpe_and_heart_rate(tmp_path):
    w = Warehouse(tmp_path / "w.duckdb")
    rated = [(148, 3600, 60), (162, 2400, 70), (120, 3000, 30), (176, 1800, 90), (155, 3000, 60)]
    both_load, both_trimp = 0.0, 0.0
    for i, (bpm, secs, rpe10) in enumerate(rated):
        key = w.fit("c", t("2024-03-01 07:00") + dt.timedelta(days=i), moving_s=secs, workout_rpe=rpe10)
        heart_rate(w, key, [(bpm, secs)])
        both_load += rpe10 / 10 * secs / 60
        both_trimp += trimp(secs / 60, [(bpm, 1)], 190, 50)
    new = w.fit("c", t("2024-03-08 07:00"), moving_s=3600)
    heart_rate(w, new, [(162, 3600)])
    # only four rated workouts: the fixed factor
    w4 = Warehouse(tmp_path / "w4.duckdb")
    for i, (bpm, secs, rpe10) in enumerate(rated[:4]):
        key = w4.fit("c", t("2024-03-01 07:00") + dt.timedelta(days=i), moving_s=secs, workout_rpe=rpe10)
        heart_rate(w4, key, [(bpm, secs)])
    new4 = w4.fit("c", t("2024-03-08 07:00"), moving_s=3600)
    heart_rate(w4, new4, [(162, 3600)])
    for wh in (w, w4):
        wh.build(d("2024-03-10"), [person("c")])
    k = both_load / both_trimp
    got = w.activity(new)
    assert got["effort_source"] == "heart_rate"
    assert got["session_load_au"] == approx(k * trimp(60, [(162, 1)], 190, 50))
    assert w.one("SELECT heart_rate_calibration FROM intermediate.int_workouts_effort WHERE activity_key = ?",
                 [new])["heart_rate_calibration"] == "athlete fit"
    # the rated workouts keep their own RPE
    assert w.one("SELECT count(*) AS n FROM marts.fct_activities WHERE effort_source = 'recorded_rpe'")["n"] == 5
    assert w4.activity(new4)["session_load_au"] == approx(fixed_load(trimp(60, [(162, 1)], 190, 50)))
    w.close()
    w4.close()


# ==================================================================================================
# Which evidence wins, and the week's imputed share
# ==================================================================================================


def test_effort_source_precedence_and_imputed_load_share(tmp_path):
    w = Warehouse(tmp_path / "w.duckdb")
    k = {}
    k["rpe_and_hr"] = w.fit("p", t("2024-03-04 07:00"), moving_s=3600, workout_rpe=30)  # Monday
    heart_rate(w, k["rpe_and_hr"], [(176, 3600)])
    k["hr_and_device"] = w.fit("p", t("2024-03-05 07:00"), moving_s=3600)
    heart_rate(w, k["hr_and_device"], [(148, 3600)])
    session(w, k["hr_and_device"], training_load_peak=250.0)
    k["device"] = w.fit("p", t("2024-03-06 07:00"), moving_s=2400)
    session(w, k["device"], training_load_peak=80.0)
    # strength: heart rate is ignored; the sets decide
    k["sets"] = lift(w, "p", "2024-03-06 18:00", [("squat", 5, 100.0), ("squat", 5, 100.0)], minutes=30)
    heart_rate(w, k["sets"], [(176, 1800)])
    # strength with body-weight sets only: no set effort, the device load
    k["bw_device"] = lift(w, "p", "2024-03-07 18:00", [("push_up", 10, 0.0)], minutes=20)
    session(w, k["bw_device"], training_load_peak=30.0)
    k["nothing"] = w.strava("p", 1, t("2024-03-08 07:00"), sport_type="Ride", moving_s=3600, distance_m=30000)
    w.build(d("2024-03-10"), [person("p")])

    got = {name: w.activity(key) for name, key in k.items()}
    assert {n: a["effort_source"] for n, a in got.items()} == {
        "rpe_and_hr": "recorded_rpe", "hr_and_device": "heart_rate", "device": "device_load",
        "sets": "set_effort", "bw_device": "device_load", "nothing": "imputed"}
    assert got["rpe_and_hr"]["session_load_au"] == approx(3.0 * 60)
    assert got["hr_and_device"]["session_load_au"] == approx(300.0)
    assert got["device"]["session_load_au"] == approx(80 * 3.0)  # the fixed factor
    assert got["device"]["rpe"] == approx(240 / 40)
    assert got["sets"]["session_load_au"] == approx(10.0 * 30)  # both sets at the best: RIR 0, RPE 10
    assert got["bw_device"]["session_load_au"] == approx(30 * 3.0)
    assert got["nothing"]["session_load_au"] == approx(5.0 * 60) and got["nothing"]["rpe_imputed"]
    assert not any(a["rpe_imputed"] for n, a in got.items() if n != "nothing")
    (week,) = w.weekly("p")
    total = sum(a["session_load_au"] for a in got.values())
    assert week["imputed_load_share"] == approx(300.0 / total)
    w.close()


# ==================================================================================================
# Strength: set effort, per-exercise bests, no weight, timed holds, e1RM range, hard sets, ratio
# ==================================================================================================


def test_set_effort_rpe_from_reps_in_reserve(tmp_path):
    w = Warehouse(tmp_path / "w.duckdb")
    sets = [("deadlift", 5, 40.0), ("deadlift", 5, 100.0), ("deadlift", 5, 90.0), ("deadlift", 3, 60.0)]
    key = lift(w, "r", "2024-03-05 18:00", sets, minutes=45)
    w.build(d("2024-03-10"), [person("r")])
    best = epley(100, 5)
    got = sets_of(w, key)
    assert [g["best_e1rm_90d_kg"] for g in got] == [approx(best)] * 4
    assert got[2]["reps_in_reserve"] == approx(30 * (best / 90 - 1) - 5) == approx(3.889, abs=1e-3)
    assert [g["estimated_rpe"] for g in got] == [approx(set_rpe(kg, r, best)) for _, r, kg in sets]
    assert got[3]["estimated_rpe"] == 1.0  # 25 reps in reserve: the bottom of the scale
    # the session: mean over the working sets (>= 50 % of the best; the 40 kg warm-up is not one)
    session_rpe = (10 + set_rpe(90, 5, best) + set_rpe(60, 3, best)) / 3
    a = w.activity(key)
    assert (a["effort_source"], a["rpe"], a["session_load_au"]) == ("set_effort", approx(session_rpe),
                                                                    approx(session_rpe * 45))
    assert [g["is_hard_set"] for g in got] == [False, True, True, False]  # RIR 0 and 3.9 are hard
    w.close()


def test_best_e1rm_per_exercise_rdl_next_to_a_heavier_deadlift(tmp_path):
    w = Warehouse(tmp_path / "w.duckdb")
    conventional = lift(w, "l", "2024-03-04 18:00", [("deadlift", 5, 140.0)] * 3)
    rdl = lift(w, "l", "2024-03-07 18:00", [("deadlift", 8, 80.0)] * 3)
    set_rows(w, conventional, subtype_names=[["barbell_deadlift"]] * 3)
    set_rows(w, rdl, subtype_names=[["romanian_deadlift"]] * 3)
    w.build(d("2024-03-10"), [person("l")])
    dl, rd = sets_of(w, conventional), sets_of(w, rdl)
    assert {g["exercise"] for g in dl} == {"barbell_deadlift"} and {g["exercise"] for g in rd} == {"romanian_deadlift"}
    assert [g["best_e1rm_90d_kg"] for g in dl] == [approx(epley(140, 5))] * 3 == [approx(163.333, abs=1e-3)] * 3
    # RDL sets against the RDL best (101.3 kg), not the deadlift's 163.3 kg (49 %: "not hard")
    assert [g["best_e1rm_90d_kg"] for g in rd] == [approx(epley(80, 8))] * 3
    assert [g["relative_intensity"] for g in rd] == [approx(80 / epley(80, 8))] * 3
    assert [g["is_hard_set"] for g in rd] == [True] * 3
    assert w.activity(rdl)["hard_sets"] == 3
    w.close()


def test_no_weight_recorded_is_not_zero_and_not_automatically_hard(tmp_path):
    w = Warehouse(tmp_path / "w.duckdb")
    key = lift(w, "n", "2024-03-05 18:00", [("push_up", 20, None), ("push_up", 10, None), ("lunge", 12, 0.0),
                                            ("lunge", 8, 0.0), ("squat", 5, None)])
    w.build(d("2024-03-10"), [person("n")])
    got = sets_of(w, key)
    assert [g["weight_kg"] for g in got] == [None, None, 0.0, 0.0, None]
    assert [g["volume_load_kg"] for g in got] == [None, None, 0.0, 0.0, None]
    assert [g["e1rm_kg"] for g in got] == [None] * 5
    # without external load: hard at >= 75 % of the exercise's best reps (20 -> 15; 12 -> 9)
    assert [g["is_hard_set"] for g in got] == [True, False, True, False, True]
    assert w.activity(key)["strength_volume_load_kg"] == 0.0
    # knee load of a set without a recorded weight: body weight only
    assert got[4]["knee_load_kbw"] == approx(5 * 3.0 / 1000)
    w.close()


def test_timed_holds_counted_by_duration(tmp_path):
    w = Warehouse(tmp_path / "w.duckdb")
    key = lift(w, "h", "2024-03-05 18:00", [("plank", 1, 0.0), ("plank", 1, 0.0), ("squat", 1, 0.0),
                                            ("squat", 0, 0.0), ("squat", 1, 0.0)])
    set_rows(w, key, duration_s=[60.0, 30.0, 90.0, 60.0, 5.0],
             exercise_title=[None, None, "Wall sit", "Wall sit", "Jump squat"])
    w.build(d("2024-03-10"), [person("h")])
    got = sets_of(w, key)
    assert [g["is_timed_hold"] for g in got] == [True, True, True, True, False]
    assert [g["hold_s"] for g in got] == [60.0, 30.0, 90.0, 60.0, None]
    # a hold is hard at >= 75 % of the longest hold of the exercise (60 s -> 45 s; 90 s -> 67.5 s)
    assert [g["is_hard_set"] for g in got] == [True, False, True, False, False]
    w.close()


def test_no_e1rm_over_12_reps(tmp_path):
    w = Warehouse(tmp_path / "w.duckdb")
    key = lift(w, "x", "2024-03-05 18:00", [("squat", 10, 70.0), ("squat", 12, 65.0), ("squat", 15, 60.0),
                                            ("squat", 20, 60.0)])
    w.build(d("2024-03-10"), [person("x")])
    got = sets_of(w, key)
    assert [g["e1rm_kg"] for g in got] == [approx(epley(70, 10)), approx(epley(65, 12)), None, None]
    best = max(epley(70, 10), epley(65, 12))
    assert [g["best_e1rm_90d_kg"] for g in got] == [approx(best)] * 4
    # the 15-rep set still has an intensity and reps in reserve against the best of the 1-12 rep sets
    assert got[2]["reps_in_reserve"] == approx(rir(60, 15, best))
    assert [g["is_hard_set"] for g in got] == [rir(kg, r, best) <= 4 for _, r, kg in
                                               [("squat", 10, 70.0), ("squat", 12, 65.0), ("squat", 15, 60.0),
                                                ("squat", 20, 60.0)]] == [True, True, True, True]
    w.close()


def test_posterior_anterior_ratio_counts_hinge_and_knee_flexion_only(tmp_path):
    w = Warehouse(tmp_path / "w.duckdb")
    lift(w, "b", "2024-03-05 18:00", [("deadlift", 5, 100.0)] * 3 + [("squat", 5, 100.0)] * 3
         + [("hip_stability", 10, 0.0)] * 3 + [("olympic_lift", 3, 60.0)] * 2)
    lift(w, "b", "2024-03-07 18:00", [("leg_curl", 10, 40.0)] * 3 + [("lunge", 10, 20.0)] * 2)
    w.build(d("2024-03-10"), [person("b")])
    patterns = {r["exercise_category"]: r["lower_pattern"] for r in w.rows(
        "SELECT DISTINCT exercise_category, lower_pattern FROM marts.fct_strength_sets WHERE athlete_id = 'b'")}
    assert patterns == {"deadlift": "hip", "leg_curl": "hip", "squat": "knee", "lunge": "knee",
                        "hip_stability": None, "olympic_lift": None}
    (week,) = w.weekly("b")
    # posterior: 3 deadlift (hinge) + 3 leg curl (knee flexion); anterior: 3 squat + 2 lunge
    assert (week["hard_sets_hip"], week["hard_sets_knee"]) == (6, 5)
    assert week["posterior_anterior_ratio_4w"] == approx(6 / 5)
    w.close()


def test_strava_heart_rate_histogram_follows_a_new_fetch(tmp_path):
    """The per-second summary is kept between builds: a stream fetched again replaces its rows."""
    w = Warehouse(tmp_path / "w.duckdb")
    key = w.strava("u", 5, t("2024-03-06 07:00"), moving_s=3600)
    w.con.execute("INSERT INTO raw.strava_streams (athlete_id, activity_id, stream_type, data, fetched_at) "
                  "VALUES ('u', 5, 'heartrate', ?, ?)", [[120.0] * 3600, NOW])
    w.build(d("2024-03-10"), [person("u")])
    assert w.activity(key)["session_load_au"] == approx(fixed_load(60 * y(0.5)))
    w.con.execute("UPDATE raw.strava_streams SET data = ?, fetched_at = ? WHERE activity_id = 5",
                  [[148.0] * 3600, NOW + dt.timedelta(days=1)])
    w.build(d("2024-03-10"), [person("u")])
    assert w.activity(key)["session_load_au"] == approx(300.0)
    assert w.one("SELECT count(*) AS n, sum(n_samples) AS s FROM intermediate.int_heart_rate_samples "
                 "WHERE athlete_id = 'u'") == {"n": 1, "s": 3600}
    w.con.execute("DELETE FROM raw.strava_streams WHERE activity_id = 5")
    w.build(d("2024-03-10"), [person("u")])
    assert w.activity(key)["effort_source"] == "imputed"
    assert json.dumps(w.rows("SELECT * FROM intermediate.int_heart_rate_samples WHERE athlete_id = 'u'")) == "[]"
    w.close()


def test_posterior_anterior_low_is_flagged_after_the_first_28_days_and_not_for_rdl_work(tmp_path):
    """Squats only for five weeks raise posterior_anterior_low once the history is 28 days long;
    an athlete doing Romanian deadlifts next to the same squats (hinge work on the posterior side,
    measured against the RDL's own best) gets none."""
    w = Warehouse(tmp_path / "w.duckdb")
    first = d("2024-01-01")  # a Monday
    for week in range(5):
        day = (first + dt.timedelta(days=7 * week)).isoformat()
        lift(w, "quads", f"{day} 18:00", [("squat", 5, 100.0)] * 4)
        both = lift(w, "both", f"{day} 18:00", [("squat", 5, 100.0)] * 4 + [("deadlift", 5, 140.0)] * 2
                    + [("deadlift", 8, 80.0)] * 3)
        set_rows(w, both, subtype_names=[None] * 4 + [["barbell_deadlift"]] * 2 + [["romanian_deadlift"]] * 3)
    w.build(d("2024-02-04"), [person("quads"), person("both")])
    flags = w.flags("quads", "posterior_anterior_low")
    # weeks 1-4 end within the first 28 days; the fifth week (ending 2024-02-04) is flagged
    assert [(f["date"], f["value"], f["severity"]) for f in flags] == [(d("2024-02-04"), 0.0, "warning")]
    assert flags[0]["explanation"].startswith(
        "Posterior (hip hinge, knee flexion) to anterior (knee-dominant) hard sets 0.00")
    assert w.flags("both", "posterior_anterior_low") == []
    (last,) = [r for r in w.weekly("both") if r["week_start"] == d("2024-01-29")]
    assert last["posterior_anterior_ratio_4w"] == approx(20 / 16)  # 5 hinge sets vs 4 squat sets a week
    w.close()
