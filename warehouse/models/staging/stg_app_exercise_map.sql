-- grain: one row per lifting app (source) and exercise title (app_exercise_key) seen in the apps' data or the mapping files
-- (the apps' data: Hevy sets and templates, Strong and Hevy CSV exports)
-- Which mapping wins (docs/sources.md "Exercise names"): the person's exercise_map.csv, then the seed
-- warehouse/seeds/app_exercises.csv (a row for the one app before a row for both), then, for Hevy, the
-- muscle groups of Hevy's own exercise template; else unmapped.
CREATE OR REPLACE VIEW staging.app_exercise_map AS
WITH rules AS (SELECT * FROM staging.app_exercise_rules),
apps (source) AS (VALUES ('hevy'), ('strong')),
seen AS (
    SELECT 'hevy' AS source, lower(trim(exercise_title)) AS app_exercise_key FROM raw.hevy_sets
    UNION SELECT 'hevy', lower(trim(title)) FROM raw.hevy_exercise_templates
    UNION SELECT app, lower(trim(exercise_title)) FROM raw.lift_csv_sets WHERE app IN ('hevy', 'strong')
    UNION SELECT a.source, r.app_exercise_key FROM rules r JOIN apps a ON r.source IS NULL OR r.source = a.source
),
keys AS (SELECT * FROM seen WHERE app_exercise_key IS NOT NULL AND app_exercise_key <> ''),
ranked AS (
    SELECT k.source, k.app_exercise_key, r.exercise_category, r.exercise_name, r.primary_muscle AS primary_override,
           r.secondary_muscles AS secondary_override, r.mapped_by,
           row_number() OVER (PARTITION BY k.source, k.app_exercise_key
                              ORDER BY r.mapped_by = 'user' DESC, r.source IS NOT NULL DESC) AS rank
    FROM keys k
    JOIN rules r ON r.app_exercise_key = k.app_exercise_key AND (r.source IS NULL OR r.source = k.source)
),
ruled AS (
    SELECT r.source, r.app_exercise_key, r.exercise_category, r.exercise_name,
           coalesce(r.primary_override, en.primary_muscle, ec.primary_muscle, 'unmapped') AS primary_muscle,
           CASE WHEN r.primary_override IS NOT NULL THEN coalesce(r.secondary_override, [])
                ELSE coalesce(en.secondary_muscles, ec.secondary_muscles, []) END AS secondary_muscles,
           r.mapped_by
    FROM ranked r
    LEFT JOIN staging.exercise_muscles en
        ON en.exercise_category = r.exercise_category AND en.exercise_name = r.exercise_name
    LEFT JOIN staging.exercise_muscles ec
        ON ec.exercise_category = r.exercise_category AND ec.exercise_name IS NULL
    WHERE r.rank = 1
),
-- Hevy's muscle groups to ours; 'hamstrings' is told apart by the title (curl: knee flexion, else hip hinge);
-- lower_back is the hip hinge as the main group (back extensions) and the trunk as a further one
hevy_muscles (hevy_group, as_primary, as_secondary) AS (VALUES
    ('quadriceps', 'quadriceps', 'quadriceps'), ('glutes', 'glutes', 'glutes'), ('calves', 'calves', 'calves'),
    ('abductors', 'hip_stability', 'hip_stability'), ('adductors', 'hip_stability', 'hip_stability'),
    ('abdominals', 'core', 'core'), ('lower_back', 'hamstrings_hip_hinge', 'core'),
    ('chest', 'upper_push', 'upper_push'), ('shoulders', 'upper_push', 'upper_push'),
    ('triceps', 'upper_push', 'upper_push'), ('biceps', 'upper_pull', 'upper_pull'),
    ('lats', 'upper_pull', 'upper_pull'), ('upper_back', 'upper_pull', 'upper_pull'),
    ('traps', 'upper_pull', 'upper_pull'), ('forearms', 'upper_pull', 'upper_pull')
),
template_titles AS (
    SELECT lower(trim(title)) AS app_exercise_key, athlete_id, template_id, primary_muscle_group,
           secondary_muscle_groups
    FROM raw.hevy_exercise_templates
    UNION ALL
    -- a set whose title is not its template's (a renamed template): the template's groups by its id
    SELECT DISTINCT lower(trim(s.exercise_title)), t.athlete_id, t.template_id, t.primary_muscle_group,
           t.secondary_muscle_groups
    FROM raw.hevy_sets s
    JOIN raw.hevy_exercise_templates t ON t.athlete_id = s.athlete_id AND t.template_id = s.exercise_template_id
),
templates AS (
    -- one template per title (the same title in several accounts: the first by athlete and id)
    SELECT app_exercise_key,
           arg_min(primary_muscle_group, athlete_id || '/' || template_id) AS hevy_primary,
           arg_min(secondary_muscle_groups, athlete_id || '/' || template_id) AS hevy_secondary
    FROM template_titles
    WHERE app_exercise_key IS NOT NULL AND primary_muscle_group IS NOT NULL
    GROUP BY app_exercise_key
),
template_primary AS (
    SELECT t.app_exercise_key, t.hevy_secondary,
           CASE WHEN t.hevy_primary = 'hamstrings'
                THEN CASE WHEN regexp_matches(t.app_exercise_key, 'curl|nordic|glute ham')
                          THEN 'hamstrings_knee_flexion' ELSE 'hamstrings_hip_hinge' END
                ELSE m.as_primary END AS primary_muscle
    FROM templates t
    LEFT JOIN hevy_muscles m ON m.hevy_group = t.hevy_primary
),
template_secondary_groups AS (
    SELECT u.app_exercise_key, p.primary_muscle,
           CASE WHEN u.hevy_group = 'hamstrings'
                THEN CASE WHEN regexp_matches(u.app_exercise_key, 'curl|nordic|glute ham')
                          THEN 'hamstrings_knee_flexion' ELSE 'hamstrings_hip_hinge' END
                ELSE m.as_secondary END AS muscle
    FROM (SELECT app_exercise_key, unnest(hevy_secondary) AS hevy_group FROM templates) u
    JOIN template_primary p USING (app_exercise_key)
    LEFT JOIN hevy_muscles m ON m.hevy_group = u.hevy_group
),
template_secondary AS (
    SELECT app_exercise_key, list(DISTINCT muscle ORDER BY muscle) AS secondary_muscles
    FROM template_secondary_groups
    WHERE muscle IS NOT NULL AND muscle <> primary_muscle
    GROUP BY app_exercise_key
),
from_templates AS (
    SELECT p.app_exercise_key, p.primary_muscle, coalesce(s.secondary_muscles, []) AS secondary_muscles
    FROM template_primary p
    LEFT JOIN template_secondary s USING (app_exercise_key)
    WHERE p.primary_muscle IS NOT NULL
),
final AS (
    SELECT k.source, k.app_exercise_key,
           r.exercise_category,
           r.exercise_name,
           coalesce(r.primary_muscle, t.primary_muscle, 'unmapped') AS primary_muscle,
           CAST(coalesce(r.secondary_muscles, t.secondary_muscles, []) AS VARCHAR[]) AS secondary_muscles,
           CASE WHEN r.mapped_by IS NOT NULL THEN r.mapped_by
                WHEN t.primary_muscle IS NOT NULL THEN 'hevy_template'
                ELSE 'unmapped' END AS mapped_by
    FROM keys k
    LEFT JOIN ruled r USING (source, app_exercise_key)
    LEFT JOIN from_templates t ON k.source = 'hevy' AND t.app_exercise_key = k.app_exercise_key
)
SELECT * FROM final;
COMMENT ON VIEW staging.app_exercise_map IS 'The lifting apps'' exercise titles (Hevy, Strong) mapped to a Garmin exercise and its muscle groups: the person''s exercise_map.csv, else the seed warehouse/seeds/app_exercises.csv, else (Hevy) the muscle groups of Hevy''s template, else unmapped (docs/sources.md).';
COMMENT ON COLUMN staging.app_exercise_map.source IS 'The app: hevy (API or CSV export) or strong (CSV export).';
COMMENT ON COLUMN staging.app_exercise_map.app_exercise_key IS 'lower(trim(the app''s exercise title)): join the apps'' sets on it.';
COMMENT ON COLUMN staging.app_exercise_map.exercise_category IS 'Garmin exercise_category (staging.exercise_muscles); NULL: no Garmin exercise (hevy_template, unmapped, or a user row giving muscles only).';
COMMENT ON COLUMN staging.app_exercise_map.exercise_name IS 'Garmin exercise name of the category; NULL: the category''s default.';
COMMENT ON COLUMN staging.app_exercise_map.primary_muscle IS 'Muscle group the exercise mainly trains (the groups of staging.exercise_muscles), or unmapped.';
COMMENT ON COLUMN staging.app_exercise_map.secondary_muscles IS 'Further muscle groups it trains (each counted as half a set, docs/metrics.md).';
COMMENT ON COLUMN staging.app_exercise_map.mapped_by IS 'user (exercise_map.csv in the settings folder), seed (warehouse/seeds/app_exercises.csv), hevy_template (Hevy''s own muscle groups of the template) or unmapped.';
