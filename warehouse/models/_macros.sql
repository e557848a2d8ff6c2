-- Helpers for the models (temporary: they live for one build). Display units come from the
-- settings (variable `units`); storage stays SI.
CREATE OR REPLACE TEMP MACRO fmt_distance(m) AS
    CASE WHEN getvariable('units') = 'imperial' THEN printf('%.1f mi', m / 1609.344) ELSE printf('%.1f km', m / 1000.0) END;
