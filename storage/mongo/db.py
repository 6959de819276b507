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

from domain.errors import ConfigError

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
    from losing data; see storage/mongo/store.py).
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


def put_time(doc: dict[str, Any], name: str, value: datetime | None) -> dict[str, Any]:
    """Set ``doc[name]`` to a BSON date and ``doc[name + '_us']`` to the lost microseconds.

    ``None`` stores ``None`` (and 0).  Returns ``doc`` so calls can be chained.
    """
    if value is None:
        doc[name], doc[f"{name}_us"] = None, 0
    else:
        doc[name], doc[f"{name}_us"] = to_doc_time(value)
    return doc


def get_time(doc: Mapping[str, Any], name: str) -> datetime | None:
    """The time ``put_time`` stored under ``name`` (``None`` when there is none)."""
    value = doc.get(name)
    return None if value is None else from_doc_time(value, doc.get(f"{name}_us"))


def need_time(doc: Mapping[str, Any], name: str) -> datetime:
    """The time stored under ``name``, which every document of its kind has; a document
    without it was not written by this program (``ValueError`` names it)."""
    value = get_time(doc, name)
    if value is None:
        raise ValueError(f"document {doc.get('_id')!r} has no {name!r}")
    return value


def time_fields(name: str, value: datetime | None) -> dict[str, Any]:
    """``{name: date, name_us: extra}`` for a ``$set``."""
    return put_time({}, name, value)


async def next_ids(db: Any, counter: str, count: int = 1, session: Any = None) -> int:
    """The first of ``count`` fresh consecutive integer ids of ``counter``.

    Inside a transaction the increment rolls back with it; outside, ids of failed
    writes are skipped (ids can have gaps, never repeats).
    """
    from pymongo import ReturnDocument

    doc = await db.counters.find_one_and_update(
        {"_id": counter}, {"$inc": {"seq": count}}, upsert=True,
        return_document=ReturnDocument.AFTER, session=session)
    return int(doc["seq"]) - count + 1


async def insert_once(collection: Any, key: dict[str, Any], doc: dict[str, Any],
                      session: Any = None) -> bool:
    """Insert ``doc`` unless a document matching ``key`` (a unique key) exists; True if inserted.

    An upsert with ``$setOnInsert`` rather than an insert that may fail: inside a
    transaction a duplicate-key error would abort the whole transaction.  Two
    writers racing for one key: the loser's upsert fails with a duplicate key,
    and (outside a transaction) is answered "exists".
    """
    from pymongo.errors import DuplicateKeyError

    fields = {k: v for k, v in doc.items() if k not in key}
    try:
        done = await collection.update_one(key, {"$setOnInsert": fields}, upsert=True, session=session)
    except DuplicateKeyError:
        if session is not None:
            raise  # MongoWrites runs the transaction again and it sees the winner
        return False
    return done.upserted_id is not None


def time_cmp(name: str, op: str, value: datetime) -> dict[str, Any]:
    """A filter comparing the ``put_time`` field ``name`` with ``value`` exactly (µs).

    ``op`` is one of ``$lt``, ``$lte``, ``$gt``, ``$gte``.
    """
    at, us = to_doc_time(value)
    strict = {"$lte": "$lt", "$gte": "$gt"}.get(op, op)
    return {"$or": [{name: {strict: at}}, {name: at, f"{name}_us": {op: us}}]}


def before_in_order(name: str, value: datetime, last_id: int) -> dict[str, Any]:
    """Rows after (``value``, ``last_id``) in (``name`` desc, ``_id`` desc) order: the next page."""
    at, us = to_doc_time(value)
    return {"$or": [{name: {"$lt": at}},
                    {name: at, f"{name}_us": {"$lt": us}},
                    {name: at, f"{name}_us": us, "_id": {"$lt": int(last_id)}}]}
