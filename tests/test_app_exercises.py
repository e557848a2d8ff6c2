"""The lifting apps' exercise names mapped to the muscle groups: the seed, the person's exercise_map.csv,
Hevy's own template muscles, and what is left unmapped (counted in `runlift status`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from runlift.flows.build import build_warehouse, publish_warehouse
from runlift.flows.hevy_sync import make_client, sync_athlete
from runlift.flows.lift_import import import_lifts
from runlift.flows.settings import SettingsError, load_settings
from runlift.standins.config import write_settings
from runlift.standins.hevy_emulator import DEFAULT_KEY, HevyEmulator, hevy_templates, hevy_workouts
from runlift.standins.lift_csv import hevy_csv, strong_csv
from runlift.standins.season import synthetic_season
from runlift.warehouse import app_exercises
from runlift.warehouse import db as wdb
from runlift.warehouse.exercise_muscles import MUSCLE_GROUPS

from helpers import q, runlift

END = dt.date(2026, 11, 20)
WORKOUTS = hevy_workouts(synthetic_season(END, weeks=8))
HEADER = ",".join(app_exercises.COLUMNS)


def config(tmp_path: Path, base_url: str = "http://127.0.0.1:9") -> Path:
    return write_settings(tmp_path, timezone="America/Denver",
                          tables={"hevy": {"base_url": base_url, "min_interval_s": 0.0, "backoff_s": 0.0,
                                           "retries": 1, "timeout_s": 5.0}})


def sync_hevy(cfg: Path, workouts: list, templates: list | None = None) -> None:
    with HevyEmulator(workouts, templates=templates) as emu:
        settings = load_settings(config(cfg.parent, emu.base_url), env={"HEVY_API_KEY": DEFAULT_KEY})
        con = wdb.connect(settings.db_path)
        try:
            with make_client(settings, "me", sleep=lambda s: None) as client:
                result = sync_athlete(con, client, settings.hevy, "me", full=True)
                assert result.status == "complete", result.message
        finally:
            con.close()


def import_csv(cfg: Path, name: str, text: str) -> None:
    path = cfg.parent / name
    path.write_text(text, encoding="utf-8")
    settings = load_settings(cfg, env={})
    import_lifts(settings, "me", path)


def mapping(db: Path) -> dict[tuple[str, str], tuple]:
    return {(r[0], r[1]): r[2:] for r in q(db, "SELECT source, app_exercise_key, exercise_category, exercise_name, "
                                              "primary_muscle, secondary_muscles, mapped_by "
                                              "FROM staging.app_exercise_map")}


def test_the_view_has_the_agreed_columns(tmp_path):
    cfg = config(tmp_path)
    build_warehouse(load_settings(cfg, env={}), END)
    cols = q(tmp_path / "w.duckdb", "SELECT column_name, data_type FROM information_schema.columns "
             "WHERE table_schema = 'staging' AND table_name = 'app_exercise_map' ORDER BY ordinal_position")
    assert cols == [("source", "VARCHAR"), ("app_exercise_key", "VARCHAR"), ("exercise_category", "VARCHAR"),
                    ("exercise_name", "VARCHAR"), ("primary_muscle", "VARCHAR"),
                    ("secondary_muscles", "VARCHAR[]"), ("mapped_by", "VARCHAR")]
    # the seed alone gives rows for both apps; the hinge and the knee-flexion hamstrings stay apart
    m = mapping(tmp_path / "w.duckdb")
    assert m[("strong", "romanian deadlift (barbell)")] == ("deadlift", "romanian_deadlift", "hamstrings_hip_hinge",
                                                            ["glutes"], "seed")
    assert m[("hevy", "nordic hamstrings curls")][2:] == ("hamstrings_knee_flexion", [], "seed")
    assert m[("hevy", "lying leg curl (machine)")][2] == "hamstrings_knee_flexion"
    assert m[("hevy", "leg extension (machine)")] == ("squat", None, "quadriceps", [], "seed")


def test_every_title_the_stand_ins_produce_is_mapped_by_the_seed(tmp_path):
    cfg = config(tmp_path)
    sync_hevy(cfg, WORKOUTS)
    import_csv(cfg, "strong.csv", strong_csv(WORKOUTS, units="lb", unit_columns=True))
    import_csv(cfg, "hevy.csv", hevy_csv(WORKOUTS))
    build_warehouse(load_settings(cfg, env={}), END)
    db = tmp_path / "w.duckdb"
    titles = {t["title"] for t in hevy_templates()} | {ex["title"] for w in WORKOUTS for ex in w["exercises"]}
    assert len(titles) >= 14
    m = mapping(db)
    for source in ("hevy", "strong"):
        for title in titles:
            row = m[(source, title.strip().lower())]
            assert row[4] == "seed", (source, title, row)
            assert row[2] in (*MUSCLE_GROUPS, "unmapped")
    assert m[("hevy", "treadmill")][2] == "unmapped"  # known, but no resistance exercise
    assert m[("hevy", "squat (barbell)")][:3] == ("squat", "barbell_back_squat", "quadriceps")
    # nothing of the stand-ins left over for the person to map
    assert q(db, "SELECT count(*) FROM staging.app_exercises_unmapped")[0][0] == 0
    assert q(db, "SELECT count(*) FROM ops.builds WHERE test_failures = 0")[0][0] == 1


def test_a_user_row_overrides_the_seed_and_a_changed_file_rebuilds(tmp_path):
    cfg = config(tmp_path)
    settings = load_settings(cfg, env={})
    assert settings.exercise_map_path == tmp_path / "exercise_map.csv"
    assert build_warehouse(settings, END, if_changed=True).unchanged_since is None
    assert build_warehouse(settings, END, if_changed=True).unchanged_since is not None
    (tmp_path / "exercise_map.csv").write_text(
        f"{HEADER}\n"
        "strong,Romanian Deadlift (Barbell),leg_curl,,,,my RDLs are really leg curls\n"
        ",  Zercher Carry ,,,core,upper_pull,\n", encoding="utf-8")
    # a changed mapping file changes the fingerprint: the night rebuilds
    assert build_warehouse(settings, END, if_changed=True).unchanged_since is None
    m = mapping(tmp_path / "w.duckdb")
    assert m[("strong", "romanian deadlift (barbell)")] == ("leg_curl", None, "hamstrings_knee_flexion", [], "user")
    assert m[("hevy", "romanian deadlift (barbell)")][4] == "seed"  # the row was for Strong only
    assert m[("hevy", "zercher carry")] == (None, None, "core", ["upper_pull"], "user")


def test_a_bad_user_file_is_one_line_naming_file_and_line(tmp_path):
    cfg = config(tmp_path)
    (tmp_path / "exercise_map.csv").write_text(f"{HEADER}\n,Jefferson Curl,deadlift,,spine,,\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"exercise_map.csv line 2: primary_muscle 'spine' is not one of"):
        build_warehouse(load_settings(cfg, env={}), END)
    out = runlift("build", "--config", str(cfg), check=False)
    assert out.returncode != 0 and "exercise_map.csv line 2" in out.stderr and "Traceback" not in out.stderr


def test_hevy_template_muscles_when_no_mapping_knows_the_title(tmp_path):
    cfg = config(tmp_path)
    templates = hevy_templates() + [
        {"id": "AA000001", "title": "Cable Glute Curl Thing", "type": "weight_reps", "primary_muscle_group":
         "hamstrings", "secondary_muscle_groups": ["glutes", "calves"], "equipment": "cable", "is_custom": True},
        {"id": "AA000002", "title": "Jefferson Curl", "type": "weight_reps", "primary_muscle_group": "lower_back",
         "secondary_muscle_groups": ["hamstrings", "abdominals"], "equipment": "barbell", "is_custom": True},
        {"id": "AA000003", "title": "Neck Harness", "type": "weight_reps", "primary_muscle_group": "neck",
         "secondary_muscle_groups": [], "equipment": "other", "is_custom": True},
    ]
    sync_hevy(cfg, WORKOUTS[:2], templates)
    build_warehouse(load_settings(cfg, env={}), END)
    m = mapping(tmp_path / "w.duckdb")
    assert m[("hevy", "cable glute curl thing")] == (None, None, "hamstrings_knee_flexion", ["calves", "glutes"],
                                                     "hevy_template")
    assert m[("hevy", "jefferson curl")] == (None, None, "hamstrings_hip_hinge", ["core", "hamstrings_knee_flexion"],
                                             "hevy_template")
    assert m[("hevy", "neck harness")] == (None, None, "unmapped", [], "unmapped")
    assert ("strong", "cable glute curl thing") not in m  # Hevy's templates speak for Hevy only


def test_unknown_titles_are_counted_in_status_and_listed(tmp_path):
    cfg = config(tmp_path)
    odd = [dict(w, exercises=[dict(ex) for ex in w["exercises"]]) for w in WORKOUTS[:3]]
    for w in odd:
        w["exercises"][0] = dict(w["exercises"][0], title="Zombie Squat (Sandbag)")
    import_csv(cfg, "strong.csv", strong_csv(odd, unit_columns=True))
    settings = load_settings(cfg, env={})
    build_warehouse(settings, END)
    publish_warehouse(settings)
    n = sum(len(w["exercises"][0]["sets"]) for w in odd)
    assert q(tmp_path / "w.duckdb", "SELECT source, exercise_title, sets FROM staging.app_exercises_unmapped") == [
        ("strong", "Zombie Squat (Sandbag)", n)]
    for extra in ([], ["--working"]):
        out = runlift("status", "--config", str(cfg), *extra).stdout
        assert f"Lift apps: 1 exercise name unmapped ({n} sets): run `runlift status --unmapped`" in out
    listed = runlift("status", "--config", str(cfg), "--unmapped").stdout
    assert f"strong  Zombie Squat (Sandbag)  {n} sets" in listed
    assert str(settings.exercise_map_path) in listed
    # mapped by the person: no longer counted
    (tmp_path / "exercise_map.csv").write_text(f"{HEADER}\nstrong,Zombie Squat (Sandbag),squat,,,,\n",
                                               encoding="utf-8")
    build_warehouse(settings, END)
    publish_warehouse(settings)
    assert "Lift apps" not in runlift("status", "--config", str(cfg)).stdout
    assert "every exercise name is mapped" in runlift("status", "--config", str(cfg), "--unmapped").stdout


def test_the_seed_is_valid_and_covers_the_common_lifts():
    rows = app_exercises.parse()
    assert len(rows) >= 300
    keys = {r.key for r in rows}
    for title in ("Squat (Barbell)", "Romanian Deadlift (Dumbbell)", "Lying Leg Curl (Machine)",
                  "Nordic Hamstrings Curls", "Bench Press (Barbell)", "Pull Up", "Hip Thrust (Barbell)",
                  "Overhead Press (Barbell)", "Lat Pulldown (Cable)", "Leg Press (Machine)", "Deadlift (Trap bar)",
                  "Seated Leg Curl (Machine)", "Bulgarian Split Squat", "Good Morning (Barbell)"):
        assert title.lower() in keys, title
    with pytest.raises(ValueError, match="line 2: exercise_name 'nordic' is not an exercise of category 'leg_curl'"):
        app_exercises.parse(f"{HEADER}\n,Nordic,leg_curl,nordic,,,\n", where="x.csv")
