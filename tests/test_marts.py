"""The marts against the specification (docs/metrics.md), on tiny hand-made raw rows.

Every test builds a real warehouse in a temporary folder, inserts raw FIT / Strava rows by hand,
builds with a pinned as-of date and compares the marts with values computed here, independently of
the SQL, by the reference formulas in ``marts_fixtures``. Every build also runs the model tests
(``Warehouse.build`` asserts ``BuildResult.failures == []``).
"""

from __future__ import annotations

import datetime as dt
import math
import statistics

import pytest

from runlift.warehouse.build import MARTS, run_model_tests

from marts_fixtures import (
    ACUTE_L,
    CHRONIC_L,
    FATIGUE_L,
    FITNESS_L,
    Warehouse,
    acwr,
    approx_list,
    athlete,
    d,
    days,
    downhill_factor,
    ewma,
    form,
    impact_kbw,
    iso_week_start,
    knee_load_kbw,
    monotony,
    monotony_7d,
    peak_force_bw,
    t,
)

approx = pytest.approx


def _spine_ok(w: Warehouse, athlete_id: str, first: dt.date, as_of: dt.date) -> None:
    """One daily row per calendar day from the first activity's local date to the as-of date."""
    got = [r["date"] for r in w.daily(athlete_id)]
    assert got == days(first, as_of)
    assert [r["day_number"] for r in w.daily(athlete_id)] == list(range(1, len(got) + 1))


# ==================================================================================================
# Daily trends: EWMA acute/chronic and ACWR, fitness/fatigue/form, monotony and strain
# ==================================================================================================

DAILY_START = d("2024-01-01")
DAILY_AS_OF = DAILY_START + dt.timedelta(days=49)  # day 50


def _daily_schedule() -> dict[int, int]:
    """Day index (0 = day 1) -> FIT total_strides of that day's run."""
    runs = {0: 4000, 1: 5000, 3: 4500, 4: 6000, 6: 7000, 8: 5000, 9: 5500, 10: 6000, 11: 4000}
    # days 12..19 rest (a 7-day window of zeros: SD 0); days 20..26 the same run every day (SD 0 again)
    for i in range(20, 27):
        runs[i] = 6000
    runs[29] = 3000
    for i in range(36, 44):  # a block after a taper: ACWR leaves the band upwards
        runs[i] = 9000 + (i % 3) * 500
    return runs


@pytest.fixture(scope="module")
def daily_wh(tmp_path_factory):
    w = Warehouse(tmp_path_factory.mktemp("daily") / "w.duckdb")
    runs = _daily_schedule()
    impact = [0.0] * 50
    load = [0.0] * 50
    for i, strides in runs.items():
        if 20 <= i <= 26:
            moving, rpe10 = 2777.0, 63.0
        else:
            moving, rpe10 = strides * 0.6, 40.0 + (i * 13) % 50
        w.fit("a", t("2024-01-01 07:00") + dt.timedelta(days=i), strides=strides, moving_s=moving, workout_rpe=rpe10)
        impact[i] += impact_kbw(2 * strides)
        load[i] += rpe10 / 10 * moving / 60
    # an 'other' workout (no impact, but effort) and a strength session (knee load on the impact axis)
    w.strava("a", 1, t("2024-01-03 17:00"), sport_type="Ride", distance_m=30000, moving_s=5400, rpe=4)
    load[2] += 4 * 90
    w.fit("a", t("2024-01-06 18:00"), sport="training", sub_sport="strength_training", distance_m=None,
          moving_s=1800, workout_rpe=70, sets=[("squat", 5, 0.0)] * 3)
    load[5] += 7 * 30
    impact[5] += 3 * knee_load_kbw(5, 3.0, 0.0, 70.0)
    # after the as-of date: ignored
    w.fit("a", t("2024-02-22 07:00"), strides=50000, workout_rpe=100)
    w.build(DAILY_AS_OF, [athlete("a", acwr_flags=True)])
    yield w, impact, load
    w.close()


def test_daily_spine_has_every_day_from_first_activity_to_as_of(daily_wh):
    w, impact, load = daily_wh
    _spine_ok(w, "a", DAILY_START, DAILY_AS_OF)
    rows = w.daily("a")
    rest = [r for r in rows if r["date"] in (d("2024-01-13"), d("2024-01-20"))]
    assert all(r["impact_load_kbw"] == 0 and r["total_session_load_au"] == 0 and r["run_count"] == 0 for r in rest)
    assert [r["impact_load_kbw"] for r in rows] == approx_list(impact)
    assert [r["total_session_load_au"] for r in rows] == approx_list(load)
    assert w.one("SELECT count(*) AS n FROM marts.fct_activities WHERE local_date > ?", [DAILY_AS_OF])["n"] == 0


def test_acute_chronic_ewma_seeded_and_acwr_null_before_day_28(daily_wh):
    w, impact, _ = daily_wh
    rows = w.daily("a")
    assert [r["acute_impact_kbw"] for r in rows] == approx_list(ewma(impact, 2 / 8))
    assert [r["chronic_impact_kbw"] for r in rows] == approx_list(ewma(impact, 2 / 29))
    expected = acwr(impact)
    assert [r["acwr"] for r in rows] == approx_list(expected)
    assert all(r["acwr"] is None for r in rows[:27])
    day28 = rows[27]
    assert day28["day_number"] == 28 and day28["acwr"] is not None
    # by hand, day 1: lambda x + (1 - lambda) x the mean daily impact of the first 28 days (the seed)
    seed = sum(impact[:28]) / 28
    assert rows[0]["acute_impact_kbw"] == approx(ACUTE_L * 20.0 + (1 - ACUTE_L) * seed)
    assert rows[0]["chronic_impact_kbw"] == approx(CHRONIC_L * 20.0 + (1 - CHRONIC_L) * seed)
    a28 = ewma(impact, ACUTE_L)[27] / ewma(impact, CHRONIC_L)[27]
    assert day28["acwr"] == approx(a28)


