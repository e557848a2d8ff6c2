-- Placeholder so the migrations are numbered without gaps on this branch (hevy). Another branch
-- brings the real 0011: delete this file when merging.
SELECT 1;
