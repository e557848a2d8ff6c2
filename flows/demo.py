"""`runlift demo`: the whole pipeline on a fresh machine, with no account and no network.

Everything is written under one folder (``./demo`` by default): a local Strava API emulator
(127.0.0.1, stopped at the end) seeded with a synthetic athlete's 16-week half-marathon block that
ends today (dates relative to today, everything else deterministic); that athlete's gym sessions and
every third run as real FIT files (some runs exist in both places, as in real life): the first
weeks as a Garmin "Export your data" zip of zips in the FIT inbox, the later ones on a local Garmin
Connect emulator (with weekly weigh-ins), signed in as `runlift garmin auth` would; the same gym
sessions logged in the Hevy app too (a local Hevy API emulator: the sets, RPE and set types of each
session the watch recorded, same start and end), synced with an API key given through the
environment as a person would; then the ``nightly_sync`` Prefect flow: Strava sync + Garmin Connect
sync + Hevy sync + FIT import → build → publish → dashboard. Running it twice gives the same
warehouse (load timestamps aside).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import duckdb

from runlift.flows import units as fmt

if TYPE_CHECKING:
    from runlift.warehouse.queries import BlockComparison

DEMO_ATHLETE = "demo"
DEMO_TZ = "America/Denver"
DEMO_CLIENT_ID = "12345"
DEMO_CLIENT_SECRET = "emulator-secret"  # the local emulator's, not a real secret

QUERIES = [
    ("Weeks by how much of the session load was lifting",
     "SELECT week_start, round(run_session_load_au) AS run_load, round(strength_session_load_au) AS lift_load, "
     "round(100 * strength_share_of_session_load) AS lift_pct "
     "FROM marts.weekly_training_balance ORDER BY lift_pct DESC NULLS LAST LIMIT 5"),
    ("My longest run each month",
     "SELECT date_trunc('month', local_date) AS month, round(max(distance_km), 1) AS longest_km "
     "FROM marts.fct_activities WHERE sport_group = 'run' GROUP BY 1 ORDER BY 1"),
    ("Knee-dominant vs hip-dominant hard sets this block",
     "SELECT lower_pattern, count(*) AS hard_sets FROM marts.fct_strength_sets "
     "WHERE is_hard_set AND lower_pattern IS NOT NULL GROUP BY 1"),
]


def write_inbox(inbox: Path, files: list[tuple[str, bytes]], export_weeks_before: dt.date) -> list[tuple[str, bytes]]:
    """The files before ``export_weeks_before`` as a Garmin export zip of zips in ``inbox``; the
    later ones are returned (the demo's Garmin Connect account serves them)."""
    if inbox.exists():
        shutil.rmtree(inbox)
    inbox.mkdir(parents=True)
    early = [f for f in files if f[0] < export_weeks_before.isoformat()]
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in early:
            z.writestr(name, data)
    with zipfile.ZipFile(inbox / "garmin-export.zip", "w", zipfile.ZIP_STORED) as z:
        z.writestr("DI_CONNECT/DI-Connect-Fitness/profile.json", b"{}")
        z.writestr("DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip", inner.getvalue())
    return files[len(early):]


# The demo's season is a few months long: its shoes cannot reach the usual 500-800 km, so the demo's
# settings use a short replacement range, and the daily pair passes it (a shoe_past_range flag).
DEMO_GEAR = {"shoe_replacement_km": [200, 250]}


def run_demo(folder: Path, *, weeks: int = 16, units: str = "metric", echo: Callable[[str], None] = print,
             end_date: dt.date | None = None) -> Path:
    """Run the demo end to end; returns the working warehouse path."""
    from runlift.connectors.garmin.tokens import GarminTokens, GarminTokenStore
    from runlift.flows.nightly import nightly_sync, run_flow_for_cli
    from runlift.flows.settings import load_settings
    from runlift.standins.config import write_settings
    from runlift.standins.fit_writer import season_fit_files
    from runlift.standins.garmin_emulator import GarminEmulator, synthetic_weigh_ins
    from runlift.standins.hevy_emulator import DEFAULT_KEY as HEVY_KEY
    from runlift.standins.hevy_emulator import HevyEmulator, hevy_workouts
    from runlift.standins.season import synthetic_season
    from runlift.standins.strava_emulator import StravaEmulator

    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    for stale in [*folder.glob("runlift*.duckdb*"), *folder.glob("runlift*.html"), folder / "tokens"]:
        if stale.is_dir():
            shutil.rmtree(stale)
        elif stale.exists():
            stale.unlink()
    end = end_date or dt.datetime.now(ZoneInfo(DEMO_TZ)).date()
    season = synthetic_season(end, weeks=weeks, tz=DEMO_TZ)
    files = season_fit_files(season)
    connect_files = write_inbox(folder / "inbox", files, end - dt.timedelta(weeks=max(weeks - 4, 1)))
    workouts = hevy_workouts(season)  # the gym sessions, logged in Hevy as well as on the watch
    echo(f"generated a {weeks}-week season ending {end}: {len(season)} Strava activities, "
         f"{len(files) - len(connect_files)} FIT files in a Garmin export archive in {folder / 'inbox'}, "
         f"{len(connect_files)} on Garmin Connect, {len(workouts)} gym sessions logged in Hevy too")

    emulator = StravaEmulator([dict(a) for a in season], client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET)
    base_url = emulator.start()
    garmin = GarminEmulator(connect_files, synthetic_weigh_ins(end - dt.timedelta(weeks=weeks), end, kg=68.0))
    garmin_url = garmin.start()
    hevy = HevyEmulator(workouts)
    hevy_url = hevy.start()
    garmin_tokens = GarminTokenStore(folder / "tokens" / f"garmin-{DEMO_ATHLETE}.json")
    garmin_tokens.save(GarminTokens.from_json(garmin.issue_tokens(), "the emulator's sign-in"))
    saved_env = {k: os.environ.get(k) for k in ("STRAVA_CLIENT_SECRET", "STRAVA_REFRESH_TOKEN", "STRAVA_CLIENT_ID",
                                                "RUNLIFT_STRAVA_BASE_URL", "RUNLIFT_GARMIN_BASE_URL",
                                                "HEVY_API_KEY", "RUNLIFT_HEVY_BASE_URL")}
    try:
        config = write_settings(
            folder, comment="Settings written by `runlift demo` (see `runlift init` for every setting).\n"
                            "[strava] base_url: the demo's local Strava API emulator (stopped when the demo ends).\n"
                            "[gear] shoe_replacement_km: short, for the demo's few months (default 500-800 km).\n"
                            "[garmin] base_url: the demo's local Garmin Connect emulator (stopped at the end).\n"
                            "[hevy] base_url: the demo's local Hevy API emulator (its key: HEVY_API_KEY, not here).",
            top={"units": units}, warehouse="runlift.duckdb", athlete=DEMO_ATHLETE, timezone=DEMO_TZ,
            athlete_settings={"body_mass_kg": 68.0, "sex": "female", "max_hr_bpm": 188, "resting_hr_bpm": 48,
                              "fit_inbox": ["inbox"], "garmin_token_file": f"tokens/garmin-{DEMO_ATHLETE}.json"},
            token_file=f"tokens/strava-{DEMO_ATHLETE}.json", strava={"client_id": DEMO_CLIENT_ID, "base_url": base_url},
            tables={"gear": DEMO_GEAR, "garmin": {"base_url": garmin_url, "pace_s": 0},
                    "hevy": {"base_url": hevy_url, "min_interval_s": 0.0}})
        os.environ.update(STRAVA_CLIENT_SECRET=DEMO_CLIENT_SECRET, STRAVA_REFRESH_TOKEN=emulator.issue_refresh_token(),
                          STRAVA_CLIENT_ID=DEMO_CLIENT_ID, RUNLIFT_STRAVA_BASE_URL=base_url,
                          RUNLIFT_GARMIN_BASE_URL=garmin_url, HEVY_API_KEY=HEVY_KEY, RUNLIFT_HEVY_BASE_URL=hevy_url)
        echo(f"local Strava API emulator on {base_url}, Garmin Connect emulator on {garmin_url}, "
             f"Hevy API emulator on {hevy_url}; running the nightly_sync Prefect flow")
        # the demo's own warehouse, athlete and units, whatever RUNLIFT_* the caller's environment holds
        own = load_settings(config, athlete=DEMO_ATHLETE, env={})
        report, failure = run_flow_for_cli(nightly_sync, config=str(config), as_of=end, db=str(own.db_path),
                                           athlete=DEMO_ATHLETE, units=units)
    finally:
        emulator.stop()
        garmin.stop()
        hevy.stop()
        garmin_tokens.delete()  # the emulator's tokens: worthless once it stopped, and no Garmin's
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    if failure:
        raise RuntimeError(f"the demo's nightly_sync failed: {failure}")
    # the emulators are gone: leave settings that a later `runlift sync --config ...` can use (its FIT
    # inbox, no Strava, no Garmin Connect), not the emulators' dead addresses
    write_settings(
        folder, comment="Settings written by `runlift demo` (see `runlift init` for every setting).\n"
                        "During the demo Strava and Garmin Connect were the demo's local emulators, which stopped\n"
                        "when the demo ended; there is no [strava] table and no Garmin token, so `runlift sync\n"
                        "--config` this file imports the FIT inbox only. Hevy too was a local emulator: no [hevy].\n"
                        "To sync your own Strava, add [strava] with your application (runlift init shows it);\n"
                        "for your Garmin Connect account, run `runlift garmin auth --config` this file.\n"
                        "[gear] shoe_replacement_km: short, for the demo's few months (default 500-800 km).",
        top={"units": units}, warehouse="runlift.duckdb", athlete=DEMO_ATHLETE, timezone=DEMO_TZ,
        athlete_settings={"body_mass_kg": 68.0, "sex": "female", "max_hr_bpm": 188, "resting_hr_bpm": 48,
                          "fit_inbox": ["inbox"]},
        token_file=f"tokens/strava-{DEMO_ATHLETE}.json", tables={"gear": DEMO_GEAR})
    settings = load_settings(config, athlete=DEMO_ATHLETE, env={})
    hevy_result = report.hevy.get(DEMO_ATHLETE) if report is not None else None
    if hevy_result is not None:
        _print_hevy(settings.db_path, hevy_result.new, echo)
    _print_result(settings.published_path, settings.units, echo)
    echo(f"\nworking warehouse: {settings.db_path}")
    echo(f"published for dashboards: {settings.published_path}")
    if report is not None and report.dashboard:
        echo(f"dashboard: {report.dashboard}  (open it in a browser, or `runlift dashboard --serve --config {config}`)")
    echo("\nthree queries to try:")
    for title, sql in QUERIES:
        echo(f"  # {title}\n  runlift sql --config {config} \"{sql}\"")
    return settings.db_path


def _print_hevy(db: Path, synced: int, echo: Callable[[str], None]) -> None:
    """What came from Hevy: its workouts beside the watch's gym sessions, and how its exercise names map."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        sets, rpe = con.execute("SELECT count(*), count(rpe) FROM staging.stg_hevy__sets "
                                "WHERE athlete_id = ? AND NOT is_deleted", [DEMO_ATHLETE]).fetchone() or (0, 0)
        # the watch's strength session of each Hevy workout: started within two minutes of it
        watch = con.execute("""
            SELECT count(DISTINCT h.workout_id) FROM staging.stg_hevy__workouts h
            JOIN staging.stg_fit__sessions f ON f.athlete_id = h.athlete_id AND f.sport_group = 'strength'
             AND abs(datediff('second', f.started_at, h.started_at)) <= 120
            WHERE h.athlete_id = ? AND NOT h.is_deleted""", [DEMO_ATHLETE]).fetchone() or (0,)
        by = dict(con.execute("SELECT mapped_by, count(*) FROM staging.app_exercise_map m WHERE source = 'hevy' AND "
                              "app_exercise_key IN (SELECT lower(trim(exercise_title)) FROM raw.hevy_sets) GROUP BY 1"
                              ).fetchall())
    finally:
        con.close()
    names = ", ".join(f"{n} {how}" for how, n in sorted(by.items()))
    echo(f"\nHevy: {synced} gym sessions synced from the Hevy app ({sets} sets, {rpe} with an RPE), the same "
         f"sessions the watch recorded ({watch[0]} of them in its FIT files too); exercise names mapped to "
         f"muscle groups: {names or 'none'} (`runlift status --unmapped` lists what is not)")


def _print_result(published: Path, units: str, echo: Callable[[str], None]) -> None:
    from runlift.warehouse import queries

    con = duckdb.connect(str(published), read_only=True)
    try:
        weeks = queries.latest_weeks(con, [DEMO_ATHLETE])
        flags = queries.training_flags(con, athlete_ids=[DEMO_ATHLETE], limit=6)
        shoes = queries.shoes(con, [DEMO_ATHLETE])
        blocks = queries.block_comparisons(con, [DEMO_ATHLETE])
    finally:
        con.close()
    for w in weeks:
        share, pa = w.strength_share_of_session_load, w.posterior_anterior_ratio_4w
        echo(f"\nthis week (from {w.week_start}): {w.run_count} runs, {fmt.distance(w.run_distance_m, units)} "
             f"(longest {fmt.distance(w.longest_run_m, units)}); {w.strength_sessions} gym sessions, "
             f"{fmt.mass(w.strength_volume_load_kg, units)} volume load, "
             f"hard sets {w.hard_sets_lower} lower / {w.hard_sets_upper} upper")
        share_txt = f"{share * 100:.0f} %" if share is not None else "-"
        pa_txt = f"{pa:.2f}" if pa is not None else "-"
        echo(f"  strength share of session load {share_txt}; impact load {w.impact_load_kbw:.0f} kBW; "
             f"posterior:anterior (4 weeks) {pa_txt}")
    for c in blocks:
        _print_blocks(c, units, echo)
    echo("latest flags:")
    for f in flags:
        echo(f"  {f.date} {f.severity}: {f.explanation}")
    if not flags:
        echo("  none")
    echo("shoes (the demo's replacement range is short: [gear] shoe_replacement_km in its settings):")
    for sh in shoes:
        state = ("retired" if sh.is_retired else {"past_range": f"past its range since {sh.past_range_date}",
                                                  "in_range": "within its replacement range"}.get(sh.range_status, ""))
        echo(f"  {sh.shoe_name}: {fmt.distance(sh.distance_m, units)} over {sh.runs} runs, "
             f"{sh.first_used_date} to {sh.last_used_date}" + (f"; {state}" if state else ""))
    if not shoes:
        echo("  none")


def _print_blocks(c: BlockComparison, units: str, echo: Callable[[str], None]) -> None:
    """This training block against the previous one (marts.block_summary), in a few lines."""
    cur, prev = c.current, c.previous
    if prev is None:
        echo(f"this training block ({cur.block_name}, {cur.days} days): no block before it")
        prev_of = {"km": "-", "long": "-", "impact": "-"}
    else:
        echo(f"this training block ({cur.block_name}, {cur.days} days) against the previous one "
             f"({prev.block_name}, {prev.days} days):")
        prev_of = {"km": fmt.distance(prev.weekly_run_distance_m, units), "long": str(prev.long_runs),
                   "impact": f"{prev.run_impact_kbw_per_week:.0f}"}
    echo(f"  running per week {prev_of['km']} -> {fmt.distance(cur.weekly_run_distance_m, units)}; "
         f"long runs {prev_of['long']} -> {cur.long_runs}; "
         f"running impact per week {prev_of['impact']} -> {cur.run_impact_kbw_per_week:.0f} kBW")
    sets = ", ".join(f"{fmt.muscle(g)} {'-' if prev is None else f'{prev.hard_sets_per_week[g]:.1f}'} -> {v:.1f}"
                     for g, v in cur.hard_sets_per_week.items())
    echo(f"  hard sets per week: {sets}")
    if cur.weakest_muscle_group is not None:
        echo(f"  weakest muscle group: {fmt.muscle(cur.weakest_muscle_group)}, "
             f"{cur.weakest_hard_sets_per_week or 0:.1f} hard sets a week (usual "
             f"{cur.weakest_usual_low}-{cur.weakest_usual_high})")
