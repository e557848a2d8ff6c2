"""The sport-type mapping seed: every Strava ``sport_type`` and FIT sport / sub-sport to a sport group.

``warehouse/seeds/sport_types.csv`` (shipped with the package) has one row per Strava sport type
(``source = strava``, ``sub_sport`` empty) and per FIT sport (``source = fit``; ``sub_sport``
empty means any sub-sport without a row of its own), with:

- ``sport_group``: ``run``, ``strength`` or ``other`` — what the marts add up;
- ``match_group``: which FIT sessions and Strava activities may be the same workout
  (``gym`` joins strength-like Strava types such as ``Workout`` to a FIT strength session);
- ``includes_running``: the workout's distance counts as running (``HyroxRace``).

Every build loads it into ``staging.sport_types``; the staging views read it, so the SQL holds no
list of sport types. Types missing from it are counted by :func:`unmapped_sport_types` (shown by
``runlift status``) and treated as ``other``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources

import duckdb

SPORT_GROUPS = ("run", "strength", "other")
COLUMNS = ("source", "sport_type", "sub_sport", "sport_group", "match_group", "includes_running", "note")


@dataclass(frozen=True)
class SportType:
    source: str           # strava or fit
    sport_type: str       # Strava sport_type or FIT sport
    sub_sport: str | None  # FIT sub_sport; None: any
    sport_group: str
    match_group: str
    includes_running: bool
    note: str


def seed_text() -> str:
    return resources.files("runlift.warehouse").joinpath("seeds", "sport_types.csv").read_text(encoding="utf-8")


def load_seed() -> list[SportType]:
    """The seed's rows; raises ValueError naming the line of a malformed one."""
    rows = list(csv.reader(seed_text().splitlines()))
    if not rows or tuple(rows[0]) != COLUMNS:
        raise ValueError(f"warehouse/seeds/sport_types.csv: the header must be {','.join(COLUMNS)}")
    out, seen = [], set()
    for n, row in enumerate(rows[1:], start=2):
        if len(row) != len(COLUMNS):
            raise ValueError(f"warehouse/seeds/sport_types.csv line {n}: {len(row)} fields, expected {len(COLUMNS)}")
        source, sport, sub, group, match, running, note = row
        if source not in ("strava", "fit") or not sport or not match:
            raise ValueError(f"warehouse/seeds/sport_types.csv line {n}: source must be strava or fit, "
                             "sport_type and match_group set")
        if group not in SPORT_GROUPS or running not in ("true", "false"):
            raise ValueError(f"warehouse/seeds/sport_types.csv line {n}: sport_group must be one of "
                             f"{', '.join(SPORT_GROUPS)} and includes_running true or false")
        key = (source, sport, sub)
        if key in seen:
            raise ValueError(f"warehouse/seeds/sport_types.csv line {n}: {source} {sport} {sub} is listed twice")
        seen.add(key)
        out.append(SportType(source, sport, sub or None, group, match, running == "true", note))
    return out


def running_strava_types() -> tuple[str, ...]:
    """Strava sport types whose distance is running (Run, TrailRun, VirtualRun, HyroxRace, ...)."""
    return tuple(t.sport_type for t in load_seed() if t.source == "strava" and t.includes_running)


def load_into(con: duckdb.DuckDBPyConnection) -> int:
    """(Re)create ``staging.sport_types`` from the seed (inside the caller's transaction); returns its rows."""
    rows = load_seed()
    con.execute("""CREATE OR REPLACE TABLE staging.sport_types (
        source VARCHAR NOT NULL, sport_type VARCHAR NOT NULL, sub_sport VARCHAR, sport_group VARCHAR NOT NULL,
        match_group VARCHAR NOT NULL, includes_running BOOLEAN NOT NULL, note VARCHAR)""")
    # one statement (executemany would be one round trip per row)
    values = ", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * len(rows))
    con.execute(f"INSERT INTO staging.sport_types VALUES {values}",
                [v for t in rows for v in (t.source, t.sport_type, t.sub_sport, t.sport_group, t.match_group,
                                           t.includes_running, t.note or None)])
    for sql in (
        "COMMENT ON TABLE staging.sport_types IS 'Seed warehouse/seeds/sport_types.csv: every Strava sport_type and "
        "FIT sport / sub_sport to a sport group (loaded by every build).'",
        "COMMENT ON COLUMN staging.sport_types.source IS 'strava or fit.'",
        "COMMENT ON COLUMN staging.sport_types.sport_type IS 'Strava sport_type, or FIT sport.'",
        "COMMENT ON COLUMN staging.sport_types.sub_sport IS "
        "'FIT sub_sport; NULL: any sub_sport without a row of its own.'",
        "COMMENT ON COLUMN staging.sport_types.sport_group IS 'run, strength or other: what the marts add up.'",
        "COMMENT ON COLUMN staging.sport_types.match_group IS 'FIT sessions and Strava activities of the same match "
        "group may be one workout (gym: strength-like types).'",
        "COMMENT ON COLUMN staging.sport_types.includes_running IS 'The workout''s distance counts as running.'",
        "COMMENT ON COLUMN staging.sport_types.note IS 'Why, where the mapping is not obvious.'",
    ):
        con.execute(sql)
    return len(rows)


def unmapped_sport_types(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str, int]]:
    """(athlete_id, source, type, workouts) for sport types the seed does not map (counted as other).

    Reads ``staging.stg_strava__activities`` and ``staging.stg_fit__sessions`` (views in the working
    warehouse, tables in the published file); empty before the first build.
    """
    have = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'staging' "
        "AND table_name IN ('stg_strava__activities', 'stg_fit__sessions')").fetchall()}
    if len(have) < 2:
        return []
    return [tuple(r) for r in con.execute("""
        SELECT athlete_id, 'strava' AS source, sport_type AS type, count(*) AS n
        FROM staging.stg_strava__activities WHERE NOT is_sport_type_mapped GROUP BY ALL
        UNION ALL
        SELECT athlete_id, 'fit', coalesce(sport, '?') || coalesce('/' || sub_sport, ''), count(*)
        FROM staging.stg_fit__sessions WHERE NOT is_sport_type_mapped GROUP BY ALL
        ORDER BY 1, 2, 3""").fetchall()]
