"""A deterministic synthetic Strava athlete: a half-marathon block of runs and gym sessions.

Everything here is shaped like the live Strava API v3 answers (see ``shared/strava/examples``):

* :func:`synthetic_season` gives ``DetailedActivity`` dicts (``GET /activities/{id}``);
* :func:`summary_of` cuts one down to the ``SummaryActivity`` the list endpoint returns;
* :func:`streams_for` gives the per-sample streams (``GET /activities/{id}/streams``);
* :func:`default_athlete` / :func:`summary_athlete` give the athlete.

Dates are relative to ``end_date``; everything else (ids, distances, times of day, names, tracks)
depends only on ``seed``. Tracks are generated from the activity's own fields (seeded by its id),
so the streams, polylines, splits and elevation figures of one activity agree with each other,
and editing an activity's distance changes its streams the next time they are asked for.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

__all__ = [
    "synthetic_season",
    "summary_of",
    "streams_for",
    "default_athlete",
    "summary_athlete",
    "STREAM_KEYS",
    "SUMMARY_FIELDS",
    "DEVICE_NAME",
]

DEVICE_NAME = "Garmin Forerunner 265"
HALF_MARATHON_M = 21097.5
MILES_350_M = 563_270.0  # 350 miles, the size of a 16-week block
STREAM_KEYS = ("time", "distance", "latlng", "altitude", "velocity_smooth", "heartrate", "cadence",
               "watts", "temp", "moving", "grade_smooth")

# Places around Boulder, CO: (lat, lng)
HOME = (40.01499, -105.27055)
CHAUTAUQUA = (39.99898, -105.28172)
RESERVOIR = (40.07196, -105.22908)
CREEK_PATH = (40.01343, -105.25106)

SHOES = {
    "daily": {"id": "g15203114", "name": "Nike Pegasus 41", "nickname": "Pegs", "primary": True,
              "brand_name": "Nike", "model_name": "Pegasus 41", "retired": False},
    "trail": {"id": "g15203127", "name": "Hoka Speedgoat 6", "nickname": "Goats", "primary": False,
              "brand_name": "Hoka", "model_name": "Speedgoat 6", "retired": False},
    "race": {"id": "g16011942", "name": "Saucony Endorphin Speed 4", "nickname": "Speedies",
             "primary": False, "brand_name": "Saucony", "model_name": "Endorphin Speed 4", "retired": False},
    # the daily pair before the Pegasus 41: worn for the easy runs of the season's first weeks, then retired
    "old_daily": {"id": "g13990051", "name": "Nike Pegasus 40", "nickname": "Old pegs", "primary": False,
                  "brand_name": "Nike", "model_name": "Pegasus 40", "retired": True},
}
OLD_DAILY_UNTIL_WEEK = 4  # easy and long runs of weeks 1..4 of a season wear the old daily pair


def gear_detail(shoe: dict[str, Any], distance_m: float) -> dict[str, Any]:
    """A DetailedGear (``GET /gear/{id}``) for one of ``SHOES``, with Strava's total distance."""
    return {"id": shoe["id"], "primary": shoe["primary"], "name": shoe["name"], "nickname": shoe["nickname"],
            "resource_state": 3, "retired": shoe["retired"], "distance": round(distance_m, 1),
            "converted_distance": round(distance_m / 1609.344, 1), "brand_name": shoe["brand_name"],
            "model_name": shoe["model_name"], "description": None, "notification_distance": 0}


# The fields of a SummaryActivity as the list endpoint sends them: Strava's swagger SummaryActivity
# (less device_name, which live list answers leave out) plus the undocumented ones live answers
# carry (stravalib's model.SummaryActivity lists most of them as "undocumented attributes").
SUMMARY_FIELDS = (
    "resource_state", "athlete", "name", "distance", "moving_time", "elapsed_time",
    "total_elevation_gain", "type", "sport_type", "workout_type", "id", "start_date",
    "start_date_local", "timezone", "utc_offset", "location_city", "location_state",
    "location_country", "achievement_count", "kudos_count", "comment_count", "athlete_count",
    "photo_count", "map", "trainer", "commute", "manual", "private", "visibility", "flagged",
    "gear_id", "start_latlng", "end_latlng", "average_speed", "max_speed", "average_cadence",
    "average_watts", "max_watts", "weighted_average_watts", "device_watts", "kilojoules",
    "has_heartrate", "average_heartrate", "max_heartrate", "heartrate_opt_out",
    "display_hide_heartrate_option", "elev_high", "elev_low", "upload_id", "upload_id_str",
    "external_id", "from_accepted_tag", "pr_count", "total_photo_count", "has_kudoed",
    "suffer_score", "hide_from_home",
)


# --------------------------------------------------------------------------------------------
# small helpers


