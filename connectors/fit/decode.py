"""Decoding FIT bytes into runlift's raw rows, behind one small interface.

A :class:`FitDecoder` turns the bytes of one FIT file (chained files included) into a
:class:`DecodedFit`: the file's identity, a status (``ok`` / ``partial`` / ``rejected`` /
``skipped``) with its reason, and rows for sessions, laps, sets and records in SI units. It
never raises for bad input: a decoder error becomes the status and the reason.

The reference decoder is python-fitparse (the maintained fork of fitparse; see
docs/decisions.md for the measurements behind this choice). Exercise category and exercise
name numbers are named from Garmin's official profile shipped in ``garmin-fit-sdk``.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from typing import Any, Protocol

SEMICIRCLE_DEG = 180.0 / 2**31
UNKNOWN_CATEGORY = 65534

SESSION_COLUMNS = (
    "session_index", "sport", "sub_sport", "sport_profile_name", "start_time_utc", "start_time_local",
    "utc_offset_s", "end_time_utc", "total_elapsed_time_s", "total_timer_time_s", "total_moving_time_s",
    "total_distance_m", "total_ascent_m", "total_descent_m", "avg_speed_mps", "max_speed_mps",
    "avg_heart_rate_bpm", "max_heart_rate_bpm", "avg_cadence_rpm", "max_cadence_rpm", "total_strides",
    "total_calories_kcal", "avg_stance_time_s", "avg_vertical_oscillation_m", "avg_step_length_m",
    "total_training_effect", "total_anaerobic_training_effect", "training_load_peak", "workout_rpe",
    "workout_feel", "num_laps", "is_summarised", "dq_reason",
)
LAP_COLUMNS = (
    "lap_index", "start_time_utc", "end_time_utc", "total_elapsed_time_s", "total_timer_time_s",
    "total_distance_m", "total_ascent_m", "total_descent_m", "avg_speed_mps", "avg_heart_rate_bpm",
    "max_heart_rate_bpm", "avg_cadence_rpm", "intensity", "lap_trigger",
)
SET_COLUMNS = (
    "set_index", "message_index", "set_type", "start_time_utc", "end_time_utc", "duration_s",
    "repetitions", "weight_kg", "category", "category_ids", "category_names", "subtype_ids",
    "subtype_names", "wkt_step_index", "exercise_title", "dq_reason",
)
RECORD_COLUMNS = (
    "record_index", "timestamp_utc", "position_lat_deg", "position_long_deg", "distance_m", "speed_mps",
    "heart_rate_bpm", "cadence_rpm", "altitude_m", "power_w", "vertical_oscillation_m", "stance_time_s",
    "step_length_m",
)
FILE_COLUMNS = ("file_type", "manufacturer", "product", "serial_number", "time_created_utc")


@dataclass
class DecodedFit:
    """Everything runlift keeps from one FIT file. Units: SI; times: naive UTC datetimes."""

    status: str
    error: str | None
    decoder: str
    file: dict[str, Any] = field(default_factory=lambda: dict.fromkeys(FILE_COLUMNS))
    utc_offset_s: int | None = None
    sessions: list[dict[str, Any]] = field(default_factory=list)
    laps: list[dict[str, Any]] = field(default_factory=list)
    sets: list[dict[str, Any]] = field(default_factory=list)
    records: dict[str, list[Any]] = field(default_factory=lambda: {c: [] for c in RECORD_COLUMNS})

    @property
    def n_records(self) -> int:
        return len(self.records["record_index"])


class FitDecoder(Protocol):
    """The interface the importer uses; a faster decoder can replace the reference one."""

    name: str

    def decode(self, data: bytes) -> DecodedFit: ...


# --- exercise names from Garmin's official profile -------------------------------------------

@lru_cache(maxsize=1)
def _profile_types() -> dict[str, dict[int, str]]:
    from garmin_fit_sdk import Profile

    return Profile["types"]


def category_name(value: int | None) -> str | None:
    if value is None:
        return None
    if value == UNKNOWN_CATEGORY:
        return "unknown"
    return _profile_types()["exercise_category"].get(value, f"category_{value}")


def exercise_name(category: str | None, value: int | None) -> str | None:
    if value is None or category is None:
        return None
    names = _profile_types().get(f"{category}_exercise_name")
    return names.get(value, f"{category}_{value}") if names else f"{category}_{value}"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (tuple, list)):
        return list(value)
    return [value]


# --- shared finishing logic (any decoder) ----------------------------------------------------

def _first(values: dict[str, Any], *names: str) -> Any:
    for n in names:
        v = values.get(n)
        if v is not None:
            return v
    return None


def _scaled(value: Any, factor: float) -> float | None:
    return None if value is None else float(value) * factor


def _num(value: Any) -> float | None:
    if value is None or isinstance(value, (tuple, list, str, bytes)):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _int(value: Any) -> int | float | None:
    """int() of a number (truncation); None for anything else. An infinity stays a float: the
    loader names it as out of range for its column (a crafted file must not stop the import)."""
    if value is None or isinstance(value, (tuple, list, str, bytes)):
        return None
    try:
        return int(value)
    except OverflowError:
        return float(value)
    except (TypeError, ValueError):
        return None


def _name(value: Any) -> str | None:
    return None if value is None else str(value)


def _ts(value: Any) -> dt.datetime | None:
    """A FIT date_time as a naive UTC datetime. Values below 0x10000000 are seconds since the
    device powered on (FIT spec), not dates: they come through as ints and are dropped."""
    return value if isinstance(value, dt.datetime) else None


def _local(ts: dt.datetime | None, offset: int | None) -> dt.datetime | None:
    return None if ts is None or offset is None else ts + dt.timedelta(seconds=offset)


def _session_row(i: int, v: dict[str, Any], offset: int | None) -> dict[str, Any]:
    start = _ts(v.get("start_time"))
    cadence = _num(_first(v, "avg_running_cadence", "avg_cadence"))
    if cadence is not None and _num(v.get("avg_fractional_cadence")) is not None:
        cadence += float(v["avg_fractional_cadence"])
    return {
        "session_index": i,
        "sport": _name(v.get("sport")),
        "sub_sport": _name(v.get("sub_sport")),
        "sport_profile_name": _name(v.get("sport_profile_name")),
        "start_time_utc": start,
        "start_time_local": _local(start, offset),
        "utc_offset_s": offset,
        "end_time_utc": _ts(v.get("timestamp")),
        "total_elapsed_time_s": _num(v.get("total_elapsed_time")),
        "total_timer_time_s": _num(v.get("total_timer_time")),
        "total_moving_time_s": _num(v.get("total_moving_time")),
        "total_distance_m": _num(v.get("total_distance")),
        "total_ascent_m": _num(v.get("total_ascent")),
        "total_descent_m": _num(v.get("total_descent")),
        "avg_speed_mps": _num(_first(v, "enhanced_avg_speed", "avg_speed")),
        "max_speed_mps": _num(_first(v, "enhanced_max_speed", "max_speed")),
        "avg_heart_rate_bpm": _num(v.get("avg_heart_rate")),
        "max_heart_rate_bpm": _num(v.get("max_heart_rate")),
        "avg_cadence_rpm": cadence,
        "max_cadence_rpm": _num(_first(v, "max_running_cadence", "max_cadence")),
        "total_strides": _int(_first(v, "total_strides", "total_cycles")),
        "total_calories_kcal": _num(v.get("total_calories")),
        "avg_stance_time_s": _scaled(_num(v.get("avg_stance_time")), 1e-3),
        "avg_vertical_oscillation_m": _scaled(_num(v.get("avg_vertical_oscillation")), 1e-3),
        "avg_step_length_m": _scaled(_num(v.get("avg_step_length")), 1e-3),
        "total_training_effect": _num(v.get("total_training_effect")),
        "total_anaerobic_training_effect": _num(v.get("total_anaerobic_training_effect")),
        "training_load_peak": _num(v.get("training_load_peak")),
        "workout_rpe": _num(v.get("workout_rpe")),
        "workout_feel": _num(v.get("workout_feel")),
        "num_laps": _int(v.get("num_laps")),
        "is_summarised": False,
        "dq_reason": None,
    }


def _lap_row(i: int, v: dict[str, Any]) -> dict[str, Any]:
    return {
        "lap_index": i,
        "start_time_utc": _ts(v.get("start_time")),
        "end_time_utc": _ts(v.get("timestamp")),
        "total_elapsed_time_s": _num(v.get("total_elapsed_time")),
        "total_timer_time_s": _num(v.get("total_timer_time")),
        "total_distance_m": _num(v.get("total_distance")),
        "total_ascent_m": _num(v.get("total_ascent")),
        "total_descent_m": _num(v.get("total_descent")),
        "avg_speed_mps": _num(_first(v, "enhanced_avg_speed", "avg_speed")),
        "avg_heart_rate_bpm": _num(v.get("avg_heart_rate")),
        "max_heart_rate_bpm": _num(v.get("max_heart_rate")),
        "avg_cadence_rpm": _num(_first(v, "avg_running_cadence", "avg_cadence")),
        "intensity": _name(v.get("intensity")),
        "lap_trigger": _name(v.get("lap_trigger")),
    }


def _exercise_key(category: Any, name: Any) -> tuple[str, int | None] | None:
    if category is None:
        return None
    cat = category_name(category) if isinstance(category, int) else str(category)
    return (cat, _int(name))


def _file_row(v: dict[str, Any]) -> dict[str, Any]:
    """The ``file_id`` message as raw.fit_files columns."""
    return {
        "file_type": _name(v.get("type")),
        "manufacturer": _name(v.get("manufacturer")),
        "product": _name(_first(v, "garmin_product", "favero_product", "product")),
        "serial_number": _int(v.get("serial_number")),
        "time_created_utc": _ts(v.get("time_created")),
    }


def _utc_offset(v: dict[str, Any]) -> int | None:
    """The file's UTC offset from an ``activity`` message (local_timestamp - timestamp), if plausible."""
    ts, local = v.get("timestamp"), v.get("local_timestamp")
    if isinstance(ts, dt.datetime) and isinstance(local, dt.datetime):
        offset = round((local - ts).total_seconds())
        if abs(offset) <= 14 * 3600:  # FIT: local_timestamp within +/-14 h
            return offset
    return None


