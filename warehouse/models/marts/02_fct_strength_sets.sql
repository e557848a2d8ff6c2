-- grain: one row per active strength set
CREATE OR REPLACE TABLE marts.fct_strength_sets AS
WITH sets AS (
    SELECT * FROM staging.stg_fit__sets WHERE is_active
),
sessions AS (
    SELECT * FROM staging.stg_fit__sessions
),
workouts AS (
    SELECT * FROM intermediate.int_workouts
),
catalog AS (
    SELECT * FROM intermediate.int_exercise_categories
),
mass AS (
    SELECT * FROM staging.stg_settings__body_mass
),
placed AS (
    -- the session whose time span holds the set (a file may hold a run and a gym session)
    SELECT t.*, s.fit_session_key,
           row_number() OVER (PARTITION BY t.athlete_id, t.file_sha256, t.set_index
                              ORDER BY (s.sport_group = 'strength') DESC, s.session_index) AS pick
    FROM sets t
    JOIN sessions s ON s.athlete_id = t.athlete_id AND s.file_sha256 = t.file_sha256
     AND (t.started_at IS NULL OR s.started_at IS NULL
          OR t.started_at BETWEEN s.started_at - INTERVAL 1 MINUTE
                              AND coalesce(s.ended_at, s.started_at + to_seconds(s.elapsed_s)) + INTERVAL 1 MINUTE)
),
enriched AS (
    SELECT
        p.athlete_id,
        w.activity_key,
        p.set_index,
        w.local_date,
        p.started_at,
        p.exercise_category,
        p.exercise_name,
        p.exercise_title,
        coalesce(p.repetitions, 0) AS repetitions,
        coalesce(p.weight_kg, 0) AS weight_kg,
        coalesce(p.repetitions, 0) * coalesce(p.weight_kg, 0) AS volume_load_kg,
        coalesce(c.body_region, 'other') AS body_region,
        c.lower_pattern,
        coalesce(c.knee_factor_bw, 0) AS knee_factor_bw,
        CASE WHEN coalesce(p.weight_kg, 0) > 0 AND coalesce(p.repetitions, 0) > 0
             THEN p.weight_kg * (1 + p.repetitions / 30.0) END AS e1rm_kg,
        p.duration_s,
        p.bounds_notes AS data_quality_notes,
        m.body_mass_kg
    FROM placed p
    JOIN workouts w ON w.athlete_id = p.athlete_id AND w.activity_key = p.fit_session_key
    LEFT JOIN catalog c ON c.exercise_category = p.exercise_category
    ASOF LEFT JOIN mass m ON m.athlete_id = p.athlete_id AND w.local_date >= m.valid_from
    WHERE p.pick = 1 AND w.local_date <= getvariable('as_of')
),
with_best AS (
    SELECT *,
           max(e1rm_kg) OVER (PARTITION BY athlete_id, exercise_category ORDER BY local_date
                              RANGE BETWEEN INTERVAL 89 DAYS PRECEDING AND CURRENT ROW) AS best_e1rm_90d_kg
    FROM enriched
),
final AS (
    SELECT
        athlete_id, activity_key, set_index, local_date, started_at, exercise_category, exercise_name, exercise_title,
        repetitions, weight_kg, volume_load_kg, body_region, lower_pattern, e1rm_kg, best_e1rm_90d_kg,
        CASE WHEN weight_kg > 0 AND best_e1rm_90d_kg > 0 THEN weight_kg / best_e1rm_90d_kg END AS relative_intensity,
        repetitions >= 3 AND body_region IN ('lower', 'upper', 'core')
            AND (weight_kg = 0 OR weight_kg >= 0.6 * best_e1rm_90d_kg) AS is_hard_set,
        repetitions * knee_factor_bw * (1 + weight_kg / coalesce(body_mass_kg, 70.0)) / 1000.0 AS knee_load_kbw,
        duration_s,
        data_quality_notes
    FROM with_best
)
SELECT * FROM final;
COMMENT ON TABLE marts.fct_strength_sets IS 'One row per active strength set, classified by body region, with estimated 1RM and intensity.';
COMMENT ON COLUMN marts.fct_strength_sets.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN marts.fct_strength_sets.activity_key IS 'The workout (marts.fct_activities).';
COMMENT ON COLUMN marts.fct_strength_sets.set_index IS 'Set order in its FIT file.';
COMMENT ON COLUMN marts.fct_strength_sets.local_date IS 'The workout''s local date.';
COMMENT ON COLUMN marts.fct_strength_sets.started_at IS 'Set start, UTC.';
COMMENT ON COLUMN marts.fct_strength_sets.exercise_category IS 'First exercise category candidate (Garmin profile name; unknown when the watch could not tell).';
COMMENT ON COLUMN marts.fct_strength_sets.exercise_name IS 'First exercise name candidate.';
COMMENT ON COLUMN marts.fct_strength_sets.exercise_title IS 'Workout step title, when the file has one.';
COMMENT ON COLUMN marts.fct_strength_sets.repetitions IS 'Repetitions.';
COMMENT ON COLUMN marts.fct_strength_sets.weight_kg IS 'External load, kg (0: body weight).';
COMMENT ON COLUMN marts.fct_strength_sets.volume_load_kg IS 'Volume load = repetitions x weight, kg.';
COMMENT ON COLUMN marts.fct_strength_sets.body_region IS 'lower, upper, core or other (intermediate.int_exercise_categories).';
COMMENT ON COLUMN marts.fct_strength_sets.lower_pattern IS 'For lower-body sets: knee (knee-dominant, anterior) or hip (hip-dominant, posterior).';
COMMENT ON COLUMN marts.fct_strength_sets.e1rm_kg IS 'Estimated one-repetition maximum, Epley: weight x (1 + reps / 30), kg; NULL without external load.';
COMMENT ON COLUMN marts.fct_strength_sets.best_e1rm_90d_kg IS 'Best estimated 1RM of the same exercise category in the 90 days up to this set''s day, kg.';
COMMENT ON COLUMN marts.fct_strength_sets.relative_intensity IS 'weight / best 90-day estimated 1RM (0-1); NULL without external load.';
COMMENT ON COLUMN marts.fct_strength_sets.is_hard_set IS 'A hard set: >= 3 reps of a lower/upper/core exercise at >= 60 % of the best 90-day estimated 1RM, or at body weight.';
COMMENT ON COLUMN marts.fct_strength_sets.knee_load_kbw IS 'Knee load on the impact axis: reps x knee factor x (1 + weight / body mass) / 1000, kBW.';
COMMENT ON COLUMN marts.fct_strength_sets.duration_s IS 'Set duration, s.';
COMMENT ON COLUMN marts.fct_strength_sets.data_quality_notes IS 'Values of the set outside their plausible bounds (set to NULL in staging; docs/metrics.md).';
