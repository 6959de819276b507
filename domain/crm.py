"""Plain types of CRM sync: which CRM record a customer comes from, and what a sync wrote."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain import Customer, Identity


@dataclass(frozen=True, slots=True)
class CrmCustomer:
    """A customer as one CRM record maps to it (``connector`` is e.g. ``hubspot``)."""

    connector: str
    object_type: str
    crm_id: str
    customer: Customer
    #: For a contact: the CRM id of its company (so entries can go on both).
    company_crm_id: str | None = None


@dataclass(frozen=True, slots=True)
class CrmMerge:
    """The CRM merged record ``crm_id`` into ``survivor_crm_id`` (same connector and type)."""

    object_type: str
    crm_id: str
    survivor_crm_id: str


@dataclass(frozen=True, slots=True)
class CrmBatch:
    """What one page of CRM changes asks the store to do, in one transaction with ``cursor``."""

    connector: str
    object_type: str
    upserts: tuple[CrmCustomer, ...] = ()
    deleted: tuple[str, ...] = ()
    merges: tuple[CrmMerge, ...] = ()
    cursor: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class CrmBatchResult:
    """What a batch changed: customers inserted / updated, records deleted, merges done."""

    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    merged: int = 0


@dataclass(frozen=True, slots=True)
class CrmLink:
    """A CRM record and the customer it feeds; ``merged_into`` is the survivor's CRM id."""

    connector: str
    object_type: str
    crm_id: str
    customer_id: str
    company_crm_id: str | None = None
    deleted: bool = False
    merged_into: str | None = None
    synced_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class LearnedIdentities:
    """Handles and aliases crmsphere learned for a CRM-fed customer (not from the CRM)."""

    link: CrmLink
    identities: tuple[Identity, ...] = ()
    aliases: tuple[str, ...] = ()
    #: The value last written back to the CRM's custom field ("" when never).
    written: str = ""


@dataclass(frozen=True, slots=True)
class CrmStatus:
    """Counts per object type and the cursors of one connector."""

    connector: str
    records: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    merged: dict[str, int] = field(default_factory=dict)
    cursors: dict[str, Any] = field(default_factory=dict)
    outbound: int = 0
