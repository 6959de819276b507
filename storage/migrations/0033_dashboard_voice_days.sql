-- Share of voice per UTC day and brand (keyed by the brand's search phrases), kept once a day
-- was counted; any mention stored, changed or deleted for a day forgets that day's counts, so a
-- kept count is always exact.
CREATE TABLE voice_day (
    day       TEXT NOT NULL,
    brand_key TEXT NOT NULL,
    mentions  INTEGER NOT NULL,
    PRIMARY KEY (day, brand_key)
) WITHOUT ROWID;

CREATE TRIGGER voice_day_insert AFTER INSERT ON mentions BEGIN
    DELETE FROM voice_day WHERE day = substr(new.created_at, 1, 10);
END;
CREATE TRIGGER voice_day_delete AFTER DELETE ON mentions BEGIN
    DELETE FROM voice_day WHERE day = substr(old.created_at, 1, 10);
END;
CREATE TRIGGER voice_day_update AFTER UPDATE OF text, created_at ON mentions BEGIN
    DELETE FROM voice_day WHERE day IN (substr(old.created_at, 1, 10), substr(new.created_at, 1, 10));
END;
