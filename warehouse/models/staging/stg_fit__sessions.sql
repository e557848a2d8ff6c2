-- grain: one row per session of a usable FIT file (status ok or partial)
CREATE OR REPLACE VIEW staging.stg_fit__sessions AS
WITH files AS (
    SELECT athlete_id, file_sha256, status, manufacturer, product
    FROM raw.fit_files WHERE status IN ('ok', 'partial')
),
sessions AS (
    SELECT * FROM raw.fit_sessions
),
set_counts AS (
    -- sets belong to the session whose time span holds their start, give or take a minute
    -- (the same window marts.fct_strength_sets places them with)
    SELECT s.athlete_id, s.file_sha256, s.session_index, count(*) AS active_sets
    FROM sessions s JOIN raw.fit_sets t
      ON t.athlete_id = s.athlete_id AND t.file_sha256 = s.file_sha256 AND t.set_type = 'active'
     AND (s.start_time_utc IS NULL OR t.start_time_utc IS NULL
          OR t.start_time_utc BETWEEN s.start_time_utc - INTERVAL 1 MINUTE
                                  AND coalesce(s.end_time_utc, s.start_time_utc + to_seconds(s.total_elapsed_time_s))
                                      + INTERVAL 1 MINUTE)
    GROUP BY ALL
),
final AS (
    SELECT
        s.athlete_id,
        s.file_sha256,
        s.session_index,
        'fit:' || left(s.file_sha256, 16) || ':' || s.session_index AS fit_session_key,
        s.sport,
        s.sub_sport,
        CASE WHEN s.sport = 'running' THEN 'run'
             WHEN s.sub_sport = 'strength_training' OR coalesce(c.active_sets, 0) > 0 THEN 'strength'
             ELSE 'other' END AS sport_group,
        s.start_time_utc AS started_at,
        s.start_time_local AS started_local,
        s.end_time_utc AS ended_at,
        s.total_elapsed_time_s AS elapsed_s,
        s.total_timer_time_s AS timer_s,
        coalesce(s.total_moving_time_s, s.total_timer_time_s) AS moving_s,
        s.total_distance_m AS distance_m,
        s.total_ascent_m AS ascent_m,
        s.total_descent_m AS descent_m,
        s.avg_heart_rate_bpm,
        s.max_heart_rate_bpm,
        CASE WHEN s.sport = 'running' THEN s.avg_cadence_rpm * 2 END AS avg_cadence_spm,
        CASE WHEN s.sport = 'running' THEN s.total_strides * 2 END AS steps,
        s.avg_stance_time_s,
        s.avg_vertical_oscillation_m,
        s.avg_step_length_m,
        s.workout_rpe / 10.0 AS rpe,
        s.total_calories_kcal AS calories_kcal,
        s.is_summarised,
        f.status = 'partial' AS is_partial_file,
        coalesce(c.active_sets, 0) AS active_sets,
        f.manufacturer,
        f.product
    FROM sessions s
    JOIN files f USING (athlete_id, file_sha256)
    LEFT JOIN set_counts c USING (athlete_id, file_sha256, session_index)
)
SELECT * FROM final;
COMMENT ON VIEW staging.stg_fit__sessions IS 'FIT sessions of usable files, renamed and converted: cadence in steps per minute.';
COMMENT ON COLUMN staging.stg_fit__sessions.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN staging.stg_fit__sessions.file_sha256 IS 'The FIT file.';
COMMENT ON COLUMN staging.stg_fit__sessions.session_index IS 'Session order in the file.';
COMMENT ON COLUMN staging.stg_fit__sessions.fit_session_key IS 'Stable key of the session: fit:<first 16 hex of the file hash>:<session index>.';
COMMENT ON COLUMN staging.stg_fit__sessions.sport IS 'FIT sport.';
COMMENT ON COLUMN staging.stg_fit__sessions.sub_sport IS 'FIT sub_sport.';
COMMENT ON COLUMN staging.stg_fit__sessions.sport_group IS 'run (sport running), strength (sub_sport strength_training, or active sets), other.';
COMMENT ON COLUMN staging.stg_fit__sessions.started_at IS 'Start, UTC.';
COMMENT ON COLUMN staging.stg_fit__sessions.started_local IS 'Start, local wall-clock time from the file (NULL when the file does not say).';
COMMENT ON COLUMN staging.stg_fit__sessions.ended_at IS 'End, UTC.';
COMMENT ON COLUMN staging.stg_fit__sessions.elapsed_s IS 'Elapsed time, s.';
COMMENT ON COLUMN staging.stg_fit__sessions.timer_s IS 'Timer time, s.';
COMMENT ON COLUMN staging.stg_fit__sessions.moving_s IS 'Moving time, s (timer time where the device gives no moving time).';
COMMENT ON COLUMN staging.stg_fit__sessions.distance_m IS 'Distance, m.';
COMMENT ON COLUMN staging.stg_fit__sessions.ascent_m IS 'Elevation gain, m.';
COMMENT ON COLUMN staging.stg_fit__sessions.descent_m IS 'Elevation loss, m.';
COMMENT ON COLUMN staging.stg_fit__sessions.avg_heart_rate_bpm IS 'Average heart rate, beats/min.';
COMMENT ON COLUMN staging.stg_fit__sessions.max_heart_rate_bpm IS 'Maximum heart rate, beats/min.';
COMMENT ON COLUMN staging.stg_fit__sessions.avg_cadence_spm IS 'Running cadence in steps per minute (2 x the strides per minute FIT stores); NULL for other sports.';
COMMENT ON COLUMN staging.stg_fit__sessions.steps IS 'Running steps (2 x total strides); NULL when the file has no stride count.';
COMMENT ON COLUMN staging.stg_fit__sessions.avg_stance_time_s IS 'Average ground contact time, s.';
COMMENT ON COLUMN staging.stg_fit__sessions.avg_vertical_oscillation_m IS 'Average vertical oscillation, m.';
COMMENT ON COLUMN staging.stg_fit__sessions.avg_step_length_m IS 'Average step length, m.';
COMMENT ON COLUMN staging.stg_fit__sessions.rpe IS 'Perceived exertion 0-10 entered on the watch (workout_rpe / 10).';
COMMENT ON COLUMN staging.stg_fit__sessions.calories_kcal IS 'Energy, kcal.';
COMMENT ON COLUMN staging.stg_fit__sessions.is_summarised IS 'The file had no session message; summarised from records.';
COMMENT ON COLUMN staging.stg_fit__sessions.is_partial_file IS 'The file is partial (an error after some data).';
COMMENT ON COLUMN staging.stg_fit__sessions.active_sets IS 'Active strength sets within the session.';
COMMENT ON COLUMN staging.stg_fit__sessions.manufacturer IS 'Device manufacturer.';
COMMENT ON COLUMN staging.stg_fit__sessions.product IS 'Device product.';
