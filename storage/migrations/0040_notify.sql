-- Closing the loop: mail settings per account, in-app notifications, idea thresholds already
-- announced to routing, and per-idea opt-outs from the one-click unsubscribe link.
CREATE TABLE notify_prefs (
    account_id INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    mail       INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL
);

CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    idea_id    INTEGER,
    kind       TEXT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    url        TEXT,
    created_at TEXT NOT NULL,
    read_at    TEXT,
    -- one notification per account and event, however often the event is replayed
    dedupe_key TEXT NOT NULL UNIQUE
);
CREATE INDEX notifications_account ON notifications (account_id, id);

CREATE TABLE idea_thresholds (
    idea_id    INTEGER NOT NULL,
    threshold  TEXT NOT NULL,
    crossed_at TEXT NOT NULL,
    PRIMARY KEY (idea_id, threshold)
);

CREATE TABLE notify_opt_outs (
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    idea_id    INTEGER NOT NULL,
    at         TEXT NOT NULL,
    PRIMARY KEY (idea_id, account_id)
);
