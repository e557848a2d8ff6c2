"""Garmin Connect's cursor and weigh-ins in the warehouse (ops.garmin_*, raw.garmin_weigh_ins).

The activity files go through the FIT import (raw.fit_files); what this module writes of an
activity is its row in ops.garmin_activities, inside the transaction of the file's rows, so a
fetched file and the cursor that says so commit together. Rows come by column name from the
connector's contract; nothing here knows Garmin's JSON.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from runlift.warehouse import db as wdb
from runlift.warehouse.db import utcnow


@dataclass
class GarminState:
    athlete_id: str
    high_water_start_utc: dt.datetime | None = None
    weigh_ins_through: dt.date | None = None


def load_state(con: duckdb.DuckDBPyConnection, athlete_id: str) -> GarminState:
    row = con.execute("SELECT high_water_start_utc, weigh_ins_through FROM ops.garmin_sync_state "
                      "WHERE athlete_id = ?", [athlete_id]).fetchone()
    return GarminState(athlete_id, *(row or (None, None)))


def fetched_ids(con: duckdb.DuckDBPyConnection, athlete_id: str) -> set[int]:
    return {r[0] for r in con.execute("SELECT activity_id FROM ops.garmin_activities WHERE athlete_id = ?",
                                      [athlete_id]).fetchall()}


def _ensure_state(con: duckdb.DuckDBPyConnection, athlete_id: str) -> None:
    wdb.upsert(con, "ops.garmin_sync_state", ("athlete_id",), "SELECT ?::VARCHAR AS athlete_id", [athlete_id],
               replace=False)


def record_activity(con: duckdb.DuckDBPyConnection, athlete_id: str, activity_id: int, start_utc: dt.datetime,
                    activity_type: str | None, outcome: str, sha: str | None, reason: str | None) -> None:
    """The activity fetched, and the high-water mark moved to its start (in the caller's transaction)."""
    wdb.upsert(con, "ops.garmin_activities", ("athlete_id", "activity_id"),
               "SELECT ?::VARCHAR AS athlete_id, ?::BIGINT AS activity_id, ?::TIMESTAMP AS start_utc, "
               "?::VARCHAR AS activity_type, ?::VARCHAR AS outcome, ?::VARCHAR AS file_sha256, ?::VARCHAR AS reason, "
               "?::TIMESTAMP AS fetched_at",
               [athlete_id, activity_id, start_utc, activity_type, outcome, sha, reason, utcnow()])
    _ensure_state(con, athlete_id)
    con.execute("UPDATE ops.garmin_sync_state SET high_water_start_utc = "
                "greatest(coalesce(high_water_start_utc, ?), ?) WHERE athlete_id = ?",
                [start_utc, start_utc, athlete_id])


@wdb.retry_conflicts
def save_weigh_ins(con: duckdb.DuckDBPyConnection, athlete_id: str, first: dt.date, last: dt.date,
                   rows: Sequence[dict[str, Any]]) -> int:
    """The weigh-ins of the days ``first``..``last`` replace what was kept of them, and the cursor
    moves to ``last``: one transaction."""
    now = utcnow()
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM raw.garmin_weigh_ins WHERE athlete_id = ? AND calendar_date BETWEEN ? AND ?",
                    [athlete_id, first, last])
        for r in rows:
            wdb.upsert(con, "raw.garmin_weigh_ins", ("athlete_id", "sample_pk"),
                       "SELECT ?::VARCHAR AS athlete_id, ?::TIMESTAMP AS fetched_at, "
                       "?::BIGINT AS sample_pk, ?::TIMESTAMP AS measured_at_utc, ?::DATE AS calendar_date, "
                       "?::DOUBLE AS body_mass_kg, ?::DOUBLE AS body_fat_percent, ?::DOUBLE AS body_water_percent, "
                       "?::DOUBLE AS bone_mass_kg, ?::DOUBLE AS muscle_mass_kg, ?::DOUBLE AS bmi_kg_m2, "
                       "?::VARCHAR AS source_type",
                       [athlete_id, now, r["sample_pk"], r["measured_at_utc"], r["calendar_date"],
                        r["body_mass_kg"], r["body_fat_percent"], r["body_water_percent"], r["bone_mass_kg"],
                         r["muscle_mass_kg"], r["bmi_kg_m2"], r["source_type"]])
        _ensure_state(con, athlete_id)
        con.execute("UPDATE ops.garmin_sync_state SET weigh_ins_through = greatest(coalesce(weigh_ins_through, ?), ?) "
                    "WHERE athlete_id = ?", [last, last, athlete_id])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return len(rows)


@wdb.retry_conflicts
def finish_run(con: duckdb.DuckDBPyConnection, athlete_id: str, status: str, message: str | None) -> None:
    _ensure_state(con, athlete_id)
    con.execute("UPDATE ops.garmin_sync_state SET last_run_at = ?, last_status = ?, last_message = ? "
                "WHERE athlete_id = ?", [utcnow(), status, message or None, athlete_id])

