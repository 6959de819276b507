-- A mention stored by a backfill (``crmsphere import posts``) is history: it is analysed and
-- kept, but never routed to a team or written to a CRM timeline, by any process.  The fact is
-- stored with the mention, in the same write, so that every reader (the routing sweeper of a
-- server running beside the import, hooks, CRM outbound) can tell.
ALTER TABLE mentions ADD COLUMN backfill INTEGER NOT NULL DEFAULT 0;