def test_acwr_flags_on_the_day_the_ratio_leaves_the_band(daily_wh):
    w, impact, _ = daily_wh
    ratios = acwr(impact)
    expected, prev = [], None
    for i, r in enumerate(ratios):
        if r is None or i + 1 <= 28:  # no flags in the warm-up (the first 28 days)
            continue
        band = "high" if r > 1.5 else "low" if r < 0.8 else None
        if band is not None and band != prev:
            expected.append((DAILY_START + dt.timedelta(days=i), f"acwr_{band}", approx(r)))
        prev = band
    got = [(f["date"], f["flag"], f["value"]) for f in w.flags("a") if f["flag"].startswith("acwr")]
    assert got == expected
    assert {e[1] for e in expected} == {"acwr_high", "acwr_low"}  # the data exercise both bands
    assert len(expected) == 3  # low, then high, then low again: not one flag per day out of the band
    for f in w.flags("a"):
        if f["flag"].startswith("acwr"):
            assert f["severity"] == "info"
            assert f["threshold"] == (1.5 if f["flag"] == "acwr_high" else 0.8)


def test_fitness_fatigue_and_form(daily_wh):
    w, _, load = daily_wh
    rows = w.daily("a")
    fitness, fatigue = ewma(load, FITNESS_L), ewma(load, FATIGUE_L)
    assert [r["fitness_au"] for r in rows] == approx_list(fitness)
    assert [r["fatigue_au"] for r in rows] == approx_list(fatigue)
    assert [r["form_au"] for r in rows] == approx_list(form(load))
    assert rows[0]["form_au"] == 0  # fitness and fatigue start from the same seed
    seed = sum(load[:28]) / 28
    assert rows[1]["form_au"] == approx((1 - math.exp(-1 / 42)) * (load[0] - seed)
                                        - (1 - math.exp(-1 / 7)) * (load[0] - seed))


def test_monotony_and_strain_7d_with_sd_zero_windows(daily_wh):
    w, _, load = daily_wh
    rows = w.daily("a")
    expected = monotony_7d(load)
    assert [r["monotony_7d"] for r in rows] == approx_list([m for m, _ in expected])
    assert [r["strain_7d"] for r in rows] == approx_list([s for _, s in expected])
    assert all(r["monotony_7d"] is None for r in rows[:6])
    assert rows[6]["monotony_7d"] == approx(statistics.fmean(load[:7]) / statistics.pstdev(load[:7]))
    # days 13..19 all rest (SD 0), and days 21..27 the same run every day (SD 0): NULL, not a huge number
    assert rows[18]["monotony_7d"] is None and rows[18]["strain_7d"] is None
    assert rows[26]["monotony_7d"] is None and rows[26]["strain_7d"] is None
    assert load[20:27] == [load[20]] * 7 and load[20] > 0


# ==================================================================================================
# Weekly balance: ramp (incl. a week without running), strength, hard sets, ratio, monotony, flags
# ==================================================================================================

WEEKLY_AS_OF = d("2024-02-01")  # a Thursday: the last week is partial
UPPER = [("bench_press", 10, 30.0)] * 2
CORE = [("plank", 3, 0.0)]
WEEKLY_RUNS = {  # date -> km (FIT, no strides/cadence: steps = distance / 1 m; RPE 5; 5:30 /km)
    "2024-01-01": 5, "2024-01-03": 8, "2024-01-06": 12,         # W1 25 km
    "2024-01-08": 6, "2024-01-10": 10, "2024-01-14": 14,        # W2 30 km: +20 %
    # W3 (Jan 15-21): no running: -100 %, no flag
    "2024-01-23": 10,                                           # W4: NULL ramp after a week without running
    "2024-01-29": 7, "2024-02-01": 7,                           # W5 14 km: +40 %
}
WEEKLY_LIFTS = {  # date -> sets (category, reps, kg); RPE 7, 40 min
    "2024-01-02": [("squat", 10, 40.0)] * 3 + [("deadlift", 8, 60.0)] + UPPER + CORE,
    "2024-01-17": [("deadlift", 8, 60.0)] * 3 + [("lunge", 10, 0.0)],
}
KNEE_FACTOR = {"squat": 3.0, "lunge": 3.0, "deadlift": 1.5, "bench_press": 0.0, "plank": 0.0}
HIP = {"deadlift"}
KNEE = {"squat", "lunge"}


def fill_weekly(w: Warehouse, athlete_id: str = "w") -> dict[str, list[float]]:
    """The weekly fixture's raw rows; returns the expected per-day series (index 0 = Jan 1)."""
    n = (WEEKLY_AS_OF - d("2024-01-01")).days + 1
    s = {k: [0.0] * n for k in ("run_m", "run_s", "run_load", "lift_s", "lift_load", "impact", "volume",
                                "lower", "upper", "core", "knee", "hip", "lift_sessions", "runs")}
    for day, km in WEEKLY_RUNS.items():
        i = (d(day) - d("2024-01-01")).days
        w.fit(athlete_id, t(f"{day} 07:00"), distance_m=km * 1000.0, moving_s=km * 330.0, workout_rpe=50)
        s["run_m"][i] += km * 1000
        s["run_s"][i] += km * 330
        s["run_load"][i] += 5 * km * 330 / 60
        s["impact"][i] += impact_kbw(km * 1000)
        s["runs"][i] += 1
    for day, sets in WEEKLY_LIFTS.items():
        i = (d(day) - d("2024-01-01")).days
        w.fit(athlete_id, t(f"{day} 18:00"), sport="training", sub_sport="strength_training", distance_m=None,
              moving_s=2400, workout_rpe=70, sets=sets)
        s["lift_s"][i] += 2400
        s["lift_load"][i] += 7 * 40
        s["lift_sessions"][i] += 1
        for cat, reps, kg in sets:
            s["impact"][i] += knee_load_kbw(reps, KNEE_FACTOR[cat], kg, 70.0)
            s["volume"][i] += reps * kg
            # every set here is hard: >= 3 reps, at body weight or at the same weight every time
            region = {"bench_press": "upper", "plank": "core"}.get(cat, "lower")
            s[region][i] += 1
            s["knee"][i] += cat in KNEE
            s["hip"][i] += cat in HIP
    return s