def _iso_z(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _tz_label(offset_s: float, tz: str) -> str:
    sign = "-" if offset_s < 0 else "+"
    minutes = int(abs(offset_s)) // 60
    return f"(GMT{sign}{minutes // 60:02d}:{minutes % 60:02d}) {tz}"


def _day_name(hour: int) -> str:
    if 4 <= hour < 11:
        return "Morning"
    if 11 <= hour < 13:
        return "Lunch"
    if 13 <= hour < 17:
        return "Afternoon"
    if 17 <= hour < 21:
        return "Evening"
    return "Night"


def _encode_polyline(lat: Iterable[float], lng: Iterable[float]) -> str:
    """Google's encoded polyline (precision 5), as Strava's map.polyline / summary_polyline."""
    ilat = np.round(np.asarray(lat, dtype=float) * 1e5).astype(np.int64)
    ilng = np.round(np.asarray(lng, dtype=float) * 1e5).astype(np.int64)
    deltas = np.stack([np.diff(ilat, prepend=0), np.diff(ilng, prepend=0)], axis=1).ravel()
    values = np.where(deltas < 0, ~(deltas << 1), deltas << 1).tolist()
    out: list[str] = []
    for value in values:
        while value >= 0x20:
            out.append(chr((0x20 | (value & 0x1F)) + 63))
            value >>= 5
        out.append(chr(value + 63))
    return "".join(out)


def _smooth(x: np.ndarray, window: int) -> np.ndarray:
    if window <= 1 or len(x) < window:
        return x.astype(float)
    kernel = np.ones(window) / window
    pad = window // 2
    padded = np.pad(x.astype(float), (pad, window - 1 - pad), mode="edge")
    return np.convolve(padded, kernel, mode="valid")


def _legacy_type(sport_type: str) -> str:
    """The deprecated ``type`` Strava derives from a ``sport_type``."""
    if sport_type in ("Run", "TrailRun"):
        return "Run"
    if sport_type in ("Ride", "MountainBikeRide", "GravelRide", "EMountainBikeRide"):
        return "Ride"
    if sport_type in ("Walk", "Hike", "WeightTraining", "Yoga", "Swim", "VirtualRun", "VirtualRide",
                      "Crossfit", "Elliptical", "StairStepper", "Rowing"):
        return sport_type
    return "Workout"


# --------------------------------------------------------------------------------------------
# the athlete


def default_athlete(athlete_id: int = 4242) -> dict[str, Any]:
    """A DetailedAthlete (``GET /athlete``) for the synthetic runner, owning the season's shoes."""
    shoes = []
    for i, shoe in enumerate(SHOES.values()):
        distance = 412_345.6 - 101_000.0 * i
        shoes.append({
            "id": shoe["id"], "primary": shoe["primary"], "name": shoe["name"],
            "nickname": shoe["nickname"], "resource_state": 2, "retired": shoe["retired"],
            "distance": distance, "converted_distance": round(distance / 1609.344, 1),
        })
    return {
        "id": athlete_id,
        "username": "sam_runs_boulder",
        "resource_state": 3,
        "firstname": "Sam",
        "lastname": "Rivera",
        "bio": "Half-marathon block, lifting twice a week.",
        "city": "Boulder",
        "state": "Colorado",
        "country": "United States",
        "sex": "F",
        "premium": True,
        "summit": True,
        "created_at": "2016-04-02T15:20:11Z",
        "updated_at": "2026-01-05T03:12:45Z",
        "badge_type_id": 1,
        "weight": 61.2,
        "profile_medium": "avatar/athlete/medium.png",
        "profile": "avatar/athlete/large.png",
        "friend": None,
        "follower": None,
        "blocked": False,
        "can_follow": True,
        "follower_count": 87,
        "friend_count": 93,
        "mutual_friend_count": 0,
        "athlete_type": 1,
        "date_preference": "%m/%d/%Y",
        "measurement_preference": "feet",
        "clubs": [],
        "postable_clubs_count": 0,
        "ftp": None,
        "bikes": [],
        "shoes": shoes,
        "is_winback_via_upload": False,
        "is_winback_via_view": False,
    }


_SUMMARY_ATHLETE_FIELDS = ("id", "username", "resource_state", "firstname", "lastname", "bio", "city",
                           "state", "country", "sex", "premium", "summit", "created_at", "updated_at",
                           "badge_type_id", "weight", "profile_medium", "profile", "friend", "follower")


def summary_athlete(athlete: dict[str, Any]) -> dict[str, Any]:
    """The SummaryAthlete the token endpoint sends with an authorization_code grant."""
    out = {k: athlete.get(k) for k in _SUMMARY_ATHLETE_FIELDS if k in athlete}
    out["resource_state"] = 2
    return out


# --------------------------------------------------------------------------------------------
# tracks: one deterministic per-sample recording per activity


def _sample_step(elapsed: int) -> int:
    return 1 if elapsed <= 3600 else min(5, math.ceil(elapsed / 3600))


def _base_elevation(latlng: list[float] | None) -> float:
    if not latlng:
        return 1655.0
    lat, lng = latlng
    return 1655.0 + (-105.27 - lng) * 2600.0 + (lat - 40.015) * 300.0


def _track(detail: dict[str, Any]) -> dict[str, np.ndarray] | None:
    """The per-sample recording behind an activity, or None for a manual one (no streams)."""
    if detail.get("manual"):
        return None
    elapsed = int(detail.get("elapsed_time") or 0)
    if elapsed <= 0:
        return None
    moving_time = int(detail.get("moving_time") or elapsed)
    moving_time = max(1, min(moving_time, elapsed))
    distance = float(detail.get("distance") or 0.0)
    rng = np.random.default_rng([int(detail.get("id") or 0) % (2**63), 20_260_101])
    step = _sample_step(elapsed)
    t = np.arange(0, elapsed + 1, step, dtype=np.int64)
    n = len(t)
    frac_t = t / max(1, elapsed)

    # pauses (moving == False) in one to three blocks away from the ends
    moving = np.ones(n, dtype=bool)
    n_pause = int(round((elapsed - moving_time) / step))
    n_pause = max(0, min(n_pause, n - 2))
    if n_pause:
        blocks = int(rng.integers(1, 4))
        sizes = np.diff(np.linspace(0, n_pause, blocks + 1).round().astype(int))
        for size in sizes:
            if size <= 0:
                continue
            lo, hi = int(n * 0.1), max(int(n * 0.1) + 1, int(n * 0.9) - int(size))
            start = int(rng.integers(lo, hi)) if hi > lo else lo
            moving[start:start + int(size)] = False

    out: dict[str, np.ndarray] = {"time": t, "moving": moving}

    # speed, distance
    if distance > 0:
        p1, p2 = rng.uniform(0, 2 * np.pi, 2)
        shape = (1 + 0.05 * np.sin(2 * np.pi * t / 900 + p1) + 0.03 * np.sin(2 * np.pi * t / 240 + p2)
                 + _smooth(rng.normal(0, 0.04, n), 15))
        shape *= np.where(frac_t < 0.05, 0.92, 1.0)  # easing in
        if detail.get("workout_type") == 3:  # intervals: 4 min hard, 2 min easy
            shape *= np.where((t % 360) < 240, 1.12, 0.85)
        shape = np.clip(shape, 0.3, None) * moving
        inc = shape * step
        inc[0] = 0.0
        d = np.cumsum(inc)
        scale = distance / d[-1] if d[-1] > 0 else 0.0
        d *= scale
        velocity = shape * scale
    else:
        d = np.zeros(n)
        velocity = np.zeros(n)
    out["distance"] = d
    out["velocity_smooth"] = _smooth(velocity, 5) * np.where(moving, 1.0, 0.0) if distance > 0 else velocity

    latlng = detail.get("start_latlng") or None
    if distance > 0:
        # altitude: periodic along the route, scaled so its gain equals total_elevation_gain
        s = d / distance
        ks = np.arange(1, 5)
        amps = rng.uniform(0.5, 1.0, 4) / ks
        phases = rng.uniform(0, 2 * np.pi, 4)
        profile = (amps[:, None] * np.sin(2 * np.pi * ks[:, None] * s[None, :] + phases[:, None])).sum(0)
        if detail.get("sport_type") == "TrailRun":
            profile = profile + 3.0 * np.sin(np.pi * s) ** 2
        profile = profile - profile[0]
        gain_raw = float(np.clip(np.diff(profile), 0, None).sum())
        target = float(detail.get("total_elevation_gain") or 0.0)
        alt = _base_elevation(latlng) + (profile * (target / gain_raw) if gain_raw > 0 else 0.0 * profile)
        out["altitude"] = alt
        dd = np.gradient(d)
        da = np.gradient(alt)
        grade = np.where(dd > 0.3, da / np.where(dd > 0.3, dd, 1.0) * 100.0, 0.0)
        out["grade_smooth"] = np.clip(_smooth(grade, 7), -45, 45)

        if latlng:
            # a wobbly, slightly open loop whose length is the activity's distance
            theta = np.linspace(0, 2 * np.pi, 1500)
            q1, q2, rot = rng.uniform(0, 2 * np.pi, 3)
            r = 1 + 0.22 * np.sin(2 * theta + q1) + 0.1 * np.sin(3 * theta + q2)
            x = r * np.cos(theta) - r[0]
            y = r * np.sin(theta)
            x = x + 0.04 * theta / (2 * np.pi)
            xr = x * np.cos(rot) - y * np.sin(rot)
            yr = x * np.sin(rot) + y * np.cos(rot)
            seg = np.hypot(np.diff(xr), np.diff(yr))
            arc = np.concatenate([[0.0], np.cumsum(seg)])
            k = distance / arc[-1]
            xs = np.interp(d, arc * k, xr * k)
            ys = np.interp(d, arc * k, yr * k)
            lat0, lng0 = float(latlng[0]), float(latlng[1])
            out["lat"] = lat0 + ys / 111_320.0
            out["lng"] = lng0 + xs / (111_320.0 * math.cos(math.radians(lat0)))

    mean_v = float(velocity[moving].mean()) if distance > 0 and moving.any() else 0.0
    rel_v = velocity / mean_v - 1.0 if mean_v > 0 else np.zeros(n)

    if detail.get("has_heartrate") and detail.get("average_heartrate"):
        avg = float(detail["average_heartrate"])
        hr_max = float(detail.get("max_heartrate") or avg + 15)
        p = rng.uniform(0, 2 * np.pi)
        hr = (avg + 9.0 * (frac_t - 0.5) + 3.0 * np.sin(2 * np.pi * t / 600 + p)
              + 18.0 * _smooth(rel_v, 30) + _smooth(rng.normal(0, 2.0, n), 5))
        hr = np.where(moving, hr, hr - 12.0)
        hr = hr + (avg - hr.mean())
        hr = np.clip(hr, 88, hr_max)
        hr[int(np.argmax(hr))] = hr_max
        out["heartrate"] = hr

    if detail.get("average_cadence") and distance > 0:
        avg_c = float(detail["average_cadence"])
        cad = avg_c + 4.0 * _smooth(rel_v, 5) + _smooth(rng.normal(0, 1.2, n), 3)
        cad = cad + (avg_c - cad[moving].mean()) if moving.any() else cad
        out["cadence"] = np.where(moving, cad, 0.0)

    if detail.get("device_watts") and detail.get("average_watts") and distance > 0:
        avg_w = float(detail["average_watts"])
        watts = avg_w * (1 + rel_v) + _smooth(rng.normal(0, 8.0, n), 3)
        watts = watts + (avg_w - watts[moving].mean()) if moving.any() else watts
        out["watts"] = np.where(moving, np.clip(watts, 0, None), 0.0)

    if detail.get("average_temp") is not None:
        avg_t = float(detail["average_temp"])
        out["temp"] = avg_t + 2.0 * (frac_t - 0.5) + _smooth(rng.normal(0, 0.3, n), 31)
    return out


def _stream_data(tr: dict[str, np.ndarray], key: str) -> list[Any] | None:
    if key == "latlng":
        if "lat" not in tr:
            return None
        return np.stack([np.round(tr["lat"], 6), np.round(tr["lng"], 6)], axis=1).tolist()
    if key not in tr:
        return None
    a = tr[key]
    if key == "time":
        return a.astype(int).tolist()
    if key == "moving":
        return a.astype(bool).tolist()
    if key in ("heartrate", "cadence", "watts", "temp"):
        return np.round(a).astype(int).tolist()
    if key == "velocity_smooth":
        return np.round(a, 3).tolist()
    return np.round(a, 1).tolist()


def streams_for(detail: dict[str, Any], keys: Iterable[str], *, key_by_type: bool = True
                ) -> dict[str, Any] | list[dict[str, Any]]:
    """The streams of a (non-manual) activity, as ``GET /activities/{id}/streams`` answers them.

    ``key_by_type=True``: ``{"time": {"data": [...], "series_type": "distance", "original_size": n,
    "resolution": "high"}, ...}``; otherwise a list of such objects each with its ``type``. Keys the
    activity has no data for (``latlng`` without GPS, ``watts`` without power...) are left out, as
    Strava does; like Strava, the ``distance`` stream (the series the others are indexed by) is
    returned even when not asked for. Raises ``ValueError`` for a manual
    activity, which has no streams (the API answers 404).
    """
    tr = _track(detail)
    if tr is None:
        raise ValueError(f"activity {detail.get('id')} is manual or empty: it has no streams")
    wanted = [k for k in dict.fromkeys(keys) if k in STREAM_KEYS]
    if "distance" not in wanted:
        wanted.append("distance")
    series_type = "distance" if float(detail.get("distance") or 0) > 0 else "time"
    streams: list[tuple[str, dict[str, Any]]] = []
    for key in wanted:
        data = _stream_data(tr, key)
        if data is None:
            continue
        streams.append((key, {"data": data, "series_type": series_type, "original_size": len(data),
                              "resolution": "high"}))
    if key_by_type:
        return dict(streams)
    return [{"type": k, **v} for k, v in streams]


# --------------------------------------------------------------------------------------------
# derived detail fields (splits, laps, best efforts, polylines)


def _local_iso(start_date: str, offset_s: float, plus_s: float) -> tuple[str, str]:
    start = datetime.strptime(start_date, "%Y-%m-%dT%H:%M:%SZ") + timedelta(seconds=float(plus_s))
    return _iso_z(start), _iso_z(start + timedelta(seconds=offset_s))


def _segments(tr: dict[str, np.ndarray], every_m: float) -> list[tuple[int, int]]:
    d = tr["distance"]
    total = float(d[-1])
    if total <= 0:
        return []
    bounds = [0]
    k = 1
    while k * every_m < total - 1e-6:
        bounds.append(int(np.searchsorted(d, k * every_m)))
        k += 1
    bounds.append(len(d) - 1)
    return [(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]


def _pace_zone(speed: float) -> int:
    # zones for a ~1:37 half-marathoner (m/s)
    for zone, top in enumerate((2.9, 3.3, 3.6, 3.9, 4.2), start=1):
        if speed < top:
            return zone
    return 6


def _splits(tr: dict[str, np.ndarray], every_m: float) -> list[dict[str, Any]]:
    t, d, mv = tr["time"], tr["distance"], tr["moving"]
    alt = tr.get("altitude")
    hr = tr.get("heartrate")
    step = int(t[1] - t[0]) if len(t) > 1 else 1
    out = []
    for i, (a, b) in enumerate(_segments(tr, every_m), start=1):
        dist = float(d[b] - d[a])
        elapsed = int(t[b] - t[a])
        moving_time = max(1, int(mv[a + 1:b + 1].sum()) * step)
        speed = dist / moving_time
        split = {
            "distance": round(dist, 1),
            "elapsed_time": elapsed,
            "elevation_difference": round(float(alt[b] - alt[a]), 1) if alt is not None else 0.0,
            "moving_time": moving_time,
            "split": i,
            "average_speed": round(speed, 2),
            "average_grade_adjusted_speed": round(speed * (1 + 0.004 * float(
                (alt[b] - alt[a]) / max(dist, 1) * 100)), 2) if alt is not None else round(speed, 2),
            "pace_zone": _pace_zone(speed),
        }
        if hr is not None:
            split["average_heartrate"] = round(float(hr[a:b + 1].mean()), 1)
        out.append(split)
    return out


def _laps(detail: dict[str, Any], tr: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    t, d, mv, v = tr["time"], tr["distance"], tr["moving"], tr["velocity_smooth"]
    step = int(t[1] - t[0]) if len(t) > 1 else 1
    segs = _segments(tr, 1000.0) or [(0, len(t) - 1)]
    act = {"id": detail["id"], "resource_state": 1}
    ath = {"id": detail["athlete"]["id"], "resource_state": 1}
    laps = []
    for i, (a, b) in enumerate(segs, start=1):
        dist = float(d[b] - d[a])
        moving_time = max(1, int(mv[a + 1:b + 1].sum()) * step)
        start_date, start_local = _local_iso(detail["start_date"], detail["utc_offset"], float(t[a]))
        alt = tr.get("altitude")
        lap = {
            "id": int(detail["id"]) * 1000 + i,
            "resource_state": 2,
            "name": f"Lap {i}",
            "activity": act,
            "athlete": ath,
            "elapsed_time": int(t[b] - t[a]),
            "moving_time": moving_time,
            "start_date": start_date,
            "start_date_local": start_local,
            "distance": round(dist, 1),
            "start_index": a,
            "end_index": b,
            "total_elevation_gain": round(float(np.clip(np.diff(alt[a:b + 1]), 0, None).sum()), 1)
            if alt is not None else 0.0,
            "average_speed": round(dist / moving_time, 3),
            "max_speed": round(float(v[a:b + 1].max()), 3),
            "device_watts": bool(detail.get("device_watts", False)),
            "lap_index": i,
            "split": i,
        }
        if "cadence" in tr:
            c = tr["cadence"][a:b + 1]
            lap["average_cadence"] = round(float(c[c > 0].mean()) if (c > 0).any() else 0.0, 1)
        if "watts" in tr:
            lap["average_watts"] = round(float(tr["watts"][a:b + 1].mean()), 1)
        if "heartrate" in tr:
            lap["average_heartrate"] = round(float(tr["heartrate"][a:b + 1].mean()), 1)
            lap["max_heartrate"] = float(round(float(tr["heartrate"][a:b + 1].max())))
        if dist > 0:
            lap["pace_zone"] = _pace_zone(dist / moving_time)
        laps.append(lap)
    return laps


_BEST_EFFORTS = (("400m", 400), ("1/2 mile", 805), ("1k", 1000), ("1 mile", 1609), ("2 mile", 3219),
                 ("5k", 5000), ("10k", 10000), ("15k", 15000), ("10 mile", 16090), ("20k", 20000),
                 ("Half-Marathon", 21097))


def _best_efforts(detail: dict[str, Any], tr: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    t, d = tr["time"], tr["distance"]
    out = []
    for i, (name, meters) in enumerate(_BEST_EFFORTS):
        if d[-1] < meters:
            break
        j = np.searchsorted(d, d + meters)
        ok = j < len(d)
        if not ok.any():
            break
        starts = np.nonzero(ok)[0]
        durations = t[j[ok]] - t[starts]
        k = int(np.argmin(durations))
        a, b = int(starts[k]), int(j[ok][k])
        start_date, start_local = _local_iso(detail["start_date"], detail["utc_offset"], float(t[a]))
        out.append({
            "id": int(detail["id"]) * 100 + 50 + i,
            "resource_state": 2,
            "name": name,
            "activity": {"id": detail["id"], "resource_state": 1},
            "athlete": {"id": detail["athlete"]["id"], "resource_state": 1},
            "elapsed_time": int(durations[k]),
            "moving_time": int(durations[k]),
            "start_date": start_date,
            "start_date_local": start_local,
            "distance": meters,
            "start_index": a,
            "end_index": b,
            "pr_rank": None,
            "achievements": [],
        })
    return out


def _finish_from_track(detail: dict[str, Any]) -> None:
    """Fill the fields Strava derives from the recording (polylines, splits, laps, highs/lows)."""
    tr = _track(detail)
    if tr is None:
        return
    if "lat" in tr:
        lat, lng = tr["lat"], tr["lng"]
        n = len(lat)
        detail["end_latlng"] = [round(float(lat[-1]), 6), round(float(lng[-1]), 6)]
        full_idx = np.unique(np.linspace(0, n - 1, min(n, 800)).round().astype(int))
        summ_idx = np.unique(np.linspace(0, n - 1, min(n, 120)).round().astype(int))
        detail["map"]["polyline"] = _encode_polyline(lat[full_idx], lng[full_idx])
        detail["map"]["summary_polyline"] = _encode_polyline(lat[summ_idx], lng[summ_idx])
    if float(detail.get("distance") or 0) > 0:
        detail["max_speed"] = round(float(tr["velocity_smooth"].max()), 3)
        if "altitude" in tr:
            detail["elev_high"] = round(float(tr["altitude"].max()), 1)
            detail["elev_low"] = round(float(tr["altitude"].min()), 1)
        detail["splits_metric"] = _splits(tr, 1000.0)
        detail["splits_standard"] = _splits(tr, 1609.344)
        if detail.get("sport_type") in ("Run", "TrailRun"):
            detail["best_efforts"] = _best_efforts(detail, tr)
    if "watts" in tr:
        w = tr["watts"]
        detail["max_watts"] = int(round(float(w.max())))
        detail["weighted_average_watts"] = int(round(float(np.mean(w ** 4) ** 0.25)))
        detail["kilojoules"] = round(float(w.sum()) * int(tr["time"][1] - tr["time"][0]) / 1000.0, 1)
    detail["laps"] = _laps(detail, tr)


# --------------------------------------------------------------------------------------------
# the season


def _plan(end_date: date, weeks: int, gym_from_week: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    """Sessions as plain dicts: kind, day (date), distance, pace, etc.; before ids and details."""
    total_target = MILES_350_M * weeks / 16.0
    peak_week = max(1, weeks - 2)
    plans: list[dict[str, Any]] = []
    long_runs: list[float] = []
    easy_weights: list[list[float]] = []
    run_counts: list[int] = []

    for w in range(1, weeks + 1):
        p = (w - 1) / max(1, weeks - 1)
        cutback = w % 4 == 0 and w < weeks - 1
        race_week = w == weeks
        if race_week:
            long_runs.append(HALF_MARATHON_M)
            run_counts.append(3)
            easy_weights.append([0.0, 0.0])  # filled below with fixed taper runs
            continue
        if w == weeks - 1 and weeks > 2:
            long_km = 14.0
        else:
            long_km = 11.0 + 9.0 * min(1.0, (w - 1) / max(1, peak_week - 1))
            if cutback:
                long_km *= 0.8
        long_runs.append(long_km * 1000 * float(rng.uniform(0.98, 1.02)))
        n_runs = (int(rng.choice([4, 5], p=[0.45, 0.55])) if w < gym_from_week
                  else int(rng.choice([3, 4], p=[0.4, 0.6])))
        run_counts.append(n_runs)
        volume = (30.0 + 14.0 * p) * 1000 * (0.8 if cutback else 1.0)
        if w == weeks - 1 and weeks > 2:
            volume *= 0.75
        easy_total = max(volume - long_runs[-1], 3000.0 * (n_runs - 1))
        weights = rng.uniform(0.8, 1.2, n_runs - 1)
        easy_weights.append(list(weights / weights.sum() * easy_total))

    taper = [5200.0, 6400.0]
    fixed = sum(long_runs) + sum(taper)
    flexible = sum(sum(ws) for ws in easy_weights)
    scale = (total_target - fixed) / flexible if flexible > 0 else 1.0

    for w in range(1, weeks + 1):
        week_end = end_date - timedelta(days=7 * (weeks - w))
        day0 = week_end - timedelta(days=6)
        race_week = w == weeks
        cutback = w % 4 == 0 and w < weeks - 1
        n_runs = run_counts[w - 1]
        easy_days = {5: [0, 1, 3, 4], 4: [1, 3, 4], 3: [1, 3]}[n_runs]
        easy = taper if race_week else [x * scale for x in easy_weights[w - 1]]
        workout_slot = 1 if (w >= 3 and not cutback and not race_week and len(easy) >= 2) else None
        for slot, (day, dist) in enumerate(zip(easy_days, easy, strict=True)):
            kind = "workout" if slot == workout_slot else "easy"
            trail = kind == "easy" and not race_week and bool(rng.random() < 0.22)
            lunch = kind == "easy" and bool(rng.random() < 0.15)
            hour_min = (12 * 60 + 5 + int(rng.integers(0, 30))) if lunch else (6 * 60 + int(rng.integers(0, 75)))
            plans.append({"kind": kind, "week": w, "day": day0 + timedelta(days=day), "distance": dist,
                          "trail": trail, "minute": hour_min, "second": int(rng.integers(0, 60))})
        if race_week:
            plans.append({"kind": "race", "week": w, "day": week_end, "distance": HALF_MARATHON_M,
                          "trail": False, "minute": 6 * 60 + 59, "second": int(rng.integers(30, 60))})
        else:
            plans.append({"kind": "long", "week": w, "day": week_end, "distance": long_runs[w - 1],
                          "trail": bool(rng.random() < 0.2), "minute": 7 * 60 + int(rng.integers(0, 80)),
                          "second": int(rng.integers(0, 60))})
        if w >= gym_from_week:
            n_gym = 2 if race_week else int(rng.choice([2, 3]))
            for day in ([0, 2] if n_gym == 2 else [0, 2, 4]):
                plans.append({"kind": "gym", "week": w, "day": day0 + timedelta(days=day), "distance": 0.0,
                              "trail": False, "minute": 17 * 60 + 20 + int(rng.integers(0, 60)),
                              "second": int(rng.integers(0, 60))})
    return plans


def synthetic_season(end_date: date, *, weeks: int = 16, seed: int = 7, athlete_id: int = 4242,
                     tz: str = "America/Denver", gym_from_week: int = 6) -> list[dict[str, Any]]:
    """A half-marathon block of DetailedActivity dicts, oldest first, ending with the race on ``end_date``.

    About 350 miles of running over 16 weeks (proportionally for other ``weeks``): 4-5 runs a week
    early, 3-4 plus 2-3 gym sessions (``WeightTraining``) a week from ``gym_from_week`` on, a long
    run each week building to ~20 km, the half marathon (21.1 km) on ``end_date``. Odd ones, as
    real accounts have them: two manual runs (no GPS, no device, no upload), one treadmill run
    recorded by the watch (``start_latlng: []`` but not manual), and one activity with a sport type
    newer than stravalib's list (``"type": "Workout", "sport_type": "HyroxRace"``).
    """
    if weeks < 1:
        raise ValueError("weeks must be at least 1")
    rng = np.random.default_rng([seed, 350])
    zone = ZoneInfo(tz)
    plans = _plan(end_date, weeks, gym_from_week, rng)

    # the odd ones: which easy runs become manual / treadmill, and where the Hyrox race goes
    easy_idx = [i for i, p in enumerate(plans) if p["kind"] == "easy"]
    if len(easy_idx) >= 3:
        picks = [easy_idx[len(easy_idx) // 6], easy_idx[(len(easy_idx) * 3) // 5]]
        for i in picks:
            plans[i]["kind"] = "manual"
        treadmill = easy_idx[len(easy_idx) // 3]
        if treadmill in picks:
            treadmill = easy_idx[len(easy_idx) // 3 + 1]
        plans[treadmill]["kind"] = "treadmill"
        plans[treadmill]["trail"] = False
    hyrox_week = min(weeks - 1, max(1, gym_from_week + 3)) if weeks > 1 else 1
    hyrox_day = end_date - timedelta(days=7 * (weeks - hyrox_week)) - timedelta(days=1)
    plans.append({"kind": "hyrox", "week": hyrox_week, "day": hyrox_day, "distance": 8000.0 + float(
        rng.uniform(0, 250)), "trail": False, "minute": 9 * 60 + 40, "second": int(rng.integers(0, 60))})

    for p in plans:
        local = datetime.combine(p["day"], time(p["minute"] // 60, p["minute"] % 60, p["second"]), tzinfo=zone)
        p["local"] = local
        p["utc"] = local.astimezone(UTC)
    plans.sort(key=lambda p: p["utc"])

    id_rng = np.random.default_rng([seed, 17])
    steps = id_rng.integers(9_000_000, 48_000_000, len(plans))
    ids = 16_800_000_000 + seed % 1000 * 1_000_000 + np.cumsum(steps)
    garmin_ids = 20_900_000_000 + np.cumsum(id_rng.integers(400_000, 9_000_000, len(plans)))

    acts: list[dict[str, Any]] = []
    for n, p in enumerate(plans):
        act_rng = np.random.default_rng([seed, 1000 + n])
        acts.append(_detail(p, int(ids[n]), int(garmin_ids[n]), n, athlete_id, tz, act_rng))
    return acts


def _detail(p: dict[str, Any], act_id: int, garmin_id: int, n: int, athlete_id: int, tz: str,
            rng: np.random.Generator) -> dict[str, Any]:
    kind = p["kind"]
    local: datetime = p["local"]
    delta = local.utcoffset()
    if delta is None:
        raise ValueError(f"planned start {local} has no time zone")
    offset = delta.total_seconds()
    distance = round(float(p["distance"]), 1)
    gps = kind not in ("manual", "treadmill", "gym", "hyrox")
    if kind == "manual":
        distance = float(round(distance / 500.0) * 500.0)

    if kind == "gym":
        sport, legacy = "WeightTraining", "WeightTraining"
    elif kind == "hyrox":
        sport, legacy = "HyroxRace", "Workout"
    else:
        sport = "TrailRun" if p["trail"] else "Run"
        legacy = "Run"

    # pace (m/s) and effort
    if kind == "race":
        speed, avg_hr, rpe = 3.66 + float(rng.uniform(-0.03, 0.03)), 171.4, 9
    elif kind == "workout":
        speed, avg_hr, rpe = 3.35 + float(rng.uniform(-0.05, 0.08)), 158.0 + float(rng.uniform(0, 6)), 7
    elif kind == "long":
        speed, avg_hr, rpe = 2.98 + float(rng.uniform(-0.06, 0.06)), 148.0 + float(rng.uniform(0, 6)), 6
    elif kind == "gym":
        speed, avg_hr, rpe = 0.0, 104.0 + float(rng.uniform(0, 14)), 6
    elif kind == "hyrox":
        speed, avg_hr, rpe = 1.55, 162.0 + float(rng.uniform(0, 5)), 9
    else:
        speed, avg_hr, rpe = 2.88 + float(rng.uniform(-0.1, 0.1)), 139.0 + float(rng.uniform(0, 8)), 3
    if sport == "TrailRun":
        speed *= 0.86

    if kind == "gym":
        moving_time = int(rng.integers(2700, 4300))
    elif kind == "hyrox":
        moving_time = int(distance / speed)
    else:
        moving_time = int(round(distance / speed))
    if kind == "manual":
        elapsed = moving_time
    elif kind == "race":
        elapsed = moving_time + int(rng.integers(0, 8))
    else:
        elapsed = moving_time + int(rng.integers(0, max(2, int(moving_time * 0.06))))

    if kind == "gym" or kind in ("manual", "treadmill", "hyrox"):
        gain = 0.0
    elif sport == "TrailRun":
        gain = round(float(rng.uniform(22, 38)) * distance / 1000.0, 1)
    else:
        gain = round(float(rng.uniform(4, 11)) * distance / 1000.0, 1)

    if kind == "race":
        start = RESERVOIR
    elif sport == "TrailRun":
        start = CHAUTAUQUA
    elif kind == "workout":
        start = CREEK_PATH
    else:
        start = HOME
    start_latlng = [round(start[0] + float(rng.normal(0, 0.0004)), 6),
                    round(start[1] + float(rng.normal(0, 0.0004)), 6)] if gps else []

    hour = local.hour
    if kind == "race":
        name = "Boulder Half Marathon \U0001F3C5"
    elif kind == "hyrox":
        name = "HYROX Denver"
    elif kind == "gym":
        name = ["Evening Weight Training", "Lower body + core", "Evening Weight Training",
                "Upper body / pull"][n % 4]
    elif kind == "long":
        trail = "Trail " if sport == "TrailRun" else ""
        name = f"Long run {distance / 1000:.0f}k" if n % 3 else f"{_day_name(hour)} {trail}Run"
    elif kind == "workout":
        name = ["Tempo 3x2k", "6x800m @ 10k pace", "Progression run", "Cruise intervals"][n % 4]
    elif kind == "manual":
        name = ["Treadmill at the hotel (watch died)", "Run - forgot the watch"][n % 2]
    elif kind == "treadmill":
        name = "Treadmill Run"
    else:
        name = f"{_day_name(hour)} {'Trail ' if sport == 'TrailRun' else ''}Run"

    shoe = None
    if legacy == "Run":
        if sport == "TrailRun":
            shoe = SHOES["trail"]
        else:
            shoe = SHOES["race"] if kind in ("race", "workout") else SHOES["daily"]
            if shoe is SHOES["daily"] and p["week"] <= OLD_DAILY_UNTIL_WEEK:
                shoe = SHOES["old_daily"]

    is_run = legacy == "Run"
    manual = kind == "manual"
    recorded = not manual
    has_hr = recorded
    max_hr: float | int | None = None
    if has_hr:
        max_hr = int(round(avg_hr + {"race": 12, "workout": 16, "hyrox": 14, "gym": 38}.get(kind, 13)
                           + float(rng.uniform(0, 5))))
        if n % 4 == 1:
            max_hr = float(max_hr)  # Strava sometimes sends 171.0
    private = kind == "gym" and n % 3 == 0
    visibility = "only_me" if private else ("followers_only" if n % 11 == 5 else "everyone")
    if recorded and n % 6 == 4:
        external_id: str | None = local.strftime("%Y-%m-%d-%H-%M-%S") + ".fit"
    elif recorded:
        external_id = f"garmin_ping_{garmin_id}"
    else:
        external_id = None
    upload_id = act_id + 1_200_000_000 + int(rng.integers(0, 90_000)) if recorded else None
    kudos = 0 if private else int(rng.integers(0, 12)) + (25 if kind == "race" else 0)
    achievements = int(rng.integers(0, 4)) if is_run and gps else 0
    weight_kg = 61.2
    if kind == "gym":
        calories = round(moving_time / 60.0 * float(rng.uniform(5.0, 7.5)), 1)
    elif kind == "hyrox":
        calories = round(moving_time / 60.0 * 11.5, 1)
    else:
        calories = round(distance / 1000.0 * weight_kg * 1.04 * (1.1 if sport == "TrailRun" else 1.0), 1)

    utc = p["utc"]
    detail: dict[str, Any] = {
        "resource_state": 3,
        "athlete": {"id": athlete_id, "resource_state": 1},
        "name": name,
        "distance": distance,
        "moving_time": moving_time,
        "elapsed_time": elapsed,
        "total_elevation_gain": gain,
        "type": legacy,
        "sport_type": sport,
        "workout_type": ({"race": 1, "long": 2, "workout": 3}.get(kind, 0) if is_run else None),
        "id": act_id,
        "start_date": _iso_z(utc),
        "start_date_local": local.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "timezone": _tz_label(offset, tz),
        "utc_offset": float(offset),
        "location_city": None,
        "location_state": None,
        "location_country": "United States",
        "achievement_count": achievements,
        "kudos_count": kudos,
        "comment_count": int(rng.integers(0, 3)) if kudos else 0,
        "athlete_count": 1,
        "photo_count": 0,
        "map": {"id": f"a{act_id}", "polyline": None if manual else "", "resource_state": 3,
                "summary_polyline": ""},
        "trainer": kind == "treadmill",
        "commute": False,
        "manual": manual,
        "private": private,
        "visibility": visibility,
        "flagged": False,
        "gear_id": shoe["id"] if shoe else None,
        "start_latlng": start_latlng,
        "end_latlng": list(start_latlng),
        "average_speed": round(distance / moving_time, 3) if distance > 0 else 0.0,
        "max_speed": 0.0,
    }
    if is_run and recorded:
        detail["average_cadence"] = round(float(rng.uniform(80.0, 88.0)) + (2.5 if kind == "race" else 0.0), 1)
    if is_run and recorded and kind != "treadmill":
        detail["average_watts"] = round(speed * 61.2 * 1.04 + float(rng.uniform(-8, 8)), 1)
        detail["device_watts"] = True
    elif recorded:
        detail["device_watts"] = False
    if recorded:
        detail["average_temp"] = 21 if kind in ("gym", "treadmill", "hyrox") else int(rng.integers(2, 26))
    detail["has_heartrate"] = has_hr
    if has_hr:
        detail["average_heartrate"] = round(avg_hr, 1)
        detail["max_heartrate"] = max_hr
    detail["heartrate_opt_out"] = False
    detail["display_hide_heartrate_option"] = has_hr
    if recorded and distance > 0:
        detail["elev_high"] = 0.0
        detail["elev_low"] = 0.0
    if recorded:
        detail["upload_id"] = upload_id
        detail["upload_id_str"] = str(upload_id)
    else:
        detail["upload_id"] = None
    detail["external_id"] = external_id
    detail["from_accepted_tag"] = False
    detail["pr_count"] = min(achievements, int(rng.integers(0, 2)))
    detail["total_photo_count"] = 0
    detail["has_kudoed"] = False
    if has_hr:
        intensity = {"race": 2.2, "workout": 1.4, "hyrox": 1.9, "long": 1.0, "gym": 0.5}.get(kind, 0.6)
        detail["suffer_score"] = int(round(moving_time / 60.0 * intensity))
    else:
        detail["suffer_score"] = None
    # detail-only fields
    detail["description"] = ("Goal race. Negative split, felt strong to 18k." if kind == "race"
                             else "Squat 5x5, RDL 3x8, split squats, planks" if kind == "gym" and n % 2 == 0
                             else None)
    detail["calories"] = calories
    detail["perceived_exertion"] = rpe if (kind in ("race", "hyrox", "manual") or n % 3 == 0) else None
    detail["prefer_perceived_exertion"] = False
    detail["segment_efforts"] = []
    if shoe:
        detail["gear"] = {"id": shoe["id"], "primary": shoe["primary"], "name": shoe["name"],
                          "nickname": shoe["nickname"], "resource_state": 2, "retired": shoe["retired"],
                          "distance": 412_345.6, "converted_distance": 256.2}
    detail["partner_brand_tag"] = None
    detail["photos"] = {"primary": None, "count": 0}
    detail["highlighted_kudosers"] = []
    detail["hide_from_home"] = False
    if recorded:
        detail["device_name"] = DEVICE_NAME
    detail["embed_token"] = f"{(act_id * 2654435761) % (16 ** 40):040x}"
    detail["segment_leaderboard_opt_out"] = False
    detail["leaderboard_opt_out"] = False
    detail["available_zones"] = ["heartrate", "pace"] if has_hr and is_run else (["heartrate"] if has_hr else [])
    if recorded:
        _finish_from_track(detail)
    return detail


def summary_of(detail: dict[str, Any]) -> dict[str, Any]:
    """The SummaryActivity view of a detail, as ``GET /athlete/activities`` returns it."""
    out: dict[str, Any] = {}
    for key in SUMMARY_FIELDS:
        if key not in detail:
            continue
        value = detail[key]
        if key == "map" and isinstance(value, dict):
            value = {"id": value.get("id"), "summary_polyline": value.get("summary_polyline"),
                     "resource_state": 2}
        elif key == "athlete" and isinstance(value, dict):
            value = {"id": value.get("id"), "resource_state": 1}
        elif isinstance(value, list):
            value = list(value)
        out[key] = value
    out["resource_state"] = 2
    return out
