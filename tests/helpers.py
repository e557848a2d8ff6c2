"""Helpers shared by tests: querying and comparing warehouses, running the CLI and the DuckDB CLI."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

RAW_TABLES = ("fit_files", "fit_sessions", "fit_laps", "fit_sets", "fit_records")
VOLATILE = {"imported_at", "decoder"}


def q(db: Path, sql: str, params=None) -> list[tuple]:
    """One query on a read-only connection that is closed again at once."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


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
    proc = subprocess.run([sys.executable, "-m", "runlift.flows.cli", *args], capture_output=True, text=True,
                          env=full_env, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"runlift {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def duckdb_cli() -> str:
    exe = Path(sys.executable).with_name("duckdb")
    found = str(exe) if exe.exists() else shutil.which("duckdb")
    if not found:
        pytest.fail("the DuckDB CLI (PyPI duckdb-cli, a dev dependency) is not installed beside Python")
    return found

