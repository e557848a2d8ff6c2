-- grain: one row per session of a usable FIT file (status ok or partial)
CREATE OR REPLACE VIEW staging.stg_fit__sessions AS
WITH files AS (
    SELECT athlete_id, file_sha256, status, manufacturer, product, n_records
    FROM raw.fit_files WHERE status IN ('ok', 'partial')
),
sessions AS (
    SELECT * FROM raw.fit_sessions
),
sport_types AS (
    SELECT * FROM staging.sport_types WHERE source = 'fit'
),
sets AS (
    SELECT * FROM raw.fit_sets WHERE set_type = 'active'
),
set_counts AS (
    -- sets belong to the session whose time span holds their start, give or take a minute
    -- (the same window marts.fct_strength_sets places them with)
    SELECT s.athlete_id, s.file_sha256, s.session_index, count(*) AS active_sets,
           -- the out-of-bounds notes of the session's sets (rare: a list only for those)
           flatten(list(list_transform(staging.set_bounds_notes(t.duration_s, t.repetitions, t.weight_kg),
                                       lambda n: 'set ' || t.set_index || ': ' || n) ORDER BY t.set_index)
                   FILTER (WHERE NOT staging.set_in_bounds(t.duration_s, t.repetitions, t.weight_kg))) AS set_notes
    FROM sessions s JOIN sets t
      ON t.athlete_id = s.athlete_id AND t.file_sha256 = s.file_sha256
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
        -- the seed maps the sport (the sub_sport's own row first); active sets make a session strength
        CASE WHEN coalesce(c.active_sets, 0) > 0 AND coalesce(x.sport_group, d.sport_group, 'other') = 'other'
             THEN 'strength' ELSE coalesce(x.sport_group, d.sport_group, 'other') END AS sport_group,
        CASE WHEN coalesce(c.active_sets, 0) > 0 AND coalesce(x.sport_group, d.sport_group, 'other') <> 'run' THEN 'gym'
             ELSE coalesce(x.match_group, d.match_group, 'other') END AS match_group,
        coalesce(x.includes_running, d.includes_running, false) AS includes_running,
        x.sport_type IS NOT NULL OR d.sport_type IS NOT NULL AS is_sport_type_mapped,
        s.start_time_utc AS started_at,
        s.start_time_local AS started_local,
        s.end_time_utc AS ended_at,
        staging.bounded(s.total_elapsed_time_s, 0, 604800) AS elapsed_s,
        staging.bounded(s.total_timer_time_s, 0, 604800) AS timer_s,
        coalesce(staging.bounded(s.total_moving_time_s, 0, 604800),
                 staging.bounded(s.total_timer_time_s, 0, 604800)) AS moving_s,
        staging.bounded(s.total_distance_m, 0, 1000000) AS distance_m,
        staging.bounded(s.total_ascent_m, 0, 50000) AS ascent_m,
        staging.bounded(s.total_descent_m, 0, 50000) AS descent_m,
        staging.bounded(s.avg_heart_rate_bpm, 20, 250) AS avg_heart_rate_bpm,
        staging.bounded(s.max_heart_rate_bpm, 20, 250) AS max_heart_rate_bpm,
        CASE WHEN coalesce(x.includes_running, d.includes_running, false)
             THEN staging.bounded(s.avg_cadence_rpm, 0, 300) * 2 END AS avg_cadence_spm,
        CASE WHEN coalesce(x.includes_running, d.includes_running, false)
             THEN staging.bounded(s.total_strides, 0, 1000000) * 2 END AS steps,
        staging.bounded(s.avg_stance_time_s, 0.05, 2.0) AS avg_stance_time_s,
        staging.bounded(s.avg_vertical_oscillation_m, 0, 0.5) AS avg_vertical_oscillation_m,
        staging.bounded(s.avg_step_length_m, 0, 5) AS avg_step_length_m,
        staging.bounded(s.workout_rpe, 0, 100) / 10.0 AS rpe,
        staging.bounded(s.total_calories_kcal, 0, 50000) AS calories_kcal,
        s.is_summarised,
        f.status = 'partial' AS is_partial_file,
        coalesce(c.active_sets, 0) AS active_sets,
        f.n_records AS file_records,
        list_filter([
            staging.bound_note('elapsed_s', s.total_elapsed_time_s, 0, 604800),
            staging.bound_note('timer_s', s.total_timer_time_s, 0, 604800),
            staging.bound_note('moving_s', s.total_moving_time_s, 0, 604800),
            staging.bound_note('distance_m', s.total_distance_m, 0, 1000000),
            staging.bound_note('ascent_m', s.total_ascent_m, 0, 50000),
            staging.bound_note('descent_m', s.total_descent_m, 0, 50000),
            staging.bound_note('avg_heart_rate_bpm', s.avg_heart_rate_bpm, 20, 250),
            staging.bound_note('max_heart_rate_bpm', s.max_heart_rate_bpm, 20, 250),
            staging.bound_note('avg_cadence_rpm', s.avg_cadence_rpm, 0, 300),
            staging.bound_note('total_strides', s.total_strides, 0, 1000000),
            staging.bound_note('avg_stance_time_s', s.avg_stance_time_s, 0.05, 2.0),
            staging.bound_note('avg_vertical_oscillation_m', s.avg_vertical_oscillation_m, 0, 0.5),
            staging.bound_note('avg_step_length_m', s.avg_step_length_m, 0, 5),
            staging.bound_note('workout_rpe', s.workout_rpe, 0, 100),
            staging.bound_note('total_calories_kcal', s.total_calories_kcal, 0, 50000)
        ], lambda n: n IS NOT NULL) || coalesce(c.set_notes, []) AS bounds_notes,
        f.manufacturer,
        f.product
    FROM sessions s
    JOIN files f USING (athlete_id, file_sha256)
    LEFT JOIN set_counts c USING (athlete_id, file_sha256, session_index)
    LEFT JOIN sport_types x ON x.sport_type = s.sport AND x.sub_sport = s.sub_sport
    LEFT JOIN sport_types d ON d.sport_type = s.sport AND d.sub_sport IS NULL
)
SELECT * FROM final;
COMMENT ON VIEW staging.stg_fit__sessions IS 'FIT sessions of usable files, renamed and converted (cadence in steps per minute), values outside plausible bounds set to NULL (bounds_notes says which), sport mapped by staging.sport_types.';
COMMENT ON COLUMN staging.stg_fit__sessions.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN staging.stg_fit__sessions.file_sha256 IS 'The FIT file.';
COMMENT ON COLUMN staging.stg_fit__sessions.session_index IS 'Session order in the file.';
COMMENT ON COLUMN staging.stg_fit__sessions.fit_session_key IS 'Stable key of the session: fit:<first 16 hex of the file hash>:<session index>.';
COMMENT ON COLUMN staging.stg_fit__sessions.sport IS 'FIT sport.';
COMMENT ON COLUMN staging.stg_fit__sessions.sub_sport IS 'FIT sub_sport.';
COMMENT ON COLUMN staging.stg_fit__sessions.sport_group IS 'run, strength or other, from staging.sport_types (the sport/sub_sport row, else the sport row; unmapped: other); a session with active sets is strength.';
COMMENT ON COLUMN staging.stg_fit__sessions.match_group IS 'Sessions and Strava activities of the same match group may be one workout (staging.sport_types; gym when a session that is not a run has active sets).';
COMMENT ON COLUMN staging.stg_fit__sessions.includes_running IS 'The session''s distance is running (staging.sport_types).';
COMMENT ON COLUMN staging.stg_fit__sessions.is_sport_type_mapped IS 'False when staging.sport_types has no row for the sport (counted by runlift status).';
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
COMMENT ON COLUMN staging.stg_fit__sessions.file_records IS 'Records (per-second samples) in the file: decides which of two files of one workout is kept.';
COMMENT ON COLUMN staging.stg_fit__sessions.bounds_notes IS 'Values outside their plausible bounds (docs/metrics.md), set to NULL here, and those of the session''s sets.';
COMMENT ON COLUMN staging.stg_fit__sessions.manufacturer IS 'Device manufacturer.';
COMMENT ON COLUMN staging.stg_fit__sessions.product IS 'Device product.';
