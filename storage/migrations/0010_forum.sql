-- The ideas forum: accounts, sessions, API tokens, ideas with full-text search, tags,
-- votes (unique per idea and customer), comments, followers, status history, merges.
CREATE TABLE accounts (
    id             INTEGER PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name           TEXT NOT NULL,
    password_hash  TEXT,
    role           TEXT NOT NULL DEFAULT 'customer'
                   CHECK (role IN ('customer', 'team', 'manager', 'admin')),
    customer_id    TEXT REFERENCES customers (id) ON DELETE SET NULL,
    email_verified INTEGER NOT NULL DEFAULT 0,
    blocked        INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL
);
CREATE INDEX accounts_customer ON accounts (customer_id);

-- One-time secrets (e-mail verification, sign-in links, password reset): only hashes.
CREATE TABLE account_secrets (
    secret_hash TEXT PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    purpose     TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    csrf       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_account ON sessions (account_id);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL CHECK (role IN ('customer', 'team', 'manager', 'admin')),
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);
CREATE INDEX api_tokens_account ON api_tokens (account_id);

CREATE TABLE ideas (
    id                INTEGER PRIMARY KEY,
    title             TEXT NOT NULL,
    body              TEXT NOT NULL,
    author_id         INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    topic             TEXT,
    status            TEXT NOT NULL,
    status_response   TEXT,
    status_changed_at TEXT,
    vote_count        INTEGER NOT NULL DEFAULT 0 CHECK (vote_count >= 0),
    comment_count     INTEGER NOT NULL DEFAULT 0,
    impact            REAL NOT NULL DEFAULT 0,
    merged_into       INTEGER REFERENCES ideas (id),
    hidden            INTEGER NOT NULL DEFAULT 0,
    locked            INTEGER NOT NULL DEFAULT 0,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX ideas_top ON ideas (merged_into, vote_count DESC, id DESC);
CREATE INDEX ideas_new ON ideas (merged_into, created_at DESC, id DESC);
CREATE INDEX ideas_impact ON ideas (merged_into, impact DESC, id DESC);
CREATE INDEX ideas_status ON ideas (status, vote_count DESC);
CREATE INDEX ideas_author ON ideas (author_id);

CREATE VIRTUAL TABLE ideas_fts USING fts5 (
    title, body, content = 'ideas', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
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

CREATE TABLE idea_tags (
    idea_id INTEGER NOT NULL REFERENCES ideas (id) ON DELETE CASCADE,
    tag     TEXT NOT NULL,
    public  INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (idea_id, tag)
);
CREATE INDEX idea_tags_tag ON idea_tags (tag, idea_id);

CREATE TABLE votes (
    -- AUTOINCREMENT: a vote id is never reused, so an unmerge can restore a dropped vote by id.
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    idea_id      INTEGER NOT NULL REFERENCES ideas (id) ON DELETE CASCADE,
    customer_id  TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    account_id   INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    proxy        INTEGER NOT NULL DEFAULT 0,
    proxy_note   TEXT,
    proxy_source TEXT,
    created_at   TEXT NOT NULL,
    UNIQUE (idea_id, customer_id)
);
CREATE INDEX votes_customer ON votes (customer_id);

CREATE TABLE comments (
    id         INTEGER PRIMARY KEY,
    idea_id    INTEGER NOT NULL REFERENCES ideas (id) ON DELETE CASCADE,
    parent_id  INTEGER REFERENCES comments (id) ON DELETE CASCADE,
    author_id  INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    body       TEXT NOT NULL,
    internal   INTEGER NOT NULL DEFAULT 0,
    deleted    INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT
);
CREATE INDEX comments_idea ON comments (idea_id, created_at, id);

CREATE TABLE idea_followers (
    idea_id    INTEGER NOT NULL REFERENCES ideas (id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (idea_id, account_id)
);
CREATE INDEX idea_followers_account ON idea_followers (account_id);

CREATE TABLE idea_mentions (
    idea_id    INTEGER NOT NULL REFERENCES ideas (id) ON DELETE CASCADE,
    mention_id INTEGER NOT NULL REFERENCES mentions (id) ON DELETE CASCADE,
    PRIMARY KEY (idea_id, mention_id)
);
CREATE INDEX idea_mentions_mention ON idea_mentions (mention_id);

CREATE TABLE status_changes (
    id          INTEGER PRIMARY KEY,
    idea_id     INTEGER NOT NULL REFERENCES ideas (id) ON DELETE CASCADE,
    from_status TEXT NOT NULL,
    to_status   TEXT NOT NULL,
    response    TEXT NOT NULL,
    account_id  INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX status_changes_idea ON status_changes (idea_id, id);

CREATE TABLE idea_merges (
    id         INTEGER PRIMARY KEY,
    source_id  INTEGER NOT NULL REFERENCES ideas (id) ON DELETE CASCADE,
    target_id  INTEGER NOT NULL REFERENCES ideas (id) ON DELETE CASCADE,
    account_id INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    moved      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    undone_at  TEXT
);
CREATE INDEX idea_merges_source ON idea_merges (source_id, id);
