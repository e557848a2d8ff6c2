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
-- 3. A counted lifting-app workout (intermediate.int_app_workouts: Hevy API, Hevy / Strong CSV; deleted
--    Hevy workouts and app copies of one workout already left out) and a watch workout of the steps
--    above in match group gym are the same workout when: same athlete; their time spans overlap by at
--    least half the shorter one, or their starts are within 900 s (app times are approximate: started
--    on the phone before or after the watch, logged afterwards); and each is the other's best candidate
--    (mutual best: larger overlap share, then closer start, then key). An app workout no watch record
--    meets is a workout of its own (key hevy:<id>, hevy_csv:<local start>, strong:<local start>).
-- 4. Which source gives which field of a matched workout: the table in docs/metrics.md (the app gives
--    the sets, the name, and the RPE when neither watch source has one; the watch the time and heart rate).
CREATE OR REPLACE TABLE intermediate.int_workouts AS
WITH fit_all AS (
    SELECT *,
           coalesce(ended_at, started_at + to_seconds(coalesce(elapsed_s, timer_s, 0))) AS span_end,
           coalesce(epoch(ended_at) - epoch(started_at), elapsed_s, timer_s, 0) AS span_s
    FROM staging.stg_fit__sessions
),
fit_ordered AS (
    -- sessions that overlap a neighbour in start order: the only ones that can be two files of one workout
    -- (a window pass instead of comparing every pair of an athlete's sessions)
    SELECT *,
           max(span_end) OVER w_before > started_at OR lead(started_at) OVER w < span_end AS may_overlap
    FROM fit_all
    WHERE started_at IS NOT NULL
    WINDOW w AS (PARTITION BY athlete_id, match_group ORDER BY started_at, fit_session_key),
           w_before AS (PARTITION BY athlete_id, match_group ORDER BY started_at, fit_session_key
                        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
),
fit_suspects AS (
    SELECT * FROM fit_ordered WHERE may_overlap
),
fit_overlaps AS (
    -- b beats a: the session a is the same workout as b and b is kept
    SELECT a.athlete_id, a.fit_session_key AS loser_key, b.fit_session_key AS winner_key
    FROM fit_suspects a
    JOIN fit_suspects b
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
joined AS (
    SELECT
        -- (DuckDB lets the columns below use these three by name)
        f.fit_session_key IS NOT NULL AND s.activity_id IS NOT NULL AS is_matched,
        -- a gym session's duration is the FIT file's: Strava's moving time of an indoor session is not
        -- a duration anyone measured
        coalesce(f.sport_group = 'strength' OR f.match_group = 'gym', false) AS is_fit_gym,
        -- distances further apart than max(100 m, 5 %): the athlete edited Strava's, which then wins
        coalesce(abs(f.distance_m - s.distance_m) > greatest(100, 0.05 * greatest(f.distance_m, s.distance_m)),
                 false) AS is_distance_edited,
        coalesce(f.athlete_id, s.athlete_id) AS athlete_id,
        f.fit_session_key,
        s.activity_id AS strava_activity_id,
        f.file_sha256 AS fit_file_sha256,
        f.session_index AS fit_session_index,
        CASE WHEN is_matched THEN 'fit+strava' WHEN f.fit_session_key IS NOT NULL THEN 'fit' ELSE 'strava' END AS sources,
        s.name,
        -- the device's sport group, unless it only knows "other" and the athlete chose a type at Strava
        CASE WHEN f.sport_group = 'other' AND s.sport_group IS NOT NULL THEN s.sport_group
             ELSE coalesce(f.sport_group, s.sport_group) END AS sport_group,
        coalesce(f.includes_running, false) OR coalesce(s.includes_running, false) AS includes_running,
        coalesce(f.sport || coalesce('/' || f.sub_sport, ''), s.sport_type) AS sport,
        s.sport_type AS strava_sport_type,
        coalesce(f.started_at, s.started_at) AS started_at,
        coalesce(f.started_local, s.started_local) AS started_local,
        CASE WHEN is_distance_edited THEN s.distance_m ELSE coalesce(f.distance_m, s.distance_m) END AS distance_m,
        CASE WHEN is_fit_gym THEN coalesce(f.timer_s, f.elapsed_s, s.moving_s)
             ELSE coalesce(s.moving_s, f.moving_s) END AS moving_s,
        coalesce(f.elapsed_s, s.elapsed_s) AS elapsed_s,
        coalesce(f.ascent_m, s.ascent_m) AS ascent_m,
        f.descent_m AS fit_descent_m,
        coalesce(f.avg_heart_rate_bpm, s.avg_heart_rate_bpm) AS avg_heart_rate_bpm,
        coalesce(f.max_heart_rate_bpm, s.max_heart_rate_bpm) AS max_heart_rate_bpm,
        coalesce(f.avg_cadence_spm, s.avg_cadence_spm) AS avg_cadence_spm,
        f.steps AS fit_steps,
        f.avg_stance_time_s,
        coalesce(f.rpe, s.rpe) AS rpe,
        CASE WHEN f.rpe IS NOT NULL THEN 'fit_workout_rpe' WHEN s.rpe IS NOT NULL THEN 'strava_perceived_exertion' END
            AS rpe_source,
        coalesce(f.match_group, s.match_group) AS match_group,
        coalesce(f.is_summarised, false) AS is_summarised,
        coalesce(f.is_partial_file, false) AS is_partial_file,
        coalesce(s.is_manual, false) AS is_manual,
        list_filter([
            CASE WHEN len(f.duplicate_keys) > 0
                 THEN 'same workout in another FIT file, not counted: ' || array_to_string(f.duplicate_keys, ', ') END,
            CASE WHEN is_distance_edited
                 THEN printf('distance edited at Strava: %.0f m there, %.0f m in the FIT file; Strava''s used',
                             s.distance_m, f.distance_m) END,
            CASE WHEN is_matched AND is_fit_gym AND s.moving_s IS NOT NULL
                  AND coalesce(f.timer_s, f.elapsed_s) IS NOT NULL
                 THEN 'gym session: duration from the FIT file, not Strava''s moving time' END
        ], lambda n: n IS NOT NULL) || coalesce(f.bounds_notes, []) || coalesce(s.bounds_notes, []) AS source_notes
    FROM fit f
    LEFT JOIN matches m ON m.athlete_id = f.athlete_id AND m.fit_session_key = f.fit_session_key
    FULL OUTER JOIN strava s ON s.athlete_id = m.athlete_id AND s.activity_id = m.activity_id
),
watch AS (
    SELECT coalesce(fit_session_key, 'strava:' || strava_activity_id) AS watch_key,
           coalesce(elapsed_s, moving_s, 0) AS span_s, *
    FROM joined
),
apps AS (
    SELECT * FROM intermediate.int_app_workouts WHERE is_counted
),
app_candidates AS (
    SELECT a.athlete_id, a.app_workout_key, w.watch_key,
           abs(epoch(w.started_at) - epoch(a.started_at)) AS start_diff_s,
           greatest(least(epoch(w.started_at) + w.span_s, epoch(coalesce(a.ended_at, a.started_at)))
                    - greatest(epoch(w.started_at), epoch(a.started_at)), 0) AS overlap_s,
           least(w.span_s, coalesce(a.elapsed_s, 0)) AS shorter_s
    FROM apps a
    JOIN watch w
      ON w.athlete_id = a.athlete_id AND w.match_group = 'gym'
     -- a range join first (cheap), then the exact rule
     AND w.started_at BETWEEN a.started_at - INTERVAL 12 HOUR AND coalesce(a.ended_at, a.started_at) + INTERVAL 15 MINUTE
),
app_ranked AS (
    SELECT *,
           row_number() OVER (PARTITION BY athlete_id, app_workout_key
                              ORDER BY overlap_s / greatest(shorter_s, 1) DESC, start_diff_s, watch_key) AS app_rank,
           row_number() OVER (PARTITION BY athlete_id, watch_key
                              ORDER BY overlap_s / greatest(shorter_s, 1) DESC, start_diff_s, app_workout_key) AS watch_rank
    FROM app_candidates
    WHERE start_diff_s <= 900 OR (shorter_s > 0 AND overlap_s >= 0.5 * shorter_s)
),
app_matches AS (
    SELECT athlete_id, app_workout_key, watch_key FROM app_ranked WHERE app_rank = 1 AND watch_rank = 1
),
combined AS (
    SELECT
        j.watch_key IS NOT NULL AS has_watch,
        a.app_workout_key IS NOT NULL AS has_app,
        coalesce(j.athlete_id, a.athlete_id) AS athlete_id,
        coalesce(j.watch_key, a.app_workout_key) AS activity_key,
        CASE WHEN NOT has_watch THEN a.app ELSE j.sources || coalesce('+' || a.app, '') END AS sources,
        j.fit_file_sha256,
        j.fit_session_index,
        j.strava_activity_id,
        -- the name the athlete gave the session in the app, else Strava's
        coalesce(nullif(trim(a.title), ''), j.name) AS name,
        -- sets logged in an app make it a strength session unless the watch knows it is more specific
        CASE WHEN has_app AND coalesce(j.sport_group, 'other') = 'other' THEN 'strength' ELSE j.sport_group END
            AS sport_group,
        coalesce(j.includes_running, false) AS includes_running,
        coalesce(j.sport, a.app) AS sport,
        j.strava_sport_type,
        coalesce(j.started_at, a.started_at) AS started_at,
        coalesce(j.started_local, a.started_local) AS started_local,
        j.distance_m,
        -- time from the watch; an app workout without one: the app's start to end
        CASE WHEN has_watch THEN j.moving_s ELSE a.elapsed_s END AS moving_s,
        CASE WHEN has_watch THEN j.elapsed_s ELSE a.elapsed_s END AS elapsed_s,
        j.ascent_m, j.fit_descent_m, j.avg_heart_rate_bpm, j.max_heart_rate_bpm, j.avg_cadence_spm, j.fit_steps,
        j.avg_stance_time_s,
        -- a session RPE recorded on the watch or at Strava first, else the one the app's set RPEs give
        coalesce(j.rpe, a.session_rpe) AS rpe,
        coalesce(j.rpe_source, CASE WHEN a.session_rpe IS NOT NULL THEN 'app_set_rpe' END) AS rpe_source,
        coalesce(j.is_summarised, false) AS is_summarised,
        coalesce(j.is_partial_file, false) AS is_partial_file,
        coalesce(j.is_manual, false) AS is_manual,
        -- (the list built only for workouts with an app record: most have none)
        CASE WHEN NOT has_app THEN j.source_notes ELSE coalesce(j.source_notes, []) || list_filter([
            CASE WHEN has_app AND has_watch
                 THEN 'sets from ' || a.app || ' (' || a.app_workout_key || '); time and heart rate from the watch' END,
            CASE WHEN has_app AND NOT has_watch
                 THEN 'logged in ' || a.app || ' without a watch record: time from the app' END,
            CASE WHEN len(a.duplicate_keys) > 0
                 THEN 'same workout in another app record, not counted: ' || array_to_string(a.duplicate_keys, ', ') END,
            CASE WHEN a.session_rpe IS NOT NULL AND j.rpe IS NULL
                 THEN printf('rpe %.2f: mean of %d logged set RPEs (%s)', a.session_rpe, a.rpe_set_count, a.app) END
        ], lambda n: n IS NOT NULL) END AS source_notes,
        a.app_workout_key,
        a.app_source
    FROM watch j
    LEFT JOIN app_matches m ON m.athlete_id = j.athlete_id AND m.watch_key = j.watch_key
    FULL OUTER JOIN apps a ON a.athlete_id = m.athlete_id AND a.app_workout_key = m.app_workout_key
),
final AS (
    SELECT
        j.athlete_id,
        j.activity_key,
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
        j.is_summarised, j.is_partial_file, j.is_manual, j.source_notes,
        j.app_workout_key, j.app_source, j.rpe_source
    FROM combined j
    LEFT JOIN athletes a USING (athlete_id)
)
SELECT * FROM final;
COMMENT ON TABLE intermediate.int_workouts IS 'One row per real-world workout across FIT files, Strava and the lifting apps (Hevy, Strong) (matching rules and which source gives which field: docs/metrics.md).';
COMMENT ON COLUMN intermediate.int_workouts.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN intermediate.int_workouts.activity_key IS 'fit:<file>:<session> when a FIT file holds the workout, else strava:<activity id>, else the app workout''s key (hevy:<id>, hevy_csv:<local start>, strong:<local start>).';
COMMENT ON COLUMN intermediate.int_workouts.sources IS 'Which sources hold it, joined by +: fit, strava, and hevy or strong (a lifting app: API or CSV export), e.g. fit+strava+hevy.';
COMMENT ON COLUMN intermediate.int_workouts.fit_file_sha256 IS 'The FIT file, if any.';
COMMENT ON COLUMN intermediate.int_workouts.fit_session_index IS 'The session in the FIT file, if any.';
COMMENT ON COLUMN intermediate.int_workouts.strava_activity_id IS 'The Strava activity, if any.';
COMMENT ON COLUMN intermediate.int_workouts.name IS 'Name: the app workout''s title, else Strava''s.';
COMMENT ON COLUMN intermediate.int_workouts.sport_group IS 'run, strength or other (staging.sport_types): the FIT file''s, unless it says other and Strava knows better.';
COMMENT ON COLUMN intermediate.int_workouts.includes_running IS 'The workout''s distance is running (either source''s type includes running: Run, HyroxRace, FIT running, ...).';
COMMENT ON COLUMN intermediate.int_workouts.strava_sport_type IS 'The Strava sport_type, if any.';
COMMENT ON COLUMN intermediate.int_workouts.sport IS 'FIT sport/sub_sport, else Strava sport_type, else the app (hevy, strong).';
COMMENT ON COLUMN intermediate.int_workouts.started_at IS 'Start, UTC.';
COMMENT ON COLUMN intermediate.int_workouts.local_date IS 'The day of the workout: its own local date, else the date in the athlete''s time zone.';
COMMENT ON COLUMN intermediate.int_workouts.local_date_from_athlete_tz IS 'True when the source gave no local time and the athlete''s time zone decided the day.';
COMMENT ON COLUMN intermediate.int_workouts.distance_m IS 'Distance, m: the FIT file''s, unless Strava''s differs by more than max(100 m, 5 %) (edited at Strava).';
COMMENT ON COLUMN intermediate.int_workouts.moving_s IS 'Duration used for load, s: gym sessions the FIT timer time; others Strava''s moving time first (it removes pauses); an app workout without a watch record: the app''s start to end.';
COMMENT ON COLUMN intermediate.int_workouts.elapsed_s IS 'Elapsed time, s (the watch''s; an app workout without a watch record: the app''s).';
COMMENT ON COLUMN intermediate.int_workouts.ascent_m IS 'Elevation gain, m.';
COMMENT ON COLUMN intermediate.int_workouts.fit_descent_m IS 'Elevation loss from the FIT file, m (Strava reports none).';
COMMENT ON COLUMN intermediate.int_workouts.avg_heart_rate_bpm IS 'Average heart rate, beats/min.';
COMMENT ON COLUMN intermediate.int_workouts.max_heart_rate_bpm IS 'Maximum heart rate, beats/min.';
COMMENT ON COLUMN intermediate.int_workouts.avg_cadence_spm IS 'Running cadence, steps per minute.';
COMMENT ON COLUMN intermediate.int_workouts.fit_steps IS 'Steps counted by the FIT file (2 x strides).';
COMMENT ON COLUMN intermediate.int_workouts.avg_stance_time_s IS 'Average ground contact time, s (FIT running dynamics).';
COMMENT ON COLUMN intermediate.int_workouts.rpe IS 'Perceived exertion 0-10 recorded by a source (rpe_source says which), NULL when none.';
COMMENT ON COLUMN intermediate.int_workouts.is_summarised IS 'FIT session summarised from records.';
COMMENT ON COLUMN intermediate.int_workouts.is_partial_file IS 'From a partial FIT file.';
COMMENT ON COLUMN intermediate.int_workouts.is_manual IS 'A manual Strava entry.';
COMMENT ON COLUMN intermediate.int_workouts.source_notes IS 'Data-quality notes from matching (duplicate FIT files, an edited distance, the gym duration, app sets and app copies) and from staging (values out of bounds).';
COMMENT ON COLUMN intermediate.int_workouts.app_workout_key IS 'The lifting-app workout whose sets the workout takes (intermediate.int_app_workouts), if any.';
COMMENT ON COLUMN intermediate.int_workouts.app_source IS 'Where that app workout came from: hevy_api, hevy_csv or strong_csv.';
COMMENT ON COLUMN intermediate.int_workouts.rpe_source IS 'Where rpe comes from: fit_workout_rpe, strava_perceived_exertion, app_set_rpe (mean of the logged RPEs of the app''s working sets); NULL: none recorded.';
