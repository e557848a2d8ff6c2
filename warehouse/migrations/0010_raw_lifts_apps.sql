-- 0010: lifts logged in phone apps: Hevy through its API (workouts, their sets, exercise templates,
-- body measurements, the sync's state) and the CSV exports of Strong and Hevy (docs/hevy.md).
CREATE TABLE raw.hevy_workouts (
    athlete_id      VARCHAR NOT NULL,
    workout_id      VARCHAR NOT NULL,
    title           VARCHAR,
    description     VARCHAR,
    start_time_utc  TIMESTAMP,
    end_time_utc    TIMESTAMP,
    updated_at_utc  TIMESTAMP,
    created_at_utc  TIMESTAMP,
    deleted_at_utc  TIMESTAMP,
    payload_json    VARCHAR NOT NULL,
    first_seen_at   TIMESTAMP NOT NULL,
    last_changed_at TIMESTAMP NOT NULL,
    last_listed_at  TIMESTAMP,
    PRIMARY KEY (athlete_id, workout_id)
);
COMMENT ON TABLE raw.hevy_workouts IS 'One row per Hevy workout (GET /v1/workouts and the events feed), with the whole JSON Hevy sent. A workout deleted in Hevy is kept, marked by deleted_at_utc.';
COMMENT ON COLUMN raw.hevy_workouts.athlete_id IS 'runlift athlete id (whose API key listed it).';
COMMENT ON COLUMN raw.hevy_workouts.workout_id IS 'Hevy workout id (a UUID).';
COMMENT ON COLUMN raw.hevy_workouts.title IS 'Workout title as typed in Hevy.';
COMMENT ON COLUMN raw.hevy_workouts.description IS 'Workout description (notes).';
COMMENT ON COLUMN raw.hevy_workouts.start_time_utc IS 'start_time, UTC.';
COMMENT ON COLUMN raw.hevy_workouts.end_time_utc IS 'end_time, UTC.';
COMMENT ON COLUMN raw.hevy_workouts.updated_at_utc IS 'updated_at (last edit in Hevy), UTC.';
COMMENT ON COLUMN raw.hevy_workouts.created_at_utc IS 'created_at, UTC.';
COMMENT ON COLUMN raw.hevy_workouts.deleted_at_utc IS 'When Hevy''s events feed said the workout was deleted, UTC (the sync time when the event gives none, or when a full listing no longer listed it); NULL: not deleted. Its sets are kept too.';
COMMENT ON COLUMN raw.hevy_workouts.payload_json IS 'The workout''s JSON exactly as Hevy last sent it (keys sorted), unknown fields included.';
COMMENT ON COLUMN raw.hevy_workouts.first_seen_at IS 'When runlift first stored the workout, UTC.';
COMMENT ON COLUMN raw.hevy_workouts.last_changed_at IS 'When runlift last stored a change (new JSON or a deletion), UTC.';
COMMENT ON COLUMN raw.hevy_workouts.last_listed_at IS 'When a full listing (GET /v1/workouts) last listed it, UTC; a workout a finished full listing did not list is marked deleted.';

CREATE TABLE raw.hevy_sets (
    athlete_id           VARCHAR NOT NULL,
    workout_id           VARCHAR NOT NULL,
    exercise_index       INTEGER NOT NULL,
    set_index            INTEGER NOT NULL,
    exercise_title       VARCHAR,
    exercise_template_id VARCHAR,
    superset_id          INTEGER,
    exercise_notes       VARCHAR,
    set_type             VARCHAR,
    weight_kg            DOUBLE,
    reps                 INTEGER,
    distance_m           DOUBLE,
    duration_s           DOUBLE,
    rpe                  DOUBLE,
    custom_metric        DOUBLE,
    PRIMARY KEY (athlete_id, workout_id, exercise_index, set_index)
);
COMMENT ON TABLE raw.hevy_sets IS 'One row per set of a Hevy workout (exercises[].sets[]), replaced whole when the workout changes.';
COMMENT ON COLUMN raw.hevy_sets.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN raw.hevy_sets.workout_id IS 'The workout (raw.hevy_workouts).';
COMMENT ON COLUMN raw.hevy_sets.exercise_index IS 'exercises[].index: the exercise''s position in the workout, from 0.';
COMMENT ON COLUMN raw.hevy_sets.set_index IS 'sets[].index: the set''s position in the exercise, from 0.';
COMMENT ON COLUMN raw.hevy_sets.exercise_title IS 'exercises[].title (the template''s name, in the app''s language).';
COMMENT ON COLUMN raw.hevy_sets.exercise_template_id IS 'exercises[].exercise_template_id (raw.hevy_exercise_templates).';
COMMENT ON COLUMN raw.hevy_sets.superset_id IS 'exercises[].superset_id: exercises sharing it were done as a superset; NULL: none.';
COMMENT ON COLUMN raw.hevy_sets.exercise_notes IS 'exercises[].notes.';
COMMENT ON COLUMN raw.hevy_sets.set_type IS 'sets[].type: normal, warmup, dropset or failure (another value is kept as written).';
COMMENT ON COLUMN raw.hevy_sets.weight_kg IS 'sets[].weight_kg, kg (Hevy stores kilograms whatever the app shows); NULL: none.';
COMMENT ON COLUMN raw.hevy_sets.reps IS 'sets[].reps.';
COMMENT ON COLUMN raw.hevy_sets.distance_m IS 'sets[].distance_meters, m.';
COMMENT ON COLUMN raw.hevy_sets.duration_s IS 'sets[].duration_seconds, s.';
COMMENT ON COLUMN raw.hevy_sets.rpe IS 'sets[].rpe: rate of perceived exertion as logged (Hevy offers 6 to 10 in halves); NULL: not logged.';
COMMENT ON COLUMN raw.hevy_sets.custom_metric IS 'sets[].custom_metric (e.g. steps or floors of some cardio templates).';

CREATE TABLE raw.hevy_exercise_templates (
    athlete_id              VARCHAR NOT NULL,
    template_id             VARCHAR NOT NULL,
    title                   VARCHAR,
    exercise_type           VARCHAR,
    primary_muscle_group    VARCHAR,
    secondary_muscle_groups VARCHAR[],
    equipment               VARCHAR,
    is_custom               BOOLEAN,
    payload_json            VARCHAR NOT NULL,
    synced_at               TIMESTAMP NOT NULL,
    PRIMARY KEY (athlete_id, template_id)
);
COMMENT ON TABLE raw.hevy_exercise_templates IS 'Hevy exercise templates (GET /v1/exercise_templates): the library plus the athlete''s custom exercises.';
COMMENT ON COLUMN raw.hevy_exercise_templates.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN raw.hevy_exercise_templates.template_id IS 'Template id (exercises[].exercise_template_id of a workout).';
COMMENT ON COLUMN raw.hevy_exercise_templates.title IS 'Exercise name.';
COMMENT ON COLUMN raw.hevy_exercise_templates.exercise_type IS 'type: weight_reps, reps_only, bodyweight_reps, duration, distance_duration, ...';
COMMENT ON COLUMN raw.hevy_exercise_templates.primary_muscle_group IS 'primary_muscle_group as Hevy names it (quadriceps, chest, ...).';
COMMENT ON COLUMN raw.hevy_exercise_templates.secondary_muscle_groups IS 'secondary_muscle_groups.';
COMMENT ON COLUMN raw.hevy_exercise_templates.equipment IS 'equipment, when Hevy sends it.';
COMMENT ON COLUMN raw.hevy_exercise_templates.is_custom IS 'true: an exercise the athlete created.';
COMMENT ON COLUMN raw.hevy_exercise_templates.payload_json IS 'The template''s JSON as Hevy sent it.';
COMMENT ON COLUMN raw.hevy_exercise_templates.synced_at IS 'When runlift last stored it, UTC.';

CREATE TABLE raw.hevy_body_measurements (
    athlete_id       VARCHAR NOT NULL,
    measured_on      DATE NOT NULL,
    body_mass_kg     DOUBLE,
    lean_mass_kg     DOUBLE,
    body_fat_percent DOUBLE,
    payload_json     VARCHAR NOT NULL,
    synced_at        TIMESTAMP NOT NULL,
    PRIMARY KEY (athlete_id, measured_on)
);
COMMENT ON TABLE raw.hevy_body_measurements IS 'Body measurements logged in Hevy (GET /v1/body_measurements), one per day.';
COMMENT ON COLUMN raw.hevy_body_measurements.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN raw.hevy_body_measurements.measured_on IS 'date of the measurement (Hevy keeps one per day, no time).';
COMMENT ON COLUMN raw.hevy_body_measurements.body_mass_kg IS 'weight_kg, kg; NULL when absent or outside [0.5, 650].';
COMMENT ON COLUMN raw.hevy_body_measurements.lean_mass_kg IS 'lean_mass_kg, kg.';
COMMENT ON COLUMN raw.hevy_body_measurements.body_fat_percent IS 'fat_percent, % of body mass.';
COMMENT ON COLUMN raw.hevy_body_measurements.payload_json IS 'The measurement''s JSON (girths in cm among others).';
COMMENT ON COLUMN raw.hevy_body_measurements.synced_at IS 'When runlift last stored it, UTC.';

CREATE TABLE ops.hevy_sync_state (
    athlete_id            VARCHAR PRIMARY KEY,
    events_since          TIMESTAMP,
    full_listing_page     INTEGER,
    full_listing_started  TIMESTAMP,
    last_full_listing_at  TIMESTAMP,
    templates_synced_at   TIMESTAMP,
    last_run_at           TIMESTAMP,
    last_status           VARCHAR,
    last_message          VARCHAR
);
COMMENT ON TABLE ops.hevy_sync_state IS 'Where each athlete''s Hevy sync stands; committed with the rows it implies, so a stopped run resumes.';
COMMENT ON COLUMN ops.hevy_sync_state.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN ops.hevy_sync_state.events_since IS 'The events feed is read from this time (minus hevy.lookback_hours) on the next run, UTC; NULL: no complete listing yet (the next run lists every workout).';
COMMENT ON COLUMN ops.hevy_sync_state.full_listing_page IS 'Next page of a full listing under way (GET /v1/workouts); NULL: none under way.';
COMMENT ON COLUMN ops.hevy_sync_state.full_listing_started IS 'When the full listing under way began, UTC (becomes events_since when it finishes).';
COMMENT ON COLUMN ops.hevy_sync_state.last_full_listing_at IS 'When the last full listing finished, UTC.';
COMMENT ON COLUMN ops.hevy_sync_state.templates_synced_at IS 'When the exercise templates were last listed, UTC.';
COMMENT ON COLUMN ops.hevy_sync_state.last_run_at IS 'End of the last run, UTC.';
COMMENT ON COLUMN ops.hevy_sync_state.last_status IS 'complete, paused (429: resumes next run) or failed.';
COMMENT ON COLUMN ops.hevy_sync_state.last_message IS 'What the last run said (redacted).';

CREATE TABLE ops.hevy_sync_runs (
    run_id       VARCHAR PRIMARY KEY,
    athlete_id   VARCHAR NOT NULL,
    started_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP,
    mode         VARCHAR,
    api_calls    INTEGER,
    new          INTEGER,
    updated      INTEGER,
    deleted      INTEGER,
    templates    INTEGER,
    measurements INTEGER,
    status       VARCHAR,
    message      VARCHAR
);
COMMENT ON TABLE ops.hevy_sync_runs IS 'One row per Hevy sync run.';
COMMENT ON COLUMN ops.hevy_sync_runs.run_id IS 'Random id of the run.';
COMMENT ON COLUMN ops.hevy_sync_runs.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN ops.hevy_sync_runs.started_at IS 'Start, UTC.';
COMMENT ON COLUMN ops.hevy_sync_runs.finished_at IS 'End, UTC.';
COMMENT ON COLUMN ops.hevy_sync_runs.mode IS 'full (every workout listed) or events (the events feed since the last run).';
COMMENT ON COLUMN ops.hevy_sync_runs.api_calls IS 'Requests made (retries included).';
COMMENT ON COLUMN ops.hevy_sync_runs.new IS 'Workouts stored for the first time.';
COMMENT ON COLUMN ops.hevy_sync_runs.updated IS 'Workouts whose JSON changed.';
COMMENT ON COLUMN ops.hevy_sync_runs.deleted IS 'Workouts newly marked deleted.';
COMMENT ON COLUMN ops.hevy_sync_runs.templates IS 'Exercise templates added or changed.';
COMMENT ON COLUMN ops.hevy_sync_runs.measurements IS 'Body measurements added or changed.';
COMMENT ON COLUMN ops.hevy_sync_runs.status IS 'complete, paused or failed.';
COMMENT ON COLUMN ops.hevy_sync_runs.message IS 'Why it paused or failed (redacted).';

CREATE TABLE raw.lift_csv_sets (
    athlete_id          VARCHAR NOT NULL,
    app                 VARCHAR NOT NULL,
    started_local       TIMESTAMP NOT NULL,
    exercise_title      VARCHAR NOT NULL,
    exercise_occurrence INTEGER NOT NULL,
    set_order           INTEGER NOT NULL,
    workout_title       VARCHAR,
    ended_local         TIMESTAMP,
    duration_s          DOUBLE,
    exercise_position   INTEGER,
    set_type            VARCHAR,
    weight_kg           DOUBLE,
    reps                INTEGER,
    distance_m          DOUBLE,
    set_duration_s      DOUBLE,
    rpe                 DOUBLE,
    superset_id         VARCHAR,
    exercise_notes      VARCHAR,
    workout_notes       VARCHAR,
    source_file         VARCHAR,
    imported_at         TIMESTAMP NOT NULL,
    PRIMARY KEY (athlete_id, app, started_local, exercise_title, exercise_occurrence, set_order)
);
COMMENT ON TABLE raw.lift_csv_sets IS 'One row per set of a lifting app''s CSV export (Strong, Hevy), keyed by what the export says (so a later export containing the same sets adds nothing). Units converted to SI from the units the export used.';
COMMENT ON COLUMN raw.lift_csv_sets.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN raw.lift_csv_sets.app IS 'strong or hevy (which export).';
COMMENT ON COLUMN raw.lift_csv_sets.started_local IS 'Workout start as the export wrote it: local time of the phone, no zone.';
COMMENT ON COLUMN raw.lift_csv_sets.exercise_title IS 'Exercise name as the app wrote it.';
COMMENT ON COLUMN raw.lift_csv_sets.exercise_occurrence IS 'Which block of this exercise in the workout (1: the first; an exercise done twice has 2).';
COMMENT ON COLUMN raw.lift_csv_sets.set_order IS 'Set number within the exercise block (Strong: Set Order; Hevy: set_index), as exported.';
COMMENT ON COLUMN raw.lift_csv_sets.workout_title IS 'Workout name.';
COMMENT ON COLUMN raw.lift_csv_sets.ended_local IS 'Workout end, local time (Hevy exports).';
COMMENT ON COLUMN raw.lift_csv_sets.duration_s IS 'Workout duration, s (Strong: Duration, e.g. 1h 5m).';
COMMENT ON COLUMN raw.lift_csv_sets.exercise_position IS 'Position of the exercise block in the workout, from 1 (order of first appearance in the file).';
COMMENT ON COLUMN raw.lift_csv_sets.set_type IS 'normal, warmup, dropset or failure (Hevy: set_type; Strong: W/D/F in Set Order); NULL: not said.';
COMMENT ON COLUMN raw.lift_csv_sets.weight_kg IS 'Load, kg (converted from lb when the export is in lb).';
COMMENT ON COLUMN raw.lift_csv_sets.reps IS 'Repetitions.';
COMMENT ON COLUMN raw.lift_csv_sets.distance_m IS 'Distance, m (converted from km, miles, ...).';
COMMENT ON COLUMN raw.lift_csv_sets.set_duration_s IS 'Duration of the set, s.';
COMMENT ON COLUMN raw.lift_csv_sets.rpe IS 'RPE as logged; NULL: not logged.';
COMMENT ON COLUMN raw.lift_csv_sets.superset_id IS 'Hevy superset_id as exported.';
COMMENT ON COLUMN raw.lift_csv_sets.exercise_notes IS 'Exercise (or set) notes.';
COMMENT ON COLUMN raw.lift_csv_sets.workout_notes IS 'Workout notes / description.';
COMMENT ON COLUMN raw.lift_csv_sets.source_file IS 'File name of the export that first brought the set.';
COMMENT ON COLUMN raw.lift_csv_sets.imported_at IS 'When it was imported, UTC.';