def _add_title(titles: dict[tuple[str, int | None], str], v: dict[str, Any]) -> None:
    """Remember an ``exercise_title`` message's title under its exercise (the first one wins)."""
    key = _exercise_key(v.get("exercise_category"), v.get("exercise_name"))
    if key is not None and v.get("wkt_step_name"):
        titles.setdefault(key, str(v["wkt_step_name"]))


def _add_step(steps: dict[int, tuple[str, int | None] | None], v: dict[str, Any]) -> None:
    """Remember a ``workout_step`` message's exercise under its index."""
    idx = _int(v.get("message_index"))
    if idx is not None:
        steps[idx] = _exercise_key(v.get("exercise_category"), v.get("exercise_name"))


def _sport_of(v: dict[str, Any]) -> tuple[str | None, str | None]:
    return _name(v.get("sport")), _name(v.get("sub_sport"))


def _title_for(v: dict[str, Any], cat_names: list[str | None], sub_ids: list[int | None],
               steps: dict[int, tuple[str, int | None] | None],
               titles: dict[tuple[str, int | None], str]) -> str | None:
    """exercise_title names an exercise (category + exercise name), not a set: find the set's
    exercise through its workout step, else through its first category candidate."""
    if v.get("set_type") != "active" or not titles:
        return None
    step = _int(v.get("wkt_step_index"))
    key = steps.get(step) if step is not None else None
    if key is None and cat_names and cat_names[0] is not None:
        key = (cat_names[0], sub_ids[0] if sub_ids else None)
    if key is None:
        return None
    return titles.get(key) or titles.get((key[0], None))


