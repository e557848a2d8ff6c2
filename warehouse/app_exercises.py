"""The lifting apps' exercise names mapped to Garmin's exercises and so to the muscle groups.

Hevy and Strong name an exercise by its title, ``"Squat (Barbell)"``, ``"Lying Leg Curl (Machine)"``.
``warehouse/seeds/app_exercises.csv`` (shipped with the package, reviewed by hand) maps the titles of
Hevy's exercise library and Strong's common exercises to the Garmin FIT profile's exercise
(``exercise_category``, ``exercise_name``: the keys of ``warehouse/seeds/exercise_muscles.csv``),
whose muscle groups they then get. A person extends or corrects it with their own file of the same
columns, ``exercise_map.csv`` in the settings folder (docs/sources.md), whose rows win.

The columns (header exactly :data:`COLUMNS`):

- ``source``: ``hevy``, ``strong``, or empty for both apps (a row for one app wins over a row for both);
- ``app_exercise``: the exercise title as the app writes it (matched without regard to case and to
  spaces around it);
- ``exercise_category``, ``exercise_name``: a Garmin exercise of ``exercise_muscles.csv``;
  ``exercise_name`` empty: the category's default. In the user file the category may be empty when
  ``primary_muscle`` is given (a muscle group without a Garmin exercise);
- ``primary_muscle``, ``secondary_muscles`` (``;``-separated): empty: the Garmin exercise's groups;
  given: they override them (one of :data:`~runlift.warehouse.exercise_muscles.MUSCLE_GROUPS`, or
  ``unmapped`` for what is no resistance exercise);
- ``note``: why (free text).

Every build writes the rows of both into ``staging.app_exercise_rules`` (``mapped_by`` ``seed`` or
``user``); the view ``staging.app_exercise_map`` resolves every title seen in the apps' data.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from importlib import resources

import duckdb
import pyarrow as pa

from runlift.warehouse.exercise_muscles import MUSCLE_GROUPS, UNMAPPED, load_seed

COLUMNS = ("source", "app_exercise", "exercise_category", "exercise_name", "primary_muscle", "secondary_muscles",
           "note")
SOURCES = ("hevy", "strong")
SEED_FILE = "warehouse/seeds/app_exercises.csv"
USER_FILE = "exercise_map.csv"  # in the settings folder


@dataclass(frozen=True)
class AppExercise:
    source: str | None  # None: both apps
    app_exercise: str
    exercise_category: str | None
    exercise_name: str | None  # None: the category's default
    primary_muscle: str | None  # None: the Garmin exercise's
    secondary_muscles: tuple[str, ...] | None  # None: the Garmin exercise's
    note: str

    @property
    def key(self) -> str:
        """How the app's title is matched: lower case, no spaces around it."""
        return self.app_exercise.strip().lower()


def seed_text() -> str:
    return resources.files("runlift.warehouse").joinpath("seeds", "app_exercises.csv").read_text(encoding="utf-8")


def parse(text: str | None = None, *, where: str = SEED_FILE, user: bool = False) -> list[AppExercise]:
    """The rows of a mapping file (``text``: its CSV, default the shipped seed; ``user``: the person's
    file, whose category may be empty beside a primary muscle); raises ValueError naming ``where``
    and the line of a bad row."""
    garmin = _garmin_exercises()
    rows = list(csv.reader((seed_text() if text is None else text).lstrip("\ufeff").splitlines()))
    if not rows or tuple(c.strip() for c in rows[0]) != COLUMNS:
        raise ValueError(f"{where}: the header must be {','.join(COLUMNS)}")
    out: list[AppExercise] = []
    seen: set[tuple[str | None, str]] = set()
    for n, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) == len(COLUMNS) - 1:
            row = [*row, ""]  # no note
        if len(row) != len(COLUMNS):
            raise ValueError(f"{where} line {n}: {len(row)} fields, expected {len(COLUMNS)} ({','.join(COLUMNS)})")
        source, title, category, name, primary, secondary, note = (c.strip() for c in row)
        if source and source not in SOURCES:
            raise ValueError(f"{where} line {n}: source {source!r} is not hevy, strong or empty (both)")
        if not title:
            raise ValueError(f"{where} line {n}: app_exercise is empty")
        if not category and not (user and primary):
            raise ValueError(f"{where} line {n}: exercise_category is empty"
                             + (" (give it, or a primary_muscle)" if user else ""))
        if category and (category, None) not in garmin:
            raise ValueError(f"{where} line {n}: exercise_category {category!r} is not a Garmin exercise category "
                             "(warehouse/seeds/exercise_muscles.csv)")
        if name and (category, name) not in garmin:
            raise ValueError(f"{where} line {n}: exercise_name {name!r} is not an exercise of category {category!r} "
                             "(warehouse/seeds/exercise_muscles.csv)")
        if primary and primary not in MUSCLE_GROUPS and primary != UNMAPPED:
            raise ValueError(f"{where} line {n}: primary_muscle {primary!r} is not one of "
                             f"{', '.join(MUSCLE_GROUPS)} or {UNMAPPED}")
        secondaries = tuple(s.strip() for s in secondary.split(";") if s.strip())
        if secondaries and not primary:
            raise ValueError(f"{where} line {n}: secondary_muscles without a primary_muscle")
        for s in secondaries:
            if s not in MUSCLE_GROUPS:
                raise ValueError(f"{where} line {n}: secondary muscle {s!r} is not one of {', '.join(MUSCLE_GROUPS)}")
        if primary in secondaries or len(set(secondaries)) != len(secondaries):
            raise ValueError(f"{where} line {n}: a muscle group is listed twice")
        if primary == UNMAPPED and secondaries:
            raise ValueError(f"{where} line {n}: an unmapped exercise has no secondary muscles")
        item = AppExercise(source or None, title, category or None, name or None, primary or None,
                           secondaries if primary else None, note)
        if (item.source, item.key) in seen:
            raise ValueError(f"{where} line {n}: {title!r} is listed twice"
                             + (f" for {source}" if source else " for both apps"))
        seen.add((item.source, item.key))
        out.append(item)
    return out


