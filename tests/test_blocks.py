"""Coach views: marts.exercise_progress, marts.strength_balance and marts.block_summary, and the
training blocks of the settings (athletes.<id>.blocks).

The marts are checked on hand-built raw rows (``marts_fixtures.Warehouse``) against values worked
out by hand from docs/metrics.md (*Exercise progress and strength balance*, *Training blocks*):
athlete ``a`` has two configured blocks, a base block of runs only (no strength work) and a build
block with squats, leg curls, Nordics (leg curls at body weight, no exercise name) and sets the watch
could not tell (``unknown``); athlete ``n`` has no blocks configured (12-week blocks).
"""

from __future__ import annotations

import re
import statistics
from dataclasses import replace
from pathlib import Path

import pytest

from runlift.flows.build import athlete_params
from runlift.flows.settings import SettingsError, load_settings
from runlift.warehouse.build import MARTS

from marts_fixtures import Warehouse, athlete, d, knee_load_kbw, t

approx = pytest.approx
LIFT = {"sport": "training", "sub_sport": "strength_training", "distance_m": None, "moving_s": 2400}
BLOCKS_A = (("base", d("2024-01-01"), d("2024-01-14"), None),
            ("build", d("2024-01-15"), d("2024-02-11"), "Half"),
            ("next", d("2024-03-01"), d("2024-03-31"), None))  # not started by the as-of date: no row


def _name(w: Warehouse, key: str, set_indexes: range, name: str) -> None:
    """Give sets of the workout ``key`` an exercise name (the fixture writes categories only)."""
    w.con.execute("UPDATE raw.fit_sets SET subtype_names = [?] "
                  "WHERE file_sha256 LIKE ? AND list_contains(?, set_index)",
                  [name, key.split(":")[1] + "%", list(set_indexes)])


@pytest.fixture(scope="module")
def coach_wh(tmp_path_factory):
    w = Warehouse(tmp_path_factory.mktemp("blocks") / "w.duckdb")
    # athlete a, base block (Mon 2024-01-01 .. Sun 01-14): runs only; the data start on Tue 01-02
    for day, km in (("2024-01-02", 10), ("2024-01-07", 18), ("2024-01-09", 8), ("2024-01-14", 12)):
        w.fit("a", t(f"{day} 07:00"), distance_m=km * 1000.0)
    # build block (01-15 .. 02-11, goal race Half on 02-11): runs
    for day, km in (("2024-01-16", 10), ("2024-01-21", 16), ("2024-01-28", 14), ("2024-02-04", 20),
                    ("2024-02-11", 21.1)):
        w.fit("a", t(f"{day} 07:00"), distance_m=km * 1000.0)
    # and two gym sessions
    k1 = w.fit("a", t("2024-01-17 18:00"), **LIFT, sets=[
        ("squat", 5, 100.0), ("squat", 5, 100.0), ("squat", 5, 100.0),
        ("leg_curl", 10, 40.0), ("leg_curl", 10, 40.0), ("leg_curl", 10, 40.0),
        ("leg_curl", 5, 0.0), ("leg_curl", 5, 0.0),  # Nordics: a leg curl at body weight, no exercise name
        ("unknown", 10, 20.0)])  # the watch could not tell
    _name(w, k1, range(0, 3), "barbell_back_squat")
    _name(w, k1, range(3, 6), "weighted_leg_curl")
    k2 = w.fit("a", t("2024-01-24 18:00"), **LIFT, sets=[
        ("squat", 5, 110.0), ("squat", 5, 110.0), ("squat", 5, 110.0),
        ("leg_curl", 8, 45.0), ("leg_curl", 8, 45.0), ("leg_curl", 8, 45.0),
        ("unknown", 8, 0.0)])
    _name(w, k2, range(0, 3), "barbell_back_squat")
    _name(w, k2, range(3, 6), "weighted_leg_curl")
    # athlete n, no blocks configured: 12-week blocks ending on the Sunday of the latest workout's week
    for day, km in (("2023-10-04", 10), ("2024-01-10", 6), ("2024-02-07", 5)):
        w.fit("n", t(f"{day} 07:00"), distance_m=km * 1000.0)
    a = replace(athlete("a", races=[(d("2024-02-11"), "Half", 21100.0, None)]), blocks=BLOCKS_A)
    w.build(d("2024-02-11"), [a, athlete("n")])
    yield w
    w.close()


