"""A columnar FIT decoder: one pure-Python pass over the message headers, then numpy per definition.

How it works
------------
1. **Header scan** (:func:`_scan`, pure Python, the only per-message Python work): walks the file
   headers (12/14 bytes, header CRC, chained files), definition messages (either byte order,
   developer field definitions; identical definitions are interned so a file that redefines the
   same layout 800 times has one group) and data message headers (normal and compressed-timestamp
   ones), and remembers the byte offset and definition of every data message. The file CRC of
   every chained file is checked with a numpy CRC-16 (:func:`crc16`).
2. **Bulk decode** (:func:`_Ctx.decode_type`): for each message type, every definition's messages
   are gathered with one fancy index into an (n, size) byte matrix and viewed as a structured dtype
   (the definition's byte order). Per field: invalid values become NULL, scale and offset are
   applied, sub-fields are resolved per row, components are expanded (``speed`` ->
   ``enhanced_speed``, ``altitude`` -> ``enhanced_altitude``, ``compressed_speed_distance`` ->
   ``speed`` + accumulated ``distance``, ...), named types (enums) are named, and compressed
   timestamps are accumulated -- all with numpy over whole columns.
3. **Assembly**: ``record`` columns for the pipeline are numpy arrays (see :class:`ColumnarDecoder`);
   the few file_id / session / lap / set / activity / exercise_title / workout_step / sport rows are
   turned into dicts and finished by the same row builders as the reference decoder
   (connectors/fit/rows.py, generated from the declarations in fields.py) and the shared
   ``rows.classify()``.

Profile
-------
Field names, types, scales, offsets, units, components, sub-fields and type (enum) names come from
Garmin's official profile, read from ``garmin_fit_sdk.Profile`` (profile 21.218) once at first use
and cached (:func:`profile`): nothing is typed by hand. The SDK ships the profile as Python data, so
there is no generated table to keep in sync; the decoder name carries the profile version.

Semantics
---------
Values equal python-fitparse's (the reference decoder), with these deliberate differences where
fitparse is wrong (tests/test_columnar.py shows each one):

* A name written twice in a message (a real field and a component expanded from another field):
  a present value beats None, a real field beats a component. fitparse keeps the last one even when
  it is None, so an invalid ``avg_speed`` after a valid ``enhanced_avg_speed`` nulls the session's
  speed. This changes 12 corpus files (garmin-fenix6s session/lap speeds, null_compressed_speed_dist
  record distances); the goldens and garmin-fit-sdk side with this decoder.
* Developer fields never shadow profile fields (fitparse: a developer field named ``heart_rate``
  replaces the watch's heart rate).
* Component accumulators (``compressed_speed_distance`` -> ``distance``) carry over a re-definition
  of the local message and are seeded by a real value of the accumulated field, as Garmin's SDK
  does (fitparse restarts at 0 at every definition); each chained file starts at 0.
* Base type bytes are read by their base type number (``& 0x1F``, FIT spec, Garmin SDK); fitparse
  reads a non-canonical byte (e.g. 0x04 for 0x84) as raw bytes.
* A definition with an unknown field whose size is not a multiple of its type: read as bytes, as
  fitparse does for known fields (fitparse crashes there: AttributeError formatting its warning).
* A date field defined as an array, bytes or text (e.g. a definition of 255 fields of 255 bytes) is
  read as that array, not as a date (fitparse raises TypeError applying its date processor to it).
* Sub-fields are tried in the profile's order (fitparse sorts them by name; this matters only when
  two sub-fields match the same message).

Status, reason (the same text as the reference's), sessions, laps, sets and records are otherwise
identical, also for damaged files (checked by a differential fuzz test).

Fallback
--------
Where fitparse raises on odd but framed data (array or float fields with components, date fields
that are arrays or strings, developer field descriptions with unknown base types or non-text names,
developer fields whose size is not a multiple of their type, a developer message cut by the end of
the file, ...), the file is decoded by the reference decoder instead, so that the result is the
same; the reason is counted in :data:`FALLBACKS` and ``ColumnarDecoder.fallbacks``. None of the
corpus files needs it.

Other message types
-------------------
:func:`decode_columns` gives every field of any message type (event, device_info, split, hr, ...)
as numpy columns, by the same rules.
"""

from __future__ import annotations

import datetime as dt
import struct
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import numpy as np

from runlift.connectors.fit import fields
from runlift.connectors.fit.contract import RECORD_COLUMNS, DecodedFit
from runlift.connectors.fit.rows import (
    SEMICIRCLE_DEG,
    Steps,
    Titles,
    add_step,
    add_title,
    classify,
    file_row,
    lap_row,
    session_row,
    set_row,
    sport_of,
    utc_offset,
    weight_row,
)

__all__ = ["ColumnarDecoder", "FALLBACKS", "crc16", "decode_columns", "profile"]

FIT_EPOCH_S = 631065600  # 1989-12-31T00:00:00Z in Unix seconds
FIT_EPOCH = dt.datetime(1989, 12, 31)
MIN_DATE_TIME = 0x10000000  # FIT: date_time values below this are seconds since device power-up

#: Why files went to the reference decoder (reason -> count), over all ColumnarDecoder instances.
FALLBACKS: Counter[str] = Counter()


class _Unsupported(Exception):
    """A file this decoder leaves to the reference decoder (the message is the counted reason)."""


# --- Garmin's profile, as data -----------------------------------------------------------------

@dataclass(frozen=True)
class _Comp:
    target: int          # field number of the component's destination field
    bit_off: int
    bits: int
    scale: float | None
    offset: float | None
    accumulate: bool


@dataclass(frozen=True)
class _FieldP:
    num: int
    name: str
    type: str
    scale: float | None
    offset: float | None
    units: str
    values: dict[int, str] | None   # names of a named type (enum), None for plain numbers / dates
    comps: tuple[_Comp, ...]
    subs: tuple[_FieldP, ...] = ()
    refs: tuple[tuple[int, int], ...] = ()   # sub-fields only: (field number, raw value) that select it
    accumulated: bool = False


@dataclass(frozen=True)
class _MsgP:
    num: int
    name: str
    fields: dict[int, _FieldP]


@dataclass(frozen=True)
class Profile:
    version: str
    messages: dict[int, _MsgP]
    by_name: dict[str, int]


_DATE_TYPES = ("date_time", "local_date_time", "localtime_into_day")


def _one(xs: list[Any], default: Any) -> Any:
    return xs[0] if isinstance(xs, list) and len(xs) == 1 else default


def _scale(s: Any) -> float | None:
    return None if s in (None, 1) else float(s)


def _offset(o: Any) -> float | None:
    return None if o in (None, 0) else float(o)


@lru_cache(maxsize=1)
def profile() -> Profile:
    """Garmin's official FIT profile (``garmin_fit_sdk.Profile``) in the shape this decoder uses."""
    from garmin_fit_sdk import Profile as G

    types = G["types"]

    def values_of(type_name: str) -> dict[int, str] | None:
        if type_name in ("date_time", "local_date_time"):
            return None  # {0x10000000: 'min'} is a marker, not a name (fitparse has no names here either)
        return types.get(type_name) or None

    def comps_of(f: dict[str, Any], fields: dict[int, Any]) -> tuple[_Comp, ...]:
        out, off = [], 0
        for i, target in enumerate(f["components"]):
            bits = f["bits"][i]
            out.append(_Comp(target, off, bits, _scale(f["scale"][i]), _offset(f["offset"][i]),
                             bool(fields[target]["is_accumulated"])))
            off += bits
        return tuple(out)

    def units(u: Any) -> str:
        return (u[0] if u else "") if isinstance(u, list) else (u or "")

    messages: dict[int, _MsgP] = {}
    for num, m in G["messages"].items():
        fields: dict[int, _FieldP] = {}
        for fnum, f in m["fields"].items():
            subs = tuple(
                _FieldP(fnum, s["name"], s["type"], _scale(_one(s["scale"], None)), _offset(_one(s["offset"], None)),
                        units(s["units"]), values_of(s["type"]), comps_of(s, m["fields"]), (),
                        tuple((r["num"], r["raw_value"]) for r in s["map"]))
                for s in f["sub_fields"])
            fields[fnum] = _FieldP(fnum, f["name"], f["type"], _scale(_one(f["scale"], None)),
                                   _offset(_one(f["offset"], None)), units(f["units"]), values_of(f["type"]),
                                   comps_of(f, m["fields"]), subs, (), bool(f["is_accumulated"]))
        messages[num] = _MsgP(num, m["name"], fields)
    v = G["version"]
    return Profile(f"{v['major']}.{v['minor']}", messages, {m.name: n for n, m in messages.items()})


# --- base types ----------------------------------------------------------------------------------

# base type number -> (numpy code, size, invalid raw value or None for float NaN / string)
_BASE: dict[int, tuple[str, int, int | None]] = {
    0: ("u1", 1, 0xFF), 1: ("i1", 1, 0x7F), 2: ("u1", 1, 0xFF), 3: ("i2", 2, 0x7FFF), 4: ("u2", 2, 0xFFFF),
    5: ("i4", 4, 0x7FFFFFFF), 6: ("u4", 4, 0xFFFFFFFF), 7: ("S", 1, None), 8: ("f4", 4, None),
    9: ("f8", 8, None), 10: ("u1", 1, 0), 11: ("u2", 2, 0), 12: ("u4", 4, 0), 13: ("u1", 1, 0xFF),
    14: ("i8", 8, 0x7FFFFFFFFFFFFFFF), 15: ("u8", 8, 0xFFFFFFFFFFFFFFFF), 16: ("u8", 8, 0),
}
_BYTE, _STRING = 13, 7


