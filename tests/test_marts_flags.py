"""Warm-up, partial weeks and flags graded by their evidence (issue 11, items 2 and 3).

Golden tests on hand-made raw rows (see ``marts_fixtures``), with the expected numbers worked out by
hand in the comments: seeded EWMAs, the warm-up and a return after a break, ramps over complete
weeks only, no flag in an athlete's first 28 days, single-run spike severities with 30 days of
history, ACWR flags off by default and on by the setting, a race taper raising no low-load flag, and
the settings that carry these (``[flags] acwr``, ``athletes.<id>.acwr_flags``, ``races``).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path

import pytest

from runlift.flows.build import athlete_params
from runlift.flows.settings import EXAMPLE_TOML, SettingsError, load_settings
from runlift.warehouse.build import run_model_tests

from marts_fixtures import Warehouse, athlete, d, t

approx = pytest.approx
DAY = dt.timedelta(days=1)


def day_n(first: dt.date, n: int) -> dt.date:
    """The date of day ``n`` (day 1 = ``first``)."""
    return first + (n - 1) * DAY


def run(w: Warehouse, aid: str, day: dt.date, km: float, **kw) -> str:
    """A FIT run at 07:00 UTC: no strides or cadence, so steps = distance / 1 m and impact is
    steps x 2.5 BW / 1000 = 2.5 kBW per km; recorded RPE 5 over 60 minutes = 300 AU."""
    kw.setdefault("workout_rpe", 50)
    kw.setdefault("moving_s", 3600.0)
    return w.fit(aid, dt.datetime.combine(day, dt.time(7, 0)), distance_m=km * 1000.0, **kw)


@pytest.fixture
def wh(tmp_path):
    w = Warehouse(tmp_path / "w.duckdb")
    yield w
    w.close()


# ==================================================================================================
# Item 2: seeded EWMAs, warm-up, return after a break
# ==================================================================================================


def test_ewmas_start_from_the_mean_daily_load_of_the_first_28_days(wh):
    first = d("2024-01-01")
    run(wh, "a", first, 8.0)                     # day 1: 20 kBW, 300 AU
    run(wh, "a", day_n(first, 3), 8.0)           # day 3: 20 kBW, 300 AU
    run(wh, "a", day_n(first, 30), 40.0)         # day 30: outside the first 28 days, not in the seed
    wh.build(day_n(first, 30), [athlete("a")])
    rows = wh.daily("a")
    # seeds: (20 + 20) / 28 kBW and (300 + 300) / 28 AU, the value on the day before day 1
    si, sl = 40 / 28, 600 / 28
    # day 1 by hand: lambda x + (1 - lambda) seed
    assert rows[0]["acute_impact_kbw"] == approx(0.25 * 20 + 0.75 * si)
    assert rows[0]["chronic_impact_kbw"] == approx(2 / 29 * 20 + 27 / 29 * si)
    assert rows[0]["fitness_au"] == approx((1 - math.exp(-1 / 42)) * 300 + math.exp(-1 / 42) * sl)
    assert rows[0]["fatigue_au"] == approx((1 - math.exp(-1 / 7)) * 300 + math.exp(-1 / 7) * sl)
    # day 2 (rest) and day 3 (20 kBW)
    acute2 = 0.75 * (0.25 * 20 + 0.75 * si)
    assert rows[1]["acute_impact_kbw"] == approx(acute2)
    assert rows[2]["acute_impact_kbw"] == approx(0.25 * 20 + 0.75 * acute2)
    # fitness and fatigue start equal, so form (yesterday's fitness - fatigue) is 0 on day 1
    assert rows[0]["form_au"] == 0
    assert rows[1]["form_au"] == approx(rows[0]["fitness_au"] - rows[0]["fatigue_au"])


def test_ewma_seed_with_a_history_shorter_than_28_days(wh):
    first = d("2024-03-04")
    run(wh, "a", first, 4.0)                     # 10 kBW
    wh.build(day_n(first, 4), [athlete("a")])    # 4 days: seed = 10 / 4 = 2.5 kBW
    acute = [r["acute_impact_kbw"] for r in wh.daily("a")]
    assert acute == approx([0.25 * 10 + 0.75 * 2.5, 0.75 * 4.375, 0.75 ** 2 * 4.375, 0.75 ** 3 * 4.375])
    assert all(r["is_warmup"] for r in wh.daily("a"))


def test_warmup_and_return_after_a_break(wh):
    first = d("2024-01-01")
    for aid in ("a", "acwr"):
        for n in range(1, 40):                   # days 1..39: a run every day
            run(wh, aid, day_n(first, n), 5.0)
        run(wh, aid, day_n(first, 53), 5.0)      # days 40..52: 13 days without a workout: not a break
        for n in range(68, 101):                 # days 54..67: 14 days without a workout: a break
            run(wh, aid, day_n(first, n), 5.0)
    wh.build(day_n(first, 100), [athlete("a"), athlete("acwr", acwr_flags=True)])
    rows = wh.daily("a")
    warm = [r["day_number"] for r in rows if r["is_warmup"]]
    # the first 28 days, then the 28 days from the return (day 68 .. day 95)
    assert warm == list(range(1, 29)) + list(range(68, 96))
    returns = [(r["day_number"], r["break_days"]) for r in rows if r["return_after_break"]]
    assert returns == [(68, 14)]
    assert all(r["break_days"] is None for r in rows if not r["return_after_break"])
    flags = wh.flags("a")
    assert [(f["date"], f["flag"], f["severity"], f["value"], f["threshold"]) for f in flags] == [
        (day_n(first, 68), "return_after_break", "info", 14.0, 14.0, )]
    assert flags[0]["explanation"].startswith("First workout after 14 days without any")
    # the weeks around the return ramp up from nothing (e.g. 1 run, then 7): no ramp flag in the warm-up
    weeks = {r["week_start"]: r["mileage_ramp_pct"] for r in wh.weekly("a")}
    assert any(v is not None and v > 30 for v in weeks.values())
    # ACWR flags (when asked for): the drop into the break is flagged (day 41: 0.75^2 / (27/29)^2 = 0.649),
    # the jump after the return is not, while the warm-up lasts
    acwr = wh.daily("acwr")
    assert max(r["acwr"] for r in acwr[67:95]) > 1.5
    assert [(f["date"], f["flag"], f["value"]) for f in wh.flags("acwr") if f["flag"].startswith("acwr")] == [
        (day_n(first, 41), "acwr_low", approx(0.75 ** 2 / (27 / 29) ** 2))]


# ==================================================================================================
# Weekly ramps and monotony: complete weeks only
# ==================================================================================================


def test_ramp_and_monotony_over_complete_weeks_only(wh):
    first = d("2024-01-06")                      # a Saturday: week 1 (from Mon Jan 1) has 2 days of history
    run(wh, "r", first, 5.0)
    run(wh, "r", first + DAY, 5.5, moving_s=3960.0)  # W1 10.5 km, 300 + 330 AU: monotony 21 if it counted
    for monday, n in ((d("2024-01-08"), 4), (d("2024-01-15"), 4), (d("2024-01-22"), 4),
                      (d("2024-01-29"), 6), (d("2024-02-05"), 6)):
        for i in range(n):                       # W2..W4: 4 x 5 km (20 km); W5, W6: 6 x 5 km (30 km)
            run(wh, "r", monday + i * DAY, 5.0)
    for i in (0, 2):                             # W7 (Feb 12-14, in progress): 10 km
        run(wh, "r", d("2024-02-12") + i * DAY, 5.0)
    wh.build(d("2024-02-14"), [athlete("r")])
    weeks = wh.weekly("r")
    assert [w["days_in_data"] for w in weeks] == [2, 7, 7, 7, 7, 7, 3]
    assert [w["is_complete_week"] for w in weeks] == [False] + [True] * 5 + [False]
    # W2 against the partial W1 (+90 %): no ramp; W7 in progress (-67 %): no ramp
    assert [w["mileage_ramp_pct"] for w in weeks] == [None, None, approx(0.0), approx(0.0), approx(50.0),
                                                      approx(0.0), None]
    # monotony: 4 equal days of 7 -> (4/7) / sqrt(4/7 x 3/7) = 4 / sqrt(12); 6 of 7 -> 6 / sqrt(6)
    assert [w["monotony"] for w in weeks] == [None, approx(4 / math.sqrt(12)), approx(4 / math.sqrt(12)),
                                              approx(4 / math.sqrt(12)), approx(math.sqrt(6)),
                                              approx(math.sqrt(6)), None]
    assert weeks[0]["strain_au"] is None and weeks[-1]["strain_au"] is None
    assert weeks[4]["strain_au"] == approx(6 * 300 * math.sqrt(6))
    got = [(f["date"], f["flag"], f["severity"], f["value"], f["threshold"], f["baseline"]) for f in wh.flags("r")]
    assert got == [
        (d("2024-02-04"), "monotony_high", "warning", approx(math.sqrt(6)), 2.0, None),
        (d("2024-02-04"), "weekly_distance_ramp", "info", approx(50.0), 30.0, approx(20000.0)),
        (d("2024-02-11"), "monotony_high", "warning", approx(math.sqrt(6)), 2.0, None),
    ]
    assert [w["flags_count"] for w in weeks] == [0, 0, 0, 0, 2, 1, 0]


# ==================================================================================================
# No flag of any kind in an athlete's first 28 days
# ==================================================================================================


def test_no_flag_of_any_kind_in_the_first_28_days(wh):
    first = d("2024-01-01")                      # a Monday
    # week 1: 6 runs (monotony 2.4), squats only (posterior:anterior 0), a 3x spike on day 3,
    # a Strava run whose cadence is already in steps; week 2 doubles the distance (+100 %)
    for n, km in ((1, 4.0), (2, 4.0), (3, 12.0), (4, 4.0), (5, 4.0), (6, 4.0)):
        run(wh, "a", day_n(first, n), km)
    wh.fit("a", t("2024-01-02 18:00"), sport="training", sub_sport="strength_training", distance_m=None,
           moving_s=1800, workout_rpe=70, sets=[("squat", 8, 60.0)] * 4)
    wh.strava("a", 1, t("2024-01-07 07:00"), cadence_rpm=176, moving_s=1800, distance_m=5000)
    for n in range(8, 15):
        run(wh, "a", day_n(first, n), 9.0)
    # the same cadence quirk on day 28 (no flag) and on day 29 (flagged)
    wh.strava("a", 2, t("2024-01-28 07:00"), cadence_rpm=176, moving_s=1800, distance_m=5000)
    wh.strava("a", 3, t("2024-01-29 07:00"), cadence_rpm=176, moving_s=1800, distance_m=5000)
    wh.build(day_n(first, 29), [athlete("a")])
    # without the rule, these would have been flagged (the data do raise them)
    weeks = wh.weekly("a")
    assert weeks[0]["monotony"] > 2.0 and weeks[1]["mileage_ramp_pct"] > 30
    assert weeks[0]["posterior_anterior_ratio_4w"] is not None and weeks[0]["posterior_anterior_ratio_4w"] < 0.5
    assert [(f["date"], f["flag"]) for f in wh.flags("a")] == [(day_n(first, 29), "cadence_implausible")]


# ==================================================================================================
# Single-run spikes (Frandsen 2025): severity by size, 30 days of history behind the run
# ==================================================================================================

SPIKE_FIRST = d("2024-01-01")


@pytest.fixture(scope="module")
def spikes(tmp_path_factory):
    w = Warehouse(tmp_path_factory.mktemp("spikes") / "w.duckdb")
    keys = {}
    cases = {"equal110": (11.0, 31), "small": (12.0, 31), "moderate": (18.0, 31), "exact200": (20.0, 31),
             "large": (25.0, 31), "history29": (25.0, 30)}
    for aid, (km, n) in cases.items():
        run(w, aid, SPIKE_FIRST, 1.0)              # day 1: the history starts
        run(w, aid, day_n(SPIKE_FIRST, 20), 10.0)  # the longest run of the 30 days before the spike
        keys[aid] = run(w, aid, day_n(SPIKE_FIRST, n), km)
    w.build(day_n(SPIKE_FIRST, 40), [athlete(a) for a in cases])
    yield w, keys
    w.close()


@pytest.mark.parametrize("aid, severity, threshold, size", [
    ("equal110", None, None, None),                # 110 % is not more than 110 %
    ("small", "warning", 110.0, "small (+10-30%)"),
    ("moderate", "warning", 130.0, "moderate (+30-100%)"),
    ("exact200", "warning", 130.0, "moderate (+30-100%)"),  # +100 % exactly is still moderate
    ("large", "alert", 200.0, "large (over +100%)"),
    ("history29", None, None, None),               # day 30: only 29 days of history behind the run
])
def test_single_run_spike_severity_by_size(spikes, aid, severity, threshold, size):
    w, keys = spikes
    got = w.flags(aid)
    if severity is None:
        assert got == []
        return
    km = {"small": 12, "moderate": 18, "exact200": 20, "large": 25}[aid]
    assert [(f["date"], f["flag"], f["severity"], f["value"], f["threshold"], f["baseline"], f["activity_key"])
            for f in got] == [(day_n(SPIKE_FIRST, 31), "long_run_spike", severity, approx(km * 10.0), threshold,
                               approx(10000.0), keys[aid])]
    assert f"a {size} spike" in got[0]["explanation"]
    assert got[0]["explanation"].startswith(f"A {km:.1f} km run: {km * 10}% of the longest run of the previous 30 days")


# ==================================================================================================
# ACWR flags: off by default, on by the setting; a race taper raises no low-load flag
# ==================================================================================================


def _steady_then_double(w: Warehouse, aid: str, first: dt.date) -> None:
    for n in range(1, 41):                        # days 1..40: 5 km a day -> ACWR 1.0 (the seed is the mean)
        run(w, aid, day_n(first, n), 5.0)
    for n in range(41, 46):                       # days 41..45: 15 km a day
        run(w, aid, day_n(first, n), 15.0)


def test_acwr_flags_off_by_default_and_on_by_the_setting(wh):
    first = d("2024-01-01")
    for aid in ("off", "on"):
        _steady_then_double(wh, aid, first)
    wh.build(day_n(first, 45), [athlete("off"), athlete("on", acwr_flags=True)])
    # the ratio is the same descriptive series for both
    assert [r["acwr"] for r in wh.daily("off")] == [r["acwr"] for r in wh.daily("on")]
    assert [f for f in wh.flags("off") if f["flag"].startswith("acwr")] == []
    # by hand (x = 12.5 kBW, then 3x; acute and chronic are x on day 40):
    # day 41: 0.25*3 + 0.75*1 = 1.5 / (2/29*3 + 27/29) = 33/29 -> 1.318
    # day 42: 1.875 / (1065/841) -> 1.481; day 43: 2.15625 / (33801/24389) -> 1.556 > 1.5
    rows = wh.daily("on")
    assert rows[40]["acwr"] == approx(1.5 / (33 / 29))
    assert rows[42]["acwr"] == approx(2.15625 / (33801 / 24389))
    acwr = [(f["date"], f["flag"], f["severity"], f["value"], f["threshold"]) for f in wh.flags("on")
            if f["flag"].startswith("acwr")]
    assert acwr == [(day_n(first, 43), "acwr_high", "info", approx(2.15625 / (33801 / 24389)), 1.5)]


def _taper(w: Warehouse, aid: str, first: dt.date) -> None:
    for n in range(1, 51):                        # days 1..50: 10 km a day
        run(w, aid, day_n(first, n), 10.0)
    for n in range(51, 60):                       # days 51..59: 3 km a day (0.3 x)
        run(w, aid, day_n(first, n), 3.0)
    run(w, aid, day_n(first, 60), 9.0)           # day 60: race day


def test_race_taper_raises_no_low_load_flag(wh):
    first = d("2024-01-01")
    race_day = day_n(first, 60)
    for aid in ("norace", "race", "short_taper", "marathon"):
        _taper(wh, aid, first)
    wh.build(day_n(first, 60), [
        athlete("norace", acwr_flags=True),
        athlete("race", acwr_flags=True, races=[(race_day, "Half", 21100.0, None)]),       # 14 days: from day 46
        athlete("short_taper", acwr_flags=True, races=[(race_day, "Half", 21100.0, 3)]),   # from day 57
        athlete("marathon", acwr_flags=True, races=[(day_n(first, 70), "Marathon", 42195.0, None)]),  # from day 49
    ])
    # by hand, n taper days in: acute 0.3 + 0.7 x 0.75^n, chronic 0.3 + 0.7 x (27/29)^n;
    # n = 1: 0.867; n = 2 (day 52): 0.694 / 0.907 = 0.765 < 0.8
    expected = (0.3 + 0.7 * 0.75 ** 2) / (0.3 + 0.7 * (27 / 29) ** 2)
    low = [(f["date"], f["value"]) for f in wh.flags("norace", "acwr_low")]
    assert low == [(day_n(first, 52), approx(expected))]
    assert wh.flags("race", "acwr_low") == []
    assert wh.flags("marathon", "acwr_low") == []
    assert [f["date"] for f in wh.flags("short_taper", "acwr_low")] == [day_n(first, 52)]
    tapers = {r["athlete_id"]: (r["taper_days"], r["taper_start"]) for r in
              wh.rows("SELECT * FROM staging.stg_settings__races")}
    assert tapers == {"race": (14, day_n(first, 46)), "short_taper": (3, day_n(first, 57)),
                      "marathon": (21, day_n(first, 49))}


# ==================================================================================================
# Never nan or inf in a flag
# ==================================================================================================


def test_model_tests_catch_nan_or_inf_in_a_flag(wh):
    run(wh, "a", d("2024-01-01"), 5.0)
    wh.build(d("2024-01-02"), [athlete("a")])
    assert run_model_tests(wh.con) == []
    wh.con.execute("INSERT INTO marts.training_flags VALUES ('a', DATE '2024-01-02', 'monotony_high', 'warning', "
                   "'nan'::DOUBLE, 2.0, NULL, NULL, 'Training monotony nan this week (over 2.0).')")
    assert any("nan or inf" in f for f in run_model_tests(wh.con))
    wh.con.execute("DELETE FROM marts.training_flags")
    wh.con.execute("INSERT INTO marts.training_flags VALUES ('a', DATE '2024-01-02', 'long_run_spike', 'warning', "
                   "'inf'::DOUBLE, 110, 0, NULL, 'A 5.0 km run: inf% of the longest run.')")
    assert any("nan or inf" in f for f in run_model_tests(wh.con))


# ==================================================================================================
# Settings: [flags] acwr, athletes.<id>.acwr_flags, athletes.<id>.races
# ==================================================================================================


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_acwr_flag_setting_and_races_reach_the_build(tmp_path):
    cfg = _write(tmp_path / "r.toml", """
