"""Every option a command's --help shows takes effect, on every path the command can run.

The commands are collected by walking the click group, so a new command with --db or --athlete is
covered without touching this file. Each runs in a real process with HOME and the working folder
set to empty temporary folders (and no RUNLIFT_*, XDG_* or STRAVA_* variables): with
``--db TMP/x/wh.duckdb`` it writes under TMP/x/ only, or stops at once with one clear line (exit 2);
nothing appears under HOME (so neither ~/.local/share/runlift). With ``--athlete`` the rows it
writes are that athlete's only. Then the Prefect flows, called with the overrides, and a deployment
of prefect.yaml run through a process worker with them.
"""

from __future__ import annotations

import atexit
import datetime as dt
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import click
import duckdb
import pytest

from runlift.flows.cli import main as cli_main
from runlift.standins.fit_writer import SynthSet, encode_run, encode_strength

from helpers import q

AS_OF = dt.date(2026, 11, 6)
TIMEOUT_S = 180  # per command: a command waiting on the network fails the test instead of hanging it


def _walk(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    ctx = click.Context(group, info_name="runlift")
    out = []
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        if isinstance(cmd, click.Group):
            out += _walk(cmd, prefix + (name,))
        elif cmd is not None:
            out.append((prefix + (name,), cmd))
    return out


def commands_with(option: str) -> list[tuple[str, ...]]:
    return [path for path, cmd in _walk(cli_main)
            if any(option in p.opts for p in cmd.params if isinstance(p, click.Option))]


DB_COMMANDS = commands_with("--db")
ATHLETE_COMMANDS = commands_with("--athlete")
# What a command needs to do real work here; a command not named gets generic values (below).
EXTRA: dict[tuple[str, ...], list[str]] = {
    ("sql",): ["SELECT count(*) AS n FROM marts.fct_activities"],
    ("export",): ["--parquet", "{x}/parquet"],
    ("sync",): ["--as-of", AS_OF.isoformat(), "--units", "imperial"],
    ("backfill",): ["--as-of", AS_OF.isoformat(), "--units", "imperial"],
    ("build",): ["--as-of", AS_OF.isoformat()],
    ("strava", "auth"): ["--timeout", "5"],
}
WRITES_FIT_ROWS = {("sync",), ("backfill",), ("import-fit",)}  # these import the athlete's fit_inbox


def test_the_walk_finds_the_commands_and_help_says_athlete_limits_the_night():
    assert {("sync",), ("backfill",), ("import-fit",), ("status",), ("build",), ("strava", "sync")} <= set(DB_COMMANDS)
    assert set(ATHLETE_COMMANDS) <= set(DB_COMMANDS)
    # sql reads stored values whatever the athlete or units: it offers neither option
    assert ("sql",) in DB_COMMANDS and ("sql",) not in ATHLETE_COMMANDS
    for name in ("sync", "backfill"):
        athlete = next(p for p in cli_main.commands[name].params if "--athlete" in p.opts)
        assert athlete.help.startswith("Only this athlete's") and "default: every configured athlete" in athlete.help


def args_for(path: tuple[str, ...], x: Path) -> list[str]:
    """The command's arguments: EXTRA, else a value for each required parameter (paths under x/)."""
    cmd = dict(_walk(cli_main))[path]
    if path in EXTRA:
        args = [a.format(x=x) for a in EXTRA[path]]
    else:
        args = []
        for p in cmd.params:
            if not p.required:
                continue
            value = str(x / f"{p.name}.missing") if isinstance(p.type, click.Path) else "x"
            args += [value] if isinstance(p, click.Argument) else [p.opts[0], value]
    if any("--yes" in p.opts for p in cmd.params if isinstance(p, click.Option)):
        args.append("--yes")  # never wait on a confirmation prompt
    return args


def fit_run(day: int, seed: int) -> bytes:
    return encode_run(start_utc=dt.datetime(2026, 11, day, 13, 0), utc_offset_s=0, duration_s=900,
                      distance_m=3000.0 + 100 * seed, seed=seed, serial_number=3_900_100_000 + seed)


def fit_gym(day: int, seed: int) -> bytes:
    sets = [SynthSet("squat", 5, 80.0 + seed), SynthSet("deadlift", 5, 100.0 + seed)]
    return encode_strength(start_utc=dt.datetime(2026, 11, day, 18, 0), utc_offset_s=0, sets=sets, seed=seed,
                           serial_number=3_900_200_000 + seed)


_FILLED: dict[tuple[str, ...], Path] = {}  # athletes -> the x/ folder of a filled world (World.fill)


class World:
    """TMP/in (settings and FIT inboxes), TMP/home, TMP/cwd (empty), TMP/x (the warehouse's folder)."""

    def __init__(self, tmp: Path, athletes: tuple[str, ...]) -> None:
        self.athletes = athletes
        self.tmp, self.inp, self.home, self.cwd, self.x = tmp, tmp / "in", tmp / "home", tmp / "cwd", tmp / "x"
        for folder in (self.inp, self.home, self.cwd, self.x):
            folder.mkdir(parents=True)
        self.db = self.x / "wh.duckdb"
        self.kept: dict[str, Path] = {}  # athlete -> a FIT file outside the inbox, imported beforehand
        text = ""
        for i, aid in enumerate(athletes):
            inbox = self.inp / f"inbox-{aid}"
            inbox.mkdir()
            (inbox / f"{aid}-run.fit").write_bytes(fit_run(3 + i, seed=10 * i + 1))
            (inbox / f"{aid}-gym.fit").write_bytes(fit_gym(4 + i, seed=10 * i + 2))
            self.kept[aid] = self.inp / f"{aid}-earlier.fit"
            self.kept[aid].write_bytes(fit_run(1 + i, seed=10 * i + 3))
            text += f'[athletes.{aid}]\ntimezone = "UTC"\nfit_inbox = ["inbox-{aid}"]\n'
        self.config = self.inp / "runlift.toml"
        self.config.write_text(text, encoding="utf-8")

    def fill(self) -> None:
        """A warehouse at x/ as a previous night left it: one file per athlete, built and published.

        Made once per set of athletes (in a world of its own, with the same files) and copied into
        x/: the copy is what the night left there, byte for byte (the blob paths stored are
        relative to the warehouse's folder), without importing and building it again for each test."""
        template = _FILLED.get(self.athletes)
        if template is None:
            home = Path(tempfile.mkdtemp(prefix="runlift-options-filled-"))
            atexit.register(shutil.rmtree, home, True)
            World(home, self.athletes).fill_here()
            template = _FILLED[self.athletes] = home / "x"
        shutil.copytree(template, self.x, dirs_exist_ok=True)

    def fill_here(self) -> None:
        from runlift.flows.build import build_warehouse, publish_warehouse
        from runlift.flows.fit_pipeline import import_paths
        from runlift.flows.settings import load_settings

        for aid, path in self.kept.items():
            import_paths(self.db, aid, [str(path)], workers=1)
        settings = load_settings(self.config, db=self.db, require_athlete=False, env={"RUNLIFT_HOME": str(self.x)})
        assert not build_warehouse(settings, AS_OF).failures
        publish_warehouse(settings)

    def tree(self) -> dict[str, tuple[int, str]]:
        """Every file under TMP (size, content hash), relative paths."""
        out = {}
        for p in sorted(self.tmp.rglob("*")):
            if p.is_file():
                data = p.read_bytes()
                out[str(p.relative_to(self.tmp))] = (len(data), hashlib.sha256(data).hexdigest())
        return out

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        from prefect.settings import get_current_settings

        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("RUNLIFT_", "XDG_", "STRAVA_"))}
        env.update(HOME=str(self.home), PREFECT_API_URL=str(get_current_settings().api.url))
        cmd = [sys.executable, "-m", "runlift.flows.cli", *args]
        try:
            return subprocess.run(cmd, cwd=self.cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"runlift {' '.join(args)} still ran after {TIMEOUT_S} s (waiting on the network?)")


