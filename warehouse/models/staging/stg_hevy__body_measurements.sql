-- grain: one row per athlete and day with a body measurement logged in Hevy
CREATE OR REPLACE VIEW staging.stg_hevy__body_measurements AS
WITH source AS (SELECT * FROM raw.hevy_body_measurements),
final AS (
    SELECT athlete_id, measured_on AS local_date, body_mass_kg, lean_mass_kg, body_fat_percent,
           body_mass_kg IS NOT NULL AS is_body_mass_source
    FROM source
)
SELECT * FROM final;
COMMENT ON VIEW staging.stg_hevy__body_measurements IS 'Body measurements logged in Hevy (raw.hevy_body_measurements), one per day.';
COMMENT ON COLUMN staging.stg_hevy__body_measurements.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN staging.stg_hevy__body_measurements.local_date IS 'Day of the measurement (Hevy keeps a date, no time).';
COMMENT ON COLUMN staging.stg_hevy__body_measurements.body_mass_kg IS 'Body mass, kg; NULL: not logged that day.';
COMMENT ON COLUMN staging.stg_hevy__body_measurements.lean_mass_kg IS 'Lean mass, kg.';
COMMENT ON COLUMN staging.stg_hevy__body_measurements.body_fat_percent IS 'Body fat, % of body mass.';
COMMENT ON COLUMN staging.stg_hevy__body_measurements.is_body_mass_source IS 'Has a body mass: a value of the body-mass series (intermediate.int_body_mass) on days the scale did not measure.';
