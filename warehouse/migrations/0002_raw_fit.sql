-- 0002: raw tables for Garmin FIT files. Units are SI (metres, seconds, kilograms, m/s);
-- timestamps are UTC without a time zone (columns ending _utc), local wall-clock time where
-- the file gives it (columns ending _local).
CREATE TABLE raw.fit_files (
    athlete_id        VARCHAR NOT NULL,
    file_sha256       VARCHAR NOT NULL,
    first_path        VARCHAR NOT NULL,
    size_bytes        BIGINT NOT NULL,
    file_type         VARCHAR,
    manufacturer      VARCHAR,
    product           VARCHAR,
    serial_number     BIGINT,
    time_created_utc  TIMESTAMP,
    status            VARCHAR NOT NULL CHECK (status IN ('ok', 'partial', 'rejected', 'skipped')),
    error             VARCHAR,
    utc_offset_s      INTEGER,
    n_sessions        INTEGER NOT NULL,
    n_laps            INTEGER NOT NULL,
    n_sets            INTEGER NOT NULL,
    n_records         INTEGER NOT NULL,
    decoder           VARCHAR NOT NULL,
    blob_path         VARCHAR NOT NULL,
    imported_at       TIMESTAMP NOT NULL,
    PRIMARY KEY (athlete_id, file_sha256)
);
COMMENT ON TABLE raw.fit_files IS 'One row per athlete and distinct FIT file content (sha256 of the uncompressed FIT bytes), whatever its name or how often it was imported.';
COMMENT ON COLUMN raw.fit_files.athlete_id IS 'runlift athlete id (settings [athletes.<id>]).';
COMMENT ON COLUMN raw.fit_files.file_sha256 IS 'SHA-256 of the FIT bytes (after gunzip), hex. Identity of the file.';
COMMENT ON COLUMN raw.fit_files.first_path IS 'Where the file was first seen; members of archives as archive.zip!/inner.zip!/member.fit.';
COMMENT ON COLUMN raw.fit_files.size_bytes IS 'Size of the FIT bytes, bytes.';
COMMENT ON COLUMN raw.fit_files.file_type IS 'file_id.type: activity, monitoring_b, settings, ... (a number where the profile has no name).';
COMMENT ON COLUMN raw.fit_files.manufacturer IS 'file_id.manufacturer name (garmin, wahoo_fitness, ...).';
COMMENT ON COLUMN raw.fit_files.product IS 'file_id product name (e.g. fenix6S_sport) or number.';
COMMENT ON COLUMN raw.fit_files.serial_number IS 'file_id.serial_number of the recording device.';
COMMENT ON COLUMN raw.fit_files.time_created_utc IS 'file_id.time_created, UTC.';
COMMENT ON COLUMN raw.fit_files.status IS 'ok: decoded whole, checksums good; partial: some data, then an error, or an activity without a session (summarised from records); rejected: nothing usable; skipped: valid FIT that is not an activity.';
COMMENT ON COLUMN raw.fit_files.error IS 'Why the file is partial, rejected or skipped; NULL when ok.';
COMMENT ON COLUMN raw.fit_files.utc_offset_s IS 'Local time minus UTC, seconds, from the activity message (local_timestamp - timestamp); NULL when the file does not say.';
COMMENT ON COLUMN raw.fit_files.n_sessions IS 'Rows in raw.fit_sessions for this file.';
COMMENT ON COLUMN raw.fit_files.n_laps IS 'Rows in raw.fit_laps for this file.';
COMMENT ON COLUMN raw.fit_files.n_sets IS 'Rows in raw.fit_sets for this file (active and rest).';
COMMENT ON COLUMN raw.fit_files.n_records IS 'Rows in raw.fit_records for this file.';
COMMENT ON COLUMN raw.fit_files.decoder IS 'Decoder and version that produced the rows (e.g. python-fitparse 2.7.0).';
COMMENT ON COLUMN raw.fit_files.blob_path IS 'The original bytes, gzip-compressed and content-addressed, relative to the warehouse''s blob folder (<warehouse>.blobs/).';
COMMENT ON COLUMN raw.fit_files.imported_at IS 'When these rows were written, UTC.';

