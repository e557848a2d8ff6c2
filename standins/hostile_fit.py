"""Hostile FIT files for the tests and the FIT fuzzer (bench/fuzz_fit.py): real files (Garmin's
encoder, :mod:`runlift.standins.fit_writer`) rewritten at the byte level (:mod:`runlift.standins.fit_bytes`).

* :func:`set_field` (from fit_bytes) gives one field of every message of a type another base type,
  size and value (a heart rate as uint32 = 100000, ``num_laps`` = 4e9, a float64 infinity, ...),
  fixing the CRCs, so the file is valid FIT that a decoder must read.
* :func:`mutate` is a seeded mutator for fuzzing: bit flips, truncation, field size / type changes,
  absurd values, duplicated or dropped messages, definitions of many fields.
"""

from __future__ import annotations

import datetime as dt
import random
import struct
from functools import cache

from runlift.standins import fit_writer
from runlift.standins.fit_bytes import (
    ACTIVITY,
    BYTE,
    FILE_ID,
    FLOAT32,
    FLOAT64,
    LAP,
    RECORD,
    SESSION,
    SET,
    SINT8,
    SINT16,
    SINT32,
    SINT64,
    STRING,
    UINT8,
    UINT16,
    UINT32,
    UINT64,
    Definition,
    Message,
    read_fit,
    set_field,
    type_size,
    write_fit,
)


@cache
def strength(seed: int = 1) -> bytes:
    return fit_writer.encode_strength(
        start_utc=dt.datetime(2024, 3, 4, 17, 0) + dt.timedelta(days=seed), utc_offset_s=3600,
        sets=[fit_writer.SynthSet("squat", 5, 100.0, 30, 20), fit_writer.SynthSet("bench_press", 8, 60.0, 30, 20)],
        seed=seed, serial_number=3_900_000_000 + seed)


@cache
def run(seed: int = 1, duration_s: int = 240) -> bytes:
    return fit_writer.encode_run(start_utc=dt.datetime(2024, 3, 1, 7, 0) + dt.timedelta(days=seed),
                                 utc_offset_s=3600, duration_s=duration_s, distance_m=duration_s * 3.0, seed=seed,
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
    bits = type_size(base_type) * 8
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
    defs = [e for events in read_fit(data) for e in events if isinstance(e, Definition) and e.fields]
    d = rng.choice(defs)
    return d.glob, rng.choice(d.fields)[0]


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
    size = rng.choice([0, 1, 3, 7, 255, type_size(t) * rng.randint(1, 40)])
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
    while size % type_size(t):
        t = BYTE
    fields = [[k, size, t] for k in range(nf)]
    d = Definition.new(15, False, glob, fields)
    body = bytearray(rng.randrange(256) for _ in range(nf * size))
    at = max(1, len(files[0]) - 2)
    files[0][at:at] = [d, Message.new(d, body)]
    return write_fit(files)


_MUTATIONS = {"flip": _flip, "truncate": _truncate, "retype": _retype, "absurd": _absurd, "resize": _resize,
              "dup": _dup, "wide": _wide}


def seeds() -> list[bytes]:
    """The files the fuzzer mutates: a short run and a strength session."""
    return [run(1, 120), strength(1)]


def vary_run(k: int) -> bytes:
    """A distinct copy of a short run (another serial number and creation time)."""
    return fit_writer.vary(run(1, 120), k)
