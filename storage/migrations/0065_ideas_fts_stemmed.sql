-- Idea search by word stems: "invoice" finds "invoices" and "invoicing".  The full-text index
-- is rebuilt with FTS5's porter tokenizer over the same unicode61 rules; queries go through
-- the same tokenizer, so both sides are stemmed.  MongoDB keeps stemmed copies instead
-- (storage/search_stems.py).
DROP TRIGGER IF EXISTS ideas_fts_insert;
DROP TRIGGER IF EXISTS ideas_fts_delete;
DROP TRIGGER IF EXISTS ideas_fts_update;
DROP TABLE IF EXISTS ideas_fts;

CREATE VIRTUAL TABLE ideas_fts USING fts5 (
    title, body, content = 'ideas', content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER ideas_fts_insert AFTER INSERT ON ideas BEGIN
    INSERT INTO ideas_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
END;
CREATE TRIGGER ideas_fts_delete AFTER DELETE ON ideas BEGIN
    INSERT INTO ideas_fts (ideas_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
END;
CREATE TRIGGER ideas_fts_update AFTER UPDATE OF title, body ON ideas BEGIN
    INSERT INTO ideas_fts (ideas_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
    INSERT INTO ideas_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
END;
INSERT INTO ideas_fts (ideas_fts) VALUES ('rebuild');
