-- grain: one row per Hevy workout of an athlete (deleted ones included, flagged)
CREATE OR REPLACE VIEW staging.stg_hevy__workouts AS
WITH source AS (SELECT * FROM raw.hevy_workouts),
athletes AS (SELECT athlete_id, timezone FROM raw.athletes),
set_counts AS (
    SELECT athlete_id, workout_id, count(*) AS set_count,
           count(*) FILTER (WHERE set_type IS DISTINCT FROM 'warmup') AS working_set_count,
           count(rpe) AS sets_with_rpe
    FROM raw.hevy_sets GROUP BY ALL
),
final AS (
    SELECT
        w.athlete_id,
        w.workout_id,
        w.title,
        w.description,
        w.start_time_utc AS started_at,
        w.end_time_utc AS ended_at,
        timezone(coalesce(a.timezone, 'UTC'), timezone('UTC', w.start_time_utc))::DATE AS local_date,
        CASE WHEN w.end_time_utc >= w.start_time_utc
             THEN epoch(w.end_time_utc) - epoch(w.start_time_utc) END AS elapsed_s,
        coalesce(c.set_count, 0) AS set_count,
        coalesce(c.working_set_count, 0) AS working_set_count,
        coalesce(c.sets_with_rpe, 0) AS sets_with_rpe,
        w.updated_at_utc AS updated_at,
        w.deleted_at_utc AS deleted_at,
        w.deleted_at_utc IS NOT NULL AS is_deleted
    FROM source w
    LEFT JOIN set_counts c USING (athlete_id, workout_id)
    LEFT JOIN athletes a USING (athlete_id)
)
SELECT * FROM final;
COMMENT ON VIEW staging.stg_hevy__workouts IS 'Hevy workouts (raw.hevy_workouts) with their local date and set counts; deleted ones kept with is_deleted.';
COMMENT ON COLUMN staging.stg_hevy__workouts.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN staging.stg_hevy__workouts.workout_id IS 'Hevy workout id.';
COMMENT ON COLUMN staging.stg_hevy__workouts.title IS 'Workout title.';
COMMENT ON COLUMN staging.stg_hevy__workouts.description IS 'Workout description.';
COMMENT ON COLUMN staging.stg_hevy__workouts.started_at IS 'Start, UTC.';
COMMENT ON COLUMN staging.stg_hevy__workouts.ended_at IS 'End, UTC.';
COMMENT ON COLUMN staging.stg_hevy__workouts.local_date IS 'Day of the start in the athlete''s time zone (settings; UTC for an athlete not configured).';
COMMENT ON COLUMN staging.stg_hevy__workouts.elapsed_s IS 'End minus start, s; NULL when the end is missing or before the start.';
COMMENT ON COLUMN staging.stg_hevy__workouts.set_count IS 'Sets logged.';
COMMENT ON COLUMN staging.stg_hevy__workouts.working_set_count IS 'Sets that are not warm-ups.';
COMMENT ON COLUMN staging.stg_hevy__workouts.sets_with_rpe IS 'Sets with an RPE logged.';
COMMENT ON COLUMN staging.stg_hevy__workouts.updated_at IS 'Last edit in Hevy, UTC.';
COMMENT ON COLUMN staging.stg_hevy__workouts.deleted_at IS 'When it was deleted in Hevy, UTC; NULL: not deleted.';
COMMENT ON COLUMN staging.stg_hevy__workouts.is_deleted IS 'Deleted in Hevy (kept, never counted by the marts).';
