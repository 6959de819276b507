-- A team note of a status change (the notifications consumer's comment on an idea's routed
-- item) is written once per routed item and change, even by two processes handling the same
-- event at once: the note carries a key, unique on its routed item, and is inserted only if
-- absent.  Notes written before are keyed by their time (the change's time, the key the
-- consumer gives); where a note was written twice already, the first keeps the key and the
-- repeat stays as it is (no row is lost).
ALTER TABLE routing_log ADD COLUMN note_key TEXT;
UPDATE routing_log SET note_key = 'status:' || at
WHERE actor = 'notify' AND action = 'comment'
  AND id = (SELECT min(l.id) FROM routing_log l
            WHERE l.routed_id = routing_log.routed_id AND l.actor = 'notify'
              AND l.action = 'comment' AND l.at = routing_log.at);
CREATE UNIQUE INDEX routing_log_note_key ON routing_log (routed_id, note_key) WHERE note_key IS NOT NULL;
