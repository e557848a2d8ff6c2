#!/usr/bin/env python3
"""Fuzz the Strava path for longer than the test suite does.

    .venv/bin/python bench/fuzz_strava.py [--seconds 120] [--seed 1] [--seeds 1]

Each case is one ``sync_athlete`` run against a hostile local server (tests/hostile_http.py) that
answers with mutated activity pages, token answers, streams, details and rate-limit headers
(tests/strava_fuzz.py), into a real DuckDB file under a temporary folder. A crash is an exception
escaping the sync, a run without its ``ops.strava_sync_runs`` row, a message over 500 characters,
on several lines or holding a secret, or a case slower than 15 s. Prints the number of cases, the
endings, the slowest case and every crash; the exit status is 1 when there was any.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--seconds", type=float, default=120.0, help="time budget for each seed")
    ap.add_argument("--seed", type=int, default=1, help="first seed")
    ap.add_argument("--seeds", type=int, default=1, help="how many seeds (each with its own warehouse)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="runlift-fuzz-") as tmp:
        os.environ["RUNLIFT_HOME"] = str(Path(tmp) / "home")
        from strava_fuzz import StravaFuzzer

        total, crashes, statuses, slowest = 0, [], {}, 0.0
        t0 = time.monotonic()
        for seed in range(args.seed, args.seed + args.seeds):
            with StravaFuzzer(Path(tmp) / f"seed-{seed}", seed) as fuzzer:
                out = fuzzer.run(seconds=args.seconds)
            total += out.cases
            crashes += out.crashes
            slowest = max(slowest, out.slowest_s)
            for k, v in out.statuses.items():
                statuses[k] = statuses.get(k, 0) + v
            print(f"seed {seed}: {out.cases} cases, {out.statuses}, {len(out.crashes)} crashes", flush=True)
    print(f"{total} cases in {time.monotonic() - t0:.0f} s; endings {statuses}; slowest case {slowest:.2f} s; "
          f"{len(crashes)} crashes")
    for c in crashes:
        print("----\n" + c)
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
