"""The connector contract: changed CRM records in, timeline entries out.

A connector speaks one CRM's API and nothing else: it does not map fields to
customers (``crm.mapping`` does), touch the store, or decide what to send.
Blocking client libraries run in a thread (``asyncio.to_thread``) so the event
loop never waits on them.

Errors, named for what the caller does next (all from ``domain.errors``):

- ``NotConfigured`` from ``__init__`` when an option or credential is missing;
- ``SourceUnavailable(message, retry_after=...)`` on 429, 5xx and connection
  errors (``retry_after`` from ``Retry-After`` or the CRM's rate-limit headers);
- ``AuthFailed`` when the credentials are refused after one token refresh;
- ``BadItem(reason, where)`` from ``write_timeline`` / ``write_owner_task`` when the CRM
  rejects the entry itself (a 400 naming a field): retrying cannot help, so it is dead-lettered.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Literal

from domain import Rejection
from domain.errors import NotConfigured

ObjectType = Literal["company", "contact"]


@dataclass(frozen=True, slots=True)
class CrmRecord:
    """One company (HubSpot company, Salesforce Account) or contact as the CRM returned it.

    ``properties`` holds the CRM's own field names and raw values; the configured
    mapping turns them into a customer.  A deleted record carries ``deleted``; a
    record merged away carries the id of the survivor in ``merged_into``.
    """

    object_type: ObjectType
    crm_id: str
    properties: Mapping[str, Any]
    modified_at: datetime
    deleted: bool = False
    merged_into: str | None = None
    #: For a contact: the CRM id of its company / account, when it has one.
    company_id: str | None = None


@dataclass(frozen=True, slots=True)
class CrmPage:
    """Records fetched together and the cursor reached after them (JSON-serialisable).

    Resuming from ``cursor`` neither skips nor repeats a change.  A record the
    connector could not read becomes a ``Rejection`` and the rest of the page is kept.
    """

    records: tuple[CrmRecord, ...]
    cursor: dict[str, Any]
    rejected: tuple[Rejection, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """Something the customer said or did, written on their CRM company and/or contact.

    ``idempotency_key`` is the same on every attempt; a connector that can store
    it on the CRM record (a custom field, an external id) uses it to avoid a
    second note when the first attempt's answer was lost.
    """

    idempotency_key: str
    subject: str
    body: str
    url: str
    occurred_at: datetime
    company_crm_id: str | None = None
    contact_crm_id: str | None = None


@dataclass(frozen=True, slots=True)
class OwnerTask:
    """An open task for the owner of the customer's CRM record (an idea they voted for shipped).

    ``entry`` says what and where (its key makes the task once only); ``due`` is when the
    owner should have told the customer.
    """

    entry: TimelineEntry
    due: datetime


@dataclass(frozen=True, slots=True)
class OwnerTaskWritten:
    """The task's CRM id and the owner it was assigned to (``None``: the record has no owner,
    so the task is unassigned); ``existed`` when an earlier attempt had written it."""

    crm_id: str
    owner_id: str | None
    existed: bool = False


class OwnerCache:
    """Record owners remembered for one sync run: until ``clear`` (each sync) and at most
    ``max_age`` seconds (a worker process that never syncs still reads them again).  Each
    record is read once even when the delivery worker asks for many voters of one company at
    once, in worker threads."""

    def __init__(self, max_age: float = 900.0, max_size: int = 20_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_age, self.max_size, self.clock = max_age, max_size, clock
        self._owners: dict[Hashable, tuple[str | None, float]] = {}
        self._reading: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        """Forget every owner (records may have changed hands)."""
        with self._lock:
            self._owners.clear()

    def _fresh(self, key: Hashable) -> tuple[bool, str | None]:
        found = self._owners.get(key)
        if found is None or self.clock() - found[1] >= self.max_age:
            return False, None
        return True, found[0]

    def get(self, key: Hashable, read: Callable[[], str | None]) -> str | None:
        """The owner remembered for ``key``, else ``read()`` once (other threads wait for it)."""
        with self._lock:
            known, owner = self._fresh(key)
            if known:
                return owner
            reading = self._reading.setdefault(key, threading.Lock())
        with reading:
            with self._lock:
                known, owner = self._fresh(key)
                if known:
                    return owner
            try:
                owner = read()
            finally:
                with self._lock:
                    self._reading.pop(key, None)
            with self._lock:
                if len(self._owners) >= self.max_size:
                    self._owners.clear()
                self._owners[key] = (owner, self.clock())
            return owner


class CrmConnector(ABC):
    """One CRM's API.  Subclasses set ``kind`` ("hubspot", "salesforce")."""

    kind: ClassVar[str]

    def __init__(self, options: Mapping[str, Any], credentials: Mapping[str, str]) -> None:
        """``options`` is the ``[crm.<kind>]`` config table; ``credentials`` the resolved secrets."""
        self.options = dict(options)
        self.credentials = dict(credentials)

    def require_credential(self, name: str) -> str:
        """The credential ``name``, or ``NotConfigured`` naming the environment variable to set."""
        value = self.credentials.get(name)
        if not value:
            env = self.options.get(f"{name}_env") or name
            raise NotConfigured(f"{self.kind} CRM sync needs {name}: set {env}")
        return value

    @abstractmethod
    def changes(self, object_type: ObjectType, cursor: dict[str, Any] | None) -> AsyncIterator[CrmPage]:
        """Yield pages of records changed (created, updated, deleted, merged) after ``cursor``.

        ``None`` means a full sync: every record, oldest change first.
        """

    @abstractmethod
    async def write_timeline(self, entry: TimelineEntry) -> str:
        """Write ``entry`` on its company/contact and return the CRM id of the new record."""

    @abstractmethod
    async def write_owner_task(self, task: OwnerTask) -> OwnerTaskWritten:
        """Write ``task`` once, assigned to the owner of its company (else its contact)."""

    def forget_owners(self) -> None:  # noqa: B027 -- an optional hook with a default, not abstract
        """Drop record owners remembered so far (a sync run may have moved records to others)."""

    @abstractmethod
    async def write_learned(self, object_type: ObjectType, crm_id: str,
                            values: Mapping[str, str]) -> None:
        """Write identities crmsphere learned (handles, aliases) to the configured custom fields."""

    async def close(self) -> None:  # noqa: B027 -- an optional hook with a default, not abstract
        """Release connections; the default has none."""
