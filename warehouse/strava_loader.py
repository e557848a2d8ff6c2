"""Saving Strava payloads: idempotent upserts, streams, deletions and the sync's own state.

Every function that changes something does it in one transaction together with the sync state
it implies (cursor, rate-limit budget), so a kill -9 at any point loses nothing and the next run
repeats no finished work.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from runlift.connectors.strava.client import BUDGET_FIELDS
from runlift.warehouse.db import utcnow
from runlift.warehouse.sport_types import running_strava_types

# Strava sport types whose distance is running, from the seed warehouse/seeds/sport_types.csv
RUN_SPORT_TYPES = running_strava_types()

TYPED = pa.schema([
    ("activity_id", pa.int64()), ("strava_athlete_id", pa.int64()), ("name", pa.string()),
    ("sport_type", pa.string()), ("type", pa.string()), ("start_time_utc", pa.timestamp("us")),
    ("start_time_local", pa.timestamp("us")), ("timezone", pa.string()), ("utc_offset_s", pa.int32()),
    ("distance_m", pa.float64()), ("moving_time_s", pa.float64()), ("elapsed_time_s", pa.float64()),
    ("elevation_gain_m", pa.float64()), ("average_speed_mps", pa.float64()), ("max_speed_mps", pa.float64()),
    ("average_cadence_rpm", pa.float64()), ("average_heartrate_bpm", pa.float64()),
    ("max_heartrate_bpm", pa.float64()), ("calories_kcal", pa.float64()), ("perceived_exertion", pa.float64()),
    ("external_id", pa.string()), ("upload_id", pa.int64()), ("device_name", pa.string()),
    ("is_manual", pa.bool_()), ("is_trainer", pa.bool_()), ("is_commute", pa.bool_()),
    ("payload", pa.string()),
])
DETAIL_ONLY = ("calories_kcal", "perceived_exertion", "device_name")
UPDATABLE = [n for n in TYPED.names if n != "activity_id"]


INT64 = (-2**63, 2**63 - 1)
MAX_OFFSET_S = 86400  # a utc_offset beyond a day is not a time zone
FUTURE_SLACK = dt.timedelta(days=1)  # starts later than now + this do not move the high-water mark


def _clean(v: Any) -> Any:
    """JSON that DuckDB can hold: non-finite numbers become null, lone surrogates U+FFFD."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, str):
        try:
            v.encode("utf-8")
            return v
        except UnicodeEncodeError:
            return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in v)
    if isinstance(v, dict):
        return {_clean(k): _clean(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_clean(x) for x in v]
    return v


def canonical_json(payload: Any) -> str:
    """The payload as stored: sorted keys, compact, as sent except for what JSON cannot hold
    (NaN and infinities become null). Raises ValueError (or RecursionError) when it cannot be."""
    return json.dumps(_clean(payload), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _num(v: Any) -> float | None:
    """A finite number, or None (bools, text that is no number, NaN and infinities)."""
    if isinstance(v, bool) or v is None or isinstance(v, (dict, list)):
        return None
    if isinstance(v, str) and len(v) > 64:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError, OverflowError):
        return None
    return f if math.isfinite(f) else None


def _int(v: Any, lo: int = INT64[0], hi: int = INT64[1], *, whole: bool = False) -> int | None:
    """A whole number within lo..hi, or None; ``whole``: a number with a fraction is None too."""
    if isinstance(v, int) and not isinstance(v, bool):
        return v if lo <= v <= hi else None
    f = _num(v)
    if f is None or (whole and f != int(f)):
        return None
    i = int(f)
    return i if lo <= i <= hi else None


def _bool(v: Any) -> bool | None:
    return v if isinstance(v, bool) else None


def _str(v: Any) -> str | None:
    return None if v is None or isinstance(v, (dict, list)) else _clean(str(v))


def _time(v: Any) -> dt.datetime | None:
    """Strava's ISO times; start_date_local ends in Z although it is local wall-clock time."""
    if not isinstance(v, str) or not v or len(v) > 64:
        return None
    try:
        parsed = dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):
        return None
    return parsed


