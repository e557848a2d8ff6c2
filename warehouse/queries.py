"""The questions the flows and the command line ask the warehouse, one function each.

Every function takes an open connection (the caller opens it, holds the lock it needs, runs the
transaction and closes it) and returns plain values: frozen dataclasses, or dict rows for "every
column of a mart". Most read either file: the working warehouse or the published copy, whose
``ops`` schema holds the pipeline state ``runlift status`` needs (see warehouse/publish.py). Where
a question is answered from different tables in the two files, ``published=True`` says which.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import astuple, dataclass
from typing import Any

import duckdb

from runlift.warehouse.db import scalar, utcnow
from runlift.warehouse.exercise_muscles import MUSCLE_GROUPS
from runlift.warehouse.publish import GARMIN_SYNC_STATE, STRAVA_ACTIVITY_COUNTS

# --- pipeline state (runlift status) ---------------------------------------------------------------


@dataclass(frozen=True)
class PublishedStamp:
    published_at: dt.datetime  # UTC
    as_of_date: dt.date | None  # the marts' as-of date


def published_stamp(con: duckdb.DuckDBPyConnection) -> PublishedStamp | None:
    """When the published file was written and for which as-of date (published file only)."""
    row = con.execute("SELECT published_at, as_of_date FROM ops.published").fetchone()
    return PublishedStamp(*row) if row else None


def tables_present(con: duckdb.DuckDBPyConnection) -> set[str]:
    """``schema.table`` of every table and view in the connection's database: what a reader checks
    before it asks for a mart that an older runlift did not publish (the night's summary leaves that
    part out; the dashboard names what is missing)."""
    return {f"{schema}.{name}" for schema, name in con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_catalog = current_database()").fetchall()}


@dataclass(frozen=True)
class FitFileCount:
    athlete_id: str
    status: str  # ok, partial, rejected
    files: int
    sessions: int | None
    records: int | None


def fit_file_counts(con: duckdb.DuckDBPyConnection, *, published: bool = False) -> list[FitFileCount]:
    """FIT files, sessions and records per athlete and import status, by athlete then status."""
    table = "ops.fit_files" if published else "raw.fit_files"
    return [FitFileCount(*r) for r in con.execute(f"""
        SELECT athlete_id, status, count(*), sum(n_sessions), sum(n_records)
        FROM {table} GROUP BY ALL ORDER BY 1, 2""").fetchall()]


@dataclass(frozen=True)
class FitFileNotOk:
    status: str  # partial, rejected or skipped
    error: str | None
    first_path: str


def fit_files_not_ok(con: duckdb.DuckDBPyConnection, *, published: bool = False,
                     athlete_id: str | None = None) -> list[FitFileNotOk]:
    """Every FIT file imported as partial, rejected or skipped (of ``athlete_id``; None: any), newest
    first: `runlift status` groups them by reason."""
    table = "ops.fit_files" if published else "raw.fit_files"
    return [FitFileNotOk(*r) for r in con.execute(f"""
        SELECT status, error, first_path FROM {table}
        WHERE status <> 'ok' AND (? IS NULL OR athlete_id = ?)
        ORDER BY imported_at DESC, first_path""", [athlete_id, athlete_id]).fetchall()]


@dataclass(frozen=True)
class KeptFitFile:
    athlete_id: str
    file_sha256: str
    first_path: str
    blob_path: str  # relative to the blob folder
    status: str
    error: str | None


def kept_fit_files(con: duckdb.DuckDBPyConnection, athlete_id: str | None = None) -> list[KeptFitFile]:
    """Every FIT file the working warehouse knows (of ``athlete_id``, None: all), by athlete and
    import time: what `runlift reprocess` decodes again."""
    where, params = ("WHERE athlete_id = ?", [athlete_id]) if athlete_id else ("", [])
    return [KeptFitFile(*r) for r in con.execute(
        f"SELECT athlete_id, file_sha256, first_path, blob_path, status, error "
        f"FROM raw.fit_files {where} ORDER BY athlete_id, imported_at, file_sha256", params).fetchall()]


@dataclass(frozen=True)
class StravaActivityCount:
    athlete_id: str
    activities: int  # not deleted at Strava
    run_distance_m: float | None  # running sport types, not deleted
    deleted: int
    with_streams: int


def strava_activity_counts(con: duckdb.DuckDBPyConnection, *, published: bool = False) -> list[StravaActivityCount]:
    """Strava activities per athlete (kept, running distance, deleted, with streams), by athlete."""
    sql = ("SELECT * FROM ops.strava_activity_counts ORDER BY 1" if published
           else f"SELECT * FROM ({STRAVA_ACTIVITY_COUNTS}) ORDER BY 1")
    return [StravaActivityCount(*r) for r in con.execute(sql).fetchall()]


@dataclass(frozen=True)
class StravaSyncRun:
    athlete_id: str
    finished_at: dt.datetime  # UTC
    status: str
    message: str | None  # as stored: may quote server text, redact before showing
    api_calls: int | None


def last_strava_sync_runs(con: duckdb.DuckDBPyConnection) -> list[StravaSyncRun]:
    """Each athlete's latest Strava sync run, by athlete."""
    return [StravaSyncRun(*r) for r in con.execute("""
        SELECT athlete_id, finished_at, status, message, api_calls FROM ops.strava_sync_runs
        QUALIFY row_number() OVER (PARTITION BY athlete_id ORDER BY finished_at DESC) = 1 ORDER BY 1""").fetchall()]


