-- grain: one row per Strava activity and stream type; no positions
CREATE OR REPLACE VIEW staging.stg_strava__streams AS
WITH source AS (
    SELECT s.* FROM raw.strava_streams s
    JOIN raw.strava_activities a USING (athlete_id, activity_id)
    WHERE a.deleted_at IS NULL AND s.stream_type NOT IN ('lat', 'lng', 'latlng')
),
final AS (
    SELECT athlete_id, activity_id, stream_type,
           -- samples outside their plausible bounds (docs/metrics.md) become NULL (no note per sample)
           CASE stream_type
               WHEN 'cadence' THEN list_transform(data, lambda x: staging.bounded(x, 0, 300) * 2)
               WHEN 'heartrate' THEN list_transform(data, lambda x: staging.bounded(x, 20, 250))
               WHEN 'velocity_smooth' THEN list_transform(data, lambda x: staging.bounded(x, 0, 100))
               WHEN 'distance' THEN list_transform(data, lambda x: staging.bounded(x, 0, 1000000))
               WHEN 'altitude' THEN list_transform(data, lambda x: staging.bounded(x, -500, 9000))
               WHEN 'watts' THEN list_transform(data, lambda x: staging.bounded(x, 0, 3000))
               WHEN 'time' THEN list_transform(data, lambda x: staging.bounded(x, 0, 604800))
               WHEN 'grade_smooth' THEN list_transform(data, lambda x: staging.bounded(x, -100, 100))
               WHEN 'temp' THEN list_transform(data, lambda x: staging.bounded(x, -60, 70))
               ELSE list_transform(data, lambda x: CASE WHEN isfinite(x) THEN x END) END AS samples,
           len(data) AS n_samples
    FROM source
)
SELECT * FROM final;
COMMENT ON VIEW staging.stg_strava__streams IS 'Strava streams without positions; cadence doubled to steps per minute; samples outside plausible bounds are NULL.';
COMMENT ON COLUMN staging.stg_strava__streams.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN staging.stg_strava__streams.activity_id IS 'Strava activity id.';
COMMENT ON COLUMN staging.stg_strava__streams.stream_type IS 'Stream type (see raw.strava_streams).';
COMMENT ON COLUMN staging.stg_strava__streams.samples IS 'The samples (cadence in steps per minute).';
COMMENT ON COLUMN staging.stg_strava__streams.n_samples IS 'Number of samples.';
