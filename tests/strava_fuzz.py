"""A seeded mutator over Strava answers (activity pages, token answers, streams, details, rate-limit
headers), run against the real client and loader through tests/hostile_http.py into a real DuckDB
file. Used by tests/test_strava_fuzz.py (a small fixed budget) and bench/fuzz_strava.py (longer).

Every case is one ``sync_athlete`` run. What must hold, whatever the server says: no exception
escapes, the run ends in bounded time with status complete / paused / failed, a row reaches
``ops.strava_sync_runs``, its message is one line of at most 500 characters and holds no secret.
"""

from __future__ import annotations

import json
import os
import random
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runlift.flows.settings import load_settings
from runlift.flows.strava_sync import make_client, sync_athlete
from runlift.standins.config import write_settings
from runlift.warehouse import db as wdb

from hostile_http import FakeStrava, HostileServer, Reply, Request, activity, json_reply

SECRET = "fuzz-client-secret-5f2e1c0d9b8a7"
CASE_SECONDS = 15.0  # a case taking longer counts as a hang (timeout_s is 1 s, retries 0)


def _deep(n: int) -> Any:
    v: Any = 1
    for _ in range(n):
        v = [v]
    return v


ODD: list[Any] = [
    "inf", "-inf", "nan", "NaN", 2**70, -2**70, 2**63, 2**63 - 1, -1, 0, 1e30, -1e308, 5e-324, float("inf"),
    float("-inf"), float("nan"), None, True, False, "", " ", "x" * 5000, "\ud800", "a\x00b", "\u202eevil", [], {},
    [1, 2], {"a": {"b": [None]}}, "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "2026-02-30T00:00:00Z",
    "2026-01-01T00:00:00-14:00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "1e999", 3.5, "12",
    _deep(60), "Bearer abcdef0123456789abcdef0123456789abcdef01", "\n\r\x1b[2J", "🏃" * 50,
]
FIELDS = ["id", "athlete", "name", "sport_type", "type", "start_date", "start_date_local", "timezone", "utc_offset",
          "distance", "moving_time", "elapsed_time", "total_elevation_gain", "average_speed", "max_speed",
          "average_cadence", "average_heartrate", "max_heartrate", "upload_id", "external_id", "manual",
          "trainer", "commute", "calories", "device_name", "map"]
HEADER_VALUES = ["99999999999,99999999999999999999", "-5,abc", "1,2,3", "", "100", "1e3,2e3", "٣,٣", " 10 , 20 ",
                 "200,2000", "0,0", "600,30000", "18446744073709551616,1", "x" * 300]


def odd(rng: random.Random) -> Any:
    return rng.choice(ODD)


def mutate_dict(rng: random.Random, d: dict[str, Any], fields: list[str], new_field: str) -> None:
    """One change to an answer's object: an odd value in one of ``fields``, one of them removed, or an
    unknown field (``new_field`` among others) with an odd value. Used by the Hevy and Garmin fuzzers."""
    r = rng.random()
    if r < 0.6:
        d[rng.choice(fields)] = odd(rng)
    elif r < 0.85:
        d.pop(rng.choice(fields), None)
    else:
        d[rng.choice(["x", "💥", "", new_field])] = odd(rng)


def mutate_list(rng: random.Random, items: list[Any], mutate_item: Callable[[random.Random, Any], Any]) -> Any:
    """A mutated list of an answer's items (usually still a list; sometimes not): 1 to 3 times, an
    item changed by ``mutate_item`` (which returns it), replaced by an odd value, repeated, the whole
    answer replaced by a non-list, or the list multiplied. Used by the Hevy and Garmin fuzzers."""
    items = json.loads(json.dumps(items))
    for _ in range(rng.randint(1, 3)):
        if not items:
            items.append(odd(rng))
        i = rng.randrange(len(items))
        op = rng.random()
        if op < 0.6:
            items[i] = mutate_item(rng, items[i])
        elif op < 0.7:
            items[i] = odd(rng)
        elif op < 0.8:
            items.insert(rng.randrange(len(items) + 1), json.loads(json.dumps(items[i])))
        elif op < 0.9:
            return rng.choice([{}, {"error": odd(rng)}, "x", 3, None, odd(rng)])
        else:
            items = items * rng.randint(2, 5)
    return items


