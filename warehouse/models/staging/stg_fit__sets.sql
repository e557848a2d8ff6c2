-- grain: one row per set message of a usable FIT file
CREATE OR REPLACE VIEW staging.stg_fit__sets AS
WITH sets AS (
    SELECT t.* FROM raw.fit_sets t
    JOIN raw.fit_files f USING (athlete_id, file_sha256)
    WHERE f.status IN ('ok', 'partial')
),
final AS (
    SELECT
        athlete_id,
        file_sha256,
        set_index,
        set_type = 'active' AS is_active,
        start_time_utc AS started_at,
        staging.bounded(duration_s, 0, 86400) AS duration_s,
        staging.bounded(repetitions, 0, 1000) AS repetitions,
        staging.bounded(weight_kg, 0, 1000) AS weight_kg,
        coalesce(category, 'unknown') AS exercise_category,
        subtype_names[1] AS exercise_name,
        category_names AS category_candidates,
        exercise_title,
        CASE WHEN staging.set_in_bounds(duration_s, repetitions, weight_kg) THEN []
             ELSE staging.set_bounds_notes(duration_s, repetitions, weight_kg) END AS bounds_notes
    FROM sets
)
SELECT * FROM final;
COMMENT ON VIEW staging.stg_fit__sets IS 'Strength sets of usable FIT files; values outside plausible bounds set to NULL (bounds_notes says which).';
COMMENT ON COLUMN staging.stg_fit__sets.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN staging.stg_fit__sets.file_sha256 IS 'The FIT file.';
COMMENT ON COLUMN staging.stg_fit__sets.set_index IS 'Set order in the file.';
COMMENT ON COLUMN staging.stg_fit__sets.is_active IS 'An active set (false: a rest).';
COMMENT ON COLUMN staging.stg_fit__sets.started_at IS 'Set start, UTC.';
COMMENT ON COLUMN staging.stg_fit__sets.duration_s IS 'Duration, s.';
COMMENT ON COLUMN staging.stg_fit__sets.repetitions IS 'Repetitions.';
COMMENT ON COLUMN staging.stg_fit__sets.weight_kg IS 'External load, kg.';
COMMENT ON COLUMN staging.stg_fit__sets.exercise_category IS 'First exercise category candidate (unknown when none).';
COMMENT ON COLUMN staging.stg_fit__sets.exercise_name IS 'First exercise name candidate.';
COMMENT ON COLUMN staging.stg_fit__sets.category_candidates IS 'Every exercise category candidate.';
COMMENT ON COLUMN staging.stg_fit__sets.exercise_title IS 'Workout step title, when the file has one.';
COMMENT ON COLUMN staging.stg_fit__sets.bounds_notes IS 'Values outside their plausible bounds (docs/metrics.md), set to NULL here.';
