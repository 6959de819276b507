-- CRM sync: which CRM record feeds which customer, cursors per connector and object type,
-- outbound idempotency keys, and the outbox accepting "crm:<connector>" channels.
CREATE TABLE crm_records (
    connector       TEXT NOT NULL,
    object_type     TEXT NOT NULL,
    crm_id          TEXT NOT NULL,
    customer_id     TEXT NOT NULL,
    company_crm_id  TEXT,
    deleted         INTEGER NOT NULL DEFAULT 0,
    merged_into     TEXT,
    -- what the CRM provided last time: anything else the customer holds was learned here
    crm_identities  TEXT NOT NULL DEFAULT '[]',
    crm_aliases     TEXT NOT NULL DEFAULT '[]',
    learned_written TEXT NOT NULL DEFAULT '',
    synced_at       TEXT NOT NULL,
    PRIMARY KEY (connector, object_type, crm_id)
);
CREATE INDEX crm_records_customer ON crm_records (customer_id);

CREATE TABLE crm_cursors (
    connector   TEXT NOT NULL,
    object_type TEXT NOT NULL,
    cursor      TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (connector, object_type)
);

CREATE TABLE crm_outbound (
    connector TEXT NOT NULL,
    key       TEXT NOT NULL,
    crm_id    TEXT NOT NULL,
    at        TEXT NOT NULL,
    PRIMARY KEY (connector, key)
);

-- The outbox gains channels "crm:<connector>"; SQLite cannot alter a CHECK, so rebuild.
CREATE TABLE deliveries_v2 (
    id               INTEGER PRIMARY KEY,
    routed_id        INTEGER REFERENCES routed_items (id) ON DELETE SET NULL,
    team_key         TEXT NOT NULL,
    channel          TEXT NOT NULL
                     CHECK (channel IN ('webhook', 'mail', 'slack') OR channel LIKE 'crm:%'),
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
INSERT INTO deliveries_v2 (id, routed_id, team_key, channel, target, payload, idempotency_key,
                           state, attempts, next_attempt_at, claimed_by, claimed_until,
                           last_error, created_at, sent_at)
    SELECT id, routed_id, team_key, channel, target, payload, idempotency_key, state, attempts,
           next_attempt_at, claimed_by, claimed_until, last_error, created_at, sent_at
    FROM deliveries ORDER BY id;
DROP TABLE deliveries;
ALTER TABLE deliveries_v2 RENAME TO deliveries;
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX deliveries_state_id ON deliveries (state, id);
