-- grain: one row per lifting app and exercise title the athletes' app sets use
-- PLACEHOLDER (issue 16 item 3): every app exercise is 'unmapped' here (category unknown, no name).
-- The real mapping (a seed of Hevy's templates and common Strong names, a user mapping file) is
-- built on another branch with exactly these columns; the models that read this view join it on
-- (source, app_exercise_key) and use its exercise_category / exercise_name, and its muscles where
-- mapped_by is user, seed or hevy_template, so they work with either version.
CREATE OR REPLACE VIEW staging.app_exercise_map AS
WITH titles AS (
    SELECT 'hevy' AS source, lower(trim(exercise_title)) AS app_exercise_key FROM raw.hevy_sets
    UNION
    SELECT app AS source, lower(trim(exercise_title)) AS app_exercise_key FROM raw.lift_csv_sets
),
final AS (
    SELECT
        source::VARCHAR AS source,
        app_exercise_key::VARCHAR AS app_exercise_key,
        'unknown'::VARCHAR AS exercise_category,
        NULL::VARCHAR AS exercise_name,
        'unmapped'::VARCHAR AS primary_muscle,
        []::VARCHAR[] AS secondary_muscles,
        'unmapped'::VARCHAR AS mapped_by
    FROM titles
    WHERE app_exercise_key IS NOT NULL AND app_exercise_key <> ''
)
SELECT * FROM final;
COMMENT ON VIEW staging.app_exercise_map IS 'How the lifting apps'' exercise names map to Garmin''s exercise categories and names (the muscle-group seed''s keys). Placeholder: every name unmapped.';
COMMENT ON COLUMN staging.app_exercise_map.source IS 'hevy or strong.';
COMMENT ON COLUMN staging.app_exercise_map.app_exercise_key IS 'lower(trim(exercise title)) as the app wrote it.';
COMMENT ON COLUMN staging.app_exercise_map.exercise_category IS 'Garmin exercise category (warehouse/seeds/exercise_muscles.csv); unknown when unmapped.';
COMMENT ON COLUMN staging.app_exercise_map.exercise_name IS 'Garmin exercise name; NULL: the category''s default.';
COMMENT ON COLUMN staging.app_exercise_map.primary_muscle IS 'Muscle group the exercise mainly trains; unmapped when not known.';
COMMENT ON COLUMN staging.app_exercise_map.secondary_muscles IS 'Further muscle groups it trains.';
COMMENT ON COLUMN staging.app_exercise_map.mapped_by IS 'user, seed, hevy_template or unmapped.';