def typed(payload: dict[str, Any]) -> dict[str, Any]:
    """Typed key columns from one activity payload (list or detail); odd values become NULL."""
    athlete = payload.get("athlete") if isinstance(payload.get("athlete"), dict) else {}
    return {
        "activity_id": _int(payload.get("id"), 1, INT64[1], whole=True),
        "strava_athlete_id": _int(athlete.get("id"), 1, INT64[1], whole=True),
        "name": _str(payload.get("name")),
        "sport_type": _str(payload.get("sport_type")) or _str(payload.get("type")),
        "type": _str(payload.get("type")),
        "start_time_utc": _time(payload.get("start_date")),
        "start_time_local": _time(payload.get("start_date_local")),
        "timezone": _str(payload.get("timezone")),
        "utc_offset_s": _int(payload.get("utc_offset"), -MAX_OFFSET_S, MAX_OFFSET_S),
        "distance_m": _num(payload.get("distance")),
        "moving_time_s": _num(payload.get("moving_time")),
        "elapsed_time_s": _num(payload.get("elapsed_time")),
        "elevation_gain_m": _num(payload.get("total_elevation_gain")),
        "average_speed_mps": _num(payload.get("average_speed")),
        "max_speed_mps": _num(payload.get("max_speed")),
        "average_cadence_rpm": _num(payload.get("average_cadence")),
        "average_heartrate_bpm": _num(payload.get("average_heartrate")),
        "max_heartrate_bpm": _num(payload.get("max_heartrate")),
        "calories_kcal": _num(payload.get("calories")),
        "perceived_exertion": _num(payload.get("perceived_exertion")),
        "external_id": _str(payload.get("external_id")),
        "upload_id": _int(payload.get("upload_id"), 0, INT64[1], whole=True),
        "device_name": _str(payload.get("device_name")),
        "is_manual": _bool(payload.get("manual")),
        "is_trainer": _bool(payload.get("trainer")),
        "is_commute": _bool(payload.get("commute")),
        "payload": canonical_json(payload),
    }


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


STATE_FIELDS = tuple(SyncState.__dataclass_fields__)


def load_state(con: duckdb.DuckDBPyConnection, athlete_id: str) -> SyncState:
    row = con.execute(f"SELECT {', '.join(STATE_FIELDS)} FROM ops.strava_sync_state WHERE athlete_id = ?",
                      [athlete_id]).fetchone()
    return SyncState(*row) if row else SyncState(athlete_id)


def _save_state(con: duckdb.DuckDBPyConnection, state: SyncState) -> None:
    con.execute("DELETE FROM ops.strava_sync_state WHERE athlete_id = ?", [state.athlete_id])
    con.execute(f"INSERT INTO ops.strava_sync_state ({', '.join(STATE_FIELDS)}) "
                f"VALUES ({', '.join('?' * len(STATE_FIELDS))})", [getattr(state, f) for f in STATE_FIELDS])


def load_budget(con: duckdb.DuckDBPyConnection, app: str) -> dict[str, Any] | None:
    cols = ", ".join(("epoch(observed_at)", *BUDGET_FIELDS[1:]))
    row = con.execute(f"SELECT {cols} FROM ops.strava_rate_limit WHERE app = ?", [app]).fetchone()
    return dict(zip(BUDGET_FIELDS, row)) if row else None


def _save_budget(con: duckdb.DuckDBPyConnection, app: str, budget: dict[str, Any]) -> None:
    if budget.get("observed_at") is None:
        return
    observed = dt.datetime.fromtimestamp(budget["observed_at"], dt.UTC).replace(tzinfo=None)
    con.execute("DELETE FROM ops.strava_rate_limit WHERE app = ?", [app])
    con.execute(f"INSERT INTO ops.strava_rate_limit (app, {', '.join(BUDGET_FIELDS)}) "
                f"VALUES (?, {', '.join('?' * len(BUDGET_FIELDS))})",
                [app, observed, *(budget[k] for k in BUDGET_FIELDS[1:])])


class _Tx:
    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def __enter__(self) -> duckdb.DuckDBPyConnection:
        self.con.execute("BEGIN TRANSACTION")
        return self.con

    def __exit__(self, exc_type: object, *_: object) -> None:
        self.con.execute("ROLLBACK" if exc_type else "COMMIT")


