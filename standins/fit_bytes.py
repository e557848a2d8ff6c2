"""FIT files at the byte level: read a file (chained files too) into its definition and data messages,
change them, write them back with fresh CRCs. For the files Garmin's encoder never writes: big-endian
definitions, compressed-timestamp headers, chained files, redefinitions, fields of another base
type, size or value (``set_field``). Used by the hostile-file fuzzer (``hostile_fit``) and the tests.

A file is a list of :class:`Definition` and :class:`Message` in file order; :func:`read_fit` gives
one such list per chained file, :func:`write_fit` writes them (14-byte headers, both CRCs). Record
header bytes are kept as read, so reading and writing gives the same bytes back.
"""

from __future__ import annotations

import dataclasses
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from garmin_fit_sdk import CrcCalculator

# FIT base type bytes
UINT8, SINT8, UINT16, SINT16, UINT32, SINT32 = 0x02, 0x01, 0x84, 0x83, 0x86, 0x85
FLOAT32, FLOAT64, UINT64, SINT64, BYTE, STRING = 0x88, 0x89, 0x8F, 0x8E, 0x0D, 0x07
# size in bytes of each base type, by base type number (the low 5 bits of the byte)
BASE_TYPE_SIZE = {0: 1, 1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 1, 8: 4, 9: 8, 10: 1, 11: 2, 12: 4, 13: 1, 14: 8,
                  15: 8, 16: 8}
_FMT = {UINT8: "B", SINT8: "b", UINT16: "H", SINT16: "h", UINT32: "I", SINT32: "i", FLOAT32: "f",
        FLOAT64: "d", UINT64: "Q", SINT64: "q"}
# global message numbers
FILE_ID, SESSION, LAP, RECORD, ACTIVITY, SET = 0, 18, 19, 20, 34, 225
TIMESTAMP = 253  # the field number of every message's timestamp


def type_size(base_type: int) -> int:
    return BASE_TYPE_SIZE.get(base_type & 0x1F, 1)


def crc(data: bytes) -> int:
    """The FIT CRC-16, by Garmin's SDK (independent of the decoder's own)."""
    return CrcCalculator.calculate_crc(data, 0, len(data))


def wrap(body: bytes, crc16: Callable[[bytes], int] = crc) -> bytes:
    """One FIT file: a 14-byte header (protocol 2.0, profile 21.32) with its CRC, ``body``, the file CRC.
    For bodies of many MB, pass a faster ``crc16`` (Garmin's in Python does about 3 MB/s)."""
    head = struct.pack("<BBHI4s", 14, 0x20, 2132, len(body), b".FIT")
    head += struct.pack("<H", crc16(head))
    return head + body + struct.pack("<H", crc16(head + body))


@dataclass
class Definition:
    """A definition message: ``fields`` are ``[field number, size, base type]`` (lists, to be changed in
    place), ``devs`` the developer fields ``(number, size, developer data index)``."""

    header: int
    big: bool
    glob: int
    fields: list[list[int]]
    devs: list[tuple[int, ...]] = field(default_factory=list)

    @classmethod
    def new(cls, local: int, big: bool, glob: int, fields: list[list[int]],
            devs: list[tuple[int, ...]] | None = None) -> Definition:
        return cls(0x40 | (0x20 if devs else 0) | local, big, glob, fields, list(devs or []))

    @property
    def local(self) -> int:
        return self.header & 0x0F

    def on_local(self, local: int) -> Definition:
        """The same layout defined on another local message number."""
        return dataclasses.replace(self, header=(self.header & 0xF0) | local)

    def size(self) -> int:
        """Bytes of one data message's content."""
        return sum(f[1] for f in self.fields) + sum(d[1] for d in self.devs)


@dataclass
class Message:
    """A data message: its record header byte, its content, the definition it was read with."""

    header: int
    payload: bytes | bytearray
    definition: Definition

    @classmethod
    def new(cls, definition: Definition, payload: bytes | bytearray, time_offset: int | None = None) -> Message:
        """A normal header on the definition's local number, or a compressed-timestamp one (locals 0-3)."""
        local = definition.local
        header = local if time_offset is None else 0x80 | local << 5 | time_offset
        return cls(header, payload, definition)

    @property
    def local(self) -> int:
        return (self.header >> 5) & 0x03 if self.header & 0x80 else self.header & 0x0F

    @property
    def time_offset(self) -> int | None:
        """The 5-bit time offset of a compressed-timestamp header, else None."""
        return self.header & 0x1F if self.header & 0x80 else None