def _category_id(value: Any) -> int | None:
    """An exercise category as its number. A single (scalar) category comes named by the decoders
    ("squat"), as every named type does; an array of three (Fenix watches) comes as numbers."""
    if isinstance(value, str):
        return _category_ids().get(value)  # (a number the profile does not name stays a number)
    n = _int(value)
    return n if isinstance(n, int) else None


@lru_cache(maxsize=1)
def _category_ids() -> dict[str, int]:
    return {name: num for num, name in _profile_types()["exercise_category"].items()}


def _set_row(i: int, v: dict[str, Any], steps: dict[int, tuple[str, int | None] | None],
             titles: dict[tuple[str, int | None], str]) -> dict[str, Any]:
    cat_ids = [c for c in (_category_id(x) for x in _as_list(v.get("category"))) if c is not None]
    cat_names = [category_name(c) for c in cat_ids]
    sub_raw = [_int(x) for x in _as_list(v.get("category_subtype"))]
    sub_ids = sub_raw[: len(cat_ids)] if cat_ids else [s for s in sub_raw if s is not None]
    sub_names = [exercise_name(cat_names[k] if k < len(cat_names) else None, s) for k, s in enumerate(sub_ids)]
    step = _int(v.get("wkt_step_index"))
    title = _title_for(v, cat_names, sub_ids, steps, titles)
    return {
        "set_index": i,
        "message_index": _int(v.get("message_index")),
        "set_type": _name(v.get("set_type")),
        "start_time_utc": _ts(v.get("start_time")),
        "end_time_utc": _ts(v.get("timestamp")),
        "duration_s": _num(v.get("duration")),
        "repetitions": _int(v.get("repetitions")),
        "weight_kg": _num(v.get("weight")),
        "category": cat_names[0] if cat_names else None,
        "category_ids": cat_ids or None,
        "category_names": cat_names or None,
        "subtype_ids": sub_ids if any(s is not None for s in sub_ids) else None,
        "subtype_names": sub_names if any(s is not None for s in sub_names) else None,
        "wkt_step_index": step,
        "exercise_title": title,
        "dq_reason": None,
    }