ODD_CHECKED = {  # typed column -> payload key: a value sent but unusable is noted
    "utc_offset_s": "utc_offset", "start_time_utc": "start_date", "start_time_local": "start_date_local",
    "distance_m": "distance", "moving_time_s": "moving_time", "elapsed_time_s": "elapsed_time",
    "elevation_gain_m": "total_elevation_gain", "average_speed_mps": "average_speed", "max_speed_mps": "max_speed",
    "average_cadence_rpm": "average_cadence", "average_heartrate_bpm": "average_heartrate",
    "max_heartrate_bpm": "max_heartrate", "upload_id": "upload_id",
}


def _brief(v: Any, limit: int = 80) -> str:
    """A short, printable excerpt of a server value (the caller redacts it before showing it)."""
    try:
        text = json.dumps(v, sort_keys=True, separators=(",", ":"), default=str)
    except (ValueError, RecursionError):
        text = f"<{type(v).__name__}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _arrow_rows(rows: list[dict[str, Any]], problems: list[str]) -> pa.Table | None:
    """The rows as an Arrow table; a row Arrow refuses is skipped with a problem, not the page."""
    if not rows:
        return None
    try:
        return pa.Table.from_pylist(rows, schema=TYPED)
    except (pa.ArrowException, ValueError, TypeError, OverflowError):
        pass
    kept = []
    for r in rows:
        try:
            pa.Table.from_pylist([r], schema=TYPED)
            kept.append(r)
        except (pa.ArrowException, ValueError, TypeError, OverflowError) as exc:
            problems.append(f"activity {r['activity_id']} skipped: it cannot be stored ({type(exc).__name__})")
    rows[:] = kept
    return pa.Table.from_pylist(kept, schema=TYPED) if kept else None


def save_page(con: duckdb.DuckDBPyConnection, state: SyncState, activities: list[dict[str, Any]], *,
              app: str, budget: dict[str, Any], full_listing: bool) -> tuple[int, int, list[str]]:
    """Upsert one listed page and move the cursor, in one transaction.

    Returns (new, updated, problems): ``problems`` describes payloads that could not be stored
    (no usable id; the message says "skipped"), values stored as NULL because they are odd, and
    starts more than a day in the future, which do not move the high-water mark. Unknown fields
    and sport types are kept as sent. Problems quote server text: redact them before showing them.
    """
    rows, problems = [], []
    horizon = utcnow() + FUTURE_SLACK
    for a in activities:
        if not isinstance(a, dict):
            problems.append(f"activity payload is not an object, skipped: {_brief(a)}")
            continue
        try:
            t = typed(a)
        except (ValueError, RecursionError):  # a payload JSON cannot hold (nesting too deep)
            problems.append(f"activity payload that cannot be stored skipped: {_brief(a)}")
            continue
        if t["activity_id"] is None:
            problems.append(f"activity without a usable id skipped: {_brief(a)}")
            continue
        odd = [f"{key} {_brief(a[key], 24)}" for col, key in ODD_CHECKED.items()
               if a.get(key) is not None and t[col] is None]
        if odd:
            problems.append(f"activity {t['activity_id']}: odd {', '.join(odd)} stored as NULL (payload kept)")
        if t["start_time_utc"] is not None and t["start_time_utc"] > horizon:
            problems.append(f"activity {t['activity_id']} is dated in the future ({t['start_time_utc']:%Y-%m-%d %H:%M} "
                            "UTC, more than a day from now): stored, not used to place the next incremental listing")
        rows.append(t)
    batch = _arrow_rows(rows, problems)
    now = utcnow()
    with _Tx(con):
        new = updated = 0
        if batch is not None:
            con.register("_rl_page", batch)
            try:
                set_cols = ", ".join(
                    f"{c} = coalesce(b.{c}, t.{c})" if c in DETAIL_ONLY else f"{c} = b.{c}" for c in UPDATABLE)
                updated = con.execute(f"""
                    UPDATE raw.strava_activities t SET {set_cols}, fetched_at = ?, deleted_at = NULL,
                        detail_fetched_at = NULL, detail_payload = NULL,
                        streams_status = CASE WHEN t.start_time_utc IS DISTINCT FROM b.start_time_utc
                                                OR t.distance_m IS DISTINCT FROM b.distance_m
                                                OR t.sport_type IS DISTINCT FROM b.sport_type
                                              THEN NULL ELSE t.streams_status END
                    FROM _rl_page b
                    WHERE t.athlete_id = ? AND t.activity_id = b.activity_id
                      AND (t.payload::VARCHAR <> b.payload OR t.deleted_at IS NOT NULL)""",
                                      [now, state.athlete_id]).fetchone()[0]
                # streams of an activity whose start, distance or sport changed are fetched again:
                # drop the old ones now (rare: only after an update), so storing streams never needs a delete
                if updated:
                        con.execute("""DELETE FROM raw.strava_streams s WHERE s.athlete_id = ? AND s.activity_id IN (
                                       SELECT t.activity_id FROM raw.strava_activities t JOIN _rl_page b USING (activity_id)
                                       WHERE t.athlete_id = ? AND t.streams_status IS NULL)""",
                                [state.athlete_id, state.athlete_id])
                cols = ", ".join(TYPED.names)
                new = con.execute(f"""
                    INSERT INTO raw.strava_activities ({cols}, athlete_id, first_fetched_at, fetched_at)
                    SELECT {cols}, ?, ?, ? FROM _rl_page b WHERE NOT EXISTS (
                        SELECT 1 FROM raw.strava_activities t WHERE t.athlete_id = ? AND t.activity_id = b.activity_id)
                    QUALIFY row_number() OVER (PARTITION BY activity_id) = 1""",
                                  [state.athlete_id, now, now, state.athlete_id]).fetchone()[0]
                if full_listing:
                    con.execute("""INSERT INTO ops.strava_listing_seen SELECT DISTINCT ?, activity_id FROM _rl_page
                                   ON CONFLICT DO NOTHING""", [state.athlete_id])
            finally:
                con.unregister("_rl_page")
            starts = [int(r["start_time_utc"].replace(tzinfo=dt.UTC).timestamp()) for r in rows
                      if r["start_time_utc"] and r["start_time_utc"] <= horizon]
            if state.high_water_start is not None and state.high_water_start > horizon.replace(tzinfo=dt.UTC).timestamp():
                state.high_water_start = None  # set from a future-dated activity by an older runlift
            if starts:
                state.high_water_start = max([state.high_water_start or 0, *starts])
            athletes = {r["strava_athlete_id"] for r in rows if r["strava_athlete_id"]}
            if len(athletes) == 1 and state.strava_athlete_id is None:
                state.strava_athlete_id = athletes.pop()
        _save_state(con, state)
        _save_budget(con, app, budget)
    return new, updated, problems


