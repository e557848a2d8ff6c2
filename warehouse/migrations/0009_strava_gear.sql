-- 0009: Strava gear (shoes, bikes) by id, from GET /gear/{id}: the typed fields and the whole JSON.
-- Which gear an activity used is its payload's gear_id, now also a typed column of raw.strava_activities
-- (filled from the stored payloads here); names and Strava's own totals are in raw.strava_gear.
ALTER TABLE raw.strava_activities ADD COLUMN gear_id VARCHAR;
UPDATE raw.strava_activities SET gear_id = payload->>'gear_id' WHERE payload->>'gear_id' IS NOT NULL;
COMMENT ON COLUMN raw.strava_activities.gear_id IS 'Strava gear the athlete set on the activity (shoe g..., bike b...; payload gear_id); NULL: none.';

CREATE TABLE raw.strava_gear (
    athlete_id          VARCHAR NOT NULL,
    gear_id             VARCHAR NOT NULL,
    fetch_status        VARCHAR NOT NULL,
    name                VARCHAR,
    nickname            VARCHAR,
    brand_name          VARCHAR,
    model_name          VARCHAR,
    description         VARCHAR,
    is_primary          BOOLEAN,
    is_retired          BOOLEAN,
    distance_m          DOUBLE,
    payload             JSON,
    first_fetched_at    TIMESTAMP NOT NULL,
    fetched_at          TIMESTAMP NOT NULL,
    PRIMARY KEY (athlete_id, gear_id)
);
COMMENT ON TABLE raw.strava_gear IS 'One row per runlift athlete and Strava gear id seen in their activities (gear_id), upserted by id from GET /gear/{id}: asked once when first seen, then again at most every strava.gear_refresh_days (names and retirement change rarely).';
COMMENT ON COLUMN raw.strava_gear.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN raw.strava_gear.gear_id IS 'Strava gear id as activities carry it (g... shoes, b... bikes).';
COMMENT ON COLUMN raw.strava_gear.fetch_status IS 'ok (fetched), not_found (Strava answered 404, e.g. gear deleted or not the athlete''s: asked again after the refresh interval) or unusable (the answer was no gear object).';
COMMENT ON COLUMN raw.strava_gear.name IS 'Gear name as Strava shows it (often brand and model).';
COMMENT ON COLUMN raw.strava_gear.nickname IS 'The athlete''s nickname for it, when set.';
COMMENT ON COLUMN raw.strava_gear.brand_name IS 'Brand.';
COMMENT ON COLUMN raw.strava_gear.model_name IS 'Model.';
COMMENT ON COLUMN raw.strava_gear.description IS 'The athlete''s description.';
COMMENT ON COLUMN raw.strava_gear.is_primary IS 'The athlete''s default gear for the sport (Strava primary).';
COMMENT ON COLUMN raw.strava_gear.is_retired IS 'Retired at Strava (Strava retired).';
COMMENT ON COLUMN raw.strava_gear.distance_m IS 'Strava''s own total distance for the gear when fetched, m (every activity it counts, any sport).';
COMMENT ON COLUMN raw.strava_gear.payload IS 'The whole JSON of GET /gear/{id} as last fetched, unknown fields included; NULL when not found.';
COMMENT ON COLUMN raw.strava_gear.first_fetched_at IS 'When runlift first asked for it, UTC.';
COMMENT ON COLUMN raw.strava_gear.fetched_at IS 'When it was last asked for, UTC.';

ALTER TABLE ops.strava_sync_runs ADD COLUMN gear_fetched INTEGER;
COMMENT ON COLUMN ops.strava_sync_runs.gear_fetched IS 'Gear calls made (GET /gear/{id}).';
