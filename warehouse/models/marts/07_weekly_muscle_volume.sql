-- grain: one row per athlete, ISO week (Monday start) and muscle group the week's sets trained
-- (as primary or secondary muscle); weeks without a set for a group have no row (no spine: read
-- marts.weekly_training_balance for the weeks). Sets the seed does not map count under 'unmapped'.
-- A set counts 1 for its primary muscle group and 0.5 for each secondary one (fractional set
-- counting, Pelland et al. 2024; docs/metrics.md); volume load and hold time are shared the same way
-- (in whole units: 2 x direct + indirect, halved once at the end).
-- sums of measured values are exact and independent of the order rows arrive in (so a rebuild
-- gives the same bits on any number of threads): each value is summed as an integer count of
-- 1e-12 units, sum(round(1e12 * x)::HUGEINT) / 1e12 (cheaper than an ordered sum)
CREATE OR REPLACE TABLE marts.weekly_muscle_volume AS
WITH exercises AS (
    -- one row per athlete, week and exercise first: the seed is joined to these, not to every set
    SELECT athlete_id, date_trunc('week', local_date)::DATE AS week_start, exercise_category, exercise_name,
           -- a lifting app's exercise (its own mapping may name the muscles: staging.app_exercise_map)
           source, CASE WHEN source <> 'fit' THEN lower(trim(exercise_title)) END AS app_exercise_key,
           count(*) AS n_sets,
           count(*) FILTER (WHERE is_hard_set) AS n_hard_sets,
           sum(round(1e12 * volume_load_kg)::HUGEINT) AS volume_load_units,
           count(*) FILTER (WHERE is_timed_hold) AS n_timed_holds,
           sum(round(1e12 * hold_s)::HUGEINT) FILTER (WHERE is_timed_hold) AS hold_units
    FROM marts.fct_strength_sets
    GROUP BY ALL
),
seed AS (
    SELECT * FROM staging.exercise_muscles
),
mapped AS (
    -- an app exercise's own mapping (user, seed or Hevy template), else the exercise name's own row,
    -- else its category's default row, else unmapped
    SELECT e.* EXCLUDE (source, app_exercise_key),
           coalesce(a.primary_muscle, n.primary_muscle, c.primary_muscle, 'unmapped') AS primary_muscle,
           CASE WHEN a.app_exercise_key IS NOT NULL THEN coalesce(a.secondary_muscles, [])
                ELSE coalesce(n.secondary_muscles, c.secondary_muscles, []) END AS secondary_muscles
    FROM exercises e
    LEFT JOIN staging.app_exercise_map a ON a.source = e.source AND a.app_exercise_key = e.app_exercise_key
     AND a.mapped_by IN ('user', 'seed', 'hevy_template')
    LEFT JOIN seed n ON n.exercise_category = e.exercise_category AND n.exercise_name = e.exercise_name
    LEFT JOIN seed c ON c.exercise_category = e.exercise_category AND c.exercise_name IS NULL
),
roles AS (
    SELECT athlete_id, week_start, primary_muscle AS muscle_group, true AS is_primary,
           n_sets, n_hard_sets, volume_load_units, n_timed_holds, hold_units
    FROM mapped
    UNION ALL
    SELECT athlete_id, week_start, unnest(secondary_muscles) AS muscle_group, false AS is_primary,
           n_sets, n_hard_sets, volume_load_units, n_timed_holds, hold_units
    FROM mapped
),
weeks AS (
    SELECT athlete_id, week_start, muscle_group,
           coalesce(sum(n_sets) FILTER (WHERE is_primary), 0)::INTEGER AS direct_sets,
           coalesce(sum(n_sets) FILTER (WHERE NOT is_primary), 0)::INTEGER AS indirect_sets,
           coalesce(sum(n_hard_sets) FILTER (WHERE is_primary), 0)::INTEGER AS direct_hard_sets,
           coalesce(sum(n_hard_sets) FILTER (WHERE NOT is_primary), 0)::INTEGER AS indirect_hard_sets,
           sum(volume_load_units) FILTER (WHERE is_primary) AS direct_volume_units,
           sum(volume_load_units) FILTER (WHERE NOT is_primary) AS indirect_volume_units,
           coalesce(sum(n_timed_holds), 0)::INTEGER AS timed_holds,
           sum(hold_units) FILTER (WHERE is_primary) AS direct_hold_units,
           sum(hold_units) FILTER (WHERE NOT is_primary) AS indirect_hold_units
    FROM roles
    GROUP BY ALL
),
final AS (
    SELECT
        athlete_id,
        week_start,
        isoyear(week_start) AS iso_year,
        weekofyear(week_start) AS iso_week,
        muscle_group,
        (direct_sets + 0.5 * indirect_sets)::DOUBLE AS sets,
        (direct_hard_sets + 0.5 * indirect_hard_sets)::DOUBLE AS hard_sets,
        direct_sets,
        direct_hard_sets,
        indirect_sets,
        indirect_hard_sets,
        CASE WHEN direct_volume_units IS NOT NULL OR indirect_volume_units IS NOT NULL
             THEN (2 * coalesce(direct_volume_units, 0) + coalesce(indirect_volume_units, 0))::DOUBLE / 2e12 END
            AS volume_load_kg,
        timed_holds,
        CASE WHEN direct_hold_units IS NOT NULL OR indirect_hold_units IS NOT NULL
             THEN (2 * coalesce(direct_hold_units, 0) + coalesce(indirect_hold_units, 0))::DOUBLE / 2e12 END AS hold_s
    FROM weeks
)
SELECT * FROM final ORDER BY athlete_id, week_start, muscle_group;
COMMENT ON TABLE marts.weekly_muscle_volume IS 'One row per athlete, ISO week (Monday start) and muscle group trained that week: sets, hard sets, volume load and hold time, a set counting 1 for its primary muscle group and 0.5 for each secondary one (seed warehouse/seeds/exercise_muscles.csv); weeks without a set for a group have no row.';
COMMENT ON COLUMN marts.weekly_muscle_volume.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN marts.weekly_muscle_volume.week_start IS 'Monday of the ISO week.';
COMMENT ON COLUMN marts.weekly_muscle_volume.iso_year IS 'ISO year.';
COMMENT ON COLUMN marts.weekly_muscle_volume.iso_week IS 'ISO week number.';
COMMENT ON COLUMN marts.weekly_muscle_volume.muscle_group IS 'quadriceps, hamstrings_knee_flexion, hamstrings_hip_hinge, glutes, calves, hip_stability, core, upper_push, upper_pull; unmapped: sets of exercises that are not resistance work or that the watch could not tell (counted for no muscle group).';
COMMENT ON COLUMN marts.weekly_muscle_volume.sets IS 'Fractional sets: direct_sets + 0.5 x indirect_sets.';
COMMENT ON COLUMN marts.weekly_muscle_volume.hard_sets IS 'Fractional hard sets (marts.fct_strength_sets.is_hard_set): direct_hard_sets + 0.5 x indirect_hard_sets; read against the usual weekly ranges in docs/metrics.md.';
COMMENT ON COLUMN marts.weekly_muscle_volume.direct_sets IS 'Sets of exercises with this muscle group as primary muscle.';
COMMENT ON COLUMN marts.weekly_muscle_volume.direct_hard_sets IS 'Hard sets of exercises with this muscle group as primary muscle.';
COMMENT ON COLUMN marts.weekly_muscle_volume.indirect_sets IS 'Sets of exercises with this muscle group as a secondary muscle.';
COMMENT ON COLUMN marts.weekly_muscle_volume.indirect_hard_sets IS 'Hard sets of exercises with this muscle group as a secondary muscle.';
COMMENT ON COLUMN marts.weekly_muscle_volume.volume_load_kg IS 'Volume load (reps x weight), kg: all of it for direct sets, 0.5 of it for indirect sets; NULL when no set recorded a weight.';
COMMENT ON COLUMN marts.weekly_muscle_volume.timed_holds IS 'Timed holds (plank, wall sit...) among the direct and indirect sets.';
COMMENT ON COLUMN marts.weekly_muscle_volume.hold_s IS 'Time under timed holds, s: all of it for direct sets, 0.5 of it for indirect sets; NULL without timed holds.';
