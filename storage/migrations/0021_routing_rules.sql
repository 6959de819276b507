-- Routing rules kept in the store (seeded from the TOML, edited through the API), the
-- escalations already done (one per routed item and escalation rule), and the routing
-- decisions taken per item and event (what the sweeper looks for).
CREATE TABLE routing_rulebook (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    -- {"rule_sets": {...}, "rules": [...]} as the [routing] TOML section spells them
    body        TEXT NOT NULL,
    -- fingerprint of the TOML rules last seeded (kept across API edits)
    seed_hash   TEXT,
    version     INTEGER NOT NULL DEFAULT 1,
    updated_at  TEXT NOT NULL,
    updated_by  TEXT NOT NULL
);

CREATE TABLE routing_escalations (
    routed_id     INTEGER NOT NULL REFERENCES routed_items (id) ON DELETE CASCADE,
    escalation_id TEXT NOT NULL,
    at            TEXT NOT NULL,
    PRIMARY KEY (routed_id, escalation_id)
);

CREATE TABLE routing_decisions (
    item_kind  TEXT NOT NULL,
    item_id    TEXT NOT NULL,
    event      TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    PRIMARY KEY (item_kind, item_id, event)
);
CREATE INDEX routed_items_unacked ON routed_items (team_key, acknowledged_at, routed_at);
