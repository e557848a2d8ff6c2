-- grain: one row per Strava activity that still exists at Strava
CREATE OR REPLACE VIEW staging.stg_strava__activities AS
WITH source AS (
    SELECT * FROM raw.strava_activities WHERE deleted_at IS NULL
),
final AS (
    SELECT
        athlete_id,
        activity_id,
        'strava:' || activity_id AS strava_key,
        name,
        sport_type,
        CASE WHEN sport_type IN ('Run', 'TrailRun', 'VirtualRun') THEN 'run'
             WHEN sport_type IN ('WeightTraining', 'Crossfit') THEN 'strength'
             ELSE 'other' END AS sport_group,
        start_time_utc AS started_at,
        start_time_local AS started_local,
        utc_offset_s,
        distance_m,
        moving_time_s AS moving_s,
        elapsed_time_s AS elapsed_s,
        elevation_gain_m AS ascent_m,
        average_heartrate_bpm AS avg_heart_rate_bpm,
        max_heartrate_bpm AS max_heart_rate_bpm,
        CASE WHEN sport_type IN ('Run', 'TrailRun', 'VirtualRun') THEN average_cadence_rpm * 2 END AS avg_cadence_spm,
        perceived_exertion AS rpe,
        calories_kcal,
        external_id,
        device_name,
        coalesce(is_manual, false) AS is_manual,
        coalesce(is_trainer, false) AS is_trainer
    FROM source
)
SELECT * FROM final;
COMMENT ON VIEW staging.stg_strava__activities IS 'Strava activities not deleted at Strava, typed and converted: cadence in steps per minute.';
COMMENT ON COLUMN staging.stg_strava__activities.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN staging.stg_strava__activities.activity_id IS 'Strava activity id.';
COMMENT ON COLUMN staging.stg_strava__activities.strava_key IS 'Stable key: strava:<activity id>.';
COMMENT ON COLUMN staging.stg_strava__activities.name IS 'Activity name.';
COMMENT ON COLUMN staging.stg_strava__activities.sport_type IS 'Strava sport_type, unknown values as sent.';
COMMENT ON COLUMN staging.stg_strava__activities.sport_group IS 'run (Run, TrailRun, VirtualRun), strength (WeightTraining, Crossfit), other.';
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
COMMENT ON COLUMN staging.stg_strava__activities.is_manual IS 'Entered by hand.';
COMMENT ON COLUMN staging.stg_strava__activities.is_trainer IS 'Treadmill or trainer.';
