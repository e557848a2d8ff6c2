-- grain: one row per set logged in a lifting app: Hevy through its API (workouts deleted in Hevy left
-- out) and the CSV exports of Strong and Hevy. Which of these sets count is decided with the workouts
-- (intermediate.int_app_workouts: a Hevy CSV copy of an API workout is not counted twice;
-- intermediate.int_workouts: one workout with the watch's record); marts.fct_strength_sets reads the
-- sets of the counted app workouts only. Values outside the set bounds become NULL (docs/metrics.md).
CREATE OR REPLACE TABLE intermediate.int_app_sets AS
WITH hevy AS (
    SELECT athlete_id, 'hevy:' || workout_id AS app_workout_key, 'hevy' AS app, 'hevy_api' AS app_source,
           exercise_index, set_index AS set_order, exercise_title, set_type, weight_kg, reps, duration_s, distance_m,
           rpe
    FROM staging.stg_hevy__sets
    WHERE NOT is_deleted
),
csv AS (
    SELECT athlete_id,
           CASE app WHEN 'hevy' THEN 'hevy_csv:' ELSE app || ':' END || strftime(started_local, '%Y-%m-%dT%H:%M:%S')
               AS app_workout_key,
           app, app || '_csv' AS app_source,
           exercise_position AS exercise_index, set_order, exercise_title, set_type, weight_kg, reps,
           set_duration_s AS duration_s, distance_m, rpe
    FROM staging.stg_lift_csv__sets
),
sets AS (
    SELECT * FROM hevy UNION ALL SELECT * FROM csv
),
final AS (
    SELECT
        athlete_id,
        app_workout_key,
        app,
        app_source,
        -- the set's place in the workout, from 0 (exercise by exercise, set by set)
        (row_number() OVER (PARTITION BY athlete_id, app_workout_key ORDER BY exercise_index, set_order) - 1)::INTEGER
            AS set_number,
        exercise_index,
        set_order,
        exercise_title,
        lower(trim(exercise_title)) AS app_exercise_key,
        coalesce(set_type, 'normal') AS set_type,
        staging.bounded(weight_kg, 0, 1000) AS weight_kg,
        staging.bounded(reps, 0, 1000) AS repetitions,
        staging.bounded(duration_s, 0, 86400) AS duration_s,
        staging.bounded(distance_m, 0, 1000000) AS distance_m,
        staging.bounded(rpe, 0, 10) AS rpe,
        list_filter(staging.set_bounds_notes(duration_s, reps, weight_kg)
                    || [staging.bound_note('rpe', rpe, 0, 10)], lambda n: n IS NOT NULL) AS bounds_notes
    FROM sets
)
SELECT * FROM final;
COMMENT ON TABLE intermediate.int_app_sets IS 'Sets logged in lifting apps (Hevy API without deleted workouts, Strong and Hevy CSV exports), SI units, bounded.';
COMMENT ON COLUMN intermediate.int_app_sets.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN intermediate.int_app_sets.app_workout_key IS 'The app workout: hevy:<workout id> (API), hevy_csv:<local start> or strong:<local start> (CSV exports).';
COMMENT ON COLUMN intermediate.int_app_sets.app IS 'hevy or strong.';
COMMENT ON COLUMN intermediate.int_app_sets.app_source IS 'hevy_api, hevy_csv or strong_csv.';
COMMENT ON COLUMN intermediate.int_app_sets.set_number IS 'The set''s place in the workout, from 0 (exercise order, then set order).';
COMMENT ON COLUMN intermediate.int_app_sets.exercise_index IS 'The exercise''s place in the workout (Hevy: from 0; CSV: block from 1).';
COMMENT ON COLUMN intermediate.int_app_sets.set_order IS 'The set''s place in its exercise, as the app gave it.';
COMMENT ON COLUMN intermediate.int_app_sets.exercise_title IS 'Exercise name as the app wrote it.';
COMMENT ON COLUMN intermediate.int_app_sets.app_exercise_key IS 'lower(trim(exercise_title)): the key of staging.app_exercise_map.';
COMMENT ON COLUMN intermediate.int_app_sets.set_type IS 'normal, warmup, dropset or failure (normal when the app said nothing).';
COMMENT ON COLUMN intermediate.int_app_sets.weight_kg IS 'Load, kg; NULL: none logged.';
COMMENT ON COLUMN intermediate.int_app_sets.repetitions IS 'Repetitions.';
COMMENT ON COLUMN intermediate.int_app_sets.duration_s IS 'Duration of the set, s.';
COMMENT ON COLUMN intermediate.int_app_sets.distance_m IS 'Distance, m.';
COMMENT ON COLUMN intermediate.int_app_sets.rpe IS 'RPE of the set as logged (0-10); NULL: not logged.';
COMMENT ON COLUMN intermediate.int_app_sets.bounds_notes IS 'Values outside their plausible bounds, set to NULL here.';
