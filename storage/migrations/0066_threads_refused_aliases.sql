-- A mention's thread view reads the posts of its thread and the replies to it on one source.
CREATE INDEX IF NOT EXISTS mentions_thread ON mentions (source, thread_id);
CREATE INDEX IF NOT EXISTS mentions_parent ON mentions (source, parent_id);

-- An alias a manager refused as a plain word ("never link 'IS' as a word"): the gazetteer
-- is built without it.  alias_key is the alias lower-cased, as the matcher compares it.
CREATE TABLE refused_aliases (
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    alias_key   TEXT NOT NULL,
    alias       TEXT NOT NULL,
    refused_by  TEXT NOT NULL,
    refused_at  TEXT NOT NULL,
    PRIMARY KEY (customer_id, alias_key)
);
