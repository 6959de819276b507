"""HubSpot tasks for the owner of a customer's company (an idea the customer voted for shipped).

A task is a CRM v3 object (``POST /crm/v3/objects/tasks``) with ``hs_task_subject``,
``hs_task_body``, ``hs_task_status`` and ``hs_timestamp`` (its due time), assigned through
``hubspot_owner_id`` and associated to the company (type 192) and the contact (204).  The
owner is the company's ``hubspot_owner_id`` (the contact's when the company has none),
read once per sync run.  Every function here blocks; the connector runs them in a thread.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from crm.base import OwnerCache, OwnerTask, OwnerTaskWritten
from domain.errors import BadItem, SourceUnavailable

log = logging.getLogger(__name__)

#: HubSpot-defined association types of a task.
TASK_TO_COMPANY, TASK_TO_CONTACT = 192, 204
OWNER_PROPERTY = "hubspot_owner_id"

#: ``call(api, method, *args, **kwargs)``: one API call, JSON back (``HubSpotConnector._call``)
Call = Callable[..., Any]


def hubspot_time(moment: datetime) -> str:
    """HubSpot's time format: ISO 8601 in UTC with milliseconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class RecordOwners:
    """``hubspot_owner_id`` of companies and contacts, each read once per sync run."""

    def __init__(self, max_age: float = 900.0) -> None:
        self._cache = OwnerCache(max_age)

    def clear(self) -> None:
        """Forget every owner (records may have changed hands)."""
        self._cache.clear()

    def owner_of(self, call: Call, company_id: str | None, contact_id: str | None) -> str | None:
        """The company's owner, else the contact's; ``None`` when neither has one."""
        for area, crm_id in (("companies", company_id), ("contacts", contact_id)):
            if crm_id:
                owner = self._cache.get((area, crm_id), lambda a=area, c=crm_id: _read_owner(call, a, c))
                if owner:
                    return owner
        return None


def _read_owner(call: Call, area: str, crm_id: str) -> str | None:
    record = call(f"{area}.basic", "get_by_id", crm_id, properties=[OWNER_PROPERTY])
    props = record.get("properties") if isinstance(record, Mapping) else None
    owner = props.get(OWNER_PROPERTY) if isinstance(props, Mapping) else None
    # An owner id is a number; anything else (empty, "null") means no owner.
    return str(owner) if owner is not None and str(owner).isdigit() else None


def _find_task(call: Call, key_property: str, key: str) -> dict[str, Any] | None:
    body = {"filterGroups": [{"filters": [{"propertyName": key_property, "operator": "EQ",
                                           "value": key}]}],
            "properties": [key_property, OWNER_PROPERTY], "limit": 1}
    found = call("tasks.search", "do_search", body).get("results") or []
    return found[0] if found and isinstance(found[0], dict) else None


def create_owner_task(call: Call, task: OwnerTask, key_property: str,
                      owners: RecordOwners) -> OwnerTaskWritten:
    """Create the task once: found again by ``key_property`` (which the connector refuses
    empty) after a lost answer."""
    entry = task.entry
    if not (entry.company_crm_id or entry.contact_crm_id):
        raise BadItem("a task needs a company or a contact", entry.idempotency_key)
    existing = _find_task(call, key_property, entry.idempotency_key)
    if existing:
        props = existing.get("properties") or {}
        return OwnerTaskWritten(str(existing["id"]), props.get(OWNER_PROPERTY) or None, existed=True)
    owner = owners.owner_of(call, entry.company_crm_id, entry.contact_crm_id)
    properties = {
        "hs_task_subject": entry.subject[:255],
        "hs_task_body": f"<p>{html.escape(entry.body)}</p>"
                        f'<p><a href="{html.escape(entry.url, quote=True)}">{html.escape(entry.url)}</a></p>',
        "hs_task_status": "NOT_STARTED", "hs_task_priority": "MEDIUM", "hs_task_type": "TODO",
        "hs_timestamp": hubspot_time(task.due),
    }
    if owner:
        properties[OWNER_PROPERTY] = owner
    properties[key_property] = entry.idempotency_key
    associations = [
        {"to": {"id": target}, "types": [
            {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}]}
        for target, type_id in ((entry.company_crm_id, TASK_TO_COMPANY),
                                (entry.contact_crm_id, TASK_TO_CONTACT)) if target]
    body = {"properties": properties, "associations": associations}
    try:
        created = call("tasks.basic", "create", body)
    except BadItem as exc:
        if not owner or "INVALID_OWNER_ID" not in exc.reason:
            raise
        # The owner was removed from the HubSpot account: the task still arrives, unassigned.
        log.warning("hubspot: owner %s of %s is no longer valid; task %s left unassigned",
                    owner, entry.company_crm_id or entry.contact_crm_id, entry.idempotency_key)
        del properties[OWNER_PROPERTY]
        owner = None
        created = call("tasks.basic", "create", body)
    if not created.get("id"):
        raise SourceUnavailable("HubSpot created a task without answering its id")
    return OwnerTaskWritten(str(created["id"]), owner)
