"""CSV exports of lifting apps (Strong, Hevy) as rows of raw.lift_csv_sets, in SI units.

The export is recognised by its header (docs/hevy.md, "CSV exports"):

* Hevy: ``"title","start_time","end_time","description","exercise_title","superset_id",
  "exercise_notes","set_index","set_type",`` then ``"weight_kg"`` or ``"weight_lbs"``, ``"reps",``
  ``"distance_km"`` or ``"distance_miles"``, ``"duration_seconds","rpe"``; times like
  ``26 Jul 2025, 07:06`` (the phone's local time).
* Strong with unit columns (older exports, ``;``-separated): ``Date;Workout Name;Exercise Name;Set
  Order;Weight;Weight Unit;Reps;RPE;Distance;Distance Unit;Seconds;Notes;Workout Notes`` (and
  sometimes ``Workout Duration``).
* Strong without unit columns (current exports, ``,`` or ``;``): ``Date,Workout Name,Duration,Exercise
  Name,Set Order,Weight,Reps,Distance,Seconds,Notes,Workout Notes,RPE``: the numbers are in the
  units set in the app, which the file does not say, so the caller must give them.

Every set's key is what the export says (workout start, exercise name, which block of that exercise,
position of the set in the block), so importing the same export again, or a later one containing
it, finds the same keys. Set Order ``W``, ``D`` or ``F`` (Strong) are warm-up, drop and failure sets.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from typing import Any

LB_KG = 0.45359237  # exact, by definition
MILE_M = 1609.344  # exact, by definition
WEIGHT_UNITS = {"kg": 1.0, "kgs": 1.0, "lb": LB_KG, "lbs": LB_KG}
DISTANCE_UNITS = {"m": 1.0, "km": 1000.0, "mi": MILE_M, "mile": MILE_M, "miles": MILE_M, "ft": 0.3048,
                  "yd": 0.9144}
HEVY_COLUMNS = ("title", "start_time", "end_time", "exercise_title", "set_index", "set_type", "reps")
STRONG_COLUMNS = ("Date", "Workout Name", "Exercise Name", "Set Order", "Weight", "Reps")
STRONG_SET_TYPES = {"W": "warmup", "D": "dropset", "F": "failure"}


class LiftCsvError(ValueError):
    """The file is not an export runlift knows, or cannot be read; the message says what to do."""


@dataclass
class LiftCsv:
    app: str  # strong | hevy
    rows: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # rows skipped, with why
    weight_unit: str = "kg"
    distance_unit: str = "km"


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text.replace(",", ".")) if text.count(",") == 1 and "." not in text else float(text)
    except ValueError:
        return None
    return value if value == value and abs(value) < 1e9 else None  # NaN and absurd values are no data


def _local_time(text: str) -> dt.datetime | None:
    """A local time as the apps write them: ``2024-01-15 17:30:00``, ``2024-01-15 5:30:00 PM``,
    ``26 Jul 2025, 07:06`` (no zone: the phone's local time)."""
    text = " ".join(text.replace("\u202f", " ").split())
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %I:%M:%S %p", "%Y-%m-%d %H:%M", "%d %b %Y, %H:%M",
                "%d %B %Y, %H:%M", "%Y-%m-%dT%H:%M:%S"):
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def _duration_s(text: str | None) -> float | None:
    """Strong's workout duration: ``1h 5m``, ``45m``, ``50s`` or a number of seconds."""
    if not text or not text.strip():
        return None
    plain = _number(text)
    if plain is not None:
        return plain
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([hms])", text.lower())
    if not parts:
        return None
    return sum(float(v) * {"h": 3600, "m": 60, "s": 1}[u] for v, u in parts)


def _sniff(text: str) -> tuple[list[str], list[list[str]]]:
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ("\t" if first.count("\t") > first.count(",")
                                                                     else ",")
    table = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if not table:
        raise LiftCsvError("the file is empty")
    header = [h.strip().strip('"').lstrip("\ufeff") for h in table[0]]
    return header, [r for r in table[1:] if any(c.strip() for c in r)]


def parse_lift_csv(text: str, *, weight_unit: str | None = None, distance_unit: str | None = None) -> LiftCsv:
    """The sets of a Strong or Hevy CSV export. ``weight_unit`` (kg, lb) and ``distance_unit``
    (m, km, mi) are needed only for a Strong export without unit columns that has weights or
    distances; a file that says its units is read in them whatever these say."""
    header, body = _sniff(text)
    if all(c in header for c in HEVY_COLUMNS):
        return _parse_hevy(header, body)
    if all(c in header for c in STRONG_COLUMNS):
        return _parse_strong(header, body, weight_unit, distance_unit)
    shown = ", ".join(header[:8])
    raise LiftCsvError(f"not a Strong or Hevy CSV export (its header: {shown[:200]}); export from the app's "
                       "settings (Strong: Export data; Hevy: Settings > Export & import data > Export workouts)")


def _blocks(rows: list[dict[str, Any]]) -> None:
    """Number exercise blocks (exercise_position, exercise_occurrence) and sets within them (set_order),
    in file order: a block is a run of rows of one exercise within one workout."""
    current: tuple[Any, ...] | None = None
    positions: dict[dt.datetime, int] = {}
    occurrences: dict[tuple[dt.datetime, str], int] = {}
    order = 0
    for r in rows:
        key = (r["started_local"], r["exercise_title"])
        if key != current:
            current = key
            positions[r["started_local"]] = positions.get(r["started_local"], 0) + 1
            occurrences[key] = occurrences.get(key, 0) + 1
            order = 0
        order += 1
        r["exercise_position"] = positions[r["started_local"]]
        r["exercise_occurrence"] = occurrences[key]
        r["set_order"] = order


