"""Hostile FIT files for tests: real files (Garmin's encoder) rewritten at the byte level.

* :func:`set_field` gives one field of every message of a type another base type, size and value
  (a heart rate as uint32 = 100000, ``num_laps`` = 4e9, a float64 infinity, ...), fixing the CRCs,
  so the file is valid FIT that a decoder must read.
* :func:`mutate` is a seeded mutator for fuzzing: bit flips, truncation, field size / type changes,
  absurd values, duplicated or dropped messages, definitions of many fields.
"""

from __future__ import annotations

import datetime as dt
import random
import struct
from functools import lru_cache

from garmin_fit_sdk import CrcCalculator

from runlift.standins import fit_writer

# FIT base type bytes
UINT8, SINT8, UINT16, SINT16, UINT32, SINT32 = 0x02, 0x01, 0x84, 0x83, 0x86, 0x85
FLOAT32, FLOAT64, UINT64, SINT64, BYTE, STRING = 0x88, 0x89, 0x8F, 0x8E, 0x0D, 0x07
_FMT = {UINT8: "B", SINT8: "b", UINT16: "H", SINT16: "h", UINT32: "I", SINT32: "i", FLOAT32: "f",
        FLOAT64: "d", UINT64: "Q", SINT64: "q"}
SIZE = {UINT8: 1, SINT8: 1, UINT16: 2, SINT16: 2, UINT32: 4, SINT32: 4, FLOAT32: 4, FLOAT64: 8, UINT64: 8,
        SINT64: 8, BYTE: 1, STRING: 1}
SESSION, LAP, RECORD, SET, FILE_ID, ACTIVITY = 18, 19, 20, 225, 0, 34


def crc(data: bytes) -> int:
    return CrcCalculator.calculate_crc(data, 0, len(data))


# events: ('def', header_byte, big, glob, fields, devs) / ('data', header_byte, body)
def read_fit(data: bytes) -> list[list[tuple]]:
    files, pos = [], 0
    while pos + 12 <= len(data):
        hsize = data[pos]
        size = struct.unpack_from("<I", data, pos + 4)[0]
        p, end, local_defs, events = pos + hsize, pos + hsize + size, {}, []
        while p < end:
            h = data[p]
            if h & 0x80:
                local = (h >> 5) & 3
            elif h & 0x40:
                big = data[p + 2] == 1
                glob = struct.unpack_from(">H" if big else "<H", data, p + 3)[0]
                nf = data[p + 5]
                fields = [list(data[p + 6 + 3 * i:p + 9 + 3 * i]) for i in range(nf)]
                q = p + 6 + 3 * nf
                devs = []
                if h & 0x20:
                    devs = [tuple(data[q + 1 + 3 * i:q + 4 + 3 * i]) for i in range(data[q])]
                    q += 1 + 3 * len(devs)
                local_defs[h & 0xF] = ["def", h, big, glob, fields, devs]
                events.append(local_defs[h & 0xF])
                p = q
                continue
            else:
                local = h & 0xF
            d = local_defs[local]
            n = sum(f[1] for f in d[4]) + sum(x[1] for x in d[5])
            events.append(["data", h, bytearray(data[p + 1:p + 1 + n]), d])
            p += 1 + n
        files.append(events)
        pos = end + 2
    return files


def write_fit(files: list[list[tuple]]) -> bytes:
    out = b""
    for events in files:
        body = bytearray()
        for e in events:
            if e[0] == "def":
                _, h, big, glob, fields, devs = e
                body.append(h)
                body += bytes([0, 1 if big else 0]) + struct.pack(">H" if big else "<H", glob) + bytes([len(fields)])
                for f in fields:
                    body += bytes(f)
                if devs:
                    body.append(len(devs))
                    for x in devs:
                        body += bytes(x)
            else:
                body.append(e[1])
                body += e[2]
        head = struct.pack("<BBHI4s", 14, 0x20, 2132, len(body), b".FIT")
        head += struct.pack("<H", crc(head))
        out += head + bytes(body) + struct.pack("<H", crc(head + bytes(body)))
    return out


