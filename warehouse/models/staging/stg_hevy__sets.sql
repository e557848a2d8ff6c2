-- grain: one row per set of a Hevy workout
CREATE OR REPLACE VIEW staging.stg_hevy__sets AS
WITH source AS (SELECT * FROM raw.hevy_sets),
workouts AS (SELECT athlete_id, workout_id, start_time_utc, deleted_at_utc FROM raw.hevy_workouts),
templates AS (
    SELECT athlete_id, template_id, exercise_type, primary_muscle_group, secondary_muscle_groups
    FROM raw.hevy_exercise_templates
),
final AS (
    SELECT
        s.athlete_id,
        s.workout_id,
        s.exercise_index,
        s.set_index,
        w.start_time_utc AS workout_started_at,
        s.exercise_title,
        s.exercise_template_id,
        t.exercise_type,
        t.primary_muscle_group,
        t.secondary_muscle_groups,
        s.superset_id,
        s.set_type,
        s.set_type = 'warmup' AS is_warmup,
        s.weight_kg,
        s.reps,
        s.weight_kg * s.reps AS volume_load_kg,
        s.distance_m,
        s.duration_s,
        s.rpe,
        s.exercise_notes,
        w.deleted_at_utc IS NOT NULL AS is_deleted
    FROM source s
    JOIN workouts w USING (athlete_id, workout_id)
    LEFT JOIN templates t ON t.athlete_id = s.athlete_id AND t.template_id = s.exercise_template_id
)
SELECT * FROM final;
COMMENT ON VIEW staging.stg_hevy__sets IS 'Sets of Hevy workouts (raw.hevy_sets) with their exercise template''s type and muscle groups.';
COMMENT ON COLUMN staging.stg_hevy__sets.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN staging.stg_hevy__sets.workout_id IS 'Hevy workout id.';
COMMENT ON COLUMN staging.stg_hevy__sets.exercise_index IS 'Position of the exercise in the workout, from 0.';
COMMENT ON COLUMN staging.stg_hevy__sets.set_index IS 'Position of the set in the exercise, from 0.';
COMMENT ON COLUMN staging.stg_hevy__sets.workout_started_at IS 'Start of the workout, UTC.';
COMMENT ON COLUMN staging.stg_hevy__sets.exercise_title IS 'Exercise name as Hevy sent it.';
COMMENT ON COLUMN staging.stg_hevy__sets.exercise_template_id IS 'Hevy exercise template id.';
COMMENT ON COLUMN staging.stg_hevy__sets.exercise_type IS 'The template''s type (weight_reps, duration, ...); NULL: template not stored.';
COMMENT ON COLUMN staging.stg_hevy__sets.primary_muscle_group IS 'The template''s primary muscle group, as Hevy names it.';
COMMENT ON COLUMN staging.stg_hevy__sets.secondary_muscle_groups IS 'The template''s secondary muscle groups.';
COMMENT ON COLUMN staging.stg_hevy__sets.superset_id IS 'Superset the exercise belongs to; NULL: none.';
COMMENT ON COLUMN staging.stg_hevy__sets.set_type IS 'normal, warmup, dropset or failure.';
COMMENT ON COLUMN staging.stg_hevy__sets.is_warmup IS 'A warm-up set.';
COMMENT ON COLUMN staging.stg_hevy__sets.weight_kg IS 'Load, kg.';
COMMENT ON COLUMN staging.stg_hevy__sets.reps IS 'Repetitions.';
COMMENT ON COLUMN staging.stg_hevy__sets.volume_load_kg IS 'weight_kg x reps, kg (NULL without both).';
COMMENT ON COLUMN staging.stg_hevy__sets.distance_m IS 'Distance, m.';
COMMENT ON COLUMN staging.stg_hevy__sets.duration_s IS 'Duration of the set, s.';
COMMENT ON COLUMN staging.stg_hevy__sets.rpe IS 'RPE as logged (6 to 10); NULL: not logged.';
COMMENT ON COLUMN staging.stg_hevy__sets.exercise_notes IS 'The exercise''s notes.';
COMMENT ON COLUMN staging.stg_hevy__sets.is_deleted IS 'The workout was deleted in Hevy.';
