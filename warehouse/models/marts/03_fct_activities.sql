-- grain: one row per workout (FIT and Strava matched into one)
-- sums of measured values are exact and independent of the order rows arrive in (so a rebuild
-- gives the same bits on any number of threads): each value is summed as an integer count of
-- 1e-12 units, sum(round(1e12 * x)::HUGEINT) / 1e12 (cheaper than an ordered sum)
CREATE OR REPLACE TABLE marts.fct_activities AS
WITH workouts AS (
    SELECT * FROM intermediate.int_workouts WHERE local_date <= getvariable('as_of')
),
rpe_median AS (
    SELECT athlete_id, sport_group, median(rpe) AS median_rpe
    FROM workouts WHERE rpe IS NOT NULL GROUP BY ALL
),
sets AS (
    SELECT athlete_id, activity_key, sum(round(1e12 * volume_load_kg)::HUGEINT) / 1e12 AS volume_load_kg, count(*) AS sets,
           count(*) FILTER (WHERE is_hard_set) AS hard_sets, sum(round(1e12 * knee_load_kbw)::HUGEINT) / 1e12 AS knee_load_kbw,
           -- the working sets: at >= 50 % of the exercise's best, or with an RPE logged; never a warm-up set
           -- (app set type); each set's logged RPE where the app has one, else its estimate
           avg(coalesce(rpe, estimated_rpe) ORDER BY set_index)
               FILTER (WHERE (relative_intensity >= 0.5 OR rpe IS NOT NULL) AND set_type IS DISTINCT FROM 'warmup')
               AS set_effort_rpe
    FROM marts.fct_strength_sets GROUP BY ALL
),
effort AS (
    -- the best evidence each workout has (docs/metrics.md): recorded RPE > heart rate (not for
    -- strength) > set effort (strength) > device load > imputed; load = RPE x minutes throughout
    SELECT w.athlete_id, w.activity_key, x.minutes, w.rpe AS recorded_rpe,
           CASE WHEN w.rpe IS NOT NULL THEN 'recorded_rpe'
                WHEN w.sport_group <> 'strength' AND e.heart_rate_load_au IS NOT NULL AND x.minutes > 0 THEN 'heart_rate'
                WHEN w.sport_group = 'strength' AND s.set_effort_rpe IS NOT NULL THEN 'set_effort'
                WHEN e.device_load_au IS NOT NULL AND x.minutes > 0 THEN 'device_load'
                ELSE 'imputed' END AS effort_source,
           e.heart_rate_data, e.max_hr_source, e.resting_hr_source, e.heart_rate_load_au, e.device_load_au,
           s.set_effort_rpe, coalesce(m.median_rpe, 5.0) AS imputed_rpe, m.median_rpe IS NULL AS imputed_default
    FROM workouts w
    CROSS JOIN LATERAL (SELECT coalesce(w.moving_s, w.elapsed_s, 0) / 60.0 AS minutes) x
    LEFT JOIN intermediate.int_workouts_effort e USING (athlete_id, activity_key)
    LEFT JOIN sets s USING (athlete_id, activity_key)
    LEFT JOIN rpe_median m USING (athlete_id, sport_group)
),
effort_rpe AS (
    SELECT f.*, CASE f.effort_source WHEN 'recorded_rpe' THEN f.recorded_rpe
                                     WHEN 'heart_rate' THEN least(f.heart_rate_load_au / f.minutes, 10.0)
                                     WHEN 'set_effort' THEN f.set_effort_rpe
                                     WHEN 'device_load' THEN least(f.device_load_au / f.minutes, 10.0)
                                     ELSE f.imputed_rpe END AS rpe
    FROM effort f
),
running AS (
    SELECT
        w.*,
        -- a cadence over 230 after doubling means the source already gave steps per minute
        CASE WHEN w.avg_cadence_spm > 230 THEN w.avg_cadence_spm / 2 ELSE w.avg_cadence_spm END AS cadence_spm,
        w.avg_cadence_spm > 230 AS cadence_was_steps,
        coalesce(w.fit_descent_m, w.ascent_m) AS descent_m,
        w.fit_descent_m IS NULL AND w.ascent_m IS NOT NULL AS descent_assumed
    FROM workouts w
),
impact AS (
    SELECT
        r.*,
        CASE WHEN NOT includes_running THEN NULL
             WHEN fit_steps IS NOT NULL THEN fit_steps
             WHEN cadence_spm IS NOT NULL AND moving_s IS NOT NULL THEN cadence_spm * moving_s / 60.0
             WHEN distance_m IS NOT NULL THEN distance_m / 1.0 END AS steps,
        CASE WHEN NOT includes_running THEN NULL
             WHEN fit_steps IS NOT NULL THEN 'fit strides'
             WHEN cadence_spm IS NOT NULL AND moving_s IS NOT NULL THEN 'cadence x time'
             WHEN distance_m IS NOT NULL THEN 'distance / 1.0 m' END AS steps_source,
        -- spring-mass model (Morin 2005): Fmax = (pi / 2) (flight / contact + 1) body weights; kept when
        -- within 1-6 BW (running's active peak; outside that the dynamics are not a run's)
        CASE WHEN includes_running AND avg_stance_time_s > 0 AND cadence_spm > 0
                  AND 60.0 / cadence_spm > avg_stance_time_s
             THEN pi() / 2 * ((60.0 / cadence_spm - avg_stance_time_s) / avg_stance_time_s + 1) END AS dynamics_peak_bw,
        CASE WHEN includes_running AND distance_m > 0 AND moving_s > 0 THEN distance_m / moving_s END AS speed_mps,
        -- downhill: the impact peak rises 6 % per degree of downhill slope (+54 % at -9 degrees, Gottschall
        -- & Kram 2005), applied to the downhill half of the distance, slope capped at their 9 degrees
        CASE WHEN includes_running AND distance_m > 0 AND descent_m > 0
             THEN 1 + 0.5 * 0.06 * least(degrees(atan(descent_m / (distance_m / 2))), 9.0)
             ELSE 1.0 END AS downhill_factor
    FROM running r
),
measured AS (
    SELECT *, CASE WHEN dynamics_peak_bw BETWEEN 1.0 AND 6.0 THEN dynamics_peak_bw END AS measured_peak_force_bw
    FROM impact
),
typical_recent AS (
    -- without running dynamics: the median measured peak force of the athlete's runs of the 90 days up to
    -- that day at a similar speed (within 0.5 m/s). Joined through 30-day blocks (a run's 90 days touch at
    -- most 4) so the join compares runs of nearby months, not every pair of an athlete's runs.
    WITH m AS (
        SELECT athlete_id, local_date, speed_mps, measured_peak_force_bw,
               (local_date - DATE '2000-01-01') // 30 AS blk
        FROM measured WHERE measured_peak_force_bw IS NOT NULL
    ),
    u AS (
        SELECT athlete_id, activity_key, local_date, speed_mps,
               unnest(range((local_date - DATE '2000-01-01' - 90) // 30, (local_date - DATE '2000-01-01') // 30 + 1)) AS blk
        FROM measured WHERE includes_running AND measured_peak_force_bw IS NULL AND speed_mps IS NOT NULL
    )
    SELECT u.athlete_id, u.activity_key, median(m.measured_peak_force_bw) AS peak_bw, count(*) AS n
    FROM u
    JOIN m ON m.athlete_id = u.athlete_id AND m.blk = u.blk
     AND m.local_date BETWEEN u.local_date - 90 AND u.local_date
     AND abs(m.speed_mps - u.speed_mps) <= 0.5
    GROUP BY ALL
),
typical_all AS (
    -- else the median of all the athlete's measured runs
    SELECT athlete_id, median(measured_peak_force_bw) AS peak_bw, count(*) AS n
    FROM measured WHERE measured_peak_force_bw IS NOT NULL GROUP BY ALL
),
peak AS (
    SELECT m.*,
           CASE WHEN m.includes_running THEN coalesce(m.measured_peak_force_bw, tr.peak_bw, ta.peak_bw, 2.5) END AS peak_bw,
           CASE WHEN NOT m.includes_running THEN NULL
                WHEN m.measured_peak_force_bw IS NOT NULL THEN 'measured'
                WHEN coalesce(tr.peak_bw, ta.peak_bw) IS NOT NULL THEN 'athlete_typical'
                ELSE 'default' END AS impact_model,
           CASE WHEN NOT m.includes_running THEN NULL
                WHEN m.dynamics_peak_bw IS NOT NULL AND m.measured_peak_force_bw IS NULL
                     AND coalesce(tr.peak_bw, ta.peak_bw) IS NULL
                THEN printf('peak force from running dynamics implausible (%.2f BW): default 2.5 BW', m.dynamics_peak_bw)
                WHEN m.measured_peak_force_bw IS NOT NULL THEN NULL
                WHEN tr.peak_bw IS NOT NULL
                THEN printf('peak force athlete typical: median %.2f BW of %d measured run%s of the last 90 days within 0.5 m/s',
                            tr.peak_bw, tr.n, CASE WHEN tr.n > 1 THEN 's' ELSE '' END)
                WHEN ta.peak_bw IS NOT NULL
                THEN printf('peak force athlete typical: median %.2f BW of all %d measured run%s', ta.peak_bw, ta.n,
                            CASE WHEN ta.n > 1 THEN 's' ELSE '' END)
                ELSE 'peak force default 2.5 BW' END AS impact_note
    FROM measured m
    LEFT JOIN typical_recent tr USING (athlete_id, activity_key)
    LEFT JOIN typical_all ta USING (athlete_id)
),
final AS (
    SELECT
        i.athlete_id,
        i.activity_key,
        i.sources,
        i.fit_file_sha256,
        i.strava_activity_id,
        i.name,
        i.sport_group,
        i.sport,
        i.started_at,
        i.local_date,
        i.distance_m,
        i.distance_m / 1000.0 AS distance_km,
        i.moving_s AS moving_time_s,
        i.elapsed_s AS elapsed_time_s,
        i.ascent_m AS elevation_gain_m,
        i.descent_m AS elevation_loss_m,
        i.avg_heart_rate_bpm,
        i.cadence_spm AS avg_cadence_spm,
        i.steps,
        e.rpe, e.effort_source, e.effort_source = 'imputed' AS rpe_imputed, e.rpe * e.minutes AS session_load_au,
        i.includes_running,
        i.peak_bw AS peak_force_bw,
        i.impact_model,
        i.downhill_factor,
        -- a workout that includes running (a run, HyroxRace) carries its steps' impact, plus any sets' knee load
        CASE WHEN i.includes_running THEN coalesce(i.steps, 0) * i.peak_bw * i.downhill_factor / 1000.0 ELSE 0.0 END
            + coalesce(s.knee_load_kbw, 0) AS impact_load_kbw,
        coalesce(s.volume_load_kg, 0) AS strength_volume_load_kg,
        coalesce(s.sets, 0)::INTEGER AS strength_sets,
        coalesce(s.hard_sets, 0)::INTEGER AS hard_sets,
        coalesce(i.cadence_was_steps, false) AS is_cadence_implausible,
        list_filter([
            CASE WHEN e.effort_source = 'imputed' THEN 'rpe imputed (' || CASE WHEN e.imputed_default THEN 'default 5' ELSE 'athlete median' END || ')' END,
            CASE WHEN e.effort_source = 'heart_rate' THEN concat_ws('; ', 'effort from ' || e.heart_rate_data || ' heart rate', CASE WHEN e.max_hr_source <> 'settings' THEN 'max HR ' || e.max_hr_source END, CASE WHEN e.resting_hr_source <> 'settings' THEN 'resting HR ' || e.resting_hr_source END) END,
            CASE WHEN i.includes_running AND i.steps_source <> 'fit strides' THEN 'steps from ' || i.steps_source END,
            i.impact_note,
            CASE WHEN i.includes_running AND i.descent_assumed THEN 'descent assumed equal to ascent (no FIT file)' END,
            CASE WHEN i.cadence_was_steps THEN 'cadence already in steps/min (halved)' END,
            CASE WHEN i.is_summarised THEN 'session summarised from records' END,
            CASE WHEN i.is_partial_file THEN 'partial FIT file' END,
            CASE WHEN i.is_manual THEN 'manual Strava entry' END,
            CASE WHEN i.local_date_from_athlete_tz THEN 'local date from the athlete time zone' END
        ], lambda x: x IS NOT NULL) || i.source_notes AS data_quality_notes,
        CASE WHEN e.effort_source = 'recorded_rpe' THEN i.rpe_source END AS recorded_rpe_source
    FROM peak i
    LEFT JOIN effort_rpe e USING (athlete_id, activity_key)
    LEFT JOIN sets s USING (athlete_id, activity_key)
)
SELECT * FROM final;
COMMENT ON TABLE marts.fct_activities IS 'One row per workout (a FIT session and a Strava activity of the same workout count once), with its effort and mechanical load. Formulas in docs/metrics.md.';
COMMENT ON COLUMN marts.fct_activities.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN marts.fct_activities.activity_key IS 'Workout key: fit:<file>:<session> or strava:<id>; a lifting-app workout without a watch record: hevy:<id>, hevy_csv:<local start> or strong:<local start>.';
COMMENT ON COLUMN marts.fct_activities.sources IS 'Which sources hold the workout, joined by +: fit, strava, and hevy or strong (a lifting app), e.g. fit+strava, fit+hevy, hevy.';
COMMENT ON COLUMN marts.fct_activities.fit_file_sha256 IS 'The FIT file, if any.';
COMMENT ON COLUMN marts.fct_activities.strava_activity_id IS 'The Strava activity, if any.';
COMMENT ON COLUMN marts.fct_activities.name IS 'Name: a lifting app''s workout title, else Strava''s.';
COMMENT ON COLUMN marts.fct_activities.sport_group IS 'run, strength or other.';
COMMENT ON COLUMN marts.fct_activities.sport IS 'FIT sport/sub_sport or Strava sport_type; a lifting-app workout without a watch record: the app (hevy, strong).';
COMMENT ON COLUMN marts.fct_activities.started_at IS 'Start, UTC.';
COMMENT ON COLUMN marts.fct_activities.local_date IS 'The workout''s own local date.';
COMMENT ON COLUMN marts.fct_activities.distance_m IS 'Distance, m.';
COMMENT ON COLUMN marts.fct_activities.distance_km IS 'Distance, km (display).';
COMMENT ON COLUMN marts.fct_activities.moving_time_s IS 'Moving time, s.';
COMMENT ON COLUMN marts.fct_activities.elapsed_time_s IS 'Elapsed time, s.';
COMMENT ON COLUMN marts.fct_activities.elevation_gain_m IS 'Elevation gain, m.';
COMMENT ON COLUMN marts.fct_activities.elevation_loss_m IS 'Elevation loss, m (without a FIT file: assumed equal to the gain).';
COMMENT ON COLUMN marts.fct_activities.avg_heart_rate_bpm IS 'Average heart rate, beats/min.';
COMMENT ON COLUMN marts.fct_activities.avg_cadence_spm IS 'Running cadence, steps per minute.';
COMMENT ON COLUMN marts.fct_activities.steps IS 'Running steps: FIT strides x 2, else cadence x moving minutes, else distance / 1.0 m.';
COMMENT ON COLUMN marts.fct_activities.rpe IS 'Session RPE 0-10 used, from the evidence effort_source names: recorded; heart-rate or device load / minutes (at most 10); mean estimated RPE of the working sets; imputed (the athlete''s median recorded RPE for the sport group, else 5).';
COMMENT ON COLUMN marts.fct_activities.effort_source IS 'The evidence behind rpe and session_load_au: recorded_rpe, heart_rate, set_effort, device_load or imputed.';
COMMENT ON COLUMN marts.fct_activities.rpe_imputed IS 'True when effort_source is imputed.';
COMMENT ON COLUMN marts.fct_activities.session_load_au IS 'Internal load, session RPE x moving minutes (Foster 2001), arbitrary units.';
COMMENT ON COLUMN marts.fct_activities.includes_running IS 'The workout''s distance is running (staging.sport_types: runs, HyroxRace, ...): it carries running impact.';
COMMENT ON COLUMN marts.fct_activities.peak_force_bw IS 'Peak vertical ground reaction force per step, body weights (see impact_model): from contact and flight time (spring-mass model), else the athlete''s typical measured value, else 2.5. NULL without running.';
COMMENT ON COLUMN marts.fct_activities.impact_model IS 'Where peak_force_bw comes from: measured (this run''s running dynamics), athlete_typical (median of the athlete''s measured runs: the last 90 days within 0.5 m/s, else all), default (2.5 BW). NULL without running.';
COMMENT ON COLUMN marts.fct_activities.downhill_factor IS 'Multiplier for the impact peak of downhill running: 1 + 0.5 x 0.06 x downhill slope in degrees (capped at 9; Gottschall & Kram 2005).';
COMMENT ON COLUMN marts.fct_activities.impact_load_kbw IS 'Mechanical load, kBW (thousands of body-weight steps): steps x peak force x downhill factor / 1000 for workouts that include running, plus the knee load of any strength sets; else 0.';
COMMENT ON COLUMN marts.fct_activities.strength_volume_load_kg IS 'Sum of repetitions x weight of the active sets, kg.';
COMMENT ON COLUMN marts.fct_activities.strength_sets IS 'Active sets.';
COMMENT ON COLUMN marts.fct_activities.hard_sets IS 'Hard sets (see marts.fct_strength_sets.is_hard_set).';
COMMENT ON COLUMN marts.fct_activities.is_cadence_implausible IS 'Doubling the source cadence gave over 230 steps/min: the source already gave steps (used halved).';
COMMENT ON COLUMN marts.fct_activities.data_quality_notes IS 'What was estimated or is doubtful about this row.';
COMMENT ON COLUMN marts.fct_activities.recorded_rpe_source IS 'With effort_source recorded_rpe, where the RPE comes from: fit_workout_rpe, strava_perceived_exertion or app_set_rpe (mean of the logged RPEs of a lifting app''s working sets); else NULL.';
