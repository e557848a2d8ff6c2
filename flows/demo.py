"""`runlift demo`: a few weeks of training as real FIT files, imported into a fresh warehouse.

Everything is written under one folder (``./demo`` by default): the settings file, a FIT inbox,
a Garmin-style export archive (zip of zips) and the warehouse. The files are generated with
Garmin's official encoder, deterministically for a given end date, so running the demo twice on
the same day gives the same warehouse.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from flows import units as fmt
from flows.settings import load_settings

DEMO_ATHLETE = "demo"
DEMO_TZ = "America/Denver"

SETTINGS = f'''\
# Settings for `runlift demo` (see `runlift init` for every setting).
units = "metric"

[warehouse]
path = "runlift.duckdb"

[athletes.{DEMO_ATHLETE}]
timezone = "{DEMO_TZ}"
body_mass_kg = 68.0
sex = "female"
max_hr_bpm = 188
resting_hr_bpm = 48
fit_inbox = ["inbox"]
'''

QUERIES = [
    ("Runs by week",
     "SELECT date_trunc('week', start_time_local) AS week, count(*) AS runs, "
     "round(sum(total_distance_m) / 1000, 1) AS km FROM raw.fit_sessions WHERE sport = 'running' "
     "GROUP BY 1 ORDER BY 1"),
    ("Strength volume by exercise",
     "SELECT category, count(*) AS sets, sum(repetitions) AS reps, "
     "round(sum(repetitions * weight_kg)) AS volume_kg FROM raw.fit_sets WHERE set_type = 'active' "
     "GROUP BY 1 ORDER BY volume_kg DESC"),
    ("Every imported file",
     "SELECT status, file_type, count(*) AS files FROM raw.fit_files GROUP BY ALL ORDER BY ALL"),
]


def write_inbox(folder: Path, end_date: dt.date, weeks: int) -> tuple[Path, int]:
    """Write the demo FIT files: most into ``inbox/``, the first week as a Garmin export zip."""
    from connectors.fit.synth import demo_fit_files

    files = demo_fit_files(end_date, tz=DEMO_TZ, weeks=weeks)
    inbox = folder / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    for old in inbox.iterdir():
        if old.is_file():
            old.unlink()
    first_week = [f for f in files if f[0] < (end_date - dt.timedelta(weeks=weeks - 1)).isoformat()]
    rest = files[len(first_week):]
    for name, data in rest:
        (inbox / name).write_bytes(data)
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in first_week:
            z.writestr(name, data)
    with zipfile.ZipFile(inbox / "garmin-export.zip", "w", zipfile.ZIP_STORED) as z:
        z.writestr("DI_CONNECT/DI-Connect-Fitness/profile.json", b"{}")
        z.writestr("DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip", inner.getvalue())
    return inbox, len(files)


def run_demo(folder: Path, *, weeks: int = 4, use_prefect: bool = True,
             echo: Callable[[str], None] = print, end_date: dt.date | None = None) -> Path:
    """Run the demo end to end; returns the warehouse path."""
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "runlift.toml"
    config.write_text(SETTINGS, encoding="utf-8")
    end = end_date or dt.datetime.now(ZoneInfo(DEMO_TZ)).date()
    inbox, n = write_inbox(folder, end, weeks)
    settings = load_settings(config, athlete=DEMO_ATHLETE, env={})
    for stale in folder.glob("runlift.duckdb*"):  # a fresh warehouse each time
        if stale.is_dir():
            import shutil

            shutil.rmtree(stale)
        else:
            stale.unlink()
    echo(f"wrote {n} FIT files ({weeks} weeks to {end}) into {inbox}")
    paths = [str(p) for p in settings.athlete.fit_inbox]
    if use_prefect:
        from flows.import_fit import import_fit

        summary = import_fit(str(settings.db_path), settings.athlete_id, paths)
    else:
        from flows.fit_pipeline import import_paths

        summary = import_paths(settings.db_path, settings.athlete_id, paths)
    for line in summary.lines():
        echo(line)
    _print_weeks(settings.db_path, settings.units, echo)
    echo(f"\nwarehouse: {settings.db_path}")
    echo("try:")
    for title, sql in QUERIES:
        echo(f"  # {title}\n  runlift sql --config {config} \"{sql}\"")
    return settings.db_path


def _print_weeks(db: Path, units: str, echo: Callable[[str], None]) -> None:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute("""
            WITH runs AS (
                SELECT date_trunc('week', start_time_local)::DATE AS week, sum(total_distance_m) AS m, count(*) AS n
                FROM raw.fit_sessions WHERE sport = 'running' GROUP BY 1),
            lifts AS (
                SELECT date_trunc('week', s.start_time_local)::DATE AS week,
                       count(DISTINCT s.file_sha256) AS sessions,
                       sum(t.repetitions * t.weight_kg) AS volume_kg
                FROM raw.fit_sessions s JOIN raw.fit_sets t USING (athlete_id, file_sha256)
                WHERE s.sub_sport = 'strength_training' AND t.set_type = 'active' GROUP BY 1)
            SELECT week, coalesce(runs.n, 0), runs.m, coalesce(lifts.sessions, 0), lifts.volume_kg
            FROM runs FULL JOIN lifts USING (week) ORDER BY week""").fetchall()
    finally:
        con.close()
    echo("\nweek of      runs  distance    gym  volume")
    for week, n, m, sessions, vol in rows:
        echo(f"{week}  {n:>4}  {fmt.distance(m or 0, units):>9}  {sessions:>4}  {fmt.mass(vol or 0, units):>8}")
