"""Fuzz: mutated Strava answers (tests/strava_fuzz.py) through a real socket server, the real client
and loader, into a real DuckDB file. A small fixed budget here; bench/fuzz_strava.py runs longer."""

from __future__ import annotations

from strava_fuzz import CASE_SECONDS, StravaFuzzer

CASES = 20  # a few seconds (about 0.2 s a case on a quiet machine)


def test_mutated_strava_answers_never_crash_hang_or_leak(tmp_path):
    with StravaFuzzer(tmp_path / "fuzz", seed=20261206) as fuzzer:
        out = fuzzer.run(cases=CASES)
    assert out.cases == CASES
    assert out.crashes == []
    assert out.slowest_s < CASE_SECONDS
    # the mutations reach every ending, so the loader is exercised too, not only the error paths
    assert out.statuses.get("complete", 0) >= 3 and out.statuses.get("failed", 0) >= 3
