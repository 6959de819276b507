-- The public changelog: entries staff write (Markdown) about what shipped, and the ideas each
-- ships.  state: draft | publishing | published (see crmsphere/domain_changelog.py).
CREATE TABLE changelog_entries (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    title        TEXT NOT NULL,
    body         TEXT NOT NULL,
    state        TEXT NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'publishing', 'published')),
    author_id    INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    published_at TEXT
);
CREATE INDEX changelog_entries_public ON changelog_entries (state, published_at);

-- position keeps the order staff listed the ideas in; an idea deleted later leaves the entry.
CREATE TABLE changelog_ideas (
    entry_id INTEGER NOT NULL REFERENCES changelog_entries (id) ON DELETE CASCADE,
    idea_id  INTEGER NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (entry_id, idea_id)
);
