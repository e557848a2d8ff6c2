-- grain: one row per athlete and day from which a body mass is in force
-- The rule (docs/metrics.md, "Body mass"): each settings value is in force from its date until the
-- next settings value (an undated one: from the beginning); the scale (FIT weight files and Garmin
-- Connect's weigh-ins, one series) fills only the days before the first settings value, each
-- measurement in force from its local day until the next one (the day's last measurement wins);
-- body mass logged in Hevy fills those days too, on days without a scale measurement; the earliest
-- value of the series also covers the days before it; an athlete with none gets the 70 kg default.
CREATE OR REPLACE TABLE intermediate.int_body_mass AS
WITH athletes AS (
    SELECT athlete_id FROM staging.stg_settings__athletes
),
settings AS (
    SELECT athlete_id, valid_from, body_mass_kg FROM staging.stg_settings__body_mass
),
first_setting AS (
    SELECT athlete_id, min(valid_from) AS first_from FROM settings GROUP BY 1
),
weighings AS (
    SELECT athlete_id, local_date, measured_at, body_mass_kg, 'scale' AS source,
           file_sha256 || ':' || lpad(measurement_index::VARCHAR, 10, '0') AS tie
    FROM staging.stg_fit__weights WHERE is_body_mass_source
    UNION ALL
    SELECT athlete_id, local_date, measured_at, body_mass_kg, 'garmin_connect' AS source,
           lpad(sample_pk::VARCHAR, 20, '0') AS tie
    FROM staging.stg_garmin__weigh_ins WHERE is_body_mass_source
),
scale AS (
    SELECT w.athlete_id, w.local_date AS valid_from, w.body_mass_kg, w.source
    FROM weighings w
    LEFT JOIN first_setting f USING (athlete_id)
    WHERE f.first_from IS NULL OR w.local_date < f.first_from
    -- the day's last measurement; the same weighing in a scale file and in Garmin Connect: the file's
    QUALIFY row_number() OVER (PARTITION BY w.athlete_id, w.local_date
                               ORDER BY w.measured_at DESC, w.source DESC, w.tie DESC) = 1
),
hevy AS (
    -- typed into the Hevy app (one value a day): only on days the scale did not measure
    SELECT h.athlete_id, h.local_date AS valid_from, h.body_mass_kg
    FROM staging.stg_hevy__body_measurements h
    LEFT JOIN first_setting f USING (athlete_id)
    WHERE h.is_body_mass_source AND (f.first_from IS NULL OR h.local_date < f.first_from)
      AND NOT EXISTS (SELECT 1 FROM scale s WHERE s.athlete_id = h.athlete_id AND s.valid_from = h.local_date)
),
combined AS (
    SELECT athlete_id, valid_from, body_mass_kg, 'settings' AS source FROM settings
    UNION ALL
    SELECT athlete_id, valid_from, body_mass_kg, source FROM scale
    UNION ALL
    SELECT athlete_id, valid_from, body_mass_kg, 'hevy' AS source FROM hevy
    UNION ALL
    SELECT a.athlete_id, DATE '1900-01-01' AS valid_from, 70.0 AS body_mass_kg, 'default' AS source
    FROM athletes a
    WHERE a.athlete_id NOT IN (SELECT athlete_id FROM settings)
      AND a.athlete_id NOT IN (SELECT athlete_id FROM scale)
      AND a.athlete_id NOT IN (SELECT athlete_id FROM hevy)
),
final AS (
    SELECT
        athlete_id,
        -- the earliest value is in force from the beginning, before its own date too
        CASE WHEN row_number() OVER (PARTITION BY athlete_id ORDER BY valid_from) = 1
             THEN least(valid_from, DATE '1900-01-01') ELSE valid_from END AS valid_from,
        lead(valid_from) OVER (PARTITION BY athlete_id ORDER BY valid_from) AS valid_to,
        body_mass_kg,
        source,
        valid_from AS given_on
    FROM combined
)
SELECT * FROM final;
COMMENT ON TABLE intermediate.int_body_mass IS 'Body mass in force per period, from the settings, the scale (FIT weight files and Garmin Connect weigh-ins) and Hevy''s body measurements: settings win from their first date on, the scale (else Hevy) fills the days before (docs/metrics.md).';
COMMENT ON COLUMN intermediate.int_body_mass.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN intermediate.int_body_mass.valid_from IS 'First day the value applies (athlete local date; 1900-01-01 for the earliest value).';
COMMENT ON COLUMN intermediate.int_body_mass.valid_to IS 'First day of the next value (exclusive); NULL for the current one.';
COMMENT ON COLUMN intermediate.int_body_mass.body_mass_kg IS 'Body mass, kg.';
COMMENT ON COLUMN intermediate.int_body_mass.source IS 'settings (athletes.<id>.body_mass_kg), scale (the day''s last measurement, from a FIT weight file), garmin_connect (the day''s last measurement, a Garmin Connect weigh-in), hevy (body mass logged in Hevy that day, on a day without a scale measurement) or default (70 kg: none gives one).';
COMMENT ON COLUMN intermediate.int_body_mass.given_on IS 'The settings value''s since date (1900-01-01: undated) or the local day of the scale, Garmin Connect or Hevy measurement.';