@pytest.fixture(scope="module")
def weekly_wh(tmp_path_factory):
    w = Warehouse(tmp_path_factory.mktemp("weekly") / "w.duckdb")
    series = fill_weekly(w)
    w.build(WEEKLY_AS_OF, [athlete("w")])
    yield w, series
    w.close()


def _weeks(series: dict[str, list[float]]) -> list[dict[str, float]]:
    dates = days(d("2024-01-01"), WEEKLY_AS_OF)
    out: dict[dt.date, dict[str, list[float]]] = {}
    for i, day in enumerate(dates):
        wk = out.setdefault(iso_week_start(day), {k: [] for k in series})
        for k, v in series.items():
            wk[k].append(v[i])
    return [{"week_start": ws, **{k: v for k, v in vals.items()}} for ws, vals in out.items()]


def test_weekly_distance_runs_longest_and_ramp(weekly_wh):
    w, series = weekly_wh
    rows = w.weekly("w")
    assert [r["week_start"] for r in rows] == [d("2024-01-01"), d("2024-01-08"), d("2024-01-15"),
                                               d("2024-01-22"), d("2024-01-29")]
    assert [r["days_in_data"] for r in rows] == [7, 7, 7, 7, 4]
    assert [r["is_complete_week"] for r in rows] == [True, True, True, True, False]
    assert [r["run_distance_m"] for r in rows] == approx_list([25000, 30000, 0, 10000, 14000])
    assert [r["run_count"] for r in rows] == [3, 3, 0, 1, 2]
    assert [r["longest_run_m"] for r in rows] == approx_list([12000, 14000, 0, 10000, 7000])
    # W1 has no previous week; W3 ran nothing (-100 %); W4 follows a week without running: NULL; W5 (+40 %)
    # is the week in progress: complete weeks only
    assert [r["mileage_ramp_pct"] for r in rows] == approx_list([None, 20.0, -100.0, None, None])


def test_weekly_distance_ramp_flags(weekly_wh):
    w, _ = weekly_wh
    got = [(f["date"], f["severity"], f["value"], f["threshold"], f["baseline"], f["activity_key"])
           for f in w.flags("w", "weekly_distance_ramp")]
    # +20 % in W2 is under 30 % (and dated in the first 28 days); W5's +40 % is a week in progress
    assert got == []


def test_weekly_strength_hard_sets_shares_and_posterior_anterior(weekly_wh):
    w, series = weekly_wh
    rows = w.weekly("w")
    weeks = _weeks(series)
    assert [r["strength_sessions"] for r in rows] == [1, 0, 1, 0, 0]
    assert [r["strength_volume_load_kg"] for r in rows] == approx_list([sum(x["volume"]) for x in weeks])
    assert [r["strength_volume_load_kg"] for r in rows] == approx_list([3 * 400 + 480 + 2 * 300, 0, 3 * 480, 0, 0])
    assert [(r["hard_sets_lower"], r["hard_sets_upper"], r["hard_sets_core"], r["hard_sets_knee"],
             r["hard_sets_hip"]) for r in rows] == [(4, 2, 1, 3, 1), (0, 0, 0, 0, 0), (4, 0, 0, 1, 3),
                                                    (0, 0, 0, 0, 0), (0, 0, 0, 0, 0)]
    # hip : knee hard sets over this and the three previous weeks
    assert [r["posterior_anterior_ratio_4w"] for r in rows] == approx_list([1 / 3, 1 / 3, 4 / 4, 4 / 4, 3 / 1])
    for r, x in zip(rows, weeks, strict=True):
        run_load, lift_load = sum(x["run_load"]), sum(x["lift_load"])
        run_s, lift_s = sum(x["run_s"]), sum(x["lift_s"])
        assert r["run_session_load_au"] == approx(run_load)
        assert r["strength_session_load_au"] == approx(lift_load)
        assert r["strength_share_of_session_load"] == approx(lift_load / (run_load + lift_load))
        assert r["strength_share_of_training_time"] == approx(lift_s / (run_s + lift_s))
        assert r["impact_load_kbw"] == approx(sum(x["impact"]))
    # W1 and W2 are under 0.5, but no flag is dated within the first 28 days
    assert w.flags("w", "posterior_anterior_low") == []


def test_weekly_monotony_strain_and_flags_count(weekly_wh):
    w, series = weekly_wh
    rows = w.weekly("w")
    weeks = _weeks(series)
    expected_flags: dict[dt.date, int] = {}
    for r, x in zip(rows, weeks, strict=True):
        loads = [a + b for a, b in zip(x["run_load"], x["lift_load"], strict=True)]
        m = monotony(loads) if len(loads) == 7 else None  # complete weeks only
        assert r["total_session_load_au"] == approx(sum(loads))
        assert r["monotony"] == (None if m is None else approx(m))
        assert r["strain_au"] == (None if m is None else approx(sum(loads) * m))
        if m is not None and m > 2.0:
            expected_flags[r["week_start"]] = 1
    monot = {iso_week_start(f["date"]) for f in w.flags("w", "monotony_high")}
    assert monot == set(expected_flags)
    # flags_count: every flag of the week, whatever its kind
    counts: dict[dt.date, int] = {}
    for f in w.flags("w"):
        counts[iso_week_start(f["date"])] = counts.get(iso_week_start(f["date"]), 0) + 1
    assert [r["flags_count"] for r in rows] == [counts.get(r["week_start"], 0) for r in rows]
    assert sum(counts.values()) == 0  # 32 days of history: nothing after day 28 raises a flag


# ==================================================================================================
# Long-run spikes: thresholds and the 30-day window
# ==================================================================================================

SPIKE_AS_OF = d("2024-04-05")


