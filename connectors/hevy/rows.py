"""Hevy's JSON as rows named like the columns of the raw tables (raw.hevy_*), SI units.

Each function takes what the API sent and returns plain dicts; the whole workout JSON goes in
``payload_json`` beside the typed columns (unknown fields kept), so typed columns can be rebuilt
without downloading again. A value of the wrong type becomes NULL, with a note in ``problems``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

SET_TYPES = ("normal", "warmup", "dropset", "failure")


def _clean(text: str) -> str:
    """``text`` as valid UTF-8: a lone surrogate (JSON allows ``"\\ud800"``) becomes ``?``."""
    return text.encode("utf-8", "replace").decode("utf-8")


def _text(value: Any, limit: int = 10_000) -> str | None:
    return _clean(value[:limit]) if isinstance(value, str) else None


def _json(value: Any) -> str:
    """The whole payload as JSON text (unknown fields kept; valid UTF-8)."""
    return _clean(json.dumps(value, ensure_ascii=False, sort_keys=True))


def _number(value: Any, lo: float, hi: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    v = float(value)
    return v if lo <= v <= hi else None


def _int(value: Any, lo: int, hi: int) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if isinstance(value, int) and lo <= value <= hi else None


def utc_time(value: Any) -> dt.datetime | None:
    """An ISO 8601 time (``2024-08-14T12:00:00Z`` or with an offset) as naive UTC; None if not one."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            return parsed
        return parsed.astimezone(dt.UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):  # not a time, or one that leaves the calendar in UTC
        return None


@dataclass
class WorkoutRows:
    """One workout: its row of raw.hevy_workouts and its rows of raw.hevy_sets."""

    workout: dict[str, Any]
    sets: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def workout_rows(w: Any) -> WorkoutRows | None:
    """The rows of one workout of Hevy's API; None when it has no id (nothing to key it by)."""
    if not isinstance(w, dict) or not isinstance(w.get("id"), str) or not w["id"] or len(w["id"]) > 200:
        return None
    wid = _clean(w["id"])
    problems: list[str] = []
    start, end = utc_time(w.get("start_time")), utc_time(w.get("end_time"))
    if start is None:
        problems.append(f"workout {wid}: start_time {str(w.get('start_time'))[:40]!r} is not a time")
    row = {
        "workout_id": wid,
        "title": _text(w.get("title"), 500),
        "description": _text(w.get("description")),
        "start_time_utc": start,
        "end_time_utc": end,
        "updated_at_utc": utc_time(w.get("updated_at")),
        "created_at_utc": utc_time(w.get("created_at")),
        "payload_json": _json(w),
    }
    sets: list[dict[str, Any]] = []
    exercises = w.get("exercises")
    if not isinstance(exercises, list):
        exercises = []
    for ex_pos, ex in enumerate(exercises):
        if not isinstance(ex, dict):
            continue
        ex_index = _int(ex.get("index"), 0, 10_000)
        ex_index = ex_pos if ex_index is None else ex_index
        raw_sets = ex.get("sets")
        if not isinstance(raw_sets, list):
            raw_sets = []
        for set_pos, s in enumerate(raw_sets):
            if not isinstance(s, dict):
                continue
            s_index = _int(s.get("index"), 0, 10_000)
            set_type = s.get("type", s.get("set_type"))
            if set_type is not None and set_type not in SET_TYPES:
                problems.append(f"workout {wid}: set type {str(set_type)[:30]!r} kept as written")
            sets.append({
                "workout_id": wid,
                "exercise_index": ex_index,
                "set_index": set_pos if s_index is None else s_index,
                "exercise_title": _text(ex.get("title"), 500),
                "exercise_template_id": _text(ex.get("exercise_template_id"), 200),
                "superset_id": _int(ex.get("superset_id"), 0, 1_000_000),
                "exercise_notes": _text(ex.get("notes")),
                "set_type": _text(set_type, 30),
                "weight_kg": _number(s.get("weight_kg"), 0.0, 2000.0),
                "reps": _int(s.get("reps"), 0, 10_000),
                "distance_m": _number(s.get("distance_meters"), 0.0, 1_000_000.0),
                "duration_s": _number(s.get("duration_seconds"), 0.0, 86_400.0),
                "rpe": _number(s.get("rpe"), 0.0, 10.0),
                "custom_metric": _number(s.get("custom_metric"), -1e9, 1e9),
            })
    # Two sets with the same (exercise index, set index) would collide on the key: renumber by position.
    keys = [(s["exercise_index"], s["set_index"]) for s in sets]
    if len(set(keys)) != len(keys):
        problems.append(f"workout {wid}: duplicate exercise/set indexes; numbered by position")
        seen: dict[int, int] = {}
        for s in sets:
            s["set_index"] = seen.get(s["exercise_index"], 0)
            seen[s["exercise_index"]] = s["set_index"] + 1
        keys = [(s["exercise_index"], s["set_index"]) for s in sets]
        if len(set(keys)) != len(keys):  # exercises sharing an index as well
            for ordinal, s in enumerate(sets):
                s["exercise_index"], s["set_index"] = 0, ordinal
    return WorkoutRows(row, sets, problems)


def deleted_event(e: Any) -> tuple[str, dt.datetime | None] | None:
    """(workout id, deleted_at UTC) of a ``deleted`` event; None for anything else."""
    if not isinstance(e, dict) or e.get("type") != "deleted":
        return None
    wid = e.get("id", e.get("workout_id"))
    if not isinstance(wid, str) or not wid:
        return None
    return _clean(wid), utc_time(e.get("deleted_at"))


def template_row(t: Any) -> dict[str, Any] | None:
    if not isinstance(t, dict) or not isinstance(t.get("id"), str) or not t["id"]:
        return None
    secondary = t.get("secondary_muscle_groups")
    return {
        "template_id": _clean(t["id"][:200]),
        "title": _text(t.get("title"), 500),
        "exercise_type": _text(t.get("type"), 100),
        "primary_muscle_group": _text(t.get("primary_muscle_group"), 100),
        "secondary_muscle_groups": [_clean(m[:100]) for m in secondary if isinstance(m, str)]
        if isinstance(secondary, list) else None,
        "equipment": _text(t.get("equipment"), 100),
        "is_custom": t.get("is_custom") if isinstance(t.get("is_custom"), bool) else None,
        "payload_json": _json(t),
    }


def measurement_row(m: Any) -> dict[str, Any] | None:
    """A body measurement (``date`` YYYY-MM-DD, ``weight_kg``, ...); None without a date."""
    if not isinstance(m, dict) or not isinstance(m.get("date"), str):
        return None
    try:
        day = dt.date.fromisoformat(m["date"][:10])
    except ValueError:
        return None
    return {
        "measured_on": day,
        "body_mass_kg": _number(m.get("weight_kg"), 0.5, 650.0),
        "lean_mass_kg": _number(m.get("lean_mass_kg"), 0.5, 650.0),
        "body_fat_percent": _number(m.get("fat_percent"), 0.0, 100.0),
        "payload_json": _json(m),
    }
