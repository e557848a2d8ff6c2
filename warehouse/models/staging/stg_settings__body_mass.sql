-- grain: one row per athlete and dated body-mass value
CREATE OR REPLACE VIEW staging.stg_settings__body_mass AS
WITH source AS (SELECT * FROM raw.athlete_body_mass),
final AS (
    SELECT athlete_id, valid_from, body_mass_kg,
           lead(valid_from) OVER (PARTITION BY athlete_id ORDER BY valid_from) AS valid_to
    FROM source
)
SELECT * FROM final;
COMMENT ON VIEW staging.stg_settings__body_mass IS 'Body mass in force per period (one row per athlete and dated value).';
COMMENT ON COLUMN staging.stg_settings__body_mass.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN staging.stg_settings__body_mass.valid_from IS 'First day the value applies.';
COMMENT ON COLUMN staging.stg_settings__body_mass.body_mass_kg IS 'Body mass, kg.';
COMMENT ON COLUMN staging.stg_settings__body_mass.valid_to IS 'First day of the next value (exclusive); NULL for the current one.';