@pytest.fixture(scope="module")
def spike_wh(tmp_path_factory):
    w = Warehouse(tmp_path_factory.mktemp("spike") / "w.duckdb")
    keys = {}
    for pct in (105, 115, 150, 250):
        aid = f"s{pct}"
        w.fit(aid, t("2024-01-20 07:00"), distance_m=1000)  # history: a spike needs 30 days of it
        w.fit(aid, t("2024-03-01 07:00"), distance_m=10000)
        keys[aid] = w.fit(aid, t("2024-03-11 07:00"), distance_m=100.0 * pct)
    keys["solo"] = w.fit("solo", t("2024-03-11 07:00"), distance_m=25000)  # no previous run: no flag
    # the previous 30 days: a run 30 days before counts, 31 days before does not
    w.fit("win30", t("2024-01-20 07:00"), distance_m=1000)
    w.fit("win30", t("2024-03-01 07:00"), distance_m=10000)
    keys["win30"] = w.fit("win30", t("2024-03-31 07:00"), distance_m=15000)
    w.fit("win31", t("2024-01-20 07:00"), distance_m=1000)
    w.fit("win31", t("2024-03-01 07:00"), distance_m=10000)
    keys["win31"] = w.fit("win31", t("2024-04-01 07:00"), distance_m=15000)
    athletes = [athlete(a) for a in ("s105", "s115", "s150", "s250", "solo", "win30", "win31")]
    w.build(SPIKE_AS_OF, athletes)
    yield w, keys, athletes
    w.close()


@pytest.mark.parametrize("aid, severity, threshold", [
    ("s105", None, None), ("s115", "warning", 110.0), ("s150", "warning", 130.0), ("s250", "alert", 200.0),
    ("solo", None, None), ("win30", "warning", 130.0), ("win31", None, None),
])
def test_long_run_spike_thresholds(spike_wh, aid, severity, threshold):
    w, keys, _ = spike_wh
    got = w.flags(aid, "long_run_spike")
    if severity is None:
        assert got == []
        return
    pct = w.activity(keys[aid])["distance_m"] / 10000 * 100
    assert [(f["date"], f["severity"], f["threshold"], f["value"], f["baseline"], f["activity_key"]) for f in got] == [
        (w.activity(keys[aid])["local_date"], severity, threshold, approx(pct), approx(10000.0), keys[aid])]


def test_flag_explanations_use_the_display_units(spike_wh):
    w, _, athletes = spike_wh
    (metric,) = w.flags("s150", "long_run_spike")
    assert metric["explanation"].startswith("A 15.0 km run: 150% of the longest run of the previous 30 days (10.0 km)")
    try:
        w.build(SPIKE_AS_OF, athletes, units="imperial")
        (imperial,) = w.flags("s150", "long_run_spike")
        assert imperial["explanation"].startswith(
            f"A {15000 / 1609.344:.1f} mi run: 150% of the longest run of the previous 30 days "
            f"({10000 / 1609.344:.1f} mi)")
        assert "9.3 mi" in imperial["explanation"] and "6.2 mi" in imperial["explanation"]
        assert not any(" km" in f["explanation"] for a in athletes for f in w.flags(a.athlete_id))
        # stored values stay SI
        assert imperial["baseline"] == approx(10000.0)
    finally:
        w.build(SPIKE_AS_OF, athletes, units="metric")


def test_weekly_ramp_explanation_in_miles(tmp_path):
    w = Warehouse(tmp_path / "w.duckdb")
    for week in range(5):  # Wednesdays from 2024-01-03: 10 km a week, then 15 km in the fifth week (+50 %)
        w.fit("w", t("2024-01-03 07:00") + dt.timedelta(weeks=week), distance_m=15000.0 if week == 4 else 10000.0)
    w.build(d("2024-02-04"), [athlete("w")], units="imperial")
    (ramp,) = w.flags("w", "weekly_distance_ramp")
    assert f"{15000 / 1609.344:.1f} mi after {10000 / 1609.344:.1f} mi" in ramp["explanation"]
    w.close()


# ==================================================================================================
# Impact load per run: steps source, measured vs default peak force, downhill; knee load of lifts
# ==================================================================================================


@pytest.fixture(scope="module")
def impact_wh(tmp_path_factory):
    w = Warehouse(tmp_path_factory.mktemp("impact") / "w.duckdb")
    k = {
        "strides": w.fit("i", t("2024-05-01 07:00"), strides=5000, distance_m=10000),
        # another athlete: a measured run would give athlete i's other runs its typical peak force
        "stance": w.fit("j", t("2024-05-02 07:00"), strides=4000, cadence_rpm=85, stance_s=0.25, distance_m=8000),
        "descent": w.fit("i", t("2024-05-03 07:00"), strides=5000, distance_m=10000, descent_m=200, ascent_m=210),
        "steep": w.fit("i", t("2024-05-04 07:00"), strides=4000, distance_m=8000, descent_m=1000),
        "fit_cadence": w.fit("i", t("2024-05-05 07:00"), cadence_rpm=80, moving_s=None, timer_s=3000,
                             distance_m=9000),
        "fit_distance": w.fit("i", t("2024-05-06 07:00"), distance_m=7000),
        "strava_cadence": w.strava("i", 11, t("2024-05-07 07:00"), cadence_rpm=88, moving_s=1800, distance_m=5000),
        "strava_distance": w.strava("i", 12, t("2024-05-08 07:00"), moving_s=1800, distance_m=6000),
        "strava_steps": w.strava("i", 13, t("2024-05-09 07:00"), cadence_rpm=176, moving_s=1800, distance_m=5000),
        "strava_ascent": w.strava("i", 14, t("2024-05-10 07:00"), moving_s=3600, distance_m=10000, ascent_m=150),
        # a gym session a month earlier: the history behind the runs (no flag in the first 28 days)
        "history": w.fit("i", t("2024-04-01 18:00"), sport="training", sub_sport="strength_training", distance_m=None),
    }
    w.build(d("2024-05-31"), [athlete("i"), athlete("j")])
    yield w, k
    w.close()


def test_impact_load_steps_from_fit_strides(impact_wh):
    w, k = impact_wh
    a = w.activity(k["strides"])
    assert a["steps"] == 10000
    assert a["peak_force_bw"] == 2.5 and a["downhill_factor"] == 1.0
    assert a["impact_load_kbw"] == approx(impact_kbw(10000))
    assert a["impact_load_kbw"] == approx(25.0)


