-- grain: one row per athlete and training block that has started by the as-of date
-- Blocks come from the settings (staging.athlete_blocks: athletes.<id>.blocks, name, start, end,
-- optional goal race); an athlete without any gets consecutive blocks of 12 ISO weeks (84 days,
-- Monday to Sunday), the last ending on the Sunday of the week of the athlete's latest workout, back
-- to the week of the first workout. A block's days are those inside the athlete's data (first workout
-- to the as-of date, marts.daily_training_load), so a block in progress is summarised so far; "per
-- week" is per 7 of those days. Formulas and thresholds: docs/metrics.md ("Training blocks").
-- sums of measured values are exact and independent of the order rows arrive in (so a rebuild
-- gives the same bits on any number of threads): each value is summed as an integer count of
-- 1e-12 units, sum(round(1e12 * x)::HUGEINT) / 1e12 (cheaper than an ordered sum)
CREATE OR REPLACE TABLE marts.block_summary AS
WITH configured AS (
    SELECT athlete_id, block_name, start_date, end_date, race_name, 'settings' AS block_source
    FROM staging.athlete_blocks
    WHERE start_date <= getvariable('as_of')::DATE
),
span AS (
    SELECT athlete_id, min(local_date) AS first_date, max(local_date) AS last_date
    FROM marts.fct_activities GROUP BY ALL
),
auto_span AS (
    SELECT s.athlete_id, date_trunc('week', s.last_date)::DATE + 6 AS last_end,
           -- blocks needed to reach back to the first workout's week
           ((date_trunc('week', s.last_date)::DATE - date_trunc('week', s.first_date)::DATE) // 84 + 1)::INTEGER AS n
    FROM span s
    WHERE NOT EXISTS (SELECT 1 FROM staging.athlete_blocks b WHERE b.athlete_id = s.athlete_id)
),
auto AS (
    SELECT athlete_id,
           strftime(last_end - 84 * k - 83, '%Y-%m-%d') || ' to ' || strftime(last_end - 84 * k, '%Y-%m-%d') AS block_name,
           last_end - 84 * k - 83 AS start_date, last_end - 84 * k AS end_date,
           NULL::VARCHAR AS race_name, 'auto_12_weeks' AS block_source
    FROM auto_span, LATERAL (SELECT unnest(range(n))::INTEGER AS k) r
),
blocks AS (
    SELECT b.*, r.race_date,
           (row_number() OVER (PARTITION BY b.athlete_id ORDER BY b.start_date DESC, b.block_name) - 1)::INTEGER AS blocks_ago
    FROM (SELECT * FROM configured UNION ALL BY NAME SELECT * FROM auto) b
    LEFT JOIN (SELECT athlete_id, name, min(race_date) AS race_date FROM staging.stg_settings__races GROUP BY ALL) r
      ON r.athlete_id = b.athlete_id AND r.name = b.race_name
),
block_days AS (
    SELECT b.athlete_id, b.block_name, d.date, (d.date - b.start_date) // 7 AS week_index,
           d.run_distance_m, d.run_count, d.run_impact_kbw, d.strength_knee_load_kbw, d.strength_sessions,
           d.hard_sets_hip, d.hard_sets_knee, d.run_session_load_au, d.strength_session_load_au
    FROM blocks b
    JOIN marts.daily_training_load d ON d.athlete_id = b.athlete_id AND d.date BETWEEN b.start_date AND b.end_date
),
totals AS (
    SELECT athlete_id, block_name,
           count(*)::INTEGER AS days,
           sum(round(1e12 * run_distance_m)::HUGEINT) / 1e12 AS run_distance_m,
           sum(run_count)::INTEGER AS runs,
           sum(round(1e12 * run_impact_kbw)::HUGEINT) / 1e12 AS run_impact_kbw,
           sum(round(1e12 * strength_knee_load_kbw)::HUGEINT) / 1e12 AS strength_knee_load_kbw,
           sum(strength_sessions)::INTEGER AS strength_sessions,
           sum(hard_sets_hip)::INTEGER AS hard_sets_hip,
           sum(hard_sets_knee)::INTEGER AS hard_sets_knee,
           sum(round(1e12 * run_session_load_au)::HUGEINT) / 1e12 AS run_session_load_au,
           sum(round(1e12 * strength_session_load_au)::HUGEINT) / 1e12 AS strength_session_load_au
    FROM block_days GROUP BY ALL
),
block_weeks AS (
    -- 7-day windows from the block's first day; only whole ones (7 days in the data) vary
    SELECT athlete_id, block_name, week_index, sum(round(1e12 * run_distance_m)::HUGEINT) / 1e15 AS run_km
    FROM block_days GROUP BY ALL HAVING count(*) = 7
),
variability AS (
    SELECT athlete_id, block_name, count(*)::INTEGER AS whole_weeks,
           avg(run_km ORDER BY week_index) AS mean_km, stddev_pop(run_km ORDER BY week_index) AS sd_km
    FROM block_weeks GROUP BY ALL
),
runs AS (
    SELECT b.athlete_id, b.block_name,
           count(*) FILTER (WHERE a.distance_m >= 16000)::INTEGER AS runs_16km_plus,
           max(a.distance_m) AS longest_run_m
    FROM blocks b
    JOIN marts.fct_activities a ON a.athlete_id = b.athlete_id AND a.sport_group = 'run'
     AND a.local_date BETWEEN b.start_date AND b.end_date
    GROUP BY ALL
),
hard_sets AS (
    -- hard sets per block and exercise first (a few rows per block), then mapped to muscle groups as in
    -- marts.weekly_muscle_volume
    SELECT b.athlete_id, b.block_name, h.exercise_category, h.exercise_name, h.source, h.app_exercise_key, sum(h.n) AS n
    FROM (SELECT athlete_id, local_date, exercise_category, exercise_name, source,
                 CASE WHEN source <> 'fit' THEN lower(trim(exercise_title)) END AS app_exercise_key, count(*) AS n
          FROM marts.fct_strength_sets WHERE is_hard_set GROUP BY ALL) h
    JOIN blocks b ON b.athlete_id = h.athlete_id AND h.local_date BETWEEN b.start_date AND b.end_date
    GROUP BY ALL
),
mapped AS (
    -- an app exercise's own mapping first (user, seed or Hevy template), as in marts.weekly_muscle_volume
    SELECT h.*,
           coalesce(a.primary_muscle, n.primary_muscle, c.primary_muscle, 'unmapped') AS primary_muscle,
           CASE WHEN a.app_exercise_key IS NOT NULL THEN coalesce(a.secondary_muscles, [])
                ELSE coalesce(n.secondary_muscles, c.secondary_muscles, []) END AS secondary_muscles
    FROM hard_sets h
    LEFT JOIN staging.app_exercise_map a ON a.source = h.source AND a.app_exercise_key = h.app_exercise_key
     AND a.mapped_by IN ('user', 'seed', 'hevy_template')
    LEFT JOIN staging.exercise_muscles n ON n.exercise_category = h.exercise_category AND n.exercise_name = h.exercise_name
    LEFT JOIN staging.exercise_muscles c ON c.exercise_category = h.exercise_category AND c.exercise_name IS NULL
),
roles AS (
    -- in half sets: 2 for the primary muscle group, 1 for each secondary one (fractional counting)
    SELECT athlete_id, block_name, primary_muscle AS muscle_group, 2 * n AS half_sets FROM mapped
    UNION ALL
    SELECT athlete_id, block_name, unnest(secondary_muscles) AS muscle_group, n AS half_sets FROM mapped
),
muscles AS (
    SELECT athlete_id, block_name, muscle_group, sum(half_sets) AS half_sets
    FROM roles
    GROUP BY ALL
),
ranges (muscle_group, usual_low, usual_high, group_order) AS (
    -- the usual weekly hard sets of a runner who lifts (docs/metrics.md, "Reading the weekly hard sets"):
    -- 4-10 for the lower-body groups (strength work supporting running), 1-4 (keeping what is gained) else
    VALUES ('quadriceps', 4, 10, 1), ('hamstrings_knee_flexion', 4, 10, 2), ('hamstrings_hip_hinge', 4, 10, 3),
           ('glutes', 4, 10, 4), ('calves', 4, 10, 5), ('hip_stability', 1, 4, 6), ('core', 1, 4, 7),
           ('upper_push', 1, 4, 8), ('upper_pull', 1, 4, 9)
),
per_group AS (
    SELECT t.athlete_id, t.block_name, g.muscle_group, g.usual_low, g.usual_high, g.group_order,
           coalesce(m.half_sets, 0) / 2.0 / (t.days / 7.0) AS per_week
    FROM totals t CROSS JOIN ranges g
    LEFT JOIN muscles m ON m.athlete_id = t.athlete_id AND m.block_name = t.block_name AND m.muscle_group = g.muscle_group
),
weakest AS (
    SELECT athlete_id, block_name,
           arg_min({'g': muscle_group, 'v': per_week, 'lo': usual_low, 'hi': usual_high},
                   {'r': per_week / usual_low, 'o': group_order}) AS w
    FROM per_group GROUP BY ALL
),
pivot_groups AS (
    SELECT athlete_id, block_name,
           max(per_week) FILTER (WHERE muscle_group = 'quadriceps') AS quadriceps,
           max(per_week) FILTER (WHERE muscle_group = 'hamstrings_knee_flexion') AS hamstrings_knee_flexion,
           max(per_week) FILTER (WHERE muscle_group = 'hamstrings_hip_hinge') AS hamstrings_hip_hinge,
           max(per_week) FILTER (WHERE muscle_group = 'glutes') AS glutes,
           max(per_week) FILTER (WHERE muscle_group = 'calves') AS calves,
           max(per_week) FILTER (WHERE muscle_group = 'hip_stability') AS hip_stability,
           max(per_week) FILTER (WHERE muscle_group = 'core') AS core,
           max(per_week) FILTER (WHERE muscle_group = 'upper_push') AS upper_push,
           max(per_week) FILTER (WHERE muscle_group = 'upper_pull') AS upper_pull
    FROM per_group GROUP BY ALL
),
flag_kinds AS (
    SELECT b.athlete_id, b.block_name, f.flag, count(*)::INTEGER AS n,
           count(*) FILTER (WHERE f.severity IN ('warning', 'alert'))::INTEGER AS n_warning
    FROM blocks b
    JOIN marts.training_flags f ON f.athlete_id = b.athlete_id AND f.date BETWEEN b.start_date AND b.end_date
    GROUP BY ALL
),
flags AS (
    SELECT athlete_id, block_name, map(list(flag ORDER BY flag), list(n ORDER BY flag)) AS flags_by_kind,
           sum(n)::INTEGER AS flags, sum(n_warning)::INTEGER AS flags_warning_or_alert
    FROM flag_kinds GROUP BY ALL
),
final AS (
    SELECT
        b.athlete_id,
        b.block_name,
        b.block_source,
        b.blocks_ago,
        b.start_date,
        b.end_date,
        b.race_name,
        b.race_date,
        t.days,
        b.end_date <= getvariable('as_of')::DATE AS is_complete,
        t.run_distance_m,
        t.run_distance_m / 1000.0 AS run_distance_km,
        t.runs,
        coalesce(r.runs_16km_plus, 0) AS runs_16km_plus,
        coalesce(r.longest_run_m, 0) AS longest_run_m,
        t.run_distance_m / 1000.0 / (t.days / 7.0) AS avg_weekly_run_km,
        v.whole_weeks,
        CASE WHEN v.whole_weeks >= 2 AND v.mean_km > 0 THEN v.sd_km / v.mean_km END AS weekly_run_km_cv,
        t.strength_sessions,
        t.strength_sessions / (t.days / 7.0) AS strength_sessions_per_week,
        p.quadriceps AS hard_sets_per_week_quadriceps,
        p.hamstrings_knee_flexion AS hard_sets_per_week_hamstrings_knee_flexion,
        p.hamstrings_hip_hinge AS hard_sets_per_week_hamstrings_hip_hinge,
        p.glutes AS hard_sets_per_week_glutes,
        p.calves AS hard_sets_per_week_calves,
        p.hip_stability AS hard_sets_per_week_hip_stability,
        p.core AS hard_sets_per_week_core,
        p.upper_push AS hard_sets_per_week_upper_push,
        p.upper_pull AS hard_sets_per_week_upper_pull,
        CASE WHEN t.strength_sessions > 0 THEN wk.w.g END AS weakest_muscle_group,
        CASE WHEN t.strength_sessions > 0 THEN wk.w.v END AS weakest_hard_sets_per_week,
        CASE WHEN t.strength_sessions > 0 THEN wk.w.lo END AS weakest_usual_low,
        CASE WHEN t.strength_sessions > 0 THEN wk.w.hi END AS weakest_usual_high,
        t.run_impact_kbw / (t.days / 7.0) AS run_impact_kbw_per_week,
        t.strength_knee_load_kbw / (t.days / 7.0) AS strength_knee_load_kbw_per_week,
        CASE WHEN t.run_session_load_au + t.strength_session_load_au > 0
             THEN t.strength_session_load_au / (t.run_session_load_au + t.strength_session_load_au) END
            AS strength_share_of_session_load,
        CASE WHEN t.hard_sets_knee > 0 THEN t.hard_sets_hip / t.hard_sets_knee END AS posterior_anterior_ratio,
        coalesce(f.flags, 0) AS flags,
        coalesce(f.flags_warning_or_alert, 0) AS flags_warning_or_alert,
        coalesce(f.flags_by_kind, MAP {}::MAP(VARCHAR, INTEGER)) AS flags_by_kind
    FROM blocks b
    JOIN totals t USING (athlete_id, block_name)
    LEFT JOIN variability v USING (athlete_id, block_name)
    LEFT JOIN runs r USING (athlete_id, block_name)
    LEFT JOIN pivot_groups p USING (athlete_id, block_name)
    LEFT JOIN weakest wk USING (athlete_id, block_name)
    LEFT JOIN flags f USING (athlete_id, block_name)
)
SELECT * FROM final ORDER BY athlete_id, start_date;
COMMENT ON TABLE marts.block_summary IS 'One row per athlete and training block started by the as-of date (the settings'' athletes.<id>.blocks, else 12-week blocks ending with the latest data): running, strength, joint load, balance and flags of the block, per week where it says so, to compare a block with the one before (blocks_ago).';
COMMENT ON COLUMN marts.block_summary.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN marts.block_summary.block_name IS 'The settings'' name of the block, or for 12-week blocks ''<first day> to <last day>''.';
COMMENT ON COLUMN marts.block_summary.block_source IS 'settings (athletes.<id>.blocks) or auto_12_weeks (no blocks configured: consecutive 12 ISO weeks, the last ending on the Sunday of the latest workout''s week).';
COMMENT ON COLUMN marts.block_summary.blocks_ago IS '0: the most recent block started by the as-of date (the current one), 1: the one before it, and so on.';
COMMENT ON COLUMN marts.block_summary.start_date IS 'First day of the block (local date).';
COMMENT ON COLUMN marts.block_summary.end_date IS 'Last day of the block, inclusive (after the as-of date while it is in progress).';
COMMENT ON COLUMN marts.block_summary.race_name IS 'Goal race of the block (settings), or NULL.';
COMMENT ON COLUMN marts.block_summary.race_date IS 'Day of the goal race (athletes.<id>.races), or NULL.';
COMMENT ON COLUMN marts.block_summary.days IS 'Days of the block inside the athlete''s data (first workout to the as-of date); the per-week values divide by days / 7.';
COMMENT ON COLUMN marts.block_summary.is_complete IS 'True when the block ended on or before the as-of date.';
COMMENT ON COLUMN marts.block_summary.run_distance_m IS 'Running distance of the block, m (workouts that include running).';
COMMENT ON COLUMN marts.block_summary.run_distance_km IS 'Running distance of the block, km.';
COMMENT ON COLUMN marts.block_summary.runs IS 'Runs.';
COMMENT ON COLUMN marts.block_summary.runs_16km_plus IS 'Long runs: runs of 16 km (about 10 miles) or more (docs/metrics.md; not named long_runs: a column name with long as a word would read as a position).';
COMMENT ON COLUMN marts.block_summary.longest_run_m IS 'Longest run, m (0 without runs).';
COMMENT ON COLUMN marts.block_summary.avg_weekly_run_km IS 'Average weekly running distance: run_distance_km / (days / 7), km.';
COMMENT ON COLUMN marts.block_summary.whole_weeks IS 'Whole 7-day windows from the block''s first day inside the data (what weekly_run_km_cv is computed over).';
COMMENT ON COLUMN marts.block_summary.weekly_run_km_cv IS 'Variability of the weekly running distance: population standard deviation / mean of the whole 7-day windows'' km (coefficient of variation, 0 = every week alike); NULL with fewer than 2 windows or no running.';
COMMENT ON COLUMN marts.block_summary.strength_sessions IS 'Strength sessions.';
COMMENT ON COLUMN marts.block_summary.strength_sessions_per_week IS 'Strength sessions / (days / 7).';
COMMENT ON COLUMN marts.block_summary.hard_sets_per_week_quadriceps IS 'Fractional hard sets per week, quadriceps (a set counts 1 for its primary muscle group, 0.5 for each secondary one, as in marts.weekly_muscle_volume).';
COMMENT ON COLUMN marts.block_summary.hard_sets_per_week_hamstrings_knee_flexion IS 'Fractional hard sets per week, hamstrings as knee flexors (leg curls, Nordics).';
COMMENT ON COLUMN marts.block_summary.hard_sets_per_week_hamstrings_hip_hinge IS 'Fractional hard sets per week, hamstrings in a hip hinge (RDLs, good mornings, deadlifts).';
COMMENT ON COLUMN marts.block_summary.hard_sets_per_week_glutes IS 'Fractional hard sets per week, glutes.';
COMMENT ON COLUMN marts.block_summary.hard_sets_per_week_calves IS 'Fractional hard sets per week, calves.';
COMMENT ON COLUMN marts.block_summary.hard_sets_per_week_hip_stability IS 'Fractional hard sets per week, hip adductors and abductors.';
COMMENT ON COLUMN marts.block_summary.hard_sets_per_week_core IS 'Fractional hard sets per week, core.';
COMMENT ON COLUMN marts.block_summary.hard_sets_per_week_upper_push IS 'Fractional hard sets per week, upper-body push.';
COMMENT ON COLUMN marts.block_summary.hard_sets_per_week_upper_pull IS 'Fractional hard sets per week, upper-body pull.';
COMMENT ON COLUMN marts.block_summary.weakest_muscle_group IS 'The muscle group furthest below its usual weekly hard sets (lowest hard sets per week / low end of its usual range: 4-10 for the lower-body groups, 1-4 for the others; docs/metrics.md); ties in the order of the columns above; NULL without strength sessions.';
COMMENT ON COLUMN marts.block_summary.weakest_hard_sets_per_week IS 'Fractional hard sets per week of weakest_muscle_group.';
COMMENT ON COLUMN marts.block_summary.weakest_usual_low IS 'Low end of the weakest group''s usual weekly hard sets.';
COMMENT ON COLUMN marts.block_summary.weakest_usual_high IS 'High end of the weakest group''s usual weekly hard sets.';
COMMENT ON COLUMN marts.block_summary.run_impact_kbw_per_week IS 'Running impact load per week, kBW (marts.daily_training_load.run_impact_kbw).';
COMMENT ON COLUMN marts.block_summary.strength_knee_load_kbw_per_week IS 'Knee load of strength sets per week, kBW (same axis as running impact).';
COMMENT ON COLUMN marts.block_summary.strength_share_of_session_load IS 'Strength session load / (running + strength session load) of the block, 0-1; NULL without either.';
COMMENT ON COLUMN marts.block_summary.posterior_anterior_ratio IS 'Posterior (hip hinge, hip extension, knee flexion) : anterior (knee-dominant) hard sets of the block (as marts.weekly_training_balance.posterior_anterior_ratio_4w); NULL without knee-dominant hard sets.';
COMMENT ON COLUMN marts.block_summary.flags IS 'Flags (marts.training_flags) dated in the block.';
COMMENT ON COLUMN marts.block_summary.flags_warning_or_alert IS 'Those of severity warning or alert.';
COMMENT ON COLUMN marts.block_summary.flags_by_kind IS 'Flags dated in the block by kind: a map from the flag name to how many (empty: none).';
