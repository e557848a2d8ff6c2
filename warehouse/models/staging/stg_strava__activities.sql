-- grain: one row per Strava activity that still exists at Strava
CREATE OR REPLACE VIEW staging.stg_strava__activities AS
WITH source AS (
    SELECT * FROM raw.strava_activities WHERE deleted_at IS NULL
),
sport_types AS (
    SELECT * FROM staging.sport_types WHERE source = 'strava'
),
final AS (
    SELECT
        a.athlete_id,
        a.activity_id,
        'strava:' || a.activity_id AS strava_key,
        a.name,
        a.sport_type,
        coalesce(m.sport_group, 'other') AS sport_group,
        coalesce(m.match_group, 'other') AS match_group,
        coalesce(m.includes_running, false) AS includes_running,
        m.sport_type IS NOT NULL AS is_sport_type_mapped,
        a.start_time_utc AS started_at,
        a.start_time_local AS started_local,
        a.utc_offset_s,
        staging.bounded(a.distance_m, 0, 1000000) AS distance_m,
        staging.bounded(a.moving_time_s, 0, 604800) AS moving_s,
        staging.bounded(a.elapsed_time_s, 0, 604800) AS elapsed_s,
        staging.bounded(a.elevation_gain_m, 0, 50000) AS ascent_m,
        staging.bounded(a.average_heartrate_bpm, 20, 250) AS avg_heart_rate_bpm,
        staging.bounded(a.max_heartrate_bpm, 20, 250) AS max_heart_rate_bpm,
        CASE WHEN coalesce(m.includes_running, false) THEN staging.bounded(a.average_cadence_rpm, 0, 300) * 2 END
            AS avg_cadence_spm,
        staging.bounded(a.perceived_exertion, 0, 10) AS rpe,
        staging.bounded(a.calories_kcal, 0, 50000) AS calories_kcal,
        a.external_id,
        a.device_name,
        a.gear_id,
        coalesce(a.is_manual, false) AS is_manual,
        coalesce(a.is_trainer, false) AS is_trainer,
        list_filter([
            staging.bound_note('distance_m', a.distance_m, 0, 1000000),
            staging.bound_note('moving_s', a.moving_time_s, 0, 604800),
            staging.bound_note('elapsed_s', a.elapsed_time_s, 0, 604800),
            staging.bound_note('ascent_m', a.elevation_gain_m, 0, 50000),
            staging.bound_note('avg_heart_rate_bpm', a.average_heartrate_bpm, 20, 250),
            staging.bound_note('max_heart_rate_bpm', a.max_heartrate_bpm, 20, 250),
            staging.bound_note('average_cadence_rpm', a.average_cadence_rpm, 0, 300),
            staging.bound_note('perceived_exertion', a.perceived_exertion, 0, 10),
            staging.bound_note('calories_kcal', a.calories_kcal, 0, 50000)
        ], lambda n: n IS NOT NULL) AS bounds_notes
    FROM source a
    LEFT JOIN sport_types m ON m.sport_type = a.sport_type
)
SELECT * FROM final;
COMMENT ON VIEW staging.stg_strava__activities IS 'Strava activities not deleted at Strava, typed and converted (cadence in steps per minute), values outside plausible bounds set to NULL (bounds_notes says which), sport mapped by staging.sport_types.';
COMMENT ON COLUMN staging.stg_strava__activities.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN staging.stg_strava__activities.activity_id IS 'Strava activity id.';
COMMENT ON COLUMN staging.stg_strava__activities.strava_key IS 'Stable key: strava:<activity id>.';
COMMENT ON COLUMN staging.stg_strava__activities.name IS 'Activity name.';
COMMENT ON COLUMN staging.stg_strava__activities.sport_type IS 'Strava sport_type, unknown values as sent.';
COMMENT ON COLUMN staging.stg_strava__activities.sport_group IS 'run, strength or other, from staging.sport_types (unmapped types: other).';
COMMENT ON COLUMN staging.stg_strava__activities.match_group IS 'Activities and FIT sessions of the same match group may be one workout (staging.sport_types).';
COMMENT ON COLUMN staging.stg_strava__activities.includes_running IS 'The activity''s distance is running (staging.sport_types; e.g. Run, HyroxRace).';
COMMENT ON COLUMN staging.stg_strava__activities.is_sport_type_mapped IS 'False when staging.sport_types has no row for the sport type (counted by runlift status).';
COMMENT ON COLUMN staging.stg_strava__activities.started_at IS 'Start, UTC.';
COMMENT ON COLUMN staging.stg_strava__activities.started_local IS 'Start, local wall-clock time (start_date_local).';
COMMENT ON COLUMN staging.stg_strava__activities.utc_offset_s IS 'Local time minus UTC, s.';
COMMENT ON COLUMN staging.stg_strava__activities.distance_m IS 'Distance, m.';
COMMENT ON COLUMN staging.stg_strava__activities.moving_s IS 'Moving time, s.';
COMMENT ON COLUMN staging.stg_strava__activities.elapsed_s IS 'Elapsed time, s.';
COMMENT ON COLUMN staging.stg_strava__activities.ascent_m IS 'Elevation gain, m.';
COMMENT ON COLUMN staging.stg_strava__activities.avg_heart_rate_bpm IS 'Average heart rate, beats/min.';
COMMENT ON COLUMN staging.stg_strava__activities.max_heart_rate_bpm IS 'Maximum heart rate, beats/min.';
COMMENT ON COLUMN staging.stg_strava__activities.avg_cadence_spm IS 'Running cadence in steps per minute (2 x Strava''s strides per minute).';
COMMENT ON COLUMN staging.stg_strava__activities.rpe IS 'Perceived exertion 1-10 (detail calls only).';
COMMENT ON COLUMN staging.stg_strava__activities.calories_kcal IS 'Energy, kcal (detail calls only).';
COMMENT ON COLUMN staging.stg_strava__activities.external_id IS 'Upload identifier (often the FIT file name or a Garmin id).';
COMMENT ON COLUMN staging.stg_strava__activities.device_name IS 'Recording device (detail calls only).';
COMMENT ON COLUMN staging.stg_strava__activities.gear_id IS 'Strava gear (shoe g..., bike b...) the athlete set on the activity, (payload gear_id); NULL: none set.';
COMMENT ON COLUMN staging.stg_strava__activities.is_manual IS 'Entered by hand.';
COMMENT ON COLUMN staging.stg_strava__activities.is_trainer IS 'Treadmill or trainer.';
COMMENT ON COLUMN staging.stg_strava__activities.bounds_notes IS 'Values outside their plausible bounds (docs/metrics.md), set to NULL here.';
