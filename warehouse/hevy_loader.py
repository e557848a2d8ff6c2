"""Saving Hevy rows: workouts with their sets, deletions, exercise templates, body measurements,
and the sync's state (docs/hevy.md).

The rows come from the connector named as the columns of the raw tables (raw.hevy_*); this module
inserts them by column name and knows nothing of Hevy's JSON. Every function that changes rows
commits them in one transaction together with the sync state they imply, so a run stopped at any
point (a 429, kill -9) loses nothing and the next run repeats nothing it has to count again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from runlift.warehouse import db as wdb
from runlift.warehouse.db import Transaction, utcnow

WORKOUT_COLUMNS = ("workout_id", "title", "description", "start_time_utc", "end_time_utc", "updated_at_utc",
                   "created_at_utc", "payload_json")
SET_COLUMNS = ("workout_id", "exercise_index", "set_index", "exercise_title", "exercise_template_id", "superset_id",
               "exercise_notes", "set_type", "weight_kg", "reps", "distance_m", "duration_s", "rpe", "custom_metric")
TEMPLATE_COLUMNS = ("template_id", "title", "exercise_type", "primary_muscle_group", "secondary_muscle_groups",
                    "equipment", "is_custom", "payload_json")
MEASUREMENT_COLUMNS = ("measured_on", "body_mass_kg", "lean_mass_kg", "body_fat_percent", "payload_json")


@dataclass
class HevyState:
    athlete_id: str
    events_since: dt.datetime | None = None
    full_listing_page: int | None = None
    full_listing_started: dt.datetime | None = None
    last_full_listing_at: dt.datetime | None = None
    templates_synced_at: dt.datetime | None = None
    last_run_at: dt.datetime | None = None
    last_status: str | None = None
    last_message: str | None = None


def load_state(con: duckdb.DuckDBPyConnection, athlete_id: str) -> HevyState:
    return wdb.read_state(con, "ops.hevy_sync_state", HevyState, athlete_id)


def _save_state(con: duckdb.DuckDBPyConnection, state: HevyState) -> None:
    wdb.write_state(con, "ops.hevy_sync_state", state)


@wdb.retry_conflicts
def save_state(con: duckdb.DuckDBPyConnection, state: HevyState) -> None:
    with Transaction(con):
        _save_state(con, state)


@wdb.retry_conflicts
def save_workouts(con: duckdb.DuckDBPyConnection, state: HevyState,
                  workouts: Sequence[tuple[dict[str, Any], Sequence[dict[str, Any]]]], *,
                  listed: bool = False) -> tuple[int, int]:
    """Upsert workouts (each a row of raw.hevy_workouts and its rows of raw.hevy_sets) and save
    ``state``, in one transaction. A workout whose JSON is unchanged is left alone (not counted);
    a changed one has its sets replaced whole and its deletion mark cleared. ``listed``: the
    workouts come from a full listing (their last_listed_at is set). Returns (new, updated)."""
    athlete_id = state.athlete_id
    now = utcnow()
    new = updated = 0
    with Transaction(con):
        for workout, sets in workouts:
            wid = workout["workout_id"]
            if listed:
                con.execute("UPDATE raw.hevy_workouts SET last_listed_at = ? WHERE athlete_id = ? AND workout_id = ?",
                            [now, athlete_id, wid])
            known = con.execute("SELECT payload_json, deleted_at_utc FROM raw.hevy_workouts "
                                "WHERE athlete_id = ? AND workout_id = ?", [athlete_id, wid]).fetchone()
            if known is not None and known[0] == workout["payload_json"] and known[1] is None:
                continue
            values = [workout.get(c) for c in WORKOUT_COLUMNS]
            if known is None:
                con.execute(f"INSERT INTO raw.hevy_workouts (athlete_id, {', '.join(WORKOUT_COLUMNS)}, deleted_at_utc, "
                            f"first_seen_at, last_changed_at, last_listed_at) VALUES "
                            f"(?, {', '.join('?' * len(WORKOUT_COLUMNS))}, NULL, ?, ?, ?)",
                            [athlete_id, *values, now, now, now if listed else None])
                new += 1
            else:
                assignments = ", ".join(f"{c} = ?" for c in WORKOUT_COLUMNS[1:])
                con.execute(f"UPDATE raw.hevy_workouts SET {assignments}, deleted_at_utc = NULL, last_changed_at = ? "
                            "WHERE athlete_id = ? AND workout_id = ?", [*values[1:], now, athlete_id, wid])
                updated += 1
            con.execute("DELETE FROM raw.hevy_sets WHERE athlete_id = ? AND workout_id = ?", [athlete_id, wid])
            if sets:
                con.executemany(f"INSERT INTO raw.hevy_sets (athlete_id, {', '.join(SET_COLUMNS)}) "
                                f"VALUES (?, {', '.join('?' * len(SET_COLUMNS))})",
                                [[athlete_id, *(s.get(c) for c in SET_COLUMNS)] for s in sets])
        _save_state(con, state)
    return new, updated


@wdb.retry_conflicts
def mark_deleted(con: duckdb.DuckDBPyConnection, state: HevyState,
                 deletions: Iterable[tuple[str, dt.datetime | None]]) -> int:
    """Mark workouts deleted (their rows and sets are kept) and save ``state``, in one transaction.
    A deletion of a workout never stored, or already marked, changes nothing. Returns how many were marked."""
    now = utcnow()
    marked = 0
    with Transaction(con):
        for wid, deleted_at in deletions:
            row = con.execute("UPDATE raw.hevy_workouts SET deleted_at_utc = ?, last_changed_at = ? "
                              "WHERE athlete_id = ? AND workout_id = ? AND deleted_at_utc IS NULL RETURNING 1",
                              [deleted_at or now, now, state.athlete_id, wid]).fetchall()
            marked += len(row)
        _save_state(con, state)
    return marked


@wdb.retry_conflicts
def mark_unlisted(con: duckdb.DuckDBPyConnection, state: HevyState, listing_started: dt.datetime) -> int:
    """After a full listing that began at ``listing_started``: mark deleted every stored workout it
    did not list, and save ``state``, in one transaction. Returns how many were marked."""
    now = utcnow()
    with Transaction(con):
        marked = con.execute("UPDATE raw.hevy_workouts SET deleted_at_utc = ?, last_changed_at = ? "
                             "WHERE athlete_id = ? AND deleted_at_utc IS NULL "
                             "AND (last_listed_at IS NULL OR last_listed_at < ?) RETURNING 1",
                             [now, now, state.athlete_id, listing_started]).fetchall()
        _save_state(con, state)
    return len(marked)


def _upsert_changed(con: duckdb.DuckDBPyConnection, table: str, key: str, columns: Sequence[str], athlete_id: str,
                    rows: Iterable[dict[str, Any]]) -> int:
    now = utcnow()
    changed = 0
    for r in rows:
        known = con.execute(f"SELECT payload_json FROM {table} WHERE athlete_id = ? AND {key} = ?",
                            [athlete_id, r[key]]).fetchone()
        if known is not None and known[0] == r["payload_json"]:
            continue
        con.execute(f"DELETE FROM {table} WHERE athlete_id = ? AND {key} = ?", [athlete_id, r[key]])
        con.execute(f"INSERT INTO {table} (athlete_id, {', '.join(columns)}, synced_at) "
                    f"VALUES (?, {', '.join('?' * len(columns))}, ?)", [athlete_id, *(r.get(c) for c in columns), now])
        changed += 1
    return changed


@wdb.retry_conflicts
def save_templates(con: duckdb.DuckDBPyConnection, state: HevyState, rows: Iterable[dict[str, Any]]) -> int:
    """Upsert exercise templates and save ``state``; returns how many were added or changed."""
    with Transaction(con):
        changed = _upsert_changed(con, "raw.hevy_exercise_templates", "template_id", TEMPLATE_COLUMNS,
                                  state.athlete_id, rows)
        _save_state(con, state)
    return changed


@wdb.retry_conflicts
def save_measurements(con: duckdb.DuckDBPyConnection, state: HevyState, rows: Iterable[dict[str, Any]]) -> int:
    """Upsert body measurements (one per day) and save ``state``; returns how many were added or changed."""
    with Transaction(con):
        changed = _upsert_changed(con, "raw.hevy_body_measurements", "measured_on", MEASUREMENT_COLUMNS,
                                  state.athlete_id, rows)
        _save_state(con, state)
    return changed


def unknown_template_ids(con: duckdb.DuckDBPyConnection, athlete_id: str) -> list[str]:
    """Template ids used by the athlete's sets that raw.hevy_exercise_templates does not hold."""
    return [r[0] for r in con.execute(
        "SELECT DISTINCT s.exercise_template_id FROM raw.hevy_sets s LEFT JOIN raw.hevy_exercise_templates t "
        "ON t.athlete_id = s.athlete_id AND t.template_id = s.exercise_template_id "
        "WHERE s.athlete_id = ? AND s.exercise_template_id IS NOT NULL AND t.template_id IS NULL ORDER BY 1",
        [athlete_id]).fetchall()]


RUN_COLUMNS = ("run_id", "started_at", "finished_at", "mode", "api_calls", "new", "updated", "deleted", "templates",
               "measurements", "status", "message")


@wdb.retry_conflicts
def finish_run(con: duckdb.DuckDBPyConnection, state: HevyState, run: dict[str, Any]) -> None:
    """Record the run in ops.hevy_sync_runs and its outcome in the state, in one transaction."""
    state.last_run_at, state.last_status, state.last_message = run["finished_at"], run["status"], run["message"]
    with Transaction(con):
        con.execute(f"INSERT INTO ops.hevy_sync_runs (athlete_id, {', '.join(RUN_COLUMNS)}) "
                    f"VALUES (?, {', '.join('?' * len(RUN_COLUMNS))})",
                    [state.athlete_id, *(run.get(c) for c in RUN_COLUMNS)])
        _save_state(con, state)
