"""Hand-made raw rows for the mart tests, and pure-Python reference formulas to check them against.

A :class:`Warehouse` wraps a real DuckDB warehouse (``warehouse.db.connect``) and inserts tiny raw
rows directly: a FIT file (``raw.fit_files`` status ok, one ``raw.fit_sessions`` row and its
``raw.fit_sets``) or a Strava activity (``raw.strava_activities`` with a JSON payload). The
reference functions below restate the specification (docs/metrics.md) independently of the SQL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import statistics
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import duckdb

from runlift.warehouse import db as wdb
from runlift.warehouse.build import AthleteParams, BuildResult, build

_SAME_AS_UTC = object()
NOW = dt.datetime(2025, 1, 1, 12, 0, 0)


def d(s: str) -> dt.date:
    return dt.date.fromisoformat(s)


def t(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s)


def athlete(athlete_id: str, timezone: str = "UTC", body_mass: Iterable[tuple[dt.date | None, float]] = ((None, 70.0),),
            *, acwr_flags: bool = False, races: Iterable[tuple[dt.date, str, float | None, int | None]] = ()
            ) -> AthleteParams:
    return AthleteParams(athlete_id, timezone, "unspecified", None, None, tuple(body_mass),
                         acwr_flags=acwr_flags, races=tuple(races))


class Warehouse:
    """A warehouse file in a temporary folder, filled by hand."""

    def __init__(self, path: Path):
        self.con: duckdb.DuckDBPyConnection = wdb.connect(path)
        self._n: dict[str, int] = {}

    def close(self) -> None:
        self.con.close()

    # --- raw rows ---------------------------------------------------------------------------------

    def fit(self, athlete_id: str, start_utc: dt.datetime, *, local: Any = _SAME_AS_UTC,
            sport: str = "running", sub_sport: str | None = "generic", moving_s: float | None = 3600.0,
            timer_s: float | None = None, distance_m: float | None = 10000.0, strides: int | None = None,
            cadence_rpm: float | None = None, stance_s: float | None = None, descent_m: float | None = None,
            ascent_m: float | None = None, workout_rpe: float | None = None,
            sets: Sequence[tuple[str, int, float]] = ()) -> str:
        """One FIT file with one session (and its active sets: (category, reps, weight kg)).

        ``local`` is the session's local start (default: the UTC start, i.e. an athlete in UTC);
        pass ``None`` for a file that gives no local time. Returns the activity key.
        """
        # the hash depends on the athlete and their own file count only: the same athlete's files get
        # the same keys whatever else is in the warehouse
        n = self._n[athlete_id] = self._n.get(athlete_id, 0) + 1
        sha = hashlib.sha256(f"{athlete_id}/{n}".encode()).hexdigest()
        local_time = start_utc if local is _SAME_AS_UTC else local
        timer = timer_s if timer_s is not None else (moving_s if moving_s is not None else 3600.0)
        end_utc = start_utc + dt.timedelta(seconds=timer)
        self.con.execute(
            "INSERT INTO raw.fit_files (athlete_id, file_sha256, first_path, size_bytes, file_type, manufacturer, "
            "status, n_sessions, n_laps, n_sets, n_records, decoder, blob_path, imported_at) "
            "VALUES (?, ?, ?, 1000, 'activity', 'garmin', 'ok', 1, 0, ?, 0, 'test', ?, ?)",
            [athlete_id, sha, f"/fit/{sha[:8]}.fit", len(sets), f"blobs/{sha}", NOW])
        self.con.execute(
            "INSERT INTO raw.fit_sessions (athlete_id, file_sha256, session_index, sport, sub_sport, "
            "start_time_utc, start_time_local, end_time_utc, total_elapsed_time_s, total_timer_time_s, "
            "total_moving_time_s, total_distance_m, total_ascent_m, total_descent_m, avg_cadence_rpm, "
            "total_strides, avg_stance_time_s, workout_rpe, is_summarised) "
            "VALUES (?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, false)",
            [athlete_id, sha, sport, sub_sport, start_utc, local_time, end_utc, timer, timer, moving_s,
             distance_m, ascent_m, descent_m, cadence_rpm, strides, stance_s, workout_rpe])
        for i, (category, reps, weight) in enumerate(sets):
            started = start_utc + dt.timedelta(seconds=60 * i + 10)
            self.con.execute(
                "INSERT INTO raw.fit_sets (athlete_id, file_sha256, set_index, message_index, set_type, "
                "start_time_utc, end_time_utc, duration_s, repetitions, weight_kg, category, category_names) "
                "VALUES (?, ?, ?, ?, 'active', ?, ?, 40, ?, ?, ?, ?)",
                [athlete_id, sha, i, i, started, started + dt.timedelta(seconds=40), reps, weight, category,
                 [category]])
        return f"fit:{sha[:16]}:0"

    def strava(self, athlete_id: str, activity_id: int, start_utc: dt.datetime, *, local: Any = _SAME_AS_UTC,
               sport_type: str = "Run", distance_m: float | None = 10000.0, moving_s: float | None = 3600.0,
               cadence_rpm: float | None = None, ascent_m: float | None = None, rpe: float | None = None,
               external_id: str | None = None, device_name: str | None = None, name: str | None = None,
               gear_id: str | None = None) -> str:
        """One Strava activity (``local``: start_date_local; default the UTC start). Returns the key."""
        local_time = start_utc if local is _SAME_AS_UTC else local
        name = name or f"{sport_type} {activity_id}"
        payload = {"id": activity_id, "name": name, "sport_type": sport_type, "type": sport_type,
                   "start_date": start_utc.isoformat() + "Z",
                   "start_date_local": local_time.isoformat() + "Z" if local_time else None,
                   "distance": distance_m, "moving_time": moving_s, "elapsed_time": moving_s,
                   "average_cadence": cadence_rpm, "total_elevation_gain": ascent_m,
                   "perceived_exertion": rpe, "external_id": external_id, "device_name": device_name,
                   "gear_id": gear_id}
        self.con.execute(
            "INSERT INTO raw.strava_activities (athlete_id, activity_id, name, sport_type, type, start_time_utc, "
            "start_time_local, distance_m, moving_time_s, elapsed_time_s, elevation_gain_m, average_cadence_rpm, "
            "perceived_exertion, external_id, device_name, is_manual, gear_id, payload, first_fetched_at, fetched_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, false, ?, ?, ?, ?)",
            [athlete_id, activity_id, name, sport_type, sport_type, start_utc, local_time, distance_m, moving_s,
             moving_s, ascent_m, cadence_rpm, rpe, external_id, device_name, gear_id, json.dumps(payload), NOW, NOW])
        return f"strava:{activity_id}"

    def gear(self, athlete_id: str, gear_id: str, name: str | None, *, retired: bool | None = False,
             nickname: str | None = None, brand: str | None = None, model: str | None = None,
             strava_distance_m: float | None = None, status: str = "ok") -> None:
        """One row of raw.strava_gear, as GET /gear/{id} gives it."""
        payload = {"id": gear_id, "name": name, "nickname": nickname, "brand_name": brand, "model_name": model,
                   "retired": retired, "distance": strava_distance_m, "primary": False}
        self.con.execute(
            "INSERT INTO raw.strava_gear (athlete_id, gear_id, fetch_status, name, nickname, brand_name, model_name, "
            "is_primary, is_retired, distance_m, payload, first_fetched_at, fetched_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, false, ?, ?, ?, ?, ?)",
            [athlete_id, gear_id, status, name, nickname, brand, model, retired, strava_distance_m,
             json.dumps(payload) if status == "ok" else None, NOW, NOW])

    # --- building and reading ---------------------------------------------------------------------

    def build(self, as_of: dt.date, athletes: Sequence[AthleteParams], units: str = "metric",
              **kwargs: Any) -> BuildResult:
        result = build(self.con, as_of=as_of, athletes=athletes, units=units, **kwargs)
        assert result.failures == [], result.failures
        return result

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cur = self.con.execute(sql, list(params))
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

    def one(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any]:
        rows = self.rows(sql, params)
        assert len(rows) == 1, rows
        return rows[0]

    def activity(self, key: str) -> dict[str, Any]:
        return self.one("SELECT * FROM marts.fct_activities WHERE activity_key = ?", [key])

    def daily(self, athlete_id: str) -> list[dict[str, Any]]:
        return self.rows("SELECT * FROM marts.daily_training_load WHERE athlete_id = ? ORDER BY date", [athlete_id])

    def weekly(self, athlete_id: str) -> list[dict[str, Any]]:
        return self.rows("SELECT * FROM marts.weekly_training_balance WHERE athlete_id = ? ORDER BY week_start",
                         [athlete_id])

    def flags(self, athlete_id: str, flag: str | None = None) -> list[dict[str, Any]]:
        return self.rows("SELECT * FROM marts.training_flags WHERE athlete_id = ? AND (? IS NULL OR flag = ?) "
                         "ORDER BY date, flag, activity_key", [athlete_id, flag, flag])

    def snapshot(self, schemas: Sequence[str] = ("intermediate", "marts")) -> dict[str, list[tuple]]:
        """Sorted contents of every table in ``schemas``."""
        out = {}
        for schema in schemas:
            names = [r[0] for r in self.con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE'",
                [schema]).fetchall()]
            for n in sorted(names):
                out[f"{schema}.{n}"] = self.con.execute(f'SELECT * FROM "{schema}"."{n}" ORDER BY ALL').fetchall()
        return out


# --- reference formulas (the specification, restated) ----------------------------------------------

ACUTE_L = 2 / 8
CHRONIC_L = 2 / 29
FITNESS_L = 1 - math.exp(-1 / 42)
FATIGUE_L = 1 - math.exp(-1 / 7)
DEFAULT_PEAK_BW = 2.5


def seed28(xs: Sequence[float]) -> float:
    """The EWMAs' start (E_0, the day before day 1): the mean daily value of the first 28 days."""
    return statistics.fmean(xs[:28])


