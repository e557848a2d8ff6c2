"""Garmin Connect's JSON and zips turned into runlift's rows (the contract this connector owns).

An activity of the list becomes a :class:`ListedActivity`; an original download (a zip) becomes the
FIT files inside it; a weigh-in becomes a row for ``raw.garmin_weigh_ins`` (SI units: Garmin sends
grams). Anything odd in one item is skipped with a reason, never guessed.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import zipfile
from dataclasses import dataclass
from typing import Any

MAX_MEMBER_BYTES = 256 * 1024 * 1024  # a FIT file larger than this inside a download is refused
WEIGH_IN_COLUMNS = ("sample_pk", "measured_at_utc", "calendar_date", "body_mass_kg", "body_fat_percent",
                    "body_water_percent", "bone_mass_kg", "muscle_mass_kg", "bmi_kg_m2", "source_type")


@dataclass(frozen=True)
class ListedActivity:
    activity_id: int
    start_utc: dt.datetime  # naive UTC
    activity_type: str | None
    name: str | None
    manual: bool


def _utc(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):  # not a time, or one that leaves the calendar in UTC
        return None
    return parsed


def listed_activity(item: dict[str, Any]) -> ListedActivity | str:
    """The activity, or why it was skipped."""
    activity_id = item.get("activityId")
    if isinstance(activity_id, bool) or not isinstance(activity_id, int) or not 0 < activity_id < 2**63:
        return f"an activity without a usable activityId ({str(activity_id)[:40]!r}) was skipped"
    start = _utc(item.get("startTimeGMT"))
    if start is None:
        return f"activity {activity_id} without a usable startTimeGMT was skipped"
    kind = item.get("activityType")
    type_key = kind.get("typeKey") if isinstance(kind, dict) else None
    name = item.get("activityName")
    if isinstance(name, str):  # valid UTF-8 (a lone surrogate, valid in JSON, becomes ?)
        name = name[:200].encode("utf-8", "replace").decode("utf-8")
    return ListedActivity(activity_id, start, type_key if isinstance(type_key, str) else None,
                          name if isinstance(name, str) else None, item.get("manualActivity") is True)


def fit_members(data: bytes) -> tuple[list[tuple[str, bytes]], str | None]:
    """The FIT files of an original download (a zip), and why there are none when there are none.

    Garmin serves the file as it was uploaded, zipped: a FIT file from a watch; a GPX/TCX file from
    elsewhere (not imported: runlift's activities come from FIT files and Strava)."""
    if data[:4] != b"PK\x03\x04":
        if len(data) > 12 and data[8:12] == b".FIT":
            return [("activity.fit", data)], None  # a bare FIT file (not zipped)
        return [], "the original download is neither a zip nor a FIT file"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            found, others = [], []
            for info in archive.infolist():
                if info.is_dir():
                    continue
                if not info.filename.lower().endswith(".fit"):
                    others.append(info.filename)
                    continue
                if info.file_size > MAX_MEMBER_BYTES:
                    return [], f"{info.filename} is larger than {MAX_MEMBER_BYTES // 2**20} MiB"
                found.append((info.filename, archive.read(info)))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        return [], f"the original download is not a readable zip ({type(exc).__name__})"
    if not found:
        return [], "the original is not a FIT file (" + (", ".join(others[:3]) or "an empty zip") + ")"
    return found, None


def _number(value: Any, per_unit: float = 1.0, lo: float = 0.0, hi: float = math.inf) -> float | None:
    """``value`` / ``per_unit`` (grams / 1000: kilograms) when it is a finite number within [lo, hi]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    out = float(value) / per_unit
    return out if lo <= out <= hi else None


def weigh_in_rows(body: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows for raw.garmin_weigh_ins from the weight-service range answer, and the skipped ones' reasons."""
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    summaries = body.get("dailyWeightSummaries") if isinstance(body, dict) else None
    if not isinstance(summaries, list):
        return [], ["the weigh-in answer had no dailyWeightSummaries list"] if body not in ({}, None) else []
    for day in summaries:
        metrics = day.get("allWeightMetrics") if isinstance(day, dict) else None
        for m in metrics if isinstance(metrics, list) else []:
            if not isinstance(m, dict):
                continue
            pk = m.get("samplePk")
            when = m.get("timestampGMT")
            calendar = m.get("calendarDate")
            if isinstance(pk, bool) or not isinstance(pk, int) or not -2**63 <= pk < 2**63:
                problems.append("a weigh-in without a samplePk was skipped")
                continue
            try:
                if isinstance(when, bool) or not isinstance(when, (int, float)):
                    raise ValueError("no epoch milliseconds")
                measured = dt.datetime.fromtimestamp(when / 1000, dt.UTC).replace(tzinfo=None)
                day_local = dt.date.fromisoformat(str(calendar))
            except (TypeError, ValueError, OverflowError, OSError):
                problems.append(f"weigh-in {pk} without a usable time or calendarDate was skipped")
                continue
            rows.append({
                "sample_pk": pk,
                "measured_at_utc": measured,
                "calendar_date": day_local,
                "body_mass_kg": _number(m.get("weight"), 1000, 0.5, 650),  # Garmin sends grams
                "body_fat_percent": _number(m.get("bodyFat"), 1.0, 0, 100),
                "body_water_percent": _number(m.get("bodyWater"), 1.0, 0, 100),
                "bone_mass_kg": _number(m.get("boneMass"), 1000, 0, 650),
                "muscle_mass_kg": _number(m.get("muscleMass"), 1000, 0, 650),
                "bmi_kg_m2": _number(m.get("bmi"), 1.0, 0, 300),
                "source_type": str(m.get("sourceType"))[:40] if m.get("sourceType") is not None else None,
            })
    return rows, problems
