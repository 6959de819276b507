"""Salesforce Tasks written by crmsphere: reading query answers and records created, and the open Task for the
owner of a customer's Account when an idea the customer voted for ships.

The owner is the Account's ``OwnerId`` (the Contact's when the customer has no Account), read
with SOQL and remembered until the next sync run: the voters of one idea are often many
contacts of few Accounts.  Every function here blocks; the connector runs them in a thread.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from typing import Any

from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest
from simple_salesforce.format import format_soql

from crm.base import OwnerCache, OwnerTask, OwnerTaskWritten, TimelineEntry
from crm.salesforce_records import RECORD_ID
from crm.salesforce_session import error_codes
from domain.errors import BadItem, SourceUnavailable

log = logging.getLogger(__name__)

SUBJECT_MAX, DESCRIPTION_MAX = 255, 32000
#: Task picklist values of an open task (the standard ones of every org).
OPEN_STATUS, NORMAL_PRIORITY = "Not Started", "Normal"


def records_of(result: Any) -> list[Any]:
    """The ``records`` of a query answer, or a clear error when the answer is not one."""
    records = result.get("records") if isinstance(result, Mapping) else None
    if not isinstance(records, list):
        raise SourceUnavailable("Salesforce query answer without a records list")
    return records


def created_id(created: Any, sobject: str) -> str:
    """The id of a record Salesforce says it created, else ``BadItem`` with its errors."""
    if isinstance(created, Mapping) and created.get("success") and isinstance(created.get("id"), str):
        return created["id"]
    errors = created.get("errors") if isinstance(created, Mapping) else created
    raise BadItem(f"Salesforce did not create the {sobject}: {errors!r}", f"salesforce {sobject}")


def stored_key(key: str) -> str:
    """The key as stored in a 255-character text field: itself, or its digest when longer."""
    if len(key) <= 255:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def with_link(entry: TimelineEntry, limit: int) -> str:
    """The entry's text cut to fit, always ending with the link back to crmsphere."""
    tail = f"\n\n{entry.url}"
    return entry.body[: max(0, limit - len(tail))] + tail


class RecordOwners:
    """``OwnerId`` of Accounts and Contacts, each read once per sync run."""

    def __init__(self, max_age: float = 900.0) -> None:
        self._cache = OwnerCache(max_age)

    def clear(self) -> None:
        """Forget every owner (records may have changed hands)."""
        self._cache.clear()

    def owner_of(self, sf: Salesforce, entry: TimelineEntry) -> str | None:
        """The owner of the entry's Account, else of its Contact; ``None`` when neither has one."""
        for sobject, record_id in (("Account", entry.company_crm_id), ("Contact", entry.contact_crm_id)):
            if record_id:
                owner = self._cache.get(record_id, lambda s=sobject, r=record_id: _read_owner(sf, s, r))
                if owner:
                    return owner
        return None


def _read_owner(sf: Salesforce, sobject: str, record_id: str) -> str | None:
    rows = records_of(sf.query(format_soql(
        f"SELECT Id, OwnerId FROM {sobject} WHERE Id = {{}} LIMIT 1", record_id)))
    if not rows:
        # Deleted or merged away since the last sync: no task can be attached to it.
        raise BadItem(f"{sobject} {record_id} is not in Salesforce (deleted or merged?)",
                      f"salesforce:{sobject}/{record_id}")
    owner = rows[0].get("OwnerId") if isinstance(rows[0], Mapping) else None
    return owner if isinstance(owner, str) and RECORD_ID.match(owner) else None


def write_owner_task(sf: Salesforce, task: OwnerTask, key_field: str,
                     owners: RecordOwners) -> OwnerTaskWritten:
    """Create the open Task once (found again by ``key_field`` after a lost answer)."""
    entry = task.entry
    key = stored_key(entry.idempotency_key)
    lookup = format_soql(f"SELECT Id, OwnerId FROM Task WHERE {key_field} = {{}} LIMIT 1", key)
    existing = records_of(sf.query(lookup))
    if existing:
        return OwnerTaskWritten(str(existing[0]["Id"]), existing[0].get("OwnerId"), existed=True)
    owner = owners.owner_of(sf, entry)
    fields: dict[str, Any] = {
        "Subject": entry.subject[:SUBJECT_MAX],
        "Description": with_link(entry, DESCRIPTION_MAX),
        "Status": OPEN_STATUS, "Priority": NORMAL_PRIORITY,
        "ActivityDate": task.due.date().isoformat(),
        key_field: key,
    }
    if entry.company_crm_id:
        fields["WhatId"] = entry.company_crm_id
    if entry.contact_crm_id:
        fields["WhoId"] = entry.contact_crm_id
    if owner:
        fields["OwnerId"] = owner
    try:
        created = sf.Task.create(fields)
    except SalesforceMalformedRequest as exc:
        codes = error_codes(exc.content)
        if "DUPLICATE_VALUE" in codes:  # a concurrent attempt wrote it first
            again = records_of(sf.query(lookup))
            if again:
                return OwnerTaskWritten(str(again[0]["Id"]), again[0].get("OwnerId"), existed=True)
        if "INACTIVE_OWNER_OR_USER" in codes and owner:
            # The owner left the company: the task still reaches the org, unassigned.
            log.warning("salesforce: owner %s of %s is inactive; task %s left unassigned",
                        owner, entry.company_crm_id or entry.contact_crm_id, entry.idempotency_key)
            fields.pop("OwnerId")
            return OwnerTaskWritten(created_id(sf.Task.create(fields), "Task"), None)
        raise
    return OwnerTaskWritten(created_id(created, "Task"), owner)
