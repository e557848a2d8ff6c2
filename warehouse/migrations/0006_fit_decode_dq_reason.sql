-- 0005: data-quality reasons on FIT sessions and sets (values no session or set can have, see
-- docs/fit-import.md), and the FIT files removed with `runlift remove-fit` (so a later import of
-- the same folder does not bring them back).
ALTER TABLE raw.fit_sessions ADD COLUMN dq_reason VARCHAR;
COMMENT ON COLUMN raw.fit_sessions.dq_reason IS 'Why the session''s values cannot be real (a value outside the bounds of docs/fit-import.md, e.g. total_distance_m = 1e+298 outside [0, 2e+06]); NULL: none found. The row is kept as the file said it.';
ALTER TABLE raw.fit_sets ADD COLUMN dq_reason VARCHAR;
COMMENT ON COLUMN raw.fit_sets.dq_reason IS 'Why the set''s values cannot be real (e.g. weight_kg = 1e+09 outside [0, 1000]); NULL: none found. The row is kept as the file said it.';

CREATE TABLE ops.fit_removed_files (
    athlete_id    VARCHAR NOT NULL,
    file_sha256   VARCHAR NOT NULL,
    first_path    VARCHAR,
    removed_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (athlete_id, file_sha256)
);
COMMENT ON TABLE ops.fit_removed_files IS 'FIT files removed with `runlift remove-fit` (rows and kept bytes deleted): later imports skip the same content until `runlift remove-fit --readmit`.';
COMMENT ON COLUMN ops.fit_removed_files.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN ops.fit_removed_files.file_sha256 IS 'SHA-256 of the removed file''s FIT bytes.';
COMMENT ON COLUMN ops.fit_removed_files.first_path IS 'Where the file was first seen.';
COMMENT ON COLUMN ops.fit_removed_files.removed_at IS 'When it was removed, UTC.';
