"""A decoded FIT file as Arrow tables, one per raw table, typed by the declarations in fields.py.

:func:`to_arrow` gives the tables the warehouse inserts by column name (warehouse/fit_loader.py),
with the facts it records per file. A crafted file can hold any number in any field (a heart rate
as uint32 = 100000, num_laps = 4e9, a float64 infinity): a value its column's type cannot hold
becomes NULL and the file's reason names it (an ``ok`` file becomes ``partial``); it never stops
the import.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from runlift.connectors.fit import fields
from runlift.connectors.fit.contract import DecodedFit

_TYPES: dict[str, pa.DataType] = {
    "int16": pa.int16(), "int32": pa.int32(), "int64": pa.int64(), "float64": pa.float64(), "bool": pa.bool_(),
    "string": pa.string(), "timestamp": pa.timestamp("us"), "list<int32>": pa.list_(pa.int32()),
    "list<string>": pa.list_(pa.string()),
}


def _schema(cols: tuple[fields.Col, ...]) -> pa.Schema:
    return pa.schema([(c.name, _TYPES[c.type]) for c in cols])


#: raw table -> Arrow schema of the columns the decoders give (fields.py)
SCHEMAS: dict[str, pa.Schema] = {table: _schema(fields.COLUMNS[msg]) for table, msg in fields.TABLES.items()}
#: the file_id columns of raw.fit_files
FILE_SCHEMA = _schema(fields.FILE)
F8 = pa.float64()


@dataclass
class ArrowFit:
    """One decoded file as the warehouse takes it: facts for ``raw.fit_files`` and, per child raw
    table (``fit_sessions``, ``fit_laps``, ``fit_sets``, ``fit_records``, ``fit_weights``), an Arrow table of its rows
    (tables without rows left out)."""

    status: str
    error: str | None
    decoder: str
    file: dict[str, Any]  # the file_id columns of raw.fit_files
    utc_offset_s: int | None
    n_sessions: int
    n_laps: int
    n_sets: int
    n_records: int
    active_sets: int
    dq: list[str] = field(default_factory=list)  # data-quality reasons of its sessions and sets
    tables: dict[str, pa.Table] = field(default_factory=dict)


# --- values a column cannot hold --------------------------------------------------------------------

_INT_RANGE = {pa.int16(): 2**15, pa.int32(): 2**31, pa.int64(): 2**63}


def _bad_scalar(v: Any, typ: pa.DataType) -> bool:
    """Would ``v`` not fit a column of ``typ``? (None always fits.)"""
    if v is None or isinstance(v, bool):
        return False
    if typ in _INT_RANGE:
        if isinstance(v, float):
            return not math.isfinite(v) or not -_INT_RANGE[typ] <= v < _INT_RANGE[typ]
        return isinstance(v, int) and not -_INT_RANGE[typ] <= v < _INT_RANGE[typ]
    if typ == F8:
        return isinstance(v, float) and not math.isfinite(v)
    return False


class _Bad:
    """Collects the values set to NULL: column -> (count, first value)."""

    def __init__(self) -> None:
        self.seen: dict[str, tuple[int, Any]] = {}

    def add(self, column: str, count: int, example: Any) -> None:
        n, first = self.seen.get(column, (0, example))
        self.seen[column] = (n + count, first)

    def reason(self) -> str | None:
        if not self.seen:
            return None
        parts = [f"{col} = {_fmt(first)}" + (f" ({n} values)" if n > 1 else "")
                 for col, (n, first) in self.seen.items()]
        return "values out of range for their column, set to NULL: " + ", ".join(parts)


def _fmt(v: Any) -> str:
    if isinstance(v, float) or (isinstance(v, int) and abs(v) >= 10**20):
        return f"{float(v):g}"
    return repr(v)[:40]


def _clean_rows(table: str, rows: list[dict[str, Any]], bad: _Bad) -> list[dict[str, Any]]:
    schema = SCHEMAS[table]
    out = []
    for row in rows:
        fixed = None
        for f in schema:
            v = row.get(f.name)
            if pa.types.is_list(f.type) and isinstance(v, list):
                if any(_bad_scalar(x, f.type.value_type) for x in v):
                    for x in v:
                        if _bad_scalar(x, f.type.value_type):
                            bad.add(f"{table}.{f.name}", 1, x)
                    fixed = fixed or dict(row)
                    fixed[f.name] = [None if _bad_scalar(x, f.type.value_type) else x for x in v]
            elif _bad_scalar(v, f.type):
                bad.add(f"{table}.{f.name}", 1, v)
                fixed = fixed or dict(row)
                fixed[f.name] = None
        out.append(fixed or row)
    return out


def _clean_array(name: str, values: Any, typ: pa.DataType, bad: _Bad) -> Any:
    """A record column with the values its column cannot hold masked (ints) or NaN (floats): numpy
    arrays (the columnar decoder) or lists (the reference decoder, None = NULL)."""
    if isinstance(values, list):
        unfit = [x for x in values if _bad_scalar(x, typ)]
        if not unfit:
            return values
        bad.add(name, len(unfit), unfit[0])
        return [None if _bad_scalar(x, typ) else x for x in values]
    if not isinstance(values, np.ndarray) or values.dtype.kind not in "iuf":
        return values
    data = np.ma.getdata(values)
    mask = np.ma.getmaskarray(values) if isinstance(values, np.ma.MaskedArray) else np.zeros(len(data), bool)
    if data.dtype.kind == "f":
        mask = mask | np.isnan(data)
        wrong = ~mask & ~np.isfinite(data)
        if typ in _INT_RANGE:
            with np.errstate(invalid="ignore"):
                wrong |= ~mask & ~((data >= -_INT_RANGE[typ]) & (data < _INT_RANGE[typ]))
    elif typ in _INT_RANGE:
        wrong = ~mask & ((data < -_INT_RANGE[typ]) | (data >= _INT_RANGE[typ]))
    else:
        return values
    if not wrong.any():
        if data.dtype.kind == "f" and typ in _INT_RANGE:  # whole numbers in a float array (see columnar)
            return np.ma.MaskedArray(np.where(mask, 0, data).astype(np.int64), mask=mask)
        return values
    idx = np.flatnonzero(wrong)
    example = data[idx[0]].item()
    bad.add(name, len(idx), example)
    if typ in _INT_RANGE:
        mask = mask | wrong
        return np.ma.MaskedArray(np.where(mask, 0, data).astype(np.int64), mask=mask)
    out = data.copy()
    out[wrong] = np.nan
    return out


def _column(values: Any, typ: pa.DataType) -> pa.Array:
    # numpy columns from the columnar decoder carry NULL as NaN / NaT: from_pandas turns them into nulls
    if isinstance(values, np.ndarray):
        return pa.array(values, type=typ, from_pandas=True)
    return pa.array(values, type=typ)


def table(name: str, rows: list[dict[str, Any]] | dict[str, Any], bad: _Bad | None = None) -> pa.Table:
    """The rows (dicts) or columns (a dict of lists / numpy arrays) of raw table ``name`` as Arrow."""
    schema = SCHEMAS[name]
    bad = bad or _Bad()
    if isinstance(rows, dict):
        cols = {n: _column(_clean_array(f"{name}.{n}", rows[n], schema.field(n).type, bad)
                           if name == "fit_records" else rows[n], schema.field(n).type) for n in schema.names}
        return pa.table(cols, schema=schema)
    return pa.Table.from_pylist(_clean_rows(name, rows, bad), schema=schema)


def to_arrow(decoded: DecodedFit) -> ArrowFit:
    """A decoded file's rows as Arrow tables, with the facts recorded per file.

    A value its column cannot hold (out of the integer type's range, an infinity) becomes NULL and
    is named in the file's reason; an ``ok`` file with such values becomes ``partial``.
    """
    tables: dict[str, pa.Table] = {}
    bad = _Bad()
    for name, rows in (("fit_sessions", decoded.sessions), ("fit_laps", decoded.laps),
                       ("fit_sets", decoded.sets), ("fit_records", decoded.records),
                       ("fit_weights", decoded.weights)):
        tbl = table(name, rows, bad)
        if tbl.num_rows:
            tables[name] = tbl
    file = dict(decoded.file)
    for key, value in file.items():
        if _bad_scalar(value, FILE_SCHEMA.field(key).type):
            bad.add(f"fit_files.{key}", 1, value)
            file[key] = None
    status, error = decoded.status, decoded.error
    why = bad.reason()
    if why:
        status = "partial" if status == "ok" else status
        error = why if not error else f"{error}; {why}"
    dq = [f"session {r['session_index']}: {r['dq_reason']}" for r in decoded.sessions if r.get("dq_reason")]
    dq += [f"set {r['set_index']}: {r['dq_reason']}" for r in decoded.sets if r.get("dq_reason")]
    dq += [f"weight {r['measurement_index']}: {r['dq_reason']}" for r in decoded.weights if r.get("dq_reason")]
    return ArrowFit(
        status=status, error=error, decoder=decoded.decoder, file=file, utc_offset_s=decoded.utc_offset_s,
        n_sessions=len(decoded.sessions), n_laps=len(decoded.laps), n_sets=len(decoded.sets),
        n_records=decoded.n_records, active_sets=sum(1 for s in decoded.sets if s["set_type"] == "active"),
        dq=dq, tables=tables)
