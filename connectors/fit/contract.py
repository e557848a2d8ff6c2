"""What a FIT decoder hands over: the decoded-file contract, its statuses and column lists.

A :class:`FitDecoder` turns the bytes of one FIT file (chained files included) into a
:class:`DecodedFit`: the file's identity, a status (``ok`` / ``partial`` / ``rejected`` /
``skipped``) with its reason, and rows for sessions, laps, sets and records (activity files) or
scale measurements (weight files) in SI units. It
never raises for bad input: a decoder error becomes the status and the reason.

The columns, their order and their quality bounds are derived from connectors/fit/fields.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from runlift.connectors.fit import fields

STATUSES = ("ok", "partial", "rejected", "skipped")


def _names(cols: tuple[fields.Col, ...]) -> tuple[str, ...]:
    return tuple(c.name for c in cols)


SESSION_COLUMNS = _names(fields.SESSION)
LAP_COLUMNS = _names(fields.LAP)
SET_COLUMNS = _names(fields.SET)
RECORD_COLUMNS = _names(fields.RECORD)
WEIGHT_COLUMNS = _names(fields.WEIGHT)
FILE_COLUMNS = _names(fields.FILE)


def _bounds(cols: tuple[fields.Col, ...]) -> dict[str, tuple[float, float]]:
    """Column -> (lowest, highest), in the order the checks run (and their reasons are written)."""
    out: dict[str, tuple[float, float]] = {}
    for i in sorted(range(len(cols)), key=lambda i: (cols[i].check, i)):
        bounds = cols[i].bounds
        if bounds is not None:
            out[cols[i].name] = bounds
    return out


# Decodable values no session or set can have (see fields.py); documented in docs/fit-import.md.
SESSION_BOUNDS: dict[str, tuple[float, float]] = _bounds(fields.SESSION)
SET_BOUNDS: dict[str, tuple[float, float]] = _bounds(fields.SET)
WEIGHT_BOUNDS: dict[str, tuple[float, float]] = _bounds(fields.WEIGHT)
MAX_IMPLIED_SPEED_MPS = 150.0  # distance / timer time


@dataclass
class DecodedFit:
    """Everything runlift keeps from one FIT file. Units: SI; times: naive UTC datetimes."""

    status: str
    error: str | None
    decoder: str
    file: dict[str, Any] = field(default_factory=lambda: dict.fromkeys(FILE_COLUMNS))
    utc_offset_s: int | None = None
    sessions: list[dict[str, Any]] = field(default_factory=list)
    laps: list[dict[str, Any]] = field(default_factory=list)
    sets: list[dict[str, Any]] = field(default_factory=list)
    records: dict[str, Any] = field(default_factory=lambda: {c: [] for c in RECORD_COLUMNS})
    weights: list[dict[str, Any]] = field(default_factory=list)  # weight_scale measurements (weight files)

    @property
    def n_records(self) -> int:
        return len(self.records["record_index"])


class FitDecoder(Protocol):
    """The interface the importer uses; a faster decoder can replace the reference one."""

    name: str

    def decode(self, data: bytes) -> DecodedFit: ...
