"""`runlift strava auth`: the OAuth authorization-code flow with a callback on 127.0.0.1."""

from __future__ import annotations

import http.server
import secrets
import threading
import urllib.parse
import webbrowser
from collections.abc import Callable
from pathlib import Path
from typing import Final

from runlift.flows.settings import Settings, SettingsError
from runlift.flows.strava_sync import make_client

SCOPE: Final = "activity:read_all"


def authorization_url(base_url: str, client_id: str, redirect_uri: str, state: str) -> str:
    """The URL to approve runlift, built by stravalib, pointed at the configured Strava address."""
    import logging

    logging.getLogger().disabled, was = True, logging.getLogger().disabled  # stravalib warns about env vars
    try:
        from stravalib import Client

        url = Client().authorization_url(client_id=int(client_id), redirect_uri=redirect_uri,
                                         scope=[SCOPE], state=state)
    finally:
        logging.getLogger().disabled = was
    parts = urllib.parse.urlsplit(url)
    base = urllib.parse.urlsplit(base_url)
    return urllib.parse.urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ""))


def authorize(settings: Settings, athlete_id: str, *, port: int | None = None, timeout_s: float = 300.0,
              open_browser: bool = False, echo: Callable[[str], None] = print) -> Path:
    cfg = settings.strava
    if not cfg.client_id or not cfg.client_secret:
        raise SettingsError("setting `strava.client_id` / `strava.client_secret` is missing; set STRAVA_CLIENT_ID and "
                            "STRAVA_CLIENT_SECRET from your Strava API application (https://www.strava.com/settings/api)")
    state = secrets.token_urlsafe(16)
    received: dict[str, str] = {}
    done = threading.Event()

    class Callback(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
            ok = query.get("state") == state and "code" in query
            if ok:
                received.update(query)
                done.set()
            body = (b"runlift is authorized; you can close this tab." if ok else
                    b"runlift: this is not the answer it waits for (wrong state or no code).")
            self.send_response(200 if ok else 400)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:  # the query holds the code: never log it
            pass

    server = http.server.HTTPServer(("127.0.0.1", cfg.callback_port if port is None else port), Callback)
    redirect_uri = f"http://127.0.0.1:{server.server_address[1]}/callback"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = authorization_url(cfg.base_url, cfg.client_id, redirect_uri, state)
        echo(f"open this URL and approve runlift (waiting {timeout_s:.0f} s):\n{url}")
        if open_browser:
            webbrowser.open(url)
        if not done.wait(timeout_s):
            raise TimeoutError(f"no approval arrived on {redirect_uri} within {timeout_s:.0f} s; run the command again")
    finally:
        server.shutdown()
        server.server_close()
    if SCOPE not in received.get("scope", SCOPE):
        raise PermissionError(f"Strava granted {received.get('scope')!r} without {SCOPE}; approve every box and retry")
    with make_client(settings, athlete_id) as client:
        client.exchange_code(received["code"])
    return settings.token_file(athlete_id)
