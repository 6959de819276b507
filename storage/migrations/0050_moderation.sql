-- Forum moderation: an approval state and a spam flag on ideas and comments (hidden comments
-- too), reports from customers, rate-limit counters shared by every process, the daily digest
-- setting and the record of digests already queued.
ALTER TABLE ideas ADD COLUMN approval TEXT NOT NULL DEFAULT 'approved'
    CHECK (approval IN ('pending', 'approved', 'rejected'));
ALTER TABLE ideas ADD COLUMN spam INTEGER NOT NULL DEFAULT 0;
CREATE INDEX ideas_approval ON ideas (approval, id) WHERE approval <> 'approved';

ALTER TABLE comments ADD COLUMN approval TEXT NOT NULL DEFAULT 'approved'
    CHECK (approval IN ('pending', 'approved', 'rejected'));
ALTER TABLE comments ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;
ALTER TABLE comments ADD COLUMN spam INTEGER NOT NULL DEFAULT 0;
CREATE INDEX comments_approval ON comments (approval, id) WHERE approval <> 'approved';

CREATE TABLE content_reports (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('idea', 'comment')),
    item_id     INTEGER NOT NULL,
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    reason      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    resolved_at TEXT,
    -- one open report per person and item, however often they press the button
    UNIQUE (kind, item_id, account_id)
);
CREATE INDEX content_reports_open ON content_reports (resolved_at, id);

-- Fixed-window counters: (scope, subject) has made ``hits`` requests in the window starting
-- at ``window_start`` (unix seconds).
CREATE TABLE rate_hits (
    scope        TEXT NOT NULL,
    subject      TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    hits         INTEGER NOT NULL,
    PRIMARY KEY (scope, subject, window_start)
);

ALTER TABLE notify_prefs ADD COLUMN digest INTEGER NOT NULL DEFAULT 0;

CREATE TABLE digests_sent (
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    day        TEXT NOT NULL,
    items      INTEGER NOT NULL,
    queued_at  TEXT NOT NULL,
    PRIMARY KEY (account_id, day)
);
