"""The nightly flows end to end on a real (temporary) Prefect server, against the local Strava API
emulator and a FIT inbox; and prefect.yaml deployed and run through a real process worker."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from runlift.standins.config import write_settings
from runlift.standins.fit_writer import season_fit_files
from runlift.standins.season import synthetic_season
from runlift.standins.strava_emulator import StravaEmulator

from helpers import q, snapshot

END = dt.date(2026, 10, 30)
SEASON = synthetic_season(END, weeks=7, tz="America/Denver", gym_from_week=3)
FIT_FILES = season_fit_files(SEASON)


class Receiver:
    """A local webhook receiver recording what is POSTed to it."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                outer.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def setup_world(tmp_path: Path, base_url: str, webhook: str | None = None) -> Path:
    inbox = tmp_path / "inbox"
    inbox.mkdir(exist_ok=True)
    an_hour_ago = time.time() - 3600  # as a night finds an inbox: files written a while ago
    for name, data in FIT_FILES:
        (inbox / name).write_bytes(data)
        os.utime(inbox / name, (an_hour_ago, an_hour_ago))
    return write_settings(tmp_path, athlete="ana", timezone="America/Denver",
                          athlete_settings={"fit_inbox": ["inbox"]},
                          strava={"client_id": "12345", "base_url": base_url, "retries": 1, "timeout_s": 5.0},
                          tables={"notify": {"webhook_url": webhook}} if webhook else None)


@pytest.fixture
def emulator(monkeypatch):
    emu = StravaEmulator([dict(a) for a in SEASON])
    emu.start()
    monkeypatch.setenv("STRAVA_CLIENT_SECRET", "emulator-secret")
    monkeypatch.setenv("STRAVA_REFRESH_TOKEN", emu.issue_refresh_token())
    yield emu
    emu.stop()


def test_two_nights_second_adds_nothing(prefect_server, tmp_path, emulator):
    from runlift.flows.nightly import nightly_sync

    cfg = setup_world(tmp_path, emulator.base_url)
    state = nightly_sync(config=str(cfg), as_of=END, return_state=True)
    assert state.is_completed(), state.message
    report = state.result()
    assert report.strava["ana"].new == len(SEASON) and report.fit["ana"].files_new == len(FIT_FILES)
    assert report.published.exists() and "## This week" in report.markdown
    db = tmp_path / "w.duckdb"
    first = snapshot(db)
    con = duckdb.connect(str(report.published), read_only=True)
    both = con.execute("SELECT count(*) FROM marts.fct_activities WHERE sources = 'fit+strava'").fetchone()[0]
    total = con.execute("SELECT count(*) FROM marts.fct_activities").fetchone()[0]
    con.close()
    assert both == len(FIT_FILES)  # every FIT file is also on Strava and counts once
    assert total == len(SEASON)

    again = nightly_sync(config=str(cfg), as_of=END)
    assert again.strava["ana"].new == 0 and again.fit["ana"].files_new == 0
    assert snapshot(db) == first
    # nothing new from either source: the marts are not rebuilt, the FIT files not read again
    assert again.build is not None and again.build.unchanged_since is not None
    assert again.fit["ana"].files_unchanged == len(FIT_FILES) and again.fit["ana"].bytes_read == 0
    assert "Marts: nothing new since the build of" in again.markdown


