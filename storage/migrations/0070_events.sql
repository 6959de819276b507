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

-- The routing consumer routes from these events now, and the sweeper is gone.  What it would
-- still have replayed after the upgrade — items of the last day (its default reach) with no
-- routing decision, i.e. whose hook was lost — is recorded as events now, so the consumer
-- routes them instead: live mentions ...
INSERT INTO events (kind, subject_id, payload, created_at)
SELECT 'mention.stored', CAST(m.id AS TEXT), json_object('source', m.source), m.ingested_at
FROM mentions m
WHERE m.backfill = 0
  AND m.ingested_at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 day')
  AND NOT EXISTS (SELECT 1 FROM routing_decisions d WHERE d.item_kind = 'mention'
                  AND d.item_id = CAST(m.id AS TEXT) AND d.event = 'mention.analysed')
ORDER BY m.id;
-- Likewise an idea whose latest status change of the last day has no routing decision since.
INSERT INTO events (kind, subject_id, payload, created_at)
SELECT 'idea.status_changed', CAST(s.idea_id AS TEXT),
       json_object('from', s.from_status, 'to', s.to_status), s.created_at
FROM status_changes s
WHERE s.id = (SELECT max(l.id) FROM status_changes l WHERE l.idea_id = s.idea_id)
  AND s.created_at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 day')
  AND NOT EXISTS (SELECT 1 FROM routing_decisions d WHERE d.item_kind = 'idea'
                  AND d.item_id = CAST(s.idea_id AS TEXT) AND d.event = 'idea.status_changed'
                  AND d.decided_at >= s.created_at)
ORDER BY s.id;
-- A public idea of the last day with no idea.created decision ...
INSERT INTO events (kind, subject_id, payload, created_at)
SELECT 'idea.created', CAST(i.id AS TEXT), '{}', i.created_at
FROM ideas i
WHERE i.approval = 'approved'
  AND i.created_at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 day')
  AND NOT EXISTS (SELECT 1 FROM routing_decisions d WHERE d.item_kind = 'idea'
                  AND d.item_id = CAST(i.id AS TEXT) AND d.event = 'idea.created')
ORDER BY i.id;
-- ... and an idea whose latest threshold crossed of the last day has no decision since.
INSERT INTO events (kind, subject_id, payload, created_at)
SELECT 'idea.vote_threshold', CAST(t.idea_id AS TEXT), json_object('threshold', t.threshold),
       t.crossed_at
FROM idea_thresholds t
WHERE t.rowid = (SELECT l.rowid FROM idea_thresholds l WHERE l.idea_id = t.idea_id
                 ORDER BY l.crossed_at DESC, l.rowid DESC LIMIT 1)
  AND t.crossed_at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 day')
  AND NOT EXISTS (SELECT 1 FROM routing_decisions d WHERE d.item_kind = 'idea'
                  AND d.item_id = CAST(t.idea_id AS TEXT) AND d.event = 'idea.vote_threshold'
                  AND d.decided_at >= t.crossed_at)
ORDER BY t.crossed_at, t.rowid;
-- The sweeper and its watermarks are gone.
DELETE FROM meta WHERE key IN ('routing.sweep.mention', 'routing.sweep.idea',
                               'routing.sweep.idea.status_changed', 'routing.sweep.idea.vote_threshold');
