"""Garmin scale files (FIT file type ``weight``): imported as dated body mass, used by the marts where
the settings give none (docs/fit-import.md, docs/metrics.md "Body mass")."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from runlift.connectors.fit.columnar import ColumnarDecoder
from runlift.connectors.fit.reference import FitparseDecoder
from runlift.flows.fit_pipeline import import_paths
from runlift.standins.fit_writer import encode_weight

from helpers import q, runlift, snapshot
from marts_fixtures import Warehouse, athlete, d, knee_load_kbw

approx = pytest.approx

SINGLE = "fitparse-tests/WeightScaleSingleUser.fit"
MULTI = "fitparse-tests/WeightScaleMultiUser.fit"
# as python-fitparse reads them: (timestamp UTC, weight kg, percent_fat, user_profile_index)
SINGLE_WEIGHTS = [(dt.datetime(2009, 9, 9, 21, 38), 75.8, 22.3, None),
                  (dt.datetime(2009, 9, 9, 22, 38), 76.09, 25.1, None)]
MULTI_WEIGHTS = [(dt.datetime(2009, 9, 9, 21, 38), 75.8, 22.3, 0),
                 (dt.datetime(2009, 9, 9, 22, 38), 58.2, 25.1, 1)]


def test_corpus_scale_files_import_with_their_weights_and_reimport_adds_nothing(corpus, tmp_path):
    folder = tmp_path / "scale"
    folder.mkdir()
    for name in (SINGLE, MULTI):
        shutil.copy(corpus / name, folder / name.split("/")[1])
    db = tmp_path / "w.duckdb"
    s = import_paths(db, "me", [folder])
    assert (s.files_new, s.ok, s.partial, s.rejected, s.skipped, s.weights) == (2, 2, 0, 0, 0, 4)
    assert "new files: 2 ok, 0 partial, 0 rejected, 0 skipped" in s.lines()
    assert "added: 0 sessions, 0 active sets, 0 records, 4 scale measurements" in s.lines()
    files = q(db, "SELECT first_path, status, error, file_type FROM raw.fit_files ORDER BY first_path")
    assert [(p.rsplit("/", 1)[1], st, e, ft) for p, st, e, ft in files] == [
        ("WeightScaleMultiUser.fit", "ok", None, "weight"), ("WeightScaleSingleUser.fit", "ok", None, "weight")]
    rows = q(db, """SELECT f.first_path, w.measured_at_utc, w.body_mass_kg, w.body_fat_percent, w.user_profile_index,
                           w.athlete_id, w.dq_reason
                    FROM raw.fit_weights w JOIN raw.fit_files f USING (athlete_id, file_sha256)
                    ORDER BY f.first_path, w.measurement_index""")
    assert [r[1:5] for r in rows] == MULTI_WEIGHTS + SINGLE_WEIGHTS
    assert {(r[5], r[6]) for r in rows} == {("me", None)}
    before = snapshot(db)
    again = import_paths(db, "me", [folder, corpus / SINGLE])
    assert (again.files_new, again.files_known, again.weights) == (0, 3, 0)
    assert snapshot(db) == before


def test_absurd_scale_values_are_null_with_a_reason_in_both_decoders(tmp_path):
    data = encode_weight([(dt.datetime(2024, 6, 1, 6), 78.4, 20.1, None),
                          (dt.datetime(2024, 6, 2, 6), 0.2, 120.0, None),  # 0.2 kg, 120 % fat
                          (dt.datetime(2024, 6, 3, 6), 655.34, None, None)])  # FIT's "calculating"
    ref, fast = FitparseDecoder().decode(data), ColumnarDecoder().decode(data)
    assert "fallback" not in fast.decoder
    assert ref.weights == fast.weights
    assert (fast.status, fast.error) == ("ok", None)
    assert [(w["body_mass_kg"], w["body_fat_percent"], w["dq_reason"]) for w in fast.weights] == [
        (78.4, 20.1, None),
        (None, None, "body_mass_kg = 0.2 outside [0.5, 650], set to NULL; "
                     "body_fat_percent = 120 outside [0, 100], set to NULL"),
        (None, None, "body_mass_kg: the scale was still calculating")]
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "scale.fit").write_bytes(data)
    s = import_paths(tmp_path / "w.duckdb", "me", [tmp_path / "in"])
    assert (s.ok, s.weights) == (1, 3)
    assert [p for p, _ in s.flagged] == [str(tmp_path / "in" / "scale.fit")]
    assert q(tmp_path / "w.duckdb", "SELECT body_mass_kg FROM raw.fit_weights ORDER BY measurement_index") == [
        (78.4,), (None,), (None,)]


def _strength(w: Warehouse, athlete_id: str, local: dt.datetime, offset_h: int = -6) -> str:
    """A squat session (10 x 60 kg) at ``local`` time of an athlete at UTC ``offset_h``."""
    return w.fit(athlete_id, local - dt.timedelta(hours=offset_h), local=local, sport="training",
                 sub_sport="strength_training", distance_m=None, moving_s=1800, sets=[("squat", 10, 60.0)])


def test_scale_body_mass_fills_the_days_the_settings_leave_open(tmp_path):
    """Settings from 2024-06-01 (75 kg): the scale gives the days before (each measurement from its
    local day, the day's last one winning, the earliest also before it); an undated settings value
    leaves the scale nothing; neither: 70 kg."""
    db = tmp_path / "w.duckdb"
    scale = tmp_path / "scale.fit"
    scale.write_bytes(encode_weight([
        (dt.datetime(2024, 5, 10, 13), 82.0, None, None),
        (dt.datetime(2024, 5, 20, 4), 81.0, None, None),  # 22:00 on May 19th in Denver
        (dt.datetime(2024, 5, 20, 13), 79.5, None, None),
        (dt.datetime(2024, 5, 20, 23), 80.0, None, None),  # the day's last: 80.0 from May 20th
        (dt.datetime(2024, 6, 5, 13), 77.0, None, None),  # the settings cover June: not used
    ]))
    for who in ("k", "u"):
        assert import_paths(db, who, [scale], workers=1).weights == 5
    w = Warehouse(db)
    days = {"before": dt.datetime(2024, 5, 5, 18), "may19": dt.datetime(2024, 5, 19, 12),
            "may25": dt.datetime(2024, 5, 25, 18), "june": dt.datetime(2024, 6, 10, 18)}
    keys = {(who, name): _strength(w, who, local) for who in ("k", "u", "n") for name, local in days.items()}
    w.build(d("2024-06-12"), [athlete("k", "America/Denver", body_mass=((d("2024-06-01"), 75.0),)),
                              athlete("u", "America/Denver", body_mass=((None, 90.0),)),
                              athlete("n", "America/Denver", body_mass=())])
    mass = {"before": 82.0, "may19": 81.0, "may25": 80.0, "june": 75.0}
    for name, kg in mass.items():
        (k,) = w.rows("SELECT knee_load_kbw FROM marts.fct_strength_sets WHERE activity_key = ?", [keys["k", name]])
        assert k["knee_load_kbw"] == approx(knee_load_kbw(10, 3.0, 60.0, kg)), name
        (u,) = w.rows("SELECT knee_load_kbw FROM marts.fct_strength_sets WHERE activity_key = ?", [keys["u", name]])
        assert u["knee_load_kbw"] == approx(knee_load_kbw(10, 3.0, 60.0, 90.0)), name
        (n,) = w.rows("SELECT knee_load_kbw FROM marts.fct_strength_sets WHERE activity_key = ?", [keys["n", name]])
        assert n["knee_load_kbw"] == approx(knee_load_kbw(10, 3.0, 60.0, 70.0)), name
    daily = {(r["date"], r["body_mass_kg"], r["body_mass_source"]) for r in w.daily("k")}
    assert {(d("2024-05-05"), 82.0, "scale"), (d("2024-05-18"), 82.0, "scale"), (d("2024-05-19"), 81.0, "scale"),
            (d("2024-05-31"), 80.0, "scale"), (d("2024-06-01"), 75.0, "settings"),
            (d("2024-06-12"), 75.0, "settings")} <= daily
    assert {(r["body_mass_kg"], r["body_mass_source"]) for r in w.daily("u")} == {(90.0, "settings")}
    assert {(r["body_mass_kg"], r["body_mass_source"]) for r in w.daily("n")} == {(70.0, "default")}
    dims = {r["athlete_id"]: (r["body_mass_kg"], r["body_mass_source"])
            for r in w.rows("SELECT * FROM marts.dim_athlete")}
    assert dims == {"k": (75.0, "settings"), "u": (90.0, "settings"), "n": (70.0, "default")}
    w.close()


def test_multi_user_scale_file_is_kept_but_gives_no_body_mass(corpus, tmp_path):
    db = tmp_path / "w.duckdb"
    import_paths(db, "k", [corpus / MULTI, corpus / SINGLE], workers=1)
    w = Warehouse(db)
    key = _strength(w, "k", dt.datetime(2009, 9, 20, 18), offset_h=0)
    w.build(d("2009-09-30"), [athlete("k", "UTC", body_mass=())])
    used = w.rows("SELECT body_mass_kg, is_body_mass_source FROM staging.stg_fit__weights "
                  "ORDER BY is_body_mass_source, body_mass_kg")
    assert [(r["body_mass_kg"], r["is_body_mass_source"]) for r in used] == [
        (58.2, False), (75.8, False), (75.8, True), (76.09, True)]
    (s,) = w.rows("SELECT knee_load_kbw FROM marts.fct_strength_sets WHERE activity_key = ?", [key])
    assert s["knee_load_kbw"] == approx(knee_load_kbw(10, 3.0, 60.0, 76.09))  # the single user's last
    w.close()


def test_status_and_import_no_longer_count_scale_files_as_skipped(corpus, tmp_path):
    cfg = tmp_path / "runlift.toml"
    runlift("init", "--config", str(cfg))
    db = tmp_path / "x.duckdb"
    proc = runlift("import-fit", "--no-prefect", "--config", str(cfg), "--db", str(db),
                   str(corpus / SINGLE), str(corpus / MULTI), str(corpus / "fitparse-tests/Settings.fit"))
    assert "new files: 2 ok, 0 partial, 0 rejected, 1 skipped" in proc.stdout
    assert "4 scale measurements" in proc.stdout
    status = runlift("status", "--config", str(cfg), "--db", str(db)).stdout
    assert "2 ok FIT files" in status and "1 skipped FIT files" in status, status


@pytest.mark.parametrize("name", [SINGLE, MULTI])
def test_corpus_scale_files_decode_alike(corpus, name):
    data = (corpus / name).read_bytes()
    ref, fast = FitparseDecoder().decode(data), ColumnarDecoder().decode(data)
    assert ref.weights == fast.weights
    want = SINGLE_WEIGHTS if name == SINGLE else MULTI_WEIGHTS
    assert [(w["measured_at_utc"], w["body_mass_kg"], w["body_fat_percent"], w["user_profile_index"])
            for w in fast.weights] == want


def test_settings_without_body_mass_leave_the_days_to_the_scale(tmp_path):
    """No body_mass_kg in the settings: nothing is written as a settings value (the 70 kg default is
    not one), so the scale's measurements are used; body_mass_on still says 70 kg."""
    from runlift.flows.build import athlete_params
    from runlift.flows.settings import load_settings

    cfg = tmp_path / "runlift.toml"
    cfg.write_text('[athletes.me]\ntimezone = "UTC"\n')
    s = load_settings(cfg, env={})
    assert s.athlete.body_mass == () and s.athlete.body_mass_on(dt.date(2024, 1, 1)) == 70.0
    (params,) = athlete_params(s)
    assert params.body_mass == ()
    db = tmp_path / "w.duckdb"
    scale = tmp_path / "scale.fit"
    scale.write_bytes(encode_weight([(dt.datetime(2024, 5, 10, 7), 66.5, None, None)]))
    import_paths(db, "me", [scale], workers=1)
    w = Warehouse(db)
    key = _strength(w, "me", dt.datetime(2024, 5, 12, 18), offset_h=0)
    w.build(d("2024-05-13"), [params])
    (got,) = w.rows("SELECT knee_load_kbw FROM marts.fct_strength_sets WHERE activity_key = ?", [key])
    assert got["knee_load_kbw"] == approx(knee_load_kbw(10, 3.0, 60.0, 66.5))
    assert w.one("SELECT body_mass_kg, body_mass_source FROM marts.dim_athlete") == {
        "body_mass_kg": 66.5, "body_mass_source": "scale"}
    w.close()
