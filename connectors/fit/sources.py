"""Find FIT files: plain files, ``.fit.gz``, folders (recursively) and ``.zip`` archives, zips in zips.

Yields one :class:`FitSource` at a time, in folder order (sorted) and archive order, so memory is
bounded by one FIT file plus, for a large inner zip, a spooled temporary file that is removed as
soon as that archive is done. Nothing is extracted to disk.
"""

from __future__ import annotations

import os
import struct
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


class UnpackError(ValueError):
    """A zip member whose stored bytes do not inflate to what the archive says (corrupt archive)."""


@dataclass(frozen=True)
class Packed:
    """A zip member's bytes exactly as stored in the archive, not yet inflated.

    Inflating is left to whoever needs the content (the import does it in its decoding
    processes, so the single writer process does not). A deflated member's stream is also a
    ready-made gzip body: :meth:`gzip_bytes` wraps it without compressing anything again.
    """

    method: int  # zipfile.ZIP_DEFLATED or zipfile.ZIP_STORED
    raw: bytes
    crc32: int
    size: int  # uncompressed, as the archive's central directory says

    def unpack(self) -> bytes:
        """The member's content, checked against the archive's size and CRC-32."""
        if self.method == zipfile.ZIP_STORED:
            data = self.raw
        else:
            d = zlib.decompressobj(-15)
            try:
                data = d.decompress(self.raw, MAX_FIT_BYTES + 1)
            except zlib.error as exc:
                raise UnpackError(f"cannot read from archive: {exc}") from None
            if len(data) > MAX_FIT_BYTES:
                raise UnpackError(f"larger than {MAX_FIT_BYTES} bytes uncompressed")
            if not d.eof:
                raise UnpackError("cannot read from archive: truncated deflate stream")
        if len(data) != self.size:
            raise UnpackError(f"cannot read from archive: {len(data)} bytes where the archive says {self.size}")
        if zlib.crc32(data) != self.crc32:
            raise UnpackError("cannot read from archive: bad CRC-32")
        return data

    def gzip_bytes(self) -> bytes | None:
        """A gzip file of the content made from the stored deflate stream (None if not deflated).

        Only valid once :meth:`unpack` succeeded (the stream ends exactly and matches the CRC).
        """
        if self.method != zipfile.ZIP_DEFLATED:
            return None
        # gzip header: magic, deflate, no flags, mtime 0, no extra flags, OS unknown (RFC 1952)
        return (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + self.raw
                + struct.pack("<II", self.crc32 & 0xFFFFFFFF, self.size & 0xFFFFFFFF))


@dataclass(frozen=True)
class FitSource:
    """One candidate FIT file.

    ``data`` is None when nothing could be read (``error`` says why); ``data`` with an ``error``
    means bytes that are not FIT (e.g. a broken ``.fit.gz``), to be recorded as rejected.
    With ``iter_sources(..., packed=True)`` a zip member may come as ``packed`` instead of
    ``data``: its stored bytes, to be inflated with ``packed.unpack()``.
    """

    path: str
    data: bytes | None
    error: str | None = None
    packed: Packed | None = None

    @property
    def size(self) -> int:
        """Uncompressed bytes (as the archive says, for a packed member)."""
        if self.packed is not None:
            return self.packed.size
        return len(self.data) if self.data is not None else 0

    def content(self) -> bytes:
        """The file's bytes, inflating a packed member (raises :class:`UnpackError`)."""
        if self.packed is not None:
            return self.packed.unpack()
        if self.data is None:
            raise UnpackError(self.error or "unreadable")
        return self.data


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
                return FitSource(path, raw, "not a valid gzip file: truncated or corrupt stream")
            if len(data) > MAX_FIT_BYTES:
                return FitSource(path, None, f"larger than {MAX_FIT_BYTES} bytes uncompressed")
            return FitSource(path, data)
        except (zlib.error, EOFError, OSError) as exc:
            # Keep the bytes: the importer records the file as rejected, with this reason.
            return FitSource(path, raw, f"not a valid gzip file: {exc}")
    return FitSource(path, raw)


def walk_folder(folder: Path) -> Iterator[Path]:
    """Every file below ``folder`` whose name says FIT, .fit.gz or zip, in sorted order."""
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            if fit_kind(name) is not None:
                yield Path(root) / name


def iter_sources(paths: Iterable[str | os.PathLike[str]], *, packed: bool = False) -> Iterator[FitSource]:
    """Every FIT file under ``paths``; unreadable ones come with an ``error`` instead of data.

    ``packed``: hand ``.fit`` members of zip archives over as stored (deflated or stored), not
    inflated, in ``FitSource.packed``; the caller inflates them where it likes.
    """
    for p in paths:
        path = Path(p).expanduser()
        if path.is_dir():
            for found in walk_folder(path):
                yield from _from_path(found, explicit=False, packed=packed)
        elif path.exists():
            yield from _from_path(path, explicit=True, packed=packed)
        else:
            yield FitSource(str(path), None, "no such file or folder")


def _from_path(path: Path, *, explicit: bool, packed: bool = False) -> Iterator[FitSource]:
    kind = fit_kind(path.name)
    if kind is None:
        if explicit:  # a file named on the command line is tried whatever its name
            kind = "fit"
        else:
            return
    try:
        if kind == "zip":
            with path.open("rb") as fh:
                yield from _from_zip(str(path), fh, packed)
            return
        size = path.stat().st_size
        if size > MAX_FIT_BYTES:
            yield FitSource(str(path), None, f"larger than {MAX_FIT_BYTES} bytes, not a FIT activity")
            return
        yield _from_bytes(str(path), kind, path.read_bytes())
    except OSError as exc:
        yield FitSource(str(path), None, f"cannot read: {exc.strerror or exc}")


def _stored_bytes(fh: IO[bytes], info: zipfile.ZipInfo) -> bytes:
    """A member's bytes as stored: after its local header, ``compress_size`` of them."""
    fh.seek(info.header_offset)
    header = fh.read(30)
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local file header for {info.filename}")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    fh.seek(info.header_offset + 30 + name_len + extra_len)
    raw = fh.read(info.compress_size)
    if len(raw) != info.compress_size:
        raise zipfile.BadZipFile(f"truncated member {info.filename}")
    return raw


def _from_zip(label: str, fh: IO[bytes], packed: bool = False) -> Iterator[FitSource]:
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
                        yield from _from_zip(member, spool, packed)
                    continue
                if info.file_size > MAX_FIT_BYTES:
                    yield FitSource(member, None, f"larger than {MAX_FIT_BYTES} bytes, not a FIT activity")
                    continue
                if (packed and kind == "fit" and not info.flag_bits & 0x1
                        and info.compress_type in (zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED)):
                    raw = _stored_bytes(fh, info)
                    yield FitSource(member, None, packed=Packed(info.compress_type, raw, info.CRC, info.file_size))
                    continue
                with archive.open(info) as src:
                    raw = src.read(MAX_FIT_BYTES + 1)
                yield _from_bytes(member, kind, raw)
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
                yield FitSource(member, None, f"cannot read from archive: {exc}")
