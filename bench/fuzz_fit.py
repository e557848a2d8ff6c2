#!/usr/bin/env python3
"""Fuzz: mutated FIT files through runlift's real import, for a time budget.

    .venv/bin/python bench/fuzz_fit.py [--seconds S] [--seed N] [--workers W] [--corpus] [--out DIR]

Each case is one mutated file (standins/hostile_fit.py: bit flips, truncation, field size / type
changes, absurd values, duplicated or dropped messages, definitions of up to 255 fields of 255
bytes) of a synthetic run or strength session (and, with --corpus, of the small files of
../shared/fit-corpus), imported with a distinct good file beside it by
flows.fit_pipeline.import_sources into a real DuckDB warehouse (a fresh one every 500 cases).

Cases go in batches (--batch; 16 with --workers > 1, so that the decoding processes do the
work), one import per batch. Counted: cases; crashes (the import raised); hangs (a batch over
--case-timeout s per case, stopped by SIGALRM); wrong outcomes (a good file not imported ok, a
file not seen); orphan blobs (a kept blob without its row); the slowest case; peak memory
(ru_maxrss of this process and of its decoding processes). Inputs that crash, hang or go wrong are
written to OUT for a test. Exit status 1 if any case crashed, hung or went wrong.
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

from runlift.connectors.fit.sources import FitSource
from runlift.flows.fit_pipeline import import_sources
from runlift.standins import hostile_fit as h
from runlift.warehouse import db as wdb

ROOT = Path(__file__).resolve().parent.parent

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
    ap.add_argument("--batch", type=int, default=0,
                    help="cases per import (default 1; with --workers > 1, 16, so the decoding processes are used)")
    ap.add_argument("--corpus", action="store_true", help="mutate the small corpus files too")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "fuzz_fit")
    args = ap.parse_args()
    args.batch = args.batch or (16 if args.workers > 1 else 1)
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
    opened = 0
    db = args.out / "w0.duckdb"
    try:
        while time.monotonic() < t_end:
            if con is None or cases - opened >= 500:
                if con is not None:
                    con.close()
                db = args.out / f"w{cases}.duckdb"
                con, opened = wdb.connect(db), cases
            assert con is not None
            batch = []
            for k in range(args.batch):
                name, base = rng.choice(seeds)
                batch.append((cases + k, name, h.mutate(base, rng), h.vary_run(cases + k + 1)))
            sources = [FitSource(f"{kind}{i}.fit", d) for i, _, data, good in batch
                       for kind, d in (("case", data), ("good", good))]
            problem = ""
            t0 = time.perf_counter()
            signal.setitimer(signal.ITIMER_REAL, args.case_timeout * len(batch))
            try:
                s = import_sources(con, wdb.blob_dir(db), "me", sources, workers=args.workers)
                signal.setitimer(signal.ITIMER_REAL, 0)
                names = [src.path for src in sources]
                statuses = dict(con.execute("SELECT first_path, status FROM raw.fit_files "
                                            "WHERE list_contains(?, first_path)", [names]).fetchall())
                bad_good = [n for n in names if n.startswith("good") and statuses.get(n) != "ok"]
                if bad_good:
                    problem = f"wrong: good file(s) not ok: {bad_good[:3]}"
                elif s.files_seen != len(sources):
                    problem = f"wrong: {s.files_seen} of {len(sources)} files seen"
            except Hang:
                hangs += 1
                problem = "hang"
            except Exception:
                signal.setitimer(signal.ITIMER_REAL, 0)
                crashes += 1
                problem = "crash: " + traceback.format_exc(limit=3).strip().splitlines()[-1]
            dt = (time.perf_counter() - t0) / len(batch)
            if dt > slowest[0]:
                slowest = (dt, cases)
            if problem.startswith("wrong"):
                wrong += 1
            if problem:
                for i, _name, data, _ in batch:
                    (args.out / f"case{i}.fit").write_bytes(data)
                print(f"cases {cases}..{cases + len(batch) - 1}: {problem}", flush=True)
            cases += len(batch)
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
          f"{orphans} orphan blobs; slowest case {slowest[0]:.2f} s (mean of its batch of {args.batch}; case "
          f"{slowest[1]}); peak RSS {peak:.0f} MB")
    return 1 if crashes or hangs or wrong or orphans else 0


if __name__ == "__main__":
    sys.exit(main())
