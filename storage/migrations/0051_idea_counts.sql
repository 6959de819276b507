-- How many listable ideas (not merged away) there are per status, hidden flag and approval,
-- kept up to date by triggers: an idea listing's total is then a sum over a few rows
-- instead of count(*) over every idea on each request (bench/forum.py).
CREATE TABLE idea_counts (
    status   TEXT NOT NULL,
    hidden   INTEGER NOT NULL,
    approval TEXT NOT NULL,
    n        INTEGER NOT NULL,
    PRIMARY KEY (status, hidden, approval)
) WITHOUT ROWID;

INSERT INTO idea_counts (status, hidden, approval, n)
SELECT status, hidden, approval, count(*) FROM ideas WHERE merged_into IS NULL
GROUP BY status, hidden, approval;

CREATE TRIGGER idea_counts_insert AFTER INSERT ON ideas WHEN NEW.merged_into IS NULL
BEGIN
    INSERT INTO idea_counts (status, hidden, approval, n) VALUES (NEW.status, NEW.hidden, NEW.approval, 1)
    ON CONFLICT (status, hidden, approval) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER idea_counts_delete AFTER DELETE ON ideas WHEN OLD.merged_into IS NULL
BEGIN
    UPDATE idea_counts SET n = n - 1
    WHERE status = OLD.status AND hidden = OLD.hidden AND approval = OLD.approval;
END;

CREATE TRIGGER idea_counts_update AFTER UPDATE OF status, hidden, approval, merged_into ON ideas
WHEN OLD.status IS NOT NEW.status OR OLD.hidden IS NOT NEW.hidden OR OLD.approval IS NOT NEW.approval
    OR OLD.merged_into IS NOT NEW.merged_into
BEGIN
    UPDATE idea_counts SET n = n - 1
    WHERE OLD.merged_into IS NULL AND status = OLD.status AND hidden = OLD.hidden
        AND approval = OLD.approval;
    INSERT INTO idea_counts (status, hidden, approval, n)
    SELECT NEW.status, NEW.hidden, NEW.approval, 1 WHERE NEW.merged_into IS NULL
    ON CONFLICT (status, hidden, approval) DO UPDATE SET n = n + 1;
END;

-- Top ideas of one status (the status filter of a listing), in the listing's own order.
CREATE INDEX ideas_status_top ON ideas (status, vote_count DESC, id DESC) WHERE merged_into IS NULL;
