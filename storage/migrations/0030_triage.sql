-- The community manager's triage of mentions: status and assignee, tags, private notes.
CREATE TABLE mention_triage (
    mention_id INTEGER PRIMARY KEY REFERENCES mentions (id) ON DELETE CASCADE,
    status     TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'pending', 'closed')),
    assignee   TEXT,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE INDEX mention_triage_status ON mention_triage (status, mention_id);
CREATE INDEX mention_triage_assignee ON mention_triage (assignee, mention_id);

CREATE TABLE mention_tags (
    mention_id INTEGER NOT NULL REFERENCES mentions (id) ON DELETE CASCADE,
    tag        TEXT NOT NULL,
    PRIMARY KEY (mention_id, tag)
);
CREATE INDEX mention_tags_tag ON mention_tags (tag, mention_id);

CREATE TABLE mention_notes (
    id         INTEGER PRIMARY KEY,
    mention_id INTEGER NOT NULL REFERENCES mentions (id) ON DELETE CASCADE,
    author     TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX mention_notes_mention ON mention_notes (mention_id, id);
