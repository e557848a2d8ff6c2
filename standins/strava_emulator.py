"""A faithful local Strava API v3 emulator: a real HTTP server on 127.0.0.1 for tests, benchmarks and the demo.

What it does like the live API (see ``shared/strava/README.md``):

* OAuth: ``GET /oauth/authorize`` approves at once (302 to ``redirect_uri`` with ``code``, ``state``
  and ``scope``); ``POST /oauth/token`` exchanges a code or a refresh token (form-encoded or JSON).
  Refresh tokens rotate: each refresh returns a new one and the old one stops working. Access
  tokens expire after ``access_token_ttl_s`` by the emulator's clock.
* ``GET /api/v3/athlete``, ``/athlete/activities`` (``before``/``after``/``page``/``per_page``; newest
  first, oldest first when only ``after`` is given), ``/activities/{id}`` and
  ``/activities/{id}/streams`` (404 for manual activities), ``/gear/{id}`` (a DetailedGear of the
  season's shoes, or any set with ``set_gear``; its ``distance`` is the total of the emulator's
  activities carrying that ``gear_id``, as Strava counts it; 404 for an unknown id).
* Every ``/api/v3`` answer carries ``X-RateLimit-Limit``/``-Usage`` and ``X-ReadRateLimit-Limit``/``-Usage``;
  windows reset at multiples of ``window_s`` and ``day_s`` since the epoch; past a limit: 429 (which
  still counts). ``set_inactive(True)``: every call answers 403 ``Application/Status/Inactive``.
* Failure injection: ``fail_next(n, status)``, ``drop_next(n)`` (the connection closes unanswered).
* Many athletes on one application (a coach's squad): ``add_athlete`` gives another athlete its own
  activities and refresh token; every token sees only its own athlete's ``/athlete`` and
  activities, while the rate limits are the application's, shared by every athlete's token, as on
  Strava. ``window_counts()`` keeps every short window's count of API calls (and of 429s) for
  checks that the shared budget was never exceeded. ``squad_emulator`` (below)
  builds one with N athletes.

It binds 127.0.0.1 only (unless told otherwise), never reaches the network, and never logs a token
or a secret (``request_log`` keeps paths with secret-looking query values redacted).

Run it by hand: ``python -m runlift.standins.strava_emulator --port 8765`` (or ``runlift strava emulator``).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import secrets
import socket
import sys
import threading
import time
from collections.abc import Callable
from datetime import date, datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

from runlift.standins.season import (
    SHOES,
    _legacy_type,
    default_athlete,
    gear_detail,
    streams_for,
    summary_athlete,
    summary_of,
    synthetic_season,
)
from runlift.standins.served import ServedEmulator, TrackedHandler, serve_until_interrupted

if TYPE_CHECKING:
    from runlift.standins.squad import SquadAthlete

__all__ = ["StravaEmulator", "main", "squad_emulator"]

SECRET_PARAMS = {"client_secret", "refresh_token", "code", "access_token"}
GRANTED_SCOPE = "read,activity:read_all"


def _error(message: str, resource: str, field: str, code: str) -> dict[str, Any]:
    return {"message": message, "errors": [{"resource": resource, "field": field, "code": code}]}


AUTH_ERROR = _error("Authorization Error", "Athlete", "access_token", "invalid")
RATE_ERROR = _error("Rate Limit Exceeded", "Application", "rate limit", "exceeded")
INACTIVE_ERROR = _error("Forbidden", "Application", "Status", "Inactive")


def _not_found(resource: str = "Activity") -> dict[str, Any]:
    return _error("Resource Not Found", resource, "id", "not found")


def _redact(path_with_query: str) -> str:
    parts = urlsplit(path_with_query)
    if not parts.query:
        return parts.path
    if not SECRET_PARAMS & set(parse_qs(parts.query, keep_blank_values=True)):
        return path_with_query
    pairs = [(k, "REDACTED" if k in SECRET_PARAMS else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return f"{parts.path}?{urlencode(pairs)}"


def _epoch(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


class _Response(Exception):
    """Raised inside a handler to answer at once."""

    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


class StravaEmulator(ServedEmulator):
    """A local Strava API v3 on a daemon thread. Use as a context manager or ``start()``/``stop()``.

    Python control surface (thread-safe): ``activities``, ``add_activity``, ``edit_activity``,
    ``delete_activity``, ``set_gear``, ``set_inactive``, ``fail_next``, ``drop_next``, ``issue_refresh_token``,
    ``request_log``, ``usage()``, ``reset_usage()``. HTTP control surface for other processes (no
    auth, not rate limited): ``POST /_emulator/edit/{id}`` (JSON fields), ``POST /_emulator/delete/{id}``,
    ``POST /_emulator/inactive?on=1|0``, ``POST /_emulator/refresh_token``, ``GET /_emulator/usage``.
    """

    thread_name = "strava-emulator"

    def __init__(self, activities: list[dict] | None = None, *, client_id: str = "12345",
                 client_secret: str = "emulator-secret", athlete: dict | None = None,
                 limits: tuple[int, int, int, int] = (200, 2000, 100, 1000), window_s: int = 900,
                 day_s: int = 86400, access_token_ttl_s: int = 21600, rotate_refresh_tokens: bool = True,
                 clock: Callable[[], float] = time.time,
                 initial_refresh_token: str | None = "emulator-refresh-0",
                 host: str = "127.0.0.1", port: int = 0) -> None:
        self.client_id = str(client_id)
        self._client_secret = client_secret
        if len(limits) != 4:
            raise ValueError("limits is (overall 15-min, overall daily, read 15-min, read daily)")
        self.limits = tuple(int(x) for x in limits)
        self.window_s = int(window_s)
        self.day_s = int(day_s)
        self.access_token_ttl_s = int(access_token_ttl_s)
        self.rotate_refresh_tokens = rotate_refresh_tokens
        self.clock = clock
        self._lock = threading.RLock()
        self.serve_on(host, port)
        self._activities: dict[int, dict] = {}
        for detail in activities or []:
            self._activities[int(detail["id"])] = copy.deepcopy(detail)
        if athlete is None:
            first = next(iter(self._activities.values()), None)
            athlete_id = int(first["athlete"]["id"]) if first and first.get("athlete") else 4242
            athlete = default_athlete(athlete_id)
        self._athlete = copy.deepcopy(athlete)
        self._default_athlete = int(self._athlete["id"])
        self._athletes: dict[int, dict[str, Any]] = {self._default_athlete: self._athlete}
        self._gear: dict[str, dict[str, Any]] = {str(s["id"]): dict(s) for s in SHOES.values()}
        self._codes: dict[str, tuple[str, int]] = {}  # code -> (scope, athlete id)
        self._refresh: dict[str, tuple[str, int]] = {}  # refresh token -> (scope, athlete id)
        self._access: dict[str, tuple[float, int]] = {}  # access token -> (expires_at, athlete id)
        if initial_refresh_token:
            self._refresh[initial_refresh_token] = (GRANTED_SCOPE, self._default_athlete)
        self._inactive = False
        self._fail: list[int] = []
        self._drop = 0
        self._log: list[tuple[str, str, int]] = []
        self._usage = {"short": 0, "daily": 0, "read_short": 0, "read_daily": 0}
        self._window_ids: tuple[int | None, int | None] = (None, None)
        self._windows: dict[int, dict[str, int]] = {}  # short window id -> calls, reads, 429s

    # --- lifecycle (runlift.standins.served: start / stop / base_url / with) --------------------

    def handler_class(self) -> type[_Handler]:
        return _Handler

    # --- control API --------------------------------------------------------------------------

    @property
    def activities(self) -> dict[int, dict]:
        """A snapshot: id -> detail. Change activities with the methods below."""
        with self._lock:
            return dict(self._activities)

    def add_athlete(self, athlete: dict, activities: list[dict] | None = None) -> str:
        """Another athlete of the application (``athlete``: a DetailedAthlete with its ``id``) with its
        own ``activities`` (their ``athlete.id`` is set to it); returns a refresh token of its own."""
        athlete_id = int(athlete["id"])
        with self._lock:
            if athlete_id in self._athletes:
                raise ValueError(f"athlete {athlete_id} is already served")
            for detail in activities or []:
                if int(detail["id"]) in self._activities:
                    raise ValueError(f"activity {detail['id']} is already served (activity ids are global)")
            self._athletes[athlete_id] = copy.deepcopy(athlete)
            for detail in activities or []:
                copied = copy.deepcopy(detail)
                copied["athlete"] = {"id": athlete_id, "resource_state": 1}
                self._activities[int(copied["id"])] = copied
        return self.issue_refresh_token(athlete_id)

    def athlete_ids(self) -> list[int]:
        """Every athlete served, the first one (the constructor's) first."""
        with self._lock:
            return list(self._athletes)

    def activities_of(self, athlete_id: int) -> dict[int, dict]:
        """A snapshot of one athlete's activities: id -> detail."""
        with self._lock:
            return {i: d for i, d in self._activities.items() if self._owner(d) == int(athlete_id)}

    def add_activity(self, detail: dict) -> int:
        activity_id = int(detail["id"])
        with self._lock:
            self._activities[activity_id] = copy.deepcopy(detail)
        return activity_id

    def edit_activity(self, activity_id: int, **fields: Any) -> dict:
        """Change fields of an activity as an edit on strava.com would; returns the new detail."""
        with self._lock:
            old = self._activities.get(int(activity_id))
            if old is None:
                raise KeyError(activity_id)
            new = copy.deepcopy(old)
            new.update(copy.deepcopy(fields))
            if "sport_type" in fields and "type" not in fields:
                new["type"] = _legacy_type(str(fields["sport_type"]))
            if ("distance" in fields or "moving_time" in fields) and "average_speed" not in fields:
                moving = float(new.get("moving_time") or 0)
                new["average_speed"] = round(float(new.get("distance") or 0) / moving, 3) if moving else 0.0
            self._activities[int(activity_id)] = new  # replaced, never mutated: snapshots stay valid
            return copy.deepcopy(new)

    def delete_activity(self, activity_id: int) -> None:
        with self._lock:
            if self._activities.pop(int(activity_id), None) is None:
                raise KeyError(activity_id)

    def set_gear(self, gear_id: str, **fields: Any) -> None:
        """Add a gear or change its fields (``name``, ``retired``, ``brand_name``, ...; see ``SHOES``)."""
        with self._lock:
            base = self._gear.get(gear_id) or {"id": gear_id, "name": gear_id, "nickname": None, "primary": False,
                                              "brand_name": None, "model_name": None, "retired": False}
            self._gear[gear_id] = {**base, **fields}

    def set_inactive(self, flag: bool = True) -> None:
        with self._lock:
            self._inactive = bool(flag)

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        """The next ``n`` /api/v3 requests answer ``status`` with an error body."""
        with self._lock:
            self._fail.extend([int(status)] * int(n))

    def drop_next(self, n: int = 1) -> None:
        """The next ``n`` /api/v3 requests get their connection closed without an answer."""
        with self._lock:
            self._drop += int(n)

    def issue_refresh_token(self, athlete_id: int | None = None) -> str:
        """A new refresh token for ``athlete_id`` (default: the first athlete)."""
        token = secrets.token_hex(20)
        with self._lock:
            owner = self._default_athlete if athlete_id is None else int(athlete_id)
            if owner not in self._athletes:
                raise KeyError(athlete_id)
            self._refresh[token] = (GRANTED_SCOPE, owner)
        return token

    @property
    def request_log(self) -> list[tuple[str, str, int]]:
        """(method, path with query, status) of every request so far; secret query values redacted."""
        with self._lock:
            return list(self._log)

    def usage(self) -> dict[str, int]:
        """Counts of the current windows: short, daily, read_short, read_daily."""
        with self._lock:
            self._roll(self.clock())
            return dict(self._usage)

    def reset_usage(self) -> None:
        with self._lock:
            self._usage = {k: 0 for k in self._usage}

    def window_counts(self) -> dict[int, dict[str, int]]:
        """Every short window seen so far (id: start epoch // window_s) -> its ``calls`` to /api/v3
        (all athletes' tokens together, 429s included), ``reads`` and ``rejected`` (429 answers)."""
        with self._lock:
            return {k: dict(v) for k, v in self._windows.items()}

    def _owner(self, detail: dict) -> int:
        """The served athlete an activity belongs to: its ``athlete.id`` when that athlete is served
        (added with ``add_athlete``), else the first athlete (a single-athlete emulator's activities
        may carry any athlete id)."""
        athlete = detail.get("athlete")
        owner = athlete.get("id") if isinstance(athlete, dict) else None
        if isinstance(owner, int) and owner != self._default_athlete and owner in self._athletes:
            return owner
        return self._default_athlete

    # --- internals ----------------------------------------------------------------------------

    def _roll(self, now: float) -> None:
        short_id, day_id = int(now // self.window_s), int(now // self.day_s)
        if self._window_ids[0] != short_id:
            self._usage["short"] = self._usage["read_short"] = 0
        if self._window_ids[1] != day_id:
            self._usage["daily"] = self._usage["read_daily"] = 0
        self._window_ids = (short_id, day_id)

    def _rate_headers(self) -> dict[str, str]:
        u, lim = self._usage, self.limits
        return {
            "X-RateLimit-Limit": f"{lim[0]},{lim[1]}",
            "X-RateLimit-Usage": f"{u['short']},{u['daily']}",
            "X-ReadRateLimit-Limit": f"{lim[2]},{lim[3]}",
            "X-ReadRateLimit-Usage": f"{u['read_short']},{u['read_daily']}",
        }

    def _record(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self._log.append((method, _redact(path), status))

    # OAuth ---------------------------------------------------------------------------------

    def _authorize(self, query: dict[str, str]) -> _Response:
        if query.get("client_id") != self.client_id:
            return _Response(400, _error("Bad Request", "Application", "client_id", "invalid"))
        redirect_uri = query.get("redirect_uri")
        if not redirect_uri:
            return _Response(400, _error("Bad Request", "Application", "redirect_uri", "invalid"))
        if query.get("response_type", "code") != "code":
            return _Response(400, _error("Bad Request", "Application", "response_type", "invalid"))
        code = secrets.token_hex(20)
        with self._lock:
            self._codes[code] = (GRANTED_SCOPE, self._default_athlete)
        params = urlencode({"state": query.get("state", ""), "code": code, "scope": GRANTED_SCOPE})
        location = f"{redirect_uri}{'&' if '?' in redirect_uri else '?'}{params}"
        return _Response(302, None, {"Location": location})

    def _token(self, form: dict[str, str]) -> _Response:
        if str(form.get("client_id", "")) != self.client_id:
            return _Response(400, _error("Bad Request", "Application", "client_id", "invalid"))
        if form.get("client_secret") != self._client_secret:
            return _Response(401, _error("Bad Request", "Application", "client_secret", "invalid"))
        grant = form.get("grant_type")
        now = self.clock()
        with self._lock:
            if grant == "authorization_code":
                granted = self._codes.pop(str(form.get("code", "")), None)
                if granted is None:
                    return _Response(400, _error("Bad Request", "AuthorizationCode", "code", "invalid"))
                refresh = secrets.token_hex(20)
                self._refresh[refresh] = granted
                body = self._new_access(now, refresh, granted[1])
                body["athlete"] = summary_athlete(self._athletes[granted[1]])
                return _Response(200, body)
            if grant == "refresh_token":
                old = str(form.get("refresh_token", ""))
                granted = self._refresh.get(old)
                if granted is None:
                    return _Response(400, _error("Bad Request", "RefreshToken", "refresh_token", "invalid"))
                if self.rotate_refresh_tokens:
                    del self._refresh[old]
                    refresh = secrets.token_hex(20)
                    self._refresh[refresh] = granted
                else:
                    refresh = old
                return _Response(200, self._new_access(now, refresh, granted[1]))
        return _Response(400, _error("Bad Request", "Application", "grant_type", "invalid"))

    def _new_access(self, now: float, refresh: str, athlete_id: int) -> dict[str, Any]:
        access = secrets.token_hex(20)
        expires_at = int(now) + self.access_token_ttl_s
        self._access[access] = (expires_at, athlete_id)
        return {"token_type": "Bearer", "access_token": access, "expires_at": expires_at,
                "expires_in": expires_at - int(now), "refresh_token": refresh}

    # API -----------------------------------------------------------------------------------

    def _api(self, method: str, path: str, query: dict[str, str], headers: Any) -> _Response:
        """One /api/v3 request: count it, then failures, 429, 403 Inactive, 401, the route."""
        now = self.clock()
        with self._lock:
            self._roll(now)
            self._usage["short"] += 1
            self._usage["daily"] += 1
            is_read = method == "GET"
            if is_read:
                self._usage["read_short"] += 1
                self._usage["read_daily"] += 1
            rate = self._rate_headers()
            failure = self._fail.pop(0) if self._fail else None
            u, lim = self._usage, self.limits
            over = u["short"] > lim[0] or u["daily"] > lim[1] or (
                is_read and (u["read_short"] > lim[2] or u["read_daily"] > lim[3]))
            inactive = self._inactive
            window = self._windows.setdefault(int(now // self.window_s), {"calls": 0, "reads": 0, "rejected": 0})
            window["calls"] += 1
            window["reads"] += int(is_read)
            window["rejected"] += int(over or failure == 429)
        if failure is not None:
            if failure == 429:
                body = RATE_ERROR
            else:
                try:
                    phrase = HTTPStatus(failure).phrase
                except ValueError:
                    phrase = "Error"
                body = {"message": phrase, "errors": []}
            return _Response(failure, body, rate)
        if over:
            return _Response(429, RATE_ERROR, rate)
        if inactive:
            return _Response(403, INACTIVE_ERROR, rate)
        athlete_id = self._authorized(headers, query, now)
        if athlete_id is None:
            return _Response(401, AUTH_ERROR, rate)
        try:
            status, body = self._route(method, path, query, athlete_id)
        except _Response as r:
            status, body = r.status, r.body
        return _Response(status, body, rate)

    def _authorized(self, headers: Any, query: dict[str, str], now: float) -> int | None:
        """The athlete id of the request's unexpired access token, else None."""
        token = None
        auth = headers.get("Authorization") or ""
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            token = value.strip()
        elif query.get("access_token"):
            token = query["access_token"]
        if not token:
            return None
        with self._lock:
            granted = self._access.get(token)
        return granted[1] if granted is not None and now < granted[0] else None

    @staticmethod
    def _int_param(query: dict[str, str], name: str, default: int | None) -> int | None:
        value = query.get(name)
        if value is None or value == "":
            return default
        try:
            return int(float(value))
        except ValueError:
            raise _Response(400, _error("Bad Request", "Application", name, "invalid")) from None

    def _route(self, method: str, path: str, query: dict[str, str], athlete_id: int) -> tuple[int, Any]:
        parts = [p for p in path.split("/") if p][2:]  # after api/v3
        if method != "GET":
            return 404, _error("Record Not Found", "resource", "path", "invalid")
        if parts == ["athlete"]:
            with self._lock:
                return 200, copy.deepcopy(self._athletes[athlete_id])
        if parts == ["athlete", "activities"]:
            return 200, self._list(query, athlete_id)
        if len(parts) == 2 and parts[0] == "gear":
            with self._lock:
                shoe = self._gear.get(parts[1])
                total = sum(float(a.get("distance") or 0.0) for a in self._activities.values()
                            if a.get("gear_id") == parts[1])
            if shoe is None:
                return 404, _not_found("Gear")
            return 200, gear_detail(shoe, total)
        if len(parts) in (2, 3) and parts[0] == "activities":
            try:
                activity_id = int(parts[1])
            except ValueError:
                return 404, _not_found()
            with self._lock:
                detail = self._activities.get(activity_id)
            if detail is None or self._owner(detail) != athlete_id:  # another athlete's is not found
                return 404, _not_found()
            if len(parts) == 2:
                return 200, detail
            if parts[2] == "streams":
                if detail.get("manual"):
                    return 404, _not_found()
                keys = [k for k in (query.get("keys") or "").split(",") if k]
                key_by_type = (query.get("key_by_type") or "").lower() in ("true", "1")
                try:
                    return 200, streams_for(detail, keys, key_by_type=key_by_type)
                except ValueError:
                    return 404, _not_found()
        return 404, _error("Record Not Found", "resource", "path", "invalid")

    def _list(self, query: dict[str, str], athlete_id: int) -> list[dict[str, Any]]:
        before = self._int_param(query, "before", None)
        after = self._int_param(query, "after", None)
        page = max(1, self._int_param(query, "page", 1) or 1)
        per_page = self._int_param(query, "per_page", 30) or 30
        per_page = min(200, max(1, per_page))
        with self._lock:
            items = [(_epoch(d["start_date"]), int(d["id"]), d) for d in self._activities.values()
                     if self._owner(d) == athlete_id]
        if after is not None:
            items = [x for x in items if x[0] > after]
        if before is not None:
            items = [x for x in items if x[0] < before]
        oldest_first = after is not None and before is None
        items.sort(key=lambda x: (x[0], x[1]), reverse=not oldest_first)
        chunk = items[(page - 1) * per_page: page * per_page]
        return [summary_of(d) for _, _, d in chunk]

    # the HTTP control surface --------------------------------------------------------------------

    def _control(self, method: str, path: str, query: dict[str, str], body: bytes) -> _Response:
        parts = [p for p in path.split("/") if p][1:]  # after _emulator
        if method == "GET" and parts == ["usage"]:
            return _Response(200, self.usage())
        if method != "POST":
            return _Response(405, {"message": "Method Not Allowed", "errors": []})
        if len(parts) == 2 and parts[0] in ("edit", "delete"):
            try:
                activity_id = int(parts[1])
            except ValueError:
                return _Response(404, _not_found())
            try:
                if parts[0] == "delete":
                    self.delete_activity(activity_id)
                    return _Response(200, {"deleted": activity_id})
                fields = json.loads(body or b"{}")
                if not isinstance(fields, dict):
                    return _Response(400, {"message": "Bad Request", "errors": [{"field": "body", "code": "invalid"}]})
                new = self.edit_activity(activity_id, **fields)
                return _Response(200, summary_of(new))
            except KeyError:
                return _Response(404, _not_found())
            except ValueError:
                return _Response(400, {"message": "Bad Request", "errors": [{"field": "body", "code": "invalid"}]})
        if parts == ["inactive"]:
            on = (query.get("on") or "1").lower() in ("1", "true", "yes", "on")
            self.set_inactive(on)
            return _Response(200, {"inactive": on})
        if parts == ["refresh_token"]:
            return _Response(200, {"refresh_token": self.issue_refresh_token()})
        return _Response(404, {"message": "Record Not Found", "errors": []})


class _Handler(TrackedHandler):
    emulator: StravaEmulator
    server_version = "StravaEmulator/1.0"
    wbufsize = 1 << 16  # flushed by handle_one_request after each answer

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, response: _Response) -> None:
        payload = b""
        if response.body is not None:
            payload = json.dumps(response.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = "Error"
        self.send_response(response.status, reason)
        if response.body is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)

    def _handle(self) -> None:
        emu = self.emulator
        method = self.command
        raw_path = self.path
        split = urlsplit(raw_path)
        path = split.path
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        body = self._read_body()
        try:
            if path.startswith("/api/v3/") or path == "/api/v3":
                with emu._lock:
                    drop = emu._drop > 0
                    if drop:
                        emu._drop -= 1
                if drop:
                    emu._record(method, raw_path, 0)
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                    return
                response = emu._api(method, path, query, self.headers)
            elif path == "/oauth/authorize" and method == "GET":
                response = emu._authorize(query)
            elif path == "/oauth/token" and method == "POST":
                response = emu._token(self._form(body, query))
            elif path.startswith("/_emulator/"):
                response = emu._control(method, path, query, body)
            else:
                response = _Response(404, {"message": "Record Not Found", "errors": []})
        except Exception as exc:  # a bug in the emulator must not look like a dropped connection
            response = _Response(500, {"message": "Emulator Error", "errors": [{"code": type(exc).__name__}]})
        emu._record(method, raw_path, response.status)
        self._send(response)

    @staticmethod
    def _form(body: bytes, query: dict[str, str]) -> dict[str, str]:
        form: dict[str, str] = dict(query)
        text = body.decode("utf-8", "replace").strip()
        if text.startswith("{"):
            try:
                data = json.loads(text)
            except ValueError:
                data = {}
            if isinstance(data, dict):
                form.update({str(k): str(v) for k, v in data.items() if v is not None})
        elif text:
            form.update(dict(parse_qsl(text, keep_blank_values=True)))
        return form

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle


def squad_emulator(n: int, *, end: date | None = None, weeks: int = 4, **kwargs: Any,
                   ) -> tuple[StravaEmulator, list[SquadAthlete]]:
    """A (not started) emulator serving a squad of ``n`` athletes (runlift.standins.squad), and the
    athletes with their refresh tokens.

    ``kwargs`` go to :class:`StravaEmulator` (``limits``, ``window_s``, ``client_id``, ...): the
    limits are the application's, shared by every athlete's token."""
    from runlift.standins.squad import squad_athletes

    athletes = squad_athletes(n, end or date.today(), weeks)
    first = athletes[0]
    emulator = StravaEmulator([dict(a) for a in first.season], athlete=default_athlete(first.strava_id),
                              initial_refresh_token=None, **kwargs)
    first.refresh_token = emulator.issue_refresh_token(first.strava_id)
    for a in athletes[1:]:
        person = default_athlete(a.strava_id)
        person["username"] = f"squad_{a.athlete_id}"
        a.refresh_token = emulator.add_athlete(person, a.season)
    return emulator, athletes


# --- command line ------------------------------------------------------------------------------


def main(argv: list[str] | None = None, prog: str = "python -m runlift.standins.strava_emulator") -> int:
    """The command line; ``runlift strava emulator`` calls it with its own name as ``prog``."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Serve a local Strava API v3 seeded with a synthetic half-marathon season.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port (0: any free one; default 8765)")
    parser.add_argument("--weeks", type=int, default=16)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--end-date", type=date.fromisoformat, default=None,
                        help="YYYY-MM-DD of the race, the season's last day (default: today)")
    parser.add_argument("--window-s", type=int, default=900, help="short rate-limit window in seconds")
    parser.add_argument("--limits", default="200,2000,100,1000",
                        help="overall 15-min, overall daily, read 15-min, read daily")
    parser.add_argument("--client-id", default="12345")
    parser.add_argument("--client-secret", default="emulator-secret")
    parser.add_argument("--athletes", type=int, default=1, metavar="N",
                        help="serve N athletes (a001..), each its own tokens and seasons (seeded per athlete); "
                             "the rate limits are the application's, shared by all (default 1)")
    parser.add_argument("--squad-dir", default=None, metavar="DIR",
                        help="write DIR/runlift.toml with the athletes, their token files and generated FIT "
                             "inboxes (for `runlift squad` or bench/squad.py)")
    args = parser.parse_args(argv)
    if args.athletes < 1:
        parser.error("--athletes takes a number of athletes, 1 or more")
    try:
        limits = tuple(int(x) for x in args.limits.split(","))
        if len(limits) != 4:
            raise ValueError
    except ValueError:
        parser.error("--limits takes four integers, e.g. 200,2000,100,1000")
    end = args.end_date or date.today()
    secret_note = "the default" if args.client_secret == "emulator-secret" else "as given"
    if args.athletes == 1 and args.squad_dir is None:
        season = synthetic_season(end, weeks=args.weeks, seed=args.seed)
        emulator = StravaEmulator(season, client_id=args.client_id, client_secret=args.client_secret,
                                  limits=limits, window_s=args.window_s, host=args.host, port=args.port)
        base_url = emulator.start()
        refresh = emulator.issue_refresh_token()
        print(f"Strava emulator: {base_url}  ({len(season)} activities, {args.weeks} weeks ending {end})")
        print(f"client_id: {args.client_id}  (client secret: {secret_note})")
        print(f"refresh token: {refresh}")
        return serve_until_interrupted(emulator.stop)
    from pathlib import Path

    from runlift.standins.squad import write_squad

    emulator, athletes = squad_emulator(args.athletes, end=end, weeks=args.weeks, client_id=args.client_id,
                                        client_secret=args.client_secret, limits=limits, window_s=args.window_s,
                                        host=args.host, port=args.port)
    base_url = emulator.start()
    total = sum(len(a.season) for a in athletes)
    print(f"Strava emulator: {base_url}  ({len(athletes)} athletes, {total} activities, {args.weeks} weeks "
          f"ending {end}; limits {','.join(map(str, limits))} shared by all)")
    print(f"client_id: {args.client_id}  (client secret: {secret_note})")
    if args.squad_dir:
        cfg = write_squad(Path(args.squad_dir), athletes, base_url=base_url, client_id=args.client_id,
                          client_secret=None, strava={"rate_window_s": args.window_s})
        print(f"squad settings: {cfg} (token files in {cfg.parent / 'tokens'}, FIT inboxes in "
              f"{cfg.parent / 'inbox'}; set STRAVA_CLIENT_SECRET)")
    else:
        for a in athletes:
            print(f"athlete {a.athlete_id} (Strava {a.strava_id}, {len(a.season)} activities): "
                  f"refresh token {a.refresh_token}")
    return serve_until_interrupted(emulator.stop)


if __name__ == "__main__":
    sys.exit(main())