class _Spec:
    """How one field of a definition is read: kind is scalar / array / string / byte."""

    __slots__ = ("i", "num", "off", "size", "bt", "kind", "code", "count", "invalid", "is_float", "unsigned")

    def __init__(self, i: int, num: int, off: int, size: int, bt_byte: int) -> None:
        bt = bt_byte & 0x1F
        if bt not in _BASE:
            bt = _BYTE
        code, bsize, invalid = _BASE[bt]
        if size % bsize:
            bt, (code, bsize, invalid) = _BYTE, _BASE[_BYTE]
        self.i, self.num, self.off, self.size, self.bt = i, num, off, size, bt
        self.code, self.invalid = code, invalid
        self.count = size // bsize
        self.is_float = bt in (8, 9)
        self.unsigned = code[0] == "u"
        if bt == _BYTE:
            self.kind = "byte"
        elif bt == _STRING:
            self.kind = "string"
        elif self.count == 1:
            self.kind = "scalar"
        else:
            self.kind = "array"


class _Def:
    """One distinct definition (global message, byte order, fields, developer fields). Immutable;
    shared by every file with the same definition bytes (see _definition)."""

    __slots__ = ("glob", "big", "fields", "devs", "size", "_specs", "_dtype", "_hazard", "_relevant", "_checks")

    def __init__(self, glob: int, big: bool, fields: list[tuple[int, int, int]], devs: list[tuple[int, int, int]]):
        self.glob, self.big, self.fields, self.devs = glob, big, fields, devs
        self.size = sum(f[1] for f in fields) + sum(d[1] for d in devs)
        self._specs: list[_Spec] | None = None
        self._dtype: np.dtype | None = None
        self._hazard: dict[bool, str | None] = {}
        self._relevant: dict[frozenset[str], list[_Spec]] = {}
        self._checks: tuple[_Spec | None, list[_Spec]] | None = None

    @property
    def checks(self) -> tuple[_Spec | None, list[_Spec]]:
        """(first field of size 0, scalar local_date_time fields): what fitparse trips over."""
        if self._checks is None:
            zero = next((s for s in self.specs if s.size == 0), None)
            mp = profile().messages.get(self.glob)
            ldt = []
            for s in self.specs:
                f = mp.fields.get(s.num) if mp else None
                if f is not None and s.kind == "scalar" and any(x.type == "local_date_time" for x in (f, *f.subs)):
                    ldt.append(s)
            self._checks = (zero, ldt)
        return self._checks

    def relevant(self, want: frozenset[str] | None, fields: dict[int, _FieldP]) -> list[_Spec]:
        """The fields that give (directly, as a sub-field or through a component) a wanted name."""
        if want is None:
            return self.specs
        got = self._relevant.get(want)
        if got is None:
            got = []
            for s in self.specs:
                fp = fields.get(s.num)
                if fp is None:
                    names = {f"unknown_{s.num}"}
                else:
                    names = set()
                    for f in (fp, *fp.subs):
                        names.add(f.name)
                        for c in f.comps:
                            tgt = fields[c.target]
                            names.update(x.name for x in (tgt, *tgt.subs))
                if names & want:
                    got.append(s)
            self._relevant[want] = got
        return got

    @property
    def specs(self) -> list[_Spec]:
        if self._specs is None:
            out, off = [], 0
            for i, (num, size, bt) in enumerate(self.fields):
                out.append(_Spec(i, num, off, size, bt))
                off += size
            self._specs = out
        return self._specs

    @property
    def dtype(self) -> np.dtype:
        """Structured dtype of the scalar and array fields (byte order of the definition)."""
        if self._dtype is None:
            e = ">" if self.big else "<"
            names: list[str] = []
            formats: list[str | tuple[str, tuple[int]]] = []
            offsets: list[int] = []
            for s in self.specs:
                if s.kind in ("scalar", "array"):  # strings and bytes are read apart
                    names.append(f"f{s.i}")
                    formats.append(e + s.code if s.kind == "scalar" else (e + s.code, (s.count,)))
                    offsets.append(s.off)
            self._dtype = np.dtype({"names": names, "formats": formats, "offsets": offsets,
                                    "itemsize": max(self.size, 1)})
        return self._dtype


# --- CRC-16 (FIT: CRC-16/ARC, init 0) --------------------------------------------------------------

def _crc_table() -> list[int]:
    out = []
    for b in range(256):
        c = b
        for _ in range(8):
            c = (c >> 1) ^ 0xA001 if c & 1 else c >> 1
        out.append(c)
    return out


_T8 = _crc_table()
_T8_NP = np.array(_T8, dtype=np.uint32)
_X16 = np.arange(65536, dtype=np.uint32)
_X16 = (_X16 >> 8) ^ _T8_NP[_X16 & 0xFF]
_T16 = ((_X16 >> 8) ^ _T8_NP[_X16 & 0xFF]).astype(np.uint16)  # two bytes at once: state' = T16[state ^ word]
del _X16
_CRC_BLOCK = 16


def _crc_py(data: bytes | memoryview, crc: int = 0) -> int:
    t = _T8
    for b in data:
        crc = (crc >> 8) ^ t[(crc ^ b) & 0xFF]
    return crc


def _apply_linear(cols: tuple[int, ...], v: int) -> int:
    r, i = 0, 0
    while v:
        if v & 1:
            r ^= cols[i]
        v >>= 1
        i += 1
    return r


