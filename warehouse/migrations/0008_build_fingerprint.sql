-- 0008: what lets a night with nothing new do (almost) nothing: the files of a FIT inbox read whole
-- by an import, by their size and times (not read and hashed again while these are unchanged), and
-- every build of the marts with the fingerprint of what it was built from (a night whose
-- fingerprint equals the last successful build's does not rebuild; README.md, "A night with nothing new").
CREATE TABLE ops.fit_seen_files (
    athlete_id   VARCHAR NOT NULL,
    path         VARCHAR NOT NULL,
    size_bytes   BIGINT NOT NULL,
    mtime_ns     BIGINT NOT NULL,
    ctime_ns     BIGINT NOT NULL,
    inode        BIGINT NOT NULL,
    fit_files    INTEGER NOT NULL,
    fit_bytes    BIGINT NOT NULL,
    recorded_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (athlete_id, path)
);
COMMENT ON TABLE ops.fit_seen_files IS 'Files (a .fit, a .fit.gz, a whole .zip) an import read whole, every FIT file in them imported or already known: a later import does not read them again while path, size, modification and change times and inode are the same. Files with an unreadable part are not listed (read again each time).';
COMMENT ON COLUMN ops.fit_seen_files.athlete_id IS 'runlift athlete id.';
COMMENT ON COLUMN ops.fit_seen_files.path IS 'The file as the import found it (a folder''s file joined to the folder given).';
COMMENT ON COLUMN ops.fit_seen_files.size_bytes IS 'Its size on disk, bytes.';
COMMENT ON COLUMN ops.fit_seen_files.mtime_ns IS 'Its modification time, ns since 1970 (st_mtime_ns).';
COMMENT ON COLUMN ops.fit_seen_files.ctime_ns IS 'Its inode change time, ns since 1970 (st_ctime_ns; a copy that keeps the modification time still changes it).';
COMMENT ON COLUMN ops.fit_seen_files.inode IS 'Its inode number (st_ino).';
COMMENT ON COLUMN ops.fit_seen_files.fit_files IS 'FIT files found in it (1 for a .fit; the members of a zip), counted as already known when it is not read again.';
COMMENT ON COLUMN ops.fit_seen_files.fit_bytes IS 'Their FIT bytes, uncompressed.';
COMMENT ON COLUMN ops.fit_seen_files.recorded_at IS 'When the import that read it finished, UTC.';

CREATE TABLE ops.builds (
    build_id        VARCHAR PRIMARY KEY,
    started_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP NOT NULL,
    as_of_date      DATE NOT NULL,
    fingerprint     VARCHAR NOT NULL,
    mart_rows       VARCHAR NOT NULL,
    test_failures   INTEGER NOT NULL
);
COMMENT ON TABLE ops.builds IS 'One row per build of the marts (runlift build, a night, an import that rebuilds). A night whose fingerprint equals the last build''s (without model test failures) does not rebuild.';
COMMENT ON COLUMN ops.builds.build_id IS 'Random id of the build.';
COMMENT ON COLUMN ops.builds.started_at IS 'Start, UTC.';
COMMENT ON COLUMN ops.builds.finished_at IS 'End (models built and tested), UTC.';
COMMENT ON COLUMN ops.builds.as_of_date IS 'The as-of date the marts were built for.';
COMMENT ON COLUMN ops.builds.fingerprint IS 'SHA-256 of what the marts were built from: the raw tables (row counts and row hashes), the athletes'' settings, units, the as-of date, the models, seeds and build code, runlift''s and DuckDB''s versions.';
COMMENT ON COLUMN ops.builds.mart_rows IS 'Rows per mart after the build, JSON ({"fct_activities": 812, ...}).';
COMMENT ON COLUMN ops.builds.test_failures IS 'Model tests that failed (0: all passed).';
