#!/usr/bin/env python3
"""Benchmark: a 2,000-activity Strava backfill under Strava's real rate limits, against the local emulator.

    .venv/bin/python bench/strava_sync.py [--activities 2000] [--out bench/out]

1. Builds a synthetic season of exactly N activities (runlift.standins.season.synthetic_season
   with enough weeks; the few oldest extra ones are dropped).
2. Backfill: a StravaEmulator with Strava's real limits (overall 200 / 15 min and 2,000 / day;
   read 100 / 15 min and 1,000 / day). The emulator and the client share a fake clock. The sync
   runs again and again, each time with a fresh client, the same warehouse file and default
   settings (no detail calls, rate_headroom 5), until it reports ``complete``. After a ``paused``
   run the clock jumps to the start of the next 15-minute window. If the daily budget is spent,
   it jumps to the next UTC day instead. This is what a cron user who re-runs the sync sees,
   without the real waiting.
3. Baseline: the same season in one uninterrupted sync against an emulator with no practical
   limits.
4. Prints the calls made against the minimum, the wasted calls, the runs, windows and days
   used, the wall times (waits excluded, since no time passes), DuckDB checks of the final
   warehouse and the calls ratio of backfill to baseline.

The fake clock starts at 00:00:01 UTC of today's real date. It is anchored to real time because
the sync compares its clock with ``last_full_listing_at``, which the warehouse stores in real
time (``warehouse.db.utcnow``). With a clock far from real time, every run (or none) would start a
weekly full listing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import shutil
import statistics
import time
from pathlib import Path

import duckdb

from runlift.flows.settings import StravaSettings, load_settings
from runlift.flows.strava_sync import SyncResult, make_client, sync_athlete
from runlift.standins.clock import FakeClock
from runlift.standins.config import write_settings
from runlift.standins.season import synthetic_season
from runlift.standins.strava_emulator import StravaEmulator
from runlift.warehouse import db as wdb

ROOT = Path(__file__).resolve().parent.parent
STRAVA_LIMITS = (200, 2000, 100, 1000)  # overall 15 min, overall day, read 15 min, read day
UNLIMITED = (1_000_000,) * 4  # the client ignores rate-limit values above MAX_RATE_VALUE (10 million) as not Strava's
WINDOW_S, DAY_S = 900, 86400
ATHLETE = "me"
MAX_RUNS = 500


def day_start_today() -> float:
    """00:00:00 UTC of today's real date (epoch seconds)."""
    return float(int(time.time() // DAY_S) * DAY_S)


def season_of(n: int, end: dt.date) -> tuple[list[dict], int]:
    """Exactly ``n`` activities, oldest first: the fewest weeks giving at least ``n``, oldest trimmed."""
    rate = 6.1  # activities per week in synthetic_season (2205 in 360 weeks)
    cache: dict[int, list[dict]] = {}

    def season(weeks: int) -> list[dict]:
        if weeks not in cache:
            cache[weeks] = synthetic_season(end, weeks=weeks)
        return cache[weeks]

    weeks = max(1, round(n / rate))
    while len(season(weeks)) < n:
        weeks += max(1, math.ceil((n - len(season(weeks))) / rate))
    while weeks > 1 and len(season(weeks - 1)) >= n:
        weeks -= 1
    acts = season(weeks)
    return acts[len(acts) - n:], weeks


def stream_runs(season: list[dict], sport_types: tuple[str, ...]) -> int:
    return sum(1 for a in season if a.get("sport_type") in sport_types and not a.get("manual"))


def write_config(folder: Path, base_url: str) -> Path:
    return write_settings(folder, athlete=ATHLETE, timezone="America/Denver", warehouse="warehouse.duckdb",
                          strava={"client_id": "12345", "client_secret": "emulator-secret", "base_url": base_url})


def one_run(cfg: Path, clock: FakeClock) -> tuple[SyncResult, float]:
    """One sync as a cron job would do it: open the warehouse, a fresh client, sync, checkpoint, close."""
    t0 = time.perf_counter()
    settings = load_settings(cfg, env={})
    con = wdb.connect(settings.db_path)
    try:
        with make_client(settings, ATHLETE, clock=clock, sleep=lambda s: None) as client:
            result = sync_athlete(con, client, settings.strava, ATHLETE)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return result, time.perf_counter() - t0


def rows(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def content(db: Path) -> tuple:
    """The Strava data without load timestamps, to compare two warehouses."""
    acts = rows(db, """SELECT activity_id, name, sport_type, start_time_utc, distance_m, payload::VARCHAR,
                              deleted_at IS NULL, streams_status FROM raw.strava_activities ORDER BY ALL""")
    streams = rows(db, "SELECT activity_id, stream_type, len(data), list_sum(data) "
                       "FROM raw.strava_streams ORDER BY ALL")
    return acts, streams


def utc(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--activities", type=int, default=2000, help="activities in the season (default 2000)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out", help="work folder (default bench/out)")
    args = ap.parse_args()
    n_wanted = args.activities
    if n_wanted < 100:
        raise SystemExit("--activities must be at least 100")
    work = args.out.resolve() / "strava_sync"
    if work.exists():
        shutil.rmtree(work)
    t_bench = time.perf_counter()

    defaults = StravaSettings()
    headroom = defaults.rate_headroom
    start = day_start_today() + 1
    end_date = dt.datetime.fromtimestamp(start, dt.UTC).date() - dt.timedelta(days=1)

    t0 = time.perf_counter()
    season, weeks = season_of(n_wanted, end_date)
    gen_s = time.perf_counter() - t0
    n = len(season)
    runs = stream_runs(season, defaults.stream_sport_types)
    manual_runs = sum(1 for a in season if a.get("sport_type") in defaults.stream_sport_types and a.get("manual"))
    others = n - runs - manual_runs
    pages_min = math.ceil(n / 200) + (1 if n % 200 == 0 else 0)
    minimum = pages_min + runs
    print(f"season: {n} activities (synthetic_season weeks={weeks}, oldest trimmed, ends {end_date}), "
          f"{runs} runs with streams, {manual_runs} manual runs, {others} other; built in {gen_s:.1f} s")
    print(f"limits: overall {STRAVA_LIMITS[0]}/15 min, {STRAVA_LIMITS[1]}/day; read {STRAVA_LIMITS[2]}/15 min, "
          f"{STRAVA_LIMITS[3]}/day; headroom {headroom}; details off; clock starts {utc(start)} UTC")
    print(f"minimum calls: {pages_min} list pages + {runs} streams = {minimum}")

    # --- the interrupted backfill ------------------------------------------------------------
    clock = FakeClock(start)
    emu = StravaEmulator([dict(a) for a in season], clock=clock, limits=STRAVA_LIMITS)
    emu.start()
    results: list[tuple[float, SyncResult, float]] = []  # (clock at start, result, measured wall s)
    jump_mismatch = 0
    try:
        os.environ["STRAVA_REFRESH_TOKEN"] = emu.issue_refresh_token()  # first run only; then the token file
        cfg = write_config(work / "backfill", emu.base_url)
        print("\nrun  clock (UTC)           status    listing      calls  new  streams  sync s")
        while True:
            at = clock()
            r, wall = one_run(cfg, clock)
            results.append((at, r, wall))
            print(f"{len(results):>3}  {utc(at)}  {r.status:<8}  {r.listing_mode or '-':<11}  {r.api_calls:>5}  "
                  f"{r.new:>4}  {r.streams:>7}  {r.seconds:>6.2f}")
            if r.status == "complete":
                break
            if r.status != "paused":
                raise SystemExit(f"run {len(results)} {r.status}: {r.message}")
            if len(results) >= MAX_RUNS:
                raise SystemExit(f"not complete after {MAX_RUNS} runs")
            u = emu.usage()
            day_spent = (STRAVA_LIMITS[1] - u["daily"] <= headroom or STRAVA_LIMITS[3] - u["read_daily"] <= headroom)
            length = DAY_S if day_spent else WINDOW_S
            target = (int(clock() // length) + 1) * length
            if r.resume_at is None or r.resume_at != dt.datetime.fromtimestamp(target, dt.UTC).replace(tzinfo=None):
                jump_mismatch += 1
            clock.jump_to(target + 1)
        log = emu.request_log
    finally:
        emu.stop()
    db = work / "backfill" / "warehouse.duckdb"

    # --- the uninterrupted baseline ----------------------------------------------------------
    base_clock = FakeClock(start)
    base_emu = StravaEmulator([dict(a) for a in season], clock=base_clock, limits=UNLIMITED)
    base_emu.start()
    try:
        os.environ["STRAVA_REFRESH_TOKEN"] = base_emu.issue_refresh_token()
        base_cfg = write_config(work / "baseline", base_emu.base_url)
        base, base_wall = one_run(base_cfg, base_clock)
    finally:
        base_emu.stop()
        os.environ.pop("STRAVA_REFRESH_TOKEN", None)
    if base.status != "complete":
        raise SystemExit(f"baseline {base.status}: {base.message}")
    base_db = work / "baseline" / "warehouse.duckdb"

    # --- summary -------------------------------------------------------------------------------
    total = sum(r.api_calls for _, r, _ in results)
    listing_calls = sum(r.api_calls - r.streams - r.details for _, r, _ in results)
    used = [(at, r) for at, r, _ in results if r.api_calls > 0]
    windows = len({int(at // WINDOW_S) for at, _ in used})
    days = len({int(at // DAY_S) for at, _ in used})
    sync_s = sum(r.seconds for _, r, _ in results)
    wall_s = sum(w for _, _, w in results)
    per_call_ms = [1000 * r.seconds / r.api_calls for _, r, _ in results if r.api_calls]
    status_429 = sum(1 for _, _, s in log if s == 429)
    api_requests = sum(1 for _, p, _ in log if p.startswith("/api/v3"))

    acts = rows(db, """SELECT count(*), count(DISTINCT activity_id), count(*) FILTER (WHERE deleted_at IS NOT NULL),
                              count(*) FILTER (WHERE streams_status = 'ok'),
                              count(*) FILTER (WHERE streams_status = 'none'),
                              count(*) FILTER (WHERE streams_status IS NULL)
                       FROM raw.strava_activities""")[0]
    streams = rows(db, """SELECT count(DISTINCT activity_id), count(*), count(DISTINCT (activity_id, stream_type)),
                                 count(DISTINCT stream_type) FROM raw.strava_streams""")[0]
    per_activity = rows(db, """SELECT min(k), max(k) FROM (SELECT count(*) AS k FROM raw.strava_streams
                                                          GROUP BY activity_id)""")[0]
    checks = {
        f"activities = {n} (distinct, none deleted)": acts[0] == acts[1] == n and acts[2] == 0,
        f"runs with streams = {runs} (streams_status ok; distinct activities in strava_streams)":
            acts[3] == runs and streams[0] == runs,
        "one streams set per run (no duplicate (activity, stream type) rows)": streams[1] == streams[2]
            and per_activity[0] == per_activity[1],
        f"manual runs marked 'none' = {manual_runs}, nothing left pending": acts[4] == manual_runs and acts[5] == 0,
        "no 429 answered": status_429 == 0,
        "identical to the baseline warehouse (load timestamps aside)": content(db) == content(base_db),
    }

    print(f"\nbackfill: {total} API calls in {len(results)} runs ({len(results) - 1} paused), "
          f"{windows} distinct 15-min windows over {days} UTC days")
    print(f"  minimum {minimum} ({pages_min} list pages + {runs} streams); wasted {total - minimum}; "
          f"listing calls {listing_calls}, streams calls {total - listing_calls}")
    if listing_calls > pages_min:
        print(f"  the waste: one incremental listing call per run after the full listing finished "
              f"({listing_calls - pages_min} extra)")
    print(f"  emulator counted {api_requests} /api/v3 requests, {status_429} answered 429; "
          f"clock jumps that disagreed with the run's resume_at: {jump_mismatch}")
    print(f"  wall time excluding waits: {sync_s:.1f} s in sync_athlete ({wall_s:.1f} s with open/checkpoint/close); "
          f"median {statistics.median(per_call_ms):.1f} ms per call over runs")
    print(f"baseline (unlimited emulator, one run): {base.status}, {base.api_calls} API calls, "
          f"{base.new} new, {base.streams} streams; {base.seconds:.1f} s in sync_athlete ({base_wall:.1f} s total), "
          f"{1000 * base.seconds / max(1, base.api_calls):.1f} ms per call")
    print(f"ratio of calls backfill / baseline: {total / base.api_calls:.3f}  "
          f"(baseline vs minimum: {base.api_calls - minimum:+d}); wall ratio {sync_s / base.seconds:.2f}")
    print("warehouse checks (DuckDB):")
    for label, ok in checks.items():
        print(f"  [{'ok' if ok else 'FAIL'}] {label}")
    print(f"  activities {acts[0]}, streams rows {streams[1]} for {streams[0]} activities "
          f"({per_activity[0]}-{per_activity[1]} stream types each)")
    print(f"bench wall time {time.perf_counter() - t_bench:.1f} s; warehouses in {work}")
    summary = {"activities": n, "runs_with_streams": runs, "calls": total, "minimum": minimum,
               "wasted": total - minimum, "runs": len(results), "windows": windows, "days": days,
               "sync_s": round(sync_s, 3), "baseline_calls": base.api_calls, "baseline_s": round(base.seconds, 3),
               "ratio": round(total / base.api_calls, 4), "checks_ok": all(checks.values())}
    (work / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