def _parse_hevy(header: list[str], body: list[list[str]]) -> LiftCsv:
    if "weight_kg" in header:
        weight_col, weight_unit = "weight_kg", "kg"
    elif "weight_lbs" in header:
        weight_col, weight_unit = "weight_lbs", "lb"
    else:
        raise LiftCsvError("Hevy export without weight_kg or weight_lbs column")
    distance_col, distance_unit = next(((c, u) for c, u in (("distance_km", "km"), ("distance_miles", "mi"),
                                                           ("distance_meters", "m")) if c in header), (None, "km"))
    out = LiftCsv("hevy", weight_unit=weight_unit, distance_unit=distance_unit)
    for n, values in enumerate(body, start=2):
        r = dict(zip(header, values, strict=False))
        start = _local_time(r.get("start_time", ""))
        title = (r.get("exercise_title") or "").strip()
        if start is None or not title:
            out.problems.append(f"line {n}: no start_time or exercise_title: skipped")
            continue
        weight = _number(r.get(weight_col))
        distance = _number(r.get(distance_col)) if distance_col else None
        end = _local_time(r.get("end_time", ""))
        out.rows.append({
            "started_local": start, "exercise_title": title[:500], "workout_title": (r.get("title") or "")[:500],
            "ended_local": end, "duration_s": (end - start).total_seconds() if end and end >= start else None,
            "set_type": (r.get("set_type") or "").strip() or None,
            "weight_kg": weight * WEIGHT_UNITS[weight_unit] if weight is not None else None,
            "reps": int(v) if (v := _number(r.get("reps"))) is not None else None,
            "distance_m": distance * DISTANCE_UNITS[distance_unit] if distance is not None else None,
            "set_duration_s": _number(r.get("duration_seconds")), "rpe": _number(r.get("rpe")),
            "superset_id": (r.get("superset_id") or "").strip() or None,
            "exercise_notes": (r.get("exercise_notes") or "").strip() or None,
            "workout_notes": (r.get("description") or "").strip() or None,
        })
    _blocks(out.rows)
    return out


def _parse_strong(header: list[str], body: list[list[str]], weight_unit: str | None,
                  distance_unit: str | None) -> LiftCsv:
    says_units = "Weight Unit" in header
    rows = [dict(zip(header, values, strict=False)) for values in body]
    if not says_units:
        has_weight = any((_number(r.get("Weight")) or 0) > 0 for r in rows)
        has_distance = any((_number(r.get("Distance")) or 0) > 0 for r in rows)
        if has_weight and weight_unit not in WEIGHT_UNITS:
            raise LiftCsvError("this Strong export does not say its weight unit: pass --weight-unit kg or "
                               "--weight-unit lb, as set in Strong (Settings > Units)")
        if has_distance and distance_unit not in DISTANCE_UNITS:
            raise LiftCsvError("this Strong export does not say its distance unit: pass --distance-unit km or "
                               "--distance-unit mi, as set in Strong (Settings > Units)")
    out = LiftCsv("strong", weight_unit=weight_unit or "kg", distance_unit=distance_unit or "km")
    for n, r in enumerate(rows, start=2):
        start = _local_time(r.get("Date", ""))
        title = (r.get("Exercise Name") or "").strip()
        if start is None or not title:
            out.problems.append(f"line {n}: no Date or Exercise Name: skipped")
            continue
        w_unit = (r.get("Weight Unit") or "").strip().lower() if says_units else (weight_unit or "kg")
        d_unit = (r.get("Distance Unit") or "").strip().lower().rstrip(".") if says_units else (distance_unit or "km")
        weight, distance = _number(r.get("Weight")), _number(r.get("Distance"))
        if weight and w_unit not in WEIGHT_UNITS:
            out.problems.append(f"line {n}: weight unit {w_unit[:10]!r} unknown: skipped")
            continue
        if distance and d_unit not in DISTANCE_UNITS:
            out.problems.append(f"line {n}: distance unit {d_unit[:10]!r} unknown: skipped")
            continue
        set_order = (r.get("Set Order") or "").strip().upper()
        duration = _duration_s(r.get("Duration") or r.get("Workout Duration"))
        out.rows.append({
            "started_local": start, "exercise_title": title[:500], "workout_title": (r.get("Workout Name") or "")[:500],
            "ended_local": start + dt.timedelta(seconds=duration) if duration else None, "duration_s": duration,
            "set_type": STRONG_SET_TYPES.get(set_order[:1]) if set_order[:1].isalpha() else None,
            "weight_kg": weight * WEIGHT_UNITS.get(w_unit, 1.0) if weight is not None else None,
            "reps": int(v) if (v := _number(r.get("Reps"))) is not None else None,
            "distance_m": distance * DISTANCE_UNITS.get(d_unit, 1.0) if distance is not None else None,
            "set_duration_s": _number(r.get("Seconds")), "rpe": _number(r.get("RPE")), "superset_id": None,
            "exercise_notes": (r.get("Notes") or "").strip() or None,
            "workout_notes": (r.get("Workout Notes") or "").strip() or None,
        })
    _blocks(out.rows)
    return out
