-- grain: one row per athlete and ISO week (Monday start) with a loaded knee-flexion or knee-extension set
-- A strength H:Q proxy: the best estimated 1RM of the week's hamstring knee-flexion exercises (primary
-- muscle hamstrings_knee_flexion: leg curls) next to that of its knee-extension exercises (primary
-- muscle quadriceps: squats, lunges, leg press, leg extension), from marts.exercise_progress. Dynamic
-- e1RM ratios of different exercises are not isokinetic H:Q torque ratios (docs/metrics.md).
CREATE OR REPLACE TABLE marts.strength_balance AS
WITH sides AS (
    SELECT athlete_id, week_start, exercise, best_e1rm_kg, best_e1rm_90d_kg,
           CASE primary_muscle WHEN 'hamstrings_knee_flexion' THEN 'flexion' ELSE 'extension' END AS side
    FROM marts.exercise_progress
    WHERE primary_muscle IN ('hamstrings_knee_flexion', 'quadriceps') AND best_e1rm_kg IS NOT NULL
),
weeks AS (
    SELECT athlete_id, week_start,
           max(best_e1rm_kg) FILTER (WHERE side = 'flexion') AS knee_flexion_e1rm_kg,
           -- the exercise that gave it (ties: the first by name, so a rebuild picks the same)
           arg_max(exercise, {'e': best_e1rm_kg, 'x': exercise}) FILTER (WHERE side = 'flexion') AS knee_flexion_exercise,
           max(best_e1rm_90d_kg) FILTER (WHERE side = 'flexion') AS knee_flexion_best_90d_kg,
           max(best_e1rm_kg) FILTER (WHERE side = 'extension') AS knee_extension_e1rm_kg,
           arg_max(exercise, {'e': best_e1rm_kg, 'x': exercise}) FILTER (WHERE side = 'extension') AS knee_extension_exercise,
           max(best_e1rm_90d_kg) FILTER (WHERE side = 'extension') AS knee_extension_best_90d_kg
    FROM sides
    GROUP BY ALL
),
final AS (
    SELECT
        athlete_id,
        week_start,
        isoyear(week_start) AS iso_year,
        weekofyear(week_start) AS iso_week,
        knee_flexion_exercise,
        knee_flexion_e1rm_kg,
        knee_flexion_best_90d_kg,
        knee_extension_exercise,
        knee_extension_e1rm_kg,
        knee_extension_best_90d_kg,
        knee_flexion_e1rm_kg / knee_extension_e1rm_kg AS flexion_extension_ratio,
        knee_flexion_best_90d_kg / knee_extension_best_90d_kg AS flexion_extension_ratio_90d
    FROM weeks
)
SELECT * FROM final ORDER BY athlete_id, week_start;
COMMENT ON TABLE marts.strength_balance IS 'One row per athlete and ISO week with a loaded knee-flexion (leg curl) or knee-extension (squat, lunge, leg press, leg extension) set: their best estimated 1RMs side by side and their ratio, a strength hamstring:quadriceps proxy (not an isokinetic H:Q ratio; docs/metrics.md).';
COMMENT ON COLUMN marts.strength_balance.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN marts.strength_balance.week_start IS 'Monday of the ISO week.';
COMMENT ON COLUMN marts.strength_balance.iso_year IS 'ISO year.';
COMMENT ON COLUMN marts.strength_balance.iso_week IS 'ISO week number.';
COMMENT ON COLUMN marts.strength_balance.knee_flexion_exercise IS 'The knee-flexion exercise (primary muscle hamstrings_knee_flexion) with the week''s best e1RM.';
COMMENT ON COLUMN marts.strength_balance.knee_flexion_e1rm_kg IS 'Best estimated 1RM of the week''s knee-flexion exercises (marts.exercise_progress.best_e1rm_kg), kg; NULL without a loaded set of 1-12 reps (Nordics at body weight have none).';
COMMENT ON COLUMN marts.strength_balance.knee_flexion_best_90d_kg IS 'Best 90-day e1RM of the knee-flexion exercises trained that week (the trend), kg.';
COMMENT ON COLUMN marts.strength_balance.knee_extension_exercise IS 'The knee-extension exercise (primary muscle quadriceps) with the week''s best e1RM.';
COMMENT ON COLUMN marts.strength_balance.knee_extension_e1rm_kg IS 'Best estimated 1RM of the week''s knee-extension exercises (squats, lunges, leg press, leg extension), kg.';
COMMENT ON COLUMN marts.strength_balance.knee_extension_best_90d_kg IS 'Best 90-day e1RM of the knee-extension exercises trained that week (the trend), kg.';
COMMENT ON COLUMN marts.strength_balance.flexion_extension_ratio IS 'knee_flexion_e1rm_kg / knee_extension_e1rm_kg, where both exist: compare it with itself over time (same exercises), not with published H:Q ratios.';
COMMENT ON COLUMN marts.strength_balance.flexion_extension_ratio_90d IS 'knee_flexion_best_90d_kg / knee_extension_best_90d_kg, where both exist.';
