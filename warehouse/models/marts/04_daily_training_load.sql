-- grain: one row per athlete per calendar day, from the first workout to the as-of date (rest days as zeros)
-- sums of measured values are exact and independent of the order rows arrive in (so a rebuild
-- gives the same bits on any number of threads): each value is summed as an integer count of
-- 1e-12 units, sum(round(1e12 * x)::HUGEINT) / 1e12 (cheaper than an ordered sum)
CREATE OR REPLACE TABLE marts.daily_training_load AS
WITH RECURSIVE acts AS (
    SELECT * FROM marts.fct_activities
),
set_days AS (
    SELECT athlete_id, local_date,
           count(*) FILTER (WHERE is_hard_set) AS hard_sets,
           count(*) FILTER (WHERE is_hard_set AND body_region = 'lower') AS hard_sets_lower,
           count(*) FILTER (WHERE is_hard_set AND body_region = 'upper') AS hard_sets_upper,
           count(*) FILTER (WHERE is_hard_set AND body_region = 'core') AS hard_sets_core,
           count(*) FILTER (WHERE is_hard_set AND lower_pattern = 'knee') AS hard_sets_knee,
           count(*) FILTER (WHERE is_hard_set AND lower_pattern = 'hip') AS hard_sets_hip,
           sum(round(1e12 * knee_load_kbw)::HUGEINT) / 1e12 AS strength_knee_load_kbw
    FROM marts.fct_strength_sets GROUP BY ALL
),
bounds AS (
    SELECT athlete_id, min(local_date) AS first_date FROM acts GROUP BY 1
),
spine AS (
    SELECT athlete_id, d::DATE AS date,
           row_number() OVER (PARTITION BY athlete_id ORDER BY d)::INTEGER AS day_number
    FROM (SELECT athlete_id, unnest(generate_series(first_date, getvariable('as_of')::DATE, INTERVAL 1 DAY)) AS d
          FROM bounds WHERE first_date <= getvariable('as_of')::DATE)
),
act_days AS (
    SELECT athlete_id, local_date,
           sum(round(1e12 * distance_m)::HUGEINT) FILTER (WHERE includes_running) / 1e12 AS run_distance_m,
           count(*) FILTER (WHERE sport_group = 'run') AS run_count,
           sum(round(1e12 * moving_time_s)::HUGEINT) FILTER (WHERE sport_group = 'run') / 1e12 AS run_time_s,
           sum(round(1e12 * impact_load_kbw)::HUGEINT) FILTER (WHERE includes_running) / 1e12 AS run_impact_kbw,
           sum(round(1e12 * strength_volume_load_kg)::HUGEINT) / 1e12 AS strength_volume_load_kg,
           count(*) FILTER (WHERE sport_group = 'strength') AS strength_sessions,
           sum(round(1e12 * moving_time_s)::HUGEINT) FILTER (WHERE sport_group = 'strength') / 1e12 AS strength_time_s,
           sum(round(1e12 * session_load_au)::HUGEINT) FILTER (WHERE sport_group = 'run') / 1e12 AS run_session_load_au,
           sum(round(1e12 * session_load_au)::HUGEINT) FILTER (WHERE sport_group = 'strength') / 1e12 AS strength_session_load_au,
           sum(round(1e12 * session_load_au)::HUGEINT) FILTER (WHERE sport_group = 'other') / 1e12 AS other_session_load_au,
           sum(round(1e12 * impact_load_kbw)::HUGEINT) / 1e12 AS impact_load_kbw,
           count(*) AS workouts
    FROM acts GROUP BY ALL
),
mass AS (
    SELECT * FROM intermediate.int_body_mass
),
days AS (
    SELECT
        s.athlete_id, s.date, s.day_number,
        m.body_mass_kg,
        m.source AS body_mass_source,
        coalesce(a.run_distance_m, 0) AS run_distance_m,
        coalesce(a.run_count, 0)::INTEGER AS run_count,
        coalesce(a.run_time_s, 0) AS run_time_s,
        coalesce(a.run_impact_kbw, 0) AS run_impact_kbw,
        coalesce(t.strength_knee_load_kbw, 0) AS strength_knee_load_kbw,
        coalesce(a.impact_load_kbw, 0) AS impact_load_kbw,
        coalesce(a.strength_volume_load_kg, 0) AS strength_volume_load_kg,
        coalesce(a.strength_sessions, 0)::INTEGER AS strength_sessions,
        coalesce(a.strength_time_s, 0) AS strength_time_s,
        coalesce(t.hard_sets, 0)::INTEGER AS hard_sets,
        coalesce(t.hard_sets_lower, 0)::INTEGER AS hard_sets_lower,
        coalesce(t.hard_sets_upper, 0)::INTEGER AS hard_sets_upper,
        coalesce(t.hard_sets_core, 0)::INTEGER AS hard_sets_core,
        coalesce(t.hard_sets_knee, 0)::INTEGER AS hard_sets_knee,
        coalesce(t.hard_sets_hip, 0)::INTEGER AS hard_sets_hip,
        coalesce(a.run_session_load_au, 0) AS run_session_load_au,
        coalesce(a.strength_session_load_au, 0) AS strength_session_load_au,
        coalesce(a.other_session_load_au, 0) AS other_session_load_au,
        coalesce(a.run_session_load_au, 0) + coalesce(a.strength_session_load_au, 0)
            + coalesce(a.other_session_load_au, 0) AS total_session_load_au,
        coalesce(a.workouts, 0) AS workouts
    FROM spine s
    LEFT JOIN act_days a ON a.athlete_id = s.athlete_id AND a.local_date = s.date
    LEFT JOIN set_days t ON t.athlete_id = s.athlete_id AND t.local_date = s.date
    ASOF LEFT JOIN mass m ON m.athlete_id = s.athlete_id AND s.date >= m.valid_from
),
-- the EWMAs' value on the day before the first workout: the mean daily load of the athlete's first
-- 28 days (rest days 0; fewer days when the history is shorter), not 0
seeds AS (
    SELECT athlete_id, avg(impact_load_kbw ORDER BY day_number) AS seed_impact_kbw,
           avg(total_session_load_au ORDER BY day_number) AS seed_load_au
    FROM days WHERE day_number <= 28 GROUP BY 1
),
-- E_t = lambda x_t + (1 - lambda) E_{t-1}, E_0 = the seed:
--   impact acute/chronic: lambda = 2 / (N + 1), N = 7 and 28 (Williams 2017)
--   fitness / fatigue: lambda = 1 - exp(-1 / tau), tau = 42 and 7 days (Banister; GoldenCheetah PMC)
ewma(athlete_id, day_number, acute, chronic, fitness, fatigue) AS (
    SELECT d.athlete_id, d.day_number,
           (2.0 / 8) * d.impact_load_kbw + (1 - 2.0 / 8) * s.seed_impact_kbw,
           (2.0 / 29) * d.impact_load_kbw + (1 - 2.0 / 29) * s.seed_impact_kbw,
           (1 - exp(-1 / 42.0)) * d.total_session_load_au + exp(-1 / 42.0) * s.seed_load_au,
           (1 - exp(-1 / 7.0)) * d.total_session_load_au + exp(-1 / 7.0) * s.seed_load_au
    FROM days d JOIN seeds s USING (athlete_id) WHERE d.day_number = 1
    UNION ALL
    SELECT d.athlete_id, d.day_number,
           (2.0 / 8) * d.impact_load_kbw + (1 - 2.0 / 8) * e.acute,
           (2.0 / 29) * d.impact_load_kbw + (1 - 2.0 / 29) * e.chronic,
           (1 - exp(-1 / 42.0)) * d.total_session_load_au + exp(-1 / 42.0) * e.fitness,
           (1 - exp(-1 / 7.0)) * d.total_session_load_au + exp(-1 / 7.0) * e.fatigue
    FROM ewma e JOIN days d ON d.athlete_id = e.athlete_id AND d.day_number = e.day_number + 1
),
rolling AS (
    SELECT d.*, e.acute, e.chronic, e.fitness, e.fatigue,
           avg(d.total_session_load_au) OVER w7 AS mean_7d,
           stddev_pop(d.total_session_load_au) OVER w7 AS sd_7d,
           sum(d.total_session_load_au) OVER w7 AS load_7d,
           lag(e.fitness, 1, 0) OVER (PARTITION BY d.athlete_id ORDER BY d.day_number) AS fitness_yesterday,
           lag(e.fatigue, 1, 0) OVER (PARTITION BY d.athlete_id ORDER BY d.day_number) AS fatigue_yesterday,
           max(CASE WHEN d.workouts > 0 THEN d.date END) OVER (PARTITION BY d.athlete_id ORDER BY d.day_number
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS previous_workout_date
    FROM days d JOIN ewma e USING (athlete_id, day_number)
    WINDOW w7 AS (PARTITION BY d.athlete_id ORDER BY d.day_number ROWS BETWEEN 6 PRECEDING AND CURRENT ROW)
),
-- a return after a break: the first workout after >= 14 days in a row without any workout; the
-- warm-up (the chronic window, 28 days) starts again on that day
breaks AS (
    SELECT *,
           CASE WHEN workouts > 0 AND date - previous_workout_date - 1 >= 14
                THEN (date - previous_workout_date - 1)::INTEGER END AS break_days
    FROM rolling
),
warmup AS (
    SELECT *,
           break_days IS NOT NULL AS return_after_break,
           day_number <= 28
               OR coalesce(date - max(CASE WHEN break_days IS NOT NULL THEN date END)
                                  OVER (PARTITION BY athlete_id ORDER BY day_number) < 28, false) AS is_warmup
    FROM breaks
),
final AS (
    SELECT
        athlete_id, date, day_number, body_mass_kg, body_mass_source,
        run_distance_m, run_distance_m / 1000.0 AS run_distance_km, run_count, run_time_s, run_impact_kbw,
        strength_knee_load_kbw, impact_load_kbw, strength_volume_load_kg, strength_sessions, strength_time_s,
        hard_sets, hard_sets_lower, hard_sets_upper, hard_sets_core, hard_sets_knee, hard_sets_hip,
        run_session_load_au, strength_session_load_au, other_session_load_au, total_session_load_au,
        acute AS acute_impact_kbw,
        chronic AS chronic_impact_kbw,
        CASE WHEN day_number >= 28 AND chronic > 0 THEN acute / chronic END AS acwr,
        fitness AS fitness_au,
        fatigue AS fatigue_au,
        fitness_yesterday - fatigue_yesterday AS form_au,
        CASE WHEN day_number >= 7 AND sd_7d > 0 THEN mean_7d / sd_7d END AS monotony_7d,
        CASE WHEN day_number >= 7 AND sd_7d > 0 THEN load_7d * mean_7d / sd_7d END AS strain_7d,
        is_warmup,
        return_after_break,
        break_days
    FROM warmup
)
SELECT * FROM final ORDER BY athlete_id, date;
COMMENT ON TABLE marts.daily_training_load IS 'One row per athlete per calendar day from the first workout to the as-of date, rest days as zeros, with the trend metrics (docs/metrics.md).';
COMMENT ON COLUMN marts.daily_training_load.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN marts.daily_training_load.date IS 'Local calendar day.';
COMMENT ON COLUMN marts.daily_training_load.day_number IS 'Day 1 is the day of the first workout.';
COMMENT ON COLUMN marts.daily_training_load.body_mass_kg IS 'Body mass in force that day, kg (intermediate.int_body_mass: the settings, else the scale, else 70 kg).';
COMMENT ON COLUMN marts.daily_training_load.body_mass_source IS 'Where body_mass_kg comes from: settings, scale (FIT weight files), garmin_connect (Garmin Connect weigh-ins), hevy (Hevy body measurements) or default (70 kg).';
COMMENT ON COLUMN marts.daily_training_load.run_distance_m IS 'Running distance, m.';
COMMENT ON COLUMN marts.daily_training_load.run_distance_km IS 'Running distance, km (display).';
COMMENT ON COLUMN marts.daily_training_load.run_count IS 'Runs.';
COMMENT ON COLUMN marts.daily_training_load.run_time_s IS 'Running moving time, s.';
COMMENT ON COLUMN marts.daily_training_load.run_impact_kbw IS 'Running impact load, kBW.';
COMMENT ON COLUMN marts.daily_training_load.strength_knee_load_kbw IS 'Knee load of strength sets, kBW (same axis as running impact).';
COMMENT ON COLUMN marts.daily_training_load.impact_load_kbw IS 'Total mechanical load: running impact + strength knee load, kBW.';
COMMENT ON COLUMN marts.daily_training_load.strength_volume_load_kg IS 'Strength volume load (reps x weight), kg.';
COMMENT ON COLUMN marts.daily_training_load.strength_sessions IS 'Strength sessions.';
COMMENT ON COLUMN marts.daily_training_load.strength_time_s IS 'Strength training time, s.';
COMMENT ON COLUMN marts.daily_training_load.hard_sets IS 'Hard sets, all regions.';
COMMENT ON COLUMN marts.daily_training_load.hard_sets_lower IS 'Hard sets, lower body.';
COMMENT ON COLUMN marts.daily_training_load.hard_sets_upper IS 'Hard sets, upper body.';
COMMENT ON COLUMN marts.daily_training_load.hard_sets_core IS 'Hard sets, core.';
COMMENT ON COLUMN marts.daily_training_load.hard_sets_knee IS 'Hard sets, knee-dominant (anterior) lower body.';
COMMENT ON COLUMN marts.daily_training_load.hard_sets_hip IS 'Hard sets, hip-dominant (posterior) lower body.';
COMMENT ON COLUMN marts.daily_training_load.run_session_load_au IS 'Session load of runs, AU.';
COMMENT ON COLUMN marts.daily_training_load.strength_session_load_au IS 'Session load of strength sessions, AU.';
COMMENT ON COLUMN marts.daily_training_load.other_session_load_au IS 'Session load of other workouts, AU.';
COMMENT ON COLUMN marts.daily_training_load.total_session_load_au IS 'Total session load, AU.';
COMMENT ON COLUMN marts.daily_training_load.acute_impact_kbw IS 'Acute impact load: EWMA of impact_load_kbw, lambda = 2/(7+1), seeded on the day before the first workout with the mean daily impact load of the first 28 days, kBW.';
COMMENT ON COLUMN marts.daily_training_load.chronic_impact_kbw IS 'Chronic impact load: EWMA, lambda = 2/(28+1), seeded like acute_impact_kbw, kBW.';
COMMENT ON COLUMN marts.daily_training_load.acwr IS 'Acute:chronic workload ratio of impact load (descriptive only); NULL before day 28.';
COMMENT ON COLUMN marts.daily_training_load.fitness_au IS 'Fitness (chronic training load): EWMA of total session load, tau 42 days, lambda = 1 - exp(-1/42), seeded with the mean daily session load of the first 28 days, AU.';
COMMENT ON COLUMN marts.daily_training_load.fatigue_au IS 'Fatigue (acute training load): EWMA of total session load, tau 7 days, seeded like fitness_au, AU.';
COMMENT ON COLUMN marts.daily_training_load.form_au IS 'Form: yesterday''s fitness minus yesterday''s fatigue, AU.';
COMMENT ON COLUMN marts.daily_training_load.monotony_7d IS 'Monotony (Foster 1998): mean / population standard deviation of the last 7 days'' total session load (rest days 0); NULL before day 7 or when the deviation is 0.';
COMMENT ON COLUMN marts.daily_training_load.strain_7d IS 'Strain: last 7 days'' total session load x monotony_7d, AU.';
COMMENT ON COLUMN marts.daily_training_load.is_warmup IS 'True while the trends rest on less than the chronic window (28 days): the first 28 days of the athlete''s history, and the 28 days from a return after a break. No flag at all is dated in the first 28 days; ACWR and weekly-ramp flags wait for the end of a warm-up after a break.';
COMMENT ON COLUMN marts.daily_training_load.return_after_break IS 'True on the first workout after 14 or more days in a row without any workout (also a return_after_break flag in marts.training_flags).';
COMMENT ON COLUMN marts.daily_training_load.break_days IS 'Days without any workout before this return (NULL unless return_after_break).';
