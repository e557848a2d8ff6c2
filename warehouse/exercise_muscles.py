"""The muscle-group seed: every Garmin exercise category and exercise name to the muscle groups it trains.

``warehouse/seeds/exercise_muscles.csv`` (shipped with the package, generated from Garmin's FIT
profile by ``warehouse/seeds/make_exercise_muscles.py`` and reviewed by hand) has one row per
exercise category (``exercise_name`` empty: the default for names without a row of their own) and
one per exercise name of the category, with:

- ``primary_muscle``: the muscle group the exercise mainly trains, one of :data:`MUSCLE_GROUPS`, or
  ``unmapped`` for what is not a resistance exercise or cannot be told (cardio, warm-up, running,
  yoga, Garmin's ``unknown``);
- ``secondary_muscles``: further groups it trains, ``;``-separated (each counted as half a set by
  ``marts.weekly_muscle_volume``, docs/metrics.md);
- ``note``: why.

Every build loads it into ``staging.exercise_muscles``; ``marts.weekly_muscle_volume`` reads it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources

import duckdb
import pyarrow as pa

MUSCLE_GROUPS = ("quadriceps", "hamstrings_knee_flexion", "hamstrings_hip_hinge", "glutes", "calves",
                 "hip_stability", "core", "upper_push", "upper_pull")
UNMAPPED = "unmapped"
COLUMNS = ("exercise_category", "exercise_name", "primary_muscle", "secondary_muscles", "note")
_FILE = "warehouse/seeds/exercise_muscles.csv"


@dataclass(frozen=True)
class ExerciseMuscles:
    exercise_category: str
    exercise_name: str | None  # None: the category's default
    primary_muscle: str          # a muscle group or unmapped
    secondary_muscles: tuple[str, ...]
    note: str


def seed_text() -> str:
    return resources.files("runlift.warehouse").joinpath("seeds", "exercise_muscles.csv").read_text(encoding="utf-8")


def load_seed(text: str | None = None) -> list[ExerciseMuscles]:
    """The seed's rows (``text``: the CSV, default the shipped one); raises ValueError naming the line of a bad one."""
    rows = list(csv.reader((seed_text() if text is None else text).splitlines()))
    if not rows or tuple(rows[0]) != COLUMNS:
        raise ValueError(f"{_FILE}: the header must be {','.join(COLUMNS)}")
    out, seen, categories = [], set(), set()
    for n, row in enumerate(rows[1:], start=2):
        if len(row) != len(COLUMNS):
            raise ValueError(f"{_FILE} line {n}: {len(row)} fields, expected {len(COLUMNS)}")
        category, name, primary, secondary, note = row
        if not category:
            raise ValueError(f"{_FILE} line {n}: exercise_category is empty")
        if primary not in MUSCLE_GROUPS and primary != UNMAPPED:
            raise ValueError(f"{_FILE} line {n}: primary_muscle {primary!r} is not one of "
                             f"{', '.join(MUSCLE_GROUPS)} or {UNMAPPED}")
        secondaries = tuple(s for s in secondary.split(";") if s) if secondary else ()
        for s in secondaries:
            if s not in MUSCLE_GROUPS:
                raise ValueError(f"{_FILE} line {n}: secondary muscle {s!r} is not one of {', '.join(MUSCLE_GROUPS)}")
        if primary in secondaries or len(set(secondaries)) != len(secondaries):
            raise ValueError(f"{_FILE} line {n}: a muscle group is listed twice")
        if primary == UNMAPPED and secondaries:
            raise ValueError(f"{_FILE} line {n}: an unmapped exercise has no secondary muscles")
        key = (category, name)
        if key in seen:
            raise ValueError(f"{_FILE} line {n}: {category} {name or '(category default)'} is listed twice")
        seen.add(key)
        if not name:
            categories.add(category)
        out.append(ExerciseMuscles(category, name or None, primary, secondaries, note))
    missing = sorted({r.exercise_category for r in out} - categories)
    if missing:
        raise ValueError(f"{_FILE}: categories without a default row (exercise_name empty): {', '.join(missing)}")
    return out


def load_into(con: duckdb.DuckDBPyConnection) -> int:
    """(Re)create ``staging.exercise_muscles`` from the seed (inside the caller's transaction); returns its rows."""
    rows = load_seed()
    con.execute("""CREATE OR REPLACE TABLE staging.exercise_muscles (
        exercise_category VARCHAR NOT NULL, exercise_name VARCHAR, primary_muscle VARCHAR NOT NULL,
        secondary_muscles VARCHAR[] NOT NULL, note VARCHAR)""")
    # through Arrow: one statement with ~9,500 parameters took DuckDB most of a second to bind
    # (executemany would be one round trip per row)
    table = pa.table({
        "exercise_category": pa.array([r.exercise_category for r in rows], pa.string()),
        "exercise_name": pa.array([r.exercise_name for r in rows], pa.string()),
        "primary_muscle": pa.array([r.primary_muscle for r in rows], pa.string()),
        "secondary_muscles": pa.array([list(r.secondary_muscles) for r in rows], pa.list_(pa.string())),
        "note": pa.array([r.note or None for r in rows], pa.string()),
    })
    con.register("exercise_muscles_rows", table)
    try:
        con.execute("INSERT INTO staging.exercise_muscles SELECT * FROM exercise_muscles_rows")
    finally:
        con.unregister("exercise_muscles_rows")
    for sql in (
        "COMMENT ON TABLE staging.exercise_muscles IS 'Seed warehouse/seeds/exercise_muscles.csv: every Garmin "
        "exercise category and exercise name of the FIT profile to its primary and secondary muscle groups "
        "(loaded by every build).'",
        "COMMENT ON COLUMN staging.exercise_muscles.exercise_category IS 'Garmin exercise_category name.'",
        "COMMENT ON COLUMN staging.exercise_muscles.exercise_name IS 'Garmin exercise name of the category; NULL: "
        "the category''s default, for names without a row of their own.'",
        "COMMENT ON COLUMN staging.exercise_muscles.primary_muscle IS 'Muscle group the exercise mainly trains "
        "(quadriceps, hamstrings_knee_flexion, hamstrings_hip_hinge, glutes, calves, hip_stability, core, "
        "upper_push, upper_pull), or unmapped: not a resistance exercise, or not known.'",
        "COMMENT ON COLUMN staging.exercise_muscles.secondary_muscles IS 'Further muscle groups it trains (each "
        "counted as half a set, docs/metrics.md).'",
        "COMMENT ON COLUMN staging.exercise_muscles.note IS 'Why.'",
    ):
        con.execute(sql)
    return len(rows)
