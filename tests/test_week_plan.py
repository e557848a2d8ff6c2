"""runlift.warehouse.queries.week_plan, data_gaps and knee_stress_days: the numbers behind the
dashboard's "what should I do this week?" and its knee-stress chart, on hand-made raw rows (a real
warehouse built by ``marts_fixtures.Warehouse``), each expected value worked out by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from runlift.warehouse import queries

from marts_fixtures import Warehouse, athlete, d

DAY = dt.timedelta(days=1)
SQUATS = [("squat", 5, 60.0)] * 3
BENCH = [("bench_press", 8, 40.0)] * 3


def run(w: Warehouse, aid: str, day: dt.date, km: float) -> str:
    """A FIT run at 07:00 UTC (no strides: steps = distance / 1 m, impact 2.5 kBW per km)."""
    return w.fit(aid, dt.datetime.combine(day, dt.time(7)), distance_m=km * 1000.0, workout_rpe=50)


def lift(w: Warehouse, aid: str, day: dt.date, sets=SQUATS, hour: int = 18) -> str:
    return w.fit(aid, dt.datetime.combine(day, dt.time(hour)), sport="training", sub_sport="strength_training",
                 distance_m=None, moving_s=2700, workout_rpe=60, sets=sets)


@pytest.fixture
def plan_wh(tmp_path):
    """Athlete a from Monday 2025-01-06: 8 km every Monday; a 20 km run on 15 Feb (31+ days before
    the as-of date 2025-03-19, a Wednesday), 14 km on 18 Feb (the first day of the 30-day window),
    12 km on 12 Mar, 6 km on Tue 18 Mar; and a 30 km run on 20 Mar, after the as-of date. Lower-body
    (squat) sessions per week: 5 and 5 in the first two weeks (outside the last 8 complete weeks),
    then 2, 1, 3, 1, 0, 2, 3, 1 (median 1.5, mean 1.625); upper-body (bench) sessions besides, which
    do not count; this week one squat session on Tue 18 Mar, a bench session on Mon 17 Mar and a
    squat session on Fri 21 Mar, after the as-of date."""
    w = Warehouse(tmp_path / "w.duckdb")
    first = d("2025-01-06")
    monday = first
    while monday <= d("2025-03-17"):
        run(w, "a", monday, 8.0)
        monday += 7 * DAY
    run(w, "a", d("2025-02-15"), 20.0)
    run(w, "a", d("2025-02-18"), 14.0)
    run(w, "a", d("2025-03-12"), 12.0)
    run(w, "a", d("2025-03-18"), 6.0)
    run(w, "a", d("2025-03-20"), 30.0)
    for week, n in enumerate([5, 5, 2, 1, 3, 1, 0, 2, 3, 1]):
        for k in range(n):
            lift(w, "a", first + week * 7 * DAY + (1 + k) * DAY)
        lift(w, "a", first + week * 7 * DAY + 6 * DAY, sets=BENCH)
    lift(w, "a", d("2025-03-17"), sets=BENCH)
    lift(w, "a", d("2025-03-18"))
    lift(w, "a", d("2025-03-21"))
    # athlete b: runs in January only, then nothing (a break up to the as-of date)
    run(w, "b", d("2025-01-06"), 10.0)
    run(w, "b", d("2025-01-20"), 10.0)
    run(w, "b", d("2025-01-22"), 10.0)
    w.build(d("2025-03-23"), [athlete("a"), athlete("b")])
    yield w
    w.close()


def test_week_plan_restates_the_flag_thresholds_with_the_numbers(plan_wh):
    p = queries.week_plan(plan_wh.con, "a", d("2025-03-19"))
    assert (p.athlete_id, p.as_of, p.week_start, p.days_into_week) == ("a", d("2025-03-19"), d("2025-03-17"), 3)
    assert p.last_workout_date == d("2025-03-18")
    # the 30 days 18 Feb .. 19 Mar: 14 km on 18 Feb (20 km on 15 Feb is older; 30 km on 20 Mar is later)
    assert p.longest_run_30d_m == 14000.0 and p.longest_run_30d_date == d("2025-02-18")
    assert p.long_run_limit_m == pytest.approx(15400.0, abs=1e-6)
    # this week so far: 8 km (Mon 17) + 6 km (Tue 18); last week (10-16 Mar): 8 + 12 km, limit +30 %
    assert p.week_run_m == pytest.approx(14000.0, abs=1e-6)
    assert p.last_week_run_m == pytest.approx(20000.0, abs=1e-6)
    assert p.week_run_limit_m == pytest.approx(26000.0, abs=1e-6)
    # lower-body sessions: one so far (the bench session and Friday's squats do not count); usual:
    # the median of 2, 1, 3, 1, 0, 2, 3, 1 = 1.5 (not the mean 1.625; the first two weeks' 5s left out)
    assert p.lower_sessions_week == 1
    assert p.lower_sessions_usual == 1.5 and p.usual_weeks == 8


def test_week_plan_on_a_sunday_and_after_a_break(plan_wh):
    # Sunday 16 Mar: that week (10-16 Mar) is this week; the week before (3-9 Mar) had 8 km
    p = queries.week_plan(plan_wh.con, "a", d("2025-03-16"))
    assert (p.week_start, p.days_into_week) == (d("2025-03-10"), 7)
    assert p.week_run_m == pytest.approx(20000.0, abs=1e-6)
    assert p.last_week_run_m == pytest.approx(8000.0, abs=1e-6)
    assert p.week_run_limit_m == pytest.approx(10400.0, abs=1e-6)
    assert p.lower_sessions_week == 1 and p.lower_sessions_usual == 2.0 and p.usual_weeks == 8  # 5,2,1,3,1,0,2,3
    # b: nothing since 22 Jan: no run in the 30 days, no running last week, no lower-body sessions
    b = queries.week_plan(plan_wh.con, "b", d("2025-03-19"))
    assert b.last_workout_date == d("2025-01-22")
    assert (b.longest_run_30d_m, b.longest_run_30d_date, b.long_run_limit_m) == (None, None, None)
    assert (b.week_run_m, b.last_week_run_m, b.week_run_limit_m) == (0, None, None)
    assert (b.lower_sessions_week, b.lower_sessions_usual, b.usual_weeks) == (0, 0.0, 8)
    # the first week: no complete week before it, no usual
    c = queries.week_plan(plan_wh.con, "a", d("2025-01-08"))
    assert (c.usual_weeks, c.lower_sessions_usual, c.last_week_run_m, c.week_run_limit_m) == (0, None, None, None)
    assert c.longest_run_30d_m == 8000.0 and c.lower_sessions_week == 2


def test_data_gaps_are_breaks_of_14_days_or_more(plan_wh):
    # b: 6 Jan, 20 Jan (13 days between: not a break), 22 Jan, then nothing to the as-of date 23 Mar
    assert queries.data_gaps(plan_wh.con) == [queries.Gap("b", d("2025-01-23"), d("2025-03-23"))]


def test_knee_stress_days_averages_each_source(plan_wh):
    rows = {r["date"]: r for r in queries.knee_stress_days(plan_wh.con) if r["athlete_id"] == "b"}
    assert len(rows) == (d("2025-03-23") - d("2025-01-06")).days + 1
    # runs of 10 km = 25 kBW on days 1, 15, 17; no strength
    assert rows[d("2025-01-11")]["run_impact_7d_kbw"] is None  # day 6
    assert rows[d("2025-01-12")]["run_impact_7d_kbw"] == pytest.approx(25 / 7)  # day 7
    assert rows[d("2025-01-13")]["run_impact_7d_kbw"] == 0  # day 8: the run of day 1 left the window
    assert rows[d("2025-01-22")]["run_impact_7d_kbw"] == pytest.approx(50 / 7)
    assert rows[d("2025-02-01")]["run_impact_28d_kbw"] is None  # day 27
    assert rows[d("2025-02-02")]["run_impact_28d_kbw"] == pytest.approx(75 / 28)  # day 28
    assert rows[d("2025-02-03")]["run_impact_28d_kbw"] == pytest.approx(50 / 28)
    assert rows[d("2025-02-02")]["strength_knee_28d_kbw"] == 0
    a = [r for r in queries.knee_stress_days(plan_wh.con) if r["athlete_id"] == "a"]
    squat_day = next(r for r in a if r["date"] == d("2025-01-21"))  # week 3, one squat session (Tue)
    assert squat_day["strength_knee_load_kbw"] > 0 and squat_day["run_impact_kbw"] == 0
    window = [r["strength_knee_load_kbw"] for r in a if d("2025-01-15") <= r["date"] <= d("2025-01-21")]
    assert squat_day["strength_knee_7d_kbw"] == pytest.approx(sum(window) / 7)
