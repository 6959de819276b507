-- What stored each mention: the configured source's name (a collector's run), push:<name>
-- (a signed push) or jsonl:<path> (a bulk import).  Replies go out through that source.
ALTER TABLE mentions ADD COLUMN source_key TEXT;
-- Mentions stored before: where exactly one source of the mention's platform ever ran (its
-- health record names its kind), that source read it.  With several, which one cannot be
-- told: the key stays NULL and a reply is refused until one source of the platform is left.
UPDATE mentions SET source_key = (
    SELECT h.source_key FROM source_health h WHERE json_extract(h.health, '$.kind') = mentions.source)
WHERE source_key IS NULL
  AND (SELECT count(*) FROM source_health h WHERE json_extract(h.health, '$.kind') = mentions.source) = 1;
