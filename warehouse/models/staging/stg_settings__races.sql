-- grain: one row per planned race of an athlete (settings athletes.<id>.races)
CREATE OR REPLACE VIEW staging.stg_settings__races AS
WITH source AS (SELECT * FROM raw.athlete_races),
final AS (
    SELECT athlete_id, race_date, name, distance_m,
           -- the taper: 21 days before a marathon or longer (from 42 km), 14 days before anything shorter
           coalesce(taper_days, CASE WHEN distance_m >= 42000 THEN 21 ELSE 14 END)::INTEGER AS taper_days,
           (race_date - coalesce(taper_days, CASE WHEN distance_m >= 42000 THEN 21 ELSE 14 END)::INTEGER) AS taper_start
    FROM source
)
SELECT * FROM final;
COMMENT ON VIEW staging.stg_settings__races IS 'Planned races from the settings file: their taper and race day raise no low-load flag.';
COMMENT ON COLUMN staging.stg_settings__races.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN staging.stg_settings__races.race_date IS 'Race day (athlete local date).';
COMMENT ON COLUMN staging.stg_settings__races.name IS 'The race''s name.';
COMMENT ON COLUMN staging.stg_settings__races.distance_m IS 'Race distance, m (NULL: not given).';
COMMENT ON COLUMN staging.stg_settings__races.taper_days IS 'Taper length, days: the setting taper_days, else 21 for a race of 42 km or more, else 14.';
COMMENT ON COLUMN staging.stg_settings__races.taper_start IS 'First day of the taper (race_date - taper_days); the taper runs to race day inclusive.';
