"""A local Garmin Connect emulator: the few endpoints runlift's Garmin connector uses, over real HTTP
on 127.0.0.1, serving a folder of FIT files as an account (tests, the demo, trying things by hand).

* ``POST /sso/signin`` (the sign-in stand-in: the real sign-in is the garminconnect library's, which
  cannot be pointed here): JSON ``{email, password[, mfa_code]}``; ``{"mfa_required": true}`` when an
  MFA code is set and not given; else tokens like the library keeps (``di_token``, ...).
* ``POST /di-oauth2-service/oauth/token`` (``grant_type=refresh_token``): a new access token.
* ``GET /activitylist-service/activities/search/activities`` (``start``, ``limit``, ``startDate``,
  ``endDate``): newest first, pages by offset.
* ``GET /download-service/files/activity/{id}``: the original file, zipped as Garmin serves it.
* ``GET /weight-service/weight/range/{start}/{end}``: weigh-ins (grams, epoch milliseconds).

On demand (methods, or ``POST /_emulator/...``): ``expire_tokens()`` (every access token answers
401 until refreshed), ``rate_limit_after(n)`` (429 from the n+1-th data call on), ``challenge(True)``
(a 403 HTML page, as a captcha or browser check looks), ``delay_s`` before every data answer.
It never logs a token or a password.

Run it by hand: ``runlift garmin emulator --activities DIR`` (``python -m runlift.standins.garmin_emulator``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import secrets
import sys
import threading
import time
import zipfile
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from runlift.standins.served import ServedEmulator, serve_until_interrupted

__all__ = ["GarminEmulator", "main", "synthetic_weigh_ins"]

LIST_PATH = "/activitylist-service/activities/search/activities"
DOWNLOAD_PREFIX = "/download-service/files/activity/"
WEIGHT_PREFIX = "/weight-service/weight/range/"
TYPE_KEYS = {"running": "running", "training": "strength_training", "cycling": "cycling", "walking": "walking",
             "swimming": "lap_swimming", "fitness_equipment": "indoor_cardio"}
CHALLENGE_PAGE = (b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>Please complete the "
                  b"security check (captcha challenge) to access Garmin Connect.</body></html>")


def describe(name: str, data: bytes) -> dict[str, Any] | None:
    """The activity-list entry of a FIT activity file (None: not an activity, e.g. a scale file)."""
    from runlift.connectors.fit.decode import default_decoder

    decoded = default_decoder().decode(data)
    if not decoded.sessions or decoded.sessions[0].get("start_time_utc") is None:
        return None
    session = decoded.sessions[0]
    start: dt.datetime = session["start_time_utc"]
    sport = str(session.get("sport") or "generic")
    sha = hashlib.sha256(data).hexdigest()
    return {
        "activityId": 10_000_000_000 + int(sha[:12], 16) % 9_000_000_000,
        "activityName": Path(name).stem[:80],
        "startTimeGMT": start.strftime("%Y-%m-%d %H:%M:%S"),
        "activityType": {"typeKey": TYPE_KEYS.get(sport, sport)},
        "duration": session.get("total_elapsed_time_s"),
        "manualActivity": False,
    }


def synthetic_weigh_ins(first: dt.date, last: dt.date, *, kg: float = 68.0, every_days: int = 7,
                        seed: int = 7) -> list[dict[str, Any]]:
    """A weigh-in every ``every_days`` days around ``kg``, as Garmin's weight-service sends them."""
    out = []
    day, n = first, 0
    while day <= last:
        wobble = ((int(hashlib.sha256(f"{seed}-{n}".encode()).hexdigest()[:4], 16) % 21) - 10) / 10  # ±1 kg
        at = dt.datetime.combine(day, dt.time(13, 15), dt.UTC)  # 07:15 in the Rockies (the demo athlete)
        out.append({"samplePk": 1_700_000_000_000 + n, "calendarDate": day.isoformat(),
                    "timestampGMT": int(at.timestamp() * 1000), "date": int(at.timestamp() * 1000),
                    "weight": round((kg + wobble) * 1000), "bmi": None, "bodyFat": 21.5, "bodyWater": 55.0,
                    "boneMass": 2900, "muscleMass": 27000, "sourceType": "INDEX_SCALE"})
        day += dt.timedelta(days=every_days)
        n += 1
    return out


