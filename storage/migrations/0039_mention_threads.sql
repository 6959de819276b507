-- A mention's thread view reads the posts of its thread and the replies to it on one source.
CREATE INDEX IF NOT EXISTS mentions_thread ON mentions (source, thread_id);
CREATE INDEX IF NOT EXISTS mentions_parent ON mentions (source, parent_id);
