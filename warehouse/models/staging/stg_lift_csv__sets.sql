-- grain: one row per set of a lifting app's CSV export (Strong, Hevy)
CREATE OR REPLACE VIEW staging.stg_lift_csv__sets AS
WITH source AS (SELECT * FROM raw.lift_csv_sets),
athletes AS (SELECT athlete_id, timezone FROM raw.athletes),
final AS (
    SELECT
        s.athlete_id,
        s.app,
        s.started_local,
        -- the export's local time read in the athlete's time zone (settings; UTC if not configured)
        timezone('UTC', timezone(coalesce(a.timezone, 'UTC'), s.started_local)) AS workout_started_at,
        s.started_local::DATE AS local_date,
        s.workout_title,
        s.duration_s AS workout_duration_s,
        s.exercise_title,
        s.exercise_position,
        s.exercise_occurrence,
        s.set_order,
        s.set_type,
        s.set_type = 'warmup' AS is_warmup,
        s.weight_kg,
        s.reps,
        s.weight_kg * s.reps AS volume_load_kg,
        s.distance_m,
        s.set_duration_s,
        s.rpe,
        s.superset_id,
        s.exercise_notes,
        s.workout_notes
    FROM source s
    LEFT JOIN athletes a USING (athlete_id)
)
SELECT * FROM final;
COMMENT ON VIEW staging.stg_lift_csv__sets IS 'Sets of Strong and Hevy CSV exports (raw.lift_csv_sets), SI units, with the start in UTC.';
COMMENT ON COLUMN staging.stg_lift_csv__sets.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN staging.stg_lift_csv__sets.app IS 'strong or hevy.';
COMMENT ON COLUMN staging.stg_lift_csv__sets.started_local IS 'Workout start as exported (local time, no zone).';
COMMENT ON COLUMN staging.stg_lift_csv__sets.workout_started_at IS 'Workout start, UTC (the local time read in the athlete''s time zone).';
COMMENT ON COLUMN staging.stg_lift_csv__sets.local_date IS 'Day of the workout, local.';
COMMENT ON COLUMN staging.stg_lift_csv__sets.workout_title IS 'Workout name.';
COMMENT ON COLUMN staging.stg_lift_csv__sets.workout_duration_s IS 'Workout duration, s.';
COMMENT ON COLUMN staging.stg_lift_csv__sets.exercise_title IS 'Exercise name as the app wrote it.';
COMMENT ON COLUMN staging.stg_lift_csv__sets.exercise_position IS 'Position of the exercise block in the workout, from 1.';
COMMENT ON COLUMN staging.stg_lift_csv__sets.exercise_occurrence IS 'Which block of this exercise in the workout, from 1.';
COMMENT ON COLUMN staging.stg_lift_csv__sets.set_order IS 'Position of the set in its block, from 1.';
COMMENT ON COLUMN staging.stg_lift_csv__sets.set_type IS 'normal, warmup, dropset or failure; NULL: not said.';
COMMENT ON COLUMN staging.stg_lift_csv__sets.is_warmup IS 'A warm-up set.';
COMMENT ON COLUMN staging.stg_lift_csv__sets.weight_kg IS 'Load, kg.';
COMMENT ON COLUMN staging.stg_lift_csv__sets.reps IS 'Repetitions.';
COMMENT ON COLUMN staging.stg_lift_csv__sets.volume_load_kg IS 'weight_kg x reps, kg.';
COMMENT ON COLUMN staging.stg_lift_csv__sets.distance_m IS 'Distance, m.';
COMMENT ON COLUMN staging.stg_lift_csv__sets.set_duration_s IS 'Duration of the set, s.';
COMMENT ON COLUMN staging.stg_lift_csv__sets.rpe IS 'RPE as logged.';
COMMENT ON COLUMN staging.stg_lift_csv__sets.superset_id IS 'Hevy superset id as exported.';
COMMENT ON COLUMN staging.stg_lift_csv__sets.exercise_notes IS 'Exercise notes.';
COMMENT ON COLUMN staging.stg_lift_csv__sets.workout_notes IS 'Workout notes.';