class GarminEmulator(ServedEmulator):
    """The account: FIT files as activities, weigh-ins, one user."""

    thread_name = "garmin-emulator"

    def __init__(self, files: Iterable[tuple[str, bytes]] = (), weigh_ins: Iterable[dict[str, Any]] = (), *,
                 email: str = "athlete@example.com", password: str = "emulator-password",
                 mfa_code: str | None = None, delay_s: float = 0.0, host: str = "127.0.0.1", port: int = 0) -> None:
        self.email, self.password, self.mfa_code = email, password, mfa_code
        self.delay_s = delay_s
        self._lock = threading.Lock()
        self.serve_on(host, port)
        self._activities: dict[int, dict[str, Any]] = {}
        self._files: dict[int, tuple[str, bytes]] = {}
        self.weigh_ins = list(weigh_ins)
        self._access: set[str] = set()
        self._refresh: set[str] = set()
        self._calls = 0
        self._limit_after: int | None = None
        self._challenge = False
        self.log: list[tuple[str, str, int]] = []  # (method, path without query, status): no tokens in it
        for name, data in files:
            self.add_file(name, data)

    # --- the account ---------------------------------------------------------------------------------
    def add_file(self, name: str, data: bytes) -> int | None:
        entry = describe(name, data)
        if entry is None:
            return None
        with self._lock:
            self._activities[entry["activityId"]] = entry
            self._files[entry["activityId"]] = (name, data)
        return int(entry["activityId"])

    @classmethod
    def from_folder(cls, folder: Path, **kwargs: Any) -> GarminEmulator:
        files = [(p.name, p.read_bytes()) for p in sorted(folder.rglob("*")) if p.suffix.lower() == ".fit"]
        return cls(files, **kwargs)

    @property
    def activity_ids(self) -> list[int]:
        return sorted(self._activities)

    # --- on demand -----------------------------------------------------------------------------------
    def issue_tokens(self) -> dict[str, str]:
        """A fresh set of tokens, as a sign-in gives (and the library's token file holds)."""
        access, refresh = "emu-access-" + secrets.token_hex(16), "emu-refresh-" + secrets.token_hex(16)
        with self._lock:
            self._access.add(access)
            self._refresh.add(refresh)
        return {"di_token": access, "di_refresh_token": refresh, "di_client_id": "GARMIN_CONNECT_MOBILE_ANDROID_DI"}

    def expire_tokens(self, refresh_too: bool = False) -> None:
        with self._lock:
            self._access.clear()
            if refresh_too:
                self._refresh.clear()

    def rate_limit_after(self, calls: int | None) -> None:
        """429 from the ``calls``+1-th data call on (None: no limit); counted from now."""
        with self._lock:
            self._calls, self._limit_after = 0, calls

    def challenge(self, on: bool = True) -> None:
        self._challenge = on

    # --- the server (runlift.standins.served: start / stop / base_url / with) ---------------------

    def handler_class(self) -> type[_Handler]:
        return _Handler

    # --- answers -------------------------------------------------------------------------------------
    def answer(self, method: str, path: str, query: dict[str, str], headers: Any,
               body: bytes) -> tuple[int, str, bytes]:
        """(status, content type, body) of one request."""
        if path.startswith("/_emulator/") and method == "POST":
            return self._control(path.removeprefix("/_emulator/"), query)
        if path == "/sso/signin" and method == "POST":
            return self._sign_in(body)
        if path == "/di-oauth2-service/oauth/token" and method == "POST":
            return self._token(dict(parse_qsl(body.decode("utf-8", "replace"))))
        if method != "GET":
            return _json(405, {"message": "Method Not Allowed"})
        if self._challenge:
            return 403, "text/html; charset=utf-8", CHALLENGE_PAGE
        with self._lock:
            self._calls += 1
            limited = self._limit_after is not None and self._calls > self._limit_after
            authorized = headers.get("Authorization", "").removeprefix("Bearer ") in self._access
        if limited:
            return _json(429, {"message": "Too Many Requests"})
        if not authorized:
            return _json(401, {"message": "Unauthorized"})
        if self.delay_s:
            time.sleep(self.delay_s)
        if path == LIST_PATH:
            return _json(200, self._list(query))
        if path.startswith(DOWNLOAD_PREFIX):
            return self._download(path.removeprefix(DOWNLOAD_PREFIX))
        if path.startswith(WEIGHT_PREFIX):
            parts = path.removeprefix(WEIGHT_PREFIX).split("/")
            if len(parts) == 2:
                return _json(200, self._weigh_ins(parts[0], parts[1]))
        return _json(404, {"message": "Not Found"})

    def _control(self, what: str, query: dict[str, str]) -> tuple[int, str, bytes]:
        if what == "expire":
            self.expire_tokens(query.get("refresh") == "1")
        elif what == "rate_limit":
            self.rate_limit_after(int(query["after"]) if query.get("after") else None)
        elif what == "challenge":
            self.challenge(query.get("on", "1") == "1")
        elif what == "delay":
            self.delay_s = float(query.get("s", "0"))
        else:
            return _json(404, {"message": "Not Found"})
        return _json(200, {"ok": True})

    def _sign_in(self, body: bytes) -> tuple[int, str, bytes]:
        try:
            form = json.loads(body or b"{}")
        except ValueError:
            form = {}
        if not isinstance(form, dict) or (form.get("email"), form.get("password")) != (self.email, self.password):
            return _json(401, {"message": "Invalid username or password"})
        if self.mfa_code is not None and form.get("mfa_code") != self.mfa_code:
            if form.get("mfa_code") is None:
                return _json(200, {"mfa_required": True})
            return _json(401, {"message": "Invalid MFA code"})
        return _json(200, self.issue_tokens())

    def _token(self, form: dict[str, str]) -> tuple[int, str, bytes]:
        with self._lock:
            if form.get("grant_type") != "refresh_token" or form.get("refresh_token") not in self._refresh:
                return _json(401, {"error": "invalid_grant"})
            access = "emu-access-" + secrets.token_hex(16)
            self._access.add(access)
        return _json(200, {"access_token": access, "token_type": "Bearer", "expires_in": 3600})

    def _list(self, query: dict[str, str]) -> list[dict[str, Any]]:
        start, limit = int(query.get("start", "0")), min(int(query.get("limit", "20")), 1000)
        first, last = query.get("startDate", ""), query.get("endDate", "9999")
        chosen = [a for a in self._activities.values() if first <= a["startTimeGMT"][:10] <= last]
        chosen.sort(key=lambda a: a["startTimeGMT"], reverse=True)
        return chosen[start:start + limit]

    def _download(self, ident: str) -> tuple[int, str, bytes]:
        try:
            name, data = self._files[int(ident)]
        except (ValueError, KeyError):
            return _json(404, {"message": "Not Found"})
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(f"{ident}_ACTIVITY.fit", data)
        return 200, "application/x-zip-compressed", out.getvalue()

    def _weigh_ins(self, first: str, last: str) -> dict[str, Any]:
        days: dict[str, list[dict[str, Any]]] = {}
        for w in self.weigh_ins:
            if first <= w["calendarDate"] <= last:
                days.setdefault(w["calendarDate"], []).append(w)
        return {"dailyWeightSummaries": [{"summaryDate": d, "allWeightMetrics": ms} for d, ms in sorted(days.items())],
                "totalAverage": {}}


