"""Saving Strava rows: idempotent upserts, streams, deletions and the sync's own state.

The rows come from the connector (connectors/strava/rows.py) named as the columns of the raw
tables; this module inserts them by name and knows nothing of Strava's JSON.

Every function that changes something does it in one transaction together with the sync state
it implies (cursor, rate-limit budget), so a kill -9 at any point loses nothing and the next run
repeats no finished work.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

import duckdb
import pyarrow as pa

from runlift.warehouse import db as wdb
from runlift.warehouse.db import Transaction, scalar, utcnow
from runlift.warehouse.sport_types import running_strava_types

# Strava sport types whose distance is running, from the seed warehouse/seeds/sport_types.csv
RUN_SPORT_TYPES = running_strava_types()

FUTURE_SLACK = dt.timedelta(days=1)  # starts later than now + this do not move the high-water mark


class ActivityPage(Protocol):
    """A listed page as the connector gives it (connectors/strava/rows.py): typed rows named as the
    columns of raw.strava_activities, the same rows as Arrow, and what could not be used."""

    rows: list[dict[str, Any]]  # activity_id, strava_athlete_id and start_time_utc are read here
    table: pa.Table | None
    problems: list[str]
    keep_when_null: tuple[str, ...]  # columns where a NULL keeps the stored value (the detail's)


class StreamSet(Protocol):
    """An activity's streams: ``status`` (``ok``, ``none``) and rows of raw.strava_streams."""

    status: str
    table: pa.Table | None


@dataclass
class SyncState:
    athlete_id: str
    strava_athlete_id: int | None = None
    listing_mode: str | None = None
    listing_cursor: int | None = None
    listing_started_at: dt.datetime | None = None
    high_water_start: int | None = None
    last_full_listing_at: dt.datetime | None = None
    last_listing_at: dt.datetime | None = None
    last_run_at: dt.datetime | None = None
    last_status: str | None = None
    last_message: str | None = None


def load_state(con: duckdb.DuckDBPyConnection, athlete_id: str) -> SyncState:
    return wdb.read_state(con, "ops.strava_sync_state", SyncState, athlete_id)


def _save_state(con: duckdb.DuckDBPyConnection, state: SyncState) -> None:
    wdb.write_state(con, "ops.strava_sync_state", state)


def load_budget(con: duckdb.DuckDBPyConnection, app: str) -> dict[str, Any] | None:
    """The rate-limit budget last saved for ``app``, by the columns of ops.strava_rate_limit
    (``observed_at`` as epoch seconds), or None."""
    cur = con.execute("SELECT * EXCLUDE (app, observed_at), epoch(observed_at) AS observed_at "
                      "FROM ops.strava_rate_limit WHERE app = ?", [app])
    row = cur.fetchone()
    return dict(zip([d[0] for d in cur.description], row, strict=True)) if row else None


def _save_budget(con: duckdb.DuckDBPyConnection, app: str, budget: dict[str, Any]) -> None:
    """Keep a budget (``observed_at`` epoch seconds, the other keys named as the table's columns)."""
    if budget.get("observed_at") is None:
        return
    observed = dt.datetime.fromtimestamp(budget["observed_at"], dt.UTC).replace(tzinfo=None)
    rest = [k for k in budget if k != "observed_at"]
    con.execute("DELETE FROM ops.strava_rate_limit WHERE app = ?", [app])
    con.execute(f"INSERT INTO ops.strava_rate_limit (app, observed_at, {', '.join(rest)}) "
                f"VALUES (?, ?, {', '.join('?' * len(rest))})", [app, observed, *(budget[k] for k in rest)])




