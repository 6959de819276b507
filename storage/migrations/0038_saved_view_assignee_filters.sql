-- A saved view's "assignee" filter held a display name; the stream now filters by staff
-- account id (see 0037).  A name held by exactly one staff account (role team, manager or
-- admin) becomes that account's id.  Any other name is left as it was: applying that view then
-- answers a clear 400 on the assignee filter, and its owner picks the assignee again.
UPDATE saved_views
SET filters = json_set(filters, '$.assignee',
                       CAST((SELECT a.id FROM accounts a
                             WHERE a.name = json_extract(saved_views.filters, '$.assignee')
                               AND a.role IN ('team', 'manager', 'admin')) AS TEXT))
WHERE json_valid(filters)
  AND json_type(filters, '$.assignee') = 'text'
  AND json_extract(filters, '$.assignee') <> '-'
  AND (SELECT count(*) FROM accounts a
       WHERE a.name = json_extract(saved_views.filters, '$.assignee')
         AND a.role IN ('team', 'manager', 'admin')) = 1;
