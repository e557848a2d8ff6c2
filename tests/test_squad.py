"""A coach's squad: the Strava emulator with many athletes (shared application limits), the shared
Strava budget across concurrent athletes (a Prefect rate limit on a real server), and squad_nightly
fanning out athlete_nightly runs through a real process worker, then building once."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import httpx

from runlift.standins.squad import write_squad
from runlift.standins.strava_emulator import squad_emulator

END = dt.date(2026, 10, 30)


def _token(base_url: str, refresh: str) -> str:
    r = httpx.post(f"{base_url}/oauth/token", data={"client_id": "12345", "client_secret": "emulator-secret",
                                                     "grant_type": "refresh_token", "refresh_token": refresh})
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def test_emulator_serves_each_athlete_its_own_season_and_shares_the_limits():
    emu, athletes = squad_emulator(3, end=END, weeks=2, limits=(200, 2000, 12, 1000))
    with emu:
        tokens = [_token(emu.base_url, a.refresh_token) for a in athletes]
        seen: list[set[int]] = []
        for a, token in zip(athletes, tokens, strict=True):
            h = {"Authorization": f"Bearer {token}"}
            me = httpx.get(f"{emu.base_url}/api/v3/athlete", headers=h).json()
            assert me["id"] == a.strava_id
            listed = httpx.get(f"{emu.base_url}/api/v3/athlete/activities", params={"per_page": 200}, headers=h)
            ids = {x["id"] for x in listed.json()}
            assert ids == {x["id"] for x in a.season} and len(ids) >= 8
            seen.append(ids)
            other = next(iter(athletes[0].season if a is not athletes[0] else athletes[1].season))
            assert httpx.get(f"{emu.base_url}/api/v3/activities/{other['id']}", headers=h).status_code == 404
        assert not (seen[0] & seen[1]) and not (seen[1] & seen[2]) and not (seen[0] & seen[2])
        # the same seed gives the same season (deterministic per athlete), another athlete another one
        again, _ = squad_emulator(2, end=END, weeks=2)
        assert [x["start_date"] for x in again.activities_of(athletes[1].strava_id).values()] == \
            [x["start_date"] for x in emu.activities_of(athletes[1].strava_id).values()]
        # 9 reads so far (3 athletes x 3): the application's read limit of 12 is shared by every token
        statuses = []
        for i in range(6):
            r = httpx.get(f"{emu.base_url}/api/v3/athlete", headers={"Authorization": f"Bearer {tokens[i % 3]}"})
            statuses.append(r.status_code)
        assert statuses == [200, 200, 200, 429, 429, 429]
        assert r.headers["X-ReadRateLimit-Usage"].startswith("15,")
        (window,) = emu.window_counts().values()
        assert window == {"calls": 15, "reads": 15, "rejected": 3}


def test_emulator_command_writes_a_squad(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "runlift.standins.strava_emulator", "--port", "0", "--athletes", "3",
                             "--weeks", "1", "--squad-dir", str(tmp_path / "squad")],
                            stdout=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline() for _ in range(3)]  # type: ignore[union-attr]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert "3 athletes" in lines[0] and "limits 200,2000,100,1000 shared by all" in lines[0], lines
    from runlift.flows.settings import load_settings

    settings = load_settings(str(tmp_path / "squad" / "runlift.toml"), require_athlete=False)
    assert list(settings.athletes) == ["a001", "a002", "a003"]
    for a in settings.athletes.values():
        assert settings.token_file(a.id).stat().st_mode & 0o077 == 0
        assert len(list(a.fit_inbox[0].glob("*.fit"))) >= 3


def _squad_world(tmp_path: Path, emu, athletes, **strava) -> Path:
    return write_squad(tmp_path, athletes, base_url=emu.base_url,
                       strava={"retries": 1, "timeout_s": 5.0, "rate_window_s": emu.window_s, **strava})


def test_shared_strava_budget_holds_across_concurrent_athletes(prefect_server, tmp_path):
    """Three athletes sync at once (each into its own warehouse, so nothing serializes them): the
    application's 15-minute budget (here 12 reads per 1-s window, paced at 12 - 2 of headroom) is
    never exceeded and every athlete completes, paced by the shared Prefect rate limit rather than
    paused by 429s."""
    from runlift.flows.settings import load_settings
    from runlift.flows.squad import ensure_strava_limit, sync_strava

    emu, athletes = squad_emulator(3, end=END, weeks=1, limits=(200, 2000, 12, 1000), window_s=1)
    with emu:
        cfg = _squad_world(tmp_path, emu, athletes, rate_headroom=2)  # 10 a window: slack for request latency
        ensure_strava_limit("strava-test-budget", load_settings(str(cfg), require_athlete=False), 12)
        results: dict[str, object] = {}

        def one(a) -> None:
            results[a.athlete_id] = sync_strava(str(cfg), a.athlete_id, db=str(tmp_path / f"{a.athlete_id}.duckdb"),
                                                strava_limit="strava-test-budget", lock_timeout_s=30)

        threads = [threading.Thread(target=one, args=(a,)) for a in athletes]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        windows = emu.window_counts()
    assert {a: r.status for a, r in results.items()} == {a.athlete_id: "complete" for a in athletes}, \
        {a: r.message for a, r in results.items()}
    assert sum(w["calls"] for w in windows.values()) == sum(r.api_calls for r in results.values()) >= 15
    assert max(w["reads"] for w in windows.values()) <= 12  # the application's limit, never exceeded
    assert sum(w["rejected"] for w in windows.values()) == 0
    assert len(windows) >= 2  # paced over windows: 15+ calls cannot fit in one at 10 a window
    for a in athletes:
        con = duckdb.connect(str(tmp_path / f"{a.athlete_id}.duckdb"), read_only=True)
        n = con.execute("SELECT count(*) FROM raw.strava_activities WHERE athlete_id = ?", [a.athlete_id]).fetchone()
        con.close()
        assert n == (len(a.season),)


def _counts(db: Path) -> dict[str, tuple[int, int]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        strava = dict(con.execute("SELECT athlete_id, count(*) FROM raw.strava_activities GROUP BY 1").fetchall())
        fit = dict(con.execute("SELECT athlete_id, count(*) FROM raw.fit_sessions GROUP BY 1").fetchall())
    finally:
        con.close()
    return {a: (strava.get(a, 0), fit.get(a, 0)) for a in sorted(set(strava) | set(fit))}


def test_squad_nightly_through_a_process_worker_reports_the_failed_athlete_and_builds_the_others_once(
        prefect_server, tmp_path, monkeypatch):
    from prefect.client.orchestration import get_client
    from prefect.settings import get_current_settings

    from runlift.connectors.strava.tokens import Tokens, TokenStore
    from runlift.flows.squad import squad_nightly
    from runlift.standins.fit_writer import season_fit_files

    from conftest import ROOT

    # Strava's standard limits, in 1-s windows instead of 15 minutes (the pace is set from
    # strava.rate_window_s, so the night is not stretched over real windows)
    emu, athletes = squad_emulator(3, end=END, weeks=1, window_s=1)
    pool = "runlift-squad-test"
    with emu:
        cfg = _squad_world(tmp_path, emu, athletes)
        TokenStore(tmp_path / "tokens" / "a002.json").save(Tokens("", 0, "not-a-token-strava-knows"))
        api_url = str(get_current_settings().api.url)

        async def deploy() -> None:
            from prefect.client.schemas.actions import WorkPoolCreate

            async with get_client() as client:
                await client.create_work_pool(WorkPoolCreate(name=pool, type="process", concurrency_limit=3),
                                              overwrite=True)
                flow_id = await client.create_flow_from_name("athlete_nightly")
                await client.create_deployment(
                    flow_id=flow_id, name="athlete-nightly", work_pool_name=pool,
                    entrypoint="flows/squad.py:athlete_nightly", path=str(ROOT),
                    pull_steps=[{"prefect.deployments.steps.set_working_directory": {"directory": str(ROOT)}}])

        asyncio.run(deploy())
        env = {**os.environ, "PREFECT_API_URL": api_url, "PREFECT_WORKER_QUERY_SECONDS": "1",
               "PREFECT_HOME": str(tmp_path / "prefect-home"), "RUNLIFT_IMPORT_WORKERS": "1"}
        worker = subprocess.Popen([str(Path(sys.executable).with_name("prefect")), "worker", "start", "--pool", pool,
                                   "--type", "process", "--limit", "3"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=tmp_path)
        try:
            nights = []
            for _ in range(2):
                t0 = time.monotonic()
                state = squad_nightly(config=str(cfg), as_of=END, strava_window_budget=100, poll_s=0.5,
                                      timeout_s=180, return_state=True)
                nights.append((state, _counts(tmp_path / "w.duckdb"), time.monotonic() - t0))
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
            stderr = worker.stderr.read() if worker.stderr else ""  # type: ignore[union-attr]
    fit_sessions = {a.athlete_id: len(season_fit_files(a.season)) for a in athletes}
    expected = {a.athlete_id: (0 if a.athlete_id == "a002" else len(a.season), fit_sessions[a.athlete_id])
                for a in athletes}
    for state, counts, _ in nights:
        assert state.is_failed(), f"{state}\n{stderr[-3000:]}"
        message = state.message or ""
        assert "1 of 3 athletes failed (the others are built): a002: Strava for a002: Strava refused the token" \
            in message, message
        assert "a001" not in message and "a003" not in message
        assert counts == expected  # rerun adds nothing: every athlete's rows exactly once
    published = tmp_path / "w.published.duckdb"
    con = duckdb.connect(str(published), read_only=True)
    built = dict(con.execute("SELECT athlete_id, count(*) FROM marts.fct_activities GROUP BY 1").fetchall())
    con.close()
    assert set(built) == {"a001", "a002", "a003"} and built["a001"] >= len(athletes[0].season)


def test_prefect_yaml_squad_deployments_keep_the_night_for_one_person():
    import yaml

    from conftest import ROOT

    deployments = {d["name"]: d for d in yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]}
    assert list(deployments)[:3] == ["nightly", "backfill", "fit-inbox"]
    nightly = deployments["nightly"]
    assert nightly["entrypoint"] == "flows/nightly.py:nightly_sync" and nightly["schedules"][0].get("active", True)
    squad, athlete = deployments["squad-nightly"], deployments["athlete-nightly"]
    assert squad["entrypoint"] == "flows/squad.py:squad_nightly" and squad["work_pool"]["name"] == "runlift"
    # the same 03:30 schedule, off: a squad turns it on instead of `nightly`, never both at once
    assert squad["schedules"][0]["cron"] == nightly["schedules"][0]["cron"] and squad["schedules"][0]["active"] is False
    assert squad["parameters"]["deployment"] == "athlete_nightly/athlete-nightly"
    assert athlete["entrypoint"] == "flows/squad.py:athlete_nightly" and "schedules" not in athlete
    assert {k: athlete["work_pool"][k] for k in ("name", "work_queue_name")} == {"name": "runlift",
                                                                                "work_queue_name": "athletes"}
    # heartbeats often enough for squad_nightly's crash automation to tell a gone run within its timeout
    frequency = int(athlete["work_pool"]["job_variables"]["env"]["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"])
    assert frequency >= 30 and 2 * frequency < squad["parameters"]["heartbeat_timeout_s"]


def test_a_run_whose_heartbeats_stop_is_marked_crashed_and_others_are_left_alone(prefect_server):
    """The automation squad_nightly creates (flows/squad.py ensure_crash_automation), on the real
    server: a Running run of the watched flow that sent one heartbeat and then nothing (its worker
    killed) becomes Crashed; one that sent a heartbeat and then completed stays Completed; a run of
    another flow whose heartbeats come seldom (Prefect's default is every 180 s: the squad's own
    run, a nightly_sync) stays Running."""
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.events import emit_event
    from prefect.states import Completed, Pending, Running

    from runlift.flows.squad import ensure_crash_automation

    @flow(name="heartbeat-probe")
    def probe() -> None:
        pass

    @flow(name="heartbeat-other")
    def other() -> None:
        pass

    name = "runlift-test: crash without heartbeats"
    automation_ids = ensure_crash_automation(within_s=10, name=name, flow_name="heartbeat-probe")
    assert ensure_crash_automation(within_s=10, name=name, flow_name="heartbeat-probe") == automation_ids
    try:
        with get_client(sync_client=True) as client:
            gone, done = client.create_flow_run(probe, name="gone"), client.create_flow_run(probe, name="done")
            elsewhere = client.create_flow_run(other, name="elsewhere")
            stuck = client.create_flow_run(probe, name="stuck")  # its worker died while starting it
            client.set_flow_run_state(stuck.id, Pending())
            for run, flow_name in ((gone, "heartbeat-probe"), (done, "heartbeat-probe"),
                                   (elsewhere, "heartbeat-other")):
                client.set_flow_run_state(run.id, Running())
                emit_event(event="prefect.flow-run.heartbeat",
                           resource={"prefect.resource.id": f"prefect.flow-run.{run.id}"},
                           related=[{"prefect.resource.id": f"prefect.flow.{run.flow_id}",
                                     "prefect.resource.role": "flow", "prefect.resource.name": flow_name}])
            client.set_flow_run_state(done.id, Completed())
            deadline = time.monotonic() + 90  # within 10 s + the server's 5-s proactive evaluation, loaded
            while time.monotonic() < deadline:
                state = client.read_flow_run(gone.id).state
                if state is not None and state.is_final():
                    break
                time.sleep(1)
            time.sleep(6)  # one more evaluation for the others
            states = {r.name: client.read_flow_run(r.id).state for r in (gone, done, elsewhere, stuck)}
    finally:
        with get_client(sync_client=True) as client:
            for automation_id in automation_ids:
                client.delete_automation(automation_id)
    assert states["gone"] is not None and states["gone"].is_crashed(), states
    assert "no heartbeat for 10 s" in (states["gone"].message or "")
    assert states["done"] is not None and states["done"].is_completed(), states
    assert states["elsewhere"] is not None and states["elsewhere"].is_running(), states
    assert states["stuck"] is not None and states["stuck"].is_crashed(), states
    assert "not started within 10 s" in (states["stuck"].message or "")
