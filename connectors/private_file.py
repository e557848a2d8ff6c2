"""A secret file (tokens) written atomically, readable by its owner only (mode 0600), durably.

Shared by every source that keeps tokens (Strava, Garmin Connect): a reader never sees half a file,
a crash leaves the old file or the new one, and no moment exists where others may read it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


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


def tighten_mode(path: Path) -> int | None:
    """Make an existing secret file 0600 when group or others may read it: its old mode when it had
    to be changed, else None. Raises OSError when it cannot be changed."""
    mode = path.stat().st_mode & 0o777
    if not mode & 0o077:
        return None
    os.chmod(path, 0o600)
    return mode
