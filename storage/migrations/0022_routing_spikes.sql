-- Routed items of kind 'spike' (spike alerts fed to routing).  SQLite cannot alter a CHECK,
-- so routed_items is rebuilt: copy, drop, rename, recreate its indexes.
--
-- Migrations run inside a transaction with foreign keys on, where PRAGMA foreign_keys cannot
-- be switched off; dropping routed_items then deletes its children by their ON DELETE actions
-- (routing_log and routing_escalations CASCADE, deliveries.routed_id SET NULL).  So the
-- children are kept in temporary tables first and put back once the new table has the name.
CREATE TABLE routed_items_v2 (
    id              INTEGER PRIMARY KEY,
    item_kind       TEXT NOT NULL CHECK (item_kind IN ('mention', 'idea', 'spike')),
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
INSERT INTO routed_items_v2 (id, item_kind, item_id, rule_id, team_key, event, priority, status,
                             item, routed_at, routed_by, acknowledged_at, acknowledged_by,
                             updated_at)
    SELECT id, item_kind, item_id, rule_id, team_key, event, priority, status, item, routed_at,
           routed_by, acknowledged_at, acknowledged_by, updated_at
    FROM routed_items ORDER BY id;

CREATE TEMP TABLE keep_routing_log AS SELECT * FROM routing_log;
CREATE TEMP TABLE keep_routing_escalations AS SELECT * FROM routing_escalations;
CREATE TEMP TABLE keep_delivery_routes AS
    SELECT id, routed_id FROM deliveries WHERE routed_id IS NOT NULL;

DROP TABLE routed_items;
ALTER TABLE routed_items_v2 RENAME TO routed_items;
CREATE INDEX routed_items_team ON routed_items (team_key, routed_at, id);
CREATE INDEX routed_items_unacked ON routed_items (team_key, acknowledged_at, routed_at);

-- The drop emptied these (CASCADE); nothing else writes them inside this transaction.
DELETE FROM routing_log;
INSERT INTO routing_log (id, routed_id, at, actor, action, detail)
    SELECT id, routed_id, at, actor, action, detail FROM keep_routing_log ORDER BY id;
DELETE FROM routing_escalations;
INSERT INTO routing_escalations (routed_id, escalation_id, at)
    SELECT routed_id, escalation_id, at FROM keep_routing_escalations;
UPDATE deliveries SET routed_id = (SELECT k.routed_id FROM keep_delivery_routes k
                                   WHERE k.id = deliveries.id)
    WHERE id IN (SELECT id FROM keep_delivery_routes);

DROP TABLE keep_routing_log;
DROP TABLE keep_routing_escalations;
DROP TABLE keep_delivery_routes;
