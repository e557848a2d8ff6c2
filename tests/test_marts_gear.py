"""Shoe mileage: marts.gear_mileage and the shoe_past_range flag (docs/metrics.md "Shoe mileage").

Golden tests in the manner of tests/test_marts.py: a real warehouse in a temporary folder, raw FIT
and Strava rows (and raw.strava_gear rows, as GET /gear/{id} gives them) inserted by hand, a build
with a pinned as-of date, and the mart compared with values worked out here by hand.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from runlift.flows.settings import EXAMPLE_TOML, SettingsError, load_settings

from marts_fixtures import Warehouse, athlete, d, t

AS_OF = d("2024-07-31")


@pytest.fixture()
def gear_wh(tmp_path):
    w = Warehouse(tmp_path / "w.duckdb")
    k: dict[str, str] = {}
    # shoe g1 "Pegs": two blocks far apart (January, June); the January 5 run recorded on the watch too
    k["jan2"] = w.strava("s", 101, t("2024-01-02T07:00:00"), distance_m=10000, gear_id="g1")
    k["jan5_fit"] = w.fit("s", t("2024-01-05T07:00:00"), distance_m=12000, moving_s=4000)
    w.strava("s", 102, t("2024-01-05T07:00:20"), distance_m=12000, moving_s=4000, gear_id="g1")
    k["jun20"] = w.strava("s", 103, t("2024-06-20T07:00:00"), distance_m=10000, gear_id="g1")
    # a run on the watch only: no shoe
    k["fit_only"] = w.fit("s", t("2024-01-03T07:00:00"), distance_m=8000, moving_s=2800)
    # shoe g2: retired at Strava, 30 km (past a 15-25 km range): kept, never flagged
    for i, day in enumerate(("2024-02-01", "2024-02-08", "2024-02-15")):
        w.strava("s", 200 + i, t(f"{day}T18:00:00"), distance_m=10000, gear_id="g2")
    # shoe g3: Strava has not described it yet (no gear call so far)
    w.strava("s", 301, t("2024-03-01T07:00:00"), distance_m=5000, gear_id="g3")
    # a ride with a bike: not a shoe
    w.strava("s", 401, t("2024-03-02T07:00:00"), sport_type="Ride", distance_m=40000, gear_id="b9")
    # after the as-of date: not counted
    w.strava("s", 501, t("2024-08-02T07:00:00"), distance_m=10000, gear_id="g1")
    w.gear("s", "g1", "Nike Pegasus 41", nickname="Pegs", brand="Nike", model="Pegasus 41", strava_distance_m=42000)
    w.gear("s", "g2", "Hoka Clifton 9", retired=True, strava_distance_m=30000)
    w.gear("s", "b9", "Canyon Endurace")
    yield w, k
    w.close()


def shoes(w: Warehouse) -> dict[str, dict]:
    return {r["gear_id"]: r for r in w.rows("SELECT * FROM marts.gear_mileage WHERE athlete_id = 's'")}


def test_a_shoe_used_in_two_blocks_counts_all_its_runs_and_the_matched_fit_run(gear_wh):
    w, k = gear_wh
    w.build(AS_OF, [athlete("s")], shoe_range_km=(15, 25))
    g1 = shoes(w)["g1"]
    assert w.activity(k["jan5_fit"])["sources"] == "fit+strava"  # the FIT run took the Strava run's shoe
    assert {c: g1[c] for c in ("shoe_name", "brand_name", "model_name", "is_retired", "has_gear_details", "runs",
                               "runs_with_fit", "distance_m", "strava_distance_m", "first_used_date",
                               "last_used_date", "replacement_low_m", "replacement_high_m", "range_status",
                               "past_range_date", "past_range_activity_key", "past_range_distance_m",
                               "is_flagged")} == {
        "shoe_name": "Pegs", "brand_name": "Nike", "model_name": "Pegasus 41", "is_retired": False,
        "has_gear_details": True, "runs": 3, "runs_with_fit": 1, "distance_m": 32000.0,
        "strava_distance_m": 42000.0, "first_used_date": d("2024-01-02"), "last_used_date": d("2024-06-20"),
        "replacement_low_m": 15000.0, "replacement_high_m": 25000.0, "range_status": "past_range",
        "past_range_date": d("2024-06-20"), "past_range_activity_key": k["jun20"], "past_range_distance_m": 32000.0,
        "is_flagged": True}
    [flag] = w.flags("s", "shoe_past_range")
    assert (flag["date"], flag["severity"], flag["value"], flag["threshold"], flag["activity_key"]) == (
        d("2024-06-20"), "info", 32000.0, 25000.0, k["jun20"])
    assert flag["explanation"] == ("Shoe Pegs passed 25.0 km on this run (32.0 km over 3 runs by now): the end of "
                                   "its replacement range, 15.0-25.0 km (docs/metrics.md, Shoe mileage).")


def test_a_retired_shoe_past_its_range_is_kept_but_not_flagged(gear_wh):
    w, _ = gear_wh
    w.build(AS_OF, [athlete("s")], shoe_range_km=(15, 25))
    g2 = shoes(w)["g2"]
    assert (g2["shoe_name"], g2["is_retired"], g2["runs"], g2["distance_m"], g2["range_status"],
            g2["past_range_date"], g2["is_flagged"]) == (
        "Hoka Clifton 9", True, 3, 30000.0, "past_range", d("2024-02-15"), False)
    assert [f["activity_key"] for f in w.flags("s", "shoe_past_range")] == ["strava:103"]


def test_fit_only_runs_bikes_and_later_runs_count_nowhere_and_unknown_gear_shows_its_id(gear_wh):
    w, _ = gear_wh
    w.build(AS_OF, [athlete("s")], shoe_range_km=(15, 25))
    got = shoes(w)
    assert sorted(got) == ["g1", "g2", "g3"]  # no bike b9
    g3 = got["g3"]
    assert (g3["shoe_name"], g3["has_gear_details"], g3["runs"], g3["distance_m"], g3["range_status"],
            g3["is_flagged"]) == ("g3", None, 1, 5000.0, "below_range", False)
    # every running km is on a shoe except the FIT-only run's 8 km
    run_m = w.one("SELECT sum(distance_m) AS m FROM marts.fct_activities WHERE includes_running")["m"]
    assert run_m - sum(r["distance_m"] for r in got.values()) == 8000.0


def test_the_default_range_is_500_to_800_km(gear_wh):
    w, _ = gear_wh
    w.build(AS_OF, [athlete("s")])
    g1 = shoes(w)["g1"]
    assert (g1["replacement_low_m"], g1["replacement_high_m"], g1["range_status"], g1["is_flagged"]) == (
        500000.0, 800000.0, "below_range", False)
    assert w.flags("s", "shoe_past_range") == []


def test_in_range_and_imperial_explanation(gear_wh):
    w, _ = gear_wh
    w.build(AS_OF, [athlete("s")], units="imperial", shoe_range_km=(30, 40))
    got = shoes(w)
    assert (got["g1"]["range_status"], got["g2"]["range_status"]) == ("in_range", "in_range")
    w.build(AS_OF, [athlete("s")], units="imperial", shoe_range_km=(16.09344, 24.14016))
    [flag] = w.flags("s", "shoe_past_range")
    assert flag["explanation"] == ("Shoe Pegs passed 15.0 mi on this run (19.9 mi over 3 runs by now): the end of "
                                   "its replacement range, 10.0-15.0 mi (docs/metrics.md, Shoe mileage).")


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_the_range_setting_is_read_checked_and_misspellings_refused(tmp_path):
    env = {"RUNLIFT_HOME": str(tmp_path)}
    assert load_settings(env=env).gear.shoe_replacement_km == (500.0, 800.0)
    cfg = write(tmp_path / "r.toml", "[gear]\nshoe_replacement_km = [600, 900.5]\n")
    assert load_settings(cfg, env=env).gear.shoe_replacement_km == (600.0, 900.5)
    for bad in ("[800, 500]", "[500]", '["500", "800"]', "500", "[0, 800]", "[true, 800]"):
        write(cfg, f"[gear]\nshoe_replacement_km = {bad}\n")
        with pytest.raises(SettingsError, match="gear.shoe_replacement_km"):
            load_settings(cfg, env=env)
    write(cfg, "[gear]\nshoe_replacement = [500, 800]\n")
    with pytest.raises(SettingsError, match=r"unknown setting `gear.shoe_replacement`.*shoe_replacement_km"):
        load_settings(cfg, env=env)
    # `runlift init` documents it, with the default
    assert "[gear]" in EXAMPLE_TOML and "shoe_replacement_km = [500, 800]" in EXAMPLE_TOML
    assert load_settings(write(tmp_path / "init.toml", EXAMPLE_TOML), env=env).gear.shoe_replacement_km == (500, 800)
    write(cfg, "[gears]\nshoe_replacement_km = [500, 800]\n")
    with pytest.raises(SettingsError, match="unknown setting `gears`"):
        load_settings(cfg, env=env)


def test_gear_range_reaches_the_build_through_the_settings(tmp_path):
    from runlift.flows.build import build_warehouse
    cfg = write(tmp_path / "r.toml", f'[warehouse]\npath = "{tmp_path / "w.duckdb"}"\n[athletes.s]\n'
                                      'timezone = "UTC"\n[gear]\nshoe_replacement_km = [15, 25]\n')
    w = Warehouse(tmp_path / "w.duckdb")
    w.strava("s", 1, t("2024-01-02T07:00:00"), distance_m=20000, gear_id="g1")
    w.strava("s", 2, t("2024-03-02T07:00:00"), distance_m=10000, gear_id="g1")
    w.close()
    build_warehouse(load_settings(cfg, env={"RUNLIFT_HOME": str(tmp_path)}), dt.date(2024, 3, 31))
    w = Warehouse(tmp_path / "w.duckdb")
    assert w.one("SELECT replacement_high_m, is_flagged FROM marts.gear_mileage") == {
        "replacement_high_m": 25000.0, "is_flagged": True}
    w.close()


def test_an_older_warehouse_gets_the_gear_of_its_stored_payloads(tmp_path):
    """Migration 0009: gear_id becomes a typed column, filled from the payloads already stored."""
    from runlift.warehouse import db as wdb

    from marts_fixtures import NOW

    path = tmp_path / "old.duckdb"
    con = wdb.connect(path, upto=7)
    for activity_id, payload in ((1, '{"id": 1, "gear_id": "g42"}'), (2, '{"id": 2, "gear_id": null}'),
                                 (3, '{"id": 3}')):
        con.execute("INSERT INTO raw.strava_activities (athlete_id, activity_id, payload, first_fetched_at, "
                    "fetched_at) VALUES ('s', ?, ?, ?, ?)", [activity_id, payload, NOW, NOW])
    con.close()
    con = wdb.connect(path)
    try:
        assert con.execute("SELECT activity_id, gear_id FROM raw.strava_activities ORDER BY 1").fetchall() == [
            (1, "g42"), (2, None), (3, None)]
        assert con.execute("SELECT count(*) FROM raw.strava_gear").fetchone() == (0,)
    finally:
        con.close()
