"""What every MongoDB store area shares: the driver import, times, text queries, writes.

``pymongo`` is imported only through ``import_pymongo`` so that crmsphere runs
without it until a ``mongodb://`` URL is configured.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any, TypeVar

from crmsphere.errors import ConfigError

R = TypeVar("R")
_WORD = re.compile(r"\w+", re.UNICODE)

#: How many times a transaction that lost a uniqueness race is run again.
DUPLICATE_RETRIES = 5


def import_pymongo() -> ModuleType:
    """The ``pymongo`` module, or a ``ConfigError`` telling how to install it."""
    try:
        return importlib.import_module("pymongo")
    except ImportError as exc:
        raise ConfigError(
            "store.url", "mongodb://...",
            "pymongo to be installed for a MongoDB store: pip install 'crmsphere[mongodb]'",
        ) from exc


def to_doc_time(value: datetime) -> tuple[datetime, int]:
    """A UTC BSON date (milliseconds) and the microseconds BSON cannot hold (0..999)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    extra = value.microsecond % 1000
    return value - timedelta(microseconds=extra), extra


def from_doc_time(value: datetime, extra_us: int | None) -> datetime:
    """The inverse of ``to_doc_time`` (dates read back are UTC-aware)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value + timedelta(microseconds=extra_us or 0)


def text_search(text: str) -> str | None:
    """A ``$text`` search string needing every word: each word a quoted phrase.

    Quoting turns user input into plain words (no negation or phrase tricks) and
    makes the words required, as the SQLite backend's FTS5 query does.
    """
    words = _WORD.findall(text)
    if not words:
        return None
    return " ".join(f'"{w}"' for w in words)


def is_duplicate_key(exc: BaseException) -> bool:
    """True when ``exc`` is (or wraps) a unique-index violation."""
    code = getattr(exc, "code", None)
    if code in (11000, 11001):
        return True
    details = getattr(exc, "details", None) or {}
    errors = details.get("writeErrors", []) if isinstance(details, Mapping) else []
    return bool(errors) and all(e.get("code") in (11000, 11001) for e in errors)


def topology_has_transactions(hello: Mapping[str, Any]) -> bool:
    """Whether the server that answered ``hello`` runs multi-document transactions.

    Replica-set members name their set; mongos says ``isdbgrid``.  A standalone
    server does neither and refuses transactions.
    """
    return bool(hello.get("setName")) or hello.get("msg") == "isdbgrid"


class MongoWrites:
    """Runs a group of writes as one transaction when the server can, else in order.

    ``fn(session)`` receives the session to pass to every operation (``None`` on
    a standalone server, where the caller's order of writes is what keeps a crash
    from losing data; see storage/mongo.py).
    """

    def __init__(self, client: Any, transactions: bool) -> None:
        self._client = client
        self.transactions = transactions

    async def run(self, fn: Callable[[Any], Awaitable[R]]) -> R:
        """Run ``fn`` once, inside a transaction when supported.

        A transaction that hits a duplicate key (two writers raced for one
        unique value) is run again from the start, so it sees the winner's row.
        """
        if not self.transactions:
            return await fn(None)
        pymongo = import_pymongo()
        for attempt in range(DUPLICATE_RETRIES):
            try:
                async with self._client.start_session() as session:
                    return await session.with_transaction(fn)
            except pymongo.errors.PyMongoError as exc:
                if not is_duplicate_key(exc) or attempt == DUPLICATE_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")