def test_impact_load_measured_peak_force_from_stance_time(impact_wh):
    w, k = impact_wh
    a = w.activity(k["stance"])
    peak = peak_force_bw(170.0, 0.25)
    # by hand: step 60/170 = 0.35294 s, flight 0.10294 s: pi/2 x (0.10294/0.25 + 1) = 2.2176 BW
    assert peak == approx(math.pi / 2 * ((60 / 170 - 0.25) / 0.25 + 1)) and peak == approx(2.2176, abs=1e-4)
    assert a["avg_cadence_spm"] == 170
    assert a["peak_force_bw"] == approx(peak)
    assert a["impact_load_kbw"] == approx(impact_kbw(8000, peak))
    assert "peak force default 2.5 BW" not in a["data_quality_notes"]
    assert "peak force default 2.5 BW" in w.activity(k["strides"])["data_quality_notes"]


def test_impact_load_downhill_factor_and_its_cap(impact_wh):
    w, k = impact_wh
    a = w.activity(k["descent"])
    f = downhill_factor(200, 10000)
    assert f == approx(1 + 0.03 * math.degrees(math.atan(200 / 5000)))
    assert a["downhill_factor"] == approx(f)
    assert a["elevation_loss_m"] == 200  # the FIT descent, not the ascent
    assert a["impact_load_kbw"] == approx(impact_kbw(10000, 2.5, f))
    steep = w.activity(k["steep"])  # atan(1000 / 4000) = 14 degrees, capped at 9
    assert steep["downhill_factor"] == approx(1 + 0.03 * 9)
    assert steep["impact_load_kbw"] == approx(impact_kbw(8000, 2.5, 1.27))
    # Strava gives no descent: it is taken equal to the ascent (docs/metrics.md), and noted
    sa = w.activity(k["strava_ascent"])
    assert sa["elevation_loss_m"] == 150
    assert sa["downhill_factor"] == approx(downhill_factor(150, 10000))
    assert sa["impact_load_kbw"] == approx(impact_kbw(10000, 2.5, downhill_factor(150, 10000)))
    assert "descent assumed equal to ascent (no FIT file)" in sa["data_quality_notes"]


def test_impact_load_steps_from_cadence_and_from_distance(impact_wh):
    w, k = impact_wh
    fc = w.activity(k["fit_cadence"])  # FIT without strides: 80 strides/min x 2 x 50 min (timer time)
    assert fc["steps"] == approx(80 * 2 * 3000 / 60)
    assert fc["impact_load_kbw"] == approx(impact_kbw(8000))
    assert "steps from cadence x time" in fc["data_quality_notes"]
    sc = w.activity(k["strava_cadence"])  # Strava: 88 strides/min x 2 x 30 min
    assert sc["steps"] == approx(88 * 2 * 30)
    assert sc["impact_load_kbw"] == approx(impact_kbw(5280))
    fd = w.activity(k["fit_distance"])
    assert fd["steps"] == approx(7000) and fd["impact_load_kbw"] == approx(impact_kbw(7000))
    sd = w.activity(k["strava_distance"])
    assert sd["steps"] == approx(6000) and sd["impact_load_kbw"] == approx(impact_kbw(6000))
    assert "steps from distance / 1.0 m" in sd["data_quality_notes"]


def test_cadence_already_in_steps_is_halved_and_flagged(impact_wh):
    w, k = impact_wh
    a = w.activity(k["strava_steps"])
    assert a["is_cadence_implausible"] and a["avg_cadence_spm"] == 176
    assert a["steps"] == approx(176 * 30)
    flags = w.flags("i", "cadence_implausible")
    assert [(f["date"], f["activity_key"], f["value"], f["threshold"], f["severity"]) for f in flags] == [
        (d("2024-05-09"), k["strava_steps"], approx(352.0), 230.0, "info")]
    # a plausible cadence is not flagged
    assert not w.activity(k["strava_cadence"])["is_cadence_implausible"]


def test_a_set_started_just_before_its_session_counts_for_it(tmp_path):
    """The session summary and the set mart place sets with the same window (the session's span +- 1 min)."""
    w = Warehouse(tmp_path / "w.duckdb")
    key = w.fit("g", t("2024-06-10 18:00"), sport="training", sub_sport="generic", distance_m=None,
                moving_s=1800, sets=[("squat", 10, 60.0)])
    w.con.execute("UPDATE raw.fit_sets SET start_time_utc = ?", [t("2024-06-10 17:59:30")])
    w.build(d("2024-06-12"), [athlete("g")])
    assert w.rows("SELECT count(*) AS n FROM marts.fct_strength_sets WHERE activity_key = ?", [key]) == [{"n": 1}]
    a = w.activity(key)
    assert a["sport_group"] == "strength"
    assert a["impact_load_kbw"] == approx(knee_load_kbw(10, 3.0, 60.0, 70.0))
    w.close()


def test_body_mass_before_its_first_date_is_the_earliest_value(tmp_path):
    """Only dated values: a set before the first date uses the earliest one (not NULL, not 70 kg)."""
    w = Warehouse(tmp_path / "w.duckdb")
    key = w.fit("k", t("2024-05-20 18:00"), sport="training", sub_sport="strength_training", distance_m=None,
                moving_s=1800, sets=[("squat", 10, 60.0)])
    w.build(d("2024-06-12"), [athlete("k", body_mass=((d("2024-06-01"), 80.0), (d("2024-07-01"), 75.0)))])
    (got,) = w.rows("SELECT knee_load_kbw FROM marts.fct_strength_sets WHERE activity_key = ?", [key])
    assert got["knee_load_kbw"] == approx(knee_load_kbw(10, 3.0, 60.0, 80.0))
    w.close()


