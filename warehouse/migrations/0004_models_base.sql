-- 0004: the intermediate layer and the athletes' parameters (from the settings file, written by
-- every `runlift build`), which the models read like any other source.
CREATE SCHEMA IF NOT EXISTS intermediate;

CREATE TABLE raw.athletes (
    athlete_id      VARCHAR PRIMARY KEY,
    timezone        VARCHAR NOT NULL,
    sex             VARCHAR NOT NULL,
    max_hr_bpm      INTEGER,
    resting_hr_bpm  INTEGER,
    loaded_at       TIMESTAMP NOT NULL
);
COMMENT ON TABLE raw.athletes IS 'The athletes of the settings file ([athletes.<id>]), as of the last build.';
COMMENT ON COLUMN raw.athletes.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN raw.athletes.timezone IS 'IANA time zone: the day of an activity whose source gives no local time.';
COMMENT ON COLUMN raw.athletes.sex IS 'female, male or unspecified.';
COMMENT ON COLUMN raw.athletes.max_hr_bpm IS 'Maximum heart rate, beats/min (NULL: not set).';
COMMENT ON COLUMN raw.athletes.resting_hr_bpm IS 'Resting heart rate, beats/min (NULL: not set).';
COMMENT ON COLUMN raw.athletes.loaded_at IS 'When the settings were read, UTC.';

CREATE TABLE raw.athlete_body_mass (
    athlete_id    VARCHAR NOT NULL,
    valid_from    DATE NOT NULL,
    body_mass_kg  DOUBLE NOT NULL,
    PRIMARY KEY (athlete_id, valid_from)
);
COMMENT ON TABLE raw.athlete_body_mass IS 'Body mass from the settings file, each value in force from valid_from (an undated value: from 1900-01-01).';
COMMENT ON COLUMN raw.athlete_body_mass.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN raw.athlete_body_mass.valid_from IS 'First day the value applies (athlete local date).';
COMMENT ON COLUMN raw.athlete_body_mass.body_mass_kg IS 'Body mass, kg.';
