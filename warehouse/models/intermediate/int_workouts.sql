-- grain: one row per real-world workout, whichever sources hold it.
-- Rules in docs/metrics.md, "One workout, counted once":
-- 1. Two FIT sessions of the same athlete and match group whose time spans overlap by at least
--    min(60 s, half the shorter span) are one workout (a watch and a bike computer, a file exported
--    twice): the session of the file with more records wins, then the longer one, then the smaller
--    file hash; the others are dropped (noted on the winner).
-- 2. A remaining FIT session and a Strava activity are the same workout when: same athlete and match
--    group (staging.sport_types: Workout, WeightTraining, Crossfit, HIIT all meet a FIT strength
--    session as gym); starts within 120 s (600 s when the Strava activity looks uploaded from a
--    Garmin device: external_id or device_name says garmin, or external_id ends in .fit); and each
--    is the other's best candidate (mutual best match: closest start, then closest distance, then id).
--    Distances do not gate the match: an athlete may have edited Strava's.
-- 3. Which source gives which field of a matched workout: the table in docs/metrics.md.
CREATE OR REPLACE TABLE intermediate.int_workouts AS
WITH fit_all AS (
    SELECT *,
           coalesce(ended_at, started_at + to_seconds(coalesce(elapsed_s, timer_s, 0))) AS span_end,
           coalesce(epoch(ended_at) - epoch(started_at), elapsed_s, timer_s, 0) AS span_s
    FROM staging.stg_fit__sessions
),
fit_overlaps AS (
    -- b beats a: the session a is the same workout as b and b is kept
    SELECT a.athlete_id, a.fit_session_key AS loser_key, b.fit_session_key AS winner_key
    FROM fit_all a
    JOIN fit_all b
      ON b.athlete_id = a.athlete_id AND b.match_group = a.match_group AND b.file_sha256 <> a.file_sha256
     AND b.started_at < a.span_end AND a.started_at < b.span_end
    WHERE epoch(least(a.span_end, b.span_end)) - epoch(greatest(a.started_at, b.started_at))
              >= least(60, 0.5 * least(a.span_s, b.span_s))
      AND (coalesce(b.file_records, 0), b.span_s, a.file_sha256) > (coalesce(a.file_records, 0), a.span_s, b.file_sha256)
),
duplicates AS (
    SELECT athlete_id, winner_key, list(loser_key ORDER BY loser_key) AS duplicate_keys FROM fit_overlaps GROUP BY ALL
),
fit AS (
    SELECT f.*, d.duplicate_keys
    FROM fit_all f
    LEFT JOIN duplicates d ON d.athlete_id = f.athlete_id AND d.winner_key = f.fit_session_key
    ANTI JOIN fit_overlaps o ON o.athlete_id = f.athlete_id AND o.loser_key = f.fit_session_key
),
strava AS (
    SELECT * FROM staging.stg_strava__activities
),
athletes AS (
    SELECT * FROM staging.stg_settings__athletes
),
candidates AS (
    SELECT f.athlete_id, f.fit_session_key, s.activity_id,
           abs(epoch(f.started_at) - epoch(s.started_at)) AS start_diff_s,
           abs(coalesce(f.distance_m, 0) - coalesce(s.distance_m, 0)) AS distance_diff_m
    FROM fit f
    JOIN strava s
      ON s.athlete_id = f.athlete_id AND s.match_group = f.match_group
     -- a range join first (fast), then the exact tolerance
     AND s.started_at BETWEEN f.started_at - INTERVAL 600 SECOND AND f.started_at + INTERVAL 600 SECOND
    WHERE abs(epoch(f.started_at) - epoch(s.started_at)) <= CASE
            WHEN s.external_id ILIKE 'garmin%' OR s.device_name ILIKE 'garmin%' OR s.external_id ILIKE '%.fit'
            THEN 600 ELSE 120 END
),
ranked AS (
    SELECT *,
           row_number() OVER (PARTITION BY athlete_id, fit_session_key
                              ORDER BY start_diff_s, distance_diff_m, activity_id) AS fit_rank,
           row_number() OVER (PARTITION BY athlete_id, activity_id
                              ORDER BY start_diff_s, distance_diff_m, fit_session_key) AS strava_rank
    FROM candidates
),
matches AS (
    SELECT athlete_id, fit_session_key, activity_id FROM ranked WHERE fit_rank = 1 AND strava_rank = 1
),
paired AS (
    -- each side as a struct (f: the FIT session, s: the Strava activity), NULL when absent
    SELECT f, s,
           f.fit_session_key IS NOT NULL AND s.activity_id IS NOT NULL AS is_matched,
           -- a gym session's duration is the FIT file's: Strava's moving time of an indoor session is not
           -- a duration anyone measured
           coalesce(f.sport_group = 'strength' OR f.match_group = 'gym', false) AS is_fit_gym,
           -- distances further apart than max(100 m, 5 %): the athlete edited Strava's, which then wins
           coalesce(abs(f.distance_m - s.distance_m) > greatest(100, 0.05 * greatest(f.distance_m, s.distance_m)),
                    false) AS is_distance_edited
    FROM fit f
    LEFT JOIN matches m ON m.athlete_id = f.athlete_id AND m.fit_session_key = f.fit_session_key
    FULL OUTER JOIN strava s ON s.athlete_id = m.athlete_id AND s.activity_id = m.activity_id
),
joined AS (
    SELECT
        coalesce(p.f.athlete_id, p.s.athlete_id) AS athlete_id,
        p.f.fit_session_key,
        p.s.activity_id AS strava_activity_id,
        p.f.file_sha256 AS fit_file_sha256,
        p.f.session_index AS fit_session_index,
        CASE WHEN p.is_matched THEN 'fit+strava' WHEN p.f.fit_session_key IS NOT NULL THEN 'fit' ELSE 'strava' END AS sources,
        p.s.name,
        -- the device's sport group, unless it only knows "other" and the athlete chose a type at Strava
        CASE WHEN p.f.sport_group = 'other' AND p.s.sport_group IS NOT NULL THEN p.s.sport_group
             ELSE coalesce(p.f.sport_group, p.s.sport_group) END AS sport_group,
        coalesce(p.f.includes_running, false) OR coalesce(p.s.includes_running, false) AS includes_running,
        coalesce(p.f.sport || coalesce('/' || p.f.sub_sport, ''), p.s.sport_type) AS sport,
        p.s.sport_type AS strava_sport_type,
        coalesce(p.f.started_at, p.s.started_at) AS started_at,
        coalesce(p.f.started_local, p.s.started_local) AS started_local,
        CASE WHEN p.is_distance_edited THEN p.s.distance_m ELSE coalesce(p.f.distance_m, p.s.distance_m) END AS distance_m,
        CASE WHEN p.is_fit_gym THEN coalesce(p.f.timer_s, p.f.elapsed_s, p.s.moving_s)
             ELSE coalesce(p.s.moving_s, p.f.moving_s) END AS moving_s,
        coalesce(p.f.elapsed_s, p.s.elapsed_s) AS elapsed_s,
        coalesce(p.f.ascent_m, p.s.ascent_m) AS ascent_m,
        p.f.descent_m AS fit_descent_m,
        coalesce(p.f.avg_heart_rate_bpm, p.s.avg_heart_rate_bpm) AS avg_heart_rate_bpm,
        coalesce(p.f.max_heart_rate_bpm, p.s.max_heart_rate_bpm) AS max_heart_rate_bpm,
        coalesce(p.f.avg_cadence_spm, p.s.avg_cadence_spm) AS avg_cadence_spm,
        p.f.steps AS fit_steps,
        p.f.avg_stance_time_s,
        coalesce(p.f.rpe, p.s.rpe) AS rpe,
        coalesce(p.f.is_summarised, false) AS is_summarised,
        coalesce(p.f.is_partial_file, false) AS is_partial_file,
        coalesce(p.s.is_manual, false) AS is_manual,
        list_filter([
            CASE WHEN len(p.f.duplicate_keys) > 0
                 THEN 'same workout in another FIT file, not counted: ' || array_to_string(p.f.duplicate_keys, ', ') END,
            CASE WHEN p.is_distance_edited
                 THEN printf('distance edited at Strava: %.0f m there, %.0f m in the FIT file; Strava''s used',
                             p.s.distance_m, p.f.distance_m) END,
            CASE WHEN p.is_matched AND p.is_fit_gym AND p.s.moving_s IS NOT NULL
                  AND coalesce(p.f.timer_s, p.f.elapsed_s) IS NOT NULL
                 THEN 'gym session: duration from the FIT file, not Strava''s moving time' END
        ], lambda n: n IS NOT NULL) || coalesce(p.f.bounds_notes, []) || coalesce(p.s.bounds_notes, []) AS source_notes
    FROM paired p
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
        j.includes_running,
        j.sport,
        j.strava_sport_type,
        j.started_at,
        -- the activity's own local date; the athlete's time zone only when the source gives none
        coalesce(j.started_local,
                 timezone(coalesce(a.timezone, 'UTC'), timezone('UTC', j.started_at)))::DATE AS local_date,
        j.started_local IS NULL AS local_date_from_athlete_tz,
        j.distance_m, j.moving_s, j.elapsed_s, j.ascent_m, j.fit_descent_m, j.avg_heart_rate_bpm,
        j.max_heart_rate_bpm, j.avg_cadence_spm, j.fit_steps, j.avg_stance_time_s, j.rpe,
        j.is_summarised, j.is_partial_file, j.is_manual, j.source_notes
    FROM joined j
    LEFT JOIN athletes a USING (athlete_id)
)
SELECT * FROM final;
COMMENT ON TABLE intermediate.int_workouts IS 'One row per real-world workout across FIT files and Strava (matching rules and which source gives which field: docs/metrics.md).';
COMMENT ON COLUMN intermediate.int_workouts.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN intermediate.int_workouts.activity_key IS 'fit:<file>:<session> when a FIT file holds the workout, else strava:<activity id>.';
COMMENT ON COLUMN intermediate.int_workouts.sources IS 'fit, strava or fit+strava.';
COMMENT ON COLUMN intermediate.int_workouts.fit_file_sha256 IS 'The FIT file, if any.';
COMMENT ON COLUMN intermediate.int_workouts.fit_session_index IS 'The session in the FIT file, if any.';
COMMENT ON COLUMN intermediate.int_workouts.strava_activity_id IS 'The Strava activity, if any.';
COMMENT ON COLUMN intermediate.int_workouts.name IS 'Name (from Strava).';
COMMENT ON COLUMN intermediate.int_workouts.sport_group IS 'run, strength or other (staging.sport_types): the FIT file''s, unless it says other and Strava knows better.';
COMMENT ON COLUMN intermediate.int_workouts.includes_running IS 'The workout''s distance is running (either source''s type includes running: Run, HyroxRace, FIT running, ...).';
COMMENT ON COLUMN intermediate.int_workouts.strava_sport_type IS 'The Strava sport_type, if any.';
COMMENT ON COLUMN intermediate.int_workouts.sport IS 'FIT sport/sub_sport, else Strava sport_type.';
COMMENT ON COLUMN intermediate.int_workouts.started_at IS 'Start, UTC.';
COMMENT ON COLUMN intermediate.int_workouts.local_date IS 'The day of the workout: its own local date, else the date in the athlete''s time zone.';
COMMENT ON COLUMN intermediate.int_workouts.local_date_from_athlete_tz IS 'True when the source gave no local time and the athlete''s time zone decided the day.';
COMMENT ON COLUMN intermediate.int_workouts.distance_m IS 'Distance, m: the FIT file''s, unless Strava''s differs by more than max(100 m, 5 %) (edited at Strava).';
COMMENT ON COLUMN intermediate.int_workouts.moving_s IS 'Duration used for load, s: gym sessions the FIT timer time; others Strava''s moving time first (it removes pauses).';
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
COMMENT ON COLUMN intermediate.int_workouts.source_notes IS 'Data-quality notes from matching (duplicate FIT files, an edited distance, the gym duration) and from staging (values out of bounds).';
