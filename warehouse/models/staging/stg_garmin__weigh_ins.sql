-- grain: one row per weigh-in of Garmin Connect (raw.garmin_weigh_ins)
CREATE OR REPLACE VIEW staging.stg_garmin__weigh_ins AS
WITH source AS (SELECT * FROM raw.garmin_weigh_ins),
final AS (
    SELECT
        athlete_id,
        sample_pk,
        measured_at_utc AS measured_at,
        calendar_date AS local_date,
        body_mass_kg,
        body_fat_percent,
        body_water_percent,
        bone_mass_kg,
        muscle_mass_kg,
        bmi_kg_m2,
        source_type,
        body_mass_kg IS NOT NULL AS is_body_mass_source
    FROM source
)
SELECT * FROM final;
COMMENT ON VIEW staging.stg_garmin__weigh_ins IS 'Weigh-ins of Garmin Connect (scale or entered by hand), dated by the day Garmin files them under.';
COMMENT ON COLUMN staging.stg_garmin__weigh_ins.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN staging.stg_garmin__weigh_ins.sample_pk IS 'Garmin''s id of the measurement.';
COMMENT ON COLUMN staging.stg_garmin__weigh_ins.measured_at IS 'When it was measured, UTC.';
COMMENT ON COLUMN staging.stg_garmin__weigh_ins.local_date IS 'Day of the measurement in the athlete''s local time (Garmin''s calendarDate).';
COMMENT ON COLUMN staging.stg_garmin__weigh_ins.body_mass_kg IS 'Body mass, kg (NULL: out of bounds).';
COMMENT ON COLUMN staging.stg_garmin__weigh_ins.body_fat_percent IS 'Body fat, % of body mass.';
COMMENT ON COLUMN staging.stg_garmin__weigh_ins.body_water_percent IS 'Body water, % of body mass.';
COMMENT ON COLUMN staging.stg_garmin__weigh_ins.bone_mass_kg IS 'Bone mass, kg.';
COMMENT ON COLUMN staging.stg_garmin__weigh_ins.muscle_mass_kg IS 'Muscle mass, kg.';
COMMENT ON COLUMN staging.stg_garmin__weigh_ins.bmi_kg_m2 IS 'Body mass index as Garmin computed it, kg/m^2.';
COMMENT ON COLUMN staging.stg_garmin__weigh_ins.source_type IS 'Where Garmin got it (INDEX_SCALE, MANUAL, ...).';
COMMENT ON COLUMN staging.stg_garmin__weigh_ins.is_body_mass_source IS 'Usable for the body-mass series (intermediate.int_body_mass): it has a body mass.';