Event = Definition | Message


def read_fit(data: bytes) -> list[list[Event]]:
    """Every (chained) file of ``data`` as its messages in order; trailing bytes shorter than a header
    are ignored. Raises IndexError, KeyError or struct.error on what does not parse."""
    files, pos = [], 0
    while pos + 12 <= len(data):
        hsize = data[pos]
        size = struct.unpack_from("<I", data, pos + 4)[0]
        p, end = pos + hsize, pos + hsize + size
        local_defs: dict[int, Definition] = {}
        events: list[Event] = []
        while p < end:
            h = data[p]
            if h & 0x40 and not h & 0x80:
                big = data[p + 2] == 1
                glob = struct.unpack_from(">H" if big else "<H", data, p + 3)[0]
                nf = data[p + 5]
                fields = [list(data[p + 6 + 3 * i:p + 9 + 3 * i]) for i in range(nf)]
                q = p + 6 + 3 * nf
                devs = []
                if h & 0x20:
                    devs = [tuple(data[q + 1 + 3 * i:q + 4 + 3 * i]) for i in range(data[q])]
                    q += 1 + 3 * len(devs)
                local_defs[h & 0x0F] = Definition(h, big, glob, fields, devs)
                events.append(local_defs[h & 0x0F])
                p = q
                continue
            d = local_defs[(h >> 5) & 0x03 if h & 0x80 else h & 0x0F]
            n = d.size()
            events.append(Message(h, bytearray(data[p + 1:p + 1 + n]), d))
            p += 1 + n
        files.append(events)
        pos = end + 2
    return files


def write_fit(files: list[list[Event]]) -> bytes:
    """The files, each with a fresh 14-byte header and both CRCs, one after the other."""
    out = b""
    for events in files:
        body = bytearray()
        for e in events:
            body.append(e.header)
            if isinstance(e, Definition):
                body += bytes([0, 1 if e.big else 0]) + struct.pack(">H" if e.big else "<H", e.glob)
                body.append(len(e.fields))
                for f in e.fields:
                    body += bytes(f)
                if e.header & 0x20:
                    body.append(len(e.devs))
                    for x in e.devs:
                        body += bytes(x)
            else:
                body += e.payload
        out += wrap(bytes(body))
    return out


def pack(base_type: int, value: float | int, big: bool = False) -> bytes:
    return struct.pack((">" if big else "<") + _FMT[base_type], value)


# --- transforms --------------------------------------------------------------------------------------

