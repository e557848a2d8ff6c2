-- 0011: Garmin Connect as a source: weigh-ins (dated body mass), and the sync's cursor (which
-- activities were fetched, the latest start seen, how far the weigh-ins reach). Activity files
-- themselves go to raw.fit_files like any FIT file (one file whatever way it came).
CREATE TABLE raw.garmin_weigh_ins (
    athlete_id          VARCHAR NOT NULL,
    sample_pk           BIGINT NOT NULL,
    measured_at_utc     TIMESTAMP NOT NULL,
    calendar_date       DATE NOT NULL,
    body_mass_kg        DOUBLE,
    body_fat_percent    DOUBLE,
    body_water_percent  DOUBLE,
    bone_mass_kg        DOUBLE,
    muscle_mass_kg      DOUBLE,
    bmi_kg_m2           DOUBLE,
    source_type         VARCHAR,
    fetched_at          TIMESTAMP NOT NULL,
    PRIMARY KEY (athlete_id, sample_pk)
);
COMMENT ON TABLE raw.garmin_weigh_ins IS 'Weigh-ins of Garmin Connect (weight-service), one row per measurement; each fetched range replaces the rows of its days (a weigh-in deleted in Garmin Connect goes at the next sync over its day).';
COMMENT ON COLUMN raw.garmin_weigh_ins.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN raw.garmin_weigh_ins.sample_pk IS 'Garmin''s id of the measurement (samplePk).';
COMMENT ON COLUMN raw.garmin_weigh_ins.measured_at_utc IS 'When it was measured, UTC (timestampGMT).';
COMMENT ON COLUMN raw.garmin_weigh_ins.calendar_date IS 'The day Garmin Connect files it under, in the athlete''s local time (calendarDate).';
COMMENT ON COLUMN raw.garmin_weigh_ins.body_mass_kg IS 'Body mass, kg (Garmin sends grams); NULL outside [0.5, 650].';
COMMENT ON COLUMN raw.garmin_weigh_ins.body_fat_percent IS 'Body fat, % of body mass; NULL outside [0, 100].';
COMMENT ON COLUMN raw.garmin_weigh_ins.body_water_percent IS 'Body water, % of body mass; NULL outside [0, 100].';
COMMENT ON COLUMN raw.garmin_weigh_ins.bone_mass_kg IS 'Bone mass, kg (Garmin sends grams).';
COMMENT ON COLUMN raw.garmin_weigh_ins.muscle_mass_kg IS 'Muscle mass, kg (Garmin sends grams).';
COMMENT ON COLUMN raw.garmin_weigh_ins.bmi_kg_m2 IS 'Body mass index as Garmin computed it, kg/m^2.';
COMMENT ON COLUMN raw.garmin_weigh_ins.source_type IS 'Where Garmin got it (sourceType: INDEX_SCALE, MANUAL, ...).';
COMMENT ON COLUMN raw.garmin_weigh_ins.fetched_at IS 'When runlift fetched it, UTC.';

CREATE TABLE ops.garmin_activities (
    athlete_id          VARCHAR NOT NULL,
    activity_id         BIGINT NOT NULL,
    start_utc           TIMESTAMP NOT NULL,
    activity_type       VARCHAR,
    outcome             VARCHAR NOT NULL,
    file_sha256         VARCHAR,
    reason              VARCHAR,
    fetched_at          TIMESTAMP NOT NULL,
    PRIMARY KEY (athlete_id, activity_id)
);
COMMENT ON TABLE ops.garmin_activities IS 'Garmin Connect activities whose original file the sync has fetched, each written in the transaction of its FIT file''s rows: the sync''s cursor (a fetched activity is never fetched again).';
COMMENT ON COLUMN ops.garmin_activities.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN ops.garmin_activities.activity_id IS 'Garmin Connect''s activity id.';
COMMENT ON COLUMN ops.garmin_activities.start_utc IS 'Start of the activity, UTC (startTimeGMT).';
COMMENT ON COLUMN ops.garmin_activities.activity_type IS 'Garmin''s activity type key (running, strength_training, ...).';
COMMENT ON COLUMN ops.garmin_activities.outcome IS 'new: its FIT file was imported; known: the same file was already imported (watch folder, export archive); unreadable: the download is not a usable FIT file (reason); no_file: Garmin has no original file (an activity entered by hand).';
COMMENT ON COLUMN ops.garmin_activities.file_sha256 IS 'The FIT file (raw.fit_files) when there is one.';
COMMENT ON COLUMN ops.garmin_activities.reason IS 'Why there is no FIT file (unreadable, no_file); NULL otherwise.';
COMMENT ON COLUMN ops.garmin_activities.fetched_at IS 'When runlift fetched it, UTC.';

CREATE TABLE ops.garmin_sync_state (
    athlete_id          VARCHAR PRIMARY KEY,
    high_water_start_utc TIMESTAMP,
    weigh_ins_through   DATE,
    last_run_at         TIMESTAMP,
    last_status         VARCHAR,
    last_message        VARCHAR
);
COMMENT ON TABLE ops.garmin_sync_state IS 'Where the next Garmin Connect sync starts, per athlete.';
COMMENT ON COLUMN ops.garmin_sync_state.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN ops.garmin_sync_state.high_water_start_utc IS 'Start of the latest activity fetched (fetched oldest first); the next listing starts lookback_days before it.';
COMMENT ON COLUMN ops.garmin_sync_state.weigh_ins_through IS 'Last day whose weigh-ins were fetched; the next sync asks again from lookback_days before it.';
COMMENT ON COLUMN ops.garmin_sync_state.last_run_at IS 'When the last sync finished, UTC.';
COMMENT ON COLUMN ops.garmin_sync_state.last_status IS 'complete, paused (429: the next run resumes) or failed (message).';
COMMENT ON COLUMN ops.garmin_sync_state.last_message IS 'What stopped the last sync (one line, no token); NULL when it completed.';
