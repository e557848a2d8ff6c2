"""The importer against golden values for every file in ../shared/fit-corpus.

The goldens (tests/golden_corpus.py) were derived by cross-checking python-fitparse 2.7,
garmin-fit-sdk, fitparse 1.2.0 and a byte-level walk of the FIT framing, not from whichever
decoder runlift uses; disagreements are explained beside the values there.
"""

import hashlib
from pathlib import Path

import duckdb
import pytest

from runlift.flows.fit_pipeline import import_paths

from golden_corpus import GOLDEN


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    from conftest import CORPUS

    db = tmp_path_factory.mktemp("corpus") / "corpus.duckdb"
    summary = import_paths(db, "me", [CORPUS])
    con = duckdb.connect(str(db), read_only=True)
    yield con, summary
    con.close()


def files_in_corpus(corpus: Path) -> list[str]:
    return sorted(str(p.relative_to(corpus)) for p in corpus.rglob("*") if p.suffix.lower() == ".fit")


def test_goldens_cover_the_whole_corpus(corpus):
    assert files_in_corpus(corpus) == sorted(GOLDEN)


def test_whole_corpus_imports_without_losing_a_file(warehouse, corpus):
    con, summary = warehouse
    n_files = len(files_in_corpus(corpus))
    distinct = len({hashlib.sha256((corpus / f).read_bytes()).digest() for f in GOLDEN})
    assert summary.files_seen == n_files
    assert summary.files_new == distinct and summary.files_known == n_files - distinct
    assert not summary.unreadable


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_file_matches_golden(warehouse, corpus, name):
    con, _ = warehouse
    g = GOLDEN[name]
    sha = hashlib.sha256((corpus / name).read_bytes()).hexdigest()
    row = con.execute("SELECT status, file_type, error, n_records, n_sessions FROM raw.fit_files "
                      "WHERE athlete_id = 'me' AND file_sha256 = ?", [sha]).fetchone()
    assert row is not None, f"{name} not in raw.fit_files"
    status, file_type, error, n_records, n_sessions = row
    assert status == g["status"]
    assert file_type == str(g["file_type"])
    assert (error is None) == (g["status"] == "ok")
    records = con.execute("SELECT count(*) FROM raw.fit_records WHERE file_sha256 = ?", [sha]).fetchone()[0]
    assert records == n_records == g["records"]
    sessions = con.execute("""SELECT sport, sub_sport, total_distance_m, total_timer_time_s, is_summarised
                              FROM raw.fit_sessions WHERE file_sha256 = ? ORDER BY session_index""", [sha]).fetchall()
    assert n_sessions == len(sessions) == len(g["sessions"])
    for got, want in zip(sessions, g["sessions"], strict=True):
        sport, sub_sport, dist, timer, summarised = got
        assert sport == want["sport"]
        if not summarised:  # a summarised session has no sub_sport of its own
            assert sub_sport == want["sub_sport"]
        assert summarised == want["summarised"]
        assert dist == pytest.approx(want["distance_m"], abs=0.01) if want["distance_m"] is not None else dist is None
        assert timer == pytest.approx(want["timer_s"], abs=0.001) if want["timer_s"] is not None else timer is None
    weights = con.execute("""SELECT measured_at_utc, body_mass_kg, body_fat_percent, user_profile_index
                             FROM raw.fit_weights WHERE athlete_id = 'me' AND file_sha256 = ?
                             ORDER BY measurement_index""", [sha]).fetchall()
    assert weights == g.get("weights", [])
    strength = con.execute("""
        SELECT count(*), coalesce(sum(coalesce(repetitions, 0)), 0),
               coalesce(sum(coalesce(repetitions, 0) * coalesce(weight_kg, 0)), 0),
               list_sort(list_distinct(list(category_names[1])))
        FROM raw.fit_sets WHERE file_sha256 = ? AND set_type = 'active'""", [sha]).fetchone()
    if g["strength"] is None:
        assert strength[0] == 0
    else:
        s = g["strength"]
        assert strength[0] == s["active_sets"]
        assert strength[1] == s["total_reps"]
        assert strength[2] == pytest.approx(s["volume_kg"], abs=0.001)
        assert strength[3] == sorted(s["categories"])


def test_strength_set_details(warehouse, corpus):
    """Every candidate category is kept, with Garmin profile names; exercise titles attach to sets."""
    con, _ = warehouse
    sha = hashlib.sha256((corpus / "garmin-fenix6s/training_with_workout.fit").read_bytes()).hexdigest()
    rows = con.execute("""SELECT set_type, category_names, subtype_names[1], exercise_title FROM raw.fit_sets
                          WHERE file_sha256 = ? ORDER BY set_index LIMIT 4""", [sha]).fetchall()
    assert rows == [
        ("rest", None, None, None),
        ("active", ["suspension", "suspension", "suspension"], None, "Suspensión"),
        ("rest", None, None, None),
        # exercise_title names an exercise (category + name), matched through the set's workout step
        ("active", ["pull_up", "pull_up", "pull_up"], "weighted_pull_up", "Dominada lastrada"),
    ]
    fenix = "garmin-fenix6s/training_4pull_up_3push_up_3curl_3bench_press_1deadlift_1sit_up_5unknown.fit"
    sha = hashlib.sha256((corpus / fenix).read_bytes()).hexdigest()
    unknown = con.execute("SELECT count(*) FROM raw.fit_sets WHERE file_sha256 = ? AND category = 'unknown'",
                          [sha]).fetchone()[0]
    assert unknown == 5
    multi = con.execute("""SELECT category_names, subtype_names FROM raw.fit_sets
                           WHERE file_sha256 = ? AND len(category_names) = 3 AND category = 'deadlift'""",
                        [sha]).fetchone()
    assert multi[0][0] == "deadlift" and multi[1][0] == "barbell_deadlift"


def test_local_time_comes_from_the_activity_message(warehouse, corpus):
    con, _ = warehouse
    sha = hashlib.sha256((corpus / "garmin-fenix6s/running.fit").read_bytes()).hexdigest()
    row = con.execute("SELECT start_time_utc, start_time_local, utc_offset_s FROM raw.fit_sessions "
                      "WHERE file_sha256 = ?", [sha]).fetchone()
    assert str(row[0]) == "2023-08-22 17:59:13" and str(row[1]) == "2023-08-22 19:59:13" and row[2] == 7200