def _progress(w: Warehouse, athlete_id: str) -> dict[tuple[str, str], dict]:
    rows = w.rows("SELECT * FROM marts.exercise_progress WHERE athlete_id = ?", [athlete_id])
    return {(str(r["week_start"]), r["exercise"]): r for r in rows}


PROGRESS_COLS = ("exercise_category", "primary_muscle", "training_days", "sets", "hard_sets", "repetitions",
                 "volume_load_kg", "top_set_weight_kg", "top_set_reps", "best_e1rm_kg", "best_e1rm_90d_kg",
                 "e1rm_change_pct")


def test_exercise_progress_weekly_bests_top_sets_volume_and_hard_sets(coach_wh):
    got = {k: tuple(r[c] for c in PROGRESS_COLS) for k, r in _progress(coach_wh, "a").items()}
    squat1, squat2 = 100 * (1 + 5 / 30), 110 * (1 + 5 / 30)  # Epley
    curl1, curl2 = 40 * (1 + 10 / 30), 45 * (1 + 8 / 30)
    assert got == {
        # every loaded set at its own best: 0 reps in reserve, hard
        ("2024-01-15", "barbell_back_squat"): ("squat", "quadriceps", 1, 3, 3, 15, 1500.0, 100.0, 5,
                                               approx(squat1), approx(squat1), None),
        ("2024-01-22", "barbell_back_squat"): ("squat", "quadriceps", 1, 3, 3, 15, 1650.0, 110.0, 5,
                                               approx(squat2), approx(squat2), approx((squat2 / squat1 - 1) * 100)),
        ("2024-01-15", "weighted_leg_curl"): ("leg_curl", "hamstrings_knee_flexion", 1, 3, 3, 30, 1200.0, 40.0, 10,
                                              approx(curl1), approx(curl1), None),
        ("2024-01-22", "weighted_leg_curl"): ("leg_curl", "hamstrings_knee_flexion", 1, 3, 3, 24, 1080.0, 45.0, 8,
                                              approx(curl2), approx(curl2), approx((curl2 / curl1 - 1) * 100)),
        # Nordics: the category's exercise (no name), body weight: no e1RM, hard by repetitions
        ("2024-01-15", "leg_curl"): ("leg_curl", "hamstrings_knee_flexion", 1, 2, 2, 10, 0.0, 0.0, 5,
                                     None, None, None),
        # what the watch could not tell: counted, never a best, never hard
        ("2024-01-15", "unknown"): ("unknown", "unmapped", 1, 1, 0, 10, 200.0, 20.0, 10, None, None, None),
        ("2024-01-22", "unknown"): ("unknown", "unmapped", 1, 1, 0, 8, 0.0, 0.0, 8, None, None, None),
    }
    assert _progress(coach_wh, "n") == {}


def test_strength_balance_flexion_next_to_extension_and_their_ratio(coach_wh):
    rows = coach_wh.rows("SELECT * FROM marts.strength_balance WHERE athlete_id = 'a' ORDER BY week_start")
    cols = ("knee_flexion_exercise", "knee_flexion_e1rm_kg", "knee_extension_exercise", "knee_extension_e1rm_kg",
            "flexion_extension_ratio", "flexion_extension_ratio_90d")
    squat1, squat2 = 100 * (1 + 5 / 30), 110 * (1 + 5 / 30)
    curl1, curl2 = 40 * (1 + 10 / 30), 45 * (1 + 8 / 30)
    assert [(str(r["week_start"]), *(r[c] for c in cols)) for r in rows] == [
        # the Nordics (no e1RM) do not stand for knee flexion
        ("2024-01-15", "weighted_leg_curl", approx(curl1), "barbell_back_squat", approx(squat1),
         approx(curl1 / squat1), approx(curl1 / squat1)),
        ("2024-01-22", "weighted_leg_curl", approx(curl2), "barbell_back_squat", approx(squat2),
         approx(curl2 / squat2), approx(curl2 / squat2)),
    ]


