-- grain: one row per athlete, date and flag (a run or a week can raise one flag of each kind)
CREATE OR REPLACE TABLE marts.training_flags AS
WITH runs AS (
    SELECT athlete_id, activity_key, local_date, distance_m, avg_cadence_spm, is_cadence_implausible
    FROM marts.fct_activities WHERE sport_group = 'run'
),
history AS (
    -- day 1 = the athlete's first workout; no flag is dated within the first 28 days
    SELECT athlete_id, min(date) AS first_date FROM marts.daily_training_load GROUP BY 1
),
settings AS (
    SELECT athlete_id, acwr_flags FROM staging.stg_settings__athletes
),
races AS (
    SELECT athlete_id, race_date, name, taper_start FROM staging.stg_settings__races
),
longest_before AS (
    SELECT r.athlete_id, r.activity_key, r.local_date, r.distance_m,
           max(r.distance_m) OVER (PARTITION BY r.athlete_id ORDER BY r.local_date
                                   RANGE BETWEEN INTERVAL 30 DAYS PRECEDING AND INTERVAL 1 DAYS PRECEDING) AS longest_30d_m
    FROM runs r
),
-- Frandsen 2025: a run longer than 110 % of the longest run of the previous 30 days; small (10-30 %
-- more, HRR 1.64) and moderate (30-100 %, HRR 1.52) spikes: warning; large (> 100 %, HRR 2.28): alert.
-- Only with 30 days of history behind the run (the window must be able to hold the longest run).
long_run AS (
    SELECT l.athlete_id, l.local_date AS date, 'long_run_spike' AS flag,
           CASE WHEN l.distance_m > 2.0 * l.longest_30d_m THEN 'alert' ELSE 'warning' END AS severity,
           l.distance_m / l.longest_30d_m * 100 AS value,
           CASE WHEN l.distance_m > 2.0 * l.longest_30d_m THEN 200
                WHEN l.distance_m > 1.3 * l.longest_30d_m THEN 130 ELSE 110 END AS threshold,
           l.longest_30d_m AS baseline,
           l.activity_key,
           printf('A %s run: %.0f%% of the longest run of the previous 30 days (%s), a %s spike; single-run spikes are the best-supported running-injury signal (Frandsen 2025).',
                  fmt_distance(l.distance_m), l.distance_m / l.longest_30d_m * 100, fmt_distance(l.longest_30d_m),
                  CASE WHEN l.distance_m > 2.0 * l.longest_30d_m THEN 'large (over +100%)'
                       WHEN l.distance_m > 1.3 * l.longest_30d_m THEN 'moderate (+30-100%)'
                       ELSE 'small (+10-30%)' END) AS explanation
    FROM longest_before l JOIN history h USING (athlete_id)
    WHERE l.longest_30d_m > 0 AND l.distance_m > 1.1 * l.longest_30d_m AND l.local_date - h.first_date >= 30
),
days AS (
    SELECT athlete_id, date, acwr, is_warmup, return_after_break, break_days FROM marts.daily_training_load
),
weeks AS (
    SELECT *, lag(run_distance_m) OVER (PARTITION BY athlete_id ORDER BY week_start) AS prev_run_distance_m
    FROM marts.weekly_training_balance
),
-- weekly ramps: info only (no association with injury in Frandsen 2025; Nielsen 2014's 30 %), complete
-- weeks only (mileage_ramp_pct), and not while the trends warm up again after a break
ramp AS (
    SELECT w.athlete_id, w.week_start + 6 AS date, 'weekly_distance_ramp' AS flag, 'info' AS severity,
           w.mileage_ramp_pct AS value, 30 AS threshold, w.prev_run_distance_m AS baseline, NULL AS activity_key,
           printf('Weekly running distance up %.0f%% (%s after %s); weekly ramps are a weak injury signal next to single-run spikes (Nielsen 2014, Frandsen 2025).',
                  w.mileage_ramp_pct, fmt_distance(w.run_distance_m), fmt_distance(w.prev_run_distance_m)) AS explanation
    FROM weeks w JOIN days d ON d.athlete_id = w.athlete_id AND d.date = w.week_start + 6
    WHERE w.mileage_ramp_pct > 30 AND NOT d.is_warmup
),
-- ACWR flags only for athletes whose settings ask for them (flags.acwr), never in a warm-up
acwr_days AS (
    SELECT d.athlete_id, d.date, d.acwr,
           CASE WHEN d.acwr > 1.5 THEN 'high' WHEN d.acwr < 0.8 THEN 'low' END AS band,
           lag(CASE WHEN d.acwr > 1.5 THEN 'high' WHEN d.acwr < 0.8 THEN 'low' END)
               OVER (PARTITION BY d.athlete_id ORDER BY d.date) AS prev_band
    FROM days d JOIN settings s USING (athlete_id)
    WHERE s.acwr_flags AND d.acwr IS NOT NULL AND NOT d.is_warmup
),
acwr AS (
    -- only the day the ratio leaves the 0.8-1.5 band, not every day it stays out
    SELECT athlete_id, date, 'acwr_' || band AS flag, 'info' AS severity, acwr AS value,
           CASE WHEN band = 'high' THEN 1.5 ELSE 0.8 END AS threshold, NULL AS baseline, NULL AS activity_key,
           printf('Acute:chronic impact ratio %.2f, %s the 0.8-1.5 band. Descriptive only: its predictive value is disputed (Impellizzeri 2020).',
                  acwr, CASE WHEN band = 'high' THEN 'above' ELSE 'below' END) AS explanation
    FROM acwr_days a WHERE band IS NOT NULL AND band IS DISTINCT FROM prev_band
      -- a planned race's taper (taper_start .. race day) is meant to be low: no low-load flag
      AND NOT (band = 'low' AND EXISTS (SELECT 1 FROM races r WHERE r.athlete_id = a.athlete_id
                                        AND a.date BETWEEN r.taper_start AND r.race_date))
),
monotony AS (
    SELECT athlete_id, week_start + 6 AS date, 'monotony_high' AS flag,
           'warning' AS severity, monotony AS value, 2.0 AS threshold, NULL AS baseline, NULL AS activity_key,
           printf('Training monotony %.2f this week (over 2.0): similar load every day with little rest (Foster 1998).', monotony) AS explanation
    FROM marts.weekly_training_balance WHERE monotony > 2.0
),
balance AS (
    SELECT athlete_id, least(week_start + 6, getvariable('as_of')::DATE) AS date, 'posterior_anterior_low' AS flag,
           'warning' AS severity, posterior_anterior_ratio_4w AS value, 0.5 AS threshold, NULL AS baseline,
           NULL AS activity_key,
           printf('Posterior (hip hinge, knee flexion) to anterior (knee-dominant) hard sets %.2f over 4 weeks (under 0.5): hamstrings get little work next to the quadriceps.',
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
comeback AS (
    SELECT athlete_id, date, 'return_after_break' AS flag, 'info' AS severity, break_days AS value,
           14 AS threshold, NULL AS baseline, NULL AS activity_key,
           printf('First workout after %d days without any: the trends warm up again for 28 days (no ramp or ACWR flags meanwhile); build distance back gradually.',
                  break_days) AS explanation
    FROM days WHERE return_after_break
),
-- shoes past the upper end of their replacement range (marts.gear_mileage; default 500-800 km,
-- docs/metrics.md "Shoe mileage"): info, on the run that took them past it; retired shoes never
shoes AS (
    SELECT athlete_id, past_range_date AS date, 'shoe_past_range' AS flag, 'info' AS severity,
           past_range_distance_m AS value, replacement_high_m AS threshold, NULL AS baseline,
           past_range_activity_key AS activity_key,
           printf('Shoe %s passed %s on this run (%s over %d runs by now): the end of its replacement range, %s-%s (docs/metrics.md, Shoe mileage).',
                  shoe_name, fmt_distance(replacement_high_m), fmt_distance(distance_m), runs,
                  regexp_replace(fmt_distance(replacement_low_m), ' .*', ''), fmt_distance(replacement_high_m)) AS explanation
    FROM marts.gear_mileage g
    WHERE g.is_flagged
),
unioned AS (
    SELECT * FROM long_run UNION ALL BY NAME SELECT * FROM ramp UNION ALL BY NAME SELECT * FROM acwr
    UNION ALL BY NAME SELECT * FROM monotony UNION ALL BY NAME SELECT * FROM balance
    UNION ALL BY NAME SELECT * FROM cadence UNION ALL BY NAME SELECT * FROM comeback
    UNION ALL BY NAME SELECT * FROM shoes
),
final AS (
    SELECT u.athlete_id, u.date, u.flag, u.severity, u.value::DOUBLE AS value, u.threshold::DOUBLE AS threshold,
           u.baseline::DOUBLE AS baseline, u.activity_key::VARCHAR AS activity_key, u.explanation
    FROM unioned u JOIN history h USING (athlete_id)
    WHERE u.date <= getvariable('as_of')::DATE
      AND u.date - h.first_date >= 28  -- not within the first 28 days (day 1 .. day 28)
      AND (u.value IS NULL OR isfinite(u.value::DOUBLE)) AND (u.baseline IS NULL OR isfinite(u.baseline::DOUBLE))
)
SELECT * FROM final ORDER BY athlete_id, date, flag;
COMMENT ON TABLE marts.training_flags IS 'One row per athlete, date and flag: warnings a coach would recognise, each with the numbers behind it (thresholds and sources in docs/metrics.md).';
COMMENT ON COLUMN marts.training_flags.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN marts.training_flags.date IS 'Local date the flag belongs to (a run''s day, or the last day of a week).';
COMMENT ON COLUMN marts.training_flags.flag IS 'long_run_spike, weekly_distance_ramp, acwr_high, acwr_low (only when the settings ask for them), monotony_high, posterior_anterior_low, cadence_implausible, return_after_break, shoe_past_range.';
COMMENT ON COLUMN marts.training_flags.severity IS 'info (descriptive, weak evidence), warning or alert (a large single-run spike), graded by the evidence behind the flag (docs/metrics.md).';
COMMENT ON COLUMN marts.training_flags.value IS 'The number that raised the flag (%, ratio, steps/min, days or, for shoe_past_range, the shoe''s distance in m, as the flag says).';
COMMENT ON COLUMN marts.training_flags.threshold IS 'The threshold it crossed.';
COMMENT ON COLUMN marts.training_flags.baseline IS 'What it was compared with (the longest run of the previous 30 days, or the previous week''s distance, m), where it applies.';
COMMENT ON COLUMN marts.training_flags.activity_key IS 'The workout that raised it, for run flags.';
COMMENT ON COLUMN marts.training_flags.explanation IS 'One line for a person, in the display units of the settings.';

UPDATE marts.weekly_training_balance w SET flags_count = f.n
FROM (SELECT athlete_id, date_trunc('week', date)::DATE AS week_start, count(*) AS n
      FROM marts.training_flags GROUP BY ALL) f
WHERE w.athlete_id = f.athlete_id AND w.week_start = f.week_start;
