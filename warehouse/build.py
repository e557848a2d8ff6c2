"""Building the SQL models: staging views, intermediate and mart tables, from `.sql` files.

Models live in ``warehouse/models/<layer>/*.sql`` (layers built in the order staging →
intermediate → marts, files in name order; ``_macros.sql`` first). Each file holds one model
(a chain of CTEs ending in ``select * from final``) and its ``COMMENT ON`` statements. A build
writes the athletes' parameters from the settings into ``raw.athletes`` /
``raw.athlete_body_mass``, loads the seeds (``warehouse/seeds/sport_types.csv`` into
``staging.sport_types``, ``warehouse/seeds/exercise_muscles.csv`` into
``staging.exercise_muscles``), writes the lifting apps' exercise mapping (the seed
``warehouse/seeds/app_exercises.csv`` and the person's ``exercise_map.csv``, :mod:`app_exercises`)
into ``staging.app_exercise_rules`` and rebuilds everything in one transaction: readers see the old marts
or the new ones, never a mix; building twice gives the same tables.

Every build is recorded in ``ops.builds`` with the fingerprint of what it was built from
(:func:`fingerprint`); :func:`build_if_changed` (a night) does not rebuild when the fingerprint is
that of the last build and that build's model tests passed: the marts would come out the same.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata, resources

import duckdb

from runlift.warehouse import app_exercises, exercise_muscles, sport_types
from runlift.warehouse import db as wdb
from runlift.warehouse.db import utcnow

LAYERS = ("staging", "intermediate", "marts")


def _mart_names() -> tuple[str, ...]:
    """The marts, in build order: models/marts/NN_<name>.sql builds marts.<name>."""
    folder = resources.files("runlift.warehouse").joinpath("models", "marts")
    files = sorted(f.name for f in folder.iterdir() if f.name.endswith(".sql"))
    return tuple(re.sub(r"^\d+_", "", name.removesuffix(".sql")) for name in files)


# published, counted and exported: a new file in models/marts/ is all it takes to add one
MARTS = _mart_names()


@dataclass(frozen=True)
class AthleteParams:
    athlete_id: str
    timezone: str
    sex: str
    max_hr_bpm: int | None
    resting_hr_bpm: int | None
    body_mass: tuple[tuple[dt.date | None, float], ...]  # (valid from or None, kg); () = not in the settings
    acwr_flags: bool = False  # raise acwr_high / acwr_low flags
    races: tuple[tuple[dt.date, str, float | None, int | None], ...] = ()  # (date, name, m or None, taper days or None)
    # training blocks (name, first day, last day, goal race's name or None); (): 12-week blocks (docs/metrics.md)
    blocks: tuple[tuple[str, dt.date, dt.date, str | None], ...] = ()


@dataclass
class BuildResult:
    as_of: dt.date
    seconds: float
    rows: dict[str, int]
    failures: list[str]
    # not rebuilt: nothing changed since the build that finished then (UTC); the marts are that build's
    unchanged_since: dt.datetime | None = None


def model_files() -> list[tuple[str, str, str]]:
    """(layer, file name, SQL) of every model, in build order."""
    root = resources.files("runlift.warehouse").joinpath("models")
    out = [("macros", "_macros.sql", root.joinpath("_macros.sql").read_text(encoding="utf-8"))]
    for layer in LAYERS:
        files = sorted((f for f in root.joinpath(layer).iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
        out += [(layer, f.name, f.read_text(encoding="utf-8")) for f in files]
    return out


_VIEW_RE = re.compile(r"CREATE\s+(?:OR\s+REPLACE\s+)?VIEW\s+(\w+)\.(\w+)", re.I)
_COLUMN_COMMENT_RE = re.compile(r"COMMENT\s+ON\s+COLUMN\s+(\w+)\.(\w+)\.(\w+)\s+IS\s+'((?:[^']|'')*)'\s*;", re.I)


def view_column_comments() -> list[tuple[str, str, str, str]]:
    """(schema, view, column, comment) of every view model's column comments, from the model files.
    A DuckLake keeps no comment on a view's column: a lake's build leaves them out (lake_model_sql)
    and its publish writes them onto the published tables from here."""
    out = []
    for _, _, sql in model_files():
        if _VIEW_RE.search(sql):
            out += [(m.group(1), m.group(2), m.group(3), m.group(4).replace("''", "'"))
                    for m in _COLUMN_COMMENT_RE.finditer(sql)]
    return out


def lake_model_sql(sql: str) -> str:
    """A model's SQL as a DuckLake takes it: a view's column comments left out (view_column_comments)."""
    return _COLUMN_COMMENT_RE.sub("", sql) if _VIEW_RE.search(sql) else sql


BLOCKS_TABLE_COMMENTS = (
    "COMMENT ON TABLE staging.athlete_blocks IS 'Training blocks from the settings file (athletes.<id>.blocks), "
    "written by every build; athletes without any get 12-week blocks (marts.block_summary).'",
    "COMMENT ON COLUMN staging.athlete_blocks.athlete_id IS 'runlift athlete id.'",
    "COMMENT ON COLUMN staging.athlete_blocks.block_name IS 'The block''s name as the settings give it.'",
    "COMMENT ON COLUMN staging.athlete_blocks.start_date IS 'First day of the block (athlete local date).'",
    "COMMENT ON COLUMN staging.athlete_blocks.end_date IS 'Last day of the block, inclusive.'",
    "COMMENT ON COLUMN staging.athlete_blocks.race_name IS 'The goal race (a name of athletes.<id>.races), or NULL.'",
)


def _write_athletes(con: duckdb.DuckDBPyConnection, athletes: Iterable[AthleteParams]) -> None:
    now = utcnow()
    # the blocks are settings, rewritten by every build like the seeds (a table of the build, not a
    # raw table: nothing is imported into it)
    ddl = ("CREATE OR REPLACE TABLE staging.athlete_blocks (athlete_id VARCHAR NOT NULL, "
           "block_name VARCHAR NOT NULL, start_date DATE NOT NULL, end_date DATE NOT NULL, race_name VARCHAR, "
           "PRIMARY KEY (athlete_id, block_name))")
    con.execute(wdb.lake_sql(ddl) if wdb.is_lake(con) else ddl)
    for sql in BLOCKS_TABLE_COMMENTS:
        con.execute(sql)
    con.execute("DELETE FROM raw.athlete_body_mass")
    con.execute("DELETE FROM raw.athlete_races")
    con.execute("DELETE FROM raw.athletes")
    for a in athletes:
        con.execute("INSERT INTO raw.athletes (athlete_id, timezone, sex, max_hr_bpm, resting_hr_bpm, loaded_at, "
                    "acwr_flags) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [a.athlete_id, a.timezone, a.sex, a.max_hr_bpm, a.resting_hr_bpm, now, a.acwr_flags])
        for race_date, name, distance_m, taper_days in a.races:
            con.execute("INSERT INTO raw.athlete_races VALUES (?, ?, ?, ?, ?)",
                        [a.athlete_id, race_date, name, distance_m, taper_days])
        for block_name, start, end, race_name in a.blocks:
            con.execute("INSERT INTO staging.athlete_blocks VALUES (?, ?, ?, ?, ?)",
                        [a.athlete_id, block_name, start, end, race_name])
        # each value from its date (an undated one: from the beginning); intermediate.int_body_mass
        # lets the earliest value of the series cover the days before it and the scale fill the days
        # before the first settings value (docs/metrics.md); no value given: no rows
        for since, kg in a.body_mass:
            start = dt.date(1900, 1, 1) if since is None else since
            con.execute("INSERT INTO raw.athlete_body_mass VALUES (?, ?, ?)", [a.athlete_id, start, kg])


DEFAULT_SHOE_RANGE_KM = (500.0, 800.0)  # replacement range of running shoes (docs/metrics.md "Shoe mileage")


# --- what a build is made from: the fingerprint --------------------------------------------------

FINGERPRINT_VERSION = 1
# The build writes these from the settings: the fingerprint takes the settings themselves instead.
SETTINGS_TABLES = ("athletes", "athlete_body_mass", "athlete_races")
# What stands for each raw table's content in the fingerprint, besides its row count: a hash of
# every row (the row as a whole), or, for the tables of millions of samples, of the columns that
# change whenever its rows are written again. A FIT file's records are only ever written or
# replaced with its raw.fit_files row (new imported_at), so their count is enough beside that row.
# A raw table not listed here (a later migration's) is hashed whole.
RAW_ROW_HASH = {
    "fit_records": None,
    "strava_streams": "hash(t.athlete_id, t.activity_id, t.stream_type, t.fetched_at, len(t.data))",
}
# The Python code of the build besides the .sql models and seeds
BUILD_CODE = ("build.py", "sport_types.py", "exercise_muscles.py", "app_exercises.py")


def code_digest(models: list[tuple[str, str, str]] | None = None) -> str:
    """SHA-256 of the models (``models``: default :func:`model_files`), the seeds and the build's
    Python code, and runlift's and DuckDB's versions: a change to any of them changes the marts."""
    h = hashlib.sha256()
    for layer, name, sql in model_files() if models is None else models:
        h.update(f"{layer}/{name}\0{sql}\0".encode())
    root = resources.files("runlift.warehouse")
    for entry in sorted(root.joinpath("seeds").iterdir(), key=lambda f: f.name):
        if entry.is_file():
            h.update(f"seeds/{entry.name}\0".encode() + entry.read_bytes() + b"\0")
    for name in BUILD_CODE:
        h.update(f"{name}\0".encode() + root.joinpath(name).read_bytes() + b"\0")
    try:
        version = metadata.version("runlift")
    except metadata.PackageNotFoundError:
        version = "unknown"
    h.update(f"runlift {version}\0duckdb {duckdb.__version__}".encode())
    return h.hexdigest()


def raw_digest(con: duckdb.DuckDBPyConnection) -> dict[str, list[int | None]]:
    """Each raw table's row count and row-hash digest (bit_xor of the hashes of its rows)."""
    tables = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'raw' "
        "ORDER BY table_name").fetchall() if r[0] not in SETTINGS_TABLES]
    parts = []
    for t in tables:
        row_hash = RAW_ROW_HASH.get(t, "hash(t)")
        parts.append(f"SELECT '{t}' AS name, count(*) AS n, "
                     f"{'bit_xor(' + row_hash + ')' if row_hash else 'NULL'}::UBIGINT AS h FROM raw.{t} t")
    rows = con.execute(" UNION ALL ".join(parts)).fetchall() if parts else []
    return {name: [n, h] for name, n, h in sorted(rows)}


