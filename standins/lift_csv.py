"""CSV exports of Strong and Hevy written for the synthetic athlete's gym sessions (the Hevy emulator's
workouts, standins/hevy_emulator.py), in kilograms or pounds, as the apps write them (docs/hevy.md)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any
from zoneinfo import ZoneInfo

LB_KG = 0.45359237
MILE_M = 1609.344

HEVY_HEADER = ["title", "start_time", "end_time", "description", "exercise_title", "superset_id", "exercise_notes",
               "set_index", "set_type", "{weight}", "reps", "{distance}", "duration_seconds", "rpe"]
STRONG_HEADER = ["Date", "Workout Name", "Duration", "Exercise Name", "Set Order", "Weight", "Reps", "Distance",
                 "Seconds", "Notes", "Workout Notes", "RPE"]
STRONG_HEADER_UNITS = ["Date", "Workout Name", "Exercise Name", "Set Order", "Weight", "Weight Unit", "Reps", "RPE",
                       "Distance", "Distance Unit", "Seconds", "Notes", "Workout Notes", "Workout Duration"]


def _local(value: str, tz: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(ZoneInfo(tz)).replace(tzinfo=None)


def _num(value: float | None, factor: float = 1.0, digits: int = 2) -> str:
    if value is None:
        return ""
    out = round(value / factor, digits)
    return str(int(out)) if out == int(out) else str(out)


def hevy_csv(workouts: list[dict[str, Any]], *, tz: str = "America/Denver", units: str = "kg") -> str:
    """Hevy's CSV export (Settings > Export & import data) of ``workouts`` (Hevy API shape), newest first;
    ``units`` kg (weight_kg, distance_km) or lb (weight_lbs, distance_miles)."""
    imperial = units == "lb"
    header = [h.format(weight="weight_lbs" if imperial else "weight_kg",
                       distance="distance_miles" if imperial else "distance_km") for h in HEVY_HEADER]
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    writer.writerow(header)
    for w in sorted(workouts, key=lambda w: w["start_time"], reverse=True):
        start, end = _local(w["start_time"], tz), _local(w["end_time"], tz)
        for ex in w["exercises"]:
            for s in ex["sets"]:
                dist = s.get("distance_meters")
                weight = s.get("weight_kg")
                writer.writerow([  # None: an empty field, unquoted (as Hevy writes them)
                    w["title"], f"{start:%d %b %Y, %H:%M}", f"{end:%d %b %Y, %H:%M}", w.get("description") or None,
                    ex["title"], ex.get("superset_id"), ex.get("notes") or None, s["index"], s["type"],
                    None if weight is None else round(weight / (LB_KG if imperial else 1.0), 2 if imperial else 3),
                    s.get("reps"),
                    None if dist is None else round(dist / (MILE_M if imperial else 1000.0), 4),
                    s.get("duration_seconds"), s.get("rpe")])
    return out.getvalue()


def strong_csv(workouts: list[dict[str, Any]], *, tz: str = "America/Denver", units: str = "kg",
               unit_columns: bool = False) -> str:
    """Strong's CSV export of ``workouts`` (Hevy API shape): the current format (``,``, no unit columns,
    the numbers in the app's units) or, with ``unit_columns``, the older one (``;``, Weight Unit and
    Distance Unit columns). Warm-up sets have Set Order ``W``."""
    imperial = units == "lb"
    factor = LB_KG if imperial else 1.0
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if unit_columns else ",", lineterminator="\n")
    writer.writerow(STRONG_HEADER_UNITS if unit_columns else STRONG_HEADER)
    for w in sorted(workouts, key=lambda w: w["start_time"]):
        start, end = _local(w["start_time"], tz), _local(w["end_time"], tz)
        minutes = int((end - start).total_seconds() // 60)
        duration = f"{minutes // 60}h {minutes % 60}m" if minutes >= 60 else f"{minutes}m"
        for ex in w["exercises"]:
            number = 0
            for s in ex["sets"]:
                if s["type"] == "warmup":
                    order = "W"
                else:
                    number += 1
                    order = str(number)
                weight = _num(s.get("weight_kg"), factor) or "0"
                dist = s.get("distance_meters")
                distance = _num(dist, MILE_M if imperial else 1000.0, 4) if dist is not None else "0"
                reps = "" if s.get("reps") is None else str(s["reps"])
                seconds = str(s.get("duration_seconds") or 0)
                rpe = "" if s.get("rpe") is None else _num(s["rpe"])
                if unit_columns:
                    writer.writerow([f"{start:%Y-%m-%d %H:%M:%S}", w["title"], ex["title"], order, weight,
                                     "lbs" if imperial else "kg", reps, rpe, distance, "mi" if imperial else "km",
                                     seconds, ex.get("notes") or "", w.get("description") or "", duration])
                else:
                    writer.writerow([f"{start:%Y-%m-%d %H:%M:%S}", w["title"], duration, ex["title"], order, weight,
                                     reps, distance, seconds, ex.get("notes") or "", w.get("description") or "", rpe])
    return out.getvalue()
