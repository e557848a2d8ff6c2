"""Fuzz: mutated Hevy answers (tests/hevy_fuzz.py) through a real socket server, the real client,
sync and loader, into a real DuckDB file. A small fixed budget (a few seconds)."""

from __future__ import annotations

from hevy_fuzz import CASE_SECONDS, HevyFuzzer

CASES = 25


def test_mutated_hevy_answers_never_crash_hang_or_leak(tmp_path):
    with HevyFuzzer(tmp_path / "fuzz", seed=1) as fuzzer:
        out = fuzzer.run(cases=CASES)
    assert out.cases == CASES
    assert out.crashes == []
    assert out.slowest_s < CASE_SECONDS
    # the mutations reach every ending, so the loader is exercised too, not only the error paths
    assert out.statuses.get("complete", 0) >= 3 and out.statuses.get("failed", 0) >= 3


def test_odd_text_and_times_become_values_not_failures():
    # found by the fuzzer: a lone surrogate (valid JSON "\ud800") failed the whole run at the insert, and a
    # time at the calendar's edge overflowed on conversion to UTC
    from runlift.connectors.hevy.rows import workout_rows

    rows = workout_rows({"id": "w1", "title": "Leg \ud800 Day", "start_time": "9999-12-31T23:59:59-14:00",
                         "exercises": [{"index": 0, "title": "Squat \ud800", "sets": [{"index": 0, "reps": 5}]}]})
    assert rows is not None
    assert rows.workout["title"] == "Leg ? Day"
    assert rows.workout["start_time_utc"] is None
    assert rows.sets[0]["exercise_title"] == "Squat ?"
    rows.workout["payload_json"].encode("utf-8")  # storable
    assert any("is not a time" in p for p in rows.problems)


def test_garmin_connect_odd_values_are_skipped_with_a_reason():
    # the same edges in Garmin Connect's answers: a time leaving the calendar in UTC, ids beyond BIGINT,
    # a name with a lone surrogate
    from runlift.connectors.garmin.rows import ListedActivity, listed_activity, weigh_in_rows

    assert "startTimeGMT" in str(listed_activity({"activityId": 7, "startTimeGMT": "9999-12-31T23:59:59-14:00"}))
    assert "activityId" in str(listed_activity({"activityId": 2**70, "startTimeGMT": "2026-01-01T00:00:00Z"}))
    ok = listed_activity({"activityId": 7, "startTimeGMT": "2026-01-01T00:00:00Z", "activityName": "Run \ud800"})
    assert isinstance(ok, ListedActivity) and ok.name == "Run ?"
    rows, problems = weigh_in_rows({"dailyWeightSummaries": [{"allWeightMetrics": [
        {"samplePk": 2**64, "timestampGMT": 1767225600000, "calendarDate": "2026-01-01", "weight": 70000}]}]})
    assert rows == [] and problems == ["a weigh-in without a samplePk was skipped"]
