"""A seeded mutator over Garmin Connect's answers (the activity list, original downloads, weigh-ins),
run against the real client, sync, FIT import and loader through tests/hostile_http.py into a real
DuckDB file. Used by tests/test_garmin_fuzz.py (a small fixed budget).

The answers start from the Garmin emulator's (standins/garmin_emulator.py, answered in-process) and
are then mutated: odd values in any field of a listed activity or a weigh-in, fields removed, items
replaced by odd values, repeated or multiplied items, lists where objects belong and back, truncated
or corrupted JSON; downloads truncated, corrupted, empty, HTML, a zip of junk, a bare FIT file;
odd statuses.

Every case is one ``sync_athlete`` run (its cursor rows cleared before, so the downloads are asked
for again). What must hold, whatever the server says: no exception escapes and none ends the run
through the sync's catch-all (an odd value is a skip with a reason or a clear one-line failure,
never ``SomeError: ...``); the run ends in bounded time with status complete / paused / failed and
is recorded in ``ops.garmin_sync_state``; its message and skips are single lines of at most 500
characters holding no secret (the tokens, the password).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import random
import re
import time
import traceback
import zipfile
from pathlib import Path
from typing import Any

from runlift.connectors.garmin.client import sign_in
from runlift.connectors.garmin.tokens import GarminTokenStore
from runlift.flows.garmin_sync import make_client, sync_athlete
from runlift.flows.settings import load_settings
from runlift.standins.config import write_settings
from runlift.standins.fit_writer import season_fit_files
from runlift.standins.garmin_emulator import (
    DOWNLOAD_PREFIX,
    LIST_PATH,
    WEIGHT_PREFIX,
    GarminEmulator,
    synthetic_weigh_ins,
)
from runlift.standins.season import synthetic_season
from runlift.warehouse import db as wdb

from hostile_http import HostileServer, Reply, Request
from strava_fuzz import Outcome, encode, message_problems, mutate_dict, mutate_list, odd, run_cases

PASSWORD = "fuzz-garmin-password-5d1c"
CASE_SECONDS = 20.0  # a case taking longer counts as a hang (timeout_s is 1 s, retries 0)
END = dt.date(2026, 3, 1)
ACTIVITY_FIELDS = ["activityId", "activityName", "startTimeGMT", "activityType", "duration", "manualActivity"]
METRIC_FIELDS = ["samplePk", "calendarDate", "timestampGMT", "date", "weight", "bmi", "bodyFat", "bodyWater",
                 "boneMass", "muscleMass", "sourceType"]


def _mutate_activity(rng: random.Random, item: Any) -> Any:
    if not isinstance(item, dict):
        return odd(rng)
    if rng.random() < 0.2:
        item["activityType"] = rng.choice([odd(rng), {"typeKey": odd(rng)}])
    else:
        mutate_dict(rng, item, ACTIVITY_FIELDS, "newFieldFromGarmin")
    return item


def mutate_weigh_ins(rng: random.Random, body: Any) -> Any:
    body = json.loads(json.dumps(body))
    days = body.get("dailyWeightSummaries") if isinstance(body, dict) else None
    r = rng.random()
    if not isinstance(days, list) or not days or r < 0.1:
        return rng.choice([{}, {"dailyWeightSummaries": odd(rng)}, [], odd(rng)])
    day = days[rng.randrange(len(days))]
    metrics = day.get("allWeightMetrics") if isinstance(day, dict) else None
    if r < 0.25 or not isinstance(metrics, list) or not metrics:
        days[rng.randrange(len(days))] = rng.choice([odd(rng), {"allWeightMetrics": odd(rng)}])
    elif r < 0.85:
        m = metrics[rng.randrange(len(metrics))]
        if isinstance(m, dict):
            mutate_dict(rng, m, METRIC_FIELDS, "newFieldFromGarmin")
    else:
        metrics.append(json.loads(json.dumps(metrics[0])))  # the same sample twice
    return body


def mutate_download(rng: random.Random, data: bytes) -> bytes:
    r = rng.random()
    if r < 0.2 and data:
        return data[: rng.randrange(len(data))]
    if r < 0.4 and data:
        b = bytearray(data)
        for _ in range(rng.randint(1, 16)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        return bytes(b)
    if r < 0.5:
        return b""
    if r < 0.6:
        return b"<!DOCTYPE html><html><body>Sign in to Garmin Connect</body></html>"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        if r < 0.75:
            z.writestr("junk.fit", bytes(rng.randrange(256) for _ in range(rng.randint(0, 300))))
        elif r < 0.85:
            z.writestr("../../escape.fit", data[:200])
            z.writestr("notes.txt", "not a FIT file")
        else:
            z.writestr("a.fit", data)
            z.writestr("b.fit", data)  # the same activity twice in one download
    return buf.getvalue()


class GarminFuzzer:
    """One hostile server in front of an in-process emulator, one warehouse, many cases."""

    def __init__(self, workdir: Path, seed: int) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        season = synthetic_season(END, weeks=3, seed=seed % 1000)
        self.emu = GarminEmulator(season_fit_files(season), synthetic_weigh_ins(END - dt.timedelta(weeks=3), END),
                                  password=PASSWORD)
        self.case: dict[str, Any] = {}
        self.server = HostileServer(self.answer)
        workdir.mkdir(parents=True, exist_ok=True)
        self.cfg = write_settings(workdir, athlete="me", timezone="America/Denver", tables={"garmin": {
            "base_url": self.server.base_url, "pace_s": 0, "page_size": 4, "retries": 0, "timeout_s": 1.0}})
        self.settings = load_settings(self.cfg, env={"RUNLIFT_HOME": str(workdir / "home")})

    def __enter__(self) -> GarminFuzzer:
        self.server.start()
        tokens = sign_in(self.server.base_url, self.emu.email, PASSWORD, lambda: "")
        GarminTokenStore(self.settings.garmin_token_file("me")).save(tokens)
        self.secrets = [PASSWORD, tokens.di_token, *([tokens.di_refresh_token] if tokens.di_refresh_token else [])]
        self.con = wdb.connect(self.settings.db_path)
        return self

    def __exit__(self, *exc: object) -> None:
        self.con.close()
        self.server.stop()

    def answer(self, req: Request) -> Reply:
        c, rng = self.case, self.rng
        if req.method == "GET" and rng.random() < c.get("status_odds", 0.0):
            status = rng.choice([400, 401, 403, 404, 418, 429, 500, 503])
            return Reply(status, json.dumps({"message": f"odd {req.headers.get('authorization', '')}"}).encode())
        headers = {k.title(): v for k, v in req.headers.items()}  # (the hostile server keeps names lower-case)
        status, content_type, body = self.emu.answer(req.method, req.path, req.query, headers, req.body)
        if status != 200 or req.method != "GET" or rng.random() >= c.get("mutate_odds", 0.0):
            return Reply(status, body, content_type=content_type)
        if req.path.startswith(DOWNLOAD_PREFIX):
            return Reply(status, mutate_download(rng, body), content_type=content_type)
        value = json.loads(body)
        if req.path == LIST_PATH:
            value = mutate_list(rng, value, _mutate_activity)
        elif req.path.startswith(WEIGHT_PREFIX):
            value = mutate_weigh_ins(rng, value)
        data = encode(rng, value) if rng.random() < c.get("bytes_odds", 0.0) else json.dumps(value).encode()
        return Reply(status, data, content_type=content_type)

    def run_case(self) -> tuple[str, float, str | None]:
        """One case: (status, seconds, crash description or None)."""
        rng = self.rng
        self.case = {"mutate_odds": rng.choice([0.3, 0.7, 1.0]), "bytes_odds": rng.choice([0.0, 0.0, 0.1]),
                     "status_odds": rng.choice([0.0, 0.0, 0.05])}
        self.con.execute("DELETE FROM ops.garmin_activities WHERE athlete_id = 'me'")  # fetch everything again
        self.con.execute("UPDATE ops.garmin_sync_state SET high_water_start_utc = NULL, weigh_ins_through = NULL")
        t0 = time.monotonic()
        try:
            with make_client(self.settings, "me", warn=lambda s: None) as client:
                result = sync_athlete(self.con, client, self.settings, "me", today=END)
                secrets = [*self.secrets, *client.secrets()]  # the tokens a refresh gave too
        except Exception:
            return "crash", time.monotonic() - t0, traceback.format_exc(limit=6)
        took = time.monotonic() - t0
        problems = []
        if result.status not in ("complete", "paused", "failed"):
            problems.append(f"status {result.status!r}")
        recorded = self.con.execute("SELECT last_status FROM ops.garmin_sync_state WHERE athlete_id = 'me'").fetchone()
        if recorded is None or recorded[0] != result.status:
            problems.append(f"ops.garmin_sync_state says {recorded}, the run {result.status}")
        if re.match(r"\w+(Error|Exception): ", result.message or ""):  # the catch-all: nothing foresaw it
            problems.append(f"an unforeseen exception ended the run: {result.message[:200]}")
        problems += message_problems([result.message or "", *result.skipped, *result.lines()], secrets)
        if took > CASE_SECONDS:
            problems.append(f"took {took:.1f} s")
        return result.status, took, ("; ".join(problems) + f" (case {self.case!r:.300})") if problems else None

    def run(self, cases: int) -> Outcome:
        return run_cases(self.run_case, self.seed, cases)