def pack(base_type: int, value: float | int, big: bool = False) -> bytes:
    return struct.pack((">" if big else "<") + _FMT[base_type], value)


def set_field(data: bytes, glob: int, num: int, base_type: int, value: float | int | bytes,
              size: int | None = None) -> bytes:
    """Every message of global type ``glob``: field ``num`` becomes ``base_type`` holding ``value``
    (``bytes``: the raw field bytes; ``size`` defaults to the type's size), added where missing."""
    raw_default = value if isinstance(value, bytes) else None
    files = read_fit(data)
    for events in files:
        layouts: dict[int, tuple[int, int]] = {}  # id(def) -> (old offset or -1, old size)
        for e in events:
            if e[0] == "def" and e[3] == glob:
                off = 0
                for f in e[4]:
                    if f[0] == num:
                        layouts[id(e)] = (off, f[1])
                        break
                    off += f[1]
                else:
                    layouts[id(e)] = (-1, 0)
                    e[4].append([num, 0, base_type])
                new_size = size or (len(raw_default) if raw_default is not None else SIZE[base_type])
                for f in e[4]:
                    if f[0] == num:
                        f[1], f[2] = new_size, base_type
            elif e[0] == "data" and id(e[3]) in layouts:
                off, old = layouts[id(e[3])]
                d = e[3]
                new_size = next(f[1] for f in d[4] if f[0] == num)
                if raw_default is not None:
                    raw = raw_default
                else:
                    one = pack(base_type, value, d[2])
                    raw = (one * (new_size // len(one) + 1))[:new_size]
                body = e[2]
                nfields = sum(f[1] for f in d[4])
                if off < 0:  # appended after the (old) regular fields, before developer fields
                    at = nfields - new_size
                    e[2] = body[:at] + raw + body[at:]
                else:
                    e[2] = body[:off] + raw + body[off + old:]
    return write_fit(files)


@lru_cache(maxsize=None)
def strength(seed: int = 1) -> bytes:
    return fit_writer.encode_strength(
        start_utc=dt.datetime(2024, 3, 4, 17, 0) + dt.timedelta(days=seed), utc_offset_s=3600,
        sets=[fit_writer.SynthSet("squat", 5, 100.0, 30, 20), fit_writer.SynthSet("bench_press", 8, 60.0, 30, 20)],
        seed=seed, serial_number=3_900_000_000 + seed)


@lru_cache(maxsize=None)
def run(seed: int = 1, duration_s: int = 240) -> bytes:
    return fit_writer.encode_run(start_utc=dt.datetime(2024, 3, 1, 7, 0) + dt.timedelta(days=seed), utc_offset_s=3600,
                            duration_s=duration_s, distance_m=duration_s * 3.0, seed=seed,
                            serial_number=3_800_000_000 + seed)


# --- the fuzzer's mutations ---------------------------------------------------------------------------

ABSURD = [0, -1, 2**31 - 1, 2**31, 2**32 - 2, 2**63 - 1, -2**63, 1e298, -1e298, float("inf"), float("-inf"),
          float("nan"), 5e-324, 3e9, 4e9, 1e9, 100000]
TYPES = [UINT8, SINT8, UINT16, SINT16, UINT32, SINT32, FLOAT32, FLOAT64, UINT64, SINT64, BYTE, STRING]


def _fits(base_type: int, v: float | int) -> float | int | None:
    """``v`` as a value of ``base_type`` (or None when it cannot be one)."""
    if base_type in (FLOAT32, FLOAT64):
        if base_type == FLOAT32 and abs(v) > 3.4e38 and v == v and abs(v) != float("inf"):
            return None
        return float(v)
    if isinstance(v, float) and (v != v or abs(v) == float("inf")):
        return None
    iv = int(v)
    bits = SIZE[base_type] * 8
    lo, hi = (0, 2**bits - 1) if base_type in (UINT8, UINT16, UINT32, UINT64) else (-2**(bits - 1), 2**(bits - 1) - 1)
    return iv if lo <= iv <= hi else None


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One to three random mutations of a FIT file."""
    for _ in range(rng.randint(1, 3)):
        kind = rng.choice(("flip", "flip", "truncate", "retype", "absurd", "absurd", "resize", "dup", "wide"))
        try:
            data = _MUTATIONS[kind](data, rng)
        except (IndexError, KeyError, struct.error, ValueError):
            data = _flip(data, rng)  # the file no longer parses as the mutation expects: damage it anyway
    return data


def _flip(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if b:
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    return bytes(b)


def _truncate(data: bytes, rng: random.Random) -> bytes:
    return data[:rng.randrange(len(data) + 1)]


def _pick_field(data: bytes, rng: random.Random) -> tuple[int, int]:
    defs = [e for events in read_fit(data) for e in events if e[0] == "def" and e[4]]
    d = rng.choice(defs)
    return d[3], rng.choice(d[4])[0]


def _retype(data: bytes, rng: random.Random) -> bytes:
    glob, num = _pick_field(data, rng)
    t = rng.choice(TYPES)
    if t in (BYTE, STRING):
        return set_field(data, glob, num, t, bytes(rng.randrange(256) for _ in range(rng.randint(1, 16))))
    v = None
    while v is None:
        v = _fits(t, rng.choice(ABSURD))
    return set_field(data, glob, num, t, v)


def _absurd(data: bytes, rng: random.Random) -> bytes:
    glob, num = rng.choice([(SESSION, 9), (SESSION, 7), (SESSION, 8), (SESSION, 26), (SESSION, 16), (SESSION, 14),
                            (SET, 3), (SET, 4), (SET, 0), (SET, 7), (SET, 8), (RECORD, 3), (RECORD, 5),
                            (RECORD, 6), (RECORD, 0), (RECORD, 253), (LAP, 9), (FILE_ID, 3), (ACTIVITY, 5),
                            _pick_field(data, rng)])
    t = rng.choice([UINT32, SINT32, FLOAT64, UINT64, SINT64, FLOAT32, UINT16])
    v = None
    while v is None:
        v = _fits(t, rng.choice(ABSURD))
    return set_field(data, glob, num, t, v)


def _resize(data: bytes, rng: random.Random) -> bytes:
    glob, num = _pick_field(data, rng)
    t = rng.choice(TYPES)
    size = rng.choice([0, 1, 3, 7, 255, SIZE[t] * rng.randint(1, 40)])
    return set_field(data, glob, num, t, bytes(rng.randrange(256) for _ in range(size)) if size else b"", size)


def _dup(data: bytes, rng: random.Random) -> bytes:
    files = read_fit(data)
    events = files[0]
    i = rng.randrange(len(events))
    if rng.random() < 0.5:
        events[i:i] = [events[i]] * rng.randint(1, 50)
    else:
        del events[i]
    return write_fit(files)


def _wide(data: bytes, rng: random.Random) -> bytes:
    """A definition of up to 255 fields of up to 255 bytes (a valid layout), with one message."""
    files = read_fit(data)
    nf, size = rng.randint(100, 255), rng.randint(1, 255)
    glob = rng.choice([SESSION, SET, RECORD, LAP, 0xFF00])
    t = rng.choice(TYPES)
    while size % SIZE[t]:
        t = BYTE
    fields = [[k, size, t] for k in range(nf)]
    d = ["def", 0x40 | 15, False, glob, fields, []]
    body = bytearray(rng.randrange(256) for _ in range(nf * size))
    at = max(1, len(files[0]) - 2)
    files[0][at:at] = [d, ["data", 15, body, d]]
    return write_fit(files)


_MUTATIONS = {"flip": _flip, "truncate": _truncate, "retype": _retype, "absurd": _absurd, "resize": _resize,
              "dup": _dup, "wide": _wide}


def seeds() -> list[bytes]:
    """The files the fuzzer mutates: a short run and a strength session."""
    return [run(1, 120), strength(1)]


def vary_run(k: int) -> bytes:
    """A distinct copy of a short run (another serial number and creation time)."""
    return fit_writer.vary(run(1, 120), k)