def _summarise_session(records: dict[str, list[Any]], sport: str | None, sub_sport: str | None,
                       offset: int | None) -> dict[str, Any]:
    """One session from the records of an activity that has none (watch lost power, etc.)."""
    times = [t for t in records["timestamp_utc"] if t is not None]
    dists = [d for d in records["distance_m"] if d is not None]
    hrs = [h for h in records["heart_rate_bpm"] if h is not None]
    start, end = (min(times), max(times)) if times else (None, None)
    span = (end - start).total_seconds() if times else None
    row = dict.fromkeys(SESSION_COLUMNS)
    row.update({
        "session_index": 0, "sport": sport or "generic", "sub_sport": sub_sport,
        "start_time_utc": start, "start_time_local": _local(start, offset), "utc_offset_s": offset,
        "end_time_utc": end, "total_elapsed_time_s": span, "total_timer_time_s": span,
        "total_distance_m": max(dists) if dists else None,
        "avg_heart_rate_bpm": sum(hrs) / len(hrs) if hrs else None,
        "max_heart_rate_bpm": float(max(hrs)) if hrs else None,
        "is_summarised": True,
    })
    return row


def _record_into(cols: dict[str, list[Any]], i: int, v: dict[str, Any]) -> None:
    lat, lon = _int(v.get("position_lat")), _int(v.get("position_long"))
    cadence = _num(v.get("cadence"))
    frac = _num(v.get("fractional_cadence"))
    if cadence is not None and frac is not None:
        cadence += frac
    cols["record_index"].append(i)
    cols["timestamp_utc"].append(_ts(v.get("timestamp")))
    cols["position_lat_deg"].append(None if lat is None else lat * SEMICIRCLE_DEG)
    cols["position_long_deg"].append(None if lon is None else lon * SEMICIRCLE_DEG)
    cols["distance_m"].append(_num(v.get("distance")))
    cols["speed_mps"].append(_num(_first(v, "enhanced_speed", "speed")))
    cols["heart_rate_bpm"].append(_int(v.get("heart_rate")))
    cols["cadence_rpm"].append(cadence)
    cols["altitude_m"].append(_num(_first(v, "enhanced_altitude", "altitude")))
    cols["power_w"].append(_int(v.get("power")))
    cols["vertical_oscillation_m"].append(_scaled(_num(v.get("vertical_oscillation")), 1e-3))
    cols["stance_time_s"].append(_scaled(_num(v.get("stance_time")), 1e-3))
    cols["step_length_m"].append(_scaled(_num(v.get("step_length")), 1e-3))