CREATE TABLE raw.fit_sessions (
    athlete_id                 VARCHAR NOT NULL,
    file_sha256                VARCHAR NOT NULL,
    session_index              INTEGER NOT NULL,
    sport                      VARCHAR,
    sub_sport                  VARCHAR,
    sport_profile_name         VARCHAR,
    start_time_utc             TIMESTAMP,
    start_time_local           TIMESTAMP,
    utc_offset_s               INTEGER,
    end_time_utc               TIMESTAMP,
    total_elapsed_time_s       DOUBLE,
    total_timer_time_s         DOUBLE,
    total_moving_time_s        DOUBLE,
    total_distance_m           DOUBLE,
    total_ascent_m             DOUBLE,
    total_descent_m            DOUBLE,
    avg_speed_mps              DOUBLE,
    max_speed_mps              DOUBLE,
    avg_heart_rate_bpm         DOUBLE,
    max_heart_rate_bpm         DOUBLE,
    avg_cadence_rpm            DOUBLE,
    max_cadence_rpm            DOUBLE,
    total_strides              BIGINT,
    total_calories_kcal        DOUBLE,
    avg_stance_time_s          DOUBLE,
    avg_vertical_oscillation_m DOUBLE,
    avg_step_length_m          DOUBLE,
    total_training_effect      DOUBLE,
    total_anaerobic_training_effect DOUBLE,
    training_load_peak         DOUBLE,
    workout_rpe                DOUBLE,
    workout_feel               DOUBLE,
    num_laps                   INTEGER,
    is_summarised              BOOLEAN NOT NULL,
    PRIMARY KEY (athlete_id, file_sha256, session_index)
);
COMMENT ON TABLE raw.fit_sessions IS 'One row per session message of a FIT file (a multisport file has several); for an activity without a session message, one session summarised from its records (is_summarised).';
COMMENT ON COLUMN raw.fit_sessions.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN raw.fit_sessions.file_sha256 IS 'The file (raw.fit_files).';
COMMENT ON COLUMN raw.fit_sessions.session_index IS '0-based order of the session in the file (chained files continue the count).';
COMMENT ON COLUMN raw.fit_sessions.sport IS 'FIT sport: running, training, cycling, ...';
COMMENT ON COLUMN raw.fit_sessions.sub_sport IS 'FIT sub_sport: generic, trail, strength_training, ...';
COMMENT ON COLUMN raw.fit_sessions.sport_profile_name IS 'Name of the sport profile on the device, as the athlete set it.';
COMMENT ON COLUMN raw.fit_sessions.start_time_utc IS 'Session start, UTC.';
COMMENT ON COLUMN raw.fit_sessions.start_time_local IS 'Session start, local wall-clock time (start_time_utc + utc_offset_s); NULL when the file gives no local time.';
COMMENT ON COLUMN raw.fit_sessions.utc_offset_s IS 'Local time minus UTC, seconds, from the activity message; NULL when absent.';
COMMENT ON COLUMN raw.fit_sessions.end_time_utc IS 'Session message timestamp (end of session), UTC.';
COMMENT ON COLUMN raw.fit_sessions.total_elapsed_time_s IS 'Elapsed time including pauses, s.';
COMMENT ON COLUMN raw.fit_sessions.total_timer_time_s IS 'Timer time excluding pauses, s.';
COMMENT ON COLUMN raw.fit_sessions.total_moving_time_s IS 'Moving time, s (where the device reports it).';
COMMENT ON COLUMN raw.fit_sessions.total_distance_m IS 'Distance, m.';
COMMENT ON COLUMN raw.fit_sessions.total_ascent_m IS 'Elevation gain, m.';
COMMENT ON COLUMN raw.fit_sessions.total_descent_m IS 'Elevation loss, m.';
COMMENT ON COLUMN raw.fit_sessions.avg_speed_mps IS 'Average speed, m/s (enhanced field where present).';
COMMENT ON COLUMN raw.fit_sessions.max_speed_mps IS 'Maximum speed, m/s (enhanced field where present).';
COMMENT ON COLUMN raw.fit_sessions.avg_heart_rate_bpm IS 'Average heart rate, beats/min.';
COMMENT ON COLUMN raw.fit_sessions.max_heart_rate_bpm IS 'Maximum heart rate, beats/min.';
COMMENT ON COLUMN raw.fit_sessions.avg_cadence_rpm IS 'Average cadence as FIT reports it, cycles/min: for running STRIDES per minute (one foot); steps/min = 2 x this.';
COMMENT ON COLUMN raw.fit_sessions.max_cadence_rpm IS 'Maximum cadence, cycles/min (strides/min for running).';
COMMENT ON COLUMN raw.fit_sessions.total_strides IS 'total_cycles: strides for running (steps = 2 x strides).';
COMMENT ON COLUMN raw.fit_sessions.total_calories_kcal IS 'Energy, kcal as the device reports it.';
COMMENT ON COLUMN raw.fit_sessions.avg_stance_time_s IS 'Average ground contact (stance) time, s.';
COMMENT ON COLUMN raw.fit_sessions.avg_vertical_oscillation_m IS 'Average vertical oscillation, m.';
COMMENT ON COLUMN raw.fit_sessions.avg_step_length_m IS 'Average step length, m.';
COMMENT ON COLUMN raw.fit_sessions.total_training_effect IS 'Aerobic training effect, 0-5 (Firstbeat).';
COMMENT ON COLUMN raw.fit_sessions.total_anaerobic_training_effect IS 'Anaerobic training effect, 0-5 (Firstbeat).';
COMMENT ON COLUMN raw.fit_sessions.training_load_peak IS 'Garmin/Firstbeat training load (EPOC-based), dimensionless.';
COMMENT ON COLUMN raw.fit_sessions.workout_rpe IS 'Perceived exertion the athlete entered on the watch, as stored (0-100 in steps of 10 = RPE 0-10).';
COMMENT ON COLUMN raw.fit_sessions.workout_feel IS 'How the athlete felt (0-100), as entered on the watch.';
COMMENT ON COLUMN raw.fit_sessions.num_laps IS 'Number of laps the session says it has.';
COMMENT ON COLUMN raw.fit_sessions.is_summarised IS 'True when the file had no session message and this row was summarised from its records.';

