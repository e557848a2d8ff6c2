-- grain: one row per athlete, lifting app (source) and exercise title that no mapping places, with its sets
-- (staging.app_exercise_map mapped_by 'unmapped'): what `runlift status`
-- counts and `runlift status --unmapped` lists for the person to add to exercise_map.csv (docs/sources.md)
CREATE OR REPLACE VIEW staging.app_exercises_unmapped AS
WITH app_sets AS (
    SELECT s.athlete_id, 'hevy' AS source, s.exercise_title, w.start_time_utc::DATE AS set_date
    FROM raw.hevy_sets s
    JOIN raw.hevy_workouts w USING (athlete_id, workout_id)
    WHERE w.deleted_at_utc IS NULL
    UNION ALL
    SELECT athlete_id, app, exercise_title, started_local::DATE FROM raw.lift_csv_sets
),
unmapped AS (SELECT source, app_exercise_key FROM staging.app_exercise_map WHERE mapped_by = 'unmapped'),
final AS (
    SELECT a.athlete_id, a.source, u.app_exercise_key,
           mode(trim(a.exercise_title)) AS exercise_title,
           count(*) AS sets,
           max(a.set_date) AS last_date
    FROM app_sets a
    JOIN unmapped u ON u.source = a.source AND u.app_exercise_key = lower(trim(a.exercise_title))
    GROUP BY a.athlete_id, a.source, u.app_exercise_key
)
SELECT * FROM final;
COMMENT ON VIEW staging.app_exercises_unmapped IS 'Exercise titles of the lifting apps that no mapping places (staging.app_exercise_map mapped_by unmapped), with their sets: add them to exercise_map.csv in the settings folder (docs/sources.md).';
COMMENT ON COLUMN staging.app_exercises_unmapped.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN staging.app_exercises_unmapped.source IS 'hevy or strong.';
COMMENT ON COLUMN staging.app_exercises_unmapped.app_exercise_key IS 'lower(trim(the title)).';
COMMENT ON COLUMN staging.app_exercises_unmapped.exercise_title IS 'The title as the app writes it most often.';
COMMENT ON COLUMN staging.app_exercises_unmapped.sets IS 'Sets logged under it (Hevy: workouts not deleted; the CSV exports imported).';
COMMENT ON COLUMN staging.app_exercises_unmapped.last_date IS 'Day of the latest of them (Hevy: UTC; CSV: the export''s local day).';
