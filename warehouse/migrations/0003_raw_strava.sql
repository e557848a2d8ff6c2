-- 0003: raw tables and sync state for Strava. The whole JSON payload is kept beside typed key
-- columns, so typed columns can be rebuilt from it without calling Strava again.
CREATE TABLE raw.strava_activities (
    athlete_id            VARCHAR NOT NULL,
    activity_id           BIGINT NOT NULL,
    strava_athlete_id     BIGINT,
    name                  VARCHAR,
    sport_type            VARCHAR,
    type                  VARCHAR,
    start_time_utc        TIMESTAMP,
    start_time_local      TIMESTAMP,
    timezone              VARCHAR,
    utc_offset_s          INTEGER,
    distance_m            DOUBLE,
    moving_time_s         DOUBLE,
    elapsed_time_s        DOUBLE,
    elevation_gain_m      DOUBLE,
    average_speed_mps     DOUBLE,
    max_speed_mps         DOUBLE,
    average_cadence_rpm   DOUBLE,
    average_heartrate_bpm DOUBLE,
    max_heartrate_bpm     DOUBLE,
    calories_kcal         DOUBLE,
    perceived_exertion    DOUBLE,
    external_id           VARCHAR,
    upload_id             BIGINT,
    device_name           VARCHAR,
    is_manual             BOOLEAN,
    is_trainer            BOOLEAN,
    is_commute            BOOLEAN,
    payload               JSON NOT NULL,
    detail_payload        JSON,
    first_fetched_at      TIMESTAMP NOT NULL,
    fetched_at            TIMESTAMP NOT NULL,
    detail_fetched_at     TIMESTAMP,
    deleted_at            TIMESTAMP,
    streams_status        VARCHAR,
    PRIMARY KEY (athlete_id, activity_id)
);
COMMENT ON TABLE raw.strava_activities IS 'One row per Strava activity and runlift athlete, upserted by id: the latest list payload (and detail payload, when fetched) with typed key columns. Holds positions inside the payloads: never published as is.';
COMMENT ON COLUMN raw.strava_activities.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN raw.strava_activities.activity_id IS 'Strava activity id.';
COMMENT ON COLUMN raw.strava_activities.strava_athlete_id IS 'Strava''s id of the athlete.';
COMMENT ON COLUMN raw.strava_activities.name IS 'Activity name as the athlete wrote it.';
COMMENT ON COLUMN raw.strava_activities.sport_type IS 'Strava sport_type (Run, TrailRun, WeightTraining, ...); unknown new values are kept as sent.';
COMMENT ON COLUMN raw.strava_activities.type IS 'Strava''s older activity type.';
COMMENT ON COLUMN raw.strava_activities.start_time_utc IS 'Start, UTC (start_date).';
COMMENT ON COLUMN raw.strava_activities.start_time_local IS 'Start, local wall-clock time where it was recorded (start_date_local, whose Z suffix Strava adds wrongly).';
COMMENT ON COLUMN raw.strava_activities.timezone IS 'Strava timezone text, e.g. (GMT-07:00) America/Denver.';
COMMENT ON COLUMN raw.strava_activities.utc_offset_s IS 'Local time minus UTC at the start, s.';
COMMENT ON COLUMN raw.strava_activities.distance_m IS 'Distance, m.';
COMMENT ON COLUMN raw.strava_activities.moving_time_s IS 'Moving time, s.';
COMMENT ON COLUMN raw.strava_activities.elapsed_time_s IS 'Elapsed time, s.';
COMMENT ON COLUMN raw.strava_activities.elevation_gain_m IS 'Total elevation gain, m.';
COMMENT ON COLUMN raw.strava_activities.average_speed_mps IS 'Average speed, m/s.';
COMMENT ON COLUMN raw.strava_activities.max_speed_mps IS 'Maximum speed, m/s.';
COMMENT ON COLUMN raw.strava_activities.average_cadence_rpm IS 'Average cadence as Strava reports it: for runs STRIDES per minute (steps = 2 x).';
COMMENT ON COLUMN raw.strava_activities.average_heartrate_bpm IS 'Average heart rate, beats/min.';
COMMENT ON COLUMN raw.strava_activities.max_heartrate_bpm IS 'Maximum heart rate, beats/min.';
COMMENT ON COLUMN raw.strava_activities.calories_kcal IS 'Energy, kcal (detail call only; NULL without it).';
COMMENT ON COLUMN raw.strava_activities.perceived_exertion IS 'Perceived exertion 1-10 the athlete entered (detail call only).';
COMMENT ON COLUMN raw.strava_activities.external_id IS 'Identifier from the upload, often the FIT file name or a Garmin id.';
COMMENT ON COLUMN raw.strava_activities.upload_id IS 'Strava upload id; NULL for manual activities.';
COMMENT ON COLUMN raw.strava_activities.device_name IS 'Recording device, e.g. Garmin Forerunner 265 (detail call only).';
COMMENT ON COLUMN raw.strava_activities.is_manual IS 'Entered by hand (no streams).';
COMMENT ON COLUMN raw.strava_activities.is_trainer IS 'Recorded on a trainer or treadmill.';
COMMENT ON COLUMN raw.strava_activities.is_commute IS 'Marked as a commute.';
COMMENT ON COLUMN raw.strava_activities.payload IS 'The whole JSON of the activity as the list endpoint last sent it, unknown fields included.';
COMMENT ON COLUMN raw.strava_activities.detail_payload IS 'The whole JSON from GET /activities/{id} when detail calls are on; NULL otherwise or when stale.';
COMMENT ON COLUMN raw.strava_activities.first_fetched_at IS 'When runlift first saw the activity, UTC.';
COMMENT ON COLUMN raw.strava_activities.fetched_at IS 'When the payload was last written, UTC.';
COMMENT ON COLUMN raw.strava_activities.detail_fetched_at IS 'When the detail payload was fetched, UTC.';
COMMENT ON COLUMN raw.strava_activities.deleted_at IS 'When a full listing found the activity gone from Strava, UTC; NULL while it exists.';
COMMENT ON COLUMN raw.strava_activities.streams_status IS 'Streams: NULL not fetched yet, ok fetched, none (Strava has none: manual activity), skipped (not a run).';