@functools.cache
def _garmin_exercises() -> frozenset[tuple[str, str | None]]:
    return frozenset((r.exercise_category, r.exercise_name) for r in load_seed())


@functools.cache
def _seed_rows() -> tuple[AppExercise, ...]:
    return tuple(parse())


RULES_COMMENTS = (
    "COMMENT ON TABLE staging.app_exercise_rules IS 'The mapping rows of the lifting apps'' exercise titles: the "
    "seed warehouse/seeds/app_exercises.csv and the person''s exercise_map.csv in the settings folder (written by "
    "every build; resolved by staging.app_exercise_map).'",
    "COMMENT ON COLUMN staging.app_exercise_rules.source IS 'hevy or strong; NULL: both apps.'",
    "COMMENT ON COLUMN staging.app_exercise_rules.app_exercise_key IS 'lower(trim(the app''s exercise title)).'",
    "COMMENT ON COLUMN staging.app_exercise_rules.app_exercise IS 'The title as the mapping file writes it.'",
    "COMMENT ON COLUMN staging.app_exercise_rules.exercise_category IS 'Garmin exercise_category; NULL: a muscle "
    "group only (user file).'",
    "COMMENT ON COLUMN staging.app_exercise_rules.exercise_name IS 'Garmin exercise name; NULL: the category''s "
    "default.'",
    "COMMENT ON COLUMN staging.app_exercise_rules.primary_muscle IS 'Override of the Garmin exercise''s primary "
    "muscle group; NULL: none.'",
    "COMMENT ON COLUMN staging.app_exercise_rules.secondary_muscles IS 'Override of its secondary muscle groups "
    "(with primary_muscle); NULL: none.'",
    "COMMENT ON COLUMN staging.app_exercise_rules.mapped_by IS 'seed or user.'",
    "COMMENT ON COLUMN staging.app_exercise_rules.note IS 'Why.'",
)


def load_into(con: duckdb.DuckDBPyConnection, user_rows: tuple[AppExercise, ...] = ()) -> int:
    """(Re)create ``staging.app_exercise_rules`` from the seed and ``user_rows`` (inside the caller's
    transaction); returns its rows."""
    rows = [(r, "seed") for r in _seed_rows()] + [(r, "user") for r in user_rows]
    con.execute("""CREATE OR REPLACE TABLE staging.app_exercise_rules (
        source VARCHAR, app_exercise_key VARCHAR NOT NULL, app_exercise VARCHAR NOT NULL, exercise_category VARCHAR,
        exercise_name VARCHAR, primary_muscle VARCHAR, secondary_muscles VARCHAR[], mapped_by VARCHAR NOT NULL,
        note VARCHAR)""")
    for sql in RULES_COMMENTS:
        con.execute(sql)
    # through Arrow: a statement with thousands of parameters takes DuckDB a good part of a second to bind
    strings = {col: pa.array(values, pa.string()) for col, values in {
        "source": [r.source for r, _ in rows], "app_exercise_key": [r.key for r, _ in rows],
        "app_exercise": [r.app_exercise for r, _ in rows], "exercise_category": [r.exercise_category for r, _ in rows],
        "exercise_name": [r.exercise_name for r, _ in rows], "primary_muscle": [r.primary_muscle for r, _ in rows],
    }.items()}
    table = pa.table({**strings,
                      "secondary_muscles": pa.array([None if r.secondary_muscles is None else list(r.secondary_muscles)
                                                     for r, _ in rows], pa.list_(pa.string())),
                      "mapped_by": pa.array([by for _, by in rows], pa.string()),
                      "note": pa.array([r.note or None for r, _ in rows], pa.string())})
    con.register("app_exercise_rows", table)
    try:
        con.execute("INSERT INTO staging.app_exercise_rules SELECT * FROM app_exercise_rows")
    finally:
        con.unregister("app_exercise_rows")
    return len(rows)
