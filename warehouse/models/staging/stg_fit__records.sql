-- grain: one row per record (per-second sample) of a usable FIT file; no positions
CREATE OR REPLACE VIEW staging.stg_fit__records AS
WITH records AS (
    SELECT r.* FROM raw.fit_records r
    JOIN raw.fit_files f USING (athlete_id, file_sha256)
    WHERE f.status IN ('ok', 'partial')
),
final AS (
    -- samples outside their plausible bounds (docs/metrics.md) become NULL (no note per sample)
    SELECT athlete_id, file_sha256, record_index, timestamp_utc AS recorded_at,
           staging.bounded(distance_m, 0, 1000000) AS distance_m,
           staging.bounded(speed_mps, 0, 100) AS speed_mps,
           staging.bounded(heart_rate_bpm, 20, 250) AS heart_rate_bpm,
           staging.bounded(cadence_rpm, 0, 300) * 2 AS cadence_spm,
           staging.bounded(altitude_m, -500, 9000) AS altitude_m,
           staging.bounded(power_w, 0, 3000) AS power_w,
           staging.bounded(vertical_oscillation_m, 0, 0.5) AS vertical_oscillation_m,
           staging.bounded(stance_time_s, 0.05, 2.0) AS stance_time_s,
           staging.bounded(step_length_m, 0, 5) AS step_length_m
    FROM records
)
SELECT * FROM final;
COMMENT ON VIEW staging.stg_fit__records IS 'Per-second FIT samples without positions. cadence_spm is 2 x the FIT cadence (steps per minute for running). Values outside plausible bounds are NULL.';
COMMENT ON COLUMN staging.stg_fit__records.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN staging.stg_fit__records.file_sha256 IS 'The FIT file.';
COMMENT ON COLUMN staging.stg_fit__records.record_index IS 'Sample order in the file.';
COMMENT ON COLUMN staging.stg_fit__records.recorded_at IS 'Sample time, UTC.';
COMMENT ON COLUMN staging.stg_fit__records.distance_m IS 'Cumulative distance, m.';
COMMENT ON COLUMN staging.stg_fit__records.speed_mps IS 'Speed, m/s.';
COMMENT ON COLUMN staging.stg_fit__records.heart_rate_bpm IS 'Heart rate, beats/min.';
COMMENT ON COLUMN staging.stg_fit__records.cadence_spm IS 'Cadence x 2: steps per minute for running.';
COMMENT ON COLUMN staging.stg_fit__records.altitude_m IS 'Altitude, m.';
COMMENT ON COLUMN staging.stg_fit__records.power_w IS 'Power, W.';
COMMENT ON COLUMN staging.stg_fit__records.vertical_oscillation_m IS 'Vertical oscillation, m.';
COMMENT ON COLUMN staging.stg_fit__records.stance_time_s IS 'Ground contact time, s.';
COMMENT ON COLUMN staging.stg_fit__records.step_length_m IS 'Step length, m.';
