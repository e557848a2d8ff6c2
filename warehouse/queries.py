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

from runlift.warehouse.db import utcnow
from runlift.warehouse.publish import STRAVA_ACTIVITY_COUNTS

# --- pipeline state (runlift status) ---------------------------------------------------------------


@dataclass(frozen=True)
class PublishedStamp:
    published_at: dt.datetime  # UTC
    as_of_date: dt.date | None  # the marts' as-of date


def published_stamp(con: duckdb.DuckDBPyConnection) -> PublishedStamp | None:
    """When the published file was written and for which as-of date (published file only)."""
    row = con.execute("SELECT published_at, as_of_date FROM ops.published").fetchone()
    return PublishedStamp(*row) if row else None


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
