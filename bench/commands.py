#!/usr/bin/env python3
"""Benchmark: the everyday commands against the engine's own time (issue 13, item 1).

    .venv/bin/python bench/commands.py [--files N] [--rounds R] [--out DIR] [--with-prefect]

1. The Garmin-export-style archive of bench/fit_import.py (N files, cached in OUT).
2. Import, R rounds, each into a fresh warehouse:
   - engine: a Python process that calls flows.fit_pipeline.import_paths on the archive (start-up
     and imports included, as for the command);
   - command: `runlift import-fit --db ... --no-build ARCHIVE` without a Prefect server configured
     (PREFECT_API_URL unset, an empty PREFECT_HOME): the direct path.
   Target: the command's median within 1.1x of the engine's median.
   With --with-prefect, also `runlift import-fit --prefect` (a temporary Prefect server), for reference.
3. A nightly `runlift sync` with nothing new: a settings file whose athlete's fit_inbox holds the
   archive, one sync to import and build, then R syncs that find nothing new (the archive is not
   read again, the marts are not rebuilt; each still refreshes the published file's pipeline state,
   writes the dashboard and prints the report). Target: median under 3 s. Reported beside it: the
   same night's engine time (flows.night.run_night in one process), and the builds the nights
   with nothing new ran (ops.builds; expected 0).

Machines here are noisy: medians and ratios from the same run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

IMPORT_RATIO_TARGET = 1.1
SYNC_TARGET_S = 3.0


def log(msg: str = "") -> None:
    print(msg, flush=True)


def clean_env(prefect_home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "RUNLIFT_", "STRAVA_"))}
    env.update(PREFECT_HOME=str(prefect_home), PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1")
    return env


def timed(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=3000, help="files in the archive (default 3000)")
    ap.add_argument("--rounds", type=int, default=3, help="timed runs of each (default 3)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out", help="work folder (default bench/out)")
    ap.add_argument("--with-prefect", action="store_true", help="also time import-fit --prefect (temporary server)")
    a = ap.parse_args()
    import fit_import

    out = a.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    manifest, cached = fit_import.load_or_generate(out, a.files)
    archive, _ = fit_import._archive_paths(out, a.files)
    log(f"archive {archive.name}: {a.files} files ({'cached' if cached else 'generated'}), "
        f"{os.cpu_count()} CPUs, python {sys.version.split()[0]}")
    runlift = [sys.executable, "-m", "runlift.flows.cli"]
    work = Path(tempfile.mkdtemp(prefix="runlift-bench-commands-", dir=out))
    try:
        env = clean_env(work / "prefect-home")
        (work / "prefect-home").mkdir()
        engine_code = ("import sys; from pathlib import Path; from runlift.flows.fit_pipeline import import_paths; "
                       "s = import_paths(Path(sys.argv[1]), 'me', [sys.argv[2]]); "
                       "assert s.files_new > 0, s.lines()")
        rows: dict[str, list[float]] = {"engine": [], "command": [], "command --prefect": []}
        for r in range(a.rounds):
            for kind in ("engine", "command") + (("command --prefect",) if a.with_prefect else ()):
                db = work / f"{kind.replace(' ', '_')}-{r}.duckdb"
                if kind == "engine":
                    cmd = [sys.executable, "-c", engine_code, str(db), str(archive)]
                else:
                    cmd = [*runlift, "import-fit", "--db", str(db), "--no-build", str(archive)]
                    if kind == "command --prefect":
                        cmd.insert(-1, "--prefect")
                rows[kind].append(timed(cmd, env))
                log(f"  import round {r + 1}: {kind:<18} {rows[kind][-1]:6.2f} s")
                for p in work.glob(f"{kind.replace(' ', '_')}-{r}.*"):
                    shutil.rmtree(p) if p.is_dir() else p.unlink()
        eng, cmd_med = statistics.median(rows["engine"]), statistics.median(rows["command"])
        ratio = cmd_med / eng

        # a night with nothing new
        inbox = work / "inbox"
        inbox.mkdir()
        shutil.copy(archive, inbox / archive.name)
        cfg = work / "runlift.toml"
        cfg.write_text(f'[warehouse]\npath = "{work / "night.duckdb"}"\n[athletes.me]\ntimezone = "UTC"\n'
                       f'fit_inbox = ["{inbox}"]\n', encoding="utf-8")
        first = timed([*runlift, "sync", "--config", str(cfg)], env)
        syncs = [timed([*runlift, "sync", "--config", str(cfg)], env) for _ in range(a.rounds)]
        night_code = ("import sys; from runlift.flows.night import run_night; "
                      "r = run_night(sys.argv[1], full=False, wait=False, as_of=None); assert r.ok, r.failures")
        nights = [timed([sys.executable, "-c", night_code, str(cfg)], env) for _ in range(a.rounds)]
        import duckdb

        con = duckdb.connect(str(work / "night.duckdb"), read_only=True)
        try:
            rebuilt = con.execute("SELECT count(*) - 1 FROM ops.builds").fetchone()[0]
        finally:
            con.close()
        sync_med, night_med = statistics.median(syncs), statistics.median(nights)
        prefect_home_used = any((work / "prefect-home").iterdir())
    finally:
        shutil.rmtree(work, ignore_errors=True)

    log("")
    log("=" * 78)
    log(f"commands: {a.files}-file archive, {a.rounds} rounds, medians")
    log(f"import-fit, engine (import_paths in a fresh process): {eng:6.2f} s  {rows['engine']}")
    log(f"import-fit, command (no Prefect server configured):   {cmd_med:6.2f} s  {rows['command']}")
    if a.with_prefect:
        pm = statistics.median(rows["command --prefect"])
        log(f"import-fit --prefect (temporary server):              {pm:6.2f} s  ({pm / eng:.2f}x the engine)")
    log(f"  ratio command/engine: {ratio:.3f}  target <= {IMPORT_RATIO_TARGET}: "
        f"{'PASS' if ratio <= IMPORT_RATIO_TARGET else 'FAIL'}")
    log(f"sync, first night (imports {a.files} files, builds, publishes): {first:6.2f} s")
    log(f"sync, nothing new: {sync_med:6.2f} s  {[round(x, 2) for x in syncs]}; engine (run_night in a fresh "
        f"process) {night_med:6.2f} s; target < {SYNC_TARGET_S:g} s: {'PASS' if sync_med < SYNC_TARGET_S else 'FAIL'}")
    log(f"builds run by the {2 * a.rounds} nights with nothing new: {rebuilt}")
    log(f"Prefect home touched by the commands: {'YES' if prefect_home_used else 'no'}")
    log("=" * 78)
    return 0 if ratio <= IMPORT_RATIO_TARGET and sync_med < SYNC_TARGET_S and not prefect_home_used else 1


if __name__ == "__main__":
    sys.exit(main())
