-- Replies posted where the customer spoke (community/replies.py decides every move).
CREATE TABLE replies (
    id           INTEGER PRIMARY KEY,
    mention_id   INTEGER NOT NULL REFERENCES mentions (id) ON DELETE CASCADE,
    source       TEXT NOT NULL,
    text         TEXT NOT NULL,
    state        TEXT NOT NULL,
    team_key     TEXT,
    idea_id      INTEGER,
    batch_key    TEXT,
    drafted_by   TEXT NOT NULL,
    drafted_at   TEXT NOT NULL,
    approved_by  TEXT,
    approved_at  TEXT,
    sent_by      TEXT,
    sending_at   TEXT,
    sent_at      TEXT,
    platform_id  TEXT,
    platform_url TEXT,
    failure      TEXT,
    retry_after  TEXT,
    attempts     INTEGER NOT NULL DEFAULT 0
);
-- One shipped-idea reply per mention and idea: a replayed status change drafts nothing twice.
CREATE UNIQUE INDEX replies_idea_mention ON replies (idea_id, mention_id) WHERE idea_id IS NOT NULL;
CREATE INDEX replies_state ON replies (state, id);
CREATE INDEX replies_mention ON replies (mention_id);
CREATE INDEX replies_batch ON replies (batch_key) WHERE batch_key IS NOT NULL;

CREATE TABLE reply_audit (
    reply_id INTEGER NOT NULL REFERENCES replies (id) ON DELETE CASCADE,
    action   TEXT NOT NULL,
    actor    TEXT NOT NULL,
    at       TEXT NOT NULL,
    detail   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX reply_audit_reply ON reply_audit (reply_id);
