"""Shoes end to end: a night (plain functions, no Prefect server) against the Strava emulator over
real sockets and a FIT inbox; the summary and the dashboard list the shoes past their range, in the
display units, drawn in a real headless Chromium without console errors or overflow."""

from __future__ import annotations

import datetime as dt
import re

import duckdb
import pytest
from test_dashboard import ARTIFACTS, Page, browser, page_data  # noqa: F401 (browser: a fixture)

from runlift.flows.dashboard import render_dashboard
from runlift.flows.night import run_night
from runlift.standins.config import write_settings
from runlift.standins.fit_writer import season_fit_files
from runlift.standins.season import SHOES, synthetic_season
from runlift.standins.strava_emulator import StravaEmulator

END = dt.date(2026, 10, 30)
SEASON = synthetic_season(END, weeks=7, tz="America/Denver", gym_from_week=3)
TOTAL_M = {s["id"]: sum(a["distance"] for a in SEASON if a.get("gear_id") == s["id"]) for s in SHOES.values()}


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gear-night")
    inbox = tmp / "inbox"
    inbox.mkdir()
    for name, data in season_fit_files(SEASON):
        (inbox / name).write_bytes(data)
    emu = StravaEmulator([dict(a) for a in SEASON])
    emu.start()
    cfg = write_settings(tmp, athlete="ana", timezone="America/Denver", athlete_settings={"fit_inbox": ["inbox"]},
                         strava={"client_id": "12345", "base_url": emu.base_url, "retries": 1, "timeout_s": 5.0},
                         tables={"gear": {"shoe_replacement_km": [30, 45]}}, top={"units": "imperial"})
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("STRAVA_CLIENT_SECRET", "emulator-secret")
            mp.setenv("STRAVA_REFRESH_TOKEN", emu.issue_refresh_token())
            report = run_night(str(cfg), full=False, wait=False, as_of=END)
    finally:
        emu.stop()
    assert report.ok, report.failures
    return report


def test_the_night_fetches_the_shoes_and_counts_fit_runs_matched_to_strava(night):
    con = duckdb.connect(str(night.published), read_only=True)
    try:
        rows = con.execute("""SELECT gear_id, shoe_name, is_retired, runs, runs_with_fit, distance_m, range_status
                              FROM marts.gear_mileage ORDER BY gear_id""").fetchall()
    finally:
        con.close()
    got = {r[0]: r[1:] for r in rows}
    assert set(got) == set(TOTAL_M)
    for gear_id, (_, _, runs, with_fit, metres, _) in got.items():
        assert metres == pytest.approx(TOTAL_M[gear_id], abs=0.01)  # the watch's copies count once
        assert with_fit <= runs
    # runs also recorded on the watch (FIT) carry the shoe of their Strava run
    assert sum(r[3] for r in got.values()) == 8
    assert got[SHOES["race"]["id"]][0::5] == ("Speedies", "past_range")
    assert got[SHOES["old_daily"]["id"]][:2] == ("Old pegs", True)
    assert got[SHOES["old_daily"]["id"]][5] == "past_range"  # retired: past its range, never flagged


def test_the_summary_lists_shoes_past_their_range_in_display_units(night):
    section = night.markdown.split("## Shoes past their range", 1)[1].split("\n## ", 1)[0]
    lines = [x for x in section.splitlines() if x.startswith("- ")]
    miles = TOTAL_M[SHOES["race"]["id"]] / 1609.344
    assert len(lines) == 1, section  # the retired pair, past its range too, is not listed
    assert re.fullmatch(rf"- \*\*ana\*\* Speedies: {miles:.1f} mi over 4 runs, past 28\.0 mi since "
                        r"2026-\d\d-\d\d \(last run 2026-\d\d-\d\d\)", lines[0]), lines[0]


@pytest.mark.parametrize("width", [390, 1280])
def test_the_dashboard_lists_every_shoe_and_marks_the_worn_one(night, browser, tmp_path, width):  # noqa: F811
    page = render_dashboard(night.published, "imperial", athlete="ana")
    data = page_data(page)
    (ana,) = data["athletes"]
    assert {s["gear_id"]: s["status"] for s in ana["shoes"]}[SHOES["race"]["id"]] == "past_range"
    assert ana["shoes"][0]["range"] == [pytest.approx(30 / 1.609344, abs=0.01), pytest.approx(45 / 1.609344, abs=0.01)]
    f = tmp_path / "gear.html"
    f.write_text(page, encoding="utf-8")
    pg = Page(browser, width, 900, ("file://",))
    pg.open(f.as_uri())
    rows = pg.page.eval_on_selector_all("#shoe-list tbody tr", """rs => rs.map(r => ({
        gear: r.dataset.gear, status: r.dataset.status, text: r.innerText}))""")
    assert len(rows) == len(SHOES)
    by_gear = {r["gear"]: r for r in rows}
    worn = by_gear[SHOES["race"]["id"]]
    assert worn["status"] == "past_range" and "past range since" in worn["text"] and " mi" in worn["text"]
    assert f"{TOTAL_M[SHOES['race']['id']] / 1609.344:.1f} mi" in worn["text"]
    assert by_gear[SHOES["old_daily"]["id"]]["status"] == "retired"
    assert "1 shoe is past the replacement range" in pg.page.inner_text("#shoes-sub")
    assert pg.page.evaluate("document.documentElement.scrollWidth") <= width
    pg.page.screenshot(path=str(ARTIFACTS / f"dashboard-shoes-{width}.png"), full_page=True)
    assert pg.errors == [] and pg.outside == [], (pg.errors, pg.outside)
    pg.close()


def test_a_published_file_from_before_the_shoes_still_gives_a_summary(night, tmp_path):
    import dataclasses
    import shutil

    from runlift.flows.night import _summary_markdown
    from runlift.flows.settings import load_settings

    old = tmp_path / "old.published.duckdb"
    shutil.copy(night.published, old)
    con = duckdb.connect(str(old))
    con.execute("DROP TABLE marts.gear_mileage")
    con.close()
    settings = load_settings(env={"RUNLIFT_HOME": str(tmp_path)})
    text = _summary_markdown(settings, dataclasses.replace(night, published=old, athletes=["ana"]))
    assert "## Shoes past their range\n\n- not in the published file yet" in text
    assert "## This week" in text
