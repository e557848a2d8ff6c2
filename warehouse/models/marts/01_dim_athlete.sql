-- grain: one row per athlete
CREATE OR REPLACE TABLE marts.dim_athlete AS
WITH athletes AS (SELECT * FROM staging.stg_settings__athletes),
mass AS (SELECT * FROM intermediate.int_body_mass),
first_activity AS (
    SELECT athlete_id, min(local_date) AS first_activity_date, count(*) AS workouts
    FROM intermediate.int_workouts GROUP BY 1
),
final AS (
    SELECT a.athlete_id, a.timezone, a.sex, a.max_hr_bpm, a.resting_hr_bpm,
           (SELECT m.body_mass_kg FROM mass m WHERE m.athlete_id = a.athlete_id
              AND m.valid_from <= getvariable('as_of') ORDER BY m.valid_from DESC LIMIT 1) AS body_mass_kg,
           (SELECT m.source FROM mass m WHERE m.athlete_id = a.athlete_id
              AND m.valid_from <= getvariable('as_of') ORDER BY m.valid_from DESC LIMIT 1) AS body_mass_source,
           f.first_activity_date,
           coalesce(f.workouts, 0)::INTEGER AS workouts,
           getvariable('as_of')::DATE AS as_of_date
    FROM athletes a LEFT JOIN first_activity f USING (athlete_id)
)
SELECT * FROM final;
COMMENT ON TABLE marts.dim_athlete IS 'One row per athlete: the parameters the metrics use (from the settings file; body mass also from scale files) and the span of their data.';
COMMENT ON COLUMN marts.dim_athlete.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN marts.dim_athlete.timezone IS 'IANA time zone (fallback for an activity''s day).';
COMMENT ON COLUMN marts.dim_athlete.sex IS 'female, male or unspecified.';
COMMENT ON COLUMN marts.dim_athlete.max_hr_bpm IS 'Maximum heart rate, beats/min.';
COMMENT ON COLUMN marts.dim_athlete.resting_hr_bpm IS 'Resting heart rate, beats/min.';
COMMENT ON COLUMN marts.dim_athlete.body_mass_kg IS 'Body mass in force on the as-of date, kg (dated values per day in the daily mart).';
COMMENT ON COLUMN marts.dim_athlete.body_mass_source IS 'Where body_mass_kg comes from: settings, scale (FIT weight files), garmin_connect (Garmin Connect weigh-ins), hevy (Hevy body measurements) or default (70 kg).';
COMMENT ON COLUMN marts.dim_athlete.first_activity_date IS 'Local date of the first workout.';
COMMENT ON COLUMN marts.dim_athlete.workouts IS 'Workouts in the warehouse.';
COMMENT ON COLUMN marts.dim_athlete.as_of_date IS 'The as-of date of the build.';
