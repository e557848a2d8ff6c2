"""A misbehaving HTTP server for tests: a real socket server on 127.0.0.1 that answers whatever a
test tells it to, as badly as asked (trickled headers or body, repeated pages, odd headers, HTML
where JSON belongs, secrets echoed back).

Every connection is served on a daemon thread; ``stop()`` ends trickles within a tick, so a test
using it is bounded in time even when the code under test is not.

    def answer(req: Request) -> Reply: ...
    with HostileServer(answer) as server:
        httpx.get(server.base_url + "/x")

:class:`FakeStrava` is a ready answer function with Strava's routes (token, activity list with
``after``, streams) whose pieces a test or the fuzzer replaces.
"""

from __future__ import annotations

import calendar
import json
import secrets
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(self.body.decode("latin-1")))


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    trickle_s: float = 0.0  # pause between single bytes of the body
    trickle_headers_s: float = 0.0  # pause between single bytes of the status line and headers
    content_type: str = "application/json"


def json_reply(obj: Any, status: int = 200, headers: list[tuple[str, str]] | None = None, **kw: Any) -> Reply:
    return Reply(status, json.dumps(obj).encode(), list(headers or []), **kw)


REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}


class HostileServer:
    def __init__(self, answer: Callable[[Request], Reply], host: str = "127.0.0.1") -> None:
        self.answer = answer
        self.requests: list[Request] = []
        self._stop = threading.Event()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, 0))
        self._sock.listen(64)
        self._sock.settimeout(0.1)
        self.base_url = f"http://{host}:{self._sock.getsockname()[1]}"
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> HostileServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._sock.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        reader = conn.makefile("rb")
        try:
            while not self._stop.is_set():
                line = reader.readline(65536)
                if not line:
                    return
                method, target, _ = line.decode("latin-1").split(" ", 2)
                headers: dict[str, str] = {}
                while True:
                    h = reader.readline(65536).decode("latin-1").rstrip("\r\n")
                    if not h:
                        break
                    k, _, v = h.partition(":")
                    headers[k.strip().lower()] = v.strip()
                body = reader.read(int(headers.get("content-length", "0") or 0))
                parts = urllib.parse.urlsplit(target)
                req = Request(method, parts.path, dict(urllib.parse.parse_qsl(parts.query)), headers, body)
                self.requests.append(req)
                reply = self.answer(req)
                head = [f"HTTP/1.1 {reply.status} {REASONS.get(reply.status, 'Whatever')}",
                        f"Content-Type: {reply.content_type}", f"Content-Length: {len(reply.body)}"]
                head += [f"{k}: {v}" for k, v in reply.headers]
                head_bytes = ("\r\n".join(head) + "\r\n\r\n").encode("utf-8", "surrogatepass")
                self._write(conn, head_bytes, reply.trickle_headers_s)
                self._write(conn, reply.body, reply.trickle_s)
        except (OSError, ValueError):
            return
        finally:
            reader.close()
            conn.close()

    def _write(self, conn: socket.socket, data: bytes, trickle_s: float) -> None:
        if not trickle_s:
            conn.sendall(data)
            return
        for i in range(len(data)):
            if self._stop.wait(trickle_s):
                raise OSError("server stopped")
            conn.sendall(data[i:i + 1])


def activity(i: int, start: int, athlete_id: int = 4242, **extra: Any) -> dict[str, Any]:
    """A Strava-shaped summary activity; ``start`` in epoch seconds."""
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start))
    local = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start - 25200))
    return {"id": i, "resource_state": 2, "athlete": {"id": athlete_id, "resource_state": 1},
            "name": f"Run {i}", "sport_type": "Run", "type": "Run", "start_date": iso,
            "start_date_local": local, "timezone": "(GMT-07:00) America/Denver", "utc_offset": -25200.0,
            "distance": 10000.0 + i, "moving_time": 3000, "elapsed_time": 3100, "total_elevation_gain": 50.0,
            "average_speed": 3.3, "max_speed": 4.5, "manual": False, "trainer": False, "commute": False, **extra}


class FakeStrava:
    """Strava's routes as an answer function. Replace ``token``, ``page`` or ``streams`` to misbehave.

    ``activities`` are served oldest first, honouring ``after`` and ``per_page`` like Strava
    (``ignore_after`` serves the same first page whatever ``after`` says).
    """

    def __init__(self, activities: list[dict[str, Any]] | None = None, *, ignore_after: bool = False,
                 headers: list[tuple[str, str]] | None = None) -> None:
        self.activities = activities or []
        self.ignore_after = ignore_after
        self.headers = headers or [("X-RateLimit-Limit", "200,2000"), ("X-RateLimit-Usage", "1,1"),
                                   ("X-ReadRateLimit-Limit", "100,1000"), ("X-ReadRateLimit-Usage", "1,1")]
        self.refresh_token = secrets.token_hex(20)
        self.access_tokens: list[str] = []
        self.token: Callable[[Request], Reply] = self.good_token
        self.page: Callable[[Request], Reply] = self.good_page
        self.streams: Callable[[Request], Reply] = lambda req: json_reply({"message": "Record Not Found"}, 404)

    def __call__(self, req: Request) -> Reply:
        if req.path == "/oauth/token":
            return self.token(req)
        if req.path == "/api/v3/athlete/activities":
            return self.page(req)
        if req.path.endswith("/streams"):
            return self.streams(req)
        return json_reply({"message": "Record Not Found"}, 404)

    def good_token(self, req: Request) -> Reply:
        access = secrets.token_hex(20)
        self.access_tokens.append(access)
        return json_reply({"token_type": "Bearer", "access_token": access, "expires_at": int(time.time()) + 21600,
                           "expires_in": 21600, "refresh_token": self.refresh_token})

    def listed(self, req: Request) -> list[dict[str, Any]]:
        after = 0 if self.ignore_after else int(float(req.query.get("after", 0)))
        per_page = int(req.query.get("per_page", 30))
        page = int(req.query.get("page", 1))

        def start(a: dict[str, Any]) -> float:
            try:
                return calendar.timegm(time.strptime(a["start_date"], "%Y-%m-%dT%H:%M:%SZ"))
            except (KeyError, TypeError, ValueError, OverflowError):
                return float("inf")

        chosen = [a for a in self.activities if not isinstance(a, dict) or start(a) > after]
        return chosen[(page - 1) * per_page: page * per_page]

    def good_page(self, req: Request) -> Reply:
        return json_reply(self.listed(req), headers=self.headers)
