-- 0001: the four schemas and pipeline state.
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS marts;
CREATE SCHEMA IF NOT EXISTS ops;

CREATE TABLE ops.import_runs (
    run_id          VARCHAR PRIMARY KEY,
    athlete_id      VARCHAR NOT NULL,
    source          VARCHAR NOT NULL,
    started_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP,
    files_seen      INTEGER,
    files_new       INTEGER,
    files_known     INTEGER,
    files_ok        INTEGER,
    files_partial   INTEGER,
    files_rejected  INTEGER,
    files_skipped   INTEGER,
    sessions        INTEGER,
    sets            INTEGER,
    records         BIGINT,
    bytes_read      BIGINT
);
COMMENT ON TABLE ops.import_runs IS 'One row per import run (FIT import, reprocess): what it saw and what it added. Timestamps are UTC.';
COMMENT ON COLUMN ops.import_runs.run_id IS 'Random id of the run.';
COMMENT ON COLUMN ops.import_runs.athlete_id IS 'runlift athlete id (* for a reprocess of every athlete).';
COMMENT ON COLUMN ops.import_runs.source IS 'fit (an import) or fit-reprocess (re-decoding kept files).';
COMMENT ON COLUMN ops.import_runs.started_at IS 'Start, UTC.';
COMMENT ON COLUMN ops.import_runs.finished_at IS 'End, UTC.';
COMMENT ON COLUMN ops.import_runs.files_seen IS 'Readable files looked at.';
COMMENT ON COLUMN ops.import_runs.files_new IS 'Files whose content was not in the warehouse yet.';
COMMENT ON COLUMN ops.import_runs.files_known IS 'Files whose content was already there (nothing written).';
COMMENT ON COLUMN ops.import_runs.files_ok IS 'New files with status ok.';
COMMENT ON COLUMN ops.import_runs.files_partial IS 'New files with status partial.';
COMMENT ON COLUMN ops.import_runs.files_rejected IS 'New files with status rejected.';
COMMENT ON COLUMN ops.import_runs.files_skipped IS 'New files with status skipped (not activities).';
COMMENT ON COLUMN ops.import_runs.sessions IS 'Sessions added.';
COMMENT ON COLUMN ops.import_runs.sets IS 'Active strength sets added.';
COMMENT ON COLUMN ops.import_runs.records IS 'Records (per-second samples) added.';
COMMENT ON COLUMN ops.import_runs.bytes_read IS 'FIT bytes read, bytes (uncompressed).';
