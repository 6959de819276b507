-- Daily summaries the dashboard's charts read instead of a month of mentions: mentions and
-- summed sentiment per day and source, mentions per day and topic, and per day and author
-- (mentions and summed engagement).  Triggers keep them exact; the rows already stored are
-- counted once here.
CREATE TABLE mention_day_source (
    day           TEXT NOT NULL,
    source        TEXT NOT NULL,
    mentions      INTEGER NOT NULL,
    sentiment_sum REAL NOT NULL,
    PRIMARY KEY (day, source)
) WITHOUT ROWID;
INSERT INTO mention_day_source (day, source, mentions, sentiment_sum)
    SELECT substr(created_at, 1, 10), source, count(*), total(sentiment) FROM mentions GROUP BY 1, 2;

CREATE TABLE mention_day_topic (
    day      TEXT NOT NULL,
    topic    TEXT NOT NULL,
    mentions INTEGER NOT NULL,
    PRIMARY KEY (day, topic)
) WITHOUT ROWID;
INSERT INTO mention_day_topic (day, topic, mentions)
    SELECT substr(m.created_at, 1, 10), t.topic, count(*)
    FROM mention_topics t JOIN mentions m ON m.id = t.mention_id GROUP BY 1, 2;

CREATE TABLE mention_day_author (
    day           TEXT NOT NULL,
    source        TEXT NOT NULL,
    author_handle TEXT NOT NULL,
    author_name   TEXT,
    mentions      INTEGER NOT NULL,
    engagement    INTEGER NOT NULL,
    PRIMARY KEY (day, source, author_handle)
) WITHOUT ROWID;
INSERT INTO mention_day_author (day, source, author_handle, author_name, mentions, engagement)
    SELECT substr(created_at, 1, 10), source, author_handle, max(author_name), count(*),
           total((SELECT total(value) FROM json_each(engagement)))
    FROM mentions GROUP BY 1, 2, 3;

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

-- Before the delete, while the mention's topics still exist (the cascade removes them after).
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

CREATE TRIGGER mention_summaries_update AFTER UPDATE OF created_at, source, sentiment ON mentions BEGIN
    UPDATE mention_day_source SET mentions = mentions - 1, sentiment_sum = sentiment_sum - old.sentiment
        WHERE day = substr(old.created_at, 1, 10) AND source = old.source;
    INSERT INTO mention_day_source (day, source, mentions, sentiment_sum)
        VALUES (substr(new.created_at, 1, 10), new.source, 1, new.sentiment)
        ON CONFLICT (day, source) DO UPDATE SET mentions = mentions + 1,
            sentiment_sum = sentiment_sum + excluded.sentiment_sum;
END;

-- A topic added to (or removed from) a stored mention; a mention being deleted is handled above
-- (its row is gone by then, so the day is NULL and nothing matches).
CREATE TRIGGER mention_day_topic_insert AFTER INSERT ON mention_topics BEGIN
    INSERT INTO mention_day_topic (day, topic, mentions)
        SELECT substr(created_at, 1, 10), new.topic, 1 FROM mentions WHERE id = new.mention_id
        ON CONFLICT (day, topic) DO UPDATE SET mentions = mentions + 1;
END;
CREATE TRIGGER mention_day_topic_delete AFTER DELETE ON mention_topics BEGIN
    UPDATE mention_day_topic SET mentions = mentions - 1
        WHERE topic = old.topic
          AND day = (SELECT substr(created_at, 1, 10) FROM mentions WHERE id = old.mention_id);
END;