def start_listing(con: duckdb.DuckDBPyConnection, state: SyncState, mode: str, cursor: int) -> None:
    with _Tx(con):
        state.listing_mode, state.listing_cursor, state.listing_started_at = mode, cursor, utcnow()
        con.execute("DELETE FROM ops.strava_listing_seen WHERE athlete_id = ?", [state.athlete_id])
        _save_state(con, state)


def finish_listing(con: duckdb.DuckDBPyConnection, state: SyncState) -> int:
    """End the listing under way; a full one marks activities it did not see as deleted."""
    deleted = 0
    now = utcnow()
    with _Tx(con):
        if state.listing_mode == "full":
            deleted = con.execute("""
                UPDATE raw.strava_activities t SET deleted_at = ?
                WHERE t.athlete_id = ? AND t.deleted_at IS NULL AND NOT EXISTS (
                    SELECT 1 FROM ops.strava_listing_seen s WHERE s.athlete_id = t.athlete_id AND s.activity_id = t.activity_id)
            """, [now, state.athlete_id]).fetchone()[0]
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


def save_streams(con: duckdb.DuckDBPyConnection, athlete_id: str, activity_id: int,
                 streams: dict[str, Any] | None, *, app: str, budget: dict[str, Any]) -> int:
    """Replace an activity's streams (None: Strava has none) and mark it; returns streams stored."""
    rows = []
    for key, s in (streams or {}).items():
        if not isinstance(s, dict) or not isinstance(s.get("data"), list):
            continue
        data = s["data"]
        if key == "latlng":
            pairs = [p if isinstance(p, list) and len(p) == 2 else [None, None] for p in data]
            split = {"lat": [_num(p[0]) for p in pairs], "lng": [_num(p[1]) for p in pairs]}
        else:
            split = {key: [float(v) if isinstance(v, bool) else _num(v) for v in data]}
        for name, values in split.items():
            rows.append({"stream_type": name, "series_type": _str(s.get("series_type")),
                         "original_size": _int(s.get("original_size"), 0, 2**31 - 1),
                         "resolution": _str(s.get("resolution")),
                         "data": values})
    status = "ok" if streams is not None else "none"
    now = utcnow()
    with _Tx(con):
        if rows:
            tbl = pa.Table.from_pylist(rows, schema=pa.schema([
                ("stream_type", pa.string()), ("series_type", pa.string()), ("original_size", pa.int32()),
                ("resolution", pa.string()), ("data", pa.list_(pa.float64()))]))
            con.register("_rl_streams", tbl)
            try:
                # INSERT OR REPLACE: a delete per activity costs a scan of the whole streams table
                con.execute("""INSERT OR REPLACE INTO raw.strava_streams BY NAME
                               SELECT ?::VARCHAR AS athlete_id, ?::BIGINT AS activity_id, *, ?::TIMESTAMP AS fetched_at
                               FROM _rl_streams""", [athlete_id, activity_id, now])
            finally:
                con.unregister("_rl_streams")
        con.execute("UPDATE raw.strava_activities SET streams_status = ? WHERE athlete_id = ? AND activity_id = ?",
                    [status, athlete_id, activity_id])
        _save_budget(con, app, budget)
    return len(rows)


