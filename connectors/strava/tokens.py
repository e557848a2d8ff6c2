"""Strava OAuth tokens in a file written atomically with mode 0600.

The token file holds the access token, its expiry, the refresh token and the Strava athlete id.
For a first unattended run (a server, CI) the refresh token may come from ``STRAVA_REFRESH_TOKEN``;
from then on the file is the truth, because Strava may rotate the refresh token on any refresh.
Nothing here logs or prints a token.

What a server sends and what the file holds are checked before use: anything odd raises
:class:`TokenError` (one line, no token in it). A token file that others may read (group/other
permission bits) is tightened to 0600 with a warning; if that is not possible it is refused.
"""

from __future__ import annotations

import json
import math
import os
import stat
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from runlift.connectors.private_file import write_private

__all__ = ["TokenError", "TokenStore", "Tokens", "write_private"]

MAX_EPOCH = 10**11  # year ~5138: beyond that an expiry is nonsense
MAX_ID = 2**63 - 1


class TokenError(ValueError):
    """A token answer or token file that cannot be used; the message holds no token."""


def _epoch(value: object) -> int | None:
    """A whole epoch second, or None when the value is not one (bool, text, inf, out of range)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            return None
        value = int(value)
    if isinstance(value, int) and 0 <= value <= MAX_EPOCH:
        return value
    return None


def _athlete_id(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        return None
    return value


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
    def from_response(cls, body: Any, previous: Tokens | None = None) -> Tokens:
        """Tokens from Strava's token answer; raises :class:`TokenError` when it is not usable."""
        if not isinstance(body, dict):
            raise TokenError("Strava's token answer was not a JSON object")
        access = body.get("access_token")
        if not isinstance(access, str) or not access or len(access) > 4096:
            raise TokenError("Strava's token answer had no usable access_token")
        expires_at = _epoch(body.get("expires_at"))
        if expires_at is None:
            raise TokenError("Strava's token answer had no usable expires_at (epoch seconds)")
        refresh = body.get("refresh_token")
        if refresh is not None and (not isinstance(refresh, str) or len(refresh) > 4096):
            raise TokenError("Strava's token answer had an unusable refresh_token")
        athlete = body.get("athlete")
        if not isinstance(athlete, dict):
            athlete = {}
        scope = body.get("scope") if isinstance(body.get("scope"), str) else None
        return cls(
            access_token=access,
            expires_at=expires_at,
            # Strava may or may not send a new refresh token; keep the old one when it doesn't.
            refresh_token=refresh or (previous.refresh_token if previous else ""),
            strava_athlete_id=_athlete_id(athlete.get("id")) or (previous.strava_athlete_id if previous else None),
            scope=scope or (previous.scope if previous else None),
        )

    @classmethod
    def from_file(cls, data: Any) -> Tokens:
        """Tokens from the token file's JSON; raises ValueError (saying what is wrong) when it is not that."""
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        access, refresh = data.get("access_token"), data.get("refresh_token")
        expires_at, athlete = _epoch(data.get("expires_at")), data.get("strava_athlete_id")
        scope = data.get("scope")
        if not isinstance(access, str) or not isinstance(refresh, str):
            raise ValueError("access_token / refresh_token are not text")
        if expires_at is None:
            raise ValueError("expires_at is not epoch seconds")
        if athlete is not None and _athlete_id(athlete) is None:
            raise ValueError("strava_athlete_id is not an id")
        if scope is not None and not isinstance(scope, str):
            raise ValueError("scope is not text")
        return cls(access, expires_at, refresh, athlete, scope)


def _stderr_warning(message: str) -> None:
    print(f"runlift: {message}", file=sys.stderr)


class TokenStore:
    """The token file of one athlete, with an optional first refresh token from the environment.

    ``warn`` hears about a token file whose permissions had to be tightened (a line starting "warning:").
    """

    def __init__(self, path: Path, bootstrap_refresh_token: str | None = None,
                 warn: Callable[[str], None] = _stderr_warning) -> None:
        self.path = path
        self.bootstrap_refresh_token = bootstrap_refresh_token
        self.warn = warn

    def _check_mode(self) -> None:
        """Group/other permission bits on the token file: tighten to 0600 and say so, or refuse."""
        mode = stat.S_IMODE(self.path.stat().st_mode)
        if not mode & 0o077:
            return
        try:
            os.chmod(self.path, 0o600)
        except OSError as exc:
            raise TokenError(f"token file {self.path} has mode {mode:04o} (others may read it) and could not be "
                             f"made 0600 ({exc.strerror}); fix its permissions (chmod 600)") from None
        self.warn(f"warning: token file {self.path} had mode {mode:04o} (group/other access); tightened to 0600. "
                  "Its tokens may have been read: revoke runlift's access at https://www.strava.com/settings/apps "
                  "and run `runlift strava auth` if others have access to this machine")

    def load(self) -> Tokens | None:
        """The saved tokens (or the bootstrap refresh token); raises :class:`TokenError` on an
        unusable file."""
        if self.path.exists():
            unusable = (f"token file {self.path} is unusable ({{}}); delete it and run `runlift strava auth`")
            try:
                self._check_mode()
                data = json.loads(self.path.read_text(encoding="utf-8"))
                return Tokens.from_file(data)
            except TokenError:
                raise
            except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
                raise TokenError(unusable.format("not valid JSON")) from None
            except ValueError as exc:
                raise TokenError(unusable.format(exc)) from None
            except OSError as exc:
                raise TokenError(unusable.format(exc.strerror or type(exc).__name__)) from None
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
