-- The rest of the normalised post: author platform id, thread, language, engagement.
ALTER TABLE mentions ADD COLUMN author_platform_id TEXT;
ALTER TABLE mentions ADD COLUMN thread_id TEXT;
ALTER TABLE mentions ADD COLUMN language TEXT;
ALTER TABLE mentions ADD COLUMN engagement TEXT NOT NULL DEFAULT '{}';
