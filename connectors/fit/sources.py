"""Find FIT files: plain files, ``.fit.gz``, folders (recursively) and ``.zip`` archives, zips in zips.

Yields one :class:`FitSource` at a time, in folder order (sorted) and archive order, so memory is
bounded by one FIT file plus, for a large inner zip, a spooled temporary file that is removed as
soon as that archive is done. Nothing is extracted to disk.

Hostile input is bounded (docs/fit-import.md, "Limits"): only regular files are read (a FIFO, a
device or a socket is skipped with its reason, never opened for reading); in a folder, a symbolic
link whose target lies outside the folders given is not followed; a folder that cannot be listed is
reported; every read stops at the size cap, whatever the file claims; an inner zip that inflates
far more than zipped data can (a zip bomb) or beyond the temporary-space cap is rejected.
"""

from __future__ import annotations

import dataclasses
import os
import stat
import struct
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

# Inner zips up to this size are read into memory; larger ones are spooled to a temporary file.
SPOOL_IN_MEMORY = 64 * 1024 * 1024
# A single FIT file larger than this (uncompressed) is rejected: the biggest real activities are
# ~10 MB, and a decoded file costs up to ~100 bytes of memory per byte of FIT.
MAX_FIT_BYTES = 16 * 1024 * 1024
# Temporary space for inner zips being read (all levels of one archive together).
MAX_TEMP_BYTES = 1024 * 1024 * 1024
# An inner zip that inflates more than this many times its zipped size is not an archive of
# (already compressed) FIT files but a zip bomb.
MAX_INNER_ZIP_RATIO = 20
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


# A file is only vouched for as unchanged by its stamp when its modification time was at least this
# long before the stamp was last checked: a write in the same tick of the file system's clock (2 s
# on FAT) could otherwise leave size and times as they were.
STAMP_SETTLED_NS = 3_000_000_000


