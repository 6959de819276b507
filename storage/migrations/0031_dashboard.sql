-- The dashboard: spike alerts (one per subject per UTC day), saved views per staff member,
-- and when staff first acted on a mention (first-response time).
CREATE TABLE spike_alerts (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('topic', 'customer')),
    subject      TEXT NOT NULL,
    window_start TEXT NOT NULL,
    detected_at  TEXT NOT NULL,
    count        INTEGER NOT NULL,
    baseline     REAL NOT NULL,
    threshold    REAL NOT NULL,
    UNIQUE (kind, subject, window_start)
);
CREATE INDEX spike_alerts_detected ON spike_alerts (detected_at, id);

CREATE TABLE saved_views (
    id         INTEGER PRIMARY KEY,
    owner      TEXT NOT NULL,
    name       TEXT NOT NULL,
    filters    TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (owner, name)
);

ALTER TABLE mention_triage ADD COLUMN first_action_at TEXT;
UPDATE mention_triage SET first_action_at = updated_at;
CREATE INDEX mention_triage_first_action ON mention_triage (first_action_at);