@dataclass(frozen=True)
class HevySyncRun:
    athlete_id: str
    finished_at: dt.datetime  # UTC
    status: str
    message: str | None  # as stored (redacted by the sync); redact again before showing
    api_calls: int | None
    new: int | None
    updated: int | None
    deleted: int | None


def last_hevy_sync_runs(con: duckdb.DuckDBPyConnection) -> list[HevySyncRun]:
    """Each athlete's latest Hevy sync run, by athlete ([] for a file without ops.hevy_sync_runs)."""
    if not scalar(con, "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'ops' "
                      "AND table_name = 'hevy_sync_runs' AND database_name = current_database()"):
        return []
    return [HevySyncRun(*r) for r in con.execute("""
        SELECT athlete_id, finished_at, status, message, api_calls, new, updated, deleted FROM ops.hevy_sync_runs
        QUALIFY row_number() OVER (PARTITION BY athlete_id ORDER BY finished_at DESC) = 1 ORDER BY 1""").fetchall()]


@dataclass(frozen=True)
class UnmappedAppExercise:
    athlete_id: str
    source: str  # hevy or strong
    exercise_title: str
    sets: int
    last_date: dt.date | None


def unmapped_app_exercises(con: duckdb.DuckDBPyConnection,
                           athlete_id: str | None = None) -> list[UnmappedAppExercise]:
    """The lifting apps' exercise titles no mapping places (``staging.app_exercises_unmapped``, a
    view in the working warehouse, a table in the published file), most sets first; [] before the
    first build that has it."""
    if not scalar(con, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'staging' "
                      "AND table_name = 'app_exercises_unmapped' AND table_catalog = current_database()"):
        return []
    return [UnmappedAppExercise(*r) for r in con.execute(
        "SELECT athlete_id, source, exercise_title, sets, last_date FROM staging.app_exercises_unmapped "
        "WHERE ? IS NULL OR athlete_id = ? ORDER BY sets DESC, athlete_id, source, exercise_title",
        [athlete_id, athlete_id]).fetchall()]


@dataclass(frozen=True)
class GarminSyncState:
    athlete_id: str
    last_run_at: dt.datetime | None  # UTC
    last_status: str | None
    last_message: str | None
    high_water_start_utc: dt.datetime | None
    weigh_ins_through: dt.date | None
    activities: int  # fetched so far


