-- grain: one row per athlete and Strava gear id that GET /gear/{id} has answered for
CREATE OR REPLACE VIEW staging.stg_strava__gear AS
WITH source AS (
    SELECT * FROM raw.strava_gear
),
final AS (
    SELECT
        athlete_id,
        gear_id,
        fetch_status,
        -- the athlete's nickname when set, else Strava's name (brand and model)
        coalesce(nullif(trim(nickname), ''), nullif(trim(name), '')) AS display_name,
        name,
        nickname,
        brand_name,
        model_name,
        coalesce(is_primary, false) AS is_primary,
        coalesce(is_retired, false) AS is_retired,
        staging.bounded(distance_m, 0, 1e9) AS strava_distance_m,
        fetched_at
    FROM source
)
SELECT * FROM final;
COMMENT ON VIEW staging.stg_strava__gear IS 'Strava gear (shoes, bikes) as GET /gear/{id} last described it (raw.strava_gear).';
COMMENT ON COLUMN staging.stg_strava__gear.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN staging.stg_strava__gear.gear_id IS 'Strava gear id (g... shoes, b... bikes).';
COMMENT ON COLUMN staging.stg_strava__gear.fetch_status IS 'ok, not_found or unusable (raw.strava_gear.fetch_status).';
COMMENT ON COLUMN staging.stg_strava__gear.display_name IS 'The nickname when the athlete set one, else Strava''s name; NULL when Strava gave none.';
COMMENT ON COLUMN staging.stg_strava__gear.name IS 'Strava''s name of the gear.';
COMMENT ON COLUMN staging.stg_strava__gear.nickname IS 'The athlete''s nickname for it.';
COMMENT ON COLUMN staging.stg_strava__gear.brand_name IS 'Brand.';
COMMENT ON COLUMN staging.stg_strava__gear.model_name IS 'Model.';
COMMENT ON COLUMN staging.stg_strava__gear.is_primary IS 'The athlete''s default gear at Strava.';
COMMENT ON COLUMN staging.stg_strava__gear.is_retired IS 'Retired at Strava (unknown: false).';
COMMENT ON COLUMN staging.stg_strava__gear.strava_distance_m IS 'Strava''s own total for the gear when fetched, m (all its activities, any sport).';
COMMENT ON COLUMN staging.stg_strava__gear.fetched_at IS 'When it was last fetched, UTC.';
