-- Top authors over a period of whole days without grouping a month of authors per request:
-- a few "author windows" (periods asked for recently), each holding every author's exact
-- mentions and engagement over its days.  Triggers on ``mention_day_author`` keep every window
-- covering the changed day exact; a window is built on the first request for its period and
-- then rolled (days added and removed) when the period moves (see sqlite_dashboard_authors.py).
CREATE TABLE author_window (
    id        INTEGER PRIMARY KEY,
    first_day TEXT NOT NULL,  -- first day counted
    end_day   TEXT NOT NULL,  -- day after the last day counted
    used_at   TEXT NOT NULL
);

CREATE TABLE author_window_count (
    window_id     INTEGER NOT NULL,
    source        TEXT NOT NULL,
    author_handle TEXT NOT NULL,
    mentions      INTEGER NOT NULL,
    engagement    INTEGER NOT NULL,
    PRIMARY KEY (window_id, source, author_handle)
) WITHOUT ROWID;
CREATE INDEX author_window_top ON author_window_count (window_id, mentions DESC, author_handle, source);

CREATE TRIGGER author_window_day_insert AFTER INSERT ON mention_day_author BEGIN
    INSERT INTO author_window_count (window_id, source, author_handle, mentions, engagement)
        SELECT id, new.source, new.author_handle, new.mentions, new.engagement FROM author_window
        WHERE new.day >= first_day AND new.day < end_day
        ON CONFLICT (window_id, source, author_handle) DO UPDATE
            SET mentions = mentions + excluded.mentions, engagement = engagement + excluded.engagement;
END;

-- The usual change (one more mention of an author on a day) adds the difference in one statement.
CREATE TRIGGER author_window_day_update AFTER UPDATE OF mentions, engagement ON mention_day_author
        WHEN old.day = new.day AND old.source = new.source AND old.author_handle = new.author_handle BEGIN
    INSERT INTO author_window_count (window_id, source, author_handle, mentions, engagement)
        SELECT id, new.source, new.author_handle, new.mentions - old.mentions,
               new.engagement - old.engagement FROM author_window
        WHERE new.day >= first_day AND new.day < end_day
        ON CONFLICT (window_id, source, author_handle) DO UPDATE
            SET mentions = mentions + excluded.mentions, engagement = engagement + excluded.engagement;
END;

CREATE TRIGGER author_window_day_rekey AFTER UPDATE OF day, source, author_handle ON mention_day_author
        WHEN old.day <> new.day OR old.source <> new.source OR old.author_handle <> new.author_handle BEGIN
    UPDATE author_window_count SET mentions = mentions - old.mentions, engagement = engagement - old.engagement
        WHERE source = old.source AND author_handle = old.author_handle
          AND window_id IN (SELECT id FROM author_window WHERE old.day >= first_day AND old.day < end_day);
    INSERT INTO author_window_count (window_id, source, author_handle, mentions, engagement)
        SELECT id, new.source, new.author_handle, new.mentions, new.engagement FROM author_window
        WHERE new.day >= first_day AND new.day < end_day
        ON CONFLICT (window_id, source, author_handle) DO UPDATE
            SET mentions = mentions + excluded.mentions, engagement = engagement + excluded.engagement;
END;

CREATE TRIGGER author_window_day_delete AFTER DELETE ON mention_day_author BEGIN
    UPDATE author_window_count SET mentions = mentions - old.mentions, engagement = engagement - old.engagement
        WHERE source = old.source AND author_handle = old.author_handle
          AND window_id IN (SELECT id FROM author_window WHERE old.day >= first_day AND old.day < end_day);
END;
