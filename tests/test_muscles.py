"""Muscle groups: the seed warehouse/seeds/exercise_muscles.csv and marts.weekly_muscle_volume.

The seed must cover every exercise category and exercise name of Garmin's FIT profile (mapped or
deliberately ``unmapped``), with muscle groups from the documented list only; the mart is checked on
hand-built raw rows (``marts_fixtures.Warehouse``) against values worked out by hand from
docs/metrics.md (*Muscle groups and weekly volume*).
"""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import pytest
from garmin_fit_sdk import Profile

from runlift.warehouse import exercise_muscles as em
from runlift.warehouse.build import MARTS

from marts_fixtures import Warehouse, athlete, d, t

ROOT = Path(__file__).resolve().parents[1]
approx = pytest.approx


def _profile_keys() -> set[tuple[str, str]]:
    types = Profile["types"]
    keys = set()
    for category in types["exercise_category"].values():
        keys.add((category, ""))
        keys |= {(category, name) for name in types.get(f"{category}_exercise_name", {}).values()}
    return keys


def _seed() -> dict[tuple[str, str], em.ExerciseMuscles]:
    return {(r.exercise_category, r.exercise_name or ""): r for r in em.load_seed()}


# --- the seed ---------------------------------------------------------------------------------------

def test_seed_has_a_row_for_every_profile_category_and_exercise_name():
    seed = _seed()
    missing = sorted(_profile_keys() - set(seed))
    assert missing == [], f"{len(missing)} profile names without a row, e.g. {missing[:5]}"
    # and nothing that is not in the profile
    assert sorted(set(seed) - _profile_keys()) == []
    assert len(seed) == len(_profile_keys())


def test_seed_muscle_groups_are_the_documented_ones():
    rows = em.load_seed()
    used = {r.primary_muscle for r in rows} | {s for r in rows for s in r.secondary_muscles}
    assert used == set(em.MUSCLE_GROUPS) | {em.UNMAPPED}
    docs = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    for group in (*em.MUSCLE_GROUPS, em.UNMAPPED):
        assert f"`{group}`" in docs, group
    # every row says why, unmapped ones especially
    assert [r for r in rows if not r.note] == []


def test_seed_has_no_duplicate_keys_and_the_loader_rejects_them():
    with (ROOT / "warehouse" / "seeds" / "exercise_muscles.csv").open(encoding="utf-8") as f:
        keys = [(r["exercise_category"], r["exercise_name"]) for r in csv.DictReader(f)]
    assert len(keys) == len(set(keys))
    header = ",".join(em.COLUMNS)
    with pytest.raises(ValueError, match="line 4: squat goblet_squat is listed twice"):
        em.load_seed(f"{header}\nsquat,,quadriceps,glutes,x\nsquat,goblet_squat,quadriceps,,x\n"
                     "squat,goblet_squat,glutes,,x\n")


@pytest.mark.parametrize("text, message", [
    ("squat,,quads,,x\n", "line 2: primary_muscle 'quads' is not one of"),
    ("squat,,quadriceps,glutes;hams,x\n", "line 2: secondary muscle 'hams' is not one of"),
    ("squat,,quadriceps,quadriceps,x\n", "line 2: a muscle group is listed twice"),
    ("squat,,unmapped,glutes,x\n", "line 2: an unmapped exercise has no secondary muscles"),
    ("squat,,quadriceps,,x\nsquat,goblet_squat,quadriceps,x\n", "line 3: 4 fields, expected 5"),
    ("squat,goblet_squat,quadriceps,,x\n", "categories without a default row .*: squat"),
])
def test_seed_errors_name_the_line(text, message):
    with pytest.raises(ValueError, match=message):
        em.load_seed(",".join(em.COLUMNS) + "\n" + text)