@cache
def _zero_shift(nbytes: int) -> tuple[int, ...]:
    """The CRC state map of appending ``nbytes`` zero bytes, as its 16 columns (it is linear)."""
    if nbytes == 1:
        return tuple(_crc_py(b"\0", 1 << i) for i in range(16))
    half = _zero_shift(nbytes // 2)
    cols = tuple(_apply_linear(half, c) for c in half)
    if nbytes % 2:
        one = _zero_shift(1)
        cols = tuple(_apply_linear(one, c) for c in cols)
    return cols


@cache
def _zero_shift_tables(nbytes: int) -> tuple[np.ndarray, np.ndarray]:
    cols = np.array(_zero_shift(nbytes), dtype=np.uint16)
    bits = ((np.arange(256)[:, None] >> np.arange(8)) & 1).astype(bool)
    lo = np.bitwise_xor.reduce(np.where(bits, cols[None, :8], 0), axis=1).astype(np.uint16)
    hi = np.bitwise_xor.reduce(np.where(bits, cols[None, 8:], 0), axis=1).astype(np.uint16)
    return lo, hi


def crc16(buf: bytes, start: int = 0, end: int | None = None) -> int:
    """FIT CRC of ``buf[start:end]``: 16-byte blocks in parallel with numpy, then combined pairwise
    (the CRC with init 0 is linear: crc(A + B) = shift_|B|(crc(A)) ^ crc(B))."""
    end = len(buf) if end is None else end
    n = end - start
    if n < 8 * _CRC_BLOCK:
        return _crc_py(memoryview(buf)[start:end])
    nb = n // _CRC_BLOCK
    words = np.frombuffer(buf, dtype="<u2", count=nb * _CRC_BLOCK // 2, offset=start).reshape(nb, _CRC_BLOCK // 2)
    s = np.zeros(nb, dtype=np.uint16)
    for j in range(_CRC_BLOCK // 2):
        s = _T16[s ^ words[:, j]]
    span = _CRC_BLOCK
    while len(s) > 1:
        if len(s) & 1:  # a leading zero block does not change a CRC that starts at 0
            s = np.concatenate((np.zeros(1, np.uint16), s))
        lo, hi = _zero_shift_tables(span)
        a = s[0::2]
        s = lo[a & 0xFF] ^ hi[a >> 8] ^ s[1::2]
        span *= 2
    return _crc_py(memoryview(buf)[start + nb * _CRC_BLOCK:end], int(s[0]))


_DEF_CACHE: dict[bytes, _Def] = {}
_DEF_CACHE_MAX = 20_000


def _definition(key: bytes, dev: bool) -> _Def:
    """The definition whose bytes (after the record header) are ``key``, parsed once per process."""
    d = _DEF_CACHE.get(key)
    if d is None:
        big = key[1] != 0
        glob = int.from_bytes(key[2:4], "big" if big else "little")
        nf = key[4]
        q = 5 + 3 * nf
        fields = [(key[k], key[k + 1], key[k + 2]) for k in range(5, q, 3)]
        devs = [(key[k], key[k + 1], key[k + 2]) for k in range(q + 1, len(key), 3)] if dev else []
        d = _Def(glob, big, fields, devs)
        if len(_DEF_CACHE) >= _DEF_CACHE_MAX:  # random input can make many; keep memory bounded
            _DEF_CACHE.clear()
        _DEF_CACHE[key] = d
    return d


# --- pass 1: the header scan -------------------------------------------------------------------------

@dataclass
class _Scan:
    defs: list[_Def]
    starts: np.ndarray         # byte offset of each complete data message's header byte
    dids: np.ndarray           # its definition
    files: list[int]           # index (into starts) of the first message of each chained file
    dev_defs: list[tuple[int, int]]  # (message index it precedes, definition) for definitions with developer fields
    error: str | None          # the first error, in fitparse's words (it ends the decode)
    cut_message: tuple[int, int] | None = None  # (offset, definition) of a data message cut by the end of the file
    partial_devs: list[tuple[int, int, int]] | None = None  # developer fields of a definition cut by the end


def _eof(want: int, got: int) -> str:
    return f"file truncated (Tried to read {want} bytes from .FIT file but got {max(got, 0)})"


def _scan(buf: bytes) -> _Scan:
    """One sequential pass over all headers. Stops at the first error, as the reference does."""
    n = len(buf)
    defs: list[_Def] = []
    intern: dict[bytes, int] = {}
    starts: list[int] = []
    assigned: list[list[tuple[int, int]]] = [[] for _ in range(16)]  # local -> (message index, definition)
    files: list[int] = []
    dev_defs: list[tuple[int, int]] = []
    sa = starts.append
    err: str | None = None
    cut_message: tuple[int, int] | None = None
    partial_devs: list[tuple[int, int, int]] | None = None
    pos = 0
    while True:
        # --- file header (a chained file starts right after the previous file's CRC)
        if n - pos < 12:
            err = _eof(12, n - pos)
            break
        if buf[pos + 8:pos + 12] != b".FIT":
            err = "corrupt FIT header (Invalid .FIT File Header)"
            break
        hsize = buf[pos]
        data_size = int.from_bytes(buf[pos + 4:pos + 8], "little")
        p = pos + 12
        if hsize > 12:
            if hsize < 14:
                err = "corrupt FIT header (Irregular File Header Size)"
                break
            if n - p < 2:
                err = _eof(2, n - p)
                break
            read = buf[p] | buf[p + 1] << 8
            if read:
                computed = _crc_py(memoryview(buf)[pos:pos + 12])
                if computed != read:
                    err = f"file CRC mismatch (CRC Mismatch [computed: 0x{computed:04X}, read: 0x{read:04X}])"
                    break
            p += 2
            if hsize > 14:
                if n - p < hsize - 14:
                    err = _eof(hsize - 14, n - p)
                    break
                p += hsize - 14
        data_end = p + data_size
        files.append(len(starts))
        hsz = [0] * 256  # record header byte -> 1 + body size of its data message (0: not a defined data header)
        try:
            while p < data_end:
                z = hsz[buf[p]]
                if z:
                    sa(p)
                    p += z
                    continue
                h = buf[p]
                if h & 0xC0 != 0x40:
                    local = (h >> 5) & 0x3 if h & 0x80 else h & 0x0F
                    err = f"invalid FIT data (Got data message with invalid local message type {local})"
                    break
                # definition message: reserved, architecture, global (2), n fields, 3 bytes per field
                if n - p < 6:
                    got = n - p - 1
                    err = _eof(2, got) if got < 2 else _eof(3, got - 2)
                    break
                q = p + 6 + 3 * buf[p + 5]
                if q > n:
                    left = n - p - 6
                    err = _eof(3, left % 3)
                    break
                if h & 0x20:
                    if q >= n:
                        err = _eof(1, 0)
                        break
                    q2 = q + 1 + 3 * buf[q]
                    if q2 > n:  # fitparse checks each developer field as it reads it: keep the whole ones
                        partial_devs = [(buf[k], buf[k + 1], buf[k + 2]) for k in range(q + 1, n - 2, 3)]
                        err = _eof(3, (n - q - 1) % 3)
                        break
                else:
                    q2 = q
                key = buf[p + 1:q2]
                did = intern.get(key)
                if did is None:
                    d = _definition(key, bool(h & 0x20))
                    did = intern[key] = len(defs)
                    defs.append(d)
                if defs[did].devs:
                    dev_defs.append((len(starts), did))
                local = h & 0x0F
                assigned[local].append((len(starts), did))
                z = 1 + defs[did].size
                hsz[local] = hsz[local | 0x10] = hsz[local | 0x20] = hsz[local | 0x30] = z
                if local < 4:
                    base = 0x80 | local << 5
                    hsz[base:base + 32] = [z] * 32
                p = q2
        except IndexError:  # a record header byte past the end of the file
            err = "file truncated inside a message" if p > n else _eof(1, 0)
        if err is None and p > n:
            err = "file truncated inside a message"
        if err is not None:
            if p > n and starts and starts[-1] + hsz[buf[starts[-1]]] > n:
                h = buf[starts[-1]]
                local = (h >> 5) & 0x3 if h & 0x80 else h & 0x0F
                cut_message = (starts.pop(), assigned[local][-1][1])  # a message cut by the end of the file is not data
            break
        # --- file CRC, read where the last message ended
        if n - p < 2:
            err = _eof(2, n - p)
            break
        read = buf[p] | buf[p + 1] << 8
        computed = crc16(buf, pos, p)
        if computed != read:
            err = f"file CRC mismatch (CRC Mismatch [computed: 0x{computed:04X}, read: 0x{read:04X}])"
            break
        pos = p + 2
        if pos >= n:
            break
    at = np.asarray(starts, dtype=np.int64)
    return _Scan(defs, at, _definitions_of(buf, at, assigned), files, dev_defs, err, cut_message, partial_devs)


def _definitions_of(buf: bytes, starts: np.ndarray, assigned: list[list[tuple[int, int]]]) -> np.ndarray:
    """Each message's definition: the last one assigned to its local message number before it."""
    n = len(starts)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    h = np.frombuffer(buf, dtype=np.uint8)[starts].astype(np.int64)
    local = np.where(h & 0x80, (h >> 5) & 0x3, h & 0x0F)
    out = np.zeros(n, dtype=np.int64)
    idx = np.arange(n)
    for k, lst in enumerate(assigned):
        if not lst:
            continue
        mine = local == k
        if not mine.any():
            continue
        at = np.array([a for a, _ in lst], dtype=np.int64)
        did = np.array([d for _, d in lst], dtype=np.int64)
        out[mine] = did[np.searchsorted(at, idx[mine], side="right") - 1]
    return out


# --- columns -----------------------------------------------------------------------------------------

class _Col:
    """A column of one message type (or of one definition's messages) while decoding.

    kind: 'int' (int64), 'num' (float64), 'dt' / 'ldt' / 'tod' (int64 FIT seconds of a date_time,
    local_date_time, localtime_into_day), 'bool' (int64), 'name' / 'obj' (object arrays of Python
    values: a name, or the number when the type has no name for it; tuples for arrays; str).
    ``p`` is True where the value is present (fitparse: not None).
    """

    __slots__ = ("kind", "v", "p")

    def __init__(self, kind: str, v: np.ndarray, p: np.ndarray) -> None:
        self.kind, self.v, self.p = kind, v, p

    def as_kind(self, kind: str) -> _Col:
        if kind == self.kind:
            return self
        if kind == "num" and self.kind == "int":
            return _Col("num", self.v.astype(np.float64), self.p)
        if kind == "obj":
            return _Col("obj", self.objects(), self.p)
        raise TypeError(f"cannot make {self.kind} into {kind}")

    def objects(self) -> np.ndarray:
        """Python values, as fitparse's get_values() gives them (None where absent)."""
        if self.kind in ("name", "obj"):
            out = self.v.copy()
            out[~self.p] = None
            return out
        out = np.empty(len(self.v), dtype=object)
        idx = np.flatnonzero(self.p)
        vals = self.v[idx].tolist()
        if self.kind == "dt":
            vals = [FIT_EPOCH + dt.timedelta(seconds=x) if x >= MIN_DATE_TIME else x for x in vals]
        elif self.kind == "ldt":
            vals = [FIT_EPOCH + dt.timedelta(seconds=x) for x in vals]
        elif self.kind == "tod":
            vals = [dt.time.max if x >= 86400 else dt.time(x // 3600, x // 60 % 60, x % 60) for x in vals]
        elif self.kind == "bool":
            vals = [bool(x) for x in vals]
        out[idx] = vals
        return out


def _promote(kinds: set[str]) -> str:
    if len(kinds) == 1:
        return next(iter(kinds))
    if kinds <= {"int", "num"}:
        return "num"
    return "obj"


def _scaled(v: np.ndarray, scale: float | None, offset: float | None) -> np.ndarray:
    """fitparse: float(raw) / scale, then - offset (same float operations, same results)."""
    out = v.astype(np.float64)
    if scale:
        out = out / scale
    if offset:
        out = out - offset
    return out


def _pyscale(x: Any, scale: float | None, offset: float | None) -> Any:
    if isinstance(x, tuple):
        return tuple(_pyscale(e, scale, offset) for e in x)
    if isinstance(x, (int, float)):
        if scale:
            x = float(x) / scale
        if offset:
            x = x - offset
    return x


def _parse_string(raw: bytes) -> str | None:
    i = raw.find(b"\0")
    s = raw if i < 0 else raw[:i]
    return s.decode("utf-8", errors="replace") or None


class _DefRows:
    """One definition's messages of one type: their bytes and raw field values."""

    def __init__(self, d: _Def, mat: np.ndarray) -> None:
        self.d, self.mat, self.m = d, mat, len(mat)
        self._view: np.ndarray | None = None
        self._raw: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._obj: dict[int, np.ndarray] = {}

    @property
    def view(self) -> np.ndarray:
        if self._view is None:
            d = self.d
            if d.size == 0:
                self._view = np.zeros(self.m, dtype=d.dtype)
            else:
                self._view = self.mat.view(d.dtype).reshape(self.m)
        return self._view

    def raw(self, s: _Spec) -> tuple[np.ndarray, np.ndarray]:
        """(raw values, present) of a scalar field; (empty, present) of a byte field."""
        got = self._raw.get(s.i)
        if got is None:
            if s.kind == "scalar":
                v = self.view[f"f{s.i}"]
                p = ~np.isnan(v) if s.is_float else v != s.invalid
            elif s.kind == "byte":  # only whether it is present (fitparse: None if every byte is 0xFF)
                v = np.zeros(0)
                p = (self.mat[:, s.off:s.off + s.size] != 0xFF).any(axis=1)
            else:
                raise TypeError(s.kind)
            got = self._raw[s.i] = (v, p)
        return got

    def bits(self, s: _Spec, off: int, bits: int) -> np.ndarray:
        """Bits [off, off + bits) of a field read as one little-endian number (fitparse's component
        rendering); bits past the end of the field are 0."""
        if s.kind == "scalar":
            v = self.raw(s)[0].astype(np.uint64)
            return ((v >> np.uint64(off)) & np.uint64((1 << bits) - 1)).astype(np.int64)
        lo, hi = off // 8, min((off + bits - 1) // 8, s.size - 1)
        if hi - lo >= 8:
            raise _Unsupported("component wider than 56 bits")
        v = np.zeros(self.m, dtype=np.uint64)
        for k in range(lo, hi + 1):
            v |= self.mat[:, s.off + k].astype(np.uint64) << np.uint64(8 * (k - lo))
        return ((v >> np.uint64(off - 8 * lo)) & np.uint64((1 << bits) - 1)).astype(np.int64)

    def objects(self, s: _Spec) -> np.ndarray:
        """fitparse's raw value of an array / string / byte field, per message (slow path)."""
        got = self._obj.get(s.i)
        if got is None:
            got = np.empty(self.m, dtype=object)
            if s.kind == "string":
                rows = self.mat[:, s.off:s.off + s.size]
                got[:] = [_parse_string(r.tobytes()) for r in rows]
            elif s.kind == "byte":
                rows = self.mat[:, s.off:s.off + s.size].tolist()
                got[:] = [None if all(b == 0xFF for b in r) else tuple(r) for r in rows]
            elif s.kind == "array":
                arr = self.view[f"f{s.i}"]
                if s.is_float:
                    got[:] = [tuple(None if x != x else x for x in r) for r in arr.tolist()]
                else:
                    inv = s.invalid
                    got[:] = [tuple(None if x == inv else x for x in r) for r in arr.tolist()]
            else:  # scalar
                v, p = self.raw(s)
                vals = v.tolist()
                got[:] = [x if ok else None for x, ok in zip(vals, p.tolist(), strict=True)]
            self._obj[s.i] = got
        return got

    def present(self, s: _Spec) -> np.ndarray:
        if s.kind in ("scalar", "byte"):
            return self.raw(s)[1]
        if s.kind == "string":
            return self.mat[:, s.off] != 0 if s.size else np.zeros(self.m, bool)
        return np.ones(self.m, dtype=bool)  # an array is a tuple even when every element is invalid


def _value_col(rows: _DefRows, s: _Spec, f: _FieldP | None, sel: np.ndarray | None) -> _Col:
    """A field's value column (fitparse: render, then scale/offset, then the type processor)."""
    m = rows.m
    if s.kind == "scalar":
        v, p = rows.raw(s)
        if sel is not None:
            p = p & sel
        t = f.type if f is not None else None
        if t in _DATE_TYPES or t == "bool":
            kind = {"date_time": "dt", "local_date_time": "ldt", "localtime_into_day": "tod", "bool": "bool"}[t]
            return _Col(kind, v.astype(np.int64), p)
        scale, offset = (f.scale, f.offset) if f is not None else (None, None)
        if f is not None and f.values:
            out = np.empty(m, dtype=object)
            idx = np.flatnonzero(p)
            names = f.values
            if len(idx) <= 64:
                out[idx] = [names[x] if x in names else _pyscale(x, scale, offset) for x in v[idx].tolist()]
            else:
                uniq, inv = np.unique(v[idx], return_inverse=True)
                mapped = [names[x] if x in names else _pyscale(x, scale, offset) for x in uniq.tolist()]
                lut = np.empty(len(mapped), dtype=object)
                lut[:] = mapped
                out[idx] = lut[inv]
            return _Col("name", out, p)
        if s.is_float or scale or offset or s.code in ("u8", "i8"):
            return _Col("num", _scaled(v, scale, offset), p)
        return _Col("int", v.astype(np.int64), p)
    objs = rows.objects(s)
    p = rows.present(s)
    if sel is not None:
        p = p & sel
    if f is not None and (f.scale or f.offset) and s.kind in ("array", "byte"):  # fitparse: per element
        objs = np.array([_pyscale(x, f.scale, f.offset) for x in objs] + [None], dtype=object)[:-1]
    return _Col("obj", objs, p)


class _Ctx:
    """A scanned file (up to the first error): decodes message types into columns."""

    def __init__(self, buf: bytes, scan: _Scan, cut: int) -> None:
        self.buf, self.scan, self.cut = buf, scan, cut
        self.arr = np.frombuffer(buf, dtype=np.uint8)
        self.starts = scan.starts[:cut]
        self.dids = scan.dids[:cut]
        self.globs = np.array([d.glob for d in scan.defs], dtype=np.int64)
        self.mglob = self.globs[self.dids] if cut else np.zeros(0, np.int64)
        files = np.zeros(cut, dtype=np.int64)
        for k, first in enumerate(scan.files[1:], 1):
            if first < cut:
                files[first:] = k
        self.file_of = files
        self._comp_ts: tuple[np.ndarray, np.ndarray] | None = None

    # -- which messages --------------------------------------------------------------------
    def messages(self, glob: int) -> np.ndarray:
        return np.flatnonzero(self.mglob == glob)

    def count(self, glob: int) -> int:
        return int(np.count_nonzero(self.mglob == glob))

    def rows(self, did: int, msg_idx: np.ndarray) -> _DefRows:
        d = self.scan.defs[did]
        size = d.size
        if size == 0:
            mat = np.zeros((len(msg_idx), 0), dtype=np.uint8)
        else:
            win = np.lib.stride_tricks.as_strided(self.arr, shape=(len(self.arr) - size + 1, size), strides=(1, 1))
            mat = win[self.starts[msg_idx] + 1]
        return _DefRows(d, mat)

    # -- compressed timestamps ------------------------------------------------------------------
    def compressed_ts(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Per message: (timestamp of its compressed-timestamp header, whether it has one), or None
        if the file has none. fitparse / FIT spec: 5-bit offset against the last timestamp of
        any message (its timestamp field, or an earlier compressed header); 0 at each file start."""
        if self._comp_ts is not None:
            return self._comp_ts if len(self._comp_ts[0]) else None
        cut = self.cut
        comp = (self.arr[self.starts] & 0x80) != 0 if cut else np.zeros(0, bool)
        if not comp.any():
            self._comp_ts = (np.zeros(0, np.int64), np.zeros(0, bool))
            return None
        full = np.zeros(cut, dtype=np.int64)  # value of a valid timestamp field (253)
        has_full = np.zeros(cut, dtype=bool)
        order = np.argsort(self.dids, kind="stable")
        bounds = np.searchsorted(self.dids[order], np.arange(len(self.scan.defs) + 1))
        for did, d in enumerate(self.scan.defs):
            lo, hi = bounds[did], bounds[did + 1]
            if lo == hi:
                continue
            specs = [s for s in d.specs if s.num == 253]
            if not specs:
                continue
            idx = order[lo:hi]
            rows = self.rows(did, idx)
            for s in specs:  # the last valid one wins, as fitparse reads fields in order
                v, p = rows.raw(s)
                full[idx[p]] = v[p].astype(np.int64)
                has_full[idx[p]] = True
        # events in stream order: each message's own timestamp first, then its compressed header
        ev_msg = np.concatenate((np.flatnonzero(has_full), np.flatnonzero(comp)))
        ev_comp = np.concatenate((np.zeros(int(has_full.sum()), bool), np.ones(int(comp.sum()), bool)))
        key = ev_msg * 2 + ev_comp
        o = np.argsort(key, kind="stable")
        ev_msg, ev_comp = ev_msg[o], ev_comp[o]
        val = np.where(ev_comp, (self.arr[self.starts[ev_msg]] & 0x1F).astype(np.int64), full[ev_msg])
        file_ev = self.file_of[ev_msg]
        new_file = np.ones(len(ev_msg), bool)
        new_file[1:] = file_ev[1:] != file_ev[:-1]
        acc = _accumulate(val, ~ev_comp, new_file, 5)
        out = np.zeros(cut, dtype=np.int64)
        out[ev_msg[ev_comp]] = acc[ev_comp]
        self._comp_ts = (out, comp)
        return self._comp_ts

    # -- one message type --------------------------------------------------------------------------
    def decode_type(self, glob: int, want: frozenset[str] | None = None) -> tuple[int, dict[str, _Col]]:
        """All messages of one global type, as columns (name -> _Col), in stream order."""
        prof = profile()
        mp = prof.messages.get(glob)
        msgs = self.messages(glob)
        M = len(msgs)
        if M == 0:
            return 0, {}
        mdids = self.dids[msgs]
        first = int(mdids[0])
        if (mdids == first).all():
            groups = [(first, np.arange(M))]
        else:
            groups = [(int(did), np.flatnonzero(mdids == did)) for did in np.unique(mdids)]
        per_def: list[tuple[np.ndarray, _DefRows, list[tuple[str, int, int, _Col]]]] = []
        acc_events: dict[int, list[Any]] = {}  # destination field -> accumulation inputs (see _component_col)
        for did, tpos in groups:
            rows = self.rows(did, msgs[tpos])
            cands = _candidates(rows, mp, want, acc_events, tpos)
            per_def.append((tpos, rows, cands))
        if acc_events:
            _resolve_accumulation(acc_events, self.file_of[msgs])
        cols: dict[str, _Col] = {}
        kinds: dict[str, set[str]] = {}
        merged: list[tuple[np.ndarray, dict[str, _Col]]] = []
        if len(per_def) == 1:  # one definition: its columns are the type's columns
            cols = _merge(per_def[0][2], M)
            per_def = []
        for tpos, rows, cands in per_def:
            one = _merge(cands, rows.m)
            merged.append((tpos, one))
            for name, c in one.items():
                kinds.setdefault(name, set()).add(c.kind)
        for name, ks in kinds.items():
            kind = _promote(ks)
            if kind in ("name", "obj"):
                v = np.empty(M, dtype=object)
            elif kind == "num":
                v = np.zeros(M, dtype=np.float64)
            else:
                v = np.zeros(M, dtype=np.int64)
            p = np.zeros(M, dtype=bool)
            for tpos, one in merged:
                got = one.get(name)
                if got is not None:
                    got = got.as_kind(kind)
                    v[tpos] = got.v
                    p[tpos] = got.p
            cols[name] = _Col(kind, v, p)
        comp_ts = self.compressed_ts()
        if comp_ts is not None and (want is None or "timestamp" in want):
            t, has = comp_ts[0][msgs], comp_ts[1][msgs]
            if has.any():
                old = cols.get("timestamp")
                if old is not None and old.kind != "dt":
                    old = old.as_kind("obj")
                    newv = _Col("dt", t, has).objects()
                    v = old.v.copy()
                    v[has] = newv[has]
                    cols["timestamp"] = _Col("obj", v, old.p | has)
                else:
                    v = old.v.copy() if old is not None else np.zeros(M, np.int64)
                    p = old.p.copy() if old is not None else np.zeros(M, bool)
                    v[has] = t[has]
                    p[has] = True
                    cols["timestamp"] = _Col("dt", v, p)
        return M, cols


def _subfield_sel(rows: _DefRows, f: _FieldP) -> np.ndarray | None:
    """Per message: index of the sub-field that applies (-1: the main field), or None if no sub-fields."""
    if not f.subs:
        return None
    sel = np.full(rows.m, -1, dtype=np.int64)
    specs = rows.d.specs
    for k, sub in enumerate(f.subs):
        match = np.zeros(rows.m, dtype=bool)
        for rnum, rraw in sub.refs:
            for s in specs:
                if s.num == rnum and s.kind == "scalar":
                    v, p = rows.raw(s)
                    match |= p & (v == rraw)
        sel[match & (sel < 0)] = k
    return sel


def _candidates(rows: _DefRows, mp: _MsgP | None, want: frozenset[str] | None,
                acc_events: dict[int, list[Any]], tpos: np.ndarray) -> list[tuple[str, int, int, _Col]]:
    """Every (name, priority, order, column) one definition's messages give (fitparse's field list:
    a field's components, then the field; real fields rank above components)."""
    out: list[tuple[str, int, int, _Col]] = []
    order = 0
    fields = mp.fields if mp is not None else {}
    for s in rows.d.relevant(want, fields):
        fp = fields.get(s.num)
        if fp is None:
            name = f"unknown_{s.num}"
            if want is None or name in want:
                out.append((name, 2, order, _value_col(rows, s, None, None)))
            order += 1
            continue
        sel = _subfield_sel(rows, fp)
        variants = [(fp, None)] if sel is None else [(fp, sel == -1)] + [
            (sub, sel == k) for k, sub in enumerate(fp.subs)]
        for f, vmask in variants:
            if vmask is not None and not vmask.any():
                continue
            for c in f.comps:
                tgt = fields[c.target]
                if want is not None and tgt.name not in want and not any(x.name in want for x in tgt.subs):
                    continue
                col = _component_col(rows, s, c, tgt, vmask, acc_events, tpos, order)
                if col is None:
                    continue
                tsel = _subfield_sel(rows, tgt)
                if tsel is None:
                    out.append((tgt.name, 1, order, col))
                else:
                    for k, tf in [(-1, tgt)] + list(enumerate(tgt.subs)):
                        mk = tsel == k
                        if mk.any():
                            out.append((tf.name, 1, order, _Col(col.kind, col.v, col.p & mk)))
                order += 1
            if want is None or f.name in want:
                out.append((f.name, 2, order, _value_col(rows, s, f, vmask)))
            order += 1
        if fp.accumulated and s.kind == "scalar":  # a real value seeds its components' accumulator
            _seed_accumulator(rows, s, fp, fields, acc_events, tpos)
    return out


def _component_col(rows: _DefRows, s: _Spec, c: _Comp, tgt: _FieldP, vmask: np.ndarray | None,
                   acc_events: dict[int, list[Any]], tpos: np.ndarray, order: int) -> _Col | None:
    if s.kind == "byte":
        if c.bit_off >= s.size * 8:
            return None  # fitparse: the bytes do not reach this component
    elif s.kind != "scalar" or s.is_float:
        raise _Unsupported(f"{s.kind} field with components")  # _hazard() catches these first
    p = rows.raw(s)[1]
    if vmask is not None:
        p = p & vmask
    raw = rows.bits(s, c.bit_off, c.bits)
    if c.accumulate:
        if tgt.subs:
            raise _Unsupported("accumulated component into a field with sub-fields")
        holder = _Col("int", np.zeros(rows.m, np.int64), p)
        acc_events.setdefault(c.target, []).append((tpos, order, lambda raw=raw, p=p: (raw, p), c, tgt, holder))
        return holder
    return _target_col(raw, p, c, tgt)


def _target_col(raw: np.ndarray, p: np.ndarray, c: _Comp, tgt: _FieldP) -> _Col:
    """fitparse: component scale/offset, then the destination field's names and type processor."""
    t = tgt.type
    if t in _DATE_TYPES or t == "bool":
        kind = {"date_time": "dt", "local_date_time": "ldt", "localtime_into_day": "tod", "bool": "bool"}[t]
        if c.scale or c.offset:
            raise _Unsupported("scaled component into a date")
        return _Col(kind, raw, p)
    val: np.ndarray = _scaled(raw, c.scale, c.offset) if (c.scale or c.offset) else raw
    if tgt.values:
        out = np.empty(len(raw), dtype=object)
        idx = np.flatnonzero(p)
        names = tgt.values
        out[idx] = [names.get(x, x) for x in val[idx].tolist()]
        return _Col("name", out, p)
    return _Col("num" if (c.scale or c.offset) else "int", val, p)


def _seed_accumulator(rows: _DefRows, s: _Spec, fp: _FieldP, fields: dict[int, _FieldP],
                      acc_events: dict[int, list[Any]], tpos: np.ndarray) -> None:
    """Garmin SDK: a real value of an accumulated field sets its accumulator (in the units of the
    component that accumulates into it)."""
    comp = next((c for f in fields.values() for x in (f, *f.subs) for c in x.comps
                 if c.target == fp.num and c.accumulate), None)
    if comp is None:
        return

    def seed() -> tuple[np.ndarray, np.ndarray]:
        v, p = rows.raw(s)
        val = _scaled(v, fp.scale, fp.offset)
        if comp.offset:
            val = val + comp.offset
        if comp.scale:
            val = val * comp.scale
        return np.where(p, np.trunc(val), 0).astype(np.int64), p

    acc_events.setdefault(fp.num, []).append((tpos, -1, seed, comp, None, None))


def _accumulate(val: np.ndarray, is_seed: np.ndarray, new_seg: np.ndarray, bits: int) -> np.ndarray:
    """FIT accumulation (fitparse, Garmin SDK): each value is the low ``bits`` bits of a counter
    that only moves forward; a seed sets the counter; a segment start resets it to 0."""
    n = len(val)
    mask = (1 << bits) - 1
    low = val & mask
    prev_low = np.zeros(n, dtype=np.int64)
    prev_low[1:] = low[:-1]
    prev_low[new_seg] = 0
    delta = np.where(is_seed, 0, (val - prev_low) & mask)
    starts = is_seed | new_seg
    base = np.where(is_seed, val, 0)
    seg = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    cs = np.cumsum(delta)
    before = cs[first] - delta[first]
    return base[first][seg] + cs - before[seg]


def _resolve_accumulation(acc_events: dict[int, list[Any]], file_of: np.ndarray) -> None:
    """Accumulate each destination field over all messages of the type, in stream order (then in
    field order within a message), and fill in the component columns."""
    for evs in acc_events.values():
        if all(e[5] is None for e in evs):
            continue  # only real values: nothing accumulates
        parts = []
        for k, (tpos, order, get, _comp, _tgt, holder) in enumerate(evs):
            raw, p = get()
            idx = np.flatnonzero(p)
            parts.append((tpos[idx], np.full(len(idx), order, np.int64), raw[idx],
                          np.full(len(idx), holder is None), np.full(len(idx), k, np.int64), idx))
        pos, order_, val, seed, src, loc = (np.concatenate([x[j] for x in parts]) for j in range(6))
        o = np.lexsort((order_, pos))
        pos, val, seed, src, loc = pos[o], val[o], seed[o], src[o], loc[o]
        widths = {evs[k][3].bits for k in set(src[~seed].tolist())}
        if len(widths) > 1:
            raise _Unsupported("accumulated components of different widths")
        f = file_of[pos]
        new_seg = np.ones(len(pos), bool)
        new_seg[1:] = f[1:] != f[:-1]
        acc = _accumulate(val, seed, new_seg, widths.pop() if widths else 32)
        for k, (_tpos, _order, _get, comp, tgt, holder) in enumerate(evs):
            if holder is None:
                continue
            sel = src == k
            a = np.zeros(len(holder.p), np.int64)
            a[loc[sel]] = acc[sel]
            col = _target_col(a, holder.p, comp, tgt)
            holder.kind, holder.v, holder.p = col.kind, col.v, col.p


def _merge(cands: list[tuple[str, int, int, _Col]], m: int) -> dict[str, _Col]:
    """One value per name: present beats absent, a real field beats a component, else the later one."""
    by: dict[str, list[tuple[int, int, _Col]]] = {}
    for name, prio, order, col in cands:
        by.setdefault(name, []).append((prio, order, col))
    out: dict[str, _Col] = {}
    for name, lst in by.items():
        if len(lst) == 1:
            out[name] = lst[0][2]
            continue
        lst.sort(key=lambda t: (t[0], t[1]))
        kind = _promote({c.kind for _, _, c in lst})
        first = lst[0][2].as_kind(kind)
        v, p = first.v.copy(), first.p.copy()
        for _, _, c in lst[1:]:
            c = c.as_kind(kind)
            v[c.p] = c.v[c.p]
            p |= c.p
        out[name] = _Col(kind, v, p)
    return out


# --- fallback conditions --------------------------------------------------------------------------

def _hazard(d: _Def, has_compressed: bool) -> str | None:
    """Would python-fitparse raise on a data message of this definition (or read it differently)?
    Those files go to the reference decoder."""
    if has_compressed not in d._hazard:
        d._hazard[has_compressed] = _find_hazard(d, has_compressed)
    return d._hazard[has_compressed]


def _find_hazard(d: _Def, has_compressed: bool) -> str | None:
    mp = profile().messages.get(d.glob)
    fields = mp.fields if mp is not None else {}
    for s in d.specs:
        if s.num == 253 and has_compressed and not (s.kind == "scalar" and not s.is_float):
            return "non-integer timestamp field with compressed timestamps"
        fp = fields.get(s.num)
        if fp is None:
            continue
        for f in (fp, *fp.subs):
            if f.comps and (s.kind not in ("scalar", "byte") or s.is_float):
                return f"{s.kind if not s.is_float else 'float'} field with components"
            if f.type in _DATE_TYPES and s.kind == "scalar" and not (s.unsigned and s.size <= 4):
                return f"{f.type} field read as {s.kind} {s.code}"
    return None


# --- the decoder ------------------------------------------------------------------------------------

# The fields the row builders read, per message type (connectors/fit/fields.py), in this order
_FEW: dict[str, frozenset[str]] = {t: fields.fields_read(t) for t in (
    "file_id", "activity", "exercise_title", "workout_step", "sport", "lap", "session", "set", "weight_scale")}
_RECORD_WANT = fields.fields_read("record")


def _dev_replay(buf: bytes, ctx_scan: _Scan, cut: int) -> tuple[int, str | None]:
    """fitparse checks developer fields as it reads: a definition naming a developer data index or
    field that no developer_data_id / field_description message declared earlier is an error.
    Returns (messages kept, error)."""
    defs = ctx_scan.defs
    dev_dids = [did for did, d in enumerate(defs) if d.glob in (206, 207)]
    if not ctx_scan.dev_defs and not dev_dids and not ctx_scan.partial_devs:
        return cut, None
    msg_events = np.flatnonzero(np.isin(ctx_scan.dids[:cut], dev_dids)).tolist()
    prof = profile()
    # developer data index -> field number -> base type, as read (an invalid number reads as None)
    dev_types: dict[Any, dict[int | None, int]] = {}
    events = [(i, 1, -1) for i in msg_events] + [(i, 0, did) for i, did in ctx_scan.dev_defs if i <= cut]
    if ctx_scan.partial_devs and cut == len(ctx_scan.starts):
        events.append((cut, 0, -2))  # the definition cut by the end of the file
    events.sort(key=lambda e: (e[0], e[1]))
    for i, is_msg, did in events:
        if not is_msg:
            for num, size, idx in (defs[did].devs if did >= 0 else ctx_scan.partial_devs or []):
                if idx not in dev_types:
                    return i, f"invalid FIT data (No such dev_data_index={idx} found when looking up field {num})"
                fields = dev_types[idx]
                if num not in fields:
                    return i, f"invalid FIT data (No such field {num} for dev_data_index {idx})"
                bsize = _BASE[fields[num]][1]
                if size == 0 or size % bsize:
                    raise _Unsupported("developer field size not a multiple of its type")
            continue
        d = defs[ctx_scan.dids[i]]
        at = int(ctx_scan.starts[i]) + 1
        body = buf[at:at + d.size]
        vals = _raw_values(d, body, prof)
        if d.glob == 206 and any(s.num in (3, 8) and s.kind != "string" for s in d.specs):
            # fitparse formats these into method names ('process_units_%s' % units) and fails on a tuple
            raise _Unsupported("field_description with a field_name or units that is not text")
        if d.glob == 207:
            dev_types[vals.get("developer_data_index")] = {}
        else:
            data_idx = vals.get("developer_data_index")
            if data_idx not in dev_types:
                return i, f"invalid FIT data (No such dev_data_index={data_idx} found)"
            if data_idx is None:
                raise _Unsupported("field_description for an invalid developer data index")
            bt = vals.get("fit_base_type_id")
            if bt not in (0x00, 0x01, 0x02, 0x83, 0x84, 0x85, 0x86, 0x07, 0x88, 0x89, 0x0A, 0x8B, 0x8C, 0x0D,
                          0x8E, 0x8F, 0x90):
                raise _Unsupported("field_description with an unknown base type")
            dev_types[data_idx][vals.get("field_definition_number")] = bt & 0x1F
    return cut, None


_DEV_KEYS = {"developer_data_index", "field_definition_number", "fit_base_type_id"}


def _raw_values(d: _Def, body: bytes, prof: Profile) -> dict[str, Any]:
    """Raw (unscaled, unnamed) values of one message by field name, the first field of a name
    winning (fitparse's get_raw_value); for developer-data bookkeeping only."""
    mp = prof.messages.get(d.glob)
    out: dict[str, Any] = {}
    e = ">" if d.big else "<"
    for s in d.specs:
        f = mp.fields.get(s.num) if mp else None
        if f is None or f.name in out or f.name not in _DEV_KEYS:
            continue
        if s.kind != "scalar":
            raise _Unsupported(f"developer data message with a {s.kind} {f.name}")
        raw = body[s.off:s.off + s.size]
        x = np.frombuffer(raw, dtype=e + s.code)[0].item()
        out[f.name] = None if (x != x if s.is_float else x == s.invalid) else x
    return out


def _rows_of(M: int, cols: dict[str, _Col]) -> list[dict[str, Any]]:
    objs = {name: c.objects() for name, c in cols.items()}
    return [{name: o[i] for name, o in objs.items()} for i in range(M)]


# --- a few messages: the same values, message by message in Python (cheaper than numpy for ~10 rows) --

_PY_ROWS_MAX = 16


def _py_raw(s: _Spec, e: str, buf: bytes, at: int) -> Any:
    """fitparse's raw value of one field (None where invalid)."""
    a = at + s.off
    if s.kind == "scalar":
        x = struct.unpack_from(e + _STRUCT[s.code], buf, a)[0]
        if s.is_float:
            return None if x != x else x
        return None if x == s.invalid else x
    if s.kind == "string":
        return _parse_string(buf[a:a + s.size])
    if s.kind == "byte":
        t = tuple(buf[a:a + s.size])
        return None if all(b == 0xFF for b in t) else t
    xs = struct.unpack_from(f"{e}{s.count}{_STRUCT[s.code]}", buf, a)
    if s.is_float:
        return tuple(None if x != x else x for x in xs)
    return tuple(None if x == s.invalid else x for x in xs)


def _py_processed(t: str | None, v: Any) -> Any:
    """fitparse's type processors (date_time, local_date_time, localtime_into_day, bool)."""
    if v is None or t is None or isinstance(v, (tuple, str)):
        return v  # an array, bytes or text where a date is expected: not a date (the row builders drop it)
    if t == "date_time":
        return FIT_EPOCH + dt.timedelta(seconds=v) if v >= MIN_DATE_TIME else v
    if t == "local_date_time":
        return FIT_EPOCH + dt.timedelta(seconds=v)
    if t == "localtime_into_day":
        return dt.time.max if v >= 86400 else dt.time(v // 3600, v // 60 % 60, v % 60)
    if t == "bool":
        return bool(v)
    return v


def _py_value(f: _FieldP, raw: Any) -> Any:
    if raw is None:
        return None
    v = raw
    if f.values and not isinstance(raw, tuple) and raw in f.values:
        v = f.values[raw]
    return _py_processed(f.type, _pyscale(v, f.scale, f.offset))


def _py_sub(f: _FieldP, raws: dict[int, list[Any]]) -> _FieldP:
    for sub in f.subs:
        if any(raw == r for num, r in sub.refs for raw in raws.get(num, ())):
            return sub
    return f


def _py_rows(ctx: _Ctx, glob: int, want: frozenset[str]) -> list[dict[str, Any]] | None:
    """decode_type() + _rows_of() for a few messages, or None where only the numpy path applies."""
    msgs = ctx.messages(glob)
    mp = profile().messages.get(glob)
    if mp is None:
        return None
    fields = mp.fields
    comp = ctx.compressed_ts() if "timestamp" in want else None
    buf, defs = ctx.buf, ctx.scan.defs
    out = []
    for i, did, at in zip(msgs.tolist(), ctx.dids[msgs].tolist(), (ctx.starts[msgs] + 1).tolist(), strict=True):
        d = defs[did]
        e = ">" if d.big else "<"
        raws: dict[int, list[Any]] = {}
        for s in d.specs:
            if s.kind == "scalar":  # sub-field references: any field of that number, in order
                raws.setdefault(s.num, []).append(_py_raw(s, e, buf, at))
        vals: dict[str, Any] = {}
        rank: dict[str, int] = {}

        # vals and rank bound as defaults: this message's dicts, not whatever the loop holds later
        def put(name: str, value: Any, prio: int,
                vals: dict[str, Any] = vals, rank: dict[str, int] = rank) -> None:
            eff = prio if value is not None else 0
            if rank.get(name, -1) <= eff and name in want:
                vals[name], rank[name] = value, eff

        for s in d.relevant(want, fields):
            fp = fields.get(s.num)
            if fp is None:
                put(f"unknown_{s.num}", _py_raw(s, e, buf, at), 2)
                continue
            raw = _py_raw(s, e, buf, at)
            f = _py_sub(fp, raws)
            for c in f.comps:
                if c.accumulate:
                    return None
                if raw is None or (isinstance(raw, tuple) and c.bit_off >= len(raw) * 8):
                    continue
                u = int.from_bytes(bytes(raw), "little") if isinstance(raw, tuple) else raw
                cr = (u >> c.bit_off) & ((1 << c.bits) - 1)
                val = _pyscale(cr, c.scale, c.offset)
                tgt = _py_sub(fields[c.target], raws)
                if tgt.values:
                    val = tgt.values.get(val, val)
                put(tgt.name, _py_processed(tgt.type, val), 1)
            put(f.name, _py_value(f, raw), 2)
        if comp is not None and comp[1][i]:
            put("timestamp", _py_processed("date_time", int(comp[0][i])), 3)
        out.append(vals)
    return out


def _num_col(c: _Col | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    """fitparse value -> rows._num(value): (float64 values with NaN, present)."""
    if c is None:
        return np.full(n, np.nan), np.zeros(n, bool)
    if c.kind in ("int", "num"):
        return np.where(c.p, c.v.astype(np.float64), np.nan), c.p
    vals = np.full(n, np.nan)
    if c.kind in ("name", "obj"):
        for i in np.flatnonzero(c.p):
            x = c.v[i]
            if isinstance(x, (int, float)) and not isinstance(x, bool) or isinstance(x, bool):
                vals[i] = float(x)
    elif c.kind in ("tod", "ldt"):
        pass  # time / datetime: not a number
    elif c.kind == "dt":
        small = c.p & (c.v < MIN_DATE_TIME)
        vals[small] = c.v[small]
    elif c.kind == "bool":
        vals[c.p] = (c.v[c.p] != 0).astype(np.float64)
    return vals, c.p


def _first_num(n: int, *cols: _Col | None) -> np.ndarray:
    """rows._num(rows._first(v, a, b, ...)): the first present value, as a number if it is one."""
    out = np.full(n, np.nan)
    done = np.zeros(n, bool)
    for c in cols:
        vals, p = _num_col(c, n)
        take = p & ~done
        out[take] = vals[take]
        done |= p
    return out


def _int_masked(vals: np.ndarray, dtype: Any = np.int64) -> np.ndarray:
    """rows._int(): int() of the number (truncation), NULL where there is none. Values no int64
    holds (an infinity, 1e300 in a float field) stay floats (NaN = NULL): the loader names them as
    out of range for their column."""
    bad = np.isnan(vals)
    t = np.trunc(vals)
    if (np.abs(t[~bad]) >= 2.0**63).any():
        return t
    data = np.where(bad, 0, t).astype(dtype)
    return np.ma.MaskedArray(data, mask=bad)


def _record_column(col: fields.Col, c: dict[str, _Col], n: int) -> Any:
    """One record column from the decoded FIT fields, by its declaration (fields.py), with the same
    values as rows.converter() gives message by message."""
    if col.conv == "time":
        ts = c.get(col.fit[0])
        t = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
        if ts is not None:
            if ts.kind == "dt":
                ok = ts.p & (ts.v >= MIN_DATE_TIME)
                t[ok] = ((ts.v[ok] + FIT_EPOCH_S) * 1_000_000).astype("datetime64[us]")
            else:  # mixed kinds (odd files): go through Python values
                for i, x in enumerate(ts.objects()):
                    if isinstance(x, dt.datetime):
                        t[i] = np.datetime64(x, "us")
        return t
    vals = _first_num(n, *(c.get(f) for f in col.fit))
    if col.conv == "int":
        return _int_masked(vals)
    if col.conv == "semicircles":
        return np.trunc(vals) * SEMICIRCLE_DEG
    if col.conv != "num":
        raise ValueError(f"record column {col.name}: no columnar conversion for {col.conv!r}")
    if col.plus is not None:
        extra = _num_col(c.get(col.plus), n)[0]
        vals = np.where(np.isnan(extra), vals, vals + extra)
    return vals * col.scale if col.scale is not None else vals


def _record_columns(ctx: _Ctx) -> dict[str, Any]:
    n, c = ctx.decode_type(20, _RECORD_WANT)
    out: dict[str, Any] = {}
    for col in fields.RECORD:
        out[col.name] = (np.arange(n, dtype=np.int32) if col.conv == "derived"  # record_index
                         else _record_column(col, c, n))
    return out


def records_as_lists(records: dict[str, Any]) -> dict[str, list[Any]]:
    """The reference decoder's representation (lists with None) of numpy record columns."""
    out: dict[str, list[Any]] = {}
    for name, col in records.items():
        if isinstance(col, list):
            out[name] = col
        elif isinstance(col, np.ma.MaskedArray):
            mask = np.ma.getmaskarray(col).tolist()
            out[name] = [None if m else int(v) for v, m in zip(col.data.tolist(), mask, strict=True)]
        elif col.dtype.kind == "M":
            out[name] = col.astype("datetime64[us]").astype(object).tolist()
        elif col.dtype.kind == "f":
            out[name] = [None if x != x else x for x in col.tolist()]
        else:
            out[name] = col.tolist()
    return out


_RECORD_CONV = {c.name: c.conv for c in fields.RECORD}


def records_as_arrays(records: dict[str, list[Any]]) -> dict[str, Any]:
    """numpy record columns (this decoder's representation) of the reference decoder's lists."""
    out: dict[str, Any] = {}
    for name, vals in records.items():
        conv = _RECORD_CONV.get(name)
        if not isinstance(vals, list):
            out[name] = vals
        elif conv == "derived":  # record_index
            out[name] = np.asarray(vals, dtype=np.int32)
        elif conv == "time":
            out[name] = np.array([np.datetime64("NaT") if v is None else np.datetime64(v, "us") for v in vals],
                                 dtype="datetime64[us]")
        elif conv == "int":
            out[name] = np.ma.MaskedArray(np.array([0 if v is None else v for v in vals], dtype=np.int64),
                                          mask=np.array([v is None for v in vals], dtype=bool))
        else:
            out[name] = np.array([np.nan if v is None else v for v in vals], dtype=np.float64)
    return out


_STRUCT = {"u1": "B", "i1": "b", "u2": "H", "i2": "h", "u4": "I", "i4": "i", "f4": "f", "f8": "d", "i8": "q",
           "u8": "Q", "S": "s"}


def _zero_size_error(d: _Def, s: _Spec) -> str:
    """fitparse reads a field of size 0 with struct format '<0B' and raises."""
    return f"invalid FIT data (Invalid struct format: {'>' if d.big else '<'}0{_STRUCT[s.code]})"


def _prepare(data: bytes) -> tuple[_Scan, _Ctx, str | None]:
    """Scan, find where the reference would stop (and why), check for unsupported cases."""
    scan = _scan(data)
    cut = len(scan.starts)
    error = scan.error
    # fitparse: a field of size 0 is an error at the first data message of its definition
    poison = [did for did, d in enumerate(scan.defs) if d.checks[0] is not None]
    if poison:
        bad = np.flatnonzero(np.isin(scan.dids, poison))
        if len(bad):
            i = int(bad[0])
            d = scan.defs[scan.dids[i]]
            cut, error = i, _zero_size_error(d, d.checks[0])
    if scan.cut_message is not None and cut == len(scan.starts):
        # fitparse reads the cut message field by field and processes what it read before it notices
        pos, did = scan.cut_message
        d = scan.defs[did]
        if d.glob in (206, 207):
            raise _Unsupported("developer data message cut by the end of the file")
        hazard = _hazard(d, True)
        if hazard:
            raise _Unsupported(f"cut message: {hazard}")
        avail, off = len(data) - pos - 1, 0
        for s in d.specs:
            if s.size == 0:
                error = _zero_size_error(d, s)
                break
            if off + s.size > avail:
                break
            off += s.size
    dcut, derr = _dev_replay(data, scan, cut)
    if derr is not None and dcut <= cut:
        cut, error = dcut, derr
    ctx = _Ctx(data, scan, cut)
    has_compressed = bool(cut) and bool(((ctx.arr[ctx.starts] & 0x80) != 0).any())
    for did in np.unique(ctx.dids).tolist():
        d = scan.defs[did]
        why = _hazard(d, has_compressed)
        if why:
            raise _Unsupported(why)
        for s in d.checks[1]:  # fitparse cannot add a local_date_time of 0x10000000 (named 'min') to its epoch
            v, p = ctx.rows(did, np.flatnonzero(ctx.dids == did)).raw(s)
            if (p & (v == MIN_DATE_TIME)).any():
                raise _Unsupported("local_date_time of 0x10000000")
    return scan, ctx, error


class ColumnarDecoder:
    """The columnar decoder, behind the FitDecoder interface (``name``, ``decode(bytes)``).

    ``decode`` gives the same DecodedFit as :class:`~connectors.fit.reference.FitparseDecoder` (status,
    reason, file fields, session / lap / set rows, record values), except that ``records`` holds
    numpy arrays: ``record_index`` int32; ``timestamp_utc`` datetime64[us] (NaT = NULL); float
    columns float64 (NaN = NULL); ``heart_rate_bpm`` and ``power_w`` ``numpy.ma.MaskedArray`` of
    int64 (masked = NULL). ``pa.array(col, type=..., from_pandas=True)`` turns all of them into
    Arrow columns with NULLs (connectors/fit/arrow.py uses ``from_pandas=True`` for the NaN).

    A file it does not support is decoded by the reference decoder (records converted to arrays);
    ``self.fallbacks`` and the module-level :data:`FALLBACKS` count the reasons.
    """

    def __init__(self, fallback: Any | None = None) -> None:
        self.name = f"runlift-columnar 1 (profile {profile().version})"
        self._reference = fallback
        self.fallbacks: Counter[str] = Counter()

    @property
    def reference(self) -> Any:
        if self._reference is None:
            from runlift.connectors.fit.reference import FitparseDecoder  # only for a file it hands over

            self._reference = FitparseDecoder()
        return self._reference

    def decode(self, data: bytes) -> DecodedFit:
        try:
            return self._decode(bytes(data))
        except _Unsupported as exc:
            reason = str(exc)
        except (RecursionError, MemoryError):
            raise
        except Exception as exc:  # a bug here must not lose a file: the reference decodes it
            reason = f"internal error: {type(exc).__name__}: {exc}"
        self.fallbacks[reason] += 1
        FALLBACKS[reason] += 1
        out = self.reference.decode(data)
        out.records = records_as_arrays(out.records)
        out.decoder = f"{out.decoder} (fallback from {self.name}: {reason})"
        return out

    def _decode(self, data: bytes) -> DecodedFit:
        out = DecodedFit(status="rejected", error=None, decoder=self.name, records={})
        if not data or len(data) < 12 or data[8:12] != b".FIT":
            out.records = _empty_records()
            out.error = "empty file (0 bytes)" if not data else "not a FIT file (no .FIT signature in the header)"
            return out
        scan, ctx, error = _prepare(data)
        saw = ctx.cut > 0
        prof = profile()
        rows: dict[str, list[dict[str, Any]]] = {}
        for name, want in _FEW.items():
            glob = prof.by_name[name]
            n = ctx.count(glob)
            got = _py_rows(ctx, glob, want) if 0 < n <= _PY_ROWS_MAX else None
            if got is None and n:
                got = _rows_of(*ctx.decode_type(glob, want))
            rows[name] = got or []
        out.records = _record_columns(ctx)
        for v in rows["file_id"]:
            if out.file["file_type"] is None:
                out.file = file_row(v)
        out.utc_offset_s = next((o for o in map(utc_offset, rows["activity"]) if o is not None), None)
        titles: Titles = {}
        for v in rows["exercise_title"]:
            add_title(titles, v)
        steps: Steps = {}
        for v in rows["workout_step"]:
            add_step(steps, v)
        sport_msg = next((sm for sm in map(sport_of, rows["sport"]) if sm != (None, None)), (None, None))
        out.laps = [lap_row(i, v) for i, v in enumerate(rows["lap"])]
        out.sessions = [session_row(i, v, out.utc_offset_s) for i, v in enumerate(rows["session"])]
        out.sets = [set_row(i, v, steps, titles) for i, v in enumerate(rows["set"])]
        out.weights = [weight_row(i, v) for i, v in enumerate(rows["weight_scale"])]
        return _classify(out, saw, error, sport_msg)


def _empty_records() -> dict[str, Any]:
    return records_as_arrays({c: [] for c in RECORD_COLUMNS})


def _classify(out: DecodedFit, saw: bool, error: str | None, sport_msg: tuple[str | None, str | None]) -> DecodedFit:
    """rows.classify(), whose session summary reads records as Python lists."""
    arrays = out.records
    if not out.sessions and out.n_records:
        out.records = records_as_lists({k: arrays[k] for k in ("record_index", "timestamp_utc", "distance_m",
                                                               "heart_rate_bpm")})
    out = classify(out, saw_messages=saw, error=error, sport_msg=sport_msg)
    out.records = arrays
    return out


# --- columns of any message type ---------------------------------------------------------------------

def _api_column(c: _Col) -> Any:
    if c.kind == "num":
        return np.where(c.p, c.v, np.nan)
    if c.kind in ("int", "bool"):
        return np.ma.MaskedArray(c.v if c.kind == "int" else c.v != 0, mask=~c.p)
    if c.kind == "dt":
        ok = c.p & (c.v >= MIN_DATE_TIME)
        t = np.full(len(c.v), np.datetime64("NaT"), dtype="datetime64[us]")
        t[ok] = ((c.v[ok] + FIT_EPOCH_S) * 1_000_000).astype("datetime64[us]")
        return t
    if c.kind == "ldt":
        t = np.full(len(c.v), np.datetime64("NaT"), dtype="datetime64[us]")
        t[c.p] = ((c.v[c.p] + FIT_EPOCH_S) * 1_000_000).astype("datetime64[us]")
        return t
    if c.kind == "tod":
        return np.ma.MaskedArray(c.v, mask=~c.p)
    objs = c.objects()
    if c.kind == "name":  # a name, or the number as text when the profile has no name for it
        return np.array([None if x is None else str(x) for x in objs] + [None], dtype=object)[:-1]
    return objs


def decode_columns(data: bytes, types: Iterable[str] = ("file_id", "session", "lap", "record", "set",
                                                          "exercise_title", "event", "device_info", "split"),
                   ) -> tuple[dict[str, dict[str, Any]], str | None]:
    """Every field of the given message types as numpy columns: ({type: {field: column}}, error).

    Columns: float64 with NaN (scaled / float fields), ``numpy.ma.MaskedArray`` int64 (integers,
    booleans), datetime64[us] with NaT (date_time; values below 0x10000000 are NaT), object arrays
    of str (named types: the profile's name, else the number as text) and of tuples / str (arrays,
    strings). Values follow the same rules as :class:`ColumnarDecoder`; messages after the first
    error are not decoded. Raises ``ValueError`` for what the columnar decoder does not support.
    """
    if len(data) < 12 or data[8:12] != b".FIT":
        return {t: {} for t in types}, "not a FIT file (no .FIT signature in the header)"
    try:
        scan, ctx, error = _prepare(bytes(data))
    except _Unsupported as exc:
        raise ValueError(str(exc)) from None
    prof = profile()
    out: dict[str, dict[str, Any]] = {}
    for t in types:
        M, cols = ctx.decode_type(prof.by_name[t])
        out[t] = {name: _api_column(c) for name, c in cols.items()}
    return out, error
