-- grain: one row per record (per-second sample) of a usable FIT file; no positions
CREATE OR REPLACE VIEW staging.stg_fit__records AS
WITH records AS (
    SELECT r.* FROM raw.fit_records r
    JOIN raw.fit_files f USING (athlete_id, file_sha256)
    WHERE f.status IN ('ok', 'partial')
),
final AS (
    SELECT athlete_id, file_sha256, record_index, timestamp_utc AS recorded_at, distance_m, speed_mps,
           heart_rate_bpm, cadence_rpm * 2 AS cadence_spm, altitude_m, power_w,
           vertical_oscillation_m, stance_time_s, step_length_m
    FROM records
)
SELECT * FROM final;
COMMENT ON VIEW staging.stg_fit__records IS 'Per-second FIT samples without positions. cadence_spm is 2 x the FIT cadence (steps per minute for running).';
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