def test_knee_load_of_strength_sets(tmp_path):
    w = Warehouse(tmp_path / "w.duckdb")
    sets = [("squat", 10, 60.0), ("squat", 8, 0.0), ("deadlift", 5, 100.0), ("bench_press", 10, 50.0)]
    key = w.fit("k", t("2024-06-10 18:00"), sport="training", sub_sport="strength_training", distance_m=None,
                moving_s=2700, sets=sets)
    # body mass 80 kg until June 1st, 75 kg from then: the set uses the value of its day
    w.build(d("2024-06-12"), [athlete("k", body_mass=((None, 80.0), (d("2024-06-01"), 75.0)))])
    got = w.rows("SELECT set_index, exercise_category, knee_load_kbw, volume_load_kg, body_region, lower_pattern "
                 "FROM marts.fct_strength_sets WHERE activity_key = ? ORDER BY set_index", [key])
    factors = {"squat": 3.0, "deadlift": 1.5, "bench_press": 0.0}
    expected = [knee_load_kbw(r, factors[c], kg, 75.0) for c, r, kg in sets]
    assert expected[0] == approx(10 * 3.0 * (1 + 60 / 75) / 1000) == approx(0.054)
    assert [g["knee_load_kbw"] for g in got] == approx_list(expected)
    assert [g["volume_load_kg"] for g in got] == approx_list([600, 0, 500, 500])
    assert [(g["body_region"], g["lower_pattern"]) for g in got] == [
        ("lower", "knee"), ("lower", "knee"), ("lower", "hip"), ("upper", None)]
    a = w.activity(key)
    assert a["sport_group"] == "strength" and a["peak_force_bw"] is None and a["steps"] is None
    assert a["impact_load_kbw"] == approx(sum(expected))
    (day,) = [r for r in w.daily("k") if r["date"] == d("2024-06-10")]
    assert day["strength_knee_load_kbw"] == approx(sum(expected))
    assert day["impact_load_kbw"] == approx(sum(expected)) and day["run_impact_kbw"] == 0
    w.close()


# ==================================================================================================
# RPE: from the source, else the athlete's median for the sport group, else 5
# ==================================================================================================


def test_rpe_from_source_athlete_median_or_default(tmp_path):
    w = Warehouse(tmp_path / "w.duckdb")
    k = {
        "fit": w.fit("r", t("2024-01-01 07:00"), moving_s=3000, workout_rpe=70),
        "strava": w.strava("r", 1, t("2024-01-02 07:00"), moving_s=2400, rpe=8),
        "no_rpe": w.strava("r", 2, t("2024-01-03 07:00"), moving_s=1800),
        "low": w.strava("r", 3, t("2024-01-05 07:00"), moving_s=1800, rpe=3),
        "high": w.strava("r", 4, t("2024-01-06 07:00"), moving_s=1800, rpe=9),
        # one workout in both sources: the FIT RPE wins
        "both": w.fit("r", t("2024-01-07 07:00"), moving_s=3000, workout_rpe=60),
        "lift": w.fit("r", t("2024-01-04 18:00"), sport="training", sub_sport="strength_training",
                      distance_m=None, moving_s=1800, sets=[("squat", 5, 0.0)]),
        "ride": w.strava("r", 6, t("2024-01-04 07:00"), sport_type="Ride", moving_s=3600, distance_m=30000),
    }
    w.strava("r", 5, t("2024-01-07 07:00:30"), moving_s=2900, rpe=2)
    # another athlete's RPEs must not change r's medians
    w.fit("r2", t("2024-01-04 18:00"), sport="training", sub_sport="strength_training", distance_m=None,
          moving_s=1800, workout_rpe=90, sets=[("squat", 5, 0.0)])
    w.strava("r2", 7, t("2024-01-03 07:00"), moving_s=1800, rpe=1)
    w.build(d("2024-01-10"), [athlete("r"), athlete("r2")])

    run_median = statistics.median([7.0, 8.0, 3.0, 9.0, 6.0])
    cases = {  # key: (rpe, imputed, moving minutes, note)
        "fit": (7.0, False, 50, None),
        "strava": (8.0, False, 40, None),
        "low": (3.0, False, 30, None),
        "high": (9.0, False, 30, None),
        "both": (6.0, False, 2900 / 60, None),  # moving time from Strava
        "no_rpe": (run_median, True, 30, "rpe imputed (athlete median)"),
        "lift": (5.0, True, 30, "rpe imputed (default 5)"),
        "ride": (5.0, True, 60, "rpe imputed (default 5)"),
    }
    for name, (rpe, imputed, minutes, note) in cases.items():
        a = w.activity(k[name])
        assert (name, a["rpe"], a["rpe_imputed"]) == (name, approx(rpe), imputed)
        assert a["session_load_au"] == approx(rpe * minutes), name
        if note:
            assert note in a["data_quality_notes"]
        else:
            assert not any(n.startswith("rpe imputed") for n in a["data_quality_notes"])
    assert w.activity(k["both"])["sources"] == "fit+strava"
    w.close()


# ==================================================================================================
# Two athletes side by side: nothing leaks from one to the other
# ==================================================================================================


def _fill_x(w: Warehouse) -> None:
    w.fit("x", t("2024-01-01 07:00"), strides=5000, workout_rpe=60)
    w.fit("x", t("2024-01-03 07:00"), strides=6000, distance_m=12000, workout_rpe=70)
    w.strava("x", 100, t("2024-01-05 07:00"), cadence_rpm=85, distance_m=14000)  # median RPE of x
    w.fit("x", t("2024-01-06 18:00"), sport="training", sub_sport="strength_training", distance_m=None,
          moving_s=1800, sets=[("squat", 10, 40.0)] * 3 + [("deadlift", 5, 80.0)])


def _fill_y(w: Warehouse) -> None:
    # same UTC instant as x's first run, in another athlete: no match across athletes
    w.strava("y", 200, t("2024-01-01 07:00"), local=t("2024-01-01 00:00"), distance_m=10000, rpe=2)
    w.strava("y", 201, t("2024-01-04 14:00"), local=t("2024-01-04 07:00"), distance_m=20000, rpe=9)
    w.fit("y", t("2024-01-06 14:00"), local=None, strides=4000, distance_m=8000)  # median RPE of y
    w.fit("y", t("2024-01-07 01:00"), sport="training", sub_sport="strength_training", distance_m=None,
          moving_s=1800, local=None, sets=[("deadlift", 5, 120.0)] * 4)


