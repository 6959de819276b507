"""The CRM part of the ``Store`` interface: CRM records linked to customers, cursors,
deleted and merged records, learned identities, and outbound idempotency keys."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from domain.routing import Delivery
from domain.crm import (
    CrmBatch,
    CrmBatchResult,
    CrmLink,
    CrmStatus,
    LearnedIdentities,
)


class CrmStore(ABC):
    """Persistence of CRM sync."""

    @abstractmethod
    async def apply_crm_batch(self, batch: CrmBatch, at: datetime) -> CrmBatchResult:
        """Write one page of CRM changes and its cursor in ONE transaction.

        Upserts write the customer and its CRM link; handles and aliases the customer
        had that the CRM did not provide last time (learned by crmsphere) are kept.
        A merge moves everything of the merged-away record's customer (handles,
        aliases, e-mails, domains, mention links, votes, accounts) to the survivor's
        customer and removes the merged-away customer.  A deleted record is flagged;
        its customer is removed only when nothing (mention, vote, account) refers to it.
        ``batch.cursor`` (when not ``None``) becomes the cursor of (connector, object type).
        """

    @abstractmethod
    async def get_crm_cursor(self, connector: str, object_type: str) -> dict[str, Any] | None:
        """The cursor last written with a batch of (connector, object type), or ``None``."""

    @abstractmethod
    async def crm_link_for_customer(self, customer_id: str) -> CrmLink | None:
        """The live (not deleted or merged) CRM record feeding ``customer_id``, if any."""

    @abstractmethod
    async def get_crm_link(self, connector: str, object_type: str, crm_id: str) -> CrmLink | None:
        """One CRM record's link, deleted or merged ones included."""

    @abstractmethod
    async def learned_identities(self, connector: str) -> list[LearnedIdentities]:
        """Every live record of ``connector`` whose customer has learned handles or aliases."""

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
