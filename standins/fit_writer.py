"""Deterministic synthetic FIT activity files, written with Garmin's official encoder.

The files are real FIT activity files (``garmin_fit_sdk.Encoder``): they carry the messages a
Garmin watch writes, in the order it writes them::

    file_id, file_creator, event (timer start), device_info (creator [, HRM]), sport,
    record ... [lap at each auto-lap] ... record / set ..., event (timer stop_all),
    last lap, session, activity

Runs have 1 Hz records (distance, speed, heart rate, cadence, altitude, GPS position and, when
asked, running dynamics) and auto-laps every kilometre. Strength sessions have 1 Hz heart-rate
records, ``set`` messages (active and rest, alternating), one lap and a session of
``training`` / ``strength_training``.

Units on the FIT side follow the FIT profile: cadence in **strides** per minute (``rpm``; half
the steps per minute a runner thinks of, with ``fractional_cadence`` carrying the fraction),
distance in m, speed in m/s, altitude in m, stance time in ms, vertical oscillation and step
length in mm, set weight in kg (1/16 kg resolution), set duration in s. ``local_timestamp`` of
the activity message is UTC + ``utc_offset_s`` -- that is how FIT files carry local time.

Everything is deterministic given the arguments (``numpy.random.default_rng(seed)`` and
``random.Random(seed)``); :func:`vary` makes cheap distinct copies of an encoded file.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import struct
import zlib
from dataclasses import dataclass
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from garmin_fit_sdk import CrcCalculator, Encoder, Profile

__all__ = ["SynthSet", "encode_run", "encode_strength", "vary", "demo_fit_files", "STRENGTH_PLAN"]

FIT_EPOCH_S = 631065600  # 1989-12-31T00:00:00Z in Unix seconds
SEMICIRCLES_PER_DEG = 2**31 / 180.0
M_PER_DEG_LAT = 111_320.0

# Device identity written into file_id / device_info.
GARMIN = 1  # manufacturer 'garmin'
PRODUCT_FR965 = 4315  # garmin_product 'fr965'
PRODUCT_HRM_PRO = 3300  # garmin_product 'hrm_pro'
PRODUCT_INDEX_SCALE = 2429  # garmin_product 'index_smart_scale'
SOFTWARE_VERSION = 2108  # "21.08" (software_version has scale 100 in device_info)

# Base point of the synthetic routes (Boulder, CO), in degrees.
BASE_LAT = 40.0150
BASE_LON = -105.2705
BASE_ALTITUDE_M = 1655.0

UINT16_INVALID = 0xFFFF
CATEGORY_ARRAY_LEN = 3  # real Garmin set messages carry 3-element category/subtype arrays

_MESG = {v: k for k, v in Profile["types"]["mesg_num"].items()}
_CATEGORY_IDS = {v: k for k, v in Profile["types"]["exercise_category"].items()}


@dataclass(frozen=True)
class SynthSet:
    """One requested strength set.

    Attributes:
        category: exercise_category name from the Garmin profile ("squat", "deadlift",
            "bench_press", "row", "lunge", "leg_curl", "hip_raise", "plank", "unknown", ...).
        reps: repetitions in the set.
        weight_kg: load in kg (stored at 1/16 kg resolution; 0 for bodyweight).
        duration_s: active time of the set in seconds.
        rest_s: rest after the set in seconds (no rest is written after the last set).
        subtype: exercise name number within the category (``<category>_exercise_name``), or None.
    """

    category: str
    reps: int
    weight_kg: float
    duration_s: float = 40.0
    rest_s: float = 90.0
    subtype: int | None = None


# --- the encoder ----------------------------------------------------------------------------

# Garmin's Encoder rebuilds a message definition from the profile for every message (a linear
# search of the profile per field) and compares it with the 16 active local definitions; for
# 1 Hz records that is half the encoding time. _CachingEncoder reuses the definition built for
# the same message shape (mesg_num + field names + value sizes). The bytes are identical to the
# plain Encoder's (tests/test_synth.py checks this); set USE_DEFINITION_CACHE = False to compare.
USE_DEFINITION_CACHE = True


class _CachingEncoder(Encoder):
    # garmin_fit_sdk's stubs (encoder.pyi) declare only the Encoder's public methods: the two private
    # methods overridden here and the 16 active local definitions exist in its encoder.py only.
    _local_mesg_definitions: list[Any]

    def __init__(self) -> None:
        super().__init__()
        self._definition_cache: dict[tuple[Any, ...], Any] = {}

    def _create_mesg_definition(self, mesg_num: int, mesg: dict[str, Any]) -> Any:
        key = (mesg_num, *((name, len(v) if isinstance(v, (list, str)) else 0)
                           for name, v in mesg.items() if v is not None))
        definition = self._definition_cache.get(key)
        if definition is None:
            definition = super()._create_mesg_definition(mesg_num, mesg)  # type: ignore[misc]  # not in the stubs
            self._definition_cache[key] = definition
        return definition

    def _find_local_mesg_definition(self, mesg_definition: Any) -> Any:
        for local_def in self._local_mesg_definitions:
            if local_def is mesg_definition:
                return local_def
        return super()._find_local_mesg_definition(mesg_definition)  # type: ignore[misc]  # not in the stubs


def _new_encoder() -> Encoder:
    return _CachingEncoder() if USE_DEFINITION_CACHE else Encoder()


# --- low-level helpers ----------------------------------------------------------------------

def _fit_ts(value: dt.datetime) -> int:
    """FIT timestamp (s since 1989-12-31 UTC); a naive datetime is taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return int(value.timestamp()) - FIT_EPOCH_S