def fingerprint(con: duckdb.DuckDBPyConnection, *, as_of: dt.date, athletes: Iterable[AthleteParams],
                units: str, shoe_range_km: tuple[float, float] = DEFAULT_SHOE_RANGE_KM,
                exercise_map: tuple[app_exercises.AppExercise, ...] = ()) -> str:
    """SHA-256 of everything the marts are built from: the raw tables' content (:func:`raw_digest`),
    the athletes' settings, the person's exercise mapping (``exercise_map``), the display units, the
    as-of date and the build's code (:func:`code_digest`). Equal fingerprints, equal marts."""
    parts = {
        "version": FINGERPRINT_VERSION,
        "as_of": as_of.isoformat(),
        "units": units,
        "shoe_range_km": [float(x) for x in shoe_range_km],
        "athletes": [dataclasses.asdict(a) for a in athletes],
        "exercise_map": [dataclasses.asdict(r) for r in exercise_map],
        "raw": raw_digest(con),
        "code": code_digest(),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class BuildRecord:
    build_id: str
    finished_at: dt.datetime
    as_of: dt.date
    fingerprint: str
    rows: dict[str, int]
    test_failures: int


def last_build(con: duckdb.DuckDBPyConnection) -> BuildRecord | None:
    """The latest build recorded in ops.builds."""
    row = con.execute("SELECT build_id, finished_at, as_of_date, fingerprint, mart_rows, test_failures "
                      "FROM ops.builds ORDER BY finished_at DESC, started_at DESC LIMIT 1").fetchone()
    if row is None:
        return None
    return BuildRecord(row[0], row[1], row[2], row[3], json.loads(row[4]), row[5])


def _marts_present(con: duckdb.DuckDBPyConnection) -> bool:
    present = {r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'marts'").fetchall()}
    return set(MARTS) <= present


def build_if_changed(con: duckdb.DuckDBPyConnection, *, as_of: dt.date, athletes: Iterable[AthleteParams],
                     units: str = "metric", shoe_range_km: tuple[float, float] = DEFAULT_SHOE_RANGE_KM,
                     exercise_map: tuple[app_exercises.AppExercise, ...] = ()) -> BuildResult:
    """:func:`build`, unless nothing it is made from changed since the last build and that build's
    model tests passed: then the marts are left as they are (``BuildResult.unchanged_since``)."""
    athletes = list(athletes)
    t0 = time.perf_counter()
    fp = fingerprint(con, as_of=as_of, athletes=athletes, units=units, shoe_range_km=shoe_range_km,
                     exercise_map=exercise_map)
    last = last_build(con)
    if last is not None and last.fingerprint == fp and last.test_failures == 0 and _marts_present(con):
        return BuildResult(as_of, time.perf_counter() - t0, dict(last.rows), [], unchanged_since=last.finished_at)
    return build(con, as_of=as_of, athletes=athletes, units=units, shoe_range_km=shoe_range_km, fingerprint_=fp,
                 exercise_map=exercise_map)


def build(con: duckdb.DuckDBPyConnection, *, as_of: dt.date, athletes: Iterable[AthleteParams],
          units: str = "metric", check: bool = True,
          shoe_range_km: tuple[float, float] = DEFAULT_SHOE_RANGE_KM, fingerprint_: str | None = None,
          exercise_map: tuple[app_exercises.AppExercise, ...] = ()) -> BuildResult:
    """Rebuild every model for ``as_of`` in one transaction; then run the model tests. The build is
    recorded in ops.builds with its fingerprint (``fingerprint_``: computed already by the caller)
    and its model tests' outcome (-1 without ``check``: not tested).

    ``shoe_range_km``: the replacement range of running shoes (marts.gear_mileage), low and high km.
    ``exercise_map``: the rows of the person's ``exercise_map.csv`` (:func:`app_exercises.parse`), which
    win over the seed's."""
    if units not in ("metric", "imperial"):
        raise ValueError(f"units must be metric or imperial, not {units!r}")
    low_km, high_km = (float(x) for x in shoe_range_km)
    if not 0 < low_km <= high_km:
        raise ValueError(f"shoe_range_km must be two positive numbers, low <= high, not {shoe_range_km!r}")
    athletes = list(athletes)
    started = utcnow()
    t0 = time.perf_counter()
    exercise_map = tuple(exercise_map)
    fp = fingerprint_ or fingerprint(con, as_of=as_of, athletes=athletes, units=units, shoe_range_km=shoe_range_km,
                                     exercise_map=exercise_map)
    con.execute(f"SET VARIABLE as_of = DATE '{as_of.isoformat()}'")
    con.execute(f"SET VARIABLE units = '{units}'")
    con.execute(f"SET VARIABLE shoe_range_low_m = {low_km * 1000.0!r}::DOUBLE")
    con.execute(f"SET VARIABLE shoe_range_high_m = {high_km * 1000.0!r}::DOUBLE")
    lake = wdb.is_lake(con)
    con.execute("BEGIN TRANSACTION")
    try:
        _write_athletes(con, athletes)
        seeded = False
        for layer, name, sql in model_files():
            if layer == "staging" and not seeded:
                # seeds (warehouse/seeds/*.csv) after the macros, before the staging views that read them
                sport_types.load_into(con)
                exercise_muscles.load_into(con)
                app_exercises.load_into(con, exercise_map)
                seeded = True
            try:
                con.execute(lake_model_sql(sql) if lake else sql)
            except duckdb.Error as exc:
                raise RuntimeError(f"model {layer}/{name} failed: {exc}") from exc
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    rows = {m: wdb.scalar(con, f"SELECT count(*) FROM marts.{m}") for m in MARTS}
    failures = run_model_tests(con) if check else []
    con.execute("INSERT INTO ops.builds VALUES (?, ?, ?, ?, ?, ?, ?)",
                [uuid.uuid4().hex, started, utcnow(), as_of, fp, json.dumps(rows), len(failures) if check else -1])
    return BuildResult(as_of, time.perf_counter() - t0, rows, failures)


# --- model tests: keys unique and not null, accepted values, complete day spine ------------------

UNIQUE_KEYS = {
    "marts.dim_athlete": ("athlete_id",),
    "marts.fct_activities": ("athlete_id", "activity_key"),
    "marts.fct_strength_sets": ("athlete_id", "activity_key", "set_index"),
    "marts.daily_training_load": ("athlete_id", "date"),
    "marts.weekly_training_balance": ("athlete_id", "week_start"),
    "marts.training_flags": ("athlete_id", "date", "flag", "activity_key"),
    "marts.weekly_muscle_volume": ("athlete_id", "week_start", "muscle_group"),
    "marts.gear_mileage": ("athlete_id", "gear_id"),
    "marts.exercise_progress": ("athlete_id", "exercise_category", "exercise", "week_start"),
    "marts.strength_balance": ("athlete_id", "week_start"),
    "marts.block_summary": ("athlete_id", "block_name"),
    "intermediate.int_workouts": ("athlete_id", "activity_key"),
    "intermediate.int_body_mass": ("athlete_id", "valid_from"),
    "staging.app_exercise_map": ("source", "app_exercise_key"),
}
NOT_NULL = {
    "marts.fct_activities": ("athlete_id", "activity_key", "local_date", "sport_group", "session_load_au",
                             "impact_load_kbw", "effort_source"),
    "marts.training_flags": ("athlete_id", "date", "flag", "severity", "explanation"),
}
ACCEPTED = {
    ("marts.fct_activities", "sport_group"): ("run", "strength", "other"),
    ("marts.fct_activities", "sources"): ("fit", "strava", "fit+strava", "hevy", "strong", "fit+hevy", "fit+strong",
                                          "strava+hevy", "strava+strong", "fit+strava+hevy", "fit+strava+strong"),
    ("marts.fct_activities", "effort_source"): ("recorded_rpe", "heart_rate", "set_effort", "device_load", "imputed"),
    ("marts.fct_activities", "impact_model"): ("measured", "athlete_typical", "default"),
    ("marts.fct_strength_sets", "body_region"): ("lower", "upper", "core", "other"),
    ("marts.block_summary", "block_source"): ("settings", "auto_12_weeks"),
    ("marts.block_summary", "weakest_muscle_group"): exercise_muscles.MUSCLE_GROUPS,
    ("intermediate.int_body_mass", "source"): ("settings", "scale", "garmin_connect", "hevy", "default"),
    ("marts.training_flags", "severity"): ("info", "warning", "alert"),
    ("marts.weekly_muscle_volume", "muscle_group"): (*exercise_muscles.MUSCLE_GROUPS, exercise_muscles.UNMAPPED),
    ("marts.training_flags", "flag"): ("long_run_spike", "weekly_distance_ramp", "acwr_high", "acwr_low",
                                       "monotony_high", "posterior_anterior_low", "cadence_implausible",
                                       "return_after_break", "shoe_past_range"),
    ("marts.gear_mileage", "range_status"): ("below_range", "in_range", "past_range"),
    # (its source and primary_muscle are checked where they come from: the VALUES of the view, the mapping files)
    ("staging.app_exercise_map", "mapped_by"): ("user", "seed", "hevy_template", "unmapped"),
}


def run_model_tests(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Data tests on the built models; returns one line per failure (empty: all good)."""
    failures = []
    for table, key in UNIQUE_KEYS.items():
        key_cols = ", ".join(key)
        # activity_key is NULL for week flags: compare with NULLs as values
        dup = wdb.scalar(con, f"SELECT count(*) FROM (SELECT {key_cols} FROM {table} GROUP BY ALL HAVING count(*) > 1)")
        if dup:
            failures.append(f"{table}: {dup} duplicate keys ({key_cols})")
        for col in key:
            if col == "activity_key" and table == "marts.training_flags":
                continue
            nulls = wdb.scalar(con, f"SELECT count(*) FROM {table} WHERE {col} IS NULL")
            if nulls:
                failures.append(f"{table}.{col}: {nulls} NULLs in a key")
    for table, cols in NOT_NULL.items():
        for col in cols:
            nulls = wdb.scalar(con, f"SELECT count(*) FROM {table} WHERE {col} IS NULL")
            if nulls:
                failures.append(f"{table}.{col}: {nulls} NULLs")
    for (table, col), values in ACCEPTED.items():
        bad = con.execute(f"SELECT DISTINCT {col} FROM {table} WHERE {col} IS NOT NULL "
                          f"AND NOT list_contains(?, {col})", [list(values)]).fetchall()
        if bad:
            failures.append(f"{table}.{col}: unexpected values {[b[0] for b in bad]}")
    bad_text = wdb.scalar(con, """
        SELECT count(*) FROM marts.training_flags
        -- a shoe's own name may hold such a word (Nike React Infinity): only the rest of its text is checked
        WHERE regexp_matches(CASE WHEN flag = 'shoe_past_range' THEN regexp_replace(explanation, '^Shoe .* passed ', '')
                                  ELSE explanation END, '(^|[^a-z])(nan|-?inf|infinity)([^a-z]|$)', 'i')
           OR NOT isfinite(coalesce(value, 0)) OR NOT isfinite(coalesce(threshold, 0))
           OR NOT isfinite(coalesce(baseline, 0))""")
    if bad_text:
        failures.append(f"marts.training_flags: {bad_text} flags with nan or inf in their text or numbers")
    gaps = con.execute("""
        SELECT athlete_id, count(*) AS n, min(date) AS a, max(date) AS b FROM marts.daily_training_load GROUP BY 1
        HAVING count(*) <> datediff('day', min(date), max(date)) + 1""").fetchall()
    for athlete_id, n, a, b in gaps:
        failures.append(f"marts.daily_training_load: athlete {athlete_id} has {n} days between {a} and {b}")
    return failures