def test_strava_down_still_imports_fit_and_fails_visibly(prefect_server, tmp_path, monkeypatch):
    from runlift.flows.nightly import nightly_sync

    receiver = Receiver()
    try:
        monkeypatch.setenv("STRAVA_CLIENT_SECRET", "emulator-secret")
        monkeypatch.setenv("STRAVA_REFRESH_TOKEN", "not-used")
        cfg = setup_world(tmp_path, "http://127.0.0.1:9", webhook=receiver.url)  # connection refused
        (tmp_path / "inbox" / "zz-corrupt.fit").write_bytes(b"\x0e\x10garbage that is not FIT")
        state = nightly_sync(config=str(cfg), as_of=END, return_state=True)
        assert state.is_failed()
        assert "Strava for ana" in state.message and "could not be reached" in state.message
        con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
        statuses = dict(con.execute("SELECT status, count(*) FROM raw.fit_files GROUP BY 1").fetchall())
        corrupt = con.execute("SELECT status, error FROM raw.fit_files "
                              "WHERE first_path LIKE '%zz-corrupt.fit'").fetchone()
        con.close()
        assert statuses == {"ok": len(FIT_FILES), "rejected": 1}
        assert corrupt[0] == "rejected" and "not a FIT file" in corrupt[1]
        # the marts were still built and published from the FIT data
        published = tmp_path / "w.published.duckdb"
        assert q(published, "SELECT count(*) FROM marts.fct_activities")[0][0] == len(FIT_FILES)
        for _ in range(50):
            if receiver.bodies:
                break
            time.sleep(0.1)
        assert len(receiver.bodies) == 1 and "could not be reached" in receiver.bodies[0]["text"]
        assert "not-used" not in json.dumps(receiver.bodies)
    finally:
        receiver.close()


def test_cli_sync_exit_code(prefect_server, tmp_path, monkeypatch):
    monkeypatch.setenv("STRAVA_CLIENT_SECRET", "emulator-secret")
    monkeypatch.setenv("STRAVA_REFRESH_TOKEN", "x")
    cfg = setup_world(tmp_path, "http://127.0.0.1:9")
    env = {**os.environ}
    proc = subprocess.run([sys.executable, "-m", "runlift.flows.cli", "sync", "--config", str(cfg),
                           "--as-of", str(END)],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 1
    assert "runlift: error: the nightly_sync run failed" in proc.stderr and "could not be reached" in proc.stderr


def prefect_cli(*args: str, env: dict[str, str], cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("prefect")
    proc = subprocess.run([str(exe), "--no-prompt", *args], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=timeout)
    assert proc.returncode == 0, f"prefect {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
    return proc


def test_prefect_yaml_deploys_and_nightly_runs_through_a_process_worker(prefect_server, tmp_path, emulator):
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.settings import get_current_settings

    from conftest import ROOT

    api_url = get_current_settings().api.url
    env = {**os.environ, "PREFECT_API_URL": str(api_url), "PREFECT_HOME": str(tmp_path / "prefect-home")}
    cfg = setup_world(tmp_path, emulator.base_url)
    prefect_cli("work-pool", "create", "runlift", "--type", "process", "--overwrite", env=env, cwd=ROOT)
    prefect_cli("deploy", "--all", env=env, cwd=ROOT)

    async def inspect_and_run() -> str:
        async with get_client() as client:
            nightly = await client.read_deployment_by_name("nightly_sync/nightly")
            backfill = await client.read_deployment_by_name("backfill/backfill")
            assert nightly.work_pool_name == "runlift" and backfill.work_pool_name == "runlift"
            assert [s.schedule.cron for s in nightly.schedules] == ["30 3 * * *"]
            assert nightly.schedules[0].schedule.timezone == "America/Denver"
            assert backfill.schedules == []
            assert nightly.parameters == {"config": None, "db": None, "athlete": None, "units": None}
            limit = nightly.global_concurrency_limit
            assert (limit.limit if limit is not None else nightly.concurrency_limit) == 1
            run = await client.create_flow_run_from_deployment(
                nightly.id, parameters={"config": str(cfg), "as_of": END.isoformat()})
            return str(run.id)

    run_id = asyncio.run(inspect_and_run())
    worker = subprocess.run([str(Path(sys.executable).with_name("prefect")), "worker", "start", "--pool", "runlift",
                             "--run-once", "--type", "process"],
                            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=400)

    async def final_state() -> object:
        async with get_client() as client:
            return (await client.read_flow_run(run_id)).state

    state = asyncio.run(final_state())
    assert state is not None and state.is_completed(), f"{state}\n{worker.stdout[-3000:]}\n{worker.stderr[-3000:]}"
    published = tmp_path / "w.published.duckdb"
    assert q(published, "SELECT count(*) FROM marts.fct_activities")[0][0] == len(SEASON)