@wdb.retry_conflicts
def save_page(con: duckdb.DuckDBPyConnection, state: SyncState, page: ActivityPage, *,
              app: str, budget: dict[str, Any], full_listing: bool) -> tuple[int, int, list[str]]:
    """Upsert one listed page and move the cursor, in one transaction.

    Returns (new, updated, problems): ``problems`` are the page's own (payloads skipped or with
    values stored as NULL) and starts more than a day in the future, which do not move the
    high-water mark. Problems quote server text: redact them before showing them.
    """
    rows, problems, batch = page.rows, list(page.problems), page.table
    horizon = utcnow() + FUTURE_SLACK
    for t in rows:
        if t["start_time_utc"] is not None and t["start_time_utc"] > horizon:
            problems.append(f"activity {t['activity_id']} is dated in the future ({t['start_time_utc']:%Y-%m-%d %H:%M} "
                            "UTC, more than a day from now): stored, not used to place the next incremental listing")
    now = utcnow()
    with Transaction(con):
        new = updated = 0
        if batch is not None:
            con.register("_rl_page", batch)
            try:
                set_cols = ", ".join(
                    f"{c} = coalesce(b.{c}, t.{c})" if c in page.keep_when_null else f"{c} = b.{c}"
                    for c in batch.schema.names if c != "activity_id")
                updated = scalar(con, f"""
                    UPDATE raw.strava_activities t SET {set_cols}, fetched_at = ?, deleted_at = NULL,
                        detail_fetched_at = NULL, detail_payload = NULL,
                        streams_status = CASE WHEN t.start_time_utc IS DISTINCT FROM b.start_time_utc
                                                OR t.distance_m IS DISTINCT FROM b.distance_m
                                                OR t.sport_type IS DISTINCT FROM b.sport_type
                                              THEN NULL ELSE t.streams_status END
                    FROM _rl_page b
                    WHERE t.athlete_id = ? AND t.activity_id = b.activity_id
                      AND (t.payload::VARCHAR <> b.payload OR t.deleted_at IS NOT NULL)""",
                                 [now, state.athlete_id])
                # streams of an activity whose start, distance or sport changed are fetched again:
                # drop the old ones now (rare: only after an update), so storing streams never needs a delete
                if updated:
                        con.execute("""DELETE FROM raw.strava_streams s WHERE s.athlete_id = ? AND s.activity_id IN (
                                       SELECT t.activity_id
                                       FROM raw.strava_activities t JOIN _rl_page b USING (activity_id)
                                       WHERE t.athlete_id = ? AND t.streams_status IS NULL)""",
                                [state.athlete_id, state.athlete_id])
                cols = ", ".join(batch.schema.names)
                new = scalar(con, f"""
                    INSERT INTO raw.strava_activities ({cols}, athlete_id, first_fetched_at, fetched_at)
                    SELECT {cols}, ?, ?, ? FROM _rl_page b WHERE NOT EXISTS (
                        SELECT 1 FROM raw.strava_activities t WHERE t.athlete_id = ? AND t.activity_id = b.activity_id)
                    QUALIFY row_number() OVER (PARTITION BY activity_id) = 1""",
                             [state.athlete_id, now, now, state.athlete_id])
                if full_listing:
                    wdb.upsert(con, "ops.strava_listing_seen", ("athlete_id", "activity_id"),
                               "SELECT DISTINCT ?::VARCHAR AS athlete_id, activity_id FROM _rl_page",
                               [state.athlete_id], replace=False)
            finally:
                con.unregister("_rl_page")
            starts = [int(r["start_time_utc"].replace(tzinfo=dt.UTC).timestamp()) for r in rows
                      if r["start_time_utc"] and r["start_time_utc"] <= horizon]
            if (state.high_water_start is not None
                    and state.high_water_start > horizon.replace(tzinfo=dt.UTC).timestamp()):
                state.high_water_start = None  # set from a future-dated activity by an older runlift
            if starts:
                state.high_water_start = max([state.high_water_start or 0, *starts])
            athletes = {r["strava_athlete_id"] for r in rows if r["strava_athlete_id"]}
            if len(athletes) == 1 and state.strava_athlete_id is None:
                state.strava_athlete_id = athletes.pop()
        _save_state(con, state)
        _save_budget(con, app, budget)
    return new, updated, problems


@wdb.retry_conflicts
def start_listing(con: duckdb.DuckDBPyConnection, state: SyncState, mode: str, cursor: int) -> None:
    with Transaction(con):
        state.listing_mode, state.listing_cursor, state.listing_started_at = mode, cursor, utcnow()
        con.execute("DELETE FROM ops.strava_listing_seen WHERE athlete_id = ?", [state.athlete_id])
        _save_state(con, state)


