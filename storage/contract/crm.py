"""The CRM part of the ``Store`` interface: CRM records linked to customers, cursors,
deleted and merged records, and outbound idempotency keys, read and written.  What a page of
CRM changes does (``crm.records``) is a rule written through the unit of work."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any


from domain import Customer, Identity
from domain.crm import CrmLink, CrmStatus
from domain.routing import Delivery


@dataclass(frozen=True, slots=True)
class CrmRecordRow:
    """A CRM record as stored: its link, what the CRM itself gave the customer last time
    (handles, aliases), and the value last written back to its learned-identities field."""

    link: CrmLink
    crm_identities: tuple[Identity, ...] = ()
    crm_aliases: tuple[str, ...] = ()
    learned_written: str = ""


class CrmStore(ABC):
    """Persistence of CRM sync."""

    @abstractmethod
    async def get_crm_cursor(self, connector: str, object_type: str) -> dict[str, Any] | None:
        """The cursor last written with a batch of (connector, object type), or ``None``."""

    @abstractmethod
    async def crm_links_of_customer(self, customer_id: str) -> list[CrmLink]:
        """Every CRM record pointing at ``customer_id``, deleted and merged ones included, the
        most recently synced first (then by CRM id)."""

    @abstractmethod
    async def get_crm_link(self, connector: str, object_type: str, crm_id: str) -> CrmLink | None:
        """One CRM record's link, deleted or merged ones included."""

    @abstractmethod
    async def crm_records(self, connector: str) -> list[tuple[CrmRecordRow, Customer]]:
        """Every record of ``connector`` (deleted and merged ones included) with its customer,
        by object type and CRM id (records whose customer is gone are left out)."""

    @abstractmethod
    async def mark_learned_written(self, connector: str, object_type: str, crm_id: str,
                                   value: str) -> None:
        """Remember what was last written back to the record's custom field."""

    @abstractmethod
    async def get_outbound(self, connector: str, key: str) -> str | None:
        """The CRM id of the entry written with idempotency ``key``, or ``None``."""

    @abstractmethod
    async def save_outbound(self, connector: str, key: str, crm_id: str, at: datetime) -> str:
        """Keep ``key`` -> ``crm_id``; the first id stored for a key wins and is returned."""

    @abstractmethod
    async def enqueue_deliveries_once(self, deliveries: Sequence[Delivery], at: datetime) -> list[int]:
        """Put messages in the outbox in one transaction, skipping any whose idempotency key
        is there already (a replayed event); returns the ids of those added."""

    @abstractmethod
    async def crm_status(self, connector: str) -> CrmStatus:
        """Record counts per object type (live, deleted, merged), cursors, outbound entries."""