CREATE TABLE raw.fit_laps (
    athlete_id            VARCHAR NOT NULL,
    file_sha256           VARCHAR NOT NULL,
    lap_index             INTEGER NOT NULL,
    start_time_utc        TIMESTAMP,
    end_time_utc          TIMESTAMP,
    total_elapsed_time_s  DOUBLE,
    total_timer_time_s    DOUBLE,
    total_distance_m      DOUBLE,
    total_ascent_m        DOUBLE,
    total_descent_m       DOUBLE,
    avg_speed_mps         DOUBLE,
    avg_heart_rate_bpm    DOUBLE,
    max_heart_rate_bpm    DOUBLE,
    avg_cadence_rpm       DOUBLE,
    intensity             VARCHAR,
    lap_trigger           VARCHAR,
    PRIMARY KEY (athlete_id, file_sha256, lap_index)
);
COMMENT ON TABLE raw.fit_laps IS 'One row per lap message of a FIT file.';
COMMENT ON COLUMN raw.fit_laps.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN raw.fit_laps.file_sha256 IS 'The file (raw.fit_files).';
COMMENT ON COLUMN raw.fit_laps.lap_index IS '0-based order of the lap in the file.';
COMMENT ON COLUMN raw.fit_laps.start_time_utc IS 'Lap start, UTC.';
COMMENT ON COLUMN raw.fit_laps.end_time_utc IS 'Lap message timestamp (end of lap), UTC.';
COMMENT ON COLUMN raw.fit_laps.total_elapsed_time_s IS 'Elapsed time, s.';
COMMENT ON COLUMN raw.fit_laps.total_timer_time_s IS 'Timer time, s.';
COMMENT ON COLUMN raw.fit_laps.total_distance_m IS 'Distance, m.';
COMMENT ON COLUMN raw.fit_laps.total_ascent_m IS 'Elevation gain, m.';
COMMENT ON COLUMN raw.fit_laps.total_descent_m IS 'Elevation loss, m.';
COMMENT ON COLUMN raw.fit_laps.avg_speed_mps IS 'Average speed, m/s.';
COMMENT ON COLUMN raw.fit_laps.avg_heart_rate_bpm IS 'Average heart rate, beats/min.';
COMMENT ON COLUMN raw.fit_laps.max_heart_rate_bpm IS 'Maximum heart rate, beats/min.';
COMMENT ON COLUMN raw.fit_laps.avg_cadence_rpm IS 'Average cadence, cycles/min (strides/min for running).';
COMMENT ON COLUMN raw.fit_laps.intensity IS 'FIT intensity: active, rest, warmup, cooldown, ...';
COMMENT ON COLUMN raw.fit_laps.lap_trigger IS 'What ended the lap: manual, distance, time, session_end, ...';

