-- The NLP stage's findings on every mention (topics, sentiment, intent, detected language,
-- hygiene flags), customer links with an id and a review status, and what managers rejected.
ALTER TABLE mentions ADD COLUMN topics TEXT NOT NULL DEFAULT '[]';
ALTER TABLE mentions ADD COLUMN sentiment REAL NOT NULL DEFAULT 0;
ALTER TABLE mentions ADD COLUMN sentiment_label TEXT NOT NULL DEFAULT 'neutral';
ALTER TABLE mentions ADD COLUMN intent TEXT NOT NULL DEFAULT 'other';
ALTER TABLE mentions ADD COLUMN detected_language TEXT;
ALTER TABLE mentions ADD COLUMN flags TEXT NOT NULL DEFAULT '[]';
CREATE INDEX mentions_sentiment ON mentions (sentiment_label, created_at, id);
CREATE INDEX mentions_intent ON mentions (intent, created_at, id);
CREATE INDEX mentions_detected_language ON mentions (detected_language, created_at, id);

-- One row per (topic, mention) so that a topic filter uses an index.
CREATE TABLE mention_topics (
    topic      TEXT NOT NULL,
    mention_id INTEGER NOT NULL REFERENCES mentions (id) ON DELETE CASCADE,
    PRIMARY KEY (topic, mention_id)
) WITHOUT ROWID;
CREATE INDEX mention_topics_mention ON mention_topics (mention_id);

-- Links get a stable id (the review queue's handle) and a status:
-- accepted (sure enough), pending (awaits a manager), confirmed (by a manager).
CREATE TABLE mention_links_v2 (
    id          INTEGER PRIMARY KEY,
    mention_id  INTEGER NOT NULL REFERENCES mentions (id) ON DELETE CASCADE,
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    confidence  REAL NOT NULL CHECK (confidence BETWEEN 0 AND 1),
    rule        TEXT NOT NULL,
    evidence    TEXT NOT NULL,
    span_start  INTEGER,
    span_end    INTEGER,
    status      TEXT NOT NULL DEFAULT 'accepted'
                CHECK (status IN ('accepted', 'pending', 'confirmed')),
    decided_at  TEXT
);
INSERT INTO mention_links_v2 (mention_id, customer_id, confidence, rule, evidence,
                              span_start, span_end, status)
    SELECT mention_id, customer_id, confidence, rule, evidence, span_start, span_end,
           CASE WHEN confidence < 0.6 THEN 'pending' ELSE 'accepted' END
    FROM mention_links ORDER BY rowid;
DROP TABLE mention_links;
ALTER TABLE mention_links_v2 RENAME TO mention_links;
CREATE INDEX mention_links_mention ON mention_links (mention_id);
CREATE INDEX mention_links_customer ON mention_links (customer_id, mention_id);
CREATE INDEX mention_links_status ON mention_links (status, id);

-- A manager's rejection: this author's posts are not about this customer.
CREATE TABLE link_negatives (
    customer_id   TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    source        TEXT NOT NULL,
    author_handle TEXT NOT NULL,
    phrase        TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL,
    PRIMARY KEY (customer_id, source, author_handle, phrase)
);
