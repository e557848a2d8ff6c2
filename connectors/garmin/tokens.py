"""Garmin Connect tokens in a file written atomically with mode 0600; the password is never kept.

The file holds what the maintained ``garminconnect`` library keeps after a sign-in (its
``Client.dumps()``): the DI OAuth2 access token, its refresh token and the client id they belong
to. The same JSON the library writes, so a token file of either can be read by the other.
Nothing here logs or prints a token.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runlift.connectors.private_file import tighten_mode, write_private

MAX_TOKEN_CHARS = 16384


class GarminTokenError(ValueError):
    """A token file that cannot be used; the message holds no token."""


@dataclass(frozen=True)
class GarminTokens:
    di_token: str
    di_refresh_token: str | None = None
    di_client_id: str | None = None

    def __repr__(self) -> str:  # never show secrets, even in a traceback
        return f"GarminTokens(di_client_id={self.di_client_id!r})"

    @classmethod
    def from_json(cls, data: Any, what: str) -> GarminTokens:
        """Tokens from the file's (or a token answer's) JSON; GarminTokenError saying what is wrong."""
        if not isinstance(data, dict):
            raise GarminTokenError(f"{what} is not a JSON object")
        token = data.get("di_token", data.get("access_token"))
        refresh = data.get("di_refresh_token", data.get("refresh_token"))
        client = data.get("di_client_id", data.get("client_id"))
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
            raise GarminTokenError(f"{what} has no usable access token")
        if refresh is not None and (not isinstance(refresh, str) or len(refresh) > MAX_TOKEN_CHARS):
            raise GarminTokenError(f"{what} has an unusable refresh token")
        if client is not None and not isinstance(client, str):
            raise GarminTokenError(f"{what} has an unusable client id")
        return cls(token, refresh or None, client or None)

    def to_json(self) -> str:
        return json.dumps({"di_token": self.di_token, "di_refresh_token": self.di_refresh_token,
                           "di_client_id": self.di_client_id}, indent=1)


def _stderr(message: str) -> None:
    print(f"runlift: {message}", file=sys.stderr)


class GarminTokenStore:
    """The Garmin token file of one athlete."""

    def __init__(self, path: Path, warn: Callable[[str], None] = _stderr) -> None:
        self.path = path
        self.warn = warn

    def load(self) -> GarminTokens | None:
        """The saved tokens, None when there is no file; GarminTokenError on an unusable one."""
        if not self.path.exists():
            return None
        advice = "delete it and run `runlift garmin auth`"
        try:
            old = tighten_mode(self.path)
            if old is not None:
                self.warn(f"warning: Garmin token file {self.path} had mode {old:04o} (group/other access); "
                          "tightened to 0600. Its tokens may have been read: change your Garmin password if "
                          "others have access to this machine")
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            raise GarminTokenError(f"Garmin token file {self.path} is not valid JSON; {advice}") from None
        except OSError as exc:
            raise GarminTokenError(f"Garmin token file {self.path} is unusable "
                                   f"({exc.strerror or type(exc).__name__}); {advice}") from None
        try:
            return GarminTokens.from_json(data, f"Garmin token file {self.path}")
        except GarminTokenError as exc:
            raise GarminTokenError(f"{exc}; {advice}") from None

    def save(self, tokens: GarminTokens) -> None:
        write_private(self.path, tokens.to_json())

    def delete(self) -> bool:
        if self.path.exists():
            self.path.unlink()
            return True
        return False
