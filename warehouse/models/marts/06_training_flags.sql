-- grain: one row per athlete, date and flag (a run or a week can raise one flag of each kind)
CREATE OR REPLACE TABLE marts.training_flags AS
WITH runs AS (
    SELECT athlete_id, activity_key, local_date, distance_m, avg_cadence_spm, is_cadence_implausible
    FROM marts.fct_activities WHERE sport_group = 'run'
),
longest_before AS (
    SELECT r.athlete_id, r.activity_key, r.local_date, r.distance_m,
           max(r.distance_m) OVER (PARTITION BY r.athlete_id ORDER BY r.local_date
                                   RANGE BETWEEN INTERVAL 30 DAYS PRECEDING AND INTERVAL 1 DAYS PRECEDING) AS longest_30d_m
    FROM runs r
),
long_run AS (
    SELECT athlete_id, local_date AS date, 'long_run_spike' AS flag,
           CASE WHEN distance_m > 1.3 * longest_30d_m THEN 'warning' ELSE 'info' END AS severity,
           distance_m / longest_30d_m * 100 AS value,
           CASE WHEN distance_m > 2.0 * longest_30d_m THEN 200 WHEN distance_m > 1.3 * longest_30d_m THEN 130 ELSE 110 END AS threshold,
           longest_30d_m AS baseline,
           activity_key,
           printf('A %s run: %.0f%% of the longest run of the previous 30 days (%s); single-run spikes are the best-supported running-injury signal (Frandsen 2025).',
                  fmt_distance(distance_m), distance_m / longest_30d_m * 100, fmt_distance(longest_30d_m)) AS explanation
    FROM longest_before WHERE longest_30d_m > 0 AND distance_m > 1.1 * longest_30d_m
),
weeks AS (
    SELECT *, lag(run_distance_m) OVER (PARTITION BY athlete_id ORDER BY week_start) AS prev_run_distance_m
    FROM marts.weekly_training_balance
),
ramp AS (
    SELECT athlete_id, least(week_start + 6, getvariable('as_of')::DATE) AS date, 'weekly_distance_ramp' AS flag,
           CASE WHEN mileage_ramp_pct > 30 THEN 'warning' ELSE 'info' END AS severity,
           mileage_ramp_pct AS value, CASE WHEN mileage_ramp_pct > 30 THEN 30 ELSE 10 END AS threshold,
           prev_run_distance_m AS baseline, NULL AS activity_key,
           printf('Weekly running distance up %.0f%% (%s after %s); above 30%% a week is linked to more injuries in novice runners (Nielsen 2014).',
                  mileage_ramp_pct, fmt_distance(run_distance_m), fmt_distance(prev_run_distance_m)) AS explanation
    FROM weeks WHERE mileage_ramp_pct > 10
),
acwr_days AS (
    SELECT athlete_id, date, acwr,
           CASE WHEN acwr > 1.5 THEN 'high' WHEN acwr < 0.8 THEN 'low' END AS band,
           lag(CASE WHEN acwr > 1.5 THEN 'high' WHEN acwr < 0.8 THEN 'low' END)
               OVER (PARTITION BY athlete_id ORDER BY date) AS prev_band
    FROM marts.daily_training_load WHERE acwr IS NOT NULL
),
acwr AS (
    -- only the day the ratio leaves the 0.8-1.5 band, not every day it stays out
    SELECT athlete_id, date, 'acwr_' || band AS flag, 'info' AS severity, acwr AS value,
           CASE WHEN band = 'high' THEN 1.5 ELSE 0.8 END AS threshold, NULL AS baseline, NULL AS activity_key,
           printf('Acute:chronic impact ratio %.2f, %s the 0.8-1.5 band. Descriptive only: its predictive value is disputed (Impellizzeri 2020).',
                  acwr, CASE WHEN band = 'high' THEN 'above' ELSE 'below' END) AS explanation
    FROM acwr_days WHERE band IS NOT NULL AND band IS DISTINCT FROM prev_band
),
monotony AS (
    SELECT athlete_id, least(week_start + 6, getvariable('as_of')::DATE) AS date, 'monotony_high' AS flag,
           'warning' AS severity, monotony AS value, 2.0 AS threshold, NULL AS baseline, NULL AS activity_key,
           printf('Training monotony %.1f this week (over 2.0): similar load every day with little rest (Foster 1998).', monotony) AS explanation
    FROM marts.weekly_training_balance WHERE monotony > 2.0
),
balance AS (
    SELECT athlete_id, least(week_start + 6, getvariable('as_of')::DATE) AS date, 'posterior_anterior_low' AS flag,
           'warning' AS severity, posterior_anterior_ratio_4w AS value, 0.5 AS threshold, NULL AS baseline,
           NULL AS activity_key,
           printf('Hip-dominant to knee-dominant hard sets %.2f over 4 weeks (under 0.5): hamstrings get little work next to the quadriceps.',
                  posterior_anterior_ratio_4w) AS explanation
    FROM marts.weekly_training_balance WHERE posterior_anterior_ratio_4w < 0.5
),
cadence AS (
    SELECT athlete_id, local_date AS date, 'cadence_implausible' AS flag, 'info' AS severity,
           avg_cadence_spm * 2 AS value, 230 AS threshold, NULL AS baseline, activity_key,
           printf('Doubling the reported cadence gives %.0f steps/min: the source already gave steps, so it was used as is.',
                  avg_cadence_spm * 2) AS explanation
    FROM runs WHERE is_cadence_implausible
),
unioned AS (
    SELECT * FROM long_run UNION ALL BY NAME SELECT * FROM ramp UNION ALL BY NAME SELECT * FROM acwr
    UNION ALL BY NAME SELECT * FROM monotony UNION ALL BY NAME SELECT * FROM balance
    UNION ALL BY NAME SELECT * FROM cadence
),
final AS (
    SELECT athlete_id, date, flag, severity, value::DOUBLE AS value, threshold::DOUBLE AS threshold,
           baseline::DOUBLE AS baseline, activity_key::VARCHAR AS activity_key, explanation
    FROM unioned WHERE date <= getvariable('as_of')::DATE
)
SELECT * FROM final ORDER BY athlete_id, date, flag;
COMMENT ON TABLE marts.training_flags IS 'One row per athlete, date and flag: warnings a coach would recognise, each with the numbers behind it (thresholds and sources in docs/metrics.md).';
COMMENT ON COLUMN marts.training_flags.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN marts.training_flags.date IS 'Local date the flag belongs to (a run''s day, or the last day of a week).';
COMMENT ON COLUMN marts.training_flags.flag IS 'long_run_spike, weekly_distance_ramp, acwr_high, acwr_low, monotony_high, posterior_anterior_low, cadence_implausible.';
COMMENT ON COLUMN marts.training_flags.severity IS 'info or warning.';
COMMENT ON COLUMN marts.training_flags.value IS 'The number that raised the flag (%, ratio or steps/min as the flag says).';
COMMENT ON COLUMN marts.training_flags.threshold IS 'The threshold it crossed.';
COMMENT ON COLUMN marts.training_flags.baseline IS 'What it was compared with (the longest run of the previous 30 days, or the previous week''s distance, m), where it applies.';
COMMENT ON COLUMN marts.training_flags.activity_key IS 'The workout that raised it, for run flags.';
COMMENT ON COLUMN marts.training_flags.explanation IS 'One line for a person, in the display units of the settings.';

UPDATE marts.weekly_training_balance w SET flags_count = f.n
FROM (SELECT athlete_id, date_trunc('week', date)::DATE AS week_start, count(*) AS n
      FROM marts.training_flags GROUP BY ALL) f
WHERE w.athlete_id = f.athlete_id AND w.week_start = f.week_start;