def mutate_activities(rng: random.Random, base: list[dict[str, Any]]) -> Any:
    """A mutated activity page (usually still a list; sometimes not)."""
    page: list[Any] = [dict(a) for a in base]
    for _ in range(rng.randint(1, 4)):
        op = rng.random()
        if not page:
            page.append(odd(rng))
        i = rng.randrange(len(page))
        a = page[i]
        if op < 0.45 and isinstance(a, dict):
            a[rng.choice(FIELDS)] = odd(rng)
        elif op < 0.55 and isinstance(a, dict):
            a.pop(rng.choice(FIELDS), None)
        elif op < 0.65:
            page[i] = odd(rng)
        elif op < 0.72:
            page.insert(rng.randrange(len(page) + 1), json.loads(json.dumps(a)) if isinstance(a, dict) else a)
        elif op < 0.80 and isinstance(a, dict):
            a[rng.choice(["x", "segment_efforts", "💥", ""])] = odd(rng)
        elif op < 0.85 and isinstance(a, dict):
            a["athlete"] = {"id": odd(rng)}
        elif op < 0.90:
            return rng.choice([{}, {"errors": odd(rng)}, "x", 3, None, odd(rng), _deep(rng.choice([10, 3000]))])
        else:
            page = page * rng.randint(2, 40)  # repeated activities, pages up to and beyond 200
    return page


def encode(rng: random.Random, body: Any) -> bytes:
    """JSON bytes of ``body`` (NaN/Infinity literals allowed), sometimes corrupted at byte level."""
    try:
        data = json.dumps(body).encode()
    except (ValueError, RecursionError):
        data = b"[" * 5000
    r = rng.random()
    if r < 0.06 and data:
        data = data[: rng.randrange(len(data))]  # truncated
    elif r < 0.12 and data:
        b = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        data = bytes(b)
    elif r < 0.14:
        data = b"<html><body>502 Bad Gateway</body></html>"
    return data


def mutate_token(rng: random.Random, good: dict[str, Any]) -> dict[str, Any] | Any:
    body: Any = dict(good)
    for _ in range(rng.randint(1, 3)):
        r = rng.random()
        if r < 0.6:
            key = rng.choice(["access_token", "refresh_token", "expires_at", "athlete", "scope", "expires_in"])
            body[key] = odd(rng)
        elif r < 0.8:
            body.pop(rng.choice(["access_token", "refresh_token", "expires_at"]), None)
        else:
            return odd(rng)
    return body


@dataclass
class Outcome:
    cases: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    crashes: list[str] = field(default_factory=list)
    slowest_s: float = 0.0


def run_cases(run_case: Callable[[], tuple[str, float, str | None]], seed: int, cases: int | None = None,
              seconds: float | None = None) -> Outcome:
    """``run_case`` again and again (``cases`` times, or for ``seconds``): the tally of its endings."""
    out = Outcome()
    t_end = time.monotonic() + seconds if seconds else None
    while (cases is None or out.cases < cases) and (t_end is None or time.monotonic() < t_end):
        status, took, crash = run_case()
        out.cases += 1
        out.statuses[status] = out.statuses.get(status, 0) + 1
        out.slowest_s = max(out.slowest_s, took)
        if crash:
            out.crashes.append(f"seed {seed} case {out.cases}: {crash}")
    return out


def message_problems(texts: list[str], secrets: list[str]) -> list[str]:
    """What is wrong with a run's messages: several lines, more than 500 characters, a secret."""
    problems = []
    if any("\n" in t or len(t) > 500 for t in texts):
        problems.append("a message longer than 500 characters or on several lines")
    if any(s in t for s in secrets for t in texts):
        problems.append("a secret in a message")
    return problems


