"""A local Hevy public API emulator: a real HTTP server on 127.0.0.1 for tests and trying things.

Seeded from the demo's synthetic athlete (runlift.standins.season): every gym session
(``WeightTraining``) of the season becomes a Hevy workout with the same start and end and the sets
the watch's FIT file of that session has (standins/fit_writer.py ``demo_strength_sets``), plus a
warm-up set before each barbell exercise and an RPE on working sets; a weekly body-mass
measurement. Payload shapes as Hevy's API documents them (https://api.hevyapp.com/docs):

* ``GET /v1/workouts?page=&pageSize=`` (pageSize at most 10; newest first),
  ``GET /v1/workouts/count``, ``GET /v1/workouts/{id}``,
  ``GET /v1/workouts/events?since=&page=&pageSize=`` (``updated`` events with the workout,
  ``deleted`` events with ``id`` and ``deleted_at``; newest first),
  ``GET /v1/exercise_templates?page=&pageSize=`` (at most 100), ``GET /v1/body_measurements``.
  Answers ``{"page", "page_count", <items>}``; a page past the last: 404; a bad page size: 400.
* The ``api-key`` header must be the emulator's key, else 401.
* Failure injection: ``fail_next(n, status)`` (e.g. 429, 500, 503), ``fail_on(path, page, status)``,
  ``drop_next(n)`` (the connection closes unanswered), ``stall_next(n, seconds)`` (a slow answer).
  Changes: ``edit_workout``, ``delete_workout``, ``add_workout``.

It binds 127.0.0.1 only unless told otherwise and never logs the key.
Run it by hand: ``python -m runlift.standins.hevy_emulator --port 8766`` (or ``runlift hevy emulator``).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from runlift.standins.fit_writer import STRENGTH_PLAN, demo_strength_sets
from runlift.standins.season import default_athlete, synthetic_season
from runlift.standins.served import ServedEmulator, TrackedHandler, serve_until_interrupted

__all__ = ["DEFAULT_KEY", "HevyEmulator", "hevy_templates", "hevy_workouts", "main"]

DEFAULT_KEY = "00000000-0000-4000-8000-00000000c0de"

# Hevy's library names and ids (8 hex digits, as Hevy's are) for the synthetic athlete's exercises,
# by the key of fit_writer.STRENGTH_PLAN; with Hevy's type and muscle groups.
HEVY_EXERCISES: dict[str, tuple[str, str, str, str, list[str], str]] = {
    "squat": ("D04AC939", "Squat (Barbell)", "weight_reps", "quadriceps", ["glutes", "hamstrings"], "barbell"),
    "deadlift": ("C6272009", "Deadlift (Barbell)", "weight_reps", "hamstrings", ["glutes", "lower_back"], "barbell"),
    "romanian_deadlift": ("2B4B7310", "Romanian Deadlift (Barbell)", "weight_reps", "hamstrings",
                          ["glutes", "lower_back"], "barbell"),
    "bench_press": ("79D0BB3A", "Bench Press (Barbell)", "weight_reps", "chest", ["triceps", "shoulders"], "barbell"),
    "row": ("F1E57334", "Dumbbell Row", "weight_reps", "upper_back", ["biceps", "lats"], "dumbbell"),
    "lunge": ("B537D09F", "Lunge (Dumbbell)", "weight_reps", "quadriceps", ["glutes", "hamstrings"], "dumbbell"),
    "leg_curl": ("B8127AD1", "Lying Leg Curl (Machine)", "weight_reps", "hamstrings", [], "machine"),
    # not in Hevy's library: the athlete's own (custom) exercise
    "nordic": ("7A1D3F2E", "Nordic Hamstring Curl (Partner)", "reps_only", "hamstrings", [], "none"),
    "hip_raise": ("D57C2EC7", "Hip Thrust (Barbell)", "weight_reps", "glutes", ["hamstrings"], "barbell"),
    "plank": ("C6C9B8A0", "Plank", "duration", "abdominals", ["shoulders"], "none"),
    "calf_raise": ("06745E58", "Standing Calf Raise (Machine)", "weight_reps", "calves", [], "machine"),
    "shoulder_press": ("878CD1D0", "Shoulder Press (Dumbbell)", "weight_reps", "shoulders", ["triceps"], "dumbbell"),
}
CUSTOM_EXERCISES = {"nordic"}
EXTRA_TEMPLATES = [
    ("3BC06AD3", "Pull Up", "bodyweight_reps", "lats", ["biceps", "upper_back"], "none", False),
    ("A5AC6449", "Treadmill", "distance_duration", "cardio", [], "machine", False),
]
_BY_CATEGORY = {(cat, ex): key for key, (cat, ex, *_rest) in STRENGTH_PLAN.items()}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") + "Z"


def _iso_ms(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _parse(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def hevy_templates() -> list[dict[str, Any]]:
    """The exercise templates the emulator serves (the synthetic athlete's, a few more, one custom)."""
    out = [{"id": tid, "title": title, "type": kind, "primary_muscle_group": primary,
            "secondary_muscle_groups": secondary, "equipment": equipment, "is_custom": key in CUSTOM_EXERCISES}
           for key, (tid, title, kind, primary, secondary, equipment) in HEVY_EXERCISES.items()]
    out += [{"id": tid, "title": title, "type": kind, "primary_muscle_group": primary,
             "secondary_muscle_groups": secondary, "equipment": equipment, "is_custom": custom}
            for tid, title, kind, primary, secondary, equipment, custom in EXTRA_TEMPLATES]
    return out


def _exercise_key(s: Any) -> str:
    from runlift.standins.fit_writer import _subtype

    for (cat, ex), key in _BY_CATEGORY.items():
        if cat == s.category and (ex is None or _subtype(cat, ex) == s.subtype):
            return key
    return "plank"


def hevy_workouts(season: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Hevy workouts for the gym sessions of a synthetic season (oldest first): the same start,
    end and sets as the watch's FIT files of them (standins/fit_writer.py season_fit_files)."""
    dated = sorted((a for a in season if not a.get("manual")), key=lambda a: a["start_date"])
    if not dated:
        return []
    first, last = _parse(dated[0]["start_date"]), _parse(dated[-1]["start_date"])
    span = max((last - first).total_seconds(), 1.0)
    out: list[dict[str, Any]] = []
    gym_count = 0
    for a in dated:
        if a.get("sport_type") != "WeightTraining":
            continue
        start = _parse(a["start_date"])
        sets = demo_strength_sets(int(a["id"]) % (2**31), gym_count, (start - first).total_seconds() / span)
        gym_count += 1
        end = start + timedelta(seconds=int(a.get("elapsed_time") or 3600))
        exercises: list[dict[str, Any]] = []
        for s in sets:
            key = _exercise_key(s)
            if not exercises or exercises[-1]["_key"] != key:
                tid, title, *_ = HEVY_EXERCISES[key]
                exercises.append({"_key": key, "index": len(exercises), "title": title, "notes": "",
                                  "exercise_template_id": tid, "superset_id": None, "sets": []})
                if HEVY_EXERCISES[key][5] == "barbell" and s.weight_kg > 20:
                    exercises[-1]["sets"].append({"index": 0, "type": "warmup", "weight_kg": 20.0, "reps": 10,
                                                  "distance_meters": None, "duration_seconds": None, "rpe": None,
                                                  "custom_metric": None})
            ex = exercises[-1]
            working = sum(1 for x in ex["sets"] if x["type"] != "warmup")
            duration = key == "plank"
            bodyweight = HEVY_EXERCISES[key][2] == "reps_only"  # no weight field (a Nordic curl)
            rpe = [7.0, 8.0, 8.5][min(working, 2)] if not duration else None
            ex["sets"].append({"index": len(ex["sets"]), "type": "normal",
                               "weight_kg": None if duration or bodyweight else s.weight_kg,
                               "reps": None if duration else s.reps, "distance_meters": None,
                               "duration_seconds": int(s.duration_s) if duration else None,
                               "rpe": rpe, "custom_metric": None})
        if exercises and exercises[0]["sets"]:
            exercises[0]["sets"][-1]["type"] = "failure"  # the top set of the first lift taken to failure
            exercises[0]["sets"][-1]["rpe"] = 10.0
        for ex in exercises:
            ex.pop("_key")
        if len(exercises) >= 4:  # the last two exercises done as a superset
            exercises[-1]["superset_id"] = exercises[-2]["superset_id"] = 0
        created = end + timedelta(seconds=41, milliseconds=int(a["id"]) % 1000)
        out.append({"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"hevy-workout-{a['id']}")),
                    "title": ("Leg Day", "Full Body", "Upper + Hinge")[(gym_count - 1) % 3],
                    "description": "", "start_time": _iso(start), "end_time": _iso(end),
                    "updated_at": _iso_ms(created), "created_at": _iso_ms(created), "exercises": exercises})
    return out


def body_measurements(season: list[dict[str, Any]], weight_kg: float | None = None) -> list[dict[str, Any]]:
    """A weekly weigh-in through the season (Mondays), around the synthetic athlete's weight."""
    base = weight_kg or float(default_athlete()["weight"])
    days = sorted({_parse(a["start_date"]).date() for a in season})
    if not days:
        return []
    out, day, k = [], days[0] + timedelta(days=(7 - days[0].weekday()) % 7), 0
    while day <= days[-1]:
        out.append({"date": day.isoformat(), "weight_kg": round(base + 0.4 * ((k * 7) % 5 - 2) / 2 - 0.05 * k, 1),
                    "lean_mass_kg": None, "fat_percent": None, "neck_cm": None, "waist": None})
        day += timedelta(days=7)
        k += 1
    return out


class _Response(Exception):
    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


class HevyEmulator(ServedEmulator):
    """A local Hevy API on a daemon thread. Use as a context manager or ``start()``/``stop()``."""

    thread_name = "hevy-emulator"

    def __init__(self, workouts: list[dict[str, Any]] | None = None, *, api_key: str = DEFAULT_KEY,
                 templates: list[dict[str, Any]] | None = None, measurements: list[dict[str, Any]] | None = None,
                 clock: Callable[[], float] = time.time, host: str = "127.0.0.1", port: int = 0) -> None:
        self.api_key = api_key
        self.clock = clock
        self._lock = threading.RLock()
        self.serve_on(host, port)
        self._workouts: dict[str, dict[str, Any]] = {w["id"]: copy.deepcopy(w) for w in workouts or []}
        self._deleted: dict[str, str] = {}  # id -> deleted_at
        self._templates = copy.deepcopy(templates if templates is not None else hevy_templates())
        self._measurements = copy.deepcopy(measurements or [])
        self._fail: list[int] = []
        self._fail_on: list[list[Any]] = []  # [path, page or None, status, times left]
        self._drop = 0
        self._stall: list[float] = []  # seconds to wait before each of the next answers
        self._log: list[tuple[str, str, int]] = []

    @classmethod
    def from_season(cls, end_date: date, *, weeks: int = 16, seed: int = 7, **kwargs: Any) -> HevyEmulator:
        season = synthetic_season(end_date, weeks=weeks, seed=seed)
        return cls(hevy_workouts(season), measurements=body_measurements(season), **kwargs)

    # --- lifecycle (runlift.standins.served: start / stop / base_url / with) --------------------

    def handler_class(self) -> type[_Handler]:
        return _Handler

    # --- control ------------------------------------------------------------------------------

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    @property
    def workouts(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._workouts)

    def add_workout(self, workout: dict[str, Any]) -> str:
        with self._lock:
            w = copy.deepcopy(workout)
            w.setdefault("id", str(uuid.uuid4()))
            w["created_at"] = w["updated_at"] = _iso_ms(self._now())
            self._workouts[w["id"]] = w
            return str(w["id"])

    def edit_workout(self, workout_id: str, change: Callable[[dict[str, Any]], None] | None = None,
                     **fields: Any) -> dict[str, Any]:
        """Change a workout (``fields`` replace top-level values; ``change`` edits it in place) as an
        edit in the app does: ``updated_at`` becomes now."""
        with self._lock:
            w = self._workouts[workout_id]
            w.update(copy.deepcopy(fields))
            if change is not None:
                change(w)
            w["updated_at"] = _iso_ms(self._now())
            return copy.deepcopy(w)

    def delete_workout(self, workout_id: str) -> None:
        with self._lock:
            del self._workouts[workout_id]
            self._deleted[workout_id] = _iso_ms(self._now())

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        with self._lock:
            self._fail += [status] * n

    def fail_on(self, path: str, page: int | None = None, status: int = 429, times: int = 1) -> None:
        """Answer ``status`` to the next ``times`` requests of ``path`` (and ``page``, when given)."""
        with self._lock:
            self._fail_on.append([path, page, status, times])

    def stall_next(self, n: int = 1, seconds: float = 5.0) -> None:
        """Wait ``seconds`` before each of the next ``n`` answers (a client's time-out fires first)."""
        with self._lock:
            self._stall += [seconds] * n

    def drop_next(self, n: int = 1) -> None:
        with self._lock:
            self._drop += n

    @property
    def request_log(self) -> list[tuple[str, str, int]]:
        with self._lock:
            return list(self._log)

    # --- the API ------------------------------------------------------------------------------

    @staticmethod
    def _paging(query: dict[str, str], max_size: int) -> tuple[int, int]:
        try:
            page, size = int(query.get("page", "1")), int(query.get("pageSize", "5"))
        except ValueError:
            raise _Response(400, {"error": "Invalid page or pageSize"}) from None
        if page < 1 or not 1 <= size <= max_size:
            raise _Response(400, {"error": f"pageSize must be between 1 and {max_size}"})
        return page, size

    @staticmethod
    def _paged(items: list[Any], key: str, page: int, size: int) -> dict[str, Any]:
        page_count = (len(items) + size - 1) // size
        if page > max(page_count, 1):
            raise _Response(404, {"error": "Page not found"})
        return {"page": page, "page_count": page_count, key: items[(page - 1) * size: page * size]}

    def _newest_first(self) -> list[dict[str, Any]]:
        return sorted(self._workouts.values(), key=lambda w: (str(w.get("start_time") or ""), str(w["id"])),
                      reverse=True)

    def _api(self, path: str, query: dict[str, str], headers: Any) -> _Response:
        with self._lock:
            status = self._fail.pop(0) if self._fail else None
            for rule in self._fail_on:
                if status is None and rule[3] > 0 and rule[0] == path and (
                        rule[1] is None or str(rule[1]) == query.get("page", "1")):
                    rule[3] -= 1
                    status = rule[2]
            if status is not None:
                body = {"error": "Too Many Requests"} if status == 429 else {"error": "Internal Server Error"}
                return _Response(status, body, {"Retry-After": "60"} if status == 429 else {})
            if headers.get("api-key") != self.api_key:
                return _Response(401, {"error": "Unauthorized"})
            try:
                return _Response(200, self._route(path, query))
            except _Response as answer:
                return answer

    def _route(self, path: str, query: dict[str, str]) -> Any:
        if path == "/v1/workouts":
            page, size = self._paging(query, 10)
            return self._paged(copy.deepcopy(self._newest_first()), "workouts", page, size)
        if path == "/v1/workouts/count":
            return {"workout_count": len(self._workouts)}
        if path == "/v1/workouts/events":
            page, size = self._paging(query, 10)
            try:
                since = _parse(query.get("since", "1970-01-01T00:00:00Z"))
            except ValueError:
                raise _Response(400, {"error": "Invalid since"}) from None
            events: list[tuple[str, dict[str, Any]]] = []
            for w in self._workouts.values():
                if _parse(w["updated_at"]) > since:
                    events.append((w["updated_at"], {"type": "updated", "workout": copy.deepcopy(w)}))
            for wid, when in self._deleted.items():
                if _parse(when) > since:
                    events.append((when, {"type": "deleted", "id": wid, "deleted_at": when}))
            events.sort(key=lambda e: e[0], reverse=True)
            return self._paged([e for _, e in events], "events", page, size)
        if path.startswith("/v1/workouts/"):
            one = self._workouts.get(path.rsplit("/", 1)[1])
            if one is None:
                raise _Response(404, {"error": "Workout not found"})
            return copy.deepcopy(one)
        if path == "/v1/exercise_templates":
            page, size = self._paging(query, 100)
            return self._paged(copy.deepcopy(self._templates), "exercise_templates", page, size)
        if path == "/v1/body_measurements":
            page, size = self._paging(query, 10)
            newest = sorted(self._measurements, key=lambda m: m["date"], reverse=True)
            return self._paged(copy.deepcopy(newest), "body_measurements", page, size)
        raise _Response(404, {"error": "Not found"})


class _Handler(TrackedHandler):  # headers carry the key: never logged
    emulator: HevyEmulator
    server_version = "HevyEmulator/1.0"

    def do_GET(self) -> None:
        emu = self.emulator
        split = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        with emu._lock:
            drop = emu._drop > 0
            if drop:
                emu._drop -= 1
            stall = emu._stall.pop(0) if emu._stall and not drop else 0.0
        if stall:
            time.sleep(stall)
        if drop:
            with emu._lock:
                emu._log.append(("GET", self.path, 0))
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        try:
            response = emu._api(split.path, query, self.headers)
        except Exception as exc:  # a bug in the emulator must not look like a dropped connection
            response = _Response(500, {"error": type(exc).__name__})
        with emu._lock:
            emu._log.append(("GET", self.path, response.status))
        payload = json.dumps(response.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = "Error"
        self.send_response(response.status, reason)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


def main(argv: list[str] | None = None, prog: str = "python -m runlift.standins.hevy_emulator") -> int:
    """The command line; ``runlift hevy emulator`` calls it with its own name as ``prog``."""
    parser = argparse.ArgumentParser(prog=prog, description="Serve a local Hevy API seeded with the synthetic "
                                     "athlete's gym sessions (the same ones as the Strava emulator's season).")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8766, help="port (0: any free one; default 8766)")
    parser.add_argument("--weeks", type=int, default=16)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--end-date", type=date.fromisoformat, default=None,
                        help="YYYY-MM-DD of the season's last day (default: today)")
    parser.add_argument("--api-key", default=DEFAULT_KEY, help="the key the emulator accepts")
    args = parser.parse_args(argv)
    end = args.end_date or date.today()
    emulator = HevyEmulator.from_season(end, weeks=args.weeks, seed=args.seed, api_key=args.api_key,
                                        host=args.host, port=args.port)
    base_url = emulator.start()
    print(f"Hevy emulator: {base_url}  ({len(emulator.workouts)} workouts, {args.weeks} weeks ending {end})")
    print(f"RUNLIFT_HEVY_BASE_URL={base_url} HEVY_API_KEY={args.api_key} runlift hevy sync")
    return serve_until_interrupted(emulator.stop)


if __name__ == "__main__":
    sys.exit(main())
