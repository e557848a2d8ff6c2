"""Find FIT files: plain files, ``.fit.gz``, folders (recursively) and ``.zip`` archives, zips in zips.

Yields one :class:`FitSource` at a time, in folder order (sorted) and archive order, so memory is
bounded by one FIT file plus, for a large inner zip, a spooled temporary file that is removed as
soon as that archive is done. Nothing is extracted to disk.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

# Inner zips up to this size are read into memory; larger ones are spooled to a temporary file.
SPOOL_IN_MEMORY = 64 * 1024 * 1024
# A single FIT file larger than this is not a real activity (the biggest real ones are ~10 MB).
MAX_FIT_BYTES = 256 * 1024 * 1024
ARCHIVE_SEP = "!/"


@dataclass(frozen=True)
class FitSource:
    """One candidate FIT file.

    ``data`` is None when nothing could be read (``error`` says why); ``data`` with an ``error``
    means bytes that are not FIT (e.g. a broken ``.fit.gz``), to be recorded as rejected.
    """

    path: str
    data: bytes | None
    error: str | None = None
    compressed_size: int = 0


def fit_kind(name: str) -> str | None:
    low = name.lower()
    if low.endswith(".fit"):
        return "fit"
    if low.endswith(".fit.gz"):
        return "fitgz"
    if low.endswith(".zip"):
        return "zip"
    return None


def _from_bytes(path: str, kind: str, raw: bytes) -> FitSource:
    if kind == "fitgz":
        try:
            d = zlib.decompressobj(wbits=31)
            data = d.decompress(raw, MAX_FIT_BYTES + 1)
            if not d.eof and len(data) <= MAX_FIT_BYTES:
                return FitSource(path, raw, "not a valid gzip file: truncated or corrupt stream", len(raw))
            if len(data) > MAX_FIT_BYTES:
                return FitSource(path, None, f"larger than {MAX_FIT_BYTES} bytes uncompressed", len(raw))
            return FitSource(path, data, None, len(raw))
        except (zlib.error, EOFError, OSError) as exc:
            # Keep the bytes: the importer records the file as rejected, with this reason.
            return FitSource(path, raw, f"not a valid gzip file: {exc}", len(raw))
    return FitSource(path, raw, None, len(raw))


def walk_folder(folder: Path) -> Iterator[Path]:
    """Every file below ``folder`` whose name says FIT, .fit.gz or zip, in sorted order."""
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            if fit_kind(name) is not None:
                yield Path(root) / name


def iter_sources(paths: Iterable[str | os.PathLike[str]]) -> Iterator[FitSource]:
    """Every FIT file under ``paths``; unreadable ones come with an ``error`` instead of data."""
    for p in paths:
        path = Path(p).expanduser()
        if path.is_dir():
            for found in walk_folder(path):
                yield from _from_path(found, explicit=False)
        elif path.exists():
            yield from _from_path(path, explicit=True)
        else:
            yield FitSource(str(path), None, "no such file or folder")


def _from_path(path: Path, *, explicit: bool) -> Iterator[FitSource]:
    kind = fit_kind(path.name)
    if kind is None:
        if explicit:  # a file named on the command line is tried whatever its name
            kind = "fit"
        else:
            return
    try:
        if kind == "zip":
            with path.open("rb") as fh:
                yield from _from_zip(str(path), fh)
            return
        size = path.stat().st_size
        if size > MAX_FIT_BYTES:
            yield FitSource(str(path), None, f"larger than {MAX_FIT_BYTES} bytes, not a FIT activity")
            return
        yield _from_bytes(str(path), kind, path.read_bytes())
    except OSError as exc:
        yield FitSource(str(path), None, f"cannot read: {exc.strerror or exc}")


def _from_zip(label: str, fh: IO[bytes]) -> Iterator[FitSource]:
    try:
        archive = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        yield FitSource(label, None, f"not a valid zip archive: {exc}")
        return
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            kind = fit_kind(info.filename)
            if kind is None:
                continue
            member = f"{label}{ARCHIVE_SEP}{info.filename}"
            try:
                if kind == "zip":
                    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
                        with archive.open(info) as src:
                            while chunk := src.read(1 << 20):
                                spool.write(chunk)
                        spool.seek(0)
                        yield from _from_zip(member, spool)
                    continue
                if info.file_size > MAX_FIT_BYTES:
                    yield FitSource(member, None, f"larger than {MAX_FIT_BYTES} bytes, not a FIT activity")
                    continue
                with archive.open(info) as src:
                    raw = src.read(MAX_FIT_BYTES + 1)
                yield _from_bytes(member, kind, raw)
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
                yield FitSource(member, None, f"cannot read from archive: {exc}")
