"""A coach's squad on Prefect work pools, simulated: N synthetic athletes, 1 then 2 process workers.

    .venv/bin/python bench/squad.py [--athletes 200] [--weeks 2] [--workers 1,2] [--per-worker 1]
                                    [--window-s 10] [--limits 200,2000000,100,1000000] [--kill-worker]
                                    [--lake ATTACH --data-path DIR | --lake-postgres] [--out DIR]

For each worker count: a Strava emulator serving the N athletes (each its own tokens and season,
the application's limits shared; ``--window-s`` shortens Strava's 15-minute window so the night is
not stretched over real windows, ``--limits`` lifts the daily limit so that a first import of N
athletes fits), generated FIT inboxes, a fresh warehouse, the ``athlete-nightly`` deployment on a
process pool, W ``prefect worker start`` processes (each running ``--per-worker`` flow runs at
once), and ``squad_nightly`` run in this process. It prints athletes per minute for each W, the
ratio, Strava calls against the minimum (listing pages + streams of runs + shoes), the most calls
of any short window against the budget, and checks that the warehouse holds every athlete's rows
exactly once. ``--kill-worker``: with 2 workers, kill -9 one worker (and its flow runs) mid-night,
then rerun the night: nothing lost, nothing doubled.

``--lake ATTACH --data-path DIR`` write ``warehouse.lake`` / ``warehouse.data_path`` into the
squad's settings (the lake mode of docs/lake.md, where that mode exists). Without them the
warehouse is the embedded DuckDB file, whose writers take turns on its lock file: a second worker
then mostly waits, and the figure says so. ``--lake-postgres``: the lake on a PostgreSQL cluster
started for the bench (each night its own catalog database and data folder); run it with
``.venv-lake/bin/python`` (``make test-lake`` builds it), whose DuckDB loads the DuckLake extension.
The Prefect server then keeps its own database in that PostgreSQL too (as a squad's server should:
SQLite's single writer makes concurrent workers wait, and fail with "database is locked"); without
it the bench uses Prefect's test harness (SQLite).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
STREAM_TYPES = ("Run", "TrailRun", "VirtualRun")
POOL = "runlift-bench"


def minimum_calls(season: list[dict]) -> int:
    """Strava calls a first import cannot do without: listing pages, one stream set per recorded run,
    one call per shoe."""
    pages = len(season) // 200 + 1
    streams = sum(1 for a in season if a.get("sport_type") in STREAM_TYPES and not a.get("manual"))
    shoes = len({a["gear_id"] for a in season if a.get("gear_id")})
    return pages + streams + shoes


def check_rows(db: Path | None, athletes: list, fit_expected: dict[str, int],
               lake: tuple[str, str] | None = None) -> list[str]:
    """Every athlete's Strava activities and FIT sessions exactly once: the problems found (in the
    embedded file ``db``, or in the lake ``(attach, data_path)``)."""
    if lake is not None:
        from runlift.warehouse import db as wdb

        con = wdb.connect_lake(wdb.Lake(*lake))
    else:
        con = duckdb.connect(str(db), read_only=True)
    try:
        strava = {a: (n, d) for a, n, d in con.execute(
            "SELECT athlete_id, count(*), count(DISTINCT activity_id) FROM raw.strava_activities GROUP BY 1",
        ).fetchall()}
        fit = dict(con.execute("SELECT athlete_id, count(*) FROM raw.fit_sessions GROUP BY 1").fetchall())
    finally:
        con.close()
    problems = []
    for a in athletes:
        n, distinct = strava.get(a.athlete_id, (0, 0))
        if n != len(a.season) or distinct != n:
            problems.append(f"{a.athlete_id}: {n} Strava rows ({distinct} distinct), expected {len(a.season)}")
        if fit.get(a.athlete_id, 0) != fit_expected[a.athlete_id]:
            problems.append(f"{a.athlete_id}: {fit.get(a.athlete_id, 0)} FIT sessions, expected "
                            f"{fit_expected[a.athlete_id]}")
    return problems


def deploy(api_env: dict[str, str]) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate

    async def go() -> None:
        async with get_client() as client:
            await client.create_work_pool(WorkPoolCreate(name=POOL, type="process"), overwrite=True)
            flow_id = await client.create_flow_from_name("athlete_nightly")
            await client.create_deployment(
                flow_id=flow_id, name="athlete-nightly", work_pool_name=POOL,
                entrypoint="flows/squad.py:athlete_nightly", path=str(ROOT),
                job_variables={"env": {"PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30"}},  # as prefect.yaml
                pull_steps=[{"prefect.deployments.steps.set_working_directory": {"directory": str(ROOT)}}])

    asyncio.run(go())


def run_times(deployment_name: str, since: dt.datetime) -> dict[str, float]:
    """Medians over the athlete runs since ``since``: from scheduled to running (the worker's pick-up
    and the process start before the engine reports Running), and running to final (the run)."""
    import statistics

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterName,
        FlowRunFilter,
        FlowRunFilterStartTime,
    )

    async def go() -> list:
        async with get_client() as client:
            out, offset = [], 0
            while True:
                page = await client.read_flow_runs(
                    deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[deployment_name])),
                    flow_run_filter=FlowRunFilter(start_time=FlowRunFilterStartTime(after_=since)),
                    limit=200, offset=offset)
                out += page
                offset += len(page)
                if len(page) < 200:
                    return out

    runs = [r for r in asyncio.run(go()) if r.start_time and r.end_time and r.expected_start_time]
    if not runs:
        return {}
    pickup = [(r.start_time - r.expected_start_time).total_seconds() for r in runs]
    running = [(r.end_time - r.start_time).total_seconds() for r in runs]
    return {"runs": len(runs), "pickup_s": statistics.median(pickup), "run_s": statistics.median(running)}


def run_states(deployment_name: str, since: dt.datetime, first: int) -> dict[str, int]:
    """How many of the first ``first`` athlete runs since ``since`` ended in each state."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterName,
        FlowRunFilter,
        FlowRunFilterExpectedStartTime,
    )
    from prefect.client.schemas.sorting import FlowRunSort

    async def go() -> list:
        async with get_client() as client:
            return await client.read_flow_runs(
                deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[deployment_name])),
                flow_run_filter=FlowRunFilter(expected_start_time=FlowRunFilterExpectedStartTime(after_=since)),
                sort=FlowRunSort.EXPECTED_START_TIME_ASC, limit=first)

    tally: dict[str, int] = {}
    for r in asyncio.run(go()):
        name = r.state.name if r.state else "none"
        tally[name] = tally.get(name, 0) + 1
    return tally


