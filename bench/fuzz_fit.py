#!/usr/bin/env python3
"""Fuzz: mutated FIT files through runlift's real import, for a time budget.

    .venv/bin/python bench/fuzz_fit.py [--seconds S] [--seed N] [--workers W] [--corpus] [--out DIR]

Each case is one mutated file (tests/hostile_fit.py: bit flips, truncation, field size / type
changes, absurd values, duplicated or dropped messages, definitions of up to 255 fields of 255
bytes) of a synthetic run or strength session (and, with --corpus, of the small files of
../shared/fit-corpus), imported with a distinct good file beside it by
flows.fit_pipeline.import_sources into a real DuckDB warehouse (a fresh one every 500 cases).

Counted: cases; crashes (the import raised); hangs (a case over --case-timeout s, stopped by
SIGALRM); wrong outcomes (the good file beside it not imported ok, a case file not recorded, a
kept blob without its row); the slowest case; peak memory (ru_maxrss of this process and its
decoding processes). Inputs that crash, hang or go wrong are written to OUT for a test.
Exit status 1 if any case crashed, hung or went wrong.
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import signal
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import hostile_fit as h  # noqa: E402
from connectors.fit.sources import FitSource  # noqa: E402
from flows.fit_pipeline import import_sources  # noqa: E402
from warehouse import db as wdb  # noqa: E402

CORPUS = ROOT.parent / "shared" / "fit-corpus"


class Hang(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise Hang()


def bases(with_corpus: bool) -> list[tuple[str, bytes]]:
    out = [("synthetic run", h.run(1, 120)), ("synthetic strength", h.strength(1))]
    if with_corpus and CORPUS.is_dir():
        out += [(str(p.relative_to(CORPUS)), p.read_bytes()) for p in sorted(CORPUS.rglob("*"))
                if p.suffix.lower() == ".fit" and p.stat().st_size < 200_000]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=120.0, help="time budget (default 120)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=1, help="decoding processes (default 1: in this process)")
    ap.add_argument("--case-timeout", type=float, default=20.0, help="a case slower than this is a hang")
    ap.add_argument("--corpus", action="store_true", help="mutate the small corpus files too")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "fuzz_fit")
    args = ap.parse_args()
    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    rng = random.Random(args.seed)
    seeds = bases(args.corpus)
    signal.signal(signal.SIGALRM, _alarm)
    cases = crashes = hangs = wrong = 0
    slowest = (0.0, -1)
    t_end = time.monotonic() + args.seconds
    con = None
    db = args.out / "w0.duckdb"
    try:
        while time.monotonic() < t_end:
            if cases % 500 == 0:
                if con is not None:
                    con.close()
                db = args.out / f"w{cases // 500}.duckdb"
                con = wdb.connect(db)
            assert con is not None
            name, base = rng.choice(seeds)
            data = h.mutate(base, rng)
            good = h.vary_run(cases + 1)
            problem = ""
            t0 = time.perf_counter()
            signal.setitimer(signal.ITIMER_REAL, args.case_timeout)
            try:
                s = import_sources(con, wdb.blob_dir(db), "me", [FitSource(f"case{cases}.fit", data),
                                                                 FitSource(f"good{cases}.fit", good)],
                                   workers=args.workers)
                signal.setitimer(signal.ITIMER_REAL, 0)
                got = con.execute("SELECT first_path, status FROM raw.fit_files WHERE first_path IN (?, ?)",
                                  [f"case{cases}.fit", f"good{cases}.fit"]).fetchall()
                statuses = dict(got)
                if statuses.get(f"good{cases}.fit") != "ok":
                    problem = f"wrong: good file {statuses.get(f'good{cases}.fit')}"
                elif f"case{cases}.fit" not in statuses and s.files_known == 0:
                    problem = "wrong: case file not recorded"
            except Hang:
                hangs += 1
                problem = "hang"
            except Exception:
                signal.setitimer(signal.ITIMER_REAL, 0)
                crashes += 1
                problem = "crash: " + traceback.format_exc(limit=3).strip().splitlines()[-1]
            dt = time.perf_counter() - t0
            if dt > slowest[0]:
                slowest = (dt, cases)
            if problem.startswith("wrong"):
                wrong += 1
            if problem:
                (args.out / f"case{cases}.fit").write_bytes(data)
                print(f"case {cases} (from {name}): {problem}", flush=True)
            cases += 1
    finally:
        if con is not None:
            con.close()
    orphans = 0
    for w in sorted(args.out.glob("w*.duckdb")):
        c = wdb.connect(w, read_only=True)
        rows = {r[0] for r in c.execute("SELECT file_sha256 FROM raw.fit_files").fetchall()}
        c.close()
        orphans += len({p.name.removesuffix(".fit.gz") for p in wdb.blob_dir(w).rglob("*.fit.gz")} - rows)
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    print(f"FIT fuzz: {cases} cases in {args.seconds:.0f} s (seed {args.seed}, workers {args.workers}, "
          f"{len(seeds)} seed files): {crashes} crashes, {hangs} hangs, {wrong} wrong outcomes, "
          f"{orphans} orphan blobs; slowest case {slowest[0]:.2f} s (case {slowest[1]}); peak RSS {peak:.0f} MB")
    return 1 if crashes or hangs or wrong or orphans else 0


if __name__ == "__main__":
    sys.exit(main())
