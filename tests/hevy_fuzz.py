"""A seeded mutator over Hevy's answers (workout pages, the events feed, exercise templates, body
measurements), run against the real client, sync and loader through tests/hostile_http.py into a
real DuckDB file. Used by tests/test_hevy_fuzz.py (a small fixed budget).

The answers start from the Hevy emulator's real payload shapes (standins/hevy_emulator.py, its routes
called in-process) and are then mutated: odd values in any field, fields removed, items replaced by
odd values, repeated items, unknown fields, non-list pages, odd page counts, truncated or corrupted
JSON, HTML where JSON belongs, odd statuses.

Every case is one ``sync_athlete`` run. What must hold, whatever the server says: no exception
escapes and none ends the run through the sync's catch-all (an odd value is a note or a clear
one-line failure, never ``SomeError: ...``); the run ends in bounded time with status complete /
paused / failed; a row reaches ``ops.hevy_sync_runs``; its message and notes are single lines of at
most 500 characters holding no secret (the API key). (The raw tables' primary keys make a doubled
row an exception: a crash.)
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import time
import traceback
from pathlib import Path
from typing import Any

from runlift.flows.hevy_sync import make_client, sync_athlete
from runlift.flows.settings import load_settings
from runlift.standins.config import write_settings
from runlift.standins.hevy_emulator import HevyEmulator, body_measurements, hevy_workouts
from runlift.standins.season import synthetic_season
from runlift.warehouse import db as wdb

from hostile_http import HostileServer, Reply, Request
from strava_fuzz import Outcome, encode, message_problems, mutate_dict, mutate_list, odd, run_cases

KEY = "fuzz-hevy-key-0b1e6c2d-8f3a-4d5e-9a7b-2c4d6e8f0a1b"
CASE_SECONDS = 15.0  # a case taking longer counts as a hang (timeout_s is 1 s, retries 0)
WORKOUT_FIELDS = ["id", "title", "description", "start_time", "end_time", "updated_at", "created_at", "exercises"]
EXERCISE_FIELDS = ["index", "title", "notes", "exercise_template_id", "superset_id", "sets"]
SET_FIELDS = ["index", "type", "weight_kg", "reps", "distance_meters", "duration_seconds", "rpe", "custom_metric"]
TEMPLATE_FIELDS = ["id", "title", "type", "primary_muscle_group", "secondary_muscle_groups", "is_custom"]
MEASURE_FIELDS = ["date", "weight_kg", "lean_mass_kg", "fat_percent"]
PAGE_KEYS = {"/v1/workouts": "workouts", "/v1/workouts/events": "events",
             "/v1/exercise_templates": "exercise_templates", "/v1/body_measurements": "body_measurements"}


def _mutate_workout(rng: random.Random, w: Any) -> Any:
    if not isinstance(w, dict):
        return w
    r = rng.random()
    exercises = w.get("exercises")
    if r < 0.35 or not isinstance(exercises, list) or not exercises:
        mutate_dict(rng, w, WORKOUT_FIELDS, "new_field_from_hevy")
        return w
    ex = exercises[rng.randrange(len(exercises))]
    if not isinstance(ex, dict):
        return w
    sets = ex.get("sets")
    if r < 0.55 or not isinstance(sets, list) or not sets:
        mutate_dict(rng, ex, EXERCISE_FIELDS, "new_field_from_hevy")
    elif r < 0.9:
        s = sets[rng.randrange(len(sets))]
        if isinstance(s, dict):
            mutate_dict(rng, s, SET_FIELDS, "new_field_from_hevy")
    else:
        exercises[rng.randrange(len(exercises))] = odd(rng)
    return w


def mutate_items(rng: random.Random, path: str, items: list[Any]) -> Any:
    """A mutated list of page items (usually still a list; sometimes not)."""

    def mutate_item(rng: random.Random, item: Any) -> Any:
        if path == "/v1/workouts":
            return _mutate_workout(rng, item)
        if path == "/v1/workouts/events":
            if isinstance(item, dict) and rng.random() < 0.6 and isinstance(item.get("workout"), dict):
                item["workout"] = _mutate_workout(rng, item["workout"])
            elif isinstance(item, dict):
                mutate_dict(rng, item, ["type", "id", "deleted_at", "workout"], "new_field_from_hevy")
        elif path == "/v1/exercise_templates" and isinstance(item, dict):
            mutate_dict(rng, item, TEMPLATE_FIELDS, "new_field_from_hevy")
        elif isinstance(item, dict):
            mutate_dict(rng, item, MEASURE_FIELDS, "new_field_from_hevy")
        return item

    return mutate_list(rng, items, mutate_item)


class HevyFuzzer:
    """One hostile server in front of an in-process emulator, one warehouse, many cases."""

    def __init__(self, workdir: Path, seed: int) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        season = synthetic_season(dt.date.today(), weeks=10, seed=seed % 1000)
        self.emu = HevyEmulator(hevy_workouts(season), measurements=body_measurements(season), api_key=KEY)
        self.case: dict[str, Any] = {}
        self.server = HostileServer(self.answer)
        workdir.mkdir(parents=True, exist_ok=True)
        self.cfg = write_settings(workdir, tables={"hevy": {
            "base_url": self.server.base_url, "min_interval_s": 0.0, "backoff_s": 0.0, "retries": 0,
            "timeout_s": 1.0}})
        self.settings = load_settings(self.cfg, env={"HEVY_API_KEY": KEY})

    def __enter__(self) -> HevyFuzzer:
        self.server.start()
        self.con = wdb.connect(self.settings.db_path)
        return self

    def __exit__(self, *exc: object) -> None:
        self.con.close()
        self.server.stop()

    def answer(self, req: Request) -> Reply:
        c, rng = self.case, self.rng
        if rng.random() < c.get("status_odds", 0.0):
            status = rng.choice([400, 401, 403, 404, 418, 429, 500, 503])
            return Reply(status, json.dumps({"error": f"odd {req.headers.get('api-key', '')}"}).encode())
        got = self.emu._api(req.path, req.query, req.headers)
        body = got.body
        key = PAGE_KEYS.get(req.path)
        if got.status == 200 and key and isinstance(body, dict) and rng.random() < c.get("mutate_odds", 0.0):
            body = dict(body)
            if rng.random() < 0.15:
                body["page_count"] = odd(rng)
            else:
                body[key] = mutate_items(rng, req.path, body.get(key) or [])
        data = encode(rng, body) if rng.random() < c.get("bytes_odds", 0.0) else json.dumps(body).encode()
        return Reply(got.status, data, [(k, v) for k, v in got.headers.items()])

    def run_case(self) -> tuple[str, float, str | None]:
        """One case: (status, seconds, crash description or None)."""
        rng = self.rng
        self.case = {"mutate_odds": rng.choice([0.3, 0.7, 1.0]), "bytes_odds": rng.choice([0.0, 0.0, 0.1]),
                     "status_odds": rng.choice([0.0, 0.0, 0.05])}
        full = rng.random() < 0.4
        before = self.con.execute("SELECT count(*) FROM ops.hevy_sync_runs").fetchone()[0]
        t0 = time.monotonic()
        try:
            with make_client(self.settings, "me", sleep=lambda s: None) as client:
                result = sync_athlete(self.con, client, self.settings.hevy, "me", full=full)
        except Exception:
            return "crash", time.monotonic() - t0, traceback.format_exc(limit=6)
        took = time.monotonic() - t0
        problems = []
        if result.status not in ("complete", "paused", "failed"):
            problems.append(f"status {result.status!r}")
        after = self.con.execute("SELECT count(*) FROM ops.hevy_sync_runs").fetchone()[0]
        if after != before + 1:
            problems.append("no row in ops.hevy_sync_runs")
        if re.match(r"\w+(Error|Exception): ", result.message):  # the sync's catch-all: nothing foresaw it
            problems.append(f"an unforeseen exception ended the run: {result.message[:200]}")
        problems += message_problems([result.message, *result.problems, *result.lines()], [KEY])
        if took > CASE_SECONDS:
            problems.append(f"took {took:.1f} s")
        return result.status, took, ("; ".join(problems) + f" (case {self.case!r:.300})") if problems else None

    def run(self, cases: int) -> Outcome:
        return run_cases(self.run_case, self.seed, cases)