def _blocks(w: Warehouse, athlete_id: str) -> dict[str, dict]:
    rows = w.rows("SELECT * FROM marts.block_summary WHERE athlete_id = ? ORDER BY start_date", [athlete_id])
    return {r["block_name"]: r for r in rows}


def test_block_summary_of_configured_blocks(coach_wh):
    blocks = _blocks(coach_wh, "a")
    assert list(blocks) == ["base", "build"]  # "next" starts after the as-of date
    base, build = blocks["base"], blocks["build"]
    # base: 01-02 (first workout) .. 01-14, runs only
    assert {k: base[k] for k in ("block_source", "blocks_ago", "start_date", "end_date", "race_name", "race_date",
                                 "days", "is_complete", "runs", "runs_16km_plus", "longest_run_m", "whole_weeks",
                                 "weekly_run_km_cv", "strength_sessions", "weakest_muscle_group",
                                 "posterior_anterior_ratio", "flags", "flags_by_kind")} == {
        "block_source": "settings", "blocks_ago": 1, "start_date": d("2024-01-01"), "end_date": d("2024-01-14"),
        "race_name": None, "race_date": None, "days": 13, "is_complete": True, "runs": 4, "runs_16km_plus": 1,
        "longest_run_m": 18000.0, "whole_weeks": 1, "weekly_run_km_cv": None, "strength_sessions": 0,
        "weakest_muscle_group": None, "posterior_anterior_ratio": None, "flags": 0, "flags_by_kind": {}}
    assert base["run_distance_km"] == approx(48.0)
    assert base["avg_weekly_run_km"] == approx(48.0 / (13 / 7))
    # a block without strength work: no hard sets anywhere (0, not missing), no strength share
    assert [base[c] for c in base if c.startswith("hard_sets_per_week_")] == [0.0] * 9
    assert base["strength_share_of_session_load"] == 0.0
    assert base["strength_knee_load_kbw_per_week"] == 0.0
    # impact: no strides or cadence (distance / 1.0 m steps), no measured run (2.5 BW)
    assert base["run_impact_kbw_per_week"] == approx(48000 * 2.5 / 1000 / (13 / 7))

    assert {k: build[k] for k in ("blocks_ago", "race_name", "race_date", "days", "is_complete", "runs",
                                  "runs_16km_plus", "longest_run_m", "whole_weeks", "strength_sessions",
                                  "weakest_muscle_group", "weakest_hard_sets_per_week", "weakest_usual_low",
                                  "weakest_usual_high", "flags", "flags_warning_or_alert", "flags_by_kind")} == {
        "blocks_ago": 0, "race_name": "Half", "race_date": d("2024-02-11"), "days": 28, "is_complete": True,
        # long runs: 16 km or more (16, 20, 21.1)
        "runs": 5, "runs_16km_plus": 3, "longest_run_m": 21100.0, "whole_weeks": 4, "strength_sessions": 2,
        # 0 hard sets against 4-10 a week: the first of the lower-body groups at 0
        "weakest_muscle_group": "hamstrings_hip_hinge", "weakest_hard_sets_per_week": 0.0,
        "weakest_usual_low": 4, "weakest_usual_high": 10,
        # 20 km on 02-04 is 111 % of the 18 km of 01-07; the week to 02-04 is 20 km after 14 km (+43 %)
        "flags": 2, "flags_warning_or_alert": 1, "flags_by_kind": {"long_run_spike": 1, "weekly_distance_ramp": 1}}
    weekly_km = [10 + 16, 14, 20, 21.1]  # 7-day windows from 01-15
    assert build["run_distance_km"] == approx(81.1)
    assert build["avg_weekly_run_km"] == approx(81.1 / 4)
    assert build["weekly_run_km_cv"] == approx(statistics.pstdev(weekly_km) / statistics.fmean(weekly_km))
    assert build["strength_sessions_per_week"] == approx(0.5)
    # hard sets: squats 6 (quadriceps, glutes secondary: half), leg curls 6 + Nordics 2 (knee flexion)
    assert {c.removeprefix("hard_sets_per_week_"): build[c] for c in build if c.startswith("hard_sets_per_week_")} == {
        "quadriceps": approx(6 / 4), "hamstrings_knee_flexion": approx(8 / 4), "hamstrings_hip_hinge": 0.0,
        "glutes": approx(3 / 4), "calves": 0.0, "hip_stability": 0.0, "core": 0.0, "upper_push": 0.0,
        "upper_pull": 0.0}
    knee = (knee_load_kbw(15, 3.0, 100.0, 70.0) + knee_load_kbw(15, 3.0, 110.0, 70.0)
            + knee_load_kbw(30, 0.5, 40.0, 70.0) + knee_load_kbw(10, 0.5, 0.0, 70.0)
            + knee_load_kbw(24, 0.5, 45.0, 70.0))
    assert build["strength_knee_load_kbw_per_week"] == approx(knee / 4)
    assert build["run_impact_kbw_per_week"] == approx(81100 * 2.5 / 1000 / 4)
    # set effort: every working set at 0 reps in reserve, RPE 10 x 40 min; runs imputed RPE 5 x 60 min
    assert build["strength_share_of_session_load"] == approx(800 / (800 + 5 * 300))
    # posterior (leg curls, Nordics) 8 : anterior (squats) 6
    assert build["posterior_anterior_ratio"] == approx(8 / 6)


