-- A counter that moves whenever something an idea list shows may have changed: an idea
-- (its text, status, counts, flags), its tags, or an account (an author's name and role).
-- The cache of anonymous idea lists (api/public_cache.py) compares it instead of the
-- whole file's data_version, which every stored mention, session or rate-limit hit moves:
-- with collectors running that kept the cache empty.
CREATE TABLE forum_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
INSERT INTO forum_version VALUES (1, 0);

CREATE TRIGGER forum_version_idea_insert AFTER INSERT ON ideas
BEGIN UPDATE forum_version SET n = n + 1; END;
CREATE TRIGGER forum_version_idea_update AFTER UPDATE ON ideas
BEGIN UPDATE forum_version SET n = n + 1; END;
CREATE TRIGGER forum_version_idea_delete AFTER DELETE ON ideas
BEGIN UPDATE forum_version SET n = n + 1; END;

CREATE TRIGGER forum_version_tag_insert AFTER INSERT ON idea_tags
BEGIN UPDATE forum_version SET n = n + 1; END;
CREATE TRIGGER forum_version_tag_update AFTER UPDATE ON idea_tags
BEGIN UPDATE forum_version SET n = n + 1; END;
CREATE TRIGGER forum_version_tag_delete AFTER DELETE ON idea_tags
BEGIN UPDATE forum_version SET n = n + 1; END;

CREATE TRIGGER forum_version_account_update AFTER UPDATE OF name, role ON accounts
BEGIN UPDATE forum_version SET n = n + 1; END;
CREATE TRIGGER forum_version_account_delete AFTER DELETE ON accounts
BEGIN UPDATE forum_version SET n = n + 1; END;
