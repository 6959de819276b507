-- The outbox: every change others react to is recorded here, in the same transaction as the
-- change, and each consumer (routing, ...) reads the events after its own cursor, at least
-- once.  Ids increase in commit order (one writer), so a cursor never skips an event.
CREATE TABLE events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    payload    TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL
);
CREATE INDEX events_kind ON events (kind, id);

-- The last event each consumer has handled; it only moves forward.
CREATE TABLE event_cursors (
    consumer   TEXT PRIMARY KEY,
    last_id    INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);

-- The consumer of mention.stored routes mentions now: the sweeper's mention watermark is gone.
DELETE FROM meta WHERE key = 'routing.sweep.mention';
