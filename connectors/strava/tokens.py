"""Strava OAuth tokens in a file written atomically with mode 0600.

The token file holds the access token, its expiry, the refresh token and the Strava athlete id.
For a first unattended run (a server, CI) the refresh token may come from ``STRAVA_REFRESH_TOKEN``;
from then on the file is the truth, because Strava may rotate the refresh token on any refresh.
Nothing here logs or prints a token.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Tokens:
    access_token: str
    expires_at: int
    refresh_token: str
    strava_athlete_id: int | None = None
    scope: str | None = None

    def __repr__(self) -> str:  # never show secrets, even in a traceback
        return f"Tokens(expires_at={self.expires_at}, strava_athlete_id={self.strava_athlete_id})"

    @classmethod
    def from_response(cls, body: dict[str, Any], previous: "Tokens | None" = None) -> "Tokens":
        athlete = body.get("athlete") if isinstance(body.get("athlete"), dict) else {}
        return cls(
            access_token=str(body["access_token"]),
            expires_at=int(body.get("expires_at") or 0),
            # Strava may or may not send a new refresh token; keep the old one when it doesn't.
            refresh_token=str(body.get("refresh_token") or (previous.refresh_token if previous else "")),
            strava_athlete_id=int(athlete["id"]) if athlete.get("id") else (previous.strava_athlete_id if previous else None),
            scope=body.get("scope") or (previous.scope if previous else None),
        )


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, readable by the owner only (0600), durably."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class TokenStore:
    """The token file of one athlete, with an optional first refresh token from the environment."""

    def __init__(self, path: Path, bootstrap_refresh_token: str | None = None) -> None:
        self.path = path
        self.bootstrap_refresh_token = bootstrap_refresh_token

    def load(self) -> Tokens | None:
        if self.path.exists():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                return Tokens(**{k: data.get(k) for k in Tokens.__dataclass_fields__})
            except (ValueError, TypeError) as exc:
                raise ValueError(f"token file {self.path} is unreadable ({type(exc).__name__}); "
                                 "delete it and run `runlift strava auth`") from None
        if self.bootstrap_refresh_token:
            return Tokens(access_token="", expires_at=0, refresh_token=self.bootstrap_refresh_token)
        return None

    def save(self, tokens: Tokens) -> None:
        write_private(self.path, json.dumps(asdict(tokens), indent=1))

    def delete(self) -> bool:
        if self.path.exists():
            self.path.unlink()
            return True
        return False
