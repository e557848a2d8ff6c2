"""Garmin Connect's web API: sign-in through the maintained ``garminconnect`` library, the few data
calls (activity list, original file, weigh-ins) with httpx and the tokens it gave.

Why not the library for the data calls too: it builds every address from ``https://connectapi.<domain>``
and posts token refreshes to a fixed ``https://diauth.garmin.com`` address, so it cannot be pointed
at the emulator (``RUNLIFT_GARMIN_BASE_URL``) that the tests and the demo run against; the three
calls are small. The sign-in (Garmin's SSO, its TLS fingerprint checks, MFA) changes most often and
stays with the library (docs/garmin.md).

Polite: one request at a time, at least ``pace_s`` apart; a 429 raises :class:`RateLimited` at once
(no retry: the sync stops and the next run resumes); a sign-in challenge (captcha, MFA, a browser
check) raises :class:`LoginChallenge`. An expired access token is refreshed once with the refresh
token (as the library does) and the token file rewritten; when that fails, :class:`SignInNeeded`.
Nothing here logs a token or the password.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx

from runlift.connectors.garmin.tokens import GarminTokens, GarminTokenStore

DEFAULT_BASE_URL = "https://connectapi.garmin.com"
# The library's refresh address (garminconnect.client.DI_TOKEN_URL); under another base URL (the
# emulator) the same path below it.
TOKEN_PATH = "/di-oauth2-service/oauth/token"
DEFAULT_TOKEN_URL = "https://diauth.garmin.com" + TOKEN_PATH
LIST_PATH = "/activitylist-service/activities/search/activities"
DOWNLOAD_PATH = "/download-service/files/activity/{activity_id}"
WEIGH_INS_PATH = "/weight-service/weight/range/{start}/{end}"
USER_AGENT = "GCM-Android-5.23"  # what the library sends for these calls (native API headers)
CHALLENGE_WORDS = ("captcha", "challenge", "mfa", "verify you are human", "just a moment")


class GarminError(RuntimeError):
    """Garmin Connect could not be read; one line, no token in it."""


class RateLimited(GarminError):
    """429: stop now, the next run resumes."""


class SignInNeeded(GarminError):
    """No tokens, or tokens Garmin no longer accepts: `runlift garmin auth`."""


class LoginChallenge(GarminError):
    """Garmin asks for a sign-in challenge (captcha, MFA, a browser check) that a night cannot answer."""


class NotFound(GarminError):
    """404: e.g. an activity without an original file (entered by hand)."""


def token_url(base_url: str) -> str:
    return DEFAULT_TOKEN_URL if base_url.rstrip("/") == DEFAULT_BASE_URL else base_url.rstrip("/") + TOKEN_PATH


def _challenge(resp: httpx.Response) -> bool:
    if resp.status_code not in (401, 403):
        return False
    kind = resp.headers.get("content-type", "")
    text = resp.text[:4000].lower()
    return "html" in kind or any(word in text for word in CHALLENGE_WORDS)


CHALLENGE_MESSAGE = ("Garmin Connect asks for a sign-in challenge (captcha, MFA or a browser check) that an "
                     "unattended sync cannot answer; run `runlift garmin auth` yourself, then sync again")
SIGN_IN_MESSAGE = "Garmin Connect no longer accepts the saved tokens ({why}); run `runlift garmin auth` again"


class GarminClient:
    """The data calls, one at a time, ``pace_s`` apart."""

    def __init__(self, base_url: str, store: GarminTokenStore, *, pace_s: float = 1.0, timeout_s: float = 30.0,
                 retries: int = 2, transport: httpx.BaseTransport | None = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self.base_url = base_url.rstrip("/")
        self.store = store
        self.pace_s = pace_s
        self.retries = retries
        self.clock, self.sleep = clock, sleep
        self.calls = 0
        self._last: float | None = None
        self._tokens: GarminTokens | None = None
        self._http = httpx.Client(timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)),
                                  transport=transport, follow_redirects=False,
                                  headers={"User-Agent": USER_AGENT, "X-Garmin-Client-Platform": "Android"})

    def __enter__(self) -> GarminClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def secrets(self) -> list[str]:
        t = self._tokens
        return [s for s in ((t.di_token, t.di_refresh_token) if t else ()) if s]

    def _tokens_now(self) -> GarminTokens:
        if self._tokens is None:
            self._tokens = self.store.load()
            if self._tokens is None:
                raise SignInNeeded(f"no Garmin tokens at {self.store.path}; run `runlift garmin auth` first")
        return self._tokens

    def _pace(self) -> None:
        if self._last is not None and self.pace_s > 0:
            wait = self._last + self.pace_s - self.clock()
            if wait > 0:
                self.sleep(wait)
        self._last = self.clock()

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request (paced), retried on a connection error or a 5xx, never on a 429."""
        for attempt in range(self.retries + 1):
            self._pace()
            self.calls += 1
            try:
                resp = self._http.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                if attempt == self.retries:
                    raise GarminError(f"Garmin Connect unreachable ({type(exc).__name__}) after "
                                      f"{self.retries + 1} tries; the next run resumes") from None
                self.sleep(min(30.0, 2.0 ** attempt))
                continue
            if resp.status_code >= 500 and attempt < self.retries:
                self.sleep(min(30.0, 2.0 ** attempt))
                continue
            return resp
        raise AssertionError("unreachable")

    def _refresh(self) -> None:
        tokens = self._tokens_now()
        if not tokens.di_refresh_token or not tokens.di_client_id:
            raise SignInNeeded(SIGN_IN_MESSAGE.format(why="expired, and no refresh token saved"))
        resp = self._send("POST", token_url(self.base_url),
                          auth=(tokens.di_client_id, ""),
                          data={"grant_type": "refresh_token", "client_id": tokens.di_client_id,
                                "refresh_token": tokens.di_refresh_token})
        if _challenge(resp) and resp.status_code == 403:
            raise LoginChallenge(CHALLENGE_MESSAGE)
        if resp.status_code == 429:
            raise RateLimited("Garmin Connect answered 429 (too many requests) to the token refresh; "
                              "stopped, the next run resumes")
        if resp.status_code != 200:
            raise SignInNeeded(SIGN_IN_MESSAGE.format(why=f"the token refresh answered {resp.status_code}"))
        try:
            new = GarminTokens.from_json(resp.json(), "Garmin's token answer")
        except ValueError as exc:
            raise SignInNeeded(SIGN_IN_MESSAGE.format(why=str(exc))) from None
        # Garmin may or may not send a new refresh token: keep the old one when it doesn't
        self._tokens = GarminTokens(new.di_token, new.di_refresh_token or tokens.di_refresh_token,
                                    new.di_client_id or tokens.di_client_id)
        self.store.save(self._tokens)

    def _get(self, path: str, params: dict[str, str] | None = None, accept: str = "application/json") -> httpx.Response:
        url = self.base_url + path
        for attempt in range(2):
            headers = {"Authorization": f"Bearer {self._tokens_now().di_token}", "Accept": accept}
            resp = self._send("GET", url, params=params, headers=headers)
            if resp.status_code == 429:
                after = resp.headers.get("retry-after")
                raise RateLimited("Garmin Connect answered 429 (too many requests)"
                                  + (f", retry after {after} s" if after and after.isdigit() else "")
                                  + "; stopped, the next run resumes where this one stopped")
            if _challenge(resp):
                raise LoginChallenge(CHALLENGE_MESSAGE)
            if resp.status_code == 401 and attempt == 0:
                self._refresh()
                continue
            if resp.status_code in (401, 403):
                raise SignInNeeded(SIGN_IN_MESSAGE.format(why=f"HTTP {resp.status_code}"))
            if resp.status_code == 404:
                raise NotFound(f"Garmin Connect has no {path}")
            if resp.status_code != 200:
                raise GarminError(f"Garmin Connect answered HTTP {resp.status_code} to {path}; the next run resumes")
            return resp
        raise AssertionError("unreachable")

    def _json(self, path: str, params: dict[str, str] | None = None) -> Any:
        resp = self._get(path, params)
        try:
            return resp.json()
        except ValueError:
            raise GarminError(f"Garmin Connect's answer to {path} was not JSON") from None

    def list_activities(self, start: int, limit: int, start_date: str | None = None) -> list[dict[str, Any]]:
        """One page of activities, newest first (``start``: offset), since ``start_date`` (YYYY-MM-DD)."""
        params = {"start": str(start), "limit": str(limit)}
        if start_date:
            params["startDate"] = start_date
        page = self._json(LIST_PATH, params)
        if not isinstance(page, list):
            raise GarminError("Garmin Connect's activity list was not a JSON list")
        return [a for a in page if isinstance(a, dict)]

    def download_original(self, activity_id: int) -> bytes:
        """The activity's original upload as Garmin serves it: a zip (raises NotFound when none)."""
        return self._get(DOWNLOAD_PATH.format(activity_id=activity_id), accept="*/*").content

    def weigh_ins(self, start: str, end: str) -> Any:
        """Weigh-ins from ``start`` to ``end`` (YYYY-MM-DD, both included): Garmin's JSON."""
        return self._json(WEIGH_INS_PATH.format(start=start, end=end), {"includeAll": "true"})