class StravaFuzzer:
    """One hostile server, one warehouse, many cases. Use as a context manager."""

    def __init__(self, workdir: Path, seed: int) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.workdir = workdir
        self.now = int(time.time())
        self.base = [activity(i, self.now - (60 - i) * 86400) for i in range(1, 9)]
        self.fake = FakeStrava(list(self.base))
        self.case: dict[str, Any] = {}
        self.server = HostileServer(self.answer)
        workdir.mkdir(parents=True, exist_ok=True)
        cfg = write_settings(workdir, strava={"client_id": "12345", "client_secret": SECRET,
                                              "base_url": self.server.base_url, "retries": 0, "timeout_s": 1.0,
                                              "fetch_details": True})
        self.settings = load_settings(cfg, env={})
        self.token_file = self.settings.token_file("me")

    def __enter__(self) -> StravaFuzzer:
        self._env = os.environ.get("STRAVA_REFRESH_TOKEN")
        os.environ["STRAVA_REFRESH_TOKEN"] = self.fake.refresh_token  # restored on exit
        self.server.start()
        self.con = wdb.connect(self.settings.db_path)
        return self

    def __exit__(self, *exc: object) -> None:
        self.con.close()
        self.server.stop()
        if self._env is None:
            os.environ.pop("STRAVA_REFRESH_TOKEN", None)
        else:
            os.environ["STRAVA_REFRESH_TOKEN"] = self._env

    # the server side of a case
    def answer(self, req: Request) -> Reply:
        c = self.case
        if req.path == "/oauth/token":
            good = self.fake.good_token(req)
            if not c.get("token"):
                return good
            body = mutate_token(self.rng, json.loads(good.body))
            return Reply(c.get("token_status", 200), encode(self.rng, body))
        headers = c.get("headers") or self.fake.headers
        if req.path == "/api/v3/athlete/activities":
            if c.get("page_status", 200) != 200:
                return json_reply({"message": "odd", "errors": [{"resource": "Activity", "field": req.body.decode(),
                                                                  "code": req.headers.get("authorization", "")}]},
                                  c["page_status"], headers)
            return Reply(200, encode(self.rng, c["page"]), list(headers))
        if req.path.endswith("/streams"):
            n = self.rng.randint(0, 50)
            streams = {"time": {"data": list(range(n)), "series_type": "time", "original_size": n,
                                "resolution": "high"},
                       "heartrate": {"data": [self.rng.choice([140, 150.5, None, odd(self.rng)]) for _ in range(n)]},
                       "latlng": {"data": [[40.0, -105.0], odd(self.rng)]}}
            if self.rng.random() < 0.5:
                key = self.rng.choice(list(streams))
                streams[key][self.rng.choice(["data", "series_type", "original_size", "resolution"])] = odd(self.rng)
            if self.rng.random() < 0.1:
                streams = self.rng.choice([[{"type": odd(self.rng), "data": [1]}], odd(self.rng), {"x": odd(self.rng)}])
            return Reply(self.rng.choice([200] * 16 + [404, 404, 404, 500]), encode(self.rng, streams), list(headers))
        if req.path.startswith("/api/v3/activities/"):
            detail = dict(self.rng.choice(self.base))
            detail[self.rng.choice(FIELDS)] = odd(self.rng)
            data = encode(self.rng, detail) if self.rng.random() < 0.2 else json.dumps(detail).encode()
            return Reply(self.rng.choice([200] * 8 + [404]), data, list(headers))
        return json_reply({"message": "Record Not Found"}, 404)

    def secrets(self) -> list[str]:
        return [SECRET, self.fake.refresh_token, *self.fake.access_tokens]

    def run_case(self) -> tuple[str, float, str | None]:
        """One case: (status, seconds, crash description or None)."""
        rng = self.rng
        self.case = {
            "page": mutate_activities(rng, self.base),
            "headers": ([(rng.choice(["X-RateLimit-Limit", "X-RateLimit-Usage", "X-ReadRateLimit-Limit",
                                      "X-ReadRateLimit-Usage"]), rng.choice(HEADER_VALUES))
                         for _ in range(rng.randint(1, 4))] if rng.random() < 0.3 else None),
            "token": rng.random() < 0.25,
            "token_status": rng.choice([200, 200, 200, 400, 401, 403, 500]),
            "page_status": rng.choice([200] * 50 + [302, 400, 401, 403, 404, 418, 429, 500]),
        }
        if self.case["token"] or rng.random() < 0.1:
            self.token_file.unlink(missing_ok=True)  # the next call refreshes with the (maybe odd) answer
        self.con.execute("DELETE FROM ops.strava_rate_limit")  # a spent budget would make every later case a pause
        before = self.con.execute("SELECT count(*) FROM ops.strava_sync_runs").fetchone()[0]
        t0 = time.monotonic()
        try:
            with make_client(self.settings, "me", sleep=lambda s: None, warn=lambda m: None) as client:
                result = sync_athlete(self.con, client, self.settings.strava, "me", full=rng.random() < 0.5)
        except Exception:
            return "crash", time.monotonic() - t0, traceback.format_exc(limit=6)
        took = time.monotonic() - t0
        problems = []
        if result.status not in ("complete", "paused", "failed"):
            problems.append(f"status {result.status!r}")
        after = self.con.execute("SELECT count(*) FROM ops.strava_sync_runs").fetchone()[0]
        if after != before + 1:
            problems.append("no row in ops.strava_sync_runs")
        problems += message_problems([result.message, *result.skipped_payloads], self.secrets())
        if took > CASE_SECONDS:
            problems.append(f"took {took:.1f} s")
        return result.status, took, ("; ".join(problems) + f" (case {self.case!r:.300})") if problems else None

    def run(self, cases: int | None = None, seconds: float | None = None) -> Outcome:
        return run_cases(self.run_case, self.seed, cases, seconds)
