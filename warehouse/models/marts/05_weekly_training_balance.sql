-- grain: one row per athlete per ISO week (Monday start) from the first workout to the as-of date
-- sums of measured values are exact and independent of the order rows arrive in (so a rebuild
-- gives the same bits on any number of threads): each value is summed as an integer count of
-- 1e-12 units, sum(round(1e12 * x)::HUGEINT) / 1e12 (cheaper than an ordered sum)
CREATE OR REPLACE TABLE marts.weekly_training_balance AS
WITH days AS (
    SELECT *, date_trunc('week', date)::DATE AS week_start FROM marts.daily_training_load
),
runs AS (
    SELECT athlete_id, date_trunc('week', local_date)::DATE AS week_start, max(distance_m) AS longest_run_m
    FROM marts.fct_activities WHERE sport_group = 'run' GROUP BY ALL
),
imputed AS (
    SELECT athlete_id, date_trunc('week', local_date)::DATE AS week_start,
           sum(round(1e12 * session_load_au)::HUGEINT) FILTER (WHERE effort_source = 'imputed') / 1e12 AS imputed_load_au,
           sum(round(1e12 * session_load_au)::HUGEINT) / 1e12 AS load_au
    FROM marts.fct_activities GROUP BY ALL
),
weeks AS (
    SELECT
        athlete_id, week_start,
        count(*)::INTEGER AS days_in_data,
        sum(round(1e12 * run_distance_m)::HUGEINT) / 1e12 AS run_distance_m,
        sum(run_count)::INTEGER AS run_count,
        sum(round(1e12 * run_time_s)::HUGEINT) / 1e12 AS run_time_s,
        sum(strength_sessions)::INTEGER AS strength_sessions,
        sum(round(1e12 * strength_time_s)::HUGEINT) / 1e12 AS strength_time_s,
        sum(round(1e12 * strength_volume_load_kg)::HUGEINT) / 1e12 AS strength_volume_load_kg,
        sum(hard_sets_lower)::INTEGER AS hard_sets_lower,
        sum(hard_sets_upper)::INTEGER AS hard_sets_upper,
        sum(hard_sets_core)::INTEGER AS hard_sets_core,
        sum(hard_sets_knee)::INTEGER AS hard_sets_knee,
        sum(hard_sets_hip)::INTEGER AS hard_sets_hip,
        sum(round(1e12 * run_session_load_au)::HUGEINT) / 1e12 AS run_session_load_au,
        sum(round(1e12 * strength_session_load_au)::HUGEINT) / 1e12 AS strength_session_load_au,
        sum(round(1e12 * total_session_load_au)::HUGEINT) / 1e12 AS total_session_load_au,
        sum(round(1e12 * impact_load_kbw)::HUGEINT) / 1e12 AS impact_load_kbw,
        avg(total_session_load_au ORDER BY date) AS mean_load,
        stddev_pop(total_session_load_au ORDER BY date) AS sd_load
    FROM days GROUP BY ALL
),
final AS (
    SELECT
        w.athlete_id,
        w.week_start,
        isoyear(w.week_start) AS iso_year,
        weekofyear(w.week_start) AS iso_week,
        w.days_in_data,
        w.run_distance_m,
        w.run_distance_m / 1000.0 AS run_distance_km,
        w.run_count,
        coalesce(r.longest_run_m, 0) AS longest_run_m,
        w.days_in_data = 7 AS is_complete_week,
        -- complete weeks only: neither the first, partial week nor the current week in progress has a ramp
        CASE WHEN w.days_in_data = 7 AND lag(w.days_in_data) OVER win = 7 AND lag(w.run_distance_m) OVER win > 0
             THEN (w.run_distance_m / lag(w.run_distance_m) OVER win - 1) * 100 END AS mileage_ramp_pct,
        w.strength_sessions,
        w.strength_volume_load_kg,
        w.hard_sets_lower, w.hard_sets_upper, w.hard_sets_core, w.hard_sets_knee, w.hard_sets_hip,
        w.run_session_load_au, w.strength_session_load_au, w.total_session_load_au,
        CASE WHEN w.run_session_load_au + w.strength_session_load_au > 0
             THEN w.strength_session_load_au / (w.run_session_load_au + w.strength_session_load_au) END
            AS strength_share_of_session_load,
        CASE WHEN w.run_time_s + w.strength_time_s > 0
             THEN w.strength_time_s / (w.run_time_s + w.strength_time_s) END AS strength_share_of_training_time,
        w.impact_load_kbw,
        CASE WHEN i.load_au > 0 THEN coalesce(i.imputed_load_au, 0) / i.load_au END AS imputed_load_share,
        CASE WHEN sum(w.hard_sets_knee) OVER win4 > 0
             THEN sum(w.hard_sets_hip) OVER win4 / sum(w.hard_sets_knee) OVER win4 END AS posterior_anterior_ratio_4w,
        -- monotony needs 7 days: complete weeks only
        CASE WHEN w.days_in_data = 7 AND w.sd_load > 0 THEN w.mean_load / w.sd_load END AS monotony,
        CASE WHEN w.days_in_data = 7 AND w.sd_load > 0 THEN w.total_session_load_au * w.mean_load / w.sd_load END
            AS strain_au,
        0::INTEGER AS flags_count
    FROM weeks w
    LEFT JOIN runs r USING (athlete_id, week_start)
    LEFT JOIN imputed i USING (athlete_id, week_start)
    WINDOW win AS (PARTITION BY w.athlete_id ORDER BY w.week_start),
           win4 AS (PARTITION BY w.athlete_id ORDER BY w.week_start ROWS BETWEEN 3 PRECEDING AND CURRENT ROW)
)
SELECT * FROM final ORDER BY athlete_id, week_start;
COMMENT ON TABLE marts.weekly_training_balance IS 'One row per athlete per ISO week (Monday start): running against lifting, mechanical load and warnings.';
COMMENT ON COLUMN marts.weekly_training_balance.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN marts.weekly_training_balance.week_start IS 'Monday of the ISO week.';
COMMENT ON COLUMN marts.weekly_training_balance.iso_year IS 'ISO year.';
COMMENT ON COLUMN marts.weekly_training_balance.iso_week IS 'ISO week number.';
COMMENT ON COLUMN marts.weekly_training_balance.days_in_data IS 'Days of the week inside the data span (7 except the first and the current week).';
COMMENT ON COLUMN marts.weekly_training_balance.run_distance_m IS 'Running distance, m.';
COMMENT ON COLUMN marts.weekly_training_balance.run_distance_km IS 'Running distance, km.';
COMMENT ON COLUMN marts.weekly_training_balance.run_count IS 'Runs.';
COMMENT ON COLUMN marts.weekly_training_balance.longest_run_m IS 'Longest run, m.';
COMMENT ON COLUMN marts.weekly_training_balance.is_complete_week IS 'True when the athlete''s history covers all 7 days of the week (false for the first, partial week and the current week in progress).';
COMMENT ON COLUMN marts.weekly_training_balance.mileage_ramp_pct IS 'Running distance change against the previous week, %; complete weeks only (NULL for the first, partial week, the current week in progress, the week after them, and after a week without running).';
COMMENT ON COLUMN marts.weekly_training_balance.strength_sessions IS 'Strength sessions.';
COMMENT ON COLUMN marts.weekly_training_balance.strength_volume_load_kg IS 'Strength volume load (reps x weight), kg.';
COMMENT ON COLUMN marts.weekly_training_balance.hard_sets_lower IS 'Hard sets, lower body.';
COMMENT ON COLUMN marts.weekly_training_balance.hard_sets_upper IS 'Hard sets, upper body.';
COMMENT ON COLUMN marts.weekly_training_balance.hard_sets_core IS 'Hard sets, core.';
COMMENT ON COLUMN marts.weekly_training_balance.hard_sets_knee IS 'Hard sets, knee-dominant (anterior).';
COMMENT ON COLUMN marts.weekly_training_balance.hard_sets_hip IS 'Hard sets, hip-dominant (posterior).';
COMMENT ON COLUMN marts.weekly_training_balance.run_session_load_au IS 'Session load of runs, AU.';
COMMENT ON COLUMN marts.weekly_training_balance.strength_session_load_au IS 'Session load of strength sessions, AU.';
COMMENT ON COLUMN marts.weekly_training_balance.total_session_load_au IS 'Total session load, AU.';
COMMENT ON COLUMN marts.weekly_training_balance.strength_share_of_session_load IS 'Strength session load / (running + strength session load), 0-1.';
COMMENT ON COLUMN marts.weekly_training_balance.strength_share_of_training_time IS 'Strength time / (running + strength time), 0-1.';
COMMENT ON COLUMN marts.weekly_training_balance.impact_load_kbw IS 'Mechanical load (running impact + strength knee load), kBW.';
COMMENT ON COLUMN marts.weekly_training_balance.imputed_load_share IS 'Share of the week''s session load whose effort was imputed (effort_source imputed), 0-1; NULL without session load.';
COMMENT ON COLUMN marts.weekly_training_balance.posterior_anterior_ratio_4w IS 'Posterior (hip hinge, hip extension, knee flexion) : anterior (knee-dominant) hard sets over this and the 3 previous weeks (hamstring:quadriceps proxy); NULL without knee-dominant sets.';
COMMENT ON COLUMN marts.weekly_training_balance.monotony IS 'Mean / population standard deviation of the week''s daily session load (rest days 0); complete weeks only (7 days); NULL when the deviation is 0.';
COMMENT ON COLUMN marts.weekly_training_balance.strain_au IS 'Week''s total session load x monotony (Foster 1998), AU; complete weeks only.';
COMMENT ON COLUMN marts.weekly_training_balance.flags_count IS 'Flags (marts.training_flags) dated in this week.';
