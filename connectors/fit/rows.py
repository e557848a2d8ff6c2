"""Row builders shared by every FIT decoder: message values -> raw rows, quality marks, status.

A decoder gives each message's values as a dict (FIT field name -> value, as python-fitparse's
``get_values()`` has them: scaled, named types named, dates as naive UTC datetimes). The builders
here turn them into the rows of the contract (connectors/fit/contract.py) by the mapping declared
in connectors/fit/fields.py, so that every decoder gives the same rows. Exercise category and
exercise name numbers are named from Garmin's official profile shipped in ``garmin-fit-sdk``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from runlift.connectors.fit import fields
from runlift.connectors.fit.contract import (
    MAX_IMPLIED_SPEED_MPS,
    SESSION_BOUNDS,
    SESSION_COLUMNS,
    SET_BOUNDS,
    WEIGHT_BOUNDS,
    DecodedFit,
)

SEMICIRCLE_DEG = 180.0 / 2**31
UNKNOWN_CATEGORY = 65534

# An exercise as exercise_title and workout_step messages name it: (category, exercise name number).
# Numbers go through _int, so a crafted file's infinity stays a float there as everywhere.
ExerciseKey = tuple[str, int | float | None]
Steps = dict[int | float, ExerciseKey | None]  # workout step index -> its exercise
Titles = dict[ExerciseKey, str]  # exercise -> its title


# --- exercise names from Garmin's official profile -------------------------------------------

@lru_cache(maxsize=1)
def _profile_types() -> dict[str, dict[int, str]]:
    from garmin_fit_sdk import Profile

    return Profile["types"]


def category_name(value: int) -> str:
    if value == UNKNOWN_CATEGORY:
        return "unknown"
    return _profile_types()["exercise_category"].get(value, f"category_{value}")


def exercise_name(category: str | None, value: int | float | None) -> str | None:
    if value is None or category is None:
        return None
    names = _profile_types().get(f"{category}_exercise_name")
    # (a float is an infinity from _int: never a profile number)
    return names.get(value, f"{category}_{value}") if names and isinstance(value, int) else f"{category}_{value}"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (tuple, list)):
        return list(value)
    return [value]


# --- value conversions (the ``conv`` of fields.Col) ------------------------------------------

def _first(values: dict[str, Any], *names: str) -> Any:
    for n in names:
        v = values.get(n)
        if v is not None:
            return v
    return None


def _num(value: Any) -> float | None:
    if value is None or isinstance(value, (tuple, list, str, bytes)):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _int(value: Any) -> int | float | None:
    """int() of a number (truncation); None for anything else. An infinity stays a float: the
    Arrow conversion names it as out of range for its column (a crafted file must not stop the import)."""
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


Getter = Callable[[dict[str, Any]], Any]


def converter(col: fields.Col) -> Getter:
    """The function that gives ``col``'s value from a message's values (not for ``derived`` ones)."""
    names, conv, scale, plus = col.fit, col.conv, col.scale, col.plus
    one = names[0] if len(names) == 1 else None
    pick: Getter = (lambda v: v.get(one)) if one is not None else (lambda v: _first(v, *names))
    if conv == "name":
        return lambda v: _name(pick(v))
    if conv == "time":
        return lambda v: _ts(pick(v))
    if conv == "int":
        return lambda v: _int(pick(v))
    if conv == "semicircles":
        def semicircles(v: dict[str, Any]) -> float | None:
            x = _int(pick(v))
            return None if x is None else x * SEMICIRCLE_DEG
        return semicircles
    if conv != "num":
        raise ValueError(f"{col.name}: no converter for {conv!r}")

    def num(v: dict[str, Any]) -> float | None:
        x = _num(pick(v))
        if x is None:
            return None
        if plus is not None:
            extra = _num(v.get(plus))
            if extra is not None:
                x += extra
        return x * scale if scale is not None else x
    return num


def _converters(cols: tuple[fields.Col, ...]) -> tuple[tuple[str, Getter | None], ...]:
    return tuple((c.name, None if c.conv == "derived" else converter(c)) for c in cols)


_SESSION = _converters(fields.SESSION)
_LAP = _converters(fields.LAP)
_SET = _converters(fields.SET)
_FILE = _converters(fields.FILE)
_RECORD = _converters(fields.RECORD)
_WEIGHT = _converters(fields.WEIGHT)


def _row(convs: tuple[tuple[str, Getter | None], ...], v: dict[str, Any]) -> dict[str, Any]:
    return {name: None if get is None else get(v) for name, get in convs}


# --- rows per message --------------------------------------------------------------------------

def session_row(i: int, v: dict[str, Any], offset: int | None) -> dict[str, Any]:
    row = _row(_SESSION, v)
    row.update(session_index=i, start_time_local=_local(row["start_time_utc"], offset), utc_offset_s=offset,
               is_summarised=False)
    return row


def lap_row(i: int, v: dict[str, Any]) -> dict[str, Any]:
    row = _row(_LAP, v)
    row["lap_index"] = i
    return row


CALCULATING_KG = 655.34  # FIT weight 0xFFFE x 0.01: the scale had no value yet ("calculating")


def weight_row(i: int, v: dict[str, Any]) -> dict[str, Any]:
    """One ``weight_scale`` message. A value outside ``WEIGHT_BOUNDS`` (or a weight the scale was
    still calculating) becomes NULL, the reason in ``dq_reason``."""
    row = _row(_WEIGHT, v)
    row["measurement_index"] = i
    why = []
    kg = v.get("weight")  # fitparse names 0xFFFE "calculating"; Garmin's profile gives 655.34
    if kg == "calculating" or (isinstance(kg, float) and abs(kg - CALCULATING_KG) < 1e-9):
        why.append("body_mass_kg: the scale was still calculating")
        kg = None
    row["body_mass_kg"] = _num(kg)
    for col in _out_of_bounds(row, WEIGHT_BOUNDS):
        row[col.split(" ", 1)[0]] = None
        why.append(f"{col}, set to NULL")
    row["dq_reason"] = "; ".join(why) or None
    return row


def file_row(v: dict[str, Any]) -> dict[str, Any]:
    """The ``file_id`` message as raw.fit_files columns."""
    return _row(_FILE, v)


def record_into(cols: dict[str, list[Any]], i: int, v: dict[str, Any]) -> None:
    """Append one ``record`` message to the record columns (lists)."""
    for name, get in _RECORD:
        cols[name].append(i if get is None else get(v))


def _exercise_key(category: Any, name: Any) -> ExerciseKey | None:
    if category is None:
        return None
    cat = category_name(category) if isinstance(category, int) else str(category)
    return (cat, _int(name))


def utc_offset(v: dict[str, Any]) -> int | None:
    """The file's UTC offset from an ``activity`` message (local_timestamp - timestamp), if plausible."""
    ts, local = v.get("timestamp"), v.get("local_timestamp")
    if isinstance(ts, dt.datetime) and isinstance(local, dt.datetime):
        offset = round((local - ts).total_seconds())
        if abs(offset) <= 14 * 3600:  # FIT: local_timestamp within +/-14 h
            return offset
    return None


