-- rebuilds a table (applied with foreign keys off: see storage/sqlite/db.py)
-- Mentions are unique on (platform, identity) instead of (platform, external id): ids that are
-- only unique on one server (Mastodon status ids, Discourse post ids, bare RSS guids) no longer
-- make a second server's post a "duplicate", and a federated Mastodon status read through two
-- instances is one mention.  domain/mention_identity.py says what the identity is per platform;
-- the CASE below computes the same from the stored columns.  SQLite cannot drop a table's
-- UNIQUE constraint, so the table is made anew: every row is copied with its id (links,
-- topics, triage, replies and the full-text index keep pointing at it), then the old table is
-- dropped and the indexes and triggers made again as they were.  Rows that now share an
-- identity (one federated status stored twice before) are all kept: the first has the
-- identity, each later one a marked copy of it.
CREATE TABLE mentions_new (
    id                 INTEGER PRIMARY KEY,
    source             TEXT NOT NULL,
    external_id        TEXT NOT NULL,
    author_handle      TEXT NOT NULL,
    author_name        TEXT,
    text               TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    url                TEXT,
    parent_id          TEXT,
    ingested_at        TEXT NOT NULL,
    author_platform_id TEXT,
    thread_id          TEXT,
    language           TEXT,
    engagement         TEXT NOT NULL DEFAULT '{}',
    topics             TEXT NOT NULL DEFAULT '[]',
    sentiment          REAL NOT NULL DEFAULT 0,
    sentiment_label    TEXT NOT NULL DEFAULT 'neutral',
    intent             TEXT NOT NULL DEFAULT 'other',
    detected_language  TEXT,
    flags              TEXT NOT NULL DEFAULT '[]',
    topic_evidence     TEXT NOT NULL DEFAULT '[]',
    backfill           INTEGER NOT NULL DEFAULT 0,
    source_key         TEXT,
    identity           TEXT NOT NULL,
    UNIQUE (source, identity)
);
INSERT INTO mentions_new (id, source, external_id, author_handle, author_name, text, created_at, url,
                          parent_id, ingested_at, author_platform_id, thread_id, language, engagement,
                          topics, sentiment, sentiment_label, intent, detected_language, flags,
                          topic_evidence, backfill, source_key, identity)
SELECT id, source, external_id, author_handle, author_name, text, created_at, url,
       parent_id, ingested_at, author_platform_id, thread_id, language, engagement,
       topics, sentiment, sentiment_label, intent, detected_language, flags,
       topic_evidence, backfill, source_key,
       CASE WHEN row_number() OVER (PARTITION BY source, computed ORDER BY id) = 1 THEN computed
            ELSE computed || ' (also stored as mention ' || id || ')' END
FROM (SELECT *, CASE
          WHEN source = 'mastodon' AND url IS NOT NULL AND url <> '' THEN url
          WHEN source = 'discourse' AND instr(url, '/t/') > 0
              THEN substr(url, 1, instr(url, '/t/') - 1) || ' ' || external_id
          WHEN source = 'rss' AND thread_id IS NOT NULL AND thread_id <> ''
               AND NOT (external_id LIKE 'http://%' OR external_id LIKE 'https://%'
                        OR external_id LIKE 'urn:%' OR external_id LIKE 'tag:%'
                        OR external_id LIKE 'sha256:%' OR external_id LIKE 'text-sha256:%')
              THEN thread_id || '#' || external_id
          ELSE external_id END AS computed
      FROM mentions)