CREATE TABLE raw.strava_streams (
    athlete_id      VARCHAR NOT NULL,
    activity_id     BIGINT NOT NULL,
    stream_type     VARCHAR NOT NULL,
    series_type     VARCHAR,
    original_size   INTEGER,
    resolution      VARCHAR,
    data            DOUBLE[] NOT NULL,
    fetched_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (athlete_id, activity_id, stream_type)
);
COMMENT ON TABLE raw.strava_streams IS 'One row per Strava activity and stream type, the samples as one array (index i of every stream of an activity is the same sample). Booleans (moving) are stored as 0/1; latlng, when asked for, as two streams lat and lng.';
COMMENT ON COLUMN raw.strava_streams.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN raw.strava_streams.activity_id IS 'Strava activity id.';
COMMENT ON COLUMN raw.strava_streams.stream_type IS 'time (s since start), distance (m), velocity_smooth (m/s), heartrate (beats/min), cadence (strides/min for runs), altitude (m), grade_smooth (%), moving (0/1), watts (W), temp (degrees C), lat / lng (degrees).';
COMMENT ON COLUMN raw.strava_streams.series_type IS 'What Strava indexed the stream by (distance or time).';
COMMENT ON COLUMN raw.strava_streams.original_size IS 'Samples Strava had before any downsampling.';
COMMENT ON COLUMN raw.strava_streams.resolution IS 'low, medium or high.';
COMMENT ON COLUMN raw.strava_streams.data IS 'The samples, in the unit of the stream type.';
COMMENT ON COLUMN raw.strava_streams.fetched_at IS 'When fetched, UTC.';

CREATE TABLE ops.strava_sync_state (
    athlete_id            VARCHAR PRIMARY KEY,
    strava_athlete_id     BIGINT,
    listing_mode          VARCHAR,
    listing_cursor        BIGINT,
    listing_started_at    TIMESTAMP,
    high_water_start      BIGINT,
    last_full_listing_at  TIMESTAMP,
    last_listing_at       TIMESTAMP,
    last_run_at           TIMESTAMP,
    last_status           VARCHAR,
    last_message          VARCHAR
);
COMMENT ON TABLE ops.strava_sync_state IS 'Where each athlete''s Strava sync stands, so an interrupted sync resumes without repeating finished work.';
COMMENT ON COLUMN ops.strava_sync_state.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN ops.strava_sync_state.strava_athlete_id IS 'Strava''s id of the athlete.';
COMMENT ON COLUMN ops.strava_sync_state.listing_mode IS 'The listing under way: incremental or full; NULL when none is.';
COMMENT ON COLUMN ops.strava_sync_state.listing_cursor IS 'The listing under way resumes with after = this (epoch s).';
COMMENT ON COLUMN ops.strava_sync_state.listing_started_at IS 'When the listing under way started, UTC.';
COMMENT ON COLUMN ops.strava_sync_state.high_water_start IS 'Latest activity start seen, epoch s; incremental listings start a look-back window before it.';
COMMENT ON COLUMN ops.strava_sync_state.last_full_listing_at IS 'When the last full listing finished (deletions marked), UTC.';
COMMENT ON COLUMN ops.strava_sync_state.last_listing_at IS 'When the last listing (incremental or full) finished, UTC.';
COMMENT ON COLUMN ops.strava_sync_state.last_run_at IS 'When the last sync ended, UTC.';
COMMENT ON COLUMN ops.strava_sync_state.last_status IS 'complete, paused (rate limit; resumes next run), failed.';
COMMENT ON COLUMN ops.strava_sync_state.last_message IS 'What the last sync said (no secrets).';