def athlete_rows(db: Path, exclude: str | None = None) -> dict[str, tuple[int, str]]:
    """Per raw/ops table with athlete_id: row count and hash of the rows of athletes other than ``exclude``
    (timestamps ``*_at`` aside: a rebuild re-reads every athlete's settings)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = con.execute("""SELECT table_schema || '.' || table_name FROM information_schema.columns
                                WHERE table_schema IN ('raw', 'ops') AND column_name = 'athlete_id'
                                ORDER BY 1""").fetchall()
        out = {}
        for (table,) in tables:
            cols = [r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema || '.' || table_name = ? "
                "AND column_name NOT LIKE '%\\_at' ESCAPE '\\' AND data_type NOT LIKE 'BLOB%' "
                "ORDER BY ordinal_position", [table]).fetchall()]
            rows = con.execute(f"SELECT {', '.join(cols)} FROM {table} WHERE athlete_id IS DISTINCT FROM ? "
                               "ORDER BY ALL", [exclude]).fetchall()
            out[table] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
        return out
    finally:
        con.close()


def check_clear_failure(proc: subprocess.CompletedProcess[str], label: str) -> None:
    assert proc.returncode in (0, 2), f"{label}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    if proc.returncode == 2:
        assert "Traceback" not in proc.stderr, f"{label}:\n{proc.stderr}"
        last = proc.stderr.strip().splitlines()[-1]
        assert last.startswith("runlift: error: ") and len(last) > 30, f"{label}: unclear failure:\n{proc.stderr}"


@pytest.mark.parametrize("filled", [False, True], ids=["no-warehouse-yet", "warehouse-there"])
@pytest.mark.parametrize("path", DB_COMMANDS, ids=" ".join)
def test_db_option_writes_only_there(prefect_server, tmp_path, path, filled):
    w = World(tmp_path, ("ana",))
    if filled:
        w.fill()
    before = w.tree()
    proc = w.run(*path, *args_for(path, w.x), "--config", str(w.config), "--db", str(w.db))
    label = f"runlift {' '.join(path)} --db {w.db}"
    check_clear_failure(proc, label)
    assert not any(w.home.iterdir()), f"{label} wrote under HOME: {sorted(map(str, w.home.rglob('*')))}"
    assert not (w.home / ".local" / "share" / "runlift").exists()
    after = w.tree()
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    outside = [k for k in changed if not k.startswith("x/")]
    assert not outside, f"{label} wrote outside {w.x}: {outside}\n{proc.stderr}"
    # every warehouse, published file or dashboard the command names is the one under x/
    for named in re.findall(r"(?<![\w/])(/[^\s`'\"()]+\.(?:duckdb|html))",
                            (proc.stdout + proc.stderr).replace("file://", "")):
        assert named.startswith(str(w.x) + "/"), f"{label} names {named}\n{proc.stdout}\n{proc.stderr}"
    if path in WRITES_FIT_ROWS:
        assert proc.returncode == 0, f"{label}:\n{proc.stdout}\n{proc.stderr}"
        expected = 2 + (1 if filled else 0)  # the inbox's two files (and the one imported beforehand)
        ok_files = q(w.db, "SELECT count(*) FROM raw.fit_files WHERE athlete_id = 'ana' AND status = 'ok'")[0][0]
        assert ok_files == expected
    if path in {("sync",), ("backfill",)}:
        assert f"Warehouse: `{w.db}`" in proc.stdout, proc.stdout
        assert (w.x / "wh.published.duckdb").exists() and (w.x / "wh-dashboard.html").exists()
        assert " mi |" in proc.stdout and " km |" not in proc.stdout, proc.stdout  # --units imperial


@pytest.mark.parametrize("path", ATHLETE_COMMANDS, ids=" ".join)
def test_athlete_option_writes_that_athletes_rows_only(prefect_server, tmp_path, path):
    w = World(tmp_path, ("ana", "bob"))
    w.fill()
    others_before = athlete_rows(w.db, exclude="bob")
    bob_files = q(w.db, "SELECT count(*) FROM raw.fit_files WHERE athlete_id = 'bob'")[0][0]
    proc = w.run(*path, *args_for(path, w.x), "--config", str(w.config), "--db", str(w.db), "--athlete", "bob")
    label = f"runlift {' '.join(path)} --athlete bob"
    check_clear_failure(proc, label)
    assert athlete_rows(w.db, exclude="bob") == others_before, f"{label} changed other athletes' rows\n{proc.stdout}"
    if path in WRITES_FIT_ROWS:
        assert proc.returncode == 0, f"{label}:\n{proc.stdout}\n{proc.stderr}"
        assert q(w.db, "SELECT count(*) FROM raw.fit_files WHERE athlete_id = 'bob'")[0][0] == bob_files + 2
    if path in {("sync",), ("backfill",)}:
        assert "| bob |" in proc.stdout and "| ana |" not in proc.stdout, proc.stdout


def test_sync_without_athlete_is_every_athlete(prefect_server, tmp_path):
    w = World(tmp_path, ("ana", "bob"))
    proc = w.run("sync", "--config", str(w.config), "--db", str(w.db), "--as-of", AS_OF.isoformat())
    assert proc.returncode == 0, proc.stderr
    assert q(w.db, "SELECT athlete_id, count(*) FROM raw.fit_files GROUP BY 1 ORDER BY 1") == [("ana", 2), ("bob", 2)]
    assert "every athlete into " + str(w.db) in proc.stderr


def test_nightly_flows_take_the_overrides(prefect_server, tmp_path):
    from runlift.flows.nightly import backfill, nightly_sync

    w = World(tmp_path, ("ana", "bob"))
    w.config.write_text('[warehouse]\npath = "configured.duckdb"\n' + w.config.read_text(), encoding="utf-8")
    report = nightly_sync(config=str(w.config), db=str(w.db), athlete="bob", units="imperial", as_of=AS_OF)
    assert report.warehouse == w.db and f"Warehouse: `{w.db}`" in report.markdown
    assert report.published == w.x / "wh.published.duckdb" and report.dashboard == w.x / "wh-dashboard.html"
    assert not (w.inp / "configured.duckdb").exists()
    assert q(w.db, "SELECT athlete_id, count(*) FROM raw.fit_files GROUP BY 1") == [("bob", 2)]
    assert " mi |" in report.markdown and " km |" not in report.markdown
    assert list(report.fit) == ["bob"]

    again = backfill(config=str(w.config), db=str(w.db), athlete="ana", as_of=AS_OF)
    assert again.warehouse == w.db and list(again.fit) == ["ana"] and " km |" in again.markdown
    assert q(w.db, "SELECT athlete_id, count(*) FROM raw.fit_files GROUP BY 1 ORDER BY 1") == [("ana", 2), ("bob", 2)]

    # the parameters scripts already pass still work: the settings file's warehouse, every athlete
    plain = nightly_sync(config=str(w.config), as_of=AS_OF)
    assert plain.warehouse == w.inp / "configured.duckdb" and sorted(plain.fit) == ["ana", "bob"]


def test_import_fit_inbox_flow_takes_db(prefect_server, tmp_path):
    from runlift.flows.import_fit import import_fit_inbox

    w = World(tmp_path, ("ana", "bob"))
    results = import_fit_inbox(config=str(w.config), athlete="ana", db=str(w.db))
    assert list(results) == ["ana"] and results["ana"].files_new == 2
    assert q(w.db, "SELECT athlete_id, count(*) FROM raw.fit_files GROUP BY 1") == [("ana", 2)]
    assert not (w.home / ".local").exists()


def test_a_deployment_takes_the_overrides(prefect_server, tmp_path):
    """prefect.yaml deployed and run through a process worker with db, athlete and units."""
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.settings import get_current_settings

    from conftest import ROOT

    w = World(tmp_path, ("ana", "bob"))
    w.config.write_text('[warehouse]\npath = "configured.duckdb"\n' + w.config.read_text(), encoding="utf-8")
    env = {**os.environ, "PREFECT_API_URL": str(get_current_settings().api.url),
           "PREFECT_HOME": str(tmp_path / "prefect-home")}
    prefect = str(Path(sys.executable).with_name("prefect"))
    for args in (("work-pool", "create", "runlift", "--type", "process", "--overwrite"), ("deploy", "--all")):
        proc = subprocess.run([prefect, "--no-prompt", *args], capture_output=True, text=True, env=env, cwd=ROOT,
                              timeout=TIMEOUT_S)
        assert proc.returncode == 0, f"prefect {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"

    async def inspect_and_run() -> str:
        async with get_client() as client:
            nightly = await client.read_deployment_by_name("nightly_sync/nightly")
            backfill = await client.read_deployment_by_name("backfill/backfill")
            inbox = await client.read_deployment_by_name("import_fit_inbox/fit-inbox")
            for dep in (nightly, backfill):
                assert dep.parameters == {"config": None, "db": None, "athlete": None, "units": None}
            assert inbox.parameters == {"config": None, "db": None, "athlete": None}
            run = await client.create_flow_run_from_deployment(nightly.id, parameters={
                "config": str(w.config), "db": str(w.db), "athlete": "bob", "units": "imperial",
                "as_of": AS_OF.isoformat()})
            return str(run.id)

    run_id = asyncio.run(inspect_and_run())
    worker = subprocess.run([prefect, "worker", "start", "--pool", "runlift", "--run-once", "--type", "process"],
                            capture_output=True, text=True, env=env, cwd=w.cwd, timeout=400)

    async def final_state() -> object:
        async with get_client() as client:
            return (await client.read_flow_run(run_id)).state

    state = asyncio.run(final_state())
    assert state is not None and state.is_completed(), f"{state}\n{worker.stdout[-3000:]}\n{worker.stderr[-3000:]}"
    assert not (w.inp / "configured.duckdb").exists()
    assert q(w.db, "SELECT athlete_id, count(*) FROM raw.fit_files GROUP BY 1") == [("bob", 2)]
    assert (w.x / "wh.published.duckdb").exists() and (w.x / "wh-dashboard.html").exists()


def test_demo_writes_under_its_folder_whatever_the_environment(prefect_server, tmp_path, monkeypatch):
    """`runlift demo --units imperial` with RUNLIFT_DB and RUNLIFT_UNITS set elsewhere: its folder only."""
    from runlift.flows.demo import run_demo

    elsewhere = tmp_path / "elsewhere"
    monkeypatch.setenv("RUNLIFT_DB", str(elsewhere / "other.duckdb"))
    monkeypatch.setenv("RUNLIFT_UNITS", "metric")
    lines: list[str] = []
    db = run_demo(tmp_path / "demo", weeks=2, units="imperial", echo=lines.append, end_date=AS_OF)
    assert db == tmp_path / "demo" / "runlift.duckdb" and db.exists()
    assert not elsewhere.exists()
    assert q(tmp_path / "demo" / "runlift.published.duckdb", "SELECT count(*) FROM marts.fct_activities")[0][0] > 0
