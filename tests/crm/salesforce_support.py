"""Shared by the Salesforce tests: record ids of the fake org, and small helpers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from crm.base import CrmPage, TimelineEntry
from crm.salesforce import SalesforceConnector

ACME, BOLT, COGS = "001Hs00003Acme1AAC", "001Hs00003Bolt2AAC", "001Hs00003Cogs3AAC"
WILE, GEAR = "003Hs00001Wile1AAA", "003Hs00001Gear2AAA"


async def drain(connector: SalesforceConnector, object_type: str = "company",
                cursor: dict[str, Any] | None = None) -> list[CrmPage]:
    return [page async for page in connector.changes(object_type, cursor)]  # type: ignore[arg-type]


def ids(pages: list[CrmPage]) -> list[str]:
    return [r.crm_id for page in pages for r in page.records]


def entry(key: str = "mention:42:acme", **kw: Any) -> TimelineEntry:
    kw.setdefault("company_crm_id", ACME)
    kw.setdefault("contact_crm_id", WILE)
    return TimelineEntry(idempotency_key=key, subject="@acme_anvils on X: anvils keep falling",
                         body="The anvil fell on me again. Please fix the release latch.",
                         url="https://crmsphere.example/mentions/42",
                         occurred_at=datetime(2026, 11, 2, 8, 30, tzinfo=UTC), **kw)
