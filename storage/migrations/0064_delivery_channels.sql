-- Routing channels are registered by modules (community/channels/), so the outbox no longer
-- lists them: any channel name of the registry's shape, or "crm:<connector>".  SQLite cannot
-- alter a CHECK, so rebuild.
CREATE TABLE deliveries_v3 (
    id               INTEGER PRIMARY KEY,
    routed_id        INTEGER REFERENCES routed_items (id) ON DELETE SET NULL,
    team_key         TEXT NOT NULL,
    channel          TEXT NOT NULL CHECK (length(channel) BETWEEN 1 AND 60),
    target           TEXT NOT NULL,
    payload          TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL UNIQUE,
    state            TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'dead')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    claimed_by       TEXT,
    claimed_until    TEXT,
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    sent_at          TEXT
);
INSERT INTO deliveries_v3 (id, routed_id, team_key, channel, target, payload, idempotency_key,
                           state, attempts, next_attempt_at, claimed_by, claimed_until,
                           last_error, created_at, sent_at)
    SELECT id, routed_id, team_key, channel, target, payload, idempotency_key, state, attempts,
           next_attempt_at, claimed_by, claimed_until, last_error, created_at, sent_at
    FROM deliveries ORDER BY id;
DROP TABLE deliveries;
ALTER TABLE deliveries_v3 RENAME TO deliveries;
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX deliveries_state_id ON deliveries (state, id);