def test_block_summary_without_configured_blocks_uses_12_week_blocks(coach_wh):
    blocks = _blocks(coach_wh, "n")
    cols = ("block_source", "blocks_ago", "start_date", "end_date", "days", "runs", "run_distance_km",
            "strength_sessions", "weakest_muscle_group")
    assert [(name, *(r[c] for c in cols)) for name, r in blocks.items()] == [
        # from the week of the first workout (Wed 2023-10-04): its days in the data only
        ("2023-08-28 to 2023-11-19", "auto_12_weeks", 1, d("2023-08-28"), d("2023-11-19"), 47, 1, approx(10.0), 0,
         None),
        # the last ends on the Sunday of the latest workout's week (Wed 2024-02-07)
        ("2023-11-20 to 2024-02-11", "auto_12_weeks", 0, d("2023-11-20"), d("2024-02-11"), 84, 2, approx(11.0), 0,
         None),
    ]


def test_coach_marts_are_listed_with_comments_and_keys(coach_wh):
    for mart in ("exercise_progress", "strength_balance", "block_summary"):
        assert mart in MARTS
        cols = coach_wh.rows("SELECT column_name, comment FROM duckdb_columns() WHERE schema_name = 'marts' "
                             "AND table_name = ?", [mart])
        assert cols and [c["column_name"] for c in cols if not c["comment"]] == []
        table = coach_wh.one("SELECT comment FROM duckdb_tables() WHERE schema_name = 'marts' AND table_name = ?",
                             [mart])
        assert table["comment"]


# --- the settings ----------------------------------------------------------------------------------

def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_blocks_setting_reaches_the_build(tmp_path):
    cfg = _write(tmp_path / "r.toml", """
[athletes.ana]
races = [{ date = 2026-04-12, name = "Half", distance_km = 21.1 }]

[[athletes.ana.blocks]]
name = "Winter base"
start = 2025-10-13
end = 2026-01-04

[[athletes.ana.blocks]]
name = "Spring half"
start = 2026-01-05
end = 2026-04-12
race = "Half"

[athletes.bo]
""")
    s = load_settings(cfg, env={"RUNLIFT_HOME": str(tmp_path)}, require_athlete=False)
    params = {p.athlete_id: p for p in athlete_params(s)}
    assert params["ana"].blocks == (("Winter base", d("2025-10-13"), d("2026-01-04"), None),
                                    ("Spring half", d("2026-01-05"), d("2026-04-12"), "Half"))
    assert params["bo"].blocks == ()


