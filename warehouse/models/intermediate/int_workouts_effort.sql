-- grain: one row per workout (intermediate.int_workouts): the recorded RPE and where it comes from (the
-- watch, Strava, or a lifting app's set RPEs), and the effort evidence other than a recorded RPE or the
-- sets: heart-rate TRIMP and the device's own load, each brought onto the session-RPE scale (AU = RPE x
-- minutes). marts.fct_activities picks the best evidence (docs/metrics.md).
--
-- TRIMP (Banister 1991, Morton et al. 1990): minutes x mean over the per-second samples of
--   y(x) = a x exp(b x), x = (HR - rest) / (max - rest) clipped to 0-1;
--   a, b = 0.64, 1.92 (male), 0.86, 1.67 (female), 0.75, 1.795 (unspecified: the mean);
--   without per-second heart rate, x of the average heart rate.
-- Max HR: the settings, else the 99.5th percentile of the athlete's per-second samples (at least
-- 3600 of them), else the highest session maximum; resting HR: the settings, else 60 bpm.
-- Calibration: load = k x TRIMP; k per athlete = sum(RPE x minutes) / sum(TRIMP) over the
-- athlete's endurance workouts that have both (at least 5), else 5 / y(0.70): 60 minutes at 70 %
-- of the heart-rate reserve = RPE 5 = 300 AU. Device load likewise, fixed k = 3.0.
CREATE OR REPLACE TABLE intermediate.int_workouts_effort AS
WITH workouts AS (
    -- up to the as-of date: estimates and calibrations use nothing later
    SELECT *, coalesce(moving_s, elapsed_s, 0) / 60.0 AS minutes FROM intermediate.int_workouts
    WHERE local_date <= getvariable('as_of')
),
athletes AS (
    SELECT * FROM staging.stg_settings__athletes
),
histograms AS (
    -- of the workouts up to the as-of date
    SELECT c.rowid AS hist_id, c.* FROM intermediate.int_heart_rate_samples c
    SEMI JOIN workouts w ON w.athlete_id = c.athlete_id AND w.fit_file_sha256 = c.file_sha256
                        AND w.fit_session_index = c.session_index
    WHERE c.n_samples > 0 AND c.source = 'fit'
    UNION ALL
    SELECT c.rowid AS hist_id, c.* FROM intermediate.int_heart_rate_samples c
    SEMI JOIN workouts w ON w.athlete_id = c.athlete_id AND w.strava_activity_id = c.activity_id
    WHERE c.n_samples > 0 AND c.source = 'strava'
),
samples AS (
    SELECT hist_id, athlete_id, unnest(heart_rate_bpm) AS heart_rate_bpm, unnest(samples) AS samples FROM histograms
),
athlete_samples AS (
    -- only for athletes whose settings give no maximum heart rate
    SELECT s.athlete_id, s.heart_rate_bpm, sum(s.samples) AS n
    FROM samples s SEMI JOIN athletes a ON a.athlete_id = s.athlete_id AND a.max_hr_bpm IS NULL
    GROUP BY ALL
),
athlete_p995 AS (
    -- the 99.5th percentile of every per-second sample of the athlete (the histogram's cumulative share)
    SELECT athlete_id, min(heart_rate_bpm) FILTER (WHERE cum >= 0.995 * total) AS p995_bpm, max(total) AS total
    FROM (SELECT athlete_id, heart_rate_bpm,
                 sum(n) OVER (PARTITION BY athlete_id ORDER BY heart_rate_bpm) AS cum,
                 sum(n) OVER (PARTITION BY athlete_id) AS total
          FROM athlete_samples)
    GROUP BY athlete_id
),
session_max AS (
    SELECT athlete_id, max(max_heart_rate_bpm) AS max_bpm FROM workouts
    WHERE max_heart_rate_bpm BETWEEN 100 AND 230 GROUP BY 1
),
params AS (
    SELECT
        a.athlete_id,
        coalesce(a.max_hr_bpm, CASE WHEN p.total >= 3600 THEN p.p995_bpm END, s.max_bpm)::DOUBLE AS max_hr_bpm,
        CASE WHEN a.max_hr_bpm IS NOT NULL THEN 'settings'
             WHEN p.total >= 3600 THEN 'estimated: 99.5th percentile of per-second heart rate'
             WHEN s.max_bpm IS NOT NULL THEN 'estimated: highest session maximum' END AS max_hr_source,
        coalesce(a.resting_hr_bpm, 60)::DOUBLE AS resting_hr_bpm,
        CASE WHEN a.resting_hr_bpm IS NOT NULL THEN 'settings' ELSE 'default 60 bpm' END AS resting_hr_source,
        (CASE a.sex WHEN 'male' THEN 0.64 WHEN 'female' THEN 0.86 ELSE 0.75 END)::DOUBLE AS trimp_a,
        (CASE a.sex WHEN 'male' THEN 1.92 WHEN 'female' THEN 1.67 ELSE 1.795 END)::DOUBLE AS trimp_b
    FROM athletes a
    LEFT JOIN athlete_p995 p USING (athlete_id)
    LEFT JOIN session_max s USING (athlete_id)
),
usable AS (
    -- a heart-rate reserve under 20 beats/min is not a usable scale
    SELECT *, trimp_a * 0.7 * exp(trimp_b * 0.7) AS y_ref FROM params WHERE max_hr_bpm - resting_hr_bpm >= 20
),
sample_x AS (
    -- the athlete's parameters joined per histogram, then unnested (cheaper than per sample)
    SELECT hist_id, trimp_a, trimp_b, samples,
           least(greatest((heart_rate_bpm - resting_hr_bpm) / (max_hr_bpm - resting_hr_bpm), 0.0), 1.0) AS x
    FROM (SELECT h.hist_id, u.trimp_a, u.trimp_b, u.resting_hr_bpm, u.max_hr_bpm,
                 unnest(h.heart_rate_bpm) AS heart_rate_bpm, unnest(h.samples)::DOUBLE AS samples
          FROM histograms h JOIN usable u USING (athlete_id))
),
per_second AS MATERIALIZED (
    -- mean y(x) over the samples of each FIT session / Strava activity
    SELECT h.athlete_id, h.source, h.file_sha256, h.session_index, h.activity_id, y.mean_y, h.n_samples
    -- (sums exact and order-free: integer counts of 1e-12, so a rebuild gives the same bits)
    FROM (SELECT hist_id, (sum(round(1e12 * samples * trimp_a * x * exp(trimp_b * x))::HUGEINT) / 1e12) / sum(samples) AS mean_y
          FROM sample_x GROUP BY hist_id) y
    JOIN histograms h USING (hist_id)
),
workout_x AS (
    SELECT w.*, u.trimp_a, u.trimp_b, u.y_ref,
           CASE WHEN w.avg_heart_rate_bpm BETWEEN 25 AND 250
                THEN least(greatest((w.avg_heart_rate_bpm - u.resting_hr_bpm) / (u.max_hr_bpm - u.resting_hr_bpm), 0.0), 1.0)
           END AS x_avg
    FROM workouts w LEFT JOIN usable u USING (athlete_id)
),
trimp AS (
    SELECT
        w.athlete_id, w.activity_key, w.sport_group, w.minutes, w.rpe, w.rpe_source,
        coalesce(f.mean_y, st.mean_y, w.trimp_a * w.x_avg * exp(w.trimp_b * w.x_avg)) AS mean_y,
        CASE WHEN f.mean_y IS NOT NULL THEN 'per-second (FIT)' WHEN st.mean_y IS NOT NULL THEN 'per-second (Strava)'
             WHEN w.x_avg IS NOT NULL AND w.trimp_a IS NOT NULL THEN 'average' END AS heart_rate_data,
        coalesce(f.n_samples, st.n_samples, 0) AS heart_rate_samples,
        w.y_ref
    FROM workout_x w
    LEFT JOIN per_second f ON f.source = 'fit' AND f.athlete_id = w.athlete_id
     AND f.file_sha256 = w.fit_file_sha256 AND f.session_index = w.fit_session_index
    LEFT JOIN per_second st ON st.source = 'strava' AND st.athlete_id = w.athlete_id AND st.activity_id = w.strava_activity_id
),
device AS (
    -- FIT training_load_peak, read from raw.fit_sessions: the staging view would count every
    -- session's sets for one column (the workouts are of usable files already)
    SELECT w.athlete_id, w.activity_key, s.training_load_peak AS device_load
    FROM workouts w
    JOIN raw.fit_sessions s
      ON s.athlete_id = w.athlete_id AND s.file_sha256 = w.fit_file_sha256 AND s.session_index = w.fit_session_index
    WHERE s.training_load_peak > 0
),
evidence AS MATERIALIZED (
    SELECT t.*, t.minutes * t.mean_y AS trimp, d.device_load FROM trimp t LEFT JOIN device d USING (athlete_id, activity_key)
),
calibration AS (
    -- per athlete, over the workouts that have a recorded RPE and the other figure (>= 5 of them);
    -- exact sums (integer counts of 1e-12), so the ratio has the same bits on every rebuild
    SELECT athlete_id,
           CASE WHEN count(*) FILTER (WHERE sport_group <> 'strength' AND trimp > 0) >= 5
                THEN sum(round(1e12 * rpe * minutes)::HUGEINT) FILTER (WHERE sport_group <> 'strength' AND trimp > 0)
                     / sum(round(1e12 * trimp)::HUGEINT) FILTER (WHERE sport_group <> 'strength' AND trimp > 0) END AS k_heart_rate,
           CASE WHEN count(*) FILTER (WHERE device_load > 0) >= 5
                THEN sum(round(1e12 * rpe * minutes)::HUGEINT) FILTER (WHERE device_load > 0)
                     / sum(round(1e12 * device_load)::HUGEINT) FILTER (WHERE device_load > 0) END
               AS k_device
    -- (session RPEs recorded as such: not one a lifting app's set RPEs give)
    FROM evidence WHERE rpe IS NOT NULL AND minutes > 0 AND rpe_source IS DISTINCT FROM 'app_set_rpe' GROUP BY 1
),
final AS (
    SELECT
        e.athlete_id,
        e.activity_key,
        e.rpe AS recorded_rpe,
        e.rpe_source AS recorded_rpe_source,
        p.max_hr_bpm,
        p.max_hr_source,
        p.resting_hr_bpm,
        p.resting_hr_source,
        e.heart_rate_data,
        e.heart_rate_samples,
        e.trimp,
        CASE WHEN e.trimp IS NOT NULL THEN coalesce(c.k_heart_rate, 5 / e.y_ref) * e.trimp END AS heart_rate_load_au,
        CASE WHEN e.trimp IS NULL THEN NULL WHEN c.k_heart_rate IS NOT NULL THEN 'athlete fit' ELSE 'fixed' END
            AS heart_rate_calibration,
        e.device_load,
        e.device_load * coalesce(c.k_device, 3.0) AS device_load_au,
        CASE WHEN e.device_load IS NULL THEN NULL WHEN c.k_device IS NOT NULL THEN 'athlete fit' ELSE 'fixed' END
            AS device_load_calibration
    FROM evidence e
    LEFT JOIN params p USING (athlete_id)
    LEFT JOIN calibration c USING (athlete_id)
)
SELECT * FROM final;
COMMENT ON TABLE intermediate.int_workouts_effort IS 'One row per workout: heart-rate TRIMP and the device''s load, each on the session-RPE scale (formulas in docs/metrics.md).';
COMMENT ON COLUMN intermediate.int_workouts_effort.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN intermediate.int_workouts_effort.activity_key IS 'The workout (intermediate.int_workouts).';
COMMENT ON COLUMN intermediate.int_workouts_effort.recorded_rpe IS 'Recorded session RPE 0-10, the first evidence of effort (intermediate.int_workouts.rpe): NULL when none.';
COMMENT ON COLUMN intermediate.int_workouts_effort.recorded_rpe_source IS 'fit_workout_rpe, strava_perceived_exertion or app_set_rpe (mean of the logged RPEs of a lifting app''s working sets, docs/metrics.md); with a recorded RPE, marts.fct_activities.effort_source is recorded_rpe.';
COMMENT ON COLUMN intermediate.int_workouts_effort.max_hr_bpm IS 'Maximum heart rate used, beats/min.';
COMMENT ON COLUMN intermediate.int_workouts_effort.max_hr_source IS 'settings, or how it was estimated from the data.';
COMMENT ON COLUMN intermediate.int_workouts_effort.resting_hr_bpm IS 'Resting heart rate used, beats/min.';
COMMENT ON COLUMN intermediate.int_workouts_effort.resting_hr_source IS 'settings or default 60 bpm.';
COMMENT ON COLUMN intermediate.int_workouts_effort.heart_rate_data IS 'per-second (FIT), per-second (Strava), average, or NULL (no heart rate, or no usable max/resting heart rate).';
COMMENT ON COLUMN intermediate.int_workouts_effort.heart_rate_samples IS 'Per-second heart-rate samples used.';
COMMENT ON COLUMN intermediate.int_workouts_effort.trimp IS 'Banister TRIMP: minutes x mean of a x exp(b x) over the samples, x the fraction of the heart-rate reserve.';
COMMENT ON COLUMN intermediate.int_workouts_effort.heart_rate_load_au IS 'TRIMP on the session-RPE scale (calibrated), AU.';
COMMENT ON COLUMN intermediate.int_workouts_effort.heart_rate_calibration IS 'athlete fit (sum RPE x minutes / sum TRIMP over >= 5 workouts with both) or fixed (60 min at 70 % HRR = 300 AU).';
COMMENT ON COLUMN intermediate.int_workouts_effort.device_load IS 'The device''s own training load (FIT training_load_peak), dimensionless.';
COMMENT ON COLUMN intermediate.int_workouts_effort.device_load_au IS 'Device load on the session-RPE scale (calibrated), AU.';
COMMENT ON COLUMN intermediate.int_workouts_effort.device_load_calibration IS 'athlete fit (over >= 5 workouts with a recorded RPE and a device load) or fixed (x 3.0).';
