-- grain: one row per FIT session or Strava activity: its heart-rate histogram (how many per-second
-- samples at each value, beats/min). The histogram is all a TRIMP needs (intermediate.
-- int_workouts_effort), so the per-second rows are read once per file, not at every build.
--
-- Unlike the other models this table is kept between builds and brought up to date: rows of a FIT
-- file re-imported since (raw.fit_files.imported_at), or gone, and of Strava streams fetched again
-- (raw.strava_streams.fetched_at), or gone, are deleted; files and streams without rows are added
-- (a source with no usable heart rate gets a row with empty lists, so it is not read again). The result is the same as a rebuild from scratch; only the first build after an import
-- reads the new per-second rows.
CREATE TABLE IF NOT EXISTS intermediate.int_heart_rate_samples (
    athlete_id      VARCHAR NOT NULL,
    source          VARCHAR NOT NULL,
    file_sha256     VARCHAR,
    session_index   INTEGER,
    activity_id     BIGINT,
    loaded_at       TIMESTAMP NOT NULL,
    heart_rate_bpm  SMALLINT[] NOT NULL,
    samples         BIGINT[] NOT NULL,
    n_samples       BIGINT NOT NULL
);

-- FIT: the files as they are now (usable files only)
DELETE FROM intermediate.int_heart_rate_samples c
WHERE c.source = 'fit' AND NOT EXISTS (
    SELECT 1 FROM raw.fit_files f
    WHERE f.athlete_id = c.athlete_id AND f.file_sha256 = c.file_sha256 AND f.imported_at = c.loaded_at
      AND f.status IN ('ok', 'partial'));
DELETE FROM intermediate.int_heart_rate_samples c
WHERE c.source = 'strava' AND NOT EXISTS (
    SELECT 1 FROM raw.strava_streams s JOIN raw.strava_activities a USING (athlete_id, activity_id)
    WHERE s.athlete_id = c.athlete_id AND s.activity_id = c.activity_id AND s.stream_type = 'heartrate'
      AND s.fetched_at = c.loaded_at AND a.deleted_at IS NULL);

