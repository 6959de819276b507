"""The MongoDB backend of ``Store`` on PyMongo's async API (``pymongo.AsyncMongoClient``).

Selected by a ``mongodb://`` or ``mongodb+srv://`` store URL; the database is the
URL's path (``mongodb://host/crm`` -> ``crm``), ``crmsphere`` when it has none.
Indexes are created at start-up, idempotently.  Like the SQLite store, it is
assembled from one class per area, each in its own ``storage/mongo_<area>.py``.

What is guaranteed
------------------
On a **replica set or sharded cluster** (the server names a set, or is mongos),
every group of writes that belongs together — a batch of mentions and its
source's cursor; customers and the ``customers_changed_at`` mark — is one
multi-document transaction: all of it is stored or none of it.

On a **standalone server** there are no transactions.  The store then relies on
the order of writes and on unique indexes, so that a crash repeats work instead
of losing or duplicating it:

- a mention and its customer links are one document, written atomically;
- a batch is validated first (links to unknown customers are refused before
  anything is written), the mentions are written next, and the cursor last.  A
  crash between the two leaves the old cursor: the next run fetches the same
  posts again and the unique (source, external_id) index drops the repeats;
- a lease is one conditional upsert, atomic on any server;
- what is NOT guaranteed: after a crash in the middle of a batch, part of the
  batch may be visible before the rest arrives on the next run.

Writes use the client's write concern; a store URL asking for unacknowledged
writes (``w=0``) is refused, because such writes can be lost without an error.
"""

from __future__ import annotations

import abc
from datetime import UTC
from typing import Any

from crmsphere.errors import ConfigError
from storage.base import Store
from storage.mongo_customers import CUSTOMER_INDEXES, MongoCustomers
from storage.mongo_db import MongoWrites, import_pymongo, topology_has_transactions
from storage.mongo_mentions import MENTION_INDEXES, MongoMentions
from storage.mongo_sources import MongoSources

#: Store areas this backend implements; contract tests of other areas are skipped.
IMPLEMENTED_AREAS = frozenset(
    {"customers", "mentions", "cursors", "meta", "sources", "leases", "counts"})

_INDEXES = {**CUSTOMER_INDEXES, **MENTION_INDEXES}
_LEASE_INDEXES: dict[str, list[tuple[list[tuple[str, Any]], dict[str, Any]]]] = {
    "leases": [([("holder", 1)], {"name": "leases_holder"})],
}


async def open_mongo_store(url: str, *, transactions: bool | None = None) -> MongoStore:
    """Connect to the MongoDB named by ``url`` and create the indexes it needs.

    ``transactions`` overrides the detection of whether the server runs them
    (``None``: ask the server).
    """
    pymongo = import_pymongo()

    try:
        client = pymongo.AsyncMongoClient(
            url, tz_aware=True, tzinfo=UTC, connect=False, appname="crmsphere")
    except (pymongo.errors.ConfigurationError, pymongo.errors.InvalidURI, ValueError) as exc:
        raise ConfigError("store.url", url, f"a valid MongoDB URL ({exc})") from exc
    try:
        if not client.write_concern.acknowledged:
            raise ConfigError("store.url", url,
                              "acknowledged writes (w=0 can lose data without an error)")
        database = client.get_default_database(default="crmsphere")
        if transactions is None:
            transactions = topology_has_transactions(await client.admin.command("hello"))
        store = MongoStore(client, database, transactions)
        await store.create_indexes()
    except BaseException:
        await client.close()
        raise
    return store


class MongoStore(MongoCustomers, MongoMentions, MongoSources, Store):
    """``Store`` on one MongoDB database through one ``AsyncMongoClient``."""

    def __init__(self, client: Any, database: Any, transactions: bool) -> None:
        self._client = client
        self._db = database
        self._writes = MongoWrites(client, transactions)

    @property
    def database(self) -> Any:
        """The ``AsyncDatabase`` (for tools such as tests and the migration)."""
        return self._db

    @property
    def transactions(self) -> bool:
        """Whether grouped writes run as multi-document transactions."""
        return self._writes.transactions

    async def create_indexes(self) -> None:
        """Create every index the store's queries use; existing ones are left alone."""
        from pymongo import IndexModel

        for collection, specs in {**_INDEXES, **_LEASE_INDEXES}.items():
            await self._db[collection].create_indexes(
                [IndexModel(keys, **options) for keys, options in specs])

    async def close(self) -> None:
        await self._client.close()

    async def get_meta(self, key: str) -> str | None:
        doc = await self._db.meta.find_one({"_id": key})
        return doc["value"] if doc else None

    async def set_meta(self, key: str, value: str) -> None:
        await self._db.meta.update_one({"_id": key}, {"$set": {"value": value}}, upsert=True)

    async def counts(self) -> dict[str, int]:
        links = await self._db.mentions.aggregate([
            {"$match": {"customer_ids.0": {"$exists": True}}},
            {"$group": {"_id": None, "n": {"$sum": {"$size": "$links"}}}},
        ])
        totals = await links.to_list()
        return {
            "customers": await self._db.customers.count_documents({}),
            "mentions": await self._db.mentions.count_documents({}),
            "mention_links": int(totals[0]["n"]) if totals else 0,
        }


class NotOnMongoYet(NotImplementedError):
    """A ``Store`` method whose area the MongoDB backend does not implement yet."""


def _not_yet(name: str) -> Any:
    async def method(self: MongoStore, *args: Any, **kwargs: Any) -> Any:
        raise NotOnMongoYet(f"Store.{name} is not yet implemented on the MongoDB backend")

    method.__name__ = name
    method.__doc__ = "Not yet implemented on MongoDB (see IMPLEMENTED_AREAS)."
    return method


#: Interface methods other areas added that this backend does not implement yet: they raise
#: NotOnMongoYet, so the store still opens for the areas it does implement.
NOT_YET_IMPLEMENTED = tuple(sorted(MongoStore.__abstractmethods__))
for _name in NOT_YET_IMPLEMENTED:
    setattr(MongoStore, _name, _not_yet(_name))
abc.update_abstractmethods(MongoStore)
