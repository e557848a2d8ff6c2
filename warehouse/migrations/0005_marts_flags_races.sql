-- 0005: the flag settings of each athlete (from the settings file, written by every `runlift build`):
-- whether ACWR flags are raised, and the planned races whose taper raises no low-load flag.
-- (added with its default, then made NOT NULL: DuckDB 1.5 adds no column with a constraint; the
-- applied migrations are recorded by number, so warehouses that ran the one-statement form are unchanged)
ALTER TABLE raw.athletes ADD COLUMN acwr_flags BOOLEAN DEFAULT false;
ALTER TABLE raw.athletes ALTER COLUMN acwr_flags SET NOT NULL;
COMMENT ON COLUMN raw.athletes.acwr_flags IS 'Raise acwr_high / acwr_low flags (settings flags.acwr, or athletes.<id>.acwr_flags; default false).';

CREATE TABLE raw.athlete_races (
    athlete_id   VARCHAR NOT NULL,
    race_date    DATE NOT NULL,
    name         VARCHAR NOT NULL,
    distance_m   DOUBLE,
    taper_days   INTEGER,
    PRIMARY KEY (athlete_id, race_date, name)
);
COMMENT ON TABLE raw.athlete_races IS 'Planned races from the settings file (athletes.<id>.races), as of the last build.';
COMMENT ON COLUMN raw.athlete_races.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN raw.athlete_races.race_date IS 'Race day (athlete local date).';
COMMENT ON COLUMN raw.athlete_races.name IS 'The race''s name as the settings give it.';
COMMENT ON COLUMN raw.athlete_races.distance_m IS 'Race distance, m (NULL: not given).';
COMMENT ON COLUMN raw.athlete_races.taper_days IS 'Days of taper before race day as the settings give it (NULL: the default, see staging.stg_settings__races).';
