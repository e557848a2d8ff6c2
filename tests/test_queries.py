"""runlift.warehouse.queries: the questions flows/ asks, on a real warehouse file filled by hand,
answered the same from the working warehouse and from the published copy."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from runlift.warehouse import db as wdb
from runlift.warehouse import queries
from runlift.warehouse.publish import publish

from marts_fixtures import NOW, Warehouse, athlete, d, t

AS_OF = d("2025-03-16")  # a Sunday: the week of 2025-03-10 is complete


def _sync_run(con: duckdb.DuckDBPyConnection, run_id: str, athlete_id: str, finished: str, status: str,
              message: str | None, calls: int) -> None:
    con.execute("INSERT INTO ops.strava_sync_runs (run_id, athlete_id, started_at, finished_at, api_calls, status, "
                "message) VALUES (?, ?, ?, ?, ?, ?, ?)", [run_id, athlete_id, t(finished), t(finished), calls, status,
                                                          message])


def _counts(**over: int) -> queries.ImportRunCounts:
    base = dict(files_seen=0, files_new=0, files_known=0, files_ok=0, files_partial=0, files_rejected=0,
                files_skipped=0, sessions=0, sets=0, records=0, bytes_read=0)
    return queries.ImportRunCounts(**(base | over))


@pytest.fixture
def filled(tmp_path):
    """Two athletes: FIT files (one rejected), Strava activities (one deleted, one ride), sync runs,
    rate-limit observations, import runs, built marts; and the published copy."""
    w = Warehouse(tmp_path / "w.duckdb")
    con = w.con
    gym = [("SQUAT", 5, 100.0), ("DEADLIFT", 5, 120.0), ("BENCH_PRESS", 5, 60.0)]
    for day in ("2025-03-03", "2025-03-05", "2025-03-11", "2025-03-13"):
        w.fit("ann", t(f"{day}T07:00:00"), sport="training", sub_sport="strength_training", distance_m=None,
              sets=gym)
    w.fit("bob", t("2025-03-04T18:00:00"), distance_m=8000.0, strides=3800)
    bad = w.fit("bob", t("2025-03-06T18:00:00"))
    con.execute("UPDATE raw.fit_files SET status = 'rejected', error = 'file CRC mismatch', n_sessions = 0, "
                "imported_at = ? WHERE file_sha256 LIKE ?", [NOW + dt.timedelta(hours=1), bad.split(":")[1] + "%"])
    con.execute("DELETE FROM raw.fit_sessions WHERE file_sha256 LIKE ?", [bad.split(":")[1] + "%"])
    w.strava("ann", 1, t("2025-03-04T06:00:00"), distance_m=10000.0)
    w.strava("ann", 2, t("2025-03-12T06:00:00"), distance_m=21100.0)
    w.strava("ann", 3, t("2025-03-08T06:00:00"), sport_type="Ride", distance_m=40000.0)
    w.strava("ann", 4, t("2025-03-09T06:00:00"), distance_m=5000.0)
    con.execute("UPDATE raw.strava_activities SET deleted_at = ? WHERE activity_id = 4", [NOW])
    con.execute("UPDATE raw.strava_activities SET streams_status = 'ok' WHERE activity_id IN (1, 2)")
    _sync_run(con, "r1", "ann", "2025-03-15T03:00:00", "complete", None, 12)
    _sync_run(con, "r2", "ann", "2025-03-16T03:00:00", "rate_limited", "429 from Strava", 100)
    _sync_run(con, "r3", "bob", "2025-03-14T03:00:00", "complete", None, 3)
    con.execute("INSERT INTO ops.strava_rate_limit (app, observed_at, read_limit_15, read_limit_day, read_usage_15, "
                "read_usage_day) VALUES ('old', ?, 100, 1000, 10, 10), ('new', ?, 100, 1000, 60, 700)",
                [t("2025-03-15T03:00:00"), t("2025-03-16T03:05:00")])
    queries.record_import_run(con, "i1", "ann", "fit", t("2025-03-15T02:00:00"), _counts(files_seen=4, files_new=4))
    queries.record_import_run(con, "i2", "bob", "fit-reprocess", t("2025-03-16T02:00:00"),
                              _counts(files_seen=2, files_new=0, files_known=2, files_ok=1, files_rejected=1,
                                      sessions=1, sets=0, records=0, bytes_read=2000))
    w.build(AS_OF, [athlete("ann"), athlete("bob")])
    published = publish(con, tmp_path / "p.duckdb").path
    pub = duckdb.connect(str(published), read_only=True)
    yield con, pub
    pub.close()
    w.close()


def test_fit_and_strava_counts_from_either_file(filled):
    con, pub = filled
    for c, published in ((con, False), (pub, True)):
        assert queries.fit_file_counts(c, published=published) == [
            queries.FitFileCount("ann", "ok", 4, 4, 0),
            queries.FitFileCount("bob", "ok", 1, 1, 0),
            queries.FitFileCount("bob", "rejected", 1, 0, 0)]
        # the deleted run counts as deleted only; the ride is an activity but not running distance
        assert queries.strava_activity_counts(c, published=published) == [
            queries.StravaActivityCount("ann", 3, 31100.0, 1, 2)]
        problems = queries.fit_files_not_ok(c, published=published)
        assert [(p.status, p.error) for p in problems] == [("rejected", "file CRC mismatch")]
        assert problems[0].first_path.startswith("/fit/")
        assert queries.fit_files_not_ok(c, published=published, athlete_id="ann") == []
        assert len(queries.fit_files_not_ok(c, published=published, athlete_id="bob")) == 1


def test_pipeline_state(filled):
    con, pub = filled
    for c in (con, pub):
        assert queries.last_strava_sync_runs(c) == [
            queries.StravaSyncRun("ann", t("2025-03-16T03:00:00"), "rate_limited", "429 from Strava", 100),
            queries.StravaSyncRun("bob", t("2025-03-14T03:00:00"), "complete", None, 3)]
        assert queries.strava_rate_budget(c) == queries.StravaRateBudget("new", t("2025-03-16T03:05:00"), 40, 300)
        last = queries.last_import_run(c)
        assert (last.source, last.athlete_id, last.files_new, last.files_seen) == ("fit-reprocess", "bob", 0, 2)
    row = con.execute("SELECT * FROM ops.import_runs WHERE run_id = 'i2'").fetchone()
    assert row[:4] == ("i2", "bob", "fit-reprocess", t("2025-03-16T02:00:00"))
    assert row[4] is not None and row[4] >= t("2025-03-16T02:00:00")  # finished: when it was recorded
    assert row[5:] == (2, 0, 2, 1, 0, 1, 0, 1, 0, 0, 2000)
    stamp = queries.published_stamp(pub)
    assert stamp.as_of_date == AS_OF and stamp.published_at <= wdb.utcnow()


def test_empty_pipeline_state(tmp_path):
    w = Warehouse(tmp_path / "empty.duckdb")
    try:
        assert queries.fit_file_counts(w.con) == []
        assert queries.strava_activity_counts(w.con) == []
        assert queries.last_strava_sync_runs(w.con) == []
        assert queries.strava_rate_budget(w.con) is None
        assert queries.last_import_run(w.con) is None
        assert queries.kept_fit_files(w.con) == []
    finally:
        w.close()


def test_kept_fit_files(filled):
    con, _ = filled
    kept = queries.kept_fit_files(con)
    assert [k.athlete_id for k in kept] == ["ann"] * 4 + ["bob"] * 2
    assert [k.status for k in kept if k.athlete_id == "bob"] == ["ok", "rejected"]  # by import time
    assert all(k.blob_path == f"blobs/{k.file_sha256}" for k in kept)
    assert queries.kept_fit_files(con, "bob") == [k for k in kept if k.athlete_id == "bob"]
    assert queries.kept_fit_files(con, "nobody") == []


def test_latest_weeks(filled):
    con, pub = filled
    for c in (con, pub):
        weeks = queries.latest_weeks(c)
        assert [(w.athlete_id, w.week_start) for w in weeks] == [("ann", d("2025-03-10")), ("bob", d("2025-03-10"))]
        ann = weeks[0]
        mart = c.execute("SELECT * FROM marts.weekly_training_balance WHERE athlete_id = 'ann' "
                         "AND week_start = '2025-03-10'").fetchone()
        names = [x[0] for x in c.description]
        for field in ("run_distance_m", "run_count", "longest_run_m", "strength_sessions", "strength_volume_load_kg",
                      "strength_share_of_session_load", "impact_load_kbw", "hard_sets_lower", "hard_sets_upper",
                      "posterior_anterior_ratio_4w", "flags_count"):
            assert getattr(ann, field) == mart[names.index(field)], field
        assert (ann.run_count, ann.run_distance_m, ann.longest_run_m, ann.strength_sessions) == (1, 21100.0, 21100.0, 2)
        assert ann.strength_volume_load_kg == pytest.approx(2 * (500 + 600 + 300))
        assert queries.latest_weeks(c, ["bob"]) == weeks[1:]
        assert queries.latest_weeks(c, []) == []


def test_athletes_and_mart_rows(filled):
    con, pub = filled
    for c in (con, pub):
        assert [(a.athlete_id, a.as_of_date) for a in queries.athletes(c)] == [("ann", AS_OF), ("bob", AS_OF)]
        weekly = queries.weekly_training_balance(c)
        assert [(r["athlete_id"], r["week_start"]) for r in weekly] == sorted(
            (r["athlete_id"], r["week_start"]) for r in weekly)
        assert {r["athlete_id"] for r in weekly} == {"ann", "bob"} and "run_distance_m" in weekly[0]
        daily = queries.daily_training_load(c)
        assert [(r["athlete_id"], r["date"]) for r in daily] == sorted((r["athlete_id"], r["date"]) for r in daily)
        assert daily[-1]["date"] == AS_OF and "acwr" in daily[0]


def test_training_flags_order_and_filters(tmp_path):
    w = Warehouse(tmp_path / "flags.duckdb")
    try:
        w.build(AS_OF, [athlete("ann"), athlete("bob")])  # creates marts.training_flags (empty)
        w.con.execute("DELETE FROM marts.training_flags")
        cols = "athlete_id, date, flag, severity, explanation"
        for row in (("bob", "2025-03-10", "b_flag", "info", "bob info"),
                    ("ann", "2025-03-10", "z_flag", "info", "ann info"),
                    ("ann", "2025-03-10", "y_flag", "alert", "ann alert"),
                    ("ann", "2025-03-10", "a_flag", "warning", "ann warning"),
                    ("ann", "2025-03-12", "a_flag", "info", "ann later"),
                    ("bob", "2025-03-01", "a_flag", "warning", "bob early")):
            w.con.execute(f"INSERT INTO marts.training_flags ({cols}) VALUES (?, ?, ?, ?, ?)", list(row))
        got = [f.explanation for f in queries.training_flags(w.con)]
        assert got == ["ann later", "ann alert", "ann warning", "ann info", "bob info", "bob early"]
        assert [f.explanation for f in queries.training_flags(w.con, athlete_ids=["bob"])] == ["bob info", "bob early"]
        assert [f.explanation for f in queries.training_flags(w.con, after=d("2025-03-10"))] == ["ann later"]
        assert [f.explanation for f in queries.training_flags(w.con, limit=2)] == ["ann later", "ann alert"]
        assert queries.training_flags(w.con, athlete_ids=[]) == []
        first = queries.training_flags(w.con, limit=1)[0]
        assert first == queries.TrainingFlag("ann", d("2025-03-12"), "a_flag", "info", "ann later")
    finally:
        w.close()
