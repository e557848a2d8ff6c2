"""Fuzz: mutated Garmin Connect answers (tests/garmin_fuzz.py) through a real socket server, the real
client, sync, FIT import and loader, into a real DuckDB file. A small fixed budget."""

from __future__ import annotations

from garmin_fuzz import CASE_SECONDS, GarminFuzzer

CASES = 20


def test_mutated_garmin_connect_answers_never_crash_hang_or_leak(tmp_path):
    with GarminFuzzer(tmp_path / "fuzz", seed=1) as fuzzer:
        out = fuzzer.run(cases=CASES)
    assert out.cases == CASES
    assert out.crashes == [], "\n".join(out.crashes[:5])
    assert out.slowest_s < CASE_SECONDS
    # the mutations reach more than one ending, so the loader is exercised too, not only the error paths
    assert out.statuses.get("complete", 0) >= 3 and out.statuses.get("failed", 0) >= 3, out.statuses