def test_two_athletes_side_by_side_do_not_leak(tmp_path):
    as_of = d("2024-01-20")
    both = Warehouse(tmp_path / "both.duckdb")
    _fill_x(both)
    _fill_y(both)
    x_params, y_params = athlete("x"), athlete("y", "America/Denver", ((None, 90.0),))
    both.build(as_of, [x_params, y_params])
    _spine_ok(both, "x", d("2024-01-01"), as_of)
    _spine_ok(both, "y", d("2024-01-01"), as_of)
    assert both.one("SELECT count(*) AS n FROM marts.fct_activities WHERE sources = 'fit+strava'")["n"] == 0
    assert both.one("SELECT rpe FROM marts.fct_activities WHERE activity_key = 'strava:100'")["rpe"] == approx(6.5)
    y_fit_run = both.one("SELECT rpe, local_date FROM marts.fct_activities WHERE athlete_id = 'y' "
                         "AND sources = 'fit' AND sport_group = 'run'")
    assert y_fit_run == {"rpe": approx(5.5), "local_date": d("2024-01-06")}

    for aid, fill, params in (("x", _fill_x, x_params), ("y", _fill_y, y_params)):
        solo = Warehouse(tmp_path / f"{aid}.duckdb")
        fill(solo)
        solo.build(as_of, [params])
        for table in (*(f"marts.{m}" for m in MARTS), "intermediate.int_workouts"):
            sql = f"SELECT * FROM {table} WHERE athlete_id = ? ORDER BY ALL"
            assert both.con.execute(sql, [aid]).fetchall() == solo.con.execute(sql, [aid]).fetchall(), (aid, table)
        solo.close()
    both.close()


# ==================================================================================================
# Local date: the activity's own local time, else the athlete's time zone (DST included)
# ==================================================================================================


def test_local_date_from_source_or_athlete_time_zone(tmp_path):
    w = Warehouse(tmp_path / "w.duckdb")
    # Strava with start_date_local: 23:30 in Denver is that day
    strava = w.strava("den", 1, t("2024-05-02 05:30"), local=t("2024-05-01 23:30"))
    # a traveller whose settings say Berlin, running in Denver: the activity's own local date wins
    trav_strava = w.strava("trav", 2, t("2024-06-02 05:30"), local=t("2024-06-01 23:30"))
    trav_fit = w.fit("trav", t("2024-06-10 05:30"), local=t("2024-06-09 23:30"))
    # FIT without a local time: the athlete's zone, America/Denver, with its daylight saving time
    fits = {
        w.fit("den", t("2024-01-10 06:30"), local=None): d("2024-01-09"),   # 23:30 MST (UTC-7)
        w.fit("den", t("2024-03-11 06:30"), local=None): d("2024-03-11"),   # 00:30 MDT, the day after DST starts
        w.fit("den", t("2024-07-20 05:30"), local=None): d("2024-07-19"),   # 23:30 MDT (UTC-6)
        w.fit("den", t("2024-11-04 06:30"), local=None): d("2024-11-03"),   # 23:30 MST, the day DST ends
    }
    w.build(d("2024-11-10"), [athlete("den", "America/Denver"), athlete("trav", "Europe/Berlin")])
    assert w.activity(strava)["local_date"] == d("2024-05-01")
    assert w.activity(trav_strava)["local_date"] == d("2024-06-01")
    assert w.activity(trav_fit)["local_date"] == d("2024-06-09")
    for key, day in fits.items():
        a = w.activity(key)
        assert (key, a["local_date"]) == (key, day)
        assert "local date from the athlete time zone" in a["data_quality_notes"]
    for key in (strava, trav_strava, trav_fit):
        assert "local date from the athlete time zone" not in w.activity(key)["data_quality_notes"]
    # the daily mart follows: Denver's spine starts on January 9th, the run is counted there
    _spine_ok(w, "den", d("2024-01-09"), d("2024-11-10"))
    _spine_ok(w, "trav", d("2024-06-01"), d("2024-11-10"))
    by_date = {r["date"]: r for r in w.daily("den")}
    for day in (d("2024-01-09"), d("2024-03-11"), d("2024-05-01"), d("2024-07-19"), d("2024-11-03")):
        assert by_date[day]["run_count"] == 1, day
    assert by_date[d("2024-01-10")]["run_count"] == 0 and by_date[d("2024-11-04")]["run_count"] == 0
    assert w.one("SELECT first_activity_date FROM marts.dim_athlete WHERE athlete_id = 'den'") == {
        "first_activity_date": d("2024-01-09")}
    w.close()


# ==================================================================================================
# One workout, two sources: which FIT session / Strava activity pairs are matched
# ==================================================================================================