CREATE TABLE raw.fit_sets (
    athlete_id        VARCHAR NOT NULL,
    file_sha256       VARCHAR NOT NULL,
    set_index         INTEGER NOT NULL,
    message_index     INTEGER,
    set_type          VARCHAR,
    start_time_utc    TIMESTAMP,
    end_time_utc      TIMESTAMP,
    duration_s        DOUBLE,
    repetitions       INTEGER,
    weight_kg         DOUBLE,
    category          VARCHAR,
    category_ids      INTEGER[],
    category_names    VARCHAR[],
    subtype_ids       INTEGER[],
    subtype_names     VARCHAR[],
    wkt_step_index    INTEGER,
    exercise_title    VARCHAR,
    PRIMARY KEY (athlete_id, file_sha256, set_index)
);
COMMENT ON TABLE raw.fit_sets IS 'One row per set message of a strength FIT file (active sets and rests).';
COMMENT ON COLUMN raw.fit_sets.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN raw.fit_sets.file_sha256 IS 'The file (raw.fit_files).';
COMMENT ON COLUMN raw.fit_sets.set_index IS '0-based order of the set message in the file.';
COMMENT ON COLUMN raw.fit_sets.message_index IS 'The set''s message_index field as the device wrote it.';
COMMENT ON COLUMN raw.fit_sets.set_type IS 'active or rest.';
COMMENT ON COLUMN raw.fit_sets.start_time_utc IS 'Set start, UTC.';
COMMENT ON COLUMN raw.fit_sets.end_time_utc IS 'Set message timestamp (end of set), UTC.';
COMMENT ON COLUMN raw.fit_sets.duration_s IS 'Duration of the set or rest, s.';
COMMENT ON COLUMN raw.fit_sets.repetitions IS 'Repetitions counted or entered (active sets).';
COMMENT ON COLUMN raw.fit_sets.weight_kg IS 'External load, kg (0 for body-weight exercises as the watch records them).';
COMMENT ON COLUMN raw.fit_sets.category IS 'Name of the first exercise category candidate (Garmin profile exercise_category), unknown when the watch could not tell.';
COMMENT ON COLUMN raw.fit_sets.category_ids IS 'Every exercise category candidate, as numbers (up to three on Garmin watches; 65534 = unknown).';
COMMENT ON COLUMN raw.fit_sets.category_names IS 'Every exercise category candidate, as names from Garmin''s profile (category_<n> for numbers it does not name).';
COMMENT ON COLUMN raw.fit_sets.subtype_ids IS 'Exercise name candidates within each category, as numbers (NULL where none).';
COMMENT ON COLUMN raw.fit_sets.subtype_names IS 'Exercise name candidates, as names from Garmin''s profile (<category>_exercise_name).';
COMMENT ON COLUMN raw.fit_sets.wkt_step_index IS 'Workout step the set belongs to, when done from a workout.';
COMMENT ON COLUMN raw.fit_sets.exercise_title IS 'Title of the workout step (exercise_title message), when the file has one.';

CREATE TABLE raw.fit_records (
    athlete_id                VARCHAR NOT NULL,
    file_sha256               VARCHAR NOT NULL,
    record_index              INTEGER NOT NULL,
    timestamp_utc             TIMESTAMP,
    position_lat_deg          DOUBLE,
    position_long_deg         DOUBLE,
    distance_m                DOUBLE,
    speed_mps                 DOUBLE,
    heart_rate_bpm            SMALLINT,
    cadence_rpm               DOUBLE,
    altitude_m                DOUBLE,
    power_w                   INTEGER,
    vertical_oscillation_m    DOUBLE,
    stance_time_s             DOUBLE,
    step_length_m             DOUBLE
    -- No PRIMARY KEY: records arrive by the million and are written and replaced only whole
    -- files at a time under raw.fit_files' key, so an index would cost memory and load speed
    -- and guard nothing. (athlete_id, file_sha256, record_index) is unique all the same.
);
COMMENT ON TABLE raw.fit_records IS 'One row per record message (the per-second samples) of a FIT file. Holds GPS positions: never published for dashboards unless a setting asks.';
COMMENT ON COLUMN raw.fit_records.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN raw.fit_records.file_sha256 IS 'The file (raw.fit_files).';
COMMENT ON COLUMN raw.fit_records.record_index IS '0-based order of the record in the file.';
COMMENT ON COLUMN raw.fit_records.timestamp_utc IS 'Sample time, UTC.';
COMMENT ON COLUMN raw.fit_records.position_lat_deg IS 'Latitude, degrees (WGS84; FIT semicircles x 180 / 2^31). Private.';
COMMENT ON COLUMN raw.fit_records.position_long_deg IS 'Longitude, degrees (WGS84). Private.';
COMMENT ON COLUMN raw.fit_records.distance_m IS 'Cumulative distance, m.';
COMMENT ON COLUMN raw.fit_records.speed_mps IS 'Speed, m/s (enhanced_speed where present).';
COMMENT ON COLUMN raw.fit_records.heart_rate_bpm IS 'Heart rate, beats/min.';
COMMENT ON COLUMN raw.fit_records.cadence_rpm IS 'Cadence, cycles/min with fractional part (strides/min for running; steps = 2 x).';
COMMENT ON COLUMN raw.fit_records.altitude_m IS 'Altitude, m (enhanced_altitude where present).';
COMMENT ON COLUMN raw.fit_records.power_w IS 'Power, W.';
COMMENT ON COLUMN raw.fit_records.vertical_oscillation_m IS 'Vertical oscillation, m.';
COMMENT ON COLUMN raw.fit_records.stance_time_s IS 'Ground contact (stance) time, s.';
COMMENT ON COLUMN raw.fit_records.step_length_m IS 'Step length, m.';
