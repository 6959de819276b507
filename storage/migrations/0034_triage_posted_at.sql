-- When a triaged mention was posted, kept on its triage row, so that first-response times are
-- read from one index instead of looking up every mention of the period.
ALTER TABLE mention_triage ADD COLUMN posted_at TEXT;
UPDATE mention_triage SET posted_at = (SELECT created_at FROM mentions WHERE id = mention_triage.mention_id);
CREATE INDEX mention_triage_posted ON mention_triage (posted_at, first_action_at);

CREATE TRIGGER mention_triage_posted_at AFTER INSERT ON mention_triage WHEN new.posted_at IS NULL BEGIN
    UPDATE mention_triage SET posted_at = (SELECT created_at FROM mentions WHERE id = new.mention_id)
        WHERE mention_id = new.mention_id;
END;
