"""Helpers shared by tests: comparing whole warehouses, running the CLI in a subprocess."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import duckdb

RAW_TABLES = ("fit_files", "fit_sessions", "fit_laps", "fit_sets", "fit_records")
VOLATILE = {"imported_at", "decoder"}


def snapshot(db_path: Path, ignore: set[str] = VOLATILE) -> dict[str, tuple[int, str]]:
    """Row count and a content hash of every raw table, load timestamps aside."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        out = {}
        for table in RAW_TABLES:
            cols = [r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema='raw' "
                "AND table_name=? ORDER BY ordinal_position", [table]).fetchall() if r[0] not in ignore]
            col_sql = ", ".join(f'"{c}"' for c in cols)
            rows = con.execute(f"SELECT {col_sql} FROM raw.{table} ORDER BY ALL").fetchall()
            digest = hashlib.sha256(repr(rows).encode()).hexdigest()
            out[table] = (len(rows), digest)
        return out
    finally:
        con.close()


def runlift(*args: str, env: dict[str, str] | None = None, check: bool = True,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "flows.cli", *args], capture_output=True, text=True,
                          env=full_env, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"runlift {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc
