"""One function for every piece of text that came from outside (a server's error body, a payload)
before it is printed, logged, stored in ``ops.*``, sent to the webhook or put in a Prefect artifact.

:func:`redact` removes the secrets it is given (the client secret, the access and refresh tokens),
anything that looks like a credential (``client_secret=...``, ``"access_token": "..."``,
``Bearer ...``, OAuth ``code=...``, and runs of 32 or more letters and digits mixing both, the
shape of Strava's 40-hex tokens), turns control characters (newlines, terminal escapes) into
spaces so the text stays on one line, and bounds its length.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MAX_CHARS = 500
MASK = "[redacted]"

_BEARER = re.compile(r"(?i)\b(bearer)(\s+)[^\s\"',;]+")
_KEYED = re.compile(
    r"(?i)\b(access_token|refresh_token|client_secret|id_token|api_key|apikey|password|passwd|secret|token|code"
    r"|authorization)(\\?[\"']?\s*[:=]\s*\\?[\"']?)(?!\[redacted\])([^\s\"'\\&,;}\]]+)")
_LONG_RUN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{32,}(?![A-Za-z0-9])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def _looks_like_token(match: re.Match[str]) -> str:
    s = match.group(0)
    return MASK if any(c.isdigit() for c in s) and any(c.isalpha() for c in s) else s


def redact(text: object, secrets: Iterable[str | None] = (), limit: int = MAX_CHARS) -> str:
    """``text`` made safe to show: known ``secrets`` and credential-looking parts replaced by
    ``[redacted]``, control characters by spaces, at most ``limit`` characters (ending in "…")."""
    if text is None:
        return ""
    s = str(text)
    # longest first, so that a secret containing another one is removed whole
    for secret in sorted({x for x in secrets if x and len(x) >= 6}, key=len, reverse=True):
        s = s.replace(secret, MASK)
    s = _BEARER.sub(lambda m: m.group(1) + m.group(2) + MASK, s)
    s = _KEYED.sub(lambda m: m.group(1) + m.group(2) + MASK, s)
    s = _LONG_RUN.sub(_looks_like_token, s)
    s = _CONTROL.sub(" ", s).strip()
    if len(s) > limit:
        s = s[: max(limit - 1, 0)].rstrip() + "…"
    return s