CREATE TABLE ops.strava_listing_seen (
    athlete_id   VARCHAR NOT NULL,
    activity_id  BIGINT NOT NULL,
    PRIMARY KEY (athlete_id, activity_id)
);
COMMENT ON TABLE ops.strava_listing_seen IS 'Activity ids seen by the full listing under way; those not seen when it finishes are marked deleted.';
COMMENT ON COLUMN ops.strava_listing_seen.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN ops.strava_listing_seen.activity_id IS 'Strava activity id.';

CREATE TABLE ops.strava_rate_limit (
    app             VARCHAR PRIMARY KEY,
    observed_at     TIMESTAMP,
    limit_15        INTEGER,
    limit_day       INTEGER,
    read_limit_15   INTEGER,
    read_limit_day  INTEGER,
    usage_15        INTEGER,
    usage_day       INTEGER,
    read_usage_15   INTEGER,
    read_usage_day  INTEGER
);
COMMENT ON TABLE ops.strava_rate_limit IS 'What Strava''s rate-limit headers said last (per application: 15-minute and daily windows, overall and read).';
COMMENT ON COLUMN ops.strava_rate_limit.app IS 'Strava client id.';
COMMENT ON COLUMN ops.strava_rate_limit.observed_at IS 'When the headers were read, UTC.';
COMMENT ON COLUMN ops.strava_rate_limit.limit_15 IS 'Overall limit per 15 minutes.';
COMMENT ON COLUMN ops.strava_rate_limit.limit_day IS 'Overall limit per day.';
COMMENT ON COLUMN ops.strava_rate_limit.read_limit_15 IS 'Read limit per 15 minutes.';
COMMENT ON COLUMN ops.strava_rate_limit.read_limit_day IS 'Read limit per day.';
COMMENT ON COLUMN ops.strava_rate_limit.usage_15 IS 'Overall requests used in the 15-minute window.';
COMMENT ON COLUMN ops.strava_rate_limit.usage_day IS 'Overall requests used today (UTC).';
COMMENT ON COLUMN ops.strava_rate_limit.read_usage_15 IS 'Read requests used in the 15-minute window.';
COMMENT ON COLUMN ops.strava_rate_limit.read_usage_day IS 'Read requests used today (UTC).';

CREATE TABLE ops.strava_sync_runs (
    run_id               VARCHAR PRIMARY KEY,
    athlete_id           VARCHAR NOT NULL,
    started_at           TIMESTAMP NOT NULL,
    finished_at          TIMESTAMP,
    listing_mode         VARCHAR,
    api_calls            INTEGER,
    activities_new       INTEGER,
    activities_updated   INTEGER,
    activities_deleted   INTEGER,
    streams_fetched      INTEGER,
    details_fetched      INTEGER,
    status               VARCHAR,
    message              VARCHAR
);
COMMENT ON TABLE ops.strava_sync_runs IS 'One row per Strava sync run: what it did and how it ended.';
COMMENT ON COLUMN ops.strava_sync_runs.run_id IS 'Random id of the run.';
COMMENT ON COLUMN ops.strava_sync_runs.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN ops.strava_sync_runs.started_at IS 'Start, UTC.';
COMMENT ON COLUMN ops.strava_sync_runs.finished_at IS 'End, UTC.';
COMMENT ON COLUMN ops.strava_sync_runs.listing_mode IS 'incremental or full.';
COMMENT ON COLUMN ops.strava_sync_runs.api_calls IS 'Strava API calls made (token refreshes not counted).';
COMMENT ON COLUMN ops.strava_sync_runs.activities_new IS 'Activities seen for the first time.';
COMMENT ON COLUMN ops.strava_sync_runs.activities_updated IS 'Known activities whose payload changed.';
COMMENT ON COLUMN ops.strava_sync_runs.activities_deleted IS 'Activities marked deleted by a full listing.';
COMMENT ON COLUMN ops.strava_sync_runs.streams_fetched IS 'Activities whose streams were fetched.';
COMMENT ON COLUMN ops.strava_sync_runs.details_fetched IS 'Detail calls made.';
COMMENT ON COLUMN ops.strava_sync_runs.status IS 'complete, paused (rate limit) or failed.';
COMMENT ON COLUMN ops.strava_sync_runs.message IS 'Why it paused or failed (no secrets).';