@dataclass(frozen=True)
class FileStamp:
    """What says a file on disk is unchanged without reading it (as git's index does): its absolute
    path, size, modification and inode change times, inode."""

    path: str
    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int

    @classmethod
    def of(cls, path: str | os.PathLike[str], st: os.stat_result) -> FileStamp:
        return cls(os.path.abspath(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)

    def still_same(self) -> bool:
        """The file is as stamped, and was modified long enough ago (``STAMP_SETTLED_NS``) that a
        later write cannot leave its stamp as it is: a stamp safe to record."""
        try:
            now = FileStamp.of(self.path, os.stat(self.path))
        except OSError:
            return False
        return now == self and time.time_ns() - self.mtime_ns >= STAMP_SETTLED_NS


@dataclass(frozen=True)
class FitSource:
    """One candidate FIT file.

    ``data`` is None when nothing could be read (``error`` says why); ``data`` with an ``error``
    means bytes that are not FIT (e.g. a broken ``.fit.gz``), to be recorded as rejected.
    With ``iter_sources(..., packed=True)`` a zip member may come as ``packed`` instead of
    ``data``: its stored bytes, to be inflated with ``packed.unpack()``.
    ``origin``: the stamp of the file on disk it came from (the file itself, or the zip it is a
    member of). ``unchanged``: that file was not read at all, the ``unchanged`` callback of
    :func:`iter_sources` vouched for its stamp (``data`` and ``packed`` are None).
    """

    path: str
    data: bytes | None
    error: str | None = None
    packed: Packed | None = None
    origin: FileStamp | None = None
    unchanged: bool = False

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


_KINDS = {stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
          stat.S_IFSOCK: "a socket", stat.S_IFDIR: "a folder"}


def _not_regular(mode: int) -> str:
    return f"not a regular file ({_KINDS.get(stat.S_IFMT(mode), 'a special file')}), skipped"


def _inside(target: str, roots: Iterable[str]) -> bool:
    return any(target == r or target.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


def walk_folder(folder: Path, skipped: list[tuple[str, str]] | None = None,
                roots: Iterable[str | os.PathLike[str]] | None = None) -> Iterator[Path]:
    """Every regular file below ``folder`` whose name says FIT, .fit.gz or zip, in sorted order.

    What is passed over and why goes to ``skipped`` as (path, reason): special files (FIFOs,
    devices, sockets), symbolic links to files or folders outside ``roots`` (default: ``folder``;
    not followed), dangling links, and folders that cannot be listed. Symbolic links to folders
    are never descended (no loops); one inside ``roots`` points at files read anyway.
    """
    real_roots = [os.path.realpath(r) for r in (roots if roots is not None else [folder])]
    note = skipped.append if skipped is not None else (lambda item: None)

    def unlistable(exc: OSError) -> None:
        note((str(exc.filename or folder), f"cannot read folder: {exc.strerror or exc}"))

    for root, dirs, files in os.walk(folder, onerror=unlistable):
        dirs.sort()
        for name in dirs:
            sub = os.path.join(root, name)
            if os.path.islink(sub) and not _inside(os.path.realpath(sub), real_roots):
                note((sub, f"symbolic link to a folder outside the folders given ({os.path.realpath(sub)}), "
                           "not followed"))
        for name in sorted(files):
            if fit_kind(name) is None:
                continue
            path = os.path.join(root, name)
            if os.path.islink(path):
                target = os.path.realpath(path)
                if not os.path.exists(target):
                    note((path, "symbolic link to nothing, skipped"))
                    continue
                if not _inside(target, real_roots):
                    note((path, f"symbolic link to a file outside the folders given ({target}), not followed"))
                    continue
            try:
                mode = os.stat(path).st_mode
            except OSError as exc:
                note((path, f"cannot read: {exc.strerror or exc}"))
                continue
            if not stat.S_ISREG(mode):
                note((path, _not_regular(mode)))
                continue
            yield Path(path)


Unchanged = Callable[[FileStamp], bool]


def iter_sources(paths: Iterable[str | os.PathLike[str]], *, packed: bool = False,
                 unchanged: Unchanged | None = None) -> Iterator[FitSource]:
    """Every FIT file under ``paths``; unreadable ones come with an ``error`` instead of data.

    ``packed``: hand ``.fit`` members of zip archives over as stored (deflated or stored), not
    inflated, in ``FitSource.packed``; the caller inflates them where it likes.
    ``unchanged``: called with the stamp of each file on disk once it is open; True means the
    caller already has everything in it, and the file is not read: one ``FitSource`` with
    ``unchanged=True`` stands for it.
    A file named in ``paths`` is read even through a symbolic link (it was named); what a folder
    holds is read as :func:`walk_folder` says.
    """
    for p in paths:
        path = Path(p).expanduser()
        if path.is_dir():
            skipped: list[tuple[str, str]] = []
            for found in walk_folder(path, skipped):
                yield from _skipped(skipped)
                yield from _from_path(found, explicit=False, packed=packed, unchanged=unchanged)
            yield from _skipped(skipped)
        elif path.exists() or path.is_symlink():
            yield from _from_path(path, explicit=True, packed=packed, unchanged=unchanged)
        else:
            yield FitSource(str(path), None, "no such file or folder")


def _skipped(skipped: list[tuple[str, str]]) -> Iterator[FitSource]:
    while skipped:
        path, reason = skipped.pop(0)
        yield FitSource(path, None, reason)


def open_regular(path: Path) -> IO[bytes]:
    """``path`` opened for reading if it is a regular file; ``OSError`` (a one-line reason) if not.

    Never blocks (a FIFO is not opened for reading at all; the check is repeated on the open
    descriptor, so a file swapped for a FIFO in between is caught too).
    """
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        raise OSError(_not_regular(mode))
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise OSError(_not_regular(mode))
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_capped(fh: IO[bytes], cap: int) -> bytes:
    """At most ``cap`` + 1 bytes of ``fh``: one more than the cap tells the caller it is over."""
    parts: list[bytes] = []
    left = cap + 1
    while left > 0:
        chunk = fh.read(min(left, 1 << 20))
        if not chunk:
            break
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def _from_path(path: Path, *, explicit: bool, packed: bool = False,
               unchanged: Unchanged | None = None) -> Iterator[FitSource]:
    kind = fit_kind(path.name)
    if kind is None:
        if explicit:  # a file named on the command line is tried whatever its name
            kind = "fit"
        else:
            return
    try:
        with open_regular(path) as fh:
            stamp = FileStamp.of(path, os.fstat(fh.fileno()))
            if unchanged is not None and unchanged(stamp):
                yield FitSource(str(path), None, origin=stamp, unchanged=True)
                return
            if kind == "zip":
                for src in _from_zip(str(path), fh, packed, MAX_TEMP_BYTES):
                    yield dataclasses.replace(src, origin=stamp)
                return
            if stamp.size > MAX_FIT_BYTES:
                yield FitSource(str(path), None, f"larger than {MAX_FIT_BYTES} bytes, not a FIT activity",
                                origin=stamp)
                return
            raw = read_capped(fh, MAX_FIT_BYTES)  # the cap holds while reading, whatever stat said
        if len(raw) > MAX_FIT_BYTES:
            yield FitSource(str(path), None, f"larger than {MAX_FIT_BYTES} bytes, not a FIT activity", origin=stamp)
            return
        yield dataclasses.replace(_from_bytes(str(path), kind, raw), origin=stamp)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        yield FitSource(str(path), None,
                        reason if reason.startswith("not a regular file") else f"cannot read: {reason}")


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


def _from_zip(label: str, fh: IO[bytes], packed: bool = False,
              temp_budget: int = MAX_TEMP_BYTES) -> Iterator[FitSource]:
    """The FIT members of the zip open in ``fh``; inner zips are read with at most ``temp_budget``
    bytes of temporary space (this level's spool and every deeper one's together)."""
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
                    if info.file_size > MAX_INNER_ZIP_RATIO * max(info.compress_size, 1) + SPOOL_IN_MEMORY // 64:
                        ratio = info.file_size // max(info.compress_size, 1)
                        yield FitSource(member, None, f"an inner zip that inflates {ratio} "
                                        f"times (more than {MAX_INNER_ZIP_RATIO}): a zip bomb, not read")
                        continue
                    if info.file_size > temp_budget:
                        yield FitSource(member, None, f"an inner zip of {info.file_size} bytes, over the "
                                        f"{MAX_TEMP_BYTES} bytes of temporary space for archives, not read")
                        continue
                    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
                        with archive.open(info) as src:
                            left = info.file_size  # the archive's own check stops a member that lies
                            while chunk := src.read(1 << 20):
                                left -= len(chunk)
                                if left < 0:
                                    raise zipfile.BadZipFile("inner zip larger than the archive says")
                                spool.write(chunk)
                        spool.seek(0)
                        yield from _from_zip(member, spool, packed, temp_budget - info.file_size)
                    continue
                if info.file_size > MAX_FIT_BYTES:
                    yield FitSource(member, None, f"larger than {MAX_FIT_BYTES} bytes, not a FIT activity")
                    continue
                if (packed and kind == "fit" and not info.flag_bits & 0x1
                        and info.compress_type in (zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED)):
                    if info.compress_size > MAX_FIT_BYTES + 1024:
                        yield FitSource(member, None, f"larger than {MAX_FIT_BYTES} bytes, not a FIT activity")
                        continue
                    raw = _stored_bytes(fh, info)
                    yield FitSource(member, None, packed=Packed(info.compress_type, raw, info.CRC, info.file_size))
                    continue
                with archive.open(info) as src:
                    raw = read_capped(src, MAX_FIT_BYTES)
                if len(raw) > MAX_FIT_BYTES:
                    yield FitSource(member, None, f"larger than {MAX_FIT_BYTES} bytes, not a FIT activity")
                    continue
                yield _from_bytes(member, kind, raw)
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
                yield FitSource(member, None, f"cannot read from archive: {exc}")
