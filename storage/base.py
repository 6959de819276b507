"""The ``Store`` interface every backend implements, and helpers they share."""

from __future__ import annotations

import base64
import binascii
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from domain import (
    Customer,
    Mention,
    MentionQuery,
    Page,
    SaveResult,
    SourceHealth,
)
from domain.errors import BadInput
from storage.contract.accounts import AccountStore
from storage.contract.changelog import ChangelogStore
from storage.contract.crm import CrmStore
from storage.contract.dashboard import DashboardStore
from storage.contract.events import EventStore
from storage.contract.ideas import IdeaStore
from storage.contract.link_queue import LinkQueueStore
from storage.contract.moderation import ModerationStore
from storage.contract.nlp import LinkReviewStore, TopicLabelStore
from storage.contract.notify import NotifyStore
from storage.contract.people import PeopleStore
from storage.contract.replies import ReplyStore
from storage.contract.routing import RoutingStore
from storage.contract.triage import TriageStore

MAX_PAGE = 500
#: A row or document as a backend read it.
Row = TypeVar("Row")
#: The largest integer SQLite and MongoDB store (signed 64-bit); ids are never negative.
MAX_STORED_ID = 2**63 - 1


class Store(EventStore, RoutingStore, AccountStore, IdeaStore, TriageStore, DashboardStore, LinkReviewStore, LinkQueueStore, TopicLabelStore, PeopleStore, NotifyStore, CrmStore, ModerationStore, ChangelogStore, ReplyStore, ABC):
    """Async persistence speaking domain objects.

    Writes that belong together are one transaction: ``save_mentions`` stores a
    batch *and* the source's cursor, so a crash never loses or repeats a post.
    Uniqueness lives in the database: (source, identity) for mentions, the identity being
    what the platform guarantees (domain/mention_identity.py).
    """

    @abstractmethod
    async def close(self) -> None:
        """Release connections; the store is unusable afterwards."""

    # -- customers ---------------------------------------------------------
    @abstractmethod
    async def upsert_customers(self, customers: Sequence[Customer]) -> SaveResult:
        """Insert or replace customers by id in one transaction (inserted vs. updated)."""

    @abstractmethod
    async def get_customer(self, customer_id: str) -> Customer:
        """One customer; raises ``NotFound``."""

    @abstractmethod
    async def get_customers(self, customer_ids: Sequence[str]) -> dict[str, Customer]:
        """The customers among ``customer_ids`` that exist, by id."""

    @abstractmethod
    async def list_customers(
        self, text: str | None = None, limit: int = 50, cursor: str | None = None
    ) -> Page[Customer]:
        """Customers ordered by name; with ``text``, the customers a word of whose name, company,
        e-mail address or handle starts with each term of it (case and accents ignored), the
        name itself first, then names starting with ``text``, then the rest
        (``domain.customer_search``, ``storage.customer_search``)."""

    @abstractmethod
    async def all_customers(self) -> list[Customer]:
        """Every customer (to build the NLP gazetteer)."""

    # -- mentions ----------------------------------------------------------
    @abstractmethod
    async def save_mentions(
        self, source_key: str, mentions: Sequence[Mention], cursor: dict[str, Any] | None
    ) -> SaveResult:
        """Store new mentions and set ``source_key``'s cursor, all in one transaction.

        Each new mention keeps ``source_key`` as what stored it (``Mention.source_key``):
        replies to it go out through that source's writer.

        A mention whose (source, identity) is already stored (``mention_identity``: the id
        where a platform's ids are global, the server and id where they are per server, a
        federated status's address) is counted as a duplicate and left as it is.  ``SaveResult.stored`` holds the new ones as stored.
        Each new mention not marked ``backfill`` records a ``mention.stored`` event in the
        same transaction (history is never routed).
        """

    @abstractmethod
    async def known_identities(self, source: str, identities: Sequence[str]) -> set[str]:
        """Which of the mention ``identities`` (``mention_identity``) of ``source`` are stored."""

    @abstractmethod
    async def get_mention(self, mention_id: int) -> Mention:
        """One mention with its analysis; raises ``NotFound``."""

    @abstractmethod
    async def get_mentions(self, mention_ids: Sequence[int]) -> dict[int, Mention]:
        """The mentions of ``mention_ids`` that are stored, by id, in one round trip (ids not
        stored, e.g. pruned, are left out, and so are ids no store can hold: see
        ``storable_ids``)."""

    @abstractmethod
    async def list_mentions(self, query: MentionQuery) -> Page[Mention]:
        """Mentions newest first, filtered by ``query``, one page at a time."""

    # -- cursors and metadata -----------------------------------------------
    @abstractmethod
    async def get_cursor(self, source_key: str) -> dict[str, Any] | None:
        """The cursor last saved for ``source_key``, or ``None``."""

    @abstractmethod
    async def get_meta(self, key: str) -> str | None:
        """A small named value kept by the application (e.g. demo data loaded)."""

    @abstractmethod
    async def set_meta(self, key: str, value: str) -> None:
        """Set a small named value."""

    # -- sources: health and leases -----------------------------------------
    @abstractmethod
    async def get_source_health(self, source_key: str) -> SourceHealth | None:
        """The health record of one source, or ``None`` if it never ran."""

    @abstractmethod
    async def save_source_health(self, health: SourceHealth) -> None:
        """Replace the health record of ``health.key``."""

    @abstractmethod
    async def acquire_lease(self, name: str, holder: str, ttl: float, now: float) -> bool:
        """Take or renew lease ``name`` for ``holder`` until ``now + ttl``.

        True when ``holder`` holds it afterwards: it was free, expired, or already
        held by ``holder``.  Atomic: two holders never both get True for one instant.
        """

    @abstractmethod
    async def release_lease(self, name: str, holder: str) -> None:
        """Give up lease ``name`` if ``holder`` holds it."""

    @abstractmethod
    async def counts(self) -> dict[str, int]:
        """Row counts per collection, for health and the dashboard."""

    def forum_stamp(self) -> int | None:
        """A number that differs whenever anything a public idea list shows (ideas, their
        tags, their authors' names and roles) may have changed since it was last the same,
        by any process; ``None`` when the backend has no cheap way to tell (then nothing may
        be cached on it).  Called on the event loop: it must not block."""
        return None


