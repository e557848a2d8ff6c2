"""What `runlift sql` prints: DuckDB's whole error with a hint, rounded tables, CSV, JSON, Markdown."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import json
import math
import re
import uuid
from typing import Any, TextIO

import duckdb

FLOAT_TYPES = ("DOUBLE", "FLOAT", "REAL")
# what a reader sees with 4 decimals (46.941199999999995 -> 46.9412); smaller values keep 3
# significant digits (0.000123456 -> 0.000123) instead of rounding to 0
ROUND_DECIMALS = 4


def explain_error(exc: duckdb.Error, query: str, which: str) -> str:
    """DuckDB's whole message (its "Did you mean", candidate bindings, the caret line), and a hint
    for the two mistakes people make most: raw/ops tables on the published file, marts not built."""
    text = str(exc).rstrip()
    first = (text.splitlines() or [type(exc).__name__])[0]
    if isinstance(exc, duckdb.PermissionException) or "read-only mode" in first or "has been locked" in first:
        return f"query failed: runlift sql only reads the warehouse file it opened ({first})"
    hints = []
    missing = isinstance(exc, duckdb.CatalogException) and "does not exist" in first
    if missing and which == "published" and re.search(r"\b(raw|ops)\s*\.", query, re.IGNORECASE):
        hints.append("raw.* and ops.* are in the working warehouse only: add --working")
    elif missing and which == "working" and re.search(r"\b(marts|staging|intermediate)\s*\.", query, re.IGNORECASE):
        hints.append("the models are built by `runlift build` (the import, sync and demo commands run it)")
    return "query failed: " + text + "".join(f"\nhint: {h}" for h in hints)


def rounded(rel: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
    """The relation with its floating-point columns rounded for reading (display only)."""
    if not any(str(t) in FLOAT_TYPES for t in rel.types):
        return rel
    cols = []
    for name, typ in zip(rel.columns, rel.types, strict=True):
        ident = '"' + name.replace('"', '""') + '"'
        if str(typ) in FLOAT_TYPES:
            cols.append(f"CASE WHEN {ident} IS NULL OR NOT isfinite({ident}) OR {ident} = 0 "
                        f"OR abs({ident}) >= 0.001 THEN round({ident}, {ROUND_DECIMALS}) "
                        f"ELSE round({ident}, 2 - floor(log10(abs({ident})))::INTEGER) END AS {ident}")
        else:
            cols.append(ident)
    return rel.project(", ".join(cols))


def _plain(value: Any) -> Any:
    """A JSON-ready value: dates and times in ISO 8601, decimals as numbers, NaN/inf as null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    plain = _plain(value)
    return json.dumps(plain) if isinstance(plain, (dict, list)) else str(plain)


def write(con: duckdb.DuckDBPyConnection, query: str, fmt: str, out: TextIO) -> None:
    """Every row of ``query`` in csv, json (an array of objects) or markdown, streamed in batches."""
    cur = con.execute(query)
    columns = [d[0] for d in cur.description or []]
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        while batch := cur.fetchmany(10_000):
            writer.writerows([_cell(v) for v in row] for row in batch)
    elif fmt == "json":
        out.write("[")
        first = True
        while batch := cur.fetchmany(10_000):
            for row in batch:
                out.write(("\n" if first else ",\n") + json.dumps(dict(zip(columns, map(_plain, row), strict=True))))
                first = False
        out.write("\n]\n" if not first else "]\n")
    elif fmt == "markdown":
        def esc(text: str) -> str:
            return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")

        out.write("| " + " | ".join(esc(c) for c in columns) + " |\n")
        out.write("|" + "|".join("---" for _ in columns) + "|\n")
        while batch := cur.fetchmany(10_000):
            for row in batch:
                out.write("| " + " | ".join(esc(_cell(v)) for v in row) + " |\n")
    else:
        raise ValueError(f"unknown format {fmt!r}")
