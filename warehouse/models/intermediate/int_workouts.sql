-- grain: one row per real-world workout, whichever sources hold it.
-- The same run often exists twice: uploaded to Strava by Garmin Connect and present as a FIT file.
-- A FIT session and a Strava activity are the same workout when (all of):
--   same athlete and sport group; starts within 120 s (600 s when the Strava activity looks
--   uploaded from a Garmin device: external_id or device_name says garmin, or external_id ends in
--   .fit); distances within max(100 m, 5 %) (or both under 50 m, e.g. gym sessions);
--   and each is the other's closest candidate (mutual best match, ties by id).
-- Matched workouts take sets, per-second data, distance, ascent/descent and steps from the FIT file,
-- and the name from Strava.
CREATE OR REPLACE TABLE intermediate.int_workouts AS
WITH fit AS (
    SELECT * FROM staging.stg_fit__sessions
),
strava AS (
    SELECT * FROM staging.stg_strava__activities
),
athletes AS (
    SELECT * FROM staging.stg_settings__athletes
),
candidates AS (
    SELECT f.athlete_id, f.fit_session_key, s.activity_id,
           abs(epoch(f.started_at) - epoch(s.started_at)) AS start_diff_s
    FROM fit f
    JOIN strava s
      ON s.athlete_id = f.athlete_id AND s.sport_group = f.sport_group
     -- a range join first (fast), then the exact tolerance
     AND s.started_at BETWEEN f.started_at - INTERVAL 600 SECOND AND f.started_at + INTERVAL 600 SECOND
    WHERE abs(epoch(f.started_at) - epoch(s.started_at)) <= CASE
            WHEN s.external_id ILIKE 'garmin%' OR s.device_name ILIKE 'garmin%' OR s.external_id ILIKE '%.fit'
            THEN 600 ELSE 120 END
     AND ((coalesce(f.distance_m, 0) < 50 AND coalesce(s.distance_m, 0) < 50)
          OR abs(coalesce(f.distance_m, 0) - coalesce(s.distance_m, 0))
             <= greatest(100, 0.05 * greatest(coalesce(f.distance_m, 0), coalesce(s.distance_m, 0))))
),
ranked AS (
    SELECT *,
           row_number() OVER (PARTITION BY athlete_id, fit_session_key ORDER BY start_diff_s, activity_id) AS fit_rank,
           row_number() OVER (PARTITION BY athlete_id, activity_id ORDER BY start_diff_s, fit_session_key) AS strava_rank
    FROM candidates
),
matches AS (
    SELECT athlete_id, fit_session_key, activity_id FROM ranked WHERE fit_rank = 1 AND strava_rank = 1
),
joined AS (
    SELECT
        coalesce(f.athlete_id, s.athlete_id) AS athlete_id,
        f.fit_session_key,
        s.activity_id AS strava_activity_id,
        f.file_sha256 AS fit_file_sha256,
        f.session_index AS fit_session_index,
        CASE WHEN f.fit_session_key IS NOT NULL AND s.activity_id IS NOT NULL THEN 'fit+strava'
             WHEN f.fit_session_key IS NOT NULL THEN 'fit' ELSE 'strava' END AS sources,
        s.name,
        coalesce(f.sport_group, s.sport_group) AS sport_group,
        coalesce(f.sport || coalesce('/' || f.sub_sport, ''), s.sport_type) AS sport,
        coalesce(f.started_at, s.started_at) AS started_at,
        coalesce(f.started_local, s.started_local) AS started_local,
        coalesce(f.distance_m, s.distance_m) AS distance_m,
        coalesce(s.moving_s, f.moving_s) AS moving_s,
        coalesce(f.elapsed_s, s.elapsed_s) AS elapsed_s,
        coalesce(f.ascent_m, s.ascent_m) AS ascent_m,
        f.descent_m AS fit_descent_m,
        coalesce(f.avg_heart_rate_bpm, s.avg_heart_rate_bpm) AS avg_heart_rate_bpm,
        coalesce(f.max_heart_rate_bpm, s.max_heart_rate_bpm) AS max_heart_rate_bpm,
        coalesce(f.avg_cadence_spm, s.avg_cadence_spm) AS avg_cadence_spm,
        f.steps AS fit_steps,
        f.avg_stance_time_s,
        coalesce(f.rpe, s.rpe) AS rpe,
        coalesce(f.is_summarised, false) AS is_summarised,
        coalesce(f.is_partial_file, false) AS is_partial_file,
        coalesce(s.is_manual, false) AS is_manual
    FROM fit f
    LEFT JOIN matches m ON m.athlete_id = f.athlete_id AND m.fit_session_key = f.fit_session_key
    FULL OUTER JOIN strava s ON s.athlete_id = m.athlete_id AND s.activity_id = m.activity_id
),
final AS (
    SELECT
        j.athlete_id,
        coalesce(j.fit_session_key, 'strava:' || j.strava_activity_id) AS activity_key,
        j.sources,
        j.fit_file_sha256,
        j.fit_session_index,
        j.strava_activity_id,
        j.name,
        j.sport_group,
        j.sport,
        j.started_at,
        -- the activity's own local date; the athlete's time zone only when the source gives none
        coalesce(j.started_local,
                 timezone(coalesce(a.timezone, 'UTC'), timezone('UTC', j.started_at)))::DATE AS local_date,
        j.started_local IS NULL AS local_date_from_athlete_tz,
        j.distance_m, j.moving_s, j.elapsed_s, j.ascent_m, j.fit_descent_m, j.avg_heart_rate_bpm,
        j.max_heart_rate_bpm, j.avg_cadence_spm, j.fit_steps, j.avg_stance_time_s, j.rpe,
        j.is_summarised, j.is_partial_file, j.is_manual
    FROM joined j
    LEFT JOIN athletes a USING (athlete_id)
)
SELECT * FROM final;
COMMENT ON TABLE intermediate.int_workouts IS 'One row per real-world workout across FIT and Strava (matching rule in docs/metrics.md).';
COMMENT ON COLUMN intermediate.int_workouts.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN intermediate.int_workouts.activity_key IS 'fit:<file>:<session> when a FIT file holds the workout, else strava:<activity id>.';
COMMENT ON COLUMN intermediate.int_workouts.sources IS 'fit, strava or fit+strava.';
COMMENT ON COLUMN intermediate.int_workouts.fit_file_sha256 IS 'The FIT file, if any.';
COMMENT ON COLUMN intermediate.int_workouts.fit_session_index IS 'The session in the FIT file, if any.';
COMMENT ON COLUMN intermediate.int_workouts.strava_activity_id IS 'The Strava activity, if any.';
COMMENT ON COLUMN intermediate.int_workouts.name IS 'Name (from Strava).';
COMMENT ON COLUMN intermediate.int_workouts.sport_group IS 'run, strength or other.';
COMMENT ON COLUMN intermediate.int_workouts.sport IS 'FIT sport/sub_sport, else Strava sport_type.';
COMMENT ON COLUMN intermediate.int_workouts.started_at IS 'Start, UTC.';
COMMENT ON COLUMN intermediate.int_workouts.local_date IS 'The day of the workout: its own local date, else the date in the athlete''s time zone.';
COMMENT ON COLUMN intermediate.int_workouts.local_date_from_athlete_tz IS 'True when the source gave no local time and the athlete''s time zone decided the day.';
COMMENT ON COLUMN intermediate.int_workouts.distance_m IS 'Distance, m (FIT first).';
COMMENT ON COLUMN intermediate.int_workouts.moving_s IS 'Moving time, s (Strava first: it removes pauses).';
COMMENT ON COLUMN intermediate.int_workouts.elapsed_s IS 'Elapsed time, s.';
COMMENT ON COLUMN intermediate.int_workouts.ascent_m IS 'Elevation gain, m.';
COMMENT ON COLUMN intermediate.int_workouts.fit_descent_m IS 'Elevation loss from the FIT file, m (Strava reports none).';
COMMENT ON COLUMN intermediate.int_workouts.avg_heart_rate_bpm IS 'Average heart rate, beats/min.';
COMMENT ON COLUMN intermediate.int_workouts.max_heart_rate_bpm IS 'Maximum heart rate, beats/min.';
COMMENT ON COLUMN intermediate.int_workouts.avg_cadence_spm IS 'Running cadence, steps per minute.';
COMMENT ON COLUMN intermediate.int_workouts.fit_steps IS 'Steps counted by the FIT file (2 x strides).';
COMMENT ON COLUMN intermediate.int_workouts.avg_stance_time_s IS 'Average ground contact time, s (FIT running dynamics).';
COMMENT ON COLUMN intermediate.int_workouts.rpe IS 'Perceived exertion 0-10 from the source (FIT first), NULL when none.';
COMMENT ON COLUMN intermediate.int_workouts.is_summarised IS 'FIT session summarised from records.';
COMMENT ON COLUMN intermediate.int_workouts.is_partial_file IS 'From a partial FIT file.';
COMMENT ON COLUMN intermediate.int_workouts.is_manual IS 'A manual Strava entry.';