# --- data quality: decodable values no session or set can have ----------------------------------
# Bounds per column, (lowest, highest), inclusive; documented in docs/fit-import.md. They are far
# beyond any human record (they catch corrupt or crafted files, not unusual days): a value outside
# them keeps its row, marked with the reason in ``dq_reason``.
DAY_S = 86_400.0
SESSION_BOUNDS: dict[str, tuple[float, float]] = {
    "total_elapsed_time_s": (0.0, 7 * DAY_S),  # multi-day ultras last 2-5 days
    "total_timer_time_s": (0.0, 7 * DAY_S),
    "total_moving_time_s": (0.0, 7 * DAY_S),
    "total_distance_m": (0.0, 2_000_000.0),  # 2,000 km: a week of non-stop cycling is ~1,500-2,000 km
    "total_ascent_m": (0.0, 100_000.0),
    "total_descent_m": (0.0, 100_000.0),
    "avg_speed_mps": (0.0, 150.0),  # 540 km/h: beyond any human-powered or recorded sport speed
    "max_speed_mps": (0.0, 150.0),
    "avg_heart_rate_bpm": (0.0, 300.0),
    "max_heart_rate_bpm": (0.0, 300.0),
    "avg_cadence_rpm": (0.0, 300.0),
    "max_cadence_rpm": (0.0, 300.0),
    "total_strides": (0.0, 10_000_000.0),
    "total_calories_kcal": (0.0, 100_000.0),
    "avg_stance_time_s": (0.0, 10.0),
    "avg_vertical_oscillation_m": (0.0, 2.0),
    "avg_step_length_m": (0.0, 10.0),
}
SET_BOUNDS: dict[str, tuple[float, float]] = {
    "repetitions": (0.0, 10_000.0),
    "weight_kg": (0.0, 1_000.0),  # twice the heaviest deadlift ever lifted (501 kg)
    "duration_s": (0.0, 6 * 3600.0),
}
MAX_IMPLIED_SPEED_MPS = 150.0  # distance / timer time


def _out_of_bounds(row: dict[str, Any], bounds: dict[str, tuple[float, float]]) -> list[str]:
    out = []
    for col, (lo, hi) in bounds.items():
        v = row.get(col)
        if v is None or isinstance(v, bool) or not isinstance(v, (int, float)):
            continue
        if v != v or v in (float("inf"), float("-inf")):
            out.append(f"{col} is not a finite number ({v})")
        elif not lo <= v <= hi:
            out.append(f"{col} = {v:g} outside [{lo:g}, {hi:g}]")
    return out


def session_quality(row: dict[str, Any]) -> str | None:
    """Why a session's values cannot be real (``SESSION_BOUNDS``, implied speed, end before start),
    or None."""
    why = _out_of_bounds(row, SESSION_BOUNDS)
    dist, timer = row.get("total_distance_m"), row.get("total_timer_time_s") or row.get("total_elapsed_time_s")
    if isinstance(dist, (int, float)) and isinstance(timer, (int, float)) and timer > 0 and not why:
        speed = dist / timer
        if math.isfinite(speed) and speed > MAX_IMPLIED_SPEED_MPS:
            why.append(f"implied speed {speed:g} m/s (distance / timer time) above {MAX_IMPLIED_SPEED_MPS:g}")
    start, end = row.get("start_time_utc"), row.get("end_time_utc")
    if isinstance(start, dt.datetime) and isinstance(end, dt.datetime) and end < start:
        why.append("end_time_utc before start_time_utc")
    return "; ".join(why) or None


def set_quality(row: dict[str, Any]) -> str | None:
    """Why a set's values cannot be real (``SET_BOUNDS``), or None."""
    return "; ".join(_out_of_bounds(row, SET_BOUNDS)) or None


def _mark_quality(out: DecodedFit) -> None:
    for row in out.sessions:
        row["dq_reason"] = session_quality(row)
    for row in out.sets:
        row["dq_reason"] = set_quality(row)


