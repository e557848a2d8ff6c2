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