def test_seed_is_what_the_generator_writes():
    path = ROOT / "warehouse" / "seeds" / "make_exercise_muscles.py"
    spec = importlib.util.spec_from_file_location("make_exercise_muscles", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    with (ROOT / "warehouse" / "seeds" / "exercise_muscles.csv").open(encoding="utf-8") as f:
        assert list(csv.reader(f))[1:] == mod.rows()


# what a runner who lifts does, checked by hand: (category, name) -> (primary, secondaries)
RUNNER_EXERCISES = {
    ("squat", ""): ("quadriceps", ("glutes",)),
    ("squat", "barbell_back_squat"): ("quadriceps", ("glutes",)),
    ("squat", "goblet_squat"): ("quadriceps", ("glutes",)),
    ("squat", "leg_press"): ("quadriceps", ("glutes",)),
    ("squat", "dumbbell_step_up"): ("quadriceps", ("glutes",)),
    ("squat", "body_weight_wall_squat"): ("quadriceps", ("glutes",)),
    ("squat", "pistol_squat"): ("quadriceps", ("glutes",)),
    ("lunge", "walking_lunge"): ("quadriceps", ("glutes",)),
    ("lunge", "dumbbell_bulgarian_split_squat"): ("quadriceps", ("glutes",)),
    ("lunge", "side_lunge"): ("quadriceps", ("glutes", "hip_stability")),
    ("banded_exercises", "leg_extension"): ("quadriceps", ()),
    ("leg_curl", ""): ("hamstrings_knee_flexion", ()),
    ("leg_curl", "leg_curl"): ("hamstrings_knee_flexion", ()),
    ("leg_curl", "sliding_leg_curl"): ("hamstrings_knee_flexion", ()),
    ("leg_curl", "swiss_ball_hip_raise_and_leg_curl"): ("hamstrings_knee_flexion", ("glutes",)),
    ("banded_exercises", "hamstring_curls"): ("hamstrings_knee_flexion", ()),
    ("suspension", "hamstring_curl"): ("hamstrings_knee_flexion", ()),
    ("leg_curl", "good_morning"): ("hamstrings_hip_hinge", ("glutes",)),
    ("deadlift", ""): ("hamstrings_hip_hinge", ("glutes",)),
    ("deadlift", "romanian_deadlift"): ("hamstrings_hip_hinge", ("glutes",)),
    ("deadlift", "single_leg_romanian_deadlift_with_dumbbell"): ("hamstrings_hip_hinge", ("glutes", "hip_stability")),
    ("deadlift", "barbell_deadlift"): ("hamstrings_hip_hinge", ("glutes", "quadriceps")),
    ("deadlift", "trap_bar_deadlift"): ("hamstrings_hip_hinge", ("glutes", "quadriceps")),
    ("hip_swing", ""): ("hamstrings_hip_hinge", ("glutes",)),
    ("hyperextension", "swiss_ball_back_extension"): ("hamstrings_hip_hinge", ("glutes", "core")),
    ("hip_raise", "barbell_hip_thrust_with_bench"): ("glutes", ("hamstrings_hip_hinge",)),
    ("hip_raise", "single_leg_hip_raise"): ("glutes", ("hamstrings_hip_hinge",)),
    ("banded_exercises", "glute_bridge"): ("glutes", ("hamstrings_hip_hinge",)),
    ("calf_raise", ""): ("calves", ()),
    ("calf_raise", "single_leg_standing_calf_raise"): ("calves", ()),
    ("calf_raise", "seated_calf_raise"): ("calves", ()),
    ("calf_raise", "single_leg_decline_push_up"): ("upper_push", ()),
    ("hip_stability", "sliding_hip_adduction"): ("hip_stability", ()),
    ("hip_stability", "standing_cable_hip_abduction"): ("hip_stability", ()),
    ("hip_stability", "lateral_walks_with_band_at_ankles"): ("hip_stability", ()),
    ("banded_exercises", "clam_shells"): ("hip_stability", ()),
    ("banded_exercises", "leg_adduction"): ("hip_stability", ()),
    ("plank", ""): ("core", ()),
    ("plank", "side_plank"): ("core", ()),
    ("hip_stability", "dead_bug"): ("core", ()),
    ("push_up", "push_up"): ("upper_push", ()),
    ("bench_press", "dumbbell_bench_press"): ("upper_push", ()),
    ("shoulder_press", "overhead_dumbbell_press"): ("upper_push", ()),
    ("row", "dumbbell_row"): ("upper_pull", ()),
    ("row", "inverted_row"): ("upper_pull", ()),
    ("pull_up", "pull_up"): ("upper_pull", ()),
    ("pull_up", "lat_pulldown"): ("upper_pull", ()),
    ("unknown", ""): ("unmapped", ()),
    ("cardio", "jump_rope"): ("unmapped", ()),
    ("warm_up", "walking_high_knees"): ("unmapped", ()),
    ("run", "run"): ("unmapped", ()),
    ("bike", "bike"): ("unmapped", ()),
    ("warm_up", "stretch_hamstring"): ("unmapped", ()),
}


@pytest.mark.parametrize("key", sorted(RUNNER_EXERCISES), ids=lambda k: "/".join(k).rstrip("/"))
def test_runner_exercises_mapped_as_reviewed(key):
    row = _seed()[key]
    assert (row.primary_muscle, row.secondary_muscles) == RUNNER_EXERCISES[key]


# --- marts.weekly_muscle_volume ---------------------------------------------------------------------

def _name(w: Warehouse, key: str, category: str, name: str) -> None:
    """Name the sets of ``category`` of the workout ``key`` ``name`` (the fixture writes categories only)."""
    w.con.execute("UPDATE raw.fit_sets SET subtype_names = [?] WHERE category = ? AND file_sha256 LIKE ?",
                  [name, category, key.split(":")[1] + "%"])


@pytest.fixture(scope="module")
def muscle_wh(tmp_path_factory):
    w = Warehouse(tmp_path_factory.mktemp("muscles") / "w.duckdb")
    lift = {"sport": "training", "sub_sport": "strength_training", "distance_m": None, "moving_s": 2400}
    # week of Mon 2024-01-08: 3 sets of Romanian deadlift (the third light: not hard), 3 sets of leg curls
    # by category only, 2 sets the watch could not tell, a 40 s plank
    k1 = w.fit("m", t("2024-01-10 18:00"), **lift, sets=[("deadlift", 5, 100.0), ("deadlift", 5, 100.0),
                                                    ("deadlift", 5, 60.0), ("leg_curl", 10, 40.0),
                                                    ("leg_curl", 10, 40.0), ("leg_curl", 10, 40.0),
                                                    ("unknown", 10, 0.0), ("unknown", 10, 0.0),
                                                    ("plank", 0, 0.0)])
    _name(w, k1, "deadlift", "romanian_deadlift")
    # Sunday 2024-01-14 still belongs to that week; a 30 s side plank
    k2 = w.fit("m", t("2024-01-14 10:00"), **lift, sets=[("plank", 1, 0.0)])
    _name(w, k2, "plank", "side_plank")
    w.con.execute("UPDATE raw.fit_sets SET duration_s = 30 WHERE subtype_names = ['side_plank']")
    # week of Mon 2024-01-15: a conventional deadlift (its own row: quadriceps secondary), a squat whose name
    # number the profile does not know (the category's default), a category runlift has never seen
    k3 = w.fit("m", t("2024-01-15 18:00"), **lift, sets=[("deadlift", 5, 120.0), ("squat", 5, 80.0),
                                                    ("category_77", 8, 10.0)])
    _name(w, k3, "deadlift", "barbell_deadlift")
    _name(w, k3, "squat", "squat_999")
    # another athlete, same week: kept apart
    w.fit("o", t("2024-01-10 18:00"), **lift, sets=[("leg_curl", 10, 40.0)])
    w.build(d("2024-01-21"), [athlete("m"), athlete("o")])
    yield w
    w.close()


def _volume(w: Warehouse, athlete_id: str) -> dict[tuple, dict]:
    rows = w.rows("SELECT * FROM marts.weekly_muscle_volume WHERE athlete_id = ? ORDER BY week_start, muscle_group",
                  [athlete_id])
    return {(str(r["week_start"]), r["muscle_group"]): r for r in rows}


COLS = ("sets", "hard_sets", "direct_sets", "direct_hard_sets", "indirect_sets", "indirect_hard_sets",
        "volume_load_kg", "timed_holds", "hold_s")


def test_weekly_muscle_volume_fractional_sets_hard_sets_volume_and_holds(muscle_wh):
    got = {k: tuple(r[c] for c in COLS) for k, r in _volume(muscle_wh, "m").items()}
    assert got == {
        # RDL: 100x5, 100x5, 60x5 against a best e1RM of 100 x (1 + 5/30): 0, 0 and 23.3 reps in reserve
        ("2024-01-08", "hamstrings_hip_hinge"): (3.0, 2.0, 3, 2, 0, 0, 1300.0, 0, None),
        # glutes: secondary of the RDL, half of each set and of its volume load
        ("2024-01-08", "glutes"): (1.5, 1.0, 0, 0, 3, 2, 650.0, 0, None),
        ("2024-01-08", "hamstrings_knee_flexion"): (3.0, 3.0, 3, 3, 0, 0, 1200.0, 0, None),
        # plank (40 s) and side plank on Sunday (30 s): timed holds, each its own exercise's longest: both hard
        ("2024-01-08", "core"): (2.0, 2.0, 2, 2, 0, 0, 0.0, 2, 70.0),
        # the two sets the watch could not tell: counted, for no muscle group
        ("2024-01-08", "unmapped"): (2.0, 0.0, 2, 0, 0, 0, 0.0, 0, None),
        # barbell_deadlift's own row: glutes and quadriceps secondary
        ("2024-01-15", "hamstrings_hip_hinge"): (1.0, 1.0, 1, 1, 0, 0, 600.0, 0, None),
        # squat_999 falls back to the squat category: quadriceps, glutes secondary
        ("2024-01-15", "quadriceps"): (1.5, 1.5, 1, 1, 1, 1, 400.0 + 300.0, 0, None),
        ("2024-01-15", "glutes"): (1.0, 1.0, 0, 0, 2, 2, 300.0 + 200.0, 0, None),
        # a category the seed does not know
        ("2024-01-15", "unmapped"): (1.0, 0.0, 1, 0, 0, 0, 80.0, 0, None),
    }
    other = _volume(muscle_wh, "o")
    assert {k: (r["sets"], r["volume_load_kg"]) for k, r in other.items()} == {
        ("2024-01-08", "hamstrings_knee_flexion"): (1.0, 400.0)}


def test_weekly_muscle_volume_iso_weeks_and_direct_sets_add_up(muscle_wh):
    rows = _volume(muscle_wh, "m")
    assert {(r["iso_year"], r["iso_week"]) for (wk, _), r in rows.items() if wk == "2024-01-08"} == {(2024, 2)}
    # every set counted once as a direct set (unmapped included): nothing lost, nothing doubled
    direct = muscle_wh.one("SELECT sum(direct_sets) AS n FROM marts.weekly_muscle_volume WHERE athlete_id = 'm'")
    sets = muscle_wh.one("SELECT count(*) AS n FROM marts.fct_strength_sets WHERE athlete_id = 'm'")
    assert direct["n"] == sets["n"] == 13


def test_weekly_muscle_volume_is_a_listed_mart_with_comments(muscle_wh):
    assert "weekly_muscle_volume" in MARTS
    cols = muscle_wh.rows("SELECT column_name, comment FROM duckdb_columns() WHERE schema_name = 'marts' "
                          "AND table_name = 'weekly_muscle_volume'")
    assert [c["column_name"] for c in cols if not c["comment"]] == []
    assert len(cols) == 14
    seeded = muscle_wh.one("SELECT count(*) AS n FROM staging.exercise_muscles")
    assert seeded["n"] == len(em.load_seed()) > 1800