def set_field(data: bytes, glob: int, num: int, base_type: int, value: float | int | bytes,
              size: int | None = None) -> bytes:
    """Every message of global type ``glob``: field ``num`` becomes ``base_type`` holding ``value``
    (``bytes``: the raw field bytes; ``size`` defaults to the type's size), added where missing."""
    raw_default = value if isinstance(value, bytes) else None
    files = read_fit(data)
    for events in files:
        layouts: dict[int, tuple[int, int]] = {}  # id(definition) -> (old offset or -1, old size)
        for e in events:
            if isinstance(e, Definition) and e.glob == glob:
                off = 0
                for f in e.fields:
                    if f[0] == num:
                        layouts[id(e)] = (off, f[1])
                        break
                    off += f[1]
                else:
                    layouts[id(e)] = (-1, 0)
                    e.fields.append([num, 0, base_type])
                new_size = size or (len(raw_default) if raw_default is not None else type_size(base_type))
                for f in e.fields:
                    if f[0] == num:
                        f[1], f[2] = new_size, base_type
            elif isinstance(e, Message) and id(e.definition) in layouts:
                off, old = layouts[id(e.definition)]
                d = e.definition
                new_size = next(f[1] for f in d.fields if f[0] == num)
                if isinstance(value, bytes):
                    raw = value
                else:
                    one = pack(base_type, value, d.big)
                    raw = (one * (new_size // len(one) + 1))[:new_size]
                body = e.payload
                nfields = sum(f[1] for f in d.fields)
                if off < 0:  # appended after the (old) regular fields, before developer fields
                    at = nfields - new_size
                    e.payload = body[:at] + raw + body[at:]
                else:
                    e.payload = body[:off] + raw + body[off + old:]
    return write_fit(files)


def _swap(d: Definition, payload: bytes | bytearray, big: bool) -> bytes:
    if d.big == big:
        return bytes(payload)
    out, o = bytearray(payload), 0
    for _num, size, bt in d.fields:
        k = type_size(bt)
        if k > 1 and size % k == 0 and bt & 0x1F not in (7, 13):
            for j in range(o, o + size, k):
                out[j:j + k] = out[j:j + k][::-1]
        o += size
    return bytes(out)


def to_endian(data: bytes, big: bool) -> bytes:
    """Every definition in the given byte order, every multi-byte field value swapped accordingly."""
    files = []
    for events in read_fit(data):
        out: list[Event] = []
        now: dict[int, Definition] = {}  # id(original definition) -> its swapped copy
        for e in events:
            if isinstance(e, Definition):
                now[id(e)] = dataclasses.replace(e, big=big)
                out.append(now[id(e)])
            else:
                out.append(Message(e.header, _swap(e.definition, e.payload, big), now[id(e.definition)]))
        files.append(out)
    return write_fit(files)


def _load(slots: dict[int, tuple[Definition, Definition]], out: list[Event], d: Definition) -> Definition:
    """``d``'s copy on one of the locals 4..15: the one it was loaded on, else a free one (or the
    oldest, re-defined), defined in ``out``."""
    for original, loaded in slots.values():
        if original is d:
            return loaded
    k = next((k for k in range(4, 16) if k not in slots), None)
    if k is None:
        k = next(iter(slots))
        del slots[k]
    slots[k] = (d, d.on_local(k))
    out.append(slots[k][1])
    return slots[k][1]


def compress_timestamps(data: bytes, every: int = 7) -> bytes:
    """Records within 31 s of the last timestamp get a compressed-timestamp header (local 0, a
    definition without field 253); every ``every``-th keeps its full timestamp. The other local
    messages move to locals 4..15 (re-defined there when more than 12 are in use)."""
    files = []
    for events in read_fit(data):
        out: list[Event] = []
        last, n, current = None, 0, None
        slots: dict[int, tuple[Definition, Definition]] = {}  # new local (4..15) -> (original, loaded copy)
        for e in events:
            if isinstance(e, Definition):
                continue
            d, payload = e.definition, e.payload
            o, ts_at = 0, None
            for num, size, _bt in d.fields:
                if num == TIMESTAMP and size == 4:
                    ts_at = o
                o += size
            ts = None
            if ts_at is not None:
                ts = struct.unpack_from(">I" if d.big else "<I", payload, ts_at)[0]
                ts = None if ts == 0xFFFFFFFF else ts
            if (d.glob == RECORD and ts is not None and ts_at is not None and last is not None
                    and 0 <= ts - last < 32 and n % every):
                short = Definition.new(0, d.big, RECORD, [f for f in d.fields if f[0] != TIMESTAMP], d.devs)
                if current != short:
                    out.append(short)
                    current = short
                out.append(Message.new(current, payload[:ts_at] + payload[ts_at + 4:], ts & 0x1F))
            else:
                out.append(Message.new(_load(slots, out, d), payload))
            if ts is not None:
                last = ts
            n += d.glob == RECORD
        files.append(out)
    return write_fit(files)


def redefine(data: bytes, glob: int, every: int) -> bytes:
    """Write the definition of ``glob`` messages again before every ``every``-th one (same layout)."""
    files = []
    for events in read_fit(data):
        out: list[Event] = []
        n = 0
        for e in events:
            if isinstance(e, Message) and e.definition.glob == glob:
                n += 1
                if n % every == 0:
                    out.append(e.definition)
            out.append(e)
        files.append(out)
    return write_fit(files)