def start_workers(n: int, per_worker: int, env: dict[str, str], cwd: Path) -> list[subprocess.Popen]:
    prefect = str(Path(sys.executable).with_name("prefect"))
    return [subprocess.Popen([prefect, "worker", "start", "--pool", POOL, "--type", "process", "--limit",
                              str(per_worker), "--name", f"bench-worker-{i}"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd,
                             start_new_session=True)  # its own group: kill -9 takes its flow runs along
            for i in range(n)]


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from /proc): a worker's flow-run processes, whatever their session."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for w in workers:
        if w.poll() is None:
            w.terminate()
    for w in workers:
        try:
            w.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(w.pid, signal.SIGKILL)
            w.wait()


def one_night(args: argparse.Namespace, out: Path, n_workers: int, env: dict[str, str], kill: bool = False) -> dict:
    from runlift.flows.squad import squad_nightly
    from runlift.standins.fit_writer import season_fit_files
    from runlift.standins.squad import write_squad
    from runlift.standins.strava_emulator import squad_emulator

    limits = tuple(int(x) for x in args.limits.split(","))
    emu, athletes = squad_emulator(args.athletes, end=dt.date(2026, 10, 30), weeks=args.weeks, limits=limits,
                                   window_s=args.window_s)
    folder = out / f"w{n_workers}{'-kill' if kill else ''}"
    lake_pair = None
    if args.lake_postgres is not None:
        dsn = args.lake_postgres.create_database(f"runlift_{folder.name.replace('-', '_')}")
        lake_pair = (f"ducklake:postgres:{dsn}", str(folder / "lake-data"))
    elif args.lake:
        lake_pair = (args.lake, args.data_path)
    lake = {"lake": lake_pair[0], "data_path": lake_pair[1]} if lake_pair else None
    fit_expected = {a.athlete_id: len(season_fit_files(a.season)) for a in athletes}
    with emu:
        cfg = write_squad(folder, athletes, base_url=emu.base_url, warehouse_settings=lake,
                          strava={"retries": 1, "timeout_s": 10.0, "rate_window_s": args.window_s,
                                  "rate_headroom": max(5, n_workers * args.per_worker)})
        workers = start_workers(n_workers, args.per_worker, env, folder)
        killed = ""
        try:
            nights = []
            since = dt.datetime.now(dt.UTC)
            for night_no in range(2 if kill else 1):
                t0 = time.monotonic()
                timer = None
                if kill and night_no == 0:
                    def kill_one() -> None:
                        nonlocal killed
                        below = descendants(workers[0].pid)  # its flow-run processes, whatever their session
                        for pid in [workers[0].pid, *below]:
                            with contextlib.suppress(ProcessLookupError):
                                os.kill(pid, signal.SIGKILL)
                        killed = (f"killed worker 0 (pid {workers[0].pid}) and its {len(below)} processes below "
                                  f"with kill -9 after {args.kill_after_s:.0f} s")
                    timer = threading.Timer(args.kill_after_s, kill_one)
                    timer.start()
                state = squad_nightly(config=str(cfg), as_of=dt.date(2026, 10, 30), strava_limit="strava-bench",
                                      strava_window_budget=limits[2], poll_s=1.0, return_state=True,
                                      timeout_s=args.kill_timeout_s if timer else args.timeout_s)
                if timer is not None:
                    timer.cancel()
                nights.append((state, time.monotonic() - t0))
        finally:
            stop_workers(workers)
        windows = emu.window_counts()
    calls = sum(w["calls"] for w in windows.values())
    minimum = sum(minimum_calls(a.season) for a in athletes)
    problems = check_rows(folder / "w.duckdb", athletes, fit_expected, lake_pair)
    seconds = nights[-1][1]
    times = run_times("athlete-nightly", since)
    return {"times": times, "first_night_runs": run_states("athlete-nightly", since, first=len(athletes)),
            "workers": n_workers, "seconds": seconds, "per_minute": args.athletes / (seconds / 60),
            "calls": calls, "minimum": minimum, "max_window": max((w["reads"] for w in windows.values()), default=0),
            "rejected": sum(w["rejected"] for w in windows.values()), "problems": problems, "killed": killed,
            "states": [(s.name if s else "none", (s.message or "")[:300] if s else "", round(t, 1)) for s, t in nights]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--athletes", type=int, default=200)
    parser.add_argument("--weeks", type=int, default=2, help="weeks of each athlete's season (default 2)")
    parser.add_argument("--workers", default="1,2", help="worker counts to measure, in order (default 1,2)")
    parser.add_argument("--per-worker", type=int, default=1, help="flow runs each worker runs at once (default 1)")
    parser.add_argument("--window-s", type=int, default=10, help="Strava's short window, shortened (default 10 s)")
    parser.add_argument("--limits", default="200,2000000,100,1000000",
                        help="overall short, overall daily, read short, read daily (default: Strava's short-window "
                             "limits, the daily ones lifted)")
    parser.add_argument("--kill-worker", action="store_true", help="also: kill -9 a worker mid-night, then rerun")
    parser.add_argument("--kill-after-s", type=float, default=20.0)
    parser.add_argument("--kill-timeout-s", type=float, default=900.0,
                        help="how long the killed night waits for the killed worker's runs (default 900 s; "
                             "the crash automation marks them Crashed after 90 s without a heartbeat)")
    parser.add_argument("--timeout-s", type=float, default=3600.0)
    parser.add_argument("--lake", default=None, metavar="ATTACH", help="warehouse.lake of the squad's settings")
    parser.add_argument("--data-path", default=None, metavar="DIR", help="warehouse.data_path (with --lake)")
    parser.add_argument("--lake-postgres", action="store_true",
                        help="the lake mode on a throwaway PostgreSQL cluster started here (Debian's postgresql; "
                             "run with .venv-lake, whose DuckDB has the DuckLake extension)")
    parser.add_argument("--out", type=Path, default=None, help="folder for the squads (default: a temporary one)")
    args = parser.parse_args(argv)
    if bool(args.lake) != bool(args.data_path):
        parser.error("--lake and --data-path go together")
    if args.lake and args.lake_postgres:
        parser.error("--lake and --lake-postgres: one or the other")
    pg = None
    if args.lake_postgres:
        from runlift.standins.postgres import PostgresCluster

        pg = PostgresCluster().start()
        print(f"PostgreSQL for the lake's catalog on 127.0.0.1:{pg.port}", flush=True)
    args.lake_postgres = pg
    try:
        return run(args)
    finally:
        if pg is not None:
            pg.stop()


@contextlib.contextmanager
def prefect_server(pg: object | None, out: Path) -> Iterator[str]:
    """A Prefect server for the bench: its API URL. With PostgreSQL (``pg``, a PostgresCluster) the
    server's database is a PostgreSQL database there, as a squad's server should have (SQLite's one
    writer makes concurrent workers' state changes wait and fail with "database is locked");
    without, Prefect's test harness (SQLite)."""
    if pg is None:
        from prefect.settings import get_current_settings
        from prefect.testing.utilities import prefect_test_harness

        with prefect_test_harness(server_startup_timeout=120):
            yield str(get_current_settings().api.url)
        return
    from runlift.standins.postgres import free_port

    dsn = dict(kv.split("=", 1) for kv in pg.create_database("prefect").split())  # type: ignore[attr-defined]
    port = free_port()
    env = {**os.environ, "PREFECT_SERVER_DATABASE_CONNECTION_URL":
           f"postgresql+asyncpg://{dsn['user']}@{dsn['host']}:{dsn['port']}/{dsn['dbname']}",
           "PREFECT_UI_ENABLED": "false", "PREFECT_SERVER_UI_ENABLED": "false"}
    log = open(out / "prefect-server.log", "w")  # noqa: SIM115 (closed in the finally below)
    server = subprocess.Popen([str(Path(sys.executable).with_name("prefect")), "server", "start", "--host",
                               "127.0.0.1", "--port", str(port), "--no-ui", "--analytics-off"],
                              stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    api_url = f"http://127.0.0.1:{port}/api"
    try:
        import httpx

        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{api_url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Prefect server did not start; see {out / 'prefect-server.log'}")
            time.sleep(0.5)
        os.environ["PREFECT_API_URL"] = api_url
        yield api_url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()


def run(args: argparse.Namespace) -> int:
    out = args.out or Path(tempfile.mkdtemp(prefix="runlift-squad-bench-"))
    (out / "prefect-home").mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_HOME", str(out / "prefect-home"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

    t0 = time.monotonic()
    with prefect_server(args.lake_postgres, out) as api_url:
        print(f"Prefect server up in {time.monotonic() - t0:.0f} s ({api_url}, "
              f"{'PostgreSQL' if args.lake_postgres else 'SQLite'}); squads under {out}", flush=True)
        env = {**os.environ, "PREFECT_API_URL": api_url, "PREFECT_WORKER_QUERY_SECONDS": "1",
               "RUNLIFT_IMPORT_WORKERS": "1"}
        deploy(env)
        results = []
        for w in [int(x) for x in args.workers.split(",") if x]:
            r = one_night(args, out, w, env)
            results.append(r)
            print(f"{w} worker(s): {args.athletes} athletes in {r['seconds']:.1f} s = {r['per_minute']:.1f} athletes "
                  f"per minute; Strava calls {r['calls']} vs minimum {r['minimum']} "
                  f"(x{r['calls'] / r['minimum']:.2f}); "
                  f"most reads in a {args.window_s}-s window {r['max_window']} (budget "
                  f"{args.limits.split(',')[2]}), 429s {r['rejected']}; night {r['states'][-1][0]}; rows "
                  f"{'exactly once' if not r['problems'] else 'WRONG: ' + '; '.join(r['problems'][:5])}", flush=True)
            t = r["times"]
            if t:
                print(f"  per athlete run (median of {t['runs']}): {t['pickup_s']:.1f} s from scheduled to running, "
                      f"{t['run_s']:.1f} s running; the night's build and publish after them", flush=True)
            if r["states"][-1][0] != "Completed":
                print(f"  {r['states'][-1][1]}")
        if len(results) >= 2:
            print(f"ratio {results[1]['workers']} vs {results[0]['workers']} worker(s): "
                  f"{results[1]['per_minute'] / results[0]['per_minute']:.2f}")
        if args.kill_worker:
            r = one_night(args, out, 2, env, kill=True)
            first, second = r["states"]
            rows = "exactly once" if not r["problems"] else "WRONG: " + "; ".join(r["problems"][:5])
            print(f"kill -9: {r['killed']}; that night {first[0]} in {first[2]} s, its athlete runs "
                  f"{r['first_night_runs']} ({first[1][:300]}); the rerun "
                  f"{second[0]} in {second[2]} s; rows {rows}; 429s {r['rejected']}", flush=True)
            results.append(r)
    bad = any(r["problems"] or r["rejected"] for r in results)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