[flags]
acwr = true
[athletes.ana]
races = [{ date = 2026-04-12, name = "Half", distance_km = 21.1 },
         { date = 2026-10-04, name = "Marathon", distance_km = 42.2, taper_days = 28 }]
[athletes.bo]
acwr_flags = false
[athletes.cy]
""")
    s = load_settings(cfg, env={"RUNLIFT_HOME": str(tmp_path)}, require_athlete=False)
    params = {p.athlete_id: p for p in athlete_params(s)}
    assert {a: p.acwr_flags for a, p in params.items()} == {"ana": True, "bo": False, "cy": True}
    assert params["ana"].races == ((d("2026-04-12"), "Half", approx(21100.0), None),
                                   (d("2026-10-04"), "Marathon", approx(42200.0), 28))
    assert params["bo"].races == ()
    default = load_settings(_write(tmp_path / "d.toml", "[athletes.me]\n"), env={"RUNLIFT_HOME": str(tmp_path)})
    assert default.flags.acwr is False and athlete_params(default)[0].acwr_flags is False


@pytest.mark.parametrize("text, name", [
    ("[flags]\nacwr = 1\n", "flags.acwr"),
    ("[flags]\nacrw = true\n", "flags.acrw"),
    ("[athletes.me]\nacwr_flags = \"yes\"\n", "athletes.me.acwr_flags"),
    ("[athletes.me]\nraces = { date = 2026-04-12 }\n", "athletes.me.races"),
    ("[athletes.me]\nraces = [{ date = \"April\" }]\n", "athletes.me.races[0].date"),
    ("[athletes.me]\nraces = [{ name = \"Half\" }]\n", "athletes.me.races[0].date"),
    ("[athletes.me]\nraces = [{ date = 2026-04-12, distance = 21.1 }]\n", "athletes.me.races[0].distance"),
    ("[athletes.me]\nraces = [{ date = 2026-04-12, distance_km = -5 }]\n", "athletes.me.races[0].distance_km"),
    ("[athletes.me]\nraces = [{ date = 2026-04-12, taper_days = 60 }]\n", "athletes.me.races[0].taper_days"),
    ("[athletes.me]\nraces = [{ date = 2026-04-12 }, { date = 2026-04-12 }]\n", "athletes.me.races[1]"),
])
def test_invalid_flag_settings_are_reported_by_name(tmp_path, text, name):
    with pytest.raises(SettingsError, match=re.escape(f"`{name}`")):
        load_settings(_write(tmp_path / "r.toml", text), env={"RUNLIFT_HOME": str(tmp_path)})


def test_example_settings_document_the_flag_settings(tmp_path):
    for key in ("[flags]", "acwr = false", "acwr_flags", "races = [", "taper_days"):
        assert key in EXAMPLE_TOML
    # uncommented, the examples are valid settings
    text = EXAMPLE_TOML.replace("# acwr_flags = true", "acwr_flags = true").replace(
        "# races = [", "races = [").replace("#          {", "           {")
    s = load_settings(_write(tmp_path / "r.toml", text), env={"RUNLIFT_HOME": str(tmp_path)})
    assert s.acwr_flags("me") is True and [r.taper_days for r in s.athlete.races] == [None, 21]