def ewma(xs: Sequence[float], lam: float, seed: float | None = None) -> list[float]:
    """E_t = lam x_t + (1 - lam) E_{t-1}, E_0 = seed (default: seed28(xs), the day before day 1)."""
    out, prev = [], seed28(xs) if seed is None else seed
    for x in xs:
        prev = lam * x + (1 - lam) * prev
        out.append(prev)
    return out


def acwr(impact: Sequence[float]) -> list[float | None]:
    acute, chronic = ewma(impact, ACUTE_L), ewma(impact, CHRONIC_L)
    return [a / c if i + 1 >= 28 and c > 0 else None for i, (a, c) in enumerate(zip(acute, chronic, strict=True))]


def form(loads: Sequence[float]) -> list[float]:
    fit, fat = ewma(loads, FITNESS_L), ewma(loads, FATIGUE_L)
    return [0.0] + [f - g for f, g in zip(fit[:-1], fat[:-1], strict=True)]


def monotony(window: Sequence[float]) -> float | None:
    sd = statistics.pstdev(window)
    return None if sd == 0 else statistics.fmean(window) / sd


def monotony_7d(loads: Sequence[float]) -> list[tuple[float | None, float | None]]:
    """(monotony, strain) per day: NULL before day 7 or when the 7-day SD is 0."""
    out = []
    for i in range(len(loads)):
        if i + 1 < 7:
            out.append((None, None))
            continue
        window = loads[i - 6:i + 1]
        m = monotony(window)
        out.append((m, None if m is None else sum(window) * m))
    return out


def peak_force_bw(cadence_spm: float, stance_s: float) -> float:
    """Spring-mass model: (pi / 2) (flight / contact + 1), step time 60 / steps per minute."""
    step = 60.0 / cadence_spm
    flight = step - stance_s
    return math.pi / 2 * (flight / stance_s + 1)


def downhill_factor(descent_m: float, distance_m: float) -> float:
    return 1 + 0.5 * 0.06 * min(math.degrees(math.atan(descent_m / (distance_m / 2))), 9.0)


def impact_kbw(steps: float, peak_bw: float = DEFAULT_PEAK_BW, downhill: float = 1.0) -> float:
    return steps * peak_bw * downhill / 1000.0


def knee_load_kbw(reps: int, knee_factor: float, weight_kg: float, body_mass_kg: float) -> float:
    return reps * knee_factor * (1 + weight_kg / body_mass_kg) / 1000.0


def iso_week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def approx_list(values: Sequence[float | None], rel: float = 1e-9, abs_: float = 1e-9) -> list[Any]:
    """A list to compare against with ==: None stays None, numbers become pytest.approx."""
    import pytest

    return [None if v is None else pytest.approx(v, rel=rel, abs=abs_) for v in values]