INSERT INTO intermediate.int_heart_rate_samples
WITH new_files AS (
    SELECT f.athlete_id, f.file_sha256, f.imported_at FROM raw.fit_files f
    ANTI JOIN (SELECT athlete_id, file_sha256 FROM intermediate.int_heart_rate_samples WHERE source = 'fit') c
        USING (athlete_id, file_sha256)
    WHERE f.status IN ('ok', 'partial')
),
sessions AS (
    -- raw rows of the new files only (the staging views would compute every file's columns)
    SELECT s.athlete_id, s.file_sha256, s.session_index, s.start_time_utc AS started_at,
           coalesce(s.end_time_utc, s.start_time_utc + to_seconds(coalesce(s.total_elapsed_time_s, 0))) AS ended_at,
           count(*) OVER (PARTITION BY s.athlete_id, s.file_sha256) AS n_sessions
    FROM new_files n JOIN raw.fit_sessions s USING (athlete_id, file_sha256)
),
records AS (
    -- physiologically possible values only (0 and 255 are "no reading" on many straps)
    SELECT r.athlete_id, r.file_sha256, r.timestamp_utc AS recorded_at, r.heart_rate_bpm
    FROM new_files n JOIN raw.fit_records r USING (athlete_id, file_sha256)
    WHERE r.heart_rate_bpm BETWEEN 25 AND 250
),
single AS (
    -- a file with one session: every record is that session's (no time join)
    SELECT s.athlete_id, s.file_sha256, s.session_index, r.heart_rate_bpm, count(*) AS samples
    FROM sessions s JOIN records r USING (athlete_id, file_sha256)
    WHERE s.n_sessions = 1 GROUP BY ALL
),
multi AS (
    -- a multisport file: records by the session whose time span holds them
    SELECT s.athlete_id, s.file_sha256, s.session_index, r.heart_rate_bpm, count(*) AS samples
    FROM sessions s JOIN records r
      ON r.athlete_id = s.athlete_id AND r.file_sha256 = s.file_sha256
     AND r.recorded_at >= s.started_at AND r.recorded_at <= s.ended_at
    WHERE s.n_sessions > 1 GROUP BY ALL
),
counted AS (
    SELECT athlete_id, file_sha256, session_index,
           list(heart_rate_bpm ORDER BY heart_rate_bpm) AS heart_rate_bpm,
           list(samples ORDER BY heart_rate_bpm) AS samples, sum(samples) AS n_samples
    FROM (SELECT * FROM single UNION ALL SELECT * FROM multi) GROUP BY ALL
),
final AS (
    -- every session of a new file gets a row (empty lists without heart rate)
    SELECT s.athlete_id, 'fit' AS source, s.file_sha256, s.session_index, NULL::BIGINT AS activity_id,
           n.imported_at AS loaded_at, coalesce(c.heart_rate_bpm, []) AS heart_rate_bpm,
           coalesce(c.samples, []) AS samples, coalesce(c.n_samples, 0) AS n_samples
    FROM sessions s
    JOIN new_files n USING (athlete_id, file_sha256)
    LEFT JOIN counted c USING (athlete_id, file_sha256, session_index)
)
SELECT * FROM final;

INSERT INTO intermediate.int_heart_rate_samples
WITH new_streams AS (
    SELECT s.athlete_id, s.activity_id, s.fetched_at, s.data
    FROM raw.strava_streams s JOIN raw.strava_activities a USING (athlete_id, activity_id)
    ANTI JOIN (SELECT athlete_id, activity_id FROM intermediate.int_heart_rate_samples WHERE source = 'strava') c
        USING (athlete_id, activity_id)
    WHERE s.stream_type = 'heartrate' AND a.deleted_at IS NULL
),
samples AS (
    SELECT athlete_id, activity_id, fetched_at, unnest(data) AS bpm FROM new_streams
),
counted AS (
    SELECT athlete_id, activity_id, list(heart_rate_bpm ORDER BY heart_rate_bpm) AS heart_rate_bpm,
           list(samples ORDER BY heart_rate_bpm) AS samples, sum(samples) AS n_samples
    FROM (SELECT athlete_id, activity_id, round(bpm)::SMALLINT AS heart_rate_bpm, count(*) AS samples
          FROM samples WHERE bpm BETWEEN 25 AND 250 GROUP BY ALL)
    GROUP BY ALL
),
final AS (
    SELECT n.athlete_id, 'strava' AS source, NULL::VARCHAR AS file_sha256, NULL::INTEGER AS session_index,
           n.activity_id, n.fetched_at AS loaded_at, coalesce(c.heart_rate_bpm, []) AS heart_rate_bpm,
           coalesce(c.samples, []) AS samples, coalesce(c.n_samples, 0) AS n_samples
    FROM new_streams n LEFT JOIN counted c USING (athlete_id, activity_id)
)
SELECT * FROM final;

COMMENT ON TABLE intermediate.int_heart_rate_samples IS 'One row per FIT session or Strava activity: its heart-rate histogram, per-second samples at each value (kept between builds, brought up to date by each). Feeds the TRIMP in intermediate.int_workouts_effort.';
COMMENT ON COLUMN intermediate.int_heart_rate_samples.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN intermediate.int_heart_rate_samples.source IS 'fit (raw.fit_records) or strava (the heartrate stream).';
COMMENT ON COLUMN intermediate.int_heart_rate_samples.file_sha256 IS 'The FIT file (source fit).';
COMMENT ON COLUMN intermediate.int_heart_rate_samples.session_index IS 'The session in the FIT file (source fit).';
COMMENT ON COLUMN intermediate.int_heart_rate_samples.activity_id IS 'The Strava activity (source strava).';
COMMENT ON COLUMN intermediate.int_heart_rate_samples.loaded_at IS 'raw.fit_files.imported_at or raw.strava_streams.fetched_at of the rows summarised: a newer load replaces them.';
COMMENT ON COLUMN intermediate.int_heart_rate_samples.heart_rate_bpm IS 'The heart-rate values seen, beats/min, ascending (samples outside 25-250 ignored; empty without heart rate).';
COMMENT ON COLUMN intermediate.int_heart_rate_samples.samples IS 'Per-second samples at each of those values (same order).';
COMMENT ON COLUMN intermediate.int_heart_rate_samples.n_samples IS 'All the samples (0: no usable heart rate).';
