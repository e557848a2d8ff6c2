-- Helpers for the models (temporary: they live for one build). Display units come from the
-- settings (variable `units`); storage stays SI.
CREATE OR REPLACE TEMP MACRO fmt_distance(m) AS
    CASE WHEN getvariable('units') = 'imperial' THEN printf('%.1f mi', m / 1609.344) ELSE printf('%.1f km', m / 1000.0) END;

-- Plausible bounds (docs/metrics.md "Values that cannot be"), used by the staging views. These are
-- persistent (schema staging), not temporary: the views that call them are read by other
-- connections too. A value outside [lo, hi], infinity or NaN becomes NULL; bound_note says so.
CREATE OR REPLACE MACRO staging.bounded(x, lo, hi) AS
    CASE WHEN x BETWEEN lo AND hi THEN x END;
CREATE OR REPLACE MACRO staging.bound_note(field, x, lo, hi) AS
    CASE WHEN x IS NOT NULL AND NOT (x BETWEEN lo AND hi)
         THEN field || ' ' || CAST(x AS VARCHAR) || ' outside [' || CAST(lo AS VARCHAR) || ', '
              || CAST(hi AS VARCHAR) || ']: dropped' END;
-- a strength set's bounds, shared by stg_fit__sets (its rows) and stg_fit__sessions (its session's notes)
CREATE OR REPLACE MACRO staging.set_bounds_notes(duration_s, repetitions, weight_kg) AS
    list_filter([staging.bound_note('duration_s', duration_s, 0, 86400),
                 staging.bound_note('repetitions', repetitions, 0, 1000),
                 staging.bound_note('weight_kg', weight_kg, 0, 1000)], lambda n: n IS NOT NULL);
-- true when set_bounds_notes has nothing to say (NULL values are in bounds: missing, not wrong)
CREATE OR REPLACE MACRO staging.set_in_bounds(duration_s, repetitions, weight_kg) AS
    coalesce(duration_s BETWEEN 0 AND 86400, true) AND coalesce(repetitions BETWEEN 0 AND 1000, true)
    AND coalesce(weight_kg BETWEEN 0 AND 1000, true);