def _category_id(name: str) -> int:
    try:
        return _CATEGORY_IDS[name]
    except KeyError:
        raise ValueError(f"unknown exercise_category {name!r} (see garmin_fit_sdk Profile)") from None


def _smooth(x: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average with edge padding (same length as x)."""
    if window <= 1 or len(x) == 0:
        return x.copy()
    pad = window // 2
    xp = np.pad(x, (pad, window - 1 - pad), mode="edge")
    return np.convolve(xp, np.ones(window) / window, mode="valid")


def _slow_noise(rng: np.random.Generator, n: int, periods_s: tuple[float, ...], amp: float) -> np.ndarray:
    """Sum of sinusoids with random phases: a smooth, deterministic wander of about +/-amp."""
    t = np.arange(n, dtype=float)
    out = np.zeros(n)
    for p in periods_s:
        out += np.sin(2 * math.pi * t / p + rng.uniform(0, 2 * math.pi)) * rng.uniform(0.5, 1.0)
    return out * (amp / max(len(periods_s), 1))


def _ascent(alt: np.ndarray) -> tuple[float, float]:
    d = np.diff(alt)
    return float(d[d > 0].sum()), float(-d[d < 0].sum())


def _q(x: np.ndarray, resolution: float) -> np.ndarray:
    """Quantise to the FIT field resolution so that what we summarise is what gets stored."""
    return np.round(x / resolution) * resolution


def _header(enc: Encoder, *, ts0: int, serial_number: int, sport: str, sub_sport: str,
            sport_name: str, with_hrm: bool) -> None:
    enc.write_mesg({"mesg_num": _MESG["file_id"], "type": "activity", "manufacturer": GARMIN,
                    "product": PRODUCT_FR965, "serial_number": serial_number, "time_created": ts0})
    enc.write_mesg({"mesg_num": _MESG["file_creator"], "software_version": SOFTWARE_VERSION})
    enc.write_mesg({"mesg_num": _MESG["event"], "timestamp": ts0, "event": "timer",
                    "event_type": "start", "event_group": 0})
    enc.write_mesg({"mesg_num": _MESG["device_info"], "timestamp": ts0, "device_index": 0,
                    "manufacturer": GARMIN, "product": PRODUCT_FR965, "serial_number": serial_number,
                    "software_version": SOFTWARE_VERSION / 100, "source_type": "local"})
    if with_hrm:
        enc.write_mesg({"mesg_num": _MESG["device_info"], "timestamp": ts0, "device_index": 1,
                        "device_type": 120, "manufacturer": GARMIN, "product": PRODUCT_HRM_PRO,
                        "serial_number": (serial_number * 7 + 12345) % 2**31 + 1,
                        "software_version": 12.0, "source_type": "antplus",
                        "ant_device_number": (serial_number % 65000) + 1, "battery_status": "good"})
    enc.write_mesg({"mesg_num": _MESG["sport"], "sport": sport, "sub_sport": sub_sport,
                    "name": sport_name})


def _footer(enc: Encoder, *, ts_end: int, utc_offset_s: int, timer_s: float) -> None:
    enc.write_mesg({"mesg_num": _MESG["activity"], "timestamp": ts_end, "total_timer_time": timer_s,
                    "num_sessions": 1, "type": "manual", "event": "activity", "event_type": "stop",
                    "local_timestamp": ts_end + int(utc_offset_s), "event_group": 0})


def _stop_event(enc: Encoder, ts: int) -> None:
    enc.write_mesg({"mesg_num": _MESG["event"], "timestamp": ts, "event": "timer",
                    "event_type": "stop_all", "event_group": 0})


# --- runs -----------------------------------------------------------------------------------

def _run_series(n: int, distance_m: float, avg_hr: int, cadence_spm: float, ascent_m: float,
                seed: int) -> dict[str, np.ndarray]:
    """Per-second series of a run (n seconds), in physical units, quantised to FIT resolution."""
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=float)
    v0 = distance_m / n

    # Altitude (m): smooth hills, scaled so the climbing adds up to ascent_m.
    shape = _slow_noise(rng, n, (max(n / 1.3, 60), max(n / 3.1, 45), max(n / 6.7, 30)), 1.0)
    shape = shape - shape[0]
    base_alt = BASE_ALTITUDE_M + rng.uniform(-60, 60)
    up, _ = _ascent(shape)
    alt = base_alt + shape * (ascent_m / up if up > 0 and ascent_m > 0 else 0.0)
    alt = _q(alt, 0.2)
    grade = np.gradient(_smooth(alt, 15)) / max(v0, 0.5)

    # Speed (m/s): warm-up, slow wander, hills, a little per-second jitter; sums to distance_m.
    warm = 1.0 - 0.10 * np.exp(-t / 150.0)
    wander = 1.0 + _slow_noise(rng, n, (420.0, 170.0, 61.0), 0.10)
    jitter = 1.0 + _smooth(rng.normal(0.0, 0.04, n), 5)
    hills = np.clip(1.0 - 2.5 * grade, 0.7, 1.25)
    v = np.clip(warm * wander * jitter * hills, 0.3, None)
    cum = np.cumsum(v)
    k = distance_m / cum[-1]
    speed = _q(v * k, 0.001)
    dist = _q(cum * k, 0.01)
    dist[-1] = round(distance_m, 2)

    # Heart rate (bpm): rise from ~95, cardiac drift, hills, noise; mean ~= avg_hr.
    hr_rest = min(95.0, avg_hr - 20.0)
    hr = hr_rest + (avg_hr + 3 - hr_rest) * (1 - np.exp(-t / 110.0))
    hr += 4.0 * t / max(n, 1)  # drift
    hr += _smooth(np.clip(grade, -0.1, 0.1) * 120.0, 30)
    hr += 35.0 * (_smooth(speed, 20) / max(v0, 0.1) - 1.0)
    hr += _smooth(rng.normal(0.0, 1.5, n), 7)
    hr += avg_hr - hr.mean()
    hr = np.clip(np.round(hr), 45, 215)

    # Cadence: steps/min -> FIT strides/min (cadence + fractional_cadence, 1/128 rpm).
    spm = cadence_spm * (1.0 + 0.04 * (speed / max(v0, 0.1) - 1.0)) + _smooth(rng.normal(0.0, 1.2, n), 3)
    strides = _q(np.clip(spm, 60, 250) / 2.0, 1 / 128)
    cad_int = np.floor(strides)
    cad_frac = strides - cad_int

    # Running dynamics.
    step_len = _q(np.clip(speed / (strides * 2 / 60.0) * 1000.0, 300, 2500), 0.1)  # mm
    stance = _q(np.clip(300.0 - 25.0 * (speed - 2.5) + _smooth(rng.normal(0, 4, n), 3), 160, 380), 0.1)  # ms
    vo = _q(np.clip(88.0 + 4.0 * (speed - 3.0) + _smooth(rng.normal(0, 2, n), 5), 55, 130), 0.1)  # mm
    ratio = _q(vo / step_len * 100.0, 0.01)  # %

    # GPS track: a loop (heading turns ~360 deg over the run) with wiggles, around a seeded base point.
    heading = rng.uniform(0, 2 * math.pi) + 2 * math.pi * t / n + _slow_noise(rng, n, (300.0, 97.0), 0.6)
    x = np.cumsum(speed * np.cos(heading))
    y = np.cumsum(speed * np.sin(heading))
    lat0 = BASE_LAT + rng.uniform(-0.02, 0.02)
    lon0 = BASE_LON + rng.uniform(-0.02, 0.02)
    lat = lat0 + y / M_PER_DEG_LAT
    lon = lon0 + x / (M_PER_DEG_LAT * math.cos(math.radians(lat0)))
    return {
        "speed": speed, "distance": dist, "altitude": alt, "heart_rate": hr, "cadence": cad_int,
        "fractional_cadence": cad_frac, "strides": strides, "step_length": step_len,
        "stance_time": stance, "vertical_oscillation": vo, "vertical_ratio": ratio,
        "lat": np.round(lat * SEMICIRCLES_PER_DEG), "lon": np.round(lon * SEMICIRCLES_PER_DEG),
    }


def _run_summary(s: dict[str, np.ndarray], a: int, b: int, d_start: float, d_end: float,
                 with_dynamics: bool) -> dict[str, Any]:
    """Lap/session summary fields over records [a, b) (physical units)."""
    sl = slice(a, b)
    secs = b - a
    dist = d_end - d_start
    up, down = _ascent(s["altitude"][max(a - 1, 0):b])
    strides = s["strides"][sl]
    avg_cad = float(strides.mean())
    out: dict[str, Any] = {
        "total_distance": round(dist, 2),
        "total_cycles": int(round(strides.sum() / 60.0)),
        "avg_speed": round(dist / secs, 3), "enhanced_avg_speed": round(dist / secs, 3),
        "max_speed": float(s["speed"][sl].max()), "enhanced_max_speed": float(s["speed"][sl].max()),
        "avg_heart_rate": int(round(float(s["heart_rate"][sl].mean()))),
        "max_heart_rate": int(s["heart_rate"][sl].max()),
        "avg_cadence": int(math.floor(avg_cad)), "avg_fractional_cadence": avg_cad - math.floor(avg_cad),
        "max_cadence": int(math.floor(float(strides.max()))),
        "total_ascent": int(round(up)), "total_descent": int(round(down)),
        "total_calories": int(round(dist / 1000.0 * 68.0)),
    }
    if with_dynamics:
        out.update({
            "avg_stance_time": round(float(s["stance_time"][sl].mean()), 1),
            "avg_vertical_oscillation": round(float(s["vertical_oscillation"][sl].mean()), 1),
            "avg_step_length": round(float(s["step_length"][sl].mean()), 1),
            "avg_vertical_ratio": round(float(s["vertical_ratio"][sl].mean()), 2),
        })
    return out


def encode_run(*, start_utc: dt.datetime, utc_offset_s: int, duration_s: int, distance_m: float,
               avg_hr: int = 150, cadence_spm: float = 170.0, ascent_m: float = 40.0, seed: int = 0,
               serial_number: int = 3_900_000_001, with_positions: bool = True, with_dynamics: bool = True,
               sport: str = "running", sub_sport: str = "generic") -> bytes:
    """Encode a run as a FIT activity file.

    Args:
        start_utc: start time (UTC; a naive datetime is taken as UTC; whole seconds are kept).
        utc_offset_s: local time minus UTC in seconds (written as activity.local_timestamp).
        duration_s: elapsed = timer time in seconds; one record per second (duration_s records).
        distance_m: total distance in m (the last record and the session carry it to 1 cm).
        avg_hr: mean heart rate in bpm.
        cadence_spm: mean cadence in steps per minute (stored as strides/min, i.e. half).
        ascent_m: total ascent in m (descent follows from the terrain).
        seed: seed of all noise.
        serial_number: watch serial number (file_id and creator device_info).
        with_positions: write position_lat/long (semicircles) in records and laps.
        with_dynamics: write stance_time (ms), vertical_oscillation (mm), step_length (mm),
            vertical_ratio (%) in records and their averages in laps and the session.
        sport, sub_sport: FIT sport / sub_sport names (e.g. "running" / "generic", "treadmill").

    Returns:
        The FIT file bytes. Laps: auto-lap every 1000 m, the last one ends the session.
    """
    n = int(duration_s)
    if n < 2:
        raise ValueError("duration_s must be at least 2")
    if distance_m <= 0:
        raise ValueError("distance_m must be positive")
    ts0 = _fit_ts(start_utc)
    s = _run_series(n, float(distance_m), int(avg_hr), float(cadence_spm), float(ascent_m), seed)

    # Auto-lap boundaries: first record index of each lap.
    dist = s["distance"]
    starts = [0] + [int(i) + 1 for i in np.searchsorted(dist, np.arange(1000.0, dist[-1], 1000.0), side="left")
                    if int(i) + 1 < n]
    starts = sorted(set(starts))
    ends = starts[1:] + [n]

    def lap_mesg(j: int, a: int, b: int) -> dict[str, Any]:
        d_start = 0.0 if a == 0 else float(dist[a - 1])
        d_end = float(dist[b - 1])
        m = {"mesg_num": _MESG["lap"], "message_index": j, "timestamp": ts0 + b, "event": "lap",
             "event_type": "stop", "start_time": ts0 + a, "total_elapsed_time": float(b - a),
             "total_timer_time": float(b - a), "intensity": "active",
             "lap_trigger": "session_end" if b == n else "distance", "sport": sport, "sub_sport": sub_sport,
             "total_moving_time": float(b - a)}
        if with_positions:
            m.update({"start_position_lat": int(s["lat"][a]), "start_position_long": int(s["lon"][a]),
                      "end_position_lat": int(s["lat"][b - 1]), "end_position_long": int(s["lon"][b - 1])})
        m.update(_run_summary(s, a, b, d_start, d_end, with_dynamics))
        return m

    enc = _new_encoder()
    _header(enc, ts0=ts0, serial_number=serial_number, sport=sport, sub_sport=sub_sport,
            sport_name="Run", with_hrm=with_dynamics)

    rec = {k: v.tolist() for k, v in s.items()}
    lap_at = {b: j for j, b in enumerate(ends[:-1])}  # lap j is written before record b
    record_num = _MESG["record"]
    for i in range(n):
        if i in lap_at:
            j = lap_at[i]
            enc.write_mesg(lap_mesg(j, starts[j], ends[j]))
        m = {"mesg_num": record_num, "timestamp": ts0 + i}
        if with_positions:
            m["position_lat"] = int(rec["lat"][i])
            m["position_long"] = int(rec["lon"][i])
        m["distance"] = rec["distance"][i]
        m["speed"] = rec["speed"][i]
        m["enhanced_speed"] = rec["speed"][i]
        m["altitude"] = rec["altitude"][i]
        m["enhanced_altitude"] = rec["altitude"][i]
        m["heart_rate"] = int(rec["heart_rate"][i])
        m["cadence"] = int(rec["cadence"][i])
        m["fractional_cadence"] = rec["fractional_cadence"][i]
        if with_dynamics:
            m["stance_time"] = rec["stance_time"][i]
            m["vertical_oscillation"] = rec["vertical_oscillation"][i]
            m["step_length"] = rec["step_length"][i]
            m["vertical_ratio"] = rec["vertical_ratio"][i]
        enc.write_mesg(m)

    ts_end = ts0 + n
    _stop_event(enc, ts_end)
    enc.write_mesg(lap_mesg(len(starts) - 1, starts[-1], ends[-1]))
    summary = _run_summary(s, 0, n, 0.0, float(dist[-1]), with_dynamics)
    hr_mean = float(s["heart_rate"].mean())
    te = min(5.0, max(1.0, 1.2 + (hr_mean - 125.0) / 18.0 + n / 3600.0))
    sess = {"mesg_num": _MESG["session"], "message_index": 0, "timestamp": ts_end, "event": "session",
            "event_type": "stop", "start_time": ts0, "sport": sport, "sub_sport": sub_sport,
            "total_elapsed_time": float(n), "total_timer_time": float(n), "total_moving_time": float(n),
            "first_lap_index": 0, "num_laps": len(starts), "trigger": "activity_end",
            "total_training_effect": round(te, 1), "sport_profile_name": "Run"}
    if with_positions:
        sess.update({"start_position_lat": int(s["lat"][0]), "start_position_long": int(s["lon"][0]),
                     "end_position_lat": int(s["lat"][-1]), "end_position_long": int(s["lon"][-1]),
                     "nec_lat": int(s["lat"].max()), "nec_long": int(s["lon"].max()),
                     "swc_lat": int(s["lat"].min()), "swc_long": int(s["lon"].min())})
    sess.update(summary)
    enc.write_mesg(sess)
    _footer(enc, ts_end=ts_end, utc_offset_s=utc_offset_s, timer_s=float(n))
    return enc.close()


# --- strength -------------------------------------------------------------------------------

def encode_strength(*, start_utc: dt.datetime, utc_offset_s: int, sets: list[SynthSet], avg_hr: int = 110,
                    seed: int = 0, serial_number: int = 3_900_000_001) -> bytes:
    """Encode a strength session (training / strength_training) as a FIT activity file.

    Each :class:`SynthSet` becomes an active ``set`` message (category as a 3-element array of the
    same category, category_subtype likewise or 65535 = invalid, repetitions, weight in kg,
    weight_display_unit kilogram, duration in s, start_time, timestamp = end of set,
    message_index) followed -- except after the last -- by a rest ``set`` message of ``rest_s``.
    Set messages are written when each set ends, between the 1 Hz heart-rate records.

    Args:
        start_utc: start time (UTC; naive is taken as UTC).
        utc_offset_s: local time minus UTC in seconds.
        sets: the sets in order.
        avg_hr: mean heart rate in bpm (higher during sets, lower during rests).
        seed: seed of all noise.
        serial_number: watch serial number.

    Returns:
        The FIT file bytes; one record per second of the session, one lap, one session.
    """
    if not sets:
        raise ValueError("sets must not be empty")
    rng = np.random.default_rng(seed)
    ts0 = _fit_ts(start_utc)

    # Timeline (s from start): whole-second set boundaries, exact durations in the set messages.
    segments: list[tuple[str, int, int, float, SynthSet]] = []  # kind, start, end, duration_s, set
    pos = 0.0
    for i, st in enumerate(sets):
        a = int(round(pos))
        pos += float(st.duration_s)
        segments.append(("active", a, max(int(round(pos)), a + 1), float(st.duration_s), st))
        if i < len(sets) - 1:
            a = int(round(pos))
            pos += float(st.rest_s)
            segments.append(("rest", a, max(int(round(pos)), a + 1), float(st.rest_s), st))
    n = segments[-1][2]
    t = np.arange(n, dtype=float)

    # Heart rate: rises through each set, recovers during rest.
    active = np.zeros(n)
    for kind, a, b, _, _ in segments:
        if kind == "active":
            active[a:b] = 1.0
    effort = np.zeros(n)
    level = 0.0
    for i in range(n):  # first-order response, faster up than down
        tau = 25.0 if active[i] > level else 45.0
        level += (active[i] - level) / tau
        effort[i] = level
    hr = 85.0 + 45.0 * effort + 3.0 * t / max(n, 1) + _smooth(rng.normal(0.0, 1.5, n), 5)
    hr += avg_hr - hr.mean()
    hr = np.clip(np.round(hr), 45, 215)
    hr_list = [int(h) for h in hr.tolist()]

    sets_at: dict[int, list[dict[str, Any]]] = {}
    for k, (kind, a, b, dur, st) in enumerate(segments):
        m: dict[str, Any] = {"mesg_num": _MESG["set"], "timestamp": ts0 + b, "duration": dur,
                             "start_time": ts0 + a, "set_type": kind, "message_index": k}
        if kind == "active":
            cat = _category_id(st.category)
            sub = UINT16_INVALID if st.subtype is None else int(st.subtype)
            m.update({"repetitions": int(st.reps), "weight": float(st.weight_kg),
                      "category": [cat] * CATEGORY_ARRAY_LEN, "category_subtype": [sub] * CATEGORY_ARRAY_LEN,
                      "weight_display_unit": "kilogram"})
        sets_at.setdefault(min(b, n), []).append(m)

    enc = _new_encoder()
    _header(enc, ts0=ts0, serial_number=serial_number, sport="training", sub_sport="strength_training",
            sport_name="Strength", with_hrm=False)
    record_num = _MESG["record"]
    for i in range(n):
        for m in sets_at.get(i, ()):
            enc.write_mesg(m)
        enc.write_mesg({"mesg_num": record_num, "timestamp": ts0 + i, "heart_rate": hr_list[i]})
    ts_end = ts0 + n
    _stop_event(enc, ts_end)
    for m in sets_at.get(n, ()):
        enc.write_mesg(m)

    avg, mx = int(round(float(hr.mean()))), int(hr.max())
    kcal = int(round(n / 60.0 * max(3.0, (avg - 55) * 0.12)))
    common = {"timestamp": ts_end, "start_time": ts0, "total_elapsed_time": float(n),
              "total_timer_time": float(n), "avg_heart_rate": avg, "max_heart_rate": mx,
              "total_calories": kcal, "sport": "training", "sub_sport": "strength_training"}
    enc.write_mesg({"mesg_num": _MESG["lap"], "message_index": 0, "event": "lap", "event_type": "stop",
                    "intensity": "active", "lap_trigger": "session_end", **common})
    enc.write_mesg({"mesg_num": _MESG["session"], "message_index": 0, "event": "session", "event_type": "stop",
                    "first_lap_index": 0, "num_laps": 1, "trigger": "activity_end",
                    "total_training_effect": round(min(4.0, 1.0 + n / 3600.0 + (avg - 100) / 40.0), 1),
                    "sport_profile_name": "Strength", **common})
    _footer(enc, ts_end=ts_end, utc_offset_s=utc_offset_s, timer_s=float(n))
    return enc.close()


def encode_weight(measurements: list[tuple[dt.datetime, float | None, float | None, int | None]], *,
                  serial_number: int = 3_900_000_777) -> bytes:
    """Encode a Garmin scale's file (FIT file type ``weight``): file_id, then one ``weight_scale``
    message per measurement (time (UTC; naive is taken as UTC), weight kg (0.01 kg resolution; None:
    not written; 655.34 is FIT's "calculating"), body fat % or None, user_profile_index or None)."""
    if not measurements:
        raise ValueError("measurements must not be empty")
    enc = _new_encoder()
    enc.write_mesg({"mesg_num": _MESG["file_id"], "type": "weight", "manufacturer": GARMIN,
                    "product": PRODUCT_INDEX_SCALE, "serial_number": serial_number,
                    "time_created": _fit_ts(measurements[0][0])})
    for when, kg, fat, user in measurements:
        m: dict[str, Any] = {"mesg_num": _MESG["weight_scale"], "timestamp": _fit_ts(when)}
        if kg is not None:
            m["weight"] = float(kg)
        if fat is not None:
            m["percent_fat"] = float(fat)
        if user is not None:
            m["user_profile_index"] = int(user)
        enc.write_mesg(m)
    return enc.close()


# --- cheap distinct copies ------------------------------------------------------------------

def _file_id_field_offsets(data: bytes) -> dict[int, tuple[int, int]]:
    """Absolute (offset, size) of each field of the first file_id data message."""
    hsize = data[0]
    data_end = hsize + struct.unpack_from("<I", data, 4)[0]
    defs: dict[int, tuple[int, list[tuple[int, int]], int, bool]] = {}  # local -> (global, fields, dev_size, big)
    p = hsize
    while p < data_end:
        h = data[p]
        p += 1
        if h & 0x80:  # compressed-timestamp data message
            local = (h >> 5) & 0x03
            gnum, fields, dev, _ = defs[local]
            p += sum(sz for _, sz in fields) + dev
            continue
        local = h & 0x0F
        if h & 0x40:  # definition message
            big = data[p + 1] == 1
            gnum = struct.unpack_from(">H" if big else "<H", data, p + 2)[0]
            nf = data[p + 4]
            p += 5
            fields = [(data[p + 3 * i], data[p + 3 * i + 1]) for i in range(nf)]
            p += 3 * nf
            dev = 0
            if h & 0x20:
                nd = data[p]
                p += 1
                dev = sum(data[p + 3 * i + 1] for i in range(nd))
                p += 3 * nd
            defs[local] = (gnum, fields, dev, big)
            continue
        gnum, fields, dev, big = defs[local]
        if gnum == 0:
            out, q = {}, p
            for num, sz in fields:
                out[num] = (q, sz)
                q += sz
            if big:
                raise ValueError("big-endian file_id is not supported")
            return out
        p += sum(sz for _, sz in fields) + dev
    raise ValueError("no file_id message")


def vary(data: bytes, k: int) -> bytes:
    """A distinct copy of an encoded FIT file: file_id.serial_number += k, time_created += k s.

    Only those bytes change (plus the header and file CRCs, recomputed), so the copy decodes to
    the same records, laps, sets and session. k=0 returns the data unchanged.
    """
    if k == 0:
        return bytes(data)
    buf = bytearray(data)
    fields = _file_id_field_offsets(data)
    if 3 in fields and fields[3][1] == 4:
        off = fields[3][0]
        serial = (struct.unpack_from("<I", buf, off)[0] + k) % 2**32 or 1  # uint32z: 0 is invalid
        struct.pack_into("<I", buf, off, serial)
    if 4 in fields and fields[4][1] == 4:
        off = fields[4][0]
        created = (struct.unpack_from("<I", buf, off)[0] + k) % 2**32
        struct.pack_into("<I", buf, off, created)
    hsize = buf[0]
    if hsize == 14:
        struct.pack_into("<H", buf, 12, CrcCalculator.calculate_crc(buf, 0, 12))
    end = hsize + struct.unpack_from("<I", buf, 4)[0]
    struct.pack_into("<H", buf, end, CrcCalculator.calculate_crc(buf, 0, end))
    return bytes(buf)


# --- a few weeks of demo files --------------------------------------------------------------

@cache
def _subtype(category: str, exercise: str) -> int | None:
    names = Profile["types"].get(f"{category}_exercise_name", {})
    return next((k for k, v in names.items() if v == exercise), None)


# (category, exercise name in the profile, working weight kg range, reps range, set duration s)
STRENGTH_PLAN: dict[str, tuple[str, str | None, tuple[float, float], tuple[int, int], tuple[float, float]]] = {
    "squat": ("squat", "barbell_back_squat", (60.0, 100.0), (5, 8), (30.0, 50.0)),
    "deadlift": ("deadlift", "barbell_deadlift", (80.0, 140.0), (3, 6), (25.0, 45.0)),
    "romanian_deadlift": ("deadlift", "romanian_deadlift", (50.0, 80.0), (8, 10), (35.0, 50.0)),
    "bench_press": ("bench_press", "barbell_bench_press", (50.0, 85.0), (5, 8), (25.0, 40.0)),
    "row": ("row", "dumbbell_row", (22.5, 35.0), (8, 12), (35.0, 55.0)),
    "lunge": ("lunge", "dumbbell_lunge", (12.5, 22.5), (8, 12), (40.0, 60.0)),
    "leg_curl": ("leg_curl", "leg_curl", (30.0, 50.0), (10, 12), (30.0, 45.0)),
    # Garmin's profile has no Nordic curl: the watch records it as a leg curl without an exercise name
    "nordic": ("leg_curl", None, (0.0, 0.0), (4, 6), (20.0, 35.0)),
    "hip_raise": ("hip_raise", "barbell_hip_thrust_with_bench", (60.0, 110.0), (8, 12), (30.0, 45.0)),
    "plank": ("plank", "plank", (0.0, 0.0), (1, 1), (45.0, 75.0)),
    "calf_raise": ("calf_raise", "standing_calf_raise", (40.0, 70.0), (12, 15), (25.0, 40.0)),
    "shoulder_press": ("shoulder_press", "overhead_dumbbell_press", (14.0, 24.0), (8, 10), (30.0, 45.0)),
}
_SESSIONS = (
    ("squat", "romanian_deadlift", "lunge", "calf_raise", "plank", "row"),
    ("deadlift", "leg_curl", "bench_press", "hip_raise", "nordic", "shoulder_press"),
    ("squat", "bench_press", "row", "hip_raise", "lunge", "calf_raise"),
)


def _round_to(x: float, step: float) -> float:
    return round(x / step) * step


def _offset_s(local: dt.datetime) -> int:
    """The UTC offset of a local time with its zone, in seconds."""
    offset = local.utcoffset()
    if offset is None:
        raise ValueError(f"{local} has no time zone")
    return int(offset.total_seconds())


def _demo_strength_sets(rng: random.Random, template: tuple[str, ...], progress: float) -> list[SynthSet]:
    n_ex = rng.randint(4, 6)
    out: list[SynthSet] = []
    for key in template[:n_ex]:
        cat, ex, (lo, hi), (r_lo, r_hi), (d_lo, d_hi) = STRENGTH_PLAN[key]
        base = lo + (hi - lo) * (0.35 + 0.4 * progress + rng.uniform(-0.05, 0.05))
        reps = rng.randint(r_lo, r_hi)
        for s in range(3):
            if hi == 0:  # a bodyweight exercise (draws nothing from rng)
                w = 0.0
            else:
                dip = 0.04 if s == 2 and rng.random() < 0.3 else 0.0
                w = _round_to(base * (1.0 + 0.04 * s - dip), 2.5)
            out.append(SynthSet(category=cat, reps=reps, weight_kg=w,
                                duration_s=round(rng.uniform(d_lo, d_hi), 1),
                                rest_s=round(rng.uniform(75.0, 150.0)),
                                subtype=_subtype(cat, ex) if ex else None))
    return out


def demo_fit_files(end_date: dt.date, tz: str = "America/Denver", weeks: int = 4) -> list[tuple[str, bytes]]:
    """A few weeks of runs and strength sessions ending on ``end_date`` (local dates in ``tz``).

    Per 7-day block: 3-4 runs (5-16 km, one long run, 1 Hz records, 4:50-6:10 min/km, mornings)
    and 2-3 strength sessions (4-6 exercises x 3 sets, evenings), on distinct days. Filenames are
    local start times, e.g. ``2026-11-24-06-30-00-run.fit`` / ``...-strength.fit``; the list is
    sorted by filename (= time). Deterministic given the arguments.
    """
    if weeks < 1:
        raise ValueError("weeks must be >= 1")
    zone = ZoneInfo(tz)
    seed = zlib.crc32(f"{end_date.isoformat()}|{tz}|{weeks}".encode())
    rng = random.Random(seed)
    serial = 3_900_000_000 + seed % 90_000_000
    first = end_date - dt.timedelta(days=7 * weeks - 1)
    out: list[tuple[str, bytes]] = []
    for w in range(weeks):
        days = [first + dt.timedelta(days=7 * w + i) for i in range(7)]
        n_run, n_str = rng.randint(3, 4), rng.randint(2, 3)
        picked = rng.sample(range(7), n_run + n_str)
        run_days, str_days = sorted(picked[:n_run]), sorted(picked[n_run:])
        long_day = max(run_days, key=lambda i: (days[i].weekday() >= 5, i))
        progress = w / max(weeks - 1, 1)
        for i in run_days:
            day = days[i]
            km = rng.uniform(12.0, 16.0) if i == long_day else rng.uniform(5.0, 10.0)
            pace = rng.uniform(330.0, 370.0) if i == long_day else rng.uniform(290.0, 350.0)  # s/km
            if day.weekday() >= 5:
                hour, minute = 8, rng.choice((0, 15, 30))
            else:
                hour, minute = rng.choice((6, 6, 7)), rng.choice((0, 15, 30, 45))
            local = dt.datetime(day.year, day.month, day.day, hour, minute, rng.randrange(60), tzinfo=zone)
            dist = round(km * 1000.0, 1)
            data = encode_run(start_utc=local.astimezone(dt.UTC),
                              utc_offset_s=_offset_s(local),
                              duration_s=int(round(km * pace)), distance_m=dist,
                              avg_hr=rng.randint(138, 146) if i == long_day else rng.randint(142, 160),
                              cadence_spm=round(rng.uniform(164.0, 178.0), 1),
                              ascent_m=round(km * rng.uniform(4.0, 12.0)),
                              seed=rng.randrange(2**31), serial_number=serial)
            out.append((f"{local:%Y-%m-%d-%H-%M-%S}-run.fit", data))
        for j, i in enumerate(str_days):
            day = days[i]
            local = dt.datetime(day.year, day.month, day.day, rng.choice((17, 18)), rng.choice((0, 15, 30, 45)),
                                rng.randrange(60), tzinfo=zone)
            sets = _demo_strength_sets(rng, _SESSIONS[(w + j) % len(_SESSIONS)], progress)
            data = encode_strength(start_utc=local.astimezone(dt.UTC),
                                   utc_offset_s=_offset_s(local), sets=sets,
                                   avg_hr=rng.randint(100, 120), seed=rng.randrange(2**31), serial_number=serial)
            out.append((f"{local:%Y-%m-%d-%H-%M-%S}-strength.fit", data))
    out.sort(key=lambda fb: fb[0])
    return out


def demo_strength_sets(seed: int, index: int, progress: float) -> list[SynthSet]:
    """A realistic gym session's sets (4-6 exercises x 3 sets), deterministic given the arguments.

    ``index`` rotates through three session templates (squat / deadlift / mixed days) and
    ``progress`` (0-1) moves the working weights up through a training block.
    """
    return _demo_strength_sets(random.Random(seed), _SESSIONS[index % len(_SESSIONS)],
                               min(max(progress, 0.0), 1.0))


def season_fit_files(season: list[dict], *, run_every: int = 3,
                     serial_number: int = 3_900_004_242) -> list[tuple[str, bytes]]:
    """FIT files for a Strava-shaped season (runlift.standins.season): every strength session and
    every ``run_every``-th recorded run, with the same start time, duration and distance, as a
    watch would have recorded them before Garmin Connect uploaded them to Strava."""
    out: list[tuple[str, bytes]] = []
    dated = sorted((a for a in season if not a.get("manual")), key=lambda a: a["start_date"])
    if not dated:
        return out
    first = dt.datetime.fromisoformat(dated[0]["start_date"].replace("Z", "+00:00"))
    last = dt.datetime.fromisoformat(dated[-1]["start_date"].replace("Z", "+00:00"))
    span = max((last - first).total_seconds(), 1.0)
    run_count = gym_count = 0
    for a in dated:
        start = dt.datetime.fromisoformat(a["start_date"].replace("Z", "+00:00"))
        offset = int(float(a.get("utc_offset") or 0))
        local = (start + dt.timedelta(seconds=offset)).replace(tzinfo=None)
        seed = int(a["id"]) % (2**31)
        if a.get("sport_type") == "WeightTraining":
            sets = demo_strength_sets(seed, gym_count, (start - first).total_seconds() / span)
            gym_count += 1
            data = encode_strength(start_utc=start, utc_offset_s=offset, sets=sets,
                                   avg_hr=int(a.get("average_heartrate") or 110), seed=seed,
                                   serial_number=serial_number)
            out.append((f"{local:%Y-%m-%d-%H-%M-%S}-strength.fit", data))
        elif a.get("sport_type") in ("Run", "TrailRun") and float(a.get("distance") or 0) > 0:
            run_count += 1
            if run_count % run_every:
                continue
            data = encode_run(start_utc=start, utc_offset_s=offset, duration_s=int(a["elapsed_time"]),
                              distance_m=float(a["distance"]), avg_hr=int(a.get("average_heartrate") or 150),
                              cadence_spm=2 * float(a.get("average_cadence") or 84.0),
                              ascent_m=float(a.get("total_elevation_gain") or 30.0), seed=seed,
                              serial_number=serial_number,
                              sub_sport="trail" if a.get("sport_type") == "TrailRun" else "generic")
            out.append((f"{local:%Y-%m-%d-%H-%M-%S}-run.fit", data))
    return out
