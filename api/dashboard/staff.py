"""Staff identity on the dashboard: account keys for assignees, note authors and triage changes.

Display names are not unique (two staff may both be "Sam") and one may even read "operator",
so triage stores an account KEY — ``account:<id>``, or ``operator`` for the operator (admin
token or anonymous loopback) — and names are looked up by id only when shown.  A key whose
account is gone shows as "former staff"; ``legacy:<name>`` keys come from rows written before
keys existed whose name matched no single staff account (migration 0037).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from api.dashboard.access import OPERATOR, account_key
from domain.errors import BadInput
from storage.base import Store

STAFF_ROLES = ("team", "manager", "admin")
FORMER_STAFF = "former staff"
LEGACY_PREFIX = "legacy:"
#: How many accounts the assignee picker reads at most (customer accounts are skipped).
MAX_ACCOUNTS_SCANNED = 20_000
_KEY = re.compile(r"^(?:account:)?([1-9][0-9]{0,17})$")


def key_account_id(key: str | None) -> int | None:
    """The account id of an ``account:<id>`` key, else ``None``."""
    if not key or not key.startswith("account:"):
        return None
    match = _KEY.match(key)
    return int(match.group(1)) if match else None


async def staff_names(store: Store, keys: Iterable[str | None]) -> dict[str, str]:
    """The display name of each key (accounts looked up by id, in one query)."""
    keys = {k for k in keys if k}
    ids = sorted({i for i in (key_account_id(k) for k in keys) if i is not None})
    accounts = await store.get_accounts(ids) if ids else {}
    names: dict[str, str] = {}
    for key in keys:
        account_id = key_account_id(key)
        if account_id is not None:
            account = accounts.get(account_id)
            names[key] = FORMER_STAFF if account is None else (account.name or f"account {account_id}")
        elif key.startswith(LEGACY_PREFIX):
            names[key] = f"{key[len(LEGACY_PREFIX):]} (before accounts)"
        else:
            names[key] = key  # "operator", or a writer that is not a person (e.g. "rules")
    return names


async def assignee_key(store: Store, value: Any, field: str = "assignee") -> str:
    """The account key of an assignee given as an account id, ``"account:<id>"`` or ``""``
    (unassign); ``BadInput`` naming ``field`` unless it is an active staff account."""
    if value == "" or value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    match = _KEY.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise BadInput(f"'{field}' must be a staff account id (or \"\" to unassign)",
                       {"field": field, "value": str(value)[:40]})
    account_id = int(match.group(1))
    account = (await store.get_accounts([account_id])).get(account_id)
    if account is None or account.role not in STAFF_ROLES or account.blocked:
        raise BadInput(f"'{field}': account {account_id} is not an active staff account",
                       {"field": field, "value": account_id})
    return account_key(account_id)


def filter_key(value: str | None, parameter: str = "assignee") -> str | None:
    """An assignee filter (``-``: unassigned, else an account id or key) as a stored key."""
    if value is None:
        return None
    if value == "-":
        return ""
    if value == OPERATOR:
        return OPERATOR
    match = _KEY.match(value)
    if match is None:
        raise BadInput(f"parameter '{parameter}' must be a staff account id or '-' (unassigned)",
                       {"parameter": parameter, "value": value[:40]})
    return account_key(int(match.group(1)))


async def list_staff(store: Store) -> list[dict[str, Any]]:
    """Active staff accounts (for the assignee picker), by name then id."""
    staff, offset, page = [], 0, 500
    while offset < MAX_ACCOUNTS_SCANNED:
        accounts = await store.list_accounts(page, offset)
        staff += [{"id": a.id, "key": account_key(a.id), "name": a.name or f"account {a.id}",
                   "role": a.role} for a in accounts if a.role in STAFF_ROLES and not a.blocked]
        if len(accounts) < page:
            break
        offset += page
    return sorted(staff, key=lambda s: (s["name"].casefold(), s["id"]))
