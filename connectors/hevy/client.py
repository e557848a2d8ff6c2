"""A thin client of Hevy's public API (https://api.hevyapp.com/docs) on httpx.

The API needs the person's own API key (Hevy Pro; the key is at https://hevy.com/settings?developer),
sent in the ``api-key`` header. Endpoints used, all ``GET`` and paged with ``page`` (from 1) and
``pageSize``: ``/v1/workouts`` (at most 10 a page, newest first), ``/v1/workouts/events?since=ISO``
(``updated`` events carry the whole workout, ``deleted`` ones its id and ``deleted_at``),
``/v1/exercise_templates`` (at most 100 a page), ``/v1/body_measurements`` (at most 10 a page) and
``/v1/workouts/count``. Answers are returned as Hevy sent them (unknown fields kept).

Hevy publishes no rate limit, so the client is polite: at most one request every ``min_interval_s``
seconds (default 0.5 s, docs/hevy.md). Connection errors, time-outs and 5xx are retried
``retries`` times with exponential backoff; a 429 is never retried here: :class:`RateLimited` stops
the run cleanly and the next run resumes. A 401 is :class:`AuthError` with one line saying what to
do. No message carries the key: every text from the server goes through :func:`redact`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx

from runlift.connectors.redact import redact
from runlift.connectors.strava import client as _transport  # the per-request deadline on the socket

DEFAULT_BASE_URL = "https://api.hevyapp.com"
WORKOUTS_PAGE_SIZE = 10  # Hevy's maximum for workouts, events and body measurements
TEMPLATES_PAGE_SIZE = 100  # Hevy's maximum for exercise templates
MAX_BODY_BYTES = 32 * 1024 * 1024
MAX_PAGES = 100_000  # a page_count beyond this is not believed

KEY_HELP = ("set HEVY_API_KEY (or athletes.<id>.hevy_api_key) to the API key of your Hevy account "
            "(Hevy Pro: https://hevy.com/settings?developer)")


class HevyError(RuntimeError):
    """Base of every error this client raises; messages never contain the API key."""


class AuthError(HevyError):
    pass


class RateLimited(HevyError):
    pass


class HevyUnavailable(HevyError):
    pass


class HevyClient:
    """Hevy's API v1 over httpx. One instance per athlete and run; not thread-safe.

    ``min_interval_s``: the pace (seconds between the starts of two requests); ``retries`` and
    ``backoff_s``: after a connection error, time-out or 5xx, wait ``backoff_s * 2**(n-1)`` seconds
    (at most 30) and ask again, ``retries`` times.
    """

    def __init__(self, *, base_url: str, api_key: str, timeout_s: float = 30.0, retries: int = 3,
                 backoff_s: float = 1.0, min_interval_s: float = 0.5, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        if not api_key:
            raise AuthError(f"no Hevy API key; {KEY_HELP}")
        self.base_url = base_url.rstrip("/")
        self._key = api_key
        self.retries = retries
        self.backoff_s = backoff_s
        self.min_interval_s = min_interval_s
        self.sleep = sleep
        self.monotonic = monotonic
        self.calls = 0
        self.deadline_s = timeout_s
        self._last_start: float | None = None
        self._http = httpx.Client(base_url=self.base_url,
                                  timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)),
                                  transport=transport or _transport.deadline_transport(),
                                  headers={"User-Agent": "runlift", "Accept": "application/json"},
                                  follow_redirects=False)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> HevyClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def secrets(self) -> list[str]:
        return [self._key]

    # --- transport ------------------------------------------------------------------------

    def _pace(self) -> None:
        if self._last_start is not None and self.min_interval_s > 0:
            wait = self._last_start + self.min_interval_s - self.monotonic()
            if wait > 0:
                self.sleep(wait)
        self._last_start = self.monotonic()

    def _request(self, path: str, params: dict[str, Any] | None) -> tuple[int, httpx.Headers, bytes]:
        _transport._deadline.at = time.monotonic() + self.deadline_s
        try:
            with self._http.stream("GET", path, params=params, headers={"api-key": self._key}) as response:
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > MAX_BODY_BYTES:
                        raise HevyError(f"Hevy's answer to GET {path} is larger than {MAX_BODY_BYTES // 2**20} MB; "
                                        "not read")
                    chunks.append(chunk)
                return response.status_code, response.headers, b"".join(chunks)
        finally:
            _transport._deadline.at = None

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """The JSON of ``GET path``; None for a 404 (a page past the last one)."""
        attempt = 0
        while True:
            attempt += 1
            self._pace()
            self.calls += 1
            try:
                status, headers, body = self._request(path, params)
            except (httpx.TransportError, httpx.DecodingError) as exc:
                if attempt > self.retries:
                    raise HevyUnavailable(f"Hevy could not be reached at {self.base_url} after {attempt} attempts "
                                          f"({type(exc).__name__}); the next run resumes") from None
                self.sleep(min(self.backoff_s * 2 ** (attempt - 1), 30.0))
                continue
            if status >= 500:
                if attempt > self.retries:
                    raise HevyUnavailable(f"Hevy answered HTTP {status} {attempt} times for GET {path}; "
                                          "the next run resumes")
                self.sleep(min(self.backoff_s * 2 ** (attempt - 1), 30.0))
                continue
            if status == 200:
                try:
                    return json.loads(body)
                except (ValueError, RecursionError):
                    raise HevyError(f"Hevy sent a body that is not JSON for GET {path}") from None
            if status == 401:
                raise AuthError(f"Hevy rejected the API key (HTTP 401); {KEY_HELP}")
            if status == 403:
                raise AuthError(f"Hevy refused GET {path} (HTTP 403): the API needs a Hevy Pro subscription; "
                                f"{KEY_HELP}")
            if status == 404:
                return None
            if status == 429:
                after = redact(headers.get("Retry-After", ""), self.secrets(), 40)
                hint = f" (Retry-After: {after} s)" if after else ""
                raise RateLimited(f"Hevy answered 429 (too many requests){hint}; stopped cleanly, the next run "
                                  "continues where this one stopped")
            text = redact(body.decode("utf-8", "replace"), self.secrets(), 160)
            raise HevyError(f"Hevy answered HTTP {status} for GET {path}: {text}")

    def _page(self, path: str, key: str, params: dict[str, Any]) -> tuple[int, list[Any]]:
        body = self.get(path, params)
        if body is None:
            return 0, []
        if not isinstance(body, dict):
            raise HevyError(f"Hevy's answer to GET {path} was not a JSON object")
        items = body.get(key)
        if items is None:
            items = []
        if not isinstance(items, list):
            raise HevyError(f"Hevy's answer to GET {path} has no list `{key}`")
        count = body.get("page_count")
        page_count = count if isinstance(count, int) and not isinstance(count, bool) and 0 <= count <= MAX_PAGES else 0
        return page_count, items

    # --- endpoints ------------------------------------------------------------------------

    def workouts(self, page: int, page_size: int = WORKOUTS_PAGE_SIZE) -> tuple[int, list[Any]]:
        """(page_count, workouts) of one page of ``GET /v1/workouts`` (newest first)."""
        return self._page("/v1/workouts", "workouts", {"page": page, "pageSize": page_size})

    def events(self, since: str, page: int, page_size: int = WORKOUTS_PAGE_SIZE) -> tuple[int, list[Any]]:
        """(page_count, events) of ``GET /v1/workouts/events?since=`` (``since``: ISO 8601, UTC)."""
        return self._page("/v1/workouts/events", "events", {"since": since, "page": page, "pageSize": page_size})

    def exercise_templates(self, page: int, page_size: int = TEMPLATES_PAGE_SIZE) -> tuple[int, list[Any]]:
        return self._page("/v1/exercise_templates", "exercise_templates", {"page": page, "pageSize": page_size})

    def body_measurements(self, page: int, page_size: int = WORKOUTS_PAGE_SIZE) -> tuple[int, list[Any]]:
        return self._page("/v1/body_measurements", "body_measurements", {"page": page, "pageSize": page_size})

    def workout_count(self) -> int | None:
        body = self.get("/v1/workouts/count")
        count = body.get("workout_count") if isinstance(body, dict) else None
        return count if isinstance(count, int) and not isinstance(count, bool) else None
