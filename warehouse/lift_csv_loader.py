"""Saving the sets of lifting apps' CSV exports (raw.lift_csv_sets), by column name.

The key is what the export says (athlete, app, workout start, exercise, which block of it, set
position), so the same export imported again, or a later export containing it, adds nothing; a set
whose values changed in the app (a corrected weight) is updated. All in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import duckdb

from runlift.warehouse.db import utcnow

KEY = ("started_local", "exercise_title", "exercise_occurrence", "set_order")
VALUES = ("workout_title", "ended_local", "duration_s", "exercise_position", "set_type", "weight_kg", "reps",
          "distance_m", "set_duration_s", "rpe", "superset_id", "exercise_notes", "workout_notes")


def save_sets(con: duckdb.DuckDBPyConnection, athlete_id: str, app: str, rows: Iterable[dict[str, Any]],
              source_file: str) -> tuple[int, int]:
    """Insert new sets and update changed ones; returns (new, changed)."""
    now = utcnow()
    new = changed = 0
    where = " AND ".join(f"{k} = ?" for k in KEY)
    con.execute("BEGIN TRANSACTION")
    try:
        for r in rows:
            key = [r[k] for k in KEY]
            known = con.execute(f"SELECT {', '.join(VALUES)} FROM raw.lift_csv_sets WHERE athlete_id = ? AND app = ? "
                                f"AND {where}", [athlete_id, app, *key]).fetchone()
            values = [r.get(c) for c in VALUES]
            if known is None:
                con.execute(f"INSERT INTO raw.lift_csv_sets (athlete_id, app, {', '.join(KEY)}, {', '.join(VALUES)}, "
                            f"source_file, imported_at) VALUES ({', '.join('?' * (4 + len(KEY) + len(VALUES)))})",
                            [athlete_id, app, *key, *values, source_file, now])
                new += 1
            elif not _same(list(known), values):
                con.execute(f"UPDATE raw.lift_csv_sets SET {', '.join(f'{c} = ?' for c in VALUES)}, imported_at = ? "
                            f"WHERE athlete_id = ? AND app = ? AND {where}", [*values, now, athlete_id, app, *key])
                changed += 1
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return new, changed


def _same(stored: list[Any], given: list[Any]) -> bool:
    for a, b in zip(stored, given, strict=True):
        if isinstance(a, float) and isinstance(b, (int, float)):
            if abs(a - b) > 1e-9:
                return False
        elif a != b:
            return False
    return True
