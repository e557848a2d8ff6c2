"""A thin Strava API client on httpx: real endpoints, explicit timeouts, a rate-limit budget.

Why not stravalib's ``Client`` for transport (stravalib 2.6.0): its host and scheme are
hard-coded, no request has a timeout, its rate limiter sleeps up to a day inside the process, a 429
arrives as a generic ``Fault``, a rotated refresh token is kept only in memory, and its models
reject or rewrite unknown ``sport_type`` values and drop unknown fields. This client returns the
JSON exactly as Strava sent it.

Errors are typed: :class:`RateLimited` (a 429, or the budget would be exceeded: stop cleanly and
resume next run), :class:`AuthError` (401 after one refresh), :class:`AppInactive` (403 Inactive),
:class:`NotFound` (404), :class:`StravaUnavailable` (connection errors, timeouts and 5xx after
bounded retries), :class:`ListingStalled` (the listing cursor would not advance). None of them
carries a token: every text that came from the server goes through :func:`connectors.redact.redact`.

Every request has one overall deadline (``timeout`` seconds for connect, send and every read
together), enforced on the socket, so a server trickling its answer byte by byte cannot hold a
run; an answer is read up to :data:`MAX_BODY_BYTES`.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx

from runlift.connectors.redact import redact
from runlift.connectors.strava.tokens import TokenError, Tokens, TokenStore

DEFAULT_BASE_URL = "https://www.strava.com"
DEFAULT_READ_S = 30.0
DEFAULT_TIMEOUT = httpx.Timeout(DEFAULT_READ_S, connect=10.0)
PER_PAGE = 200
DEFAULT_STREAM_KEYS = ("time", "distance", "velocity_smooth", "heartrate", "cadence", "altitude",
                       "grade_smooth", "moving")
REFRESH_MARGIN_S = 300  # refresh an access token this long before it expires
MAX_BODY_BYTES = 64 * 1024 * 1024  # a 10,000-activity page is ~20 MB
MAX_RATE_VALUE = 10_000_000  # rate-limit header values above this are not Strava's: ignored
FUTURE_SLACK_S = 86400  # a start more than this beyond now is not believed (cursor, high-water mark)


class StravaError(RuntimeError):
    """Base of every error this client raises; messages never contain secrets."""


class RateLimited(StravaError):
    def __init__(self, message: str, resume_at: dt.datetime | None = None) -> None:
        super().__init__(message)
        self.resume_at = resume_at


class AuthError(StravaError):
    pass


class AppInactive(StravaError):
    pass


class NotFound(StravaError):
    pass


class StravaUnavailable(StravaError):
    pass


class ListingStalled(StravaError):
    pass


def _parse_pair(value: str | None) -> tuple[int, int] | None:
    """``"600,30000"`` as two whole numbers; None for anything else (odd headers are ignored)."""
    if not value or len(value) > 64:
        return None
    parts = value.split(",")
    if len(parts) != 2 or not all(p.strip().isascii() and p.strip().isdigit() for p in parts):
        return None
    a, b = int(parts[0]), int(parts[1])
    if a > MAX_RATE_VALUE or b > MAX_RATE_VALUE:
        return None
    return a, b


# --- one deadline per request, on the socket ------------------------------------------------------

_deadline = threading.local()


def _bounded(timeout: float | None, exc: type[Exception]) -> float | None:
    """The time-out for one socket operation: what is left of the request's deadline, at most."""
    end = getattr(_deadline, "at", None)
    if end is None:
        return timeout
    left = end - time.monotonic()
    if left <= 0:
        raise exc("the request's deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname,
                                                     _bounded(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's network backend with every connect, read and write bounded by the deadline."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.connect_tcp(host, port, _bounded(timeout, httpcore.ConnectTimeout),
                                                       local_address, socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.connect_unix_socket(path, _bounded(timeout, httpcore.ConnectTimeout),
                                                               socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def deadline_transport() -> httpx.HTTPTransport:
    """httpx's transport whose connections honour the per-request deadline."""
    transport = httpx.HTTPTransport()
    pool = transport._pool  # httpx builds the pool; only its network backend is wrapped
    pool._network_backend = _DeadlineBackend(pool._network_backend)
    return transport


@dataclass
class Answer:
    """A response read whole (within the deadline and the size cap)."""

    status_code: int
    headers: httpx.Headers
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


# What a RateBudget remembers between runs (ops.strava_rate_limit holds them, in this order)
BUDGET_FIELDS = ("observed_at", "limit_15", "limit_day", "read_limit_15", "read_limit_day",
                 "usage_15", "usage_day", "read_usage_15", "read_usage_day")


@dataclass
class RateBudget:
    """What Strava's rate-limit headers last said, and how many calls may still be spent.

    Strava counts per application in a short window (15 min, resetting at :00/:15/:30/:45 UTC)
    and a daily one (resetting at midnight UTC), overall and for reads (GET). ``headroom`` calls
    of each window are never spent, for the person's other tools.
    """

    window_s: int = 900
    day_s: int = 86400
    headroom: int = 5
    limit_15: int = 200
    limit_day: int = 2000
    read_limit_15: int = 100
    read_limit_day: int = 1000
    usage_15: int = 0
    usage_day: int = 0
    read_usage_15: int = 0
    read_usage_day: int = 0
    observed_at: float | None = None  # epoch seconds of the last response read
    clock: Callable[[], float] = field(default=time.time, repr=False)

    def _same_window(self, now: float, length: int) -> bool:
        return self.observed_at is not None and int(self.observed_at // length) == int(now // length)

    def roll(self) -> None:
        """Forget usage from windows that have reset since it was observed."""
        now = self.clock()
        if not self._same_window(now, self.window_s):
            self.usage_15 = self.read_usage_15 = 0
        if not self._same_window(now, self.day_s):
            self.usage_day = self.read_usage_day = 0

    def remaining(self) -> int:
        """Read calls that may still be made now, keeping the headroom."""
        self.roll()
        return max(0, min(self.limit_15 - self.usage_15, self.limit_day - self.usage_day,
                          self.read_limit_15 - self.read_usage_15,
                          self.read_limit_day - self.read_usage_day) - self.headroom)

    def resume_at(self) -> dt.datetime:
        """When the window that blocks us resets (UTC)."""
        now = self.clock()
        short_blocked = (self.limit_15 - self.usage_15 <= self.headroom
                         or self.read_limit_15 - self.read_usage_15 <= self.headroom)
        day_blocked = (self.limit_day - self.usage_day <= self.headroom
                       or self.read_limit_day - self.read_usage_day <= self.headroom)
        length = self.day_s if day_blocked or not short_blocked else self.window_s
        reset = (int(now // length) + 1) * length
        return dt.datetime.fromtimestamp(reset, dt.UTC).replace(tzinfo=None)

    def observe(self, headers: httpx.Headers) -> None:
        overall, overall_use = (_parse_pair(headers.get("X-RateLimit-Limit")),
                                _parse_pair(headers.get("X-RateLimit-Usage")))
        read, read_use = (_parse_pair(headers.get("X-ReadRateLimit-Limit")),
                          _parse_pair(headers.get("X-ReadRateLimit-Usage")))
        if overall_use is None and read_use is None:
            return
        if overall:
            self.limit_15, self.limit_day = overall
        if overall_use:
            self.usage_15, self.usage_day = overall_use
        if read:
            self.read_limit_15, self.read_limit_day = read
        if read_use:
            self.read_usage_15, self.read_usage_day = read_use
        self.observed_at = self.clock()

    def count_call(self) -> None:
        """Count a call we made whose response carried no headers (e.g. a dropped connection)."""
        self.roll()
        self.usage_15 += 1
        self.usage_day += 1
        self.read_usage_15 += 1
        self.read_usage_day += 1
        self.observed_at = self.clock()

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in BUDGET_FIELDS}


def _error_codes(response: Answer) -> list[tuple[str, str, str]]:
    try:
        body = response.json()
    except (ValueError, RecursionError):
        return []
    errors = body.get("errors") if isinstance(body, dict) else None
    out = []
    for e in errors if isinstance(errors, list) else []:
        if isinstance(e, dict):
            out.append((str(e.get("resource", "")), str(e.get("field", "")), str(e.get("code", ""))))
    return out


INACTIVE_MESSAGE = (
    "Strava answered 403: the Strava API application is inactive (since mid-2026 Strava requires the "
    "application owner to have a Strava subscription). Reactivate it at https://www.strava.com/settings/api; "
    "FIT import still works meanwhile (`runlift import-fit`).")


class StravaClient:
    """Strava API v3 over httpx. One instance per athlete and run; not thread-safe."""

    def __init__(self, *, base_url: str, client_id: str, client_secret: str, tokens: TokenStore,
                 budget: RateBudget | None = None, timeout: httpx.Timeout = DEFAULT_TIMEOUT,
                 retries: int = 3, backoff_s: float = 1.0, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time,
                 before_call: Callable[[], None] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        # called before every counted request (retries included): a rate limit shared by several
        # processes (a squad's workers) waits there for its turn; it may raise to stop the run
        self.before_call = before_call
        self.client_id = str(client_id)
        self.client_secret = client_secret
        self.tokens = tokens
        self.budget = budget or RateBudget(clock=clock)
        self.retries = retries
        self.backoff_s = backoff_s
        self.sleep = sleep
        self.clock = clock
        self.calls = 0  # API calls made (not counting token refreshes)
        # the overall deadline of one request: connect + send + every read
        self.deadline_s = max([t for t in (timeout.connect, timeout.read, timeout.write, timeout.pool)
                               if t is not None] or [DEFAULT_READ_S])
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport or deadline_transport(),
                                  headers={"User-Agent": "runlift"}, follow_redirects=False)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> StravaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- secrets --------------------------------------------------------------------------

    def secrets(self) -> list[str]:
        """Every secret this client knows (client secret, tokens), for :func:`redact`."""
        out = [self.client_secret, self.tokens.bootstrap_refresh_token]
        try:
            current = self.tokens.load()
        except TokenError:
            current = None
        if current is not None:
            out += [current.access_token, current.refresh_token]
        return [s for s in out if s]

    # --- tokens ---------------------------------------------------------------------------

    def _load_tokens(self) -> Tokens | None:
        try:
            return self.tokens.load()
        except TokenError as exc:
            raise AuthError(str(exc)) from None

    def _token_request(self, data: dict[str, str]) -> Tokens:
        """POST /oauth/token and the tokens of the answer (the old ones fill what it leaves out)."""
        previous = self._load_tokens() if data.get("grant_type") == "refresh_token" else None
        payload = {"client_id": self.client_id, "client_secret": self.client_secret, **data}
        secrets = [*self.secrets(), *(v for k, v in data.items() if k != "grant_type")]
        response = self._send("POST", "/oauth/token", data=payload, counted=False)
        if response.status_code == 403 and any(c[0] == "Application" for c in _error_codes(response)):
            raise AppInactive(INACTIVE_MESSAGE)
        if response.status_code != 200:
            fields = ", ".join(f"{r}.{f} {c}" for r, f, c in _error_codes(response)) or f"HTTP {response.status_code}"
            raise AuthError(f"Strava refused the token request ({redact(fields, secrets, 160)}); run `runlift strava "
                            "auth` to authorize again, and check the client id and secret")
        try:
            body = response.json()
        except (ValueError, RecursionError):
            kind = redact(response.headers.get("content-type", "no content type"), secrets, 60)
            raise AuthError(f"Strava's token answer was not JSON (HTTP 200, {kind}); try again later, "
                            "or run `runlift strava auth`") from None
        try:
            return Tokens.from_response(body, previous=previous)
        except TokenError as exc:
            raise AuthError(f"{exc}; try again later, or run `runlift strava auth`") from None

    def exchange_code(self, code: str) -> Tokens:
        tokens = self._token_request({"grant_type": "authorization_code", "code": code})
        self.tokens.save(tokens)
        return tokens

    def refresh(self) -> Tokens:
        current = self._load_tokens()
        if current is None or not current.refresh_token:
            raise AuthError("no Strava tokens for this athlete; run `runlift strava auth` "
                            "(or set STRAVA_REFRESH_TOKEN for a first unattended run)")
        tokens = self._token_request({"grant_type": "refresh_token", "refresh_token": current.refresh_token})
        # A rotated refresh token replaces the old one at Strava at once: save it before anything else.
        self.tokens.save(tokens)
        return tokens

    def _access_token(self) -> str:
        current = self._load_tokens()
        if current is None:
            raise AuthError("no Strava tokens for this athlete; run `runlift strava auth` "
                            "(or set STRAVA_REFRESH_TOKEN for a first unattended run)")
        if not current.access_token or current.expires_at - REFRESH_MARGIN_S <= self.clock():
            current = self.refresh()
        return current.access_token

    # --- transport ------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> Answer:
        """One HTTP exchange within the overall deadline, its body read up to MAX_BODY_BYTES."""
        _deadline.at = time.monotonic() + self.deadline_s
        try:
            with self._http.stream(method, path, **kwargs) as response:
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > MAX_BODY_BYTES:
                        raise StravaError(f"Strava's answer to {method} {path} is larger than "
                                          f"{MAX_BODY_BYTES // 2**20} MB; not read")
                    chunks.append(chunk)
                    if time.monotonic() > _deadline.at:  # a custom transport without the socket deadline
                        raise httpx.ReadTimeout("the request's deadline passed")
                return Answer(response.status_code, response.headers, b"".join(chunks))
        finally:
            _deadline.at = None

    def _send(self, method: str, path: str, *, counted: bool, **kwargs: Any) -> Answer:
        """One request with bounded retries on connection errors, timeouts and 5xx (never on 429)."""
        attempt = 0
        while True:
            attempt += 1
            if counted and self.before_call is not None:
                self.before_call()
            try:
                response = self._request(method, path, **kwargs)
            except (httpx.TransportError, httpx.DecodingError) as exc:
                if counted:
                    self.budget.count_call()
                if attempt > self.retries:
                    raise StravaUnavailable(f"Strava could not be reached at {self.base_url} after {attempt} "
                                            f"attempts ({type(exc).__name__}); the next run resumes") from None
                self.sleep(min(self.backoff_s * 2 ** (attempt - 1), 60.0))
                continue
            if counted:
                self.budget.observe(response.headers)
            if response.status_code >= 500:
                if attempt > self.retries:
                    raise StravaUnavailable(f"Strava answered HTTP {response.status_code} {attempt} times for "
                                            f"{method} {path}; the next run resumes")
                self.sleep(min(self.backoff_s * 2 ** (attempt - 1), 60.0))
                continue
            return response

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        if self.budget.remaining() <= 0:
            resume = self.budget.resume_at()
            raise RateLimited(f"Strava rate budget used up (keeping {self.budget.headroom} calls spare); "
                              f"resumes after {resume:%H:%M} UTC", resume)
        refreshed = False
        while True:
            headers = {"Authorization": f"Bearer {self._access_token()}"}
            self.calls += 1
            response = self._send("GET", path, params=params, headers=headers, counted=True)
            status = response.status_code
            if status == 200:
                try:
                    return response.json()
                except (ValueError, RecursionError):
                    raise StravaError(f"Strava sent a body that is not JSON for GET {path}") from None
            if status == 401 and not refreshed:
                self.refresh()
                refreshed = True
                continue
            if status == 401:
                raise AuthError("Strava rejected the access token even after a refresh; "
                                "run `runlift strava auth` to authorize again")
            if status == 403:
                codes = _error_codes(response)
                if any(r == "Application" and c.lower() == "inactive" for r, _, c in codes):
                    raise AppInactive(INACTIVE_MESSAGE)
                raise AuthError(f"Strava answered 403 Forbidden for GET {path}; the authorization may lack "
                                "the activity:read_all scope: run `runlift strava auth` again")
            if status == 404:
                raise NotFound(f"GET {path}: not found")
            if status == 429:
                resume = self.budget.resume_at()
                raise RateLimited(f"Strava answered 429 (rate limit exceeded); resumes after {resume:%H:%M} UTC",
                                  resume)
            raise StravaError(f"Strava answered HTTP {status} for GET {path}")

    # --- endpoints ------------------------------------------------------------------------

    def athlete(self) -> dict[str, Any]:
        return self._get("/api/v3/athlete")

    def list_activities(self, *, after: int | None = None, before: int | None = None, page: int = 1,
                        per_page: int = PER_PAGE) -> list[dict[str, Any]]:
        """One page of ``GET /api/v3/athlete/activities`` (``after``/``before``: epoch seconds)."""
        params: dict[str, Any] = {"page": page, "per_page": per_page}
        if after is not None:
            params["after"] = after
        if before is not None:
            params["before"] = before
        body = self._get("/api/v3/athlete/activities", params)
        if not isinstance(body, list):
            raise StravaError("Strava's activity list was not a JSON list")
        return body

    def activity(self, activity_id: int) -> dict[str, Any]:
        body = self._get(f"/api/v3/activities/{int(activity_id)}")
        if not isinstance(body, dict):
            raise StravaError(f"Strava's detail of activity {activity_id} was not a JSON object")
        return body

    def gear(self, gear_id: str) -> Any:
        """``GET /api/v3/gear/{id}`` (a DetailedGear: name, brand_name, model_name, retired, distance, ...);
        the body as sent (the caller checks it is an object)."""
        if not isinstance(gear_id, str) or not gear_id or len(gear_id) > 64 or not gear_id.isascii() \
                or not gear_id.isalnum():
            raise NotFound(f"gear id {gear_id!r} is not one Strava gives")
        return self._get(f"/api/v3/gear/{gear_id}")

    def streams(self, activity_id: int, keys: tuple[str, ...] = DEFAULT_STREAM_KEYS) -> dict[str, Any]:
        body = self._get(f"/api/v3/activities/{int(activity_id)}/streams",
                         {"keys": ",".join(keys), "key_by_type": "true"})
        if isinstance(body, list):  # key_by_type ignored: a list of {type, data, ...}
            body = {s["type"]: s for s in body if isinstance(s, dict) and isinstance(s.get("type"), str)}
        if not isinstance(body, dict):
            raise StravaError(f"Strava's streams for activity {activity_id} were not a JSON object")
        return body


def start_epoch(activity: Any) -> int | None:
    value = activity.get("start_date") if isinstance(activity, dict) else None
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        return int(parsed.timestamp())
    except (ValueError, OverflowError):
        return None


def next_cursor(page: list[Any], cursor: int, horizon: int | None = None) -> int:
    """The ``after`` for the page following ``page`` (asked with ``after=cursor``, oldest first).

    It is the latest start in the page minus one second rather than a page number, so an
    activity deleted or added between two runs never shifts a page boundary over another one;
    the one-second overlap re-reads at most the activities that share that start second.
    Starts later than ``horizon`` (epoch seconds; now plus a day) are not believed. When no start
    lies beyond ``cursor`` the cursor cannot advance and ``cursor`` itself is returned: the server
    ignored ``after`` or sent no usable dates (the caller stops the listing).
    """
    starts = [s for s in (start_epoch(a) for a in page) if s is not None and (horizon is None or s <= horizon)]
    if not starts or max(starts) <= cursor:
        return cursor
    nxt = max(starts) - 1
    return nxt if nxt > cursor else max(starts)