def storable_ids(ids: Sequence[object]) -> list[int]:
    """The distinct ids of ``ids`` a store can hold, ascending: ints (not bools) in
    0..``MAX_STORED_ID``.  Anything else (a 30-digit number read from a routed item, a
    negative one, a string or ``None`` from a hostile payload) names nothing stored, so it is
    left out instead of overflowing the driver."""
    return sorted({i for i in ids
                   if isinstance(i, int) and not isinstance(i, bool) and 0 <= i <= MAX_STORED_ID})


def encode_cursor(*values: Any) -> str:
    """An opaque, URL-safe page cursor holding ``values``."""
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    """The values of a cursor made by ``encode_cursor``; ``BadInput`` if it is not one."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise BadInput("cursor is not valid", {"cursor": cursor}) from exc
    if not isinstance(values, list) or len(values) != arity:
        raise BadInput("cursor is not valid", {"cursor": cursor})
    return values


def typed_cursor(cursor: str, *kinds: Callable[[Any], Any]) -> list[Any]:
    """``decode_cursor``'s values, each made by its kind (``int``...); ``BadInput`` when one
    is not of its kind (a backend that cannot compare any value with any value needs this)."""
    values = decode_cursor(cursor, len(kinds))
    try:
        return [kind(value) for kind, value in zip(kinds, values, strict=True)]
    except (TypeError, ValueError, OverflowError, OSError) as exc:
        raise BadInput("cursor is not valid", {"cursor": cursor}) from exc


def cut_page(rows: list[Row], limit: int,
             position: Callable[[Row], Sequence[Any]]) -> tuple[list[Row], str | None]:
    """The first ``limit`` of ``rows`` and the cursor of the next page (``None`` on the last).

    ``rows`` were read with one more than ``limit``: that extra row tells that a next page
    exists.  The cursor holds the ``position`` (the sort key) of the last row shown.
    """
    shown = rows[:limit]
    return shown, encode_cursor(*position(shown[-1])) if len(rows) > limit else None


def clamp_limit(limit: int, most: int = MAX_PAGE) -> int:
    """A page size within 1..``most``."""
    return max(1, min(int(limit), most))


def health_to_json(health: SourceHealth) -> dict[str, Any]:
    """A health record as JSON-ready values (times as ISO text)."""
    from dataclasses import asdict
    from datetime import datetime

    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(health).items()}


def health_from_json(data: dict[str, Any]) -> SourceHealth:
    """The inverse of ``health_to_json``."""
    from datetime import datetime

    times = {"last_run_at", "last_success_at", "error_since", "next_attempt_at", "rate_limit_reset"}
    fields: dict[str, Any] = {k: (datetime.fromisoformat(v) if k in times and v else v)
                              for k, v in data.items()}
    return SourceHealth(**fields)