def garmin_sync_states(con: duckdb.DuckDBPyConnection, *, published: bool = False) -> list[GarminSyncState]:
    """Each athlete's Garmin Connect sync: the last run, how far it reaches, how many activities fetched."""
    sql = ("SELECT * FROM ops.garmin_sync_state ORDER BY 1" if published
           else f"SELECT * FROM ({GARMIN_SYNC_STATE}) ORDER BY 1")
    return [GarminSyncState(*r) for r in con.execute(sql).fetchall()]


@dataclass(frozen=True)
class StravaRateBudget:
    app: str | None
    observed_at: dt.datetime  # UTC
    reads_left_15min: int | None  # in the 15-minute window of observed_at
    reads_left_day: int | None  # that day


def strava_rate_budget(con: duckdb.DuckDBPyConnection) -> StravaRateBudget | None:
    """Strava's read budget as last observed (from the rate-limit headers), None if never."""
    row = con.execute("""SELECT app, observed_at, read_limit_15 - read_usage_15, read_limit_day - read_usage_day
                         FROM ops.strava_rate_limit ORDER BY observed_at DESC LIMIT 1""").fetchone()
    return StravaRateBudget(*row) if row else None


@dataclass(frozen=True)
class ImportRun:
    source: str
    athlete_id: str
    finished_at: dt.datetime  # UTC
    files_new: int | None
    files_seen: int | None


def last_import_run(con: duckdb.DuckDBPyConnection, athlete_id: str | None = None) -> ImportRun | None:
    """The latest FIT import run (of ``athlete_id``; None: any athlete), any source; None if none yet."""
    row = con.execute("""SELECT source, athlete_id, finished_at, files_new, files_seen FROM ops.import_runs
                         WHERE ? IS NULL OR athlete_id = ?
                         ORDER BY finished_at DESC LIMIT 1""", [athlete_id, athlete_id]).fetchone()
    return ImportRun(*row) if row else None


@dataclass(frozen=True)
class ImportRunCounts:
    """What one FIT import run saw and did, in the order of ops.import_runs' columns."""
    files_seen: int
    files_new: int
    files_known: int
    files_ok: int
    files_partial: int
    files_rejected: int
    files_skipped: int
    sessions: int
    sets: int
    records: int
    bytes_read: int