def save_detail(con: duckdb.DuckDBPyConnection, athlete_id: str, activity_id: int, detail: dict[str, Any] | None,
                *, app: str, budget: dict[str, Any]) -> None:
    """Store a detail payload (None: gone at Strava, left to the next full listing)."""
    now = utcnow()
    t = None
    if isinstance(detail, dict):
        try:
            t = typed(detail)
        except (ValueError, RecursionError):  # a payload JSON cannot hold: marked fetched, nothing kept
            t = None
    with _Tx(con):
        if t is not None:
            con.execute(f"""UPDATE raw.strava_activities SET detail_payload = ?, detail_fetched_at = ?,
                               {', '.join(f'{c} = coalesce(?, {c})' for c in DETAIL_ONLY)}
                            WHERE athlete_id = ? AND activity_id = ?""",
                        [t["payload"], now, *[t[c] for c in DETAIL_ONLY], athlete_id, activity_id])
        else:
            con.execute("UPDATE raw.strava_activities SET detail_fetched_at = ? WHERE athlete_id = ? AND activity_id = ?",
                        [now, athlete_id, activity_id])
        _save_budget(con, app, budget)


def mark_without_streams(con: duckdb.DuckDBPyConnection, athlete_id: str, sport_types: tuple[str, ...]) -> None:
    """Activities that will get no streams are marked so they are never asked for: manual ones
    (Strava has none: ``none``) and sport types the settings leave out (``skipped``)."""
    con.execute("""UPDATE raw.strava_activities
                   SET streams_status = CASE WHEN coalesce(is_manual, false) THEN 'none' ELSE 'skipped' END
                   WHERE athlete_id = ? AND streams_status IS NULL
                     AND (coalesce(is_manual, false) OR NOT list_contains(?, sport_type))""",
                [athlete_id, list(sport_types)])


def finish_run(con: duckdb.DuckDBPyConnection, state: SyncState, run: dict[str, Any], *, app: str,
               budget: dict[str, Any]) -> None:
    with _Tx(con):
        state.last_run_at, state.last_status, state.last_message = run["finished_at"], run["status"], run["message"]
        _save_state(con, state)
        _save_budget(con, app, budget)
        con.execute("INSERT INTO ops.strava_sync_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [run["run_id"], state.athlete_id, run["started_at"], run["finished_at"], run["listing_mode"],
                     run["api_calls"], run["new"], run["updated"], run["deleted"], run["streams"], run["details"],
                     run["status"], run["message"]])


def forget(con: duckdb.DuckDBPyConnection, athlete_id: str) -> dict[str, int]:
    """Delete every Strava row of an athlete (Strava's terms, on deauthorization)."""
    out = {}
    with _Tx(con):
        for table in ("raw.strava_streams", "raw.strava_activities", "ops.strava_listing_seen",
                      "ops.strava_sync_state", "ops.strava_sync_runs"):
            out[table] = con.execute(f"DELETE FROM {table} WHERE athlete_id = ?", [athlete_id]).fetchone()[0]
    return out
