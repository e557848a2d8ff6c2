-- grain: one row per workout logged in a lifting app: Hevy through its API (deleted ones kept, never
-- counted), Hevy and Strong CSV exports. Rules in docs/metrics.md, "One workout, counted once":
-- 1. Two app workouts of one athlete from different app sources whose starts are within 120 s are one
--    workout (a Hevy CSV export of a workout the API also gave; Strong history imported into Hevy):
--    the Hevy API's copy is kept, then the Hevy CSV's, then Strong's; the others are not counted
--    (duplicate_of). A Hevy CSV copy of a workout deleted in Hevy is not counted either.
-- 2. Session RPE from the sets: the mean of the logged RPEs of the working (not warm-up) sets, when at
--    least half of the working sets carry one.
-- Whether an app workout is the same workout as the watch's record: intermediate.int_workouts.
CREATE OR REPLACE TABLE intermediate.int_app_workouts AS
WITH hevy AS (
    SELECT athlete_id, 'hevy:' || workout_id AS app_workout_key, 'hevy' AS app, 'hevy_api' AS app_source,
           workout_id AS hevy_workout_id, title, started_at, NULL::TIMESTAMP AS started_local,
           CASE WHEN ended_at >= started_at THEN ended_at END AS ended_at, is_deleted
    FROM staging.stg_hevy__workouts
    WHERE started_at IS NOT NULL
),
csv AS (
    SELECT athlete_id,
           CASE app WHEN 'hevy' THEN 'hevy_csv:' ELSE app || ':' END || strftime(started_local, '%Y-%m-%dT%H:%M:%S')
               AS app_workout_key,
           app, app || '_csv' AS app_source, NULL::VARCHAR AS hevy_workout_id,
           max(workout_title) AS title,
           workout_started_at AS started_at, started_local,
           workout_started_at + to_seconds(max(workout_duration_s)) AS ended_at,
           false AS is_deleted
    FROM staging.stg_lift_csv__sets
    GROUP BY athlete_id, app, started_local, workout_started_at
),
workouts AS (
    SELECT *, CASE app_source WHEN 'hevy_api' THEN 0 WHEN 'hevy_csv' THEN 1 ELSE 2 END AS precedence
    FROM (SELECT * FROM hevy UNION ALL SELECT * FROM csv)
),
copies AS (
    -- the app workout of a source that comes first whose start is closest (within 120 s); a deleted
    -- Hevy workout takes its Hevy CSV copy with it, not a Strong workout
    SELECT l.athlete_id, l.app_workout_key, w.app_workout_key AS duplicate_of
    FROM workouts l
    JOIN workouts w
      ON w.athlete_id = l.athlete_id AND w.precedence < l.precedence
     AND w.started_at BETWEEN l.started_at - INTERVAL 120 SECOND AND l.started_at + INTERVAL 120 SECOND
     AND (NOT w.is_deleted OR (w.app = 'hevy' AND l.app = 'hevy'))
    QUALIFY row_number() OVER (PARTITION BY l.athlete_id, l.app_workout_key
                               ORDER BY abs(epoch(w.started_at) - epoch(l.started_at)), w.precedence,
                                        w.app_workout_key) = 1
),
copies_of AS (
    SELECT athlete_id, duplicate_of AS app_workout_key, list(app_workout_key ORDER BY app_workout_key) AS duplicate_keys
    FROM copies GROUP BY ALL
),
set_stats AS (
    SELECT athlete_id, app_workout_key,
           count(*) AS set_count,
           count(*) FILTER (WHERE set_type <> 'warmup') AS working_set_count,
           count(rpe) FILTER (WHERE set_type <> 'warmup') AS rpe_set_count,
           -- exact: RPEs are logged in halves; summed as integer 1e-12 units like every sum of the marts
           (sum(round(1e12 * rpe)::HUGEINT) FILTER (WHERE set_type <> 'warmup') / 1e12)
               / nullif(count(rpe) FILTER (WHERE set_type <> 'warmup'), 0) AS mean_set_rpe
    FROM intermediate.int_app_sets
    GROUP BY ALL
),
final AS (
    SELECT
        w.athlete_id,
        w.app_workout_key,
        w.app,
        w.app_source,
        w.hevy_workout_id,
        w.title,
        w.started_at,
        w.started_local,
        w.ended_at,
        epoch(w.ended_at) - epoch(w.started_at) AS elapsed_s,
        coalesce(s.set_count, 0)::INTEGER AS set_count,
        coalesce(s.working_set_count, 0)::INTEGER AS working_set_count,
        coalesce(s.rpe_set_count, 0)::INTEGER AS rpe_set_count,
        CASE WHEN s.rpe_set_count >= 1 AND 2 * s.rpe_set_count >= s.working_set_count THEN s.mean_set_rpe END
            AS session_rpe,
        w.is_deleted,
        c.duplicate_of,
        coalesce(d.duplicate_keys, []) AS duplicate_keys,
        NOT w.is_deleted AND c.duplicate_of IS NULL AS is_counted
    FROM workouts w
    LEFT JOIN set_stats s USING (athlete_id, app_workout_key)
    LEFT JOIN copies c USING (athlete_id, app_workout_key)
    LEFT JOIN copies_of d USING (athlete_id, app_workout_key)
)
SELECT * FROM final;
COMMENT ON TABLE intermediate.int_app_workouts IS 'One row per workout logged in a lifting app (Hevy API, Hevy and Strong CSV exports), with which are counted (docs/metrics.md, "One workout, counted once").';
COMMENT ON COLUMN intermediate.int_app_workouts.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN intermediate.int_app_workouts.app_workout_key IS 'hevy:<workout id> (API), hevy_csv:<local start> or strong:<local start> (CSV exports).';
COMMENT ON COLUMN intermediate.int_app_workouts.app IS 'hevy or strong.';
COMMENT ON COLUMN intermediate.int_app_workouts.app_source IS 'hevy_api, hevy_csv or strong_csv.';
COMMENT ON COLUMN intermediate.int_app_workouts.hevy_workout_id IS 'Hevy workout id (API workouts).';
COMMENT ON COLUMN intermediate.int_app_workouts.title IS 'Workout title as typed in the app.';
COMMENT ON COLUMN intermediate.int_app_workouts.started_at IS 'Start, UTC (a CSV export''s local time read in the athlete''s time zone).';
COMMENT ON COLUMN intermediate.int_app_workouts.started_local IS 'Start, local time, as a CSV export wrote it (NULL for the API: it gives UTC only).';
COMMENT ON COLUMN intermediate.int_app_workouts.ended_at IS 'End, UTC (the CSV: start + duration); NULL when not known.';
COMMENT ON COLUMN intermediate.int_app_workouts.elapsed_s IS 'End minus start, s.';
COMMENT ON COLUMN intermediate.int_app_workouts.set_count IS 'Sets logged.';
COMMENT ON COLUMN intermediate.int_app_workouts.working_set_count IS 'Sets that are not warm-ups.';
COMMENT ON COLUMN intermediate.int_app_workouts.rpe_set_count IS 'Working sets with an RPE logged.';
COMMENT ON COLUMN intermediate.int_app_workouts.session_rpe IS 'Session RPE from the sets: mean logged RPE of the working sets, when at least half of them carry one; else NULL.';
COMMENT ON COLUMN intermediate.int_app_workouts.is_deleted IS 'Deleted in Hevy: never counted.';
COMMENT ON COLUMN intermediate.int_app_workouts.duplicate_of IS 'The app workout this one is a copy of (starts within 120 s, a source that comes first: Hevy API, Hevy CSV, Strong CSV); NULL: none.';
COMMENT ON COLUMN intermediate.int_app_workouts.duplicate_keys IS 'App workouts that are copies of this one (not counted).';
COMMENT ON COLUMN intermediate.int_app_workouts.is_counted IS 'Counted: not deleted and not a copy of another app workout.';
