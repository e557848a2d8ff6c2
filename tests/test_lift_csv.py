"""`runlift import-lifts`: Strong and Hevy CSV exports of the synthetic athlete, in kg and in lb."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest

from runlift.standins.config import write_settings
from runlift.standins.hevy_emulator import hevy_workouts
from runlift.standins.lift_csv import hevy_csv, strong_csv
from runlift.standins.season import synthetic_season

from helpers import q, runlift

WORKOUTS = hevy_workouts(synthetic_season(dt.date(2026, 11, 20), weeks=16))
N_SETS = sum(len(ex["sets"]) for w in WORKOUTS for ex in w["exercises"])


@dataclass
class Ran:
    exit_code: int
    output: str  # stdout then stderr


def run(tmp_path: Path, *args: str) -> Ran:
    """`runlift import-lifts` in its own process."""
    cfg = write_settings(tmp_path, timezone="America/Denver")
    proc = runlift("import-lifts", "--config", str(cfg), *args, check=False)
    return Ran(proc.returncode, proc.stdout + proc.stderr)


def sets(tmp_path: Path, app: str) -> list[tuple]:
    return q(tmp_path / "w.duckdb", "SELECT started_local, exercise_title, set_order, set_type, weight_kg, reps, rpe "
             "FROM raw.lift_csv_sets WHERE app = ? ORDER BY started_local, exercise_position, set_order", [app])


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("app", ["hevy", "strong", "strong-units"])
def test_lb_exports_give_the_same_kilograms_as_kg_exports(tmp_path, app):
    def export(units: str) -> str:
        if app == "hevy":
            return hevy_csv(WORKOUTS, units=units)
        return strong_csv(WORKOUTS, units=units, unit_columns=app == "strong-units")

    kg_db, lb_db = tmp_path / "kg", tmp_path / "lb"
    extra_kg = [] if app != "strong" else ["--weight-unit", "kg"]
    extra_lb = [] if app != "strong" else ["--weight-unit", "lb"]
    out = run(kg_db, write(tmp_path, "kg.csv", export("kg")), *extra_kg)
    assert out.exit_code == 0, out.output
    assert f"{N_SETS} sets: {N_SETS} new" in out.output
    out = run(lb_db, write(tmp_path, "lb.csv", export("lb")), *extra_lb)
    assert out.exit_code == 0, out.output
    stored = "hevy" if app == "hevy" else "strong"
    in_kg, in_lb = sets(kg_db, stored), sets(lb_db, stored)
    assert len(in_kg) == len(in_lb) == N_SETS
    for a, b in zip(in_kg, in_lb, strict=True):
        assert a[:4] == b[:4] and a[5:] == b[5:]
        assert (a[4] is None and b[4] is None) or abs(a[4] - b[4]) < 0.005
    # the values are the workouts' own (kg export: exact)
    first = sorted(WORKOUTS, key=lambda w: w["start_time"])[0]
    top = first["exercises"][0]["sets"][-1]
    squat = [r for r in in_kg if r[1] == "Squat (Barbell)" and r[0] == in_kg[0][0]]
    assert squat[-1][4] == top["weight_kg"] and squat[-1][5] == top["reps"] and squat[-1][6] == top["rpe"]
    assert squat[0][3] == "warmup"
    if app == "hevy":
        assert squat[-1][3] == "failure"


def test_strong_export_without_units_needs_them(tmp_path):
    out = run(tmp_path, write(tmp_path, "strong.csv", strong_csv(WORKOUTS, units="lb")))
    assert out.exit_code != 0
    lines = [ln for ln in out.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "--weight-unit" in lines[0], out.output
    assert not (tmp_path / "w.duckdb").exists() or q(tmp_path / "w.duckdb", "SELECT count(*) FROM raw.lift_csv_sets"
                                                    )[0][0] == 0


def test_the_same_export_again_or_a_later_one_adds_nothing(tmp_path):
    ordered = sorted(WORKOUTS, key=lambda w: w["start_time"])
    early = write(tmp_path, "early.csv", hevy_csv(ordered[:10]))
    later = write(tmp_path, "later.csv", hevy_csv(ordered))
    early_sets = sum(len(ex["sets"]) for w in ordered[:10] for ex in w["exercises"])
    assert f"{early_sets} new" in run(tmp_path, early).output
    again = run(tmp_path, early)
    assert f"{early_sets} sets: 0 new, 0 changed, {early_sets} already stored" in again.output, again.output
    out = run(tmp_path, later)
    assert f"{N_SETS} sets: {N_SETS - early_sets} new, 0 changed" in out.output, out.output
    assert q(tmp_path / "w.duckdb", "SELECT count(*) FROM raw.lift_csv_sets")[0][0] == N_SETS
    # a weight corrected in the app: the set is updated, not added
    fixed = [dict(w) for w in ordered]
    fixed[0] = {**ordered[0], "exercises": [dict(ex, sets=[dict(s) for s in ex["sets"]])
                                            for ex in ordered[0]["exercises"]]}
    fixed[0]["exercises"][0]["sets"][1]["weight_kg"] = 99.0
    out = run(tmp_path, write(tmp_path, "fixed.csv", hevy_csv(fixed)))
    assert "0 new, 1 changed" in out.output, out.output
    assert q(tmp_path / "w.duckdb", "SELECT count(*) FROM raw.lift_csv_sets")[0][0] == N_SETS


def test_a_file_that_is_not_an_export_is_one_clear_line(tmp_path):
    out = run(tmp_path, write(tmp_path, "other.csv", "a,b,c\n1,2,3\n"))
    assert out.exit_code != 0
    lines = [ln for ln in out.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "not a Strong or Hevy CSV export" in lines[0]


def test_staging_reads_the_local_times_in_the_athletes_zone(tmp_path):
    from runlift.flows.build import build_warehouse
    from runlift.flows.settings import load_settings

    out = run(tmp_path, write(tmp_path, "strong.csv", strong_csv(WORKOUTS, unit_columns=True)))
    assert out.exit_code == 0, out.output
    build_warehouse(load_settings(tmp_path / "runlift.toml", env={}), dt.date(2026, 11, 20))
    starts = {r[0] for r in q(tmp_path / "w.duckdb",
                              "SELECT DISTINCT workout_started_at FROM staging.stg_lift_csv__sets")}
    assert starts == {dt.datetime.fromisoformat(w["start_time"].replace("Z", "")) for w in WORKOUTS}
    warm = q(tmp_path / "w.duckdb", "SELECT count(*) FROM staging.stg_lift_csv__sets WHERE is_warmup")[0][0]
    assert warm == sum(s["type"] == "warmup" for w in WORKOUTS for ex in w["exercises"] for s in ex["sets"])


def test_hand_written_exports_in_the_apps_own_formats(tmp_path):
    """Lines typed as the apps write them: quoting, 12-hour times, empty fields, W sets, miles."""
    strong_old = ('Date;Workout Name;Exercise Name;Set Order;Weight;Weight Unit;Reps;RPE;Distance;Distance Unit;'
                  'Seconds;Notes;Workout Notes\n'
                  '2024-03-02 07:41:10;"Pull";"Deadlift (Barbell)";1;135;lbs;5;;;;0;"";""\n'
                  '2024-03-02 07:41:10;"Pull";"Deadlift (Barbell)";2;225;lbs;5;8.5;;;0;"felt fast";""\n'
                  '2024-03-02 07:41:10;"Pull";"Running";1;0;lbs;0;;3.1;mi;1500;"";""\n')
    strong_new = ('Date,Workout Name,Duration,Exercise Name,Set Order,Weight,Reps,Distance,Seconds,Notes,Workout Notes,'
                  'RPE\n'
                  '2024-03-04 6:05:00\u202fPM,Legs,1h 5m,Squat (Barbell),W,60,8,0,0,,,\n'
                  '2024-03-04 6:05:00\u202fPM,Legs,1h 5m,Squat (Barbell),1,100,5,0,0,,,8\n')
    hevy = ('"title","start_time","end_time","description","exercise_title","superset_id","exercise_notes",'
            '"set_index","set_type","weight_kg","reps","distance_km","duration_seconds","rpe"\n'
            '"Push","05 Mar 2024, 18:02","05 Mar 2024, 19:10","","Bench Press (Barbell)",,"",0,"warmup",40,10,,,\n'
            '"Push","05 Mar 2024, 18:02","05 Mar 2024, 19:10","","Bench Press (Barbell)",,"",1,"failure",80,6,,,10\n'
            '"Push","05 Mar 2024, 18:02","05 Mar 2024, 19:10","","Treadmill",,"",0,"normal",,,2.5,900,\n')
    assert run(tmp_path, write(tmp_path, "a.csv", strong_old)).exit_code == 0
    out = run(tmp_path, write(tmp_path, "b.csv", strong_new), "--weight-unit", "kg")
    assert out.exit_code == 0, out.output
    assert run(tmp_path, write(tmp_path, "c.csv", hevy)).exit_code == 0
    rows = q(tmp_path / "w.duckdb", "SELECT app, started_local, exercise_title, set_order, set_type, "
             "round(weight_kg, 4), reps, distance_m, set_duration_s, rpe, duration_s, exercise_notes "
             "FROM raw.lift_csv_sets ORDER BY started_local, exercise_position, set_order")
    t = dt.datetime
    assert rows == [
        ("strong", t(2024, 3, 2, 7, 41, 10), "Deadlift (Barbell)", 1, None, round(135 * 0.45359237, 4), 5, None, 0.0,
         None, None, None),
        ("strong", t(2024, 3, 2, 7, 41, 10), "Deadlift (Barbell)", 2, None, round(225 * 0.45359237, 4), 5, None, 0.0,
         8.5, None, "felt fast"),
        ("strong", t(2024, 3, 2, 7, 41, 10), "Running", 1, None, 0.0, 0, 3.1 * 1609.344, 1500.0, None, None, None),
        ("strong", t(2024, 3, 4, 18, 5), "Squat (Barbell)", 1, "warmup", 60.0, 8, 0.0, 0.0, None, 3900.0, None),
        ("strong", t(2024, 3, 4, 18, 5), "Squat (Barbell)", 2, None, 100.0, 5, 0.0, 0.0, 8.0, 3900.0, None),
        ("hevy", t(2024, 3, 5, 18, 2), "Bench Press (Barbell)", 1, "warmup", 40.0, 10, None, None, None, 4080.0, None),
        ("hevy", t(2024, 3, 5, 18, 2), "Bench Press (Barbell)", 2, "failure", 80.0, 6, None, None, 10.0, 4080.0, None),
        ("hevy", t(2024, 3, 5, 18, 2), "Treadmill", 1, "normal", None, None, 2500.0, 900.0, None, 4080.0, None),
    ]
