-- How each topic of a mention was found (JSON list of {topic, rule, phrase, start, end}),
-- so the feed can show it; mentions stored before this have none ('[]').
ALTER TABLE mentions ADD COLUMN topic_evidence TEXT NOT NULL DEFAULT '[]';

-- A manager's topic set for a mention (the training data of the topic model). One row per
-- mention: a new label replaces the old one. An empty list means "about none of the topics".
CREATE TABLE mention_topic_labels (
    mention_id  INTEGER PRIMARY KEY REFERENCES mentions (id) ON DELETE CASCADE,
    topics      TEXT NOT NULL,            -- JSON list of taxonomy keys
    labelled_by TEXT NOT NULL,
    labelled_at TEXT NOT NULL
);
CREATE INDEX mention_topic_labels_at ON mention_topic_labels (labelled_at, mention_id);