def add_title(titles: Titles, v: dict[str, Any]) -> None:
    """Remember an ``exercise_title`` message's title under its exercise (the first one wins)."""
    key = _exercise_key(v.get("exercise_category"), v.get("exercise_name"))
    if key is not None and v.get("wkt_step_name"):
        titles.setdefault(key, str(v["wkt_step_name"]))


def add_step(steps: Steps, v: dict[str, Any]) -> None:
    """Remember a ``workout_step`` message's exercise under its index."""
    idx = _int(v.get("message_index"))
    if idx is not None:
        steps[idx] = _exercise_key(v.get("exercise_category"), v.get("exercise_name"))


def sport_of(v: dict[str, Any]) -> tuple[str | None, str | None]:
    return _name(v.get("sport")), _name(v.get("sub_sport"))


def _title_for(v: dict[str, Any], cat_names: list[str], sub_ids: list[int | float | None],
               steps: Steps, titles: Titles) -> str | None:
    """exercise_title names an exercise (category + exercise name), not a set: find the set's
    exercise through its workout step, else through its first category candidate."""
    if v.get("set_type") != "active" or not titles:
        return None
    step = _int(v.get("wkt_step_index"))
    key = steps.get(step) if step is not None else None
    if key is None and cat_names:
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


def set_row(i: int, v: dict[str, Any], steps: Steps, titles: Titles) -> dict[str, Any]:
    cat_ids = [c for c in (_category_id(x) for x in _as_list(v.get("category"))) if c is not None]
    cat_names = [category_name(c) for c in cat_ids]
    sub_raw = [_int(x) for x in _as_list(v.get("category_subtype"))]
    sub_ids: list[int | float | None] = sub_raw[: len(cat_ids)] if cat_ids else [s for s in sub_raw if s is not None]
    sub_names = [exercise_name(cat_names[k] if k < len(cat_names) else None, s) for k, s in enumerate(sub_ids)]
    row = _row(_SET, v)
    row.update(
        set_index=i,
        category=cat_names[0] if cat_names else None,
        category_ids=cat_ids or None,
        category_names=cat_names or None,
        subtype_ids=sub_ids if any(s is not None for s in sub_ids) else None,
        subtype_names=sub_names if any(s is not None for s in sub_names) else None,
        exercise_title=_title_for(v, cat_names, sub_ids, steps, titles),
    )
    return row


def _summarise_session(records: dict[str, list[Any]], sport: str | None, sub_sport: str | None,
                       offset: int | None) -> dict[str, Any]:
    """One session from the records of an activity that has none (watch lost power, etc.)."""
    times = [t for t in records["timestamp_utc"] if t is not None]
    dists = [d for d in records["distance_m"] if d is not None]
    hrs = [h for h in records["heart_rate_bpm"] if h is not None]
    start = end = span = None
    if times:
        start, end = min(times), max(times)
        span = (end - start).total_seconds()
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


# --- data quality: decodable values no session or set can have ----------------------------------

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
    elif ftype == "weight":  # a scale's file: its measurements are the data (docs/fit-import.md)
        out.status, out.error = ("partial", error) if error else ("ok", None)
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
