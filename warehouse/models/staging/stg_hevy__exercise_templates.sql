-- grain: one row per Hevy exercise template an athlete's account lists
CREATE OR REPLACE VIEW staging.stg_hevy__exercise_templates AS
WITH source AS (SELECT * FROM raw.hevy_exercise_templates),
final AS (
    SELECT athlete_id, template_id, title, exercise_type, primary_muscle_group, secondary_muscle_groups,
           equipment, coalesce(is_custom, false) AS is_custom
    FROM source
)
SELECT * FROM final;
COMMENT ON VIEW staging.stg_hevy__exercise_templates IS 'Hevy exercise templates (raw.hevy_exercise_templates): names and muscle groups.';
COMMENT ON COLUMN staging.stg_hevy__exercise_templates.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN staging.stg_hevy__exercise_templates.template_id IS 'Template id.';
COMMENT ON COLUMN staging.stg_hevy__exercise_templates.title IS 'Exercise name.';
COMMENT ON COLUMN staging.stg_hevy__exercise_templates.exercise_type IS 'weight_reps, reps_only, bodyweight_reps, duration, distance_duration, ...';
COMMENT ON COLUMN staging.stg_hevy__exercise_templates.primary_muscle_group IS 'Primary muscle group, as Hevy names it.';
COMMENT ON COLUMN staging.stg_hevy__exercise_templates.secondary_muscle_groups IS 'Secondary muscle groups.';
COMMENT ON COLUMN staging.stg_hevy__exercise_templates.equipment IS 'Equipment, when Hevy says.';
COMMENT ON COLUMN staging.stg_hevy__exercise_templates.is_custom IS 'An exercise the athlete created.';
