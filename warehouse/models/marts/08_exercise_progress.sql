-- grain: one row per athlete, exercise and ISO week (Monday start) with at least one set of it
-- The exercise is marts.fct_strength_sets.exercise (the watch's exercise name, else its category) within
-- its category, the same key the set bests are kept for; its e1RM is that mart's (Epley, 1-12 reps),
-- not recomputed. Garmin's 'unknown' (the watch could not tell) has a row for its sets but no best.
-- sums of measured values are exact and independent of the order rows arrive in (so a rebuild
-- gives the same bits on any number of threads): each value is summed as an integer count of
-- 1e-12 units, sum(round(1e12 * x)::HUGEINT) / 1e12 (cheaper than an ordered sum)
CREATE OR REPLACE TABLE marts.exercise_progress AS
WITH days AS (
    -- one row per training day and exercise first (cheaper to group than per workout key)
    SELECT athlete_id, local_date, exercise_category, exercise,
           max(exercise_name) AS exercise_name,
           -- the lifting app whose exercise name this is, when the key is an app's own name
           max(source) FILTER (WHERE source <> 'fit') AS app,
           count(*) AS sets,
           count(*) FILTER (WHERE is_hard_set) AS hard_sets,
           sum(repetitions) AS repetitions,
           sum(round(1e12 * volume_load_kg)::HUGEINT) AS volume_units,
           max(e1rm_kg) AS best_e1rm_kg,
           -- the heaviest set (no weight recorded counts as 0), then the most repetitions at that weight
           max(coalesce(weight_kg, 0)) AS top_weight_kg,
           arg_max(repetitions, coalesce(weight_kg, 0) * 10000 + repetitions) AS top_reps,
           max(best_e1rm_90d_kg) AS best_e1rm_90d_kg
    FROM marts.fct_strength_sets
    GROUP BY athlete_id, local_date, exercise_category, exercise
),
weeks AS (
    SELECT athlete_id, exercise_category, exercise, date_trunc('week', local_date)::DATE AS week_start,
           max(exercise_name) AS exercise_name,
           max(app) AS app,
           count(*)::INTEGER AS training_days,
           sum(sets)::INTEGER AS sets,
           sum(hard_sets)::INTEGER AS hard_sets,
           sum(repetitions)::INTEGER AS repetitions,
           sum(volume_units) / 1e12 AS volume_load_kg,
           max(best_e1rm_kg) FILTER (WHERE exercise <> 'unknown') AS best_e1rm_kg,
           max(top_weight_kg) AS top_set_weight_kg,
           arg_max(top_reps, top_weight_kg * 10000 + top_reps) AS top_set_reps,
           -- the 90-day best as of the week's last training day of the exercise (one value per day)
           arg_max(best_e1rm_90d_kg, local_date) FILTER (WHERE exercise <> 'unknown') AS best_e1rm_90d_kg
    FROM days
    GROUP BY athlete_id, exercise_category, exercise, date_trunc('week', local_date)::DATE
),
seed AS (
    SELECT * FROM staging.exercise_muscles
),
mapped AS (
    -- as marts.weekly_muscle_volume: an app exercise's own mapping (the exercise is the app's name: no
    -- Garmin name), else the exercise name's own row, else its category's default, else unmapped
    SELECT w.*,
           coalesce(a.primary_muscle, n.primary_muscle, c.primary_muscle, 'unmapped') AS primary_muscle,
           CASE WHEN a.app_exercise_key IS NOT NULL THEN coalesce(a.secondary_muscles, [])
                ELSE coalesce(n.secondary_muscles, c.secondary_muscles, []) END AS secondary_muscles
    FROM weeks w
    LEFT JOIN staging.app_exercise_map a ON w.exercise_name IS NULL AND a.source = w.app
     AND a.app_exercise_key = w.exercise AND a.mapped_by IN ('user', 'seed', 'hevy_template')
    LEFT JOIN seed n ON n.exercise_category = w.exercise_category AND n.exercise_name = w.exercise_name
    LEFT JOIN seed c ON c.exercise_category = w.exercise_category AND c.exercise_name IS NULL
),
final AS (
    SELECT
        athlete_id,
        week_start,
        isoyear(week_start) AS iso_year,
        weekofyear(week_start) AS iso_week,
        exercise_category,
        exercise,
        primary_muscle,
        secondary_muscles,
        training_days,
        sets,
        hard_sets,
        repetitions,
        volume_load_kg,
        top_set_weight_kg,
        top_set_reps,
        best_e1rm_kg,
        best_e1rm_90d_kg,
        -- against the exercise's last earlier week with an e1RM
        CASE WHEN best_e1rm_kg IS NOT NULL THEN
            (best_e1rm_kg / lag(best_e1rm_kg IGNORE NULLS) OVER (PARTITION BY athlete_id, exercise_category, exercise
                                                                 ORDER BY week_start) - 1) * 100 END
            AS e1rm_change_pct
    FROM mapped
)
SELECT * FROM final ORDER BY athlete_id, exercise_category, exercise, week_start;
COMMENT ON TABLE marts.exercise_progress IS 'One row per athlete, exercise and ISO week (Monday start) with a set of it: best estimated 1RM, top set, volume load, hard sets (from marts.fct_strength_sets).';
COMMENT ON COLUMN marts.exercise_progress.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN marts.exercise_progress.week_start IS 'Monday of the ISO week.';
COMMENT ON COLUMN marts.exercise_progress.iso_year IS 'ISO year.';
COMMENT ON COLUMN marts.exercise_progress.iso_week IS 'ISO week number.';
COMMENT ON COLUMN marts.exercise_progress.exercise_category IS 'Garmin exercise category (unknown: the watch could not tell).';
COMMENT ON COLUMN marts.exercise_progress.exercise IS 'The exercise (marts.fct_strength_sets.exercise): the watch''s exercise name, else its category.';
COMMENT ON COLUMN marts.exercise_progress.primary_muscle IS 'Muscle group the exercise mainly trains (seed warehouse/seeds/exercise_muscles.csv, as in marts.weekly_muscle_volume); unmapped when not resistance work or not known.';
COMMENT ON COLUMN marts.exercise_progress.secondary_muscles IS 'Further muscle groups it trains (counted as half a set in marts.weekly_muscle_volume).';
COMMENT ON COLUMN marts.exercise_progress.training_days IS 'Days of the week with a set of the exercise.';
COMMENT ON COLUMN marts.exercise_progress.sets IS 'Active sets.';
COMMENT ON COLUMN marts.exercise_progress.hard_sets IS 'Hard sets (marts.fct_strength_sets.is_hard_set).';
COMMENT ON COLUMN marts.exercise_progress.repetitions IS 'Repetitions of all the sets.';
COMMENT ON COLUMN marts.exercise_progress.volume_load_kg IS 'Volume load (reps x weight), kg; NULL when no set recorded a weight.';
COMMENT ON COLUMN marts.exercise_progress.top_set_weight_kg IS 'Weight of the heaviest set, kg (0: body weight or no weight recorded).';
COMMENT ON COLUMN marts.exercise_progress.top_set_reps IS 'Repetitions of the heaviest set (the most at that weight).';
COMMENT ON COLUMN marts.exercise_progress.best_e1rm_kg IS 'Best estimated 1RM of the week''s sets (marts.fct_strength_sets.e1rm_kg: Epley, 1-12 reps with external load), kg; NULL without such a set or for unknown exercises.';
COMMENT ON COLUMN marts.exercise_progress.best_e1rm_90d_kg IS 'Best estimated 1RM of the exercise in the 90 days up to its last training day of the week (marts.fct_strength_sets.best_e1rm_90d_kg), kg.';
COMMENT ON COLUMN marts.exercise_progress.e1rm_change_pct IS 'best_e1rm_kg against the exercise''s previous week with an e1RM, %; NULL for the first.';