@wdb.retry_conflicts
def finish_listing(con: duckdb.DuckDBPyConnection, state: SyncState) -> int:
    """End the listing under way; a full one marks activities it did not see as deleted."""
    deleted = 0
    now = utcnow()
    with Transaction(con):
        if state.listing_mode == "full":
            deleted = scalar(con, """
                UPDATE raw.strava_activities t SET deleted_at = ?
                WHERE t.athlete_id = ? AND t.deleted_at IS NULL AND NOT EXISTS (
                    SELECT 1 FROM ops.strava_listing_seen s
                    WHERE s.athlete_id = t.athlete_id AND s.activity_id = t.activity_id)
            """, [now, state.athlete_id])
            con.execute("DELETE FROM ops.strava_listing_seen WHERE athlete_id = ?", [state.athlete_id])
            state.last_full_listing_at = now
        state.listing_mode = state.listing_cursor = state.listing_started_at = None
        state.last_listing_at = now
        _save_state(con, state)
    return deleted


def pending_streams(con: duckdb.DuckDBPyConnection, athlete_id: str, sport_types: tuple[str, ...] = RUN_SPORT_TYPES,
                    ) -> list[int]:
    """Activities still waiting for streams, newest first (never manual ones, never deleted ones)."""
    rows = con.execute("""
        SELECT activity_id FROM raw.strava_activities
        WHERE athlete_id = ? AND streams_status IS NULL AND deleted_at IS NULL
          AND coalesce(is_manual, false) = false AND list_contains(?, sport_type)
        ORDER BY start_time_utc DESC NULLS LAST, activity_id DESC""", [athlete_id, list(sport_types)]).fetchall()
    return [r[0] for r in rows]


def pending_details(con: duckdb.DuckDBPyConnection, athlete_id: str) -> list[int]:
    rows = con.execute("""
        SELECT activity_id FROM raw.strava_activities
        WHERE athlete_id = ? AND detail_fetched_at IS NULL AND deleted_at IS NULL
        ORDER BY start_time_utc DESC NULLS LAST, activity_id DESC""", [athlete_id]).fetchall()
    return [r[0] for r in rows]


@wdb.retry_conflicts
def save_streams(con: duckdb.DuckDBPyConnection, athlete_id: str, activity_id: int, streams: StreamSet, *,
                 app: str, budget: dict[str, Any]) -> int:
    """Replace an activity's streams and mark it with their status; returns streams stored."""
    now = utcnow()
    with Transaction(con):
        if streams.table is not None and streams.table.num_rows:
            con.register("_rl_streams", streams.table)
            try:
                # INSERT OR REPLACE: a delete per activity costs a scan of the whole streams table
                wdb.upsert(con, "raw.strava_streams", ("athlete_id", "activity_id", "stream_type"),
                           """SELECT ?::VARCHAR AS athlete_id, ?::BIGINT AS activity_id, *, ?::TIMESTAMP AS fetched_at
                              FROM _rl_streams""", [athlete_id, activity_id, now])
            finally:
                con.unregister("_rl_streams")
        con.execute("UPDATE raw.strava_activities SET streams_status = ? WHERE athlete_id = ? AND activity_id = ?",
                    [streams.status, athlete_id, activity_id])
        _save_budget(con, app, budget)
    return streams.table.num_rows if streams.table is not None else 0


@wdb.retry_conflicts
def save_detail(con: duckdb.DuckDBPyConnection, athlete_id: str, activity_id: int, detail: dict[str, Any] | None,
                *, app: str, budget: dict[str, Any]) -> None:
    """Store what a detail payload adds (``detail_payload`` and columns of raw.strava_activities,
    each kept as stored where the detail has NULL); None: gone at Strava or unusable, marked
    fetched, nothing kept (left to the next full listing)."""
    now = utcnow()
    with Transaction(con):
        if detail is not None:
            cols = [c for c in detail if c != "detail_payload"]
            sets = ["detail_payload = ?", "detail_fetched_at = ?", *(f"{c} = coalesce(?, {c})" for c in cols)]
            con.execute(f"""UPDATE raw.strava_activities SET {', '.join(sets)}
                            WHERE athlete_id = ? AND activity_id = ?""",
                        [detail["detail_payload"], now, *[detail[c] for c in cols], athlete_id, activity_id])
        else:
            con.execute("UPDATE raw.strava_activities SET detail_fetched_at = ? "
                        "WHERE athlete_id = ? AND activity_id = ?", [now, athlete_id, activity_id])
        _save_budget(con, app, budget)


GEAR_ID_PATTERN = "[A-Za-z0-9]{1,64}"  # Strava's gear ids (g123, b456); anything else is never asked for


