"""The reference FIT decoder: python-fitparse, behind the FitDecoder interface.

python-fitparse is the maintained fork of fitparse (see docs/decisions.md for the measurements
behind this choice). The production decoder is the columnar one (connectors/fit/columnar.py),
which gives the same rows and hands this decoder the few files it does not support.
"""

from __future__ import annotations

import io
import warnings
from importlib import metadata
from typing import Any

from runlift.connectors.fit.contract import DecodedFit
from runlift.connectors.fit.rows import (
    Steps,
    Titles,
    add_step,
    add_title,
    classify,
    file_row,
    lap_row,
    record_into,
    session_row,
    set_row,
    sport_of,
    utc_offset,
    weight_row,
)


class FitparseDecoder:
    """python-fitparse, read lazily so that everything before an error is kept."""

    def __init__(self) -> None:
        try:
            version = metadata.version("python-fitparse")
            self.name = f"python-fitparse {version}"
        except metadata.PackageNotFoundError:
            self.name = f"fitparse {metadata.version('fitparse')}"

    def decode(self, data: bytes) -> DecodedFit:
        import fitparse

        out = DecodedFit(status="rejected", error=None, decoder=self.name)
        if not data:
            out.error = "empty file (0 bytes)"
            return out
        if len(data) < 12 or data[8:12] != b".FIT":
            out.error = "not a FIT file (no .FIT signature in the header)"
            return out
        error: str | None = None
        saw = False
        session_values: list[dict[str, Any]] = []
        titles: Titles = {}
        steps: Steps = {}
        set_values: list[dict[str, Any]] = []
        sport_msg: tuple[str | None, str | None] = (None, None)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                ff = fitparse.FitFile(io.BytesIO(data), check_crc=True)
                for msg in ff.get_messages():
                    if any("terminated unexpectedly" in str(w.message) for w in caught):
                        # python-fitparse hands out a message cut off by the end of the file, its
                        # missing bytes read as nothing: that message is not data. Stop here.
                        error = "file truncated inside a message"
                        break
                    caught.clear()
                    saw = True
                    name = msg.name
                    if name == "record":
                        record_into(out.records, out.n_records, msg.get_values())
                    elif name == "set":
                        set_values.append(msg.get_values())
                    elif name == "lap":
                        out.laps.append(lap_row(len(out.laps), msg.get_values()))
                    elif name == "session":
                        session_values.append(msg.get_values())
                    elif name == "file_id" and out.file["file_type"] is None:
                        out.file = file_row(msg.get_values())
                    elif name == "activity" and out.utc_offset_s is None:
                        out.utc_offset_s = utc_offset(msg.get_values())
                    elif name == "exercise_title":
                        add_title(titles, msg.get_values())
                    elif name == "workout_step":
                        add_step(steps, msg.get_values())
                    elif name == "sport" and sport_msg == (None, None):
                        sport_msg = sport_of(msg.get_values())
                    elif name == "weight_scale":
                        out.weights.append(weight_row(len(out.weights), msg.get_values()))
        except fitparse.FitParseError as exc:
            error = error or _describe(exc)
        except Exception as exc:  # a decoder bug on odd input must not stop the import
            error = f"decoder error: {type(exc).__name__}: {exc}"
        out.sessions = [session_row(i, v, out.utc_offset_s) for i, v in enumerate(session_values)]
        out.sets = [set_row(i, v, steps, titles) for i, v in enumerate(set_values)]
        return classify(out, saw_messages=saw, error=error, sport_msg=sport_msg)


def _describe(exc: Exception) -> str:
    kind = type(exc).__name__
    text = str(exc)
    if kind == "FitCRCError":
        return f"file CRC mismatch ({text})"
    if kind == "FitEOFError":
        return f"file truncated ({text})"
    if kind == "FitHeaderError":
        return f"corrupt FIT header ({text})"
    return f"invalid FIT data ({text})"
