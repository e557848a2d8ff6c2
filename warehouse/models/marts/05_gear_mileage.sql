-- grain: one row per athlete and shoe (the Strava gear of their runs)
-- A run's shoe is the gear_id of its Strava activity; a FIT session matched to a Strava activity
-- (one workout in marts.fct_activities) takes that activity's shoe; a FIT-only run has none (it
-- counts nowhere here: docs/metrics.md "Shoe mileage"). Distances are summed as whole millimetres,
-- so totals do not depend on the order rows arrive in. Built before marts.training_flags, which
-- raises shoe_past_range from it.
CREATE OR REPLACE TABLE marts.gear_mileage AS
WITH settings AS (
    -- the replacement range (setting gear.shoe_replacement_km; default 500-800 km), in m
    SELECT coalesce(getvariable('shoe_range_low_m'), 500000.0)::DOUBLE AS low_m,
           coalesce(getvariable('shoe_range_high_m'), 800000.0)::DOUBLE AS high_m
),
runs AS (
    SELECT f.athlete_id, f.activity_key, f.local_date, f.started_at, f.sources,
           round(coalesce(f.distance_m, 0) * 1000)::BIGINT AS distance_mm, s.gear_id
    FROM marts.fct_activities f
    JOIN staging.stg_strava__activities s ON s.athlete_id = f.athlete_id AND s.activity_id = f.strava_activity_id
    WHERE f.includes_running AND s.gear_id IS NOT NULL
),
running_total AS (
    SELECT r.*,
           sum(r.distance_mm) OVER (PARTITION BY r.athlete_id, r.gear_id
                                    ORDER BY r.started_at, r.activity_key ROWS UNBOUNDED PRECEDING) AS total_mm
    FROM runs r
),
crossing AS (
    -- the run that took the shoe past the upper end of the range
    SELECT t.athlete_id, t.gear_id, t.local_date AS past_range_date, t.activity_key AS past_range_activity_key,
           t.total_mm / 1000.0 AS past_range_distance_m
    FROM running_total t, settings s
    WHERE t.total_mm > s.high_m * 1000 AND t.total_mm - t.distance_mm <= s.high_m * 1000
),
per_shoe AS (
    SELECT athlete_id, gear_id, count(*)::INTEGER AS runs,
           count(*) FILTER (WHERE sources = 'fit+strava')::INTEGER AS runs_with_fit,
           sum(distance_mm) / 1000.0 AS distance_m,
           min(local_date) AS first_used_date, max(local_date) AS last_used_date
    FROM runs GROUP BY ALL
),
final AS (
    SELECT
        p.athlete_id,
        p.gear_id,
        coalesce(g.display_name, p.gear_id) AS shoe_name,
        g.brand_name,
        g.model_name,
        coalesce(g.is_retired, false) AS is_retired,
        coalesce(g.is_primary, false) AS is_primary,
        g.fetch_status = 'ok' AS has_gear_details,
        p.runs,
        p.runs_with_fit,
        p.distance_m,
        g.strava_distance_m,
        p.first_used_date,
        p.last_used_date,
        s.low_m AS replacement_low_m,
        s.high_m AS replacement_high_m,
        CASE WHEN p.distance_m > s.high_m THEN 'past_range'
             WHEN p.distance_m >= s.low_m THEN 'in_range'
             ELSE 'below_range' END AS range_status,
        c.past_range_date,
        c.past_range_activity_key,
        c.past_range_distance_m,
        c.past_range_date IS NOT NULL AND NOT coalesce(g.is_retired, false) AS is_flagged
    FROM per_shoe p
    CROSS JOIN settings s
    LEFT JOIN staging.stg_strava__gear g USING (athlete_id, gear_id)
    LEFT JOIN crossing c USING (athlete_id, gear_id)
)
SELECT * FROM final ORDER BY athlete_id, gear_id;
COMMENT ON TABLE marts.gear_mileage IS 'One row per athlete and shoe: the running distance on it (Strava runs and the FIT runs matched to them), first and last use, and where it stands against the replacement range (docs/metrics.md "Shoe mileage"). Retired shoes are kept, never flagged.';
COMMENT ON COLUMN marts.gear_mileage.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN marts.gear_mileage.gear_id IS 'Strava gear id of the shoe (g...).';
COMMENT ON COLUMN marts.gear_mileage.shoe_name IS 'The athlete''s nickname for the shoe, else Strava''s name, else the gear id (names not fetched yet: they come with the next sync that has calls to spare).';
COMMENT ON COLUMN marts.gear_mileage.brand_name IS 'Brand (Strava).';
COMMENT ON COLUMN marts.gear_mileage.model_name IS 'Model (Strava).';
COMMENT ON COLUMN marts.gear_mileage.is_retired IS 'Retired at Strava: kept here, never flagged.';
COMMENT ON COLUMN marts.gear_mileage.is_primary IS 'The athlete''s default shoe at Strava.';
COMMENT ON COLUMN marts.gear_mileage.has_gear_details IS 'True when Strava''s gear endpoint has described the shoe; NULL: not asked yet; false: Strava did not find it.';
COMMENT ON COLUMN marts.gear_mileage.runs IS 'Workouts with running on the shoe (runs, trail runs, races, HyroxRace, ...), up to the build''s as-of date.';
COMMENT ON COLUMN marts.gear_mileage.runs_with_fit IS 'Of those, workouts also recorded as a FIT file (FIT and Strava matched into one).';
COMMENT ON COLUMN marts.gear_mileage.distance_m IS 'Running distance on the shoe, m (sum of the workouts'' distances; display in the settings'' units).';
COMMENT ON COLUMN marts.gear_mileage.strava_distance_m IS 'Strava''s own total for the gear when last fetched, m: every activity with it, any sport, any date (a cross-check; NULL when not fetched).';
COMMENT ON COLUMN marts.gear_mileage.first_used_date IS 'Local date of the first run on the shoe.';
COMMENT ON COLUMN marts.gear_mileage.last_used_date IS 'Local date of the latest run on the shoe.';
COMMENT ON COLUMN marts.gear_mileage.replacement_low_m IS 'Lower end of the replacement range, m (setting gear.shoe_replacement_km, default 500 km).';
COMMENT ON COLUMN marts.gear_mileage.replacement_high_m IS 'Upper end of the replacement range, m (default 800 km).';
COMMENT ON COLUMN marts.gear_mileage.range_status IS 'below_range (under the lower end), in_range (between the ends: replacement due soon) or past_range (over the upper end).';
COMMENT ON COLUMN marts.gear_mileage.past_range_date IS 'Local date of the run that took the shoe past the upper end; NULL while within it.';
COMMENT ON COLUMN marts.gear_mileage.past_range_activity_key IS 'That run (marts.fct_activities.activity_key).';
COMMENT ON COLUMN marts.gear_mileage.past_range_distance_m IS 'The shoe''s distance after that run, m.';
COMMENT ON COLUMN marts.gear_mileage.is_flagged IS 'Past the range and not retired: marts.training_flags has a shoe_past_range flag for it (info) on past_range_date, unless that falls in the athlete''s first 28 days.';