ORDER BY id;
DROP TABLE mentions;
-- The legacy rename leaves the triggers of other tables alone: they name "mentions", which
-- the new table is about to be (the checking rename refuses while it does not exist).
PRAGMA legacy_alter_table = ON;
ALTER TABLE mentions_new RENAME TO mentions;
PRAGMA legacy_alter_table = OFF;
-- (source, external_id) is no longer unique, and is still how a thread's posts and a
-- platform's reply target are found.
CREATE INDEX mentions_source_external ON mentions (source, external_id);
CREATE INDEX mentions_author ON mentions (source, author_handle);
CREATE INDEX mentions_author_lower ON mentions (source, lower(author_handle));
CREATE INDEX mentions_created ON mentions (created_at, id);
CREATE INDEX mentions_detected_language ON mentions (detected_language, created_at, id);
CREATE INDEX mentions_intent ON mentions (intent, created_at, id);
CREATE INDEX mentions_parent ON mentions (source, parent_id);
CREATE INDEX mentions_sentiment ON mentions (sentiment_label, created_at, id);
CREATE INDEX mentions_source_created ON mentions (source, created_at, id);
CREATE INDEX mentions_thread ON mentions (source, thread_id);
CREATE TRIGGER mention_summaries_delete BEFORE DELETE ON mentions BEGIN
    UPDATE mention_day_source SET mentions = mentions - 1, sentiment_sum = sentiment_sum - old.sentiment
        WHERE day = substr(old.created_at, 1, 10) AND source = old.source;
    UPDATE mention_day_author SET mentions = mentions - 1,
            engagement = engagement - (SELECT total(value) FROM json_each(old.engagement))
        WHERE day = substr(old.created_at, 1, 10) AND source = old.source
          AND author_handle = old.author_handle;
    UPDATE mention_day_topic SET mentions = mentions - 1
        WHERE day = substr(old.created_at, 1, 10)
          AND topic IN (SELECT topic FROM mention_topics WHERE mention_id = old.id);
END;
CREATE TRIGGER mention_summaries_insert AFTER INSERT ON mentions BEGIN
    INSERT INTO mention_day_source (day, source, mentions, sentiment_sum)
        VALUES (substr(new.created_at, 1, 10), new.source, 1, new.sentiment)
        ON CONFLICT (day, source) DO UPDATE SET mentions = mentions + 1,
            sentiment_sum = sentiment_sum + excluded.sentiment_sum;
    INSERT INTO mention_day_author (day, source, author_handle, author_name, mentions, engagement)
        VALUES (substr(new.created_at, 1, 10), new.source, new.author_handle, new.author_name, 1,
                (SELECT total(value) FROM json_each(new.engagement)))
        ON CONFLICT (day, source, author_handle) DO UPDATE SET mentions = mentions + 1,
            engagement = engagement + excluded.engagement,
            author_name = coalesce(excluded.author_name, author_name);
END;
CREATE TRIGGER mention_summaries_update AFTER UPDATE OF created_at, source, sentiment ON mentions BEGIN
    UPDATE mention_day_source SET mentions = mentions - 1, sentiment_sum = sentiment_sum - old.sentiment
        WHERE day = substr(old.created_at, 1, 10) AND source = old.source;
    INSERT INTO mention_day_source (day, source, mentions, sentiment_sum)
        VALUES (substr(new.created_at, 1, 10), new.source, 1, new.sentiment)
        ON CONFLICT (day, source) DO UPDATE SET mentions = mentions + 1,
            sentiment_sum = sentiment_sum + excluded.sentiment_sum;
END;
CREATE TRIGGER mentions_fts_delete AFTER DELETE ON mentions BEGIN
    INSERT INTO mentions_fts (mentions_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER mentions_fts_insert AFTER INSERT ON mentions BEGIN
    INSERT INTO mentions_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER mentions_fts_update AFTER UPDATE OF text ON mentions BEGIN
    INSERT INTO mentions_fts (mentions_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO mentions_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER voice_day_delete AFTER DELETE ON mentions BEGIN
    DELETE FROM voice_day WHERE day = substr(old.created_at, 1, 10);
END;
CREATE TRIGGER voice_day_insert AFTER INSERT ON mentions BEGIN
    DELETE FROM voice_day WHERE day = substr(new.created_at, 1, 10);
END;
CREATE TRIGGER voice_day_update AFTER UPDATE OF text, created_at ON mentions BEGIN
    DELETE FROM voice_day WHERE day IN (substr(old.created_at, 1, 10), substr(new.created_at, 1, 10));
END;
