-- Routing: teams, routed items (one per item and rule), their audit log, and the delivery outbox.
CREATE TABLE teams (
    key             TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    members         TEXT NOT NULL DEFAULT '[]',
    channels        TEXT NOT NULL DEFAULT '{}',
    ack_sla_minutes INTEGER,
    -- fingerprint of the config table this team was last seeded from (NULL: made by the API)
    seed_hash       TEXT,
    updated_at      TEXT NOT NULL
);

CREATE TABLE routed_items (
    id              INTEGER PRIMARY KEY,
    item_kind       TEXT NOT NULL CHECK (item_kind IN ('mention', 'idea')),
    item_id         TEXT NOT NULL,
    rule_id         TEXT NOT NULL,
    team_key        TEXT NOT NULL,
    event           TEXT NOT NULL,
    priority        TEXT NOT NULL,
    status          TEXT NOT NULL,
    item            TEXT NOT NULL,
    routed_at       TEXT NOT NULL,
    routed_by       TEXT NOT NULL,
    acknowledged_at TEXT,
    acknowledged_by TEXT,
    updated_at      TEXT NOT NULL,
    UNIQUE (item_kind, item_id, rule_id)
);
CREATE INDEX routed_items_team ON routed_items (team_key, routed_at, id);

CREATE TABLE routing_log (
    id        INTEGER PRIMARY KEY,
    routed_id INTEGER NOT NULL REFERENCES routed_items (id) ON DELETE CASCADE,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    detail    TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX routing_log_routed ON routing_log (routed_id, id);

CREATE TABLE deliveries (
    id               INTEGER PRIMARY KEY,
    routed_id        INTEGER REFERENCES routed_items (id) ON DELETE SET NULL,
    team_key         TEXT NOT NULL,
    channel          TEXT NOT NULL CHECK (channel IN ('webhook', 'mail', 'slack')),
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
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX deliveries_state_id ON deliveries (state, id);