def pending_gear(con: duckdb.DuckDBPyConnection, athlete_id: str, refresh_days: int) -> list[str]:
    """Gear ids of the athlete's activities (``gear_id``) never fetched, or last fetched
    ``refresh_days`` or more ago (names and retirement change rarely), most used first."""
    rows = con.execute("""
        WITH used AS (
            SELECT gear_id, count(*) AS n
            FROM raw.strava_activities
            WHERE athlete_id = ? AND deleted_at IS NULL AND gear_id IS NOT NULL
            GROUP BY ALL
        )
        SELECT u.gear_id FROM used u
        LEFT JOIN raw.strava_gear g ON g.athlete_id = ? AND g.gear_id = u.gear_id
        WHERE regexp_full_match(u.gear_id, ?)
          AND (g.gear_id IS NULL OR g.fetched_at <= ? - to_days(?::INTEGER))
        ORDER BY u.n DESC, u.gear_id""",
                       [athlete_id, athlete_id, GEAR_ID_PATTERN, utcnow(), refresh_days]).fetchall()
    return [r[0] for r in rows]


@wdb.retry_conflicts
def save_gear(con: duckdb.DuckDBPyConnection, athlete_id: str, gear_id: str, gear: dict[str, Any], *,
              app: str, budget: dict[str, Any]) -> None:
    """Upsert one gear's row of raw.strava_gear (columns by name, from the connector's gear row) with
    the rate budget, in one transaction; ``first_fetched_at`` is kept."""
    now = utcnow()
    cols = list(gear)
    with Transaction(con):
        # MERGE rather than ON CONFLICT: the same statement in a DuckDB file and in a lake (no keys)
        con.execute(f"""
            MERGE INTO raw.strava_gear t
            USING (SELECT ?::VARCHAR AS athlete_id, ?::VARCHAR AS gear_id) k
            ON t.athlete_id = k.athlete_id AND t.gear_id = k.gear_id
            WHEN MATCHED THEN UPDATE SET {', '.join(f'{c} = ?' for c in cols)}, fetched_at = ?
            WHEN NOT MATCHED THEN INSERT (athlete_id, gear_id, {', '.join(cols)}, first_fetched_at, fetched_at)
                VALUES (k.athlete_id, k.gear_id, {', '.join('?' * len(cols))}, ?, ?)""",
                    [athlete_id, gear_id, *[gear[c] for c in cols], now, *[gear[c] for c in cols], now, now])
        _save_budget(con, app, budget)


def mark_without_streams(con: duckdb.DuckDBPyConnection, athlete_id: str, sport_types: tuple[str, ...]) -> None:
    """Activities that will get no streams are marked so they are never asked for: manual ones
    (Strava has none: ``none``) and sport types the settings leave out (``skipped``)."""
    con.execute("""UPDATE raw.strava_activities
                   SET streams_status = CASE WHEN coalesce(is_manual, false) THEN 'none' ELSE 'skipped' END
                   WHERE athlete_id = ? AND streams_status IS NULL
                     AND (coalesce(is_manual, false) OR NOT list_contains(?, sport_type))""",
                [athlete_id, list(sport_types)])


@wdb.retry_conflicts
def finish_run(con: duckdb.DuckDBPyConnection, state: SyncState, run: dict[str, Any], *, app: str,
               budget: dict[str, Any]) -> None:
    with Transaction(con):
        state.last_run_at, state.last_status, state.last_message = run["finished_at"], run["status"], run["message"]
        _save_state(con, state)
        _save_budget(con, app, budget)
        con.execute("""INSERT INTO ops.strava_sync_runs (run_id, athlete_id, started_at, finished_at, listing_mode,
                           api_calls, activities_new, activities_updated, activities_deleted, streams_fetched,
                           details_fetched, status, message, gear_fetched)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    [run["run_id"], state.athlete_id, run["started_at"], run["finished_at"], run["listing_mode"],
                     run["api_calls"], run["new"], run["updated"], run["deleted"], run["streams"], run["details"],
                     run["status"], run["message"], run.get("gear", 0)])


@wdb.retry_conflicts
def forget(con: duckdb.DuckDBPyConnection, athlete_id: str) -> dict[str, int]:
    """Delete every Strava row of an athlete (Strava's terms, on deauthorization)."""
    out = {}
    with Transaction(con):
        for table in ("raw.strava_streams", "raw.strava_activities", "raw.strava_gear", "ops.strava_listing_seen",
                      "ops.strava_sync_state", "ops.strava_sync_runs"):
            out[table] = scalar(con, f"DELETE FROM {table} WHERE athlete_id = ?", [athlete_id])
    return out
