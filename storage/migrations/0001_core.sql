-- Customers, identities, mentions with full-text search, customer links, cursors, meta.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE customers (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('person', 'company')),
    company        TEXT,
    segment        TEXT,
    annual_revenue INTEGER,
    emails         TEXT NOT NULL DEFAULT '[]',
    domains        TEXT NOT NULL DEFAULT '[]',
    aliases        TEXT NOT NULL DEFAULT '[]',
    updated_at     TEXT NOT NULL
);
CREATE INDEX customers_name ON customers (name COLLATE NOCASE, id);

CREATE TABLE customer_identities (
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    platform    TEXT NOT NULL,
    handle      TEXT NOT NULL,
    PRIMARY KEY (platform, handle, customer_id)
);
CREATE INDEX customer_identities_customer ON customer_identities (customer_id);

CREATE TABLE mentions (
    id            INTEGER PRIMARY KEY,
    source        TEXT NOT NULL,
    external_id   TEXT NOT NULL,
    author_handle TEXT NOT NULL,
    author_name   TEXT,
    text          TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    url           TEXT,
    parent_id     TEXT,
    ingested_at   TEXT NOT NULL,
    UNIQUE (source, external_id)
);
CREATE INDEX mentions_created ON mentions (created_at, id);
CREATE INDEX mentions_source_created ON mentions (source, created_at, id);
CREATE INDEX mentions_author ON mentions (source, author_handle);

CREATE VIRTUAL TABLE mentions_fts USING fts5 (
    text, content = 'mentions', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER mentions_fts_insert AFTER INSERT ON mentions BEGIN
    INSERT INTO mentions_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER mentions_fts_delete AFTER DELETE ON mentions BEGIN
    INSERT INTO mentions_fts (mentions_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER mentions_fts_update AFTER UPDATE OF text ON mentions BEGIN
    INSERT INTO mentions_fts (mentions_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO mentions_fts (rowid, text) VALUES (new.id, new.text);
END;

CREATE TABLE mention_links (
    mention_id  INTEGER NOT NULL REFERENCES mentions (id) ON DELETE CASCADE,
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    confidence  REAL NOT NULL CHECK (confidence BETWEEN 0 AND 1),
    rule        TEXT NOT NULL,
    evidence    TEXT NOT NULL,
    span_start  INTEGER,
    span_end    INTEGER
);
CREATE INDEX mention_links_mention ON mention_links (mention_id);
CREATE INDEX mention_links_customer ON mention_links (customer_id, mention_id);

CREATE TABLE source_cursors (
    source_key TEXT PRIMARY KEY,
    cursor     TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
