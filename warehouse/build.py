"""Building the SQL models: staging views, intermediate and mart tables, from `.sql` files.

Models live in ``warehouse/models/<layer>/*.sql`` (layers built in the order staging →
intermediate → marts, files in name order; ``_macros.sql`` first). Each file holds one model
(a chain of CTEs ending in ``select * from final``) and its ``COMMENT ON`` statements. A build
writes the athletes' parameters from the settings into ``raw.athletes`` /
``raw.athlete_body_mass``, loads the seeds (``warehouse/seeds/sport_types.csv`` into
``staging.sport_types``, ``warehouse/seeds/exercise_muscles.csv`` into
``staging.exercise_muscles``) and rebuilds everything in one transaction: readers see the old marts
or the new ones, never a mix; building twice gives the same tables.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

import duckdb

from runlift.warehouse import db as wdb
from runlift.warehouse import exercise_muscles, sport_types
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


@dataclass
class BuildResult:
    as_of: dt.date
    seconds: float
    rows: dict[str, int]
    failures: list[str]


def model_files() -> list[tuple[str, str, str]]:
    """(layer, file name, SQL) of every model, in build order."""
    root = resources.files("runlift.warehouse").joinpath("models")
    out = [("macros", "_macros.sql", root.joinpath("_macros.sql").read_text(encoding="utf-8"))]
    for layer in LAYERS:
        files = sorted((f for f in root.joinpath(layer).iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
        out += [(layer, f.name, f.read_text(encoding="utf-8")) for f in files]
    return out


def _write_athletes(con: duckdb.DuckDBPyConnection, athletes: Iterable[AthleteParams]) -> None:
    now = utcnow()
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
        # each value from its date (an undated one: from the beginning); intermediate.int_body_mass
        # lets the earliest value of the series cover the days before it and the scale fill the days
        # before the first settings value (docs/metrics.md); no value given: no rows
        for since, kg in a.body_mass:
            start = dt.date(1900, 1, 1) if since is None else since
            con.execute("INSERT INTO raw.athlete_body_mass VALUES (?, ?, ?)", [a.athlete_id, start, kg])


def build(con: duckdb.DuckDBPyConnection, *, as_of: dt.date, athletes: Iterable[AthleteParams],
          units: str = "metric", check: bool = True) -> BuildResult:
    """Rebuild every model for ``as_of`` in one transaction; then run the model tests."""
    if units not in ("metric", "imperial"):
        raise ValueError(f"units must be metric or imperial, not {units!r}")
    t0 = time.perf_counter()
    con.execute(f"SET VARIABLE as_of = DATE '{as_of.isoformat()}'")
    con.execute(f"SET VARIABLE units = '{units}'")
    con.execute("BEGIN TRANSACTION")
    try:
        _write_athletes(con, athletes)
        seeded = False
        for layer, name, sql in model_files():
            if layer == "staging" and not seeded:
                # seeds (warehouse/seeds/*.csv) after the macros, before the staging views that read them
                sport_types.load_into(con)
                exercise_muscles.load_into(con)
                seeded = True
            try:
                con.execute(sql)
            except duckdb.Error as exc:
                raise RuntimeError(f"model {layer}/{name} failed: {exc}") from exc
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    rows = {m: wdb.scalar(con, f"SELECT count(*) FROM marts.{m}") for m in MARTS}
    failures = run_model_tests(con) if check else []
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
    "intermediate.int_workouts": ("athlete_id", "activity_key"),
    "intermediate.int_body_mass": ("athlete_id", "valid_from"),
}
NOT_NULL = {
    "marts.fct_activities": ("athlete_id", "activity_key", "local_date", "sport_group", "session_load_au",
                             "impact_load_kbw", "effort_source"),
    "marts.training_flags": ("athlete_id", "date", "flag", "severity", "explanation"),
}
ACCEPTED = {
    ("marts.fct_activities", "sport_group"): ("run", "strength", "other"),
    ("marts.fct_activities", "sources"): ("fit", "strava", "fit+strava"),
    ("marts.fct_activities", "effort_source"): ("recorded_rpe", "heart_rate", "set_effort", "device_load", "imputed"),
    ("marts.fct_activities", "impact_model"): ("measured", "athlete_typical", "default"),
    ("marts.fct_strength_sets", "body_region"): ("lower", "upper", "core", "other"),
    ("intermediate.int_body_mass", "source"): ("settings", "scale", "garmin_connect", "default"),
    ("marts.training_flags", "severity"): ("info", "warning", "alert"),
    ("marts.weekly_muscle_volume", "muscle_group"): (*exercise_muscles.MUSCLE_GROUPS, exercise_muscles.UNMAPPED),
    ("marts.training_flags", "flag"): ("long_run_spike", "weekly_distance_ramp", "acwr_high", "acwr_low",
                                       "monotony_high", "posterior_anterior_low", "cadence_implausible",
                                       "return_after_break"),
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
        WHERE regexp_matches(explanation, '(^|[^a-z])(nan|-?inf|infinity)([^a-z]|$)', 'i')
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