def _json(status: int, body: Any) -> tuple[int, str, bytes]:
    return status, "application/json;charset=UTF-8", json.dumps(body).encode()


class _Handler(BaseHTTPRequestHandler):
    emulator: GarminEmulator
    protocol_version = "HTTP/1.1"
    server_version = "GarminConnectEmulator/1.0"
    timeout = 60

    def log_message(self, format: str, *args: Any) -> None:  # never log (headers carry tokens)
        pass

    def _handle(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        try:
            status, kind, payload = self.emulator.answer(self.command, split.path, dict(parse_qsl(split.query)),
                                                         self.headers, body)
        except Exception as exc:  # a bug in the emulator must not look like a dropped connection
            status, kind, payload = _json(500, {"message": f"Emulator Error: {type(exc).__name__}"})
        self.emulator.log.append((self.command, split.path, status))
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _handle


def main(argv: list[str] | None = None, prog: str = "python -m runlift.standins.garmin_emulator") -> int:
    """The command line; ``runlift garmin emulator`` calls it with its own name as ``prog``."""
    parser = argparse.ArgumentParser(prog=prog, description="Serve a folder of FIT files as a local Garmin Connect "
                                     "account (activity list, original downloads, weigh-ins).")
    parser.add_argument("--activities", type=Path, required=True, help="folder of .fit files (searched recursively)")
    parser.add_argument("--weigh-ins", type=float, default=None, metavar="KG",
                        help="also serve a weekly weigh-in around KG kilograms over the activities' weeks")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8766, help="port (0: any free one; default 8766)")
    parser.add_argument("--email", default="athlete@example.com")
    parser.add_argument("--password", default="emulator-password")
    parser.add_argument("--mfa-code", default=None, help="ask for this MFA code at sign-in")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before every data answer")
    parser.add_argument("--rate-limit-after", type=int, default=None, help="answer 429 after this many data calls")
    parser.add_argument("--challenge", action="store_true", help="answer every data call with a sign-in challenge")
    args = parser.parse_args(argv)
    if not args.activities.is_dir():
        parser.error(f"--activities {args.activities}: no such folder")
    emulator = GarminEmulator.from_folder(args.activities, email=args.email, password=args.password,
                                          mfa_code=args.mfa_code, delay_s=args.delay, host=args.host, port=args.port)
    if args.weigh_ins is not None and emulator.activity_ids:
        starts = [dt.date.fromisoformat(a["startTimeGMT"][:10]) for a in emulator._activities.values()]
        emulator.weigh_ins = synthetic_weigh_ins(min(starts), max(starts), kg=args.weigh_ins)
    emulator.rate_limit_after(args.rate_limit_after)
    emulator.challenge(args.challenge)
    base_url = emulator.start()
    print(f"Garmin Connect emulator: {base_url}  ({len(emulator.activity_ids)} activities, "
          f"{len(emulator.weigh_ins)} weigh-ins)")
    print(f"sign in with RUNLIFT_GARMIN_BASE_URL={base_url} runlift garmin auth  (email {args.email}; "
          "password: the default unless given)")
    return serve_until_interrupted(emulator.stop)


if __name__ == "__main__":
    sys.exit(main())
