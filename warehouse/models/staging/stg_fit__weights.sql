-- grain: one row per scale measurement (weight_scale message) of a usable FIT weight file
CREATE OR REPLACE VIEW staging.stg_fit__weights AS
WITH weights AS (
    SELECT w.* FROM raw.fit_weights w
    JOIN raw.fit_files f USING (athlete_id, file_sha256)
    WHERE f.status IN ('ok', 'partial')
),
athletes AS (
    SELECT athlete_id, timezone FROM raw.athletes
),
users_per_file AS (
    SELECT athlete_id, file_sha256, count(DISTINCT user_profile_index) AS users
    FROM weights GROUP BY ALL
),
final AS (
    SELECT
        w.athlete_id,
        w.file_sha256,
        w.measurement_index,
        w.measured_at_utc AS measured_at,
        timezone(coalesce(a.timezone, 'UTC'), timezone('UTC', w.measured_at_utc))::DATE AS local_date,
        w.user_profile_index,
        w.body_mass_kg,
        w.body_fat_percent,
        w.body_water_percent,
        w.bone_mass_kg,
        w.muscle_mass_kg,
        w.bmi_kg_m2,
        u.users > 1 AS is_multi_user_file,
        w.body_mass_kg IS NOT NULL AND w.measured_at_utc IS NOT NULL AND u.users <= 1 AS is_body_mass_source
    FROM weights w
    JOIN users_per_file u USING (athlete_id, file_sha256)
    LEFT JOIN athletes a USING (athlete_id)
)
SELECT * FROM final;
COMMENT ON VIEW staging.stg_fit__weights IS 'Scale measurements of usable FIT weight files (raw.fit_weights), with their local date.';
COMMENT ON COLUMN staging.stg_fit__weights.athlete_id IS 'runlift athlete id (the athlete who imported the file).';
COMMENT ON COLUMN staging.stg_fit__weights.file_sha256 IS 'The FIT file (raw.fit_files).';
COMMENT ON COLUMN staging.stg_fit__weights.measurement_index IS 'Position of the measurement in the file, from 0.';
COMMENT ON COLUMN staging.stg_fit__weights.measured_at IS 'When the measurement was taken, UTC.';
COMMENT ON COLUMN staging.stg_fit__weights.local_date IS 'Day of the measurement in the athlete''s time zone (settings; UTC for an athlete not configured).';
COMMENT ON COLUMN staging.stg_fit__weights.user_profile_index IS 'Which of the scale''s users it was (multi-user scales); NULL when the file does not say.';
COMMENT ON COLUMN staging.stg_fit__weights.body_mass_kg IS 'Body mass, kg (NULL: not measured or out of bounds).';
COMMENT ON COLUMN staging.stg_fit__weights.body_fat_percent IS 'Body fat, % of body mass.';
COMMENT ON COLUMN staging.stg_fit__weights.body_water_percent IS 'Body water (hydration), % of body mass.';
COMMENT ON COLUMN staging.stg_fit__weights.bone_mass_kg IS 'Bone mass, kg.';
COMMENT ON COLUMN staging.stg_fit__weights.muscle_mass_kg IS 'Muscle mass, kg.';
COMMENT ON COLUMN staging.stg_fit__weights.bmi_kg_m2 IS 'Body mass index as the scale computed it, kg/m^2.';
COMMENT ON COLUMN staging.stg_fit__weights.is_multi_user_file IS 'The file holds measurements of more than one of the scale''s users.';
COMMENT ON COLUMN staging.stg_fit__weights.is_body_mass_source IS 'Usable for the body-mass series (intermediate.int_body_mass): a body mass and a time, from a file of one user (a multi-user file is kept but not used: which user is the athlete is unknown).';