@pytest.mark.parametrize("text, message", [
    ('[[athletes.me.blocks]]\nname = "A"\nstart = 2026-01-05\nend = 2026-01-01\n',
     "setting `athletes.me.blocks[0]`: the block 'A' ends (2026-01-01) before it starts (2026-01-05)"),
    ('[[athletes.me.blocks]]\nname = "A"\nstart = "January"\nend = 2026-01-01\n',
     "setting `athletes.me.blocks[0].start`: 'January' is not a date"),
    ('[[athletes.me.blocks]]\nstart = 2026-01-01\nend = 2026-02-01\n', "setting `athletes.me.blocks[0].name`"),
    ('[[athletes.me.blocks]]\nname = "A"\nstart = 2026-01-01\nend = 2026-02-01\nrace = "Half"\n',
     "setting `athletes.me.blocks[0].race`: 'Half' is not one of the athlete's races (`athletes.me.races`: none)"),
    ('[[athletes.me.blocks]]\nname = "A"\nstart = 2026-01-01\nend = 2026-02-01\n'
     '[[athletes.me.blocks]]\nname = "B"\nstart = 2026-02-01\nend = 2026-03-01\n',
     "setting `athletes.me.blocks[1]`: the block 'B' (2026-02-01 to 2026-03-01) overlaps 'A'"),
    ('[[athletes.me.blocks]]\nname = "A"\nstart = 2026-01-01\nend = 2026-02-01\n'
     '[[athletes.me.blocks]]\nname = "A"\nstart = 2026-03-01\nend = 2026-04-01\n',
     "setting `athletes.me.blocks[1]`: the block name 'A' is used twice"),
    # unknown names are rejected by check_names, with the closest known one
    ('[[athletes.me.blocks]]\nname = "A"\nstrat = 2026-01-01\nend = 2026-02-01\n',
     "unknown setting `athletes.me.blocks[0].strat`"),
    ('[athletes.me]\nblock = []\n', "did you mean `athletes.me.blocks`?"),
])
def test_invalid_blocks_are_reported_by_name(tmp_path, text, message):
    with pytest.raises(SettingsError, match=re.escape(message)):
        load_settings(_write(tmp_path / "r.toml", text), env={"RUNLIFT_HOME": str(tmp_path)})


# --- the nightly summary ---------------------------------------------------------------------------

def test_night_summary_compares_this_block_with_the_previous_one(coach_wh, tmp_path):
    import datetime as dt

    from runlift.flows import night
    from runlift.flows.settings import load_settings
    from runlift.warehouse.publish import publish

    published = tmp_path / "p.duckdb"
    publish(coach_wh.con, published)
    cfg = _write(tmp_path / "r.toml", "[athletes.a]\n[athletes.n]\n")
    settings = load_settings(cfg, env={"RUNLIFT_HOME": str(tmp_path)}, require_athlete=False)
    report = night.NightReport(started_at=dt.datetime(2024, 2, 12, 3, 30), as_of=d("2024-02-11"),
                               athletes=["a", "n"], published=published)
    md = night._summary_markdown(settings, report)
    section = md.split("## This block against the previous one", 1)[1]
    a_part, n_part = section.split("**n**")
    # athlete a: base (runs only) then build, side by side
    assert "| | base | build |" in a_part
    assert "| running per week | 25.8 km | 20.3 km |" in a_part
    assert "| running | 48.0 km, 4 runs, 1 long | 81.1 km, 5 runs, 3 long |" in a_part
    assert "| hard sets per week: hamstrings (knee flexion) | 0.0 | 2.0 |" in a_part
    assert "| hard sets per week: quadriceps | 0.0 | 1.5 |" in a_part
    assert f"| running impact per week | {48 * 2.5 / (13 / 7):.0f} kBW | {81.1 * 2.5 / 4:.0f} kBW |" in a_part
    assert ("Weakest muscle group: hamstrings (hip hinge), 0.0 hard sets a week against a usual 4-10"
            in a_part)
    # athlete n: no strength work in the current block
    assert "| | 2023-08-28 to 2023-11-19 | 2023-11-20 to 2024-02-11 |" in n_part
    assert "Weakest muscle group: no strength session in this block." in n_part
