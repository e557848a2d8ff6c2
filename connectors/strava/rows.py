"""Strava's JSON as runlift's raw rows: activity payloads, detail payloads and streams.

The connector's contract with the warehouse (warehouse/strava_loader.py inserts by column name):

* :func:`activity_rows` turns a listed page into typed rows of ``raw.strava_activities`` (and the
  same rows as an Arrow table), with the problems found: payloads that are not objects or have no
  usable id (skipped), values sent but unusable (stored as NULL, payload kept), rows Arrow cannot
  hold (skipped). Unknown fields and sport types are kept as sent, in the payload.
* :func:`detail_row` gives what a detail payload adds (``DETAIL_ONLY`` columns and the payload).
* :func:`stream_rows` gives one row per stream of ``raw.strava_streams`` (``latlng`` split into
  ``lat`` and ``lng``).

Problems quote server text: redact them before showing them.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

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
    ("gear_id", pa.string()), ("payload", pa.string()),
])
# Columns only the detail payload carries: a listing's NULL there keeps the stored value
DETAIL_ONLY = ("calories_kcal", "perceived_exertion", "device_name")
STREAMS = pa.schema([
    ("stream_type", pa.string()), ("series_type", pa.string()), ("original_size", pa.int32()),
    ("resolution", pa.string()), ("data", pa.list_(pa.float64()))])

INT64 = (-2**63, 2**63 - 1)
MAX_OFFSET_S = 86400  # a utc_offset beyond a day is not a time zone


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


def _gear_id(v: Any) -> str | None:
    """A gear id as Strava gives them (g123 shoes, b456 bikes): text of at most 64 characters."""
    return v if isinstance(v, str) and 0 < len(v) <= 64 else None


def typed(payload: dict[str, Any]) -> dict[str, Any]:
    """Typed key columns from one activity payload (list or detail); odd values become NULL."""
    athlete = payload.get("athlete")
    if not isinstance(athlete, dict):
        athlete = {}
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
        "gear_id": _gear_id(payload.get("gear_id")),
        "payload": canonical_json(payload),
    }


ODD_CHECKED = {  # typed column -> payload key: a value sent but unusable is noted
    "utc_offset_s": "utc_offset", "start_time_utc": "start_date", "start_time_local": "start_date_local",
    "distance_m": "distance", "moving_time_s": "moving_time", "elapsed_time_s": "elapsed_time",
    "elevation_gain_m": "total_elevation_gain", "average_speed_mps": "average_speed", "max_speed_mps": "max_speed",
    "average_cadence_rpm": "average_cadence", "average_heartrate_bpm": "average_heartrate",
    "max_heartrate_bpm": "max_heartrate", "upload_id": "upload_id",
}


def brief(v: Any, limit: int = 80) -> str:
    """A short, printable excerpt of a server value (the caller redacts it before showing it)."""
    try:
        text = json.dumps(v, sort_keys=True, separators=(",", ":"), default=str)
    except (ValueError, RecursionError):
        text = f"<{type(v).__name__}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class ActivityPage:
    """A listed page as rows of raw.strava_activities (the columns of ``TYPED``)."""

    rows: list[dict[str, Any]]
    table: pa.Table | None  # the same rows as Arrow (None: no row)
    problems: list[str] = field(default_factory=list)
    keep_when_null: tuple[str, ...] = DETAIL_ONLY


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


def activity_rows(activities: list[Any]) -> ActivityPage:
    """Typed rows of one listed page, and what could not be used (see the module's docstring)."""
    rows, problems = [], []
    for a in activities:
        if not isinstance(a, dict):
            problems.append(f"activity payload is not an object, skipped: {brief(a)}")
            continue
        try:
            t = typed(a)
        except (ValueError, RecursionError):  # a payload JSON cannot hold (nesting too deep)
            problems.append(f"activity payload that cannot be stored skipped: {brief(a)}")
            continue
        if t["activity_id"] is None:
            problems.append(f"activity without a usable id skipped: {brief(a)}")
            continue
        odd = [f"{key} {brief(a[key], 24)}" for col, key in ODD_CHECKED.items()
               if a.get(key) is not None and t[col] is None]
        if odd:
            problems.append(f"activity {t['activity_id']}: odd {', '.join(odd)} stored as NULL (payload kept)")
        rows.append(t)
    table = _arrow_rows(rows, problems)
    return ActivityPage(rows, table, problems)


def detail_row(detail: Any) -> dict[str, Any] | None:
    """What a detail payload adds to its activity's row: the ``DETAIL_ONLY`` columns and
    ``detail_payload``; None for a payload that is no object or that JSON cannot hold."""
    if not isinstance(detail, dict):
        return None
    try:
        t = typed(detail)
    except (ValueError, RecursionError):
        return None
    return {"detail_payload": t["payload"], **{c: t[c] for c in DETAIL_ONLY}}


@dataclass
class StreamSet:
    """An activity's streams as rows of raw.strava_streams; ``status`` ``none``: Strava has none."""

    status: str
    table: pa.Table | None


def stream_rows(streams: dict[str, Any] | None) -> StreamSet:
    """One row per stream (``latlng`` as ``lat`` and ``lng``); odd values become NULL."""
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
    return StreamSet(status, pa.Table.from_pylist(rows, schema=STREAMS) if rows else None)


# Typed columns of raw.strava_gear from a DetailedGear (GET /gear/{id})
GEAR_COLUMNS = ("name", "nickname", "brand_name", "model_name", "description", "is_primary", "is_retired",
                "distance_m", "payload")


def gear_row(gear: Any) -> dict[str, Any] | None:
    """The typed columns of ``raw.strava_gear`` from one gear payload (``fetch_status`` ``ok``), or
    None for an answer that is no object or that JSON cannot hold. Odd values become NULL."""
    if not isinstance(gear, dict):
        return None
    try:
        payload = canonical_json(gear)
    except (ValueError, RecursionError):
        return None
    distance = _num(gear.get("distance"))
    return {
        "fetch_status": "ok",
        "name": _str(gear.get("name")),
        "nickname": _str(gear.get("nickname")),
        "brand_name": _str(gear.get("brand_name")),
        "model_name": _str(gear.get("model_name")),
        "description": _str(gear.get("description")),
        "is_primary": _bool(gear.get("primary")),
        "is_retired": _bool(gear.get("retired")),
        "distance_m": distance if distance is not None and 0 <= distance <= 1e9 else None,
        "payload": payload,
    }


def missing_gear_row(status: str) -> dict[str, Any]:
    """A gear Strava did not give (``not_found``, ``unusable``): recorded so it is not asked every run."""
    return {"fetch_status": status, **{c: None for c in GEAR_COLUMNS}}
