-- grain: one row per active strength set of a counted workout: the sets a lifting app logged (Hevy,
-- Strong) where intermediate.int_workouts gave the workout an app workout, else the watch's FIT sets
-- (docs/metrics.md, "One workout, counted once": sets come from the app)
CREATE OR REPLACE TABLE marts.fct_strength_sets AS
WITH sets AS (
    -- the columns used below only (the candidate lists are not carried through the joins and windows)
    SELECT t.athlete_id, t.file_sha256, t.set_index, t.started_at, t.duration_s, t.repetitions, t.weight_kg,
           t.exercise_category, t.exercise_name, t.exercise_title, t.bounds_notes,
           c.body_region AS c_body_region, c.lower_pattern AS c_lower_pattern, c.knee_factor_bw AS c_knee_factor_bw
    FROM staging.stg_fit__sets t
    LEFT JOIN intermediate.int_exercise_categories c ON c.exercise_category = t.exercise_category
    WHERE t.is_active
),
sessions AS (
    SELECT * FROM staging.stg_fit__sessions
),
workouts AS (
    SELECT * FROM intermediate.int_workouts
),
mass AS (
    SELECT * FROM intermediate.int_body_mass
),
sessions_per_file AS (
    SELECT athlete_id, file_sha256, count(*) AS n FROM sessions GROUP BY ALL
),
placed AS (
    -- the session whose time span holds the set (a file may hold a run and a gym session: the
    -- strength session first, then the first); files with one session need no choice (most files:
    -- kept apart so that only the few sets of multi-session files pay for the ordering)
    SELECT t.*, s.fit_session_key
    FROM sets t
    JOIN sessions_per_file n ON n.athlete_id = t.athlete_id AND n.file_sha256 = t.file_sha256 AND n.n = 1
    JOIN sessions s ON s.athlete_id = t.athlete_id AND s.file_sha256 = t.file_sha256
     AND (t.started_at IS NULL OR s.started_at IS NULL
          OR t.started_at BETWEEN s.started_at - INTERVAL 1 MINUTE
                              AND coalesce(s.ended_at, s.started_at + to_seconds(s.elapsed_s)) + INTERVAL 1 MINUTE)
    UNION ALL
    SELECT t.*, s.fit_session_key
    FROM sets t
    JOIN sessions_per_file n ON n.athlete_id = t.athlete_id AND n.file_sha256 = t.file_sha256 AND n.n > 1
    JOIN sessions s ON s.athlete_id = t.athlete_id AND s.file_sha256 = t.file_sha256
     AND (t.started_at IS NULL OR s.started_at IS NULL
          OR t.started_at BETWEEN s.started_at - INTERVAL 1 MINUTE
                              AND coalesce(s.ended_at, s.started_at + to_seconds(s.elapsed_s)) + INTERVAL 1 MINUTE)
    QUALIFY row_number() OVER (PARTITION BY t.athlete_id, t.file_sha256, t.set_index
                               ORDER BY (s.sport_group = 'strength') DESC, s.session_index) = 1
),
workout_mass AS (
    -- body mass in force on the workout's day (per workout, not per set: fewer rows through the as-of join)
    SELECT w.athlete_id, w.activity_key, w.local_date, w.app_workout_key, m.body_mass_kg
    FROM workouts w
    ASOF LEFT JOIN mass m ON m.athlete_id = w.athlete_id AND w.local_date >= m.valid_from
    WHERE w.local_date <= getvariable('as_of')
),
app_workout_mass AS (
    -- the same for the workouts with an app record (the tables named again, not the CTEs: a CTE read
    -- twice is materialised whole)
    SELECT w.athlete_id, w.activity_key, w.local_date, w.app_workout_key, m.body_mass_kg
    FROM intermediate.int_workouts w
    ASOF LEFT JOIN intermediate.int_body_mass m ON m.athlete_id = w.athlete_id AND w.local_date >= m.valid_from
    WHERE w.local_date <= getvariable('as_of') AND w.app_workout_key IS NOT NULL
),
app_sets AS (
    -- the sets of the app workouts the workouts took, with the app's exercise mapped to Garmin's
    -- vocabulary (staging.app_exercise_map: category, name)
    SELECT s.athlete_id, w.activity_key, s.set_number AS set_index, w.local_date, NULL::TIMESTAMP AS started_at,
           coalesce(m.exercise_category, 'unknown') AS exercise_category, m.exercise_name, s.exercise_title,
           -- the exercise a best is kept for: the Garmin exercise name it maps to (one history with the
           -- watch's sets), else the app's own exercise name (more precise than a category)
           coalesce(m.exercise_name, s.app_exercise_key) AS exercise,
           s.repetitions, s.weight_kg, s.duration_s, s.bounds_notes, w.body_mass_kg, s.app, s.set_type, s.rpe,
           -- a mapping without a Garmin category (Hevy's template muscles, a muscle-only user row): its
           -- primary muscle group places the set in a body region below
           CASE WHEN m.exercise_category IS NULL THEN m.primary_muscle END AS muscle_only,
           c.body_region AS c_body_region, c.lower_pattern AS c_lower_pattern, c.knee_factor_bw AS c_knee_factor_bw
    FROM intermediate.int_app_sets s
    JOIN app_workout_mass w ON w.athlete_id = s.athlete_id AND w.app_workout_key = s.app_workout_key
    LEFT JOIN staging.app_exercise_map m ON m.source = s.app AND m.app_exercise_key = s.app_exercise_key
    LEFT JOIN intermediate.int_exercise_categories c ON c.exercise_category = coalesce(m.exercise_category, 'unknown')
),
all_sets AS (
    -- the watch's sets of workouts without an app workout, and the app's sets
    SELECT p.athlete_id, w.activity_key, p.set_index, w.local_date, p.started_at, p.exercise_category,
           p.exercise_name, p.exercise_title,
           -- the exercise a best is kept for: the watch's exercise name, else its category
           coalesce(p.exercise_name, p.exercise_category) AS exercise,
           p.repetitions, p.weight_kg, p.duration_s, p.bounds_notes, w.body_mass_kg,
           -- (NULL for the watch's sets: cheaper to carry than a constant; source = coalesce(app, 'fit'))
           NULL::VARCHAR AS app, NULL::VARCHAR AS set_type, NULL::DOUBLE AS rpe, NULL::VARCHAR AS muscle_only,
           p.c_body_region, p.c_lower_pattern, p.c_knee_factor_bw
    FROM placed p
    JOIN workout_mass w ON w.athlete_id = p.athlete_id AND w.activity_key = p.fit_session_key
    WHERE w.app_workout_key IS NULL
    UNION ALL
    SELECT * FROM app_sets
),
enriched AS (
    SELECT
        p.athlete_id,
        p.activity_key,
        p.set_index,
        p.local_date,
        p.started_at,
        p.exercise_category,
        p.exercise_name,
        p.exercise_title,
        p.exercise,
        coalesce(p.repetitions, 0) AS repetitions,
        p.weight_kg,  -- NULL: no weight recorded (0: recorded as body weight / no external load)
        p.repetitions * p.weight_kg AS volume_load_kg,
        -- the category's region; an app exercise known only by its muscle group: that group's region
        -- (no knee factor: its knee load is not estimated)
        CASE WHEN p.muscle_only IN ('quadriceps', 'hamstrings_knee_flexion', 'hamstrings_hip_hinge', 'glutes', 'calves',
                                    'hip_stability') THEN 'lower'
             WHEN p.muscle_only IN ('upper_push', 'upper_pull') THEN 'upper'
             WHEN p.muscle_only = 'core' THEN 'core'
             ELSE coalesce(p.c_body_region, 'other') END AS body_region,
        CASE WHEN p.muscle_only = 'quadriceps' THEN 'knee'
             WHEN p.muscle_only IN ('hamstrings_knee_flexion', 'hamstrings_hip_hinge', 'glutes') THEN 'hip'
             WHEN p.muscle_only IS NOT NULL THEN NULL
             ELSE p.c_lower_pattern END AS lower_pattern,
        coalesce(p.c_knee_factor_bw, 0) AS knee_factor_bw,
        -- Epley, only for 1-12 repetitions (the range of the NSCA %1RM-repetition table)
        CASE WHEN p.weight_kg > 0 AND p.repetitions BETWEEN 1 AND 12
             THEN p.weight_kg * (1 + p.repetitions / 30.0) END AS e1rm_kg,
        -- a timed hold (plank, wall sit, L-sit, dead hang...): counted by its duration
        coalesce(p.repetitions, 0) <= 1 AND p.duration_s > 0
            AND (p.exercise_category = 'plank'
                 OR regexp_matches(lower(concat_ws(' ', p.exercise_name, p.exercise_title)),
                                   '(wall[_ ]?sit|l[_ -]sit|hollow[_ ]hold|dead[_ ]hang|static[_ ]hold|(^|[_ ])(plank|hold)( |$))'))
            AS is_timed_hold,
        p.duration_s,
        p.bounds_notes AS data_quality_notes,
        p.body_mass_kg,
        p.app,
        p.set_type,
        p.rpe
    FROM all_sets p
),
daily_best AS (
    -- the day's bests of each exercise: the 90-day window below runs over days, not sets (a RANGE
    -- frame on the date holds whole days either way, so the result is the same with fewer rows)
    SELECT athlete_id, exercise_category, exercise, local_date,
           max(e1rm_kg) AS e1rm_kg,
           max(repetitions) FILTER (WHERE coalesce(weight_kg, 0) = 0 AND NOT is_timed_hold) AS reps,
           max(duration_s) FILTER (WHERE is_timed_hold) AS hold_s
    FROM enriched
    WHERE exercise <> 'unknown'
    GROUP BY ALL
),
best_90d AS (
    -- bests of the same exercise in the 90 days up to the day: e1RM (loaded sets), repetitions
    -- (sets without external load), hold time (timed holds); 'unknown' exercises have no best
    SELECT athlete_id, exercise_category, exercise, local_date,
           max(e1rm_kg) OVER w90 AS best_e1rm_90d_kg,
           max(reps) OVER w90 AS best_reps_90d,
           max(hold_s) OVER w90 AS best_hold_90d_s
    FROM daily_best
    WINDOW w90 AS (PARTITION BY athlete_id, exercise_category, exercise ORDER BY local_date
                   RANGE BETWEEN INTERVAL 89 DAYS PRECEDING AND CURRENT ROW)
),
with_best AS (
    SELECT e.*, b.best_e1rm_90d_kg, b.best_reps_90d, b.best_hold_90d_s
    FROM enriched e
    LEFT JOIN best_90d b ON b.athlete_id = e.athlete_id AND b.exercise_category = e.exercise_category
     AND b.exercise = e.exercise AND b.local_date = e.local_date
),
effort AS (
    -- reps in reserve (Zourdos 2016, Helms 2016) estimated with Epley inverted: at a fraction f of
    -- the exercise's best e1RM about 30 (1/f - 1) repetitions are possible; RIR = those - reps done
    SELECT *,
           CASE WHEN weight_kg > 0 AND repetitions >= 1 AND best_e1rm_90d_kg > 0
                THEN greatest(30.0 * (best_e1rm_90d_kg / weight_kg - 1) - repetitions, 0) END AS reps_in_reserve
    FROM with_best
),
final AS (
    SELECT
        athlete_id, activity_key, set_index, local_date, started_at, exercise_category, exercise_name, exercise_title,
        exercise, repetitions, weight_kg, volume_load_kg, body_region, lower_pattern, e1rm_kg, best_e1rm_90d_kg,
        CASE WHEN weight_kg > 0 AND best_e1rm_90d_kg > 0 THEN weight_kg / best_e1rm_90d_kg END AS relative_intensity,
        reps_in_reserve,
        CASE WHEN reps_in_reserve IS NOT NULL THEN greatest(10 - reps_in_reserve, 1) END AS estimated_rpe,
        -- hard: near failure (Robinson 2024). The app's set type first: a warm-up set never, a set to
        -- failure always. Then, for lower/upper/core exercises: a logged RPE >= 6 (<= 4 reps in
        -- reserve); a drop set (continued to or near failure at a lighter load); loaded sets at <= 4
        -- estimated reps in reserve; sets without external load at >= 75 % of the exercise's best
        -- repetitions (and >= 3); holds at >= 75 % of its longest hold. Never hard for having no weight.
        CASE WHEN set_type = 'warmup' THEN false
             WHEN set_type = 'failure' THEN true
             ELSE body_region IN ('lower', 'upper', 'core') AND CASE
                 WHEN rpe IS NOT NULL THEN rpe >= 6
                 WHEN set_type = 'dropset' THEN true
                 WHEN is_timed_hold THEN duration_s >= 0.75 * best_hold_90d_s
                 WHEN weight_kg > 0 THEN coalesce(reps_in_reserve <= 4, false)
                 ELSE repetitions >= 3 AND repetitions >= 0.75 * best_reps_90d END END AS is_hard_set,
        is_timed_hold,
        CASE WHEN is_timed_hold THEN duration_s END AS hold_s,
        -- no weight recorded: the knee load at body weight
        repetitions * knee_factor_bw * (1 + coalesce(weight_kg, 0) / coalesce(body_mass_kg, 70.0)) / 1000.0 AS knee_load_kbw,
        duration_s,
        data_quality_notes,
        coalesce(app, 'fit') AS source,
        set_type,
        rpe
    FROM effort
)
SELECT * FROM final;
COMMENT ON TABLE marts.fct_strength_sets IS 'One row per active strength set, classified by body region, with estimated 1RM and intensity: a lifting app''s sets where the workout has an app record (Hevy, Strong), else the watch''s FIT sets.';
COMMENT ON COLUMN marts.fct_strength_sets.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN marts.fct_strength_sets.activity_key IS 'The workout (marts.fct_activities).';
COMMENT ON COLUMN marts.fct_strength_sets.set_index IS 'Set order in its FIT file, or in the app workout (from 0, exercise by exercise).';
COMMENT ON COLUMN marts.fct_strength_sets.local_date IS 'The workout''s local date.';
COMMENT ON COLUMN marts.fct_strength_sets.started_at IS 'Set start, UTC (NULL for app sets: the apps keep no time per set).';
COMMENT ON COLUMN marts.fct_strength_sets.exercise_category IS 'First exercise category candidate (Garmin profile name; unknown when the watch could not tell); for app sets the category staging.app_exercise_map gives (unknown: unmapped).';
COMMENT ON COLUMN marts.fct_strength_sets.exercise_name IS 'First exercise name candidate; for app sets the Garmin exercise name staging.app_exercise_map gives (NULL: its category''s default or unmapped).';
COMMENT ON COLUMN marts.fct_strength_sets.exercise_title IS 'Workout step title, when the file has one; for app sets the exercise name as the app wrote it.';
COMMENT ON COLUMN marts.fct_strength_sets.exercise IS 'The exercise its bests are kept for: the exercise name where the source gives one, else the category; app sets: the mapped Garmin exercise name, else lower(trim(app exercise name)).';
COMMENT ON COLUMN marts.fct_strength_sets.repetitions IS 'Repetitions (0 when none recorded).';
COMMENT ON COLUMN marts.fct_strength_sets.weight_kg IS 'External load, kg: 0 recorded as body weight, NULL no weight recorded.';
COMMENT ON COLUMN marts.fct_strength_sets.volume_load_kg IS 'Volume load = repetitions x weight, kg; NULL when no weight was recorded.';
COMMENT ON COLUMN marts.fct_strength_sets.body_region IS 'lower, upper, core or other (intermediate.int_exercise_categories); an app exercise mapped to a muscle group only (no Garmin category): the region of that group.';
COMMENT ON COLUMN marts.fct_strength_sets.lower_pattern IS 'For lower-body sets: knee (knee-dominant, anterior) or hip (hip-dominant, posterior).';
COMMENT ON COLUMN marts.fct_strength_sets.e1rm_kg IS 'Estimated one-repetition maximum, Epley: weight x (1 + reps / 30), kg; only for 1-12 repetitions with external load, else NULL.';
COMMENT ON COLUMN marts.fct_strength_sets.best_e1rm_90d_kg IS 'Best estimated 1RM of the same exercise (not category) in the 90 days up to this set''s day, kg.';
COMMENT ON COLUMN marts.fct_strength_sets.relative_intensity IS 'weight / best 90-day estimated 1RM of the exercise (0-1); NULL without external load.';
COMMENT ON COLUMN marts.fct_strength_sets.reps_in_reserve IS 'Estimated repetitions in reserve: 30 x (best e1RM / weight - 1) - reps (Epley inverted), at least 0; NULL without external load or a best.';
COMMENT ON COLUMN marts.fct_strength_sets.estimated_rpe IS 'Estimated RPE of the set on the RIR-based scale (Zourdos 2016): 10 - reps in reserve, 1-10.';
COMMENT ON COLUMN marts.fct_strength_sets.is_hard_set IS 'A hard set: never a warm-up set, always a set to failure (app set types); else of a lower/upper/core exercise: a logged RPE >= 6; a drop set; loaded, <= 4 estimated reps in reserve; without external load, >= 3 reps and >= 75 % of the exercise''s best 90-day reps; a timed hold, >= 75 % of its longest 90-day hold.';
COMMENT ON COLUMN marts.fct_strength_sets.is_timed_hold IS 'A timed hold (plank category, or a wall sit, L-sit, hollow hold, dead hang... by name) of at most 1 repetition: counted by duration.';
COMMENT ON COLUMN marts.fct_strength_sets.hold_s IS 'Duration of a timed hold, s (NULL for other sets).';
COMMENT ON COLUMN marts.fct_strength_sets.knee_load_kbw IS 'Knee load on the impact axis: reps x knee factor x (1 + weight / body mass) / 1000 (no weight recorded: body weight only), kBW.';
COMMENT ON COLUMN marts.fct_strength_sets.duration_s IS 'Set duration, s.';
COMMENT ON COLUMN marts.fct_strength_sets.data_quality_notes IS 'Values of the set outside their plausible bounds (set to NULL in staging; docs/metrics.md).';
COMMENT ON COLUMN marts.fct_strength_sets.source IS 'Where the set comes from: fit (the watch), hevy or strong (a lifting app, API or CSV export).';
COMMENT ON COLUMN marts.fct_strength_sets.set_type IS 'The app''s set type: normal, warmup, dropset or failure; NULL for FIT sets (the watch does not say).';
COMMENT ON COLUMN marts.fct_strength_sets.rpe IS 'RPE of the set as logged in the app (0-10); NULL: not logged (FIT sets carry none). estimated_rpe is the estimate from weight and reps.';
