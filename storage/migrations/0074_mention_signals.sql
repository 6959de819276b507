-- The values of NLP signals declared after sentiment, intent and language (which keep their
-- columns on mentions): one row per (signal, value, mention) so that a filter on any of them
-- uses an index, as mention_topics does for topics.  Existing mentions keep every column; a
-- mention analysed before a signal existed simply has no row for it.
CREATE TABLE mention_signals (
    signal     TEXT NOT NULL,
    value      TEXT NOT NULL,
    mention_id INTEGER NOT NULL REFERENCES mentions (id) ON DELETE CASCADE,
    PRIMARY KEY (signal, value, mention_id)
) WITHOUT ROWID;
CREATE INDEX mention_signals_mention ON mention_signals (mention_id, signal);