@pytest.fixture(scope="module")
def dedup_wh(tmp_path_factory):
    w = Warehouse(tmp_path_factory.mktemp("dedup") / "w.duckdb")
    cases = {}

    def pair(day: int, name: str, *, offset_s: float, fit_m: float = 10000, strava_m: float = 10000,
             sport_type: str = "Run", fit_kwargs=None, **strava_kwargs):
        start = t("2024-02-01 07:00") + dt.timedelta(days=day)
        fk = w.fit("d", start, distance_m=fit_m, **(fit_kwargs or {}))
        sk = w.strava("d", 1000 + day, start + dt.timedelta(seconds=offset_s), distance_m=strava_m,
                      sport_type=sport_type, name=name, moving_s=3500, **strava_kwargs)
        cases[name] = (fk, sk)

    pair(0, "match", offset_s=60, strava_m=10200)
    pair(1, "time_too_far", offset_s=200)
    pair(2, "garmin_external_id", offset_s=400, external_id="garmin_push_12345678")
    pair(3, "garmin_device", offset_s=-400, device_name="Garmin Forerunner 265")
    pair(4, "fit_file_name", offset_s=590, external_id="2024-02-05-07-00-00.FIT")
    pair(5, "garmin_too_far", offset_s=700, external_id="garmin_push_1")
    pair(6, "other_sport", offset_s=0, sport_type="Ride")
    # distances do not gate a match (an athlete may edit Strava's): tests/test_marts_match.py
    pair(7, "distance_too_different", offset_s=30, strava_m=10600)  # 600 m > 5 % of 10.6 km
    pair(8, "short_within_100m", offset_s=30, fit_m=1000, strava_m=1090)
    pair(9, "short_too_different", offset_s=30, fit_m=1000, strava_m=1150)
    pair(10, "gym_both_under_50m", offset_s=30, fit_m=None, strava_m=0, sport_type="WeightTraining",
         fit_kwargs=dict(sport="training", sub_sport="strength_training", sets=[("squat", 5, 0.0)]))
    # two Strava candidates for one FIT session: only the closest is the same workout
    start = t("2024-02-13 07:00")
    near_far = (w.fit("d", start), w.strava("d", 2001, start + dt.timedelta(seconds=90), name="far"),
                w.strava("d", 2002, start + dt.timedelta(seconds=30), name="near"))
    # another athlete's Strava run at the very same time: never the same workout
    other = w.strava("e", 3000, t("2024-02-01 07:00:00"))
    w.build(d("2024-02-20"), [athlete("d"), athlete("e")])
    yield w, cases, near_far, other
    w.close()


@pytest.mark.parametrize("name, matched", [
    ("match", True), ("time_too_far", False), ("garmin_external_id", True), ("garmin_device", True),
    ("fit_file_name", True), ("garmin_too_far", False), ("other_sport", False), ("distance_too_different", True),
    ("short_within_100m", True), ("short_too_different", True), ("gym_both_under_50m", True),
])
def test_dedup_pairs(dedup_wh, name, matched):
    w, cases, _, _ = dedup_wh
    fit_key, strava_key = cases[name]
    strava_id = int(strava_key.split(":")[1])
    rows = w.rows("SELECT * FROM marts.fct_activities WHERE activity_key IN (?, ?) ORDER BY activity_key",
                  [fit_key, strava_key])
    if matched:
        assert len(rows) == 1
        (a,) = rows
        assert (a["activity_key"], a["sources"], a["strava_activity_id"]) == (fit_key, "fit+strava", strava_id)
        assert a["name"] == name  # the name from Strava
        # moving time from Strava, a gym session's duration from the FIT file
        assert a["moving_time_s"] == (3600 if a["sport_group"] == "strength" else 3500)
        if a["sport_group"] == "run":
            # distance from FIT, Strava's when it differs by more than max(100 m, 5 %) (edited there)
            source = "strava" if name.endswith("too_different") else "fit"
            assert a["distance_m"] == w.one("SELECT total_distance_m FROM raw.fit_sessions WHERE file_sha256 = ?",
                                            [a["fit_file_sha256"]])["total_distance_m"] if source == "fit" else \
                w.one("SELECT distance_m FROM raw.strava_activities WHERE activity_id = ?", [strava_id])["distance_m"]
    else:
        assert [(r["activity_key"], r["sources"]) for r in rows] == [(fit_key, "fit"), (strava_key, "strava")]


def test_dedup_mutual_closest_and_athletes_apart(dedup_wh):
    w, cases, (fit_key, far, near), other = dedup_wh
    assert w.activity(fit_key)["strava_activity_id"] == 2002
    assert w.activity(far)["sources"] == "strava"
    assert w.rows("SELECT * FROM marts.fct_activities WHERE activity_key = ?", [near]) == []
    assert w.activity(other)["sources"] == "strava" and w.activity(cases["match"][0])["strava_activity_id"] == 1000
    # each workout counted once per day in the daily mart
    matched_days = w.one("SELECT run_count FROM marts.daily_training_load WHERE athlete_id = 'd' "
                         "AND date = DATE '2024-02-01'")
    assert matched_days["run_count"] == 1
    n_fit = w.one("SELECT count(*) AS n FROM raw.fit_sessions WHERE athlete_id = 'd'")["n"]
    n_strava = w.one("SELECT count(*) AS n FROM raw.strava_activities WHERE athlete_id = 'd'")["n"]
    n_matched = sum(1 for name, _ in cases.items() if name in {
        "match", "garmin_external_id", "garmin_device", "fit_file_name", "short_within_100m",
        "gym_both_under_50m", "distance_too_different", "short_too_different"}) + 1
    assert w.one("SELECT count(*) AS n FROM marts.fct_activities WHERE athlete_id = 'd'")["n"] == \
        n_fit + n_strava - n_matched


# ==================================================================================================
# Rebuilds and model tests
# ==================================================================================================


def test_rebuild_is_idempotent_and_model_tests_pass(tmp_path):
    w = Warehouse(tmp_path / "w.duckdb")
    fill_weekly(w)
    _fill_x(w)
    _fill_y(w)
    w.fit("w", t("2024-01-31 07:00"), distance_m=30000)  # day 31: a spike, so every mart has rows
    w.strava("w", 9001, t("2024-01-20 21:30"), distance_m=5000, gear_id="g1")  # a shoe (marts.gear_mileage)
    params = [athlete("w"), athlete("x"), athlete("y", "America/Denver")]
    first = w.build(WEEKLY_AS_OF, params)
    snap1 = w.snapshot()
    second = w.build(WEEKLY_AS_OF, params)
    assert first.failures == [] and second.failures == []
    assert first.rows == second.rows and all(first.rows[m] > 0 for m in MARTS)
    assert w.snapshot() == snap1
    for aid, first_day in (("w", d("2024-01-01")), ("x", d("2024-01-01")), ("y", d("2024-01-01"))):
        _spine_ok(w, aid, first_day, WEEKLY_AS_OF)
    # the model tests do see a missing day
    w.con.execute("DELETE FROM marts.daily_training_load WHERE athlete_id = 'w' AND date = DATE '2024-01-10'")
    assert any("daily_training_load" in f and "athlete w" in f for f in run_model_tests(w.con))
    w.close()
