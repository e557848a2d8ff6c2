-- 0007: body composition measurements of Garmin scale files (FIT file type `weight`, message
-- weight_scale), and body-mass dates from the settings kept as written (the staging fills the
-- days before the first value, see docs/metrics.md "Body mass").
CREATE TABLE raw.fit_weights (
    athlete_id          VARCHAR NOT NULL,
    file_sha256         VARCHAR NOT NULL,
    measurement_index   INTEGER NOT NULL,
    measured_at_utc     TIMESTAMP,
    user_profile_index  INTEGER,
    body_mass_kg        DOUBLE,
    body_fat_percent    DOUBLE,
    body_water_percent  DOUBLE,
    bone_mass_kg        DOUBLE,
    muscle_mass_kg      DOUBLE,
    bmi_kg_m2           DOUBLE,
    dq_reason           VARCHAR,
    PRIMARY KEY (athlete_id, file_sha256, measurement_index)
);
COMMENT ON TABLE raw.fit_weights IS 'One row per weight_scale message of a FIT weight file (a Garmin scale): dated body mass and composition. Every measurement of a file is attributed to the athlete who imported it (multi-user files: see user_profile_index).';
COMMENT ON COLUMN raw.fit_weights.athlete_id IS 'runlift athlete id (the athlete who imported the file).';
COMMENT ON COLUMN raw.fit_weights.file_sha256 IS 'The file (raw.fit_files).';
COMMENT ON COLUMN raw.fit_weights.measurement_index IS 'Position of the weight_scale message in the file, from 0.';
COMMENT ON COLUMN raw.fit_weights.measured_at_utc IS 'weight_scale.timestamp: when the measurement was taken, UTC.';
COMMENT ON COLUMN raw.fit_weights.user_profile_index IS 'weight_scale.user_profile_index: which of the scale''s users stood on it (multi-user scales); NULL when the file does not say (single-user files).';
COMMENT ON COLUMN raw.fit_weights.body_mass_kg IS 'weight_scale.weight, kg; NULL when the scale was still calculating or the value is outside [0.5, 650] (reason in dq_reason).';
COMMENT ON COLUMN raw.fit_weights.body_fat_percent IS 'weight_scale.percent_fat, % of body mass; NULL outside [0, 100].';
COMMENT ON COLUMN raw.fit_weights.body_water_percent IS 'weight_scale.percent_hydration, % of body mass; NULL outside [0, 100].';
COMMENT ON COLUMN raw.fit_weights.bone_mass_kg IS 'weight_scale.bone_mass, kg; NULL outside [0, 650].';
COMMENT ON COLUMN raw.fit_weights.muscle_mass_kg IS 'weight_scale.muscle_mass, kg; NULL outside [0, 650].';
COMMENT ON COLUMN raw.fit_weights.bmi_kg_m2 IS 'weight_scale.bmi as the scale computed it, kg/m^2; NULL outside [0, 300].';
COMMENT ON COLUMN raw.fit_weights.dq_reason IS 'Why values of the measurement were set to NULL (e.g. body_mass_kg = 900 outside [0.5, 650]); NULL: none.';

COMMENT ON TABLE raw.athlete_body_mass IS 'Body mass from the settings file, each value in force from valid_from (an undated value: from 1900-01-01) until the next one. Written by every build; empty for an athlete whose settings give no body_mass_kg.';
COMMENT ON COLUMN raw.fit_files.status IS 'ok: decoded whole, checksums good (activity and weight files); partial: some data, then an error, or an activity without a session (summarised from records); rejected: nothing usable; skipped: valid FIT that is neither an activity nor a weight file.';