def record_import_run(con: duckdb.DuckDBPyConnection, run_id: str, athlete_id: str, source: str,
                      started_at: dt.datetime, counts: ImportRunCounts) -> None:
    """Add a row to ops.import_runs for a run that finishes now (in the caller's transaction)."""
    con.execute("INSERT INTO ops.import_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [run_id, athlete_id, source, started_at, utcnow(), *astuple(counts)])


# --- the marts (dashboard, nightly summary, demo) --------------------------------------------------


@dataclass(frozen=True)
class Athlete:
    athlete_id: str
    first_activity_date: dt.date | None
    workouts: int | None
    as_of_date: dt.date | None


def athletes(con: duckdb.DuckDBPyConnection) -> list[Athlete]:
    """Every athlete of marts.dim_athlete, by id."""
    return [Athlete(*r) for r in con.execute("""SELECT athlete_id, first_activity_date, workouts, as_of_date
                                                FROM marts.dim_athlete ORDER BY athlete_id""").fetchall()]


def _dict_rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    names = [c[0] for c in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def weekly_training_balance(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every row of marts.weekly_training_balance as {column: value}, by athlete then week."""
    return _dict_rows(con, "SELECT * FROM marts.weekly_training_balance ORDER BY athlete_id, week_start")


def daily_training_load(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every row of marts.daily_training_load as {column: value}, by athlete then date."""
    return _dict_rows(con, "SELECT * FROM marts.daily_training_load ORDER BY athlete_id, date")


@dataclass(frozen=True)
class LatestWeek:
    """An athlete's latest week of marts.weekly_training_balance (SI units, as stored)."""
    athlete_id: str
    week_start: dt.date
    run_distance_m: float | None
    run_count: int
    longest_run_m: float | None
    strength_sessions: int
    strength_volume_load_kg: float | None
    strength_share_of_session_load: float | None  # 0..1
    impact_load_kbw: float | None
    hard_sets_lower: int
    hard_sets_upper: int
    posterior_anterior_ratio_4w: float | None
    flags_count: int


def latest_weeks(con: duckdb.DuckDBPyConnection, athlete_ids: list[str] | None = None) -> list[LatestWeek]:
    """Each athlete's latest week (of ``athlete_ids``; None: every athlete), by athlete."""
    where, params = ("WHERE list_contains(?, athlete_id)", [athlete_ids]) if athlete_ids is not None else ("", [])
    return [LatestWeek(*r) for r in con.execute(f"""
        SELECT athlete_id, week_start, run_distance_m, run_count, longest_run_m, strength_sessions,
               strength_volume_load_kg, strength_share_of_session_load, impact_load_kbw, hard_sets_lower,
               hard_sets_upper, posterior_anterior_ratio_4w, flags_count
        FROM marts.weekly_training_balance {where}
        QUALIFY row_number() OVER (PARTITION BY athlete_id ORDER BY week_start DESC) = 1 ORDER BY 1""",
                                                 params).fetchall()]


@dataclass(frozen=True)
class TrainingFlag:
    athlete_id: str
    date: dt.date
    flag: str
    severity: str  # alert, warning or info
    explanation: str


def training_flags(con: duckdb.DuckDBPyConnection, *, athlete_ids: list[str] | None = None,
                   after: dt.date | None = None, limit: int | None = None) -> list[TrainingFlag]:
    """Flags of marts.training_flags, newest first (then by athlete, alert before warning before
    info, then flag name): of ``athlete_ids`` (None: all), dated after ``after`` (None: any date),
    at most ``limit`` (None: all)."""
    where: list[str] = []
    params: list[Any] = []
    if athlete_ids is not None:
        where.append("list_contains(?, athlete_id)")
        params.append(athlete_ids)
    if after is not None:
        where.append("date > ?")
        params.append(after)
    sql = ("SELECT athlete_id, date, flag, severity, explanation FROM marts.training_flags"
           + (" WHERE " + " AND ".join(where) if where else "")
           + " ORDER BY date DESC, athlete_id, list_position(['alert', 'warning', 'info'], severity), flag")
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [TrainingFlag(*r) for r in con.execute(sql, params).fetchall()]


# --- the dashboard's plan for the week and its knee-stress chart -----------------------------------

# The thresholds of marts.training_flags (docs/metrics.md, Flags), restated for the plan: a run over
# 110 % of the longest run of the previous 30 days is a long_run_spike; weekly running distance up
# more than 30 % on the previous complete week is a weekly_distance_ramp.
LONG_RUN_SPIKE_RATIO = 1.1
WEEKLY_RAMP_RATIO = 1.3
BREAK_DAYS = 14  # a stretch of 14 or more days without any workout is a break (return_after_break)
USUAL_WEEKS = 8  # the athlete's usual: the median of the last 8 complete weeks


@dataclass(frozen=True)
class WeekPlan:
    """What keeps an athlete's next runs and this week inside the flags' thresholds, as of ``as_of``
    (SI units). "This week" is the ISO week (Monday start) holding ``as_of``."""
    athlete_id: str
    as_of: dt.date
    week_start: dt.date
    days_into_week: int  # 1 (Monday) .. 7 (Sunday)
    last_workout_date: dt.date | None  # on or before as_of
    longest_run_30d_m: float | None  # the longest run of the 30 days as_of - 29 .. as_of; None: no run
    longest_run_30d_date: dt.date | None
    long_run_limit_m: float | None  # 110 % of it: a longer run is a long_run_spike
    week_run_m: float  # running distance so far this week
    last_week_run_m: float | None  # the previous week's running distance, when it is a complete week with running
    week_run_limit_m: float | None  # 130 % of it: more is a weekly_distance_ramp
    lower_sessions_week: int  # workouts with a lower-body set so far this week
    lower_sessions_usual: float | None  # their median over the last USUAL_WEEKS complete weeks before this one
    usual_weeks: int  # how many complete weeks that median rests on (0..USUAL_WEEKS)


def week_plan(con: duckdb.DuckDBPyConnection, athlete_id: str, as_of: dt.date) -> WeekPlan:
    """The numbers of the dashboard's "what should I do this week?" for ``athlete_id`` on ``as_of``."""
    row = con.execute(f"""
        WITH p AS (SELECT ?::VARCHAR AS athlete_id, ?::DATE AS as_of,
                          date_trunc('week', ?::DATE)::DATE AS week_start),
        runs AS (
            SELECT a.local_date, a.distance_m FROM marts.fct_activities a, p
            WHERE a.athlete_id = p.athlete_id AND a.sport_group = 'run' AND a.distance_m > 0
              AND a.local_date BETWEEN p.as_of - 29 AND p.as_of
        ),
        longest AS (  -- of two runs as long, the later
            SELECT max(distance_m) AS m, (SELECT local_date FROM runs ORDER BY distance_m DESC, local_date DESC
                                          LIMIT 1) AS on_date FROM runs),
        last_workout AS (
            SELECT max(a.local_date) AS d FROM marts.fct_activities a, p
            WHERE a.athlete_id = p.athlete_id AND a.local_date <= p.as_of
        ),
        weeks AS (
            SELECT w.* FROM marts.weekly_training_balance w, p WHERE w.athlete_id = p.athlete_id
        ),
        lower_weeks AS (
            SELECT date_trunc('week', s.local_date)::DATE AS week_start, count(DISTINCT s.activity_key) AS n
            FROM marts.fct_strength_sets s, p
            WHERE s.athlete_id = p.athlete_id AND s.body_region = 'lower' AND s.local_date <= p.as_of
            GROUP BY 1
        ),
        usual AS (
            SELECT median(coalesce(l.n, 0)) AS m, count(*) AS weeks FROM (
                SELECT w.week_start FROM weeks w, p WHERE w.is_complete_week AND w.week_start < p.week_start
                ORDER BY w.week_start DESC LIMIT {USUAL_WEEKS}) c
            LEFT JOIN lower_weeks l USING (week_start)
        ),
        this_week AS (
            SELECT coalesce(sum(a.distance_m) FILTER (WHERE a.includes_running), 0) AS run_m
            FROM marts.fct_activities a, p
            WHERE a.athlete_id = p.athlete_id AND a.local_date BETWEEN p.week_start AND p.as_of
        ),
        last_week AS (
            SELECT w.run_distance_m AS m FROM weeks w, p
            WHERE w.week_start = p.week_start - 7 AND w.is_complete_week AND w.run_distance_m > 0
        )
        SELECT p.athlete_id, p.as_of, p.week_start, (p.as_of - p.week_start + 1)::INTEGER,
               (SELECT d FROM last_workout),
               longest.m, longest.on_date, longest.m * {LONG_RUN_SPIKE_RATIO},
               (SELECT run_m FROM this_week), (SELECT m FROM last_week),
               (SELECT m FROM last_week) * {WEEKLY_RAMP_RATIO},
               coalesce((SELECT n FROM lower_weeks l WHERE l.week_start = p.week_start), 0)::INTEGER,
               usual.m, usual.weeks::INTEGER
        FROM p, longest, usual""", [athlete_id, as_of, as_of]).fetchone()
    assert row is not None
    return WeekPlan(*row)


@dataclass(frozen=True)
class Gap:
    """A stretch of BREAK_DAYS or more days without any workout (a break, as return_after_break counts
    it), up to the next workout or to the as-of date."""
    athlete_id: str
    first_day: dt.date
    last_day: dt.date


def data_gaps(con: duckdb.DuckDBPyConnection) -> list[Gap]:
    """Every athlete's breaks of marts.daily_training_load, by athlete then date."""
    return [Gap(*r) for r in con.execute(f"""
        WITH ends AS (SELECT athlete_id, max(date) AS last_day FROM marts.daily_training_load GROUP BY 1),
        worked AS (
            SELECT athlete_id, date, lead(date) OVER (PARTITION BY athlete_id ORDER BY date) AS next_date
            FROM (SELECT DISTINCT a.athlete_id, a.local_date AS date FROM marts.fct_activities a
                  JOIN ends e ON e.athlete_id = a.athlete_id AND a.local_date <= e.last_day)
        )
        SELECT w.athlete_id, w.date + 1, coalesce(w.next_date - 1, e.last_day)
        FROM worked w JOIN ends e USING (athlete_id)
        WHERE coalesce(w.next_date - 1, e.last_day) - w.date >= {BREAK_DAYS}
        ORDER BY 1, 2""").fetchall()]


def knee_stress_days(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Per athlete and day of marts.daily_training_load: running impact and strength knee load (kBW),
    each with its 7- and 28-day mean per day (NULL until the athlete's history holds the window),
    by athlete then date."""
    return _dict_rows(con, """
        SELECT athlete_id, date, run_impact_kbw, strength_knee_load_kbw,
               CASE WHEN day_number >= 7 THEN avg(run_impact_kbw) OVER w7 END AS run_impact_7d_kbw,
               CASE WHEN day_number >= 28 THEN avg(run_impact_kbw) OVER w28 END AS run_impact_28d_kbw,
               CASE WHEN day_number >= 7 THEN avg(strength_knee_load_kbw) OVER w7 END AS strength_knee_7d_kbw,
               CASE WHEN day_number >= 28 THEN avg(strength_knee_load_kbw) OVER w28 END AS strength_knee_28d_kbw
        FROM marts.daily_training_load
        WINDOW w7 AS (PARTITION BY athlete_id ORDER BY date ROWS BETWEEN 6 PRECEDING AND CURRENT ROW),
               w28 AS (PARTITION BY athlete_id ORDER BY date ROWS BETWEEN 27 PRECEDING AND CURRENT ROW)
        ORDER BY athlete_id, date""")


# --- shoes (marts.gear_mileage) -------------------------------------------------------------------


@dataclass(frozen=True)
class Shoe:
    """A row of marts.gear_mileage (SI units, as stored)."""
    athlete_id: str
    gear_id: str
    shoe_name: str
    is_retired: bool
    runs: int
    distance_m: float
    first_used_date: dt.date
    last_used_date: dt.date
    replacement_low_m: float
    replacement_high_m: float
    range_status: str  # below_range, in_range or past_range
    past_range_date: dt.date | None


def shoes(con: duckdb.DuckDBPyConnection, athlete_ids: list[str] | None = None, *,
          past_range_only: bool = False) -> list[Shoe]:
    """Shoes of ``athlete_ids`` (None: every athlete), by athlete then most recently used first.
    ``past_range_only``: only shoes past the upper end of their replacement range and not retired
    (the ones a person should hear about)."""
    where: list[str] = []
    params: list[Any] = []
    if athlete_ids is not None:
        where.append("list_contains(?, athlete_id)")
        params.append(athlete_ids)
    if past_range_only:
        where.append("range_status = 'past_range' AND NOT is_retired")
    return [Shoe(*r) for r in con.execute(
        "SELECT athlete_id, gear_id, shoe_name, is_retired, runs, distance_m, first_used_date, last_used_date, "
        "replacement_low_m, replacement_high_m, range_status, past_range_date FROM marts.gear_mileage"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY athlete_id, last_used_date DESC, gear_id", params).fetchall()]

# --- training blocks (marts.block_summary) --------------------------------------------------------

@dataclass(frozen=True)
class BlockFigures:
    """One block of marts.block_summary (SI units, as stored; per week = per 7 of its days in the data)."""
    block_name: str
    block_source: str  # settings or auto_12_weeks
    start_date: dt.date
    end_date: dt.date
    race_name: str | None
    days: int
    is_complete: bool
    run_distance_m: float
    runs: int
    long_runs: int
    longest_run_m: float
    weekly_run_distance_m: float  # average per week
    weekly_run_km_cv: float | None
    strength_sessions: int
    hard_sets_per_week: dict[str, float]  # muscle group -> fractional hard sets per week, in MUSCLE_GROUPS order
    run_impact_kbw_per_week: float
    strength_knee_load_kbw_per_week: float
    strength_share_of_session_load: float | None  # 0..1
    posterior_anterior_ratio: float | None
    weakest_muscle_group: str | None  # None: no strength session in the block
    weakest_hard_sets_per_week: float | None
    weakest_usual_low: int | None
    weakest_usual_high: int | None
    flags: int
    flags_by_kind: dict[str, int]


@dataclass(frozen=True)
class BlockComparison:
    """An athlete's current block (the most recent one started by the as-of date) and the one before."""
    athlete_id: str
    current: BlockFigures
    previous: BlockFigures | None


def block_comparisons(con: duckdb.DuckDBPyConnection, athlete_ids: list[str] | None = None) -> list[BlockComparison]:
    """Each athlete's current and previous block of marts.block_summary (of ``athlete_ids``; None:
    every athlete), by athlete; athletes without a block are left out."""
    where, params = ("AND list_contains(?, athlete_id)", [athlete_ids]) if athlete_ids is not None else ("", [])
    cur = con.execute(f"""SELECT * FROM marts.block_summary WHERE blocks_ago <= 1 {where}
                          ORDER BY athlete_id, blocks_ago""", params)
    names = [c[0] for c in cur.description]
    found: dict[str, dict[int, BlockFigures]] = {}
    for row in cur.fetchall():
        r = dict(zip(names, row, strict=True))
        figures = BlockFigures(
            block_name=r["block_name"], block_source=r["block_source"], start_date=r["start_date"],
            end_date=r["end_date"], race_name=r["race_name"], days=r["days"], is_complete=r["is_complete"],
            run_distance_m=r["run_distance_m"], runs=r["runs"], long_runs=r["runs_16km_plus"],
            longest_run_m=r["longest_run_m"], weekly_run_distance_m=r["run_distance_m"] / (r["days"] / 7.0),
            weekly_run_km_cv=r["weekly_run_km_cv"], strength_sessions=r["strength_sessions"],
            hard_sets_per_week={g: r[f"hard_sets_per_week_{g}"] for g in MUSCLE_GROUPS},
            run_impact_kbw_per_week=r["run_impact_kbw_per_week"],
            strength_knee_load_kbw_per_week=r["strength_knee_load_kbw_per_week"],
            strength_share_of_session_load=r["strength_share_of_session_load"],
            posterior_anterior_ratio=r["posterior_anterior_ratio"], weakest_muscle_group=r["weakest_muscle_group"],
            weakest_hard_sets_per_week=r["weakest_hard_sets_per_week"], weakest_usual_low=r["weakest_usual_low"],
            weakest_usual_high=r["weakest_usual_high"], flags=r["flags"], flags_by_kind=dict(r["flags_by_kind"] or {}))
        found.setdefault(r["athlete_id"], {})[r["blocks_ago"]] = figures
    return [BlockComparison(a, b[0], b.get(1)) for a, b in found.items() if 0 in b]