def classify(out: DecodedFit, *, saw_messages: bool, error: str | None,
             sport_msg: tuple[str | None, str | None]) -> DecodedFit:
    """Set status and reason from what was decoded (shared by every decoder)."""
    ftype = out.file["file_type"]
    is_activity = ftype == "activity" or (ftype is None and (out.sessions or out.n_records))
    if not saw_messages:
        out.status, out.error = "rejected", error or "no FIT messages"
    elif not is_activity:
        why = f"not an activity (file type {ftype})" if ftype is not None else "no file_id message and no activity data"
        out.status = "skipped" if ftype is not None else "rejected"
        out.error = why if not error else f"{why}; {error}"
    elif error:
        out.status, out.error = "partial", error
    elif not out.sessions:
        out.status, out.error = "partial", "activity without a session message; session summarised from records"
    else:
        out.status, out.error = "ok", None
    if out.status == "partial" and not out.sessions and is_activity and out.n_records:
        out.sessions.append(_summarise_session(out.records, *sport_msg, out.utc_offset_s))
        if error:
            out.error = f"{error}; no session message, session summarised from records"
    _mark_quality(out)
    return out


# --- the reference decoder: python-fitparse --------------------------------------------------

class FitparseDecoder:
    """python-fitparse, read lazily so that everything before an error is kept."""

    def __init__(self) -> None:
        try:
            version = metadata.version("python-fitparse")
            self.name = f"python-fitparse {version}"
        except metadata.PackageNotFoundError:
            self.name = f"fitparse {metadata.version('fitparse')}"

    def decode(self, data: bytes) -> DecodedFit:
        import fitparse

        out = DecodedFit(status="rejected", error=None, decoder=self.name)
        if not data:
            out.error = "empty file (0 bytes)"
            return out
        if len(data) < 12 or data[8:12] != b".FIT":
            out.error = "not a FIT file (no .FIT signature in the header)"
            return out
        error: str | None = None
        saw = False
        session_values: list[dict[str, Any]] = []
        titles: dict[tuple[str, int | None], str] = {}
        steps: dict[int, tuple[str, int | None] | None] = {}
        set_values: list[dict[str, Any]] = []
        sport_msg: tuple[str | None, str | None] = (None, None)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                ff = fitparse.FitFile(io.BytesIO(data), check_crc=True)
                for msg in ff.get_messages():
                    if any("terminated unexpectedly" in str(w.message) for w in caught):
                        # python-fitparse hands out a message cut off by the end of the file, its
                        # missing bytes read as nothing: that message is not data. Stop here.
                        error = "file truncated inside a message"
                        break
                    caught.clear()
                    saw = True
                    name = msg.name
                    if name == "record":
                        _record_into(out.records, out.n_records, msg.get_values())
                    elif name == "set":
                        set_values.append(msg.get_values())
                    elif name == "lap":
                        out.laps.append(_lap_row(len(out.laps), msg.get_values()))
                    elif name == "session":
                        session_values.append(msg.get_values())
                    elif name == "file_id" and out.file["file_type"] is None:
                        out.file = _file_row(msg.get_values())
                    elif name == "activity" and out.utc_offset_s is None:
                        out.utc_offset_s = _utc_offset(msg.get_values())
                    elif name == "exercise_title":
                        _add_title(titles, msg.get_values())
                    elif name == "workout_step":
                        _add_step(steps, msg.get_values())
                    elif name == "sport" and sport_msg == (None, None):
                        sport_msg = _sport_of(msg.get_values())
        except fitparse.FitParseError as exc:
            error = error or _describe(exc)
        except Exception as exc:  # a decoder bug on odd input must not stop the import
            error = f"decoder error: {type(exc).__name__}: {exc}"
        out.sessions = [_session_row(i, v, out.utc_offset_s) for i, v in enumerate(session_values)]
        out.sets = [_set_row(i, v, steps, titles) for i, v in enumerate(set_values)]
        return classify(out, saw_messages=saw, error=error, sport_msg=sport_msg)


def _describe(exc: Exception) -> str:
    kind = type(exc).__name__
    text = str(exc)
    if kind == "FitCRCError":
        return f"file CRC mismatch ({text})"
    if kind == "FitEOFError":
        return f"file truncated ({text})"
    if kind == "FitHeaderError":
        return f"corrupt FIT header ({text})"
    return f"invalid FIT data ({text})"


def default_decoder() -> FitDecoder:
    """The production decoder: the columnar one (falls back to python-fitparse per file)."""
    from runlift.connectors.fit.columnar import ColumnarDecoder  # columnar imports this module

    return ColumnarDecoder()
