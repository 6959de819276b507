"""The generic bridge, inbound: ``POST /api/customers/sync`` from any other CRM.

The request is signed like our outgoing webhooks (``X-Crmsphere-Timestamp`` and
``X-Crmsphere-Signature: sha256=HMAC(secret, timestamp + "." + body)``), must be
fresh (within ``crm.bridge.max_skew`` seconds) and is accepted once.  The body::

    {"source": "pipedrive",
     "records": [{"type": "company" | "contact", "id": "42", "properties": {...},
                  "company_id"?: "7", "deleted"?: true, "merged_into"?: "41"}]}

Properties are mapped by ``[crm.bridge.mapping]`` with the same rules as the
connectors; a malformed record is reported by index and the valid rest is kept.
Customers get the ids ``<source>:<type>:<id>``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from typing import Any

from domain.signing import SignedRequests
from config.crm import BridgeSettings
from crm.mapping import map_customer
from crm.registry import CONNECTORS
from domain import Rejection
from domain.crm import CrmBatch, CrmCustomer, CrmMerge
from domain.errors import AuthFailed, BadInput, BadItem
from domain.text_edge import decode_json

_SOURCE = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_ID = re.compile(r"^[A-Za-z0-9_.:@-]{1,100}$")


def _record_id(value: Any, field: str) -> str:
    """A CRM record id (``id``, ``company_id``, ``merged_into``): text or an integer, in the id
    alphabet; ``BadItem`` naming ``field`` otherwise (``str()`` made ``true`` "True" and a
    list "[]", stored as a company link)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise BadItem(f"{field}: 1 to 100 letters, digits or . _ : @ -", field)
    return value


class BridgeInbound:
    """Verifies and reads signed batches of CRM records."""

    def __init__(self, settings: BridgeSettings, environ: Mapping[str, str],
                 clock: Callable[[], float] = time.time) -> None:
        self.settings, self.clock = settings, clock
        self.secret = environ.get(settings.inbound_secret_env) or ""
        self._signed = SignedRequests(self.secret, settings.max_skew, clock)

    def verify(self, timestamp: str | None, signature: str | None, body: bytes) -> None:
        """``AuthFailed`` unless the body is signed with the secret, fresh and not a replay."""
        if not self.secret:
            raise AuthFailed(f"customer sync is off: set {self.settings.inbound_secret_env}")
        self._signed.verify(timestamp, signature, body)

    def parse(self, body: bytes) -> tuple[list[CrmBatch], list[Rejection]]:
        """One batch per object type from a verified body; bad records are rejected by index."""
        # CRM records are third-party text: a NUL or a lone surrogate is repaired, not refused.
        data = decode_json(body, "replace", bound_ints=False)
        if not isinstance(data, dict):
            raise BadInput('body must be an object {"source", "records": [...]}')
        source = data.get("source")
        if not isinstance(source, str) or not _SOURCE.fullmatch(source):
            raise BadInput("source must be a lower-case name (letters, digits, - and _)",
                           {"field": "source", "value": source})
        if source in CONNECTORS:
            raise BadInput(f"source {source!r} is a built-in connector; records from it come "
                           "through its own sync", {"field": "source"})
        records = data.get("records")
        if not isinstance(records, list):
            raise BadInput("records must be a list", {"field": "records"})
        if len(records) > self.settings.max_records:
            raise BadInput(f"at most {self.settings.max_records} records per request",
                           {"records": len(records)})
        upserts: dict[str, list[CrmCustomer]] = {"company": [], "contact": []}
        deleted: dict[str, list[str]] = {"company": [], "contact": []}
        merges: dict[str, list[CrmMerge]] = {"company": [], "contact": []}
        rejected: list[Rejection] = []
        for index, raw in enumerate(records):
            where = f"records[{index}]"
            try:
                object_type, crm_id = self._identify(raw)
                where = f"records[{index}] ({object_type} {crm_id})"
                # Anything but true or false is refused: "deleted": "true" or 1 was an upsert,
                # the record kept alive while its CRM had deleted it.
                if raw.get("deleted") is not None and not isinstance(raw["deleted"], bool):
                    raise BadItem("deleted: expected true or false", "deleted")
                if raw.get("deleted") is True:
                    deleted[object_type].append(crm_id)
                elif raw.get("merged_into") is not None:
                    merges[object_type].append(CrmMerge(
                        object_type, crm_id, _record_id(raw["merged_into"], "merged_into")))
                else:
                    company = raw.get("company_id")
                    upserts[object_type].append(map_customer(
                        source, object_type, crm_id, raw.get("properties") or {},
                        getattr(self.settings.mapping, object_type),
                        _record_id(company, "company_id") if company is not None else None))
            except BadItem as exc:
                rejected.append(Rejection(where, exc.reason))
        batches = [CrmBatch(source, t, tuple(upserts[t]), tuple(deleted[t]), tuple(merges[t]))
                   for t in ("company", "contact") if upserts[t] or deleted[t] or merges[t]]
        return batches, rejected

    @staticmethod
    def _identify(raw: Any) -> tuple[str, str]:
        if not isinstance(raw, dict):
            raise BadItem("a record must be an object", "record")
        object_type = raw.get("type")
        if object_type not in ("company", "contact"):
            raise BadItem(f"type: {str(object_type)[:40]!r} is neither company nor contact", "type")
        crm_id = _record_id(raw.get("id"), "id")
        if raw.get("properties") is not None and not isinstance(raw["properties"], dict):
            raise BadItem("properties: expected an object", "properties")
        return object_type, crm_id