def sign_in(base_url: str, email: str, password: str, prompt_mfa: Callable[[], str]) -> GarminTokens:
    """Sign in once and return the tokens (the password is used here and forgotten).

    Garmin itself: the ``garminconnect`` library (its SSO strategies, MFA through ``prompt_mfa``).
    Another base URL (the emulator): its sign-in stand-in, ``POST {base}/sso/signin``, with the same
    MFA step, because the library cannot be pointed elsewhere.
    """
    if base_url.rstrip("/") == DEFAULT_BASE_URL:
        from garminconnect.client import Client
        from garminconnect.exceptions import (
            GarminConnectAuthenticationError,
            GarminConnectConnectionError,
            GarminConnectTooManyRequestsError,
        )

        client = Client()
        try:
            client.login(email, password, prompt_mfa=prompt_mfa)
        except GarminConnectAuthenticationError as exc:
            raise SignInNeeded(f"Garmin refused the sign-in: {' '.join(str(exc).split())[:200]}") from None
        except GarminConnectTooManyRequestsError:
            raise RateLimited("Garmin's sign-in answered 429 (too many requests); try again later") from None
        except GarminConnectConnectionError as exc:
            raise LoginChallenge(f"Garmin's sign-in did not go through ({' '.join(str(exc).split())[:200]}); "
                                 "try again later, or from a network Garmin trusts") from None
        if not client.di_token:  # the library fell back to a web-session cookie, which expires within hours
            raise SignInNeeded("Garmin's sign-in gave no OAuth token (only a web session, which a nightly sync "
                               "cannot renew); try `runlift garmin auth` again later")
        return GarminTokens.from_json(json.loads(client.dumps()), "the library's tokens")
    with httpx.Client(timeout=30.0) as http:
        url = base_url.rstrip("/") + "/sso/signin"
        resp = http.post(url, json={"email": email, "password": password})
        if resp.status_code == 200 and resp.json().get("mfa_required"):
            resp = http.post(url, json={"email": email, "password": password, "mfa_code": prompt_mfa()})
        if resp.status_code == 429:
            raise RateLimited("Garmin's sign-in answered 429 (too many requests); try again later")
        if resp.status_code != 200:
            raise SignInNeeded(f"Garmin refused the sign-in (HTTP {resp.status_code})")
        return GarminTokens.from_json(resp.json(), "the sign-in answer")
