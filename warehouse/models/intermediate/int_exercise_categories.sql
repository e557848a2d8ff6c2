-- grain: one row per Garmin exercise category runlift classifies
-- body_region: lower / upper / core / other; lower_pattern: knee (quadriceps-dominant, anterior) or
-- hip (posterior: hip hinge, hip extension and knee flexion, hamstrings / glutes); NULL for lower-body
-- work that is neither (calf raises, hip stability, Olympic lifts). knee_factor: tibiofemoral load per repetition
-- in body weights at body weight only (see docs/metrics.md for sources and how rough these are).
CREATE OR REPLACE VIEW intermediate.int_exercise_categories AS
WITH final AS (
    SELECT * FROM (VALUES
        ('squat', 'lower', 'knee', 3.0),
        ('lunge', 'lower', 'knee', 3.0),
        ('plyo', 'lower', 'knee', 4.0),
        ('olympic_lift', 'lower', NULL, 3.0),
        ('sled', 'lower', 'knee', 2.0),
        ('total_body', 'lower', 'knee', 2.0),
        ('calf_raise', 'lower', NULL, 0.5),
        ('deadlift', 'lower', 'hip', 1.5),
        ('hip_raise', 'lower', 'hip', 0.5),
        ('hip_stability', 'lower', NULL, 0.5),
        ('hip_swing', 'lower', 'hip', 1.0),
        ('hyperextension', 'lower', 'hip', 0.3),
        ('leg_curl', 'lower', 'hip', 0.5),
        ('tire', 'lower', 'hip', 1.5),
        ('sandbag', 'lower', 'hip', 1.0),
        ('bench_press', 'upper', NULL, 0.0),
        ('push_up', 'upper', NULL, 0.0),
        ('pull_up', 'upper', NULL, 0.0),
        ('row', 'upper', NULL, 0.0),
        ('shoulder_press', 'upper', NULL, 0.0),
        ('shoulder_stability', 'upper', NULL, 0.0),
        ('curl', 'upper', NULL, 0.0),
        ('triceps_extension', 'upper', NULL, 0.0),
        ('lateral_raise', 'upper', NULL, 0.0),
        ('flye', 'upper', NULL, 0.0),
        ('shrug', 'upper', NULL, 0.0),
        ('suspension', 'upper', NULL, 0.0),
        ('battle_rope', 'upper', NULL, 0.0),
        ('core', 'core', NULL, 0.0),
        ('crunch', 'core', NULL, 0.0),
        ('plank', 'core', NULL, 0.0),
        ('sit_up', 'core', NULL, 0.0),
        ('leg_raise', 'core', NULL, 0.0),
        ('chop', 'core', NULL, 0.0),
        ('carry', 'core', NULL, 0.0),
        ('banded_exercises', 'other', NULL, 0.0),
        ('cardio', 'other', NULL, 0.0),
        ('warm_up', 'other', NULL, 0.0),
        ('run', 'other', NULL, 0.0),
        ('bike', 'other', NULL, 0.0),
        ('unknown', 'other', NULL, 0.0)
    ) AS t(exercise_category, body_region, lower_pattern, knee_factor_bw)
)
SELECT * FROM final;
COMMENT ON VIEW intermediate.int_exercise_categories IS 'How runlift classifies Garmin exercise categories (unlisted categories count as other).';
COMMENT ON COLUMN intermediate.int_exercise_categories.exercise_category IS 'Garmin exercise_category name.';
COMMENT ON COLUMN intermediate.int_exercise_categories.body_region IS 'lower, upper, core or other.';
COMMENT ON COLUMN intermediate.int_exercise_categories.lower_pattern IS 'For lower-body exercises: knee (knee-dominant, anterior, quadriceps) or hip (posterior: hip hinge, hip extension and knee flexion); NULL for neither (calf raise, hip stability, Olympic lifts).';
COMMENT ON COLUMN intermediate.int_exercise_categories.knee_factor_bw IS 'Knee joint load per repetition at body weight, in body weights (rough estimate).';
