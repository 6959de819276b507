-- Saved views were owned by a staff member's display NAME, which is not unique (two "Sam"s
-- shared and could delete each other's views) and could even be "operator".  From now on the
-- owner is an account key: 'account:<id>' for a signed-in staff account, 'operator' for the
-- operator (admin token, or anonymous loopback caller).  See api/dashboard_access.py.
--
-- Converting existing rows:
--   * owner 'operator' stays the operator's (that was the operator's key by design, even though
--     an account named "operator" also wrote under it before: it cannot be told apart).
--   * a name held by exactly ONE staff account (role team, manager or admin) becomes that
--     account's key.
--   * the fallback key 'account <id>' (written for staff with an empty name) becomes
--     'account:<id>' when that staff account still exists.
--   * every other row (a name shared by several staff accounts, or no longer held by any staff
--     account) is NOT given to anyone: its old name is kept in ``legacy_owner`` and its owner
--     becomes 'legacy:<name>', a key no viewer has, so nobody sees or deletes it by accident
--     and an operator can still reassign it by hand.
ALTER TABLE saved_views ADD COLUMN legacy_owner TEXT;

UPDATE saved_views SET legacy_owner = owner WHERE owner <> 'operator';

-- OR IGNORE: a conversion that would collide with a view of the same name already under the
-- new key is skipped, and that row then stays a legacy row below.
UPDATE OR IGNORE saved_views
SET owner = 'account:' || (SELECT a.id FROM accounts a
                           WHERE a.name = saved_views.legacy_owner
                             AND a.role IN ('team', 'manager', 'admin')),
    legacy_owner = NULL
WHERE legacy_owner IS NOT NULL
  AND (SELECT count(*) FROM accounts a
       WHERE a.name = saved_views.legacy_owner AND a.role IN ('team', 'manager', 'admin')) = 1;

UPDATE OR IGNORE saved_views
SET owner = 'account:' || CAST(substr(legacy_owner, 9) AS INTEGER), legacy_owner = NULL
WHERE legacy_owner IS NOT NULL
  AND legacy_owner GLOB 'account [0-9]*'
  AND EXISTS (SELECT 1 FROM accounts a
              WHERE a.id = CAST(substr(saved_views.legacy_owner, 9) AS INTEGER)
                AND a.name = '' AND a.role IN ('team', 'manager', 'admin'));

UPDATE saved_views SET owner = 'legacy:' || legacy_owner WHERE legacy_owner IS NOT NULL;
