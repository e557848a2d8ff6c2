-- grain: one row per athlete configured in the settings file
CREATE OR REPLACE VIEW staging.stg_settings__athletes AS
WITH source AS (SELECT * FROM raw.athletes),
final AS (
    SELECT athlete_id, timezone, sex, max_hr_bpm, resting_hr_bpm, acwr_flags FROM source
)
SELECT * FROM final;
COMMENT ON VIEW staging.stg_settings__athletes IS 'Athletes from the settings file (one row per athlete).';
COMMENT ON COLUMN staging.stg_settings__athletes.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN staging.stg_settings__athletes.timezone IS 'IANA time zone, the fallback for an activity''s local day.';
COMMENT ON COLUMN staging.stg_settings__athletes.sex IS 'female, male or unspecified.';
COMMENT ON COLUMN staging.stg_settings__athletes.max_hr_bpm IS 'Maximum heart rate, beats/min.';
COMMENT ON COLUMN staging.stg_settings__athletes.resting_hr_bpm IS 'Resting heart rate, beats/min.';
COMMENT ON COLUMN staging.stg_settings__athletes.acwr_flags IS 'Raise acwr_high / acwr_low flags (settings flags.acwr or athletes.<id>.acwr_flags; default false).';
