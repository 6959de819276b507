-- Triage named staff by display NAME (assignee, who changed it last, note authors), but names
-- are not unique and one may read "operator".  From now on these hold account KEYS:
-- 'account:<id>' for a staff account, 'operator' for the operator (admin token or anonymous
-- loopback).  Names are looked up by id when shown (api/dashboard_staff.py).
--
-- Converting existing rows (as 0036 does for saved views):
--   * a name held by exactly ONE staff account (role team, manager or admin) becomes that
--     account's key, and the fallback 'account <id>' (staff with an empty name) becomes
--     'account:<id>' when that staff account still exists.
--   * 'operator' as the writer (updated_by, note author) stays the operator.
--   * an ASSIGNEE that maps to no single staff account (a free-typed name, a name shared by
--     several staff, or a departed one) is LEFT EMPTY: the mention becomes unassigned and the
--     old name is kept in ``mention_triage.legacy_assignee`` for whoever re-assigns it.
--   * a NOTE AUTHOR that maps to no single staff account keeps its old name in
--     ``mention_notes.legacy_author`` and its author becomes 'legacy:<name>' (shown as that
--     name, marked as written before accounts), never a key of someone else.
--   * likewise ``updated_by`` becomes 'legacy:<name>' (it is only shown, never matched).
ALTER TABLE mention_triage ADD COLUMN legacy_assignee TEXT;
ALTER TABLE mention_notes ADD COLUMN legacy_author TEXT;

-- Assignees.
UPDATE mention_triage SET legacy_assignee = assignee WHERE assignee IS NOT NULL AND assignee <> '';

UPDATE mention_triage
SET assignee = 'account:' || (SELECT a.id FROM accounts a
                              WHERE a.name = mention_triage.legacy_assignee
                                AND a.role IN ('team', 'manager', 'admin')),
    legacy_assignee = NULL
WHERE legacy_assignee IS NOT NULL
  AND (SELECT count(*) FROM accounts a
       WHERE a.name = mention_triage.legacy_assignee AND a.role IN ('team', 'manager', 'admin')) = 1;

UPDATE mention_triage
SET assignee = 'account:' || CAST(substr(legacy_assignee, 9) AS INTEGER), legacy_assignee = NULL
WHERE legacy_assignee IS NOT NULL
  AND legacy_assignee GLOB 'account [0-9]*'
  AND EXISTS (SELECT 1 FROM accounts a
              WHERE a.id = CAST(substr(mention_triage.legacy_assignee, 9) AS INTEGER)
                AND a.name = '' AND a.role IN ('team', 'manager', 'admin'));

UPDATE mention_triage SET assignee = NULL WHERE legacy_assignee IS NOT NULL;

-- Who changed the triage last.
UPDATE mention_triage
SET updated_by = CASE
    WHEN (SELECT count(*) FROM accounts a WHERE a.name = mention_triage.updated_by
          AND a.role IN ('team', 'manager', 'admin')) = 1
      THEN 'account:' || (SELECT a.id FROM accounts a WHERE a.name = mention_triage.updated_by
                          AND a.role IN ('team', 'manager', 'admin'))
    WHEN updated_by GLOB 'account [0-9]*' AND EXISTS (
           SELECT 1 FROM accounts a WHERE a.id = CAST(substr(mention_triage.updated_by, 9) AS INTEGER)
           AND a.name = '' AND a.role IN ('team', 'manager', 'admin'))
      THEN 'account:' || CAST(substr(updated_by, 9) AS INTEGER)
    ELSE 'legacy:' || updated_by
  END
WHERE updated_by <> 'operator';

-- Note authors.
UPDATE mention_notes SET legacy_author = author WHERE author <> 'operator';

UPDATE mention_notes
SET author = 'account:' || (SELECT a.id FROM accounts a
                            WHERE a.name = mention_notes.legacy_author
                              AND a.role IN ('team', 'manager', 'admin')),
    legacy_author = NULL
WHERE legacy_author IS NOT NULL
  AND (SELECT count(*) FROM accounts a
       WHERE a.name = mention_notes.legacy_author AND a.role IN ('team', 'manager', 'admin')) = 1;

UPDATE mention_notes
SET author = 'account:' || CAST(substr(legacy_author, 9) AS INTEGER), legacy_author = NULL
WHERE legacy_author IS NOT NULL
  AND legacy_author GLOB 'account [0-9]*'
  AND EXISTS (SELECT 1 FROM accounts a
              WHERE a.id = CAST(substr(mention_notes.legacy_author, 9) AS INTEGER)
                AND a.name = '' AND a.role IN ('team', 'manager', 'admin'));

UPDATE mention_notes SET author = 'legacy:' || legacy_author WHERE legacy_author IS NOT NULL;
